"""Features and representations: what did the network learn, what does it look at, how does it sort the samples?"""

from __future__ import annotations

import streamlit as st

from app_pages import ui
from app_pages.features_activation import activation_view
from app_pages.features_autoencoder import latent_view, reconstruction_view
from app_pages.features_maps import feature_map_view, filter_view
from app_pages.features_projector import projector_view
from neurogenesis import cached
from neurogenesis.errors import InputError

TABS = ("Attribution", "Feature maps", "Filters", "Activation maximization", "Projector")
AUTOENCODER_TABS = ("Reconstructions", "Latent space")


def _not_applicable(model_source, layers) -> dict[str, str]:
    """The tabs that do not apply to this model, each with why, in a few words."""
    hidden = {}
    if len(layers.output_shape) != 1:
        hidden["Attribution"] = f"its output is {layers.output_shape}, not one score per class"
    if not cached.feature_map_layers(model_source):
        hidden["Feature maps"] = "no layer outputs height × width or time × channel maps"
    if not cached.filter_layers(model_source):
        hidden["Filters"] = "no convolution layer"
    if cached.reason(model_source, "activation_maximization") is not None:
        integers = all("int" in dtype or "bool" in dtype for dtype in layers.input_dtypes)
        hidden["Activation maximization"] = (
            "token ids cannot follow a gradient"
            if integers
            else f"it optimizes one image input, and this model takes {len(layers.input_dtypes)}"
            if len(layers.input_dtypes) > 1
            else "it needs one fixed-size image input"
        )
    return hidden


ui.start_page("Features and representations")
st.title("Features and representations")
st.caption(
    "What did the network learn (filters, feature maps, the inputs its units want), what does it "
    "look at for one sample (attribution, checked), and how does it arrange the samples inside "
    "(the projector)?"
)
model_source, samples_source = ui.chosen_model()
layers = ui.or_stop(lambda: cached.graph_layers(model_source))
cached.start_projector_warm_up()

sample_set = None
if samples_source is None:
    st.info(
        "Choose or upload a sample set in the sidebar to browse samples and explain predictions."
    )
else:
    try:
        sample_set = cached.samples(samples_source)
        cached.check_samples(model_source, samples_source)
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

hidden = _not_applicable(model_source, layers)
extra = []
if sample_set is not None and cached.reason(model_source, "reconstructions") is None:
    extra.append("Reconstructions")
    if cached.reason(model_source, "latent_grid") is None:
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
    ui.forget_choice("features_tab")  # another model's tab: start on the first
tabs = dict(zip(shown, st.tabs(shown, key="features_tab", on_change="rerun"), strict=True))
needs_samples = "Choose a sample set made for this model in the sidebar."


def _open(name: str) -> bool:
    return name in tabs and tabs[name].open


if _open("Attribution"):
    with tabs["Attribution"]:
        if sample_set is None:
            if not ui.typed_attribution_view(model_source, layers, "features"):
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
                own_text=True,
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
        "Attribution shows which parts of this input moved the class's score (check it with the "
        "sanity check); the projector places samples by their hidden states: read which points "
        "are near which, not how far apart clusters are."
    )
