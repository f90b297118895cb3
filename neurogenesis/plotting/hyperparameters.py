"""Hyperparameter search figures. Drawing only: no TensorFlow, no Streamlit.

Every figure takes an info from :mod:`neurogenesis.analysis.hyperparameters`. Log axes are drawn
in log10 coordinates with ticks labelled by the values themselves (``0.001``), categorical axes at
positions ``0..k-1`` labelled by category, so surfaces, contours and points share one geometry.
The colour scale always puts the good end bright: Viridis for metrics to maximise, reversed for
metrics to minimise.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from neurogenesis.analysis.hyperparameters import (
    ImportanceInfo,
    ParallelInfo,
    SliceInfo,
    SurfaceInfo,
    axis_ticks,
)
from neurogenesis.errors import InputError
from neurogenesis.plotting.landscape import log_ticks
from neurogenesis.plotting.style import PALETTE, base_layout, color_for, escaped, rgba

__all__ = [
    "importance_table",
    "plot_importance",
    "plot_parallel_coordinates",
    "plot_slices",
    "plot_surface_3d",
    "plot_surface_contour",
    "surface_table",
]

COLORSCALE = "Viridis"
STD_COLORSCALE = "Blues"
TRIAL_COLOR = PALETTE[1]
BEST_COLOR = PALETTE[5]
REGION_COLOR = PALETTE[2]
OTHER_COLOR = "#7F7F7F"
BAND_COLOR = "#555555"
BAND_OPACITY = 0.22
SURFACE_HEIGHT = 620
CONTOUR_HEIGHT = 460
SLICE_ROW_HEIGHT = 300
SLICE_COLUMNS = 3
BAR_ROW_HEIGHT = 46
COLOR_BY = ("order", "metric")
MAX_NODE_TICKS = 10
# A parameter that took at most this many values is ticked at exactly those values.
MAX_DISCRETE_TICKS = 12
PARALLEL_DOMAIN_RIGHT = 0.86


def _colorscale(goal: str) -> str:
    return COLORSCALE if goal == "max" else f"{COLORSCALE}_r"


def _coords(values, log: bool) -> np.ndarray:
    values = np.asarray(values, np.float64)
    return np.log10(values) if log else values


def _number(value: float) -> str:
    """A parameter's value as a label: 3 significant digits, written out (0.0003, not 3e-04),
    thousands separated (1,024); powers of ten only far outside that."""
    value = float(value)
    if not np.isfinite(value):
        return str(value)
    if value == round(value) and abs(value) < 1e15:
        return f"{int(round(value)):,}"
    if 1e-5 <= abs(value) < 1e6:
        text = np.format_float_positional(abs(value), precision=3, unique=False, fractional=False)
        whole, _, fraction = text.partition(".")
        fraction = fraction.rstrip("0")
        sign = "-" if value < 0 else ""
        return f"{sign}{int(whole):,}" + (f".{fraction}" if fraction else "")
    return f"{value:.3g}"


def _trial_ticks(coords: np.ndarray, log: bool) -> tuple[list[float], list[str]] | None:
    """Ticks at the values the trials took (in axis coordinates: log10 for a log axis), when
    they took few enough to label each; None for a parameter searched continuously."""
    finite = np.asarray(coords, np.float64)
    distinct = np.unique(finite[np.isfinite(finite)])
    if not 1 <= distinct.size <= MAX_DISCRETE_TICKS:
        return None
    return list(distinct), [_number(10.0**c if log else c) for c in distinct]


def _value_text(value: float, log: bool, categories) -> str:
    """A value in axis coordinates as the parameter's own value (a log axis's 10^c, not c)."""
    if categories is not None:
        index = int(round(value))
        return escaped(categories[index]) if 0 <= index < len(categories) else "?"
    return f"{10.0**value:.4g}" if log else f"{value:.4g}"


def _surface_hover(info: SurfaceInfo, xc: np.ndarray, yc: np.ndarray) -> np.ndarray:
    """Hover text of every surface node, ``[row = y][column = x]`` like ``info.z``, with the
    parameters' own values (the surface's x and y are log10 on log axes); an array, since Plotly
    flattens nested lists of a surface's text into one string per row."""
    x_texts = [_value_text(c, info.x_log, info.x_categories) for c in xc]
    y_texts = [_value_text(c, info.y_log, info.y_categories) for c in yc]
    return np.array(
        [
            [
                f"{escaped(info.x)} {x_text}<br>{escaped(info.y)} {y_text}<br>"
                f"{escaped(info.metric)} {info.z[j, i]:.5g}"
                for i, x_text in enumerate(x_texts)
            ]
            for j, y_text in enumerate(y_texts)
        ]
    )


