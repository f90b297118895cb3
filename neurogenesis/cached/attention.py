"""Cached wrappers of the Attention page: scores, head statistics, recorded attention."""

from __future__ import annotations

import streamlit as st

from neurogenesis import workspace as catalogue
from neurogenesis.cached._keys import (
    Key,
    _identity,
    _model,
    _samples,
    by_folder,
    by_key,
)
from neurogenesis.cached.sources import saved_loss
from neurogenesis.cached.training import named_runs
from neurogenesis.workspace import Source


@by_key
@st.cache_data(show_spinner="Finding the attention layers…", max_entries=32)
def attention_layers(source: Key) -> list[str]:
    """Paths of the model's MultiHeadAttention layers (nested models looked into)."""
    from neurogenesis.analysis.attention import attention_layers as layers

    return layers(_model(*source))


@st.cache_data(show_spinner="Reading the attention scores…", max_entries=64)
def _attention_scores(model_key: tuple[str, str], x):
    from neurogenesis.analysis.attention import attention_scores as scores

    return scores(_model(*model_key), x)


def attention_scores(model: Source, x):
    """``analysis.attention.attention_scores`` for a few inputs (keyed by their values)."""
    import numpy as np

    return _attention_scores(_identity(model), np.ascontiguousarray(x))


@st.cache_data(show_spinner="Running the model on the input…", max_entries=64)
def _input_prediction(model_key: tuple[str, str], x, label_names):
    from neurogenesis.analysis.features import prediction_info

    # The saved loss tells a logits head (a KerasHub classifier's, from_logits=True) from scores.
    loss = saved_loss(model_key)
    return prediction_info(_model(*model_key), x, label_names=label_names, loss=loss)


def input_prediction(model: Source, x, label_names=None):
    """``analysis.features.prediction_info`` for a few inputs (typed text; keyed by values)."""
    import numpy as np

    names = tuple(str(name) for name in label_names) if label_names is not None else None
    return _input_prediction(_identity(model), np.ascontiguousarray(x), names)


@st.cache_data(show_spinner="Summarising every head over the sample set…", max_entries=16)
def _head_statistics(model_key, samples_key, count: int):
    from neurogenesis.analysis.attention import layer_head_statistics

    return layer_head_statistics(_model(*model_key), _samples(*samples_key).x[:count])


def head_statistics(model: Source, samples: Source, count: int = 256):
    """``analysis.attention.head_statistics`` of every layer over the first ``count`` samples."""
    return _head_statistics(_identity(model), _identity(samples), int(count))


@st.cache_data(show_spinner="Removing one head at a time…", max_entries=16)
def _head_importance(model_key, samples_key, count: int):
    from neurogenesis.analysis.attention import head_importance as importance

    return importance(_model(*model_key), _samples(*samples_key).x[:count])


def head_importance(model: Source, samples: Source, count: int = 200):
    """``analysis.attention.head_importance`` over the first ``count`` samples."""
    return _head_importance(_identity(model), _identity(samples), int(count))


@by_folder
@st.cache_data(show_spinner="Reading the recorded attention…", max_entries=16)
def attention_evolution(path: Key):
    """``analysis.attention.attention_evolution`` of a recorded run folder."""
    from neurogenesis.analysis.attention import attention_evolution as evolution

    return evolution(path[0])


def attention_runs(sources) -> list[tuple[str, str]]:
    """``workspace.attention_runs``: ``(run name, folder)`` of the chosen logs' recorded runs
    that kept attention scores."""
    return catalogue.attention_runs(sources, named_runs=named_runs)


# --- the attention page's rollout and flow (issue 20) -------------------------------------------


@st.cache_data(show_spinner=False, max_entries=64)
def aggregated_attention(scores: dict, method: str = "rollout"):
    """``analysis.attention.attention_rollout`` (or ``attention_flow``) of the first input's
    scores (layer -> ``(1, heads, T, T)``): a ``(T, T)`` matrix."""
    from neurogenesis.analysis.attention import attention_flow, attention_rollout

    return (attention_flow if method == "flow" else attention_rollout)(scores)[0]
