"""Features and representations: what did the network learn, what does it look at, how does it sort the samples?"""

from __future__ import annotations

import hashlib
from functools import partial

import numpy as np
import pandas as pd
import streamlit as st

from app_pages import ui
from neurogenesis import cached
from neurogenesis.analysis import embeddings as embedding_analysis
from neurogenesis.analysis import features as feature_analysis
from neurogenesis.analysis.graph import model_input
from neurogenesis.errors import InputError, UnsupportedModelError
from neurogenesis.plotting.embeddings import METHOD_NAMES as PROJECTION_LABELS
from neurogenesis.plotting.embeddings import (
    plot_latent_grid,
    plot_projection,
    plot_reconstructions,
    plot_similarity,
)
from neurogenesis.plotting.features import (
    plot_activation_maximization,
    plot_feature_maps,
    plot_filters,
)

TABS = ("Attribution", "Feature maps", "Filters", "Activation maximization", "Projector")
AUTOENCODER_TABS = ("Reconstructions", "Latent space")
RECONSTRUCTION_ORDERS = {"worst": "worst first", "best": "best first", "first": "in set order"}
COLOUR_BY = ("label", "prediction", "correctness", "confidence", "cluster")


def feature_map_view(model_source, samples_source, sample_set, index, kind, words) -> None:
    model = cached.model(model_source)
    choices = feature_analysis.feature_map_layers(model)
    if not choices:
        st.info(
            "This model has no layer with a feature map (a height × width × channels or a "
            "time × channels output), so there is nothing to draw as maps. The projector tab shows "
            "any layer's hidden states instead."
        )
        return
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    layers = cached.graph_layers(model_source)
    convolutions = [i for i, path in enumerate(choices) if layers.entry(path).convolution]
    # Open on the first convolution's own output after its normalization and activation, the
    # first maps worth reading (a Rescaling layer's maps are the input's colour channels); a
    # model without convolutions (a transformer, an LSTM) on its last sequence layer, the states
    # its head reads.
    default = convolutions[0] if convolutions else len(choices) - 1
    for i in range(default + 1, len(choices)) if convolutions else ():
        entry = layers.entry(choices[i])
        if entry.output_shape != layers.entry(choices[default]).output_shape or entry.convolution:
            break
        default = i
    layer = left.selectbox("Layer", choices, index=default, key="features_map_layer")
    info = cached.feature_maps(model_source, samples_source, layer, index)
    channels = info.maps.shape[0]
    top = right.toggle("Top channels only", key="features_map_top")
    top_k = None
    if top:
        top_k = st.slider("How many", 1, channels, min(16, channels), key="features_map_k")
    ui.chart(
        plot_feature_maps(
            info,
            top_k=top_k,
            input_image=np.asarray(sample_set.x[index]) if kind in ("image", "series") else None,
            show_input=kind in ("image", "series"),
            step_labels=words[index] if kind == "text" and words else None,
            feature_names=sample_set.extras.get("feature_names"),
        ),
        key="features_maps",
        data=pd.DataFrame(
            {
                "channel": np.arange(channels),
                "mean activation": info.mean_activation,
                "max activation": info.max_activation,
                "share zero": info.fraction_zero,
            }
        ),
    )
    shape = "time × channel map, a row per channel" if info.sequence else "maps"
    st.caption(
        f"{channels} channels of {layer} for sample #{index}, drawn as a {shape}"
        + (f", the {top_k} most active" if top_k else "")
        + (". Blue is below zero, red above, white zero" if info.signed else "")
        + f". {int((info.fraction_zero > 0.99).sum())} channels are all zero for this sample."
    )


def filter_view(model_source) -> None:
    model = cached.model(model_source)
    choices = feature_analysis.filter_layers(model)
    if not choices:
        st.info("This model has no convolution layer, so it has no filters to draw.")
        return
    left, right = st.columns([3, 1])
    layer = left.selectbox("Convolution layer", choices, key="features_filter_layer")
    info = cached.filters(model_source, layer)
    limit = right.slider(
        "Filters shown", 1, len(info.norms), min(64, len(info.norms)), key="features_filter_count"
    )
    ui.chart(
        plot_filters(info, max_filters=limit),
        key="features_filters",
        data=pd.DataFrame({"filter": info.order, "L2 norm": info.norms}),
    )
    st.caption(
        "Sorted by L2 norm, strongest first. "
        + (
            "The first layer sees the RGB image, so each kernel is drawn in colour."
            if info.rgb
            else (
                "Each tile is one filter's kernel, left to right (blue negative, white zero, red "
                "positive), its weights square."
                if info.kernels.shape[-1] == 1
                else "Each row is one filter, each column one of the channels it reads (blue "
                "negative, white zero, red positive), its weights square."
            )
        )
    )


