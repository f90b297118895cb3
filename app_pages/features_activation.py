"""The features page's Activation maximization tab: gradient ascent from faint noise toward the
input that raises one unit or class most."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app_pages import ui
from neurogenesis import cached
from neurogenesis.analysis.features import (
    DEFAULT_L2,
    DEFAULT_LEARNING_RATE,
    DEFAULT_STEPS,
    DEFAULT_TOTAL_VARIATION,
)
from neurogenesis.errors import UnsupportedModelError
from neurogenesis.plotting.features import (
    activation_maximization_table,
    plot_activation_maximization,
)


def _input_range(model_source, sample_set) -> tuple[float, float] | None:
    """The value range inputs live in: the demo's card says it; else the sample set shows it."""
    metadata = cached.model_metadata(model_source) or {}
    if metadata.get("input_range"):
        low, high = metadata["input_range"]
        return float(low), float(high)
    if sample_set is not None and sample_set.x.dtype.kind in "biuf":
        return float(np.min(sample_set.x)), float(np.max(sample_set.x))
    return None


def _settings(model_source, sample_set) -> dict:
    """The regularization and steps, chosen in a closed expander."""
    defaults = cached.default_regularization(model_source)
    with st.expander("Regularization and steps"):
        c1, c2, c3 = st.columns(3)
        steps = c1.slider("Steps", 16, 1024, DEFAULT_STEPS, key="features_am_steps")
        # The defaults grow with the image (224×224 photos: 11 pixels of blur), and so do the
        # ranges: a default above a fixed maximum was an exception.
        top_jitter, top_blur = (
            max(8, 2 * int(defaults["jitter"])),
            max(4.0, 2 * float(defaults["blur_sigma"])),
        )
        notes = [
            ui.valid_number("features_am_jitter", 0, top_jitter, "jitter"),
            ui.valid_number("features_am_blur", 0.0, top_blur, "gradient blur"),
        ]
        jitter = c1.slider(
            "Jitter (pixels)",
            0,
            top_jitter,
            int(defaults["jitter"]),
            key="features_am_jitter",
        )
        learning_rate = c2.number_input(
            "Step size (Adam, decays)",
            0.001,
            0.5,
            float(DEFAULT_LEARNING_RATE),
            format="%.3f",
            key="features_am_rate",
        )
        l2 = c2.number_input(
            "L2 decay", 0.0, 1.0, float(DEFAULT_L2), format="%.4f", key="features_am_l2"
        )
        blur = c3.number_input(
            "Gradient blur σ (pixels)",
            0.0,
            top_blur,
            float(defaults["blur_sigma"]),
            key="features_am_blur",
        )
        tv = c3.number_input(
            "Total variation",
            0.0,
            10.0,
            float(DEFAULT_TOTAL_VARIATION),
            format="%.4f",
            key="features_am_tv",
        )
        for note in notes:
            ui.show_note(note)
    return {
        "steps": steps,
        "learning_rate": learning_rate,
        "jitter": jitter,
        "l2": l2,
        "blur_sigma": blur,
        "total_variation": tv,
        "input_range": _input_range(model_source, sample_set),
    }


def activation_view(model_source, layers, sample_set, predictions) -> None:
    try:
        choices = cached.activation_layers(model_source)
    except UnsupportedModelError as error:
        st.info(str(error))
        return
    if not choices:
        st.info("This model has no layer whose units can be maximized.")
        return
    a, b = st.columns([3, 1])
    ui.show_note(ui.valid_choice("features_am_layer", choices, "layer"), a)
    layer = a.selectbox("Layer", choices, index=len(choices) - 1, key="features_am_layer")
    units = int(layers.entry(layer).output_shape[-1])
    names = predictions.label_names if predictions is not None else None
    names = names or (cached.model_metadata(model_source) or {}).get("label_names")
    labels = names if layer == layers.layers[-1].path and names and len(names) == units else None
    ui.show_note(ui.valid_choice("features_am_unit", range(units), "unit"), b)
    unit = b.selectbox(
        "Class" if labels else "Unit / channel",
        list(range(units)),
        format_func=(lambda u: f"{u}: {labels[u]}") if labels else str,
        key="features_am_unit",
    )
    options = _settings(model_source, sample_set)
    key = (layer, unit, tuple(sorted(options.items())))
    if st.button("Generate", key="features_am_go", type="primary"):
        st.session_state["features_am_request"] = key
    if st.session_state.get("features_am_request") != key:
        st.caption(
            "Adam steps from faint noise toward the input that raises this unit most"
            + (
                " (for the output layer, the class's logit: its score before the softmax)."
                if labels
                else "."
            )
        )
        return
    bar = st.progress(0.0, text="Gradient ascent…")
    info = cached.activation_maximization(
        model_source,
        layer,
        unit,
        options,
        progress=lambda f: bar.progress(min(max(float(f), 0.0), 1.0), text="Gradient ascent…"),
    )
    bar.empty()
    ui.chart(
        plot_activation_maximization(info, unit_name=labels[unit] if labels else None),
        key="features_am_chart",
        data=activation_maximization_table(info),
    )
    st.caption(
        f"Maximized: the {info.objective_name}. It rose from {info.start_activation:.3g} on the "
        f"starting noise to {info.final_activation:.3g} in {len(info.objective)} steps; over the "
        f"last tenth of the steps it moved by {info.last_change():.1%} of that rise."
    )
