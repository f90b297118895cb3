"""Attention as Plotly figures. Drawing only: no TensorFlow, no Streamlit.

Draws what :mod:`neurogenesis.analysis.attention` computes:

- ``plot_attention_head``: one head's query x key matrix;
- ``plot_attention_heads``: every head of one layer, small multiples on one colour scale;
- ``plot_model_view``: layers x heads small multiples (bertviz's model view), clickable;
- ``plot_head_view``: lines from each query token to each key token, one colour per head
  (bertviz's head view);
- ``plot_rollout``: attention rollout, the matrix or one position's row;
- ``plot_head_statistics``: every head placed by its mean distance and entropy;
- ``plot_head_importance``: what removing each head does to the prediction;
- ``plot_attention_evolution`` and ``plot_entropy_over_epochs``: attention over training;
- ``plot_temporal_attention``: a time-series model's attention over its input steps.

Tokens come from files (vocabularies, sample sets), so every one is HTML-escaped before Plotly
sees it. Axes use token *positions* as values and the tokens only as tick labels, so a word that
appears twice keeps two rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from neurogenesis.errors import InputError
from neurogenesis.plotting.style import base_layout, color_for, escaped

__all__ = [
    "ATTENTION_COLORSCALE",
    "DEFAULT_COLUMNS",
    "DEFAULT_MAX_LINES",
    "DEFAULT_SCALE",
    "DEFAULT_THRESHOLD",
    "DIVERGING_COLORSCALE",
    "SCALES",
    "attention_entropy_table",
    "attention_head_table",
    "attention_layers_table",
    "attention_weights_table",
    "chosen_heads_table",
    "entropy_labels",
    "head_importance_table",
    "head_statistics_table",
    "plot_attention_evolution",
    "plot_attention_head",
    "plot_attention_heads",
    "plot_entropy_over_epochs",
    "plot_head_importance",
    "plot_head_statistics",
    "plot_head_view",
    "plot_model_view",
    "plot_rollout",
    "plot_temporal_attention",
    "rollout_output_table",
    "rollout_shares",
    "rollout_table",
]

# Attention weights are probabilities: white at 0, dark at 1 reads on the white template.
ATTENTION_COLORSCALE = "Blues"
# Positive (the head helped the prediction) red, negative blue, as in the attribution figures.
DIVERGING_COLORSCALE = "RdBu_r"
DEFAULT_COLUMNS = 4
# How heatmaps of attention weights are coloured: "head" from 0 to each head's own largest weight
# (a diffuse head, all weights near 1/T, is as visible as a sharp one), "shared" from 0 to 1 for
# every head (heads compare directly, and diffuse ones look blank).
SCALES = ("head", "shared")
DEFAULT_SCALE = "head"
# Colour bar titles broken into short lines: one long line ran past a narrow chart's edge.
SHARED_TITLE = "attention<br>weight<br>(shared<br>0–1 scale)"
RELATIVE_TITLE = "weight ÷<br>the head's<br>own max"
DEFAULT_THRESHOLD = 0.02
# The head view draws one trace per line; past a few thousand the browser stalls, so only the
# strongest lines are kept (the title says how many were left out).
DEFAULT_MAX_LINES = 1500
MAX_LINE_WIDTH = 6.0
MIN_LINE_WIDTH = 0.5
HIGHLIGHT_COLOR = color_for(5)
TOKEN_COLOR = "#333333"
MIN_MARKER_SIZE = 6.0
MAX_MARKER_SIZE = 30.0
UNIFORM_COLOR = "#7F7F7F"
ROW_HEIGHT_PX = 26
MAX_KEY_LABELS_PER_ROW = 32
CELL_HEIGHT_PX = 120
BAR_COLOR = color_for(0)


# ---------------------------------------------------------------------------- checks and labels


def _matrix(scores: Any, ndim: int, expected: str, hint: str) -> np.ndarray:
    values = np.asarray(scores, dtype=np.float64)
    if values.ndim != ndim or 0 in values.shape:
        raise InputError(
            f"Expected attention scores of shape {expected}. Received: {values.shape}. {hint}"
        )
    return values


def _labels(tokens: Any, count: int, what: str) -> list[str]:
    """Escaped labels, one per position; positions themselves when no tokens are given."""
    if tokens is None:
        return [str(position) for position in range(count)]
    items = np.asarray(tokens, dtype=object).reshape(-1).tolist()
    if len(items) != count:
        raise InputError(
            f"Expected {count} {what} tokens, one per position. Received: {len(items)}. "
            "Pass the words of the sample whose scores are drawn (padding included)."
        )
    return [
        escaped(item.decode("utf-8", "replace") if isinstance(item, bytes) else item)
        for item in items
    ]


def _key_labels(key_tokens: Any, query_tokens: Any, keys: int, queries: int) -> list[str]:
    if key_tokens is None:
        if keys != queries and query_tokens is not None:
            raise InputError(
                f"The scores attend from {queries} queries to {keys} keys (cross-attention). "
                "Pass key_tokens, one per key."
            )
        return _labels(query_tokens, keys, "key")
    return _labels(key_tokens, keys, "key")


def _position(index: Any, count: int, what: str) -> int:
    if (
        isinstance(index, bool)
        or not isinstance(index, (int, np.integer))
        or not -count <= index < count
    ):
        raise InputError(
            f"Expected a {what} position between 0 and {count - 1}. Received: {index!r}."
        )
    return int(index) % count


def _pair_text(queries: list[str], keys: list[str], prefix: str = "") -> list[list[str]]:
    """Hover text of each cell, "query (i) → key (j)", built once so templates hold no names."""
    return [
        [f"{prefix}{query} ({i}) → {key} ({j})" for j, key in enumerate(keys)]
        for i, query in enumerate(queries)
    ]


def _token_axis(labels: list[str], title: str | None = None, **extra) -> dict:
    axis = {
        "tickmode": "array",
        "tickvals": list(range(len(labels))),
        "ticktext": labels,
        "showgrid": False,
        "zeroline": False,
        **extra,
    }
    if title is not None:
        axis["title"] = {"text": title}
    return axis


def _attention_heatmap(
    values: np.ndarray,
    text: list[list[str]],
    *,
    zmax: float | None = 1.0,
    colorbar_title: str = SHARED_TITLE,
    weights: np.ndarray | None = None,
    **kwargs,
) -> go.Heatmap:
    """A query x key heatmap at integer positions; its own 0..zmax scale unless a coloraxis.

    Hover reads "query (i) → key (j): weight" with the weight itself (``weights``, when the
    drawn ``values`` are rescaled), whatever the colours were scaled to.
    """
    queries, keys = values.shape
    shown = values if weights is None else np.asarray(weights, dtype=np.float64)
    hover = [
        [f"{cell}: {shown[i, j]:.3f}" for j, cell in enumerate(row)] for i, row in enumerate(text)
    ]
    if "coloraxis" not in kwargs:
        kwargs.update(
            colorscale=ATTENTION_COLORSCALE,
            zmin=0.0,
            zmax=zmax,
            # Along the bar: a long title there needs no width a narrow column lacks.
            colorbar={"title": {"text": colorbar_title}},
        )
    return go.Heatmap(
        z=values,
        x=list(range(keys)),
        y=list(range(queries)),
        text=hover,
        hovertemplate="%{text}<extra></extra>",
        **kwargs,
    )


def _check_scale(scale: str) -> None:
    if scale not in SCALES:
        raise InputError(f"Expected scale in {list(SCALES)}. Received: {scale!r}.")


def _peak(values: np.ndarray) -> float:
    """The largest weight, for a head's own scale (1 when there is none to scale to)."""
    finite = values[np.isfinite(values)]
    peak = float(finite.max()) if finite.size else 0.0
    return peak if peak > 0 else 1.0


