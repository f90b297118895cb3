"""The training-dynamics figures: markers where the analysis put them, nothing dropped silently."""

from __future__ import annotations

import json
import math

import numpy as np
import plotly.graph_objects as go
import pytest

from neurogenesis.analysis import convergence
from neurogenesis.plotting import convergence as plots


def _overfitting_report(**settings):
    t = np.arange(40, dtype=float)
    train = np.exp(-t / 10)
    validation = 0.5 + (t - 20) ** 2 / 200  # best at 20, onset 21, EarlyStopping(5) stops at 25
    return convergence.early_stopping_report(t, train, validation, **settings)


def _trace(figure, prefix):
    (trace,) = [trace for trace in figure.data if (trace.name or "").startswith(prefix)]
    return trace


def _shapes(figure, prefix):
    return [shape for shape in figure.layout.shapes if (shape.name or "").startswith(prefix)]


def _lane_labels(figure):
    return {
        annotation.text: annotation
        for annotation in figure.layout.annotations
        if (annotation.name or "").startswith("lane")
    }


# --- plot_early_stopping ---------------------------------------------------------------------


def test_early_stopping_markers_sit_where_the_analysis_found_them():
    report = _overfitting_report()
    figure = plots.plot_early_stopping(report)
    train, validation = _trace(figure, "training loss"), _trace(figure, "validation loss")
    assert train.line.dash == "solid" and validation.line.dash == "dash"
    np.testing.assert_array_equal(validation.y, report.validation_values)
    best = _trace(figure, "best: epoch 20")
    assert list(best.x) == [20.0] and list(best.y) == [0.5] and best.marker.symbol == "star"

    stop_lines = _shapes(figure, "EarlyStopping(patience=5) stops after epoch 25")
    assert [(s.x0, s.x1) for s in stop_lines] == [(25.0, 25.0)] * 2  # both panels
    assert {s.yref for s in stop_lines} == {"y domain", "y2 domain"}
    (saved, _) = _shapes(figure, "not run: 14 of 40 epochs saved")
    assert (saved.x0, saved.x1, saved.type) == (25.0, 39.0, "rect")
    onset = _shapes(figure, "overfitting onset: epoch 21")
    assert [s.x0 for s in onset] == [21.0, 21.0]

    labels = _lane_labels(figure)
    assert set(labels) == {"best: epoch 20", "overfits from epoch 21", "patience 5 stops here"}
    # One lane each: no two labels share a height.
    assert sorted(a.yshift for a in labels.values()) == [-40, -20, 0]
    assert labels["patience 5 stops here"].x == 25.0
    # The curves stay below the lanes: headroom above the highest value.
    top = figure.layout.yaxis.range[1]
    assert top > np.nanmax(report.validation_values) * 1.2

    gap = _trace(figure, "gap (validation − training)")
    np.testing.assert_allclose(gap.y, report.gap)
    assert gap.xaxis == "x2" and gap.yaxis == "y2"
    (zero,) = _shapes(figure, "zero gap")
    assert (zero.y0, zero.y1, zero.yref) == (0, 0, "y2")
    widening = _shapes(figure, "gap widening")
    assert widening and all(s.yref == "y2 domain" for s in widening)
    # The gap of these curves shrinks until epoch 18, then widens to the end.
    assert [(s.x0, s.x1) for s in widening] == [(18.0, 39.0)]

    assert figure.layout.title.subtitle.text == report.verdict
    assert figure.layout.height == plots.FIGURE_HEIGHT
    assert figure.layout.xaxis2.title.text == "epoch"
    assert figure.layout.yaxis.title.text == "loss"


