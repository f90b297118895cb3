"""The neurogenesis command: exit codes, JSON shapes, exact counts, one-line errors."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import zipfile

import pytest

from neurogenesis import cli
from neurogenesis.testing import tiny_cnn, tiny_dense_model, write_csv_log
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    dense = tiny_dense_model()
    cnn = tiny_cnn()
    dense.save(folder / "dense.keras")
    cnn.save(folder / "cnn.h5")
    return {"dense": (folder / "dense.keras", dense), "cnn": (folder / "cnn.h5", cnn)}


def run_cli(capsys, *argv):
    code = cli.main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("which", ["dense", "cnn"])
def test_inspect_json_matches_keras(capsys, saved_models, which):
    path, model = saved_models[which]
    code, out, err = run_cli(capsys, "inspect", path, "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["num_params"] == model.count_params()
    assert payload["num_trainable_params"] == sum(
        math.prod(w.shape) for w in model.trainable_weights
    )
    assert "macs" in payload
    assert [layer["name"] for layer in payload["layers"]] == [layer.name for layer in model.layers]
    for entry, layer in zip(payload["layers"], model.layers, strict=True):
        assert entry["num_params"] == layer.count_params()
        assert entry["class_name"] == type(layer).__name__
        assert tuple(entry["output_shape"]) == tuple(layer.output.shape)
        assert set(entry) >= {"name", "class_name", "output_shape", "num_params", "macs"}


def test_inspect_table(capsys, saved_models):
    code, out, _ = run_cli(capsys, "inspect", saved_models["dense"][0])
    assert code == 0
    assert "hidden" in out and "Dense" in out and "(None, 16)" in out
    assert "Total params: 195" in out
    assert "Multiply-accumulates per sample: 176 " in out  # 8*16 + 16*3


def test_inspect_json_fills_macs_by_hand(capsys, saved_models):
    _, out, _ = run_cli(capsys, "inspect", saved_models["dense"][0], "--json")
    payload = json.loads(out)
    assert payload["macs"] == 8 * 16 + 16 * 3
    assert [layer["macs"] for layer in payload["layers"]] == [8 * 16, 16 * 3]


def test_inspect_writes_the_graph_figure(capsys, saved_models, tmp_path):
    target = tmp_path / "figures" / "cnn.html"
    code, _, err = run_cli(capsys, "inspect", saved_models["cnn"][0], "--figure", target)
    assert code == 0, err
    page = target.read_text()
    assert "plotly" in page.lower() and '"conv' in page  # the figure's data names the layers
    code, _, err = run_cli(
        capsys, "inspect", saved_models["cnn"][0], "--figure", tmp_path / "x.jpg"
    )
    assert code == 2 and "Received: 'x.jpg'" in err


def _lambda_archive(path):
    config = {
        "module": "keras",
        "class_name": "Sequential",
        "config": {
            "name": "evil",
            "layers": [
                {
                    "module": "keras.layers",
                    "class_name": "Lambda",
                    "config": {"name": "payload", "function": "x"},
                },
            ],
        },
    }
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
    return path


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("garbage.keras", b"this is not a model at all", "not a Keras model"),
        ("empty.keras", b"", "empty"),
        ("model.pt", b"\x80\x02torch", "Expected a .keras or .h5 file"),
    ],
)
def test_inspect_refuses_bad_files_with_exit_2(capsys, tmp_path, name, content, reason):
    (tmp_path / name).write_bytes(content)
    code, out, err = run_cli(capsys, "inspect", tmp_path / name)
    assert code == 2
    assert out == ""
    assert reason in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_inspect_refuses_lambda_with_exit_2(capsys, tmp_path):
    code, _, err = run_cli(capsys, "inspect", _lambda_archive(tmp_path / "evil.keras"))
    assert code == 2
    assert "Lambda" in err and len(err.strip().splitlines()) == 1


def test_inspect_missing_file(capsys, tmp_path):
    code, _, err = run_cli(capsys, "inspect", tmp_path / "nowhere.keras")
    assert code == 2 and "No such file" in err


def test_logs_json_counts_exactly(capsys, tmp_path):
    history = {"loss": [1.0, 0.5, float("nan"), 0.25], "val_loss": [1.1, 0.6, 0.7, 0.4]}
    write_csv_log(tmp_path / "training.csv", history)
    code, out, err = run_cli(capsys, "logs", tmp_path, "--json", "--no-cache")
    assert code == 0, err
    (run,) = json.loads(out)["runs"]
    assert run["format"] == "csv"
    assert run["scalars"]["loss"]["num_points"] == 4
    assert run["scalars"]["loss"]["num_nonfinite"] == 1
    assert (
        run["scalars"]["val_loss"]["first_step"] == 0
        and run["scalars"]["val_loss"]["last_step"] == 3
    )
    assert run["problems"] == []


def test_logs_damaged_log_is_a_success_with_problems(capsys, tmp_path):
    (tmp_path / "training.csv").write_text("epoch,loss,accuracy\n0,1.0,0.5\n1,0.8,0.6\n2,0.7")
    code, out, _ = run_cli(capsys, "logs", tmp_path / "training.csv", "--json", "--no-cache")
    assert code == 0
    (run,) = json.loads(out)["runs"]
    assert run["scalars"]["loss"]["num_points"] == 2
    assert [problem["kind"] for problem in run["problems"]] == ["truncated"]
    code, out, _ = run_cli(capsys, "logs", tmp_path / "training.csv", "--no-cache")
    assert code == 0 and "truncated" in out and "loss: 2 points" in out


def test_logs_unusable_paths_exit_2(capsys, tmp_path):
    code, _, err = run_cli(capsys, "logs", tmp_path / "missing")
    assert code == 2 and "Traceback" not in err
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(capsys, "logs", tmp_path / "empty")
    assert code == 2 and "events.out.tfevents" in err


def test_every_verb_has_help():
    for verb in (
        "app",
        "inspect",
        "logs",
        "saliency",
        "project",
        "attention",
        "compare",
        "adversarial",
    ):
        result = subprocess.run(
            [sys.executable, "-m", "neurogenesis", verb, "--help"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0 and "usage: neurogenesis" in result.stdout


def test_app_command_passes_paths_to_streamlit(tmp_path):
    args = cli._parser().parse_args(
        ["app", "--logdir", str(tmp_path), "--model", "m.keras", "--port", "9999", "--no-demos"]
    )
    command = cli._app_command(args)
    assert command[1:4] == ["-m", "streamlit", "run"]
    assert command[command.index("--server.port") + 1] == "9999"
    tail = command[command.index("--") + 1 :]
    assert tail[:2] == ["--logdir", str(tmp_path)]
    assert tail[2] == "--model" and tail[3].endswith("m.keras")
    assert tail[-1] == "--no-demos"


def test_logs_does_not_import_tensorflow(tmp_path):
    write_csv_log(tmp_path / "training.csv", {"loss": [1.0, 0.5]})
    code = (
        "import sys; from neurogenesis import cli; rc = cli.main(['logs', sys.argv[1], '--json']); "
        "assert rc == 0; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'imported TF'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_saliency_writes_maps_attributions_and_targets(capsys, tmp_path):
    """Integrated gradients of the shapes demo on 12 masked samples, checked against its own parts."""
    import numpy as np

    from neurogenesis.analysis.attribution import pointing_game
    from neurogenesis.analysis.graph import predict
    from neurogenesis.io.models import load_model

    data = np.load(ROOT / "data/samples/shapes_cnn.npz")
    small = tmp_path / "shapes12.npz"
    np.savez(small, x=data["x"][:12], y=data["y"][:12], masks=data["masks"][:12])
    out = tmp_path / "out" / "ig.npz"
    figure = tmp_path / "ig.html"
    code, _, err = run_cli(
        capsys, "saliency", ROOT / "models/shapes_cnn.keras", "--data", small,
        "--method", "integrated_gradients", "--baseline", "blur", "--out", out, "--figure", figure,
    )  # fmt: skip
    assert code == 0, err
    assert "median completeness error" in err and figure.exists()
    result = np.load(out)
    assert result["maps"].shape == (12, 32, 32) and (result["maps"] >= 0).all()
    assert result["attributions"].shape == (12, 32, 32, 3)
    # The default target is the predicted class, and the map is |attribution| summed over channels.
    model = load_model(ROOT / "models/shapes_cnn.keras")
    np.testing.assert_array_equal(result["target"], predict(model, data["x"][:12]).argmax(axis=1))
    np.testing.assert_allclose(
        result["maps"], np.abs(result["attributions"]).sum(axis=-1), rtol=1e-5, atol=1e-6
    )
    assert np.median(result["completeness_error"]) < 0.05
    assert pointing_game(result["maps"], data["masks"][:12]).score >= 0.75


def test_saliency_gradcam_on_a_chosen_layer_and_target(capsys, tmp_path):
    import numpy as np

    data = np.load(ROOT / "data/samples/digits_cnn.npz")
    small = tmp_path / "digits.npz"
    np.savez(small, x=data["x"][:5], y=data["y"][:5])
    out = tmp_path / "cam.npz"
    code, _, err = run_cli(
        capsys, "saliency", ROOT / "models/digits_cnn.keras", "--data", small, "--method", "gradcam",
        "--layer", "relu_1", "--target", "3", "--out", out,
    )  # fmt: skip
    assert code == 0, err
    result = np.load(out)
    assert result["maps"].shape == (5, 8, 8) and "attributions" not in result.files
    assert result["target"].tolist() == [3] * 5
    code, _, err = run_cli(
        capsys, "saliency", ROOT / "models/digits_cnn.keras", "--data", small, "--method", "gradcam",
        "--layer", "nope", "--out", out,
    )  # fmt: skip
    assert code == 2 and "nope" in err


def test_saliency_on_token_ids_scores_each_token(capsys, tmp_path):
    import numpy as np

    data = np.load(ROOT / "data/samples/sentiment_transformer.npz")
    small = tmp_path / "text.npz"
    np.savez(small, x=data["x"][:6], y=data["y"][:6], vocabulary=data["vocabulary"])
    out = tmp_path / "tokens.npz"
    code, _, err = run_cli(
        capsys, "saliency", ROOT / "models/sentiment_transformer.keras", "--data", small,
        "--method", "integrated_gradients", "--out", out,
    )  # fmt: skip
    assert code == 0, err
    result = np.load(out)
    assert result["maps"].shape == (6, 16)
    np.testing.assert_allclose(result["maps"], np.abs(result["attributions"]))
    code, _, err = run_cli(
        capsys, "saliency", ROOT / "models/sentiment_transformer.keras", "--data", small,
        "--method", "gradcam", "--out", out,
    )  # fmt: skip
    assert code == 2 and "per token" in err


def test_project_writes_coordinates_equal_to_pca(capsys, tmp_path):
    import numpy as np

    from neurogenesis.analysis.embeddings import hidden_states
    from neurogenesis.io.models import load_model

    out = tmp_path / "pca.npz"
    code, _, err = run_cli(
        capsys, "project", ROOT / "models/digits_cnn.keras", "--data", ROOT / "data/samples/digits_cnn.npz",
        "--layer", "flatten", "--method", "pca", "--out", out,
    )  # fmt: skip
    assert code == 0, err
    result = np.load(out)
    assert result["coords"].shape == (360, 2)
    assert result["labels"].shape == (360,)
    features = hidden_states(
        load_model(ROOT / "models/digits_cnn.keras"),
        np.load(ROOT / "data/samples/digits_cnn.npz")["x"],
        "flatten",
    )
    centred = features - features.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    expected = centred @ vt[:2].T
    for axis in range(2):  # PCA's sign is arbitrary
        correlation = np.corrcoef(result["coords"][:, axis], expected[:, axis])[0, 1]
        assert abs(correlation) > 0.999


def test_project_and_saliency_refuse_bad_arguments(capsys, tmp_path):
    code, _, err = run_cli(
        capsys, "project", ROOT / "models/digits_cnn.keras", "--data", ROOT / "data/samples/digits_cnn.npz",
        "--layer", "flatten", "--out", tmp_path / "x.csv",
    )  # fmt: skip
    assert code == 2 and ".npz" in err
    code, _, err = run_cli(
        capsys, "saliency", ROOT / "models/digits_cnn.keras", "--data", ROOT / "data/samples/shapes_cnn.npz",
        "--method", "gradient", "--out", tmp_path / "g.npz",
    )  # fmt: skip
    assert code == 2 and "expects" in err


def test_attention_writes_one_array_per_layer_equal_to_the_layers(capsys, tmp_path):
    import numpy as np

    from neurogenesis.io.models import load_model

    data = np.load(ROOT / "data/samples/sentiment_transformer.npz")
    small = tmp_path / "text.npz"
    np.savez(small, x=data["x"][:5], y=data["y"][:5], vocabulary=data["vocabulary"])
    out = tmp_path / "scores.npz"
    figure = tmp_path / "view.html"
    code, _, err = run_cli(
        capsys, "attention", ROOT / "models/sentiment_transformer.keras", "--data", small,
        "--out", out, "--figure", figure,
    )  # fmt: skip
    assert code == 0, err
    assert figure.exists() and "attention_2" in figure.read_text()
    result = np.load(out)
    assert sorted(result.files) == ["attention_1", "attention_2"]
    model = load_model(ROOT / "models/sentiment_transformer.keras")
    heads = model.get_layer("attention_1").num_heads
    assert result["attention_1"].shape == (5, heads, 16, 16)
    code, _, err = run_cli(
        capsys, "attention", ROOT / "models/digits_cnn.keras", "--data",
        ROOT / "data/samples/digits_cnn.npz", "--out", tmp_path / "none.npz",
    )  # fmt: skip
    assert code == 2 and "MultiHeadAttention" in err


def test_compare_json_equals_scipy_and_recomputes(capsys, tmp_path):
    import keras
    import numpy as np
    from scipy.stats import binomtest

    from neurogenesis.analysis.graph import predict
    from neurogenesis.io.models import load_model

    model = load_model(ROOT / "models/digits_cnn.keras")
    noisy = keras.models.clone_model(model)
    rng = np.random.default_rng(0)
    noisy.set_weights(
        [w + rng.normal(0, 0.2 * (w.std() + 1e-8), w.shape) for w in model.get_weights()]
    )
    noisy.save(tmp_path / "noisy.keras")
    data = np.load(ROOT / "data/samples/digits_cnn.npz")
    code, out, err = run_cli(
        capsys, "compare", ROOT / "models/digits_cnn.keras", tmp_path / "noisy.keras",
        "--data", ROOT / "data/samples/digits_cnn.npz", "--resamples", 2000, "--json",
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    right_a = predict(model, data["x"]).argmax(axis=1) == data["y"]
    right_b = predict(noisy, data["x"]).argmax(axis=1) == data["y"]
    assert report["accuracy_a"] == pytest.approx(right_a.mean())
    assert report["accuracy_b"] == pytest.approx(right_b.mean())
    b, c = int((right_a & ~right_b).sum()), int((~right_a & right_b).sum())
    expected = binomtest(b, b + c, 0.5).pvalue if b + c else 1.0
    assert report["mcnemar_p_value"] == pytest.approx(expected)
    low, high = report["accuracy_difference_ci"]
    assert low <= right_a.mean() - right_b.mean() <= high


def test_adversarial_stays_in_the_ball_and_accuracy_recomputes(capsys, tmp_path):
    import numpy as np

    from neurogenesis.analysis.graph import predict
    from neurogenesis.io.models import load_model

    data = np.load(ROOT / "data/samples/digits_cnn.npz")
    small = tmp_path / "digits.npz"
    np.savez(small, x=data["x"][:40], y=data["y"][:40])
    out = tmp_path / "adv.npz"
    code, printed, err = run_cli(
        capsys, "adversarial", ROOT / "models/digits_cnn.keras", "--data", small,
        "--method", "pgd", "--epsilon", "0.1", "--steps", "5", "--out", out, "--json",
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads(printed)
    x_adv = np.load(out)["x_adv"]
    assert np.abs(x_adv - data["x"][:40]).max() <= 0.1 + 1e-6
    # Clipped to the sample set's own value range.
    assert data["x"][:40].min() - 1e-6 <= x_adv.min() and x_adv.max() <= data["x"][:40].max() + 1e-6
    model = load_model(ROOT / "models/digits_cnn.keras")
    recomputed = float(np.mean(predict(model, x_adv).argmax(axis=1) == data["y"][:40]))
    assert summary["adversarial_accuracy"] == pytest.approx(recomputed)
    assert summary["adversarial_accuracy"] < summary["clean_accuracy"]


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["nope"], "Unknown demo scenario 'nope'"),
        (["digits_cnn", "--grid", "depth=2"], "Unknown sweep parameter 'depth'"),
        (["digits_cnn", "--grid", "width=0"], "positive whole number"),
        (["digits_cnn", "--grid", "learning_rate"], "NAME=VALUE"),
        (["digits_cnn", "--random", "0"], "at least 1 random point"),
        (["digits_cnn", "--epochs", "0"], "at least 1 epoch"),
        (["digits_cnn", "--points", "{"], "JSON list"),
        (["digits_cnn", "--points", "[]", "--random", "2"], "--points alone"),
    ],
)
def test_sweep_refuses_bad_arguments_with_exit_2(capsys, tmp_path, argv, reason):
    code, out, err = run_cli(capsys, "sweep", *argv, "--out", tmp_path / "sweep")
    assert code == 2 and reason in err and err.startswith("neurogenesis sweep: ")
    assert len(err.strip().splitlines()) == 1 and not out
    assert not (tmp_path / "sweep").exists()


@pytest.mark.slow
def test_sweep_command_end_to_end(tmp_path):
    out = tmp_path / "sweep"
    result = subprocess.run(
        [sys.executable, "-m", "neurogenesis", "sweep", "digits_cnn", "--out", str(out),
         "--grid", "learning_rate=0.001,0.003", "--grid", "width=4", "--epochs", "1"],
        capture_output=True, text=True, check=False, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "sweep.json").read_text())
    assert summary["status"] == "finished" and summary["epochs"] == 1
    assert summary["planned"] == [
        {"learning_rate": 0.001, "width": 4},
        {"learning_rate": 0.003, "width": 4},
    ]
    lines = result.stdout.strip().splitlines()
    for index, point in enumerate(summary["points"], start=1):
        assert (out / point["run"] / "neurogenesis_run.json").is_file()
        value = point["final"]["val_accuracy"]
        assert lines[index - 1].startswith(f"[{index}/2] {point['run']}: val_accuracy {value} ")
    assert lines[-1] == f"sweep finished: 2 of 2 points -> {out / 'sweep.json'}"
