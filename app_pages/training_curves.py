"""The training page's Curves tab: many runs' metrics at full precision, smoothed and grouped,
refreshed while a run is live, a dragged range read again at full detail."""

from __future__ import annotations

import time
from functools import partial

import pandas as pd
import streamlit as st

from app_pages import ui
from neurogenesis import cached
from neurogenesis.analysis.smoothing import SHORT_LOG_POINTS
from neurogenesis.analysis.training import BANDS, ROLES, SMOOTHERS, SMOOTHING_DEFAULTS, X_AXES
from neurogenesis.errors import InputError
from neurogenesis.plotting.training import plot_dashboard

NO_GROUPING = "no grouping"
# Each smoother's slider: (label, minimum, maximum, step, help).
SMOOTHING_SLIDERS = {
    "exponential": (
        "Weight",
        0.0,
        0.999,
        0.001,
        "TensorBoard's smoothing slider: the same debiased exponential moving average, value for "
        "value. 0 is no smoothing; 0.6 is TensorBoard's default.",
    ),
    "gaussian": ("Sigma (points)", 0.5, 50.0, 0.5, "Width of the Gaussian kernel, in points."),
    "moving average": ("Window (points)", 1, 501, 2, "Points averaged around each point."),
}


def _attributes(sources, chosen: list[str]) -> dict[str, dict[str, str]]:
    recorded: dict[str, dict] = {}
    for source in sources:
        try:
            recorded.update(cached.hyperparameters(source))
        except InputError:
            continue
    return {name: cached.run_attributes(name, recorded.get(name)) for name in chosen}


def _on_range_select(x_axis: str) -> None:
    """A box drawn on the chart re-reads that x range at full detail."""
    event = st.session_state.get("training_chart") or {}
    boxes = (event.get("selection") or {}).get("box") or []
    if not boxes or not boxes[0].get("x"):
        return
    ends = boxes[0]["x"][:2]
    if x_axis == "wall time":
        ends = [pd.Timestamp(end, tz="UTC").timestamp() for end in ends]
    low, high = sorted(float(end) for end in ends)
    if high > low:
        st.session_state["training_range"] = (x_axis, low, high)


def _smoothing_controls(column, num_points: int) -> tuple[str, float]:
    smoothing = column.selectbox(
        "Smoothing",
        SMOOTHERS,
        index=SMOOTHERS.index(cached.default_smoother(num_points)),
        key="training_smoothing",
        help="Exponential is TensorBoard's debiased moving average. The raw curve stays faint "
        "behind the smoothed one, and the hover reads the raw value. Logs shorter than "
        f"{SHORT_LOG_POINTS} points start unsmoothed: every point is worth seeing as it is.",
    )
    if smoothing == "none":
        return smoothing, 0.0
    label, low, high, step, help_text = SMOOTHING_SLIDERS[smoothing]
    value = column.slider(
        label,
        low,
        high,
        SMOOTHING_DEFAULTS[smoothing],
        step,
        key=f"training_smoothing_{smoothing}",
        help=help_text,
    )
    return smoothing, float(value)


