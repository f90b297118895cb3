"""Attention on models of several inputs: a KerasHub BERT fed token_ids, padding_mask and
segment_ids, and a functional model of tokens and a mask, equal to each layer's own scores with
the padding masked; statistics, rollout and ablation over the real tokens only."""

from __future__ import annotations

import os

import numpy as np
import pytest

from neurogenesis.analysis import attention, graph
from neurogenesis.io.samples import pack_inputs, padding_mask

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402

pytest.importorskip("keras_hub")

INPUTS = ("token_ids", "padding_mask", "segment_ids")


@pytest.fixture(scope="module")
def bert():
    from neurogenesis.testing import bert_samples, tiny_bert

    samples = bert_samples(6)
    inputs = {name: samples[name] for name in INPUTS}
    return tiny_bert(), inputs


def _encoder_scores(backbone, inputs) -> dict[str, np.ndarray]:
    """Each TransformerEncoder's own scores: its input read from a functional sub-model of the
    backbone, then the encoder called on it with its padding mask and return_attention_scores."""
    encoders = [layer for layer in backbone.layers if type(layer).__name__ == "TransformerEncoder"]
    feeding = [backbone.get_layer("embeddings_dropout").output]
    feeding += [encoder.output for encoder in encoders[:-1]]
    sub = keras.Model(backbone.input, feeding)
    hidden = sub(inputs, training=False)
    hidden = hidden if isinstance(hidden, (list, tuple)) else [hidden]
    result = {}
    for encoder, states in zip(encoders, hidden, strict=True):
        _, scores = encoder(
            states, padding_mask=inputs["padding_mask"], return_attention_scores=True
        )
        result[encoder.name] = np.asarray(scores)
    return result


def test_bert_backbone_scores_equal_each_encoders_own_with_the_padding_mask(bert):
    backbone, inputs = bert
    mask = inputs["padding_mask"]
    assert not mask.all()  # some padding
    expected = _encoder_scores(backbone, inputs)
    for x in (pack_inputs(inputs), inputs):  # a packed sample set, and a dict by input name
        scores = attention.attention_scores(backbone, x, batch_size=4)
        assert list(scores) == [f"{name}/self_attention_layer" for name in expected]
        for (path, values), reference in zip(scores.items(), expected.values(), strict=True):
            assert values.shape == (6, 2, 12, 12), path
            np.testing.assert_allclose(values, reference, atol=1e-5, err_msg=path)
            # The padded keys get nothing; every real query's row sums to 1.
            assert np.abs(values * ~mask[:, None, None, :]).max() < 1e-6
            np.testing.assert_allclose(values.sum(-1), 1.0, atol=1e-5)


def test_bert_classifier_scores_are_its_backbones():
    from neurogenesis.testing import bert_samples, tiny_bert

    classifier = tiny_bert(task=True)
    samples = bert_samples(4)
    inputs = {name: samples[name] for name in INPUTS}
    scores = attention.attention_scores(classifier, pack_inputs(inputs))
    backbone = classifier.backbone
    expected = _encoder_scores(backbone, inputs)
    assert list(scores) == [f"{backbone.name}/{name}/self_attention_layer" for name in expected]
    for values, reference in zip(scores.values(), expected.values(), strict=True):
        np.testing.assert_allclose(values, reference, atol=1e-5)


def test_padding_mask_found_by_name_and_values():
    ids = np.array([[5, 6, 0], [7, 0, 0]], "int32")
    mask = ids != 0
    assert np.array_equal(padding_mask(pack_inputs({"token_ids": ids, "padding_mask": mask})), mask)
    as_ints = {"token_ids": ids, "attention_mask": mask.astype("int32")}
    assert np.array_equal(padding_mask(as_ints), mask)
    assert padding_mask({"token_ids": ids, "mask": ids}) is None  # not 0/1
    assert padding_mask({"token_ids": ids, "padding_mask": mask[:, :2]}) is None  # not its shape
    assert padding_mask(ids) is None


