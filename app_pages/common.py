"""What several pages share: charts with their downloads, choosing a sample, explaining one
prediction.

Every page draws its charts with :func:`chart`: the chart, a compact download control (PNG, SVG,
HTML and, where the page passes its data, CSV) and an entry in the page's export registry, from
which :func:`bundle_button` builds one zip of the whole page. A page calls :func:`start_page`
first (an empty registry for the run) and :func:`bundle_button` last; its "How to read this"
expander is :func:`how_to_read`, which links to the user manual.

The features and debugging pages both browse a sample set and explain a prediction with the
attribution methods; each passes its own ``prefix`` so their widgets keep separate state. This
module is imported by pages, not registered as one.
"""

from __future__ import annotations

import contextlib
import html
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from neurogenesis import cached
from neurogenesis.analysis import attribution as attribution_analysis
from neurogenesis.analysis import features as feature_analysis
from neurogenesis.analysis.graph import capped_steps
from neurogenesis.errors import ExportUnavailableError, InputError, UnsupportedModelError
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
from neurogenesis.plotting.export import (
    FIGURE_FORMATS,
    export_session,
    figure_bytes,
    static_export_available,
)
from neurogenesis.plotting.features import plot_sample_grid
from neurogenesis.plotting.style import browser_safe, escaped

GRID_PAGE = 48
STRIP_SAMPLES = 8
"""Samples in the sample browser's compact, always-open row."""
POINTING_SAMPLES = 60


def chosen_model():
    """The sidebar's model and sample set (Sources; the set may be None); without a model the
    page says so and stops."""
    model_source = st.session_state.get("model")
    if model_source is None:
        st.info("Choose or upload a model in the sidebar.")
        st.stop()
    return model_source, st.session_state.get("samples")


def model_runs(model_source, run_paths: dict[str, list[str]]) -> list[str]:
    """The runs (name -> the paths of its folders or files) that belong to the sidebar's model,
    the model card's order first: those its card (``name.json`` beside it) lists under ``runs``,
    else those in a folder named after the model file (``weather_lstm/...``) or a live run of it
    (``weather_lstm-20250101-...``)."""
    from neurogenesis.workspace import model_metadata

    if model_source is None:
        return []
    model_path = Path(model_source.path)
    listed = model_metadata(model_path).get("runs")
    folders = []
    for entry in listed if isinstance(listed, list) else []:
        for base in (model_path.parent.parent, model_path.parent, Path.cwd()):
            folder = (base / str(entry)).resolve()
            if folder.exists():
                folders.append(folder)
                break

    def rank(name: str) -> int | None:
        for path in run_paths[name]:
            resolved = Path(path).resolve()
            for index, folder in enumerate(folders):
                if resolved == folder or folder in resolved.parents:
                    return index
        return None

    ranked = {name: rank(name) for name in run_paths}
    mine = sorted((name for name in run_paths if ranked[name] is not None), key=ranked.get)
    if mine:
        return mine
    stem = model_path.stem
    return [
        name
        for name in run_paths
        if any(
            part == stem or part.startswith(f"{stem}-")
            for path in run_paths[name]
            for part in Path(path).parts[-3:]
        )
    ]


def or_stop(compute, hint: str = ""):
    """``compute()``; when it refuses, the page stops with the reason: an info for a model the
    page cannot analyse, an error (followed by ``hint``) for bad input."""
    try:
        return compute()
    except UnsupportedModelError as error:
        st.info(str(error))
        st.stop()
    except InputError as error:
        st.error(f"{error}{hint}")
        st.stop()


def display_kind(sample_set, layers) -> str:
    if sample_set.kind == "image":
        return "image"
    if layers.input_dtypes and "int" in layers.input_dtypes[0] and sample_set.x.ndim == 2:
        return "text"
    if sample_set.x.ndim == 3:
        return "series"
    return "array"


def words_of(sample_set) -> list[list[str]] | None:
    """Each text sample's tokens as words, from the set's vocabulary (token id -> word)."""
    vocabulary = sample_set.extras.get("vocabulary")
    if vocabulary is None:
        return None
    vocabulary = [str(word) for word in vocabulary.reshape(-1)]
    return [
        [vocabulary[t] if 0 <= t < len(vocabulary) else f"#{t}" for t in row]
        for row in np.asarray(sample_set.x, dtype=np.int64)
    ]


