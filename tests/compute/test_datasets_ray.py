"""Whole-dataset analyses on a real local Ray (2 workers) equal the local path on the same samples.

Each Ray job costs an actor start (TensorFlow import and model load), so each is one
module-scoped computation checked by several asserts. The references are today's local calls
(``attribution_info``, ``pgd``, ``hidden_states`` on the whole set at once), not the job code.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from neurogenesis.cli import main
from neurogenesis.errors import InputError
from tests.compute.test_jobs import CURVE_OPTIONS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models/digits_cnn.keras"
COUNT = 2000
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """2,000 digits: the demo's 360 tiled and perturbed (so no two are the same), in [0, 1]."""
    data = np.load(ROOT / "data/samples/digits_cnn.npz")
    reps = -(-COUNT // len(data["x"]))
    rng = np.random.default_rng(3)
    x = np.tile(data["x"], (reps, 1, 1, 1))[:COUNT]
    x = np.clip(x + rng.normal(0, 0.05, x.shape), 0, 1).astype(np.float32)
    y = np.tile(data["y"], reps)[:COUNT]
    path = tmp_path_factory.mktemp("digits") / "digits2000.npz"
    np.savez(path, x=x, y=y)
    return x, y, path


@pytest.fixture(scope="module")
def model():
    from neurogenesis.io.models import load_model

    return load_model(MODEL)


def _main(argv) -> tuple[int, str]:
    """``neurogenesis ARGV``: the exit code and what it printed (module fixtures have no capsys)."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main([str(a) for a in argv])
    return code, printed.getvalue()


# ---------------------------------------------------------------------------------------------
# Attribution


@pytest.fixture(scope="module")
def saliency_cli(ray_target, digits, tmp_path_factory):
    """``neurogenesis saliency --method gradient --ray local --workers 2`` on 2,000 samples."""
    _, _, path = digits
    out = tmp_path_factory.mktemp("saliency") / "gradient.npz"
    code, _ = _main(
        ["saliency", MODEL, "--data", path, "--method", "gradient", "--out", out]
        + ["--ray", "local", "--workers", "2"]
    )
    return code, dict(np.load(out))


def test_saliency_on_the_cluster_equals_the_local_maps(saliency_cli, digits, model):
    from neurogenesis.analysis.attribution import attribution_info

    code, written = saliency_cli
    x, _, _ = digits
    assert code == 0
    local = attribution_info(model, x, "gradient")
    assert set(written) == {"maps", "attributions", "target", "method", "score"}
    assert written["maps"].shape == (COUNT, 8, 8)
    np.testing.assert_array_equal(written["target"], local.target)
    np.testing.assert_allclose(written["maps"], local.maps.astype(np.float32), atol=TOLERANCE)
    np.testing.assert_allclose(
        written["attributions"], local.attributions.astype(np.float32), atol=TOLERANCE
    )
    # The explained class is each sample's own prediction: the model's argmax, sample by sample.
    np.testing.assert_array_equal(written["target"], model.predict(x, verbose=0).argmax(axis=1))


IG_STEPS = 32


def _busy_worker_pids() -> list[int]:
    """The processes of this machine's Ray workers running a shard (their titles, set by Ray,
    read from /proc: ``ray::_ModelWorker.apply``)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if title.startswith(b"ray::_ModelWorker.apply"):
                pids.append(int(entry.name))
    return sorted(pids)


@pytest.fixture(scope="module")
def integrated_on_cluster(ray_target, digits, model):
    """Integrated gradients from the set's mean (a per-set baseline) on Ray; one worker is
    killed (SIGKILL) while it explains a shard. Returns the info and whether the job was still
    running when the worker died."""
    from neurogenesis.compute import jobs

    x, _, _ = digits
    result: dict = {}

    def run():
        try:
            result["info"] = jobs.attribution(
                model, x, "integrated_gradients", steps=IG_STEPS, baseline="mean",
                where=ray_target,
            )  # fmt: skip
        except Exception as error:  # noqa: BLE001 (re-raised below, in the test's thread)
            result["error"] = error

    job = threading.Thread(target=run)
    job.start()
    killed_while_running = False
    if Path("/proc").is_dir():
        deadline = time.monotonic() + 120
        while job.is_alive() and time.monotonic() < deadline:
            busy = _busy_worker_pids()
            if busy:
                time.sleep(0.5)  # well inside the shard
                os.kill(busy[0], signal.SIGKILL)
                killed_while_running = job.is_alive()
                break
            time.sleep(0.05)
    job.join()
    if "error" in result:
        raise result["error"]
    return result["info"], killed_while_running


