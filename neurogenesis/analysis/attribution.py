"""Attribution (saliency): which parts of an input a model's score depends on, batched and checked.

Pure computation for the attribution page. :func:`attribution_info` explains one score per sample
(the predicted class by default) with one of :data:`METHODS`:

- ``"gradient"``: d score / d input (Simonyan et al. 2014).
- ``"smoothgrad"``: gradients of noisy copies of the input (Smilkov et al. 2017, with the paper's
  settings: 50 copies, noise sigma 10% of the sample's value range); its map averages the
  gradients' absolute values, as the paper's figures do (its signed attributions average the
  gradients). All copies of a sample go through the model as one batch.
- ``"integrated_gradients"``: (x - baseline) times the gradient averaged along the straight path
  from a baseline to x (Sundararajan et al. 2017), trapezoid rule; all steps of a sample in one
  batch. ``completeness_error`` says how far the attributions are from summing to
  F(x) - F(baseline).
- ``"gradcam"`` / ``"gradcam_plus_plus"``: a feature-map layer's channels weighted by the score's
  gradient (Selvaraju et al. 2017; Chattopadhay et al. 2018).
- ``"scorecam"``: channels weighted by how much the input masked with each channel raises the
  score over an all-zero input (Wang et al. 2020); batched.
- ``"occlusion"``: the score drop when a patch of the input is replaced by a baseline (Zeiler &
  Fergus 2014).

:func:`token_attribution_info` does gradient x input and integrated gradients for text models in
the embedding space of their token embedding. :func:`randomization_check` is the cascading
model-parameter randomization test (Adebayo et al. 2018): maps that do not change when the model's
weights are destroyed do not explain the model. :func:`pointing_game` (Zhang et al. 2016) scores
maps against object masks.

Every function works on functional and Sequential models (loaded from files or not) and on models
nested in other models, through :mod:`neurogenesis.analysis.graph`; the user's model is never
changed (the sanity check randomizes a clone).
"""

from __future__ import annotations

import math
import os
import threading
import warnings
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurogenesis.analysis import graph
from neurogenesis.analysis.infos import ValueEquality
from neurogenesis.errors import InputError, UnsupportedModelError

__all__ = [
    "reason",
    "BASELINES",
    "CAM_METHODS",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MEMORY_BUDGET_MB",
    "MEMORY_BUDGET_VARIABLE",
    "DEFAULT_BLUR_SIGMA",
    "DEFAULT_IG_STEPS",
    "DEFAULT_NOISE_LEVEL",
    "DEFAULT_OCCLUSION_STRIDE",
    "DEFAULT_OCCLUSION_WINDOW",
    "DEFAULT_SCORECAM_TOP_N",
    "DEFAULT_SMOOTHGRAD_SAMPLES",
    "GRADIENT_METHODS",
    "METHODS",
    "SANITY_THRESHOLD",
    "SIGNED_METHODS",
    "TOKEN_BASELINES",
    "TOKEN_METHODS",
    "TOP_FRACTION",
    "AttributionInfo",
    "InputsAttributionInfo",
    "PointingInfo",
    "SanityInfo",
    "TokenAttributionInfo",
    "TopAttributionInfo",
    "attribution_info",
    "chunk_rows",
    "default_embedding_layer",
    "pointing_game",
    "randomization_check",
    "row_bytes",
    "token_attribution_info",
    "token_input",
    "top_attributions",
]

METHODS = (
    "gradient",
    "smoothgrad",
    "integrated_gradients",
    "gradcam",
    "gradcam_plus_plus",
    "scorecam",
    "occlusion",
)
GRADIENT_METHODS = METHODS[:3]
CAM_METHODS = ("gradcam", "gradcam_plus_plus", "scorecam")
BASELINES = ("zeros", "blur", "mean")
TOKEN_METHODS = ("gradient", "integrated_gradients")
TOKEN_BASELINES = ("zeros", "pad")

DEFAULT_IG_STEPS = 64
# Smilkov et al. 2017: "the estimated gradient becomes smoother as n grows, with diminishing
# returns past about 50" and noise of 10-20% of the value range (max - min). On the masked shapes
# (240 samples, probability score) SmoothGrad's pointing game is 0.70 at 10%, 0.59 at 15% and 0.48
# at 20% (plain gradients: 0.48); with 32 copies at 15% and |mean gradient| maps it was 0.50.
DEFAULT_SMOOTHGRAD_SAMPLES = 50
DEFAULT_NOISE_LEVEL = 0.10
# Methods whose maps keep the sign of the attribution (drawn on a diverging scale centred on
# zero); every other method's map is a magnitude (SmoothGrad: the mean of |gradient|, as in the
# paper's figures; CAMs: ReLU'd; occlusion: positive score drops).
SIGNED_METHODS = ("gradient", "integrated_gradients")
# Occlusion patch side as a fraction of the image side, and stride as a fraction of the patch.
DEFAULT_OCCLUSION_WINDOW = 0.25
DEFAULT_OCCLUSION_STRIDE = 0.5
# Channels Score-CAM's fast mode keeps (top_n=None, the default, uses all).
DEFAULT_SCORECAM_TOP_N = 16
# The most rows (samples x noise copies / steps / patches) per model call; a model whose rows
# cost more memory gets fewer (chunk_rows): EfficientNet-B0 on 224x224 photos, 4 photos x 50
# steps in one call, was killed at 23.7 GB.
DEFAULT_BATCH_SIZE = 256
DEFAULT_MEMORY_BUDGET_MB = 1024
# On a small server (Community Cloud's ~1 GB, resources.small_server) TensorFlow and the app
# already take ~800 MB: one call gets this much instead.
SMALL_SERVER_MEMORY_BUDGET_MB = 96
# Overrides DEFAULT_MEMORY_BUDGET_MB: the memory one gradient call may use, in MiB.
MEMORY_BUDGET_VARIABLE = "NEUROGENESIS_ATTRIBUTION_BUDGET_MB"
# A gradient call keeps every layer's output for the backward pass and makes a gradient of the
# same size; with the framework's temporaries, about three times the outputs (EfficientNet-B0:
# 95 MB of float32 outputs per 224x224 row, 118 MB per row measured).
BACKWARD_FACTOR = 3
# Layer output values per input value when a layer's shape is not fixed (variable-size inputs):
# EfficientNet-B0 has 166, MobileNetV2 144 at 224x224.
FALLBACK_ACTIVATION_RATIO = 160
FLOAT_BYTES = 4
# Gaussian blur of the "blur" baseline, as a fraction of the image side (time axis for series).
DEFAULT_BLUR_SIGMA = 0.15
# The sanity check passes when the median rank correlation at the last stage is below this.
SANITY_THRESHOLD = 0.5
# "Top pixels kept" compares the top 10% of each map.
TOP_FRACTION = 0.1
# Below this |F(x) - F(baseline)| the relative completeness error is undefined (NaN).
COMPLETENESS_FLOOR = 1e-6


@dataclass(frozen=True, eq=False)
class AttributionInfo(ValueEquality):
    """Attribution maps for a batch of samples.

    Attributes:
        method: one of :data:`METHODS`.
        input_kind: ``"image"`` (samples ``(H, W, C)``), ``"series"`` (``(T, F)``) or
            ``"tabular"`` (``(F,)``).
        maps: non-negative maps. Images: ``(N, H, W)``; for gradient and integrated gradients the
            absolute attribution *summed* over channels, for SmoothGrad the mean over the noisy
            copies of the absolute gradient, summed over channels, for CAM methods the ReLU'd map upsampled
            bilinearly to ``(H, W)``, for occlusion the mean score drop (negative drops clipped to
            zero). Series and tabular inputs: the samples' own shape, ``(N, T, F)`` / ``(N, F)``,
            absolute attributions (SmoothGrad: mean absolute gradients).
        attributions: the signed attributions, the shape of the samples (``(N, H, W, C)``), for
            gradient methods; ``None`` otherwise.
        target: ``(N,)`` the output unit explained per sample.
        scores: ``(N,)`` the explained score of the target on the input.
        outputs: ``(N, K)`` the model's (first) output on the input, as the model returns it.
        layer: the CAM layer path, or ``None``.
        score_kind: ``"probability"`` (the output as the model returns it) or ``"logit"``
            (before the last softmax/sigmoid).
        baseline: the baseline of integrated gradients or the occlusion fill, else ``None``.
        steps: integrated-gradients steps, else ``None``.
        num_samples: SmoothGrad noise samples, else ``None``.
        noise_level: SmoothGrad noise level, else ``None``.
        window: occlusion patch size over the map axes, else ``None``.
        stride: occlusion stride over the map axes, else ``None``.
        top_n: Score-CAM channels used (``None``: all, or another method).
        completeness_error: ``(N,)`` for integrated gradients,
            ``|sum(attributions) - (F(x) - F(baseline))| / |F(x) - F(baseline)|`` (NaN where the
            difference is below 1e-6), else ``None``.
        notes: remarks a page should show (a degenerate baseline, zero maps, ...).
    """

    method: str
    input_kind: str
    maps: np.ndarray
    attributions: np.ndarray | None
    target: np.ndarray
    scores: np.ndarray
    outputs: np.ndarray
    layer: str | None
    score_kind: str
    baseline: str | None
    steps: int | None
    num_samples: int | None
    noise_level: float | None
    window: tuple | None
    stride: tuple | None
    top_n: int | None
    completeness_error: np.ndarray | None
    notes: tuple[str, ...]

    @property
    def signed(self) -> bool:
        """The method's attribution keeps its sign (:data:`SIGNED_METHODS`): draw
        ``attributions`` on a diverging scale centred on zero; else draw ``maps``, a magnitude."""
        return self.attributions is not None and self.method in SIGNED_METHODS


