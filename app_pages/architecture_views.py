"""Architecture, the "Blocks", "Layers", "3D" and "Complexity" tabs: where the parameters,
compute and memory go, as boxes, a table, a 3D stack of outputs and the paper's radar."""

from __future__ import annotations

from functools import partial

import streamlit as st

from app_pages import ui
from app_pages.architecture_graph import graph_or_info
from app_pages.ui.tables import text_widths
from neurogenesis import cached
from neurogenesis.plotting.architecture import (
    BLOCK_SIZES,
    COST_LABELS,
    LAYER_NUMBER_COLUMNS,
    layer_table,
    layer_totals_table,
    plot_block_diagram,
    plot_layer_costs,
    plot_layer_stack_3d,
)
from neurogenesis.plotting.comparison import complexity_table, plot_complexity_radar


def blocks_view(source, info) -> None:
    graph = graph_or_info(source)
    if graph is None:
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
        data=partial(layer_table, info),
    )
    st.caption(
        "Each box is as wide as its share of the model's cost; click a block to zoom into it, "
        "click the top bar to zoom out."
    )


def layers_view(info) -> None:
    rows = layer_totals_table(info)
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        # Tall enough to show a small model whole, totals row included (35 px a row).
        height=min(35 * (len(rows) + 1) + 3, 840),
        column_config={
            **{
                name: st.column_config.NumberColumn(format="localized")
                for name in LAYER_NUMBER_COLUMNS
            },
            **text_widths(rows, ("layer", "class", "output shape")),
        },
    )
    st.caption("Click a column header to sort. The last row holds the totals.")


def stack_view(source, info) -> None:
    graph = graph_or_info(source)
    if graph is None:
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
        data=partial(layer_table, info),
    )
    st.caption(
        "Each box is one layer's output for one sample, named above it: its two sides follow "
        "the square roots of its rows (or time steps) and columns, its thickness the logarithm "
        "of its channels; a vector is a thin slab as tall as the square root of its length "
        "allows. Drag to rotate, scroll to zoom."
    )


def cost_choice(label: str, key: str) -> str:
    """Which per-layer cost a chart shows (``COST_LABELS``' short names; MACs by default)."""
    cost = st.segmented_control(
        label,
        list(COST_LABELS),
        default="macs",
        format_func=lambda name: COST_LABELS[name].split(" (")[0],
        key=key,
    )
    return cost or "macs"


def complexity_view(source, info) -> None:
    cost = cost_choice("Cost", "architecture_cost")
    ui.chart(plot_layer_costs(info, cost), key="layer_costs", data=partial(layer_table, info))
    profile = cached.complexity(source)
    ui.chart(plot_complexity_radar([profile]), key="radar", data=complexity_table([profile]))
    st.caption(
        "The six axes of the NeuroGenesis paper, each on a log scale (one ring per ×10), beside "
        "ResNet-50 (dotted) for scale. Depth is the longest path from input to output; width the "
        "most channels or units of any layer. Compare several models in the Compare tab."
    )
