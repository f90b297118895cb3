"""Features figures: the data drawn (tiles, values, marks, hover), on infos made by hand."""

from __future__ import annotations

import base64
import io
import subprocess
import sys

import numpy as np
import plotly.graph_objects as go
import pytest
from PIL import Image

from neurogenesis.analysis.features import (
    ActivationMaxInfo,
    FeatureMapsInfo,
    FiltersInfo,
    PredictionInfo,
)
from neurogenesis.errors import InputError
from neurogenesis.plotting import features as pf


def _prediction_info(n: int = 10) -> PredictionInfo:
    labels = np.arange(n) % 3
    predicted = labels.copy()
    predicted[[1, 4]] = (labels[[1, 4]] + 1) % 3  # two wrong
    outputs = np.full((n, 3), 0.1)
    outputs[np.arange(n), predicted] = 0.8
    return PredictionInfo(
        outputs=outputs,
        task="classification",
        predicted=predicted,
        confidence=outputs.max(axis=1),
        labels=labels,
        correct=predicted == labels,
        errors=None,
        label_names=("cat", "dog", "<bird>"),
        num_classes=3,
    )


def _pixels(trace: go.Image) -> np.ndarray:
    """The pixels of an image trace, decoded from its PNG data URI."""
    header, data = trace.source.split(",", 1)
    assert header == "data:image/png;base64"
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB"))


def _tile(figure_z: np.ndarray, grid: pf._Grid, position: int) -> np.ndarray:
    top, left = grid.origin(position)
    return figure_z[top : top + grid.tile_h, left : left + grid.tile_w]


def _shapes(figure, name: str) -> list:
    return [shape for shape in figure.layout.shapes if shape.name == name]


# ------------------------------------------------------------------ sample grid


def test_colour_thumbnails_are_the_samples():
    x = np.random.default_rng(0).integers(0, 256, (10, 4, 5, 3), dtype=np.uint8)
    indices = [2, 5, 7]
    figure = pf.plot_sample_grid(x, indices, columns=2)
    image, hover, click = figure.data
    assert isinstance(image, go.Image) and isinstance(hover, go.Heatmap)
    # Clicks report the sample index as customdata, at the tiles' centres.
    assert list(click.customdata) == indices
    assert (click.y[1], click.x[1]) == pf._Grid(3, 4, 5, 2).center(1)
    assert np.asarray(hover.customdata).tolist() == [[2, 5], [7, -1]]
    z = _pixels(image)
    grid = pf._Grid(3, 4, 5, 2)
    assert z.shape == (grid.height, grid.width, 3)
    for position, index in enumerate(indices):
        assert np.array_equal(_tile(z, grid, position), x[index])
    # Blank (white) between tiles; one hover cell per tile naming the sample.
    assert np.all(z[:, : grid.gap] == 255)
    texts = np.asarray(hover.hovertext, dtype=object)
    assert texts.shape == (2, 2) and texts[0, 1] == "sample 5" and texts[1, 1] == ""
    assert np.isnan(np.asarray(hover.z, dtype=float)[1, 1])


def test_grey_float_images_scale_to_pixels():
    x = np.random.default_rng(1).uniform(0, 1, (4, 8, 8, 1)).astype("float32")
    figure = pf.plot_sample_grid(x, [3, 0])
    grid = pf._Grid(2, 8, 8, pf.DEFAULT_COLUMNS)
    tile = _tile(_pixels(figure.data[0]), grid, 0)
    expected = np.rint(x[3, ..., 0] * 255).astype(np.uint8)
    for channel in range(3):
        assert np.array_equal(tile[..., channel], expected)


