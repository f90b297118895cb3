"""Learning rate and optimization: how the optimizer moved the weights, from logs and checkpoints.

Pure computation (numpy only) for the training-dynamics page:

- ``learning_rate_info``: each run's learning rate, logged (``learning_rate``,
  ``epoch_learning_rate``, ``lr``, ``train/learning_rate``, CSV/JSON columns) or, for a
  NeuroGenesis run that did not log it, worked out from the recorded optimizer config (a constant,
  or a Keras ``LearningRateSchedule`` evaluated in numpy by ``evaluate_learning_rate_schedule``),
  with where it changed and how (constant, step decay, continuous).
- ``gradient_norm_info``: the recorder's per-variable gradient norms as a layers (or variables)
  x epochs matrix, plus the global norm.
- ``weight_evolution_info`` / ``weight_evolution_from_recording``: per-layer weight norms, distance
  from initialization and the cosine similarity of successive updates, from weight checkpoints.
- ``weight_trajectories``: individual weights of one variable over the checkpoints.
- ``optimizer_comparison_info``: several runs side by side (loss curves, gradient norm, learning
  rate) with a summary row per run.

**Layers.** A variable belongs to the top-level Keras layer named by the first component of its
path: ``conv_1/kernel`` -> ``conv_1``, ``attention_1/query/kernel`` -> ``attention_1`` (the
query/key/value sublayers belong to their MultiHeadAttention layer), ``lstm/lstm_cell/kernel`` ->
``lstm``. The recorder's gradient norm tags (``gradient_norm/<variable path>``) use the same paths,
so gradient norms and weight evolution line up layer by layer. Weights files written by Keras itself
(``layers/dense/vars/0``) are grouped by the component after ``layers/``.

**Which checkpoint variables are weights** (``is_model_weight``): floating-point arrays with at
least one dimension that are not optimizer state (paths under an optimizer's name such as
``adam/...``, ``adam_12/...``, ``sgd/...``, or the recorded optimizer's own name) and, unless asked
for, not BatchNormalization's ``moving_mean`` / ``moving_variance`` nor a ``seed_generator_state``:
those are non-trainable, the optimizer never updates them, and their drift would hide the
optimizer's steps.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from neurogenesis.analysis.convergence import metric_goal
from neurogenesis.analysis.infos import ValueEquality
from neurogenesis.analysis.training import VALIDATION_RUN_NAMES, logical_run_name, split_tag
from neurogenesis.errors import InputError

__all__ = [
    "gradient_norm_run",
    "DEFAULT_TRAJECTORIES",
    "GradientNormInfo",
    "LearningRateInfo",
    "LearningRateSeries",
    "OptimizerComparisonInfo",
    "OptimizerRun",
    "SCHEDULE_CLASSES",
    "WeightEvolutionInfo",
    "WeightTrajectoryInfo",
    "evaluate_learning_rate_schedule",
    "gradient_norm_info",
    "is_model_weight",
    "layer_of",
    "learning_rate_changes",
    "learning_rate_info",
    "optimizer_comparison_info",
    "weight_evolution_from_recording",
    "weight_evolution_info",
    "weight_trajectories",
    "weight_trajectories_from_recording",
]

LEARNING_RATE_NAMES = ("learning_rate", "lr")
"""Tag leaves (after an ``epoch_`` prefix is dropped) that hold a learning rate, any case."""
GRADIENT_NORM_PREFIX = "gradient_norm/"
GLOBAL_GRADIENT_NORM = "global"
GROUPINGS = ("layer", "variable")
SOURCES = ("logged", "optimizer config", "hyperparameters")
KINDS = ("constant", "step decay", "continuous")
CHANGE_TOLERANCE = 1e-6
"""Relative difference below which two successive learning rates count as the same."""
STEP_DECAY_MAX_CHANGE_FRACTION = 0.5
"""A learning rate that changes at no more than this share of its steps is a step decay."""
DEFAULT_TRAJECTORIES = 8
NEAR_BEST_TOLERANCE = 0.05
""""Near best" means within this fraction of the best value (5%)."""
MODEL_ORDER_MAX_BYTES = 64 * 1024**2
"""Largest checkpoint read just to learn the model's variable order for gradient norms."""
NON_TRAINABLE_VARIABLE_NAMES = ("moving_mean", "moving_variance", "seed_generator_state")
OPTIMIZER_PATH = re.compile(
    r"^(optimizer|adam|adamw|adamax|nadam|sgd|rmsprop|adagrad|adadelta|ftrl|lion|lamb|adafactor"
    r"|muon|loss_scale_optimizer)(_\d+)?$",
    re.IGNORECASE,
)
OPTIMIZER_DISPLAY_NAMES = {
    "adam": "Adam",
    "adamw": "AdamW",
    "adamax": "Adamax",
    "nadam": "Nadam",
    "sgd": "SGD",
    "rmsprop": "RMSprop",
    "adagrad": "Adagrad",
    "adadelta": "Adadelta",
    "ftrl": "Ftrl",
    "lion": "Lion",
    "lamb": "Lamb",
    "adafactor": "Adafactor",
    "muon": "Muon",
}
SCHEDULE_CLASSES = (
    "ExponentialDecay",
    "PiecewiseConstantDecay",
    "InverseTimeDecay",
    "PolynomialDecay",
    "CosineDecay",
    "CosineDecayRestarts",
)


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _clean_series(steps, values) -> tuple[np.ndarray, np.ndarray]:
    """Sorted by step, one value per step: after a restart the later value (file order) wins."""
    steps = np.asarray(steps, dtype=np.int64).reshape(-1)
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    order = np.argsort(steps, kind="stable")
    steps, values = steps[order], values[order]
    keep = np.ones(steps.shape[0], dtype=bool)
    keep[:-1] = steps[1:] != steps[:-1]
    return steps[keep], values[keep]


def _first_nonfinite(steps: np.ndarray, values: np.ndarray) -> int | None:
    bad = np.flatnonzero(~np.isfinite(values))
    return int(steps[bad[0]]) if bad.size else None


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _check_by(by: str) -> None:
    if by not in GROUPINGS:
        raise InputError(f"Expected by='layer' or by='variable'. Received: {by!r}")


def layer_of(variable_path: str) -> str:
    """The top-level layer a variable belongs to: the first component of its path.

    ``conv_1/kernel`` -> ``conv_1``; ``attention_1/query/kernel`` -> ``attention_1``;
    ``lstm/lstm_cell/bias`` -> ``lstm``; ``layers/dense/vars/0`` (a Keras weights file) -> ``dense``.
    """
    parts = variable_path.split("/")
    if len(parts) > 2 and parts[0] == "layers":
        return parts[1]
    return parts[0]


def _strip_counter(name: str) -> str:
    return re.sub(r"_\d+$", "", name)


