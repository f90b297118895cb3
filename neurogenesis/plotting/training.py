"""Training curves as Plotly figures. Drawing only: no TensorFlow, no Streamlit."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from neurogenesis.analysis.layer_health import dead_unit_rows
from neurogenesis.plotting.optimization import log_axis_ticks
from neurogenesis.plotting.style import base_layout, color_for, rgba

__all__ = [
    "X_TITLES",
    "convergence_table",
    "correlations_table",
    "dead_units_table",
    "dead_units_text_table",
    "early_stopping_runs_table",
    "early_stopping_table",
    "most_dead_layer",
    "optimizer_comparison_table",
    "plot_curves",
    "plot_dashboard",
    "readable_table",
    "x_for_plot",
]

X_TITLES = {
    "step": "step",
    "epoch": "epoch",
    "relative time": "time since the run started (s)",
    "wall time": "wall time (UTC)",
}
PANEL_HEIGHT = 330
KEY_COLOR = "#777777"  # the legend's style key (roles, marks), in no run's colour
MARKERS_UP_TO = 60  # points per trace below which each point gets a marker


def x_for_plot(x: np.ndarray, x_axis: str):
    """Unix seconds become datetimes on the wall-time axis; other axes draw numbers as they are."""
    if x_axis == "wall time":
        return (np.asarray(x, dtype=np.float64) * 1000.0).astype("datetime64[ms]")
    return x


def _number(value: float) -> str:
    return f"{value:.4g}"


def _where(x: float, x_axis: str) -> str:
    if x_axis == "wall time":
        return str(np.datetime64(int(x * 1000), "ms")).replace("T", " ")[:19] + " UTC"
    if x_axis == "relative time":
        return f"{x:,.1f} s"
    return f"{x_axis} {x:g}"


def plot_dashboard(info, *, log_y: bool = False, show_raw: bool = True) -> go.Figure:
    """The training dashboard: one panel per metric, every run (or group) in its own colour.

    Training is solid and validation dashed in the run's colour; the unsmoothed curve stays
    visible faintly behind a smoothed one; a group is its mean line over a shaded band. A star
    marks each run's best validation value (best training value without validation); NaN and
    infinite values are marked with an ``x`` on the panel's top edge, never dropped in silence.
    """
    metrics = list(info.metrics) or ["(no metric)"]
    figure = make_subplots(
        rows=len(metrics),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12 / max(len(metrics), 1) + 0.04,
    )
    labels = list(dict.fromkeys(trace.label for trace in info.traces))
    legend_shown: set[str] = set()
    for row, metric in enumerate(metrics, start=1):
        traces = info.traces_of(metric)
        finite_top = [
            float(np.nanmax(np.where(np.isfinite(values), values, np.nan)))
            for trace in traces
            for values in (trace.y, trace.raw_y, trace.upper)
            if values.size and np.isfinite(values).any()
        ]
        top = max(finite_top) if finite_top else 1.0
        for trace in traces:
            _add_trace(
                figure, trace, row, info, labels.index(trace.label), legend_shown, top, show_raw
            )
            legend_shown.add(trace.label)
        figure.update_yaxes(
            title_text=metric + (" (log scale)" if log_y else ""),
            type="log" if log_y else "linear",
            row=row,
            col=1,
            **(
                log_axis_ticks(*(v for t in traces for v in (t.y, t.raw_y, t.lower, t.upper)))
                if log_y
                else {}
            ),
        )
    figure.update_xaxes(title_text=X_TITLES[info.x_axis], row=len(metrics), col=1)
    if info.x_range is not None:
        figure.update_xaxes(range=list(x_for_plot(np.array(info.x_range), info.x_axis)))
    layout = base_layout("")
    layout.pop("title")
    figure.update_layout(
        **layout,
        height=PANEL_HEIGHT * len(metrics) + 90,
        uirevision=f"{info.x_axis}|{'|'.join(metrics)}|{info.x_range}",
    )
    figure.update_layout(hovermode="closest", margin={"t": 70})
    # A key to the styles (legend only): which line is which role, and what the marks mean.
    roles = {trace.role for trace in info.traces}
    keys = [
        (role, "lines", {"line": {"color": KEY_COLOR, "dash": dash, "width": 2}})
        for role, dash in (("train", "solid"), ("validation", "dash"))
        if role in roles
    ]
    if any(trace.best_x is not None for trace in info.traces):
        marker = {"symbol": "star", "size": 11, "color": KEY_COLOR}
        keys.append(("best value (validation if logged)", "markers", {"marker": marker}))
    if any(trace.num_nonfinite for trace in info.traces):
        marker = {"symbol": "x", "size": 10, "color": KEY_COLOR}
        keys.append(("NaN/Inf value", "markers", {"marker": marker}))
    for name, mode, style in keys:
        figure.add_trace(go.Scatter(x=[None], y=[None], mode=mode, name=name, **style))
    return figure


def _add_trace(figure, trace, row, info, color_index, legend_shown, top, show_raw) -> None:
    color = color_for(color_index)
    dash = "solid" if trace.role == "train" else "dash"
    name = f"{trace.label} · {trace.role}"
    group = len(trace.members) > 1
    x_axis = info.x_axis
    where = "%{x}" if x_axis == "wall time" else "%{x:,.6g}"
    if group and trace.band_x.size:
        band = "min to max" if info.band == "min-max" else "mean ± 1 std"
        figure.add_trace(
            go.Scatter(
                x=np.concatenate(
                    [x_for_plot(trace.band_x, x_axis), x_for_plot(trace.band_x[::-1], x_axis)]
                ),
                y=np.concatenate([trace.upper, trace.lower[::-1]]),
                fill="toself",
                fillcolor=rgba(color, 0.14 if trace.role == "train" else 0.08),
                line={"width": 0},
                hoverinfo="skip",
                showlegend=False,
                legendgroup=trace.label,
                name=f"{name} ({band})",
            ),
            row=row,
            col=1,
        )
    members = f"<br>mean of {len(trace.members)} runs" if group else ""
    smoothing = info.smoothing != "none"
    if show_raw and trace.raw_x.size:
        # The raw points are the data: they carry the markers and the hover, the smoothed line
        # over them is a reading aid.
        figure.add_trace(
            go.Scatter(
                x=x_for_plot(trace.raw_x, x_axis),
                y=np.where(np.isfinite(trace.raw_y), trace.raw_y, np.nan),
                mode="lines+markers" if trace.raw_x.size <= MARKERS_UP_TO else "lines",
                line={"color": color, "width": 1, "dash": dash},
                marker={"size": 4},
                opacity=0.45,
                showlegend=False,
                legendgroup=trace.label,
                name=f"{name} (raw)",
                hovertemplate=f"{name}{members}<br>{x_axis} {where}<br>{trace.metric} "
                "%{y:.5g} (raw)<extra></extra>",
            ),
            row=row,
            col=1,
        )
    if smoothing:
        # Hover reads the raw value at the point first, the smoothed one second, labelled.
        raw_here = _raw_at(trace)
        hover = (
            f"{name}{members}<br>{x_axis} {where}<br>{trace.metric} %{{customdata:.5g}} (raw)"
            f"<br>smoothed ({info.smoothing}) %{{y:.5g}}<extra></extra>"
        )
    else:
        raw_here = None
        hover = f"{name}{members}<br>{x_axis} {where}<br>{trace.metric} %{{y:.5g}}<extra></extra>"
    figure.add_trace(
        go.Scatter(
            x=x_for_plot(trace.x, x_axis),
            y=np.where(np.isfinite(trace.y), trace.y, np.nan),
            mode="lines+markers" if trace.x.size <= MARKERS_UP_TO and not smoothing else "lines",
            line={"color": color, "width": 2, "dash": dash},
            marker={"size": 5},
            name=trace.label,
            legendgroup=trace.label,
            showlegend=trace.label not in legend_shown,
            customdata=raw_here,
            hovertemplate=hover,
        ),
        row=row,
        col=1,
    )
    if trace.best_x is not None and (
        trace.role == "validation" or not _has_validation(info, trace)
    ):
        best = "lowest" if trace.goal == "min" else "highest"
        figure.add_trace(
            go.Scatter(
                x=x_for_plot(np.array([trace.best_x]), x_axis),
                y=[trace.best_value],
                mode="markers",
                marker={
                    "symbol": "star",
                    "size": 13,
                    "color": color,
                    "line": {"width": 1, "color": "white"},
                },
                showlegend=False,
                legendgroup=trace.label,
                name=f"best {name}",
                hovertemplate=f"{name}: {best} {trace.metric} {_number(trace.best_value)} at "
                f"{_where(trace.best_x, x_axis)}<extra></extra>",
            ),
            row=row,
            col=1,
        )
    if trace.nonfinite_x.size:
        first = _where(trace.first_nonfinite_x, x_axis)
        figure.add_trace(
            go.Scatter(
                x=x_for_plot(trace.nonfinite_x, x_axis),
                y=np.full(trace.nonfinite_x.size, top),
                mode="markers",
                marker={"symbol": "x", "size": 10, "color": color},
                showlegend=False,
                legendgroup=trace.label,
                name=f"{name}: NaN/Inf",
                customdata=np.array(trace.nonfinite_kinds, dtype=object),
                hovertemplate=f"{name}: %{{customdata}} at {x_axis} {where} "
                f"({trace.num_nonfinite} non-finite in all, first at {first})<extra></extra>",
            ),
            row=row,
            col=1,
        )


def _raw_at(trace) -> np.ndarray:
    """The raw value at each x of the drawn (smoothed) curve: the raw curve is downsampled on
    its own, so it is looked up by x (NaN where the raw curve kept no point there)."""
    raw = np.full(trace.x.size, np.nan)
    if trace.raw_x.size and trace.x.size:
        at = np.clip(np.searchsorted(trace.raw_x, trace.x), 0, trace.raw_x.size - 1)
        same = trace.raw_x[at] == trace.x
        raw[same] = trace.raw_y[at[same]]
    return raw


def _has_validation(info, trace) -> bool:
    return any(
        other.label == trace.label and other.metric == trace.metric and other.role == "validation"
        for other in info.traces
    )


def plot_curves(info, *, title: str | None = None, log_y: bool = False) -> go.Figure:
    """Training (solid) and validation (dashed) curves, one colour per run, divergence marked.

    Non-finite values cannot be drawn as points, so each run's first NaN/Inf is marked with an
    ``x`` at the top of the axis and named in the hover text, instead of silently vanishing.
    """
    figure = go.Figure()
    runs = list(dict.fromkeys(curve.run for curve in info.curves))
    for curve in info.curves:
        color = color_for(runs.index(curve.run))
        finite = np.isfinite(curve.values)
        name = f"{curve.run} · {curve.role}" if len(runs) > 1 else curve.role
        figure.add_trace(
            go.Scatter(
                x=curve.steps,
                y=np.where(finite, curve.values, np.nan),
                mode="lines+markers" if curve.steps.size <= 60 else "lines",
                name=name,
                line={
                    "color": color,
                    "dash": "solid" if curve.role == "train" else "dash",
                    "width": 2,
                },
                marker={"size": 5},
                hovertemplate=f"{name}<br>step %{{x}}<br>{info.metric} %{{y:.4g}}<extra></extra>",
            )
        )
        diverged = curve.first_nonfinite_step
        if diverged is not None:
            figure.add_trace(
                go.Scatter(
                    x=[diverged],
                    y=[np.nanmax(np.where(finite, curve.values, np.nan)) if finite.any() else 0.0],
                    mode="markers+text",
                    marker={"symbol": "x", "size": 12, "color": color},
                    text=["diverged"],
                    textposition="top center",
                    name=f"{name}: NaN/Inf from step {diverged}",
                    hovertemplate=f"{name} became NaN/Inf at step {diverged}<extra></extra>",
                )
            )
    figure.update_layout(
        **base_layout(title or f"{info.metric} per epoch"),
        xaxis_title="epoch",
        yaxis_title=info.metric + (" (log scale)" if log_y else ""),
        yaxis_type="log" if log_y else "linear",
    )
    if log_y:
        figure.update_yaxes(**log_axis_ticks(*(curve.values for curve in info.curves)))
    return figure


# --- the tables behind the training page's charts ------------------------------------------------


def readable_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A table as text: numbers to 4 significant digits, missing values as a dash."""

    def text(value) -> str:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return "—"
        if isinstance(value, (bool, np.bool_)):
            return str(value)
        if isinstance(value, (int, np.integer)):
            return f"{value:,}"
        if isinstance(value, (float, np.floating)):
            if np.isfinite(value) and abs(value) >= 1000:
                return f"{value:,.0f}" if abs(value) >= 10_000 else f"{value:,.1f}"
            return f"{value:.4g}"
        return str(value)

    return frame.map(text)


