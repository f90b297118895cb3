"""The training page's Dynamics tab: how the logged series move together, the trajectory of two
metrics through the epochs, and a convergence fit."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app_pages import ui
from app_pages.training_common import epoch_table, pick_run
from neurogenesis import cached
from neurogenesis.analysis.training import ROLES
from neurogenesis.errors import InputError
from neurogenesis.plotting.convergence import (
    plot_convergence,
    plot_correlations,
    plot_trajectory_3d,
)
from neurogenesis.plotting.training import convergence_table, correlations_table

CORRELATION_METHODS = ("pearson", "spearman", "kendall")


def dynamics_view(sources, chosen: list[str]) -> None:
    run = pick_run(chosen, "training_dyn_run")
    table = epoch_table(sources, run)
    if table is None:
        return
    st.markdown("##### How the metrics move together")
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    # The series that change at all (a constant has no correlation).
    changes = np.nanmax(table.values, axis=1) > np.nanmin(table.values, axis=1)
    varying = [str(c) for c, changing in zip(table.columns, changes, strict=True) if changing]
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
            plot_correlations(info), key="training_correlations", data=correlations_table(info)
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
    goal = cached.metric_goal(column.split(" ", 1)[-1]) or "min"
    try:
        info = cached.convergence(sources, run, column, goal, threshold)
    except InputError as error:
        st.info(str(error))
        return
    ui.chart(
        plot_convergence(info, metric=column),
        key="training_convergence",
        data=convergence_table(info, column),
    )