def is_model_weight(
    path: str,
    array,
    *,
    optimizer_name: str | None = None,
    include_non_trainable: bool = False,
) -> bool:
    """Whether a checkpoint variable is a model weight the optimizer updates (see module doc).

    Args:
        path: The variable path, e.g. ``"conv_1/kernel"`` or ``"adam/iteration"``.
        array: Its value.
        optimizer_name: The recorded optimizer's name (``optimizer_config["name"]``), whose
            variables are optimizer state even when the name is not a Keras optimizer's.
        include_non_trainable: Keep BatchNormalization's moving statistics.

    Returns:
        True for a weight, False for optimizer state, counters, seeds and (by default) moving
        statistics.
    """
    array = np.asarray(array)
    if array.ndim == 0 or array.dtype.kind not in "fc":
        return False
    parts = path.split("/")
    if len(parts) > 1 and (
        OPTIMIZER_PATH.match(parts[0]) or (optimizer_name and parts[0] == optimizer_name)
    ):
        return False
    return include_non_trainable or parts[-1] not in NON_TRAINABLE_VARIABLE_NAMES


def _recording_of(run, recordings):
    """The run's Recording (given, or read from a NeuroGenesis run folder), or None."""
    if recordings is not None and run.name in recordings:
        return recordings[run.name]
    if getattr(run, "format", None) != "neurogenesis":
        return None
    from neurogenesis.io.recordings import read_recording

    try:
        return read_recording(run.path)
    except InputError:
        return None


# --------------------------------------------------------------------------------------------
# Learning rate
# --------------------------------------------------------------------------------------------


def _schedule_parts(schedule) -> tuple[str, dict]:
    if not isinstance(schedule, Mapping) or not isinstance(schedule.get("config"), Mapping):
        raise InputError(
            "Expected a serialized Keras learning-rate schedule like "
            "{'class_name': 'ExponentialDecay', 'config': {...}}. "
            f"Received: {str(schedule)[:160]!r}"
        )
    class_name = str(schedule.get("class_name", "")).rsplit(">", 1)[-1].rsplit(".", 1)[-1]
    if class_name not in SCHEDULE_CLASSES:
        raise InputError(
            f"Expected one of Keras's schedules ({', '.join(SCHEDULE_CLASSES)}). "
            f"Received: {class_name!r}, which cannot be evaluated without its code."
        )
    return class_name, dict(schedule["config"])


def _config_number(config: dict, key: str, class_name: str, default=None) -> float:
    value = config.get(key, default)
    number = None if value is None else _number(value)
    if number is None:
        raise InputError(
            f"Expected a number for {key!r} in the {class_name} config. Received: {value!r}"
        )
    return number


def evaluate_learning_rate_schedule(schedule, iterations) -> np.ndarray:
    """The learning rate a Keras schedule gives at each optimizer iteration, in float64.

    The formulas are those of ``keras.optimizers.schedules`` (Keras 3), re-implemented in numpy
    so no Keras is needed: ``ExponentialDecay``, ``PiecewiseConstantDecay``, ``InverseTimeDecay``,
    ``PolynomialDecay``, ``CosineDecay`` (with linear warmup) and ``CosineDecayRestarts``.

    Args:
        schedule: A number (a constant learning rate) or a serialized schedule
            (``keras.optimizers.schedules.serialize(...)``, or ``optimizer.get_config()
            ["learning_rate"]``): ``{"class_name": ..., "config": {...}}``.
        iterations: Optimizer iterations (``optimizer.iterations``: batches seen so far).

    Returns:
        float64 learning rates, one per iteration.

    Raises:
        InputError: An unknown schedule class or a config missing a value.
    """
    step = np.asarray(iterations, dtype=np.float64)
    constant = _number(schedule)
    if constant is not None:
        return np.full(step.shape, constant)
    name, config = _schedule_parts(schedule)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if name == "PiecewiseConstantDecay":
            boundaries = np.asarray(config.get("boundaries", ()), dtype=np.float64)
            values = np.asarray(config.get("values", ()), dtype=np.float64)
            if values.ndim != 1 or boundaries.ndim != 1 or values.size != boundaries.size + 1:
                raise InputError(
                    "Expected one more value than boundaries in the PiecewiseConstantDecay "
                    f"config. Received {boundaries.size} boundaries and {values.size} values."
                )
            # step <= b[0] -> v[0]; b[i-1] < step <= b[i] -> v[i]; step > b[-1] -> v[-1].
            return values[np.searchsorted(boundaries, step, side="left")]
        initial = _config_number(config, "initial_learning_rate", name)
        if name in ("ExponentialDecay", "InverseTimeDecay"):
            decay_steps = _config_number(config, "decay_steps", name)
            decay_rate = _config_number(config, "decay_rate", name)
            p = step / decay_steps
            if config.get("staircase"):
                p = np.floor(p)
            if name == "ExponentialDecay":
                return initial * np.power(decay_rate, p)
            return initial / (1.0 + decay_rate * p)
        if name == "PolynomialDecay":
            decay_steps = _config_number(config, "decay_steps", name)
            end = _config_number(config, "end_learning_rate", name, 0.0001)
            power = _config_number(config, "power", name, 1.0)
            if config.get("cycle"):
                multiplier = np.where(step == 0, 1.0, np.ceil(step / decay_steps))
                decay = decay_steps * multiplier
                current = step
            else:
                decay = np.full(step.shape, decay_steps)
                current = np.minimum(step, decay_steps)
            return (initial - end) * np.power(1.0 - current / decay, power) + end
        if name == "CosineDecay":
            decay_steps = _config_number(config, "decay_steps", name)
            alpha = _config_number(config, "alpha", name, 0.0)

            def decayed(at, start_lr):
                cosine = 0.5 * (1.0 + np.cos(np.pi * at / decay_steps))
                return start_lr * ((1.0 - alpha) * cosine + alpha)

            if config.get("warmup_target") is None:
                return decayed(np.minimum(step, decay_steps), initial)
            target = _config_number(config, "warmup_target", name)
            warmup = _config_number(config, "warmup_steps", name, 0.0)
            current = np.minimum(step, decay_steps + warmup)
            warming = (target - initial) * (current / warmup) + initial if warmup else current
            return np.where(current < warmup, warming, decayed(current - warmup, target))
        # CosineDecayRestarts
        first = _config_number(config, "first_decay_steps", name)
        t_mul = _config_number(config, "t_mul", name, 2.0)
        m_mul = _config_number(config, "m_mul", name, 1.0)
        alpha = _config_number(config, "alpha", name, 0.0)
        fraction = step / first
        if t_mul == 1.0:
            restart = np.floor(fraction)
            fraction = fraction - restart
        else:
            restart = np.floor(np.log(1.0 - fraction * (1.0 - t_mul)) / np.log(t_mul))
            done = (1.0 - np.power(t_mul, restart)) / (1.0 - t_mul)
            fraction = (fraction - done) / np.power(t_mul, restart)
        cosine = 0.5 * np.power(m_mul, restart) * (1.0 + np.cos(np.pi * fraction))
        return initial * ((1.0 - alpha) * cosine + alpha)


