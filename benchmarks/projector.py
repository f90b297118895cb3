"""The embedding projector on 50,000 points, where TensorBoard's stops (t-SNE 10,000, UMAP 5,000).

Makes 64-D clustered data (sklearn ``make_blobs``, 10 centres) and measures, in one run:

(a) ``warm_up("umap")``: numba's one-off compilation, first call against second call;
(b) ``projection_info`` with PCA, UMAP (seeded: single-threaded and reproducible; and
    ``seed=None``: parallel) and t-SNE on every point, or on ``--tsne-points`` of them when t-SNE
    on all would take too long on a small machine, each with its trustworthiness;
(c) ``cluster_info``: k-means with k chosen by silhouette on the features, HDBSCAN on the UMAP
    coordinates;
(d) the figure: ``plot_projection`` (WebGL, typed arrays, hover text on 5,000 points) against a
    baseline with a hover string on every point drawn with ``go.Scatter`` (SVG): build +
    serialise time and JSON bytes, and their ratios;
(e) with ``--browser``: Plotly.newPlot and a zoom (relayout) of each figure in headless Chromium.

    python benchmarks/projector.py [--points 50000] [--tsne-points 10000] [--quick] [--browser]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
from sklearn.datasets import make_blobs  # noqa: E402

from neurogenesis.analysis.embeddings import cluster_info, projection_info, warm_up  # noqa: E402
from neurogenesis.plotting.embeddings import HOVER_LIMIT, plot_projection  # noqa: E402

FEATURES = 64
CENTRES = 10


def _timed(function, repeats: int = 1):
    """Best wall time of ``repeats`` calls, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def _hover_texts(labels: np.ndarray) -> list[str]:
    return [f"sample {i}\nclass {label}\npredicted {label}" for i, label in enumerate(labels)]


def _baseline(coords: np.ndarray, labels: np.ndarray, texts: list[str]) -> go.Figure:
    """What a plain Plotly scatter does: SVG, a hover string on every point, one trace a class."""
    fig = go.Figure()
    for label in np.unique(labels):
        points = np.flatnonzero(labels == label)
        fig.add_trace(
            go.Scatter(
                x=coords[points, 0],
                y=coords[points, 1],
                mode="markers",
                name=f"class {label}",
                text=[texts[i].replace("\n", "<br>") for i in points],
                customdata=points,
                hoverinfo="text",
            )
        )
    return fig