def _input_range(model_source, sample_set) -> tuple[float, float] | None:
    """The value range inputs live in: the demo's card says it; else the sample set shows it."""
    metadata = cached.model_metadata(model_source) or {}
    if metadata.get("input_range"):
        low, high = metadata["input_range"]
        return float(low), float(high)
    if sample_set is not None and sample_set.x.dtype.kind in "biuf":
        return float(np.min(sample_set.x)), float(np.max(sample_set.x))
    return None


def activation_view(model_source, layers, sample_set, predictions) -> None:
    model = cached.model(model_source)
    try:
        choices = feature_analysis.activation_layers(model)
    except UnsupportedModelError as error:
        st.info(str(error))
        return
    if not choices:
        st.info("This model has no layer whose units can be maximized.")
        return
    a, b = st.columns([3, 1])
    layer = a.selectbox("Layer", choices, index=len(choices) - 1, key="features_am_layer")
    units = int(layers.entry(layer).output_shape[-1])
    names = predictions.label_names if predictions is not None else None
    names = names or (cached.model_metadata(model_source) or {}).get("label_names")
    labels = names if layer == layers.layers[-1].path and names and len(names) == units else None
    unit = b.selectbox(
        "Class" if labels else "Unit / channel",
        list(range(units)),
        format_func=(lambda u: f"{u}: {labels[u]}") if labels else str,
        key="features_am_unit",
    )
    defaults = feature_analysis.default_regularization(model)
    with st.expander("Regularization and steps"):
        c1, c2, c3 = st.columns(3)
        steps = c1.slider(
            "Steps", 16, 1024, feature_analysis.DEFAULT_STEPS, key="features_am_steps"
        )
        jitter = c1.slider(
            "Jitter (pixels)", 0, 8, int(defaults["jitter"]), key="features_am_jitter"
        )
        learning_rate = c2.number_input(
            "Step size (Adam, decays)",
            0.001,
            0.5,
            float(feature_analysis.DEFAULT_LEARNING_RATE),
            format="%.3f",
            key="features_am_rate",
        )
        l2 = c2.number_input(
            "L2 decay",
            0.0,
            1.0,
            float(feature_analysis.DEFAULT_L2),
            format="%.4f",
            key="features_am_l2",
        )
        blur = c3.number_input(
            "Gradient blur σ (pixels)",
            0.0,
            4.0,
            float(defaults["blur_sigma"]),
            key="features_am_blur",
        )
        tv = c3.number_input(
            "Total variation",
            0.0,
            10.0,
            float(feature_analysis.DEFAULT_TOTAL_VARIATION),
            format="%.4f",
            key="features_am_tv",
        )
    options = {
        "steps": steps,
        "learning_rate": learning_rate,
        "jitter": jitter,
        "l2": l2,
        "blur_sigma": blur,
        "total_variation": tv,
        "input_range": _input_range(model_source, sample_set),
    }
    key = (layer, unit, tuple(sorted(options.items())))
    if st.button("Generate", key="features_am_go", type="primary"):
        st.session_state["features_am_request"] = key
    if st.session_state.get("features_am_request") != key:
        st.caption(
            "Adam steps from faint noise toward the input that raises this unit most"
            + (
                " (for the output layer, the class's logit: its score before the softmax)."
                if labels
                else "."
            )
        )
        return
    bar = st.progress(0.0, text="Gradient ascent…")
    info = cached.activation_maximization(
        model_source,
        layer,
        unit,
        options,
        progress=lambda f: bar.progress(min(max(float(f), 0.0), 1.0), text="Gradient ascent…"),
    )
    bar.empty()
    ui.chart(
        plot_activation_maximization(info, unit_name=labels[unit] if labels else None),
        key="features_am_chart",
        data=pd.DataFrame(
            {"step": np.arange(1, len(info.objective) + 1), info.value_name: info.objective}
        ),
    )
    st.caption(
        f"Maximized: the {info.objective_name}. It rose from {info.start_activation:.3g} on the "
        f"starting noise to {info.final_activation:.3g} in {len(info.objective)} steps; over the "
        f"last tenth of the steps it moved by {info.last_change():.1%} of that rise."
    )


