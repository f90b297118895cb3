"""The demo zoo: a quick rebuild, and the committed artifacts match what the zoo declares."""

from __future__ import annotations

import json

import numpy as np

from neurogenesis.io.samples import load_samples
from neurogenesis.workspace import DEMO_DATA_DIR, DEMO_MODELS_DIR
from neurogenesis.zoo import SCENARIOS, build_digits_cnn
from neurogenesis.zoo.digits import digits_data


def test_digits_data_is_the_real_set_split_80_20():
    (x_train, y_train), (x_test, y_test) = digits_data()
    assert len(x_train) + len(x_test) == 1797
    assert x_test.shape[1:] == (8, 8, 1) and x_train.min() >= 0.0 and x_train.max() <= 1.0
    assert sorted(set(y_test.tolist())) == list(range(10))


def test_quick_build_writes_model_runs_and_samples(tmp_path):
    facts = build_digits_cnn(tmp_path / "models", tmp_path / "data", epochs=1)
    assert (tmp_path / "models" / "digits_cnn.keras").is_file()
    card = json.loads((tmp_path / "models" / "digits_cnn.json").read_text())
    assert (
        card["epochs"] == 1
        and 0.0 <= card["test_accuracy"] <= 1.0
        and card["test_accuracy"] == facts["test_accuracy"]
    )
    run = tmp_path / "data" / "runs" / "digits_cnn"
    assert any(path.name.startswith("events.out.tfevents") for path in (run / "train").iterdir())
    assert (run / "training.csv").read_text().splitlines()[0].startswith("epoch,")
    samples = load_samples(tmp_path / "data" / "samples" / "digits.npz")
    assert samples.kind == "image" and len(samples) == 360


def test_committed_demos_match_the_zoo():
    for name in SCENARIOS:
        card = json.loads((DEMO_MODELS_DIR / f"{name}.json").read_text())
        assert (DEMO_MODELS_DIR / f"{name}.keras").is_file()
        assert card["test_accuracy"] > 0.9
        csv_lines = (
            (DEMO_DATA_DIR / "runs" / name / "training.csv").read_text().strip().splitlines()
        )
        assert len(csv_lines) == 1 + card["epochs"]
    samples = load_samples(DEMO_DATA_DIR / "samples" / "digits.npz")
    (_, _), (x_test, y_test) = digits_data()
    assert np.array_equal(samples.x, x_test) and np.array_equal(samples.y, y_test)
