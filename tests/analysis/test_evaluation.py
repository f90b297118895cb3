"""Tests for neurogenesis.analysis.evaluation: metrics against sklearn/scipy and hand computations."""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics

from neurogenesis.analysis import evaluation
from neurogenesis.analysis.features import PredictionInfo
from neurogenesis.errors import InputError, UnsupportedModelError

ROOT = Path(__file__).resolve().parents[2]
RNG_SEED = 7


def _random_classification(n: int = 300, k: int = 4, seed: int = RNG_SEED):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[labels]
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return labels, probabilities


# ---------------------------------------------------------------------------- confusion


def test_confusion_matches_sklearn():
    labels, probabilities = _random_classification(k=5)
    predicted = probabilities.argmax(axis=1)
    # A class never predicted and never true exercises zero_division.
    labels[labels == 4] = 3
    predicted[predicted == 4] = 0
    info = evaluation.confusion_info(labels, predicted, 5, list("abcde"))
    np.testing.assert_array_equal(
        info.matrix, metrics.confusion_matrix(labels, predicted, labels=range(5))
    )
    for average in (None, "macro", "weighted"):
        p, r, f, s = metrics.precision_recall_fscore_support(
            labels, predicted, labels=range(5), average=average, zero_division=0
        )
        if average is None:
            np.testing.assert_allclose(info.precision, p)
            np.testing.assert_allclose(info.recall, r)
            np.testing.assert_allclose(info.f1, f)
            np.testing.assert_array_equal(info.support, s)
        else:
            got = [getattr(info, f"{average}_{name}") for name in ("precision", "recall", "f1")]
            np.testing.assert_allclose(got, [p, r, f])
    assert info.accuracy == pytest.approx(metrics.accuracy_score(labels, predicted))
    cell = info.indices(1, 2)
    np.testing.assert_array_equal(
        cell, [i for i in range(len(labels)) if labels[i] == 1 and predicted[i] == 2]
    )
    assert len(cell) == info.matrix[1, 2]
    assert pickle.loads(pickle.dumps(info)) == info


def test_confusion_rejects_bad_input():
    with pytest.raises(InputError, match="between 0 and 2"):
        evaluation.confusion_info([0, 3], [0, 1], 3)
    with pytest.raises(InputError, match="lengths"):
        evaluation.confusion_info([0, 1], [0], 3)
    with pytest.raises(InputError, match="class names"):
        evaluation.confusion_info([0, 1], [0, 1], 3, ["a"])


def test_confident_mistakes_sorted_by_confidence():
    labels, probabilities = _random_classification()
    predicted = probabilities.argmax(axis=1)
    predictions = PredictionInfo(
        outputs=probabilities,
        task="classification",
        predicted=predicted,
        confidence=probabilities.max(axis=1),
        labels=labels,
        correct=predicted == labels,
        errors=None,
        label_names=None,
        num_classes=4,
    )
    mistakes = evaluation.confident_mistakes(predictions, k=5)
    wrong = [i for i in range(len(labels)) if predicted[i] != labels[i]]
    expected = sorted(wrong, key=lambda i: -probabilities[i].max())[:5]
    np.testing.assert_array_equal(mistakes.indices, expected)
    np.testing.assert_allclose(mistakes.confidence, probabilities[expected].max(axis=1))
    np.testing.assert_array_equal(mistakes.true, labels[expected])
    np.testing.assert_array_equal(mistakes.predicted, predicted[expected])
    assert mistakes.num_wrong == len(wrong)


# ---------------------------------------------------------------------------- calibration


def test_ece_by_hand():
    # Confidences 0.9 (right), 0.9 (wrong), 0.6 (right), 0.55 (wrong).
    probabilities = np.array([[0.9, 0.1], [0.9, 0.1], [0.4, 0.6], [0.55, 0.45]])
    labels = np.array([0, 1, 1, 1])
    info = evaluation.calibration_info(probabilities, labels, num_bins=2)
    # Bin (0, 0.5]: empty. Bin (0.5, 1]: all four, confidence (0.9+0.9+0.6+0.55)/4 = 0.7375,
    # accuracy 2/4.
    np.testing.assert_array_equal(info.counts, [0, 4])
    assert info.ece == pytest.approx(abs(0.5 - 0.7375))
    assert info.mce == pytest.approx(0.2375)
    info = evaluation.calibration_info(probabilities, labels, num_bins=4)
    # Bins (0.5, 0.75]: 0.6 right, 0.55 wrong -> acc 0.5, conf 0.575; (0.75, 1]: acc 0.5, conf 0.9.
    np.testing.assert_array_equal(info.counts, [0, 0, 2, 2])
    assert info.ece == pytest.approx(0.5 * 0.075 + 0.5 * 0.4)
    assert info.mce == pytest.approx(0.4)
    assert np.isnan(info.accuracy[0]) and np.isnan(info.confidence[1])
    brier = np.mean([0.01 + 0.01, 0.81 + 0.81, 0.16 + 0.16, 0.55**2 + 0.55**2])
    assert info.brier == pytest.approx(brier)


