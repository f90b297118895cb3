"""Hyperparameter trials: sweeps, CSV tables, Optuna studies and TensorBoard HParams logs.

Every source ends up as one :class:`Trials`: one entry per trial, the hyperparameters it ran with
and the metrics it reached. Four readers, chosen by :func:`read_trials` from what the path is:

* a zoo sweep (``data/sweeps/<scenario>/sweep.json``, or its folder): final metric values;
* a CSV file, one row per trial (Optuna's ``study.trials_dataframe().to_csv()`` included);
* an Optuna study in SQLite storage, read with the standard ``sqlite3`` module, read-only (Optuna
  itself is not needed);
* a TensorBoard HParams log folder: the ``hparams`` summaries written by
  ``tensorboard.plugins.hparams.api`` and the scalars beside them (final value of each).

In-memory tables enter through :func:`trials_from_frame` (a pandas DataFrame) and
:func:`trials_from_records` (a list of dicts, one per trial).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import re
import sqlite3
import struct
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.request import pathname2url

import numpy as np

from neurogenesis.errors import InputError
from neurogenesis.io.run_folder import SWEEP_FILE

__all__ = [
    "GOALS",
    "STATES",
    "Trials",
    "find_trial_sources",
    "guess_goal",
    "list_studies",
    "read_trials",
    "trials_from_frame",
    "trials_from_records",
]

GOALS = ("max", "min")
STATES = ("complete", "failed", "pruned", "running", "waiting", "unknown")
SQLITE_MAGIC = b"SQLite format 3\x00"
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
MAX_FILE_BYTES = 256 * 1024**2
MAX_TRIALS = 200_000
MAX_EVENT_FILES = 20_000
MISSING_TEXT = ("", "na", "nan", "none", "null", "n/a")
PARAMETER_PREFIXES = ("params_", "param_", "hp_")
USER_ATTR_PREFIX = "user_attrs_"
NAME_COLUMNS = ("name", "run", "run_name", "trial", "trial_id", "number", "id")
STATE_COLUMNS = ("state", "status")
IGNORED_COLUMNS = ("datetime_start", "datetime_complete", "duration", "")
IGNORED_PREFIXES = ("system_attrs_", "unnamed:")
# A CSV column is numeric when this share of its filled cells parse as numbers; the rest are the
# "bad rows" that get skipped.
NUMERIC_SHARE = 0.8
HPARAMS_PLUGIN = "hparams"
HPARAMS_MARKER = b"_hparams_"
VALIDATION_FOLDER = "validation"
TRAIN_FOLDER = "train"
EXPECTED_TRIALS = (
    "a sweep folder or sweep.json, a CSV file of trials (one row per trial), an Optuna SQLite "
    "study (.db) or a TensorBoard HParams log folder"
)

_STATE_NAMES = {
    "complete": "complete",
    "completed": "complete",
    "finished": "complete",
    "success": "complete",
    "succeeded": "complete",
    "ok": "complete",
    "fail": "failed",
    "failed": "failed",
    "failure": "failed",
    "error": "failed",
    "pruned": "pruned",
    "running": "running",
    "waiting": "waiting",
    "queued": "waiting",
}
# Words that make a column a metric (not a hyperparameter) and words that make a metric "min".
_METRIC_WORDS = re.compile(
    r"(loss|acc|accuracy|metric|value|values|score|error|err|mae|mse|rmse|auc|f1|precision|"
    r"recall|perplexity|objective|reward|iou|dice|r2|psnr|ssim|mape|top\d*)",
)
_MIN_WORDS = re.compile(r"(loss|error|err|mae|mse|rmse|mape|perplexity|distance|regret)")


def _words(name: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name)).lower()
    return [word for word in re.split(r"[^a-z0-9]+", spaced) if word]


def guess_goal(metric: str) -> str:
    """``"min"`` for names with loss/error/mae/mse-like words, else ``"max"``."""
    return "min" if any(_MIN_WORDS.fullmatch(w) for w in _words(metric)) else "max"


def _looks_like_metric(name: str) -> bool:
    return any(_METRIC_WORDS.fullmatch(w) for w in _words(name)) or str(name).startswith("val_")


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array, copy=True)
    array.flags.writeable = False
    return array


def _same_array(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape or a.dtype.kind != b.dtype.kind:
        return False
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))


@dataclass(frozen=True, eq=False)
class Trials:
    """One hyperparameter search: per trial, its parameters, metrics, name and state.

    Attributes:
        parameters: parameter names, in source order.
        metrics: metric names, in source order.
        parameter_values: per parameter, one value per trial: float64 (NaN where a trial has no
            value) for numeric parameters, an object array of ``str`` (None where missing) for
            categorical ones.
        categories: per categorical parameter, its categories in order (Optuna's choices, else
            first appearance).
        metric_values: per metric, float64, one per trial; NaN where failed or missing.
        names: trial names (run names, Optuna trial numbers, CSV row ids), ``str``.
        states: one of :data:`STATES` per trial.
        goals: ``"max"`` or ``"min"`` per metric (known from the source or guessed from the name).
        metric: the default metric (the sweep's metric, Optuna's first objective, ...).
        source: where the trials came from, in words.
        notes: what was skipped or guessed, and why.
        planned: for a sweep, how many points it plans (a sweep being written may have fewer);
            else None.
        status: for a sweep, ``"running"``, ``"finished"`` or ``"failed"`` when it says; else None.
    """

    parameters: tuple[str, ...]
    metrics: tuple[str, ...]
    parameter_values: dict[str, np.ndarray]
    categories: dict[str, tuple[str, ...]]
    metric_values: dict[str, np.ndarray]
    names: np.ndarray
    states: np.ndarray
    goals: dict[str, str]
    metric: str
    source: str
    notes: tuple[str, ...] = ()
    planned: int | None = None
    status: str | None = None

    def __post_init__(self):
        frozen = {}
        for name in self.parameters:
            values = self.parameter_values[name]
            kind = object if name in self.categories else np.float64
            frozen[name] = _frozen(np.asarray(values, dtype=kind))
        object.__setattr__(self, "parameter_values", frozen)
        object.__setattr__(
            self,
            "metric_values",
            {m: _frozen(np.asarray(self.metric_values[m], np.float64)) for m in self.metrics},
        )
        object.__setattr__(self, "names", _frozen(np.asarray(self.names, dtype=str)))
        object.__setattr__(self, "states", _frozen(np.asarray(self.states, dtype=str)))
        object.__setattr__(self, "notes", tuple(self.notes))

    def __len__(self) -> int:
        return int(self.names.shape[0])

    @property
    def num_trials(self) -> int:
        return len(self)

    def is_categorical(self, parameter: str) -> bool:
        """Whether ``parameter`` takes text values (optimizer names, activations...)."""
        return parameter in self.categories

    def complete(self, metric: str | None = None) -> np.ndarray:
        """Boolean mask of trials that completed with a finite ``metric`` (default metric)."""
        values = self.metric_values[metric or self.metric]
        return (self.states == "complete") & np.isfinite(values)

    def with_goal(self, metric: str, goal: str) -> Trials:
        """A copy where ``metric`` is to be maximised (``"max"``) or minimised (``"min"``)."""
        if metric not in self.metrics:
            raise InputError(
                f"Expected one of the metrics {list(self.metrics)}. Received: {metric!r}."
            )
        if goal not in GOALS:
            raise InputError(f"Expected goal 'max' or 'min'. Received: {goal!r}.")
        return replace(self, goals={**self.goals, metric: goal})

    def to_frame(self):
        """The trials as a pandas DataFrame: name, state, parameters, then metrics."""
        import pandas as pd

        columns = {"name": self.names, "state": self.states}
        columns.update(self.parameter_values)
        columns.update({m: self.metric_values[m] for m in self.metrics if m not in columns})
        return pd.DataFrame(columns)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Trials):
            return NotImplemented
        plain = ("parameters", "metrics", "categories", "goals", "metric", "source", "notes")
        plain += ("planned", "status")
        if any(getattr(self, n) != getattr(other, n) for n in plain):
            return False
        return (
            _same_array(self.names, other.names)
            and _same_array(self.states, other.states)
            and all(
                _same_array(self.parameter_values[p], other.parameter_values[p])
                for p in self.parameters
            )
            and all(
                _same_array(self.metric_values[m], other.metric_values[m]) for m in self.metrics
            )
        )

    __hash__ = None  # type: ignore[assignment]


# --------------------------------------------------------------------------------------------
# Building Trials from columns of raw cells
# --------------------------------------------------------------------------------------------


def _number(cell) -> float | None:
    """A cell as a float; None when it is not a number (text, a bool); NaN when missing."""
    if cell is None:
        return math.nan
    if isinstance(cell, bool | np.bool_):
        return None
    if isinstance(cell, int | float | np.integer | np.floating):
        return float(cell)
    if isinstance(cell, str):
        text = cell.strip()
        if text.lower() in MISSING_TEXT:
            return math.nan
        try:
            return float(text)
        except ValueError:
            return None
    return None


def _is_missing(cell) -> bool:
    if cell is None:
        return True
    if isinstance(cell, float | np.floating):
        return math.isnan(cell)
    return isinstance(cell, str) and cell.strip().lower() in MISSING_TEXT


def _text(cell) -> str | None:
    if _is_missing(cell):
        return None
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _state(cell) -> str:
    text = _text(cell)
    if text is None:
        return "unknown"
    text = text.lower().rsplit(".", 1)[-1]  # "TrialState.COMPLETE" -> "complete"
    return _STATE_NAMES.get(text, "unknown")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _build(
    *,
    names,
    states,
    params: dict[str, list],
    metrics: dict[str, list[float]],
    categories: dict[str, list[str]] | None = None,
    goals: dict[str, str] | None = None,
    metric: str | None = None,
    source: str,
    notes: list[str],
    planned: int | None = None,
    status: str | None = None,
) -> Trials:
    """Trials from per-parameter raw values (numbers or text) and per-metric floats."""
    if not len(names):
        raise InputError(f"Expected at least one trial. Received: {source}, which has none.")
    if not params:
        raise InputError(
            f"Expected at least one hyperparameter. Received: {source}, where none was found; "
            "name the parameter columns (parameters=[...])."
        )
    if not metrics:
        raise InputError(
            f"Expected at least one numeric metric. Received: {source}, where none was found; "
            "name the metric columns (metrics=[...])."
        )
    categories = {k: list(v) for k, v in (categories or {}).items()}
    parameter_values = {}
    for name, cells in params.items():
        numbers = [_number(cell) for cell in cells]
        if name not in categories and all(n is not None for n in numbers):
            parameter_values[name] = np.array(numbers, np.float64)
            continue
        order = categories.setdefault(name, [])
        texts = [_text(cell) for cell in cells]
        for text in texts:
            if text is not None and text not in order:
                order.append(text)
        parameter_values[name] = np.array(texts, dtype=object)
    goals = {m: (goals or {}).get(m) or guess_goal(m) for m in metrics}
    metric = metric if metric in metrics else next(iter(metrics))
    return Trials(
        parameters=tuple(params),
        metrics=tuple(metrics),
        parameter_values=parameter_values,
        categories={k: tuple(v) for k, v in categories.items() if k in params},
        metric_values={m: np.asarray(v, np.float64) for m, v in metrics.items()},
        names=np.array([str(n) for n in names], dtype=str),
        states=np.array(list(states), dtype=str),
        goals=goals,
        metric=metric,
        source=source,
        notes=tuple(notes),
        planned=planned,
        status=status,
    )


def _check_names(requested, available, what: str, source: str) -> list[str]:
    requested = [requested] if isinstance(requested, str) else list(requested)
    missing = [name for name in requested if name not in available]
    if missing:
        raise InputError(
            f"Expected {what} among the columns {list(available)}. Received: {missing} "
            f"({source}); pick existing columns."
        )
    return requested


def _from_columns(
    columns: dict[str, list],
    *,
    parameters=None,
    metrics=None,
    source: str,
    notes: list[str] | None = None,
) -> Trials:
    """Trials from a table: column name -> cells (text from a CSV, values from a frame)."""
    notes = list(notes or [])
    if not columns:
        raise InputError(f"Expected a table with columns. Received: {source}, which has none.")
    num_rows = len(next(iter(columns.values())))
    if num_rows == 0:
        raise InputError(
            f"Expected at least one trial (one row per trial). Received: {source} with a header "
            "and no rows."
        )
    if num_rows > MAX_TRIALS:
        raise InputError(
            f"Expected at most {MAX_TRIALS} trials. Received: {source} with {num_rows} rows; "
            "keep the trials you want to compare."
        )
    if len(columns) < 2:
        raise InputError(
            f"Expected at least two columns (hyperparameters and a metric, one row per trial). "
            f"Received: {source} with the single column {list(columns)}; check the delimiter."
        )
    lowered = {name.lower(): name for name in columns}
    name_column = next((lowered[c] for c in NAME_COLUMNS if c in lowered), None)
    state_column = next((lowered[c] for c in STATE_COLUMNS if c in lowered), None)
    ignored = [
        name
        for name in columns
        if name.strip().lower() in IGNORED_COLUMNS
        or name.strip().lower().startswith(IGNORED_PREFIXES)
    ]
    reserved = {name_column, state_column, *ignored} - {None}

    # Which columns hold numbers: most filled cells parse. The others are text.
    parsed = {name: [_number(cell) for cell in cells] for name, cells in columns.items()}
    numeric = {}
    for name, numbers in parsed.items():
        filled = [n for n, c in zip(numbers, columns[name], strict=True) if not _is_missing(c)]
        good = sum(n is not None for n in filled)
        numeric[name] = bool(filled) and good >= NUMERIC_SHARE * len(filled)

    explicit_metrics = metrics is not None
    if parameters is not None:
        parameters = _check_names(parameters, columns, "parameter columns", source)
        notes.append(f"Parameters as given: {parameters}.")
    if metrics is not None:
        metrics = _check_names(metrics, columns, "metric columns", source)
    rename: dict[str, str] = {}
    if parameters is None:
        prefixed = [
            n for n in columns if n.lower().startswith(PARAMETER_PREFIXES) and n not in reserved
        ]
        if prefixed:
            parameters = prefixed
            for name in prefixed:
                prefix = next(p for p in PARAMETER_PREFIXES if name.lower().startswith(p))
                rename[name] = name[len(prefix) :]
            notes.append(
                f"Parameters are the columns prefixed {'/'.join(PARAMETER_PREFIXES)}: {prefixed}."
            )
        else:
            candidates = [n for n in columns if n not in reserved and n not in (metrics or [])]
            looks = [n for n in candidates if numeric[n] and _looks_like_metric(n)]
            if metrics is None and not looks:
                numbers = [n for n in candidates if numeric[n]]
                if not numbers:
                    raise InputError(
                        f"Expected a numeric metric column. Received: {source} with the columns "
                        f"{list(columns)}, none numeric; name them (metrics=[...])."
                    )
                looks = numbers[-1:]
                notes.append(
                    f"No column name looks like a metric; the last numeric column "
                    f"'{looks[0]}' is taken as the metric."
                )
            chosen_metrics = metrics if metrics is not None else looks
            parameters = [n for n in candidates if n not in chosen_metrics]
            if metrics is None:
                metrics = chosen_metrics
            notes.append(
                f"Parameters are the columns that do not look like metrics: {parameters}; "
                f"metrics: {metrics}."
            )
    if metrics is None:
        metrics = [n for n in columns if n not in reserved and n not in parameters and numeric[n]]
    overlap = set(parameters) & set(metrics)
    if overlap:
        raise InputError(
            f"Expected separate parameter and metric columns. Received: {sorted(overlap)} as both "
            f"({source})."
        )
    for name in metrics:
        if name.lower().startswith(USER_ATTR_PREFIX):
            rename[name] = name[len(USER_ATTR_PREFIX) :]
    text_metrics = [m for m in metrics if not numeric[m]]
    if text_metrics:
        if explicit_metrics:
            raise InputError(
                f"Expected numeric metric columns. Received: {text_metrics} holding text "
                f"({source}); pick numeric columns."
            )
        metrics = [m for m in metrics if numeric[m]]
    # Keep the original name when the short one would clash with another column.
    taken: set[str] = set()
    for name in [*parameters, *metrics]:
        short = rename.get(name, name)
        if short in taken or (short != name and short in columns):
            rename.pop(name, None)
            short = name
        taken.add(short)
    dropped = [n for n in columns if n not in reserved and n not in parameters and n not in metrics]
    if dropped:
        notes.append(f"Columns left out (text or unused): {dropped}.")

    # Bad rows: a number column with a cell that is not a number.
    bad = np.zeros(num_rows, bool)
    for name in [*metrics, *(p for p in parameters if numeric[p])]:
        bad |= np.array([n is None for n in parsed[name]], bool)
    if bad.all():
        raise InputError(
            f"Expected numbers in the metric and numeric parameter columns. Received: {source}, "
            "where every row has a cell that is not a number."
        )
    if bad.any():
        rows = [int(i) for i in np.flatnonzero(bad)[:5]]
        notes.append(
            f"Skipped {_plural(int(bad.sum()), 'row')} with a value that is not a number "
            f"(rows {rows}{'...' if bad.sum() > 5 else ''}, counting from 0 after the header)."
        )
    keep = np.flatnonzero(~bad)

    def pick(cells):
        return [cells[i] for i in keep]

    names = pick(columns[name_column]) if name_column else [str(i) for i in keep]
    names = [_text(n) or str(i) for n, i in zip(names, keep, strict=True)]
    states = (
        [_state(c) for c in pick(columns[state_column])]
        if state_column
        else ["complete"] * len(keep)
    )
    params = {}
    categories = {}
    for name in parameters:
        cells = pick(columns[name])
        if not numeric[name]:
            cells = [_text(c) for c in cells]
            categories[rename.get(name, name)] = [c for c in dict.fromkeys(cells) if c is not None]
        params[rename.get(name, name)] = cells
    metric_values = {
        rename.get(m, m): [math.nan if n is None else n for n in pick(parsed[m])] for m in metrics
    }
    return _build(
        names=names,
        states=states,
        params=params,
        metrics=metric_values,
        categories=categories,
        source=source,
        notes=notes,
    )


def trials_from_frame(frame, parameters=None, metrics=None) -> Trials:
    """Trials from a pandas DataFrame, one row per trial.

    Args:
        frame: the table (Optuna's ``study.trials_dataframe()`` works as it is).
        parameters: parameter column names; by default the columns prefixed ``params_``,
            ``param_`` or ``hp_``, else every column whose name does not look like a metric.
        metrics: metric column names; by default the other numeric columns.

    Returns:
        The trials; ``notes`` say which columns were taken as what.

    Raises:
        InputError: not a DataFrame, no rows, one column, unknown column names, no metric.
    """
    if not hasattr(frame, "columns") or not hasattr(frame, "to_dict"):
        raise InputError(
            f"Expected a pandas DataFrame, one row per trial. Received: {type(frame).__name__}."
        )
    columns = {str(name): list(frame[name]) for name in frame.columns}
    if len(set(columns)) != len(frame.columns):
        raise InputError("Expected unique column names. Received a frame with repeated names.")
    return _from_columns(
        columns, parameters=parameters, metrics=metrics, source="a DataFrame of trials"
    )


def trials_from_records(records, parameters=None, metrics=None) -> Trials:
    """Trials from a list of dicts, one per trial.

    A record is flat (``{"learning_rate": 1e-3, "width": 32, "val_accuracy": 0.9}``) or has
    ``"params"`` and ``"metrics"`` (or ``"final"``) dicts, like a sweep point; ``"name"``/``"run"``
    and ``"state"`` keys are used when present.

    Args:
        records: the trials.
        parameters: parameter names (e.g. ``list(param_grid)``); by default guessed as in
            :func:`trials_from_frame`.
        metrics: metric names; by default the other numeric keys.

    Returns:
        The trials.

    Raises:
        InputError: not a list of dicts, no records, unknown names, no metric.
    """
    if isinstance(records, dict) or not hasattr(records, "__iter__"):
        raise InputError(
            f"Expected a list of dicts, one per trial. Received: {type(records).__name__}."
        )
    rows = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise InputError(
                f"Expected a list of dicts, one per trial. Received: {type(record).__name__} "
                f"at position {index}."
            )
        flat = {}
        nested_params = record.get("params")
        nested_metrics = record.get("metrics", record.get("final"))
        if isinstance(nested_params, dict):
            flat.update({str(k): v for k, v in nested_params.items()})
            if parameters is None:
                parameters = list(nested_params)
        if isinstance(nested_metrics, dict):
            flat.update({str(k): v for k, v in nested_metrics.items() if k != "epoch"})
        for key, value in record.items():
            if key not in ("params", "metrics", "final", "best") and not isinstance(value, dict):
                flat.setdefault(str(key), value)
        rows.append(flat)
    if not rows:
        raise InputError("Expected at least one trial. Received: an empty list of records.")
    keys = list(dict.fromkeys(k for row in rows for k in row))
    columns = {key: [row.get(key) for row in rows] for key in keys}
    return _from_columns(
        columns, parameters=parameters, metrics=metrics, source="a list of trial records"
    )


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def _resolve(path) -> Path:
    try:
        raw = os.fspath(path)
    except TypeError:
        raise InputError(
            f"Expected a path to {EXPECTED_TRIALS}. Received: {type(path).__name__}."
        ) from None
    if isinstance(raw, bytes):
        raw = os.fsdecode(raw)
    if not raw or "\x00" in raw:
        raise InputError(f"Expected a path to {EXPECTED_TRIALS}. Received: {raw!r}.")
    resolved = Path(os.path.abspath(os.path.expanduser(raw)))
    if not resolved.exists():
        raise InputError(
            f"Expected {EXPECTED_TRIALS}. Received: '{raw}', which does not exist; check the path."
        )
    return resolved


def _read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(
                f"Expected a file under {MAX_FILE_BYTES // 1024**2} MB. Received: '{path.name}' "
                f"of {size // 1024**2} MB."
            )
        return path.read_bytes()
    except OSError as error:
        raise InputError(
            f"Expected a readable file. Received: '{path}' "
            f"({error.strerror or type(error).__name__}); check its permissions."
        ) from None


def _is_sqlite(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def read_trials(path: str | os.PathLike, *, study: str | None = None) -> Trials:
    """Reads trials from a sweep, a CSV file, an Optuna SQLite study or an HParams log folder.

    Args:
        path: a sweep folder (with ``sweep.json``) or the ``sweep.json`` itself; a ``.csv`` file,
            one row per trial; an Optuna SQLite file (``.db``, ``.sqlite``, ``.sqlite3`` or any
            file starting with the SQLite header); a TensorBoard log folder with HParams
            summaries (or one of its event files).
        study: for an Optuna file holding several studies, the study's name (default: the
            first, with a note naming the others).

    Returns:
        The trials.

    Raises:
        InputError: the path does not exist, is none of those, or holds no usable trial.
    """
    resolved = _resolve(path)
    if resolved.is_dir():
        if (resolved / SWEEP_FILE).is_file():
            return _read_sweep(resolved / SWEEP_FILE)
        return _read_hparams(resolved)
    suffix = resolved.suffix.lower()
    if "tfevents" in resolved.name:
        return _read_hparams(resolved.parent)
    if suffix in SQLITE_SUFFIXES or _is_sqlite(resolved):
        return _read_optuna(resolved, study)
    if suffix == ".json":
        return _read_sweep(resolved)
    return _read_csv(resolved)


MAX_SEARCH_DEPTH = 4
MAX_SEARCH_FOLDERS = 2_000
HPARAMS_PROBE_BYTES = 1024**2


def _has_hparams(path: Path) -> bool:
    """Whether an event file's first megabyte holds an HParams summary (a cheap byte probe)."""
    try:
        with open(path, "rb") as handle:
            return HPARAMS_MARKER in handle.read(HPARAMS_PROBE_BYTES)
    except OSError:
        return False


