"""The only module of the package that imports Streamlit: cache wrappers keyed by identity.

Every wrapper takes a :class:`~neurogenesis.workspace.Source` and keys its cache by the source's
path and fingerprint (sizes and modification times), never by a Keras object, so a file that
changes is read again and one user's upload is never served for another's. Loaded models are
shared read-only resources (``st.cache_resource``); infos are data (``st.cache_data``). Parsed
logs are large and read-only, so they are shared resources too: a copy per rerun would cost more
than the page.
"""

from __future__ import annotations

import streamlit as st

from neurogenesis.workspace import Source, Workspace, demo_workspace, workspace_from_paths

__all__ = [
    "workspace",
    "model_card",
    "model",
    "runs",
    "samples",
    "architecture",
    "model_graph",
    "layer_details",
    "graph_layout",
    "complexity",
    "layer_configs",
    "model_metadata",
    "template_model",
    "template_summary",
    "template_specs",
    "source_specs",
    "built",
    "template_sweep",
    "scenario_sweep",
    "source_export",
    "built_export",
    "template_export",
    "named_runs",
    "chosen_runs",
    "hyperparameters",
    "dashboard",
    "epoch_table",
    "early_stopping",
    "convergence",
    "correlations",
    "trajectory",
    "histogram",
    "histogram_tags",
    "recorded_path",
    "dead_units",
    "batch_norm_pairs",
    "batch_norm_effect",
    "learning_rates",
    "gradient_norms",
    "weight_evolution",
    "weight_trajectories",
    "optimizer_comparison",
]


@st.cache_data(show_spinner=False, ttl=10, max_entries=16)
def _workspace(
    logdirs: tuple[str, ...], models: tuple[str, ...], sample_paths: tuple[str, ...], demos: bool
) -> Workspace:
    base = demo_workspace() if demos else Workspace()
    return base + workspace_from_paths(logdirs, models, sample_paths)


def workspace(logdirs=(), models=(), sample_paths=(), demos: bool = True) -> Workspace:
    """The demos plus the command line's paths (re-scanned every few seconds for new demo files)."""
    return _workspace(tuple(logdirs), tuple(models), tuple(sample_paths), demos)


@st.cache_data(show_spinner=False, max_entries=128)
def _model_card(path: str, fingerprint: str):
    from neurogenesis.io.models import scan_model_file

    return scan_model_file(path)


def model_card(source: Source):
    """The model's card, read without TensorFlow (the pre-scan)."""
    return _model_card(source.path, source.fingerprint())


@st.cache_resource(
    show_spinner="Loading the model (TensorFlow starts on first use)…", max_entries=4
)
def _model(path: str, fingerprint: str):
    from neurogenesis.io.models import load_model

    return load_model(path)


def model(source: Source):
    """The loaded Keras model: one shared object, never to be changed (clone it first)."""
    return _model(source.path, source.fingerprint())


@st.cache_resource(show_spinner="Reading the logs…", max_entries=32)
def _runs(path: str, fingerprint: str):
    from neurogenesis.io.logs import find_runs

    return find_runs(path)


def runs(source: Source):
    """Every run under a log source, every point kept."""
    return _runs(source.path, source.fingerprint())


@st.cache_data(show_spinner="Reading the samples…", max_entries=16)
def _samples(path: str, fingerprint: str):
    from neurogenesis.io.samples import load_samples

    return load_samples(path)


def samples(source: Source):
    """The sample set."""
    return _samples(source.path, source.fingerprint())


@st.cache_data(show_spinner="Summarising the architecture…", max_entries=32)
def _architecture(path: str, fingerprint: str):
    from neurogenesis.analysis.architecture import architecture_summary

    return architecture_summary(_model(path, fingerprint))


def architecture(source: Source):
    """Per-layer facts of the model."""
    return _architecture(source.path, source.fingerprint())


@st.cache_data(show_spinner="Walking the graph…", max_entries=16)
def _model_graph(path: str, fingerprint: str):
    from neurogenesis.analysis.architecture import model_graph

    return model_graph(_model(path, fingerprint))


def model_graph(source: Source):
    """Every layer call of the model, nested models inlined, with its blocks (raises
    UnsupportedModelError for subclassed models)."""
    return _model_graph(source.path, source.fingerprint())


@st.cache_data(show_spinner="Reading the layer's weights…", max_entries=64)
def _layer_details(path: str, fingerprint: str, layer_path: tuple[str, ...]):
    from neurogenesis.analysis.architecture import layer_details

    return layer_details(_model(path, fingerprint), layer_path)


def layer_details(source: Source, layer_path: tuple[str, ...]):
    """A layer's config and weight statistics."""
    return _layer_details(source.path, source.fingerprint(), tuple(layer_path))


@st.cache_data(show_spinner=False, max_entries=64)
def _graph_layout(path: str, fingerprint: str, expanded: tuple[str, ...] | None):
    from neurogenesis.analysis.architecture import layout_graph

    return layout_graph(_model_graph(path, fingerprint), expanded)


def graph_layout(source: Source, expanded=None):
    """The model's graph laid out with the ``expanded`` blocks open (None: all open)."""
    return _graph_layout(
        source.path, source.fingerprint(), None if expanded is None else tuple(sorted(expanded))
    )


@st.cache_data(show_spinner=False, max_entries=64)
def _complexity(path: str, fingerprint: str):
    from neurogenesis.analysis.comparison import model_complexity

    return model_complexity(_model(path, fingerprint))


def complexity(source: Source):
    """The model's six radar axes (layers, parameters, compute, memory, depth, width)."""
    return _complexity(source.path, source.fingerprint())


@st.cache_data(show_spinner=False, max_entries=64)
def _layer_configs(path: str, fingerprint: str):
    from neurogenesis.analysis.comparison import layer_configs

    return layer_configs(_model(path, fingerprint))


def layer_configs(source: Source):
    """Each layer's configuration, reduced for comparison."""
    return _layer_configs(source.path, source.fingerprint())


@st.cache_data(show_spinner=False, ttl=10, max_entries=64)
def _model_metadata(path: str, fingerprint: str) -> dict:
    from neurogenesis.workspace import model_metadata

    return model_metadata(path)


def model_metadata(source: Source) -> dict:
    """The model's card beside its file (a demo's title, test metric, runs), or ``{}``."""
    return _model_metadata(source.path, source.fingerprint())


# --- Templates and the builder (models built here, never loaded from a file) ----------------------


@st.cache_resource(show_spinner="Building the template…", max_entries=4)
def template_model(name: str, width: float = 1.0, depth: float = 1.0):
    """A template's Keras model (shared, read-only; clone it before changing it)."""
    from neurogenesis.analysis.templates import build_template

    return build_template(name, width_multiplier=width, depth_multiplier=depth)


@st.cache_data(show_spinner="Counting…", max_entries=64)
def template_summary(name: str, width: float = 1.0, depth: float = 1.0):
    """The template's per-layer facts."""
    from neurogenesis.analysis.architecture import architecture_summary

    return architecture_summary(template_model(name, width, depth))


