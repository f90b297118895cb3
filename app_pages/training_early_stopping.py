"""The training page's Early stopping tab: what keras.callbacks.EarlyStopping would have done,
for one run and then for every chosen run under the same settings."""

from __future__ import annotations

import streamlit as st

from app_pages import ui
from app_pages.training_common import epoch_table, pick_run
from neurogenesis import cached
from neurogenesis.errors import InputError
from neurogenesis.plotting.convergence import plot_early_stopping
from neurogenesis.plotting.training import (
    early_stopping_runs_table,
    early_stopping_table,
    readable_table,
)


def _reports(sources, chosen: list[str], metric: str, **settings) -> dict:
    """Every chosen run that logs ``metric``, with its report under the same settings."""
    reports = {}
    for run in chosen:
        try:
            if metric not in cached.epoch_table(sources, run).metrics:
                continue
            reports[run] = cached.early_stopping(sources, run, metric, **settings)
        except InputError:
            continue
    return reports


def early_stopping_view(sources, chosen: list[str]) -> None:
    columns = st.columns([3, 2, 2, 2, 3], vertical_alignment="bottom")
    with columns[0]:
        run = pick_run(chosen, "training_es_run")
    table = epoch_table(sources, run)
    if table is None:
        return
    metrics = table.metrics
    with columns[1]:
        if st.session_state.get("training_es_metric") not in metrics:
            st.session_state.pop("training_es_metric", None)
        metric = st.selectbox("Metric", metrics, key="training_es_metric")
    patience = columns[2].number_input(
        "Patience", 0, 500, 5, key="training_es_patience",
        help="Epochs without improvement that EarlyStopping waits before it stops.",
    )  # fmt: skip
    min_delta = columns[3].number_input(
        "Min delta", 0.0, None, 0.0, format="%g", key="training_es_min_delta",
        help="The smallest change that counts as an improvement (Keras's min_delta).",
    )  # fmt: skip
    restore = columns[4].toggle(
        "Restore best weights", value=True, key="training_es_restore",
        help="Keras's restore_best_weights: the model keeps the best epoch's weights, not the "
        "last ones.",
    )  # fmt: skip
    settings = {
        "patience": int(patience),
        "min_delta": float(min_delta),
        "restore_best_weights": restore,
    }
    try:
        report = cached.early_stopping(sources, run, metric, **settings)
    except InputError as error:
        st.info(str(error))
        return
    ui.chart(
        plot_early_stopping(report), key="training_es_chart", data=early_stopping_table(report)
    )
    st.markdown("\n".join(f"- {finding}" for finding in report.findings))
    reports = _reports(sources, chosen, metric, **settings)
    if len(reports) > 1:
        st.markdown(f"**Every chosen run**, {metric}, the same EarlyStopping settings:")
        st.dataframe(
            readable_table(early_stopping_runs_table(reports, metric, int(patience))),
            hide_index=True,
        )
