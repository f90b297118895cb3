"""What a read log is: runs, their scalar and histogram series, the problems found, and the
per-file records every format parses into."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

PROBLEM_KINDS = (
    "truncated",
    "corrupt",
    "restart",
    "duplicate_steps",
    "unparseable_value",
    "unreadable",
    "empty",
    "validation_epochs",
)

EVENT_FILE_MARKER = "tfevents"


# --------------------------------------------------------------------------------------------
# Public data classes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Something wrong with a log that did not stop it from being read, or a guess made reading it.

    Attributes:
        kind: One of :data:`PROBLEM_KINDS`. ``validation_epochs`` is a note rather than damage: a
            JSON history's ``val_*`` lists are shorter than its training lists (Keras's
            ``validation_freq``), and the message says at which epochs they were placed.
        file: Path of the file concerned.
        message: One sentence a user understands.
        offset: Byte offset (event and JSON files) or 1-based line number (CSV files).
        step: The step concerned, for restarts and duplicate steps.
        tag: The tag (metric name) concerned.
    """

    kind: str
    file: str
    message: str
    offset: int | None = None
    step: int | None = None
    tag: str | None = None

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "file": self.file,
            "message": self.message,
            "offset": self.offset,
            "step": self.step,
            "tag": self.tag,
        }


def _frozen(array: np.ndarray, dtype) -> np.ndarray:
    array = np.ascontiguousarray(array, dtype=dtype)
    if array.flags.writeable:
        if array.base is not None or not array.flags.owndata:
            array = array.copy()
        array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class ScalarSeries:
    """Every logged value of one scalar tag, in file order.

    Attributes:
        tag: The tag (metric name).
        steps: int64 steps, in file order (not sorted, not deduplicated).
        values: float64 values; NaN and infinities are kept as points (a diverged training).
        wall_times: float64 Unix seconds, NaN where the format has none (CSV, JSON).
        segments: int32 per point: 0, then one more at each restart (the step went backwards).
        missing_steps: int64 steps where the log said "missing" (CSV ``NA`` or empty cell, JSON
            ``null``); these are not points.
        epochs: float64 per point: the epoch the log says the point was logged in, where the log
            keeps epochs apart from steps (a PyTorch Lightning ``metrics.csv``: ``step`` is the
            global step, ``epoch`` a column); NaN where the log does not say (its steps are then
            epochs for per-epoch logs, or batches for batch-level tags).
    """

    tag: str
    steps: np.ndarray
    values: np.ndarray
    wall_times: np.ndarray
    segments: np.ndarray
    missing_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    epochs: np.ndarray | None = None

    def __post_init__(self):
        if self.epochs is None:
            object.__setattr__(self, "epochs", np.full(np.shape(self.steps), np.nan))
        object.__setattr__(self, "epochs", _frozen(self.epochs, np.float64))
        object.__setattr__(self, "steps", _frozen(self.steps, np.int64))
        object.__setattr__(self, "values", _frozen(self.values, np.float64))
        object.__setattr__(self, "wall_times", _frozen(self.wall_times, np.float64))
        object.__setattr__(self, "segments", _frozen(self.segments, np.int32))
        object.__setattr__(self, "missing_steps", _frozen(self.missing_steps, np.int64))

    @property
    def num_points(self) -> int:
        return int(self.steps.shape[0])

    @property
    def num_nonfinite(self) -> int:
        return int(np.count_nonzero(~np.isfinite(self.values)))

    @property
    def num_missing(self) -> int:
        return int(self.missing_steps.shape[0])

    @property
    def first_step(self) -> int | None:
        """The step of the first point in file order, or None without points."""
        return int(self.steps[0]) if self.steps.shape[0] else None

    @property
    def last_step(self) -> int | None:
        """The step of the last point in file order (after a restart, where training got to)."""
        return int(self.steps[-1]) if self.steps.shape[0] else None

    def __eq__(self, other):
        if not isinstance(other, ScalarSeries):
            return NotImplemented
        return (
            self.tag == other.tag
            and np.array_equal(self.steps, other.steps)
            and np.array_equal(self.values, other.values, equal_nan=True)
            and np.array_equal(self.wall_times, other.wall_times, equal_nan=True)
            and np.array_equal(self.segments, other.segments)
            and np.array_equal(self.missing_steps, other.missing_steps)
            and np.array_equal(self.epochs, other.epochs, equal_nan=True)
        )

    __hash__ = None

    @property
    def has_epochs(self) -> bool:
        """Whether the log says each point's epoch apart from its step (see ``epochs``)."""
        return bool(np.isfinite(self.epochs).any())

    def to_frame(self):
        """The points as a pandas DataFrame with columns step, value, wall_time, segment."""
        import pandas as pd

        return pd.DataFrame(
            {
                "step": self.steps,
                "value": self.values,
                "wall_time": self.wall_times,
                "segment": self.segments,
            }
        )


