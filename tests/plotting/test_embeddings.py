"""The projector figures: every point drawn with WebGL, hover text on a bounded subset, small JSON."""

from __future__ import annotations

import base64
import json

import numpy as np
import plotly.graph_objects as go
import pytest

from neurogenesis.analysis.embeddings import LatentGridInfo, ProjectionInfo, ReconstructionInfo
from neurogenesis.errors import InputError
from neurogenesis.plotting.embeddings import (
    CATEGORY_10,
    CATEGORY_20,
    HIGHLIGHT_COLOR,
    HOVER_LIMIT,
    NOISE_COLOR,
    category_colours,
    plot_latent_grid,
    plot_projection,
    plot_reconstructions,
    plot_similarity,
    selected_indices,
)

BIG = 50_000
MAX_JSON_BYTES = 2_500_000


def _info(count: int, dims: int = 2, method: str = "umap", seed: int = 0) -> ProjectionInfo:
    coords = np.random.default_rng(seed).normal(size=(count, dims)).astype(np.float32)
    ratio = np.full(dims, 0.1) if method == "pca" else None
    return ProjectionInfo(coords, method, dims, ratio, (), 0.1, count, 16, 0.95, 2000, ())


def _drawn(fig: go.Figure, axes: str = "xy") -> tuple[np.ndarray, np.ndarray]:
    """Sample indices and coordinates of every point of every trace."""
    indices = np.concatenate([np.asarray(trace.customdata) for trace in fig.data])
    coords = np.concatenate(
        [np.column_stack([np.asarray(getattr(trace, a)) for a in axes]) for trace in fig.data]
    )
    return indices, coords


@pytest.fixture(scope="module")
def big():
    info = _info(BIG)
    labels = np.random.default_rng(1).integers(-1, 6, size=BIG)
    texts = [f"sample {i}\nlabel <b>{labels[i]}</b>" for i in range(BIG)]
    return info, labels, texts


def test_fifty_thousand_points_are_all_drawn_with_webgl_and_hover_on_a_bounded_subset(big):
    info, labels, texts = big
    fig = plot_projection(
        info, color=labels, category_names=[f"class {i}" for i in range(6)], hover_text=texts
    )
    assert all(isinstance(trace, go.Scattergl) for trace in fig.data)
    indices, coords = _drawn(fig)
    # Every point exactly once, at its own coordinates.
    assert sorted(indices.tolist()) == list(range(BIG))
    np.testing.assert_array_equal(coords, info.coords[indices])
    hover_strings = sum(len(trace.hovertext) for trace in fig.data if trace.hovertext is not None)
    assert hover_strings == HOVER_LIMIT
    # Points without text still say their category and sample index, through one template.
    assert all("%{customdata}" in trace.hovertemplate for trace in fig.data)
    payload = fig.to_json()
    assert len(payload) < MAX_JSON_BYTES
    # Coordinates travel as typed arrays (base64), not as 50,000 decimal numbers.
    first = json.loads(payload)["data"][0]
    assert first["x"]["dtype"] == "f4"
    decoded = np.frombuffer(base64.b64decode(first["x"]["bdata"]), dtype=np.float32)
    np.testing.assert_array_equal(decoded, np.asarray(fig.data[0].x))


def test_categories_get_legend_entries_palette_colours_and_grey_noise(big):
    info, labels, _ = big
    names = ["<cat>", "dog", "b", "c", "d", "e"]
    fig = plot_projection(info, color=labels, category_names=names)
    legend = [trace for trace in fig.data if trace.showlegend]
    assert [trace.name for trace in legend] == ["&lt;cat&gt;", "dog", "b", "c", "d", "e", "noise"]
    assert [trace.marker.color for trace in legend[:6]] == list(CATEGORY_10[:6])
    assert legend[-1].marker.color == NOISE_COLOR
    noise = np.asarray(legend[-1].customdata)
    np.testing.assert_array_equal(np.sort(noise), np.flatnonzero(labels == -1))


def test_small_sets_hover_on_every_point_with_escaped_text():
    info = _info(40)
    texts = [f"<i>{i}</i>\nsecond line" for i in range(40)]
    fig = plot_projection(info, color=np.arange(40) % 2, hover_text=texts)
    assert len(fig.data) == 2
    for trace in fig.data:
        for index, text in zip(trace.customdata, trace.hovertext, strict=True):
            assert text == f"&lt;i&gt;{index}&lt;/i&gt;<br>second line"


def test_continuous_colour_uses_one_colour_axis():
    info = _info(7000)
    values = np.linspace(0, 1, 7000)
    fig = plot_projection(
        info, color=values, color_kind="continuous", hover_text=[str(i) for i in range(7000)]
    )
    assert fig.layout.coloraxis.colorscale is not None
    indices, _ = _drawn(fig)
    colours = np.concatenate([np.asarray(trace.marker.color) for trace in fig.data])
    np.testing.assert_allclose(colours, values[indices].astype(np.float32))
    assert all(trace.marker.coloraxis == "coloraxis" for trace in fig.data)