def _relative(values: np.ndarray) -> np.ndarray:
    """Weights divided by their head's largest weight: 0..1 whatever the head's spread."""
    return values / _peak(values)


def _closest_layout(title: str) -> dict:
    layout = base_layout(title)
    layout["hovermode"] = "closest"
    return layout


# ---------------------------------------------------------------------------- one head, one layer


def plot_attention_head(
    scores: np.ndarray,
    query_tokens: Sequence[str] | np.ndarray | None,
    key_tokens: Sequence[str] | np.ndarray | None = None,
    *,
    title: str | None = None,
    query_index: int | None = None,
    scale: str = DEFAULT_SCALE,
    zmax: float | None = None,
) -> go.Figure:
    """One head's attention matrix: a query per row, a key per column.

    Args:
        scores: ``(T, S)`` weights of one sample and head (``scores[n, h]`` of
            :func:`~neurogenesis.analysis.attention.attention_scores`).
        query_tokens: the ``T`` query words (None: positions).
        key_tokens: the ``S`` key words; the query words by default (self-attention).
        title: the figure's title (escaped by the caller if it holds names from files).
        query_index: a query position whose row is outlined.
        scale: ``"head"``: colours from 0 to this head's largest weight; ``"shared"``: 0 to 1.
        zmax: colours from 0 to this instead (one scale for matrices shown side by side).

    Returns:
        A ``go.Heatmap`` of the weights themselves, row ``i`` labelled with query token ``i``;
        the colour bar's title says which scale; hover reads "query (i) → key (j): weight".

    Raises:
        InputError: scores that are not a matrix, token counts that do not match, or a query
            position outside the matrix.
    """
    values = _matrix(scores, 2, "(T, S)", "Pass one sample's one head: scores[n, h].")
    queries, keys = values.shape
    rows = _labels(query_tokens, queries, "query")
    columns = _key_labels(key_tokens, query_tokens, keys, queries)
    _check_scale(scale)
    if zmax is not None:
        top = float(zmax)
        bar = f"attention<br>weight<br>(0 to {top:.3g},<br>one scale<br>for both)"
    elif scale == "head":
        top = _peak(values)
        bar = f"attention<br>weight<br>(0 to this<br>head's max,<br>{top:.3g})"
    else:
        top, bar = 1.0, SHARED_TITLE
    figure = go.Figure(
        _attention_heatmap(
            values, _pair_text(rows, columns), zmax=top, colorbar_title=bar, name="attention"
        )
    )
    layout = _closest_layout(title if title is not None else "Attention of one head")
    layout["xaxis"] = _token_axis(columns, "key", side="bottom", tickangle=-45)
    layout["yaxis"] = _token_axis(rows, "query", autorange="reversed")
    layout["height"] = max(320, 140 + ROW_HEIGHT_PX * queries)
    if query_index is not None:
        row = _position(query_index, queries, "query")
        layout["shapes"] = [
            {
                "type": "rect",
                "xref": "x",
                "yref": "y",
                "x0": -0.5,
                "x1": keys - 0.5,
                "y0": row - 0.5,
                "y1": row + 0.5,
                "line": {"color": HIGHLIGHT_COLOR, "width": 3},
            }
        ]
    figure.update_layout(**layout)
    return figure


