"""Features and representations: what did the network learn, what does it look at, how does it sort the samples?"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from neurogenesis import cached
from neurogenesis.analysis import attribution as attribution_analysis
from neurogenesis.analysis import embeddings as embedding_analysis
from neurogenesis.analysis import features as feature_analysis
from neurogenesis.analysis.graph import model_input
from neurogenesis.errors import InputError, UnsupportedModelError
from neurogenesis.plotting.attribution import (
    METHOD_LABELS,
    plot_attribution,
    plot_attribution_grid,
    plot_pointing_game,
    plot_sanity_check,
    plot_token_attribution,
)
from neurogenesis.plotting.embeddings import METHOD_NAMES as PROJECTION_LABELS
from neurogenesis.plotting.embeddings import plot_projection, plot_similarity
from neurogenesis.plotting.features import (
    plot_activation_maximization,
    plot_feature_maps,
    plot_filters,
    plot_sample_grid,
)
from neurogenesis.plotting.style import escaped

TABS = ("Attribution", "Feature maps", "Filters", "Activation maximization", "Projector")
GRID_PAGE = 48
COLOUR_BY = ("label", "prediction", "correctness", "confidence", "cluster")
POINTING_SAMPLES = 60


def _display_kind(sample_set, layers) -> str:
    if sample_set.kind == "image":
        return "image"
    if layers.input_dtypes and "int" in layers.input_dtypes[0] and sample_set.x.ndim == 2:
        return "text"
    if sample_set.x.ndim == 3:
        return "series"
    return "array"


def _words(sample_set) -> list[list[str]] | None:
    """Each text sample's tokens as words, from the set's vocabulary (token id -> word)."""
    vocabulary = sample_set.extras.get("vocabulary")
    if vocabulary is None:
        return None
    vocabulary = [str(word) for word in vocabulary.reshape(-1)]
    return [
        [vocabulary[t] if 0 <= t < len(vocabulary) else f"#{t}" for t in row]
        for row in np.asarray(sample_set.x, dtype=np.int64)
    ]


def _sample_text(sample_set, index: int, words) -> str:
    text = sample_set.per_sample("text")
    if text is not None:
        return str(text[index])
    if words is not None:
        return " ".join(word for word in words[index] if word not in ("", "[pad]", "<pad>"))
    return " ".join(str(v) for v in np.asarray(sample_set.x[index]).reshape(-1)[:32])


def _class_name(predictions, value) -> str:
    if value is None:
        return "–"
    names = predictions.label_names
    value = int(value)
    return names[value] if names and 0 <= value < len(names) else str(value)


def _caption(predictions, index: int) -> str:
    parts = [f"#{index}"]
    if predictions.labels is not None and predictions.task != "regression":
        parts.append(f"label {_class_name(predictions, predictions.labels[index])}")
    if predictions.predicted is not None:
        parts.append(
            f"→ {_class_name(predictions, predictions.predicted[index])} "
            f"({predictions.confidence[index]:.2f})"
        )
        if predictions.correct is not None and not predictions.correct[index]:
            parts.append("✗")
    elif predictions.task == "regression":
        parts.append(f"→ {float(predictions.outputs[index].reshape(-1)[0]):.2f}")
        if predictions.labels is not None:
            parts.append(f"(true {float(predictions.labels[index]):.2f})")
    return " ".join(parts)


def _select_from_chart(key: str) -> None:
    event = st.session_state.get(key) or {}
    points = (event.get("selection") or {}).get("points") or []
    for point in points:
        data = point.get("customdata")
        if data is None:
            continue
        index = int(data[0] if isinstance(data, (list, tuple)) else data)
        if index >= 0:
            st.session_state["features_sample"] = index
            return


def sample_browser(model_source, samples_source, sample_set, predictions, kind: str, words) -> int:
    """Filters, a grid of matching samples and the chosen one; returns the chosen sample's index."""
    count = len(sample_set)
    columns = st.columns(4)
    criteria = {}
    # An autoencoder's set can still carry class labels (the VAE's digits): filter by them too.
    classes = list(range(predictions.num_classes or len(predictions.label_names or ())))
    if predictions.labels is not None and classes:
        criteria["labels"] = (
            columns[0].multiselect(
                "Label",
                classes,
                format_func=lambda c: _class_name(predictions, c),
                key="features_label",
            )
            or None
        )
    if predictions.predicted is not None:
        criteria["predictions"] = (
            columns[1].multiselect(
                "Prediction",
                classes,
                format_func=lambda c: _class_name(predictions, c),
                key="features_prediction",
            )
            or None
        )
        if predictions.correct is not None:
            criteria["correctness"] = (
                columns[2].segmented_control(
                    "Correct?", ("all", "correct", "wrong"), default="all", key="features_correct"
                )
                or "all"
            )
        criteria["confidence"] = columns[3].slider(
            "Confidence", 0.0, 1.0, (0.0, 1.0), step=0.01, key="features_confidence"
        )
    elif predictions.errors is not None:
        top = float(np.nanmax(predictions.errors)) if len(predictions.errors) else 1.0
        criteria["error"] = columns[3].slider(
            "Absolute error", 0.0, max(top, 1e-6), (0.0, max(top, 1e-6)), key="features_error"
        )
    matching = feature_analysis.sample_filter(predictions, **criteria)
    if len(matching) == 0:
        st.warning("No sample matches these filters; showing all samples.")
        matching = np.arange(count)
    chosen = st.session_state.get("features_sample")
    if st.session_state.get("features_samples_of") != samples_source.key:
        st.session_state["features_samples_of"] = samples_source.key  # a new set: start over
        chosen = None
    if not isinstance(chosen, int) or chosen not in set(matching.tolist()):
        st.session_state["features_sample"] = int(matching[0])
    pages = max(1, -(-len(matching) // GRID_PAGE))
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    page = 1
    if pages > 1:
        page = right.number_input("Page", 1, pages, 1, key="features_page")
    shown = matching[(page - 1) * GRID_PAGE : page * GRID_PAGE]
    left.caption(
        f"{len(matching):,} of {count:,} samples match · showing {len(shown)} · click one to "
        "analyse it, or pick it below."
    )
    if kind == "text":
        table = pd.DataFrame(
            {
                "sample": shown,
                "text": [_sample_text(sample_set, int(i), words) for i in shown],
                "label": [
                    _class_name(predictions, predictions.labels[i])
                    if predictions.labels is not None
                    else ""
                    for i in shown
                ],
                "prediction": [
                    _class_name(predictions, predictions.predicted[i])
                    if predictions.predicted is not None
                    else ""
                    for i in shown
                ],
                "confidence": [
                    float(predictions.confidence[i]) if predictions.confidence is not None else None
                    for i in shown
                ],
            }
        )
        event = st.dataframe(
            table,
            hide_index=True,
            on_select="rerun",
            selection_mode="single-row",
            key="features_text_table",
            height=260,
        )
        rows = event.selection.rows if event is not None else []
        if rows:
            st.session_state["features_sample"] = int(shown[rows[0]])
    else:
        grid_kind = "image" if kind == "image" else "series" if kind == "series" else "array"
        figure = plot_sample_grid(
            sample_set.x,
            shown,
            kind=grid_kind,
            captions=[_caption(predictions, int(i)) for i in shown],
            wrong=(predictions.correct[shown] == 0) if predictions.correct is not None else None,
            selected=st.session_state["features_sample"],
            feature_names=sample_set.extras.get("feature_names"),
        )
        st.plotly_chart(
            figure,
            key="features_grid",
            on_select=lambda: _select_from_chart("features_grid"),
            selection_mode="points",
        )
    # The picker shows captions; the chosen index lives apart from it, so a click on the grid or
    # the projector, a new filter or a new model never leaves a stale label behind.
    captions = [_caption(predictions, int(i)) for i in matching]
    listed = matching.tolist()
    st.session_state["features_sample_pick"] = captions[
        listed.index(st.session_state["features_sample"])
    ]

    def picked() -> None:
        label = st.session_state.get("features_sample_pick")
        if label in captions:
            st.session_state["features_sample"] = int(listed[captions.index(label)])

    st.selectbox("Sample", captions, key="features_sample_pick", on_change=picked)
    return int(st.session_state["features_sample"])


def attribution_view(
    model_source, samples_source, sample_set, predictions, index, kind, words, layers
):
    model = cached.model(model_source)
    if kind == "text":
        reason = attribution_analysis.token_reason(model)
        if reason:
            st.info(reason)
        else:
            token_view(model_source, samples_source, predictions, index, words)
        return
    reasons = {
        method: attribution_analysis.method_reason(model, method)
        for method in attribution_analysis.METHODS
    }
    if all(reasons.values()):
        st.info(next(iter(reasons.values())))
        return
    available = [m for m in attribution_analysis.METHODS if not reasons[m]]
    defaults = [m for m in ("integrated_gradients", "gradcam", "smoothgrad") if m in available]
    left, middle, right = st.columns([3, 1, 1])
    methods = left.multiselect(
        "Methods (side by side)",
        available,
        default=defaults or available[:2],
        format_func=METHOD_LABELS.get,
        key="features_methods",
    )
    score, target = "probability", "predicted"
    if predictions.num_classes:
        score = (
            middle.segmented_control(
                "Explain",
                ("probability", "logit"),
                default="probability",
                key="features_score",
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
                "the predicted class" if t == "predicted" else _class_name(predictions, t)
            ),
            key="features_target",
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
            key="features_steps",
        )
        baseline = a.selectbox(
            "Integrated-gradient baseline", attribution_analysis.BASELINES, key="features_baseline"
        )
        samples = b.slider(
            "SmoothGrad samples",
            4,
            128,
            attribution_analysis.DEFAULT_SMOOTHGRAD_SAMPLES,
            key="features_noise_samples",
        )
        noise = b.slider(
            "SmoothGrad noise (share of the value range)",
            0.01,
            0.5,
            attribution_analysis.DEFAULT_NOISE_LEVEL,
            key="features_noise",
        )
        top_n = c.slider(
            "Score-CAM channels (top N, 0 = all)",
            0,
            256,
            attribution_analysis.DEFAULT_SCORECAM_TOP_N,
            key="features_top_n",
        )
        layer = None
        if cam_layers:
            default_layer = layers_default_cam(model_source, cam_layers)
            layer = c.selectbox(
                "CAM layer",
                cam_layers,
                index=cam_layers.index(default_layer),
                key="features_cam_layer",
            )
    opacity = st.slider("Overlay opacity", 0.0, 1.0, 0.5, 0.05, key="features_opacity")
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
        return
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
        explained = _class_name(predictions, first.target[0])
        title = f"Sample #{index}: attribution of the {first.score_kind} of '{explained}'"
    else:
        title = f"Sample #{index}: attribution of the model's output"
    figure.update_layout(title={"text": escaped(title)})
    st.plotly_chart(figure, key="features_attribution")
    ig = infos.get("integrated_gradients")
    if ig is not None and ig.completeness_error is not None:
        error = float(ig.completeness_error[0])
        st.caption(
            f"Integrated gradients' completeness error: **{error:.1%}** (attributions sum to "
            "F(x) − F(baseline) up to this share; under 5% means enough steps)."
        )
    sanity_view(model_source, samples_source, index, infos, method_options, options)
    if sample_set.per_sample("masks") is not None:
        pointing_view(model_source, samples_source, available, method_options, options)


def layers_default_cam(model_source, cam_layers) -> str:
    from neurogenesis.analysis.graph import last_conv_layer

    default = last_conv_layer(cached.model(model_source), cached.graph_layers(model_source))
    return default if default in cam_layers else cam_layers[-1]


def sanity_view(model_source, samples_source, index, infos, method_options, options) -> None:
    st.markdown("**Sanity check** (Adebayo et al. 2018): does the map depend on the weights?")
    left, right = st.columns([2, 1], vertical_alignment="bottom")
    method = left.selectbox(
        "Method to check", list(infos), format_func=METHOD_LABELS.get, key="features_sanity_method"
    )
    key = "features_sanity_run"
    if right.button("Randomize the top layers and compare", key="features_sanity"):
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
    st.plotly_chart(plot_sanity_check(sanity), key="features_sanity_chart")
    final = float(np.median(sanity.rank_correlation[-1]))
    verdict = "passes" if sanity.passed else "FAILS"
    st.caption(
        f"{METHOD_LABELS[method]} {verdict}: after randomizing {len(sanity.layers)} layers the "
        f"map's rank correlation with the original is {final:.2f} (a method that explains the "
        "model should drop toward 0; one that stays high is showing the input, not the model)."
    )


def pointing_view(model_source, samples_source, available, method_options, options) -> None:
    st.markdown(
        "**Pointing game** (Zhang et al. 2016): how often the map's maximum lands on the object, "
        f"over the first {POINTING_SAMPLES} samples, whose object masks this sample set keeps."
    )
    if not st.toggle("Score every method", key="features_pointing"):
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
        scores[METHOD_LABELS[method]] = float(result.score)
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
    st.plotly_chart(plot_pointing_game(scores), key="features_pointing_chart")


def token_view(model_source, samples_source, predictions, index, words) -> None:
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
            key="features_token_method",
        )
        or "integrated_gradients"
    )
    targets = ["predicted"] + list(range(predictions.num_classes or 0))
    target = right.selectbox(
        "Class to explain",
        targets,
        format_func=lambda t: (
            "the predicted class" if t == "predicted" else _class_name(predictions, t)
        ),
        key="features_token_target",
    )
    options = {} if target == "predicted" else {"target": int(target)}
    try:
        info = cached.token_attribution(model_source, samples_source, (index,), method, options)
    except InputError as error:
        st.warning(str(error))
        return
    shown = (
        words[index]
        if words is not None
        else [str(t) for t in cached.samples(samples_source).x[index]]
    )
    st.plotly_chart(plot_token_attribution(info, shown, 0), key="features_tokens")
    if info.completeness_error is not None:
        st.caption(
            f"Red tokens push toward {_class_name(predictions, info.target[0])}, blue ones away. "
            f"Completeness error: {float(info.completeness_error[0]):.1%}."
        )


