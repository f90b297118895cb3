"""What RunRecorder costs per epoch on a small model, against no callback, measured in one run.

Trains the digits CNN (two convolutions, pooling, a dense head with dropout: the demo's model, on
scikit-learn's 1,797 real 8x8 digits, batch size 32, validation every epoch) once per setting:

(a) no callback (the baseline),
(b) ``RunRecorder(run_dir)``: the defaults, no probe data (gradients, activations skipped),
(c) ``RunRecorder(run_dir, probe_data=..., samples=...)``: the defaults as the docs advise them:
    scalars, learning rate, weight and activation histograms, a checkpoint per epoch, gradient
    norms and activation statistics on a 64-sample probe batch,
(d) (c) plus ``batch_scalars=True`` (everything the recorder can do for this model).

Two measures, both leaving out the first epoch (tracing; reported apart with the start cost):

* **in the recorder**: wall time spent inside the recorder's hooks per epoch, over the median
  epoch time without a callback. This is the headline ("overhead with defaults: X%" for (c)): it
  is what the recorder adds, and it is hardly disturbed by other work on a shared machine.
* **end to end**: the median epoch time (from ``on_epoch_begin`` to the end of the last
  callback's ``on_epoch_end``, so validation and the recorder included) against (a), in wall
  time and in process CPU time. It would also show indirect costs (Keras runs batch-end
  callbacks synchronously once one overrides ``on_train_batch_end``, as ``batch_scalars`` does),
  but on a busy machine its noise can exceed the effect.

The settings run in turns, ``--repeats`` times. Exits 1 if ``--max-overhead`` is given and the
headline exceeds it.

    python benchmarks/callback.py [--epochs 8] [--repeats 3] [--quick] [--max-overhead 15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from neurogenesis.recording import RunRecorder  # noqa: E402

SEED = 7
BATCH_SIZE = 32
PROBE_SIZE = 64
DEFAULT_EPOCHS = 8
DEFAULT_REPEATS = 3
GOAL_PERCENT = 15.0


def digits_data(limit: int | None = None):
    """The digits as float32 images in [0, 1], shape (n, 8, 8, 1); the last 20% for validation."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]
    y = digits.target.astype("int64")
    order = np.random.default_rng(SEED).permutation(len(x))
    x, y = x[order], y[order]
    if limit is not None:
        x, y = x[:limit], y[:limit]
    split = int(len(x) * 0.8)
    return (x[:split], y[:split]), (x[split:], y[split:])


def digits_cnn():
    """The demo's digits CNN (``neurogenesis.zoo.digits``), built here so the benchmark stands alone."""
    inputs = keras.Input((8, 8, 1), name="image")
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv_1")(inputs)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv_2")(x)
    x = keras.layers.MaxPooling2D(name="pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(64, activation="relu", name="dense")(x)
    x = keras.layers.Dropout(0.2, name="dropout")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="digits_cnn")


class EpochTimer(keras.callbacks.Callback):
    """Wall and CPU seconds per epoch, from on_epoch_begin to this callback's on_epoch_end (put
    it last)."""

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []
        self.cpu_seconds: list[float] = []
        self._started = (0.0, 0.0)

    def on_epoch_begin(self, epoch, logs=None):
        self._started = (time.perf_counter(), time.process_time())

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._started[0])
        self.cpu_seconds.append(time.process_time() - self._started[1])


