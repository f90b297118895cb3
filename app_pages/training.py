"""Training dynamics: did training go well, when should it have stopped, and are the layers healthy?"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from app_pages import ui
from neurogenesis import cached, live
from neurogenesis.analysis.convergence import metric_goal
from neurogenesis.analysis.layer_health import dead_unit_rows
from neurogenesis.analysis.smoothing import SHORT_LOG_POINTS, default_smoother
from neurogenesis.analysis.training import (
    BANDS,
    ROLES,
    SMOOTHERS,
    SMOOTHING_DEFAULTS,
    X_AXES,
    curves_table,
    group_runs,
    grouping_options,
    logical_run_name,
    metric_names,
    run_attributes,
)
from neurogenesis.errors import InputError
from neurogenesis.plotting.convergence import (
    plot_convergence,
    plot_correlations,
    plot_early_stopping,
    plot_trajectory_3d,
)
from neurogenesis.plotting.layer_health import (
    plot_batch_norm_effect,
    plot_dead_units,
    plot_distribution,
    plot_histogram_heatmap,
    plot_histogram_offset,
    plot_histogram_overlay,
    plot_unit_activity,
)
from neurogenesis.plotting.optimization import (
    plot_gradient_heatmap,
    plot_learning_rate,
    plot_optimizer_comparison,
    plot_update_cosine,
    plot_weight_evolution,
    plot_weight_trajectories,
)
from neurogenesis.plotting.training import plot_dashboard

TABS = ("Curves", "Early stopping", "Optimization", "Layer health", "Dynamics")
WEIGHT_QUANTITIES = {
    "norm": "weight norm",
    "distance": "distance from init",
    "relative_distance": "relative distance",
}
HISTOGRAM_MODES = ("offset", "overlay", "heatmap", "distribution")
CORRELATION_METHODS = ("pearson", "spearman", "kendall")
LIVE_REFRESH_SECONDS = 2
LIVE_ACTIVE = ("starting", "running", "stopping")
DEFAULT_RUNS = 6
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
        catalog.setdefault(logical_run_name(name), []).append(run)
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


def _attributes(sources, chosen: list[str]) -> dict[str, dict[str, str]]:
    recorded: dict[str, dict] = {}
    for source in sources:
        try:
            recorded.update(cached.hyperparameters(source))
        except InputError:
            continue
    return {name: run_attributes(name, recorded.get(name)) for name in chosen}


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
        index=SMOOTHERS.index(default_smoother(num_points)),
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


def curves_view(sources, chosen: list[str], catalog) -> None:
    chosen_runs = [run for name in chosen for run in catalog[name]]
    metrics_all = metric_names(chosen_runs)
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
    options = [NO_GROUPING, *grouping_options(attributes)]
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
    groups = group_runs(attributes, group_by) if group_by != NO_GROUPING else None
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
        _draw_curves(sources, chosen, metrics, settings, log_y, show_raw, live)

    if live:
        st.fragment(run_every=LIVE_REFRESH_SECONDS)(draw)()
    else:
        draw()


def _draw_curves(sources, chosen, metrics, settings, log_y, show_raw, live) -> None:
    if live:
        runs, names, _ = cached.named_runs(sources)
        writing = {
            logical_run_name(name) for run, name in zip(runs, names, strict=True) if run.live
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
        data=partial(_curves_table, sources, chosen, metrics, settings),
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
                f"The chart refreshes every {LIVE_REFRESH_SECONDS} s."
            )
        else:
            st.caption(f"Live: {', '.join(live)} still training; waiting for the first point.")


def _curves_table(sources, chosen, metrics, settings) -> pd.DataFrame:
    """Every logged point of the drawn curves (not the downsampled ones), read when downloaded."""
    runs, names = cached.chosen_runs(sources, chosen)
    return curves_table(
        runs,
        metrics,
        names=names,
        smoothing=settings["smoothing"],
        smoothing_value=settings["smoothing_value"],
        roles=settings["roles"],
    )


def _pick_run(chosen: list[str], key: str, label: str = "Run", options=None) -> str | None:
    options = list(options if options is not None else chosen)
    if not options:
        return None
    if st.session_state.get(key) not in options:
        st.session_state.pop(key, None)
    return st.selectbox(label, options, key=key)


def _table(sources, run: str):
    try:
        return cached.epoch_table(sources, run)
    except InputError as error:
        st.info(str(error))
        return None


def early_stopping_view(sources, chosen: list[str]) -> None:
    columns = st.columns([3, 2, 2, 2, 3], vertical_alignment="bottom")
    with columns[0]:
        run = _pick_run(chosen, "training_es_run")
    table = _table(sources, run)
    if table is None:
        return
    metrics = table.metrics
    with columns[1]:
        if st.session_state.get("training_es_metric") not in metrics:
            st.session_state.pop("training_es_metric", None)
        metric = st.selectbox("Metric", metrics, key="training_es_metric")
    patience = columns[2].number_input(
        "Patience", 0, 500, 5, key="training_es_patience",
        help="Epochs without improvement that EarlyStopping waits before it stops.",
    )  # fmt: skip
    min_delta = columns[3].number_input(
        "Min delta", 0.0, None, 0.0, format="%g", key="training_es_min_delta",
        help="The smallest change that counts as an improvement (Keras's min_delta).",
    )  # fmt: skip
    restore = columns[4].toggle(
        "Restore best weights", value=True, key="training_es_restore",
        help="Keras's restore_best_weights: the model keeps the best epoch's weights, not the "
        "last ones.",
    )  # fmt: skip
    try:
        report = cached.early_stopping(
            sources, run, metric, patience=int(patience), min_delta=float(min_delta),
            restore_best_weights=restore,
        )  # fmt: skip
    except InputError as error:
        st.info(str(error))
        return
    ui.chart(
        plot_early_stopping(report),
        key="training_es_chart",
        data=pd.DataFrame(
            {
                "epoch": report.epochs,
                **({"train": report.train_values} if report.train_values is not None else {}),
                **(
                    {"validation": report.validation_values}
                    if report.validation_values is not None
                    else {}
                ),
            }
        ),
    )
    st.markdown("\n".join(f"- {finding}" for finding in report.findings))
    rows = []
    for other in chosen:
        try:
            table = cached.epoch_table(sources, other)
            if metric not in table.metrics:
                continue
            other_report = cached.early_stopping(
                sources, other, metric, patience=int(patience), min_delta=float(min_delta),
                restore_best_weights=restore,
            )  # fmt: skip
        except InputError:
            continue
        stopping = other_report.early_stopping
        rows.append(
            {
                "run": other,
                "monitored": other_report.monitored,
                f"best {metric}": other_report.best_value,
                "best epoch": other_report.best_epoch,
                f"stops after (patience {int(patience)})": stopping.stopped_epoch,
                "epochs saved": other_report.epochs_saved,
                "overfitting from": other_report.overfitting_onset,
                "diverged at": other_report.divergence_epoch,
            }
        )
    if len(rows) > 1:
        st.markdown(f"**Every chosen run**, {metric}, the same EarlyStopping settings:")
        st.dataframe(_readable(pd.DataFrame(rows)), hide_index=True)


def dynamics_view(sources, chosen: list[str]) -> None:
    run = _pick_run(chosen, "training_dyn_run")
    table = _table(sources, run)
    if table is None:
        return
    st.markdown("##### How the metrics move together")
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    varying = [c for c in table.columns if np.nanmax(table.column(c)) > np.nanmin(table.column(c))]
    default = [c for c in varying if not c.startswith("gradient_norm/") or c.endswith("/global")]
    key = f"training_dyn_columns:{run}"
    if not set(st.session_state.get(key) or []) <= set(table.columns):
        st.session_state.pop(key, None)
    columns = left.multiselect("Series", table.columns, default=default[:10], key=key)
    method = right.selectbox(
        "Method", CORRELATION_METHODS, format_func=str.capitalize, key="training_dyn_method",
        help="Pearson: linear; Spearman and Kendall: rank (any monotone relation).",
    )  # fmt: skip
    if len(columns) >= 2:
        info = cached.correlations(sources, run, columns, method)
        ui.chart(
            plot_correlations(info),
            key="training_correlations",
            data=pd.DataFrame(info.matrix, index=list(info.names), columns=list(info.names)),
        )
    else:
        st.caption("Pick at least two series.")

    st.markdown("##### The training trajectory")
    metrics = [c for c in table.columns if c.split(" ")[0] in ROLES]
    columns = st.columns([2, 2, 1, 1], vertical_alignment="bottom")

    def first(*wanted: str) -> int:
        return next((metrics.index(name) for name in wanted if name in metrics), 0)

    x_name = columns[0].selectbox(
        "X", metrics, index=first("validation loss", "train loss"), key=f"training_traj_x:{run}"
    )
    # Y: the model's own metric (accuracy, mae, ...) on validation, else on training.
    others = [m for m in metrics if not m.endswith(" loss") and "learning_rate" not in m]
    y_default = first(
        "validation accuracy",
        *(m for m in others if m.startswith("validation ")),
        "train accuracy",
        *others,
        *metrics[1:2],
    )
    y_name = columns[1].selectbox("Y", metrics, index=y_default, key=f"training_traj_y:{run}")
    window = columns[2].number_input(
        "Window", 1, 21, 3, step=2, key="training_traj_window",
        help="Epochs averaged into each momentum arrow (odd).",
    )  # fmt: skip
    arrows = columns[3].toggle("Arrows", value=True, key="training_traj_arrows")
    try:
        trajectory = cached.trajectory(sources, run, x_name, y_name, int(window))
    except InputError as error:
        st.info(str(error))
    else:
        ui.chart(plot_trajectory_3d(trajectory, show_arrows=arrows), key="training_trajectory")

    st.markdown("##### Convergence")
    columns = st.columns([3, 2], vertical_alignment="bottom")
    column = columns[0].selectbox(
        "Series", metrics, index=first("validation loss", "train loss"),
        key=f"training_conv_column:{run}",
    )  # fmt: skip
    threshold = columns[1].select_slider(
        "Converged within", [0.001, 0.005, 0.01, 0.02, 0.05, 0.1], value=0.01,
        format_func=lambda v: f"{v:.1%} of the improvement", key="training_conv_threshold",
    )  # fmt: skip
    goal = metric_goal(column.split(" ", 1)[-1]) or "min"
    try:
        info = cached.convergence(sources, run, column, goal, threshold)
    except InputError as error:
        st.info(str(error))
        return
    ui.chart(
        plot_convergence(info, metric=column),
        key="training_convergence",
        data=pd.DataFrame(
            {"epoch": info.epochs, column: info.values, "fitted": info.fitted_values}
        ),
    )


def optimization_view(sources, chosen: list[str]) -> None:
    st.markdown("##### Learning rate")
    rates = cached.learning_rates(sources, chosen)
    if rates.series:
        log_y = st.toggle("Log scale", value=True, key="training_lr_log")
        ui.chart(plot_learning_rate(rates, log_y=log_y), key="training_lr_chart")
    for note in rates.notes:
        st.caption(note)

    st.markdown("##### Optimizers side by side")
    tables = [cached.epoch_table(sources, run) for run in chosen if _has_table(sources, run)]
    metrics = list(dict.fromkeys(m for table in tables for m in table.metrics))
    if len(chosen) < 2 or not metrics:
        st.caption("Choose two or more runs above to compare them (the demo: adam, sgd, rmsprop).")
    else:
        metric = st.selectbox("Metric", metrics, key="training_opt_metric")
        comparison = cached.optimizer_comparison(sources, chosen, metric)
        summary = pd.DataFrame(comparison.summary_rows())
        ui.chart(plot_optimizer_comparison(comparison), key="training_opt_chart", data=summary)
        st.dataframe(_readable(summary), hide_index=True)

    st.markdown("##### Gradient norms per layer")
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    with left:
        run = _pick_run(chosen, "training_grad_run")
    by = right.segmented_control(
        "Rows", ("layer", "variable"), default="layer", key="training_grad_by"
    ) or "layer"  # fmt: skip
    gradients = cached.gradient_norms(sources, run, by)
    if gradients.available:
        ui.chart(plot_gradient_heatmap(gradients), key="training_grad_chart")
    else:
        st.info(gradients.reason)

    st.markdown("##### Weights over training")
    recorded = [run for run in chosen if cached.recorded_path(sources, run)]
    if not recorded:
        st.info(
            "Weight norms, distances from initialization and update directions need the weight "
            "checkpoints that neurogenesis.RunRecorder writes; none of the chosen runs has them."
        )
        return
    left, right = st.columns([2, 3], vertical_alignment="bottom")
    with left:
        run = _pick_run(recorded, "training_weights_run")
    quantity = right.segmented_control(
        "Show", list(WEIGHT_QUANTITIES), default="distance", format_func=WEIGHT_QUANTITIES.get,
        key="training_weights_quantity",
    ) or "distance"  # fmt: skip
    path = cached.recorded_path(sources, run)
    try:
        evolution = cached.weight_evolution(path)
    except InputError as error:
        st.info(str(error))
        return
    ui.chart(plot_weight_evolution(evolution, quantity), key="training_weights_chart")
    ui.chart(plot_update_cosine(evolution), key="training_cosine_chart")
    for note in evolution.notes:
        st.caption(note)
    variables = [v for group in evolution.variables for v in group]
    if variables:
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        with left:
            variable = _pick_run(variables, f"training_weights_variable:{run}", "Variable")
        count = right.number_input("Weights", 1, 32, 8, key="training_weights_count")
        try:
            trajectories = cached.weight_trajectories(path, variable, count)
        except InputError as error:
            st.info(str(error))
        else:
            ui.chart(plot_weight_trajectories(trajectories), key="training_trajectories_chart")


def _readable(frame: pd.DataFrame) -> pd.DataFrame:
    """A table as text: numbers to 4 significant digits, missing values as a dash."""

    def text(value) -> str:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return "—"
        if isinstance(value, (bool, np.bool_)):
            return str(value)
        if isinstance(value, (int, np.integer)):
            return f"{value:,}"
        if isinstance(value, (float, np.floating)):
            if np.isfinite(value) and abs(value) >= 1000:
                return f"{value:,.0f}" if abs(value) >= 10_000 else f"{value:,.1f}"
            return f"{value:.4g}"
        return str(value)

    return frame.map(text)


def _has_table(sources, run: str) -> bool:
    try:
        cached.epoch_table(sources, run)
    except InputError:
        return False
    return True


def layer_health_view(sources, chosen: list[str]) -> None:
    with_histograms = [run for run in chosen if cached.histogram_tags(sources, run)]
    st.markdown("##### Distributions over training")
    if not with_histograms:
        st.info(
            "None of the chosen runs logged histograms. Record a run with "
            "neurogenesis.RunRecorder (activations and weights every epoch) or Keras's "
            "TensorBoard(histogram_freq=1)."
        )
    else:
        columns = st.columns([2, 3, 3], vertical_alignment="bottom")
        with columns[0]:
            run = _pick_run(with_histograms, "training_hist_run")
        tags = cached.histogram_tags(sources, run)
        with columns[1]:
            tag = _pick_run(tags, f"training_hist_tag:{run}", "Histogram", tags)
        mode = columns[2].segmented_control(
            "View", HISTOGRAM_MODES, default="offset", key="training_hist_mode",
            help="TensorBoard's offset (one outline per step, stacked) and overlay modes, a "
            "heatmap of the density, or the distribution's percentile bands.",
        ) or "offset"  # fmt: skip
        try:
            info = cached.histogram(sources, run, tag)
        except InputError as error:
            st.info(str(error))
        else:
            draw = {
                "offset": plot_histogram_offset,
                "overlay": plot_histogram_overlay,
                "heatmap": plot_histogram_heatmap,
                "distribution": plot_distribution,
            }[mode]
            ui.chart(draw(info), key="training_histogram")

    st.markdown("##### Dead units")
    recorded = [run for run in chosen if cached.recorded_path(sources, run)]
    if not recorded:
        st.info(
            "Dead units need the per-unit activation statistics that neurogenesis.RunRecorder "
            "writes on its probe batch; none of the chosen runs has them."
        )
    else:
        columns = st.columns([2, 2], vertical_alignment="bottom")
        with columns[0]:
            run = _pick_run(recorded, "training_dead_run")
        threshold = columns[1].slider(
            "Dead when zero on at least", 0.80, 1.0, 0.99, 0.01, format="%.2f",
            key="training_dead_threshold",
            help="A unit is dead when its output is exactly zero on this share of the probe "
            "batch (and positions, for convolutions and sequences).",
        )  # fmt: skip
        try:
            info = cached.dead_units(cached.recorded_path(sources, run), threshold)
        except InputError as error:
            st.info(str(error))
        else:
            frame = pd.DataFrame(dead_unit_rows(info))
            ui.chart(plot_dead_units(info), key="training_dead_chart", data=frame)
            # A static table: its cells wrap, so the unit lists and notes are never cut off.
            shown = frame.assign(
                **{
                    column: frame[column].map(
                        lambda v: "—" if v is None or pd.isna(v) else f"{v:.0%}"
                    )
                    for column in ("share dead", "utilization")
                }
            ).rename(columns={"utilization": "utilization (share not zero)"})
            st.table(_readable(shown).set_index("layer"))
            # Start with the layer that had the most dead units at any epoch, counting only
            # layers that make their own zeros (not pooling or flatten passing a ReLU's on).
            most_dead = np.nan_to_num(info.num_dead.astype(float), nan=0.0).max(axis=1, initial=0)
            own = np.array([unit.inherited_from is None for unit in info.units], dtype=bool)
            worst = int(np.where(own, most_dead, -1.0).argmax()) if info.layers else 0
            layer = st.selectbox(
                "Units of layer", info.layers, index=worst, key=f"training_dead_layer:{run}"
            )
            ui.chart(
                plot_unit_activity(info, layer, threshold=threshold), key="training_unit_chart"
            )
            for note in info.notes:
                st.caption(note)

    st.markdown("##### The effect of batch normalization")
    # Only pairs among the chosen runs: another model's pair says nothing about this one.
    pairs = [(a, b) for a, b in cached.batch_norm_pairs(sources) if a in chosen and b in chosen]
    if not pairs:
        st.info(
            "No pair of the chosen runs differs only in batch normalization. The demo's "
            "digits_cnn/adam and digits_cnn/adam_no_bn are such a pair."
        )
        return
    labels = {f"{a}  vs  {b}": (a, b) for a, b in pairs}
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    pair = left.selectbox(
        "With and without batch normalization", list(labels), key="training_bn_pair"
    )
    statistic = right.segmented_control(
        "Activation", ("std", "mean"), default="std", key="training_bn_statistic"
    ) or "std"  # fmt: skip
    try:
        info = cached.batch_norm_effect(sources, *labels[pair])
    except InputError as error:
        st.info(str(error))
        return
    ui.chart(plot_batch_norm_effect(info, statistic=statistic), key="training_bn_chart")
    for note in info.notes:
        st.caption(note)


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
        curves_view(sources, chosen, catalog)
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
        "**Curves**\n"
        "- **Solid and dashed**: training and validation of the same run share a colour.\n"
        "- **Smoothing hides things.** It delays the curve (an exponential average lags by about "
        "1 / (1 − weight) points) and flattens spikes, so a sudden blow-up looks gradual and the "
        "minimum looks later and higher than it was. The faint raw curve behind it shows what "
        "really happened; the ★ marks the best *raw* value.\n"
        "- **Downsampling** keeps every curve's exact minimum, maximum, first and last point and "
        "every NaN/Inf, so nothing important vanishes; dragging across a range reads it again at "
        "full detail.\n"
        "- **✕ marks** are NaN or infinite values: the run diverged there (a learning rate too "
        "high, an exploding gradient, a log of zero). They sit on the panel's top edge because "
        "they have no height.\n"
        "- **Groups** draw the mean of runs that share a setting (an optimizer, a learning rate, "
        "seeds of one configuration) with their min-max range or ± one standard deviation: a wide "
        "band means the result depends on luck more than on the setting.\n\n"
        "**Early stopping**\n"
        "- **The generalization gap** is validation minus training loss. A gap that stays level "
        "is normal; a gap that **widens** while training loss keeps falling means the model is "
        "memorising the training set: it overfits from the onset marker on, and the weights of "
        "the best epoch generalise better than the last ones.\n"
        "- **Patience** is how many epochs without improvement Keras's EarlyStopping waits. The "
        "replay is exact: the same comparisons, min_delta and baseline rules as the callback.\n"
        "- **A plateau** is a stretch where the metric changes less than 1%: more epochs there "
        "buy little; a lower learning rate (ReduceLROnPlateau) may help.\n\n"
        "**Optimization**\n"
        "- **Gradient norms** per layer: a row that fades to dark is a layer that stopped "
        "learning (vanishing gradients); a row that turns bright and keeps growing, exploding "
        "gradients. The panel above is the whole model.\n"
        "- **Update cosine** compares the direction of successive weight changes: near +1 the "
        "optimizer moves steadily one way, near 0 it wanders (noise dominates), negative values "
        "mean it oscillates across a valley (often: the learning rate is too high).\n"
        "- **Distance from initialization** grows fast at first and then flattens when a layer "
        "settles; a layer that hardly moves may not be needed or may not receive gradient.\n\n"
        "**Layer health**\n"
        "- **A dead unit** outputs exactly zero for (almost) every probe sample: a ReLU whose "
        "input went negative for good. It no longer learns, because its gradient is zero too. A "
        "**dead layer** has most units dead: its utilization drops toward 0 and the histogram "
        "collapses into one spike at 0. Pooling, flatten and dropout pass a ReLU's zeros on; "
        "they are marked as such.\n"
        "- **Offset and overlay** are TensorBoard's two histogram modes: one outline per step, "
        "stacked (older at the top) or drawn over each other. The distribution view shows the "
        "same data as percentile bands (min-max, ±1.5σ, ±1σ, ±0.5σ and the median).\n"
        "- **Batch normalization** keeps each layer's activations at a steady scale; without it "
        "their spread drifts with the weights, which is what the side-by-side panels show.\n\n"
        "**Dynamics**\n"
        "- **Correlations** show which logged series move together (Pearson: linearly; "
        "Spearman and Kendall: in rank), over the epochs where all are finite.\n"
        "- **The trajectory** follows two metrics through the epochs; the arrows show where "
        "training was heading (a moving average of the velocity) and get shorter as it settles.\n"
        "- **Convergence** fits value = a + b·exp(−t/τ): a is where the metric is heading, and the "
        "estimated convergence epoch is when it gets within the chosen share of the total "
        "improvement from a."
    )