def feature_map_view(model_source, samples_source, sample_set, index, kind) -> None:
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
    first_conv = next((i for i, path in enumerate(choices) if layers.entry(path).convolution), 0)
    # Open on the first convolution's own output after its normalization and activation, the
    # first maps worth reading (a Rescaling layer's maps are the input's colour channels).
    default = first_conv
    for i in range(first_conv + 1, len(choices)):
        entry = layers.entry(choices[i])
        if (
            entry.output_shape != layers.entry(choices[first_conv]).output_shape
            or entry.convolution
        ):
            break
        default = i
    layer = left.selectbox("Layer", choices, index=default, key="features_map_layer")
    info = cached.feature_maps(model_source, samples_source, layer, index)
    channels = info.maps.shape[0]
    top = right.toggle("Top channels only", key="features_map_top")
    top_k = None
    if top:
        top_k = st.slider("How many", 1, channels, min(16, channels), key="features_map_k")
    st.plotly_chart(
        plot_feature_maps(
            info,
            top_k=top_k,
            input_image=np.asarray(sample_set.x[index]) if kind == "image" else None,
        ),
        key="features_maps",
    )
    st.caption(
        f"{channels} channels of {layer} for sample #{index}"
        + (f", the {top_k} most active" if top_k else "")
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
    st.plotly_chart(plot_filters(info, max_filters=limit), key="features_filters")
    st.caption(
        "Sorted by L2 norm, strongest first. "
        + (
            "The first layer sees the RGB image, so each kernel is drawn in colour."
            if info.rgb
            else "Each row is one filter, each column one of the channels it reads (blue negative, red positive)."
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
    with st.expander("Regularization"):
        c1, c2, c3 = st.columns(3)
        steps = c1.slider(
            "Steps", 16, 1024, feature_analysis.DEFAULT_STEPS, key="features_am_steps"
        )
        jitter = c1.slider(
            "Jitter (pixels)", 0, 8, feature_analysis.DEFAULT_JITTER, key="features_am_jitter"
        )
        l2 = c2.number_input(
            "L2 decay",
            0.0,
            1.0,
            float(feature_analysis.DEFAULT_L2),
            format="%.4f",
            key="features_am_l2",
        )
        blur = c2.number_input(
            "Blur σ (pixels)",
            0.0,
            3.0,
            float(feature_analysis.DEFAULT_BLUR_SIGMA),
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
        st.caption("Gradient ascent from noise toward the input that excites this unit most.")
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
    st.plotly_chart(plot_activation_maximization(info), key="features_am_chart")
    st.caption(
        f"The activation rose from {info.start_activation:.3g} to {info.final_activation:.3g} "
        f"in {len(info.objective)} steps."
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
    cluster_method = f.selectbox(
        "Clustering",
        ("kmeans", "hdbscan"),
        format_func={"kmeans": "k-means", "hdbscan": "HDBSCAN (density)"}.get,
        key="features_cluster_method",
    )
    clusters_k = g.number_input("Clusters (0 = best silhouette)", 0, 50, 0, key="features_k")
    options = {"dims": int(dims), "seed": 0}
    pca_options = {"dims": int(dims), "seed": 0}
    placeholder = st.empty()
    cluster_options = (
        {"num_clusters": int(clusters_k) or None} if cluster_method == "kmeans" else {}
    )
    clusters = cached.clusters(
        model_source, samples_source, layer, pooling, cluster_method, cluster_options
    )
    colour, kind, names = _colours(colour_by, predictions, clusters)
    hover = (
        [_caption(predictions, i) for i in range(len(sample_set))]
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
            title=f"{PROJECTION_LABELS[info.method]} of {layer} ({len(sample_set):,} samples)"
            + (f" · {note}" if note else ""),
        )
        with placeholder.container():
            st.plotly_chart(
                figure,
                key=f"features_projection_{info.method}_{'ready' if note is None else 'preview'}",
                on_select=(lambda: _select_from_chart(f"features_projection_{info.method}_ready"))
                if note is None
                else "ignore",
                selection_mode="points",
            )

    key = cached.projection_key(model_source, samples_source, layer, pooling, method, options)
    if method != "pca" and not cached.is_remembered("projection", key):
        pca = cached.projection(model_source, samples_source, layer, pooling, "pca", pca_options)
        draw(pca, note=f"{PROJECTION_LABELS[method]} is computing; PCA meanwhile")
        with st.spinner(f"Computing {PROJECTION_LABELS[method]} of {len(sample_set):,} points…"):
            info = cached.projection(model_source, samples_source, layer, pooling, method, options)
    else:
        info = cached.projection(model_source, samples_source, layer, pooling, method, options)
    draw(info)
    facts = [f"{info.seconds:.1f} s"]
    if info.explained_variance_ratio is not None:
        facts.append(f"{float(np.sum(info.explained_variance_ratio)):.0%} of the variance shown")
    if info.trustworthiness is not None:
        facts.append(f"trustworthiness {info.trustworthiness:.2f}")
    facts.append(
        f"{clusters.num_clusters} {'k-means' if cluster_method == 'kmeans' else 'HDBSCAN'} clusters"
        + (f", silhouette {clusters.silhouette:.2f}" if clusters.silhouette is not None else "")
    )
    st.caption(" · ".join(facts) + ". Click a point to make it the chosen sample.")
    st.markdown(f"**Nearest neighbours of #{index}** (cosine distance in {layer}'s space)")
    st.dataframe(
        pd.DataFrame(
            {
                "sample": neighbours.indices,
                "distance": neighbours.distances,
                "sample facts": [_caption(predictions, int(i)) for i in neighbours.indices],
            }
        ),
        hide_index=True,
        key="features_neighbours",
    )
    chosen = st.multiselect(
        "Similarity of chosen samples",
        list(range(len(sample_set))),
        default=highlight,
        key="features_similarity_samples",
    )
    if len(chosen) >= 2:
        features = cached.hidden_states(model_source, samples_source, layer, pooling)
        matrix = embedding_analysis.similarity_matrix(features, chosen, metric="cosine")
        st.plotly_chart(
            plot_similarity(
                matrix, [_caption(predictions, int(i)) for i in chosen], metric="cosine"
            ),
            key="features_similarity",
        )


def _colours(colour_by: str, predictions, clusters):
    names = list(predictions.label_names) if predictions.label_names else None
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

st.title("Features and representations")
st.caption(
    "What did the network learn (filters, feature maps, the inputs its units want), what does it "
    "look at for one sample (attribution, checked), and how does it arrange the samples inside "
    "(the projector)?"
)
model_source = st.session_state.get("model")
samples_source = st.session_state.get("samples")
if model_source is None:
    st.info("Choose or upload a model in the sidebar.")
    st.stop()
try:
    model = cached.model(model_source)
    layers = cached.graph_layers(model_source)
except UnsupportedModelError as error:
    st.info(str(error))
    st.stop()
except InputError as error:
    st.error(str(error))
    st.stop()
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
    kind = _display_kind(sample_set, layers)
    words = _words(sample_set) if kind == "text" else None
    predictions = cached.predictions(model_source, samples_source)
    with st.container(border=True):
        index = sample_browser(model_source, samples_source, sample_set, predictions, kind, words)

tabs = dict(zip(TABS, st.tabs(TABS, key="features_tab", on_change="rerun"), strict=True))
needs_samples = "Choose a sample set made for this model in the sidebar."
with tabs["Attribution"]:
    if tabs["Attribution"].open:
        if sample_set is None:
            st.info(needs_samples)
        else:
            attribution_view(
                model_source, samples_source, sample_set, predictions, index, kind, words, layers
            )
with tabs["Feature maps"]:
    if tabs["Feature maps"].open:
        if sample_set is None:
            st.info(needs_samples)
        else:
            feature_map_view(model_source, samples_source, sample_set, index, kind)
with tabs["Filters"]:
    if tabs["Filters"].open:
        filter_view(model_source)
with tabs["Activation maximization"]:
    if tabs["Activation maximization"].open:
        activation_view(model_source, layers, sample_set, predictions)
with tabs["Projector"]:
    if tabs["Projector"].open:
        if sample_set is None:
            st.info(needs_samples)
        else:
            projector_view(model_source, samples_source, sample_set, predictions, index)

with st.expander("How to read this"):
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
        "**Activation maximization** starts from noise and follows the gradient to the input that "
        "excites one unit most. Without regularization the result is high-frequency noise the "
        "unit happens to like; jitter, blur, L2 decay and total variation keep it image-like "
        "(Olah et al. 2017), so the picture depends on them as much as on the unit.\n\n"
        "**The projector** places every sample by its hidden state at a layer. PCA is linear and "
        "exact (its share of variance is shown); t-SNE and UMAP keep neighbours together but "
        "distort distances and cluster sizes, so read *which points are near which*, not how far "
        "apart clusters are. Trustworthiness (0 to 1) says how well neighbourhoods survived the "
        "projection. The silhouette (−1 to 1) says how separate the clusters are in the layer's "
        "own space. Samples of one class that sit inside another class's cluster are worth "
        "looking at: mislabelled, ambiguous, or a blind spot of the model."
    )
