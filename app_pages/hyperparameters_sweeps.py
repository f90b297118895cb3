"""Hyperparameters, "Add trials or run a sweep": uploads of trials, a sweep of a demo model
started live, and the progress of this session's live sweeps."""

from __future__ import annotations

import streamlit as st

from app_pages import ui
from neurogenesis import cached, live
from neurogenesis.errors import InputError
from neurogenesis.workspace import TRIAL_SUFFIXES

SWEEPS_SHOWN = 3
TPE = "TPE (Optuna)"


def upload() -> None:
    """Trials files uploaded in this session, kept by name in ``trial_uploads``."""
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


def sweep_form(model) -> None:
    """Starts a sweep of a demo scenario (the sidebar ``model``'s own, when it is a demo)."""
    from neurogenesis.zoo import SCENARIO_NAMES, SCENARIOS, sweep_spec

    default = SCENARIO_NAMES.index(model.label) if model and model.label in SCENARIO_NAMES else 0
    scenario = st.selectbox(
        "Scenario",
        SCENARIO_NAMES,
        index=default,
        format_func=lambda name: SCENARIOS[name].title,
        key="hyperparameters_scenario",
    )
    spec = sweep_spec(scenario)
    target = ui.compute_target(
        "hyperparameters_compute",
        help="The cluster runs the points as Ray Tune trials, several at once, writing the same "
        "runs into the same folder: they land here as they finish.",
    )
    modes = ["grid", "random"] if target.is_local else ["grid", "random", TPE]
    mode = st.segmented_control("Points", modes, default="grid", key="hyperparameters_sweep_mode")
    grid: dict[str, list] = {}
    random = None
    if mode in ("random", TPE):
        left, right = st.columns(2)
        random = left.number_input(
            "Random points" if mode == "random" else "Trials",
            2,
            live.MAX_SWEEP_POINTS,
            8,
            key="hyperparameters_random",
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
    asha = not target.is_local and st.checkbox(
        "Stop trials that fall behind (ASHA)",
        key="hyperparameters_asha",
        help=f"After each epoch Ray Tune's ASHA stops a trial whose {spec.metric} is behind the "
        "others'; its run says how many epochs it trained.",
    )
    if st.button("Start the sweep", type="primary", key="hyperparameters_start"):
        try:
            sweep = live.start_sweep(
                scenario,
                grid=None if random is not None else grid,
                random=None if random is None else int(random),
                seed=int(seed),
                epochs=int(epochs),
                target=target,
                search="tpe" if mode == TPE else None,
                asha=asha,
            )
        except InputError as error:
            st.error(str(error))
            return
        st.session_state.setdefault("live_sweeps", []).append(sweep)
        st.session_state["hyperparameters_source"] = f"{sweep.source().label} (live)"
        st.rerun()


def live_sweeps() -> None:
    """Status, progress and a Stop button for the session's latest live sweeps."""
    sweeps = st.session_state.get("live_sweeps", [])[-SWEEPS_SHOWN:][::-1]
    for sweep in sweeps:
        status = live.sweep_status(sweep)
        done, planned = live.sweep_progress(sweep)
        header, button = st.columns([5, 1], vertical_alignment="center")
        header.markdown(f"**{sweep.source().label}** · {status} · {done} of {planned} points")
        if status in live.STOPPABLE_STATUSES and button.button(
            "Stop", key=f"stop-{sweep.sweep_id}"
        ):
            live.stop_sweep(sweep)
        st.progress(min(done / max(planned, 1), 1.0))
        if status == "failed":
            st.error(live.sweep_error(sweep) or "The sweep process failed.")
            st.code(live.sweep_log_tail(sweep) or "(no output)", language=None)
