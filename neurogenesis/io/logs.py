"""Training logs: TensorBoard event files, Keras CSVLogger files, JSON histories and run folders.

Every point is kept: unlike TensorBoard's ``EventAccumulator`` (which keeps 10 TF2 scalars per tag
unless told otherwise) nothing is sampled, merged or deduplicated. A damaged log is read as far as
it goes and says where it stopped: each :class:`Run` carries :class:`Problem` records (a file cut
short, a record that fails its checksum, a value that cannot be decoded, a training that restarted)
instead of failing. Only input that cannot be used at all raises
:class:`~neurogenesis.errors.InputError`.

Event files are read without TensorFlow: the TFRecord framing (length, masked CRC-32C of the
length, data, masked CRC-32C of the data) is checked here, and the ``Event`` protos are decoded with
TensorBoard's generated protobuf modules, which import protobuf only.

``Problem.offset`` is a byte offset for event files and JSON files, and a 1-based line number for
CSV files.

Parsed files are cached on disk as Parquet (one entry per source file, keyed by its absolute path,
size, modification time and :data:`READER_VERSION`), so reopening a large log costs a fraction of
parsing it. The per-file records are cached, not the finished runs, so restarts and duplicates are
worked out the same way on cached data.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import math
import os
import re
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neurogenesis.errors import InputError
from neurogenesis.io.run_folder import RUN_MANIFEST_NAME, manifest_status

__all__ = [
    "DEFAULT_CACHE_DIR",
    "PROBLEM_KINDS",
    "READER_VERSION",
    "HistogramSeries",
    "Problem",
    "Run",
    "ScalarSeries",
    "find_runs",
    "read_run",
]

READER_VERSION = 1
"""Bump when parsing changes: cached entries written by another version are ignored."""

PROBLEM_KINDS = (
    "truncated",
    "corrupt",
    "restart",
    "duplicate_steps",
    "unparseable_value",
    "unreadable",
    "empty",
)

EVENT_FILE_MARKER = "tfevents"
CSV_SUFFIX = ".csv"
JSON_SUFFIX = ".json"
CACHE_SUBDIR = "logs"
CSV_MISSING = ("", "NA")
MAX_JSON_DEPTH = 200
MAX_PROBLEMS_IN_ERROR = 3
RESYNC_CHUNK_BYTES = 1 << 20
MAX_HISTOGRAM_BUCKETS = 1 << 20  # a shape claiming more is damage, not a histogram
EXPECTED_LOGS = (
    "a TensorBoard log folder or event file (events.out.tfevents.*), "
    "a Keras CSVLogger .csv file or a JSON history .json file"
)


def _default_cache_dir() -> Path:
    configured = os.environ.get("NEUROGENESIS_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    try:
        return Path.home() / ".cache" / "neurogenesis"
    except RuntimeError:  # no home directory (some containers)
        return Path(tempfile.gettempdir()) / "neurogenesis-cache"


DEFAULT_CACHE_DIR = _default_cache_dir()


# --------------------------------------------------------------------------------------------
# Public data classes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Something wrong with a log that did not stop it from being read.

    Attributes:
        kind: One of :data:`PROBLEM_KINDS`.
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
    """

    tag: str
    steps: np.ndarray
    values: np.ndarray
    wall_times: np.ndarray
    segments: np.ndarray
    missing_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def __post_init__(self):
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
        )

    __hash__ = None

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
# TensorBoard event files
# --------------------------------------------------------------------------------------------

_PROTO = None


def _protos():
    """TensorBoard's generated protobuf modules (protobuf only: no TensorFlow import)."""
    global _PROTO
    if _PROTO is None:
        from tensorboard.compat.proto import event_pb2, types_pb2

        _PROTO = (event_pb2, types_pb2)
    return _PROTO


def _masked_crc(crc: int) -> int:
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _crc32c():
    import google_crc32c

    return google_crc32c.value


_HEADER = struct.Struct("<QI")
_U32 = struct.Struct("<I")
_U16 = struct.Struct("<H")
_F16 = struct.Struct("<e")
_F32 = struct.Struct("<f")


def _bfloat16(raw: bytes) -> tuple[float]:
    return _F32.unpack(b"\x00\x00" + raw)


def _half_bits(bits: int) -> float:
    return _F16.unpack(_U16.pack(bits & 0xFFFF))[0]


def _bfloat16_bits(bits: int) -> float:
    return _F32.unpack(_U32.pack((bits & 0xFFFF) << 16))[0]


_DTYPE_TABLES = None


def _dtype_tables():
    """Per TensorFlow dtype: (itemsize, unpack) for tensor_content, and the typed field to read."""
    global _DTYPE_TABLES
    if _DTYPE_TABLES is None:
        types = _protos()[1]
        content = {
            types.DT_FLOAT: (4, _F32.unpack),
            types.DT_DOUBLE: (8, struct.Struct("<d").unpack),
            types.DT_HALF: (2, _F16.unpack),
            types.DT_BFLOAT16: (2, _bfloat16),
            types.DT_INT32: (4, struct.Struct("<i").unpack),
            types.DT_INT64: (8, struct.Struct("<q").unpack),
            types.DT_INT16: (2, struct.Struct("<h").unpack),
            types.DT_INT8: (1, struct.Struct("<b").unpack),
            types.DT_UINT8: (1, struct.Struct("<B").unpack),
            types.DT_UINT16: (2, struct.Struct("<H").unpack),
            types.DT_UINT32: (4, struct.Struct("<I").unpack),
            types.DT_UINT64: (8, struct.Struct("<Q").unpack),
        }
        typed = {
            types.DT_FLOAT: ("float_val", float),
            types.DT_DOUBLE: ("double_val", float),
            types.DT_HALF: ("half_val", _half_bits),
            types.DT_BFLOAT16: ("half_val", _bfloat16_bits),
            types.DT_INT32: ("int_val", float),
            types.DT_INT16: ("int_val", float),
            types.DT_INT8: ("int_val", float),
            types.DT_UINT8: ("int_val", float),
            types.DT_UINT16: ("int_val", float),
            types.DT_INT64: ("int64_val", float),
            types.DT_UINT32: ("uint32_val", float),
            types.DT_UINT64: ("uint64_val", float),
        }
        numpy_dtypes = {
            types.DT_FLOAT: np.dtype("<f4"),
            types.DT_DOUBLE: np.dtype("<f8"),
            types.DT_HALF: np.dtype("<f2"),
            types.DT_INT32: np.dtype("<i4"),
            types.DT_INT64: np.dtype("<i8"),
        }
        _DTYPE_TABLES = (content, typed, numpy_dtypes, types.DT_BFLOAT16)
    return _DTYPE_TABLES