@st.cache_data(show_spinner=False, max_entries=64)
def template_specs(name: str, width: float = 1.0, depth: float = 1.0):
    """``(input_shape, specs)`` of an editable template, for the builder."""
    from neurogenesis.analysis.layer_stack import specs_from_model

    return specs_from_model(template_model(name, width, depth))


@st.cache_data(show_spinner=False, max_entries=16)
def _source_specs(path: str, fingerprint: str):
    from neurogenesis.analysis.layer_stack import specs_from_model

    return specs_from_model(_model(path, fingerprint))


def source_specs(source: Source):
    """``(input_shape, specs)`` of a loaded model that is a plain chain (InputError otherwise)."""
    return _source_specs(source.path, source.fingerprint())


@st.cache_resource(show_spinner="Building…", max_entries=16)
def built(input_shape: tuple, specs: tuple, input_dtype: str | None = None):
    """The builder's stack, really built: a ``BuildResult`` (shared, read-only)."""
    from neurogenesis.analysis.layer_stack import build_from_specs

    return build_from_specs(input_shape, specs, input_dtype=input_dtype)


@st.cache_data(show_spinner="Building every variant…", max_entries=32)
def template_sweep(name: str, kind: str, multipliers: tuple[float, ...]):
    """Parameters and compute of a template across a width or depth multiplier."""
    from neurogenesis.analysis.sweeps import multiplier_sweep

    return multiplier_sweep(name, multipliers, kind=kind)


@st.cache_data(show_spinner="Building the demo at each swept width…", max_entries=16)
def scenario_sweep(name: str, sweep_path: str):
    """A demo's width sweep with the best recorded metric at each width."""
    from neurogenesis.zoo import scenario_width_sweep

    return scenario_width_sweep(name, sweep_path)


# --- Export -------------------------------------------------------------------------------------


def _exports(model, what: str):
    from neurogenesis import export

    if what == "python":
        return export.model_to_python(model)
    if what == "json":
        return export.model_to_json(model)
    return export.model_to_keras_bytes(model)


@st.cache_data(show_spinner="Writing the export…", max_entries=16)
def _source_export(path: str, fingerprint: str, what: str):
    return _exports(_model(path, fingerprint), what)


def source_export(source: Source, what: str):
    """The loaded model as ``'python'`` code, ``'json'`` config or ``'keras'`` file bytes."""
    return _source_export(source.path, source.fingerprint(), what)


@st.cache_data(show_spinner="Writing the export…", max_entries=16)
def built_export(input_shape: tuple, specs: tuple, what: str):
    """The builder's model as code, JSON or .keras bytes (see :func:`source_export`)."""
    return _exports(built(input_shape, specs).model, what)


@st.cache_data(show_spinner="Writing the export…", max_entries=8)
def template_export(name: str, width: float, depth: float, what: str):
    """A template's model as code, JSON or .keras bytes (see :func:`source_export`)."""
    return _exports(template_model(name, width, depth), what)


# --- Training dynamics --------------------------------------------------------------------------


def _source_keys(sources) -> tuple[tuple[str, str, str], ...]:
    return tuple((source.label, source.path, source.fingerprint()) for source in sources)


def _named(keys) -> tuple[list, list[str], list[str]]:
    from neurogenesis.analysis.training import display_names
    from neurogenesis.errors import InputError

    runs, pairs, errors = [], [], []
    for label, path, fingerprint in keys:
        try:
            found = _runs(path, fingerprint)
        except InputError as error:
            errors.append(f"{label}: {error}")
            continue
        runs.extend(found)
        pairs.extend((label, run.name) for run in found)
    return runs, display_names(pairs), errors


def named_runs(sources) -> tuple[list, list[str], list[str]]:
    """Every run of the log sources, a unique display name per run, and the sources' errors."""
    return _named(_source_keys(sources))


@st.cache_data(show_spinner=False, max_entries=32)
def _hyperparameters(path: str, fingerprint: str) -> dict[str, dict]:
    from neurogenesis.errors import InputError
    from neurogenesis.io.recordings import read_recording

    found = {}
    for run in _runs(path, fingerprint):
        if run.format != "neurogenesis":
            continue
        try:
            found[run.name] = dict(read_recording(run.path).hyperparameters)
        except InputError:
            continue
    return found


def hyperparameters(source: Source) -> dict[str, dict]:
    """Run name -> the hyperparameters its RunRecorder manifest holds (recorded runs only)."""
    return _hyperparameters(source.path, source.fingerprint())


@st.cache_data(show_spinner="Drawing the curves…", max_entries=64)
def _dashboard(keys, chosen: tuple[str, ...], metrics: tuple[str, ...], options: tuple):
    from neurogenesis.analysis.training import dashboard_info

    runs, names = _picked(keys, chosen)
    settings = dict(options)
    settings["groups"] = dict(settings.get("groups") or ())
    return dashboard_info(runs, metrics, names=names, **settings)


def dashboard(sources, chosen, metrics, **options):
    """``analysis.training.dashboard_info`` for the chosen (logical) runs of the sources."""
    if "groups" in options and options["groups"] is not None:
        options["groups"] = tuple(sorted(options["groups"].items()))
    if "roles" in options:
        options["roles"] = tuple(options["roles"])
    if options.get("x_range") is not None:
        options["x_range"] = tuple(float(v) for v in options["x_range"])
    return _dashboard(
        _source_keys(sources), tuple(chosen), tuple(metrics), tuple(sorted(options.items()))
    )


def _picked(keys, chosen: tuple[str, ...]) -> tuple[list, list[str]]:
    """The runs behind the chosen logical runs, and their display names, in the chosen order."""
    from neurogenesis.analysis.training import logical_run_name

    runs, names, _ = _named(keys)
    picked = [i for run in chosen for i, name in enumerate(names) if logical_run_name(name) == run]
    return [runs[i] for i in picked], [names[i] for i in picked]


def chosen_runs(sources, chosen) -> tuple[list, list[str]]:
    """The runs behind the chosen logical runs, and their display names."""
    return _picked(_source_keys(sources), tuple(chosen))


@st.cache_data(show_spinner=False, max_entries=64)
def _epoch_table(keys, run: str):
    from neurogenesis.analysis.training import epoch_table

    runs, names = _picked(keys, (run,))
    return epoch_table(runs, run, names)


def epoch_table(sources, run: str):
    """The run's per-epoch scalars (``analysis.training.epoch_table``)."""
    return _epoch_table(_source_keys(sources), run)


@st.cache_data(show_spinner=False, max_entries=128)
def _early_stopping(keys, run: str, metric: str, options: tuple):
    from neurogenesis.analysis.convergence import early_stopping_report

    table = _epoch_table(keys, run)
    train, validation = table.history(metric)
    return early_stopping_report(table.steps, train, validation, metric=metric, **dict(options))


def early_stopping(sources, run: str, metric: str, **options):
    """``analysis.convergence.early_stopping_report`` for one run's metric."""
    return _early_stopping(_source_keys(sources), run, metric, tuple(sorted(options.items())))


