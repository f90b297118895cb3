"""Architecture figures: per-layer costs. Drawing only: no TensorFlow, no Streamlit."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from neurogenesis.analysis.architecture import shape_text
from neurogenesis.plotting.style import PALETTE, base_layout, color_for, escaped, rgb_of

__all__ = [
    "COST_LABELS",
    "builder_table",
    "graph_geometry",
    "layer_table",
    "layer_totals_table",
    "memory_totals",
    "plot_graph",
    "plot_layer_costs",
    "setting_text",
    "text_width",
    "weights_table",
]

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
        yaxis={"autorange": "reversed", "automargin": True, "title": "layer (class)"},
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
MAX_TEXT_CHARS = 40
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


# The graph is drawn in pixels: one axis unit is one screen pixel (the axes are locked 1:1), so a
# box sized to its text here holds that text in the browser. Fonts are Arial's metrics (Liberation
# Sans on Linux has the same widths), measured per character below.
GRAPH_FONT = "Arial, 'Liberation Sans', Helvetica, sans-serif"
NODE_FONT_SIZE = 12
EDGE_FONT_SIZE = 11
LINE_SPACING = 1.3  # Plotly's line height, in font sizes
BOX_PADDING_X = 10
BOX_PADDING_Y = 5
MIN_BOX_WIDTH = 120
DETAILS_WRAP_WIDTH = 200  # px: the key attributes wrap onto a new line past this width
CROSS_GAP = 40  # px between neighbouring boxes of one level
LEVEL_GAP = 46  # px between levels, top down: the tensor shapes sit here, above the arrows
LANE_GAP = 14  # px between a column and a side lane, and between two lanes
LABEL_OFFSET = 5  # px between an edge and its shape label
ARROW_LENGTH = 7
GRAPH_PAD = 16
MAX_GRAPH_HEIGHT = 3600  # px; a taller graph opens on its inputs, pan down for the rest
VIEW_SIZE = (860, 640)  # px: the window around a found layer, and across a wide graph
GRAPH_MARGIN = {"l": 10, "r": 10, "t": 84, "b": 10}
MIN_GRAPH_WIDTH = 640  # px: the legend is laid out for a column this narrow
LEGEND_ROW = 24  # px
EDGE_COLOR = "#8A94A6"
LABEL_COLOR = "#4B5563"
DETAIL_COLOR = "#4B5563"
FOCUS_COLOR = "#E11D48"

# Advance widths of Arial / Liberation Sans, in thousandths of the font size, for ' ' to '~'.
_REGULAR_WIDTHS = (
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
)  # fmt: skip
_BOLD_WIDTHS = (
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611,
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556,
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
)  # fmt: skip
_OTHER_WIDTHS = {"×": 584, "·": 278, "…": 1000, "→": 1000, "−": 584}


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """The width in pixels of one line of ``text`` in the graph's font (Arial metrics)."""
    import unicodedata

    table = _BOLD_WIDTHS if bold else _REGULAR_WIDTHS
    total = 0
    for character in text:
        code = ord(character)
        if 32 <= code < 127:
            total += table[code - 32]
        elif character in _OTHER_WIDTHS:
            total += _OTHER_WIDTHS[character]
        else:
            total += 1000 if unicodedata.east_asian_width(character) in "WF" else 611
    return total * size / 1000


