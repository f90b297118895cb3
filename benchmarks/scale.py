"""Landscape throughput on this machine and on a Ray cluster of 1 and 2 workers, the scaling
efficiency, and what the paper-size case (51×51 ResNet-50 on 2,000 images) would take.

    python benchmarks/scale.py [--model digits_cnn] [--samples 512] [--resolution 15]
        [--workers 1,2] [--resnet-samples 16] [--devices 1,8,64] [--no-resnet]
        [--device-samples-per-second R]

All measured in the same run, on the bundled demo ``--model`` (its compiled loss and metrics on
its first ``--samples`` samples), a ``--resolution`` × ``--resolution`` random plane:

- **local**: ``landscape_info`` in this process (the embedded default; TensorFlow uses every
  core), after one warm-up call that traces the compiled function;
- **ray, W workers**: a Ray instance started on this machine (``--ray local``), the same call
  with ``compute.ray.LandscapeChunks`` (W actors, one CPU each, every one holding the model and
  all the samples: grid-parallel), after each worker traced its function on a warm-up chunk.
  Starting the workers (TensorFlow import, model load) is printed apart: a job pays it once.

Throughput is grid points × samples per second; the scaling efficiency of W workers is their
throughput over W times one worker's (1.0 = linear). Every Ray grid is checked equal to the local
one (max absolute difference printed; exit 1 past 1e-5).

The estimate: ``keras.applications.ResNet50`` (``weights=None``, 224×224×3, 1000 classes;
nothing downloaded) on ``--resnet-samples`` random images through the same evaluator, its cost
per sample and grid point measured on this machine's device (a GPU when TensorFlow sees one, or
``--device-samples-per-second`` measured elsewhere), then 51 × 51 points × 2,000 samples (Li et
al. 2018's scale: 5.2 million forward passes) divided over N such devices at the efficiency
measured above. It is an estimate from a measured unit cost, said as such.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PAPER_RESOLUTION = 51
PAPER_SAMPLES = 2000
TOLERANCE = 1e-5


def _evaluator(name: str, count: int):
    from neurogenesis.analysis import landscape as L
    from neurogenesis.io.models import load_model, training_setup
    from neurogenesis.io.samples import load_samples

    path = ROOT / "models" / f"{name}.keras"
    model = load_model(path)
    samples = load_samples(ROOT / "data" / "samples" / f"{name}.npz")
    setup = training_setup(path)
    targets, _ = L.landscape_targets(model, samples.x, samples.y, setup.loss)
    count = min(count, len(samples))
    evaluator = L.LandscapeEvaluator(
        model, samples.x[:count], targets[:count], loss=setup.loss, metrics=setup.metrics
    )
    return path, model, evaluator


def _timed_grid(model, evaluator, resolution: int, runner=None):
    from neurogenesis.analysis import landscape as L

    start = time.perf_counter()
    info = L.landscape_info(
        model, None, None, evaluator=evaluator, resolution=resolution, runner=runner
    )
    return info, time.perf_counter() - start


def _warm_up(runner, evaluator) -> None:
    """One small chunk per worker, so that each traces its compiled function before the clock."""
    import numpy as np

    from neurogenesis.analysis import landscape as L

    dx, dy = L.random_directions(evaluator.model, seed=1)
    chunks = [np.zeros((2, 2), np.float32)] * runner.workers
    for _ in runner.run(chunks, [dx, dy]):
        pass


def _resnet_cost(samples: int) -> tuple[float, str]:
    """Seconds per sample and grid point of ResNet-50 through the landscape evaluator here."""
    import numpy as np
    import tensorflow as tf

    from neurogenesis.analysis import landscape as L
    from neurogenesis.testing import big_model

    model = big_model("resnet50")
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (samples, 224, 224, 3)).astype(np.float32)
    y = rng.integers(0, 1000, samples)
    evaluator = L.LandscapeEvaluator(model, x, y, loss="sparse_categorical_crossentropy")
    dx, dy = L.random_directions(model, seed=0)
    points = np.array([[0.0, 0.0], [0.1, -0.1]], np.float32)
    evaluator.evaluate(points, [dx, dy])  # traces
    start = time.perf_counter()
    evaluator.evaluate(points, [dx, dy])
    seconds = (time.perf_counter() - start) / (len(points) * samples)
    gpus = tf.config.list_physical_devices("GPU")
    device = f"{len(gpus)} GPU(s)" if gpus else f"this machine's CPU ({os.cpu_count()} cores)"
    return seconds, device


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="digits_cnn")
    parser.add_argument("--samples", type=int, default=512)
    parser.add_argument("--resolution", type=int, default=15)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--resnet-samples", type=int, default=16)
    parser.add_argument("--devices", default="1,8,64")
    parser.add_argument("--no-resnet", action="store_true")
    parser.add_argument("--device-samples-per-second", type=float, default=None)
    args = parser.parse_args(argv)
    import numpy as np

    from neurogenesis.compute import ComputeTarget
    from neurogenesis.compute.payload import payload_from_path
    from neurogenesis.compute.ray import LandscapeChunks, connect

    workers = sorted({int(w) for w in args.workers.split(",")})
    path, model, evaluator = _evaluator(args.model, args.samples)
    work = args.resolution**2 * evaluator.num_samples
    print(
        f"{args.model}: {args.resolution}×{args.resolution} grid × {evaluator.num_samples} "
        f"samples = {work:,} sample-forwards per grid; {os.cpu_count()} CPUs here"
    )
    _timed_grid(model, evaluator, 3)  # traces the local function
    local, seconds = _timed_grid(model, evaluator, args.resolution)
    throughput = {"local": work / seconds}
    print(f"local (this process):   {seconds:7.2f} s  {throughput['local']:12,.0f} /s")
    connect(ComputeTarget("local", workers=max(workers)))
    payload = payload_from_path(path)
    worst = 0.0
    for count in workers:
        start = time.perf_counter()
        runner = LandscapeChunks(
            ComputeTarget("local", workers=count), payload, evaluator, shards=1
        )
        _warm_up(runner, evaluator)
        started = time.perf_counter() - start
        try:
            info, seconds = _timed_grid(model, evaluator, args.resolution, runner)
        finally:
            runner.close()
        difference = float(np.nanmax(np.abs(info.values - local.values)))
        worst = max(worst, difference)
        throughput[count] = work / seconds
        print(
            f"ray, {count} worker{'s' if count > 1 else ' '}:         {seconds:7.2f} s  "
            f"{throughput[count]:12,.0f} /s  (workers started and traced in {started:.1f} s; "
            f"max |ray - local| {difference:.1e})"
        )
    efficiency = 1.0
    if 1 in throughput:
        print(f"1 worker / local: {throughput[1] / throughput['local']:.2f}x")
        for count in workers:
            if count > 1:
                efficiency = throughput[count] / (count * throughput[1])
                print(
                    f"scaling efficiency, {count} workers: {efficiency:.2f} "
                    f"({throughput[count] / throughput[1]:.2f}x one worker; 1.00 = linear)"
                )
    if not args.no_resnet:
        if args.device_samples_per_second:
            per_sample, device = 1 / args.device_samples_per_second, "the device you measured"
        else:
            per_sample, device = _resnet_cost(args.resnet_samples)
        forwards = PAPER_RESOLUTION**2 * PAPER_SAMPLES
        print(
            f"ResNet-50 on {device}: {per_sample * 1e3:.2f} ms per sample and grid point "
            f"(measured, {args.resnet_samples} samples); 51×51 × 2,000 = {forwards:,} forwards"
        )
        for count in sorted({int(n) for n in args.devices.split(",")}):
            scale = 1.0 if count == 1 else efficiency
            hours = forwards * per_sample / (count * scale) / 3600
            print(
                f"  estimate on {count:3d} such device{'s' if count > 1 else ' '}: "
                f"{hours:10.2f} h (efficiency {scale:.2f})"
            )
    if worst > TOLERANCE:
        print(f"FAIL: a Ray grid differs from the local one by {worst:.1e} > {TOLERANCE:g}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