def early_stopping_table(report) -> pd.DataFrame:
    """The monitored metric per epoch, training and validation where logged."""
    table = {"epoch": report.epochs}
    if report.train_values is not None:
        table["train"] = report.train_values
    if report.validation_values is not None:
        table["validation"] = report.validation_values
    return pd.DataFrame(table)


def early_stopping_runs_table(reports: Mapping, metric: str, patience: int) -> pd.DataFrame:
    """One row per run (``reports``: run name -> its EarlyStoppingReport, in order): what the
    same EarlyStopping settings would have done to each."""
    return pd.DataFrame(
        [
            {
                "run": run,
                "monitored": report.monitored,
                f"best {metric}": report.best_value,
                "best epoch": report.best_epoch,
                f"stops after (patience {int(patience)})": report.early_stopping.stopped_epoch,
                "epochs saved": report.epochs_saved,
                "overfitting from": report.overfitting_onset,
                "diverged at": report.divergence_epoch,
            }
            for run, report in reports.items()
        ]
    )


def correlations_table(info) -> pd.DataFrame:
    """The correlation matrix, series by series."""
    return pd.DataFrame(info.matrix, index=list(info.names), columns=list(info.names))


def convergence_table(info, column: str) -> pd.DataFrame:
    """The series (named ``column``) per epoch beside the fitted curve."""
    return pd.DataFrame({"epoch": info.epochs, column: info.values, "fitted": info.fitted_values})


