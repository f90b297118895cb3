"""Rebuilt graphs: taps into Sequential-from-file, nested and functional models, logits, replacement."""

from __future__ import annotations

import os

import numpy as np
import pytest

from neurogenesis.analysis import graph
from neurogenesis.errors import InputError, UnsupportedModelError
from neurogenesis.io.models import load_model
from neurogenesis.testing import tiny_cnn

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402


@pytest.fixture(scope="module")
def loaded_sequential(tmp_path_factory):
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(3, activation="softmax", name="probabilities"),
        ]
    )
    path = tmp_path_factory.mktemp("seq") / "seq.keras"
    model.save(path)
    return load_model(path)


@pytest.fixture(scope="module")
def nested():
    keras.utils.set_random_seed(4)
    inner_in = keras.Input((6,), name="inner_in")
    hidden = keras.layers.Dense(5, activation="tanh", name="hidden")(inner_in)
    inner = keras.Model(inner_in, hidden, name="block")
    outer_in = keras.Input((6,), name="x")
    out = keras.layers.Dense(2, activation="softmax", name="head")(inner(outer_in))
    return keras.Model(outer_in, out, name="outer")


def test_loaded_sequential_has_no_output_but_taps_work(loaded_sequential):
    with pytest.raises(AttributeError, match="never been called"):
        loaded_sequential.output  # noqa: B018 (the Keras 3 behaviour the rebuild works around)
    x = np.random.default_rng(0).normal(size=(5, 8, 8, 1)).astype("float32")
    output, conv = graph.call_tapped(graph.tap_model(loaded_sequential, ["conv"]), x)
    expected_conv = loaded_sequential.get_layer("conv")(x)
    np.testing.assert_allclose(conv, expected_conv, atol=1e-6)
    np.testing.assert_allclose(output, loaded_sequential(x), atol=1e-6)


def test_logit_score_is_the_pre_softmax_value(loaded_sequential):
    x = np.random.default_rng(1).normal(size=(4, 8, 8, 1)).astype("float32")
    logits, flat = graph.call_tapped(
        graph.tap_model(loaded_sequential, ["flatten"], score="logit"), x
    )
    kernel, bias = loaded_sequential.get_layer("probabilities").get_weights()
    np.testing.assert_allclose(logits, np.asarray(flat) @ kernel + bias, atol=1e-5)
    assert graph.score_activation(loaded_sequential) == "softmax"


def test_nested_layers_are_inlined_and_tappable(nested):
    layers = graph.graph_layers(nested)
    assert [entry.path for entry in layers.layers] == ["block/hidden", "head"]
    x = np.random.default_rng(2).normal(size=(3, 6)).astype("float32")
    output, hidden = graph.call_tapped(graph.tap_model(nested, ["block/hidden"]), x)
    kernel, bias = nested.get_layer("block").get_layer("hidden").get_weights()
    np.testing.assert_allclose(hidden, np.tanh(x @ kernel + bias), atol=1e-5)
    np.testing.assert_allclose(output, nested(x), atol=1e-6)


def test_replaced_layer_is_fed_from_outside():
    model = load_model("models/sentiment_transformer.keras")
    tokens = np.random.default_rng(0).integers(1, 50, size=(3, 16)).astype("int32")
    output, embedded = graph.call_tapped(graph.tap_model(model, ["token_embedding"]), tokens)
    replaced = graph.tap_model(model, replace="token_embedding")
    same = graph.call_tapped(replaced, keras.ops.convert_to_tensor(tokens), embedded)[0]
    np.testing.assert_allclose(same, output, atol=1e-6)
    zeroed = graph.call_tapped(replaced, keras.ops.convert_to_tensor(tokens), embedded * 0)[0]
    assert np.abs(np.asarray(zeroed) - np.asarray(output)).max() > 1e-3


def test_last_conv_layer_follows_the_block_to_its_activation():
    model = load_model("models/shapes_cnn.keras")
    assert graph.last_conv_layer(model) == "relu_3"
    assert graph.last_conv_layer(tiny_cnn()) == "norm"  # conv(relu) -> BatchNormalization


def test_errors_are_clear(loaded_sequential):
    with pytest.raises(InputError, match="nope"):
        graph.tap_model(loaded_sequential, ["nope"])
    with pytest.raises(InputError, match="expects"):
        graph.model_input(loaded_sequential, np.zeros((2, 4, 4, 1)))
    with pytest.raises(InputError, match="score"):
        graph.tap_model(loaded_sequential, score="softmax")

    class Subclassed(keras.Model):
        def call(self, x):
            return x

    assert not graph.supports(Subclassed())
    with pytest.raises(UnsupportedModelError, match="subclassed"):
        graph.graph_layers(Subclassed())


