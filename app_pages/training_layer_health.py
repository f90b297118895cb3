"""The training page's Layer health tab: distributions over training, dead units and the effect
of batch normalization."""

from __future__ import annotations

import streamlit as st

from app_pages import ui
from app_pages.training_common import pick_run
from neurogenesis import cached
from neurogenesis.errors import InputError
from neurogenesis.plotting.layer_health import (
    plot_batch_norm_effect,
    plot_dead_units,
    plot_distribution,
    plot_histogram_heatmap,
    plot_histogram_offset,
    plot_histogram_overlay,
    plot_unit_activity,
)
from neurogenesis.plotting.training import dead_units_table, dead_units_text_table, most_dead_layer

HISTOGRAM_MODES = ("offset", "overlay", "heatmap", "distribution")
HISTOGRAM_PLOTS = {
    "offset": plot_histogram_offset,
    "overlay": plot_histogram_overlay,
    "heatmap": plot_histogram_heatmap,
    "distribution": plot_distribution,
}


def layer_health_view(sources, chosen: list[str]) -> None:
    st.markdown("##### Distributions over training")
    histograms_view(sources, chosen)
    st.markdown("##### Dead units")
    dead_units_view(sources, chosen)
    st.markdown("##### The effect of batch normalization")
    batch_norm_view(sources, chosen)


def histograms_view(sources, chosen: list[str]) -> None:
    with_histograms = [run for run in chosen if cached.histogram_tags(sources, run)]
    if not with_histograms:
        st.info(
            "None of the chosen runs logged histograms. Record a run with "
            "neurogenesis.RunRecorder (activations and weights every epoch) or Keras's "
            "TensorBoard(histogram_freq=1)."
        )
        return
    columns = st.columns([2, 3, 3], vertical_alignment="bottom")
    with columns[0]:
        run = pick_run(with_histograms, "training_hist_run")
    tags = cached.histogram_tags(sources, run)
    with columns[1]:
        tag = pick_run(tags, f"training_hist_tag:{run}", "Histogram", tags)
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
        ui.chart(HISTOGRAM_PLOTS[mode](info), key="training_histogram")


def dead_units_view(sources, chosen: list[str]) -> None:
    recorded = [run for run in chosen if cached.recorded_path(sources, run)]
    if not recorded:
        st.info(
            "Dead units need the per-unit activation statistics that neurogenesis.RunRecorder "
            "writes on its probe batch; none of the chosen runs has them."
        )
        return
    columns = st.columns([2, 2], vertical_alignment="bottom")
    with columns[0]:
        run = pick_run(recorded, "training_dead_run")
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
        return
    ui.chart(plot_dead_units(info), key="training_dead_chart", data=dead_units_table(info))
    # A static table: its cells wrap, so the unit lists and notes are never cut off.
    st.table(dead_units_text_table(info))
    layer = st.selectbox(
        "Units of layer", info.layers, index=most_dead_layer(info), key=f"training_dead_layer:{run}"
    )
    ui.chart(plot_unit_activity(info, layer, threshold=threshold), key="training_unit_chart")
    for note in info.notes:
        st.caption(note)


def batch_norm_view(sources, chosen: list[str]) -> None:
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
