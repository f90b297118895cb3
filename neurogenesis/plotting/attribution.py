"""Attribution maps as Plotly figures. Drawing only: no TensorFlow, no Streamlit.

Draws what :mod:`neurogenesis.analysis.attribution` computes:

- ``plot_attribution``: one sample: the input, then its map laid over the input in greys (images),
  or a time x feature heatmap (series), or one bar per feature (feature vectors);
- ``plot_attribution_grid``: several methods side by side on the same sample;

Signed attributions (gradient, integrated gradients) are drawn on a diverging scale centred on
zero, magnitudes (SmoothGrad's mean |gradient|, CAMs, occlusion) on a sequential scale whose zero
is black, the same way for every kind of input and on every page (Captum's convention);
- ``plot_token_attribution``: the words of a sentence coloured by their signed score;
- ``plot_sanity_check``: the rank correlation of the cascading randomization, stage by stage;
- ``plot_pointing_game``: each method's pointing-game score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.colors
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from neurogenesis.errors import InputError
from neurogenesis.plotting.style import base_layout, color_for, escaped, rgb_of, rgba

__all__ = [
    "DEFAULT_COLORSCALE",
    "DEFAULT_OPACITY",
    "DIVERGING_COLORSCALE",
    "INPUT_COLORSCALE",
    "MAGNITUDE_COLORSCALE",
    "MAGNITUDE_TITLE",
    "METHOD_LABELS",
    "SIGNED_COLORSCALE",
    "SIGNED_TITLE",
    "attribution_table",
    "attribution_values",
    "completeness_summary",
    "method_settings",
    "plot_attribution",
    "plot_attribution_grid",
    "plot_pointing_game",
    "plot_sanity_check",
    "plot_token_attribution",
    "pointing_game_table",
    "sanity_check_table",
    "shared_limit",
    "token_attribution_table",
    "top_attribution_table",
]


def _explicit(scale: str | Sequence) -> list[list]:
    """A colour scale written out as ``[[position, "rgb(r, g, b)"], ...]``.

    Streamlit's chart component replaces the exact strings ``#000001`` ... ``#000020`` anywhere
    in a figure (its placeholders for theme colours), whatever the theme: Inferno's zero colour,
    ``#000004``, reached the browser as pink or purple. rgb() strings reach it as written.
    """
    named = plotly.colors.get_colorscale(scale) if isinstance(scale, str) else scale
    written = []
    for position, color in named:
        red, green, blue = (round(value) for value in rgb_of(str(color)))
        written.append([float(position), f"rgb({red}, {green}, {blue})"])
    return written


DEFAULT_OPACITY = 0.5
# Magnitudes (no sign): Inferno, whose zero is black, so "nothing" reads as dark.
MAGNITUDE_COLORSCALE = _explicit("Inferno")
# Signed attributions, centred on zero (white): positive (raises the score) red, negative blue.
SIGNED_COLORSCALE = _explicit("RdBu_r")
DEFAULT_COLORSCALE = MAGNITUDE_COLORSCALE
DIVERGING_COLORSCALE = SIGNED_COLORSCALE
# The input under (images) or beside (series) a map, in greys, as Captum draws it.
INPUT_COLORSCALE = [[0.0, "rgb(0, 0, 0)"], [1.0, "rgb(255, 255, 255)"]]
SIGNED_TITLE = "attribution (signed)"
MAGNITUDE_TITLE = "|attribution|"
RELATIVE_NOTE = "÷ each map's max"
METHOD_LABELS = {
    "gradient": "Gradient",
    "smoothgrad": "SmoothGrad",
    "integrated_gradients": "Integrated gradients",
    "gradcam": "Grad-CAM",
    "gradcam_plus_plus": "Grad-CAM++",
    "scorecam": "Score-CAM",
    "occlusion": "Occlusion",
}
SAMPLE_LINE_ALPHA = 0.3
SAMPLE_LINE_COLOR = "#7F7F7F"
MEDIAN_COLOR = color_for(0)
THRESHOLD_COLOR = color_for(5)
BAR_COLOR = color_for(0)
# Token ids equal to this are padding (the Keras ``mask_zero`` convention) and are not drawn.
PADDING_ID = 0
# Image panels: the figure's height for this many panels side by side in a ~900 px wide chart.
CHART_WIDTH = 900
MIN_HEIGHT = 320
MAX_HEIGHT = 560
TOP_MARGIN = 95  # the title, its subtitle and the panels' titles
BOTTOM_MARGIN = {"image": 75, "series": 140, "tabular": 175}
# How far under the plot area the colour bar's title starts (below the axis titles).
COLORBAR_OFFSET = {"image": 8, "series": 62, "tabular": 100}
HEIGHTS = {"series": 500, "tabular": 480}


def _label(method: str) -> str:
    return METHOD_LABELS.get(method, escaped(method))


def method_settings(info: Any) -> str:
    """The settings a map depends on, in words ("" for none): what a caption should say."""
    method = info.method
    if method == "smoothgrad" and info.num_samples:
        return (
            f"{info.num_samples} noisy copies, noise σ = {float(info.noise_level):.0%} of the "
            "value range, mean |gradient|"
        )
    if method == "integrated_gradients" and info.steps:
        return f"{info.steps} steps, {escaped(str(info.baseline))} baseline"
    if method == "occlusion" and info.window:
        window = "×".join(str(size) for size in info.window)
        stride = "×".join(str(size) for size in info.stride)
        return f"patch {window}, stride {stride}, filled with {escaped(str(info.baseline))}"
    if method in ("gradcam", "gradcam_plus_plus", "scorecam") and info.layer:
        channels = f", top {info.top_n} channels" if info.top_n else ""
        return f"layer {escaped(info.layer)}{channels}"
    return ""


def _grid_label(info: Any) -> str:
    """A panel's title: the method, with SmoothGrad's settings and a baseline other than zeros."""
    baseline = getattr(info, "baseline", None)
    if info.method == "smoothgrad" and getattr(info, "num_samples", None):
        return f"SmoothGrad ({info.num_samples} × σ {float(info.noise_level):.0%})"
    if baseline and baseline != "zeros":
        return f"{_label(info.method)} ({escaped(baseline)})"
    return _label(info.method)


def _check_index(info: Any, index: int) -> int:
    count = len(info.target)
    if (
        isinstance(index, bool)
        or not isinstance(index, (int, np.integer))
        or not 0 <= index < count
    ):
        raise InputError(
            f"Expected a sample index between 0 and {count - 1}. Received: {index!r}. "
            "Choose one of the explained samples."
        )
    return int(index)


def _sample(info: Any, image: np.ndarray, index: int) -> np.ndarray:
    """The sample ``index`` of ``image`` (a batch), or ``image`` itself (one sample)."""
    image = np.asarray(image)
    sample_ndim = {"image": 3, "series": 2, "tabular": 1}.get(info.input_kind, image.ndim)
    if image.ndim == sample_ndim + 1:
        if len(image) != len(info.target):
            raise InputError(
                f"Expected the {len(info.target)} samples that were explained. Received: "
                f"{len(image)} samples."
            )
        image = image[index]
    if image.ndim != sample_ndim:
        raise InputError(
            f"Expected a {info.input_kind} sample with {sample_ndim} axes (or a batch of them). "
            f"Received: an array of shape {image.shape}."
        )
    return image


def _check_opacity(opacity: float) -> float:
    if not 0.0 <= float(opacity) <= 1.0:
        raise InputError(f"Expected an opacity between 0 and 1. Received: {opacity!r}.")
    return float(opacity)


def _check_limit(limit: float | None) -> float | None:
    if limit is None:
        return None
    if not math.isfinite(float(limit)) or float(limit) <= 0:
        raise InputError(f"Expected a colour-scale limit above 0. Received: {limit!r}.")
    return float(limit)


def attribution_values(info: Any, index: int) -> tuple[np.ndarray, bool]:
    """What is drawn for sample ``index``, and whether it is signed.

    Signed methods (``info.signed``: gradient, integrated gradients) give their signed
    attributions, summed over an image's channels; every other method its map, a magnitude. Tokens
    (a :class:`~neurogenesis.analysis.attribution.TokenAttributionInfo`) give their signed scores.
    """
    if not hasattr(info, "maps"):  # token attributions: always signed
        return np.asarray(info.scores[index], dtype=np.float64), True
    signed = bool(getattr(info, "signed", False))
    if not signed:
        return np.asarray(info.maps[index], dtype=np.float64), False
    values = np.asarray(info.attributions[index], dtype=np.float64)
    if info.input_kind == "image":
        values = values.sum(axis=-1)  # a pixel's evidence over its channels, sign kept
    return values, True


def shared_limit(infos: Sequence[Any], index: int = 0) -> float:
    """The largest |value| drawn over ``infos`` (sample ``index`` of each): pass it as ``limit``
    to maps shown side by side so that they share one colour scale."""
    peaks = [float(np.abs(attribution_values(info, index)[0]).max(initial=0.0)) for info in infos]
    return max(peaks, default=0.0) or 1.0


def _scale(values: np.ndarray, signed: bool, limit: float | None) -> dict:
    """The colour range of one map: symmetric around zero (signed) or from zero (magnitude)."""
    if limit is None:
        limit = float(np.abs(values).max(initial=0.0)) or 1.0
    if signed:
        return {"colorscale": SIGNED_COLORSCALE, "zmin": -limit, "zmid": 0.0, "zmax": limit}
    return {"colorscale": MAGNITUDE_COLORSCALE, "zmin": 0.0, "zmax": limit}


def _colorbar(title: str, kinds: int, signed: bool, kind: str, columns: int) -> dict:
    """A titled colour bar under the panels (titles fit on one line there); with a signed and a
    magnitude scale, signed on the left. Placed in pixels below the plot area (the figure's
    height is fixed), under the axis titles of series and bars."""
    plot = _height(kind, columns) - TOP_MARGIN - BOTTOM_MARGIN[kind]
    return {
        "title": {"text": title, "side": "top"},
        "orientation": "h",
        "len": 0.6 if kinds == 1 else 0.4,
        "thickness": 12,
        "nticks": 5,
        "x": 0.5 if kinds == 1 else (0.25 if signed else 0.75),
        "xanchor": "center",
        "y": -COLORBAR_OFFSET[kind] / plot,
        "yanchor": "top",
    }


def _grey(sample: np.ndarray) -> tuple[np.ndarray, float, float]:
    """An image as greys (luminance for RGB) with the range its values are drawn on."""
    values = sample.astype(np.float64)
    if values.shape[-1] == 3:
        grey = values @ np.array([0.299, 0.587, 0.114])
        high = 1.0 if values.max() <= 1.0 else 255.0
        return grey, min(0.0, float(grey.min())), max(high, float(grey.max()))
    grey = values[..., 0] if values.shape[-1] == 1 else values.mean(axis=-1)
    low, high = float(grey.min()), float(grey.max())
    return grey, low, high if high > low else low + 1.0


def _input_image(sample: np.ndarray):
    """The input as it is: RGB (``go.Image``) for three channels, greys for one."""
    if sample.shape[-1] == 3:
        values = sample.astype(np.float64)
        if values.max() <= 1.0:  # [0, 1] floats; pixel values 0..255 are drawn as they are
            values = values * 255.0
        return go.Image(
            z=np.clip(values, 0, 255).astype(np.uint8),
            name="input",
            hovertemplate="row %{y}, column %{x}<br>input RGB %{z}<extra></extra>",
        )
    grey, low, high = _grey(sample)
    return go.Heatmap(
        z=grey,
        colorscale=INPUT_COLORSCALE,
        zmin=low,
        zmax=high,
        showscale=False,
        hovertemplate="row %{y}, column %{x}<br>input %{z:.3g}<extra></extra>",
        name="input",
    )


def _image_map(sample, values, scale, opacity, title, showscale, colorbar, name, signed):
    """The map laid over the input in greys; hover gives the attribution and the input."""
    grey, low, high = _grey(sample)
    under = go.Heatmap(
        z=grey,
        colorscale=INPUT_COLORSCALE,
        zmin=low,
        zmax=high,
        showscale=False,
        hoverinfo="skip",
        name="input (grey)",
    )
    over = go.Heatmap(
        z=values,
        customdata=grey,
        opacity=opacity,
        showscale=showscale,
        colorbar=colorbar,
        hovertemplate=(
            f"row %{{y}}, column %{{x}}<br>{title} %{{z:.3g}}<br>input %{{customdata:.3g}}"
            f"<extra>{name}</extra>"
        ),
        name=name,
        meta={"values": "signed" if signed else "magnitude"},
        **scale,
    )
    return [under, over]


def _feature_names(feature_names, count: int) -> list[str]:
    if feature_names is None:
        return [f"feature {k}" for k in range(count)]
    names = [escaped(str(name)) for name in feature_names]
    if len(names) != count:
        raise InputError(
            f"Expected {count} feature names. Received: {len(names)}. "
            "Pass the sample set's feature names."
        )
    return names


def _series_input(sample: np.ndarray, names: list[str]):
    """A series as greys, each feature from its own minimum (black) to maximum (white)."""
    values = sample.astype(np.float64)
    low, high = values.min(axis=0), values.max(axis=0)
    scaled = (values - low) / np.where(high > low, high - low, 1.0)
    return go.Heatmap(
        z=scaled.T,
        customdata=values.T,
        x=np.arange(values.shape[0]),
        y=names,
        colorscale=INPUT_COLORSCALE,
        zmin=0.0,
        zmax=1.0,
        showscale=False,
        hovertemplate="step %{x}, %{y}<br>input %{customdata:.3g}<extra></extra>",
        name="input",
    )


def _series_map(values, names, scale, title, showscale, colorbar, name, signed):
    return go.Heatmap(
        z=values.T,
        x=np.arange(values.shape[0]),
        y=names,
        showscale=showscale,
        colorbar=colorbar,
        hovertemplate=f"step %{{x}}, %{{y}}<br>{title} %{{z:.3g}}<extra>{name}</extra>",
        name=name,
        meta={"values": "signed" if signed else "magnitude"},
        **scale,
    )


def _tabular_map(values, names, sample, scale, title, showscale, colorbar, name, signed):
    """One bar per feature, coloured on the map's scale; the input's value under each name."""
    ticks = [
        f"{feature}<br>= {float(value):.3g}" for feature, value in zip(names, sample, strict=True)
    ]
    marker_scale = {
        "colorscale": scale["colorscale"],
        "cmin": scale["zmin"],
        "cmax": scale["zmax"],
        **({"cmid": 0.0} if signed else {}),
    }
    return go.Bar(
        x=ticks,
        y=values,
        marker={
            "color": values,
            "showscale": showscale,
            "colorbar": colorbar,
            "line": {"color": "rgb(120, 120, 120)", "width": 1},
            **marker_scale,
        },
        hovertemplate=f"%{{x}}<br>{title} %{{y:.3g}}<extra>{name}</extra>",
        name=name,
        meta={"values": "signed" if signed else "magnitude"},
    )


def _title(info: Any, index: int) -> str:
    target = int(info.target[index])
    return (
        f"{_label(info.method)}: output {target}, {escaped(info.score_kind)} "
        f"{float(info.scores[index]):.3g}"
    )


def _panels(
    infos: list,
    sample: np.ndarray,
    index: int,
    *,
    relative: bool,
    opacity: float,
    limit: float | None,
    feature_names,
    show_input: bool,
) -> go.Figure:
    """The input (when shown) and one panel per map, side by side; one colour range per kind."""
    kind = infos[0].input_kind
    drawn = [attribution_values(info, index) for info in infos]
    kinds = len({signed for _, signed in drawn})
    with_input = show_input and kind in ("image", "series")
    titles = (["input"] if with_input else []) + [_grid_label(info) for info in infos]
    columns = len(titles)
    figure = make_subplots(
        rows=1,
        cols=columns,
        subplot_titles=titles,
        horizontal_spacing=0.03 if kind == "image" else 0.05,
        shared_yaxes=kind == "series",
    )
    names = None
    if kind == "series":
        names = _feature_names(feature_names, sample.shape[-1])
    elif kind == "tabular":
        names = _feature_names(feature_names, len(sample))
    if with_input:
        trace = _input_image(sample) if kind == "image" else _series_input(sample, names)
        figure.add_trace(trace, row=1, col=1)
    shown_scale: set[bool] = set()
    for number, (info, (values, signed)) in enumerate(zip(infos, drawn, strict=True)):
        column = number + 1 + with_input
        title = SIGNED_TITLE if signed else MAGNITUDE_TITLE
        if relative:
            peak = float(np.abs(values).max(initial=0.0))
            values = values / peak if peak > 0 else values
            scale = _scale(values, signed, 1.0)
            bar_title = f"{title} {RELATIVE_NOTE}"
        else:
            scale = _scale(values, signed, limit)
            bar_title = title
        showscale = signed not in shown_scale
        shown_scale.add(signed)
        colorbar = _colorbar(bar_title, kinds, signed, kind, columns)
        hover_title = f"{title} ÷ max" if relative else title
        name = _label(info.method)
        if kind == "image":
            traces = _image_map(
                sample, values, scale, opacity, hover_title, showscale, colorbar, name, signed
            )
        elif kind == "series":
            traces = [
                _series_map(values, names, scale, hover_title, showscale, colorbar, name, signed)
            ]
        else:
            traces = [
                _tabular_map(
                    values, names, sample, scale, hover_title, showscale, colorbar, name, signed
                )
            ]
        for trace in traces:
            figure.add_trace(trace, row=1, col=column)
        if kind == "tabular":
            figure.update_yaxes(
                title_text=hover_title,
                range=[scale["zmin"] * 1.05, scale["zmax"] * 1.05],
                row=1,
                col=column,
            )
    for column in range(1, columns + 1):
        if kind == "image":
            figure.update_yaxes(
                autorange="reversed",
                scaleanchor=f"x{column if column > 1 else ''}",
                showticklabels=False,
                showgrid=False,
                zeroline=False,
                row=1,
                col=column,
            )
            figure.update_xaxes(
                showticklabels=False,
                showgrid=False,
                zeroline=False,
                constrain="domain",
                row=1,
                col=column,
            )
        elif kind == "series":
            figure.update_xaxes(title_text="time step", row=1, col=column)
            if column == 1:
                figure.update_yaxes(title_text="feature", row=1, col=column)
        else:
            figure.update_xaxes(title_text="feature = input value", row=1, col=column)
    return figure


def _subtitle(infos: list, index: int, relative: bool, limit: float | None) -> str:
    """What the colours mean, and whether maps share one scale: said, not left to guess."""
    signed = {attribution_values(info, index)[1] for info in infos}
    parts = []
    if True in signed:
        parts.append("red raises the score, blue lowers it")
    if False in signed:
        parts.append("magnitudes: black is none")
    if relative and len(infos) > 1:
        parts.append("each map ÷ its own max |value| (units differ)")
    elif limit is not None:
        parts.append(f"scale shared with the maps beside: ±{limit:.3g}")
    return "; ".join(parts)


def _height(kind: str, columns: int = 2) -> int:
    """The figure's height: image panels stay about square in a chart ~900 px wide."""
    if kind != "image":
        return HEIGHTS[kind]
    panel = CHART_WIDTH / max(columns, 1)
    return int(min(MAX_HEIGHT, max(MIN_HEIGHT, panel + TOP_MARGIN + BOTTOM_MARGIN[kind])))