@st.cache_data(show_spinner="Fitting…", max_entries=64)
def _convergence(keys, run: str, column: str, goal: str, threshold: float):
    from neurogenesis.analysis.convergence import convergence_info

    table = _epoch_table(keys, run)
    return convergence_info(table.steps, table.column(column), goal, threshold=threshold)


def convergence(sources, run: str, column: str, goal: str, threshold: float):
    """``analysis.convergence.convergence_info`` for one column of the run's epoch table."""
    return _convergence(_source_keys(sources), run, column, goal, float(threshold))


@st.cache_data(show_spinner=False, max_entries=64)
def _correlations(keys, run: str, columns: tuple[str, ...], method: str):
    from neurogenesis.analysis.convergence import metric_correlations

    table = _epoch_table(keys, run)
    return metric_correlations({column: table.column(column) for column in columns}, method)


def correlations(sources, run: str, columns, method: str):
    """``analysis.convergence.metric_correlations`` between columns of the run's epoch table."""
    return _correlations(_source_keys(sources), run, tuple(columns), method)


@st.cache_data(show_spinner=False, max_entries=64)
def _trajectory(keys, run: str, x_name: str, y_name: str, window: int):
    from neurogenesis.analysis.convergence import trajectory_info

    table = _epoch_table(keys, run)
    return trajectory_info(
        table.steps,
        table.column(x_name),
        table.column(y_name),
        x_name=x_name,
        y_name=y_name,
        window=window,
    )


def trajectory(sources, run: str, x_name: str, y_name: str, window: int):
    """``analysis.convergence.trajectory_info`` of two columns of the run's epoch table."""
    return _trajectory(_source_keys(sources), run, x_name, y_name, int(window))


@st.cache_data(show_spinner="Re-binning the histograms…", max_entries=64)
def _histogram(keys, run: str, tag: str, bins: int):
    from neurogenesis.analysis.layer_health import histogram_info
    from neurogenesis.errors import InputError

    for item in _picked(keys, (run,))[0]:
        if tag in item.histograms:
            return histogram_info(item.histograms[tag], bins)
    raise InputError(f"The run '{run}' has no histogram '{tag}'.")


def histogram(sources, run: str, tag: str, bins: int | None = None):
    """``analysis.layer_health.histogram_info`` of one histogram tag of a run."""
    from neurogenesis.analysis.layer_health import DEFAULT_BINS

    return _histogram(_source_keys(sources), run, tag, int(bins or DEFAULT_BINS))


def histogram_tags(sources, run: str) -> list[str]:
    """The run's histogram tags: activations first, then weights, then the rest."""
    tags = [tag for item in _picked(_source_keys(sources), (run,))[0] for tag in item.histograms]
    return sorted(dict.fromkeys(tags), key=lambda t: (not t.startswith("activations/"), t))


def recorded_path(sources, run: str) -> str | None:
    """The folder of a run the RunRecorder wrote (checkpoints, activation statistics), or None."""
    for item in _picked(_source_keys(sources), (run,))[0]:
        if item.format == "neurogenesis":
            return item.path
    return None


@st.cache_data(show_spinner="Reading the activation statistics…", max_entries=32)
def _dead_units(path: str, fingerprint: str, threshold: float):
    from neurogenesis.analysis.layer_health import dead_unit_info_from_recording

    return dead_unit_info_from_recording(path, threshold)


def dead_units(path: str, threshold: float):
    """``analysis.layer_health.dead_unit_info_from_recording`` for a recorded run folder."""
    return _dead_units(path, _folder_fingerprint(path), float(threshold))


def batch_norm_pairs(sources) -> list[tuple[str, str]]:
    """(with, without) display names of runs that differ only in BatchNormalization."""
    from neurogenesis.analysis.layer_health import batch_norm_pairs as pairs

    runs, names, _ = named_runs(sources)
    by_id = {id(run): name for run, name in zip(runs, names, strict=True)}
    return [(by_id[id(a)], by_id[id(b)]) for a, b in pairs(runs)]


@st.cache_data(show_spinner=False, max_entries=32)
def _batch_norm_effect(keys, with_bn: str, without_bn: str, metric: str):
    from neurogenesis.analysis.layer_health import batch_norm_effect_info

    first = _picked(keys, (with_bn,))[0]
    second = _picked(keys, (without_bn,))[0]
    return batch_norm_effect_info(first[0], second[0], metric)


def batch_norm_effect(sources, with_bn: str, without_bn: str, metric: str = "loss"):
    """``analysis.layer_health.batch_norm_effect_info`` of two runs."""
    return _batch_norm_effect(_source_keys(sources), with_bn, without_bn, metric)


@st.cache_data(show_spinner=False, max_entries=32)
def _learning_rates(keys, chosen: tuple[str, ...]):
    from neurogenesis.analysis.optimization import learning_rate_info

    return learning_rate_info(_picked(keys, chosen)[0])


def learning_rates(sources, chosen):
    """``analysis.optimization.learning_rate_info`` of the chosen runs."""
    return _learning_rates(_source_keys(sources), tuple(chosen))


@st.cache_data(show_spinner=False, max_entries=32)
def _gradient_norms(keys, run: str, by: str):
    from neurogenesis.analysis.optimization import gradient_norm_info

    runs = _picked(keys, (run,))[0]
    with_norms = [r for r in runs if any(t.startswith("gradient_norm/") for t in r.scalars)]
    return gradient_norm_info((with_norms or runs)[0], by=by)


def gradient_norms(sources, run: str, by: str = "layer"):
    """``analysis.optimization.gradient_norm_info`` of one run."""
    return _gradient_norms(_source_keys(sources), run, by)


@st.cache_data(show_spinner="Reading the checkpoints…", max_entries=16)
def _weight_evolution(path: str, fingerprint: str, by: str):
    from neurogenesis.analysis.optimization import weight_evolution_from_recording
    from neurogenesis.io.recordings import read_recording

    return weight_evolution_from_recording(read_recording(path), by=by)


def weight_evolution(path: str, by: str = "layer"):
    """``analysis.optimization.weight_evolution_from_recording`` of a recorded run folder."""
    return _weight_evolution(path, _folder_fingerprint(path), by)


@st.cache_data(show_spinner="Reading the checkpoints…", max_entries=32)
def _weight_trajectories(path: str, fingerprint: str, variable: str, count: int):
    from neurogenesis.analysis.optimization import weight_trajectories_from_recording
    from neurogenesis.io.recordings import read_recording

    return weight_trajectories_from_recording(read_recording(path), variable, count=count)


def weight_trajectories(path: str, variable: str, count: int):
    """The ``count`` weights of ``variable`` that moved most, over the run's checkpoints."""
    return _weight_trajectories(path, _folder_fingerprint(path), variable, int(count))


@st.cache_data(show_spinner=False, max_entries=32)
def _optimizer_comparison(keys, chosen: tuple[str, ...], metric: str):
    from neurogenesis.analysis.optimization import optimizer_comparison_info

    return optimizer_comparison_info(_picked(keys, chosen)[0], metric=metric)


