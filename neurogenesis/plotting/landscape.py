"""Loss landscape figures. Drawing only: no TensorFlow, no Streamlit.

Every figure takes an info from :mod:`neurogenesis.analysis.landscape`. A plane is drawn with
``alphas`` along x and ``betas`` along y, so ``values[k, i, j]`` sits at ``(alphas[i], betas[j])``
and Plotly's ``z[row=j][column=i]`` is ``values[k].T``. A log scale draws ``log10`` of the values
(losses are positive; anything at or below zero is left blank rather than invented). The trained
weights are the origin and are always marked; a recorded run's checkpoints, projected onto the
plane, are drawn as a path from the first to the last.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from neurogenesis.analysis.landscape import (
    InterpolationInfo,
    LandscapeInfo,
    SharpnessInfo,
    coarse,
    landscape_arrays,
)
from neurogenesis.errors import InputError
from neurogenesis.plotting.style import PALETTE, base_layout, escaped

__all__ = [
    "COLORSCALE",
    "axis_titles",
    "comparison_table",
    "grid_table",
    "interpolation_table",
    "landscape_npz",
    "log_ticks",
    "plot_interpolation",
    "plot_landscape_comparison",
    "plot_landscape_contour",
    "plot_landscape_3d",
    "plot_landscape_preview",
    "plot_sharpness",
    "plotted_values",
    "sharpness_table",
    "value_range",
]

COLORSCALE = "Viridis"
TRAJECTORY_COLOR = "#D55E00"
TRAINED_COLOR = "#E41A1C"
SURFACE_HEIGHT = 620
CONTOUR_HEIGHT = 520
CURVE_HEIGHT = 420
COMPARISON_HEIGHT = 560
DEFAULT_CONTOUR_LEVELS = 25
FLOOR_CONTOURS = 15
MAX_LOG_TICKS = 8
MAX_INTEGER_TICKS = 12
# What a step of 1 along a random direction is, per normalization (the subtitle says it).
DIRECTION_UNITS = {
    "filter": "1 = each filter's own norm",
    "layer": "1 = each layer's own norm",
    "none": "raw Gaussian steps",
}
PLAIN_DECADES = (-4, 5)  # 0.0001 to 999,999 are written out; beyond, 1e-6
_TINY = 1e-12
# Mantissas tried per decade, coarse to fine: a log scale is labelled at 1, 2, 5 x 10^k when the
# range holds enough of them, at decades when it spans many, at finer steps when it is narrow.
_MANTISSAS = (
    (1.0,),
    (1.0, 2.0, 5.0),
    (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0),
    tuple(round(1.0 + 0.1 * k, 1) for k in range(90)),
    tuple(round(1.0 + 0.01 * k, 2) for k in range(900)),
)


def _check(info, kind, name: str) -> None:
    # The class's name counts too: Streamlit reloads an edited module while the infos it cached
    # keep the class they were made with.
    same = type(info).__name__ == kind.__name__ and type(info).__module__ == kind.__module__
    if not (isinstance(info, kind) or same):
        raise InputError(f"{name} expects a {kind.__name__}. Received: {type(info).__name__}.")


def plotted_values(
    info: LandscapeInfo, metric: str = "loss", log_scale: bool = False, clip: float | None = None
) -> np.ndarray:
    """(R, R) what a plane's figures draw: the metric, clipped at ``clip`` (values above it are
    drawn at it, as Li et al. cap their plots), in log10 when ``log_scale`` (non-positive values
    become NaN). Indexed like ``info.values``: ``[i, j]`` is ``(alphas[i], betas[j])``."""
    values = np.array(info.metric(metric), dtype=np.float64)
    if clip is not None and np.isfinite(clip):
        values = np.where(np.isfinite(values), np.minimum(values, clip), values)
    if log_scale:
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.where(values > 0, np.log10(np.maximum(values, _TINY)), np.nan)
    return values


def _value_title(metric: str, log_scale: bool) -> str:
    return f"{escaped(metric)} (log scale)" if log_scale else escaped(metric)


def _tick_text(mantissa: float, decade: int, plain: bool) -> str:
    """``mantissa`` x 10^``decade`` written out (0.05, 0.2, 1, 2,000) or, when ``plain`` is
    False, in powers of ten (1e-6)."""
    if plain:
        digits = len(f"{mantissa:g}".partition(".")[2])
        return f"{mantissa * 10.0**decade:,.{max(0, digits - decade)}f}"
    return f"{mantissa:g}e{decade}"


def log_ticks(
    low: float, high: float, max_ticks: int = MAX_LOG_TICKS
) -> tuple[list[float], list[str]]:
    """Ticks for an axis or colour bar that draws log10 of a value, labelled in the value's units.

    Args:
        low, high: the drawn range, in log10 units.
        max_ticks: at most this many ticks.

    Returns:
        ``(tickvals, ticktext)``: tickvals in log10 units at nice values (1, 2, 5 x 10^k when the
        range holds at least three of them, decades when it spans many, finer steps when it is
        narrow), ticktext the values themselves (``10 ** tickval``), formatted alike.
    """
    low, high = float(min(low, high)), float(max(low, high))
    if not (np.isfinite(low) and np.isfinite(high)):
        return [], []
    eps = 1e-9 * max(1.0, abs(low), abs(high))

    def within(mantissas) -> list[tuple[float, int]]:
        return [
            (m, decade)
            for decade in range(int(np.floor(low)) - 1, int(np.ceil(high)) + 1)
            for m in mantissas
            if low - eps <= np.log10(m) + decade <= high + eps
        ]

    chosen: list[tuple[float, int]] = []
    for index, mantissas in enumerate(_MANTISSAS):
        chosen = within(mantissas)
        if len(chosen) >= 3 or (len(chosen) >= 2 and index == len(_MANTISSAS) - 1):
            if index == 0 and len(finer := within(_MANTISSAS[1])) <= max_ticks:
                chosen = finer  # 1, 2, 5 x 10^k read better than decades alone, where they fit
            break
    if len(chosen) > max_ticks:
        chosen = chosen[:: int(np.ceil(len(chosen) / max_ticks))]
    if len(chosen) < 2:  # narrower than the finest step: the two ends, as they are
        return ([low, high], [f"{10.0**low:.6g}", f"{10.0**high:.6g}"]) if high > low else ([], [])
    # One notation for every tick: written out unless one of them would need too many digits.
    plain = all(PLAIN_DECADES[0] <= decade <= PLAIN_DECADES[1] for _, decade in chosen)
    return (
        [float(np.log10(m) + decade) for m, decade in chosen],
        [_tick_text(m, decade, plain) for m, decade in chosen],
    )


def _log_ticked(axis: dict, log_scale: bool, low: float, high: float) -> dict:
    """A colour bar or axis over log10 values, ticked in the values' own units."""
    if log_scale:
        tickvals, ticktext = log_ticks(low, high)
        axis.update(tickmode="array", tickvals=tickvals, ticktext=ticktext)
    return axis


