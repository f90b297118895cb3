"""Debugging, Perturbation tab: text the user types, read by the model's own saved tokenizer
(``ui.typed_text``), perturbed token by token instead of a sample of the set."""

from __future__ import annotations

import zlib

import numpy as np
import streamlit as st

from app_pages import ui
from app_pages.debugging_parts import state
from app_pages.ui import typed_text
from neurogenesis.io.samples import token_input_name


def typed_choice(model_source):
    """The model's saved preprocessor when the user chooses to type the text, else None (a model
    saved without one offers the set's samples only)."""
    saved = typed_text.saved_preprocessor(model_source)
    if saved is None:
        return None
    chosen = st.segmented_control(
        "Perturb",
        ("the chosen sample", "your own text"),
        default="the chosen sample",
        key=state("perturb_source"),
    )
    return saved if chosen == "your own text" else None


def typed_steps(model_source, saved, token_steps):
    """A text box read by ``saved`` and the token edits picked on its tokens: (the model's
    inputs packed as one sample, the steps, the vocabulary), or Nones for text it cannot read."""
    x, tokens = typed_text.typed_input(state("perturb"), saved)
    if x is None:
        return None, None, None
    names = x.dtype.names
    ids = np.asarray(x[token_input_name(names)][0])
    vocabulary = list(saved.vocabulary)
    mask = saved.special_tokens[3]
    mask = (mask, saved.token_id(mask)) if mask in vocabulary else None
    # One set of widgets per tokenization: the positions picked belong to these tokens.
    key = f"typed_{zlib.crc32(ids.tobytes()):08x}"
    steps = token_steps(
        ids, tokens, len(vocabulary), lambda t: [vocabulary[i] for i in t], key, mask
    )
    return x, steps, vocabulary


def typed_prediction(info, predictions) -> None:
    """The model's prediction for the typed text before the edits, as the Attention page says
    it (the probability is the softmax of a logits model's outputs, said so)."""
    if info.original_prediction is None:
        return
    name = ui.class_name(predictions, info.original_prediction)
    output = info.original_output
    # A binary classifier's one output is the probability of class 1.
    probability = float(output[info.original_prediction] if len(output) > 1 else output[0])
    if len(output) == 1 and info.original_prediction == 0:
        probability = 1.0 - probability
    source = f", {typed_text.probability_source(predictions)}" if predictions.from_logits else ""
    st.markdown(f"Model's prediction for your text: {name} (probability {probability:.2f}{source})")
