"""What every demo scenario shares: the registry entry, seeds, recorded training, sweeps and files.

A scenario module (``digits``, ``shapes``, ``sentiment``, ``weather``, ``vae``) only knows its data
and its model; how a training is recorded, how a sweep is laid out on disk and how a model card
or a sample set is written lives here, once.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SEED = 7
"""The seed every demo is built with (data split, generated data, initial weights)."""

DEMO_MAX_CHECKPOINTS = 8
COMPARISON_MAX_CHECKPOINTS = 5  # runs recorded only to be compared with a scenario's main run
PROBE_SIZE = 64
RECORDER_SAMPLE_SIZE = 64
CARD_DIGITS = 4
SWEEP_FILE = "sweep.json"

# A sweep point is a short training whose only job is its metrics: no histograms, checkpoints,
# activations, attention or gradient norms, so a dozen of them stay small and quick.
LIGHT_RECORDER_OPTIONS = {
    "histogram_freq": 0,
    "checkpoint_freq": 0,
    "gradient_norms": False,
    "activation_stats": False,
    "attention_scores": False,
    "save_model": False,
}

# Short names for sweep run folders: ``lr_0.001_width_32``.
_PARAMETER_ABBREVIATIONS = {"learning_rate": "lr"}


@dataclass(frozen=True)
class Scenario:
    """One demo: its data, its model, and how to rebuild or retrain it.

    Attributes:
        name: the model file's stem and the folder name under ``data/runs`` and ``data/sweeps``.
        title: what a person calls it.
        dataset: one line: what data, where it comes from, its licence.
        task: ``'image classification'``, ``'text classification'``, ``'forecasting'`` or
            ``'generative'``.
        default_epochs: epochs of the main model's training in a full build.
        build: ``build(models_dir, data_dir, *, quick=False, epochs=None) -> dict`` rebuilds the
            model file and card, the runs, the sweep and the sample set; returns the card (whose
            ``test_metric`` is ``{"name", "value"}`` and ``epochs`` the main run's) plus
            ``model``, ``runs_dir``, ``sweep_dir``, ``samples_path`` and ``seconds``.
        train: ``train(run_dir, *, epochs=None, seed=0, **options) -> dict`` records one training
            of the main model into ``run_dir`` (the dashboard's live training); it stops early
            when the recorder's stop file appears.
    """

    name: str
    title: str
    dataset: str
    task: str
    default_epochs: int
    build: Callable[..., dict]
    train: Callable[..., dict]


# --------------------------------------------------------------------------------------------
# Keras, seeds, folders
# --------------------------------------------------------------------------------------------


def keras_module():
    """Imports Keras on the TensorFlow backend (the only one the demos are built with)."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    return keras


def set_seed(seed: int) -> None:
    """Seeds Python, NumPy and the backend, as ``keras.utils.set_random_seed`` does."""
    keras_module().utils.set_random_seed(seed)


def fresh_dir(path: Path) -> Path:
    """Empties ``path`` (a previous build's files would mix with the new ones) and returns it."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def seconds_since(start: float) -> float:
    """Seconds elapsed since ``start`` (a ``time.perf_counter()`` reading), rounded."""
    return round(time.perf_counter() - start, 1)


def make_optimizer(name: str, learning_rate: float):
    """A Keras optimizer by name: ``'adam'``, ``'sgd'`` (with momentum 0.9) or ``'rmsprop'``."""
    keras = keras_module()
    if name == "adam":
        return keras.optimizers.Adam(learning_rate)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=0.9)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate)
    raise ValueError(f"Expected optimizer 'adam', 'sgd' or 'rmsprop'. Received: {name!r}")


# --------------------------------------------------------------------------------------------
# Recorded training
# --------------------------------------------------------------------------------------------


def recorder(
    run_dir: Path,
    *,
    probe_data: tuple | None = None,
    samples: tuple | None = None,
    hyperparameters: dict | None = None,
    light: bool = False,
    comparison: bool = False,
    **options: Any,
):
    """The NeuroGenesis ``RunRecorder`` with the demos' settings.

    Args:
        run_dir: the run folder.
        probe_data: ``(x, y)``; its first :data:`PROBE_SIZE` samples are the fixed probe batch
            (gradient norms, activations, attention).
        samples: ``(x, y)``; its first :data:`RECORDER_SAMPLE_SIZE` samples are stored with the
            run.
        hyperparameters: stored in the run's manifest (the hyperparameter page reads them).
        light: a sweep point: metrics only (:data:`LIGHT_RECORDER_OPTIONS`).
        comparison: a run kept only to compare with the main one: fewer checkpoints.
        **options: any other ``RunRecorder`` argument, overriding the demo settings.
    """
    from neurogenesis.callbacks import RunRecorder

    settings: dict[str, Any] = {
        "max_checkpoints": COMPARISON_MAX_CHECKPOINTS if comparison else DEMO_MAX_CHECKPOINTS,
        "probe_size": PROBE_SIZE,
    }
    if light:
        settings.update(LIGHT_RECORDER_OPTIONS)
    else:
        settings["probe_data"] = probe_data
        settings["samples"] = samples
        settings["sample_size"] = RECORDER_SAMPLE_SIZE
    settings.update(options)
    return RunRecorder(run_dir, hyperparameters=hyperparameters, **settings)


def fit_recorded(
    model,
    run_dir: Path,
    train: tuple,
    validation: tuple,
    *,
    epochs: int,
    batch_size: int,
    hyperparameters: dict,
    light: bool = False,
    comparison: bool = False,
    samples: tuple | None = None,
    recorder_options: dict | None = None,
    clean: bool = True,
) -> dict[str, list[float]]:
    """Trains a compiled model into a run folder with the recorder; returns the history.

    The probe batch is the first :data:`PROBE_SIZE` validation samples, the same batch in every
    run of a scenario; the run's sample set is ``samples`` or else the first
    :data:`RECORDER_SAMPLE_SIZE` validation samples. ``clean`` empties the folder first (a rebuild); the dashboard's
    live training passes ``clean=False``, as it may have put files there (the stop file's folder).
    """
    run_dir = Path(run_dir)
    if clean:
        fresh_dir(run_dir)
    else:
        run_dir.mkdir(parents=True, exist_ok=True)
    callback = recorder(
        run_dir,
        probe_data=validation,  # the recorder keeps the first PROBE_SIZE of these
        samples=validation if samples is None else samples,
        hyperparameters=hyperparameters,
        light=light,
        comparison=comparison,
        **(recorder_options or {}),
    )
    history = model.fit(
        train[0],
        train[1],
        validation_data=validation,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        verbose=0,
        callbacks=[callback],
    )
    return {key: [float(value) for value in values] for key, values in history.history.items()}


def training_result(run_dir: Path, history: dict[str, list[float]], hyperparameters: dict) -> dict:
    """What a scenario's ``train`` returns: where, how many epochs ran, the last metrics."""
    return {
        "run_dir": str(run_dir),
        "epochs": len(next(iter(history.values()), [])),
        "final": plain_history(history),
        "hyperparameters": hyperparameters,
    }


def plain_history(history: dict[str, list[float]]) -> dict[str, float]:
    """The last value of every metric, rounded for a card or a summary."""
    return {key: round_metric(values[-1]) for key, values in history.items() if values}


def round_metric(value: float) -> float | None:
    value = float(value)
    return round(value, 6) if math.isfinite(value) else None


# --------------------------------------------------------------------------------------------
# Sweeps
# --------------------------------------------------------------------------------------------


def sweep_points(grid: dict[str, Sequence]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, in a fixed order (first parameter slowest)."""
    names = list(grid)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*grid.values())]


def sweep_run_name(params: dict[str, Any]) -> str:
    """The folder name of a sweep point: ``{'learning_rate': 0.001, 'width': 32}`` ->
    ``lr_0.001_width_32``."""
    parts = []
    for key, value in params.items():
        text = f"{value:g}" if isinstance(value, float) else str(value)
        parts.append(f"{_PARAMETER_ABBREVIATIONS.get(key, key)}_{text}")
    return "_".join(parts)


def best_epoch(history: dict[str, list[float]], metric: str, goal: str) -> int:
    """The 0-based epoch where ``metric`` is best (first one on ties; NaN never wins)."""
    values = np.asarray(history[metric], dtype=float)
    values = np.where(np.isfinite(values), values, -np.inf if goal == "max" else np.inf)
    return int(np.argmax(values) if goal == "max" else np.argmin(values))


def restart_training(model, initial_weights: list[np.ndarray], learning_rate: float) -> None:
    """Puts a compiled model back to the initial weights of a fresh one with the same seed.

    The weights (and BatchNormalization statistics) go back to ``initial_weights``, every
    optimizer variable (step count, moments) to zero, and the learning rate is set. The model's
    compiled training step is kept, so a sweep traces it once per architecture instead of once
    per learning rate.
    """
    for variable, value in zip(model.weights, initial_weights, strict=True):
        variable.assign(value)
    optimizer = model.optimizer
    for variable in optimizer.variables:
        variable.assign(np.zeros(variable.shape, dtype=variable.dtype))
    optimizer.learning_rate = learning_rate


def run_sweep(
    scenario: str,
    sweep_dir: Path,
    *,
    grid: dict[str, Sequence],
    build_model: Callable[..., Any],
    fit_point: Callable[[Any, Path, dict], dict[str, list[float]]],
    metric: str,
    goal: str,
    epochs: int,
) -> dict:
    """Trains one light recorded run per grid point and writes ``sweep.json``.

    Points that differ only in ``learning_rate`` share one compiled model, restarted between them
    (:func:`restart_training`): the same initial weights as a fresh model built with the same
    seed, without tracing the training step again.

    Args:
        scenario: the scenario's name.
        sweep_dir: ``data/sweeps/<scenario>``; emptied first.
        grid: parameter name -> values; must include ``learning_rate``.
        build_model: ``build_model(**params_but_learning_rate)`` -> a compiled model.
        fit_point: ``fit_point(model, run_dir, params) -> history`` (one recorded training).
        metric: the history key the sweep is judged by, e.g. ``'val_accuracy'``.
        goal: ``'max'`` or ``'min'``.
        epochs: epochs per point (stored in the summary).

    Returns:
        The summary written to ``sweep.json``: ``scenario``, ``parameters``, ``metric``,
        ``goal``, ``epochs`` and ``points`` in grid order (``run``, ``params``, ``final``,
        ``best``, where ``best`` holds every metric at the best epoch and that ``epoch``,
        1-based as Keras counts).
    """
    fresh_dir(sweep_dir)
    architecture = {key: values for key, values in grid.items() if key != "learning_rate"}
    done: dict[str, dict] = {}
    for shape in sweep_points(architecture):
        set_seed(SEED)
        model = build_model(**shape)
        initial_weights = [variable.numpy() for variable in model.weights]
        for learning_rate in grid["learning_rate"]:
            params = {key: learning_rate if key == "learning_rate" else shape[key] for key in grid}
            name = sweep_run_name(params)
            restart_training(model, initial_weights, learning_rate)
            set_seed(SEED)
            history = fit_point(model, sweep_dir / name, params)
            best = best_epoch(history, metric, goal)
            done[name] = {
                "run": name,
                "params": params,
                "final": plain_history(history),
                "best": {
                    **{key: round_metric(values[best]) for key, values in history.items()},
                    "epoch": best + 1,
                },
            }
    summary = {
        "scenario": scenario,
        "parameters": list(grid),
        "metric": metric,
        "goal": goal,
        "epochs": epochs,
        "points": [done[sweep_run_name(params)] for params in sweep_points(grid)],
    }
    (sweep_dir / SWEEP_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    return summary


@dataclass(frozen=True)
class Recipe:
    """A scenario's own three model functions, so the steps every build shares call them alike.

    Attributes:
        compiled: ``compiled(**options) -> model``: a fresh compiled model; with no options, the
            scenario's main model.
        fit: ``fit(model, run_dir, data, *, hyperparameters, light=False, clean=True, ...) ->
            history``: one recorded training (``hyperparameters["epochs"]`` epochs).
        hyperparameters: ``hyperparameters(*, epochs, seed, **options) -> dict``: what a run's
            manifest stores.
    """

    compiled: Callable[..., Any]
    fit: Callable[..., dict[str, list[float]]]
    hyperparameters: Callable[..., dict]

    def record_run(
        self, run_dir: Path, data: Any, epochs: int, options: dict | None = None, **fit_options
    ):
        """One run of a build, seeded with :data:`SEED`; returns the trained model.

        Args:
            run_dir: the run folder (emptied first).
            data: the scenario's data, passed to ``fit`` as it is.
            epochs: epochs to train.
            options: the model's options (optimizer, width, ...); the defaults if None.
            **fit_options: passed to ``fit``, e.g. ``comparison=True`` for a run kept only to
                be compared with the main one.
        """
        options = options or {}
        set_seed(SEED)
        model = self.compiled(**options)
        hyperparameters = self.hyperparameters(epochs=epochs, seed=SEED, **options)
        self.fit(model, run_dir, data, hyperparameters=hyperparameters, **fit_options)
        return model

    def train(
        self,
        run_dir: Path,
        load_data: Callable[[], Any],
        *,
        epochs: int,
        seed: int,
        options: dict,
    ) -> dict:
        """What a scenario's ``train`` does: one seeded training recorded into ``run_dir``.

        The folder is not emptied: the dashboard's live training may have put files there (the
        stop file's folder).

        Args:
            run_dir: the run folder (created if missing).
            load_data: returns the scenario's data; called once the model is built.
            epochs: epochs to train.
            seed: seed for the initial weights and the shuffling.
            options: the model's options, as ``compiled`` and ``hyperparameters`` take them.

        Returns:
            ``run_dir``, ``epochs`` trained, ``final`` metrics and ``hyperparameters``.
        """
        run_dir = Path(run_dir)
        hyperparameters = self.hyperparameters(epochs=epochs, seed=seed, **options)
        set_seed(seed)
        model = self.compiled(**options)
        history = self.fit(
            model, run_dir, load_data(), hyperparameters=hyperparameters, clean=False
        )
        return training_result(run_dir, history, hyperparameters)

    def sweep(
        self,
        name: str,
        data_dir: Path,
        data: Any,
        *,
        grid: dict[str, Sequence],
        epochs: int,
        metric: str,
        goal: str,
    ) -> dict:
        """The scenario's sweep into ``data/sweeps/<name>`` (:func:`run_sweep`).

        Every point is a light run (metrics only) whose hyperparameters are the scenario's
        defaults with the point's parameters put in.

        Args:
            name: the scenario's name.
            data_dir: the ``data`` folder.
            data: the scenario's data, passed to ``fit`` as it is.
            grid: parameter name -> values; must include ``learning_rate``.
            epochs: epochs per point.
            metric: the history key the sweep is judged by, e.g. ``'val_accuracy'``.
            goal: ``'max'`` or ``'min'``.

        Returns:
            The summary written to ``sweep.json``.
        """
        return run_sweep(
            name,
            data_dir / "sweeps" / name,
            grid=grid,
            build_model=self.compiled,
            fit_point=lambda model, run_dir, params: self.fit(
                model,
                run_dir,
                data,
                hyperparameters=self.hyperparameters(epochs=epochs, seed=SEED, **params),
                light=True,
            ),
            metric=metric,
            goal=goal,
            epochs=epochs,
        )


# --------------------------------------------------------------------------------------------
# Files: model + card, sample set
# --------------------------------------------------------------------------------------------


def save_model_and_card(model, models_dir: Path, name: str, card: dict) -> Path:
    """Writes ``models/<name>.keras`` and its card ``models/<name>.json``; returns the model path."""
    models_dir.mkdir(parents=True, exist_ok=True)
    path = models_dir / f"{name}.keras"
    model.save(path)
    path.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    return path


def save_samples(data_dir: Path, name: str, **arrays: np.ndarray) -> Path:
    """Writes ``data/samples/<name>.npz`` (compressed, no pickled objects); returns its path."""
    folder = data_dir / "samples"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.npz"
    np.savez_compressed(path, **{key: np.asarray(value) for key, value in arrays.items()})
    return path


def relative_to_root(path: Path, data_dir: Path) -> str:
    """``data/samples/x.npz`` style paths for cards (relative to the folder holding ``data``)."""
    try:
        return path.relative_to(data_dir.parent).as_posix()
    except ValueError:
        return str(path)


def make_card(
    *,
    name: str,
    title: str,
    dataset: str,
    task: str,
    description: str,
    test_metric: str,
    test_value: float,
    goal: str,
    epochs: int,
    input_description: str,
    input_shape: Sequence[int | None],
    input_dtype: str,
    label_names: Sequence[str] | None,
    data_dir: Path,
    runs: Sequence[str],
    quick: bool,
    **extra: Any,
) -> dict:
    """A model card: what the dashboard and the tests read about a demo model."""
    return {
        "name": name,
        "title": title,
        "dataset": dataset,
        "task": task,
        "description": description,
        "test_metric": {"name": test_metric, "value": round(float(test_value), CARD_DIGITS)},
        "goal": goal,
        "epochs": int(epochs),
        "seed": SEED,
        "input": input_description,
        "input_shape": list(input_shape),
        "input_dtype": input_dtype,
        "label_names": None if label_names is None else list(label_names),
        "samples": f"data/samples/{name}.npz",
        "runs": [f"data/runs/{name}/{run}" for run in runs],
        "main_run": f"data/runs/{name}/{runs[0]}",
        "sweep": f"data/sweeps/{name}",
        "quick": bool(quick),
        **extra,
    }


def scenario_facts(card: dict, model_path: Path, data_dir: Path, seconds: float) -> dict:
    """What ``build`` returns: the card plus where things were written and how long it took."""
    name = card["name"]
    return {
        **card,
        "model": str(model_path),
        "runs_dir": str(data_dir / "runs" / name),
        "sweep_dir": str(data_dir / "sweeps" / name),
        "samples_path": str(data_dir / "samples" / f"{name}.npz"),
        "seconds": seconds,
    }
