"""neurogenesis.plotting.runs: the tables Home shows of runs, built from hand-made runs."""

from __future__ import annotations

import numpy as np

from neurogenesis.analysis.training import curves_info
from neurogenesis.io.logs import Problem, Run, ScalarSeries
from neurogenesis.plotting.runs import (
    curves_table,
    last_values,
    main_tags,
    problems_table,
    runs_table,
)


def _series(tag: str, values) -> ScalarSeries:
    values = np.asarray(values, dtype=np.float64)
    steps = np.arange(len(values))
    return ScalarSeries(tag, steps, values, np.full(len(values), np.nan), np.zeros(len(values)))


def _run(name: str, scalars: dict, problems=()) -> Run:
    return Run(
        name=name,
        path=f"/runs/{name}",
        format="json",
        scalars={tag: _series(tag, values) for tag, values in scalars.items()},
        histograms={},
        problems=tuple(problems),
        files=(),
    )


ADAM = _run(
    "adam",
    {
        "accuracy": [0.5, 0.9, 0.95],
        "loss": [1.0, 0.2, 0.0319],
        "val_loss": [1.1, 0.3, 0.0406],
        "learning_rate": [0.001] * 3,
    },
)
BROKEN = _run(
    "broken",
    {"loss": [0.5, float("nan")]},
    [Problem("truncated", "/runs/broken/history.json", "The file ends early.", offset=120)],
)


def test_main_tags_put_losses_first_and_learning_rates_last():
    assert main_tags(["learning_rate", "accuracy", "val_loss", "loss", "batch_loss"]) == [
        "loss",
        "val_loss",
        "accuracy",
        "batch_loss",
    ]


def test_last_values_pair_training_and_validation():
    assert last_values(ADAM) == "loss 0.0319 / 0.0406 · accuracy 0.95"
    assert last_values(BROKEN) == "loss nan (diverged)"
    only_validation = _run("v", {"val_acc": [0.7, 0.8]})
    assert last_values(only_validation) == "acc — / 0.8"


def test_runs_table_rows_and_dropped_columns():
    table = runs_table([("demo logs", ADAM, True), ("demo logs", BROKEN, False)], model="digits")
    # One source: its column adds nothing and is left out; the model names its own runs.
    assert list(table.columns) == [
        "run",
        "format",
        "model",
        "last step",
        "points",
        "last values (train / validation)",
        "histograms",
        "problems",
    ]
    assert table["model"].tolist() == ["digits", ""]
    assert table["last step"].tolist() == ["2", "1"]
    assert table["points"].tolist() == ["3", "2"]
    assert table["problems"].tolist() == ["0", "1"]
    assert all(isinstance(value, str) for value in table.to_numpy().ravel())  # text throughout
    two_sources = runs_table([("a", ADAM, False), ("b", BROKEN, False)], model="digits")
    assert "source" in two_sources and "model" not in two_sources  # no run is the model's
    assert "model" not in runs_table([("a", ADAM, False)])
    assert runs_table([]).empty


def test_problems_and_curves_tables():
    problems = problems_table(BROKEN)
    assert problems.loc[0, "kind"] == "truncated" and problems.loc[0, "offset"] == "120"
    info = curves_info([ADAM], "loss")
    table = curves_table(info)
    assert list(table.columns) == ["run", "role", "step", "loss"]
    assert len(table) == 6  # training and validation, three epochs each
    train = table[table["role"] == "train"]
    assert train["loss"].tolist() == [1.0, 0.2, 0.0319]


def test_sample_set_text():
    from types import SimpleNamespace

    from neurogenesis.plotting.runs import sample_set_text

    class Samples(SimpleNamespace):
        def __len__(self):
            return len(self.x)

    labelled = Samples(
        name="digits", kind="image", x=np.zeros((1797, 8, 8, 1)), y=np.arange(1797) % 10
    )
    assert (
        sample_set_text(labelled)
        == "digits: 1,797 image sample(s), each (8, 8, 1), 10 label value(s)"
    )
    unlabelled = Samples(name="notes", kind="text", x=np.zeros((3, 16)), y=None)
    assert sample_set_text(unlabelled) == "notes: 3 text sample(s), each (16), no labels"


def test_sample_set_text_of_several_inputs():
    from neurogenesis.io.samples import SampleSet, pack_inputs
    from neurogenesis.plotting.runs import sample_set_text

    x = pack_inputs(
        {"token_ids": np.zeros((5, 12), "int32"), "padding_mask": np.ones((5, 12), bool)}
    )
    samples = SampleSet("reviews", "inputs", x, np.array([0, 1, 0, 1, 1]), None, "r.npz")
    assert sample_set_text(samples) == (
        "reviews: 5 sample(s) of 2 inputs (token_ids (12), padding_mask (12)), 2 label value(s)"
    )