def projector_view(model_source, samples_source, sample_set, predictions, index) -> None:
    model = cached.model(model_source)
    choices = embedding_analysis.layer_choices(model)
    if not choices:
        st.info("This model has no layer to read hidden states from.")
        return
    default = embedding_analysis.default_layer(model)
    a, b, c, d = st.columns([3, 1.2, 2, 1.2])
    layer = a.selectbox(
        "Layer",
        choices,
        index=choices.index(default) if default in choices else len(choices) - 1,
        key="features_projector_layer",
    )
    pooling = b.selectbox("Pooling", embedding_analysis.POOLINGS, key="features_pooling")
    method = (
        c.segmented_control(
            "Projection",
            embedding_analysis.PROJECTIONS,
            default="pca",
            format_func=PROJECTION_LABELS.get,
            key="features_projection",
        )
        or "pca"
    )
    dims = (
        d.segmented_control(
            "Dimensions", (2, 3), default=2, format_func=lambda n: f"{n}D", key="features_dims"
        )
        or 2
    )
    e, f, g = st.columns(3)
    available = [
        option
        for option in COLOUR_BY
        if (option == "label" and predictions.labels is not None)
        or (option == "prediction" and predictions.predicted is not None)
        or (option == "correctness" and predictions.correct is not None)
        or (option == "confidence" and predictions.confidence is not None)
        or option == "cluster"
    ]
    colour_by = e.selectbox("Colour by", available, key="features_colour")
    options = {"dims": int(dims), "seed": 0}
    pca_options = {"dims": int(dims), "seed": 0}
    placeholder = st.empty()
    clusters = None
    cluster_method = "kmeans"
    if colour_by == "cluster":
        # Clustering (k-means tries k = 2..10) costs seconds: only when the colours need it.
        cluster_method = f.selectbox(
            "Clustering",
            ("kmeans", "hdbscan"),
            format_func={"kmeans": "k-means", "hdbscan": "HDBSCAN (density)"}.get,
            key="features_cluster_method",
        )
        clusters_k = g.number_input("Clusters (0 = best silhouette)", 0, 50, 0, key="features_k")
        cluster_options = (
            {"num_clusters": int(clusters_k) or None} if cluster_method == "kmeans" else {}
        )
        clusters = cached.clusters(
            model_source, samples_source, layer, pooling, cluster_method, cluster_options
        )
    colour, kind, names = _colours(colour_by, predictions, clusters)
    hover = (
        [ui.caption(predictions, i) for i in range(len(sample_set))]
        if len(sample_set) <= 5000
        else None
    )
    neighbours = embedding_analysis.nearest_neighbours(
        cached.hidden_states(model_source, samples_source, layer, pooling), index, k=8
    )
    highlight = [index, *neighbours.indices.tolist()]

    def draw(info, note=None):
        figure = plot_projection(
            info,
            color=colour,
            color_kind=kind,
            category_names=names,
            hover_text=hover,
            highlight=highlight,
            color_title=colour_by if kind == "continuous" else None,
            title=f"{PROJECTION_LABELS[info.method]} of {layer} ({len(sample_set):,} samples)"
            + (f" · {note}" if note else ""),
        )
        with placeholder.container():
            ui.chart(
                figure,
                key=f"features_projection_{info.method}_{'ready' if note is None else 'preview'}",
                name="features_projection",
                data=partial(_projection_table, info, colour_by, colour, names, predictions),
                downloads=note is None,  # the preview is replaced in this run
                on_select=(
                    lambda: ui.select_from_chart(
                        f"features_projection_{info.method}_ready", "features_sample"
                    )
                )
                if note is None
                else "ignore",
                selection_mode="points",
            )

    key = cached.projection_key(model_source, samples_source, layer, pooling, method, options)
    if method != "pca" and not cached.is_remembered("projection", key):
        pca = cached.projection(model_source, samples_source, layer, pooling, "pca", pca_options)
        draw(pca, note=f"{PROJECTION_LABELS[method]} is computing; PCA meanwhile")
        text = f"Computing {PROJECTION_LABELS[method]} of {len(sample_set):,} points…"
        bar = st.progress(0.0, text=text)
        info = cached.projection(
            model_source,
            samples_source,
            layer,
            pooling,
            method,
            options,
            progress=lambda share: bar.progress(min(max(float(share), 0.0), 1.0), text=text),
        )
        bar.empty()
    else:
        info = cached.projection(model_source, samples_source, layer, pooling, method, options)
    draw(info)
    facts = [f"{PROJECTION_LABELS[info.method]} took {info.seconds:.1f} s"]
    if info.explained_variance_ratio is not None:
        facts.append(f"{float(np.sum(info.explained_variance_ratio)):.0%} of the variance shown")
    if info.trustworthiness is not None:
        facts.append(f"trustworthiness {info.trustworthiness:.2f}")
    if clusters is not None:
        facts.append(
            f"{clusters.num_clusters} {'k-means' if cluster_method == 'kmeans' else 'HDBSCAN'} "
            "clusters"
            + (f", silhouette {clusters.silhouette:.2f}" if clusters.silhouette is not None else "")
        )
    st.caption(" · ".join(facts) + ". Click a point to make it the chosen sample.")
    st.markdown(f"**Nearest neighbours of #{index}** (cosine distance in {layer}'s space)")
    st.dataframe(
        pd.DataFrame(
            {
                "sample": neighbours.indices,
                "distance": neighbours.distances,
                "sample facts": [ui.caption(predictions, int(i)) for i in neighbours.indices],
            }
        ),
        hide_index=True,
        key="features_neighbours",
    )
    chosen = st.multiselect(
        "Similarity of chosen samples",
        list(range(len(sample_set))),
        default=highlight,
        # A new sample set, layer or chosen sample starts from its own neighbours again (a fixed
        # key kept another model's samples).
        key="features_similarity_"
        + hashlib.sha1(repr((samples_source.key, layer, pooling, index)).encode()).hexdigest()[:12],
    )
    if len(chosen) >= 2:
        features = cached.hidden_states(model_source, samples_source, layer, pooling)
        matrix = embedding_analysis.similarity_matrix(features, chosen, metric="cosine")
        labels = [ui.caption(predictions, int(i)) for i in chosen]
        ui.chart(
            plot_similarity(matrix, labels, metric="cosine"),
            key="features_similarity",
            data=pd.DataFrame(matrix, index=labels, columns=labels),
        )