def _drawn_range(values: np.ndarray, z_range) -> tuple[float, float]:
    if z_range is not None:
        return float(z_range[0]), float(z_range[1])
    finite = values[np.isfinite(values)]
    return (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)


def _value_hover(info: LandscapeInfo, metric: str) -> np.ndarray:
    """The measured value under each grid node, in its own units (the drawn value may be its
    log10 or clipped), as Plotly's ``text[row=j][column=i]``; an array, since Plotly flattens
    nested lists of a surface's text into one string per row."""
    values = np.asarray(info.metric(metric), dtype=np.float64).T
    return np.array([[f"{value:.5g}" for value in row] for row in values])


def axis_titles(info: LandscapeInfo) -> tuple[str, str]:
    """What the plane's two axes are: random directions or principal components of the path."""
    if info.directions == "pca":
        # Unit directions: a step of 1 is a Euclidean distance of 1 in weight space.
        shares = list(info.explained_variance) + [0.0, 0.0]
        return (
            f"PC 1: weight distance ({shares[0]:.0%} of the path's variance)",
            f"PC 2: weight distance ({shares[1]:.0%} of the path's variance)",
        )
    # α and β count lengths of their direction; the subtitle says what one length is.
    return ("α (× direction 1)", "β (× direction 2)")


def _subtitle(info: LandscapeInfo) -> str:
    if info.directions == "pca":
        kind = "trajectory PCA plane"
    else:
        unit = DIRECTION_UNITS.get(info.normalization, info.normalization)
        kind = f"random plane, {info.normalization}-normalized ({unit}), seed {info.seed}"
    state = "" if info.complete else ", preview"
    return f"{kind}, {info.num_samples:,} samples{state}"


