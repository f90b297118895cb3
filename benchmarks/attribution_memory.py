"""Peak memory of integrated gradients with the memory-budgeted chunking, against one unchunked call.

    python benchmarks/attribution_memory.py [--photos 2] [--steps 50] [--budget-mb 1024]
        [--baseline-rows 8] [--model efficientnetb0|tiny]

On ``keras.applications.EfficientNetB0`` (``weights=None``, 224x224x3, 1000 classes; nothing
downloaded), every measurement in a fresh subprocess that reports its own peak resident memory
(``resource.getrusage``'s ``ru_maxrss``, Linux's VmHWM):

- **chunked**: ``attribution_info(method="integrated_gradients")`` on ``--photos`` photos with
  ``--steps`` steps, rows per call from ``attribution.chunk_rows`` under the budget
  (``$NEUROGENESIS_ATTRIBUTION_BUDGET_MB``, set from ``--budget-mb``);
- **baseline**: the same model, one photo, ``--baseline-rows`` steps in one gradient call (no
  chunking: ``batch_size`` = all rows); its growth over the process's memory before the call,
  per row, scaled to the ``photos x steps`` rows one unchunked call would hold (the measured way
  a run without the budget went: 4 photos x 50 steps was killed at 23.7 GB).

Each run's growth is its peak minus the peak after building the model and one forward pass (the
TensorFlow runtime and the weights, the same in both). Prints the peaks, the growths, the code's
own estimate (``attribution.row_bytes``) and the ratios. ``--model tiny`` runs a 32x32 CNN in
seconds (the smoke test). Linux (``ru_maxrss`` in KiB). The default run takes about 2 minutes on
two cores; ``--photos 8 --steps 100`` is a bigger one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

MIB = 2**20


def _peak_mib() -> float:
    """This process's peak resident memory so far, in MiB (Linux reports KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _model(name: str):
    from neurogenesis.testing import big_model, tiny_cnn

    if name == "tiny":
        return tiny_cnn(input_shape=(32, 32, 3), num_classes=4)
    return big_model("efficientnetb0")


def child(args: argparse.Namespace) -> None:
    """One measurement, in this process: prints one JSON line."""
    import numpy as np

    from neurogenesis.analysis import attribution, graph

    model = _model(args.model)
    shape = tuple(model.inputs[0].shape[1:])
    rows = args.photos * args.steps
    x = np.random.default_rng(0).random((args.photos, *shape)).astype("float32") * 255
    model(x[:1], training=False)  # the runtime and the weights in memory, like any page's
    setup = _peak_mib()
    layers = graph.graph_layers(model)
    batch_size = rows if args.role == "baseline" else None  # baseline: every row in one call
    chunk = attribution.chunk_rows(layers, shape) if batch_size is None else rows
    info = attribution.attribution_info(
        model, x, "integrated_gradients", steps=args.steps, batch_size=batch_size
    )
    assert np.all(np.isfinite(info.maps)), "non-finite maps"
    peak = _peak_mib()
    print(
        json.dumps(
            {
                "setup_mib": setup,
                "peak_mib": peak,
                "rows": rows,
                "rows_per_call": min(chunk, rows),
                "row_mib": attribution.row_bytes(layers, shape) / MIB,
            }
        )
    )


def _run(role: str, photos: int, steps: int, args: argparse.Namespace) -> dict:
    env = dict(os.environ, NEUROGENESIS_ATTRIBUTION_BUDGET_MB=str(args.budget_mb))
    env.pop("NEUROGENESIS_MAX_STEPS", None)  # every step runs
    command = [sys.executable, __file__, "--child", role, "--model", args.model]
    command += ["--photos", str(photos), "--steps", str(steps)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise SystemExit(f"the {role} run failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=2)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--budget-mb", type=int, default=1024)
    parser.add_argument("--baseline-rows", type=int, default=8)
    parser.add_argument("--model", choices=("efficientnetb0", "tiny"), default="efficientnetb0")
    parser.add_argument("--child", choices=("chunked", "baseline"), dest="role", help="internal")
    args = parser.parse_args(argv)
    if args.role:
        child(args)
        return 0

    chunked = _run("chunked", args.photos, args.steps, args)
    baseline = _run("baseline", 1, args.baseline_rows, args)
    rows = chunked["rows"]
    grown = max(chunked["peak_mib"] - chunked["setup_mib"], 1e-3)
    per_row = max(baseline["peak_mib"] - baseline["setup_mib"], 0.0) / baseline["rows"]
    unchunked = per_row * rows  # measured per row, scaled to every row in one call
    estimate = chunked["row_mib"] * rows  # the code's own estimate of one unchunked call
    name = "EfficientNetB0 224x224" if args.model == "efficientnetb0" else "tiny CNN 32x32"
    print(
        f"integrated gradients on {name}: {args.photos} photos x {args.steps} steps = {rows} rows"
    )
    print(f"budget {args.budget_mb} MiB: {chunked['rows_per_call']} rows per gradient call")
    print(
        f"chunked:  peak {chunked['peak_mib']:,.0f} MiB, {grown:,.0f} MiB over the "
        f"{chunked['setup_mib']:,.0f} MiB of the model and runtime"
    )
    print(
        f"baseline: {baseline['rows']} rows in one call grew {per_row * baseline['rows']:,.0f} MiB "
        f"({per_row:,.1f} MiB per row; the code estimates {chunked['row_mib']:,.1f})"
    )
    print(
        f"one unchunked call of {rows} rows: about {unchunked:,.0f} MiB (measured per row, "
        f"scaled); {estimate:,.0f} MiB by the code's estimate"
    )
    print(f"chunked growth / unchunked (scaled):  {grown / max(unchunked, 1e-3):.3f}")
    print(f"chunked growth / unchunked (estimate): {grown / max(estimate, 1e-3):.3f}")
    print(f"chunked growth / budget: {grown / args.budget_mb:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
