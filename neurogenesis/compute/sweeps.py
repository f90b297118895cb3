"""A demo scenario's sweep on a Ray cluster through Ray Tune (``neurogenesis sweep --ray``).

Tune runs the trials: a grid or random points from the same :func:`neurogenesis.zoo.plan_sweep`
as a sweep on this machine, or Optuna's TPE searching the scenario's random space; optionally
ASHA stops trials whose metric falls behind. Each trial trains its point exactly as a sweep on
this machine does (:func:`neurogenesis.zoo.common.train_sweep_point`) into ``DIR/<point>``, so
``DIR`` must be a folder every worker can write (a shared path; on ``--ray local``, this
machine's disk), and reports its metrics to Tune after every epoch.

``DIR/sweep.json`` is written by the driver alone, from Tune's results, in the schema of a sweep
on this machine (:func:`neurogenesis.zoo.common.run_sweep`): rewritten atomically at the start and
after every finished trial, so the Hyperparameters page sees trials land live. It adds
``engine`` (``"ray tune"``), ``search``, ``scheduler``, ``trials`` (how many trials the
searcher runs; for TPE ``planned`` grows as it suggests points), ``cluster`` and ``retries``
(trials run again after their worker died). A trial ASHA stopped is listed
with ``"state": "pruned"``; its run's manifest says ``"stopped"`` and how many epochs it
completed. A ``STOP`` file in ``DIR`` ends the sweep as on this machine. A worker that dies costs
its trial, which Tune runs again from the start (:data:`MAX_TRIAL_FAILURES`).

Imported only when a user names a cluster; needs ``pip install neurogenesis[ray]``.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neurogenesis.compute import ClusterError, ComputeTarget
from neurogenesis.errors import InputError
from neurogenesis.io.run_folder import (
    RUN_MANIFEST_NAME,
    STOP_FILE,
    SWEEP_FILE,
    read_manifest,
    read_sweep_summary,
    replace_text,
    stop_requested,
)

__all__ = [
    "ENGINE",
    "SEARCHES",
    "TunePlan",
    "run_tune_sweep",
    "tune_setup",
    "tune_space",
]

ENGINE = "ray tune"
"""``sweep.json``'s ``engine`` for a sweep Ray Tune ran."""
SEARCHES = ("grid", "random", "tpe")
"""The searchers: every point of a grid, random points, Optuna's TPE."""
DEFAULT_TRIALS = 8
"""Trials of a random or TPE search when no count is given (the dashboard's default)."""
ASHA_GRACE_EPOCHS = 1
"""ASHA lets every trial train this many epochs before it may stop one."""
ASHA_REDUCTION_FACTOR = 2
"""ASHA keeps about one trial in this many at each rung."""
MAX_TRIAL_FAILURES = 3
"""How often a trial is run again after its worker died before the sweep counts it failed."""
EXIT_WAIT_SECONDS = 30.0
"""How long a trial's worker, told to exit, waits for the run's recording to finish."""
SETTLE_SECONDS = 30.0
"""How long the driver waits, at the end, for stopped trials' workers to mark their runs (a
loaded machine may take seconds to close a recording); it marks those that did not."""
SETTLE_POLL_SECONDS = 0.1
TUNE_FOLDER = ".tune"
"""Tune's own experiment state, inside the sweep folder (hidden: the run readers skip it)."""

STOPPED_BY_ASHA = "Stopped by Ray Tune's ASHA scheduler (its metric fell behind)"
STOPPED_BY_SWEEP = "Stopped by the sweep's stop file"
EXITED_NOTE = "The process exited while training was running"  # the recorder's exit hook

# What a trial reports to Tune besides its metrics (top level, for the scheduler).
_EPOCH_KEY = "neurogenesis_epoch"
_LOGS_KEY = "neurogenesis_logs"
_POINT_KEY = "point"


@dataclass(frozen=True)
class TunePlan:
    """What Tune searches.

    Attributes:
        search: one of :data:`SEARCHES`.
        points: for ``grid`` and ``random``: the checked points, in order (from ``plan_sweep``).
        space: for ``tpe``: parameter -> a list of choices or a ``(low, high, "log" | "linear")``
            range (the scenario's random space with ``--grid`` choices put in).
        trials: for ``tpe``: how many trials.
        seed: the TPE sampler's seed.
        asha: stop trials early with ASHA on the scenario's metric and goal.
    """

    search: str
    points: tuple[dict[str, Any], ...] = ()
    space: Mapping[str, Any] | None = None
    trials: int = DEFAULT_TRIALS
    seed: int = 0
    asha: bool = False

    @property
    def num_trials(self) -> int:
        return len(self.points) if self.search != "tpe" else int(self.trials)


