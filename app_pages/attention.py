"""Attention: where each head looks, for a sample or your own text, and how that evolved in training."""

from __future__ import annotations

import streamlit as st

from app_pages import ui
from app_pages.attention_evolution import evolution_view
from app_pages.attention_heads import head_view, heads_view, model_view, temporal_view
from app_pages.attention_importance import importance_view, statistics_view
from app_pages.attention_input import choose_input, show_prediction
from app_pages.attention_rollout import rollout_view
from neurogenesis import cached
from neurogenesis.errors import InputError

TABS = ("Heads", "Model view", "Head view", "Rollout", "Head statistics", "Importance", "Evolution")

ui.start_page("Attention")
st.title("Attention")
st.caption(
    "Where does each head of each MultiHeadAttention layer look, for a sample or your own text; "
    "which heads matter; and how did that change while the model trained?"
)
model_source, samples_source = ui.chosen_model()
layers = ui.or_stop(lambda: cached.attention_layers(model_source))
if not layers:
    st.info(
        "This model has no keras.layers.MultiHeadAttention layer, so there is no attention to "
        "show. Choose the text demo (sentiment_transformer) or the weather demo, whose LSTM "
        "attends over its input window."
    )
    st.stop()
if samples_source is None:
    st.info("Choose a sample set for this model in the sidebar.")
    st.stop()
try:
    sample_set = cached.samples(samples_source)
except InputError as error:
    st.error(str(error))
    st.stop()
# A set of several inputs (a BERT's token ids, padding mask, segments) is read by its token ids.
shape = sample_set.input().shape
length = int(shape[1]) if len(shape) >= 2 else 1
series = len(shape) == 3 and sample_set.vocabulary is None and sample_set.input_names is None

with st.container(border=True):
    first, second = st.columns(2)
    with first:
        x, words, index = choose_input(
            "attention_a", sample_set, length, "Input", model_source=model_source
        )
        if x is not None:
            show_prediction(model_source, x, sample_set, index)
    compare = second.toggle("Compare with a second input", key="attention_compare")
    x_b = words_b = None
    if compare:
        with second:
            x_b, words_b, index_b = choose_input(
                "attention_b",
                sample_set,
                length,
                "Second input",
                default=1,
                model_source=model_source,
            )
            if x_b is not None:
                show_prediction(model_source, x_b, sample_set, index_b)
if x is None:
    st.stop()
try:
    scores = cached.attention_scores(model_source, x)
    scores_b = cached.attention_scores(model_source, x_b) if x_b is not None else None
except InputError as error:
    st.error(str(error))
    st.stop()

if series:
    temporal_view(scores, layers, sample_set)

tabs = dict(zip(TABS, st.tabs(TABS, key="attention_tab", on_change="rerun"), strict=True))
with tabs["Heads"]:
    if tabs["Heads"].open:
        heads_view(scores, words, scores_b, words_b)
with tabs["Model view"]:
    if tabs["Model view"].open:
        model_view(scores, words)
with tabs["Head view"]:
    if tabs["Head view"].open:
        head_view(scores, words)
with tabs["Rollout"]:
    if tabs["Rollout"].open:
        rollout_view(scores, words)
with tabs["Head statistics"]:
    if tabs["Head statistics"].open:
        statistics_view(model_source, samples_source)
with tabs["Importance"]:
    if tabs["Importance"].open:
        importance_view(model_source, samples_source)
with tabs["Evolution"]:
    if tabs["Evolution"].open:
        evolution_view(sample_set)

ui.bundle_button()
with ui.how_to_read("Attention"):
    st.markdown(
        "Each row of a head's matrix is a query token and sums to 1; a dark cell is where it "
        "reads. Attention says what was mixed in, not what mattered: the Importance tab and the "
        "features page's attribution say that."
    )