def learning_rate_changes(values, rtol: float = CHANGE_TOLERANCE) -> tuple[np.ndarray, str]:
    """Where a learning-rate series changes, and what kind of schedule that looks like.

    Args:
        values: The learning rate per step, in step order.
        rtol: Relative difference below which two successive values are the same.

    Returns:
        ``(indices, kind)``: the indices ``i`` where ``values[i]`` differs from ``values[i-1]``
        (a NaN next to a number counts as a change), and ``"constant"`` (no change),
        ``"step decay"`` (changes at no more than half of the steps: ReduceLROnPlateau,
        PiecewiseConstantDecay, a staircase decay) or ``"continuous"`` (changes at most steps).
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if values.size < 2:
        return np.zeros(0, np.int64), "constant"
    same = np.isclose(values[1:], values[:-1], rtol=rtol, atol=0.0, equal_nan=True)
    changes = (np.flatnonzero(~same) + 1).astype(np.int64)
    if changes.size == 0:
        kind = "constant"
    elif changes.size <= STEP_DECAY_MAX_CHANGE_FRACTION * (values.size - 1):
        kind = "step decay"
    else:
        kind = "continuous"
    return changes, kind


@dataclass(frozen=True, eq=False)
class LearningRateSeries(ValueEquality):
    """One run's learning rate.

    Attributes:
        run: The run's name.
        tag: The tag it was read from, or None when it was worked out from the optimizer config.
        source: ``"logged"``, ``"optimizer config"`` or ``"hyperparameters"``.
        schedule: ``"logged"``, ``"constant"`` or the Keras schedule's class name.
        steps: int64 steps (epochs for per-epoch logs), sorted, one value each.
        values: float64 learning rates; NaN and Inf kept.
        change_indices: int64 indices into ``steps`` where the value differs from the previous.
        kind: ``"constant"``, ``"step decay"`` or ``"continuous"``.
        step_unit: ``"epoch"`` or ``"batch"``: what a step counts.
        description: One sentence on where the values come from.
    """

    run: str
    tag: str | None
    source: str
    schedule: str
    steps: np.ndarray
    values: np.ndarray
    change_indices: np.ndarray
    kind: str
    step_unit: str
    description: str

    @property
    def change_steps(self) -> np.ndarray:
        """The steps at which the learning rate changed."""
        return self.steps[self.change_indices]

    @property
    def first_nonfinite_step(self) -> int | None:
        return _first_nonfinite(self.steps, self.values)


@dataclass(frozen=True, eq=False)
class LearningRateInfo(ValueEquality):
    """The learning rate of each run that has one.

    Attributes:
        series: One per run (and learning-rate tag) found.
        notes: One sentence per run without a learning rate, saying why.
    """

    series: tuple[LearningRateSeries, ...]
    notes: tuple[str, ...]

    @property
    def runs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(series.run for series in self.series))


def _is_learning_rate_tag(tag: str) -> bool:
    leaf = tag.lower().rsplit("/", 1)[-1]
    if leaf.startswith("epoch_"):
        leaf = leaf[len("epoch_") :]
    return leaf in LEARNING_RATE_NAMES and not tag.lower().startswith(("val_", "validation/"))


def _series(run, tag, source, schedule, steps, values, description) -> LearningRateSeries:
    steps, values = _clean_series(steps, values)
    changes, kind = learning_rate_changes(values)
    unit = "batch" if tag is not None and "batch" in tag.lower() else "epoch"
    return LearningRateSeries(
        run, tag, source, schedule, steps, values, changes, kind, unit, description
    )


def _epochs_of(run, recording) -> np.ndarray:
    """The epochs a run logged (from its metric tags), else those its recording completed."""
    steps = [
        series.steps
        for tag, series in run.scalars.items()
        if split_tag(tag, run.name)[0] in ("train", "validation") and series.num_points
    ]
    if steps:
        return np.unique(np.concatenate(steps)).astype(np.int64)
    return np.arange(max(int(recording.epochs_completed), 0), dtype=np.int64)


def _config_learning_rate(run, recording) -> tuple[LearningRateSeries | None, str]:
    """The learning rate from a recording's optimizer config, or (None, why not)."""
    hyperparameters = recording.hyperparameters or {}
    config = hyperparameters.get("optimizer_config")
    config = config if isinstance(config, Mapping) else {}
    value = config.get("learning_rate")
    source = "optimizer config"
    if value is None and _number(hyperparameters.get("learning_rate")) is not None:
        value, source = hyperparameters["learning_rate"], "hyperparameters"
    if value is None:
        return None, f"{run.name} logged no learning rate and its recording does not name one."
    epochs = _epochs_of(run, recording)
    if epochs.size == 0:
        return None, f"{run.name} has no completed epoch to show a learning rate for."
    constant = _number(value)
    if constant is not None:
        description = f"constant {constant:g} from the {source}, not logged"
        values = np.full(epochs.shape, constant)
        return _series(run.name, None, source, "constant", epochs, values, description), ""
    try:
        name, _ = _schedule_parts(value)
        steps_per_epoch = _number((recording.params or {}).get("steps"))
        if not steps_per_epoch or steps_per_epoch <= 0:
            return None, (
                f"{run.name}'s optimizer uses a {name} schedule, but the recording does not say "
                "how many batches an epoch had, so it cannot be evaluated per epoch."
            )
        # The recorder logs the rate at each epoch's end: the schedule at the iterations done.
        values = evaluate_learning_rate_schedule(value, (epochs + 1) * steps_per_epoch)
    except InputError as error:
        return None, f"{run.name}: the optimizer's learning rate could not be evaluated. {error}"
    description = (
        f"{name} from the optimizer config, evaluated at the end of each epoch "
        f"({int(steps_per_epoch)} batches per epoch), not logged"
    )
    return _series(run.name, None, source, name, epochs, values, description), ""


def learning_rate_info(runs, recordings: Mapping | None = None) -> LearningRateInfo:
    """Each run's learning rate: logged, or worked out from its recorded optimizer config.

    A tag counts as a learning rate when its last path component, without an ``epoch_`` prefix,
    is ``learning_rate`` or ``lr`` in any case (``learning_rate``, ``epoch_learning_rate``,
    ``train/learning_rate``, a CSVLogger ``lr`` column). A NeuroGenesis run that logged none gets
    its recording's optimizer config instead: a constant, or a Keras schedule evaluated at the end
    of each epoch.

    Args:
        runs: ``neurogenesis.io.logs.Run`` objects.
        recordings: Optional ``{run name: Recording}``; by default NeuroGenesis runs' recordings
            are read from their folders when needed.

    Returns:
        A LearningRateInfo with one series per learning-rate tag (or config) and a note per run
        without one.
    """
    series, notes = [], []
    for run in runs:
        found = [
            _series(
                run.name,
                tag,
                "logged",
                "logged",
                scalar.steps,
                scalar.values,
                f"logged as {tag!r}",
            )
            for tag, scalar in run.scalars.items()
            if _is_learning_rate_tag(tag) and scalar.num_points
        ]
        if not found:
            recording = _recording_of(run, recordings)
            if recording is None:
                leaf = run.name.rsplit("/", 1)[-1].lower()
                if leaf not in VALIDATION_RUN_NAMES:  # validation logs never hold one
                    notes.append(f"{run.name} logged no learning rate.")
                continue
            config_series, why = _config_learning_rate(run, recording)
            if config_series is None:
                notes.append(why)
                continue
            found = [config_series]
        series.extend(found)
    return LearningRateInfo(tuple(series), tuple(notes))