def reconstruction_view(model_source, samples_source) -> None:
    left, right = st.columns([2, 1])
    order = (
        left.segmented_control(
            "Samples",
            tuple(RECONSTRUCTION_ORDERS),
            default="worst",
            format_func=RECONSTRUCTION_ORDERS.get,
            key="features_reconstruction_order",
        )
        or "worst"
    )
    count = right.slider("How many", 4, 24, 12, key="features_reconstruction_count")
    info = cached.reconstructions(model_source, samples_source, order, count)
    ui.chart(
        plot_reconstructions(info),
        key="features_reconstructions",
        data=pd.DataFrame(
            {"sample": info.indices, "mean squared error": info.errors[info.indices]}
        ),
    )
    st.caption(
        "Top row: the samples; bottom row: what the model rebuilds from them, on one shared "
        f"colour scale. Mean squared error over all {len(info.errors):,} samples: "
        f"{info.mean_error:.4f} (median {float(np.median(info.errors)):.4f})."
    )


def latent_view(model_source, samples_source) -> None:
    size = st.slider("Grid points per axis", 5, 25, 15, key="features_latent_size")
    info = cached.latent_grid(model_source, samples_source, size)
    rows, columns = info.images.shape[:2]
    ui.chart(
        plot_latent_grid(info),
        key="features_latent_grid",
        data=pd.DataFrame(
            {
                f"{info.latent}[0]": np.tile(info.first, rows),
                f"{info.latent}[1]": np.repeat(info.second, columns),
            }
        ),
    )
    st.caption(
        f"The encoder '{info.encoder}' maps each sample to a {info.latent_dim}-D code "
        f"('{info.latent}'); the decoder '{info.decoder}' turns each grid point back into an "
        "image. Neighbouring tiles that blend smoothly mean a continuous latent space; the "
        "projector tab (layer " + f"'{info.encoder}/{info.latent}'" + ") shows where the "
        "samples themselves fall."
    )


def _not_applicable(model, layers) -> dict[str, str]:
    """The tabs that do not apply to this model, each with why, in a few words."""
    hidden = {}
    if len(layers.output_shape) != 1:
        hidden["Attribution"] = f"its output is {layers.output_shape}, not one score per class"
    if not feature_analysis.feature_map_layers(model):
        hidden["Feature maps"] = "no layer outputs height × width or time × channel maps"
    if not feature_analysis.filter_layers(model):
        hidden["Filters"] = "no convolution layer"
    if feature_analysis.activation_maximization_reason(model) is not None:
        dtype = layers.input_dtypes[0] if len(layers.input_dtypes) == 1 else ""
        hidden["Activation maximization"] = (
            "token ids cannot follow a gradient"
            if "int" in dtype or "bool" in dtype
            else "it needs one fixed-size image input"
        )
    return hidden


