"""Hyperparameters, the views of one search: the best trial, the surface and its contours,
parallel coordinates, slices, importance and the table of trials."""

from __future__ import annotations

import streamlit as st

from app_pages import ui
from neurogenesis import cached
from neurogenesis.plotting.hyperparameters import (
    importance_table,
    plot_importance,
    plot_parallel_coordinates,
    plot_slices,
    plot_surface_3d,
    plot_surface_contour,
    surface_table,
)

TABS = ("Surface", "Contours", "Parallel coordinates", "Slices", "Importance", "Trials")


def views(
    path: str,
    study: str | None,
    *,
    x: str | None,
    y: str | None,
    metric: str,
    goal: str,
    method: str,
    aggregate: str,
) -> None:
    """The best trial and the tabs for the trials at ``path`` (``study`` in an Optuna file): the
    surface of ``metric`` over ``x`` and ``y`` (``method``, ``aggregate``), the other views."""
    found = ui.or_stop(lambda: cached.trials(path, study))
    problem = (
        cached.surface_problem(path, study, x, y, metric) if x and y else "Choose two parameters."
    )
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
                data=importance_table(importance),
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
