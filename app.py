"""NeuroGenesis dashboard: the router and the shared sidebar.

    streamlit run app.py -- --logdir runs/ --model model.keras

The sidebar picks what every page looks at (a model, log sources, a sample set) and keeps it in
``st.session_state``: ``"model"`` (a Source or None), ``"models"`` (label -> Source: every model
on offer, for comparisons), ``"logs"`` (a list of Sources) and ``"samples"`` (a Source or None). Uploads are stored under their content hash and listed only in
the session that made them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitAPIException

from app_pages.ui import links
from app_pages.ui.keep import keep_choices
from app_pages.ui.pages import PAGES as APP_PAGES
from app_pages.ui.sidebar import trusted_code_note
from neurogenesis import cached, resources
from neurogenesis.errors import InputError
from neurogenesis.workspace import KINDS, Source, save_upload

st.set_page_config(page_title="NeuroGenesis", page_icon="🧠", layout="wide")


@st.cache_resource(show_spinner=False)
def _process_tuned() -> bool:
    """Once per server: malloc's settings for a small container (neurogenesis.resources)."""
    return resources.tune_process()


_process_tuned()

# The pages and what each answers live in app_pages/ui/pages.py (Home lists the questions).
# They live in app_pages/, not pages/: Streamlit treats a pages/ folder beside the entry script as
# the legacy multipage directory, and then runs a deep-linked page's file on its own, without this
# router and its sidebar (and AppTest reruns only the page file).
PAGES = [
    st.Page(page.path, title=page.title, icon=page.icon, default=page.title == "Home")
    for page in APP_PAGES
]


LAMBDA_WARNING = (
    "Started with --unsafe-allow-lambda: Lambda layers in model files, uploads included, run "
    "the Python code stored in them. Open only files you trust."
)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="app.py", add_help=False)
    parser.add_argument("--logdir", action="append", default=[])
    parser.add_argument("--model", action="append", default=[])
    parser.add_argument("--samples", action="append", default=[])
    parser.add_argument("--no-demos", action="store_true")
    parser.add_argument("--trust", action="append", default=[])
    parser.add_argument("--unsafe-allow-lambda", action="store_true")
    parser.add_argument("--ray", default=None)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--gpus-per-worker", type=float, default=0.0)
    known, _ = parser.parse_known_args(sys.argv[1:])
    return known


@st.cache_resource(show_spinner="Importing the code trusted with --trust…")
def _trust_once(modules: tuple[str, ...], allow_lambda: bool) -> tuple[str, ...]:
    """Imports the modules the server's command line trusts (``--trust``), once per server, so
    that model files may use the classes they register, and lets Lambda layers load if it says
    ``--unsafe-allow-lambda``; returns what could not be imported. Only the command line sets
    these: no widget, upload or file can."""
    from neurogenesis.io.models import allow_lambda_layers, trust

    allow_lambda_layers(allow_lambda)
    problems = []
    for module in modules:
        try:
            trust(module)
        except InputError as error:
            problems.append(str(error))
    return tuple(problems)


def _configure_cluster(address: str, workers: int | None, gpus_per_worker: float) -> None:
    """The Ray cluster the server's command line names (``--ray``): pages with heavy work then
    offer "Compute on: this machine | the Ray cluster at ADDRESS". Only the command line sets it."""
    from neurogenesis.compute import configure_cluster, parse_target

    try:
        configure_cluster(parse_target(address, workers, gpus_per_worker))
    except InputError as error:
        st.error(str(error))


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
        st.session_state.setdefault("select_next", []).append(source.key)


def _unique_labels(sources: list[Source]) -> dict[str, Source]:
    """Sidebar text for each source: name and origin, numbered where two would read the same."""
    labels: dict[str, Source] = {}
    for source in sources:
        origin = {"demo": "demo", "local": "local", "upload": "uploaded", "live": "live"}[
            source.origin
        ]
        label = base = f"{source.label} ({origin})"
        number = 2
        while label in labels:
            label, number = f"{base} #{number}", number + 1
        labels[label] = source
    return labels


