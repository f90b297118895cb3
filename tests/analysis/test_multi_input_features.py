"""Features, projector and attribution on models of several inputs (issue 21 part 5): the
two-input classifier (``image`` + ``meta``) and a KerasHub BERT classifier (token ids, padding
mask, segment ids), values against the model's own calls and NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from neurogenesis.analysis import graph
from neurogenesis.analysis.attribution import (
    InputsAttributionInfo,
    attribution_info,
    randomization_check,
    reason,
    token_attribution_info,
)
from neurogenesis.analysis.embeddings import hidden_states, padding_mask_input
from neurogenesis.analysis.features import feature_map_layers, feature_maps_info
from neurogenesis.io.samples import pack_inputs
from neurogenesis.testing import bert_samples, tiny_bert, two_input_classifier, two_input_samples


@pytest.fixture(scope="module")
def two_input():
    model = two_input_classifier()
    samples = two_input_samples(6)
    return model, {"image": samples["image"], "meta": samples["meta"]}


@pytest.fixture(scope="module")
def bert():
    pytest.importorskip("keras_hub")
    model = tiny_bert(task=True)
    samples = bert_samples(6)
    x = {name: samples[name] for name in ("token_ids", "padding_mask", "segment_ids")}
    return model, x


def _target_scores(model, inputs, targets):
    import tensorflow as tf

    tensors = [tf.convert_to_tensor(value) for value in inputs]
    with tf.GradientTape() as tape:
        for tensor in tensors:
            tape.watch(tensor)
        output = model(tensors, training=False)
        score = tf.gather(output, targets, batch_dims=1)
    return score.numpy(), [g.numpy() for g in tape.gradient(score, tensors)]


def test_feature_maps_feed_every_input(two_input):
    import keras

    model, x = two_input
    assert feature_map_layers(model) == ["conv"]
    info = feature_maps_info(model, pack_inputs(x), "conv", index=2)
    own = keras.Model(model.inputs, model.get_layer("conv").output)(
        [x["image"][2:3], x["meta"][2:3]]
    )
    np.testing.assert_allclose(info.maps, np.moveaxis(np.asarray(own)[0], -1, 0), atol=1e-6)
    assert info.input_name == "image"
    np.testing.assert_array_equal(info.input, x["image"][2])


def test_gradients_per_input_match_gradient_tape(two_input):
    model, x = two_input
    info = attribution_info(model, pack_inputs(x), "gradient")
    assert isinstance(info, InputsAttributionInfo)
    assert list(info.inputs) == ["image", "meta"] and info.held_fixed == ()
    scores, (image_grad, meta_grad) = _target_scores(model, [x["image"], x["meta"]], info.target)
    np.testing.assert_allclose(info.scores, scores, rtol=1e-5)
    np.testing.assert_allclose(info.attributions["image"], image_grad, atol=1e-7)
    np.testing.assert_allclose(info.attributions["meta"], meta_grad, atol=1e-7)
    np.testing.assert_allclose(info.maps["image"], np.abs(image_grad).sum(axis=-1), atol=1e-7)
    np.testing.assert_allclose(info.maps["meta"], np.abs(meta_grad), atol=1e-7)
    # SmoothGrad without noise is the gradient itself.
    smooth = attribution_info(model, x, "smoothgrad", num_samples=2, noise_level=0.0)
    np.testing.assert_allclose(smooth.attributions["meta"], meta_grad, atol=1e-6)


def test_integrated_gradients_complete_over_all_inputs(two_input):
    model, x = two_input
    info = attribution_info(model, x, "integrated_gradients", steps=128)
    total = sum(a.reshape(len(a), -1).sum(axis=1) for a in info.attributions.values())
    at_x = np.asarray(model([x["image"], x["meta"]]))[np.arange(6), info.target]
    zeros = [np.zeros_like(x["image"]), np.zeros_like(x["meta"])]
    at_baseline = np.asarray(model(zeros))[np.arange(6), info.target]
    difference = at_x - at_baseline
    np.testing.assert_allclose(total, difference, rtol=2e-2)
    # The reported error is this one, measured against the model's own calls.
    expected = np.abs(total - difference) / np.abs(difference)
    np.testing.assert_allclose(info.completeness_error, expected, rtol=1e-3, atol=1e-5)
    assert info.inputs["meta"].completeness_error is info.completeness_error


def test_occlusion_of_one_input_holds_the_other(two_input):
    model, x = two_input
    info = attribution_info(model, x, "occlusion")
    reference = np.asarray(model([x["image"], x["meta"]]))[np.arange(6), info.target]
    expected = np.zeros((6, 3))
    for feature in range(3):
        meta = x["meta"].copy()
        meta[:, feature] = 0
        drop = reference - np.asarray(model([x["image"], meta]))[np.arange(6), info.target]
        expected[:, feature] = np.maximum(drop, 0)
    np.testing.assert_allclose(info.maps["meta"], expected, atol=1e-6)
    assert info.maps["image"].shape == (6, 8, 8)


def test_cam_maps_the_image_input(two_input):
    import keras

    model, x = two_input
    assert reason(model, "gradcam") is None
    info = attribution_info(model, x, "gradcam")
    assert list(info.inputs) == ["image"] and info.inputs["image"].layer == "conv"
    # Grad-CAM by hand: the conv's maps weighted by the mean gradient of the score.
    import tensorflow as tf

    tapped = keras.Model(model.inputs, [model.get_layer("conv").output, model.output])
    with tf.GradientTape() as tape:
        conv, output = tapped([x["image"], x["meta"]])
        score = tf.gather(output, info.target, batch_dims=1)
    weights = tape.gradient(score, conv).numpy().mean(axis=(1, 2))
    cam = np.maximum(np.einsum("nhwc,nc->nhw", conv.numpy(), weights), 0)
    np.testing.assert_allclose(info.maps["image"], cam, atol=1e-6)


def test_sanity_check_compares_one_input(two_input):
    model, x = two_input
    sanity = randomization_check(
        model, {k: v[:1] for k, v in x.items()}, "gradient", num_layers=1, input_name="meta"
    )
    assert np.asarray(sanity.randomized[0]).shape == (1, 3)


def test_token_attribution_feeds_every_input_and_drops_padding(bert):
    model, x = bert
    assert reason(model, "gradient") is not None  # integers only: no gradient at the input
    assert reason(model, tokens=True) is None
    info = token_attribution_info(model, x, "integrated_gradients", steps=64)
    own = np.asarray(graph.predict(model, x))
    np.testing.assert_allclose(info.probabilities, own, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(info.target_scores, own[np.arange(6), info.target], rtol=1e-4)
    assert np.nanmax(info.completeness_error) < 1e-3
    real = x["padding_mask"].astype(bool)
    assert not real.all()  # the samples have padding
    np.testing.assert_array_equal(info.real, real)
    assert np.all(info.scores[~real] == 0)
    assert info.output_activation in (None, "linear")  # KerasHub's classifier: raw logits
    assert np.all(info.scores[real] != 0)


def test_padded_tokens_get_no_gradient_of_their_own(bert, monkeypatch):
    """Zeroing padded tokens hides nothing: without the mask's help the model's own gradient
    there is zero already (the mask keeps them out of attention and the [CLS] pooling)."""
    from neurogenesis.analysis import embeddings

    model, x = bert
    monkeypatch.setattr(embeddings, "padding_mask_input", lambda model: None)
    raw = token_attribution_info(model, x, "gradient")
    real = x["padding_mask"].astype(bool)
    assert raw.real is None
    assert np.abs(raw.scores[~real]).max() == 0 and np.abs(raw.scores[real]).max() > 0


def test_mask_aware_pooling_against_numpy(bert):
    model, x = bert
    assert graph.input_names(model)[padding_mask_input(model)] == "padding_mask"
    layer = next(p for p in graph.graph_layers(model).paths() if p.endswith("transformer_layer_1"))
    raw = hidden_states(model, pack_inputs(x), layer, pooling="flatten").reshape(6, 12, -1)
    real = x["padding_mask"].astype(bool)
    mean = np.stack([raw[i][real[i]].mean(axis=0) for i in range(6)])
    first = np.stack([raw[i][np.flatnonzero(real[i])[0]] for i in range(6)])
    last = np.stack([raw[i][np.flatnonzero(real[i])[-1]] for i in range(6)])
    top = np.stack([raw[i][real[i]].max(axis=0) for i in range(6)])
    for pooling, expected in (("mean", mean), ("auto", mean), ("first", first)):
        np.testing.assert_allclose(hidden_states(model, x, layer, pooling=pooling), expected, 1e-5)
    np.testing.assert_allclose(hidden_states(model, x, layer, pooling="last"), last, rtol=1e-5)
    np.testing.assert_allclose(hidden_states(model, x, layer, pooling="max"), top, rtol=1e-5)
    assert not np.allclose(mean, raw.mean(axis=1))  # the padding would have moved it
