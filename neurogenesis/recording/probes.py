"""The recorder's probes: gradient norms, activation statistics and attention scores on the
fixed probe batch, each a compiled function called once per epoch."""

from __future__ import annotations

import contextlib
import inspect

import keras
import numpy as np

from neurogenesis.recording.summaries import HISTOGRAM_BUCKETS

__all__ = [
    "ZERO_TOLERANCE",
    "ActivationProbe",
    "AttentionProbe",
    "GradientProbe",
    "activation_plan",
    "attention_layers",
    "unique_names",
]

ZERO_TOLERANCE = 1e-7
"""An activation with ``|x| < ZERO_TOLERANCE`` counts as zero."""

# Activations whose outputs are bounded, and how a unit counts as saturated (t = threshold):
# "unit" (sigmoid-like, in [0, 1]): x > t or x < 1 - t; "symmetric" (tanh-like, in [-1, 1]):
# |x| > t; "softmax": x > t (the unit holds nearly all of the probability).
_BOUNDED_ACTIVATIONS = {
    "sigmoid": "unit",
    "hard_sigmoid": "unit",
    "tanh": "symmetric",
    "hard_tanh": "symmetric",
    "soft_sign": "symmetric",
    "softsign": "symmetric",
    "softmax": "softmax",
}


class GradientProbe:
    """L2 norms of the loss gradient per trainable variable on the probe batch, one tf.function."""

    def __init__(self, model, x, y):
        import tensorflow as tf

        if keras.backend.backend() != "tensorflow":
            raise RuntimeError("gradient norms need the TensorFlow backend")
        self.model = model
        self.variables = list(model.trainable_variables)
        self.names = unique_names([v.path for v in self.variables])
        self.x = keras.tree.map_structure(tf.convert_to_tensor, x)
        self.y = keras.tree.map_structure(tf.convert_to_tensor, y)
        self.function = tf.function(self._norms)

    def _norms(self, x, y):
        import tensorflow as tf

        model = self.model
        trainable = [tf.identity(v.value) for v in model.trainable_variables]
        non_trainable = [tf.identity(v.value) for v in model.non_trainable_variables]
        metric_values = [tf.identity(v.value) for v in model.metrics_variables]
        with tf.GradientTape() as tape:
            tape.watch(trainable)
            # Stateless: no metric tracker, BatchNormalization statistic or seed moves.
            y_pred, _ = model.stateless_call(trainable, non_trainable, x, **_inference(model))
            loss, _ = model.stateless_compute_loss(
                trainable, non_trainable, metric_values, x=x, y=y, y_pred=y_pred, training=False
            )
        gradients = tape.gradient(loss, trainable)
        norms = []
        for gradient in gradients:
            if gradient is None:  # the variable does not reach the loss: its gradient is zero
                norms.append(tf.zeros((), tf.float32))
            else:
                gradient = tf.convert_to_tensor(gradient)  # IndexedSlices from embeddings
                norms.append(tf.norm(tf.cast(gradient, tf.float32)))
        return tf.stack(norms)

    def __call__(self) -> tuple[list[str], np.ndarray]:
        if not self.variables:
            return [], np.zeros(0, np.float32)
        return self.names, np.asarray(self.function(self.x, self.y))


def activation_plan(model):
    """(plan, skipped): [(layer name, bound kind, output tensor)] of a Sequential/Functional model.

    Every layer of the model's own graph whose output there is one float tensor; nested models
    count as one layer. Returns (None, [reason]) where the model has no layer graph.
    """
    graph = model
    if isinstance(model, keras.Sequential):
        graph = getattr(model, "_functional", None)
    nodes_by_depth = getattr(graph, "_nodes_by_depth", None)
    if graph is None or nodes_by_depth is None:
        return None, [
            f"Activation statistics need a Sequential or Functional model with a known input "
            f"shape; skipped for the {type(model).__name__} '{model.name}'."
        ]
    in_graph = {id(node) for nodes in nodes_by_depth.values() for node in nodes}
    plan, skipped = [], []
    for layer in graph.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        nodes = [node for node in layer._inbound_nodes if id(node) in in_graph]
        outputs = nodes[0].output_tensors if len(nodes) == 1 else []
        if len(outputs) != 1 or not keras.backend.is_float_dtype(outputs[0].dtype):
            skipped.append(f"'{layer.name}'")
            continue
        plan.append((layer.name, _bound_kind(layer), outputs[0]))
    if not plan:
        return None, ["Activation statistics skipped: no layer has a single float output."]
    return (graph, plan), skipped


