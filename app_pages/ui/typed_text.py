"""Text the user types, read by the model's own saved tokenizer (``io.tokenizers``): for a
KerasHub text classifier saved with its preprocessor, the packed inputs and their tokens."""

from __future__ import annotations

import streamlit as st

from neurogenesis import cached
from neurogenesis.errors import InputError
from neurogenesis.io.samples import pack_inputs


def probability_source(prediction) -> str:
    """Where a probability the model does not output itself comes from, said plainly (a
    ``PredictionInfo`` with ``from_logits``: KerasHub's classifiers return logits)."""
    if prediction.task == "binary":
        return "sigmoid of the model's logit"
    return "softmax of the model's logits"


def saved_preprocessor(model_source):
    """The model's saved preprocessor when typed text can be read with it, else None (a
    preprocessor this app does not reproduce says why in a caption)."""
    try:
        saved = cached.saved_preprocessor(model_source)
    except InputError as error:
        st.caption(f"The model's saved preprocessor could not be read: {error}")
        return None
    if saved is not None and saved.reason:
        st.caption(f"No typed text for this model: {saved.reason}.")
        return None
    return saved


def typed_input(key: str, saved, default: str = "the acting was not good"):
    """A text box read by ``saved``: (the model's inputs packed as one sample, the tokens), or
    (None, None) after a warning for text it cannot read."""
    text = st.text_input("Text", default, key=f"{key}_text", max_chars=2000)
    try:
        typed = saved.encode(text)
    except InputError as error:
        st.warning(str(error))
        return None, None
    shown = [token for token in typed.tokens if token != saved.special_tokens[2]]
    st.caption(f"Tokens ({typed.tokenizer}): " + " · ".join(shown))
    return pack_inputs(typed.inputs), list(typed.tokens)


def own_text_chosen(key: str, label: str = "Explain") -> bool:
    """Whether the user chose to type their own text rather than take a sample (the choice the
    attention page offers too)."""
    choice = st.segmented_control(
        label, ("a sample", "your own text"), default="a sample", key=f"{key}_source"
    )
    return choice == "your own text"
