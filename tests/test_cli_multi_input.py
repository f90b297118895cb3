"""CLI verbs on models of several inputs (issue 21): adversarial, compare and inspect, checked
against the models' own calls."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurogenesis import cli
from neurogenesis.testing import (
    tiny_branching_model,
    two_input_classifier,
    two_input_samples,
    write_multi_input_cases,
)


def run_cli(capsys, *argv):
    code = cli.main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return write_multi_input_cases(tmp_path_factory.mktemp("cli-multi"))


def test_adversarial_on_two_inputs_attacks_the_image_and_keeps_meta(capsys, cases, tmp_path):
    import keras

    model_path, samples = cases["two_input"]
    out = tmp_path / "adv.npz"
    code, printed, err = run_cli(
        capsys, "adversarial", model_path, "--data", samples, "--method", "fgsm",
        "--epsilon", "0.05", "--out", out, "--json",
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads(printed)
    assert summary["attacked_input"] == "image"
    data, attacked = np.load(samples), np.load(out)
    np.testing.assert_array_equal(attacked["meta"], data["meta"])
    assert np.abs(attacked["image"] - data["image"]).max() <= 0.05 + 1e-6
    model = keras.saving.load_model(model_path)
    own = np.asarray(model([attacked["image"], attacked["meta"]])).argmax(axis=1)
    assert summary["adversarial_accuracy"] == pytest.approx(np.mean(own == data["y"]))
    clean = np.asarray(model([data["image"], data["meta"]])).argmax(axis=1)
    assert summary["clean_accuracy"] == pytest.approx(np.mean(clean == data["y"]))


def test_adversarial_output_option_scores_the_chosen_output(capsys, tmp_path):
    model = tiny_branching_model()
    path = tmp_path / "branching.keras"
    model.save(path)
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(16, 6)).astype("float32"), rng.normal(size=(16, 4)).astype("float32")
    samples = tmp_path / "ab.npz"
    np.savez(samples, a=a, b=b)
    results = {}
    for output in ("head_1", "head_2"):
        code, printed, err = run_cli(
            capsys, "adversarial", path, "--data", samples, "--method", "fgsm",
            "--epsilon", "0.1", "--output", output, "--out", tmp_path / f"{output}.npz", "--json",
        )  # fmt: skip
        assert code == 0, err
        results[output] = json.loads(printed)
    head_1, head_2 = (np.asarray(o) for o in model([a, b]))
    # head_1: two linear units, scored as a regression against its own clean outputs; head_2 a
    # sigmoid unit, a binary classifier. The attacked set, fed back, gives the printed error.
    assert results["head_1"]["clean_error"] == pytest.approx(0.0)
    attacked = np.load(tmp_path / "head_1.npz")
    moved = np.asarray(model([attacked["a"], attacked["b"]])[0])
    assert results["head_1"]["adversarial_error"] == pytest.approx(
        np.abs(moved - head_1).mean(), rel=1e-4
    )
    assert results["head_2"]["clean_error"] is None
    assert results["head_2"]["clean_accuracy"] == pytest.approx(1.0)


def test_compare_two_input_models(capsys, cases, tmp_path):
    import keras

    model_path, samples = cases["two_input"]
    other = two_input_classifier("other")
    other.save(tmp_path / "other.keras")
    code, out, err = run_cli(
        capsys, "compare", model_path, tmp_path / "other.keras", "--data", samples,
        "--resamples", 200, "--json",
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    data = np.load(samples)
    mine = np.asarray(keras.saving.load_model(model_path)([data["image"], data["meta"]]))
    theirs = np.asarray(other([data["image"], data["meta"]]))
    assert report["accuracy_a"] == pytest.approx(np.mean(mine.argmax(1) == data["y"]))
    assert report["accuracy_b"] == pytest.approx(np.mean(theirs.argmax(1) == data["y"]))


def test_inspect_lists_inputs_and_outputs(capsys, tmp_path):
    model = tiny_branching_model()
    model.save(tmp_path / "branching.keras")
    code, out, err = run_cli(capsys, "inspect", tmp_path / "branching.keras", "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["inputs"] == [
        {"name": "a", "shape": [None, 6], "dtype": "float32"},
        {"name": "b", "shape": [None, 4], "dtype": "float32"},
    ]
    assert payload["outputs"] == [
        {"name": "head_1", "shape": [None, 2]},
        {"name": "head_2", "shape": [None, 1]},
    ]
    assert payload["input_shapes"] and payload["output_shapes"]
    code, out, err = run_cli(capsys, "inspect", tmp_path / "branching.keras")
    assert "Input  a: (None, 6) float32" in out and "Output head_2: (None, 1)" in out
    two = two_input_classifier()
    two.save(tmp_path / "two.keras")
    _, out, _ = run_cli(capsys, "inspect", tmp_path / "two.keras", "--json")
    names = [entry["name"] for entry in json.loads(out)["inputs"]]
    assert names == ["image", "meta"] and two_input_samples(2)["image"].shape[1:] == (8, 8, 1)