def test_early_stopping_labels_near_each_other_and_near_the_right_edge():
    t = np.arange(40, dtype=float)
    train = np.exp(-t / 10)
    validation = 0.3 + np.exp(-t / 3) + np.where(t > 8, (t - 8) * 0.03, 0.0)
    report = convergence.early_stopping_report(t, train, validation)
    assert (report.best_epoch, report.overfitting_onset) == (8.0, 10.0)
    labels = _lane_labels(plots.plot_early_stopping(report))
    assert len({a.yshift for a in labels.values()}) == len(labels) == 3
    assert all(a.xanchor == "left" for a in labels.values())  # all in the left part
    # A marker near the right edge writes its label to the left of its line.
    steps = 100 * np.arange(20) + 100
    late = convergence.early_stopping_report(steps, np.maximum(20.0 - np.arange(20), 7.0))
    labels = _lane_labels(plots.plot_early_stopping(late))
    assert labels["best: epoch 1400"].xanchor == "right"
    assert labels["best: epoch 1400"].xshift < 0
    assert labels["patience 5 stops here"].x == 1900


def test_early_stopping_training_only_plateau_at_the_end():
    steps = 100 * np.arange(20) + 100
    report = convergence.early_stopping_report(steps, np.maximum(10.0 - np.arange(20), 1.0))
    figure = plots.plot_early_stopping(report)
    assert "xaxis2" not in figure.layout.to_plotly_json()  # no gap panel without validation
    (plateau,) = _shapes(figure, "plateau: training loss flat within 1%")
    assert (plateau.x0, plateau.x1, plateau.yref) == (1000.0, 2000.0, "y domain")
    assert plateau.showlegend
    (stop,) = _shapes(figure, "EarlyStopping(patience=5) stops after epoch 1500")
    assert stop.x0 == 1500.0
    assert figure.layout.xaxis.title.text == "epoch"


def test_early_stopping_diverged_run_marks_every_non_finite_value():
    t = np.arange(15, dtype=float)
    train = np.exp(-t / 4)
    validation = train + 0.05
    train[9:] = np.nan
    validation[10:] = np.inf
    report = convergence.early_stopping_report(t, train, validation)
    figure = plots.plot_early_stopping(report)
    diverged = _trace(figure, "diverged at epoch 9 (training NaN)")
    assert list(diverged.x) == [9.0] and diverged.marker.symbol == "x"
    nan_train = _trace(figure, "training loss: NaN/Inf at 6 epochs")
    assert list(nan_train.x) == list(range(9, 15)) and set(nan_train.customdata) == {"NaN"}
    inf_validation = _trace(figure, "validation loss: NaN/Inf at 5 epochs")
    assert list(inf_validation.x) == list(range(10, 15))
    assert set(inf_validation.customdata) == {"Inf"}
    # The markers sit at the top of the finite values, inside the axis range.
    low, high = figure.layout.yaxis.range
    assert low < nan_train.y[0] == np.nanmax(validation[np.isfinite(validation)]) < high
    assert "diverged: epoch 9" in _lane_labels(figure)
    # One non-finite value is named by its epoch (the digits diverging story's NaN at epoch 6).
    last = train.copy()
    last[9:14] = np.exp(-t[9:14] / 4)
    single = plots.plot_early_stopping(convergence.early_stopping_report(t, last))
    assert list(_trace(single, "training loss: NaN/Inf at epoch 14").x) == [14.0]
    # The rounding-level change of a constant gap is not shaded as widening.
    assert _shapes(figure, "gap widening") == []


def test_early_stopping_spike_is_marked_at_its_value():
    report = convergence.early_stopping_report(np.arange(6), [1.0, 0.5, 0.2, 0.3, 2.5, 0.1])
    figure = plots.plot_early_stopping(report)
    spike = _trace(figure, "diverged at epoch 4 (training jumped to 2.5)")
    assert list(spike.y) == [2.5]


def test_early_stopping_escapes_names_from_logs():
    report = convergence.early_stopping_report(
        [0, 1, 2], [1.0, 0.5, 0.4], metric="<b>loss</b>", goal="min"
    )
    figure = plots.plot_early_stopping(report)
    assert figure.layout.yaxis.title.text == "&lt;b&gt;loss&lt;/b&gt;"
    assert all("<b>" not in (trace.name or "") for trace in figure.data)


# --- plot_correlations -----------------------------------------------------------------------


