"""What every page reads: the workspace, model cards, loaded models, runs and sample sets."""

from __future__ import annotations

import streamlit as st

from neurogenesis.cached._keys import _identity, _model, _runs, _samples
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


@st.cache_data(show_spinner=False, max_entries=128)
def _model_card(path: str, fingerprint: str):
    from neurogenesis.io.models import scan_model_file

    return scan_model_file(path)


def model_card(source: Source):
    """The model's card, read without TensorFlow (the pre-scan)."""
    return _model_card(source.path, source.fingerprint())


def model(source: Source):
    """The loaded Keras model: one shared object, never to be changed (clone it first)."""
    return _model(source.path, source.fingerprint())


def runs(source: Source):
    """Every run under a log source, every point kept."""
    return _runs(source.path, source.fingerprint())


def samples(source: Source):
    """The sample set."""
    return _samples(source.path, source.fingerprint())


@st.cache_data(show_spinner=False, ttl=10, max_entries=64)
def _model_metadata(path: str, fingerprint: str) -> dict:
    from neurogenesis.workspace import model_metadata

    return model_metadata(path)


def model_metadata(source: Source) -> dict:
    """The model's card beside its file (a demo's title, test metric, runs), or ``{}``."""
    return _model_metadata(source.path, source.fingerprint())


@st.cache_data(show_spinner=False, max_entries=64)
def _training_setup(path: str, fingerprint: str):
    from neurogenesis.io.models import training_setup as read_setup

    return read_setup(path)


def training_setup(source: Source):
    """The loss and metrics the model file was compiled with (``io.models.TrainingSetup``)."""
    return _training_setup(*_identity(source))


@st.cache_data(show_spinner=False, max_entries=256)
def _weights_digest(path: str, fingerprint: str) -> str:
    import hashlib

    import numpy as np

    digest = hashlib.sha256()
    for weight in _model(path, fingerprint).weights:
        value = np.ascontiguousarray(weight.numpy())
        digest.update(f"{weight.path}:{value.shape}:{value.dtype};".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def weights_digest(source: Source) -> str:
    """A hash of the model's weights (names, shapes and values): two files that hold the same
    trained model agree, whatever else differs in their archives."""
    return _weights_digest(*_identity(source))