def optimizer_comparison(sources, chosen, metric: str = "loss"):
    """``analysis.optimization.optimizer_comparison_info`` of the chosen runs."""
    return _optimizer_comparison(_source_keys(sources), tuple(chosen), metric)


def _folder_fingerprint(path: str) -> str:
    return Source("logs", "local", path, path, "").fingerprint()


# --- Features and representations -----------------------------------------------------------
# Long computations (attribution over many samples, activation maximization, t-SNE/UMAP) report
# progress, which st.cache_data cannot pass through; they are remembered in a bounded, locked
# store shared by sessions instead. Keys are file identities and plain parameters, as everywhere.


class _Store:
    def __init__(self, max_entries: int) -> None:
        import threading
        from collections import OrderedDict

        self.entries: OrderedDict = OrderedDict()
        self.lock = threading.Lock()
        self.max_entries = max_entries

    def get(self, key):
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return True, self.entries[key]
        return False, None

    def put(self, key, value) -> None:
        with self.lock:
            self.entries[key] = value
            self.entries.move_to_end(key)
            while len(self.entries) > self.max_entries:
                self.entries.popitem(last=False)


@st.cache_resource(show_spinner=False)
def _store(name: str) -> _Store:
    return _Store(max_entries=48)


def _remembered(name: str, key: tuple, compute, progress=None):
    """``compute(progress)``'s result, computed once per key (``progress(fraction)`` on a miss)."""
    store = _store(name)
    found, value = store.get(key)
    if found:
        return value
    value = compute(progress)
    store.put(key, value)
    return value


def is_remembered(name: str, key_source: tuple) -> bool:
    """Whether a remembered computation is ready (the page shows PCA while UMAP computes)."""
    return _store(name).get(key_source)[0]


def _identity(source: Source) -> tuple[str, str]:
    return (source.path, source.fingerprint())


@st.cache_data(show_spinner="Tracing the model's layers…", max_entries=32)
def _graph_layers(path: str, fingerprint: str):
    from neurogenesis.analysis.graph import graph_layers

    return graph_layers(_model(path, fingerprint))


def graph_layers(source: Source):
    """``analysis.graph.graph_layers`` of the model: every layer call, nested models inlined."""
    return _graph_layers(*_identity(source))


@st.cache_data(show_spinner="Running the model on the samples…", max_entries=16)
def _predictions(model_key: tuple[str, str], samples_key: tuple[str, str]):
    from neurogenesis.analysis.features import prediction_info

    sample_set = _samples(*samples_key)
    return prediction_info(
        _model(*model_key), sample_set.x, sample_set.y, label_names=sample_set.label_names
    )


def predictions(model: Source, samples: Source):
    """``analysis.features.prediction_info`` of the model on the sample set."""
    return _predictions(_identity(model), _identity(samples))


@st.cache_data(show_spinner="Reading the kernels…", max_entries=32)
def _filters(model_key: tuple[str, str], layer: str):
    from neurogenesis.analysis.features import filters_info

    return filters_info(_model(*model_key), layer)


def filters(model: Source, layer: str):
    """``analysis.features.filters_info`` of one convolution layer."""
    return _filters(_identity(model), layer)


@st.cache_data(show_spinner="Computing the feature maps…", max_entries=64)
def _feature_maps(model_key: tuple[str, str], samples_key: tuple[str, str], layer: str, index: int):
    from neurogenesis.analysis.features import feature_maps_info

    sample_set = _samples(*samples_key)
    return feature_maps_info(_model(*model_key), sample_set.x, layer, index=index)


def feature_maps(model: Source, samples: Source, layer: str, index: int):
    """``analysis.features.feature_maps_info`` of one sample at one layer."""
    return _feature_maps(_identity(model), _identity(samples), layer, int(index))


def activation_maximization(model: Source, layer: str, unit: int, options: dict, progress=None):
    """``analysis.features.activation_maximization_info``, remembered per model, unit and settings."""
    from neurogenesis.analysis.features import activation_maximization_info

    key = (_identity(model), layer, int(unit), tuple(sorted(options.items())))
    return _remembered(
        "activation_maximization",
        key,
        lambda report: activation_maximization_info(
            model_object(model), layer, int(unit), progress=report, **options
        ),
        progress,
    )


def model_object(source: Source):
    """The loaded model (an alias of :func:`model` for wrappers whose argument is named ``model``)."""
    return _model(*_identity(source))


def attribution(model: Source, samples: Source, indices, method: str, options: dict, progress=None):
    """``analysis.attribution.attribution_info`` of chosen samples, remembered per settings."""
    from neurogenesis.analysis.attribution import attribution_info

    indices = tuple(int(i) for i in indices)
    key = (_identity(model), _identity(samples), indices, method, tuple(sorted(options.items())))

    def compute(report):
        sample_set = _samples(*_identity(samples))
        return attribution_info(
            model_object(model), sample_set.x[list(indices)], method, progress=report, **options
        )

    return _remembered("attribution", key, compute, progress)


def token_attribution(model: Source, samples: Source, indices, method: str, options: dict):
    """``analysis.attribution.token_attribution_info`` of chosen text samples."""
    from neurogenesis.analysis.attribution import token_attribution_info

    indices = tuple(int(i) for i in indices)
    key = (_identity(model), _identity(samples), indices, method, tuple(sorted(options.items())))

    def compute(report):
        sample_set = _samples(*_identity(samples))
        return token_attribution_info(
            model_object(model), sample_set.x[list(indices)], method, **options
        )

    return _remembered("token_attribution", key, compute)


def sanity_check(
    model: Source, samples: Source, indices, method: str, options: dict, progress=None
):
    """``analysis.attribution.randomization_check`` (Adebayo et al.) on chosen samples."""
    from neurogenesis.analysis.attribution import randomization_check

    indices = tuple(int(i) for i in indices)
    key = (_identity(model), _identity(samples), indices, method, tuple(sorted(options.items())))

    def compute(report):
        sample_set = _samples(*_identity(samples))
        return randomization_check(
            model_object(model), sample_set.x[list(indices)], method, **options
        )

    return _remembered("sanity_check", key, compute, progress)


def pointing_game(
    model: Source, samples: Source, method: str, count: int, options: dict, progress=None
):
    """The pointing-game score of one method on the first ``count`` masked samples."""
    from neurogenesis.analysis.attribution import attribution_info
    from neurogenesis.analysis.attribution import pointing_game as score

    key = (_identity(model), _identity(samples), method, int(count), tuple(sorted(options.items())))

    def compute(report):
        sample_set = _samples(*_identity(samples))
        masks = sample_set.per_sample("masks")
        info = attribution_info(
            model_object(model), sample_set.x[:count], method, progress=report, **options
        )
        return score(info.maps, masks[:count])

    return _remembered("pointing_game", key, compute, progress)


