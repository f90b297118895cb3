"""Tests for neurogenesis.analysis.convergence."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from scipy import stats

from neurogenesis.analysis import convergence
from neurogenesis.errors import InputError


def _keras_replay(values, *, patience, goal, min_delta, baseline, restore, start_from_epoch):
    """Drive the real keras.callbacks.EarlyStopping through a history, as model.fit would."""
    import keras

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    callback = keras.callbacks.EarlyStopping(
        monitor="val_loss",
        patience=patience,
        mode=goal,
        min_delta=min_delta,
        baseline=baseline,
        restore_best_weights=restore,
        start_from_epoch=start_from_epoch,
    )
    callback.set_model(model)
    model.stop_training = False
    callback.on_train_begin()
    run = 0
    for epoch, value in enumerate(values):
        callback.on_epoch_end(epoch, logs={"val_loss": float(value)})
        run = epoch + 1
        if model.stop_training:
            break
    callback.on_train_end()
    stopped = callback.stopped_epoch if model.stop_training else None
    return stopped, callback.best_epoch, callback.best, run


def _random_history(rng, length):
    kind = rng.integers(4)
    if kind == 0:  # quantized noisy decay: many exact ties and min_delta edge cases
        values = np.round(np.exp(-np.arange(length) / 8) + rng.normal(0, 0.05, length), 2)
    elif kind == 1:  # random walk
        values = np.cumsum(rng.normal(0, 1, length))
    elif kind == 2:  # plateau of repeated values
        values = rng.choice([0.5, 0.51, 0.52, 0.6], size=length)
    else:
        values = rng.uniform(0, 1, length)
    nan_count = rng.integers(0, 4)
    values[rng.integers(0, length, nan_count)] = np.nan
    if rng.random() < 0.1:
        values[0] = np.nan
    if rng.random() < 0.1:
        values[rng.integers(length)] = np.inf
    return values


def test_early_stopping_matches_keras_callback():
    rng = np.random.default_rng(0)
    checked = stopped_count = 0
    for _ in range(250):
        length = int(rng.integers(1, 30))
        values = _random_history(rng, length)
        goal = str(rng.choice(["min", "max"]))
        settings = dict(
            patience=int(rng.integers(0, 6)),
            goal=goal,
            min_delta=float(rng.choice([0.0, 0.01, 0.02, 0.1, -0.01])),
            baseline=(
                None
                if rng.random() < 0.6
                else float(np.nanmedian(values) if np.isfinite(values).any() else 0.5)
            ),
            restore=bool(rng.random() < 0.3),
            start_from_epoch=int(rng.choice([0, 0, 0, 2])),
        )
        stopped, best_index, best_value, run = _keras_replay(values, **settings)
        epochs = np.arange(length) + 1  # labels differ from positions on purpose
        info = convergence.early_stopping(
            epochs,
            values,
            patience=settings["patience"],
            goal=goal,
            min_delta=settings["min_delta"],
            baseline=settings["baseline"],
            restore_best_weights=settings["restore"],
            start_from_epoch=settings["start_from_epoch"],
        )
        context = (values.tolist(), settings)
        assert info.stopped_index == stopped, context
        assert info.stopped_epoch == (None if stopped is None else stopped + 1), context
        assert info.best_index == best_index, context
        assert info.best_epoch == best_index + 1, context
        assert info.epochs_run == run, context
        if best_value is None:
            assert info.best_value is None
        elif math.isnan(best_value):
            assert math.isnan(info.best_value), context
        else:
            assert info.best_value == best_value, context
        checked += 1
        stopped_count += stopped is not None
    assert checked == 250
    assert 50 < stopped_count < 240  # both outcomes exercised


def test_early_stopping_documented_cases():
    values = [1.0, 0.5, 0.6, 0.7, 0.4, 0.8, 0.9, 1.0]
    info = convergence.early_stopping(range(8), values, patience=2)
    assert (info.stopped_epoch, info.best_epoch, info.best_value) == (3, 1, 0.5)
    assert info.restored_epoch == 3 and info.restored_value == 0.7
    restored = convergence.early_stopping(range(8), values, patience=2, restore_best_weights=True)
    assert restored.restored_epoch == 1 and restored.restored_value == 0.5
    # Never stops: patience larger than any stretch without improvement.
    assert convergence.early_stopping(range(8), values, patience=5).stopped_epoch is None
    # A NaN is a waiting epoch.
    nan_info = convergence.early_stopping(range(4), [1.0, math.nan, math.nan, 0.5], patience=2)
    assert nan_info.stopped_epoch == 2
    # Pickles and compares by value.
    assert pickle.loads(pickle.dumps(info)) == info
    assert info != restored
    with pytest.raises(InputError):
        convergence.early_stopping([], [], patience=1)
    with pytest.raises(InputError):
        convergence.early_stopping([0], [1.0], goal="auto")


def test_best_epoch_ignores_non_finite():
    epochs = np.array([10, 20, 30, 40])
    assert convergence.best_epoch(epochs, [math.nan, 0.3, -math.inf, 0.2]) == (40, 0.2)
    assert convergence.best_epoch(epochs, [0.1, 0.9, math.inf, 0.9], goal="max") == (20, 0.9)
    epoch, value = convergence.best_epoch(epochs, [math.nan] * 4)
    assert epoch is None and math.isnan(value)


def test_generalization_gap_signs():
    gap = convergence.generalization_gap([0, 1, 2], [1.0, 0.5, math.nan], [1.2, 0.9, 0.8])
    np.testing.assert_allclose(gap, [0.2, 0.4, math.nan])
    gap = convergence.generalization_gap([0, 1], [0.9, 0.95], [0.8, 0.85], goal="max")
    np.testing.assert_allclose(gap, [0.1, 0.1])


def _overfitting_curves(goal="min"):
    t = np.arange(40, dtype=float)
    train = np.exp(-t / 10)
    validation = 0.5 + (t - 20) ** 2 / 200  # best at epoch 20, worse afterwards
    if goal == "max":
        return t, 1 - train, 1 - validation
    return t, train, validation


def test_overfitting_onset_known_by_construction():
    t, train, validation = _overfitting_curves()
    assert convergence.overfitting_onset(t, train, validation, window=1) == 20
    # A trailing mean of 3 puts the smoothed minimum at epoch 21.
    assert convergence.overfitting_onset(t, train, validation, window=3) == 21
    t, train, validation = _overfitting_curves("max")
    assert convergence.overfitting_onset(t, train, validation, goal="max", window=1) == 20


def test_overfitting_onset_none_without_overfitting():
    t = np.arange(40, dtype=float)
    train = np.exp(-t / 10)
    validation = 0.1 + np.exp(-t / 12)
    assert convergence.overfitting_onset(t, train, validation) is None
    # Validation getting worse while training also gets worse is not overfitting.
    assert convergence.overfitting_onset(t, 1 + t / 10, 2 + t / 5) is None


def test_overfitting_onset_on_real_demo_logs():
    from neurogenesis.io.logs import find_runs

    runs = [
        run
        for run in find_runs("data/runs/digits_cnn")
        if {"train/loss", "validation/loss"} <= set(run.scalars)
    ]
    assert runs
    for run in runs:
        train, validation = run.scalars["train/loss"], run.scalars["validation/loss"]
        onset = convergence.overfitting_onset(train.steps, train.values, validation.values)
        assert onset is None or onset in set(train.steps.tolist())
        info = convergence.early_stopping(validation.steps, validation.values, patience=100)
        assert info.stopped_epoch is None
        assert (info.best_epoch, info.best_value) == convergence.best_epoch(
            validation.steps, validation.values
        )
        conv = convergence.convergence_info(train.steps, train.values)
        assert conv.divergence_epoch is None
        assert np.isfinite(conv.asymptote)


def test_plateau_found_where_constructed():
    t = np.arange(26)
    values = np.where(t <= 10, 15.0 - t, 5.0)
    values = np.where(t > 20, 5.0 - 0.5 * (t - 20), values)
    assert convergence.plateau(t, values, window=3, tolerance=0.01) == [(10, 20)]
    values[15] = math.nan
    assert convergence.plateau(t, values, window=3, tolerance=0.01) == [(10, 14), (16, 20)]
    assert convergence.plateau(t, 15.0 - t, window=3, tolerance=0.01) == []


def test_convergence_fit_recovers_exact_exponential():
    a, b, tau = 0.25, 2.0, 7.0
    epochs = np.arange(5, 65, dtype=float)  # starts at 5: the fit's origin is the first epoch
    values = a + b * np.exp(-(epochs - 5) / tau)
    info = convergence.convergence_info(epochs, values)
    assert info.fit_succeeded
    for got, want in ((info.a, a), (info.b, b), (info.tau, tau)):
        assert abs(got - want) <= 1e-6 * abs(want)
    assert info.convergence_epoch == pytest.approx(5 + tau * math.log(100), rel=1e-6)
    assert info.converged and info.divergence_epoch is None
    np.testing.assert_allclose(info.fitted_values, values, rtol=1e-6)
    np.testing.assert_allclose(info.difference[1:], np.diff(values))
    np.testing.assert_allclose(info.relative_change[1:], np.diff(values) / values[:-1])
    assert pickle.loads(pickle.dumps(info)) == info
    # Not converged yet when the data stop before tau * ln(100).
    early = convergence.convergence_info(epochs[:20], values[:20])
    assert early.fit_succeeded and not early.converged


def test_convergence_fit_noisy_and_increasing():
    rng = np.random.default_rng(1)
    epochs = np.arange(80, dtype=float)
    values = 0.1 + 1.5 * np.exp(-epochs / 10) + rng.normal(0, 0.01, epochs.size)
    info = convergence.convergence_info(epochs, values)
    assert info.fit_succeeded
    assert info.a == pytest.approx(0.1, abs=0.01)
    assert info.tau == pytest.approx(10, rel=0.1)
    assert info.convergence_epoch == pytest.approx(10 * math.log(100), rel=0.1)
    accuracy = 0.98 - 0.5 * np.exp(-epochs / 6)
    info = convergence.convergence_info(epochs, accuracy, goal="max")
    assert info.asymptote == pytest.approx(0.98, rel=1e-6)


def test_diverged_run_reports_divergence():
    epochs = np.arange(30, dtype=float)
    values = 0.2 + np.exp(-epochs / 4)
    values[18:] = np.nan
    assert convergence.divergence_epoch(epochs, values) == 18
    info = convergence.convergence_info(epochs, values)
    assert info.divergence_epoch == 18
    assert info.fit_succeeded and info.a == pytest.approx(0.2, rel=1e-5)
    spiking = np.array([1.0, 0.5, 0.2, 0.3, 2.5, 0.1])
    assert convergence.divergence_epoch(np.arange(6), spiking) == 4
    assert convergence.divergence_epoch(np.arange(6), spiking, goal="max") is None
    assert convergence.divergence_epoch(np.arange(3), [1.0, math.inf, 0.5]) == 1
    # All NaN: nothing to fit, still no exception.
    info = convergence.convergence_info(np.arange(3), [math.nan] * 3)
    assert info.divergence_epoch == 0 and not info.fit_succeeded and not info.converged


def test_convergence_fallback_without_exponential():
    epochs = np.arange(6, dtype=float)
    values = np.array([1.0, 0.5, 0.3, 0.3, 0.3, 0.3])
    info = convergence.convergence_info(epochs[:3], values[:3])  # too few points to fit
    assert not info.fit_succeeded and info.asymptote == 0.3 and math.isnan(info.tau)
    assert info.convergence_epoch == 2.0 and info.converged


@pytest.mark.parametrize("method", ["pearson", "spearman", "kendall"])
def test_metric_correlations_match_scipy(method):
    rng = np.random.default_rng(2)
    loss = np.exp(-np.arange(30) / 5) + rng.normal(0, 0.05, 30)
    accuracy = 1 - loss + rng.normal(0, 0.05, 30)
    learning_rate = rng.uniform(size=30)
    loss[3] = math.nan
    learning_rate[7] = math.inf
    info = convergence.metric_correlations(
        {"loss": loss, "accuracy": accuracy, "lr": learning_rate}, method=method
    )
    keep = np.isfinite(loss) & np.isfinite(learning_rate)
    data = np.vstack([loss[keep], accuracy[keep], learning_rate[keep]])
    if method == "pearson":
        expected = np.corrcoef(data)
    elif method == "spearman":
        expected = stats.spearmanr(data, axis=1)[0]
    else:
        expected = np.array([[stats.kendalltau(x, y)[0] for y in data] for x in data])
    assert info.names == ("loss", "accuracy", "lr") and info.num_points == 28
    np.testing.assert_allclose(info.matrix, expected, atol=1e-12)
    assert info.matrix[0, 1] < -0.5


def test_metric_correlations_bad_input():
    with pytest.raises(InputError):
        convergence.metric_correlations({"a": [1, 2]}, method="cosine")
    with pytest.raises(InputError):
        convergence.metric_correlations({"a": [1, 2], "b": [1, 2, 3]})
    info = convergence.metric_correlations({"a": [1.0, 2.0, 3.0], "b": [2.0, 2.0, 2.0]})
    assert math.isnan(info.matrix[0, 1]) and info.matrix[0, 0] == 1.0