def plot_attention_heads(
    scores: np.ndarray,
    tokens: Sequence[str] | np.ndarray | None,
    *,
    layer: str = "",
    columns: int = DEFAULT_COLUMNS,
    key_tokens: Sequence[str] | np.ndarray | None = None,
    scale: str = DEFAULT_SCALE,
) -> go.Figure:
    """Every head of one layer as small heatmaps on one colour bar.

    Args:
        scores: ``(H, T, S)`` weights of one sample (``scores[n]``).
        tokens: the ``T`` query words (None: positions).
        layer: the layer's path, for the title.
        columns: heads per row.
        key_tokens: the ``S`` key words; the query words by default.
        scale: ``"head"``: each head drawn as its weights divided by its own largest weight
            (the panel's title gives that max), ``"shared"``: every head on one 0..1 scale.

    Returns:
        One subplot per head titled "head h"; token labels on the left column and under the
        lowest heatmap of each column; the colour bar's title and the figure's say the scale.
    """
    _check_scale(scale)
    values = _matrix(scores, 3, "(num_heads, T, S)", "Pass one sample: scores[n].")
    if isinstance(columns, bool) or not isinstance(columns, (int, np.integer)) or columns < 1:
        raise InputError(f"Expected at least 1 column. Received: {columns!r}.")
    heads, queries, keys = values.shape
    rows = _labels(tokens, queries, "query")
    key_names = _key_labels(key_tokens, tokens, keys, queries)
    width = min(int(columns), heads)
    height = math.ceil(heads / width)
    # Key labels under narrow thumbnails overprint; self-attention keys repeat the row labels
    # anyway and hover names every cell.
    show_keys = keys * width <= MAX_KEY_LABELS_PER_ROW
    own = scale == "head"
    figure = make_subplots(
        rows=height,
        cols=width,
        subplot_titles=[
            f"head {head} (max {_peak(values[head]):.2f})" if own else f"head {head}"
            for head in range(heads)
        ],
        horizontal_spacing=0.04 if width > 1 else 0.0,
        vertical_spacing=min(0.12, 0.5 / height) if height > 1 else 0.0,
    )
    for head in range(heads):
        row, column = head // width + 1, head % width + 1
        figure.add_trace(
            _attention_heatmap(
                _relative(values[head]) if own else values[head],
                _pair_text(rows, key_names, prefix=f"head {head}<br>"),
                weights=values[head],
                coloraxis="coloraxis",
                name=f"head {head}",
            ),
            row=row,
            col=column,
        )
        lowest = show_keys and head + width >= heads
        figure.update_xaxes(
            _token_axis(
                key_names,
                "key" if lowest else None,
                showticklabels=lowest,
                tickangle=-45,
                tickfont={"size": 10},
            ),
            row=row,
            col=column,
        )
        figure.update_yaxes(
            _token_axis(
                rows,
                "query" if column == 1 else None,
                showticklabels=column == 1,
                autorange="reversed",
            ),
            row=row,
            col=column,
        )
    name = f" of {escaped(layer)}" if layer else ""
    which = "each head scaled to its own max" if own else "one shared 0–1 scale"
    layout = _closest_layout(f"Attention heads{name} ({which})")
    layout["coloraxis"] = {
        "colorscale": ATTENTION_COLORSCALE,
        "cmin": 0.0,
        "cmax": 1.0,
        "colorbar": {"title": {"text": RELATIVE_TITLE if own else SHARED_TITLE}},
    }
    layout["height"] = max(320, height * max(220, 60 + 14 * queries) + 80)
    layout["margin"] = {**layout["margin"], "t": 80}
    figure.update_layout(**layout)
    return figure


def plot_model_view(
    scores_by_layer: Mapping[str, np.ndarray],
    tokens: Sequence[str] | np.ndarray | None,
    *,
    key_tokens: Sequence[str] | np.ndarray | Mapping[str, Any] | None = None,
    scale: str = DEFAULT_SCALE,
) -> go.Figure:
    """Every head of every layer, a row per layer and a column per head (bertviz's model view).

    Layers with fewer heads than the widest leave their last cells blank. The thumbnails carry
    no tick labels; hover names the layer, the head and the tokens.

    Clicking: every cell of a thumbnail has ``customdata == [layer_index, head]``, where
    ``layer_index`` indexes ``list(scores_by_layer)``, so a page reads the clicked point's
    ``customdata`` (e.g. from Streamlit's ``on_select`` or a Plotly click event) and draws that
    head with :func:`plot_attention_head`. Each trace's ``meta`` holds the same pair.

    Args:
        scores_by_layer: ``{layer path: (H, T, S)}`` for one sample, in model order.
        tokens: the ``T`` query words shared by all layers (None: positions).
        key_tokens: the key words when they are not the query words: one sequence for every
            layer, or ``{layer path: sequence}`` for some (cross-attention layers).
        scale: ``"head"``: each thumbnail drawn as its weights divided by its own largest weight;
            ``"shared"``: every thumbnail on one 0..1 scale.

    Returns:
        Small multiples on one colour bar whose title says the scale, rows titled by layer,
        columns by head; hover gives each weight itself.
    """
    _check_scale(scale)
    if not isinstance(scores_by_layer, Mapping) or not scores_by_layer:
        raise InputError(
            "Expected {layer path: scores (H, T, S)} for at least one layer. "
            f"Received: {type(scores_by_layer).__name__}."
        )
    layers = list(scores_by_layer)
    matrices = [
        _matrix(
            scores_by_layer[path],
            3,
            "(num_heads, T, S)",
            f"Layer '{escaped(path)}': pass one sample, {{layer: scores[n]}}.",
        )
        for path in layers
    ]
    queries = {matrix.shape[1] for matrix in matrices}
    if len(queries) > 1:
        raise InputError(
            f"Expected every layer to have the same number of queries. Received: {sorted(queries)}."
        )
    rows = _labels(tokens, matrices[0].shape[1], "query")
    width = max(matrix.shape[0] for matrix in matrices)
    figure = make_subplots(
        rows=len(layers),
        cols=width,
        column_titles=[f"head {head}" for head in range(width)],
        row_titles=[escaped(path) for path in layers],
        horizontal_spacing=0.01,
        vertical_spacing=0.02,
    )
    for index, (path, matrix) in enumerate(zip(layers, matrices, strict=True)):
        heads, _, keys = matrix.shape
        layer_keys = key_tokens.get(path) if isinstance(key_tokens, Mapping) else key_tokens
        key_names = _key_labels(layer_keys, tokens, keys, len(rows))
        for head in range(width):
            axes = {"row": index + 1, "col": head + 1}
            if head >= heads:
                figure.update_xaxes(visible=False, **axes)
                figure.update_yaxes(visible=False, **axes)
                continue
            figure.add_trace(
                _attention_heatmap(
                    _relative(matrix[head]) if scale == "head" else matrix[head],
                    _pair_text(rows, key_names, prefix=f"{escaped(path)}, head {head}<br>"),
                    weights=matrix[head],
                    coloraxis="coloraxis",
                    customdata=np.broadcast_to(
                        np.array([index, head]), (*matrix[head].shape, 2)
                    ).tolist(),
                    meta=[index, head],
                    name=f"{escaped(path)}, head {head}",
                ),
                **axes,
            )
            figure.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, **axes)
            figure.update_yaxes(
                showticklabels=False, showgrid=False, zeroline=False, autorange="reversed", **axes
            )
    own = scale == "head"
    which = "each head scaled to its own max" if own else "one shared 0–1 scale"
    layout = _closest_layout(f"Model view: every head of every layer ({which})")
    layout["coloraxis"] = {
        "colorscale": ATTENTION_COLORSCALE,
        "cmin": 0.0,
        "cmax": 1.0,
        "colorbar": {"title": {"text": RELATIVE_TITLE if own else SHARED_TITLE}},
    }
    layout["height"] = max(300, CELL_HEIGHT_PX * len(layers) + 110)
    layout["margin"] = {**layout["margin"], "t": 80, "r": 120}
    figure.update_layout(**layout)
    return figure


