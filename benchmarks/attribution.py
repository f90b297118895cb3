"""Batched SmoothGrad and integrated gradients against one model call per noise sample / per step.

    python benchmarks/attribution.py [--samples 8] [--noise-samples 32] [--steps 64] [--repeats 2]

On the bundled shapes_cnn demo (32x32x3 images), times ``attribution_info`` (every noise copy or
interpolation step of a sample in one batch; its compiled ``tf.function`` is kept for the model) and
a plain loop that calls the model once per noise copy / step (a ``tf.function`` on one row, compiled
once), measured in the same run, best of ``--repeats``, and prints the ratios. Also checks that both give the same maps (``np.allclose``); exits non-zero
when they do not or when a ratio is below 3x.
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

import numpy as np  # noqa: E402

from neurogenesis.analysis import attribution, graph  # noqa: E402
from neurogenesis.io.models import load_model  # noqa: E402
from neurogenesis.io.samples import load_samples  # noqa: E402

MIN_SPEEDUP = 3.0


def _timed(fn, repeats: int) -> tuple[float, float, object]:
    """(first run, best run, result): the first run includes building and compiling."""
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times[0], min(times), result


def _one_row_gradient(model):
    """A compiled d score / d input for one row at a time: the loop baseline's only model call."""
    import tensorflow as tf

    tapped = graph.tap_model(model)

    @tf.function
    def gradient(row, target):
        with tf.GradientTape() as tape:
            tape.watch(row)
            score = tapped(row, training=False)[0, target]
        return tape.gradient(score, row)

    return lambda row, target: np.asarray(gradient(tf.constant(row), tf.constant(target)))


def _smoothgrad_loop(gradient, x, targets, num_samples, noise_level, seed):
    rng = np.random.default_rng(seed)  # the same draws, in the same order, as the module
    maps = []
    for sample, target in zip(x, targets, strict=True):
        span = float(sample.max() - sample.min()) or 1.0
        noise = rng.normal(0.0, noise_level * span, size=(num_samples, *sample.shape))
        total = np.zeros(sample.shape)
        for k in range(num_samples):
            total += gradient((sample + noise[k])[None].astype(x.dtype), int(target))[0]
        maps.append(np.abs(total / num_samples).sum(axis=-1))
    return np.stack(maps)


def _integrated_gradients_loop(gradient, x, targets, steps):
    alphas = np.linspace(0.0, 1.0, steps)
    weights = np.full(steps, 1.0 / (steps - 1))
    weights[[0, -1]] /= 2  # trapezoid rule, zero baseline
    maps = []
    for sample, target in zip(x, targets, strict=True):
        total = np.zeros(sample.shape)
        for alpha, weight in zip(alphas, weights, strict=True):
            total += weight * gradient((alpha * sample)[None].astype(x.dtype), int(target))[0]
        maps.append(np.abs(sample * total).sum(axis=-1))
    return np.stack(maps)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--noise-samples", type=int, default=32)
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    model = load_model(ROOT / "models" / "shapes_cnn.keras")
    x = graph.model_input(model, load_samples(ROOT / "data" / "samples" / "shapes_cnn.npz").x)
    x = x[: args.samples]
    targets = np.argmax(graph.predict(model, x), axis=1)
    print(
        f"shapes_cnn, {len(x)} samples of {x.shape[1:]}, {args.noise_samples} noise samples, "
        f"{args.steps} steps, best of {args.repeats} (compiled functions are kept between runs, on both sides)"
    )
    gradient = _one_row_gradient(model)
    failed = False
    cases = [
        (
            "SmoothGrad",
            lambda: (
                attribution.attribution_info(
                    model, x, "smoothgrad", num_samples=args.noise_samples
                ).maps
            ),
            lambda: _smoothgrad_loop(
                gradient, x, targets, args.noise_samples, attribution.DEFAULT_NOISE_LEVEL, 0
            ),
            len(x) * args.noise_samples,
        ),
        (
            "integrated gradients",
            lambda: (
                attribution.attribution_info(
                    model, x, "integrated_gradients", steps=args.steps
                ).maps
            ),
            lambda: _integrated_gradients_loop(gradient, x, targets, args.steps),
            len(x) * args.steps,
        ),
    ]
    for name, batched, loop, calls in cases:
        first_batched, t_batched, maps_batched = _timed(batched, args.repeats)
        first_loop, t_loop, maps_loop = _timed(loop, args.repeats)
        scale = float(np.abs(maps_loop).max())
        same = np.allclose(maps_batched, maps_loop, rtol=1e-3, atol=1e-4 * scale)
        error = float(np.abs(maps_batched - maps_loop).max() / scale)
        ratio = t_loop / t_batched
        print(f"{name}:")
        print(
            f"  {'batched (attribution_info)':34s} {t_batched * 1e3:8.1f} ms  (first run {first_batched * 1e3:6.1f} ms)"
        )
        print(
            f"  {f'loop ({calls} model calls)':34s} {t_loop * 1e3:8.1f} ms  (first run {first_loop * 1e3:6.1f} ms)"
        )
        print(f"  {'speed-up':34s} {ratio:8.1f}x   (first runs {first_loop / first_batched:.1f}x)")
        print(f"  same maps (allclose): {same}  (max difference {error:.1e} of the largest value)")
        failed |= not same or ratio < MIN_SPEEDUP
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