def _clipped(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number_text(value: str) -> str:
    return f"{int(value):,}" if value.isdigit() else value


ATTRIBUTE_FORMATS = {
    "filters": "{} filters",
    "kernel": "{} kernel",
    "strides": "stride {}",
    "dilation": "dilation {}",
    "units": "{} units",
    "heads": "{} heads",
    "vocabulary": "vocabulary {}",
    "pool": "pool {}",
    "activation": "{}",
    "sequences": "{}",
}


def attribute_text(name: str, value: str) -> str:
    """``("filters", "16")`` -> ``"16 filters"``; ``("activation", "relu")`` -> ``"relu"``."""
    return ATTRIBUTE_FORMATS.get(name, name + " {}").format(_number_text(value))


def _wrapped(items: list[str], width: float) -> list[str]:
    lines: list[str] = []
    for item in items:
        joined = f"{lines[-1]} · {item}" if lines else item
        if lines and text_width(joined, NODE_FONT_SIZE) <= width:
            lines[-1] = joined
        else:
            lines.append(item)
    return lines


def _is_block(node) -> bool:
    return node.group is not None or node.num_layers > 1


def node_text(node) -> tuple[str, list[str]]:
    """A node's box text: its class (the header) and its lines (name, key attributes, parameters),
    unescaped. A closed block's header says what it is and how many layers it holds."""
    if _is_block(node):
        kind = "nested model" if node.class_name == "Model" else "block"
        count = f"{node.num_layers} layer" + ("" if node.num_layers == 1 else "s")
        header = f"{kind} · {count}"
    else:
        header = node.class_name
    details = [attribute_text(name, value) for name, value in node.attributes]
    if node.class_name == "InputLayer" and not details:
        details = [shape_text(node.output_shape)]
    lines = [
        _clipped(node.name),
        *_wrapped([_clipped(item) for item in details], DETAILS_WRAP_WIDTH),
    ]
    if node.num_params:
        lines.append(f"{node.num_params:,} params")
    if _is_block(node):
        lines.append("click to open")
    return _clipped(header), lines


def _line_height(size: float) -> float:
    return size * LINE_SPACING


def _box_size(header: str, lines: list[str]) -> tuple[float, float, float]:
    """(width, height, header height) of a node's box in pixels."""
    widths = [text_width(header, NODE_FONT_SIZE, bold=True)]
    widths += [text_width(line, NODE_FONT_SIZE) for line in lines]
    width = max(MIN_BOX_WIDTH, max(widths) + 2 * BOX_PADDING_X)
    header_height = _line_height(NODE_FONT_SIZE) + 2 * BOX_PADDING_Y
    height = header_height + len(lines) * _line_height(NODE_FONT_SIZE) + 2 * BOX_PADDING_Y
    return math.ceil(width), math.ceil(height), header_height


def _label_size(text: str) -> tuple[float, float]:
    """An edge label's box: the text plus Plotly's annotation padding (1 px) and a margin."""
    return text_width(text, EDGE_FONT_SIZE) + 6, _line_height(EDGE_FONT_SIZE) + 6


def _dark_text(color: str) -> bool:
    red, green, blue = rgb_of(color)
    return 0.299 * red + 0.587 * green + 0.114 * blue > 150


def _curve(d0: float, c0: float, d1: float, c1: float) -> list[tuple]:
    """An S-curve from (d0, c0) to (d1, c1) leaving and arriving along the depth axis."""
    if abs(c1 - c0) < 0.5:
        return [("L", (d1, c1))]
    middle = (d0 + d1) / 2
    return [("C", (middle, c0), (middle, c1), (d1, c1))]


def graph_geometry(info, *, direction: str = "top down") -> dict:
    """Where every box, edge and label of the graph goes, in screen pixels (y grows upwards).

    Each level (a node's ``column``: its longest path from an input) is a band across the depth
    axis, as deep as its deepest box; boxes sit at the band's start, ``row`` apart across it.
    Edges between neighbouring levels cross the gap between their bands. An edge that jumps over
    a level (a residual, a mask) leaves the column: it runs in a side lane beyond every box and
    label of the levels it jumps, so it never crosses a node and reads as a skip connection. Each
    node's output shape is written once, in the gap after its band, beside its outgoing edges.

    Returns:
        ``{"boxes": [(x0, y0, x1, y1)], "headers": [header height], "texts": [(header, lines)],
        "edges": [(source, target, path, arrow, lane)], "labels": [(source, text, (x0, y0, x1,
        y1))], "extent": (x0, y0, x1, y1)}``; ``lane`` is None for an edge between neighbouring
        levels.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"Expected a direction in {DIRECTIONS}. Received: {direction!r}")
    across = direction == "left to right"

    def point(depth: float, cross: float) -> tuple[float, float]:
        return (depth, -cross) if across else (cross, -depth)

    def rect(d0: float, d1: float, c0: float, c1: float) -> tuple[float, float, float, float]:
        (xa, ya), (xb, yb) = point(d0, c0), point(d1, c1)
        return min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb)

    nodes = info.nodes
    texts = [node_text(node) for node in nodes]
    sizes = [_box_size(header, lines) for header, lines in texts]
    depth_size = [width if across else height for width, height, _ in sizes]
    cross_size = [height if across else width for width, height, _ in sizes]
    outgoing: dict[int, list] = {}
    for edge in info.edges:
        outgoing.setdefault(edge.source, []).append(edge)
    label_text = {
        source: _clipped(" · ".join(dict.fromkeys(shape_text(edge.shape) for edge in edges)))
        for source, edges in outgoing.items()
        if any(edge.shape for edge in edges)  # a structure read from a file knows no shapes
    }
    label_size = {source: _label_size(text) for source, text in label_text.items()}
    levels: dict[int, list[int]] = {}
    for node in nodes:
        levels.setdefault(node.column, []).append(node.index)
    spacing = max(cross_size, default=0) + CROSS_GAP
    if not across:  # a label beside its edge must not reach the next box's label
        spacing = max(spacing, max((w for w, _ in label_size.values()), default=0) + 2 * CROSS_GAP)
    cross = [node.row * spacing for node in nodes]
    band_start: dict[int, float] = {}
    band_end: dict[int, float] = {}
    position = 0.0
    for level in range(info.num_columns):
        members = levels.get(level, [])
        band_start[level] = position
        band_end[level] = position + max((depth_size[i] for i in members), default=0)
        gap = LEVEL_GAP
        if across:
            widths = [label_size[i][0] for i in members if i in label_size]
            # Room for a font up to 30% wider than Arial (a browser without it falls back).
            gap = max(gap, 1.3 * max(widths, default=0) + 2 * LABEL_OFFSET + ARROW_LENGTH + 12)
        position = band_end[level] + gap
    # Boxes and labels in (depth, cross) coordinates.
    box_dc = [
        (
            band_start[node.column],
            band_start[node.column] + depth_size[node.index],
            cross[node.index] - cross_size[node.index] / 2,
            cross[node.index] + cross_size[node.index] / 2,
        )
        for node in nodes
    ]
    label_dc: dict[int, tuple[float, float, float, float]] = {}
    for source, (width, height) in label_size.items():
        start = band_end[nodes[source].column] + LABEL_OFFSET
        if across:  # in the gap after the box, just above its outgoing edges
            c = cross[source]
            label_dc[source] = (start, start + width, c - LABEL_OFFSET - height, c - LABEL_OFFSET)
        else:  # in the gap below the box, left of its outgoing edges (side lanes go right)
            c = cross[source] - LABEL_OFFSET
            label_dc[source] = (start, start + height, c - width, c)
    # Side lanes for the edges that jump a level, shortest first so they hug the column.
    level_of = [node.column for node in nodes]
    jumps = sorted(
        (edge for edge in info.edges if level_of[edge.target] - level_of[edge.source] >= 2),
        key=lambda edge: (level_of[edge.target] - level_of[edge.source], edge.source, edge.target),
    )
    lanes: dict[tuple[int, int], float] = {}
    placed: list[tuple[int, int, float]] = []
    for edge in jumps:
        first, last = level_of[edge.source], level_of[edge.target]
        spans = [box_dc[i][2:] for level in range(first + 1, last) for i in levels.get(level, [])]
        spans += [
            label_dc[i][2:]
            for level in range(first + 1, last - 1)
            for i in levels.get(level, [])
            if i in label_dc
        ]
        low, high = min(c0 for c0, _ in spans), max(c1 for _, c1 in spans)
        ends = (cross[edge.source], cross[edge.target])
        right, left = high + LANE_GAP, low - LANE_GAP
        step = LANE_GAP
        lane = right
        if sum(abs(left - end) for end in ends) < sum(abs(right - end) for end in ends):
            lane, step = left, -LANE_GAP
        while any(
            first < other_last and other_first < last and abs(lane - other) < LANE_GAP
            for other_first, other_last, other in placed
        ):
            lane += step
        placed.append((first, last, lane))
        lanes[(edge.source, edge.target)] = lane
    # Entry ports: a node's incoming edges arrive side by side, in the order they come from.
    arrivals: dict[int, list] = {}
    for edge in info.edges:
        come_from = lanes.get((edge.source, edge.target), cross[edge.source])
        arrivals.setdefault(edge.target, []).append((come_from, edge.source))
    ports: dict[tuple[int, int], float] = {}
    for target, incoming in arrivals.items():
        incoming.sort()
        count = len(incoming)
        usable = max(cross_size[target] - 2 * BOX_PADDING_X, 0)
        step = min(20.0, usable / (count - 1)) if count > 1 else 0.0
        for rank, (_, source) in enumerate(incoming):
            ports[(source, target)] = cross[target] + (rank - (count - 1) / 2) * step
    edges = []
    for edge in info.edges:
        source, target = edge.source, edge.target
        port = ports[(source, target)]
        end = band_start[level_of[target]]
        steps: list[tuple] = [("M", (box_dc[source][1], cross[source]))]
        steps.append(("L", (band_end[level_of[source]], cross[source])))
        lane = lanes.get((source, target))
        if lane is None:
            steps += _curve(band_end[level_of[source]], cross[source], end - ARROW_LENGTH, port)
        else:
            steps += _curve(
                band_end[level_of[source]], cross[source], band_start[level_of[source] + 1], lane
            )
            steps.append(("L", (band_end[level_of[target] - 1], lane)))
            steps += _curve(band_end[level_of[target] - 1], lane, end - ARROW_LENGTH, port)
        path = " ".join(
            command + " " + " ".join("{:.1f},{:.1f}".format(*point(*where)) for where in points)
            for command, *points in steps
        )
        tip = [(end, port), (end - ARROW_LENGTH, port - 4), (end - ARROW_LENGTH, port + 4)]
        arrow = "M " + " L ".join("{:.1f},{:.1f}".format(*point(*where)) for where in tip) + " Z"
        edges.append((source, target, path, arrow, lane))
    boxes = [rect(*dc) for dc in box_dc]
    labels = [(source, label_text[source], rect(*label_dc[source])) for source in label_dc]
    corners = [*boxes, *(box for _, _, box in labels)]
    for first, last, lane in placed:
        corners.append(rect(band_start[first], band_end[last], lane, lane))
    extent = (
        min((box[0] for box in corners), default=0) - GRAPH_PAD,
        min((box[1] for box in corners), default=0) - GRAPH_PAD,
        max((box[2] for box in corners), default=0) + GRAPH_PAD,
        max((box[3] for box in corners), default=0) + GRAPH_PAD,
    )
    return {
        "boxes": boxes,
        "headers": [header for _, _, header in sizes],
        "texts": texts,
        "edges": edges,
        "labels": labels,
        "extent": extent,
    }


def plot_graph(
    info, *, direction: str = "top down", focus: int | None = None, whole: bool = False
) -> go.Figure:
    """The layered graph, drawn as Netron draws one: a box per layer, edges with tensor shapes.

    Each box holds the layer's class (bold, on a header in its family's colour), its name, its
    key settings (filters and kernel, units, heads, activation, ...) and its parameters; a
    closed block is a dotted box named after the block. Boxes are sized to their text (one axis
    unit is one pixel, the axes locked 1:1) and the figure grows with the graph, up to
    ``MAX_GRAPH_HEIGHT``. Skip connections run in side lanes around the column they jump (see
    :func:`graph_geometry`). Shapes are named for tests and tools: ``node:<i>`` (a box),
    ``header:<i>``, ``edge:<source>:<target>``, ``arrow:<source>:<target>`` and ``focus``;
    annotations ``class:<i>``, ``text:<i>`` and ``shape:<source>`` (a tensor's shape). The
    ``layers`` trace has one invisible point per node for hover and clicks; each point's
    ``customdata[0]`` is its index in ``info.nodes``.

    Args:
        info: a ``GraphInfo``.
        direction: ``'left to right'`` or ``'top down'``.
        focus: the index of a node to centre the view on and outline (a found layer), or None.
        whole: the whole graph at one pixel a unit, the figure's width and height set to fit it
            (for files: a static export has no container to stretch into). Otherwise a graph
            taller than ``MAX_GRAPH_HEIGHT``, or wider than ``VIEW_SIZE`` left to right, opens
            on its inputs and pans.
    """
    geometry = graph_geometry(info, direction=direction)
    traces: list[go.Scatter] = []
    shapes: list[dict] = []
    annotations: list[dict] = []
    for source, target, path, arrow, _ in geometry["edges"]:
        line = {"color": EDGE_COLOR, "width": 1.4}
        shapes.append(
            {"type": "path", "path": path, "line": line, "name": f"edge:{source}:{target}"}
        )
        shapes.append(
            {
                "type": "path",
                "path": arrow,
                "line": {"color": EDGE_COLOR, "width": 1},
                "fillcolor": EDGE_COLOR,
                "name": f"arrow:{source}:{target}",
            }
        )
    families = [family(node.class_name) for node in info.nodes]
    for node, name, box, header_height, (header, lines) in zip(
        info.nodes, families, geometry["boxes"], geometry["headers"], geometry["texts"], strict=True
    ):
        x0, y0, x1, y1 = box
        color = FAMILY_COLORS[name]
        block = _is_block(node)
        shapes.append(
            {
                "type": "rect",
                "x0": x0,
                "y0": y0,
                "x1": x1,
                "y1": y1,
                "fillcolor": "white",
                "line": {
                    "color": color,
                    "width": 2 if block else 1.2,
                    "dash": "dot" if block else "solid",
                },
                "name": f"node:{node.index}",
            }
        )
        shapes.append(
            {
                "type": "rect",
                "x0": x0,
                "y0": y1 - header_height,
                "x1": x1,
                "y1": y1,
                "fillcolor": color,
                "line": {"color": color, "width": 1.2},
                "name": f"header:{node.index}",
            }
        )
        annotations.append(
            {
                "x": (x0 + x1) / 2,
                "y": y1 - header_height / 2,
                "text": f"<b>{escaped(header)}</b>",
                "font": {
                    "size": NODE_FONT_SIZE,
                    "color": "#111827" if _dark_text(color) else "white",
                },
                "name": f"class:{node.index}",
            }
        )
        body = [f"<b>{escaped(lines[0])}</b>"] + [
            f'<span style="color:{DETAIL_COLOR}">{escaped(line)}</span>' for line in lines[1:]
        ]
        annotations.append(
            {
                "x": (x0 + x1) / 2,
                "y": (y0 + y1 - header_height) / 2,
                "text": "<br>".join(body),
                "font": {"size": NODE_FONT_SIZE, "color": "#111827"},
                "name": f"text:{node.index}",
            }
        )
    across = direction == "left to right"
    for source, text, (x0, y0, x1, y1) in geometry["labels"]:
        # Anchored on the corner nearest its edge's start, so a wider font grows it away from
        # the node it leaves.
        annotations.append(
            {
                "x": x0 if across else x1,
                "y": y0 if across else y1,
                "xanchor": "left" if across else "right",
                "yanchor": "bottom" if across else "top",
                "text": escaped(text),
                "font": {"size": EDGE_FONT_SIZE, "color": LABEL_COLOR},
                "bgcolor": "rgba(255, 255, 255, 0.85)",
                "name": f"shape:{source}",
            }
        )
    for annotation in annotations:
        annotation.setdefault("xanchor", "center")
        annotation.setdefault("yanchor", "middle")
        annotation.update(showarrow=False, align="center")
    boxes = geometry["boxes"]
    centres = [((x0 + x1) / 2, (y0 + y1) / 2) for x0, y0, x1, y1 in boxes]
    traces.append(
        go.Scatter(
            x=[x for x, _ in centres],
            y=[y for _, y in centres],
            mode="markers",
            marker={
                "symbol": "square",
                "size": [min(x1 - x0, y1 - y0) for x0, y0, x1, y1 in boxes],
                "color": "rgba(0, 0, 0, 0)",
                "line": {"width": 0},
            },
            name="layers",
            showlegend=False,
            customdata=[
                (
                    node.index,
                    escaped(node.name),
                    escaped(node.class_name)
                    if not _is_block(node)
                    else f"{node.class_name.lower()} of {node.num_layers} layers (click to open)",
                    shape_text(node.output_shape) if node.macs is not None else "unknown",
                    f"{node.num_params:,}",
                    f"{node.macs:,}" if node.macs is not None else "unknown (not run)",
                )
                for node in info.nodes
            ],
            hovertemplate=(
                "<b>%{customdata[1]}</b><br>%{customdata[2]}<br>output %{customdata[3]}<br>"
                "parameters %{customdata[4]}<br>MACs %{customdata[5]}<extra></extra>"
            ),
        )
    )
    for name in FAMILY_COLORS:  # the legend: one square per family drawn
        if name in families:
            traces.append(
                go.Scatter(
                    x=[None],
                    y=[None],
                    mode="markers",
                    marker={"symbol": "square", "size": 12, "color": FAMILY_COLORS[name]},
                    name=name,
                    hoverinfo="skip",
                )
            )
    # The legend sits between the title and the graph: room for as many rows as it takes in the
    # narrowest figure. Plotly gives a wrapped horizontal legend's items one width: the widest
    # name at 13 px after a 40 px symbol and gap.
    names = [name for name in FAMILY_COLORS if name in families]
    item = max((text_width(name, 13) for name in names), default=0) + 40
    per_row = max(1, int((MIN_GRAPH_WIDTH - 20) // item))
    rows = max(1, math.ceil(len(names) / per_row))
    margin = {**GRAPH_MARGIN, "t": GRAPH_MARGIN["t"] + LEGEND_ROW * (rows - 1)}
    x0, y0, x1, y1 = geometry["extent"]
    margins = margin["t"] + margin["b"]
    x_range, y_range = [x0, x1], [y0, y1]
    height = max(320, (y1 - y0) + margins)
    layout_width = None
    if focus is not None:
        fx, fy = centres[focus]
        bx0, by0, bx1, by1 = boxes[focus]
        shapes.append(
            {
                "type": "rect",
                "x0": bx0 - 5,
                "y0": by0 - 5,
                "x1": bx1 + 5,
                "y1": by1 + 5,
                "line": {"color": FOCUS_COLOR, "width": 3},
                "name": "focus",
            }
        )
        width, view = VIEW_SIZE
        x_range, y_range = [fx - width / 2, fx + width / 2], [fy - view / 2, fy + view / 2]
        height = view + margins
    elif whole:
        layout_width = int(math.ceil(max(x1 - x0 + margin["l"] + margin["r"], MIN_GRAPH_WIDTH)))
    else:
        if height > MAX_GRAPH_HEIGHT:  # open on the inputs (the top), pan for the rest
            height = MAX_GRAPH_HEIGHT
            y_range = [y1 - (height - margins), y1]
        if direction == "left to right" and x1 - x0 > VIEW_SIZE[0]:
            x_range = [x0, x0 + VIEW_SIZE[0]]  # the inputs first; a wider window would shrink
    for shape in shapes:
        shape.setdefault("layer", "below")
    blocks_closed = sum(_is_block(node) for node in info.nodes)
    title = f"{info.name}: {len(info.nodes)} nodes, {info.num_columns} deep"
    if blocks_closed:
        title += f" ({blocks_closed} block{'' if blocks_closed == 1 else 's'} closed)"
    layout = base_layout(title)
    layout["hovermode"] = "closest"
    layout["margin"] = margin
    layout["title"] = {**layout["title"], "xref": "paper"}
    layout["font"] = {**layout["font"], "family": GRAPH_FONT}
    layout["legend"] = {
        "orientation": "h",
        "yanchor": "bottom",
        "y": 1.0,
        "x": 0.0,
        "xanchor": "left",
    }
    hidden = {"visible": False, "showgrid": False, "zeroline": False}
    layout.update(
        shapes=shapes,
        annotations=annotations,
        xaxis={**hidden, "range": x_range},
        yaxis={**hidden, "range": y_range, "scaleanchor": "x", "scaleratio": 1},
        height=int(math.ceil(height)),
        width=layout_width,
        hoverdistance=int(max((box[2] - box[0] for box in boxes), default=40) / 2),
        dragmode="pan",
        clickmode="event+select",
        plot_bgcolor="white",
    )
    # Hundreds of shapes and annotations built here, from known-good values: Plotly's per-property
    # validation would take most of a second.
    template = layout.pop("template")
    figure = go.Figure(data=traces, layout=layout, _validate=False)
    figure._validate = True  # what callers change later (a publication style) is checked again
    figure.layout.template = pio.templates[template]  # the template itself, not its name
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
    # A name that does not fit its box at 11 px is left to the hover, not shrunk to a smudge.
    figure.update_layout(**layout, height=520, uniformtext={"minsize": 11, "mode": "hide"})
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
    label_z, label_text, families_drawn = [], [], []
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
        families_drawn.append(family(unit.class_name))
        hover_x.append(position + thickness / 2)
        hover_y.append(height / 2)
        hover_text.append(
            f"<b>{escaped(unit.name)}</b><br>{escaped(unit.class_name)}<br>output "
            f"{shape_text(unit.output_shape)}<br>parameters {unit.num_params:,}"
        )
        # Names above the boxes, every other one raised, so neighbours' names do not collide.
        label_z.append(depth / 2 + 0.4 + (1.2 if len(label_text) % 2 else 0.0))
        label_text.append(escaped(unit.name))
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
        figure.add_trace(
            go.Scatter3d(
                x=hover_x,
                y=[0.0] * len(hover_x),
                z=label_z,
                mode="text",
                text=label_text,
                textfont={"size": 11, "color": "#111827"},
                hoverinfo="skip",
                name="layer names",
                showlegend=False,
            )
        )
        for name in FAMILY_COLORS:  # the legend: one square per family drawn
            if name in families_drawn:
                figure.add_trace(
                    go.Scatter3d(
                        x=[None],
                        y=[None],
                        z=[None],
                        mode="markers",
                        marker={"symbol": "square", "size": 8, "color": FAMILY_COLORS[name]},
                        name=name,
                        hoverinfo="skip",
                    )
                )
    layout = base_layout(f"{graph.name}: {len(hover_text)} layer outputs as boxes")
    layout["hovermode"] = "closest"
    layout["legend"] = {"orientation": "h", "yanchor": "top", "y": -0.02, "x": 0.0}
    quiet = {"showticklabels": False, "showspikes": False}
    figure.update_layout(
        **layout,
        height=560,
        scene={
            # Short titles: a 3D scene clips long ones at its edges.
            "xaxis": {"title": "layers, input → output", **quiet},
            "yaxis": {"title": "√ rows or steps", **quiet},
            "zaxis": {"title": "√ columns", **quiet},
            # Long stacks would be a thin line at their true proportions: squeeze the length.
            "aspectmode": "manual",
            "aspectratio": {"x": 3.0, "y": 1.0, "z": 1.0},
            "camera": {"eye": {"x": -0.8, "y": -2.6, "z": 1.3}},
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
    figure.update_layout(**layout, height=140 + 220 * len(weights), bargap=0)
    figure.update_annotations(font_size=11)
    figure.update_xaxes(title_text="weight value", title_standoff=4)
    figure.update_yaxes(title_text="count of values")
    return figure


# --- Tables behind the figures -------------------------------------------------------------------

LAYER_NUMBER_COLUMNS = ("parameters", "trainable", "MACs", "activation bytes", "weight bytes")


def layer_table(info) -> pd.DataFrame:
    """One row per layer of an ``ArchitectureInfo``: class, output shape, parameters, compute
    and memory (activation bytes NaN where a shape is unknown)."""
    return pd.DataFrame(
        {
            "layer": [layer.name for layer in info.layers],
            "class": [layer.class_name for layer in info.layers],
            "output shape": [shape_text(layer.output_shape) for layer in info.layers],
            "parameters": [layer.num_params for layer in info.layers],
            "trainable": [layer.num_trainable_params for layer in info.layers],
            "MACs": [layer.macs for layer in info.layers],
            "activation bytes": [layer.activation_bytes for layer in info.layers],
            "weight bytes": [layer.weight_bytes for layer in info.layers],
            "activation": [layer.activation or "" for layer in info.layers],
        }
    )


def layer_totals_table(info) -> pd.DataFrame:
    """:func:`layer_table` with a last row of totals (the model's own counts, summed memory)."""
    table = layer_table(info)
    totals = {
        "layer": "Total",
        "class": f"{len(info.layers)} layers",
        "output shape": "",
        "parameters": info.num_params,
        "trainable": info.num_trainable_params,
        "MACs": info.macs,
        "activation bytes": int(table["activation bytes"].fillna(0).sum()),
        "weight bytes": int(table["weight bytes"].sum()),
        "activation": "",
    }
    return pd.concat([table, pd.DataFrame([totals])], ignore_index=True)


def memory_totals(info) -> tuple[int, int]:
    """``(weight bytes, activation bytes)`` of a model: its weights, and every layer's output
    for one sample if all were kept (unknown shapes count zero)."""
    weights = sum(layer.weight_bytes for layer in info.layers)
    activations = sum(layer.activation_bytes or 0 for layer in info.layers)
    return int(weights), int(activations)


def weights_table(details) -> pd.DataFrame:
    """One row per weight of a ``LayerDetails``: shape, whether it trains, and its statistics."""
    weights = details.weights
    return pd.DataFrame(
        {
            "weight": [w.name for w in weights],
            "shape": ["×".join(map(str, w.shape)) for w in weights],
            "trainable": [w.trainable for w in weights],
            "mean": [w.mean for w in weights],
            "std": [w.std for w in weights],
            "min": [w.min for w in weights],
            "max": [w.max for w in weights],
            "L2 norm": [w.norm for w in weights],
            "zeros": [w.zeros_fraction for w in weights],
        }
    )


def setting_text(value) -> str:
    """A layer setting as the builder shows and takes it: ``3, 3`` for ``(3, 3)``, blank for None."""
    if value is None:
        return ""
    if isinstance(value, tuple):
        return ", ".join(setting_text(item) for item in value)
    return str(value)


def builder_table(specs, result) -> pd.DataFrame:
    """The builder's stack, one row per layer spec: its name, class, settings, the output shape
    it built (or where the build failed) and its parameters; ``result`` is the ``BuildResult``."""
    failing = None if result.ok or result.error is None else result.error.index
    built = result.summary.layers[-len(specs) :] if result.ok and result.summary and specs else ()
    return pd.DataFrame(
        {
            "#": list(range(1, len(specs) + 1)),
            "layer": [spec.name or "" for spec in specs],
            "class": [spec.class_name for spec in specs],
            "settings": [
                ", ".join(f"{k}={setting_text(v)}" for k, v in spec.config) for spec in specs
            ],
            "output shape": [
                shape_text(result.output_shapes[i])
                if i < len(result.output_shapes)
                else ("✗ fails here" if i == failing else "not built")
                for i in range(len(specs))
            ],
            "parameters": [built[i].num_params if built else None for i in range(len(specs))],
        }
    )


STRUCTURE_ORIGINS = {
    "keras": "Keras",
    "keras operation": "Keras operation (keras.ops)",
    "keras_hub": "KerasHub",
    "keras_nlp": "KerasNLP",
    "keras_cv": "KerasCV",
}


def origin_text(origin: str) -> str:
    """``io.structure`` origins as a reader says them: ``"custom: mylib.layers"`` ->
    ``"custom code (mylib.layers)"``."""
    if origin.startswith("custom: "):
        return f"custom code ({origin.removeprefix('custom: ')})"
    return STRUCTURE_ORIGINS.get(origin, origin)


def structure_table(structure) -> pd.DataFrame:
    """One row per layer of an ``io.structure.ModelStructure`` (nested models' layers indented
    under their model): class, where the class comes from, parameters from the stored weights
    (missing where they could not be matched), the layers feeding it, its weights' shapes."""
    layers = structure.layers
    return pd.DataFrame(
        {
            "layer": ["    " * layer.depth + layer.name for layer in layers],
            "class": [layer.class_name for layer in layers],
            "from": [origin_text(layer.origin) for layer in layers],
            "parameters": pd.array([layer.num_params for layer in layers], dtype="Int64"),
            "inputs": [", ".join(layer.inbound) for layer in layers],
            "weights": [
                ", ".join(shape_text(shape) for _, shape in layer.weights) for layer in layers
            ],
        }
    )