def _surface_on_path(info: LandscapeInfo, values: np.ndarray) -> np.ndarray:
    """The drawn value under each projected checkpoint (bilinear on the grid), to lay the path on
    the surface; NaN outside the grid."""
    out = np.full(len(info.trajectory), np.nan)
    a, b = info.alphas, info.betas
    for k, (x, y) in enumerate(info.trajectory):
        if not (a[0] <= x <= a[-1] and b[0] <= y <= b[-1]):
            continue
        i = int(np.clip(np.searchsorted(a, x) - 1, 0, len(a) - 2))
        j = int(np.clip(np.searchsorted(b, y) - 1, 0, len(b) - 2))
        tx = (x - a[i]) / (a[i + 1] - a[i])
        ty = (y - b[j]) / (b[j + 1] - b[j])
        out[k] = (
            values[i, j] * (1 - tx) * (1 - ty)
            + values[i + 1, j] * tx * (1 - ty)
            + values[i, j + 1] * (1 - tx) * ty
            + values[i + 1, j + 1] * tx * ty
        )
    return out


def _trained_value(
    info: LandscapeInfo, values: np.ndarray, metric: str, log_scale: bool, clip
) -> float:
    """The drawn value at the trained weights: measured there when the info has it, else the
    grid node there, else interpolated."""
    if len(info.trained_values):
        one = dataclasses.replace(info, values=np.asarray(info.trained_values).reshape(-1, 1, 1))
        return float(plotted_values(one, metric, log_scale, clip)[0, 0])
    center = info.center
    if center is not None:
        return float(values[center])
    return float(
        _surface_on_path(dataclasses.replace(info, trajectory=np.zeros((1, 2))), values)[0]
    )


def _measured_at_trained(info: LandscapeInfo, metric: str) -> float:
    """The metric at the trained weights in its own units (neither logged nor clipped)."""
    return _trained_value(info, plotted_values(info, metric), metric, False, None)


def _path_hover(info: LandscapeInfo, metric: str) -> list[str]:
    index = list(info.metric_names).index(metric)
    texts = []
    for k, label in enumerate(info.trajectory_labels):
        x, y = info.trajectory[k]
        text = f"{escaped(label)}<br>projected at ({x:.3g}, {y:.3g})"
        if info.trajectory_values.shape[1] > k:
            text += f"<br>{escaped(metric)} at the checkpoint itself: {info.trajectory_values[index, k]:.5g}"
        texts.append(text)
    return texts


def _hovertemplate(info: LandscapeInfo, metric: str) -> str:
    """Hover over a grid node: its coordinates and the measured value (``text``)."""
    x_title, y_title = ("PC 1", "PC 2") if info.directions == "pca" else ("α", "β")
    return (
        f"{x_title} %{{x:.3g}}<br>{y_title} %{{y:.3g}}<br>{escaped(metric)} %{{text}}"
        "<extra></extra>"
    )


