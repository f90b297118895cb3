"""Loss landscape: how the loss changes around the trained weights, and the path training took."""

from __future__ import annotations

from functools import partial

import streamlit as st

from app_pages import ui
from app_pages.landscape_compare import compare_view
from app_pages.landscape_line import line_view, sharpness_view
from app_pages.landscape_settings import (
    compute_plane,
    cost_caption,
    grid_settings,
    loss_settings,
)
from neurogenesis import cached
from neurogenesis.plotting.landscape import (
    grid_table,
    landscape_npz,
    plot_landscape_3d,
    plot_landscape_contour,
    value_range,
)

TABS = ("Surface", "Contours", "Line", "Sharpness", "Compare models")
SIDEBAR_MODEL = "the sidebar's model"
DIRECTION_LABELS = {"random": "random", "pca": "PCA of the path"}


def number(value: float) -> str:
    """Four significant digits, and thousands separated rather than in powers of ten."""
    value = float(value)
    return f"{value:,.0f}" if abs(value) >= 10_000 else f"{value:.4g}"


ui.start_page("Loss landscape")
st.title("Loss landscape")
st.caption(
    "How does the loss change around the trained weights, and which way did training travel? "
    "A slice of the loss through weight space, with the training path and a sharpness measure."
)
model_source, samples_source = ui.chosen_model()
if samples_source is None:
    st.info("Choose a sample set in the sidebar: the loss is computed on its samples.")
    st.stop()
sample_set = ui.or_stop(lambda: cached.samples(samples_source))

# --- What weights: the sidebar's model, or a recorded run (its model and its checkpoints) -------
runs = cached.landscape_runs(st.session_state.get("logs", []), tuple(sample_set.x.shape[1:]))
weights_options = [SIDEBAR_MODEL, *(f"run {name}" for name, _, _ in runs)]
if st.session_state.get("landscape_for_model") != model_source.key:
    # A new sidebar model: start from it, or from the recorded run it was saved from (the same
    # bytes), which brings its training path along.
    st.session_state["landscape_for_model"] = model_source.key
    twin = cached.twin_run(model_source, runs)
    st.session_state["landscape_weights"] = f"run {twin}" if twin else SIDEBAR_MODEL
top = st.columns([5, 4, 3], vertical_alignment="bottom")
weights_choice = top[0].selectbox(
    "Weights",
    weights_options,
    key="landscape_weights",
    help="A recorded run brings its own final model and its checkpoints: the training path is "
    "drawn on the plane, and the plane can be the path's own (PCA).",
)
run_dir = None
if weights_choice != SIDEBAR_MODEL:
    name, model_source, run_dir = runs[weights_options.index(weights_choice) - 1]
reason = ui.or_stop(lambda: cached.reason(model_source, "landscape"))
reason = reason or ui.or_stop(lambda: cached.loss_reason(model_source, samples_source))
if reason:
    st.info(reason)
    st.stop()
directions = top[1].segmented_control(
    "Plane",
    list(DIRECTION_LABELS),
    format_func=DIRECTION_LABELS.get,
    default="random",
    key="landscape_directions",
    help="random: two filter-normalized Gaussian directions (Li et al. 2018). PCA of the path: "
    "the two directions the recorded checkpoints vary most along (needs a recorded run: choose "
    "one under Weights).",
)
if directions == "pca" and run_dir is None:
    st.info(
        "The PCA plane is spanned by the training path's two main directions, so it needs a "
        "recorded run with checkpoints: choose one under *Weights* (the demo runs have them)."
    )
    directions = "random"
directions = directions or "random"

# --- Loss -----------------------------------------------------------------------------------
setup = ui.or_stop(lambda: cached.training_setup(model_source))
loss, normalization, bias_mode = loss_settings(
    top[2], setup, model_source, samples_source, directions
)
target_kind = ui.or_stop(lambda: cached.landscape_targets(model_source, samples_source, loss))
if target_kind == "inputs":
    st.caption(
        "An autoencoder: the loss compares each reconstruction with its own input (the labels "
        "are not used)."
    )

plane = grid_settings(len(sample_set), directions)
options = {
    "loss": loss,
    "metrics": tuple(setup.metrics),
    "num_samples": plane["num_samples"],
    "directions": directions,
    "resolution": plane["resolution"],
    "span": plane["span"],
    "seed": plane["seed"],
    "normalization": normalization,
    "bias_mode": bias_mode,
}