def _typed_scalar(tensor, typed) -> float | None:
    entry = typed.get(tensor.dtype)
    if entry is None:
        return None
    values = getattr(tensor, entry[0])
    if len(values) != 1:
        return None
    return entry[1](values[0])


def _histogram_tensor(tensor) -> np.ndarray | None:
    """A TF2 histogram tensor (k, 3) as float64, or None when it has another shape or dtype."""
    content_table, typed, numpy_dtypes, bfloat16 = _dtype_tables()
    dims = [d.size for d in tensor.tensor_shape.dim]
    if dims in ([0], [0, 3], [0, 2]):
        return np.zeros((0, 3))
    if len(dims) != 2 or dims[1] != 3 or not 0 <= dims[0] <= MAX_HISTOGRAM_BUCKETS:
        return None
    count = dims[0] * 3
    content = tensor.tensor_content
    if content:
        if tensor.dtype == bfloat16:
            raw = np.frombuffer(content, dtype="<u2")
            array = (raw.astype(np.uint32) << 16).view(np.float32)
        else:
            dtype = numpy_dtypes.get(tensor.dtype)
            if dtype is None or len(content) != count * dtype.itemsize:
                return None
            array = np.frombuffer(content, dtype=dtype)
        if array.size != count:
            return None
    else:
        entry = typed.get(tensor.dtype)
        if entry is None:
            return None
        values = list(getattr(tensor, entry[0]))
        if not values or len(values) > count:
            return None
        if len(values) < count:  # protobuf tensors may repeat their last value to fill the shape
            values.extend([values[-1]] * (count - len(values)))
        convert = entry[1]
        array = np.array([convert(v) for v in values], dtype=np.float64)
    return array.astype(np.float64).reshape(dims[0], 3)


def _histogram_proto(histo) -> np.ndarray | None:
    """A TF1 HistogramProto as (k, 3) buckets, the way TensorBoard's data_compat migrates it."""
    limits = list(histo.bucket_limit)
    counts = list(histo.bucket)
    if len(limits) != len(counts):
        return None
    if not limits:
        return np.zeros((0, 3))
    lefts = [histo.min, *limits[:-1]]
    rights = [*limits[:-1], histo.max]
    return np.array([lefts, rights, counts], dtype=np.float64).T


_SMALL_LENGTH_CRCS = None
SMALL_LENGTHS = 1 << 16


def _small_length_crcs(crc) -> np.ndarray:
    """The masked CRC of every length field below SMALL_LENGTHS (for a vectorised header check)."""
    global _SMALL_LENGTH_CRCS
    if _SMALL_LENGTH_CRCS is None:
        pack = struct.Struct("<Q").pack
        _SMALL_LENGTH_CRCS = np.array(
            [_masked_crc(crc(pack(length))) for length in range(SMALL_LENGTHS)], dtype=np.uint32
        )
    return _SMALL_LENGTH_CRCS