# ---------------------------------------------------------------------------- head view


def plot_head_view(
    scores: np.ndarray,
    tokens: Sequence[str] | np.ndarray | None,
    *,
    heads: Sequence[int] | None = None,
    key_tokens: Sequence[str] | np.ndarray | None = None,
    query_index: int | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    max_lines: int = DEFAULT_MAX_LINES,
) -> go.Figure:
    """Lines from query tokens (left) to key tokens (right), one colour per head (bertviz).

    A line's opacity equals its weight and its width is proportional to it (at least
    ``MIN_LINE_WIDTH`` so faint lines stay hoverable). Heads are overlaid; each has a legend entry
    that hides or shows all its lines.

    Args:
        scores: ``(H, T, S)`` weights of one sample of one layer.
        tokens: the ``T`` query words (None: positions).
        heads: which heads to draw; all by default.
        key_tokens: the ``S`` key words; the query words by default.
        query_index: draw only this query's lines (its token is highlighted).
        threshold: weights below it are not drawn, which keeps the figure light.
        max_lines: at most this many lines, the strongest; the title says when some were left out.

    Returns:
        A figure of ``go.Scatter`` traces: two text columns of tokens, one legend-only trace per
        head, then one 3-point line trace per drawn weight whose ``meta`` is
        ``{"head", "query", "key", "weight"}``.
    """
    values = _matrix(scores, 3, "(num_heads, T, S)", "Pass one sample of one layer: scores[n].")
    count, queries, keys = values.shape
    rows = _labels(tokens, queries, "query")
    key_names = _key_labels(key_tokens, tokens, keys, queries)
    chosen = (
        list(range(count)) if heads is None else [_position(head, count, "head") for head in heads]
    )
    if not 0.0 <= float(threshold) <= 1.0:
        raise InputError(f"Expected a threshold between 0 and 1. Received: {threshold!r}.")
    if isinstance(max_lines, bool) or not isinstance(max_lines, (int, np.integer)) or max_lines < 1:
        raise InputError(f"Expected max_lines of at least 1. Received: {max_lines!r}.")
    query_rows = (
        list(range(queries)) if query_index is None else [_position(query_index, queries, "query")]
    )
    lines = [
        (head, i, j, float(values[head, i, j]))
        for head in chosen
        for i in query_rows
        for j in range(keys)
        if values[head, i, j] >= threshold
    ]
    above = len(lines)
    if above > max_lines:
        lines = sorted(lines, key=lambda line: -line[3])[: int(max_lines)]
    figure = go.Figure()
    highlighted = set(query_rows) if query_index is not None else set()
    figure.add_trace(
        go.Scatter(
            x=[0.0] * queries,
            y=list(range(queries)),
            mode="text",
            text=rows,
            textposition="middle left",
            textfont={
                "color": [
                    HIGHLIGHT_COLOR if i in highlighted else TOKEN_COLOR for i in range(queries)
                ]
            },
            hovertemplate="query %{y}: %{text}<extra></extra>",
            name="queries",
            showlegend=False,
        )
    )
    figure.add_trace(
        go.Scatter(
            x=[1.0] * keys,
            y=list(range(keys)),
            mode="text",
            text=key_names,
            textposition="middle right",
            textfont={"color": TOKEN_COLOR},
            hovertemplate="key %{y}: %{text}<extra></extra>",
            name="keys",
            showlegend=False,
        )
    )
    for head in chosen:
        # A data-less trace per head holds the legend entry, so a head with no line above the
        # threshold still shows up and toggling it hides every line of its group.
        figure.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="lines",
                line={"color": color_for(head), "width": 3},
                name=f"head {head}",
                legendgroup=f"head {head}",
                showlegend=True,
                hoverinfo="skip",
            )
        )
    for head, i, j, weight in lines:
        hover = f"head {head}<br>{rows[i]} ({i}) → {key_names[j]} ({j}): {weight:.3f}"
        figure.add_trace(
            go.Scatter(
                # The midpoint gives each line a hover spot of its own; the ends are shared.
                x=[0.0, 0.5, 1.0],
                y=[i, (i + j) / 2, j],
                mode="lines",
                line={
                    "color": color_for(head),
                    "width": max(MIN_LINE_WIDTH, MAX_LINE_WIDTH * weight),
                },
                opacity=min(max(weight, 0.0), 1.0),
                text=[hover] * 3,
                hovertemplate="%{text}<extra></extra>",
                name=f"head {head}",
                legendgroup=f"head {head}",
                showlegend=False,
                meta={"head": head, "query": i, "key": j, "weight": weight},
            )
        )
    title = "Head view: queries (left) attend to keys (right)"
    if above > len(lines):
        title += f"; the {len(lines):,} strongest of {above:,} lines"
    layout = _closest_layout(title)
    layout["xaxis"] = {"visible": False, "range": [-0.8, 1.8], "fixedrange": True}
    layout["yaxis"] = {
        "visible": False,
        "range": [max(queries, keys) - 0.5, -0.5],
        "fixedrange": True,
    }
    layout["height"] = max(300, 120 + ROW_HEIGHT_PX * max(queries, keys))
    layout["legend"] = {**layout["legend"], "itemclick": "toggle", "groupclick": "togglegroup"}
    figure.update_layout(**layout)
    return figure