def test_three_dimensions_use_scatter3d_and_pca_axes_say_their_variance():
    info = _info(500, dims=3, method="pca")
    fig = plot_projection(info, highlight=[4, 9, 11])
    assert all(isinstance(trace, go.Scatter3d) for trace in fig.data)
    indices, coords = _drawn(fig, "xyz")
    np.testing.assert_array_equal(coords, info.coords[indices])
    assert fig.layout.scene.xaxis.title.text == "PC1 (10% of variance)"


def test_highlight_draws_the_selected_sample_and_its_neighbours_on_top():
    info = _info(300)
    fig = plot_projection(info, highlight=[12, 3, 4])
    selected, neighbours = fig.data[-2], fig.data[-1]
    assert list(selected.customdata) == [12] and list(neighbours.customdata) == [3, 4]
    assert selected.marker.size > neighbours.marker.size
    np.testing.assert_array_equal(np.asarray(selected.x), info.coords[[12], 0])
    with pytest.raises(InputError, match="highlighted"):
        plot_projection(info, highlight=[300])


def test_mismatched_inputs_are_refused():
    info = _info(10)
    with pytest.raises(InputError, match="colour"):
        plot_projection(info, color=np.arange(9))
    with pytest.raises(InputError, match="hover"):
        plot_projection(info, hover_text=["a"])


def test_selected_indices_reads_customdata_in_both_forms():
    selection = {
        "points": [
            {"curve_number": 1, "point_index": 0, "customdata": 41},
            {"curve_number": 0, "point_index": 5, "customdata": [7]},
            {"curve_number": 2, "point_index": 0, "customdata": 41},
        ]
    }
    assert selected_indices(selection) == [41, 7]
    assert selected_indices(None) == []


def test_similarity_heatmap_keeps_duplicate_labels_apart_and_escapes_them():
    matrix = np.array([[1.0, 0.2, -0.5], [0.2, 1.0, 0.0], [-0.5, 0.0, 1.0]])
    fig = plot_similarity(matrix, ["a<b", "a<b", "c"], metric="cosine")
    heatmap = fig.data[0]
    np.testing.assert_array_equal(np.asarray(heatmap.z), matrix)
    # Negative similarities: diverging, centred on zero, as wide as the largest size (0.5).
    assert (heatmap.zmin, heatmap.zmax, heatmap.zmid) == (-0.5, 0.5, 0.0)
    assert "0 = white" in heatmap.colorbar.title.text
    assert list(fig.layout.xaxis.ticktext) == ["a&lt;b", "a&lt;b", "c"]
    assert list(fig.layout.xaxis.tickvals) == [0, 1, 2]
    distances = plot_similarity(np.zeros((2, 2)), ["x", "y"], metric="euclidean")
    assert distances.data[0].zmin == 0.0
    with pytest.raises(InputError, match="square"):
        plot_similarity(matrix, ["a"], metric="cosine")


def test_all_positive_cosine_similarities_get_a_scale_over_their_range():
    """Issue 19: similarities of 0.8 to 1 on a fixed -1..1 scale all looked the same red."""
    matrix = np.array([[1.0, 0.83, 0.91], [0.83, 1.0, 0.97], [0.91, 0.97, 1.0]])
    heatmap = plot_similarity(matrix, ["a", "b", "c"], metric="cosine").data[0]
    assert (heatmap.zmin, heatmap.zmax) == (0.8, 1.0)  # 0.83..0.97 rounded out to 0.05
    assert heatmap.zmid is None
    assert heatmap.colorscale == go.Heatmap(colorscale="Viridis").colorscale
    title = heatmap.colorbar.title.text
    assert title == "cosine similarity<br>scale 0.80 to 1.00"  # the range, on the bar itself
    # The smallest and largest off-diagonal values are at least 80% of the scale apart.
    off = matrix[~np.eye(3, dtype=bool)]
    assert (off.max() - off.min()) / (heatmap.zmax - heatmap.zmin) > 0.65
    same = plot_similarity(np.ones((2, 2)), ["x", "y"], metric="cosine").data[0]
    assert same.zmin < same.zmax == 1.0


def _legend_colours(fig) -> dict[str, str]:
    return {trace.name: trace.marker.color for trace in fig.data if trace.showlegend}


def test_ten_digits_get_ten_distinct_colours():
    """Issue 19: an 8-colour palette repeated, so digits 0 and 8 shared a blue."""
    info = _info(200)
    labels = np.arange(200) % 10
    colours = _legend_colours(plot_projection(info, color=labels))
    assert len(colours) == 10 and len(set(colours.values())) == 10
    assert colours["0"] != colours["8"]
    assert HIGHLIGHT_COLOR not in colours.values()


