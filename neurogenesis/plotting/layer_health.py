"""Activation and layer health as Plotly figures. Drawing only: no TensorFlow, no Streamlit.

The four histogram views are TensorBoard's: ``plot_histogram_offset`` and
``plot_histogram_overlay`` (the Histograms dashboard's two modes), ``plot_distribution`` (the
Distributions dashboard) and ``plot_histogram_heatmap`` (steps by values). All draw a
:class:`~neurogenesis.analysis.layer_health.HistogramInfo`; a step without values is marked, not
left out, and the info's notes appear under the title.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

from neurogenesis.analysis.layer_health import DEFAULT_DEAD_THRESHOLD, DISTRIBUTION_LABELS
from neurogenesis.errors import InputError
from neurogenesis.plotting.optimization import log_colorbar_ticks
from neurogenesis.plotting.style import PALETTE, base_layout, color_for, rgb_of, rgba

__all__ = [
    "DEFAULT_MAX_DRAWN_STEPS",
    "plot_batch_norm_effect",
    "plot_dead_units",
    "plot_distribution",
    "plot_histogram_heatmap",
    "plot_histogram_offset",
    "plot_histogram_overlay",
    "plot_unit_activity",
]

DEFAULT_MAX_DRAWN_STEPS = 50
"""Histograms drawn at most by the offset and overlay views (evenly chosen, the last kept)."""
DEFAULT_MAX_LAYERS = 8
"""Layer panels drawn at most by ``plot_batch_norm_effect``."""
STEP_COLORSCALE = "Blues"
STEP_SHADES = (0.3, 1.0)
"""The part of ``STEP_COLORSCALE`` the steps use: the oldest lightest, the newest darkest."""
RIDGE_HEIGHT = 2.5
"""Height of the tallest ridge in the offset view, in gaps between drawn steps."""
DISTRIBUTION_BANDS = ((0, 8, "min to max"), (1, 7, "±1.5σ"), (2, 6, "±1σ"), (3, 5, "±0.5σ"))
DISTRIBUTION_COLOR = PALETTE[1]
MEDIAN_COLOR = "#8A5A00"
"""A dark shade of ``DISTRIBUTION_COLOR``, so the median stands out of the bands."""
DEAD_COLOR = PALETTE[5]
ALIVE_COLOR = PALETTE[0]
WITH_COLOR, WITHOUT_COLOR = color_for(0), color_for(1)
MAX_CELL_LABELS = 400
DEAD_MARGIN_TOP, DEAD_MARGIN_BOTTOM = 90, 130
COLORBAR_GAP_PX = 78
"""Room between the heatmap and its colour bar below it, for the tick labels and axis title."""
MAX_STEP_TICKS = 12
MAX_NOTES_SHOWN = 2
PANEL_COLUMNS = 4


def _lighter(color: str, share_white: float) -> str:
    """``color`` mixed with white: an opaque fill that hides the ridges behind it."""
    mixed = [round(c + (255 - c) * share_white) for c in rgb_of(color)]
    return f"rgb({mixed[0]},{mixed[1]},{mixed[2]})"


def _drawn_rows(num_steps: int, max_steps: int) -> np.ndarray:
    """Evenly spread row indices, at most ``max_steps``, always the first and the last."""
    if not isinstance(max_steps, int) or max_steps < 1:
        raise InputError(
            f"Expected max_steps as a whole number of 1 or more. Received: {max_steps!r}"
        )
    if num_steps <= max_steps:
        return np.arange(num_steps)
    if max_steps == 1:
        return np.array([num_steps - 1])
    return np.unique(np.round(np.linspace(0, num_steps - 1, max_steps)).astype(int))


def _step_colors(steps: np.ndarray, first: int, last: int) -> list[str]:
    low, high = STEP_SHADES
    span = (last - first) or 1
    shades = [low + (high - low) * (float(s) - first) / span for s in steps]
    return sample_colorscale(STEP_COLORSCALE, shades)


def _step_colorscale() -> list[list]:
    low, high = STEP_SHADES
    points = np.linspace(0.0, 1.0, 6)
    colors = sample_colorscale(STEP_COLORSCALE, [low + (high - low) * p for p in points])
    return [[float(p), c] for p, c in zip(points, colors, strict=True)]


def _layout(title: str, notes=(), hovermode: str = "closest") -> dict:
    layout = base_layout(title)
    layout["hovermode"] = hovermode
    if notes:
        shown = " ".join(notes[:MAX_NOTES_SHOWN])
        if len(notes) > MAX_NOTES_SHOWN:
            shown += f" (+{len(notes) - MAX_NOTES_SHOWN} more notes)"
        layout["title"]["subtitle"] = {"text": shown, "font": {"size": 11}}
        layout["margin"] = {**layout["margin"], "t": 80}
    return layout


def _capped_title(base: str, drawn: int, total: int) -> str:
    return base if drawn == total else f"{base} (showing {drawn} of {total} steps, evenly spread)"


def _empty_steps_trace(steps: np.ndarray, empty: np.ndarray, y: float, **subplot) -> go.Scatter:
    return go.Scatter(
        x=steps[empty],
        y=np.full(int(empty.sum()), y),
        mode="markers",
        marker={"symbol": "x", "size": 10, "color": "#999999"},
        name="step with no values",
        hovertemplate="step %{x}: no values<extra></extra>",
        **subplot,
    )


def _bin_customdata(info, row: int) -> np.ndarray:
    return np.column_stack(
        [
            np.full(info.num_bins, info.steps[row]),
            info.edges[:-1],
            info.edges[1:],
            info.counts[row],
            info.density[row],
        ]
    )


_BIN_HOVER = (
    "step %{customdata[0]}<br>values %{customdata[1]:.4g} to %{customdata[2]:.4g}"
    "<br>count %{customdata[3]:.4g}<br>density %{customdata[4]:.4g}<extra></extra>"
)


def plot_histogram_offset(
    info, *, max_steps: int = DEFAULT_MAX_DRAWN_STEPS, title: str | None = None
) -> go.Figure:
    """TensorBoard's offset view: one filled histogram per step, the older ones further back.

    Steps run down the y axis, the oldest at the top (lightest, behind), the newest at the bottom
    (darkest, in front); each histogram rises from its step, scaled to the tallest density of all
    drawn steps so their shapes compare.

    Args:
        info: a ``HistogramInfo``.
        max_steps: most histograms drawn, evenly spread, first and last always included; the
            title says when some are left out.
        title: the figure's title; None: the tag.

    Returns:
        One filled trace per drawn step (steps without values drawn flat, named so).
    """
    rows = _drawn_rows(info.num_steps, max_steps)
    steps = info.steps[rows]
    density = info.density[rows]
    finite = np.isfinite(density)
    peak = float(density[finite].max()) if finite.any() and density[finite].max() > 0 else 1.0
    gaps = np.diff(steps)
    gap = float(np.median(gaps)) if gaps.size else 1.0
    scale = RIDGE_HEIGHT * (gap or 1.0) / peak
    colors = _step_colors(steps, int(steps[0]), int(steps[-1]))
    figure = go.Figure()
    x = np.concatenate([[info.edges[0]], info.centers, [info.edges[-1]]])
    for position, (row, step, color) in enumerate(zip(rows, steps, colors, strict=True)):
        heights = np.where(finite[position], density[position], 0.0) * scale
        customdata = _bin_customdata(info, int(row))
        empty = info.total[row] <= 0
        figure.add_trace(
            go.Scatter(
                x=x,
                y=np.concatenate([[step], step - heights, [step]]),
                mode="lines",
                fill="toself",
                fillcolor=_lighter(color, 0.55),
                line={"color": color, "width": 1.2},
                name=f"step {step}" + (" (no values)" if empty else ""),
                customdata=np.vstack([customdata[:1], customdata, customdata[-1:]]),
                hovertemplate=(f"step {step}: no values<extra></extra>" if empty else _BIN_HOVER),
                showlegend=False,
            )
        )
    ticks = steps[_drawn_rows(len(steps), MAX_STEP_TICKS)].tolist()
    label = title or f"{info.tag}: histogram per step"
    figure.update_layout(
        **_layout(_capped_title(label, len(rows), info.num_steps), info.notes),
        xaxis_title="value",
        yaxis={
            "title": {"text": "step"},
            "autorange": "reversed",
            "zeroline": False,
            "tickmode": "array",
            "tickvals": ticks,
            "ticktext": [str(t) for t in ticks],
        },
        height=min(900, 320 + 14 * len(rows)),
        showlegend=False,
    )
    return figure


def plot_histogram_overlay(
    info,
    *,
    max_steps: int = DEFAULT_MAX_DRAWN_STEPS,
    density: bool = False,
    title: str | None = None,
) -> go.Figure:
    """TensorBoard's overlay view: every step's histogram on one axis, coloured by step.

    Args:
        info: a ``HistogramInfo``.
        max_steps: most histograms drawn, evenly spread, first and last always included.
        density: draw densities (each step integrates to 1) instead of counts per bin.
        title: the figure's title; None: the tag.

    Returns:
        One line per drawn step, the oldest lightest, with a colour bar of steps.
    """
    rows = _drawn_rows(info.num_steps, max_steps)
    steps = info.steps[rows]
    first, last = int(steps[0]), int(steps[-1])
    colors = _step_colors(steps, first, last)
    figure = go.Figure()
    values = info.density if density else info.counts
    empty_rows = []
    for row, step, color in zip(rows, steps, colors, strict=True):
        if info.total[row] <= 0:
            empty_rows.append(int(step))
            continue
        figure.add_trace(
            go.Scatter(
                x=info.centers,
                y=values[row],
                mode="lines",
                line={"color": color, "width": 1.5},
                name=f"step {step}",
                customdata=_bin_customdata(info, int(row)),
                hovertemplate=_BIN_HOVER,
                showlegend=False,
            )
        )
    figure.add_trace(
        go.Scatter(
            x=[None],
            y=[None],
            mode="markers",
            marker={
                "colorscale": _step_colorscale(),
                "cmin": first,
                "cmax": last if last > first else first + 1,
                "color": [first],
                "showscale": True,
                "colorbar": {"title": {"text": "step"}, "thickness": 14},
            },
            hoverinfo="skip",
            showlegend=False,
            name="step colours",
        )
    )
    label = title or f"{info.tag}: histograms overlaid"
    notes = info.notes
    if empty_rows:
        listed = ", ".join(str(s) for s in empty_rows[:5])
        notes = (
            *notes,
            f"Not drawn, no values: step {listed}{', ...' if len(empty_rows) > 5 else ''}.",
        )
    figure.update_layout(
        **_layout(_capped_title(label, len(rows), info.num_steps), notes),
        xaxis_title="value",
        yaxis_title="density per unit value" if density else "values per bin",
        showlegend=False,
    )
    return figure


def plot_histogram_heatmap(info, *, log_color: bool = False, title: str | None = None) -> go.Figure:
    """Steps (x) by values (y), coloured by each step's density.

    Args:
        info: a ``HistogramInfo``.
        log_color: colour by log10 of the density, so thin tails show beside a tall peak (empty
            cells are then blank).
        title: the figure's title; None: the tag.

    Returns:
        One heatmap; steps without values are blank columns marked with an ``x``.
    """
    density = info.density.T
    colorbar = {"thickness": 14}
    if log_color:
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(density > 0, np.log10(density), np.nan)
        # Log colour, labelled in density units (0.01, 0.1, 1), not in log10 (-2, -1, 0).
        colorbar_title = "density per unit value<br>(log colour; blank: none)"
        finite = z[np.isfinite(z)]
        if finite.size:
            tickvals, ticktext = log_colorbar_ticks(float(finite.min()), float(finite.max()))
            colorbar.update(tickmode="array", tickvals=tickvals, ticktext=ticktext)
    else:
        z = density
        colorbar_title = "density per unit value"
    colorbar["title"] = {"text": colorbar_title}
    customdata = np.stack(
        [
            info.counts.T,
            np.broadcast_to(info.edges[:-1, None], density.shape),
            np.broadcast_to(info.edges[1:, None], density.shape),
            density,
        ],
        axis=-1,
    )
    figure = go.Figure(
        go.Heatmap(
            x=info.steps,
            y=info.centers,
            z=z,
            colorscale="Viridis",
            colorbar=colorbar,
            customdata=customdata,
            hovertemplate=(
                "step %{x}<br>values %{customdata[1]:.4g} to %{customdata[2]:.4g}"
                "<br>count %{customdata[0]:.4g}<br>density %{customdata[3]:.4g}<extra></extra>"
            ),
            name="density",
        )
    )
    empty = info.total <= 0
    if empty.any():
        figure.add_trace(_empty_steps_trace(info.steps, empty, float(info.centers[0])))
    figure.update_layout(
        **_layout(title or f"{info.tag}: density per step", info.notes),
        xaxis_title="step",
        yaxis_title="value",
        showlegend=False,
    )
    return figure


def plot_distribution(info, *, title: str | None = None) -> go.Figure:
    """TensorBoard's distributions view: nested percentile bands over steps, median line.

    The bands are TensorBoard's: min to max, and the percentiles a normal distribution has at
    ±1.5, ±1 and ±0.5 standard deviations (6.68 to 93.32%, 15.87 to 84.13%, 30.85 to 69.15%),
    darker inwards.

    Args:
        info: a ``HistogramInfo``.
        title: the figure's title; None: the tag.

    Returns:
        Two traces per band (lower edge, upper edge filled down to it) and the median, whose
        hover lists all nine values.
    """
    percentiles = info.percentiles
    filled = np.isfinite(percentiles).all(axis=1)
    steps = info.steps[filled]
    values = percentiles[filled]
    figure = go.Figure()
    single = steps.shape[0] == 1
    for depth, (low, high, label) in enumerate(DISTRIBUTION_BANDS):
        color = rgba(DISTRIBUTION_COLOR, 0.18 + 0.14 * depth)
        figure.add_trace(
            go.Scatter(
                x=steps,
                y=values[:, low],
                mode="lines",
                line={"width": 0, "color": color},
                hoverinfo="skip",
                showlegend=False,
                legendgroup=label,
                name=f"{label} (lower)",
            )
        )
        figure.add_trace(
            go.Scatter(
                x=steps,
                y=values[:, high],
                mode="lines",
                fill="tonexty",
                fillcolor=color,
                line={"width": 0, "color": color},
                hoverinfo="skip",
                legendgroup=label,
                name=label,
            )
        )
    hover = "<br>".join(
        f"{name} %{{customdata[{index}]:.4g}}"
        for index, name in reversed(list(enumerate(DISTRIBUTION_LABELS)))
    )
    figure.add_trace(
        go.Scatter(
            x=steps,
            y=values[:, 4],
            mode="lines+markers" if single or steps.shape[0] <= 60 else "lines",
            line={"color": MEDIAN_COLOR, "width": 2},
            marker={"size": 5, "color": MEDIAN_COLOR},
            error_y=(
                {
                    "type": "data",
                    "symmetric": False,
                    "array": values[:, 8] - values[:, 4],
                    "arrayminus": values[:, 4] - values[:, 0],
                    "color": MEDIAN_COLOR,
                }
                if single
                else None
            ),
            name="median",
            customdata=values,
            hovertemplate=f"step %{{x}}<br>{hover}<extra></extra>",
        )
    )
    empty = ~filled
    if empty.any():
        level = float(np.nanmedian(values[:, 4])) if values.size else 0.0
        figure.add_trace(_empty_steps_trace(info.steps, empty, level))
    figure.update_layout(
        **_layout(title or f"{info.tag}: distribution per step", info.notes, "x unified"),
        xaxis_title="step",
        yaxis_title="value",
    )
    return figure


def _layer_label(stats) -> str:
    if stats.kind == "pass-through" and stats.inherited_from:
        return f"{stats.layer} · zeros of {stats.inherited_from}"
    return stats.layer


def plot_dead_units(info, epoch: int | None = None, *, title: str | None = None) -> go.Figure:
    """Dead units per layer: a layers by epochs heatmap (0-100%) and bars at one epoch.

    Args:
        info: a ``DeadUnitInfo``.
        epoch: the epoch of the bars; None: the info's chosen epoch.
        title: the figure's title.

    Returns:
        A heatmap of the dead share and, beside it, one bar per layer with ``dead/units``;
        layers not recorded at an epoch are blank cells and bars labelled so.
    """
    column = info.epoch_index(epoch)
    chosen = int(info.epochs[column])
    labels = [_layer_label(stats) for stats in info.units]
    percent = info.dead_share * 100.0
    figure = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.62, 0.38],
        shared_yaxes=True,
        horizontal_spacing=0.03,
        subplot_titles=("Dead units per epoch", f"At epoch {chosen}"),
    )
    kinds = np.array([[stats.kind] * info.epochs.shape[0] for stats in info.units])
    customdata = np.stack(
        [
            info.num_dead,
            np.broadcast_to(info.num_units[:, None], info.num_dead.shape).astype(float),
            info.utilization * 100.0,
            info.num_saturated,
        ],
        axis=-1,
    )
    cells = percent.size
    height = max(360, 30 * len(info.layers) + 240)
    plot_height = height - DEAD_MARGIN_TOP - DEAD_MARGIN_BOTTOM
    figure.add_trace(
        go.Heatmap(
            x=[str(e) for e in info.epochs],
            y=labels,
            z=percent,
            zmin=0,
            zmax=100,
            colorscale="Reds",
            customdata=customdata,
            text=kinds,
            texttemplate="%{z:.0f}" if cells <= MAX_CELL_LABELS else None,
            hovertemplate=(
                "%{y}<br>epoch %{x}<br>dead %{customdata[0]} of %{customdata[1]} units "
                "(%{z:.1f}%)<br>firing on the probe %{customdata[2]:.1f}%"
                "<br>saturated %{customdata[3]}<br>kind: %{text}<extra></extra>"
            ),
            colorbar={
                "title": {"text": "dead units (%)", "side": "right"},
                "orientation": "h",
                "x": 0.0,
                "xanchor": "left",
                "y": -COLORBAR_GAP_PX / max(plot_height, 1),
                "yanchor": "top",
                "len": 0.45,
                "thickness": 12,
            },
            xgap=1,
            ygap=1,
            name="dead units (%)",
        ),
        row=1,
        col=1,
    )
    recorded = np.isfinite(info.num_dead[:, column])
    bar_text = [
        f"{int(info.num_dead[i, column])}/{int(info.num_units[i])}"
        if recorded[i]
        else "not recorded"
        for i in range(len(info.layers))
    ]
    figure.add_trace(
        go.Bar(
            x=np.where(recorded, percent[:, column], 0.0),
            y=labels,
            orientation="h",
            marker={"color": DEAD_COLOR},
            text=bar_text,
            textposition="outside",
            cliponaxis=False,
            customdata=customdata[:, column],
            hovertemplate=(
                f"%{{y}}<br>epoch {chosen}<br>dead %{{customdata[0]}} of %{{customdata[1]}} units"
                "<br>firing on the probe %{customdata[2]:.1f}%<br>saturated %{customdata[3]}"
                "<extra></extra>"
            ),
            name=f"dead at epoch {chosen}",
        ),
        row=1,
        col=2,
    )
    layout = _layout(
        title or f"Dead units (zero on at least {info.threshold:.0%} of the probe)", info.notes
    )
    layout["margin"] = {**layout["margin"], "t": DEAD_MARGIN_TOP, "b": DEAD_MARGIN_BOTTOM}
    figure.update_layout(**layout, height=height, showlegend=False)
    figure.update_yaxes(
        title_text="layer (kind)", autorange="reversed", automargin=True, row=1, col=1
    )
    figure.update_xaxes(title_text="epoch", type="category", row=1, col=1)
    figure.update_xaxes(title_text="dead units (%)", range=[0, 118], row=1, col=2)
    return figure


def plot_unit_activity(
    stats,
    layer: str,
    *,
    epoch: int | None = None,
    threshold: float | None = None,
    title: str | None = None,
) -> go.Figure:
    """Each unit's share of zero outputs on the probe, sorted, dead units highlighted.

    Args:
        stats: one epoch's ``load_activation_stats`` dict, or a ``DeadUnitInfo``.
        layer: the layer.
        epoch: with a ``DeadUnitInfo``, the epoch (None: its chosen epoch); shown in the title
            with a dict.
        threshold: the dead line; None: the info's threshold, or ``DEFAULT_DEAD_THRESHOLD``.
        title: the figure's title.

    Returns:
        Bars for dead and for firing units (x: rank, most often zero first) and the threshold.

    Raises:
        InputError: the layer is not in ``stats``.
    """
    if hasattr(stats, "units") and hasattr(stats, "layers"):
        if layer not in stats.layers:
            raise InputError(
                f"Expected a layer among {', '.join(stats.layers)}. Received: {layer!r}."
            )
        column = stats.epoch_index(epoch)
        epoch = int(stats.epochs[column])
        frac_zero = stats.units[stats.layers.index(layer)].frac_zero[column]
        threshold = stats.threshold if threshold is None else threshold
    else:
        if layer not in stats:
            raise InputError(f"Expected a layer among {', '.join(stats)}. Received: {layer!r}.")
        frac_zero = np.asarray(stats[layer]["frac_zero"])
        threshold = DEFAULT_DEAD_THRESHOLD if threshold is None else threshold
    frac_zero = np.asarray(frac_zero, dtype=np.float64)
    if not np.isfinite(frac_zero).all():
        raise InputError(f"Layer {layer!r} was not recorded at epoch {epoch}; pick another epoch.")
    order = np.argsort(-frac_zero, kind="stable")
    ranks = np.arange(1, order.size + 1)
    dead = frac_zero[order] >= threshold
    figure = go.Figure()
    for mask, name, color in (
        (dead, f"dead ({int(dead.sum())})", DEAD_COLOR),
        (~dead, f"firing ({int((~dead).sum())})", ALIVE_COLOR),
    ):
        figure.add_trace(
            go.Bar(
                x=ranks[mask],
                y=frac_zero[order][mask] * 100.0,
                marker={"color": color},
                name=name,
                customdata=order[mask],
                hovertemplate=(
                    "unit %{customdata}<br>zero on %{y:.2f}% of the probe<extra></extra>"
                ),
            )
        )
    figure.add_hline(
        y=threshold * 100.0,
        line={"color": "#555555", "dash": "dash", "width": 1},
        annotation_text=f"dead at {threshold:.0%}",
        annotation_position="top right",
    )
    where = f" at epoch {epoch}" if epoch is not None else ""
    layout = _layout(
        title or f"{layer}{where}: {int(dead.sum())} of {order.size} units dead", (), "closest"
    )
    figure.update_layout(
        **layout,
        bargap=0.05 if order.size > 40 else 0.2,
        xaxis_title="units, most often zero first",
        yaxis={"title": {"text": "zero outputs on the probe (%)"}, "range": [0, 108]},
    )
    return figure


def _nonfinite_marker(x, y, name: str, color: str, **subplot) -> go.Scatter | None:
    bad = ~np.isfinite(y)
    if not bad.any():
        return None
    finite = y[~bad]
    level = float(finite.max()) if finite.size else 0.0
    return go.Scatter(
        x=[x[bad][0]],
        y=[level],
        mode="markers+text",
        marker={"symbol": "x", "size": 11, "color": color},
        text=["NaN/Inf"],
        textposition="top center",
        name=f"{name}: NaN/Inf from epoch {x[bad][0]}",
        hovertemplate=f"{name} is NaN/Inf from epoch {x[bad][0]}<extra></extra>",
        showlegend=False,
        **subplot,
    )


def plot_batch_norm_effect(
    info,
    *,
    statistic: str = "std",
    layers=None,
    max_layers: int = DEFAULT_MAX_LAYERS,
    title: str | None = None,
) -> go.Figure:
    """Training with and without BatchNormalization: curves on top, one panel per layer below.

    The run with BatchNormalization is blue, the one without orange, in every panel; training
    curves are solid, validation dashed.

    Args:
        info: a ``BatchNormEffectInfo``.
        statistic: ``"std"`` or ``"mean"`` of the activations per epoch.
        layers: layers to draw (None: the info's layers, the first ``max_layers``).
        max_layers: most layer panels.
        title: the figure's title.

    Returns:
        The figure; the title says when layers are left out.

    Raises:
        InputError: an unknown statistic or layer.
    """
    if statistic not in ("std", "mean"):
        raise InputError(f"Expected statistic 'std' or 'mean'. Received: {statistic!r}.")
    chosen = list(info.layers) if layers is None else list(layers)
    unknown = [layer for layer in chosen if layer not in info.layers]
    if unknown:
        raise InputError(
            f"Expected layers among {', '.join(info.layers) or 'none'}. Received: {unknown[0]!r}."
        )
    left_out = max(0, len(chosen) - max_layers)
    chosen = chosen[:max_layers]
    columns = max(1, min(PANEL_COLUMNS, len(chosen)))
    layer_rows = math.ceil(len(chosen) / columns)
    specs = [[{"colspan": columns}] + [None] * (columns - 1)]
    specs += [[{} for _ in range(columns)] for _ in range(layer_rows)]
    word = "standard deviation" if statistic == "std" else "mean"
    figure = make_subplots(
        rows=1 + layer_rows,
        cols=columns,
        specs=specs,
        subplot_titles=[f"{info.metric} per epoch", *chosen],
        vertical_spacing=0.12 if layer_rows else 0.0,
        horizontal_spacing=0.06,
        row_heights=[1.4] + [1.0] * layer_rows,
    )
    labels = {True: "with BN", False: "without BN"}
    colors = {True: WITH_COLOR, False: WITHOUT_COLOR}
    for curve in info.curves:
        name = f"{labels[curve.batch_norm]} · {curve.role}"
        color = colors[curve.batch_norm]
        finite = np.isfinite(curve.values)
        figure.add_trace(
            go.Scatter(
                x=curve.steps,
                y=np.where(finite, curve.values, np.nan),
                mode="lines+markers" if curve.steps.size <= 60 else "lines",
                line={"color": color, "dash": "solid" if curve.role == "train" else "dash"},
                marker={"size": 5},
                name=name,
                legendgroup=labels[curve.batch_norm],
                hovertemplate=(
                    f"{curve.run} ({name})<br>epoch %{{x}}<br>{info.metric} %{{y:.4g}}"
                    "<extra></extra>"
                ),
            ),
            row=1,
            col=1,
        )
        marker = _nonfinite_marker(curve.steps, curve.values, name, color)
        if marker is not None:
            figure.add_trace(marker, row=1, col=1)
    for index, layer in enumerate(chosen):
        row, col = 2 + index // columns, 1 + index % columns
        for flag in (True, False):
            series = info.series(layer, flag)
            values = series.std if statistic == "std" else series.mean
            figure.add_trace(
                go.Scatter(
                    x=series.steps,
                    y=values,
                    mode="lines+markers" if series.steps.size <= 60 else "lines",
                    line={"color": colors[flag]},
                    marker={"size": 4},
                    name=f"{layer} · {labels[flag]}",
                    legendgroup=labels[flag],
                    showlegend=False,
                    hovertemplate=(
                        f"{layer}, {series.run} ({labels[flag]})<br>epoch %{{x}}"
                        f"<br>activation {statistic} %{{y:.4g}}<extra></extra>"
                    ),
                ),
                row=row,
                col=col,
            )
            marker = _nonfinite_marker(
                series.steps, values, f"{layer} {labels[flag]}", colors[flag]
            )
            if marker is not None:
                figure.add_trace(marker, row=row, col=col)
        # Every panel's axes say what they hold (small type: the panels are small).
        small = {"font": {"size": 11}}
        figure.update_yaxes(title={"text": f"activation {statistic}", **small}, row=row, col=col)
        figure.update_xaxes(title={"text": "epoch", **small}, row=row, col=col)
    figure.update_yaxes(title_text=info.metric, row=1, col=1)
    figure.update_xaxes(title_text="epoch", row=1, col=1)
    label = title or f"BatchNormalization: {info.run_with} vs {info.run_without}"
    notes = list(info.notes)
    if left_out:
        notes.insert(0, f"{left_out} more layer{'s' if left_out != 1 else ''} not drawn.")
    if chosen:
        notes.insert(0, f"Panels: activation {word} per epoch on the probe batch.")
    figure.update_layout(
        **_layout(label, tuple(notes), "closest"),
        height=380 + 240 * layer_rows,
    )
    return figure
