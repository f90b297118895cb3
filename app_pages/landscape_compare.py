"""Loss landscape, the "Compare models" tab: the chosen weights and another model on random
planes with the same settings, drawn on one scale."""

from __future__ import annotations

import streamlit as st

from app_pages import ui
from neurogenesis import cached
from neurogenesis.errors import InputError, UnsupportedModelError
from neurogenesis.plotting.landscape import comparison_table, plot_landscape_comparison


def other_models(model_source, candidates: dict) -> dict:
    """The candidates worth comparing with ``model_source``: other weights (a run's saved model
    and the sidebar file it became are one model, and drew two identical surfaces) with the same
    output (a classifier's loss and an autoencoder's are not comparable), the same architecture
    first (another run of it is the comparison most asked for)."""
    try:
        card = cached.model_card(model_source)
        digest = cached.weights_digest(model_source)
    except (InputError, UnsupportedModelError):
        return candidates
    kept = {}
    for label, source in candidates.items():
        try:
            other = cached.model_card(source)
            if other.output_summary != card.output_summary:
                continue
            if other.num_params == card.num_params and cached.weights_digest(source) == digest:
                continue
        except (InputError, UnsupportedModelError):
            continue
        kept[label] = (other.num_params != card.num_params, source)
    return {label: source for label, (_, source) in sorted(kept.items(), key=lambda i: i[1][0])}


def compare_view(
    model_source,
    samples_source,
    *,
    models: dict,
    runs: list,
    options: dict,
    info,
    run_dir: str | None,
    name: str,
    metric: str,
    log_scale: bool,
    clip: float | None,
) -> None:
    """The "Compare models" tab. ``models`` are the sidebar's models by label, ``runs`` the
    recorded runs ``(name, model Source, folder)``, ``info`` the plane already drawn with
    ``options`` (reused when it is a random one), ``name`` what the chosen weights are called."""
    everything = dict(models)
    everything.update({f"run {run}": source for run, source, _ in runs})
    fitting = cached.matching_models(model_source, everything.values(), same_size=False)
    candidates = other_models(
        model_source, {label: source for label, source in everything.items() if source in fitting}
    )
    if not candidates:
        st.info(
            "Only these weights take these samples: add a second model (upload one in the "
            "sidebar, or choose training logs with another run) to compare landscapes."
        )
        return
    left, right = st.columns([3, 2])
    ui.show_note(ui.valid_choice("landscape_compare_with", candidates, "model"), left)
    other_label = left.selectbox("Compare with", list(candidates), key="landscape_compare_with")
    kind = right.segmented_control(
        "View", ["surface", "contour"], default="surface", key="landscape_compare_kind"
    )
    other_options = {**options, "directions": "random"}
    try:
        other_info = cached.landscape(candidates[other_label], samples_source, other_options)
    except (InputError, UnsupportedModelError) as error:
        st.info(f"{other_label} cannot be drawn on these samples with this loss. {error}")
        return
    mine = (
        info
        if options["directions"] == "random"
        else cached.landscape(model_source, samples_source, other_options, run_dir)
    )
    shared = [m for m in mine.metric_names if m in other_info.metric_names]
    names = [name, other_label]
    ui.chart(
        plot_landscape_comparison(
            [mine, other_info],
            names,
            metric if metric in shared else "loss",
            kind=kind or "surface",
            log_scale=log_scale,
            clip=clip,
            show_trajectory=False,
        ),
        key="landscape_compare",
        data=lambda: comparison_table([mine, other_info], names),
    )
    st.caption(
        "Both on random filter-normalized planes with the same seed, span and samples, drawn on "
        "one colour and height scale: a wider, flatter basin is visible as such."
    )
