"""Cached wrappers of the Hyperparameters page: trials, surfaces, importance."""

from __future__ import annotations

import streamlit as st

from neurogenesis import workspace as catalogue
from neurogenesis.cached._keys import Key, by_folder, by_key


@by_folder
@st.cache_data(show_spinner="Reading the trials…", max_entries=64)
def trials(path: Key, study: str | None = None):
    """``io.trials.read_trials`` of a sweep folder, CSV, Optuna SQLite file or HParams log folder,
    read again when the files change (a sweep being written)."""
    from neurogenesis.io.trials import read_trials

    return read_trials(path[0], study=study)


@by_folder
@st.cache_data(show_spinner=False, max_entries=16)
def studies(path: Key) -> list[str]:
    """The study names in an Optuna SQLite file."""
    from neurogenesis.io.trials import list_studies

    return list_studies(path[0])


@by_key
@st.cache_data(show_spinner=False, max_entries=32)
def _found_trials(source: Key) -> list[str]:
    from neurogenesis.io.trials import find_trial_sources

    return find_trial_sources(source[0])


def trial_sources(sources) -> dict[str, str]:
    """``workspace.trial_sources``: label -> path of the sweeps (folders with ``sweep.json``),
    HParams logs and trials files under the log sources."""
    return catalogue.trial_sources(sources, find=_found_trials)


@by_folder
@st.cache_data(show_spinner="Fitting the surface…", max_entries=64)
def hyperparameter_surface(
    path: Key, study, x: str, y: str, metric: str, goal: str, method: str, aggregate: str
):
    """``analysis.hyperparameters.surface_info`` of the trials at ``path``."""
    from neurogenesis.analysis.hyperparameters import surface_info

    found = trials(path, study).with_goal(metric, goal)
    return surface_info(found, x, y, metric, method=method, aggregate=aggregate)


@by_folder
@st.cache_data(show_spinner="Fitting a random forest to the trials…", max_entries=64)
def hyperparameter_importance(path: Key, study, metric: str, goal: str):
    """``analysis.hyperparameters.importance_info`` of the trials at ``path``."""
    from neurogenesis.analysis.hyperparameters import importance_info

    return importance_info(trials(path, study).with_goal(metric, goal), metric)


@by_folder
@st.cache_data(show_spinner=False, max_entries=64)
def hyperparameter_views(path: Key, study, metric: str, goal: str):
    """``(slice_info, parallel_info)`` of the trials at ``path``."""
    from neurogenesis.analysis.hyperparameters import parallel_info, slice_info

    found = trials(path, study).with_goal(metric, goal)
    return slice_info(found, metric), parallel_info(found, metric)


def save_trials_upload(filename: str, data: bytes) -> str:
    """Stores an uploaded trials file (CSV, sweep.json, Optuna SQLite) under its content hash and
    returns its path; the page keeps the list of a session's uploads in its session state."""
    from neurogenesis.workspace import save_file

    return save_file(filename, data)


@by_folder
@st.cache_data(show_spinner=False, max_entries=64)
def hyperparameter_axes(path: Key, study, metric: str, goal: str) -> tuple[str, str] | None:
    """``analysis.hyperparameters.default_axes``: the two parameters a surface starts on."""
    from neurogenesis.analysis.hyperparameters import default_axes

    return default_axes(trials(path, study).with_goal(metric, goal), metric)


@by_folder
@st.cache_data(show_spinner=False, max_entries=64)
def surface_problem(path: Key, study, x: str, y: str, metric: str) -> str | None:
    """``analysis.hyperparameters.surface_problem``: why no surface over x and y, or None."""
    from neurogenesis.analysis.hyperparameters import surface_problem as problem

    return problem(trials(path, study), x, y, metric)