def tune_space(space: Mapping[str, Any]) -> dict[str, Any]:
    """A scenario's random space as Tune's search space (what Optuna's TPE samples).

    Choices become ``tune.choice``; a ``(low, high, "log")`` range ``tune.loguniform`` (whole
    number bounds: ``tune.lograndint``, high included), ``"linear"`` ``tune.uniform``
    (``tune.randint``).

    Raises:
        InputError: a malformed space (as :func:`neurogenesis.zoo.random_sweep_points` says).
    """
    from ray import tune

    from neurogenesis.zoo.common import _is_range, _sampler

    converted: dict[str, Any] = {}
    for name, values in space.items():
        _sampler(name, values)  # checks the range or the choices
        if _is_range(values):
            low, high, scale = values
            if isinstance(low, int) and isinstance(high, int):
                converted[name] = (tune.lograndint if scale == "log" else tune.randint)(
                    low, high + 1
                )
            else:
                converted[name] = (tune.loguniform if scale == "log" else tune.uniform)(low, high)
        else:
            converted[name] = tune.choice(list(values))
    return converted


def tune_setup(plan: TunePlan, metric: str, goal: str, epochs: int, workers: int):
    """Tune's search space and ``TuneConfig`` for a plan (no cluster needed: tests check it).

    Grid and random points are one ``tune.grid_search`` over the planned points (each trial gets
    one under ``"point"``); TPE is ``OptunaSearch`` with a seeded ``TPESampler`` over
    :func:`tune_space`. ASHA (``ASHAScheduler``) judges trials by ``metric`` and ``goal`` per
    epoch, up to ``epochs``. At most ``workers`` trials run at once.

    Returns:
        ``(param_space, tune_config)``.
    """
    from ray import tune

    if plan.search not in SEARCHES:
        raise InputError(
            f"Expected --search one of {', '.join(SEARCHES)}. Received: {plan.search!r}."
        )
    mode = "max" if goal == "max" else "min"
    options: dict[str, Any] = {"max_concurrent_trials": max(1, int(workers))}
    if plan.search == "tpe":
        import optuna
        from ray.tune.search.optuna import OptunaSearch

        if plan.space is None or int(plan.trials) < 1:
            raise InputError("Expected a space and at least 1 trial for --search tpe.")
        param_space = tune_space(plan.space)
        options["search_alg"] = OptunaSearch(
            metric=metric, mode=mode, sampler=optuna.samplers.TPESampler(seed=int(plan.seed))
        )
        options["num_samples"] = int(plan.trials)
    else:
        if not plan.points:
            raise InputError("Expected at least one sweep point. Received none.")
        param_space = {_POINT_KEY: tune.grid_search([dict(point) for point in plan.points])}
        options["num_samples"] = 1
    if plan.asha:
        from ray.tune.schedulers import ASHAScheduler

        options["scheduler"] = ASHAScheduler(
            metric=metric,
            mode=mode,
            time_attr="training_iteration",  # one report per epoch
            max_t=max(1, int(epochs)),
            grace_period=min(ASHA_GRACE_EPOCHS, max(1, int(epochs))),
            reduction_factor=ASHA_REDUCTION_FACTOR,
        )
    return param_space, tune.TuneConfig(**options)


def run_name(search: str, params: Mapping[str, Any], trial_id: str) -> str:
    """A trial's run folder: the point's name as on this machine (``lr_0.001_width_8``); a TPE
    trial's is prefixed with its Tune trial id (``trial_241f8736_lr_0.000682408_width_4``), as
    TPE may suggest a point twice."""
    from neurogenesis.zoo.common import sweep_run_name

    name = sweep_run_name(dict(params))
    if search != "tpe":
        return name
    number = trial_id.rsplit("_", 1)[-1]
    return f"trial_{int(number):03d}_{name}" if number.isdigit() else f"trial_{trial_id}_{name}"


def _trial_params(config: Mapping[str, Any]) -> dict[str, Any]:
    return dict(config[_POINT_KEY]) if _POINT_KEY in config else dict(config)


