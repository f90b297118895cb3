"""Drawing a long training curve: every point against MinMaxLTTB-downsampled points.

Makes a random-walk "loss" of 1,000,000 steps (a few NaN/Inf steps included) and measures

(a) the payload: bytes of the plotly figure JSON a page sends to the browser, all points
    (``go.Scattergl``) against ``downsample(x, y, max_points)`` points (``go.Scatter``),
(b) the time to downsample,
(c) the time to build and serialise each figure (downsampling included for the small one),

and prints the ratios. Also checks that the downsampled points keep the first and last step and
the global minimum and maximum; exits non-zero when they do not.

    python benchmarks/curves.py [--points 1000000] [--max-points 2000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import plotly.graph_objects as go  # noqa: E402

from neurogenesis.analysis.smoothing import downsample, tensorboard_ema  # noqa: E402


def _best(fn, repeats: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def _figure_json(trace_cls, x: np.ndarray, y: np.ndarray) -> str:
    fig = go.Figure(trace_cls(x=x, y=y, mode="lines", name="loss"))
    fig.update_layout(xaxis_title="step", yaxis_title="loss")
    return fig.to_json()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--max-points", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    n = args.points
    x = np.arange(n, dtype=np.int64)
    y = 2.0 + np.cumsum(rng.normal(scale=0.01, size=n))
    y[rng.choice(n, size=10, replace=False)] = np.nan
    y[rng.choice(n, size=2, replace=False)] = np.inf
    print(f"series: {n:,} points, budget {args.max_points:,} points, best of {args.repeats}")

    t_ema, _ = _best(lambda: tensorboard_ema(y, 0.6), args.repeats)
    print(f"tensorboard_ema(weight=0.6):        {t_ema * 1e3:9.1f} ms")

    t_ds, idx = _best(lambda: downsample(x, y, args.max_points), args.repeats)
    print(f"(b) downsample (MinMaxLTTB):         {t_ds * 1e3:9.1f} ms  -> {idx.size:,} points")

    t_full, full_json = _best(lambda: _figure_json(go.Scattergl, x, y), args.repeats)
    t_small, small_json = _best(
        lambda: _figure_json(go.Scatter, x[(i := downsample(x, y, args.max_points))], y[i]),
        args.repeats,
    )
    full_b, small_b = len(full_json.encode()), len(small_json.encode())
    print(
        f"(a) figure JSON bytes: all points {full_b:,}  downsampled {small_b:,}  "
        f"ratio {full_b / small_b:,.0f}x"
    )
    print(
        f"(c) build + serialise: all points {t_full * 1e3:,.1f} ms  "
        f"downsampled (incl. downsample) {t_small * 1e3:,.1f} ms  ratio {t_full / t_small:,.0f}x"
    )

    finite = np.isfinite(y)
    fi = np.flatnonzero(finite)
    must = {0, n - 1, int(fi[np.argmin(y[finite])]), int(fi[np.argmax(y[finite])])}
    missing = must - set(idx.tolist())
    if missing:
        print(f"FAIL: downsampled points miss indices {sorted(missing)}")
        return 1
    print("ok: first, last, global min and max kept; non-finite kept:", int((~finite[idx]).sum()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
