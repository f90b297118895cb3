"""The architecture page under AppTest, for every demo model and every view."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from neurogenesis.workspace import DEMO_MODELS_DIR
from tests.app.pages import figure, open_page, rerun

DEMO_MODELS = sorted(path.stem for path in DEMO_MODELS_DIR.glob("*.keras"))
VIEWS = ("Graph", "Blocks", "Layers", "3D", "Complexity")


def open_architecture(app_argv, *arguments) -> AppTest:
    return open_page(app_argv, "architecture.py", *arguments, timeout=90)


def open_tab(at: AppTest, tab: str) -> AppTest:
    at.session_state["architecture_tab"] = tab
    return rerun(at)


@pytest.mark.parametrize("name", DEMO_MODELS)
def test_every_view_renders_for_every_demo_model(app_argv, name):
    at = open_architecture(app_argv, "--model", DEMO_MODELS_DIR / f"{name}.keras", "--no-demos")
    assert at.title[0].value == "Architecture"
    graph = figure(at)
    assert graph["layout"]["title"]["text"].startswith(name)
    for view in VIEWS[1:]:
        open_tab(at, view)
        if view == "Layers":
            table = at.dataframe[0].value
            layers, total = table.iloc[:-1], table.iloc[-1]
            metrics = {metric.label: metric.value for metric in at.metric}
            assert metrics["Parameters"] == f"{int(layers['parameters'].sum()):,}"
            assert total["parameters"] == layers["parameters"].sum()
            assert total["MACs"] == layers["MACs"].sum() > 0
            # Numbers with thousands separators; names never cut off (8 px a character).
            config = json.loads(at.dataframe[0].proto.columns)
            for column in ("parameters", "trainable", "MACs", "activation bytes"):
                assert config[column]["type_config"]["format"] == "localized"
            for column in ("layer", "class", "output shape"):
                longest = max(len(str(value)) for value in table[column])
                assert config[column]["width"] >= 8 * longest, column
        else:
            expected = 2 if view == "Complexity" else 1  # cost bars and the radar
            assert len(at.get("plotly_chart")) == expected, view


def _nodes(chart: dict) -> dict[str, dict]:
    """The graph's node boxes, by the name written in them."""
    names = {
        a["name"].split(":")[1]: a["text"].split("<br>")[0].replace("<b>", "").replace("</b>", "")
        for a in chart["layout"]["annotations"]
        if a.get("name", "").startswith("text:")
    }
    return {
        names[shape["name"].split(":")[1]]: shape
        for shape in chart["layout"]["shapes"]
        if shape.get("name", "").startswith("node:")
    }


def test_blocks_open_and_close(app_argv):
    at = open_architecture(
        app_argv, "--model", DEMO_MODELS_DIR / "sentiment_transformer.keras", "--no-demos"
    )
    opened = len(_nodes(figure(at)))
    blocks = at.multiselect(key="architecture_open:" + at.session_state["model"].key)
    assert blocks.value == ["*_1", "*_2"]  # small enough to show every layer
    # The chips are named after the blocks.
    assert blocks.options == ["transformer_block_1", "transformer_block_2"]
    blocks.unselect("*_1").run()
    title = figure(at)["layout"]["title"]["text"]
    assert "(1 block closed)" in title
    assert len(_nodes(figure(at))) == opened - 6  # seven layers became one box
    assert "transformer_block_1" in _nodes(figure(at))
    at.button[1].click().run()  # close all
    assert "(2 blocks closed)" in figure(at)["layout"]["title"]["text"]


