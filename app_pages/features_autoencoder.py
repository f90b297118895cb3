"""The features page's autoencoder tabs: Reconstructions (each sample above what the model
rebuilds from it) and Latent space (the decoder over a grid of codes)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app_pages import ui
from neurogenesis import cached
from neurogenesis.plotting.embeddings import (
    latent_grid_table,
    plot_latent_grid,
    plot_reconstructions,
    reconstructions_table,
)

RECONSTRUCTION_ORDERS = {"worst": "worst first", "best": "best first", "first": "in set order"}


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
        data=reconstructions_table(info),
    )
    st.caption(
        "Top row: the samples; bottom row: what the model rebuilds from them, on one shared "
        f"colour scale. Mean squared error over all {len(info.errors):,} samples: "
        f"{info.mean_error:.4f} (median {float(np.median(info.errors)):.4f})."
    )


def latent_view(model_source, samples_source) -> None:
    size = st.slider("Grid points per axis", 5, 25, 15, key="features_latent_size")
    info = cached.latent_grid(model_source, samples_source, size)
    ui.chart(plot_latent_grid(info), key="features_latent_grid", data=latent_grid_table(info))
    st.caption(
        f"The encoder '{info.encoder}' maps each sample to a {info.latent_dim}-D code "
        f"('{info.latent}'); the decoder '{info.decoder}' turns each grid point back into an "
        "image. Neighbouring tiles that blend smoothly mean a continuous latent space; the "
        "projector tab (layer " + f"'{info.encoder}/{info.latent}'" + ") shows where the "
        "samples themselves fall."
    )
