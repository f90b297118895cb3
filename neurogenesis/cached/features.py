"""Cached wrappers of the Features page: predictions, feature maps, attribution, projections."""

from __future__ import annotations

import streamlit as st

from neurogenesis.cached._keys import (
    Key,
    _identity,
    _model,
    _remembered,
    _samples,
    by_key,
    model_object,
)
from neurogenesis.cached.sources import model_metadata, saved_loss
from neurogenesis.workspace import Source


@by_key
@st.cache_data(show_spinner="Tracing the model's layers…", max_entries=32)
def graph_layers(source: Key):
    """``analysis.graph.graph_layers`` of the model: every layer call, nested models inlined."""
    from neurogenesis.analysis.graph import graph_layers

    return graph_layers(_model(*source))


@by_key
@st.cache_data(show_spinner="Running the model on the samples…", max_entries=16)
def predictions(model: Key, samples: Key):
    """``analysis.features.prediction_info`` of the model on the sample set."""
    from neurogenesis.analysis.features import prediction_info

    sample_set = _samples(*samples)
    return prediction_info(
        _model(*model),
        sample_set.x,
        sample_set.y,
        label_names=sample_set.label_names,
        loss=saved_loss(model),
        class_names=(model_metadata(model) or {}).get("label_names"),
    )


@by_key
@st.cache_data(show_spinner="Reading the kernels…", max_entries=32)
def filters(model: Key, layer: str):
    """``analysis.features.filters_info`` of one convolution layer."""
    from neurogenesis.analysis.features import filters_info

    return filters_info(_model(*model), layer)


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


def _on_chosen(
    name, analysis, model, samples, indices, method, options, progress=None, *, reports=False
):
    """``analysis(model, the chosen samples, method, **options)`` (with ``progress=`` when it
    ``reports``), remembered under ``name`` per model, sample set, samples, method and options."""
    indices = tuple(int(i) for i in indices)
    key = (_identity(model), _identity(samples), indices, method, tuple(sorted(options.items())))

    def compute(report):
        x = _samples(*_identity(samples)).x[list(indices)]
        extra = {"progress": report} if reports else {}
        return analysis(model_object(model), x, method, **extra, **options)

    return _remembered(name, key, compute, progress)


def attribution(model: Source, samples: Source, indices, method: str, options: dict, progress=None):
    """``analysis.attribution.attribution_info`` of chosen samples, remembered per settings."""
    from neurogenesis.analysis.attribution import attribution_info

    return _on_chosen(
        "attribution",
        attribution_info,
        model,
        samples,
        indices,
        method,
        options,
        progress,
        reports=True,
    )


def token_attribution(model: Source, samples: Source, indices, method: str, options: dict):
    """``analysis.attribution.token_attribution_info`` of chosen text samples."""
    from neurogenesis.analysis.attribution import token_attribution_info

    return _on_chosen(
        "token_attribution", token_attribution_info, model, samples, indices, method, options
    )


def sanity_check(
    model: Source, samples: Source, indices, method: str, options: dict, progress=None
):
    """``analysis.attribution.randomization_check`` (Adebayo et al.) on chosen samples."""
    from neurogenesis.analysis.attribution import randomization_check

    return _on_chosen(
        "sanity_check", randomization_check, model, samples, indices, method, options, progress
    )


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


@by_key
@st.cache_data(show_spinner="Reading the hidden states of every sample…", max_entries=16)
def hidden_states(model: Key, samples: Key, layer: str, pooling: str = "auto"):
    """``analysis.embeddings.hidden_states``: one row per sample at a layer (pooled)."""
    from neurogenesis.analysis.embeddings import hidden_states

    return hidden_states(_model(*model), _samples(*samples).x, layer, pooling=pooling)


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

    features = hidden_states(model_key, samples_key, layer, pooling)
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
    """Starts UMAP's numba compile (tens of seconds the first time) once per server process,
    where memory allows (not on a small server: ``resources.small_server``)."""
    import os
    import threading

    from neurogenesis.resources import small_server

    if os.environ.get("NEUROGENESIS_NO_WARM_UP") or small_server():
        return None  # UMAP (and numba, 150 MB) is then imported when someone asks for it
    from neurogenesis.analysis.embeddings import warm_up

    thread = threading.Thread(target=warm_up, name="umap-warm-up", daemon=True)
    thread.start()
    return thread