# --------------------------------------------------------------------------------------------
# Gradient norms
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class GradientNormInfo(ValueEquality):
    """Gradient L2 norms per layer (or variable) and epoch, as the recorder logged them.

    Attributes:
        run: The run's name.
        by: ``"layer"`` or ``"variable"``.
        available: Whether the run has gradient norms at all.
        reason: Why not, when ``available`` is False; empty otherwise.
        names: Row names (layers or variable paths), in model order when known.
        variables: The variable paths of each row.
        steps: int64 steps (epochs), the columns.
        norms: float64 ``(rows, steps)``; NaN where not logged (a layer's norm is NaN at a step
            where one of its variables is missing); NaN/Inf logged values are kept.
        logged: bool ``(rows, steps)``: whether every variable of the row was logged at the
            step, which tells a logged NaN (the gradient blew up) from a gap.
        global_norms: float64 per step: ``gradient_norm/global``, or computed from the variables
            when that tag is missing.
        global_source: ``"logged"``, ``"computed"`` or ``"none"``.
        order_source: ``"model"`` (the run's first checkpoint), ``"given"`` or ``"log"`` (the
            tags' order as read, which is alphabetical).
        first_nonfinite_step: The first step where a logged norm was NaN or Inf, or None.
    """

    run: str
    by: str
    available: bool
    reason: str
    names: tuple[str, ...]
    variables: tuple[tuple[str, ...], ...]
    steps: np.ndarray
    norms: np.ndarray
    logged: np.ndarray
    global_norms: np.ndarray
    global_source: str
    order_source: str
    first_nonfinite_step: int | None = None


def _recorded_variable_order(run) -> tuple[str, ...] | None:
    """Variable paths in model order from a NeuroGenesis run's first (small) checkpoint."""
    recording = _recording_of(run, None)
    if recording is None or not recording.checkpoints:
        return None
    path = recording.checkpoints[0][1]
    try:
        if os.path.getsize(path) > MODEL_ORDER_MAX_BYTES:
            return None
        from neurogenesis.io.recordings import load_checkpoint_arrays

        return tuple(load_checkpoint_arrays(path))
    except (InputError, OSError):
        return None


def _no_gradient_reason(run) -> str:
    if run.format == "neurogenesis":
        recording = _recording_of(run, None)
        notes = [n for n in (recording.notes if recording else ()) if "gradient" in n.lower()]
        why = f" The recording says: {notes[0]}" if notes else ""
        return (
            f"{run.name} has no gradient norms: the recorder logged none (it needs probe_data "
            f"with targets and gradient_norms=True).{why}"
        )
    return (
        f"{run.name} has no gradient norms: Keras's TensorBoard callback, CSVLogger and JSON "
        "histories do not log them. Record the run with neurogenesis.RunRecorder (with "
        "probe_data that has targets) to see them."
    )


def gradient_norm_run(runs):
    """Of ``runs`` (the folders of one logical run), the first that logged gradient norms (tags
    starting with :data:`GRADIENT_NORM_PREFIX`), else the first."""
    with_norms = [r for r in runs if any(t.startswith(GRADIENT_NORM_PREFIX) for t in r.scalars)]
    return (with_norms or runs)[0]


def gradient_norm_info(
    run, by: str = "layer", variable_order: Sequence[str] | None = None
) -> GradientNormInfo:
    """The run's gradient norms as a rows x steps matrix, with the global norm.

    A layer's norm is the exact L2 norm of its concatenated gradient, ``sqrt(sum of its
    variables' squared norms)``. Rows follow the model's order: ``variable_order`` when given,
    else, for a NeuroGenesis run, the order of the variables in its first checkpoint (read when it
    is at most 64 MiB), else the order of the tags as read (alphabetical: logs do not keep model
    order).

    Args:
        run: A ``neurogenesis.io.logs.Run``.
        by: ``"layer"`` (variables grouped by :func:`layer_of`) or ``"variable"``.
        variable_order: Variable paths (or layer names) in model order.

    Returns:
        A GradientNormInfo; ``available`` is False, with a ``reason``, when the run has none.

    Raises:
        InputError: An unknown ``by``.
    """
    _check_by(by)
    per_variable: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    global_series = None
    first_bad = None
    for tag, series in run.scalars.items():
        if not tag.lower().startswith(GRADIENT_NORM_PREFIX) or not series.num_points:
            continue
        name = tag[len(GRADIENT_NORM_PREFIX) :]
        cleaned = _clean_series(series.steps, series.values)
        bad = _first_nonfinite(*cleaned)
        if bad is not None:
            first_bad = bad if first_bad is None else min(first_bad, bad)
        if name == GLOBAL_GRADIENT_NORM:
            global_series = cleaned
        elif name:
            per_variable[name] = cleaned
    empty = np.zeros(0, np.float64)
    if not per_variable and global_series is None:
        return GradientNormInfo(
            run.name,
            by,
            False,
            _no_gradient_reason(run),
            (),
            (),
            np.zeros(0, np.int64),
            np.zeros((0, 0)),
            np.zeros((0, 0), dtype=bool),
            empty,
            "none",
            "log",
        )
    order_source = "log"
    if variable_order is not None:
        order_source = "given"
    elif run.format == "neurogenesis" and per_variable:
        variable_order = _recorded_variable_order(run)
        order_source = "model" if variable_order is not None else "log"
    position = {name: index for index, name in enumerate(variable_order or ())}
    logged = list(per_variable)

    def rank(variable: str) -> tuple[int, int]:
        known = position.get(variable, position.get(layer_of(variable)))
        return (0, known) if known is not None else (1, logged.index(variable))

    variables = sorted(per_variable, key=rank)
    all_steps = [s for s, _ in per_variable.values()]
    if global_series is not None:
        all_steps.append(global_series[0])
    steps = np.unique(np.concatenate(all_steps)).astype(np.int64)
    variable_norms = np.full((len(variables), steps.size), np.nan)
    present = np.zeros((len(variables), steps.size), dtype=bool)
    for row, variable in enumerate(variables):
        s, v = per_variable[variable]
        columns = np.searchsorted(steps, s)
        variable_norms[row, columns] = v
        present[row, columns] = True
    groups: dict[str, list[int]] = {}
    for row, variable in enumerate(variables):
        groups.setdefault(layer_of(variable) if by == "layer" else variable, []).append(row)
    with np.errstate(invalid="ignore", over="ignore"):
        norms = np.empty((len(groups), steps.size))
        logged = np.empty((len(groups), steps.size), dtype=bool)
        for index, rows in enumerate(groups.values()):
            squared = np.sum(np.square(variable_norms[rows]), axis=0)
            logged[index] = present[rows].all(axis=0)
            norms[index] = np.where(logged[index], np.sqrt(squared), np.nan)
        if global_series is not None:
            global_norms = np.full(steps.size, np.nan)
            global_norms[np.searchsorted(steps, global_series[0])] = global_series[1]
            global_source = "logged"
        else:
            squared = np.sum(np.square(variable_norms), axis=0)
            global_norms = np.where(present.all(axis=0), np.sqrt(squared), np.nan)
            global_source = "computed"
    return GradientNormInfo(
        run.name,
        by,
        True,
        "",
        tuple(groups),
        tuple(tuple(variables[row] for row in rows) for rows in groups.values()),
        steps,
        norms,
        logged,
        global_norms,
        global_source,
        order_source,
        first_bad,
    )


