"""Architecture, the "Compare" tab: the sidebar's model beside others, on the radar, as graphs,
as an aligned diff, per-layer costs side by side and recorded metrics against size."""

from __future__ import annotations

import streamlit as st

from app_pages import ui
from app_pages.architecture_views import cost_choice
from neurogenesis import cached
from neurogenesis.errors import InputError, UnsupportedModelError
from neurogenesis.plotting.architecture import plot_graph
from neurogenesis.plotting.comparison import (
    architecture_diff_table,
    complexity_table,
    plot_architecture_diff,
    plot_complexity_radar,
    plot_side_by_side_costs,
    plot_tradeoff,
)
from neurogenesis.plotting.style import escaped


def compare_view(source, info) -> None:
    models = st.session_state.get("models") or {}
    current = next((label for label, other in models.items() if other == source), None)
    others = [label for label in models if label != current]
    if not others:
        st.info("Only one model is open. Upload another .keras or .h5 file to compare with it.")
        return
    ui.show_note(ui.valid_choice("architecture_compare", others, "model"))
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
        data=complexity_table(profiles),
    )
    with st.expander("The graphs", expanded=len(sources) <= 3):
        # One tab per model, each at full width: the boxes are sized in pixels to their text, and
        # a narrow column would shrink them under it.
        for position, (tab, other, label) in enumerate(
            zip(st.tabs(list(names)), sources, names, strict=True)
        ):
            with tab:
                try:
                    cached.model_graph(other)  # UnsupportedModelError for a subclassed model
                except UnsupportedModelError as error:
                    st.info(f"{label}: {error}")
                    continue
                layout = cached.graph_layout(other, cached.default_open_blocks(other, max_nodes=30))
                figure = plot_graph(layout)
                figure.update_layout(title={"text": escaped(label)})
                ui.chart(figure, key=f"compare_graph_{position}")
    diff = cached.architecture_diff(sources[0], sources[1])
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
    rows = architecture_diff_table(diff)
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
    cost = cost_choice("Per-layer cost", "architecture_compare_cost")
    ui.chart(plot_side_by_side_costs(infos, cost, names=names), key="side_by_side")
    tradeoff = cached.tradeoff(sources)
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