def _sidebar() -> None:
    args = _arguments()
    if args.unsafe_allow_lambda:
        st.warning(LAMBDA_WARNING, icon="⚠️")
    for problem in _trust_once(tuple(args.trust), args.unsafe_allow_lambda):
        st.error(problem)
    if args.ray:
        _configure_cluster(args.ray, args.workers, args.gpus_per_worker)
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
        live_sources = [run.source() for run in st.session_state.get("live_runs", [])]
        logs = [*workspace.logs, *(s for s in uploads if s.kind == "logs"), *live_sources]
        samples = [*workspace.samples, *(s for s in uploads if s.kind == "samples")]
        # Options are unique labels (not keys with a format_func): Streamlit keeps a widget's value
        # by its shown text, so labels are the stable identity across reruns.
        labels = {
            "model": _unique_labels(models),
            "logs": _unique_labels(logs),
            "samples": _unique_labels(samples),
        }
        model_labels, log_labels, sample_labels = (list(labels[kind]) for kind in KINDS)

        for key in st.session_state.pop("select_next", []):  # a fresh upload becomes the selection
            for kind, by_label in labels.items():
                label = next(
                    (label for label, source in by_label.items() if source.key == key), None
                )
                if label is None:
                    continue
                if kind == "logs":
                    st.session_state["logs_choice"] = [
                        *st.session_state.get("logs_choice", []),
                        label,
                    ]
                else:
                    st.session_state[f"{kind}_choice"] = label
        if st.session_state.get("model_choice") not in model_labels:
            st.session_state["model_choice"] = model_labels[0] if model_labels else None
        st.selectbox(
            "Model", model_labels, key="model_choice", placeholder="No model yet: upload one"
        )
        note = trusted_code_note(labels["model"].get(st.session_state.get("model_choice")))
        if note:
            st.caption(note)
        if not st.session_state.get("logs_initialised"):
            # Every log is selected on a session's first run; after that, what the user chose.
            st.session_state["logs_choice"] = log_labels
            st.session_state["logs_initialised"] = True
        chosen = st.session_state.get("logs_choice", [])
        if any(label not in log_labels for label in chosen):
            st.session_state["logs_choice"] = [label for label in chosen if label in log_labels]
        chosen_logs = st.multiselect(
            "Training logs", log_labels, key="logs_choice", placeholder="No logs yet: upload some"
        )
        model_choice = st.session_state.get("model_choice")
        if model_choice != st.session_state.get("previous_model_choice"):
            # A model brings its own sample set along: the demo of the same name, or a sample
            # file with the model file's stem (`--model m.keras --samples m.npz`).
            st.session_state["previous_model_choice"] = model_choice
            model = labels["model"].get(model_choice)
            twin = next(
                (
                    label
                    for label, s in labels["samples"].items()
                    if model
                    and (s.label == model.label or Path(s.path).stem == Path(model.path).stem)
                ),
                None,
            )
            if twin is not None:
                st.session_state["samples_choice"] = twin
        if st.session_state.get("samples_choice") not in sample_labels:
            st.session_state["samples_choice"] = sample_labels[0] if sample_labels else None
        st.selectbox(
            "Sample set",
            sample_labels,
            key="samples_choice",
            placeholder="No sample set yet: upload one",
        )
        st.caption("Open your own: `neurogenesis app --logdir DIR --model FILE`, or upload above.")

    links.check_sidebar({kind: list(by_label) for kind, by_label in labels.items()})
    st.session_state["model"] = labels["model"].get(st.session_state.get("model_choice"))
    st.session_state["models"] = labels["model"]  # every model on offer, by label (to compare)
    st.session_state["logs"] = [
        labels["logs"][label] for label in chosen_logs if label in labels["logs"]
    ]
    st.session_state["samples"] = labels["samples"].get(st.session_state.get("samples_choice"))


# Every page's choices survive leaving it and coming back (app_pages/ui/keep.py); a link's
# choices are set when a session opens (app_pages/ui/links.py).
keep_choices()
links.open_link()
_sidebar()
link_slot = st.sidebar.empty()
links.copy_link_control(link_slot)  # the page's own choices join it once the page has run
page = st.navigation(PAGES)
links.show_notes()
try:
    page.run()
except StreamlitAPIException:
    if links.undo():  # a widget refused a value the link set: the page's defaults instead
        st.rerun()
    raise
else:
    links.after_run()
    links.copy_link_control(link_slot, links.drawn_widgets())
finally:  # what this run freed goes back to the system, not to a bloated heap
    resources.release_free_memory()
