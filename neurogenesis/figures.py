"""The paper's eight figures, regenerated from the demo zoo (``neurogenesis figures --out DIR``).

Every figure goes through :class:`~neurogenesis.visualization.TrainingVisualizer`, the paper's
Python API, so the command, the API and the dashboard draw the same pictures from the same
analyses. The demo artifacts it reads are the ones ``neurogenesis demo`` writes:

==================================  ===========================================================
fig1_loss_landscape                 ``models/digits_cnn.keras`` on ``data/samples/digits_cnn.npz``,
                                    the plane of the top two principal directions of the
                                    ``data/runs/digits_cnn/adam`` run's checkpoints, its path on it
fig2_metric_correlation             that run's per-epoch metrics
fig3_training_dynamics              that run's loss against its accuracy, over the epochs
fig4_hyperparameter_surface         the ``data/sweeps/digits_cnn`` sweep (learning rate x width)
fig5_model_complexity               ``models/digits_cnn.keras`` on the complexity radar
fig6_system_architecture            ``models/sentiment_transformer.keras``'s layer graph
fig7_convergence_analysis           the run's validation loss, fitted
fig8_attention_evolution            ``data/runs/sentiment_transformer/adam``'s recorded attention
==================================  ===========================================================

Static images (PNG, SVG, PDF) are all rendered by one browser (:func:`~neurogenesis.plotting.
export.export_session`). Without kaleido or a browser the HTML files are still written and each
figure says which formats were skipped and why.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neurogenesis.errors import ExportUnavailableError, InputError

__all__ = [
    "DEFAULT_FORMATS",
    "PAPER_FIGURES",
    "FigureResult",
    "demo_root",
    "paper_figures",
]

DEFAULT_FORMATS = ("png", "html")
DEFAULT_LANDSCAPE_RESOLUTION = 21  # odd: the trained weights are a node of the grid
DEFAULT_LANDSCAPE_SAMPLES = 512
DEFAULT_SCALE = 2
CNN = "digits_cnn"
TRANSFORMER = "sentiment_transformer"
RUN = "adam"
ATTENTION_SAMPLE = 0
CORRELATED_METRICS = ("loss", "accuracy", "val_loss", "val_accuracy", "gradient_norm/global")

# (file name, what it shows), in the paper's order.
PAPER_FIGURES = (
    ("fig1_loss_landscape", "loss landscape"),
    ("fig2_metric_correlation", "metric correlation"),
    ("fig3_training_dynamics", "training dynamics"),
    ("fig4_hyperparameter_surface", "hyperparameter surface"),
    ("fig5_model_complexity", "model complexity"),
    ("fig6_system_architecture", "system architecture"),
    ("fig7_convergence_analysis", "convergence analysis"),
    ("fig8_attention_evolution", "attention evolution"),
)


@dataclass(frozen=True)
class FigureResult:
    """What became of one figure.

    Attributes:
        name: its file name without extension (``fig1_loss_landscape``).
        title: what it shows.
        paths: the files written.
        skipped: ``format -> why`` for formats that could not be written here (PNG without a
            browser).
        error: why the figure itself could not be made, else None.
        seconds: the time it took, export included.
        figure: the plotly figure (None when it could not be made).
        info: the analysis info it was drawn from (a ``LandscapeInfo``, ``CorrelationInfo``...).
    """

    name: str
    title: str
    paths: tuple[Path, ...] = ()
    skipped: dict = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0
    figure: Any = field(default=None, repr=False, compare=False)
    info: Any = field(default=None, repr=False, compare=False)


def demo_root() -> Path:
    """The folder holding the demo zoo's ``models/`` and ``data/`` (the repository's root)."""
    return Path(__file__).resolve().parent.parent


class _Demo:
    """The demo artifacts, each loaded once and only when a figure needs it."""

    def __init__(self, root: Path, style: str, resolution: int, num_samples: int):
        self.root = root
        self.style = style
        self.resolution = resolution
        self.num_samples = num_samples
        self._cache: dict[str, Any] = {}

    def path(self, *parts: str) -> Path:
        path = self.root.joinpath(*parts)
        if not path.exists():
            raise InputError(
                f"Expected the demo zoo's '{Path(*parts)}' under '{self.root}'. Received: no such "
                "file; rebuild the demos with `neurogenesis demo` or pass --root."
            )
        return path

    def _once(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def model(self, scenario: str):
        from neurogenesis.io.models import load_model

        return self._once(
            f"model {scenario}", lambda: load_model(self.path("models", f"{scenario}.keras"))
        )

    def samples(self, scenario: str):
        from neurogenesis.io.samples import load_samples

        return self._once(
            f"samples {scenario}",
            lambda: load_samples(self.path("data", "samples", f"{scenario}.npz")),
        )

    def visualizer(self, scenario: str):
        from neurogenesis.visualization import TrainingVisualizer

        return self._once(
            f"visualizer {scenario}",
            lambda: TrainingVisualizer(self.path("data", "runs", scenario, RUN), style=self.style),
        )


def _made(visualizer, figure) -> tuple[Any, Any]:
    """The figure and the info the visualizer drew it from."""
    name = next(name for name, made in visualizer.figures.items() if made is figure)
    return figure, visualizer.infos[name]


def _landscape(demo: _Demo):
    from neurogenesis.io.models import training_setup

    samples = demo.samples(CNN)
    visualizer = demo.visualizer(CNN)
    return _made(
        visualizer,
        visualizer.plot_loss_landscape_3d(
            demo.model(CNN),
            samples.x,
            samples.y,
            directions="pca",
            n_points=demo.resolution,
            loss=training_setup(demo.path("models", f"{CNN}.keras")).loss,
            num_samples=demo.num_samples,
            run_dir=demo.path("data", "runs", CNN, RUN),
        ),
    )


def _correlation(demo: _Demo):
    visualizer = demo.visualizer(CNN)
    return _made(
        visualizer,
        visualizer.plot_metric_correlation_heatmap(
            [name for name in CORRELATED_METRICS if name in visualizer.metrics]
        ),
    )


def _dynamics(demo: _Demo):
    visualizer = demo.visualizer(CNN)
    return _made(visualizer, visualizer.plot_training_dynamics_3d(["loss", "accuracy"]))


def _hyperparameters(demo: _Demo):
    import numpy as np

    from neurogenesis.io.run_folder import SWEEP_FILE
    from neurogenesis.io.trials import read_trials

    trials = read_trials(demo.path("data", "sweeps", CNN, SWEEP_FILE))
    grid = {}
    for name in trials.parameters:
        values = trials.parameter_values[name]
        known = values[np.isfinite(values)] if values.dtype.kind == "f" else values
        grid[name] = sorted(set(known.tolist()))
    visualizer = demo.visualizer(CNN)
    return _made(
        visualizer,
        visualizer.plot_hyperparameter_optimization_surface(
            grid, trials.to_frame(), target_metric=trials.metric
        ),
    )


def _complexity(demo: _Demo):
    samples = demo.samples(CNN)
    visualizer = demo.visualizer(CNN)
    return _made(
        visualizer, visualizer.plot_model_complexity_analysis(demo.model(CNN), samples.x, samples.y)
    )


def _architecture(demo: _Demo):
    visualizer = demo.visualizer(CNN)
    return _made(visualizer, visualizer.plot_model_architecture(demo.model(TRANSFORMER)))


def _convergence(demo: _Demo):
    visualizer = demo.visualizer(CNN)
    return _made(visualizer, visualizer.plot_convergence_analysis("val_loss"))


def _attention(demo: _Demo):
    vocabulary = demo.samples(TRANSFORMER).extras.get("vocabulary")
    words = None if vocabulary is None else [str(word) for word in vocabulary.reshape(-1)]
    visualizer = demo.visualizer(TRANSFORMER)
    return _made(
        visualizer, visualizer.plot_attention_evolution(sample=ATTENTION_SAMPLE, vocabulary=words)
    )


_MAKERS: dict[str, Callable[[_Demo], tuple[Any, Any]]] = {
    "fig1_loss_landscape": _landscape,
    "fig2_metric_correlation": _correlation,
    "fig3_training_dynamics": _dynamics,
    "fig4_hyperparameter_surface": _hyperparameters,
    "fig5_model_complexity": _complexity,
    "fig6_system_architecture": _architecture,
    "fig7_convergence_analysis": _convergence,
    "fig8_attention_evolution": _attention,
}


def _check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    from neurogenesis.plotting.export import FIGURE_FORMATS

    chosen = tuple(
        dict.fromkeys(str(f).strip().lower().lstrip(".") for f in formats if str(f).strip())
    )
    unknown = [f for f in chosen if f not in FIGURE_FORMATS]
    if unknown or not chosen:
        raise InputError(
            f"Expected formats from {', '.join(FIGURE_FORMATS)}. Received: "
            f"{', '.join(map(str, formats)) or 'none'}"
        )
    return chosen


def paper_figures(
    out: str | os.PathLike,
    *,
    style: str = "default",
    formats: Sequence[str] = DEFAULT_FORMATS,
    resolution: int = DEFAULT_LANDSCAPE_RESOLUTION,
    num_samples: int = DEFAULT_LANDSCAPE_SAMPLES,
    scale: float = DEFAULT_SCALE,
    width: int | None = None,
    root: str | os.PathLike | None = None,
    progress: Callable[[FigureResult], None] | None = None,
) -> list[FigureResult]:
    """Writes the paper's eight figures to ``out`` as ``<name>.<format>`` for each format.

    A figure that cannot be made (a demo artifact missing) is reported in its result and the
    others are still written; a static format that cannot be exported here (no kaleido, no
    browser) is skipped with the reason, and HTML is still written.

    Args:
        out: the folder (created if missing).
        style: ``'default'`` or ``'publication'`` (white background, larger fonts,
            colour-blind-safe colours).
        formats: any of ``png``, ``svg``, ``pdf``, ``html``.
        resolution: the loss landscape's grid points per side (3 to 101).
        num_samples: samples the loss landscape averages over (1 to 4096).
        scale: pixel density of PNGs.
        width: image width in pixels (default 1200).
        root: the folder with the demo zoo's ``models/`` and ``data/`` (default: the repository).
        progress: called with each figure's result as soon as it is done.

    Returns:
        One :class:`FigureResult` per figure, in the paper's order.

    Raises:
        InputError: an unknown style or format, a bad resolution or sample count.
    """
    from neurogenesis.analysis.landscape import MAX_NUM_SAMPLES, check_grid
    from neurogenesis.plotting.export import export_session, figure_bytes
    from neurogenesis.plotting.style import STYLES

    if style not in STYLES:
        raise InputError(f"Expected a style in {list(STYLES)}. Received: {style!r}")
    chosen = _check_formats(formats)
    check_grid(resolution, 1.0)
    if not 1 <= int(num_samples) <= MAX_NUM_SAMPLES:
        raise InputError(
            f"Expected a sample count between 1 and {MAX_NUM_SAMPLES}. Received: {num_samples}."
        )
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    demo = _Demo(Path(root) if root else demo_root(), style, int(resolution), int(num_samples))
    results = []
    unavailable: dict[str, str] = {}  # a format that failed once fails for every figure
    with export_session():
        for name, title in PAPER_FIGURES:
            start = time.perf_counter()
            try:
                figure, info = _MAKERS[name](demo)
            except InputError as error:
                result = FigureResult(name, title, error=str(error))
            else:
                paths, skipped = [], {}
                for fmt in chosen:
                    if fmt in unavailable:
                        skipped[fmt] = unavailable[fmt]
                        continue
                    try:
                        data = figure_bytes(figure, fmt, width=width, scale=scale)
                    except ExportUnavailableError as error:
                        skipped[fmt] = unavailable[fmt] = str(error)
                        continue
                    path = folder / f"{name}.{fmt}"
                    path.write_bytes(data)
                    paths.append(path)
                result = FigureResult(
                    name,
                    title,
                    tuple(paths),
                    skipped,
                    seconds=time.perf_counter() - start,
                    figure=figure,
                    info=info,
                )
            results.append(result)
            if progress is not None:
                progress(result)
    return results
