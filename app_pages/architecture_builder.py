"""Architecture, the "Build" tab's builder: a stack of layers, rebuilt with Keras at every change,
with each layer's settings, output shape and parameters."""

from __future__ import annotations

import streamlit as st

from app_pages.architecture_stack import (
    builder_edit,
    builder_set,
    builder_state,
    on_input_shape,
    setting_widget,
)
from app_pages.ui.tables import text_widths
from neurogenesis import cached
from neurogenesis.analysis.layer_stack import BUILDER_LAYERS
from neurogenesis.errors import InputError
from neurogenesis.plotting.architecture import (
    builder_table,
    human,
    memory_totals,
    setting_text,
    shape_text,
)


def builder_view(source) -> None:
    state = builder_state()
    version = state["version"]
    st.markdown(
        f"**Builder.** A stack of layers, rebuilt with Keras at every change. Started from "
        f"{state['origin']}."
    )
    left, middle, right = st.columns([2, 1, 1], vertical_alignment="bottom")
    input_key = f"builder_input:{version}"
    left.text_input(
        "Input shape (one sample, no batch axis)",
        value=setting_text(state["input_shape"]),
        key=input_key,
        on_change=on_input_shape,
        args=(input_key,),
    )
    middle.button(
        "Start empty",
        key="builder_empty",
        on_click=builder_set,
        args=((28, 28, 1), (), "nothing"),
        width="stretch",
    )
    if right.button("Open the sidebar model", key="builder_from_model", width="stretch"):
        try:
            builder_set(*cached.source_specs(source), f"the model '{source.label}'")
            st.rerun()
        except InputError as error:
            st.session_state["builder_problem"] = str(error)
    problem = st.session_state.get("builder_problem")
    if problem:
        st.warning(problem)
    result = cached.built(tuple(state["input_shape"]), tuple(state["specs"]))
    specs = state["specs"]
    if result.ok and result.summary is not None:
        info = result.summary
        columns = st.columns(4)
        columns[0].metric("Parameters", f"{info.num_params:,}")
        columns[1].metric("Multiply-accumulates", human(info.macs or 0))
        weight_bytes, activation_bytes = memory_totals(info)
        columns[2].metric("Weight memory", human(weight_bytes, "B"))
        columns[3].metric("Activation memory", human(activation_bytes, "B"))
        st.success(f"Builds: {len(specs)} layers, output {shape_text(info.output_shapes[0])}.")
    elif result.error is not None:
        st.error(result.error.text)
    failing = None if result.ok or result.error is None else result.error.index
    table = builder_table(specs, result)
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "parameters": st.column_config.NumberColumn(format="localized"),
            **text_widths(table, ("layer", "class", "settings", "output shape")),
        },
    )
    st.markdown("**Edit a layer**")
    if specs:
        index = st.selectbox(
            "Layer",
            list(range(len(specs))),
            format_func=lambda i: f"{i + 1}. {specs[i].name or ''} {specs[i].class_name}".replace(
                "  ", " "
            ),
            key=f"builder_layer:{version}",
            index=min(failing or 0, len(specs) - 1),
        )
        spec = specs[index]
        kind = BUILDER_LAYERS[spec.class_name]
        st.caption(kind.description)
        fields = st.columns(3)
        for position, item in enumerate(kind.parameters):
            with fields[position % 3]:
                setting_widget(spec, index, item, version)
        buttons = st.columns(3)
        buttons[0].button(
            "Move up",
            key=f"builder_up:{version}",
            disabled=index == 0,
            on_click=builder_edit,
            args=("move", index, index - 1),
            width="stretch",
        )
        buttons[1].button(
            "Move down",
            key=f"builder_down:{version}",
            disabled=index == len(specs) - 1,
            on_click=builder_edit,
            args=("move", index, index + 1),
            width="stretch",
        )
        buttons[2].button(
            "Remove",
            key=f"builder_remove:{version}",
            on_click=builder_edit,
            args=("remove", index),
            width="stretch",
        )
    st.markdown("**Add a layer**")
    add = st.columns([2, 1, 1], vertical_alignment="bottom")
    new_class = add[0].selectbox(
        "Layer class",
        list(BUILDER_LAYERS),
        key="builder_new_class",
        help="Each class with its Keras defaults; edit its settings after adding it.",
    )
    position = add[1].number_input(
        "At position",
        min_value=1,
        max_value=len(specs) + 1,
        value=len(specs) + 1,
        key=f"builder_new_position:{version}",
    )
    add[2].button(
        "Add",
        key="builder_add",
        on_click=lambda: builder_edit("add", int(position) - 1, cached.new_layer(new_class)),
        width="stretch",
    )
    st.caption(f"{BUILDER_LAYERS[new_class].description}")
