"""Loss landscape, its settings: the loss, the directions' normalization, and the grid."""

from __future__ import annotations

import os
import time

import numpy as np
import streamlit as st

from app_pages import ui
from neurogenesis import cached
from neurogenesis.analysis.landscape import (
    BIAS_MODES,
    DEFAULT_RESOLUTION,
    LOSS_CHOICES,
    MAX_NUM_SAMPLES,
    NORMALIZATIONS,
)
from neurogenesis.plotting.landscape import plot_landscape_contour, plot_landscape_preview

DEFAULT_SAMPLES = 256
# A plane estimated to take longer than this waits for a click instead of starting on open.
CONFIRM_SECONDS = 60
"""A plane estimated to take longer starts only on a click. NEUROGENESIS_CONFIRM_SECONDS sets
another limit (the test suite raises it: on a loaded test machine the demos' small planes must
not turn into a button)."""
REDRAW_SECONDS = 2.0
"""While a plane is computed, the partial grid is redrawn at most this often."""
BIAS_LABELS = {
    "zero": "left out (zero)",
    "weights": "a copy of the weights",
    "random": "random, scaled",
}


def loss_settings(column, setup, model_source, samples_source, directions: str) -> tuple:
    """The "Loss and settings" popover in ``column``: ``(loss, normalization, bias_mode)``; the
    compiled loss (``setup``, a TrainingSetup) unless another is chosen or none was saved."""
    with column.popover("Loss and settings", width="stretch"):
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
            # Another model, output or sample set starts from its own suggestion.
            chosen_for = (model_source.key, model_source.output, samples_source.key)
            if st.session_state.get("landscape_loss_for") != chosen_for:
                st.session_state["landscape_loss_for"] = chosen_for
                st.session_state.pop("landscape_loss", None)
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
    return loss, normalization, bias_mode


def grid_settings(sample_count: int, directions: str) -> dict:
    """The grid's controls, in a row of four: ``resolution``, ``span``, ``seed`` and
    ``num_samples`` (of the ``sample_count`` in the set)."""
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
    most = min(sample_count, MAX_NUM_SAMPLES)
    if min(16, most) < most:
        note = ui.valid_number("landscape_samples", min(16, most), most, "number of samples")
        num_samples = controls[3].slider(
            "Samples", min(16, most), most, min(DEFAULT_SAMPLES, most), key="landscape_samples",
            help="The first samples of the set: every grid point runs them all through the model.",
        )  # fmt: skip
        ui.show_note(note, controls[3])
    else:  # a slider needs two ends: a set this small is used whole
        num_samples = most
        controls[3].caption(f"Samples: all {most} of the set")
    return {
        "resolution": int(resolution),
        "span": float(span),
        "seed": int(seed),
        "num_samples": int(num_samples),
    }


def cost_caption(model_source, samples_source, options: dict, target=None) -> None:
    """Says how long the plane will take, before it starts: a full-size model on a CPU takes
    minutes, and the user may want fewer points or samples. Past :data:`CONFIRM_SECONDS` it
    starts only on a click (and the page stops here until then)."""
    with st.spinner("Timing one forward pass…"):
        cost = ui.or_stop(lambda: cached.landscape_estimate(model_source, samples_source, options))
    side = options["resolution"]
    batches = cost["num_batches"]
    st.caption(
        f"About {cost['seconds']:,.0f} s: {side}×{side} points, each running "
        f"{cost['num_samples']} samples through the model in {batches} "
        f"batch{'es' if batches > 1 else ''} of {cost['batch_size']} (one batch takes "
        f"{cost['seconds_per_batch']:.2g} s here; tracing the model comes on top). Fewer points "
        "or samples make it faster."
        + (
            f" On {target.describe()} the points are split over its workers, and starting them "
            "(TensorFlow's import, the model's load) adds 10–20 s."
            if target is not None and not target.is_local
            else ""
        )
    )
    if cost["seconds"] > _confirm_seconds() and not st.button(
        f"Compute the plane (about {cost['seconds']:,.0f} s)", key="landscape_go", type="primary"
    ):
        st.stop()


def _confirm_seconds() -> float:
    try:
        return float(os.environ.get("NEUROGENESIS_CONFIRM_SECONDS", CONFIRM_SECONDS))
    except ValueError:
        return CONFIRM_SECONDS


def compute_plane(model_source, samples_source, options: dict, run_dir, target, ready: bool):
    """The plane, computed here or on the cluster ``target`` names (``ui.compute_target``): the
    coarse preview first, then a progress bar with the time left. A cluster that stops answering
    says so in one sentence, and the page keeps the part of the grid that had landed. ``ready``:
    the plane is remembered already (no progress bar)."""
    from neurogenesis.compute import ClusterError

    preview = st.empty()
    progress = None if ready else st.progress(0.0, text="Tracing the model…")
    side = options["resolution"]
    latest: list = []
    drawn: list[float] = []  # when the partial grid was last drawn (one entry per drawing)
    start = time.perf_counter()

    def on_partial(grid, fraction: float) -> None:
        elapsed = time.perf_counter() - start
        left = elapsed * (1 - fraction) / max(fraction, 1e-9)
        progress.progress(
            fraction,
            text=f"{fraction:.0%} of {side}×{side} points, about {left:,.0f} s left",
        )
        if not latest:  # the coarse preview first
            with preview.container():
                ui.chart(plot_landscape_preview(grid), key="landscape_preview", downloads=False)
            drawn[:] = [time.perf_counter()]
        elif time.perf_counter() - drawn[0] > REDRAW_SECONDS:
            # Then the chunks landing on the whole grid (blank where not computed yet), at
            # most every few seconds; the finished plane replaces it.
            with preview.container():
                ui.chart(
                    plot_landscape_contour(grid, log_scale=True),
                    key=f"landscape_partial_{len(drawn)}",
                    downloads=False,
                )
            drawn[:] = [time.perf_counter(), *drawn]
        latest[:] = [grid]

    try:
        info = ui.or_stop(
            lambda: cached.landscape(
                model_source, samples_source, options, run_dir, on_partial, target
            )
        )
    except ClusterError as error:
        if progress is not None:
            progress.empty()
        st.error(str(error))
        if latest:
            st.caption(
                f"What had landed before: {np.isfinite(latest[0].values[0]).sum():,} of "
                f"{side * side:,} points (blank where missing)."
            )
            ui.chart(plot_landscape_preview(latest[0]), key="landscape_kept", downloads=False)
        st.stop()
    preview.empty()
    if progress is not None:
        progress.empty()
    return info