def _report_callback(epochs: int, recorded: threading.Event):
    """A Keras callback, after the recorder's, that reports every epoch's metrics to Tune; when
    Tune ends the trial before its last epoch (ASHA, or the sweep's stop) the training ends
    after that epoch and ``ended_after`` says after how many. ``recorded`` is set once the
    run's recording is complete."""
    import keras
    from ray import tune

    class ReportToTune(keras.callbacks.Callback):
        ended_after: int | None = None

        def on_epoch_end(self, epoch, logs=None):
            logs = {key: float(value) for key, value in (logs or {}).items()}
            try:
                tune.report({**logs, _EPOCH_KEY: epoch + 1, _LOGS_KEY: json.dumps(logs)})
            except SystemExit:
                # Tune's way of ending a trial (also after its last epoch). The epoch is already
                # recorded; Tune may end this worker process at once, and its exit first waits
                # for the recording to close (this handler, registered after the recorder's,
                # runs before it).
                atexit.register(recorded.wait, EXIT_WAIT_SECONDS)
                if epoch + 1 < epochs:
                    self.ended_after = epoch + 1
                    self.model.stop_training = True

    return ReportToTune()


def _train_trial(
    config: dict, *, scenario: str, sweep_dir: str, epochs: int, search: str, threads: float
) -> None:
    """One Tune trial, on a worker: the point's recorded run, metrics reported per epoch."""
    from ray import tune

    from neurogenesis.compute.ray import _set_threads
    from neurogenesis.zoo import SCENARIOS
    from neurogenesis.zoo.common import train_sweep_point

    _set_threads(threads)
    params = _trial_params(config)
    name = run_name(search, params, tune.get_context().get_trial_id())
    recorded = threading.Event()
    report = _report_callback(epochs, recorded)
    try:
        train_sweep_point(
            SCENARIOS[scenario],
            Path(sweep_dir),
            params,
            epochs=epochs,
            run_name=name,
            callbacks=[report],
        )
        if report.ended_after is not None:  # the recorder saw a fit that ended on its own
            why = STOPPED_BY_SWEEP if stop_requested(sweep_dir) else STOPPED_BY_ASHA
            _mark_stopped(Path(sweep_dir) / name, epochs, why)
    finally:
        recorded.set()


def _mark_stopped(run_dir: Path, epochs: int, why: str) -> None:
    """The manifest of a run Tune ended early says stopped, why, and after how many epochs.

    The recorder cannot know: it saw a fit that ended (``"finished"``), or its worker went
    before the fit ended (``"running"``, or ``"failed"`` by its exit hook). The trial writes
    this once its recording is closed; the driver, once Tune is done, for the runs whose
    workers went first (:func:`_settle_pruned`).
    """
    manifest = read_manifest(run_dir)
    if not manifest:
        return
    notes = manifest.get("notes") if isinstance(manifest.get("notes"), list) else []
    if manifest.get("status") == "stopped" and any(str(n).startswith(why) for n in notes):
        return
    manifest["status"] = "stopped"
    notes = [n for n in notes if not str(n).startswith(EXITED_NOTE)]
    done = manifest.get("epochs_completed")
    manifest["notes"] = [*notes, f"{why} after {done} of {epochs} epochs."]
    replace_text(run_dir / RUN_MANIFEST_NAME, json.dumps(manifest, indent=1) + "\n")


def _says_stopped(run_dir: Path) -> bool:
    manifest = read_manifest(run_dir)
    notes = manifest.get("notes") if isinstance(manifest.get("notes"), list) else []
    return manifest.get("status") == "stopped" and any(
        str(note).startswith((STOPPED_BY_ASHA, STOPPED_BY_SWEEP)) for note in notes
    )


def _settle_pruned(sweep_dir: Path, points: Sequence[Mapping[str, Any]], epochs: int) -> None:
    """Once Tune is done: every run ASHA stopped says so. Tune does not wait for a stopped
    trial's worker, which marks its run itself a moment later (:data:`SETTLE_SECONDS` at most);
    the runs of workers that went first are marked here."""
    pending = [sweep_dir / point["run"] for point in points if point.get("state") == "pruned"]
    deadline = time.monotonic() + SETTLE_SECONDS
    while pending and time.monotonic() < deadline:
        pending = [run_dir for run_dir in pending if not _says_stopped(run_dir)]
        if pending:
            time.sleep(SETTLE_POLL_SECONDS)
    for run_dir in pending:
        _mark_stopped(run_dir, epochs, STOPPED_BY_ASHA)


