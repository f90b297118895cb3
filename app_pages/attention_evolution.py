"""The attention page's Evolution tab: the scores the RunRecorder kept for its probe samples at
every epoch, and each head's entropy over training."""

from __future__ import annotations

import streamlit as st

from app_pages import ui
from app_pages.attention_input import real_length, scale_choice, token_labels
from neurogenesis import cached
from neurogenesis.errors import InputError
from neurogenesis.plotting.attention import (
    attention_entropy_table,
    entropy_labels,
    plot_attention_evolution,
    plot_entropy_over_epochs,
)


def evolution_view(sample_set) -> None:
    runs = cached.attention_runs(st.session_state.get("logs", []))
    if not runs:
        st.info(
            "No recorded run with attention scores among the chosen training logs. Runs recorded "
            "with NeuroGenesis's RunRecorder keep them each epoch (the text demo's runs do)."
        )
        return
    names = [name for name, _ in runs]
    left, middle, right, far = st.columns(4)
    ui.show_note(ui.valid_choice("attention_run", names, "run"), left)
    name = left.selectbox("Run", names, key="attention_run")
    try:
        info = cached.attention_evolution(dict(runs)[name])
    except InputError as error:
        st.warning(str(error))
        return
    ui.show_note(ui.valid_choice("attention_ev_layer", info.layers, "layer"), middle)
    layer = middle.selectbox("Layer", list(info.layers), key="attention_ev_layer")
    stack = info.scores[layer]
    ui.show_note(ui.valid_choice("attention_ev_head", range(stack.shape[2]), "head"), right)
    ui.show_note(ui.valid_choice("attention_ev_sample", range(stack.shape[1]), "sample"), far)
    head = right.selectbox("Head", list(range(stack.shape[2])), key="attention_ev_head")
    sample = far.selectbox("Probe sample", list(range(stack.shape[1])), key="attention_ev_sample")
    words = None
    if (
        info.inputs.ndim == 2
        and info.inputs.shape[0] > sample
        and sample_set.vocabulary is not None
    ):
        words = sample_set.words(info.inputs[sample])
    queries, keys = token_labels(words, stack.shape)
    cut = real_length(keys) if words is not None else len(keys)
    same = stack.shape[3] == stack.shape[4]
    # One (queries, keys) frame per epoch, padding cut off.
    frames = list(
        stack[: len(info.epochs), sample, head, : (cut if same else stack.shape[3]), :cut]
    )
    scale = scale_choice("attention_evolution_scale")
    ui.chart(
        plot_attention_evolution(
            frames, info.epochs.tolist(), keys[:cut], title=f"{layer}, head {head}", scale=scale
        ),
        key="attention_evolution",
    )
    entropy = attention_entropy_table(info)
    ui.chart(
        plot_entropy_over_epochs(entropy.to_numpy(), info.epochs.tolist(), entropy_labels(info)),
        key="attention_entropy",
        data=entropy,
    )
    for note in info.notes:
        st.caption(note)
