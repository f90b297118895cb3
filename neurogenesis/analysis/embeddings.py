"""The embedding projector: hidden states of every sample, projected, clustered and searched.

Pure computation for the representations page, TensorBoard's projector without its caps (t-SNE at
10,000 points, UMAP at 5,000): every sample is projected, however many there are.

- ``layer_choices(model)``, ``default_layer(model)``: the layers whose outputs can be read as
  hidden states, and the one to open on (the pooled or dense layer before the head; the bottleneck
  of an autoencoder).
- ``hidden_states(model, x, layer, pooling=...)``: one row per sample at a layer, pooled over
  positions in batches (a feature map never sits whole in memory).
- ``token_states(model, tokens, layer)`` and ``embedding_matrix(model, layer)``: one point per token
  occurrence of a text model, and the vocabulary's own embedding table.
- ``projection_info(features, method)``: PCA, t-SNE or UMAP to 2-D or 3-D, with the layout's
  trustworthiness (how well it keeps each point's neighbours), timings and every choice made.
- ``cluster_info(features, method)``: k-means (k chosen by silhouette) or HDBSCAN. It clusters
  whatever it is given: the raw hidden states (the model's own geometry) or a projection's
  ``coords`` (what the user sees; much faster for HDBSCAN on many points). The page lets the user
  choose.
- ``nearest_neighbours(features, index)`` and ``similarity_matrix(features, indices)``: exact
  neighbour search and pairwise similarities in the layer's space.
- ``reconstruction_info(model, x)`` and ``latent_grid_info(model, x)``: an autoencoder's inputs
  beside its outputs (every sample's error), and its decoder's outputs over a grid of the first
  two latent dimensions, through the model's encoder and decoder sub-models.
- ``warm_up("umap")``: pays UMAP's numba compilation once per process, so a page can start it in
  a background thread when it loads; the compiled code is cached on disk
  (:func:`numba_cache_dir`), so only the first process on a machine pays the ~70 s.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurogenesis.analysis import graph
from neurogenesis.analysis.infos import ValueEquality
from neurogenesis.errors import InputError, UnsupportedModelError

__all__ = [
    "REASON_VIEWS",
    "reason",
    "CLUSTERINGS",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_K",
    "DEFAULT_MIN_DIST",
    "DEFAULT_N_NEIGHBORS",
    "DEFAULT_PERPLEXITY",
    "DIMS",
    "METRICS",
    "NEIGHBOUR_METRICS",
    "POOLINGS",
    "PROJECTIONS",
    "ClusterInfo",
    "LatentGridInfo",
    "ReconstructionInfo",
    "NeighboursInfo",
    "ProjectionInfo",
    "cluster_info",
    "default_layer",
    "hidden_states",
    "is_warm",
    "latent_grid_info",
    "latent_parts",
    "layer_choices",
    "nearest_neighbours",
    "numba_cache_dir",
    "padding_mask_input",
    "projection_info",
    "reconstruction_info",
    "similarity_matrix",
    "warm_up",
]

POOLINGS = ("auto", "mean", "max", "flatten", "first", "last")
PROJECTIONS = ("pca", "tsne", "umap")
CLUSTERINGS = ("kmeans", "hdbscan")
DIMS = (2, 3)
METRICS = ("euclidean", "cosine", "manhattan")
"""Distances t-SNE, UMAP and the trustworthiness score measure in (PCA is always euclidean)."""
NEIGHBOUR_METRICS = ("cosine", "euclidean")
DEFAULT_BATCH_SIZE = 256
DEFAULT_PERPLEXITY = 30.0
DEFAULT_N_NEIGHBORS = 15
DEFAULT_MIN_DIST = 0.1
DEFAULT_K = 10
MIN_POINTS = 3
TSNE_PRE_REDUCE_ABOVE = 10_000
"""t-SNE on more points than this first reduces the features to ``TSNE_PRE_REDUCE_DIMS`` with PCA
(van der Maaten's and sklearn's advice: it removes noise and makes the neighbour search fast)."""
TSNE_PRE_REDUCE_DIMS = 50
TSNE_EARLY_ITERATIONS = 250
TSNE_MAIN_ITERATIONS = 500
"""openTSNE's (and the paper's) schedule: 250 steps of early exaggeration, then 500."""
TSNE_MIN_ITERATIONS = 250  # sklearn (the fallback) refuses fewer
TSNE_FFT_ABOVE = 4_000
"""Barnes-Hut up to this many points, FFT-accelerated interpolation above (2-D only). Measured on
two cores, one thread: 2,500 points 11 s against 18 s, 5,000 points 40 s against 30 s, 10,000
points 93 s against 39 s (openTSNE's own switch, at 10,000, is later)."""
TSNE_PROGRESS_EVERY = 25
TRUSTWORTHINESS_POINTS = 2000
TRUSTWORTHINESS_K = 10
SILHOUETTE_POINTS = 5000
K_RANGE = (2, 10)
KMEANS_INITS = 4
HDBSCAN_MIN_SHARE = 0.01
"""HDBSCAN's default smallest cluster: this share of the points (at least ``HDBSCAN_MIN_SIZE``), so
50,000 points do not break into hundreds of five-point clusters."""
HDBSCAN_MIN_SIZE = 5
HDBSCAN_MAX_MIN_SAMPLES = 10
"""HDBSCAN's ``min_samples`` (the density estimate's neighbours) at most: larger values make the
core-distance search slow on many points and label more of them noise."""
HDBSCAN_SLOW_FEATURES = 16
WARM_UP_POINTS = 200
UMAP_EXACT_BELOW = 4096
"""umap-learn computes exact neighbours below this many points and NNDescent above it; each path
compiles its own numba code, so the warm-up runs both."""
SEED = 0
# Layer classes whose output is an earlier layer's at inference; a poor default to open on.
_PASS_THROUGH = (
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "GaussianNoise",
    "GaussianDropout",
)
_LATENT_GOOD = ("mean", "mu", "latent", "code", "bottleneck", "embedding")
_LATENT_BAD = ("var", "sigma", "std", "log")
_FLOAT_KINDS = "fc"

Progress = Callable[[float], None] | None


# --------------------------------------------------------------------------------------------
# Infos
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ProjectionInfo(ValueEquality):
    """A 2-D or 3-D layout of every point.

    Attributes:
        coords: float32 (N, dims) positions.
        method: ``"pca"``, ``"tsne"`` or ``"umap"``.
        dims: 2 or 3.
        explained_variance_ratio: float64 (dims,), the share of variance each principal component
            keeps (PCA only, else None).
        params: ``(name, value)`` pairs of every setting used, the lowered and derived ones
            included (``("pca_pre_reduction", 50)``).
        seconds: wall time of the projection itself.
        num_points: N.
        num_features: the features per point given (before any pre-reduction).
        trustworthiness: sklearn's trustworthiness (Venna & Kaski) of the layout at
            ``TRUSTWORTHINESS_K`` neighbours, on a random subsample of ``trustworthiness_points``
            points: 1.0 when every point's layout neighbours are its neighbours in the layer, about
            0.5 for a random layout. None for fewer than 4 points.
        trustworthiness_points: the points the score was measured on.
        notes: what was changed to make the method run, one sentence each.
    """

    coords: np.ndarray
    method: str
    dims: int
    explained_variance_ratio: np.ndarray | None
    params: tuple[tuple[str, Any], ...]
    seconds: float
    num_points: int
    num_features: int
    trustworthiness: float | None
    trustworthiness_points: int
    notes: tuple[str, ...]

    def param(self, name: str, default: Any = None) -> Any:
        return dict(self.params).get(name, default)


@dataclass(frozen=True, eq=False)
class ClusterInfo(ValueEquality):
    """Cluster labels of every point.

    Attributes:
        labels: int64 (N,), 0..num_clusters-1, or -1 for HDBSCAN's noise.
        method: ``"kmeans"`` or ``"hdbscan"``.
        num_clusters: clusters found (noise not counted).
        silhouette: sklearn's mean silhouette coefficient (-1..1, higher is better separated), on
            a random subsample of ``SILHOUETTE_POINTS`` for more points, noise left out; None for
            fewer than 2 clusters.
        num_noise: points labelled noise (always 0 for k-means).
        sizes: int64 (num_clusters,), points per cluster.
        k_scores: ``(k, silhouette)`` of every k tried when k-means chose k itself, else empty.
        params: ``(name, value)`` pairs of the settings used.
        notes: one sentence each.
    """

    labels: np.ndarray
    method: str
    num_clusters: int
    silhouette: float | None
    num_noise: int
    sizes: np.ndarray
    k_scores: tuple[tuple[int, float], ...]
    params: tuple[tuple[str, Any], ...]
    notes: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class NeighboursInfo(ValueEquality):
    """The nearest points to one point, nearest first (the point itself left out).

    Attributes:
        index: the query point.
        indices: int64 (k,), the neighbours, ties broken by lower index.
        distances: float64 (k,): cosine distance ``1 - cos`` or euclidean distance.
        metric: ``"cosine"`` or ``"euclidean"``.
    """

    index: int
    indices: np.ndarray
    distances: np.ndarray
    metric: str


# --------------------------------------------------------------------------------------------
# Layers and hidden states
# --------------------------------------------------------------------------------------------


def _hidden_states_reason(model: Any) -> str | None:
    """Why the projector cannot read this model's hidden states, or None when it can."""
    if not graph.supports(model):
        return (
            f"'{getattr(model, 'name', model)}' is a subclassed model without a functional graph, "
            "so its hidden states cannot be read. Build it with the functional API or as a "
            "Sequential model with an Input."
        )
    return None


REASON_VIEWS = ("hidden_states", "reconstructions", "latent_grid")


def reason(model: Any, view: str = "hidden_states") -> str | None:
    """Why a view of this module cannot be drawn for ``model``, or None when it can.

    Args:
        model: a Keras model.
        view: ``"hidden_states"`` (the projector reads the inner layers), ``"reconstructions"``
            (the model rebuilds its input: an autoencoder) or ``"latent_grid"`` (its latent
            space can be decoded: encoder and decoder sub-models).

    Raises:
        InputError: ``view`` is not one of :data:`REASON_VIEWS`.
    """
    checks = {
        "hidden_states": _hidden_states_reason,
        "reconstructions": _reconstructions_reason,
        "latent_grid": _latent_grid_reason,
    }
    if view not in checks:
        raise InputError(f"Expected a view in {REASON_VIEWS}. Received: {view!r}.")
    return checks[view](model)


def _float_paths(model: Any, layers: graph.GraphLayers) -> list[str]:
    """Paths whose output is floating point (masks, positions and token ids left out)."""
    paths = [entry.path for entry in layers.layers]
    if not paths:
        return []
    tapped = graph.tap_model(model, paths)
    kinds = [np.dtype(str(tensor.dtype)).kind for tensor in tapped.outputs[1:]]
    return [path for path, kind in zip(paths, kinds, strict=True) if kind in _FLOAT_KINDS]


def layer_choices(model: Any) -> list[str]:
    """Layer paths whose output can be read as hidden states, in model order.

    Every layer call with a floating-point output (nested models inlined, ``"encoder/z_mean"``);
    boolean masks and integer positions that text models compute are left out.

    Raises:
        UnsupportedModelError: the model has no graph.
    """
    return _float_paths(model, graph.graph_layers(model))


def _latent_rank(path: str) -> int:
    name = path.rsplit(graph.PATH_SEPARATOR, 1)[-1].lower()
    if any(word in name for word in _LATENT_BAD):
        return 2
    if any(word in name for word in _LATENT_GOOD):
        return 0
    return 1


def default_layer(model: Any) -> str | None:
    """The layer to open the projector on.

    For a model that rebuilds its input (an autoencoder: output shape equal to the input shape) it
    is the bottleneck, the smallest layer (a mean before a variance: ``"encoder/z_mean"``). Else it
    is the last layer before the head: layers at the end with the output's shape (the head and any
    rescaling after it) and dropout-like layers are passed over (shapes_cnn gives
    ``"global_pool"``, the sentiment transformer ``"pool"``). None when the model has no readable
    layer.
    """
    layers = graph.graph_layers(model)
    usable = set(_float_paths(model, layers))
    entries = [entry for entry in layers.layers if entry.path in usable]
    if not entries:
        return None
    rebuilds_input = layers.output_shape in layers.input_shapes
    if rebuilds_input and layers.output_activation != "softmax" and len(entries) > 1:
        inner = entries[:-1]
        sizes = [int(np.prod(entry.output_shape)) for entry in inner]
        smallest = min(sizes)
        ties = [entry for entry, size in zip(inner, sizes, strict=True) if size == smallest]
        return min(ties, key=lambda entry: _latent_rank(entry.path)).path
    index = len(entries) - 1
    while index > 0 and entries[index].output_shape == layers.output_shape:
        index -= 1
    if entries[index].output_shape == layers.output_shape:
        return entries[-1].path
    for candidate in range(index, -1, -1):
        if entries[candidate].class_name not in _PASS_THROUGH:
            return entries[candidate].path
    return entries[index].path


def _check_choice(value: str, choices: Sequence[str], name: str) -> None:
    if value not in choices:
        raise InputError(f"Expected {name} in {tuple(choices)}. Received: {value!r}.")


def padding_mask_input(model: Any) -> int | None:
    """The position (in ``model.inputs`` order) of the model's padding mask: an input named like
    one (KerasHub's ``padding_mask`` first, else an ``attention_mask``; ``io.samples``'s
    :func:`~neurogenesis.io.samples.mask_input_names`), or None when it has none. Of a
    model of one input, None: its one input is what it reads."""
    from neurogenesis.io.samples import mask_input_names

    names = graph.input_names(model)
    if len(names) < 2:
        return None
    candidates = mask_input_names(names)  # the rule io.samples.padding_mask reads data by
    return names.index(candidates[0]) if candidates else None


def _pool(batch: np.ndarray, pooling: str, mask: np.ndarray | None = None) -> np.ndarray:
    """One batch of outputs (B, ...) pooled to (B, D).

    ``mask``: ``(B, T)``, true at real tokens; used when the output is a sequence ``(B, T, D)``
    of the mask's length, so padding never enters a pooled state (see :func:`hidden_states`).
    """
    if batch.ndim <= 2 or pooling == "flatten":
        return batch.reshape(len(batch), -1)
    # Every axis but the last is a position (rows and columns of a map, time steps of a sequence).
    positions = batch.reshape(len(batch), -1, batch.shape[-1])
    if mask is not None and batch.ndim == 3 and mask.shape == batch.shape[:2]:
        real = mask.astype(bool)
        # A sample with no real token at all is pooled as if every token were real.
        real = np.where(real.any(axis=1, keepdims=True), real, True)
        if pooling in ("auto", "mean"):
            weights = real[..., None].astype(positions.dtype)
            return (positions * weights).sum(axis=1) / weights.sum(axis=1)
        if pooling == "max":
            return np.where(real[..., None], positions, -np.inf).max(axis=1).astype(batch.dtype)
        rows = np.arange(len(batch))
        if pooling == "first":
            return positions[rows, real.argmax(axis=1)]
        return positions[rows, real.shape[1] - 1 - real[:, ::-1].argmax(axis=1)]
    if pooling in ("auto", "mean"):
        return positions.mean(axis=1)
    if pooling == "max":
        return positions.max(axis=1)
    if pooling == "first":
        return positions[:, 0]
    return positions[:, -1]


def _run_batches(model: Any, x: Any, layer: str, batch_size: int, each: Callable) -> None:
    """Calls ``each(start, output batch as numpy, input arrays of the batch)`` for ``layer``'s
    output over all samples."""
    if not isinstance(batch_size, int) or batch_size < 1:
        raise InputError(
            f"Expected batch_size as a whole number of 1 or more. Received: {batch_size!r}"
        )
    arrays = graph.model_inputs(model, x)
    tapped = graph.tap_model(model, [layer])
    for start in range(0, len(arrays[0]), batch_size):
        chunk = graph.take(arrays, slice(start, start + batch_size))
        output = graph.call_tapped(tapped, *chunk)[1]
        each(start, np.asarray(output), chunk)


def hidden_states(
    model: Any,
    x: Any,
    layer: str,
    *,
    pooling: str = "auto",
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> np.ndarray:
    """One row per sample: ``layer``'s output, pooled over positions.

    Args:
        model: a functional or Sequential model (nested models are inlined; it is not changed).
        x: the samples (uint8 images are cast to the model's float input); for a model of
            several inputs a packed set, a dict by input name or a list in the model's input
            order (see ``graph.model_inputs``).
        layer: a path from :func:`layer_choices` (``"global_pool"``, ``"encoder/z_mean"``).
        pooling: how outputs with positions, ``(H, W, C)`` maps or ``(T, D)`` sequences, become one
            vector: ``"auto"`` and ``"mean"`` average over the positions, ``"max"`` takes the
            maximum, ``"first"``/``"last"`` take the first/last position (a ``[CLS]`` token, an
            RNN's last step), ``"flatten"`` keeps everything (``H*W*C`` features). Outputs that are
            already vectors are kept as they are. Mask-aware: when the model has a padding-mask
            input (:func:`padding_mask_input`) and the output is a ``(T, D)`` sequence of the
            mask's length, ``"auto"``/``"mean"`` average the real tokens only, ``"max"`` takes
            the maximum over them, and ``"first"``/``"last"`` take the first/last real token (a
            sample whose mask is all padding is pooled over all its positions); ``"flatten"``
            keeps every position.
        batch_size: samples per model call.

    Returns:
        float32 (N, D).

    Raises:
        InputError: an unknown layer or pooling, or samples of the wrong shape.
        UnsupportedModelError: the model has no graph.
    """
    _check_choice(pooling, POOLINGS, "pooling")
    rows: list[np.ndarray] = []
    mask_position = padding_mask_input(model)

    def collect(_: int, output: np.ndarray, chunk: list[np.ndarray]) -> None:
        if output.dtype.kind not in _FLOAT_KINDS:
            raise InputError(
                f"Layer {layer!r} outputs {output.dtype} values (a mask or positions), not hidden "
                "states. Choose one of layer_choices(model)."
            )
        mask = chunk[mask_position] if mask_position is not None else None
        rows.append(_pool(output, pooling, mask).astype(np.float32, copy=False))

    _run_batches(model, x, layer, batch_size, collect)
    if not rows:
        return np.zeros((0, 0), dtype=np.float32)
    return np.concatenate(rows)


# --------------------------------------------------------------------------------------------
# Projections
# --------------------------------------------------------------------------------------------


def _features(features: Any, name: str = "features", min_points: int = 1) -> np.ndarray:
    array = np.asarray(features)
    if array.ndim != 2 or array.dtype.kind not in "fiub":
        raise InputError(
            f"Expected {name} as a 2-D numeric array (points, features). Received "
            f"{array.dtype} of shape {array.shape}."
        )
    if len(array) < min_points or array.shape[1] < 1:
        raise InputError(
            f"Expected at least {min_points} points with at least one feature. Received shape "
            f"{array.shape}. Choose more samples."
        )
    # Float32 hidden states stay float32: a flattened feature map of 50,000 samples is gigabytes.
    if array.dtype.kind != "f" or array.dtype.itemsize < 4:
        array = array.astype(np.float64 if array.dtype.kind != "f" else np.float32)
    bad = ~np.isfinite(array).all(axis=1)
    if bad.any():
        raise InputError(
            f"{int(bad.sum())} of {len(array)} points have NaN or infinite {name} (first: point "
            f"{int(np.argmax(bad))}). The model overflows on them; leave them out or choose "
            "another layer."
        )
    return array


def _report(progress: Progress, fraction: float) -> None:
    if progress is not None:
        progress(float(fraction))


def _pca(features: np.ndarray, dims: int, seed: int | None) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.decomposition import PCA

    # sklearn's "auto" solver is exact for tall data (covariance eigh) and randomized for big,
    # wide data: the right choice at every size.
    components = min(dims, *features.shape)
    pca = PCA(n_components=components, random_state=seed)
    coords = pca.fit_transform(features)
    return coords, pca.explained_variance_ratio_


def _subsample(count: int, limit: int, seed: int | None) -> np.ndarray:
    if count <= limit:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).choice(count, limit, replace=False))


