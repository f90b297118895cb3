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

The package holds one module per format (``events``, ``csv``, ``json_history``; ``records`` for
the TFRecord framing), ``series`` for what they read into and ``cache`` for the Parquet cache;
this module puts the files of a folder together into runs.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np

from neurogenesis.errors import InputError
from neurogenesis.io.logs.cache import (
    CACHE_SUBDIR,
    DEFAULT_CACHE_DIR,
    READER_VERSION,
    _cache_entry,
    _cache_key,
    _cache_read,
    _cache_write,
)
from neurogenesis.io.logs.csv import _parse_csv
from neurogenesis.io.logs.events import _event_file_sort_key, _parse_events
from neurogenesis.io.logs.json_history import _parse_json
from neurogenesis.io.logs.series import (
    EVENT_FILE_MARKER,
    PROBLEM_KINDS,
    HistogramSeries,
    Problem,
    Run,
    ScalarSeries,
    _empty_records,
    _FileRecords,
    _NotALog,
    _plural,
    _TagTable,
)
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

CSV_SUFFIX = ".csv"
JSON_SUFFIX = ".json"
MAX_PROBLEMS_IN_ERROR = 3
EXPECTED_LOGS = (
    "a TensorBoard log folder or event file (events.out.tfevents.*), "
    "a Keras CSVLogger .csv file or a JSON history .json file"
)


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
    epochs = cat([r.epochs for r in records], np.float64)
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
    ep = epochs[points][order]
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
            epochs=ep[a:e],
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
