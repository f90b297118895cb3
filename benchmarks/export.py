"""Exporting many static figures: 20 PNGs in one export session against one PNG on its own.

Outside a session every PNG starts (and stops) a headless browser through kaleido, which costs
seconds; ``neurogenesis.plotting.export.export_session`` starts one browser (kaleido's sync server)
for all of them. Measured in the same run, on the same figure (the convergence figure of a
synthetic 60-epoch loss, drawn by ``plotting.convergence.plot_convergence``; ``--three-d`` uses
the loss landscape's 3-D surface instead, which the browser renders in software WebGL):

(a) one PNG with no session: a fresh browser, the cost a user pays per figure without one
    (best of ``--repeats``),
(b) ``--count`` PNGs inside one session, session start and stop included,

and prints (b) / (a). The goal is "well under ``--count`` times one": exits 1 when the ratio
reaches ``--count``, and also when a session's PNG differs from the fresh browser's (PNGs carry
no timestamps, so the same figure gives the same bytes). Without kaleido or a browser there is
nothing to measure: it says so and exits 0.

    python benchmarks/export.py [--count 20] [--repeats 2] [--three-d]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from benchmarks.timing import best  # noqa: E402
from neurogenesis.plotting.export import (  # noqa: E402
    export_session,
    figure_bytes,
    static_export_available,
)


def _figure(three_d: bool):
    if three_d:
        from neurogenesis.analysis.landscape import LandscapeInfo
        from neurogenesis.plotting.landscape import plot_landscape_3d

        axis = np.linspace(-1.0, 1.0, 21)
        loss = 0.2 + axis[:, None] ** 2 + 0.5 * axis[None, :] ** 2
        info = LandscapeInfo(
            directions="random",
            metric_names=("loss",),
            loss_name="mse",
            alphas=axis,
            betas=axis,
            values=loss[None],
            direction_x=np.zeros(4, np.float32),
            direction_y=np.zeros(4, np.float32),
            trajectory=np.zeros((0, 2)),
            trajectory_labels=(),
            trajectory_values=np.zeros((1, 0)),
            explained_variance=np.zeros(0),
            num_samples=512,
            seed=0,
            normalization="filter",
            bias_mode="zero",
            complete=True,
            trained_values=np.array([0.2]),
        )
        return plot_landscape_3d(info)
    from neurogenesis.analysis.convergence import convergence_info
    from neurogenesis.plotting.convergence import plot_convergence

    epochs = np.arange(60)
    rng = np.random.default_rng(0)
    loss = 0.1 + 2.0 * np.exp(-epochs / 9.0) + rng.normal(scale=0.01, size=epochs.size)
    return plot_convergence(convergence_info(epochs, loss, "min"), "val_loss")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20, help="PNGs in the session (default 20)")
    parser.add_argument("--repeats", type=int, default=2, help="fresh single PNGs, best kept")
    parser.add_argument("--three-d", action="store_true", help="a 3-D surface figure")
    args = parser.parse_args(argv)
    if not static_export_available():
        print("no kaleido or no Chrome/Chromium browser here: nothing to measure")
        return 0

    figure = _figure(args.three_d)
    kind = "3-D landscape" if args.three_d else "convergence"
    one, fresh = best(lambda: figure_bytes(figure, "png"), args.repeats)
    start = time.perf_counter()
    with export_session():
        images = [figure_bytes(figure, "png") for _ in range(args.count)]
    many = time.perf_counter() - start
    ratio = many / one
    print(f"figure: the {kind} figure, {len(fresh):,} bytes as PNG (1200 px wide, scale 2)")
    print(f"1 PNG, a browser of its own (best of {args.repeats}):  {one:7.2f} s")
    print(
        f"{args.count} PNGs in one export session:          {many:7.2f} s "
        f"({many / args.count:.2f} s each, the browser's start included)"
    )
    print(f"{args.count} PNGs without a session (extrapolated):  {one * args.count:7.2f} s")
    print(
        f"ratio {args.count} in a session / 1 alone: {ratio:.2f}x (goal: well under {args.count}x)"
    )
    print(f"speed-up over {args.count} browsers: {one * args.count / many:.1f}x")
    same = all(image == fresh for image in images)
    print(f"session PNGs identical to the fresh browser's: {same}")
    if not same:
        return 1
    return 0 if ratio < args.count else 1


if __name__ == "__main__":
    sys.exit(main())