def _correlations():
    rng = np.random.default_rng(3)
    loss = np.exp(-np.arange(20) / 5) + rng.normal(0, 0.02, 20)
    return convergence.metric_correlations(
        {
            "loss": loss,
            "validation/sparse_categorical_accuracy": 1 - loss + rng.normal(0, 0.02, 20),
            "learning_rate": np.full(20, 1e-3),  # constant: undefined correlations
            "noise": rng.normal(size=20),
        },
        method="spearman",
    )


def test_correlation_cells_show_the_matrix_rounded_and_nan_as_a_dash():
    info = _correlations()
    figure = plots.plot_correlations(info)
    (heatmap,) = figure.data
    assert (heatmap.zmin, heatmap.zmax) == (-1, 1) and heatmap.colorbar.title.text == "r"
    assert figure.layout.xaxis.title.text == figure.layout.yaxis.title.text == "metric"
    np.testing.assert_array_equal(np.array(heatmap.z, dtype=float), info.matrix)
    cells = {(a.y, a.x): a.text for a in figure.layout.annotations}
    assert len(cells) == 16
    for i, row_name in enumerate(info.names):
        for j, column_name in enumerate(info.names):
            value = info.matrix[i, j]
            expected = "—" if math.isnan(value) else f"{value:.2f}".replace("-0.00", "0.00")
            assert cells[(row_name, column_name)] == expected
    assert cells[("learning_rate", "loss")] == "—"
    assert cells[("loss", "loss")] == "1.00"
    assert "Spearman" in figure.layout.title.text
    assert "20 epochs" in figure.layout.title.subtitle.text
    # Long names are not cut off: the axes make room for their labels.
    assert figure.layout.xaxis.automargin and figure.layout.yaxis.automargin
    assert figure.layout.yaxis.autorange == "reversed"


def test_correlations_escape_names_and_report_too_few_epochs():
    info = convergence.metric_correlations({"<i>a</i>": [1.0, math.nan], "b": [2.0, 3.0]})
    figure = plots.plot_correlations(info)
    assert list(figure.data[0].x) == ["&lt;i&gt;a&lt;/i&gt;", "b"]
    assert "correlations are undefined" in figure.layout.title.subtitle.text
    assert {a.text for a in figure.layout.annotations} == {"—"}


# --- plot_trajectory_3d ----------------------------------------------------------------------


def test_trajectory_cones_one_per_finite_point_along_the_direction_of_travel():
    t = np.arange(10, dtype=float)
    x = 2.0 - 0.1 * t
    y = 0.5 + 0.04 * t
    x[4] = math.nan
    info = convergence.trajectory_info(t, x, y, x_name="validation/loss", y_name="accuracy")
    figure = plots.plot_trajectory_3d(info)
    cone = next(trace for trace in figure.data if isinstance(trace, go.Cone))
    assert len(cone.x) == int(info.finite.sum()) == 9
    vectors = np.column_stack([cone.u, cone.v, cone.w])
    # Linear motion: every cone points along (dx, dy, dt) in the cube's units.
    x_range, y_range, t_range = 0.9, 0.36, 9.0
    expected = np.array([-0.1 / x_range, 0.04 / y_range, 1 / t_range])
    expected /= np.linalg.norm(expected)
    lengths = np.linalg.norm(vectors, axis=1)
    np.testing.assert_allclose(vectors / lengths[:, None], np.tile(expected, (9, 1)), atol=1e-12)
    assert np.all(lengths >= plots.CONE_MIN_LENGTH - 1e-12)
    assert np.all(lengths <= plots.CONE_MAX_LENGTH + 1e-12)
    assert cone.sizemode == "raw" and cone.anchor == "tail"

    line = figure.data[0]
    assert math.isnan(line.x[4])  # the dropped point breaks the line...
    assert "epoch 4" in figure.layout.title.subtitle.text  # ...and is named
    assert line.x[0] == pytest.approx(1.0) and line.x[-1] == pytest.approx(0.0)  # normalised
    scene = figure.layout.scene
    assert scene.xaxis.title.text == "validation/loss" and scene.yaxis.title.text == "accuracy"
    assert scene.zaxis.title.text == "epoch" and scene.aspectmode == "cube"
    # Ticks are labelled in real units at their normalised positions.
    for tick, text in zip(scene.xaxis.tickvals, scene.xaxis.ticktext, strict=True):
        assert float(text) == pytest.approx(1.1 + tick * 0.9)
    ends = next(trace for trace in figure.data if trace.name == "start and end")
    assert list(ends.text) == ["start · epoch 0", "end · epoch 9"]
    without = plots.plot_trajectory_3d(info, show_arrows=False)
    assert not any(isinstance(trace, go.Cone) for trace in without.data)


