"""Cached wrappers of the Training page: runs by display name, curves, epoch tables, layer health."""

from __future__ import annotations

import streamlit as st

from neurogenesis.cached._keys import (
    Key,
    _folder_fingerprint,
    _named,
    _picked,
    _runs,
    _source_keys,
    by_folder,
    by_key,
)


def named_runs(sources) -> tuple[list, list[str], list[str]]:
    """Every run of the log sources, a unique display name per run, and the sources' errors."""
    return _named(_source_keys(sources))


@by_key
@st.cache_data(show_spinner=False, max_entries=32)
def hyperparameters(source: Key) -> dict[str, dict]:
    """``workspace.recorded_hyperparameters``: run name -> the hyperparameters its RunRecorder
    manifest holds (recorded runs only)."""
    from neurogenesis.workspace import recorded_hyperparameters

    return recorded_hyperparameters(_runs(*source))


@st.cache_data(show_spinner="Drawing the curves…", max_entries=64)
def _dashboard(keys, chosen: tuple[str, ...], metrics: tuple[str, ...], options: tuple):
    from neurogenesis.analysis.training import dashboard_info

    runs, names = _picked(keys, chosen)
    settings = dict(options)
    settings["groups"] = dict(settings.get("groups") or ())
    return dashboard_info(runs, metrics, names=names, **settings)


def dashboard(sources, chosen, metrics, **options):
    """``analysis.training.dashboard_info`` for the chosen (logical) runs of the sources."""
    if "groups" in options and options["groups"] is not None:
        options["groups"] = tuple(sorted(options["groups"].items()))
    if "roles" in options:
        options["roles"] = tuple(options["roles"])
    if options.get("x_range") is not None:
        options["x_range"] = tuple(float(v) for v in options["x_range"])
    return _dashboard(
        _source_keys(sources), tuple(chosen), tuple(metrics), tuple(sorted(options.items()))
    )


def chosen_runs(sources, chosen) -> tuple[list, list[str]]:
    """The runs behind the chosen logical runs, and their display names."""
    return _picked(_source_keys(sources), tuple(chosen))


@st.cache_data(show_spinner=False, max_entries=64)
def _epoch_table(keys, run: str):
    from neurogenesis.analysis.training import epoch_table

    runs, names = _picked(keys, (run,))
    return epoch_table(runs, run, names)


def epoch_table(sources, run: str):
    """The run's per-epoch scalars (``analysis.training.epoch_table``)."""
    return _epoch_table(_source_keys(sources), run)


@st.cache_data(show_spinner=False, max_entries=128)
def _early_stopping(keys, run: str, metric: str, options: tuple):
    from neurogenesis.analysis.convergence import early_stopping_report

    epochs, train, validation = _epoch_table(keys, run).monitored_history(metric)
    return early_stopping_report(epochs, train, validation, metric=metric, **dict(options))


def early_stopping(sources, run: str, metric: str, **options):
    """``analysis.convergence.early_stopping_report`` for one run's metric."""
    return _early_stopping(_source_keys(sources), run, metric, tuple(sorted(options.items())))


@st.cache_data(show_spinner="Fitting…", max_entries=64)
def _convergence(keys, run: str, column: str, goal: str, threshold: float):
    from neurogenesis.analysis.convergence import convergence_info

    table = _epoch_table(keys, run)
    return convergence_info(table.steps, table.column(column), goal, threshold=threshold)


def convergence(sources, run: str, column: str, goal: str, threshold: float):
    """``analysis.convergence.convergence_info`` for one column of the run's epoch table."""
    return _convergence(_source_keys(sources), run, column, goal, float(threshold))


@st.cache_data(show_spinner=False, max_entries=64)
def _correlations(keys, run: str, columns: tuple[str, ...], method: str):
    from neurogenesis.analysis.convergence import metric_correlations

    table = _epoch_table(keys, run)
    return metric_correlations({column: table.column(column) for column in columns}, method)


def correlations(sources, run: str, columns, method: str):
    """``analysis.convergence.metric_correlations`` between columns of the run's epoch table."""
    return _correlations(_source_keys(sources), run, tuple(columns), method)