def test_find_a_layer_opens_its_block_and_centres_on_it(app_argv):
    at = open_architecture(
        app_argv, "--model", DEMO_MODELS_DIR / "sentiment_transformer.keras", "--no-demos"
    )
    open_key = "architecture_open:" + at.session_state["model"].key
    at.button[1].click().run()  # close all: feed_forward_2 hides in transformer_block_2
    assert "feed_forward_2" not in _nodes(figure(at))
    at.selectbox(key="architecture_find").set_value("feed_forward_2").run()
    assert not at.exception
    assert at.session_state[open_key] == ["*_2"]  # its block opened, the other one still closed
    assert any("**feed_forward_2** · Dense" in text.value for text in at.markdown)  # its details
    chart = figure(at)
    box = _nodes(chart)["feed_forward_2"]
    (focus,) = [s for s in chart["layout"]["shapes"] if s.get("name") == "focus"]
    assert focus["x0"] < box["x0"] and focus["x1"] > box["x1"]
    centre = ((box["x0"] + box["x1"]) / 2, (box["y0"] + box["y1"]) / 2)
    assert sum(chart["layout"]["xaxis"]["range"]) / 2 == pytest.approx(centre[0])
    assert sum(chart["layout"]["yaxis"]["range"]) / 2 == pytest.approx(centre[1])
    at.selectbox(key="architecture_find").set_value(None).run()  # cleared: the whole graph
    assert not any(s.get("name") == "focus" for s in figure(at)["layout"]["shapes"])


def test_layer_details_show_weights(app_argv):
    at = open_architecture(app_argv, "--model", DEMO_MODELS_DIR / "digits_cnn.keras", "--no-demos")
    at.selectbox(key="architecture_layer").set_value("probabilities").run()
    assert any("**probabilities** · Dense" in text.value for text in at.markdown)
    weights = at.dataframe[0].value
    assert list(weights["trainable"]) == [True, True]
    assert len(figure(at, 1)["data"]) == 2  # kernel and bias histograms
    assert '"units": 10' in at.code[0].value


def test_switching_the_cost_redraws(app_argv):
    at = open_architecture(app_argv, "--model", DEMO_MODELS_DIR / "digits_cnn.keras", "--no-demos")
    open_tab(at, "Complexity")
    at.segmented_control(key="architecture_cost").set_value("num_params").run()
    assert not at.exception
    assert figure(at)["layout"]["title"]["text"].startswith("Parameters")


def test_no_model_explains_instead_of_failing(app_argv):
    at = open_architecture(app_argv, "--no-demos")
    assert any("No model selected" in info.value for info in at.info)


def test_compare_two_demo_models(app_argv):
    at = open_architecture(app_argv)  # every demo model on offer; digits_cnn is chosen first
    open_tab(at, "Compare")
    assert any("Choose one or more models" in info.value for info in at.info)
    chooser = at.multiselect(key="architecture_compare")
    assert "digits_cnn (demo)" not in chooser.options
    chooser.select("shapes_cnn (demo)").run()
    assert not at.exception
    names = [figure(at, i)["layout"]["title"]["text"] for i in range(6)]
    assert len(at.get("plotly_chart")) == 6, names  # radar, 2 graphs, diff, side-by-side, trade-off
    assert names[1:3] == ["digits_cnn (demo)", "shapes_cnn (demo)"]  # the graphs, a tab each
    radar = figure(at, 0)
    assert {trace["name"] for trace in radar["data"]} >= {"digits_cnn (demo)", "shapes_cnn (demo)"}
    summary = next(text.value for text in at.markdown if "unchanged" in text.value)
    assert "parameters" in summary
    tradeoff = figure(at, 5)
    values = {y for trace in tradeoff["data"] for y in trace.get("y") or [] if y is not None}
    cards = [
        json.loads((DEMO_MODELS_DIR / f"{n}.json").read_text())
        for n in ("digits_cnn", "shapes_cnn")
    ]
    assert {card["test_metric"]["value"] for card in cards} <= values  # each card's test accuracy
    # Digits accuracy and shapes accuracy are measured on different data: never one axis.
    axes = {trace.get("yaxis", "y"): trace["text"] for trace in tradeoff["data"] if trace.get("y")}
    assert sorted(map(tuple, axes.values())) == [("digits_cnn",), ("shapes_cnn",)]
    assert len(axes) == 2


