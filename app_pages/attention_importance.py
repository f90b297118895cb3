"""The attention page's Head statistics and Importance tabs: what each head does over the sample
set, and how much the prediction needs it (Michel et al. 2019)."""

from __future__ import annotations

import streamlit as st

from app_pages import ui
from neurogenesis import cached
from neurogenesis.errors import InputError
from neurogenesis.plotting.attention import (
    head_importance_table,
    head_statistics_table,
    plot_head_importance,
    plot_head_statistics,
)

STATISTICS_SAMPLES = 256
IMPORTANCE_SAMPLES = 200


def statistics_view(model_source, samples_source) -> None:
    try:
        stats = cached.head_statistics(model_source, samples_source, STATISTICS_SAMPLES)
    except InputError as error:
        st.warning(str(error))
        return
    table = head_statistics_table(stats)
    ui.chart(plot_head_statistics(stats), key="attention_statistics", data=table)
    st.dataframe(table, hide_index=True, key="attention_statistics_table")
    real = (
        f" ({stats[0].real_tokens:,} of {stats[0].tokens:,} token positions real)"
        if stats and stats[0].real_tokens < stats[0].tokens
        else ""
    )
    st.caption(
        f"Over the first {STATISTICS_SAMPLES} samples, padding left out{real}. High entropy: a diffuse "
        "head; a small distance: a local or positional head; most weight on the first token: a "
        "'sink' head that parks attention there when it has nothing to do."
    )


def importance_view(model_source, samples_source) -> None:
    if not st.toggle("Remove one head at a time and measure the change", key="attention_ablate"):
        st.caption(
            f"Runs the first {IMPORTANCE_SAMPLES} samples once per head, on a copy of the model "
            "with that head's output removed."
        )
        return
    try:
        info = cached.head_importance(model_source, samples_source, IMPORTANCE_SAMPLES)
    except InputError as error:
        st.warning(str(error))
        return
    ui.chart(
        plot_head_importance(info), key="attention_importance", data=head_importance_table(info)
    )
    top = info.ranking()[:5]
    st.caption(
        "Most important heads (mean drop of the predicted class's output when removed): "
        + ", ".join(f"{layer} head {head} ({drop:+.3f})" for layer, head, drop in top)
    )