@st.cache_data(show_spinner="Reading the hidden states of every sample…", max_entries=16)
def _hidden_states(
    model_key: tuple[str, str], samples_key: tuple[str, str], layer: str, pooling: str
):
    from neurogenesis.analysis.embeddings import hidden_states

    return hidden_states(_model(*model_key), _samples(*samples_key).x, layer, pooling=pooling)


def hidden_states(model: Source, samples: Source, layer: str, pooling: str = "auto"):
    """``analysis.embeddings.hidden_states``: one row per sample at a layer (pooled)."""
    return _hidden_states(_identity(model), _identity(samples), layer, pooling)


def projection_key(
    model: Source, samples: Source, layer: str, pooling: str, method: str, options: dict
):
    return (
        _identity(model),
        _identity(samples),
        layer,
        pooling,
        method,
        tuple(sorted(options.items())),
    )


def projection(
    model: Source,
    samples: Source,
    layer: str,
    pooling: str,
    method: str,
    options: dict,
    progress=None,
):
    """``analysis.embeddings.projection_info`` of a layer's hidden states, remembered."""
    from neurogenesis.analysis.embeddings import projection_info

    key = projection_key(model, samples, layer, pooling, method, options)
    return _remembered(
        "projection",
        key,
        lambda report: projection_info(
            hidden_states(model, samples, layer, pooling), method, progress=report, **options
        ),
        progress,
    )


@st.cache_data(show_spinner="Clustering…", max_entries=32)
def _clusters(model_key, samples_key, layer: str, pooling: str, method: str, options: tuple):
    from neurogenesis.analysis.embeddings import cluster_info

    features = _hidden_states(model_key, samples_key, layer, pooling)
    return cluster_info(features, method, **dict(options))


def clusters(model: Source, samples: Source, layer: str, pooling: str, method: str, options: dict):
    """``analysis.embeddings.cluster_info`` on a layer's hidden states."""
    return _clusters(
        _identity(model), _identity(samples), layer, pooling, method, tuple(sorted(options.items()))
    )


@st.cache_data(show_spinner="Running the autoencoder on the samples…", max_entries=32)
def _reconstructions(model_key, samples_key, order: str, count: int):
    from neurogenesis.analysis.embeddings import reconstruction_info

    sample_set = _samples(*samples_key)
    return reconstruction_info(_model(*model_key), sample_set.x, order=order, count=count)


def reconstructions(model: Source, samples: Source, order: str = "first", count: int = 12):
    """``analysis.embeddings.reconstruction_info``: samples beside the autoencoder's outputs."""
    return _reconstructions(_identity(model), _identity(samples), order, int(count))


@st.cache_data(show_spinner="Decoding a grid of latent points…", max_entries=32)
def _latent_grid(model_key, samples_key, size: int, encoder, decoder):
    from neurogenesis.analysis.embeddings import latent_grid_info

    sample_set = _samples(*samples_key)
    return latent_grid_info(
        _model(*model_key), sample_set.x, size=size, encoder=encoder, decoder=decoder
    )


def latent_grid(model: Source, samples: Source, size: int = 15):
    """``analysis.embeddings.latent_grid_info``, with the model card's encoder/decoder names."""
    card = model_metadata(model) or {}
    return _latent_grid(
        _identity(model),
        _identity(samples),
        int(size),
        card.get("encoder_layer"),
        card.get("decoder_layer"),
    )


@st.cache_resource(show_spinner=False)
def _projector_warm_up():
    """Starts UMAP's numba compile (tens of seconds the first time) once per server process."""
    import os
    import threading

    if os.environ.get("NEUROGENESIS_NO_WARM_UP"):
        return None
    from neurogenesis.analysis.embeddings import warm_up

    thread = threading.Thread(target=warm_up, name="umap-warm-up", daemon=True)
    thread.start()
    return thread


def start_projector_warm_up() -> None:
    """Compiles UMAP in the background so the projector's first UMAP costs only the layout."""
    _projector_warm_up()


# --- Attention ----------------------------------------------------------------------------------


@st.cache_data(show_spinner="Finding the attention layers…", max_entries=32)
def _attention_layers(path: str, fingerprint: str) -> list[str]:
    from neurogenesis.analysis.attention import attention_layers as layers

    return layers(_model(path, fingerprint))


def attention_layers(source: Source) -> list[str]:
    """Paths of the model's MultiHeadAttention layers (nested models looked into)."""
    return _attention_layers(*_identity(source))


@st.cache_data(show_spinner="Reading the attention scores…", max_entries=64)
def _attention_scores(model_key: tuple[str, str], x):
    from neurogenesis.analysis.attention import attention_scores as scores

    return scores(_model(*model_key), x)


def attention_scores(model: Source, x):
    """``analysis.attention.attention_scores`` for a few inputs (keyed by their values)."""
    import numpy as np

    return _attention_scores(_identity(model), np.ascontiguousarray(x))


@st.cache_data(show_spinner="Running the model on the input…", max_entries=64)
def _input_prediction(model_key: tuple[str, str], x, label_names):
    from neurogenesis.analysis.features import prediction_info

    return prediction_info(_model(*model_key), x, label_names=label_names)


def input_prediction(model: Source, x, label_names=None):
    """``analysis.features.prediction_info`` for a few inputs (typed text; keyed by values)."""
    import numpy as np

    names = tuple(str(name) for name in label_names) if label_names is not None else None
    return _input_prediction(_identity(model), np.ascontiguousarray(x), names)


@st.cache_data(show_spinner="Summarising every head over the sample set…", max_entries=16)
def _head_statistics(model_key, samples_key, count: int):
    import numpy as np

    from neurogenesis.analysis.attention import attention_scores as scores
    from neurogenesis.analysis.attention import head_statistics

    x = _samples(*samples_key).x[:count]
    mask = (x != 0) if x.ndim == 2 and np.asarray(x).dtype.kind in "iu" else None
    result = []
    for layer, values in scores(_model(*model_key), x).items():
        layer_mask = mask if mask is not None and mask.shape[1] == values.shape[3] else None
        result.append(head_statistics(values, layer=layer, key_mask=layer_mask))
    return result


def head_statistics(model: Source, samples: Source, count: int = 256):
    """``analysis.attention.head_statistics`` of every layer over the first ``count`` samples."""
    return _head_statistics(_identity(model), _identity(samples), int(count))


@st.cache_data(show_spinner="Removing one head at a time…", max_entries=16)
def _head_importance(model_key, samples_key, count: int):
    from neurogenesis.analysis.attention import head_importance as importance

    return importance(_model(*model_key), _samples(*samples_key).x[:count])


def head_importance(model: Source, samples: Source, count: int = 200):
    """``analysis.attention.head_importance`` over the first ``count`` samples."""
    return _head_importance(_identity(model), _identity(samples), int(count))


@st.cache_data(show_spinner="Reading the recorded attention…", max_entries=16)
def _attention_evolution(path: str, fingerprint: str):
    from neurogenesis.analysis.attention import attention_evolution as evolution

    return evolution(path)


def attention_evolution(path: str):
    """``analysis.attention.attention_evolution`` of a recorded run folder."""
    return _attention_evolution(path, _folder_fingerprint(path))


