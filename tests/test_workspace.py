"""Sources, fingerprints, the demo and command-line workspaces, and uploads."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from neurogenesis.errors import InputError
from neurogenesis.workspace import (
    Source,
    Workspace,
    demo_workspace,
    save_upload,
    upload_kind,
    workspace_from_paths,
)


def test_fingerprint_changes_when_a_file_grows(tmp_path):
    log = tmp_path / "run" / "log.csv"
    log.parent.mkdir()
    log.write_text("epoch,loss\n0,1.0\n")
    file_source = Source("logs", "local", "log", str(log))
    folder_source = Source("logs", "local", "run", str(log.parent))
    before = (file_source.fingerprint(), folder_source.fingerprint())
    assert before == (file_source.fingerprint(), folder_source.fingerprint())
    with log.open("a") as handle:
        handle.write("1,0.5\n")
    os.utime(log, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    after = (file_source.fingerprint(), folder_source.fingerprint())
    assert after[0] != before[0] and after[1] != before[1]


def test_missing_command_line_paths_are_reported_not_fatal(tmp_path):
    real = tmp_path / "model.keras"
    real.write_bytes(b"x")
    workspace = workspace_from_paths(logdirs=[tmp_path / "nope"], models=[real])
    assert [source.path for source in workspace.models] == [str(real)]
    assert workspace.logs == ()
    assert workspace.problems == (f"--logdir {tmp_path / 'nope'}: no such file or folder.",)


def test_demo_workspace_finds_models_runs_and_samples(tmp_path):
    models, data = tmp_path / "models", tmp_path / "data"
    (data / "runs" / "a").mkdir(parents=True)
    (data / "runs" / "a" / "log.csv").write_text("epoch,loss\n0,1\n")
    (data / "samples").mkdir()
    (data / "samples" / "digits.npz").write_bytes(b"")
    models.mkdir()
    (models / "cnn.keras").write_bytes(b"")
    (models / "cnn.json").write_text('{"title": "Digits CNN", "dataset": "scikit-learn digits"}')
    (models / "notes.txt").write_text("not a model")
    workspace = demo_workspace(models, data)
    assert [(s.label, s.description) for s in workspace.models] == [
        ("cnn", "Digits CNN — scikit-learn digits")
    ]
    assert [s.path for s in workspace.logs] == [str(data / "runs")]
    assert [s.label for s in workspace.samples] == ["digits"]
    assert workspace.find(workspace.models[0].key) == workspace.models[0]
    assert workspace.find("model:demo:/elsewhere") is None


def test_workspaces_merge_without_duplicates():
    a = Source("model", "demo", "a", "/a.keras")
    b = Source("model", "local", "b", "/b.keras")
    merged = Workspace(models=(a,)) + Workspace(models=(a, b), problems=("p",))
    assert merged.models == (a, b)
    assert merged.problems == ("p",)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("model.keras", "model"),
        ("MODEL.H5", "model"),
        ("events.out.tfevents.1700000000.host", "logs"),
        ("training.csv", "logs"),
        ("history.json", "logs"),
        ("digits.npz", "samples"),
        ("cat.PNG", "samples"),
        ("reviews.txt", "samples"),
    ],
)
def test_upload_kind(name, kind):
    assert upload_kind(name) == kind


def test_upload_kind_refuses_unknown_files():
    with pytest.raises(InputError, match=r"Received: 'model\.pt'"):
        upload_kind("model.pt")


def test_uploads_are_stored_by_content_and_names_are_sanitised(tmp_path):
    first = save_upload("../../etc/evil name.csv", b"epoch,loss\n0,1\n", upload_dir=tmp_path)
    again = save_upload("../../etc/evil name.csv", b"epoch,loss\n0,1\n", upload_dir=tmp_path)
    other = save_upload("log.csv", b"epoch,loss\n0,2\n", upload_dir=tmp_path)
    assert first == again
    assert first.origin == "upload" and first.kind == "logs"
    path = first.path
    assert path.startswith(str(tmp_path)) and ".." not in path and path.endswith("evil_name.csv")
    assert Path(path).read_bytes() == b"epoch,loss\n0,1\n"
    assert other.path != first.path


def test_uploaded_event_files_get_a_run_folder(tmp_path):
    source = save_upload("events.out.tfevents.123.host", b"\x00" * 16, upload_dir=tmp_path)
    assert os.path.isdir(source.path)
    assert os.listdir(source.path) == ["events.out.tfevents.123.host"]


def test_empty_uploads_are_refused(tmp_path):
    with pytest.raises(InputError, match="empty"):
        save_upload("model.keras", b"", upload_dir=tmp_path)


def test_trial_uploads_are_stored_by_content_and_checked_by_name(tmp_path):
    from neurogenesis.workspace import save_file

    path = save_file("../../my trials.csv", b"lr,loss\n0.1,1\n", upload_dir=tmp_path)
    assert Path(path).read_bytes() == b"lr,loss\n0.1,1\n"
    assert Path(path).parent.parent == tmp_path and Path(path).name == "my_trials.csv"
    assert save_file("other.csv", b"lr,loss\n0.1,1\n", upload_dir=tmp_path) != path
    with pytest.raises(InputError, match="Expected trials"):
        save_file("model.keras", b"x", upload_dir=tmp_path)
    with pytest.raises(InputError, match="empty"):
        save_file("t.csv", b"", upload_dir=tmp_path)


# --- The catalogue ------------------------------------------------------------------------------


def _recorded_run(folder: Path, name: str, *, model: bool, attention: bool):
    from types import SimpleNamespace

    folder.mkdir(parents=True)
    (folder / "neurogenesis_run.json").write_text("{}")
    if model:
        (folder / "model.keras").write_bytes(b"x")
    if attention:
        (folder / "attention").mkdir()
    return SimpleNamespace(name=name, path=str(folder), format="neurogenesis")


def _catalogue_logs(tmp_path):
    from types import SimpleNamespace

    runs = [
        _recorded_run(tmp_path / "a", "a", model=True, attention=False),
        _recorded_run(tmp_path / "b", "b", model=False, attention=True),
        _recorded_run(tmp_path / "c", "c", model=True, attention=True),
        SimpleNamespace(name="csv", path=str(tmp_path / "log.csv"), format="csv"),
    ]
    source = Source("logs", "upload", "logs", str(tmp_path))
    names = [f"logs/{run.name}" for run in runs]

    def named_runs(sources):
        assert [s.path for s in sources] == [source.path]
        return runs, names, []

    return source, named_runs


def test_run_models_lists_the_recorded_runs_that_saved_their_model(tmp_path):
    from neurogenesis.workspace import run_models

    source, named_runs = _catalogue_logs(tmp_path)
    found = run_models(
        [source], named_runs=named_runs, hyperparameters=lambda s: {"c": {"learning_rate": 0.1}}
    )
    assert found == [
        ("logs/a", Source("model", "upload", "logs/a", str(tmp_path / "a" / "model.keras")), {}),
        (
            "logs/c",
            Source("model", "upload", "logs/c", str(tmp_path / "c" / "model.keras")),
            {"learning_rate": 0.1},
        ),
    ]


def test_attention_runs_lists_the_runs_that_kept_attention_scores(tmp_path):
    from neurogenesis.workspace import attention_runs

    source, named_runs = _catalogue_logs(tmp_path)
    assert attention_runs([source], named_runs=named_runs) == [
        ("logs/b", str(tmp_path / "b")),
        ("logs/c", str(tmp_path / "c")),
    ]


def _card(inputs, params):
    from types import SimpleNamespace

    return SimpleNamespace(input_shapes=inputs, num_params=params)


def test_matching_models_compares_inputs_and_with_same_size_the_parameters():
    from neurogenesis.workspace import matching_models

    model = Source("model", "demo", "m", "/m.keras")
    same = Source("model", "demo", "same", "/same.keras")
    bigger = Source("model", "demo", "bigger", "/bigger.keras")
    other_input = Source("model", "demo", "other", "/other.keras")
    broken = Source("model", "demo", "broken", "/broken.keras")
    cards = {
        "/m.keras": _card([(None, 4)], 10),
        "/same.keras": _card([(None, 4)], 10),
        "/bigger.keras": _card([(None, 4)], 20),
        "/other.keras": _card([(None, 5)], 10),
    }

    def card(source):
        if source.path not in cards:
            raise InputError("unreadable")
        return cards[source.path]

    candidates = [model, same, bigger, other_input, broken]
    assert matching_models(model, candidates, same_size=False, model_card=card) == [same, bigger]
    assert matching_models(model, candidates, same_size=True, model_card=card) == [same]
    assert matching_models(
        model, candidates, same_size=False, model_card=card, same_output=lambda a, b: b is bigger
    ) == [bigger]
    assert matching_models(broken, candidates, same_size=False, model_card=card) == []


def test_landscape_runs_and_twin_run_read_cards_checkpoints_and_digests():
    from neurogenesis.workspace import landscape_runs, twin_run

    a = Source("model", "demo", "a", "/runs/a/model.keras")
    b = Source("model", "demo", "b", "/runs/b/model.keras")
    c = Source("model", "demo", "c", "/runs/c/model.keras")
    cards = {a.path: _card([(None, 4)], 10), b.path: _card([(None, 4)], 10)}
    cards[c.path] = _card([(None, 3)], 10)
    labels = {"/runs/a": ("initial", "epoch 1"), "/runs/b": (), "/runs/c": ("epoch 1",)}
    found = landscape_runs(
        [("a", a, {}), ("b", b, {}), ("c", c, {})],
        (4,),
        model_card=lambda source: cards[source.path],
        checkpoint_labels=labels.__getitem__,
    )
    assert found == [("a", a, "/runs/a")]
    model = Source("model", "demo", "mine", "/mine.keras")
    cards[model.path] = _card([(None, 4)], 10)
    digests = {model.path: "x", a.path: "y", b.path: "x", c.path: "x"}
    twin = twin_run(
        model,
        [("a", a, "/runs/a"), ("b", b, "/runs/b")],
        weights_digest=lambda source: digests[source.path],
        model_card=lambda source: cards[source.path],
    )
    assert twin == "b"


def test_recorded_hyperparameters_and_path_read_only_recorder_runs(tmp_path):
    import json
    from types import SimpleNamespace

    from neurogenesis.workspace import recorded_hyperparameters, recorded_path

    demo = Path(__file__).resolve().parent.parent / "data" / "runs" / "digits_cnn" / "adam"
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "neurogenesis_run.json").write_text("{not json")
    runs = [
        SimpleNamespace(name="csv", path=str(tmp_path / "log.csv"), format="csv"),
        SimpleNamespace(name="adam", path=str(demo), format="neurogenesis"),
        SimpleNamespace(name="broken", path=str(broken), format="neurogenesis"),
    ]
    manifest = json.loads((demo / "neurogenesis_run.json").read_text())
    assert recorded_hyperparameters(runs) == {"adam": manifest["hyperparameters"]}
    assert recorded_path(runs) == str(demo) and recorded_path(runs[:1]) is None


def test_demo_sweep_is_the_sweep_file_the_card_names(tmp_path):
    from neurogenesis.workspace import DEMO_MODELS_DIR, PROJECT_ROOT, demo_sweep, model_metadata

    (tmp_path / "sweep.json").write_text('{"points": []}')
    assert demo_sweep({"name": "mine", "sweep": str(tmp_path)}) == str(tmp_path / "sweep.json")
    assert demo_sweep({"sweep": str(tmp_path)}) is None  # a card that names no demo
    assert demo_sweep({"name": "mine", "sweep": str(tmp_path / "missing")}) is None
    assert demo_sweep({"name": "mine", "sweep": 3}) is None
    assert demo_sweep({}) is None
    # A demo's card names its folder relative to the project.
    card = model_metadata(DEMO_MODELS_DIR / "digits_cnn.keras")
    expected = PROJECT_ROOT / "data" / "sweeps" / "digits_cnn" / "sweep.json"
    assert demo_sweep(card) == (str(expected) if expected.is_file() else None)


def test_holds_studies_goes_by_the_sqlite_suffixes():
    from neurogenesis.workspace import holds_studies

    assert [holds_studies(name) for name in ("a.db", "b.SQLite", "c.sqlite3", "d/e.csv")] == [
        True,
        True,
        True,
        False,
    ]
    assert not holds_studies("sweep.json") and not holds_studies("folder")


def test_trial_sources_label_what_lies_inside_a_source_by_its_path(tmp_path):
    from neurogenesis.workspace import trial_sources

    for name in ("digits_cnn", "deep/weather_lstm"):
        (tmp_path / "sweeps" / name).mkdir(parents=True)
        (tmp_path / "sweeps" / name / "sweep.json").write_text('{"points": []}')
    (tmp_path / "trials.csv").write_text("lr,loss\n0.1,1\n")
    sweeps = Source("logs", "demo", "demo sweeps", str(tmp_path / "sweeps"))
    one = Source("logs", "local", "one sweep", str(tmp_path / "sweeps" / "digits_cnn"))
    csv = Source("logs", "upload", "trials.csv", str(tmp_path / "trials.csv"))
    empty = Source("logs", "local", "nothing", str(tmp_path / "missing"))
    assert trial_sources([sweeps, one, csv, empty]) == {
        "demo sweeps / deep/weather_lstm": str(tmp_path / "sweeps" / "deep" / "weather_lstm"),
        "demo sweeps / digits_cnn": str(tmp_path / "sweeps" / "digits_cnn"),
        "one sweep": str(tmp_path / "sweeps" / "digits_cnn"),
        "trials.csv": str(tmp_path / "trials.csv"),
    }
    asked = []

    def find(source):
        asked.append(source.label)
        return [source.path, str(Path(source.path, "a", "b"))]

    assert trial_sources([sweeps], find=find) == {
        "demo sweeps": sweeps.path,
        "demo sweeps / a/b": str(Path(sweeps.path, "a", "b")),
    }
    assert asked == ["demo sweeps"]