def test_explicit_captions_and_bad_arguments():
    x = np.zeros((3, 4, 4, 1), dtype=np.float32)
    figure = pf.plot_sample_grid(x, [0, 2], captions=["first", "third"])
    assert [a.text for a in figure.layout.annotations] == ["first", "third"]
    flagged = pf.plot_sample_grid(x, [0, 2], wrong=[False, True])
    (mark,) = _shapes(flagged, "wrong")
    assert mark.x0 > pf._Grid(2, 4, 4, pf.DEFAULT_COLUMNS).origin(1)[1] - 2
    with pytest.raises(InputError, match="one wrong flag"):
        pf.plot_sample_grid(x, [0, 2], wrong=[True])
    with pytest.raises(InputError, match="one caption per shown sample"):
        pf.plot_sample_grid(x, [0, 2], captions=["only one"])
    with pytest.raises(InputError, match="kind"):
        pf.plot_sample_grid(x, kind="video")
    with pytest.raises(InputError, match="from 0 to 2"):
        pf.plot_sample_grid(x, [3])


def test_two_line_captions_fit_their_cells():
    """Issue 19: captions like '#12 label 3 → 3 (0.99)' were cut and ran into each other."""
    x = np.zeros((20, 8, 8, 1), dtype=np.float32)
    captions = [f"#{i} 99%\ntriangle→circle" for i in range(8)]
    figure = pf.plot_sample_grid(x, range(8), captions=captions, columns=8)
    texts = [a.text for a in figure.layout.annotations]
    assert texts[3] == "#3 99%<br>triangle→circle"  # both lines whole
    plain = pf._Grid(8, 8, 8, 8)
    scale = pf.FIGURE_WIDTH_PX / plain.width  # screen pixels per image pixel
    cell_px = plain.cell_w * scale
    size = figure.layout.annotations[0].font.size
    assert size == pf.caption_font_size(texts, cell_px)
    assert pf.MIN_CAPTION_FONT_SIZE <= size <= pf.CAPTION_FONT_SIZE
    # Every line fits its cell at that size, so neighbours never overlap.
    assert len("triangle→circle") * pf.CHAR_WIDTH_EM * size <= cell_px
    # The band under the tiles holds both lines: the canvas is one row of tile, gaps and band.
    canvas_height = figure.layout.yaxis.range[0] + 0.5
    band = canvas_height - 8 - 2 * plain.gap
    assert band * scale >= 2 * pf.LINE_HEIGHT * size
    # A line too long even at the smallest font is cut to fit, and says so.
    long = pf.plot_sample_grid(x, range(8), captions=["#1\n" + "x" * 40] * 8, columns=8)
    line = long.layout.annotations[0].text.split("<br>")[1]
    assert line.endswith("…")
    assert len(line) * pf.CHAR_WIDTH_EM * long.layout.annotations[0].font.size <= cell_px


def test_series_sparklines_keep_raw_values_in_hover():
    x = np.random.default_rng(2).normal(size=(5, 14, 2))
    figure = pf.plot_sample_grid(
        x, [4, 1, 0], kind="series", columns=2, feature_names=["temp", "wind"]
    )
    assert len(figure.data) == 2 and [trace.name for trace in figure.data] == ["temp", "wind"]
    trace = figure.data[0]
    ys = np.asarray(trace.y, dtype=float)
    assert len(ys) == 3 * 15 and np.isnan(ys[14])
    shown = x[[4, 1, 0], :, 0]
    low, span = shown.min(), shown.max() - shown.min()
    np.testing.assert_allclose(ys[:14], 1 - (x[4, :, 0] - low) / span)
    custom = np.asarray(trace.customdata[:14], dtype=float)
    assert np.all(custom[:, 0] == 4)
    np.testing.assert_allclose(custom[:, 1], x[4, :, 0])
    # The second sample sits in the second column, the third on the next row.
    xs = np.asarray(trace.x, dtype=float)
    assert xs[15] > xs[13] and ys[30:44].min() >= 1.0


def test_text_table_decodes_tokens_and_marks_rows():
    info = _prediction_info()
    vocabulary = ["[PAD]", "[UNK]", "good", "film"]
    tokens = np.tile([[2, 3, 0, 0], [3, 2, 2, 0], [1, 0, 0, 0], [2, 0, 0, 0]], (3, 1))[:10]
    figure = pf.plot_sample_grid(
        tokens, [0, 1, 3], kind="text", info=info, vocabulary=vocabulary, selected=3
    )
    (table,) = figure.data
    assert isinstance(table, go.Table)
    sample, text, caption = table.cells.values
    assert list(sample) == [0, 1, 3] and list(text) == ["good film", "film good good", "good"]
    fills = table.cells.fill.color[0]
    assert fills[0] == "white" and "213, 94, 0" in fills[1] and "0, 114, 178" in fills[2]
    raw = pf.plot_sample_grid(np.array(["a <b>", "c"]), kind="text")
    assert list(raw.data[0].cells.values[1]) == ["a &lt;b&gt;", "c"]


