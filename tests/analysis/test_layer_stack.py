"""The layer-stack editor: every layer builds, failures are explained, specs round-trip."""

from __future__ import annotations

import pickle

import keras
import pytest

from neurogenesis.analysis.layer_stack import (
    BUILDER_LAYERS,
    BuildError,
    LayerSpec,
    add_layer,
    build_from_specs,
    layer_spec,
    move_layer,
    parse_shape,
    remove_layer,
    specs_from_model,
    update_layer,
)
from neurogenesis.analysis.templates import TEMPLATES, build_template
from neurogenesis.errors import InputError


def test_every_builder_layer_builds_with_its_defaults():
    required = {
        "Dense",
        "Conv1D",
        "Conv2D",
        "DepthwiseConv2D",
        "SeparableConv2D",
        "Conv2DTranspose",
        "MaxPooling1D",
        "MaxPooling2D",
        "AveragePooling2D",
        "GlobalAveragePooling1D",
        "GlobalAveragePooling2D",
        "GlobalMaxPooling2D",
        "Flatten",
        "Reshape",
        "Dropout",
        "BatchNormalization",
        "LayerNormalization",
        "Activation",
        "Embedding",
        "LSTM",
        "GRU",
        "SimpleRNN",
        "Bidirectional LSTM",
        "UpSampling2D",
        "ZeroPadding2D",
        "MultiHeadAttention",
    }
    assert required <= set(BUILDER_LAYERS)
    for name, kind in BUILDER_LAYERS.items():
        shape = {4: (8, 8, 3), 3: (6, 4), None: (6, 4)}[kind.input_rank]
        if name == "Embedding":
            shape = (6,)
        result = build_from_specs(shape, [layer_spec(name)])
        assert result.ok, (name, result.error)
        for item in kind.parameters:
            assert item.type in {
                "int",
                "float",
                "bool",
                "choice",
                "size",
                "optional_size",
                "shape",
                "padding",
            }
            assert item.choices is None or item.default in item.choices


def test_successful_build_counts_and_shapes():
    specs = (
        layer_spec("Conv2D", filters=4, kernel_size=3),
        layer_spec("MaxPooling2D"),
        layer_spec("Flatten"),
        layer_spec("Flatten"),  # a second Flatten is harmless
        layer_spec("Dense", units=10, activation="softmax"),
    )
    result = build_from_specs((8, 8, 1), specs, name="mine")
    assert result.ok and result.error is None
    assert result.output_shapes == (
        (None, 6, 6, 4),
        (None, 3, 3, 4),
        (None, 36),
        (None, 36),
        (None, 10),
    )
    assert result.summary.num_params == result.model.count_params() == (9 * 4 + 4) + (36 * 10 + 10)
    assert result.summary.macs == 6 * 6 * 4 * 9 + 36 * 10
    assert [layer.name for layer in result.model.layers[1:]] == [
        "conv2d_1",
        "max_pooling2d_2",
        "flatten_3",
        "flatten_4",
        "dense_5",
    ]


def test_self_attention_and_recurrent_stack():
    specs = (
        layer_spec("Embedding", input_dim=50, output_dim=8),
        layer_spec("MultiHeadAttention", num_heads=2, key_dim=4),
        layer_spec("Bidirectional LSTM", units=3, return_sequences=True),
        layer_spec("GRU", units=5),
    )
    result = build_from_specs((7,), specs)
    assert result.ok, result.error
    assert result.model.inputs[0].dtype == "int32"
    assert result.output_shapes[1:] == ((None, 7, 8), (None, 7, 6), (None, 5))
    attention = 3 * (8 * 2 * 4 + 2 * 4) + (2 * 4 * 8 + 8)
    bidirectional = 2 * 4 * (8 * 3 + 3 * 3 + 3)
    assert result.model.count_params() == 50 * 8 + attention + bidirectional + (
        result.model.layers[-1].count_params()
    )


def test_conv_after_dense_names_layer_and_class():
    specs = (layer_spec("Flatten"), layer_spec("Dense", units=10), layer_spec("Conv2D"))
    result = build_from_specs((8, 8, 1), specs)
    assert not result.ok and result.model is None
    error = result.error
    assert isinstance(error, BuildError)
    assert (error.index, error.class_name, error.layer_name) == (2, "Conv2D", "conv2d_3")
    assert error.input_shape == (None, 10)
    assert error.message.startswith("Layer 3 (Conv2D 'conv2d_3')")
    assert "4-D input" in error.message and "(None, 10)" in error.message
    assert "Reshape" in error.message
    assert result.output_shapes == ((None, 64), (None, 10))


def test_dense_on_image_map_is_explained():
    result = build_from_specs(
        (8, 8, 3), [layer_spec("Conv2D", filters=16, padding="same"), layer_spec("Dense", units=10)]
    )
    message = result.error.message
    assert result.error.index == 1
    assert "(None, 8, 8, 16)" in message and "(None, 8, 8, 10)" in message
    assert "Flatten" in message and "GlobalAveragePooling2D" in message


