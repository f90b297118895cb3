"""Recording a training run: :class:`RunRecorder`, the Keras callback that writes a run folder.

The package splits the recorder by what it does: :mod:`.recorder` (the callback, its manifest
and its life cycle), :mod:`.probes` (gradient norms, activation statistics and attention scores
on the probe batch), :mod:`.checkpoints` (weights per epoch), :mod:`.summaries` (TensorBoard
scalars and histograms) and :mod:`.arrays` (samples, ``.npz`` files, JSON). The folder's file
names live in :mod:`neurogenesis.io.run_folder`; ``neurogenesis.RunRecorder`` re-exports the
callback.

Importing this package imports Keras.
"""

from __future__ import annotations

from neurogenesis.recording.checkpoints import thin_checkpoints
from neurogenesis.recording.recorder import (
    DEFAULT_MAX_CHECKPOINTS,
    DEFAULT_PROBE_SIZE,
    DEFAULT_SAMPLE_SIZE,
    DEFAULT_SATURATION_THRESHOLD,
    METRICS_ONLY,
    RunRecorder,
)

__all__ = [
    "DEFAULT_MAX_CHECKPOINTS",
    "DEFAULT_PROBE_SIZE",
    "DEFAULT_SAMPLE_SIZE",
    "DEFAULT_SATURATION_THRESHOLD",
    "METRICS_ONLY",
    "RunRecorder",
    "thin_checkpoints",
]
