"""A variational autoencoder on scikit-learn's digits with a 2-D latent space.

Training needs two things no built-in Keras layer does: drawing ``z = mean + exp(log_var / 2) *
noise`` and adding the KL divergence to the loss. Both live in :class:`Sampling`, a layer used
only in the *training* model. The file in ``models/`` is the *inference* model, built from the
same encoder and decoder (nested functional models of built-in layers only) without the
sampling step, so it loads with ``safe_mode``:

* ``digits_vae(image) -> reconstruction``: encode, take the latent mean, decode
  (deterministic); the card's test metric is this reconstruction's mean squared error;
* ``model.get_layer("encoder")(image) -> [z_mean, z_log_var]``, each ``(n, 2)``;
* ``model.get_layer("decoder")(z) -> image`` for any latent point ``z`` of shape ``(n, 2)``,
  which draws the latent-space grid.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from neurogenesis.analysis.templates import VAE_LATENT_DIM as LATENT_DIM
from neurogenesis.analysis.templates import VAE_NUM_PIXELS as NUM_PIXELS
from neurogenesis.analysis.templates import (
    VAE_WIDTH,
    vae_encoder_and_decoder,
    vae_inference_model,
)
from neurogenesis.io.run_folder import MODEL_FILE, RUN_MANIFEST_NAME, replace_text
from neurogenesis.zoo.common import (
    Recipe,
    Scenario,
    SweepSpec,
    fresh_dir,
    keras_module,
    make_card,
    make_optimizer,
    save_model_and_card,
    save_samples,
    scenario_facts,
    seconds_since,
)
from neurogenesis.zoo.digits import LABEL_NAMES, digits_data

NAME = "digits_vae"
TITLE = "Digits VAE"
DATASET = (
    "scikit-learn's load_digits: 1,797 real handwritten digits, 8x8 grey levels (UCI Optical "
    "Recognition of Handwritten Digits, CC BY 4.0), shipped inside scikit-learn"
)
TASK = "generative"
DEFAULT_EPOCHS = 30
QUICK_EPOCHS = 2
BATCH_SIZE = 32
DEFAULT_WIDTH = VAE_WIDTH
LEARNING_RATE = 2e-3
MAIN_RUN = "adam"
SWEEP_GRID = {"learning_rate": [1e-3, 3e-3, 1e-2], "width": [16, 32, 64, 128]}
SWEEP_EPOCHS = 10
QUICK_SWEEP_GRID = {"learning_rate": [3e-3, 1e-2], "width": [16]}
QUICK_SWEEP_EPOCHS = 1
SWEEP_METRIC = "val_loss"
SWEEP_GOAL = "min"
# A live random sweep: log-uniform learning rates around the grid's, the grid's widths.
RANDOM_SPACE = {"learning_rate": (5e-4, 2e-2, "log"), "width": [16, 32, 64, 128]}


def encoder_and_decoder(*, width: int = DEFAULT_WIDTH):
    """The encoder (image -> [z_mean, z_log_var]) and decoder (z -> image), built-in layers only
    (the ``vae`` template's architecture, :func:`~neurogenesis.analysis.templates.vae_encoder_and_decoder`)."""
    keras_module()  # the TensorFlow backend, before Keras is first imported
    return vae_encoder_and_decoder(width=width)


def inference_model(encoder, decoder):
    """``image -> decoder(z_mean)``: the saved, safe-loadable model (no sampling, no extra loss)."""
    keras_module()
    return vae_inference_model(encoder, decoder)


def _sampling_layer():
    """The training-only layer: samples z and adds the KL divergence (defined lazily: Keras)."""
    keras = keras_module()
    from keras import ops

    class Sampling(keras.layers.Layer):
        """``[z_mean, z_log_var] -> z``; adds ``KL(q(z|x) || N(0, I))`` to the model's losses.

        At inference (``training=False``, as in ``evaluate``) it returns ``z_mean``, so the
        validation metrics are those of the saved inference model.
        """

        def call(self, inputs, training=None):
            z_mean, z_log_var = inputs
            kl = -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=1)
            self.add_loss(ops.mean(kl))
            if not training:
                return z_mean
            noise = keras.random.normal(ops.shape(z_mean))
            return z_mean + ops.exp(0.5 * z_log_var) * noise

    return Sampling(name="sampling")


def reconstruction_loss(y_true, y_pred):
    """Binary cross-entropy summed over the 64 pixels (the ELBO's reconstruction term)."""
    keras = keras_module()
    from keras import ops

    return NUM_PIXELS * ops.mean(keras.losses.binary_crossentropy(y_true, y_pred), axis=(1, 2))


def training_model(encoder, decoder):
    """``image -> decoder(sample(encoder(image)))`` with the KL term; never saved."""
    keras = keras_module()
    image = keras.Input((8, 8, 1), name="image")
    z = _sampling_layer()(encoder(image))
    return keras.Model(image, decoder(z), name=f"{NAME}_training")


def _compiled(*, learning_rate: float = LEARNING_RATE, width: int = DEFAULT_WIDTH):
    """The compiled training model; its encoder and decoder are layers ``encoder``/``decoder``."""
    encoder, decoder = encoder_and_decoder(width=width)
    trainer = training_model(encoder, decoder)
    trainer.compile(
        optimizer=make_optimizer("adam", learning_rate), loss=reconstruction_loss, metrics=["mse"]
    )
    return trainer