def sample_text(sample_set, index: int, words) -> str:
    text = sample_set.per_sample("text")
    if text is not None:
        return str(text[index])
    if words is not None:
        return " ".join(word for word in words[index] if word not in ("", "[pad]", "<pad>"))
    return " ".join(str(v) for v in np.asarray(sample_set.x[index]).reshape(-1)[:32])


def class_name(predictions, value) -> str:
    if value is None:
        return "–"
    names = predictions.label_names
    value = int(value)
    return names[value] if names and 0 <= value < len(names) else str(value)


def caption(predictions, index: int) -> str:
    parts = [f"#{index}"]
    if predictions.labels is not None and predictions.task != "regression":
        parts.append(f"label {class_name(predictions, predictions.labels[index])}")
    if predictions.predicted is not None:
        parts.append(
            f"→ {class_name(predictions, predictions.predicted[index])} "
            f"({predictions.confidence[index]:.2f})"
        )
        if predictions.correct is not None and not predictions.correct[index]:
            parts.append("✗")
    elif predictions.task == "regression":
        parts.append(f"→ {float(predictions.outputs[index].reshape(-1)[0]):.2f}")
        if predictions.labels is not None:
            parts.append(f"(true {float(predictions.labels[index]):.2f})")
    return " ".join(parts)


def select_from_chart(key: str, target: str) -> None:
    """Stores the sample index of the point clicked in chart ``key`` under ``target``."""
    event = st.session_state.get(key) or {}
    points = (event.get("selection") or {}).get("points") or []
    for point in points:
        data = point.get("customdata")
        if data is None:
            continue
        index = int(data[0] if isinstance(data, (list, tuple)) else data)
        if index >= 0:
            st.session_state[target] = index
            return


def sample_table(predictions, indices) -> pd.DataFrame:
    """The samples of a grid with their label, prediction and confidence (what the captions say)."""
    indices = np.asarray(indices, dtype=np.int64)
    table = {"sample": indices}
    if predictions.task == "regression":
        table["output"] = [float(np.ravel(predictions.outputs[i])[0]) for i in indices]
        if predictions.labels is not None and np.ndim(predictions.labels) == 1:
            table["target"] = np.asarray(predictions.labels, dtype=np.float64)[indices]
        if predictions.errors is not None:
            table["absolute error"] = np.asarray(predictions.errors)[indices]
        return pd.DataFrame(table)
    if predictions.labels is not None:
        table["label"] = [class_name(predictions, predictions.labels[i]) for i in indices]
    if predictions.predicted is not None:
        table["prediction"] = [class_name(predictions, predictions.predicted[i]) for i in indices]
        table["confidence"] = np.asarray(predictions.confidence)[indices]
    return pd.DataFrame(table)


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


