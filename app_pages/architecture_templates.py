"""Architecture, the "Build" tab's templates: reference architectures at any width or depth,
their multiplier sweeps, and the demo model's own width sweep."""

from __future__ import annotations

import streamlit as st

from app_pages import ui
from app_pages.architecture_stack import builder_set
from neurogenesis import cached
from neurogenesis.analysis.templates import TEMPLATES
from neurogenesis.errors import InputError
from neurogenesis.plotting.architecture import human, memory_totals
from neurogenesis.plotting.sweeps import plot_sweep

MULTIPLIERS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)


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
    columns[2].metric("Weight memory", human(memory_totals(summary)[0], "B"))
    columns[3].metric("Layers", f"{len(summary.layers)}")
    if template.editable:
        st.button(
            "Open in the builder",
            key="template_open",
            on_click=lambda: builder_set(
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
    sweep_file = cached.demo_sweep(source)
    if sweep_file is not None:
        name = cached.model_metadata(source)["name"]
        with st.expander(f"{name}: size, compute and recorded accuracy by width"):
            try:
                sweep = cached.scenario_sweep(name, sweep_file)
            except InputError as error:
                st.error(str(error))
            else:
                ui.chart(plot_sweep(sweep), key="scenario_sweep")
                st.caption(
                    "Each width was trained at several learning rates; the best validation "
                    "value is shown. More parameters stop paying off where the curve flattens."
                )
