"""The attention page's Rollout tab: attention followed through every layer (rollout or flow,
Abnar & Zuidema 2020)."""

from __future__ import annotations

import streamlit as st

from app_pages import ui
from app_pages.attention_input import real_length, token_labels
from neurogenesis import cached
from neurogenesis.plotting.attention import (
    plot_rollout,
    rollout_output_table,
    rollout_shares,
    rollout_table,
)


def rollout_view(scores: dict, words) -> None:
    square = {layer: v for layer, v in scores.items() if v.shape[2] == v.shape[3]}
    if not square:
        st.info(
            "Rollout follows self-attention through the layers; this model's attention is "
            "cross-attention (queries and keys differ), so there is no chain to follow."
        )
        return
    lengths = {v.shape[-1] for v in square.values()}
    if len(lengths) > 1:
        st.info("The attention layers attend over different lengths; rollout needs one length.")
        return
    method = (
        st.segmented_control(
            "Aggregation", ("rollout", "flow"), default="rollout", key="attention_aggregation"
        )
        or "rollout"
    )
    _, keys = token_labels(words, next(iter(square.values())).shape)
    cut = real_length(keys) if words is not None else len(keys)
    # Padding is cut before aggregating, so no flow or rollout passes through it.
    trimmed = {layer: values[:, :, :cut, :cut] for layer, values in square.items()}
    matrix = cached.aggregated_attention(trimmed, method)
    title = (
        "Attention flow (maximum flow from each input token)"
        if method == "flow"
        else "Attention rollout"
    )
    ui.chart(
        plot_rollout(matrix, keys[:cut], title=title),
        key="attention_rollout_matrix",
        data=rollout_table(matrix, keys[:cut]),
    )
    ui.chart(
        plot_rollout(rollout_shares(matrix), keys[:cut], title="What the averaged output draws on"),
        key="attention_rollout_output",
        data=rollout_output_table(matrix, keys[:cut]),
    )
    st.caption(
        f"Through {len(square)} layers ({', '.join(square)}), heads averaged, the residual "
        "connection counted as half of each layer (Abnar & Zuidema 2020). Rollout multiplies the "
        "layers' matrices; flow takes, for each pair, the maximum flow through the layers, bounded "
        "by each path's weakest link. The bars average the rows (shares of the total), as a model "
        "that pools every position (the demo's global average) does."
    )