def find_trial_sources(path: str | os.PathLike) -> list[str]:
    """What :func:`read_trials` can open under a folder: sweep folders (with ``sweep.json``), and
    the folder itself when its event files hold HParams summaries; a readable file is itself.

    The walk stops at :data:`MAX_SEARCH_DEPTH` levels and :data:`MAX_SEARCH_FOLDERS` folders (a
    large log tree is not scanned whole), and does not go inside a sweep folder.
    """
    root = Path(os.path.abspath(os.fspath(path)))
    if root.is_file():
        suffix = root.suffix.lower()
        readable = suffix in (".csv", ".json", *SQLITE_SUFFIXES) or _is_sqlite(root)
        return [str(root)] if readable or "tfevents" in root.name else []
    if not root.is_dir():
        return []
    found: list[str] = []
    hparams = False
    visited = 0
    for folder, dirnames, filenames in os.walk(root):
        visited += 1
        depth = len(Path(folder).relative_to(root).parts)
        if SWEEP_FILE in filenames:
            found.append(folder)
            dirnames[:] = []
            continue
        if not hparams:
            hparams = any(
                "tfevents" in name and _has_hparams(Path(folder) / name) for name in filenames
            )
        if depth >= MAX_SEARCH_DEPTH or visited >= MAX_SEARCH_FOLDERS:
            dirnames[:] = []
        else:
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
    if hparams and str(root) not in found:
        found.insert(0, str(root))
    return sorted(found, key=lambda item: (item != str(root), item))