def _trustworthiness(
    features: np.ndarray, coords: np.ndarray, metric: str, seed: int | None
) -> tuple[float | None, int]:
    from sklearn.manifold import trustworthiness

    keep = _subsample(len(features), TRUSTWORTHINESS_POINTS, seed)
    # sklearn requires k < n / 2.
    k = min(TRUSTWORTHINESS_K, (len(keep) - 1) // 2)
    if k < 1:
        return None, len(keep)
    score = trustworthiness(features[keep], coords[keep], n_neighbors=k, metric=metric)
    return float(score), len(keep)


def projection_info(
    features: Any,
    method: str = "pca",
    *,
    dims: int = 2,
    seed: int | None = SEED,
    perplexity: float = DEFAULT_PERPLEXITY,
    n_neighbors: int = DEFAULT_N_NEIGHBORS,
    min_dist: float = DEFAULT_MIN_DIST,
    metric: str = "euclidean",
    standardize: bool = False,
    progress: Progress = None,
) -> ProjectionInfo:
    """Every point laid out in 2-D or 3-D by PCA, t-SNE or UMAP. No point cap.

    Args:
        features: (N, D) hidden states (see :func:`hidden_states`).
        method: ``"pca"`` (linear, exact, instant; axes mean something), ``"tsne"`` (openTSNE:
            Barnes-Hut up to 4,000 points, FFT-accelerated above, PCA initialisation, 250 + 500
            steps; sklearn's when openTSNE is missing; above ``TSNE_PRE_REDUCE_ABOVE`` points the
            features are first reduced to ``TSNE_PRE_REDUCE_DIMS`` with PCA) or ``"umap"``
            (umap-learn; keeps more of the global structure than t-SNE and is faster on many
            points).
        dims: 2 or 3.
        seed: random seed; for UMAP a seed makes the layout reproducible but single-threaded,
            ``None`` lets it use every core.
        perplexity: t-SNE's effective neighbour count; lowered below N on small sets.
        n_neighbors: UMAP's neighbour count (local against global structure); lowered below N.
        min_dist: UMAP's tightest packing of points.
        metric: one of ``METRICS``, for t-SNE, UMAP and the trustworthiness score.
        standardize: scale each feature to zero mean and unit variance first (for features on
            very different scales).
        progress: called with a fraction in [0, 1] between stages.

    Returns:
        A :class:`ProjectionInfo`.

    Raises:
        InputError: fewer than ``MIN_POINTS`` points, non-finite features or a bad setting.
    """
    _check_choice(method, PROJECTIONS, "method")
    _check_choice(metric, METRICS, "metric")
    if dims not in DIMS:
        raise InputError(f"Expected dims 2 or 3. Received: {dims!r}.")
    data = _features(features, min_points=MIN_POINTS)
    if not perplexity > 0:
        raise InputError(f"Expected a perplexity above 0. Received: {perplexity!r}.")
    if not isinstance(n_neighbors, (int, np.integer)) or n_neighbors < 2:
        raise InputError(
            f"Expected n_neighbors as a whole number of 2 or more. Received: {n_neighbors!r}."
        )
    if not 0 <= min_dist <= 1:
        raise InputError(f"Expected min_dist between 0 and 1. Received: {min_dist!r}.")
    count, width = data.shape
    notes: list[str] = []
    params: list[tuple[str, Any]] = [("seed", seed), ("standardize", bool(standardize))]
    _report(progress, 0.0)
    if standardize:
        from sklearn.preprocessing import StandardScaler

        data = StandardScaler().fit_transform(data)
    ratio = None
    started = time.perf_counter()
    if method == "pca":
        if metric != "euclidean":
            notes.append(f"PCA is linear and ignores the {metric} metric.")
        coords, ratio = _pca(data, dims, seed)
        params.append(("svd_solver", "auto"))
    elif method == "tsne":
        coords = _tsne(data, dims, seed, float(perplexity), metric, params, notes, progress)
    else:
        coords = _umap(data, dims, seed, int(n_neighbors), float(min_dist), metric, params, notes)
    seconds = time.perf_counter() - started
    if coords.shape[1] < dims:
        notes.append(
            f"The layer has {coords.shape[1]} feature(s) for {count} points; the missing "
            "axes are drawn at 0."
        )
        coords = np.pad(coords, ((0, 0), (0, dims - coords.shape[1])))
        if ratio is not None:
            ratio = np.pad(ratio, (0, dims - len(ratio)))
    _report(progress, 0.9)
    score, scored = _trustworthiness(data, coords, "euclidean" if method == "pca" else metric, seed)
    _report(progress, 1.0)
    params.append(("metric", metric))
    return ProjectionInfo(
        coords=np.ascontiguousarray(coords, dtype=np.float32),
        method=method,
        dims=dims,
        explained_variance_ratio=None if ratio is None else np.asarray(ratio, dtype=np.float64),
        params=tuple(params),
        seconds=float(seconds),
        num_points=count,
        num_features=width,
        trustworthiness=score,
        trustworthiness_points=scored,
        notes=tuple(notes),
    )


def _tsne(
    data: np.ndarray,
    dims: int,
    seed: int | None,
    perplexity: float,
    metric: str,
    params: list,
    notes: list,
    progress: Progress,
) -> np.ndarray:
    count, width = data.shape
    # Both implementations look at 3 x perplexity neighbours, which must be fewer than the points.
    if 3 * perplexity >= count:
        lowered = max(1.0, (count - 1) / 3)
        notes.append(
            f"t-SNE looks at 3 x perplexity neighbours, fewer than the points; lowered perplexity "
            f"{perplexity:g} to {lowered:g} for {count} points."
        )
        perplexity = lowered
    if count > TSNE_PRE_REDUCE_ABOVE and width > TSNE_PRE_REDUCE_DIMS:
        data, _ = _pca(data, TSNE_PRE_REDUCE_DIMS, seed)
        params.append(("pca_pre_reduction", TSNE_PRE_REDUCE_DIMS))
        notes.append(
            f"Reduced {width} features to {TSNE_PRE_REDUCE_DIMS} with PCA before t-SNE (standard "
            f"for more than {TSNE_PRE_REDUCE_ABOVE:,} points)."
        )
        _report(progress, 0.2)
    # PCA initialisation needs at least as many features as output axes.
    init = "pca" if data.shape[1] >= dims else "random"
    try:
        import openTSNE  # noqa: F401
    except ImportError:  # the requirement is there; a bare environment still gets a layout
        return _sklearn_tsne(data, dims, seed, perplexity, metric, init, params, progress)
    return _open_tsne(data, dims, seed, perplexity, metric, init, params, progress)


def _open_tsne(
    data: np.ndarray,
    dims: int,
    seed: int | None,
    perplexity: float,
    metric: str,
    init: str,
    params: list,
    progress: Progress,
) -> np.ndarray:
    """openTSNE (Poličar et al. 2024): Barnes-Hut up to ``TSNE_FFT_ABOVE`` points, FFT-accelerated
    interpolation above (2-D). One thread when seeded: sklearn's t-SNE spreads over OpenMP threads,
    which on a busy two-core machine spin against each other (22 s of CPU for 360 points where
    openTSNE needs 3)."""
    from openTSNE import TSNE

    count = len(data)
    early = max(1, graph.capped_steps(TSNE_EARLY_ITERATIONS))
    main = max(1, graph.capped_steps(TSNE_MAIN_ITERATIONS))
    gradient = "fft" if count > TSNE_FFT_ABOVE and dims == 2 else "bh"
    # A seed means one thread: Barnes-Hut's sums are then in a fixed order, so the layout is the
    # same every time.
    jobs = 1 if seed is not None else -1
    every = max(1, min(TSNE_PROGRESS_EVERY, early, main))
    total = early // every + main // every
    calls = [0]

    def report(iteration, error, embedding) -> bool:
        calls[0] += 1
        _report(progress, 0.25 + 0.6 * min(1.0, calls[0] / max(total, 1)))
        return False  # keep going

    tsne = TSNE(
        n_components=dims,
        perplexity=perplexity,
        metric=metric,
        initialization=init,
        learning_rate="auto",
        early_exaggeration_iter=early,
        n_iter=main,
        negative_gradient_method=gradient,
        random_state=seed,
        n_jobs=jobs,
        callbacks=report if progress is not None else None,
        callbacks_every_iters=every,
        verbose=False,
    )
    params += [
        ("implementation", "openTSNE"),
        ("perplexity", perplexity),
        ("init", init),
        ("learning_rate", "auto"),
        ("negative_gradient_method", gradient),
        ("early_exaggeration_iter", early),
        ("max_iter", early + main),
        ("n_jobs", jobs),
    ]
    _report(progress, 0.25)
    return np.asarray(tsne.fit(data), dtype=np.float64)


def _sklearn_tsne(
    data: np.ndarray,
    dims: int,
    seed: int | None,
    perplexity: float,
    metric: str,
    init: str,
    params: list,
    progress: Progress,
) -> np.ndarray:
    from sklearn.manifold import TSNE

    iterations = max(
        TSNE_MIN_ITERATIONS, graph.capped_steps(TSNE_EARLY_ITERATIONS + TSNE_MAIN_ITERATIONS)
    )
    tsne = TSNE(
        n_components=dims,
        perplexity=perplexity,
        init=init,
        learning_rate="auto",
        method="barnes_hut",
        metric=metric,
        max_iter=iterations,
        random_state=seed,
    )
    params += [
        ("implementation", "sklearn"),
        ("perplexity", perplexity),
        ("init", init),
        ("learning_rate", "auto"),
        ("max_iter", iterations),
    ]
    _report(progress, 0.25)
    return tsne.fit_transform(data)


_warm_lock = threading.Lock()
_warm: set[str] = set()


_import_lock = threading.Lock()


def numba_cache_dir() -> str:
    """The folder where UMAP's compiled numba code is kept between server starts.

    ``$NUMBA_CACHE_DIR`` when set, else ``neurogenesis/numba`` under ``$XDG_CACHE_HOME`` (or
    ``~/.cache``).
    """
    configured = os.environ.get("NUMBA_CACHE_DIR")
    if configured:
        return configured
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "neurogenesis", "numba")