def test_statistics_and_rollout_cover_the_real_tokens_only(bert):
    backbone, inputs = bert
    mask = inputs["padding_mask"]
    scores = attention.attention_scores(backbone, inputs)
    stats = attention.layer_head_statistics(backbone, pack_inputs(inputs))
    lengths = mask.sum(axis=1)  # padding is at the end of each sentence
    for stat, values in zip(stats, scores.values(), strict=True):
        assert stat.real_tokens == int(mask.sum()) and stat.tokens == mask.size
        # By hand: each sample cropped to its real tokens, every real query counted once.
        entropy, distance, count = np.zeros(2), np.zeros(2), 0
        for n, length in enumerate(lengths):
            block = values[n, :, :length, :length].astype(np.float64)
            entropy += -(block * np.log(np.clip(block, 1e-30, None))).sum(axis=(1, 2))
            offsets = np.abs(np.arange(length)[:, None] - np.arange(length)[None, :])
            distance += (block * offsets).sum(axis=(1, 2))
            count += length
        np.testing.assert_allclose(stat.entropy, entropy / count, atol=1e-5)
        np.testing.assert_allclose(stat.distance, distance / count, atol=1e-5)
        assert stat.max_entropy == pytest.approx(np.log(lengths.mean()))
    rollout = attention.attention_rollout(scores, mask=mask)
    flow = attention.attention_flow(scores, mask=mask)
    for n, length in enumerate(lengths):
        cropped = [values[n : n + 1, :, :length, :length] for values in scores.values()]
        np.testing.assert_allclose(
            rollout[n, :length, :length], attention.attention_rollout(cropped)[0], atol=1e-6
        )
        assert not rollout[n, length:].any() and not rollout[n, :, length:].any()
        assert not flow[n, length:].any() and not flow[n, :, length:].any()
    np.testing.assert_allclose(rollout.sum(-1), mask.astype(float), atol=1e-6)


def test_head_importance_of_the_backbone_equals_removing_the_head_by_hand(bert):
    backbone, inputs = bert
    info = attention.head_importance(backbone, pack_inputs(inputs))
    assert info.layers == tuple(attention.attention_layers(backbone))
    reference = graph.predict(backbone, inputs)  # pooled_output, the first output
    target = reference.argmax(axis=1)
    rows = np.arange(len(target))
    np.testing.assert_allclose(info.baseline, reference[rows, target], atol=1e-6)
    layer = backbone.get_layer("transformer_layer_1")._self_attention_layer
    kernel = layer._output_dense.kernel
    original = np.asarray(kernel.numpy())
    try:
        ablated = original.copy()
        ablated[1] = 0.0
        kernel.assign(ablated)
        removed = graph.predict(backbone, inputs)
    finally:
        kernel.assign(original)
    expected = np.mean(reference[rows, target] - removed[rows, target])
    assert info.drop[1, 1] == pytest.approx(expected, abs=1e-5)
    np.testing.assert_allclose(graph.predict(backbone, inputs), reference)  # left unchanged


def test_functional_model_of_tokens_and_a_mask():
    keras.utils.set_random_seed(5)
    tokens = keras.Input((5,), dtype="int32", name="tokens")
    mask = keras.Input((5,), dtype="int32", name="padding_mask")
    embedded = keras.layers.Embedding(20, 8, name="embed")(tokens)
    pairs = keras.ops.logical_and(
        keras.ops.cast(mask, "bool")[:, None, :], keras.ops.cast(mask, "bool")[:, :, None]
    )
    mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, name="self_attention")
    attended = mha(embedded, embedded, attention_mask=pairs)
    output = keras.layers.Dense(2, name="head")(keras.layers.GlobalAveragePooling1D()(attended))
    model = keras.Model([tokens, mask], output)
    ids = np.array([[3, 4, 5, 0, 0], [6, 7, 8, 9, 1], [2, 3, 0, 0, 0]], "int32")
    real = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 0, 0, 0]], "int32")
    scores = attention.attention_scores(model, pack_inputs({"tokens": ids, "padding_mask": real}))
    assert list(scores) == ["self_attention"]
    states = model.get_layer("embed")(ids)
    bools = real.astype(bool)
    _, expected = mha(
        states, states, attention_mask=bools[:, None, :] & bools[:, :, None],
        return_attention_scores=True,
    )  # fmt: skip
    np.testing.assert_allclose(scores["self_attention"], expected, atol=1e-5)
    assert np.array_equal(attention.real_tokens(model, [ids, real]), bools)
    stats = attention.layer_head_statistics(model, {"tokens": ids, "padding_mask": real})
    assert stats[0].real_tokens == int(real.sum())
