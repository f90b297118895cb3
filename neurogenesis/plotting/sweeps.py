"""Sweep figures: parameters, compute and a recorded metric across a width or depth knob, and the
same numbers as a table (:func:`sweep_table`)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from neurogenesis.analysis.sweeps import SweepInfo
from neurogenesis.plotting.architecture import human
from neurogenesis.plotting.style import base_layout, color_for

__all__ = ["plot_sweep", "sweep_table"]


def plot_sweep(info) -> go.Figure:
    """Parameters and multiply-accumulates against the swept knob (log scales, one panel), and
    the recorded metric against it in a second panel when the sweep has one.

    Args:
        info: a ``SweepInfo`` (``neurogenesis.analysis.sweeps``).
    """
    has_metric = bool(info.metric) and any(value is not None for value in info.metric_values)
    figure = make_subplots(
        rows=2 if has_metric else 1,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        specs=[[{"secondary_y": True}]] + ([[{}]] if has_metric else []),
    )
    x = list(info.multipliers)
    # Parameters on the left axis, multiply-accumulates (dashed) on the right.
    costs = (
        (info.num_params, "parameters", "parameters", {}, False),
        (info.macs, "multiply-accumulates", "MACs per sample", {"dash": "dash"}, True),
    )
    for index, (values, name, unit, dash, secondary) in enumerate(costs):
        figure.add_trace(
            go.Scatter(
                x=x,
                y=list(values),
                name=name,
                mode="lines+markers",
                line={"color": color_for(index), **dash},
                customdata=[f"{human(value)} {unit} ({value:,})" for value in values],
                hovertemplate="%{x}: %{customdata}<extra></extra>",
            ),
            row=1,
            col=1,
            secondary_y=secondary,
        )
    # Log scales show how cost grows (about the square of a width multiplier); ticks at 1, 2, 5.
    ticks = {"type": "log", "dtick": "D2", "tickformat": "~s"}
    figure.update_yaxes(title_text="parameters", row=1, col=1, secondary_y=False, **ticks)
    figure.update_yaxes(
        title_text="MACs per sample", row=1, col=1, secondary_y=True, showgrid=False, **ticks
    )
    if has_metric:
        rates = list(info.best_learning_rates) or [None] * len(x)
        figure.add_trace(
            go.Scatter(
                x=x,
                y=[value for value in info.metric_values],
                name=f"best {info.metric}",
                mode="lines+markers",
                line={"color": color_for(2)},
                customdata=["" if rate is None else f" (learning rate {rate:g})" for rate in rates],
                hovertemplate=f"%{{x}}: {info.metric} %{{y:.4g}}%{{customdata}}<extra></extra>",
            ),
            row=2,
            col=1,
        )
        better = "higher" if info.goal == "max" else "lower"
        figure.update_yaxes(title_text=f"{info.metric} ({better} is better)", row=2, col=1)
    log_x = min(x) > 0 and max(x) / min(x) >= 8
    figure.update_xaxes(type="log" if log_x else "linear", tickvals=x)
    figure.update_xaxes(title_text=info.parameter, row=2 if has_metric else 1, col=1)
    title = f"{info.name}: size, compute" + (f" and best {info.metric}" if has_metric else "")
    layout = base_layout(f"{title} by {info.parameter}")
    layout["hovermode"] = "x unified"
    # The legend on a row of its own under the title: below the plot it met the x axis's title.
    layout["legend"] = {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0.0}
    layout["margin"] = {**layout["margin"], "t": 80}
    figure.update_layout(**layout, height=640 if has_metric else 400)
    return figure


def sweep_table(info: SweepInfo) -> pd.DataFrame:
    """One row per value of the knob: the variant's parameters, multiply-accumulates per sample,
    weight and activation bytes and layers with weights; with a recorded metric, its best value
    there and the learning rate that gave it.

    Raises:
        TypeError: ``info`` is not a ``SweepInfo``.
    """
    if not isinstance(info, SweepInfo):
        raise TypeError(f"sweep_table expects a SweepInfo. Received: {type(info).__name__}.")
    table = {
        info.parameter: list(info.multipliers),
        "parameters": list(info.num_params),
        "MACs per sample": list(info.macs),
        "weight bytes": list(info.weight_bytes),
        "activation bytes per sample": list(info.activation_bytes),
        "layers with weights": list(info.num_layers),
    }
    if info.metric:
        count = len(info.multipliers)
        table[f"best {info.metric}"] = list(info.metric_values) or [None] * count
        table["learning rate"] = list(info.best_learning_rates) or [None] * count
    return pd.DataFrame(table)
