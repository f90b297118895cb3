"""Attribution figures: the traces and the values they carry (no TensorFlow needed)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import plotly.graph_objects as go
import pytest

from neurogenesis.analysis.attribution import (
    AttributionInfo,
    PointingInfo,
    SanityInfo,
    TokenAttributionInfo,
)
from neurogenesis.errors import InputError
from neurogenesis.plotting.attribution import (
    DIVERGING_COLORSCALE,
    plot_attribution,
    plot_attribution_grid,
    plot_pointing_game,
    plot_sanity_check,
    plot_token_attribution,
)


def _info(method="gradient", kind="image", maps=None, attributions=None, n=2):
    if maps is None:
        maps = np.random.default_rng(0).uniform(size=(n, 4, 5))
    return AttributionInfo(
        method=method,
        input_kind=kind,
        maps=np.asarray(maps, dtype=float),
        attributions=attributions,
        target=np.arange(n),
        scores=np.linspace(0.5, 0.9, n),
        outputs=np.full((n, 3), 1 / 3),
        layer=None,
        score_kind="probability",
        baseline=None,
        steps=None,
        num_samples=None,
        noise_level=None,
        window=None,
        stride=None,
        top_n=None,
        completeness_error=None,
        notes=(),
    )


def test_rgb_image_with_overlay():
    info = _info()
    images = np.random.default_rng(1).integers(0, 256, size=(2, 4, 5, 3)).astype(np.uint8)
    figure = plot_attribution(info, images, index=1, opacity=0.3)
    image, overlay = figure.data
    assert isinstance(image, go.Image) and isinstance(overlay, go.Heatmap)
    np.testing.assert_array_equal(np.asarray(image.z), images[1])
    np.testing.assert_allclose(np.asarray(overlay.z), info.maps[1])
    assert overlay.opacity == 0.3 and overlay.zmin == 0.0
    assert figure.layout.yaxis.autorange == "reversed"
    assert "Gradient" in figure.layout.title.text and "output 1" in figure.layout.title.text


def test_unit_range_rgb_is_scaled_and_grey_images_use_a_grey_heatmap():
    info = _info(n=1)
    rgb = np.full((4, 5, 3), 0.5)
    assert np.asarray(plot_attribution(info, rgb).data[0].z)[0, 0, 0] == 127
    grey = np.arange(20, dtype=float).reshape(4, 5, 1)
    base, overlay = plot_attribution(info, grey).data
    assert isinstance(base, go.Heatmap) and base.showscale is False
    np.testing.assert_array_equal(np.asarray(base.z), grey[..., 0])
    # The "gray" scale, from black.
    assert base.colorscale[0][1].replace(" ", "") == "rgb(0,0,0)"
    with pytest.raises(InputError, match="between 0 and 1"):
        plot_attribution(info, grey, opacity=2)
    with pytest.raises(InputError, match="sample index"):
        plot_attribution(info, grey, index=3)


def test_series_heatmap_shows_signed_attributions_over_time_and_features():
    signed = np.random.default_rng(2).normal(size=(1, 14, 3))
    info = _info(kind="series", maps=np.abs(signed), attributions=signed, n=1)
    figure = plot_attribution(info, np.zeros((1, 14, 3)), feature_names=["rain", "t<max>", "wind"])
    (trace,) = figure.data
    np.testing.assert_allclose(np.asarray(trace.z), signed[0].T)
    assert list(trace.y) == ["rain", "t&lt;max&gt;", "wind"]
    assert trace.zmid == 0.0 and trace.zmax == pytest.approx(np.abs(signed).max())
    assert figure.layout.xaxis.title.text == "time step"
    unsigned = _info(kind="series", maps=np.abs(signed), n=1)
    assert plot_attribution(unsigned, np.zeros((14, 3))).data[0].zmin == 0.0


def test_tabular_bars():
    values = np.array([[0.5, -1.0, 2.0]])
    info = _info(kind="tabular", maps=np.abs(values), attributions=values, n=1)
    (bars,) = plot_attribution(info, np.zeros((1, 3))).data
    assert isinstance(bars, go.Bar)
    np.testing.assert_allclose(np.asarray(bars.y), values[0])


def test_grid_has_one_subplot_per_method_with_maps_scaled_to_their_maximum():
    maps_a = np.random.default_rng(3).uniform(size=(2, 4, 5)) * 10
    maps_b = np.zeros((2, 4, 5))
    infos = [_info("gradient", maps=maps_a), _info("gradcam", maps=maps_b)]
    blurred = _info("integrated_gradients", maps=maps_a)
    blurred = type(blurred)(**{**blurred.__dict__, "baseline": "blur"})
    images = np.zeros((2, 4, 5, 3), dtype=np.uint8)
    figure = plot_attribution_grid(infos, images, index=1)
    heatmaps = [trace for trace in figure.data if isinstance(trace, go.Heatmap)]
    assert len([t for t in figure.data if isinstance(t, go.Image)]) == 2 and len(heatmaps) == 2
    np.testing.assert_allclose(np.asarray(heatmaps[0].z), maps_a[1] / maps_a[1].max())
    np.testing.assert_allclose(np.asarray(heatmaps[1].z), 0.0)  # an all-zero map stays zero
    assert heatmaps[1].xaxis == "x2" and heatmaps[0].zmax == 1.0
    titles = [annotation.text for annotation in figure.layout.annotations]
    assert titles == ["Gradient", "Grad-CAM"]
    titled = plot_attribution_grid([infos[0], blurred], images)
    assert [a.text for a in titled.layout.annotations] == [
        "Gradient",
        "Integrated gradients (blur)",
    ]
    with pytest.raises(InputError, match="same samples"):
        plot_attribution_grid([infos[0], _info(maps=np.ones((2, 3, 3)))], images)
    with pytest.raises(InputError, match="at least one"):
        plot_attribution_grid([], images)


def test_token_attribution_colours_words_by_signed_score():
    info = TokenAttributionInfo(
        method="integrated_gradients",
        scores=np.array([[0.1, -0.5, 2.0, 0.0, 0.0]]),
        tokens=np.array([[3, 1, 2, 0, 0]]),
        target=np.array([1]),
        probabilities=np.array([[0.2, 0.8]]),
        target_scores=np.array([0.8]),
        embedding_layer="token_embedding",
        score_kind="probability",
        baseline="zeros",
        steps=64,
        completeness_error=np.array([0.01]),
        notes=(),
    )
    vocabulary = ["[PAD]", "not", "<b>good</b>", "the"]
    (trace,) = plot_token_attribution(info, vocabulary).data
    assert isinstance(trace, go.Heatmap)
    np.testing.assert_allclose(np.asarray(trace.z), [[0.1, -0.5, 2.0]])  # padding left out
    assert list(trace.text[0]) == ["the", "not", "&lt;b&gt;good&lt;/b&gt;"]
    assert trace.colorscale == go.Heatmap(colorscale=DIVERGING_COLORSCALE).colorscale
    assert trace.zmid == 0.0 and trace.zmin == -2.0 and trace.zmax == 2.0
    per_position = plot_token_attribution(info, ["a", "b", "c", "d", "e"], skip_padding=False)
    assert list(per_position.data[0].text[0]) == ["a", "b", "c", "d", "e"]
    with pytest.raises(InputError, match="vocabulary"):
        plot_token_attribution(info, ["x", "y"])


def test_sanity_check_lines_and_median():
    correlations = np.array([[0.9, 0.7, 0.8], [0.2, 0.4, 0.3]])
    sanity = SanityInfo(
        method="gradcam",
        layers=("probabilities", "conv_<3>"),
        target=np.zeros(3, dtype=int),
        original=np.zeros((3, 2, 2)),
        randomized=np.zeros((2, 3, 2, 2)),
        rank_correlation=correlations,
        rank_correlation_signed=None,
        top_kept=np.zeros((2, 3)),
        threshold=0.5,
        passed=True,
        notes=(),
    )
    figure = plot_sanity_check(sanity)
    samples, median = figure.data[:3], figure.data[3]
    assert list(median.x) == ["original", "+ probabilities", "+ conv_&lt;3&gt;"]
    np.testing.assert_allclose(np.asarray(median.y), [1.0, 0.8, 0.3])
    np.testing.assert_allclose(np.asarray(samples[1].y), [1.0, 0.7, 0.4])
    assert median.line.width > samples[0].line.width and "0.3" in samples[0].line.color
    assert figure.layout.shapes[0].y0 == 0.5 and "passes" in figure.layout.title.text
    assert [trace.showlegend for trace in samples] == [True, False, False]


def test_pointing_game_bars():
    figure = plot_pointing_game({"gradcam": 0.7, "integrated_gradients": 0.95})
    (bars,) = figure.data
    assert list(bars.x) == ["Grad-CAM", "Integrated gradients"]
    np.testing.assert_allclose(np.asarray(bars.y), [0.7, 0.95])
    assert list(bars.text) == ["70%", "95%"]
    assert PointingInfo  # the info whose scores are drawn
    with pytest.raises(InputError):
        plot_pointing_game({})


def test_plotting_does_not_import_tensorflow():
    code = (
        "import sys; import neurogenesis.plotting.attribution; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