def attention_runs(sources) -> list[tuple[str, str]]:
    """``(run name, folder)`` of the chosen logs' recorded runs that kept attention scores."""
    from neurogenesis.io.run_folder import has_attention

    runs, names, _ = named_runs(sources)
    found = []
    for run, name in zip(runs, names, strict=False):
        if getattr(run, "format", None) == "neurogenesis" and has_attention(run.path):
            found.append((name, run.path))
    return found


# --- Debugging ----------------------------------------------------------------------------------


def run_models(sources) -> list[tuple[str, Source, dict]]:
    """``(run name, model Source, hyperparameters)`` of every recorded run of the chosen logs
    that saved its ``model.keras`` (the models a comparison can offer besides the sidebar's)."""
    from pathlib import Path

    from neurogenesis.io.run_folder import MODEL_FILE

    found = []
    for source in sources:
        parameters = hyperparameters(source)
        runs, names, _ = named_runs([source])
        for run, name in zip(runs, names, strict=False):
            path = Path(run.path) / MODEL_FILE
            if run.format == "neurogenesis" and path.is_file():
                model_source = Source("model", source.origin, name, str(path))
                found.append((name, model_source, parameters.get(run.name, {})))
    return found


def _array_key(x) -> tuple:
    import hashlib

    import numpy as np

    x = np.ascontiguousarray(x)
    return (x.shape, str(x.dtype), hashlib.sha1(x.tobytes()).hexdigest())


@st.cache_data(show_spinner=False, max_entries=256)
def _perturbation(model_key, samples_key, index: int, steps: tuple, seed: int):
    from neurogenesis.analysis.robustness import perturbation_info

    steps = [(name, dict(parameters)) for name, parameters in steps]
    return perturbation_info(_model(*model_key), _samples(*samples_key).x, index, steps, seed=seed)


def perturbation(model: Source, samples: Source, index: int, steps, seed: int = 0):
    """``analysis.robustness.perturbation_info`` of one sample (steps: ``(name, params)``)."""
    frozen = tuple(
        (name, tuple(sorted((k, _hashable(v)) for k, v in parameters.items())))
        for name, parameters in steps
    )
    return _perturbation(_identity(model), _identity(samples), int(index), frozen, int(seed))


def _hashable(value):
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), _hashable(v)) for k, v in value.items()))
    return value


def attribution_of(model: Source, x, method: str, options: dict, progress=None):
    """``analysis.attribution.attribution_info`` of arrays that are not in a sample set (a
    perturbed or adversarial sample), remembered by the arrays' content."""
    from neurogenesis.analysis.attribution import attribution_info

    key = (_identity(model), _array_key(x), method, tuple(sorted(options.items())))
    return _remembered(
        "attribution_of",
        key,
        lambda report: attribution_info(model_object(model), x, method, progress=report, **options),
        progress,
    )


def token_attribution_of(model: Source, x, method: str, options: dict):
    """``analysis.attribution.token_attribution_info`` of token arrays not in a sample set."""
    from neurogenesis.analysis.attribution import token_attribution_info

    key = (_identity(model), _array_key(x), method, tuple(sorted(options.items())))
    return _remembered(
        "token_attribution_of",
        key,
        lambda report: token_attribution_info(model_object(model), x, method, **options),
    )


@st.cache_data(show_spinner="Attacking…", max_entries=32)
def _adversarial(model_key, samples_key, indices: tuple[int, ...], method: str, options: tuple):
    from neurogenesis.analysis import robustness

    sample_set = _samples(*samples_key)
    chosen = list(indices)
    attack = robustness.fgsm if method == "fgsm" else robustness.pgd
    return attack(
        _model(*model_key),
        sample_set.x[chosen],
        None if sample_set.y is None else sample_set.y[chosen],
        value_range=robustness.set_range(sample_set.x),
        **dict(options),
    )


def adversarial(model: Source, samples: Source, indices, method: str, options: dict):
    """``analysis.robustness.fgsm`` or ``pgd`` on the chosen samples, clipped to the whole set's
    value range (each feature's own range for series and feature vectors: ``set_range``)."""
    indices = tuple(int(i) for i in indices)
    return _adversarial(
        _identity(model), _identity(samples), indices, method, tuple(sorted(options.items()))
    )


def robustness(model: Source, samples: Source, count: int, options: dict, progress=None):
    """``analysis.robustness.robustness_curves`` on the first ``count`` samples, remembered."""
    from neurogenesis.analysis.robustness import robustness_curves, set_range

    key = (_identity(model), _identity(samples), int(count), tuple(sorted(options.items())))

    def compute(report):
        sample_set = _samples(*_identity(samples))
        return robustness_curves(
            model_object(model),
            sample_set.x[:count],
            sample_set.y[:count],
            value_range=set_range(sample_set.x),
            label_names=sample_set.label_names,
            progress=report,
            **options,
        )

    return _remembered("robustness", key, compute, progress)


@st.cache_data(show_spinner=False, max_entries=64)
def _confusion(model_key, samples_key):
    from neurogenesis.analysis.evaluation import confusion_info

    info = _predictions(model_key, samples_key)
    return confusion_info(info.labels, info.predicted, info.num_classes, info.label_names)


def confusion(model: Source, samples: Source):
    """``analysis.evaluation.confusion_info`` of the model's predictions on the sample set."""
    return _confusion(_identity(model), _identity(samples))


@st.cache_data(show_spinner=False, max_entries=64)
def _calibration(model_key, samples_key, num_bins: int, strategy: str):
    from neurogenesis.analysis.evaluation import calibration_info

    info = _predictions(model_key, samples_key)
    return calibration_info(info.outputs, info.labels, num_bins, strategy)


def calibration(model: Source, samples: Source, num_bins: int, strategy: str):
    """``analysis.evaluation.calibration_info`` (reliability diagram, ECE) on the sample set."""
    return _calibration(_identity(model), _identity(samples), int(num_bins), strategy)


@st.cache_data(show_spinner=False, max_entries=64)
def _comparison(model_keys: tuple, samples_key, num_resamples: int, seed: int):
    from neurogenesis.analysis import evaluation

    a, b = (_predictions(key, samples_key) for key in model_keys)
    return (
        evaluation.mcnemar_info(a.correct, b.correct),
        evaluation.paired_bootstrap_info(
            a.correct, b.correct, num_resamples=num_resamples, seed=seed
        ),
        evaluation.disagreements(a.predicted, b.predicted),
    )


def comparison(model_a: Source, model_b: Source, samples: Source, num_resamples: int, seed=0):
    """McNemar's exact test, the paired bootstrap and the disagreeing samples of two models."""
    return _comparison(
        (_identity(model_a), _identity(model_b)), _identity(samples), int(num_resamples), int(seed)
    )


