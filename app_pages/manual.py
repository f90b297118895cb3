"""User manual: docs/manual.md inside the app, with its screenshots, one section per page.

The same file GitHub renders is shown here, so the "How to read this" links of the pages work
where only the app is reachable (Streamlit Community Cloud). ``?section=NAME`` (a section's
heading, its anchor such as ``loss-landscape``, or a page's file stem such as ``landscape``)
opens that section alone.
"""

from __future__ import annotations

import re
from pathlib import Path

import streamlit as st

DOCS = Path(__file__).resolve().parent.parent / "docs"
MANUAL = DOCS / "manual.md"
IMAGE_LINE = re.compile(r"^\s*!\[(?P<alt>[^\]]*)\]\((?P<path>[^)\s]+)\)\s*$")
# Page file stems whose section is not named like the page (home.py's is "Getting started").
STEM_SECTIONS = {
    "home": "Getting started",
    "training": "Training dynamics",
    "features": "Features and representations",
    "landscape": "Loss landscape",
}


def anchor(heading: str) -> str:
    """The anchor Streamlit and GitHub give a plain heading: lower case, words joined by '-'."""
    return re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")


def sections(text: str) -> list[tuple[str, str]]:
    """``(heading, markdown)`` for the part before the first ``## `` heading (heading "") and for
    each ``## `` section; lines inside code fences never start a section."""
    found: list[tuple[str, list[str]]] = [("", [])]
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            found.append((line[3:].strip(), []))
        found[-1][1].append(line)
    return [(heading, "\n".join(lines)) for heading, lines in found]


def show(markdown: str) -> None:
    """Text with ``st.markdown``; a line that is only an image with ``st.image`` (its path
    relative to docs/, its alt text as the caption)."""
    text: list[str] = []

    def flush() -> None:
        if "".join(text).strip():
            st.markdown("\n".join(text))
        text.clear()

    fenced = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        match = None if fenced else IMAGE_LINE.match(line)
        if match is None:
            text.append(line)
            continue
        flush()
        path = (DOCS / match["path"]).resolve()
        if path.is_relative_to(DOCS) and path.is_file():
            with st.container(border=True):  # a frame tells a screenshot from the page around it
                st.image(str(path), caption=match["alt"] or None, width="stretch")
        else:
            st.caption(f"(Picture not found: {match['path']})")
    flush()


def chosen_section(parts: list[tuple[str, str]]) -> str | None:
    """The heading asked for with ``?section=``, if there is such a section."""
    wanted = st.query_params.get("section")
    if not wanted:
        return None
    wanted = anchor(STEM_SECTIONS.get(wanted, wanted))
    return next((heading for heading, _ in parts if heading and anchor(heading) == wanted), None)


def show_everything() -> None:
    st.query_params.pop("section", None)


if not MANUAL.is_file():
    st.title("User manual")
    st.error(f"The manual is missing: expected {MANUAL}.")
    st.stop()
parts = sections(MANUAL.read_text(encoding="utf-8"))
section = chosen_section(parts)
if section is None:
    for _, markdown in parts:
        show(markdown)
else:
    st.button("Show the whole manual", on_click=show_everything, icon=":material/menu_book:")
    show(next(markdown for heading, markdown in parts if heading == section))
