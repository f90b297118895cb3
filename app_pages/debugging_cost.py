"""Debugging, Compare models tab, cost: latency, throughput and size of the chosen models against
their score, and the Pareto front."""

from __future__ import annotations

import streamlit as st

from app_pages import ui
from app_pages.debugging_parts import state
from neurogenesis import cached
from neurogenesis.analysis.evaluation import DEFAULT_BATCH_SIZES, DEFAULT_REPEATS
from neurogenesis.plotting.evaluation import (
    pareto_table,
    plot_pareto,
    plot_profile,
    plot_throughput,
    profile_sizes_table,
    profile_table,
)

PARETO_BATCH = 32


def profile_view(sources, samples_source, table) -> None:
    """``table``: the models' scores (``model_scores_table``), in the order of ``sources``."""
    st.markdown("**Cost**: latency, throughput and size against the score")
    if not st.toggle("Profile the chosen models", key=state("profile")):
        st.caption(
            "Times each model on batches of 1, 8, 32 and 128 on this machine (a few seconds per "
            "model); timings depend on the machine and what else runs on it."
        )
        return
    profiles = {}
    bar = st.progress(0.0, text="Timing…")
    for number, (label, source) in enumerate(sources.items()):
        profiles[label] = cached.profile(
            source, samples_source, DEFAULT_BATCH_SIZES, DEFAULT_REPEATS
        )
        bar.progress((number + 1) / len(sources), text=f"Timing {label}…")
    bar.empty()
    timings = profile_table(profiles)
    left, right = st.columns(2)
    with left:
        ui.chart(plot_profile(profiles), key=state("latency"), data=timings)
    with right:
        ui.chart(plot_throughput(profiles), key=state("throughput"), data=timings)
    score_column = table.columns[1]
    scores = [float(score) for score in table[score_column]]
    # Pareto: lower latency and better score (higher accuracy, or lower error).
    seconds = [profile.latency_at(PARETO_BATCH) for profile in profiles.values()]
    front = cached.pareto_front(
        seconds, scores if score_column == "accuracy" else [-score for score in scores]
    )
    costs = [cost * 1000.0 for cost in seconds]
    cost_label = f"latency per batch of {PARETO_BATCH} (ms)"
    ui.chart(
        plot_pareto(
            list(profiles), costs, scores, front, cost_label=cost_label, score_label=score_column
        ),
        key=state("pareto"),
        data=pareto_table(list(profiles), costs, scores, front, cost_label, score_column),
    )
    st.dataframe(profile_sizes_table(profiles), hide_index=True)
