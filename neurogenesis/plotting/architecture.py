"""Architecture figures: per-layer costs. Drawing only: no TensorFlow, no Streamlit."""

from __future__ import annotations

import math

import plotly.graph_objects as go

from neurogenesis.analysis.architecture import shape_text
from neurogenesis.plotting.style import PALETTE, base_layout, color_for

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


# Layer families share a colour, so a reader sees the structure (convolutions, normalisation, ...);
# the colour of a family is the same in every model.
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
FAMILY_COLORS = {
    "convolution": PALETTE[0],
    "dense": PALETTE[1],
    "recurrent": PALETTE[2],
    "attention": PALETTE[3],
    "normalization": PALETTE[4],
    "pooling": PALETTE[5],
    "merge": PALETTE[6],
    "input": PALETTE[7],
    "other": "#9AA0A6",
    "block": "#5D3A9B",
    "nested model": "#2F4858",
}
MAX_LABELLED_NODES = 60
MAX_LABELLED_EDGES = 40
DIRECTIONS = ("left to right", "top down")


def family(class_name: str) -> str:
    """The family a layer class is drawn as (``'convolution'``, ``'block'``, ...)."""
    if class_name == "Block":
        return "block"
    if class_name == "Model":
        return "nested model"
    for name, needles in FAMILIES:
        if any(needle in class_name for needle in needles):
            return name
    return "other"


def human(value: float | None, unit: str = "") -> str:
    """``25636712`` -> ``"25.6 M"``: three significant figures from a thousand up; bytes as
    ``"40.3 kB"`` with ``unit="B"``; None as ``"unknown"``."""
    if value is None:
        return "unknown"
    suffixes = ("", "k", "M", "G", "T")
    scaled, index = float(value), 0
    # 999,999 is "1 M", not "1e+03 k".
    while abs(scaled) >= 999.5 and index < len(suffixes) - 1:
        scaled, index = scaled / 1000, index + 1
    if index == 0:
        return f"{value:,.0f} {unit}".rstrip()
    return f"{scaled:.3g} {suffixes[index]}{unit}"


def _node_label(node) -> str:
    label = node.name if node.num_layers == 1 else f"{node.name} ({node.num_layers})"
    return f"{label}<br>{human(node.num_params)} params" if node.num_params else label


