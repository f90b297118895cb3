"""The attention page's Heads, Model view and Head view tabs, and a time-series model's weight on
every step of its input window."""

from __future__ import annotations

from functools import partial

import numpy as np
import streamlit as st

from app_pages import ui
from app_pages.attention_input import real_length, scale_choice, token_labels
from neurogenesis.plotting.attention import (
    attention_head_table,
    attention_layers_table,
    attention_weights_table,
    chosen_heads_table,
    plot_attention_head,
    plot_attention_heads,
    plot_head_view,
    plot_model_view,
    plot_temporal_attention,
)


def heads_view(scores: dict, words, compare_scores, compare_words) -> None:
    layers = list(scores)
    scale = scale_choice("attention_heads_scale")
    left, middle, right = st.columns([2, 1, 2])
    ui.show_note(ui.valid_choice("attention_layer", layers, "layer"), left)
    layer = left.selectbox("Layer", layers, key="attention_layer")
    values = scores[layer][0]
    ui.show_note(ui.valid_choice("attention_head", range(values.shape[0]), "head"), middle)
    head = middle.selectbox("Head", list(range(values.shape[0])), key="attention_head")
    queries, keys = token_labels(words, values.shape)
    cut = real_length(keys) if words is not None else len(keys)
    same = values.shape[1] == values.shape[2]
    rows = cut if same else len(queries)
    ui.show_note(ui.valid_choice("attention_query", [None, *range(rows)], "query token"), right)
    query = right.selectbox(
        "Query token",
        [None, *range(rows)],
        format_func=lambda q: "every token" if q is None else f"{q}: {queries[q]}",
        key="attention_query",
    )
    inputs = [(scores, words, "")] + (
        [(compare_scores, compare_words, " (second input)")] if compare_scores else []
    )
    matrices = []
    for these, labels, name in inputs:
        block = these[layer][0]
        q_labels, k_labels = token_labels(labels, block.shape)
        end = real_length(k_labels) if labels is not None else len(k_labels)
        matrix = block[head, : (end if same else block.shape[1]), :end]
        matrices.append((matrix, q_labels, k_labels, end, name))
    # Two inputs side by side share one scale: on the head's own scale, the larger of the two
    # maxima; else 0-1. Each colour bar says which.
    pair_max = (
        max(float(np.max(m)) for m, *_ in matrices) or 1.0
        if len(matrices) == 2 and scale == "head"
        else None
    )
    columns = st.columns(2) if compare_scores is not None else [st.container()]
    for column, (matrix, q_labels, k_labels, end, name) in zip(columns, matrices, strict=False):
        with column:
            ui.chart(
                plot_attention_head(
                    matrix,
                    q_labels[: matrix.shape[0]],
                    k_labels[:end],
                    title=f"{layer}, head {head}{name}",
                    query_index=query if query is not None and query < matrix.shape[0] else None,
                    scale=scale,
                    zmax=pair_max,
                ),
                key=f"attention_head_chart{name}",
                data=attention_head_table(
                    matrix, q_labels[: matrix.shape[0]], k_labels[:end], layer=layer
                ),
            )
    if len(matrices) == 2:
        st.caption(
            "Both inputs on one colour scale: "
            + (
                f"0 to {pair_max:.3g}, the larger of the two heads' maxima."
                if pair_max is not None
                else "the shared 0–1 scale."
            )
        )
    block = values[:, : (cut if same else values.shape[1]), :cut]
    ui.chart(
        plot_attention_heads(
            block, queries[: block.shape[1]], layer=layer, key_tokens=keys[:cut], scale=scale
        ),
        key="attention_heads_chart",
        data=attention_weights_table(block, queries[: block.shape[1]], keys[:cut], layer=layer),
    )