def _layout(figure: go.Figure, title: str, subtitle: str, kind: str, columns: int) -> None:
    layout = base_layout(title)
    layout["title"]["subtitle"] = {"text": subtitle}
    layout["hovermode"] = "closest"
    layout["margin"] = {**layout["margin"], "t": TOP_MARGIN, "r": 40}
    # Room at the foot for the colour bars (and, for series and bars, the axis titles).
    layout["margin"]["b"] = BOTTOM_MARGIN[kind]
    layout["height"] = _height(kind, columns)
    figure.update_layout(**layout)


def plot_attribution(
    info: Any,
    image: np.ndarray,
    index: int = 0,
    *,
    opacity: float = DEFAULT_OPACITY,
    feature_names: Sequence[str] | None = None,
    limit: float | None = None,
    show_input: bool = True,
) -> go.Figure:
    """One sample's attribution, on the scale its kind asks for, with the input in view.

    Signed methods (``info.signed``) are drawn on :data:`SIGNED_COLORSCALE` centred on zero
    (``zmid=0``, ``zmin=-zmax``), magnitudes on :data:`MAGNITUDE_COLORSCALE` from ``zmin=0``
    (black): the same rendering for images, series and feature vectors, and on every page.

    Args:
        info: an :class:`~neurogenesis.analysis.attribution.AttributionInfo`.
        image: the explained samples (the batch given to ``attribution_info``) or one of them.
        index: which sample.
        opacity: of the map laid over an image (0 hides it, 1 hides the image).
        feature_names: names of the features of series and feature vectors.
        limit: the colour range's end (``±limit`` or ``0..limit``); pass :func:`shared_limit`
            of the maps drawn beside this one so they share one scale (the subtitle says so).
            Default: this map's largest |value|.
        show_input: draw the input beside the map (images: in colour, beside the map over the
            input in greys; series: each feature in greys from its minimum to its maximum).

    Returns:
        Images: the input, then the map over the input in greys. Series: the input, then a time
        step x feature heatmap. Feature vectors: one bar per feature, coloured like the maps,
        its input value under its name. Every colour bar has a title
        (:data:`SIGNED_TITLE` / :data:`MAGNITUDE_TITLE`); hover gives the value.

    Raises:
        InputError: an index, image, opacity or limit that does not fit.
    """
    index = _check_index(info, index)
    opacity = _check_opacity(opacity)
    limit = _check_limit(limit)
    sample = _sample(info, image, index)
    figure = _panels(
        [info],
        sample,
        index,
        relative=False,
        opacity=opacity,
        limit=limit,
        feature_names=feature_names,
        show_input=show_input,
    )
    columns = 1 + (show_input and info.input_kind in ("image", "series"))
    _layout(
        figure,
        _title(info, index),
        _subtitle([info], index, False, limit),
        info.input_kind,
        columns,
    )
    return figure