@dataclass(frozen=True, eq=False)
class InputsAttributionInfo(ValueEquality):
    """Attribution of a model of several inputs: one :class:`AttributionInfo` per input explained.

    Gradient methods (gradient, SmoothGrad, integrated gradients) explain every floating-point
    input at once, from one gradient of the score with respect to all of them; occlusion
    occludes one input at a time with the others as they are; CAM methods give a map for the
    image input whose feature maps the layer reads. Integer inputs (token ids, masks) are fed
    unchanged and listed in ``held_fixed`` (token ids are explained by
    :func:`token_attribution_info`, at their embedding).

    Attributes:
        method: one of :data:`METHODS`.
        inputs: ``{input name: AttributionInfo}`` in the model's input order; each holds that
            input's ``maps`` and signed ``attributions`` as :func:`attribution_info` does for a
            model of one input (its ``input_kind`` from its own shape), and the shared
            ``target``, ``scores`` and ``outputs``.
        held_fixed: the names of the inputs fed as they are and not explained.
        target: ``(N,)`` the output unit explained per sample.
        scores: ``(N,)`` the explained score.
        outputs: ``(N, K)`` the model's output.
        score_kind: ``"probability"`` or ``"logit"``.
        completeness_error: ``(N,)`` for integrated gradients, over *all* inputs:
            ``|sum of every input's attributions - (F(x) - F(baseline))| / |F(x) - F(baseline)|``
            (every float input moves from its baseline at once); each input's own info carries
            the same values. ``None`` for other methods.
        notes: remarks a page should show.
    """

    method: str
    inputs: dict
    held_fixed: tuple[str, ...]
    target: np.ndarray
    scores: np.ndarray
    outputs: np.ndarray
    score_kind: str
    completeness_error: np.ndarray | None
    notes: tuple[str, ...]

    @property
    def maps(self) -> dict[str, np.ndarray]:
        """Each explained input's maps, by input name."""
        return {name: info.maps for name, info in self.inputs.items()}

    @property
    def attributions(self) -> dict[str, np.ndarray | None]:
        """Each explained input's signed attributions (gradient methods), by input name."""
        return {name: info.attributions for name, info in self.inputs.items()}


@dataclass(frozen=True, eq=False)
class TokenAttributionInfo(ValueEquality):
    """One signed score per token, in the embedding space of the token embedding.

    Attributes:
        method: ``"gradient"`` (gradient x input) or ``"integrated_gradients"``.
        scores: ``(N, T)`` signed attribution per token, summed over the embedding dimension;
            positive pushes the target's score up.
        tokens: ``(N, T)`` the token ids explained.
        target: ``(N,)`` the output unit explained.
        probabilities: ``(N, K)`` the model's output on the tokens.
        target_scores: ``(N,)`` the explained score of the target.
        embedding_layer: the path of the embedding layer attributed at.
        score_kind: ``"probability"`` or ``"logit"``.
        baseline: ``"zeros"`` or ``"pad"`` for integrated gradients, else ``None``.
        steps: integrated-gradients steps, else ``None``.
        completeness_error: ``(N,)`` for integrated gradients, as in :class:`AttributionInfo`
            (over tokens and embedding dimensions); ``None`` for gradient x input.
        notes: remarks a page should show.
        real: ``(N, T)`` true at real tokens, from the model's padding-mask input (padded
            tokens have score 0 and are not shown); ``None`` for a model without one.
        output_activation: the activation of the layer making the model's output
            (``"softmax"``, ``"sigmoid"``; ``None`` or ``"linear"`` for raw scores such as
            KerasHub classifiers' logits), so ``probabilities`` is called a probability only
            where it is one.
    """

    method: str
    scores: np.ndarray
    tokens: np.ndarray
    target: np.ndarray
    probabilities: np.ndarray
    target_scores: np.ndarray
    embedding_layer: str
    score_kind: str
    baseline: str | None
    steps: int | None
    completeness_error: np.ndarray | None
    notes: tuple[str, ...]
    real: np.ndarray | None = None
    output_activation: str | None = None


@dataclass(frozen=True, eq=False)
class SanityInfo(ValueEquality):
    """Cascading model-parameter randomization (Adebayo et al. 2018).

    Attributes:
        method: the attribution method checked.
        layers: the layer paths randomized, from the output down; stage ``k`` has
            ``layers[: k + 1]`` randomized.
        target: ``(N,)`` the output unit explained, the same at every stage (the original model's).
        original: ``(N, *map shape)`` the maps of the original model.
        randomized: ``(stages, N, *map shape)`` the maps after each stage.
        rank_correlation: ``(stages, N)`` Spearman rank correlation between original and
            randomized maps (absolute values: the maps themselves). A constant map has no ranking;
            its correlation is reported as 0.
        rank_correlation_signed: ``(stages, N)`` the same for the signed attributions summed over
            channels, for gradient methods; ``None`` for the others (their maps have no sign).
        top_kept: ``(stages, N)`` the fraction of the original map's top 10% pixels that are still
            in the randomized map's top 10%.
        threshold: :data:`SANITY_THRESHOLD`.
        passed: the median rank correlation after the last stage is below ``threshold``: the maps
            depend on the weights, as an explanation of the model must.
        notes: how layers were re-initialized, and other remarks.
    """

    method: str
    layers: tuple[str, ...]
    target: np.ndarray
    original: np.ndarray
    randomized: np.ndarray
    rank_correlation: np.ndarray
    rank_correlation_signed: np.ndarray | None
    top_kept: np.ndarray
    threshold: float
    passed: bool
    notes: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class PointingInfo(ValueEquality):
    """The pointing game (Zhang et al. 2016): does each map's maximum lie on the object?

    Attributes:
        hits: ``(N,)`` the maximum lies on the (dilated) mask.
        points: ``(N, 2)`` row and column of each map's maximum (the first one on ties).
        score: the fraction of hits.
        tolerance: the mask was dilated by this many pixels (Euclidean).
    """

    hits: np.ndarray
    points: np.ndarray
    score: float
    tolerance: int


# ---------------------------------------------------------------------------------------------
# What a model supports


def _layers_or_reason(model: Any) -> tuple[graph.GraphLayers | None, str | None]:
    if not graph.supports(model):
        return None, (
            f"'{getattr(model, 'name', model)}' is a subclassed model without a functional graph, "
            "so its score cannot be traced back to its input. Build it with the functional API or "
            "as a Sequential model with an Input."
        )
    try:
        return graph.graph_layers(model), None
    except InputError as error:
        return None, str(error)


def _cam_layers(layers: graph.GraphLayers) -> list[str]:
    return [entry.path for entry in layers.layers if entry.spatial and len(entry.output_shape) == 3]


def _input_kind(shape: tuple) -> str:
    return {3: "image", 2: "series", 1: "tabular"}.get(len(shape), "other")


def _output_reason(layers: graph.GraphLayers) -> str | None:
    shape = layers.output_shape
    if len(shape) != 1:
        return (
            f"The model's output has shape {shape}, not a vector of scores per class (an "
            "autoencoder or a segmentation model?), so there is no single score to explain."
        )
    return None


def _method_reason(model: Any, method: str) -> str | None:
    """Why ``method`` cannot explain ``model``, or ``None`` when it can.

    Args:
        model: a Keras model.
        method: one of :data:`METHODS`.

    Returns:
        ``None`` when the method applies, else one sentence a page can show instead of failing.

    Raises:
        InputError: ``method`` is not one of :data:`METHODS`.
    """
    if method not in METHODS:
        raise InputError(f"Expected a method in {METHODS}. Received: {method!r}.")
    layers, reason = _layers_or_reason(model)
    if reason is not None:
        return reason
    if len(layers.input_shapes) != 1:
        return _inputs_reason(model, layers, method)
    dtype = layers.input_dtypes[0]
    if "int" in dtype or "bool" in dtype:
        return (
            f"The model takes {dtype} values (token ids?), which have no gradient; use token "
            "attribution, which works in the embedding space."
        )
    output_reason = _output_reason(layers)
    if output_reason is not None:
        return output_reason
    kind = _input_kind(layers.input_shapes[0])
    if kind == "other":
        return (
            f"The model's input has shape {layers.input_shapes[0]}; attribution here explains "
            "images (height, width, channels), series (steps, features) and feature vectors."
        )
    if method in CAM_METHODS:
        if kind != "image":
            return (
                f"{method} needs image input (height, width, channels); this model takes "
                f"{kind} input of shape {layers.input_shapes[0]}. Use a gradient method or "
                "occlusion."
            )
        if not _cam_layers(layers):
            names = ", ".join(f"{e.path} {e.output_shape}" for e in layers.layers[:10])
            return (
                f"{method} needs a layer with a spatial feature map (height, width, channels); "
                f"none of this model's layers has one (its layers: {names}"
                f"{', ...' if len(layers.layers) > 10 else ''})."
            )
    return None


def _float_inputs(layers: graph.GraphLayers) -> list[int]:
    """Positions of the model's floating-point inputs (the ones a gradient can explain)."""
    return [i for i, dtype in enumerate(layers.input_dtypes) if "float" in dtype]


def _inputs_reason(model: Any, layers: graph.GraphLayers, method: str) -> str | None:
    """:func:`_method_reason` for a model of several inputs."""
    names = graph.input_names(model)
    floats = _float_inputs(layers)
    if not floats:
        return (
            f"The model's inputs ({', '.join(names)}) are all integers (token ids, masks), which "
            "have no gradient; use token attribution, which works in the embedding space."
        )
    output_reason = _output_reason(layers)
    if output_reason is not None:
        return output_reason
    for i in floats:
        if _input_kind(layers.input_shapes[i]) == "other":
            return (
                f"The model's input '{names[i]}' has shape {layers.input_shapes[i]}; attribution "
                "here explains images, series and feature vectors."
            )
    if method in CAM_METHODS:
        images = [i for i in floats if _input_kind(layers.input_shapes[i]) == "image"]
        if not images or not _cam_layers(layers):
            return (
                f"{method} needs an image input and a layer with a spatial feature map; this "
                f"model's inputs are {', '.join(names)}. Use a gradient method or occlusion."
            )
    return None


def reason(
    model: Any,
    method: str = "gradient",
    *,
    tokens: bool = False,
    embedding_layer: str | None = None,
) -> str | None:
    """Why attribution cannot explain ``model``, or ``None`` when it can.

    Args:
        model: a Keras model.
        method: one of :data:`METHODS` (``"gradient"``: at least the gradient and occlusion
            methods).
        tokens: ask about :func:`token_attribution_info` (token ids, explained in the embedding
            space) instead; ``method`` does not matter then.
        embedding_layer: with ``tokens``, the embedding layer's path (default: found).

    Returns:
        ``None`` when the method applies, else one sentence a page can show instead of failing.

    Raises:
        InputError: ``method`` is not one of :data:`METHODS`.
    """
    if tokens:
        return _token_reason(model, embedding_layer)
    return _method_reason(model, method)


