"""One capability vocabulary: ``reason(source, kind)`` says why a view cannot be drawn (None: it can).

Each analysis module exposes ``reason(model, ...) -> str | None``; a page asks
``cached.reason(model_source, "landscape")`` and shows the sentence instead of failing.
"""

from __future__ import annotations

import streamlit as st

from neurogenesis.cached._keys import Key, _model, by_key
from neurogenesis.errors import InputError
from neurogenesis.workspace import Source

# kind -> (analysis module, the arguments its reason() takes for that kind)
REASON_KINDS = {
    "landscape": ("landscape", {}),
    "attention": ("attention", {}),
    "attribution": ("attribution", {}),  # method=... (one of analysis.attribution.METHODS)
    "token_attribution": ("attribution", {"tokens": True}),
    "robustness": ("robustness", {"view": "curves"}),
    "attack": ("robustness", {"view": "attack"}),
    "hidden_states": ("embeddings", {"view": "hidden_states"}),
    "reconstructions": ("embeddings", {"view": "reconstructions"}),
    "latent_grid": ("embeddings", {"view": "latent_grid"}),
    "activation_maximization": ("features", {"view": "activation_maximization"}),
}
# The landscape traces the whole model for its check, which can take a moment on a big model.
SLOW_CHECKS = ("landscape",)


def _reason(model: Key, kind: str, options: tuple) -> str | None:
    import importlib

    module, fixed = REASON_KINDS[kind]
    analysis = importlib.import_module(f"neurogenesis.analysis.{module}")
    return analysis.reason(_model(*model), **fixed, **dict(options))


@by_key
@st.cache_data(show_spinner="Checking the model…", max_entries=64)
def _slow_reason(model: Key, kind: str, options: tuple) -> str | None:
    return _reason(model, kind, options)


@by_key
@st.cache_data(show_spinner=False, max_entries=256)
def _quick_reason(model: Key, kind: str, options: tuple) -> str | None:
    return _reason(model, kind, options)


def reason(model: Source, kind: str, **options) -> str | None:
    """Why the view ``kind`` cannot be drawn for the model, or None when it can.

    Args:
        model: the model's source.
        kind: one of :data:`REASON_KINDS`: ``"landscape"``, ``"attention"``, ``"attribution"``
            (with ``method=``), ``"token_attribution"``, ``"robustness"``, ``"attack"``,
            ``"hidden_states"``, ``"reconstructions"``, ``"latent_grid"``,
            ``"activation_maximization"``.
        **options: what that kind's ``analysis.<module>.reason`` takes besides the model
            (``method`` for attribution, ``embedding_layer`` for token attribution).

    Raises:
        InputError: an unknown kind (or, from the analysis, an unknown method).
    """
    if kind not in REASON_KINDS:
        raise InputError(f"Expected a kind in {tuple(REASON_KINDS)}. Received: {kind!r}.")
    check = _slow_reason if kind in SLOW_CHECKS else _quick_reason
    return check(model, kind, tuple(sorted(options.items())))


def attribution_reasons(model: Source) -> dict[str, str | None]:
    """Attribution method -> why it cannot explain the model, or None (every method)."""
    from neurogenesis.analysis.attribution import METHODS

    return {method: reason(model, "attribution", method=method) for method in METHODS}
