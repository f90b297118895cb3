"""The features page's Feature maps and Filters tabs: a layer's channels for the chosen sample,
and a convolution layer's kernels."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app_pages import ui
from neurogenesis import cached
from neurogenesis.plotting.features import (
    feature_maps_table,
    filters_table,
    plot_feature_maps,
    plot_filters,
)


def _default_map_layer(choices: list[str], layers) -> int:
    """Open on the first convolution's own output after its normalization and activation, the
    first maps worth reading (a Rescaling layer's maps are the input's colour channels); a model
    without convolutions (a transformer, an LSTM) on its last sequence layer, the states its head
    reads."""
    convolutions = [i for i, path in enumerate(choices) if layers.entry(path).convolution]
    default = convolutions[0] if convolutions else len(choices) - 1
    for i in range(default + 1, len(choices)) if convolutions else ():
        entry = layers.entry(choices[i])
        if entry.output_shape != layers.entry(choices[default]).output_shape or entry.convolution:
            break
        default = i
    return default


def feature_map_view(model_source, samples_source, sample_set, index, kind, words) -> None:
    choices = cached.feature_map_layers(model_source)
    if not choices:
        st.info(
            "This model has no layer with a feature map (a height × width × channels or a "
            "time × channels output), so there is nothing to draw as maps. The projector tab shows "
            "any layer's hidden states instead."
        )
        return
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    default = _default_map_layer(choices, cached.graph_layers(model_source))
    note = ui.valid_choice("features_map_layer", choices, "layer")
    layer = left.selectbox("Layer", choices, index=default, key="features_map_layer")
    if note:
        st.caption(note)
    info = cached.feature_maps(model_source, samples_source, layer, index)
    channels = info.maps.shape[0]
    top = right.toggle("Top channels only", key="features_map_top")
    top_k = None
    if top:
        note = ui.valid_number("features_map_k", 1, channels, "number of channels")
        top_k = st.slider("How many", 1, channels, min(16, channels), key="features_map_k")
        ui.show_note(note)
    ui.chart(
        plot_feature_maps(
            info,
            top_k=top_k,
            input_image=np.asarray(ui.shown_input(sample_set)[index])
            if kind in ("image", "series")
            else None,
            show_input=kind in ("image", "series"),
            step_labels=words[index] if kind == "text" and words else None,
            feature_names=sample_set.feature_names,
        ),
        key="features_maps",
        data=feature_maps_table(info),
    )
    shape = "time × channel map, a row per channel" if info.sequence else "maps"
    st.caption(
        f"{channels} channels of {layer} for sample #{index}, drawn as a {shape}"
        + (f", the {top_k} most active" if top_k else "")
        + (". Blue is below zero, red above, white zero" if info.signed else "")
        + f". {int((info.fraction_zero > 0.99).sum())} channels are all zero for this sample."
    )


def filter_view(model_source) -> None:
    choices = cached.filter_layers(model_source)
    if not choices:
        st.info("This model has no convolution layer, so it has no filters to draw.")
        return
    left, right = st.columns([3, 1])
    note = ui.valid_choice("features_filter_layer", choices, "layer")
    layer = left.selectbox("Convolution layer", choices, key="features_filter_layer")
    if note:
        st.caption(note)
    info = cached.filters(model_source, layer)
    note = ui.valid_number("features_filter_count", 1, len(info.norms), "number of filters")
    limit = right.slider(
        "Filters shown", 1, len(info.norms), min(64, len(info.norms)), key="features_filter_count"
    )
    ui.show_note(note, right)
    ui.chart(
        plot_filters(info, max_filters=limit), key="features_filters", data=filters_table(info)
    )
    st.caption(
        "Sorted by L2 norm, strongest first. "
        + (
            "The first layer sees the RGB image, so each kernel is drawn in colour."
            if info.rgb
            else (
                "Each tile is one filter's kernel, left to right (blue negative, white zero, red "
                "positive), its weights square."
                if info.kernels.shape[-1] == 1
                else "Each row is one filter, each column one of the channels it reads (blue "
                "negative, white zero, red positive), its weights square."
            )
        )
    )