# --- sweeps ---------------------------------------------------------------------------------


def _read_sweep(path: Path) -> Trials:
    source = f"the sweep '{path.parent.name}/{path.name}'"
    data = _read_bytes(path)
    try:
        sweep = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise InputError(
            f"Expected a sweep.json file (JSON). Received: '{path.name}', which cannot be read "
            f"({type(error).__name__}); it may still be being written, try again."
        ) from None
    if not isinstance(sweep, dict) or not isinstance(sweep.get("points"), list):
        raise InputError(
            f"Expected a sweep.json with a 'points' list (as the zoo writes). Received: "
            f"'{path.name}' without one."
        )
    planned_list = sweep.get("planned")
    planned = len(planned_list) if isinstance(planned_list, list) else None
    trials = sweep.get("trials")  # a sweep Ray Tune runs: a TPE search plans as it goes
    if isinstance(trials, int) and not isinstance(trials, bool) and trials > 0:
        planned = max(trials, planned or 0)
    status = sweep.get("status") if isinstance(sweep.get("status"), str) else None
    points = [p for p in sweep["points"] if isinstance(p, dict)]
    notes = []
    if len(points) != len(sweep["points"]):
        notes.append(
            f"Skipped {_plural(len(sweep['points']) - len(points), 'point')} that are not objects."
        )
    if not points:
        if planned:
            raise InputError(
                f"Expected at least one finished point. Received: {source}, which plans "
                f"{planned} and has none yet; wait for the first point."
            )
        raise InputError(f"Expected at least one sweep point. Received: {source} with none.")
    declared = [str(p) for p in sweep.get("parameters") or []]
    param_names = list(dict.fromkeys(declared))
    for point in points:
        if isinstance(point.get("params"), dict):
            for key in point["params"]:
                if key not in param_names:
                    param_names.append(str(key))
    metric_names: list[str] = []
    for point in points:
        if isinstance(point.get("final"), dict):
            for key in point["final"]:
                if key not in metric_names and key != "epoch":
                    metric_names.append(str(key))
    params = {name: [] for name in param_names}
    metrics = {name: [] for name in metric_names}
    names, states = [], []
    for index, point in enumerate(points):
        given = point.get("params") if isinstance(point.get("params"), dict) else {}
        final = point.get("final") if isinstance(point.get("final"), dict) else {}
        for name in param_names:
            params[name].append(given.get(name))
        row = []
        for name in metric_names:
            number = _number(final.get(name))
            row.append(math.nan if number is None else number)
            metrics[name].append(row[-1])
        names.append(str(point.get("run") or index))
        state = point.get("state", point.get("status"))
        if state is not None:
            states.append(_state(state))
        else:
            states.append("complete" if any(math.isfinite(v) for v in row) else "failed")
    goal = sweep.get("goal")
    metric = sweep.get("metric")
    goals = {metric: goal} if metric in metrics and goal in GOALS else {}
    if planned is not None and planned > len(points):
        notes.append(f"{len(points)} of {planned} planned points are done.")
    return _build(
        names=names,
        states=states,
        params=params,
        metrics=metrics,
        goals=goals,
        metric=metric,
        source=source,
        notes=notes,
        planned=planned,
        status=status,
    )


