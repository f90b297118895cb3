"""The paper's Python API: publication figures from a training history and a model.

    >>> from neurogenesis.visualization import TrainingVisualizer
    >>> visualizer = TrainingVisualizer(history)   # a Keras History, a dict, a DataFrame, a log path
    >>> visualizer.plot_metric_correlation_heatmap()
    >>> visualizer.save_figure("metric_correlation_heatmap", "figures/correlation", "png")

A facade: every figure is an ``analysis`` info drawn by a ``plotting`` function, the same ones the
dashboard and the command line use.
"""

from __future__ import annotations

from neurogenesis.visualization.training_curves import TrainingVisualizer

__all__ = ["TrainingVisualizer"]
