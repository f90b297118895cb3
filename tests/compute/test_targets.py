"""Where work runs, without a cluster: targets from the command line, shard bounds, the room a
cluster has, and the one sentence a fault becomes."""

from __future__ import annotations

import socket

import pytest

from neurogenesis.compute import ClusterError, ComputeTarget, parse_target
from neurogenesis.errors import InputError


def test_targets_from_the_command_line():
    assert parse_target(None).is_local
    assert parse_target(None).describe() == "this machine"
    assert parse_target("auto", 4).workers == 4
    assert parse_target(" 10.0.0.1:6379 ").describe() == "the Ray cluster at 10.0.0.1:6379"
    assert parse_target("local").describe() == "a Ray instance on this machine"
    with pytest.raises(InputError, match="--workers together with --ray"):
        parse_target(None, 2)
    with pytest.raises(InputError, match="at least 1 worker"):
        parse_target("auto", 0)
    with pytest.raises(InputError, match="empty address"):
        parse_target("  ")


def test_shard_bounds_cover_every_row_once_in_order():
    pytest.importorskip("ray", reason="Ray is not installed here (pip install 'neurogenesis[ray]')")
    from neurogenesis.compute.ray import shard_bounds

    for count, shards in [(10, 3), (2000, 8), (5, 9), (1, 1)]:
        bounds = shard_bounds(count, shards)
        assert bounds[0][0] == 0 and bounds[-1][1] == count
        assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:], strict=False))
        sizes = [stop - start for start, stop in bounds]
        assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1
        assert len(bounds) == min(shards, count)


class _Cluster:
    def __init__(self, **resources):
        self.resources = resources

    def cluster_resources(self):
        return self.resources


def test_workers_never_exceed_the_room_the_cluster_has():
    pytest.importorskip("ray", reason="Ray is not installed here (pip install 'neurogenesis[ray]')")
    from neurogenesis.compute.ray import worker_count

    cpus4 = _Cluster(CPU=4.0)
    assert worker_count(cpus4, ComputeTarget("auto"), 100) == 4
    assert worker_count(cpus4, ComputeTarget("auto", workers=8), 100) == 4  # no room for 8
    assert worker_count(cpus4, ComputeTarget("auto", workers=2), 100) == 2
    assert worker_count(cpus4, ComputeTarget("auto"), 3) == 3  # no more than pieces
    gpus = _Cluster(CPU=16.0, GPU=2.0)
    assert worker_count(gpus, ComputeTarget("auto", gpus_per_worker=0.5), 100) == 4
    with pytest.raises(ClusterError, match="no room for one worker .* 0 GPUs"):
        worker_count(cpus4, ComputeTarget("auto", gpus_per_worker=1), 100)


def test_an_address_nothing_answers_at_is_said_at_once():
    pytest.importorskip("ray", reason="Ray is not installed here (pip install 'neurogenesis[ray]')")
    from neurogenesis.compute.ray import check_reachable

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ClusterError, match=f"Nothing answers at 127.0.0.1:{port}"):
        check_reachable(ComputeTarget(f"127.0.0.1:{port}"))
    with pytest.raises(ClusterError, match="Nothing answers"):
        check_reachable(ComputeTarget(f"ray://127.0.0.1:{port}"))
    with pytest.raises(InputError, match="host:port"):
        check_reachable(ComputeTarget("headnode"))
    with socket.socket() as server:  # something listening: reachable
        server.bind(("127.0.0.1", 0))
        server.listen()
        check_reachable(ComputeTarget(f"127.0.0.1:{server.getsockname()[1]}"))


def test_a_lost_cluster_is_one_sentence_and_our_own_errors_pass_through():
    ray = pytest.importorskip(
        "ray", reason="Ray is not installed (pip install 'neurogenesis[ray]')"
    )
    from neurogenesis.compute.ray import cluster_call

    target = ComputeTarget("10.0.0.1:6379")

    def lost():
        raise ray.exceptions.RaySystemError("GCS at 10.0.0.1:6379 unreachable\nmore detail")

    with pytest.raises(ClusterError) as caught:
        cluster_call(target, lost, "; 3 of 9 chunks had finished")
    assert str(caught.value) == (
        "The Ray cluster at 10.0.0.1:6379 stopped answering (System error: GCS at "
        "10.0.0.1:6379 unreachable); 3 of 9 chunks had finished; start it again, or compute "
        "on this machine."
    )

    def refused():
        raise ConnectionError("Connection reset by peer")

    with pytest.raises(ClusterError, match="stopped answering \\(Connection reset by peer\\)"):
        cluster_call(target, refused)

    def bad_input():
        raise InputError("Expected finite samples.")

    with pytest.raises(InputError, match="Expected finite samples"):
        cluster_call(target, bad_input)


def test_the_cli_exits_3_when_no_cluster_answers(tmp_path, capsys):
    pytest.importorskip("ray", reason="Ray is not installed here (pip install 'neurogenesis[ray]')")
    from neurogenesis.cli import main
    from tests.conftest import ROOT

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = main(
        ["landscape", str(ROOT / "models" / "digits_cnn.keras"), "--data",
         str(ROOT / "data" / "samples" / "digits_cnn.npz"), "--resolution", "3",
         "--out", str(tmp_path / "plane.npz"), "--ray", f"127.0.0.1:{port}"]
    )  # fmt: skip
    assert code == 3
    assert f"Nothing answers at 127.0.0.1:{port}" in capsys.readouterr().err
    assert not (tmp_path / "plane.npz").exists()


def test_the_app_command_passes_the_cluster_to_the_server():
    from neurogenesis import cli

    args = cli._parser().parse_args(
        ["app", "--ray", "10.0.0.1:6379", "--workers", "4", "--gpus-per-worker", "0.5"]
    )
    tail = cli._app_command(args)[cli._app_command(args).index("--") + 1 :]
    assert tail[-6:] == ["--ray", "10.0.0.1:6379", "--workers", "4", "--gpus-per-worker", "0.5"]
    plain = cli._app_command(cli._parser().parse_args(["app"]))
    assert "--ray" not in plain
    with pytest.raises(InputError, match="--workers together with --ray"):
        cli._app_command(cli._parser().parse_args(["app", "--workers", "2"]))
