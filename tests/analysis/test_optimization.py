"""Learning rate and optimization: values checked against hand calculations, Keras and the demo runs."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np
import pytest

from neurogenesis.analysis import optimization as opt
from neurogenesis.errors import InputError
from neurogenesis.io.logs import Run, ScalarSeries, find_runs, read_run
from neurogenesis.io.recordings import Recording, load_checkpoint_arrays, read_recording
from neurogenesis.testing import write_csv_log

ROOT = Path(__file__).resolve().parents[2]
DEMO_RUNS = ROOT / "data" / "runs"
DIGITS_LAYERS = ("conv_1", "batch_norm_1", "conv_2", "batch_norm_2", "probabilities")


def _series(tag, values, steps=None):
    values = np.asarray(values, dtype=np.float64)
    steps = np.arange(values.size) if steps is None else np.asarray(steps)
    n = values.size
    return ScalarSeries(tag, steps, values, np.full(n, np.nan), np.zeros(n, np.int32))


def _run(name, scalars, run_format="tensorboard", path="/nowhere"):
    series = {tag: _series(tag, *value) for tag, value in scalars.items()}
    return Run(name, path, run_format, series, {}, (), ())


def _recording(hyperparameters, epochs=5, steps_per_epoch=None):
    params = {} if steps_per_epoch is None else {"steps": steps_per_epoch}
    return Recording(
        "/nowhere", "finished", epochs, hyperparameters, (), (), (), None, None, None, (), None,
        None, params, {},
    )  # fmt: skip


@pytest.fixture(scope="module")
def demo_runs():
    return {run.name: run for run in find_runs(DEMO_RUNS) if run.name.startswith("digits_cnn/")}


# ------------------------------------------------------------------------------------------
# Learning-rate schedules against Keras
# ------------------------------------------------------------------------------------------


def _keras_schedules():
    import keras

    schedules = keras.optimizers.schedules
    f = np.float64  # float64 in Keras too, so both sides compute the exact formula
    return [
        schedules.ExponentialDecay(f(0.1), 50, f(0.9)),
        schedules.ExponentialDecay(f(0.1), 50, f(0.9), staircase=True),
        schedules.PiecewiseConstantDecay([30, 100], [f(0.1), f(0.05), f(0.01)]),
        schedules.InverseTimeDecay(f(0.1), 20, f(0.5)),
        schedules.InverseTimeDecay(f(0.1), 20, f(0.5), staircase=True),
        schedules.PolynomialDecay(f(0.1), 200, f(0.001), power=f(2.0)),
        schedules.PolynomialDecay(f(0.1), 60, f(0.001), power=f(0.5), cycle=True),
        schedules.CosineDecay(f(0.1), 300, alpha=f(0.1)),
        schedules.CosineDecay(f(0.001), 300, alpha=f(0.05), warmup_target=f(0.1), warmup_steps=50),
        schedules.CosineDecayRestarts(f(0.1), 40),
        schedules.CosineDecayRestarts(f(0.1), 40, t_mul=f(1.0), m_mul=f(0.8), alpha=f(0.05)),
        schedules.CosineDecayRestarts(f(0.1), 40, t_mul=f(1.5), m_mul=f(0.9)),
    ]


def test_schedules_match_keras_to_1e6_relative():
    import keras

    every = np.concatenate([np.arange(0, 420, 7), [30, 31, 50, 100, 101, 300, 350]])
    for schedule in _keras_schedules():
        if getattr(schedule, "warmup_target", None) is None:  # vectorised: one call
            iterations = every
            expected = np.asarray(schedule(iterations.astype(np.float64)), dtype=np.float64)
        else:  # the warmup branch is an ops.cond, scalar steps only
            iterations = np.array([0, 1, 25, 49, 50, 51, 120, 349, 350, 351, 500])
            expected = np.array([float(schedule(int(i))) for i in iterations])
        serialized = keras.optimizers.schedules.serialize(schedule)
        ours = opt.evaluate_learning_rate_schedule(serialized, iterations)
        np.testing.assert_allclose(
            ours, expected, rtol=1e-6, atol=1e-15, err_msg=type(schedule).__name__
        )


def test_schedule_from_optimizer_config_float32_keras():
    import keras

    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 50, 0.9)
    config = keras.optimizers.SGD(learning_rate=schedule).get_config()["learning_rate"]
    iterations = np.arange(0, 200, 10)
    expected = np.array([float(schedule(int(i))) for i in iterations])  # float32 in Keras
    ours = opt.evaluate_learning_rate_schedule(config, iterations)
    np.testing.assert_allclose(ours, expected, rtol=1e-6)


def test_schedule_errors_and_constant():
    np.testing.assert_array_equal(opt.evaluate_learning_rate_schedule(0.01, [0, 5]), [0.01, 0.01])
    with pytest.raises(InputError, match="MySchedule"):
        opt.evaluate_learning_rate_schedule({"class_name": "MySchedule", "config": {}}, [0])
    with pytest.raises(InputError, match="decay_steps"):
        opt.evaluate_learning_rate_schedule(
            {"class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.1}}, [0]
        )
    with pytest.raises(InputError, match="one more value"):
        opt.evaluate_learning_rate_schedule(
            {"class_name": "PiecewiseConstantDecay", "config": {"boundaries": [1], "values": [1]}},
            [0],
        )


# ------------------------------------------------------------------------------------------
# Learning-rate series
# ------------------------------------------------------------------------------------------


def test_learning_rate_changes_and_kinds():
    changes, kind = opt.learning_rate_changes([0.1, 0.1, 0.05, 0.05, 0.05, 0.01])
    assert changes.tolist() == [2, 5] and kind == "step decay"
    changes, kind = opt.learning_rate_changes(0.1 * 0.9 ** np.arange(6))
    assert changes.tolist() == [1, 2, 3, 4, 5] and kind == "continuous"
    changes, kind = opt.learning_rate_changes([0.001] * 4)
    assert changes.size == 0 and kind == "constant"
    # float32 rounding is not a change; a NaN next to a number is
    assert opt.learning_rate_changes([0.001, 0.0010000000474974513])[1] == "constant"
    assert opt.learning_rate_changes([0.1, np.nan, np.nan])[0].tolist() == [1]


def test_learning_rate_tags_are_matched_by_name(tmp_path):
    csv_run = read_run(
        write_csv_log(
            tmp_path / "plateau.csv",
            {"loss": [1.0, 0.8, 0.7, 0.7], "lr": [0.1, 0.1, 0.01, 0.01], "val_lr": [1, 1, 1, 1]},
        ),
        use_cache=False,
    )
    tensorboard = _run(
        "logs/train", {"train/Learning_Rate": ([0.5, 0.5],), "epoch_loss": ([1, 2],)}
    )
    keras_tb = _run("k/train", {"epoch_learning_rate": ([0.001, 0.001],)})
    nothing = _run("none", {"loss": ([1.0],)})
    info = opt.learning_rate_info([csv_run, tensorboard, keras_tb, nothing])
    by_run = {series.run: series for series in info.series}
    assert by_run[csv_run.name].tag == "lr"
    assert by_run[csv_run.name].values.tolist() == [0.1, 0.1, 0.01, 0.01]
    assert by_run[csv_run.name].change_steps.tolist() == [2]
    assert by_run[csv_run.name].kind == "step decay"
    assert by_run[csv_run.name].source == "logged"
    assert by_run["logs/train"].tag == "train/Learning_Rate"
    assert by_run["k/train"].kind == "constant"
    assert len(info.series) == 3  # val_lr is not a learning rate
    assert info.notes == ("none logged no learning rate.",)


def test_restarted_log_keeps_the_later_value():
    run = _run("r", {"learning_rate": ([0.1, 0.1, 0.1, 0.05, 0.05], [0, 1, 2, 1, 2])})
    (series,) = opt.learning_rate_info([run]).series
    assert series.steps.tolist() == [0, 1, 2]
    assert series.values.tolist() == [0.1, 0.05, 0.05]


def test_learning_rate_from_optimizer_config_schedule():
    import keras

    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([25, 45], [0.1, 0.01, 0.001])
    config = keras.optimizers.SGD(learning_rate=schedule).get_config()
    run = _run("rec", {"train/loss": ([1.0, 0.9, 0.8, 0.7, 0.6],)}, "neurogenesis")
    recording = _recording({"optimizer": "sgd", "optimizer_config": config}, 5, steps_per_epoch=10)
    (series,) = opt.learning_rate_info([run], recordings={"rec": recording}).series
    assert series.source == "optimizer config" and series.schedule == "PiecewiseConstantDecay"
    assert series.tag is None and "not logged" in series.description
    expected = [float(schedule(10 * (epoch + 1))) for epoch in range(5)]  # rate at epoch end
    np.testing.assert_allclose(series.values, expected, rtol=1e-6)
    assert series.values.tolist() == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001])
    assert series.change_steps.tolist() == [2, 4]


def test_learning_rate_from_constant_config_and_unknown_batches():
    run = _run("rec", {"train/loss": ([1.0, 0.9, 0.8],)}, "neurogenesis")
    constant = _recording({"optimizer_config": {"name": "adam", "learning_rate": 0.003}}, 3)
    (series,) = opt.learning_rate_info([run], recordings={"rec": constant}).series
    assert series.values.tolist() == [0.003] * 3 and series.kind == "constant"
    schedule = {
        "class_name": "ExponentialDecay",
        "config": {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5},
    }
    unknown = _recording({"optimizer_config": {"learning_rate": schedule}}, 3)
    info = opt.learning_rate_info([run], recordings={"rec": unknown})
    assert info.series == () and "how many batches" in info.notes[0]


def test_demo_learning_rates(demo_runs):
    info = opt.learning_rate_info(demo_runs.values())
    by_run = {series.run: series for series in info.series}
    assert by_run["digits_cnn/sgd"].values[0] == pytest.approx(0.01)
    assert by_run["digits_cnn/adam"].kind == "constant"
    assert by_run["digits_cnn/keras_callbacks/train"].tag == "epoch_learning_rate"
    assert all(series.source == "logged" for series in info.series)


# ------------------------------------------------------------------------------------------
# Gradient norms
# ------------------------------------------------------------------------------------------


def test_gradient_norms_per_layer_are_exact_l2():
    scalars = {
        "gradient_norm/dense_a/kernel": ([3.0, 1.0, 2.0],),
        "gradient_norm/dense_a/bias": ([4.0, 1.0],),  # missing at step 2
        "gradient_norm/b/kernel": ([1.0, np.inf, 0.5],),
        "gradient_norm/global": ([math.sqrt(26), np.inf, 1.5],),
        "train/loss": ([1.0, 0.5, 0.2],),
    }
    run = _run("r", scalars)
    info = opt.gradient_norm_info(run, variable_order=["dense_a/kernel", "dense_a/bias", "b"])
    assert info.available and info.order_source == "given"
    assert info.names == ("dense_a", "b")
    assert info.variables == (("dense_a/kernel", "dense_a/bias"), ("b/kernel",))
    assert info.steps.tolist() == [0, 1, 2]
    np.testing.assert_allclose(info.norms[0, :2], [5.0, math.sqrt(2.0)])
    assert np.isnan(info.norms[0, 2])  # one of the layer's variables was not logged
    assert info.norms[1, 0] == 1.0 and np.isinf(info.norms[1, 1])
    assert info.global_source == "logged" and info.global_norms[0] == pytest.approx(math.sqrt(26))
    assert info.first_nonfinite_step == 1

    by_variable = opt.gradient_norm_info(run, by="variable")
    assert by_variable.order_source == "log"
    assert by_variable.names == ("dense_a/kernel", "dense_a/bias", "b/kernel")  # as read
    np.testing.assert_array_equal(by_variable.norms[0], [3.0, 1.0, 2.0])


def test_global_norm_is_computed_when_not_logged():
    run = _run("r", {"gradient_norm/a/kernel": ([3.0],), "gradient_norm/b/bias": ([4.0],)})
    info = opt.gradient_norm_info(run)
    assert info.global_source == "computed" and info.global_norms.tolist() == [5.0]


def test_keras_callback_logs_have_no_gradient_norms(demo_runs):
    info = opt.gradient_norm_info(demo_runs["digits_cnn/keras_callbacks/train"])
    assert not info.available
    assert "TensorBoard" in info.reason and "RunRecorder" in info.reason
    assert info.norms.shape == (0, 0) and info.names == ()
    csv_info = opt.gradient_norm_info(demo_runs["digits_cnn/keras_callbacks/training.csv"])
    assert not csv_info.available
    with pytest.raises(InputError, match="by='layer'"):
        opt.gradient_norm_info(demo_runs["digits_cnn/adam"], by="neuron")


def test_demo_gradient_norms_in_model_order(demo_runs):
    run = demo_runs["digits_cnn/adam"]
    info = opt.gradient_norm_info(run)
    assert info.names == DIGITS_LAYERS and info.order_source == "model"
    assert info.steps.tolist() == list(range(12))
    # The logged global norm is the L2 norm over all variables, hence over all layers.
    np.testing.assert_allclose(np.sqrt(np.sum(info.norms**2, axis=0)), info.global_norms, rtol=1e-5)
    kernel = run.scalars["gradient_norm/probabilities/kernel"].values
    bias = run.scalars["gradient_norm/probabilities/bias"].values
    np.testing.assert_allclose(info.norms[-1], np.hypot(kernel, bias))


# ------------------------------------------------------------------------------------------
# Weight evolution
# ------------------------------------------------------------------------------------------


def _checkpoints():
    """Layer ``a`` moves [1,0], [0,1], [0,-1]; layer ``b`` never moves; optimizer state ignored."""
    a = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [1.0, 0.0]]
    bias = [[2.0], [2.0], [2.0], [2.0]]
    checkpoints = []
    for step in range(4):
        checkpoints.append(
            {
                "a/kernel": np.array(a[step], np.float32),
                "a/bias": np.array(bias[step], np.float32),
                "b/kernel": np.array([[3.0, 4.0]], np.float32),
                "b/moving_mean": np.array([float(step)], np.float32),
                "adam/iteration": np.array(step, np.int64),
                "adam/a_kernel_momentum": np.full(2, float(step), np.float32),
                "custom_opt/slot": np.full(2, float(step), np.float32),
            }
        )
    return [-1, 0, 1, 2], checkpoints


def test_weight_evolution_by_hand():
    epochs, checkpoints = _checkpoints()
    info = opt.weight_evolution_info(epochs, checkpoints, optimizer_name="custom_opt")
    assert info.names == ("a", "b") and info.initial_epoch == -1
    assert info.variables == (("a/kernel", "a/bias"), ("b/kernel",))
    assert info.num_parameters.tolist() == [3, 2]
    np.testing.assert_allclose(info.norms[0], [2.0, math.sqrt(5), math.sqrt(6), math.sqrt(5)])
    np.testing.assert_allclose(info.norms[1], [5.0] * 4)
    np.testing.assert_allclose(info.distances[0], [0.0, 1.0, math.sqrt(2), 1.0])
    np.testing.assert_allclose(info.relative_distances[0], [0.0, 0.5, math.sqrt(2) / 2, 0.5])
    np.testing.assert_allclose(info.distances[1], 0.0)
    assert info.update_epochs.tolist() == [[-1, 0], [0, 1], [1, 2]]
    assert info.cosine_epochs.tolist() == [[-1, 0, 1], [0, 1, 2]]
    np.testing.assert_allclose(info.update_norms[0], [1.0, 1.0, 1.0])
    np.testing.assert_allclose(info.update_cosines[0], [0.0, -1.0], atol=1e-12)
    assert np.isnan(info.update_cosines[1]).all()  # b never moved: cosine undefined, not 0
    np.testing.assert_allclose(info.model_update_cosines, [0.0, -1.0], atol=1e-12)
    np.testing.assert_allclose(info.model_norms[0], math.sqrt(4 + 25))
    assert info.notes == ()


def test_cosine_of_same_direction_and_model_norms_against_concatenation():
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=(3, 4))]
    for step in ([1, 0], [1, 0], [-1, 0]):  # +1 then -1 along a fixed direction
        weights.append(weights[-1] + np.outer([1, 2, 3], step + [0, 0]))
    checkpoints = [{"d/kernel": w, "d/bias": np.arange(3.0) * i} for i, w in enumerate(weights)]
    info = opt.weight_evolution_info([0, 1, 2, 3], checkpoints, by="variable")
    assert info.names == ("d/kernel", "d/bias")
    np.testing.assert_allclose(info.update_cosines[0], [1.0, -1.0])
    np.testing.assert_allclose(info.update_cosines[1], [1.0, 1.0])
    for t in range(4):
        vector = np.concatenate([weights[t].ravel(), np.arange(3.0) * t])
        start = np.concatenate([weights[0].ravel(), np.zeros(3)])
        assert info.model_norms[t] == pytest.approx(np.linalg.norm(vector))
        assert info.model_distances[t] == pytest.approx(np.linalg.norm(vector - start))
    deltas = [
        np.concatenate([(weights[k] - weights[k - 1]).ravel(), np.arange(3.0)]) for k in (1, 2, 3)
    ]
    for k in range(2):
        a, b = deltas[k], deltas[k + 1]
        expected = a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
        assert info.model_update_cosines[k] == pytest.approx(expected)
    assert np.isnan(info.relative_distances[1]).all()  # bias starts at zero


def test_weight_selection_rule_and_options():
    epochs, checkpoints = _checkpoints()
    default = opt.weight_evolution_info(epochs, checkpoints, by="variable")
    assert "b/moving_mean" not in default.names and "adam/a_kernel_momentum" not in default.names
    assert "custom_opt/slot" in default.names  # unknown name: only optimizer_name excludes it
    with_stats = opt.weight_evolution_info(
        epochs, checkpoints, by="variable", include_non_trainable=True, optimizer_name="custom_opt"
    )
    assert with_stats.names == ("a/kernel", "a/bias", "b/kernel", "b/moving_mean")
    assert opt.is_model_weight("dense/kernel", np.zeros((2, 2)))
    assert not opt.is_model_weight("adam_12/learning_rate", np.zeros(3))
    assert not opt.is_model_weight("dense/counter", np.zeros(3, np.int64))
    assert not opt.is_model_weight("dense/scale", np.float32(1.0))
    assert opt.layer_of("attention_1/query/kernel") == "attention_1"
    assert opt.layer_of("lstm/lstm_cell/bias") == "lstm"
    assert opt.layer_of("layers/dense/vars/0") == "dense"


def test_unsorted_missing_reshaped_and_diverged_checkpoints():
    epochs, checkpoints = _checkpoints()
    del checkpoints[2]["a/bias"]
    checkpoints[3]["b/kernel"] = np.array([3.0, 4.0, 0.0], np.float32)
    checkpoints[3]["a/kernel"] = np.array([np.nan, 0.0], np.float32)
    order = [3, 1, 0, 2]
    info = opt.weight_evolution_info(
        [epochs[i] for i in order], [checkpoints[i] for i in order], optimizer_name="custom_opt"
    )
    assert info.epochs.tolist() == [-1, 0, 1, 2]
    assert info.names == ("a",) and info.variables == (("a/kernel",),)
    notes = " ".join(info.notes)
    assert "a/bias: it is missing at epoch 1" in notes
    assert "b/kernel: its shape changed from (1, 2) to (3,) at epoch 2" in notes
    assert "a/kernel holds NaN or Inf from epoch 2" in notes
    assert info.first_nonfinite_epoch == 2
    assert np.isnan(info.norms[0, 3]) and np.isnan(info.update_cosines[0, 1])
    assert info.update_cosines[0, 0] == pytest.approx(0.0)


def test_weight_evolution_bad_input():
    with pytest.raises(InputError, match="one epoch per checkpoint"):
        opt.weight_evolution_info([0, 1], [{"a/k": np.ones(2)}])
    with pytest.raises(InputError, match="each epoch once"):
        opt.weight_evolution_info([0, 0], [{"a/k": np.ones(2)}] * 2)
    with pytest.raises(InputError, match="model weights"):
        opt.weight_evolution_info([0], [{"adam/iteration": np.array(3)}])
    single = opt.weight_evolution_info([0], [{"a/k": np.ones(2)}])
    assert single.update_cosines.shape == (1, 0) and "three checkpoints" in single.notes[0]


def test_demo_weight_evolution_lines_up_with_gradient_norms(demo_runs):
    recording = read_recording(DEMO_RUNS / "digits_cnn" / "adam")
    info = opt.weight_evolution_from_recording(recording)
    gradients = opt.gradient_norm_info(demo_runs["digits_cnn/adam"])
    assert info.names == gradients.names == DIGITS_LAYERS
    assert info.epochs.tolist() == [epoch for epoch, _ in recording.checkpoints]
    assert info.variables[1] == ("batch_norm_1/gamma", "batch_norm_1/beta")  # no moving stats
    np.testing.assert_array_equal(info.distances[:, 0], 0.0)
    assert (info.distances[:, -1] > 0).all()
    last = load_checkpoint_arrays(recording.checkpoints[-1][1])
    vector = np.concatenate(
        [last[v].ravel().astype(np.float64) for group in info.variables for v in group]
    )
    assert info.model_norms[-1] == pytest.approx(np.linalg.norm(vector), rel=1e-9)
    finite = info.update_cosines[np.isfinite(info.update_cosines)]
    assert finite.size and (np.abs(finite) <= 1).all()
    assert info == pickle.loads(pickle.dumps(info))


def test_transformer_layers_match_gradient_tags():
    run = read_run(DEMO_RUNS / "sentiment_transformer" / "adam")
    gradients = opt.gradient_norm_info(run)
    first = read_recording(run.path).checkpoints[0][1]
    arrays = load_checkpoint_arrays(first)
    info = opt.weight_evolution_info([-1, 0], [arrays, arrays])
    assert info.names == gradients.names
    assert "attention_1" in info.names and "attention_1/query" not in info.names
    assert "attention_1/query/kernel" in info.variables[info.names.index("attention_1")]


# ------------------------------------------------------------------------------------------
# Individual weights
# ------------------------------------------------------------------------------------------


def test_weight_trajectories_pick_the_weights_that_moved_most():
    start = np.zeros((2, 3))
    end = np.array([[0.1, -0.5, 0.0], [0.3, 0.0, np.nan]])
    checkpoints = [{"w": start}, {"w": (start + end) / 2}, {"w": end}]
    info = opt.weight_trajectories([-1, 0, 1], checkpoints, "w", count=3)
    assert info.selected_by == "largest movement" and info.shape == (2, 3)
    assert info.flat_indices.tolist() == [5, 1, 3]  # NaN first (diverged), then |-0.5|, 0.3
    assert info.labels == ("w[1,2]", "w[0,1]", "w[1,0]")
    np.testing.assert_allclose(info.values[1], [0.0, -0.25, -0.5])
    assert info.movement[0] == np.inf and info.movement[1] == pytest.approx(0.5)
    chosen = opt.weight_trajectories([-1, 0, 1], checkpoints, "w", indices=[(0, 0), 4])
    assert chosen.flat_indices.tolist() == [0, 4] and chosen.labels == ("w[0,0]", "w[1,1]")
    with pytest.raises(InputError, match="from 0 to 5"):
        opt.weight_trajectories([0], [{"w": start}], "w", indices=[6])
    with pytest.raises(InputError, match="missing at epochs"):
        opt.weight_trajectories([0, 1], [{"w": start}, {"v": start}], "w")
    with pytest.raises(InputError, match="count"):
        opt.weight_trajectories([0], [{"w": start}], "w", count=0)


def test_demo_weight_trajectories():
    recording = read_recording(DEMO_RUNS / "digits_cnn" / "sgd")
    info = opt.weight_trajectories_from_recording(recording, "conv_1/kernel", count=4)
    assert info.values.shape == (4, len(recording.checkpoints))
    assert info.labels[0].startswith("conv_1/kernel[") and info.labels[0].count(",") == 3
    assert np.all(np.diff(info.movement) <= 0)


# ------------------------------------------------------------------------------------------
# Optimizer comparison
# ------------------------------------------------------------------------------------------


def test_optimizer_comparison_summary_by_hand():
    steady = _run(
        "exp/a",
        {
            "train/loss": ([1.0, 0.5, 0.3, 0.29],),
            "validation/loss": ([1.1, 0.6, 0.4, 0.41],),
            "gradient_norm/global": ([2.0, 1.0, 0.5, 0.4],),
            "learning_rate": ([0.1, 0.1, 0.01, 0.01],),
        },
    )
    diverged = _run("exp/b", {"loss": ([1.0, np.nan, np.nan],), "val_loss": ([1.0, np.inf, 2],)})
    no_loss = _run("exp/c", {"accuracy": ([0.5],)})
    hyper = {"exp/a": {"optimizer": "sgd", "learning_rate": 0.1}}
    info = opt.optimizer_comparison_info([steady, diverged, no_loss], hyperparameters=hyper)
    assert info.goal == "min" and [e.run for e in info.runs] == ["exp/a", "exp/b"]
    assert info.notes == ("exp/c has no loss series, so it is left out.",)
    a, b = info.runs
    assert a.label == "SGD, lr 0.1" and b.label == "exp/b"
    assert (a.best_value, a.best_epoch, a.best_role) == (0.4, 2, "validation")
    assert (a.epochs_to_near_best, a.near_best_epoch) == (3, 2)  # 0.4 <= 0.4 * 1.05
    assert a.final_train == 0.29 and a.diverged_epoch is None
    assert a.gradient_norms.tolist() == [2.0, 1.0, 0.5, 0.4]
    assert (
        a.learning_rates.tolist() == [0.1, 0.1, 0.01, 0.01] and a.learning_rate_source == "logged"
    )
    assert b.diverged_epoch == 1 and math.isnan(b.final_train)
    assert (b.best_value, b.best_epoch) == (1.0, 0)
    assert b.gradient_steps.size == 0 and b.learning_rate_source is None
    rows = info.summary_rows()
    assert rows[0] == {
        "run": "exp/a",
        "optimizer": "SGD, lr 0.1",
        "learning rate": 0.1,
        "best loss": 0.4,
        "best on": "validation",
        "best epoch": 2,
        "final train loss": 0.29,
        "epochs to within 5% of best": 3,
        "diverged at epoch": None,
    }
    assert rows[1]["final train loss"] is None and rows[1]["diverged at epoch"] == 1
    assert info == pickle.loads(pickle.dumps(info))


def test_accuracy_is_maximized_and_train_only_falls_back():
    run = _run("r", {"accuracy": ([0.5, 0.91, 0.88, 0.95],)})
    (entry,) = opt.optimizer_comparison_info([run], metric="accuracy").runs
    assert entry.best_role == "train" and entry.best_value == 0.95 and entry.best_epoch == 3
    assert entry.epochs_to_near_best == 2  # 0.91 >= 0.95 - 0.0475
    with pytest.raises(InputError, match="goal"):
        opt.optimizer_comparison_info([run], goal="up")


def test_demo_optimizer_comparison(demo_runs):
    names = ["digits_cnn/adam", "digits_cnn/sgd", "digits_cnn/rmsprop", "digits_cnn/adam_no_bn"]
    keras_runs = ["digits_cnn/keras_callbacks/train", "digits_cnn/keras_callbacks/validation"]
    info = opt.optimizer_comparison_info([demo_runs[n] for n in names + keras_runs])
    labels = {entry.run: entry.label for entry in info.runs}
    assert labels["digits_cnn/sgd"] == "SGD, lr 0.01"
    assert labels["digits_cnn/rmsprop"] == "RMSprop, lr 0.001"
    assert labels["digits_cnn/adam"] == "Adam, lr 0.001 (adam)"
    assert labels["digits_cnn/adam_no_bn"] == "Adam, lr 0.001 (adam_no_bn)"
    merged = next(e for e in info.runs if e.run == "digits_cnn/keras_callbacks")
    assert merged.train_values.size == 12 and merged.validation_values.size == 12
    assert merged.gradient_steps.size == 0 and merged.learning_rates.size == 12
    for entry in info.runs[:4]:
        assert entry.gradient_norms.size == 12 and entry.learning_rates.size == 12
        validation = demo_runs[entry.run].scalars["validation/loss"].values
        assert entry.best_value == np.min(validation)
    assert len(info.summary_rows()) == 5


def test_the_gradient_norms_come_from_the_folder_that_logged_them(demo_runs):
    csv = demo_runs["digits_cnn/keras_callbacks/training.csv"]
    recorded = demo_runs["digits_cnn/adam"]
    assert any(tag.startswith(opt.GRADIENT_NORM_PREFIX) for tag in recorded.scalars)
    assert opt.gradient_norm_run([csv, recorded]) is recorded
    assert opt.gradient_norm_run([csv]) is csv
