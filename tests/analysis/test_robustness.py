"""Robustness: corruptions against hand/scipy computations, FGSM against a hand gradient, PGD,
regression attacks and curves on the demo models."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from scipy import ndimage

from neurogenesis.analysis import graph, robustness
from neurogenesis.errors import InputError, UnsupportedModelError


@pytest.fixture(scope="module")
def digits():
    from neurogenesis.io.models import load_model
    from neurogenesis.io.samples import load_samples

    samples = load_samples("data/samples/digits_cnn.npz")
    return load_model("models/digits_cnn.keras"), samples.x[:120], samples.y[:120]


@pytest.fixture(scope="module")
def token_ids():
    from neurogenesis.io.samples import load_samples

    return load_samples("data/samples/sentiment_transformer.npz").x[:50]


def _images(seed: int = 0, shape=(3, 6, 6, 2)) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, size=shape).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Corruptions


def test_value_range():
    assert robustness.value_range(np.array([3, 7], dtype=np.uint8)) == (0.0, 255.0)
    assert robustness.value_range(np.array([-1.5, 2.0, np.nan])) == (-1.5, 2.0)
    with pytest.raises(InputError):
        robustness.value_range(np.zeros((0,)))


def test_gaussian_noise_std_clipping_and_seed():
    x = np.full((8, 32, 32, 1), 0.5, dtype=np.float32)
    noisy = robustness.gaussian_noise(x, 0.05, seed=3, value_range=(0, 1))
    assert noisy.dtype == np.float32 and noisy.shape == x.shape
    assert abs((noisy - x).std() - 0.05) < 0.002  # 8192 draws: std error ~0.0004
    assert np.array_equal(noisy, robustness.gaussian_noise(x, 0.05, seed=3, value_range=(0, 1)))
    assert not np.array_equal(noisy, robustness.gaussian_noise(x, 0.05, seed=4, value_range=(0, 1)))
    strong = robustness.gaussian_noise(x, 2.0, value_range=(0, 1))
    assert strong.min() == 0.0 and strong.max() == 1.0


def test_blur_equals_scipy_gaussian_filter():
    x = _images()
    expected = ndimage.gaussian_filter(x.astype(np.float64), sigma=(0, 1.2, 1.2, 0), mode="nearest")
    np.testing.assert_allclose(robustness.blur(x, 1.2, value_range=(0, 1)), expected, atol=1e-6)


def test_brightness_and_contrast_by_hand():
    x = _images()
    np.testing.assert_allclose(
        robustness.brightness(x, 0.2, value_range=(0, 2)), np.minimum(x + 0.4, 2), atol=1e-6
    )
    mean = x.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(
        robustness.contrast(x, 0.75, value_range=(0, 1)), mean + 0.25 * (x - mean), atol=1e-6
    )
    bright = robustness.brightness(np.array([[[[250]]], [[[3]]]], dtype=np.uint8), 0.2)
    assert bright.dtype == np.uint8 and bright.ravel().tolist() == [255, 54]


def test_occlusion_patch():
    x = _images()
    out = robustness.occlusion(x, top=1, left=2, size=(2, 3), value_range=(0, 1))
    expected = x.copy()
    expected[:, 1:3, 2:5, :] = 0.5
    np.testing.assert_array_equal(out, expected)
    out = robustness.occlusion(x, top=4, left=4, size=5, fill=0.0, value_range=(0, 1))
    assert (out[:, 4:, 4:] == 0).all() and np.array_equal(out[:, :4], x[:, :4])
    random = robustness.random_occlusion(x, 0.5, seed=1, value_range=(0, 1))
    assert ((random == 0.5).all(axis=-1).sum(axis=(1, 2)) == 9).all()


def test_rotation_and_shift():
    x = _images(shape=(2, 5, 5, 1))
    np.testing.assert_allclose(
        robustness.rotation(x, 90, value_range=(0, 1)), np.rot90(x, 1, axes=(1, 2)), atol=1e-6
    )
    np.testing.assert_array_equal(robustness.rotation(x, 0, value_range=(0, 1)), x)
    rows = np.clip(np.arange(5) - 1, 0, 4)
    cols = np.clip(np.arange(5) - 2, 0, 4)
    np.testing.assert_allclose(
        robustness.shift(x, (1, 2), value_range=(0, 1)), x[:, rows][:, :, cols], atol=1e-6
    )


def test_token_corruptions_by_hand(token_ids):
    x = np.array([[5, 6, 7, 8, 0, 0], [9, 10, 0, 0, 0, 0]], dtype=np.int32)
    assert robustness.mask_tokens(x, [1, 3]).tolist() == [[5, 1, 7, 1, 0, 0], [9, 1, 0, 0, 0, 0]]
    assert robustness.delete_tokens(x, 1).tolist() == [[5, 7, 8, 0, 0, 0], [9, 0, 0, 0, 0, 0]]
    assert robustness.replace_tokens(x, 0, 42).tolist() == [
        [42, 6, 7, 8, 0, 0],
        [42, 10, 0, 0, 0, 0],
    ]
    masked = robustness.mask_tokens(token_ids, 0.5, seed=2)
    present = token_ids != 0
    changed = masked != token_ids
    assert masked.dtype == token_ids.dtype
    assert not (changed & ~present).any() and (masked[changed] == 1).all()
    expected = np.rint(0.5 * present.sum(axis=1))
    assert np.array_equal((masked == 1).sum(axis=1) - (token_ids == 1).sum(axis=1), expected)
    assert np.array_equal(masked, robustness.mask_tokens(token_ids, 0.5, seed=2))
    deleted = robustness.delete_tokens(token_ids, 0.25, seed=2)
    assert np.array_equal(
        (deleted != 0).sum(axis=1), present.sum(axis=1) - np.rint(0.25 * present.sum(axis=1))
    )


def test_series_corruptions():
    x = np.arange(2 * 5 * 2, dtype=np.float32).reshape(2, 5, 2)
    delayed = robustness.series_shift(x, 2)
    np.testing.assert_array_equal(delayed[:, :, 0], x[:, [0, 0, 0, 1, 2], 0])
    advanced = robustness.series_shift(x, -1)
    np.testing.assert_array_equal(advanced[:, :, 1], x[:, [1, 2, 3, 4, 4], 1])
    rng = np.random.default_rng(0)
    series = (rng.normal(size=(200, 20, 2)) * [1.0, 10.0]).astype(np.float32)
    noisy = robustness.series_noise(series, 0.1, seed=1, value_range=(-1e3, 1e3))
    measured = (noisy - series).std(axis=(0, 1))
    np.testing.assert_allclose(measured, 0.1 * series.std(axis=(0, 1)), rtol=0.05)


# ---------------------------------------------------------------------------------------------
# Attacks


def _linear_model():
    import keras

    model = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(2, activation="softmax", name="out")]
    )
    weights = np.array([[1.0, -1.0], [0.5, 2.0], [-1.5, 0.3], [0.2, 0.1], [-0.7, 0.9]], "float32")
    model.get_layer("out").set_weights([weights, np.array([0.1, -0.2], "float32")])
    return model, weights


def _numpy_probabilities(x, weights):
    logits = x.astype(np.float64) @ weights + [0.1, -0.2]
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def test_fgsm_equals_hand_gradient_on_linear_model():
    model, weights = _linear_model()
    x = np.random.default_rng(0).uniform(-1, 1, size=(20, 5)).astype(np.float32)
    y = np.arange(20) % 2
    info = robustness.fgsm(model, x, y, epsilon=0.3, value_range=(-10, 10))
    p = _numpy_probabilities(x, weights)
    gradient = (p - np.eye(2)[y]) @ weights.T
    np.testing.assert_allclose(info.perturbation, 0.3 * np.sign(gradient), atol=1e-6)
    assert info.linf <= 0.3 + 1e-6 and info.steps == 1 and info.method == "fgsm"
    adv_p = _numpy_probabilities(info.x_adv, weights)
    assert info.adversarial_accuracy == np.mean(adv_p.argmax(axis=1) == y)
    assert info.clean_accuracy == np.mean(p.argmax(axis=1) == y)
    # the loss rises on every sample (a linear model is an exact case for the sign step)
    assert (-np.log(adv_p[np.arange(20), y]) > -np.log(p[np.arange(20), y])).all()
    # by default a feature vector keeps each feature inside its own observed range
    clipped = robustness.fgsm(model, x, y, epsilon=0.3)
    low, high = x.min(axis=0), x.max(axis=0)
    assert np.all(clipped.x_adv >= low) and np.all(clipped.x_adv <= high)
    np.testing.assert_allclose(
        clipped.x_adv, np.clip(x + 0.3 * np.sign(gradient), low, high), atol=1e-6
    )
    np.testing.assert_array_equal(clipped.value_range, np.stack([low, high]))
    # a targeted attack moves against the target's loss gradient
    targeted = robustness.fgsm(model, x, y, epsilon=0.3, value_range=(-10, 10), target=1)
    toward = (p - np.eye(2)[np.ones(20, int)]) @ weights.T
    np.testing.assert_allclose(targeted.perturbation, -0.3 * np.sign(toward), atol=1e-6)


def _binary_heads():
    """The same linear score as a logit head (``Dense(1)``, keras.io's transfer-learning recipe)
    and as a sigmoid head, on 6x6x2 images."""
    import keras

    weights = np.random.default_rng(11).normal(size=72)
    heads = []
    for activation in (None, "sigmoid"):
        model = keras.Sequential(
            [
                keras.Input((6, 6, 2)),
                keras.layers.Flatten(),
                keras.layers.Dense(1, activation=activation, name="head"),
            ]
        )
        model.get_layer("head").set_weights(
            [weights[:, None].astype("float32"), np.array([0.2], "float32")]
        )
        heads.append(model)
    return heads, weights


def _logits(x, weights):
    return x.reshape(len(x), -1).astype(np.float64) @ weights + 0.2


def test_one_logit_binary_classifier_is_attacked_as_a_classifier():
    (logit_model, sigmoid_model), weights = _binary_heads()
    x = _images(3, shape=(30, 6, 6, 2))
    logit = _logits(x, weights)
    y = (logit + np.random.default_rng(12).normal(scale=1.0, size=30) > 0).astype(np.int64)
    accuracy = np.mean((logit > 0) == y)
    assert 0.5 < accuracy < 1.0
    for model in (logit_model, sigmoid_model):
        info = robustness.fgsm(model, x, y, epsilon=0.05, value_range=(-10, 10))
        assert info.task == "binary" and info.clean_accuracy == accuracy
        # d BCE / dx = (sigmoid(logit) - y) w: up the logit for y=0, down for y=1
        expected = 0.05 * np.sign(weights)[None] * (1 - 2 * y)[:, None]
        np.testing.assert_allclose(info.perturbation.reshape(30, -1), expected, atol=1e-6)
        adversarial = _logits(info.x_adv, weights)
        assert info.adversarial_accuracy == np.mean((adversarial > 0) == y)
        assert info.adversarial_accuracy < info.clean_accuracy
        np.testing.assert_allclose(
            info.clean_probabilities[:, 0], 1 / (1 + np.exp(-logit)), rtol=1e-5
        )
    # Without labels a logit head is a classifier when its loss says so, else a regression.
    saved = {"class_name": "BinaryCrossentropy", "config": {"from_logits": True}}
    unlabelled = robustness.fgsm(logit_model, x, epsilon=0.05, loss=saved)
    assert unlabelled.task == "binary" and unlabelled.clean_accuracy == 1.0
    assert robustness.fgsm(logit_model, x, epsilon=0.05).task == "regression"
    # One perturbed sample of a set whose labels made the head binary keeps the set's task.
    changed = robustness.perturbation_info(
        logit_model, x, 2, [("brightness", {"strength": 0.3})], task="binary"
    )
    brighter = robustness.brightness(x[2:3], 0.3, value_range=robustness.set_range(x))
    assert changed.task == "binary" and changed.original_prediction == int(logit[2] > 0)
    assert changed.perturbed_prediction == int(_logits(brighter, weights)[0] > 0)
    np.testing.assert_allclose(changed.original_output, [1 / (1 + np.exp(-logit[2]))], rtol=1e-5)
    # Continuous targets keep it a regression.
    regression = robustness.fgsm(logit_model, x, logit + 0.5, epsilon=0.05)
    assert regression.task == "regression" and regression.clean_accuracy is None
    assert regression.clean_error == pytest.approx(0.5, rel=1e-4)


def test_curves_of_a_one_logit_binary_classifier_threshold_its_probability():
    (logit_model, _), weights = _binary_heads()
    x = _images(4, shape=(40, 6, 6, 2))
    logit = _logits(x, weights)
    y = (logit > np.median(logit)).astype(np.int64)
    info = robustness.robustness_curves(
        logit_model,
        x,
        y,
        corruptions=["gaussian_noise"],
        strengths={"gaussian_noise": (0.0, 0.3)},
        attacks=(),
        value_range=(0, 1),
    )
    assert info.task == "binary" and info.metric == "accuracy"
    assert info.clean == np.mean((logit > 0) == y)
    noisy = robustness.gaussian_noise(x, 0.3, seed=0, value_range=(0, 1))
    strengths, values = info.curve_values("gaussian_noise")
    assert values[list(strengths).index(0.3)] == np.mean((_logits(noisy, weights) > 0) == y)


def test_labels_that_are_not_the_models_classes_are_not_scored(digits):
    model, x, y = digits
    with pytest.raises(InputError, match="not this model's classes"):
        robustness.robustness_curves(model, x[:10], y[:10] % 2, label_names=["a", "b"], attacks=())


def test_epsilon_arguments():
    model, _ = _linear_model()
    x = np.zeros((2, 5), np.float32) + [[0.0], [1.0]]
    with pytest.raises(InputError, match="exactly one"):
        robustness.fgsm(model, x)
    np.testing.assert_allclose(robustness.fgsm(model, x, epsilon_share=0.1).epsilon, [0.1] * 5)
    scalar = robustness.fgsm(model, x, epsilon_share=0.1, value_range=(0, 2))
    assert scalar.epsilon == pytest.approx(0.2) and scalar.feature_linf is None
    with pytest.raises(InputError, match="one per feature"):
        robustness.fgsm(model, x, epsilon=[0.1, 0.2])
    with pytest.raises(InputError, match="fixed features"):
        robustness.fgsm(model, x, epsilon=0.1, fixed_features=[7])


def _weather():
    from neurogenesis.io.models import load_model
    from neurogenesis.io.samples import load_samples

    samples = load_samples("data/samples/weather_lstm.npz")
    names = [str(name) for name in samples.extras["feature_names"]]
    return load_model("models/weather_lstm.keras"), samples, names


def test_calendar_and_constant_features_are_fixed_by_default():
    _, samples, names = _weather()
    assert robustness.default_fixed_features(samples.x, names) == (4, 5)  # day_of_year_sin/cos
    series = np.random.default_rng(0).normal(size=(4, 6, 3))
    series[:, :, 1] = np.arange(4)[:, None]  # a station id: constant within each sample
    assert robustness.default_fixed_features(series, ["a", "b", "c"]) == (1,)
    assert robustness.default_fixed_features(series, ["hour", "temp", "month_cos"]) == (0, 1, 2)
    table = np.random.default_rng(1).normal(size=(10, 3))
    table[:, 2] = 5.0  # the same in every row
    assert robustness.default_fixed_features(table, ["x", "weekday", "z"]) == (1, 2)
    assert robustness.default_fixed_features(table) == (2,)


@pytest.mark.parametrize("method", ["fgsm", "pgd"])
def test_series_attack_budget_is_per_feature(method, monkeypatch):
    """The weather demo: ε is a share of each feature's range, each value stays inside its
    feature's observed range, and the fixed (calendar) features do not move at all."""
    monkeypatch.setenv("NEUROGENESIS_MAX_STEPS", "4")
    model, samples, names = _weather()
    x, y = samples.x[:30], samples.y[:30]
    bounds = robustness.set_range(samples.x)
    low, high = samples.x.min(axis=(0, 1)), samples.x.max(axis=(0, 1))
    np.testing.assert_allclose(bounds[0], low) and np.testing.assert_allclose(bounds[1], high)
    attack = getattr(robustness, method)
    info = attack(model, x, y, epsilon_share=0.2, value_range=bounds, fixed_features=(4, 5))
    epsilon = 0.2 * (high.astype(np.float64) - low)
    epsilon[4:] = 0.0
    np.testing.assert_allclose(info.epsilon, epsilon)
    change = info.x_adv.astype(np.float64) - x
    # elementwise: |x_adv - x| <= ε_f, feature by feature (float32 rounding of the inputs)
    assert np.all(np.abs(change) <= epsilon + 1e-5)
    assert np.all(info.x_adv >= low) and np.all(info.x_adv <= high)
    np.testing.assert_array_equal(info.x_adv[..., 4:], x[..., 4:])  # exactly unchanged
    np.testing.assert_allclose(info.feature_linf, np.abs(change).max(axis=(0, 1)))
    # the budget is used on the moving features (the sign step reaches ε where not clipped)
    assert np.all(info.feature_linf[:4] > 0.5 * epsilon[:4])
    assert info.adversarial_error > info.clean_error
    # one ε over all features (the old behaviour) pushed day_of_year_cos far outside [-1, 1]
    old = attack(model, x, y, epsilon_share=0.2, value_range=robustness.value_range(samples.x))
    assert old.x_adv[..., 5].max() > 2.0


def test_pgd_on_digits(digits, monkeypatch):
    model, x, y = digits
    monkeypatch.setenv("NEUROGENESIS_MAX_STEPS", "8")
    epsilon = 0.1
    attack = robustness.pgd(model, x, y, epsilon=epsilon, steps=20)
    first = robustness.fgsm(model, x, y, epsilon=epsilon)
    assert attack.steps == 8 and attack.step_size == pytest.approx(2.5 * epsilon / 8)
    assert attack.linf <= epsilon + 1e-6
    assert attack.x_adv.min() >= 0 and attack.x_adv.max() <= 1
    rows = np.arange(len(y))

    def loss(info):
        return -np.log(np.maximum(info.adversarial_probabilities[rows, y], 1e-12)).mean()

    assert loss(attack) >= loss(first)
    outputs = graph.predict(model, attack.x_adv)
    assert attack.adversarial_accuracy == np.mean(outputs.argmax(axis=1) == y)
    assert attack.clean_accuracy == np.mean(graph.predict(model, x).argmax(axis=1) == y)
    # measured at epsilon 0.1 on 120 digits: clean 0.99, FGSM 0.66, PGD (8 steps) about 0.6
    assert attack.clean_accuracy > 0.95 and attack.adversarial_accuracy < 0.8
    again = robustness.pgd(model, x, y, epsilon=epsilon, steps=20)
    assert again == attack
    assert pickle.loads(pickle.dumps(attack)) == attack


def test_pgd_keeps_uint8_images(monkeypatch):
    from neurogenesis.io.models import load_model
    from neurogenesis.io.samples import load_samples

    monkeypatch.setenv("NEUROGENESIS_MAX_STEPS", "4")
    samples = load_samples("data/samples/shapes_cnn.npz")
    model, x, y = load_model("models/shapes_cnn.keras"), samples.x[:24], samples.y[:24]
    attack = robustness.pgd(model, x, y, epsilon=8)
    assert attack.x_adv.dtype == np.uint8
    assert np.abs(attack.x_adv.astype(int) - x.astype(int)).max() <= 8 and attack.linf <= 8
    outputs = graph.predict(model, attack.x_adv)
    assert attack.adversarial_accuracy == np.mean(outputs.argmax(axis=1) == y)
    assert attack.adversarial_accuracy < attack.clean_accuracy


def test_regression_attack_raises_error(monkeypatch):
    from neurogenesis.io.models import load_model
    from neurogenesis.io.samples import load_samples

    monkeypatch.setenv("NEUROGENESIS_MAX_STEPS", "4")
    samples = load_samples("data/samples/weather_lstm.npz")
    model, x, y = load_model("models/weather_lstm.keras"), samples.x[:40], samples.y[:40]
    attack = robustness.pgd(model, x, y, epsilon_share=0.02)
    assert attack.task == "regression" and attack.clean_accuracy is None
    clean = graph.predict(model, x).reshape(-1)
    assert attack.clean_error == pytest.approx(np.abs(clean - y).mean())
    adversarial = graph.predict(model, attack.x_adv).reshape(-1)
    assert attack.adversarial_error == pytest.approx(np.abs(adversarial - y).mean())
    assert attack.adversarial_error > attack.clean_error
    # without targets the attack moves away from the clean prediction (zero gradient there)
    unlabelled = robustness.fgsm(model, x, epsilon_share=0.02)
    assert unlabelled.clean_error == 0 and unlabelled.adversarial_error > 0


def test_token_model_is_refused(token_ids):
    from neurogenesis.io.models import load_model

    model = load_model("models/sentiment_transformer.keras")
    assert robustness.reason(model) is None and robustness.input_kind(model) == "text"
    assert "token ids" in robustness.reason(model, "attack")
    for attack in (robustness.fgsm, robustness.pgd):
        with pytest.raises(UnsupportedModelError, match="token ids"):
            attack(model, token_ids, epsilon=1)
    labels = np.asarray(graph.predict(model, token_ids).argmax(axis=1))
    info = robustness.robustness_curves(
        model, token_ids, labels, strengths={"mask_tokens": [0, 1.0]}
    )
    assert info.names == ("mask_tokens", "delete_tokens") and info.clean == 1.0
    assert info.curve_values("mask_tokens")[1][0] == 1.0


# ---------------------------------------------------------------------------------------------
# Curves


def test_curves_on_digits(digits, monkeypatch):
    model, x, y = digits
    monkeypatch.setenv("NEUROGENESIS_MAX_STEPS", "3")
    seen = []
    info = robustness.robustness_curves(
        model,
        x,
        y,
        corruptions=["gaussian_noise", "rotation"],
        epsilons=[0.0, 0.1],
        progress=seen.append,
    )
    assert info.names == ("gaussian_noise", "rotation", "fgsm", "pgd") and seen[-1] == 1.0
    clean = np.mean(graph.predict(model, x).argmax(axis=1) == y)
    assert info.clean == clean and info.metric == "accuracy"
    for name in info.names:
        strengths, values = info.curve_values(name)
        assert strengths[0] == 0 and values[0] == clean
    strengths, values = info.curve_values("gaussian_noise")
    assert values[-1] < clean
    noisy = robustness.gaussian_noise(x, strengths[-1], value_range=(0, 1))
    assert values[-1] == np.mean(graph.predict(model, noisy).argmax(axis=1) == y)
    weighted = np.nansum(info.per_class * info.class_counts, axis=1) / info.class_counts.sum()
    np.testing.assert_allclose(weighted, info.value, atol=1e-12)
    rows = {row["corruption"]: row for row in info.summary_rows()}
    row = rows["gaussian_noise"]
    quality = values / clean
    below = np.flatnonzero(quality < 0.9)
    assert row["breaks_at_strength"] == (strengths[below[0]] if len(below) else None)
    # five severities after 0: the mean over them ranks, severity 3 is the matched level
    assert len(strengths) == 1 + robustness.NUM_SEVERITIES
    assert row["mean"] == pytest.approx(values[1:].mean())
    assert row["at_middle"] == values[3] and row["middle"] == "10% of the value range"
    levels = ", ".join(f"{100 * v:.3g}%" for v in strengths[1:])
    assert row["levels"] == levels + " of the value range"
    assert info.units[info.names.index("fgsm")] == "ε (input units)"
    assert pickle.loads(pickle.dumps(info)) == info


def _curves(values: dict, units: dict, clean: float = 0.9, metric: str = "accuracy"):
    names = tuple(values)
    curve = np.concatenate([[i] * len(values[n][0]) for i, n in enumerate(names)])
    return robustness.RobustnessInfo(
        input_kind="image",
        task="classification",
        metric=metric,
        clean=clean,
        names=names,
        kinds=tuple("attack" if n in ("fgsm", "pgd") else "corruption" for n in names),
        units=tuple(units[n] for n in names),
        curve=curve.astype(np.int64),
        strength=np.concatenate([values[n][0] for n in names]).astype(np.float64),
        value=np.concatenate([values[n][1] for n in names]).astype(np.float64),
        per_class=None,
        class_counts=None,
        label_names=None,
        value_range=(0.0, 1.0),
    )


def test_summary_ranks_at_matched_severities_not_at_the_strongest_level():
    """Rotation collapses only at its (arbitrary) strongest level, noise loses accuracy at
    every level: at the strongest levels rotation looks worse, over the five severities noise is
    worse, and every level carries its unit."""
    units = robustness.STRENGTH_UNITS
    info = _curves(
        {
            "rotation": ([0, 5, 10, 20, 30, 45], [0.9, 0.9, 0.9, 0.88, 0.85, 0.1]),
            "gaussian_noise": ([0, 0.02, 0.05, 0.1, 0.2, 0.3], [0.9, 0.6, 0.5, 0.4, 0.3, 0.2]),
        },
        units,
    )
    rows = info.summary_rows()
    assert [row["corruption"] for row in rows] == ["gaussian_noise", "rotation"]
    noise, rotation = rows
    assert noise["mean"] == pytest.approx(np.mean([0.6, 0.5, 0.4, 0.3, 0.2]))
    assert rotation["mean"] == pytest.approx(np.mean([0.9, 0.9, 0.88, 0.85, 0.1]))
    assert noise["mean_change"] == pytest.approx(noise["mean"] - 0.9)
    assert noise["at_middle"] == 0.4 and noise["middle"] == "10% of the value range"
    assert rotation["at_middle"] == 0.88 and rotation["middle"] == "20 degrees"
    assert rotation["levels"] == "5, 10, 20, 30, 45 degrees"
    assert noise["levels"] == "2%, 5%, 10%, 20%, 30% of the value range"
    assert noise["breaks_at"] == "2% of the value range" and noise["breaks_at_strength"] == 0.02
    assert rotation["breaks_at"] == "45 degrees"
    # for an error, higher is worse
    error = _curves(
        {
            "rotation": ([0, 1, 2], [1.0, 1.1, 5.0]),
            "blur": ([0, 1, 2], [1.0, 3.5, 3.5]),
        },
        units,
        clean=1.0,
        metric="mean_absolute_error",
    )
    assert [row["corruption"] for row in error.summary_rows()] == ["blur", "rotation"]


def test_strength_text_states_the_unit():
    units = robustness.STRENGTH_UNITS
    assert robustness.strength_text(0.125, units["occlusion"]) == "12.5% of the image side"
    assert robustness.strength_text(2, units["shift"]) == "2 pixels"
    assert robustness.strength_text(0.04, robustness.FEATURE_EPSILON_UNIT) == (
        "4% of each feature's range"
    )
    assert robustness.strength_text(8, units["pgd"]) == "8 input units"
    for kind, corruptions in robustness.CORRUPTIONS.items():
        for name, (_, grid) in corruptions.items():
            assert grid[0] == 0 and len(grid) == 1 + robustness.NUM_SEVERITIES, (kind, name)
            assert name in units


def test_series_curves_per_feature_and_fixed(monkeypatch):
    monkeypatch.setenv("NEUROGENESIS_MAX_STEPS", "2")
    model, samples, _ = _weather()
    x, y = samples.x[:24], samples.y[:24]
    bounds = robustness.set_range(samples.x)
    info = robustness.robustness_curves(
        model,
        x,
        y,
        value_range=bounds,
        strengths={"series_noise": [0, 1.0], "fgsm": [0, 0.1], "pgd": [0, 0.1]},
        corruptions=["series_noise"],
        fixed_features=(4, 5),
    )
    assert info.units == (
        robustness.STRENGTH_UNITS["series_noise"],
        robustness.FEATURE_EPSILON_UNIT,
        robustness.FEATURE_EPSILON_UNIT,
    )
    np.testing.assert_allclose(info.value_range, np.stack(bounds))
    # the noise point equals noise with the calendar features left alone, clipped per feature
    noisy = robustness.series_noise(x, 1.0, value_range=bounds, fixed_features=(4, 5))
    assert np.all(noisy >= bounds[0]) and np.all(noisy <= bounds[1])
    np.testing.assert_array_equal(noisy[..., 4:], x[..., 4:])
    expected = np.abs(graph.predict(model, noisy).reshape(-1) - y).mean()
    assert info.curve_values("series_noise")[1][-1] == pytest.approx(expected, rel=1e-6)
    attack = robustness.fgsm(
        model, x, y, epsilon_share=0.1, value_range=bounds, fixed_features=(4, 5)
    )
    assert info.curve_values("fgsm")[1][-1] == pytest.approx(attack.adversarial_error, rel=1e-6)


# ---------------------------------------------------------------------------------------------
# One sample, perturbed by hand


def test_series_noise_scale_from_reference():
    rng = np.random.default_rng(3)
    whole = (rng.normal(size=(300, 10, 2)) * [1.0, 5.0]).astype(np.float32)
    one = whole[:1]
    noisy = robustness.series_noise(one, 0.2, seed=0, value_range=(-1e3, 1e3), reference=whole)
    expected = robustness.series_noise(one, 0.2, seed=0, value_range=(-1e3, 1e3)) - one
    # Same draws, scaled by the set's spread instead of the sample's own.
    ratio = whole.std(axis=(0, 1)) / one.std(axis=(0, 1))
    np.testing.assert_allclose(noisy - one, expected * ratio, rtol=1e-3, atol=1e-4)


def test_perturbation_info_chains_steps_and_predicts(digits):
    model, x, _ = digits
    steps = [
        ("brightness", {"strength": 0.0}),  # a no-op, dropped
        ("occlusion", {"top": 2, "left": 3, "size": 3}),
        ("gaussian_noise", {"strength": 0.1}),
    ]
    info = robustness.perturbation_info(model, x, 5, steps, seed=4)
    bounds = robustness.value_range(x)
    by_hand = robustness.occlusion(x[5:6], top=2, left=3, size=3, value_range=bounds)
    by_hand = robustness.gaussian_noise(by_hand, 0.1, seed=4, value_range=bounds)
    np.testing.assert_array_equal(info.perturbed, by_hand[0])
    np.testing.assert_array_equal(info.original, x[5])
    assert [name for name, _ in info.steps] == ["occlusion", "gaussian_noise"]
    outputs = np.asarray(graph.predict(model, np.stack([x[5], by_hand[0]])))
    np.testing.assert_allclose(info.original_output, outputs[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(info.perturbed_output, outputs[1], rtol=1e-5, atol=1e-6)
    assert info.original_prediction == int(outputs[0].argmax())
    assert info.perturbed_prediction == int(outputs[1].argmax())
    assert info.flipped == (info.original_prediction != info.perturbed_prediction)
    assert info.changed.shape == x[5].shape and info.changed.any()
    assert pickle.loads(pickle.dumps(info)) == info
    nothing = robustness.perturbation_info(model, x, 5, [("blur", {"strength": 0})])
    assert nothing.steps == () and not nothing.changed.any() and not nothing.flipped


def test_perturbation_info_tokens_and_errors(token_ids):
    from neurogenesis.io.models import load_model

    model = load_model("models/sentiment_transformer.keras")
    sample = token_ids[0]
    present = np.flatnonzero(sample != 0)
    info = robustness.perturbation_info(
        model,
        token_ids,
        0,
        [
            ("mask_tokens", {"positions": [int(present[0])]}),
            ("replace_tokens", {"position": int(present[1]), "token_id": 7}),
        ],
    )
    expected = sample.copy()
    expected[present[0]] = robustness.UNKNOWN_ID
    expected[present[1]] = 7
    np.testing.assert_array_equal(info.perturbed, expected)
    assert info.task == "classification" and info.original_output.shape == (2,)
    assert set(np.flatnonzero(info.changed)) <= {int(present[0]), int(present[1])}
    with pytest.raises(InputError, match="blur"):
        robustness.perturbation_info(model, token_ids, 0, [("blur", {"strength": 1.0})])
    with pytest.raises(InputError, match="index"):
        robustness.perturbation_info(model, token_ids, 10_000, [])
    with pytest.raises(InputError, match="parameters"):
        robustness.perturbation_info(model, token_ids, 0, [("replace_tokens", {"where": 1})])
