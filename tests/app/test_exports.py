"""Exports from the app: every chart has its downloads, and a page's bundle (a zip) holds each
chart as HTML and the numbers behind it as CSV, checked against the files the page read and
against numbers computed another way."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

from app_pages import ui
from app_pages.ui import charts as ui_charts
from app_pages.ui.pages import PAGES
from neurogenesis.plotting.export import static_export_available
from tests.app.pages import charts, open_page, rerun
from tests.conftest import ROOT

SWEEP = ROOT / "data" / "sweeps" / "digits_cnn" / "sweep.json"


def recorded(at: AppTest) -> list[ui.ChartExport]:
    state = at.session_state[ui.EXPORTS_STATE]
    return list(state["charts"].values())


def bundle(at: AppTest) -> zipfile.ZipFile:
    state = at.session_state[ui.EXPORTS_STATE]
    data = ui.bundle_bytes(recorded(at), title=state["page"], static_images=False)
    return zipfile.ZipFile(io.BytesIO(data))


def csv(archive: zipfile.ZipFile, name: str, **options) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(archive.read(name)), **options)


def assert_downloads_for_every_chart(at: AppTest) -> None:
    """Each drawn chart has HTML (and PNG/SVG where kaleido runs) downloads, and its CSV when it
    has data; the page has its bundle button."""
    exports = recorded(at)
    assert len(exports) == len(at.get("plotly_chart"))
    formats = ("png", "svg", "html") if static_export_available() else ("html",)
    ids = [button.proto.id for button in at.get("download_button")]
    for export in exports:
        for fmt in formats + (("csv",) if export.data is not None else ()):
            assert any(i.endswith(f"{export.key}:download:{fmt}") for i in ids), (export.key, fmt)
    assert any(i.endswith("page_bundle") for i in ids)


def assert_one_html_per_chart(at: AppTest, archive: zipfile.ZipFile) -> None:
    names = archive.namelist()
    htmls = [name for name in names if name.endswith(".html")]
    assert len(htmls) == len(at.get("plotly_chart"))
    assert {"README.txt", ui.PLOTLY_SCRIPT} <= set(names)
    readme = archive.read("README.txt").decode()
    for name in htmls:
        assert name in readme
        page = archive.read(name).decode()
        # Self-contained but for the one shared copy of plotly.js beside it.
        assert f'src="{ui.PLOTLY_SCRIPT}"' in page and "Plotly.newPlot" in page


def test_training_bundle_holds_every_logged_point(app_argv, app_inputs):
    at = open_page(app_argv, "training.py", "--logdir", app_inputs["logs"], "--no-demos")
    at.multiselect(key="training_runs").set_value(["good.csv", "diverged.csv"])
    rerun(at)
    assert_downloads_for_every_chart(at)
    archive = bundle(at)
    assert_one_html_per_chart(at, archive)
    assert "training_curves.csv" in archive.namelist()
    table = csv(archive, "training_curves.csv")
    # The values written by the fixture, the NaN of the diverged run included.
    good = table[(table["run"] == "good.csv") & (table["metric"] == "loss")]
    assert good["value"].tolist() == [1.0, 0.4, 0.2]
    diverged = table[(table["run"] == "diverged.csv") & (table["tag"] == "val_loss")]
    assert diverged["value"].tolist() == [1.2, 0.7, 0.9]
    raw = table[(table["run"] == "diverged.csv") & (table["tag"] == "loss")]["value"]
    assert raw.iloc[:2].tolist() == [1.0, 0.5] and np.isnan(raw.iloc[2])


def test_hyperparameter_bundle_is_the_sweep_and_follows_the_tab(app_argv):
    summary = json.loads(SWEEP.read_text())
    at = open_page(app_argv, "hyperparameters.py", model="digits_cnn (demo)")
    assert_downloads_for_every_chart(at)
    archive = bundle(at)
    assert_one_html_per_chart(at, archive)
    surface = csv(archive, "hyperparameters_surface.csv")
    assert len(surface) == len(summary["points"])
    for point in summary["points"]:
        row = surface[
            np.isclose(surface["width"], point["params"]["width"])
            & np.isclose(surface["learning_rate"], point["params"]["learning_rate"])
        ]
        assert row["val_accuracy"].tolist() == pytest.approx([point["final"]["val_accuracy"]])
    # The HTML holds the figure the page drew: the same surface.
    html = archive.read("hyperparameters_surface.html").decode()
    drawn = next(s for s in charts(at) if any(t["type"] == "surface" for t in s["data"]))
    assert json.dumps(drawn["layout"]["title"]["text"])[1:-1] in html  # as JSON writes it

    # Another tab: the bundle is that tab's charts only (the registry starts empty each run).
    at.session_state["hyperparameters_tab"] = "Parallel coordinates"
    rerun(at)
    assert [export.key for export in recorded(at)] == ["hyperparameters_parallel"]
    archive = bundle(at)
    assert_one_html_per_chart(at, archive)
    trials = csv(archive, "hyperparameters_parallel.csv")
    assert sorted(trials["val_accuracy"]) == pytest.approx(
        sorted(point["final"]["val_accuracy"] for point in summary["points"])
    )


def test_debugging_bundle_confusion_matrix_is_sklearns(app_argv):
    from sklearn.metrics import confusion_matrix, precision_score

    from neurogenesis.analysis import graph
    from neurogenesis.io.models import load_model
    from neurogenesis.io.samples import load_samples

    model = load_model(ROOT / "models/digits_cnn.keras")
    samples = load_samples(ROOT / "data/samples/digits_cnn.npz")
    predicted = np.asarray(graph.predict(model, samples.x)).argmax(axis=1)

    app_argv()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.selectbox(key="model_choice").select("digits_cnn (demo)").run()
    at.session_state["debugging_tab"] = "Errors"  # straight to the tab, no attribution first
    at.switch_page("app_pages/debugging.py").run()
    assert not at.exception, [exception.value for exception in at.exception]
    assert_downloads_for_every_chart(at)
    archive = bundle(at)
    assert_one_html_per_chart(at, archive)

    matrix = confusion_matrix(samples.y, predicted, labels=range(10))
    confusion = csv(archive, "debugging_confusion.csv", index_col="label")
    np.testing.assert_array_equal(confusion.to_numpy(), matrix)
    per_class = csv(archive, "debugging_class_metrics.csv")
    expected = precision_score(
        samples.y, predicted, labels=range(10), average=None, zero_division=0
    )
    np.testing.assert_allclose(per_class["precision"], expected, atol=1e-12)
    assert per_class["support"].tolist() == np.bincount(samples.y, minlength=10).tolist()
    # The sample grid's table says what its captions say: sample, label, prediction.
    grid = csv(archive, "debugging_grid.csv")
    for _, row in grid.head(5).iterrows():
        assert int(row["label"]) == int(samples.y[int(row["sample"])])
        assert int(row["prediction"]) == int(predicted[int(row["sample"])])


def test_bundle_names_files_once_and_says_what_failed():
    figure = go.Figure(go.Bar(x=["a", "b"], y=[1, 2]), layout={"title": {"text": "Two bars"}})

    def unreadable() -> pd.DataFrame:
        raise OSError("the log is gone")

    exports = [
        ui.ChartExport("one", "bars", "Two bars", figure, pd.DataFrame({"y": [1, 2]})),
        ui.ChartExport("two", "bars", "Two bars again", figure, unreadable),
        ui.ChartExport("three", ui.file_stem("a/b: c"), "Slashes", figure),
    ]
    archive = zipfile.ZipFile(io.BytesIO(ui.bundle_bytes(exports, title="Test")))
    assert set(archive.namelist()) == {
        "bars.html",
        "bars.csv",
        "bars_2.html",
        "a_b_c.html",
        "README.txt",
        ui.PLOTLY_SCRIPT,
    }
    assert csv(archive, "bars.csv")["y"].tolist() == [1, 2]
    readme = archive.read("README.txt").decode()
    assert "Two bars again: bars_2.html" in readme
    assert "no CSV: OSError: the log is gone" in readme


@pytest.mark.parametrize(
    ("target", "shown"), [("app_pages/home.py", True), ("app_pages/ui/charts.py", False)]
)
def test_manual_link_only_to_a_page_the_app_lists(app_argv, monkeypatch, target, shown):
    # A listed page gets its link; a file the router does not list (the manual written before
    # app.py registers it) is left out instead of failing the page.
    monkeypatch.setattr(ui_charts, "MANUAL_PAGE", target)
    at = open_page(app_argv, "home.py")
    labels = [link.proto.label for link in at.get("page_link")]
    assert ("User manual: Getting started" in labels) is shown


@pytest.mark.skipif(
    "app_pages/manual.py" not in [page.path for page in PAGES],
    reason="the user manual page is not registered in app.py yet",
)
def test_how_to_read_links_the_registered_manual(app_argv, app_inputs):
    at = open_page(app_argv, "training.py", "--logdir", app_inputs["logs"], "--no-demos")
    links = [link.proto for link in at.get("page_link")]
    assert any(
        link.label == "User manual: Training dynamics" and "manual" in link.page for link in links
    ), [(link.label, link.page) for link in links]
