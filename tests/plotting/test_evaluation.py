"""Evaluation figures: the numbers drawn are the analysis' numbers, checked independently."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
from scipy import stats
from sklearn.metrics import precision_recall_fscore_support

from neurogenesis.analysis.evaluation import (
    PROFILE_METHOD,
    ProfileInfo,
    calibration_info,
    confusion_info,
    mcnemar_info,
    paired_bootstrap_info,
    paired_error_info,
    pareto_front,
    residual_info,
    seed_comparison_info,
    slice_info,
)
from neurogenesis.errors import InputError
from neurogenesis.plotting.evaluation import (
    DENSITY_STEP,
    MAX_SVG_POINTS,
    plot_bootstrap,
    plot_class_metrics,
    plot_confusion_matrix,
    plot_error_comparison,
    plot_horizon_error,
    plot_mcnemar,
    plot_pareto,
    plot_profile,
    plot_reliability_diagram,
    plot_residuals,
    plot_seed_comparison,
    plot_slices,
    plot_throughput,
)

NAMES = ("cat", "dog", "bird")
# 12 samples; class 2 is never predicted and class 1 is confused with 0 twice.
LABELS = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2])
PREDICTED = np.array([0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1])


def _array(values) -> np.ndarray:
    """A figure property (tuples, with None for missing values) as a float array."""
    return np.array([np.nan if v is None else v for v in np.ravel(values)], dtype=np.float64)


def _trace(figure: go.Figure, name: str):
    (trace,) = [trace for trace in figure.data if trace.name == name]
    return trace


def _probabilities(n: int = 300, k: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    probabilities = rng.dirichlet(np.ones(k), n)
    probabilities[np.arange(n), labels] += rng.random(n)
    return probabilities / probabilities.sum(axis=1, keepdims=True), labels


# --- Confusion matrix -----------------------------------------------------------------------------


def test_confusion_matrix_rows_are_shares_of_the_true_class():
    info = confusion_info(LABELS, PREDICTED, 3, NAMES)
    figure = plot_confusion_matrix(info)
    heatmap, cells = figure.data
    counts = np.zeros((3, 3))
    for true, predicted in zip(LABELS, PREDICTED, strict=True):
        counts[true, predicted] += 1
    np.testing.assert_allclose(np.array(heatmap.z), counts / counts.sum(axis=1, keepdims=True))
    assert list(heatmap.x) == list(NAMES) and list(heatmap.y) == list(NAMES)
    assert figure.layout.yaxis.autorange == "reversed"  # the first class at the top
    assert figure.layout.xaxis.type == "category" and figure.layout.yaxis.type == "category"
    # Cell (dog, cat): 2 of the 5 dogs were called cats.
    assert heatmap.text[1][0] == "2<br>40%"
    assert heatmap.hovertext[1][0].startswith(
        "true dog, predicted cat: 2 samples (40.0% of true dog)"
    )


def test_confusion_matrix_customdata_finds_the_cell_samples():
    info = confusion_info(LABELS, PREDICTED, 3, NAMES)
    heatmap = plot_confusion_matrix(info, normalize=None).data[0]
    for true in range(3):
        for predicted in range(3):
            row, column, count, _ = heatmap.customdata[true][predicted]
            assert (row, column) == (true, predicted)
            expected = np.flatnonzero((true == LABELS) & (predicted == PREDICTED))
            np.testing.assert_array_equal(info.indices(row, column), expected)
            assert count == len(expected)
            # The clicked point's x / y are the names of the same cell.
            assert (heatmap.y[row], heatmap.x[column]) == (NAMES[true], NAMES[predicted])
    # The clickable markers: one per non-empty cell, at that cell, with its customdata.
    cells = plot_confusion_matrix(info, normalize=None).data[1]
    assert len(cells.x) == int(np.count_nonzero(info.matrix))
    for x, y, data in zip(cells.x, cells.y, cells.customdata, strict=True):
        assert (y, x) == (NAMES[data[0]], NAMES[data[1]]) and data[2] == info.matrix[
            data[0], data[1]
        ]


def test_confusion_matrix_counts_and_column_shares():
    info = confusion_info(LABELS, PREDICTED, 3, NAMES)
    counts = plot_confusion_matrix(info, normalize=None).data[0]
    np.testing.assert_array_equal(np.array(counts.z), info.matrix)
    assert counts.text[0][0] == "3<br>25%"  # 3 of all 12 samples
    by_prediction = plot_confusion_matrix(info, normalize="pred").data[0]
    z = np.array(by_prediction.z, dtype=np.float64)
    # Column "bird" was never predicted: no shares there.
    assert np.isnan(z[:, 2]).all()
    np.testing.assert_allclose(z[:, :2], info.matrix[:, :2] / info.matrix[:, :2].sum(axis=0))
    assert by_prediction.text[0][2] == "0<br>–"


def test_confusion_matrix_escapes_and_separates_names():
    info = confusion_info(LABELS, PREDICTED, 3, ["<b>x</b>", "same", "same"])
    heatmap = plot_confusion_matrix(info).data[0]
    assert list(heatmap.x) == ["&lt;b&gt;x&lt;/b&gt;", "same", "same #2"]
    assert "<b>x" not in heatmap.hovertext[0][0]


@pytest.mark.parametrize("normalize", ["all", "rows", 1])
def test_confusion_matrix_rejects_unknown_normalization(normalize):
    info = confusion_info(LABELS, PREDICTED, 3, NAMES)
    with pytest.raises(InputError, match="normalize"):
        plot_confusion_matrix(info, normalize=normalize)


def test_class_metrics_bars_match_sklearn():
    info = confusion_info(LABELS, PREDICTED, 3, NAMES)
    figure = plot_class_metrics(info)
    precision, recall, f1, support = precision_recall_fscore_support(
        LABELS, PREDICTED, labels=[0, 1, 2], zero_division=0
    )
    for name, expected in (("precision", precision), ("recall", recall), ("F1", f1)):
        bars = _trace(figure, name)
        np.testing.assert_allclose(bars.y, expected)
        np.testing.assert_array_equal(bars.customdata, support)
        assert list(bars.x) == list(NAMES)
    (line,) = figure.layout.shapes
    assert line.y0 == line.y1 == pytest.approx(f1.mean())
    assert line.line.dash == "dash"
    assert _trace(figure, f"macro F1 {f1.mean():.3f}").line.dash == "dash"
    assert tuple(figure.layout.yaxis.range) == (0.0, 1.05)


# --- Calibration ----------------------------------------------------------------------------------


def _bins_by_loop(confidence, correct, edges):
    """Accuracy and counts per bin with a slow loop: bin b holds (edges[b], edges[b+1]]."""
    bins = len(edges) - 1
    hits, counts = np.zeros(bins), np.zeros(bins, dtype=int)
    for value, right in zip(confidence, correct, strict=True):
        b = next(b for b in range(bins) if value <= edges[b + 1])
        hits[b] += right
        counts[b] += 1
    return hits, counts


def test_reliability_bars_are_bin_accuracies_at_bin_centres():
    probabilities, labels = _probabilities()
    info = calibration_info(probabilities, labels, num_bins=10)
    figure = plot_reliability_diagram(info)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0, 1, 11)
    hits, counts = _bins_by_loop(confidence, correct, edges)
    filled = counts > 0
    assert not filled.all()  # some low-confidence bins are empty and must be skipped
    accuracy = _trace(figure, "accuracy")
    np.testing.assert_allclose(accuracy.x, (np.arange(10) + 0.5)[filled] / 10)
    np.testing.assert_allclose(accuracy.width, np.full(filled.sum(), 0.1))
    np.testing.assert_allclose(accuracy.y, hits[filled] / counts[filled])
    # The gap runs from the accuracy to the bin's mean confidence.
    gap = _trace(figure, "gap (confidence − accuracy)")
    np.testing.assert_allclose(
        np.asarray(gap.base, dtype=np.float64), hits[filled] / counts[filled]
    )
    mean_confidence = [
        confidence[(confidence > lo) & (confidence <= hi)].mean()
        for lo, hi in zip(edges[:-1][filled], edges[1:][filled], strict=True)
    ]
    np.testing.assert_allclose(np.asarray(gap.base, dtype=np.float64) + gap.y, mean_confidence)
    samples = _trace(figure, "samples")
    np.testing.assert_array_equal(samples.y, counts[filled])
    assert samples.xaxis == "x2" and accuracy.xaxis == "x"
    diagonal = _trace(figure, "perfect calibration")
    assert list(diagonal.x) == list(diagonal.y) == [0.0, 1.0]
    assert f"ECE {info.ece:.3f}" in figure.layout.title.text
    assert f"MCE {info.mce:.3f}" in figure.layout.title.text
    assert f"Brier {info.brier:.3f}" in figure.layout.title.text


def test_reliability_with_quantile_bins_of_unequal_width():
    probabilities, labels = _probabilities(seed=1)
    info = calibration_info(probabilities, labels, num_bins=6, strategy="quantile")
    figure = plot_reliability_diagram(info)
    widths = np.diff(info.edges)
    assert widths.std() > 0.01
    accuracy = _trace(figure, "accuracy")
    np.testing.assert_allclose(accuracy.width, widths)
    np.testing.assert_allclose(accuracy.x, info.edges[:-1] + widths / 2)
    hits, counts = _bins_by_loop(
        probabilities.max(axis=1), probabilities.argmax(axis=1) == labels, info.edges
    )
    np.testing.assert_allclose(accuracy.y, hits / counts)
    samples = _trace(figure, "samples")
    # Equal counts in unequal bins: drawn as samples per DENSITY_STEP of confidence.
    np.testing.assert_allclose(samples.y, counts / widths * DENSITY_STEP)
    np.testing.assert_array_equal(samples.customdata, counts)


# --- Slices ---------------------------------------------------------------------------------------


def test_slices_of_accuracy_with_wilson_intervals():
    rng = np.random.default_rng(2)
    months = rng.integers(1, 13, 240)
    correct = rng.random(240) < 0.7
    info = slice_info(correct, months)
    figure = plot_slices(info, group_label="month")
    points = _trace(figure, "per month")
    assert list(points.x) == [str(m) for m in range(1, 13)]
    expected = [correct[months == m].mean() for m in range(1, 13)]
    np.testing.assert_allclose(points.y, expected)
    low, high = stats.binomtest(
        int(correct[months == 1].sum()), int((months == 1).sum())
    ).proportion_ci(0.95, method="wilson")
    assert points.error_y.arrayminus[0] == pytest.approx(expected[0] - low)
    assert points.error_y.array[0] == pytest.approx(high - expected[0])
    assert list(points.text) == [f"n={(months == m).sum()}" for m in range(1, 13)]
    (line,) = figure.layout.shapes
    assert line.y0 == pytest.approx(correct.mean())
    assert figure.layout.xaxis.type == "category"
    assert figure.layout.xaxis.tickangle is None  # 12 short labels fit flat


def test_slices_of_errors_without_interval_for_a_lone_sample():
    errors = np.array([1.0, 2.0, 3.0, 10.0])
    groups = np.array(["a", "a", "a", "long group name <x>"])
    figure = plot_slices(slice_info(errors, groups), unit="°C")
    (points,) = [trace for trace in figure.data if trace.mode and "markers" in trace.mode]
    np.testing.assert_allclose(points.y, [2.0, 10.0])
    assert points.error_y.array[1] is None and points.error_y.arrayminus[1] is None
    half = stats.t.ppf(0.975, 2) * np.std([1, 2, 3], ddof=1) / math.sqrt(3)
    assert points.error_y.array[0] == pytest.approx(half)
    assert points.x[1] == "long group name &lt;x&gt;"
    assert figure.layout.yaxis.title.text == "mean error (°C)"


# --- Regression -----------------------------------------------------------------------------------


def _residuals(n=40, steps=3, seed=3, groups=None):
    rng = np.random.default_rng(seed)
    predictions = rng.normal(size=(n, steps))
    targets = predictions + rng.normal(scale=0.5, size=(n, steps)) + 0.1
    return predictions, targets, residual_info(predictions, targets, groups=groups)


def test_residual_panels_hold_every_prediction():
    predictions, targets, info = _residuals()
    figure = plot_residuals(info, unit="°C")
    scatter, identity, against, histogram = figure.data
    assert type(scatter) is go.Scatter
    np.testing.assert_allclose(scatter.x, targets.reshape(-1))
    np.testing.assert_allclose(scatter.y, predictions.reshape(-1))
    np.testing.assert_allclose(against.y, (targets - predictions).reshape(-1))
    np.testing.assert_allclose(histogram.x, (targets - predictions).reshape(-1))
    # Sample 1, step 3 is the 6th point.
    assert list(scatter.customdata[5][:2]) == [1, "3"]
    assert identity.x[0] == identity.y[0] and identity.x[1] == identity.y[1]
    mae = np.abs(targets - predictions).mean()
    title = figure.layout.title.text
    assert f"MAE {mae:.3g} °C" in title and f"R² {info.r2:.3f}" in title
    assert f"bias {(targets - predictions).mean():+.3g}" in title


def test_residuals_switch_to_webgl_for_many_points():
    _, _, info = _residuals(n=MAX_SVG_POINTS // 2 + 1, steps=2)
    figure = plot_residuals(info)
    assert type(figure.data[0]) is go.Scattergl and type(figure.data[2]) is go.Scattergl


def test_horizon_error_per_step():
    predictions, targets, info = _residuals()
    figure = plot_horizon_error(info, unit="°C")
    mae, rmse = figure.data
    assert list(mae.x) == [1, 2, 3]
    np.testing.assert_allclose(mae.y, np.abs(targets - predictions).mean(axis=0))
    np.testing.assert_allclose(rmse.y, np.sqrt(((targets - predictions) ** 2).mean(axis=0)))
    assert figure.layout.yaxis.title.text == "error (°C)"


@pytest.mark.parametrize("horizon", [None, np.array([])])
def test_horizon_error_without_a_horizon_says_so(horizon):
    _, _, info = _residuals()
    with pytest.raises(InputError, match="no horizon"):
        plot_horizon_error(dataclasses.replace(info, horizon=horizon))


# --- A/B comparison -------------------------------------------------------------------------------


def _correct_pair(n=60, seed=4):
    rng = np.random.default_rng(seed)
    return rng.random(n) < 0.8, rng.random(n) < 0.7


def test_bootstrap_lines_sit_at_the_interval_observed_and_zero():
    correct_a, correct_b = _correct_pair()
    info = paired_bootstrap_info(correct_a, correct_b, num_resamples=500, seed=1)
    figure = plot_bootstrap(info, names=("new", "old"))
    band, low, high, observed, zero = figure.layout.shapes
    assert (band.x0, band.x1) == pytest.approx((info.low * 100, info.high * 100))
    assert low.x0 == low.x1 == pytest.approx(info.low * 100)
    assert high.x0 == pytest.approx(info.high * 100)
    difference = (correct_a.mean() - correct_b.mean()) * 100
    assert observed.x0 == pytest.approx(difference)
    assert zero.x0 == 0.0
    (bars,) = [trace for trace in figure.data if trace.type == "bar"]
    # N = 60: differences come in steps of 1/60, one bar per distinct value.
    values, counts = np.unique(info.differences, return_counts=True)
    np.testing.assert_allclose(bars.x, values * 100)
    np.testing.assert_array_equal(bars.y, counts)
    assert sum(bars.y) == 500
    title = figure.layout.title.text
    assert f"{difference:+.2f} pp" in title
    assert f"P(new better) = {np.mean(info.differences > 0):.3f}" in title


def test_bootstrap_legend_sits_below_the_plot_not_over_the_subtitle():
    correct_a, correct_b = _correct_pair()
    figure = plot_bootstrap(paired_bootstrap_info(correct_a, correct_b, num_resamples=200))
    legend, margin = figure.layout.legend, figure.layout.margin
    # under the x axis title (paper y < 0) with the bottom margin to hold it; the title's
    # lines stay in the top margin
    assert legend.yanchor == "top" and legend.y < -0.1 and legend.orientation == "h"
    plot_px = figure.layout.height - margin.t - margin.b
    assert -legend.y * plot_px >= 50 and margin.b >= 60 + 24
    assert figure.layout.title.text.count("<br>") + 1 <= margin.t // 30
    assert figure.layout.xaxis.title.text and figure.layout.yaxis.title.text


def test_error_comparison_in_the_targets_unit():
    rng = np.random.default_rng(0)
    errors_a, errors_b = rng.normal(0, 1.0, 80), rng.normal(0, 1.5, 80)
    info = paired_error_info(errors_a, errors_b, num_resamples=400, seed=1)
    figure = plot_error_comparison(info, names=("attention", "plain"), unit="°C")
    band, low, high, observed, zero = figure.layout.shapes
    assert (band.x0, band.x1) == pytest.approx((info.low, info.high))
    assert observed.x0 == pytest.approx(np.abs(errors_a).mean() - np.abs(errors_b).mean())
    assert zero.x0 == 0.0
    (bars,) = [trace for trace in figure.data if trace.type == "bar"]
    assert sum(bars.y) == 400
    title = figure.layout.title.text
    assert f"{info.difference:+.3g} °C" in title
    assert f"Wilcoxon signed-rank p = {info.wilcoxon_p_value:.3g}" in title
    assert figure.layout.xaxis.title.text == "mean absolute error attention − plain (°C)"
    assert figure.layout.legend.y < 0


def test_mcnemar_title_fits_a_half_width_column_and_axes_are_titled():
    import re

    correct_a, correct_b = _correct_pair()
    figure = plot_mcnemar(mcnemar_info(correct_a, correct_b), names=("new", "old"))
    lines = [re.sub("<[^>]+>", "", line) for line in figure.layout.title.text.split("<br>")]
    # the page draws it in one of two columns (~460 px): ~60 characters a line at most
    assert max(len(line) for line in lines) <= 60, lines
    assert figure.layout.title.text.count("<br>") + 1 <= figure.layout.margin.t // 30
    assert figure.layout.xaxis.title.text == "model old"
    assert figure.layout.yaxis.title.text == "model new"


def test_mcnemar_table_highlights_the_discordant_cells():
    correct_a, correct_b = _correct_pair()
    info = mcnemar_info(correct_a, correct_b)
    figure = plot_mcnemar(info, names=("new", "old"))
    b = int(np.sum(correct_a & ~correct_b))
    c = int(np.sum(~correct_a & correct_b))
    discordant = np.array(_trace(figure, "discordant").z, dtype=np.float64)
    concordant = np.array(_trace(figure, "concordant").z, dtype=np.float64)
    assert discordant[0, 1] == b and discordant[1, 0] == c
    assert np.isnan(discordant[0, 0]) and np.isnan(discordant[1, 1])
    assert concordant[0, 0] == np.sum(correct_a & correct_b)
    assert concordant[1, 1] == np.sum(~correct_a & ~correct_b)
    assert list(figure.data[0].y) == ["new correct", "new wrong"]
    p_value = stats.binomtest(min(b, c), b + c, 0.5).pvalue
    assert f"p = {p_value:.3g}" in figure.layout.title.text


def test_seed_comparison_paired_runs():
    scores_a = [0.91, 0.92, 0.90, 0.93, 0.915, 0.925]
    scores_b = [0.90, 0.905, 0.895, 0.91, 0.90, 0.92]
    info = seed_comparison_info(scores_a, scores_b, paired=True)
    figure = plot_seed_comparison(info, names=("A", "B"))
    runs_a, runs_b = _trace(figure, "A runs"), _trace(figure, "B runs")
    np.testing.assert_allclose(runs_a.y, scores_a)
    offsets = np.array(runs_a.x)
    assert np.all(np.abs(offsets) <= 0.15) and len(set(offsets)) == 6
    np.testing.assert_allclose(np.array(runs_b.x) - 1, offsets)  # the same jitter, repeatable
    np.testing.assert_array_equal(plot_seed_comparison(info).data[1].x, runs_a.x)
    lines = _trace(figure, "same seed")
    assert list(lines.x[:3]) == [runs_a.x[0], runs_b.x[0], None]
    assert list(lines.y[:2]) == [scores_a[0], scores_b[0]]
    mean_a = _trace(figure, "A mean ± 95% CI")
    low, high = stats.t.interval(0.95, 5, loc=np.mean(scores_a), scale=stats.sem(scores_a))
    assert mean_a.y[0] == pytest.approx(np.mean(scores_a))
    assert mean_a.error_y.array[0] == pytest.approx(high - np.mean(scores_a))
    assert mean_a.error_y.arrayminus[0] == pytest.approx(np.mean(scores_a) - low)
    title = figure.layout.title.text
    assert f"{stats.ttest_rel(scores_a, scores_b).pvalue:.3g}" in title
    assert f"Wilcoxon p = {stats.wilcoxon(scores_a, scores_b).pvalue:.3g}" in title


def test_seed_comparison_independent_runs_have_no_lines_and_show_the_note():
    info = seed_comparison_info([0.9, 0.92, 0.91], [0.88, 0.9], paired=False)
    figure = plot_seed_comparison(info)
    assert "same seed" not in {trace.name for trace in figure.data}
    assert "Welch t-test" in figure.layout.title.text
    assert "Mann-Whitney test is very weak" in figure.layout.title.text


# --- Cost -----------------------------------------------------------------------------------------


def _profile(scale: float) -> ProfileInfo:
    sizes = np.array([1, 8, 32])
    latency = scale * (0.002 + 0.0001 * sizes)
    return ProfileInfo(
        batch_sizes=sizes,
        latency=latency,
        latency_min=latency * 0.8,
        throughput=sizes / latency,
        num_parameters=100,
        trainable_parameters=100,
        weight_bytes=400,
        activation_bytes=64,
        repeats=3,
        method=PROFILE_METHOD,
    )


def test_profile_latency_in_milliseconds_with_the_fastest_run_below():
    profiles = {"small": _profile(1.0), "big <net>": _profile(3.0)}
    figure = plot_profile(profiles)
    small, big = figure.data
    assert big.name == "big &lt;net&gt;"
    np.testing.assert_allclose(big.y, profiles["big <net>"].latency * 1000)
    np.testing.assert_allclose(
        np.array(big.error_y.arrayminus), profiles["big <net>"].latency * 0.2 * 1000
    )
    np.testing.assert_array_equal(big.error_y.array, 0)
    assert list(small.x) == [1, 8, 32]
    assert figure.layout.xaxis.type == "log" and list(figure.layout.xaxis.tickvals) == [1, 8, 32]
    throughput = plot_throughput(profiles)
    np.testing.assert_allclose(throughput.data[0].y, [1, 8, 32] / profiles["small"].latency)
    for plot in (plot_profile, plot_throughput):
        with pytest.raises(InputError, match="profiled"):
            plot({})


def test_pareto_front_points_are_the_front():
    names = ["m0", "m1", "m2 <b>", "m3", "m4"]
    costs = np.array([5.0, 1.0, 3.0, 4.0, 2.0])
    scores = np.array([0.9, 0.7, 0.8, 0.75, 0.82])
    front = pareto_front(costs, scores)
    figure = plot_pareto(names, costs, scores, front, "latency (ms)", "accuracy")
    marked = _trace(figure, "Pareto front")
    # Independent check: a model is on the front when no other is as cheap and as good.
    dominated = {
        i
        for i in range(5)
        for j in range(5)
        if costs[j] <= costs[i]
        and scores[j] >= scores[i]
        and (costs[j], scores[j]) != (costs[i], scores[i])
    }
    assert set(marked.customdata) == set(range(5)) - dominated == {0, 1, 4}
    assert list(marked.x) == [1.0, 2.0, 5.0]  # by cost, for the step line
    assert list(_trace(figure, "front line").x) == [1.0, 2.0, 5.0]
    assert _trace(figure, "front line").line.shape == "hv"
    others = _trace(figure, "other models")
    assert set(others.customdata) == {2, 3}
    assert "m2 &lt;b&gt;" in others.text
    mask = np.isin(np.arange(5), front)
    same = plot_pareto(names, costs, scores, mask, "latency (ms)", "accuracy")
    assert list(_trace(same, "Pareto front").customdata) == list(marked.customdata)
    with pytest.raises(InputError, match="front"):
        plot_pareto(names, costs, scores, [7], "latency (ms)", "accuracy")
    with pytest.raises(InputError, match="one name"):
        plot_pareto(names[:2], costs, scores, front, "latency (ms)", "accuracy")


def test_module_draws_without_tensorflow_or_streamlit():
    code = (
        "import sys, neurogenesis.plotting.evaluation; "
        "print([m for m in ('tensorflow', 'keras', 'streamlit') if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.stdout.strip() == "[]"