# ---------------------------------------------------------------------------- rollout


def plot_rollout(
    rollout: np.ndarray,
    tokens: Sequence[str] | np.ndarray | None,
    *,
    query_index: int | None = None,
    title: str | None = None,
) -> go.Figure:
    """Attention rollout of one sample: the matrix, or what one position draws on.

    Args:
        rollout: ``(T, T)``, one sample of
            :func:`~neurogenesis.analysis.attention.attention_rollout`; or ``(T,)``, one output's
            share of each input token, drawn as bars.
        tokens: the ``T`` words (None: positions).
        query_index: draw only this row, as one bar per input token.
        title: the figure's title.

    Returns:
        A ``go.Heatmap`` (colour scale from 0 to the largest share), or a ``go.Bar`` of row
        ``query_index`` with that position's own bar highlighted.
    """
    flat = np.asarray(rollout, dtype=np.float64)
    if flat.ndim == 1:  # one output's share of each input token (e.g. the rows averaged)
        size = flat.shape[0]
        labels = _labels(tokens, size, "input")
        figure = go.Figure(
            go.Bar(
                x=list(range(size)),
                y=flat,
                text=[f"{label} ({j})" for j, label in enumerate(labels)],
                textposition="none",
                marker={"color": BAR_COLOR},
                hovertemplate="%{text}: %{y:.3f}<extra></extra>",
                name="rollout",
            )
        )
        layout = _closest_layout(title if title is not None else "What the output draws on")
        layout["xaxis"] = _token_axis(labels, "input token", tickangle=-45)
        layout["yaxis"] = {"title": {"text": "share of the output (0–1)"}, "rangemode": "tozero"}
        figure.update_layout(**layout)
        return figure
    values = _matrix(rollout, 2, "(T, T)", "Pass one sample: rollout[n].")
    if values.shape[0] != values.shape[1]:
        raise InputError(f"Expected a square rollout (T, T). Received: {values.shape}.")
    size = values.shape[0]
    labels = _labels(tokens, size, "input")
    peak = float(np.nanmax(values)) if np.isfinite(values).any() else 1.0
    if query_index is None:
        figure = go.Figure(
            _attention_heatmap(
                values,
                _pair_text(labels, labels),
                zmax=peak if peak > 0 else 1.0,
                colorbar_title=f"share of the input token (0 to the largest, {peak:.3g})",
                name="rollout",
            )
        )
        layout = _closest_layout(title if title is not None else "Attention rollout")
        layout["xaxis"] = _token_axis(labels, "input token", tickangle=-45)
        layout["yaxis"] = _token_axis(labels, "position at the top", autorange="reversed")
        layout["height"] = max(320, 140 + ROW_HEIGHT_PX * size)
    else:
        row = _position(query_index, size, "query")
        figure = go.Figure(
            go.Bar(
                x=list(range(size)),
                y=values[row],
                text=[f"{label} ({j})" for j, label in enumerate(labels)],
                textposition="none",
                marker={"color": [HIGHLIGHT_COLOR if j == row else BAR_COLOR for j in range(size)]},
                hovertemplate="%{text}: %{y:.3f}<extra></extra>",
                name="rollout",
            )
        )
        layout = _closest_layout(
            title
            if title is not None
            else f"What position {row} ({labels[row]}) draws on, through every layer"
        )
        layout["xaxis"] = _token_axis(labels, "input token", tickangle=-45)
        layout["yaxis"] = {"title": {"text": "share of the position (0–1)"}, "rangemode": "tozero"}
    figure.update_layout(**layout)
    return figure


# ---------------------------------------------------------------------------- head summaries


