"""The on-disk cache of parsed files: Parquet, one entry per source file, keyed by its absolute
path, size, modification time and :data:`READER_VERSION`."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from neurogenesis.io.logs.series import Problem, _FileRecords

READER_VERSION = 2
"""Bump when parsing changes: cached entries written by another version are ignored."""
CACHE_SUBDIR = "logs"


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
        epochs = column("epoch", np.float64)
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
            epochs=epochs[s],
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
                "epoch": np.concatenate([records.epochs, np.full(num_hist, np.nan)]),
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
