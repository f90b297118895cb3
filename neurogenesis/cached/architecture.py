"""Cached wrappers of the Architecture page: summaries, graphs, templates, the builder, exports."""

from __future__ import annotations

import streamlit as st

from neurogenesis.cached._keys import Key, _model, by_key
from neurogenesis.resources import cache_entries
from neurogenesis.workspace import Source


@by_key
@st.cache_data(show_spinner="Summarising the architecture…", max_entries=32)
def architecture(source: Key):
    """Per-layer facts of the model."""
    from neurogenesis.analysis.architecture import architecture_summary

    return architecture_summary(_model(*source))


@by_key
@st.cache_data(show_spinner="Walking the graph…", max_entries=16)
def model_graph(source: Key):
    """Every layer call of the model, nested models inlined, with its blocks (raises
    UnsupportedModelError for subclassed models)."""
    from neurogenesis.analysis.architecture import model_graph

    return model_graph(_model(*source))


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

    return layout_graph(model_graph((path, fingerprint)), expanded)


def graph_layout(source: Source, expanded=None):
    """The model's graph laid out with the ``expanded`` blocks open (None: all open)."""
    return _graph_layout(
        source.path, source.fingerprint(), None if expanded is None else tuple(sorted(expanded))
    )


@by_key
@st.cache_data(show_spinner=False, max_entries=64)
def complexity(source: Key):
    """The model's six radar axes (layers, parameters, compute, memory, depth, width)."""
    from neurogenesis.analysis.comparison import model_complexity

    return model_complexity(_model(*source))


@by_key
@st.cache_data(show_spinner=False, max_entries=64)
def layer_configs(source: Key):
    """Each layer's configuration, reduced for comparison."""
    from neurogenesis.analysis.comparison import layer_configs

    return layer_configs(_model(*source))


@st.cache_resource(show_spinner="Building the template…", max_entries=cache_entries(4, 2))
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


@by_key
@st.cache_data(show_spinner=False, max_entries=16)
def source_specs(source: Key):
    """``(input_shape, specs)`` of a loaded model that is a plain chain (InputError otherwise)."""
    from neurogenesis.analysis.layer_stack import specs_from_model

    return specs_from_model(_model(*source))


@st.cache_resource(show_spinner="Building…", max_entries=cache_entries(16, 4))
def built(input_shape: tuple, specs: tuple, input_dtype: str | None = None):
    """The builder's stack, really built: a ``BuildResult`` (shared, read-only)."""
    from neurogenesis.analysis.layer_stack import build_from_specs

    return build_from_specs(input_shape, specs, input_dtype=input_dtype)


@st.cache_data(show_spinner="Building every variant…", max_entries=32)
def template_sweep(name: str, kind: str, multipliers: tuple[float, ...]):
    """Parameters and compute of a template across a width or depth multiplier."""
    from neurogenesis.analysis.sweeps import multiplier_sweep

    return multiplier_sweep(name, multipliers, kind=kind)


def demo_sweep(source: Source) -> str | None:
    """``workspace.demo_sweep``: the ``sweep.json`` of the demo model's width sweep, or None."""
    from neurogenesis.cached.sources import model_metadata
    from neurogenesis.workspace import demo_sweep as sweep_file

    return sweep_file(model_metadata(source))


@st.cache_data(show_spinner="Building the demo at each swept width…", max_entries=16)
def scenario_sweep(name: str, sweep_path: str):
    """A demo's width sweep with the best recorded metric at each width."""
    from neurogenesis.zoo import scenario_width_sweep

    return scenario_width_sweep(name, sweep_path)


def _exports(model, what: str):
    from neurogenesis import model_code

    if what == "python":
        return model_code.model_to_python(model)
    if what == "json":
        return model_code.model_to_json(model)
    return model_code.model_to_keras_bytes(model)


