"""What the debugging page's tabs share: widget state names, the clickable sample lists, the
regression target's name and unit, the fixed-features choice, and the attribution of two versions
of one sample side by side."""

from __future__ import annotations

from functools import partial

import numpy as np
import streamlit as st

from app_pages import ui
from neurogenesis import cached
from neurogenesis.errors import InputError
from neurogenesis.plotting.attribution import (
    METHOD_LABELS,
    plot_attribution,
    plot_token_attribution,
    shared_limit,
    token_attribution_table,
)
from neurogenesis.plotting.evaluation import text_samples_table
from neurogenesis.plotting.features import plot_sample_grid

PREFIX = "debugging"
SHOWN_SAMPLES = 24
# Attribution of a perturbed or adversarial sample: the gradient-based methods that need no
# settings beyond the features page's defaults.
LIVE_METHODS = ("integrated_gradients", "gradient", "smoothgrad", "gradcam")


def state(name: str) -> str:
    return f"{PREFIX}_{name}"


def class_names(predictions) -> list[str]:
    return [ui.class_name(predictions, c) for c in range(predictions.num_classes or 0)]


def method_label(method: str) -> str:
    return METHOD_LABELS.get(method, {"gradient": "Gradient × input"}.get(method, method))


def target(sample_set) -> tuple[str, str]:
    """The regression target's name and unit, from the sample set's ``target_name`` (``"next-day
    temp_max (°C)"`` gives ``("next-day temp_max (°C)", "°C")``); ``("output", "")`` without."""
    raw = sample_set.extras.get("target_name")
    name = str(np.asarray(raw).reshape(-1)[0]) if raw is not None else "output"
    unit = name[name.rfind("(") + 1 : -1] if name.endswith(")") and "(" in name else ""
    return name, unit


def with_unit(value: float, unit: str, spec: str = ".3g") -> str:
    return f"{value:{spec}} {unit}".rstrip()


def feature_units(sample_set) -> list[str]:
    """The unit of each feature of a set (``''`` for none, and for all when the set does not
    give one per feature)."""
    count = sample_set.x.shape[-1]
    units = sample_set.extras.get("feature_units")
    units = [str(unit) for unit in np.asarray(units).reshape(-1)] if units is not None else []
    return units if len(units) == count else [""] * count


def choose(index: int) -> None:
    """Makes ``index`` the sample every tab looks at (filters are cleared so it is listed)."""
    if st.session_state.get(state("sample")) == index:
        return
    for name in ("label", "prediction"):
        st.session_state[state(name)] = []
    st.session_state[state("correct")] = "all"
    st.session_state[state("confidence")] = (0.0, 1.0)
    st.session_state[state("sample")] = index
    st.rerun()


def sample_grid(sample_set, predictions, indices, kind: str, key: str) -> None:
    """Samples as thumbnails (or a table for text); a click makes one the chosen sample."""
    indices = [int(i) for i in indices[:SHOWN_SAMPLES]]
    if not indices:
        st.caption("No samples.")
        return
    if kind == "text":
        words = ui.words_of(sample_set)
        event = st.dataframe(
            text_samples_table(
                indices,
                [ui.sample_text(sample_set, i, words) for i in indices],
                [ui.caption(predictions, i) for i in indices],
            ),
            hide_index=True,
            on_select="rerun",
            selection_mode="single-row",
            key=key,
        )
        rows = event.selection.rows if event is not None else []
        if rows:
            choose(indices[rows[0]])
        return
    figure = plot_sample_grid(
        ui.shown_input(sample_set),
        indices,
        kind="image" if kind == "image" else "series" if kind == "series" else "array",
        captions=[ui.caption(predictions, i) for i in indices],
        wrong=(predictions.correct[indices] == 0) if predictions.correct is not None else None,
        feature_names=sample_set.extras.get("feature_names"),
    )
    ui.chart(
        figure,
        key=key,
        data=partial(ui.sample_table, predictions, indices),
        on_select=lambda: ui.select_from_chart(key, state("clicked")),
        selection_mode="points",
    )
    clicked = st.session_state.pop(state("clicked"), None)
    if clicked is not None:
        choose(int(clicked))