def _sweep_writer(
    sweep_dir: Path,
    summary: dict,
    *,
    search: str,
    epochs: int,
    progress: Callable[[dict, dict], None] | None,
):
    """A Tune callback on the driver: keeps every trial's history and rewrites ``sweep.json``
    after every finished trial (one writer, atomic rewrites)."""
    from ray import tune

    from neurogenesis.zoo.common import point_summary

    metric, goal = summary["metric"], summary["goal"]

    class SweepWriter(tune.Callback):
        def __init__(self):
            self.histories: dict[str, dict[str, dict[int, float]]] = {}
            self.done: dict[str, dict] = {}
            self.order: list[str] = [run_name(search, p, "") for p in summary["planned"]]
            self.pruned: list[str] = []

        def _name(self, trial) -> str:
            return run_name(search, _trial_params(trial.config), trial.trial_id)

        def on_trial_start(self, iteration, trials, trial, **info):
            if search == "tpe":
                name = self._name(trial)
                if name not in self.order:
                    self.order.append(name)
                    summary["planned"].append(_trial_params(trial.config))
                    write(summary)

        def on_trial_recover(self, iteration, trials, trial, **info):
            # The trial runs again from its first epoch (its worker died).
            self.histories.pop(trial.trial_id, None)
            summary["retries"] = summary.get("retries", 0) + 1
            write(summary)

        def on_trial_result(self, iteration, trials, trial, result, **info):
            logs = result.get(_LOGS_KEY)
            if not isinstance(logs, str):
                return
            epoch = int(result[_EPOCH_KEY])
            history = self.histories.setdefault(trial.trial_id, {})
            for key, value in json.loads(logs).items():
                history.setdefault(key, {})[epoch] = float(value)

        def on_trial_complete(self, iteration, trials, trial, **info):
            recorded = self.histories.get(trial.trial_id)
            if not recorded or metric not in recorded:
                return
            history = {key: [by[e] for e in sorted(by)] for key, by in recorded.items()}
            name = self._name(trial)
            ran = len(history[metric])
            if ran < epochs and stop_requested(sweep_dir):
                return  # cut short by the sweep's stop: left out, as on this machine
            # A pruned trial's worker marks its run once the recording is closed (marking it
            # here would race the recorder's last write); _settle_pruned waits for that.
            point = point_summary(name, _trial_params(trial.config), history, metric, goal)
            if ran < epochs:
                point["state"] = "pruned"
                point["epochs"] = ran
            self.done[name] = point
            summary["points"] = [self.done[key] for key in self.order if key in self.done]
            write(summary)
            if progress is not None:
                progress(point, summary)

    def write(document: dict) -> None:
        replace_text(sweep_dir / SWEEP_FILE, json.dumps(document, indent=2) + "\n")

    return SweepWriter(), write


def _stop_file_stopper(sweep_dir: Path):
    from ray import tune

    class StopFile(tune.Stopper):
        """Ends the whole sweep when ``STOP`` appears in its folder (the dashboard's Stop)."""

        def __call__(self, trial_id, result):
            return False

        def stop_all(self):
            return stop_requested(sweep_dir)

    return StopFile()


