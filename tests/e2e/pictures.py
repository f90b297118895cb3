"""The picture check: every page and every tab on the five demos, judged from what the browser got.

Each view is read in Chromium after it has finished: the figure JSON Streamlit sent (what the
plotting module chose) and plotly's ``_fullData``/``_fullLayout`` (what was drawn), every SVG text
with its box on screen, and the page's text. A view fails when
- a colour scale was drawn other than the one the figure asked for (Streamlit's chart theme
  once turned Inferno's black zero pink), or a map that declares its values (``meta``:
  ``{"values": "signed"}`` or ``{"values": "magnitude"}``) is not centred on zero / does not
  start at zero;
- an axis with tick labels, a 3D axis or a colour bar has no title;
- a chart is empty;
- a text is cut off (by the chart's edge, or by an ellipsis on the page) or overlaps another;
- the page shows another demo's runs or model while the sidebar says this one;
- an exception or error box reached the user.

``NEUROGENESIS_PICTURE_DEMOS`` (comma-separated) limits the demos, ``NEUROGENESIS_PICTURE_PAGES``
the pages (sidebar titles, by substring), e.g. to check one page while working on it. Run with
``-s`` to see the seconds each view took.

This module holds the checks; each demo's tour is its own file, ``test_pictures_<demo>.py``, so
that ``pytest -n 2 --dist loadfile`` spreads the five tours (minutes each) over both workers.
"""

from __future__ import annotations

import os
import re
import time

import pytest

from tests.e2e import tour
from tests.e2e.test_browser import running_app

# A demo's whole tour computes every view once: minutes on two busy cores.
MARKS = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(1800)]

DEMOS = ("digits_cnn", "shapes_cnn", "sentiment_transformer", "weather_lstm", "digits_vae")
# Views that compare this model with others may name them; every other view shows only this one.
COMPARING = re.compile(r"compar|a/b", re.IGNORECASE)
OVERLAP_PIXELS = 2.0  # boxes that share less than this in either direction only touch
CUT_PIXELS = 2.0  # a text may stick out of its chart by this much (antialiasing)
COLOR_TOLERANCE = 2  # per channel, 0-255: rounding between hex and rgb() spellings


def selected(variable: str, values) -> list[str]:
    """``values`` limited to those that contain a comma-separated part of the ``variable``
    environment variable (all of them when it is unset)."""
    chosen = [part.strip() for part in os.environ.get(variable, "").split(",") if part.strip()]
    return [value for value in values if not chosen or any(c in value for c in chosen)]


# ---------------------------------------------------------------------------------------------
# Colours
# ---------------------------------------------------------------------------------------------


def rgb(color: str) -> tuple[int, int, int]:
    """``#rgb``, ``#rrggbb``, ``rgb(r, g, b)`` or ``rgba(r, g, b, a)`` as three 0-255 ints."""
    color = color.strip().lower()
    if color.startswith("#"):
        digits = color[1:]
        if len(digits) == 3:
            digits = "".join(2 * digit for digit in digits)
        return tuple(int(digits[i : i + 2], 16) for i in (0, 2, 4))
    numbers = re.findall(r"[-\d.]+", color)
    if color.startswith("rgb") and len(numbers) >= 3:
        return tuple(round(float(number)) for number in numbers[:3])
    raise ValueError(f"Expected a #hex or rgb() colour. Received: {color!r}")


def same_scale(asked, drawn) -> bool:
    """Two plotly colour scales (lists of [position, colour]) draw the same colours."""
    if not isinstance(asked, list) or not isinstance(drawn, list) or len(asked) != len(drawn):
        return False
    for (position_a, color_a), (position_b, color_b) in zip(asked, drawn, strict=True):
        if abs(float(position_a) - float(position_b)) > 1e-6:
            return False
        if max(abs(a - b) for a, b in zip(rgb(color_a), rgb(color_b), strict=True)) > (
            COLOR_TOLERANCE
        ):
            return False
    return True


def _scales_asked(figure: dict):
    """(trace index or coloraxis name, attribute, scale) for every explicit scale in the JSON."""
    for index, trace in enumerate(figure.get("data", [])):
        if isinstance(trace.get("colorscale"), list):
            yield index, "colorscale", trace["colorscale"]
        marker = trace.get("marker") or {}
        if isinstance(marker.get("colorscale"), list):
            yield index, "markerColorscale", marker["colorscale"]
    for name, value in (figure.get("layout") or {}).items():
        if re.fullmatch(r"coloraxis\d*", name) and isinstance(value.get("colorscale"), list):
            yield name, "colorscale", value["colorscale"]


