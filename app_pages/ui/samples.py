"""The sample browser: a sample set shown as a strip and a paged grid, captions with the model's
prediction, one sample picked by a click."""

from __future__ import annotations

from functools import partial

import numpy as np
import streamlit as st

from app_pages.ui.charts import chart
from app_pages.ui.keep import show_note, tie_choice, valid_number
from neurogenesis import cached
from neurogenesis.plotting.features import (
    class_name,
    label_name,
    plot_sample_grid,
    sample_table,
    sample_text_table,
)

GRID_PAGE = 48
FILTERS = ("label", "prediction", "correct", "confidence", "error", "page")
"""The sample browser's filter widgets (key suffixes), tied to the model and set they filter."""


STRIP_SAMPLES = 8
"""Samples in the sample browser's compact, always-open row."""


def _image_like(x: np.ndarray) -> bool:
    return (x.ndim == 4 and x.shape[-1] in (1, 3, 4)) or (x.ndim == 3 and x.dtype == np.uint8)


def shown_input(sample_set) -> np.ndarray:
    """The array the browser draws: ``x`` of a one-input set; of a set of several inputs its
    image input (the first), else its token ids (``SampleSet.input()``)."""
    names = sample_set.input_names
    if not names:
        return sample_set.x
    images = [name for name in names if _image_like(sample_set.input(name))]
    return sample_set.input(images[0] if images else None)


def display_kind(sample_set, layers) -> str:
    if sample_set.kind == "image":
        return "image"
    x = shown_input(sample_set)
    if sample_set.input_names:
        if _image_like(x):
            return "image"
        if x.dtype.kind in "iu" and x.ndim == 2:
            return "text"
    elif layers.input_dtypes and "int" in layers.input_dtypes[0] and x.ndim == 2:
        return "text"
    if x.ndim == 3:
        return "series"
    return "array"


def words_of(sample_set) -> list[list[str]] | None:
    """Each text sample's tokens as words, from the set's vocabulary (token id -> word)."""
    if sample_set.vocabulary is None:
        return None
    return [sample_set.words(row) for row in shown_input(sample_set)]


def sample_text(sample_set, index: int, words) -> str:
    text = sample_set.per_sample("text")
    if text is not None:
        return str(text[index])
    if words is not None:
        return " ".join(word for word in words[index] if word not in ("", "[pad]", "<pad>"))
    return " ".join(str(v) for v in np.asarray(shown_input(sample_set)[index]).reshape(-1)[:32])


def caption(predictions, index: int) -> str:
    parts = [f"#{index}"]
    if predictions.labels is not None and predictions.task != "regression":
        parts.append(f"label {label_name(predictions, predictions.labels[index])}")
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
    # Labels of the user's own (not the model's classes) are listed by the set's own names.
    label_classes = (
        sorted(int(v) for v in np.unique(predictions.labels)) if predictions.own_labels else classes
    )
    if predictions.note:
        strip.caption(predictions.note)
    # Filters name this model's classes and this set's errors: another model starts unfiltered.
    owner = f"{model_source.key}|{samples_source.key}"
    if [tie_choice(f"{prefix}_{name}", owner, "filter") for name in FILTERS].count(None) < len(
        FILTERS
    ):
        strip.caption("The sample filters chosen for another model or sample set are cleared.")
    if predictions.labels is not None and label_classes:
        criteria["labels"] = (
            columns[0].multiselect(
                "Label",
                label_classes,
                format_func=lambda c: label_name(predictions, c),
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
    matching = cached.sample_filter(predictions, **criteria)
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
            if predictions.own_labels and predictions.labels is not None:
                return (
                    f"{first}\n{label_name(predictions, predictions.labels[index])} | {predicted}"
                )
            return f"{first}\n{predicted}"
        if predictions.task == "regression":
            output = float(np.ravel(predictions.outputs[index])[0])
            return f"#{index}\n{output:.3g}"
        if predictions.labels is not None and np.ndim(predictions.labels) == 1:
            return f"#{index}\n{label_name(predictions, predictions.labels[index])}"
        return f"#{index}"

    def show(indices, key: str, columns: int, height: int) -> None:
        if kind == "text":
            texts = [sample_text(sample_set, int(i), words) for i in indices]
            table = sample_text_table(predictions, indices, texts)
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
            shown_input(sample_set),
            indices,
            kind=grid_kind,
            captions=[thumbnail_caption(int(i)) for i in indices],
            wrong=(predictions.correct[indices] == 0) if predictions.correct is not None else None,
            selected=selected,
            feature_names=sample_set.feature_names,
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
            show_note(valid_number(f"{prefix}_page", 1, pages, "page"), right)
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
