"""The demo zoo: a quick rebuild of every scenario, the committed artifacts against what the zoo
declares, the generated data sets' ground truth, and live training's stop file."""

from __future__ import annotations

import io
import json
import re
import time
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest

from neurogenesis.analysis.sweeps import SweepInfo
from neurogenesis.errors import InputError
from neurogenesis.io.logs import find_runs
from neurogenesis.io.samples import load_samples
from neurogenesis.workspace import DEMO_DATA_DIR, DEMO_MODELS_DIR, demo_workspace
from neurogenesis.zoo import SCENARIO_NAMES, SCENARIOS, Scenario, scenario_width_sweep
from neurogenesis.zoo.common import sweep_run_name
from neurogenesis.zoo.digits import (
    DIVERGING_RUN,
    OVERFIT_EPOCHS,
    OVERFIT_RUN,
    SEED_RECIPES,
    SEEDS,
    STORY_RUNS,
    VARIANTS,
    digits_data,
)
from neurogenesis.zoo.sentiment import (
    INTENSIFIERS,
    NEGATIONS,
    NEGATIVE_WORDS,
    POSITIVE_WORDS,
    make_corpus,
    rule_label,
    tokenize,
    vocabulary,
)
from neurogenesis.zoo.shapes import LABEL_NAMES as SHAPE_NAMES
from neurogenesis.zoo.shapes import make_shapes

MAX_COMMITTED_BYTES = 30 * 1024**2
TASKS = {"image classification", "text classification", "forecasting", "generative"}
EXPECTED_SCENARIOS = (
    "digits_cnn",
    "shapes_cnn",
    "sentiment_transformer",
    "weather_lstm",
    "digits_vae",
)


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _loss_points(run) -> int:
    """Epochs a run logged: points of its loss series, whatever the format names it."""
    for tag in ("train/loss", "epoch_loss", "loss"):
        if tag in run.scalars:
            return run.scalars[tag].num_points
    raise AssertionError(f"no loss series in {run.name}: {sorted(run.scalars)}")


def _validation_tags(run) -> list[str]:
    return [tag for tag in run.scalars if tag.startswith("validation/")]


def _check_recorded_run(run_dir: Path, epochs: int, metrics: set[str]) -> None:
    """A RunRecorder folder: every epoch of every train and validation metric."""
    runs = find_runs(run_dir)
    assert len(runs) == 1, [run.name for run in runs]
    run = runs[0]
    assert run.format == "neurogenesis" and not run.problems
    for metric in metrics:
        for split in ("train", "validation"):
            series = run.scalars[f"{split}/{metric}"]
            assert series.num_points == epochs, (run_dir, metric, split, series.num_points)
            assert np.all(np.isfinite(series.values))


def _check_keras_callbacks_run(run_dir: Path, epochs: int) -> None:
    runs = {run.name.rsplit("/", 1)[-1]: run for run in find_runs(run_dir)}
    assert {"train", "validation", "training.csv"} <= set(runs)
    for name in ("train", "validation"):
        assert runs[name].scalars["epoch_loss"].num_points == epochs
        assert runs[name].scalars["epoch_accuracy"].num_points == epochs
    assert runs["train"].histograms, "TensorBoard(histogram_freq=1) wrote no histograms"
    assert _loss_points(runs["training.csv"]) == epochs


def _history_tag(key: str) -> str:
    return f"validation/{key[4:]}" if key.startswith("val_") else f"train/{key}"


def _check_sweep(sweep_dir: Path, scenario: str) -> dict:
    summary = json.loads((sweep_dir / "sweep.json").read_text())
    assert summary["scenario"] == scenario
    assert summary["goal"] in ("max", "min") and summary["metric"].startswith("val_")
    on_disk = sorted(p.name for p in sweep_dir.iterdir() if p.is_dir())
    assert on_disk == sorted(point["run"] for point in summary["points"])
    runs = {run.name: run for run in find_runs(sweep_dir)}
    assert set(runs) == set(on_disk)
    for point in summary["points"]:
        assert set(point["params"]) == set(summary["parameters"])
        assert point["run"] == sweep_run_name(point["params"])
        run = runs[point["run"]]
        manifest = json.loads((sweep_dir / point["run"] / "neurogenesis_run.json").read_text())
        assert _manifest_hyperparameters(manifest).items() >= point["params"].items()
        assert not run.histograms, "sweep points are recorded light, without histograms"
        for key, value in point["final"].items():
            series = run.scalars[_history_tag(key)]
            assert series.num_points == summary["epochs"]
            assert series.values[-1] == pytest.approx(value, rel=1e-4, abs=1e-6)
        best = point["best"]
        series = run.scalars[_history_tag(summary["metric"])]
        choose = np.max if summary["goal"] == "max" else np.min
        assert best[summary["metric"]] == pytest.approx(choose(series.values), rel=1e-4)
        assert 1 <= best["epoch"] <= summary["epochs"]
    return summary