def plot_landscape_3d(
    info: LandscapeInfo,
    metric: str = "loss",
    log_scale: bool = False,
    clip: float | None = None,
    show_trajectory: bool = True,
    z_range: tuple[float, float] | None = None,
) -> go.Figure:
    """The metric over the plane as an interactive 3D surface with its contours projected on the
    floor, the trained weights marked and, when the info has one, the training path on it.

    Args:
        info: from :func:`neurogenesis.analysis.landscape.landscape_info`.
        metric: one of ``info.metric_names``.
        log_scale: draw log10 of the metric.
        clip: draw values above this at this (keeps a blown-up edge from flattening the basin).
        show_trajectory: draw the projected checkpoints as a path on the surface.
        z_range: the colour and z range (to compare two surfaces on one scale), in drawn units.

    Returns:
        The figure.
    """
    _check(info, LandscapeInfo, "plot_landscape_3d")
    values = plotted_values(info, metric, log_scale, clip)
    figure = go.Figure()
    _add_surface(figure, info, values, metric, log_scale, show_trajectory, z_range, clip=clip)
    layout = base_layout(f"{escaped(metric)} landscape ({_subtitle(info)})")
    layout["hovermode"] = "closest"
    layout["margin"] = {"l": 10, "r": 0, "t": 50, "b": 0}
    layout["legend"] = {"orientation": "h", "yanchor": "bottom", "y": 0.0, "x": 0.0}
    layout["scene"] = _scene(info, metric, log_scale, _drawn_range(values, z_range), z_range)
    figure.update_layout(**layout, height=SURFACE_HEIGHT)
    return figure


def _scene(info: LandscapeInfo, metric: str, log_scale: bool, drawn, z_range) -> dict:
    """A 3D scene's axes; a log z axis is ticked in the metric's own units."""
    x_title, y_title = axis_titles(info)
    scene = {
        "xaxis": {"title": {"text": x_title}},
        "yaxis": {"title": {"text": y_title}},
        "zaxis": _log_ticked(
            {"title": {"text": _value_title(metric, log_scale)}}, log_scale, *drawn
        ),
        "aspectmode": "manual",
        "aspectratio": {"x": 1.0, "y": 1.0, "z": 0.7},
        "camera": {"eye": {"x": 1.5, "y": -1.5, "z": 1.0}},
    }
    if z_range is not None:
        scene["zaxis"]["range"] = list(z_range)
    return scene


def _add_surface(
    figure: go.Figure,
    info: LandscapeInfo,
    values: np.ndarray,
    metric: str,
    log_scale: bool,
    show_trajectory: bool,
    z_range,
    showscale: bool = True,
    colorbar_x: float = 1.0,
    row: int | None = None,
    col: int | None = None,
    clip: float | None = None,
) -> None:
    at = {"row": row, "col": col} if row is not None else {}
    surface = {
        "x": info.alphas,
        "y": info.betas,
        "z": values.T,
        "colorscale": COLORSCALE,
        "showscale": showscale,
        "colorbar": _log_ticked(
            {"title": {"text": _value_title(metric, log_scale)}, "len": 0.7, "x": colorbar_x},
            log_scale,
            *_drawn_range(values, z_range),
        ),
        "contours": {"z": _floor_contours(values, z_range)},
        "text": _value_hover(info, metric),
        "hovertemplate": _hovertemplate(info, metric),
        "name": escaped(metric),
    }
    if z_range is not None:
        surface["cmin"], surface["cmax"] = z_range
    figure.add_trace(go.Surface(**surface), **at)
    trained = _trained_value(info, values, metric, log_scale, clip)
    figure.add_trace(
        go.Scatter3d(
            x=[0.0],
            y=[0.0],
            z=[trained],
            mode="markers",
            marker={"size": 7, "color": TRAINED_COLOR, "symbol": "diamond"},
            name="trained weights",
            showlegend=row is None or col == 1,
            legendgroup="trained",
            hovertemplate=f"trained weights<br>{escaped(metric)} "
            f"{_measured_at_trained(info, metric):.5g}<extra></extra>",
        ),
        **at,
    )
    if show_trajectory and len(info.trajectory):
        on_surface = _surface_on_path(info, values)
        figure.add_trace(
            go.Scatter3d(
                x=info.trajectory[:, 0],
                y=info.trajectory[:, 1],
                z=on_surface,
                mode="lines+markers",
                line={"color": TRAJECTORY_COLOR, "width": 5},
                marker={"size": 3, "color": TRAJECTORY_COLOR},
                name="training path (projected)",
                showlegend=row is None or col == 1,
                legendgroup="path",
                hovertext=_path_hover(info, metric),
                hoverinfo="text",
            ),
            **at,
        )