# ---------------------------------------------------------------------------------------------
# One chart
# ---------------------------------------------------------------------------------------------


def _overlap(a, b) -> bool:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return width > OVERLAP_PIXELS and height > OVERLAP_PIXELS


def _colors_checked(plot: dict, asked: dict | None) -> list[str]:
    problems = []
    if asked is not None:
        coloraxes = {axis["name"]: axis for axis in plot["coloraxes"]}
        for where, attribute, scale in _scales_asked(asked):
            if isinstance(where, int):
                drawn = plot["traces"][where][attribute] if where < len(plot["traces"]) else None
                label = f"trace {where} ({plot['traces'][where]['type']})" if drawn else where
            else:
                drawn = coloraxes.get(where, {}).get("colorscale")
                label = where
            if drawn is not None and not same_scale(scale, drawn):
                problems.append(
                    f"{label} was drawn with another colour scale than the figure asked for "
                    f"(asked {scale[0][1]}…{scale[-1][1]}, drawn {drawn[0][1]}…{drawn[-1][1]})"
                )
    for trace in plot["traces"]:
        meta = trace["meta"] if isinstance(trace["meta"], dict) else {}
        low = trace["zmin"] if trace["zmin"] is not None else trace["cmin"]
        high = trace["zmax"] if trace["zmax"] is not None else trace["cmax"]
        if meta.get("values") == "signed" and low is not None and high is not None:
            middle = trace["zmid"] if trace["zmid"] is not None else (low + high) / 2
            if abs(middle) > 1e-9 * max(abs(low), abs(high), 1e-30):
                problems.append(
                    f"signed map {trace['name']!r} is not centred on zero ({low:.3g}…{high:.3g})"
                )
        if meta.get("values") == "magnitude" and low is not None and abs(low) > 1e-12:
            problems.append(f"magnitude map {trace['name']!r} starts at {low:.3g}, not at zero")
    return problems


def _titles_checked(plot: dict) -> list[str]:
    problems = []
    # Axes side by side (subplots sharing a column or row) may share one title.
    groups: dict[tuple, list[dict]] = {}
    for axis in plot["axes"]:
        groups.setdefault((axis["letter"], tuple(axis["domain"] or ())), []).append(axis)
    for (letter, _), axes in groups.items():
        if any(axis["ticks"] for axis in axes) and not any(axis["title"] for axis in axes):
            names = ", ".join(axis["name"] for axis in axes if axis["ticks"])
            problems.append(f"{letter} axis ({names}) has tick labels but no title")
    for scene in plot["scenes"]:
        for letter, title in zip("xyz", scene["titles"], strict=True):
            if title == "":  # None: a hidden axis
                problems.append(f"3D {scene['name']} {letter} axis has no title")
    for trace in plot["traces"]:
        if trace["showscale"] and trace["visible"] is True and not trace["colorbarTitle"]:
            problems.append(f"colour bar of {trace['type']} {trace['name']!r} has no title")
    for axis in plot["coloraxes"]:
        if axis["showscale"] and not axis["title"]:
            problems.append(f"colour bar of {axis['name']} has no title")
    return problems


def _texts_checked(plot: dict) -> list[str]:
    problems = []
    left, top, right, bottom = plot["rect"]
    texts = [text for text in plot["texts"] if text["kind"] != "other"]
    for text in texts:
        x0, y0, x1, y1 = text["rect"]
        if (
            x0 < left - CUT_PIXELS
            or x1 > right + CUT_PIXELS
            or y0 < top - CUT_PIXELS
            or y1 > bottom + CUT_PIXELS
        ):
            problems.append(f"{text['kind']} text {text['text']!r} is cut off by the chart's edge")
    for i, a in enumerate(texts):
        for b in texts[i + 1 :]:
            if a["kind"] == b["kind"]:
                # crowded tick labels of one axis; legends and colour bars lay out their own texts
                if not (a["kind"] == "tick" and a["axis"] == b["axis"]):
                    continue
                if a["rotated"] or b["rotated"] or a["text"] == b["text"]:
                    continue
            elif "datatext" in (a["kind"], b["kind"]):
                continue  # values printed in cells and bars: their own crowding rules
            if _overlap(a["rect"], b["rect"]):
                problems.append(
                    f"{a['kind']} text {a['text']!r} overlaps {b['kind']} text {b['text']!r}"
                )
    return problems