def plot_attribution_grid(
    infos: Sequence[Any],
    image: np.ndarray,
    index: int = 0,
    *,
    opacity: float = DEFAULT_OPACITY,
    feature_names: Sequence[str] | None = None,
    show_input: bool = True,
) -> go.Figure:
    """Several methods side by side on the same sample, after the input.

    Methods have different units, so each map is divided by its own largest |value| and every
    panel shares one range: ``-1..1`` on :data:`SIGNED_COLORSCALE` for signed methods, ``0..1``
    on :data:`MAGNITUDE_COLORSCALE` for magnitudes (a colour bar each, titled); the subtitle
    says so.

    Args:
        infos: :class:`~neurogenesis.analysis.attribution.AttributionInfo` of the same samples.
        image: the explained samples or the one sample.
        index: which sample.
        opacity: of the maps laid over the image.
        feature_names: names of the features of series and feature vectors.
        show_input: draw the input first, as :func:`plot_attribution` does.

    Raises:
        InputError: no infos, or infos of different inputs.
    """
    infos = list(infos)
    if not infos:
        raise InputError("Expected at least one attribution to draw. Received: none.")
    kinds = {info.input_kind for info in infos}
    shapes = {np.asarray(info.maps).shape for info in infos}
    if len(kinds) > 1 or len(shapes) > 1:
        raise InputError(
            f"Expected attributions of the same samples. Received maps of shapes {sorted(shapes)}."
        )
    opacity = _check_opacity(opacity)
    index = _check_index(infos[0], index)
    sample = _sample(infos[0], image, index)
    kind = infos[0].input_kind
    figure = _panels(
        infos,
        sample,
        index,
        relative=True,
        opacity=opacity,
        limit=None,
        feature_names=feature_names,
        show_input=show_input,
    )
    columns = len(infos) + (show_input and kind in ("image", "series"))
    _layout(
        figure,
        f"Attribution of sample {index}: output {int(infos[0].target[index])}",
        _subtitle(infos, index, True, None),
        kind,
        columns,
    )
    return figure


