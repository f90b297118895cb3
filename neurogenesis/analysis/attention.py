"""Attention: the scores of every MultiHeadAttention layer of any Keras model, without wrappers.

:func:`attention_scores` rebuilds the model's graph (``analysis.graph``: functional, Sequential
loaded from a file, nested models) and asks each ``keras.layers.MultiHeadAttention`` call for
``return_attention_scores=True`` itself, so the scores are exactly what the layer returns, masks
included, and the user's model is never changed. Attention layers inside other layers (KerasHub's
``TransformerEncoder`` keeps its ``_self_attention_layer`` inside) are read by recording their
calls. Samples come in any form ``graph.model_inputs`` takes (one array, a packed set of several
inputs, a dict by input name), so a BERT backbone is fed its ``token_ids``, ``padding_mask`` and
``segment_ids``; where the model has a padding-mask input (:func:`real_tokens`), the statistics
and the rollout are taken over the real tokens only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurogenesis.analysis import graph
from neurogenesis.analysis.infos import ValueEquality
from neurogenesis.errors import InputError, UnsupportedModelError

__all__ = [
    "layer_head_statistics",
    "DEFAULT_BATCH_SIZE",
    "AttentionEvolution",
    "HeadImportance",
    "HeadStatistics",
    "attention_evolution",
    "attention_flow",
    "attention_layers",
    "attention_rollout",
    "attention_scores",
    "head_importance",
    "head_statistics",
    "real_tokens",
    "reason",
]

DEFAULT_BATCH_SIZE = 64
# Recording patches a layer's call for the length of one pass: one pass at a time.
_RECORDING_LOCK = __import__("threading").Lock()


def _graph_attention_layers(model: Any) -> list[str]:
    if not graph.supports(model):
        return []
    return [
        entry.path
        for entry in graph.graph_layers(model).layers
        if entry.class_name == "MultiHeadAttention"
    ]


def _hidden_attention_layers(model: Any) -> dict[str, Any]:
    """MultiHeadAttention layers by path, found through sublayers (custom blocks included)."""
    import keras

    found: dict[str, Any] = {}

    def walk(layer: Any, prefix: str) -> None:
        for child in layer._flatten_layers(include_self=False, recursive=False):
            path = prefix + child.name
            if isinstance(child, keras.layers.MultiHeadAttention):
                found.setdefault(path, child)
            else:
                walk(child, path + graph.PATH_SEPARATOR)

    walk(model, "")
    return found


def _attention_paths(model: Any) -> tuple[list[str], dict[str, Any]]:
    """(paths the rebuilt graph reaches, {path: layer} of those only sublayers reach)."""
    reachable = _graph_attention_layers(model)
    found = _hidden_attention_layers(model)
    if len(reachable) >= len(found):  # the graph sees every one of them
        return reachable, {}
    return reachable, {path: layer for path, layer in found.items() if path not in reachable}


def attention_layers(model: Any) -> list[str]:
    """Paths of the model's MultiHeadAttention layers, in execution order.

    Layers the rebuilt graph reaches come first (functional, Sequential, nested models); layers
    inside custom layers or subclassed models, which no graph shows, are found through the
    model's sublayers (``"block/attention"``) and read by recording their calls.
    """
    reachable, hidden = _attention_paths(model)
    return reachable + list(hidden)


def _recorded_scores(
    model: Any, arrays: list[np.ndarray], layers: dict[str, Any], batch_size: int
) -> dict:
    """Scores of MultiHeadAttention layers a graph cannot reach: each layer's call asks for its
    scores while the model runs (the layer's own return_attention_scores), then is restored."""
    chosen = list(layers)
    parts: dict[str, list[np.ndarray]] = {path: [] for path in chosen}
    with _RECORDING_LOCK:
        originals = {}
        try:
            for path in chosen:
                layer = layers[path]
                original = layer.call
                originals[path] = original

                def call(*args, _path=path, _original=original, **kwargs):
                    asked = bool(kwargs.get("return_attention_scores"))
                    kwargs["return_attention_scores"] = True
                    output, scores = _original(*args, **kwargs)
                    parts[_path].append(np.asarray(scores, dtype=np.float32))
                    return (output, scores) if asked else output

                layer.call = call
            for start in range(0, len(arrays[0]), batch_size):
                batch = graph.take(arrays, slice(start, start + batch_size))
                model(graph.feed(model, batch) if len(batch) > 1 else batch[0], training=False)
        finally:
            for path in originals:
                del layers[path].call  # the class's own method again
    return {path: np.concatenate(chunks) for path, chunks in parts.items()}


def real_tokens(model: Any, x: Any) -> np.ndarray | None:
    """``(N, T)`` True at the samples' real tokens, False at padding, or None when unknown.

    A model with a padding-mask input (``io.samples.padding_mask``: named ``padding_mask`` or
    like a mask, boolean or 0/1, of the token ids' shape, as KerasHub's backbones take) says it
    itself; for a model of one integer input of token ids the padding is the id 0 (Keras's
    convention). ``x`` is in any form of ``graph.model_inputs``.
    """
    from neurogenesis.io.samples import input_arrays, padding_mask

    if isinstance(x, dict):
        return padding_mask(x)
    if isinstance(x, (list, tuple)):
        if not graph.supports(model):
            return None
        return padding_mask(dict(zip(graph.input_names(model), x, strict=False)))
    if input_arrays(x) is not None:
        return padding_mask(x)
    x = np.asarray(x)
    return (x != 0) if x.ndim == 2 and x.dtype.kind in "iu" else None


def reason(model: Any) -> str | None:
    """Why the model has no attention to show (no MultiHeadAttention layer), or None."""
    if attention_layers(model):
        return None
    return (
        "This model has no keras.layers.MultiHeadAttention layer, so there is no attention to show."
    )


def attention_scores(
    model: Any,
    x: np.ndarray,
    *,
    layers: Sequence[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> dict[str, np.ndarray]:
    """The attention scores of each MultiHeadAttention layer for the samples ``x``.

    Args:
        model: a functional or Sequential model (nested models are looked into), or one whose
            attention layers sit inside other layers (a KerasHub backbone).
        x: samples in any form of ``graph.model_inputs``: one array, a packed set of several
            inputs (``io.samples.pack_inputs``), a dict by input name, or a list in input order.
        layers: which attention layers (paths from :func:`attention_layers`); all by default.
        batch_size: samples per forward pass.

    Returns:
        ``{layer path: scores}`` with scores of shape ``(N, num_heads, T, S)`` (query x key),
        float32, in the layers' order.

    Raises:
        UnsupportedModelError: the model has no MultiHeadAttention layer.
        InputError: an unknown layer, or samples the model cannot take.
    """
    reachable, hidden = _attention_paths(model)
    available = reachable + list(hidden)
    if not available:
        raise UnsupportedModelError(
            f"'{getattr(model, 'name', model)}' has no keras.layers.MultiHeadAttention layer, so "
            "there are no attention scores to show."
        )
    chosen = list(layers) if layers is not None else available
    unknown = [path for path in chosen if path not in available]
    if unknown:
        raise InputError(
            f"Expected attention layers of the model. Received: {unknown}. It has: {available}."
        )
    if batch_size < 1:
        raise InputError(f"Expected a batch size of at least 1. Received: {batch_size}.")
    arrays = graph.model_inputs(model, x) if graph.supports(model) else [np.asarray(x)]
    result = {}
    recorded = [path for path in chosen if path in hidden]
    if recorded:
        result.update(
            _recorded_scores(model, arrays, {path: hidden[path] for path in recorded}, batch_size)
        )
    traced = [path for path in chosen if path not in hidden]
    if traced:
        tapped = graph.tap_model(model, [path + graph.SCORES_SUFFIX for path in traced])
        parts: dict[str, list[np.ndarray]] = {path: [] for path in traced}
        for start in range(0, len(arrays[0]), batch_size):
            batch = graph.take(arrays, slice(start, start + batch_size))
            outputs = graph.call_tapped(tapped, *batch)
            for path, scores in zip(traced, outputs[1:], strict=True):
                parts[path].append(np.asarray(scores, dtype=np.float32))
        result.update({path: np.concatenate(chunks) for path, chunks in parts.items()})
    return {path: result[path] for path in chosen}


def _checked_scores(scores: np.ndarray) -> np.ndarray:
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 4:
        raise InputError(
            f"Expected attention scores of shape (N, num_heads, T, S). Received: {scores.shape}."
        )
    return scores


def attention_rollout(
    scores_by_layer: Mapping[str, np.ndarray] | Sequence[np.ndarray],
    *,
    residual: bool = True,
    head_fusion: str = "mean",
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema 2020): how much each output position draws on each input.

    Each layer's heads are fused (mean, or max), the residual connection is modelled as
    ``0.5 * A + 0.5 * I`` with rows renormalized, and the layers' matrices are multiplied from the
    first to the last, so ``rollout[n, i, j]`` is the share of position ``i`` at the top that flows
    from input token ``j``.

    Args:
        scores_by_layer: self-attention scores per layer, in model order, each ``(N, H, T, T)``.
        residual: add the identity for the residual connections (the paper's default).
        head_fusion: ``"mean"`` or ``"max"`` over heads.
        mask: ``(N, T)`` True at real tokens (:func:`real_tokens`): padded positions are taken
            out of every layer (their rows and columns zero, the real rows renormalized over the
            real keys), so no rollout passes through padding. All real by default.

    Returns:
        ``(N, T, T)`` float64; each real row sums to 1 where the fused rows did, padded rows and
        columns are 0.

    Raises:
        InputError: no layers, cross-attention (query and key lengths differ), or lengths that
            differ between layers.
    """
    rollout = None
    fused_layers = _fused(
        scores_by_layer, residual, head_fusion=head_fusion, what="Rollout", mask=mask
    )
    for fused in fused_layers:
        rollout = fused if rollout is None else fused @ rollout
    return rollout


def _fused(
    scores_by_layer,
    residual: bool,
    *,
    head_fusion: str = "mean",
    what: str = "Rollout",
    mask: np.ndarray | None = None,
) -> list[np.ndarray]:
    """Each self-attention layer's heads fused, the residual mixed in, rows renormalized (over
    the real tokens of ``mask`` only, padded rows and columns zero)."""
    layers = (
        list(scores_by_layer.values())
        if isinstance(scores_by_layer, Mapping)
        else list(scores_by_layer)
    )
    if not layers:
        raise InputError("Expected the scores of at least one attention layer.")
    if head_fusion not in ("mean", "max"):
        raise InputError(f"Expected head_fusion 'mean' or 'max'. Received: {head_fusion!r}.")
    fused_layers: list[np.ndarray] = []
    for scores in layers:
        scores = _checked_scores(scores)
        if scores.shape[2] != scores.shape[3]:
            raise InputError(
                f"{what} follows self-attention through the layers; a layer attends from "
                f"{scores.shape[2]} to {scores.shape[3]} positions (cross-attention)."
            )
        fused = scores.mean(axis=1) if head_fusion == "mean" else scores.max(axis=1)
        real = np.ones(fused.shape[:2], bool) if mask is None else np.asarray(mask, bool)
        if real.shape != fused.shape[:2]:
            raise InputError(
                f"Expected a token mask of shape {fused.shape[:2]}. Received: {real.shape}."
            )
        pairs = real[:, :, None] & real[:, None, :]
        fused = np.where(pairs, fused, 0.0)
        if residual:
            fused = 0.5 * fused + 0.5 * np.where(pairs, np.eye(fused.shape[-1])[None], 0.0)
        totals = fused.sum(axis=-1, keepdims=True)
        fused = np.divide(fused, totals, out=np.zeros_like(fused), where=totals > 0)
        if fused_layers and fused_layers[0].shape != fused.shape:
            raise InputError(
                "Every layer must attend over the same positions; got "
                f"{fused_layers[0].shape[1:]} and {fused.shape[1:]}."
            )
        fused_layers.append(fused)
    return fused_layers


@dataclass(frozen=True, eq=False)
class HeadStatistics(ValueEquality):
    """Per-head summaries of one layer's attention, averaged over samples and real query tokens.

    Attributes:
        layer: the layer path.
        entropy: ``(H,)`` mean entropy of a query's attention, in nats (high: diffuse heads).
        max_entropy: ``log`` of the mean number of real keys, the entropy of uniform attention.
        distance: ``(H,)`` mean ``|query - key|`` weighted by attention (low: local/positional).
        first_token: ``(H,)`` mean attention to the first key ("sink" heads put most there).
        special: ``(H,)`` mean attention to keys holding one of the special token ids, or None.
        max_attention: ``(H,)`` mean of each query's largest weight (high: sharp heads).
        real_tokens: the real (non-padding) keys the statistics cover, over all samples.
        tokens: every key position of the samples (``N × S``), padding included.
    """

    layer: str
    entropy: np.ndarray
    max_entropy: float
    distance: np.ndarray
    first_token: np.ndarray
    special: np.ndarray | None
    max_attention: np.ndarray
    real_tokens: int = 0
    tokens: int = 0


def layer_head_statistics(model: Any, x: Any) -> list[HeadStatistics]:
    """:func:`head_statistics` of every MultiHeadAttention layer of ``model`` over the samples
    ``x`` (any form of ``graph.model_inputs``); the padding (:func:`real_tokens`: the model's
    padding-mask input, or id 0 of a one-input token model) is left out of the keys and queries
    of each layer whose keys are those tokens."""
    mask = real_tokens(model, x)
    result = []
    for layer, values in attention_scores(model, x).items():
        layer_mask = mask if mask is not None and mask.shape[1] == values.shape[3] else None
        result.append(head_statistics(values, layer=layer, key_mask=layer_mask))
    return result


def head_statistics(
    scores: np.ndarray,
    *,
    layer: str = "",
    key_mask: np.ndarray | None = None,
    special_keys: np.ndarray | None = None,
) -> HeadStatistics:
    """Entropy, distance, first-token and special-token attention of every head of one layer.

    Args:
        scores: ``(N, H, T, S)`` attention scores.
        layer: the layer's path, kept in the result.
        key_mask: ``(N, S)`` True for real (non-padding) keys; queries at padded positions of a
            self-attention layer are left out too. All real by default.
        special_keys: ``(N, S)`` True where the key is a special token (e.g. a [CLS] or
            separator id), for the "special" column.

    Returns:
        The statistics.
    """
    scores = _checked_scores(scores)
    count, heads, queries, keys = scores.shape
    real_keys = np.ones((count, keys), bool) if key_mask is None else np.asarray(key_mask, bool)
    if real_keys.shape != (count, keys):
        raise InputError(
            f"Expected a key mask of shape {(count, keys)}. Received: {real_keys.shape}."
        )
    real_queries = real_keys if queries == keys else np.ones((count, queries), bool)
    weights = real_queries[:, None, :].astype(np.float64)  # (N, 1, T) query weights
    total = np.maximum(weights.sum(axis=(0, 2)), 1.0)  # scalar per head broadcast

    def mean_over_queries(values: np.ndarray) -> np.ndarray:  # values (N, H, T)
        return (values * weights).sum(axis=(0, 2)) / total

    probabilities = np.clip(scores, 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(probabilities > 0, np.log(probabilities), 0.0)
    entropy = -(probabilities * logs).sum(axis=-1)
    offsets = np.abs(np.arange(queries)[:, None] - np.arange(keys)[None, :])
    if queries != keys:  # cross-attention or a cropped query: align the query's end with the keys'
        offsets = np.abs(np.arange(keys - queries, keys)[:, None] - np.arange(keys)[None, :])
    distance = (probabilities * offsets[None, None]).sum(axis=-1)
    special = None
    if special_keys is not None:
        special_keys = np.asarray(special_keys, bool)
        special = mean_over_queries((probabilities * special_keys[:, None, None, :]).sum(axis=-1))
    return HeadStatistics(
        layer=layer,
        entropy=mean_over_queries(entropy),
        max_entropy=float(np.log(max(real_keys.sum(axis=1).mean(), 1.0))),
        distance=mean_over_queries(distance),
        first_token=mean_over_queries(probabilities[..., 0]),
        special=special,
        max_attention=mean_over_queries(probabilities.max(axis=-1)),
        real_tokens=int(real_keys.sum()),
        tokens=int(real_keys.size),
    )


@dataclass(frozen=True, eq=False)
class HeadImportance(ValueEquality):
    """What removing one head at a time does to the predictions (ablation).

    Attributes:
        layers: attention layer paths, one row each.
        num_heads: heads per layer (rows are padded with NaN to the largest).
        target: ``(N,)`` the class whose probability is followed (the unablated prediction).
        baseline: ``(N,)`` that class's output with every head in place.
        drop: ``(L, H)`` mean decrease of the target output when the head is removed (positive:
            the head helped the prediction).
        flipped: ``(L, H)`` share of samples whose predicted class changes.
    """

    layers: tuple[str, ...]
    num_heads: tuple[int, ...]
    target: np.ndarray
    baseline: np.ndarray
    drop: np.ndarray
    flipped: np.ndarray

    def ranking(self) -> list[tuple[str, int, float]]:
        """``(layer, head, drop)`` from the most to the least important head."""
        rows = [
            (layer, head, float(self.drop[i, head]))
            for i, layer in enumerate(self.layers)
            for head in range(self.num_heads[i])
        ]
        return sorted(rows, key=lambda row: -row[2])


def head_importance(
    model: Any,
    x: np.ndarray,
    *,
    layers: Sequence[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> HeadImportance:
    """Removes each head in turn (on a copy of the model) and measures the prediction's change.

    A head is removed by zeroing its slice of the layer's output projection, which takes exactly
    its contribution out of the layer's output (the projection's bias stays): the head-masking
    ablation of Michel et al. (2019). The user's model is never changed.

    Args:
        model: a model with MultiHeadAttention layers.
        x: samples in any form of ``graph.model_inputs`` (a dict or packed set of several
            inputs for a KerasHub backbone, whose copy ``clone_model`` makes as a functional
            model over the same layer classes).
        layers: which attention layers; all by default.
        batch_size: samples per forward pass.

    Returns:
        The drop of the predicted class's output and the share of flipped predictions per head.
    """
    import keras

    from neurogenesis.analysis.architecture import find_layer

    available = attention_layers(model)
    if not available:
        raise UnsupportedModelError(
            f"'{getattr(model, 'name', model)}' has no keras.layers.MultiHeadAttention layer to ablate."
        )
    chosen = list(layers) if layers is not None else available
    unknown = [path for path in chosen if path not in available]
    if unknown:
        raise InputError(f"Expected attention layers of the model. Received: {unknown}.")
    try:
        copy = keras.models.clone_model(model)
        copy.set_weights(model.get_weights())
    except Exception as error:  # custom layers without get_config cannot be cloned
        raise UnsupportedModelError(
            f"Head ablation works on a copy of the model, and this model cannot be copied "
            f"({type(error).__name__}: {error}). Custom layers need get_config()."
        ) from None
    hidden = _hidden_attention_layers(copy)

    def outputs() -> np.ndarray:
        values = graph.predict(copy, x, batch_size=batch_size)
        return values.reshape(len(values), -1)

    reference = outputs()
    target = reference.argmax(axis=1)
    rows = np.arange(len(target))
    baseline = reference[rows, target]
    heads = []
    projections = []
    for path in chosen:
        if path in hidden:
            layer = hidden[path]
        else:
            layer = find_layer(copy, path.split("#")[0].split(graph.PATH_SEPARATOR))
        heads.append(int(layer.num_heads))
        projections.append(layer._output_dense.kernel)
    drop = np.full((len(chosen), max(heads)), np.nan)
    flipped = np.full((len(chosen), max(heads)), np.nan)
    for i, kernel in enumerate(projections):
        original = np.asarray(kernel.numpy())
        for head in range(heads[i]):
            ablated = original.copy()
            ablated[head] = 0.0  # the kernel is (num_heads, head_dim, output_dim)
            kernel.assign(ablated)
            values = outputs()
            drop[i, head] = float(np.mean(baseline - values[rows, target]))
            flipped[i, head] = float(np.mean(values.argmax(axis=1) != target))
        kernel.assign(original)
    return HeadImportance(
        layers=tuple(chosen),
        num_heads=tuple(heads),
        target=target,
        baseline=baseline,
        drop=drop,
        flipped=flipped,
    )


@dataclass(frozen=True, eq=False)
class AttentionEvolution(ValueEquality):
    """Attention scores recorded during training (RunRecorder's ``attention/epoch_XXXX.npz``).

    Attributes:
        epochs: ``(E,)`` the recorded epochs, in order.
        layers: the attention layers recorded in every epoch.
        scores: ``{layer: (E, n, H, T, S)}`` the probe samples' scores at each epoch.
        inputs: ``(n, ...)`` the probe samples the scores belong to (the recorder's first ones).
        entropy: ``(E, L, H)`` each head's mean entropy at each epoch (padding left out for token
            inputs), normalised by the uniform entropy (1 = attends evenly, 0 = to one token).
        notes: what was skipped and why.
    """

    epochs: np.ndarray
    layers: tuple[str, ...]
    scores: dict
    inputs: np.ndarray
    entropy: np.ndarray
    notes: tuple[str, ...]


def attention_evolution(run_path: str) -> AttentionEvolution:
    """Reads a recorded run's attention scores over the epochs, with per-head entropy.

    Args:
        run_path: a RunRecorder run folder (with ``attention/`` and ``probe.npz``).

    Returns:
        The scores of every layer at every recorded epoch.

    Raises:
        InputError: the run recorded no attention.
    """
    from neurogenesis.io.recordings import load_attention, read_recording

    recording = read_recording(run_path)
    files = list(recording.attention_files or ())
    if not files:
        raise InputError(
            f"The run '{run_path}' recorded no attention scores (RunRecorder records them for "
            "models with MultiHeadAttention layers)."
        )
    notes: list[str] = []
    per_epoch = []
    for epoch, path in files:
        try:
            per_epoch.append((int(epoch), load_attention(path)))
        except InputError as error:
            notes.append(f"epoch {epoch} skipped: {error}")
    if not per_epoch:
        raise InputError(f"No readable attention file in '{run_path}'. " + " ".join(notes))
    per_epoch.sort(key=lambda item: item[0])
    layers = [name for name in per_epoch[0][1] if all(name in scores for _, scores in per_epoch)]
    dropped = set().union(*(set(scores) for _, scores in per_epoch)) - set(layers)
    if dropped:
        notes.append(f"left out (not recorded at every epoch): {', '.join(sorted(dropped))}")
    stacked = {name: np.stack([scores[name] for _, scores in per_epoch]) for name in layers}
    count = min(values.shape[1] for values in stacked.values()) if stacked else 0
    stacked = {name: values[:, :count] for name, values in stacked.items()}
    inputs = np.zeros((count, 0))
    if recording.probe_file:
        with np.load(recording.probe_file, allow_pickle=False) as probe:
            if "x" in probe.files:
                inputs = probe["x"][:count]
    key_mask = None
    if inputs.ndim == 2 and inputs.dtype.kind in "iu" and inputs.shape[0] == count:
        key_mask = inputs != 0  # token ids: 0 is padding in Keras's convention
    heads = max((values.shape[2] for values in stacked.values()), default=0)
    entropy = np.full((len(per_epoch), len(layers), heads), np.nan)
    for e in range(len(per_epoch)):
        for i, name in enumerate(layers):
            values = stacked[name][e]
            if values.ndim != 4:
                continue
            mask = (
                key_mask if key_mask is not None and key_mask.shape[1] == values.shape[3] else None
            )
            stats = head_statistics(values, layer=name, key_mask=mask)
            entropy[e, i, : values.shape[1]] = stats.entropy / max(stats.max_entropy, 1e-12)
    return AttentionEvolution(
        epochs=np.array([epoch for epoch, _ in per_epoch]),
        layers=tuple(layers),
        scores=stacked,
        inputs=inputs,
        entropy=entropy,
        notes=tuple(notes),
    )


FLOW_SCALE = 1_000_000  # scipy's max-flow takes integer capacities: weights to 1e-6


def attention_flow(
    scores_by_layer: Mapping[str, np.ndarray] | Sequence[np.ndarray],
    *,
    residual: bool = True,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Attention flow (Abnar & Zuidema 2020): the maximum flow from each input token to each top position.

    The layers form a graph (one node per position and layer; an edge from position ``j`` below
    to position ``i`` above with capacity ``A[i, j]``, heads averaged and the residual mixed in
    as for rollout); ``flow[n, i, j]`` is the maximum flow from input token ``j`` to position
    ``i`` at the top. Unlike rollout, which multiplies (and so mixes) the paths, flow is bounded
    by each path's weakest edge.

    Args:
        scores_by_layer: self-attention scores per layer, in model order, each ``(N, H, T, T)``.
        residual: mix in the residual connection (``0.5 A + 0.5 I``).
        mask: ``(N, T)`` True at real tokens: padded positions carry no flow (see
            :func:`attention_rollout`).

    Returns:
        ``(N, T, T)`` float64 (capacities are resolved to 1e-6); 0 from and to padding.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_flow

    fused_layers = _fused(scores_by_layer, residual, what="Attention flow", mask=mask)
    count, size, _ = fused_layers[0].shape
    depth = len(fused_layers)
    nodes = size * (depth + 1)
    flow = np.zeros((count, size, size))
    for n in range(count):
        rows, cols, capacities = [], [], []
        for level, fused in enumerate(fused_layers):
            weights = np.rint(fused[n] * FLOW_SCALE).astype(np.int64)
            for i in range(size):
                for j in range(size):
                    if weights[i, j] > 0:
                        rows.append(level * size + j)  # position j below ...
                        cols.append((level + 1) * size + i)  # ... feeds position i above
                        capacities.append(weights[i, j])
        graph_matrix = csr_matrix(
            (np.asarray(capacities, dtype=np.int32), (rows, cols)), shape=(nodes, nodes)
        )
        for j in range(size):
            for i in range(size):
                result = maximum_flow(graph_matrix, j, depth * size + i)
                flow[n, i, j] = result.flow_value / FLOW_SCALE
    return flow