def _manifest_hyperparameters(manifest: dict) -> dict:
    found = manifest.get("hyperparameters")
    assert isinstance(found, dict), sorted(manifest)
    return found


def _test_metric(card: dict, model, samples) -> float:
    prediction = np.asarray(model.predict(samples.x, verbose=0))
    name = card["test_metric"]["name"]
    if name == "accuracy":
        return float(np.mean(prediction.argmax(axis=-1) == samples.y))
    if name == "mae":
        return float(np.mean(np.abs(prediction[:, 0] - samples.y)))
    if name == "reconstruction_mse":
        return float(np.mean((prediction - samples.x) ** 2))
    raise AssertionError(f"unknown test metric {name}")


def _check_scenario_files(models_dir: Path, data_dir: Path, name: str, *, quick: bool) -> dict:
    model_path = models_dir / f"{name}.keras"
    card = json.loads(model_path.with_suffix(".json").read_text())
    assert model_path.is_file() and card["name"] == name and card["quick"] is quick
    scenario = SCENARIOS[name]
    assert (card["title"], card["dataset"], card["task"]) == (
        scenario.title,
        scenario.dataset,
        scenario.task,
    )
    assert card["seed"] == 7 and card["epochs"] >= 1
    assert card["samples"] == f"data/samples/{name}.npz"
    assert (data_dir / "samples" / f"{name}.npz").is_file()
    assert card["runs"] and all(run.startswith(f"data/runs/{name}/") for run in card["runs"])
    listed = {run.rsplit("/", 1)[-1] for run in card["runs"]}
    stories = set(STORY_RUNS) if name == "digits_cnn" else set()
    assert listed | stories == {p.name for p in (data_dir / "runs" / name).iterdir()}
    for run in card["runs"]:
        run_dir = data_dir.parent / run
        if run_dir.name == "keras_callbacks":
            _check_keras_callbacks_run(run_dir, card["epochs"])
        else:
            metrics = {"loss", "accuracy"} if card["goal"] == "max" else {"loss"}
            metrics |= {"mae"} if card["test_metric"]["name"] == "mae" else set()
            _check_recorded_run(run_dir, card["epochs"], metrics)
    main_run = data_dir.parent / card["main_run"]
    assert (main_run / "model.keras").is_file()
    _check_sweep(data_dir / "sweeps" / name, name)
    return card


# --------------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------------


def test_registry_lists_the_five_scenarios():
    assert SCENARIO_NAMES == EXPECTED_SCENARIOS == tuple(SCENARIOS)
    for name, scenario in SCENARIOS.items():
        assert isinstance(scenario, Scenario) and scenario.name == name
        assert scenario.task in TASKS and scenario.default_epochs >= 1
        assert scenario.title and scenario.dataset and "\n" not in scenario.dataset
        assert callable(scenario.build) and callable(scenario.train)


def test_importing_the_zoo_does_not_import_tensorflow():
    import subprocess
    import sys

    code = (
        "import sys, neurogenesis.zoo; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]


# --------------------------------------------------------------------------------------------
# A quick rebuild of every scenario
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_build(tmp_path_factory):
    from neurogenesis.cli import main

    root = tmp_path_factory.mktemp("zoo")
    output = io.StringIO()
    with redirect_stdout(output):
        assert main(["demo", "--quick", "--output", str(root)]) == 0
    return root, output.getvalue()


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPECTED_SCENARIOS)
def test_quick_build_writes_every_artifact(quick_build, name):
    root, printed = quick_build
    assert re.search(rf"^{name}: test \w+ [-0-9.e]+ after \d+ epochs", printed, re.MULTILINE)
    card = _check_scenario_files(root / "models", root / "data", name, quick=True)
    from neurogenesis.io.models import load_model

    model = load_model(root / "models" / f"{name}.keras")
    samples = load_samples(root / "data" / "samples" / f"{name}.npz")
    assert _test_metric(card, model, samples) == pytest.approx(
        card["test_metric"]["value"], abs=2e-3
    )


@pytest.mark.slow
def test_quick_build_offers_runs_and_sweeps_in_the_demo_workspace(quick_build):
    root, _ = quick_build
    workspace = demo_workspace(root / "models", root / "data")
    assert [s.label for s in workspace.logs] == ["demo runs", "demo sweeps"]
    assert [s.label for s in workspace.models] == sorted(EXPECTED_SCENARIOS)
    assert all(s.description for s in workspace.models)
    assert {s.label for s in workspace.samples} == set(EXPECTED_SCENARIOS)