def _projection_table(info, colour_by, colour, names, predictions) -> pd.DataFrame:
    """Every sample's place in the projection, with what colours it."""
    table = ui.sample_table(predictions, np.arange(len(info.coords)))
    for axis in range(info.coords.shape[1]):
        table.insert(1 + axis, f"{info.method} {axis + 1}", info.coords[:, axis])
    if colour_by == "cluster":
        values = np.asarray(colour)
        table["cluster"] = [names[v] if names and 0 <= v < len(names) else v for v in values]
    return table


def _colours(colour_by: str, predictions, clusters):
    names = list(predictions.label_names) if predictions.label_names else None
    if colour_by == "label" and predictions.task == "regression":
        return np.asarray(predictions.labels, dtype=np.float64), "continuous", None
    if colour_by == "label":
        return np.asarray(predictions.labels), "categorical", names
    if colour_by == "prediction":
        return np.asarray(predictions.predicted), "categorical", names
    if colour_by == "correctness":
        return np.asarray(predictions.correct).astype(int), "categorical", ["wrong", "correct"]
    if colour_by == "confidence":
        return np.asarray(predictions.confidence), "continuous", None
    return (
        np.asarray(clusters.labels),
        "categorical",
        [f"cluster {i}" for i in range(clusters.num_clusters)],
    )


# --- the page -----------------------------------------------------------------------------------

ui.start_page("Features and representations")
st.title("Features and representations")
st.caption(
    "What did the network learn (filters, feature maps, the inputs its units want), what does it "
    "look at for one sample (attribution, checked), and how does it arrange the samples inside "
    "(the projector)?"
)
model_source, samples_source = ui.chosen_model()
model, layers = ui.or_stop(lambda: (cached.model(model_source), cached.graph_layers(model_source)))
cached.start_projector_warm_up()

sample_set = None
if samples_source is None:
    st.info(
        "Choose or upload a sample set in the sidebar to browse samples and explain predictions."
    )
else:
    try:
        sample_set = cached.samples(samples_source)
        model_input(model, sample_set.x[:1])
    except InputError as error:
        st.warning(f"{error} The filters and activation maximization work without samples.")
        sample_set = None

index = None
predictions = None
kind = None
words = None
if sample_set is not None:
    kind = ui.display_kind(sample_set, layers)
    words = ui.words_of(sample_set) if kind == "text" else None
    predictions = cached.predictions(model_source, samples_source)
    with st.container(border=True):
        index = ui.sample_browser(
            model_source, samples_source, sample_set, predictions, kind, words, "features"
        )

hidden = _not_applicable(model, layers)
extra = []
if sample_set is not None and embedding_analysis.autoencoder_reason(model) is None:
    extra.append("Reconstructions")
    if embedding_analysis.latent_grid_reason(model) is None:
        extra.append("Latent space")
# An autoencoder's own views first: what it rebuilds is what a user opens it for.
shown = extra + [tab for tab in TABS if tab not in hidden]
if hidden:
    st.caption(
        "Not shown for this model: "
        + "; ".join(f"**{tab}** ({why})" for tab, why in hidden.items())
        + "."
    )
if st.session_state.get("features_tab") not in shown:
    st.session_state.pop("features_tab", None)  # another model's tab: start on the first
tabs = dict(zip(shown, st.tabs(shown, key="features_tab", on_change="rerun"), strict=True))
needs_samples = "Choose a sample set made for this model in the sidebar."


def _open(name: str) -> bool:
    return name in tabs and tabs[name].open


if _open("Attribution"):
    with tabs["Attribution"]:
        if sample_set is None:
            st.info(needs_samples)
        else:
            ui.attribution_view(
                model_source,
                samples_source,
                sample_set,
                predictions,
                index,
                kind,
                words,
                layers,
                "features",
            )
if _open("Feature maps"):
    with tabs["Feature maps"]:
        if sample_set is None:
            st.info(needs_samples)
        else:
            feature_map_view(model_source, samples_source, sample_set, index, kind, words)
if _open("Filters"):
    with tabs["Filters"]:
        filter_view(model_source)
if _open("Activation maximization"):
    with tabs["Activation maximization"]:
        activation_view(model_source, layers, sample_set, predictions)
