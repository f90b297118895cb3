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
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from neurogenesis.analysis.landscape import InterpolationInfo, LandscapeInfo, SharpnessInfo
from neurogenesis.errors import InputError
from neurogenesis.plotting.style import PALETTE, base_layout, escaped

__all__ = [
    "COLORSCALE",
    "axis_titles",
    "plot_interpolation",
    "plot_landscape_comparison",
    "plot_landscape_contour",
    "plot_landscape_3d",
    "plot_sharpness",
    "plotted_values",
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
_TINY = 1e-12


def _check(info, kind, name: str) -> None:
    if not isinstance(info, kind):
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
    return f"log10 {escaped(metric)}" if log_scale else escaped(metric)


def axis_titles(info: LandscapeInfo) -> tuple[str, str]:
    """What the plane's two axes are: random directions or principal components of the path."""
    if info.directions == "pca":
        shares = list(info.explained_variance) + [0.0, 0.0]
        return (
            f"PC 1 ({shares[0]:.0%} of the path's variance)",
            f"PC 2 ({shares[1]:.0%} of the path's variance)",
        )
    return ("α: direction 1", "β: direction 2")


def _subtitle(info: LandscapeInfo) -> str:
    if info.directions == "pca":
        kind = "trajectory PCA plane"
    else:
        kind = f"random plane, {info.normalization}-normalized, seed {info.seed}"
    state = "" if info.complete else ", preview"
    return f"{kind}, {info.num_samples} samples{state}"


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


def _hovertemplate(info: LandscapeInfo, metric: str, log_scale: bool, third: str) -> str:
    x_title, y_title = ("PC 1", "PC 2") if info.directions == "pca" else ("α", "β")
    value = "10^%{" + third + ":.4g}" if log_scale else "%{" + third + ":.5g}"
    return (
        f"{x_title} %{{x:.3g}}<br>{y_title} %{{y:.3g}}<br>{escaped(metric)} {value}<extra></extra>"
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
    layout["scene"] = _scene(info, metric, log_scale, z_range)
    figure.update_layout(**layout, height=SURFACE_HEIGHT)
    return figure


def _scene(info: LandscapeInfo, metric: str, log_scale: bool, z_range) -> dict:
    x_title, y_title = axis_titles(info)
    scene = {
        "xaxis": {"title": {"text": x_title}},
        "yaxis": {"title": {"text": y_title}},
        "zaxis": {"title": {"text": _value_title(metric, log_scale)}},
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
        "colorbar": {
            "title": {"text": _value_title(metric, log_scale)},
            "len": 0.7,
            "x": colorbar_x,
        },
        "contours": {"z": _floor_contours(values, z_range)},
        "hovertemplate": _hovertemplate(info, metric, log_scale, "z"),
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
            hovertemplate=f"trained weights<br>{escaped(metric)} %{{z:.5g}}<extra></extra>",
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
    finite = values[np.isfinite(values)]
    low, high = (
        z_range
        if z_range is not None
        else ((float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0))
    )
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
    finite = values[np.isfinite(values)]
    low, high = (
        z_range
        if z_range is not None
        else ((float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0))
    )
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
        colorbar={"title": {"text": _value_title(metric, log_scale)}, "x": colorbar_x},
        hovertemplate=_hovertemplate(info, metric, log_scale, "z"),
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
            hovertemplate=f"trained weights<br>{escaped(metric)} {_trained_value(info, values, metric, log_scale, clip):.5g}<extra></extra>",
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
            scene = _scene(info, metric, log_scale, z_range)
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
        if log_scale and name == "loss" and np.nanmin(values) > 0:
            figure.update_yaxes(type="log", row=row, col=1)
    figure.update_xaxes(
        title_text=f"t (0 = {escaped(info.start_label)}, 1 = {escaped(info.end_label)})",
        row=len(names),
        col=1,
    )
    layout = base_layout(
        f"Along the line from {escaped(info.start_label)} to {escaped(info.end_label)} "
        f"(distance {info.distance:.3g}, {info.num_samples} samples)"
    )
    layout["hovermode"] = "x unified"
    figure.update_layout(**layout, height=max(CURVE_HEIGHT, 260 * len(names)))
    return figure


def plot_sharpness(info: SharpnessInfo) -> go.Figure:
    """The power iteration's estimate of the top Hessian eigenvalue at each step (it should
    settle; if it has not, more iterations are needed)."""
    _check(info, SharpnessInfo, "plot_sharpness")
    steps = np.arange(1, len(info.estimates) + 1)
    figure = go.Figure(
        go.Scatter(
            x=steps,
            y=info.estimates,
            mode="lines+markers",
            line={"color": PALETTE[0]},
            name="estimate",
            hovertemplate="iteration %{x}<br>λ ≈ %{y:.5g}<extra></extra>",
        )
    )
    state = "converged" if info.converged else "not converged"
    layout = base_layout(f"Top Hessian eigenvalue λ_max ≈ {info.eigenvalue:.4g} ({state})")
    layout["xaxis"] = {"title": {"text": "power iteration"}}
    layout["yaxis"] = {"title": {"text": "estimate of λ_max"}}
    layout["showlegend"] = False
    figure.update_layout(**layout, height=300)
    return figure
