"""The curves figure: styles per role, divergence marked, nothing silently dropped."""

from __future__ import annotations

import numpy as np
import pytest

from neurogenesis.analysis.training import Curve, CurvesInfo
from neurogenesis.plotting.training import plot_curves


def _curve(run, role, values):
    values = np.asarray(values, dtype=float)
    return Curve(run, role, "loss", np.arange(values.size), values, np.full(values.size, np.nan))


def test_train_solid_validation_dashed_same_colour():
    info = CurvesInfo(
        "loss", (_curve("a", "train", [1, 0.5]), _curve("a", "validation", [1.1, 0.7])), None
    )
    figure = plot_curves(info)
    train, validation = figure.data
    assert train.line.dash == "solid" and validation.line.dash == "dash"
    assert train.line.color == validation.line.color
    assert list(train.y) == [1, 0.5]
    assert figure.layout.xaxis.title.text == "epoch" and figure.layout.yaxis.title.text == "loss"


def test_divergence_is_marked_where_it_happened():
    info = CurvesInfo("loss", (_curve("a", "train", [1.0, 0.5, np.inf, np.nan]),), None)
    figure = plot_curves(info)
    line, marker = figure.data
    assert np.isnan(line.y[2]) and np.isnan(line.y[3])
    assert list(marker.x) == [2] and marker.marker.symbol == "x"
    assert "step 2" in marker.name


def test_runs_get_distinct_colours():
    info = CurvesInfo("loss", (_curve("a", "train", [1, 0.5]), _curve("b", "train", [2, 1])), None)
    first, second = plot_curves(info).data
    assert first.line.color != second.line.color
    assert first.name == "a · train"


# --- The dashboard ------------------------------------------------------------------------------

from neurogenesis.analysis.training import dashboard_info  # noqa: E402
from neurogenesis.io.logs import Run, ScalarSeries  # noqa: E402
from neurogenesis.plotting.training import plot_dashboard  # noqa: E402


def _run(name, tags):
    series = {}
    for tag, values in tags.items():
        values = np.asarray(values, dtype=float)
        n = values.size
        series[tag] = ScalarSeries(
            tag, np.arange(n), values, 1000.0 + np.arange(n), np.zeros(n, np.int32)
        )
    return Run(name, f"/{name}", "neurogenesis", series, {}, (), ())


def _by_name(figure):
    return {trace.name: trace for trace in figure.data}


def test_dashboard_pairs_roles_per_run_and_marks_best_and_nonfinite():
    runs = [
        _run("a", {"train/loss": [1.0, 0.5, 0.3], "validation/loss": [1.2, 0.6, 0.9]}),
        _run("b", {"train/loss": [2.0, np.nan, 1.0], "train/accuracy": [0.1, 0.5, 0.9]}),
    ]
    info = dashboard_info(runs, ["loss", "accuracy"], smoothing="none")
    figure = plot_dashboard(info)
    a_train, a_validation = [
        t for t in figure.data if t.legendgroup == "a" and t.mode and "lines" in t.mode
    ][:2]
    assert a_train.line.dash == "solid" and a_validation.line.dash == "dash"
    assert a_train.line.color == a_validation.line.color
    b_color = next(t for t in figure.data if t.legendgroup == "b").line.color
    assert b_color != a_train.line.color
    named = _by_name(figure)
    best = named["best a · validation"]
    assert list(best.x) == [1] and list(best.y) == [0.6]
    assert "lowest loss 0.6 at step 1" in best.hovertemplate
    # Without validation, the star goes on the training curve; accuracy's best is the highest.
    loss_star, accuracy_star = [t for t in figure.data if t.name == "best b · train"]
    assert list(loss_star.y) == [1.0]  # the lowest finite loss, NaN skipped
    assert list(accuracy_star.y) == [0.9] and "highest accuracy" in accuracy_star.hovertemplate
    marks = named["b · train: NaN/Inf"]
    assert list(marks.x) == [1] and list(marks.customdata) == ["NaN"]
    assert marks.y[0] == 2.0  # the panel's top edge (the largest finite value drawn)
    assert (
        figure.layout.yaxis.title.text == "loss" and figure.layout.yaxis2.title.text == "accuracy"
    )
    assert figure.layout.xaxis2.title.text == "step"
    assert figure.layout.height == 2 * 330 + 90


