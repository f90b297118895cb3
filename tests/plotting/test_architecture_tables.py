

def test_structure_origins_read_as_words():
    from neurogenesis.plotting.architecture import origin_text

    assert origin_text("keras") == "Keras"
    assert origin_text("keras operation") == "Keras operation (keras.ops)"
    assert origin_text("keras_hub") == "KerasHub"
    assert origin_text("custom: mylib.layers") == "custom code (mylib.layers)"
