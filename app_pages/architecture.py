"""Architecture: what is this network made of, and where do its parameters, compute and memory go?"""

from __future__ import annotations

from dataclasses import asdict
from functools import partial

import pandas as pd
import streamlit as st

from app_pages import ui
from neurogenesis import cached
from neurogenesis.analysis.architecture import default_expanded
from neurogenesis.analysis.comparison import architecture_diff, diff_table, tradeoff_from_cards
from neurogenesis.analysis.layer_stack import (
    BUILDER_LAYERS,
    add_layer,
    layer_spec,
    move_layer,
    parse_shape,
    remove_layer,
    update_layer,
)
from neurogenesis.analysis.templates import TEMPLATES
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
from neurogenesis.plotting.export import FIGURE_FORMATS, static_export_available
from neurogenesis.plotting.style import escaped
from neurogenesis.plotting.sweeps import plot_sweep

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


def graph_view(source) -> None:
    try:
        graph = cached.model_graph(source)
    except UnsupportedModelError as error:
        st.info(str(error))
        return
    open_key = f"architecture_open:{source.key}"
    if open_key not in st.session_state:
        st.session_state[open_key] = list(default_expanded(graph))
    left, find, middle, right = st.columns([3, 3, 1.2, 1.2], vertical_alignment="bottom")
    direction = left.segmented_control(
        "Direction", DIRECTIONS, default=DIRECTIONS[1], key="architecture_direction"
    )
    find.selectbox(
        "Find a layer",
        list(dict.fromkeys(unit.name for unit in graph.units)),
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
        data=partial(_layer_table, cached.architecture(source)),
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
        weights = pd.DataFrame(
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
        )
        st.dataframe(
            weights,
            hide_index=True,
            width="stretch",
            column_config={"zeros": st.column_config.NumberColumn(format="percent")},
        )
        ui.chart(plot_weight_histograms(details), key="weight_histograms", data=weights)
    with st.expander("Configuration (get_config)"):
        st.code(details.config, language="json")


def blocks_view(source, info) -> None:
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
    ui.chart(
        plot_block_diagram(graph, size or "macs"),
        key="block_diagram",
        data=partial(_layer_table, info),
    )
    st.caption(
        "Each box is as wide as its share of the model's cost; click a block to zoom into it, "
        "click the top bar to zoom out."
    )


def _layer_table(info) -> pd.DataFrame:
    """One row per layer: class, output shape, parameters, compute and memory."""
    return pd.DataFrame(
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


def layers_view(info) -> None:
    table = _layer_table(info)
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
    rows = pd.concat([table, pd.DataFrame([totals])], ignore_index=True)
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        # Tall enough to show a small model whole, totals row included (35 px a row).
        height=min(35 * (len(rows) + 1) + 3, 840),
        column_config={
            **{
                name: st.column_config.NumberColumn(format="localized")
                for name in ("parameters", "trainable", "MACs", "activation bytes", "weight bytes")
            },
            **_text_widths(rows, ("layer", "class", "output shape")),
        },
    )
    st.caption("Click a column header to sort. The last row holds the totals.")


def _text_widths(frame: pd.DataFrame, columns) -> dict:
    """Text columns as wide as their longest entry (about 8 px a character at the table's 14 px),
    so no name is cut off ("feed_forward_residual_…")."""
    return {
        name: st.column_config.TextColumn(
            width=int(24 + 8 * max([len(str(value)) for value in frame[name]] + [len(name)]))
        )
        for name in columns
    }


def stack_view(source, info) -> None:
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
    ui.chart(
        plot_layer_stack_3d(graph, only_changes=only_changes),
        key="layer_stack",
        data=partial(_layer_table, info),
    )
    st.caption(
        "Each box is one layer's output for one sample, named above it: its two sides follow "
        "the square roots of its rows (or time steps) and columns, its thickness the logarithm "
        "of its channels; a vector is a thin slab as tall as the square root of its length "
        "allows. Drag to rotate, scroll to zoom."
    )


def complexity_view(source, info) -> None:
    cost = st.segmented_control(
        "Cost",
        list(COST_LABELS),
        default="macs",
        format_func=lambda key: COST_LABELS[key].split(" (")[0],
        key="architecture_cost",
    )
    ui.chart(
        plot_layer_costs(info, cost or "macs"), key="layer_costs", data=partial(_layer_table, info)
    )
    profile = cached.complexity(source)
    ui.chart(plot_complexity_radar([profile]), key="radar", data=pd.DataFrame([asdict(profile)]))
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
    profiles = [cached.complexity(s) for s in sources]
    ui.chart(
        plot_complexity_radar(profiles, names=names, reference=None),
        key="compare_radar",
        data=pd.DataFrame([asdict(profile) for profile in profiles]),
    )
    with st.expander("The graphs", expanded=len(sources) <= 3):
        # One tab per model, each at full width: the boxes are sized in pixels to their text, and
        # a narrow column would shrink them under it.
        for position, (tab, other, label) in enumerate(
            zip(st.tabs(list(names)), sources, names, strict=True)
        ):
            with tab:
                try:
                    graph = cached.model_graph(other)
                except UnsupportedModelError as error:
                    st.info(f"{label}: {error}")
                    continue
                layout = cached.graph_layout(other, default_expanded(graph, max_nodes=30))
                figure = plot_graph(layout)
                figure.update_layout(title={"text": escaped(label)})
                ui.chart(figure, key=f"compare_graph_{position}")
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
    rows = pd.DataFrame(diff_table(diff))
    ui.chart(plot_architecture_diff(diff, delta=delta or "num_params"), key="diff", data=rows)
    with st.expander("Every row of the diff"):
        st.dataframe(
            rows,
            hide_index=True,
            width="stretch",
            column_config={
                name: st.column_config.NumberColumn(format="localized")
                for name in ("Δ parameters", "Δ MACs")
            },
        )
    cost = st.segmented_control(
        "Per-layer cost",
        list(COST_LABELS),
        default="macs",
        format_func=lambda key: COST_LABELS[key].split(" (")[0],
        key="architecture_compare_cost",
    )
    ui.chart(plot_side_by_side_costs(infos, cost or "macs", names=names), key="side_by_side")
    tradeoff = tradeoff_from_cards(infos, [cached.model_metadata(s) or None for s in sources])
    axis = st.segmented_control(
        "Metric against",
        ["num_params", "macs"],
        default="num_params",
        format_func={"num_params": "parameters", "macs": "compute"}.get,
        key="architecture_tradeoff_x",
    )
    ui.chart(plot_tradeoff(tradeoff, axis or "num_params"), key="tradeoff")
    st.caption(
        "Recorded metrics come from each model's card (the demos' test accuracy or error); "
        "models without one are listed apart."
    )


# --- Templates and the builder -------------------------------------------------------------------

MULTIPLIERS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
BUILDER = "builder"  # session state: {"input_shape", "specs", "version", "origin"}


def _builder_state() -> dict:
    if BUILDER not in st.session_state:
        input_shape, specs = cached.template_specs("small_cnn")
        st.session_state[BUILDER] = {
            "input_shape": tuple(input_shape),
            "specs": tuple(specs),
            "version": 0,
            "origin": "the small CNN template",
        }
    return st.session_state[BUILDER]


def _builder_set(input_shape, specs, origin: str) -> None:
    state = _builder_state()
    state.update(
        input_shape=tuple(input_shape),
        specs=tuple(specs),
        version=state["version"] + 1,
        origin=origin,
    )
    st.session_state.pop("builder_problem", None)


def _builder_edit(operation, *args, **kwargs) -> None:
    """Applies an edit (add, remove, move, update); a refused one is explained, nothing lost."""
    state = _builder_state()
    try:
        specs = operation(state["specs"], *args, **kwargs)
    except InputError as error:
        st.session_state["builder_problem"] = str(error)
        return
    st.session_state.pop("builder_problem", None)
    state.update(specs=specs, version=state["version"] + 1)


def _setting_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return ", ".join(_setting_text(item) for item in value)
    return str(value)


def _parse_setting(kind: str, text: str):
    import ast

    text = text.strip()
    if kind == "optional_size" and not text:
        return None
    if kind == "padding":
        try:
            value = ast.literal_eval(text if text.startswith("(") else f"({text},)")
        except (ValueError, SyntaxError) as error:
            raise InputError(
                f"Expected a number, a pair '1, 2' or pairs '(1, 1), (2, 2)'. Received: {text!r}"
            ) from error
        return value[0] if len(value) == 1 else value
    shape = parse_shape(text)
    if not shape:
        raise InputError(f"Expected a number or numbers separated by commas. Received: {text!r}")
    return shape[0] if len(shape) == 1 and kind != "shape" else shape


def _on_setting(index: int, name: str, kind: str, key: str) -> None:
    value = st.session_state[key]
    if kind in ("size", "optional_size", "shape", "padding"):
        try:
            value = _parse_setting(kind, value)
        except InputError as error:
            st.session_state["builder_problem"] = f"Layer {index + 1}, {name}: {error}"
            return
    _builder_edit(update_layer, index, **{name: value})


def _on_input_shape(key: str) -> None:
    state = _builder_state()
    try:
        shape = parse_shape(st.session_state[key])
    except InputError as error:
        st.session_state["builder_problem"] = f"Input shape: {error}"
        return
    st.session_state.pop("builder_problem", None)
    state.update(input_shape=shape, version=state["version"] + 1)


def _setting_widget(spec, index: int, item, version: int) -> None:
    key = f"builder:{version}:{index}:{item.name}"
    value = spec.get(item.name, item.default)
    common = {"key": key, "help": item.help or None, "on_change": _on_setting}
    common["args"] = (index, item.name, item.type, key)
    if item.type == "bool":
        st.checkbox(item.name, value=bool(value), **common)
    elif item.type == "choice":
        choices = list(item.choices or ())
        st.selectbox(
            item.name, choices, index=choices.index(value) if value in choices else 0, **common
        )
    elif item.type == "int":
        st.number_input(
            item.name,
            value=int(value),
            min_value=None if item.minimum is None else int(item.minimum),
            step=1,
            **common,
        )
    elif item.type == "float":
        st.number_input(
            item.name,
            value=float(value),
            min_value=None if item.minimum is None else float(item.minimum),
            step=0.05,
            format="%.4g",
            **common,
        )
    else:
        st.text_input(item.name, value=_setting_text(value), **common)


def template_view(source) -> None:
    st.markdown(
        "**Templates.** Reference architectures, built without weights, at any width or depth."
    )
    name = st.selectbox(
        "Template",
        list(TEMPLATES),
        index=list(TEMPLATES).index("small_cnn"),  # quick to build; the big ones take seconds
        format_func=lambda key: TEMPLATES[key].title,
        key="template",
    )
    template = TEMPLATES[name]
    st.caption(f"{template.description} {template.multipliers}")
    left, right = st.columns(2)
    width = left.select_slider(
        "Width multiplier",
        MULTIPLIERS,
        value=1.0,
        key=f"template_width:{name}",
        disabled=not template.supports_width,
        help="Scales every layer's channels or units.",
    )
    depth = right.select_slider(
        "Depth multiplier",
        MULTIPLIERS,
        value=1.0,
        key=f"template_depth:{name}",
        disabled=not template.supports_depth,
        help="Scales how many times each block repeats.",
    )
    try:
        summary = cached.template_summary(name, width, depth)
    except InputError as error:
        st.error(str(error))
        return
    columns = st.columns(4)
    columns[0].metric("Parameters", f"{summary.num_params:,}")
    columns[1].metric("Multiply-accumulates", human(summary.macs or 0))
    columns[2].metric(
        "Weight memory", human(sum(layer.weight_bytes for layer in summary.layers), "B")
    )
    columns[3].metric("Layers", f"{len(summary.layers)}")
    if template.editable:
        st.button(
            "Open in the builder",
            key="template_open",
            on_click=lambda: _builder_set(
                *cached.template_specs(name, width, depth), f"the {template.title} template"
            ),
        )
    else:
        st.caption(
            f"{template.title} branches or nests models, so the builder (a stack of layers) cannot "
            "edit it; scale it with the multipliers and sweep them below."
        )
    with st.expander("Sweep a multiplier (architecture search)"):
        kinds = [
            k
            for k, ok in (("width", template.supports_width), ("depth", template.supports_depth))
            if ok
        ]
        if not kinds:
            st.info(f"{template.title} has no multiplier to sweep.")
        else:
            kind = st.segmented_control(
                "Multiplier", kinds, default=kinds[0], key="template_sweep_kind"
            )
            if st.button("Build every variant", key="template_sweep_run") or st.session_state.get(
                f"swept:{name}:{kind}"
            ):
                st.session_state[f"swept:{name}:{kind}"] = True
                sweep = cached.template_sweep(name, kind or kinds[0], MULTIPLIERS)
                ui.chart(plot_sweep(sweep), key="template_sweep")
    metadata = cached.model_metadata(source)
    sweep_dir = metadata.get("sweep")
    if isinstance(sweep_dir, str) and metadata.get("name"):
        from neurogenesis.workspace import DEMO_MODELS_DIR

        path = (DEMO_MODELS_DIR.parent / sweep_dir).resolve()
        if (path / "sweep.json").is_file():
            with st.expander(f"{metadata['name']}: size, compute and recorded accuracy by width"):
                try:
                    sweep = cached.scenario_sweep(metadata["name"], str(path / "sweep.json"))
                except InputError as error:
                    st.error(str(error))
                else:
                    ui.chart(plot_sweep(sweep), key="scenario_sweep")
                    st.caption(
                        "Each width was trained at several learning rates; the best validation "
                        "value is shown. More parameters stop paying off where the curve flattens."
                    )


def builder_view(source) -> None:
    state = _builder_state()
    version = state["version"]
    st.markdown(
        f"**Builder.** A stack of layers, rebuilt with Keras at every change. Started from "
        f"{state['origin']}."
    )
    left, middle, right = st.columns([2, 1, 1], vertical_alignment="bottom")
    input_key = f"builder_input:{version}"
    left.text_input(
        "Input shape (one sample, no batch axis)",
        value=_setting_text(state["input_shape"]),
        key=input_key,
        on_change=_on_input_shape,
        args=(input_key,),
    )
    middle.button(
        "Start empty",
        key="builder_empty",
        on_click=_builder_set,
        args=((28, 28, 1), (), "nothing"),
        width="stretch",
    )
    if right.button("Open the sidebar model", key="builder_from_model", width="stretch"):
        try:
            _builder_set(*cached.source_specs(source), f"the model '{source.label}'")
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
        columns[2].metric(
            "Weight memory", human(sum(layer.weight_bytes for layer in info.layers), "B")
        )
        columns[3].metric(
            "Activation memory",
            human(sum(layer.activation_bytes or 0 for layer in info.layers), "B"),
        )
        st.success(f"Builds: {len(specs)} layers, output {shape_text(info.output_shapes[0])}.")
    elif result.error is not None:
        st.error(result.error.text)
    failing = None if result.ok or result.error is None else result.error.index
    layer_rows = (
        result.summary.layers[-len(specs) :] if result.ok and result.summary and specs else ()
    )
    table = pd.DataFrame(
        {
            "#": list(range(1, len(specs) + 1)),
            "layer": [spec.name or "" for spec in specs],
            "class": [spec.class_name for spec in specs],
            "settings": [
                ", ".join(f"{k}={_setting_text(v)}" for k, v in spec.config) for spec in specs
            ],
            "output shape": [
                shape_text(result.output_shapes[i])
                if i < len(result.output_shapes)
                else ("✗ fails here" if i == failing else "not built")
                for i in range(len(specs))
            ],
            "parameters": [
                layer_rows[i].num_params if layer_rows else None for i in range(len(specs))
            ],
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "parameters": st.column_config.NumberColumn(format="localized"),
            **_text_widths(table, ("layer", "class", "settings", "output shape")),
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
                _setting_widget(spec, index, item, version)
        buttons = st.columns(3)
        buttons[0].button(
            "Move up",
            key=f"builder_up:{version}",
            disabled=index == 0,
            on_click=_builder_edit,
            args=(move_layer, index, index - 1),
            width="stretch",
        )
        buttons[1].button(
            "Move down",
            key=f"builder_down:{version}",
            disabled=index == len(specs) - 1,
            on_click=_builder_edit,
            args=(move_layer, index, index + 1),
            width="stretch",
        )
        buttons[2].button(
            "Remove",
            key=f"builder_remove:{version}",
            on_click=_builder_edit,
            args=(remove_layer, index),
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
        on_click=lambda: _builder_edit(add_layer, int(position) - 1, layer_spec(new_class)),
        width="stretch",
    )
    st.caption(f"{BUILDER_LAYERS[new_class].description}")


def build_view(source) -> None:
    template_view(source)
    st.divider()
    builder_view(source)


# --- Export --------------------------------------------------------------------------------------

FORMAT_NAMES = {"html": "HTML (interactive)", "png": "PNG", "svg": "SVG", "pdf": "PDF"}


def _safe_file_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_" else "_" for c in name).strip("_")
    return cleaned or "model"


def export_view(source, info) -> None:
    st.markdown(
        "**The model**: as Keras code that rebuilds it, as its JSON config, as a .keras file."
    )
    choices = {"sidebar": f"The model in the sidebar ({source.label})"}
    state = st.session_state.get(BUILDER)
    result = cached.built(tuple(state["input_shape"]), tuple(state["specs"])) if state else None
    if result is not None and result.ok:
        choices["builder"] = f"The builder's model ({len(state['specs'])} layers)"
    template = st.session_state.get("template")
    if template in TEMPLATES:
        width = st.session_state.get(f"template_width:{template}", 1.0)
        depth = st.session_state.get(f"template_depth:{template}", 1.0)
        choices["template"] = (
            f"The {TEMPLATES[template].title} template (width ×{width}, depth ×{depth})"
        )
    which = st.radio("Export", list(choices), format_func=choices.get, key="export_which")

    def export(what: str):
        if which == "builder":
            return cached.built_export(tuple(state["input_shape"]), tuple(state["specs"]), what)
        if which == "template":
            return cached.template_export(template, width, depth, what)
        return cached.source_export(source, what)

    name = {"sidebar": info.name, "builder": "built", "template": template or "template"}[which]
    stem = _safe_file_name(name)
    try:
        code = export("python")
    except InputError as error:  # a subclassed model or a custom layer: no code, say why
        st.info(str(error))
        code = None
    columns = st.columns(3)
    if code is not None:
        columns[0].download_button(
            "Keras code (.py)",
            code,
            file_name=f"{stem}.py",
            mime="text/x-python",
            key="export_python",
            width="stretch",
        )
    columns[1].download_button(
        "JSON config",
        lambda: export("json"),
        file_name=f"{stem}.json",
        mime="application/json",
        key="export_json",
        width="stretch",
    )
    columns[2].download_button(
        ".keras file",
        lambda: export("keras"),
        file_name=f"{stem}.keras",
        mime="application/octet-stream",
        key="export_keras",
        width="stretch",
        help="Architecture and weights (a template or the builder's model: fresh weights).",
    )
    if code is not None:
        with st.expander("The code", expanded=False):
            st.code(code, language="python")
            st.caption(
                "Run it to rebuild the model: same layers, shapes and parameter count, with fresh "
                "weights. The .keras file keeps the weights."
            )

    st.markdown(f"**The views of {info.name}** as files for slides and papers.")
    formats = ["html", "png", "svg", "pdf"] if static_export_available() else ["html"]
    if len(formats) == 1:
        st.caption(
            "PNG, SVG and PDF need kaleido and a Chrome or Chromium browser; HTML works everywhere."
        )
    views = {
        "graph": "Graph",
        "blocks": "Block diagram",
        "stack": "3D layer stack",
        "costs": "Per-layer costs",
        "radar": "Complexity radar",
    }
    left, right = st.columns(2)
    view = left.selectbox("View", list(views), format_func=views.get, key="export_view")
    fmt = (
        right.segmented_control(
            "Format", formats, default="html", format_func=FORMAT_NAMES.get, key="export_format"
        )
        or "html"
    )
    try:
        graph = cached.model_graph(source) if view in ("graph", "blocks", "stack") else None
    except UnsupportedModelError as error:
        st.info(str(error))
        return
    if view == "graph":
        open_blocks = st.session_state.get(f"architecture_open:{source.key}")
        expanded = open_blocks if open_blocks is not None else default_expanded(graph)
        direction = st.session_state.get("architecture_direction") or DIRECTIONS[1]
        figure = plot_graph(cached.graph_layout(source, expanded), direction=direction, whole=True)
    elif view == "blocks":
        figure = plot_block_diagram(
            graph, st.session_state.get("architecture_block_size") or "macs"
        )
    elif view == "stack":
        figure = plot_layer_stack_3d(graph)
    elif view == "costs":
        figure = plot_layer_costs(info, st.session_state.get("architecture_cost") or "macs")
    else:
        figure = plot_complexity_radar([cached.complexity(source)])
    st.download_button(
        f"Download the {views[view].lower()} ({FORMAT_NAMES[fmt]})",
        partial(ui.figure_file, figure, fmt),
        file_name=f"{stem}_{view}.{fmt}",
        mime=FIGURE_FORMATS[fmt],
        key="export_figure",
        on_click="ignore",
    )
    st.caption("The figure is drawn as you set it in its tab (open blocks, direction, cost).")


ui.start_page("Architecture")
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
    help="per sample, one forward pass"
    + ("" if info.macs is None else f": {info.macs:,} multiply-accumulates"),
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
        blocks_view(source, info)
with tabs["Layers"]:
    if tabs["Layers"].open:
        layers_view(info)
with tabs["3D"]:
    if tabs["3D"].open:
        stack_view(source, info)
with tabs["Complexity"]:
    if tabs["Complexity"].open:
        complexity_view(source, info)
with tabs["Compare"]:
    if tabs["Compare"].open:
        compare_view(source, info)
with tabs["Build"]:
    if tabs["Build"].open:
        build_view(source)
with tabs["Export"]:
    if tabs["Export"].open:
        export_view(source, info)

ui.bundle_button()
with ui.how_to_read("Architecture"):
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
        "arrow points forward and parallel branches (multi-input models) stand side by side. Each "
        "box holds the layer's class (its header, coloured by family), name, key settings and "
        "parameters; a dotted box is a closed block, named after it (a nested model is dark "
        "slate). An edge that jumps over layers (a residual, a mask) runs in a lane beside the "
        "column. The shape below a layer is the tensor it sends, batch first (None).\n"
        "- **The diff** lines up the layers of two models by class and name. Grey rows are the "
        "same, orange rows changed (their settings, output shape or size; the table says what), "
        "green rows were added in B and vermillion rows removed from A. Bars show what each row "
        "adds or removes in parameters or MACs."
    )
