"""Explaining one prediction with the attribution methods (features and debugging pages share
it; each passes its own ``prefix`` so their widgets keep separate state): the method maps, the
sanity check, the pointing game and token attributions."""

from __future__ import annotations

from functools import partial

import numpy as np
import streamlit as st

from app_pages.ui.attribution_checks import (
    POINTING_SAMPLES,
    pointing_view,
    sanity_view,
    token_view,
    typed_token_view,
)
from app_pages.ui.charts import chart
from app_pages.ui.keep import show_note, tie_choice, valid_choice
from app_pages.ui.typed_text import own_text_chosen, saved_preprocessor
from neurogenesis import cached
from neurogenesis.analysis.attribution import (
    BASELINES,
    DEFAULT_IG_STEPS,
    DEFAULT_NOISE_LEVEL,
    DEFAULT_SCORECAM_TOP_N,
    DEFAULT_SMOOTHGRAD_SAMPLES,
    METHODS,
)
from neurogenesis.errors import InputError
from neurogenesis.plotting.attribution import (
    METHOD_LABELS,
    attribution_table,
    attribution_values,
    completeness_summary,
    method_settings,
    plot_attribution,
    plot_attribution_grid,
)
from neurogenesis.plotting.features import class_name
from neurogenesis.plotting.style import escaped

__all__ = [
    "POINTING_SAMPLES",
    "attribution_table",
    "attribution_view",
    "layers_default_cam",
    "pointing_view",
    "sanity_view",
    "token_view",
    "typed_attribution_view",
]