# --- CSV ------------------------------------------------------------------------------------


def _read_csv(path: Path) -> Trials:
    data = _read_bytes(path)
    source = f"the file '{path.name}'"
    if not data.strip():
        raise InputError(f"Expected a CSV file of trials. Received: '{path.name}', which is empty.")
    if b"\x00" in data[:8192]:
        raise InputError(
            f"Expected a CSV file of trials (text, one row per trial). Received: '{path.name}', "
            "which is binary; export your trials as CSV."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    sample = text[:65536]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as error:
        raise InputError(
            f"Expected a CSV file of trials. Received: '{path.name}', which cannot be parsed as "
            f"CSV ({error}); export your trials as CSV."
        ) from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise InputError(f"Expected a CSV file of trials. Received: '{path.name}', which is empty.")
    header = [cell.strip() for cell in rows[0]]
    if len(header) < 2:
        raise InputError(
            f"Expected a CSV file with at least two columns (hyperparameters and a metric, one "
            f"row per trial). Received: '{path.name}' with the single column {header}; check the "
            "delimiter (comma, semicolon or tab)."
        )
    if len(set(header)) != len(header):
        raise InputError(
            f"Expected unique column names. Received: '{path.name}' with repeated names in "
            f"{header}."
        )
    body = rows[1:]
    notes = []
    ragged = [i for i, row in enumerate(body) if len(row) != len(header)]
    if ragged:
        notes.append(
            f"Skipped {_plural(len(ragged), 'row')} whose number of cells differs from the "
            f"header's {len(header)} (first: row {ragged[0]})."
        )
        skip = set(ragged)
        body = [row for i, row in enumerate(body) if i not in skip]
    columns = {name: [row[i] for row in body] for i, name in enumerate(header)}
    return _from_columns(columns, source=source, notes=notes)


# --- Optuna ---------------------------------------------------------------------------------

_OPTUNA_TABLES = ("studies", "study_directions", "trials", "trial_params", "trial_values")
_METRIC_NAMES_KEY = "study:metric_names"


def _connect(path: Path) -> sqlite3.Connection:
    uri = f"file:{pathname2url(str(path))}?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True)
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    except sqlite3.Error as error:
        raise InputError(
            f"Expected an Optuna SQLite storage file. Received: '{path.name}', which SQLite "
            f"cannot open ({error})."
        ) from None
    missing = [t for t in _OPTUNA_TABLES if t not in tables]
    if missing:
        connection.close()
        raise InputError(
            f"Expected an Optuna study (an SQLite file with the tables {list(_OPTUNA_TABLES)}). "
            f"Received: '{path.name}', which lacks {missing}; pass the storage file of "
            "optuna.create_study(storage='sqlite:///...')."
        )
    return connection


def list_studies(path: str | os.PathLike) -> list[str]:
    """The names of the studies in an Optuna SQLite storage file, in creation order.

    Raises:
        InputError: the file does not exist or is not an Optuna storage.
    """
    resolved = _resolve(path)
    connection = _connect(resolved)
    try:
        return [
            row[0] for row in connection.execute("SELECT study_name FROM studies ORDER BY study_id")
        ]
    except sqlite3.Error as error:
        raise InputError(
            f"Expected a readable Optuna study. Received: '{resolved.name}' ({error})."
        ) from None
    finally:
        connection.close()


def _json(text):
    try:
        return json.loads(text) if text is not None else None
    except (TypeError, ValueError, RecursionError):
        return None


def _optuna_value(value, value_type) -> float:
    if value_type == "INF_POS":
        return math.inf
    if value_type == "INF_NEG":
        return -math.inf
    return math.nan if value is None else float(value)


def _read_optuna(path: Path, study: str | None) -> Trials:
    connection = _connect(path)
    try:
        return _optuna_study(connection, path, study)
    except sqlite3.Error as error:
        raise InputError(
            f"Expected a readable Optuna study. Received: '{path.name}', where reading failed "
            f"({error}); the file may be damaged or from an unknown Optuna version."
        ) from None
    finally:
        connection.close()


def _optuna_study(connection: sqlite3.Connection, path: Path, study: str | None) -> Trials:
    studies = list(connection.execute("SELECT study_id, study_name FROM studies ORDER BY study_id"))
    if not studies:
        raise InputError(f"Expected at least one study. Received: '{path.name}', which has none.")
    notes = []
    if study is None:
        study_id, study_name = studies[0]
        if len(studies) > 1:
            others = [name for _, name in studies[1:]]
            notes.append(
                f"The file holds {len(studies)} studies; showing '{study_name}', others: {others}."
            )
    else:
        found = [row for row in studies if row[1] == study]
        if not found:
            raise InputError(
                f"Expected one of the studies {[name for _, name in studies]}. Received: {study!r}."
            )
        study_id, study_name = found[0]
    source = f"the Optuna study '{study_name}' in '{path.name}'"
    directions = dict(
        connection.execute(
            "SELECT objective, direction FROM study_directions WHERE study_id = ? ORDER BY objective",
            (study_id,),
        )
    )
    objectives = sorted(directions)
    names = None
    with contextlib.suppress(sqlite3.Error):
        row = connection.execute(
            "SELECT value_json FROM study_system_attributes WHERE study_id = ? AND key = ?",
            (study_id, _METRIC_NAMES_KEY),
        ).fetchone()
        names = _json(row[0]) if row else None
    if (
        isinstance(names, list)
        and len(names) == len(objectives)
        and all(isinstance(n, str) for n in names)
    ):
        objective_names = dict(zip(objectives, names, strict=True))
    elif len(objectives) == 1:
        objective_names = {objectives[0]: "value"}
    else:
        objective_names = {o: f"values_{o}" for o in objectives}
    goals = {
        objective_names[o]: ("max" if str(d).upper() == "MAXIMIZE" else "min")
        for o, d in directions.items()
    }

    trials = list(
        connection.execute(
            "SELECT trial_id, number, state FROM trials WHERE study_id = ? ORDER BY number, trial_id",
            (study_id,),
        )
    )
    if not trials:
        raise InputError(f"Expected at least one trial. Received: {source}, which has none.")
    index = {trial_id: i for i, (trial_id, _, _) in enumerate(trials)}
    n = len(trials)
    metrics = {name: [math.nan] * n for name in objective_names.values()}
    for trial_id, objective, value, value_type in connection.execute(
        "SELECT v.trial_id, v.objective, v.value, v.value_type FROM trial_values v "
        "JOIN trials t ON t.trial_id = v.trial_id WHERE t.study_id = ?",
        (study_id,),
    ):
        name = objective_names.get(objective)
        if name is not None and trial_id in index:
            metrics[name][index[trial_id]] = _optuna_value(value, value_type)

    params: dict[str, list] = {}
    categories: dict[str, list[str]] = {}
    bad_params = 0
    rows = connection.execute(
        "SELECT p.trial_id, p.param_name, p.param_value, p.distribution_json FROM trial_params p "
        "JOIN trials t ON t.trial_id = p.trial_id WHERE t.study_id = ? ORDER BY p.param_id",
        (study_id,),
    )
    for trial_id, name, value, distribution_json in rows:
        if trial_id not in index:
            continue
        column = params.setdefault(name, [None] * n)
        distribution = _json(distribution_json) or {}
        if distribution.get("name") == "CategoricalDistribution":
            choices = (distribution.get("attributes") or {}).get("choices") or []
            try:
                choice = choices[int(value)]
            except (TypeError, ValueError, IndexError):
                bad_params += 1
                continue
            if all(isinstance(c, int | float) and not isinstance(c, bool) for c in choices):
                # numeric choices (16, 32, 64) stay numbers: they have an order
                column[index[trial_id]] = float(choice)
                continue
            order = categories.setdefault(name, [])
            for option in choices:
                label = "None" if option is None else str(option)
                if label not in order:
                    order.append(label)
            column[index[trial_id]] = "None" if choice is None else str(choice)
        else:
            column[index[trial_id]] = None if value is None else float(value)
    if bad_params:
        notes.append(f"Skipped {_plural(bad_params, 'parameter value')} outside their choices.")

    skipped_attrs = set()
    attrs: dict[str, list[float]] = {}
    with contextlib.suppress(sqlite3.Error):
        for trial_id, key, value_json in connection.execute(
            "SELECT a.trial_id, a.key, a.value_json FROM trial_user_attributes a "
            "JOIN trials t ON t.trial_id = a.trial_id WHERE t.study_id = ?",
            (study_id,),
        ):
            value = _json(value_json)
            if trial_id not in index:
                continue
            if isinstance(value, int | float) and not isinstance(value, bool):
                attrs.setdefault(key, [math.nan] * n)[index[trial_id]] = float(value)
            else:
                skipped_attrs.add(key)
    for key, values in attrs.items():
        name = key if key not in metrics and key not in params else f"user_attrs_{key}"
        metrics[name] = values
    skipped_attrs -= set(attrs)
    if attrs:
        notes.append(f"Numeric user attributes are offered as metrics: {sorted(attrs)}.")
    if skipped_attrs:
        notes.append(f"Left out user attributes that are not numbers: {sorted(skipped_attrs)}.")
    if not objectives and not attrs:
        raise InputError(
            f"Expected an objective or numeric user attributes. Received: {source} with neither."
        )
    return _build(
        names=[str(number) for _, number, _ in trials],
        states=[_state(state) for _, _, state in trials],
        params=params,
        metrics=metrics,
        categories=categories,
        goals=goals,
        metric=objective_names[objectives[0]] if objectives else None,
        source=source,
        notes=notes,
    )


# --- TensorBoard HParams --------------------------------------------------------------------


def _hparams_in(path: Path) -> tuple[dict | None, str | None]:
    """The hparams of a session start summary in an event file, and its end status if written."""
    from tensorboard.compat.proto import event_pb2
    from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2

    data = _read_bytes(path)
    hparams = None
    status = None
    pos = 0
    header = struct.Struct("<Q")
    while pos + 12 <= len(data):
        (length,) = header.unpack_from(data, pos)
        end = pos + 12 + length
        if end + 4 > len(data):
            break
        payload = data[pos + 12 : end]
        pos = end + 4
        if HPARAMS_MARKER not in payload:
            continue  # decode only the few records that can be HParams summaries
        try:
            event = event_pb2.Event.FromString(payload)
        except Exception:  # a damaged record: the rest of the file may still be fine
            continue
        for value in event.summary.value:
            plugin = value.metadata.plugin_data
            if plugin.plugin_name != HPARAMS_PLUGIN:
                continue
            try:
                content = plugin_data_pb2.HParamsPluginData.FromString(plugin.content)
            except Exception:
                continue
            kind = content.WhichOneof("data")
            if kind == "session_start_info":
                hparams = {}
                for key, item in content.session_start_info.hparams.items():
                    which = item.WhichOneof("kind")
                    if which == "number_value":
                        hparams[key] = item.number_value
                    elif which == "string_value":
                        hparams[key] = item.string_value
                    elif which == "bool_value":
                        hparams[key] = str(item.bool_value)
            elif kind == "session_end_info":
                status = api_pb2.Status.Name(content.session_end_info.status)
    return hparams, status


_END_STATES = {
    "STATUS_SUCCESS": "complete",
    "STATUS_FAILURE": "failed",
    "STATUS_RUNNING": "running",
    "STATUS_UNKNOWN": "unknown",
}


def _metric_name(relative: str, tag: str) -> str:
    tag = tag[len("epoch_") :] if tag.startswith("epoch_") else tag
    if relative in (".", TRAIN_FOLDER):
        return tag
    if relative == VALIDATION_FOLDER:
        return tag if tag.startswith("val_") else f"val_{tag}"
    return f"{relative}/{tag}"


def _read_hparams(root: Path) -> Trials:
    from neurogenesis.io.logs import find_runs

    sessions: dict[Path, tuple[dict, str | None]] = {}
    seen = 0
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for filename in sorted(filenames):
            if "tfevents" not in filename or filename.startswith("."):
                continue
            seen += 1
            if seen > MAX_EVENT_FILES:
                raise InputError(
                    f"Expected at most {MAX_EVENT_FILES} event files in an HParams log folder. "
                    f"Received: '{root.name}' with more; open the folder of one search."
                )
            hparams, status = _hparams_in(Path(folder) / filename)
            if hparams is not None or status is not None:
                old = sessions.get(Path(folder), (None, None))
                sessions[Path(folder)] = (
                    hparams if hparams is not None else old[0],
                    status or old[1],
                )
    sessions = {folder: v for folder, v in sessions.items() if v[0] is not None}
    if not sessions:
        what = (
            f"{_plural(seen, 'event file')} without any"
            if seen
            else "no event files and no sweep.json"
        )
        raise InputError(
            f"Expected {EXPECTED_TRIALS}. Received: the folder '{root.name}' with {what} HParams "
            "session (written by tensorboard.plugins.hparams.api.hparams or hp.KerasCallback)."
        )
    notes = []
    folders = sorted(sessions)
    names, states = [], []
    # Protobuf maps have no order: sort the names so every reading gives the same table.
    param_names = sorted({k for f in folders for k in sessions[f][0]})
    params: dict[str, list] = {name: [] for name in param_names}
    per_trial: list[dict[str, float]] = []
    collisions = set()
    for folder in folders:
        hparams, status = sessions[folder]
        relative = folder.relative_to(root).as_posix()
        names.append(relative if relative != "." else root.name)
        for name in param_names:
            params[name].append(hparams.get(name))
        finals: dict[str, float] = {}
        try:
            runs = find_runs(folder)
        except InputError:
            runs = []
        for run in runs:
            run_path = Path(run.path)
            inner = run_path.relative_to(folder).as_posix() if run_path != folder else "."
            if any(
                folder in other.parents and other in (run_path, *run_path.parents)
                for other in sessions
            ):
                continue  # a nested trial's run belongs to that trial
            for tag, series in run.scalars.items():
                if not series.num_points:
                    continue
                metric = _metric_name(inner, tag)
                if metric in params:
                    collisions.add(metric)
                    continue
                finals[metric] = float(series.values[-1])
        per_trial.append(finals)
        if status is not None:
            states.append(_END_STATES.get(status, "unknown"))
        else:
            states.append(
                "complete" if any(math.isfinite(v) for v in finals.values()) else "unknown"
            )
    metric_names = list(dict.fromkeys(k for finals in per_trial for k in finals))
    if collisions:
        notes.append(f"Left out logged scalars named like a hyperparameter: {sorted(collisions)}.")
    if not metric_names:
        raise InputError(
            f"Expected scalar metrics beside the HParams sessions. Received: '{root.name}' with "
            f"{_plural(len(folders), 'session')} and no scalars; log metrics with tf.summary.scalar "
            "or the Keras TensorBoard callback in each trial's folder."
        )
    metrics = {m: [f.get(m, math.nan) for f in per_trial] for m in metric_names}
    notes.append("Metric values are the last logged value of each scalar.")
    preferred = next((m for m in metric_names if m.startswith("val_")), metric_names[0])
    return _build(
        names=names,
        states=states,
        params=params,
        metrics=metrics,
        metric=preferred,
        source=f"the HParams logs in '{root.name}'",
        notes=notes,
    )
