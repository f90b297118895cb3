"""Whole-dataset jobs without a cluster: shards of a set, explained, attacked and scored one by
one and joined here, equal the whole set computed at once (the pieces a Ray cluster runs; see
test_datasets_ray.py for the same jobs on a real local Ray)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurogenesis.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
TOLERANCE = 1e-5

CURVE_OPTIONS = {
    "corruptions": ("gaussian_noise", "occlusion", "blur"),
    "strengths": {"gaussian_noise": (0.0, 0.1, 0.3), "occlusion": (0.0, 0.375), "blur": (1.0,)},
    "attacks": ("fgsm", "pgd"),
    "epsilons": (0.05, 0.15),
    "pgd_steps": 2,
}
"""Curves of every kind of randomness a shard must draw where it starts (noise, squares, PGD's
start) and of none (blur, FGSM), kept short."""


@pytest.fixture(scope="module")
def digits():
    data = np.load(ROOT / "data/samples/digits_cnn.npz")
    return data["x"], data["y"]


@pytest.fixture(scope="module")
def model():
    from neurogenesis.io.models import load_model

    return load_model(ROOT / "models/digits_cnn.keras")


def test_smoothgrad_of_a_later_shard_starts_where_the_set_does(model, digits):
    """A shard told where it starts gets its samples' noise of the whole set."""
    from neurogenesis.analysis.attribution import attribution_info

    x, _ = digits
    whole = attribution_info(model, x[:12], "smoothgrad", num_samples=3)
    later = attribution_info(model, x[5:12], "smoothgrad", num_samples=3, first_sample=5)
    np.testing.assert_allclose(later.maps, whole.maps[5:], atol=TOLERANCE)
    unaware = attribution_info(model, x[5:12], "smoothgrad", num_samples=3)
    assert np.abs(unaware.maps - whole.maps[5:]).max() > 1e-4  # the offset matters


# ---------------------------------------------------------------------------------------------
# Shards joined here equal the whole set


def test_shards_slice_together_and_know_where_they_start(digits):
    from neurogenesis.compute.jobs import Shard

    x, y = digits
    part = Shard(x, y)[100:300][50:80]
    assert part.start == 150 and len(part) == 30
    np.testing.assert_array_equal(part.x, x[150:180])
    np.testing.assert_array_equal(part.y, y[150:180])
    with pytest.raises(InputError, match="one label per sample"):
        Shard(x, y[:10])


def test_pgd_shards_joined_equal_the_whole_set(model, digits):
    """PGD's random start drawn where each shard starts; accuracies are summed counts."""
    from neurogenesis.analysis import robustness
    from neurogenesis.compute.jobs import Shard, adversarial_shard, join_adversarial

    x, y = digits
    x, y = x[:90], y[:90]
    options = {"epsilon": 0.2, "steps": 2, "value_range": robustness.set_range(x)}
    whole = robustness.pgd(model, x, y, **options)
    shards = [Shard(x, y)[a:b] for a, b in ((0, 7), (7, 50), (50, 90))]
    parts = [adversarial_shard(model, s, method="pgd", options=options) for s in shards]
    joined = join_adversarial(parts)
    np.testing.assert_allclose(joined.x_adv, whole.x_adv, atol=TOLERANCE)
    right = int(np.sum(joined.adversarial_predictions == y))
    assert joined.adversarial_accuracy == right / 90 == whole.adversarial_accuracy
    assert joined.clean_accuracy == whole.clean_accuracy
    assert joined.linf == pytest.approx(whole.linf)
    unaware = robustness.pgd(model, x[50:], y[50:], **options)
    assert np.abs(unaware.x_adv - whole.x_adv[50:]).max() > 1e-3  # the offset matters


def test_mean_baseline_given_to_a_shard_is_the_sets(model, digits):
    from neurogenesis.analysis.attribution import attribution_info, mean_baseline

    x, _ = digits
    x = x[:40]
    whole = attribution_info(model, x, "occlusion", baseline="mean")
    mean = mean_baseline(model, x)
    np.testing.assert_array_equal(mean, x.mean(axis=0, keepdims=True))
    part = attribution_info(model, x[30:], "occlusion", baseline="mean", baseline_mean=mean)
    np.testing.assert_allclose(part.maps, whole.maps[30:], atol=TOLERANCE)
    with pytest.raises(InputError, match="mean baseline of shape"):
        attribution_info(model, x, "occlusion", baseline="mean", baseline_mean=mean[0])