def attribution_view(
    model_source,
    samples_source,
    sample_set,
    predictions,
    index,
    kind,
    words,
    layers,
    prefix,
    own_text: bool = False,
) -> dict:
    """Attribution of one sample by the chosen methods; returns method -> info (empty if none).

    With ``own_text``, a text model saved with a preprocessor this app reads also explains text
    the user types (tokenized by the model's own tokenizer) instead of the sample.
    """
    if kind == "text":
        reason = cached.reason(model_source, "token_attribution")
        if reason:
            st.info(reason)
            return {}
        saved = saved_preprocessor(model_source) if own_text else None
        if saved is not None and own_text_chosen(prefix):
            method, info = typed_token_view(model_source, saved, predictions, layers, prefix)
        else:
            method, info = token_view(
                model_source, samples_source, predictions, index, words, prefix
            )
        return {} if info is None else {method: info}
    reasons = cached.attribution_reasons(model_source)
    if all(reasons.values()):
        st.info(next(iter(reasons.values())))
        return {}
    available = [m for m in METHODS if not reasons[m]]
    defaults = [m for m in ("integrated_gradients", "gradcam", "smoothgrad") if m in available]
    left, middle, right = st.columns([3, 1, 1])
    show_note(valid_choice(f"{prefix}_methods", available, "method"), left)
    methods = left.multiselect(
        "Methods (side by side)",
        available,
        default=defaults or available[:2],
        format_func=METHOD_LABELS.get,
        key=f"{prefix}_methods",
    )
    score, target = "probability", "predicted"
    if predictions.num_classes:
        score = (
            middle.segmented_control(
                "Explain",
                ("probability", "logit"),
                default="probability",
                key=f"{prefix}_score",
                help="The probability the model returns for the target class, or the value before "
                "the last softmax (the last layer rebuilt without its activation).",
            )
            or "probability"
        )
        targets = ["predicted", *range(predictions.num_classes)]
        # A class number names another class in another model: each model starts on "predicted".
        show_note(tie_choice(f"{prefix}_target", model_source.key, "class to explain"), right)
        target = right.selectbox(
            "Class to explain",
            targets,
            format_func=lambda t: (
                "the predicted class" if t == "predicted" else class_name(predictions, t)
            ),
            key=f"{prefix}_target",
        )
    else:
        middle.caption("Explains the model's output as it returns it (e.g. the forecast).")
    unavailable = [f"{METHOD_LABELS[m]}: {reasons[m]}" for m in METHODS if reasons[m]]
    if unavailable:
        st.caption("Not available here: " + " · ".join(unavailable))
    options = {"score": score}
    if target != "predicted":
        options["target"] = int(target)
    cam_layers = layers.paths(spatial=True)
    with st.expander("Settings"):
        a, b, c = st.columns(3)
        steps = a.slider(
            "Integrated-gradient steps",
            50,
            300,
            DEFAULT_IG_STEPS,
            key=f"{prefix}_steps",
        )
        baseline = a.selectbox("Integrated-gradient baseline", BASELINES, key=f"{prefix}_baseline")
        samples = b.slider(
            "SmoothGrad samples",
            4,
            128,
            DEFAULT_SMOOTHGRAD_SAMPLES,
            key=f"{prefix}_noise_samples",
            help="Smilkov et al. 2017: the map stops improving past about 50 noisy copies.",
        )
        noise = b.slider(
            "SmoothGrad noise σ (share of the value range, max − min)",
            0.01,
            0.5,
            DEFAULT_NOISE_LEVEL,
            key=f"{prefix}_noise",
            help="Smilkov et al. 2017 recommend 10–20%; the map is the mean |gradient| over the "
            "noisy copies, as in the paper's figures.",
        )
        top_n = c.slider(
            "Score-CAM channels (top N, 0 = all)",
            0,
            256,
            DEFAULT_SCORECAM_TOP_N,
            key=f"{prefix}_top_n",
        )
        layer = None
        if cam_layers:
            default_layer = layers_default_cam(model_source, cam_layers)
            show_note(valid_choice(f"{prefix}_cam_layer", cam_layers, "layer"), c)
            layer = c.selectbox(
                "CAM layer",
                cam_layers,
                index=cam_layers.index(default_layer),
                key=f"{prefix}_cam_layer",
            )
    opacity = 0.5
    if kind == "image":  # series and feature vectors draw the input beside the map, not under it
        opacity = st.slider("Overlay opacity", 0.0, 1.0, 0.5, 0.05, key=f"{prefix}_opacity")
    method_options = {
        "integrated_gradients": {"steps": steps, "baseline": baseline},
        "smoothgrad": {"num_samples": samples, "noise_level": noise},
        "scorecam": {"top_n": top_n or None, "layer": layer},
        "gradcam": {"layer": layer},
        "gradcam_plus_plus": {"layer": layer},
    }
    infos = {}
    progress = st.empty()
    for method in methods:
        settings = {**options, **method_options.get(method, {})}
        bar = progress.progress(0.0, text=f"{METHOD_LABELS[method]}…")
        try:
            infos[method] = cached.attribution(
                model_source,
                samples_source,
                (index,),
                method,
                settings,
                progress=lambda f, bar=bar, method=method: bar.progress(
                    min(max(float(f), 0.0), 1.0), text=f"{METHOD_LABELS[method]}…"
                ),
            )
        except InputError as error:
            st.warning(f"{METHOD_LABELS[method]}: {error}")
    progress.empty()
    if not infos:
        st.info("Choose at least one method.")
        return {}
    image = np.asarray(sample_set.x[index])
    names, checked = sample_set.feature_names, options
    explained = [n for info in infos.values() for n in getattr(info, "inputs", ())]
    if explained:  # a model of several inputs: one map per input, one input shown
        chosen = st.selectbox("Input", list(dict.fromkeys(explained)), key=f"{prefix}_input")
        missing = [METHOD_LABELS[m] for m, info in infos.items() if chosen not in info.inputs]
        if missing:
            st.caption(f"No map of '{chosen}' from {', '.join(missing)} (image inputs only).")
        infos = {m: info.inputs[chosen] for m, info in infos.items() if chosen in info.inputs}
        if not infos:
            return {}
        image, names = np.asarray(sample_set.input(chosen)[index]), None
        checked = {**options, "input_name": chosen}
    first = next(iter(infos.values()))
    if len(infos) == 1:
        figure = plot_attribution(first, image, 0, opacity=opacity, feature_names=names)
    else:
        figure = plot_attribution_grid(
            list(infos.values()), image, 0, opacity=opacity, feature_names=names
        )
    if predictions.num_classes:
        explained = class_name(predictions, first.target[0])
        title = f"Sample #{index}: attribution of the {first.score_kind} of '{explained}'"
    else:
        title = f"Sample #{index}: attribution of the model's output"
    figure.update_layout(title={"text": escaped(title)})
    chart(figure, key=f"{prefix}_attribution", data=partial(attribution_table, infos))
    settings = [
        f"{METHOD_LABELS[method]}: {method_settings(info)}"
        for method, info in infos.items()
        if method_settings(info)
    ]
    signed = [METHOD_LABELS[m] for m, info in infos.items() if attribution_values(info, 0)[1]]
    magnitudes = [METHOD_LABELS[m] for m in infos if METHOD_LABELS[m] not in signed]
    legend = []
    if signed:
        legend.append(f"Signed (red raises the score, blue lowers it): {', '.join(signed)}.")
    if magnitudes:
        legend.append(f"Magnitude (black is none, yellow the most): {', '.join(magnitudes)}.")
    if settings:
        legend.append("Settings: " + "; ".join(settings) + ".")
    st.caption(" ".join(legend))
    ig = infos.get("integrated_gradients")
    if ig is not None and ig.completeness_error is not None:
        summary = completeness_summary(ig.completeness_error)
        explained = (
            " (attributions sum to F(x) − F(baseline) up to this share; under 5% means enough "
            "steps)"
            if np.isfinite(ig.completeness_error).any()
            else ""
        )
        st.caption(f"Integrated gradients' completeness error: **{summary}**{explained}.")
    sanity_view(model_source, samples_source, index, infos, method_options, checked, prefix)
    if sample_set.per_sample("masks") is not None:
        pointing_view(model_source, samples_source, available, method_options, options, prefix)
    return infos


def typed_attribution_view(model_source, layers, prefix) -> bool:
    """Without a sample set: token attribution of text the user types, for a text model saved
    with a preprocessor this app reads; False (nothing drawn) for any other model."""
    if cached.reason(model_source, "token_attribution"):
        return False
    saved = saved_preprocessor(model_source)
    if saved is None:
        return False
    st.caption("No sample set chosen: type a text, read by the model's own tokenizer.")
    typed_token_view(model_source, saved, None, layers, prefix)
    return True


def layers_default_cam(model_source, cam_layers) -> str:
    default = cached.last_conv_layer(model_source)
    return default if default in cam_layers else cam_layers[-1]
