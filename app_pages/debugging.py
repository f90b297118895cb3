"""Debugging: on which inputs does the model fail, why, how fragile is it, and is the other model really better?"""

from __future__ import annotations

import streamlit as st

from app_pages import ui
from app_pages.debugging_adversarial import adversarial_view
from app_pages.debugging_compare import compare_view
from app_pages.debugging_errors import errors_view
from app_pages.debugging_explain import explain_view
from app_pages.debugging_parts import PREFIX, state
from app_pages.debugging_perturbation import perturbation_view
from app_pages.debugging_robustness import robustness_view
from neurogenesis import cached

TABS = ("Explain", "Perturbation", "Adversarial", "Robustness", "Errors", "Compare models")

ui.start_page("Debugging")
st.title("Debugging")
st.caption(
    "On which inputs does the model fail, why, how fragile is it, and is the other model really "
    "better or just lucky?"
)
model_source, samples_source = ui.chosen_model()
if samples_source is None:
    st.info(
        "Choose or upload a sample set for this model in the sidebar: every view here runs the "
        "model on samples."
    )
    st.stop()


def _inputs():
    cached.check_samples(model_source, samples_source)
    return (
        cached.graph_layers(model_source),
        cached.samples(samples_source),
        cached.predictions(model_source, samples_source),
    )


layers, sample_set, predictions = ui.or_stop(
    _inputs, " Choose a sample set made for this model in the sidebar."
)

kind = ui.display_kind(sample_set, layers)
words = ui.words_of(sample_set) if kind == "text" else None
with st.container(border=True):
    index = ui.sample_browser(
        model_source,
        samples_source,
        sample_set,
        predictions,
        kind,
        words,
        PREFIX,
    )

tabs = dict(zip(TABS, st.tabs(TABS, key=state("tab"), on_change="rerun"), strict=True))
with tabs["Explain"]:
    if tabs["Explain"].open:
        explain_view(
            model_source, samples_source, sample_set, predictions, index, kind, words, layers
        )
with tabs["Perturbation"]:
    if tabs["Perturbation"].open:
        perturbation_view(model_source, samples_source, sample_set, predictions, index, kind)
with tabs["Adversarial"]:
    if tabs["Adversarial"].open:
        adversarial_view(model_source, samples_source, sample_set, predictions, index, kind)
with tabs["Robustness"]:
    if tabs["Robustness"].open:
        robustness_view(model_source, samples_source, sample_set, predictions, kind)
with tabs["Errors"]:
    if tabs["Errors"].open:
        errors_view(model_source, samples_source, sample_set, predictions, kind)
with tabs["Compare models"]:
    if tabs["Compare models"].open:
        compare_view(model_source, samples_source, sample_set, predictions, kind)

ui.bundle_button()
with ui.how_to_read("Debugging"):
    st.markdown(
        "**Explain** and **Perturbation** show why one prediction came out as it did, "
        "**Adversarial** and **Robustness** how fragile the model is, **Errors** where it fails "
        "and **Compare models** whether another model is really better or just lucky."
    )
