"""Attribution maps as Plotly figures. Drawing only: no TensorFlow, no Streamlit.

Draws what :mod:`neurogenesis.analysis.attribution` computes:

- ``plot_attribution``: one sample with its map laid over it (images), or a time x feature heatmap
  (series), or one bar per feature (feature vectors);
- ``plot_attribution_grid``: several methods side by side on the same sample;
- ``plot_token_attribution``: the words of a sentence coloured by their signed score;
- ``plot_sanity_check``: the rank correlation of the cascading randomization, stage by stage;
- ``plot_pointing_game``: each method's pointing-game score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from neurogenesis.errors import InputError
from neurogenesis.plotting.style import base_layout, color_for, escaped, rgba

__all__ = [
    "DEFAULT_COLORSCALE",
    "DEFAULT_OPACITY",
    "DIVERGING_COLORSCALE",
    "METHOD_LABELS",
    "plot_attribution",
    "plot_attribution_grid",
    "plot_pointing_game",
    "plot_sanity_check",
    "plot_token_attribution",
]

DEFAULT_OPACITY = 0.5
DEFAULT_COLORSCALE = "Inferno"
# Positive (raises the score) red, negative blue.
DIVERGING_COLORSCALE = "RdBu_r"
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


def _label(method: str) -> str:
    return METHOD_LABELS.get(method, escaped(method))


def _grid_label(info: Any) -> str:
    """The method, with its baseline when that is not the default zeros (to tell two apart)."""
    baseline = getattr(info, "baseline", None)
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


def _image_traces(sample: np.ndarray) -> list:
    """The input image: greys for one channel, RGB (``go.Image``) for three."""
    channels = sample.shape[-1]
    if channels == 3:
        values = sample.astype(np.float64)
        if values.max() <= 1.0:  # [0, 1] floats; pixel values 0..255 are drawn as they are
            values = values * 255.0
        return [go.Image(z=np.clip(values, 0, 255).astype(np.uint8), name="input")]
    grey = sample[..., 0] if channels == 1 else sample.mean(axis=-1)
    return [
        go.Heatmap(
            z=grey,
            colorscale="gray",
            showscale=False,
            hovertemplate="row %{y}, column %{x}<br>input %{z:.3g}<extra></extra>",
            name="input",
        )
    ]


def _overlay(values: np.ndarray, opacity: float, colorscale, zmax: float | None, **kwargs):
    return go.Heatmap(
        z=values,
        colorscale=colorscale,
        opacity=opacity,
        zmin=0.0,
        zmax=zmax,
        hovertemplate="row %{y}, column %{x}<br>attribution %{z:.3g}<extra></extra>",
        name="attribution",
        **kwargs,
    )


def _check_opacity(opacity: float) -> float:
    if not 0.0 <= float(opacity) <= 1.0:
        raise InputError(f"Expected an opacity between 0 and 1. Received: {opacity!r}.")
    return float(opacity)


def _series_trace(info: Any, index: int, feature_names, colorscale, **kwargs):
    """Time x feature heatmap: signed attributions when the method has them, else the map."""
    signed = info.attributions is not None
    values = np.asarray(info.attributions[index] if signed else info.maps[index], dtype=np.float64)
    names = (
        [escaped(name) for name in feature_names]
        if feature_names is not None
        else [f"feature {k}" for k in range(values.shape[1])]
    )
    if len(names) != values.shape[1]:
        raise InputError(
            f"Expected {values.shape[1]} feature names. Received: {len(names)}. "
            "Pass the sample set's feature names."
        )
    limit = float(np.abs(values).max()) or 1.0
    return go.Heatmap(
        z=values.T,
        x=np.arange(values.shape[0]),
        y=names,
        colorscale=DIVERGING_COLORSCALE if signed else colorscale,
        zmid=0.0 if signed else None,
        zmin=-limit if signed else 0.0,
        zmax=limit,
        hovertemplate="step %{x}, %{y}<br>attribution %{z:.3g}<extra></extra>",
        name="attribution",
        **kwargs,
    )


def _tabular_trace(info: Any, index: int, feature_names):
    signed = info.attributions is not None
    values = np.asarray(info.attributions[index] if signed else info.maps[index], dtype=np.float64)
    names = (
        [escaped(name) for name in feature_names]
        if feature_names is not None
        else [f"feature {k}" for k in range(len(values))]
    )
    if len(names) != len(values):
        raise InputError(f"Expected {len(values)} feature names. Received: {len(names)}.")
    return go.Bar(
        x=names,
        y=values,
        marker={"color": [color_for(5) if v >= 0 else color_for(0) for v in values]},
        hovertemplate="%{x}<br>attribution %{y:.3g}<extra></extra>",
        name="attribution",
    )


def _title(info: Any, index: int) -> str:
    target = int(info.target[index])
    return (
        f"{_label(info.method)}: output {target}, {escaped(info.score_kind)} "
        f"{float(info.scores[index]):.3g}"
    )


def plot_attribution(
    info: Any,
    image: np.ndarray,
    index: int = 0,
    *,
    opacity: float = DEFAULT_OPACITY,
    colorscale: str | list = DEFAULT_COLORSCALE,
    feature_names: Sequence[str] | None = None,
) -> go.Figure:
    """One sample with its attribution.

    Args:
        info: an :class:`~neurogenesis.analysis.attribution.AttributionInfo`.
        image: the explained samples (the batch given to ``attribution_info``) or one of them.
        index: which sample.
        opacity: of the map laid over an image (0 hides it, 1 hides the image).
        colorscale: of the (non-negative) map.
        feature_names: names of the features of series and feature vectors.

    Returns:
        Images: the input (greys for one channel, ``go.Image`` for RGB) under a ``go.Heatmap`` of
        the map. Series: a heatmap of time steps x features, signed attributions (red raises the
        score, blue lowers it) when the method has them, else the map. Feature vectors: one bar per
        feature.

    Raises:
        InputError: an index, image or opacity that does not fit.
    """
    index = _check_index(info, index)
    opacity = _check_opacity(opacity)
    sample = _sample(info, image, index)
    figure = go.Figure()
    layout = base_layout(_title(info, index))
    layout["hovermode"] = "closest"
    if info.input_kind == "image":
        for trace in _image_traces(sample):
            figure.add_trace(trace)
        figure.add_trace(
            _overlay(
                np.asarray(info.maps[index], dtype=np.float64),
                opacity,
                colorscale,
                None,
                colorbar={"title": {"text": "attribution"}},
            )
        )
        layout["yaxis"] = {"autorange": "reversed", "scaleanchor": "x", "showgrid": False}
        layout["xaxis"] = {"showgrid": False, "constrain": "domain"}
    elif info.input_kind == "series":
        figure.add_trace(
            _series_trace(
                info, index, feature_names, colorscale, colorbar={"title": {"text": "attribution"}}
            )
        )
        layout["xaxis"] = {"title": {"text": "time step"}}
    else:
        figure.add_trace(_tabular_trace(info, index, feature_names))
        layout["yaxis"] = {"title": {"text": "attribution"}}
    figure.update_layout(**layout)
    return figure


def plot_attribution_grid(
    infos: Sequence[Any],
    image: np.ndarray,
    index: int = 0,
    *,
    opacity: float = DEFAULT_OPACITY,
    colorscale: str | list = DEFAULT_COLORSCALE,
    feature_names: Sequence[str] | None = None,
) -> go.Figure:
    """Several methods side by side on the same sample, one subplot per method.

    Each map is divided by its own maximum (methods have different units), so one colour bar from
    0 to 1 reads as "share of this method's strongest attribution".

    Args:
        infos: :class:`~neurogenesis.analysis.attribution.AttributionInfo` of the same samples.
        image: the explained samples or the one sample.
        index: which sample.
        opacity: of the maps laid over the image.
        colorscale: of the maps.
        feature_names: names of the features of series.

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
    figure = make_subplots(
        rows=1,
        cols=len(infos),
        subplot_titles=[_grid_label(info) for info in infos],
        horizontal_spacing=0.02 if kind == "image" else 0.04,
        shared_yaxes=kind == "series",
    )
    for column, info in enumerate(infos, start=1):
        values = np.asarray(info.maps[index], dtype=np.float64)
        peak = float(values.max())
        relative = values / peak if peak > 0 else values
        colorbar = {"title": {"text": "share of max"}, "len": 0.8}
        if kind == "image":
            for trace in _image_traces(sample):
                figure.add_trace(trace, row=1, col=column)
            figure.add_trace(
                _overlay(
                    relative, opacity, colorscale, 1.0, showscale=column == 1, colorbar=colorbar
                ),
                row=1,
                col=column,
            )
            figure.update_yaxes(
                autorange="reversed",
                scaleanchor=f"x{column if column > 1 else ''}",
                showticklabels=False,
                row=1,
                col=column,
            )
            figure.update_xaxes(showticklabels=False, constrain="domain", row=1, col=column)
        else:
            names = (
                [escaped(name) for name in feature_names]
                if feature_names is not None
                else [f"feature {k}" for k in range(relative.shape[-1] if relative.ndim else 1)]
            )
            z = relative.T if relative.ndim == 2 else relative[None, :]
            figure.add_trace(
                go.Heatmap(
                    z=z,
                    y=names if relative.ndim == 2 else None,
                    x=names if relative.ndim == 1 else None,
                    zmin=0.0,
                    zmax=1.0,
                    colorscale=colorscale,
                    showscale=column == 1,
                    colorbar=colorbar,
                    hovertemplate="%{x}, %{y}<br>share of max %{z:.2f}<extra></extra>",
                    name=_label(info.method),
                ),
                row=1,
                col=column,
            )
    layout = base_layout(f"Attribution of sample {index}: output {int(infos[0].target[index])}")
    layout["hovermode"] = "closest"
    layout["margin"] = {**layout["margin"], "t": 80}
    figure.update_layout(**layout)
    return figure