@by_key
@st.cache_data(show_spinner="Writing the export…", max_entries=16)
def source_export(source: Key, what: str):
    """The loaded model as ``'python'`` code, ``'json'`` config or ``'keras'`` file bytes."""
    return _exports(_model(*source), what)


@st.cache_data(show_spinner="Writing the export…", max_entries=16)
def built_export(input_shape: tuple, specs: tuple, what: str):
    """The builder's model as code, JSON or .keras bytes (see :func:`source_export`)."""
    return _exports(built(input_shape, specs).model, what)


@st.cache_data(show_spinner="Writing the export…", max_entries=8)
def template_export(name: str, width: float, depth: float, what: str):
    """A template's model as code, JSON or .keras bytes (see :func:`source_export`)."""
    return _exports(template_model(name, width, depth), what)


# --- The Architecture page's open blocks, diff and trade-off; the builder's edits -----------------


@by_key
@st.cache_data(show_spinner=False, max_entries=64)
def default_open_blocks(source: Key, max_nodes: int | None = None) -> tuple[str, ...]:
    """``analysis.architecture.default_expanded``: the blocks of the model's graph open at first."""
    from neurogenesis.analysis.architecture import default_expanded

    graph = model_graph(source)
    return default_expanded(graph) if max_nodes is None else default_expanded(graph, max_nodes)


@by_key
@st.cache_data(show_spinner="Lining up the layers…", max_entries=32)
def architecture_diff(a: Key, b: Key):
    """``analysis.comparison.architecture_diff`` of model A and model B, configurations included."""
    from neurogenesis.analysis.comparison import architecture_diff as diff

    return diff(
        architecture(a),
        architecture(b),
        configs_a=layer_configs(a),
        configs_b=layer_configs(b),
    )


def tradeoff(sources):
    """``analysis.comparison.tradeoff_from_cards`` of the models and their cards."""
    from neurogenesis.analysis.comparison import tradeoff_from_cards
    from neurogenesis.cached.sources import model_metadata

    sources = list(sources)
    cards = [model_metadata(source) or None for source in sources]
    return tradeoff_from_cards([architecture(source) for source in sources], cards)


def edit_layers(specs: tuple, operation: str, *args, **changes) -> tuple:
    """The builder's stack after one edit of ``analysis.layer_stack``: ``"add"`` (index, spec),
    ``"remove"`` (index), ``"move"`` (index, new index) or ``"update"`` (index, settings=...);
    InputError when the edit is refused. Cheap and pure: not cached."""
    from neurogenesis.analysis import layer_stack

    edit = {
        "add": layer_stack.add_layer,
        "remove": layer_stack.remove_layer,
        "move": layer_stack.move_layer,
        "update": layer_stack.update_layer,
    }[operation]
    return edit(specs, *args, **changes)


def new_layer(class_name: str):
    """``analysis.layer_stack.layer_spec``: a layer of ``class_name`` with its defaults."""
    from neurogenesis.analysis.layer_stack import layer_spec

    return layer_spec(class_name)


def parse_shape(text: str) -> tuple:
    """``analysis.layer_stack.parse_shape``: a shape typed as ``28, 28, 1`` (InputError if not)."""
    from neurogenesis.analysis.layer_stack import parse_shape as parse

    return parse(text)


@by_key
@st.cache_data(show_spinner="Reading the model's structure…", max_entries=32)
def structure(source: Key, reason: str | None = None):
    """``io.structure.model_structure``: the file's layers, read without running it."""
    from neurogenesis.io.structure import model_structure

    return model_structure(source[0], reason=reason)


@by_key
@st.cache_data(show_spinner="Laying out the structure…", max_entries=32)
def structure_layout(source: Key, reason: str | None = None):
    """The structure's graph (``analysis.architecture.structure_graph``) laid out with the
    blocks that fit open (``default_expanded``)."""
    from neurogenesis.analysis.architecture import default_expanded, layout_graph, structure_graph

    graph = structure_graph(structure(source, reason))
    return layout_graph(graph, default_expanded(graph))
