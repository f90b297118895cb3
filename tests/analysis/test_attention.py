"""Attention scores equal each MultiHeadAttention layer's own return_attention_scores output."""

from __future__ import annotations

import os

import numpy as np
import pytest

from neurogenesis.analysis import attention
from neurogenesis.errors import InputError, UnsupportedModelError
from neurogenesis.io.models import load_model
from neurogenesis.testing import tiny_cnn
from tests.conftest import ROOT

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402


def _self_attention_model():
    keras.utils.set_random_seed(11)
    tokens = keras.Input((6, 8), name="tokens")
    mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, name="self_attention")
    attended = mha(tokens, tokens)
    pooled = keras.layers.GlobalAveragePooling1D(name="pool")(attended)
    output = keras.layers.Dense(3, activation="softmax", name="probabilities")(pooled)
    return keras.Model(tokens, output), mha


def test_functional_self_attention_equals_the_layer():
    model, mha = _self_attention_model()
    x = np.random.default_rng(0).normal(size=(5, 6, 8)).astype("float32")
    scores = attention.attention_scores(model, x, batch_size=2)
    _, expected = mha(x, x, return_attention_scores=True)
    assert list(scores) == ["self_attention"]
    assert scores["self_attention"].shape == (5, 2, 6, 6)
    np.testing.assert_allclose(scores["self_attention"], expected, atol=1e-5)


def test_cross_attention_with_a_mask_inside_a_nested_loaded_sequential(tmp_path):
    keras.utils.set_random_seed(12)
    query = keras.Input((4, 8), name="query")
    context = keras.Input((7, 8), name="context")
    mha = keras.layers.MultiHeadAttention(num_heads=3, key_dim=2, name="cross")
    mask = np.ones((4, 7), dtype=bool)
    mask[:, 5:] = False  # the last two context positions are padding
    attended = mha(query, context, attention_mask=keras.ops.convert_to_tensor(mask[None]))
    block = keras.Model([query, context], attended, name="block")
    inputs = keras.Input((11, 8), name="both")
    q = keras.layers.Cropping1D((0, 7), name="take_query")(inputs)
    c = keras.layers.Cropping1D((4, 0), name="take_context")(inputs)
    out = keras.layers.Dense(2, name="head")(keras.layers.Flatten(name="flat")(block([q, c])))
    model = keras.Model(inputs, out, name="outer")
    model.save(tmp_path / "outer.keras")
    loaded = load_model(tmp_path / "outer.keras")
    x = np.random.default_rng(1).normal(size=(3, 11, 8)).astype("float32")
    scores = attention.attention_scores(loaded, x)
    assert list(scores) == ["block/cross"]
    layer = loaded.get_layer("block").get_layer("cross")
    _, expected = layer(
        x[:, :4], x[:, 4:], attention_mask=mask[None].repeat(3, 0), return_attention_scores=True
    )
    np.testing.assert_allclose(scores["block/cross"], expected, atol=1e-5)
    assert np.abs(scores["block/cross"][..., 5:]).max() < 1e-6  # padding gets no attention


def test_sentiment_demo_heads_ignore_padding_and_sum_to_one():
    model = load_model(ROOT / "models" / "sentiment_transformer.keras")
    tokens = np.load(ROOT / "data" / "samples" / "sentiment_transformer.npz")["x"][:8]
    scores = attention.attention_scores(model, tokens)
    assert list(scores) == ["attention_1", "attention_2"]
    padded = tokens == 0
    assert padded.any()
    for values in scores.values():
        assert values.shape == (8, model.get_layer("attention_1").num_heads, 16, 16)
        for i in range(len(tokens)):
            real = ~padded[i]
            # Every real token's row is a distribution over the real tokens only.
            np.testing.assert_allclose(values[i][:, real].sum(axis=-1), 1.0, atol=1e-5)
            if padded[i].any():
                assert values[i][..., padded[i]].max() < 1e-6


def test_models_without_attention_and_bad_layers_are_explained():
    assert not attention.supports(tiny_cnn())
    with pytest.raises(UnsupportedModelError, match="MultiHeadAttention"):
        attention.attention_scores(tiny_cnn(), np.zeros((1, 8, 8, 1), "float32"))
    model, _ = _self_attention_model()
    with pytest.raises(InputError, match="nope"):
        attention.attention_scores(model, np.zeros((1, 6, 8), "float32"), layers=["nope"])


def test_weather_demo_temporal_attention_over_the_window():
    model = load_model(ROOT / "models" / "weather_lstm.keras")
    windows = np.load(ROOT / "data" / "samples" / "weather_lstm.npz")["x"][:4]
    scores = attention.attention_scores(model, windows)["temporal_attention"]
    layer = model.get_layer("temporal_attention")
    assert scores.shape == (4, layer.num_heads, 1, 14)  # the last step attends over 14 days
    np.testing.assert_allclose(scores.sum(axis=-1), 1.0, atol=1e-5)