def plot_head_statistics(stats: Sequence[Any]) -> go.Figure:
    """Every head placed by its mean attention distance and entropy.

    Diffuse heads sit high (near the dashed "uniform" line), positional heads left, and heads
    that park their attention on the first token ("sink" heads) are drawn large.

    Args:
        stats: :class:`~neurogenesis.analysis.attention.HeadStatistics`, one per layer.

    Returns:
        One ``go.Scatter`` per layer (its own colour): x the mean distance, y the entropy divided
        by ``max_entropy`` (0 when a layer has a single key), marker size growing with the
        first-token share.
    """
    stats = list(stats)
    if not stats:
        raise InputError("Expected the head statistics of at least one layer. Received: none.")
    figure = go.Figure()
    for index, layer in enumerate(stats):
        entropy = np.asarray(layer.entropy, dtype=np.float64).reshape(-1)
        distance = np.asarray(layer.distance, dtype=np.float64).reshape(-1)
        first = np.asarray(layer.first_token, dtype=np.float64).reshape(-1)
        if not len(entropy) == len(distance) == len(first):
            raise InputError(
                f"Expected one entropy, distance and first-token share per head. Received "
                f"{len(entropy)}, {len(distance)} and {len(first)} for '{escaped(layer.layer)}'."
            )
        maximum = float(layer.max_entropy)
        normalised = entropy / maximum if maximum > 0 else np.zeros_like(entropy)
        name = escaped(layer.layer) or f"layer {index}"
        figure.add_trace(
            go.Scatter(
                x=distance,
                y=normalised,
                mode="markers",
                marker={
                    "color": color_for(index),
                    "size": MIN_MARKER_SIZE
                    + (MAX_MARKER_SIZE - MIN_MARKER_SIZE) * np.clip(first, 0.0, 1.0),
                    "line": {"color": "white", "width": 1},
                    "opacity": 0.85,
                },
                text=[
                    f"{name}, head {head}<br>mean distance {distance[head]:.2f}<br>"
                    f"entropy {normalised[head]:.2f} of uniform<br>"
                    f"first token {first[head]:.1%}"
                    for head in range(len(entropy))
                ],
                hovertemplate="%{text}<extra></extra>",
                name=name,
            )
        )
    figure.add_hline(
        y=1.0,
        line={"color": UNIFORM_COLOR, "dash": "dash"},
        annotation_text="uniform",
        annotation_position="top left",
    )
    layout = _closest_layout("Heads: how far they look and how spread their attention is")
    layout["xaxis"] = {
        "title": {"text": "mean attention distance (positions)"},
        "rangemode": "tozero",
    }
    layout["yaxis"] = {
        "title": {"text": "entropy / entropy of uniform attention"},
        "range": [0, 1.1],
    }
    figure.update_layout(**layout)
    return figure


def plot_head_importance(info: Any) -> go.Figure:
    """The drop of the predicted class's output when each head is removed, layers x heads.

    Args:
        info: a :class:`~neurogenesis.analysis.attention.HeadImportance`.

    Returns:
        A ``go.Heatmap`` on a diverging scale centred at 0 (red: the head helped), each cell
        showing its value; hover adds the share of flipped predictions. Cells of heads a layer
        does not have (NaN) are blank and give no hover.
    """
    drop = np.asarray(info.drop, dtype=np.float64)
    flipped = np.asarray(info.flipped, dtype=np.float64)
    if drop.ndim != 2 or drop.shape != flipped.shape or drop.shape[0] != len(info.layers):
        raise InputError(
            f"Expected drop and flipped of shape (layers, heads) = ({len(info.layers)}, H). "
            f"Received: {drop.shape} and {flipped.shape}."
        )
    layers, heads = drop.shape
    known = np.isfinite(drop)
    limit = float(np.abs(drop[known]).max()) if known.any() else 0.0
    limit = limit or 1.0
    z = [[float(drop[i, h]) if known[i, h] else None for h in range(heads)] for i in range(layers)]
    names = [escaped(path) for path in info.layers]
    text = [
        [f"{drop[i, h]:.3g}" if known[i, h] else "" for h in range(heads)] for i in range(layers)
    ]
    hover = [
        [
            f"{names[i]}, head {h}<br>drop {drop[i, h]:.4g}<br>"
            + (f"flipped {flipped[i, h]:.1%}" if np.isfinite(flipped[i, h]) else "flipped n/a")
            if known[i, h]
            else ""
            for h in range(heads)
        ]
        for i in range(layers)
    ]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=list(range(heads)),
            y=list(range(layers)),
            text=text,
            texttemplate="%{text}",
            customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
            hoverongaps=False,
            colorscale=DIVERGING_COLORSCALE,
            zmid=0.0,
            zmin=-limit,
            zmax=limit,
            xgap=2,
            ygap=2,
            colorbar={"title": {"text": "drop in the predicted class's output"}},
            name="head importance",
        )
    )
    layout = _closest_layout("Head importance: drop of the predicted class when a head is removed")
    layout["xaxis"] = _token_axis([f"head {h}" for h in range(heads)], "head")
    layout["yaxis"] = _token_axis(names, None, autorange="reversed")
    layout["height"] = max(260, 140 + 50 * layers)
    figure.update_layout(**layout)
    return figure


# ---------------------------------------------------------------------------- over training


def _epoch_labels(epochs: Sequence[int], count: int) -> list[str]:
    labels = [str(epoch) for epoch in np.asarray(epochs).reshape(-1).tolist()]
    if len(labels) != count:
        raise InputError(f"Expected {count} epochs, one per entry. Received: {len(labels)}.")
    if len(set(labels)) != len(labels):
        raise InputError(f"Expected distinct epochs. Received: {labels}.")
    return labels