def _find_next_record(data: bytes, start: int, crc) -> int | None:
    """The first offset >= start where an intact record begins, or None.

    Candidates are filtered with numpy (a length field that fits in the rest of the file and, for
    small lengths, whose checksum matches: zero-filled tails are common after a crash), then the
    length CRC and the data CRC are checked; each byte of the file is scanned at most once.
    """
    n = len(data)
    small_crcs = _small_length_crcs(crc)
    octets = np.frombuffer(data, dtype=np.uint8)
    unpack_header = _HEADER.unpack_from
    unpack_u32 = _U32.unpack_from
    begin = start
    chunk = 4096  # grows: the next record is usually close, but random bytes may run to the end
    while begin + 16 <= n:
        stop = min(n - 16, begin + chunk - 1)  # last candidate position, inclusive
        chunk = min(chunk * 4, RESYNC_CHUNK_BYTES)
        count = stop - begin + 1
        lengths = np.empty(count, dtype=np.uint64)
        for shift in range(8):
            num = (count - shift + 7) // 8
            if num <= 0:
                continue
            num = min(num, (n - begin - shift) // 8)
            lengths[shift::8][:num] = np.frombuffer(data, "<u8", num, begin + shift)
        positions = np.arange(begin, stop + 1, dtype=np.int64)
        room = (n - 16) - positions  # the largest length that fits after each position
        candidates = np.flatnonzero(lengths <= room.astype(np.uint64))
        if candidates.size:
            at = candidates + begin + 8
            stored = (
                octets[at].astype(np.uint32)
                | (octets[at + 1].astype(np.uint32) << 8)
                | (octets[at + 2].astype(np.uint32) << 16)
                | (octets[at + 3].astype(np.uint32) << 24)
            )
            length = lengths[candidates]
            small = length < SMALL_LENGTHS
            expected = small_crcs[np.where(small, length, 0).astype(np.int64)]
            candidates = candidates[~small | (stored == expected)]
        for pos in candidates + begin:
            pos = int(pos)
            length, length_crc = unpack_header(data, pos)
            if _masked_crc(crc(data[pos : pos + 8])) != length_crc:
                continue
            end = pos + 12 + length
            if _masked_crc(crc(data[pos + 12 : end])) == unpack_u32(data, end)[0]:
                return pos
        begin = stop + 1
    return None


def _describe_event_problem(kind, tag, count, offset, detail) -> str:
    if tag is None:
        return (
            f"{_plural(count, 'record')} at byte {offset} and after could not be decoded as "
            f"TensorBoard events ({detail}); they were left out."
        )
    return (
        f"{_plural(count, 'value')} of tag '{tag}' could not be decoded (first at byte {offset}: "
        f"{detail}); they were left out."
    )


def _parse_events(data: bytes, file: str) -> _FileRecords:
    """Every scalar and histogram in an event file, with the damage found on the way."""
    event_pb2, _ = _protos()
    content_table, typed, _, _ = _dtype_tables()
    parse = event_pb2.Event.FromString
    crc = _crc32c()
    unpack_header = _HEADER.unpack_from
    unpack_u32 = _U32.unpack_from
    n = len(data)

    tags = _TagTable()
    tag_codes = tags.codes
    tag_code = tags.code
    plugins: dict[str, str] = {}
    codes: list[int] = []
    steps: list[int] = []
    walls: list[float] = []
    values: list[float] = []
    add_code, add_step, add_wall, add_value = (
        codes.append,
        steps.append,
        walls.append,
        values.append,
    )
    hist_codes: list[int] = []
    hist_steps: list[int] = []
    hist_walls: list[float] = []
    hist_buckets: list[np.ndarray] = []
    problems: list[Problem] = []
    bad_values = _ValueProblems(file)

    pos = 0
    while pos < n:
        if n - pos < 12:
            problems.append(_truncated_event_problem(file, pos, n))
            break
        length, length_crc = unpack_header(data, pos)
        c = crc(data[pos : pos + 8])
        if (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF != length_crc:
            pos = _resync(data, pos, crc, file, problems, "its length field fails its checksum")
            continue
        end = pos + 12 + length
        if end + 4 > n:
            problems.append(_truncated_event_problem(file, pos, n))
            break
        payload = data[pos + 12 : end]
        c = crc(payload)
        if (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF != unpack_u32(data, end)[0]:
            pos = _resync(data, pos, crc, file, problems, "its data fails its checksum")
            continue
        record_pos = pos
        pos = end + 4
        try:
            event = parse(payload)
        except Exception as error:  # protobuf DecodeError and friends
            bad_values.add("unparseable_value", None, record_pos, type(error).__name__)
            continue
        summary_values = event.summary.value
        if not summary_values:
            continue
        step = event.step
        wall = event.wall_time
        for value in summary_values:
            kind = value.WhichOneof("value")
            if kind == "tensor":
                tag = value.tag
                plugin = plugins.get(tag)
                if plugin is None:
                    # Writers often attach the metadata to a tag's first event only.
                    plugin = value.metadata.plugin_data.plugin_name
                    if plugin:
                        plugins[tag] = plugin
                tensor = value.tensor
                if plugin == "scalars" or not plugin:
                    content = tensor.tensor_content
                    number = None
                    if content:
                        entry = content_table.get(tensor.dtype)
                        if entry is not None and len(content) == entry[0]:
                            number = entry[1](content)[0]
                    elif plugin or not tensor.tensor_shape.dim:
                        number = _typed_scalar(tensor, typed)
                    if number is None:
                        if plugin:
                            bad_values.add(
                                "unparseable_value",
                                tag,
                                record_pos,
                                f"expected one number, got a {_tensor_description(tensor)}",
                            )
                        # A non-numeric tensor without a plugin (the Keras model config) is not ours.
                        continue
                    if not plugin and tensor.tensor_shape.dim:
                        continue  # an unnamed plugin's non-scalar tensor
                    code = tag_codes.get(tag)
                    if code is None:
                        code = tag_code(tag)
                    add_code(code)
                    add_step(step)
                    add_wall(wall)
                    add_value(number)
                elif plugin == "histograms":
                    buckets = _histogram_tensor(tensor)
                    if buckets is None:
                        bad_values.add(
                            "unparseable_value",
                            tag,
                            record_pos,
                            f"expected a (k, 3) histogram, got a {_tensor_description(tensor)}",
                        )
                        continue
                    hist_codes.append(tag_code(tag))
                    hist_steps.append(step)
                    hist_walls.append(wall)
                    hist_buckets.append(buckets)
            elif kind == "simple_value":
                tag = value.tag
                code = tag_codes.get(tag)
                if code is None:
                    code = tag_code(tag)
                add_code(code)
                add_step(step)
                add_wall(wall)
                add_value(value.simple_value)
            elif kind == "histo":
                tag = value.tag
                buckets = _histogram_proto(value.histo)
                if buckets is None:
                    bad_values.add(
                        "unparseable_value",
                        tag,
                        record_pos,
                        "bucket limits and counts differ in length",
                    )
                    continue
                hist_codes.append(tag_code(tag))
                hist_steps.append(step)
                hist_walls.append(wall)
                hist_buckets.append(buckets)
    problems.extend(bad_values.problems(_describe_event_problem))
    problems.sort(key=lambda p: -1 if p.offset is None else p.offset)
    return _records(
        tags,
        codes,
        steps,
        walls,
        values,
        hist_codes=hist_codes,
        hist_steps=hist_steps,
        hist_wall_times=hist_walls,
        hist_buckets=hist_buckets,
        problems=problems,
    )


def _tensor_description(tensor) -> str:
    _, types = _protos()
    try:
        dtype = types.DataType.Name(tensor.dtype)
    except ValueError:
        dtype = f"dtype {tensor.dtype}"
    shape = tuple(d.size for d in tensor.tensor_shape.dim)
    return f"{dtype} tensor of shape {shape}"


def _truncated_event_problem(file: str, pos: int, n: int) -> Problem:
    return Problem(
        "truncated",
        file,
        f"The file ends in the middle of a record at byte {pos} ({_plural(n - pos, 'byte')} of "
        "it are there): it was cut short or is still being written; everything before was read.",
        pos,
    )


def _resync(data: bytes, pos: int, crc, file: str, problems: list[Problem], why: str) -> int:
    """Reports the damaged record at pos and returns the offset of the next intact record."""
    found = _find_next_record(data, pos + 1, crc)
    n = len(data)
    if found is None:
        message = (
            f"The record at byte {pos} is damaged ({why}) and no intact record follows, "
            f"so the last {_plural(n - pos, 'byte')} were skipped."
        )
        found = n
    else:
        message = (
            f"The record at byte {pos} is damaged ({why}); {_plural(found - pos, 'byte')} were "
            f"skipped to the next intact record at byte {found}."
        )
    problems.append(Problem("corrupt", file, message, pos))
    return found


def _event_file_sort_key(path: Path) -> tuple:
    """events.out.tfevents.<timestamp>.<host>...: by timestamp, then by name."""
    name = path.name
    _, _, rest = name.partition(EVENT_FILE_MARKER)
    match = re.match(r"\.(\d+)", rest)
    timestamp = int(match.group(1)) if match else math.inf
    return (timestamp, name)


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


def _split_csv_line(line: str, separator: str) -> list[str] | None:
    if '"' not in line:
        return line.split(separator)
    try:
        rows = list(csv.reader([line], delimiter=separator))
    except csv.Error:
        return None
    return rows[0] if len(rows) == 1 else None


def _sniff_separator(header: str) -> str:
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: (counts[sep], sep == ","))
    return best if counts[best] else ","


def _is_header(fields: list[str]) -> bool:
    names = [f.strip() for f in fields]
    return any(names) and not any(_NUMBER_LIKE.fullmatch(name) for name in names)


def _describe_csv_problem(kind, tag, count, line, detail) -> str:
    if kind == "unparseable_value":
        return (
            f"Column '{tag}' has {_plural(count, 'value')} that {'is' if count == 1 else 'are'} "
            f"not a number (first on line {line}: {detail}); treated as missing."
        )
    if kind == "corrupt":
        return (
            f"{_plural(count, 'line')} ({'first ' if count > 1 else ''}line {line}) "
            f"{'has' if count == 1 else 'have'} {detail}, so {'it was' if count == 1 else 'they were'} "
            "left out."
        )
    return detail


def _parse_csv(data: bytes, file: str) -> _FileRecords:
    """A Keras CSVLogger file: a header line (epoch, metrics...) and one line per epoch."""
    text = data.decode("utf-8-sig", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    content_lines = [i for i, line in enumerate(lines) if line.strip()]
    if not content_lines:
        return _empty_records()
    header_index = content_lines[0]
    last_index = content_lines[-1]
    separator = _sniff_separator(lines[header_index])
    header = _split_csv_line(lines[header_index], separator)
    if header is None or not _is_header(header):
        raise _NotALog(
            f"its first line {lines[header_index][:60]!r} is not a header of metric names "
            "(a CSVLogger file starts with 'epoch,loss,...')"
        )

    tags = _TagTable()
    problems: list[Problem] = []
    bad = _ValueProblems(file)
    codes: list[int] = []
    steps: list[int] = []
    values: list[float] = []
    missing: list[bool] = []
    breaks: list[bool] = []

    def columns_of(names: list[str]):
        names = [name.strip() or f"column {j + 1}" for j, name in enumerate(names)]
        epoch_column = names.index("epoch") if "epoch" in names else None
        metric_columns = [(j, tags.code(name)) for j, name in enumerate(names) if j != epoch_column]
        return epoch_column, metric_columns

    epoch_column, metric_columns = columns_of(header)
    num_fields = len(header)
    row_index = 0
    pending_break = False
    for i in content_lines[1:]:
        line_number = i + 1
        fields = _split_csv_line(lines[i], separator)
        if fields is None:
            bad.add("corrupt", None, line_number, "unbalanced quotes")
            continue
        if _is_header(fields) and (
            [f.strip() for f in fields] == [f.strip() for f in header]
            or fields[0].strip() == "epoch"
        ):
            # A logger started again on the same file: a new segment, possibly new columns.
            header = fields
            epoch_column, metric_columns = columns_of(header)
            num_fields = len(header)
            row_index = 0
            pending_break = True
            continue
        if len(fields) < num_fields:
            if i == last_index:
                problems.append(
                    Problem(
                        "truncated",
                        file,
                        f"The last line (line {line_number}) has {len(fields)} of "
                        f"{num_fields} fields: the file was cut in the middle of a line, "
                        "which was left out.",
                        line_number,
                    )
                )
            else:
                bad.add(
                    "corrupt",
                    None,
                    line_number,
                    f"fewer fields than the header's {num_fields}",
                )
            continue
        if len(fields) > num_fields:
            bad.add("corrupt", None, line_number, f"more fields than the header's {num_fields}")
            continue
        if epoch_column is not None:
            cell = fields[epoch_column].strip()
            try:
                step = _as_step(float(cell))
            except ValueError:
                step = None
            if step is None:
                bad.add("unparseable_value", "epoch", line_number, repr(cell[:40]))
                continue
        else:
            step = row_index
        row_index += 1
        for j, code in metric_columns:
            cell = fields[j].strip()
            if cell in CSV_MISSING:
                number = math.nan
                is_missing = True
            else:
                try:
                    number = float(cell)
                    is_missing = False
                except ValueError:
                    bad.add("unparseable_value", tags.names[code], line_number, repr(cell[:40]))
                    number = math.nan
                    is_missing = True
            codes.append(code)
            steps.append(step)
            values.append(number)
            missing.append(is_missing)
            breaks.append(pending_break)
            pending_break = False
    problems.extend(bad.problems(_describe_csv_problem))
    problems.sort(key=lambda p: p.offset or 0)
    n = len(codes)
    return _records(
        tags, codes, steps, np.full(n, np.nan), values, missing, breaks, problems=problems
    )


# --------------------------------------------------------------------------------------------
# JSON histories
# --------------------------------------------------------------------------------------------

_NONFINITE_WORDS = {
    "nan",
    "+nan",
    "-nan",
    "inf",
    "+inf",
    "-inf",
    "infinity",
    "+infinity",
    "-infinity",
}
_POINT, _MISSING, _BAD = 0, 1, 2


def _json_number(item) -> tuple[int, float]:
    """(status, value) of one history entry: a point, missing (null) or not a number."""
    if item is None:
        return _MISSING, math.nan
    if isinstance(item, bool):
        return _BAD, math.nan
    if isinstance(item, (int, float)):
        try:
            return _POINT, float(item)
        except OverflowError:
            return _BAD, math.nan
    if isinstance(item, str):
        word = item.strip()
        if word.lower() in _NONFINITE_WORDS or _NUMBER_LIKE.fullmatch(word):
            try:
                return _POINT, float(word)
            except ValueError:
                return _BAD, math.nan
    return _BAD, math.nan


def _is_entry(item) -> bool:
    return item is None or isinstance(item, (int, float, str))


def _counts_as_number(item) -> bool:
    return item is None or (_json_number(item)[0] == _POINT)


def _history_columns(obj, partial: bool = False) -> dict | None:
    """The dict-of-lists history in obj ({"loss": [...]} or {"history": {...}}), or None.

    A partial object (the intact start of a damaged file) may have only empty lists so far.
    """
    if not isinstance(obj, dict):
        return None
    inner = obj.get("history")
    if isinstance(inner, dict) and _history_columns(inner, partial) is not None:
        return inner
    if not obj:
        return None
    if not all(isinstance(v, list) and all(_is_entry(x) for x in v) for v in obj.values()):
        return None
    if not partial and not any(_counts_as_number(x) for v in obj.values() for x in v):
        return None
    return obj


def _history_rows(obj) -> list | None:
    """The list-of-dicts history in obj ([{"epoch": 0, "loss": ...}, ...]), or None."""
    if not isinstance(obj, list) or not obj:
        return None
    if not all(isinstance(row, dict) and all(_is_entry(x) for x in row.values()) for row in obj):
        return None
    if not any(_counts_as_number(x) for row in obj for k, x in row.items() if k != "epoch"):
        return None
    return obj


def _clean_name(name: str) -> str:
    """A tag from a file decoded with surrogateescape, made printable."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _describe_json_problem(kind, tag, count, offset, detail) -> str:
    return (
        f"'{tag}' has {_plural(count, 'entry')} that {'is' if count == 1 else 'are'} not a number "
        f"(first {detail}); treated as missing."
    )


def _json_records(columns: dict | None, rows: list | None, file: str, problems) -> _FileRecords:
    tags = _TagTable()
    bad = _ValueProblems(file)
    codes: list[int] = []
    steps: list[int] = []
    values: list[float] = []
    missing: list[bool] = []
    if columns is not None:
        for key, items in columns.items():
            tag = _clean_name(str(key))
            code = tags.code(tag)
            for index, item in enumerate(items):
                status, number = _json_number(item)
                if status == _BAD:
                    bad.add("unparseable_value", tag, None, f"entry {index}: {str(item)[:40]!r}")
                codes.append(code)
                steps.append(index)
                values.append(number)
                missing.append(status != _POINT)
    else:
        for index, row in enumerate(rows):
            epoch = row.get("epoch")
            step = _as_step(epoch) if isinstance(epoch, (int, float)) else None
            if step is None:
                step = index
            for key, item in row.items():
                if key == "epoch":
                    continue
                tag = _clean_name(str(key))
                code = tags.code(tag)
                status, number = _json_number(item)
                if status == _BAD:
                    bad.add("unparseable_value", tag, None, f"entry {index}: {str(item)[:40]!r}")
                codes.append(code)
                steps.append(step)
                values.append(number)
                missing.append(status != _POINT)
    problems = list(problems) + bad.problems(_describe_json_problem)
    n = len(codes)
    return _records(tags, codes, steps, np.full(n, np.nan), values, missing, problems=problems)


class _JsonStop(Exception):
    def __init__(self, pos: int, partial):
        self.pos = pos
        self.partial = partial


_NOTHING = object()
_JSON_WS = re.compile(r"[ \t\n\r]*")
_JSON_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\.)*"', re.DOTALL)
_JSON_SCALAR = re.compile(
    r'-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|null|true|false|NaN|-?Infinity|"(?:[^"\\\x00-\x1f]|\\.)*"',
    re.DOTALL,
)
_JSON_LITERALS = {"null": None, "true": True, "false": False, "NaN": math.nan}
_CUT_TOKEN = re.compile(
    r'\s*(?:"(?:[^"\\]|\\.)*\\?|-?\d*\.?\d*(?:[eE][+-]?\d*)?|n(?:u(?:l(?:l)?)?)?|t(?:r(?:u(?:e)?)?)?'
    r"|f(?:a(?:l(?:s(?:e)?)?)?)?|N(?:a(?:N)?)?|-?I(?:n(?:f(?:i(?:n(?:i(?:t(?:y)?)?)?)?)?)?)?)\s*",
    re.DOTALL,
)


def _tolerant_json(text: str):
    """Parses as much of a damaged JSON text as is intact: (value, stop position or None).

    Lists keep their complete items (a number is complete once a ',' or ']' follows it); an
    object keeps its complete entries and the intact part of a list or object it was reading.
    """
    n = len(text)
    ws = _JSON_WS.match
    scalar = _JSON_SCALAR.match

    def skip(pos):
        return ws(text, pos).end()

    def value_at(pos, depth):
        pos = skip(pos)
        if pos >= n or depth > MAX_JSON_DEPTH:
            raise _JsonStop(pos, _NOTHING)
        char = text[pos]
        if char == "{":
            return object_at(pos + 1, depth + 1)
        if char == "[":
            return array_at(pos + 1, depth + 1)
        match = scalar(text, pos)
        if match is None:
            raise _JsonStop(pos, _NOTHING)
        token = match.group()
        if token in _JSON_LITERALS:
            return _JSON_LITERALS[token], match.end(), True
        if token[0] == '"':
            try:
                return json.loads(token), match.end(), True
            except ValueError as error:
                raise _JsonStop(pos, _NOTHING) from error
        try:
            number = json.loads(token)
        except ValueError:  # Infinity, or an integer too long for int()
            number = float(token)
        return number, match.end(), True

    def array_at(pos, depth):
        items = []
        pos = skip(pos)
        if pos < n and text[pos] == "]":
            return items, pos + 1, False
        while True:
            start = pos
            try:
                item, pos, is_scalar = value_at(pos, depth)
            except _JsonStop as stop:
                raise _JsonStop(stop.pos, items) from None
            pos = skip(pos)
            if pos < n and text[pos] in ",]":
                items.append(item)
                if text[pos] == "]":
                    return items, pos + 1, False
                pos += 1
                continue
            if is_scalar:  # a number at the end may be cut short: 0.12 of 0.125
                raise _JsonStop(skip(start), items)
            items.append(item)  # a closed list or object is complete
            raise _JsonStop(pos, items)

    def object_at(pos, depth):
        obj = {}
        pos = skip(pos)
        if pos < n and text[pos] == "}":
            return obj, pos + 1, False
        while True:
            pos = skip(pos)
            match = _JSON_STRING.match(text, pos)
            if match is None:
                raise _JsonStop(pos, obj)
            try:
                key = json.loads(match.group())
            except ValueError:
                raise _JsonStop(pos, obj) from None
            pos = skip(match.end())
            if pos >= n or text[pos] != ":":
                raise _JsonStop(pos if pos >= n else match.start(), obj)
            try:
                item, pos, is_scalar = value_at(pos + 1, depth)
            except _JsonStop as stop:
                if isinstance(stop.partial, (list, dict)):
                    obj[key] = stop.partial
                raise _JsonStop(stop.pos, obj) from None
            end = pos
            pos = skip(pos)
            if pos < n and text[pos] in ",}":
                obj[key] = item
                if text[pos] == "}":
                    return obj, pos + 1, False
                pos += 1
                continue
            if not is_scalar:
                obj[key] = item
            raise _JsonStop(end if not is_scalar else pos, obj)

    try:
        value, pos, _ = value_at(0, 0)
    except _JsonStop as stop:
        return (None if stop.partial is _NOTHING else stop.partial), stop.pos
    except RecursionError:
        return None, 0
    pos = skip(pos)
    return value, (pos if pos < n else None)


def _parse_json(data: bytes, file: str) -> _FileRecords:
    """A Keras History as JSON: {"loss": [...]}, {"history": {...}} or [{"epoch": 0, ...}, ...]."""
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    text = data[bom:].decode("utf-8", errors="surrogateescape")
    problems: list[Problem] = []
    valid = True
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        valid = False
        obj, stop = _tolerant_json(text)
        if stop is not None:
            offset = bom + len(text[:stop].encode("utf-8", "surrogateescape"))
            if _CUT_TOKEN.fullmatch(text, stop):
                problems.append(
                    Problem(
                        "truncated",
                        file,
                        f"The JSON ends early at byte {offset}: it was cut short or is still "
                        "being written; the values before it were read.",
                        offset,
                    )
                )
            else:
                problems.append(
                    Problem(
                        "corrupt",
                        file,
                        f"The JSON is damaged at byte {offset} "
                        f"(unexpected {text[stop : stop + 12]!r}); the values before it were read.",
                        offset,
                    )
                )
    columns = _history_columns(obj, partial=not valid)
    rows = None if columns is not None else _history_rows(obj)
    if columns is None and rows is None:
        if not valid:
            raise _NotALog("it is not valid JSON and no history could be read from it")
        raise _NotALog(
            'it is not a training history (expected {"loss": [...], ...}, '
            '{"history": {...}} or [{"epoch": 0, "loss": ...}, ...])'
        )
    return _json_records(columns, rows, file, problems)


# --------------------------------------------------------------------------------------------
# The on-disk cache
# --------------------------------------------------------------------------------------------

_META_KEY = b"neurogenesis.key"
_META_PROBLEMS = b"neurogenesis.problems"
_META_COUNTS = b"neurogenesis.counts"


def _cache_key(path: Path, stat: os.stat_result) -> str:
    return f"{path}\x00{stat.st_size}\x00{stat.st_mtime_ns}\x00{READER_VERSION}"


def _cache_entry(cache_root: Path, path: Path) -> Path:
    # One entry per source file (named by path and reader version, so a log that grows replaces
    # its entry instead of piling up new ones); the size and mtime are checked inside.
    name = hashlib.sha1(f"{path}\x00{READER_VERSION}".encode("utf-8", "surrogateescape"))
    return cache_root / CACHE_SUBDIR / f"{name.hexdigest()}.parquet"


def _cache_read(entry: Path, key: str) -> _FileRecords | None:
    try:
        if not entry.is_file():
            return None
        import pyarrow.parquet as pq

        metadata = pq.read_schema(entry).metadata or {}
        if metadata.get(_META_KEY) != key.encode("utf-8", "surrogateescape"):
            return None
        table = pq.read_table(entry, memory_map=True)
        num_scalars, num_hist = json.loads(metadata[_META_COUNTS])
        problems = [Problem(**p) for p in json.loads(metadata[_META_PROBLEMS])]
        if table.num_rows != num_scalars + num_hist:
            return None
        tag_column = table.column("tag")
        if tag_column.num_chunks == 0:
            indices, names = np.zeros(0, np.int32), []
        else:
            if tag_column.num_chunks > 1:
                tag_column = tag_column.unify_dictionaries()
            names = tag_column.chunk(0).dictionary.to_pylist()
            indices = np.concatenate(
                [c.indices.to_numpy(zero_copy_only=False) for c in tag_column.chunks]
            ).astype(np.int32)
        if indices.size and (indices.min() < 0 or indices.max() >= len(names)):
            return None

        def column(name, dtype):
            return np.asarray(table.column(name).to_numpy(), dtype=dtype)

        steps = column("step", np.int64)
        walls = column("wall_time", np.float64)
        values = column("value", np.float64)
        missing = column("missing", bool)
        breaks = column("break", bool)
        buckets = table.column("buckets").combine_chunks()
        offsets = buckets.offsets.to_numpy()
        flat = buckets.values.to_numpy(zero_copy_only=False).astype(np.float64)
        hist_buckets = []
        for row in range(num_scalars, num_scalars + num_hist):
            chunk = flat[offsets[row] : offsets[row + 1]]
            if chunk.size % 3:
                return None
            hist_buckets.append(chunk.reshape(-1, 3))
        s = slice(0, num_scalars)
        h = slice(num_scalars, num_scalars + num_hist)
        return _FileRecords(
            tags=names,
            codes=indices[s],
            steps=steps[s],
            wall_times=walls[s],
            values=values[s],
            missing=missing[s],
            breaks=breaks[s],
            hist_codes=indices[h],
            hist_steps=steps[h],
            hist_wall_times=walls[h],
            hist_buckets=hist_buckets,
            problems=problems,
        )
    except Exception:
        return None  # a damaged or foreign entry: parse the file instead


def _cache_write(entry: Path, key: str, records: _FileRecords) -> None:
    tmp = None
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq

        num_scalars = len(records.codes)
        num_hist = len(records.hist_codes)
        lengths = np.zeros(num_scalars + num_hist + 1, dtype=np.int64)
        lengths[num_scalars + 1 :] = [b.size for b in records.hist_buckets]
        flat = (
            np.concatenate([b.reshape(-1) for b in records.hist_buckets])
            if records.hist_buckets
            else np.zeros(0)
        )
        table = pa.table(
            {
                "tag": pa.DictionaryArray.from_arrays(
                    pa.array(np.concatenate([records.codes, records.hist_codes]), pa.int32()),
                    pa.array(records.tags, pa.string()),
                ),
                "step": np.concatenate([records.steps, records.hist_steps]),
                "wall_time": np.concatenate([records.wall_times, records.hist_wall_times]),
                "value": np.concatenate([records.values, np.full(num_hist, np.nan)]),
                "missing": np.concatenate([records.missing, np.zeros(num_hist, bool)]),
                "break": np.concatenate([records.breaks, np.zeros(num_hist, bool)]),
                "buckets": pa.LargeListArray.from_arrays(
                    pa.array(np.cumsum(lengths), pa.int64()), pa.array(flat, pa.float64())
                ),
            }
        )
        table = table.replace_schema_metadata(
            {
                _META_KEY: key.encode("utf-8", "surrogateescape"),
                _META_COUNTS: json.dumps([num_scalars, num_hist]).encode(),
                _META_PROBLEMS: json.dumps([p.to_dict() for p in records.problems]).encode(),
            }
        )
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=entry.name, suffix=".tmp", dir=entry.parent)
        os.close(fd)
        pq.write_table(table, tmp)
        os.replace(tmp, entry)
        tmp = None
    except Exception:
        pass  # an unwritable or full cache folder only costs speed
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


# --------------------------------------------------------------------------------------------
# Files -> runs
# --------------------------------------------------------------------------------------------


def _file_kind(path: Path) -> str | None:
    name = path.name
    if EVENT_FILE_MARKER in name:
        return "events"
    suffix = path.suffix.lower()
    if suffix == CSV_SUFFIX:
        return "csv"
    if suffix == JSON_SUFFIX:
        return "json"
    return None


def _parse_file(kind: str, data: bytes, file: str) -> _FileRecords:
    if kind == "events":
        return _parse_events(data, file)
    if kind == "csv":
        return _parse_csv(data, file)
    return _parse_json(data, file)


def _load_file(path: Path, kind: str, use_cache: bool, cache_root: Path) -> _FileRecords:
    """The records of one file, from the cache when it is fresh. Raises _NotALog."""
    file = str(path)
    try:
        stat = os.stat(path)
    except OSError as error:
        return _empty_records([_unreadable(file, error)])
    key = _cache_key(path, stat)
    entry = _cache_entry(cache_root, path) if use_cache else None
    if entry is not None:
        cached = _cache_read(entry, key)
        if cached is not None:
            return cached
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        return _empty_records([_unreadable(file, error)])
    try:
        records = _parse_file(kind, data, file)
    except _NotALog:
        raise
    except Exception as error:  # no input may crash the reader; say what happened instead
        return _empty_records(
            [
                Problem(
                    "unreadable",
                    file,
                    f"The file could not be read because of an internal error "
                    f"({type(error).__name__}: {str(error)[:80]}); please report it.",
                )
            ]
        )
    if entry is not None:
        _cache_write(entry, key, records)
    return records


def _unreadable(file: str, error: OSError) -> Problem:
    reason = error.strerror or type(error).__name__
    return Problem(
        "unreadable",
        file,
        f"The file could not be opened ({reason}); check that it exists and is readable.",
    )


def _split_by_code(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A stable order grouping equal codes, and each group's [start, end) in that order."""
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    if sorted_codes.size == 0:
        return order, np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    ends = np.r_[starts[1:], sorted_codes.size]
    return order, starts, ends


def _assemble(
    name: str,
    path: str,
    format: str,
    files: list[str],
    records: list[_FileRecords],
    live: bool = False,
) -> Run:
    """One run from the records of its files (in reading order): segments, restarts, duplicates.

    For a live run, an incomplete record at the very end of the last file is the writer's next
    record arriving, not damage: it is left out silently and read once it is complete.
    """
    problems: list[Problem] = [
        p
        for i, r in enumerate(records)
        for p in r.problems
        if not (live and i == len(records) - 1 and p.kind == "truncated" and p.file == files[-1])
    ]
    # A global code per tag across the files.
    tags = _TagTable()
    maps = [np.array([tags.code(t) for t in r.tags] or [0], dtype=np.int32) for r in records]

    def cat(arrays, dtype):
        return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype)

    codes = cat([m[r.codes] for m, r in zip(maps, records, strict=True)], np.int32)
    steps = cat([r.steps for r in records], np.int64)
    walls = cat([r.wall_times for r in records], np.float64)
    values = cat([r.values for r in records], np.float64)
    missing = cat([r.missing for r in records], bool)
    breaks = cat([r.breaks for r in records], bool)
    file_index = cat([np.full(len(r.codes), i, np.int32) for i, r in enumerate(records)], np.int32)
    break_count = np.cumsum(breaks)

    # Points, grouped by tag in file order.
    points = ~missing
    order, starts, ends = _split_by_code(codes[points])
    c = codes[points][order]
    s = steps[points][order]
    w = walls[points][order]
    v = values[points][order]
    b = break_count[points][order]
    f = file_index[points][order]
    same_tag = c[1:] == c[:-1]
    went_back = same_tag & (s[1:] < s[:-1])
    restarted = went_back | (same_tag & (b[1:] != b[:-1]))
    repeated = same_tag & ~restarted & (s[1:] == s[:-1])
    new_segments = np.r_[0, np.cumsum(restarted)]
    segments = (new_segments - np.repeat(new_segments[starts], ends - starts)).astype(np.int32)

    # Missing steps, grouped by tag in file order.
    m_order, m_starts, m_ends = _split_by_code(codes[missing])
    m_codes = codes[missing][m_order]
    m_steps = steps[missing][m_order]
    missing_by_code = {int(m_codes[a]): m_steps[a:e] for a, e in zip(m_starts, m_ends, strict=True)}

    scalars: dict[str, ScalarSeries] = {}
    point_codes = set()
    for a, e in zip(starts, ends, strict=True):
        code = int(c[a])
        point_codes.add(code)
        scalars[tags.names[code]] = ScalarSeries(
            tag=tags.names[code],
            steps=s[a:e],
            values=v[a:e],
            wall_times=w[a:e],
            segments=segments[a:e],
            missing_steps=missing_by_code.get(code, np.zeros(0, np.int64)),
        )
    for code, missing_steps in missing_by_code.items():
        if code not in point_codes:
            scalars[tags.names[code]] = ScalarSeries(
                tags.names[code],
                np.zeros(0, np.int64),
                np.zeros(0),
                np.zeros(0),
                np.zeros(0, np.int32),
                missing_steps,
            )

    problems.extend(_sequence_problems(restarted, went_back, c, s, f, files, tags.names, "restart"))
    problems.extend(_sequence_problems(repeated, None, c, s, f, files, tags.names, "duplicate"))

    # Histograms, grouped by tag in file order.
    hist_codes = cat([m[r.hist_codes] for m, r in zip(maps, records, strict=True)], np.int32)
    hist_steps = cat([r.hist_steps for r in records], np.int64)
    hist_walls = cat([r.hist_wall_times for r in records], np.float64)
    hist_buckets = [bucket for r in records for bucket in r.hist_buckets]
    h_order, h_starts, h_ends = _split_by_code(hist_codes)
    histograms: dict[str, HistogramSeries] = {}
    for a, e in zip(h_starts, h_ends, strict=True):
        rows = h_order[a:e]
        tag = tags.names[int(hist_codes[rows[0]])]
        histograms[tag] = HistogramSeries(
            tag, hist_steps[rows], hist_walls[rows], tuple(hist_buckets[i] for i in rows)
        )

    scalars = dict(sorted(scalars.items()))
    histograms = dict(sorted(histograms.items()))
    run = Run(name, path, format, scalars, histograms, tuple(problems), tuple(files), live)
    if not run.has_data and not live:
        where = files[0] if len(files) == 1 else path
        problems.append(
            Problem(
                "empty",
                where,
                "No scalar or histogram values were found"
                + (" in the readable part of the log." if run.problems else "."),
            )
        )
        run = Run(name, path, format, scalars, histograms, tuple(problems), tuple(files), live)
    return run


def _sequence_problems(flags, went_back, c, s, f, files, names, which) -> list[Problem]:
    """One Problem per tag for restarts (which='restart') or repeated steps (which='duplicate')."""
    positions = np.flatnonzero(flags)
    if positions.size == 0:
        return []
    tag_codes = c[positions + 1]
    _, first, counts = np.unique(tag_codes, return_index=True, return_counts=True)
    problems = []
    for index, count in zip(first, counts, strict=True):
        at = positions[index]  # the transition from point at to point at + 1
        tag = names[int(c[at + 1])]
        before, after = int(s[at]), int(s[at + 1])
        file = files[int(f[at + 1])]
        if which == "restart":
            how = (
                f"the step went back from {before} to {after}"
                if went_back[at]
                else f"a new header line starts again at step {after}"
            )
            message = (
                f"Tag '{tag}' restarts {_plural(int(count), 'time')} (first {how}), as a resumed "
                "or restarted training does; each restart starts a new segment and every point "
                "is kept."
            )
            problems.append(Problem("restart", file, message, None, after, tag))
        else:
            message = (
                f"Tag '{tag}' logs the same step twice in a row {_plural(int(count), 'time')} "
                f"(first at step {after}); every point is kept."
            )
            problems.append(Problem("duplicate_steps", file, message, None, after, tag))
    return problems


def _resolve(path) -> Path:
    try:
        raw = os.fspath(path)
    except TypeError:
        raise InputError(
            f"Expected a path to {EXPECTED_LOGS}. Received: {type(path).__name__} {path!r}."
        ) from None
    if isinstance(raw, bytes):
        raw = os.fsdecode(raw)
    if not raw or "\x00" in raw:
        raise InputError(f"Expected a path to {EXPECTED_LOGS}. Received: {raw!r}.")
    resolved = Path(os.path.abspath(os.path.expanduser(raw)))
    try:
        exists = resolved.exists()
    except OSError:
        exists = False
    if not exists:
        raise InputError(
            f"Expected {EXPECTED_LOGS}. Received: '{raw}', which does not exist; check the path."
        )
    return resolved


def _event_files_in(folder: Path, names: list[str]) -> list[Path]:
    paths = [folder / name for name in names if EVENT_FILE_MARKER in name and name[:1] != "."]
    paths = [p for p in paths if p.is_file()]
    return sorted(paths, key=_event_file_sort_key)


def _folder_run(
    folder: Path, names: list[str], name: str, use_cache: bool, cache_root: Path
) -> Run:
    event_files = _event_files_in(folder, names)
    fmt = "neurogenesis" if RUN_MANIFEST_NAME in names else "tensorboard"
    live = fmt == "neurogenesis" and manifest_status(folder / RUN_MANIFEST_NAME) == "running"
    records = [_load_file(p, "events", use_cache, cache_root) for p in event_files]
    return _assemble(name, str(folder), fmt, [str(p) for p in event_files], records, live)


def _file_run(path: Path, kind: str, name: str, use_cache: bool, cache_root: Path) -> Run:
    """A run made of one file. Raises _NotALog for a .csv/.json that is not a log."""
    records = _load_file(path, kind, use_cache, cache_root)
    fmt = {"events": "tensorboard", "csv": "csv", "json": "json"}[kind]
    return _assemble(name, str(path), fmt, [str(path)], [records])


def _not_a_log_error(path: Path, kind: str, reason: str) -> InputError:
    what = "a Keras CSVLogger file" if kind == "csv" else "a JSON training history"
    return InputError(f"Expected {what}. Received: '{path}', but {reason}.")


def _cache_root(cache_dir) -> Path:
    return Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE_DIR


def read_run(
    path: str | os.PathLike,
    *,
    name: str | None = None,
    use_cache: bool = True,
    cache_dir: Path | None = None,
) -> Run:
    """Reads one run: a folder with event files directly inside, an event file, a .csv or a .json.

    A damaged or empty log still gives a Run; what was wrong is in ``Run.problems``.

    Args:
        path: The run folder or file.
        name: The run's name; by default the folder's or file's name (an event file's folder).
        use_cache: Read and write the on-disk cache of parsed files.
        cache_dir: The cache folder (entries go in its ``logs`` sub-folder); by default
            :data:`DEFAULT_CACHE_DIR`.

    Returns:
        The run, every point kept.

    Raises:
        InputError: The path does not exist, is not a log of a known kind, or is a .csv/.json
            that is not a training log.
    """
    resolved = _resolve(path)
    cache_root = _cache_root(cache_dir)
    if resolved.is_dir():
        try:
            names = sorted(os.listdir(resolved))
        except OSError as error:
            raise InputError(
                f"Expected a readable run folder. Received: '{resolved}' "
                f"({error.strerror or type(error).__name__}); check its permissions."
            ) from None
        if not _event_files_in(resolved, names):
            raise InputError(
                "Expected a run folder with event files (events.out.tfevents.*) directly inside. "
                f"Received: '{resolved}', which has none; use find_runs for a folder of runs."
            )
        return _folder_run(resolved, names, name or resolved.name, use_cache, cache_root)
    kind = _file_kind(resolved)
    if kind is None:
        raise InputError(
            f"Expected {EXPECTED_LOGS}. Received: '{resolved.name}'; pick one of those files."
        )
    default_name = resolved.parent.name if kind == "events" else resolved.name
    try:
        return _file_run(resolved, kind, name or default_name, use_cache, cache_root)
    except _NotALog as reason:
        raise _not_a_log_error(resolved, kind, str(reason)) from None


def find_runs(
    path: str | os.PathLike, *, use_cache: bool = True, cache_dir: Path | None = None
) -> list[Run]:
    """Finds and reads every run under a log folder, the way TensorBoard does, or one log file.

    Every folder with event files directly inside is a run (Keras' TensorBoard callback gives
    ``train`` and ``validation``); every CSVLogger ``.csv`` and JSON history ``.json`` is a run of
    its own. Hidden folders and the cache folder are skipped, and ``.json`` files that are not
    histories (configs, ``neurogenesis_run.json``) are ignored. A damaged log is read as far as it
    goes, with its problems in ``Run.problems``.

    Args:
        path: A log folder, an event file, a .csv or a .json file.
        use_cache: Read and write the on-disk cache of parsed files.
        cache_dir: The cache folder (entries go in its ``logs`` sub-folder); by default
            :data:`DEFAULT_CACHE_DIR`.

    Returns:
        The runs, sorted by name. Runs without data are kept when another run has data.

    Raises:
        InputError: The path does not exist, holds no log of a known kind, or no run has any data.
    """
    root = _resolve(path)
    cache_root = _cache_root(cache_dir)
    runs: list[Run] = []
    if root.is_file():
        runs.append(read_run(root, use_cache=use_cache, cache_dir=cache_root))
    else:
        skip = set()
        for candidate in (cache_root, cache_root / CACHE_SUBDIR):
            with contextlib.suppress(OSError, ValueError):
                skip.add(os.path.realpath(candidate))
        for folder, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(
                d
                for d in dirnames
                if not d.startswith(".") and os.path.realpath(os.path.join(folder, d)) not in skip
            )
            folder_path = Path(folder)
            relative = folder_path.relative_to(root).as_posix()
            filenames = sorted(filenames)
            if _event_files_in(folder_path, filenames):
                run_name = (root.name or str(root)) if relative == "." else relative
                runs.append(_folder_run(folder_path, filenames, run_name, use_cache, cache_root))
            for filename in filenames:
                if filename.startswith(".") or EVENT_FILE_MARKER in filename:
                    continue
                file_path = folder_path / filename
                kind = _file_kind(file_path)
                if kind is None or not file_path.is_file():
                    continue
                run_name = filename if relative == "." else f"{relative}/{filename}"
                try:
                    runs.append(_file_run(file_path, kind, run_name, use_cache, cache_root))
                except _NotALog:
                    continue
    if not runs:
        raise InputError(
            f"Expected {EXPECTED_LOGS}. Received: '{root}', where none was found; "
            "point at the folder your TensorBoard callback or CSVLogger wrote to."
        )
    runs.sort(key=lambda run: run.name)
    if not any(run.has_data for run in runs):
        found = [p for run in runs for p in run.problems if p.kind != "empty"] or [
            p for run in runs for p in run.problems
        ]
        listed = " ".join(p.message for p in found[:MAX_PROBLEMS_IN_ERROR])
        more = len(found) - MAX_PROBLEMS_IN_ERROR
        if more > 0:
            listed += f" (and {_plural(more, 'more problem')})"
        raise InputError(
            f"Expected at least one run with scalars or histograms. Received: '{root}' with "
            f"{_plural(len(runs), 'run')} and no values: {listed}"
        )
    return runs