def check_chart(plot: dict, asked: dict | None) -> list[str]:
    """What is wrong with one drawn chart (``asked``: the figure JSON the server sent for it)."""
    problems = []
    drawn = [trace for trace in plot["traces"] if trace["visible"] is True]
    if not any(trace["points"] for trace in drawn) and not plot["images"]:
        problems.append("is empty (no trace has data)")
    problems += _colors_checked(plot, asked)
    problems += _titles_checked(plot)
    problems += _texts_checked(plot)
    name = plot["title"] or plot["key"] or "untitled"
    name = re.sub(r"<[^>]+>", " ", name).strip()[:70]
    return [f"chart {name!r}: {problem}" for problem in problems]


def check_view(view: dict, figures: dict, demo: str, where: str) -> list[str]:
    """Every problem of one page view, each as a line that says where it is."""
    problems = list(view["problems"])
    problems += [f"text cut off with an ellipsis: {text!r}" for text in view["cut"]]
    for plot in view["plots"]:
        problems += check_chart(plot, figures.get(plot["key"]) if plot["key"] else None)
    if not COMPARING.search(where):
        others = [other for other in DEMOS if other != demo]
        for plot in view["plots"]:
            shown = " ".join([plot["title"]] + [trace["name"] for trace in plot["traces"]])
            for other in others:
                if re.search(rf"\b{other}\b", shown):
                    problems.append(
                        f"chart {plot['title'][:60]!r} shows {other} while the sidebar model is "
                        f"{demo}"
                    )
    return [f"{where}: {problem}" for problem in problems]


# ---------------------------------------------------------------------------------------------
# The tour
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory):
    """The app on the bundled demos, one for every tour a pytest process (an xdist worker) runs:
    the tours on one worker share its imports and the views that compare demos. (tests/e2e/
    conftest.py makes it one fixture for all files; a file that imports it would start its own.)"""
    folder = tmp_path_factory.mktemp("e2e-pictures")
    with running_app(
        folder, [], NEUROGENESIS_MAX_STEPS="8", NEUROGENESIS_LIVE_DIR=str(folder / "live")
    ) as base:
        yield base


def tour_demo(browser, url: str, demo: str, pages=None) -> tuple[list[str], dict]:
    """Every page and tab with ``demo`` chosen: (problems, seconds per view)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    wire = tour.Wire()
    problems: list[str] = []
    seconds: dict[str, float] = {}
    began = time.time()
    try:
        tour.open_app(page, wire, url)
        tour.choose_model(page, wire, demo)
        for title, tab, took, finished in tour.views(page, wire, pages):
            where = f"{demo} · {title}" + (f" › {tab}" if tab else "")
            seconds[where] = took
            if not finished:
                problems.append(f"{where}: did not finish within {tour.DEFAULT_WAIT_SECONDS} s")
                continue
            problems += check_view(tour.read_view(page), wire.figures, demo, where)
    finally:
        page.close()
    # the rest: opening the app, choosing the demo, the quiet waits, reading and checking
    seconds["(opening, waiting for quiet, reading)"] = time.time() - began - sum(seconds.values())
    return problems, seconds


def assert_tells_the_truth(browser, url: str, demo: str) -> None:
    """Tours ``demo`` (the pages ``NEUROGENESIS_PICTURE_PAGES`` names, or all) and fails with
    every problem found; prints the seconds each view took (slowest first, shown with ``-s``)."""
    pages = [
        part.strip()
        for part in os.environ.get("NEUROGENESIS_PICTURE_PAGES", "").split(",")
        if part.strip()
    ]
    problems, seconds = tour_demo(browser, url, demo, pages)
    print(f"\n{demo}: {sum(seconds.values()):.1f} s, {len(seconds) - 1} views")
    for where, took in sorted(seconds.items(), key=lambda item: -item[1]):
        print(f"{took:7.1f} s  {where}")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
