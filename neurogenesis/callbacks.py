"""RunRecorder: a Keras callback that records a training run for NeuroGenesis and for TensorBoard.

    model.fit(x, y, validation_data=(x_val, y_val), epochs=20,
              callbacks=[neurogenesis.RunRecorder("runs/first", probe_data=(x_val[:64], y_val[:64]))])

The run folder is one TensorBoard run (event files directly inside, open it with
``tensorboard --logdir runs``) plus what TensorBoard cannot hold, in open formats, described by
``neurogenesis_run.json`` and read back by :mod:`neurogenesis.io.recordings`:

* scalars per epoch (step = epoch index, 0-based): ``train/<metric>`` for each ``logs`` key,
  ``validation/<metric>`` for each ``val_<metric>`` key, ``learning_rate`` (read from the
  optimizer: a schedule is evaluated at the optimizer's current iteration),
  ``gradient_norm/<variable.path>`` and ``gradient_norm/global``; with ``batch_scalars=True`` also
  ``batch/<metric>`` per batch (step = global batch index; Keras's batch logs are running means
  over the epoch so far, as in Keras's own TensorBoard callback);
* histograms (every ``histogram_freq`` epochs): ``weights/<variable.path>`` and
  ``activations/<layer name>`` (the probe batch's activations);
* ``checkpoints/initial.weights.h5`` (epoch -1, before training) and
  ``checkpoints/epoch_XXXX.weights.h5`` every ``checkpoint_freq`` epochs and after the last one,
  thinned to at most ``max_checkpoints`` files spread evenly over the epochs (the initial, first and
  latest are always kept); ``model.load_weights`` reads them;
* ``activations/epoch_XXXX.npz``: for each layer of a Sequential or Functional model whose output
  is one float tensor (a nested model counts as one layer), arrays ``<layer>/mean``,
  ``<layer>/std`` (population), ``<layer>/frac_zero`` (share of probe samples, and positions for
  conv and sequence outputs, where ``|x| < 1e-7``: a unit at 1.0 is dead on the probe) and
  ``<layer>/frac_saturated`` (where a bounded activation is at its bound, ``t`` being
  ``saturation_threshold``: sigmoid-like ``x > t`` or ``x < 1 - t``, tanh-like (tanh, LSTM/GRU
  outputs) ``|x| > t``, softmax ``x > t``; always 0 for unbounded activations), each of shape
  ``(units,)``: every axis but the last is reduced;
* ``attention/epoch_XXXX.npz``: the scores of every ``MultiHeadAttention`` layer (nested in
  sub-models or subclassed layers too) on the first 16 probe samples, float16, shape
  ``(batch, num_heads, query, key)``, with the masks of the real forward pass applied;
* ``model.keras`` (the architecture at the start, final weights at the end), ``probe.npz`` and
  ``samples.npz`` (``x`` and ``y``).

**The probe batch.** Keras 3 does not show callbacks the batches it trains on, so gradient norms,
activation statistics and attention scores need data given up front: ``probe_data`` (``x`` or
``(x, y)``; the first ``probe_size`` samples are used), or else the first ``probe_size`` of
``samples``. With neither, those three are skipped and the manifest's notes say so. Gradient
norms also need targets (``y``) and a loss (``compile(loss=...)`` or a ``compute_loss``
override); they are the L2 norms of the loss gradient on the probe batch at the epoch's end
weights, in inference mode (dropout off, BatchNormalization's moving statistics), computed
statelessly so no metric or variable of the model changes.

**Never in the way.** A part of the recorder that fails (a subclassed model without a layer graph,
a custom ``train_step`` without a compiled loss, a full disk) is turned off with a note in the
manifest; training goes on. Everything expensive can be turned off: ``histogram_freq=0``,
``checkpoint_freq=0``, ``gradient_norms``, ``activation_stats``, ``attention_scores``,
``save_model``. ``benchmarks/callback.py`` measures the overhead.

**Status.** ``neurogenesis_run.json`` is rewritten atomically at the start, after every epoch and
at the end: ``"running"``, then ``"finished"``, or ``"stopped"`` when the stop file ended the
run. Keras does not call ``on_train_end`` when ``fit`` raises; if the Python process then exits,
the status becomes ``"failed"``, but in a notebook it stays ``"running"`` with an old ``updated``
time: readers should treat that as unknown.

**Stopping from outside.** If ``<run_dir>/<stop_file>`` appears, training stops with status
``"stopped"`` after at most one more batch (the file is looked for before each batch and after
each epoch; Keras still ends the epoch, so it is recorded). The file is left in place (the
dashboard reads it); a leftover one from a stopped recording is removed when a new ``fit`` starts
recording into the same folder.

**Resuming.** A second ``fit`` with the same recorder, or a new recorder on a folder that holds a
recording, continues it: the checkpoint, activation and attention lists carry over, epochs go on
from Keras's epoch index (pass ``initial_epoch`` to continue the numbering), and a new event file
is added next to the old ones.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import functools
import inspect
import io
import json
import math
import os
import time
import weakref
from pathlib import Path
from typing import Any

import keras
import numpy as np

from neurogenesis.io.recordings import (
    ACTIVATION_STATISTICS,
    RUN_FORMAT,
    RUN_FORMAT_VERSION,
    RUN_MANIFEST_NAME,
    VARIABLE_PATHS_ATTRIBUTE,
    read_recording,
)

__all__ = [
    "DEFAULT_MAX_CHECKPOINTS",
    "DEFAULT_PROBE_SIZE",
    "DEFAULT_SAMPLE_SIZE",
    "DEFAULT_SATURATION_THRESHOLD",
    "RunRecorder",
    "thin_checkpoints",
]

DEFAULT_PROBE_SIZE = 64
DEFAULT_SAMPLE_SIZE = 256
DEFAULT_MAX_CHECKPOINTS = 30
DEFAULT_SATURATION_THRESHOLD = 0.99
DEFAULT_STOP_FILE = "STOP"
MAX_ATTENTION_SAMPLES = 16
ZERO_TOLERANCE = 1e-7
"""An activation with ``|x| < ZERO_TOLERANCE`` counts as zero."""
HISTOGRAM_BUCKETS = 30
"""TensorBoard's default bucket count (``tf.summary.histogram``)."""
MAX_NOTES = 200