def _axis(title: str, coords: np.ndarray, log: bool, categories, nodes: bool = False) -> dict:
    """Axis settings; ``nodes``: label the grid's own values (a sweep's 3e-4, 1e-3, 3e-3)."""
    axis = {"title": {"text": escaped(title) + (" (log scale)" if log else "")}}
    finite = coords[np.isfinite(coords)]
    if nodes and categories is None and 2 <= finite.size <= MAX_NODE_TICKS:
        axis["tickvals"], axis["ticktext"] = _trial_ticks(finite, log)
    elif finite.size:
        ticks = axis_ticks(float(finite.min()), float(finite.max()), log=log, categories=categories)
        if ticks is not None:
            axis["tickvals"] = list(ticks[0])
            axis["ticktext"] = [escaped(t) for t in ticks[1]]
    return axis


def _legend_below(layout: dict, bottom: int = 120) -> dict:
    """Legend under the plot: above it, it would run into the title and the panel titles."""
    layout["legend"] = {
        "orientation": "h",
        "x": 0.0,
        "xanchor": "left",
        "y": -0.12,
        "yanchor": "top",
    }
    layout["margin"] = {**layout["margin"], "b": bottom}
    layout["title"] = {**layout["title"], "x": 0.01}
    return layout


def _check(info, kind, name: str) -> None:
    # The class's name counts too: Streamlit reloads an edited module while the infos it cached
    # keep the class they were made with.
    same = type(info).__name__ == kind.__name__ and type(info).__module__ == kind.__module__
    if not (isinstance(info, kind) or same):
        raise InputError(f"Expected a {kind.__name__} for {name}. Received: {type(info).__name__}.")


def _hover(info: SurfaceInfo, names, xs, ys, zs=None, states=None) -> list[str]:
    texts = []
    for k, name in enumerate(names):
        parts = [
            f"<b>{escaped(name)}</b>",
            f"{escaped(info.x)} = {_value_text(xs[k], info.x_log, info.x_categories)}",
            f"{escaped(info.y)} = {_value_text(ys[k], info.y_log, info.y_categories)}",
        ]
        if zs is not None:
            parts.append(f"{escaped(info.metric)} = {zs[k]:.6g}")
        if states is not None:
            parts.append(f"state: {escaped(states[k])}")
        texts.append("<br>".join(parts))
    return texts


def _best_label(info) -> str:
    return f"best: {escaped(info.best_name)} ({info.best_value:.4g})"


