"""Attention: the scores of every MultiHeadAttention layer of any Keras model, without wrappers.

:func:`attention_scores` rebuilds the model's graph (``analysis.graph``: functional, Sequential
loaded from a file, nested models) and asks each ``keras.layers.MultiHeadAttention`` call for
``return_attention_scores=True`` itself, so the scores are exactly what the layer returns, masks
included, and the user's model is never changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from neurogenesis.analysis import graph
from neurogenesis.errors import InputError, UnsupportedModelError

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "attention_layers",
    "attention_scores",
    "supports",
]

DEFAULT_BATCH_SIZE = 64


def attention_layers(model: Any) -> list[str]:
    """Paths of the model's MultiHeadAttention calls, in execution order ([] without a graph)."""
    if not graph.supports(model):
        return []
    return [
        entry.path
        for entry in graph.graph_layers(model).layers
        if entry.class_name == "MultiHeadAttention"
    ]


def supports(model: Any) -> bool:
    """True when the model has a graph and at least one MultiHeadAttention layer."""
    return bool(attention_layers(model))


def attention_scores(
    model: Any,
    x: np.ndarray,
    *,
    layers: Sequence[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> dict[str, np.ndarray]:
    """The attention scores of each MultiHeadAttention layer for the samples ``x``.

    Args:
        model: a functional or Sequential model (nested models are looked into).
        x: samples as the model takes them (one input).
        layers: which attention layers (paths from :func:`attention_layers`); all by default.
        batch_size: samples per forward pass.

    Returns:
        ``{layer path: scores}`` with scores of shape ``(N, num_heads, T, S)`` (query x key),
        float32, in the layers' order.

    Raises:
        UnsupportedModelError: the model has no MultiHeadAttention layer.
        InputError: an unknown layer, or samples the model cannot take.
    """
    available = attention_layers(model)
    if not available:
        raise UnsupportedModelError(
            f"'{getattr(model, 'name', model)}' has no keras.layers.MultiHeadAttention layer, so "
            "there are no attention scores to show."
        )
    chosen = list(layers) if layers is not None else available
    unknown = [path for path in chosen if path not in available]
    if unknown:
        raise InputError(
            f"Expected attention layers of the model. Received: {unknown}. It has: {available}."
        )
    if batch_size < 1:
        raise InputError(f"Expected a batch size of at least 1. Received: {batch_size}.")
    samples = graph.model_input(model, x)
    tapped = graph.tap_model(model, [path + graph.SCORES_SUFFIX for path in chosen])
    parts: dict[str, list[np.ndarray]] = {path: [] for path in chosen}
    for start in range(0, len(samples), batch_size):
        outputs = graph.call_tapped(tapped, samples[start : start + batch_size])
        for path, scores in zip(chosen, outputs[1:], strict=True):
            parts[path].append(np.asarray(scores, dtype=np.float32))
    return {path: np.concatenate(chunks) for path, chunks in parts.items()}
