"""Hyperparameters: which settings matter, where the best region is, and sweeps started live."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from app_pages import ui
from neurogenesis import cached, live
from neurogenesis.analysis.hyperparameters import AGGREGATES, default_axes, surface_problem
from neurogenesis.errors import InputError
from neurogenesis.plotting.hyperparameters import (
    plot_importance,
    plot_parallel_coordinates,
    plot_slices,
    plot_surface_3d,
    plot_surface_contour,
)
from neurogenesis.workspace import TRIAL_SUFFIXES

TABS = ("Surface", "Contours", "Parallel coordinates", "Slices", "Importance", "Trials")
METHOD_LABELS = {"auto": "auto", "grid": "observed grid", "gp": "Gaussian process"}
LIVE_REFRESH_SECONDS = 2
ACTIVE = ("starting", "running", "stopping")
SWEEPS_SHOWN = 3


def _found_sources() -> dict[str, str]:
    """Label -> path of every search on offer: the chosen logs' sweeps and HParams folders, this
    session's uploads and its live sweeps."""
    found: dict[str, str] = {}
    for sweep in st.session_state.get("live_sweeps", [])[::-1]:
        found[f"{sweep.source().label} (live)"] = sweep.sweep_dir
    for source in st.session_state.get("logs", []):
        for path in cached.trial_sources(source):
            relative = Path(path).relative_to(source.path) if path != source.path else Path()
            label = source.label if not relative.parts else f"{source.label} / {relative}"
            found[label] = path
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


def _upload() -> None:
    files = st.file_uploader(
        "Add trials",
        type=[suffix.lstrip(".") for suffix in TRIAL_SUFFIXES],
        accept_multiple_files=True,
        key="hyperparameters_upload",
        help="A CSV with one row per trial (parameters and metrics as columns; Optuna's "
        "trials_dataframe() works as is), a sweep.json, or an Optuna SQLite storage file. "
        "TensorBoard HParams logs are found under the sidebar's training logs.",
    )
    uploads = st.session_state.setdefault("trial_uploads", {})
    for file in files or []:
        if file.name in uploads:
            continue
        try:
            uploads[file.name] = cached.save_trials_upload(file.name, file.getvalue())
        except InputError as error:
            st.error(str(error))


def _sweep_form() -> None:
    from neurogenesis.zoo import SCENARIO_NAMES, SCENARIOS, sweep_spec

    model = st.session_state.get("model")
    default = SCENARIO_NAMES.index(model.label) if model and model.label in SCENARIO_NAMES else 0
    scenario = st.selectbox(
        "Scenario",
        SCENARIO_NAMES,
        index=default,
        format_func=lambda name: SCENARIOS[name].title,
        key="hyperparameters_scenario",
    )
    spec = sweep_spec(scenario)
    mode = st.segmented_control(
        "Points", ["grid", "random"], default="grid", key="hyperparameters_sweep_mode"
    )
    grid: dict[str, list] = {}
    random = None
    if mode == "random":
        left, right = st.columns(2)
        random = left.number_input(
            "Random points", 2, live.MAX_SWEEP_POINTS, 8, key="hyperparameters_random"
        )
        seed = right.number_input("Seed", 0, 10_000, 0, key="hyperparameters_random_seed")
        st.caption(
            "Drawn from: "
            + "; ".join(f"{name} {values}" for name, values in spec.random_space.items())
        )
    else:
        seed = 0
        for name, values in spec.grid.items():
            grid[name] = st.multiselect(
                name, values, default=values, key=f"hyperparameters_grid_{scenario}_{name}"
            )
    epochs = st.number_input(
        "Epochs per point", 1, live.MAX_SWEEP_EPOCHS, spec.epochs, key="hyperparameters_epochs"
    )
    if st.button("Start the sweep", type="primary", key="hyperparameters_start"):
        try:
            sweep = live.start_sweep(
                scenario,
                grid=None if mode == "random" else grid,
                random=None if mode != "random" else int(random),
                seed=int(seed),
                epochs=int(epochs),
            )
        except InputError as error:
            st.error(str(error))
            return
        st.session_state.setdefault("live_sweeps", []).append(sweep)
        st.session_state["hyperparameters_source"] = f"{sweep.source().label} (live)"
        st.rerun()