# --------------------------------------------------------------------------------------------
# Weight evolution from checkpoints
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class WeightEvolutionInfo(ValueEquality):
    """How far and in which direction the weights moved between checkpoints.

    ``G`` rows (layers or variables), ``T`` checkpoints. Update ``k`` is ``W_k - W_{k-1}``, the
    change between two consecutive checkpoints; with thinned checkpoints one "update" spans
    several epochs (``update_epochs`` says which). Whole-model values treat all selected weights
    as one vector.

    Attributes:
        by: ``"layer"`` or ``"variable"``.
        names: Row names, in model order (the checkpoints' variable order).
        variables: The variable paths of each row.
        num_parameters: int64 ``(G,)`` weights per row.
        epochs: int64 ``(T,)`` checkpoint epochs, sorted (-1 = before training).
        initial_epoch: The reference checkpoint: epoch -1 when present, else the earliest.
        norms: ``(G, T)`` L2 norm ``||W_t||``.
        distances: ``(G, T)`` ``||W_t - W_init||``.
        relative_distances: ``(G, T)`` ``distances / ||W_init||``; NaN where ``W_init`` is all
            zero (a bias that starts at zero).
        update_epochs: int64 ``(T-1, 2)``: ``[from, to]`` epochs of each update.
        update_norms: ``(G, T-1)`` ``||W_k - W_{k-1}||``.
        cosine_epochs: int64 ``(T-2, 3)``: ``[e_{k-1}, e_k, e_{k+1}]``, the two updates compared.
        update_cosines: ``(G, T-2)`` ``cos(update_k, update_{k+1})``: +1 the same direction
            twice, 0 unrelated, -1 straight back (oscillation); NaN where an update is zero or
            not finite.
        model_norms, model_distances, model_relative_distances: ``(T,)`` for the whole model.
        model_update_norms: ``(T-1,)``; model_update_cosines: ``(T-2,)``.
        notes: Variables left out (missing in a checkpoint, shape changed) and weights that
            became NaN/Inf.
    """

    by: str
    names: tuple[str, ...]
    variables: tuple[tuple[str, ...], ...]
    num_parameters: np.ndarray
    epochs: np.ndarray
    initial_epoch: int
    norms: np.ndarray
    distances: np.ndarray
    relative_distances: np.ndarray
    update_epochs: np.ndarray
    update_norms: np.ndarray
    cosine_epochs: np.ndarray
    update_cosines: np.ndarray
    model_norms: np.ndarray
    model_distances: np.ndarray
    model_relative_distances: np.ndarray
    model_update_norms: np.ndarray
    model_update_cosines: np.ndarray
    notes: tuple[str, ...]

    @property
    def first_nonfinite_epoch(self) -> int | None:
        """The first checkpoint whose weights hold NaN or Inf (a diverged run), or None."""
        return _first_nonfinite(self.epochs, self.model_norms)


def _as_checkpoints(epochs, arrays_per_checkpoint) -> tuple[np.ndarray, list[Mapping]]:
    arrays = list(arrays_per_checkpoint)
    epochs = np.asarray(epochs).reshape(-1)
    if epochs.size != len(arrays):
        raise InputError(
            f"Expected one epoch per checkpoint. Received {epochs.size} epochs and "
            f"{len(arrays)} checkpoints."
        )
    if not arrays:
        raise InputError("Expected at least one checkpoint. Received none.")
    if epochs.dtype.kind not in "iu" and not np.all(np.equal(np.mod(epochs, 1), 0)):
        raise InputError(f"Expected whole-number epochs. Received: {epochs.tolist()}")
    epochs = epochs.astype(np.int64)
    if np.unique(epochs).size != epochs.size:
        raise InputError(f"Expected each epoch once. Received: {epochs.tolist()}")
    for item in arrays:
        if not isinstance(item, Mapping):
            raise InputError(
                "Expected one {variable path: array} mapping per checkpoint. "
                f"Received: {type(item).__name__}"
            )
    order = np.argsort(epochs, kind="stable")
    return epochs[order], [arrays[i] for i in order]


def _common_variables(
    epochs: np.ndarray, checkpoints: list[Mapping], keep
) -> tuple[list[str], list[str]]:
    """Variables present with one shape in every checkpoint, in first-seen order, and notes."""
    seen: dict[str, None] = {}
    for checkpoint in checkpoints:
        for path, array in checkpoint.items():
            if keep(path, array):
                seen.setdefault(path, None)
    common, notes = [], []
    for path in seen:
        missing = [int(e) for e, c in zip(epochs, checkpoints, strict=True) if path not in c]
        if missing:
            notes.append(
                f"Left out {path}: it is missing at epoch{'s' if len(missing) > 1 else ''} "
                f"{', '.join(map(str, missing))}."
            )
            continue
        shapes = [np.shape(c[path]) for c in checkpoints]
        changed = next((i for i, shape in enumerate(shapes) if shape != shapes[0]), None)
        if changed is not None:
            notes.append(
                f"Left out {path}: its shape changed from {shapes[0]} to {shapes[changed]} at "
                f"epoch {int(epochs[changed])}."
            )
            continue
        common.append(path)
    return common, notes


def _safe_cosine(dots, squared_a, squared_b) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        denominator = np.sqrt(squared_a) * np.sqrt(squared_b)
        ok = np.isfinite(dots) & np.isfinite(denominator) & (denominator > 0)
        cosine = np.where(ok, dots / np.where(ok, denominator, 1.0), np.nan)
    return np.clip(cosine, -1.0, 1.0)