class TimedRecorder(RunRecorder):
    """RunRecorder that adds up the wall time spent in its hooks, per epoch."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.hook_seconds: list[float] = [0.0]
        self.epoch_timings: list[dict] = []
        self.start_seconds = 0.0
        if self.batch_scalars:
            record = self.on_train_batch_end

            def timed(batch, logs=None):
                started = time.perf_counter()
                record(batch, logs)
                self.hook_seconds[-1] += time.perf_counter() - started

            self.on_train_batch_end = timed

    def on_train_begin(self, logs=None):
        started = time.perf_counter()
        super().on_train_begin(logs)
        self.start_seconds = time.perf_counter() - started

    def on_train_batch_begin(self, batch, logs=None):
        started = time.perf_counter()
        super().on_train_batch_begin(batch, logs)
        self.hook_seconds[-1] += time.perf_counter() - started

    def on_epoch_end(self, epoch, logs=None):
        started = time.perf_counter()
        super().on_epoch_end(epoch, logs)
        self.hook_seconds[-1] += time.perf_counter() - started
        self.hook_seconds.append(0.0)
        self.epoch_timings.append(dict(self.timings))


def settings(train, validation) -> dict:
    probe = (validation[0][:PROBE_SIZE], validation[1][:PROBE_SIZE])
    samples = (validation[0][:256], validation[1][:256])
    return {
        "no callback": None,
        "defaults, no probe": {},
        "defaults + probe": {"probe_data": probe, "samples": samples},
        "everything": {"probe_data": probe, "samples": samples, "batch_scalars": True},
    }


def train_once(options, train, validation, epochs: int, scratch: Path) -> dict:
    keras.utils.set_random_seed(SEED)
    model = digits_cnn()
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    timer = EpochTimer()
    callbacks = []
    recorder = None
    if options is not None:
        run_dir = Path(tempfile.mkdtemp(dir=scratch))
        recorder = TimedRecorder(run_dir, **options)
        callbacks.append(recorder)
    started = time.perf_counter()
    model.fit(
        train[0],
        train[1],
        validation_data=validation,
        epochs=epochs,
        batch_size=BATCH_SIZE,
        verbose=0,
        callbacks=[*callbacks, timer],
    )
    total = time.perf_counter() - started
    return {
        "epochs": timer.seconds,
        "cpu": timer.cpu_seconds,
        "hooks": recorder.hook_seconds[:epochs] if recorder is not None else [0.0] * epochs,
        "start": recorder.start_seconds if recorder is not None else 0.0,
        "total": total,
        "timings": _steady_timings(recorder.epoch_timings) if recorder is not None else {},
        "notes": list(recorder._notes) if recorder is not None else [],
    }


def _steady_timings(snapshots: list[dict]) -> dict[str, float]:
    """Seconds per epoch by part of the recorder, from the second epoch on (no tracing)."""
    if len(snapshots) < 2:
        return {}
    first, last = snapshots[0], snapshots[-1]
    return {
        part: (seconds - first.get(part, 0.0)) / (len(snapshots) - 1)
        for part, seconds in last.items()
        if seconds > first.get(part, 0.0)
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS)
    parser.add_argument("--repeats", type=int, default=DEFAULT_REPEATS)
    parser.add_argument(
        "--quick", action="store_true", help="a smoke test: 2 epochs, 1 repeat, 160 samples"
    )
    parser.add_argument("--max-overhead", type=float, default=None, help="fail above this percent")
    args = parser.parse_args(argv)
    epochs, repeats, limit = args.epochs, args.repeats, None
    if args.quick:
        epochs, repeats, limit = 2, 1, 160
    if epochs < 2:
        parser.error("--epochs must be at least 2 (the first epoch is reported apart)")

    train, validation = digits_data(limit)
    configurations = settings(train, validation)
    results: dict[str, list[dict]] = {name: [] for name in configurations}
    scratch = Path(tempfile.mkdtemp(prefix="neurogenesis-bench-callback-"))
    try:
        if not args.quick:  # warm TensorFlow up (kernels, thread pools) for every setting alike
            train_once(None, train, validation, 2, scratch)
        for _ in range(repeats):
            for name, options in configurations.items():
                results[name].append(train_once(options, train, validation, epochs, scratch))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    print(
        f"digits CNN, {len(train[0])} training and {len(validation[0])} validation samples, "
        f"batch size {BATCH_SIZE}, {epochs} epochs x {repeats} repeats"
    )

    def median(name: str, key: str) -> float:
        return statistics.median(s for r in results[name] for s in r[key][1:])

    baseline = median("no callback", "epochs")
    baseline_cpu = median("no callback", "cpu")
    print(
        f"{'setting':<20}{'in recorder':>13}{'epoch wall':>12}{'(change)':>10}"
        f"{'epoch CPU':>11}{'(change)':>10}{'start':>9}{'1st epoch':>11}"
    )
    overheads = {}
    for name in results:
        hooks = median(name, "hooks")
        wall, cpu = median(name, "epochs"), median(name, "cpu")
        start = statistics.median(r["start"] for r in results[name])
        first = statistics.median(r["hooks"][0] for r in results[name])
        overheads[name] = 100.0 * hooks / baseline
        print(
            f"{name:<20}{hooks * 1000:>7.1f} ms{overheads[name]:>4.0f}%"
            f"{wall * 1000:>9.0f} ms{100 * (wall - baseline) / baseline:>+9.0f}%"
            f"{cpu * 1000:>8.0f} ms{100 * (cpu - baseline_cpu) / baseline_cpu:>+9.0f}%"
            f"{start * 1000:>6.0f} ms{first * 1000:>8.0f} ms"
        )
    print(
        "(in recorder: median time in its hooks per epoch, % of the no-callback epoch; start: "
        "on_train_begin; 1st epoch: its hooks in the first epoch, tracing included)"
    )
    for name in ("defaults + probe", "everything"):
        parts: dict[str, list[float]] = {}
        for run in results[name]:
            for part, seconds in run["timings"].items():
                parts.setdefault(part, []).append(seconds)
        per_epoch = {part: 1000.0 * statistics.median(values) for part, values in parts.items()}
        listed = ", ".join(
            f"{part} {ms:.1f}" for part, ms in sorted(per_epoch.items(), key=lambda kv: -kv[1])
        )
        print(f"{name}: ms per epoch by part, after the first epoch: {listed}")
    notes = results["defaults + probe"][0]["notes"]
    if notes:
        print("recorder notes:", *notes, sep="\n  ")
    overhead = overheads["defaults + probe"]
    print(
        f"overhead with defaults: {overhead:.1f}% "
        f"(goal < {GOAL_PERCENT:.0f}%; without probe data {overheads['defaults, no probe']:.1f}%, "
        f"with batch scalars too {overheads['everything']:.1f}%)"
    )
    if args.max_overhead is not None and overhead > args.max_overhead:
        print(f"FAIL: overhead {overhead:.1f}% > {args.max_overhead}%")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