def test_trajectory_on_demo_logs_cone_length_grows_with_speed():
    from neurogenesis.io.logs import find_runs

    (run,) = find_runs("data/runs/digits_cnn/adam")
    loss, accuracy = run.scalars["validation/loss"], run.scalars["validation/accuracy"]
    info = convergence.trajectory_info(
        loss.steps, loss.values, accuracy.values, x_name="loss", y_name="accuracy"
    )
    figure = plots.plot_trajectory_3d(info)
    cone = next(trace for trace in figure.data if isinstance(trace, go.Cone))
    assert len(cone.x) == loss.steps.size
    # All three axes titled, and the camera far enough out that the titles are not cut off
    # (Plotly's default eye (1.25, 1.25, 1.25) clipped "validation accuracy").
    scene = figure.layout.scene
    assert [scene[a].title.text for a in ("xaxis", "yaxis", "zaxis")] == [
        "loss",
        "accuracy",
        "epoch",
    ]
    eye = scene.camera.eye
    assert math.hypot(eye.x, eye.y) > math.hypot(1.25, 1.25)
    lengths = np.linalg.norm(np.column_stack([cone.u, cone.v, cone.w]), axis=1)
    fastest = int(np.argmax(info.speed))
    assert lengths[fastest] == pytest.approx(plots.CONE_MAX_LENGTH)
    assert np.all(np.diff(lengths[np.argsort(info.speed)]) >= -1e-12)


# --- plot_convergence ------------------------------------------------------------------------


def test_convergence_not_yet_converged_extends_the_fit():
    epochs = np.arange(5, 25, dtype=float)
    info = convergence.convergence_info(epochs, 0.25 + 2 * np.exp(-(epochs - 5) / 7))
    figure = plots.plot_convergence(info, "loss")
    fit = _trace(figure, "exponential fit")
    assert fit.line.dash == "dash"
    assert fit.x[0] == 5.0 and fit.x[-1] == pytest.approx(info.convergence_epoch)
    np.testing.assert_allclose(fit.y, info.curve(fit.x))
    (asymptote,) = _shapes(figure, "asymptote 0.25")
    assert asymptote.y0 == pytest.approx(0.25) and asymptote.line.dash == "dot"
    remaining = math.ceil(info.convergence_epoch - 24)
    assert f"about {remaining} more epochs to converge" in _lane_labels(figure)
    (line,) = _shapes(figure, f"about {remaining} more epochs")
    assert line.x0 == pytest.approx(info.convergence_epoch)

    # Bottom panel: change per epoch split by direction, relative change in percent.
    improving = _trace(figure, "improving")
    np.testing.assert_allclose(improving.y, np.diff(info.values))
    assert list(improving.x) == list(epochs[1:])
    relative = _trace(figure, "relative change (%)")
    np.testing.assert_allclose(relative.y, info.relative_change * 100)
    assert relative.yaxis == "y3"
    # Both axes of the bottom panel put zero at the same height.
    shares = [
        -axis.range[0] / (axis.range[1] - axis.range[0])
        for axis in (figure.layout.yaxis2, figure.layout.yaxis3)
    ]
    assert shares[0] == pytest.approx(shares[1])