def plot_token_attribution(
    info: Any,
    words: Sequence[str] | np.ndarray,
    index: int = 0,
    *,
    skip_padding: bool = True,
    limit: float | None = None,
) -> go.Figure:
    """The tokens of one sample coloured by their signed attribution (red raises the score).

    Args:
        info: a :class:`~neurogenesis.analysis.attribution.TokenAttributionInfo`.
        words: the sample's words, one per token position, or the vocabulary (token id to word,
            any other length).
        index: which sample.
        skip_padding: leave out padded positions: those the info's padding mask marks
            (``info.real``, a model with a padding-mask input), else those whose token id is 0.
        limit: the colour range's end (``±limit``), e.g. :func:`shared_limit` of sentences
            drawn side by side (the subtitle says so). Default: this sentence's largest |score|.

    Returns:
        A one-row ``go.Heatmap`` whose cells show the words (HTML-escaped), coloured on
        :data:`SIGNED_COLORSCALE` centred on 0, as every signed attribution is drawn.
    """
    index = _check_index(info, index)
    limit = _check_limit(limit)
    scores = np.asarray(info.scores[index], dtype=np.float64)
    tokens = np.asarray(info.tokens[index])
    words = [str(word) for word in np.asarray(words).tolist()]
    if len(words) == len(tokens):
        labels = words
    else:
        if tokens.max(initial=0) >= len(words):
            raise InputError(
                f"Expected the vocabulary (at least {int(tokens.max()) + 1} words) or one word per "
                f"token ({len(tokens)}). Received: {len(words)} words."
            )
        labels = [words[int(token)] for token in tokens]
    keep = tokens != PADDING_ID if skip_padding else np.ones(len(tokens), dtype=bool)
    real = getattr(info, "real", None)
    if skip_padding and real is not None:  # the model's own padding mask says which are padding
        keep = np.asarray(real[index], dtype=bool)
    if not keep.any():
        keep = np.ones(len(tokens), dtype=bool)
    positions = np.flatnonzero(keep)
    labels = [escaped(labels[p]) for p in positions]
    values = scores[positions]
    figure = go.Figure(
        go.Heatmap(
            z=[values],
            x=[f"{p}" for p in positions],
            text=[labels],
            texttemplate="%{text}",
            xgap=2,
            colorbar={"title": {"text": SIGNED_TITLE, "side": "right"}},
            hovertemplate=f"position %{{x}}: %{{text}}<br>{SIGNED_TITLE} %{{z:.3g}}<extra></extra>",
            name="tokens",
            meta={"values": "signed"},
            **_scale(values, True, limit),
        )
    )
    target = int(info.target[index])
    # A model ending in softmax/sigmoid gives probabilities; any other output (a KerasHub
    # classifier's logits) is a raw score and is not called a probability.
    probability = getattr(info, "output_activation", None) in ("softmax", "sigmoid")
    layout = base_layout(
        f"{_label(info.method)} per token: output {target}, "
        f"{'probability' if probability else 'output value'} "
        f"{float(np.asarray(info.probabilities)[index, target]):.3g}"
    )
    note = "red raises the score, blue lowers it"
    if limit is not None:
        note += f"; scale shared with the sentences beside: ±{limit:.3g}"
    layout["title"]["subtitle"] = {"text": note}
    layout["hovermode"] = "closest"
    layout["yaxis"] = {"visible": False}
    layout["xaxis"] = {"title": {"text": "token position"}}
    layout["margin"] = {**layout["margin"], "t": 80}
    layout["height"] = 250
    figure.update_layout(**layout)
    return figure