def _token_position(model: Any, layers: graph.GraphLayers) -> int | None:
    """The position of the model's token-ids input: its one integer input, or of several inputs
    the integer one named like token ids (``token_ids``, ``input_ids``, ``ids``); else None."""
    dtypes = layers.input_dtypes
    if len(dtypes) == 1:
        return 0 if "int" in dtypes[0] else None
    from neurogenesis.io.samples import is_token_name

    for position, name in enumerate(graph.input_names(model)):
        if "int" in dtypes[position] and is_token_name(name):
            return position
    return None


def token_input(model: Any) -> str | None:
    """The name of the model's token-ids input (see :func:`token_attribution_info`), or None."""
    layers, reason = _layers_or_reason(model)
    if reason is not None:
        return None
    position = _token_position(model, layers)
    return None if position is None else graph.input_names(model)[position]


def _is_embedding(model: Any, entry: graph.LayerEntry) -> bool:
    """An ``Embedding`` layer, or a subclass of it (KerasHub's ``ReversibleEmbedding``)."""
    if entry.class_name == "Embedding":
        return True
    import keras

    try:
        return isinstance(_layer_at(model, entry.path), keras.layers.Embedding)
    except (InputError, ValueError, AttributeError):
        return False


def default_embedding_layer(model: Any) -> str | None:
    """The path of the first ``Embedding`` layer fed by the model's token-ids input (else the
    first one); of a model of several inputs, the one fed by its input named like token ids
    (KerasHub's ``token_embedding``, not its ``segment_embedding``)."""
    layers, reason = _layers_or_reason(model)
    if reason is not None:
        return None
    embeddings = [entry.path for entry in layers.layers if _is_embedding(model, entry)]
    position = _token_position(model, layers)
    token_name = graph.input_names(model)[position] if position is not None else None
    several = len(layers.input_shapes) > 1
    for path in embeddings:
        try:
            layer = _layer_at(model, path)
            node = layer._inbound_nodes[0]
            operation = node.input_tensors[0]._keras_history[0]
        except (AttributeError, IndexError, InputError, ValueError):
            continue
        if type(operation).__name__ == "InputLayer" and (
            not several or operation.name == token_name
        ):
            return path
    return embeddings[0] if embeddings else None


def _token_reason(model: Any, embedding_layer: str | None = None) -> str | None:
    """Why :func:`token_attribution_info` cannot explain ``model``, or ``None`` when it can."""
    layers, reason = _layers_or_reason(model)
    if reason is not None:
        return reason
    if _token_position(model, layers) is None:
        return (
            "Token attribution explains models that take integer token ids (one input, or an "
            f"input named like token_ids); this model takes {', '.join(layers.input_dtypes)}. "
            "Use the image/series attribution."
        )
    output_reason = _output_reason(layers)
    if output_reason is not None:
        return output_reason
    path = embedding_layer or default_embedding_layer(model)
    if path is None or path not in layers.paths():
        return (
            "Token attribution needs an Embedding layer that turns the token ids into vectors; "
            "this model has none."
        )
    return None


# ---------------------------------------------------------------------------------------------
# Batched gradients


class _Scorer:
    """A tapped model and its gradient functions (one per model, tapped layer, score, replace).

    A function's first call runs eagerly and later calls run compiled (``tf.function``): tracing
    costs more than one eager batch, so it only pays when the function is used again.
    """

    def __init__(self, model: Any, *, score: str, layer: str | None = None, replace=None):
        self.layer = layer
        self.replace = replace
        self.tapped = graph.tap_model(model, [layer] if layer else [], score=score, replace=replace)
        self._eager: dict[str, Callable] = {}
        self._compiled: dict[str, Callable] = {}

    def _function(self, kind: str) -> Callable:
        import tensorflow as tf

        if kind in self._compiled:
            return self._compiled[kind]
        if kind in self._eager:
            graph.quiet_retracing()
            self._compiled[kind] = tf.function(self._eager[kind], reduce_retracing=True)
            return self._compiled[kind]
        tapped = self.tapped

        def pick(output, targets):
            return tf.gather(tf.reshape(output, (tf.shape(output)[0], -1)), targets, batch_dims=1)

        if kind == "forward":

            def function(inputs, targets):
                result = graph.call_tapped(tapped, *inputs)
                return [pick(result[0], targets), *result]

        elif kind == "input":

            def function(inputs, targets):
                watched = inputs[-1]
                with tf.GradientTape() as tape:
                    tape.watch(watched)
                    result = graph.call_tapped(tapped, *inputs)
                    score = pick(result[0], targets)
                return score, tape.gradient(score, watched)

        elif kind.startswith("inputs:"):  # the gradients at several inputs ("inputs:0,2")
            positions = [int(p) for p in kind.split(":", 1)[1].split(",")]

            def function(inputs, targets):
                watched = [inputs[p] for p in positions]
                with tf.GradientTape() as tape:
                    for value in watched:
                        tape.watch(value)
                    result = graph.call_tapped(tapped, *inputs)
                    score = pick(result[0], targets)
                return [score, *tape.gradient(score, watched)]

        else:  # "layer": the gradient at the tapped layer

            def function(inputs, targets):
                with tf.GradientTape() as tape:
                    result = graph.call_tapped(tapped, *inputs)
                    activation = result[1]
                    tape.watch(activation)
                    score = pick(result[0], targets)
                return score, activation, tape.gradient(score, activation)

        self._eager[kind] = function
        return function

    def __call__(self, kind: str, inputs: Sequence[np.ndarray], targets: np.ndarray) -> list:
        import tensorflow as tf

        tensors = [tf.convert_to_tensor(value) for value in inputs]
        result = self._function(kind)(tensors, tf.convert_to_tensor(targets, dtype=tf.int32))
        return [np.asarray(value) for value in result]


# Scorers of the "probability" score, per model, kept while the model lives: they read the
# model's own variables, so they stay right when its weights change. "logit" scorers are not
# kept: graph.tap_model's logit layer holds a copy of the last layer's weights.
_SHARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()


def _scorer(cache: dict, model: Any, score: str, layer=None, replace=None) -> _Scorer:
    key = (score, layer, replace)
    if key in cache:
        return cache[key]
    if score == "probability":
        with _SHARED_LOCK:
            try:
                shared = _SHARED.setdefault(model, {})
            except TypeError:  # a model that cannot be weakly referenced
                shared = {}
            if key not in shared:
                shared[key] = _Scorer(model, score=score, layer=layer, replace=replace)
            cache[key] = shared[key]
    else:
        cache[key] = _Scorer(model, score=score, layer=layer, replace=replace)
    return cache[key]


def _run_rows(
    scorer: _Scorer,
    kind: str,
    make_rows: Callable[[int], list[np.ndarray]],
    targets: np.ndarray,
    batch_size: int,
    progress: Callable[[float], None] | None,
) -> list[list[np.ndarray]]:
    """Runs every sample's rows through ``scorer``, whole samples per call where they fit.

    ``make_rows(i)`` gives sample ``i``'s inputs (each ``(rows, ...)``); returns, per sample, the
    scorer's results for its rows. A sample with more rows than ``batch_size`` is split.
    """
    count = len(targets)
    results: list[list[np.ndarray]] = [None] * count  # type: ignore[list-item]
    pending: list[tuple[int, list[np.ndarray]]] = []
    pending_rows = 0

    def flush() -> None:
        nonlocal pending, pending_rows
        if not pending:
            return
        inputs = [
            np.concatenate([rows[k] for _, rows in pending]) for k in range(len(pending[0][1]))
        ]
        row_targets = np.concatenate([np.full(len(rows[0]), targets[i]) for i, rows in pending])
        outputs = []
        for start in range(0, len(row_targets), batch_size):
            part = [value[start : start + batch_size] for value in inputs]
            outputs.append(scorer(kind, part, row_targets[start : start + batch_size]))
        merged = [np.concatenate([o[k] for o in outputs]) for k in range(len(outputs[0]))]
        offset = 0
        for i, rows in pending:
            size = len(rows[0])
            results[i] = [value[offset : offset + size] for value in merged]
            offset += size
        if progress is not None:
            progress(min(1.0, (pending[-1][0] + 1) / count))
        pending, pending_rows = [], 0

    for i in range(count):
        rows = make_rows(i)
        if pending and pending_rows + len(rows[0]) > batch_size:
            flush()
        pending.append((i, rows))
        pending_rows += len(rows[0])
    flush()
    return results


def row_bytes(layers: graph.GraphLayers, sample_shape: Sequence[int]) -> int:
    """Estimated memory of one row of input in a gradient call, in bytes.

    The sum of every layer's output size (float32) and the input's, times
    :data:`BACKWARD_FACTOR` for what the backward pass keeps and makes. A layer whose shape is
    not fixed makes the estimate the input's size times :data:`FALLBACK_ACTIVATION_RATIO`.

    Args:
        layers: ``graph.graph_layers(model)``.
        sample_shape: one row's shape as given to the model (without the batch axis).
    """
    input_values = math.prod(int(d) for d in sample_shape)
    values = 0
    for entry in layers.layers:
        if entry.class_name == "InputLayer":
            continue
        shape = entry.output_shape
        if not all(isinstance(d, (int, np.integer)) for d in shape):
            values = input_values * FALLBACK_ACTIVATION_RATIO
            break
        values += math.prod(int(d) for d in shape)
    return max(1, (values + input_values) * FLOAT_BYTES * BACKWARD_FACTOR)


def _memory_budget() -> int:
    """The bytes one gradient call may use: ``$NEUROGENESIS_ATTRIBUTION_BUDGET_MB`` MiB, else
    :data:`DEFAULT_MEMORY_BUDGET_MB` (:data:`SMALL_SERVER_MEMORY_BUDGET_MB` on a small server)."""
    from neurogenesis.resources import small_server

    text = os.environ.get(MEMORY_BUDGET_VARIABLE, "").strip()
    if not text:
        small = small_server()
        return (SMALL_SERVER_MEMORY_BUDGET_MB if small else DEFAULT_MEMORY_BUDGET_MB) * 2**20
    try:
        megabytes = float(text)
    except ValueError:
        megabytes = float("nan")
    if not (math.isfinite(megabytes) and megabytes > 0):
        raise InputError(
            f"Expected ${MEMORY_BUDGET_VARIABLE} to be a positive number of MiB (e.g. 1024). "
            f"Received: {text!r}. Set it to the memory one attribution call may use, or unset it."
        )
    return int(megabytes * 2**20)


