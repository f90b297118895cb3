"""Training-dynamics figures: early stopping, metric correlations, the 3D trajectory, convergence.

Drawing only: no TensorFlow, no Streamlit; every number comes from an info of
``neurogenesis.analysis.convergence``. NaN and Inf are never dropped silently: non-finite values
are marked with an ``x`` at the top of their axis (or listed in the subtitle of the 3D figure).
Names that came from log files are escaped before they reach a figure, so plotly shows them as
text, never as markup.

Labels of vertical markers (best epoch, overfitting onset, early stop, divergence) are stacked in
lanes of their own at the top of the curves panel, one lane per label, and the panel's y range
leaves headroom for them, so the labels cannot overlap each other or the curves.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from neurogenesis.analysis.convergence import (
    ConvergenceInfo,
    CorrelationInfo,
    EarlyStoppingReport,
    TrajectoryInfo,
)
from neurogenesis.plotting.style import PALETTE, base_layout, color_for, escaped, rgba

__all__ = [
    "plot_convergence",
    "plot_correlations",
    "plot_early_stopping",
    "plot_trajectory_3d",
]

FIGURE_HEIGHT = 550
TRAJECTORY_HEIGHT = 620
TRAJECTORY_EYE = {"x": 1.6, "y": 1.6, "z": 1.05}
CURVES_ROW_SHARE = 0.66
VERTICAL_SPACING = 0.08
# Marker labels stack downwards from the top of the curves panel, this many pixels apart.
LANE_PX = 20
LABEL_FONT_SIZE = 12
# Above this fraction of the x range a label is written to the left of its line.
LABEL_FLIP_AT = 0.6
MAX_LINE_MARKERS = 60
BOTTOM_MARGIN = 120

BEST_COLOR = PALETTE[1]
ONSET_COLOR = PALETTE[5]
STOP_COLOR = "#4B5563"
DIVERGED_COLOR = "#B91C1C"
PLATEAU_COLOR = PALETTE[2]
GAP_COLOR = PALETTE[3]
FIT_COLOR = PALETTE[5]
IMPROVING_COLOR = PALETTE[2]
WORSENING_COLOR = PALETTE[5]
RELATIVE_COLOR = PALETTE[4]
NON_FINITE_COLOR = "#6B7280"
ZERO_LINE_COLOR = "#9CA3AF"

CORRELATION_COLORSCALE = "RdBu_r"
NAN_CELL_COLOR = "#E5E7EB"
NAN_CELL_TEXT = "—"
# Cell text turns white on cells this strongly coloured.
DARK_CELL_AT = 0.6
CORRELATION_CELL_PX = 44
METHOD_TITLES = {"pearson": "Pearson", "spearman": "Spearman rank", "kendall": "Kendall tau-b"}

TRAJECTORY_COLORSCALE = "Viridis"
CONE_COLOR = PALETTE[5]
# Cone lengths as fractions of the (normalised) cube's side, slowest to fastest point.
CONE_MIN_LENGTH = 0.04
CONE_MAX_LENGTH = 0.12
NUM_TICKS = 5
MAX_LISTED_EPOCHS = 5

# The fitted curve is drawn at most this many data spans past the last epoch.
MAX_FIT_EXTENSION = 1.0
FIT_GRID_POINTS = 200
SUBTITLE_WIDTH = 120  # characters per subtitle line


def _epoch(epoch) -> str:
    epoch = epoch.item() if isinstance(epoch, np.generic) else epoch
    if isinstance(epoch, float) and epoch.is_integer():
        return str(int(epoch))
    return f"{epoch:g}" if isinstance(epoch, float) else str(epoch)


def _value(value: float) -> str:
    if value is None or math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    return f"{value:.4g}"


def _finite_span(*arrays) -> tuple[float, float] | None:
    values = [np.asarray(a, dtype=np.float64).ravel() for a in arrays if a is not None]
    values = np.concatenate(values) if values else np.zeros(0)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    return float(values.min()), float(values.max())


def _axis_ref(row: int, kind: str) -> str:
    """``x``/``y`` axis reference of subplot row ``row`` (rows share one column)."""
    return kind if row == 1 else f"{kind}{row}"


def _row_px(rows: int) -> float:
    """Approximate pixel height of the top panel, to size the label headroom."""
    plot = FIGURE_HEIGHT - 90 - BOTTOM_MARGIN
    if rows == 1:
        return plot
    return plot * (1 - VERTICAL_SPACING) * CURVES_ROW_SHARE


def _headroom_range(span: tuple[float, float] | None, lanes: int, row_px: float):
    """A y range that keeps the data below the label lanes at the top of the panel."""
    if span is None:
        return None
    low, high = span
    height = high - low or max(abs(high), 1.0)
    top_share = min(0.45, (lanes * LANE_PX + 8) / row_px) if lanes else 0.04
    bottom_pad = 0.05 * height
    top = high + (height + bottom_pad) * top_share / (1 - top_share)
    return [low - bottom_pad, top]


def _add_lane_labels(figure: go.Figure, labels, x_span: tuple[float, float], row: int = 1):
    """One label per lane, each at its x, written away from the right edge."""
    low, high = x_span
    width = high - low or 1.0
    for lane, (x, text, color) in enumerate(labels):
        right = (float(x) - low) / width > LABEL_FLIP_AT
        figure.add_annotation(
            x=x,
            xref=_axis_ref(row, "x"),
            y=1,
            yref=f"{_axis_ref(row, 'y')} domain",
            yanchor="top",
            yshift=-lane * LANE_PX,
            xanchor="right" if right else "left",
            xshift=-4 if right else 4,
            text=text,
            showarrow=False,
            font={"size": LABEL_FONT_SIZE, "color": color},
            bgcolor="rgba(255, 255, 255, 0.85)",
            name=f"lane {lane}",
        )


def _vertical_line(figure, x, rows, *, color, dash, name, showlegend=True, width=1.5):
    for index, row in enumerate(rows):
        figure.add_shape(
            type="line",
            x0=x,
            x1=x,
            xref=_axis_ref(row, "x"),
            y0=0,
            y1=1,
            yref=f"{_axis_ref(row, 'y')} domain",
            line={"color": color, "dash": dash, "width": width},
            name=name,
            legendgroup=name,
            showlegend=showlegend and index == 0,
        )


def _band(figure, x0, x1, row, *, color, name, showlegend):
    figure.add_shape(
        type="rect",
        x0=x0,
        x1=x1,
        xref=_axis_ref(row, "x"),
        y0=0,
        y1=1,
        yref=f"{_axis_ref(row, 'y')} domain",
        fillcolor=color,
        line={"width": 0},
        layer="below",
        name=name,
        legendgroup=name,
        showlegend=showlegend,
    )


def _mark_non_finite(figure, epochs, values, *, label, y, row=1):
    """An ``x`` at height ``y`` for every NaN/Inf value, named with how many there are."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    kinds = np.where(np.isnan(values[bad]), "NaN", np.where(values[bad] > 0, "Inf", "-Inf"))
    figure.add_trace(
        go.Scatter(
            x=epochs[bad],
            y=np.full(int(bad.sum()), y),
            mode="markers",
            marker={"symbol": "x-thin", "size": 8, "color": NON_FINITE_COLOR, "line": {"width": 2}},
            name=f"{label}: NaN/Inf "
            + (f"at {int(bad.sum())} epochs" if bad.sum() > 1 else f"at epoch {epochs[bad][0]:g}"),
            customdata=kinds,
            hovertemplate=f"{label} is %{{customdata}} at epoch %{{x}}<extra></extra>",
        ),
        row=row,
        col=1,
    )


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(first, last)`` index of each run of True."""
    runs: list[tuple[int, int]] = []
    for index in np.flatnonzero(mask):
        if runs and runs[-1][1] == index - 1:
            runs[-1] = (runs[-1][0], int(index))
        else:
            runs.append((int(index), int(index)))
    return runs


def plot_early_stopping(report: EarlyStoppingReport, *, title: str | None = None) -> go.Figure:
    """Where the best epoch was, where ``EarlyStopping`` would stop, and when overfitting began.

    Top panel: training (solid) and validation (dashed) curves, a star at the best epoch, a solid
    grey line where ``EarlyStopping(patience)`` stops with the epochs it saves shaded grey, a
    dotted line at the overfitting onset, plateaus shaded green and an ``x`` where the run
    diverged. Bottom panel (when both series are given): the generalization gap (positive means
    overfitting) with a zero line, shaded where it widens. The verdict is the subtitle.

    Args:
        report: an ``EarlyStoppingReport``.
        title: the figure title (default: "Early stopping on validation loss").

    Returns:
        A plotly Figure.
    """
    epochs = np.asarray(report.epochs)
    x = epochs.astype(np.float64)
    has_gap = report.gap is not None
    rows = [1, 2] if has_gap else [1]
    figure = make_subplots(
        rows=len(rows),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=VERTICAL_SPACING,
        row_heights=[CURVES_ROW_SHARE, 1 - CURVES_ROW_SHARE] if has_gap else None,
    )
    metric = escaped(report.metric)
    monitored_name = f"{'validation' if report.monitored == 'validation' else 'training'} {metric}"
    color = color_for(0)
    span = _finite_span(report.train_values, report.validation_values)
    top = span[1] if span else 0.0
    markers = "lines+markers" if x.size <= MAX_LINE_MARKERS else "lines"

    for role, values, dash in (
        ("training", report.train_values, "solid"),
        ("validation", report.validation_values, "dash"),
    ):
        if values is None:
            continue
        name = f"{role} {metric}"
        finite = np.isfinite(values)
        figure.add_trace(
            go.Scatter(
                x=x,
                y=np.where(finite, values, np.nan),
                mode=markers,
                name=name,
                line={"color": color, "dash": dash, "width": 2},
                marker={"size": 5},
                hovertemplate=f"{name}: %{{y}}<extra></extra>",
            ),
            row=1,
            col=1,
        )
        _mark_non_finite(figure, x, values, label=name, y=top)

    labels = []
    if report.best_epoch is not None:
        best_name = f"best: epoch {_epoch(report.best_epoch)} ({_value(report.best_value)})"
        figure.add_trace(
            go.Scatter(
                x=[float(report.best_epoch)],
                y=[report.best_value],
                mode="markers",
                marker={
                    "symbol": "star",
                    "size": 17,
                    "color": BEST_COLOR,
                    "line": {"color": "white", "width": 1},
                },
                name=best_name,
                hovertemplate=(f"best {monitored_name}: %{{y}} at epoch %{{x}}<extra></extra>"),
            ),
            row=1,
            col=1,
        )
        labels.append(
            (float(report.best_epoch), f"best: epoch {_epoch(report.best_epoch)}", BEST_COLOR)
        )

    if report.overfitting_onset is not None:
        onset = float(report.overfitting_onset)
        _vertical_line(
            figure,
            onset,
            rows,
            color=ONSET_COLOR,
            dash="dot",
            name=f"overfitting onset: epoch {_epoch(report.overfitting_onset)}",
        )
        labels.append(
            (onset, f"overfits from epoch {_epoch(report.overfitting_onset)}", ONSET_COLOR)
        )

    stopping = report.early_stopping
    if stopping.stopped_epoch is not None:
        stop = float(stopping.stopped_epoch)
        _vertical_line(
            figure,
            stop,
            rows,
            color=STOP_COLOR,
            dash="solid",
            width=2,
            name=(
                f"EarlyStopping(patience={report.patience}) stops after epoch "
                f"{_epoch(stopping.stopped_epoch)}"
            ),
        )
        if report.epochs_saved:
            saved_name = f"not run: {report.epochs_saved} of {x.size} epochs saved"
            for index, row in enumerate(rows):
                _band(
                    figure,
                    stop,
                    float(x[-1]),
                    row,
                    color=rgba(STOP_COLOR, 0.12),
                    name=saved_name,
                    showlegend=index == 0,
                )
        labels.append((stop, f"patience {report.patience} stops here", STOP_COLOR))

    tolerance = f"{report.plateau_tolerance * 100:g}%"
    for index, (start, end) in enumerate(report.plateaus):
        _band(
            figure,
            float(start),
            float(end),
            1,
            color=rgba(PLATEAU_COLOR, 0.12),
            name=f"plateau: {monitored_name} flat within {tolerance}",
            showlegend=index == 0,
        )

    if report.divergence_epoch is not None:
        diverged = float(report.divergence_epoch)
        value = report.divergence_value
        kind = _value(value) if not math.isfinite(value) else f"jumped to {_value(value)}"
        series = "training" if report.divergence_series == "train" else "validation"
        figure.add_trace(
            go.Scatter(
                x=[diverged],
                y=[value if math.isfinite(value) else top],
                mode="markers",
                marker={"symbol": "x", "size": 15, "color": DIVERGED_COLOR},
                name=f"diverged at epoch {_epoch(report.divergence_epoch)} ({series} {kind})",
                hovertemplate=(
                    f"{series} {metric} diverged at epoch %{{x}}: {kind}<extra></extra>"
                ),
            ),
            row=1,
            col=1,
        )
        labels.append(
            (diverged, f"diverged: epoch {_epoch(report.divergence_epoch)}", DIVERGED_COLOR)
        )

    x_span = (float(x[0]), float(x[-1]))
    _add_lane_labels(figure, labels, x_span)
    y_range = _headroom_range(
        _finite_span(report.train_values, report.validation_values, [report.best_value]),
        len(labels),
        _row_px(len(rows)),
    )

    if has_gap:
        pair = "validation − training" if report.goal == "min" else "training − validation"
        figure.add_trace(
            go.Scatter(
                x=x,
                y=report.gap,
                mode=markers,
                name=f"gap ({pair})",
                line={"color": GAP_COLOR, "width": 2},
                marker={"size": 4},
                hovertemplate="gap: %{y}<extra></extra>",
            ),
            row=2,
            col=1,
        )
        figure.add_shape(
            type="line",
            x0=0,
            x1=1,
            xref="x2 domain",
            y0=0,
            y1=0,
            yref="y2",
            line={"color": ZERO_LINE_COLOR, "dash": "dot", "width": 1},
            name="zero gap",
        )
        for index, (first, last) in enumerate(_runs(report.gap_widening)):
            _band(
                figure,
                float(x[max(first - 1, 0)]),
                float(x[last]),
                2,
                color=rgba(ONSET_COLOR, 0.12),
                name="gap widening",
                showlegend=index == 0,
            )
        figure.update_yaxes(title_text="gap", row=2, col=1)

    layout = base_layout(title or f"Early stopping on {monitored_name}")
    layout["title"]["subtitle"] = {"text": escaped(report.verdict)}
    layout["margin"] = {"l": 70, "r": 20, "t": 90, "b": BOTTOM_MARGIN}
    layout["legend"] = {
        "orientation": "h",
        "yanchor": "top",
        "y": -0.14,
        "xanchor": "left",
        "x": 0.0,
        "font": {"size": 11},
    }
    figure.update_layout(**layout, height=FIGURE_HEIGHT)
    figure.update_yaxes(title_text=metric, row=1, col=1, range=y_range)
    figure.update_xaxes(title_text="epoch", row=len(rows), col=1)
    return figure


def _cell_text(value: float) -> str:
    if not math.isfinite(value):
        return NAN_CELL_TEXT
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text


def plot_correlations(info: CorrelationInfo, *, title: str | None = None) -> go.Figure:
    """The metrics' correlation matrix as an annotated heatmap, −1 (blue) to +1 (red).

    Every cell shows its coefficient with two decimals; undefined cells (a constant series, too
    few epochs) are grey and show "—". The subtitle says how many epochs were used: those where
    every metric is finite.

    Args:
        info: a ``CorrelationInfo``.
        title: the figure title (default: "Pearson correlation between metrics").

    Returns:
        A plotly Figure.
    """
    names = [escaped(name) for name in info.names]
    count = len(names)
    matrix = np.asarray(info.matrix, dtype=np.float64)
    method = METHOD_TITLES.get(info.method, info.method)
    texts = [[_cell_text(float(value)) for value in row] for row in matrix]
    hover = [
        [
            f"{value:.6g}" if math.isfinite(value) else "undefined (a constant series?)"
            for value in row
        ]
        for row in matrix
    ]
    figure = go.Figure(
        go.Heatmap(
            z=matrix,
            x=names,
            y=names,
            zmin=-1,
            zmax=1,
            zmid=0,
            colorscale=CORRELATION_COLORSCALE,
            colorbar={"title": {"text": "r"}, "tickvals": [-1, -0.5, 0, 0.5, 1]},
            customdata=hover,
            hovertemplate="%{y} vs %{x}<br>r = %{customdata}<extra></extra>",
            xgap=1,
            ygap=1,
        )
    )
    for i in range(count):
        for j in range(count):
            value = float(matrix[i, j])
            dark = math.isfinite(value) and abs(value) >= DARK_CELL_AT
            figure.add_annotation(
                x=names[j],
                y=names[i],
                text=texts[i][j],
                showarrow=False,
                font={"size": 12, "color": "white" if dark else "#111827"},
            )
    if info.num_points >= 2:
        subtitle = f"over the {info.num_points} epochs where every metric is finite"
    else:
        subtitle = (
            f"only {info.num_points} epoch(s) where every metric is finite: "
            "correlations are undefined"
        )
    layout = base_layout(title or f"{method} correlation between metrics")
    layout["title"]["subtitle"] = {"text": subtitle}
    layout["margin"] = {"l": 20, "r": 20, "t": 80, "b": 20}
    layout["hovermode"] = "closest"
    longest = max((len(str(name)) for name in info.names), default=0)
    figure.update_layout(
        **layout,
        height=max(340, 160 + CORRELATION_CELL_PX * count + 6 * min(longest, 40)),
        plot_bgcolor=NAN_CELL_COLOR,
        xaxis={
            "title": {"text": "metric"},
            "automargin": True,
            "tickangle": -35 if longest > 8 else 0,
            "showgrid": False,
        },
        yaxis={
            "title": {"text": "metric"},
            "automargin": True,
            "autorange": "reversed",
            "showgrid": False,
        },
    )
    return figure


def _nice_ticks(low: float, high: float) -> np.ndarray:
    """About ``NUM_TICKS`` round numbers from ``low`` to ``high``."""
    if not high > low:
        return np.array([low])
    raw = (high - low) / NUM_TICKS
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.ceil(low / step - 1e-9) * step
    return np.arange(start, high + step * 1e-9, step)


def _normalised_axis(values: np.ndarray, title: str) -> tuple[np.ndarray, float, float, dict]:
    """Values mapped to [0, 1] over their finite range, and an axis labelled in real units."""
    span = _finite_span(values) or (0.0, 1.0)
    low, high = span
    width = high - low or 1.0
    ticks = _nice_ticks(low, high)
    axis = {
        "title": {"text": title},
        "tickvals": ((ticks - low) / width).tolist(),
        "ticktext": [f"{tick:.4g}" for tick in ticks],
        "range": [-0.05, 1.05],
    }
    return (values - low) / width, low, width, axis


def plot_trajectory_3d(info: TrajectoryInfo, show_arrows: bool = True) -> go.Figure:
    """The training trajectory through (x metric, y metric, epoch), with momentum cones.

    All three axes are scaled to the same cube (each metric over its finite range, ticks in real
    units), so a cone's direction is the direction of travel as seen: the smoothed momentum
    ``(dx/dt, dy/dt)`` with the epoch's own ``dt/dt = 1`` as the third component. Cone length
    grows with speed, from ``CONE_MIN_LENGTH`` to ``CONE_MAX_LENGTH`` of the cube's side. Points
    where a metric is NaN/Inf break the line and are listed in the subtitle.

    Args:
        info: a ``TrajectoryInfo``.
        show_arrows: whether to draw the momentum cones.

    Returns:
        A plotly Figure.
    """
    x_name, y_name = escaped(info.x_name), escaped(info.y_name)
    finite = info.finite
    x_plot = np.where(finite, info.x, np.nan)
    y_plot = np.where(finite, info.y, np.nan)
    xn, _, x_width, x_axis = _normalised_axis(x_plot, x_name)
    yn, _, y_width, y_axis = _normalised_axis(y_plot, y_name)
    zn, _, z_width, z_axis = _normalised_axis(info.epochs, "epoch")
    customdata = np.column_stack([info.x, info.y, info.epochs, info.speed])
    figure = go.Figure()
    figure.add_trace(
        go.Scatter3d(
            x=xn,
            y=yn,
            z=zn,
            mode="lines+markers",
            name="trajectory",
            line={"color": info.epochs, "colorscale": TRAJECTORY_COLORSCALE, "width": 5},
            marker={
                "size": 3.5,
                "color": info.epochs,
                "colorscale": TRAJECTORY_COLORSCALE,
                "colorbar": {"title": {"text": "epoch"}, "len": 0.6},
                "showscale": True,
            },
            customdata=customdata,
            hovertemplate=(
                "epoch %{customdata[2]}<br>"
                f"{x_name} %{{customdata[0]}}<br>{y_name} %{{customdata[1]}}<br>"
                "speed %{customdata[3]:.3g} of range per epoch<extra></extra>"
            ),
        )
    )

    moving = finite & np.all(np.isfinite(info.momentum), axis=1)
    if show_arrows and moving.any():
        direction = np.column_stack(
            [
                info.momentum[moving, 0] / x_width,
                info.momentum[moving, 1] / y_width,
                np.full(int(moving.sum()), 1.0 / z_width),
            ]
        )
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        speed = info.speed[moving]
        fastest = float(speed.max())
        share = speed / fastest if fastest > 0 else np.zeros_like(speed)
        length = CONE_MIN_LENGTH + (CONE_MAX_LENGTH - CONE_MIN_LENGTH) * share
        vectors = direction * length[:, None]
        hover = [
            f"epoch {_epoch(float(e))}<br>momentum: {x_name} {mx:+.4g}/epoch, "
            f"{y_name} {my:+.4g}/epoch<br>speed {s:.3g} of range per epoch"
            for e, (mx, my), s in zip(
                info.epochs[moving], info.momentum[moving], speed, strict=True
            )
        ]
        figure.add_trace(
            go.Cone(
                x=xn[moving],
                y=yn[moving],
                z=zn[moving],
                u=vectors[:, 0],
                v=vectors[:, 1],
                w=vectors[:, 2],
                sizemode="raw",
                sizeref=1.0,
                anchor="tail",
                colorscale=[[0, CONE_COLOR], [1, CONE_COLOR]],
                showscale=False,
                opacity=0.75,
                name=f"momentum ({info.window}-point average of the velocity)",
                showlegend=True,
                hovertext=hover,
                hoverinfo="text",
            )
        )

    ends = np.flatnonzero(finite)
    if ends.size:
        picks = [int(ends[0]), int(ends[-1])] if ends.size > 1 else [int(ends[0])]
        figure.add_trace(
            go.Scatter3d(
                x=xn[picks],
                y=yn[picks],
                z=zn[picks],
                mode="markers+text",
                text=[
                    f"{word} · epoch {_epoch(float(info.epochs[i]))}"
                    for word, i in zip(("start", "end"), picks, strict=False)
                ],
                textposition=["top right", "top left"][: len(picks)],
                marker={
                    "size": 7,
                    "symbol": "diamond",
                    "color": [PALETTE[2], PALETTE[5]][: len(picks)],
                },
                name="start and end",
                showlegend=False,
                hoverinfo="skip",
            )
        )

    dropped = info.dropped_epochs
    if dropped.size:
        listed = ", ".join(_epoch(float(e)) for e in dropped[:MAX_LISTED_EPOCHS])
        more = (
            f" and {dropped.size - MAX_LISTED_EPOCHS} more"
            if dropped.size > MAX_LISTED_EPOCHS
            else ""
        )
        subtitle = (
            f"{dropped.size} point(s) with NaN/Inf not drawn (epoch {listed}{more}); "
            "arrows skip them"
        )
    else:
        subtitle = f"arrows: direction of travel, longer = faster ({info.window}-point momentum)"
    layout = base_layout(f"Training trajectory: {x_name} vs {y_name} over epochs")
    layout["title"]["subtitle"] = {"text": subtitle}
    layout["hovermode"] = "closest"
    layout["margin"] = {"l": 0, "r": 0, "t": 80, "b": 0}
    figure.update_layout(
        **layout,
        height=TRAJECTORY_HEIGHT,
        scene={
            "xaxis": x_axis,
            "yaxis": y_axis,
            "zaxis": z_axis,
            "aspectmode": "cube",
            # Further out than Plotly's (1.25, 1.25, 1.25): the axis titles stay inside the view.
            "camera": {"eye": TRAJECTORY_EYE},
        },
    )
    return figure


def _zero_aligned_ranges(first: np.ndarray, second: np.ndarray) -> tuple[list, list]:
    """Ranges for two y axes sharing a panel that put both zeros at the same height."""
    extents = []
    for values in (first, second):
        finite = values[np.isfinite(values)]
        low = max(0.0, -float(finite.min())) if finite.size else 0.0
        high = max(0.0, float(finite.max())) if finite.size else 0.0
        if low == high == 0.0:
            high = 1.0
        extents.append((low, high))
    # The zero sits at the mean of the two natural positions, kept off the very edges.
    share = float(np.mean([low / (low + high) for low, high in extents]))
    share = min(max(share, 0.05), 0.95)
    ranges = []
    for low, high in extents:
        size = max(low / share, high / (1 - share)) * 1.08
        ranges.append([-share * size, (1 - share) * size])
    return ranges[0], ranges[1]


def plot_convergence(info: ConvergenceInfo, metric: str = "loss") -> go.Figure:
    """The paper's convergence figure: the fitted approach to an asymptote, and the rate of change.

    Top panel: the values, the fitted exponential (dashed) extended to the estimated convergence
    epoch (at most ``MAX_FIT_EXTENSION`` data spans past the last epoch; an arrow points on when
    the estimate lies further out), the asymptote (dotted) and a line at the convergence epoch.
    Bottom panel: change per epoch (difference over the epoch spacing) as bars, green where the
    metric improved, and the relative change in percent on a second axis.

    Args:
        info: a ``ConvergenceInfo``.
        metric: the metric's name, for titles and labels.

    Returns:
        A plotly Figure.
    """
    metric = escaped(metric)
    epochs = info.epochs
    values = info.values
    figure = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=VERTICAL_SPACING,
        row_heights=[CURVES_ROW_SHARE, 1 - CURVES_ROW_SHARE],
        specs=[[{}], [{"secondary_y": True}]],
    )
    finite = np.isfinite(values)
    span = _finite_span(values)
    top = span[1] if span else 0.0
    figure.add_trace(
        go.Scatter(
            x=epochs,
            y=np.where(finite, values, np.nan),
            mode="lines+markers" if epochs.size <= MAX_LINE_MARKERS else "lines",
            name=metric,
            line={"color": color_for(0), "width": 2},
            marker={"size": 5},
            hovertemplate=f"{metric}: %{{y}}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    _mark_non_finite(figure, epochs, values, label=metric, y=top)

    labels = []
    last = info.last_usable_epoch
    x_low = float(epochs[0]) if epochs.size else 0.0
    x_high = float(epochs[-1]) if epochs.size else 1.0
    plotted = [values]
    threshold = f"{info.threshold * 100:g}%"
    if info.fit_succeeded and last is not None:
        data_span = max(last - info.t0, 1e-12)
        reach = min(max(info.convergence_epoch, last), last + MAX_FIT_EXTENSION * data_span)
        grid = np.linspace(info.t0, reach, FIT_GRID_POINTS)
        curve = info.curve(grid)
        plotted.append(curve)
        x_high = max(x_high, reach)
        figure.add_trace(
            go.Scatter(
                x=grid,
                y=curve,
                mode="lines",
                name=f"exponential fit (τ = {info.tau:.3g} epochs)",
                line={"color": FIT_COLOR, "dash": "dash", "width": 2},
                hovertemplate=(
                    f"fit {info.a:.4g} + {info.b:.4g}·exp(−(t − {info.t0:g}) / {info.tau:.4g})"
                    "<br>epoch %{x:.4g}: %{y:.6g}<extra></extra>"
                ),
            ),
            row=1,
            col=1,
        )
        asymptote_name = f"asymptote {_value(info.asymptote)}"

    # Without a fit that describes the data nothing is estimated, so nothing is drawn: no
    # asymptote, no convergence epoch (the subtitle says why).
    if info.fit_succeeded and math.isfinite(info.asymptote):
        plotted.append([info.asymptote])
        figure.add_shape(
            type="line",
            x0=0,
            x1=1,
            xref="x domain",
            y0=info.asymptote,
            y1=info.asymptote,
            yref="y",
            line={"color": FIT_COLOR, "dash": "dot", "width": 1.5},
            name=asymptote_name,
            showlegend=True,
        )

    if info.fit_succeeded and info.convergence_epoch is not None and last is not None:
        at = info.convergence_epoch
        remaining = info.epochs_to_converge
        if info.converged:
            text = f"converged at ~epoch {at:.0f}"
        else:
            text = f"about {math.ceil(remaining)} more epochs to converge"
        reference = "the asymptote"
        if at <= x_high:
            _vertical_line(
                figure,
                at,
                [1],
                color=BEST_COLOR,
                dash="dashdot",
                name=f"{text} (within {threshold} of {reference})",
            )
            labels.append((at, text, BEST_COLOR))
        else:
            # Beyond the drawn extension: an arrow at the right edge points on.
            labels.append((x_high, f"{text} (epoch ~{at:.0f}) →", BEST_COLOR))

    if info.divergence_epoch is not None:
        diverged = float(info.divergence_epoch)
        _vertical_line(
            figure,
            diverged,
            [1, 2],
            color=DIVERGED_COLOR,
            dash="dot",
            name=f"diverged at epoch {_epoch(info.divergence_epoch)} (fit uses epochs before)",
        )
        labels.append(
            (diverged, f"diverged: epoch {_epoch(info.divergence_epoch)}", DIVERGED_COLOR)
        )

    _add_lane_labels(figure, labels, (x_low, x_high))
    y_range = _headroom_range(_finite_span(*plotted), len(labels), _row_px(2))

    spacing = np.full(epochs.size, np.nan)
    if epochs.size > 1:
        spacing[1:] = np.diff(epochs)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = info.difference / spacing
    sign = -1.0 if info.goal == "min" else 1.0
    improving = np.isfinite(rate) & (sign * rate > 0)
    worsening = np.isfinite(rate) & ~improving
    for mask, name, color in (
        (improving, "improving (change per epoch)", IMPROVING_COLOR),
        (worsening, "worsening or flat (change per epoch)", WORSENING_COLOR),
    ):
        figure.add_trace(
            go.Bar(
                x=epochs[mask],
                y=rate[mask],
                name=name,
                marker={"color": color},
                customdata=info.difference[mask],
                hovertemplate=(
                    "change per epoch: %{y}<br>change since previous: %{customdata}<extra></extra>"
                ),
            ),
            row=2,
            col=1,
            secondary_y=False,
        )
    figure.add_trace(
        go.Scatter(
            x=epochs,
            y=info.relative_change * 100,
            mode="lines+markers",
            name="relative change (%)",
            line={"color": RELATIVE_COLOR, "width": 1.5},
            marker={"size": 4},
            hovertemplate="relative change: %{y:.4g}%<extra></extra>",
        ),
        row=2,
        col=1,
        secondary_y=True,
    )
    figure.add_shape(
        type="line",
        x0=0,
        x1=1,
        xref="x2 domain",
        y0=0,
        y1=0,
        yref="y2",
        line={"color": ZERO_LINE_COLOR, "dash": "dot", "width": 1},
        name="no change",
    )

    layout = base_layout(f"Convergence of {metric}")
    if info.fit_succeeded:
        subtitle = (
            f"fit {info.a:.4g} + {info.b:.4g}·exp(−(t − {info.t0:g}) / {info.tau:.3g}); "
            f"converged = within {threshold} of the total improvement from the asymptote"
        )
    else:
        reason = f"No exponential fit drawn: {info.fit_failure_reason}."
        subtitle = "<br>".join(textwrap.wrap(reason, SUBTITLE_WIDTH))
    layout["title"]["subtitle"] = {"text": subtitle}
    extra_lines = subtitle.count("<br>")
    layout["margin"] = {"l": 70, "r": 70, "t": 90 + 16 * extra_lines, "b": BOTTOM_MARGIN}
    layout["legend"] = {
        "orientation": "h",
        "yanchor": "top",
        "y": -0.14,
        "xanchor": "left",
        "x": 0.0,
        "font": {"size": 11},
    }
    figure.update_layout(**layout, height=FIGURE_HEIGHT, barmode="relative")
    figure.update_yaxes(title_text=metric, row=1, col=1, range=y_range)
    rate_range, relative_range = _zero_aligned_ranges(rate, info.relative_change * 100)
    figure.update_yaxes(
        title_text="change per epoch", row=2, col=1, secondary_y=False, range=rate_range
    )
    figure.update_yaxes(
        title_text="relative change (%)",
        row=2,
        col=1,
        secondary_y=True,
        showgrid=False,
        zeroline=False,
        tickmode="auto",
        range=relative_range,
    )
    figure.update_xaxes(title_text="epoch", row=2, col=1)
    return figure