def _floor_contours(values: np.ndarray, z_range) -> dict:
    """Contour lines projected on the floor of a 3D surface, evenly spaced over its range."""
    low, high = _drawn_range(values, z_range)
    contours = {"show": True, "project": {"z": True}, "usecolormap": True, "width": 2}
    if high > low:
        size = (high - low) / FLOOR_CONTOURS
        contours.update(start=low + size / 2, end=high, size=size)
    return contours


def plot_landscape_contour(
    info: LandscapeInfo,
    metric: str = "loss",
    log_scale: bool = False,
    clip: float | None = None,
    show_trajectory: bool = True,
    levels: int = DEFAULT_CONTOUR_LEVELS,
    z_range: tuple[float, float] | None = None,
) -> go.Figure:
    """The metric over the plane as a filled contour map, with the trained weights and the
    training path (each checkpoint labelled on hover, arrows from first to last).

    Args: see :func:`plot_landscape_3d`; ``levels`` is the number of contour levels.
    """
    _check(info, LandscapeInfo, "plot_landscape_contour")
    values = plotted_values(info, metric, log_scale, clip)
    figure = go.Figure()
    _add_contour(
        figure, info, values, metric, log_scale, show_trajectory, levels, z_range, clip=clip
    )
    x_title, y_title = axis_titles(info)
    layout = base_layout(f"{escaped(metric)} contours ({_subtitle(info)})")
    layout["hovermode"] = "closest"
    layout["xaxis"] = {"title": {"text": x_title}, "constrain": "domain"}
    layout["yaxis"] = {
        "title": {"text": y_title},
        "scaleanchor": "x" if info.directions != "pca" else None,
    }
    figure.update_layout(**layout, height=CONTOUR_HEIGHT)
    return figure


def _contour_trace(
    info: LandscapeInfo,
    values: np.ndarray,
    metric: str,
    log_scale: bool,
    levels: int,
    z_range,
    showscale: bool = True,
    colorbar_x: float = 1.02,
) -> go.Contour:
    low, high = _drawn_range(values, z_range)
    size = (high - low) / max(1, int(levels)) or 1.0
    return go.Contour(
        x=info.alphas,
        y=info.betas,
        z=values.T,
        colorscale=COLORSCALE,
        zmin=low,
        zmax=high,
        autocontour=False,
        contours={"start": low, "end": high, "size": size, "showlabels": False},
        line={"width": 0.5},
        showscale=showscale,
        colorbar=_log_ticked(
            {"title": {"text": _value_title(metric, log_scale)}, "x": colorbar_x},
            log_scale,
            low,
            high,
        ),
        text=_value_hover(info, metric),
        hovertemplate=_hovertemplate(info, metric),
        name=escaped(metric),
    )


def _add_contour(
    figure,
    info,
    values,
    metric,
    log_scale,
    show_trajectory,
    levels,
    z_range,
    row=None,
    col=None,
    showscale=True,
    colorbar_x=1.02,
    clip=None,
) -> None:
    at = {"row": row, "col": col} if row is not None else {}
    figure.add_trace(
        _contour_trace(info, values, metric, log_scale, levels, z_range, showscale, colorbar_x),
        **at,
    )
    if show_trajectory and len(info.trajectory):
        figure.add_trace(
            go.Scatter(
                x=info.trajectory[:, 0],
                y=info.trajectory[:, 1],
                mode="lines+markers",
                line={"color": TRAJECTORY_COLOR, "width": 2.5},
                marker={
                    "size": 8,
                    "color": TRAJECTORY_COLOR,
                    "symbol": "arrow",
                    "angleref": "previous",
                    "line": {"color": "#ffffff", "width": 1},
                },
                name="training path (projected)",
                showlegend=row is None or col == 1,
                legendgroup="path",
                hovertext=_path_hover(info, metric),
                hoverinfo="text",
            ),
            **at,
        )
        figure.add_trace(
            go.Scatter(
                x=info.trajectory[:1, 0],
                y=info.trajectory[:1, 1],
                mode="markers+text",
                marker={"size": 9, "color": TRAJECTORY_COLOR, "symbol": "circle-open"},
                text=[escaped(info.trajectory_labels[0]) if info.trajectory_labels else "start"],
                textposition="top center",
                textfont={"color": "#ffffff"},
                showlegend=False,
                hoverinfo="skip",
            ),
            **at,
        )
    figure.add_trace(
        go.Scatter(
            x=[0.0],
            y=[0.0],
            mode="markers",
            marker={
                "size": 14,
                "color": TRAINED_COLOR,
                "symbol": "star",
                "line": {"color": "#ffffff", "width": 1},
            },
            name="trained weights",
            showlegend=row is None or col == 1,
            legendgroup="trained",
            hovertemplate=f"trained weights<br>{escaped(metric)} "
            f"{_measured_at_trained(info, metric):.5g}<extra></extra>",
        ),
        **at,
    )