def chunk_rows(
    layers: graph.GraphLayers,
    sample_shape: Sequence[int],
    budget_bytes: int | None = None,
    most: int = DEFAULT_BATCH_SIZE,
) -> int:
    """Rows per gradient call so that one call stays within the memory budget.

    At most ``most``, at least 1: a small model keeps big batches (the speed of doing all steps
    of a sample at once), an ImageNet-sized one gets a few rows per call.

    Args:
        layers: ``graph.graph_layers(model)``.
        sample_shape: one row's shape as given to the model.
        budget_bytes: the budget; default ``$NEUROGENESIS_ATTRIBUTION_BUDGET_MB`` MiB, else
            :data:`DEFAULT_MEMORY_BUDGET_MB`.
        most: the cap (default :data:`DEFAULT_BATCH_SIZE`; the loss landscape passes its
            largest sample count, so a small model keeps every sample in one call).

    Raises:
        InputError: the environment variable is not a positive number.
    """
    budget = _memory_budget() if budget_bytes is None else int(budget_bytes)
    return int(max(1, min(int(most), budget // row_bytes(layers, sample_shape))))


def _batched(scorer: _Scorer, kind: str, inputs: list[np.ndarray], targets, batch_size: int):
    """``scorer`` over ``inputs`` (one row per sample) in chunks, results concatenated."""
    outputs = []
    for start in range(0, len(targets), batch_size):
        part = [value[start : start + batch_size] for value in inputs]
        outputs.append(scorer(kind, part, targets[start : start + batch_size]))
    return [np.concatenate([o[k] for o in outputs]) for k in range(len(outputs[0]))]


# ---------------------------------------------------------------------------------------------
# Helpers


def _targets(target, outputs: np.ndarray) -> np.ndarray:
    count, units = outputs.shape[0], outputs.shape[1]
    if target is None:
        return np.argmax(outputs, axis=1).astype(np.int64)
    values = np.asarray(target)
    if values.ndim == 0:
        values = np.full(count, int(values))
    if values.shape != (count,) or values.dtype.kind not in "iu":
        raise InputError(
            f"Expected target None, an int or {count} ints (one per sample). Received: "
            f"{values.dtype} values of shape {values.shape}."
        )
    if values.min() < 0 or values.max() >= units:
        raise InputError(
            f"Expected targets between 0 and {units - 1} (the model has {units} outputs). "
            f"Received: {values.min()}..{values.max()}."
        )
    return values.astype(np.int64)


def _map_axes(kind: str, sample_shape: tuple) -> int:
    """How many leading sample axes the maps keep (images: 2, dropping channels; else all)."""
    return 2 if kind == "image" else len(sample_shape)


def _reduce(attributions: np.ndarray, kind: str) -> np.ndarray:
    magnitude = np.abs(attributions)
    return magnitude.sum(axis=-1) if kind == "image" else magnitude


def _baseline(x: np.ndarray, baseline: str, kind: str, mean=None) -> np.ndarray:
    """The baseline of ``x``; ``mean``: the ``(1, ...)`` per-feature mean the ``"mean"``
    baseline uses (default: of ``x``; a shard of a set is given the whole set's)."""
    if baseline not in BASELINES:
        raise InputError(f"Expected a baseline in {BASELINES}. Received: {baseline!r}.")
    if baseline == "zeros":
        return np.zeros_like(x)
    if baseline == "mean":
        mean = x.mean(axis=0, keepdims=True) if mean is None else np.asarray(mean)
        if mean.shape != (1, *x.shape[1:]):
            raise InputError(
                f"Expected a mean baseline of shape {(1, *x.shape[1:])}. Received: {mean.shape}."
            )
        return np.broadcast_to(mean, x.shape).astype(x.dtype)
    from scipy import ndimage

    if kind == "image":
        sigma = (0, DEFAULT_BLUR_SIGMA * x.shape[1], DEFAULT_BLUR_SIGMA * x.shape[2], 0)
    elif kind == "series":
        sigma = (0, DEFAULT_BLUR_SIGMA * x.shape[1], 0)
    else:
        raise InputError(
            "Expected images or series for the 'blur' baseline; feature vectors have no "
            "neighbourhood to blur. Use 'zeros' or 'mean'."
        )
    return ndimage.gaussian_filter(x.astype(np.float64), sigma=sigma, mode="nearest").astype(
        x.dtype
    )


def _upsample(maps: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of ``(N, h, w)`` maps to ``size`` (half-pixel centres, as tf.image)."""
    import tensorflow as tf

    if maps.shape[1:] == tuple(size):
        return maps.astype(np.float64)
    resized = tf.image.resize(maps[..., None].astype(np.float32), size, method="bilinear")
    return np.asarray(resized, dtype=np.float64)[..., 0]


def _window(value, kind: str, sample_shape: tuple, name: str) -> tuple | None:
    axes = _map_axes(kind, sample_shape)
    shape = sample_shape[:axes]
    if value is None:
        return None
    sizes = (value,) * 2 if kind == "image" else (value,) + (1,) * (axes - 1)
    if not isinstance(value, (int, np.integer)):
        sizes = tuple(value)
    if len(sizes) != axes or any(
        int(s) < 1 or int(s) > n for s, n in zip(sizes, shape, strict=True)
    ):
        raise InputError(
            f"Expected an occlusion {name} of {axes} sizes between 1 and {shape}. "
            f"Received: {value!r}."
        )
    return tuple(int(s) for s in sizes)


def _occlusion_geometry(window, stride, kind: str, sample_shape: tuple) -> tuple[tuple, tuple]:
    axes = _map_axes(kind, sample_shape)
    shape = sample_shape[:axes]
    window = _window(window, kind, sample_shape, "window")
    if window is None:
        if kind == "image":
            window = tuple(max(1, round(n * DEFAULT_OCCLUSION_WINDOW)) for n in shape)
        elif kind == "series":
            window = (max(1, round(shape[0] * DEFAULT_OCCLUSION_WINDOW)),) + (1,) * (axes - 1)
        else:
            window = (1,) * axes
    stride = _window(stride, kind, sample_shape, "stride")
    if stride is None:
        stride = tuple(max(1, round(w * DEFAULT_OCCLUSION_STRIDE)) for w in window)
    return window, stride


def _patch_starts(size: int, window: int, stride: int) -> list[int]:
    starts = list(range(0, size - window + 1, stride))
    if starts[-1] != size - window:
        starts.append(size - window)  # so the last rows/columns are covered too
    return starts


# ---------------------------------------------------------------------------------------------
# The methods


def _gradient(scorer, x, targets, batch_size, progress):
    _, grads = _batched(scorer, "input", [x], targets, batch_size)
    if progress is not None:
        progress(1.0)
    return grads


def skip_normals(rng: np.random.Generator, count: int) -> None:
    """Draws and drops ``count`` normal values: ``rng`` then continues as if ``count`` values of
    its ``normal`` had been drawn (a shard of a set draws the noise its samples get in the whole
    set; the ziggurat uses a varying number of bits per value, so the stream cannot jump)."""
    remaining = int(count)
    while remaining > 0:
        size = min(remaining, 1 << 20)
        rng.standard_normal(size)
        remaining -= size


def mean_baseline(model: Any, x: Any) -> np.ndarray | dict[str, np.ndarray]:
    """The per-feature mean of the samples ``x`` that the ``"mean"`` baseline starts from:
    ``(1, ...)``, or for a model of several inputs one per float input name. A job over shards
    of a set computes it once for the whole set and passes it to every shard
    (:func:`attribution_info`'s ``baseline_mean``)."""
    layers = graph.graph_layers(model)
    if len(layers.input_shapes) == 1:
        return graph.model_input(model, x).mean(axis=0, keepdims=True)
    names = graph.input_names(model)
    arrays = graph.model_inputs(model, x)
    return {names[i]: arrays[i].mean(axis=0, keepdims=True) for i in _float_inputs(layers)}


def _smoothgrad(
    scorer, x, targets, num_samples, noise_level, seed, batch_size, progress, first_sample=0
):
    rng = np.random.default_rng(seed)
    skip_normals(rng, first_sample * num_samples * math.prod(x.shape[1:]))
    # Drawn up front, sample by sample, so the noise does not depend on the batch size.
    noise = []
    for sample in x:
        span = float(sample.max() - sample.min()) or 1.0
        noise.append(rng.normal(0.0, noise_level * span, size=(num_samples, *sample.shape)))

    def rows(i):
        return [(x[i][None] + noise[i]).astype(x.dtype)]

    results = _run_rows(scorer, "input", rows, targets, batch_size, progress)
    mean = np.stack([grads.astype(np.float64).mean(axis=0) for _, grads in results])
    magnitude = np.stack([np.abs(grads.astype(np.float64)).mean(axis=0) for _, grads in results])
    return mean, magnitude


def _trapezoid(steps: int) -> tuple[np.ndarray, np.ndarray]:
    alphas = np.linspace(0.0, 1.0, steps)
    weights = np.full(steps, 1.0 / (steps - 1))
    weights[[0, -1]] /= 2
    return alphas, weights


def _integrated_gradients(scorer, x, base, targets, steps, batch_size, progress, extra=None):
    """IG along base -> x; ``extra``: per-sample inputs fed unchanged before ``x`` (the model's
    own inputs, when ``x`` is a replaced embedding)."""
    alphas, weights = _trapezoid(steps)
    shape = (steps,) + (1,) * (x.ndim - 1)

    def rows(i):
        path = (base[i][None] + alphas.reshape(shape) * (x[i] - base[i])[None]).astype(x.dtype)
        if extra is None:
            return [path]
        return [*(np.repeat(array[i][None], steps, axis=0) for array in extra), path]

    results = _run_rows(scorer, "input", rows, targets, batch_size, progress)
    average = np.stack([np.tensordot(weights, grads, axes=1) for _, grads in results])
    attributions = (x - base).astype(np.float64) * average
    end = np.array([scores[-1] for scores, _ in results], dtype=np.float64)
    start = np.array([scores[0] for scores, _ in results], dtype=np.float64)
    difference = end - start
    total = attributions.reshape(len(x), -1).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        error = np.where(
            np.abs(difference) > COMPLETENESS_FLOOR,
            np.abs(total - difference) / np.abs(difference),
            np.nan,
        )
    return attributions, error


def _cam(scorer, x, targets, plus_plus: bool, batch_size, progress, inputs=None):
    """``inputs``: every model input (``x`` is the image among them), else ``[x]``."""
    _, activations, grads = _batched(scorer, "layer", inputs or [x], targets, batch_size)
    activations = activations.astype(np.float64)
    grads = grads.astype(np.float64)
    if plus_plus:
        # Chattopadhay et al.'s closed form with exp(score) derivatives: exp(S) cancels in alpha
        # and only scales the map, so it is left out (it overflows for large logits).
        squared, cubed = grads**2, grads**3
        denominator = 2 * squared + activations.sum(axis=(1, 2), keepdims=True) * cubed
        alpha = np.where(denominator != 0, squared / np.where(denominator != 0, denominator, 1), 0)
        weights = (alpha * np.maximum(grads, 0)).sum(axis=(1, 2))
    else:
        weights = grads.mean(axis=(1, 2))
    cams = np.maximum(np.einsum("nhwc,nc->nhw", activations, weights), 0)
    if progress is not None:
        progress(1.0)
    return _upsample(cams, x.shape[1:3])


def _scorecam(forward, x, targets, top_n, batch_size, progress, inputs=None, position=0):
    """``inputs``: every model input, ``x`` the image at ``position`` among them (the others
    are fed unchanged), else ``[x]``."""
    inputs = inputs or [x]

    def beside(i, value):
        rows = [np.repeat(array[i][None], len(value), axis=0) for array in inputs]
        rows[position] = value
        return rows

    outputs = _batched(forward, "forward", inputs, targets, batch_size)
    activations = outputs[2].astype(np.float64)
    channels = activations.shape[-1]
    keep = channels if top_n is None else min(int(top_n), channels)
    order = np.argsort(-activations.mean(axis=(1, 2)), axis=1, kind="stable")[:, :keep]
    chosen = np.take_along_axis(activations, order[:, None, None, :], axis=3)  # (N, h, w, keep)
    size = x.shape[1:3]
    masks = []
    for i in range(len(x)):
        upsampled = _upsample(np.moveaxis(chosen[i], -1, 0), size)  # (keep, H, W)
        low = upsampled.min(axis=(1, 2), keepdims=True)
        span = upsampled.max(axis=(1, 2), keepdims=True) - low
        masks.append(np.where(span > 0, (upsampled - low) / np.where(span > 0, span, 1), 0.0))
    # The baseline is the all-zero input (the input masked by an all-zero mask).
    zeros = [*inputs[:position], np.zeros_like(x), *inputs[position + 1 :]]
    base_scores = _batched(forward, "forward", zeros, targets, batch_size)[0]

    def rows(i):
        return beside(i, (x[i][None] * masks[i][..., None]).astype(x.dtype))

    results = _run_rows(forward, "forward", rows, targets, batch_size, progress)
    weights = np.stack(
        [scores.astype(np.float64) - base_scores[i] for i, (scores, *_) in enumerate(results)]
    )
    cams = np.maximum(np.einsum("nhwk,nk->nhw", chosen, weights), 0)
    return _upsample(cams, size)


def _occlusion(
    forward, x, base, targets, window, stride, kind, batch_size, progress, inputs=None, position=0
):
    """``inputs``: every model input, ``x`` the one occluded at ``position`` (the others are fed
    unchanged), else ``[x]``."""
    inputs = inputs or [x]
    axes = _map_axes(kind, x.shape[1:])
    shape = x.shape[1 : 1 + axes]
    grids = [_patch_starts(n, w, s) for n, w, s in zip(shape, window, stride, strict=True)]
    regions = [
        tuple(slice(start, start + w) for start, w in zip(corner, window, strict=True))
        for corner in np.array(np.meshgrid(*grids, indexing="ij")).reshape(axes, -1).T
    ]
    coverage = np.zeros(shape)
    for region in regions:
        coverage[region] += 1

    def rows(i):
        copies = np.repeat(x[i][None], len(regions), axis=0)
        for k, region in enumerate(regions):
            copies[(k, *region)] = base[i][region]
        rows = [np.repeat(array[i][None], len(regions), axis=0) for array in inputs]
        rows[position] = copies
        return rows

    reference = _batched(forward, "forward", inputs, targets, batch_size)[0].astype(np.float64)
    results = _run_rows(forward, "forward", rows, targets, batch_size, progress)
    maps = np.zeros((len(x), *shape))
    for i, (scores, *_) in enumerate(results):
        drops = reference[i] - scores.astype(np.float64)
        for drop, region in zip(drops, regions, strict=True):
            maps[(i, *region)] += drop
    return np.maximum(maps / coverage, 0)


def _check_positive(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(
            f"Expected {name} to be an integer of at least {minimum}. Received: {value!r}."
        )
    return int(value)


def _explained_layer(model: Any, layers, method: str, layer: str | None) -> str | None:
    """The layer a CAM method maps (the last convolution unless one is named); None, and no
    layer accepted, for the other methods."""
    if method in CAM_METHODS:
        candidates = _cam_layers(layers)
        layer = layer or graph.last_conv_layer(model, layers)
        if layer not in candidates:
            raise InputError(
                f"Expected a layer with a spatial feature map for {method}. Received: {layer!r}. "
                f"Choose one of: {', '.join(candidates)}."
            )
    elif layer is not None:
        raise InputError(
            f"Expected layer=None for {method} (only CAM methods use a layer). Received: {layer!r}."
        )
    return layer


def _explained_scores(
    cache: dict,
    model: Any,
    arrays: list[np.ndarray],
    method: str,
    layer: str | None,
    target,
    score: str,
    batch_size: int,
):
    """``(scorer of the explained score, targets, the model's outputs, the explained scores)``
    of every sample, the inputs given as one array per model input."""
    count = len(arrays[0])
    tap = layer if method == "scorecam" else None
    plain = _scorer(cache, model, "probability", tap)
    outputs = _batched(plain, "forward", arrays, np.zeros(count, np.int32), batch_size)[1]
    outputs = outputs.reshape(count, -1).astype(np.float64)
    targets = _targets(target, outputs)
    forward = plain if score == "probability" else _scorer(cache, model, score, tap)
    scores = _batched(forward, "forward", arrays, targets, batch_size)[0].astype(np.float64)
    return forward, targets, outputs, scores


def _smoothgrad_settings(num_samples: int | None, noise_level: float | None) -> tuple[int, float]:
    """SmoothGrad's number of noisy copies (capped in tests) and noise level, checked."""
    used = graph.capped_steps(
        _check_positive(
            num_samples if num_samples is not None else DEFAULT_SMOOTHGRAD_SAMPLES,
            "num_samples",
        )
    )
    level = float(DEFAULT_NOISE_LEVEL if noise_level is None else noise_level)
    if not math.isfinite(level) or level < 0:
        raise InputError(f"Expected a noise level of 0 or more. Received: {noise_level!r}.")
    return used, level


def _attribute(
    model: Any,
    cache: dict,
    x: np.ndarray,
    method: str,
    *,
    target=None,
    layer: str | None = None,
    score: str = "probability",
    steps: int | None = None,
    num_samples: int | None = None,
    noise_level: float | None = None,
    baseline: str = "zeros",
    window=None,
    stride=None,
    top_n: int | None = None,
    batch_size: int | None = None,
    progress: Callable[[float], None] | None = None,
    seed: int = 0,
    baseline_mean=None,
    first_sample: int = 0,
) -> AttributionInfo | InputsAttributionInfo:
    if score not in graph.SCORES:
        raise InputError(f"Expected a score in {graph.SCORES}. Received: {score!r}.")
    if baseline not in BASELINES:
        raise InputError(f"Expected a baseline in {BASELINES}. Received: {baseline!r}.")
    reason = _method_reason(model, method)
    if reason is not None:
        raise UnsupportedModelError(reason)
    layers = cache.get("layers") or graph.graph_layers(model)
    cache["layers"] = layers
    if len(layers.input_shapes) != 1:
        return _attribute_inputs(
            model, cache, x, method, target=target, layer=layer, score=score, steps=steps,
            num_samples=num_samples, noise_level=noise_level, baseline=baseline, window=window,
            stride=stride, top_n=top_n, batch_size=batch_size, progress=progress, seed=seed,
            baseline_mean=baseline_mean, first_sample=first_sample,
        )  # fmt: skip
    x = graph.model_input(model, x)
    if len(x) == 0:
        raise InputError("Expected at least one sample to explain. Received: an empty batch.")
    if not np.all(np.isfinite(x)):
        raise InputError("Expected finite input values. Received: samples with NaN or Inf.")
    batch_size = (
        chunk_rows(layers, x.shape[1:])
        if batch_size is None
        else _check_positive(batch_size, "batch_size")
    )
    kind = _input_kind(x.shape[1:])
    notes: list[str] = []

    layer = _explained_layer(model, layers, method, layer)

    forward, targets, outputs, scores = _explained_scores(
        cache, model, [x], method, layer, target, score, batch_size
    )

    attributions = completeness = magnitude = None
    used_baseline = used_steps = used_samples = used_noise = used_window = used_stride = None
    used_top = None
    if method == "gradient":
        attributions = _gradient(forward, x, targets, batch_size, progress).astype(np.float64)
    elif method == "smoothgrad":
        used_samples, used_noise = _smoothgrad_settings(num_samples, noise_level)
        attributions, magnitude = _smoothgrad(
            forward, x, targets, used_samples, used_noise, seed, batch_size, progress,
            first_sample,
        )  # fmt: skip
    elif method == "integrated_gradients":
        used_steps = _check_positive(steps if steps is not None else DEFAULT_IG_STEPS, "steps", 2)
        used_baseline = baseline
        base = _baseline(x, baseline, kind, baseline_mean)
        if baseline == "mean" and len(x) == 1 and baseline_mean is None:
            notes.append("The 'mean' baseline of a single sample is the sample itself: all zero.")
        attributions, completeness = _integrated_gradients(
            forward, x, base, targets, used_steps, batch_size, progress
        )
        finite = completeness[np.isfinite(completeness)]
        if len(finite) and np.median(finite) > 0.05:
            notes.append(
                f"The attributions miss F(x) - F(baseline) by {np.median(finite):.0%} (median); "
                "more steps make them more exact."
            )
    elif method in ("gradcam", "gradcam_plus_plus"):
        maps = _cam(
            _scorer(cache, model, score, layer),
            x,
            targets,
            method == "gradcam_plus_plus",
            batch_size,
            progress,
        )
    elif method == "scorecam":
        used_top = None if top_n is None else _check_positive(top_n, "top_n")
        maps = _scorecam(forward, x, targets, used_top, batch_size, progress)
    else:  # occlusion
        used_baseline = baseline
        base = _baseline(x, baseline, kind, baseline_mean)
        used_window, used_stride = _occlusion_geometry(window, stride, kind, x.shape[1:])
        maps = _occlusion(
            forward, x, base, targets, used_window, used_stride, kind, batch_size, progress
        )
    if magnitude is not None:  # SmoothGrad: the mean |gradient| (the paper's figures)
        maps = magnitude.sum(axis=-1) if kind == "image" else magnitude
    elif attributions is not None:
        maps = _reduce(attributions, kind)
    if method in CAM_METHODS and np.any(maps.reshape(len(x), -1).max(axis=1) == 0):
        notes.append(
            "Some maps are all zero: no part of the feature map raises the score (common when "
            "the target is not the predicted class)."
        )
    return AttributionInfo(
        method=method,
        input_kind=kind,
        maps=np.asarray(maps, dtype=np.float64),
        attributions=attributions,
        target=targets,
        scores=np.asarray(scores, dtype=np.float64),
        outputs=outputs,
        layer=layer,
        score_kind=score,
        baseline=used_baseline,
        steps=used_steps,
        num_samples=used_samples,
        noise_level=used_noise,
        window=used_window,
        stride=used_stride,
        top_n=used_top,
        completeness_error=completeness,
        notes=tuple(notes),
    )


def _mean_of(means, name: str):
    """The ``"mean"`` baseline given for input ``name`` (``None``: the mean of its samples)."""
    return None if means is None else means[name]


def _attribute_inputs(
    model: Any,
    cache: dict,
    x: Any,
    method: str,
    *,
    target=None,
    layer: str | None = None,
    score: str = "probability",
    steps: int | None = None,
    num_samples: int | None = None,
    noise_level: float | None = None,
    baseline: str = "zeros",
    window=None,
    stride=None,
    top_n: int | None = None,
    batch_size: int | None = None,
    progress: Callable[[float], None] | None = None,
    seed: int = 0,
    baseline_mean=None,
    first_sample: int = 0,
) -> InputsAttributionInfo:
    """:func:`attribution_info` for a model of several inputs (see :class:`InputsAttributionInfo`);
    called by :func:`_attribute`, which has read the graph's layers into ``cache``."""
    layers = cache["layers"]
    names = graph.input_names(model)
    arrays = graph.model_inputs(model, x)
    count = len(arrays[0])
    if count == 0:
        raise InputError("Expected at least one sample to explain. Received: an empty batch.")
    floats = _float_inputs(layers)
    for i in floats:
        if not np.all(np.isfinite(arrays[i])):
            raise InputError(
                f"Expected finite input values. Received: '{names[i]}' with NaN or Inf."
            )
    kinds = {i: _input_kind(arrays[i].shape[1:]) for i in floats}
    batch_size = (
        chunk_rows(layers, (sum(math.prod(a.shape[1:]) for a in arrays),))
        if batch_size is None
        else _check_positive(batch_size, "batch_size")
    )
    notes: list[str] = []
    layer = _explained_layer(model, layers, method, layer)
    forward, targets, outputs, scores = _explained_scores(
        cache, model, arrays, method, layer, target, score, batch_size
    )
    watch = "inputs:" + ",".join(str(i) for i in floats)

    def repeated(i: int, rows: int) -> list[np.ndarray]:
        return [np.repeat(array[i][None], rows, axis=0) for array in arrays]

    attributions: dict[int, np.ndarray] = {}
    magnitudes: dict[int, np.ndarray] = {}
    maps: dict[int, np.ndarray] = {}
    completeness = None
    settings: dict[str, Any] = {}
    if method == "gradient":
        grads = _batched(forward, watch, arrays, targets, batch_size)[1:]
        attributions = {i: g.astype(np.float64) for i, g in zip(floats, grads, strict=True)}
        if progress is not None:
            progress(1.0)
    elif method == "smoothgrad":
        used, level = _smoothgrad_settings(num_samples, noise_level)
        settings.update(num_samples=used, noise_level=level)
        rng = np.random.default_rng(seed)
        skip_normals(rng, first_sample * used * sum(math.prod(arrays[i].shape[1:]) for i in floats))
        noise = []  # drawn up front, sample by sample and input by input
        for n in range(count):
            per_input = {}
            for i in floats:
                sample = arrays[i][n]
                span = float(sample.max() - sample.min()) or 1.0
                per_input[i] = rng.normal(0.0, level * span, size=(used, *sample.shape))
            noise.append(per_input)

        def noisy(n):
            rows = repeated(n, used)
            for i in floats:
                rows[i] = (rows[i] + noise[n][i]).astype(arrays[i].dtype)
            return rows

        results = _run_rows(forward, watch, noisy, targets, batch_size, progress)
        for k, i in enumerate(floats):
            grads = [result[1 + k].astype(np.float64) for result in results]
            attributions[i] = np.stack([g.mean(axis=0) for g in grads])
            magnitudes[i] = np.stack([np.abs(g).mean(axis=0) for g in grads])
    elif method == "integrated_gradients":
        used_steps = _check_positive(steps if steps is not None else DEFAULT_IG_STEPS, "steps", 2)
        settings.update(steps=used_steps, baseline=baseline)
        bases = {}
        for i in floats:
            if baseline == "blur" and kinds[i] == "tabular":
                bases[i] = np.zeros_like(arrays[i])
                notes.append(f"'{names[i]}' is a feature vector: its baseline is zeros, not blur.")
            else:
                bases[i] = _baseline(
                    arrays[i], baseline, kinds[i], _mean_of(baseline_mean, names[i])
                )
        if baseline == "mean" and count == 1 and baseline_mean is None:
            notes.append("The 'mean' baseline of a single sample is the sample itself: all zero.")
        alphas, weights = _trapezoid(used_steps)

        def path(n):
            rows = repeated(n, used_steps)
            for i in floats:
                shape = (used_steps,) + (1,) * (arrays[i].ndim - 1)
                start, end = bases[i][n][None], arrays[i][n][None]
                rows[i] = (start + alphas.reshape(shape) * (end - start)).astype(arrays[i].dtype)
            return rows

        results = _run_rows(forward, watch, path, targets, batch_size, progress)
        total = np.zeros(count)
        for k, i in enumerate(floats):
            average = np.stack([np.tensordot(weights, result[1 + k], axes=1) for result in results])
            attributions[i] = (arrays[i] - bases[i]).astype(np.float64) * average
            total += attributions[i].reshape(count, -1).sum(axis=1)
        difference = np.array([r[0][-1] - r[0][0] for r in results], dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            completeness = np.where(
                np.abs(difference) > COMPLETENESS_FLOOR,
                np.abs(total - difference) / np.abs(difference),
                np.nan,
            )
        finite = completeness[np.isfinite(completeness)]
        if len(finite) and np.median(finite) > 0.05:
            notes.append(
                f"The attributions miss F(x) - F(baseline) by {np.median(finite):.0%} (median); "
                "more steps make them more exact."
            )
    elif method in CAM_METHODS:
        image = next(i for i in floats if kinds[i] == "image")
        if method == "scorecam":
            settings.update(top_n=None if top_n is None else _check_positive(top_n, "top_n"))
            maps[image] = _scorecam(
                forward, arrays[image], targets, settings["top_n"], batch_size, progress,
                inputs=arrays, position=image,
            )  # fmt: skip
        else:
            maps[image] = _cam(
                _scorer(cache, model, score, layer), arrays[image], targets,
                method == "gradcam_plus_plus", batch_size, progress, inputs=arrays,
            )  # fmt: skip
        if np.any(maps[image].reshape(count, -1).max(axis=1) == 0):
            notes.append(
                "Some maps are all zero: no part of the feature map raises the score (common when "
                "the target is not the predicted class)."
            )
    else:  # occlusion: one input at a time, the others as they are
        settings.update(baseline=baseline)
        for position, i in enumerate(floats):
            fill = baseline if not (baseline == "blur" and kinds[i] == "tabular") else "zeros"
            base = _baseline(arrays[i], fill, kinds[i], _mean_of(baseline_mean, names[i]))
            geometry = _occlusion_geometry(window, stride, kinds[i], arrays[i].shape[1:])
            settings[f"geometry_{i}"] = geometry

            def part(fraction, position=position):
                if progress is not None:
                    progress((position + fraction) / len(floats))

            maps[i] = _occlusion(
                forward, arrays[i], base, targets, *geometry, kinds[i], batch_size, part,
                inputs=arrays, position=i,
            )  # fmt: skip
    per_input = {}
    for i in floats:
        if i in magnitudes:
            input_maps = magnitudes[i].sum(axis=-1) if kinds[i] == "image" else magnitudes[i]
        elif i in attributions:
            input_maps = _reduce(attributions[i], kinds[i])
        elif i in maps:
            input_maps = maps[i]
        else:
            continue
        geometry = settings.get(f"geometry_{i}", (None, None))
        per_input[names[i]] = AttributionInfo(
            method=method,
            input_kind=kinds[i],
            maps=np.asarray(input_maps, dtype=np.float64),
            attributions=attributions.get(i),
            target=targets,
            scores=scores,
            outputs=outputs,
            layer=layer if method in CAM_METHODS else None,
            score_kind=score,
            baseline=settings.get("baseline"),
            steps=settings.get("steps"),
            num_samples=settings.get("num_samples"),
            noise_level=settings.get("noise_level"),
            window=geometry[0],
            stride=geometry[1],
            top_n=settings.get("top_n"),
            completeness_error=completeness,
            notes=tuple(notes),
        )
    return InputsAttributionInfo(
        method=method,
        inputs=per_input,
        held_fixed=tuple(names[i] for i in range(len(names)) if i not in floats),
        target=targets,
        scores=scores,
        outputs=outputs,
        score_kind=score,
        completeness_error=completeness,
        notes=tuple(notes),
    )


def attribution_info(
    model: Any,
    x: np.ndarray,
    method: str,
    *,
    target: int | Sequence[int] | np.ndarray | None = None,
    layer: str | None = None,
    score: str = "probability",
    steps: int | None = None,
    num_samples: int | None = None,
    noise_level: float | None = None,
    baseline: str = "zeros",
    window: int | tuple | None = None,
    stride: int | tuple | None = None,
    top_n: int | None = None,
    batch_size: int | None = None,
    progress: Callable[[float], None] | None = None,
    seed: int = 0,
    baseline_mean: np.ndarray | Mapping[str, np.ndarray] | None = None,
    first_sample: int = 0,
) -> AttributionInfo | InputsAttributionInfo:
    """Attribution maps of ``method`` for a batch of samples.

    A model of several inputs is explained per input (an :class:`InputsAttributionInfo` whose
    ``inputs`` maps each floating-point input's name to its :class:`AttributionInfo`):
    gradient methods take the gradient with respect to every float input at once (integrated
    gradients moves them all from their baselines, so completeness is over all inputs),
    occlusion occludes one input at a time with the others as they are, CAM methods map the
    image input; integer inputs are fed unchanged.

    Args:
        model: a Keras model with float inputs and a vector output (class scores, or one
            regression unit: its target is unit 0).
        x: ``(N, ...)`` samples as in the sample set (uint8 images are cast to float32); for a
            model of several inputs a packed set, a dict by input name or a list in the model's
            input order (see ``graph.model_inputs``).
        method: one of :data:`METHODS`.
        target: ``None`` explains each sample's predicted class (argmax); an int or ``(N,)`` ints
            explain those output units.
        layer: the feature-map layer of CAM methods (default: ``graph.last_conv_layer``).
        score: ``"probability"`` explains the output as the model returns it (after its softmax);
            ``"logit"`` the value before it.
        steps: integrated-gradients steps (default :data:`DEFAULT_IG_STEPS`), trapezoid rule.
        num_samples: SmoothGrad noise samples (default :data:`DEFAULT_SMOOTHGRAD_SAMPLES`),
            lowered to ``$NEUROGENESIS_MAX_STEPS`` when that is set (``info.num_samples`` says
            how many were used).
        noise_level: SmoothGrad noise std as a fraction of each sample's value range (max - min;
            default :data:`DEFAULT_NOISE_LEVEL`).
        baseline: integrated gradients' baseline and occlusion's fill: ``"zeros"``, ``"blur"``
            (a Gaussian blur of the input, sigma 15% of the side) or ``"mean"`` (the per-feature
            mean of the batch ``x``).
        window: occlusion patch size: an int (images: a square; series: steps, one feature at a
            time) or a tuple over the map axes. Default: a quarter of the image side (series: of
            the steps, one feature; feature vectors: one feature).
        stride: occlusion stride, the same way (default: half the window).
        top_n: Score-CAM uses every channel of ``layer`` by default; its fast mode keeps the
            ``top_n`` channels with the largest mean activation (the page offers
            :data:`DEFAULT_SCORECAM_TOP_N`). A channel's weight is how much the score of the input
            masked by that channel (upsampled, min-max normalised) exceeds the score of an all-zero
            input (Wang et al.'s "increase of confidence").
        batch_size: the most rows per model call (default :func:`chunk_rows`: as many as fit
            the memory budget, at most :data:`DEFAULT_BATCH_SIZE`).
        progress: called with the fraction done as work proceeds.
        seed: the SmoothGrad noise seed.
        baseline_mean: the ``"mean"`` baseline's per-feature mean, ``(1, ...)`` (a dict by
            input name for a model of several inputs); default: of ``x``. A shard of a set is
            given the whole set's (:func:`mean_baseline`), so its maps are the set's.
        first_sample: the index of ``x[0]`` in the whole set: a shard's SmoothGrad noise is then
            the noise its samples get when the set is explained at once.

    Returns:
        An :class:`AttributionInfo`; images get ``(N, H, W)`` maps (gradient methods: |attribution|
        summed over channels; SmoothGrad: mean |gradient| summed over channels), series and feature vectors maps of their own shape.

    Raises:
        InputError: bad samples, target, layer or settings.
        UnsupportedModelError: ``reason(model, method)`` is not ``None``.
    """
    return _attribute(
        model,
        {},
        x,
        method,
        target=target,
        layer=layer,
        score=score,
        steps=steps,
        num_samples=num_samples,
        noise_level=noise_level,
        baseline=baseline,
        window=window,
        stride=stride,
        top_n=top_n,
        batch_size=batch_size,
        progress=progress,
        seed=seed,
        baseline_mean=baseline_mean,
        first_sample=first_sample,
    )


# ---------------------------------------------------------------------------------------------
# Tokens


def token_attribution_info(
    model: Any,
    tokens: np.ndarray,
    method: str = "integrated_gradients",
    *,
    target: int | Sequence[int] | np.ndarray | None = None,
    score: str = "probability",
    steps: int | None = None,
    embedding_layer: str | None = None,
    baseline: str = "zeros",
    batch_size: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> TokenAttributionInfo:
    """One signed score per token, attributed in the token embedding's space.

    The embedding layer's output becomes an input of the model (``graph.tap_model(replace=)``);
    the rest of the model (position embeddings, padding masks) still reads the token ids. A
    model of several inputs (KerasHub's ``token_ids``, ``padding_mask``, ``segment_ids``) is
    fed all of them, held as they are; only the token ids' embedding is attributed, and a
    padding-mask input (see ``embeddings.padding_mask_input``) marks padded tokens, whose
    scores are 0.

    Args:
        model: a model taking integer token ids (one input, or an input named like
            ``token_ids`` beside others) with a vector output.
        tokens: ``(N, T)`` token ids; for a model of several inputs a packed set, a dict by
            input name or a list in the model's input order (see ``graph.model_inputs``).
        method: ``"gradient"`` (gradient x embedding) or ``"integrated_gradients"``.
        target: as in :func:`attribution_info`.
        score: ``"probability"`` or ``"logit"``.
        steps: integrated-gradients steps (default :data:`DEFAULT_IG_STEPS`).
        embedding_layer: the embedding layer's path (default :func:`default_embedding_layer`).
        baseline: integrated gradients' baseline embedding: ``"zeros"`` (zero vectors) or
            ``"pad"`` (the embedding of token id 0 at every position).
        batch_size: the most rows per model call (default :func:`chunk_rows`).
        progress: called with the fraction done.

    Returns:
        A :class:`TokenAttributionInfo`; ``scores`` sums the attribution over the embedding
        dimension, so it keeps its sign.

    Raises:
        InputError: bad tokens or settings.
        UnsupportedModelError: ``reason(model, tokens=True)`` is not ``None``.
    """
    if method not in TOKEN_METHODS:
        raise InputError(f"Expected a token method in {TOKEN_METHODS}. Received: {method!r}.")
    if baseline not in TOKEN_BASELINES:
        raise InputError(f"Expected a token baseline in {TOKEN_BASELINES}. Received: {baseline!r}.")
    if score not in graph.SCORES:
        raise InputError(f"Expected a score in {graph.SCORES}. Received: {score!r}.")
    reason = _token_reason(model, embedding_layer)
    if reason is not None:
        raise UnsupportedModelError(reason)
    from neurogenesis.analysis.embeddings import padding_mask_input

    path = embedding_layer or default_embedding_layer(model)
    layers = graph.graph_layers(model)
    arrays = graph.model_inputs(model, tokens)
    position = _token_position(model, layers)
    tokens = arrays[position]
    if len(tokens) == 0:
        raise InputError("Expected at least one sample to explain. Received: an empty batch.")
    batch_size = (
        chunk_rows(layers, (sum(math.prod(a.shape[1:]) for a in arrays),))
        if batch_size is None
        else _check_positive(batch_size, "batch_size")
    )
    mask_position = padding_mask_input(model)
    real = None
    if mask_position is not None and arrays[mask_position].shape == tokens.shape:
        real = arrays[mask_position].astype(bool)
    cache: dict = {}
    plain = _scorer(cache, model, "probability", path)
    zeros = np.zeros(len(tokens), np.int32)
    _, probabilities, embedded = _batched(plain, "forward", arrays, zeros, batch_size)
    probabilities = probabilities.reshape(len(tokens), -1).astype(np.float64)
    targets = _targets(target, probabilities)
    replaced = _scorer(cache, model, score, replace=path)
    target_scores = _batched(replaced, "forward", [*arrays, embedded], targets, batch_size)[0]
    notes: list[str] = []
    completeness = None
    used_steps = used_baseline = None
    if method == "gradient":
        _, grads = _batched(replaced, "input", [*arrays, embedded], targets, batch_size)
        attributions = embedded.astype(np.float64) * grads
        if progress is not None:
            progress(1.0)
    else:
        used_steps = _check_positive(steps if steps is not None else DEFAULT_IG_STEPS, "steps", 2)
        used_baseline = baseline
        if baseline == "zeros":
            base = np.zeros_like(embedded)
        else:
            first = graph.take(arrays, slice(0, 1))
            first[position] = np.zeros_like(first[position])
            pad = _batched(plain, "forward", first, zeros[:1], 1)[2]
            base = np.broadcast_to(pad, embedded.shape).astype(embedded.dtype)
        attributions, completeness = _integrated_gradients(
            replaced, embedded, base, targets, used_steps, batch_size, progress, extra=arrays
        )
    token_scores = attributions.sum(axis=-1)
    if real is not None:
        # The model never reads a padded position (the mask hides it from attention and
        # pooling), so its attribution is zero by the model's own rule; set it so exactly.
        token_scores = np.where(real, token_scores, 0.0)
    return TokenAttributionInfo(
        method=method,
        scores=token_scores,
        tokens=np.asarray(tokens),
        target=targets,
        probabilities=probabilities,
        target_scores=np.asarray(target_scores, dtype=np.float64),
        embedding_layer=path,
        score_kind=score,
        baseline=used_baseline,
        steps=used_steps,
        completeness_error=completeness,
        notes=tuple(notes),
        real=real,
        output_activation=graph.score_activation(model),
    )


# ---------------------------------------------------------------------------------------------
# Sanity check


def _layer_at(model: Any, path: str) -> Any:
    layer = model
    for part in path.split(graph.PATH_SEPARATOR):
        layer = layer.get_layer(part.split("#")[0])
    return layer


def _initializer_for(layer: Any, variable: Any):
    name = variable.name.split("/")[-1].split(":")[0]
    owners = [layer, getattr(layer, "cell", None)]
    attributes = [f"{name}_initializer"]
    if name == "recurrent_kernel":
        attributes.append("recurrent_initializer")
    if name == "embeddings":
        attributes.append("embeddings_initializer")
    for owner in owners:
        for attribute in attributes:
            initializer = getattr(owner, attribute, None) if owner is not None else None
            if initializer is not None and callable(initializer):
                return initializer
    return None


def _reinitialize(layer: Any, rng: np.random.Generator) -> list[str]:
    """Draws fresh weights for every variable of ``layer`` (sublayers included).

    Each variable gets its layer's own initializer (``kernel_initializer``, ``bias_initializer``,
    ``gamma_initializer``, ...) reseeded; a variable without one gets a normal with the original
    values' standard deviation. Returns the variables that took the fallback.
    """
    import keras

    fallback = []
    for sub in layer._flatten_layers(include_self=True, recursive=True):
        variables = list(getattr(sub, "_trainable_variables", [])) + list(
            getattr(sub, "_non_trainable_variables", [])
        )
        for variable in variables:
            shape, dtype = tuple(variable.shape), variable.dtype
            initializer = _initializer_for(sub, variable)
            value = None
            if isinstance(initializer, keras.initializers.Initializer):
                config = initializer.get_config()
                if "seed" in config:
                    config["seed"] = int(rng.integers(2**31 - 1))
                try:
                    value = np.asarray(type(initializer).from_config(config)(shape, dtype=dtype))
                except (TypeError, ValueError):
                    value = None
            if value is None:
                original = np.asarray(variable.numpy(), dtype=np.float64)
                value = rng.normal(0.0, float(original.std()), size=shape)
                fallback.append(variable.path)
            variable.assign(np.asarray(value).astype(variable.dtype))
    return fallback


def _spearman(first: np.ndarray, second: np.ndarray) -> float:
    from scipy import stats

    if np.ptp(first) == 0 or np.ptp(second) == 0:
        return 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = stats.spearmanr(first.ravel(), second.ravel()).statistic
    return float(value) if np.isfinite(value) else 0.0


def _top_kept(first: np.ndarray, second: np.ndarray) -> float:
    count = max(1, int(round(TOP_FRACTION * first.size)))
    top_first = set(np.argsort(-first.ravel(), kind="stable")[:count].tolist())
    top_second = set(np.argsort(-second.ravel(), kind="stable")[:count].tolist())
    return len(top_first & top_second) / count


def randomization_check(
    model: Any,
    x: np.ndarray,
    method: str,
    *,
    num_layers: int | None = None,
    seed: int = 0,
    input_name: str | None = None,
    **method_kwargs: Any,
) -> SanityInfo:
    """Cascading model-parameter randomization (Adebayo et al. 2018).

    Clones the model (``keras.models.clone_model`` + ``set_weights``; the user's model is not
    touched), then re-initializes its weighted layers from the output downwards, one more per
    stage, and recomputes ``method``'s maps at every stage for the original targets. Weights are
    drawn from each layer's own initializers (``kernel_initializer``, ``bias_initializer``,
    ``gamma_initializer``, ..., reseeded from ``seed``; inside nested models too); a variable
    without one gets a normal with its original standard deviation.

    Args:
        model: a model :func:`reason` accepts for ``method``.
        x: ``(N, ...)`` samples.
        method: one of :data:`METHODS`.
        num_layers: the most stages (default: every weighted layer, capped by
            ``graph.capped_steps``).
        seed: seeds the new weights (and SmoothGrad's noise, the same at every stage).
        input_name: of a model of several inputs, the input whose maps are compared (default:
            the first one explained); ignored for a model of one input.
        **method_kwargs: passed to :func:`attribution_info` (``layer``, ``steps``, ...;
            ``target`` defaults to the original model's predictions); ``progress`` is called with
            the fraction of stages done.

    Returns:
        A :class:`SanityInfo`; ``passed`` is True when the median rank correlation after the last
        stage is below :data:`SANITY_THRESHOLD`.

    Raises:
        InputError: bad settings; UnsupportedModelError: the method does not apply.
    """
    import keras

    progress = method_kwargs.pop("progress", None)

    def one(info: AttributionInfo | InputsAttributionInfo) -> AttributionInfo:
        if not isinstance(info, InputsAttributionInfo):
            return info
        if input_name is None:
            return next(iter(info.inputs.values()))
        if input_name not in info.inputs:
            raise InputError(
                f"Expected an input {method} explains: {', '.join(info.inputs)}. "
                f"Received: {input_name!r}."
            )
        return info.inputs[input_name]

    original = one(_attribute(model, {}, x, method, seed=seed, **method_kwargs))
    method_kwargs["target"] = original.target
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    layers = graph.graph_layers(clone)
    weighted, seen = [], set()
    for entry in layers.layers:
        if "#" in entry.path:
            continue
        layer = _layer_at(clone, entry.path)
        if id(layer) not in seen and layer.weights:
            seen.add(id(layer))
            weighted.append((entry.path, layer))
    weighted.reverse()
    stages = len(weighted) if num_layers is None else _check_positive(num_layers, "num_layers")
    stages = graph.capped_steps(min(stages, len(weighted)))
    if stages == 0:
        raise UnsupportedModelError("The model has no weights to randomize.")
    rng = np.random.default_rng(seed)
    cache: dict = {}
    randomized, correlations, signed, kept = [], [], [], []
    fallback: list[str] = []
    has_sign = original.attributions is not None

    def signed_map(info: AttributionInfo) -> np.ndarray:
        values = info.attributions
        return values.sum(axis=-1) if info.input_kind == "image" else values

    for stage, (_path, layer) in enumerate(weighted[:stages]):
        fallback += _reinitialize(layer, rng)
        # graph.tap_model's logit layer holds a copy of the last layer's weights: rebuild it.
        for key in [key for key in cache if key != "layers" and key[0] == "logit"]:
            del cache[key]
        info = one(_attribute(clone, cache, x, method, seed=seed, **method_kwargs))
        randomized.append(info.maps)
        correlations.append(
            [_spearman(a, b) for a, b in zip(original.maps, info.maps, strict=True)]
        )
        kept.append([_top_kept(a, b) for a, b in zip(original.maps, info.maps, strict=True)])
        if has_sign:
            signed.append(
                [
                    _spearman(a, b)
                    for a, b in zip(signed_map(original), signed_map(info), strict=True)
                ]
            )
        if progress is not None:
            progress((stage + 1) / stages)
    correlations = np.asarray(correlations, dtype=np.float64)
    notes = [
        "Layers were re-initialized with their own initializers (reseeded), from the output down."
    ]
    if fallback:
        notes.append(
            "These weights had no initializer and were drawn from a normal with their original "
            f"standard deviation: {', '.join(fallback[:6])}{', ...' if len(fallback) > 6 else ''}."
        )
    if stages < len(weighted):
        notes.append(f"Only the top {stages} of {len(weighted)} weighted layers were randomized.")
    return SanityInfo(
        method=method,
        layers=tuple(path for path, _ in weighted[:stages]),
        target=original.target,
        original=original.maps,
        randomized=np.asarray(randomized),
        rank_correlation=correlations,
        rank_correlation_signed=np.asarray(signed, dtype=np.float64) if has_sign else None,
        top_kept=np.asarray(kept, dtype=np.float64),
        threshold=SANITY_THRESHOLD,
        passed=bool(np.median(correlations[-1]) < SANITY_THRESHOLD),
        notes=tuple(notes),
    )


# ---------------------------------------------------------------------------------------------
# Pointing game


def pointing_game(maps: np.ndarray, masks: np.ndarray, *, tolerance: int = 0) -> PointingInfo:
    """The pointing game (Zhang et al. 2016): a hit when a map's maximum lies on the object.

    Args:
        maps: ``(N, H, W)`` attribution maps (e.g. ``AttributionInfo.maps``).
        masks: ``(N, H, W)`` boolean object masks.
        tolerance: dilate each mask by this many pixels (Euclidean distance) first.

    Returns:
        A :class:`PointingInfo`. A constant map (all zero: nothing pointed at) is a miss.

    Raises:
        InputError: shapes that do not match, or a negative tolerance.
    """
    from scipy import ndimage

    maps = np.asarray(maps, dtype=np.float64)
    masks = np.asarray(masks)
    if maps.ndim != 3 or masks.shape != maps.shape:
        raise InputError(
            f"Expected maps and masks of the same shape (N, H, W). Received: {maps.shape} and "
            f"{masks.shape}."
        )
    tolerance = _check_positive(tolerance, "tolerance", 0)
    masks = masks.astype(bool)
    if tolerance:
        masks = np.stack(
            [
                ndimage.distance_transform_edt(~mask) <= tolerance if mask.any() else mask
                for mask in masks
            ]
        )
    flat = maps.reshape(len(maps), -1)
    index = np.argmax(flat, axis=1)
    points = np.stack(np.unravel_index(index, maps.shape[1:]), axis=1)
    hits = masks.reshape(len(masks), -1)[np.arange(len(maps)), index] & (np.ptp(flat, axis=1) > 0)
    return PointingInfo(
        hits=hits,
        points=points.astype(np.int64),
        score=float(hits.mean()) if len(hits) else math.nan,
        tolerance=tolerance,
    )


# ---------------------------------------------------------------------------------------------
# What drove one prediction


@dataclass(frozen=True, eq=False)
class TopAttributionInfo(ValueEquality):
    """The input positions with the largest attribution for one sample, largest first.

    Attributes:
        positions: ``(k, ndim)`` indices into the sample's attribution array (pixel row and
            column, time step and feature, or token position).
        values: ``(k,)`` the attributions there (signed where the method gives signs).
        shares: ``(k,)`` each position's share of the total absolute attribution.
        total: The sum of absolute attributions over the whole sample.
    """

    positions: np.ndarray
    values: np.ndarray
    shares: np.ndarray
    total: float


def top_attributions(values: np.ndarray, k: int = 10) -> TopAttributionInfo:
    """The ``k`` positions of one sample's attribution array with the largest absolute value.

    Args:
        values: One sample's attributions, any shape (an image map ``(H, W)``, a series
            ``(T, F)``, token scores ``(T,)``).
        k: How many positions (fewer if the array is smaller).

    Raises:
        InputError: an empty array, values that are not finite, or ``k`` below 1.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise InputError(
            f"Expected a non-empty array of finite attributions. Received: shape {values.shape}"
            f"{'' if values.size == 0 else ' with NaN or Inf'}."
        )
    if int(k) < 1:
        raise InputError(f"Expected k of at least 1. Received: {k}.")
    magnitude = np.abs(values).reshape(-1)
    count = min(int(k), magnitude.size)
    # A stable sort keeps ties in reading order, so the table does not shuffle between runs.
    order = np.argsort(-magnitude, kind="stable")[:count]
    total = float(magnitude.sum())
    return TopAttributionInfo(
        positions=np.stack(np.unravel_index(order, values.shape), axis=1),
        values=values.reshape(-1)[order],
        shares=magnitude[order] / total if total > 0 else np.zeros(count),
        total=total,
    )