def weight_evolution_info(
    epochs,
    arrays_per_checkpoint,
    by: str = "layer",
    *,
    include_non_trainable: bool = False,
    optimizer_name: str | None = None,
) -> WeightEvolutionInfo:
    """Weight norms, distance from initialization and update directions per layer over checkpoints.

    The reference ``W_init`` is the checkpoint at epoch -1 (before training) when present, else
    the earliest one. The cosine of successive updates compares ``W_k - W_{k-1}`` with
    ``W_{k+1} - W_k`` for consecutive checkpoints; with thinned checkpoints (epochs -1, 0, 1, 3,
    5, ...) an update spans several epochs, and the info carries the epoch pairs. A zero update
    makes the cosine undefined (NaN); NaN weights (a diverged run) give NaN, not an error.

    Args:
        epochs: One epoch per checkpoint.
        arrays_per_checkpoint: One ``{variable path: array}`` per checkpoint, as
            ``neurogenesis.io.recordings.load_checkpoint_arrays`` returns.
        by: ``"layer"`` (variables grouped by :func:`layer_of`) or ``"variable"``.
        include_non_trainable: Keep BatchNormalization's moving statistics (see
            :func:`is_model_weight`).
        optimizer_name: The optimizer's name, so its variables are left out even under a
            custom name.

    Returns:
        A WeightEvolutionInfo; variables missing in some checkpoint or whose shape changed are
        left out with a note.

    Raises:
        InputError: Mismatched or repeated epochs, no checkpoint, or no model weight in common.
    """
    _check_by(by)
    epochs, checkpoints = _as_checkpoints(epochs, arrays_per_checkpoint)

    def keep(path, array):
        return is_model_weight(
            path,
            array,
            optimizer_name=optimizer_name,
            include_non_trainable=include_non_trainable,
        )

    variables, notes = _common_variables(epochs, checkpoints, keep)
    if not variables:
        raise InputError(
            "Expected model weights present in every checkpoint. Received none "
            f"(epochs {epochs.tolist()}). {' '.join(notes)}".strip()
        )
    groups: dict[str, list[int]] = {}
    for index, path in enumerate(variables):
        groups.setdefault(layer_of(path) if by == "layer" else path, []).append(index)
    count = epochs.size
    num_updates, num_pairs = max(count - 1, 0), max(count - 2, 0)
    squared_norm = np.zeros((len(variables), count))
    squared_distance = np.zeros((len(variables), count))
    squared_update = np.zeros((len(variables), num_updates))
    dots = np.zeros((len(variables), num_pairs))
    sizes = np.zeros(len(variables), np.int64)
    nonfinite: dict[str, int] = {}
    with np.errstate(invalid="ignore", over="ignore"):
        for index, path in enumerate(variables):
            flat = [np.asarray(c[path], dtype=np.float64).reshape(-1) for c in checkpoints]
            sizes[index] = flat[0].size
            initial = flat[0]
            previous_update = None
            for t, weights in enumerate(flat):
                squared_norm[index, t] = np.dot(weights, weights)
                difference = weights - initial
                squared_distance[index, t] = np.dot(difference, difference)
                if path not in nonfinite and not np.isfinite(weights).all():
                    nonfinite[path] = int(epochs[t])
                if t:
                    update = weights - flat[t - 1]
                    squared_update[index, t - 1] = np.dot(update, update)
                    if previous_update is not None:
                        dots[index, t - 2] = np.dot(previous_update, update)
                    previous_update = update
        rows = list(groups.values())

        def per_group(matrix):
            return np.stack([matrix[r].sum(axis=0) for r in rows]) if rows else matrix

        group_norm2, group_distance2 = per_group(squared_norm), per_group(squared_distance)
        group_update2, group_dots = per_group(squared_update), per_group(dots)
        model_norm2, model_distance2 = squared_norm.sum(axis=0), squared_distance.sum(axis=0)
        model_update2, model_dots = squared_update.sum(axis=0), dots.sum(axis=0)

        def relative(distance2, norm2):
            initial = np.sqrt(norm2[..., :1])
            return np.where(
                initial > 0, np.sqrt(distance2) / np.where(initial > 0, initial, 1), np.nan
            )

        update_cosines = _safe_cosine(group_dots, group_update2[:, :-1], group_update2[:, 1:])
        model_cosines = _safe_cosine(model_dots, model_update2[:-1], model_update2[1:])
        info = WeightEvolutionInfo(
            by=by,
            names=tuple(groups),
            variables=tuple(tuple(variables[i] for i in r) for r in rows),
            num_parameters=np.array([sizes[r].sum() for r in rows], dtype=np.int64),
            epochs=epochs,
            initial_epoch=int(epochs[0]),
            norms=np.sqrt(group_norm2),
            distances=np.sqrt(group_distance2),
            relative_distances=relative(group_distance2, group_norm2),
            update_epochs=np.stack([epochs[:-1], epochs[1:]], axis=1).reshape(-1, 2),
            update_norms=np.sqrt(group_update2),
            cosine_epochs=np.stack([epochs[:-2], epochs[1:-1], epochs[2:]], axis=1).reshape(-1, 3),
            update_cosines=update_cosines,
            model_norms=np.sqrt(model_norm2),
            model_distances=np.sqrt(model_distance2),
            model_relative_distances=relative(model_distance2, model_norm2),
            model_update_norms=np.sqrt(model_update2),
            model_update_cosines=model_cosines,
            notes=(),
        )
    for path, epoch in nonfinite.items():
        notes.append(f"{path} holds NaN or Inf from epoch {epoch} on (the run diverged).")
    if count < 3:
        notes.append(
            "Update directions need at least three checkpoints; "
            f"this run has {count}, so no cosine is shown."
        )
    return replace(info, notes=tuple(notes))


def _optimizer_name(recording) -> str | None:
    config = (recording.hyperparameters or {}).get("optimizer_config")
    name = config.get("name") if isinstance(config, Mapping) else None
    return name if isinstance(name, str) else None


def _load_checkpoints(recording) -> tuple[list[int], list[dict], list[str]]:
    from neurogenesis.io.recordings import load_checkpoint_arrays

    if not recording.checkpoints:
        raise InputError(
            f"Expected weight checkpoints in '{recording.path}'. Received none: the run was "
            "recorded with checkpoint_freq=0 or before its first epoch ended."
        )
    epochs, arrays, notes = [], [], []
    for epoch, path in recording.checkpoints:
        try:
            arrays.append(load_checkpoint_arrays(path))
        except InputError as error:
            notes.append(f"Skipped the checkpoint of epoch {epoch}: {error}")
            continue
        epochs.append(int(epoch))
    if not arrays:
        raise InputError(
            f"None of the checkpoints in '{recording.path}' could be read. {' '.join(notes)}"
        )
    return epochs, arrays, notes


def weight_evolution_from_recording(
    recording, by: str = "layer", *, include_non_trainable: bool = False
) -> WeightEvolutionInfo:
    """:func:`weight_evolution_info` on a NeuroGenesis recording's checkpoints.

    All checkpoints are held in memory at once (the recorder keeps at most ``max_checkpoints``).
    A checkpoint that cannot be read is skipped with a note.

    Args:
        recording: A ``neurogenesis.io.recordings.Recording``.
        by: ``"layer"`` or ``"variable"``.
        include_non_trainable: Keep BatchNormalization's moving statistics.

    Returns:
        A WeightEvolutionInfo.

    Raises:
        InputError: No checkpoint, none readable, or no model weight in common.
    """
    _check_by(by)
    epochs, arrays, notes = _load_checkpoints(recording)
    info = weight_evolution_info(
        epochs,
        arrays,
        by,
        include_non_trainable=include_non_trainable,
        optimizer_name=_optimizer_name(recording),
    )
    return replace(info, notes=tuple(notes) + info.notes)


# --------------------------------------------------------------------------------------------
# Individual weights over time
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class WeightTrajectoryInfo(ValueEquality):
    """Chosen weights of one variable over the checkpoints.

    Attributes:
        variable: The variable path.
        shape: Its shape.
        epochs: int64 ``(T,)`` checkpoint epochs, sorted.
        flat_indices: int64 ``(n,)`` positions in the flattened variable.
        labels: ``"conv_1/kernel[0,2,0,5]"`` per weight.
        values: float64 ``(n, T)``.
        movement: float64 ``(n,)`` ``|W_last - W_init|`` (Inf when not finite).
        selected_by: ``"largest movement"`` or ``"given"``.
    """

    variable: str
    shape: tuple[int, ...]
    epochs: np.ndarray
    flat_indices: np.ndarray
    labels: tuple[str, ...]
    values: np.ndarray
    movement: np.ndarray
    selected_by: str


