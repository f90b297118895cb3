"""TrainingVisualizer: the paper's figures from a training history and a model, from Python.

The NeuroGenesis paper's usage example (Appendix A.2) runs as printed::

    from neurogenesis.visualization.training_curves import TrainingVisualizer
    visualizer = TrainingVisualizer(history)
    fig1 = visualizer.plot_loss_landscape_3d(model, X_train, y_train)
    fig2 = visualizer.plot_metric_correlation_heatmap(['loss', 'accuracy', 'val_loss'])
    fig3 = visualizer.plot_training_dynamics_3d(['loss', 'accuracy'])
    visualizer.save_figure('loss_landscape_3d', 'figures/loss_landscape_3d', 'png')

A facade, not a second implementation: each method chains an ``analysis`` function (the info)
and a ``plotting`` function (the figure), the same pair the dashboard's pages and the
``neurogenesis`` command use, and remembers the figure (and the info) under its name. Names are
Keras's own: ``loss``, ``accuracy``, ``val_loss``; a log read from a file is renamed to match
(``train loss`` -> ``loss``, ``validation accuracy`` -> ``val_accuracy``).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neurogenesis.errors import InputError

__all__ = ["DEFAULT_FORMAT", "DEFAULT_GRID_POINTS", "TrainingVisualizer", "history_frame"]

DEFAULT_GRID_POINTS = 20  # the paper's n_points: the landscape's grid is n_points x n_points
DEFAULT_WINDOW = 5
DEFAULT_FORMAT = "png"
VALIDATION_PREFIX = "val_"
DIRECTION_CHOICES = ("random", "pca")
COMPLEXITY_ALIASES = {
    "num_layers": "layers",
    "params": "parameters",
    "num_params": "parameters",
    "flops": "compute",
    "macs": "compute",
    "memory_bytes": "memory",
}
MIN_RADAR_AXES = 3
PADDING_TOKEN = 0  # Keras's convention for token ids (mask_zero)

# The names figures are remembered by: the method's name without ``plot_``.
LOSS_LANDSCAPE = "loss_landscape_3d"
METRIC_CORRELATION = "metric_correlation_heatmap"
TRAINING_DYNAMICS = "training_dynamics_3d"
HYPERPARAMETER_SURFACE = "hyperparameter_optimization_surface"
MODEL_COMPLEXITY = "model_complexity_analysis"
CONVERGENCE = "convergence_analysis"
ATTENTION_EVOLUTION = "attention_evolution"
MODEL_ARCHITECTURE = "model_architecture"


# --------------------------------------------------------------------------------------------
# Histories of every kind -> one DataFrame (index: epoch; columns: Keras metric names)
# --------------------------------------------------------------------------------------------


def _keras_name(column: str) -> str:
    """An epoch table's column as Keras names it: ``train loss`` -> ``loss``, ``validation
    accuracy`` -> ``val_accuracy``; other scalars (``learning_rate``) keep their tag."""
    role, _, metric = column.partition(" ")
    if role == "train" and metric:
        return metric
    if role == "validation" and metric:
        return f"{VALIDATION_PREFIX}{metric}"
    return column


def _numeric_column(name: str, values: Any) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(
            f"Expected numbers in the history's '{name}'. Received: {str(values)[:80]!r}"
        ) from None
    if array.ndim != 1:
        raise InputError(
            f"Expected one value per epoch in the history's '{name}'. Received an array shaped "
            f"{array.shape}."
        )
    return array


def _frame_from_columns(columns: Mapping[str, Any], epochs: Any = None, source: str = "history"):
    import pandas as pd

    arrays = {}
    for name, values in columns.items():
        if str(name) == "epoch":
            epochs = values if epochs is None else epochs
            continue
        arrays[str(name)] = _numeric_column(str(name), values)
    if not arrays:
        raise InputError(
            f"Expected at least one metric series in the {source}. Received: none "
            f"(keys: {', '.join(map(str, columns)) or 'none'})."
        )
    length = max(array.size for array in arrays.values())
    if length == 0:
        raise InputError(f"Expected at least one epoch in the {source}. Received: none.")
    # A metric logged for fewer epochs (added late, or a run cut short) is NaN where missing.
    padded = {
        name: np.concatenate([array, np.full(length - array.size, np.nan)])
        for name, array in arrays.items()
    }
    if epochs is not None:
        epochs = np.asarray(epochs)
        if epochs.shape != (length,) or not np.issubdtype(epochs.dtype, np.number):
            epochs = None
    index = pd.Index(np.arange(length) if epochs is None else epochs, name="epoch")
    return pd.DataFrame(padded, index=index)


def _frame_from_path(path: str | os.PathLike, run: str | None):
    from neurogenesis.analysis.training import epoch_table, logical_run_name
    from neurogenesis.io.logs import find_runs

    root = Path(path).expanduser()
    runs = find_runs(root)
    # Runs found inside a folder are named relative to it; prefixing the folder's own name pairs
    # the ``train`` and ``validation`` folders Keras's TensorBoard callback writes into one run.
    names = [
        run_.name if run_.name == root.name or root.is_file() else f"{root.name}/{run_.name}"
        for run_ in runs
    ]
    logical = [name for name in dict.fromkeys(logical_run_name(name) for name in names)]
    if run is None:
        candidates = [name for name in logical if _has_epochs(runs, name, names)]
        if len(candidates) != 1:
            raise InputError(
                f"Expected one training run in '{path}'. Received: {len(candidates)} "
                f"({', '.join(candidates) or 'none with per-epoch metrics'}); choose one with "
                "TrainingVisualizer(path, run=NAME)."
            )
        run = candidates[0]
    elif run not in logical:
        raise InputError(
            f"Expected a run of '{path}' ({', '.join(logical)}). Received: run={run!r}."
        )
    table = epoch_table(runs, run, names)
    columns = {_keras_name(column): table.values[k] for k, column in enumerate(table.columns)}
    return _frame_from_columns(columns, table.steps, source=f"run '{run}'")


def _has_epochs(runs, run: str, names) -> bool:
    from neurogenesis.analysis.training import epoch_table

    try:
        epoch_table(runs, run, names)
    except InputError:
        return False
    return True


def history_frame(history: Any, *, run: str | None = None):
    """Any training history as a DataFrame: one row per epoch (the index), one column per metric
    named as Keras names it (``loss``, ``accuracy``, ``val_loss``).

    Args:
        history: a ``keras.callbacks.History`` (what ``model.fit`` returns), a dict of lists
            (``History.history``; an ``epoch`` key gives the epochs), a pandas DataFrame (an
            ``epoch`` column gives the epochs, else the index), or a path to any log
            :func:`neurogenesis.find_runs` reads: a CSVLogger ``.csv``, a JSON history, TensorBoard
            event files, a RunRecorder run folder.
        run: for a folder with several runs, which one (a name :func:`neurogenesis.find_runs`
            gives, with ``train``/``validation`` folders joined into their run).

    Raises:
        InputError: an unknown kind of history, non-numeric values, no epochs, or a folder with
            several runs and no ``run``.
    """
    import pandas as pd

    if isinstance(history, str | os.PathLike):
        return _frame_from_path(history, run)
    if isinstance(history, pd.DataFrame):
        frame = history
        columns = {str(name): frame[name].to_numpy() for name in frame.columns}
        epochs = None
        if "epoch" not in columns and pd.api.types.is_numeric_dtype(frame.index):
            epochs = frame.index.to_numpy()
        return _frame_from_columns(columns, epochs, source="DataFrame")
    if isinstance(history, Mapping):
        return _frame_from_columns(history, source="history dict")
    inner = getattr(history, "history", None)
    if isinstance(inner, Mapping):  # keras.callbacks.History
        epochs = getattr(history, "epoch", None)
        return _frame_from_columns(inner, epochs, source="History")
    raise InputError(
        "Expected a Keras History, a dict of lists, a pandas DataFrame or a path to a training "
        f"log. Received: {type(history).__name__}"
    )


# --------------------------------------------------------------------------------------------
# The visualizer
# --------------------------------------------------------------------------------------------


class TrainingVisualizer:
    """The paper's figures for one training history (and the model it trained).

    Every ``plot_*`` method returns a plotly figure and remembers it, with the info it was drawn
    from, under its name without ``plot_`` (``visualizer.figures['loss_landscape_3d']``,
    ``visualizer.infos['loss_landscape_3d']``), for :meth:`save_figure`.

    Args:
        history: a Keras ``History``, a dict of lists, a pandas DataFrame, or a path to a log
            (see :func:`history_frame`).
        run: which run of a log folder that holds several.
        style: ``'default'`` (the dashboard's look) or ``'publication'`` (white background,
            larger fonts, colour-blind-safe colours: :func:`neurogenesis.plotting.style.
            publication_layout`), applied to every figure made.

    Attributes:
        history: the history as a DataFrame (index: epoch; columns: metric names).
        source: the log path the history was read from, else None.
        figures: name -> the latest figure of that name.
        infos: name -> the info that figure was drawn from.

    Raises:
        InputError: see :func:`history_frame`; an unknown style.
    """

    def __init__(self, history: Any, *, run: str | None = None, style: str = "default"):
        from neurogenesis.plotting.style import STYLES

        if style not in STYLES:
            raise InputError(f"Expected a style in {list(STYLES)}. Received: {style!r}")
        self.style = style
        self.source = (
            str(Path(history).expanduser()) if isinstance(history, str | os.PathLike) else None
        )
        self.history = history_frame(history, run=run)
        self.figures: dict[str, Any] = {}
        self.infos: dict[str, Any] = {}

    def __repr__(self) -> str:
        return (
            f"TrainingVisualizer({len(self.history)} epochs, metrics "
            f"{list(self.history.columns)}, figures {list(self.figures)})"
        )

    # ---------------------------------------------------------------- helpers

    @property
    def metrics(self) -> list[str]:
        """The history's metric names, in order."""
        return [str(name) for name in self.history.columns]

    @property
    def epochs(self) -> np.ndarray:
        return self.history.index.to_numpy()

    def series(self, name: str) -> np.ndarray:
        """One metric's values per epoch (float64, NaN where not logged).

        Raises:
            InputError: a name the history does not have.
        """
        if name not in self.history.columns:
            raise InputError(
                f"Expected a metric of this history ({', '.join(self.metrics)}). Received: {name!r}"
            )
        return self.history[name].to_numpy(dtype=np.float64)

    def _names(self, metrics: Sequence[str] | str | None) -> list[str]:
        if metrics is None:
            return self.metrics
        names = [metrics] if isinstance(metrics, str) else [str(name) for name in metrics]
        for name in names:
            self.series(name)
        return names

    def _remember(self, name: str, figure, info=None):
        from neurogenesis.plotting.style import styled

        figure = styled(figure, self.style)
        self.figures[name] = figure
        self.infos[name] = info
        return figure

    def _default_pair(self) -> list[str]:
        """A loss and another metric of the same role, training first (the paper's pair)."""
        for prefix in ("", VALIDATION_PREFIX):
            own = [
                name for name in self.metrics if name.startswith(VALIDATION_PREFIX) == bool(prefix)
            ]
            losses = [name for name in own if name == f"{prefix}loss"]
            others = [name for name in own if "loss" not in name]
            if losses and others:
                return [losses[0], others[0]]
        if len(self.metrics) < 2:
            raise InputError(
                f"Expected a history with two metrics for a trajectory. Received: {self.metrics}"
            )
        return self.metrics[:2]

    # ---------------------------------------------------------------- the paper's figures

    def plot_loss_landscape_3d(
        self,
        model: Any,
        X: Any,
        y: Any,
        directions: str | None = None,
        n_points: int = DEFAULT_GRID_POINTS,
        *,
        span: float | None = None,
        loss: Any = None,
        num_samples: int | None = None,
        seed: int | None = None,
        run_dir: str | os.PathLike | None = None,
        log_scale: bool = False,
        ray: str | None = None,
        workers: int | None = None,
    ):
        """The loss over a plane of weights around the model's own, as a 3-D surface
        (Li et al. 2018; :func:`neurogenesis.analysis.landscape.landscape_info` drawn by
        :func:`neurogenesis.plotting.landscape.plot_landscape_3d`).

        Args:
            model: the trained Keras model (never changed).
            X: samples (the first ``num_samples`` are used).
            y: their labels; an autoencoder's target is ``X`` itself.
            directions: ``None`` or ``'random'`` (two filter-normalized Gaussian directions) or
                ``'pca'`` (the top two principal directions of a recorded run's checkpoints;
                needs ``run_dir``). Directions given as arrays are not taken: the plane is always
                one the analysis can reproduce from a seed or a run.
            n_points: grid points per side, 3 to 101; the grid is ``n_points x n_points``. An
                even count has no node at the trained weights, whose loss is measured anyway
                (``infos['loss_landscape_3d'].trained_values``).
            span: random: the grid runs from ``-span`` to ``span`` (default 1); pca: the margin
                around the path.
            loss: the loss to evaluate (a Keras loss name or object); default the model's
                compiled loss, else one suited to the targets (``suggested_loss``).
            num_samples: samples the loss is averaged over (default 512, at most 4096).
            seed: the random directions' seed (default 0).
            run_dir: a RunRecorder run folder of this model: its checkpoints are drawn as the
                training path (and span the plane for ``'pca'``).
            log_scale: draw log10 of the loss.
            ray: run the grid on a Ray cluster (``'auto'``, ``'local'`` or an address; needs
                ``pip install 'neurogenesis[ray]'``): the model travels as the bytes of its
                saved ``.keras`` file and the surface is the same as on this machine.
            workers: Ray workers to use (default: one per CPU of the cluster).

        Raises:
            InputError: unknown directions, a bad grid, labels the loss cannot use.
            ClusterError: the cluster could not be reached or stopped answering.
        """
        from neurogenesis.analysis import landscape
        from neurogenesis.plotting.landscape import plot_landscape_3d

        kind = "random" if directions is None else directions
        if not isinstance(kind, str) or kind not in DIRECTION_CHOICES:
            raise InputError(
                f"Expected directions None, 'random' or 'pca'. Received: {_short(directions)}"
            )
        if kind == "pca" and run_dir is None:
            raise InputError(
                "Expected run_dir= with directions='pca': the plane is spanned by the checkpoints "
                "of a recorded run of this model. Received: no run_dir."
            )
        x = np.asarray(X)
        named = loss if loss is not None else getattr(model, "loss", None)
        targets, target_kind = landscape.landscape_targets(model, x, y, named)
        if named is None:
            named = landscape.suggested_loss(model, targets, target_kind)
        checkpoints = landscape.recorded_checkpoints(model, str(run_dir)) if run_dir else []
        count = landscape.DEFAULT_NUM_SAMPLES if num_samples is None else num_samples
        evaluator, target = None, None
        if ray is not None:
            from neurogenesis.compute import parse_target

            target = parse_target(ray, workers)
            xs, ys = landscape.first_samples(x, targets, count)
            evaluator = landscape.LandscapeEvaluator(model, xs, ys, loss=named)
        from neurogenesis.compute import landscape_runner
        from neurogenesis.compute.payload import payload_from_model

        made = functools.partial(payload_from_model, model)
        with landscape_runner(target, evaluator, made) as runner:
            info = landscape.landscape_info(
                model,
                x,
                targets,
                loss=named,
                directions=kind,
                resolution=int(n_points),
                span=landscape.DEFAULT_SPAN if span is None else float(span),
                seed=landscape.DEFAULT_SEED if seed is None else int(seed),
                num_samples=count,
                checkpoints=checkpoints,
                evaluator=evaluator,
                runner=runner,
            )
        return self._remember(LOSS_LANDSCAPE, plot_landscape_3d(info, log_scale=log_scale), info)

    def plot_metric_correlation_heatmap(
        self, metrics: Sequence[str] | None = None, method: str = "pearson"
    ):
        """How the metrics move together over the epochs, as an annotated heatmap
        (:func:`neurogenesis.analysis.convergence.metric_correlations`, over the epochs where all
        of them are finite).

        Args:
            metrics: the metrics (default: every series of the history).
            method: ``'pearson'``, ``'spearman'`` or ``'kendall'``.
        """
        from neurogenesis.analysis.convergence import metric_correlations
        from neurogenesis.plotting.convergence import plot_correlations

        names = self._names(metrics)
        info = metric_correlations({name: self.series(name) for name in names}, method)
        return self._remember(METRIC_CORRELATION, plot_correlations(info), info)

    def plot_training_dynamics_3d(
        self, metrics: Sequence[str] | None = None, window_size: int = DEFAULT_WINDOW
    ):
        """The path two metrics trace over the epochs in 3-D, with momentum cones
        (:func:`neurogenesis.analysis.convergence.trajectory_info`).

        Args:
            metrics: two metrics (default: the loss and another training metric, else their
                validation pair, else the first two series).
            window_size: odd number of epochs the momentum averages over.

        Raises:
            InputError: not two metrics, an even window.
        """
        from neurogenesis.analysis.convergence import trajectory_info
        from neurogenesis.plotting.convergence import plot_trajectory_3d

        names = self._default_pair() if metrics is None else self._names(metrics)
        if len(names) != 2:
            raise InputError(
                f"Expected two metrics for the trajectory. Received: {len(names)} ({names})"
            )
        x_name, y_name = names
        info = trajectory_info(
            self.epochs,
            self.series(x_name),
            self.series(y_name),
            x_name=x_name,
            y_name=y_name,
            window=window_size,
        )
        return self._remember(TRAINING_DYNAMICS, plot_trajectory_3d(info), info)

    def plot_hyperparameter_optimization_surface(
        self,
        param_grid: Mapping[str, Sequence[Any]],
        results: Any,
        target_metric: str = "val_accuracy",
        *,
        axes: Sequence[str] | None = None,
    ):
        """The target metric over two hyperparameters as a 3-D surface with every trial on it
        (:func:`neurogenesis.analysis.hyperparameters.surface_info`: the observed grid when the
        trials cover one, else a Gaussian-process surrogate with its uncertainty).

        Args:
            param_grid: parameter name -> the values searched; the first two names are the axes.
            results: one trial each: a list of dicts (flat, ``{"learning_rate": 1e-3,
                "val_accuracy": 0.9}``, or a sweep point with ``params`` and ``metrics``) or a
                DataFrame (Optuna's ``trials_dataframe()`` works).
            target_metric: the metric drawn; its direction is guessed from its name.
            axes: the two parameters on the axes, when not the first two of ``param_grid``.

        Raises:
            InputError: fewer than two parameters, unknown names, too few trials.
        """
        from neurogenesis.analysis.hyperparameters import surface_info
        from neurogenesis.io.trials import trials_from_frame, trials_from_records
        from neurogenesis.plotting.hyperparameters import plot_surface_3d

        if not isinstance(param_grid, Mapping) or len(param_grid) < 2:
            raise InputError(
                "Expected param_grid as a dict of at least two parameter names -> values. "
                f"Received: {_short(param_grid)}"
            )
        parameters = [str(name) for name in param_grid]
        x, y = parameters[:2] if axes is None else [str(name) for name in axes]
        for name in (x, y):
            if name not in parameters:
                raise InputError(f"Expected axes from {parameters}. Received: {name!r}")
        if hasattr(results, "columns") and hasattr(results, "to_dict"):
            trials = trials_from_frame(results, parameters=parameters, metrics=[target_metric])
        else:
            trials = trials_from_records(results, parameters=parameters, metrics=[target_metric])
        info = surface_info(trials, x, y, target_metric)
        return self._remember(HYPERPARAMETER_SURFACE, plot_surface_3d(info), info)

    def plot_model_complexity_analysis(
        self,
        model: Any,
        X: Any = None,
        y: Any = None,
        complexity_metrics: Sequence[str] | None = None,
    ):
        """The model on the complexity radar: layers, parameters, compute (MACs), memory, depth
        and width, each on a log scale, beside ResNet-50 for scale
        (:func:`neurogenesis.analysis.comparison.model_complexity`).

        Args:
            model: the Keras model.
            X: samples; used only to build a model that was never called.
            y: accepted for the paper's signature; the radar needs no labels.
            complexity_metrics: the axes to draw, at least three of ``layers``, ``parameters``,
                ``compute``, ``memory``, ``depth``, ``width`` (``params``, ``flops``, ``macs``
                are understood); default all six.

        Raises:
            InputError: unknown or too few axes, an unbuilt model without ``X``.
        """
        from neurogenesis.analysis.comparison import AXES, model_complexity
        from neurogenesis.plotting.comparison import plot_complexity_radar

        axes = list(AXES)
        if complexity_metrics is not None:
            axes = [COMPLEXITY_ALIASES.get(str(n), str(n)) for n in complexity_metrics]
            unknown = [name for name in axes if name not in AXES]
            if unknown or len(set(axes)) < MIN_RADAR_AXES:
                raise InputError(
                    f"Expected at least {MIN_RADAR_AXES} complexity metrics from {list(AXES)}. "
                    f"Received: {list(complexity_metrics)}"
                )
        if not getattr(model, "built", False):
            if X is None:
                raise InputError(
                    "Expected a built model, or samples X to build it with. Received: an unbuilt "
                    "model and no X."
                )
            model(np.asarray(X)[:1])
        info = model_complexity(model)
        figure = plot_complexity_radar([info])
        if axes != list(AXES):
            _keep_radar_axes(figure, [AXES.index(name) for name in dict.fromkeys(axes)])
        return self._remember(MODEL_COMPLEXITY, figure, info)

    def plot_convergence_analysis(
        self,
        metric: str | None = None,
        goal: str | None = None,
        threshold: float = 0.01,
    ):
        """How a metric approaches its final value: the fitted exponential, its asymptote, the
        epoch it gets within ``threshold`` of it, and the change per epoch
        (:func:`neurogenesis.analysis.convergence.convergence_info`).

        Args:
            metric: the metric (default ``val_loss``, else ``loss``, else the first series).
            goal: ``'min'`` or ``'max'`` (default guessed from the name; ``'min'`` if it says
                nothing).
            threshold: the share of the total improvement still left that counts as converged.
        """
        from neurogenesis.analysis.convergence import convergence_info, metric_goal
        from neurogenesis.plotting.convergence import plot_convergence

        if metric is None:
            metric = next(
                (name for name in ("val_loss", "loss") if name in self.metrics), self.metrics[0]
            )
        values = self.series(metric)
        goal = goal or metric_goal(metric) or "min"
        info = convergence_info(self.epochs, values, goal, threshold=threshold)
        return self._remember(CONVERGENCE, plot_convergence(info, metric), info)

    def plot_attention_evolution(
        self,
        run_dir: str | os.PathLike | None = None,
        layer: str | None = None,
        head: int = 0,
        sample: int = 0,
        *,
        vocabulary: Sequence[str] | None = None,
        epoch: int | None = None,
    ):
        """One attention head's matrix through training, one frame per epoch with a slider
        (:func:`neurogenesis.analysis.attention.attention_evolution` of a recorded run).

        Attention over training exists only where it was recorded: a run folder written by
        :class:`neurogenesis.RunRecorder` for a model with MultiHeadAttention layers keeps the
        scores of its probe samples each epoch.

        Args:
            run_dir: that run folder (default: the path this visualizer read its history from).
            layer: the attention layer (default: the first recorded).
            head: the head.
            sample: which probe sample.
            vocabulary: words by token id, to label the axes with the sample's words (padding
                at the end is cut off); positions without it.
            epoch: the recorded epoch the figure opens at, which is what a PNG shows (default:
                the last; the slider and play button go through all of them).

        Raises:
            InputError: no run, a run without attention, a layer, head, sample or epoch that was
                not recorded.
        """
        from neurogenesis.analysis.attention import attention_evolution
        from neurogenesis.plotting.attention import plot_attention_evolution

        run_dir = run_dir if run_dir is not None else self.source
        if run_dir is None:
            raise InputError(
                "Expected run_dir=, a run folder recorded by neurogenesis.RunRecorder for a "
                "model with attention layers (it keeps the attention scores each epoch). "
                "Received: none, and this history was not read from a run folder."
            )
        info = attention_evolution(str(run_dir))
        layer = info.layers[0] if layer is None else layer
        if layer not in info.layers:
            raise InputError(f"Expected a layer in {list(info.layers)}. Received: {layer!r}")
        stack = info.scores[layer]  # (epochs, samples, heads, queries, keys)
        for what, value, count in (
            ("head", head, stack.shape[2]),
            ("sample", sample, stack.shape[1]),
        ):
            if not 0 <= int(value) < count:
                raise InputError(f"Expected a {what} from 0 to {count - 1}. Received: {value}")
        tokens = None
        keys = stack.shape[4]
        if (
            vocabulary is not None
            and info.inputs.ndim == 2
            and info.inputs.shape[1] == keys
            and np.issubdtype(info.inputs.dtype, np.integer)
        ):
            ids = info.inputs[int(sample)]
            real = np.flatnonzero(ids != PADDING_TOKEN)
            keys = int(real[-1]) + 1 if real.size else keys
            words = [str(word) for word in vocabulary]
            tokens = [words[i] if 0 <= i < len(words) else f"#{i}" for i in ids[:keys]]
        queries = keys if stack.shape[3] == stack.shape[4] else stack.shape[3]
        frames = [stack[e, int(sample), int(head), :queries, :keys] for e in range(len(stack))]
        figure = plot_attention_evolution(
            frames,
            info.epochs.tolist(),
            tokens if queries == keys else None,
            key_tokens=tokens,
            title=f"{layer}, head {int(head)}: attention through training",
        )
        epochs = info.epochs.tolist()
        shown = len(epochs) - 1 if epoch is None else epochs.index(epoch) if epoch in epochs else -1
        if shown < 0:
            raise InputError(f"Expected a recorded epoch from {epochs}. Received: {epoch!r}")
        # The figure opens at the first frame; a paper's still is more telling at the end.
        figure.data[0].z = figure.frames[shown].data[0].z
        figure.layout.sliders[0].active = shown
        return self._remember(ATTENTION_EVOLUTION, figure, info)

    def plot_model_architecture(
        self, model: Any, *, expand: str = "auto", direction: str = "top down"
    ):
        """The model's layer graph (the dashboard's graph view,
        :func:`neurogenesis.plotting.architecture.plot_graph`).

        Args:
            model: the Keras model.
            expand: which blocks are drawn open: ``'auto'`` (as many as fit), ``'all'``, ``'none'``.
            direction: ``'top down'`` or ``'left to right'``.
        """
        from neurogenesis.analysis.architecture import default_expanded, layout_graph, model_graph
        from neurogenesis.plotting.architecture import plot_graph

        graph = model_graph(model)
        choices = {"auto": default_expanded(graph), "all": None, "none": ()}
        if expand not in choices:
            raise InputError(f"Expected expand in {list(choices)}. Received: {expand!r}")
        info = layout_graph(graph, choices[expand])
        return self._remember(
            MODEL_ARCHITECTURE, plot_graph(info, direction=direction, whole=True), info
        )

    # ---------------------------------------------------------------- files

    def save_figure(
        self,
        name: str,
        path: str | os.PathLike,
        format: str | None = DEFAULT_FORMAT,
        *,
        width: int | None = None,
    ) -> Path:
        """Writes a remembered figure to a file.

        Args:
            name: the figure's name (``'loss_landscape_3d'``; see :attr:`figures`).
            path: where to write; without an extension the format's is added
                (``figures/loss_landscape_3d`` -> ``figures/loss_landscape_3d.png``). Missing
                folders are created.
            format: ``'png'``, ``'svg'``, ``'pdf'`` or ``'html'`` (interactive, self-contained);
                None: the path's extension says.
            width: image width in pixels (static formats; default 1200, PNGs at twice that).

        Returns:
            The path written.

        Raises:
            InputError: an unknown name or format, a path whose extension names another format.
            ExportUnavailableError: PNG, SVG or PDF without kaleido or a Chrome/Chromium browser
                (the message says how to install them; HTML works without).
        """
        from neurogenesis.plotting.export import FIGURE_FORMATS, write_figure

        if name not in self.figures:
            raise InputError(
                f"Expected the name of a figure made so far ({', '.join(self.figures) or 'none yet'}"
                f"). Received: {name!r}"
            )
        path = Path(path)
        suffix = path.suffix.lower().lstrip(".")
        if format is None:
            format = suffix if suffix in FIGURE_FORMATS else DEFAULT_FORMAT
        fmt = str(format).lower().lstrip(".")
        if fmt not in FIGURE_FORMATS:
            raise InputError(f"Expected a format in {list(FIGURE_FORMATS)}. Received: {format!r}")
        if suffix in FIGURE_FORMATS and suffix != fmt:
            raise InputError(
                f"Expected a path ending in .{fmt} (or no extension) for format {fmt!r}. "
                f"Received: '{path.name}'"
            )
        if suffix != fmt:
            path = path.with_name(f"{path.name}.{fmt}")
        return write_figure(self.figures[name], path, width=width)


def _short(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else type(value).__name__
    return text[:80]


def _keep_radar_axes(figure, keep: list[int]) -> None:
    """Leaves only the radar's axes at ``keep`` (in that order), its polygons closed again."""
    order = [*keep, keep[0]]
    for trace in figure.data:
        for field in ("r", "theta", "customdata"):
            values = getattr(trace, field)
            if values is not None:
                setattr(trace, field, [values[i] for i in order])
