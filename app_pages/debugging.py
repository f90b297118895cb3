"""Debugging: on which inputs does the model fail, why, how fragile is it, and is the other model really better?"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import streamlit as st

from app_pages import ui
from neurogenesis import cached
from neurogenesis.analysis import attribution as attribution_analysis
from neurogenesis.analysis import evaluation
from neurogenesis.analysis import robustness as robustness_analysis
from neurogenesis.analysis.graph import model_input
from neurogenesis.errors import InputError
from neurogenesis.plotting.attribution import (
    METHOD_LABELS,
    attribution_values,
    plot_attribution,
    plot_token_attribution,
    shared_limit,
)
from neurogenesis.plotting.evaluation import (
    plot_bootstrap,
    plot_class_metrics,
    plot_confusion_matrix,
    plot_error_comparison,
    plot_horizon_error,
    plot_mcnemar,
    plot_pareto,
    plot_profile,
    plot_reliability_diagram,
    plot_residuals,
    plot_seed_comparison,
    plot_slices,
    plot_throughput,
)
from neurogenesis.plotting.features import plot_sample_grid
from neurogenesis.plotting.robustness import (
    plot_adversarial_example,
    plot_perturbed_input,
    plot_prediction_change,
    plot_robustness_curves,
    plot_robustness_overview,
)

TABS = ("Explain", "Perturbation", "Adversarial", "Robustness", "Errors", "Compare models")
PREFIX = "debugging"
BATCH_ATTACK_DEFAULT = 200
CURVE_SAMPLES_DEFAULT = 200
SHOWN_SAMPLES = 24
MAX_SLICE_GROUPS = 40
COMPARE_SAMPLES_NOTE = 30
PARETO_BATCH = 32
# Attribution of a perturbed or adversarial sample: the gradient-based methods that need no
# settings beyond the features page's defaults.
LIVE_METHODS = ("integrated_gradients", "gradient", "smoothgrad", "gradcam")


def _state(name: str) -> str:
    return f"{PREFIX}_{name}"


def _names(predictions) -> list[str]:
    count = predictions.num_classes or 0
    return [ui.class_name(predictions, c) for c in range(count)]


def _feature_names(sample_set) -> list[str] | None:
    names = sample_set.extras.get("feature_names")
    return [str(name) for name in names.reshape(-1)] if names is not None else None


def _vocabulary(sample_set) -> list[str] | None:
    vocabulary = sample_set.extras.get("vocabulary")
    return [str(word) for word in vocabulary.reshape(-1)] if vocabulary is not None else None


def _word(vocabulary, token: int) -> str:
    if vocabulary is not None and 0 <= int(token) < len(vocabulary):
        return vocabulary[int(token)]
    return f"#{int(token)}"


def _sample_grid(sample_set, predictions, indices, kind: str, key: str) -> None:
    """Samples as thumbnails (or a table for text); a click makes one the chosen sample."""
    indices = np.asarray(indices, dtype=np.int64)[:SHOWN_SAMPLES]
    if len(indices) == 0:
        st.caption("No samples.")
        return
    if kind == "text":
        words = ui.words_of(sample_set)
        table = pd.DataFrame(
            {
                "sample": indices,
                "text": [ui.sample_text(sample_set, int(i), words) for i in indices],
                "facts": [ui.caption(predictions, int(i)) for i in indices],
            }
        )
        event = st.dataframe(
            table,
            hide_index=True,
            on_select="rerun",
            selection_mode="single-row",
            key=key,
        )
        rows = event.selection.rows if event is not None else []
        if rows:
            _choose(int(indices[rows[0]]))
        return
    figure = plot_sample_grid(
        sample_set.x,
        indices,
        kind="image" if kind == "image" else "series" if kind == "series" else "array",
        captions=[ui.caption(predictions, int(i)) for i in indices],
        wrong=(predictions.correct[indices] == 0) if predictions.correct is not None else None,
        feature_names=sample_set.extras.get("feature_names"),
    )
    ui.chart(
        figure,
        key=key,
        data=partial(ui.sample_table, predictions, indices),
        on_select=lambda: ui.select_from_chart(key, _state("clicked")),
        selection_mode="points",
    )
    clicked = st.session_state.pop(_state("clicked"), None)
    if clicked is not None:
        _choose(int(clicked))


def _outputs_table(predictions, before, after, names=("original", "perturbed")) -> pd.DataFrame:
    """The model's outputs for two versions of a sample, one row per class (or output)."""
    before, after = np.ravel(before), np.ravel(after)
    classes = _names(predictions)
    if len(classes) != len(before):
        classes = [f"output {k}" for k in range(len(before))]
    return pd.DataFrame({"class": classes, names[0]: before, names[1]: after})


def _choose(index: int) -> None:
    """Makes ``index`` the sample every tab looks at (filters are cleared so it is listed)."""
    if st.session_state.get(_state("sample")) == index:
        return
    for name in ("label", "prediction"):
        st.session_state[_state(name)] = []
    st.session_state[_state("correct")] = "all"
    st.session_state[_state("confidence")] = (0.0, 1.0)
    st.session_state[_state("sample")] = index
    st.rerun()


# --- Explain ------------------------------------------------------------------------------------


def explain_view(model_source, samples_source, sample_set, predictions, index, kind, words, layers):
    st.caption(
        "The attribution methods of the features page for the chosen prediction, and the inputs "
        "that drove it most."
    )
    infos = ui.attribution_view(
        model_source,
        samples_source,
        sample_set,
        predictions,
        index,
        kind,
        words,
        layers,
        PREFIX,
    )
    if not infos:
        return
    method, info = next(iter(infos.items()))
    st.markdown(f"**What drove it** ({_method_label(method)})")
    st.dataframe(_top_table(info, sample_set, kind), hide_index=True, key=_state("top_features"))


def _method_label(method: str) -> str:
    return METHOD_LABELS.get(method, {"gradient": "Gradient × input"}.get(method, method))


def _top_table(info, sample_set, kind: str, k: int = 10) -> pd.DataFrame:
    """The positions with the largest attribution, named as the user knows them."""
    if kind == "text":
        values = np.asarray(info.scores[0])
        tokens = np.asarray(info.tokens[0])
        vocabulary = _vocabulary(sample_set)
        present = np.flatnonzero(tokens != 0)
        top = attribution_analysis.top_attributions(values[present], k)
        return pd.DataFrame(
            {
                "position": present[top.positions[:, 0]],
                "token": [_word(vocabulary, tokens[present[p]]) for p in top.positions[:, 0]],
                "attribution": top.values,
                "share of |total|": top.shares,
            }
        )
    # what the chart draws: signed methods' attributions, every other method's magnitude map
    values, signed = attribution_values(info, 0)
    if kind == "image" and values.ndim == 3:
        values = values.sum(axis=-1)  # a pixel's evidence over its channels
    top = attribution_analysis.top_attributions(values, k)
    frame = {}
    if kind == "image":
        frame["row"] = top.positions[:, 0]
        frame["column"] = top.positions[:, 1]
    elif kind == "series" and values.ndim == 2:
        names = _feature_names(sample_set)
        frame["time step"] = top.positions[:, 0]
        frame["feature"] = [
            names[f] if names and f < len(names) else f"feature {f}" for f in top.positions[:, 1]
        ]
    else:
        frame["position"] = [tuple(int(v) for v in p) for p in top.positions]
    frame["attribution" if signed else "map value"] = top.values
    frame["share of |total|"] = top.shares
    return pd.DataFrame(frame)