def _shared_range(values: Sequence[np.ndarray]) -> tuple[float, float]:
    finite = np.concatenate([v[np.isfinite(v)] for v in values])
    if not finite.size:
        return (0.0, 1.0)
    low, high = float(finite.min()), float(finite.max())
    return (low, high if high > low else low + 1.0)


def plot_landscape_comparison(
    infos: Sequence[LandscapeInfo],
    labels: Sequence[str],
    metric: str = "loss",
    kind: str = "surface",
    log_scale: bool = False,
    clip: float | None = None,
    show_trajectory: bool = True,
) -> go.Figure:
    """Two (or more) landscapes side by side on one colour and z scale.

    Args:
        infos: the landscapes (each from :func:`landscape_info`), drawn left to right.
        labels: a title for each (the model's name).
        metric: a metric every info has.
        kind: ``'surface'`` (3D) or ``'contour'``.
        log_scale, clip, show_trajectory: see :func:`plot_landscape_3d`.
    """
    if len(infos) != len(labels) or not infos:
        raise InputError("Expected one label per landscape, and at least one landscape.")
    if kind not in ("surface", "contour"):
        raise InputError(f"Expected kind 'surface' or 'contour'. Received: {kind!r}.")
    for info in infos:
        _check(info, LandscapeInfo, "plot_landscape_comparison")
    values = [plotted_values(info, metric, log_scale, clip) for info in infos]
    z_range = _shared_range(values)
    columns = len(infos)
    titles = [escaped(label) for label in labels]
    if kind == "surface":
        figure = make_subplots(
            rows=1,
            cols=columns,
            specs=[[{"type": "scene"}] * columns],
            subplot_titles=titles,
            horizontal_spacing=0.02,
        )
        for k, (info, drawn) in enumerate(zip(infos, values, strict=True)):
            _add_surface(
                figure,
                info,
                drawn,
                metric,
                log_scale,
                show_trajectory,
                z_range,
                showscale=k == columns - 1,
                row=1,
                col=k + 1,
                clip=clip,
            )
        layout = base_layout(f"{escaped(metric)} landscapes on one scale")
        layout["hovermode"] = "closest"
        layout["margin"] = {"l": 10, "r": 0, "t": 70, "b": 0}
        layout["legend"] = {"orientation": "h", "yanchor": "bottom", "y": 0.0, "x": 0.0}
        for k, info in enumerate(infos):
            scene = _scene(info, metric, log_scale, z_range, z_range)
            scene["camera"] = {"eye": {"x": 1.8, "y": -1.8, "z": 1.1}}  # room for axis titles
            layout["scene" if k == 0 else f"scene{k + 1}"] = scene
    else:
        figure = make_subplots(
            rows=1,
            cols=columns,
            subplot_titles=titles,
            horizontal_spacing=0.08,
        )
        for k, (info, drawn) in enumerate(zip(infos, values, strict=True)):
            _add_contour(
                figure,
                info,
                drawn,
                metric,
                log_scale,
                show_trajectory,
                DEFAULT_CONTOUR_LEVELS,
                z_range,
                row=1,
                col=k + 1,
                showscale=k == columns - 1,
                clip=clip,
            )
            x_title, y_title = axis_titles(info)
            figure.update_xaxes(title_text=x_title, row=1, col=k + 1)
            figure.update_yaxes(title_text=y_title, row=1, col=k + 1)
        layout = base_layout(f"{escaped(metric)} contours on one scale")
        layout["hovermode"] = "closest"
    figure.update_layout(**layout, height=COMPARISON_HEIGHT)
    return figure