def test_calibration_bins_against_loop():
    labels, probabilities = _random_classification(n=500)
    for strategy in ("uniform", "quantile"):
        info = evaluation.calibration_info(probabilities, labels, num_bins=7, strategy=strategy)
        confidence = probabilities.max(axis=1)
        correct = probabilities.argmax(axis=1) == labels
        ece = 0.0
        for b in range(7):
            low, high = info.edges[b], info.edges[b + 1]
            inside = [
                i
                for i in range(len(labels))
                if (low < confidence[i] <= high) or (b == 0 and confidence[i] == low)
            ]
            assert info.counts[b] == len(inside)
            if inside:
                assert info.confidence[b] == pytest.approx(confidence[inside].mean())
                assert info.accuracy[b] == pytest.approx(correct[inside].mean())
                ece += (
                    len(inside)
                    / len(labels)
                    * abs(correct[inside].mean() - confidence[inside].mean())
                )
        assert info.counts.sum() == len(labels)
        assert info.ece == pytest.approx(ece)
    assert abs(info.counts - len(labels) / 7).max() <= 1  # quantile bins hold equal counts
    one_hot = np.eye(4)[labels]
    assert info.brier == pytest.approx(np.mean(np.sum((probabilities - one_hot) ** 2, axis=1)))


def test_calibration_binary_brier_matches_sklearn():
    rng = np.random.default_rng(RNG_SEED)
    p = rng.uniform(size=200)
    y = (rng.uniform(size=200) < p).astype(int)
    info = evaluation.calibration_info(p, y, num_bins=5)
    assert info.brier == pytest.approx(metrics.brier_score_loss(y, p))
    with pytest.raises(InputError, match="between 0 and 1"):
        evaluation.calibration_info(p * 3, y)


# ---------------------------------------------------------------------------- slices


def test_slice_accuracy_with_wilson_interval():
    rng = np.random.default_rng(RNG_SEED)
    correct = rng.uniform(size=120) < 0.7
    groups = np.array(["neg", "pos", "neutral"])[rng.integers(0, 3, 120)]
    info = evaluation.slice_info(correct, groups)
    assert info.metric == "accuracy"
    assert list(info.groups) == ["neg", "neutral", "pos"]
    for g, name in enumerate(info.groups):
        members = correct[groups == name]
        assert info.counts[g] == len(members)
        assert info.values[g] == pytest.approx(members.mean())
        interval = stats.binomtest(int(members.sum()), len(members)).proportion_ci(
            confidence_level=0.95, method="wilson"
        )
        assert info.low[g] == pytest.approx(interval.low)
        assert info.high[g] == pytest.approx(interval.high)
    assert info.overall == pytest.approx(correct.mean())


def test_slice_errors_t_interval():
    errors = np.array([1.0, 2.0, 3.0, 10.0, 4.0])
    groups = np.array([True, True, True, False, False])
    info = evaluation.slice_info(errors, groups)
    assert info.metric == "error"
    np.testing.assert_allclose(info.values, [7.0, 2.0])
    ci = stats.t.interval(0.95, 2, loc=2.0, scale=stats.sem([1.0, 2.0, 3.0]))
    assert (info.low[1], info.high[1]) == pytest.approx(ci)


def test_month_groups():
    months = evaluation.month_groups(["2015-01-31", "2015-02-01", "2016-12-25"])
    np.testing.assert_array_equal(months, [1, 2, 12])


# ---------------------------------------------------------------------------- residuals


def test_residuals_match_sklearn():
    rng = np.random.default_rng(RNG_SEED)
    targets = rng.normal(size=(50, 3))
    predictions = targets + rng.normal(scale=0.3, size=(50, 3))
    info = evaluation.residual_info(predictions, targets, horizon=["+1h", "+2h", "+3h"])
    assert info.mae == pytest.approx(metrics.mean_absolute_error(targets, predictions))
    assert info.rmse == pytest.approx(math.sqrt(metrics.mean_squared_error(targets, predictions)))
    assert info.r2 == pytest.approx(metrics.r2_score(targets, predictions))
    np.testing.assert_allclose(
        info.horizon_mae,
        metrics.mean_absolute_error(targets, predictions, multioutput="raw_values"),
    )
    np.testing.assert_allclose(info.residuals, targets - predictions)
    single = evaluation.residual_info(predictions[:, 0], targets[:, 0], groups=np.arange(50) % 2)
    assert single.r2 == pytest.approx(metrics.r2_score(targets[:, 0], predictions[:, 0]))
    errors = np.abs(targets[:, 0] - predictions[:, 0])
    np.testing.assert_allclose(single.by_group.values, [errors[::2].mean(), errors[1::2].mean()])
    assert pickle.loads(pickle.dumps(single)) == single


