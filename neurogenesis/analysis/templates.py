"""Model templates: reference architectures built untrained, with width and depth multipliers.

A template library (:data:`TEMPLATES`, :func:`build_template`): reference architectures (VGG16,
ResNet-50, MobileNetV2, EfficientNet-B0, a BERT-like encoder, an LSTM, a small CNN and the digits
VAE) built untrained, with width and depth multipliers where the architecture has them. Pure
computation (no streamlit, no plotly); the layer-stack editor (:mod:`.layer_stack`) opens the
editable ones, and :mod:`.sweeps` measures them across multipliers.

Keras is imported on first use, so importing this module (and reading the template catalogue)
stays cheap.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from neurogenesis.analysis.layer_stack import keras_message
from neurogenesis.errors import InputError

__all__ = [
    "TEMPLATES",
    "Template",
    "build_template",
    "check_multiplier",
    "find_template",
    "vae_encoder_and_decoder",
    "vae_inference_model",
]

IMAGENET_INPUT_SHAPE = (224, 224, 3)
IMAGENET_CLASSES = 1000

BERT_VOCABULARY_SIZE = 8000
BERT_SEQUENCE_LENGTH = 128
BERT_HIDDEN_SIZE = 128
BERT_NUM_HEADS = 4
BERT_NUM_BLOCKS = 2
BERT_FEED_FORWARD_RATIO = 4
BERT_NUM_CLASSES = 2

LSTM_VOCABULARY_SIZE = 10000
LSTM_SEQUENCE_LENGTH = 100
LSTM_EMBEDDING_DIM = 64
LSTM_UNITS = 64
LSTM_NUM_LAYERS = 2
LSTM_NUM_CLASSES = 2

SMALL_CNN_INPUT_SHAPE = (28, 28, 1)
SMALL_CNN_FILTERS = 32
SMALL_CNN_NUM_BLOCKS = 2
SMALL_CNN_NUM_CLASSES = 10

VAE_INPUT_SHAPE = (8, 8, 1)
VAE_WIDTH = 64
VAE_LATENT_DIM = 2
VAE_NUM_PIXELS = 64
VAE_MODEL_NAME = "digits_vae"

# VGG16's blocks: (filters, convolutions); then two 4096-unit Dense layers.
_VGG16_BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))
_VGG16_DENSE_UNITS = 4096
# ResNet-50's stages: (bottleneck filters, blocks, first stride, name).
_RESNET50_STAGES = (
    (64, 3, 1, "conv2"),
    (128, 4, 2, "conv3"),
    (256, 6, 2, "conv4"),
    (512, 3, 2, "conv5"),
)
_RESNET50_STEM_FILTERS = 64


@dataclass(frozen=True)
class Template:
    """One reference architecture the page can build, scale and inspect.

    Attributes:
        name: the key in :data:`TEMPLATES` and the argument of :func:`build_template`.
        title: what a person calls it.
        description: one or two sentences: what it is and where it comes from.
        kind: ``"image"``, ``"text"``, ``"sequence"`` or ``"generative"``.
        default_input_shape: one sample's input shape (no batch axis).
        input_dtype: the input's dtype (``"int32"`` for token ids).
        supports_width: whether ``width_multiplier`` other than 1 is accepted.
        supports_depth: whether ``depth_multiplier`` other than 1 is accepted.
        multipliers: what the multipliers scale, in words.
        editable: whether :func:`specs_from_model` can open it in the builder (a plain chain of
            builder layers); otherwise the page offers only the multiplier sweep.
        reference: the paper or source of the published architecture.
    """

    name: str
    title: str
    description: str
    kind: str
    default_input_shape: tuple
    input_dtype: str = "float32"
    supports_width: bool = True
    supports_depth: bool = True
    multipliers: str = ""
    editable: bool = False
    reference: str = ""


TEMPLATES: dict[str, Template] = {
    "vgg16": Template(
        name="vgg16",
        title="VGG16",
        description=(
            "Thirteen 3x3 convolutions in five blocks, each closed by 2x2 max pooling, then two "
            "4096-unit Dense layers and a 1000-way softmax: the plain deep chain of 2014."
        ),
        kind="image",
        default_input_shape=IMAGENET_INPUT_SHAPE,
        multipliers=(
            "width scales the filters of every convolution and the two 4096-unit Dense layers; "
            "depth scales the convolutions per block (2, 2, 3, 3, 3). At 1x both, this is "
            "keras.applications.VGG16."
        ),
        editable=True,
        reference="Simonyan & Zisserman 2015, keras.applications.VGG16",
    ),
    "resnet50": Template(
        name="resnet50",
        title="ResNet-50",
        description=(
            "A 7x7 stem and sixteen bottleneck residual blocks in four stages (3, 4, 6, 3), "
            "global average pooling and a 1000-way softmax."
        ),
        kind="image",
        default_input_shape=IMAGENET_INPUT_SHAPE,
        multipliers=(
            "width scales the filters of the stem and of every bottleneck; depth scales the "
            "blocks per stage (3, 4, 6, 3). At 1x both, this is keras.applications.ResNet50."
        ),
        reference="He et al. 2016, keras.applications.ResNet50",
    ),
    "mobilenet_v2": Template(
        name="mobilenet_v2",
        title="MobileNetV2",
        description=(
            "Inverted residual blocks of depthwise-separable convolutions with linear "
            "bottlenecks, built for phones."
        ),
        kind="image",
        default_input_shape=IMAGENET_INPUT_SHAPE,
        supports_depth=False,
        multipliers=(
            "width is MobileNetV2's alpha (the filters of every layer); depth is not a knob of "
            "this architecture."
        ),
        reference="Sandler et al. 2018, keras.applications.MobileNetV2",
    ),
    "efficientnet_b0": Template(
        name="efficientnet_b0",
        title="EfficientNet-B0",
        description=(
            "MBConv blocks with squeeze-and-excitation found by architecture search, the base "
            "of the compound-scaled EfficientNet family."
        ),
        kind="image",
        default_input_shape=IMAGENET_INPUT_SHAPE,
        multipliers=(
            "width is EfficientNet's width_coefficient (filters, rounded to multiples of 8) and "
            "depth its depth_coefficient (block repeats, rounded up), as B1-B7 scale them."
        ),
        reference="Tan & Le 2019, keras.applications.EfficientNetB0",
    ),
    "bert_encoder": Template(
        name="bert_encoder",
        title="BERT-like encoder",
        description=(
            "Token and position embeddings, transformer encoder blocks (multi-head "
            "self-attention and a GELU feed-forward, each with a residual and "
            "LayerNormalization) and a pooled [CLS] classification head; a small BERT built "
            "from Keras layers only."
        ),
        kind="text",
        default_input_shape=(BERT_SEQUENCE_LENGTH,),
        input_dtype="int32",
        multipliers=(
            f"width scales the hidden size ({BERT_HIDDEN_SIZE}, kept a multiple of the "
            f"{BERT_NUM_HEADS} heads; the feed-forward is {BERT_FEED_FORWARD_RATIO}x it); depth "
            f"scales the number of encoder blocks ({BERT_NUM_BLOCKS})."
        ),
        reference="Devlin et al. 2019",
    ),
    "lstm": Template(
        name="lstm",
        title="Stacked LSTM",
        description=(
            "An Embedding, stacked LSTM layers (all but the last return sequences) and a softmax "
            "classifier: the classic text/sequence classifier."
        ),
        kind="sequence",
        default_input_shape=(LSTM_SEQUENCE_LENGTH,),
        input_dtype="int32",
        multipliers=(
            f"width scales the embedding size ({LSTM_EMBEDDING_DIM}) and the LSTM units "
            f"({LSTM_UNITS}); depth scales the number of LSTM layers ({LSTM_NUM_LAYERS})."
        ),
        editable=True,
        reference="Hochreiter & Schmidhuber 1997",
    ),
    "small_cnn": Template(
        name="small_cnn",
        title="Small CNN",
        description=(
            "Two blocks of a 3x3 convolution and 2x2 max pooling, Flatten and a softmax: the "
            "MNIST-sized network of every tutorial."
        ),
        kind="image",
        default_input_shape=SMALL_CNN_INPUT_SHAPE,
        multipliers=(
            f"width scales the filters ({SMALL_CNN_FILTERS}, doubling per block); depth scales "
            f"the number of convolution blocks ({SMALL_CNN_NUM_BLOCKS})."
        ),
        editable=True,
        reference="LeCun et al. 1998 (in spirit)",
    ),
    "vae": Template(
        name="vae",
        title="Digits VAE",
        description=(
            "The digits demo's variational autoencoder as it is saved: the encoder's mean "
            "through the decoder (no sampling), Dense layers on 8x8 images."
        ),
        kind="generative",
        default_input_shape=VAE_INPUT_SHAPE,
        supports_depth=False,
        multipliers=f"width scales the hidden layers ({VAE_WIDTH} and half of it); no depth knob.",
        reference="Kingma & Welling 2014; neurogenesis.zoo.vae",
    ),
}


def check_multiplier(value: Any, what: str) -> float:
    """``value`` as a positive finite float, or InputError naming ``what`` it was for."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise InputError(
            f"Expected a positive {what}, such as 0.5, 1 or 2. Received: {value!r}. "
            "Multipliers scale the template's widths or depths and must be greater than 0."
        )
    return number