if _open("Projector"):
    with tabs["Projector"]:
        if sample_set is None:
            st.info(needs_samples)
        else:
            projector_view(model_source, samples_source, sample_set, predictions, index)
if _open("Reconstructions"):
    with tabs["Reconstructions"]:
        reconstruction_view(model_source, samples_source)
if _open("Latent space"):
    with tabs["Latent space"]:
        latent_view(model_source, samples_source)

ui.bundle_button()
with ui.how_to_read("Features and representations"):
    st.markdown(
        "**Attribution** answers *which parts of this input moved the score of this class*. "
        "Every method explains the model's output for the chosen class as the model returns it (the "
        "probability, after the softmax); *logit* explains the value before the softmax, which "
        "does not saturate when the model is very sure.\n"
        "- **Gradient** (saliency): how much the score changes for a tiny change of each input "
        "value. Exact but noisy, and it says nothing about how far the input is from 'nothing'.\n"
        "- **SmoothGrad** averages the gradient over noisy copies of the input (all of them go "
        "through the model as one batch); it removes the speckle, not the meaning.\n"
        "- **Integrated gradients** add up gradients along a straight path from a *baseline* "
        "(all zeros: a black image; or a blurred copy; or the mean sample) to the input. They "
        "assume the baseline means 'no evidence'. Their attributions add up to F(input) − "
        "F(baseline): the *completeness error* shows how close the sum came (under 5% means the "
        "steps were enough).\n"
        "- **Grad-CAM / Grad-CAM++** weight a convolution layer's channels by their gradients. They "
        "are coarse because that layer is small (8×8 for a 32×32 image after two poolings) and "
        "the map is stretched back to the input; an earlier layer gives finer but less "
        "class-specific maps. Grad-CAM++ weights pixels of each channel, which helps when several "
        "objects of the class are present.\n"
        "- **Score-CAM** masks the input with each channel's map and measures the score, with no "
        "gradients at all; *top N* uses only the most active channels (faster).\n"
        "- **Occlusion** covers patches of the input and measures how much the score drops: "
        "slow, model-agnostic and as coarse as the patch.\n\n"
        "**The sanity check** (Adebayo et al. 2018) re-initializes the model's layers from the "
        "output down, one more at each stage, and recomputes the map. A method that explains *the "
        "model* must change once the weights are random (the rank correlation drops toward 0); a "
        "map that stays the same is an edge detector of the input, whatever it looks like. "
        "Passing does not prove a map is right, only that it depends on what the model learned.\n\n"
        "**The pointing game** (Zhang et al. 2016) counts how often a map's maximum falls on the "
        "object, using the masks saved with the sample set: a check against ground truth, not "
        "against a method's own assumptions.\n\n"
        "**Feature maps** are a layer's channels for one sample: bright where the channel "
        "responds. Early layers respond to edges and colours, later ones to parts and shapes. "
        "Channels that are all zero for every sample are dead (the training page finds them).\n\n"
        "**Filters** are the first layer's kernels drawn as small images (in colour when the "
        "layer reads RGB); deeper kernels mix many channels, so each is drawn per input channel. "
        "They are sorted by L2 norm: near-zero kernels contribute little.\n\n"
        "**Activation maximization** starts from faint noise and follows the gradient to the "
        "input that raises one unit most: for a class, its *logit* (the score before the "
        "softmax), for a channel its mean over the map. Adam's steps shrink as it goes, so the "
        "curve rises and flattens; the title says whether it settled. Without regularization "
        "the result is high-frequency noise the unit happens to like; a smoothed gradient, L2 "
        "decay, total variation and jitter keep it image-like (Olah et al. 2017), so the "
        "picture depends on them as much as on the unit.\n\n"
        "**Reconstructions** (autoencoders) put each sample above what the model rebuilds from "
        "it, both on one colour scale, worst first: what the model cannot rebuild is what it "
        "did not learn. **Latent space** decodes a grid over the first two coordinates of the "
        "code (the rest at 0), spanning where the samples' codes fall.\n\n"
        "**The projector** places every sample by its hidden state at a layer. PCA is linear and "
        "exact (its share of variance is shown); t-SNE and UMAP keep neighbours together but "
        "distort distances and cluster sizes, so read *which points are near which*, not how far "
        "apart clusters are. Trustworthiness (0 to 1) says how well neighbourhoods survived the "
        "projection. The silhouette (−1 to 1) says how separate the clusters are in the layer's "
        "own space. Samples of one class that sit inside another class's cluster are worth "
        "looking at: mislabelled, ambiguous, or a blind spot of the model."
    )
