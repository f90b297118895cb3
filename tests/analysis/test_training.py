"""Pairing training and validation series across log formats."""

from __future__ import annotations

import numpy as np
import pytest

from neurogenesis.analysis.training import curves_info, metric_names, split_tag
from neurogenesis.io.logs import read_run
from neurogenesis.testing import write_csv_log, write_json_history


@pytest.mark.parametrize(
    ("tag", "run", "expected"),
    [
        ("loss", "training.csv", ("train", "loss")),
        ("val_loss", "training.csv", ("validation", "loss")),
        ("val_accuracy", "h.json", ("validation", "accuracy")),
        ("train/loss", "digits/adam", ("train", "loss")),
        ("validation/accuracy", "digits/adam", ("validation", "accuracy")),
        ("epoch_loss", "logs/train", ("train", "loss")),
        ("epoch_loss", "logs/validation", ("validation", "loss")),
        ("gradient_norm/dense/kernel", "digits/adam", ("other", "gradient_norm/dense/kernel")),
    ],
)
def test_split_tag(tag, run, expected):
    assert split_tag(tag, run) == expected


def test_curves_pair_train_and_validation_and_keep_nan(tmp_path):
    history = {
        "loss": [1.0, 0.5, float("nan")],
        "val_loss": [1.2, 0.8, 0.9],
        "accuracy": [0.1, 0.5, 0.6],
    }
    csv_run = read_run(write_csv_log(tmp_path / "a.csv", history), use_cache=False)
    json_run = read_run(
        write_json_history(tmp_path / "b.json", {"loss": [2.0, 1.0]}), use_cache=False
    )
    assert metric_names([csv_run, json_run]) == ["loss", "accuracy"]
    info = curves_info([csv_run, json_run], "loss")
    assert [(curve.run, curve.role, curve.tag) for curve in info.curves] == [
        ("a.csv", "train", "loss"),
        ("a.csv", "validation", "val_loss"),
        ("b.json", "train", "loss"),
    ]
    train = info.curves[0]
    assert train.steps.tolist() == [0, 1, 2]
    assert np.isnan(train.values[2]) and train.first_nonfinite_step == 2
    assert info.curves[1].first_nonfinite_step is None
    assert info.last_wall_time is None  # CSV and JSON carry no wall times
