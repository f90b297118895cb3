"""The projector on the demo sample sets: what a user waits for, before and after issue 19.

For each chosen demo it reads the hidden states at the projector's default layer and measures, in
one run and on the same data:

(a) the first view: hidden states, PCA (with its trustworthiness) and the nearest neighbours;
    k-means with k chosen by silhouette, which the page used to run on every first view;
(b) t-SNE through openTSNE (what the page runs) against sklearn's Barnes-Hut t-SNE with its
    former 1,000 steps (the baseline), with both layouts' trustworthiness;
(c) with ``--umap``: UMAP's first fit in a fresh process, without the on-disk numba cache (the
    baseline: plain ``import umap``), with an empty cache (the first server start) and with the
    cache that start wrote (every later start).

Wall seconds and CPU seconds are printed: on a shared machine the CPU seconds are the steadier
figure.

    python benchmarks/projector_demos.py [--demos digits_cnn sentiment_transformer] [--umap]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

DEMOS = ("digits_cnn", "shapes_cnn", "sentiment_transformer", "weather_lstm", "digits_vae")

UMAP_CHILD = """
import os, sys, time
sys.path.insert(0, {root!r})
started, cpu = time.perf_counter(), time.process_time()
import numpy as np
points = np.random.default_rng(0).normal(size=(360, 64)).astype(np.float32)
if {cached}:
    from neurogenesis.analysis.embeddings import _umap_model
    model = _umap_model(n_components=2, random_state=0)
else:
    import umap
    model = umap.UMAP(n_components=2, random_state=0, n_jobs=1)
model.fit_transform(points)
print(f"{{time.perf_counter() - started:.1f}} {{time.process_time() - cpu:.1f}}")
"""


def _timed(function):
    started, cpu = time.perf_counter(), time.process_time()
    result = function()
    return time.perf_counter() - started, time.process_time() - cpu, result


def _row(name: str, wall: float, cpu: float, extra: str = "") -> None:
    print(f"  {name:<44} {wall:7.2f} s wall {cpu:7.2f} s CPU  {extra}", flush=True)


def _demo(name: str) -> None:
    from sklearn.manifold import TSNE, trustworthiness

    from neurogenesis.analysis import embeddings
    from neurogenesis.io.models import load_model
    from neurogenesis.io.samples import load_samples

    model = load_model(ROOT / "models" / f"{name}.keras")
    samples = load_samples(ROOT / "data" / "samples" / f"{name}.npz")
    layer = embeddings.default_layer(model)
    wall, cpu, features = _timed(lambda: embeddings.hidden_states(model, samples.x, layer))
    print(f"{name}: {features.shape[0]} samples x {features.shape[1]} features at {layer!r}")
    _row("(a) hidden states", wall, cpu)
    wall, cpu, pca = _timed(lambda: embeddings.projection_info(features, "pca"))
    _row("(a) PCA + trustworthiness", wall, cpu, f"trustworthiness {pca.trustworthiness:.3f}")
    wall, cpu, _ = _timed(lambda: embeddings.nearest_neighbours(features, 0, k=8))
    _row("(a) 8 nearest neighbours", wall, cpu)
    wall, cpu, clusters = _timed(lambda: embeddings.cluster_info(features, "kmeans"))
    _row(
        "    k-means, k by silhouette (now on demand)",
        wall,
        cpu,
        f"k = {clusters.num_clusters}",
    )
    wall, cpu, tsne = _timed(lambda: embeddings.projection_info(features, "tsne", seed=0))
    _row("(b) t-SNE, openTSNE (the page)", wall, cpu, f"trustworthiness {tsne.trustworthiness:.3f}")
    base_wall, base_cpu, coords = _timed(
        lambda: TSNE(
            n_components=2, init="pca", learning_rate="auto", max_iter=1000, random_state=0
        ).fit_transform(features)
    )
    score = trustworthiness(features, coords, n_neighbors=embeddings.TRUSTWORTHINESS_K)
    _row(
        "(b) t-SNE, sklearn 1,000 steps (before)",
        base_wall,
        base_cpu,
        f"trustworthiness {score:.3f}",
    )
    print(f"  t-SNE speed-up: {base_wall / wall:.1f}x wall, {base_cpu / max(cpu, 1e-9):.1f}x CPU")


def _umap_child(cached: bool, cache_dir: str | None) -> tuple[float, float]:
    environment = dict(os.environ)
    environment.pop("NUMBA_CACHE_DIR", None)
    if cache_dir is not None:
        environment["NUMBA_CACHE_DIR"] = cache_dir
    result = subprocess.run(
        [sys.executable, "-c", UMAP_CHILD.format(root=str(ROOT), cached=cached)],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
    )
    wall, cpu = result.stdout.split()[-2:]
    return float(wall), float(cpu)


def _umap() -> None:
    print("UMAP, first fit of 360 points in a fresh process (import included):")
    wall, cpu = _umap_child(False, None)
    _row("plain import umap (before)", wall, cpu)
    with tempfile.TemporaryDirectory() as folder:
        wall, cpu = _umap_child(True, folder)
        _row("numba cache on disk, empty (first start)", wall, cpu)
        wall, cpu = _umap_child(True, folder)
        _row("numba cache on disk, filled (later starts)", wall, cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demos", nargs="*", default=["digits_cnn"], choices=DEMOS)
    parser.add_argument("--umap", action="store_true", help="also time UMAP's first fit")
    arguments = parser.parse_args()
    np.random.seed(0)
    for name in arguments.demos:
        _demo(name)
    if arguments.umap:
        _umap()


if __name__ == "__main__":
    main()