# --------------------------------------------------------------------------------------------
# The committed artifacts match what the zoo declares
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EXPECTED_SCENARIOS)
def test_committed_scenario_matches_its_card(name):
    from neurogenesis.io.models import load_model

    card = _check_scenario_files(DEMO_MODELS_DIR, DEMO_DATA_DIR, name, quick=False)
    assert card["epochs"] == SCENARIOS[name].default_epochs
    model = load_model(DEMO_MODELS_DIR / f"{name}.keras")
    samples = load_samples(DEMO_DATA_DIR / "samples" / f"{name}.npz")
    assert tuple(model.input_shape[1:]) == samples.x.shape[1:]
    assert list(model.input_shape) == card["input_shape"]
    prediction = np.asarray(model.predict(samples.x[:8], verbose=0))
    assert prediction.shape[0] == 8 and np.all(np.isfinite(prediction))
    if card["label_names"] is not None:
        assert samples.label_names == tuple(card["label_names"])
        assert samples.y.min() >= 0 and samples.y.max() < len(card["label_names"])
    if card["task"].endswith("classification"):
        assert prediction.shape == (8, len(card["label_names"]))
    # The sample sets are the test splits: the card's test metric is reproduced from them.
    assert _test_metric(card, model, samples) == pytest.approx(
        card["test_metric"]["value"], abs=2e-3, rel=1e-3
    )


def test_committed_test_metrics_are_good():
    cards = {
        name: json.loads((DEMO_MODELS_DIR / f"{name}.json").read_text())["test_metric"]
        for name in EXPECTED_SCENARIOS
    }
    assert cards["digits_cnn"]["value"] > 0.95
    assert cards["shapes_cnn"]["value"] > 0.85
    assert cards["sentiment_transformer"]["value"] > 0.97
    weather = json.loads((DEMO_MODELS_DIR / "weather_lstm.json").read_text())
    assert cards["weather_lstm"]["value"] < weather["persistence_mae"]
    assert cards["digits_vae"]["value"] < 0.06


def test_committed_artifacts_stay_small():
    files = [p for folder in (DEMO_MODELS_DIR, DEMO_DATA_DIR) for p in folder.rglob("*")]
    total = sum(p.stat().st_size for p in files if p.is_file())
    assert total < MAX_COMMITTED_BYTES, f"{total / 1024**2:.1f} MiB"
    for path in (DEMO_DATA_DIR / "samples").glob("*.npz"):
        assert path.stat().st_size < 4 * 1024**2, path.name


def test_demo_workspace_offers_runs_sweeps_models_and_samples():
    workspace = demo_workspace()
    assert [s.label for s in workspace.logs] == ["demo runs", "demo sweeps"]
    described = {s.label: s.description for s in workspace.models}
    for name in EXPECTED_SCENARIOS:
        assert described[name].startswith(SCENARIOS[name].title + " — ")
    assert set(EXPECTED_SCENARIOS) <= {s.label for s in workspace.samples}


def test_logs_command_lists_the_demo_runs_most_with_histograms():
    from neurogenesis.cli import main

    output = io.StringIO()
    with redirect_stdout(output):
        assert main(["logs", str(DEMO_DATA_DIR), "--json"]) == 0
    runs = json.loads(output.getvalue())["runs"]
    demo_runs = [run for run in runs if run["name"].startswith("runs/")]
    assert len(demo_runs) >= 4
    with_histograms = [run for run in demo_runs if run["histograms"]]
    assert len(with_histograms) > len(demo_runs) / 2
    assert not [run for run in runs if run["problems"]]
    sweeps = [run for run in runs if run["name"].startswith("sweeps/")]
    assert len(sweeps) >= 12 * len(EXPECTED_SCENARIOS)


DIGITS_RUNS = Path(DEMO_DATA_DIR) / "runs" / "digits_cnn"


def _series(run: str, tag: str) -> np.ndarray:
    (found,) = find_runs(DIGITS_RUNS / run)
    return np.asarray(found.scalars[tag].values, dtype=float)


def test_committed_overfit_story_has_a_validation_minimum_then_a_rise():
    validation = _series(OVERFIT_RUN, "validation/loss")
    train = _series(OVERFIT_RUN, "train/loss")
    assert validation.size == train.size == OVERFIT_EPOCHS
    best = int(np.argmin(validation))
    # The minimum is early, the last value clearly above it, and training loss still falls.
    assert 2 <= best <= OVERFIT_EPOCHS // 2
    assert validation[-1] > 1.15 * validation[best]
    assert np.all(np.diff(validation[best + 5 :]) > -0.01)  # rising, allowing small wiggles
    assert train[-1] < 0.1 * train[best] and train[-1] < 0.01
    manifest = json.loads((DIGITS_RUNS / OVERFIT_RUN / "neurogenesis_run.json").read_text())
    assert manifest["hyperparameters"]["batch_norm"] is False
    assert manifest["hyperparameters"]["dropout"] == 0.0