# ------------------------------------------------------------------ filters


def _filters(num: int, kh: int, kw: int, channels: int, *, rgb: bool) -> FiltersInfo:
    kernels = np.random.default_rng(3).normal(size=(num, kh, kw, channels)).astype("float32")
    norms = np.sqrt((kernels.astype(np.float64) ** 2).sum(axis=(1, 2, 3)))
    order = np.argsort(-norms)
    return FiltersInfo(
        kernels=kernels[order],
        norms=norms[order],
        order=order,
        rgb=rgb,
        layer="conv_1",
        class_name="Conv2D",
        bias=None,
        first_layer=rgb,
        num_filters=num,
    )


def test_rgb_filters_are_stretched_colour_tiles():
    info = _filters(6, 3, 3, 3, rgb=True)
    figure = pf.plot_filters(info, max_filters=4, columns=2)
    image, hover = figure.data
    z = _pixels(image)
    grid = pf._Grid(4, 3, 3, 2)
    for position in range(4):
        tile = _tile(z, grid, position).astype(float)
        kernel = info.kernels[position].astype(float)
        expected = np.rint((kernel - kernel.min()) / (kernel.max() - kernel.min()) * 255)
        np.testing.assert_array_equal(tile, expected)
    assert "4 of 6 filters" in figure.layout.title.text
    assert "sorted by L2 norm" in figure.layout.title.text
    texts = np.asarray(hover.hovertext, dtype=object)
    assert texts[0, 0] == f"filter {info.order[0]}<br>L2 norm {info.norms[0]:.3g}"


def test_channel_grid_filters_on_a_symmetric_scale():
    info = _filters(5, 3, 2, 6, rgb=False)
    figure = pf.plot_filters(info, max_filters=3, max_channels=4)
    (heatmap,) = figure.data
    z = np.asarray(heatmap.z, dtype=float)
    assert z.shape == (3 * 4 - 1, 4 * 3 - 1)
    for row in range(3):
        for channel in range(4):
            block = z[row * 4 : row * 4 + 3, channel * 3 : channel * 3 + 2]
            np.testing.assert_allclose(block, info.kernels[row, :, :, channel], rtol=1e-6)
    assert np.isnan(z[3]).all() and np.isnan(z[:, 2]).all()  # gaps
    limit = np.abs(info.kernels[:3, :, :, :4]).max()
    assert heatmap.zmax == pytest.approx(limit) and heatmap.zmin == pytest.approx(-limit)
    custom = np.asarray(heatmap.customdata, dtype=float)
    assert custom[4, 3, 0] == info.order[1] and custom[4, 3, 1] == 1
    title = figure.layout.title.text
    assert "3 of 5 filters" in title and "4 of 6 input channels" in title
    assert list(figure.layout.yaxis.ticktext) == [str(i) for i in info.order[:3]]
    colour = pf.plot_filters(_filters(2, 3, 3, 3, rgb=True), as_rgb=False)
    assert isinstance(colour.data[0], go.Heatmap)
    # Square weights (issue 19: 3x3 kernels were drawn as 20:1 stripes).
    assert figure.layout.yaxis.scaleanchor == "x" and figure.layout.yaxis.scaleratio == 1


