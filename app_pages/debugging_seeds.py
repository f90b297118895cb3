"""Debugging, Compare models tab, across seeds: two recipes compared over their seeded runs (a
paired test when the seeds match), not two single models."""

from __future__ import annotations

import math

import streamlit as st

from app_pages import ui
from app_pages.debugging_parts import state
from neurogenesis import cached
from neurogenesis.plotting.evaluation import plot_seed_comparison, seed_comparison_table

RANK_TESTS = {"wilcoxon": "Wilcoxon signed-rank", "mann-whitney": "Mann-Whitney U"}


def recorded_runs() -> dict[str, tuple]:
    """Label -> (model Source, hyperparameters) of the chosen logs' runs that saved a model."""
    return {
        f"{name} (run)": (source, hyperparameters)
        for name, source, hyperparameters in cached.run_models(st.session_state.get("logs") or [])
    }


def seed_test(table) -> None:
    st.markdown("**Across seeds**")
    runs = recorded_runs()
    scores = dict(zip(table["model"], table["accuracy"], strict=True))
    groups = cached.seed_groups(
        {label: runs[label][1] for label in scores if label in runs}, distinct=True
    )
    if len(groups) < 2:
        st.caption(
            "A paired test across seeds needs two recipes with at least two recorded runs each "
            "that differ only in their `seed` hyperparameter (RunRecorder's hyperparameters). "
            + (
                "Found: " + "; ".join(f"{k} ({len(v)} runs)" for k, v in groups.items())
                if groups
                else "None among the chosen models."
            )
        )
        return
    names = list(groups)
    a, b = st.columns(2)
    first = a.selectbox("Recipe A", names, index=0, key=state("seed_a"))
    second = b.selectbox("Recipe B", [n for n in names if n != first], key=state("seed_b"))
    seeds = {recipe: [seed for seed, _ in groups[recipe]] for recipe in (first, second)}
    runs_scores = {recipe: [scores[label] for _, label in groups[recipe]] for recipe in seeds}
    paired = seeds[first] == seeds[second]
    info = cached.seed_comparison(runs_scores[first], runs_scores[second], paired)
    ui.chart(
        plot_seed_comparison(info, names=(first, second), score_label="accuracy"),
        key=state("seeds"),
        data=seed_comparison_table(info, (first, second), (seeds[first], seeds[second])),
    )
    st.caption(
        (
            "Paired by seed (the same seeds on both sides). "
            if paired
            else "Unpaired (the seeds differ). "
        )
        + f"Mean accuracy {info.mean_a:.2%} against {info.mean_b:.2%}: A − B = "
        f"{100 * info.mean_difference:+.2f} percentage points, t-test p = {_p(info.t_p_value)}, "
        f"{RANK_TESTS.get(info.rank_test, info.rank_test)} p = {_p(info.rank_p_value)}. "
        f"{info.note}"
    )


def _p(value: float) -> str:
    """A p-value as text; NaN (a test that cannot be run on these runs) as n/a."""
    return "n/a" if math.isnan(value) else f"{value:.3g}"