MODEL_FILE = "model.keras"
PROBE_FILE = "probe.npz"
SAMPLES_FILE = "samples.npz"
CHECKPOINT_DIR = "checkpoints"
ACTIVATION_DIR = "activations"
ATTENTION_DIR = "attention"
INITIAL_CHECKPOINT = "initial.weights.h5"

# Parts of the recorder tried again after a failure (a full disk may be emptied); any other part
# that fails is turned off for the rest of the run.
_RETRIED_PARTS = frozenset({"manifest", "summaries", "scalars", "learning_rate", "close"})

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


class RunRecorder(keras.callbacks.Callback):
    """Records a training run into a folder: TensorBoard event files plus what they cannot hold.

    See the module documentation for what is written where.

    Args:
        run_dir: The run folder (created if needed).
        probe_data: ``x`` or ``(x, y)`` (arrays, lists/dicts of arrays, or a ``tf.data.Dataset``)
            of the fixed probe batch for gradient norms, activation statistics and attention
            scores; the first ``probe_size`` samples are used. None: the first samples of
            ``samples``, else those three are skipped (with a note).
        probe_size: Most probe samples.
        samples: ``x`` or ``(x, y)`` stored as the run's sample set, ``samples.npz``.
        sample_size: Most samples stored.
        hyperparameters: Stored in the manifest with the optimizer's class and config.
        batch_scalars: Also write ``batch/<metric>`` every batch (costs a host sync per batch).
        histogram_freq: Write weight and activation histograms every this many epochs; 0: never.
        checkpoint_freq: Save weights every this many epochs (and after the last); 0: never.
        max_checkpoints: Most checkpoint files kept, at least 3 (initial, first, latest).
        gradient_norms: Record per-variable gradient norms on the probe batch.
        activation_stats: Record per-layer activation statistics on the probe batch.
        attention_scores: Record MultiHeadAttention scores on the probe batch.
        save_model: Write ``model.keras``.
        stop_file: Name of the file in ``run_dir`` that stops training; None: never look.
        saturation_threshold: In (0.5, 1): how close to its bound a bounded activation must be
            to count as saturated.

    Raises:
        ValueError: An argument is out of range, or the probe or sample data are malformed.
    """

    def __init__(
        self,
        run_dir: str | os.PathLike,
        *,
        probe_data=None,
        probe_size: int = DEFAULT_PROBE_SIZE,
        samples=None,
        sample_size: int = DEFAULT_SAMPLE_SIZE,
        hyperparameters: dict | None = None,
        batch_scalars: bool = False,
        histogram_freq: int = 1,
        checkpoint_freq: int = 1,
        max_checkpoints: int = DEFAULT_MAX_CHECKPOINTS,
        gradient_norms: bool = True,
        activation_stats: bool = True,
        attention_scores: bool = True,
        save_model: bool = True,
        stop_file: str | None = DEFAULT_STOP_FILE,
        saturation_threshold: float = DEFAULT_SATURATION_THRESHOLD,
    ):
        super().__init__()
        self.run_dir = Path(os.path.abspath(os.path.expanduser(os.fspath(run_dir))))
        _check_int("probe_size", probe_size, 1)
        _check_int("sample_size", sample_size, 1)
        _check_int("histogram_freq", histogram_freq, 0)
        _check_int("checkpoint_freq", checkpoint_freq, 0)
        _check_int("max_checkpoints", max_checkpoints, 3)
        if not (isinstance(saturation_threshold, int | float) and 0.5 < saturation_threshold < 1):
            raise ValueError(
                "Expected saturation_threshold between 0.5 and 1 (exclusive). "
                f"Received: saturation_threshold={saturation_threshold!r}"
            )
        if stop_file is not None and (
            not isinstance(stop_file, str)
            or not stop_file
            or stop_file in (".", "..")
            or "/" in stop_file
            or os.sep in stop_file
            or "\x00" in stop_file
        ):
            raise ValueError(
                "Expected stop_file to be a plain file name (no folders) or None. "
                f"Received: stop_file={stop_file!r}"
            )
        if hyperparameters is not None and not isinstance(hyperparameters, dict):
            raise ValueError(
                "Expected hyperparameters to be a dict or None. "
                f"Received: {type(hyperparameters).__name__}"
            )
        self.probe_size = probe_size
        self.sample_size = sample_size
        self.hyperparameters = _json_safe(dict(hyperparameters or {}))
        self.batch_scalars = bool(batch_scalars)
        self.histogram_freq = histogram_freq
        self.checkpoint_freq = checkpoint_freq
        self.max_checkpoints = max_checkpoints
        self.gradient_norms = bool(gradient_norms)
        self.activation_stats = bool(activation_stats)
        self.attention_scores = bool(attention_scores)
        self.save_model = bool(save_model)
        self.stop_file = stop_file
        self.saturation_threshold = float(saturation_threshold)

        self._samples = _first_samples(samples, sample_size, "samples")
        self._probe = _first_samples(probe_data, probe_size, "probe_data")
        self._probe_from_samples = False
        if self._probe is None and self._samples is not None:
            x, y = self._samples
            self._probe = (_take(x, probe_size), None if y is None else _take(y, probe_size))
            self._probe_from_samples = True
        if self.batch_scalars:
            # Only then: a callback overriding on_train_batch_end makes Keras run every batch's
            # callbacks synchronously (and convert its logs), which costs time on small models.
            self.on_train_batch_end = self._record_batch

        # Recording state; it outlives one fit() so that a second fit continues the run.
        self._loaded = False
        self._previous_status: str | None = None
        self._status = "running"
        self._started: str | None = None
        self._epochs_completed = 0
        self._params: dict = {}
        self._hyperparameters: dict = dict(self.hyperparameters)
        self._model_info: dict = {}
        self._checkpoints: dict[int, str] = {}
        self._activation_files: dict[int, str] = {}
        self._attention_files: dict[int, str] = {}
        self._model_saved = False
        self._probe_saved = False
        self._samples_saved = False
        self._tags: dict[str, list[str]] = {"train": [], "validation": []}
        self._notes: list[str] = []
        self._disabled: set[str] = set()
        self._writer = None
        self._stopped = False
        self._fit_running = False
        self._last_epoch: int | None = None
        self._batch_offset = 0
        self._last_batch = -1
        self._exit_hook = None
        self._checkpoint_plan = None
        self._variable_reader = None
        self._values = None
        self._summaries = _SummaryQueue()
        self._batch_scalars = _BatchScalars()
        self._gradient_probe = None
        self._activation_probe = None
        self._attention_probe = None
        self._prepared_for = None
        self.timings: dict[str, float] = {}
        """Seconds spent per part of the recorder, summed over the run (for benchmarks)."""

    # ----------------------------------------------------------------------------------------
    # Keras hooks
    # ----------------------------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        if self._fit_running:
            self._note(
                "The previous fit() ended without on_train_end (it raised an exception); "
                "its last epochs may be missing."
            )
        self._fit_running = True
        self._stopped = False
        self._status = "running"
        self._guard("start", self._start)

    def on_train_batch_begin(self, batch, logs=None):
        if self.stop_file is not None and not self._stopped:
            self._check_stop_file()

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        self._values = None
        self._summaries.clear()
        self._last_epoch = epoch
        self._epochs_completed = max(self._epochs_completed, epoch + 1)
        self._guard("scalars", self._write_epoch_scalars, epoch, logs)
        self._guard("learning_rate", self._write_learning_rate, epoch, logs)
        if self._prepared_for is not self.model:  # here, not at the start: now the model is built
            self._prepare_probes()
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._guard("weight_histograms", self._write_weight_histograms, epoch)
        if self._probe is not None:
            if self.gradient_norms:
                self._guard("gradient_norms", self._write_gradient_norms, epoch)
            if self.activation_stats:
                self._guard("activation_stats", self._write_activation_stats, epoch)
            if self.attention_scores:
                self._guard("attention_scores", self._write_attention, epoch)
        if self.checkpoint_freq and epoch % self.checkpoint_freq == 0:
            self._guard("checkpoints", self._save_checkpoint, epoch)
        if self.batch_scalars:
            self._batch_offset += self._last_batch + 1
            self._last_batch = -1
        if self.stop_file is not None and not self._stopped:
            self._check_stop_file(f"after epoch {epoch}")
        self._guard("summaries", self._write_summaries, epoch)
        self._guard("manifest", self._write_manifest)

    def on_train_end(self, logs=None):
        self._values = None
        if (
            self.checkpoint_freq
            and self._last_epoch is not None
            and self._last_epoch not in self._checkpoints
        ):
            self._guard("checkpoints", self._save_checkpoint, self._last_epoch)
        if self.save_model:
            self._guard("model", self._save_model)
        self._status = self._previous_status = "stopped" if self._stopped else "finished"
        self._fit_running = False
        self._guard("close", self._close_writer)
        self._guard("manifest", self._write_manifest)
        if self._exit_hook is not None:
            atexit.unregister(self._exit_hook)
            self._exit_hook = None

    def _record_batch(self, batch, logs=None):
        self._last_batch = batch
        if logs and self._writer is not None and "batch_scalars" not in self._disabled:
            self._guard("batch_scalars", self._batch_scalars.add, self._batch_offset + batch, logs)

    # ----------------------------------------------------------------------------------------
    # Start
    # ----------------------------------------------------------------------------------------

    def _start(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        previous_status = self._status_before_start()
        if self.stop_file is not None:
            stop_path = self.run_dir / self.stop_file
            if previous_status == "stopped" and stop_path.exists():
                with contextlib.suppress(OSError):
                    stop_path.unlink()
                    self._note(
                        f"Removed the stop file '{self.stop_file}' left by the stopped run "
                        "before recording again."
                    )
        self._started = self._started or _now()
        self._params = _json_safe(dict(self.params or {}))
        self._guard("hyperparameters", self._collect_model_facts)
        self._guard("writer", self._open_writer)
        self._guard("manifest", self._write_manifest)  # the run is visible from now on
        if self._samples is not None and not self._samples_saved:
            self._guard("samples", self._save_samples)
        if self._probe is not None and not self._probe_saved:
            self._guard("probe", self._save_probe)
        built = bool(getattr(self.model, "built", True))
        self._values = None
        if self.checkpoint_freq:
            self._checkpoint_plan = None
            if -1 not in self._checkpoints:
                if built:
                    self._guard("checkpoints", self._save_checkpoint, -1)
                else:
                    self._note(
                        "The initial weights were not saved: the model builds its variables in "
                        "its first training step."
                    )
        if self.save_model and not self._model_saved and built:
            self._guard("model", self._save_model)
        if self._exit_hook is not None:
            atexit.unregister(self._exit_hook)
        self._exit_hook = functools.partial(_mark_failed_at_exit, weakref.ref(self))
        atexit.register(self._exit_hook)
        self._guard("manifest", self._write_manifest)

    def _status_before_start(self) -> str | None:
        """The status the previous recording in this folder ended with (loaded once)."""
        if not self._loaded:
            self._loaded = True
            self._previous_status = self._load_existing()
        return self._previous_status

    def _load_existing(self) -> str | None:
        """Continues a recording already in the folder: its lists, tags and notes carry over."""
        if not (self.run_dir / RUN_MANIFEST_NAME).is_file():
            return None
        try:
            recording = read_recording(self.run_dir)
        except ValueError as error:
            self._note(f"Replaced an unreadable {RUN_MANIFEST_NAME}: {error}")
            return None

        def relative(path: str) -> str:
            return Path(os.path.relpath(path, self.run_dir)).as_posix()

        self._started = recording.started
        self._epochs_completed = recording.epochs_completed
        self._checkpoints = {e: relative(p) for e, p in recording.checkpoints}
        self._activation_files = {e: relative(p) for e, p in recording.activation_files}
        self._attention_files = {e: relative(p) for e, p in recording.attention_files}
        self._model_saved = recording.model_file is not None
        self._probe_saved = recording.probe_file is not None and self._probe is None
        self._samples_saved = recording.samples_file is not None and self._samples is None
        for key in ("train", "validation"):
            self._tags[key] = list(recording.tags.get(key, ()))
        self._notes = list(recording.notes)[-MAX_NOTES:]
        self._note(
            f"Recording resumed after epoch {recording.epochs_completed} "
            f"(the earlier recording was {recording.status})."
        )
        return recording.status

    def _collect_model_facts(self) -> None:
        model = self.model
        hyperparameters = dict(self.hyperparameters)
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None:
            inner = getattr(optimizer, "inner_optimizer", None)  # LossScaleOptimizer
            hyperparameters.setdefault("optimizer", type(inner or optimizer).__name__)
            with contextlib.suppress(Exception):
                hyperparameters.setdefault(
                    "optimizer_config", _json_safe((inner or optimizer).get_config())
                )
        self._hyperparameters = hyperparameters
        info: dict[str, Any] = {"name": model.name, "class_name": type(model).__name__}
        with contextlib.suppress(Exception):
            info["num_parameters"] = int(model.count_params())
        self._model_info = info

    def _open_writer(self) -> None:
        import tensorflow as tf

        self._close_writer()
        self._writer = tf.summary.create_file_writer(str(self.run_dir))
        self._summaries = _SummaryQueue(self._writer)
        self._batch_scalars = _BatchScalars(self._writer)

    def _close_writer(self) -> None:
        if self._writer is not None and "batch_scalars" not in self._disabled:
            self._guard("batch_scalars", self._batch_scalars.write)
        writer, self._writer = self._writer, None
        self._summaries = _SummaryQueue()
        self._batch_scalars = _BatchScalars()
        if writer is not None:
            writer.close()

    def _write_summaries(self, step: int) -> None:
        """Writes the epoch's batch scalars, scalars and histograms; flushes the event file."""
        if self._writer is not None:
            started = time.perf_counter()
            if self.batch_scalars and "batch_scalars" not in self._disabled:
                self._guard("batch_scalars", self._batch_scalars.write)
            self._summaries.write(step)
            self._writer.flush()
            self._time("summaries", started)

    def _save_samples(self) -> None:
        x, y = self._samples
        _save_npz(self.run_dir / SAMPLES_FILE, _flat_arrays("x", x) | _flat_arrays("y", y))
        self._samples_saved = True

    def _save_probe(self) -> None:
        x, y = self._probe
        _save_npz(self.run_dir / PROBE_FILE, _flat_arrays("x", x) | _flat_arrays("y", y))
        self._probe_saved = True
        if self._probe_from_samples:
            self._note(
                f"No probe_data was given: the probe batch is the first {_num_samples(x)} of the "
                "samples."
            )

    def _save_model(self) -> None:
        started = time.perf_counter()
        temporary = self.run_dir / ".tmp-model.keras"
        try:
            self.model.save(temporary)
            os.replace(temporary, self.run_dir / MODEL_FILE)
        finally:
            with contextlib.suppress(OSError):
                temporary.unlink()
        self._model_saved = True
        self._time("model", started)

    def _prepare_probes(self) -> None:
        """Decides once per model which probes apply and builds them (traced on first use)."""
        if self._prepared_for is self.model:
            return
        self._prepared_for = self.model
        self._gradient_probe = self._activation_probe = self._attention_probe = None
        wanted = self.gradient_norms or self.activation_stats or self.attention_scores
        if self._probe is None:
            if wanted:
                self._note(
                    "No probe_data or samples were given, so gradient norms, activation "
                    "statistics and attention scores were skipped; pass probe_data=(x, y) to "
                    "record them."
                )
            return
        if self.gradient_norms:
            self._guard("gradient_norms", self._prepare_gradient_norms)
        if self.activation_stats:
            self._guard("activation_stats", self._prepare_activation_stats)
        if self.attention_scores:
            self._guard("attention_scores", self._prepare_attention)

    def _prepare_gradient_norms(self) -> None:
        x, y = self._probe
        if y is None:
            self._note("The probe batch has no targets (y), so gradient norms were skipped.")
        elif not self.model.trainable_variables:
            self._note("The model has no trainable variables, so gradient norms were skipped.")
        else:
            self._gradient_probe = _GradientProbe(self.model, x, y)

    def _prepare_activation_stats(self) -> None:
        plan, skipped = _activation_plan(self.model)
        if plan is None:
            self._note(skipped[0])
            return
        self._activation_probe = _ActivationProbe(plan, self._probe[0], self.saturation_threshold)
        if skipped:
            listed = ", ".join(skipped[:10])
            more = f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
            self._note(
                f"Activation statistics leave out {listed}{more} (shared layers, several "
                "outputs or non-float outputs)."
            )

    def _prepare_attention(self) -> None:
        layers = _attention_layers(self.model)
        if layers:
            x = _take(self._probe[0], MAX_ATTENTION_SAMPLES)
            self._attention_probe = _AttentionProbe(self.model, layers, x)

    # ----------------------------------------------------------------------------------------
    # Per epoch and per batch
    # ----------------------------------------------------------------------------------------

    def _write_epoch_scalars(self, epoch: int, logs: dict) -> None:
        for key, value in logs.items():
            number = _as_float(value)
            if number is None or key in ("learning_rate", "lr"):
                continue
            if key.startswith("val_"):
                group, tag = "validation", f"validation/{key[4:]}"
            else:
                group, tag = "train", f"train/{key}"
            self._summaries.scalar(tag, number)
            if tag not in self._tags[group]:
                self._tags[group].append(tag)

    def _write_learning_rate(self, epoch: int, logs: dict) -> None:
        optimizer = getattr(self.model, "optimizer", None)
        value = None
        if optimizer is not None and hasattr(optimizer, "learning_rate"):
            # The property evaluates a LearningRateSchedule at optimizer.iterations.
            value = _as_float(_to_numpy(optimizer.learning_rate))
        if value is None:
            value = _as_float(logs.get("learning_rate", logs.get("lr")))
        if value is not None:
            self._summaries.scalar("learning_rate", value)

    def _write_weight_histograms(self, epoch: int) -> None:
        started = time.perf_counter()
        variables = self.model.weights
        names = _unique_names([v.path for v in variables])
        values = self._variable_values()
        for name, variable in zip(names, variables, strict=True):
            value = values.get(id(variable))
            value = _to_numpy(variable) if value is None else value
            self._summaries.histogram(f"weights/{name}", _histogram_buckets(value))
        self._time("weight_histograms", started)

    def _write_gradient_norms(self, epoch: int) -> None:
        if self._gradient_probe is None:
            return
        started = time.perf_counter()
        names, norms = self._gradient_probe()
        for name, norm in zip(names, norms, strict=True):
            self._summaries.scalar(f"gradient_norm/{name}", float(norm))
        total = float(np.sqrt(np.sum(np.square(norms.astype(np.float64)))))
        self._summaries.scalar("gradient_norm/global", total)
        self._time("gradient_norms", started)

    def _write_activation_stats(self, epoch: int) -> None:
        if self._activation_probe is None:
            return
        started = time.perf_counter()
        results = self._activation_probe()
        arrays = {
            f"{name}/{statistic}": statistics[statistic].astype(np.float32)
            for name, statistics in results
            for statistic in ACTIVATION_STATISTICS
        }
        relative = f"{ACTIVATION_DIR}/{_epoch_name(epoch)}.npz"
        _save_npz(self.run_dir / relative, arrays)
        self._activation_files[epoch] = relative
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            for name, statistics in results:
                self._summaries.histogram(f"activations/{name}", statistics["histogram"])
        self._time("activation_stats", started)

    def _write_attention(self, epoch: int) -> None:
        if self._attention_probe is None:
            return
        started = time.perf_counter()
        scores = self._attention_probe()
        if scores:
            relative = f"{ATTENTION_DIR}/{_epoch_name(epoch)}.npz"
            _save_npz(
                self.run_dir / relative,
                {name: np.asarray(value, np.float16) for name, value in scores.items()},
            )
            self._attention_files[epoch] = relative
        self._time("attention_scores", started)

    def _save_checkpoint(self, epoch: int) -> None:
        started = time.perf_counter()
        folder = self.run_dir / CHECKPOINT_DIR
        folder.mkdir(exist_ok=True)
        name = INITIAL_CHECKPOINT if epoch < 0 else f"{_epoch_name(epoch)}.weights.h5"
        temporary = folder / f".tmp-{name}"
        try:
            self._write_weights(temporary)
            os.replace(temporary, folder / name)
        finally:
            with contextlib.suppress(OSError):
                temporary.unlink()
        self._checkpoints[epoch] = f"{CHECKPOINT_DIR}/{name}"
        if len(self._checkpoints) > self.max_checkpoints:
            kept = set(thin_checkpoints(sorted(self._checkpoints), self.max_checkpoints))
            for dropped in [e for e in self._checkpoints if e not in kept]:
                with contextlib.suppress(FileNotFoundError):
                    (self.run_dir / self._checkpoints[dropped]).unlink()
                del self._checkpoints[dropped]
        self._time("checkpoints", started)

    def _write_weights(self, path: Path) -> None:
        """The weights as ``model.save_weights`` writes them, plus variable paths, fast.

        ``model.save_weights`` walks the model's object graph on every call, which costs tens of
        milliseconds even for a small model; the walk's result (which variable goes into which
        dataset) is worked out once and replayed with h5py. Where it cannot be (a layer that
        saves computed arrays rather than variables), Keras writes the file itself.
        """
        model = self.model
        plan = self._checkpoint_plan
        if plan is None or not plan.matches(model):
            plan = self._checkpoint_plan = _CheckpointPlan.of(model)
        if plan.groups is None:
            self._note(
                "Checkpoints are written by model.save_weights: this model's weights could not "
                "be mapped for the faster writer (checkpoint files lack variable paths)."
            )
            model.save_weights(path)
        else:
            plan.write(path, self._variable_values())

    def _variable_values(self) -> dict[int, np.ndarray]:
        """The model's weights and optimizer variables now, read once per epoch (by ``id``)."""
        if self._values is None:
            model = self.model
            optimizer = getattr(model, "optimizer", None)
            variables, seen = [], set()
            for variable in [*model.weights, *(getattr(optimizer, "variables", None) or [])]:
                if id(variable) not in seen:
                    seen.add(id(variable))
                    variables.append(variable)
            reader = self._variable_reader
            if reader is None or reader.key != tuple(id(v) for v in variables):
                reader = self._variable_reader = _VariableReader(variables)
            self._values = reader()
        return self._values

    def _check_stop_file(self, when: str | None = None) -> None:
        if os.path.exists(os.path.join(self.run_dir, self.stop_file)):
            self.model.stop_training = True
            self._stopped = True
            if when is None:
                epoch = self._last_epoch + 1 if self._last_epoch is not None else 0
                when = f"during epoch {epoch}"
            self._note(f"Stopped by the stop file '{self.stop_file}' {when}.")

    # ----------------------------------------------------------------------------------------
    # Manifest, notes, failures
    # ----------------------------------------------------------------------------------------

    def _document(self) -> dict:
        def listed(files: dict[int, str]) -> list[dict]:
            return [{"epoch": epoch, "file": files[epoch]} for epoch in sorted(files)]

        return {
            "format": RUN_FORMAT,
            "version": RUN_FORMAT_VERSION,
            "status": self._status,
            "started": self._started,
            "updated": _now(),
            "epochs_completed": self._epochs_completed,
            "params": self._params,
            "hyperparameters": self._hyperparameters,
            "model": self._model_info,
            "model_file": MODEL_FILE if self._model_saved else None,
            "checkpoints": listed(self._checkpoints),
            "activations": listed(self._activation_files),
            "attention": listed(self._attention_files),
            "probe_file": PROBE_FILE if self._probe_saved else None,
            "samples_file": SAMPLES_FILE if self._samples_saved else None,
            "tags": {key: list(value) for key, value in self._tags.items()},
            "notes": list(self._notes),
        }

    def _write_manifest(self) -> None:
        started = time.perf_counter()
        text = json.dumps(self._document(), indent=1, allow_nan=False)
        temporary = self.run_dir / f".{RUN_MANIFEST_NAME}.tmp"
        temporary.write_text(text + "\n", encoding="utf-8")
        os.replace(temporary, self.run_dir / RUN_MANIFEST_NAME)
        self._time("manifest", started)

    def _note(self, message: str) -> None:
        if message not in self._notes:
            self._notes.append(message)
            del self._notes[:-MAX_NOTES]

    def _guard(self, part: str, function, *args) -> None:
        """Runs one part of the recorder; a failure turns that part off, never training."""
        if part in self._disabled:
            return
        try:
            function(*args)
        except Exception as error:  # the user's training matters more than the recording
            if part in _RETRIED_PARTS:
                self._note(f"Recording {part.replace('_', ' ')} failed: {_describe(error)}")
            else:
                self._disabled.add(part)
                self._note(
                    f"Recording {part.replace('_', ' ')} failed and was turned off: "
                    f"{_describe(error)}"
                )

    def _time(self, part: str, started: float) -> None:
        self.timings[part] = self.timings.get(part, 0.0) + time.perf_counter() - started


# --------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------


def thin_checkpoints(epochs: list[int], max_count: int) -> list[int]:
    """Which checkpoint epochs to keep so that at most ``max_count`` remain, evenly spread.

    The initial weights (epoch -1), the first and the latest epoch are always kept; each other
    slot goes to the epoch nearest to one of ``max_count - 3`` points spread evenly between the
    first and the latest epoch (the earlier on a tie).

    Args:
        epochs: The epochs that have a checkpoint.
        max_count: Most checkpoints to keep, at least 3.

    Returns:
        The epochs to keep, ascending.
    """
    epochs = sorted(set(epochs))
    if len(epochs) <= max_count:
        return epochs
    trained = [e for e in epochs if e >= 0]
    protected = {e for e in epochs if e < 0}
    if trained:
        protected |= {trained[0], trained[-1]}
    budget = max_count - len(protected)
    candidates = [e for e in epochs if e not in protected]
    kept = set(protected)
    if budget > 0 and trained:
        first, last = trained[0], trained[-1]
        for i in range(1, budget + 1):
            if not candidates:
                break
            target = first + i * (last - first) / (budget + 1)
            best = min(candidates, key=lambda e: (abs(e - target), e))
            candidates.remove(best)
            kept.add(best)
    return sorted(kept)


class _VariableReader:
    """The current values of many variables in one compiled call, not one eager read each."""

    def __init__(self, variables):
        self.variables = list(variables)
        self.key = tuple(id(v) for v in self.variables)
        self.function = None
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            self.function = tf.function(lambda: [tf.identity(v.value) for v in self.variables])

    def __call__(self) -> dict[int, np.ndarray]:
        if not self.variables:
            return {}
        if self.function is None:
            values = [_to_numpy(v) for v in self.variables]
        else:
            values = [np.asarray(value) for value in self.function()]
        return {id(v): value for v, value in zip(self.variables, values, strict=True)}


class _CheckpointPlan:
    """Which variable Keras's ``save_weights`` puts into which HDF5 dataset, worked out once."""

    def __init__(self, groups, counts):
        self.groups = groups  # [(group path, metadata, [(key, variable)])], or None: use Keras
        self.counts = counts

    @staticmethod
    def _counts(model) -> tuple[int, int]:
        optimizer = getattr(model, "optimizer", None)
        return len(model.weights), len(getattr(optimizer, "variables", None) or [])

    def matches(self, model) -> bool:
        return self.counts == self._counts(model)

    @classmethod
    def of(cls, model) -> _CheckpointPlan:
        counts = cls._counts(model)
        try:
            groups = _record_save_state(model)
        except Exception:  # a private Keras API changed, or a layer saves computed arrays
            groups = None
        return cls(groups, counts)

    def write(self, path: Path, values: dict[int, np.ndarray]) -> None:
        import h5py

        paths = []
        with h5py.File(path, "w") as handle:
            for group_path, metadata, items in self.groups:
                if not metadata and not items:
                    continue  # Keras creates no empty group without metadata
                parent = handle.require_group(group_path) if group_path else handle
                group = parent.create_group("vars")
                for key, value in (metadata or {}).items():
                    group.attrs[key] = value
                for key, variable in items:
                    value = values.get(id(variable))
                    group[key] = _to_numpy(variable) if value is None else value
                    paths.append([f"{group.name.lstrip('/')}/{key}", variable.path])
            handle.attrs[VARIABLE_PATHS_ATTRIBUTE] = json.dumps(paths)


def _record_save_state(model) -> list:
    """Replays Keras's weight-saving walk with a store that records instead of writing.

    Layers hand the store their variables; optimizers hand it ``variable.numpy()`` copies, which
    are matched back to ``optimizer.variables`` by index and checked value for value. Anything
    else cannot be replayed and raises.
    """
    from keras.src.saving import saving_lib

    optimizers = []
    optimizer = getattr(model, "optimizer", None)
    while optimizer is not None and optimizer not in optimizers:
        optimizers.append(optimizer)
        optimizer = getattr(optimizer, "inner_optimizer", None)

    class RecordingStore(saving_lib.H5IOStore):
        def __init__(self):
            super().__init__(io.BytesIO(), mode="w")
            self.groups: list = []

        def make(self, path, metadata=None):
            self.groups.append((path, dict(metadata) if metadata else None, []))
            return self

        def __setitem__(self, key, value):
            path, metadata, items = self.groups[-1]
            if not isinstance(value, keras.Variable):
                value = self._optimizer_variable(path, metadata, key, value)
            if value.dtype == "bfloat16":
                raise TypeError("bfloat16 variables are stored specially")
            items.append((key, value))

        def _optimizer_variable(self, path, metadata, key, value):
            name = (metadata or {}).get("name")
            for candidate in optimizers:
                if name == candidate.name and str(key).isdigit():
                    variables = candidate.variables
                    index = int(key)
                    if index < len(variables):
                        variable = variables[index]
                        array = np.asarray(value)
                        current = _to_numpy(variable)
                        if (
                            array.shape == current.shape
                            and array.dtype == current.dtype
                            and np.array_equal(array, current, equal_nan=True)
                        ):
                            return variable
            raise TypeError(f"'{path}/vars/{key}' is not a variable")

    store = RecordingStore()
    try:
        saving_lib._save_state(
            model, weights_store=store, assets_store=None, inner_path="", visited_saveables=set()
        )
    finally:
        store.h5_file.close()
    return store.groups


# --------------------------------------------------------------------------------------------
# Probes: gradient norms, activations, attention
# --------------------------------------------------------------------------------------------


class _GradientProbe:
    """L2 norms of the loss gradient per trainable variable on the probe batch, one tf.function."""

    def __init__(self, model, x, y):
        import tensorflow as tf

        if keras.backend.backend() != "tensorflow":
            raise RuntimeError("gradient norms need the TensorFlow backend")
        self.model = model
        self.variables = list(model.trainable_variables)
        self.names = _unique_names([v.path for v in self.variables])
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


def _activation_plan(model):
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


class _ActivationProbe:
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


def _attention_layers(model) -> list:
    return [
        layer for layer in _all_layers(model) if isinstance(layer, keras.layers.MultiHeadAttention)
    ]


class _AttentionProbe:
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
        base = _unique_names([layer.name for layer in self.layers])
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


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _mark_failed_at_exit(reference) -> None:
    """At interpreter exit during fit (an uncaught exception, an interrupt): status "failed"."""
    recorder = reference()
    if recorder is None or not recorder._fit_running:
        return
    recorder._status = "failed"
    recorder._note("The process exited while training was running (an exception or an interrupt).")
    with contextlib.suppress(Exception):
        recorder._close_writer()
    with contextlib.suppress(Exception):
        recorder._write_manifest()


def _inference(model) -> dict:
    """``training=False`` where the model's ``call`` takes it (a subclass's may not)."""
    return {"training": False} if getattr(model, "_call_has_training_arg", True) else {}


def _describe(error: BaseException) -> str:
    """One line on an error; a tf.function error's message starts with its traceback."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    line = lines[-1] if lines[0].startswith("in user code") else lines[0]
    name = type(error).__name__
    return _short(line) if line.startswith(f"{name}:") else f"{name}: {_short(line)}"


def _check_int(name: str, value, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(
            f"Expected {name} to be an integer >= {minimum}. Received: {name}={value!r}"
        )


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _epoch_name(epoch: int) -> str:
    return f"epoch_{epoch:04d}"


def _as_float(value) -> float | None:
    try:
        array = np.asarray(value)
    except Exception:
        return None
    if array.size != 1 or array.dtype.kind not in "biuf":
        return None
    return float(array.reshape(()))


def _to_numpy(value) -> np.ndarray:
    # keras.ops.convert_to_numpy(variable) goes through np.array(variable), which NumPy 2
    # deprecates for TensorFlow variables; Variable.numpy() does not.
    if isinstance(value, keras.Variable) or hasattr(value, "numpy"):
        return np.asarray(value.numpy())
    return np.asarray(keras.ops.convert_to_numpy(value))


def _unique_names(names: list[str]) -> list[str]:
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


class _SummaryQueue:
    """Scalars and histograms of one step, written by one compiled function, not op by op.

    Each eager ``tf.summary`` call costs about half a millisecond; an epoch writes dozens. The
    function writes what ``tf.summary.scalar`` and ``tf.summary.histogram`` write (a float32
    scalar or a (k, 3) float64 tensor with TensorBoard's plugin metadata) through
    ``tf.summary.write``, which, unlike them, takes the tag as given (no name-scope prefix).
    TensorFlow keeps the writes in program order. Traced once per set of tags.
    """

    MAX_FUNCTIONS = 64

    def __init__(self, writer=None):
        self.writer = writer
        self.items: list[tuple[str, str, np.ndarray]] = []
        self.functions: dict = {}

    def clear(self) -> None:
        self.items = []

    def scalar(self, tag: str, value: float) -> None:
        self.items.append((tag, "scalar", np.float32(value)))

    def histogram(self, tag: str, buckets: np.ndarray) -> None:
        self.items.append((tag, "histogram", np.asarray(buckets, np.float64)))

    def write(self, step: int) -> None:
        items, self.items = self.items, []
        if not items or self.writer is None:
            return
        import tensorflow as tf

        key = tuple((tag, kind, value.shape) for tag, kind, value in items)
        function = self.functions.get(key)
        if function is None:
            if len(self.functions) >= self.MAX_FUNCTIONS:
                self.functions.clear()
            function = self.functions[key] = _summary_function(self.writer, key)
        function([value for _, _, value in items], tf.constant(step, tf.int64))


class _BatchScalars:
    """Batch scalars, kept as numbers and written in one compiled call per epoch (or sooner).

    Keras only hands callbacks each batch's logs, so a batch costs a list append here; the
    buffer is written with the same ``tf.summary.scalar`` ops, step by step, when the epoch ends,
    when training ends, and at least every ``FLUSH_SECONDS`` for a live view of long epochs.
    """

    FLUSH_SECONDS = 5.0
    MAX_BUFFERED = 10_000

    def __init__(self, writer=None):
        self.writer = writer
        self.steps: list[int] = []
        self.rows: list[tuple[tuple[str, ...], list[float]]] = []
        self.functions: dict = {}
        self.flushed = time.monotonic()

    def add(self, step: int, logs: dict) -> None:
        numbers = {key: _as_float(value) for key, value in logs.items()}
        tags = tuple(f"batch/{key}" for key, value in numbers.items() if value is not None)
        self.steps.append(step)
        self.rows.append((tags, [value for value in numbers.values() if value is not None]))
        if (
            len(self.steps) >= self.MAX_BUFFERED
            or time.monotonic() - self.flushed > self.FLUSH_SECONDS
        ):
            self.write()
            if self.writer is not None:
                self.writer.flush()

    def write(self) -> None:
        steps, rows = self.steps, self.rows
        self.steps, self.rows, self.flushed = [], [], time.monotonic()
        if self.writer is None or not steps:
            return
        import tensorflow as tf

        start = 0
        while start < len(rows):  # runs of batches with the same tags
            tags = rows[start][0]
            end = start
            while end < len(rows) and rows[end][0] == tags:
                end += 1
            if tags:
                function = self.functions.get(tags)
                if function is None:
                    function = self.functions[tags] = _batch_function(self.writer, tags)
                values = np.array([row[1] for row in rows[start:end]], dtype=np.float32)
                function(tf.constant(values), tf.constant(steps[start:end], tf.int64))
            start = end


def _batch_function(writer, tags: tuple[str, ...]):
    import tensorflow as tf

    metadata = _scalar_metadata()

    @tf.function
    def write(values, steps):
        with writer.as_default():
            for row in tf.range(tf.shape(steps)[0]):
                for column, tag in enumerate(tags):
                    tf.summary.write(tag, values[row, column], step=steps[row], metadata=metadata)

    return write


def _summary_function(writer, entries):
    import tensorflow as tf

    metadata = {"scalar": _scalar_metadata(), "histogram": _histogram_metadata()}

    @tf.function
    def write(values, step):
        with writer.as_default():
            for (tag, kind, _), value in zip(entries, values, strict=True):
                tf.summary.write(tag, value, step=step, metadata=metadata[kind])

    return write


@functools.cache
def _scalar_metadata():
    from tensorboard.plugins.scalar import metadata

    return metadata.create_summary_metadata(display_name=None, description=None)


@functools.cache
def _histogram_metadata():
    from tensorboard.plugins.histogram import metadata

    return metadata.create_summary_metadata(display_name=None, description=None)


def _histogram_buckets(values, bucket_count: int = HISTOGRAM_BUCKETS) -> np.ndarray:
    data = np.asarray(values, dtype=np.float64).reshape(-1)
    data = data[np.isfinite(data)] if not np.isfinite(data).all() else data
    if data.size == 0:
        return np.zeros((bucket_count, 3))
    low, high = float(data.min()), float(data.max())
    if high == low:
        buckets = np.zeros((bucket_count, 3))
        buckets[:, :2] = low
        buckets[-1, 2] = data.size
        return buckets
    width = (high - low) / bucket_count
    indices = np.minimum(np.floor((data - low) / width).astype(np.int64), bucket_count - 1)
    counts = np.bincount(indices, minlength=bucket_count).astype(np.float64)
    edges = np.linspace(low, high, bucket_count + 1)
    return np.stack([edges[:-1], edges[1:], counts], axis=1)


def _unpack(data):
    """Keras's convention: a tuple is (x,), (x, y) or (x, y, sample_weight); anything else is x."""
    if isinstance(data, tuple):
        if len(data) == 1:
            return data[0], None
        if len(data) in (2, 3):
            return data[0], data[1]
    return data, None


def _is_dataset(data) -> bool:
    return type(data).__module__.startswith("tensorflow") and hasattr(data, "element_spec")


def _take(structure, count: int):
    return keras.tree.map_structure(lambda array: array[:count], structure)


def _num_samples(structure) -> int:
    leaves = keras.tree.flatten(structure)
    return int(leaves[0].shape[0]) if leaves else 0


def _first_samples(data, count: int, what: str):
    """(x, y) as NumPy structures holding the first ``count`` samples, or None."""
    if data is None:
        return None
    if _is_dataset(data):
        xs, ys, seen = [], [], 0
        for element in data:
            x, y = _unpack(element)
            xs.append(keras.tree.map_structure(np.asarray, x))
            ys.append(None if y is None else keras.tree.map_structure(np.asarray, y))
            seen += _num_samples(xs[-1])
            if seen >= count:
                break
        if not xs:
            raise ValueError(
                f"Expected {what} with at least one sample. Received: an empty dataset."
            )
        x = keras.tree.map_structure(lambda *parts: np.concatenate(parts), *xs)
        y = None if ys[0] is None else keras.tree.map_structure(lambda *p: np.concatenate(p), *ys)
    else:
        x, y = _unpack(data)
    try:
        x = keras.tree.map_structure(lambda a: _plain_array(a)[:count], x)
        y = None if y is None else keras.tree.map_structure(lambda a: _plain_array(a)[:count], y)
    except Exception as error:
        raise ValueError(
            f"Expected {what} to be x or (x, y) of arrays (or lists/dicts of arrays). "
            f"Received: {type(data).__name__} ({error})"
        ) from None
    leaves = keras.tree.flatten(x) + (keras.tree.flatten(y) if y is not None else [])
    if not leaves or any(leaf.ndim == 0 for leaf in leaves):
        raise ValueError(
            f"Expected {what} arrays with a sample axis. Received: {type(data).__name__}"
        )
    sizes = {int(leaf.shape[0]) for leaf in leaves}
    if len(sizes) != 1 or 0 in sizes:
        raise ValueError(
            f"Expected {what} arrays with the same, non-zero number of samples. "
            f"Received sample counts {sorted(sizes)}."
        )
    if any(leaf.dtype.kind == "O" for leaf in leaves):
        raise ValueError(f"Expected {what} arrays of numbers or strings, not Python objects.")
    return x, y


def _plain_array(value) -> np.ndarray:
    """An array NumPy can save without pickling: TensorFlow's string tensors become str arrays."""
    array = np.asarray(value)
    if array.dtype == object and all(isinstance(v, bytes | str) for v in array.flat):
        text = [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in array.flat]
        array = np.array(text, dtype=str).reshape(array.shape)
    return array


def _flat_arrays(prefix: str, value) -> dict[str, np.ndarray]:
    """``x`` for one array; ``x/0``, ``x/1`` or ``x/<key>`` for lists and dicts of arrays."""
    if value is None:
        return {}
    if isinstance(value, dict):
        items = [(f"{prefix}/{key}", item) for key, item in value.items()]
    elif isinstance(value, list | tuple):
        items = [(f"{prefix}/{index}", item) for index, item in enumerate(value)]
    else:
        return {prefix: np.asarray(value)}
    arrays: dict[str, np.ndarray] = {}
    for key, item in items:
        arrays.update(_flat_arrays(key, item))
    return arrays


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez`` into a hidden temporary file, then renamed: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.parent / f".tmp-{path.name}"
    try:
        with open(temporary, "wb") as handle:
            np.savez(handle, **arrays)
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()


def _json_safe(value, depth: int = 0):
    """Plain JSON values: numbers, strings, lists, dicts; anything else as its short repr."""
    if depth > 32:
        return _short(repr(value), 200)
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, np.generic):
        return _json_safe(value.item(), depth + 1)
    if isinstance(value, np.ndarray):
        if value.size <= 1000:
            return _json_safe(value.tolist(), depth + 1)
        return f"array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, dict):
        return {str(key): _json_safe(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(item, depth + 1) for item in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return _short(repr(value), 200)