def plot_interpolation(
    info: InterpolationInfo, metrics: Sequence[str] | None = None, log_scale: bool = False
) -> go.Figure:
    """The metrics along the straight line between two sets of weights, one panel per metric,
    the two ends marked and labelled.

    Args:
        info: from :func:`neurogenesis.analysis.landscape.interpolation_info`.
        metrics: which metrics (default all).
        log_scale: a log y axis for the loss.
    """
    _check(info, InterpolationInfo, "plot_interpolation")
    names = list(metrics) if metrics else list(info.metric_names)
    figure = make_subplots(
        rows=len(names),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=[escaped(name) for name in names],
    )
    ends = [(0.0, info.start_label), (1.0, info.end_label)]
    for row, name in enumerate(names, start=1):
        values = info.metric(name)
        figure.add_trace(
            go.Scatter(
                x=info.t,
                y=values,
                mode="lines",
                line={"color": PALETTE[0], "width": 2.5},
                name=escaped(name),
                showlegend=False,
                hovertemplate=f"t %{{x:.3g}}<br>{escaped(name)} %{{y:.5g}}<extra></extra>",
            ),
            row=row,
            col=1,
        )
        at_ends = [float(np.interp(t, info.t, values)) for t, _ in ends]
        figure.add_trace(
            go.Scatter(
                x=[t for t, _ in ends],
                y=at_ends,
                mode="markers+text",
                marker={"size": 10, "color": [PALETTE[1], TRAINED_COLOR], "symbol": "diamond"},
                text=[escaped(label) for _, label in ends] if row == 1 else None,
                textposition=["bottom right", "top center"],
                showlegend=False,
                hovertemplate="%{text}<br>%{y:.5g}<extra></extra>"
                if row == 1
                else "%{y:.5g}<extra></extra>",
            ),
            row=row,
            col=1,
        )
        axis = {"title": {"text": escaped(name)}}
        finite = np.asarray(values, dtype=np.float64)
        finite = finite[np.isfinite(finite)]
        if log_scale and name == "loss" and finite.size and finite.min() > 0:
            # Plotly's own log ticks read "2, 5, 0.1, 2, 5": ticks at 1, 2, 5 x 10^k instead,
            # written out in full (tickvals of a log axis are data values).
            logged, text = log_ticks(np.log10(finite.min()), np.log10(finite.max()))
            axis.update(
                type="log",
                title={"text": f"{escaped(name)} (log scale)"},
                tickmode="array",
                tickvals=[10.0**value for value in logged],
                ticktext=text,
            )
        figure.update_yaxes(axis, row=row, col=1)
    figure.update_xaxes(
        title_text=f"t (0 = {escaped(info.start_label)}, 1 = {escaped(info.end_label)})",
        row=len(names),
        col=1,
    )
    layout = base_layout(
        f"Along the line from {escaped(info.start_label)} to {escaped(info.end_label)} "
        f"(distance {info.distance:.3g}, {info.num_samples:,} samples)"
    )
    layout["hovermode"] = "x unified"
    figure.update_layout(**layout, height=max(CURVE_HEIGHT, 260 * len(names)))
    return figure