# --- Perturbation -------------------------------------------------------------------------------


def _image_steps(sample_set) -> list:
    height, width = sample_set.x.shape[1:3]
    a, b, c = st.columns(3)
    steps = [
        (
            "gaussian_noise",
            {
                "strength": a.slider(
                    "Noise (std, share of range)", 0.0, 0.5, 0.0, 0.01, key=_state("noise")
                )
            },
        ),
        (
            "blur",
            {"strength": a.slider("Blur (sigma, pixels)", 0.0, 3.0, 0.0, 0.1, key=_state("blur"))},
        ),
        (
            "brightness",
            {
                "strength": b.slider(
                    "Brightness (share of range)", -0.5, 0.5, 0.0, 0.02, key=_state("brightness")
                )
            },
        ),
        (
            "contrast",
            {
                "strength": b.slider(
                    "Contrast reduction", -1.0, 0.95, 0.0, 0.05, key=_state("contrast")
                )
            },
        ),
        (
            "rotation",
            {
                "strength": c.slider(
                    "Rotation (degrees)", -45.0, 45.0, 0.0, 1.0, key=_state("rotation")
                )
            },
        ),
    ]
    down = c.slider("Shift down (pixels)", -height // 4, height // 4, 0, key=_state("shift_down"))
    right = c.slider("Shift right (pixels)", -width // 4, width // 4, 0, key=_state("shift_right"))
    if down or right:
        steps.append(("shift", {"strength": (float(down), float(right))}))
    with st.container(border=True):
        st.caption("Occlusion patch (grey, the middle of the value range)")
        a, b, c = st.columns(3)
        size = a.slider(
            "Patch size (pixels)", 0, max(1, min(height, width) // 2), 0, key=_state("patch")
        )
        top = b.slider("Top", 0, height - 1, height // 3, key=_state("patch_top"))
        left = c.slider("Left", 0, width - 1, width // 3, key=_state("patch_left"))
    steps.append(("occlusion", {"top": top, "left": left, "size": size}))
    return steps


def _series_steps(sample_set) -> list:
    steps = sample_set.x.shape[1]
    a, b = st.columns(2)
    strength = a.slider(
        "Noise (std, share of each feature's std)",
        0.0,
        1.0,
        0.0,
        0.05,
        key=_state("series_noise"),
    )
    with a:
        fixed = _fixed_features(sample_set, "perturbation")
    return [
        ("series_noise", {"strength": strength, "fixed_features": fixed}),
        (
            "series_shift",
            {
                "strength": b.slider(
                    "Delay (steps; negative: advance)",
                    -(steps // 2),
                    steps // 2,
                    0,
                    key=_state("series_shift"),
                )
            },
        ),
    ]


def _text_steps(sample_set, index: int) -> list:
    vocabulary = _vocabulary(sample_set)
    tokens = np.asarray(sample_set.x[index])
    present = [int(p) for p in np.flatnonzero(tokens != 0)]

    def label(position: int) -> str:
        return f"{position}: {_word(vocabulary, tokens[position])}"

    a, b = st.columns(2)
    masked = a.multiselect(
        "Mask tokens ([UNK])", present, format_func=label, key=_state(f"mask_{index}")
    )
    deleted = b.multiselect(
        "Delete tokens", present, format_func=label, key=_state(f"delete_{index}")
    )
    a, b = st.columns(2)
    position = a.selectbox(
        "Replace the token at",
        [None, *present],
        format_func=lambda p: "–" if p is None else label(p),
        key=_state(f"replace_at_{index}"),
    )
    steps = [("mask_tokens", {"positions": masked}), ("delete_tokens", {"positions": deleted})]
    if position is not None:
        choices = list(range(2, len(vocabulary))) if vocabulary else list(range(2, 100))
        token = b.selectbox(
            "…by",
            choices,
            format_func=lambda t: _word(vocabulary, t),
            key=_state(f"replace_by_{index}"),
        )
        # Replace before masking and deleting: deleting shifts the positions the user picked.
        steps.insert(0, ("replace_tokens", {"position": position, "token_id": int(token)}))
    return steps


def perturbation_view(model_source, samples_source, sample_set, predictions, index, kind):
    reason = robustness_analysis.curves_reason(cached.model(model_source))
    if reason:
        st.info(reason)
        return
    st.caption(
        f"Perturb sample #{index} and watch the prediction."
        + (
            " Token edits apply in order: replace, mask, then delete."
            if kind == "text"
            else " Noise uses a fixed seed, so moving a slider changes only the strength."
        )
    )
    if kind == "image":
        steps = _image_steps(sample_set)
    elif kind == "series":
        steps = _series_steps(sample_set)
    elif kind == "text":
        steps = _text_steps(sample_set, index)
    else:
        st.info("Perturbations are defined for images, series and token sequences.")
        return
    try:
        info = cached.perturbation(model_source, samples_source, index, steps)
    except InputError as error:
        st.warning(str(error))
        return
    left, right = st.columns(2)
    with left:
        ui.chart(
            plot_perturbed_input(
                info.perturbed,
                value_range=info.value_range,
                kind=kind,
                vocabulary=_vocabulary(sample_set),
                original=info.original,
                feature_names=_feature_names(sample_set),
                feature_units=_feature_units(sample_set, sample_set.x.shape[-1])
                if kind == "series"
                else None,
            ),
            key=_state("perturbed_input"),
        )
    with right:
        ui.chart(
            plot_prediction_change(
                _names(predictions) or [_target(sample_set)[0]],
                info.original_output,
                info.perturbed_output,
            ),
            key=_state("perturbed_prediction"),
            data=_outputs_table(predictions, info.original_output, info.perturbed_output),
        )
    if info.task == "regression":
        change = float(info.perturbed_output[0] - info.original_output[0])
        name, unit = _target(sample_set)
        st.caption(f"The predicted {name} moved by **{_with_unit(change, unit, '+.3g')}**.")
    elif info.flipped:
        st.warning(
            f"**The prediction flipped**: "
            f"{ui.class_name(predictions, info.original_prediction)} "
            f"({float(info.original_output[info.original_prediction]):.1%}) → "
            f"{ui.class_name(predictions, info.perturbed_prediction)} "
            f"({float(info.perturbed_output[info.perturbed_prediction]):.1%}).",
            icon=":material/bolt:",
        )
    else:
        st.success(
            f"Still {ui.class_name(predictions, info.perturbed_prediction)} "
            f"({float(info.perturbed_output[info.perturbed_prediction]):.1%})."
        )
    _live_attribution(
        model_source,
        predictions,
        info.original,
        info.perturbed,
        kind,
        sample_set,
        ("original", "perturbed"),
        "perturbed",
    )


def _live_attribution(model_source, predictions, before, after, kind, sample_set, names, key):
    """Attribution maps of two versions of one sample, side by side."""
    model = cached.model(model_source)
    if kind == "text":
        if attribution_analysis.token_reason(model):
            return
        infos = [
            cached.token_attribution_of(
                model_source, np.asarray(x)[None], "integrated_gradients", {}
            )
            for x in (before, after)
        ]
        vocabulary = _vocabulary(sample_set)
        st.markdown("**Token attribution** (integrated gradients, predicted class)")
        for name, info, x in zip(names, infos, (before, after), strict=True):
            words = [_word(vocabulary, t) for t in np.asarray(x)]
            figure = plot_token_attribution(info, words, 0)
            figure.update_layout(title={"text": name})
            ui.chart(
                figure,
                key=_state(f"{key}_tokens_{name}"),
                data=pd.DataFrame(
                    {
                        "position": np.arange(len(words)),
                        "token": words,
                        "attribution": np.asarray(info.scores[0], dtype=float)[: len(words)],
                    }
                ),
            )
        return
    available = [m for m in LIVE_METHODS if not attribution_analysis.method_reason(model, m)]
    if not available:
        return
    method = (
        st.segmented_control(
            "Attribution",
            available,
            default=available[0],
            format_func=METHOD_LABELS.get,
            key=_state(f"{key}_method"),
        )
        or available[0]
    )
    # Both maps explain the class predicted for the first version, so they answer one question,
    # and share one colour scale, so that a brighter cell means a larger attribution.
    infos, target = [], None
    for x in (before, after):
        settings = {} if target is None else {"target": target}
        try:
            info = cached.attribution_of(model_source, np.asarray(x)[None], method, settings)
        except InputError as error:
            st.warning(str(error))
            return
        if predictions.num_classes and target is None:
            target = int(info.target[0])
        infos.append(info)
    explained = (
        ui.class_name(predictions, target) if predictions.num_classes else _target(sample_set)[0]
    )
    st.caption(
        f"Both maps explain '{explained}' and share one colour scale ({_method_label(method)})."
    )
    limit = shared_limit(infos)
    for column, name, x, info in zip(st.columns(2), names, (before, after), infos, strict=True):
        figure = plot_attribution(
            info, np.asarray(x), 0, feature_names=_feature_names(sample_set), limit=limit
        )
        figure.update_layout(title={"text": f"{name}: {_method_label(method)}"})
        with column:
            ui.chart(
                figure,
                key=_state(f"{key}_attribution_{name}"),
                data=partial(ui.attribution_table, {method: info}),
            )


# --- Adversarial --------------------------------------------------------------------------------


def _fixed_features(sample_set, where: str) -> tuple[int, ...]:
    """The features the user keeps out of attacks and noise (calendar features by default); one
    choice shared by the tabs that ask."""
    count = sample_set.x.shape[-1]
    names = _feature_names(sample_set) or [f"feature {k}" for k in range(count)]
    saved = st.session_state.setdefault(_state("fixed"), {})
    default = saved.get(
        tuple(names), robustness_analysis.default_fixed_features(sample_set.x, names)
    )
    chosen = st.multiselect(
        "Fixed features (never perturbed)",
        list(range(count)),
        default=[int(k) for k in default],
        format_func=names.__getitem__,
        key=_state(f"fixed_{where}"),
        help="An attack cannot move the date: calendar and clock features (names like "
        "day_of_year_sin, month, hour) and features constant within each sample are fixed by "
        "default.",
    )
    saved[tuple(names)] = tuple(sorted(int(k) for k in chosen))
    return saved[tuple(names)]


def _target(sample_set) -> tuple[str, str]:
    """The regression target's name and unit, from the sample set's ``target_name`` (``"next-day
    temp_max (°C)"`` gives ``("next-day temp_max (°C)", "°C")``); ``("output", "")`` without."""
    raw = sample_set.extras.get("target_name")
    name = str(np.asarray(raw).reshape(-1)[0]) if raw is not None else "output"
    unit = name[name.rfind("(") + 1 : -1] if name.endswith(")") and "(" in name else ""
    return name, unit


def _with_unit(value: float, unit: str, spec: str = ".3g") -> str:
    return f"{value:{spec}} {unit}".rstrip()


def _feature_units(sample_set, count: int) -> list[str]:
    units = sample_set.extras.get("feature_units")
    units = [str(u) for u in units.reshape(-1)] if units is not None else []
    return units if len(units) == count else [""] * count


def _budget_table(sample_set, single, batch=None) -> pd.DataFrame:
    """Per feature: its observed range, its ε and the largest change the attack made."""
    low, high = np.asarray(single.value_range, dtype=np.float64)
    epsilon = np.asarray(single.epsilon, dtype=np.float64)
    count = len(low)
    names = _feature_names(sample_set) or [f"feature {k}" for k in range(count)]
    table = {
        "feature": names,
        "unit": _feature_units(sample_set, count),
        "low": low,
        "high": high,
        "ε": epsilon,
        "change (this sample)": single.feature_linf,
    }
    if batch is not None:
        table["largest change (batch)"] = batch.feature_linf
    table["fixed"] = epsilon == 0
    return pd.DataFrame(table)


def adversarial_view(model_source, samples_source, sample_set, predictions, index, kind):
    model = cached.model(model_source)
    reason = robustness_analysis.attack_reason(model)
    if reason:
        st.info(
            f"{reason} The Perturbation tab edits tokens instead." if kind == "text" else reason
        )
        return
    bounds = robustness_analysis.set_range(sample_set.x)
    per_feature = robustness_analysis.is_per_feature(bounds)
    low, high = robustness_analysis.value_range(sample_set.x)
    span = high - low
    a, b, c, d = st.columns(4)
    method = (
        a.segmented_control(
            "Attack",
            ("fgsm", "pgd"),
            default="pgd",
            format_func={"fgsm": "FGSM", "pgd": "PGD (L∞)"}.get,
            key=_state("attack"),
        )
        or "pgd"
    )
    share = b.slider(
        "ε (share of each feature's range)" if per_feature else "ε (share of the value range)",
        0.0,
        0.3,
        0.03,
        0.005,
        key=_state("epsilon"),
        help=(
            "Each feature moves by at most this share of its own observed range, and stays "
            "inside that range."
            if per_feature
            else f"The value range is [{low:g}, {high:g}]; 8/255 ≈ 0.031 is the usual image budget."
        ),
    )
    if per_feature:
        options = {"epsilon_share": share, "fixed_features": _fixed_features(sample_set, "attack")}
    else:
        options = {"epsilon": share * span}
    if method == "pgd":
        steps = c.slider("Steps", 1, 50, robustness_analysis.DEFAULT_PGD_STEPS, key=_state("steps"))
        factor = d.slider(
            "Step size (× ε / steps)",
            0.5,
            5.0,
            robustness_analysis.DEFAULT_STEP_FACTOR,
            0.25,
            key=_state("step_factor"),
            help="Madry et al. use 2.5: each step can cross the ball, and the projection keeps it inside.",
        )
        options.update(steps=steps, step_factor=factor)
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
            np.asarray(sample_set.x[index]),
            x_adv,
            value_range=(low, high),
            feature_names=_feature_names(sample_set),
            feature_epsilon=single.epsilon if per_feature else None,
            feature_units=_feature_units(sample_set, sample_set.x.shape[-1])
            if per_feature
            else None,
        ),
        key=_state("adversarial_example"),
    )
    target_name, target_unit = _target(sample_set)
    left, right = st.columns([1, 1])
    if single.task == "regression":
        clean = float(single.clean_probabilities[0].reshape(-1)[0])
        attacked = float(single.adversarial_probabilities[0].reshape(-1)[0])
        right.metric(
            f"Prediction ({target_name})",
            _with_unit(attacked, target_unit),
            _with_unit(attacked - clean, target_unit, "+.3g"),
        )
    with left:
        ui.chart(
            plot_prediction_change(
                _names(predictions) or [target_name],
                single.clean_probabilities[0],
                single.adversarial_probabilities[0],
                names=("original", "adversarial"),
            ),
            key=_state("adversarial_prediction"),
            data=_outputs_table(
                predictions,
                single.clean_probabilities[0],
                single.adversarial_probabilities[0],
                ("original", "adversarial"),
            ),
        )
    budget = (
        f"every feature moved by at most its ε ({share:.1%} of its range)"
        if per_feature
        else f"every value moved by at most {float(single.linf):.3g} (ε = {share * span:.3g})"
    )
    if single.task != "regression":
        before, after = int(single.clean_predictions[0]), int(single.adversarial_predictions[0])
        clean_p = float(np.ravel(single.clean_probabilities[0])[before])
        after_p = float(np.ravel(single.adversarial_probabilities[0])[after])
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
    _live_attribution(
        model_source,
        predictions,
        sample_set.x[index],
        x_adv,
        kind,
        sample_set,
        ("original", "adversarial"),
        "adversarial",
    )

    st.markdown(
        "**Batch: accuracy under attack**"
        if single.task != "regression"
        else "**Batch: error under attack**"
    )
    count = st.slider(
        "Samples (the first N of the set)",
        10,
        len(sample_set),
        min(BATCH_ATTACK_DEFAULT, len(sample_set)),
        key=_state("attack_count"),
    )
    try:
        batch = cached.adversarial(
            model_source, samples_source, tuple(range(count)), method, options
        )
    except InputError as error:
        st.warning(str(error))
        return
    columns = st.columns(4)
    if batch.task == "regression":
        columns[0].metric("Clean MAE", _with_unit(batch.clean_error, target_unit))
        columns[1].metric(
            "MAE under attack",
            _with_unit(batch.adversarial_error, target_unit),
            _with_unit(batch.adversarial_error - batch.clean_error, target_unit, "+.3g"),
            delta_color="inverse",
        )
    else:
        columns[0].metric("Clean accuracy", f"{batch.clean_accuracy:.1%}")
        columns[1].metric(
            "Accuracy under attack",
            f"{batch.adversarial_accuracy:.1%}",
            f"{batch.adversarial_accuracy - batch.clean_accuracy:+.1%}",
        )
        flipped = np.flatnonzero(batch.clean_predictions != batch.adversarial_predictions)
        columns[2].metric("Predictions flipped", f"{len(flipped):,} of {count:,}")
    if per_feature:
        st.dataframe(
            _budget_table(sample_set, single, batch),
            hide_index=True,
            key=_state("budget"),
            column_config={
                name: st.column_config.NumberColumn(format="%.3g")
                for name in ("low", "high", "ε", "change (this sample)", "largest change (batch)")
            },
        )
    else:
        columns[3].metric(
            "Largest change (L∞)",
            f"{float(np.max(batch.linf)):.3g}",
            help=f"≤ ε = {share * span:.4g} input units",
        )
    if batch.task != "regression" and len(flipped):
        st.caption("Samples the attack flipped (click one to look at it above):")
        _sample_grid(sample_set, predictions, flipped, kind, _state("flipped_grid"))


# --- Robustness ---------------------------------------------------------------------------------


def robustness_view(model_source, samples_source, sample_set, predictions, kind):
    model = cached.model(model_source)
    reason = robustness_analysis.curves_reason(model)
    if reason or sample_set.y is None:
        st.info(reason or "The sample set has no labels, so there is no accuracy to track.")
        return
    a, b, c = st.columns([2, 1, 1], vertical_alignment="bottom")
    count = a.slider(
        "Samples (the first N of the set)",
        20,
        len(sample_set),
        min(CURVE_SAMPLES_DEFAULT, len(sample_set)),
        key=_state("curve_count"),
    )
    attack_reason = robustness_analysis.attack_reason(model)
    per_class = b.toggle(
        "Per class", key=_state("per_class"), disabled=predictions.task == "regression"
    )
    options = {"attacks": () if attack_reason else robustness_analysis.ATTACKS}
    if kind in ("series", "array") and sample_set.x.dtype.kind == "f":
        options["fixed_features"] = _fixed_features(sample_set, "robustness")
    run_key = _state("curves_run")
    wanted = (model_source.key, samples_source.key, count, tuple(sorted(options.items())))
    if c.button("Compute the curves", key=_state("curves_button")):
        st.session_state[run_key] = wanted
    if st.session_state.get(run_key) != wanted:
        st.caption(
            f"Runs every corruption at {robustness_analysis.NUM_SEVERITIES} severity levels"
            + (" and FGSM and PGD at as many budgets" if not attack_reason else "")
            + f" on {count:,} samples."
        )
        return
    bar = st.progress(0.0, text="Corrupting and attacking…")
    info = cached.robustness(
        model_source,
        samples_source,
        count,
        options,
        progress=lambda f: bar.progress(min(max(float(f), 0.0), 1.0)),
    )
    bar.empty()
    if attack_reason:
        st.caption(f"No attacks: {attack_reason}")
    curves = pd.concat(
        [
            pd.DataFrame({"curve": name, "kind": kind, "strength": strengths, info.metric: values})
            for name, kind in zip(info.names, info.kinds, strict=True)
            for strengths, values in [info.curve_values(name)]
        ],
        ignore_index=True,
    )
    unit = _target(sample_set)[1] if info.metric != "accuracy" else ""
    ui.chart(
        plot_robustness_curves(info, per_class=per_class, unit=unit),
        key=_state("curves"),
        data=curves,
    )
    summary = summary_table(info)
    ui.chart(plot_robustness_overview(info, unit=unit), key=_state("overview"), data=summary)
    st.caption(
        f"Ranked by the {info.metric.replace('_', ' ')} averaged over each curve's severity "
        f"levels 1–{robustness_analysis.NUM_SEVERITIES} (each level in its unit below), not at "
        "each corruption's strongest setting, whose size is an arbitrary choice."
    )
    number = st.column_config.NumberColumn(
        format="percent" if info.metric == "accuracy" else "%.3g"
    )
    st.dataframe(
        summary,
        hide_index=True,
        key=_state("summary"),
        column_config={name: number for name in summary.columns if summary[name].dtype.kind == "f"},
    )


def summary_table(info) -> pd.DataFrame:
    """The ranked summary with readable headers: every level with its unit."""
    metric = info.metric.replace("_", " ")
    rows = info.summary_rows()
    return pd.DataFrame(
        {
            "corruption": [row["corruption"].replace("_", " ") for row in rows],
            "kind": [row["kind"] for row in rows],
            f"severity levels 1–{robustness_analysis.NUM_SEVERITIES}": [
                row["levels"] for row in rows
            ],
            f"{metric} averaged over the levels": [row["mean"] for row in rows],
            "change from clean": [row["mean_change"] for row in rows],
            f"severity {robustness_analysis.MIDDLE_SEVERITY}": [row["middle"] for row in rows],
            f"{metric} at severity {robustness_analysis.MIDDLE_SEVERITY}": [
                row["at_middle"] for row in rows
            ],
            f"below {robustness_analysis.DROP_THRESHOLD:.0%} of clean from": [
                row["breaks_at"] or "never" for row in rows
            ],
        }
    )


# --- Errors -------------------------------------------------------------------------------------


def _metadata_columns(sample_set) -> dict[str, np.ndarray]:
    """Per-sample extras that can group samples: few distinct values, or dates (by month)."""
    columns = {}
    for name in sorted(sample_set.extras):
        values = sample_set.per_sample(name)
        if values is None or np.asarray(values).ndim != 1:
            continue
        values = np.asarray(values)
        if name.lower() in ("date", "dates", "day", "time") or values.dtype.kind == "M":
            try:
                columns[f"{name} (month)"] = evaluation.month_groups(values)
                continue
            except InputError:
                pass
        if len(np.unique(values)) <= MAX_SLICE_GROUPS:
            columns[name] = values
    return columns


def errors_view(model_source, samples_source, sample_set, predictions, kind):
    if predictions.task == "regression":
        regression_errors(sample_set, predictions)
        return
    if predictions.labels is None or predictions.predicted is None:
        st.info(
            "Error analysis needs class predictions and labels; this model returns "
            f"{predictions.task} outputs"
            + (" and the set has no labels." if predictions.labels is None else ".")
        )
        return
    confusion = cached.confusion(model_source, samples_source)
    columns = st.columns([2, 2, 2, 3])  # the colour choice needs room for its three buttons
    columns[0].metric("Accuracy", f"{confusion.accuracy:.1%}")
    columns[1].metric("Macro F1", f"{confusion.macro_f1:.3f}")
    columns[2].metric(
        "Mistakes", f"{int(np.sum(~predictions.correct.astype(bool))):,} of {len(sample_set):,}"
    )
    normalize = columns[3].segmented_control(
        "Colour by",
        ("true", "pred", None),
        default="true",
        format_func=lambda v: {
            "true": "by label",
            "pred": "by prediction",
            None: "count",
        }[v],
        key=_state("normalize"),
        help="by label: each true class's row sums to 100% (the diagonal is recall); by "
        "prediction: each predicted class's column sums to 100% (the diagonal is precision); "
        "count: samples.",
    )
    event = ui.chart(
        plot_confusion_matrix(confusion, normalize=normalize),
        key=_state("confusion"),
        data=confusion_table(confusion),
        on_select="rerun",
        selection_mode="points",
    )
    cell = _clicked_cell(event)
    if cell is not None:
        st.session_state[_state("cell")] = cell
    true, predicted = st.session_state.get(_state("cell"), (None, None))
    if true is not None and true < confusion.num_classes and predicted < confusion.num_classes:
        indices = confusion.indices(true, predicted)
        st.markdown(
            f"**Label {ui.class_name(predictions, true)}, predicted "
            f"{ui.class_name(predictions, predicted)}**: {len(indices):,} samples"
            + (f" (first {SHOWN_SAMPLES})" if len(indices) > SHOWN_SAMPLES else "")
        )
        _sample_grid(sample_set, predictions, indices, kind, _state("cell_grid"))
    else:
        st.caption("Click a cell to see its samples.")
    per_class = pd.DataFrame(
        {
            "class": confusion.label_names,
            "precision": confusion.precision,
            "recall": confusion.recall,
            "F1": confusion.f1,
            "support": confusion.support,
        }
    )
    ui.chart(plot_class_metrics(confusion), key=_state("class_metrics"), data=per_class)
    with st.expander("Per-class numbers"):
        st.dataframe(per_class, hide_index=True)
    st.markdown("**Most confident mistakes**")
    mistakes = evaluation.confident_mistakes(predictions, SHOWN_SAMPLES)
    if mistakes.num_wrong == 0:
        st.success("No mistakes on this set.")
    else:
        _sample_grid(sample_set, predictions, mistakes.indices, kind, _state("mistakes_grid"))
    st.markdown("**Calibration**: is a 90% confidence right 90% of the time?")
    a, b = st.columns(2)
    bins = a.slider("Bins", 5, 30, evaluation.DEFAULT_NUM_BINS, key=_state("bins"))
    strategy = (
        b.segmented_control(
            "Bins of",
            evaluation.CALIBRATION_STRATEGIES,
            default="uniform",
            format_func={"uniform": "equal width", "quantile": "equal count"}.get,
            key=_state("strategy"),
        )
        or "uniform"
    )
    calibration = cached.calibration(model_source, samples_source, bins, strategy)
    ui.chart(
        plot_reliability_diagram(calibration),
        key=_state("reliability"),
        data=pd.DataFrame(
            {
                "bin from": calibration.edges[:-1],
                "bin to": calibration.edges[1:],
                "mean confidence": calibration.confidence,
                "accuracy": calibration.accuracy,
                "samples": calibration.counts,
            }
        ),
    )
    st.caption(
        f"Expected calibration error **{calibration.ece:.3f}** (the sample-weighted gap between "
        f"confidence and accuracy), worst bin {calibration.mce:.3f}, Brier score "
        f"{calibration.brier:.3f}."
    )
    slicing_view(sample_set, predictions.correct.astype(bool), "accuracy")


def confusion_table(confusion) -> pd.DataFrame:
    """Counts of label (rows) × prediction (columns), as the matrix's hover says them."""
    names = [str(name) for name in confusion.label_names]
    return pd.DataFrame(
        np.asarray(confusion.matrix, dtype=np.int64),
        index=pd.Index(names, name="label"),
        columns=[f"predicted {name}" for name in names],
    )


def _clicked_cell(event) -> tuple[int, int] | None:
    points = ((event or {}).get("selection") or {}).get("points") or []
    for point in points:
        data = point.get("customdata")
        if isinstance(data, (list, tuple)) and len(data) >= 2:
            return int(data[0]), int(data[1])
    return None


def slicing_view(sample_set, values, metric: str, unit: str = "") -> None:
    columns = _metadata_columns(sample_set)
    st.markdown("**Slices**: " + ("by a metadata column of the sample set" if columns else ""))
    if not columns:
        st.caption(
            "This sample set has no per-sample metadata column (an array in the .npz with one "
            "value per sample, e.g. a source, a date or a flag) to slice by."
        )
        return
    column = st.selectbox("Slice by", list(columns), key=_state("slice_by"))
    info = evaluation.slice_info(values, columns[column])
    ui.chart(
        plot_slices(info, group_label=column, unit=unit),
        key=_state("slices"),
        data=pd.DataFrame(
            {
                column: info.groups,
                "samples": info.counts,
                info.metric: info.values,
                "low": info.low,
                "high": info.high,
            }
        ),
    )
    worst = int(np.argmin(info.values) if metric == "accuracy" else np.argmax(info.values))
    st.caption(
        f"Weakest slice: **{info.groups[worst]}** ({_with_unit(info.values[worst], unit)} over "
        f"{int(info.counts[worst]):,} samples, overall {_with_unit(info.overall, unit)})."
        + (
            " Bars are 95% Wilson intervals: slices whose bars overlap the overall line may differ by chance."
            if metric == "accuracy"
            else ""
        )
    )


def _residual_table(info) -> pd.DataFrame:
    """One row per sample and predicted step: prediction, target and residual."""
    predictions = np.asarray(info.predictions, dtype=np.float64)
    predictions = predictions.reshape(len(predictions), -1)
    count, steps = predictions.shape
    return pd.DataFrame(
        {
            "sample": np.repeat(np.arange(count), steps),
            "step": np.tile(np.arange(steps), count),
            "prediction": predictions.ravel(),
            "target": np.asarray(info.targets, dtype=np.float64).ravel(),
            "residual": np.asarray(info.residuals, dtype=np.float64).ravel(),
        }
    )


def regression_errors(sample_set, predictions) -> None:
    if predictions.labels is None:
        st.info("The sample set has no targets, so there are no residuals.")
        return
    # Error per month (or any metadata column) is drawn by the slices below.
    info = evaluation.residual_info(predictions.outputs, predictions.labels)
    target, unit = _target(sample_set)
    target = "target" if target == "output" else target
    columns = st.columns(4)
    columns[0].metric("MAE", _with_unit(info.mae, unit))
    columns[1].metric("RMSE", _with_unit(info.rmse, unit))
    columns[2].metric("R²", f"{info.r2:.3f}")
    columns[3].metric("Bias (mean residual)", _with_unit(info.bias, unit, "+.3g"))
    ui.chart(
        plot_residuals(info, unit=unit),
        key=_state("residuals"),
        data=partial(_residual_table, info),
    )
    st.caption(
        f"Residual = true {target} − prediction: positive means the model predicted too low."
    )
    if len(info.horizon) > 1:
        ui.chart(
            plot_horizon_error(info, unit=unit),
            key=_state("horizon"),
            data=pd.DataFrame(
                {"horizon": info.horizon, "MAE": info.horizon_mae, "RMSE": info.horizon_rmse}
            ),
        )
    else:
        st.caption(
            "The model predicts one step, so there is no error by horizon (a model with one "
            "output per future step gets a curve of error against how far ahead it predicts)."
        )
    st.markdown("**Largest errors**")
    worst = np.argsort(-np.abs(info.residuals).mean(axis=1))[:SHOWN_SAMPLES]
    _sample_grid(
        sample_set,
        predictions,
        worst,
        "series" if sample_set.x.ndim == 3 else "array",
        _state("worst_grid"),
    )
    slicing_view(sample_set, np.abs(info.residuals).mean(axis=1), "absolute error", unit)


# --- Compare models -----------------------------------------------------------------------------


def _recorded_runs() -> dict[str, tuple]:
    """Label -> (model Source, hyperparameters) of the chosen logs' runs that saved a model."""
    return {
        f"{name} (run)": (source, hyperparameters)
        for name, source, hyperparameters in cached.run_models(st.session_state.get("logs") or [])
    }


def _candidates(model_source, sample_set) -> dict[str, object]:
    """Label -> Source of every model that takes this sample set and gives the same output."""
    offered = dict(st.session_state.get("models") or {})
    for label, (source, _) in _recorded_runs().items():
        offered.setdefault(label, source)
    here = cached.graph_layers(model_source)
    found = {}
    for label, source in offered.items():
        try:
            layers = cached.graph_layers(source)
        except InputError:
            continue
        if list(layers.input_shapes) == list(here.input_shapes) and tuple(
            layers.output_shape
        ) == tuple(here.output_shape):
            found[label] = source
    return found


def _run_groups(chosen: dict) -> dict[str, list[tuple]]:
    """Chosen run models grouped by their hyperparameters without the seed (several seeds of one
    recipe), for the paired test across seeds: recipe -> ``(seed, label)`` sorted by seed."""
    runs = _recorded_runs()
    groups: dict[str, list[tuple]] = {}
    for label in chosen:
        hyper = runs[label][1] if label in runs else None
        if not hyper or "seed" not in hyper:
            continue
        recipe = {k: v for k, v in hyper.items() if k not in ("seed", "optimizer_config")}
        key = ", ".join(f"{k}={recipe[k]}" for k in sorted(recipe))
        groups.setdefault(key, []).append((hyper["seed"], label))
    return {key: sorted(runs) for key, runs in groups.items() if len(runs) >= 2}


def compare_view(model_source, samples_source, sample_set, predictions, kind):
    if predictions.task not in ("classification", "binary", "regression"):
        st.info(
            f"The model's outputs are not class scores or regression values ({predictions.task}), "
            "so there is no accuracy or error to compare."
        )
        return
    current = next(
        (label for label, s in (st.session_state.get("models") or {}).items() if s == model_source),
        None,
    )
    candidates = _candidates(model_source, sample_set)
    if current is None:
        current = "chosen model"
        candidates = {current: model_source, **candidates}
    others = [label for label in candidates if label != current]
    if not others:
        st.info(
            "No other model takes this sample set. Open a second model of the same input and "
            "output (`--model B.keras`, an upload, or a training log folder whose recorded runs "
            "saved model.keras) to compare."
        )
        return
    second = _different(candidates, current, others, samples_source)
    chosen = st.multiselect(
        "Models to compare (same sample set)",
        list(candidates),
        default=[current] if second is None else [current, second],
        key=_state("compare_models"),
    )
    if len(chosen) < 2:
        st.info(
            f"Every other model that takes this sample set predicts exactly as {current} does "
            "(a copy of it): pick a second model above to compare."
            if second is None and chosen == [current]
            else "Pick a second model above to compare."
        )
        return
    sources = {label: candidates[label] for label in chosen}
    infos = {label: cached.predictions(source, samples_source) for label, source in sources.items()}
    classification = predictions.task != "regression" and predictions.labels is not None
    table = pd.DataFrame(
        {
            "model": chosen,
            ("accuracy" if classification else "MAE"): [
                float(np.mean(info.correct)) if classification else float(np.nanmean(info.errors))
                for info in infos.values()
            ],
        }
    )
    unit = "" if classification else _target(sample_set)[1]
    st.dataframe(
        table,
        hide_index=True,
        key=_state("compare_table"),
        column_config={
            table.columns[1]: st.column_config.NumberColumn(
                format="percent" if classification else f"%.3f {unit}".rstrip()
            )
        },
    )
    if classification:
        _ab_test(sources, infos, samples_source, sample_set, predictions, kind, chosen)
        _seed_test(sources, infos)
    elif predictions.labels is not None:
        _error_test(infos, sample_set, chosen)
    _profile_view(sources, samples_source, table)


def _different(candidates, current, others, samples_source) -> str | None:
    """The first other model whose predictions differ from the current one's (a run folder often
    holds a copy of the model being looked at), else None: a copy compared with itself gives one
    bar at 0 and says nothing."""
    mine = cached.predictions(candidates[current], samples_source).outputs
    for label in others:
        try:
            theirs = cached.predictions(candidates[label], samples_source).outputs
        except InputError:
            continue
        if theirs.shape != mine.shape or not np.allclose(theirs, mine, atol=1e-6):
            return label
    return None


def _pick_pair(chosen) -> tuple[str, str, int]:
    """Models A and B (B is never A) and the number of bootstrap resamples."""
    a, b, c = st.columns([2, 2, 1])
    name_a = a.selectbox("A", chosen, index=0, key=_state("model_a"))
    name_b = b.selectbox("B", [n for n in chosen if n != name_a], key=_state("model_b"))
    resamples = c.select_slider(
        "Bootstrap resamples",
        (1_000, 5_000, 10_000, 50_000),
        10_000,
        format_func="{:,}".format,
        key=_state("resamples"),
    )
    return name_a, name_b, resamples


def _error_test(infos, sample_set, chosen) -> None:
    """Regression A/B: a paired test on the absolute errors, in the target's unit."""
    st.markdown("**A/B test** (paired, on each sample's absolute error)")
    name_a, name_b, resamples = _pick_pair(chosen)
    errors_a, errors_b = infos[name_a].errors, infos[name_b].errors
    if np.array_equal(errors_a, errors_b):
        st.info(f"{name_a} and {name_b} make the same error on every sample: nothing to test.")
        return
    info = evaluation.paired_error_info(errors_a, errors_b, num_resamples=resamples)
    target, unit = _target(sample_set)
    significant = np.isfinite(info.wilcoxon_p_value) and info.wilcoxon_p_value < 0.05
    verdict = (
        "a difference this consistent would be rare if A and B erred alike"
        if significant
        else "this difference is within what chance produces on this set"
    )
    st.markdown(
        f"Mean absolute error of the {target}: A {_with_unit(info.mae_a, unit)}, B "
        f"{_with_unit(info.mae_b, unit)}; A − B = **{_with_unit(info.difference, unit, '+.3g')}**, "
        f"{info.confidence:.0%} paired bootstrap interval [{info.low:+.3g}, {info.high:+.3g}]"
        f"{' ' + unit if unit else ''}. A is closer on {info.a_smaller:,} of "
        f"{info.num_samples:,} samples, B on {info.b_smaller:,}. Wilcoxon signed-rank test: "
        f"**p = {info.wilcoxon_p_value:.3g}** ({verdict})." + (f" {info.note}" if info.note else "")
    )
    ui.chart(
        plot_error_comparison(info, unit=unit),
        key=_state("error_bootstrap"),
        data=pd.DataFrame(
            {
                "sample": np.arange(info.num_samples),
                f"A |error| {unit}".rstrip(): info.absolute_a,
                f"B |error| {unit}".rstrip(): info.absolute_b,
            }
        ),
    )


def _ab_test(sources, infos, samples_source, sample_set, predictions, kind, chosen) -> None:
    st.markdown("**A/B test**")
    name_a, name_b, resamples = _pick_pair(chosen)
    if np.array_equal(infos[name_a].outputs, infos[name_b].outputs):
        st.info(
            f"{name_a} and {name_b} give the same outputs on every sample (one is a copy of the "
            "other): pick another B."
        )
        return
    mcnemar, bootstrap, disagreeing = cached.comparison(
        sources[name_a], sources[name_b], samples_source, resamples
    )
    verdict = (
        "a difference this large would be rare if A and B were equally accurate"
        if mcnemar.p_value < 0.05
        else "this difference is within what chance produces on this set"
    )
    st.markdown(
        f"Of {mcnemar.num_samples:,} samples, A alone is right on **{mcnemar.b:,}**, B alone on "
        f"**{mcnemar.c:,}**. McNemar's exact test: **p = {mcnemar.p_value:.3g}** ({verdict}). "
        f"Accuracy difference A − B = {bootstrap.difference:+.1%}, "
        f"{bootstrap.confidence:.0%} bootstrap interval [{bootstrap.low:+.1%}, {bootstrap.high:+.1%}]."
    )
    if mcnemar.b + mcnemar.c < COMPARE_SAMPLES_NOTE:
        st.caption(
            f"Only {mcnemar.b + mcnemar.c} samples tell the models apart: with so few discordant "
            "pairs the bootstrap interval can look decisive while the exact test is not. Trust the "
            "exact test; test on more samples to be sure."
        )
    left, right = st.columns(2)
    # The charts say A and B: model names are long and the selectors above name them.
    with left:
        ui.chart(
            plot_mcnemar(mcnemar),
            key=_state("mcnemar"),
            data=pd.DataFrame(
                {
                    "A": ["right", "right", "wrong", "wrong"],
                    "B": ["right", "wrong", "right", "wrong"],
                    "samples": [mcnemar.both_correct, mcnemar.b, mcnemar.c, mcnemar.both_wrong],
                }
            ),
        )
    with right:
        ui.chart(plot_bootstrap(bootstrap), key=_state("bootstrap"))
    st.markdown(f"**Disagreements**: {len(disagreeing):,} samples")
    if len(disagreeing):
        info_a, info_b = infos[name_a], infos[name_b]
        st.dataframe(
            pd.DataFrame(
                {
                    "sample": disagreeing,
                    "label": [
                        ui.class_name(predictions, predictions.labels[i]) for i in disagreeing
                    ],
                    f"A: {name_a}": [
                        ui.class_name(predictions, info_a.predicted[i]) for i in disagreeing
                    ],
                    "A confidence": info_a.confidence[disagreeing],
                    f"B: {name_b}": [
                        ui.class_name(predictions, info_b.predicted[i]) for i in disagreeing
                    ],
                    "B confidence": info_b.confidence[disagreeing],
                }
            ),
            hide_index=True,
            key=_state("disagreements"),
        )
        _sample_grid(sample_set, predictions, disagreeing, kind, _state("disagreement_grid"))


def _seed_test(sources, infos) -> None:
    st.markdown("**Across seeds**")
    groups = _run_groups(sources)
    if len(groups) < 2:
        st.caption(
            "A paired test across seeds needs two recipes with at least two recorded runs each "
            "that differ only in their `seed` hyperparameter (RunRecorder's hyperparameters). "
            + (
                "Found: " + "; ".join(f"{k} ({len(v)} runs)" for k, v in groups.items())
                if groups
                else "None among the chosen models."
            )
        )
        return
    names = list(groups)
    a, b = st.columns(2)
    first = a.selectbox("Recipe A", names, index=0, key=_state("seed_a"))
    second = b.selectbox("Recipe B", [n for n in names if n != first], key=_state("seed_b"))
    scores = {}
    seeds = {}
    for recipe in (first, second):
        seeds[recipe] = [seed for seed, _ in groups[recipe]]
        scores[recipe] = [float(np.mean(infos[label].correct)) for _, label in groups[recipe]]
    paired = seeds[first] == seeds[second]
    info = evaluation.seed_comparison_info(scores[first], scores[second], paired=paired)
    ui.chart(
        plot_seed_comparison(info, names=(first, second)),
        key=_state("seeds"),
        data=pd.DataFrame(
            {
                "recipe": [first] * len(scores[first]) + [second] * len(scores[second]),
                "seed": seeds[first] + seeds[second],
                "accuracy": scores[first] + scores[second],
            }
        ),
    )
    st.caption(
        (
            "Paired by seed (the same seeds on both sides). "
            if paired
            else "Unpaired (the seeds differ). "
        )
        + f"Mean difference {info.mean_difference:+.2%}, t-test p = {info.t_p_value:.3g}, "
        f"{info.rank_test} p = {info.rank_p_value:.3g}. {info.note}"
    )


def _latency_at(profile, size: int) -> float:
    """Median seconds per batch of ``size`` (the largest batch timed when that size was not)."""
    sizes = list(profile.batch_sizes)
    return float(profile.latency[sizes.index(size) if size in sizes else -1])


def _profile_view(sources, samples_source, table) -> None:
    st.markdown("**Cost**: latency, throughput and size against the score")
    if not st.toggle("Profile the chosen models", key=_state("profile")):
        st.caption(
            "Times each model on batches of 1, 8, 32 and 128 on this machine (a few seconds per "
            "model); timings depend on the machine and what else runs on it."
        )
        return
    profiles = {}
    bar = st.progress(0.0, text="Timing…")
    for number, (label, source) in enumerate(sources.items()):
        profiles[label] = cached.profile(
            source, samples_source, evaluation.DEFAULT_BATCH_SIZES, evaluation.DEFAULT_REPEATS
        )
        bar.progress((number + 1) / len(sources), text=f"Timing {label}…")
    bar.empty()
    timings = pd.concat(
        [
            pd.DataFrame(
                {
                    "model": label,
                    "batch size": profile.batch_sizes,
                    "median latency (s)": profile.latency,
                    "fastest latency (s)": profile.latency_min,
                    "samples per second": profile.throughput,
                }
            )
            for label, profile in profiles.items()
        ],
        ignore_index=True,
    )
    left, right = st.columns(2)
    with left:
        ui.chart(plot_profile(profiles), key=_state("latency"), data=timings)
    with right:
        ui.chart(plot_throughput(profiles), key=_state("throughput"), data=timings)
    score_column = table.columns[1]
    scores = table[score_column].to_numpy(dtype=float)
    # Pareto: lower latency and better score (higher accuracy, or lower error).
    costs = np.array([_latency_at(profile, PARETO_BATCH) for profile in profiles.values()])
    goal = scores if score_column == "accuracy" else -scores
    front = evaluation.pareto_front(costs, goal)
    ui.chart(
        plot_pareto(
            list(profiles),
            costs * 1000.0,
            scores,
            front,
            cost_label=f"latency per batch of {PARETO_BATCH} (ms)",
            score_label=score_column,
        ),
        key=_state("pareto"),
        data=pd.DataFrame(
            {
                "model": list(profiles),
                f"latency per batch of {PARETO_BATCH} (ms)": costs * 1000.0,
                score_column: scores,
                "on the front": np.isin(np.arange(len(costs)), front),
            }
        ),
    )
    st.dataframe(
        pd.DataFrame(
            {
                "model": list(profiles),
                "parameters": [p.num_parameters for p in profiles.values()],
                "weights (MB)": [p.weight_bytes / 1e6 for p in profiles.values()],
                "activations (MB)": [
                    None if p.activation_bytes is None else p.activation_bytes / 1e6
                    for p in profiles.values()
                ],
                "ms per sample at 128": [
                    float(p.latency[-1]) * 1000 / p.batch_sizes[-1] for p in profiles.values()
                ],
            }
        ),
        hide_index=True,
    )


# --- the page -----------------------------------------------------------------------------------

ui.start_page("Debugging")
st.title("Debugging")
st.caption(
    "On which inputs does the model fail, why, how fragile is it, and is the other model really "
    "better or just lucky?"
)
model_source, samples_source = ui.chosen_model()
if samples_source is None:
    st.info(
        "Choose or upload a sample set for this model in the sidebar: every view here runs the "
        "model on samples."
    )
    st.stop()


def _inputs():
    model = cached.model(model_source)
    sample_set = cached.samples(samples_source)
    model_input(model, sample_set.x[:1])
    return (
        cached.graph_layers(model_source),
        sample_set,
        cached.predictions(model_source, samples_source),
    )


layers, sample_set, predictions = ui.or_stop(
    _inputs, " Choose a sample set made for this model in the sidebar."
)

kind = ui.display_kind(sample_set, layers)
words = ui.words_of(sample_set) if kind == "text" else None
with st.container(border=True):
    index = ui.sample_browser(
        model_source,
        samples_source,
        sample_set,
        predictions,
        kind,
        words,
        PREFIX,
    )

tabs = dict(zip(TABS, st.tabs(TABS, key=_state("tab"), on_change="rerun"), strict=True))
with tabs["Explain"]:
    if tabs["Explain"].open:
        explain_view(
            model_source, samples_source, sample_set, predictions, index, kind, words, layers
        )
with tabs["Perturbation"]:
    if tabs["Perturbation"].open:
        perturbation_view(model_source, samples_source, sample_set, predictions, index, kind)
with tabs["Adversarial"]:
    if tabs["Adversarial"].open:
        adversarial_view(model_source, samples_source, sample_set, predictions, index, kind)
with tabs["Robustness"]:
    if tabs["Robustness"].open:
        robustness_view(model_source, samples_source, sample_set, predictions, kind)
with tabs["Errors"]:
    if tabs["Errors"].open:
        errors_view(model_source, samples_source, sample_set, predictions, kind)
with tabs["Compare models"]:
    if tabs["Compare models"].open:
        compare_view(model_source, samples_source, sample_set, predictions, kind)

ui.bundle_button()
with ui.how_to_read("Debugging"):
    st.markdown(
        "**Explain** runs the attribution methods of the features page on the chosen prediction "
        "and lists the inputs (pixels, time steps and features, tokens) with the largest share of "
        "the attribution. The features page explains each method and its sanity check.\n\n"
        "**Perturbation** edits one sample by hand. A prediction that flips under a perturbation "
        "a person would ignore (a little noise, a 2-pixel shift, one masked word) is a weakness; "
        "one that flips when the object is covered is the model working. The attribution maps "
        "show whether the evidence moved with the edit.\n\n"
        "**Why a small ε can flip a prediction.** FGSM and PGD move every input value by at most "
        "ε (the L∞ ball) in the direction that raises the loss. Each change is tiny, but a "
        "network is close to linear locally: the output moves by about the sum of |gradient| × ε "
        "over *all* inputs, which grows with the number of inputs, so thousands of invisible "
        "nudges add up (Goodfellow et al. 2015). FGSM takes one step; PGD takes many small steps "
        "and projects back into the ball each time (Madry et al. 2018), so it finds worse "
        "examples: accuracy under PGD is the better estimate of robustness. The perturbation is "
        "drawn amplified; its true size is ε, often below one grey level.\n\n"
        "**Robustness curves** show accuracy (or error) as each corruption gets stronger, per "
        f"class if asked. Every corruption and attack runs at {robustness_analysis.NUM_SEVERITIES} "
        "severity levels, each stated in its unit (noise σ as a share of the value range, blur "
        "in pixels, rotation in degrees, ε in input units or as a share of each feature's "
        "range); the summary ranks them by the accuracy averaged over those levels (the area "
        "under the accuracy-against-severity curve, as ImageNet-C does), and gives the accuracy "
        f"at severity {robustness_analysis.MIDDLE_SEVERITY} and the first level where accuracy "
        f"falls below {robustness_analysis.DROP_THRESHOLD:.0%} of the clean accuracy. On series "
        "and feature vectors, noise and attacks scale to each feature and stay inside its "
        "observed range, and the fixed features (calendar ones by default) are left alone.\n\n"
        "**Errors.** The confusion matrix counts label × prediction; click a cell to see its "
        "samples. Precision: of the samples predicted as a class, the share that are; recall: of "
        "the samples of a class, the share found. The reliability diagram bins predictions by "
        "confidence and compares each bin's accuracy with its confidence: bars under the diagonal "
        "mean over-confidence. The expected calibration error is the sample-weighted mean gap "
        "(Guo et al. 2017). Slices show accuracy per value of a metadata column with 95% Wilson "
        "intervals; a weak slice with few samples may be chance.\n\n"
        "**What a p-value here says, and what it does not.** McNemar's exact test looks only at "
        "the samples where exactly one model is right (b and c). If both models were equally "
        "accurate on this kind of data, each such sample would be A's or B's with probability "
        "1/2; the p-value is the probability of a split at least as lopsided as the one seen. A "
        "small p says the difference is unlikely to be luck *of this test set*. It does not say "
        "how large the difference is (read the bootstrap interval for that), that it holds on "
        "other data, or that it survives another training seed: a model trained once is one draw. "
        "The test across seeds compares recipes instead of single models; it needs several runs "
        "per recipe. A large p does not prove the models equal; the test set may be too small "
        "to tell.\n\n"
        "**Cost.** Latency is the median time of one call on a batch on this machine; throughput "
        "is samples per second. The Pareto front joins the models no other model beats on both "
        "latency and score."
    )
