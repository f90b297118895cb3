"""Architecture for a model that cannot run here: its structure, read from the file alone."""

from __future__ import annotations

import streamlit as st

from app_pages import ui
from neurogenesis import cached
from neurogenesis.errors import InputError
from neurogenesis.plotting.architecture import (
    origin_text,
    plot_graph,
    shape_text,
    structure_table,
)


def structure_or_none(source, error: InputError):
    """The model file's structure with the load error as its reason, or None after showing the
    error (when not even the structure can be read: a damaged or hostile file)."""
    try:
        return cached.structure(source, str(error))
    except InputError:
        st.error(str(error))
        return None


def structure_summary(structure) -> None:
    """The structure-only label: why the model cannot run, and what it holds."""
    st.warning(f"**Structure only: this model is not run here.** {structure.reason}")
    custom = ", ".join(
        f"{name} ({origin_text(origin)})" for name, origin in structure.custom_classes
    )
    st.markdown(f"**{structure.name}** · {structure.model_class} · read from the file, never run")
    columns = st.columns(3)
    columns[0].metric(
        "Parameters", f"{structure.num_params:,}", help="counted from the weights in the file"
    )
    columns[1].metric("Layers", f"{len(structure.top_layers())}")
    columns[2].metric("Custom classes", f"{len(structure.custom_classes)}", help=custom)
    inputs = ", ".join(shape_text(shape) for shape in structure.input_shapes) or "unknown"
    st.text(f"Input: {inputs}\nSaved with Keras {structure.keras_version or 'unknown'}")


def structure_view(source, error: InputError) -> None:
    """The page for a model that cannot be loaded: its layers, their classes and where those
    come from, their connections and parameters, and each layer's saved settings."""
    structure = structure_or_none(source, error)
    if structure is None:
        return
    structure_summary(structure)
    if structure.layers:
        ui.chart(
            plot_graph(cached.structure_layout(source, str(error))),
            key="structure_graph",
            name="structure_graph",
            data=structure_table(structure),
        )
        st.caption(
            "The graph as the file describes it (nested models and numbered blocks open while "
            "they fit); tensor shapes are not shown because the model is never run."
        )
    table = structure_table(structure)
    st.dataframe(
        table,
        hide_index=True,
        key="architecture_structure",
        column_config={
            "parameters": st.column_config.NumberColumn(format="localized"),
            "layer": st.column_config.TextColumn(width="medium"),
        },
    )
    described = [layer for layer in structure.layers if layer.config]
    if described:
        names = [layer.name for layer in described]
        # The first class that is not Keras's own is what the reader wants to see first.
        first = next((i for i, layer in enumerate(described) if layer.origin != "keras"), 0)
        ui.show_note(ui.valid_choice("architecture_structure_layer", names, "layer"))
        chosen = st.selectbox(
            "Layer settings", names, index=first, key="architecture_structure_layer"
        )
        layer = next(layer for layer in structure.layers if layer.name == chosen)
        st.caption(f"{layer.class_name} from {origin_text(layer.origin)}: its saved config")
        st.code(layer.config, language="json")
    st.caption(
        "Shapes and compute need the model to run; the graph, 3D stack, complexity and every "
        "other page open once it loads."
    )
