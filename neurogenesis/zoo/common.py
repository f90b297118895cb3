"""What every demo scenario shares: the registry entry, seeds, recorded training, sweeps and files.

A scenario module (``digits``, ``shapes``, ``sentiment``, ``weather``, ``vae``) only knows its data
and its model; how a training is recorded, how a sweep is laid out on disk and how a model card
or a sample set is written lives here, once.
"""

from __future__ import annotations

import inspect
import itertools
import json
import math
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neurogenesis.errors import InputError, UnsupportedModelError
from neurogenesis.io.run_folder import (
    STOP_FILE,
    SWEEP_FILE,
    read_manifest,
    read_sweep_summary,
    replace_text,
    request_stop,
    stop_requested,
)

SEED = 7
"""The seed every demo is built with (data split, generated data, initial weights)."""

DEMO_MAX_CHECKPOINTS = 8
COMPARISON_MAX_CHECKPOINTS = 5  # runs recorded only to be compared with a scenario's main run
PROBE_SIZE = 64
RECORDER_SAMPLE_SIZE = 64
CARD_DIGITS = 4
STOP_POLL_SECONDS = 0.5
MAX_ERROR_CHARS = 2000
OPTIMIZERS = ("adam", "sgd", "rmsprop")
RANDOM_SCALES = ("log", "linear")
SIGNIFICANT_DIGITS = 3
RANDOM_DRAW_ATTEMPTS = 100  # draws per wanted point before a space is judged too small

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
        setup: ``setup() -> (recipe, data)``: the scenario's :class:`Recipe` and the data it
            trains on (live training's and the sweeps'); :meth:`train` uses them.
        sweep: how the scenario is swept (:class:`SweepSpec`): its default grid and random
            space, metric and goal; :func:`sweep_scenario` runs one into any folder.
        width_model: ``width_model(width) -> keras.Model``: the main model, untrained, at one
            width of its sweep (the architecture page's width sweep builds it at each).
    """

    name: str
    title: str
    dataset: str
    task: str
    default_epochs: int
    build: Callable[..., dict]
    setup: Callable[[], tuple[Recipe, Any]]
    sweep: SweepSpec | None = None
    width_model: Callable[[int], Any] | None = None

    def train(
        self, run_dir: str | Path, *, epochs: int | None = None, seed: int = 0, **options: Any
    ) -> dict:
        """Records one training of the main model into ``run_dir`` (the dashboard's live
        training); it stops early when the recorder's stop file appears.

        Args:
            run_dir: the run folder (created if missing; files already there are kept).
            epochs: epochs to train; by default :attr:`default_epochs`.
            seed: seed for the initial weights and the shuffling (the data is always the same).
            **options: the model's options (``learning_rate``, ``width``, ...: the keyword
                options of the scenario's ``hyperparameters``); their defaults otherwise.

        Returns:
            ``run_dir``, ``epochs`` trained, ``final`` metrics and ``hyperparameters``.
        """
        recipe, data = self.setup()
        return recipe.train(
            run_dir, data, epochs=epochs or self.default_epochs, seed=seed, options=options
        )


@dataclass(frozen=True)
class SweepSpec:
    """How a scenario is swept: its default grid and random space, and what a point is judged by.

    Attributes:
        grid: the demo sweep's grid (the scenario's ``SWEEP_GRID``): parameter -> values.
        random_space: the default random space (the scenario's ``RANDOM_SPACE``): parameter -> a
            list of choices or a ``(low, high, "log" | "linear")`` range (see
            :func:`random_sweep_points`).
        epochs: epochs per point by default (the scenario's ``SWEEP_EPOCHS``).
        metric: the history key a point is judged by, e.g. ``'val_accuracy'``.
        goal: ``'max'`` or ``'min'``.
        options: the scenario's ``hyperparameters`` function; its keyword options other than
            ``epochs`` and ``seed`` are what a sweep may vary, typed as their defaults.
    """

    grid: dict[str, list]
    random_space: dict[str, Any]
    epochs: int
    metric: str
    goal: str
    options: Callable[..., dict]

    @classmethod
    def declared(cls, namespace: Mapping[str, Any]) -> SweepSpec:
        """The sweep a scenario module declares by its names ``SWEEP_GRID``, ``RANDOM_SPACE``,
        ``SWEEP_EPOCHS``, ``SWEEP_METRIC``, ``SWEEP_GOAL`` and ``_hyperparameters`` (pass its
        ``globals()``), so the five modules declare a sweep the same way."""
        return cls(
            grid=namespace["SWEEP_GRID"],
            random_space=namespace["RANDOM_SPACE"],
            epochs=namespace["SWEEP_EPOCHS"],
            metric=namespace["SWEEP_METRIC"],
            goal=namespace["SWEEP_GOAL"],
            options=namespace["_hyperparameters"],
        )

    def parameters(self) -> dict[str, type]:
        """What a sweep may vary: option name -> the type of its default (float, int, bool, str)."""
        return {
            name: type(parameter.default)
            for name, parameter in inspect.signature(self.options).parameters.items()
            if name not in ("epochs", "seed") and parameter.default is not inspect.Parameter.empty
        }


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
        light: a sweep point: metrics only (``neurogenesis.recording.METRICS_ONLY``), so a
            dozen of them stay small and quick.
        comparison: a run kept only to compare with the main one: fewer checkpoints.
        **options: any other ``RunRecorder`` argument, overriding the demo settings.
    """
    from neurogenesis.recording import METRICS_ONLY, RunRecorder

    settings: dict[str, Any] = {
        "max_checkpoints": COMPARISON_MAX_CHECKPOINTS if comparison else DEMO_MAX_CHECKPOINTS,
        "probe_size": PROBE_SIZE,
    }
    if light:
        settings.update(METRICS_ONLY)
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
    callbacks: Sequence[Any] = (),
) -> dict[str, list[float]]:
    """Trains a compiled model into a run folder with the recorder; returns the history.

    The probe batch is the first :data:`PROBE_SIZE` validation samples, the same batch in every
    run of a scenario; the run's sample set is ``samples`` or else the first
    :data:`RECORDER_SAMPLE_SIZE` validation samples. ``clean`` empties the folder first (a rebuild); the dashboard's
    live training passes ``clean=False``, as it may have put files there (the stop file's folder).
    ``callbacks`` run after the recorder: the epoch they see is already recorded (a Ray Tune trial
    reports it, and its worker may be ended right after).
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
        callbacks=[callback, *callbacks],
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


def point_summary(
    name: str, params: dict[str, Any], history: dict[str, list[float]], metric: str, goal: str
) -> dict:
    """A finished point as ``sweep.json`` lists it: ``run``, ``params``, ``final`` (the last
    value of every metric) and ``best`` (every metric at the best epoch, and that 1-based
    ``epoch``)."""
    best = best_epoch(history, metric, goal)
    return {
        "run": name,
        "params": params,
        "final": plain_history(history),
        "best": {
            **{key: round_metric(values[best]) for key, values in history.items()},
            "epoch": best + 1,
        },
    }


def _run_order(points: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The points grouped by architecture (everything but the learning rate), groups in order of
    first appearance: a group shares one compiled model."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for params in points:
        shape = {key: value for key, value in params.items() if key != "learning_rate"}
        groups.setdefault(json.dumps(shape, sort_keys=True, default=str), []).append(params)
    return list(groups.values())


def _write_summary(sweep_dir: Path, summary: dict) -> None:
    """Rewrites ``sweep.json`` atomically: a reader polling it never sees half a file."""
    replace_text(sweep_dir / SWEEP_FILE, json.dumps(summary, indent=2) + "\n")


def _remove_leftover_stop(sweep_dir: Path) -> None:
    """A stop file left by a stopped sweep in the same folder would end the new one at once."""
    if read_sweep_summary(sweep_dir).get("status") == "stopped":
        (sweep_dir / STOP_FILE).unlink(missing_ok=True)


@contextmanager
def _stop_forwarded(sweep_dir: Path, run_dir: Path) -> Iterator[None]:
    """While a point trains, a sweep's stop file is copied into the point's run folder, where the
    recorder looks before every batch, so stopping a sweep does not wait for a whole point.

    The copy is made again whenever it is missing: the point's training empties its folder when
    it starts.
    """
    finished = threading.Event()

    def forward() -> None:
        while not finished.wait(STOP_POLL_SECONDS):
            if stop_requested(sweep_dir) and run_dir.is_dir():
                # The folder may be being emptied right now; the next poll tries again.
                with suppress(OSError):
                    request_stop(run_dir)

    thread = threading.Thread(target=forward, name=f"sweep-stop-{run_dir.name}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        finished.set()
        thread.join()


def _interrupted(run_dir: Path, history: dict[str, list[float]], metric: str, epochs: int) -> bool:
    """Whether a point ended early (the stop file): fewer epochs, or its manifest says stopped."""
    if len(history.get(metric, [])) < epochs:
        return True
    return read_manifest(run_dir).get("status") == "stopped"


def run_sweep(
    scenario: str,
    sweep_dir: Path,
    *,
    grid: dict[str, Sequence] | None = None,
    points: Sequence[dict[str, Any]] | None = None,
    build_model: Callable[..., Any],
    fit_point: Callable[[Any, Path, dict], dict[str, list[float]]],
    metric: str,
    goal: str,
    epochs: int,
    fresh: bool = True,
    progress: Callable[[dict, dict], None] | None = None,
) -> dict:
    """Trains one light recorded run per point and writes ``sweep.json`` after every point.

    Points that differ only in ``learning_rate`` share one compiled model, restarted between them
    (:func:`restart_training`): the same initial weights as a fresh model built with the same
    seed, without tracing the training step again. Points run grouped by architecture, in order
    of first appearance.

    ``sweep.json`` is rewritten atomically when the sweep starts and after every finished point,
    with ``status`` ``"running"``; at the end ``"finished"``, ``"stopped"`` (a ``STOP`` file
    appeared in the sweep folder; it is looked for between points and forwarded to the running
    point's recorder, and a point cut short is left out of ``points``) or ``"failed"`` (with
    ``error``; the exception is raised again).

    Args:
        scenario: the scenario's name.
        sweep_dir: the sweep folder, e.g. ``data/sweeps/<scenario>``.
        grid: parameter name -> values (every combination); must include ``learning_rate``.
        points: instead of ``grid``: the points themselves (same keys, ``learning_rate`` in each).
        build_model: ``build_model(**params_but_learning_rate)`` -> a compiled model.
        fit_point: ``fit_point(model, run_dir, params) -> history`` (one recorded training).
        metric: the history key the sweep is judged by, e.g. ``'val_accuracy'``.
        goal: ``'max'`` or ``'min'``.
        epochs: epochs per point (stored in the summary).
        fresh: empty the folder first (a rebuild); False keeps what is there (the dashboard's
            sweep log).
        progress: ``progress(point, summary)``, called after each point is written.

    Returns:
        The summary written to ``sweep.json``: ``scenario``, ``parameters``, ``metric``,
        ``goal``, ``epochs``, ``status``, ``planned`` (every point's params in run order) and
        ``points`` (the finished ones, in the order given: ``run``, ``params``, ``final``,
        ``best``, where ``best`` holds every metric at the best epoch and that ``epoch``, 1-based
        as Keras counts).

    Raises:
        InputError: neither or both of ``grid`` and ``points``, no points, a point without
            ``learning_rate`` or with other keys than the first, or a point listed twice.
    """
    if (grid is None) == (points is None):
        raise InputError("Expected either a grid or a list of points for the sweep, not both.")
    planned = sweep_points(grid) if grid is not None else [dict(params) for params in points]
    if not planned:
        raise InputError("Expected at least one sweep point. Received none.")
    keys = list(planned[0])
    for params in planned:
        if "learning_rate" not in params or set(params) != set(keys):
            raise InputError(
                f"Expected every sweep point to set learning_rate and the same parameters as the "
                f"first ({', '.join(keys)}). Received: {params}."
            )
    names = [sweep_run_name(params) for params in planned]
    if len(set(names)) != len(names):
        repeated = sorted({name for name in names if names.count(name) > 1})
        raise InputError(
            f"Expected distinct sweep points. Received {', '.join(repeated)} more than once."
        )
    groups = _run_order(planned)
    sweep_dir = Path(sweep_dir)
    if fresh:
        fresh_dir(sweep_dir)
    else:
        sweep_dir.mkdir(parents=True, exist_ok=True)
        _remove_leftover_stop(sweep_dir)
    summary: dict[str, Any] = {
        "scenario": scenario,
        "parameters": keys,
        "metric": metric,
        "goal": goal,
        "epochs": epochs,
        "status": "running",
        "planned": [params for group in groups for params in group],
        "points": [],
    }
    _write_summary(sweep_dir, summary)
    done: dict[str, dict] = {}
    try:
        for group in groups:
            if stop_requested(sweep_dir):
                break
            set_seed(SEED)
            model = build_model(
                **{key: value for key, value in group[0].items() if key != "learning_rate"}
            )
            initial_weights = [variable.numpy() for variable in model.weights]
            for params in group:
                if stop_requested(sweep_dir):
                    break
                name = sweep_run_name(params)
                restart_training(model, initial_weights, params["learning_rate"])
                set_seed(SEED)
                with _stop_forwarded(sweep_dir, sweep_dir / name):
                    history = fit_point(model, sweep_dir / name, params)
                if stop_requested(sweep_dir) and _interrupted(
                    sweep_dir / name, history, metric, epochs
                ):
                    break
                done[name] = point_summary(name, params, history, metric, goal)
                summary["points"] = [done[key] for key in names if key in done]
                _write_summary(sweep_dir, summary)
                if progress is not None:
                    progress(done[name], summary)
    except Exception as error:
        summary["status"] = "failed"
        summary["error"] = f"{type(error).__name__}: {error}"[:MAX_ERROR_CHARS]
        _write_summary(sweep_dir, summary)
        raise
    summary["status"] = "finished" if len(done) == len(names) else "stopped"
    _write_summary(sweep_dir, summary)
    return summary


@dataclass(frozen=True)
class Recipe:
    """A scenario's model functions and how its data trains them, declared as data, so the steps
    every build shares (one recorded training, a run, a sweep) are written once.

    Attributes:
        compiled: ``compiled(**options) -> model``: a fresh compiled model; with no options, the
            scenario's main model.
        hyperparameters: ``hyperparameters(*, epochs, seed, **options) -> dict``: what a run's
            manifest stores.
        batch_size: the batch size of every training.
        split: ``split(data) -> ((x, y), (x, y))``: the training and validation pairs in the
            scenario's data.
        samples: ``samples(data) -> (x, y)``: the sample set a full run keeps; None: the
            validation pair.
        recorder_options: ``RunRecorder`` arguments of every run of the scenario, over the demo
            settings.
        after_fit: ``after_fit(model, run_dir)`` after a full (not light) run's training, e.g. to
            write a model the recorder cannot.
    """

    compiled: Callable[..., Any]
    hyperparameters: Callable[..., dict]
    batch_size: int
    split: Callable[[Any], tuple[tuple, tuple]]
    samples: Callable[[Any], tuple] | None = None
    recorder_options: Mapping[str, Any] | None = None
    after_fit: Callable[[Any, Path], None] | None = None

    def fit(
        self,
        model,
        run_dir: Path,
        data: Any,
        *,
        hyperparameters: dict,
        light: bool = False,
        clean: bool = True,
        comparison: bool = False,
        callbacks: Sequence[Any] = (),
    ) -> dict[str, list[float]]:
        """One recorded training (:func:`fit_recorded`) of ``hyperparameters["epochs"]`` epochs;
        returns the history.

        Args:
            model: the compiled model.
            run_dir: the run folder.
            data: the scenario's data, as :attr:`split` takes it.
            hyperparameters: stored in the run's manifest.
            light: a sweep point: metrics only.
            clean: empty the folder first.
            comparison: a run kept only to be compared with the main one: fewer checkpoints.
            callbacks: more Keras callbacks, run after the recorder (:func:`fit_recorded`).
        """
        train, validation = self.split(data)
        history = fit_recorded(
            model,
            run_dir,
            train,
            validation,
            epochs=hyperparameters["epochs"],
            batch_size=self.batch_size,
            hyperparameters=hyperparameters,
            light=light,
            comparison=comparison,
            samples=None if self.samples is None else self.samples(data),
            recorder_options=None if self.recorder_options is None else dict(self.recorder_options),
            clean=clean,
            callbacks=callbacks,
        )
        if self.after_fit is not None and not light:
            self.after_fit(model, Path(run_dir))
        return history

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

    def train(self, run_dir: Path, data: Any, *, epochs: int, seed: int, options: dict) -> dict:
        """One seeded training recorded into ``run_dir`` (:meth:`Scenario.train`).

        The folder is not emptied: the dashboard's live training may have put files there (the
        stop file's folder).

        Args:
            run_dir: the run folder (created if missing).
            data: the scenario's data.
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
        history = self.fit(model, run_dir, data, hyperparameters=hyperparameters, clean=False)
        return training_result(run_dir, history, hyperparameters)

    def sweep_into(
        self,
        name: str,
        sweep_dir: Path,
        data: Any,
        *,
        points: Sequence[dict[str, Any]],
        epochs: int,
        metric: str,
        goal: str,
        fresh: bool = False,
        progress: Callable[[dict, dict], None] | None = None,
    ) -> dict:
        """A sweep of the scenario into any folder (:func:`run_sweep`).

        Every point is a light run (metrics only) whose hyperparameters are the scenario's
        defaults with the point's parameters put in.

        Args:
            name: the scenario's name.
            sweep_dir: the sweep folder.
            data: the scenario's data, passed to ``fit`` as it is.
            points: the points; each includes ``learning_rate``.
            epochs: epochs per point.
            metric: the history key the sweep is judged by, e.g. ``'val_accuracy'``.
            goal: ``'max'`` or ``'min'``.
            fresh: empty the folder first.
            progress: ``progress(point, summary)`` after each finished point.

        Returns:
            The summary written to ``sweep.json``.
        """
        return run_sweep(
            name,
            sweep_dir,
            points=points,
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
            fresh=fresh,
            progress=progress,
        )

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
        """The scenario's demo sweep into ``data/sweeps/<name>``, emptied first (:meth:`sweep_into`).

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
        return self.sweep_into(
            name,
            data_dir / "sweeps" / name,
            data,
            points=sweep_points(grid),
            epochs=epochs,
            metric=metric,
            goal=goal,
            fresh=True,
        )


# --------------------------------------------------------------------------------------------
# Sweeps of a scenario: checked points, grids typed on the command line, random points
# --------------------------------------------------------------------------------------------

_TRUE_WORDS = ("true", "yes", "on", "1")
_FALSE_WORDS = ("false", "no", "off", "0")
_KIND_WORDS = {
    float: "a positive number",
    int: "a positive whole number",
    bool: "true or false",
    str: "a name",
}


def _typed_value(name: str, value: Any, kind: type) -> Any:
    """``value`` (a Python value or the text typed for it) as the parameter's type, or InputError."""
    text = value.strip() if isinstance(value, str) else None
    result: Any = None
    if kind is bool:
        if isinstance(value, bool):
            result = value
        elif text is not None and text.lower() in _TRUE_WORDS + _FALSE_WORDS:
            result = text.lower() in _TRUE_WORDS
    elif kind is str:
        if text and (name != "optimizer" or text in OPTIMIZERS):
            result = text
    elif not isinstance(value, bool):
        try:
            number = float(text if text is not None else value)
        except (TypeError, ValueError):
            number = math.nan
        if math.isfinite(number) and number > 0:
            if kind is float:
                result = number
            elif number == int(number):
                result = int(number)
    if result is None:
        expected = (
            f"one of {', '.join(OPTIMIZERS)}" if name == "optimizer" else _KIND_WORDS.get(kind)
        )
        raise InputError(f"Expected {name} to be {expected or kind.__name__}. Received: {value!r}.")
    return result


def _unknown_parameter(name: str, spec: SweepSpec) -> InputError:
    return InputError(
        f"Unknown sweep parameter '{name}'. Expected one of: {', '.join(spec.parameters())}."
    )


def check_points(spec: SweepSpec, points: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Sweep points as the scenario takes them: known parameters, typed values, no repeats.

    Args:
        spec: the scenario's sweep.
        points: parameter -> value mappings; values may be the text typed for them.

    Returns:
        The points with typed values, keys in the first point's order.

    Raises:
        InputError: no points, an unknown parameter, a point without ``learning_rate`` or with
            other parameters than the first, a bad value, or a point listed twice.
    """
    types = spec.parameters()
    if not points:
        raise InputError("Expected at least one sweep point. Received none.")
    keys = list(points[0]) if isinstance(points[0], Mapping) else []
    checked: list[dict[str, Any]] = []
    names: set[str] = set()
    for index, point in enumerate(points):
        if not isinstance(point, Mapping):
            raise InputError(
                f"Expected each sweep point to map parameters to values. Received point {index}: "
                f"{point!r}."
            )
        for key in point:
            if key not in types:
                raise _unknown_parameter(key, spec)
        if "learning_rate" not in point or set(point) != set(keys):
            raise InputError(
                f"Expected every sweep point to set learning_rate and the same parameters as the "
                f"first ({', '.join(keys)}). Received point {index}: {dict(point)}."
            )
        params = {key: _typed_value(key, point[key], types[key]) for key in keys}
        name = sweep_run_name(params)
        if name in names:
            raise InputError(f"Expected distinct sweep points. Received {name} more than once.")
        names.add(name)
        checked.append(params)
    return checked


def parse_grid(spec: SweepSpec, texts: Sequence[str]) -> dict[str, list]:
    """A grid from ``NAME=VALUE[,VALUE...]`` texts (the CLI's ``--grid``), values typed.

    Raises:
        InputError: a text without ``=`` or values, an unknown or repeated parameter, a bad or
            repeated value.
    """
    types = spec.parameters()
    grid: dict[str, list] = {}
    for text in texts:
        name, separator, values = text.partition("=")
        name = name.strip()
        if not separator or not name or not values.strip():
            raise InputError(
                f"Expected NAME=VALUE[,VALUE...], e.g. learning_rate=0.001,0.003. Received: {text!r}."
            )
        if name not in types:
            raise _unknown_parameter(name, spec)
        if name in grid:
            raise InputError(
                f"Expected each parameter once. Received {name} twice; join the values."
            )
        parsed = [_typed_value(name, value, types[name]) for value in values.split(",")]
        if len(set(parsed)) != len(parsed):
            raise InputError(f"Expected distinct values for {name}. Received: {values!r}.")
        grid[name] = parsed
    return grid


def _is_range(values: Any) -> bool:
    return (
        isinstance(values, (list, tuple))
        and len(values) == 3
        and isinstance(values[2], str)
        and values[2] in RANDOM_SCALES
    )


def _sampler(name: str, values: Any) -> Callable[[np.random.Generator], Any]:
    """Draws one value of a parameter: from a list of choices or a (low, high, scale) range."""
    if _is_range(values):
        low, high, scale = values
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high))
        if not numbers or not low < high or (scale == "log" and low <= 0):
            raise InputError(
                f"Expected {name}'s range as (low, high, 'log' or 'linear') with low < high "
                f"(and low > 0 for 'log'). Received: {tuple(values)!r}."
            )
        whole = isinstance(low, int) and isinstance(high, int)

        def draw_range(rng: np.random.Generator) -> Any:
            if scale == "log":
                value = 10 ** rng.uniform(math.log10(low), math.log10(high))
            else:
                value = rng.uniform(low, high)
            if whole:
                return int(min(max(round(value), low), high))
            # Rounded so run names and tables stay short; clipped as rounding may cross a bound.
            return min(max(float(f"{value:.{SIGNIFICANT_DIGITS}g}"), low), high)

        return draw_range
    if isinstance(values, (list, tuple)) and values:
        choices = list(values)
        return lambda rng: choices[int(rng.integers(len(choices)))]
    raise InputError(
        f"Expected {name} as a list of choices or a (low, high, 'log' or 'linear') range. "
        f"Received: {values!r}."
    )


def random_sweep_points(space: Mapping[str, Any], count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` distinct random points of a space, the same ones for the same seed.

    Args:
        space: parameter -> a list of choices (drawn uniformly) or a ``(low, high, scale)`` range
            with ``scale`` ``"log"`` (log-uniform, e.g. a learning rate) or ``"linear"``; whole
            number bounds draw whole numbers, others are rounded to
            :data:`SIGNIFICANT_DIGITS` significant digits.
        count: how many points.
        seed: the random seed.

    Returns:
        The points, parameters in the space's order.

    Raises:
        InputError: a malformed space, ``count`` below 1, or a space with fewer distinct points
            than ``count``.
    """
    if int(count) < 1:
        raise InputError(f"Expected at least 1 random point. Received: {count}.")
    if not space:
        raise InputError("Expected a space with at least one parameter. Received an empty one.")
    samplers = {name: _sampler(name, values) for name, values in space.items()}
    rng = np.random.default_rng(seed)
    points: list[dict[str, Any]] = []
    seen: set[str] = set()
    for _ in range(int(count) * RANDOM_DRAW_ATTEMPTS):
        point = {name: draw(rng) for name, draw in samplers.items()}
        name = sweep_run_name(point)
        if name not in seen:
            seen.add(name)
            points.append(point)
            if len(points) == int(count):
                return points
    raise InputError(
        f"Found only {len(points)} distinct points in this space; {count} were asked for. "
        "Ask for fewer points or widen the space."
    )


def plan_sweep(
    spec: SweepSpec,
    *,
    grid: Mapping[str, Sequence] | None = None,
    random: int | None = None,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """The points of a scenario's sweep, checked (:func:`check_points`).

    Args:
        spec: the scenario's sweep.
        grid: values per parameter, over the defaults: with ``random`` None, these replace the
            default grid's values of those parameters (others keep theirs); with ``random``,
            they become the choices of those parameters in the random space.
        random: draw this many random points from the space instead of a full grid.
        seed: the random points' seed.

    Raises:
        InputError: see :func:`check_points` and :func:`random_sweep_points`.
    """
    overrides = dict(grid or {})
    for name, values in overrides.items():
        if not isinstance(values, (list, tuple)) or not values:
            raise InputError(
                f"Expected a non-empty list of values for {name}. Received: {values!r}."
            )
    if random is None:
        points = sweep_points({**spec.grid, **overrides})
    else:
        points = random_sweep_points({**spec.random_space, **overrides}, random, seed)
    return check_points(spec, points)


def sweep_scenario(
    scenario: Scenario,
    sweep_dir: Path,
    *,
    points: Sequence[Mapping[str, Any]],
    epochs: int | None = None,
    fresh: bool = False,
    progress: Callable[[dict, dict], None] | None = None,
) -> dict:
    """Runs a sweep of a scenario into any folder with its own data, model, metric and goal.

    Args:
        scenario: the scenario.
        sweep_dir: the sweep folder (created if missing).
        points: the points (see :func:`check_points`; :func:`plan_sweep` makes them).
        epochs: epochs per point; by default the scenario's sweep epochs.
        fresh: empty the folder first; by default what is there is kept (a log file).
        progress: ``progress(point, summary)`` after each finished point.

    Returns:
        The summary written to ``sweep.json`` (:func:`run_sweep`).

    Raises:
        InputError: bad points or epochs.
        UnsupportedModelError: a scenario without a sweep.
    """
    spec = scenario.sweep
    if spec is None:
        raise UnsupportedModelError(f"The scenario '{scenario.name}' has no sweep.")
    checked = check_points(spec, points)
    epochs = spec.epochs if epochs is None else int(epochs)
    if epochs < 1:
        raise InputError(f"Expected at least 1 epoch per sweep point. Received: {epochs}.")
    recipe, data = scenario.setup()
    return recipe.sweep_into(
        scenario.name,
        Path(sweep_dir),
        data,
        points=checked,
        epochs=epochs,
        metric=spec.metric,
        goal=spec.goal,
        fresh=fresh,
        progress=progress,
    )


def train_sweep_point(
    scenario: Scenario,
    sweep_dir: Path,
    params: Mapping[str, Any],
    *,
    epochs: int,
    run_name: str | None = None,
    callbacks: Sequence[Any] = (),
) -> dict[str, list[float]]:
    """One point of a scenario's sweep on its own (a Ray Tune trial): the light recorded run that
    :func:`run_sweep` trains for the first point of its group, into ``sweep_dir/<run_name>``.

    The same steps in the same order (seed, fresh compiled model, :func:`restart_training` to the
    point's learning rate, seed, recorded fit), so the run is the one a sweep on this machine
    records for that point; a ``STOP`` file in ``sweep_dir`` is forwarded to the run as there.

    Args:
        scenario: the scenario (it declares a sweep).
        sweep_dir: the sweep folder.
        params: the point (checked with :func:`check_points`; ``learning_rate`` in it).
        epochs: epochs to train.
        run_name: the run's folder name; by default :func:`sweep_run_name` of the point.
        callbacks: more Keras callbacks, run after the recorder (:func:`fit_recorded`).

    Returns:
        The Keras history of the run.
    """
    spec = scenario.sweep
    if spec is None:
        raise UnsupportedModelError(f"The scenario '{scenario.name}' has no sweep.")
    (point,) = check_points(spec, [dict(params)])
    run_dir = Path(sweep_dir) / (run_name or sweep_run_name(point))
    recipe, data = scenario.setup()
    set_seed(SEED)
    model = recipe.compiled(
        **{key: value for key, value in point.items() if key != "learning_rate"}
    )
    restart_training(
        model, [variable.numpy() for variable in model.weights], point["learning_rate"]
    )
    set_seed(SEED)
    with _stop_forwarded(Path(sweep_dir), run_dir):
        return recipe.fit(
            model,
            run_dir,
            data,
            hyperparameters=recipe.hyperparameters(epochs=epochs, seed=SEED, **point),
            light=True,
            callbacks=callbacks,
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
