"""Debugging, Compare models tab: is the other model really better, or just lucky? A/B tests on
the same samples (McNemar and a paired bootstrap, or a paired test on regression errors), a test
across seeds, and what each model costs."""

from __future__ import annotations

import math

import streamlit as st

from app_pages import ui
from app_pages.debugging_cost import profile_view
from app_pages.debugging_parts import sample_grid, state, target, with_unit
from app_pages.debugging_seeds import recorded_runs, seed_test
from neurogenesis import cached
from neurogenesis.errors import InputError
from neurogenesis.plotting.evaluation import (
    disagreements_table,
    error_comparison_table,
    mcnemar_table,
    model_scores_table,
    plot_bootstrap,
    plot_error_comparison,
    plot_mcnemar,
)

COMPARE_SAMPLES_NOTE = 30


def _candidates(model_source) -> dict[str, object]:
    """Label -> Source of every model that takes this sample set and gives the same output."""
    offered = dict(st.session_state.get("models") or {})
    for label, (source, _) in recorded_runs().items():
        offered.setdefault(label, source)
    fitting = cached.matching_models(
        model_source, offered.values(), same_size=False, same_output=True
    )
    return {
        label: source
        for label, source in offered.items()
        if source.path == model_source.path or source in fitting
    }


def _different(candidates, current, others, samples_source) -> str | None:
    """The first other model whose predictions differ from the current one's (a run folder often
    holds a copy of the model being looked at), else None: a copy compared with itself gives one
    bar at 0 and says nothing."""
    for label in others:
        try:
            same = cached.same_predictions(
                candidates[current], candidates[label], samples_source, atol=1e-6
            )
        except InputError:
            continue
        if not same:
            return label
    return None


def compare_view(model_source, samples_source, sample_set, predictions, kind):
    if predictions.task not in ("classification", "binary", "regression"):
        st.info(
            f"The model's outputs are not class scores or regression values ({predictions.task}), "
            "so there is no accuracy or error to compare."
        )
        return
    if predictions.own_labels:  # labels that are not the model's classes: nothing to score
        st.info(predictions.note)
        return
    models = st.session_state.get("models") or {}
    current = next((label for label, s in models.items() if s == model_source), None)
    candidates = _candidates(model_source)
    if current is None:
        current = "chosen model"
        candidates = {current: model_source, **candidates}
    others = [label for label in candidates if label != current]
    if not others:
        st.info(
            "No other model takes this sample set. Open a second model of the same input and "
            "output (`--model B.keras`, an upload, or a training log folder whose recorded runs "
            "saved model.keras) to compare."
        )
        return
    second = _different(candidates, current, others, samples_source)
    owner = f"{model_source.key}|{samples_source.key}"
    note = ui.tie_choice(state("compare_models"), owner, "models to compare")
    chosen = st.multiselect(
        "Models to compare (same sample set)",
        list(candidates),
        default=[current] if second is None else [current, second],
        key=state("compare_models"),
    )
    ui.show_note(note)
    if len(chosen) < 2:
        st.info(
            f"Every other model that takes this sample set predicts exactly as {current} does "
            "(a copy of it): pick a second model above to compare."
            if second is None and chosen == [current]
            else "Pick a second model above to compare."
        )
        return
    sources = {label: candidates[label] for label in chosen}
    infos = {label: cached.predictions(source, samples_source) for label, source in sources.items()}
    classification = predictions.task != "regression" and predictions.labels is not None
    table = model_scores_table(infos, classification)
    unit = "" if classification else target(sample_set)[1]
    st.dataframe(
        table,
        hide_index=True,
        key=state("compare_table"),
        column_config={
            table.columns[1]: st.column_config.NumberColumn(
                format="percent" if classification else f"%.3f {unit}".rstrip()
            )
        },
    )
    if classification:
        _ab_test(sources, infos, samples_source, sample_set, predictions, kind, chosen)
        seed_test(table)
    elif predictions.labels is not None:
        _error_test(sources, samples_source, sample_set, chosen)
    profile_view(sources, samples_source, table)