def test_integrated_gradients_on_the_cluster_equal_local(integrated_on_cluster, digits, model):
    from neurogenesis.analysis.attribution import attribution_info

    x, _, _ = digits
    local = attribution_info(model, x, "integrated_gradients", steps=IG_STEPS, baseline="mean")
    info, _ = integrated_on_cluster
    assert info.maps.shape == (COUNT, 8, 8) and info.steps == IG_STEPS
    assert info.baseline == "mean"
    np.testing.assert_array_equal(info.target, local.target)
    np.testing.assert_allclose(info.attributions, local.attributions, atol=TOLERANCE)
    np.testing.assert_allclose(info.maps, local.maps, atol=TOLERANCE)
    np.testing.assert_allclose(info.scores, local.scores, atol=TOLERANCE)
    # The baseline is the whole set's mean, not each shard's (which differ from it).
    assert np.abs(x.mean(axis=0) - x[:256].mean(axis=0)).max() > 1e-3
    np.testing.assert_allclose(
        info.completeness_error, local.completeness_error, atol=TOLERANCE, equal_nan=True
    )


def test_a_worker_killed_mid_job_costs_only_its_shard(integrated_on_cluster):
    """The killed worker was restarted and its shard ran again: the maps above are complete
    and equal to local (checked there); here, that the kill landed while the job ran."""
    if not Path("/proc").is_dir():
        pytest.skip("finding the workers' processes needs /proc")
    info, killed_while_running = integrated_on_cluster
    assert killed_while_running
    assert len(info.maps) == COUNT and np.isfinite(info.maps).all()


# ---------------------------------------------------------------------------------------------
# Adversarial examples: per-shard counts summed


@pytest.fixture(scope="module")
def pgd_cli(ray_target, digits, tmp_path_factory):
    """``neurogenesis adversarial --method pgd --ray local --workers 2`` on 2,000 samples."""
    _, _, path = digits
    out = tmp_path_factory.mktemp("adversarial") / "pgd.npz"
    code, printed = _main(
        ["adversarial", MODEL, "--data", path, "--method", "pgd", "--epsilon", "0.15"]
        + ["--steps", "3", "--out", out, "--json", "--ray", "local", "--workers", "2"]
    )
    return code, json.loads(printed), np.load(out)["x_adv"]


def test_pgd_on_the_cluster_equals_local_and_counts_over_the_set(pgd_cli, digits, model):
    from neurogenesis.analysis import robustness
    from neurogenesis.analysis.graph import predict
    from neurogenesis.io.models import training_setup

    code, summary, x_adv = pgd_cli
    x, y, _ = digits
    assert code == 0
    local = robustness.pgd(model, x, y, epsilon=0.15, steps=3, loss=training_setup(MODEL).loss)
    np.testing.assert_allclose(x_adv, local.x_adv, atol=TOLERANCE)
    assert summary["clean_accuracy"] == local.clean_accuracy
    assert summary["adversarial_accuracy"] == local.adversarial_accuracy
    assert summary["linf"] == pytest.approx(local.linf, abs=TOLERANCE)
    # The accuracy is correct samples over all 2,000, recomputed from the written examples.
    right = predict(model, x_adv).argmax(axis=1) == y
    assert summary["adversarial_accuracy"] == pytest.approx(right.sum() / COUNT)
    assert summary["adversarial_accuracy"] < summary["clean_accuracy"]


# ---------------------------------------------------------------------------------------------
# Projector embeddings


@pytest.fixture(scope="module")
def project_cli(ray_target, digits, tmp_path_factory):
    _, _, path = digits
    out = tmp_path_factory.mktemp("project") / "pca.npz"
    code, _ = _main(
        ["project", MODEL, "--data", path, "--layer", "flatten", "--method", "pca"]
        + ["--out", out, "--ray", "local", "--workers", "2"]
    )
    return code, dict(np.load(out))