# --- Compute, with a coarse preview first ------------------------------------------------------
target = ui.compute_target("landscape_compute")
ready = cached.is_landscape_ready(model_source, samples_source, options, run_dir)
if not ready:
    cost_caption(model_source, samples_source, options, target)
info = compute_plane(model_source, samples_source, options, run_dir, target, ready)

metric_column, log_column, clip_column, path_column = st.columns(4, vertical_alignment="bottom")
ui.show_note(ui.valid_choice("landscape_metric", info.metric_names, "metric"), metric_column)
metric = metric_column.selectbox("Show", info.metric_names, key="landscape_metric")
log_scale = log_column.toggle(
    "Log scale",
    value=metric == "loss",
    key="landscape_log",
    help="Colours and heights on a log scale (ticks still read in the metric's own units).",
)
spread = value_range(info, metric)  # (lowest, highest, clip level), None if none finite
clip_on = clip_column.toggle(
    "Clip the top",
    key="landscape_clip",
    help="Draw values above a level at that level, so a blown-up edge does not flatten the basin.",
)
clip = spread[2] if clip_on and spread else None
show_path = path_column.toggle(
    "Training path",
    value=directions == "pca",
    key=f"landscape_path_{directions}",
    disabled=not len(info.trajectory),
    help="The run's checkpoints projected onto the plane. On a random plane they mostly land "
    "near the centre: random directions are nearly orthogonal to the path.",
)

summary = st.columns(4)
summary[0].metric(
    f"{metric} at the trained weights",
    number(info.trained_values[list(info.metric_names).index(metric)]),
)
if spread:
    summary[1].metric(f"lowest {metric} on the plane", number(spread[0]))
    summary[2].metric(f"highest {metric} on the plane", number(spread[1]))
sharp = ui.or_stop(lambda: cached.sharpness(model_source, samples_source, options))
summary[3].metric(
    "sharpness λ_max",
    number(sharp.eigenvalue),
    help="The Hessian's eigenvalue of largest magnitude at the trained weights (power iteration "
    "on Hessian-vector products): how fast the loss curves up along its steepest direction.",
)
for note in info.notes:
    st.caption(note)

# What the Line and Compare tabs share: the other weights on offer and the plane's settings.
around = {"models": st.session_state.get("models", {}), "runs": runs, "options": options}
around.update(run_dir=run_dir, log_scale=log_scale)
tabs = dict(zip(TABS, st.tabs(TABS, key="landscape_tab", on_change="rerun"), strict=True))
with tabs["Surface"]:
    if tabs["Surface"].open:
        ui.chart(
            plot_landscape_3d(info, metric, log_scale, clip, show_path),
            key="landscape_surface",
            data=partial(grid_table, info),
        )
with tabs["Contours"]:
    if tabs["Contours"].open:
        ui.chart(
            plot_landscape_contour(info, metric, log_scale, clip, show_path),
            key="landscape_contour",
            data=partial(grid_table, info),
        )
with tabs["Line"]:
    if tabs["Line"].open:
        line_view(model_source, samples_source, **around)
with tabs["Sharpness"]:
    if tabs["Sharpness"].open:
        sharpness_view(sharp)
with tabs["Compare models"]:
    if tabs["Compare models"].open:
        name = weights_choice if run_dir else model_source.label
        compare_view(
            model_source, samples_source, **around, info=info, name=name, metric=metric, clip=clip
        )

downloads = st.columns(3)
downloads[0].download_button(
    "Grid and directions (.npz)",
    partial(landscape_npz, info),
    file_name="landscape.npz",
    mime="application/octet-stream",
    key="landscape_npz",
    on_click="ignore",
)
downloads[1].download_button(
    "Grid (CSV)",
    partial(ui.csv_bytes, partial(grid_table, info)),
    file_name="landscape.csv",
    mime="text/csv",
    key="landscape_csv",
    on_click="ignore",
)
with downloads[2]:
    ui.bundle_button()

with ui.how_to_read("Loss landscape"):
    st.markdown(
        "The loss at θ + α·d₁ + β·d₂ around the trained weights θ (the red mark at 0, 0), on a "
        "random filter-normalized plane or the training path's own PCA plane. A slice can mislead: "
        "compare pictures only under the same settings, and read the sharpness beside them."
    )