def test_one_channel_kernels_tile_a_grid_of_square_weights():
    info = _filters(10, 3, 3, 1, rgb=False)
    figure = pf.plot_filters(info, columns=4)
    (heatmap,) = figure.data
    z = np.asarray(heatmap.z, dtype=float)
    assert z.shape == (3 * 4 - 1, 4 * 4 - 1)  # 3 rows of 4 kernels, one-pixel gaps
    for position in range(10):
        row, col = divmod(position, 4)
        block = z[row * 4 : row * 4 + 3, col * 4 : col * 4 + 3]
        np.testing.assert_allclose(block, info.kernels[position, :, :, 0], rtol=1e-6)
    assert np.isnan(z[8:, 8:]).all()  # the last row's two empty places
    assert figure.layout.yaxis.scaleanchor == "x" and figure.layout.yaxis.scaleratio == 1
    assert heatmap.zmid == 0.0 and heatmap.zmin == -heatmap.zmax
    # The height follows the canvas: about 11 rows of pixels over 15 columns, plus the margins.
    pixel = min(pf.FILTER_WIDTH_PX / 15, pf.MAX_FILTER_PIXEL_PX)
    assert figure.layout.height == max(pf.MIN_HEIGHT_PX, int(11 * pixel + 130))


# ------------------------------------------------------------------ feature maps


def _maps_info() -> FeatureMapsInfo:
    maps = np.random.default_rng(4).uniform(0, 2, (5, 4, 6)).astype("float32")
    maps[2] = 0.0
    mean = maps.reshape(5, -1).mean(axis=1).astype(np.float64)
    return FeatureMapsInfo(
        maps=maps,
        mean_activation=mean,
        max_activation=maps.reshape(5, -1).max(axis=1).astype(np.float64),
        order=np.argsort(-mean, kind="stable"),
        fraction_zero=(maps.reshape(5, -1) == 0).mean(axis=1),
        layer="relu_1",
        index=7,
        input=np.random.default_rng(5).uniform(0, 1, (8, 12, 1)).astype("float32"),
    )


def test_feature_maps_tiles_labels_and_input():
    info = _maps_info()
    figure = pf.plot_feature_maps(info, columns=3)
    image, heatmap = figure.data
    assert isinstance(image, go.Image) and _pixels(image).shape == (8, 12, 3)
    z = np.asarray(heatmap.z, dtype=float)
    grid = pf._Grid(5, 4, 6, 3, band=round(pf.CAPTION_SHARE * 4), above=True)
    for channel in range(5):
        np.testing.assert_allclose(_tile(z, grid, channel), info.maps[channel], rtol=1e-6)
    labels = [a.text for a in figure.layout.annotations if a.xref == "x2"]
    assert labels[2] == "2 · 0" and labels[0] == f"0 · {info.mean_activation[0]:.2g}"
    assert (
        "5 of 5 feature maps" in figure.layout.title.text and "sample 7" in figure.layout.title.text
    )


def test_top_k_maps_and_per_channel_scale():
    info = _maps_info()
    figure = pf.plot_feature_maps(info, top_k=2, show_input=False, shared_scale=False)
    (heatmap,) = figure.data
    grid = pf._Grid(2, 4, 6, pf.DEFAULT_COLUMNS, band=round(pf.CAPTION_SHARE * 4), above=True)
    z = np.asarray(heatmap.z, dtype=float)
    custom = np.asarray(heatmap.customdata, dtype=float)
    for position, channel in enumerate(info.order[:2]):
        tile = _tile(z, grid, position)
        assert tile.min() == pytest.approx(0) and tile.max() == pytest.approx(1)
        top, left = grid.origin(position)
        assert custom[top, left, 0] == channel
        assert custom[top, left, 2] == pytest.approx(info.maps[channel, 0, 0])
    assert "top 2 by mean activation" in figure.layout.title.text
    with pytest.raises(InputError, match="top_k"):
        pf.plot_feature_maps(info, top_k=0)


def _sequence_info(signed: bool = True) -> FeatureMapsInfo:
    values = np.random.default_rng(9).normal(size=(6, 1, 5)).astype("float32")  # 6 ch, 5 steps
    if not signed:
        values = np.abs(values)
    strength = np.abs(values).reshape(6, -1).mean(axis=1)
    return FeatureMapsInfo(
        maps=values,
        mean_activation=values.reshape(6, -1).mean(axis=1).astype(np.float64),
        max_activation=values.reshape(6, -1).max(axis=1).astype(np.float64),
        order=np.argsort(-strength, kind="stable"),
        fraction_zero=np.zeros(6),
        layer="attention_norm_1",
        index=2,
        input=np.array([5, 7, 2, 0, 0], dtype=np.int32),
        sequence=True,
    )