# ---------------------------------------------------------------------------- McNemar


def _pairs(b: int, c: int, both_right: int = 3, both_wrong: int = 2):
    a = [True] * b + [False] * c + [True] * both_right + [False] * both_wrong
    other = [False] * b + [True] * c + [True] * both_right + [False] * both_wrong
    return np.array(a), np.array(other)


@pytest.mark.parametrize(
    "b,c",
    [(0, 0), (0, 1), (1, 0), (0, 7), (3, 3), (2, 9), (10, 4), (25, 40), (400, 430), (1000, 1)],
)
def test_mcnemar_equals_binomtest(b, c):
    info = evaluation.mcnemar_info(*_pairs(b, c))
    assert (info.b, info.c, info.both_correct, info.both_wrong) == (b, c, 3, 2)
    expected = 1.0 if b + c == 0 else stats.binomtest(b, b + c, 0.5).pvalue
    assert info.p_value == pytest.approx(expected, rel=1e-9, abs=1e-300)
    if b + c:
        assert info.statistic == pytest.approx(max(0, abs(b - c) - 1) ** 2 / (b + c))
        assert info.chi2_p_value == pytest.approx(stats.chi2.sf(info.statistic, 1))


def test_mcnemar_grid():
    for b in range(0, 30, 3):
        for c in range(0, 30, 4):
            info = evaluation.mcnemar_info(*_pairs(b, c))
            expected = 1.0 if b + c == 0 else stats.binomtest(b, b + c, 0.5).pvalue
            assert info.p_value == pytest.approx(expected, rel=1e-9)


# ---------------------------------------------------------------------------- bootstrap


def _correct_pair(n: int, seed: int = RNG_SEED):
    rng = np.random.default_rng(seed)
    a = rng.uniform(size=n) < 0.8
    b = np.where(rng.uniform(size=n) < 0.2, ~a, a)
    return a, b


def test_bootstrap_matches_slow_loop():
    a, b = _correct_pair(37)
    info = evaluation.paired_bootstrap_info(a, b, num_resamples=200, seed=3)
    rng = np.random.default_rng(3)
    slow = []
    for _ in range(200):
        indices = np.minimum((rng.random(37) * 37).astype(int), 36)
        slow.append(a[indices].mean() - b[indices].mean())
    np.testing.assert_allclose(info.differences, slow)
    low, high = np.quantile(slow, [0.025, 0.975])
    assert (info.low, info.high) == pytest.approx((low, high))
    assert info.probability_a_better == pytest.approx(np.mean(np.array(slow) > 0))
    assert info.difference == pytest.approx(a.mean() - b.mean())
    assert pickle.loads(pickle.dumps(info)) == info


def test_bootstrap_chunking_keeps_stream(monkeypatch):
    a, b = _correct_pair(50)
    whole = evaluation.paired_bootstrap_info(a, b, num_resamples=300, seed=1)
    monkeypatch.setattr(evaluation, "BOOTSTRAP_CHUNK_ENTRIES", 50 * 7)
    assert evaluation.paired_bootstrap_info(a, b, num_resamples=300, seed=1) == whole


def test_bootstrap_properties():
    a, b = _correct_pair(400)
    info = evaluation.paired_bootstrap_info(a, b, num_resamples=4000)
    assert info.low <= info.difference <= info.high
    same = evaluation.paired_bootstrap_info(a, a, num_resamples=500)
    assert (same.low, same.high, same.probability_a_better) == (0.0, 0.0, 0.0)
    # Same per-sample pattern, 16 times the samples: the interval narrows about 4 times.
    big = evaluation.paired_bootstrap_info(np.tile(a, 16), np.tile(b, 16), num_resamples=2000)
    ratio = (info.high - info.low) / (big.high - big.low)
    assert 3.0 < ratio < 5.3