def test_uint8_images_become_the_model_dtype():
    model = load_model("models/shapes_cnn.keras")
    x = np.zeros((2, 32, 32, 3), dtype=np.uint8)
    assert graph.model_input(model, x).dtype == np.float32


def test_capped_steps(monkeypatch):
    monkeypatch.delenv(graph.MAX_STEPS_VARIABLE, raising=False)
    assert graph.capped_steps(200) == 200
    monkeypatch.setenv(graph.MAX_STEPS_VARIABLE, "7")
    assert graph.capped_steps(200) == 7
    assert graph.capped_steps(3) == 3


def test_logit_graph_follows_weights_changed_later(loaded_sequential):
    """The logit layer shares the model's variables: a checkpoint loaded later is what it computes."""
    import keras as k

    model = k.models.clone_model(loaded_sequential)
    model.set_weights(loaded_sequential.get_weights())
    tapped = graph.tap_model(model, ["flatten"], score="logit")
    kernel, bias = model.get_layer("probabilities").get_weights()
    model.get_layer("probabilities").set_weights([kernel * 2.0, bias + 1.0])
    x = np.random.default_rng(5).normal(size=(3, 8, 8, 1)).astype("float32")
    logits, flat = graph.call_tapped(tapped, x)
    np.testing.assert_allclose(logits, np.asarray(flat) @ (kernel * 2.0) + bias + 1.0, atol=1e-5)


def test_several_inputs_are_matched_by_name_and_outputs_chosen_by_name():
    """A packed set of several inputs feeds a two-input model and a KerasHub BERT by input name
    (in any order in the file); the predictions equal the model's own call; with_output gives
    the chosen output of a model of several, sharing the same layers."""
    import keras

    from neurogenesis.io.samples import pack_inputs
    from neurogenesis.testing import tiny_branching_model, two_input_classifier, two_input_samples

    model = two_input_classifier()
    data = two_input_samples(10)
    packed = pack_inputs({"meta": data["meta"], "image": data["image"]})  # another order
    assert graph.input_names(model) == ["image", "meta"]
    expected = np.asarray(model([data["image"], data["meta"]]))
    np.testing.assert_allclose(graph.predict(model, packed, batch_size=3), expected, rtol=1e-6)
    np.testing.assert_allclose(graph.predict(model, data), expected, rtol=1e-6)  # a dict
    with pytest.raises(InputError, match=r"takes 2 inputs \(image, meta\).*one array"):
        graph.predict(model, data["image"])
    with pytest.raises(InputError, match="missing meta"):
        graph.model_inputs(model, pack_inputs({"image": data["image"], "other": data["meta"]}))
    with pytest.raises(InputError, match="takes 2"):
        graph.model_input(model, packed)

    branching = tiny_branching_model()
    assert graph.output_names(branching) == ["head_1", "head_2"]
    second = graph.with_output(branching, "head_2")
    x = {"a": np.ones((4, 6), "float32"), "b": np.zeros((4, 4), "float32")}
    np.testing.assert_allclose(
        graph.predict(second, x), np.asarray(branching([x["a"], x["b"]])[1]), rtol=1e-6
    )
    assert second.layers[-1] is branching.get_layer("head_2")  # shared, not copied
    assert graph.with_output(branching, None) is branching
    with pytest.raises(InputError, match="outputs"):
        graph.with_output(branching, "head_3")
    assert isinstance(second, keras.Model)


def test_keras_hub_backbone_fed_by_input_names():
    pytest.importorskip("keras_hub")
    from neurogenesis.io.samples import pack_inputs
    from neurogenesis.testing import bert_samples, tiny_bert

    backbone = tiny_bert()
    data = bert_samples(5)
    inputs = {k: data[k] for k in ("token_ids", "padding_mask", "segment_ids")}
    assert graph.output_names(backbone) == ["pooled_output", "sequence_output"]
    sequence = graph.with_output(backbone, "sequence_output")
    got = graph.predict(sequence, pack_inputs(inputs), batch_size=2)
    np.testing.assert_allclose(got, np.asarray(backbone(inputs)["sequence_output"]), atol=1e-5)
