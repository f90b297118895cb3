"""Debugging, Perturbation tab: edit one sample by hand (noise, blur, a shift, masked tokens...)
and watch the prediction and the attribution move."""

from __future__ import annotations

import zlib

import numpy as np
import streamlit as st

from app_pages import ui
from app_pages.debugging_parts import (
    class_names,
    feature_units,
    fixed_features,
    live_attribution,
    state,
    target,
    with_unit,
)
from app_pages.debugging_typed import typed_choice, typed_prediction, typed_steps
from neurogenesis import cached
from neurogenesis.errors import InputError
from neurogenesis.plotting.robustness import (
    plot_perturbed_input,
    plot_prediction_change,
    prediction_change_table,
)


def _slider(column, label, low, high, default, step, name) -> dict:
    return {"strength": column.slider(label, low, high, default, step, key=state(name))}


def _pixels(column, label: str, low: int, high: int, default: int, name: str, what: str) -> int:
    """A slider whose range is this sample set's image size (or series length): a value kept
    from a set of larger images is clamped into this one's range, with a note, not an error."""
    note = ui.valid_number(state(name), low, high, what)
    value = column.slider(label, low, high, default, key=state(name))
    ui.show_note(note, column)
    return value


def _image_steps(sample_set) -> list:
    height, width = ui.shown_input(sample_set).shape[1:3]
    a, b, c = st.columns(3)
    steps = [
        (
            "gaussian_noise",
            _slider(a, "Noise (std, share of range)", 0.0, 0.5, 0.0, 0.01, "perturb_noise"),
        ),
        ("blur", _slider(a, "Blur (sigma, pixels)", 0.0, 3.0, 0.0, 0.1, "blur")),
        (
            "brightness",
            _slider(b, "Brightness (share of range)", -0.5, 0.5, 0.0, 0.02, "brightness"),
        ),
        ("contrast", _slider(b, "Contrast reduction", -1.0, 0.95, 0.0, 0.05, "contrast")),
        ("rotation", _slider(c, "Rotation (degrees)", -45.0, 45.0, 0.0, 1.0, "rotation")),
    ]
    down = _pixels(c, "Shift down (pixels)", -height // 4, height // 4, 0, "shift_down", "shift")
    right = _pixels(c, "Shift right (pixels)", -width // 4, width // 4, 0, "shift_right", "shift")
    if down or right:
        steps.append(("shift", {"strength": (float(down), float(right))}))
    with st.container(border=True):
        st.caption("Occlusion patch (grey, the middle of the value range)")
        a, b, c = st.columns(3)
        size = _pixels(
            a, "Patch size (pixels)", 0, max(1, min(height, width) // 2), 0, "patch", "patch size"
        )
        top = _pixels(b, "Top", 0, height - 1, height // 3, "patch_top", "patch row")
        left = _pixels(c, "Left", 0, width - 1, width // 3, "patch_left", "patch column")
    steps.append(("occlusion", {"top": top, "left": left, "size": size}))
    return steps


def _series_steps(samples_source, sample_set) -> list:
    steps = ui.shown_input(sample_set).shape[1]
    a, b = st.columns(2)
    strength = a.slider(
        "Noise (std, share of each feature's std)",
        0.0,
        1.0,
        0.0,
        0.05,
        key=state("series_noise"),
    )
    with a:
        fixed = fixed_features(samples_source, sample_set, "perturbation")
    return [
        ("series_noise", {"strength": strength, "fixed_features": fixed}),
        (
            "series_shift",
            {
                "strength": _pixels(
                    b,
                    "Delay (steps; negative: advance)",
                    -(steps // 2),
                    steps // 2,
                    0,
                    "series_shift",
                    "delay",
                )
            },
        ),
    ]


def _text_steps(sample_set, index: int) -> list:
    tokens = np.asarray(ui.shown_input(sample_set)[index])
    vocabulary = sample_set.vocabulary
    count = len(vocabulary) if vocabulary else 100
    # One set of widgets per sample's tokens (as for typed text): the positions picked belong to
    # these tokens, not to sample #index of another model's set.
    key = f"{index}_{zlib.crc32(tokens.tobytes()):08x}"
    return token_steps(tokens, sample_set.words(tokens), count, sample_set.words, key)


def token_steps(tokens, words, count: int, word_of, key: str, mask=None) -> list:
    """The token edits the user picks among ``tokens`` (their ``words``; padding, id 0, left
    out): mask (``mask``: (token, id), else [UNK]), delete, replace by one of ids 2 to
    ``count - 1`` (``word_of`` names them)."""
    present = [int(p) for p in np.flatnonzero(tokens != 0)]

    def label(position: int) -> str:
        return f"{position}: {words[position]}"

    a, b = st.columns(2)
    masked = a.multiselect(
        f"Mask tokens ({mask[0] if mask else '[UNK]'})",
        present,
        format_func=label,
        key=state(f"mask_{key}"),
    )
    deleted = b.multiselect("Delete tokens", present, format_func=label, key=state(f"delete_{key}"))
    a, b = st.columns(2)
    position = a.selectbox(
        "Replace the token at",
        [None, *present],
        format_func=lambda p: "–" if p is None else label(p),
        key=state(f"replace_at_{key}"),
    )
    masking = {"positions": masked} | ({"mask_id": int(mask[1])} if mask else {})
    steps = [("mask_tokens", masking), ("delete_tokens", {"positions": deleted})]
    if position is not None:
        token = b.selectbox(
            "…by",
            list(range(2, count)),
            format_func=lambda t: word_of([t])[0],
            key=state(f"replace_by_{key}"),
        )
        # Replace before masking and deleting: deleting shifts the positions the user picked.
        steps.insert(0, ("replace_tokens", {"position": position, "token_id": int(token)}))
    return steps


def perturbation_view(model_source, samples_source, sample_set, predictions, index, kind):
    reason = cached.reason(model_source, "robustness")
    if reason:
        st.info(reason)
        return
    typed = kind == "text" and typed_choice(model_source)
    what = "the text you type" if typed else f"sample #{index}"
    st.caption(
        f"Perturb {what} and watch the prediction."
        + (
            " Token edits apply in order: replace, mask, then delete."
            if kind == "text"
            else " Noise uses a fixed seed, so moving a slider changes only the strength."
        )
    )
    vocabulary = sample_set.vocabulary
    if typed:
        x, steps, vocabulary = typed_steps(model_source, typed, token_steps)
        if x is None:
            return
    elif kind == "image":
        steps = _image_steps(sample_set)
    elif kind == "series":
        steps = _series_steps(samples_source, sample_set)
    elif kind == "text":
        steps = _text_steps(sample_set, index)
    else:
        st.info("Perturbations are defined for images, series and token sequences.")
        return
    try:
        if typed:
            info = cached.perturbation_of(model_source, x, steps)
        else:
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
                vocabulary=vocabulary,
                original=info.original,
                feature_names=sample_set.feature_names,
                feature_units=feature_units(sample_set) if kind == "series" else None,
            ),
            key=state("perturbed_input"),
        )
    with right:
        ui.chart(
            plot_prediction_change(
                class_names(predictions) or [target(sample_set)[0]],
                info.original_output,
                info.perturbed_output,
            ),
            key=state("perturbed_prediction"),
            data=prediction_change_table(
                class_names(predictions), info.original_output, info.perturbed_output
            ),
        )
    if info.task == "regression":
        change = float(info.perturbed_output[0] - info.original_output[0])
        name, unit = target(sample_set)
        st.caption(f"The predicted {name} moved by **{with_unit(change, unit, '+.3g')}**.")
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
    if typed:  # the attribution below explains the sample set's samples
        typed_prediction(info, predictions)
        return
    live_attribution(
        model_source,
        predictions,
        info.original,
        info.perturbed,
        kind,
        sample_set,
        ("original", "perturbed"),
        "perturbed",
    )