def sample_browser(
    model_source, samples_source, sample_set, predictions, kind: str, words, prefix: str
) -> int:
    """The chosen sample: a one-row strip of matching samples from it on and a picker, with the
    filters and every matching sample in an expander (closed by default); returns its index."""
    count = len(sample_set)
    strip = st.container()  # drawn above the expander, once the filters in it are read
    browse = st.expander("Filter the samples and browse all of them", expanded=False)
    columns = browse.columns(4)
    criteria = {}
    # An autoencoder's set can still carry class labels (the VAE's digits): filter by them too.
    classes = list(range(predictions.num_classes or len(predictions.label_names or ())))
    if predictions.labels is not None and classes:
        criteria["labels"] = (
            columns[0].multiselect(
                "Label",
                classes,
                format_func=lambda c: class_name(predictions, c),
                key=f"{prefix}_label",
            )
            or None
        )
    if predictions.predicted is not None:
        criteria["predictions"] = (
            columns[1].multiselect(
                "Prediction",
                classes,
                format_func=lambda c: class_name(predictions, c),
                key=f"{prefix}_prediction",
            )
            or None
        )
        if predictions.correct is not None:
            criteria["correctness"] = (
                columns[2].segmented_control(
                    "Correct?", ("all", "correct", "wrong"), default="all", key=f"{prefix}_correct"
                )
                or "all"
            )
        criteria["confidence"] = columns[3].slider(
            "Confidence", 0.0, 1.0, (0.0, 1.0), step=0.01, key=f"{prefix}_confidence"
        )
    elif predictions.errors is not None:
        top = float(np.nanmax(predictions.errors)) if len(predictions.errors) else 1.0
        criteria["error"] = columns[3].slider(
            "Absolute error", 0.0, max(top, 1e-6), (0.0, max(top, 1e-6)), key=f"{prefix}_error"
        )
    matching = feature_analysis.sample_filter(predictions, **criteria)
    if len(matching) == 0:
        strip.warning("No sample matches these filters; showing all samples.")
        matching = np.arange(count)
    chosen = st.session_state.get(f"{prefix}_sample")
    if st.session_state.get(f"{prefix}_samples_of") != samples_source.key:
        st.session_state[f"{prefix}_samples_of"] = samples_source.key  # a new set: start over
        chosen = None
    if not isinstance(chosen, int) or chosen not in set(matching.tolist()):
        st.session_state[f"{prefix}_sample"] = int(matching[0])
    selected = st.session_state[f"{prefix}_sample"]
    listed = matching.tolist()

    def thumbnail_caption(index: int) -> str:
        """Two short lines that fit under a thumbnail: the index (and confidence), the classes."""
        index = int(index)
        if predictions.predicted is not None:
            predicted = class_name(predictions, predictions.predicted[index])
            first = f"#{index} {float(predictions.confidence[index]):.0%}"
            if predictions.correct is not None and not predictions.correct[index]:
                return f"{first}\n{class_name(predictions, predictions.labels[index])}→{predicted}"
            return f"{first}\n{predicted}"
        if predictions.task == "regression":
            output = float(np.ravel(predictions.outputs[index])[0])
            return f"#{index}\n{output:.3g}"
        if predictions.labels is not None and np.ndim(predictions.labels) == 1:
            return f"#{index}\n{class_name(predictions, predictions.labels[index])}"
        return f"#{index}"

    def show(indices, key: str, columns: int, height: int) -> None:
        if kind == "text":
            table = pd.DataFrame(
                {
                    "sample": indices,
                    "text": [sample_text(sample_set, int(i), words) for i in indices],
                    "label": [
                        class_name(predictions, predictions.labels[i])
                        if predictions.labels is not None
                        else ""
                        for i in indices
                    ],
                    "prediction": [
                        class_name(predictions, predictions.predicted[i])
                        if predictions.predicted is not None
                        else ""
                        for i in indices
                    ],
                    "confidence": [
                        float(predictions.confidence[i])
                        if predictions.confidence is not None
                        else None
                        for i in indices
                    ],
                }
            )
            event = st.dataframe(
                table,
                hide_index=True,
                on_select="rerun",
                selection_mode="single-row",
                key=key,
                height=height,
            )
            rows = event.selection.rows if event is not None else []
            if rows:
                st.session_state[f"{prefix}_sample"] = int(indices[rows[0]])
            return
        grid_kind = "image" if kind == "image" else "series" if kind == "series" else "array"
        figure = plot_sample_grid(
            sample_set.x,
            indices,
            kind=grid_kind,
            captions=[thumbnail_caption(int(i)) for i in indices],
            wrong=(predictions.correct[indices] == 0) if predictions.correct is not None else None,
            selected=selected,
            feature_names=sample_set.extras.get("feature_names"),
            columns=columns,
        )
        chart(
            figure,
            key=key,
            data=partial(sample_table, predictions, indices),
            on_select=lambda: select_from_chart(key, f"{prefix}_sample"),
            selection_mode="points",
        )

    # Every matching sample, a page at a time, inside the expander.
    pages = max(1, -(-len(matching) // GRID_PAGE))
    with browse:
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        page = 1
        if pages > 1:
            page = right.number_input("Page", 1, pages, 1, key=f"{prefix}_page")
        shown = matching[(page - 1) * GRID_PAGE : page * GRID_PAGE]
        left.caption(f"{len(matching):,} of {count:,} samples match · showing {len(shown)}.")
        show(shown, f"{prefix}_grid" if kind != "text" else f"{prefix}_text_table", 8, 400)
    # The compact view: the chosen sample and the next matching ones, one row.
    position = listed.index(selected)
    start = max(0, min(position, len(listed) - STRIP_SAMPLES))
    near = matching[start : start + STRIP_SAMPLES]
    with strip:
        st.caption(
            f"{len(matching):,} of {count:,} samples match · the chosen one (outlined) and the "
            "next ones: click one to analyse it, pick it below, or open the browser for all."
        )
        show(near, f"{prefix}_strip", STRIP_SAMPLES, 35 * (len(near) + 1) + 3)
        # The picker shows captions; the chosen index lives apart from it, so a click on the grid
        # or the projector, a new filter or a new model never leaves a stale label behind.
        captions = [caption(predictions, int(i)) for i in matching]
        st.session_state[f"{prefix}_sample_pick"] = captions[listed.index(selected)]

        def picked() -> None:
            label = st.session_state.get(f"{prefix}_sample_pick")
            if label in captions:
                st.session_state[f"{prefix}_sample"] = int(listed[captions.index(label)])

        st.selectbox("Sample", captions, key=f"{prefix}_sample_pick", on_change=picked)
    return int(st.session_state[f"{prefix}_sample"])


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


# --- Exports: every chart downloadable, every page as one zip -----------------------------------

EXPORTS_STATE = "page_exports"  # session state: {"page": title, "charts": {chart key: ChartExport}}
CHART_FORMATS = ("png", "svg", "html")
DOWNLOAD_LABELS = {"png": "PNG", "svg": "SVG", "html": "HTML (interactive)", "csv": "Data (CSV)"}
PLOTLY_SCRIPT = "plotly.min.js"  # one copy in a bundle; its HTML files load it from beside them
MANUAL_PAGE = "app_pages/manual.py"

# A table, or a function that makes it when a download asks for it (data that is costly to read).
ChartData = pd.DataFrame | Callable[[], pd.DataFrame]


@dataclass(frozen=True)
class ChartExport:
    """One chart as the page drew it: its file stem, title, figure and (optionally) its data."""

    key: str
    name: str
    title: str
    figure: go.Figure
    data: ChartData | None = None


def file_stem(name: str) -> str:
    """``name`` as a file name without extension: letters, digits, ``-``, ``_`` and ``.``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_.") or "chart"


def start_page(title: str) -> None:
    """Opens the page's export registry for this run (empty: what the last run drew is gone)."""
    st.session_state[EXPORTS_STATE] = {"page": title, "charts": {}}


def _registry() -> dict:
    if EXPORTS_STATE not in st.session_state:
        start_page("NeuroGenesis")
    return st.session_state[EXPORTS_STATE]


def recorded_charts() -> list[ChartExport]:
    """The charts this page has drawn so far in this run, in order."""
    return list(_registry()["charts"].values())


def chart(
    figure: go.Figure,
    *,
    key: str,
    data: ChartData | None = None,
    name: str | None = None,
    downloads: bool = True,
    **options,
):
    """``st.plotly_chart(figure, key=key, **options)`` with its downloads below it.

    The figure (and ``data``, its numbers as a table) is recorded for the page's bundle. A chart
    redrawn under the same key (a fragment's rerun) replaces its entry. Downloads are made only
    when clicked. ``downloads=False`` is for previews that the finished chart replaces in the
    same run.

    Returns:
        What ``st.plotly_chart`` returns: the selection event with ``on_select``.
    """
    # theme=None: the colours, scales and fonts the plotting module chose reach the browser;
    # browser_safe: Streamlit swaps #000001-#000020 for theme colours (Inferno's black zero).
    options.setdefault("theme", None)
    event = st.plotly_chart(browser_safe(figure), key=key, **options)
    if downloads:
        title = _plain(figure.layout.title.text if figure.layout.title else None)
        export = ChartExport(key, file_stem(name or key), title or name or key, figure, data)
        _registry()["charts"][key] = export
        _download_control(export)
    return event


def _plain(title: str | None) -> str:
    """A figure title's first line as text (titles hold Plotly's HTML: <br>, <sub>, entities)."""
    first = re.split(r"<br\s*/?>", title or "", maxsplit=1)[0]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", first)).split())


def figure_file(figure: go.Figure, fmt: str) -> bytes:
    """The figure's file in ``fmt``; empty when the static export cannot run here after all."""
    try:
        return figure_bytes(figure, fmt)
    except ExportUnavailableError:
        return b""


def csv_bytes(data: ChartData) -> bytes:
    """The table as CSV (its index too when it labels rows, as a confusion matrix's does)."""
    frame = data() if callable(data) else data
    labelled = not isinstance(frame.index, pd.RangeIndex)
    return frame.to_csv(index=labelled).encode("utf-8")


def _download_control(export: ChartExport) -> None:
    formats = CHART_FORMATS if static_export_available() else ("html",)
    with st.popover("Download", icon=":material/download:", type="tertiary"):
        for fmt in formats:
            st.download_button(
                DOWNLOAD_LABELS[fmt],
                partial(figure_file, export.figure, fmt),
                file_name=f"{export.name}.{fmt}",
                mime=FIGURE_FORMATS[fmt],
                key=f"{export.key}:download:{fmt}",
                on_click="ignore",
                width="stretch",
            )
        if export.data is not None:
            st.download_button(
                DOWNLOAD_LABELS["csv"],
                partial(csv_bytes, export.data),
                file_name=f"{export.name}.csv",
                mime="text/csv",
                key=f"{export.key}:download:csv",
                on_click="ignore",
                width="stretch",
            )
        if len(formats) == 1:
            st.caption("PNG and SVG need kaleido and a Chrome or Chromium browser.")


def bundle_bytes(
    charts: list[ChartExport], *, title: str = "NeuroGenesis", static_images: bool = False
) -> bytes:
    """A zip of the charts: each as HTML (and PNG when ``static_images``), its data as CSV, one
    copy of plotly.js that the HTML files load, and a README.txt listing the files."""
    import plotly.offline

    buffer = io.BytesIO()
    lines = [
        f"NeuroGenesis: {title}",
        f"Exported {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {len(charts)} chart(s).",
        "",
        f"Open the .html files in a browser (interactive; they load {PLOTLY_SCRIPT} from the same",
        "folder, so keep it beside them). The .csv files hold the numbers behind the charts.",
        "",
    ]
    used: set[str] = set()
    # One browser renders every PNG (a browser per image takes seconds each).
    session = export_session() if static_images else contextlib.nullcontext()
    with session, zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(PLOTLY_SCRIPT, plotly.offline.get_plotlyjs())
        for export in charts:
            stem, number = export.name, 2
            while stem in used:
                stem, number = f"{export.name}_{number}", number + 1
            used.add(stem)
            files = [f"{stem}.html"]
            archive.writestr(
                files[0], export.figure.to_html(include_plotlyjs=PLOTLY_SCRIPT, full_html=True)
            )
            problems = []
            if static_images:
                try:
                    archive.writestr(f"{stem}.png", figure_bytes(export.figure, "png"))
                    files.append(f"{stem}.png")
                except ExportUnavailableError as error:
                    problems.append(f"no PNG: {error}")
            if export.data is not None:
                # The bundle is still worth having when one table cannot be read again (a log
                # file deleted since the page ran): the README says which and why.
                try:
                    archive.writestr(f"{stem}.csv", csv_bytes(export.data))
                    files.append(f"{stem}.csv")
                except Exception as error:
                    problems.append(f"no CSV: {type(error).__name__}: {error}")
            lines.append(f"- {export.title}: {', '.join(files)}")
            lines.extend(f"  ({problem})" for problem in problems)
        lines.append(f"- {PLOTLY_SCRIPT}: Plotly's JavaScript, for the .html files")
        archive.writestr("README.txt", "\n".join(lines) + "\n")
    return buffer.getvalue()


def _bundle_of(state: dict, static_images: bool) -> bytes:
    # Reads the registry when clicked, so a fragment's redrawn charts are the ones bundled.
    return bundle_bytes(
        list(state["charts"].values()), title=state["page"], static_images=static_images
    )


def bundle_button() -> None:
    """One download for the whole page: every chart drawn in this run and its data, as a zip."""
    state = _registry()
    charts = list(state["charts"].values())
    if not charts:
        return
    static = static_export_available()
    tables = sum(export.data is not None for export in charts)
    st.download_button(
        f"Download this page ({len(charts)} chart{'s' if len(charts) != 1 else ''}"
        + (f", {tables} table{'s' if tables != 1 else ''}" if tables else "")
        + ", zip)",
        partial(_bundle_of, state, static),
        file_name=f"neurogenesis_{file_stem(state['page'].lower())}.zip",
        mime="application/zip",
        key="page_bundle",
        icon=":material/folder_zip:",
        on_click="ignore",
        help="Every chart on this page as interactive HTML"
        + (" and PNG" if static else "")
        + ", the data behind them as CSV, and a README listing the files. Only the open tab's "
        "charts are drawn, so only they are in the zip.",
    )


def manual_link(section: str) -> None:
    """A link to the user manual's section for this page, once the manual page is in the app."""
    if not (Path(__file__).resolve().parent / Path(MANUAL_PAGE).name).is_file():
        return
    with contextlib.suppress(StreamlitPageNotFoundError):  # written, not yet registered in app.py
        st.page_link(
            MANUAL_PAGE,
            label=f"User manual: {section}",
            icon=":material/menu_book:",
            query_params={"section": section},
        )


@contextlib.contextmanager
def how_to_read(section: str) -> Iterator[None]:
    """The page's "How to read this" expander, ending with a link to the manual's ``section``."""
    with st.expander("How to read this"):
        yield
        manual_link(section)