def plot_token_attribution(
    info: Any,
    words: Sequence[str] | np.ndarray,
    index: int = 0,
    *,
    skip_padding: bool = True,
) -> go.Figure:
    """The tokens of one sample coloured by their signed attribution (red raises the score).

    Args:
        info: a :class:`~neurogenesis.analysis.attribution.TokenAttributionInfo`.
        words: the sample's words, one per token position, or the vocabulary (token id to word,
            any other length).
        index: which sample.
        skip_padding: leave out positions whose token id is 0 (padding).

    Returns:
        A one-row ``go.Heatmap`` whose cells show the words (HTML-escaped), coloured on a diverging
        scale centred on 0.
    """
    index = _check_index(info, index)
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
    if not keep.any():
        keep = np.ones(len(tokens), dtype=bool)
    positions = np.flatnonzero(keep)
    labels = [escaped(labels[p]) for p in positions]
    values = scores[positions]
    limit = float(np.abs(values).max()) or 1.0
    figure = go.Figure(
        go.Heatmap(
            z=[values],
            x=[f"{p}" for p in positions],
            text=[labels],
            texttemplate="%{text}",
            colorscale=DIVERGING_COLORSCALE,
            zmid=0.0,
            zmin=-limit,
            zmax=limit,
            xgap=2,
            colorbar={"title": {"text": "attribution"}},
            hovertemplate="position %{x}: %{text}<br>attribution %{z:.3g}<extra></extra>",
            name="tokens",
        )
    )
    target = int(info.target[index])
    layout = base_layout(
        f"{_label(info.method)} per token: output {target}, probability "
        f"{float(np.asarray(info.probabilities)[index, target]):.3g}"
    )
    layout["hovermode"] = "closest"
    layout["yaxis"] = {"visible": False}
    layout["xaxis"] = {"title": {"text": "token position"}}
    layout["height"] = 220
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
    layout["hovermode"] = "closest"
    figure.update_layout(**layout)
    return figure
