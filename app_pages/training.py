"""Training dynamics: did training go well, when should it have stopped, and are the layers healthy?"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app_pages import ui
from app_pages.training_curves import curves_view
from app_pages.training_dynamics import dynamics_view
from app_pages.training_early_stopping import early_stopping_view
from app_pages.training_layer_health import layer_health_view
from app_pages.training_optimization import optimization_view
from neurogenesis import cached, live

TABS = ("Curves", "Early stopping", "Optimization", "Layer health", "Dynamics")
LIVE_ACTIVE = live.ACTIVE_STATUSES
DEFAULT_RUNS = 6


def _catalog(sources):
    """The runs of the selected logs, by logical name (a Keras run's train and validation folders
    are one run), with the sources' errors shown."""
    runs, names, errors = cached.named_runs(sources)
    starting = [
        source.label
        for source in sources
        if source.origin == "live" and live.folder_status(source.path) in LIVE_ACTIVE
    ]
    for message in errors:
        label = next((label for label in starting if message.startswith(f"{label}: ")), None)
        if label is None:
            st.error(message)
        else:  # a live run that has not written its log yet is starting, not broken
            st.caption(f"{label}: starting; its log has not been written yet.")
    catalog: dict[str, list] = {}
    for run, name in zip(runs, names, strict=True):
        catalog.setdefault(cached.logical_run_name(name), []).append(run)
    return catalog


def _default_runs(catalog: dict[str, list]) -> list[str]:
    """The first folder's recorded runs (the zoo's optimizer comparison), else its first runs."""
    names = list(catalog)

    def folder(name: str) -> tuple[str, str]:
        run = catalog[name][0]
        return (name.rsplit("/", 1)[0] if "/" in name else ""), str(Path(run.path).parent)

    same = [name for name in names if folder(name) == folder(names[0])]
    recorded = [n for n in same if all(run.format == "neurogenesis" for run in catalog[n])]
    return (recorded or same)[:DEFAULT_RUNS]


ui.start_page("Training dynamics")
st.title("Training dynamics")
st.markdown(
    "Did training go well? Curves of many runs at full precision, when training should have "
    "stopped, how the optimizer behaved and whether the layers stayed healthy."
)
sources = st.session_state.get("logs", [])
if not sources:
    st.info(
        "No logs selected. Pick the demo runs in the sidebar, upload TensorBoard event files, a "
        "CSVLogger .csv or a JSON history, or start with `neurogenesis app --logdir DIR`."
    )
    st.stop()
catalog = _catalog(sources)
if not catalog:
    st.info("No runs found in the selected logs.")
    st.stop()
model_source = st.session_state.get("model")
mine = ui.model_runs(
    model_source, {name: [run.path for run in runs] for name, runs in catalog.items()}
)
if st.session_state.get("training_for_model") != getattr(model_source, "key", None):
    # A new sidebar model: start again from its runs (the user's own picks last until then).
    st.session_state["training_for_model"] = getattr(model_source, "key", None)
    for key in ("training_runs", "training_smoothing"):
        st.session_state.pop(key, None)
if not set(st.session_state.get("training_runs") or []) <= set(catalog):
    st.session_state.pop("training_runs", None)
chosen = st.multiselect(
    "Runs",
    [*mine, *(name for name in catalog if name not in mine)],
    default=_default_runs({name: catalog[name] for name in mine})
    if mine
    else _default_runs(catalog),
    key="training_runs",
    help="A Keras TensorBoard log's train and validation folders count as one run. The sidebar "
    "model's own runs come first and are chosen when the model changes.",
)
if model_source is not None and not mine:
    st.caption(
        f"None of the selected logs is a recorded run of {model_source.label}; showing the first "
        "runs found. Add its logs in the sidebar to see its training."
    )
if not chosen:
    st.info("Pick at least one run.")
    st.stop()

tabs = dict(zip(TABS, st.tabs(TABS, key="training_tab", on_change="rerun"), strict=True))
with tabs["Curves"]:
    if tabs["Curves"].open:
        curves_view(sources, chosen, catalog, live.LIVE_REFRESH_SECONDS)
with tabs["Early stopping"]:
    if tabs["Early stopping"].open:
        early_stopping_view(sources, chosen)
with tabs["Optimization"]:
    if tabs["Optimization"].open:
        optimization_view(sources, chosen)
with tabs["Layer health"]:
    if tabs["Layer health"].open:
        layer_health_view(sources, chosen)
with tabs["Dynamics"]:
    if tabs["Dynamics"].open:
        dynamics_view(sources, chosen)

ui.bundle_button()
with ui.how_to_read("Training dynamics"):
    st.markdown(
        "Training solid, validation dashed, one colour per run; the faint raw curve and the ★ "
        "(the best raw value) show what smoothing hides. A gap that widens while the training "
        "loss falls is overfitting."
    )