def _hyperparameters(
    *, epochs: int, seed: int, learning_rate: float = LEARNING_RATE, width: int = DEFAULT_WIDTH
) -> dict:
    return {
        "optimizer": "adam",
        "learning_rate": learning_rate,
        "width": width,
        "latent_dim": LATENT_DIM,
        "batch_size": BATCH_SIZE,
        "epochs": epochs,
        "seed": seed,
    }


def _split(data):
    (x_train, _), (x_test, _) = data
    return (x_train, x_train), (x_test, x_test)


def _samples(data):
    _, (x_test, y_test) = data
    return x_test, y_test  # the digits as labels, for colouring the latent space


def _save_inference_model(trainer, run_dir: Path) -> None:
    """A full run's ``model.keras``: the inference model (see the module's docstring)."""
    inference = inference_model(trainer.get_layer("encoder"), trainer.get_layer("decoder"))
    inference.save(run_dir / MODEL_FILE)
    _list_model_in_manifest(run_dir)


_RECIPE = Recipe(
    compiled=_compiled,
    hyperparameters=_hyperparameters,
    batch_size=BATCH_SIZE,
    split=_split,
    samples=_samples,
    # The training model holds the Sampling layer, which the safe loader refuses: the run's
    # model.keras is the inference model instead.
    recorder_options={"save_model": False},
    after_fit=_save_inference_model,
)


def _list_model_in_manifest(run_dir: Path) -> None:
    """Names the inference model in the run's manifest, with a note on what it is."""
    path = run_dir / RUN_MANIFEST_NAME
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["model_file"] = MODEL_FILE
    manifest.setdefault("notes", []).append(
        f"{MODEL_FILE} is the inference model (image -> decoder(z_mean)), written after "
        "training; the training model adds a Sampling layer (the KL term and the noise), which "
        "has no weights, so the checkpoints load into it."
    )
    replace_text(path, json.dumps(manifest, indent=1) + "\n")


def build(
    models_dir: Path, data_dir: Path, *, quick: bool = False, epochs: int | None = None
) -> dict:
    """Rebuilds the digits VAE: inference model and card, its run, the sweep, the sample set.

    Writes ``models/digits_vae.keras`` (+ ``.json``), ``data/runs/digits_vae/adam``,
    ``data/sweeps/digits_vae`` and ``data/samples/digits_vae.npz`` (the digits' test split).

    Returns:
        The card plus paths and the build's duration (see :class:`~neurogenesis.zoo.Scenario`).
    """
    start = time.perf_counter()
    epochs = epochs or (QUICK_EPOCHS if quick else DEFAULT_EPOCHS)
    data = digits_data()
    runs_dir = fresh_dir(data_dir / "runs" / NAME)
    trainer = _RECIPE.record_run(runs_dir / MAIN_RUN, data, epochs)
    model = inference_model(trainer.get_layer("encoder"), trainer.get_layer("decoder"))

    _RECIPE.sweep(
        NAME,
        data_dir,
        data,
        grid=QUICK_SWEEP_GRID if quick else SWEEP_GRID,
        epochs=QUICK_SWEEP_EPOCHS if quick else SWEEP_EPOCHS,
        metric=SWEEP_METRIC,
        goal=SWEEP_GOAL,
    )

    x_test, y_test = data[1]
    mse = float(np.mean((model.predict(x_test, verbose=0) - x_test) ** 2))
    card = make_card(
        name=NAME,
        title=TITLE,
        dataset=DATASET,
        task=TASK,
        description=(
            "A dense variational autoencoder with a 2-D latent space, trained on the ELBO "
            "(pixel-summed binary cross-entropy + KL). The saved file is the inference model "
            "image -> decoder(z_mean), built-in layers only; sampling and the KL term live in a "
            "training-only layer that is not saved. get_layer('encoder') gives [z_mean, "
            "z_log_var]; get_layer('decoder') turns any (n, 2) latent point into an image."
        ),
        test_metric="reconstruction_mse",
        test_value=mse,
        goal="min",
        epochs=epochs,
        input_description="8x8 grey-level digit images, float32 in [0, 1] (ink = 1)",
        input_shape=(None, 8, 8, 1),
        input_dtype="float32",
        input_range=[0.0, 1.0],
        label_names=LABEL_NAMES,
        data_dir=data_dir,
        runs=[MAIN_RUN],
        quick=quick,
        test_split=(
            f"the {len(y_test)} images in data/samples/{NAME}.npz (the digits CNN's test split; "
            "y are the digits, for colouring the latent space)"
        ),
        output="reconstruction, float32 (n, 8, 8, 1) in [0, 1]",
        latent_dim=LATENT_DIM,
        encoder_layer="encoder",
        decoder_layer="decoder",
        run_metrics=(
            "loss is the negative ELBO per image; mse is the reconstruction's mean squared "
            "error from z_mean (validation) or a sampled z (training)"
        ),
    )
    model_path = save_model_and_card(model, models_dir, NAME, card)
    save_samples(data_dir, NAME, x=x_test, y=y_test, label_names=np.array(LABEL_NAMES))
    return scenario_facts(card, model_path, data_dir, seconds_since(start))


def _model_at_width(width: int):
    """The saved inference model at one width, untrained, for the architecture page's width
    sweep."""
    return inference_model(*encoder_and_decoder(width=width))


SCENARIO = Scenario(
    name=NAME,
    title=TITLE,
    dataset=DATASET,
    task=TASK,
    default_epochs=DEFAULT_EPOCHS,
    build=build,
    setup=lambda: (_RECIPE, digits_data()),
    sweep=SweepSpec.declared(globals()),
    width_model=_model_at_width,
)
