"""Loss landscapes on a real Ray cluster equal the local ones: data-parallel over sample shards,
grid-parallel over chunks, through a killed worker, on two nodes started with `ray start`, and on
the Landscape page."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from neurogenesis.analysis import landscape as L
from neurogenesis.compute import configure_cluster
from neurogenesis.compute.payload import payload_from_path
from neurogenesis.io.models import load_model, training_setup
from neurogenesis.io.samples import load_samples
from tests.app.pages import charts, open_page, values
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

TOLERANCE = 1e-5
RESOLUTION = 9  # more than the 7 × 7 preview: the rest comes in chunks
SAMPLES = 200  # data-parallel: two shards of 100


def _evaluator(name: str, count: int = SAMPLES):
    path = ROOT / "models" / f"{name}.keras"
    model = load_model(path)
    samples = load_samples(ROOT / "data" / "samples" / f"{name}.npz")
    setup = training_setup(path)
    targets, _ = L.landscape_targets(model, samples.x, samples.y, setup.loss)
    evaluator = L.LandscapeEvaluator(
        model, samples.x[:count], targets[:count], loss=setup.loss, metrics=setup.metrics
    )
    return path, model, evaluator


def _on_ray(target, path, model, evaluator, *, shards=None, chunk_points=64, on_start=None):
    from neurogenesis.compute.ray import LandscapeChunks

    runner = LandscapeChunks(target, payload_from_path(path), evaluator, shards=shards)
    calls = []

    def on_partial(info, fraction):
        calls.append(fraction)
        if on_start is not None and len(calls) == 1:
            on_start(runner)

    try:
        info = L.landscape_info(
            model,
            None,
            None,
            evaluator=evaluator,
            resolution=RESOLUTION,
            chunk_points=chunk_points,
            runner=runner,
            on_partial=on_partial,
        )
        return info, runner.bounds, runner.pids(), calls
    finally:
        runner.close()


def _assert_same(local, remote):
    assert remote.complete and not np.isnan(remote.values).any()
    assert remote.metric_names == local.metric_names
    assert len(local.metric_names) >= 2  # the loss and the compiled accuracy
    np.testing.assert_allclose(remote.values, local.values, atol=TOLERANCE, rtol=0)
    np.testing.assert_allclose(remote.trained_values, local.trained_values, atol=TOLERANCE)
    assert remote.num_samples == local.num_samples


@pytest.fixture(scope="module")
def digits():
    path, model, evaluator = _evaluator("digits_cnn")
    local = L.landscape_info(model, None, None, evaluator=evaluator, resolution=RESOLUTION)
    return path, model, evaluator, local


def test_digits_data_parallel_shards_equal_the_local_grid(ray_target, digits):
    path, model, evaluator, local = digits
    remote, bounds, _, calls = _on_ray(ray_target, path, model, evaluator, shards=2)
    assert bounds == [(0, 100), (100, 200)]  # each worker holds half the samples
    _assert_same(local, remote)
    assert calls and calls == sorted(calls) and calls[-1] < 1  # progress, the preview first


def test_digits_grid_parallel_through_a_killed_worker_is_complete_and_equal(ray_target, digits):
    path, model, evaluator, local = digits
    killed = []

    def kill_one(runner):  # after the preview landed: the rest of the grid is still queued
        pid = runner.pids()[0]
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    remote, bounds, pids, calls = _on_ray(
        ray_target, path, model, evaluator, shards=1, chunk_points=4, on_start=kill_one
    )
    assert bounds == [(0, SAMPLES)] and len(pids) == 2  # two workers, each with every sample
    assert killed and killed[0] not in pids  # the killed worker was started again
    assert len(calls) > 4  # many chunks
    _assert_same(local, remote)


def test_shapes_landscape_equals_the_local_one(ray_target):
    path, model, evaluator = _evaluator("shapes_cnn", count=128)
    local = L.landscape_info(model, None, None, evaluator=evaluator, resolution=5)
    from neurogenesis.compute.ray import LandscapeChunks

    runner = LandscapeChunks(ray_target, payload_from_path(path), evaluator)
    try:
        remote = L.landscape_info(
            model, None, None, evaluator=evaluator, resolution=5, runner=runner
        )
    finally:
        runner.close()
    _assert_same(local, remote)


def test_landscape_page_offers_the_cluster_and_draws_the_models_loss(
    ray_target,
    app_argv,
    digits,  # noqa: F811
):
    import keras

    path, model, _, _ = digits
    try:
        at = open_page(
            app_argv, "landscape.py", "--ray", "local", "--workers", "2",
            model="digits_cnn (demo)", timeout=600,
            session={"landscape_resolution": 5},
        )  # fmt: skip
        radio = at.radio(key="landscape_compute")
        assert radio.options == ["this machine", "a Ray instance on this machine"]
        assert radio.value == "a Ray instance on this machine"
        data = np.load(ROOT / "data" / "samples" / "digits_cnn.npz")
        x, y = data["x"][:256], data["y"][:256]
        expected = float(keras.losses.SparseCategoricalCrossentropy()(y, model(x)))
        trace = next(t for spec in charts(at) for t in spec["data"] if t["type"] == "surface")
        z = trace["z"]
        z = values(z).reshape(5, 5) if isinstance(z, dict) else np.asarray(z, float)
        assert z[2, 2] == pytest.approx(np.log10(expected), abs=1e-3)
        assert not at.exception and not at.error
    finally:
        configure_cluster(None)


# --- two nodes started as separate processes with `ray start` ---------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    # `ray start --block` leaves the node's processes behind when it ends slowly.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def test_two_nodes_started_with_ray_start_give_the_local_landscape(tmp_path):
    pytest.importorskip("ray", reason="Ray is not installed here (pip install 'neurogenesis[ray]')")
    ray_bin = Path(sys.executable).with_name("ray")
    temp = tempfile.mkdtemp(prefix="ngray", dir="/tmp")  # short: Ray's sockets live under it
    port = _free_port()
    # Ray turns token authentication on for clusters started with a token file around; this
    # throwaway cluster on one machine runs without, for every process alike.
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="disabled")
    common = ["--block", "--num-cpus=1", "--disable-usage-stats"]
    started = dict(env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    head = subprocess.Popen(
        [ray_bin, "start", "--head", f"--port={port}", "--include-dashboard=false",
         f"--temp-dir={temp}", *common], start_new_session=True, **started,
    )  # fmt: skip
    nodes = [head]
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the head did not start"
                time.sleep(0.5)
        nodes.append(
            subprocess.Popen(
                [ray_bin, "start", f"--address=127.0.0.1:{port}", *common],
                start_new_session=True,
                **started,
            )  # fmt: skip
        )
        model = ROOT / "models" / "digits_cnn.keras"
        data = ROOT / "data" / "samples" / "digits_cnn.npz"
        grid = ["--resolution", "5", "--num-samples", "128"]
        command = [sys.executable, "-m", "neurogenesis", "landscape", str(model), "--data",
                   str(data), *grid]  # fmt: skip
        local = subprocess.run(
            [*command, "--out", str(tmp_path / "local.npz")], env=env, capture_output=True,
            text=True, timeout=300,
        )  # fmt: skip
        assert local.returncode == 0, local.stderr[-2000:]
        for _ in range(60):  # the second node joins
            if _node_count(port, env) == 2:
                break
            time.sleep(1)
        remote = subprocess.run(
            [*command, "--out", str(tmp_path / "ray.npz"), "--ray", f"127.0.0.1:{port}",
             "--workers", "2"], env=env, capture_output=True, text=True, timeout=400,
        )  # fmt: skip
        assert remote.returncode == 0, remote.stderr[-2000:]
        assert "2 workers on 2 nodes" in remote.stderr
        a, b = np.load(tmp_path / "local.npz"), np.load(tmp_path / "ray.npz")
        for key in ("loss", "values", "center_loss", "alphas"):
            np.testing.assert_allclose(b[key], a[key], atol=TOLERANCE, rtol=0)
    finally:
        for process in reversed(nodes):
            _stop(process)


def _node_count(port: int, env: dict) -> int:
    script = (
        f"import ray; ray.init(address='127.0.0.1:{port}', logging_level='ERROR'); "
        "print(sum(n['Alive'] for n in ray.nodes()))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    try:
        return int(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return 0


def test_the_python_apis_landscape_on_ray_equals_the_local_one(ray_target, digits):
    """``TrainingVisualizer.plot_loss_landscape_3d(..., ray=...)``: the model in memory travels
    as its saved bytes; the surface is the local one."""
    from neurogenesis.visualization import TrainingVisualizer

    _, model, _, _ = digits
    data = np.load(ROOT / "data" / "samples" / "digits_cnn.npz")
    x, y = data["x"], data["y"]
    history = {"loss": [1.0, 0.5], "accuracy": [0.5, 0.8]}
    infos = []
    for ray in (None, "local"):
        visualizer = TrainingVisualizer(history)
        visualizer.plot_loss_landscape_3d(
            model, x, y, n_points=5, num_samples=96, loss="sparse_categorical_crossentropy",
            ray=ray, workers=None if ray is None else 2,
        )  # fmt: skip
        infos.append(visualizer.infos["loss_landscape_3d"])
    local, remote = infos
    assert remote.complete and remote.num_samples == 96
    np.testing.assert_allclose(remote.values, local.values, atol=TOLERANCE, rtol=0)