def test_paired_error_test_against_scipy_and_a_slow_bootstrap():
    # Hand data: two forecasters' errors (°C) on 10 days; A is closer on 7 of them.
    truth = np.array([5.6, 5.6, 5.0, 10.6, 12.2, 8.9, 4.4, 7.2, 10.0, 9.4])
    forecast_a = np.array([5.1, 6.0, 5.4, 9.1, 11.9, 9.5, 4.0, 7.9, 9.1, 9.0])
    forecast_b = np.array([4.2, 6.9, 6.3, 8.0, 13.5, 9.7, 5.9, 6.1, 8.9, 10.6])
    errors_a, errors_b = truth - forecast_a, truth - forecast_b  # signed: |.| is taken
    info = evaluation.paired_error_info(errors_a, errors_b, num_resamples=300, seed=2)
    absolute_a, absolute_b = np.abs(errors_a), np.abs(errors_b)
    expected = stats.wilcoxon(absolute_a, absolute_b)
    assert info.wilcoxon_statistic == pytest.approx(expected.statistic)
    assert info.wilcoxon_p_value == pytest.approx(expected.pvalue)
    # by hand: the differences |e_A| - |e_B|, ranked by size; W = the smaller rank sum
    gap = absolute_a - absolute_b
    ranks = stats.rankdata(np.abs(gap))
    assert info.wilcoxon_statistic == min(ranks[gap > 0].sum(), ranks[gap < 0].sum())
    assert info.mae_a == pytest.approx(absolute_a.mean())
    assert info.mae_b == pytest.approx(absolute_b.mean())
    assert info.difference == pytest.approx(gap.mean()) and info.difference < 0
    assert (info.a_smaller, info.b_smaller, info.ties) == (
        int(np.sum(gap < 0)),
        int(np.sum(gap > 0)),
        0,
    )
    rng = np.random.default_rng(2)
    slow = []
    for _ in range(300):
        indices = np.minimum((rng.random(10) * 10).astype(int), 9)
        slow.append(absolute_a[indices].mean() - absolute_b[indices].mean())
    np.testing.assert_allclose(info.differences, slow)
    assert (info.low, info.high) == pytest.approx(tuple(np.quantile(slow, [0.025, 0.975])))
    assert info.probability_a_better == pytest.approx(np.mean(np.array(slow) < 0))
    assert info.note == "" and pickle.loads(pickle.dumps(info)) == info
    # several outputs: the absolute error is averaged over them
    two = evaluation.paired_error_info(np.c_[errors_a, errors_a], np.c_[errors_b, -errors_b])
    assert two.mae_a == pytest.approx(info.mae_a) and two.mae_b == pytest.approx(info.mae_b)


def test_paired_error_test_edge_cases():
    same = evaluation.paired_error_info([1.0, -2.0, 3.0], [-1.0, 2.0, 3.0], num_resamples=50)
    assert same.wilcoxon_p_value == 1.0 and same.difference == 0 and "same absolute" in same.note
    few = evaluation.paired_error_info([1.0, 2.0, 3.0], [2.0, 2.5, 1.0], num_resamples=50)
    assert math.isnan(few.wilcoxon_p_value) and "needs" in few.note
    with pytest.raises(InputError, match="same"):
        evaluation.paired_error_info([1.0, 2.0], [1.0])
    with pytest.raises(InputError, match="finite"):
        evaluation.paired_error_info([1.0, np.nan], [1.0, 2.0])


def test_disagreements():
    np.testing.assert_array_equal(evaluation.disagreements([0, 1, 2, 2], [0, 2, 2, 1]), [1, 3])


# ---------------------------------------------------------------------------- seeds


def test_seed_comparison_paired_and_welch():
    a = [0.91, 0.92, 0.90, 0.93, 0.915, 0.925, 0.905]
    b = [0.89, 0.905, 0.885, 0.91, 0.90, 0.90, 0.895]
    info = evaluation.seed_comparison_info(a, b)
    reference = stats.ttest_rel(a, b)
    assert info.t_p_value == pytest.approx(reference.pvalue)
    ci = reference.confidence_interval(0.95)
    assert (info.low, info.high) == pytest.approx((ci.low, ci.high))
    assert info.rank_p_value == pytest.approx(stats.wilcoxon(a, b).pvalue)
    assert info.mean_difference == pytest.approx(np.mean(a) - np.mean(b))
    welch = evaluation.seed_comparison_info(a, b[:5], paired=False)
    reference = stats.ttest_ind(a, b[:5], equal_var=False)
    assert welch.t_p_value == pytest.approx(reference.pvalue)
    ci = reference.confidence_interval(0.95)
    assert (welch.low, welch.high) == pytest.approx((ci.low, ci.high))
    assert welch.rank_test == "mann-whitney"
    small = evaluation.seed_comparison_info(a[:3], b[:3])
    assert math.isnan(small.rank_p_value) and "Wilcoxon" in small.note
    with pytest.raises(InputError, match="at least two runs"):
        evaluation.seed_comparison_info([0.9], [0.8])