def plot_attention_evolution(
    scores_by_epoch: Sequence[np.ndarray],
    epochs: Sequence[int],
    tokens: Sequence[str] | np.ndarray | None,
    *,
    title: str | None = None,
    key_tokens: Sequence[str] | np.ndarray | None = None,
    scale: str = DEFAULT_SCALE,
) -> go.Figure:
    """One head's attention matrix through training, animated with a slider (one frame an epoch).

    Args:
        scores_by_epoch: ``(T, S)`` weights of the same sample and head, one per saved epoch.
        epochs: the epoch of each matrix.
        tokens: the ``T`` query words (None: positions).
        title: the figure's title.
        key_tokens: the ``S`` key words; the query words by default.
        scale: ``"head"``: colours from 0 to the head's largest weight over all the epochs (one
            scale for every frame, so frames compare); ``"shared"``: 0 to 1.

    Returns:
        A heatmap showing the first epoch, a ``go.Frame`` per epoch (named by the epoch), a slider
        and play/pause buttons.
    """
    _check_scale(scale)
    matrices = [
        _matrix(scores, 2, "(T, S)", "Pass one sample's one head per epoch.")
        for scores in scores_by_epoch
    ]
    if not matrices:
        raise InputError("Expected the attention of at least one epoch. Received: none.")
    shapes = {matrix.shape for matrix in matrices}
    if len(shapes) > 1:
        raise InputError(f"Expected matrices of one shape. Received: {sorted(shapes)}.")
    names = _epoch_labels(epochs, len(matrices))
    queries, keys = matrices[0].shape
    rows = _labels(tokens, queries, "query")
    columns = _key_labels(key_tokens, tokens, keys, queries)
    text = _pair_text(rows, columns)
    if scale == "head":
        top = _peak(np.stack(matrices))
        bar = (
            f"attention<br>weight<br>(0 to this<br>head's max<br>over the<br>epochs,<br>{top:.3g})"
        )
    else:
        top, bar = 1.0, SHARED_TITLE

    def heatmap(matrix: np.ndarray) -> go.Heatmap:
        return _attention_heatmap(matrix, text, zmax=top, colorbar_title=bar, name="attention")

    frames = [
        go.Frame(data=[heatmap(matrix)], name=name, traces=[0])
        for matrix, name in zip(matrices, names, strict=True)
    ]
    figure = go.Figure(data=[heatmap(matrices[0])], frames=frames)
    still = {
        "mode": "immediate",
        "frame": {"duration": 0, "redraw": True},
        "transition": {"duration": 0},
    }
    layout = _closest_layout(title if title is not None else "Attention through training")
    layout["xaxis"] = _token_axis(columns, "key", tickangle=-45)
    layout["yaxis"] = _token_axis(rows, "query", autorange="reversed")
    layout["height"] = max(380, 220 + ROW_HEIGHT_PX * queries)
    layout["margin"] = {**layout["margin"], "b": 120}
    layout["sliders"] = [
        {
            "active": 0,
            "currentvalue": {"prefix": "epoch "},
            "pad": {"t": 60},
            "steps": [
                {"label": name, "method": "animate", "args": [[name], still]} for name in names
            ],
        }
    ]
    layout["updatemenus"] = [
        {
            "type": "buttons",
            "direction": "left",
            "x": 0.0,
            "y": 0.0,
            "xanchor": "right",
            "yanchor": "top",
            "pad": {"t": 60, "r": 10},
            "buttons": [
                {
                    "label": "▶",
                    "method": "animate",
                    "args": [
                        None,
                        {**still, "frame": {"duration": 500, "redraw": True}, "fromcurrent": True},
                    ],
                },
                {"label": "❚❚", "method": "animate", "args": [[None], still]},
            ],
        }
    ]
    figure.update_layout(**layout)
    return figure