def test_sequence_maps_are_one_time_by_channel_picture_with_tokens():
    info = _sequence_info()
    words = ["good", "<b>fun</b>", "film", "[PAD]", ""]
    figure = pf.plot_feature_maps(info, step_labels=words, show_input=False)
    (heatmap,) = figure.data
    np.testing.assert_allclose(np.asarray(heatmap.z), info.maps[:, 0, :])
    # Signed states: a diverging scale centred on zero, symmetric, said on the colour bar.
    limit = float(np.abs(info.maps).max())
    assert heatmap.colorscale == go.Heatmap(colorscale="RdBu_r").colorscale
    assert (heatmap.zmid, heatmap.zmin, heatmap.zmax) == (0.0, -limit, limit)
    assert "0 = white" in heatmap.colorbar.title.text
    assert list(figure.layout.xaxis.ticktext) == [
        "good",
        "&lt;b&gt;fun&lt;/b&gt;",
        "film",
        "[PAD]",
        "·",
    ]
    assert figure.layout.xaxis.title.text == "token"
    assert figure.layout.yaxis.title.text == "channel"
    assert list(figure.layout.yaxis.ticktext) == [str(c) for c in range(6)]


def test_sequence_top_k_and_series_input_share_the_time_axis():
    info = _sequence_info(signed=False)
    series = np.random.default_rng(1).normal(size=(5, 3))
    figure = pf.plot_feature_maps(info, top_k=3, input_image=series, feature_names=["a", "b", "c"])
    inputs, maps = figure.data
    np.testing.assert_allclose(np.asarray(maps.z), info.maps[info.order[:3], 0, :])
    assert maps.colorscale == go.Heatmap(colorscale="Viridis").colorscale and maps.zmin == 0.0
    assert list(figure.layout.yaxis2.ticktext) == [str(c) for c in info.order[:3]]
    assert "most active" in figure.layout.yaxis2.title.text
    np.testing.assert_allclose(np.asarray(inputs.customdata), series.T)  # raw values in hover
    assert list(inputs.y) == ["a", "b", "c"]
    assert figure.layout.xaxis2.title.text == "time step"
    assert figure.layout.xaxis.matches == "x2" or figure.layout.xaxis2.matches == "x"


def test_signed_image_maps_use_a_diverging_scale():
    info = _maps_info()
    signed = FeatureMapsInfo(**{**info.__dict__, "maps": info.maps - 0.5})
    heatmap = pf.plot_feature_maps(signed, show_input=False).data[0]
    assert heatmap.zmid == 0.0 and heatmap.zmin == -heatmap.zmax
    plain = pf.plot_feature_maps(info, show_input=False).data[0]
    assert plain.zmin == 0.0 and plain.zmid is None


# ------------------------------------------------------------------ activation maximization


def _am_info(unit: int = 3) -> ActivationMaxInfo:
    image = np.random.default_rng(unit).uniform(0.2, 0.4, (6, 6, 3)).astype("float32")
    return ActivationMaxInfo(
        image=image,
        objective=np.linspace(0.1, 2.0, 20),
        layer="relu_2",
        unit=unit,
        start_activation=0.1,
        final_activation=1.9,
        steps=20,
        learning_rate=0.05,
        jitter=1,
        l2=0.01,
        blur_every=4,
        blur_sigma=0.5,
        total_variation=0.02,
        seed=0,
        score="logit",
        input_range=(0.0, 1.0),
        objective_name="logit of class 3 (the output layer 'head' before its softmax)",
        value_name="logit",
    )


