"""Loss landscape: how the loss changes around the trained weights, and the path training took."""

from __future__ import annotations

import io
from functools import partial

import numpy as np
import pandas as pd
import streamlit as st

from app_pages import ui
from neurogenesis import cached
from neurogenesis.analysis.landscape import (
    BIAS_MODES,
    DEFAULT_RESOLUTION,
    LOSS_CHOICES,
    MAX_NUM_SAMPLES,
    NORMALIZATIONS,
    coarse,
    landscape_arrays,
)
from neurogenesis.errors import InputError, UnsupportedModelError
from neurogenesis.plotting.landscape import (
    plot_interpolation,
    plot_landscape_3d,
    plot_landscape_comparison,
    plot_landscape_contour,
    plot_sharpness,
)

TABS = ("Surface", "Contours", "Line", "Sharpness", "Compare models")
DEFAULT_SAMPLES = 256
LINE_POINTS = 41
SIDEBAR_MODEL = "the sidebar's model"
DIRECTION_LABELS = {"random": "random", "pca": "PCA of the path"}
BIAS_LABELS = {
    "zero": "left out (zero)",
    "weights": "a copy of the weights",
    "random": "random, scaled",
}


def grid_table(info) -> pd.DataFrame:
    """Every grid point: its coordinates on the plane and each metric there."""
    return pd.DataFrame(
        {
            "alpha": np.repeat(info.alphas, len(info.betas)),
            "beta": np.tile(info.betas, len(info.alphas)),
            **{name: info.values[k].ravel() for k, name in enumerate(info.metric_names)},
        }
    )


def number(value: float) -> str:
    """Four significant digits, and thousands separated rather than in powers of ten."""
    value = float(value)
    return f"{value:,.0f}" if abs(value) >= 10_000 else f"{value:.4g}"


def npz_bytes(info) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **landscape_arrays(info))
    return buffer.getvalue()


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
reason = ui.or_stop(lambda: cached.landscape_reason(model_source))
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
with top[2].popover("Loss and settings", width="stretch"):
    if setup.loss is not None:
        override = st.toggle(
            f"Another loss than the compiled one ({setup.loss if isinstance(setup.loss, str) else setup.loss['class_name']})",
            key="landscape_override",
        )
    else:
        override = True
        st.caption(f"The file holds no compiled loss ({setup.note}); choose one.")
    if override:
        suggested = cached.suggested_loss(model_source, samples_source)
        loss = st.selectbox(
            "Loss", LOSS_CHOICES, index=LOSS_CHOICES.index(suggested), key="landscape_loss"
        )
    else:
        loss = setup.loss
    normalization = st.radio(
        "Direction normalization",
        NORMALIZATIONS,
        key="landscape_normalization",
        horizontal=True,
        help="filter: each filter of a direction has the norm of the same filter of the weights "
        "(Li et al. 2018); layer: each variable; none: raw Gaussian directions.",
        disabled=directions == "pca",
    )
    bias_mode = st.radio(
        "Biases and normalization parameters",
        BIAS_MODES,
        format_func=BIAS_LABELS.get,
        key="landscape_bias",
        horizontal=True,
        disabled=directions == "pca",
    )
target_kind = ui.or_stop(lambda: cached.landscape_targets(model_source, samples_source, loss))
if target_kind == "inputs":
    st.caption(
        "An autoencoder: the loss compares each reconstruction with its own input (the labels "
        "are not used)."
    )

controls = st.columns(4)
resolution = controls[0].slider(
    "Resolution", 5, 51, DEFAULT_RESOLUTION, step=2, key="landscape_resolution",
    help="Grid points per side; odd, so the trained weights are a grid point.",
)  # fmt: skip
span = controls[1].slider(
    "Span",
    0.1,
    3.0,
    1.0,
    step=0.1,
    key="landscape_span",
    help="Random plane: the grid runs from -span to +span along both directions (1 = as far as "
    "the weights' own size). PCA plane: the margin around the path, as a share of its extent.",
)
seed = controls[2].number_input(
    "Seed", 0, 10_000, 0, key="landscape_seed", disabled=directions == "pca"
)
most = min(len(sample_set), MAX_NUM_SAMPLES)
num_samples = controls[3].slider(
    "Samples", min(16, most), most, min(DEFAULT_SAMPLES, most), key="landscape_samples",
    help="The first samples of the set: every grid point runs them all through the model.",
)  # fmt: skip
options = {
    "loss": loss,
    "metrics": tuple(setup.metrics),
    "num_samples": int(num_samples),
    "directions": directions,
    "resolution": int(resolution),
    "span": float(span),
    "seed": int(seed),
    "normalization": normalization,
    "bias_mode": bias_mode,
}

# --- Compute, with a coarse preview first ------------------------------------------------------
ready = cached.is_landscape_ready(model_source, samples_source, options, run_dir)
preview = st.empty()
progress = None if ready else st.progress(0.0, text="Tracing the model…")


shown: list[bool] = []