def plot_graph(info, *, direction: str = "top down") -> go.Figure:
    """The layered graph: nodes coloured by layer family, tensor shapes on the edges.

    Collapsed blocks are larger squares labelled with their number of layers. Zoom and pan with
    the mouse; names and parameters are written on the nodes for graphs of up to
    ``MAX_LABELLED_NODES`` nodes and shapes on the edges for up to ``MAX_LABELLED_EDGES`` edges
    (beyond that they would overlap; hover tells them). Each node's ``customdata[0]`` is its index
    in ``info.nodes``, for click handling.

    Args:
        info: a ``GraphInfo``.
        direction: ``'left to right'`` or ``'top down'``.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"Expected a direction in {DIRECTIONS}. Received: {direction!r}")
    across = direction == "left to right"

    def place(column: float, row: float) -> tuple[float, float]:
        return (column, -row) if across else (row, -column)

    figure = go.Figure()
    xs, ys, mid_x, mid_y, mid_text = [], [], [], [], []
    for edge in info.edges:
        source, target = info.nodes[edge.source], info.nodes[edge.target]
        (x0, y0), (x1, y1) = place(source.column, source.row), place(target.column, target.row)
        xs += [x0, x1, None]
        ys += [y0, y1, None]
        mid_x.append((x0 + x1) / 2)
        mid_y.append((y0 + y1) / 2)
        mid_text.append(shape_text(edge.shape))
    figure.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines",
            line={"color": "#B0B7C3", "width": 1},
            hoverinfo="skip",
            showlegend=False,
            name="edges",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=mid_x,
            y=mid_y,
            mode="text" if len(info.edges) <= MAX_LABELLED_EDGES else "markers",
            text=mid_text,
            textposition="bottom center" if across else "middle left",
            textfont={"size": 9, "color": "#6B7280"},
            marker={"size": 6, "color": "rgba(0,0,0,0)"},
            hovertemplate="tensor %{text}<extra></extra>",
            showlegend=False,
            name="shapes",
        )
    )
    families = [family(node.class_name) for node in info.nodes]
    labelled = len(info.nodes) <= MAX_LABELLED_NODES
    for name in FAMILY_COLORS:
        members = [node for node, f in zip(info.nodes, families, strict=True) if f == name]
        if not members:
            continue
        points = [place(node.column, node.row) for node in members]
        blocks = name in ("block", "nested model")
        figure.add_trace(
            go.Scatter(
                x=[x for x, _ in points],
                y=[y for _, y in points],
                mode="markers+text" if labelled else "markers",
                text=[_node_label(node) for node in members] if labelled else None,
                # Left to right, alternate above and below so neighbours' names do not collide.
                textposition=[
                    ("top center" if node.column % 2 == 0 else "bottom center")
                    if across
                    else "middle right"
                    for node in members
                ],
                textfont={"size": 10},
                marker={
                    "size": 24 if blocks else 14,
                    "color": FAMILY_COLORS[name],
                    "line": {"width": 1, "color": "white"},
                    "symbol": "square",
                },
                name=name,
                customdata=[
                    (
                        node.index,
                        node.name,
                        node.class_name
                        if node.num_layers == 1
                        else f"{node.class_name.lower()} of {node.num_layers} layers (click to open)",
                        shape_text(node.output_shape),
                        f"{node.num_params:,}",
                        f"{node.macs:,}",
                    )
                    for node in members
                ],
                hovertemplate=(
                    "<b>%{customdata[1]}</b><br>%{customdata[2]}<br>output %{customdata[3]}<br>"
                    "parameters %{customdata[4]}<br>MACs %{customdata[5]}<extra></extra>"
                ),
            )
        )
    blocks_closed = sum(node.num_layers > 1 or node.group is not None for node in info.nodes)
    title = f"{info.name}: {len(info.nodes)} nodes, {info.num_columns} deep"
    if blocks_closed:
        title += f" ({blocks_closed} blocks closed)"
    layout = base_layout(title)
    layout["hovermode"] = "closest"
    spread = (
        max((node.row for node in info.nodes), default=0)
        - min((node.row for node in info.nodes), default=0)
        + 1
    )
    layout["legend"] = {"orientation": "h", "yanchor": "top", "y": -0.02, "x": 0.0}
    low = min((node.row for node in info.nodes), default=0)
    high = max((node.row for node in info.nodes), default=0)
    hidden = {"visible": False}
    depth_axis = {"title": "depth (input → output)", "showgrid": False, "zeroline": False}
    figure.update_layout(
        **layout,
        xaxis=depth_axis if across else {**hidden, "range": [low - 0.8, high + 1.4]},
        # Room on the right of the last column for its names (top down, names sit right).
        yaxis={**hidden, "range": [-high - 0.8, -low + 0.8]} if across else hidden,
        # Tall enough for the widest column (or the deepest path, top down), no taller.
        height=int(200 + 70 * spread) if across else int(200 + 60 * min(info.num_columns, 40)),
        dragmode="pan",
        clickmode="event+select",
    )
    if info.num_columns > 40:  # start zoomed on the input side; pan or zoom out for the rest
        if across:
            figure.update_xaxes(range=[-1, 40])
        else:
            figure.update_yaxes(range=[-40, 1])
    return figure


BLOCK_SIZES = {"macs": "multiply-accumulates", "num_params": "parameters"}


def plot_block_diagram(graph, size_by: str = "macs") -> go.Figure:
    """The model as nested blocks, left to right in graph order, each as wide as its cost.

    An icicle: the model on top, its blocks (stages, nested models) below it and their layers
    below them; a box's width is its share of the parameters or the compute. Click a block to
    zoom into it. Layers that cost nothing have no width.

    Args:
        graph: a ``ModelGraph`` (every layer call, with the blocks it belongs to).
        size_by: ``'macs'`` or ``'num_params'``.
    """
    if size_by not in BLOCK_SIZES:
        raise ValueError(f"Expected size_by in {sorted(BLOCK_SIZES)}. Received: {size_by!r}")
    totals: dict[str, int] = {group.id: 0 for group in graph.groups}
    for unit in graph.units:
        for group_id in unit.path:
            totals[group_id] += getattr(unit, size_by)
    grand = sum(getattr(unit, size_by) for unit in graph.units)
    ids, labels, parents, values, colors, hover = ["model"], [graph.name], [""], [grand], [""], []
    hover.append(f"{human(grand)} {BLOCK_SIZES[size_by]}")
    groups = {group.id: group for group in graph.groups}
    shades = ("#5D3A9B", "#8E6CC0", "#B9A3DA", "#D8CCEB")
    emitted: set[str] = set()
    for unit in graph.units:  # graph order: each block where its first layer is
        for depth, group_id in enumerate(unit.path):
            if group_id in emitted or totals[group_id] <= 0:
                continue
            emitted.add(group_id)
            group = groups[group_id]
            ids.append("group:" + group_id)
            labels.append(group.label)
            parents.append("group:" + group.parent if group.parent else "model")
            values.append(totals[group_id])
            colors.append(
                FAMILY_COLORS["nested model"]
                if group.kind == "model"
                else shades[min(depth, len(shades) - 1)]
            )
            hover.append(f"block, {human(totals[group_id])} {BLOCK_SIZES[size_by]}")
        value = getattr(unit, size_by)
        if value <= 0:
            continue
        ids.append(f"unit:{unit.index}")
        labels.append(unit.name)
        parents.append("group:" + unit.path[-1] if unit.path else "model")
        values.append(value)
        colors.append(FAMILY_COLORS[family(unit.class_name)])
        hover.append(
            f"{unit.class_name}, output {shape_text(unit.output_shape)}<br>"
            f"{human(value)} {BLOCK_SIZES[size_by]}"
        )
    # Keep graph order (sort=False) but list parents before children, as plotly needs.
    figure = go.Figure(
        go.Icicle(
            ids=ids,
            labels=labels,
            parents=parents,
            values=values,
            branchvalues="total",
            sort=False,
            tiling={"orientation": "v"},
            marker={"colors": ["#E5E7EB", *colors[1:]]},
            customdata=hover,
            hovertemplate="<b>%{label}</b><br>%{customdata}<br>%{percentRoot:.1%} of the model"
            "<extra></extra>",
            texttemplate="%{label}<br>%{percentRoot:.0%}",
            maxdepth=3,
        )
    )
    layout = base_layout(f"{graph.name}: blocks sized by {BLOCK_SIZES[size_by]}")
    layout["margin"] = {"l": 10, "r": 10, "t": 50, "b": 10}
    figure.update_layout(**layout, height=520)
    return figure


def _box(x0: float, dx: float, dy: float, dz: float):
    """The 8 corners and 12 triangles of an axis-aligned box centred on the x axis."""
    corners = [
        (x, y, z) for x in (x0, x0 + dx) for y in (-dy / 2, dy / 2) for z in (-dz / 2, dz / 2)
    ]
    # Two triangles per face, as corner indices (x-major order above).
    faces = [
        (0, 1, 3), (0, 3, 2), (4, 6, 7), (4, 7, 5),  # x = x0, x = x0 + dx
        (0, 4, 5), (0, 5, 1), (2, 3, 7), (2, 7, 6),  # y low, y high
        (0, 2, 6), (0, 6, 4), (1, 5, 7), (1, 7, 3),  # z low, z high
    ]  # fmt: skip
    return corners, faces


def _extent(shape: tuple) -> tuple[float, float, float] | None:
    """Box (thickness, height, depth) for an output shape: spatial sides by square root, channels
    by logarithm, so that 224 x 224 x 64 and 7 x 7 x 2048 both stay visible."""
    if not shape or any(isinstance(item, tuple) for item in shape):
        return None
    dims = [1 if dim is None else int(dim) for dim in shape[1:]]
    if not dims:
        return None
    channels = dims[-1]
    spatial = dims[:-1]
    thickness = 0.3 + 0.35 * math.log2(channels + 1)
    if not spatial:  # a vector: a thin slab as tall as its length allows
        return 0.4, max(1.0, math.sqrt(channels) / 2), 1.0
    height = math.sqrt(spatial[0])
    depth = math.sqrt(spatial[1]) if len(spatial) > 1 else 1.0
    return thickness, max(height, 0.5), max(depth, 0.5)


def plot_layer_stack_3d(graph, *, only_changes: bool = True) -> go.Figure:
    """The layer stack in 3D: one box per layer output, in graph order along the x axis.

    A box's height and depth follow the output's spatial size (square root), its thickness the
    number of channels (logarithm); a vector output is a thin slab. Drag to rotate.

    Args:
        graph: a ``ModelGraph``.
        only_changes: draw only layers that compute (convolution, dense, attention, recurrent)
            or change the shape; activations, normalisation and dropout would repeat the box
            before them.
    """
    vertices: list[tuple[float, float, float]] = []
    triangles: list[tuple[int, int, int]] = []
    face_colors: list[str] = []
    hover_x, hover_y, hover_text = [], [], []
    position, previous = 0.0, None
    for unit in graph.units:
        extent = _extent(unit.output_shape)
        if extent is None:
            continue
        computes = family(unit.class_name) in ("convolution", "dense", "attention", "recurrent")
        if only_changes and not computes and unit.output_shape == previous:
            continue
        previous = unit.output_shape
        thickness, height, depth = extent
        corners, faces = _box(position, thickness, height, depth)
        base = len(vertices)
        vertices += corners
        triangles += [(base + a, base + b, base + c) for a, b, c in faces]
        face_colors += [FAMILY_COLORS[family(unit.class_name)]] * len(faces)
        hover_x.append(position + thickness / 2)
        hover_y.append(height / 2)
        hover_text.append(
            f"<b>{unit.name}</b><br>{unit.class_name}<br>output {shape_text(unit.output_shape)}"
            f"<br>parameters {unit.num_params:,}"
        )
        position += thickness + 0.6
    figure = go.Figure()
    if vertices:
        xs, ys, zs = zip(*vertices, strict=True)
        i, j, k = zip(*triangles, strict=True)
        figure.add_trace(
            go.Mesh3d(
                x=xs,
                y=ys,
                z=zs,
                i=i,
                j=j,
                k=k,
                facecolor=face_colors,
                flatshading=True,
                opacity=0.9,
                hoverinfo="skip",
                name="layers",
            )
        )
        figure.add_trace(
            go.Scatter3d(
                x=hover_x,
                y=hover_y,
                z=[0.0] * len(hover_x),
                mode="markers",
                marker={"size": 3, "color": "#374151"},
                text=hover_text,
                hovertemplate="%{text}<extra></extra>",
                name="layer outputs",
                showlegend=False,
            )
        )
    layout = base_layout(f"{graph.name}: {len(hover_text)} layer outputs as boxes")
    layout["hovermode"] = "closest"
    hidden = {"visible": False}
    figure.update_layout(
        **layout,
        height=520,
        scene={
            "xaxis": {"title": "depth (input → output)", "showticklabels": False},
            "yaxis": hidden,
            "zaxis": hidden,
            # Long stacks would be a thin line at their true proportions: squeeze the length.
            "aspectmode": "manual",
            "aspectratio": {"x": 3.0, "y": 1.0, "z": 1.0},
            "camera": {"eye": {"x": -0.6, "y": -2.2, "z": 1.0}},
        },
    )
    return figure


def plot_weight_histograms(details) -> go.Figure:
    """One histogram per weight tensor of a layer (kernel, bias, ...), with its statistics."""
    from plotly.subplots import make_subplots

    weights = [weight for weight in details.weights if weight.histogram_counts]
    if not weights:
        figure = go.Figure()
        figure.update_layout(
            **base_layout(f"{details.name} has no weights"),
            height=160,
            xaxis={"visible": False},
            yaxis={"visible": False},
        )
        return figure
    titles = [
        f"{weight.name.split('/')[-1]} {'×'.join(map(str, weight.shape)) or 'scalar'}: "
        f"mean {weight.mean:.3g}, std {weight.std:.3g}, min {weight.min:.3g}, max {weight.max:.3g}"
        for weight in weights
    ]
    figure = make_subplots(rows=len(weights), cols=1, subplot_titles=titles, vertical_spacing=0.12)
    for row, weight in enumerate(weights, start=1):
        edges = weight.histogram_edges
        centres = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:], strict=True)]
        figure.add_trace(
            go.Bar(
                x=centres,
                y=weight.histogram_counts,
                width=[b - a for a, b in zip(edges[:-1], edges[1:], strict=True)],
                marker={"color": color_for(row - 1)},
                name=weight.name,
                hovertemplate="%{x:.4g}: %{y:,} values<extra></extra>",
                showlegend=False,
            ),
            row=row,
            col=1,
        )
    layout = base_layout(f"{details.name}: weight values")
    layout["hovermode"] = "closest"
    figure.update_layout(**layout, height=120 + 200 * len(weights), bargap=0)
    figure.update_annotations(font_size=11)
    return figure
