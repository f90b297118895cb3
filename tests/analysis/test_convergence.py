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
        if run.name.endswith("diverging"):  # the story run made to diverge (zoo.digits)
            lowest = np.minimum.accumulate(train.values)
            jumps = np.flatnonzero(train.values[1:] > 10 * lowest[:-1]) + 1
            assert conv.divergence_epoch == train.steps[jumps[0]] == 5  # 36.8 after 0.89
            continue
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


def test_convergence_without_a_fit_estimates_nothing():
    epochs = np.arange(3, dtype=float)
    info = convergence.convergence_info(epochs, [1.0, 0.5, 0.3])  # too few points to fit
    assert not info.fit_succeeded and info.asymptote == 0.3 and math.isnan(info.tau)
    # A curve still falling at its last point has not converged there: no epoch is claimed.
    assert info.convergence_epoch is None and not info.converged
    assert info.epochs_to_converge is None


def test_a_good_fit_recovers_its_parameters_and_is_kept():
    # Hand-made: 0.3 + 1.7 exp(-t / 3) over 24 epochs with noise of 0.004 (seeded).
    epochs = np.arange(24, dtype=float)
    noise = np.random.default_rng(3).normal(0.0, 0.004, epochs.size)
    info = convergence.convergence_info(epochs, 0.3 + 1.7 * np.exp(-epochs / 3) + noise)
    assert info.fit_succeeded and info.fit_problem == ""
    assert info.a == pytest.approx(0.3, abs=0.005)
    assert info.b == pytest.approx(1.7, rel=0.02) and info.tau == pytest.approx(3.0, rel=0.03)
    # The tail noise estimate sees the noise that was put in (second differences: 6 s^2).
    assert 0.002 < info.tail_noise < 0.008
    assert info.convergence_epoch == pytest.approx(info.tau * math.log(100), rel=1e-9)


def test_a_fit_that_misses_the_last_points_is_rejected_with_its_reason():
    # The demo's digits_cnn/adam validation loss: the bounded exponential pins its asymptote at
    # ~0 and runs ~0.16 above the last points, whose point-to-point noise is ~0.02.
    values = np.array(
        [2.105, 1.974, 1.801, 1.586, 1.313, 1.009, 0.7033, 0.4378, 0.2481, 0.1322, 0.0718, 0.04056]
    )
    epochs = np.arange(values.size, dtype=float)
    info = convergence.convergence_info(epochs, values)
    assert not info.fit_succeeded
    assert np.isnan(info.fitted_values).all() and math.isnan(info.a)
    assert info.convergence_epoch is None and not info.converged
    assert "last 4 points" in info.fit_problem and "noise" in info.fit_problem
    assert info.fit_failure_reason == info.fit_problem
    # By hand: the noise is judged on the last 8 points' second differences (variance 6 s^2).
    expected_noise = math.sqrt(np.mean(np.diff(values[-8:], 2) ** 2) / 6)
    assert info.tail_noise == pytest.approx(expected_noise, rel=1e-12)
    assert "runs above the last 4 points" in info.fit_problem  # the fit lies above the data
    # Independently: without the loss's bound at 0, least squares puts the asymptote below zero,
    # which a loss cannot reach; with it, the asymptote sits on the bound. Either way the
    # exponential does not describe where this curve levels off.
    from scipy import optimize

    def model(t, a, b, tau):
        return a + b * np.exp(-t / tau)

    params, _ = optimize.curve_fit(model, epochs, values, p0=(0.0, 2.0, 4.0), maxfev=20000)
    assert params[0] < 0


def test_an_asymptote_outside_what_the_data_allow_is_rejected():
    # A straight fall: an exponential fits it with an asymptote far below every value seen.
    epochs = np.arange(10, dtype=float)
    values = 10.0 - 0.5 * epochs - 0.001 * epochs**2
    info = convergence.convergence_info(epochs, values)
    assert not info.fit_succeeded and info.convergence_epoch is None
    assert info.fit_failure_reason


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