def on_partial(grid, fraction: float) -> None:
    progress.progress(fraction, text=f"{fraction:.0%} of {resolution}×{resolution} points")
    if not shown:  # the coarse preview, once; the full grid replaces it when done
        shown.append(True)
        with preview.container():
            ui.chart(
                plot_landscape_contour(coarse(grid), log_scale=True),
                key="landscape_preview",
                downloads=False,  # replaced by the full grid in this run
            )


info = ui.or_stop(
    lambda: cached.landscape(model_source, samples_source, options, run_dir, on_partial)
)
preview.empty()
if progress is not None:
    progress.empty()

metric_column, log_column, clip_column, path_column = st.columns(4, vertical_alignment="bottom")
metric = metric_column.selectbox("Show", info.metric_names, key="landscape_metric")
log_scale = log_column.toggle(
    "Log scale",
    value=metric == "loss",
    key="landscape_log",
    help="Colours and heights on a log scale (ticks still read in the metric's own units).",
)
values = info.metric(metric)
finite = values[np.isfinite(values)]
clip_on = clip_column.toggle(
    "Clip the top",
    key="landscape_clip",
    help="Draw values above a level at that level, so a blown-up edge does not flatten the basin.",
)
clip = None
if clip_on and finite.size:
    clip = float(np.quantile(finite, 0.75))
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
if finite.size:
    summary[1].metric(f"lowest {metric} on the plane", number(finite.min()))
    summary[2].metric(f"highest {metric} on the plane", number(finite.max()))
sharp = ui.or_stop(lambda: cached.sharpness(model_source, samples_source, options))
summary[3].metric(
    "sharpness λ_max",
    number(sharp.eigenvalue),
    help="The Hessian's eigenvalue of largest magnitude at the trained weights (power iteration "
    "on Hessian-vector products): how fast the loss curves up along its steepest direction.",
)
for note in info.notes:
    st.caption(note)

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
        starts: list[tuple[str, tuple]] = []
        if run_dir is not None:
            labels = cached.run_checkpoint_labels(run_dir)
            starts += [
                (f"checkpoint: {label}", ("checkpoint", run_dir, k))
                for k, label in enumerate(labels[:-1])
            ]
        candidates = [
            *st.session_state.get("models", {}).values(),
            *(source for _, source, _ in runs),
        ]
        others = cached.matching_models(model_source, candidates, same_size=True)
        starts += [(f"model: {source.label}", ("model", source)) for source in others]
        if not starts:
            st.info(
                "A line needs a second set of weights of the same architecture: a checkpoint of "
                "the run (choose a recorded run under *Weights*) or another model of the same "
                "architecture in the sidebar or the logs."
            )
        else:
            labels = [label for label, _ in starts]
            left, right = st.columns([3, 2])
            start_label = left.selectbox("From", labels, key="landscape_line_start")
            t_range = right.slider(
                "t from … to", -1.0, 2.0, (-0.5, 1.5), step=0.1, key="landscape_line_range"
            )
            start = starts[labels.index(start_label)][1]
            line = ui.or_stop(
                lambda: cached.interpolation(
                    model_source, samples_source, options, start, LINE_POINTS, t_range
                )
            )
            ui.chart(
                plot_interpolation(line, log_scale=log_scale),
                key="landscape_line",
                data=pd.DataFrame(
                    {"t": line.t, **{n: line.values[k] for k, n in enumerate(line.metric_names)}}
                ),
            )
            st.caption(
                "Every weight moves along the straight line (1 − t)·start + t·end; "
                "BatchNormalization statistics are interpolated too and keep an end's values past "
                "it. A bump between two trained models is a barrier between their basins."
            )
with tabs["Sharpness"]:
    if tabs["Sharpness"].open:
        ui.chart(
            plot_sharpness(sharp),
            key="landscape_sharpness",
            data=pd.DataFrame(
                {"iteration": np.arange(len(sharp.estimates)), "estimate": sharp.estimates}
            ),
        )
        start = (
            f" The random start vector's own curvature ({sharp.estimates[0]:.3g}, iteration 0 "
            "in the table) is not drawn: it measures a random direction, not λ_max."
            if len(sharp.estimates) > 1
            else ""
        )
        st.caption(
            f"{sharp.iterations} Hessian-vector products on {sharp.num_samples:,} samples, "
            f"{sharp.num_parameters:,} trainable parameters; "
            + ("the estimate settled." if sharp.converged else "the estimate had not settled.")
            + start
        )


def other_models(model_source, candidates: dict) -> dict:
    """The candidates worth comparing with ``model_source``: other weights (a run's saved model
    and the sidebar file it became are one model, and drew two identical surfaces) with the same
    output (a classifier's loss and an autoencoder's are not comparable), the same architecture
    first (another run of it is the comparison most asked for)."""
    try:
        card = cached.model_card(model_source)
        digest = cached.weights_digest(model_source)
    except (InputError, UnsupportedModelError):
        return candidates
    kept = {}
    for label, source in candidates.items():
        try:
            other = cached.model_card(source)
            if other.output_summary != card.output_summary:
                continue
            if other.num_params == card.num_params and cached.weights_digest(source) == digest:
                continue
        except (InputError, UnsupportedModelError):
            continue
        kept[label] = (other.num_params != card.num_params, source)
    return {label: source for label, (_, source) in sorted(kept.items(), key=lambda i: i[1][0])}