@st.cache_data(show_spinner=False, max_entries=64)
def _trajectory(keys, run: str, x_name: str, y_name: str, window: int):
    from neurogenesis.analysis.convergence import trajectory_info

    table = _epoch_table(keys, run)
    return trajectory_info(
        table.steps,
        table.column(x_name),
        table.column(y_name),
        x_name=x_name,
        y_name=y_name,
        window=window,
    )


def trajectory(sources, run: str, x_name: str, y_name: str, window: int):
    """``analysis.convergence.trajectory_info`` of two columns of the run's epoch table."""
    return _trajectory(_source_keys(sources), run, x_name, y_name, int(window))


@st.cache_data(show_spinner="Re-binning the histograms…", max_entries=64)
def _histogram(keys, run: str, tag: str, bins: int):
    from neurogenesis.analysis.layer_health import run_histogram_info

    return run_histogram_info(_picked(keys, (run,))[0], tag, bins, run_name=run)


def histogram(sources, run: str, tag: str, bins: int | None = None):
    """``analysis.layer_health.histogram_info`` of one histogram tag of a run."""
    from neurogenesis.analysis.layer_health import DEFAULT_BINS

    return _histogram(_source_keys(sources), run, tag, int(bins or DEFAULT_BINS))


def histogram_tags(sources, run: str) -> list[str]:
    """``analysis.layer_health.histogram_tags``: the run's histogram tags, activations first."""
    from neurogenesis.analysis.layer_health import histogram_tags as tags

    return tags(_picked(_source_keys(sources), (run,))[0])


def recorded_path(sources, run: str) -> str | None:
    """``workspace.recorded_path``: the folder of a run the RunRecorder wrote (checkpoints,
    activation statistics), or None."""
    from neurogenesis.workspace import recorded_path as folder

    return folder(_picked(_source_keys(sources), (run,))[0])


@st.cache_data(show_spinner="Reading the activation statistics…", max_entries=32)
def _dead_units(path: str, fingerprint: str, threshold: float):
    from neurogenesis.analysis.layer_health import dead_unit_info_from_recording

    return dead_unit_info_from_recording(path, threshold)


def dead_units(path: str, threshold: float):
    """``analysis.layer_health.dead_unit_info_from_recording`` for a recorded run folder."""
    return _dead_units(path, _folder_fingerprint(path), float(threshold))


def batch_norm_pairs(sources) -> list[tuple[str, str]]:
    """(with, without) display names of runs that differ only in BatchNormalization."""
    from neurogenesis.analysis.layer_health import batch_norm_pairs as pairs

    runs, names, _ = named_runs(sources)
    by_id = {id(run): name for run, name in zip(runs, names, strict=True)}
    return [(by_id[id(a)], by_id[id(b)]) for a, b in pairs(runs)]


@st.cache_data(show_spinner=False, max_entries=32)
def _batch_norm_effect(keys, with_bn: str, without_bn: str, metric: str):
    from neurogenesis.analysis.layer_health import batch_norm_effect_info

    first = _picked(keys, (with_bn,))[0]
    second = _picked(keys, (without_bn,))[0]
    return batch_norm_effect_info(first[0], second[0], metric)


def batch_norm_effect(sources, with_bn: str, without_bn: str, metric: str = "loss"):
    """``analysis.layer_health.batch_norm_effect_info`` of two runs."""
    return _batch_norm_effect(_source_keys(sources), with_bn, without_bn, metric)


@st.cache_data(show_spinner=False, max_entries=32)
def _learning_rates(keys, chosen: tuple[str, ...]):
    from neurogenesis.analysis.optimization import learning_rate_info

    return learning_rate_info(_picked(keys, chosen)[0])


def learning_rates(sources, chosen):
    """``analysis.optimization.learning_rate_info`` of the chosen runs."""
    return _learning_rates(_source_keys(sources), tuple(chosen))


@st.cache_data(show_spinner=False, max_entries=32)
def _gradient_norms(keys, run: str, by: str):
    from neurogenesis.analysis.optimization import gradient_norm_info, gradient_norm_run

    return gradient_norm_info(gradient_norm_run(_picked(keys, (run,))[0]), by=by)


