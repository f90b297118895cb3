"""Links that open a view (issue 23): the sidebar's "Copy link to this view" gives a URL that,
opened in a fresh session, shows the same page, model, runs, choices and chart data; a link's
unknown or hostile parts are left out with a note, never an exception."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from streamlit.testing.v1 import AppTest

from tests.app.pages import charts, open_page, rerun
from tests.conftest import ROOT

DEMO = "digits_cnn (demo)"


def _link(at: AppTest) -> str:
    shown = [code.value for code in at.code if "model=" in code.value]
    assert len(shown) == 1, shown
    return shown[0]


def _opened(app_argv, page: str, query: dict) -> AppTest:
    """A new session (a new AppTest: nothing shared but the server's caches) opened on
    ``page`` with the URL's ``query``."""
    app_argv()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params.update(query)
    at.switch_page(f"app_pages/{page}")
    at.run()
    assert not at.exception, [exception.value for exception in at.exception]
    return at


def _notes(at: AppTest) -> list[str]:
    return [info.value for info in at.info if "Parts of the link" in info.value]


def test_a_copied_link_opens_the_same_training_view_in_a_new_session(app_argv):
    at = open_page(app_argv, "training.py", model=DEMO)
    runs = at.multiselect(key="training_runs").value
    assert len(runs) > 2
    at.multiselect(key="training_runs").set_value(runs[:2])
    rerun(at)
    at.toggle(key="training_log_y").set_value(True)
    at.segmented_control(key="training_x_axis").set_value("epoch")
    at.selectbox(key="training_smoothing").set_value("none")
    rerun(at)
    link = _link(at)
    parts = urlsplit(link)
    query = parse_qs(parts.query)
    assert query["model"] == [DEMO]
    assert query["w.training_log_y"] == ["true"]

    fresh = _opened(
        app_argv, "training.py", {k: v if len(v) > 1 else v[0] for k, v in query.items()}
    )
    assert fresh.selectbox(key="model_choice").value == DEMO
    for key in ("training_runs", "training_log_y", "training_x_axis", "training_smoothing"):
        assert fresh.session_state[key] == at.session_state[key], key
    assert fresh.session_state["training_runs"] == runs[:2]
    assert charts(fresh) == charts(at)
    assert not _notes(fresh)
    assert _link(fresh) == link  # the same view gives the same link


def test_unknown_and_hostile_parts_of_a_link_are_left_out_with_a_note(app_argv):
    query = {
        "model": "no_such_model.keras (uploaded)",
        "w.training_log_y": '"yes"',  # the wrong kind of value
        "w.training_smoothing": '"no such smoothing"',  # not an option
        "w.__class__": "1",  # not a widget key
        "w.training_x_axis": '{"$ne": 1}',  # an object
        "w.no_such_widget": "1",
        "<script>": "alert(1)",
        "w.training_band": "[" * 5000,
    }
    at = _opened(app_argv, "training.py", query)
    notes = _notes(at)
    assert len(notes) == 1, notes
    for part in ("no_such_model.keras", "training_log_y", "training_smoothing", "__class__",
                 "training_x_axis", "no_such_widget", "<script>", "training_band"):  # fmt: skip
        assert part in notes[0], part
    # the page drew its defaults
    assert at.toggle(key="training_log_y").value is False
    assert at.session_state["training_smoothing"] != "no such smoothing"
    assert charts(at)


def test_a_link_whose_choices_depend_on_each_other_opens_the_same_comparison(app_argv):
    """Debugging › Compare models: model B's options are the models chosen to compare, which the
    same link sets; B waits for a later round instead of being refused."""
    at = open_page(
        app_argv, "debugging.py", model=DEMO, session={"debugging_tab": "Compare models"}
    )
    chosen = [
        name for name in at.multiselect(key="debugging_compare_models").options if "seed" in name
    ]
    at.multiselect(key="debugging_compare_models").set_value(chosen[:3])
    rerun(at)
    model_b = at.selectbox(key="debugging_model_b")
    assert model_b.value != model_b.options[-1]  # the last one is not the default
    model_b.set_value(model_b.options[-1])
    rerun(at)
    query = parse_qs(urlsplit(_link(at)).query)
    fresh = _opened(
        app_argv, "debugging.py", {k: v if len(v) > 1 else v[0] for k, v in query.items()}
    )
    assert not _notes(fresh)
    for key in ("debugging_tab", "debugging_compare_models", "debugging_model_b"):
        assert fresh.session_state[key] == at.session_state[key], key
    assert fresh.session_state["debugging_model_b"] == chosen[2]
    assert charts(fresh) == charts(at)
