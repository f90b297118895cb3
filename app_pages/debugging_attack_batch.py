"""Debugging, Adversarial tab, its batch: the attack of the chosen sample on the set's first N
samples: accuracy (or error) under attack, each feature's budget, the samples it flipped."""

from __future__ import annotations

import streamlit as st

from app_pages.debugging_parts import (
    feature_units,
    first_samples,
    sample_grid,
    state,
    target,
    with_unit,
)
from neurogenesis import cached
from neurogenesis.errors import InputError
from neurogenesis.plotting.robustness import adversarial_budget_table

BATCH_ATTACK_DEFAULT = 200
BUDGET_COLUMNS = ("low", "high", "ε", "change (this sample)", "largest change (batch)")


def batch_view(
    model_source, samples_source, sample_set, predictions, kind, single, method, options
):
    """The same attack on the first N samples: accuracy (or error) under attack."""
    st.markdown(
        "**Batch: accuracy under attack**"
        if single.task != "regression"
        else "**Batch: error under attack**"
    )
    count = first_samples(st, sample_set, 10, BATCH_ATTACK_DEFAULT, "attack_count")
    try:
        batch = cached.adversarial(
            model_source, samples_source, tuple(range(count)), method, options
        )
    except InputError as error:
        st.warning(str(error))
        return
    unit = target(sample_set)[1]
    columns = st.columns(4)
    flipped = batch.flipped()
    if batch.task == "regression":
        columns[0].metric("Clean MAE", with_unit(batch.clean_error, unit))
        columns[1].metric(
            "MAE under attack",
            with_unit(batch.adversarial_error, unit),
            with_unit(batch.adversarial_error - batch.clean_error, unit, "+.3g"),
            delta_color="inverse",
        )
    else:
        columns[0].metric("Clean accuracy", f"{batch.clean_accuracy:.1%}")
        columns[1].metric(
            "Accuracy under attack",
            f"{batch.adversarial_accuracy:.1%}",
            f"{batch.adversarial_accuracy - batch.clean_accuracy:+.1%}",
        )
        columns[2].metric("Predictions flipped", f"{len(flipped):,} of {count:,}")
    if "epsilon_share" in options:
        table = adversarial_budget_table(
            single,
            batch,
            feature_names=sample_set.feature_names,
            feature_units=feature_units(sample_set),
        )
        number = st.column_config.NumberColumn(format="%.3g")
        st.dataframe(
            table,
            hide_index=True,
            key=state("budget"),
            column_config=dict.fromkeys(BUDGET_COLUMNS, number),
        )
    else:
        columns[3].metric(
            "Largest change (L∞)",
            f"{float(batch.linf):.3g}",
            help=f"≤ ε = {options['epsilon']:.4g} input units",
        )
    if batch.task != "regression" and len(flipped):
        st.caption("Samples the attack flipped (click one to look at it above):")
        sample_grid(sample_set, predictions, flipped, kind, state("flipped_grid"))