def compare_view() -> None:
    """The chosen weights and another model on random planes with the same settings, one scale."""
    everything = {**st.session_state.get("models", {})}
    everything.update({f"run {name}": source for name, source, _ in runs})
    fitting = cached.matching_models(model_source, everything.values(), same_size=False)
    candidates = other_models(
        model_source, {label: source for label, source in everything.items() if source in fitting}
    )
    if not candidates:
        st.info(
            "Only these weights take these samples: add a second model (upload one in the "
            "sidebar, or choose training logs with another run) to compare landscapes."
        )
        return
    left, right = st.columns([3, 2])
    other_label = left.selectbox("Compare with", list(candidates), key="landscape_compare_with")
    kind = right.segmented_control(
        "View", ["surface", "contour"], default="surface", key="landscape_compare_kind"
    )
    other_options = {**options, "directions": "random"}
    try:
        other_info = cached.landscape(candidates[other_label], samples_source, other_options)
    except (InputError, UnsupportedModelError) as error:
        st.info(f"{other_label} cannot be drawn on these samples with this loss. {error}")
        return
    mine = (
        info
        if directions == "random"
        else cached.landscape(model_source, samples_source, other_options, run_dir)
    )
    shared = [m for m in mine.metric_names if m in other_info.metric_names]
    names = [weights_choice if run_dir else model_source.label, other_label]

    def both() -> pd.DataFrame:
        return pd.concat(
            [
                grid_table(one).assign(model=name)
                for one, name in zip((mine, other_info), names, strict=True)
            ],
            ignore_index=True,
        )

    ui.chart(
        plot_landscape_comparison(
            [mine, other_info],
            names,
            metric if metric in shared else "loss",
            kind=kind or "surface",
            log_scale=log_scale,
            clip=clip,
            show_trajectory=False,
        ),
        key="landscape_compare",
        data=both,
    )
    st.caption(
        "Both on random filter-normalized planes with the same seed, span and samples, drawn on "
        "one colour and height scale: a wider, flatter basin is visible as such."
    )


with tabs["Compare models"]:
    if tabs["Compare models"].open:
        compare_view()

downloads = st.columns(3)
downloads[0].download_button(
    "Grid and directions (.npz)",
    partial(npz_bytes, info),
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
        "**What is drawn.** The loss at weights θ + α·d₁ + β·d₂: θ are the trained weights (the "
        "red mark, always at 0, 0), d₁ and d₂ two directions in weight space, and every grid point "
        "is a full forward pass over the chosen samples with those weights (BatchNormalization "
        "in inference mode, with the model's moving statistics).\n\n"
        "**Filter normalization** (Li et al. 2018). Networks with ReLU and normalization do not "
        "change when a filter is scaled up and the next layer scaled down, so a raw random step "
        "of a given size means a lot for small filters and nothing for large ones. Scaling each "
        "filter of the direction to the norm of the same filter of the weights makes a step of 1 "
        "mean 'as far as the weights' own size' everywhere, so the pictures of two networks (or "
        "two training recipes) can be compared: a wider basin is really wider. Biases and "
        "normalization parameters are left out by default, as in the paper.\n\n"
        "**The PCA plane** is spanned by the two directions along which the recorded checkpoints "
        "vary most (the axis titles say how much of the path's variance each holds). Random "
        "directions in a high-dimensional space are nearly orthogonal to the path, so the path "
        "only shows on a plane built from it; its points are projected, and the loss drawn under "
        "them is the plane's, not the checkpoint's (hover to see the checkpoint's own value).\n\n"
        "**Why a slice can mislead.** The picture is a 2-D cut through a space of thousands or "
        "millions of dimensions: a valley in the picture can be a saddle along a direction you "
        "do not see, two seeds give two different cuts (try another seed), and the apparent "
        "flatness depends on the span and the normalization. Compare pictures only under the "
        "same settings, and read the sharpness number beside them.\n\n"
        "**Sharpness** is the largest eigenvalue of the loss's Hessian at the trained weights, "
        "found by power iteration on Hessian-vector products (no Hessian is built). A large "
        "value means the loss curves up steeply in some direction; flat minima (small values) "
        "have been linked to better generalization (Keskar et al. 2017), though the link is "
        "not a law (Dinh et al. 2017 show that reparametrizations change sharpness freely).\n\n"
        "**The line** (Goodfellow et al. 2015) goes straight from one set of weights to another: "
        "from the initial weights to the trained ones a monotone curve says training found a "
        "simple path; between two trained models a bump is a barrier between two basins.\n\n"
        "References: Li, Xu, Taylor, Studer, Goldstein, *Visualizing the Loss Landscape of Neural "
        "Nets*, NeurIPS 2018; Goodfellow, Vinyals, Saxe, *Qualitatively characterizing neural "
        "network optimization problems*, ICLR 2015; Keskar et al., *On Large-Batch Training for "
        "Deep Learning: Generalization Gap and Sharp Minima*, ICLR 2017."
    )