# --- early_stopping_report -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "goal"),
    [
        ("loss", "min"),
        ("val_loss", "min"),
        ("train/loss", "min"),
        ("epoch_loss", "min"),
        ("mean_absolute_error", "min"),
        ("MeanSquaredError", "min"),
        ("val_mse", "min"),
        ("rmse", "min"),
        ("categorical_crossentropy", "min"),
        ("kl_divergence", "min"),
        ("squared_hinge", "min"),
        ("perplexity", "min"),
        ("false_positives", "min"),
        ("iou_loss", "min"),  # a loss word wins over IoU
        ("accuracy", "max"),
        ("val_acc", "max"),
        ("validation/accuracy", "max"),
        ("val_sparse_categorical_accuracy", "max"),
        ("top_k_categorical_accuracy", "max"),
        ("AUC", "max"),
        ("precision", "max"),
        ("recall", "max"),
        ("F1Score", "max"),
        ("r2_score", "max"),
        ("mean_iou", "max"),
        ("cosine_similarity", "max"),
        ("true_positives", "max"),
        ("learning_rate", None),
        ("gradient_norm/global", None),
        ("", None),
    ],
)
def test_metric_goal_table(name, goal):
    assert convergence.metric_goal(name) == goal


def test_report_overfitting_run_known_by_construction():
    t, train, validation = _overfitting_curves()  # validation best at 20, onset 21 (window 3)
    report = convergence.early_stopping_report(t, train, validation, patience=5)
    assert report.goal == "min" and report.monitored == "validation"
    assert (report.best_epoch, report.best_value) == (20.0, 0.5)
    stopping = report.early_stopping
    # Epochs 21..25 do not improve: the wait counter reaches 5 at the end of epoch 25.
    assert (stopping.stopped_epoch, stopping.restored_epoch, stopping.epochs_run) == (25, 20, 26)
    assert report.epochs_saved == 14
    assert report.overfitting_onset == 21
    assert report.plateaus == () and report.divergence_epoch is None
    np.testing.assert_allclose(report.gap, validation - train)
    assert not report.gap_widening[0]
    np.testing.assert_array_equal(report.gap_widening[1:], np.diff(validation - train) > 0)
    gap_21, gap_39 = 0.505 - math.exp(-2.1), 0.5 + 19**2 / 200 - math.exp(-3.9)
    assert report.findings == (
        "Best validation loss 0.5 at epoch 20.",
        "EarlyStopping(monitor='val_loss', patience=5) would have stopped after epoch 25 "
        "(14 of 40 epochs saved) and restored the weights of epoch 20 (validation loss 0.5).",
        f"The gap between validation and training loss widens from epoch 21 on ({gap_21:.4g} "
        f"there, {gap_39:.4g} at epoch 39): the model starts to overfit there.",
    )
    assert report.verdict == "Overfits from epoch 21; the best weights are those of epoch 20."
    assert pickle.loads(pickle.dumps(report)) == report
    assert report != convergence.early_stopping_report(t, train, validation, patience=6)


def test_report_accuracy_goal_inferred_and_gap_signed():
    t, train, validation = _overfitting_curves("max")
    report = convergence.early_stopping_report(t, train, validation, metric="accuracy")
    assert report.goal == "max"
    assert (report.best_epoch, report.best_value) == (20.0, 0.5)
    assert report.overfitting_onset == 21
    np.testing.assert_allclose(report.gap, train - validation)
    assert report.findings[0] == "Best validation accuracy 0.5 at epoch 20."
    assert report.findings[2].startswith(
        "The gap between training and validation accuracy widens from epoch 21 on"
    )