def plot_entropy_over_epochs(
    entropy: np.ndarray,
    epochs: Sequence[int],
    labels: Sequence[str],
    *,
    y_title: str = "entropy / entropy of uniform attention",
) -> go.Figure:
    """The entropy of each head through training, one line a head.

    Args:
        entropy: ``(E, K)``: per epoch, the entropy of ``K`` heads (one layer's ``H`` or all
            layers' ``L * H`` side by side).
        epochs: the ``E`` epochs.
        labels: the ``K`` heads' names (e.g. "block_1, head 0").

    Returns:
        One ``go.Scatter`` line per head.
    """
    values = np.asarray(entropy, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or 0 in values.shape:
        raise InputError(f"Expected entropy of shape (epochs, heads). Received: {values.shape}.")
    _epoch_labels(epochs, values.shape[0])
    x = np.asarray(epochs).reshape(-1).tolist()
    names = _labels(labels, values.shape[1], "head label")
    figure = go.Figure()
    for column, name in enumerate(names):
        figure.add_trace(
            go.Scatter(
                x=x,
                y=values[:, column],
                mode="lines+markers",
                line={"color": color_for(column)},
                name=name,
                text=[name] * len(x),
                hovertemplate="%{text}: %{y:.3f}<extra></extra>",
            )
        )
    layout = base_layout("Entropy of each head through training")
    layout["xaxis"] = {"title": {"text": "epoch"}}
    # The page passes entropy divided by the uniform entropy (AttentionEvolution.entropy).
    layout["yaxis"] = {"title": {"text": y_title}}
    # Many heads make a long legend: it goes on the right, clear of the title.
    layout["legend"] = {"orientation": "v", "x": 1.02, "y": 1, "xanchor": "left"}
    figure.update_layout(**layout)
    return figure


# ---------------------------------------------------------------------------- time series


def plot_temporal_attention(
    scores: np.ndarray,
    *,
    time_labels: Sequence[str] | np.ndarray | None = None,
    title: str | None = None,
    query_index: int = -1,
) -> go.Figure:
    """A time-series model's attention over its input steps, one line per head.

    Args:
        scores: ``(H, T, S)`` weights of one sample (the weather demo: ``(heads, 1, 14)``, the
            last step asking about the 14 inputs), or ``(H, S)`` for a single query.
        time_labels: the ``S`` steps' names (dates, "t-3"...); positions by default.
        title: the figure's title.
        query_index: which query row when ``T > 1``; the last by default.

    Returns:
        One ``go.Scatter`` per head over the ``S`` steps and, with several heads, their mean
        dashed.
    """
    values = np.asarray(scores, dtype=np.float64)
    if values.ndim == 2:
        values = values[:, None, :]
    values = _matrix(
        values, 3, "(num_heads, T, S) or (num_heads, S)", "Pass one sample: scores[n]."
    )
    heads, queries, steps = values.shape
    row = _position(query_index, queries, "query")
    labels = _labels(time_labels, steps, "time step")
    weights = values[:, row, :]
    figure = go.Figure()
    for head in range(heads):
        figure.add_trace(
            go.Scatter(
                x=list(range(steps)),
                y=weights[head],
                mode="lines+markers",
                line={"color": color_for(head)},
                name=f"head {head}",
                text=labels,
                # Unified hover titles with the numeric position; the first head names the step.
                hovertemplate=("%{text}<br>" if head == 0 else "")
                + f"head {head}: %{{y:.3f}}<extra></extra>",
            )
        )
    if heads > 1:
        figure.add_trace(
            go.Scatter(
                x=list(range(steps)),
                y=weights.mean(axis=0),
                mode="lines",
                line={"color": UNIFORM_COLOR, "dash": "dash", "width": 3},
                name="mean of heads",
                hovertemplate="mean: %{y:.3f}<extra></extra>",
            )
        )
    which = "the last step" if row == queries - 1 else f"step {row}"
    layout = base_layout(
        title if title is not None else f"Attention of {which} over the input steps"
    )
    layout["xaxis"] = _token_axis(labels, "input time step", tickangle=-45)
    layout["yaxis"] = {"title": {"text": "attention weight"}, "rangemode": "tozero"}
    figure.update_layout(**layout)
    return figure


# --- the tables behind the attention page's charts ----------------------------------------------


def attention_weights_table(values, queries, keys, **columns) -> pd.DataFrame:
    """``(heads, queries, keys)`` attention weights, one row per head, query and key (what the
    charts draw); ``columns`` are constant columns put first (the layer)."""
    values = np.asarray(values, dtype=np.float64)
    heads, num_queries, num_keys = values.shape
    return pd.DataFrame(
        {
            **{name: [value] * values.size for name, value in columns.items()},
            "head": np.repeat(np.arange(heads), num_queries * num_keys),
            "query position": np.tile(np.repeat(np.arange(num_queries), num_keys), heads),
            "query": np.tile(np.repeat(np.asarray(queries, dtype=object), num_keys), heads),
            "key position": np.tile(np.arange(num_keys), heads * num_queries),
            "key": np.tile(np.asarray(keys, dtype=object), heads * num_queries),
            "weight": values.ravel(),
        }
    )


def attention_head_table(matrix, queries, keys, **columns) -> pd.DataFrame:
    """One head's ``(queries, keys)`` weights as :func:`attention_weights_table` lists them,
    without the head column."""
    table = attention_weights_table(np.asarray(matrix)[None], queries, keys, **columns)
    return table.drop(columns="head")


def chosen_heads_table(values, queries, keys, heads, **columns) -> pd.DataFrame:
    """:func:`attention_weights_table` of the ``heads`` chosen (every head when none is)."""
    table = attention_weights_table(values, queries, keys, **columns)
    return table[table["head"].isin(heads)] if heads else table


def attention_layers_table(scores: Mapping[str, Any], queries, keys) -> pd.DataFrame:
    """:func:`attention_weights_table` of every layer (``scores``: layer -> ``(heads, queries,
    keys)``), one after the other, each with its layer."""
    return pd.concat(
        [
            attention_weights_table(values, queries[: values.shape[1]], keys, layer=layer)
            for layer, values in scores.items()
        ],
        ignore_index=True,
    )


def rollout_table(matrix, tokens) -> pd.DataFrame:
    """A rollout or flow matrix, rows and columns labelled by token."""
    return pd.DataFrame(matrix, index=tokens, columns=tokens)


def rollout_shares(matrix) -> np.ndarray:
    """What the averaged output draws on: the matrix's rows averaged, as shares of their total."""
    pooled = np.asarray(matrix).mean(axis=0)
    return pooled / pooled.sum() if pooled.sum() > 0 else pooled


def rollout_output_table(matrix, tokens) -> pd.DataFrame:
    """Each token's share of :func:`rollout_shares`."""
    return pd.DataFrame({"token": tokens, "share": rollout_shares(matrix)})


def head_statistics_table(stats: Sequence[Any]) -> pd.DataFrame:
    """One row per layer and head: relative entropy, mean distance, first-token share, peak."""
    return pd.DataFrame(
        [
            {
                "layer": item.layer,
                "head": head,
                "entropy / uniform": item.entropy[head] / max(item.max_entropy, 1e-12),
                "mean distance": item.distance[head],
                "to the first token": item.first_token[head],
                "peak weight": item.max_attention[head],
            }
            for item in stats
            for head in range(len(item.entropy))
        ]
    )


def head_importance_table(info: Any) -> pd.DataFrame:
    """The heads ranked by the mean drop of the predicted class's output when removed."""
    return pd.DataFrame(info.ranking(), columns=["layer", "head", "mean drop when removed"])


def entropy_labels(info: Any) -> list[str]:
    """``"<layer> head <h>"`` for every head of an attention-evolution info, layer by layer."""
    return [f"{layer} head {h}" for layer in info.layers for h in range(info.entropy.shape[2])]


def attention_entropy_table(info: Any) -> pd.DataFrame:
    """Each head's attention entropy per epoch (rows: epochs; columns: heads)."""
    entropy = np.asarray(info.entropy).reshape(len(info.epochs), -1)
    return pd.DataFrame(
        entropy, index=pd.Index(info.epochs, name="epoch"), columns=entropy_labels(info)
    )