def test_projection_of_cluster_embeddings_equals_local(project_cli, digits, model):
    from neurogenesis.analysis.embeddings import hidden_states, projection_info
    from neurogenesis.compute import jobs

    code, written = project_cli
    x, y, _ = digits
    assert code == 0
    features = hidden_states(model, x, "flatten")
    local = projection_info(features, "pca", dims=2, seed=0)
    assert written["coords"].shape == (COUNT, 2)
    np.testing.assert_array_equal(written["labels"], y)
    np.testing.assert_allclose(written["coords"], local.coords.astype(np.float32), atol=1e-4)
    # The embeddings themselves, shard by shard in sample order (the local job: one shard).
    np.testing.assert_array_equal(jobs.hidden_states(model, x, "flatten"), features)


# ---------------------------------------------------------------------------------------------
# A bad shard


def test_a_worker_raising_input_error_surfaces_as_that_error(ray_target, digits, model):
    from neurogenesis.compute import jobs

    x, _, _ = digits
    broken = x[:600].copy()
    broken[450, 3, 3, 0] = np.nan  # in the second of three shards
    with pytest.raises(InputError, match="finite input values"):
        jobs.attribution(model, broken, "gradient", where=ray_target, shard_size=200)


@pytest.fixture(scope="module")
def two_input_cli(ray_target, tmp_path_factory):
    """``saliency --method smoothgrad`` of a model of two inputs on Ray, its 32 samples in four
    shards (maps_NAME per float input; the noise drawn input by input over the whole set)."""
    from neurogenesis.compute import jobs
    from neurogenesis.testing import write_multi_input_cases

    folder = tmp_path_factory.mktemp("two-input")
    model_path, samples_path = write_multi_input_cases(folder)["two_input"]
    out = folder / "maps.npz"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jobs, "DEFAULT_SHARD_SIZE", 10)
        code, _ = _main(
            ["saliency", model_path, "--data", samples_path, "--method", "smoothgrad"]
            + ["--steps", "3", "--out", out, "--ray", "local", "--workers", "2"]
        )
    return code, dict(np.load(out)), model_path, samples_path


def test_several_inputs_on_the_cluster_equal_local(two_input_cli):
    from neurogenesis.analysis.attribution import attribution_info
    from neurogenesis.io.models import load_model
    from neurogenesis.io.samples import load_samples

    code, written, model_path, samples_path = two_input_cli
    assert code == 0
    samples = load_samples(samples_path)
    local = attribution_info(load_model(model_path), samples.x, "smoothgrad", num_samples=3)
    assert {"maps_image", "maps_meta", "attributions_image", "attributions_meta"} <= set(written)
    np.testing.assert_array_equal(written["target"], local.target)
    for name, one in local.inputs.items():
        assert written[f"maps_{name}"].shape[0] == len(samples) == 32
        np.testing.assert_allclose(written[f"maps_{name}"], one.maps, atol=TOLERANCE)
        np.testing.assert_allclose(
            written[f"attributions_{name}"], one.attributions, atol=TOLERANCE
        )


# ---------------------------------------------------------------------------------------------
# Robustness curves: per-shard counts summed


@pytest.fixture(scope="module")
def curves_on_cluster(ray_target, digits, model):
    from neurogenesis.compute import jobs

    x, y, _ = digits
    return jobs.robustness_curves(model, x, y, where=ray_target, **CURVE_OPTIONS)


def test_robustness_curves_on_the_cluster_equal_local(curves_on_cluster, digits, model):
    from neurogenesis.analysis import robustness

    x, y, _ = digits
    local = robustness.robustness_curves(model, x, y, **CURVE_OPTIONS)
    info = curves_on_cluster
    assert info.names == local.names and info.units == local.units
    np.testing.assert_array_equal(info.strength, local.strength)
    np.testing.assert_array_equal(info.value, local.value)
    assert info.clean == local.clean
    np.testing.assert_array_equal(info.per_class, local.per_class)
    np.testing.assert_array_equal(info.class_counts, local.class_counts)
    assert info.class_counts.sum() == COUNT
