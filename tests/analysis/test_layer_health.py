"""Layer health: re-binned histograms, TensorBoard's percentiles, dead units, BatchNormalization."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from neurogenesis.analysis import layer_health as lh
from neurogenesis.errors import InputError
from neurogenesis.io.logs import HistogramSeries, Run, ScalarSeries, find_runs
from neurogenesis.io.recordings import load_activation_stats, read_recording

ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / "data" / "runs"
SHARED_DIGITS_LAYERS = (
    "conv_1",
    "relu_1",
    "conv_2",
    "relu_2",
    "pool",
    "flatten",
    "dropout",
    "probabilities",
)


@pytest.fixture(scope="module")
def runs() -> dict[str, Run]:
    return {run.name: run for run in find_runs(RUNS)}


def _series(buckets_per_step, steps=None, tag="t") -> HistogramSeries:
    steps = np.arange(len(buckets_per_step)) if steps is None else np.asarray(steps)
    return HistogramSeries(
        tag,
        steps,
        np.full(len(buckets_per_step), np.nan),
        tuple(np.asarray(b, dtype=float).reshape(-1, 3) for b in buckets_per_step),
    )


def _tensorboard_buckets(values: np.ndarray, bucket_count: int) -> np.ndarray:
    """Buckets as tf.summary.histogram makes them: equal widths from the minimum to the maximum."""
    low, high = values.min(), values.max()
    edges = np.linspace(low, high, bucket_count + 1)
    counts, _ = np.histogram(values, bins=edges)
    return np.column_stack([edges[:-1], edges[1:], counts.astype(float)])


def _interpolated_quantiles(buckets: np.ndarray, quantiles) -> np.ndarray:
    """Independent reference: invert the piecewise-linear CDF of contiguous, non-empty buckets."""
    edges = np.concatenate([buckets[:1, 0], buckets[:, 1]])
    cdf = np.concatenate([[0.0], np.cumsum(buckets[:, 2])]) / buckets[:, 2].sum()
    return np.interp(quantiles, cdf, edges)


# ----------------------------------------------------------------------------- histograms


def test_rebinning_matches_a_hand_made_case():
    series = _series(
        [
            [[0.0, 1.0, 4.0], [1.0, 3.0, 6.0]],  # the second bucket spans two common bins
            [[2.5, 2.5, 5.0]],  # zero width: all of it in the bin holding 2.5
            [[0.0, 2.0, 10.0]],
        ]
    )
    info = lh.histogram_info(series, num_bins=3)
    np.testing.assert_array_equal(info.edges, [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(info.counts, [[4.0, 3.0, 3.0], [0.0, 0.0, 5.0], [5.0, 5.0, 0.0]])
    np.testing.assert_array_equal(info.total, [10.0, 5.0, 10.0])
    np.testing.assert_allclose(info.density[0], [0.4, 0.3, 0.3])
    np.testing.assert_allclose(info.density.sum(axis=1) * 1.0, [1.0, 1.0, 1.0])
    # mean and std from the bucket centres: 0.5 x4, 2.0 x6
    np.testing.assert_allclose(info.mean[0], (4 * 0.5 + 6 * 2.0) / 10)
    np.testing.assert_allclose(info.std[0], np.sqrt((4 * (0.5 - 1.4) ** 2 + 6 * 0.6**2) / 10))
    assert info.std[1] == 0.0 and info.mean[1] == 2.5
    np.testing.assert_array_equal(info.percentiles[1], np.full(9, 2.5))


def test_rebinning_preserves_every_count_with_per_step_edges():
    rng = np.random.default_rng(0)
    steps = []
    for step in range(40):
        values = rng.normal(loc=step * 0.05, scale=1 + step * 0.02, size=500)
        steps.append(_tensorboard_buckets(values, 30))
    info = lh.histogram_info(_series(steps), num_bins=47)
    raw_totals = np.array([b[:, 2].sum() for b in steps])
    np.testing.assert_array_equal(info.total, raw_totals)
    np.testing.assert_allclose(info.counts.sum(axis=1), raw_totals, rtol=1e-13, atol=0)
    assert info.edges[0] <= min(b[0, 0] for b in steps)
    assert info.edges[-1] >= max(b[-1, 1] for b in steps)
    assert info.counts.shape == (40, 47) and (info.counts >= 0).all()
    np.testing.assert_allclose(info.density.sum(axis=1) * np.diff(info.edges)[0], 1.0)


def test_mean_and_std_from_fine_buckets_match_numpy():
    rng = np.random.default_rng(1)
    values = rng.normal(loc=0.3, scale=1.7, size=200_000)
    info = lh.histogram_info(_series([_tensorboard_buckets(values, 2000)]))
    assert info.mean[0] == pytest.approx(values.mean(), abs=2e-3)
    assert info.std[0] == pytest.approx(values.std(), rel=1e-3)


def test_mean_and_std_are_the_weighted_moments_of_the_bucket_centres():
    buckets = np.array([[-1.0, 0.0, 3.0], [0.0, 0.5, 0.0], [0.5, 2.0, 7.0]])
    info = lh.histogram_info(_series([buckets]))
    centres = (buckets[:, 0] + buckets[:, 1]) / 2
    mean = np.average(centres, weights=buckets[:, 2])
    std = np.sqrt(np.average((centres - mean) ** 2, weights=buckets[:, 2]))
    assert info.mean[0] == pytest.approx(mean, rel=1e-14)
    assert info.std[0] == pytest.approx(std, rel=1e-14)


def test_percentiles_match_a_hand_calculation():
    info = lh.histogram_info(_series([[[0.0, 1.0, 1.0], [1.0, 2.0, 1.0]]]))
    # Uniform on [0, 2]: the q-th quantile is 2q.
    expected = 2 * np.array(lh.DISTRIBUTION_BASIS_POINTS) / 10_000
    np.testing.assert_allclose(info.percentiles[0], expected, rtol=1e-12)


def test_percentiles_match_an_independent_cdf_inversion_and_the_sample():
    rng = np.random.default_rng(2)
    values = rng.normal(size=50_000)
    buckets = _tensorboard_buckets(values, 20)
    assert (buckets[:, 2] > 0).all()  # contiguous and non-empty: the CDF inversion is exact
    info = lh.histogram_info(_series([buckets]))
    quantiles = np.array(lh.DISTRIBUTION_BASIS_POINTS) / 10_000
    np.testing.assert_allclose(
        info.percentiles[0], _interpolated_quantiles(buckets, quantiles), rtol=1e-10, atol=1e-12
    )
    fine = lh.histogram_info(_series([_tensorboard_buckets(values, 3000)]))
    width = (values.max() - values.min()) / 3000
    np.testing.assert_allclose(fine.percentiles[0], np.quantile(values, quantiles), atol=2 * width)


def test_percentiles_equal_tensorboards_compressor_bit_for_bit():
    compressor = pytest.importorskip("tensorboard.plugins.distribution.compressor")
    rng = np.random.default_rng(3)
    cases = []
    for _ in range(25):
        counts = rng.integers(0, 20, size=rng.integers(1, 40)).astype(float)
        counts[rng.random(counts.size) < 0.3] = 0  # empty buckets exercise TensorBoard's quirks
        if counts.sum() == 0:
            counts[-1] = 1
        edges = np.cumsum(rng.random(counts.size + 1)) - 3
        cases.append(np.column_stack([edges[:-1], edges[1:], counts]))
    info = lh.histogram_info(_series(cases))
    for row, buckets in enumerate(cases):
        expected = [value for _, value in compressor.compress_histogram(buckets)]
        np.testing.assert_array_equal(info.percentiles[row], expected)


def test_repeated_steps_keep_the_last_histogram_and_steps_are_sorted():
    series = _series(
        [[[0, 1, 1]], [[5, 6, 1]], [[2, 3, 1]], [[9, 10, 1]]],
        steps=[0, 2, 1, 2],
    )
    info = lh.histogram_info(series)
    np.testing.assert_array_equal(info.steps, [0, 1, 2])
    np.testing.assert_allclose(info.mean, [0.5, 2.5, 9.5])
    assert any("logged again" in note for note in info.notes)


def test_steps_without_values_are_nan_and_said():
    info = lh.histogram_info(_series([[[0, 1, 3]], np.zeros((30, 3)), [[1, 2, 3]]]))
    assert info.total[1] == 0
    assert np.isnan(info.mean[1]) and np.isnan(info.std[1])
    assert np.isnan(info.percentiles[1]).all() and np.isnan(info.density[1]).all()
    assert np.isfinite(info.density[[0, 2]]).all()
    assert any("no values" in note for note in info.notes)


def test_non_finite_edges_and_counts_are_repaired_or_reported():
    series = _series(
        [
            [[-np.inf, 0.0, 2.0], [0.0, 1.0, 2.0], [1.0, np.inf, 0.0]],
            [[np.nan, np.nan, 5.0], [0.0, 1.0, np.nan], [0.0, 1.0, 4.0]],
        ]
    )
    info = lh.histogram_info(series, num_bins=2)
    np.testing.assert_array_equal(info.total, [4.0, 4.0])
    np.testing.assert_allclose(info.counts.sum(axis=1), info.total)
    assert np.isfinite(info.edges).all()
    assert any("left out" in note for note in info.notes)
    assert any("read as 0" in note for note in info.notes)


def test_values_that_never_change_get_a_padded_range():
    info = lh.histogram_info(_series([[[0.0, 0.0, 7.0]], [[0.0, 0.0, 7.0]]]), num_bins=4)
    assert info.edges[0] < 0 < info.edges[-1]
    np.testing.assert_array_equal(info.counts.sum(axis=1), [7.0, 7.0])


def test_bad_histogram_input_says_what_was_wrong():
    with pytest.raises(InputError, match="no steps"):
        lh.histogram_info(_series([]))
    with pytest.raises(InputError, match="histogram series"):
        lh.histogram_info({"steps": []})
    with pytest.raises(InputError, match="num_bins"):
        lh.histogram_info(_series([[[0, 1, 1]]]), num_bins=0)
    with pytest.raises(InputError, match="num_bins"):
        lh.histogram_info(_series([[[0, 1, 1]]]), num_bins=2.5)


def test_histogram_infos_compare_by_value_and_pickle(runs):
    series = runs["digits_cnn/adam"].histograms["activations/relu_1"]
    first, second = lh.histogram_info(series), lh.histogram_info(series)
    assert first == second and first is not second
    assert pickle.loads(pickle.dumps(first)) == first
    assert first != lh.histogram_info(series, num_bins=10)


def test_demo_histograms_give_full_infos(runs):
    run = runs["digits_cnn/adam"]
    for tag, series in run.histograms.items():
        info = lh.histogram_info(series)
        assert info.num_steps == series.num_steps == 12, tag
        raw = np.array([b[:, 2].sum() for b in series.buckets])
        np.testing.assert_allclose(info.counts.sum(axis=1), raw, rtol=1e-12)
        assert np.isfinite(info.percentiles).all() and not info.notes, tag
        assert (np.diff(info.percentiles, axis=1) >= -1e-12).all(), tag
    keras = runs["digits_cnn/keras_callbacks/train"].histograms["conv_1/kernel/histogram"]
    info = lh.histogram_info(keras)
    np.testing.assert_array_equal(info.total, np.full(12, 3 * 3 * 1 * 16))
    constant = runs["weather_lstm/lstm"].histograms["weights/forecast_standardized/bias"]
    info = lh.histogram_info(constant)  # one value per step: TensorBoard's zero-width buckets
    np.testing.assert_array_equal(info.std, np.zeros(info.num_steps))
    np.testing.assert_array_equal(info.percentiles, np.repeat(info.mean[:, None], 9, axis=1))


# ----------------------------------------------------------------------------- dead units


def _stats(frac_zero, frac_saturated=None):
    frac_zero = np.asarray(frac_zero, dtype=np.float32)
    saturated = np.zeros_like(frac_zero) if frac_saturated is None else frac_saturated
    return {
        "mean": np.zeros_like(frac_zero),
        "std": np.ones_like(frac_zero),
        "frac_zero": frac_zero,
        "frac_saturated": np.asarray(saturated, dtype=np.float32),
    }


def _hand_built():
    return [
        (
            1,
            {
                "dense": _stats([1.0, 0.995, 0.5, 0.0], [0.0, 0.0, 1.0, 0.2]),
                "pool": _stats([1.0, 0.0]),
                "probabilities": _stats([0.0, 0.0, 0.0], [0.995, 0.0, 0.0]),
            },
        ),
        (0, {"dense": _stats([0.2, 0.0, 0.0, 0.0]), "pool": _stats([0.1, 0.0])}),
    ]


def test_dead_units_match_a_hand_built_case():
    info = lh.dead_unit_info(_hand_built())
    assert info.layers == ("dense", "pool", "probabilities")
    np.testing.assert_array_equal(info.epochs, [0, 1])
    assert info.epoch == 1
    np.testing.assert_array_equal(info.num_units, [4, 2, 3])
    np.testing.assert_array_equal(info.num_dead[:2], [[0, 2], [0, 1]])
    np.testing.assert_array_equal(info.dead_share[:2], [[0.0, 0.5], [0.0, 0.5]])
    assert np.isnan(info.num_dead[2, 0]) and info.num_dead[2, 1] == 0
    expected_utilization = np.mean(1 - np.float32([1.0, 0.995, 0.5, 0.0]).astype(float))
    assert info.utilization[0, 1] == pytest.approx(expected_utilization, abs=1e-12)
    assert info.utilization[0, 0] == pytest.approx(0.95, abs=1e-7)
    np.testing.assert_array_equal(info.num_saturated[:, 1], [1, 0, 1])
    assert info.saturated_share[2, 1] == pytest.approx(1 / 3)
    assert info.dead_units == ((0, 1), (0,), ())
    np.testing.assert_array_equal(info.dead_indices("dense", epoch=0), [])
    assert any("'probabilities' is missing at 1 of 2" in note for note in info.notes)


def test_the_threshold_and_the_chosen_epoch_change_the_counts():
    info = lh.dead_unit_info(_hand_built(), threshold=1.0, epoch=0)
    np.testing.assert_array_equal(info.num_dead[0], [0, 1])
    assert info.epoch == 0 and info.dead_units[0] == ()
    loose = lh.dead_unit_info(_hand_built(), threshold=0.5)
    np.testing.assert_array_equal(loose.num_dead[0], [0, 3])


def test_layer_kinds_mark_pass_through_and_never_zero_layers():
    stats = {
        "relu": _stats([1.0, 0.4]),
        "max_pool": _stats([1.0, 0.2]),
        "custom_block": _stats([0.9, 0.3]),  # no telling name, but max_pool's share of zeros
        "batch_norm_1": _stats([0.0, 0.0]),
        "probabilities": _stats([0.0, 0.0]),
        "dense": _stats([0.0, 0.0]),
    }
    info = lh.dead_unit_info([(0, stats)])
    kinds = {u.layer: (u.kind, u.inherited_from) for u in info.units}
    assert kinds["relu"] == ("layer", None)
    assert kinds["max_pool"] == ("pass-through", "relu")
    assert kinds["custom_block"] == ("pass-through", "max_pool")
    assert kinds["batch_norm_1"] == ("normalization", None)
    assert kinds["probabilities"] == ("probabilities", None)
    assert kinds["dense"] == ("layer", None)


def test_dead_unit_rows_are_plain_and_truncated():
    many = _stats([1.0] * 20 + [0.0] * 4)
    info = lh.dead_unit_info([(0, {"relu": many, "pool": _stats([0.0])}), (1, {"relu": many})])
    rows = lh.dead_unit_rows(info)
    assert rows[0] == {
        "layer": "relu",
        "units": 24,
        "dead": 20,
        "share dead": pytest.approx(20 / 24),
        "dead units": "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ... (+8 more)",
        "utilization": pytest.approx(4 / 24),
        "saturated": 0,
        "note": "",
    }
    assert rows[1]["dead"] is None and "not recorded" in rows[1]["note"]
    assert "zeros passed on from relu" in rows[1]["note"]
    earlier = lh.dead_unit_rows(info, epoch=0)
    assert earlier[1]["dead"] == 0 and earlier[1]["dead units"] == ""
    json.dumps(rows)  # plain values only
    with pytest.raises(InputError, match="recorded epochs"):
        lh.dead_unit_rows(info, epoch=7)


def test_bad_statistics_raise_clear_errors():
    with pytest.raises(InputError, match="No activation statistics"):
        lh.dead_unit_info([])
    with pytest.raises(InputError, match="more than once"):
        lh.dead_unit_info([(0, {"a": _stats([0.0])}), (0, {"a": _stats([0.0])})])
    with pytest.raises(InputError, match="different epochs"):
        lh.dead_unit_info([(0, {"a": _stats([0.0])}), (1, {"a": _stats([0.0, 1.0])})])
    with pytest.raises(InputError, match="frac_zero"):
        lh.dead_unit_info([(0, {"a": {"mean": np.zeros(2)}})])
    with pytest.raises(InputError, match="threshold"):
        lh.dead_unit_info(_hand_built(), threshold=0)
    with pytest.raises(InputError, match="recorded epochs"):
        lh.dead_unit_info(_hand_built(), epoch=5)
    with pytest.raises(InputError, match="pairs"):
        lh.dead_unit_info([1, 2])


def test_dead_units_from_a_demo_recording_match_the_files(runs):
    run = runs["weather_lstm/lstm_attention"]
    info = lh.dead_unit_info_from_recording(run)
    recording = read_recording(run.path)
    last_epoch, last_file = recording.activation_files[-1]
    stats = load_activation_stats(last_file)
    assert info.layers == tuple(stats)
    assert info.epoch == last_epoch and info.epochs.shape[0] == len(recording.activation_files)
    for row, layer in enumerate(info.layers):
        dead = np.flatnonzero(stats[layer]["frac_zero"] >= lh.DEFAULT_DEAD_THRESHOLD)
        assert info.dead_units[row] == tuple(dead.tolist())
        assert info.utilization[row, -1] == pytest.approx(
            float(np.mean(1 - stats[layer]["frac_zero"].astype(float)))
        )
    assert info.num_dead[info.layers.index("dense"), -1] > 0
    assert lh.dead_unit_info_from_recording(run.path) == info
    assert lh.dead_unit_info_from_recording(recording) == info


def test_a_damaged_activation_file_is_left_out_with_a_note(tmp_path, runs):
    source = Path(runs["digits_cnn/adam_no_bn"].path)
    target = tmp_path / "run"
    target.mkdir()
    shutil.copy(source / "neurogenesis_run.json", target)
    shutil.copytree(source / "activations", target / "activations")
    damaged = sorted((target / "activations").glob("*.npz"))[3]
    damaged.write_bytes(b"not a zip file")
    info = lh.dead_unit_info_from_recording(target)
    assert info.epochs.shape[0] == 11
    assert any(note.startswith("Epoch 3 was left out") for note in info.notes)


def test_runs_without_activation_statistics_say_so(runs):
    with pytest.raises(InputError, match="RunRecorder"):
        lh.dead_unit_info_from_recording(runs["digits_cnn/keras_callbacks/train"])
    with pytest.raises(InputError, match="Expected a recording"):
        lh.dead_unit_info_from_recording(42)


# ----------------------------------------------------------------------------- BatchNormalization


def _fake_run(name, scalars=None, histograms=None, fmt="csv") -> Run:
    def scalar(tag, values):
        values = np.asarray(values, dtype=float)
        n = values.size
        return ScalarSeries(tag, np.arange(n), values, np.full(n, np.nan), np.zeros(n))

    return Run(
        name=name,
        path=f"/nonexistent/{name}",
        format=fmt,
        scalars={tag: scalar(tag, v) for tag, v in (scalars or {}).items()},
        histograms=histograms or {},
        problems=(),
        files=(),
    )


def test_batch_norm_pairs_finds_the_digits_pair(runs):
    pairs = lh.batch_norm_pairs(list(runs.values()))
    assert [(a.name, b.name) for a, b in pairs] == [("digits_cnn/adam", "digits_cnn/adam_no_bn")]
    assert lh.batch_norm_pairs([runs["digits_cnn/adam_no_bn"]]) == []
    assert lh.batch_norm_pairs([_fake_run("x/a"), _fake_run("x/b")]) == []


def test_has_batch_norm_reads_tags_and_hyperparameters(runs):
    assert lh.has_batch_norm(runs["digits_cnn/adam"])
    assert not lh.has_batch_norm(runs["digits_cnn/adam_no_bn"])
    assert lh.has_batch_norm(runs["digits_cnn/keras_callbacks/train"])  # Keras's own tags
    assert not lh.has_batch_norm(runs["digits_cnn/keras_callbacks/training.csv"])
    assert lh.has_batch_norm(
        _fake_run("x", {"gradient_norm/BatchNormalization/gamma": [1.0]}, fmt="tensorboard")
    )
    with pytest.raises(InputError, match="Expected a run"):
        lh.has_batch_norm("digits_cnn/adam")


def test_batch_norm_effect_on_the_digits_pair(runs):
    run_with, run_without = runs["digits_cnn/adam"], runs["digits_cnn/adam_no_bn"]
    info = lh.batch_norm_effect_info(run_with, run_without)
    assert info.run_with == "digits_cnn/adam" and info.run_without == "digits_cnn/adam_no_bn"
    assert info.layers == SHARED_DIGITS_LAYERS  # model order, from the recording
    assert info.layers_only_with == ("batch_norm_1", "batch_norm_2")
    assert info.layers_only_without == () and info.notes == ()
    assert [(c.batch_norm, c.role) for c in info.curves] == [
        (True, "train"),
        (True, "validation"),
        (False, "train"),
        (False, "validation"),
    ]
    np.testing.assert_array_equal(info.curves[0].values, run_with.scalars["train/loss"].values)
    np.testing.assert_array_equal(
        info.curves[3].values, run_without.scalars["validation/loss"].values
    )
    assert len(info.activations) == 2 * len(info.layers)
    for flag, run in ((True, run_with), (False, run_without)):
        series = info.series("conv_2", flag)
        reference = lh.histogram_info(run.histograms["activations/conv_2"])
        np.testing.assert_array_equal(series.steps, reference.steps)
        np.testing.assert_allclose(series.std, reference.std, rtol=1e-12)
        np.testing.assert_allclose(series.mean, reference.mean, rtol=1e-12)
        assert series.run == run.name and (series.std > 0).all()
    accuracy = lh.batch_norm_effect_info(run_with, run_without, metric="accuracy")
    assert {c.tag for c in accuracy.curves} == {"train/accuracy", "validation/accuracy"}
    assert accuracy.layers == info.layers
    assert lh.batch_norm_effect_info(run_with, run_without) == info


def test_batch_norm_effect_reports_what_is_missing(runs):
    with pytest.raises(InputError, match="Expected one of: .*loss"):
        lh.batch_norm_effect_info(runs["digits_cnn/adam"], runs["digits_cnn/adam_no_bn"], "f1")
    with pytest.raises(InputError, match="two different runs"):
        lh.batch_norm_effect_info(runs["digits_cnn/adam"], runs["digits_cnn/adam"])
    with_bn = _fake_run("a/bn", {"loss": [1.0, 0.5], "val_loss": [1.2, 0.7]})
    without = _fake_run("a/plain", {"epoch_loss": [1.1, 0.9]})
    info = lh.batch_norm_effect_info(with_bn, without)
    assert info.layers == () and info.activations == ()
    assert [(c.run, c.role) for c in info.curves] == [
        ("a/bn", "train"),
        ("a/bn", "validation"),
        ("a/plain", "train"),
    ]
    assert any("share no activation histograms" in note for note in info.notes)
    assert any("no sign of BatchNormalization" in note for note in info.notes)


def test_a_logical_runs_histogram_comes_from_the_folder_that_recorded_it(runs):
    folders = [runs["digits_cnn/keras_callbacks/training.csv"], runs["digits_cnn/adam"]]
    tags = lh.histogram_tags(folders)
    assert tags == lh.histogram_tags([runs["digits_cnn/adam"]]) and tags
    activations = [tag for tag in tags if tag.startswith("activations/")]
    assert tags[: len(activations)] == activations
    info = lh.run_histogram_info(folders, tags[0], 12, run_name="adam")
    assert info == lh.histogram_info(runs["digits_cnn/adam"].histograms[tags[0]], 12)
    with pytest.raises(InputError, match="The run 'adam' has no histogram 'nope'"):
        lh.run_histogram_info(folders, "nope", run_name="adam")