def plot_surface_3d(
    info: SurfaceInfo, log_color: bool = False, show_uncertainty: bool = True
) -> go.Figure:
    """The metric as a 3D surface over two hyperparameters, with every trial on it.

    Contours are projected on the floor; the trials are orange points at their observed values,
    trials that failed or have no value are grey crosses on the floor, the best trial a red
    diamond with its name, and the best region green squares on the surface. A GP surface also
    gets translucent grey surfaces at ±1 standard deviation.

    Args:
        info: from :func:`neurogenesis.analysis.hyperparameters.surface_info`.
        log_color: colour by log10 of the metric (for losses spanning decades; needs positive
            values, else the colours stay linear).
        show_uncertainty: draw the ±1 std surfaces of a GP surface.

    Returns:
        The figure.
    """
    _check(info, SurfaceInfo, "plot_surface_3d")
    xc, yc = _coords(info.x_values, info.x_log), _coords(info.y_values, info.y_log)
    px = _coords(info.points_x, info.x_log)
    py = _coords(info.points_y, info.y_log)
    z = info.z
    finite = np.concatenate([z[np.isfinite(z)], info.points_z[np.isfinite(info.points_z)]])
    if info.z_std is not None and show_uncertainty:
        finite = np.concatenate([finite, (z - info.z_std).ravel(), (z + info.z_std).ravel()])
    floor = float(finite.min()) if finite.size else 0.0
    surface = {
        "x": xc,
        "y": yc,
        "z": z,
        "colorscale": _colorscale(info.goal),
        "name": escaped(info.metric),
        "colorbar": {"title": {"text": escaped(info.metric)}, "len": 0.75, "x": 1.0},
        "contours": {"z": {"show": True, "project": {"z": True}, "usecolormap": True}},
        "text": _surface_hover(info, xc, yc),
        "hovertemplate": "%{text}<extra>surface</extra>",
    }
    title_color = ""
    if log_color and np.all(z[np.isfinite(z)] > 0):
        surface["surfacecolor"] = np.log10(z)
        surface["colorbar"]["title"]["text"] = f"{escaped(info.metric)} (log scale)"
        # Colours follow log10 of the metric; the ticks read in the metric's own units.
        finite_z = z[np.isfinite(z)]
        tickvals, ticktext = log_ticks(
            float(np.log10(finite_z.min())), float(np.log10(finite_z.max()))
        )
        surface["colorbar"].update(tickmode="array", tickvals=tickvals, ticktext=ticktext)
        title_color = ", colours on a log scale"
    figure = go.Figure(go.Surface(**surface))
    if info.z_std is not None and show_uncertainty:
        for sign, label in ((1.0, "+1 std"), (-1.0, "−1 std")):
            figure.add_trace(
                go.Surface(
                    x=xc,
                    y=yc,
                    z=z + sign * info.z_std,
                    colorscale=[[0, BAND_COLOR], [1, BAND_COLOR]],
                    showscale=False,
                    opacity=BAND_OPACITY,
                    name=f"uncertainty ({label})",
                    showlegend=sign > 0,
                    legendgroup="uncertainty",
                    hovertemplate=f"{label}: %{{z:.5g}}<extra></extra>",
                )
            )
    if info.region.any():
        rows, cols = np.nonzero(info.region)
        figure.add_trace(
            go.Scatter3d(
                x=xc[cols],
                y=yc[rows],
                z=z[rows, cols],
                mode="markers",
                marker={"size": 3, "color": rgba(REGION_COLOR, 0.8), "symbol": "square"},
                name=f"best region (within {info.region_tolerance:.3g} of best)",
                hoverinfo="skip",
            )
        )
    figure.add_trace(
        go.Scatter3d(
            x=px,
            y=py,
            z=info.points_z,
            mode="markers",
            marker={"size": 5, "color": TRIAL_COLOR, "line": {"color": "#000000", "width": 1}},
            name=f"trials ({len(info.points_z):,})",
            hovertext=_hover(info, info.points_names, px, py, info.points_z),
            hoverinfo="text",
        )
    )
    if len(info.other_names):
        ox, oy = _coords(info.other_x, info.x_log), _coords(info.other_y, info.y_log)
        figure.add_trace(
            go.Scatter3d(
                x=ox,
                y=oy,
                z=np.full(len(ox), floor),
                mode="markers",
                marker={"size": 4, "color": OTHER_COLOR, "symbol": "x"},
                name=f"failed / no value ({len(ox):,})",
                hovertext=_hover(info, info.other_names, ox, oy, states=info.other_states),
                hoverinfo="text",
            )
        )
    bx = _coords([info.best_x], info.x_log)
    by = _coords([info.best_y], info.y_log)
    figure.add_trace(
        go.Scatter3d(
            x=bx,
            y=by,
            z=[info.best_value],
            mode="markers+text",
            marker={"size": 9, "color": BEST_COLOR, "symbol": "diamond"},
            text=[_best_label(info)],
            textposition="top center",
            name="best trial",
            hovertext=_hover(info, [info.best_name], bx, by, [info.best_value]),
            hoverinfo="text",
        )
    )
    layout = base_layout(
        f"{escaped(info.metric)} over {escaped(info.x)} × {escaped(info.y)} "
        f"({'observed grid' if info.method == 'grid' else 'Gaussian process'}{title_color})"
    )
    layout["hovermode"] = "closest"
    layout["margin"] = {"l": 10, "r": 0, "t": 50, "b": 0}
    _legend_below(layout, bottom=70)
    layout["legend"]["y"] = 0.02
    layout["legend"]["yanchor"] = "bottom"
    layout["scene"] = {
        "xaxis": _axis(info.x, xc, info.x_log, info.x_categories, info.method == "grid"),
        "yaxis": _axis(info.y, yc, info.y_log, info.y_categories, info.method == "grid"),
        "zaxis": {"title": {"text": escaped(info.metric)}},
        "aspectmode": "manual",
        "aspectratio": {"x": 1.0, "y": 1.0, "z": 0.7},
        "camera": {"eye": {"x": 1.45, "y": -1.45, "z": 0.8}},
        "domain": {"x": [0.0, 1.0], "y": [0.07, 1.0]},
    }
    figure.update_layout(**layout, height=SURFACE_HEIGHT)
    return figure