def test_reshape_mismatch_states_both_counts():
    result = build_from_specs((10,), [layer_spec("Reshape", target_shape=(4, 4, 1))])
    message = result.error.message
    assert "10 values per sample" in message and "16 values per sample" in message
    assert build_from_specs((16,), [layer_spec("Reshape", target_shape=(4, -1, 1))]).ok


def test_pooling_too_big_names_the_sizes():
    specs = [layer_spec("Conv2D", filters=2), layer_spec("MaxPooling2D", pool_size=4)]
    result = build_from_specs((5, 5, 1), specs)
    message = result.error.message
    assert result.error.index == 1
    assert "4x4 pool_size" in message and "only 3x3" in message and "padding='same'" in message
    kernel = build_from_specs((5, 5, 1), [layer_spec("Conv2D", kernel_size=7)]).error.message
    assert "7x7 kernel_size" in kernel and "only 5x5" in kernel
    assert build_from_specs((3, 3, 1), [layer_spec("MaxPooling2D", pool_size=4, padding="same")]).ok


def test_recurrent_on_vector_suggests_return_sequences():
    specs = [layer_spec("LSTM", units=8), layer_spec("LSTM", units=8)]
    message = build_from_specs((5, 3), specs).error.message
    assert "3-D input" in message and "(None, 8)" in message
    assert "return_sequences=True" in message
    message = build_from_specs((12,), [layer_spec("LSTM")]).error.message
    assert "Reshape(target_shape=(12, 1))" in message and "Embedding" in message


def test_embedding_on_real_values_is_explained():
    after_dense = build_from_specs((6,), [layer_spec("Dense"), layer_spec("Embedding")]).error
    assert after_dense.index == 1 and "integer token ids" in after_dense.message
    float_input = build_from_specs((6,), [layer_spec("Embedding")], input_dtype="float32").error
    assert "int32" in float_input.message


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (LayerSpec("Dense", {"units": -5}), "units must be a whole number of at least 1; got -5"),
        (LayerSpec("Dropout", {"rate": 1.5}), "rate must be below 1; got 1.5"),
        (LayerSpec("Dense", {"activation": "relux"}), "'relux' is not a Keras activation"),
        (LayerSpec("Conv2D", {"padding": "full"}), "padding must be one of"),
        (LayerSpec("Dense", {"unit": 3}), "has no setting 'unit'"),
        (LayerSpec("Dense3D"), "no layer class 'Dense3D'"),
    ],
)
def test_bad_settings_are_explained(spec, expected):
    result = build_from_specs((8, 8, 3) if spec.class_name == "Conv2D" else (4,), [spec])
    assert expected in result.error.message
    assert result.error.message.startswith("Layer 1 (")


def test_bad_input_shape_and_duplicate_names():
    assert build_from_specs((0, 3), [layer_spec("Dense")]).error.index is None
    same = [layer_spec("Dense", name="hidden"), layer_spec("Dense", name="hidden")]
    error = build_from_specs((4,), same).error
    assert error.index == 1 and "unique" in error.message
    reserved = build_from_specs((4,), [layer_spec("Dense", name="input")]).error
    assert reserved.index == 0 and "name of the model's input" in reserved.message


def test_keras_message_is_kept_for_other_errors():
    # Flatten of a variable-length axis leaves Dense an undefined last axis: Keras's own refusal.
    result = build_from_specs((None, 4), [layer_spec("Flatten"), layer_spec("Dense")])
    error = result.error
    assert error.index == 1 and error.class_name == "Dense"
    assert error.keras_message and "\x1b" not in error.keras_message
    assert error.text.splitlines()[0] == error.message
    assert error.text.splitlines()[1].startswith("Keras said: ")


def test_specs_are_hashable_values():
    spec = layer_spec("Conv2D", filters=8, kernel_size=[3, 3])
    assert spec.get("kernel_size") == (3, 3)
    assert spec == layer_spec("Conv2D", kernel_size=(3, 3), filters=8)
    assert hash(spec) == hash(pickle.loads(pickle.dumps(spec)))
    assert spec.replace(filters=4, name="c").config_dict()["filters"] == 4
    error = build_from_specs((4,), [LayerSpec("Dense", {"units": -1})]).error
    assert pickle.loads(pickle.dumps(error)) == error
    with pytest.raises(InputError, match="has no setting 'unit'"):
        layer_spec("Dense", unit=3)
    with pytest.raises(InputError, match="no layer 'Dense3D'"):
        layer_spec("Dense3D")


