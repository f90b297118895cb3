"""Debugging, Adversarial tab: FGSM or PGD within an ε you choose, on the chosen sample and on a
batch: does the model hold?"""

from __future__ import annotations

import numpy as np
import streamlit as st

from app_pages import ui
from app_pages.debugging_attack_batch import batch_view
from app_pages.debugging_parts import (
    class_names,
    feature_units,
    fixed_features,
    live_attribution,
    state,
    target,
    with_unit,
)
from neurogenesis import cached
from neurogenesis.analysis.robustness import DEFAULT_PGD_STEPS, DEFAULT_STEP_FACTOR
from neurogenesis.errors import InputError
from neurogenesis.plotting.robustness import (
    plot_adversarial_example,
    plot_prediction_change,
    prediction_change_table,
)


def _settings(samples_source, sample_set, per_feature: bool, low: float, high: float):
    """The attack, ε as a share and the attack's options, from the widgets."""
    a, b, c, d = st.columns(4)
    method = (
        a.segmented_control(
            "Attack",
            ("fgsm", "pgd"),
            default="pgd",
            format_func={"fgsm": "FGSM", "pgd": "PGD (L∞)"}.get,
            key=state("attack"),
        )
        or "pgd"
    )
    share = b.slider(
        "ε (share of each feature's range)" if per_feature else "ε (share of the value range)",
        0.0,
        0.3,
        0.03,
        0.005,
        key=state("epsilon"),
        help=(
            "Each feature moves by at most this share of its own observed range, and stays "
            "inside that range."
            if per_feature
            else f"The value range is [{low:g}, {high:g}]; 8/255 ≈ 0.031 is the usual image budget."
        ),
    )
    if per_feature:
        fixed = fixed_features(samples_source, sample_set, "attack")
        options = {"epsilon_share": share, "fixed_features": fixed}
    else:
        options = {"epsilon": share * (high - low)}
    if method == "pgd":
        steps = c.slider("Steps", 1, 50, DEFAULT_PGD_STEPS, key=state("attack_steps"))
        factor = d.slider(
            "Step size (× ε / steps)",
            0.5,
            5.0,
            DEFAULT_STEP_FACTOR,
            0.25,
            key=state("step_factor"),
            help="Madry et al. use 2.5: each step can cross the ball, and the projection keeps it inside.",
        )
        options.update(steps=steps, step_factor=factor)
    return method, share, options


def adversarial_view(model_source, samples_source, sample_set, predictions, index, kind):
    reason = cached.reason(model_source, "attack")
    if reason:
        st.info(
            f"{reason} The Perturbation tab edits tokens instead." if kind == "text" else reason
        )
        return
    per_feature = cached.per_feature_range(samples_source)
    low, high = cached.value_range(samples_source)
    span = high - low
    method, share, options = _settings(samples_source, sample_set, per_feature, low, high)
    if per_feature:
        fixed = len(options["fixed_features"])
        st.caption(
            f"ε = {share:.1%} of each feature's observed range (L∞ per feature, the table below "
            f"gives each ε in its units); values stay inside each feature's range"
            + (f"; {fixed} fixed feature{'s' if fixed != 1 else ''} never move." if fixed else ".")
        )
    else:
        st.caption(
            f"ε = {share * span:.4g} input units, {share:.1%} of the value range [{low:g}, {high:g}] "
            "(L∞: no value moves further than that)."
        )
    if share <= 0:
        st.info("Raise ε above 0 to attack.")
        return
    try:
        single = cached.adversarial(model_source, samples_source, (index,), method, options)
    except InputError as error:
        st.warning(str(error))
        return
    x_adv = single.x_adv[0]
    ui.chart(
        plot_adversarial_example(
            np.asarray(ui.shown_input(sample_set)[index]),
            x_adv,
            value_range=(low, high),
            feature_names=sample_set.feature_names,
            feature_epsilon=single.epsilon if per_feature else None,
            feature_units=feature_units(sample_set) if per_feature else None,
        ),
        key=state("adversarial_example"),
    )
    target_name, target_unit = target(sample_set)
    left, right = st.columns([1, 1])
    clean, attacked = single.clean_probabilities[0], single.adversarial_probabilities[0]
    if single.task == "regression":
        before, after = float(clean.reshape(-1)[0]), float(attacked.reshape(-1)[0])
        right.metric(
            f"Prediction ({target_name})",
            with_unit(after, target_unit),
            with_unit(after - before, target_unit, "+.3g"),
        )
    names = ("original", "adversarial")
    with left:
        ui.chart(
            plot_prediction_change(
                class_names(predictions) or [target_name], clean, attacked, names=names
            ),
            key=state("adversarial_prediction"),
            data=prediction_change_table(class_names(predictions), clean, attacked, names),
        )
    budget = (
        f"every feature moved by at most its ε ({share:.1%} of its range)"
        if per_feature
        else f"every value moved by at most {float(single.linf):.3g} (ε = {share * span:.3g})"
    )
    if single.task != "regression":
        before, after = int(single.clean_predictions[0]), int(single.adversarial_predictions[0])
        clean_p, after_p = float(np.ravel(clean)[before]), float(np.ravel(attacked)[after])
        if before != after:
            right.warning(
                f"**The attack fooled the model**: {ui.class_name(predictions, before)} "
                f"({clean_p:.1%}) → {ui.class_name(predictions, after)} ({after_p:.1%}), "
                f"{budget}.",
                icon=":material/bolt:",
            )
        else:
            right.success(
                f"**The model held**: still {ui.class_name(predictions, after)} "
                f"({after_p:.1%}, was {clean_p:.1%}) with {budget}."
            )
    live_attribution(
        model_source,
        predictions,
        ui.shown_input(sample_set)[index],
        x_adv,
        kind,
        sample_set,
        names,
        "adversarial",
    )
    batch_view(model_source, samples_source, sample_set, predictions, kind, single, method, options)