def test_committed_diverging_story_records_the_nan_epoch():
    train = _series(DIVERGING_RUN, "train/loss")
    validation = _series(DIVERGING_RUN, "validation/loss")
    rates = _series(DIVERGING_RUN, "learning_rate")
    nan_epoch = int(np.argmax(~np.isfinite(train)))
    # TerminateOnNaN ended training in the first NaN epoch, which was recorded; before it the
    # loss was finite, fell, then climbed with the learning rate (x10 per epoch).
    assert 3 <= nan_epoch == train.size - 1 < 12
    assert np.isnan(train[-1]) and np.isnan(validation[-1])
    assert np.all(np.isfinite(train[:-1])) and train[:-1].min() < 1.0 < train[-2]
    np.testing.assert_allclose(rates, 1e-3 * 10.0 ** np.arange(train.size), rtol=1e-5)
    manifest = json.loads((DIGITS_RUNS / DIVERGING_RUN / "neurogenesis_run.json").read_text())
    assert manifest["epochs_completed"] == nan_epoch + 1
    assert (
        f"loss became nan at epoch {nan_epoch} (its first non-finite value)." in manifest["notes"]
    )


def test_committed_seed_stories_differ_only_in_their_seed():
    from neurogenesis.analysis.training import seed_groups

    hyperparameters = {}
    for recipe in SEED_RECIPES:
        for seed in SEEDS:
            run = f"{recipe}_seed{seed}"
            manifest = json.loads((DIGITS_RUNS / run / "neurogenesis_run.json").read_text())
            assert manifest["model_file"] == "model.keras" and not manifest["checkpoints"]
            hyperparameters[run] = manifest["hyperparameters"]
            assert hyperparameters[run]["optimizer"] == VARIANTS[recipe][0]
            assert hyperparameters[run]["seed"] == seed
    groups = seed_groups(hyperparameters)
    assert sorted(len(members) for members in groups.values()) == [3, 3]
    assert sorted([label for _, label in members] for members in groups.values()) == [
        [f"{recipe}_seed{seed}" for seed in SEEDS] for recipe in SEED_RECIPES
    ]
    # Different seeds: different curves.
    finals = [_series(f"adam_seed{seed}", "validation/loss")[-1] for seed in SEEDS]
    assert len(set(finals)) == len(SEEDS)


def test_story_runs_stay_small():
    size = sum(p.stat().st_size for run in STORY_RUNS for p in (DIGITS_RUNS / run).rglob("*"))
    assert size < 3 * 1024**2


def test_digit_samples_are_the_real_test_split():
    (x_train, _), (x_test, y_test) = digits_data()
    assert len(x_train) + len(x_test) == 1797
    assert x_test.shape[1:] == (8, 8, 1) and x_train.min() >= 0.0 and x_train.max() <= 1.0
    for name in ("digits_cnn", "digits_vae"):
        samples = load_samples(DEMO_DATA_DIR / "samples" / f"{name}.npz")
        assert np.array_equal(samples.x, x_test) and np.array_equal(samples.y, y_test)


# --------------------------------------------------------------------------------------------
# Ground truth of the generated sets
# --------------------------------------------------------------------------------------------


def test_text_corpus_keyword_decides_and_negation_flips():
    corpus = make_corpus(400, seed=3)
    assert np.bincount(corpus["y"]).tolist() == [200, 200]
    positive, negative = set(POSITIVE_WORDS), set(NEGATIVE_WORDS)
    for text, label, keyword, negated in zip(
        corpus["text"], corpus["y"], corpus["keyword"], corpus["negated"], strict=True
    ):
        words = text.split()
        assert [w for w in words if w in positive | negative] == [keyword]
        assert negated == any(w in NEGATIONS for w in words)
        assert label == rule_label(text) == int((keyword in positive) != negated)
        swapped = sorted(negative if keyword in positive else positive)[0]
        assert rule_label(text.replace(keyword, swapped)) == 1 - label
        if negated:
            plain = " ".join(w for w in words if w not in NEGATIONS)
            assert rule_label(plain) == 1 - label
        else:
            at = words.index(keyword)
            assert rule_label(" ".join([*words[:at], "not", *words[at:]])) == 1 - label
        calm = " ".join(w for w in words if w not in INTENSIFIERS)
        assert rule_label(calm) == label


