"""Architecture: what is this network made of, and where do its parameters, compute and memory go?"""

from __future__ import annotations

import streamlit as st

from app_pages import ui
from app_pages.architecture_builder import builder_view
from app_pages.architecture_compare import compare_view
from app_pages.architecture_export import export_view
from app_pages.architecture_graph import graph_view
from app_pages.architecture_structure import structure_view
from app_pages.architecture_templates import template_view
from app_pages.architecture_views import blocks_view, complexity_view, layers_view, stack_view
from neurogenesis import cached
from neurogenesis.errors import InputError
from neurogenesis.plotting.architecture import human, memory_totals, shape_text

TABS = ("Graph", "Blocks", "Layers", "3D", "Complexity", "Compare", "Build", "Export")


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
    structure_view(source, error)
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
weight_bytes, activation_bytes = memory_totals(info)
columns[2].metric("Weight memory", human(weight_bytes, "B"))
columns[3].metric(
    "Activation memory",
    human(activation_bytes, "B"),
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
        template_view(source)
        st.divider()
        builder_view(source)
with tabs["Export"]:
    if tabs["Export"].open:
        export_view(source, info)

ui.bundle_button()
with ui.how_to_read("Architecture"):
    st.markdown(
        'MACs count one multiply-add per sample (papers\' "FLOPs" are about twice as many); '
        "activation memory is every layer's output for one sample. The graph and the diff are "
        "read in the manual."
    )
