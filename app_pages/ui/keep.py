"""Choices that survive leaving a page (issue 24): one mechanism, run by the router (app.py).

Streamlit deletes a widget's value at the end of a run that did not draw it, so every choice on
a page that is not the current one would fall back to its default on return (and a different
computation would start). ``keep_choices`` runs at the top of every run, before the page, and
re-assigns each settable keyed widget's value to its own key (Streamlit's documented way to keep
a widget's value across pages): the value then also lives as ordinary session state, which
outlives the widget, and the page draws the widget with the user's choice on return. The cached
calls get the same arguments, so a return recomputes nothing. (Copying values aside and
restoring only missing keys is not enough: a value a page or test once set under the key, before
the widget existed, stays behind and would come back instead of the user's last choice.)

Buttons, uploads, chart and table selections cannot be set through ``st.session_state``
(Streamlit raises when such a widget is drawn with a value set) and are never kept: their kind is
read from the widget's metadata (``value_type``) and, for selections, from the value itself
(a selection is a dict, never a plain choice).

``valid_choice`` and ``valid_number`` are the other half: after a change of the sidebar model
(or sample set, or run) a kept value may no longer be an option (a layer the new model lacks) or
may lie outside a range that the new model sets (a shift of at most a quarter of the image's
width). Streamlit raises when a slider is drawn with a value outside its range, and quietly
resets a select; these helpers, called just before the widget is drawn, drop the value (a
select then starts on its default) or clamp it into the range (a number), and return a one-line
note for the page to show (``show_note``). ``tie_choice`` drops a choice that only makes sense
for the model or sample set it was made for (the models compared with the sidebar's).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

import streamlit as st

# Widget value kinds that a script may set: selects, radios, sliders, checkboxes, numbers, text,
# segmented controls and tabs. Buttons ("trigger_value", "string_trigger_value"), uploads
# ("file_uploader_state_value") and chat inputs are left out.
SETTABLE = frozenset(
    {
        "string_value",
        "bool_value",
        "double_value",
        "int_value",
        "string_array_value",
        "double_array_value",
    }
)
_PLAIN = (str, int, float, bool, datetime.date, datetime.time, type(None))


def _plain(value: Any) -> bool:
    """True for a value a widget shows as a choice (not a selection event or an edit dict)."""
    if isinstance(value, list | tuple):
        return all(isinstance(item, _PLAIN) for item in value)
    return isinstance(value, _PLAIN)


def _settable_widgets() -> dict[str, Any]:
    """User key -> value of every keyed widget whose state Streamlit holds now and that a script
    may set. Reads Streamlit's session state internals (no public API says a key's widget kind);
    an unknown layout yields nothing, so the app then only loses choices, as before."""
    from streamlit.runtime.state import get_session_state

    try:
        state = get_session_state()._state
        mapper = state._key_id_mapper
        metadata = state._new_widget_state.widget_metadata
        keys = list(mapper._key_id_mapping.items())
    except AttributeError:  # pragma: no cover - a Streamlit without these internals
        return {}
    found = {}
    for key, widget_id in keys:
        meta = metadata.get(widget_id)
        if meta is None or meta.value_type not in SETTABLE or key not in st.session_state:
            continue
        try:
            value = st.session_state[key]
        except (KeyError, AttributeError):
            continue
        if _plain(value):
            found[key] = value
    return found


def keep_choices() -> None:
    """Turns the value of every settable widget drawn in the last run into session state of its
    own (``st.session_state[k] = st.session_state[k]``), so it outlives its widget: when the
    page is left, Streamlit drops the widget's state but reads the key from this copy, and the
    widget finds it when the page is drawn again. Call once per run, before the page runs."""
    for key, value in _settable_widgets().items():
        st.session_state[key] = value


def forget_choice(key: str) -> None:
    """Drops a choice so its widget starts on its default (a page resetting it on purpose)."""
    st.session_state.pop(key, None)


def _clamp(value: Any, low: float | None, high: float | None) -> Any:
    """``value`` moved into ``[low, high]`` (a bound of None is open), keeping its type."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    moved = value
    if low is not None and moved < low:
        moved = low
    if high is not None and moved > high:
        moved = high
    return type(value)(moved)


def _number(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "–".join(_number(item) for item in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def valid_number(key: str, low: float | None, high: float | None, what: str) -> str | None:
    """Clamps the number kept under ``key`` (or both ends of a range slider's pair) into
    ``[low, high]``, the range the widget is about to be drawn with, so it never fails on a value
    kept from a model, sample set or run whose range was wider.

    Args:
        key: The widget's key.
        low: The widget's smallest value (None: no lower bound).
        high: The widget's largest value (None: no upper bound).
        what: What the number is, for the note ("shift", "number of samples").

    Returns:
        A note saying what the value was and what it is now, or None when it was in range.
    """
    if key not in st.session_state:
        return None
    value = st.session_state[key]
    if isinstance(value, list | tuple):
        moved = type(value)(_clamp(item, low, high) for item in value)
    else:
        moved = _clamp(value, low, high)
    if moved == value:
        return None
    st.session_state[key] = moved
    bounds = f"{_number(low) if low is not None else '−∞'} to {_number(high) if high is not None else '∞'}"
    return (
        f"The {what} {_number(value)} chosen before is outside this model's range ({bounds}): "
        f"now {_number(moved)}."
    )


def tie_choice(key: str, owner: str, what: str) -> str | None:
    """Ties the choice kept under ``key`` to ``owner`` (the model, sample set or feature names
    it was made for): drawn for another owner, the widget starts on its default, as a choice
    that only makes sense for the first owner (models to compare with it) should.

    Args:
        key: The widget's key.
        owner: What the choice belongs to, as a string (a source's key, a names tuple's repr).
        what: What the choice is, for the note.

    Returns:
        A note when a choice made for another owner was dropped, else None.
    """
    mark = f"{key}::owner"
    before = st.session_state.get(mark, owner)
    st.session_state[mark] = owner
    if before == owner or key not in st.session_state:
        return None
    forget_choice(key)
    return f"The {what} chosen before belonged to another model or sample set: back to the default."


def show_note(note: str | None, where: Any = None) -> None:
    """Shows a note from ``valid_choice`` or ``valid_number`` as a caption (in ``where``, a
    column or container, else the page), and nothing when there is none."""
    if note:
        (st if where is None else where).caption(note)


def valid_choice(key: str, options: Sequence, what: str) -> str | None:
    """Drops the value kept under ``key`` if it is no longer among ``options`` (a multiselect
    keeps the values that still are, or starts on its default when none is), so the widget starts
    on its default instead of quietly showing another value.

    Args:
        key: The widget's key.
        options: The options the widget is about to be drawn with.
        what: What the choice is, for the note ("layer", "run").

    Returns:
        A note saying what was dropped, or None when the kept choice is still valid.
    """
    if key not in st.session_state:
        return None
    value = st.session_state[key]
    allowed = list(options)
    if isinstance(value, list):
        left = [item for item in value if item in allowed]
        if len(left) == len(value):
            return None
        gone = [item for item in value if item not in allowed]
        if left:
            st.session_state[key] = left
        else:  # nothing left: the widget's own default, not an empty choice
            forget_choice(key)
        return (
            f"The {what} {', '.join(map(str, gone))} chosen before is not in this model: dropped."
        )
    if value is None or value in allowed:
        return None
    forget_choice(key)
    return f"The {what} {value} chosen before is not in this model: back to the default."