def _pick_pair(chosen) -> tuple[str, str, int]:
    """Models A and B (B is never A) and the number of bootstrap resamples."""
    a, b, c = st.columns([2, 2, 1])
    name_a = a.selectbox("A", chosen, index=0, key=state("model_a"))
    name_b = b.selectbox("B", [n for n in chosen if n != name_a], key=state("model_b"))
    resamples = c.select_slider(
        "Bootstrap resamples",
        (1_000, 5_000, 10_000, 50_000),
        10_000,
        format_func="{:,}".format,
        key=state("resamples"),
    )
    return name_a, name_b, resamples


def _error_test(sources, samples_source, sample_set, chosen) -> None:
    """Regression A/B: a paired test on the absolute errors, in the target's unit."""
    st.markdown("**A/B test** (paired, on each sample's absolute error)")
    name_a, name_b, resamples = _pick_pair(chosen)
    a, b = sources[name_a], sources[name_b]
    if cached.same_predictions(a, b, samples_source, field="errors"):
        st.info(f"{name_a} and {name_b} make the same error on every sample: nothing to test.")
        return
    info = cached.paired_errors(a, b, samples_source, resamples)
    name, unit = target(sample_set)
    significant = math.isfinite(info.wilcoxon_p_value) and info.wilcoxon_p_value < 0.05
    verdict = (
        "a difference this consistent would be rare if A and B erred alike"
        if significant
        else "this difference is within what chance produces on this set"
    )
    st.markdown(
        f"Mean absolute error of the {name}: A {with_unit(info.mae_a, unit)}, B "
        f"{with_unit(info.mae_b, unit)}; A − B = **{with_unit(info.difference, unit, '+.3g')}**, "
        f"{info.confidence:.0%} paired bootstrap interval [{info.low:+.3g}, {info.high:+.3g}]"
        f"{' ' + unit if unit else ''}. A is closer on {info.a_smaller:,} of "
        f"{info.num_samples:,} samples, B on {info.b_smaller:,}. Wilcoxon signed-rank test: "
        f"**p = {info.wilcoxon_p_value:.3g}** ({verdict})." + (f" {info.note}" if info.note else "")
    )
    ui.chart(
        plot_error_comparison(info, unit=unit),
        key=state("error_bootstrap"),
        data=error_comparison_table(info, unit),
    )


def _ab_test(sources, infos, samples_source, sample_set, predictions, kind, chosen) -> None:
    st.markdown("**A/B test**")
    name_a, name_b, resamples = _pick_pair(chosen)
    if cached.same_predictions(sources[name_a], sources[name_b], samples_source):
        st.info(
            f"{name_a} and {name_b} give the same outputs on every sample (one is a copy of the "
            "other): pick another B."
        )
        return
    mcnemar, bootstrap, disagreeing = cached.comparison(
        sources[name_a], sources[name_b], samples_source, resamples
    )
    verdict = (
        "a difference this large would be rare if A and B were equally accurate"
        if mcnemar.p_value < 0.05
        else "this difference is within what chance produces on this set"
    )
    st.markdown(
        f"Of {mcnemar.num_samples:,} samples, A alone is right on **{mcnemar.b:,}**, B alone on "
        f"**{mcnemar.c:,}**. McNemar's exact test: **p = {mcnemar.p_value:.3g}** ({verdict}). "
        f"Accuracy difference A − B = {bootstrap.difference:+.1%}, "
        f"{bootstrap.confidence:.0%} bootstrap interval [{bootstrap.low:+.1%}, {bootstrap.high:+.1%}]."
    )
    if mcnemar.b + mcnemar.c < COMPARE_SAMPLES_NOTE:
        st.caption(
            f"Only {mcnemar.b + mcnemar.c} samples tell the models apart: with so few discordant "
            "pairs the bootstrap interval can look decisive while the exact test is not. Trust the "
            "exact test; test on more samples to be sure."
        )
    left, right = st.columns(2)
    # The charts say A and B: model names are long and the selectors above name them.
    with left:
        ui.chart(plot_mcnemar(mcnemar), key=state("mcnemar"), data=mcnemar_table(mcnemar))
    with right:
        ui.chart(plot_bootstrap(bootstrap), key=state("bootstrap"))
    st.markdown(f"**Disagreements**: {len(disagreeing):,} samples")
    if len(disagreeing):
        st.dataframe(
            disagreements_table(
                disagreeing, predictions, infos[name_a], infos[name_b], (name_a, name_b)
            ),
            hide_index=True,
            key=state("disagreements"),
        )
        sample_grid(sample_set, predictions, disagreeing, kind, state("disagreement_grid"))
