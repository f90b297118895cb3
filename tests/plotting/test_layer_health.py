"""Layer-health figures: TensorBoard's histogram views, dead units, BatchNormalization panels."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from neurogenesis.analysis import layer_health as lh
from neurogenesis.errors import InputError
from neurogenesis.io.logs import HistogramSeries, find_runs
from neurogenesis.io.recordings import load_activation_stats, read_recording
from neurogenesis.plotting import layer_health as pl

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def runs():
    return {run.name: run for run in find_runs(ROOT / "data" / "runs")}


@pytest.fixture(scope="module")
def conv_info(runs):
    return lh.histogram_info(runs["digits_cnn/adam_no_bn"].histograms["activations/conv_2"])


def _long_info(num_steps: int = 120, empty: tuple[int, ...] = ()) -> lh.HistogramInfo:
    rng = np.random.default_rng(0)
    buckets = []
    for step in range(num_steps):
        if step in empty:
            buckets.append(np.zeros((30, 3)))
            continue
        values = rng.normal(step * 0.01, 1.0, size=300)
        edges = np.linspace(values.min(), values.max(), 31)
        counts, _ = np.histogram(values, bins=edges)
        buckets.append(np.column_stack([edges[:-1], edges[1:], counts]))
    series = HistogramSeries(
        "weights/dense/kernel", np.arange(num_steps) * 10, np.zeros(num_steps), buckets
    )
    return lh.histogram_info(series, num_bins=40)


def _titles(figure) -> tuple[str, str]:
    return figure.layout.xaxis.title.text, figure.layout.yaxis.title.text


def test_offset_draws_one_ridge_per_step_rising_from_its_step(conv_info):
    figure = pl.plot_histogram_offset(conv_info)
    assert len(figure.data) == conv_info.num_steps
    assert _titles(figure) == ("value", "step")
    assert figure.layout.yaxis.autorange == "reversed"  # oldest at the top, newest in front
    for trace, step in zip(figure.data, conv_info.steps, strict=True):
        assert trace.fill == "toself" and trace.name == f"step {step}"
        assert trace.y[0] == step and trace.y[-1] == step
        assert (np.asarray(trace.y) <= step).all()  # rises upward on a reversed axis
    tallest = min(
        min(trace.y) - step for trace, step in zip(figure.data, conv_info.steps, strict=True)
    )
    assert tallest == pytest.approx(-pl.RIDGE_HEIGHT)
    # the hover carries the exact count of each bin
    middle = figure.data[-1]
    np.testing.assert_allclose(np.asarray(middle.customdata)[1:-1, 3], conv_info.counts[-1])
    assert figure.data[0].line.color != figure.data[-1].line.color


def test_offset_and_overlay_cap_the_drawn_steps_and_say_so():
    info = _long_info(120)
    offset = pl.plot_histogram_offset(info, max_steps=50)
    assert len(offset.data) == 50
    assert offset.data[-1].name == "step 1190" and offset.data[0].name == "step 0"
    assert "showing 50 of 120 steps" in offset.layout.title.text
    ticks = list(offset.layout.yaxis.tickvals)
    assert len(ticks) <= pl.MAX_STEP_TICKS and ticks[-1] == 1190
    overlay = pl.plot_histogram_overlay(info, max_steps=20)
    assert len(overlay.data) == 21  # 20 steps and the colour bar
    assert "showing 20 of 120 steps" in overlay.layout.title.text
    uncapped = pl.plot_histogram_offset(_long_info(10))
    assert "showing" not in uncapped.layout.title.text
    with pytest.raises(InputError, match="max_steps"):
        pl.plot_histogram_offset(info, max_steps=0)


def test_overlay_colours_by_step_with_a_colour_bar(conv_info):
    figure = pl.plot_histogram_overlay(conv_info)
    *lines, scale = figure.data
    assert len(lines) == conv_info.num_steps
    np.testing.assert_allclose(lines[3].y, conv_info.counts[3])
    np.testing.assert_allclose(lines[3].x, conv_info.centers)
    assert scale.marker.showscale and scale.marker.colorbar.title.text == "step"
    assert scale.marker.cmin == conv_info.steps[0] and scale.marker.cmax == conv_info.steps[-1]
    assert _titles(figure) == ("value", "values per bin")
    density = pl.plot_histogram_overlay(conv_info, density=True)
    np.testing.assert_allclose(density.data[0].y, conv_info.density[0])
    assert density.layout.yaxis.title.text == "density per unit value"


def test_steps_without_values_are_marked_not_dropped():
    info = _long_info(8, empty=(3,))
    overlay = pl.plot_histogram_overlay(info)
    assert len(overlay.data) == 7 + 1
    assert "Not drawn, no values: step 30" in overlay.layout.title.subtitle.text
    offset = pl.plot_histogram_offset(info)
    assert offset.data[3].name == "step 30 (no values)"
    heatmap = pl.plot_histogram_heatmap(info)
    marker = heatmap.data[-1]
    assert marker.name == "step with no values" and list(marker.x) == [30]
    distribution = pl.plot_distribution(info)
    assert distribution.data[-1].name == "step with no values" and list(
        distribution.data[-1].x
    ) == [30]
    assert "no values" in distribution.layout.title.subtitle.text


def test_heatmap_shows_the_density_of_each_step(conv_info):
    figure = pl.plot_histogram_heatmap(conv_info)
    (heatmap,) = figure.data
    np.testing.assert_allclose(np.asarray(heatmap.z), conv_info.density.T)
    np.testing.assert_array_equal(heatmap.x, conv_info.steps)
    np.testing.assert_allclose(heatmap.y, conv_info.centers)
    assert heatmap.colorbar.title.text == "density per unit value"
    assert _titles(figure) == ("step", "value")
    np.testing.assert_allclose(np.asarray(heatmap.customdata)[:, :, 0], conv_info.counts.T)
    logged = pl.plot_histogram_heatmap(conv_info, log_color=True).data[0]
    z = np.asarray(logged.z, dtype=float)
    empty = conv_info.density.T == 0
    assert np.isnan(z[empty]).all()
    np.testing.assert_allclose(z[~empty], np.log10(conv_info.density.T[~empty]))
    assert "log" in logged.colorbar.title.text
    # The log colour bar reads in density units: each label is 10 to the power of its position.
    positions = np.asarray(logged.colorbar.tickvals, dtype=float)
    assert positions.size >= 2
    for position, text in zip(positions, logged.colorbar.ticktext, strict=True):
        assert float(text) == pytest.approx(10**position, rel=0.05)


def test_distribution_draws_tensorboards_bands_and_median(conv_info):
    figure = pl.plot_distribution(conv_info)
    bands = figure.data[:8]
    median = figure.data[8]
    assert [t.name for t in bands[1::2]] == ["min to max", "±1.5σ", "±1σ", "±0.5σ"]
    for (low, high, _), lower, upper in zip(
        pl.DISTRIBUTION_BANDS, bands[::2], bands[1::2], strict=True
    ):
        np.testing.assert_allclose(lower.y, conv_info.percentiles[:, low])
        np.testing.assert_allclose(upper.y, conv_info.percentiles[:, high])
        assert upper.fill == "tonexty"
    assert median.name == "median"
    np.testing.assert_allclose(median.y, conv_info.percentiles[:, 4])
    np.testing.assert_allclose(np.asarray(median.customdata), conv_info.percentiles)
    assert "max %{customdata[8]" in median.hovertemplate
    assert _titles(figure) == ("step", "value")


def test_distribution_of_a_single_step_uses_error_bars():
    info = _long_info(1)
    median = pl.plot_distribution(info).data[8]
    assert median.error_y.array[0] == pytest.approx(info.percentiles[0, 8] - info.percentiles[0, 4])


def test_notes_appear_under_the_title():
    info = replace(_long_info(3), notes=("First note.", "Second note.", "Third note."))
    subtitle = pl.plot_histogram_heatmap(info).layout.title.subtitle.text
    assert "First note." in subtitle and "+1 more notes" in subtitle


# ----------------------------------------------------------------------------- dead units


def _dead_info():
    def stats(zero):
        zero = np.asarray(zero, dtype=np.float32)
        return {"frac_zero": zero, "frac_saturated": np.zeros_like(zero)}

    return lh.dead_unit_info(
        [
            (0, {"relu": stats([0.0, 0.2, 1.0, 0.0]), "pool": stats([0.0, 1.0])}),
            (1, {"relu": stats([1.0, 0.995, 0.5, 0.0])}),
        ]
    )


def test_dead_units_heatmap_and_bars():
    info = _dead_info()
    figure = pl.plot_dead_units(info)
    heatmap, bars = figure.data
    np.testing.assert_allclose(np.asarray(heatmap.z, dtype=float)[0], [25.0, 50.0])
    assert np.isnan(np.asarray(heatmap.z, dtype=float)[1, 1])  # pool not recorded at epoch 1
    assert heatmap.zmin == 0 and heatmap.zmax == 100
    assert heatmap.colorbar.title.text == "dead units (%)"
    assert list(heatmap.y) == ["relu", "pool · zeros of relu"]
    assert list(bars.text) == ["2/4", "not recorded"]
    np.testing.assert_allclose(bars.x, [50.0, 0.0])
    assert figure.layout.xaxis.title.text == "epoch"
    assert figure.layout.xaxis2.title.text == "dead units (%)"
    assert figure.layout.yaxis.title.text == "layer (kind)"
    earlier = pl.plot_dead_units(info, epoch=0)
    assert list(earlier.data[1].text) == ["1/4", "1/2"]
    assert earlier.layout.annotations[1].text == "At epoch 0"


def test_dead_units_of_a_demo_recording(runs):
    info = lh.dead_unit_info_from_recording(runs["weather_lstm/lstm_attention"])
    figure = pl.plot_dead_units(info)
    row = info.layers.index("dense")
    assert figure.data[1].text[row] == f"{int(info.num_dead[row, -1])}/16"


def test_unit_activity_sorts_units_and_highlights_the_dead():
    info = _dead_info()
    figure = pl.plot_unit_activity(info, "relu")
    dead, firing = figure.data
    assert dead.name == "dead (2)" and firing.name == "firing (2)"
    np.testing.assert_allclose(dead.y, [100.0, 99.5], rtol=1e-6)
    np.testing.assert_array_equal(dead.customdata, [0, 1])
    np.testing.assert_allclose(firing.y, [50.0, 0.0])
    assert list(firing.x) == [3, 4]
    (line,) = figure.layout.shapes
    assert line.y0 == pytest.approx(99.0)
    assert "2 of 4 units dead" in figure.layout.title.text
    assert figure.layout.yaxis.title.text == "zero outputs on the probe (%)"
    at_zero = pl.plot_unit_activity(info, "relu", epoch=0)
    assert at_zero.data[0].name == "dead (1)"
    with pytest.raises(InputError, match="not recorded"):
        pl.plot_unit_activity(info, "pool", epoch=1)
    with pytest.raises(InputError, match="Expected a layer"):
        pl.plot_unit_activity(info, "nope")


def test_unit_activity_from_a_stats_file(runs):
    recording = read_recording(runs["weather_lstm/lstm_attention"].path)
    stats = load_activation_stats(recording.activation_files[-1][1])
    figure = pl.plot_unit_activity(stats, "dense", threshold=0.5)
    expected = int((stats["dense"]["frac_zero"] >= 0.5).sum())
    assert figure.data[0].name == f"dead ({expected})"
    with pytest.raises(InputError, match="Expected a layer"):
        pl.plot_unit_activity(stats, "conv_9")


# ----------------------------------------------------------------------------- BatchNormalization


def test_batch_norm_effect_panels(runs):
    info = lh.batch_norm_effect_info(runs["digits_cnn/adam"], runs["digits_cnn/adam_no_bn"])
    figure = pl.plot_batch_norm_effect(info)
    curves = [t for t in figure.data if " · train" in t.name or " · validation" in t.name]
    curves = [t for t in curves if t.showlegend is not False]
    assert [t.name for t in curves] == [
        "with BN · train",
        "with BN · validation",
        "without BN · train",
        "without BN · validation",
    ]
    assert [t.line.dash for t in curves] == ["solid", "dash", "solid", "dash"]
    assert curves[0].line.color == curves[1].line.color == pl.WITH_COLOR
    assert curves[2].line.color == pl.WITHOUT_COLOR != pl.WITH_COLOR
    layer_traces = [t for t in figure.data if t.showlegend is False]
    assert len(layer_traces) == 2 * len(info.layers)
    conv = next(t for t in layer_traces if t.name == "conv_2 · with BN")
    np.testing.assert_allclose(conv.y, info.series("conv_2", True).std)
    # Every panel's axes are titled, not only the first column's and the last row's.
    layout = figure.to_plotly_json()["layout"]
    axes = [key for key in layout if key.startswith(("xaxis", "yaxis"))]
    assert len(axes) == 2 * (1 + len(info.layers))
    for key in axes:
        assert layout[key]["title"]["text"], key
    assert {layout[k]["title"]["text"] for k in axes if k.startswith("yaxis")} == {
        "loss",
        "activation std",
    }
    titles = [a.text for a in figure.layout.annotations]
    assert titles[:2] == ["loss per epoch", "conv_1"] and "probabilities" in titles
    assert figure.layout.yaxis.title.text == "loss"
    assert figure.layout.yaxis2.title.text == "activation std"
    means = pl.plot_batch_norm_effect(info, statistic="mean", layers=["relu_1"])
    relu = next(t for t in means.data if t.name == "relu_1 · without BN")
    np.testing.assert_allclose(relu.y, info.series("relu_1", False).mean)
    capped = pl.plot_batch_norm_effect(info, max_layers=3)
    assert "5 more layers not drawn" in capped.layout.title.subtitle.text
    with pytest.raises(InputError, match="statistic"):
        pl.plot_batch_norm_effect(info, statistic="max")
    with pytest.raises(InputError, match="Expected layers"):
        pl.plot_batch_norm_effect(info, layers=["batch_norm_1"])


def test_batch_norm_effect_marks_a_diverged_curve_and_draws_without_layers():
    curve = lh.MetricCurve(
        "a", True, "train", "loss", np.arange(4), np.array([1.0, 0.5, np.nan, np.inf])
    )
    other = lh.MetricCurve(
        "b", False, "train", "loss", np.arange(4), np.array([1.0, 0.9, 0.8, 0.7])
    )
    info = lh.BatchNormEffectInfo("a", "b", "loss", (curve, other), (), ())
    figure = pl.plot_batch_norm_effect(info)
    marker = next(t for t in figure.data if t.mode == "markers+text")
    assert list(marker.x) == [2] and "NaN/Inf from epoch 2" in marker.name
    assert len(figure.layout.annotations) == 1  # only the curves panel
