"""The user manual page: docs/manual.md inside the app, a section and a screenshot per page."""

from __future__ import annotations

import re
from pathlib import Path

from app_pages.ui.pages import PAGES
from tests.app.pages import open_page, rerun
from tests.conftest import ROOT

MANUAL = ROOT / "docs" / "manual.md"
IMAGE = re.compile(r"^!\[([^\]]*)\]\(([^)\s]+)\)\s*$", re.MULTILINE)
# The section of a page whose title is not its heading in the manual.
SECTION_OF = {"Home": "Getting started"}
MAX_PICTURE_BYTES = 400_000  # screenshots are committed: keep them small


def _pages() -> list[tuple[str, str]]:
    """``(file stem, title)`` of every page app.py registers (app_pages/ui/pages.py lists them),
    the manual itself left out."""
    return [
        (Path(page.path).stem, page.title) for page in PAGES if Path(page.path).stem != "manual"
    ]


def _sections() -> dict[str, str]:
    """Heading -> text of every ``## `` section of the manual."""
    parts = re.split(r"^## (.+)$", MANUAL.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {heading.strip(): body for heading, body in zip(parts[1::2], parts[2::2], strict=True)}


def test_the_manual_is_registered_last_in_app_py():
    text = (ROOT / "app.py").read_text(encoding="utf-8")
    assert "for page in APP_PAGES" in text, "app.py registers the pages of app_pages/ui/pages.py"
    assert PAGES[-1].path == "app_pages/manual.py" and PAGES[-1].title == "User manual"


def test_every_page_has_a_section_with_its_screenshot():
    sections = _sections()
    for stem, title in _pages():
        heading = SECTION_OF.get(title, title)
        assert heading in sections, f"no '## {heading}' section for the {title} page"
        pictures = [path for _, path in IMAGE.findall(sections[heading])]
        assert f"manual/{stem}.png" in pictures, f"the {title} section lacks manual/{stem}.png"
        assert "Pitfalls" in sections[heading] or stem == "home", f"{title}: no pitfalls"
    assert "References" in sections


def test_every_picture_exists_and_is_small():
    pictures = IMAGE.findall(MANUAL.read_text(encoding="utf-8"))
    assert len(pictures) >= len(_pages())
    for alt, path in pictures:
        file = MANUAL.parent / path
        assert file.is_file(), f"{path} is missing"
        assert file.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
        assert file.stat().st_size < MAX_PICTURE_BYTES, f"{path} is too large to commit"
        assert alt.strip(), f"{path} has no alt text"


def test_the_references_the_pages_rely_on_are_cited_in_full():
    references = " ".join(_sections()["References"].split())  # lines wrap anywhere
    for citation in (
        "Visualizing the loss landscape of neural nets",
        "Axiomatic attribution for deep networks",
        "Grad-CAM: Visual explanations from deep networks",
        "Sanity checks for saliency maps",
        "Quantifying attention flow in transformers",
        "Note on the sampling error of the difference between correlated",
    ):
        assert citation in references, citation


def test_the_readme_links_the_manual():
    assert "(docs/manual.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_manual_page_renders_every_section_and_picture(app_argv):
    at = open_page(app_argv, "manual.py", "--no-demos")
    text = "\n".join(str(element.value) for element in at.markdown)
    for _, title in _pages():
        assert f"## {SECTION_OF.get(title, title)}" in text
    assert "## References" in text
    shown = [caption for image in at.image for caption in image.captions]
    assert len(shown) == len(IMAGE.findall(MANUAL.read_text(encoding="utf-8")))
    assert not [c for c in at.caption if "Picture not found" in str(c.value)]
    # No raw image markdown is left for st.markdown (it could not load a relative path).
    assert "](manual/" not in text


def test_a_section_opens_alone_and_the_whole_manual_comes_back(app_argv):
    at = open_page(app_argv, "manual.py", "--no-demos")
    at.query_params["section"] = "landscape"  # a page's file stem
    rerun(at)
    text = "\n".join(str(element.value) for element in at.markdown)
    assert "## Loss landscape" in text
    assert "## Architecture" not in text
    assert len(at.image) == 1
    whole = next(button for button in at.button if button.label == "Show the whole manual")
    whole.click()
    rerun(at)
    text = "\n".join(str(element.value) for element in at.markdown)
    assert "## Architecture" in text and "## Loss landscape" in text

    at.query_params["section"] = "Getting started"  # the heading itself
    rerun(at)
    assert "## Getting started" in "\n".join(str(element.value) for element in at.markdown)
    assert len(at.image) == 1

    at.query_params["section"] = "no-such-section"  # unknown: the whole manual
    rerun(at)
    assert len(at.image) == len(IMAGE.findall(MANUAL.read_text(encoding="utf-8")))
