"""Links that open a view (issue 23): the URL carries the page, the sidebar's model, sample set
and runs, and the page's own choices; the router (app.py) applies them when a session opens.

A link is the page's address plus query parameters: ``model``, ``samples`` and ``logs`` (the
sidebar's labels; several runs as repeated ``logs``) and ``w.<key>=<JSON>`` for each settable
widget the page drew (its tab, layer, method, sliders...: the widgets ``keep.py`` keeps). Nothing
in a link is trusted: a key must look like a widget key of this app and be a widget the page
really draws, a value must be plain JSON of the widget's own type (and one of its options, for a
select); anything else is left out and the page says what in one line. A value the widget still
refuses (a number outside a range that depends on the model) makes the router undo the link's
values and show the page's defaults (:func:`undo`).

Widget values are applied in rounds: a value is set only once a run has drawn its widget (a tab's
widgets appear after the tab is chosen), at most :data:`MAX_ROUNDS` reruns when the session
opens.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

import streamlit as st

from app_pages.ui.keep import _plain, _settable_widgets

WIDGET_PREFIX = "w."
SIDEBAR = {"model": "model_choice", "samples": "samples_choice", "logs": "logs_choice"}
"""Query parameter -> the sidebar widget's key."""
NOT_IN_LINKS = frozenset({"uploader", *SIDEBAR.values()})
MAX_PARAMETERS = 60
MAX_VALUE_CHARS = 400
MAX_ROUNDS = 4
_KEY = re.compile(r"[a-z][a-z0-9_]{0,79}")

_READ = "_link_read"  # the session has read its URL
_PENDING = "_link_pending"  # widget key -> value still to apply
_APPLIED = "_link_applied"  # keys set from the link (undone if a widget refuses them)
_ROUNDS = "_link_rounds"
_NOTES = "_link_notes"


def open_link() -> None:
    """At the top of every run, before the sidebar: on a session's first run, reads the URL's
    parameters (the sidebar's choices at once, the widget values for later rounds); on every
    run, sets the waiting values whose widgets the last run drew."""
    state = st.session_state
    if _READ not in state:
        state[_READ] = True
        _read(st.query_params)
    pending = state.get(_PENDING)
    if not pending:
        return
    drawn = state.get("_link_drawn", {})
    last_round = state.get(_ROUNDS, 0) >= MAX_ROUNDS
    for key in [key for key in pending if key in drawn]:
        problem = _misfit(pending[key], drawn[key])
        if problem and not last_round:
            continue  # its options may depend on another value of the link: the next round
        value = pending.pop(key)
        if problem:
            _note(f"{_shown(WIDGET_PREFIX + key)} ({problem})")
            continue
        state[key] = value
        state.setdefault(_APPLIED, []).append(key)


def _read(params) -> None:
    state = st.session_state
    pending: dict[str, Any] = {}
    ignored: list[str] = []
    names = list(params.keys())
    if len(names) > MAX_PARAMETERS:
        ignored.append(f"{len(names) - MAX_PARAMETERS} parameters past the first {MAX_PARAMETERS}")
        names = names[:MAX_PARAMETERS]
    for name in names:
        values = params.get_all(name)
        if name in SIDEBAR:
            if name == "logs":
                state["logs_choice"] = [str(v)[:MAX_VALUE_CHARS] for v in values]
                state["logs_initialised"] = True
                state["_link_logs"] = list(state["logs_choice"])
            else:
                state[SIDEBAR[name]] = str(values[-1])[:MAX_VALUE_CHARS]
                state[f"_link_{name}"] = state[SIDEBAR[name]]
            continue
        key = name[len(WIDGET_PREFIX) :] if name.startswith(WIDGET_PREFIX) else None
        if key is None or not _KEY.fullmatch(key) or key in NOT_IN_LINKS:
            ignored.append(_shown(name))
            continue
        text = values[-1]
        try:
            value = json.loads(text) if len(text) <= MAX_VALUE_CHARS else None
        except ValueError:
            value = None
        if value is None or not _plain(value) or isinstance(value, dict):
            ignored.append(_shown(name))
            continue
        pending[key] = value
    state[_PENDING] = pending
    state[_ROUNDS] = 0
    if ignored:
        _note(", ".join(ignored))


def check_sidebar(labels: dict[str, list[str]]) -> None:
    """After the sidebar: notes the link's model, sample set or runs this session does not
    have (an upload of another session, a renamed file); the sidebar showed its defaults."""
    state = st.session_state
    for name, options in labels.items():
        wanted = state.pop(f"_link_{name}", None)
        if wanted is None:
            continue
        missing = [
            w for w in (wanted if isinstance(wanted, list) else [wanted]) if w not in options
        ]
        if missing:
            _note(f"the {name} {', '.join(map(repr, missing))} (not on this server)")


