"""The picture check's rules on hand-made chart readings: each rule fires on the defect it names."""

from __future__ import annotations

import ast
import copy
from pathlib import Path

from neurogenesis.zoo import SCENARIO_NAMES
from tests.e2e.pictures import DEMOS, check_chart, check_view, rgb, same_scale, selected

INFERNO_ENDS = [[0.0, "#000004"], [1.0, "#fcffa4"]]


def _plot(**changes) -> dict:
    plot = {
        "key": "map",
        "title": "Attribution",
        "rect": [0, 0, 400, 300],
        "axes": [
            {"name": "xaxis", "letter": "x", "title": "time step", "ticks": True,
             "domain": [0, 1], "type": "linear"},
            {"name": "yaxis", "letter": "y", "title": "feature", "ticks": True,
             "domain": [0, 1], "type": "linear"},
        ],
        "scenes": [],
        "traces": [
            {"type": "heatmap", "name": "map", "visible": True, "points": 12,
             "colorscale": copy.deepcopy(INFERNO_ENDS), "markerColorscale": None,
             "showscale": True, "colorbarTitle": "|attribution|", "coloraxis": None,
             "zmin": 0.0, "zmax": 1.0, "zmid": None, "cmin": None, "cmax": None,
             "meta": {"values": "magnitude"}},
        ],
        "coloraxes": [],
        "texts": [
            {"text": "Attribution", "kind": "title", "axis": None, "rotated": False,
             "rect": [10, 5, 120, 20]},
            {"text": "0", "kind": "tick", "axis": "x", "rotated": False, "rect": [50, 280, 58, 292]},
            {"text": "1", "kind": "tick", "axis": "x", "rotated": False, "rect": [90, 280, 98, 292]},
        ],
        "annotations": 0,
        "images": 0,
        "shapes": 0,
    }  # fmt: skip
    plot.update(changes)
    return plot


def _asked(scale=INFERNO_ENDS) -> dict:
    return {"data": [{"type": "heatmap", "colorscale": scale}], "layout": {}}


def test_a_clean_chart_passes():
    assert check_chart(_plot(), _asked()) == []


def test_colours_compare_across_spellings():
    assert rgb("#fff") == (255, 255, 255)
    assert rgb("rgb(0, 0, 4)") == rgb("#000004")
    assert same_scale(
        [[0, "#000004"], [1, "#fcffa4"]], [[0, "rgb(0,0,4)"], [1, "rgb(252,255,164)"]]
    )
    assert not same_scale(INFERNO_ENDS, [[0.0, "#ffabab"], [1.0, "#fcffa4"]])


def test_a_recoloured_scale_fails():
    plot = _plot()
    plot["traces"][0]["colorscale"][0][1] = "#ffabab"  # Streamlit's theme, drawn over Inferno
    (problem,) = check_chart(plot, _asked())
    assert "another colour scale" in problem and "#ffabab" in problem


def test_signed_maps_must_be_centred_and_magnitudes_start_at_zero():
    plot = _plot()
    plot["traces"][0].update(meta={"values": "signed"}, zmin=-0.5, zmax=1.0)
    assert any("not centred on zero" in p for p in check_chart(plot, _asked()))
    plot["traces"][0].update(zmid=0.0)
    assert check_chart(plot, _asked()) == []
    plot["traces"][0].update(meta={"values": "magnitude"}, zmin=0.2, zmid=None)
    assert any("starts at 0.2" in p for p in check_chart(plot, _asked()))


def test_untitled_axes_and_colour_bars_fail():
    plot = _plot()
    plot["axes"][1]["title"] = ""
    plot["traces"][0]["colorbarTitle"] = ""
    problems = check_chart(plot, _asked())
    assert any("y axis (yaxis) has tick labels but no title" in p for p in problems)
    assert any("colour bar of heatmap" in p for p in problems)
    # a shared column: one title serves both axes
    second = dict(plot["axes"][0], name="xaxis2", title="")
    assert not any("x axis" in p for p in check_chart(_plot(axes=[*_plot()["axes"], second]), None))


def test_empty_cut_off_and_overlapping_texts_fail():
    plot = _plot()
    plot["traces"][0]["points"] = 0
    plot["texts"].append(
        {"text": "Restore best weights", "kind": "annotation", "axis": None, "rotated": False,
         "rect": [350, 40, 460, 55]}
    )  # fmt: skip
    plot["texts"].append(
        {
            "text": "legend",
            "kind": "legend",
            "axis": None,
            "rotated": False,
            "rect": [20, 8, 80, 22],
        }
    )
    problems = check_chart(plot, _asked())
    assert any("is empty" in p for p in problems)
    assert any("'Restore best weights' is cut off" in p for p in problems)
    assert any("'Attribution' overlaps legend text 'legend'" in p for p in problems)


def test_crowded_ticks_fail_but_rotated_ones_do_not():
    plot = _plot()
    plot["texts"][2]["rect"] = [54, 280, 62, 292]  # runs into the first tick label
    assert any("tick text '0' overlaps tick text '1'" in p for p in check_chart(plot, _asked()))
    plot["texts"][2]["rotated"] = True
    assert check_chart(plot, _asked()) == []


def test_a_view_showing_another_demos_runs_fails_unless_it_compares():
    view = {"plots": [_plot(title="Loss: digits_cnn/adam")], "cut": [], "problems": []}
    (problem,) = check_view(view, {}, "weather_lstm", "weather_lstm · Training dynamics › Curves")
    assert "shows digits_cnn while the sidebar model is weather_lstm" in problem
    assert check_view(view, {}, "weather_lstm", "weather_lstm · Architecture › Compare") == []


def test_every_demo_is_toured_in_its_own_file(monkeypatch):
    """Each zoo demo has test_pictures_<demo>.py, which tours that demo and no other (one file per
    demo so that --dist loadfile spreads the tours over the workers)."""
    assert set(DEMOS) == set(SCENARIO_NAMES)
    monkeypatch.delenv("NEUROGENESIS_PICTURE_DEMOS", raising=False)
    for demo in DEMOS:
        source = (Path(__file__).parent / f"test_pictures_{demo}.py").read_text()
        toured = [
            ast.literal_eval(node.args[1])
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "selected"
        ]
        assert toured == [[demo]], f"test_pictures_{demo}.py tours {toured}"


def test_picture_demos_limits_the_tours(monkeypatch):
    monkeypatch.setenv("NEUROGENESIS_PICTURE_DEMOS", "digits_cnn, weather")
    assert [demo for demo in DEMOS if selected("NEUROGENESIS_PICTURE_DEMOS", [demo])] == [
        "digits_cnn",
        "weather_lstm",
    ]
    monkeypatch.delenv("NEUROGENESIS_PICTURE_DEMOS")
    assert selected("NEUROGENESIS_PICTURE_DEMOS", list(DEMOS)) == list(DEMOS)