def test_report_training_only_plateau_at_the_end_with_spaced_steps():
    steps = 100 * np.arange(20) + 100  # 100, 200, ..., 2000
    values = np.maximum(10.0 - np.arange(20), 1.0)  # 10, 9, ..., 1 at step 1000, then flat
    report = convergence.early_stopping_report(steps, train_values=values)
    assert report.monitored == "train" and report.gap is None and report.gap_widening is None
    assert report.overfitting_onset is None
    assert (report.best_epoch, report.best_value) == (1000, 1.0)
    assert report.early_stopping.stopped_epoch == 1500 and report.epochs_saved == 5
    assert report.plateaus == ((1000, 2000),)
    assert report.findings == (
        "Best training loss 1 at epoch 1000.",
        "EarlyStopping(monitor='loss', patience=5) would have stopped after epoch 1500 "
        "(5 of 20 epochs saved) and restored the weights of epoch 1000 (training loss 1).",
        "Training loss is flat (within 1% over 5 epochs) from epoch 1000 to 2000.",
    )
    assert report.verdict == (
        "Stopped improving after epoch 1000: early stopping would save 5 of 20 epochs."
    )
    kept = convergence.early_stopping_report(steps, values, restore_best_weights=False)
    assert "kept the weights of epoch 1500 (training loss 1)" in kept.findings[1]


def test_report_still_improving_and_several_plateaus():
    t = np.arange(12)
    values = 1.0 / (1.0 + t)
    report = convergence.early_stopping_report(t, values, values + 0.1)
    assert report.early_stopping.stopped_epoch is None and report.epochs_saved == 0
    assert report.findings[0] == (
        "Best validation loss 0.1833 at epoch 11, the last epoch logged: it was still improving "
        "when training ended."
    )
    assert report.findings[1] == (
        "EarlyStopping(monitor='val_loss', patience=5) would not have stopped: validation loss "
        "never went 5 epochs in a row without improving."
    )
    assert report.findings[2] == (
        "No overfitting found: validation loss keeps up with training loss (gap 0.1 at epoch 11)."
    )
    assert report.verdict.startswith("Still improving at the end (best at epoch 11)")
    stairs = np.repeat([4.0, 3.0, 2.0], 4)
    report = convergence.early_stopping_report(
        t, stairs, plateau_window=2, patience=1, min_delta=0.5
    )
    assert report.plateaus == ((0, 3), (4, 7), (8, 11))
    assert report.findings[-1] == (
        "Training loss is flat (within 1% over 2 epochs) at epochs 0–3, 4–7 and 8–11."
    )
    assert "EarlyStopping(monitor='loss', patience=1, min_delta=0.5)" in report.findings[1]


def test_report_diverged_runs():
    t = np.arange(15)
    train = np.exp(-t / 4)
    validation = train + 0.05
    train[9:] = np.nan
    validation[10:] = np.inf
    report = convergence.early_stopping_report(t, train, validation)
    assert report.divergence_epoch == 9 and report.divergence_series == "train"
    assert math.isnan(report.divergence_value)
    assert "Training diverged at epoch 9 (NaN loss)." in report.findings
    assert report.verdict.startswith("Diverged at epoch 9")
    # The validation series blowing up first is named as such.
    report = convergence.early_stopping_report(t, np.exp(-t / 4), validation)
    assert (report.divergence_epoch, report.divergence_series) == (10, "validation")
    assert report.findings[-1] == "Training diverged at epoch 10 (Inf validation loss)."
    # A finite blow-up: ten times the lowest value so far.
    spiking = np.array([1.0, 0.5, 0.2, 0.3, 2.5, 0.1])
    report = convergence.early_stopping_report(np.arange(6), spiking)
    assert (report.divergence_epoch, report.divergence_value) == (4, 2.5)
    assert report.findings[-1] == (
        "Training diverged at epoch 4: training loss jumped to 2.5, more than 10× its lowest "
        "value so far (0.2)."
    )
    # Nothing finite at all: reported, not an error.
    report = convergence.early_stopping_report(np.arange(3), [math.nan] * 3)
    assert report.best_epoch is None and math.isnan(report.best_value)
    assert report.findings[0] == "No finite training loss to judge: every value is NaN or Inf."
    assert report.verdict == "No finite values: nothing to judge."


def test_report_bad_input():
    with pytest.raises(InputError, match="neither"):
        convergence.early_stopping_report([0, 1])
    with pytest.raises(InputError, match="learning_rate"):
        convergence.early_stopping_report([0, 1], [1.0, 2.0], metric="learning_rate")
    report = convergence.early_stopping_report([0, 1], [1.0, 2.0], metric="lr", goal="max")
    assert report.best_epoch == 1
    with pytest.raises(InputError, match="strictly increasing"):
        convergence.early_stopping_report([0, 2, 1], [1.0, 2.0, 3.0])
    with pytest.raises(InputError, match="as many epochs"):
        convergence.early_stopping_report([0, 1], [1.0, 2.0], [1.0])
    with pytest.raises(InputError):
        convergence.early_stopping_report([], [])


