"""Architecture, the builder's stack in the session: its state, edits, and the typed settings
(sizes, shapes, paddings) parsed into values."""

from __future__ import annotations

import ast

import streamlit as st

from neurogenesis import cached
from neurogenesis.errors import InputError
from neurogenesis.plotting.architecture import setting_text

BUILDER = "builder"  # session state: {"input_shape", "specs", "version", "origin"}


def builder_state() -> dict:
    """The builder's stack in the session (the small CNN template to start with)."""
    if BUILDER not in st.session_state:
        input_shape, specs = cached.template_specs("small_cnn")
        st.session_state[BUILDER] = {
            "input_shape": tuple(input_shape),
            "specs": tuple(specs),
            "version": 0,
            "origin": "the small CNN template",
        }
    return st.session_state[BUILDER]


def builder_set(input_shape, specs, origin: str) -> None:
    """Replaces the stack (a template, the sidebar model or nothing), named by ``origin``."""
    state = builder_state()
    state.update(
        input_shape=tuple(input_shape),
        specs=tuple(specs),
        version=state["version"] + 1,
        origin=origin,
    )
    st.session_state.pop("builder_problem", None)


def builder_edit(operation: str, *args, **kwargs) -> None:
    """Applies an edit (``"add"``, ``"remove"``, ``"move"``, ``"update"``); a refused one is
    explained, nothing lost."""
    state = builder_state()
    try:
        specs = cached.edit_layers(state["specs"], operation, *args, **kwargs)
    except InputError as error:
        st.session_state["builder_problem"] = str(error)
        return
    st.session_state.pop("builder_problem", None)
    state.update(specs=specs, version=state["version"] + 1)


def _parse_setting(kind: str, text: str):
    text = text.strip()
    if kind == "optional_size" and not text:
        return None
    if kind == "padding":
        try:
            value = ast.literal_eval(text if text.startswith("(") else f"({text},)")
        except (ValueError, SyntaxError) as error:
            raise InputError(
                f"Expected a number, a pair '1, 2' or pairs '(1, 1), (2, 2)'. Received: {text!r}"
            ) from error
        return value[0] if len(value) == 1 else value
    shape = cached.parse_shape(text)
    if not shape:
        raise InputError(f"Expected a number or numbers separated by commas. Received: {text!r}")
    return shape[0] if len(shape) == 1 and kind != "shape" else shape


def _on_setting(index: int, name: str, kind: str, key: str) -> None:
    value = st.session_state[key]
    if kind in ("size", "optional_size", "shape", "padding"):
        try:
            value = _parse_setting(kind, value)
        except InputError as error:
            st.session_state["builder_problem"] = f"Layer {index + 1}, {name}: {error}"
            return
    builder_edit("update", index, **{name: value})


def on_input_shape(key: str) -> None:
    """The input shape typed in the text box ``key``, parsed; a bad one is explained."""
    state = builder_state()
    try:
        shape = cached.parse_shape(st.session_state[key])
    except InputError as error:
        st.session_state["builder_problem"] = f"Input shape: {error}"
        return
    st.session_state.pop("builder_problem", None)
    state.update(input_shape=shape, version=state["version"] + 1)


def setting_widget(spec, index: int, item, version: int) -> None:
    """The widget for one setting ``item`` of layer ``index``, by the setting's type."""
    key = f"builder:{version}:{index}:{item.name}"
    value = spec.get(item.name, item.default)
    common = {"key": key, "help": item.help or None, "on_change": _on_setting}
    common["args"] = (index, item.name, item.type, key)
    if item.type == "bool":
        st.checkbox(item.name, value=bool(value), **common)
    elif item.type == "choice":
        choices = list(item.choices or ())
        st.selectbox(
            item.name, choices, index=choices.index(value) if value in choices else 0, **common
        )
    elif item.type == "int":
        st.number_input(
            item.name,
            value=int(value),
            min_value=None if item.minimum is None else int(item.minimum),
            step=1,
            **common,
        )
    elif item.type == "float":
        st.number_input(
            item.name,
            value=float(value),
            min_value=None if item.minimum is None else float(item.minimum),
            step=0.05,
            format="%.4g",
            **common,
        )
    else:
        st.text_input(item.name, value=setting_text(value), **common)