def _live_sweeps() -> None:
    sweeps = st.session_state.get("live_sweeps", [])[-SWEEPS_SHOWN:][::-1]
    for sweep in sweeps:
        status = live.sweep_status(sweep)
        done, planned = live.sweep_progress(sweep)
        header, button = st.columns([5, 1], vertical_alignment="center")
        header.markdown(f"**{sweep.source().label}** · {status} · {done} of {planned} points")
        if status in ("starting", "running") and button.button(
            "Stop", key=f"stop-{sweep.sweep_id}"
        ):
            live.stop_sweep(sweep)
        st.progress(min(done / max(planned, 1), 1.0))
        if status == "failed":
            st.error(live.sweep_error(sweep) or "The sweep process failed.")
            st.code(live.sweep_log_tail(sweep) or "(no output)", language=None)


def surface_table(surface) -> pd.DataFrame:
    """Every node of the surface: x, y (category names for categorical axes), the metric there
    and, for a Gaussian process, its standard deviation."""

    def named(values, categories):
        values = np.asarray(values)
        if categories and np.all((values >= 0) & (values < len(categories))):
            return np.asarray([categories[int(round(v))] for v in values], dtype=object)
        return values

    xs = named(surface.x_values, surface.x_categories)
    ys = named(surface.y_values, surface.y_categories)
    table = {
        surface.x: np.tile(xs, len(ys)),
        surface.y: np.repeat(ys, len(xs)),
        surface.metric: np.asarray(surface.z, dtype=np.float64).ravel(),
    }
    if surface.z_std is not None:
        table[f"{surface.metric} std"] = np.asarray(surface.z_std, dtype=np.float64).ravel()
    return pd.DataFrame(table)


ui.start_page("Hyperparameters")
st.title("Hyperparameters")
st.caption(
    "Which settings matter, and where is the best region? The metric over any two "
    "hyperparameters with every trial on it, slices, parallel coordinates and importance."
)
with st.expander("Add trials or run a sweep", expanded=not st.session_state.get("logs")):
    upload_column, sweep_column = st.columns(2, gap="large")
    with upload_column:
        _upload()
    with sweep_column:
        st.markdown("**Sweep a demo model live**")
        _sweep_form()

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
if Path(path).suffix.lower() in (".db", ".sqlite", ".sqlite3"):
    names = ui.or_stop(lambda: cached.studies(path))
    if len(names) > 1:
        study = st.selectbox("Study", names, key="hyperparameters_study")
running = [
    sweep
    for sweep in st.session_state.get("live_sweeps", [])
    if sweep.sweep_dir == path and live.sweep_status(sweep) in ACTIVE
]
if running:
    st.fragment(run_every=LIVE_REFRESH_SECONDS)(_live_sweeps)()
elif st.session_state.get("live_sweeps"):
    _live_sweeps()

if running and not Path(path, "sweep.json").is_file():
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
axes = default_axes(trials.with_goal(metric, goal), metric) or tuple(trials.parameters[:2])
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


