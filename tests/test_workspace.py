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
