"""Architecture, the "Export" tab: the model as Keras code, JSON config or a .keras file, and
each view as a file for slides and papers."""

from __future__ import annotations

from functools import partial

import streamlit as st

from app_pages import ui
from app_pages.architecture_stack import BUILDER
from neurogenesis import cached
from neurogenesis.analysis.templates import TEMPLATES
from neurogenesis.errors import InputError, UnsupportedModelError
from neurogenesis.plotting.architecture import (
    DIRECTIONS,
    plot_block_diagram,
    plot_graph,
    plot_layer_costs,
    plot_layer_stack_3d,
)
from neurogenesis.plotting.comparison import plot_complexity_radar
from neurogenesis.plotting.export import FIGURE_FORMATS, static_export_available
from neurogenesis.workspace import safe_file_name

FORMAT_NAMES = {"html": "HTML (interactive)", "png": "PNG", "svg": "SVG", "pdf": "PDF"}


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
    stem = safe_file_name(name, fallback="model", max_length=None, strip_folders=False)
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
        expanded = open_blocks if open_blocks is not None else cached.default_open_blocks(source)
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