def gradient_norms(sources, run: str, by: str = "layer"):
    """``analysis.optimization.gradient_norm_info`` of one run."""
    return _gradient_norms(_source_keys(sources), run, by)


@by_folder
@st.cache_data(show_spinner="Reading the checkpoints…", max_entries=16)
def weight_evolution(path: Key, by: str = "layer"):
    """``analysis.optimization.weight_evolution_from_recording`` of a recorded run folder."""
    from neurogenesis.analysis.optimization import weight_evolution_from_recording
    from neurogenesis.io.recordings import read_recording

    return weight_evolution_from_recording(read_recording(path[0]), by=by)


@st.cache_data(show_spinner="Reading the checkpoints…", max_entries=32)
def _weight_trajectories(path: str, fingerprint: str, variable: str, count: int):
    from neurogenesis.analysis.optimization import weight_trajectories_from_recording
    from neurogenesis.io.recordings import read_recording

    return weight_trajectories_from_recording(read_recording(path), variable, count=count)


def weight_trajectories(path: str, variable: str, count: int):
    """The ``count`` weights of ``variable`` that moved most, over the run's checkpoints."""
    return _weight_trajectories(path, _folder_fingerprint(path), variable, int(count))


@st.cache_data(show_spinner=False, max_entries=32)
def _optimizer_comparison(keys, chosen: tuple[str, ...], metric: str):
    from neurogenesis.analysis.optimization import optimizer_comparison_info

    return optimizer_comparison_info(_picked(keys, chosen)[0], metric=metric)


def optimizer_comparison(sources, chosen, metric: str = "loss"):
    """``analysis.optimization.optimizer_comparison_info`` of the chosen runs."""
    return _optimizer_comparison(_source_keys(sources), tuple(chosen), metric)


@by_key
@st.cache_data(show_spinner=False, max_entries=32)
def curves(source: Key, metric: str):
    """``analysis.training.curves_info`` of every run under a log source (Home's live chart)."""
    from neurogenesis.analysis.training import curves_info

    return curves_info(_runs(*source), metric)


# --- the training page's pure helpers and its curves table (issue 20: pages import no analysis) ---


def logical_run_name(name: str) -> str:
    """``analysis.training.logical_run_name``: a Keras run's train and validation folders as one."""
    from neurogenesis.analysis.training import logical_run_name as logical

    return logical(name)


def run_attributes(name: str, hyperparameters: dict | None = None) -> dict[str, str]:
    """``analysis.training.run_attributes``: what a run can be grouped by."""
    from neurogenesis.analysis.training import run_attributes as attributes

    return attributes(name, hyperparameters)


def metric_names(runs) -> list[str]:
    """``analysis.training.metric_names`` of the runs."""
    from neurogenesis.analysis.training import metric_names as names

    return names(runs)


def grouping_options(attributes: dict) -> list[str]:
    """``analysis.training.grouping_options``: the attributes runs can be grouped by."""
    from neurogenesis.analysis.training import grouping_options as options

    return options(attributes)


def group_runs(attributes: dict, key: str) -> dict[str, str]:
    """``analysis.training.group_runs``: each run's group under ``key``."""
    from neurogenesis.analysis.training import group_runs as groups

    return groups(attributes, key)


def default_smoother(num_points: int) -> str:
    """``analysis.smoothing.default_smoother``: none for short logs, else exponential."""
    from neurogenesis.analysis.smoothing import default_smoother as smoother

    return smoother(num_points)


def metric_goal(name: str) -> str | None:
    """``analysis.convergence.metric_goal``: "min", "max" or None for a metric's name."""
    from neurogenesis.analysis.convergence import metric_goal as goal

    return goal(name)


def curves_table(sources, chosen, metrics, *, smoothing: str, smoothing_value: float, roles):
    """``analysis.training.curves_table`` of the chosen runs: every logged point (read when a
    download asks for it)."""
    from neurogenesis.analysis.training import curves_table as table

    runs, names = chosen_runs(sources, chosen)
    return table(
        runs,
        metrics,
        names=names,
        smoothing=smoothing,
        smoothing_value=smoothing_value,
        roles=roles,
    )