def test_report_on_demo_logs():
    from neurogenesis.io.logs import find_runs

    (run,) = find_runs("data/runs/digits_cnn/adam")
    scalars = run.scalars
    for metric, pick in (("loss", np.argmin), ("accuracy", np.argmax)):
        train, validation = scalars[f"train/{metric}"], scalars[f"validation/{metric}"]
        report = convergence.early_stopping_report(
            train.steps, train.values, validation.values, metric=metric
        )
        index = int(pick(validation.values))
        assert report.best_epoch == train.steps[index]
        assert report.best_value == validation.values[index]
        assert report.divergence_epoch is None
        assert report.findings[0].startswith(f"Best validation {metric} ")
        onset = convergence.overfitting_onset(
            train.steps, train.values, validation.values, goal=report.goal
        )
        assert report.overfitting_onset == onset


# --- ConvergenceInfo helpers -----------------------------------------------------------------


def test_convergence_info_remaining_epochs_and_curve():
    a, b, tau = 0.25, 2.0, 7.0
    epochs = np.arange(5, 65, dtype=float)
    values = a + b * np.exp(-(epochs - 5) / tau)
    info = convergence.convergence_info(epochs, values)
    assert info.epochs_to_converge == 0.0 and info.fit_failure_reason is None
    np.testing.assert_allclose(info.curve(epochs), info.fitted_values)
    grid = np.linspace(5, 100, 7)
    np.testing.assert_allclose(info.curve(grid), a + b * np.exp(-(grid - 5) / tau), rtol=1e-6)
    early = convergence.convergence_info(epochs[:20], values[:20])  # last epoch 24
    assert early.last_usable_epoch == 24.0
    assert early.epochs_to_converge == pytest.approx(5 + tau * math.log(100) - 24, rel=1e-6)
    few = convergence.convergence_info([0, 1, 2], [1.0, 0.5, 0.3])
    assert few.fit_failure_reason == "only 3 usable epochs (at least 4 needed)"
    assert np.isnan(few.curve([0, 1])).all()
    diverged = np.where(epochs < 20, values, np.nan)
    info = convergence.convergence_info(epochs, diverged)
    assert info.last_usable_epoch == 19.0
    np.testing.assert_array_equal(info.usable, epochs < 20)
    nothing = convergence.convergence_info([0, 1], [math.nan, math.nan])
    assert nothing.last_usable_epoch is None and nothing.epochs_to_converge is None


# --- trajectory_info -------------------------------------------------------------------------


def test_trajectory_linear_motion_has_constant_velocity_with_uneven_spacing():
    t = np.array([0.0, 1.0, 3.0, 4.0, 7.0, 12.0])
    info = convergence.trajectory_info(t, 2 * t + 1, 0.9 - 0.05 * t, x_name="loss", y_name="acc")
    expected = np.tile([2.0, -0.05], (t.size, 1))
    np.testing.assert_allclose(info.velocity, expected)
    np.testing.assert_allclose(info.momentum, expected)
    assert (info.x_scale, info.y_scale) == (24.0, pytest.approx(0.6))
    # Standardised: 2 / 24 and 0.05 / 0.6 of the range per epoch.
    np.testing.assert_allclose(info.speed, math.hypot(2 / 24, 0.05 / 0.6))
    assert info.finite.all() and info.dropped_epochs.size == 0
    assert pickle.loads(pickle.dumps(info)) == info