def test_text_samples_carry_tokens_vocabulary_and_rationale():
    with np.load(DEMO_DATA_DIR / "samples" / "sentiment_transformer.npz") as archive:
        data = {key: archive[key] for key in archive.files}
    vocab = tuple(data["vocabulary"].tolist())
    assert vocab == vocabulary() and vocab[:2] == ("[PAD]", "[UNK]")
    assert data["x"].dtype == np.int32 and np.array_equal(data["x"], tokenize(data["text"]))
    assert np.array_equal(data["tokens"], data["x"])
    for ids, text, rationale, label in zip(
        data["x"], data["text"], data["rationale"], data["y"], strict=True
    ):
        words = [vocab[i] for i in ids if i]
        assert " ".join(words) == text and label == rule_label(text)
        marked = [vocab[i] for i, flag in zip(ids, rationale, strict=True) if flag]
        assert marked == [w for w in words if w in NEGATIONS + POSITIVE_WORDS + NEGATIVE_WORDS]
        assert not rationale[len(words) :].any()


def test_text_model_follows_the_rule_with_and_without_negation():
    from neurogenesis.io.models import load_model

    model = load_model(DEMO_MODELS_DIR / "sentiment_transformer.keras")
    texts = [
        f"the movie was {neg}{word}"
        for word in POSITIVE_WORDS + NEGATIVE_WORDS
        for neg in ("", "not ", "never ", "not very ")
    ]
    predicted = model.predict(tokenize(texts), verbose=0).argmax(axis=-1)
    expected = np.array([rule_label(text) for text in texts])
    assert np.mean(predicted == expected) >= 0.9


def test_text_attention_skips_padding_and_learns_to_look_at_the_rationale():
    run = DEMO_DATA_DIR / "runs" / "sentiment_transformer" / "adam"
    manifest = json.loads((run / "neurogenesis_run.json").read_text())
    files = [entry["file"] for entry in manifest["attention"]]
    with np.load(DEMO_DATA_DIR / "samples" / "sentiment_transformer.npz") as archive:
        samples, rationale = archive["x"], archive["rationale"]
    with np.load(run / "probe.npz") as archive:
        probe = archive["x"]
    assert np.array_equal(probe, samples[: len(probe)]), "the probe is the first test sentences"

    def rationale_share(file: str) -> np.ndarray:
        with np.load(run / file) as archive:
            scores = {name: archive[name].astype(float) for name in archive.files}
        shares = []
        for values in scores.values():  # (batch, heads, query, key)
            words = probe[: len(values)] > 0
            marked = rationale[: len(values)]
            on_padding = (values * ~words[:, None, None, :]).sum(-1)[
                words[:, None, :].repeat(values.shape[1], 1)
            ]
            assert np.abs(on_padding).max() < 1e-3, "a head attends to padding"
            on_rationale = (values * marked[:, None, None, :]).sum(-1)
            query = words[:, None, :]
            shares.append((on_rationale * query).sum((0, 2)) / query.sum((0, 2)))
        return np.concatenate(shares)

    uniform = float(np.mean(rationale[:16].sum(1) / (probe[:16] > 0).sum(1)))
    first, last = rationale_share(files[0]), rationale_share(files[-1])
    assert first.max() < 1.5 * uniform < last.max()


def test_shapes_masks_are_inside_the_image_and_classes_balanced():
    x, y, masks = make_shapes(40, seed=11)
    assert x.shape == (200, 32, 32, 3) and x.dtype == np.uint8 and masks.dtype == bool
    assert np.bincount(y).tolist() == [40] * len(SHAPE_NAMES)
    area = masks.sum(axis=(1, 2))
    assert area.min() >= 20 and area.max() < 32 * 32 / 3
    border = (
        masks[:, 0].any() or masks[:, -1].any() or masks[:, :, 0].any() or masks[:, :, -1].any()
    )
    assert not border, "an object touches the border: part of it may be cut off"
    for image, mask in zip(x.astype(float), masks, strict=True):
        contrast = np.linalg.norm(image[mask].mean(axis=0) - image[~mask].mean(axis=0))
        assert contrast > 0.2 * 255, "the mask should cover the object, not background"
    again = make_shapes(40, seed=11)
    assert all(np.array_equal(a, b) for a, b in zip((x, y, masks), again, strict=True))


def test_committed_shape_samples_have_masks():
    samples = load_samples(DEMO_DATA_DIR / "samples" / "shapes_cnn.npz")
    assert samples.kind == "image" and samples.x.dtype == np.uint8
    with np.load(DEMO_DATA_DIR / "samples" / "shapes_cnn.npz") as archive:
        masks = archive["masks"]
    assert masks.shape == samples.x.shape[:3] and masks.any(axis=(1, 2)).all()
    assert np.bincount(samples.y).tolist() == [100] * len(SHAPE_NAMES)