def profile(model: Source, samples: Source, batch_sizes: tuple[int, ...], repeats: int):
    """``analysis.evaluation.profile_info`` on the sample set's first samples, remembered (the
    timings belong to this machine and this moment; rerun to measure again)."""
    from neurogenesis.analysis.evaluation import profile_info

    key = (_identity(model), _identity(samples), tuple(batch_sizes), int(repeats))
    return _remembered(
        "profile",
        key,
        lambda report: profile_info(
            model_object(model),
            _samples(*_identity(samples)).x,
            batch_sizes=batch_sizes,
            repeats=repeats,
        ),
    )


# --- Loss landscape -----------------------------------------------------------------------------
# A landscape is remembered per (model file, sample file, run, settings); its compiled evaluator
# (the samples, the loss and one traced function) is a shared resource per (model, samples, loss,
# sample count), so a new seed, span or resolution reuses the traced graph.


@st.cache_data(show_spinner=False, max_entries=64)
def _training_setup(path: str, fingerprint: str):
    from neurogenesis.io.models import training_setup as read_setup

    return read_setup(path)


def training_setup(source: Source):
    """The loss and metrics the model file was compiled with (``io.models.TrainingSetup``)."""
    return _training_setup(*_identity(source))


@st.cache_data(show_spinner="Checking the model…", max_entries=64)
def _landscape_reason(path: str, fingerprint: str) -> str | None:
    from neurogenesis.analysis.landscape import landscape_reason as reason

    return reason(_model(path, fingerprint))


def landscape_reason(source: Source) -> str | None:
    """Why no landscape can be drawn for the model, or None."""
    return _landscape_reason(*_identity(source))


@st.cache_data(show_spinner=False, max_entries=64)
def _landscape_targets(model_key, samples_key, loss: str):
    import json

    from neurogenesis.analysis.landscape import landscape_targets as targets

    sample_set = _samples(*samples_key)
    return targets(_model(*model_key), sample_set.x, sample_set.y, json.loads(loss))[1]


def landscape_targets(model: Source, samples: Source, loss=None) -> str:
    """``'labels'`` or ``'inputs'`` (an autoencoder): what the loss compares the output with."""
    import json

    return _landscape_targets(_identity(model), _identity(samples), json.dumps(loss))


def suggested_loss(model: Source, samples: Source) -> str:
    """A loss for a model file saved without one."""
    from neurogenesis.analysis.landscape import landscape_targets as targets
    from neurogenesis.analysis.landscape import suggested_loss as suggest

    sample_set = _samples(*_identity(samples))
    loaded = _model(*_identity(model))
    values, kind = targets(loaded, sample_set.x, sample_set.y)
    return suggest(loaded, values, kind)


@st.cache_resource(show_spinner=False, max_entries=8)
def _landscape_evaluator(model_key, samples_key, loss: str, metrics: tuple, num_samples: int):
    import json

    from neurogenesis.analysis.landscape import LandscapeEvaluator, landscape_targets

    sample_set = _samples(*samples_key)
    model = _model(*model_key)
    targets, _ = landscape_targets(model, sample_set.x, sample_set.y, json.loads(loss))
    count = max(1, min(int(num_samples), len(sample_set)))
    return LandscapeEvaluator(
        model, sample_set.x[:count], targets[:count], loss=json.loads(loss), metrics=metrics
    )


def _evaluator_settings(options: dict) -> tuple[str, tuple, int]:
    """What the evaluator (and so a line or the sharpness) depends on: the loss, the metrics and
    the sample count; the plane's settings (seed, span, resolution...) do not change it."""
    import json

    return (
        json.dumps(options["loss"], sort_keys=True),
        tuple(options.get("metrics", ())),
        int(options["num_samples"]),
    )


def _evaluator(model: Source, samples: Source, options: dict):
    return _landscape_evaluator(_identity(model), _identity(samples), *_evaluator_settings(options))


@st.cache_data(show_spinner="Reading the run's checkpoints…", max_entries=16)
def _run_checkpoint_labels(run_dir: str, fingerprint: str) -> tuple[str, ...]:
    from neurogenesis.io.recordings import read_recording

    return tuple(
        "initial" if epoch < 0 else f"epoch {epoch + 1}"
        for epoch, _ in read_recording(run_dir).checkpoints
    )


def run_checkpoint_labels(run_dir: str) -> tuple[str, ...]:
    """The labels of a recorded run's checkpoints, oldest first (``'initial'``, ``'epoch 3'``)."""
    return _run_checkpoint_labels(run_dir, _folder_fingerprint(run_dir))


@st.cache_resource(show_spinner="Reading the run's checkpoints…", max_entries=8)
def _run_checkpoints(model_key, run_dir: str, fingerprint: str):
    from neurogenesis.analysis.landscape import recorded_checkpoints

    return recorded_checkpoints(_model(*model_key), run_dir)


def landscape_runs(sources, input_shape: tuple) -> list[tuple[str, Source, str]]:
    """``(run name, model Source, run folder)`` of the chosen logs' recorded runs that saved their
    model and weight checkpoints and take samples shaped ``input_shape`` (without the batch)."""
    from pathlib import Path

    from neurogenesis.errors import InputError

    found = []
    for name, model_source, _ in run_models(sources):
        run_dir = str(Path(model_source.path).parent)
        try:
            card = model_card(model_source)
        except InputError:
            continue
        shapes = card.input_shapes
        if len(shapes) != 1 or tuple(shapes[0][1:]) != tuple(input_shape):
            continue
        if run_checkpoint_labels(run_dir):
            found.append((name, model_source, run_dir))
    return found


def landscape(
    model: Source, samples: Source, options: dict, run_dir: str | None = None, on_partial=None
):
    """``analysis.landscape.landscape_info`` for the settings in ``options`` (loss, metrics,
    num_samples, directions, resolution, span, seed, normalization, bias_mode), the run's
    checkpoints drawn as a path when ``run_dir`` is given; remembered per file identities and
    settings. ``on_partial(info, fraction)`` sees the preview and each refinement on a miss."""
    from neurogenesis.analysis.landscape import landscape_info

    key, run_key = _landscape_key(model, samples, options, run_dir)
    plane = {k: options[k] for k in ("directions", "resolution", "span", "seed")}
    plane.update(normalization=options["normalization"], bias_mode=options["bias_mode"])

    def compute(_progress):
        evaluator = _evaluator(model, samples, options)
        checkpoints = _run_checkpoints(_identity(model), *run_key) if run_key else ()
        return landscape_info(
            _model(*_identity(model)),
            None,
            None,
            evaluator=evaluator,
            checkpoints=checkpoints,
            on_partial=on_partial,
            **plane,
        )

    return _remembered("landscape", key, compute)


def _landscape_key(model: Source, samples: Source, options: dict, run_dir: str | None):
    """The remembered landscape's key, and the run's identity (None without a run)."""
    run_key = (run_dir, _folder_fingerprint(run_dir)) if run_dir else None
    return (_identity(model), _identity(samples), run_key, _hashable(options)), run_key


def is_landscape_ready(model: Source, samples: Source, options: dict, run_dir=None) -> bool:
    """Whether :func:`landscape` has this one already (the page shows a preview otherwise)."""
    return is_remembered("landscape", _landscape_key(model, samples, options, run_dir)[0])


