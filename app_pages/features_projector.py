"""The features page's Projector tab: every sample placed by its hidden state at a layer, the
chosen sample's nearest neighbours and a similarity matrix of samples you pick."""

from __future__ import annotations

import hashlib
from functools import partial

import numpy as np
import streamlit as st

from app_pages import ui
from neurogenesis import cached
from neurogenesis.analysis.embeddings import POOLINGS, PROJECTIONS
from neurogenesis.plotting.embeddings import METHOD_NAMES as PROJECTION_LABELS
from neurogenesis.plotting.embeddings import (
    neighbours_table,
    plot_projection,
    plot_similarity,
    projection_colours,
    projection_table,
    similarity_table,
)

COLOUR_BY = ("label", "prediction", "correctness", "confidence", "cluster")


def _colour_options(predictions) -> list[str]:
    present = {
        "label": predictions.labels is not None,
        "prediction": predictions.predicted is not None,
        "correctness": predictions.correct is not None,
        "confidence": predictions.confidence is not None,
        "cluster": True,
    }
    return [option for option in COLOUR_BY if present[option]]


def projector_view(model_source, samples_source, sample_set, predictions, index) -> None:
    choices = cached.projector_layers(model_source)
    if not choices:
        st.info("This model has no layer to read hidden states from.")
        return
    default = cached.projector_default_layer(model_source)
    a, b, c, d = st.columns([3, 1.2, 2, 1.2])
    ui.show_note(ui.valid_choice("features_projector_layer", choices, "layer"), a)
    layer = a.selectbox(
        "Layer",
        choices,
        index=choices.index(default) if default in choices else len(choices) - 1,
        key="features_projector_layer",
    )
    pooling = b.selectbox(
        "Pooling",
        POOLINGS,
        key="features_pooling",
        help="How a layer's positions become one vector per sample. With a padding-mask input, "
        "mean (auto) and max use the real tokens only, first and last the first and last real "
        "token.",
    )
    method = (
        c.segmented_control(
            "Projection",
            PROJECTIONS,
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
    colours = _colour_options(predictions)
    ui.show_note(ui.valid_choice("features_colour", colours, "colouring"), e)
    colour_by = e.selectbox("Colour by", colours, key="features_colour")
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
    colour, kind, names = projection_colours(colour_by, predictions, clusters)
    hover = (
        [ui.caption(predictions, i) for i in range(len(sample_set))]
        if len(sample_set) <= 5000
        else None
    )
    neighbours = cached.nearest_neighbours(model_source, samples_source, layer, pooling, index, 8)
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
                data=partial(projection_table, info, predictions, colour_by, colour, names),
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
        neighbours_table(neighbours, [ui.caption(predictions, int(i)) for i in neighbours.indices]),
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
        matrix = cached.similarity(model_source, samples_source, layer, pooling, chosen)
        labels = [ui.caption(predictions, int(i)) for i in chosen]
        ui.chart(
            plot_similarity(matrix, labels, metric="cosine"),
            key="features_similarity",
            data=similarity_table(matrix, labels),
        )
