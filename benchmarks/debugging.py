"""The debugging page's hot paths, each against a naive baseline measured in the same run.

    python benchmarks/debugging.py [--samples 200] [--repeats 2]

On the bundled digits_cnn demo (best of ``--repeats``):

(a) PGD (10 steps) on ``--samples`` samples as one batch against one sample per call, checking
    both stay in the epsilon ball and give the same accuracy under attack;
(b) the paired bootstrap (10,000 resamples, vectorized in chunks) against a Python loop of
    resamples, checking the percentile intervals agree to sampling precision;
(c) the robustness curves (7 corruptions x 5-6 strengths, FGSM and PGD x 6 budgets) on the
    samples, reported as seconds per evaluated sample.
Exits non-zero when a check fails.
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

from benchmarks.timing import best  # noqa: E402
from neurogenesis.analysis import evaluation, graph, robustness  # noqa: E402
from neurogenesis.io.models import load_model  # noqa: E402
from neurogenesis.io.samples import load_samples  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    model = load_model(ROOT / "models" / "digits_cnn.keras")
    sample_set = load_samples(ROOT / "data" / "samples" / "digits_cnn.npz")
    x, y = sample_set.x[: args.samples], sample_set.y[: args.samples]
    bounds = robustness.value_range(sample_set.x)
    epsilon = 0.1 * (bounds[1] - bounds[0])
    failed = False

    def batched():
        return robustness.pgd(model, x, y, epsilon=epsilon, steps=10, value_range=bounds)

    def looped():
        return [
            robustness.pgd(model, x[i : i + 1], y[i : i + 1], epsilon=epsilon, steps=10,
                           value_range=bounds)
            for i in range(len(x))
        ]  # fmt: skip

    batched()  # trace once
    fast, batch = best(batched, args.repeats)
    slow, singles = best(looped, 1)
    looped_accuracy = float(np.mean([s.adversarial_accuracy for s in singles]))
    inside = float(np.max(np.abs(batch.x_adv.astype(np.float64) - x))) <= epsilon + 1e-6
    print(
        f"(a) PGD, 10 steps, {len(x)} samples: batch {fast:.2f} s, one per call {slow:.2f} s "
        f"-> {slow / fast:.1f}x; accuracy under attack {batch.adversarial_accuracy:.3f} "
        f"(looped {looped_accuracy:.3f}, clean {batch.clean_accuracy:.3f}); inside the ball: "
        f"{inside}"
    )
    # Random starts differ per call, so accuracies agree to a couple of samples, not exactly.
    tolerance = max(0.05, 2 / len(x))
    if not inside or abs(batch.adversarial_accuracy - looped_accuracy) > tolerance:
        failed = True

    probabilities = np.asarray(graph.predict(model, sample_set.x))
    correct_a = probabilities.argmax(axis=1) == sample_set.y
    rng = np.random.default_rng(1)
    correct_b = np.where(rng.random(len(correct_a)) < 0.1, ~correct_a, correct_a)
    resamples = 10_000

    def vectorized():
        return evaluation.paired_bootstrap_info(correct_a, correct_b, num_resamples=resamples)

    def loop():
        generator = np.random.default_rng(0)
        n = len(correct_a)
        differences = np.empty(resamples)
        for r in range(resamples):
            pick = generator.integers(0, n, n)
            differences[r] = correct_a[pick].mean() - correct_b[pick].mean()
        return np.quantile(differences, [0.025, 0.975])

    vectorized()  # the first call pays NumPy's and SciPy's one-time costs
    fast, info = best(vectorized, args.repeats)
    slow, (low, high) = best(loop, 1)
    print(
        f"(b) paired bootstrap, {resamples:,} resamples of {len(correct_a)}: vectorized "
        f"{fast * 1000:.0f} ms, loop {slow * 1000:.0f} ms -> {slow / fast:.1f}x; interval "
        f"[{info.low:+.4f}, {info.high:+.4f}] vs loop [{low:+.4f}, {high:+.4f}]"
    )
    if abs(info.low - low) > 0.01 or abs(info.high - high) > 0.01:
        failed = True

    start = time.perf_counter()
    curves = robustness.robustness_curves(model, x, y, value_range=bounds)
    seconds = time.perf_counter() - start
    evaluated = sum(len(curves.curve_values(name)[0]) for name in curves.names) * len(x)
    print(
        f"(c) robustness curves: {len(curves.names)} curves, {evaluated:,} sample evaluations in "
        f"{seconds:.1f} s ({seconds / evaluated * 1e6:.0f} us per evaluated sample)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