def plot_surface_contour(info: SurfaceInfo, show_std: bool = True) -> go.Figure:
    """The surface seen from above: filled contours, trials, best trial and best region outline.

    Args:
        info: from :func:`neurogenesis.analysis.hyperparameters.surface_info`.
        show_std: for a GP surface, a second panel with its standard deviation.

    Returns:
        The figure.
    """
    _check(info, SurfaceInfo, "plot_surface_contour")
    two = show_std and info.z_std is not None
    figure = make_subplots(
        rows=1,
        cols=2 if two else 1,
        subplot_titles=(escaped(info.metric), "uncertainty (1 std)") if two else None,
        horizontal_spacing=0.2,
    )
    xc, yc = _coords(info.x_values, info.x_log), _coords(info.y_values, info.y_log)
    px, py = _coords(info.points_x, info.x_log), _coords(info.points_y, info.y_log)
    figure.add_trace(
        go.Contour(
            x=xc,
            y=yc,
            z=info.z,
            colorscale=_colorscale(info.goal),
            contours={"coloring": "heatmap", "showlabels": True},
            colorbar={"title": {"text": escaped(info.metric)}, "x": 0.41 if two else 1.0},
            name=escaped(info.metric),
            text=_surface_hover(info, xc, yc),
            hovertemplate="%{text}<extra></extra>",
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    if info.region.any() and not info.region.all():
        figure.add_trace(
            go.Contour(
                x=xc,
                y=yc,
                z=info.region.astype(np.float64),
                contours={"start": 0.5, "end": 0.5, "size": 1.0, "coloring": "lines"},
                line={"width": 3, "color": REGION_COLOR},
                colorscale=[[0, REGION_COLOR], [1, REGION_COLOR]],
                showscale=False,
                name=f"best region (within {info.region_tolerance:.3g} of best)",
                showlegend=True,
                hoverinfo="skip",
            ),
            row=1,
            col=1,
        )
    for col in (1, 2) if two else (1,):
        if col == 2:
            figure.add_trace(
                go.Contour(
                    x=xc,
                    y=yc,
                    z=info.z_std,
                    colorscale=STD_COLORSCALE,
                    colorbar={"title": {"text": f"{escaped(info.metric)} std"}, "x": 1.0},
                    hovertemplate="std %{z:.4g}<extra></extra>",
                    showlegend=False,
                ),
                row=1,
                col=2,
            )
        first = col == 1
        figure.add_trace(
            go.Scatter(
                x=px,
                y=py,
                mode="markers",
                marker={"size": 8, "color": TRIAL_COLOR, "line": {"color": "#000000", "width": 1}},
                name=f"trials ({len(px):,})",
                legendgroup="trials",
                showlegend=first,
                hovertext=_hover(info, info.points_names, px, py, info.points_z),
                hoverinfo="text",
            ),
            row=1,
            col=col,
        )
        if len(info.other_names):
            ox, oy = _coords(info.other_x, info.x_log), _coords(info.other_y, info.y_log)
            figure.add_trace(
                go.Scatter(
                    x=ox,
                    y=oy,
                    mode="markers",
                    marker={"size": 8, "color": OTHER_COLOR, "symbol": "x"},
                    name=f"failed / no value ({len(ox):,})",
                    legendgroup="other",
                    showlegend=first,
                    hovertext=_hover(info, info.other_names, ox, oy, states=info.other_states),
                    hoverinfo="text",
                ),
                row=1,
                col=col,
            )
        bx, by = _coords([info.best_x], info.x_log), _coords([info.best_y], info.y_log)
        figure.add_trace(
            go.Scatter(
                x=bx,
                y=by,
                mode="markers",
                marker={
                    "size": 16,
                    "color": BEST_COLOR,
                    "symbol": "star",
                    "line": {"color": "#FFFFFF", "width": 1},
                },
                name=_best_label(info),
                legendgroup="best",
                showlegend=first,
                hovertext=_hover(info, [info.best_name], bx, by, [info.best_value]),
                hoverinfo="text",
            ),
            row=1,
            col=col,
        )
        grid = info.method == "grid"
        x_axis = _axis(info.x, xc, info.x_log, info.x_categories, grid)
        figure.update_xaxes(x_axis, row=1, col=col)
        y_axis = _axis(info.y, yc, info.y_log, info.y_categories, grid)
        if not first:
            y_axis["title"] = {"text": ""}  # the left panel names it; here the colour bar would
        figure.update_yaxes(y_axis, row=1, col=col)
    layout = base_layout(f"{escaped(info.metric)}: {escaped(info.x)} × {escaped(info.y)}")
    layout["hovermode"] = "closest"
    _legend_below(layout, bottom=140)
    layout["legend"]["y"] = -0.22
    figure.update_layout(**layout, height=CONTOUR_HEIGHT + 60)
    return figure


def plot_parallel_coordinates(info: ParallelInfo) -> go.Figure:
    """Parallel coordinates, one line per trial coloured by the metric; drag on an axis to filter.

    Args:
        info: from :func:`neurogenesis.analysis.hyperparameters.parallel_info`.

    Returns:
        The figure.
    """
    _check(info, ParallelInfo, "plot_parallel_coordinates")
    dimensions = []
    last = len(info.axes) - 1
    for index, axis in enumerate(info.axes):
        dimension = {
            "label": escaped(axis.name) + (" (log scale)" if axis.log else ""),
            "values": axis.values,
            "range": list(axis.range),
        }
        # A parameter swept over a few values is ticked at exactly those (a sweep's 3e-4, 1e-3,
        # 3e-3, not 5e-4, 1e-3, 2e-3); the metric (last) and continuous searches keep nice ticks.
        trial_ticks = (
            _trial_ticks(axis.values, axis.log)
            if axis.categories is None and index != last
            else None
        )
        if axis.categories is not None:
            used = np.unique(axis.values[np.isfinite(axis.values)]).astype(int)
            dimension["tickvals"] = [float(i) for i in used]
            dimension["ticktext"] = [escaped(axis.categories[i]) for i in used]
        elif trial_ticks is not None:
            dimension["tickvals"], dimension["ticktext"] = trial_ticks
        elif axis.log:
            dimension["tickvals"], dimension["ticktext"] = log_ticks(*axis.range)
        elif axis.tickvals is not None:
            dimension["tickvals"] = list(axis.tickvals)
            dimension["ticktext"] = [escaped(t) for t in axis.ticktext]
        dimensions.append(dimension)
    figure = go.Figure(
        go.Parcoords(
            line={
                "color": info.color,
                "colorscale": _colorscale(info.goal),
                "showscale": True,
                "colorbar": {"title": {"text": escaped(info.metric)}, "x": 1.0},
            },
            dimensions=dimensions,
            labelangle=0,
            # The last axis's tick labels sit right of it: room for them before the colour bar.
            domain={"x": [0.0, PARALLEL_DOMAIN_RIGHT]},
        )
    )
    layout = base_layout(
        f"{len(info.color):,} trials by {escaped(info.metric)} (drag along an axis to filter)"
    )
    layout["margin"] = {"l": 70, "r": 40, "t": 90, "b": 30}
    figure.update_layout(**layout, height=440)
    return figure


def plot_slices(info: SliceInfo, color_by: str = "order") -> go.Figure:
    """The metric against each parameter, one panel each, the best trial starred.

    Args:
        info: from :func:`neurogenesis.analysis.hyperparameters.slice_info`.
        color_by: ``"order"`` (when the trial ran: late trials bright) or ``"metric"``.

    Returns:
        The figure.
    """
    _check(info, SliceInfo, "plot_slices")
    if color_by not in COLOR_BY:
        raise InputError(f"Expected color_by in {list(COLOR_BY)}. Received: {color_by!r}.")
    count = len(info.panels)
    cols = min(count, SLICE_COLUMNS)
    rows = math.ceil(count / cols)
    figure = make_subplots(
        rows=rows,
        cols=cols,
        shared_yaxes=True,  # each panel's x axis title names its parameter
        horizontal_spacing=0.04,
        vertical_spacing=min(0.25, 0.6 / rows) if rows > 1 else 0.0,
    )
    highest = max((int(p.index.max()) for p in info.panels if len(p.index)), default=0)
    for k, panel in enumerate(info.panels):
        row, col = k // cols + 1, k % cols + 1
        color = panel.index if color_by == "order" else panel.y
        marker = {
            "size": 7,
            "color": color,
            "colorscale": COLORSCALE if color_by == "order" else _colorscale(info.goal),
            "showscale": k == 0,
            "line": {"color": "#FFFFFF", "width": 0.5},
        }
        if color_by == "order":
            marker.update(cmin=0, cmax=max(highest, 1))
            marker["colorbar"] = {"title": {"text": "trial #"}}
        else:
            marker["colorbar"] = {"title": {"text": escaped(info.metric)}}
        hover = [
            f"<b>{escaped(name)}</b><br>{escaped(panel.parameter)} = "
            f"{_value_text(x, False, panel.categories)}<br>{escaped(info.metric)} = {y:.6g}"
            for name, x, y in zip(panel.names, panel.x, panel.y, strict=True)
        ]
        figure.add_trace(
            go.Scatter(
                x=panel.x,
                y=panel.y,
                mode="markers",
                marker=marker,
                name="trials",
                showlegend=False,
                hovertext=hover,
                hoverinfo="text",
            ),
            row=row,
            col=col,
        )
        best = np.flatnonzero(panel.index == info.best_index)
        if best.size:
            figure.add_trace(
                go.Scatter(
                    x=panel.x[best],
                    y=panel.y[best],
                    mode="markers",
                    marker={"size": 15, "color": BEST_COLOR, "symbol": "star"},
                    name=_best_label(info),
                    legendgroup="best",
                    showlegend=k == 0,
                    hoverinfo="skip",
                ),
                row=row,
                col=col,
            )
        axis: dict = {
            "title": {"text": escaped(panel.parameter) + (" (log scale)" if panel.log else "")}
        }
        x = np.asarray(panel.x, np.float64)
        if panel.categories is not None:
            axis.update(
                tickvals=list(range(len(panel.categories))),
                ticktext=[escaped(c) for c in panel.categories],
                range=[-0.5, len(panel.categories) - 0.5],
            )
        elif (trial := _trial_ticks(np.log10(x) if panel.log else x, panel.log)) is not None:
            # A few swept values: ticks at exactly those (tickvals of a log axis are values).
            axis.update(
                tickvals=[10.0**t for t in trial[0]] if panel.log else trial[0],
                ticktext=trial[1],
            )
            if panel.log:
                axis["type"] = "log"
        elif panel.log and len(x):
            logged, text = log_ticks(float(np.log10(x.min())), float(np.log10(x.max())))
            axis.update(type="log", tickvals=[10.0**t for t in logged], ticktext=text)
        figure.update_xaxes(axis, row=row, col=col)
    figure.update_yaxes(title_text=escaped(info.metric), col=1)
    layout = base_layout(f"{escaped(info.metric)} against each hyperparameter")
    layout["hovermode"] = "closest"
    _legend_below(layout, bottom=130)
    layout["legend"]["y"] = -0.4 / rows  # under the lowest row's axis titles
    figure.update_layout(**layout, height=SLICE_ROW_HEIGHT * rows + 160)
    return figure


def plot_importance(info: ImportanceInfo) -> go.Figure:
    """Horizontal bars, most important parameter on top: variance share and permutation drop.

    Args:
        info: from :func:`neurogenesis.analysis.hyperparameters.importance_info`.

    Returns:
        The figure.
    """
    _check(info, ImportanceInfo, "plot_importance")
    order = info.order[::-1]  # plotly draws the first bar at the bottom
    names = [escaped(info.parameters[i]) for i in order]
    figure = go.Figure()
    figure.add_trace(
        go.Bar(
            y=names,
            x=info.importance[order],
            orientation="h",
            name="share of variance (fANOVA-style)",
            marker={"color": color_for(0)},
            hovertemplate="%{y}: %{x:.1%} of the variance<extra></extra>",
        )
    )
    drops = np.clip(info.permutation_mean, 0.0, None)
    if drops.sum() > 0:
        # A drop in R² can exceed 1 (R² goes negative); shown as shares so both bars compare.
        figure.add_trace(
            go.Bar(
                y=names,
                x=(drops / drops.sum())[order],
                customdata=np.column_stack(
                    [info.permutation_mean[order], info.permutation_std[order]]
                ),
                orientation="h",
                name="permutation (share of the drop in R²)",
                marker={"color": color_for(1)},
                hovertemplate=(
                    "%{y}: R² drops by %{customdata[0]:.3f} ± %{customdata[1]:.3f} when "
                    "shuffled<extra></extra>"
                ),
            )
        )
    fit = f", forest out-of-bag R² {info.oob_r2:.2f}" if info.oob_r2 is not None else ""
    layout = base_layout(
        f"What drives {escaped(info.metric)} ({info.num_trials:,} trials; interactions "
        f"{info.interaction:.0%}{fit})"
    )
    layout["hovermode"] = "closest"
    layout["margin"] = {**layout["margin"], "l": 140}
    _legend_below(layout, bottom=110)
    layout["legend"]["y"] = -0.3
    figure.update_layout(
        **layout,
        barmode="group",
        height=max(300, BAR_ROW_HEIGHT * len(names) + 200),
        xaxis={
            "title": {"text": "share of what drives the metric (%)"},
            "rangemode": "tozero",
            "tickformat": ".0%",
        },
        yaxis={"title": {"text": "hyperparameter"}},
    )
    return figure


# --- Tables behind the figures -------------------------------------------------------------------


def _named(values, categories) -> np.ndarray:
    """Positions on a categorical axis as their category names; other values as they are."""
    values = np.asarray(values)
    if categories and np.all((values >= 0) & (values < len(categories))):
        return np.asarray([categories[int(round(v))] for v in values], dtype=object)
    return values


def surface_table(info: SurfaceInfo) -> pd.DataFrame:
    """Every node of the surface: x, y (category names for categorical axes), the metric there
    and, for a Gaussian process, its standard deviation; x is the fast index (``z[j, i]`` is row
    ``j * len(x_values) + i``)."""
    _check(info, SurfaceInfo, "surface_table")
    xs = _named(info.x_values, info.x_categories)
    ys = _named(info.y_values, info.y_categories)
    table = {
        info.x: np.tile(xs, len(ys)),
        info.y: np.repeat(ys, len(xs)),
        info.metric: np.asarray(info.z, dtype=np.float64).ravel(),
    }
    if info.z_std is not None:
        table[f"{info.metric} std"] = np.asarray(info.z_std, dtype=np.float64).ravel()
    return pd.DataFrame(table)


def importance_table(info: ImportanceInfo) -> pd.DataFrame:
    """One row per parameter: its importance share and the permutation drop (mean and std)."""
    _check(info, ImportanceInfo, "importance_table")
    return pd.DataFrame(
        {
            "parameter": info.parameters,
            "importance": info.importance,
            "permutation drop": info.permutation_mean,
            "permutation drop std": info.permutation_std,
        }
    )
