"""Writes the tf.keras 2.x model files of tests/data/legacy/ (for tests/io/test_legacy.py).

The files are real .h5 files written by tf.keras (Keras 2 for TF 2.16+, the ``tf_keras``
package), with the predictions tf.keras makes on a fixed input, so the tests can check that
NeuroGenesis's translation to Keras 3 computes the same numbers. tf_keras must never be installed
into the project's environment (it would shadow nothing, but it is no dependency of the app):
install it into a throwaway folder and put that on the path only for this script::

    /work/main/.venv/bin/pip install --no-deps --target /tmp/tfk_site tf-keras==2.21.0
    PYTHONPATH=/tmp/tfk_site /work/main/.venv/bin/python tests/data/make_tf_keras_files.py

Files written (all under tests/data/legacy/):

- ``mobilenet_v2.h5.gz``: ``tf_keras.applications.MobileNetV2(alpha=0.35, input 32x32x3,
  weights=None, classes=3, no softmax)``, gzipped (the test unpacks it); its kernels are rounded
  to a few values per array so that it packs small (2 MB as saved, about 0.3 MB gzipped), and
  its BatchNormalization statistics come from a calibration batch.
- ``ops.h5``: a functional model calling every TensorFlow function on the allow-list of
  ``neurogenesis.io.legacy.TRANSLATED_OPS`` (tf.keras stores them as TFOpLambda and
  SlicingOpLambda layers).
- ``layers.h5``: the layers whose tf.keras config Keras 3 refuses over an argument
  (SeparableConv2D, Conv2DTranspose, DepthwiseConv2D's ``groups``, SpatialDropout2D's
  ``trainable``, LSTM/GRU's ``time_major``, also inside Bidirectional).
- ``cumsum.h5``: a model calling ``tf.math.cumsum``, which is not on the allow-list.
- ``lambda.h5``: a model with a ``Lambda`` layer (Python bytecode).
- ``predictions.npz``: for each model ``<name>_x<i>`` (inputs), ``<name>_y<i>`` (outputs) and
  ``<name>_params`` (``count_params()``).
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import tensorflow as tf
import tf_keras

OUT = Path(__file__).resolve().parent / "legacy"


def mobilenet_v2() -> tf_keras.Model:
    model = tf_keras.applications.MobileNetV2(
        input_shape=(32, 32, 3), alpha=0.35, weights=None, classes=3, classifier_activation=None
    )
    # Kernels: tf.keras's initial values rounded to whole multiples of their spread (so the file packs small).
    for layer in model.layers:
        if not isinstance(layer, tf_keras.layers.BatchNormalization) and layer.weights:
            values = []
            for value in layer.get_weights():
                spread = float(value.std()) or 1.0
                values.append(np.round(value / spread) * spread)
            layer.set_weights(values)
    # BatchNormalization statistics from a calibration batch, layer after layer, so that the
    # signal neither dies nor explodes through 50 layers (at initialisation it shrinks to 1e-10).
    calibration = np.random.default_rng(2).uniform(-1, 1, (16, 32, 32, 3)).astype("float32")
    for layer in model.layers:
        if isinstance(layer, tf_keras.layers.BatchNormalization):
            inputs = tf_keras.Model(model.input, layer.input)(calibration).numpy()
            axes = tuple(range(inputs.ndim - 1))
            gamma, beta, _, _ = layer.get_weights()
            layer.set_weights([gamma, beta, inputs.mean(axes), inputs.var(axes) + 1e-3])
    return model


def ops_model() -> tf_keras.Model:
    x = tf_keras.Input((4,), name="x")
    y = tf_keras.Input((4,), name="y")
    outputs = [
        x * 2.0,  # math.multiply
        2.0 * y,  # math.multiply with a constant first argument
        x + y,  # __operators__.add
        tf.math.add(x, 1.5),
        x - y,  # math.subtract
        1.0 - x,
        x / 4.0,  # math.truediv
        x / (y + 3.0),  # math.truediv of two tensors
        tf.math.maximum(x, y),
        tf.math.minimum(x, 0.5),
        -x,  # math.negative
        tf.math.abs(x),
        tf.math.square(x),
        tf.math.sqrt(tf.math.abs(x) + 1.0),
        tf.math.exp(x),
        tf.math.log(tf.math.abs(y) + 1.0),
        tf.math.sigmoid(x),
        tf.math.tanh(x),
        tf.nn.relu(x),
        tf.nn.relu6(x * 4.0),
        tf.nn.softmax(x),
        tf.math.reduce_mean(x, axis=-1, keepdims=True),
        tf.math.reduce_sum(x, axis=1),
        tf.math.reduce_max(x, axis=[1], keepdims=True),
        tf.math.reduce_min(y, axis=-1),
        tf.stack([x, y], axis=1),
        x[:, 0:2],  # __operators__.getitem
        x[:, 0],
        x[..., 1],
        x[:, None],
        x[:, ::2],
    ]
    joined = tf.concat([x, y], axis=-1)  # becomes Concatenate
    grid = tf.reshape(joined, (-1, 2, 4))  # becomes Reshape
    outputs += [
        joined,
        grid,
        tf.transpose(grid, perm=[0, 2, 1]),  # compat.v1.transpose
        tf.expand_dims(x, -1),
        tf_keras.layers.Dense(3, name="dense")(tf.nn.relu(joined[:, 1:7])),
    ]
    return tf_keras.Model([x, y], outputs, name="ops")


def layers_model() -> tf_keras.Model:
    image = tf_keras.Input((8, 8, 3), name="image")
    h = tf_keras.layers.SeparableConv2D(4, 3, padding="same", name="separable")(image)
    h = tf_keras.layers.DepthwiseConv2D(3, padding="same", name="depthwise")(h)
    h = tf_keras.layers.Conv2DTranspose(3, 3, strides=2, name="transpose")(h)
    h = tf_keras.layers.SpatialDropout2D(0.2, name="spatial_dropout")(h)
    h = tf_keras.layers.Conv2D(2, 3, strides=2, name="conv")(h)
    sequence = tf_keras.layers.Reshape((-1, 2), name="to_sequence")(h)
    s = tf_keras.layers.LSTM(4, return_sequences=True, name="lstm")(sequence)
    s = tf_keras.layers.Bidirectional(tf_keras.layers.GRU(3, return_sequences=True), name="bi")(s)
    s = tf_keras.layers.SimpleRNN(3, name="simple_rnn")(s)
    output = tf_keras.layers.Dense(2, name="head")(s)
    return tf_keras.Model(image, output, name="layers")


def cumsum_model() -> tf_keras.Model:
    x = tf_keras.Input((4,), name="x")
    return tf_keras.Model(x, tf.math.cumsum(x, axis=-1) * 2.0, name="cumsum")


def lambda_model() -> tf_keras.Model:
    x = tf_keras.Input((4,), name="x")
    return tf_keras.Model(x, tf_keras.layers.Lambda(lambda t: t * 3.0)(x), name="with_lambda")


def main() -> None:
    tf_keras.utils.set_random_seed(0)
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    arrays: dict[str, np.ndarray] = {}
    models = {
        "mobilenet_v2": (mobilenet_v2(), [rng.uniform(-1, 1, (2, 32, 32, 3))]),
        "ops": (ops_model(), [rng.normal(size=(3, 4)), rng.normal(size=(3, 4))]),
        "layers": (layers_model(), [rng.normal(size=(2, 8, 8, 3))]),
        "cumsum": (cumsum_model(), [rng.normal(size=(2, 4))]),
        "lambda": (lambda_model(), [rng.normal(size=(2, 4))]),
    }
    for name, (model, inputs) in models.items():
        inputs = [value.astype("float32") for value in inputs]
        outputs = model(inputs if len(inputs) > 1 else inputs[0], training=False)
        outputs = outputs if isinstance(outputs, list) else [outputs]
        for index, value in enumerate(inputs):
            arrays[f"{name}_x{index}"] = value
        for index, value in enumerate(outputs):
            arrays[f"{name}_y{index}"] = np.asarray(value)
        arrays[f"{name}_params"] = np.asarray(model.count_params())
        path = OUT / f"{name}.h5"
        model.save(path, include_optimizer=False)
        if name == "mobilenet_v2":
            with (
                open(path, "rb") as source,
                open(f"{path}.gz", "wb") as packed,
                gzip.GzipFile(fileobj=packed, mode="wb", mtime=0) as target,
            ):
                shutil.copyfileobj(source, target)
            path.unlink()
    np.savez_compressed(OUT / "predictions.npz", **arrays)
    for path in sorted(OUT.iterdir()):
        print(f"{path.name}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