def _bound_kind(layer) -> str | None:
    activation = getattr(layer, "activation", None)
    name = getattr(activation, "__name__", None)
    return _BOUNDED_ACTIVATIONS.get(name) if isinstance(name, str) else None


class ActivationProbe:
    """Every planned layer's statistics and histogram on the probe batch, in one compiled call.

    One multi-output sub-model gives the layers' outputs; the per-unit statistics and the
    histogram buckets are computed in the same graph, so only small arrays leave it.
    """

    def __init__(self, plan, x, threshold: float):
        import tensorflow as tf

        graph, entries = plan
        self.names = [name for name, _, _ in entries]
        self.kinds = [kind for _, kind, _ in entries]
        self.threshold = threshold
        self.submodel = keras.Model(graph.input, [tensor for _, _, tensor in entries])
        if keras.backend.backend() == "tensorflow":
            self.x = keras.tree.map_structure(tf.convert_to_tensor, x)
            self.function = tf.function(self._summaries)
        else:  # the sub-model runs in its backend; the statistics in eager TensorFlow
            self.x = x
            self.function = self._summaries

    def _summaries(self, x):
        outputs = self.submodel(x, training=False)
        if not isinstance(outputs, list | tuple):
            outputs = [outputs]
        if keras.backend.backend() != "tensorflow":
            outputs = [keras.ops.convert_to_numpy(output) for output in outputs]
        return [
            _layer_statistics(output, kind, self.threshold)
            for output, kind in zip(outputs, self.kinds, strict=True)
        ]

    def __call__(self) -> list[tuple[str, dict[str, np.ndarray]]]:
        results = self.function(self.x)
        return [
            (name, {key: np.asarray(value) for key, value in result.items()})
            for name, result in zip(self.names, results, strict=True)
        ]


def _layer_statistics(values, kind: str | None, threshold: float) -> dict:
    """Per-unit statistics of one layer's activations, and their histogram, as TF tensors.

    Every axis but the last is reduced (samples, and the positions of conv or sequence outputs),
    so each statistic has one value per unit (channel): ``mean``, ``std`` (population),
    ``frac_zero`` (``|x| < ZERO_TOLERANCE``) and ``frac_saturated``: for sigmoid-like units
    ``x > t`` or ``x < 1 - t``, tanh-like ``|x| > t``, softmax ``x > t``, otherwise 0
    (``t`` = the saturation threshold). ``histogram`` holds TensorBoard's buckets.
    """
    import tensorflow as tf

    values = tf.cast(values, tf.float32)
    if values.shape.rank < 2:
        values = tf.reshape(values, [-1, 1])
    units = values.shape[-1]
    flat = tf.reshape(values, [-1, units if units is not None else tf.shape(values)[-1]])
    mean = tf.reduce_mean(flat, axis=0)
    std = tf.sqrt(tf.reduce_mean(tf.square(flat - mean), axis=0))
    if kind == "unit":
        saturated = tf.logical_or(flat > threshold, flat < 1.0 - threshold)
    elif kind == "symmetric":
        saturated = tf.abs(flat) > threshold
    elif kind == "softmax":
        saturated = flat > threshold
    else:
        saturated = None
    return {
        "mean": mean,
        "std": std,
        "frac_zero": tf.reduce_mean(tf.cast(tf.abs(flat) < ZERO_TOLERANCE, tf.float32), axis=0),
        "frac_saturated": (
            tf.zeros_like(mean)
            if saturated is None
            else tf.reduce_mean(tf.cast(saturated, tf.float32), axis=0)
        ),
        "histogram": _tf_histogram_buckets(flat),
    }


