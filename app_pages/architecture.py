"""Architecture: what is this network made of, and where do its parameters, compute and memory go?"""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from neurogenesis import cached
from neurogenesis.analysis.architecture import default_expanded
from neurogenesis.analysis.comparison import architecture_diff, diff_table, tradeoff_from_cards
from neurogenesis.errors import InputError, UnsupportedModelError
from neurogenesis.plotting.architecture import (
    BLOCK_SIZES,
    COST_LABELS,
    DIRECTIONS,
    human,
    plot_block_diagram,
    plot_graph,
    plot_layer_costs,
    plot_layer_stack_3d,
    plot_weight_histograms,
    shape_text,
)
from neurogenesis.plotting.comparison import (
    plot_architecture_diff,
    plot_complexity_radar,
    plot_side_by_side_costs,
    plot_tradeoff,
)

TABS = ("Graph", "Blocks", "Layers", "3D", "Complexity", "Compare", "Build", "Export")


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


def graph_view(source) -> None:
    try:
        graph = cached.model_graph(source)
    except UnsupportedModelError as error:
        st.info(str(error))
        return
    open_key = f"architecture_open:{source.key}"
    if open_key not in st.session_state:
        st.session_state[open_key] = list(default_expanded(graph))
    left, middle, right = st.columns([4, 1, 1], vertical_alignment="bottom")
    direction = left.segmented_control(
        "Direction", DIRECTIONS, default=DIRECTIONS[1], key="architecture_direction"
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
            "(ResNet's conv2_block1_*). A closed block is one large square; click it to open it.",
        )
    layout = cached.graph_layout(source, st.session_state[open_key] if graph.groups else None)
    st.plotly_chart(
        plot_graph(layout, direction=direction or DIRECTIONS[1]),
        key="graph",
        on_select=partial(_on_graph_click, layout, open_key),
        selection_mode="points",
    )
    st.caption(
        "Drag to pan, scroll to zoom, hover for shapes and costs. Click a closed block to open it, "
        "a layer to see its configuration and weights below."
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
        st.dataframe(
            pd.DataFrame(
                {
                    "weight": [w.name for w in details.weights],
                    "shape": ["×".join(map(str, w.shape)) for w in details.weights],
                    "trainable": [w.trainable for w in details.weights],
                    "mean": [w.mean for w in details.weights],
                    "std": [w.std for w in details.weights],
                    "min": [w.min for w in details.weights],
                    "max": [w.max for w in details.weights],
                    "L2 norm": [w.norm for w in details.weights],
                    "zeros": [w.zeros_fraction for w in details.weights],
                }
            ),
            hide_index=True,
            width="stretch",
            column_config={"zeros": st.column_config.NumberColumn(format="percent")},
        )
        st.plotly_chart(plot_weight_histograms(details), key="weight_histograms")
    with st.expander("Configuration (get_config)"):
        st.code(details.config, language="json")


def blocks_view(source) -> None:
    try:
        graph = cached.model_graph(source)
    except UnsupportedModelError as error:
        st.info(str(error))
        return
    size = st.segmented_control(
        "Size by",
        list(BLOCK_SIZES),
        default="macs",
        format_func=BLOCK_SIZES.get,
        key="architecture_block_size",
    )
    st.plotly_chart(plot_block_diagram(graph, size or "macs"), key="block_diagram")
    st.caption(
        "Each box is as wide as its share of the model's cost; click a block to zoom into it, "
        "click the top bar to zoom out."
    )


def layers_view(info) -> None:
    table = pd.DataFrame(
        {
            "layer": [layer.name for layer in info.layers],
            "class": [layer.class_name for layer in info.layers],
            "output shape": [shape_text(layer.output_shape) for layer in info.layers],
            "parameters": [layer.num_params for layer in info.layers],
            "trainable": [layer.num_trainable_params for layer in info.layers],
            "MACs": [layer.macs for layer in info.layers],
            "activation bytes": [layer.activation_bytes for layer in info.layers],
            "weight bytes": [layer.weight_bytes for layer in info.layers],
            "activation": [layer.activation or "" for layer in info.layers],
        }
    )
    totals = {
        "layer": "Total",
        "class": f"{len(info.layers)} layers",
        "output shape": "",
        "parameters": info.num_params,
        "trainable": info.num_trainable_params,
        "MACs": info.macs,
        "activation bytes": int(table["activation bytes"].fillna(0).sum()),
        "weight bytes": int(table["weight bytes"].sum()),
        "activation": "",
    }
    st.dataframe(
        pd.concat([table, pd.DataFrame([totals])], ignore_index=True),
        hide_index=True,
        width="stretch",
        column_config={
            name: st.column_config.NumberColumn(format="localized")
            for name in ("parameters", "trainable", "MACs", "activation bytes", "weight bytes")
        },
    )
    st.caption("Click a column header to sort. The last row holds the totals.")


def stack_view(source) -> None:
    try:
        graph = cached.model_graph(source)
    except UnsupportedModelError as error:
        st.info(str(error))
        return
    only_changes = st.toggle(
        "Only layers that compute or change the shape",
        value=True,
        key="architecture_stack_changes",
        help="Activations, normalisation and dropout repeat the box before them.",
    )
    st.plotly_chart(plot_layer_stack_3d(graph, only_changes=only_changes), key="layer_stack")
    st.caption(
        "Each box is one layer's output for one sample: height and depth follow its spatial size "
        "(square root), thickness its channels (logarithm). Drag to rotate, scroll to zoom."
    )


def complexity_view(source, info) -> None:
    cost = st.segmented_control(
        "Cost",
        list(COST_LABELS),
        default="macs",
        format_func=lambda key: COST_LABELS[key].split(" (")[0],
        key="architecture_cost",
    )
    st.plotly_chart(plot_layer_costs(info, cost or "macs"), key="layer_costs")
    st.plotly_chart(plot_complexity_radar([cached.complexity(source)]), key="radar")
    st.caption(
        "The six axes of the NeuroGenesis paper, each on a log scale (one ring per ×10), beside "
        "ResNet-50 (dotted) for scale. Depth is the longest path from input to output; width the "
        "most channels or units of any layer. Compare several models in the Compare tab."
    )


def compare_view(source, info) -> None:
    models = st.session_state.get("models") or {}
    current = next((label for label, other in models.items() if other == source), None)
    others = [label for label in models if label != current]
    if not others:
        st.info("Only one model is open. Upload another .keras or .h5 file to compare with it.")
        return
    chosen = st.multiselect(
        "Compare with",
        others,
        key="architecture_compare",
        placeholder="Choose one or more models",
        help="The model chosen in the sidebar is A; the first model here is B in the diff.",
    )
    if not chosen:
        st.info("Choose one or more models to set beside this one.")
        return
    sources = [source, *(models[label] for label in chosen)]
    try:
        infos = [info, *(cached.architecture(other) for other in sources[1:])]
    except InputError as error:
        st.error(str(error))
        return
    names = [current or info.name, *chosen]
    st.plotly_chart(
        plot_complexity_radar([cached.complexity(s) for s in sources], names=names, reference=None),
        key="compare_radar",
    )
    diff = architecture_diff(
        infos[0],
        infos[1],
        configs_a=cached.layer_configs(sources[0]),
        configs_b=cached.layer_configs(sources[1]),
    )
    counts = diff.counts()
    st.subheader(f"Diff: {names[0]} → {names[1]}")
    st.markdown(
        f"{counts.get('added', 0)} added · {counts.get('removed', 0)} removed · "
        f"{counts.get('changed', 0)} changed · {counts.get('same', 0)} unchanged · "
        f"parameters {diff.delta_params:+,}"
        + ("" if diff.delta_macs is None else f" · MACs {diff.delta_macs:+,}")
    )
    delta = st.segmented_control(
        "Bars show",
        ["num_params", "macs"],
        default="num_params",
        format_func={"num_params": "Δ parameters", "macs": "Δ MACs"}.get,
        key="architecture_diff_delta",
    )
    st.plotly_chart(plot_architecture_diff(diff, delta=delta or "num_params"), key="diff")
    with st.expander("Every row of the diff"):
        st.dataframe(pd.DataFrame(diff_table(diff)), hide_index=True, width="stretch")
    cost = st.segmented_control(
        "Per-layer cost",
        list(COST_LABELS),
        default="macs",
        format_func=lambda key: COST_LABELS[key].split(" (")[0],
        key="architecture_compare_cost",
    )
    st.plotly_chart(plot_side_by_side_costs(infos, cost or "macs", names=names), key="side_by_side")
    tradeoff = tradeoff_from_cards(infos, [cached.model_metadata(s) or None for s in sources])
    axis = st.segmented_control(
        "Metric against",
        ["num_params", "macs"],
        default="num_params",
        format_func={"num_params": "parameters", "macs": "compute"}.get,
        key="architecture_tradeoff_x",
    )
    st.plotly_chart(plot_tradeoff(tradeoff, axis or "num_params"), key="tradeoff")
    st.caption(
        "Recorded metrics come from each model's card (the demos' test accuracy or error); "
        "models without one are listed apart."
    )


st.title("Architecture")
st.markdown(
    "What is this network made of? Layers, shapes, parameters, compute and memory, exactly."
)
source = st.session_state.get("model")
if source is None:
    st.info("No model selected. Pick a demo model in the sidebar, or upload a .keras or .h5 file.")
    st.stop()
try:
    info = cached.architecture(source)
except InputError as error:
    st.error(str(error))
    st.stop()

st.markdown(f"**{info.name}** · {info.model_class} · {len(info.layers)} layers")
columns = st.columns(4)
columns[0].metric(
    "Parameters",
    f"{info.num_params:,}",
    help=f"{info.num_params - info.num_trainable_params:,} non-trainable",
)
columns[1].metric(
    "Multiply-accumulates",
    "—" if info.macs is None else human(info.macs),
    help="per sample, one forward pass",
)
columns[2].metric("Weight memory", human(sum(layer.weight_bytes for layer in info.layers), "B"))
columns[3].metric(
    "Activation memory",
    human(sum(layer.activation_bytes or 0 for layer in info.layers), "B"),
    help="all layer outputs of one sample, if all were kept",
)
st.text(
    "Input: " + (", ".join(shape_text(shape) for shape in info.input_shapes) or "unknown")
    + "\nOutput: " + (", ".join(shape_text(shape) for shape in info.output_shapes) or "unknown")
)  # fmt: skip

# Only the open tab runs (on_change="rerun"), so the builder and comparisons cost nothing unseen.
tabs = dict(zip(TABS, st.tabs(TABS, key="architecture_tab", on_change="rerun"), strict=True))
with tabs["Graph"]:
    if tabs["Graph"].open:
        graph_view(source)
with tabs["Blocks"]:
    if tabs["Blocks"].open:
        blocks_view(source)
with tabs["Layers"]:
    if tabs["Layers"].open:
        layers_view(info)
with tabs["3D"]:
    if tabs["3D"].open:
        stack_view(source)
with tabs["Complexity"]:
    if tabs["Complexity"].open:
        complexity_view(source, info)
with tabs["Compare"]:
    if tabs["Compare"].open:
        compare_view(source, info)

with st.expander("How to read this"):
    st.markdown(
        "- **Multiply-accumulates (MACs)** count one multiplication plus one addition as one "
        'operation, for one sample. Papers often call this "FLOPs" (ResNet-50\'s 3.8 G); strictly, '
        "FLOPs are about twice the MACs. Pooling, normalisation, activations and element-wise merges "
        "count zero here, as in the papers.\n"
        "- **Parameters** come from the weights; **weight memory** is their size in bytes. "
        "**Activation memory** is the size of each layer's output for one sample: in convolutional "
        "networks the early layers dominate it (large images, few channels), while the late layers "
        "dominate the parameters (few pixels, many channels).\n"
        "- A layer called twice (shared weights) costs compute twice but stores its weights once.\n"
        "- **The graph** puts each layer at the depth of its longest path from an input, so every "
        "arrow points forward and parallel branches (ResNet's skip connections, multi-input "
        "models) stand side by side. Colours are layer families; a large purple square is a "
        "closed block (a nested model is dark slate). Shapes on the arrows are the tensors "
        "passed, batch first (None).\n"
        "- **The diff** lines up the layers of two models by class and name. Grey rows are the "
        "same, orange rows changed (their settings, output shape or size; the table says what), "
        "green rows were added in B and vermillion rows removed from A. Bars show what each row "
        "adds or removes in parameters or MACs."
    )
