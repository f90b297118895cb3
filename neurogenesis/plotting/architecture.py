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


# Layer families share a colour, so a reader sees the structure (convolutions, normalisation, ...).
FAMILIES = (
    ("convolution", ("Conv",)),
    ("dense", ("Dense",)),
    ("attention", ("Attention",)),
    ("recurrent", ("LSTM", "GRU", "RNN")),
    ("normalization", ("Normalization",)),
    ("pooling", ("Pooling",)),
    ("merge", ("Add", "Concatenate", "Multiply", "Average", "Subtract", "Maximum", "Minimum")),
    ("input", ("InputLayer",)),
)
MAX_LABELLED_NODES = 60


def _family(class_name: str) -> str:
    for family, needles in FAMILIES:
        if any(needle in class_name for needle in needles):
            return family
    return "other"


def _shape_text(shape) -> str:
    if shape and all(isinstance(item, tuple) for item in shape):
        return ", ".join(_shape_text(item) for item in shape)
    return "(" + ", ".join("None" if dim is None else str(dim) for dim in shape) + ")"


def plot_graph(info) -> go.Figure:
    """The layered graph, left to right: nodes coloured by layer family, shapes and costs on hover.

    Zoom and pan with the mouse; names are written beside the nodes for graphs of up to
    ``MAX_LABELLED_NODES`` nodes (beyond that they would overlap, and hover tells them).
    """
    figure = go.Figure()
    xs, ys = [], []
    for edge in info.edges:
        source, target = info.nodes[edge.source], info.nodes[edge.target]
        xs += [source.column, target.column, None]
        ys += [source.row, target.row, None]
    figure.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines",
            line={"color": "#B0B7C3", "width": 1},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    families = [_family(node.class_name) for node in info.nodes]
    labelled = len(info.nodes) <= MAX_LABELLED_NODES
    for position, family in enumerate(dict.fromkeys(families)):
        members = [node for node, f in zip(info.nodes, families, strict=True) if f == family]
        figure.add_trace(
            go.Scatter(
                x=[node.column for node in members],
                y=[node.row for node in members],
                mode="markers+text" if labelled else "markers",
                text=[node.name for node in members] if labelled else None,
                textposition="top center",
                textfont={"size": 10},
                marker={
                    "size": 14,
                    "color": color_for(position),
                    "line": {"width": 1, "color": "white"},
                    "symbol": "square",
                },
                name=family,
                customdata=[
                    (
                        node.name,
                        node.class_name,
                        _shape_text(node.output_shape),
                        f"{node.num_params:,}",
                        f"{node.macs:,}",
                    )
                    for node in members
                ],
                hovertemplate=(
                    "<b>%{customdata[0]}</b><br>%{customdata[1]}<br>output %{customdata[2]}<br>"
                    "parameters %{customdata[3]}<br>MACs %{customdata[4]}<extra></extra>"
                ),
            )
        )
    layout = base_layout(f"{info.name}: {len(info.nodes)} layer calls, {info.num_columns} deep")
    layout["hovermode"] = "closest"
    figure.update_layout(
        **layout,
        xaxis={"title": "depth (input → output)", "showgrid": False, "zeroline": False},
        yaxis={"visible": False},
        # Tall enough for the widest column, no taller: a chain of layers needs one row.
        height=int(
            200
            + 70
            * (
                max((node.row for node in info.nodes), default=0)
                - min((node.row for node in info.nodes), default=0)
                + 1
            )
        ),
        dragmode="pan",
    )
    if not labelled:
        figure.update_xaxes(range=[-1, min(info.num_columns, 40)])  # start zoomed on the input side
    return figure
