"""The neurogenesis command: exit codes, JSON shapes, exact counts, one-line errors."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from neurogenesis import cli
from neurogenesis.testing import (
    lightning_rows,
    tiny_cnn,
    tiny_dense_model,
    write_csv_log,
    write_lightning_log,
)
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


def test_inspect_shows_the_structure_of_a_model_it_cannot_run(capsys, tmp_path):
    import keras

    @keras.saving.register_keras_serializable(package="cli_test")
    class Scale(keras.layers.Layer):
        def build(self, shape):
            self.scale = self.add_weight(shape=(shape[-1],), initializer="ones")

        def call(self, x):
            return x * self.scale

    inputs = keras.Input((3,), name="features")
    hidden = Scale(name="scale")(keras.layers.Dense(4, name="dense_in")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(2, name="head")(hidden))
    path = tmp_path / "custom.keras"
    model.save(path)

    code, out, err = run_cli(capsys, "inspect", path, "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["runnable"] is False and payload["structure_only"] is True
    assert "Scale" in payload["reason"]
    assert payload["num_params"] == model.count_params() == 3 * 4 + 4 + 4 + 4 * 2 + 2
    by_name = {layer["name"]: layer for layer in payload["layers"]}
    assert by_name["scale"]["num_params"] == 4 and by_name["scale"]["inbound"] == ["dense_in"]
    assert by_name["scale"]["origin"].startswith("custom: ")
    assert payload["custom_classes"] == [
        {"class_name": "Scale", "origin": by_name["scale"]["origin"]}
    ]

    code, out, err = run_cli(capsys, "inspect", path)
    assert code == 0, err
    assert "structure only, not run" in out and "Why: " in out and "Scale" in out
    assert f"Total params: {model.count_params():,}" in out


def test_inspect_json_says_a_loadable_model_runs(capsys, saved_models):
    _, out, _ = run_cli(capsys, "inspect", saved_models["dense"][0], "--json")
    assert json.loads(out)["runnable"] is True


def test_inspect_loads_lambda_only_with_the_unsafe_flag_and_warns(capsys, tmp_path, monkeypatch):
    import keras

    from neurogenesis.io import models

    monkeypatch.setattr(models, "_LAMBDA_ALLOWED", False)
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Lambda(lambda t: t * 3.0, name="triple")]
    )
    model.save(tmp_path / "triple.keras")
    code, out, err = run_cli(capsys, "inspect", tmp_path / "triple.keras")
    assert code == 0, err  # shown as structure only, with the reason
    assert "structure only, not run" in out and "Lambda" in out and "--unsafe-allow-lambda" in out
    code, out, err = run_cli(
        capsys, "inspect", tmp_path / "triple.keras", "--json", "--unsafe-allow-lambda"
    )
    assert code == 0, err
    assert err.startswith("warning: --unsafe-allow-lambda: Lambda layers in model files will run")
    assert [layer["class_name"] for layer in json.loads(out)["layers"]] == ["Lambda"]
    args = cli._parser().parse_args(["app", "--unsafe-allow-lambda"])
    assert cli._app_command(args)[-1] == "--unsafe-allow-lambda"


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


def test_logs_json_reads_a_lightning_log_by_global_step(capsys, tmp_path):
    rows = lightning_rows(num_epochs=2, batches=8, every=4)
    write_lightning_log(tmp_path / "lightning_logs" / "version_0", rows)
    code, out, err = run_cli(capsys, "logs", tmp_path, "--json", "--no-cache")
    assert code == 0, err
    (run,) = json.loads(out)["runs"]
    assert run["name"] == "lightning_logs/version_0/metrics.csv"
    # epoch and step are axes, not metrics; each metric at the global steps it was logged at.
    assert set(run["scalars"]) == {"train_loss_epoch", "train_loss_step", "val_acc", "val_loss"}
    for tag, facts in run["scalars"].items():
        steps = [row["step"] for row in rows if tag in row]
        assert facts["num_points"] == len(steps) and facts["num_missing"] == 0
        assert (facts["first_step"], facts["last_step"]) == (steps[0], steps[-1])
    assert run["scalars"]["train_loss_step"]["first_step"] == 3  # the 4th batch
    assert run["problems"] == []  # the epoch's validation and mean rows share a step: fine


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
        "landscape",
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


def test_app_command_passes_trusted_code_to_the_server(tmp_path, capsys, monkeypatch):
    (tmp_path / "layers.py").write_text("")
    monkeypatch.chdir(tmp_path)
    args = cli._parser().parse_args(["app", "--trust", "layers.py", "--trust", "json"])
    tail = cli._app_command(args)[-4:]
    assert tail == ["--trust", str(tmp_path.resolve() / "layers.py"), "--trust", "json"]
    # Names that cannot be found stop the command before the server starts.
    for missing, reason in [
        ("gone.py", "Expected an existing .py file to trust. Received: 'gone.py'"),
        ("no_such_module_xyz", "No module named 'no_such_module_xyz' to trust"),
    ]:
        code, _, err = run_cli(capsys, "app", "--trust", missing)
        assert code == 2 and reason in err


def test_every_model_verb_takes_trust():
    parser = cli._parser()
    for argv in (
        ["inspect", "m.keras"],
        ["saliency", "m.keras", "--data", "d.npz", "--method", "gradient", "--out", "o.npz"],
        ["project", "m.keras", "--data", "d.npz", "--layer", "l", "--out", "o.npz"],
        ["attention", "m.keras", "--data", "d.npz", "--out", "o.npz"],
        ["compare", "a.keras", "b.keras", "--data", "d.npz"],
        ["adversarial", "m.keras", "--data", "d.npz", "--method", "fgsm", "--epsilon", "1"]
        + ["--out", "o.npz"],
        ["landscape", "m.keras", "--data", "d.npz", "--out", "o.npz"],
        ["app"],
    ):
        args = parser.parse_args([*argv, "--trust", "a", "--trust", "b.py"])
        assert args.trust == ["a", "b.py"], argv[0]


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
    from neurogenesis.plotting.attribution import completeness_summary

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
    result = np.load(out)
    summary = completeness_summary(result["completeness_error"])
    assert f"(completeness error: {summary})" in err and figure.exists()
    assert summary.startswith("median ") and summary.endswith(" over 12 samples")
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


def test_saliency_says_why_the_completeness_error_is_undefined(capsys, tmp_path):
    """A model whose output does not move between baseline and input (zero kernel) has no
    relative completeness error: the summary says so instead of printing nan%."""
    import keras
    import numpy as np

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, name="scores")])
    model.get_layer("scores").set_weights([np.zeros((4, 2), "float32"), np.ones(2, "float32")])
    model.save(tmp_path / "flat.keras")
    np.savez(tmp_path / "rows.npz", x=np.random.default_rng(15).normal(size=(3, 4)))
    code, _, err = run_cli(
        capsys, "saliency", tmp_path / "flat.keras", "--data", tmp_path / "rows.npz",
        "--method", "integrated_gradients", "--out", tmp_path / "ig.npz",
    )  # fmt: skip
    assert code == 0, err
    assert "nan" not in err
    assert (
        "(completeness error: undefined (the output does not change between baseline and input))"
        in err
    )
    assert np.isnan(np.load(tmp_path / "ig.npz")["completeness_error"]).all()


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


def test_adversarial_treats_a_one_logit_head_as_a_binary_classifier(capsys, tmp_path):
    import keras
    import numpy as np

    # keras.io's transfer-learning head: Dense(1) logits, BinaryCrossentropy(from_logits=True).
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, name="logit")])
    weights = np.array([1.0, -2.0, 0.5, 0.25])
    model.get_layer("logit").set_weights(
        [weights[:, None].astype("float32"), np.array([0.1], "float32")]
    )
    model.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True))
    model.save(tmp_path / "head.keras")
    x = np.random.default_rng(13).normal(size=(30, 4)).astype("float32")
    logit = x.astype(np.float64) @ weights + 0.1
    y = (x[:, 0] > 0).astype(np.int64)
    np.savez(tmp_path / "labelled.npz", x=x, y=y)
    np.savez(tmp_path / "unlabelled.npz", x=x)
    expected = {"labelled.npz": float(np.mean((logit > 0) == y)), "unlabelled.npz": 1.0}
    for name, accuracy in expected.items():
        code, printed, err = run_cli(
            capsys, "adversarial", tmp_path / "head.keras", "--data", tmp_path / name,
            "--method", "fgsm", "--epsilon", "0.2", "--out", tmp_path / "adv.npz", "--json",
        )  # fmt: skip
        assert code == 0, err
        summary = json.loads(printed)
        assert summary["clean_accuracy"] == pytest.approx(accuracy), name
        assert summary["clean_error"] is None
        x_adv = np.load(tmp_path / "adv.npz")["x_adv"]
        reference = y if name == "labelled.npz" else (logit > 0)
        recomputed = np.mean((x_adv.astype(np.float64) @ weights + 0.1 > 0) == reference)
        assert summary["adversarial_accuracy"] == pytest.approx(recomputed)


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


# --- landscape ---------------------------------------------------------------------------------

NUM_FEATURES = 3


@pytest.fixture(scope="module")
def linear_regression(tmp_path_factory):
    """Dense(1) on 3 features at weights near, not at, the least squares fit: compiled with mse
    (and mae as a metric), the same model never compiled, and a sample set of 40."""
    import keras
    import numpy as np

    folder = tmp_path_factory.mktemp("landscape")
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, NUM_FEATURES)).astype("float32")
    y = (x @ np.array([1.5, -2.0, 0.5]) + 0.3 + 0.1 * rng.normal(size=40)).astype("float32")
    np.savez(folder / "samples.npz", x=x, y=y)
    weights = [np.array([[1.2], [-1.7], [0.8]], "float32"), np.array([0.1], "float32")]
    paths = {}
    for name, compiled in (("compiled", True), ("plain", False)):
        model = keras.Sequential([keras.Input((NUM_FEATURES,)), keras.layers.Dense(1)])
        model.set_weights(weights)
        if compiled:
            model.compile("sgd", loss="mse", metrics=["mae"])
        model.save(folder / f"{name}.keras")
        paths[name] = folder / f"{name}.keras"
    return {**paths, "data": folder / "samples.npz", "x": x, "y": y, "weights": weights}


def _linear_errors(x, y, flat_weights):
    """Per-sample errors of the linear model at flat weights (kernel in C order, then bias)."""
    import numpy as np

    kernel, bias = flat_weights[:NUM_FEATURES], flat_weights[NUM_FEATURES]
    return x.astype(np.float64) @ kernel.astype(np.float64) + float(bias) - y.astype(np.float64)


def test_landscape_loss_is_the_mse_recomputed_at_every_grid_point(
    capsys, tmp_path, linear_regression
):
    import numpy as np

    data = linear_regression
    out = tmp_path / "out" / "plane.npz"
    code, _, err = run_cli(
        capsys, "landscape", data["compiled"], "--data", data["data"], "--resolution", 5,
        "--span", 2.0, "--seed", 3, "--num-samples", 30, "--out", out,
    )  # fmt: skip
    assert code == 0, err
    result = np.load(out)
    theta = np.concatenate([w.ravel() for w in data["weights"]])
    assert result["direction_x"].shape == result["direction_y"].shape == (NUM_FEATURES + 1,)
    assert not np.allclose(result["direction_x"], result["direction_y"])
    np.testing.assert_allclose(result["alphas"], np.linspace(-2, 2, 5))
    np.testing.assert_allclose(result["betas"], np.linspace(-2, 2, 5))
    x, y = data["x"][:30], data["y"][:30]  # --num-samples 30: the first 30
    mse, mae = np.empty((5, 5)), np.empty((5, 5))
    for i, alpha in enumerate(result["alphas"]):
        for j, beta in enumerate(result["betas"]):
            moved = theta + alpha * result["direction_x"] + beta * result["direction_y"]
            errors = _linear_errors(x, y, moved)
            mse[i, j], mae[i, j] = np.mean(errors**2), np.mean(np.abs(errors))
    np.testing.assert_allclose(result["loss"], mse, rtol=1e-5)
    assert result["metric_names"].tolist() == ["loss", "mae"]
    np.testing.assert_allclose(result["values"][0], result["loss"])
    np.testing.assert_allclose(result["values"][1], mae, rtol=1e-5)
    assert str(result["loss_name"]) == "mse" and int(result["num_samples"]) == 30
    assert int(result["seed"]) == 3 and result["trajectory"].shape == (0, 2)
    at_theta = float(np.mean(_linear_errors(x, y, theta) ** 2))
    assert float(result["center_loss"]) == pytest.approx(at_theta, rel=1e-5)
    assert err.count("\n") == 1 and err.startswith("Wrote the 5 x 5 random landscape of mse")
    assert f"loss at the trained weights {at_theta:.6g}" in err
    assert f"lowest loss {mse.min():.6g}" in err

    # Another seed, other directions; the same seed, the same ones.
    again = tmp_path / "again.npz"
    run_cli(capsys, "landscape", data["compiled"], "--data", data["data"], "--resolution", 5,
            "--span", 2.0, "--seed", 3, "--num-samples", 30, "--out", again)  # fmt: skip
    np.testing.assert_array_equal(np.load(again)["direction_x"], result["direction_x"])
    run_cli(capsys, "landscape", data["compiled"], "--data", data["data"], "--resolution", 5,
            "--seed", 4, "--out", again)  # fmt: skip
    assert not np.allclose(np.load(again)["direction_x"], result["direction_x"])


def test_landscape_loss_flag_overrides_and_is_needed_without_a_compiled_loss(
    capsys, tmp_path, linear_regression
):
    import numpy as np

    data = linear_regression
    theta = np.concatenate([w.ravel() for w in data["weights"]])
    out = tmp_path / "mae.npz"
    code, _, err = run_cli(
        capsys, "landscape", data["compiled"], "--data", data["data"], "--resolution", 3,
        "--loss", "mae", "--out", out,
    )  # fmt: skip
    assert code == 0, err
    result = np.load(out)
    assert str(result["loss_name"]) == "mae"
    for i, alpha in enumerate(result["alphas"]):
        for j, beta in enumerate(result["betas"]):
            moved = theta + alpha * result["direction_x"] + beta * result["direction_y"]
            expected = np.mean(np.abs(_linear_errors(data["x"], data["y"], moved)))
            assert result["loss"][i, j] == pytest.approx(expected, rel=1e-5)

    code, out_text, err = run_cli(
        capsys, "landscape", data["plain"], "--data", data["data"], "--resolution", 3,
        "--out", tmp_path / "none.npz",
    )  # fmt: skip
    assert code == 2 and not out_text and len(err.strip().splitlines()) == 1
    assert err.startswith("neurogenesis landscape: 'plain.keras' holds no loss")
    assert "Expected --loss NAME (for this model and sample set, probably --loss mse)" in err
    assert "Received: no --loss." in err
    assert not (tmp_path / "none.npz").exists()

    code, _, err = run_cli(
        capsys, "landscape", data["plain"], "--data", data["data"], "--resolution", 3,
        "--loss", "mse", "--out", out,
    )  # fmt: skip
    assert code == 0, err
    result = np.load(out)
    assert result["metric_names"].tolist() == ["loss"]
    center = float(np.mean(_linear_errors(data["x"], data["y"], theta) ** 2))
    assert result["loss"][1, 1] == pytest.approx(center, rel=1e-5)

    code, _, err = run_cli(
        capsys, "landscape", data["plain"], "--data", data["data"], "--resolution", 3,
        "--loss", "not_a_loss", "--out", out,
    )  # fmt: skip
    assert code == 2 and "Unknown loss 'not_a_loss'" in err


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["--resolution", "2"], "Expected a resolution between 3 and 101. Received: 2."),
        (["--resolution", "102"], "Expected a resolution between 3 and 101. Received: 102."),
        (["--span", "0"], "Expected a positive span. Received: 0.0."),
        (["--num-samples", "0"], "Expected --num-samples between 1 and 4096. Received: 0."),
        (["--directions", "pca"], "Expected --run DIR with --directions pca"),
        (["--run", "nowhere"], "Expected a recorded run folder. Received: 'nowhere'"),
        (["--figure", "plane.jpg"], "Received: 'plane.jpg'"),
    ],
)
def test_landscape_refuses_bad_arguments_with_exit_2(
    capsys, tmp_path, linear_regression, argv, reason
):
    data = linear_regression
    out = tmp_path / "plane.npz"
    code, out_text, err = run_cli(
        capsys, "landscape", data["compiled"], "--data", data["data"], *argv, "--out", out
    )
    assert code == 2 and reason in err, err
    assert err.startswith("neurogenesis landscape: ") and len(err.strip().splitlines()) == 1
    assert not out_text and not out.exists()


def test_landscape_target_is_x_for_an_autoencoder(capsys, tmp_path):
    import keras
    import numpy as np

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(2, name="code"), keras.layers.Dense(4)]
    )
    model.save(tmp_path / "autoencoder.keras")
    x = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    expected = float(np.mean((model.predict(x, verbose=0).astype(np.float64) - x) ** 2))
    # With class labels for y (not shaped like the output) and with no y at all, the target is x.
    for name, arrays in (("labelled", {"y": np.arange(16) % 3}), ("bare", {})):
        np.savez(tmp_path / f"{name}.npz", x=x, **arrays)
        out = tmp_path / f"{name}_plane.npz"
        code, _, err = run_cli(
            capsys, "landscape", tmp_path / "autoencoder.keras", "--data",
            tmp_path / f"{name}.npz", "--loss", "mse", "--resolution", 3, "--out", out,
        )  # fmt: skip
        assert code == 0, err
        assert np.load(out)["loss"][1, 1] == pytest.approx(expected, rel=1e-5)

    # A model whose output is not shaped like x needs y.
    weather = np.load(ROOT / "data/samples/weather_lstm.npz")
    np.savez(tmp_path / "weather.npz", x=weather["x"][:8])
    code, _, err = run_cli(
        capsys, "landscape", ROOT / "models/weather_lstm.keras", "--data", tmp_path / "weather.npz",
        "--out", tmp_path / "no.npz",
    )  # fmt: skip
    assert code == 2 and "no labels (y)" in err and not (tmp_path / "no.npz").exists()


def test_landscape_pca_plane_of_a_recorded_run_on_the_digits_demo(capsys, tmp_path):
    """PCA directions from the demo run's checkpoints; one grid value checked against Keras."""
    import keras
    import numpy as np

    from neurogenesis.io.models import load_model

    model_path, samples = ROOT / "models/digits_cnn.keras", ROOT / "data/samples/digits_cnn.npz"
    out = tmp_path / "pca.npz"
    code, _, err = run_cli(
        capsys, "landscape", model_path, "--data", samples, "--directions", "pca",
        "--run", ROOT / "data/runs/digits_cnn/adam", "--resolution", 5, "--num-samples", 64,
        "--out", out,
    )  # fmt: skip
    assert code == 0, err
    assert err.startswith("Wrote the 5 x 5 pca landscape of sparse_categorical_crossentropy")
    result = np.load(out)
    model = load_model(model_path)
    size = sum(int(np.prod(v.shape)) for v in model.trainable_variables)
    assert result["direction_x"].shape == result["direction_y"].shape == (size,)
    # PCA directions are orthonormal.
    assert float(result["direction_x"] @ result["direction_y"]) == pytest.approx(0, abs=1e-4)
    assert np.linalg.norm(result["direction_x"]) == pytest.approx(1, rel=1e-4)
    labels = result["trajectory_labels"].tolist()
    assert labels[0] == "initial" and len(labels) == len(result["trajectory"]) >= 3
    assert result["explained_variance"].shape == (2,)
    # The grid covers the path, and the loss falls along it.
    assert result["alphas"][0] <= result["trajectory"][:, 0].min()
    assert result["alphas"][-1] >= result["trajectory"][:, 0].max()
    assert result["trajectory_values"][0, 0] > result["trajectory_values"][0, -1]

    # loss[i, j] is the loss at theta + alphas[i] * direction_x + betas[j] * direction_y.
    i, j = 1, 3
    moved = (
        np.concatenate([v.numpy().ravel() for v in model.trainable_variables])
        + result["alphas"][i] * result["direction_x"]
        + result["betas"][j] * result["direction_y"]
    )
    start = 0
    for variable in model.trainable_variables:
        count = int(np.prod(variable.shape))
        variable.assign(moved[start : start + count].reshape(variable.shape))
        start += count
    data = np.load(samples)
    probabilities = model.predict(data["x"][:64], verbose=0)
    expected = float(
        keras.losses.sparse_categorical_crossentropy(data["y"][:64], probabilities).numpy().mean()
    )
    assert result["loss"][i, j] == pytest.approx(expected, rel=1e-4)

    # Another model's run does not fit.
    code, _, err = run_cli(
        capsys, "landscape", model_path, "--data", samples, "--directions", "pca",
        "--run", ROOT / "data/runs/shapes_cnn/adam", "--resolution", 3, "--out", tmp_path / "no.npz",
    )  # fmt: skip
    assert code == 2 and "does not fit this model" in err


