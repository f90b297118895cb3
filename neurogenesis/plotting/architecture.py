"""Architecture figures: per-layer costs. Drawing only: no TensorFlow, no Streamlit."""

from __future__ import annotations

import plotly.graph_objects as go

from neurogenesis.plotting.style import base_layout, color_for

__all__ = ["COST_LABELS", "plot_layer_costs"]

COST_LABELS = {
    "macs": "multiply-accumulates per sample",
    "num_params": "parameters",
    "activation_bytes": "activation memory per sample (bytes)",
    "weight_bytes": "weight memory (bytes)",
}


def plot_layer_costs(info, cost: str = "macs", *, skip_zero: bool = True) -> go.Figure:
    """One horizontal bar per layer, in graph order, sized by ``cost``, with its share of the total.

    Args:
        info: an ``ArchitectureInfo``.
        cost: one of ``COST_LABELS``.
        skip_zero: leave out layers that cost nothing (pooling, activations, ...).
    """
    if cost not in COST_LABELS:
        raise ValueError(f"Expected a cost in {sorted(COST_LABELS)}. Received: {cost!r}")
    layers = [layer for layer in info.layers if (getattr(layer, cost) or 0) > 0 or not skip_zero]
    values = [int(getattr(layer, cost) or 0) for layer in layers]
    total = sum(values) or 1
    labels = [f"{layer.name} ({layer.class_name})" for layer in layers]
    figure = go.Figure(
        go.Bar(
            x=values,
            y=labels,
            orientation="h",
            marker={"color": color_for(0)},
            text=[f"{value / total:.1%}" for value in values],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}<br>%{x:,}<extra></extra>",
        )
    )
    layout = base_layout(f"{COST_LABELS[cost].capitalize()} by layer")
    layout["hovermode"] = "closest"
    figure.update_layout(
        **layout,
        xaxis_title=COST_LABELS[cost],
        yaxis={"autorange": "reversed", "automargin": True},
        height=max(300, 26 * len(layers) + 120),
        showlegend=False,
    )
    return figure