# --------------------------------------------------------------------------------------------
# Live training: one recorded training per scenario, and the stop file
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPECTED_SCENARIOS)
def test_train_records_one_run(tmp_path, name):
    run_dir = tmp_path / "live"
    run_dir.mkdir()
    (run_dir / "train.log").write_text("kept\n")
    result = SCENARIOS[name].train(run_dir, epochs=1, seed=1)
    assert result["epochs"] == 1 and result["hyperparameters"]["seed"] == 1
    assert (run_dir / "train.log").read_text() == "kept\n"
    (run,) = find_runs(run_dir)
    assert _loss_points(run) == 1 and _validation_tags(run)
    from neurogenesis.io.models import load_model

    load_model(run_dir / "model.keras")


def test_train_honours_the_stop_file(tmp_path):
    (tmp_path / "STOP").touch()
    result = SCENARIOS["digits_cnn"].train(tmp_path, epochs=20)
    assert result["epochs"] <= 1


# --------------------------------------------------------------------------------------------
# Sweeps: incremental sweep.json, stop file, random points, any folder
# --------------------------------------------------------------------------------------------


class _Variable:
    """Enough of a Keras variable for restart_training."""

    def __init__(self, value: float):
        self.value = np.array(value, dtype="float32")
        self.shape, self.dtype = self.value.shape, self.value.dtype

    def numpy(self):
        return self.value.copy()

    def assign(self, value):
        self.value = np.array(value, dtype=self.dtype)


class _StandInModel:
    def __init__(self, **shape):
        self.shape = shape
        self.weights = [_Variable(shape.get("width", 0))]
        self.optimizer = type("Optimizer", (), {})()
        self.optimizer.variables = [_Variable(0.0)]
        self.optimizer.learning_rate = None


def _history(params: dict, epochs: int) -> dict[str, list[float]]:
    """A made-up history whose best val_accuracy is at epoch 2 of 3."""
    base = params["learning_rate"] * 100 + params.get("width", 0)
    return {
        "loss": [base + 3 - epoch for epoch in range(epochs)],
        "val_accuracy": [base + value for value in (0.1, 0.5, 0.3)[:epochs]],
    }


def _stand_in_sweep(sweep_dir, points, fit_point, **options):
    from neurogenesis.zoo.common import run_sweep

    built = []

    def build_model(**shape):
        built.append(shape)
        return _StandInModel(**shape)

    summary = run_sweep(
        "digits_cnn",
        sweep_dir,
        points=points,
        build_model=build_model,
        fit_point=fit_point,
        metric="val_accuracy",
        goal="max",
        epochs=3,
        **options,
    )
    return summary, built


def test_sweep_json_is_written_after_every_point(tmp_path):
    points = [
        {"learning_rate": 0.001, "width": 4},
        {"learning_rate": 0.001, "width": 8},
        {"learning_rate": 0.003, "width": 4},
    ]
    run_order = [points[0], points[2], points[1]]  # grouped by width: one model per width
    seen = []

    def fit_point(model, run_dir, params):
        summary = json.loads((tmp_path / "sweep.json").read_text())
        assert summary["status"] == "running" and summary["planned"] == run_order
        assert [point["params"] for point in summary["points"]] == [
            point for point in points if point in seen
        ]
        assert model.shape == {"width": params["width"]}
        assert model.optimizer.learning_rate == params["learning_rate"]
        seen.append(params)
        run_dir.mkdir()
        return _history(params, 3)

    summary, built = _stand_in_sweep(tmp_path, points, fit_point)
    assert seen == run_order and built == [{"width": 4}, {"width": 8}]
    assert json.loads((tmp_path / "sweep.json").read_text()) == summary
    assert summary["status"] == "finished" and summary["parameters"] == ["learning_rate", "width"]
    assert [point["params"] for point in summary["points"]] == points  # in the order given
    first = summary["points"][0]
    assert first["run"] == "lr_0.001_width_4"
    # By hand: base = 0.1 + 4; val_accuracy 4.2, 4.6, 4.4 -> best at epoch 2; loss 7.1, 6.1, 5.1.
    assert first["best"]["epoch"] == 2
    assert first["best"]["val_accuracy"] == pytest.approx(4.6)
    assert first["best"]["loss"] == pytest.approx(6.1)
    assert first["final"] == {"loss": pytest.approx(5.1), "val_accuracy": pytest.approx(4.4)}


def test_sweep_stops_between_points_and_forwards_the_stop_file(tmp_path):
    points = [{"learning_rate": lr, "width": 4} for lr in (0.001, 0.002, 0.003)]

    def stop_after_first(model, run_dir, params):
        (run_dir.parent / "STOP").touch()  # after this point's training: the point is complete
        return _history(params, 3)

    summary, _ = _stand_in_sweep(tmp_path / "a", points, stop_after_first)
    assert summary["status"] == "stopped" and len(summary["points"]) == 1
    assert len(summary["planned"]) == 3

    def stopped_by_the_recorder(model, run_dir, params):
        run_dir.mkdir(parents=True)
        (run_dir.parent / "STOP").touch()
        deadline = time.time() + 5
        while not (run_dir / "STOP").exists():  # what a recorder looks for before each batch
            assert time.time() < deadline, "the sweep's stop file never reached the point"
            time.sleep(0.05)
        return _history(params, 1)  # stopped in its first epoch

    summary, _ = _stand_in_sweep(tmp_path / "b", points, stopped_by_the_recorder)
    written = json.loads((tmp_path / "b" / "sweep.json").read_text())
    assert written["status"] == summary["status"] == "stopped"
    assert written["points"] == [], "a point cut short is not a sweep result"


