"""What the attention page's tabs share: choosing the input (a sample or typed text), the model's
prediction for it, token labels with the padding cut off and the colour-scale toggle."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app_pages import ui
from app_pages.ui import typed_text
from neurogenesis import cached
from neurogenesis.errors import InputError
from neurogenesis.io.samples import encode_text, padding_mask

PAD_WORDS = ("[PAD]", "<pad>", "")
SCALE_HELP = (
    "On: each head's colours run from 0 to its own largest weight, so a diffuse head (every "
    "weight near 1/length) shows its pattern instead of a blank square; hover gives the weights. "
    "Off: one shared 0–1 scale, so heads compare directly."
)


def sample_words(sample_set, index: int) -> list[str] | None:
    """The words of sample ``index``'s tokens, padding as ``[PAD]`` (a set of several inputs
    says where by its padding mask, so the pictures leave those positions off); None for
    samples that are not token ids."""
    if sample_set.input_names is None:
        return sample_set.words(sample_set.x[index]) if sample_set.vocabulary is not None else None
    tokens = np.asarray(sample_set.input()[index])
    if tokens.ndim != 1 or tokens.dtype.kind not in "iu":
        return None
    words = sample_set.words(tokens)
    mask = padding_mask(sample_set.x[index : index + 1])
    if mask is not None:
        words = [word if real else PAD_WORDS[0] for word, real in zip(words, mask[0], strict=True)]
    return words


def _sample_label(sample_set, index: int) -> str:
    text = sample_set.per_sample("text")
    if text is not None:
        return f"#{index}: {text[index]}"
    words = sample_words(sample_set, index)
    if words is not None:
        return f"#{index}: {' '.join(w for w in words if w not in PAD_WORDS)}"
    return f"#{index}"


def real_length(words: list[str]) -> int:
    """Positions up to the last real token: padding at the end is left off the pictures."""
    real = [i for i, word in enumerate(words) if word not in PAD_WORDS]
    return (real[-1] + 1) if real else len(words)


def choose_input(
    key: str, sample_set, length: int, label: str, default: int = 0, model_source=None
):
    """A sample, or (for token models with a vocabulary, or a model saved with its
    preprocessor) text the user types; returns (x, words, sample index or None for typed text)."""
    vocabulary = sample_set.vocabulary
    saved = typed_text.saved_preprocessor(model_source) if model_source else None
    own = False
    if vocabulary is not None or saved is not None:
        own = (
            st.segmented_control(
                f"{label}",
                ("a sample", "your own text"),
                default="a sample",
                key=f"{key}_source",
            )
            == "your own text"
        )
    if own and saved is not None:
        x, words = typed_text.typed_input(key, saved)
        return x, words, None
    if own and sample_set.input_names is not None:
        st.info(
            "Typed text needs every input this model takes (token ids, padding mask, segments) "
            "and a tokenizer; this model was saved without its preprocessor, so choose a sample."
        )
        return None, None, None
    if own:
        text = st.text_input("Text", "the acting was not good", key=f"{key}_text", max_chars=2000)
        try:
            ids, _ = encode_text(text, vocabulary, length)
        except InputError as error:
            st.warning(str(error))
            return None, None, None
        words = sample_set.words(ids[0])
        unknown = [w for w in text.lower().split() if w.strip(".,;:!?") not in vocabulary]
        if unknown:
            st.caption(
                f"Not in the model's vocabulary (read as [UNK]): {', '.join(sorted(set(unknown)))}"
            )
        return ids, words, None
    count = len(sample_set)
    ui.show_note(ui.valid_choice(f"{key}_sample", range(count), "sample"))
    index = st.selectbox(
        f"{label}: sample" if vocabulary is None else "Sample",
        list(range(count)),
        index=min(default, count - 1),
        format_func=lambda i: _sample_label(sample_set, i),
        key=f"{key}_sample",
    )
    x = np.asarray(sample_set.x[index : index + 1])
    return x, sample_words(sample_set, index), index


def prediction_text(prediction, sample_set, index) -> str | None:
    """What the model says about one input, as the sample lists say it: the predicted class and
    its probability, and for a sample its label (marked when they differ); None when the model
    does not classify."""
    if prediction.predicted is None:
        return None
    name = ui.class_name(prediction, prediction.predicted[0])
    text = f"Model's prediction: {name} (probability {prediction.confidence[0]:.2f}"
    text += f", {typed_text.probability_source(prediction)})" if prediction.from_logits else ")"
    labels = sample_set.y if index is not None else None
    if labels is not None and prediction.task in ("classification", "binary"):
        label = np.asarray(labels[index]).reshape(-1)
        label = int(label.argmax()) if label.size > 1 else int(np.rint(label[0]))
        text += f"; label {ui.class_name(prediction, label)}"
        if label != int(prediction.predicted[0]):
            text += " ✗"
    return text


def show_prediction(model_source, x, sample_set, index) -> None:
    try:
        prediction = cached.input_prediction(model_source, x, sample_set.label_names)
    except InputError as error:
        st.caption(f"No prediction: {error}")
        return
    if (text := prediction_text(prediction, sample_set, index)) is not None:
        st.markdown(text)


def token_labels(words, scores_shape) -> tuple[list[str], list[str]]:
    queries, keys = scores_shape[-2], scores_shape[-1]
    if words is not None and len(words) == keys:
        return (words if queries == keys else [f"q{i}" for i in range(queries)]), words
    return [f"q{i}" for i in range(queries)], [f"k{i}" for i in range(keys)]


def scale_choice(key: str) -> str:
    """The colour scale of attention heatmaps: each head's own max (the default) or shared 0–1."""
    own = st.toggle("Scale each head to its own max", value=True, key=key, help=SCALE_HELP)
    return "head" if own else "shared"