def plot_sanity_check(sanity: Any) -> go.Figure:
    """Rank correlation with the original maps as layers are randomized from the top down.

    One faint line per sample, the median bold, and the pass threshold dashed. The x axis starts
    at the original model (correlation 1) and adds one randomized layer per step.

    Args:
        sanity: a :class:`~neurogenesis.analysis.attribution.SanityInfo`.
    """
    correlations = np.asarray(sanity.rank_correlation, dtype=np.float64)
    labels = ["original"] + [f"+ {escaped(layer)}" for layer in sanity.layers]
    figure = go.Figure()
    for sample in range(correlations.shape[1]):
        figure.add_trace(
            go.Scatter(
                x=labels,
                y=np.concatenate([[1.0], correlations[:, sample]]),
                mode="lines",
                line={"color": rgba(SAMPLE_LINE_COLOR, SAMPLE_LINE_ALPHA), "width": 1},
                name="samples",
                legendgroup="samples",
                showlegend=sample == 0,
                hovertemplate=f"sample {sample}<br>%{{x}}: %{{y:.2f}}<extra></extra>",
            )
        )
    figure.add_trace(
        go.Scatter(
            x=labels,
            y=np.concatenate([[1.0], np.median(correlations, axis=1)]),
            mode="lines+markers",
            line={"color": MEDIAN_COLOR, "width": 3},
            name="median",
            hovertemplate="median<br>%{x}: %{y:.2f}<extra></extra>",
        )
    )
    figure.add_hline(
        y=float(sanity.threshold),
        line={"color": THRESHOLD_COLOR, "dash": "dash"},
        annotation_text=f"pass below {float(sanity.threshold):.2f}",
    )
    verdict = "passes" if sanity.passed else "fails"
    layout = base_layout(
        f"Randomization check of {_label(sanity.method)}: {verdict} "
        "(Spearman correlation with the original maps)"
    )
    layout["xaxis"] = {"title": {"text": "layers randomized, from the output down"}}
    layout["yaxis"] = {"title": {"text": "rank correlation"}, "range": [-1.05, 1.05]}
    figure.update_layout(**layout)
    return figure


