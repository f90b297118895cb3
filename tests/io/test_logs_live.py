"""Live runs: a run being written is read as far as it goes, and its half-written tail is not damage."""

from __future__ import annotations

import json
import os
import struct

import pytest

from neurogenesis.io.logs import find_runs, read_run


def _write_scalars(folder, steps, tag="train/loss"):
    import tensorflow as tf

    writer = tf.summary.create_file_writer(str(folder))
    with writer.as_default():
        for step in steps:
            tf.summary.scalar(tag, 1.0 / (step + 1), step=step)
    writer.close()
    (event_file,) = [name for name in os.listdir(folder) if "tfevents" in name]
    return folder / event_file


@pytest.mark.parametrize(("status", "live"), [("running", True), ("finished", False)])
def test_half_written_tail_is_not_damage_while_running(tmp_path, status, live):
    event_file = _write_scalars(tmp_path, range(6))
    (tmp_path / "neurogenesis_run.json").write_text(
        json.dumps({"format": "neurogenesis-run", "status": status})
    )
    data = event_file.read_bytes()
    starts, position = [], 0
    while position < len(data):
        starts.append(position)
        (length,) = struct.unpack("<Q", data[position : position + 8])
        position += 12 + length + 4
    last = starts[-1]
    (length,) = struct.unpack("<Q", data[last : last + 8])
    # The writer is in the middle of its sixth scalar: a full header, half the payload.
    event_file.write_bytes(data[: last + 12 + length // 2])
    run = read_run(tmp_path, use_cache=False)
    assert run.format == "neurogenesis"
    assert run.live is live
    assert run.scalars["train/loss"].num_points == 5
    kinds = [problem.kind for problem in run.problems]
    assert kinds == ([] if live else ["truncated"])
    assert run.summary_dict()["live"] is live


def test_new_epochs_appear_as_the_file_grows(tmp_path):
    event_file = _write_scalars(tmp_path, range(3))
    (tmp_path / "neurogenesis_run.json").write_text('{"status": "running"}')
    first = find_runs(tmp_path)
    assert first[0].scalars["train/loss"].num_points == 3
    more = tmp_path / "more"
    more.mkdir()
    grown = _write_scalars(more, range(3, 7))
    # Append the new records (past the file-version header event) as a live writer would.
    event_file.write_bytes(event_file.read_bytes() + grown.read_bytes())
    os.utime(event_file, ns=(os.stat(event_file).st_mtime_ns + 10**9,) * 2)
    second = [run for run in find_runs(tmp_path) if run.name == tmp_path.name][0]
    assert second.scalars["train/loss"].steps.tolist() == list(range(7))


def test_a_running_run_without_data_yet_is_not_an_error_for_read_run(tmp_path):
    (tmp_path / "neurogenesis_run.json").write_text('{"status": "running"}')
    (tmp_path / "events.out.tfevents.1.host").write_bytes(b"")
    run = read_run(tmp_path, use_cache=False)
    assert run.live and not run.has_data and run.problems == ()