def _caching(decorator: Callable) -> Callable:
    """``numba.njit``/``numba.jit`` with ``cache=True`` unless the caller says otherwise."""

    def decorate(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cache", True)
        return decorator(*args, **kwargs)

    return decorate


def _import_umap() -> Any:
    """``import umap`` with its numba functions cached on disk.

    umap-learn compiles about a hundred numba functions on first use (about 70 s on two busy
    cores) and marks almost none ``cache=True``, so every new process paid again. Importing it
    while ``numba.njit`` and ``numba.jit`` default to ``cache=True`` (and numba's cache folder is
    :func:`numba_cache_dir`) writes the machine code there once; later processes load it
    (about 4 s). Functions numba cannot cache are compiled as before. Nothing changes when the
    folder cannot be written, or when umap was imported already.
    """
    import sys

    if "umap" in sys.modules:
        return sys.modules["umap"]
    with _import_lock:
        if "umap" in sys.modules:
            return sys.modules["umap"]
        folder = numba_cache_dir()
        try:
            os.makedirs(folder, exist_ok=True)
            writable = os.access(folder, os.W_OK)
        except OSError:
            writable = False
        import numba

        if not writable:
            import umap

            return umap
        numba.config.CACHE_DIR = folder
        # A few functions (pynndescent's nn_descent) use dynamic globals: numba compiles them as
        # before and says once per process that it cannot cache them; that is expected here.
        warnings.filterwarnings(
            "ignore", message="Cannot cache compiled function", category=numba.NumbaWarning
        )
        originals = numba.njit, numba.jit
        numba.njit, numba.jit = _caching(originals[0]), _caching(originals[1])
        try:
            import umap
        finally:
            numba.njit, numba.jit = originals
        return umap


def _umap_model(**kwargs: Any) -> Any:
    umap = _import_umap()

    # A seed makes umap-learn single-threaded; saying so up front spares its warning (and
    # warnings.catch_warnings, which is not thread-safe, in the warm-up thread).
    kwargs["n_jobs"] = 1 if kwargs.get("random_state") is not None else -1
    return umap.UMAP(**kwargs)


def _umap(
    data: np.ndarray,
    dims: int,
    seed: int | None,
    n_neighbors: int,
    min_dist: float,
    metric: str,
    params: list,
    notes: list,
) -> np.ndarray:
    count = len(data)
    if n_neighbors >= count:
        lowered = max(2, count - 1)
        notes.append(
            f"UMAP needs fewer neighbours than points; lowered n_neighbors {n_neighbors} to "
            f"{lowered} for {count} points."
        )
        n_neighbors = lowered
    # The spectral initialisation needs more points than output axes plus one.
    init = "spectral" if count > dims + 2 else "random"
    params += [
        ("n_neighbors", n_neighbors),
        ("min_dist", min_dist),
        ("init", init),
        ("parallel", seed is None),
    ]
    reducer = _umap_model(
        n_components=dims,
        n_neighbors=n_neighbors,
        min_dist=min_dist,
        metric=metric,
        init=init,
        random_state=seed,
    )
    return reducer.fit_transform(data)


def is_warm(method: str = "umap") -> bool:
    """Whether :func:`warm_up` has finished for ``method`` in this process."""
    return method != "umap" or method in _warm


def warm_up(method: str = "umap", *, wait: bool = True) -> bool:
    """Pays a projection's one-off start-up cost now (UMAP: numba compilation).

    umap-learn compiles its numba code on first use: about 40 s on two cores for the NNDescent
    path (more than 4,096 points) and 10 s for the exact one, every time a process starts. This
    fits UMAP on ``WARM_UP_POINTS`` random points along all three paths (exact and NNDescent
    neighbours, seeded and parallel layout) once per process, so a page can call it in a background
    thread when it loads. t-SNE and PCA need no warm-up.

    Args:
        method: ``"umap"``; other projections return at once.
        wait: when another thread is warming up, wait for it (True) or return False at once.

    Returns:
        True when ``method`` is warm.
    """
    _check_choice(method, PROJECTIONS, "method")
    if is_warm(method):
        return True
    if not _warm_lock.acquire(blocking=wait):
        return False
    try:
        if method in _warm:
            return True
        points = np.random.default_rng(SEED).normal(size=(WARM_UP_POINTS, 8)).astype(np.float32)
        for options in (
            {"random_state": SEED},
            {"random_state": None},
            {"random_state": SEED, "force_approximation_algorithm": True},
        ):
            _umap_model(n_components=2, n_epochs=20, **options).fit_transform(points)
        _warm.add(method)
        return True
    finally:
        _warm_lock.release()


# --------------------------------------------------------------------------------------------
# Clusters, neighbours, similarities
# --------------------------------------------------------------------------------------------


def _silhouette(data: np.ndarray, labels: np.ndarray, seed: int | None) -> float | None:
    from sklearn.metrics import silhouette_score

    kept = labels >= 0
    data, labels = data[kept], labels[kept]
    found = len(np.unique(labels))
    if found < 2 or found >= len(labels):
        return None
    keep = _subsample(len(data), SILHOUETTE_POINTS, seed)
    if len(np.unique(labels[keep])) < 2:
        return None
    return float(silhouette_score(data[keep], labels[keep]))


def cluster_info(
    features: Any,
    method: str = "kmeans",
    *,
    num_clusters: int | None = None,
    min_cluster_size: int | None = None,
    seed: int = SEED,
) -> ClusterInfo:
    """Clusters of the points: raw hidden states or a projection's ``coords``.

    Clustering the hidden states groups what the layer groups; clustering the 2-D coordinates
    groups what the user sees (t-SNE and UMAP exaggerate gaps), and is much faster for HDBSCAN on
    many points, whose neighbour search slows down in high dimensions.

    Args:
        features: (N, D) points.
        method: ``"kmeans"`` (sklearn KMeans) or ``"hdbscan"`` (sklearn HDBSCAN, density-based:
            finds clusters of any shape and number, and labels points in no cluster -1, noise).
        num_clusters: k for k-means; None tries k in ``K_RANGE`` on a subsample of
            ``SILHOUETTE_POINTS`` points and keeps the best silhouette.
        min_cluster_size: HDBSCAN's smallest cluster; None uses 1% of the points (at least 5).
        seed: seed for k-means and the subsamples.

    Raises:
        InputError: a bad method or setting, too few points, non-finite features.
    """
    from sklearn.cluster import HDBSCAN, KMeans

    _check_choice(method, CLUSTERINGS, "method")
    data = _features(features, min_points=MIN_POINTS)
    count = len(data)
    notes: list[str] = []
    params: list[tuple[str, Any]] = [("seed", seed)]
    k_scores: tuple[tuple[int, float], ...] = ()
    if method == "kmeans":
        if num_clusters is None:
            sample = _subsample(count, SILHOUETTE_POINTS, seed)
            low, high = K_RANGE
            scores = []
            for k in range(low, min(high, len(sample) - 1) + 1):
                labels = KMeans(k, n_init=KMEANS_INITS, random_state=seed).fit_predict(data[sample])
                score = _silhouette(data[sample], labels, seed)
                if score is not None:
                    scores.append((k, score))
            if not scores:
                raise InputError(
                    f"Expected points to form at least 2 clusters; {count} points do not."
                )
            k_scores = tuple(scores)
            num_clusters = max(scores, key=lambda pair: pair[1])[0]
            notes.append(
                f"Chose k = {num_clusters}, the best silhouette for k in {low}..{scores[-1][0]}."
            )
        if not isinstance(num_clusters, (int, np.integer)) or not 1 <= num_clusters <= count:
            raise InputError(
                f"Expected num_clusters between 1 and the {count} points. Received: {num_clusters!r}."
            )
        labels = KMeans(int(num_clusters), n_init=KMEANS_INITS, random_state=seed).fit_predict(data)
        params += [("num_clusters", int(num_clusters)), ("n_init", KMEANS_INITS)]
    else:
        if min_cluster_size is None:
            min_cluster_size = max(HDBSCAN_MIN_SIZE, round(count * HDBSCAN_MIN_SHARE))
        if not isinstance(min_cluster_size, (int, np.integer)) or min_cluster_size < 2:
            raise InputError(
                f"Expected min_cluster_size as a whole number of 2 or more. Received: {min_cluster_size!r}."
            )
        min_cluster_size = int(min(min_cluster_size, count))
        min_samples = min(min_cluster_size, HDBSCAN_MAX_MIN_SAMPLES)
        if count > SILHOUETTE_POINTS and data.shape[1] > HDBSCAN_SLOW_FEATURES:
            notes.append(
                f"HDBSCAN on {count:,} points of {data.shape[1]} features is slow; clustering the "
                "projected coordinates is much faster."
            )
        labels = HDBSCAN(
            min_cluster_size=min_cluster_size, min_samples=min_samples, copy=True
        ).fit_predict(data)
        params += [("min_cluster_size", min_cluster_size), ("min_samples", min_samples)]
    labels = np.asarray(labels, dtype=np.int64)
    found = int(labels.max()) + 1 if (labels >= 0).any() else 0
    sizes = np.bincount(labels[labels >= 0], minlength=found).astype(np.int64)
    return ClusterInfo(
        labels=labels,
        method=method,
        num_clusters=found,
        silhouette=_silhouette(data, labels, seed),
        num_noise=int((labels < 0).sum()),
        sizes=sizes,
        k_scores=k_scores,
        params=tuple(params),
        notes=tuple(notes),
    )


def _unit_rows(data: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(data, axis=1, keepdims=True)
    # A zero vector has no direction: its cosine similarity to everything is 0.
    return np.divide(data, norms, out=np.zeros_like(data), where=norms > 0)


def _check_index(index: Any, count: int) -> int:
    if not isinstance(index, (int, np.integer)) or not -count <= index < count:
        raise InputError(f"Expected a point index between 0 and {count - 1}. Received: {index!r}.")
    return int(index) % count


def nearest_neighbours(
    features: Any, index: int, *, k: int = DEFAULT_K, metric: str = "cosine"
) -> NeighboursInfo:
    """The ``k`` nearest points to point ``index`` (exact; the point itself left out).

    Args:
        features: (N, D) points.
        index: the query point.
        k: neighbours wanted (fewer when there are not enough points).
        metric: ``"cosine"`` (distance ``1 - cos``; a zero vector is at distance 1 from all) or
            ``"euclidean"``.
    """
    _check_choice(metric, NEIGHBOUR_METRICS, "metric")
    data = _features(features, min_points=1)
    index = _check_index(index, len(data))
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(f"Expected k as a whole number of 1 or more. Received: {k!r}.")
    if metric == "cosine":
        units = _unit_rows(data)
        distances = 1.0 - units @ units[index]
    else:
        distances = np.sqrt(np.maximum(((data - data[index]) ** 2).sum(axis=1), 0.0))
    others = np.delete(np.arange(len(data)), index)
    order = np.lexsort((others, distances[others]))[:k]
    chosen = others[order]
    return NeighboursInfo(
        index, chosen.astype(np.int64), distances[chosen].astype(np.float64), metric
    )


def similarity_matrix(
    features: Any, indices: Sequence[int], *, metric: str = "cosine"
) -> np.ndarray:
    """Pairwise comparison of chosen points, float64 (len(indices), len(indices)).

    Args:
        features: (N, D) points.
        indices: the points to compare.
        metric: ``"cosine"`` gives cosine *similarity* (1 same direction, 0 orthogonal or a zero
            vector, -1 opposite); ``"euclidean"`` gives the euclidean *distance* (0 same point).
    """
    _check_choice(metric, NEIGHBOUR_METRICS, "metric")
    data = _features(features, min_points=1)
    chosen = [_check_index(i, len(data)) for i in indices]
    rows = data[chosen]
    if metric == "cosine":
        units = _unit_rows(rows)
        return np.clip(units @ units.T, -1.0, 1.0)
    from scipy.spatial.distance import cdist

    return cdist(rows, rows, metric="euclidean")


# --------------------------------------------------------------------------------------------
# Autoencoders: reconstructions and the decoded latent grid
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ReconstructionInfo(ValueEquality):
    """Chosen samples beside what an autoencoder makes of them.

    Attributes:
        inputs: float32 (n, *input shape), the samples as the model takes them.
        outputs: float32 (n, *input shape), the model's outputs for them.
        indices: int64 (n,), the samples shown.
        errors: float64 (N,), every sample's mean squared error (not only the shown ones).
        value_range: ``(low, high)`` over inputs and outputs shown: the one colour scale both
            rows share.
        order: how the shown samples were chosen: ``"given"``, ``"first"``, ``"worst"``,
            ``"best"``.
    """

    inputs: np.ndarray
    outputs: np.ndarray
    indices: np.ndarray
    errors: np.ndarray
    value_range: tuple[float, float]
    order: str

    @property
    def mean_error(self) -> float:
        """The mean squared error over all samples."""
        return float(np.mean(self.errors)) if len(self.errors) else float("nan")


@dataclass(frozen=True, eq=False)
class LatentGridInfo(ValueEquality):
    """A decoder's outputs over a grid of the first two latent dimensions.

    Attributes:
        images: float32 (rows, columns, *output shape); row 0 is the *highest* second coordinate
            (drawn at the top), column 0 the lowest first coordinate.
        first: float64 (columns,), the first latent coordinate of each column, ascending.
        second: float64 (rows,), the second latent coordinate of each row, descending.
        latent_dim: the latent vector's size; coordinates past the second are 0.
        encoder: the encoder sub-model's name.
        decoder: the decoder sub-model's name.
        latent: which encoder output is the latent code (``"z_mean"``; ``"output 0"`` when
            unnamed).
        quantiles: ``(low, high)``, the share of encoded samples below each end of the grid
            along each axis.
        encoded: float32 (N, 2), every sample's first two latent coordinates.
    """

    images: np.ndarray
    first: np.ndarray
    second: np.ndarray
    latent_dim: int
    encoder: str
    decoder: str
    latent: str
    quantiles: tuple[float, float]
    encoded: np.ndarray


RECONSTRUCTION_ORDERS = ("given", "first", "worst", "best")
DEFAULT_RECONSTRUCTIONS = 12
DEFAULT_GRID_SIZE = 15
DEFAULT_LATENT_QUANTILES = (0.02, 0.98)
"""The grid spans the encoded samples from their 2% to their 98% quantile on each axis: the
region the decoder was trained on, without the few outliers that would stretch it."""


def _reconstructions_reason(model: Any) -> str | None:
    """Why ``model`` has no reconstructions to show (None when it rebuilds its input)."""
    reason = _hidden_states_reason(model)
    if reason is not None:
        return reason
    layers = graph.graph_layers(model)
    if len(layers.input_shapes) != 1:
        return (
            f"The model takes {len(layers.input_shapes)} inputs "
            f"({', '.join(graph.input_names(model))}); the autoencoder views compare one input "
            "with the model's output, so they apply to models of one input."
        )
    if layers.output_shape != layers.input_shapes[0]:
        return (
            "The model's output does not have its input's shape, so it is not an autoencoder and "
            "has no reconstructions to compare with its inputs."
        )
    if np.dtype(layers.input_dtypes[0]).kind not in _FLOAT_KINDS:
        return "The model takes token ids; reconstructions are drawn for float inputs only."
    return None


def reconstruction_info(
    model: Any,
    x: np.ndarray,
    *,
    indices: Sequence[int] | None = None,
    order: str = "first",
    count: int = DEFAULT_RECONSTRUCTIONS,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> ReconstructionInfo:
    """Samples and the autoencoder's outputs for them, with every sample's error.

    Args:
        model: a model whose output has its input's shape (see :func:`reason`).
        x: the samples.
        indices: the samples to show (``order`` is then ``"given"``).
        order: without ``indices``: the ``"first"`` ``count`` samples, or the ``"worst"`` or
            ``"best"`` reconstructed ones (largest or smallest mean squared error).
        count: samples to show.
        batch_size: samples per model call.

    Raises:
        UnsupportedModelError: the model is not an autoencoder.
        InputError: a bad order, count or index.
    """
    reason = _reconstructions_reason(model)
    if reason is not None:
        raise UnsupportedModelError(reason)
    inputs = graph.model_input(model, x)
    outputs = np.asarray(graph.predict(model, inputs, batch_size=batch_size), dtype=np.float32)
    inputs = np.asarray(inputs, dtype=np.float32)
    errors = np.square(outputs - inputs).reshape(len(inputs), -1).mean(axis=1).astype(np.float64)
    if indices is not None:
        chosen = np.asarray(list(indices), dtype=np.int64)
        if chosen.ndim != 1 or (chosen.size and not (0 <= chosen.min() <= chosen.max() < len(x))):
            raise InputError(
                f"Expected sample indices from 0 to {len(x) - 1}. Received: {chosen.tolist()[:8]}."
            )
        order = "given"
    else:
        _check_choice(order, RECONSTRUCTION_ORDERS[1:], "order")
        if not isinstance(count, (int, np.integer)) or count < 1:
            raise InputError(f"Expected count as a whole number of 1 or more. Received: {count!r}.")
        ranking = {
            "first": np.arange(len(x)),
            "worst": np.argsort(-errors, kind="stable"),
            "best": np.argsort(errors, kind="stable"),
        }[order]
        chosen = ranking[: int(count)].astype(np.int64)
    shown = np.concatenate([inputs[chosen].ravel(), outputs[chosen].ravel()])
    value_range = (float(shown.min()), float(shown.max())) if shown.size else (0.0, 1.0)
    return ReconstructionInfo(
        inputs=inputs[chosen],
        outputs=outputs[chosen],
        indices=chosen,
        errors=errors,
        value_range=value_range,
        order=order,
    )


def _sub_models(model: Any) -> list[Any]:
    return [layer for layer in getattr(model, "layers", []) if graph.supports(layer)]


def latent_parts(
    model: Any, *, encoder: str | None = None, decoder: str | None = None
) -> tuple[Any, Any, int] | None:
    """The encoder and decoder sub-models of an autoencoder and which encoder output is the code.

    The encoder is the nested model that takes the model's input; the decoder the nested model
    whose output has the model's output shape and whose input is a vector; the code is the
    encoder output of the decoder's input size (a *mean* before a *variance*). ``encoder`` and
    ``decoder`` name them instead (a model card's ``encoder_layer``/``decoder_layer``).

    Returns:
        ``(encoder, decoder, output index)``, or None when the model is not built that way.
    """
    if _reconstructions_reason(model) is not None:
        return None
    layers = graph.graph_layers(model)
    nested = _sub_models(model)
    by_name = {layer.name: layer for layer in nested}
    found_encoder = by_name.get(encoder) if encoder else None
    found_decoder = by_name.get(decoder) if decoder else None
    for layer in nested:
        inputs = [tuple(tensor.shape[1:]) for tensor in layer.inputs]
        outputs = [tuple(tensor.shape[1:]) for tensor in layer.outputs]
        if found_encoder is None and inputs == [layers.input_shapes[0]]:
            found_encoder = layer
        elif (
            found_decoder is None
            and len(inputs) == 1
            and len(inputs[0]) == 1
            and outputs[:1] == [layers.output_shape]
        ):
            found_decoder = layer
    if found_encoder is None or found_decoder is None or found_encoder is found_decoder:
        return None
    size = tuple(found_decoder.inputs[0].shape[1:])
    candidates = [
        index
        for index, tensor in enumerate(found_encoder.outputs)
        if tuple(tensor.shape[1:]) == size
    ]
    if not candidates:
        return None
    names = _output_names(found_encoder)
    index = min(candidates, key=lambda i: (_latent_rank(names[i]), i))
    return found_encoder, found_decoder, index


def _output_names(model: Any) -> list[str]:
    """The names of the layers that make a model's outputs (``"z_mean"``), else ``""``."""
    names = []
    for tensor in model.outputs:
        history = getattr(tensor, "_keras_history", None)
        operation = getattr(history, "operation", None)
        names.append(str(getattr(operation, "name", "") or ""))
    return names


def _latent_grid_reason(model: Any) -> str | None:
    """Why ``model``'s latent space cannot be drawn as a decoded grid (None when it can)."""
    reason = _reconstructions_reason(model)
    if reason is not None:
        return reason
    if latent_parts(model) is None:
        return (
            "The model has no encoder and decoder sub-models (nested models: input to code, "
            "code to output), so there is no decoder to turn latent points into outputs."
        )
    return None


def latent_grid_info(
    model: Any,
    x: np.ndarray,
    *,
    size: int = DEFAULT_GRID_SIZE,
    quantiles: tuple[float, float] = DEFAULT_LATENT_QUANTILES,
    encoder: str | None = None,
    decoder: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> LatentGridInfo:
    """Decodes a ``size`` x ``size`` grid over the first two latent dimensions.

    The samples are encoded; the grid spans each of the first two coordinates from its
    ``quantiles[0]`` to its ``quantiles[1]`` quantile over the samples; any further coordinate
    is 0 (a VAE's prior mean). The decoder sub-model turns each grid point into an output.

    Args:
        model: an autoencoder built from encoder and decoder sub-models (:func:`latent_parts`).
        x: the samples that set the grid's extent.
        size: grid points per axis.
        quantiles: ``(low, high)`` shares in [0, 1].
        encoder, decoder: the sub-models' names, when the model card gives them.
        batch_size: samples per model call.

    Raises:
        UnsupportedModelError: no encoder and decoder to use.
        InputError: a bad size or quantiles.
    """
    reason = _latent_grid_reason(model)
    if reason is not None:
        raise UnsupportedModelError(reason)
    if not isinstance(size, (int, np.integer)) or not 2 <= size <= 50:
        raise InputError(f"Expected size between 2 and 50. Received: {size!r}.")
    low, high = (float(value) for value in quantiles)
    if not 0.0 <= low < high <= 1.0:
        raise InputError(f"Expected 0 <= low < high <= 1 quantiles. Received: {quantiles!r}.")
    found_encoder, found_decoder, output = latent_parts(model, encoder=encoder, decoder=decoder)
    inputs = graph.model_input(model, x)
    codes = []
    for start in range(0, len(inputs), batch_size):
        result = found_encoder(inputs[start : start + batch_size], training=False)
        result = result if isinstance(result, (list, tuple)) else [result]
        codes.append(np.asarray(result[output], dtype=np.float32))
    code = np.concatenate(codes).reshape(len(inputs), -1)
    latent_dim = code.shape[1]
    axes = min(2, latent_dim)
    ends = np.quantile(code[:, :axes].astype(np.float64), [low, high], axis=0)  # (2, axes)
    first = np.linspace(ends[0, 0], ends[1, 0], int(size))
    second = np.linspace(ends[1, 1], ends[0, 1], int(size)) if axes == 2 else np.zeros(1)
    grid = np.zeros((len(second), len(first), latent_dim), dtype=np.float32)
    grid[:, :, 0] = first[None, :]
    if axes == 2:
        grid[:, :, 1] = second[:, None]
    flat = grid.reshape(-1, latent_dim)
    decoded = [
        np.asarray(found_decoder(flat[start : start + batch_size], training=False))
        for start in range(0, len(flat), batch_size)
    ]
    images = np.concatenate(decoded).astype(np.float32)
    latent = _output_names(found_encoder)[output] or f"output {output}"
    encoded = np.zeros((len(code), 2), dtype=np.float32)
    encoded[:, :axes] = code[:, :axes]
    return LatentGridInfo(
        images=images.reshape(len(second), len(first), *images.shape[1:]),
        first=first.astype(np.float64),
        second=second.astype(np.float64),
        latent_dim=int(latent_dim),
        encoder=found_encoder.name,
        decoder=found_decoder.name,
        latent=latent,
        quantiles=(low, high),
        encoded=encoded,
    )