def run_tune_sweep(
    scenario: str,
    sweep_dir: str | Path,
    target: ComputeTarget,
    plan: TunePlan,
    *,
    epochs: int | None = None,
    progress: Callable[[dict, dict], None] | None = None,
) -> dict:
    """Sweeps a demo scenario on a Ray cluster through Ray Tune (see the module's docstring).

    Args:
        scenario: a name from ``neurogenesis.zoo.SCENARIOS``.
        sweep_dir: the sweep folder, one every worker can write (created if missing; files
            already there are kept, as on this machine).
        target: the cluster (``target.workers`` trials at once; default one per CPU).
        plan: what Tune searches (:class:`TunePlan`).
        epochs: epochs per trial; by default the scenario's sweep epochs.
        progress: ``progress(point, summary)`` after each finished trial.

    Returns:
        The summary written to ``sweep.json``.

    Raises:
        InputError: bad points, space or epochs.
        ClusterError: the cluster could not be reached or went away, or trials failed on it
            more than :data:`MAX_TRIAL_FAILURES` times (``sweep.json`` keeps the finished ones
            and says ``"failed"``).
    """
    from neurogenesis.compute.ray import cluster_call, connect, first_line, worker_count
    from neurogenesis.zoo import sweep_spec
    from neurogenesis.zoo.common import check_points

    spec = sweep_spec(scenario)
    epochs = spec.epochs if epochs is None else int(epochs)
    if epochs < 1:
        raise InputError(f"Expected at least 1 epoch per sweep point. Received: {epochs}.")
    if plan.search != "tpe":
        plan = dataclasses.replace(plan, points=tuple(check_points(spec, plan.points)))
    ray = connect(target)
    from ray import tune

    workers = worker_count(ray, target, plan.num_trials)
    param_space, tune_config = tune_setup(plan, spec.metric, spec.goal, epochs, workers)
    sweep_dir = Path(sweep_dir).resolve()
    sweep_dir.mkdir(parents=True, exist_ok=True)
    if read_sweep_summary(sweep_dir).get("status") == "stopped":
        (sweep_dir / STOP_FILE).unlink(missing_ok=True)  # a leftover stop would end this one
    summary: dict[str, Any] = {
        "scenario": scenario,
        "parameters": list(plan.points[0]) if plan.points else list(plan.space or {}),
        "metric": spec.metric,
        "goal": spec.goal,
        "epochs": epochs,
        "status": "running",
        "planned": [dict(point) for point in plan.points],
        "points": [],
        "engine": ENGINE,
        "search": plan.search,
        "scheduler": "asha" if plan.asha else None,
        "trials": plan.num_trials,
        "cluster": target.describe(),
        "retries": 0,
    }
    writer, write = _sweep_writer(
        sweep_dir, summary, search=plan.search, epochs=epochs, progress=progress
    )
    write(summary)
    trainable = tune.with_resources(
        tune.with_parameters(
            _train_trial,
            scenario=scenario,
            sweep_dir=str(sweep_dir),
            epochs=epochs,
            search=plan.search,
            threads=target.cpus_per_worker,
        ),
        {"cpu": target.cpus_per_worker, "gpu": target.gpus_per_worker},
    )
    tuner = tune.Tuner(
        trainable,
        param_space=param_space,
        tune_config=tune_config,
        run_config=tune.RunConfig(
            name="sweep",
            storage_path=str(sweep_dir / TUNE_FOLDER),
            failure_config=tune.FailureConfig(max_failures=MAX_TRIAL_FAILURES),
            callbacks=[writer],
            stop=_stop_file_stopper(sweep_dir),
            verbose=0,
        ),
    )
    try:
        results = cluster_call(target, tuner.fit, f"; {len(summary['points'])} trials had finished")
        failed = [result.error for result in results if result.error is not None]
        if failed:
            raise ClusterError(
                f"{len(failed)} of {len(results)} trials failed on {target.describe()} "
                f"({first_line(failed[0])}); the finished ones are in {SWEEP_FILE}."
            )
    except BaseException as error:
        summary["status"] = "failed"
        summary["error"] = f"{type(error).__name__}: {error}"[:2000]
        with contextlib.suppress(OSError):
            write(summary)
        raise
    _settle_pruned(sweep_dir, summary["points"], epochs)
    finished = len(summary["points"]) == plan.num_trials
    summary["status"] = "finished" if finished else "stopped"
    write(summary)
    return summary


def plan_from_arguments(
    scenario: str,
    *,
    search: str | None,
    points: Sequence[Mapping[str, Any]] | None,
    grid: Mapping[str, Sequence] | None,
    random: int | None,
    seed: int,
    asha: bool,
) -> TunePlan:
    """The :class:`TunePlan` the sweep verb's options name (``--search`` defaults to ``random``
    with ``--random N``, else ``grid``; ``--points`` are searched as a grid).

    Raises:
        InputError: ``--search grid`` with ``--random``, ``--search tpe`` with ``--points``,
            bad points or space.
    """
    from neurogenesis.zoo import plan_sweep, sweep_spec
    from neurogenesis.zoo.common import check_points

    spec = sweep_spec(scenario)
    search = search or ("random" if random is not None else "grid")
    if search == "grid" and random is not None:
        raise InputError(
            f"Expected --random N with --search random or tpe. Received: --search grid "
            f"--random {random}."
        )
    if search == "tpe":
        if points is not None:
            raise InputError("Expected --points with --search grid, not tpe (TPE picks them).")
        trials = DEFAULT_TRIALS if random is None else int(random)
        if trials < 1:
            raise InputError(f"Expected at least 1 trial. Received: --random {trials}.")
        space = {**spec.random_space, **dict(grid or {})}
        return TunePlan("tpe", space=space, trials=trials, seed=seed, asha=asha)
    if points is not None:
        chosen = check_points(spec, list(points))
    elif search == "random":
        count = DEFAULT_TRIALS if random is None else random
        chosen = plan_sweep(spec, grid=grid, random=count, seed=seed)
    else:
        chosen = plan_sweep(spec, grid=grid)
    return TunePlan(search, points=tuple(chosen), seed=seed, asha=asha)