def optimizer_comparison_table(info) -> pd.DataFrame:
    """One row per run of an optimizer comparison."""
    return pd.DataFrame(info.summary_rows())


def dead_units_table(info) -> pd.DataFrame:
    """One row per layer at the info's epoch: units, dead, shares, the dead units, notes."""
    return pd.DataFrame(dead_unit_rows(info))


def dead_units_text_table(info) -> pd.DataFrame:
    """:func:`dead_units_table` as the page shows it: shares as percentages, numbers as text,
    indexed by layer."""
    frame = dead_units_table(info)
    shown = frame.assign(
        **{
            column: frame[column].map(lambda v: "—" if v is None or pd.isna(v) else f"{v:.0%}")
            for column in ("share dead", "utilization")
        }
    ).rename(columns={"utilization": "utilization (share not zero)"})
    return readable_table(shown).set_index("layer")


def most_dead_layer(info) -> int:
    """The layer to show first: the one with the most dead units at any epoch, counting only
    layers that make their own zeros (not pooling or flatten passing a ReLU's on)."""
    if not info.layers:
        return 0
    most_dead = np.nan_to_num(info.num_dead.astype(float), nan=0.0).max(axis=1, initial=0)
    own = np.array([unit.inherited_from is None for unit in info.units], dtype=bool)
    return int(np.where(own, most_dead, -1.0).argmax())