def _views() -> None:
    found = ui.or_stop(lambda: cached.trials(path, study))
    problem = surface_problem(found, x, y, metric) if x and y else "Choose two parameters."
    surface = None
    if problem is None:
        surface = ui.or_stop(
            lambda: cached.hyperparameter_surface(
                path, study, x, y, metric, goal, method, aggregate
            )
        )
        shown = ", ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}"
                          for k, v in surface.best_params.items())  # fmt: skip
        st.success(
            f"Best trial **{surface.best_name}**: {metric} = {surface.best_value:.4g} ({shown})."
        )
        for note in surface.notes:
            st.caption(note)
    tabs = dict(zip(TABS, st.tabs(TABS, key="hyperparameters_tab", on_change="rerun"), strict=True))
    with tabs["Surface"]:
        if tabs["Surface"].open:
            if surface is None:
                st.info(problem)
            else:
                log_color = st.toggle(
                    "Colour on a log scale",
                    key="hyperparameters_log",
                    help="For a metric spanning decades (a loss); the colour bar still reads in "
                    "the metric's own units.",
                )
                ui.chart(
                    plot_surface_3d(surface, log_color=log_color),
                    key="hyperparameters_surface",
                    data=surface_table(surface),
                )
    with tabs["Contours"]:
        if tabs["Contours"].open:
            if surface is None:
                st.info(problem)
            else:
                ui.chart(
                    plot_surface_contour(surface),
                    key="hyperparameters_contour",
                    data=surface_table(surface),
                )
    slices, parallel = ui.or_stop(lambda: cached.hyperparameter_views(path, study, metric, goal))
    with tabs["Parallel coordinates"]:
        if tabs["Parallel coordinates"].open:
            ui.chart(
                plot_parallel_coordinates(parallel),
                key="hyperparameters_parallel",
                data=found.to_frame,
            )
            st.caption("Drag along an axis to keep only the trials in that range (brushing).")
    with tabs["Slices"]:
        if tabs["Slices"].open:
            color_by = st.segmented_control(
                "Colour by", ["order", "metric"], default="order", key="hyperparameters_color"
            )
            ui.chart(
                plot_slices(slices, color_by=color_by or "order"),
                key="hyperparameters_slices",
                data=found.to_frame,
            )
    with tabs["Importance"]:
        if tabs["Importance"].open:
            importance = ui.or_stop(
                lambda: cached.hyperparameter_importance(path, study, metric, goal)
            )
            ui.chart(
                plot_importance(importance),
                key="hyperparameters_importance",
                data=pd.DataFrame(
                    {
                        "parameter": importance.parameters,
                        "importance": importance.importance,
                        "permutation drop": importance.permutation_mean,
                        "permutation drop std": importance.permutation_std,
                    }
                ),
            )
            for note in importance.notes:
                st.caption(note)
    with tabs["Trials"]:
        if tabs["Trials"].open:
            table = found.to_frame()
            st.dataframe(table, hide_index=True, width="stretch")
            st.download_button(
                "Trials (CSV)",
                table.to_csv(index=False).encode("utf-8"),
                file_name="trials.csv",
                mime="text/csv",
                key="hyperparameters_csv",
                on_click="ignore",
            )


if running:
    st.fragment(run_every=LIVE_REFRESH_SECONDS)(_views)()
else:
    _views()

ui.bundle_button()
with ui.how_to_read("Hyperparameters"):
    st.markdown(
        "**The surface** shows the metric over two hyperparameters. When the trials cover every "
        "combination of the two (a grid sweep), it is the observed values themselves, nothing "
        "invented. For irregular trials (a random or Bayesian search) it is a **Gaussian "
        "process** fitted to them (scikit-learn, Matérn kernel with a noise term); the grey "
        "sheets above and below are ±1 standard deviation, wide where no trial is near. Trials "
        "are the orange points, the best trial the red diamond, the best region (within 5% of "
        "the surface's range of its best value) green. Parameters spread over decades (a "
        "learning rate) are on a log axis. Other parameters are not fixed on the surface: "
        "trials sharing an (x, y) node are combined by their best value or mean.\n\n"
        "**Parallel coordinates**: one line per trial through every parameter and the metric; "
        "drag along an axis to keep a range and see which settings the good trials share.\n\n"
        "**Slices**: the metric against each parameter alone, every trial a point; a flat "
        "slice means the parameter hardly matters in this range (or its effect depends on "
        "another parameter).\n\n"
        "**Importance** is fANOVA-style (Hutter et al. 2014): a random forest is fitted to the "
        "trials, and each parameter's share is the variance of the forest's prediction as that "
        "parameter alone changes, over the total variance. With few trials it is rough: the "
        "permutation drop beside it is a second opinion.\n\n"
        "**Pitfalls**: a surface over two parameters hides interactions with the others; a GP "
        "can invent a smooth valley between distant trials (check the uncertainty); a short "
        "sweep (few epochs per point) ranks settings by how fast they learn, not where they end."
    )