def _flat_indices(indices, shape: tuple[int, ...], variable: str) -> np.ndarray:
    size = int(np.prod(shape, dtype=np.int64))
    flat = []
    for index in indices:
        if isinstance(index, tuple | list | np.ndarray) and np.ndim(index) == 1:
            position = tuple(int(i) for i in index)
            if len(position) != len(shape) or any(
                not 0 <= p < n for p, n in zip(position, shape, strict=True)
            ):
                raise InputError(
                    f"Expected an index into {variable} of shape {shape}. Received: {position}"
                )
            flat.append(int(np.ravel_multi_index(position, shape)))
        else:
            if isinstance(index, bool) or not isinstance(index, int | np.integer):
                raise InputError(f"Expected whole-number indices. Received: {index!r}")
            if not 0 <= int(index) < size:
                raise InputError(
                    f"Expected flat indices from 0 to {size - 1} for {variable} ({size} weights). "
                    f"Received: {int(index)}"
                )
            flat.append(int(index))
    return np.asarray(flat, dtype=np.int64)


def weight_trajectories(
    epochs,
    arrays_per_checkpoint,
    variable: str,
    indices=None,
    count: int = DEFAULT_TRAJECTORIES,
) -> WeightTrajectoryInfo:
    """Individual weights of ``variable`` over the checkpoints.

    Args:
        epochs: One epoch per checkpoint.
        arrays_per_checkpoint: One ``{variable path: array}`` per checkpoint.
        variable: The variable path, e.g. ``"conv_1/kernel"``.
        indices: Flat indices, or multi-dimensional index tuples, of the weights to follow.
            Default: the ``count`` weights that moved most, ``|W_last - W_init|`` largest (a weight
            that became NaN/Inf counts as moved most; ties go to the lower index).
        count: How many weights to pick when ``indices`` is None.

    Returns:
        A WeightTrajectoryInfo.

    Raises:
        InputError: The variable is missing in a checkpoint or changes shape, bad indices or count.
    """
    epochs, checkpoints = _as_checkpoints(epochs, arrays_per_checkpoint)
    missing = [int(e) for e, c in zip(epochs, checkpoints, strict=True) if variable not in c]
    if missing:
        available = ", ".join(list(checkpoints[0])[:12])
        raise InputError(
            f"Expected {variable!r} in every checkpoint. It is missing at epochs {missing}; "
            f"the first checkpoint has: {available}."
        )
    stacked = [np.asarray(c[variable]) for c in checkpoints]
    shape = tuple(int(n) for n in stacked[0].shape)
    if any(array.shape != stacked[0].shape for array in stacked):
        raise InputError(
            f"Expected {variable!r} to keep its shape. Received shapes "
            f"{sorted({a.shape for a in stacked})}."
        )
    if not shape:
        raise InputError(f"Expected a weight tensor. Received: {variable!r} is a scalar.")
    matrix = np.stack([a.reshape(-1).astype(np.float64) for a in stacked], axis=1)
    with np.errstate(invalid="ignore", over="ignore"):
        movement = np.abs(matrix[:, -1] - matrix[:, 0])
    movement = np.where(np.isfinite(movement), movement, np.inf)
    if indices is None:
        if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 1:
            raise InputError(f"Expected a positive whole-number count. Received: {count!r}")
        flat = np.argsort(-movement, kind="stable")[: int(count)].astype(np.int64)
        selected_by = "largest movement"
    else:
        flat = _flat_indices(list(indices), shape, variable)
        selected_by = "given"
    labels = tuple(
        f"{variable}[{','.join(str(int(i)) for i in np.unravel_index(f, shape))}]" for f in flat
    )
    return WeightTrajectoryInfo(
        variable, shape, epochs, flat, labels, matrix[flat], movement[flat], selected_by
    )


def weight_trajectories_from_recording(
    recording, variable: str, indices=None, count: int = DEFAULT_TRAJECTORIES
) -> WeightTrajectoryInfo:
    """:func:`weight_trajectories` on a NeuroGenesis recording's checkpoints (unreadable ones
    skipped)."""
    epochs, arrays, _ = _load_checkpoints(recording)
    return weight_trajectories(epochs, arrays, variable, indices, count)


# --------------------------------------------------------------------------------------------
# Optimizer comparison
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class OptimizerRun(ValueEquality):
    """One run in an optimizer comparison.

    Series are sorted by step with one value each (empty arrays when not logged).

    Attributes:
        run: The run's name (Keras's ``train``/``validation`` sub-runs are merged into their
            parent).
        label: A legend label: the optimizer and learning rate, else the run's name.
        optimizer: The optimizer's name (``"adam"``), or None.
        learning_rate: The configured (initial) learning rate, or None.
        train_steps, train_values: The training metric.
        validation_steps, validation_values: The validation metric.
        gradient_steps, gradient_norms: ``gradient_norm/global``.
        learning_rate_steps, learning_rates: The learning rate per epoch.
        learning_rate_source: ``"logged"``, ``"optimizer config"``, ``"hyperparameters"`` or
            None.
        best_role: ``"validation"`` when a validation series exists, else ``"train"``, else None:
            the series the summary's best value comes from.
        best_value: Its best finite value (NaN if none).
        best_epoch: The step of the best value, or None.
        final_train: The training metric's last value (NaN/Inf kept; NaN when not logged).
        epochs_to_near_best: How many logged epochs it took to come within 5% of its own best:
            the position (1-based, in step order) of the first value ``v`` of the ``best_role``
            series with ``|v - best| <= 0.05 * |best|``; None if no finite value.
        near_best_epoch: The step of that value, or None.
        diverged_epoch: The first step where the training or validation metric was NaN/Inf,
            or None.
    """

    run: str
    label: str
    optimizer: str | None
    learning_rate: float | None
    train_steps: np.ndarray
    train_values: np.ndarray
    validation_steps: np.ndarray
    validation_values: np.ndarray
    gradient_steps: np.ndarray
    gradient_norms: np.ndarray
    learning_rate_steps: np.ndarray
    learning_rates: np.ndarray
    learning_rate_source: str | None
    best_role: str | None
    best_value: float
    best_epoch: int | None
    final_train: float
    epochs_to_near_best: int | None
    near_best_epoch: int | None
    diverged_epoch: int | None