def _scaled(base: int, multiplier: float, minimum: int = 1) -> int:
    """``base * multiplier`` rounded, at least ``minimum``."""
    return max(minimum, int(round(base * multiplier)))


def find_template(name: str) -> Template:
    """The template of that name, or InputError listing the names there are."""
    if name not in TEMPLATES:
        raise InputError(
            f"Unknown template {name!r}. Expected one of: {', '.join(TEMPLATES)}. "
            "Pick a template from the list."
        )
    return TEMPLATES[name]


def _input_shape(template: Template, input_shape: Any) -> tuple:
    if input_shape is None:
        return template.default_input_shape
    try:
        shape = tuple(int(dim) for dim in input_shape)
    except (TypeError, ValueError):
        shape = ()
    if len(shape) != len(template.default_input_shape) or any(dim <= 0 for dim in shape):
        raise InputError(
            f"{template.title} takes inputs shaped like {template.default_input_shape} (one "
            f"sample, no batch axis). Received: input_shape={input_shape!r}. Give "
            f"{len(template.default_input_shape)} positive sizes, or leave it empty for the "
            "default."
        )
    return shape


def _vgg16(keras, width: float, depth: float, input_shape: tuple):
    if width == 1 and depth == 1:
        return keras.applications.VGG16(
            weights=None, input_shape=input_shape, classes=IMAGENET_CLASSES
        )
    inputs = keras.Input(input_shape, name="input_layer")
    x = inputs
    for block, (filters, convolutions) in enumerate(_VGG16_BLOCKS, start=1):
        for index in range(1, _scaled(convolutions, depth) + 1):
            x = keras.layers.Conv2D(
                _scaled(filters, width),
                3,
                activation="relu",
                padding="same",
                name=f"block{block}_conv{index}",
            )(x)
        x = keras.layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(_scaled(_VGG16_DENSE_UNITS, width), activation="relu", name="fc1")(x)
    x = keras.layers.Dense(_scaled(_VGG16_DENSE_UNITS, width), activation="relu", name="fc2")(x)
    outputs = keras.layers.Dense(IMAGENET_CLASSES, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="vgg16")