def test_failed_point_is_recorded_and_raised(tmp_path):
    points = [{"learning_rate": 0.001}, {"learning_rate": 0.01}]

    def fit_point(model, run_dir, params):
        if params["learning_rate"] == 0.01:
            raise RuntimeError("loss went to NaN")
        return _history(params, 3)

    with pytest.raises(RuntimeError, match="NaN"):
        _stand_in_sweep(tmp_path, points, fit_point)
    summary = json.loads((tmp_path / "sweep.json").read_text())
    assert summary["status"] == "failed" and summary["error"] == "RuntimeError: loss went to NaN"
    assert [point["run"] for point in summary["points"]] == ["lr_0.001"]


def test_sweep_folder_is_kept_unless_fresh(tmp_path):
    def fit_point(model, run_dir, params):
        return _history(params, 3)

    (tmp_path / "sweep.log").write_text("kept\n")
    (tmp_path / "STOP").touch()
    (tmp_path / "sweep.json").write_text(json.dumps({"status": "stopped", "points": []}))
    summary, _ = _stand_in_sweep(tmp_path, [{"learning_rate": 0.001}], fit_point, fresh=False)
    assert summary["status"] == "finished", "the stopped sweep's leftover stop file was obeyed"
    assert (tmp_path / "sweep.log").read_text() == "kept\n"
    _stand_in_sweep(tmp_path, [{"learning_rate": 0.001}], fit_point, fresh=True)
    assert not (tmp_path / "sweep.log").exists()


def test_run_sweep_refuses_bad_points(tmp_path):
    from neurogenesis.errors import InputError

    def fit_point(model, run_dir, params):
        raise AssertionError("nothing should train")

    for points, reason in (
        ([], "at least one"),
        ([{"width": 4}], "learning_rate"),
        ([{"learning_rate": 0.001}, {"learning_rate": 0.001}], "distinct"),
        ([{"learning_rate": 0.001}, {"learning_rate": 0.002, "width": 4}], "same parameters"),
    ):
        with pytest.raises(InputError, match=reason):
            _stand_in_sweep(tmp_path, points, fit_point)


def test_random_points_are_reproducible_and_inside_the_space():
    from neurogenesis.zoo import random_sweep_points

    space = {"learning_rate": (1e-4, 1e-2, "log"), "width": [4, 8, 16], "depth": (1, 3, "linear")}
    points = random_sweep_points(space, 200, seed=3)
    assert points == random_sweep_points(space, 200, seed=3)
    assert points != random_sweep_points(space, 200, seed=4)
    assert len({json.dumps(point, sort_keys=True) for point in points}) == 200
    exponents = np.log10([point["learning_rate"] for point in points])
    assert exponents.min() >= -4 and exponents.max() <= -2
    # Log-uniform: as many exponents in each half of [-4, -2] (binomial sd ~7 of 200).
    assert abs(np.sum(exponents < -3) - 100) < 30
    assert {point["width"] for point in points} == {4, 8, 16}
    assert {point["depth"] for point in points} == {1, 2, 3}
    assert all(type(point["depth"]) is int for point in points)


@pytest.mark.parametrize(
    ("space", "count", "reason"),
    [
        ({"learning_rate": (0.0, 1e-2, "log")}, 2, "low > 0"),
        ({"learning_rate": (1e-2, 1e-3, "linear")}, 2, "low < high"),
        ({"width": []}, 2, "list of choices"),
        ({"width": [4, 8]}, 3, "only 2 distinct points"),
        ({"width": [4, 8]}, 0, "at least 1"),
    ],
)
def test_random_points_refuse_bad_spaces(space, count, reason):
    from neurogenesis.errors import InputError
    from neurogenesis.zoo import random_sweep_points

    with pytest.raises(InputError, match=reason):
        random_sweep_points(space, count, seed=0)


def test_every_scenario_declares_its_sweep():
    import importlib

    for name, scenario in SCENARIOS.items():
        spec = scenario.sweep
        module = importlib.import_module(scenario.build.__module__)
        assert spec.grid is module.SWEEP_GRID and spec.epochs == module.SWEEP_EPOCHS
        assert {"learning_rate", "width"} <= set(spec.parameters())
        assert set(spec.grid) | set(spec.random_space) <= set(spec.parameters())
        # The metric and goal the committed demo sweep was built with.
        committed = json.loads((DEMO_DATA_DIR / "sweeps" / name / "sweep.json").read_text())
        assert (spec.metric, spec.goal) == (committed["metric"], committed["goal"])
        assert committed["parameters"] == list(spec.grid)


