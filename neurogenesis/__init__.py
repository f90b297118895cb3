"""NeuroGenesis: see inside Keras models.

The public API. Importing the package is cheap: TensorFlow and Keras load on first use of
something that needs them, so the dashboard's home page and ``neurogenesis logs`` never pay for it.

    >>> import neurogenesis
    >>> runs = neurogenesis.find_runs("logs/")          # TensorBoard, CSVLogger, JSON history
    >>> model = neurogenesis.load_model("model.keras")  # pre-scanned, safe_mode=True
    >>> visualizer = neurogenesis.TrainingVisualizer(history)  # the paper's figures
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# name -> module that defines it; resolved lazily by __getattr__.
_EXPORTS = {
    "InputError": "neurogenesis.errors",
    "UnsafeModelError": "neurogenesis.errors",
    "UnsupportedModelError": "neurogenesis.errors",
    "find_runs": "neurogenesis.io.logs",
    "read_run": "neurogenesis.io.logs",
    "Run": "neurogenesis.io.logs",
    "ScalarSeries": "neurogenesis.io.logs",
    "HistogramSeries": "neurogenesis.io.logs",
    "Problem": "neurogenesis.io.logs",
    "load_model": "neurogenesis.io.models",
    "scan_model_file": "neurogenesis.io.models",
    "ModelCard": "neurogenesis.io.models",
    "load_samples": "neurogenesis.io.samples",
    "SampleSet": "neurogenesis.io.samples",
    "architecture_summary": "neurogenesis.analysis.architecture",
    "RunRecorder": "neurogenesis.recording",
    "read_recording": "neurogenesis.io.recordings",
    "Recording": "neurogenesis.io.recordings",
    "TrainingVisualizer": "neurogenesis.visualization.training_curves",
    "export_session": "neurogenesis.plotting.export",
    "write_figure": "neurogenesis.plotting.export",
    "paper_figures": "neurogenesis.figures",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'neurogenesis' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