def _misfit(value, current: dict) -> str | None:
    """Why ``value`` cannot be this widget's (None when it can): another type than the
    widget's value, or not one of a select's options."""
    kind = current["kind"]
    widened = kind is float and isinstance(value, int) and not isinstance(value, bool)
    if not widened and (isinstance(value, bool) != (kind is bool) or not isinstance(value, kind)):
        return "not the widget's kind of value"
    options = current.get("options")
    if options is not None:
        chosen = value if isinstance(value, list) else [value]
        if any(item not in options for item in chosen):
            return "not one of its options"
    return None


def _note(text: str) -> None:
    st.session_state.setdefault(_NOTES, []).append(text)


def _shown(name: str) -> str:
    return repr(name[:40] + ("…" if len(name) > 40 else ""))


def _options(key: str):
    """The options of a select, radio or multiselect widget drawn under ``key`` (Streamlit's
    serde holds them), or None for other widgets. Reads Streamlit internals; None if unknown."""
    from streamlit.runtime.state import get_session_state

    try:
        state = get_session_state()._state
        widget_id = state._key_id_mapper.get_id_from_key(key)
        deserializer = state._new_widget_state.widget_metadata[widget_id].deserializer
        options = deserializer.__self__.options
    except (AttributeError, KeyError):
        return None
    return list(options) if isinstance(options, list | tuple) else None


def after_run() -> None:
    """At the end of a run that finished: remembers the widgets it drew (kind, options) and,
    when a waiting link value now has its widget, runs again to set it; once nothing is left
    to set (or after :data:`MAX_ROUNDS`), notes what the page never drew."""
    state = st.session_state
    pending = state.get(_PENDING)
    if not pending:
        state.pop(_APPLIED, None)  # the values the link set were drawn without complaint
        return
    widgets = drawn_widgets()
    state["_link_drawn"] = {
        key: {"kind": _kind(value), "options": _options(key)} for key, value in widgets.items()
    }
    rounds = state.get(_ROUNDS, 0)
    drawn_now = [key for key in pending if key in widgets]
    if rounds >= MAX_ROUNDS or not drawn_now:
        left = [key for key in pending if key not in widgets]
        if left:
            shown = ", ".join(_shown(WIDGET_PREFIX + key) for key in left)
            _note(f"{shown} (no such choice on this page)")
        # a drawn value that never fitted gets its reason in the last round (open_link)
        state[_PENDING] = {key: pending[key] for key in drawn_now}
        rounds = max(rounds, MAX_ROUNDS)
    state[_ROUNDS] = rounds + 1
    st.rerun()  # sets the values whose widgets this run drew, or shows the notes


def _kind(value):
    if isinstance(value, bool):
        return bool
    if isinstance(value, list | tuple):
        return list
    return type(value)


def drawn_widgets() -> dict[str, Any]:
    """The settable widgets this run drew, by key, with their values (sidebar and upload
    widgets left out)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    holder = getattr(ctx, "shared", ctx)  # Streamlit 1.67 moved the run's sets to ctx.shared
    keys = getattr(holder, "widget_user_keys_this_run", None)  # membership only, no iteration
    if keys is None:
        return {}
    return {
        key: value
        for key, value in _settable_widgets().items()
        if key in keys and key not in NOT_IN_LINKS and _KEY.fullmatch(key)
    }


def undo() -> bool:
    """Drops every value the link set (a widget refused one); True when there were some, and
    the page should run again with its defaults."""
    applied = st.session_state.pop(_APPLIED, [])
    for key in applied:
        st.session_state.pop(key, None)
    st.session_state[_PENDING] = {}
    if applied:
        _note("its settings for this page (they do not fit this model): the page's defaults")
    return bool(applied)


def show_notes() -> None:
    """One line at the top of the page saying what the link's URL asked for that was left out."""
    notes = st.session_state.get(_NOTES)
    if notes and not st.session_state.get(_PENDING):
        st.info("Parts of the link were left out: " + "; ".join(notes) + ".", icon="🔗")
        st.session_state[_NOTES] = []


def view_query(widgets: dict[str, Any] | None = None) -> str:
    """The query string of the view: the sidebar's choices and ``widgets``' values."""
    state = st.session_state
    pairs: list[tuple[str, str]] = []
    for name in ("model", "samples"):
        value = state.get(SIDEBAR[name])
        if isinstance(value, str):
            pairs.append((name, value))
    pairs += [("logs", label) for label in state.get("logs_choice") or [] if isinstance(label, str)]
    for key, value in sorted((widgets or {}).items()):
        text = json.dumps(value, default=str)
        if len(text) <= MAX_VALUE_CHARS:
            pairs.append((WIDGET_PREFIX + key, text))
    return urlencode(pairs)


def copy_link_control(slot, widgets: dict[str, Any] | None = None) -> None:
    """The sidebar's "Copy link to this view": the URL (Streamlit's code block has a copy
    button) in a popover, drawn into ``slot`` (a placeholder reserved above the page)."""
    base = st.context.url or ""
    url = f"{base}?{view_query(widgets)}"
    with slot.container(), st.popover("Copy link to this view", icon=":material/link:"):
        st.code(url, language=None, wrap_lines=True)
        st.caption(
            "Opens this page with this model, sample set, runs and the page's settings "
            "(uploads stay in the session that made them)."
        )
