"""TrainingVisualizer: the paper's example as printed, every figure from every kind of history,
values against pandas, Keras and the inputs themselves, and save_figure's files."""

from __future__ import annotations

import shutil
import sys

import numpy as np
import pandas as pd
import pytest

from neurogenesis.errors import ExportUnavailableError, InputError
from neurogenesis.testing import tiny_data, tiny_dense_model, write_csv_log, write_json_history
from neurogenesis.visualization.training_curves import TrainingVisualizer, history_frame
from tests.conftest import ROOT

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
EPOCHS = 6
GRID = 5  # landscape grid points per side in the tests (odd: the trained weights are a node)
SENTIMENT_RUN = ROOT / "data" / "runs" / "sentiment_transformer" / "adam"
KERAS_CALLBACKS = ROOT / "data" / "runs" / "digits_cnn" / "keras_callbacks"
needs_browser = pytest.mark.skipif(
    not (shutil.which("chromium") or shutil.which("google-chrome")), reason="needs a browser"
)

# The paper's Appendix A.2, character for character.
PAPER_EXAMPLE = """\
from neurogenesis.visualization.training_curves import TrainingVisualizer
visualizer = TrainingVisualizer(history)
fig1 = visualizer.plot_loss_landscape_3d(model, X_train, y_train)
fig2 = visualizer.plot_metric_correlation_heatmap(['loss', 'accuracy', 'val_loss'])
fig3 = visualizer.plot_training_dynamics_3d(['loss', 'accuracy'])
visualizer.save_figure('loss_landscape_3d', 'figures/loss_landscape_3d', 'png')
"""


@pytest.fixture(scope="module")
def trained():
    """A real ``model.fit``: the model, its samples and the Keras History it returned."""
    model = tiny_dense_model()
    x, y = tiny_data(128)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=EPOCHS, batch_size=32, validation_split=0.25, verbose=0)
    return model, x, y, history


@pytest.fixture(scope="module")
def sources(trained, tmp_path_factory):
    history = trained[3]
    folder = tmp_path_factory.mktemp("logs")
    return {
        "History": history,
        "dict": dict(history.history),
        "CSV path": str(write_csv_log(folder / "training.csv", history.history)),
        "JSON path": write_json_history(folder / "history.json", history.history),
        "DataFrame": pd.DataFrame(history.history),
    }


def _expected(history) -> pd.DataFrame:
    return pd.DataFrame(history.history)


# --- the paper's example ------------------------------------------------------------------------


@needs_browser
def test_the_papers_example_runs_as_printed_and_writes_a_png(trained, tmp_path, monkeypatch):
    model, X_train, y_train, history = trained
    monkeypatch.chdir(tmp_path)
    scope = {"history": history, "model": model, "X_train": X_train, "y_train": y_train}
    exec(PAPER_EXAMPLE, scope)
    png = (tmp_path / "figures" / "loss_landscape_3d.png").read_bytes()
    assert png[:8] == PNG_MAGIC
    visualizer = scope["visualizer"]
    assert set(visualizer.figures) == {
        "loss_landscape_3d",
        "metric_correlation_heatmap",
        "training_dynamics_3d",
    }
    landscape = visualizer.infos["loss_landscape_3d"]
    assert landscape.loss.shape == (20, 20)  # n_points=20: no node at the trained weights ...
    assert landscape.center is None
    keras_loss = model.evaluate(X_train, y_train, verbose=0, return_dict=True)["loss"]
    assert landscape.trained_values[0] == pytest.approx(keras_loss, rel=1e-5)  # ... measured