def start_projector_warm_up() -> None:
    """Compiles UMAP in the background so the projector's first UMAP costs only the layout."""
    _projector_warm_up()


# --- the features page: what the model offers, keyed by its identity (issue 20) ----------------


@st.cache_data(show_spinner=False, max_entries=32)
def _feature_layers(model_key: tuple[str, str], kind: str):
    from neurogenesis.analysis import embeddings, features

    return {
        "feature_maps": features.feature_map_layers,
        "filters": features.filter_layers,
        "activation": features.activation_layers,
        "projector": embeddings.layer_choices,
        "projector_default": embeddings.default_layer,
        "regularization": features.default_regularization,
    }[kind](_model(*model_key))


def feature_map_layers(model: Source) -> list[str]:
    """``analysis.features.feature_map_layers``: layers whose output is a feature map."""
    return _feature_layers(_identity(model), "feature_maps")


def filter_layers(model: Source) -> list[str]:
    """``analysis.features.filter_layers``: the convolution layers."""
    return _feature_layers(_identity(model), "filters")


def activation_layers(model: Source) -> list[str]:
    """``analysis.features.activation_layers``: layers whose units can be maximized."""
    return _feature_layers(_identity(model), "activation")


def default_regularization(model: Source) -> dict:
    """``analysis.features.default_regularization``: jitter and blur for the model's input size."""
    return _feature_layers(_identity(model), "regularization")


def projector_layers(model: Source) -> list[str]:
    """``analysis.embeddings.layer_choices``: the layers the projector can read."""
    return _feature_layers(_identity(model), "projector")


def projector_default_layer(model: Source) -> str | None:
    """``analysis.embeddings.default_layer``: the layer the projector opens on."""
    return _feature_layers(_identity(model), "projector_default")


def nearest_neighbours(model: Source, samples: Source, layer, pooling, index: int, k: int = 8):
    """``analysis.embeddings.nearest_neighbours`` of one sample in a layer's hidden states."""
    from neurogenesis.analysis.embeddings import nearest_neighbours as neighbours

    return neighbours(hidden_states(model, samples, layer, pooling), int(index), k=k)


def similarity(model: Source, samples: Source, layer: str, pooling: str, chosen):
    """``analysis.embeddings.similarity_matrix`` (cosine) of the chosen samples' hidden states."""
    from neurogenesis.analysis.embeddings import similarity_matrix

    features = hidden_states(model, samples, layer, pooling)
    return similarity_matrix(features, list(chosen), metric="cosine")


def sample_filter(info, **criteria):
    """``analysis.features.sample_filter`` of a PredictionInfo: the indices of the samples that
    match (``criteria``: labels, predictions, correctness, confidence, error)."""
    from neurogenesis.analysis.features import sample_filter as matching

    return matching(info, **criteria)


# --- the attribution views (app_pages/ui/attribution*.py; their reasons: cached/debugging.py)


def last_conv_layer(model: Source) -> str | None:
    """``analysis.graph.last_conv_layer``: Grad-CAM's default layer."""
    from neurogenesis.analysis.graph import last_conv_layer as last

    return last(model_object(model), graph_layers(model))


def capped_steps(steps: int) -> int:
    """``analysis.graph.capped_steps``: ``steps`` under ``$NEUROGENESIS_MAX_STEPS``."""
    from neurogenesis.analysis.graph import capped_steps as capped

    return capped(steps)
