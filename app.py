"""NeuroGenesis dashboard: the router and the shared sidebar.

    streamlit run app.py -- --logdir runs/ --model model.keras

The sidebar picks what every page looks at (a model, log sources, a sample set) and keeps it in
``st.session_state``: ``"model"`` (a Source or None), ``"logs"`` (a list of Sources) and
``"samples"`` (a Source or None). Uploads are stored under their content hash and listed only in
the session that made them.
"""

from __future__ import annotations

import argparse
import sys

import streamlit as st

from neurogenesis import cached
from neurogenesis.errors import InputError
from neurogenesis.workspace import Source, save_upload

st.set_page_config(page_title="NeuroGenesis", page_icon="🧠", layout="wide")

# The analysis pages register here as they are built; home.py lists the ones still to come.
PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
]


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="app.py", add_help=False)
    parser.add_argument("--logdir", action="append", default=[])
    parser.add_argument("--model", action="append", default=[])
    parser.add_argument("--samples", action="append", default=[])
    parser.add_argument("--no-demos", action="store_true")
    known, _ = parser.parse_known_args(sys.argv[1:])
    return known


def _remember_uploads(files) -> None:
    uploads: list[Source] = st.session_state.setdefault("uploads", [])
    done: set = st.session_state.setdefault("uploads_done", set())
    for file in files or []:
        if file.file_id in done:
            continue
        done.add(file.file_id)
        try:
            source = save_upload(file.name, file.getvalue())
            if source.kind == "model":
                cached.model_card(
                    source
                )  # the pre-scan: refuse hostile files before anyone uses them
        except InputError as error:
            st.session_state.setdefault("upload_errors", []).append(str(error))
            continue
        if all(existing.key != source.key for existing in uploads):
            uploads.append(source)
        selection = {"model": "model_choice", "samples": "samples_choice"}.get(source.kind)
        if selection:
            st.session_state[selection] = source.key
        else:
            st.session_state["logs_choice"] = [*st.session_state.get("logs_choice", []), source.key]


def _label(source: Source) -> str:
    tag = {"demo": "demo", "local": "local", "upload": "uploaded"}[source.origin]
    return f"{source.label} ({tag})"


def _sidebar() -> None:
    args = _arguments()
    workspace = cached.workspace(args.logdir, args.model, args.samples, demos=not args.no_demos)
    with st.sidebar:
        st.markdown("### Workspace")
        uploaded = st.file_uploader(
            "Add your own files",
            accept_multiple_files=True,
            help="Models (.keras, .h5), logs (TensorBoard event files, CSVLogger .csv, JSON history) "
            "and sample sets (.npz with x and y, images, .txt lines). Only this session sees them.",
            key="uploader",
        )
        _remember_uploads(uploaded)
        for message in st.session_state.pop("upload_errors", []):
            st.error(message)
        for message in workspace.problems:
            st.warning(message)

        uploads = st.session_state.get("uploads", [])
        models = [*workspace.models, *(s for s in uploads if s.kind == "model")]
        logs = [*workspace.logs, *(s for s in uploads if s.kind == "logs")]
        samples = [*workspace.samples, *(s for s in uploads if s.kind == "samples")]
        by_key = {source.key: source for source in (*models, *logs, *samples)}

        model_keys = [s.key for s in models]
        if st.session_state.get("model_choice") not in model_keys:
            st.session_state["model_choice"] = model_keys[0] if model_keys else None
        st.selectbox(
            "Model",
            model_keys,
            format_func=lambda key: _label(by_key[key]),
            key="model_choice",
            placeholder="No model yet: upload one",
        )
        log_keys = [s.key for s in logs]
        chosen_logs = [
            key for key in st.session_state.get("logs_choice", log_keys) if key in log_keys
        ]
        st.session_state["logs_choice"] = chosen_logs
        st.multiselect(
            "Training logs",
            log_keys,
            format_func=lambda key: _label(by_key[key]),
            key="logs_choice",
            placeholder="No logs yet: upload some",
        )
        sample_keys = [s.key for s in samples]
        if st.session_state.get("samples_choice") not in sample_keys:
            st.session_state["samples_choice"] = sample_keys[0] if sample_keys else None
        st.selectbox(
            "Sample set",
            sample_keys,
            format_func=lambda key: _label(by_key[key]),
            key="samples_choice",
            placeholder="No sample set yet: upload one",
        )
        st.caption("Open your own: `neurogenesis app --logdir DIR --model FILE`, or upload above.")

    st.session_state["model"] = by_key.get(st.session_state.get("model_choice"))
    st.session_state["logs"] = [
        by_key[key] for key in st.session_state.get("logs_choice", []) if key in by_key
    ]
    st.session_state["samples"] = by_key.get(st.session_state.get("samples_choice"))


page = st.navigation(PAGES)
_sidebar()
page.run()
