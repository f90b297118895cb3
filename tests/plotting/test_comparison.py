"""Comparison figures: the numbers drawn and hovered are the infos' numbers. No TensorFlow."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from neurogenesis.analysis.architecture import ArchitectureInfo, LayerInfo
from neurogenesis.analysis.comparison import (
    ComplexityProfile,
    TradeoffEntry,
    architecture_diff,
    tradeoff_info,
)
from neurogenesis.plotting.comparison import (
    REFERENCE,
    STATUS_COLORS,
    diff_table,
    plot_architecture_diff,
    plot_complexity_radar,
    plot_side_by_side_costs,
    plot_tradeoff,
    radar_radii,
)
from neurogenesis.plotting.style import PALETTE

TINY = ComplexityProfile("tiny_dense", 2, 195, 176, 856, 2, 16)


def _layer(name, class_name="Dense", units=4, params=20, macs=None):
    macs = params if macs is None else macs
    return LayerInfo(name, class_name, (None, units), params, params, macs, units * 4, params * 4)


def _info(name, layers):
    total = sum(layer.num_params for layer in layers)
    macs = sum(layer.macs for layer in layers)
    return ArchitectureInfo(
        name, "Functional", ((None, 4),), ((None, 4),), total, total, macs, layers
    )


# --- Radar ----------------------------------------------------------------------------------------


def test_radar_radii_by_hand():
    small = ComplexityProfile("small", 10, 100, 1_000, 100, 10, 10)
    large = ComplexityProfile("large", 100, 10_000, 100_000, 10_000, 100, 100)
    radii, edges, decades = radar_radii([small, large])
    assert edges == {
        "layers": 100,
        "parameters": 10_000,
        "compute": 100_000,
        "memory": 10_000,
        "depth": 100,
        "width": 100,
    }
    assert decades == 2  # parameters, compute and memory span two factors of ten
    assert radii[1] == [1.0] * 6
    assert radii[0] == pytest.approx([0.5, 0.0, 0.0, 0.0, 0.5, 0.5])
    # An unknown (subclassed) compute sits at the centre.
    unknown = ComplexityProfile("sub", 10, 100, None, 100, 10, 10)
    assert radar_radii([unknown, large])[0][0][2] == 0.0


def test_radar_of_one_model_shows_the_reference_and_true_values():
    figure = plot_complexity_radar([TINY])
    model, reference = figure.data
    assert model.name == "tiny_dense"
    assert reference.name == "ResNet-50 (reference)"
    assert len(model.r) == 7 and model.r[0] == model.r[-1]  # a closed hexagon
    assert list(model.customdata[:6]) == [
        "2 layers",
        "195 parameters",
        "176 MACs per sample",
        "856 B memory (weights + one sample's activations)",
        "2 layers deep",
        "16 channels or units in the widest layer",
    ]
    assert "25.6 M parameters" in reference.customdata
    assert "3.86 G MACs per sample" in reference.customdata
    assert reference.line.dash == "dot"
    # Every axis is labelled with its edge value.
    assert any("edge 100 M" in label for label in model.theta)
    assert len(plot_complexity_radar([TINY], reference=None).data) == 1


def test_radar_of_several_models_has_a_polygon_each():
    other = ComplexityProfile("tiny_dense", 3, 400, None, 2_000, 3, 32)
    figure = plot_complexity_radar([TINY, other, REFERENCE])
    assert [trace.name for trace in figure.data] == ["tiny_dense", "tiny_dense #2", "ResNet-50"]
    assert [trace.line.color for trace in figure.data] == list(PALETTE[:3])
    assert "compute unknown (no graph to count)" in figure.data[1].customdata
    # Eight rings: TINY's 176 MACs (decade 10^2) up to ResNet-50's edge of 10^10.
    assert figure.data[2].r[1] == pytest.approx(1 - (8 - math.log10(25_636_712)) / 8)
    with pytest.raises(ValueError, match="at least one"):
        plot_complexity_radar([])


# --- Diff -----------------------------------------------------------------------------------------


def _two_models():
    a = (
        _layer("x", "InputLayer", params=0),
        _layer("conv", "Conv2D", units=8, params=80),
        _layer("norm", "BatchNormalization", units=8, params=32, macs=0),
        _layer("out", params=90),
    )
    b = (
        _layer("x", "InputLayer", params=0),
        _layer("conv", "Conv2D", units=16, params=160),
        _layer("extra", params=272),
        _layer("out", params=90),
    )
    return _info("a", a), _info("b", b)


def test_diff_figure_colours_each_status_and_draws_the_deltas():
    diff = architecture_diff(*_two_models())
    assert [row.status for row in diff.rows] == ["same", "changed", "removed", "added", "same"]
    figure = plot_architecture_diff(diff)
    markers = {trace.name: trace for trace in figure.data if trace.type == "scatter"}
    bars = {trace.name: trace for trace in figure.data if trace.type == "bar"}
    assert set(markers) == set(bars) == {"same", "changed", "removed", "added"}
    for status, trace in markers.items():
        assert trace.marker.color == STATUS_COLORS[status] == bars[status].marker.color
        assert trace.showlegend is not False and bars[status].showlegend is False
    assert STATUS_COLORS == {
        "same": "#A0A0A0",
        "changed": "#E69F00",
        "added": "#009E73",
        "removed": "#D55E00",
    }
    assert list(bars["changed"].x) == [80]
    assert list(bars["removed"].x) == [-32]
    assert list(bars["added"].x) == [272]
    assert list(bars["added"].text) == ["+272"]
    hover = markers["changed"].customdata[0]
    assert "output (None, 8) → (None, 16)" in hover
    assert "parameters 80 → 160" in hover
    assert "Δ parameters +80" in hover
    ticks = list(figure.layout.yaxis.ticktext)
    assert ticks == [
        "x (InputLayer)",
        "conv (Conv2D)",
        "− norm (BatchNormalization)",
        "+ extra (Dense)",
        "out (Dense)",
    ]
    assert "Δ parameters +320" in figure.layout.title.text
    macs = plot_architecture_diff(diff, delta="macs")
    assert list(next(t for t in macs.data if t.type == "bar" and t.name == "removed").x) == [0]
    with pytest.raises(ValueError, match="delta"):
        plot_architecture_diff(diff, delta="flops")


def test_long_unchanged_runs_fold_and_names_are_text():
    layers = tuple(_layer(f"block_{index}") for index in range(175))
    changed = (*layers[:100], _layer("block_100", units=8, params=40), *layers[101:])
    diff = architecture_diff(_info("resnet", layers), _info("resnet", changed))
    figure = plot_architecture_diff(diff)
    ticks = list(figure.layout.yaxis.ticktext)
    assert ticks == [
        "block_0 (Dense)",
        "⋯ 98 unchanged layers",
        "block_99 (Dense)",
        "block_100 (Dense)",
        "block_101 (Dense)",
        "⋯ 72 unchanged layers",
        "block_174 (Dense)",
    ]
    assert figure.layout.height < 500
    unfolded = plot_architecture_diff(diff, collapse_same=False)
    assert len(unfolded.layout.yaxis.ticktext) == 175
    assert unfolded.layout.height > 175 * 20
    hostile = (_layer("<b>x</b>"),)
    text = plot_architecture_diff(architecture_diff(_info("a", hostile), _info("b", ())))
    assert "&lt;b&gt;x&lt;/b&gt;" in text.layout.yaxis.ticktext[0]


def test_diff_table_is_reexported_for_pages():
    rows = diff_table(architecture_diff(*_two_models()))
    assert [row["status"] for row in rows] == ["same", "changed", "removed", "added", "same"]
    assert rows[1]["what changed"] == "output (None, 8) → (None, 16); parameters 80 → 160"
    assert rows[1]["Δ parameters"] == 80 and rows[1]["Δ MACs"] == 80


# --- Trade-offs -----------------------------------------------------------------------------------


DIGITS, SHAPES = "data/samples/digits_cnn.npz", "data/samples/shapes_cnn.npz"


def _tradeoff():
    return tradeoff_info(
        [
            TradeoffEntry("digits_cnn", 10_074, 309_248, "accuracy", 0.9972, "max", DIGITS),
            TradeoffEntry("shapes_cnn", 24_245, 2_801_984, "accuracy", 0.934, "max", SHAPES),
            TradeoffEntry(
                "digits_vae", 12_740, 12_480, "reconstruction_mse", 0.0428, "min", DIGITS
            ),
            TradeoffEntry("weather_lstm", 10_273, 100_752),
            TradeoffEntry("subclassed", 5_000, None, "accuracy", 0.5, "max", DIGITS),
            TradeoffEntry("digits_wide", 40_000, 900_000, "accuracy", 0.99, "max", DIGITS),
        ]
    )


def _panel_of(trace) -> str:
    """The y axis a trace is drawn on ('y', 'y2', ...)."""
    return trace.yaxis or "y"


def test_tradeoff_never_puts_results_on_different_data_on_one_axis():
    figure = plot_tradeoff(_tradeoff())
    digits, shapes, mse, strip = figure.data
    # Accuracy on the digits and accuracy on the shapes are two panels, not one axis.
    assert list(digits.text) == ["digits_cnn", "subclassed", "digits_wide"]
    assert list(digits.x) == [10_074, 5_000, 40_000]
    assert list(digits.y) == [0.9972, 0.5, 0.99]
    assert list(shapes.text) == ["shapes_cnn"] and list(shapes.y) == [0.934]
    assert list(mse.x) == [12_740] and list(mse.y) == [0.0428]
    axes = [_panel_of(trace) for trace in figure.data]
    assert len(set(axes)) == 4, axes  # every group on an axis of its own
    for trace in (digits, shapes, mse):
        entries = [e for e in _tradeoff().entries if e.name in set(trace.text)]
        assert len({(e.metric_name, e.sample_set) for e in entries}) == 1
    assert strip.name == "no recorded metric" and list(strip.text) == ["weather_lstm"]
    assert "no recorded metric: weather_lstm" in figure.layout.title.text
    assert "results on different data do not compare" in figure.layout.title.text
    assert figure.layout.xaxis.type == "log"
    assert figure.layout.yaxis.title.text == "accuracy (higher is better)<br>on digits_cnn.npz"
    assert figure.layout.yaxis2.title.text == "accuracy (higher is better)<br>on shapes_cnn.npz"
    assert figure.layout.yaxis3.title.text == (
        "reconstruction_mse (lower is better)<br>on digits_cnn.npz"
    )
    assert figure.layout.yaxis4.title.text == "no recorded metric"
    hover = digits.customdata[0]
    assert "accuracy 0.9972" in hover and "10.1 k parameters (10,074)" in hover
    assert "309 k MACs per sample (309,248)" in hover


def test_tradeoff_keeps_a_metric_on_unrecorded_data_alone():
    alone = tradeoff_info(
        [
            TradeoffEntry("a", 10, 4, "accuracy", 0.9, "max"),
            TradeoffEntry("b", 20, 8, "accuracy", 0.8, "max"),
        ]
    )
    assert [[e.name for e in group] for group in alone.comparable_groups] == [["a"], ["b"]]
    figure = plot_tradeoff(alone)
    assert [list(trace.text) for trace in figure.data] == [["a"], ["b"]]
    assert figure.data[0].yaxis != figure.data[1].yaxis
    assert "not recorded" in figure.layout.yaxis.title.text


def test_tradeoff_against_compute_names_models_it_cannot_place():
    figure = plot_tradeoff(_tradeoff(), x="macs")
    assert list(figure.data[0].text) == ["digits_cnn", "digits_wide"]
    assert list(figure.data[0].x) == [309_248, 900_000]
    assert "compute unknown: subclassed" in figure.layout.title.text
    with pytest.raises(ValueError, match="Expected x"):
        plot_tradeoff(_tradeoff(), x="depth")
    only = plot_tradeoff(tradeoff_info([TradeoffEntry("m", 10, 4)]))
    assert [trace.name for trace in only.data] == ["no recorded metric"]


# --- Side-by-side costs ---------------------------------------------------------------------------


def test_side_by_side_costs_align_layers_across_models():
    a, b = _two_models()
    figure = plot_side_by_side_costs([a, b], "num_params")
    first, second = figure.data
    assert (first.name, second.name) == ("a", "b")
    assert list(figure.layout.yaxis.ticktext) == [
        "conv (Conv2D)",
        "norm (BatchNormalization)",
        "extra (Dense)",
        "out (Dense)",
    ]
    assert list(first.x) == [80, 32, None, 90]
    assert list(second.x) == [160, None, 272, 90]
    assert figure.layout.barmode == "group"
    assert "80 parameters · 39.6% of the model" in first.customdata[0]
    assert "no such layer" in first.customdata[2]
    same = plot_side_by_side_costs([a, a, b], "macs")
    assert [trace.name for trace in same.data] == ["a", "a #2", "b"]
    assert list(same.data[0].x) == [80, None, 90]  # norm does no MACs anywhere: left out
    assert not math.isnan(same.layout.height)
    with pytest.raises(ValueError, match="Expected a cost"):
        plot_side_by_side_costs([a, b], "flops")


def _untitled_axes(figure) -> list[str]:
    """The visible cartesian axes of a figure that have no title (a shared axis that repeats
    another's ticks without labels needs none)."""
    layout = figure.to_plotly_json()["layout"]
    return [
        name
        for name, axis in layout.items()
        if name.startswith(("xaxis", "yaxis"))
        and axis.get("visible", True)
        and not (axis.get("matches") and axis.get("showticklabels") is False)
        and not (axis.get("title") or {}).get("text")
    ]


def test_every_visible_axis_has_a_title():
    a, b = _two_models()
    figures = {
        "diff": plot_architecture_diff(architecture_diff(a, b)),
        "side by side": plot_side_by_side_costs([a, b], "macs"),
        "trade-off": plot_tradeoff(_tradeoff()),
    }
    for name, figure in figures.items():
        assert _untitled_axes(figure) == [], name


def test_drawing_needs_no_tensorflow():
    import subprocess
    import sys

    code = (
        "import sys, neurogenesis.plotting.comparison; "
        "print(sorted(m for m in ('tensorflow', 'keras', 'streamlit') if m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert result.stdout.strip() == "[]"


# --- Tables behind the figures -------------------------------------------------------------------


def test_diff_and_complexity_tables():
    from neurogenesis.plotting.comparison import architecture_diff_table, complexity_table

    diff = architecture_diff(*_two_models())
    table = architecture_diff_table(diff)
    assert table["status"].tolist() == ["same", "changed", "removed", "added", "same"]
    assert table["Δ parameters"].tolist()[1:4] == [80, -32, 272]
    profiles = complexity_table([TINY, REFERENCE])
    assert profiles.loc[0].tolist() == ["tiny_dense", 2, 195, 176, 856, 2, 16]
    assert profiles["name"].tolist() == ["tiny_dense", REFERENCE.name]