def test_landscape_writes_the_figure(capsys, tmp_path, linear_regression):
    data = linear_regression
    figure = tmp_path / "figures" / "plane.html"
    code, _, err = run_cli(
        capsys, "landscape", data["compiled"], "--data", data["data"], "--resolution", 3,
        "--out", tmp_path / "plane.npz", "--figure", figure,
    )  # fmt: skip
    assert code == 0, err
    assert "plotly" in figure.read_text().lower() and "Wrote the landscape to" in err


def test_landscape_help_states_the_analysis_defaults():
    from neurogenesis.analysis import landscape

    result = subprocess.run(
        [sys.executable, "-m", "neurogenesis", "landscape", "--help"],
        capture_output=True, text=True, check=False, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    text = " ".join(result.stdout.split())
    assert f"(default {landscape.DEFAULT_RESOLUTION})" in text
    assert f"(default {landscape.DEFAULT_SPAN})" in text
    assert f"(default {landscape.DEFAULT_SEED})" in text
    assert f"(default {landscape.DEFAULT_NUM_SAMPLES})" in text
    assert f"at most {landscape.MAX_NUM_SAMPLES}" in text and "overrides" in text


# --- neurogenesis figures ------------------------------------------------------------------------

PAPER_FIGURE_NAMES = (
    "fig1_loss_landscape",
    "fig2_metric_correlation",
    "fig3_training_dynamics",
    "fig4_hyperparameter_surface",
    "fig5_model_complexity",
    "fig6_system_architecture",
    "fig7_convergence_analysis",
    "fig8_attention_evolution",
)


@pytest.mark.skipif(
    not (shutil.which("chromium") or shutil.which("google-chrome")), reason="needs a browser"
)
def test_figures_writes_the_papers_eight_figures_as_png_and_html(capsys, tmp_path):
    out = tmp_path / "paper" / "figures"  # missing folders are made
    code, stdout, err = run_cli(
        capsys, "figures", "--out", out, "--style", "publication", "--resolution", 5,
        "--num-samples", 64, "--scale", 1,
    )  # fmt: skip
    assert code == 0, err
    expected = sorted(f"{name}.{fmt}" for name in PAPER_FIGURE_NAMES for fmt in ("png", "html"))
    assert sorted(path.name for path in out.iterdir()) == expected
    for name in PAPER_FIGURE_NAMES:
        png = (out / f"{name}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(png[16:20], "big") == 1200  # width x scale 1
        assert (out / f"{name}.html").read_text().startswith("<!doctype html>")
        assert f"{name} (" in stdout
    assert "Wrote 8 of 8 figures" in err and "warning" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--formats", "png,gif"], "Received: png, gif"),
        (["--resolution", "200"], "resolution between 3 and 101"),
        (["--num-samples", "0"], "between 1 and 4096"),
        (["--scale", "0"], "positive --scale"),
    ],
)
def test_figures_refuses_bad_options_in_one_line(capsys, tmp_path, argv, message):
    code, _, err = run_cli(capsys, "figures", "--out", tmp_path / "out", *argv)
    assert code == 2 and message in err
    assert err.startswith("neurogenesis figures: ") and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_figures_help_states_the_defaults():
    from neurogenesis import figures

    result = subprocess.run(
        [sys.executable, "-m", "neurogenesis", "figures", "--help"],
        capture_output=True, text=True, check=False, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    text = " ".join(result.stdout.split())
    assert f"(default {figures.DEFAULT_LANDSCAPE_RESOLUTION})" in text
    assert f"(default {figures.DEFAULT_LANDSCAPE_SAMPLES})" in text
    assert f"(default {','.join(figures.DEFAULT_FORMATS)})" in text
    assert "HTML files are still written" in text and "exit code is 0" in text


# --- landscape on models of several inputs ---------------------------------------------------


def test_landscape_of_a_two_input_model_is_its_own_loss(capsys, tmp_path):
    """The two-input classifier's sample set (arrays named image and meta): the loss at the
    trained weights and at a corner is the crossentropy of the model's call on both inputs."""
    import numpy as np

    from neurogenesis.io.models import load_model
    from neurogenesis.testing import write_multi_input_cases

    cases = write_multi_input_cases(tmp_path / "cases")
    model_path, samples_path = cases["two_input"]
    out = tmp_path / "plane.npz"
    code, _, err = run_cli(
        capsys, "landscape", model_path, "--data", samples_path, "--resolution", 3,
        "--num-samples", 20, "--out", out,
    )  # fmt: skip
    assert code == 0, err
    result = np.load(out)
    data = np.load(samples_path)
    image, meta, y = data["image"][:20], data["meta"][:20], data["y"][:20]
    model = load_model(model_path)

    def crossentropy(probabilities):
        p = np.asarray(probabilities, np.float64)
        return float(-np.mean(np.log(p[np.arange(len(y)), y])))

    center = crossentropy(model([image, meta], training=False))
    assert float(result["center_loss"]) == pytest.approx(center, abs=1e-5)
    assert result["metric_names"].tolist() == ["loss", "accuracy"]
    theta = np.concatenate([v.numpy().ravel() for v in model.trainable_variables])
    moved = (
        theta
        + result["alphas"][0] * result["direction_x"]
        + result["betas"][2] * result["direction_y"]
    )
    start = 0
    for variable in model.trainable_variables:
        size = int(np.prod(variable.shape))
        variable.assign(moved[start : start + size].reshape(variable.shape))
        start += size
    corner = crossentropy(model([image, meta], training=False))
    assert result["loss"][0, 2] == pytest.approx(corner, abs=1e-5)

    # A backbone answers features: said in one line, nothing written.
    if "bert" in cases:
        code, _, err = run_cli(
            capsys, "landscape", cases["bert"][0], "--data", cases["bert"][1], "--out",
            tmp_path / "bert.npz",
        )  # fmt: skip
        assert code == 2 and "is features, not predictions of the labels" in err
        assert not (tmp_path / "bert.npz").exists()


def test_landscape_of_a_chosen_output(capsys, tmp_path):
    """``--output head_2`` of a two-output model saved without a loss: binary crossentropy from
    its sigmoid and the 0/1 labels (a note says so), the loss of the model's second output."""
    import keras
    import numpy as np

    from neurogenesis.testing import tiny_branching_model

    model = tiny_branching_model()
    model.save(tmp_path / "branching.keras")
    rng = np.random.default_rng(2)
    a = rng.normal(size=(10, 6)).astype("float32")
    b = rng.normal(size=(10, 4)).astype("float32")
    y = (b[:, 0] > 0).astype("int64")
    np.savez(tmp_path / "branching.npz", a=a, b=b, y=y)
    out = tmp_path / "head_2.npz"
    code, _, err = run_cli(
        capsys, "landscape", tmp_path / "branching.keras", "--data", tmp_path / "branching.npz",
        "--output", "head_2", "--resolution", 3, "--out", out,
    )  # fmt: skip
    assert code == 0, err
    assert "holds no loss for the output 'head_2'; evaluating binary_crossentropy" in err
    result = np.load(out)
    probabilities = np.asarray(model([a, b], training=False)[1])
    expected = float(np.mean(keras.losses.binary_crossentropy(y[:, None], probabilities)))
    assert str(result["loss_name"]) == "binary_crossentropy"
    assert float(result["center_loss"]) == pytest.approx(expected, abs=1e-5)
    assert result["loss"][1, 1] == pytest.approx(expected, abs=1e-5)