def curves_view(sources, chosen: list[str], catalog, refresh_seconds: float) -> None:
    """The Curves tab for the ``chosen`` runs of ``catalog`` (name -> its runs); a live run's
    chart is redrawn every ``refresh_seconds``."""
    chosen_runs = [run for name in chosen for run in catalog[name]]
    metrics_all = cached.metric_names(chosen_runs)
    if not metrics_all:
        st.info(
            "The chosen runs log no training or validation metric (only other scalars such as "
            "gradient norms). Pick other runs above."
        )
        return
    if not set(st.session_state.get("training_metrics") or []) <= set(metrics_all):
        st.session_state.pop("training_metrics", None)
    # The first panels show what training optimised (loss, then the model's metrics), not the
    # learning rate or per-batch evaluation tags.
    secondary = ("learning_rate", "lr", "vs_iterations")
    preferred = sorted(metrics_all, key=lambda m: any(word in m.lower() for word in secondary))
    metrics = st.multiselect(
        "Metrics",
        metrics_all,
        default=preferred[:2],
        key="training_metrics",
        help="One panel per metric; training solid, validation dashed, one colour per run.",
    )
    if not metrics:
        st.info("Pick at least one metric.")
        return
    axis_column, smoothing_column, group_column, band_column = st.columns([4, 2, 2, 2])
    x_axis = (
        axis_column.segmented_control("X axis", X_AXES, default="step", key="training_x_axis")
        or "step"
    )
    longest = max(
        (series.num_points for run in chosen_runs for series in run.scalars.values()), default=0
    )
    smoothing, smoothing_value = _smoothing_controls(smoothing_column, longest)
    attributes = _attributes(sources, chosen)
    options = [NO_GROUPING, *cached.grouping_options(attributes)]
    group_by = group_column.selectbox(
        "Group runs by",
        options,
        key="training_group_by",
        help="Runs that share the value are drawn as their mean with a band: hyperparameters "
        "recorded by the RunRecorder, key_value parts of run names (lr_0.01), or the name "
        "without a seed suffix (adam_seed1, adam_seed2 -> adam).",
    )
    band = band_column.radio(
        "Band", BANDS, key="training_band", horizontal=True, disabled=group_by == NO_GROUPING,
        help="min-max: the range of the group's runs; std: mean ± one standard deviation.",
    )  # fmt: skip
    toggles = st.columns(4)
    roles = [
        role
        for role, column in zip(ROLES, toggles[:2], strict=True)
        if column.toggle(role.capitalize(), value=True, key=f"training_show_{role}")
    ]
    show_raw = toggles[2].toggle(
        "Raw curve", value=True, key="training_raw", disabled=smoothing == "none"
    )
    log_y = toggles[3].toggle("Log scale", value=False, key="training_log_y")
    groups = cached.group_runs(attributes, group_by) if group_by != NO_GROUPING else None
    settings = {
        "x_axis": x_axis,
        "smoothing": smoothing,
        "smoothing_value": smoothing_value,
        "groups": groups,
        "band": band,
        "roles": roles,
    }
    live = [name for name in chosen if any(run.live for run in catalog[name])]

    def draw() -> None:
        _draw_curves(sources, chosen, metrics, settings, log_y, show_raw, live, refresh_seconds)

    if live:
        st.fragment(run_every=refresh_seconds)(draw)()
    else:
        draw()


def _draw_curves(sources, chosen, metrics, settings, log_y, show_raw, live, refresh) -> None:
    if live:
        runs, names, _ = cached.named_runs(sources)
        writing = {
            cached.logical_run_name(name) for run, name in zip(runs, names, strict=True) if run.live
        }
        if not writing & set(live):
            st.rerun()  # every live run has ended: a full rerun stops the timer
    x_axis = settings["x_axis"]
    zoom = st.session_state.get("training_range")
    x_range = zoom[1:] if zoom and zoom[0] == x_axis else None
    try:
        info = cached.dashboard(sources, chosen, metrics, x_range=x_range, **settings)
    except InputError as error:
        st.error(str(error))
        return
    if not info.traces:
        st.info("Nothing to draw for these runs, metrics and roles.")
        for note in info.notes:
            st.caption(note)
        return
    figure = plot_dashboard(info, log_y=log_y, show_raw=show_raw)
    downsampled = any(trace.num_points > trace.x.size for trace in info.traces)
    if downsampled or x_range is not None:
        figure.update_layout(dragmode="select", selectdirection="h")
    ui.chart(
        figure,
        key="training_chart",
        name="training_curves",
        data=partial(
            cached.curves_table,
            sources,
            chosen,
            metrics,
            smoothing=settings["smoothing"],
            smoothing_value=settings["smoothing_value"],
            roles=settings["roles"],
        ),
        on_select=partial(_on_range_select, x_axis),
        selection_mode="box",
    )
    detail = (
        f"{info.total_points:,} points in the logs, {info.drawn_points:,} drawn "
        "(at most 2,000 per curve, extremes, NaN and Inf kept)."
    )
    if downsampled or x_range is not None:
        detail += " Drag across a range to read it again at full detail."
    else:
        detail += " Drag to zoom, double-click to zoom out."
    st.caption(detail)
    if x_range is not None:
        st.button(
            "Show the whole run",
            key="training_reset_range",
            on_click=lambda: st.session_state.pop("training_range", None),
        )
    for note in info.notes:
        st.caption(note)
    if live:
        if info.last_wall_time is not None:
            ago = max(time.time() - info.last_wall_time, 0.0)
            st.caption(
                f"Live: {', '.join(live)} still training; last point arrived {ago:,.0f} s ago. "
                f"The chart refreshes every {refresh} s."
            )
        else:
            st.caption(f"Live: {', '.join(live)} still training; waiting for the first point.")
