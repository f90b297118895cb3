"""Architecture, the "Graph" tab: the model's graph with collapsible blocks, a layer finder, and
the chosen layer's configuration and weights."""

from __future__ import annotations

from functools import partial

import streamlit as st

from app_pages import ui
from neurogenesis import cached
from neurogenesis.errors import InputError, UnsupportedModelError
from neurogenesis.plotting.architecture import (
    DIRECTIONS,
    layer_table,
    plot_graph,
    plot_weight_histograms,
    weights_table,
)


def _set_open(key: str, value: list[str]) -> None:
    st.session_state[key] = value


def _on_graph_click(layout, open_key: str) -> None:
    """A click on a closed block opens it; a click on a layer shows its details below."""
    event = st.session_state.get("graph") or {}
    points = (event.get("selection") or {}).get("points") or []
    data = points[0].get("customdata") if points else None
    if not data:
        return
    node = layout.nodes[int(data[0])]
    if node.group is not None:
        st.session_state[open_key] = [*st.session_state.get(open_key, []), node.group]
    elif node.layer_path:
        st.session_state["architecture_layer"] = "/".join(node.layer_path)


def _on_find(graph, open_key: str) -> None:
    """Finding a layer opens the blocks around it, so it can be shown, and shows its details."""
    wanted = st.session_state.get("architecture_find")
    unit = next((unit for unit in graph.units if unit.name == wanted), None)
    if unit is not None:
        opened = st.session_state.get(open_key, [])
        st.session_state[open_key] = [*opened, *(g for g in unit.path if g not in opened)]
        st.session_state["architecture_layer"] = "/".join(unit.layer_path)  # its details below


def _found_node(layout, graph, wanted: str | None) -> int | None:
    """The index of the drawn node that shows layer ``wanted`` (itself, or its closed block)."""
    if wanted is None:
        return None
    for node in layout.nodes:
        if node.name == wanted and not node.group:
            return node.index
    unit = next((unit for unit in graph.units if unit.name == wanted), None)
    by_group = {node.group: node.index for node in layout.nodes if node.group}
    return next((by_group[g] for g in (unit.path if unit else ()) if g in by_group), None)


def graph_or_info(source):
    """The model's graph, or None after saying why there is none (a subclassed model)."""
    try:
        return cached.model_graph(source)
    except UnsupportedModelError as error:
        st.info(str(error))
        return None


def graph_view(source) -> None:
    graph = graph_or_info(source)
    if graph is None:
        return
    open_key = f"architecture_open:{source.key}"
    if open_key not in st.session_state:
        st.session_state[open_key] = list(cached.default_open_blocks(source))
    left, find, middle, right = st.columns([3, 3, 1.2, 1.2], vertical_alignment="bottom")
    direction = left.segmented_control(
        "Direction", DIRECTIONS, default=DIRECTIONS[1], key="architecture_direction"
    )
    names = list(dict.fromkeys(unit.name for unit in graph.units))
    ui.show_note(ui.valid_choice("architecture_find", names, "layer"), find)
    find.selectbox(
        "Find a layer",
        names,
        index=None,
        placeholder="Type a layer name",
        key="architecture_find",
        on_change=_on_find,
        args=(graph, open_key),
        help="Centres the graph on the layer and outlines it (opening its block if it is closed). "
        "Clear it to see the whole graph.",
    )
    if graph.groups:
        middle.button(
            "Open all blocks",
            on_click=_set_open,
            args=(open_key, [group.id for group in graph.groups]),
            width="stretch",
        )
        right.button("Close all", on_click=_set_open, args=(open_key, []), width="stretch")
        st.multiselect(
            "Open blocks",
            [group.id for group in graph.groups],
            format_func=lambda group_id: graph.group(group_id).label,
            key=open_key,
            help="Blocks are nested models and layers whose names share a numbered prefix "
            "(ResNet's conv2_block1_*) or suffix (a transformer's attention_1, feed_forward_1, "
            "...). A closed block is one dotted box; click it to open it.",
        )
    layout = cached.graph_layout(source, st.session_state[open_key] if graph.groups else None)
    focus = _found_node(layout, graph, st.session_state.get("architecture_find"))
    ui.chart(
        plot_graph(layout, direction=direction or DIRECTIONS[1], focus=focus),
        key="graph",
        name="architecture_graph",
        data=partial(layer_table, cached.architecture(source)),
        on_select=partial(_on_graph_click, layout, open_key),
        selection_mode="points",
    )
    st.caption(
        "Drag to pan, scroll to zoom, hover for shapes and costs. Click a closed block to open it, "
        "a layer to see its configuration and weights below. Edges that jump over layers "
        "(residuals, masks) run in lanes beside the column."
    )
    layer_view(source, graph)


def layer_view(source, graph) -> None:
    paths = list(dict.fromkeys("/".join(unit.layer_path) for unit in graph.units))
    if st.session_state.get("architecture_layer") not in paths:
        st.session_state["architecture_layer"] = next(
            (
                "/".join(unit.layer_path)
                for unit in graph.units
                if unit.num_params and unit.class_name != "InputLayer"
            ),
            paths[0],
        )
    chosen = st.selectbox("Layer details", paths, key="architecture_layer")
    try:
        details = cached.layer_details(source, tuple(chosen.split("/")))
    except InputError:
        st.info(f"'{chosen}' is a Keras operation (keras.ops), with no weights or settings.")
        return
    st.markdown(f"**{details.name}** · {details.class_name} · {details.num_params:,} parameters")
    if details.weights:
        weights = weights_table(details)
        st.dataframe(
            weights,
            hide_index=True,
            width="stretch",
            column_config={"zeros": st.column_config.NumberColumn(format="percent")},
        )
        ui.chart(plot_weight_histograms(details), key="weight_histograms", data=weights)
    with st.expander("Configuration (get_config)"):
        st.code(details.config, language="json")
