"""Home, "Train a demo model live": start a demo scenario's training in a background process
and follow its loss as it is written."""

from __future__ import annotations

import time

import streamlit as st

from app_pages import ui
from neurogenesis import cached, live
from neurogenesis.errors import InputError
from neurogenesis.plotting.runs import curves_table
from neurogenesis.plotting.training import plot_curves

LIVE_RUNS_SHOWN = 3


def _start_form() -> None:
    from neurogenesis.zoo import SCENARIO_NAMES, SCENARIOS

    # Plain widgets, not a form: Enter in the Epochs box only sets the number; only the button
    # starts a run.
    left, middle, right = st.columns([3, 2, 1], vertical_alignment="bottom")
    scenario = left.selectbox(
        "Scenario",
        SCENARIO_NAMES,
        format_func=lambda name: SCENARIOS[name].title,
        key="live_scenario",
    )
    epochs = middle.number_input(
        "Epochs", min_value=1, max_value=live.MAX_EPOCHS, value=10, key="live_epochs"
    )
    submitted = right.button("Start training", type="primary", key="live_start")
    if submitted:
        try:
            run = live.start_training(scenario, int(epochs))
        except InputError as error:
            st.error(str(error))
            return
        st.session_state.setdefault("live_runs", []).append(run)
        st.session_state.setdefault("select_next", []).append(run.source().key)
        st.rerun()


def _live_run(run: live.LiveRun) -> None:
    status = live.training_status(run)
    done = live.epochs_completed(run)
    header, button = st.columns([5, 1], vertical_alignment="center")
    header.markdown(f"**{run.source().label}** · {status} · epoch {done} of {run.epochs}")
    if status in live.STOPPABLE_STATUSES and button.button("Stop", key=f"stop-{run.run_id}"):
        live.stop_training(run)
        status = "stopping"
    st.progress(min(done / run.epochs, 1.0))
    if status == "failed":
        st.error("The training process failed. Its last output:")
        st.code(live.training_log_tail(run) or "(no output)", language=None)
        return
    try:
        info = cached.curves(run.source(), "loss")
    except InputError:  # no log written yet
        st.caption("Waiting for the first epoch…")
        return
    if not info.curves:
        st.caption("Waiting for the first epoch…")
        return
    ui.chart(
        plot_curves(info, title=f"loss of {run.scenario}, live"),
        key=f"live-{run.run_id}",
        name=f"live_{run.scenario}_loss",
        data=curves_table(info),
    )
    if info.last_wall_time is None:
        return
    if status in live.ACTIVE_STATUSES:
        st.caption(f"Last point arrived {max(time.time() - info.last_wall_time, 0):,.0f} s ago.")
    else:  # a clock that no longer ticks would read wrong: say when, not how long ago
        clock = time.strftime("%H:%M:%S", time.localtime(info.last_wall_time))
        st.caption(f"Training {status}; its last point arrived at {clock}.")


def _live_runs(was_active: bool) -> None:
    runs = st.session_state.get("live_runs", [])[-LIVE_RUNS_SHOWN:][::-1]
    for run in runs:
        _live_run(run)
    if was_active and not any(live.training_status(run) in live.ACTIVE_STATUSES for run in runs):
        st.rerun()  # every run has ended: a full rerun stops the timer and refreshes the sidebar


def live_training() -> None:
    """Home's "Train a demo model live" section: the form, and the session's latest runs."""
    st.subheader("Train a demo model live")
    st.caption(
        "Training runs in a background process and records everything the pages use; the curves "
        "below update by themselves. The run is added to the sidebar's training logs."
    )
    with st.container():  # whatever the form shows (an error), the fragment stays in place
        _start_form()
    runs = st.session_state.get("live_runs", [])
    if not runs:
        return
    active = any(
        live.training_status(run) in live.ACTIVE_STATUSES for run in runs[-LIVE_RUNS_SHOWN:]
    )
    # In its own container, at a place that never moves: a fragment redraws where it was first
    # drawn, and a timer still pending from the previous full run would otherwise draw the
    # blocks a second time where they used to be.
    with st.container(key="live_runs_area"):
        st.fragment(run_every=live.LIVE_REFRESH_SECONDS if active else None)(_live_runs)(active)
