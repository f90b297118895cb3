"""Hyperparameters: which settings matter, where the best region is, and sweeps started live."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app_pages import ui
from app_pages.hyperparameters_sweeps import live_sweeps, sweep_form, upload
from app_pages.hyperparameters_views import views
from neurogenesis import cached, live
from neurogenesis.analysis.hyperparameters import AGGREGATES
from neurogenesis.workspace import holds_studies

METHOD_LABELS = {"auto": "auto", "grid": "observed grid", "gp": "Gaussian process"}


def _found_sources() -> dict[str, str]:
    """Label -> path of every search on offer: the chosen logs' sweeps and HParams folders, this
    session's uploads and its live sweeps."""
    found: dict[str, str] = {}
    for sweep in st.session_state.get("live_sweeps", [])[::-1]:
        found[f"{sweep.source().label} (live)"] = sweep.sweep_dir
    found.update(cached.trial_sources(st.session_state.get("logs", [])))
    for name, path in st.session_state.get("trial_uploads", {}).items():
        found[f"{name} (uploaded)"] = path
    return found


def _default_source(labels: list[str]) -> int:
    """The search of the sidebar model's demo scenario when there is one (a sweep folder is named
    after its scenario, the model file after its demo: "demo sweeps / weather_lstm" for
    "weather_lstm (demo)", whose file is weather_lstm.keras)."""
    model = st.session_state.get("model")
    if model is not None:
        names = {Path(model.path).stem, model.label.removesuffix(" (demo)")}
        for k, label in enumerate(labels):
            if label.rsplit(" / ", 1)[-1] in names:
                return k
    return 0


ui.start_page("Hyperparameters")
st.title("Hyperparameters")
st.caption(
    "Which settings matter, and where is the best region? The metric over any two "
    "hyperparameters with every trial on it, slices, parallel coordinates and importance."
)
with st.expander("Add trials or run a sweep", expanded=not st.session_state.get("logs")):
    upload_column, sweep_column = st.columns(2, gap="large")
    with upload_column:
        upload()
    with sweep_column:
        st.markdown("**Sweep a demo model live**")
        sweep_form(st.session_state.get("model"))

sources = _found_sources()
if not sources:
    st.info(
        "No trials yet: choose logs with a sweep in the sidebar (the demo sweeps are there), "
        "upload a CSV, sweep.json or Optuna study above, or start a sweep."
    )
    st.stop()
labels = list(sources)
model_key = getattr(st.session_state.get("model"), "key", None)
if (
    st.session_state.get("hyperparameters_source") not in labels
    or st.session_state.get("hyperparameters_for_model") != model_key
):
    # A new sidebar model brings its own sweep along, as the other pages follow it.
    st.session_state["hyperparameters_for_model"] = model_key
    st.session_state["hyperparameters_source"] = labels[_default_source(labels)]
source_label = st.selectbox("Trials", labels, key="hyperparameters_source")
path = sources[source_label]
study = None
if holds_studies(path):
    names = ui.or_stop(lambda: cached.studies(path))
    if len(names) > 1:
        ui.show_note(ui.valid_choice("hyperparameters_study", names, "study"))
        study = st.selectbox("Study", names, key="hyperparameters_study")
running = [
    sweep
    for sweep in st.session_state.get("live_sweeps", [])
    if sweep.sweep_dir == path and live.sweep_status(sweep) in live.ACTIVE_STATUSES
]
if running:
    st.fragment(run_every=live.LIVE_REFRESH_SECONDS)(live_sweeps)()
elif st.session_state.get("live_sweeps"):
    live_sweeps()

if running and not live.sweep_written(running[0]):
    st.info("The sweep has started; its first point appears here when it finishes.")
    st.stop()
trials = ui.or_stop(lambda: cached.trials(path, study))
st.caption(f"{trials.source}: {len(trials):,} trials.")
for note in trials.notes:
    st.caption(note)

settings = st.columns([2, 1, 2, 2, 2, 2])
metric = settings[0].selectbox(
    "Metric",
    trials.metrics,
    index=list(trials.metrics).index(trials.metric),
    key=f"hyperparameters_metric_{source_label}",
)
goal = settings[1].radio(
    "Goal",
    ("max", "min"),
    index=0 if trials.goals[metric] == "max" else 1,
    key=f"hyperparameters_goal_{source_label}_{metric}",
)
axes = cached.hyperparameter_axes(path, study, metric, goal) or tuple(trials.parameters[:2])
if len(trials.parameters) < 2:
    st.info("A surface needs two hyperparameters; these trials vary fewer. See the slices.")
x = settings[2].selectbox(
    "x axis",
    trials.parameters,
    index=list(trials.parameters).index(axes[0]) if axes else 0,
    key=f"hyperparameters_x_{source_label}",
)
y = settings[3].selectbox(
    "y axis",
    trials.parameters,
    index=list(trials.parameters).index(axes[1]) if len(axes) > 1 else 0,
    key=f"hyperparameters_y_{source_label}",
)
method = settings[4].selectbox(
    "Surface",
    list(METHOD_LABELS),
    format_func=METHOD_LABELS.get,
    key="hyperparameters_method",
    help="auto: the observed values when the trials cover a full grid of x and y, else a "
    "Gaussian process fitted to them (with its uncertainty).",
)
aggregate = settings[5].selectbox(
    "Trials on one node",
    AGGREGATES,
    key="hyperparameters_aggregate",
    help="Trials that share x and y but differ in other parameters: their best value, or mean.",
)


chosen = {"x": x, "y": y, "metric": metric, "goal": goal, "method": method}
chosen["aggregate"] = aggregate
if running:
    st.fragment(run_every=live.LIVE_REFRESH_SECONDS)(views)(path, study, **chosen)
else:
    views(path, study, **chosen)

ui.bundle_button()
with ui.how_to_read("Hyperparameters"):
    st.markdown(
        "The metric over two hyperparameters: the observed values for a full grid, else a "
        "Gaussian process with its uncertainty; slices, parallel coordinates and importance beside it."
    )
