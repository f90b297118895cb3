"""Explaining one prediction with the attribution methods (features and debugging pages share
it; each passes its own ``prefix`` so their widgets keep separate state): the method maps, the
sanity check, the pointing game and token attributions."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import streamlit as st

from app_pages.ui.charts import chart
from app_pages.ui.samples import class_name
from neurogenesis import cached
from neurogenesis.analysis import attribution as attribution_analysis
from neurogenesis.analysis.graph import capped_steps
from neurogenesis.errors import InputError
from neurogenesis.plotting.attribution import (
    MAGNITUDE_TITLE,
    METHOD_LABELS,
    SIGNED_TITLE,
    attribution_values,
    method_settings,
    plot_attribution,
    plot_attribution_grid,
    plot_pointing_game,
    plot_sanity_check,
    plot_token_attribution,
)
from neurogenesis.plotting.style import escaped

POINTING_SAMPLES = 60


def attribution_table(infos: dict) -> pd.DataFrame:
    """Every method's map of the first sample, one row per position (image rows and columns,
    time steps and features, or positions), as the chart draws it: signed attributions for
    signed methods (summed over an image's channels), magnitudes for the others."""
    frames = []
    for method, info in infos.items():
        values, signed = attribution_values(info, 0)
        if info.input_kind == "image" and values.ndim == 2:
            axes = ["row", "column"]
        elif values.ndim == 2:
            axes = ["time step", "feature"]
        else:
            axes = [f"axis {k}" for k in range(values.ndim)]
        positions = np.indices(values.shape).reshape(values.ndim, -1).T
        frame = pd.DataFrame(positions, columns=axes)
        frame.insert(0, "method", METHOD_LABELS.get(method, method))
        frame["kind"] = SIGNED_TITLE if signed else MAGNITUDE_TITLE
        frame["attribution"] = values.ravel()
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def attribution_view(
    model_source, samples_source, sample_set, predictions, index, kind, words, layers, prefix
) -> dict:
    """Attribution of one sample by the chosen methods; returns method -> info (empty if none)."""
    model = cached.model(model_source)
    if kind == "text":
        reason = attribution_analysis.token_reason(model)
        if reason:
            st.info(reason)
            return {}
        method, info = token_view(model_source, samples_source, predictions, index, words, prefix)
        return {} if info is None else {method: info}
    reasons = {
        method: attribution_analysis.method_reason(model, method)
        for method in attribution_analysis.METHODS
    }
    if all(reasons.values()):
        st.info(next(iter(reasons.values())))
        return {}
    available = [m for m in attribution_analysis.METHODS if not reasons[m]]
    defaults = [m for m in ("integrated_gradients", "gradcam", "smoothgrad") if m in available]
    left, middle, right = st.columns([3, 1, 1])
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
    unavailable = [
        f"{METHOD_LABELS[m]}: {reasons[m]}" for m in attribution_analysis.METHODS if reasons[m]
    ]
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
            attribution_analysis.DEFAULT_IG_STEPS,
            key=f"{prefix}_steps",
        )
        baseline = a.selectbox(
            "Integrated-gradient baseline", attribution_analysis.BASELINES, key=f"{prefix}_baseline"
        )
        samples = b.slider(
            "SmoothGrad samples",
            4,
            128,
            attribution_analysis.DEFAULT_SMOOTHGRAD_SAMPLES,
            key=f"{prefix}_noise_samples",
            help="Smilkov et al. 2017: the map stops improving past about 50 noisy copies.",
        )
        noise = b.slider(
            "SmoothGrad noise σ (share of the value range, max − min)",
            0.01,
            0.5,
            attribution_analysis.DEFAULT_NOISE_LEVEL,
            key=f"{prefix}_noise",
            help="Smilkov et al. 2017 recommend 10–20%; the map is the mean |gradient| over the "
            "noisy copies, as in the paper's figures.",
        )
        top_n = c.slider(
            "Score-CAM channels (top N, 0 = all)",
            0,
            256,
            attribution_analysis.DEFAULT_SCORECAM_TOP_N,
            key=f"{prefix}_top_n",
        )
        layer = None
        if cam_layers:
            default_layer = layers_default_cam(model_source, cam_layers)
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
    first = next(iter(infos.values()))
    names = sample_set.extras.get("feature_names")
    names = [str(name) for name in names.reshape(-1)] if names is not None else None
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
        error = float(ig.completeness_error[0])
        st.caption(
            f"Integrated gradients' completeness error: **{error:.1%}** (attributions sum to "
            "F(x) − F(baseline) up to this share; under 5% means enough steps)."
        )
    sanity_view(model_source, samples_source, index, infos, method_options, options, prefix)
    if sample_set.per_sample("masks") is not None:
        pointing_view(model_source, samples_source, available, method_options, options, prefix)
    return infos


def layers_default_cam(model_source, cam_layers) -> str:
    from neurogenesis.analysis.graph import last_conv_layer

    default = last_conv_layer(cached.model(model_source), cached.graph_layers(model_source))
    return default if default in cam_layers else cam_layers[-1]