def _bottleneck(keras, x, filters: int, *, stride: int, shortcut_conv: bool, name: str):
    """ResNet v1 bottleneck, laid out and named as keras.applications.resnet does."""
    layers = keras.layers
    epsilon = 1.001e-5
    if shortcut_conv:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = layers.BatchNormalization(axis=3, epsilon=epsilon, name=f"{name}_0_bn")(shortcut)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=epsilon, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.Conv2D(filters, 3, padding="same", name=f"{name}_2_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=epsilon, name=f"{name}_2_bn")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=epsilon, name=f"{name}_3_bn")(x)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def _resnet50_scaled(keras, width: float, depth: float, input_shape: tuple):
    """ResNet-50 with scaled filters and blocks; at 1x it equals keras.applications.ResNet50."""
    layers = keras.layers
    inputs = keras.Input(input_shape, name="input_layer")
    x = layers.ZeroPadding2D(3, name="conv1_pad")(inputs)
    x = layers.Conv2D(_scaled(_RESNET50_STEM_FILTERS, width), 7, strides=2, name="conv1_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=1.001e-5, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for filters, blocks, stride, stage in _RESNET50_STAGES:
        scaled_filters = _scaled(filters, width)
        for block in range(1, _scaled(blocks, depth) + 1):
            x = _bottleneck(
                keras,
                x,
                scaled_filters,
                stride=stride if block == 1 else 1,
                shortcut_conv=block == 1,
                name=f"{stage}_block{block}",
            )
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(IMAGENET_CLASSES, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="resnet50")


def _resnet50(keras, width: float, depth: float, input_shape: tuple):
    if width == 1 and depth == 1:
        return keras.applications.ResNet50(
            weights=None, input_shape=input_shape, classes=IMAGENET_CLASSES
        )
    return _resnet50_scaled(keras, width, depth, input_shape)


def _mobilenet_v2(keras, width: float, depth: float, input_shape: tuple):
    return keras.applications.MobileNetV2(
        input_shape=input_shape, alpha=width, weights=None, classes=IMAGENET_CLASSES
    )


def _efficientnet_b0(keras, width: float, depth: float, input_shape: tuple):
    # keras.applications exports only B0-B7; the scalable constructor behind them lives in
    # keras.src (signature: width_coefficient, depth_coefficient, default_size, dropout_rate, ...).
    from keras.src.applications.efficientnet import EfficientNet

    return EfficientNet(
        width,
        depth,
        IMAGENET_INPUT_SHAPE[0],
        0.2,
        name="efficientnetb0",
        weights=None,
        input_shape=input_shape,
        classes=IMAGENET_CLASSES,
    )


def _bert_encoder(keras, width: float, depth: float, input_shape: tuple):
    from keras import ops

    layers = keras.layers
    heads = BERT_NUM_HEADS
    hidden = heads * _scaled(BERT_HIDDEN_SIZE // heads, width)
    blocks = _scaled(BERT_NUM_BLOCKS, depth)
    (sequence_length,) = input_shape
    token_ids = keras.Input((sequence_length,), dtype="int32", name="token_ids")
    # Positions and the padding mask come from keras.ops on the ids (no Lambda, no second input),
    # as in neurogenesis.zoo.sentiment, so the model stays safe to load.
    is_token = ops.not_equal(token_ids, 0)
    attention_mask = ops.logical_and(ops.expand_dims(is_token, 2), ops.expand_dims(is_token, 1))
    positions = ops.cumsum(ops.ones_like(token_ids), axis=1) - 1
    tokens = layers.Embedding(BERT_VOCABULARY_SIZE, hidden, name="token_embedding")(token_ids)
    places = layers.Embedding(sequence_length, hidden, name="position_embedding")(positions)
    x = layers.Add(name="embeddings")([tokens, places])
    x = layers.LayerNormalization(epsilon=1e-12, name="embeddings_norm")(x)
    for block in range(1, blocks + 1):
        attended = layers.MultiHeadAttention(heads, hidden // heads, name=f"attention_{block}")(
            x, x, attention_mask=attention_mask
        )
        x = layers.Add(name=f"attention_residual_{block}")([x, attended])
        x = layers.LayerNormalization(epsilon=1e-12, name=f"attention_norm_{block}")(x)
        inner = layers.Dense(
            BERT_FEED_FORWARD_RATIO * hidden, activation="gelu", name=f"feed_forward_{block}"
        )(x)
        inner = layers.Dense(hidden, name=f"feed_forward_out_{block}")(inner)
        x = layers.Add(name=f"feed_forward_residual_{block}")([x, inner])
        x = layers.LayerNormalization(epsilon=1e-12, name=f"feed_forward_norm_{block}")(x)
    first_token = x[:, 0, :]  # the [CLS] position, as BERT's pooler reads it
    pooled = layers.Dense(hidden, activation="tanh", name="pooler")(first_token)
    outputs = layers.Dense(BERT_NUM_CLASSES, activation="softmax", name="probabilities")(pooled)
    return keras.Model(token_ids, outputs, name="bert_encoder")


def _lstm(keras, width: float, depth: float, input_shape: tuple):
    layers = keras.layers
    num_layers = _scaled(LSTM_NUM_LAYERS, depth)
    units = _scaled(LSTM_UNITS, width)
    stack = [
        keras.Input(input_shape, dtype="int32", name="token_ids"),
        layers.Embedding(
            LSTM_VOCABULARY_SIZE, _scaled(LSTM_EMBEDDING_DIM, width), name="embedding"
        ),
    ]
    for index in range(1, num_layers + 1):
        stack.append(layers.LSTM(units, return_sequences=index < num_layers, name=f"lstm_{index}"))
    stack.append(layers.Dense(LSTM_NUM_CLASSES, activation="softmax", name="probabilities"))
    return keras.Sequential(stack, name="lstm")


def _small_cnn(keras, width: float, depth: float, input_shape: tuple):
    layers = keras.layers
    stack = [keras.Input(input_shape, name="image")]
    for index in range(1, _scaled(SMALL_CNN_NUM_BLOCKS, depth) + 1):
        filters = _scaled(SMALL_CNN_FILTERS * 2 ** (index - 1), width)
        stack.append(
            layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv_{index}")
        )
        # "same" pooling never shrinks a side below one pixel, so any depth builds.
        stack.append(layers.MaxPooling2D(2, padding="same", name=f"pool_{index}"))
    stack.append(layers.Flatten(name="flatten"))
    stack.append(layers.Dense(SMALL_CNN_NUM_CLASSES, activation="softmax", name="probabilities"))
    return keras.Sequential(stack, name="small_cnn")


def vae_encoder_and_decoder(*, width: int = VAE_WIDTH):
    """The digits VAE's encoder (image -> [z_mean, z_log_var]) and decoder (z -> image), built-in
    layers only (``neurogenesis.zoo.vae`` trains them).

    Args:
        width: units of the outer hidden layers (the inner ones have half, at least 2).

    Returns:
        ``(encoder, decoder)``, two ``keras.Model``.
    """
    import keras

    image = keras.Input(VAE_INPUT_SHAPE, name="image")
    x = keras.layers.Flatten(name="flatten")(image)
    x = keras.layers.Dense(width, activation="relu", name="encoder_hidden_1")(x)
    x = keras.layers.Dense(max(width // 2, 2), activation="relu", name="encoder_hidden_2")(x)
    z_mean = keras.layers.Dense(VAE_LATENT_DIM, name="z_mean")(x)
    z_log_var = keras.layers.Dense(VAE_LATENT_DIM, name="z_log_var")(x)
    encoder = keras.Model(image, [z_mean, z_log_var], name="encoder")

    latent = keras.Input((VAE_LATENT_DIM,), name="z")
    x = keras.layers.Dense(max(width // 2, 2), activation="relu", name="decoder_hidden_1")(latent)
    x = keras.layers.Dense(width, activation="relu", name="decoder_hidden_2")(x)
    x = keras.layers.Dense(VAE_NUM_PIXELS, activation="sigmoid", name="pixels")(x)
    reconstruction = keras.layers.Reshape(VAE_INPUT_SHAPE, name="reconstruction")(x)
    decoder = keras.Model(latent, reconstruction, name="decoder")
    return encoder, decoder


def vae_inference_model(encoder, decoder):
    """``image -> decoder(z_mean)``: the saved, safe-loadable model (no sampling, no extra loss)."""
    import keras

    image = keras.Input(VAE_INPUT_SHAPE, name="image")
    z_mean, _ = encoder(image)
    return keras.Model(image, decoder(z_mean), name=VAE_MODEL_NAME)


def _vae(keras, width: float, depth: float, input_shape: tuple):
    if tuple(input_shape) != VAE_INPUT_SHAPE:
        raise InputError(
            f"The digits VAE takes 8x8x1 images only. Received: input_shape={input_shape}. "
            "Leave the input shape empty for this template."
        )
    encoder, decoder = vae_encoder_and_decoder(width=_scaled(VAE_WIDTH, width, minimum=2))
    return vae_inference_model(encoder, decoder)


_TEMPLATE_BUILDERS: dict[str, Callable[..., Any]] = {
    "vgg16": _vgg16,
    "resnet50": _resnet50,
    "mobilenet_v2": _mobilenet_v2,
    "efficientnet_b0": _efficientnet_b0,
    "bert_encoder": _bert_encoder,
    "lstm": _lstm,
    "small_cnn": _small_cnn,
    "vae": _vae,
}


def build_template(
    name: str,
    *,
    width_multiplier: float = 1.0,
    depth_multiplier: float = 1.0,
    input_shape: Sequence[int] | None = None,
):
    """Builds an untrained template model (random weights; nothing is downloaded).

    Args:
        name: a key of :data:`TEMPLATES`.
        width_multiplier: scales filters/units (see the template's ``multipliers``); rounded,
            never below 1 unit.
        depth_multiplier: scales the number of repeated blocks; rounded, never below 1.
        input_shape: one sample's input shape (no batch axis); the template's default if None.

    Returns:
        The ``keras.Model``.

    Raises:
        InputError: an unknown template, a multiplier that is not positive or that the template
            does not support, or an input shape the architecture cannot take.
    """
    import keras

    template = find_template(name)
    width = check_multiplier(width_multiplier, "width multiplier")
    depth = check_multiplier(depth_multiplier, "depth multiplier")
    for value, supported, what in (
        (width, template.supports_width, "width"),
        (depth, template.supports_depth, "depth"),
    ):
        if value != 1 and not supported:
            raise InputError(
                f"{template.title} has no {what} multiplier ({template.multipliers}). Received: "
                f"{what}_multiplier={value:g}. Leave it at 1."
            )
    shape = _input_shape(template, input_shape)
    try:
        return _TEMPLATE_BUILDERS[name](keras, width, depth, shape)
    except InputError:
        raise
    except ValueError as error:
        raise InputError(
            f"{template.title} cannot be built for input_shape={shape} with width x{width:g}, "
            f"depth x{depth:g}: {keras_message(error)}. Use a larger input (the default is "
            f"{template.default_input_shape})."
        ) from error