def test_convergence_converged_far_off_and_without_fit():
    epochs = np.arange(5, 65, dtype=float)
    info = convergence.convergence_info(epochs, 0.25 + 2 * np.exp(-(epochs - 5) / 7))
    labels = _lane_labels(plots.plot_convergence(info))
    assert f"converged at ~epoch {info.convergence_epoch:.0f}" in labels

    slow = np.arange(10, dtype=float)
    info = convergence.convergence_info(slow, 1 + 5 * np.exp(-slow / 8))
    figure = plots.plot_convergence(info)
    (label,) = _lane_labels(figure)
    assert label.endswith("→") and f"epoch ~{info.convergence_epoch:.0f}" in label
    assert _trace(figure, "exponential fit").x[-1] == pytest.approx(18.0)  # one span further

    info = convergence.convergence_info([0, 1, 2], [1.0, 0.5, 0.3])
    figure = plots.plot_convergence(info)
    _assert_draws_nothing_but_the_data(
        figure, "No exponential fit drawn: only 3 usable epochs (at least 4 needed)."
    )


def _assert_draws_nothing_but_the_data(figure, subtitle: str) -> None:
    assert figure.layout.title.subtitle.text.replace("<br>", " ") == subtitle
    assert not _lane_labels(figure)  # no convergence epoch claimed
    assert not [trace for trace in figure.data if (trace.name or "").startswith("exponential")]
    assert not [shape for shape in figure.layout.shapes if shape.yref == "y"]  # no asymptote


def test_a_fit_that_does_not_describe_the_data_draws_nothing():
    # The case: the fit pinned its asymptote at 3e-33, ran above the last points and
    # claimed "about 8 more epochs to converge".
    from neurogenesis.io.logs import find_runs

    (run,) = find_runs("data/runs/digits_cnn/adam")
    series = run.scalars["validation/loss"]
    info = convergence.convergence_info(series.steps, series.values)
    assert not info.fit_succeeded
    figure = plots.plot_convergence(info, "validation loss")
    _assert_draws_nothing_but_the_data(figure, f"No exponential fit drawn: {info.fit_problem}.")
    assert "more epochs" not in json.dumps(figure.to_plotly_json(), default=str)
    # A curve that too little of its approach shows: an asymptote beyond what the data allow.
    slow = np.arange(10, dtype=float)
    info = convergence.convergence_info(slow, 1 + 5 * np.exp(-slow / 60))
    assert "observed range" in info.fit_problem
    _assert_draws_nothing_but_the_data(
        plots.plot_convergence(info), f"No exponential fit drawn: {info.fit_problem}."
    )


def test_convergence_diverged_run_keeps_the_nans_visible():
    epochs = np.arange(30, dtype=float)
    values = 0.2 + np.exp(-epochs / 4)
    values[18:] = np.nan
    values[20] = np.inf
    info = convergence.convergence_info(epochs, values)
    figure = plots.plot_convergence(info)
    marks = _trace(figure, "loss: NaN/Inf at 12 epochs")
    assert list(marks.x) == list(range(18, 30))
    assert marks.customdata[2] == "Inf" and marks.customdata[0] == "NaN"
    assert [s.x0 for s in _shapes(figure, "diverged at epoch 18")] == [18.0, 18.0]
    assert "diverged: epoch 18" in _lane_labels(figure)


def test_convergence_on_demo_logs():
    from neurogenesis.io.logs import find_runs

    (run,) = find_runs("data/runs/digits_cnn/adam")
    series = run.scalars["train/loss"]
    info = convergence.convergence_info(series.steps, series.values)
    figure = plots.plot_convergence(info, "train/loss")
    np.testing.assert_array_equal(_trace(figure, "train/loss").y, series.values)
    bars = [trace for trace in figure.data if isinstance(trace, go.Bar)]
    shown = sorted(x for bar in bars for x in bar.x)
    assert shown == list(series.steps[1:])  # every change drawn, up or down
    assert figure.layout.yaxis.title.text == "train/loss"
    assert figure.layout.yaxis2.title.text == "change per epoch"
