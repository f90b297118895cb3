"""Reading a big TensorBoard log: our reader against TensorBoard's EventAccumulator.

Writes a TF2-format scalar log (by default 5 tags x 100,000 steps = 500,000 points, each event
laid out byte for byte as ``tf.summary.scalar`` writes it: a rank-0 DT_FLOAT tensor in
``tensor_content`` with ``plugin_name: "scalars"`` metadata), then times

(a) ``EventAccumulator(size_guidance=0)``: ``Reload()`` and every tensor read back as a number,
(b) ``find_runs(use_cache=False)``: parsing the TFRecords ourselves,
(c) ``find_runs`` with a warm cache: reopening from the Parquet cache,

and checks that both readers saw the same points. Exits non-zero when they disagree.

    python benchmarks/logs.py [--points 500000] [--tags 5] [--quick]
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import google_crc32c  # noqa: E402
import numpy as np  # noqa: E402
from tensorboard.compat.proto import event_pb2, summary_pb2, types_pb2  # noqa: E402

from neurogenesis.io.logs import find_runs  # noqa: E402

DEFAULT_POINTS = 500_000
QUICK_POINTS = 50_000
DEFAULT_TAGS = 5


def _masked_crc(data: bytes) -> int:
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _frame(payload: bytes) -> bytes:
    header = struct.pack("<Q", len(payload))
    return (
        header
        + struct.pack("<I", _masked_crc(header))
        + payload
        + struct.pack("<I", _masked_crc(payload))
    )


def write_scalar_log(folder: Path, num_points: int, num_tags: int, seed: int = 0) -> dict:
    """A TF2 scalar event file as tf.summary writes it; returns {tag: float32 values}."""
    folder.mkdir(parents=True, exist_ok=True)
    num_steps = num_points // num_tags
    rng = np.random.default_rng(seed)
    tags = [f"epoch_metric_{i}" for i in range(num_tags)]
    values = {tag: rng.standard_normal(num_steps).astype(np.float32) for tag in tags}
    start = 1_700_000_000.0
    metadata = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars")
    )
    chunks = [
        _frame(event_pb2.Event(wall_time=start, file_version="brain.Event:2").SerializeToString())
    ]
    event = event_pb2.Event()
    value = event.summary.value.add()
    value.tensor.dtype = types_pb2.DT_FLOAT
    value.tensor.tensor_shape.SetInParent()
    value.metadata.CopyFrom(metadata)
    serialize = event.SerializeToString
    for step in range(num_steps):
        event.step = step
        for k, tag in enumerate(tags):
            event.wall_time = start + step * 0.01 + k * 0.001
            value.tag = tag
            value.tensor.tensor_content = values[tag][step].tobytes()
            chunks.append(_frame(serialize()))
    path = folder / f"events.out.tfevents.{int(start)}.benchmark.1.v2"
    path.write_bytes(b"".join(chunks))
    return values


def read_with_event_accumulator(folder: Path) -> dict:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util

    accumulator = EventAccumulator(
        str(folder), size_guidance={"scalars": 0, "tensors": 0, "histograms": 0}
    )
    accumulator.Reload()
    return {
        tag: np.array(
            [tensor_util.make_ndarray(e.tensor_proto).item() for e in accumulator.Tensors(tag)]
        )
        for tag in accumulator.Tags()["tensors"]
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=None, help="scalar points in the log")
    parser.add_argument("--tags", type=int, default=DEFAULT_TAGS, help="number of scalar tags")
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_POINTS:,} points (for the test suite)"
    )
    args = parser.parse_args(argv)
    num_points = args.points or (QUICK_POINTS if args.quick else DEFAULT_POINTS)

    with tempfile.TemporaryDirectory(prefix="neurogenesis-bench-") as scratch:
        logdir = Path(scratch) / "logs" / "train"
        cache_dir = Path(scratch) / "cache"
        t0 = time.perf_counter()
        written = write_scalar_log(logdir, num_points, args.tags)
        total = sum(v.size for v in written.values())
        size_mb = sum(p.stat().st_size for p in logdir.iterdir()) / 1e6
        print(
            f"wrote {total:,} points ({args.tags} tags) in {size_mb:.1f} MB "
            f"({time.perf_counter() - t0:.1f} s)"
        )

        # Import TensorFlow (the EventAccumulator reads records through it) outside the timing.
        from tensorboard.backend.event_processing import event_accumulator  # noqa: F401
        from tensorboard.compat import tf

        tf.io.gfile.exists(str(logdir))

        t0 = time.perf_counter()
        baseline = read_with_event_accumulator(logdir)
        t_baseline = time.perf_counter() - t0

        t0 = time.perf_counter()
        (parsed,) = find_runs(logdir.parent, use_cache=False)
        t_parse = time.perf_counter() - t0

        find_runs(logdir.parent, cache_dir=cache_dir)  # fills the cache
        cached_times = []
        for _ in range(3):  # best of three: the reopen is short enough for noise to matter
            t0 = time.perf_counter()
            (cached,) = find_runs(logdir.parent, cache_dir=cache_dir)
            cached_times.append(time.perf_counter() - t0)
        t_cached = min(cached_times)

    baseline_points = sum(v.size for v in baseline.values())
    ours = sum(s.num_points for s in parsed.scalars.values())
    print(
        f"(a) EventAccumulator (size_guidance=0):  {t_baseline:7.3f} s  {baseline_points:,} points"
    )
    print(f"(b) find_runs, parsing:                  {t_parse:7.3f} s  {ours:,} points")
    print(f"(c) find_runs, cached reopen:            {t_cached:7.3f} s")
    print(f"parse speedup vs EventAccumulator: {t_baseline / t_parse:.1f}x")
    print(f"cached reopen speedup vs parse: {t_parse / t_cached:.1f}x")

    ok = baseline_points == ours == total and parsed == cached
    for tag, values in written.items():
        series = parsed.scalars.get(tag)
        ok = ok and series is not None and np.array_equal(series.values, values.astype(np.float64))
        ok = ok and np.array_equal(baseline.get(tag), values.astype(np.float64))
    if not ok:
        print("MISMATCH: the readers disagree on the points", file=sys.stderr)
        return 1
    print("both readers saw the same points")
    return 0


if __name__ == "__main__":
    sys.exit(main())
