"""Demo scenarios: offline data, small Keras models, recorded runs, sweeps and sample sets.

``neurogenesis demo`` rebuilds every scenario into ``models/`` and ``data/`` with a fixed seed:

==========================  ==========================================================
``digits_cnn``              CNN on scikit-learn's real 8x8 handwritten digits; Adam, SGD,
                            RMSprop and no-BatchNormalization runs, Keras-callback logs
``shapes_cnn``              CNN on generated 32x32 colour shapes on textured backgrounds,
                            with each object's mask (saliency ground truth)
``sentiment_transformer``   two-layer MultiHeadAttention classifier on a generated corpus
                            whose rule (keyword, negation) is known for every sentence
``weather_lstm``            LSTM with temporal attention forecasting Seattle's next-day
                            maximum temperature (vega_datasets' seattle-weather)
``digits_vae``              variational autoencoder on the digits, 2-D latent space
==========================  ==========================================================

Every scenario also declares a sweep (:class:`SweepSpec`: its demo grid, a random space, the
metric and goal): :func:`run_scenario_sweep` runs one into any folder, ``sweep.json`` rewritten
after every point (``neurogenesis sweep`` and the dashboard's live sweeps use it).

Importing this package imports neither TensorFlow nor Keras (the dashboard lists scenarios
before anything is trained); each scenario imports Keras when it builds or trains.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from neurogenesis.errors import InputError
from neurogenesis.zoo import digits, sentiment, shapes, vae, weather
from neurogenesis.zoo.common import (
    SEED,
    Scenario,
    SweepSpec,
    parse_grid,
    plan_sweep,
    random_sweep_points,
    sweep_scenario,
)

SCENARIOS: dict[str, Scenario] = {
    module.SCENARIO.name: module.SCENARIO for module in (digits, shapes, sentiment, weather, vae)
}
SCENARIO_NAMES: tuple[str, ...] = tuple(SCENARIOS)

__all__ = [
    "SCENARIOS",
    "SCENARIO_NAMES",
    "SEED",
    "Scenario",
    "SweepSpec",
    "parse_grid",
    "plan_sweep",
    "random_sweep_points",
    "run_scenario_sweep",
    "scenario",
    "scenario_width_sweep",
    "sweep_spec",
]


def scenario(name: str) -> Scenario:
    """The scenario of that name.

    Raises:
        InputError: an unknown name.
    """
    if name not in SCENARIOS:
        raise InputError(
            f"Unknown demo scenario '{name}'. Expected one of: {', '.join(SCENARIO_NAMES)}."
        )
    return SCENARIOS[name]


def sweep_spec(name: str) -> SweepSpec:
    """A scenario's sweep: default ``grid`` and ``random_space``, ``epochs``, ``metric``, ``goal``
    and the ``parameters()`` it may vary.

    Raises:
        InputError: an unknown name.
    """
    spec = scenario(name).sweep
    assert spec is not None, f"every demo scenario declares a sweep; {name} does not"
    return spec


def run_scenario_sweep(
    name: str,
    sweep_dir: str | Path,
    *,
    points: Sequence[Mapping[str, Any]] | None = None,
    grid: Mapping[str, Sequence] | None = None,
    epochs: int | None = None,
    fresh: bool = False,
    progress: Callable[[dict, dict], None] | None = None,
) -> dict:
    """Sweeps a demo scenario into any folder, with its own data, model, metric and goal.

    ``sweep.json`` in ``sweep_dir`` is rewritten after every point (see
    :func:`neurogenesis.zoo.common.run_sweep`); a ``STOP`` file there stops the sweep.

    Args:
        name: a name from :data:`SCENARIOS`.
        sweep_dir: the sweep folder (created if missing).
        points: the points, e.g. from :func:`plan_sweep` or :func:`random_sweep_points`.
        grid: instead of ``points``: values per parameter over the scenario's default grid
            (neither: the default grid itself).
        epochs: epochs per point; by default the scenario's ``SWEEP_EPOCHS``.
        fresh: empty the folder first; by default files already there are kept.
        progress: ``progress(point, summary)`` after each finished point.

    Returns:
        The summary written to ``sweep.json``.

    Raises:
        InputError: an unknown scenario, both ``points`` and ``grid``, bad points or epochs.
    """
    spec = sweep_spec(name)
    if points is not None and grid is not None:
        raise InputError("Expected either points or a grid for the sweep, not both.")
    if points is None:
        points = plan_sweep(spec, grid=grid)
    return sweep_scenario(
        SCENARIOS[name],
        Path(sweep_dir),
        points=points,
        epochs=epochs,
        fresh=fresh,
        progress=progress,
    )


def scenario_width_sweep(scenario_name: str, sweep_json_path: str | Path):
    """A demo scenario's size and cost at each width of its sweep, with the best metric there.

    Reads the sweep (:func:`neurogenesis.io.run_folder.read_sweep`) and measures the scenario's
    model at each of its widths (:func:`neurogenesis.analysis.sweeps.width_sweep`).

    Args:
        scenario_name: ``"digits_cnn"``, ``"shapes_cnn"``, ``"sentiment_transformer"``,
            ``"weather_lstm"`` or ``"digits_vae"``.
        sweep_json_path: the scenario's ``sweep.json`` (or its folder).

    Returns:
        The ``SweepInfo`` with ``parameter="width"`` and ``metric``, ``goal``,
        ``metric_values`` and ``best_learning_rates`` from the sweep.

    Raises:
        InputError: an unknown scenario, a missing or unreadable sweep file, one written for
            another scenario, or one without a width parameter or any widths.
    """
    from neurogenesis.analysis.sweeps import width_sweep
    from neurogenesis.io.run_folder import read_sweep

    if scenario_name not in SCENARIOS:
        raise InputError(
            f"Unknown scenario {scenario_name!r}. Expected one of: {', '.join(SCENARIOS)}."
        )
    path = Path(sweep_json_path)
    sweep = read_sweep(path)
    return width_sweep(scenario_name, sweep, SCENARIOS[scenario_name].width_model, source=str(path))
