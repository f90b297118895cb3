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
    assert "no keras.layers.MultiHeadAttention" in attention.reason(tiny_cnn())
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


def _rows(matrix):
    matrix = np.asarray(matrix, dtype=np.float64)
    return matrix / matrix.sum(axis=-1, keepdims=True)


def test_rollout_multiplies_residual_mixed_layers_by_hand():
    rng = np.random.default_rng(3)
    first = _rows(rng.random((2, 3, 4, 4)))
    second = _rows(rng.random((2, 3, 4, 4)))
    result = attention.attention_rollout({"a": first, "b": second})
    for n in range(2):  # the paper's recipe, written out for one sample at a time
        a = 0.5 * first[n].mean(axis=0) + 0.5 * np.eye(4)
        b = 0.5 * second[n].mean(axis=0) + 0.5 * np.eye(4)
        expected = _rows(b) @ _rows(a)
        np.testing.assert_allclose(result[n], expected, atol=1e-12)
    np.testing.assert_allclose(result.sum(axis=-1), 1.0, atol=1e-12)
    plain = attention.attention_rollout([first], residual=False)
    np.testing.assert_allclose(plain, first.mean(axis=1), atol=1e-12)
    with pytest.raises(InputError, match="cross-attention"):
        attention.attention_rollout([np.full((1, 1, 2, 3), 1 / 3)])


def test_head_statistics_tell_diffuse_local_and_sink_heads_apart():
    tokens = 5
    uniform = np.full((tokens, tokens), 1 / tokens)
    diagonal = np.eye(tokens)
    sink = np.zeros((tokens, tokens))
    sink[:, 0] = 1.0
    scores = np.stack([uniform, diagonal, sink])[None]  # (1, 3 heads, 5, 5)
    stats = attention.head_statistics(scores, layer="block")
    np.testing.assert_allclose(stats.entropy, [np.log(tokens), 0.0, 0.0], atol=1e-12)
    assert stats.max_entropy == pytest.approx(np.log(tokens))
    # Uniform: mean |i - j| over a 5x5 grid is 40/25 = 1.6; the diagonal 0; the sink mean(i) = 2.
    np.testing.assert_allclose(stats.distance, [1.6, 0.0, 2.0], atol=1e-12)
    np.testing.assert_allclose(stats.first_token, [0.2, 0.2, 1.0], atol=1e-12)
    np.testing.assert_allclose(stats.max_attention, [0.2, 1.0, 1.0], atol=1e-12)
    special = np.zeros((1, tokens), bool)
    special[0, 0] = True
    masked = attention.head_statistics(
        scores, key_mask=np.array([[True, True, True, False, False]]), special_keys=special
    )
    # Only the three real query rows count: the diagonal head's first-token share is then 1/3.
    np.testing.assert_allclose(masked.first_token, [0.2, 1 / 3, 1.0], atol=1e-12)
    np.testing.assert_allclose(masked.special, masked.first_token, atol=1e-12)
    assert masked.max_entropy == pytest.approx(np.log(3))


def test_head_importance_equals_masking_the_head_by_hand():
    model, mha = _self_attention_model()
    x = np.random.default_rng(4).normal(size=(6, 6, 8)).astype("float32")
    before = [w.copy() for w in model.get_weights()]
    info = attention.head_importance(model, x)
    for original, after in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(original, after)  # the user's model is untouched
    probabilities = np.asarray(model(x))
    target = probabilities.argmax(axis=1)
    kernel, bias = mha._output_dense.get_weights()
    for h in range(2):
        # Remove head h by hand: recompute the attention output without its projection slice.
        _, scores = mha(x, x, return_attention_scores=True)
        value_kernel, value_bias = mha._value_dense.get_weights()
        values = np.einsum("bsd,dhk->bshk", x, value_kernel) + value_bias
        context = np.einsum("bhts,bshk->bthk", np.asarray(scores), values)
        kept = [k for k in range(2) if k != h]
        attended = np.einsum("bthk,hko->bto", context[:, :, kept], kernel[kept]) + bias
        pooled = attended.mean(axis=1)
        dense_kernel, dense_bias = model.get_layer("probabilities").get_weights()
        logits = pooled @ dense_kernel + dense_bias
        expected = np.exp(logits - logits.max(axis=1, keepdims=True))
        expected /= expected.sum(axis=1, keepdims=True)
        rows = np.arange(len(x))
        drop = np.mean(probabilities[rows, target] - expected[rows, target])
        assert info.drop[0, h] == pytest.approx(drop, abs=1e-5)
        assert info.flipped[0, h] == pytest.approx(np.mean(expected.argmax(axis=1) != target))
    assert info.ranking()[0][2] == pytest.approx(np.nanmax(info.drop))