def sanity_view(
    model_source, samples_source, index, infos, method_options, options, prefix
) -> None:
    st.markdown("**Sanity check** (Adebayo et al. 2018): does the map depend on the weights?")
    left, right = st.columns([2, 1], vertical_alignment="bottom")
    method = left.selectbox(
        "Method to check", list(infos), format_func=METHOD_LABELS.get, key=f"{prefix}_sanity_method"
    )
    key = f"{prefix}_sanity_run"
    if right.button("Randomize the top layers and compare", key=f"{prefix}_sanity"):
        st.session_state[key] = method
    if st.session_state.get(key) != method:
        st.caption(
            "Re-runs the method on a copy of the model whose layers are re-initialized from the "
            "output down, one more at each stage, and compares the maps by rank correlation."
        )
        return
    bar = st.progress(0.0, text="Randomizing layer by layer…")
    try:
        sanity = cached.sanity_check(
            model_source,
            samples_source,
            (index,),
            method,
            {**options, **method_options.get(method, {})},
            progress=lambda f: bar.progress(min(max(float(f), 0.0), 1.0)),
        )
    except InputError as error:
        bar.empty()
        st.warning(str(error))
        return
    bar.empty()
    chart(
        plot_sanity_check(sanity),
        key=f"{prefix}_sanity_chart",
        data=pd.DataFrame(
            {
                "layers randomized": ["original", *sanity.layers],
                "median rank correlation": [
                    1.0,
                    *np.median(np.asarray(sanity.rank_correlation, dtype=float), axis=1),
                ],
            }
        ),
    )
    final = float(np.median(sanity.rank_correlation[-1]))
    verdict = "passes" if sanity.passed else "FAILS"
    st.caption(
        f"{METHOD_LABELS[method]} {verdict}: after randomizing {len(sanity.layers)} layers the "
        f"map's rank correlation with the original is {final:.2f} (a method that explains the "
        "model should drop toward 0; one that stays high is showing the input, not the model)."
    )


def pointing_view(model_source, samples_source, available, method_options, options, prefix) -> None:
    st.markdown(
        "**Pointing game** (Zhang et al. 2016): how often the map's maximum lands on the object, "
        f"over the first {POINTING_SAMPLES} samples, whose object masks this sample set keeps."
    )
    if not st.toggle("Score every method", key=f"{prefix}_pointing"):
        return
    scores = {}
    bar = st.progress(0.0, text="Scoring…")
    for number, method in enumerate(available):
        result = cached.pointing_game(
            model_source,
            samples_source,
            method,
            POINTING_SAMPLES,
            {**options, **method_options.get(method, {})},
            progress=lambda f, n=number: bar.progress(
                min((n + float(f)) / len(available), 1.0), text=f"{METHOD_LABELS[available[n]]}…"
            ),
        )
        label = METHOD_LABELS[method]
        if method == "smoothgrad":
            smooth = method_options.get("smoothgrad", {})
            copies = capped_steps(
                smooth.get("num_samples", attribution_analysis.DEFAULT_SMOOTHGRAD_SAMPLES)
            )
            noise = smooth.get("noise_level", attribution_analysis.DEFAULT_NOISE_LEVEL)
            label = f"SmoothGrad ({copies} × σ {noise:.0%})"
        scores[label] = float(result.score)
    ig_options = method_options.get("integrated_gradients", {})
    if "integrated_gradients" in available and ig_options.get("baseline") != "blur":
        # A black baseline counts a coloured background as evidence too; a blurred copy of the
        # input keeps the colours and removes only the edges (Sundararajan et al. discuss both).
        result = cached.pointing_game(
            model_source,
            samples_source,
            "integrated_gradients",
            POINTING_SAMPLES,
            {**options, **ig_options, "baseline": "blur"},
        )
        scores["Integrated gradients (blur baseline)"] = float(result.score)
    bar.empty()
    chart(
        plot_pointing_game(scores),
        key=f"{prefix}_pointing_chart",
        data=pd.DataFrame({"method": list(scores), "pointing game score": list(scores.values())}),
    )


def token_view(model_source, samples_source, predictions, index, words, prefix):
    """Token attribution of one text sample; returns ``(method, info)`` (info None on failure)."""
    left, right = st.columns(2)
    method = (
        left.segmented_control(
            "Method",
            ("integrated_gradients", "gradient"),
            default="integrated_gradients",
            format_func={
                "integrated_gradients": "Integrated gradients",
                "gradient": "Gradient × input",
            }.get,
            key=f"{prefix}_token_method",
        )
        or "integrated_gradients"
    )
    targets = ["predicted"] + list(range(predictions.num_classes or 0))
    target = right.selectbox(
        "Class to explain",
        targets,
        format_func=lambda t: (
            "the predicted class" if t == "predicted" else class_name(predictions, t)
        ),
        key=f"{prefix}_token_target",
    )
    options = {} if target == "predicted" else {"target": int(target)}
    try:
        info = cached.token_attribution(model_source, samples_source, (index,), method, options)
    except InputError as error:
        st.warning(str(error))
        return method, None
    shown = (
        words[index]
        if words is not None
        else [str(t) for t in cached.samples(samples_source).x[index]]
    )
    chart(
        plot_token_attribution(info, shown, 0),
        key=f"{prefix}_tokens",
        data=pd.DataFrame(
            {
                "position": np.arange(len(info.scores[0])),
                "token": [*shown, *[""] * max(0, len(info.scores[0]) - len(shown))][
                    : len(info.scores[0])
                ],
                "attribution": np.asarray(info.scores[0], dtype=float),
            }
        ),
    )
    if info.completeness_error is not None:
        st.caption(
            f"Red tokens push toward {class_name(predictions, info.target[0])}, blue ones away. "
            f"Completeness error: {float(info.completeness_error[0]):.1%}."
        )
    return method, info
