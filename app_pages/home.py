"""Home: what is loaded, and which page answers which question."""

from __future__ import annotations

import streamlit as st

from app_pages import ui
from app_pages.architecture_structure import structure_or_none, structure_summary
from app_pages.home_live import live_training
from app_pages.ui.pages import PAGES
from neurogenesis import cached, live
from neurogenesis.errors import InputError
from neurogenesis.plotting.architecture import shape_text
from neurogenesis.plotting.runs import problems_table, runs_table, sample_set_text


def _model_card() -> None:
    source = st.session_state.get("model")
    st.subheader("Model")
    if source is None:
        st.info(
            "No model selected. Upload a .keras or .h5 file in the sidebar, or start with `--model FILE`."
        )
        return
    try:
        card = cached.model_card(source)
    except InputError as error:
        structure = structure_or_none(source, error)
        if structure is not None:
            structure_summary(structure)
            st.page_link("app_pages/architecture.py", label="See its layers on Architecture")
        return
    st.markdown(f"**{card.name}** · {card.model_class} · `{source.label}`")
    if source.description:
        st.caption(source.description)
    left, middle, right = st.columns(3)
    left.metric("Parameters", "unknown" if card.num_params is None else f"{card.num_params:,}")
    middle.metric(
        "Layers",
        "—" if card.num_layers is None else f"{card.num_layers}",
        help=None
        if card.num_layers is not None
        else "The file saves this model as its constructor's arguments, not as a list of layers.",
    )
    right.metric("File size", f"{card.file_size / 1024:,.0f} KiB")
    inputs = ", ".join(shape_text(shape) for shape in card.input_shapes) or "unknown"
    st.text(f"Input: {inputs}\nOutput: {card.output_summary or 'unknown'}")
    st.caption(
        f"Saved with Keras {card.keras_version or 'unknown'} · {card.file_format} format · pre-scanned, loads with safe_mode"
    )
    if card.translations:  # layer names come from the file: shown as plain text, not markdown
        st.caption(f"Translated from tf.keras 2.x to load in Keras 3 ({len(card.translations)}):")
        st.text("\n".join(card.translations))


def _runs() -> None:
    sources = st.session_state.get("logs", [])
    st.subheader("Training runs")
    if not sources:
        st.info(
            "No logs selected. Upload event files, a CSVLogger .csv or a JSON history, or start with `--logdir DIR`."
        )
        return
    found = []
    for source in sources:
        try:
            runs = cached.runs(source)
        except InputError as error:
            if source.origin == "live" and live.folder_status(source.path) in live.ACTIVE_STATUSES:
                st.caption(f"{source.label}: starting; its log has not been written yet.")
            else:
                st.error(f"{source.label}: {error}")
            continue
        found.extend((source, run) for run in runs)
    model = st.session_state.get("model")
    mine = ui.model_runs(model, {f"{s.key}|{run.name}": [run.path] for s, run in found})
    order = {name: index for index, name in enumerate(mine)}
    # The sidebar model's own runs first, in its card's order, then the rest as found.
    found.sort(key=lambda pair: order.get(f"{pair[0].key}|{pair[1].name}", len(order)))
    table = runs_table(
        [(source.label, run, f"{source.key}|{run.name}" in mine) for source, run in found],
        model=None if model is None else model.label,
    )
    if not table.empty:
        st.dataframe(
            table,
            hide_index=True,
            column_config={
                "run": st.column_config.TextColumn(width="medium"),
                "last values (train / validation)": st.column_config.TextColumn(
                    width="large",
                    help="The last value of the main metrics: training / validation.",
                ),
            },
            width="stretch",
        )
        if mine:
            st.caption(f"The runs of {model.label}, the sidebar's model, come first.")
    for source, run in found:
        if run.problems:
            with st.expander(f"{len(run.problems)} problem(s) in {source.label} / {run.name}"):
                st.dataframe(problems_table(run), hide_index=True, width="stretch")


def _samples() -> None:
    source = st.session_state.get("samples")
    st.subheader("Sample set")
    if source is None:
        st.info(
            "No sample set selected. Upload a .npz (x, y), images or a .txt file, or start with `--samples PATH`."
        )
        return
    try:
        samples = cached.samples(source)
    except InputError as error:
        st.error(str(error))
        return
    st.text(sample_set_text(samples))


ui.start_page("Home")
st.title("NeuroGenesis")
st.markdown(
    "See inside Keras models: the architecture, how training went, what the network learned, "
    "where its attention goes and why it fails. Pick a model, logs and samples in the sidebar."
)
model_column, samples_column = st.columns(2, gap="large")
with model_column:
    _model_card()
with samples_column:
    _samples()
# Each section in one container, so what the sections hold (an error that turns into a table)
# never shifts the live-training fragment below them.
with st.container(key="runs_area"):
    _runs()
with st.container(key="live_area"):
    live_training()

st.subheader("What each page answers")
for entry in PAGES:
    if entry.question:
        st.markdown(f"**{entry.title}**: {entry.question}")

ui.bundle_button()
with ui.how_to_read("Getting started"):
    st.markdown(
        "Parameters are counted from the file's weights; *diverged* means a last value is NaN or "
        "infinite, *—* that the metric was not logged; problems are damage found while reading."
    )