# --- every kind of history ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["History", "dict", "CSV path", "JSON path", "DataFrame"])
def test_every_kind_of_history_reads_as_kerass_own_numbers(sources, trained, kind):
    frame = history_frame(sources[kind])
    expected = _expected(trained[3])
    assert sorted(frame.columns) == sorted(expected.columns)
    assert frame.index.tolist() == list(range(EPOCHS))
    for name in expected.columns:
        np.testing.assert_allclose(frame[name].to_numpy(), expected[name].to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("kind", ["History", "dict", "CSV path"])
def test_every_method_gives_a_figure_with_data(sources, trained, kind):
    model, x, y, _ = trained
    visualizer = TrainingVisualizer(sources[kind])
    records = [
        {"learning_rate": lr, "units": units, "val_accuracy": 0.5 + lr * units}
        for lr in (1e-3, 1e-2, 1e-1)
        for units in (4, 8, 16)
    ]
    figures = {
        "loss_landscape_3d": visualizer.plot_loss_landscape_3d(model, x, y, n_points=GRID),
        "metric_correlation_heatmap": visualizer.plot_metric_correlation_heatmap(),
        "training_dynamics_3d": visualizer.plot_training_dynamics_3d(),
        "hyperparameter_optimization_surface": (
            visualizer.plot_hyperparameter_optimization_surface(
                {"learning_rate": [1e-3, 1e-2, 1e-1], "units": [4, 8, 16]}, records
            )
        ),
        "model_complexity_analysis": visualizer.plot_model_complexity_analysis(model, x, y),
        "convergence_analysis": visualizer.plot_convergence_analysis(),
        "attention_evolution": visualizer.plot_attention_evolution(SENTIMENT_RUN),
        "model_architecture": visualizer.plot_model_architecture(model),
    }
    for name, figure in figures.items():
        assert visualizer.figures[name] is figure
        assert len(figure.data) > 0, name
        assert any(
            np.size(getattr(trace, field, None) if getattr(trace, field, None) is not None else [])
            for trace in figure.data
            for field in ("x", "y", "z", "r")
        ), name
        assert visualizer.infos[name] is not None


# --- values -------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["pearson", "spearman", "kendall"])
def test_the_correlation_heatmap_is_pandas_corr_of_the_history(trained, method):
    history = trained[3]
    visualizer = TrainingVisualizer(history)
    names = ["loss", "accuracy", "val_loss"]
    figure = visualizer.plot_metric_correlation_heatmap(names, method=method)
    expected = _expected(history)[names].corr(method=method).to_numpy()
    info = visualizer.infos["metric_correlation_heatmap"]
    assert info.names == tuple(names)
    np.testing.assert_allclose(info.matrix, expected, atol=1e-12)
    np.testing.assert_allclose(np.asarray(figure.data[0].z, dtype=float), expected, atol=1e-12)


def test_the_landscapes_centre_is_kerass_loss_at_the_trained_weights(trained):
    model, x, y, history = trained
    visualizer = TrainingVisualizer(history)
    figure = visualizer.plot_loss_landscape_3d(model, x, y, n_points=GRID, num_samples=100)
    info = visualizer.infos["loss_landscape_3d"]
    keras_loss = model.evaluate(x[:100], y[:100], verbose=0, return_dict=True)["loss"]
    i, j = info.center
    assert info.loss[i, j] == pytest.approx(keras_loss, rel=1e-5)
    assert info.loss_name == "sparse_categorical_crossentropy"  # the compiled loss
    assert info.num_samples == 100 and info.loss.shape == (GRID, GRID)
    surface = next(trace for trace in figure.data if trace.type == "surface")
    assert np.asarray(surface.z).shape == (GRID, GRID)
    assert np.nanmin(info.loss) <= info.loss[i, j] + 1e-6  # the centre is not above the minimum


def test_an_uncompiled_models_landscape_uses_a_suggested_loss(trained):
    model, x, y, history = trained
    bare = tiny_dense_model()
    bare.set_weights(model.get_weights())
    visualizer = TrainingVisualizer(history)
    visualizer.plot_loss_landscape_3d(bare, x, y, n_points=3, num_samples=64)
    info = visualizer.infos["loss_landscape_3d"]
    assert info.loss_name == "sparse_categorical_crossentropy"
    keras_loss = model.evaluate(x[:64], y[:64], verbose=0, return_dict=True)["loss"]
    assert info.loss[1, 1] == pytest.approx(keras_loss, rel=1e-5)


def test_the_hyperparameter_surface_of_a_full_grid_is_the_results(trained):
    visualizer = TrainingVisualizer(trained[3])
    grid = {"learning_rate": [1e-3, 1e-2, 1e-1], "units": [4, 8, 16, 32]}
    value = {
        (lr, units): 0.3 + 0.1 * i + 0.01 * j
        for i, lr in enumerate(grid["learning_rate"])
        for j, units in enumerate(grid["units"])
    }
    records = [
        {"params": {"learning_rate": lr, "units": units}, "metrics": {"val_accuracy": v}}
        for (lr, units), v in value.items()
    ]
    for results in (records, pd.DataFrame([{**r["params"], **r["metrics"]} for r in records])):
        figure = visualizer.plot_hyperparameter_optimization_surface(grid, results)
        info = visualizer.infos["hyperparameter_optimization_surface"]
        assert info.method == "grid" and (info.x, info.y) == ("learning_rate", "units")
        expected = np.array(
            [[value[(lr, units)] for lr in info.x_values] for units in info.y_values]
        )
        np.testing.assert_allclose(info.z, expected)
        assert info.best_value == max(value.values())
        surface = next(trace for trace in figure.data if trace.type == "surface")
        np.testing.assert_allclose(np.asarray(surface.z, dtype=float), expected)


def test_dynamics_and_convergence_draw_the_historys_own_values(trained):
    history = trained[3]
    visualizer = TrainingVisualizer(dict(history.history))
    visualizer.plot_training_dynamics_3d(["val_loss", "val_accuracy"], window_size=3)
    trajectory = visualizer.infos["training_dynamics_3d"]
    np.testing.assert_array_equal(trajectory.x, history.history["val_loss"])
    np.testing.assert_array_equal(trajectory.y, history.history["val_accuracy"])
    # np.gradient of the loss over the epochs, independently
    np.testing.assert_allclose(
        trajectory.velocity[:, 0], np.gradient(history.history["val_loss"], np.arange(EPOCHS))
    )
    visualizer.plot_convergence_analysis()
    convergence = visualizer.infos["convergence_analysis"]
    np.testing.assert_array_equal(convergence.values, history.history["val_loss"])
    assert convergence.goal == "min"
    visualizer.plot_convergence_analysis("accuracy")
    assert visualizer.infos["convergence_analysis"].goal == "max"


def test_the_default_trajectory_pairs_the_loss_with_a_metric(trained):
    visualizer = TrainingVisualizer(trained[3])
    visualizer.plot_training_dynamics_3d()
    info = visualizer.infos["training_dynamics_3d"]
    assert (info.x_name, info.y_name) == ("loss", "accuracy")


def test_the_complexity_radar_counts_the_model_and_draws_chosen_axes(trained):
    model, x, y, history = trained
    visualizer = TrainingVisualizer(history)
    full = visualizer.plot_model_complexity_analysis(model, x, y)
    profile = visualizer.infos["model_complexity_analysis"]
    assert profile.num_params == model.count_params() == 195
    assert profile.macs == 8 * 16 + 16 * 3 and profile.num_layers == 2
    chosen = visualizer.plot_model_complexity_analysis(model, x, y, ["params", "flops", "depth"])
    assert len(chosen.data[0].r) == 4  # three axes, the polygon closed
    # each axis keeps its radius from the six-axis radar (layers, parameters, compute, ...)
    assert list(chosen.data[0].r) == [full.data[0].r[i] for i in (1, 2, 4, 1)]
    assert [t.split("<br>")[0] for t in chosen.data[0].theta[:3]] == [
        "parameters",
        "compute (MACs)",
        "depth",
    ]


def test_attention_evolution_shows_the_recorded_scores(trained):
    from neurogenesis.analysis.attention import attention_evolution

    visualizer = TrainingVisualizer(SENTIMENT_RUN)  # a run folder: attention read from it
    vocabulary = [
        str(w) for w in np.load(ROOT / "data/samples/sentiment_transformer.npz")["vocabulary"]
    ]
    figure = visualizer.plot_attention_evolution(
        layer="attention_2", head=1, sample=3, vocabulary=vocabulary
    )
    info = attention_evolution(str(SENTIMENT_RUN))
    ids = info.inputs[3]
    length = int(np.flatnonzero(ids != 0)[-1]) + 1
    assert len(figure.frames) == len(info.epochs)
    last = info.scores["attention_2"][-1, 3, 1, :length, :length]
    np.testing.assert_allclose(np.asarray(figure.data[0].z, dtype=float), last)  # opens at the end
    first = info.scores["attention_2"][0, 3, 1, :length, :length]
    np.testing.assert_allclose(np.asarray(figure.frames[0].data[0].z, dtype=float), first)
    assert figure.layout.sliders[0].active == len(info.epochs) - 1
    words = [vocabulary[i] for i in ids[:length]]
    assert list(figure.layout.xaxis.ticktext) == words  # the sample's words, padding cut off
    assert list(figure.layout.yaxis.ticktext) == words
    with pytest.raises(InputError, match="Expected a recorded epoch"):
        visualizer.plot_attention_evolution(epoch=99)
    with pytest.raises(InputError, match="Expected run_dir="):
        TrainingVisualizer(trained[3]).plot_attention_evolution()


def test_a_keras_tensorboard_log_folder_pairs_train_and_validation():
    # The demo run logged by Keras's TensorBoard callback and its CSVLogger at once.
    with pytest.raises(InputError, match="run=NAME"):
        TrainingVisualizer(KERAS_CALLBACKS)
    events = TrainingVisualizer(KERAS_CALLBACKS, run="keras_callbacks").history
    csv = TrainingVisualizer(KERAS_CALLBACKS / "training.csv").history
    for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(events[name].to_numpy(), csv[name].to_numpy(), rtol=1e-6)
    with pytest.raises(InputError, match="Received: run='nope'"):
        TrainingVisualizer(KERAS_CALLBACKS, run="nope")


# --- bad input ----------------------------------------------------------------------------------


def test_bad_input_is_said_in_words(trained):
    model, x, y, history = trained
    with pytest.raises(InputError, match="Received: int"):
        TrainingVisualizer(3)
    with pytest.raises(InputError, match="at least one metric"):
        TrainingVisualizer({})
    with pytest.raises(InputError, match="at least one epoch"):
        TrainingVisualizer({"loss": []})
    with pytest.raises(InputError, match="Expected numbers"):
        TrainingVisualizer({"loss": ["low", "high"]})
    with pytest.raises(InputError, match="Expected a style"):
        TrainingVisualizer(history, style="poster")
    visualizer = TrainingVisualizer(history)
    with pytest.raises(InputError, match=r"Received: 'top_5'"):
        visualizer.plot_metric_correlation_heatmap(["loss", "top_5"])
    with pytest.raises(InputError, match="Expected two metrics"):
        visualizer.plot_training_dynamics_3d(["loss", "accuracy", "val_loss"])
    with pytest.raises(InputError, match="odd window"):
        visualizer.plot_training_dynamics_3d(["loss", "accuracy"], window_size=4)
    with pytest.raises(InputError, match="Expected directions"):
        visualizer.plot_loss_landscape_3d(model, x, y, directions="hessian")
    with pytest.raises(InputError, match="Expected run_dir="):
        visualizer.plot_loss_landscape_3d(model, x, y, directions="pca")
    with pytest.raises(InputError, match="resolution between 3"):
        visualizer.plot_loss_landscape_3d(model, x, y, n_points=2)
    with pytest.raises(InputError, match="at least two parameter"):
        visualizer.plot_hyperparameter_optimization_surface({"lr": [1, 2]}, [{"lr": 1}])
    with pytest.raises(InputError, match="at least 3 complexity metrics"):
        visualizer.plot_model_complexity_analysis(model, complexity_metrics=["params", "size"])


# --- files --------------------------------------------------------------------------------------


def _made(trained) -> TrainingVisualizer:
    visualizer = TrainingVisualizer(trained[3])
    visualizer.plot_metric_correlation_heatmap()
    return visualizer


def test_save_figure_adds_the_extension_and_makes_the_folders_for_html(trained, tmp_path):
    visualizer = _made(trained)
    path = visualizer.save_figure(
        "metric_correlation_heatmap", tmp_path / "a" / "b" / "corr", "html"
    )
    assert path == tmp_path / "a" / "b" / "corr.html"
    page = path.read_text()
    assert page.startswith("<!doctype html>") and "Plotly.newPlot" in page
    # an extension that is not a format is kept, the format's added; one that is, is inferred
    assert visualizer.save_figure("metric_correlation_heatmap", tmp_path / "v1.2", "html").name == (
        "v1.2.html"
    )
    assert visualizer.save_figure("metric_correlation_heatmap", tmp_path / "c.html", None).exists()


@needs_browser
def test_save_figure_writes_png_svg_and_pdf(trained, tmp_path):
    from neurogenesis.plotting.export import export_session

    visualizer = _made(trained)
    with export_session():
        png = visualizer.save_figure("metric_correlation_heatmap", tmp_path / "f" / "c", "png")
        svg = visualizer.save_figure("metric_correlation_heatmap", tmp_path / "f" / "c", "svg")
        pdf = visualizer.save_figure("metric_correlation_heatmap", tmp_path / "f" / "c.pdf", "PDF")
    assert png.suffix == ".png" and png.read_bytes()[:8] == PNG_MAGIC
    assert int.from_bytes(png.read_bytes()[16:20], "big") == 1200 * 2  # default width x scale
    assert svg.suffix == ".svg" and "<svg" in svg.read_text()
    assert pdf.name == "c.pdf" and pdf.read_bytes().startswith(b"%PDF")


def test_save_figure_refuses_unknown_names_and_formats(trained, tmp_path):
    visualizer = _made(trained)
    with pytest.raises(InputError, match=r"Received: 'gif'"):
        visualizer.save_figure("metric_correlation_heatmap", tmp_path / "x", "gif")
    with pytest.raises(InputError, match=r"Received: 'x.svg'"):
        visualizer.save_figure("metric_correlation_heatmap", tmp_path / "x.svg", "png")
    with pytest.raises(InputError, match="metric_correlation_heatmap\\). Received: 'landscape'"):
        visualizer.save_figure("landscape", tmp_path / "x", "png")
    assert not any(tmp_path.iterdir())


def test_save_figure_without_kaleido_says_how_to_install_it(trained, tmp_path, monkeypatch):
    visualizer = _made(trained)
    monkeypatch.setitem(sys.modules, "kaleido", None)
    with pytest.raises(ExportUnavailableError, match="pip install kaleido"):
        visualizer.save_figure("metric_correlation_heatmap", tmp_path / "corr", "png")
    assert not (tmp_path / "corr.png").exists()
    assert visualizer.save_figure("metric_correlation_heatmap", tmp_path / "corr", "html").exists()


def test_the_publication_style_applies_to_every_figure(trained):
    visualizer = TrainingVisualizer(trained[3], style="publication")
    figure = visualizer.plot_metric_correlation_heatmap()
    assert figure.layout.paper_bgcolor == "white" and figure.layout.font.size >= 16


def test_a_binary_classifiers_landscape_takes_one_label_per_sample(trained):
    """model.fit takes y shaped (N,) against a (N, 1) sigmoid output; so does the landscape."""
    import keras

    x, _ = tiny_data(64)
    labels = (x[:, 0] > 0).astype("float32")
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy")
    visualizer = TrainingVisualizer(trained[3])
    visualizer.plot_loss_landscape_3d(model, x, labels, n_points=3)
    info = visualizer.infos["loss_landscape_3d"]
    keras_loss = model.evaluate(x, labels, verbose=0, return_dict=True)["loss"]
    assert info.loss_name == "binary_crossentropy"
    assert info.loss[1, 1] == pytest.approx(keras_loss, rel=1e-5)