def plot_pointing_game(scores: Mapping[str, float]) -> go.Figure:
    """One bar per method: the share of samples whose map's maximum lies on the object.

    Args:
        scores: method name to pointing-game score (``PointingInfo.score``), in drawing order.
    """
    if not scores:
        raise InputError("Expected at least one pointing-game score. Received: none.")
    names = [_label(method) for method in scores]
    values = [float(value) for value in scores.values()]
    figure = go.Figure(
        go.Bar(
            x=names,
            y=values,
            text=[f"{value:.0%}" for value in values],
            textposition="outside",
            marker={"color": BAR_COLOR},
            hovertemplate="%{x}: %{y:.1%}<extra></extra>",
            name="pointing game",
        )
    )
    layout = base_layout("Pointing game: the map's maximum on the object")
    layout["yaxis"] = {"title": {"text": "hits"}, "range": [0, 1.1], "tickformat": ".0%"}
    layout["xaxis"] = {"title": {"text": "method"}}
    layout["hovermode"] = "closest"
    figure.update_layout(**layout)
    return figure


# --- the tables behind the attribution views ----------------------------------------------------


def attribution_table(infos: Mapping[str, Any]) -> pd.DataFrame:
    """Every method's map of the first sample, one row per position (image rows and columns,
    time steps and features, or positions), as the chart draws it: signed attributions for
    signed methods (summed over an image's channels), magnitudes for the others."""
    frames = []
    for method, info in infos.items():
        values, signed = attribution_values(info, 0)
        if info.input_kind == "image" and values.ndim == 2:
            axes = ["row", "column"]
        elif values.ndim == 2:
            axes = ["time step", "feature"]
        else:
            axes = [f"axis {k}" for k in range(values.ndim)]
        positions = np.indices(values.shape).reshape(values.ndim, -1).T
        frame = pd.DataFrame(positions, columns=axes)
        frame.insert(0, "method", METHOD_LABELS.get(method, method))
        frame["kind"] = SIGNED_TITLE if signed else MAGNITUDE_TITLE
        frame["attribution"] = values.ravel()
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def sanity_check_table(sanity: Any) -> pd.DataFrame:
    """The median rank correlation with the original map after each randomization stage."""
    return pd.DataFrame(
        {
            "layers randomized": ["original", *sanity.layers],
            "median rank correlation": [
                1.0,
                *np.median(np.asarray(sanity.rank_correlation, dtype=float), axis=1),
            ],
        }
    )