def test_editing_operations_are_pure():
    a, b, c = layer_spec("Dense", name="a"), layer_spec("Dropout", name="b"), layer_spec("Flatten")
    specs = (a, b)
    assert add_layer(specs, 0, c) == (c, a, b)
    assert add_layer(specs, 2, c) == (a, b, c)
    assert remove_layer(specs, 0) == (b,)
    assert move_layer((a, b, c), 0, 2) == (b, c, a)
    assert move_layer((a, b, c), 2, 0) == (c, a, b)
    updated = update_layer(specs, 0, units=7, name="renamed")
    assert updated[0].get("units") == 7 and updated[0].name == "renamed" and updated[1] is b
    assert specs == (a, b)  # untouched
    with pytest.raises(InputError, match="from 0 to 2"):
        add_layer(specs, 3, c)
    with pytest.raises(InputError, match="from 0 to 1"):
        remove_layer(specs, 5)
    with pytest.raises(InputError, match="has no setting 'rate'"):
        update_layer(specs, 0, rate=0.1)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("small_cnn", {}),
        ("lstm", {"width_multiplier": 0.25}),
        ("vgg16", {"width_multiplier": 0.125}),
    ],
)
def test_specs_from_model_round_trip(name, kwargs):
    assert TEMPLATES[name].editable
    model = build_template(name, **kwargs)
    input_shape, specs = specs_from_model(model)
    assert input_shape == tuple(model.inputs[0].shape)[1:]
    assert [spec.name for spec in specs] == [
        layer.name for layer in model.layers if type(layer).__name__ != "InputLayer"
    ]
    rebuilt = build_from_specs(input_shape, specs)
    assert rebuilt.ok, rebuilt.error
    assert rebuilt.model.count_params() == model.count_params()
    original_shapes = [
        tuple(layer.output.shape) for layer in model.layers if type(layer).__name__ != "InputLayer"
    ]
    assert list(rebuilt.output_shapes) == original_shapes


def test_specs_from_zoo_model_keeps_use_bias():
    from neurogenesis.zoo.digits import digits_cnn

    model = digits_cnn(width=8)
    input_shape, specs = specs_from_model(model)
    assert specs[0].get("use_bias") is False
    assert build_from_specs(input_shape, specs).model.count_params() == model.count_params() == 3890


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("resnet50", "branches at 'pool1_pool'"),
        ("bert_encoder", "keras.ops"),
        ("vae", r"'encoder' \(Functional\) is a nested model"),
        ("mobilenet_v2", "is not one of the builder's layer classes"),
    ],
)
def test_specs_from_model_refuses_what_it_cannot_edit(name, expected):
    assert not TEMPLATES[name].editable
    model = build_template(name, width_multiplier=0.25 if name != "vae" else 1.0)
    with pytest.raises(InputError, match=expected):
        specs_from_model(model)
    keras.backend.clear_session()


def test_specs_from_model_refuses_merges_and_unsettable_options():
    inputs = keras.Input((4,))
    left = keras.layers.Dense(3, name="left")(inputs)
    right = keras.layers.Dense(3, name="right")(inputs)
    merged = keras.Model(inputs, keras.layers.Add(name="join")([left, right]))
    with pytest.raises(InputError, match="branches at"):
        specs_from_model(merged)
    dilated = keras.Sequential([keras.Input((9, 2)), keras.layers.Conv1D(2, 3, dilation_rate=2)])
    with pytest.raises(InputError, match="dilation_rate"):
        specs_from_model(dilated)


def test_parse_shape_reads_typed_text():
    assert parse_shape("28, 28, 1") == (28, 28, 1)
    assert parse_shape(" (None, 8) ") == (None, 8)
    assert parse_shape("[4]") == (4,)
    assert parse_shape("") == ()
    with pytest.raises(InputError, match="Expected whole numbers separated by commas"):
        parse_shape("28 x 28")


def test_input_and_name_refusals_build_nothing_and_say_which_layer():
    for shape in ((0, 3), "abc"):
        result = build_from_specs(shape, (layer_spec("Dense"),))
        assert result.model is None and result.output_shapes == ()
        assert (result.error.index, result.error.class_name, result.error.layer_name) == (
            None,
            "Input",
            "input",
        )
        assert result.error.message.startswith("The input shape must be one or more positive")
    result = build_from_specs((4,), (layer_spec("Dense"),), input_dtype="nonsense")
    assert result.model is None and result.error.index is None
    assert result.error.message.startswith("Keras cannot make an input of shape (4,)")
    assert result.error.keras_message
    result = build_from_specs((4,), (layer_spec("Dense", name="input"),))
    assert result.error == BuildError(
        0,
        "Dense",
        "input",
        "Layer 1 (Dense) is named 'input', the name of the model's input. Rename the layer.",
    )
    result = build_from_specs((4,), (layer_spec("Dense", name="a"), layer_spec("Dense", name="a")))
    assert result.model is None and result.error == BuildError(
        1,
        "Dense",
        "a",
        "Layer 2 (Dense) is named 'a', like an earlier layer. Layer names must be unique: "
        "rename one of them.",
    )