def plot_sharpness(info: SharpnessInfo) -> go.Figure:
    """The power iteration's estimate of the top Hessian eigenvalue after each Hessian-vector
    product (it should settle; if it has not, more iterations are needed).

    ``info.estimates[0]`` is the curvature along the random start vector, before any power step:
    it measures a random direction, not λ_max (near zero, it read as a made-up starting point), so
    the curve starts at the first power iteration, ``estimates[k]`` drawn at ``k``. A run of one
    product has only that start to show, drawn at 0.
    """
    _check(info, SharpnessInfo, "plot_sharpness")
    estimates = np.asarray(info.estimates, dtype=np.float64)
    steps = np.arange(len(estimates))
    if len(estimates) > 1:
        steps, estimates = steps[1:], estimates[1:]
    figure = go.Figure(
        go.Scatter(
            x=steps,
            y=estimates,
            mode="lines+markers",
            line={"color": PALETTE[0]},
            name="estimate",
            hovertemplate="power iteration %{x}<br>λ_max ≈ %{y:,.5g}<extra></extra>",
        )
    )
    state = "converged" if info.converged else "not converged"
    layout = base_layout(f"Top Hessian eigenvalue λ_max ≈ {info.eigenvalue:,.4g} ({state})")
    # Only the measured iterations: the x axis spans them, and the y axis the estimates
    # themselves (no zero the power iteration never produced).
    first, last = (int(steps[0]), int(steps[-1])) if len(steps) else (0, 1)
    layout["xaxis"] = {
        "title": {"text": "power iteration (Hessian-vector products)"},
        "range": [first - 0.5, last + 0.5],
        "zeroline": False,
    }
    if last - first < MAX_INTEGER_TICKS:
        layout["xaxis"].update(tick0=first, dtick=1)
    layout["yaxis"] = {
        "title": {"text": "λ_max estimate (loss per weight unit²)"},
        "zeroline": False,
        "tickformat": ",",
    }
    finite = estimates[np.isfinite(estimates)]
    if finite.size:
        low, high = float(finite.min()), float(finite.max())
        pad = 0.08 * (high - low) if high > low else 0.05 * max(abs(high), 1e-12)
        layout["yaxis"]["range"] = [low - pad, high + pad]
    layout["showlegend"] = False
    layout["margin"] = {**layout["margin"], "l": 80, "t": 60}
    figure.update_layout(**layout, height=360)
    return figure


# --- Tables and files behind the figures ---------------------------------------------------------


def grid_table(info: LandscapeInfo) -> pd.DataFrame:
    """Every grid point of a plane: its coordinates (``alpha``, ``beta``) and each metric there,
    ``alpha`` the slow index (``values[k, i, j]`` is row ``i * len(betas) + j``)."""
    _check(info, LandscapeInfo, "grid_table")
    return pd.DataFrame(
        {
            "alpha": np.repeat(info.alphas, len(info.betas)),
            "beta": np.tile(info.betas, len(info.alphas)),
            **{name: info.values[k].ravel() for k, name in enumerate(info.metric_names)},
        }
    )


def comparison_table(infos: Sequence[LandscapeInfo], names: Sequence[str]) -> pd.DataFrame:
    """The grid tables of several planes, one after the other, each row naming its ``model``."""
    return pd.concat(
        [grid_table(one).assign(model=name) for one, name in zip(infos, names, strict=True)],
        ignore_index=True,
    )


def interpolation_table(info: InterpolationInfo) -> pd.DataFrame:
    """Every point of a line between two sets of weights: ``t`` and each metric there."""
    _check(info, InterpolationInfo, "interpolation_table")
    return pd.DataFrame(
        {"t": info.t, **{name: info.values[k] for k, name in enumerate(info.metric_names)}}
    )


def sharpness_table(info: SharpnessInfo) -> pd.DataFrame:
    """The power iteration's estimate of λ_max at each iteration (0 is the random start)."""
    _check(info, SharpnessInfo, "sharpness_table")
    return pd.DataFrame({"iteration": np.arange(len(info.estimates)), "estimate": info.estimates})


def value_range(info: LandscapeInfo, metric: str = "loss") -> tuple[float, float, float] | None:
    """``(lowest, highest, clip level)`` of a metric's finite values on the plane, the clip level
    being their upper quartile (what "Clip the top" draws at); None when no value is finite."""
    values = np.asarray(info.metric(metric), dtype=np.float64)
    finite = values[np.isfinite(values)]
    if not finite.size:
        return None
    return float(finite.min()), float(finite.max()), float(np.quantile(finite, 0.75))


def plot_landscape_preview(info: LandscapeInfo) -> go.Figure:
    """The contour of a plane's coarse sub-grid (the nodes a partial result already holds), on a
    log scale: what the page shows while the full grid is computed."""
    return plot_landscape_contour(coarse(info), log_scale=True)


def landscape_npz(info: LandscapeInfo) -> bytes:
    """A plane as a compressed ``.npz`` file (the arrays of ``analysis.landscape_arrays``)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **landscape_arrays(info))
    return buffer.getvalue()