def test_plan_sweep_over_the_default_grid_and_space():
    from neurogenesis.errors import InputError
    from neurogenesis.zoo import parse_grid, plan_sweep, sweep_spec

    spec = sweep_spec("digits_cnn")
    assert len(plan_sweep(spec)) == 12
    grid = parse_grid(spec, ["width=4", "batch_norm=no", "learning_rate=1e-3,0.003"])
    assert grid == {"width": [4], "batch_norm": [False], "learning_rate": [0.001, 0.003]}
    assert plan_sweep(spec, grid={"width": [4]}) == [
        {"learning_rate": lr, "width": 4} for lr in (3e-4, 1e-3, 3e-3)
    ]
    drawn = plan_sweep(spec, grid={"width": [8]}, random=4, seed=1)
    assert len(drawn) == 4 and {point["width"] for point in drawn} == {8}
    for texts, reason in (
        (["depth=2"], "Unknown sweep parameter 'depth'"),
        (["width=4", "width=8"], "once"),
        (["width=4,4.0"], "distinct"),
        (["width=-1"], "positive whole number"),
        (["learning_rate=fast"], "positive number"),
        (["batch_norm=maybe"], "true or false"),
        (["optimizer=adamw"], "adam, sgd, rmsprop"),
        (["width"], "NAME=VALUE"),
    ):
        with pytest.raises(InputError, match=reason):
            parse_grid(spec, texts)


@pytest.mark.slow
def test_scenario_sweep_into_any_folder(tmp_path):
    from neurogenesis.zoo import run_scenario_sweep

    (tmp_path / "sweep.log").write_text("kept\n")
    points = [{"learning_rate": 1e-3, "width": 4}, {"learning_rate": 3e-3, "width": 4}]
    summary = run_scenario_sweep("digits_cnn", tmp_path, points=points, epochs=1)
    assert (tmp_path / "sweep.log").read_text() == "kept\n"
    assert summary["status"] == "finished" and summary["planned"] == points
    assert len(summary["points"]) == 2 and summary["epochs"] == 1
    for point in summary["points"]:
        manifest = json.loads((tmp_path / point["run"] / "neurogenesis_run.json").read_text())
        assert manifest["status"] == "finished"
    # The same checks as the demo sweeps: every number read back from the point's own log.
    assert _check_sweep(tmp_path, "digits_cnn") == summary


# --------------------------------------------------------------------------------------------
# Width sweeps: a scenario's size and cost at each width of its recorded sweep
# --------------------------------------------------------------------------------------------

DIGITS_SWEEP = Path(DEMO_DATA_DIR) / "sweeps" / "digits_cnn" / "sweep.json"


def test_scenario_width_sweep_of_digits():
    info = scenario_width_sweep("digits_cnn", DIGITS_SWEEP)
    sweep = json.loads(DIGITS_SWEEP.read_text())
    assert isinstance(info, SweepInfo)
    assert (info.parameter, info.metric, info.goal) == ("width", "val_accuracy", "max")
    assert info.multipliers == (4, 8, 16, 32)
    manifest = json.loads(
        (DIGITS_SWEEP.parent / "lr_0.001_width_8" / "neurogenesis_run.json").read_text()
    )
    assert info.num_params[1] == manifest["model"]["num_parameters"] == 3890
    for width, value, rate in zip(
        info.multipliers, info.metric_values, info.best_learning_rates, strict=True
    ):
        points = [p for p in sweep["points"] if p["params"]["width"] == width]
        best = max(points, key=lambda p: p["best"]["val_accuracy"])
        assert value == best["best"]["val_accuracy"]
        assert rate == best["params"]["learning_rate"]
    assert all(a < b for a, b in zip(info.macs, info.macs[1:], strict=False))


def test_scenario_width_sweep_refuses_bad_input(tmp_path):
    with pytest.raises(InputError, match="sweep of 'digits_cnn', not of 'shapes_cnn'"):
        scenario_width_sweep("shapes_cnn", DIGITS_SWEEP)
    with pytest.raises(InputError, match="No sweep file"):
        scenario_width_sweep("digits_cnn", tmp_path / "missing.json")
    with pytest.raises(InputError, match="Unknown scenario"):
        scenario_width_sweep("mnist", DIGITS_SWEEP)
    broken = tmp_path / "sweep.json"
    broken.write_text("{not json")
    with pytest.raises(InputError, match="not a readable JSON"):
        scenario_width_sweep("digits_cnn", tmp_path)
