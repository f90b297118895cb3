"""The paper's eight figures from the demo zoo: what each one shows, checked against the demo's own
files; what happens without a browser or without the demo files; bad options."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from neurogenesis import cli
from neurogenesis.errors import InputError
from neurogenesis.figures import PAPER_FIGURES, paper_figures
from tests.conftest import ROOT

RESOLUTION = 5
NUM_SAMPLES = 64
NAMES = [name for name, _ in PAPER_FIGURES]


@pytest.fixture(scope="module")
def html_figures(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    results = paper_figures(out, formats=["html"], resolution=RESOLUTION, num_samples=NUM_SAMPLES)
    return out, {result.name: result for result in results}


def test_eight_figures_in_the_papers_order(html_figures):
    out, results = html_figures
    assert (
        list(results)
        == NAMES
        == [
            "fig1_loss_landscape",
            "fig2_metric_correlation",
            "fig3_training_dynamics",
            "fig4_hyperparameter_surface",
            "fig5_model_complexity",
            "fig6_system_architecture",
            "fig7_convergence_analysis",
            "fig8_attention_evolution",
        ]
    )
    for name, result in results.items():
        assert result.error is None, result.error
        assert result.paths == (out / f"{name}.html",)
        assert result.paths[0].read_text().startswith("<!doctype html>")
        assert len(result.figure.data) > 0
    assert sorted(path.name for path in out.iterdir()) == sorted(f"{n}.html" for n in NAMES)


def test_the_landscape_is_the_digits_models_own_loss(html_figures):
    from neurogenesis.analysis.landscape import landscape_arrays
    from neurogenesis.io.models import load_model
    from neurogenesis.io.samples import load_samples

    info = html_figures[1]["fig1_loss_landscape"].info
    assert info.directions == "pca" and info.loss.shape == (RESOLUTION, RESOLUTION)
    assert info.num_samples == NUM_SAMPLES and len(info.trajectory_labels) > 2  # the run's path
    assert np.isfinite(landscape_arrays(info)["loss"]).all()
    model = load_model(ROOT / "models" / "digits_cnn.keras")
    model.compile(loss="sparse_categorical_crossentropy")
    samples = load_samples(ROOT / "data" / "samples" / "digits_cnn.npz")
    keras_loss = model.evaluate(
        samples.x[:NUM_SAMPLES], samples.y[:NUM_SAMPLES], verbose=0, return_dict=True
    )["loss"]
    assert info.trained_values[0] == pytest.approx(keras_loss, rel=1e-5)


def test_the_history_figures_draw_the_demo_runs_values(html_figures):
    from neurogenesis.io.logs import read_run

    results = html_figures[1]
    scalars = read_run(ROOT / "data" / "runs" / "digits_cnn" / "adam").scalars
    convergence = results["fig7_convergence_analysis"].info
    trajectory = results["fig3_training_dynamics"].info
    assert (trajectory.x_name, trajectory.y_name) == ("loss", "accuracy")
    np.testing.assert_allclose(trajectory.x, scalars["train/loss"].values)
    np.testing.assert_allclose(trajectory.y, scalars["train/accuracy"].values)
    np.testing.assert_allclose(convergence.values, scalars["validation/loss"].values)
    np.testing.assert_allclose(convergence.epochs, scalars["validation/loss"].steps)
    correlation = results["fig2_metric_correlation"].info
    assert correlation.names[:4] == ("loss", "accuracy", "val_loss", "val_accuracy")
    assert np.allclose(np.diag(correlation.matrix), 1.0)


def test_the_hyperparameter_surface_is_the_sweeps_results(html_figures):
    info = html_figures[1]["fig4_hyperparameter_surface"].info
    sweep = json.loads((ROOT / "data" / "sweeps" / "digits_cnn" / "sweep.json").read_text())
    metric = sweep["metric"]
    assert info.metric == metric and info.method == "grid"
    for point in sweep["points"]:
        params, value = point["params"], point["final"][metric]
        i = int(np.argmin(np.abs(info.y_values - params[info.y])))
        j = int(np.argmin(np.abs(info.x_values - params[info.x])))
        assert info.z[i, j] == pytest.approx(value)


def test_the_complexity_architecture_and_attention_figures(html_figures):
    from neurogenesis.analysis.attention import attention_evolution
    from neurogenesis.io.models import load_model

    results = html_figures[1]
    model = load_model(ROOT / "models" / "digits_cnn.keras")
    assert results["fig5_model_complexity"].info.num_params == model.count_params()
    transformer = load_model(ROOT / "models" / "sentiment_transformer.keras")
    graph = results["fig6_system_architecture"].info
    assert graph.name == transformer.name
    run = ROOT / "data" / "runs" / "sentiment_transformer" / "adam"
    figure = results["fig8_attention_evolution"].figure
    assert len(figure.frames) == len(attention_evolution(str(run)).epochs)


def test_without_kaleido_the_html_is_written_and_png_skipped_with_a_warning(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setitem(sys.modules, "kaleido", None)
    code = cli.main(["figures", "--out", str(tmp_path), "--resolution", "3", "--num-samples", "16"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(f"{n}.html" for n in NAMES)
    assert err.count("warning: PNG skipped") == 1 and "pip install kaleido" in err
    assert "Wrote 8 of 8 figures" in err and "(PNG skipped)" in err
    assert out.count(": html (") == 8


def test_missing_demo_files_are_named_and_give_exit_code_2(tmp_path, capsys):
    code = cli.main(
        ["figures", "--out", str(tmp_path / "out"), "--formats", "html", "--root", str(tmp_path)]
    )
    _, err = capsys.readouterr()
    assert code == 2
    assert "fig1_loss_landscape: not made" in err and "neurogenesis demo" in err
    assert "Wrote 0 of 8 figures" in err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"formats": ["png", "gif"]}, "Received: png, gif"),
        ({"style": "poster"}, "Received: 'poster'"),
        ({"resolution": 1}, "resolution between 3"),
        ({"num_samples": 0}, "between 1 and 4096"),
    ],
)
def test_bad_options(tmp_path, options, message):
    with pytest.raises(InputError, match=message):
        paper_figures(tmp_path, **options)
    assert not any(tmp_path.iterdir())