def test_attention_evolution_reads_the_recorded_epochs():
    from neurogenesis.io.recordings import load_attention

    run = ROOT / "data" / "runs" / "sentiment_transformer" / "adam"
    info = attention.attention_evolution(str(run))
    files = sorted((run / "attention").glob("epoch_*.npz"))
    assert info.epochs.tolist() == [int(f.stem.split("_")[1]) for f in files]
    assert info.layers == ("attention_1", "attention_2")
    last = load_attention(files[-1])
    np.testing.assert_array_equal(info.scores["attention_2"][-1], last["attention_2"])
    assert info.inputs.shape == (info.scores["attention_1"].shape[1], 16)
    assert info.entropy.shape == (len(files), 2, 4)
    assert np.all((info.entropy >= -1e-6) & (info.entropy <= 1 + 1e-3))
    # Recomputed for one head: entropy over real keys of real queries, over log(real keys).
    scores = last["attention_1"].astype(np.float64)[:, 0]
    real = info.inputs != 0
    values = []
    for n in range(len(scores)):
        rows = scores[n][real[n]]
        p = np.clip(rows, 1e-300, None)
        values.extend(-(rows * np.log(p)).sum(axis=-1))
    expected = np.mean(values) / np.log(real.sum(axis=1).mean())
    assert info.entropy[-1, 0, 0] == pytest.approx(expected, rel=1e-4)


def test_a_run_without_attention_is_explained():
    with pytest.raises(InputError, match="no attention"):
        attention.attention_evolution(str(ROOT / "data" / "runs" / "digits_cnn" / "adam"))


def test_attention_inside_a_custom_block_of_a_sequential_model():
    """A custom layer hides its MultiHeadAttention from any graph; its calls are recorded instead."""
    keras.utils.set_random_seed(13)

    class Block(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.attention = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3, name="mha")
            self.norm = keras.layers.LayerNormalization(name="norm")

        def call(self, x):
            return self.norm(x + self.attention(x, x))

    block = Block(name="block")
    model = keras.Sequential(
        [
            keras.Input((5, 6)),
            block,
            keras.layers.GlobalAveragePooling1D(name="pool"),
            keras.layers.Dense(2, activation="softmax", name="probabilities"),
        ]
    )
    assert attention.attention_layers(model) == ["block/mha"]
    x = np.random.default_rng(6).normal(size=(7, 5, 6)).astype("float32")
    before = np.asarray(model(x))
    scores = attention.attention_scores(model, x, batch_size=3)
    _, expected = block.attention(x, x, return_attention_scores=True)
    assert scores["block/mha"].shape == (7, 2, 5, 5)
    np.testing.assert_allclose(scores["block/mha"], expected, atol=1e-5)
    np.testing.assert_allclose(np.asarray(model(x)), before, atol=1e-6)  # the call is restored
    assert "call" not in vars(block.attention)


def test_attention_flow_is_the_sum_of_two_layer_path_bottlenecks():
    rng = np.random.default_rng(8)
    first = _rows(rng.random((1, 2, 4, 4)))
    second = _rows(rng.random((1, 2, 4, 4)))
    flow = attention.attention_flow([first, second], residual=False)
    a1, a2 = first[0].mean(axis=0), second[0].mean(axis=0)
    for i in range(4):
        for j in range(4):
            # Two layers: one path j -> k -> i per middle position k, edge-disjoint, so the
            # maximum flow is the sum of each path's bottleneck.
            expected = sum(min(a1[k, j], a2[i, k]) for k in range(4))
            assert flow[0, i, j] == pytest.approx(expected, abs=1e-5)
    single = attention.attention_flow([first], residual=False)
    np.testing.assert_allclose(single[0], a1, atol=1e-6)


def test_layer_head_statistics_leave_the_padding_keys_out_of_every_layer():
    model = load_model(ROOT / "models" / "sentiment_transformer.keras")
    tokens = np.load(ROOT / "data" / "samples" / "sentiment_transformer.npz")["x"][:8]
    found = attention.layer_head_statistics(model, tokens)
    scores = attention.attention_scores(model, tokens)
    assert [info.layer for info in found] == list(scores)
    for info, values in zip(found, scores.values(), strict=True):
        assert info == attention.head_statistics(values, layer=info.layer, key_mask=tokens != 0)