def interpolation(
    model: Source, samples: Source, options: dict, start: tuple, resolution: int, t_range: tuple
):
    """``analysis.landscape.interpolation_info`` from ``start`` to the model's weights: ``start``
    is ``('checkpoint', run_dir, index)`` (a checkpoint of the model's own run) or
    ``('model', Source)`` (another model of the same architecture)."""
    from neurogenesis.analysis.landscape import interpolation_info

    if start[0] == "checkpoint":
        _, run_dir, index = start
        start_key = ("checkpoint", run_dir, _folder_fingerprint(run_dir), int(index))
    else:
        start_key = ("model", *_identity(start[1]))
    key = (
        _identity(model),
        _identity(samples),
        start_key,
        _evaluator_settings(options),
        int(resolution),
        tuple(t_range),
    )

    def compute(_progress):
        loaded = _model(*_identity(model))
        if start[0] == "checkpoint":
            label, weights = _run_checkpoints(_identity(model), run_dir, start_key[2])[index]
            label = f"{label} weights"
        else:
            other = _model(*_identity(start[1]))
            label, weights = start[1].label, [w.numpy() for w in other.weights]
        return interpolation_info(
            loaded,
            None,
            None,
            weights,
            evaluator=_evaluator(model, samples, options),
            resolution=resolution,
            t_range=t_range,
            start_label=label,
            end_label=model.label,
        )

    return _remembered("interpolation", key, compute)


def sharpness(model: Source, samples: Source, options: dict):
    """``analysis.landscape.sharpness_info`` at the model's weights, remembered."""
    from neurogenesis.analysis.landscape import sharpness_info

    key = (_identity(model), _identity(samples), _evaluator_settings(options))
    return _remembered(
        "sharpness",
        key,
        lambda _progress: sharpness_info(
            _model(*_identity(model)), None, None, evaluator=_evaluator(model, samples, options)
        ),
    )


def matching_models(model: Source, candidates, *, same_size: bool) -> list[Source]:
    """The candidates (other files) that take the same inputs as ``model``, and with
    ``same_size`` also hold as many parameters (the same architecture, for a line between
    weights); read from the files without loading them."""
    from neurogenesis.errors import InputError

    try:
        card = model_card(model)
    except InputError:
        return []
    found = []
    for source in candidates:
        if source.path == model.path:
            continue
        try:
            other = model_card(source)
        except InputError:
            continue
        if other.input_shapes == card.input_shapes and (
            not same_size or other.num_params == card.num_params
        ):
            found.append(source)
    return found


# --- Hyperparameters ----------------------------------------------------------------------------


@st.cache_data(show_spinner="Reading the trials…", max_entries=64)
def _trials(path: str, fingerprint: str, study: str | None):
    from neurogenesis.io.trials import read_trials

    return read_trials(path, study=study)


def trials(path: str, study: str | None = None):
    """``io.trials.read_trials`` of a sweep folder, CSV, Optuna SQLite file or HParams log folder,
    read again when the files change (a sweep being written)."""
    return _trials(path, _folder_fingerprint(path), study)


@st.cache_data(show_spinner=False, max_entries=16)
def _studies(path: str, fingerprint: str) -> list[str]:
    from neurogenesis.io.trials import list_studies

    return list_studies(path)


def studies(path: str) -> list[str]:
    """The study names in an Optuna SQLite file."""
    return _studies(path, _folder_fingerprint(path))


@st.cache_data(show_spinner=False, max_entries=32)
def _trial_sources(path: str, fingerprint: str) -> list[str]:
    from neurogenesis.io.trials import find_trial_sources

    return find_trial_sources(path)


def trial_sources(source: Source) -> list[str]:
    """The sweeps (folders with ``sweep.json``) and HParams logs under a log source."""
    return _trial_sources(source.path, _folder_fingerprint(source.path))


@st.cache_data(show_spinner="Fitting the surface…", max_entries=64)
def _hyperparameter_surface(path, fingerprint, study, x, y, metric, goal, method, aggregate):
    from neurogenesis.analysis.hyperparameters import surface_info

    found = _trials(path, fingerprint, study).with_goal(metric, goal)
    return surface_info(found, x, y, metric, method=method, aggregate=aggregate)


def hyperparameter_surface(
    path: str, study, x: str, y: str, metric: str, goal: str, method: str, aggregate: str
):
    """``analysis.hyperparameters.surface_info`` of the trials at ``path``."""
    return _hyperparameter_surface(
        path, _folder_fingerprint(path), study, x, y, metric, goal, method, aggregate
    )


@st.cache_data(show_spinner="Fitting a random forest to the trials…", max_entries=64)
def _hyperparameter_importance(path, fingerprint, study, metric, goal):
    from neurogenesis.analysis.hyperparameters import importance_info

    return importance_info(_trials(path, fingerprint, study).with_goal(metric, goal), metric)


def hyperparameter_importance(path: str, study, metric: str, goal: str):
    """``analysis.hyperparameters.importance_info`` of the trials at ``path``."""
    return _hyperparameter_importance(path, _folder_fingerprint(path), study, metric, goal)


@st.cache_data(show_spinner=False, max_entries=64)
def _hyperparameter_views(path, fingerprint, study, metric, goal):
    from neurogenesis.analysis.hyperparameters import parallel_info, slice_info

    found = _trials(path, fingerprint, study).with_goal(metric, goal)
    return slice_info(found, metric), parallel_info(found, metric)


def hyperparameter_views(path: str, study, metric: str, goal: str):
    """``(slice_info, parallel_info)`` of the trials at ``path``."""
    return _hyperparameter_views(path, _folder_fingerprint(path), study, metric, goal)


def save_trials_upload(filename: str, data: bytes) -> str:
    """Stores an uploaded trials file (CSV, sweep.json, Optuna SQLite) under its content hash and
    returns its path; the page keeps the list of a session's uploads in its session state."""
    from neurogenesis.workspace import save_file

    return save_file(filename, data)


@st.cache_data(show_spinner=False, max_entries=256)
def _weights_digest(path: str, fingerprint: str) -> str:
    import hashlib

    import numpy as np

    digest = hashlib.sha256()
    for weight in _model(path, fingerprint).weights:
        value = np.ascontiguousarray(weight.numpy())
        digest.update(f"{weight.path}:{value.shape}:{value.dtype};".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def weights_digest(source: Source) -> str:
    """A hash of the model's weights (names, shapes and values): two files that hold the same
    trained model agree, whatever else differs in their archives."""
    return _weights_digest(*_identity(source))


def twin_run(model: Source, runs) -> str | None:
    """The name of the recorded run (``(name, model Source, folder)``) whose saved model holds
    the same weights as ``model``, or None."""
    from neurogenesis.errors import InputError

    try:
        card = model_card(model)
        candidates = [
            (name, source)
            for name, source, _ in runs
            if model_card(source).num_params == card.num_params
        ]
        if not candidates:
            return None
        mine = weights_digest(model)
        return next((name for name, source in candidates if weights_digest(source) == mine), None)
    except InputError:
        return None