@pytest.mark.slow
def test_token_attribution_shards_joined_equal_the_whole_set():
    from neurogenesis.analysis.attribution import token_attribution_info
    from neurogenesis.compute.jobs import Shard, attribution_shard, join_attributions
    from neurogenesis.io.models import load_model

    model = load_model(ROOT / "models/sentiment_transformer.keras")
    tokens = np.load(ROOT / "data/samples/sentiment_transformer.npz")["x"][:20]
    whole = token_attribution_info(model, tokens, "integrated_gradients", steps=4)
    options = {"steps": 4}
    parts = [
        attribution_shard(
            model, Shard(tokens)[a:b], method="integrated_gradients", tokens=True, options=options
        )
        for a, b in ((0, 7), (7, 20))
    ]
    joined = join_attributions(parts)
    np.testing.assert_allclose(joined.scores, whole.scores, atol=TOLERANCE)
    np.testing.assert_array_equal(joined.tokens, tokens)
    np.testing.assert_array_equal(joined.target, whole.target)
    # A ratio to F(x) - F(baseline), which is tiny for some reviews: float noise of a batch of
    # another size grows there, so it is compared to 0.1% of itself.
    np.testing.assert_allclose(
        joined.completeness_error, whole.completeness_error, rtol=1e-3, equal_nan=True
    )


def _shards(x, y, bounds):
    from neurogenesis.compute.jobs import Shard

    whole = Shard(x, y)
    return [whole[a:b] for a, b in bounds]


def test_image_curve_shards_joined_equal_the_whole_set(model, digits):
    """Random noise, random squares and PGD starts drawn where each shard starts; accuracies
    from summed counts: the same numbers, exactly."""
    from neurogenesis.analysis import robustness
    from neurogenesis.compute.jobs import curves_shard, join_curves

    x, y = digits
    x, y = x[:90], y[:90]
    whole = robustness.robustness_curves(model, x, y, **CURVE_OPTIONS)
    options = {**CURVE_OPTIONS, "value_range": robustness.set_range(x)}
    parts = [
        curves_shard(model, shard, set_size=90, options=options)
        for shard in _shards(x, y, ((0, 13), (13, 60), (60, 90)))
    ]
    joined = join_curves(parts)
    assert joined.names == whole.names
    np.testing.assert_array_equal(joined.value, whole.value)
    assert joined.clean == whole.clean
    np.testing.assert_array_equal(joined.class_counts, np.bincount(y, minlength=10))
    np.testing.assert_array_equal(joined.per_class, whole.per_class)
    # Not an average of the shards' accuracies (13 samples would weigh as much as 47).
    averaged = np.mean([info.value for _, info in parts], axis=0)
    assert np.abs(averaged - whole.value).max() > 1e-3


@pytest.mark.slow
def test_series_curve_shards_joined_equal_the_whole_set():
    """A regression on series: the noise scaled by the whole set's spread, errors summed."""
    from neurogenesis.analysis import robustness
    from neurogenesis.compute.jobs import curves_shard, join_curves
    from neurogenesis.io.models import load_model

    model = load_model(ROOT / "models/weather_lstm.keras")
    data = np.load(ROOT / "data/samples/weather_lstm.npz")
    x, y = data["x"][:60], data["y"][:60]
    options = {"attacks": ("pgd",), "epsilons": (0.05,), "pgd_steps": 2}
    whole = robustness.robustness_curves(model, x, y, **options)
    assert whole.metric == "mean_absolute_error"
    options.update(value_range=robustness.set_range(x), series_scale=robustness.noise_scale(x))
    parts = [
        curves_shard(model, shard, set_size=60, options=options)
        for shard in _shards(x, y, ((0, 25), (25, 60)))
    ]
    joined = join_curves(parts)
    # Float32 outputs of batches of other sizes: equal to float32 precision.
    np.testing.assert_allclose(joined.value, whole.value, rtol=1e-6)
    assert joined.clean == pytest.approx(whole.clean, rel=1e-6)
    unaware = [
        robustness.robustness_curves(model, x[a:b], y[a:b], **options)
        for a, b in ((0, 25), (25, 60))
    ]
    mixed = (25 * unaware[0].value + 35 * unaware[1].value) / 60
    assert np.abs(mixed - whole.value).max() > 1e-4  # shards that ignore where they start differ