# ---------------------------------------------------------------------------- models


@pytest.fixture(scope="module")
def digits():
    from neurogenesis.io.models import load_model
    from neurogenesis.io.samples import load_samples

    return load_model(ROOT / "models" / "digits_cnn.keras"), load_samples(
        ROOT / "data" / "samples" / "digits_cnn.npz"
    )


def _noisy_copy(model, scale: float = 0.15):
    import keras

    copy = keras.models.clone_model(model)
    rng = np.random.default_rng(RNG_SEED)
    copy.set_weights(
        [w + rng.normal(scale=scale * (w.std() + 1e-3), size=w.shape) for w in model.get_weights()]
    )
    return copy


def test_comparison_report_on_digits(digits):
    model, samples = digits
    before = [w.copy() for w in model.get_weights()]
    other = _noisy_copy(model)
    report = evaluation.comparison_report(model, other, samples.x, samples.y, num_resamples=2000)
    json.dumps(report)
    for key in ("accuracy_a", "accuracy_b", "num_disagreements", "mcnemar_p_value"):
        assert key in report
    predicted_a = np.asarray(model(samples.x, training=False)).argmax(axis=1)
    predicted_b = np.asarray(other(samples.x, training=False)).argmax(axis=1)
    right_a, right_b = predicted_a == samples.y, predicted_b == samples.y
    assert report["accuracy_a"] == pytest.approx(right_a.mean())
    assert report["accuracy_b"] == pytest.approx(right_b.mean())
    assert report["num_disagreements"] == int(np.sum(predicted_a != predicted_b))
    b, c = int(np.sum(right_a & ~right_b)), int(np.sum(~right_a & right_b))
    expected = 1.0 if b + c == 0 else stats.binomtest(b, b + c, 0.5).pvalue
    assert report["mcnemar_p_value"] == pytest.approx(expected)
    low, high = report["accuracy_difference_ci"]
    assert isinstance(low, float) and low <= report["accuracy_difference"] <= high
    for got, want in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(got, want)


def test_comparison_report_rejects_regression():
    import keras

    from neurogenesis.testing import tiny_dense_model

    inputs = keras.Input((8,))
    regression = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    with pytest.raises(UnsupportedModelError, match="different outputs"):
        evaluation.comparison_report(
            tiny_dense_model(), regression, np.zeros((4, 8)), np.zeros(4, int)
        )
    with pytest.raises(UnsupportedModelError, match="regression"):
        evaluation.comparison_report(regression, regression, np.zeros((4, 8)), np.arange(4) + 0.5)


# ---------------------------------------------------------------------------- profile, Pareto


def test_profile_tiny_dense(monkeypatch):
    from neurogenesis.testing import tiny_data, tiny_dense_model

    monkeypatch.setenv("NEUROGENESIS_MAX_STEPS", "2")
    model = tiny_dense_model()
    x, _ = tiny_data(num_samples=10)
    info = evaluation.profile_info(model, x, batch_sizes=(1, 16), repeats=5)
    assert info.repeats == 2
    assert info.num_parameters == 195 == model.count_params()
    assert info.weight_bytes == 195 * 4
    assert info.activation_bytes == (16 + 3) * 4
    np.testing.assert_array_equal(info.batch_sizes, [1, 16])
    assert np.all(info.latency > 0) and np.all(info.latency_min <= info.latency)
    np.testing.assert_allclose(info.throughput, info.batch_sizes / info.latency)
    assert pickle.loads(pickle.dumps(info)) == info


def _pareto_brute_force(costs, scores):
    front = []
    for i in range(len(costs)):
        dominated = any(
            costs[j] <= costs[i]
            and scores[j] >= scores[i]
            and (costs[j] < costs[i] or scores[j] > scores[i])
            for j in range(len(costs))
        )
        if not dominated:
            front.append(i)
    return front


def test_pareto_front_brute_force():
    rng = np.random.default_rng(RNG_SEED)
    for trial in range(200):
        n = int(rng.integers(1, 15))
        # Few distinct values make ties and duplicates common.
        costs = rng.integers(0, 5, n).astype(float)
        scores = rng.integers(0, 5, n).astype(float)
        front = evaluation.pareto_front(costs, scores)
        assert sorted(front.tolist()) == _pareto_brute_force(costs, scores), trial
        assert np.all(np.diff(costs[front]) >= 0)
    with pytest.raises(InputError, match="NaN"):
        evaluation.pareto_front([1.0, math.nan], [0.5, 0.6])
