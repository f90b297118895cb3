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
import json
import os
import time
import weakref
from pathlib import Path
from types import MappingProxyType
from typing import Any

import keras
import numpy as np

from neurogenesis.io.recordings import (
    ACTIVATION_STATISTICS,
    RUN_FORMAT,
    RUN_FORMAT_VERSION,
    read_recording,
)
from neurogenesis.io.run_folder import (
    ACTIVATION_DIR,
    ATTENTION_DIR,
    CHECKPOINT_DIR,
    INITIAL_CHECKPOINT,
    MODEL_FILE,
    PROBE_FILE,
    RUN_MANIFEST_NAME,
    SAMPLES_FILE,
    STOP_FILE,
)
from neurogenesis.recording.arrays import (
    as_float,
    first_samples,
    flat_arrays,
    json_safe,
    num_samples,
    save_npz,
    short_text,
    take,
    to_numpy,
)
from neurogenesis.recording.checkpoints import CheckpointPlan, VariableReader, thin_checkpoints
from neurogenesis.recording.probes import (
    ActivationProbe,
    AttentionProbe,
    GradientProbe,
    activation_plan,
    attention_layers,
    unique_names,
)
from neurogenesis.recording.summaries import (
    BatchScalars,
    SummaryQueue,
    histogram_buckets,
)

__all__ = [
    "DEFAULT_MAX_CHECKPOINTS",
    "DEFAULT_PROBE_SIZE",
    "DEFAULT_SAMPLE_SIZE",
    "DEFAULT_SATURATION_THRESHOLD",
    "METRICS_ONLY",
    "RunRecorder",
]

DEFAULT_PROBE_SIZE = 64
DEFAULT_SAMPLE_SIZE = 256
DEFAULT_MAX_CHECKPOINTS = 30
DEFAULT_SATURATION_THRESHOLD = 0.99
DEFAULT_STOP_FILE = STOP_FILE
MAX_ATTENTION_SAMPLES = 16
MAX_NOTES = 200
METRICS_ONLY = MappingProxyType(
    {
        "histogram_freq": 0,
        "checkpoint_freq": 0,
        "gradient_norms": False,
        "activation_stats": False,
        "attention_scores": False,
        "save_model": False,
    }
)
"""``RunRecorder`` arguments that record metrics only: no histograms, checkpoints, activations,
attention, gradient norms or model file (a sweep point, a quick test)."""

# Parts of the recorder tried again after a failure (a full disk may be emptied); any other part
# that fails is turned off for the rest of the run.
_RETRIED_PARTS = frozenset({"manifest", "summaries", "scalars", "learning_rate", "close"})


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
        self.hyperparameters = json_safe(dict(hyperparameters or {}))
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

        self._samples = first_samples(samples, sample_size, "samples")
        self._probe = first_samples(probe_data, probe_size, "probe_data")
        self._probe_from_samples = False
        if self._probe is None and self._samples is not None:
            x, y = self._samples
            self._probe = (take(x, probe_size), None if y is None else take(y, probe_size))
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
        self._nonfinite: set[str] = set()
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
        self._summaries = SummaryQueue()
        self._batch_scalars = BatchScalars()
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
        self._params = json_safe(dict(self.params or {}))
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
                    "optimizer_config", json_safe((inner or optimizer).get_config())
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
        self._summaries = SummaryQueue(self._writer)
        self._batch_scalars = BatchScalars(self._writer)

    def _close_writer(self) -> None:
        if self._writer is not None and "batch_scalars" not in self._disabled:
            self._guard("batch_scalars", self._batch_scalars.write)
        writer, self._writer = self._writer, None
        self._summaries = SummaryQueue()
        self._batch_scalars = BatchScalars()
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
        save_npz(self.run_dir / SAMPLES_FILE, flat_arrays("x", x) | flat_arrays("y", y))
        self._samples_saved = True

    def _save_probe(self) -> None:
        x, y = self._probe
        save_npz(self.run_dir / PROBE_FILE, flat_arrays("x", x) | flat_arrays("y", y))
        self._probe_saved = True
        if self._probe_from_samples:
            self._note(
                f"No probe_data was given: the probe batch is the first {num_samples(x)} of the "
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
            self._gradient_probe = GradientProbe(self.model, x, y)

    def _prepare_activation_stats(self) -> None:
        plan, skipped = activation_plan(self.model)
        if plan is None:
            self._note(skipped[0])
            return
        self._activation_probe = ActivationProbe(plan, self._probe[0], self.saturation_threshold)
        if skipped:
            listed = ", ".join(skipped[:10])
            more = f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
            self._note(
                f"Activation statistics leave out {listed}{more} (shared layers, several "
                "outputs or non-float outputs)."
            )

    def _prepare_attention(self) -> None:
        layers = attention_layers(self.model)
        if layers:
            x = take(self._probe[0], MAX_ATTENTION_SAMPLES)
            self._attention_probe = AttentionProbe(self.model, layers, x)

    # ----------------------------------------------------------------------------------------
    # Per epoch and per batch
    # ----------------------------------------------------------------------------------------

    def _write_epoch_scalars(self, epoch: int, logs: dict) -> None:
        for key, value in logs.items():
            number = as_float(value)
            if number is None or key in ("learning_rate", "lr"):
                continue
            if not np.isfinite(number) and key not in self._nonfinite:
                # Recorded as it is (a diverged run); the first one per metric is also a note.
                self._nonfinite.add(key)
                self._note(f"{key} became {number} at epoch {epoch} (its first non-finite value).")
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
            value = as_float(to_numpy(optimizer.learning_rate))
        if value is None:
            value = as_float(logs.get("learning_rate", logs.get("lr")))
        if value is not None:
            self._summaries.scalar("learning_rate", value)

    def _write_weight_histograms(self, epoch: int) -> None:
        started = time.perf_counter()
        variables = self.model.weights
        names = unique_names([v.path for v in variables])
        values = self._variable_values()
        for name, variable in zip(names, variables, strict=True):
            value = values.get(id(variable))
            value = to_numpy(variable) if value is None else value
            self._summaries.histogram(f"weights/{name}", histogram_buckets(value))
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
        save_npz(self.run_dir / relative, arrays)
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
            save_npz(
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
            plan = self._checkpoint_plan = CheckpointPlan.of(model)
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
                reader = self._variable_reader = VariableReader(variables)
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


def _describe(error: BaseException) -> str:
    """One line on an error; a tf.function error's message starts with its traceback."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    line = lines[-1] if lines[0].startswith("in user code") else lines[0]
    name = type(error).__name__
    return short_text(line) if line.startswith(f"{name}:") else f"{name}: {short_text(line)}"


def _check_int(name: str, value, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(
            f"Expected {name} to be an integer >= {minimum}. Received: {name}={value!r}"
        )


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")


def _epoch_name(epoch: int) -> str:
    return f"epoch_{epoch:04d}"