def first_samples(container, sample_set, minimum: int, default: int, name: str) -> int:
    """How many of the set's first samples to use: a slider in ``container`` from ``minimum`` to
    all of them, at ``default`` (or all, when the set is smaller). A count kept from a larger
    set is clamped to this one's size, with a note."""
    note = ui.valid_number(state(name), minimum, len(sample_set), "number of samples")
    count = container.slider(
        "Samples (the first N of the set)",
        minimum,
        len(sample_set),
        min(default, len(sample_set)),
        key=state(name),
    )
    ui.show_note(note, container)
    return count


def fixed_features(samples_source, sample_set, where: str) -> tuple[int, ...]:
    """The features the user keeps out of attacks and noise (calendar features by default); one
    choice shared by the tabs that ask."""
    count = sample_set.x.shape[-1]
    names = sample_set.feature_names or [f"feature {k}" for k in range(count)]
    saved = st.session_state.setdefault(state("fixed"), {})
    default = (
        saved[tuple(names)]
        if tuple(names) in saved
        else cached.default_fixed_features(samples_source)
    )
    # Indices mean other features in another set: start from this set's own choice (saved).
    ui.tie_choice(state(f"fixed_{where}"), repr(tuple(names)), "fixed features")
    chosen = st.multiselect(
        "Fixed features (never perturbed)",
        list(range(count)),
        default=[int(k) for k in default],
        format_func=names.__getitem__,
        key=state(f"fixed_{where}"),
        help="An attack cannot move the date: calendar and clock features (names like "
        "day_of_year_sin, month, hour) and features constant within each sample are fixed by "
        "default.",
    )
    saved[tuple(names)] = tuple(sorted(int(k) for k in chosen))
    return saved[tuple(names)]


def live_attribution(model_source, predictions, before, after, kind, sample_set, names, key):
    """Attribution maps of two versions of one sample, side by side."""
    if sample_set.input_names:
        st.caption(
            "Side-by-side attribution of the two versions is drawn for models of one input; the "
            "Explain tab explains each input of this one."
        )
        return
    if kind == "text":
        if cached.reason(model_source, "token_attribution"):
            return
        st.markdown("**Token attribution** (integrated gradients, predicted class)")
        for name, x in zip(names, (before, after), strict=True):
            info = cached.token_attribution_of(model_source, x[None], "integrated_gradients", {})
            words = sample_set.words(x)
            figure = plot_token_attribution(info, words, 0)
            figure.update_layout(title={"text": name})
            ui.chart(
                figure,
                key=state(f"{key}_tokens_{name}"),
                data=token_attribution_table(info, words, 0),
            )
        return
    reasons = cached.attribution_reasons(model_source)
    available = [m for m in LIVE_METHODS if not reasons.get(m)]
    if not available:
        return
    method = (
        st.segmented_control(
            "Attribution",
            available,
            default=available[0],
            format_func=METHOD_LABELS.get,
            key=state(f"{key}_method"),
        )
        or available[0]
    )
    # Both maps explain the class predicted for the first version, so they answer one question,
    # and share one colour scale, so that a brighter cell means a larger attribution.
    infos, explained = [], None
    for x in (before, after):
        settings = {} if explained is None else {"target": explained}
        try:
            info = cached.attribution_of(model_source, x[None], method, settings)
        except InputError as error:
            st.warning(str(error))
            return
        if predictions.num_classes and explained is None:
            explained = int(info.target[0])
        infos.append(info)
    what = (
        ui.class_name(predictions, explained) if predictions.num_classes else target(sample_set)[0]
    )
    st.caption(f"Both maps explain '{what}' and share one colour scale ({method_label(method)}).")
    limit = shared_limit(infos)
    for column, name, x, info in zip(st.columns(2), names, (before, after), infos, strict=True):
        figure = plot_attribution(info, x, 0, feature_names=sample_set.feature_names, limit=limit)
        figure.update_layout(title={"text": f"{name}: {method_label(method)}"})
        with column:
            ui.chart(
                figure,
                key=state(f"{key}_attribution_{name}"),
                data=partial(ui.attribution_table, {method: info}),
            )
