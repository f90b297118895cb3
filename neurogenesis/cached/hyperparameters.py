"""Cached wrappers of the Hyperparameters page: trials, surfaces, importance."""

from __future__ import annotations

import streamlit as st

from neurogenesis.cached._keys import _folder_fingerprint
from neurogenesis.workspace import Source


@st.cache_data(show_spinner="Reading the trials…", max_entries=64)
def _trials(path: str, fingerprint: str, study: str | None):
    from neurogenesis.io.trials import read_trials

    return read_trials(path, study=study)


def trials(path: str, study: str | None = None):
    """``io.trials.read_trials`` of a sweep folder, CSV, Optuna SQLite file or HParams log folder,
    read again when the files change (a sweep being written)."""
    return _trials(path, _folder_fingerprint(path), study)


@st.cache_data(show_spinner=False, max_entries=16)
def _studies(path: str, fingerprint: str) -> list[str]:
    from neurogenesis.io.trials import list_studies

    return list_studies(path)


def studies(path: str) -> list[str]:
    """The study names in an Optuna SQLite file."""
    return _studies(path, _folder_fingerprint(path))


@st.cache_data(show_spinner=False, max_entries=32)
def _trial_sources(path: str, fingerprint: str) -> list[str]:
    from neurogenesis.io.trials import find_trial_sources

    return find_trial_sources(path)


def trial_sources(source: Source) -> list[str]:
    """The sweeps (folders with ``sweep.json``) and HParams logs under a log source."""
    return _trial_sources(source.path, _folder_fingerprint(source.path))


@st.cache_data(show_spinner="Fitting the surface…", max_entries=64)
def _hyperparameter_surface(path, fingerprint, study, x, y, metric, goal, method, aggregate):
    from neurogenesis.analysis.hyperparameters import surface_info

    found = _trials(path, fingerprint, study).with_goal(metric, goal)
    return surface_info(found, x, y, metric, method=method, aggregate=aggregate)


def hyperparameter_surface(
    path: str, study, x: str, y: str, metric: str, goal: str, method: str, aggregate: str
):
    """``analysis.hyperparameters.surface_info`` of the trials at ``path``."""
    return _hyperparameter_surface(
        path, _folder_fingerprint(path), study, x, y, metric, goal, method, aggregate
    )


@st.cache_data(show_spinner="Fitting a random forest to the trials…", max_entries=64)
def _hyperparameter_importance(path, fingerprint, study, metric, goal):
    from neurogenesis.analysis.hyperparameters import importance_info

    return importance_info(_trials(path, fingerprint, study).with_goal(metric, goal), metric)


def hyperparameter_importance(path: str, study, metric: str, goal: str):
    """``analysis.hyperparameters.importance_info`` of the trials at ``path``."""
    return _hyperparameter_importance(path, _folder_fingerprint(path), study, metric, goal)


@st.cache_data(show_spinner=False, max_entries=64)
def _hyperparameter_views(path, fingerprint, study, metric, goal):
    from neurogenesis.analysis.hyperparameters import parallel_info, slice_info

    found = _trials(path, fingerprint, study).with_goal(metric, goal)
    return slice_info(found, metric), parallel_info(found, metric)


def hyperparameter_views(path: str, study, metric: str, goal: str):
    """``(slice_info, parallel_info)`` of the trials at ``path``."""
    return _hyperparameter_views(path, _folder_fingerprint(path), study, metric, goal)


def save_trials_upload(filename: str, data: bytes) -> str:
    """Stores an uploaded trials file (CSV, sweep.json, Optuna SQLite) under its content hash and
    returns its path; the page keeps the list of a session's uploads in its session state."""
    from neurogenesis.workspace import save_file

    return save_file(filename, data)


@st.cache_data(show_spinner=False, max_entries=64)
def _hyperparameter_axes(path, fingerprint, study, metric, goal):
    from neurogenesis.analysis.hyperparameters import default_axes

    return default_axes(_trials(path, fingerprint, study).with_goal(metric, goal), metric)


def hyperparameter_axes(path: str, study, metric: str, goal: str) -> tuple[str, str] | None:
    """``analysis.hyperparameters.default_axes``: the two parameters a surface starts on."""
    return _hyperparameter_axes(path, _folder_fingerprint(path), study, metric, goal)


@st.cache_data(show_spinner=False, max_entries=64)
def _surface_problem(path, fingerprint, study, x, y, metric):
    from neurogenesis.analysis.hyperparameters import surface_problem as problem

    return problem(_trials(path, fingerprint, study), x, y, metric)


def surface_problem(path: str, study, x: str, y: str, metric: str) -> str | None:
    """``analysis.hyperparameters.surface_problem``: why no surface over x and y, or None."""
    return _surface_problem(path, _folder_fingerprint(path), study, x, y, metric)