def pointing_game_table(scores: Mapping[str, float]) -> pd.DataFrame:
    """Each method's pointing-game score."""
    return pd.DataFrame({"method": list(scores), "pointing game score": list(scores.values())})


def token_attribution_table(info: Any, tokens: Sequence[str], index: int = 0) -> pd.DataFrame:
    """Each position's token and attribution for sample ``index`` (tokens padded with "")."""
    scores = np.asarray(info.scores[index], dtype=float)
    count = len(scores)
    return pd.DataFrame(
        {
            "position": np.arange(count),
            "token": [*tokens, *[""] * max(0, count - len(tokens))][:count],
            "attribution": scores,
        }
    )


def top_attribution_table(
    info: Any,
    kind: str,
    *,
    words: Sequence[str] | None = None,
    feature_names: Sequence[str] | None = None,
    k: int = 10,
) -> pd.DataFrame:
    """The ``k`` positions of sample 0 with the largest attribution, named as the user knows
    them: an image's row and column (summed over channels), a series' time step and feature, a
    text's position and token (padding left out), largest share first.

    Args:
        info: an attribution info (token scores for ``kind="text"``).
        kind: ``"image"``, ``"series"``, ``"text"`` or ``"array"``.
        words: for text, the word of each token of sample 0 (``SampleSet.words``).
        feature_names: for a series, the features' names (``feature k`` without).
        k: how many positions.
    """
    from neurogenesis.analysis.attribution import top_attributions

    if kind == "text":
        values = np.asarray(info.scores[0])
        tokens = np.asarray(info.tokens[0])
        present = np.flatnonzero(tokens != 0)
        top = top_attributions(values[present], k)
        positions = present[top.positions[:, 0]]
        words = list(words) if words is not None else [f"#{int(t)}" for t in tokens]
        return pd.DataFrame(
            {
                "position": positions,
                "token": [words[p] for p in positions],
                "attribution": top.values,
                "share of |total|": top.shares,
            }
        )
    # The info's own input kind wins: one input of a model of several (a feature vector beside
    # an image) is explained as what it is, whatever the page shows as the sample.
    # (A (H, W) input the model reads as a series may still be shown as an image: kept.)
    own = getattr(info, "input_kind", None)
    if own == "tabular":
        kind = "array"
    elif own == "image":
        kind = "image"
    # what the chart draws: signed methods' attributions, every other method's magnitude map
    values, signed = attribution_values(info, 0)
    if kind == "image" and values.ndim == 3:
        values = values.sum(axis=-1)  # a pixel's evidence over its channels
    top = top_attributions(values, k)
    frame = {}
    if kind == "image":
        frame["row"] = top.positions[:, 0]
        frame["column"] = top.positions[:, 1]
    elif kind == "series" and values.ndim == 2:
        names = list(feature_names) if feature_names else []
        frame["time step"] = top.positions[:, 0]
        frame["feature"] = [
            names[f] if f < len(names) else f"feature {f}" for f in top.positions[:, 1]
        ]
    else:
        frame["position"] = [tuple(int(v) for v in p) for p in top.positions]
    frame["attribution" if signed else "map value"] = top.values
    frame["share of |total|"] = top.shares
    return pd.DataFrame(frame)