@dataclass(frozen=True, eq=False)
class HistogramSeries:
    """Every logged histogram of one tag, in file order.

    Attributes:
        tag: The tag.
        steps: int64 steps, shape (n,).
        wall_times: float64 Unix seconds, shape (n,).
        buckets: One float64 array of shape (k, 3) per step: left edge, right edge, count.
    """

    tag: str
    steps: np.ndarray
    wall_times: np.ndarray
    buckets: tuple[np.ndarray, ...]

    def __post_init__(self):
        object.__setattr__(self, "steps", _frozen(self.steps, np.int64))
        object.__setattr__(self, "wall_times", _frozen(self.wall_times, np.float64))
        object.__setattr__(
            self,
            "buckets",
            tuple(_frozen(np.reshape(b, (-1, 3)), np.float64) for b in self.buckets),
        )

    @property
    def num_steps(self) -> int:
        return int(self.steps.shape[0])

    def __eq__(self, other):
        if not isinstance(other, HistogramSeries):
            return NotImplemented
        return (
            self.tag == other.tag
            and np.array_equal(self.steps, other.steps)
            and np.array_equal(self.wall_times, other.wall_times, equal_nan=True)
            and len(self.buckets) == len(other.buckets)
            and all(
                np.array_equal(a, b, equal_nan=True)
                for a, b in zip(self.buckets, other.buckets, strict=True)
            )
        )

    __hash__ = None


@dataclass(frozen=True, eq=False)
class Run:
    """One training run: a folder of event files, a CSVLogger file or a JSON history.

    Attributes:
        name: The run's path relative to the folder that was opened (posix), like TensorBoard's
            run names; the folder's own name when it is the run.
        path: Absolute path of the run folder or file.
        format: ``'tensorboard'``, ``'csv'``, ``'json'`` or ``'neurogenesis'``.
        scalars: Scalar series by tag.
        histograms: Histogram series by tag.
        problems: What was wrong with the files, in file order, then restarts and duplicates.
        files: Absolute paths of the files that were read, in reading order.
        live: Whether the run is still being written: a NeuroGenesis run whose manifest says
            ``"status": "running"``. Its half-written last record is "not yet", not damage.
    """

    name: str
    path: str
    format: str
    scalars: dict[str, ScalarSeries]
    histograms: dict[str, HistogramSeries]
    problems: tuple[Problem, ...]
    files: tuple[str, ...]
    live: bool = False

    @property
    def has_data(self) -> bool:
        """Whether any scalar point or histogram step was read."""
        return any(s.num_points for s in self.scalars.values()) or any(
            h.num_steps for h in self.histograms.values()
        )

    def summary_dict(self) -> dict:
        """Counts per tag and the problems, as plain JSON-ready values."""
        return {
            "name": self.name,
            "format": self.format,
            "scalars": {
                tag: {
                    "num_points": s.num_points,
                    "num_nonfinite": s.num_nonfinite,
                    "num_missing": s.num_missing,
                    "first_step": s.first_step,
                    "last_step": s.last_step,
                }
                for tag, s in self.scalars.items()
            },
            "histograms": {tag: {"num_steps": h.num_steps} for tag, h in self.histograms.items()},
            "problems": [p.to_dict() for p in self.problems],
            "live": self.live,
        }

    def __eq__(self, other):
        if not isinstance(other, Run):
            return NotImplemented
        return (
            self.name == other.name
            and self.path == other.path
            and self.format == other.format
            and self.scalars == other.scalars
            and self.histograms == other.histograms
            and self.problems == other.problems
            and self.files == other.files
            and self.live == other.live
        )

    __hash__ = None