def test_trajectory_momentum_is_a_centred_mean_cut_short_at_the_ends():
    t = np.arange(6, dtype=float)
    x = t**2  # velocity 2t inside (central differences are exact for a parabola)
    info = convergence.trajectory_info(t, x, np.zeros(6), x_name="x", y_name="y", window=3)
    velocity = np.array([1.0, 2.0, 4.0, 6.0, 8.0, 9.0])  # one-sided at the ends: 1-0, 25-16
    np.testing.assert_allclose(info.velocity[:, 0], velocity)
    np.testing.assert_allclose(info.velocity[:, 1], 0.0)
    momentum = [(1 + 2) / 2, (1 + 2 + 4) / 3, 4.0, 6.0, (6 + 8 + 9) / 3, (8 + 9) / 2]
    np.testing.assert_allclose(info.momentum[:, 0], momentum)
    assert info.y_scale == 1.0  # a constant metric keeps its units
    np.testing.assert_allclose(info.speed, np.abs(momentum) / 25)
    wide = convergence.trajectory_info(t, x, np.zeros(6), x_name="x", y_name="y", window=5)
    np.testing.assert_allclose(wide.momentum[0, 0], (1 + 2 + 4) / 3)
    np.testing.assert_allclose(wide.momentum[2, 0], (1 + 2 + 4 + 6 + 8) / 5)
    none = convergence.trajectory_info(t, x, np.zeros(6), x_name="x", y_name="y", window=1)
    np.testing.assert_array_equal(none.momentum, none.velocity)
    for window in (0, 2, 1.5):
        with pytest.raises(InputError, match="odd window"):
            convergence.trajectory_info(t, x, x, x_name="x", y_name="y", window=window)


def test_trajectory_drops_non_finite_points_from_derivatives():
    t = np.array([0.0, 1.0, 2.0, 4.0, 5.0])
    x = t**2
    y = -t
    x[2] = math.nan
    y[4] = math.inf
    info = convergence.trajectory_info(t, x, y, x_name="x", y_name="y")
    np.testing.assert_array_equal(info.finite, [True, True, False, True, False])
    np.testing.assert_array_equal(info.dropped_epochs, [2.0, 5.0])
    assert np.isnan(info.velocity[[2, 4]]).all() and np.isnan(info.speed[[2, 4]]).all()
    # The neighbours of a dropped point are differenced directly: points at 0, 1 and 4 only.
    kept = convergence.trajectory_info(
        t[[0, 1, 3]], x[[0, 1, 3]], y[[0, 1, 3]], x_name="x", y_name="y"
    )
    np.testing.assert_allclose(info.velocity[[0, 1, 3]], kept.velocity)
    np.testing.assert_allclose(info.velocity[[0, 1, 3], 0], [1.0, 2.0, 5.0])
    lonely = convergence.trajectory_info(
        t, [1, math.nan, math.nan, math.nan, math.nan], y, x_name="x", y_name="y"
    )
    assert np.isnan(lonely.velocity).all() and np.isnan(lonely.speed).all()
    with pytest.raises(InputError, match="strictly increasing"):
        convergence.trajectory_info([0, 0, 1], [1, 2, 3], [1, 2, 3], x_name="x", y_name="y")


def test_report_gap_widening_ignores_rounding():
    t = np.arange(15, dtype=float)
    train = np.exp(-t / 4)
    report = convergence.early_stopping_report(t, train, train + 0.05)  # constant gap
    assert not report.gap_widening.any()
    report = convergence.early_stopping_report(t, train, train + 0.01 * t)
    np.testing.assert_array_equal(report.gap_widening, t > 0)


def test_a_late_bending_loss_does_not_converge_below_zero():
    # The demo's validation loss: flat, then falling fast, then flattening near 0.04. An unbounded
    # exponential fits it with an asymptote near -0.76; a loss that never went below 0 cannot,
    # and the bounded one (asymptote pinned at 0) misses the flattening tail: no fit is claimed.
    epochs = np.arange(12)
    values = 0.04 + 2.05 / (1.0 + np.exp((epochs - 4.5) / 1.3))
    info = convergence.convergence_info(epochs, values, "min")
    assert not info.fit_succeeded and info.fit_problem and info.convergence_epoch is None
    assert info.asymptote == pytest.approx(values.min())  # the best value seen, not an estimate
    accuracy = convergence.convergence_info(epochs, 1.0 - values / 2.2, "max")
    assert not accuracy.fit_succeeded or accuracy.asymptote <= 1.0
