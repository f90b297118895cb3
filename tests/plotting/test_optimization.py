"""Learning-rate, gradient and weight figures: expected traces, axis titles, NaN/Inf marked."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurogenesis.analysis import optimization as opt
from neurogenesis.errors import InputError
from neurogenesis.io.logs import Run, ScalarSeries
from neurogenesis.plotting.optimization import (
    plot_gradient_heatmap,
    plot_learning_rate,
    plot_optimizer_comparison,
    plot_update_cosine,
    plot_weight_evolution,
    plot_weight_trajectories,
)


def _series(tag, values, steps=None):
    values = np.asarray(values, dtype=np.float64)
    n = values.size
    steps = np.arange(n) if steps is None else np.asarray(steps)
    return ScalarSeries(tag, steps, values, np.full(n, np.nan), np.zeros(n, np.int32))


def _run(name, scalars):
    """``scalars``: tag -> values, or tag -> (values, steps)."""
    series = {
        tag: _series(tag, *value) if isinstance(value, tuple) else _series(tag, value)
        for tag, value in scalars.items()
    }
    return Run(name, "/nowhere", "tensorboard", series, {}, (), ())


def _named(figure, text):
    return [trace for trace in figure.data if trace.name and text in trace.name]


def _annotations(figure):
    return " ".join(annotation.text for annotation in figure.layout.annotations)


# ------------------------------------------------------------------------------------------
# Learning rate
# ------------------------------------------------------------------------------------------


def test_learning_rate_step_lines_with_changes_marked():
    info = opt.learning_rate_info(
        [
            _run("a", {"learning_rate": [0.1, 0.1, 0.01, 0.01, 0.001]}),
            _run("b", {"lr": [0.05, 0.05, 0.05, 0.05, 0.05]}),
        ]
    )
    figure = plot_learning_rate(info)
    line_a, changes_a, line_b = figure.data
    assert line_a.line.shape == "hv" and line_a.name == "a"
    assert list(line_a.y) == [0.1, 0.1, 0.01, 0.01, 0.001]
    assert list(changes_a.x) == [2, 4] and changes_a.marker.symbol == "diamond"
    assert "0.1 → 0.01 at epoch 2" in changes_a.customdata[0]
    assert line_a.line.color == changes_a.marker.color != line_b.line.color
    assert line_a.customdata[2] == "0.01"  # exact value in the hover
    assert figure.layout.yaxis.type == "log"
    assert figure.layout.xaxis.title.text == "epoch"
    assert figure.layout.yaxis.title.text == "learning rate (log scale)"


def test_learning_rate_from_config_is_named_and_dashed():
    from neurogenesis.io.recordings import Recording

    run = Run(
        "rec", "/nowhere", "neurogenesis", {"train/loss": _series("train/loss", [1, 0.5])}, {},
        (), (),
    )  # fmt: skip
    recording = Recording(
        "/nowhere", "finished", 2, {"optimizer_config": {"learning_rate": 0.01}}, (), (), (),
        None, None, None, (), None, None, {}, {},
    )  # fmt: skip
    info = opt.learning_rate_info([run], recordings={"rec": recording})
    (line,) = plot_learning_rate(info).data
    assert "from optimizer config" in line.name and line.opacity < 1


def test_learning_rate_nan_is_marked_and_zero_falls_back_to_linear():
    info = opt.learning_rate_info([_run("a", {"learning_rate": [0.1, 0.0, np.nan]})])
    figure = plot_learning_rate(info, log_y=True)
    line = figure.data[0]
    assert math.isnan(line.y[2])
    (marker,) = _named(figure, "NaN/Inf")
    assert list(marker.x) == [2] and marker.marker.symbol == "x"
    assert figure.layout.yaxis.type == "linear"  # zero cannot be shown on a log axis


def test_learning_rate_empty_says_why():
    info = opt.learning_rate_info([_run("csv", {"loss": [1.0]})])
    figure = plot_learning_rate(info)
    assert not figure.data and "csv logged no learning rate." in _annotations(figure)


# ------------------------------------------------------------------------------------------
# Gradient norms
# ------------------------------------------------------------------------------------------


def _gradient_run():
    return _run(
        "r",
        {
            "gradient_norm/conv/kernel": [1.0, 10.0, 100.0, np.inf],
            "gradient_norm/<i>dense/kernel": [0.1, 0.0, 0.01, 0.01],
            "gradient_norm/late/kernel": ([1.0, 1.0], [2, 3]),  # not logged at epochs 0 and 1
            "gradient_norm/global": [1.0, 10.0, 100.0, np.inf],
        },
    )


def test_gradient_heatmap_log_colour_real_ticks_and_global_panel():
    info = opt.gradient_norm_info(_gradient_run())
    figure = plot_gradient_heatmap(info)
    (heatmap,) = [trace for trace in figure.data if trace.type == "heatmap"]
    assert list(heatmap.y) == ["conv", "&lt;i&gt;dense", "late"]  # as text, not HTML
    z = np.asarray(heatmap.z, dtype=float)
    np.testing.assert_allclose(z[0, :3], [0.0, 1.0, 2.0])
    assert z[1, 1] == -2.0  # a zero norm sits at the bottom of the colour scale ...
    assert "(no gradient)" in heatmap.text[1][1]  # ... and says so
    assert heatmap.text[0][1] == "norm 10"
    assert heatmap.text[2][0] == "not logged" and heatmap.text[2][2] == "norm 1"
    ticks = dict(zip(heatmap.colorbar.tickvals, heatmap.colorbar.ticktext, strict=True))
    assert ticks[0.0] == "1" and ticks[2.0] == "100" and ticks[-2.0] == "0.01"
    (global_line,) = [t for t in figure.data if t.name == "global norm (logged)"]
    assert global_line.xaxis == "x" and heatmap.xaxis == "x2"
    assert figure.layout.xaxis.matches == "x2" or figure.layout.xaxis2.matches == "x"
    assert figure.layout.yaxis2.autorange == "reversed"  # model order top to bottom
    assert figure.layout.xaxis2.title.text == "epoch"
    assert figure.layout.yaxis2.title.text == "layer"
    assert figure.layout.yaxis.title.text == "global norm (log)"
    # The short panel's log axis: at most three ticks, labelled in full numbers.
    assert len(figure.layout.yaxis.tickvals) <= 3
    assert list(figure.layout.yaxis.ticktext) == [
        f"{v:g}" if 1e-3 <= v < 1e4 else f"{v:.0e}".replace("e-0", "e-")
        for v in figure.layout.yaxis.tickvals
    ]


def test_log_axis_ticks_read_as_numbers():
    from neurogenesis.plotting.optimization import log_axis_ticks

    # Within three decades: 1, 2, 5 per decade, every label a full number.
    ticks = log_axis_ticks([0.04, 2.1])
    assert ticks["tickvals"] == [0.05, 0.1, 0.2, 0.5, 1.0, 2.0]
    assert ticks["ticktext"] == ["0.05", "0.1", "0.2", "0.5", "1", "2"]
    # Wider: powers of ten only.
    assert log_axis_ticks([1e-5, 10.0])["ticktext"] == [
        "1e-5",
        "1e-4",
        "0.001",
        "0.01",
        "0.1",
        "1",
        "10",
    ]
    # One value: the neighbouring ticks so at least two show; nothing positive: Plotly's own.
    assert log_axis_ticks([0.001])["tickvals"] == [0.0005, 0.001, 0.002]
    assert log_axis_ticks([0.0, -1.0, np.nan]) == {}
    # float32 learning rates (0.001 stored as 0.0010000000475) still get their end ticks.
    rates = np.array([0.001, 0.01], dtype=np.float32)
    assert log_axis_ticks(rates)["ticktext"] == ["0.001", "0.002", "0.005", "0.01"]


def test_coinciding_learning_rates_stay_distinguishable():
    # Three optimizers on the same constant rate, one on another: the overlapping lines.
    runs = [
        _run(name, {"learning_rate": [rate] * 4})
        for name, rate in (("adam", 1e-3), ("adam_no_bn", 1e-3), ("rmsprop", 1e-3), ("sgd", 1e-2))
    ]
    figure = plot_learning_rate(opt.learning_rate_info(runs))
    lines = [trace for trace in figure.data if trace.mode and "lines" in trace.mode]
    assert len(lines) == 4
    styles = {(t.line.dash, t.marker.symbol, t.line.width) for t in lines}
    assert len(styles) == 4  # each run its own dash, marker and width
    widths = [t.line.width for t in lines]
    assert widths == sorted(widths, reverse=True)  # later lines thinner: earlier ones show
    assert lines[1].name.endswith("(same as adam)") and lines[2].name.endswith("(same as adam)")
    assert "same as" not in lines[3].name
    assert figure.layout.hovermode == "x unified"
    assert list(figure.layout.yaxis.ticktext) == ["0.001", "0.002", "0.005", "0.01"]


def test_tick_labels_for_tiny_norms():
    run = _run("r", {"gradient_norm/a/k": [2e-9, 1e-6], "gradient_norm/b/k": [3e-7, 1e-8]})
    figure = plot_gradient_heatmap(opt.gradient_norm_info(run))
    (heatmap,) = [trace for trace in figure.data if trace.type == "heatmap"]
    labels = list(heatmap.colorbar.ticktext)
    assert labels[0] == "2e-9" and labels[-1] == "1e-6"  # 1, 2, 5 per decade inside the range
    assert {"1e-8", "1e-7", "5e-7"} <= set(labels)
    np.testing.assert_allclose(10 ** np.asarray(heatmap.colorbar.tickvals)[[0, -1]], [2e-9, 1e-6])


def test_gradient_heatmap_marks_nonfinite():
    figure = plot_gradient_heatmap(opt.gradient_norm_info(_gradient_run()))
    (cells,) = _named(figure, "NaN/Inf gradient")
    assert list(cells.x) == [3] and list(cells.y) == ["conv"]
    assert "+Inf" in cells.customdata[0]
    assert "NaN/Inf from epoch 3" in figure.layout.title.text
    assert any(shape.x0 == 3 and shape.x1 == 3 for shape in figure.layout.shapes)
    (global_marker,) = _named(figure, "global norm: NaN/Inf")
    assert list(global_marker.x) == [3]


def test_gradient_heatmap_unavailable_shows_reason():
    info = opt.gradient_norm_info(_run("k/train", {"epoch_loss": [1.0]}))
    figure = plot_gradient_heatmap(info)
    assert not figure.data
    assert "TensorBoard callback" in _annotations(figure)


# ------------------------------------------------------------------------------------------
# Weights
# ------------------------------------------------------------------------------------------


def _evolution():
    a = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [1.0, 0.0]]
    checkpoints = [
        {"a/kernel": np.array(a[t]), "a/bias": np.array([1.0]), "b/kernel": np.array([3.0, 4.0])}
        for t in range(4)
    ]
    return opt.weight_evolution_info([-1, 0, 1, 2], checkpoints)


def test_update_cosine_lines_zero_line_and_words():
    info = _evolution()
    figure = plot_update_cosine(info)
    a, b, model = figure.data[:3]
    assert (a.name, b.name, model.name) == ("a", "b", "whole model")
    np.testing.assert_allclose(list(a.y), [0.0, -1.0], atol=1e-12)
    assert list(a.x) == [0, 1]  # the checkpoint between the two updates
    assert "update -1→0 vs 0→1" in a.customdata[0]
    assert all(math.isnan(v) for v in b.y)  # b never moved
    (undefined,) = _named(figure, "undefined")
    assert len(undefined.x) == 2 and list(undefined.y) == [0.0, 0.0]
    assert tuple(figure.layout.yaxis.range) == (-1.05, 1.05)
    assert any(shape.y0 == 0 and shape.y1 == 0 for shape in figure.layout.shapes)
    assert "+1: same direction (steady descent)" in _annotations(figure)
    assert "−1: oscillating" in _annotations(figure)
    assert figure.layout.yaxis.title.text == "cosine(update k, update k+1)"


def test_update_cosine_needs_three_checkpoints():
    info = opt.weight_evolution_info([0, 1], [{"a/k": np.ones(2)}, {"a/k": np.zeros(2)}])
    assert "at least three checkpoints" in _annotations(plot_update_cosine(info))


@pytest.mark.parametrize(
    ("quantity", "axis", "expected_a"),
    [
        ("norm", "weight L2 norm ‖W‖", [1.0, math.sqrt(2), math.sqrt(3), math.sqrt(2)]),
        ("distance", "distance from initialization ‖W − W₀‖", [0.0, 1.0, math.sqrt(2), 1.0]),
        ("relative_distance", "relative distance ‖W − W₀‖ / ‖W₀‖", [0, 1, math.sqrt(2), 1]),
    ],
)
def test_weight_evolution_quantities(quantity, axis, expected_a):
    figure = plot_weight_evolution(_evolution(), quantity)
    a = figure.data[0]
    np.testing.assert_allclose(list(a.y), expected_a)
    assert list(a.x) == [-1, 0, 1, 2]
    assert figure.layout.yaxis.title.text == axis
    assert figure.layout.xaxis.title.text == "epoch (−1 = before training)"
    model = _named(figure, "whole model")[0]
    assert model.line.dash == "dash"


def test_weight_evolution_marks_nan_and_rejects_unknown_quantity():
    checkpoints = [{"a/k": np.ones(2)}, {"a/k": np.array([np.nan, 1.0])}]
    figure = plot_weight_evolution(opt.weight_evolution_info([0, 1], checkpoints))
    markers = _named(figure, "NaN/Inf from 1")
    assert markers and all(list(m.x) == [1] for m in markers)
    with pytest.raises(InputError, match="quantity"):
        plot_weight_evolution(_evolution(), "speed")


def test_weight_trajectories_figure():
    checkpoints = [{"w": np.zeros((2, 2))}, {"w": np.array([[0.0, 1.0], [np.inf, 0.5]])}]
    info = opt.weight_trajectories([-1, 0], checkpoints, "w", count=2)
    figure = plot_weight_trajectories(info)
    lines = [t for t in figure.data if t.mode != "markers"]
    assert [t.name for t in lines] == ["w[1,0]", "w[0,1]"]
    assert math.isnan(lines[0].y[1]) and list(lines[1].y) == [0.0, 1.0]
    assert _named(figure, "w[1,0]: NaN/Inf from 0")
    assert figure.layout.yaxis.title.text == "weight value"
    assert "the 2 weights that moved most" in figure.layout.title.text


# ------------------------------------------------------------------------------------------
# Optimizer comparison
# ------------------------------------------------------------------------------------------


def test_optimizer_comparison_small_multiples():
    runs = [
        _run(
            "adam",
            {
                "train/loss": [1.0, 0.5, 0.4],
                "validation/loss": [1.1, 0.6, 0.5],
                "gradient_norm/global": [2.0, 1.0, 0.5],
                "learning_rate": [0.001, 0.001, 0.001],
            },
        ),
        _run("sgd", {"train/loss": [1.0, np.nan, np.nan], "validation/loss": [1.2, 0.9, 0.8]}),
    ]
    info = opt.optimizer_comparison_info(
        runs, hyperparameters={"adam": {"optimizer": "adam", "learning_rate": 0.001}}
    )
    figure = plot_optimizer_comparison(info)
    titles = [a.text for a in figure.layout.annotations]
    for title in ("training loss", "validation loss", "global gradient norm", "learning rate"):
        assert title in titles
    legend = [t for t in figure.data if t.showlegend]
    assert [t.name for t in legend] == ["Adam, lr 0.001", "sgd"]
    adam = [t for t in figure.data if t.legendgroup == "adam" and t.x[0] is not None]
    assert len(adam) == 4  # one line per panel
    assert len({t.line.color for t in adam}) == 1
    assert {t.xaxis for t in adam} == {"x", "x2", "x3", "x4"}
    (diverged,) = _named(figure, "NaN/Inf from 1")
    assert diverged.xaxis == "x" and diverged.marker.symbol == "x"
    assert figure.layout.xaxis.title.text == "epoch" and figure.layout.yaxis.title.text == "loss"
    assert figure.layout.yaxis3.title.text == "gradient L2 norm"
    assert figure.layout.yaxis4.type == "log"


def test_optimizer_comparison_missing_panels_say_not_logged():
    info = opt.optimizer_comparison_info([_run("csv", {"loss": [1.0, 0.5], "val_loss": [1, 2]})])
    figure = plot_optimizer_comparison(info)
    assert [a.text for a in figure.layout.annotations].count("not logged") == 2
    panels = {t.xaxis for t in figure.data if t.x is not None and t.x[0] is not None}
    assert panels == {"x", "x2"}