def test_up_to_twenty_categories_stay_distinct_and_more_go_continuous():
    info = _info(300)
    colours = _legend_colours(plot_projection(info, color=np.arange(300) % 17))
    assert len(set(colours.values())) == 17 and set(colours.values()) <= set(CATEGORY_20)
    assert len(set(category_colours(20))) == 20
    with pytest.raises(InputError, match="continuous"):
        category_colours(21)
    labels = np.arange(300) % 25
    labels[:7] = -1  # noise stays grey and out of the colour scale
    fig = plot_projection(info, color=labels, category_names=[f"w{i}" for i in range(25)])
    scaled = [trace for trace in fig.data if trace.marker.coloraxis == "coloraxis"]
    assert scaled and fig.layout.coloraxis.colorbar.title.text.startswith("category")
    colour = np.concatenate([np.asarray(trace.marker.color) for trace in scaled])
    points = np.concatenate([np.asarray(trace.customdata) for trace in scaled])
    np.testing.assert_array_equal(colour, labels[points])  # codes 0..24 are the labels
    noise = [trace for trace in fig.data if trace.name == "noise"]
    assert noise[0].marker.color == NOISE_COLOR and sorted(noise[0].customdata) == list(range(7))
    texts = [t for trace in scaled for t in trace.hovertext]
    assert "w24" in texts


def _reconstructions() -> ReconstructionInfo:
    rng = np.random.default_rng(4)
    inputs = rng.uniform(0, 1, (3, 4, 5, 1)).astype(np.float32)
    outputs = (0.5 * inputs + 0.1).astype(np.float32)
    return ReconstructionInfo(
        inputs=inputs,
        outputs=outputs,
        indices=np.array([7, 2, 9]),
        errors=np.linspace(0.0, 0.1, 10),
        value_range=(float(min(inputs.min(), outputs.min())), float(inputs.max())),
        order="worst",
    )


def test_reconstructions_share_one_scale_inputs_above_outputs():
    info = _reconstructions()
    fig = plot_reconstructions(info)
    (heatmap,) = fig.data
    z = np.asarray(heatmap.z, dtype=float)
    assert z.shape == (2 * 4 + 1, 3 * 5 + 2)  # two rows of three tiles, one-pixel gaps
    np.testing.assert_allclose(z[:4, 6:11], info.inputs[1, ..., 0], rtol=1e-6)
    np.testing.assert_allclose(z[5:9, 6:11], info.outputs[1, ..., 0], rtol=1e-6)
    assert np.isnan(z[4]).all()
    # One colour scale for both rows, the one the info gives.
    assert (heatmap.zmin, heatmap.zmax) == info.value_range
    assert heatmap.colorbar.title.text == "pixel value"
    assert list(fig.layout.yaxis.ticktext) == ["input", "reconstruction"]
    assert fig.layout.xaxis.ticktext[0] == "#7<br>0.078"  # errors[7] of linspace(0, 0.1, 10)
    assert fig.layout.yaxis.scaleanchor == "x"
    assert "3 worst reconstructed samples of 10" in fig.layout.title.text
    assert "one colour scale" in fig.layout.title.text


def test_latent_grid_tiles_sit_at_their_coordinates():
    images = np.random.default_rng(5).uniform(0, 1, (3, 4, 2, 2, 1)).astype(np.float32)
    info = LatentGridInfo(
        images=images,
        first=np.linspace(-1, 1, 4),
        second=np.linspace(2, -2, 3),
        latent_dim=3,
        encoder="encoder",
        decoder="decoder",
        latent="z_mean",
        quantiles=(0.02, 0.98),
        encoded=np.zeros((5, 2), np.float32),
    )
    fig = plot_latent_grid(info)
    (heatmap,) = fig.data
    z = np.asarray(heatmap.z, dtype=float)
    assert z.shape == (3 * 3 - 1, 4 * 3 - 1)
    np.testing.assert_allclose(z[3:5, 6:8], images[1, 2, ..., 0])  # row 1, column 2
    custom = np.asarray(heatmap.customdata, dtype=float)
    assert tuple(custom[3, 6]) == (info.first[2], info.second[1])
    assert (heatmap.zmin, heatmap.zmax) == (0.0, 1.0)
    assert fig.layout.xaxis.title.text.startswith("z_mean[0]")
    assert fig.layout.yaxis.title.text.startswith("z_mean[1]")
    assert list(fig.layout.yaxis.ticktext) == ["2.00", "0.00", "-2.00"]  # highest at the top
    assert "other 1 coordinates at 0" in fig.layout.title.text
    assert heatmap.colorbar.title.text == "decoded<br>pixel value"