def test_activation_maximization_image_and_trace():
    info = _am_info()
    figure = pf.plot_activation_maximization(info, references={"mean over samples": 0.4})
    image, line = figure.data
    z = _pixels(image).astype(float)
    assert z.min() == 0 and z.max() == 255  # stretched for display
    expected = np.rint((info.image - info.image.min()) / np.ptp(info.image) * 255)
    np.testing.assert_array_equal(z, expected)
    np.testing.assert_allclose(line.y, info.objective)
    assert list(line.x) == list(range(1, 21))
    levels = sorted(shape.y0 for shape in figure.layout.shapes)
    assert levels == pytest.approx([0.1, 0.4])
    # It says what was maximized (the logit, before the softmax) and names the axis after it.
    title = figure.layout.title.text
    assert "logit of class 3" in title and "before its softmax" in title
    assert figure.layout.yaxis2.title.text == "logit"
    assert figure.layout.xaxis2.title.text == "step"
    # A straight line from 0.1 to 2.0 is still moving: 10% of its rise in the last 10%.
    assert "still moving" in title


def test_activation_maximization_says_when_it_settled():
    trace = 2.0 - 1.9 * np.exp(-np.arange(40) / 4)
    info = _am_info()
    settled = ActivationMaxInfo(**{**info.__dict__, "objective": trace, "final_activation": 2.0})
    assert settled.last_change() < 0.01
    figure = pf.plot_activation_maximization(settled, unit_name="cat")
    assert "settled" in figure.layout.title.text and "cat" in figure.layout.title.text


def test_plotting_imports_no_tensorflow():
    code = (
        "import sys, neurogenesis.plotting.features; "
        "print(sorted(m for m in ('tensorflow', 'keras', 'streamlit') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


def test_sparklines_of_many_features_get_distinct_colours():
    x = np.random.default_rng(6).normal(size=(3, 10, 12))
    figure = pf.plot_sample_grid(x, kind="series")
    colours = [trace.line.color for trace in figure.data]
    assert len(colours) == 12 and len(set(colours)) == 12


def test_sequence_channel_labels_do_not_crowd():
    values = np.random.default_rng(8).normal(size=(32, 1, 14)).astype("float32")
    info = FeatureMapsInfo(
        maps=values,
        mean_activation=values.reshape(32, -1).mean(axis=1).astype(np.float64),
        max_activation=values.reshape(32, -1).max(axis=1).astype(np.float64),
        order=np.arange(32),
        fraction_zero=np.zeros(32),
        layer="lstm",
        index=0,
        input=np.zeros((14, 6), np.float32),
        sequence=True,
    )
    figure = pf.plot_feature_maps(info, show_input=False)
    ticks = list(figure.layout.yaxis.tickvals)
    rows_px = (figure.layout.height - 130) / 32  # the rows' share of the figure's height
    assert ticks == list(range(0, 32, 2)) and rows_px * 2 >= pf.MIN_TICK_SPACING_PX - 4


def test_captions_wrong_marks_and_selection():
    info = _prediction_info()
    x = np.zeros((10, 6, 6), dtype=np.uint8)
    figure = pf.plot_sample_grid(x, [0, 1, 4, 5], info=info, selected=5)
    captions = [annotation.text for annotation in figure.layout.annotations]
    assert captions[0] == "cat 80%"  # correct: the class once
    assert captions[1] == "dog→&lt;bird&gt; 80%"  # wrong: label→prediction, escaped
    wrong = _shapes(figure, "wrong")
    grid = pf._Grid(4, 6, 6, pf.DEFAULT_COLUMNS, band=round(pf.CAPTION_SHARE * 6))
    assert len(wrong) == 2 and wrong[0].line.color == pf.WRONG_COLOR
    top, left = grid.origin(1)
    assert wrong[0].x0 < left - 0.5 < left + 5.5 < wrong[0].x1
    (selected,) = _shapes(figure, "selected")
    top, left = grid.origin(3)
    assert selected.x0 < left - 0.5 and selected.line.width == 4
    assert "2 wrong" in figure.layout.title.text
    hover = np.asarray(figure.data[1].hovertext, dtype=object)
    assert "predicted: &lt;bird&gt; (80.0%)" in hover[0, 1] and "wrong" in hover[0, 1]