def test_dashboard_raw_curve_is_faint_and_optional_and_log_scale():
    runs = [_run("a", {"train/loss": [1.0, 0.5, 0.3, 0.2]})]
    info = dashboard_info(runs, ["loss"], smoothing="exponential")
    figure = plot_dashboard(info, log_y=True)
    raw = _by_name(figure)["a · train (raw)"]
    assert raw.opacity < 0.5 and list(raw.y) == [1.0, 0.5, 0.3, 0.2]
    assert figure.layout.yaxis.type == "log"
    assert "a · train (raw)" not in _by_name(plot_dashboard(info, show_raw=False))


def test_dashboard_group_band_and_wall_time_axis():
    runs = [
        _run("s1", {"train/loss": [2.0, 1.0]}),
        _run("s2", {"train/loss": [4.0, 3.0]}),
    ]
    info = dashboard_info(
        runs, ["loss"], smoothing="none", groups={"s1": "g", "s2": "g"}, x_axis="wall time"
    )
    figure = plot_dashboard(info)
    band = _by_name(figure)["g · train (min to max)"]
    assert band.fill == "toself" and list(band.y) == [4.0, 3.0, 1.0, 2.0]
    mean = next(t for t in figure.data if t.name == "g" and t.mode)
    assert list(mean.y) == [3.0, 2.0]
    assert str(mean.x[0]).startswith("1970-01-01T00:16:40")
    assert figure.layout.xaxis.title.text == "wall time (UTC)"


def test_smoothed_curve_hovers_the_raw_value_and_carries_no_markers():
    # The case: a 12-point log smoothed at 0.6 showed its last validation loss as the
    # smoothed 0.123 where the run really reached 0.041.
    raw = np.array([2.1, 1.9, 1.7, 1.4, 1.0, 0.7, 0.44, 0.25, 0.13, 0.07, 0.05, 0.041])
    runs = [_run("a", {"validation/loss": raw})]
    info = dashboard_info(runs, ["loss"], smoothing="exponential", smoothing_value=0.6)
    figure = plot_dashboard(info)
    named = _by_name(figure)
    smoothed, raw_line = named["a"], named["a · validation (raw)"]
    # By hand, TensorBoard's debiased EMA ends well above the raw last value.
    last, count = 0.0, 0
    for value in raw:
        last, count = 0.6 * last + 0.4 * value, count + 1
    assert smoothed.y[-1] == pytest.approx(last / (1 - 0.6**count))
    assert smoothed.y[-1] > 0.08
    # Hover reads the raw value first ("(raw)"), the smoothed one labelled as such.
    np.testing.assert_allclose(smoothed.customdata, raw)
    assert "%{customdata:.5g} (raw)" in smoothed.hovertemplate
    assert "smoothed (exponential) %{y:.5g}" in smoothed.hovertemplate
    # The points are the raw ones: markers there, none on the smoothed line.
    assert smoothed.mode == "lines" and "markers" in raw_line.mode
    assert list(raw_line.y) == list(raw) and "(raw)" in raw_line.hovertemplate
    # Unsmoothed, the drawn curve is the raw one and the hover says nothing about smoothing.
    plain = _by_name(plot_dashboard(dashboard_info(runs, ["loss"], smoothing="none")))["a"]
    assert list(plain.y) == list(raw) and "smoothed" not in plain.hovertemplate
    assert "markers" in plain.mode


def test_log_scale_ticks_read_as_numbers():
    runs = [_run("a", {"train/loss": [2.1, 0.9, 0.3, 0.12, 0.06]})]
    figure = plot_dashboard(dashboard_info(runs, ["loss"], smoothing="none"), log_y=True)
    assert figure.layout.yaxis.type == "log"
    assert figure.layout.yaxis.title.text == "loss (log scale)"
    assert list(figure.layout.yaxis.ticktext) == ["0.1", "0.2", "0.5", "1", "2"]
    info = CurvesInfo("loss", (_curve("a", "train", [2.1, 0.9, 0.3, 0.12, 0.06]),), None)
    assert list(plot_curves(info, log_y=True).layout.yaxis.ticktext) == list(
        figure.layout.yaxis.ticktext
    )