# --- integrated gradients' completeness error in words (the CLI and the pages) ----------------

COMPLETENESS_UNDEFINED = "the output does not change between baseline and input"
"""Why a completeness error is undefined: it is relative to F(x) - F(baseline), which is ~0."""


def _percent(value: float) -> str:
    return f"{value:.1%}" if value >= 0.001 or value == 0 else f"{value * 100:.1g}%"


def completeness_summary(errors: Sequence[float] | np.ndarray | None) -> str:
    """Integrated gradients' completeness errors in words, for the CLI and the pages.

    The error of a sample is relative to ``F(x) - F(baseline)`` and undefined (NaN) where that
    difference is ~0 (a randomly initialised network whose output does not move): the summary
    is the median of the defined errors and says how many are undefined, instead of ``nan%``.

    Args:
        errors: ``AttributionInfo.completeness_error`` (NaN where undefined).

    Returns:
        ``"0.4%"`` (one sample), ``"median 0.4% over 4 samples"``, ``"median 0.4% over 3 of 4
        samples; undefined for 1 where the output does not change between baseline and input"``,
        or ``"undefined (the output does not change between baseline and input)"``; ``""`` for
        none.
    """
    if errors is None:
        return ""
    values = np.asarray(errors, dtype=np.float64).reshape(-1)
    if values.size == 0:
        return ""
    defined = values[np.isfinite(values)]
    if defined.size == 0:
        return f"undefined ({COMPLETENESS_UNDEFINED})"
    median = _percent(float(np.median(defined)))
    if values.size == 1:
        return median
    undefined = values.size - defined.size
    if undefined == 0:
        return f"median {median} over {values.size} samples"
    return (
        f"median {median} over {defined.size} of {values.size} samples; undefined for "
        f"{undefined} where {COMPLETENESS_UNDEFINED}"
    )
