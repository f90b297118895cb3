"""Loss landscape, the "Line" and "Sharpness" tabs: the loss along a straight line between two
sets of weights, and how the estimate of the sharpness settled."""

from __future__ import annotations

import streamlit as st

from app_pages import ui
from neurogenesis import cached
from neurogenesis.plotting.landscape import (
    interpolation_table,
    plot_interpolation,
    plot_sharpness,
    sharpness_table,
)

LINE_POINTS = 41


def line_view(
    model_source,
    samples_source,
    *,
    models: dict,
    runs: list,
    options: dict,
    run_dir: str | None,
    log_scale: bool,
) -> None:
    """The "Line" tab: from a checkpoint of the run (``run_dir``) or another model of the same
    architecture (among ``models``, the sidebar's by label, and the recorded ``runs``) to the
    chosen weights."""
    starts: list[tuple[str, tuple]] = []
    if run_dir is not None:
        labels = cached.run_checkpoint_labels(run_dir)
        starts += [
            (f"checkpoint: {label}", ("checkpoint", run_dir, k))
            for k, label in enumerate(labels[:-1])
        ]
    candidates = [*models.values(), *(source for _, source, _ in runs)]
    others = cached.matching_models(model_source, candidates, same_size=True)
    starts += [(f"model: {source.label}", ("model", source)) for source in others]
    if not starts:
        st.info(
            "A line needs a second set of weights of the same architecture: a checkpoint of "
            "the run (choose a recorded run under *Weights*) or another model of the same "
            "architecture in the sidebar or the logs."
        )
        return
    labels = [label for label, _ in starts]
    left, right = st.columns([3, 2])
    ui.show_note(ui.valid_choice("landscape_line_start", labels, "start"), left)
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
        data=interpolation_table(line),
    )
    st.caption(
        "Every weight moves along the straight line (1 − t)·start + t·end; "
        "BatchNormalization statistics are interpolated too and keep an end's values past "
        "it. A bump between two trained models is a barrier between their basins."
    )


def sharpness_view(sharp) -> None:
    """The "Sharpness" tab: the power iteration's estimates of λ_max, and what they rest on."""
    ui.chart(plot_sharpness(sharp), key="landscape_sharpness", data=sharpness_table(sharp))
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