@dataclass(frozen=True, eq=False)
class OptimizerComparisonInfo(ValueEquality):
    """Several runs side by side on one metric.

    Attributes:
        metric: The metric compared, e.g. ``"loss"``.
        goal: ``"min"`` or ``"max"``.
        runs: One OptimizerRun per run, in the order given.
        notes: Runs left out (no series of the metric) and other remarks.
    """

    metric: str
    goal: str
    runs: tuple[OptimizerRun, ...]
    notes: tuple[str, ...]

    def summary_rows(self) -> list[dict]:
        """One plain dict per run for a table (keys are the same for every row)."""
        rows = []
        for entry in self.runs:
            rows.append(
                {
                    "run": entry.run,
                    "optimizer": entry.label,
                    "learning rate": entry.learning_rate,
                    f"best {self.metric}": None
                    if math.isnan(entry.best_value)
                    else entry.best_value,
                    "best on": entry.best_role,
                    "best epoch": entry.best_epoch,
                    f"final train {self.metric}": None
                    if math.isnan(entry.final_train)
                    else entry.final_train,
                    f"epochs to within {NEAR_BEST_TOLERANCE:.0%} of best": (
                        entry.epochs_to_near_best
                    ),
                    "diverged at epoch": entry.diverged_epoch,
                }
            )
        return rows


def _optimizer_facts(hyperparameters) -> tuple[str | None, float | None]:
    if not isinstance(hyperparameters, Mapping):
        return None, None
    config = hyperparameters.get("optimizer_config")
    config = config if isinstance(config, Mapping) else {}
    name = hyperparameters.get("optimizer") or config.get("name")
    name = _strip_counter(name) if isinstance(name, str) and name else None
    rate = _number(hyperparameters.get("learning_rate"))
    if rate is None:
        rate = _number(config.get("learning_rate"))
        if rate is None and isinstance(config.get("learning_rate"), Mapping):
            rate = _number(config["learning_rate"].get("config", {}).get("initial_learning_rate"))
    return name, rate


def _label(name: str | None, rate: float | None, fallback: str) -> str:
    if name is None:
        return fallback
    label = OPTIMIZER_DISPLAY_NAMES.get(name.lower(), name)
    return f"{label}, lr {rate:g}" if rate is not None else label


def _best(steps, values, goal) -> tuple[float, int | None, int | None, int | None]:
    finite = np.isfinite(values)
    if not finite.any():
        return math.nan, None, None, None
    masked = np.where(finite, values, np.inf if goal == "min" else -np.inf)
    index = int(np.argmin(masked) if goal == "min" else np.argmax(masked))
    best = float(values[index])
    margin = NEAR_BEST_TOLERANCE * abs(best)
    with np.errstate(invalid="ignore"):
        near = finite & (values <= best + margin if goal == "min" else values >= best - margin)
    first = int(np.flatnonzero(near)[0])
    return best, int(steps[index]), first + 1, int(steps[first])


def _distinct_labels(entries: list[OptimizerRun]) -> list[OptimizerRun]:
    """Labels shared by several runs get the run's last name part (or its full name) added."""
    labels = [entry.label for entry in entries]
    leaves = [entry.run.rsplit("/", 1)[-1] for entry in entries]
    result = []
    for entry, leaf in zip(entries, leaves, strict=True):
        if labels.count(entry.label) > 1 and entry.label != entry.run:
            clashing = [
                other for other, label in zip(leaves, labels, strict=True) if label == entry.label
            ]
            suffix = leaf if clashing.count(leaf) == 1 else entry.run
            entry = replace(entry, label=f"{entry.label} ({suffix})")
        result.append(entry)
    return result


def optimizer_comparison_info(
    runs,
    hyperparameters: Mapping[str, Mapping] | None = None,
    metric: str = "loss",
    goal: str | None = None,
) -> OptimizerComparisonInfo:
    """Runs side by side: metric curves, global gradient norm, learning rate and a summary each.

    Keras's TensorBoard callback writes ``<run>/train`` and ``<run>/validation``; those are
    merged into one entry named ``<run>``.

    Args:
        runs: ``neurogenesis.io.logs.Run`` objects, e.g. ``digits_cnn/adam``, ``/sgd``,
            ``/rmsprop``.
        hyperparameters: Optional ``{run name: hyperparameters}``; by default NeuroGenesis runs'
            recorded hyperparameters are read. Labels come from ``optimizer`` /
            ``optimizer_config`` and ``learning_rate``, else the run's name.
        metric: The metric to compare (see ``neurogenesis.analysis.training.metric_names``).
        goal: ``"min"`` or ``"max"``; by default ``analysis.convergence.metric_goal`` of the
            metric (``"max"`` for accuracy-like names), else ``"min"``.

    Returns:
        An OptimizerComparisonInfo; ``summary_rows()`` gives the table.

    Raises:
        InputError: An unknown ``goal``.
    """
    goal = goal or metric_goal(metric) or "min"
    if goal not in ("min", "max"):
        raise InputError(f"Expected goal 'min' or 'max'. Received: {goal!r}")
    groups: dict[str, list] = {}
    for run in runs:
        groups.setdefault(logical_run_name(run.name), []).append(run)
    entries, notes = [], []
    empty_steps, empty_values = np.zeros(0, np.int64), np.zeros(0, np.float64)
    for name, members in groups.items():
        found: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        gradient = (empty_steps, empty_values)
        for run in members:
            for tag, series in run.scalars.items():
                if not series.num_points:
                    continue
                if tag.lower() == GRADIENT_NORM_PREFIX + GLOBAL_GRADIENT_NORM:
                    gradient = _clean_series(series.steps, series.values)
                    continue
                role, tag_metric = split_tag(tag, run.name)
                if tag_metric == metric and role in ("train", "validation"):
                    found.setdefault(role, _clean_series(series.steps, series.values))
        if not found:
            notes.append(f"{name} has no {metric} series, so it is left out.")
            continue
        facts = None
        if hyperparameters is not None and name in hyperparameters:
            facts = hyperparameters[name]
        else:
            recording = next(
                (r for r in (_recording_of(m, None) for m in members) if r is not None), None
            )
            facts = recording.hyperparameters if recording is not None else None
        optimizer, rate = _optimizer_facts(facts)
        rates = learning_rate_info(members).series
        train = found.get("train", (empty_steps, empty_values))
        validation = found.get("validation", (empty_steps, empty_values))
        best_role = "validation" if "validation" in found else "train"
        best, best_epoch, to_near, near_epoch = _best(*found[best_role], goal)
        diverged = [
            step
            for step in (_first_nonfinite(*train), _first_nonfinite(*validation))
            if step is not None
        ]
        entries.append(
            OptimizerRun(
                run=name,
                label=_label(optimizer, rate, name),
                optimizer=optimizer,
                learning_rate=rate,
                train_steps=train[0],
                train_values=train[1],
                validation_steps=validation[0],
                validation_values=validation[1],
                gradient_steps=gradient[0],
                gradient_norms=gradient[1],
                learning_rate_steps=rates[0].steps if rates else empty_steps,
                learning_rates=rates[0].values if rates else empty_values,
                learning_rate_source=rates[0].source if rates else None,
                best_role=best_role,
                best_value=best,
                best_epoch=best_epoch,
                final_train=float(train[1][-1]) if train[1].size else math.nan,
                epochs_to_near_best=to_near,
                near_best_epoch=near_epoch,
                diverged_epoch=min(diverged) if diverged else None,
            )
        )
    entries = _distinct_labels(entries)
    return OptimizerComparisonInfo(metric, goal, tuple(entries), tuple(notes))