def _browser(figures: dict[str, str]) -> None:
    """(e): Plotly.newPlot and one zoom per figure in headless Chromium (software WebGL)."""
    chromium = Path("/usr/bin/chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("(e) skipped: playwright is not installed")
        return
    if not chromium.exists():
        print("(e) skipped: Debian's chromium is not installed")
        return
    from plotly.offline import get_plotlyjs

    flags = ["--headless", "--no-sandbox", "--no-first-run", "--use-angle=swiftshader"]
    flags.append("--enable-unsafe-swiftshader")
    draw = """async (figure) => {
        const div = document.createElement('div');
        div.style.width = '1000px'; div.style.height = '700px';
        document.body.appendChild(div);
        const spec = JSON.parse(figure);
        const t0 = performance.now();
        await Plotly.newPlot(div, spec.data, spec.layout);
        const drawn = performance.now() - t0;
        const t1 = performance.now();
        await Plotly.relayout(div, {'xaxis.range': [-1, 1], 'yaxis.range': [-1, 1]});
        const zoomed = performance.now() - t1;
        Plotly.purge(div); div.remove();
        return [drawn, zoomed];
    }"""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=flags)
        page = browser.new_page()
        page.set_content(f"<html><body><script>{get_plotlyjs()}</script></body></html>")
        webgl = page.evaluate("() => !!document.createElement('canvas').getContext('webgl')")
        results = {name: page.evaluate(draw, figure) for name, figure in figures.items()}
        browser.close()
    print(f"(e) headless Chromium (software WebGL available: {webgl}):")
    for name, (drawn, zoomed) in results.items():
        print(f"    {name:<28} newPlot {drawn:8,.0f} ms   zoom {zoomed:8,.0f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=50_000)
    parser.add_argument(
        "--tsne-points", type=int, default=10_000, help="points t-SNE runs on (0: skip; -1: all)"
    )
    parser.add_argument("--quick", action="store_true", help="5,000 points, t-SNE on 2,000")
    parser.add_argument("--browser", action="store_true", help="also draw in headless Chromium")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="figure timings: best of")
    args = parser.parse_args(argv)
    if args.quick:
        args.points, args.tsne_points = 5_000, 2_000
    n = args.points
    features, labels = make_blobs(
        n_samples=n, n_features=FEATURES, centers=CENTRES, cluster_std=2.0, random_state=args.seed
    )
    features = features.astype(np.float32)
    print(f"data: {n:,} points x {FEATURES} features, {CENTRES} blobs; {os.cpu_count()} CPU cores")

    first, _ = _timed(lambda: warm_up("umap"))
    second, _ = _timed(lambda: warm_up("umap"))
    print(f"(a) warm_up('umap'): first call {first:6.1f} s, second call {second * 1e3:.3f} ms")

    rows = []
    t, pca = _timed(lambda: projection_info(features, "pca", seed=args.seed))
    rows.append(("PCA", n, t, pca))
    t, umap_seeded = _timed(lambda: projection_info(features, "umap", seed=args.seed))
    rows.append(("UMAP (seed, 1 thread)", n, t, umap_seeded))
    t, umap_parallel = _timed(lambda: projection_info(features, "umap", seed=None))
    rows.append(("UMAP (seed=None, parallel)", n, t, umap_parallel))
    if args.tsne_points:
        count = n if args.tsne_points < 0 else min(n, args.tsne_points)
        t, tsne = _timed(lambda: projection_info(features[:count], "tsne", seed=args.seed))
        rows.append(("t-SNE", count, t, tsne))
    print("(b) projections (wall time incl. trustworthiness on <= 2,000 points):")
    for name, count, seconds, info in rows:
        print(
            f"    {name:<28} {count:>7,} points {seconds:8.2f} s   fit {info.seconds:8.2f} s   "
            f"trustworthiness {info.trustworthiness:.3f}"
        )
        for note in info.notes:
            print(f"        note: {note}")

    t_kmeans, kmeans = _timed(lambda: cluster_info(features, "kmeans", seed=args.seed))
    t_hdb, hdb = _timed(lambda: cluster_info(umap_seeded.coords, "hdbscan", seed=args.seed))
    print(
        f"(c) k-means on features (k chosen: {kmeans.num_clusters}, silhouette "
        f"{kmeans.silhouette:.3f}): {t_kmeans:.2f} s;  HDBSCAN on UMAP coords "
        f"({hdb.num_clusters} clusters, {hdb.num_noise:,} noise): {t_hdb:.2f} s"
    )

    texts = _hover_texts(labels)
    names = [f"class {i}" for i in range(CENTRES)]
    t_fig, ours = _timed(
        lambda: plot_projection(
            umap_seeded, color=labels, category_names=names, hover_text=texts
        ).to_json(),
        args.repeats,
    )
    t_base, base = _timed(
        lambda: _baseline(umap_seeded.coords, labels, texts).to_json(), args.repeats
    )
    ours_b, base_b = len(ours.encode()), len(base.encode())
    print(
        f"(d) figure, build + to_json (best of {args.repeats}): projector "
        f"{t_fig * 1e3:,.0f} ms, {ours_b:,} bytes "
        f"(hover text on {min(n, HOVER_LIMIT):,} points, WebGL)"
    )
    print(
        f"    baseline (go.Scatter SVG, hover text on every point): {t_base * 1e3:,.0f} ms, "
        f"{base_b:,} bytes"
    )
    print(f"    ratios: JSON {base_b / ours_b:.1f}x smaller, build {t_base / t_fig:.1f}x faster")
    if args.browser:
        _browser({"projector (Scattergl)": ours, "baseline (Scatter, SVG)": base})
    return 0


if __name__ == "__main__":
    sys.exit(main())