# --------------------------------------------------------------------------------------------
# Per-file records: what a parser produces and what the cache stores
# --------------------------------------------------------------------------------------------


class _NotALog(Exception):
    """A .csv or .json file that is not a training log (skipped in folders, refused when named)."""


@dataclass
class _FileRecords:
    tags: list[str]
    codes: np.ndarray  # int32 index into tags, per scalar record
    steps: np.ndarray  # int64
    wall_times: np.ndarray  # float64
    values: np.ndarray  # float64
    epochs: np.ndarray  # float64: the epoch the log gives apart from the step, NaN when none
    missing: np.ndarray  # bool: the log said "missing" here; not a point
    breaks: np.ndarray  # bool: a forced new segment starts at this record (repeated CSV header)
    hist_codes: np.ndarray  # int32 index into tags, per histogram record
    hist_steps: np.ndarray
    hist_wall_times: np.ndarray
    hist_buckets: list[np.ndarray]
    problems: list[Problem]


class _TagTable:
    """Tag name -> small int code."""

    def __init__(self):
        self.codes: dict[str, int] = {}
        self.names: list[str] = []

    def code(self, tag: str) -> int:
        code = self.codes.get(tag)
        if code is None:
            code = self.codes[tag] = len(self.names)
            self.names.append(tag)
        return code


def _records(
    tags: _TagTable,
    codes,
    steps,
    wall_times,
    values,
    missing=None,
    breaks=None,
    epochs=None,
    hist_codes=(),
    hist_steps=(),
    hist_wall_times=(),
    hist_buckets=(),
    problems=(),
) -> _FileRecords:
    n = len(codes)
    return _FileRecords(
        tags=list(tags.names),
        codes=np.asarray(codes, dtype=np.int32).reshape(n),
        steps=np.asarray(steps, dtype=np.int64).reshape(n),
        wall_times=np.asarray(wall_times, dtype=np.float64).reshape(n),
        values=np.asarray(values, dtype=np.float64).reshape(n),
        epochs=np.full(n, np.nan) if epochs is None else np.asarray(epochs, np.float64).reshape(n),
        missing=np.zeros(n, bool) if missing is None else np.asarray(missing, bool).reshape(n),
        breaks=np.zeros(n, bool) if breaks is None else np.asarray(breaks, bool).reshape(n),
        hist_codes=np.asarray(hist_codes, dtype=np.int32).reshape(len(hist_codes)),
        hist_steps=np.asarray(hist_steps, dtype=np.int64).reshape(len(hist_steps)),
        hist_wall_times=np.asarray(hist_wall_times, dtype=np.float64).reshape(len(hist_steps)),
        hist_buckets=[np.asarray(b, dtype=np.float64).reshape(-1, 3) for b in hist_buckets],
        problems=list(problems),
    )


def _empty_records(problems=()) -> _FileRecords:
    return _records(_TagTable(), [], [], [], [], problems=problems)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


class _ValueProblems:
    """Collects value-level problems per (kind, tag) so a bad column makes one Problem, not 10,000."""

    def __init__(self, file: str):
        self.file = file
        self.entries: dict[tuple[str, str | None], list] = {}

    def add(self, kind: str, tag: str | None, offset: int | None, detail: str) -> None:
        entry = self.entries.get((kind, tag))
        if entry is None:
            self.entries[(kind, tag)] = [1, offset, detail]
        else:
            entry[0] += 1

    def problems(self, describe) -> list[Problem]:
        return [
            Problem(kind, self.file, describe(kind, tag, count, offset, detail), offset, None, tag)
            for (kind, tag), (count, offset, detail) in self.entries.items()
        ]


# --------------------------------------------------------------------------------------------
# Keras CSVLogger files
# --------------------------------------------------------------------------------------------

_NUMBER_LIKE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _as_step(number) -> int | None:
    """An integral number that fits a step (int64), or None."""
    if isinstance(number, bool):
        return None
    if isinstance(number, float):
        if not (math.isfinite(number) and number.is_integer()):
            return None
        number = int(number)
    if not isinstance(number, int) or not -(2**63) <= number < 2**63:
        return None
    return number
