"""The checks below the attribution maps (the sanity check and the pointing game) and token
attributions of a text sample: parts of :mod:`app_pages.ui.attribution`'s view."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app_pages.ui.charts import chart
from app_pages.ui.samples import shown_input
from app_pages.ui.typed_text import typed_input
from neurogenesis import cached
from neurogenesis.analysis.attribution import DEFAULT_NOISE_LEVEL, DEFAULT_SMOOTHGRAD_SAMPLES
from neurogenesis.errors import InputError
from neurogenesis.plotting.attribution import (
    METHOD_LABELS,
    completeness_summary,
    plot_pointing_game,
    plot_sanity_check,
    plot_token_attribution,
    pointing_game_table,
    sanity_check_table,
    token_attribution_table,
)
from neurogenesis.plotting.features import class_name

POINTING_SAMPLES = 60


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
        data=sanity_check_table(sanity),
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
            copies = cached.capped_steps(smooth.get("num_samples", DEFAULT_SMOOTHGRAD_SAMPLES))
            noise = smooth.get("noise_level", DEFAULT_NOISE_LEVEL)
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
        data=pointing_game_table(scores),
    )


def token_view(
    model_source, samples_source, predictions, index, words, prefix, typed=None, num_classes=None
):
    """Token attribution of one text sample, or of ``typed``: ``(x, tokens)``, text the user
    typed read by the model's tokenizer (its packed inputs and its tokens); ``num_classes``
    (default the predictions') the classes offered. Returns ``(method, info)`` (info None on
    failure)."""
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
    targets = ["predicted", *range(num_classes or predictions.num_classes or 0)]
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
        if typed is None:
            info = cached.token_attribution(model_source, samples_source, (index,), method, options)
        else:  # keyed by the packed arrays' bytes, not by a sample's index
            info = cached.token_attribution_of(model_source, typed[0], method, options)
    except InputError as error:
        st.warning(str(error))
        return method, None
    if typed is not None:
        shown = typed[1]
    elif words is not None:
        shown = words[index]
    else:
        shown = [str(t) for t in shown_input(cached.samples(samples_source))[index]]
    chart(
        plot_token_attribution(info, shown, 0),
        key=f"{prefix}_tokens",
        data=token_attribution_table(info, shown),
    )
    if info.completeness_error is not None:
        st.caption(
            f"Red tokens push toward {class_name(predictions, info.target[0])}, blue ones away. "
            f"Completeness error: {completeness_summary(info.completeness_error)}."
        )
    return method, info


def typed_token_view(model_source, saved, predictions, layers, prefix):
    """Token attribution of text the user types, tokenized and packed by the model's saved
    preprocessor ``saved`` (``ui.typed_text``); ``predictions`` of the sample set name the
    classes (None: the typed text's own). Returns ``(method, info)`` (info None on failure)."""
    x, tokens = typed_input(prefix, saved)
    if x is None:
        return None, None
    if predictions is None:
        try:
            predictions = cached.input_prediction(model_source, x)
        except InputError as error:
            st.warning(str(error))
            return None, None
    # The output's width: a classifier returning logits has its classes without labels to tell.
    shape = tuple(layers.output_shape)
    width = int(shape[0]) if len(shape) == 1 and shape[0] and shape[0] > 1 else 0
    method, info = token_view(
        model_source, None, predictions, None, None, prefix, typed=(x, tokens), num_classes=width
    )
    if info is not None and width:
        predicted = int(np.argmax(info.probabilities[0]))
        st.markdown(f"Model's prediction for this text: **{class_name(predictions, predicted)}**")
    return method, info
