"""Debugging's analyses on models of several inputs (issue 21): errors, attacks, corruptions,
comparison and cost, checked against the model's own calls."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from scipy import special

from neurogenesis.analysis import evaluation, robustness
from neurogenesis.analysis.features import prediction_info
from neurogenesis.io.samples import pack_inputs
from neurogenesis.testing import (
    bert_samples,
    tiny_bert,
    two_input_classifier,
    two_input_samples,
)


@pytest.fixture(scope="module")
def two_input():
    model = two_input_classifier()
    arrays = two_input_samples(12)
    x = pack_inputs({"image": arrays["image"], "meta": arrays["meta"]})
    return model, x, arrays


def _own_call(model, image, meta) -> np.ndarray:
    return np.asarray(model([image, meta], training=False))


def test_accuracy_and_confusion_are_the_models_own_argmax(two_input):
    model, x, arrays = two_input
    info = prediction_info(model, x, arrays["y"])
    predicted = _own_call(model, arrays["image"], arrays["meta"]).argmax(axis=1)
    np.testing.assert_array_equal(info.predicted, predicted)
    np.testing.assert_array_equal(info.correct, predicted == arrays["y"])
    confusion = evaluation.confusion_info(arrays["y"], info.predicted, 3)
    expected = np.zeros((3, 3), dtype=np.int64)
    np.add.at(expected, (arrays["y"], predicted), 1)
    np.testing.assert_array_equal(confusion.matrix, expected)
    assert confusion.accuracy == pytest.approx(np.mean(predicted == arrays["y"]))


def test_fgsm_moves_the_image_by_epsilon_sign_of_the_gradient_with_meta_fixed(two_input):
    model, x, arrays = two_input
    epsilon = 0.05
    info = robustness.fgsm(model, x, arrays["y"], epsilon=epsilon, value_range=(-10.0, 10.0))
    assert info.input_name == "image"
    image = tf.constant(arrays["image"])
    meta = tf.constant(arrays["meta"])
    with tf.GradientTape() as tape:
        tape.watch(image)
        probabilities = model([image, meta], training=False)
        loss = tf.reduce_sum(
            tf.keras.losses.sparse_categorical_crossentropy(arrays["y"], probabilities)
        )
    expected = epsilon * np.sign(tape.gradient(loss, image).numpy())
    np.testing.assert_allclose(info.perturbation, expected, atol=1e-6)
    # The model's answer on the attacked image with the same meta.
    attacked = _own_call(model, info.x_adv, arrays["meta"])
    np.testing.assert_allclose(info.adversarial_probabilities, attacked, atol=1e-5)
    assert info.adversarial_accuracy == pytest.approx(
        np.mean(attacked.argmax(axis=1) == arrays["y"])
    )


def test_pgd_on_the_meta_input_leaves_the_image_alone(two_input):
    model, x, arrays = two_input
    info = robustness.pgd(model, x, arrays["y"], epsilon=0.2, steps=3, seed=0, input_name="meta")
    assert info.x_adv.shape == arrays["meta"].shape
    assert np.abs(info.perturbation).max() <= 0.2 + 1e-6
    attacked = _own_call(model, arrays["image"], info.x_adv)
    np.testing.assert_allclose(info.adversarial_probabilities, attacked, atol=1e-5)


def test_noise_curve_corrupts_the_image_only(two_input):
    model, x, arrays = two_input
    info = robustness.robustness_curves(
        model, x, arrays["y"], corruptions=["gaussian_noise"], attacks=(), per_class=False
    )
    assert info.input_kind == "image"
    low, high = robustness.value_range(arrays["image"])
    for level, value in zip(info.strength, info.value, strict=True):
        noisy = robustness.gaussian_noise(arrays["image"], level, seed=0, value_range=(low, high))
        predicted = _own_call(model, noisy, arrays["meta"]).argmax(axis=1)
        assert value == pytest.approx(np.mean(predicted == arrays["y"]))


def test_perturbation_of_one_sample_keeps_the_other_input(two_input):
    model, x, arrays = two_input
    info = robustness.perturbation_info(model, x, 3, [("brightness", {"strength": 0.2})])
    low, high = robustness.value_range(arrays["image"])
    expected = np.clip(arrays["image"][3] + 0.2 * (high - low), low, high)
    np.testing.assert_allclose(info.perturbed, expected, atol=1e-6)
    own = _own_call(model, info.perturbed[None], arrays["meta"][3:4])[0]
    np.testing.assert_allclose(info.perturbed_output, own, atol=1e-5)


def test_comparison_and_cost_run_two_input_models(two_input):
    model, x, arrays = two_input
    other = two_input_classifier("other")
    report = evaluation.comparison_report(model, other, x, arrays["y"], num_resamples=50)
    mine = _own_call(model, arrays["image"], arrays["meta"]).argmax(axis=1)
    theirs = _own_call(other, arrays["image"], arrays["meta"]).argmax(axis=1)
    assert report["accuracy_a"] == pytest.approx(np.mean(mine == arrays["y"]))
    assert report["accuracy_b"] == pytest.approx(np.mean(theirs == arrays["y"]))
    assert report["num_disagreements"] == int(np.sum(mine != theirs))
    profile = evaluation.profile_info(model, x, batch_sizes=(1, 4), repeats=1, warmup=1)
    assert profile.num_parameters == model.count_params()
    assert list(profile.batch_sizes) == [1, 4]


def test_token_models_say_why_attacks_do_not_apply_and_corrupt_tokens_with_the_mask_fixed():
    model = tiny_bert(task=True)
    arrays = bert_samples(6)
    x = pack_inputs({k: arrays[k] for k in ("token_ids", "padding_mask", "segment_ids")})
    sentence = robustness.reason(model, "attack")
    assert "float" in sentence and "token_ids" in sentence
    with pytest.raises(Exception, match="float"):
        robustness.fgsm(model, x, arrays["y"], epsilon=0.1)
    assert robustness.reason(model, "curves") is None
    info = robustness.perturbation_info(
        model, x, 0, [("replace_tokens", {"position": 1, "token_id": 5})]
    )
    changed = arrays["token_ids"][0].copy()
    changed[1] = 5
    np.testing.assert_array_equal(info.perturbed, changed)
    own = model(
        {
            "token_ids": changed[None],
            "padding_mask": arrays["padding_mask"][:1],
            "segment_ids": arrays["segment_ids"][:1],
        },
        training=False,
    )
    # A KerasHub classifier returns logits (from_logits=True loss): its classes' softmax.
    assert info.task == "classification"
    np.testing.assert_allclose(info.perturbed_output, special.softmax(np.ravel(own)), atol=1e-5)
