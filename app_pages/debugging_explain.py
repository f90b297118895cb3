"""Debugging, Explain tab: the attribution methods of the features page for the chosen
prediction, and the inputs that drove it most."""

from __future__ import annotations

import streamlit as st

from app_pages import ui
from app_pages.debugging_parts import PREFIX, method_label, state
from neurogenesis.plotting.attribution import top_attribution_table


def explain_view(model_source, samples_source, sample_set, predictions, index, kind, words, layers):
    st.caption(
        "The attribution methods of the features page for the chosen prediction, and the inputs "
        "that drove it most."
    )
    infos = ui.attribution_view(
        model_source,
        samples_source,
        sample_set,
        predictions,
        index,
        kind,
        words,
        layers,
        PREFIX,
    )
    if not infos:
        return
    method, info = next(iter(infos.items()))
    st.markdown(f"**What drove it** ({method_label(method)})")
    table = top_attribution_table(
        info,
        kind,
        words=sample_set.words(info.tokens[0]) if kind == "text" else None,
        feature_names=sample_set.feature_names,
    )
    st.dataframe(table, hide_index=True, key=state("top_features"))