def test_builder_explains_a_shape_error_and_updates_live(app_argv):
    at = open_architecture(app_argv, "--model", DEMO_MODELS_DIR / "digits_cnn.keras", "--no-demos")
    open_tab(at, "Build")
    assert [s.value for s in at.success] == ["Builds: 6 layers, output (None, 10)."]
    config = json.loads(at.dataframe[0].proto.columns)
    assert config["parameters"]["type_config"]["format"] == "localized"  # 31,370 not 31370
    assert {m.label: m.value for m in at.metric[4:8]}["Parameters"] == "50,186"  # the template
    metrics = {m.label: m.value for m in at.metric[-4:]}
    assert metrics["Parameters"] == "50,186"  # the small CNN template, counted by hand in its test
    # A Conv2D after the softmax Dense cannot work: the error names the layer and the fix.
    at.selectbox(key="builder_new_class").set_value("Conv2D").run()
    at.button(key="builder_add").click().run()
    assert not at.exception
    (error,) = at.error
    assert error.value.startswith("Layer 7 (Conv2D") and "4-D input" in error.value
    table = at.dataframe[0].value
    assert table["output shape"].iloc[-1] == "✗ fails here"
    # Removing it builds again; changing the Dense's units changes the count live.
    at.button(key="builder_remove:" + str(at.session_state["builder"]["version"])).click().run()
    assert not at.error and at.success
    version = at.session_state["builder"]["version"]
    at.selectbox(key=f"builder_layer:{version}").set_value(5).run()
    at.number_input(key=f"builder:{version}:5:units").set_value(20).run()
    metrics = {m.label: m.value for m in at.metric[-4:]}
    assert metrics["Parameters"] == f"{50_186 - 31_370 + 3136 * 20 + 20:,}"


def test_export_code_rebuilds_the_model(app_argv):
    at = open_architecture(app_argv, "--model", DEMO_MODELS_DIR / "digits_cnn.keras", "--no-demos")
    open_tab(at, "Export")
    code = at.code[0].value
    namespace: dict = {}
    exec(compile(code, "<exported>", "exec"), namespace)
    rebuilt = namespace["build_model"]()
    metrics = {metric.label: metric.value for metric in at.metric}
    assert f"{rebuilt.count_params():,}" == metrics["Parameters"]
    labels = [button.label for button in at.get("download_button")]
    assert labels[:3] == ["Keras code (.py)", "JSON config", ".keras file"]
    for view in ("graph", "blocks", "stack", "costs", "radar"):
        at.selectbox(key="export_view").set_value(view).run()
        assert not at.exception, view


def _custom_layer_model(tmp_path):
    import keras

    @keras.saving.register_keras_serializable(package="page_test")
    class Gate(keras.layers.Layer):
        def build(self, shape):
            self.gate = self.add_weight(shape=(shape[-1],), initializer="ones")

        def call(self, x):
            return x * self.gate

    inputs = keras.Input((3,), name="features")
    model = keras.Model(
        inputs, keras.layers.Dense(2, name="head")(Gate(name="gate")(inputs)), name="gated"
    )
    path = tmp_path / "gated.keras"
    model.save(path)
    return path, model


def test_a_model_that_cannot_run_shows_its_structure(app_argv, tmp_path):
    path, model = _custom_layer_model(tmp_path)
    at = open_architecture(app_argv, "--model", path, "--no-demos")
    assert not at.exception
    (warning,) = at.warning
    assert "Structure only" in warning.value and "Gate" in warning.value
    table = at.dataframe[0].value
    assert list(table["layer"]) == ["features", "gate", "head"]
    assert list(table["parameters"]) == [0, 3, 3 * 2 + 2]
    assert table["parameters"].sum() == model.count_params()
    assert table.set_index("layer").loc["gate", "from"].startswith("custom code (")
    assert table.set_index("layer").loc["head", "inputs"] == "gate"
    assert at.metric[0].value == f"{model.count_params():,}"
    graph = figure(at)
    drawn = {
        point[1]
        for trace in graph["data"]
        if trace.get("name") == "layers"
        for point in trace["customdata"]
    }
    assert drawn == {"features", "gate", "head"}

    home = open_page(app_argv, "home.py", "--model", path, "--no-demos")
    assert not home.exception
    assert any("Structure only" in w.value for w in home.warning)


@pytest.mark.parametrize("page", ["features.py", "attention.py", "debugging.py", "landscape.py"])
def test_pages_that_run_the_model_say_why_this_one_cannot(app_argv, tmp_path, page):
    path, _ = _custom_layer_model(tmp_path)
    at = open_page(app_argv, page, "--model", path, "--no-demos")
    assert not at.exception
    (warning,) = at.warning
    assert "cannot run here" in warning.value and "'gate'" in warning.value
    assert not at.error