def _tf_histogram_buckets(values, bucket_count: int = HISTOGRAM_BUCKETS):
    """TensorBoard's histogram buckets, exactly as ``tf.summary.histogram`` makes them, in-graph.

    ``bucket_count`` equal buckets from the minimum to the maximum, a value going to bucket
    ``floor((x - min) / width)`` in float64 (the maximum to the last); all values in the last
    bucket when they are all the same; zeros without values. Non-finite values are left out.
    """
    import tensorflow as tf

    data = tf.reshape(tf.cast(values, tf.float64), [-1])
    finite = tf.math.is_finite(data)
    num_finite = tf.reduce_sum(tf.cast(finite, tf.int32))
    count = tf.cast(num_finite, tf.float64)
    low = tf.reduce_min(tf.where(finite, data, np.inf))
    high = tf.reduce_max(tf.where(finite, data, -np.inf))
    span = high - low
    width = tf.where(span > 0, span / bucket_count, 1.0)
    indices = tf.clip_by_value(
        tf.floor((tf.where(finite, data, low) - low) / width), 0.0, bucket_count - 1.0
    )
    # Counting whole numbers 0..k-1 into k unit-wide bins is exact (and faster than bincount);
    # the non-finite values, put in bucket 0 above, are taken out again.
    counts = tf.histogram_fixed_width(
        indices, tf.constant([0.0, float(bucket_count)], tf.float64), nbins=bucket_count
    ) - tf.one_hot(0, bucket_count, on_value=tf.size(data) - num_finite, dtype=tf.int32)
    counts = tf.cast(counts, tf.float64)
    edges = tf.linspace(low, high, bucket_count + 1)
    spread = tf.stack([edges[:-1], edges[1:], counts], axis=1)
    same = tf.fill([bucket_count], low)
    single = tf.stack(
        [same, same, tf.one_hot(bucket_count - 1, bucket_count, dtype=tf.float64) * count], axis=1
    )
    buckets = tf.where(span > 0, spread, single)
    return tf.where(count > 0, buckets, tf.zeros_like(buckets))


def _all_layers(model) -> list:
    flatten = getattr(model, "_flatten_layers", None)
    if flatten is not None:
        with contextlib.suppress(Exception):
            return list(flatten(include_self=False, recursive=True))
    found, stack, seen = [], list(getattr(model, "layers", [])), set()
    while stack:
        layer = stack.pop(0)
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        found.append(layer)
        stack.extend(getattr(layer, "layers", []) or [])
    return found


def attention_layers(model) -> list:
    return [
        layer for layer in _all_layers(model) if isinstance(layer, keras.layers.MultiHeadAttention)
    ]


class AttentionProbe:
    """Attention scores of every MultiHeadAttention layer in one forward pass on the probe.

    Each layer's ``call`` is wrapped for the pass to add ``return_attention_scores=True`` (its
    public argument) and keep the scores; the output is passed on unchanged. This reaches layers
    nested in sub-models and in subclassed layers, and keeps the masks Keras propagates. Under
    TensorFlow the pass is a tf.function, so the wrapping is only in place while it is traced.
    """

    def __init__(self, model, layers, x):
        self.model = model
        self.layers = layers
        self.names: list[str] = []
        self.x = x
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            self.x = keras.tree.map_structure(tf.convert_to_tensor, x)
            self.function = tf.function(self._forward)
        else:
            self.function = self._forward

    def _forward(self, x):
        records: list = []
        with _capturing_attention(self.layers, records):
            self.model(x, **_inference(self.model))
        names, counts = [], {}
        base = unique_names([layer.name for layer in self.layers])
        by_layer = {id(layer): name for layer, name in zip(self.layers, base, strict=True)}
        for layer, _ in records:
            name = by_layer[id(layer)]
            calls = counts.get(name, 0)
            counts[name] = calls + 1
            names.append(name if calls == 0 else f"{name}/call_{calls}")
        self.names = names
        return [scores for _, scores in records]

    def __call__(self) -> dict[str, np.ndarray]:
        scores = self.function(self.x)
        return {
            name: np.asarray(keras.ops.convert_to_numpy(value))
            for name, value in zip(self.names, scores, strict=True)
        }


@contextlib.contextmanager
def _capturing_attention(layers, records: list):
    patched = []
    try:
        for layer in layers:
            own = layer.__dict__.get("call")
            original = layer.call
            signature = inspect.signature(original)

            def call(*args, _layer=layer, _original=original, _signature=signature, **kwargs):
                bound = _signature.bind(*args, **kwargs)
                wanted = bool(bound.arguments.get("return_attention_scores", False))
                bound.arguments["return_attention_scores"] = True
                output, scores = _original(*bound.args, **bound.kwargs)
                records.append((_layer, scores))
                return (output, scores) if wanted else output

            object.__setattr__(layer, "call", call)
            patched.append((layer, own))
        yield
    finally:
        for layer, own in patched:
            if own is None:
                object.__delattr__(layer, "call")
            else:
                object.__setattr__(layer, "call", own)


def _inference(model) -> dict:
    """``training=False`` where the model's ``call`` takes it (a subclass's may not)."""
    return {"training": False} if getattr(model, "_call_has_training_arg", True) else {}


def unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    result = []
    for name in names:
        unique, count = name, seen.get(name, 0)
        while unique in seen:
            count += 1
            unique = f"{name}_{count}"
        seen[name] = count
        seen.setdefault(unique, 0)
        result.append(unique)
    return result
