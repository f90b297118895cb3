"""What every page reads: the workspace, model cards, loaded models, runs and sample sets."""

from __future__ import annotations

import streamlit as st

from neurogenesis.cached._keys import Key, _model, _runs, _samples, by_key, key
from neurogenesis.workspace import Source, Workspace, demo_workspace, workspace_from_paths


@st.cache_data(show_spinner=False, ttl=10, max_entries=16)
def _workspace(
    logdirs: tuple[str, ...], models: tuple[str, ...], sample_paths: tuple[str, ...], demos: bool
) -> Workspace:
    base = demo_workspace() if demos else Workspace()
    return base + workspace_from_paths(logdirs, models, sample_paths)


def workspace(logdirs=(), models=(), sample_paths=(), demos: bool = True) -> Workspace:
    """The demos plus the command line's paths (re-scanned every few seconds for new demo files)."""
    return _workspace(tuple(logdirs), tuple(models), tuple(sample_paths), demos)


@by_key
@st.cache_data(show_spinner=False, max_entries=128)
def model_card(source: Key):
    """The model's card, read without TensorFlow (the pre-scan)."""
    from neurogenesis.io.models import scan_model_file

    return scan_model_file(source[0])


def model(source: Source):
    """The loaded Keras model: one shared object, never to be changed (clone it first)."""
    return _model(*key(source))


@by_key
@st.cache_data(show_spinner=False, max_entries=64)
def output_names(source: Key) -> tuple[str, ...]:
    """The names of the loaded model's outputs (one for most models; none without a graph)."""
    from neurogenesis.analysis import graph

    loaded = _model(*source[:2])
    return tuple(graph.output_names(loaded)) if graph.supports(loaded) else ()


def runs(source: Source):
    """Every run under a log source, every point kept."""
    return _runs(*key(source))


def samples(source: Source):
    """The sample set."""
    return _samples(*key(source))


@by_key
@st.cache_data(show_spinner=False, ttl=10, max_entries=64)
def model_metadata(source: Key) -> dict:
    """The model's card beside its file (a demo's title, test metric, runs), or ``{}``."""
    from neurogenesis.workspace import model_metadata as read_metadata

    return read_metadata(source[0])


@by_key
@st.cache_data(show_spinner=False, max_entries=64)
def training_setup(source: Key):
    """The loss and metrics the model file was compiled with (``io.models.TrainingSetup``)."""
    from neurogenesis.io.models import training_setup as read_setup

    return read_setup(source[0])


def saved_loss(source):
    """The loss the model file was compiled with, as its saved config (``training_setup``'s
    ``loss``); None when the file names none or cannot be read. It tells a ``Dense(1)`` logit
    classifier (binary cross-entropy on logits) from a regression."""
    from neurogenesis.errors import InputError

    try:
        return training_setup(source).loss
    except InputError:
        return None


@by_key
@st.cache_data(show_spinner=False, max_entries=256)
def weights_digest(source: Key) -> str:
    """A hash of the model's weights (names, shapes and values): two files that hold the same
    trained model agree, whatever else differs in their archives."""
    import hashlib

    import numpy as np

    digest = hashlib.sha256()
    for weight in _model(*source).weights:
        value = np.ascontiguousarray(weight.numpy())
        digest.update(f"{weight.path}:{value.shape}:{value.dtype};".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()
