"""Training curves as Plotly figures. Drawing only: no TensorFlow, no Streamlit."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from neurogenesis.plotting.style import base_layout, color_for

__all__ = ["plot_curves"]


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
        yaxis_title=info.metric,
        yaxis_type="log" if log_y else "linear",
    )
    return figure
