"""The training page's Optimization tab: the learning rate, optimizers side by side, gradient
norms per layer and, from a recorded run's checkpoints, how the weights moved."""

from __future__ import annotations

import streamlit as st

from app_pages import ui
from app_pages.training_common import has_epoch_table, pick_run
from neurogenesis import cached
from neurogenesis.errors import InputError
from neurogenesis.plotting.optimization import (
    plot_gradient_heatmap,
    plot_learning_rate,
    plot_optimizer_comparison,
    plot_update_cosine,
    plot_weight_evolution,
    plot_weight_trajectories,
)
from neurogenesis.plotting.training import optimizer_comparison_table, readable_table

WEIGHT_QUANTITIES = {
    "norm": "weight norm",
    "distance": "distance from init",
    "relative_distance": "relative distance",
}


def optimization_view(sources, chosen: list[str]) -> None:
    st.markdown("##### Learning rate")
    rates = cached.learning_rates(sources, chosen)
    if rates.series:
        log_y = st.toggle("Log scale", value=True, key="training_lr_log")
        ui.chart(plot_learning_rate(rates, log_y=log_y), key="training_lr_chart")
    for note in rates.notes:
        st.caption(note)

    st.markdown("##### Optimizers side by side")
    tables = [cached.epoch_table(sources, run) for run in chosen if has_epoch_table(sources, run)]
    metrics = list(dict.fromkeys(m for table in tables for m in table.metrics))
    if len(chosen) < 2 or not metrics:
        st.caption("Choose two or more runs above to compare them (the demo: adam, sgd, rmsprop).")
    else:
        metric = st.selectbox("Metric", metrics, key="training_opt_metric")
        comparison = cached.optimizer_comparison(sources, chosen, metric)
        summary = optimizer_comparison_table(comparison)
        ui.chart(plot_optimizer_comparison(comparison), key="training_opt_chart", data=summary)
        st.dataframe(readable_table(summary), hide_index=True)

    st.markdown("##### Gradient norms per layer")
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    with left:
        run = pick_run(chosen, "training_grad_run")
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
    weights_view(sources, recorded)


def weights_view(sources, recorded: list[str]) -> None:
    """Weight norms or distances, update cosines and single weights' paths of a recorded run."""
    left, right = st.columns([2, 3], vertical_alignment="bottom")
    with left:
        run = pick_run(recorded, "training_weights_run")
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
            variable = pick_run(variables, f"training_weights_variable:{run}", "Variable")
        count = right.number_input("Weights", 1, 32, 8, key="training_weights_count")
        try:
            trajectories = cached.weight_trajectories(path, variable, count)
        except InputError as error:
            st.info(str(error))
        else:
            ui.chart(plot_weight_trajectories(trajectories), key="training_trajectories_chart")
