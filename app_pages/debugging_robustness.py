"""Debugging, Robustness tab: accuracy (or error) as every corruption and attack gets stronger,
and a ranked summary."""

from __future__ import annotations

import streamlit as st

from app_pages import ui
from app_pages.debugging_parts import first_samples, fixed_features, state, target
from neurogenesis import cached
from neurogenesis.analysis.robustness import ATTACKS, NUM_SEVERITIES
from neurogenesis.compute import ClusterError
from neurogenesis.errors import InputError
from neurogenesis.plotting.robustness import (
    plot_robustness_curves,
    plot_robustness_overview,
    robustness_curves_table,
    robustness_overview_table,
)

CURVE_SAMPLES_DEFAULT = 200


def robustness_view(model_source, samples_source, sample_set, predictions, kind):
    reason = cached.reason(model_source, "robustness")
    if reason or sample_set.y is None:
        st.info(reason or "The sample set has no labels, so there is no accuracy to track.")
        return
    if predictions.own_labels:  # labels that are not the model's classes: no accuracy to track
        st.info(predictions.note)
        return
    a, b, c = st.columns([2, 1, 1], vertical_alignment="bottom")
    count = first_samples(a, sample_set, 20, CURVE_SAMPLES_DEFAULT, "curve_count")
    attack_reason = cached.reason(model_source, "attack")
    per_class = b.toggle(
        "Per class", key=state("per_class"), disabled=predictions.task == "regression"
    )
    options = {"attacks": () if attack_reason else ATTACKS}
    if kind in ("series", "array") and sample_set.x.dtype.kind == "f":
        options["fixed_features"] = fixed_features(samples_source, sample_set, "robustness")
    run_key = state("curves_run")
    wanted = (model_source.key, samples_source.key, count, tuple(sorted(options.items())))
    if c.button("Compute the curves", key=state("curves_button")):
        st.session_state[run_key] = wanted
    if st.session_state.get(run_key) != wanted:
        st.caption(
            f"Runs every corruption at {NUM_SEVERITIES} severity levels"
            + (" and FGSM and PGD at as many budgets" if not attack_reason else "")
            + f" on {count:,} samples."
        )
        return
    where = ui.compute_target(state("compute"))
    bar = st.progress(0.0, text="Corrupting and attacking…")
    try:
        info = cached.robustness(
            model_source,
            samples_source,
            count,
            options,
            progress=lambda f: bar.progress(min(max(float(f), 0.0), 1.0)),
            target=where,
        )
    except (InputError, ClusterError) as error:  # a token model on a cluster; a lost cluster
        bar.empty()
        st.error(str(error))
        return
    bar.empty()
    if attack_reason:
        st.caption(f"No attacks: {attack_reason}")
    unit = target(sample_set)[1] if info.metric != "accuracy" else ""
    ui.chart(
        plot_robustness_curves(info, per_class=per_class, unit=unit),
        key=state("curves"),
        data=robustness_curves_table(info),
    )
    summary = robustness_overview_table(info)
    ui.chart(plot_robustness_overview(info, unit=unit), key=state("overview"), data=summary)
    st.caption(
        f"Ranked by the {info.metric.replace('_', ' ')} averaged over each curve's severity "
        f"levels 1–{NUM_SEVERITIES} (each level in its unit below), not at "
        "each corruption's strongest setting, whose size is an arbitrary choice."
    )
    number = st.column_config.NumberColumn(
        format="percent" if info.metric == "accuracy" else "%.3g"
    )
    st.dataframe(
        summary,
        hide_index=True,
        key=state("summary"),
        column_config={name: number for name in summary.columns if summary[name].dtype.kind == "f"},
    )
