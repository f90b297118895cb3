"""Architecture: what is this network made of, and where do its parameters, compute and memory go?"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from neurogenesis import cached
from neurogenesis.errors import InputError, UnsupportedModelError
from neurogenesis.plotting.architecture import COST_LABELS, plot_graph, plot_layer_costs


def _shape(shape) -> str:
    if shape and all(isinstance(item, tuple) for item in shape):
        return ", ".join(_shape(item) for item in shape)
    return "(" + ", ".join("None" if dim is None else str(dim) for dim in shape) + ")"


def _human(count: float, unit: str = "") -> str:
    for size, suffix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if count >= size:
            return f"{count / size:.2f}{suffix}{unit}"
    return f"{count:,.0f}{' ' + unit if unit else ''}"


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
    "—" if info.macs is None else _human(info.macs),
    help="per sample, one forward pass",
)
columns[2].metric("Weight memory", _human(sum(layer.weight_bytes for layer in info.layers), "B"))
columns[3].metric(
    "Activation memory",
    _human(sum(layer.activation_bytes or 0 for layer in info.layers), "B"),
    help="all layer outputs of one sample, if all were kept",
)
st.text(
    "Input: " + (", ".join(_shape(shape) for shape in info.input_shapes) or "unknown")
    + "\nOutput: " + (", ".join(_shape(shape) for shape in info.output_shapes) or "unknown")
)  # fmt: skip

st.subheader("Graph")
try:
    graph = cached.architecture_graph(source)
except UnsupportedModelError as error:
    st.info(str(error))
else:
    st.plotly_chart(plot_graph(graph), key="graph")
    st.caption(
        "Left to right from the inputs; drag to pan, scroll to zoom, hover a layer for its shape and cost."
    )

table = pd.DataFrame(
    {
        "layer": [layer.name for layer in info.layers],
        "class": [layer.class_name for layer in info.layers],
        "output shape": [_shape(layer.output_shape) for layer in info.layers],
        "parameters": [layer.num_params for layer in info.layers],
        "trainable": [layer.num_trainable_params for layer in info.layers],
        "MACs": [layer.macs for layer in info.layers],
        "activation bytes": [layer.activation_bytes for layer in info.layers],
        "weight bytes": [layer.weight_bytes for layer in info.layers],
        "activation": [layer.activation or "" for layer in info.layers],
    }
)
st.subheader("Layers")
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={
        name: st.column_config.NumberColumn(format="localized")
        for name in ("parameters", "trainable", "MACs", "activation bytes", "weight bytes")
    },
)

st.subheader("Where the cost goes")
cost = st.segmented_control(
    "Cost",
    list(COST_LABELS),
    default="macs",
    format_func=lambda key: COST_LABELS[key].split(" (")[0],
    key="architecture_cost",
)
st.plotly_chart(plot_layer_costs(info, cost or "macs"), key="layer_costs")

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
        "- **The graph** puts each layer in the column of its longest path from an input, so every "
        "arrow points right and parallel branches (ResNet's skip connections, multi-input models) "
        "stand side by side. Colours are layer families."
    )