def model_view(scores: dict, words) -> None:
    first = next(iter(scores.values()))
    queries, keys = token_labels(words, first.shape)
    cut = real_length(keys) if words is not None else len(keys)
    same = first.shape[2] == first.shape[3]
    trimmed = {
        layer: values[0][
            :, : (cut if values.shape[2] == values.shape[3] else values.shape[2]), :cut
        ]
        for layer, values in scores.items()
    }
    layers = list(trimmed)

    def enlarge() -> None:
        event = st.session_state.get("attention_model_view") or {}
        points = (event.get("selection") or {}).get("points") or []
        data = points[0].get("customdata") if points else None
        if data is not None and len(data) >= 2:
            st.session_state["attention_layer"] = layers[int(data[0])]
            st.session_state["attention_head"] = int(data[1])
            st.session_state["attention_tab"] = "Heads"

    shown = queries[:cut] if same else queries

    scale = scale_choice("attention_model_scale")
    ui.chart(
        plot_model_view(trimmed, shown, key_tokens=keys[:cut], scale=scale),
        key="attention_model_view",
        data=partial(attention_layers_table, trimmed, shown, keys[:cut]),
        on_select=enlarge,
        selection_mode="points",
    )
    st.caption(
        "Every layer (rows) and head (columns) for this input; hover a cell for weights, click it "
        "to open that head large in the Heads tab."
    )


def head_view(scores: dict, words) -> None:
    layers = list(scores)
    left, middle, right = st.columns([2, 2, 2])
    ui.show_note(ui.valid_choice("attention_hv_layer", layers, "layer"), left)
    layer = left.selectbox("Layer", layers, key="attention_hv_layer")
    values = scores[layer][0]
    ui.show_note(ui.valid_choice("attention_hv_heads", range(values.shape[0]), "head"), middle)
    heads = middle.multiselect(
        "Heads",
        list(range(values.shape[0])),
        default=list(range(values.shape[0])),
        key="attention_hv_heads",
    )
    queries, keys = token_labels(words, values.shape)
    cut = real_length(keys) if words is not None else len(keys)
    same = values.shape[1] == values.shape[2]
    rows = cut if same else values.shape[1]
    ui.show_note(ui.valid_choice("attention_hv_query", [None, *range(rows)], "query token"), right)
    query = right.selectbox(
        "Query token",
        [None, *range(rows)],
        format_func=lambda q: "every token" if q is None else f"{q}: {queries[q]}",
        key="attention_hv_query",
    )
    ui.chart(
        plot_head_view(
            values[:, :rows, :cut],
            queries[:rows],
            heads=heads or None,
            key_tokens=keys[:cut],
            query_index=query,
        ),
        key="attention_head_view",
        data=chosen_heads_table(
            values[:, :rows, :cut], queries[:rows], keys[:cut], heads, layer=layer
        ),
    )


def temporal_view(scores: dict, layers: list[str], sample_set) -> None:
    """Each head's weight on every time step of the input window, for the chosen sample."""
    ui.show_note(ui.valid_choice("attention_temporal_layer", layers, "layer"))
    layer = st.selectbox("Attention layer", layers, key="attention_temporal_layer")
    dates = sample_set.per_sample("dates")
    steps = scores[layer].shape[-1]
    time_labels = [f"t−{steps - 1 - i}" for i in range(steps)]
    weights = np.asarray(scores[layer][0])
    weights = weights[:, None, :] if weights.ndim == 2 else weights
    ui.chart(
        plot_temporal_attention(
            scores[layer][0],
            time_labels=time_labels,
            title=f"{layer}: attention over the input window"
            + (
                f" (window ending {dates[int(st.session_state.get('attention_a_sample', 0))]})"
                if dates is not None
                else ""
            ),
        ),
        key="attention_temporal",
        data=attention_weights_table(
            weights, [f"q{i}" for i in range(weights.shape[1])], time_labels, layer=layer
        ),
    )
    st.caption(
        "Each head's weight on every time step of the input window, for the chosen sample: the "
        "model's forecast draws most on the steps with the tallest bars."
    )
