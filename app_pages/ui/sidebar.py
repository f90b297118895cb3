"""What the sidebar chose: the model and sample set, the runs that belong to the model, and
stopping a page with the reason when a computation refuses."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from neurogenesis import cached
from neurogenesis.errors import InputError, UnsupportedModelError


def chosen_model():
    """The sidebar's model, loaded, and sample set (Sources; the set may be None), for a page
    that runs the model. Without a model, or with one that cannot run here, the page says so
    (with the loader's reason and a link to the model's structure) and stops."""
    model_source = st.session_state.get("model")
    if model_source is None:
        st.info("Choose or upload a model in the sidebar.")
        st.stop()
    try:
        cached.model(model_source)
    except InputError as error:
        st.warning(f"**This page runs the model, and this one cannot run here.** {error}")
        st.page_link("app_pages/architecture.py", label="See its structure on Architecture")
        st.stop()
    model_source = _chosen_output(model_source)
    samples_source = st.session_state.get("samples")
    if samples_source is not None:
        try:
            samples_source, note = cached.fitted_samples(model_source, samples_source)
        except InputError:
            note = None  # the page says what is wrong with the set when it reads it
        if note:
            st.caption(note)
    return model_source, samples_source


def _chosen_output(model_source):
    """The model answering the output the sidebar names, for a model of several outputs (the
    pages then explain, score and attribute that one); the model itself otherwise."""
    import dataclasses

    names = cached.output_names(model_source)
    if len(names) < 2:
        return model_source
    chosen = st.sidebar.selectbox(
        "Output",
        names,
        key=f"model_output:{model_source.key}",
        help="This model has several outputs; the pages explain and score the one chosen here.",
    )
    return dataclasses.replace(model_source, output=chosen)


def trusted_code_note(model_source) -> str | None:
    """One line when the model runs code beyond Keras's own (an installed model library, a
    module trusted with --trust); None for a Keras-only model, no model, or a refused one."""
    from neurogenesis import cached

    if model_source is None:
        return None
    try:
        code_from = cached.model_card(model_source).code_from
    except InputError:
        return None
    if not code_from:
        return None
    return f"Runs code from {', '.join(code_from)}, trusted by whoever started this server."


def model_runs(model_source, run_paths: dict[str, list[str]]) -> list[str]:
    """The runs (name -> the paths of its folders or files) that belong to the sidebar's model,
    the model card's order first: those its card (``name.json`` beside it) lists under ``runs``,
    else those in a folder named after the model file (``weather_lstm/...``) or a live run of it
    (``weather_lstm-20250101-...``)."""
    from neurogenesis.workspace import model_metadata

    if model_source is None:
        return []
    model_path = Path(model_source.path)
    listed = model_metadata(model_path).get("runs")
    folders = []
    for entry in listed if isinstance(listed, list) else []:
        for base in (model_path.parent.parent, model_path.parent, Path.cwd()):
            folder = (base / str(entry)).resolve()
            if folder.exists():
                folders.append(folder)
                break

    def rank(name: str) -> int | None:
        for path in run_paths[name]:
            resolved = Path(path).resolve()
            for index, folder in enumerate(folders):
                if resolved == folder or folder in resolved.parents:
                    return index
        return None

    ranked = {name: rank(name) for name in run_paths}
    mine = sorted((name for name in run_paths if ranked[name] is not None), key=ranked.get)
    if mine:
        return mine
    stem = model_path.stem
    return [
        name
        for name in run_paths
        if any(
            part == stem or part.startswith(f"{stem}-")
            for path in run_paths[name]
            for part in Path(path).parts[-3:]
        )
    ]


def or_stop(compute, hint: str = ""):
    """``compute()``; when it refuses, the page stops with the reason: an info for a model the
    page cannot analyse, an error (followed by ``hint``) for bad input."""
    try:
        return compute()
    except UnsupportedModelError as error:
        st.info(str(error))
        st.stop()
    except InputError as error:
        st.error(f"{error}{hint}")
        st.stop()
