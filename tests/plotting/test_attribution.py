"""Attribution figures: the traces and the values they carry (no TensorFlow needed)."""

from __future__ import annotations

import re
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
    MAGNITUDE_COLORSCALE,
    MAGNITUDE_TITLE,
    SIGNED_COLORSCALE,
    SIGNED_TITLE,
    attribution_values,
    completeness_summary,
    method_settings,
    plot_attribution,
    plot_attribution_grid,
    plot_pointing_game,
    plot_sanity_check,
    plot_token_attribution,
    shared_limit,
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


def _placeholders(figure: go.Figure) -> list[str]:
    """Colours Streamlit's chart component rewrites in the JSON, whatever the theme."""
    return re.findall(r"#0000(?:0[1-9]|1[0-9]|20)\b", figure.to_json(), flags=re.IGNORECASE)


def _rgb(color: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", color)[:3])


def _maps(figure: go.Figure) -> list:
    """The attribution traces (not the input drawn under or beside them)."""
    return [trace for trace in figure.data if trace.meta and "values" in trace.meta]


def test_magnitude_map_over_grey_input_starts_at_black_zero():
    info = _info("gradcam")  # a magnitude method
    images = np.random.default_rng(1).integers(0, 256, size=(2, 4, 5, 3)).astype(np.uint8)
    figure = plot_attribution(info, images, index=1, opacity=0.3)
    image, under, overlay = figure.data
    # The input in colour beside the map, and in greys (luminance) under it, as Captum draws it.
    assert isinstance(image, go.Image) and image.xaxis == "x"
    np.testing.assert_array_equal(np.asarray(image.z), images[1])
    luminance = images[1].astype(float) @ [0.299, 0.587, 0.114]
    np.testing.assert_allclose(np.asarray(under.z), luminance)
    assert under.xaxis == overlay.xaxis == "x2" and under.colorscale[0][1] == "rgb(0, 0, 0)"
    assert (under.zmin, under.zmax) == (0.0, 255.0)
    np.testing.assert_allclose(np.asarray(overlay.z), info.maps[1])
    np.testing.assert_allclose(np.asarray(overlay.customdata), luminance)  # hover gives the input
    assert overlay.opacity == 0.3 and overlay.meta == {"values": "magnitude"}
    # Zero is the scale's first colour, Inferno's black, written so Streamlit keeps it.
    assert overlay.zmin == 0.0 and overlay.zmax == pytest.approx(info.maps[1].max())
    assert overlay.zmid is None
    assert overlay.colorscale == go.Heatmap(colorscale=MAGNITUDE_COLORSCALE).colorscale
    assert max(_rgb(overlay.colorscale[0][1])) <= 4 and _rgb(overlay.colorscale[-1][1])[0] > 240
    assert overlay.colorbar.title.text == MAGNITUDE_TITLE == "|attribution|"
    assert "%{z" in overlay.hovertemplate and "%{customdata" in overlay.hovertemplate
    assert _placeholders(figure) == []
    assert figure.layout.yaxis2.autorange == "reversed"
    assert "Grad-CAM" in figure.layout.title.text and "output 1" in figure.layout.title.text
    assert "black is none" in figure.layout.title.subtitle.text


def test_streamlit_placeholder_colours_never_reach_the_figure():
    # Plotly's own Inferno starts at "#000004", one of the strings Streamlit's chart component
    # replaces with a theme colour: that was the pink zero.
    assert go.Heatmap(colorscale="Inferno").colorscale[0][1] == "#000004"
    info = _info("occlusion")
    signed = np.random.default_rng(5).normal(size=(2, 4, 5, 3))
    gradient = _info("gradient", maps=np.abs(signed).sum(-1), attributions=signed)
    figures = [
        plot_attribution(info, np.zeros((2, 4, 5, 1))),
        plot_attribution_grid([info, gradient], np.zeros((2, 4, 5, 3))),
    ]
    for figure in figures:
        assert _placeholders(figure) == []


def test_signed_image_map_is_diverging_centred_on_zero_and_symmetric():
    signed = np.random.default_rng(2).normal(size=(1, 4, 5, 3))
    signed[0, 0, 0] = [3.0, 1.0, 1.0]  # the largest |sum|: 5.0, positive
    signed[0, 1, 1] = [-1.0, -1.0, -1.0]
    info = _info("integrated_gradients", maps=np.abs(signed).sum(-1), attributions=signed, n=1)
    figure = plot_attribution(info, np.arange(20.0).reshape(4, 5, 1))
    (overlay,) = _maps(figure)
    # The signed sum over channels, not the magnitude the pointing game uses.
    np.testing.assert_allclose(np.asarray(overlay.z), signed[0].sum(-1))
    assert np.asarray(overlay.z)[1, 1] == -3.0
    assert overlay.meta == {"values": "signed"} and overlay.zmid == 0.0
    limit = np.abs(signed[0].sum(-1)).max()
    assert overlay.zmax == pytest.approx(limit) and overlay.zmin == pytest.approx(-limit)
    assert overlay.colorscale == go.Heatmap(colorscale=SIGNED_COLORSCALE).colorscale
    middle = dict((position, color) for position, color in SIGNED_COLORSCALE)[0.5]
    assert min(_rgb(middle)) > 240  # zero is white
    low, high = _rgb(SIGNED_COLORSCALE[0][1]), _rgb(SIGNED_COLORSCALE[-1][1])
    assert low[2] > low[0] and high[0] > high[2]  # negative blue, positive red
    assert overlay.colorbar.title.text == SIGNED_TITLE == "attribution (signed)"
    # A one-channel input: greys beside and under the map.
    base, under, _ = figure.data
    assert isinstance(base, go.Heatmap) and base.showscale is False
    np.testing.assert_array_equal(np.asarray(under.z), np.arange(20.0).reshape(4, 5))
    assert "red raises" in figure.layout.title.subtitle.text
    # A shared limit from the caller: the range is that, and the subtitle says it is shared.
    shared = plot_attribution(info, np.zeros((4, 5, 1)), limit=8.0)
    (overlay,) = _maps(shared)
    assert (overlay.zmin, overlay.zmid, overlay.zmax) == (-8.0, 0.0, 8.0)
    assert (
        "shared" in shared.layout.title.subtitle.text and "8" in shared.layout.title.subtitle.text
    )
    # Without an input panel, the map alone (over the greys).
    assert len(plot_attribution(info, np.zeros((4, 5, 1)), show_input=False).data) == 2


def test_unit_range_rgb_and_bad_arguments():
    info = _info(n=1)
    rgb = np.full((4, 5, 3), 0.5)
    figure = plot_attribution(info, rgb)
    assert np.asarray(figure.data[0].z)[0, 0, 0] == 127
    assert (figure.data[1].zmin, figure.data[1].zmax) == (0.0, 1.0)
    grey = np.zeros((4, 5, 1))
    with pytest.raises(InputError, match="between 0 and 1"):
        plot_attribution(info, grey, opacity=2)
    with pytest.raises(InputError, match="sample index"):
        plot_attribution(info, grey, index=3)
    with pytest.raises(InputError, match="limit"):
        plot_attribution(info, grey, limit=0)


def test_series_signed_and_unsigned_render_like_images_with_the_input_beside():
    signed = np.random.default_rng(2).normal(size=(1, 14, 3))
    signed[0, 3, 2] = -4.0  # "wind": the largest |value|, negative
    signed[0, 5, 1] = 3.0
    info = _info("gradient", kind="series", maps=np.abs(signed), attributions=signed, n=1)
    x = np.random.default_rng(3).normal(size=(1, 14, 3)) * [1.0, 10.0, 100.0]
    figure = plot_attribution(info, x, feature_names=["rain", "t<max>", "wind"])
    inputs, trace = figure.data
    np.testing.assert_allclose(np.asarray(trace.z), signed[0].T)
    assert list(trace.y) == ["rain", "t&lt;max&gt;", "wind"]
    # -4 (wind) and +3 (t_max) sit at the two ends of one symmetric scale: -4 reads as strongly
    # as a +4 would, in the other colour.
    assert (trace.zmin, trace.zmid, trace.zmax) == (-4.0, 0.0, 4.0)
    assert trace.colorscale == go.Heatmap(colorscale=SIGNED_COLORSCALE).colorscale
    assert trace.colorbar.title.text == SIGNED_TITLE and "%{z" in trace.hovertemplate
    # The input beside: each feature from its minimum (black) to its maximum (white), raw on hover.
    scaled = np.asarray(inputs.z)
    np.testing.assert_allclose(scaled.min(axis=1), 0.0)
    np.testing.assert_allclose(scaled.max(axis=1), 1.0)
    np.testing.assert_allclose(np.asarray(inputs.customdata), x[0].T)
    assert inputs.colorscale[0][1] == "rgb(0, 0, 0)" and inputs.showscale is False
    assert figure.layout.xaxis.title.text == figure.layout.xaxis2.title.text == "time step"
    assert figure.layout.yaxis.title.text == "feature"
    smooth = _info("smoothgrad", kind="series", maps=np.abs(signed), attributions=signed, n=1)
    (magnitude,) = _maps(plot_attribution(smooth, np.zeros((14, 3))))
    np.testing.assert_allclose(np.asarray(magnitude.z), np.abs(signed[0]).T)
    assert (magnitude.zmin, magnitude.zmax, magnitude.zmid) == (0.0, 4.0, None)
    assert magnitude.colorbar.title.text == MAGNITUDE_TITLE


def test_tabular_bars_take_the_colours_of_the_maps():
    values = np.array([[0.5, -1.0, 2.0]])
    info = _info(kind="tabular", maps=np.abs(values), attributions=values, n=1)
    figure = plot_attribution(info, np.array([[1.5, 2.0, 3.25]]), feature_names=["a", "b", "c"])
    (bars,) = figure.data
    assert isinstance(bars, go.Bar)
    np.testing.assert_allclose(np.asarray(bars.y), values[0])
    np.testing.assert_allclose(np.asarray(bars.marker.color), values[0])
    marker = bars.marker
    assert (marker.cmin, marker.cmid, marker.cmax) == (-2.0, 0.0, 2.0)
    assert marker.colorscale == go.Heatmap(colorscale=SIGNED_COLORSCALE).colorscale
    assert marker.colorbar.title.text == SIGNED_TITLE
    assert list(bars.x) == ["a<br>= 1.5", "b<br>= 2", "c<br>= 3.25"]  # the input's values
    assert figure.layout.yaxis.title.text == SIGNED_TITLE


def test_grid_shares_one_range_per_kind_and_says_each_map_is_scaled():
    signed = np.random.default_rng(3).normal(size=(2, 4, 5, 3)) * 10
    gradient = _info("gradient", maps=np.abs(signed).sum(-1), attributions=signed)
    ig = _info("integrated_gradients", maps=np.abs(signed / 7).sum(-1), attributions=signed / 7)
    cam = _info("gradcam", maps=np.random.default_rng(4).uniform(size=(2, 4, 5)) * 3)
    empty = _info("scorecam", maps=np.zeros((2, 4, 5)))
    images = np.zeros((2, 4, 5, 3), dtype=np.uint8)
    figure = plot_attribution_grid([gradient, ig, cam, empty], images, index=1)
    maps = _maps(figure)
    assert len(maps) == 4 and isinstance(figure.data[0], go.Image)
    summed = signed[1].sum(-1)
    np.testing.assert_allclose(np.asarray(maps[0].z), summed / np.abs(summed).max())
    np.testing.assert_allclose(np.asarray(maps[1].z), np.asarray(maps[0].z))  # same shape
    np.testing.assert_allclose(np.asarray(maps[2].z), cam.maps[1] / cam.maps[1].max())
    np.testing.assert_allclose(np.asarray(maps[3].z), 0.0)  # an all-zero map stays zero
    # One range per kind across panels: signed -1..1 around 0, magnitudes 0..1.
    assert {(m.zmin, m.zmid, m.zmax) for m in maps[:2]} == {(-1.0, 0.0, 1.0)}
    assert {(m.zmin, m.zmax) for m in maps[2:]} == {(0.0, 1.0)}
    assert [m.meta["values"] for m in maps] == ["signed", "signed", "magnitude", "magnitude"]
    # One colour bar per kind, each titled.
    assert [m.showscale for m in maps] == [True, False, True, False]
    assert SIGNED_TITLE in maps[0].colorbar.title.text
    assert MAGNITUDE_TITLE in maps[2].colorbar.title.text
    assert "max" in maps[0].colorbar.title.text
    assert maps[0].colorbar.x < maps[2].colorbar.x  # side by side, not on top of each other
    assert maps[0].colorbar.orientation == "h"
    assert "each map ÷ its own max" in figure.layout.title.subtitle.text
    assert [maps[k].xaxis for k in range(4)] == ["x2", "x3", "x4", "x5"]
    titles = [annotation.text for annotation in figure.layout.annotations]
    assert titles == ["input", "Gradient", "Integrated gradients", "Grad-CAM", "Score-CAM"]
    assert _placeholders(figure) == []


def test_grid_labels_and_series_and_errors():
    signed = np.random.default_rng(6).normal(size=(2, 6, 3))
    smooth = _info("smoothgrad", kind="series", maps=np.abs(signed), attributions=signed)
    smooth = type(smooth)(**{**smooth.__dict__, "num_samples": 50, "noise_level": 0.1})
    blurred = _info("integrated_gradients", kind="series", maps=np.abs(signed), attributions=signed)
    blurred = type(blurred)(**{**blurred.__dict__, "baseline": "blur"})
    figure = plot_attribution_grid([blurred, smooth], np.zeros((2, 6, 3)), feature_names="abc")
    assert [a.text for a in figure.layout.annotations] == [
        "input",
        "Integrated gradients (blur)",
        "SmoothGrad (50 × σ 10%)",
    ]
    inputs, signed_map, magnitude = figure.data
    assert signed_map.zmid == 0.0 and magnitude.zmin == 0.0 and magnitude.zmid is None
    np.testing.assert_allclose(
        np.asarray(magnitude.z), np.abs(signed[0]).T / np.abs(signed[0]).max()
    )
    layout = figure.layout
    assert [layout[f"xaxis{k}"].title.text for k in ("", "2", "3")] == ["time step"] * 3
    images = np.zeros((2, 4, 5, 3))
    with pytest.raises(InputError, match="same samples"):
        plot_attribution_grid([_info(), _info(maps=np.ones((2, 3, 3)))], images)
    with pytest.raises(InputError, match="at least one"):
        plot_attribution_grid([], images)


def test_attribution_values_and_shared_limit():
    signed = np.zeros((2, 2, 2, 3))
    signed[0, 0, 0] = [1.0, -4.0, 0.0]  # sum -3, |.| summed 5
    signed[1, 1, 1] = [2.0, 2.0, 2.0]
    gradient = _info("gradient", maps=np.abs(signed).sum(-1), attributions=signed)
    smooth = _info("smoothgrad", maps=np.abs(signed).sum(-1) * 2, attributions=signed)
    values, is_signed = attribution_values(gradient, 0)
    assert is_signed and values[0, 0] == -3.0
    values, is_signed = attribution_values(smooth, 0)
    assert not is_signed and values[0, 0] == 10.0  # SmoothGrad draws its mean |gradient| map
    assert shared_limit([gradient, smooth], 0) == 10.0
    assert shared_limit([gradient], 1) == 6.0
    assert shared_limit([_info(maps=np.zeros((2, 2, 2)))], 0) == 1.0
    assert method_settings(
        type(smooth)(**{**smooth.__dict__, "num_samples": 50, "noise_level": 0.1})
    ) == ("50 noisy copies, noise σ = 10% of the value range, mean |gradient|")


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
    assert trace.colorbar.title.text == SIGNED_TITLE and trace.meta == {"values": "signed"}
    shared = plot_token_attribution(info, vocabulary, limit=5.0).data[0]
    assert (shared.zmin, shared.zmid, shared.zmax) == (-5.0, 0.0, 5.0)
    per_position = plot_token_attribution(info, ["a", "b", "c", "d", "e"], skip_padding=False)
    assert list(per_position.data[0].text[0]) == ["a", "b", "c", "d", "e"]
    with pytest.raises(InputError, match="vocabulary"):
        plot_token_attribution(info, ["x", "y"])
    # The title calls the output a probability only where the model ends in softmax/sigmoid:
    # a KerasHub classifier's raw logits are an output value.
    title = plot_token_attribution(info, vocabulary).layout.title.text
    assert title.endswith("output 1, output value 0.8")
    softmax = type(info)(**{**info.__dict__, "output_activation": "softmax"})
    assert plot_token_attribution(softmax, vocabulary).layout.title.text.endswith(
        "output 1, probability 0.8"
    )


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
    assert figure.layout.xaxis.title.text == "method" and figure.layout.yaxis.title.text == "hits"
    assert PointingInfo  # the info whose scores are drawn
    with pytest.raises(InputError):
        plot_pointing_game({})


def test_plotting_does_not_import_tensorflow():
    code = (
        "import sys; import neurogenesis.plotting.attribution; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_completeness_summary_uses_the_defined_errors_and_counts_the_rest():
    nan = float("nan")
    undefined = "the output does not change between baseline and input"
    assert completeness_summary([0.004]) == "0.4%"
    assert completeness_summary([0.004, 0.002, 0.1, 0.006]) == "median 0.5% over 4 samples"
    assert completeness_summary(np.array([0.004, nan, 0.002, 0.1])) == (
        f"median 0.4% over 3 of 4 samples; undefined for 1 where {undefined}"
    )
    assert completeness_summary([nan]) == f"undefined ({undefined})"
    assert completeness_summary(np.full(5, nan)) == f"undefined ({undefined})"
    assert completeness_summary([0.00004, 0.00004]) == "median 0.004% over 2 samples"
    assert completeness_summary(None) == completeness_summary([]) == ""
