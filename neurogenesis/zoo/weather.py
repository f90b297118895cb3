"""Forecasting Seattle's next-day maximum temperature with an LSTM and temporal attention.

Real data that ships inside a package: ``vega_datasets``' local ``seattle-weather`` table (daily
NOAA observations for Seattle, 2012-2015: precipitation, maximum and minimum temperature, wind),
read offline. A window of 14 days of those four measurements plus the day of the year (as sine
and cosine) forecasts the next day's maximum temperature. Training targets are 2012-2014, test
targets all of 2015 (a split in time, as a forecast is used).

The main model reads the window with an LSTM and lets the last step attend over all 14 steps
with ``keras.layers.MultiHeadAttention``, so the attention page shows which past days a
forecast leans on; a plain LSTM is recorded beside it for comparison. Both take the measurements
in their own units (a Normalization layer holds the training statistics) and answer in degrees
Celsius (a Rescaling layer), so the sample windows go in as they are.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from neurogenesis.zoo.common import (
    Recipe,
    Scenario,
    SweepSpec,
    fresh_dir,
    keras_module,
    make_card,
    make_optimizer,
    save_model_and_card,
    save_samples,
    scenario_facts,
    seconds_since,
)

NAME = "weather_lstm"
TITLE = "Seattle weather LSTM"
DATASET = (
    "vega_datasets' local seattle-weather table: daily NOAA observations for Seattle 2012-2015 "
    "(public domain), shipped inside the vega_datasets package (BSD-3-Clause)"
)
TASK = "forecasting"
MEASUREMENTS = ("precipitation", "temp_max", "temp_min", "wind")
FEATURE_NAMES = (*MEASUREMENTS, "day_of_year_sin", "day_of_year_cos")
FEATURE_UNITS = ("mm", "°C", "°C", "m/s", "", "")
TARGET = "temp_max"
WINDOW = 14
TEST_YEAR = 2015
DEFAULT_EPOCHS = 12
QUICK_EPOCHS = 2
BATCH_SIZE = 32
DEFAULT_WIDTH = 32
NUM_HEADS = 2
LEARNING_RATE = 1e-2
MAIN_RUN = "lstm_attention"
PLAIN_RUN = "lstm"
SWEEP_GRID = {"learning_rate": [1e-3, 3e-3, 1e-2], "width": [8, 16, 32, 64]}
SWEEP_EPOCHS = 6
QUICK_SWEEP_GRID = {"learning_rate": [3e-3, 1e-2], "width": [8]}
QUICK_SWEEP_EPOCHS = 1
SWEEP_METRIC = "val_mae"
SWEEP_GOAL = "min"
# A live random sweep: log-uniform learning rates around the grid's, the grid's widths.
RANDOM_SPACE = {"learning_rate": (5e-4, 2e-2, "log"), "width": [8, 16, 32, 64]}


def weather_table():
    """The seattle-weather table as a pandas DataFrame, one row per day, sorted by date."""
    from vega_datasets import local_data

    table = local_data.seattle_weather()
    return table.sort_values("date").reset_index(drop=True)


def weather_data() -> dict[str, np.ndarray]:
    """Every 14-day window with the next day's maximum temperature, split in time.

    Returns:
        ``x_train``, ``y_train``, ``x_test``, ``y_test`` (float32; ``x`` is ``(n, 14, 6)`` in the
        units of :data:`FEATURE_UNITS`, ``y`` is ``(n,)`` in °C), ``dates_test`` (the forecast
        day of each test window, ``YYYY-MM-DD``) and ``persistence_test`` (today's maximum, the
        naive forecast).
    """
    table = weather_table()
    day = table["date"].dt.day_of_year.to_numpy(dtype="float64")
    angle = 2.0 * np.pi * (day - 1.0) / 365.25
    features = np.column_stack(
        [table[name].to_numpy(dtype="float64") for name in MEASUREMENTS]
        + [np.sin(angle), np.cos(angle)]
    ).astype("float32")
    target = table[TARGET].to_numpy(dtype="float32")
    ends = np.arange(WINDOW - 1, len(table) - 1)  # a window ends on day t and forecasts t + 1
    x = np.stack([features[end - WINDOW + 1 : end + 1] for end in ends])
    y = target[ends + 1]
    dates = table["date"].dt.strftime("%Y-%m-%d").to_numpy()[ends + 1]
    test = table["date"].dt.year.to_numpy()[ends + 1] == TEST_YEAR
    return {
        "x_train": x[~test],
        "y_train": y[~test],
        "x_test": x[test],
        "y_test": y[test],
        "dates_test": dates[test].astype(str),
        "persistence_test": target[ends][test],
    }


def weather_lstm(data: dict, *, width: int = DEFAULT_WIDTH, attention: bool = True):
    """Normalization -> LSTM(``width``) [-> the last step attending over all steps] -> Dense ->
    forecast in °C.

    Args:
        data: :func:`weather_data`'s result (the training statistics come from its train part).
        width: LSTM units.
        attention: add the temporal attention (the saved model); without it, a plain LSTM.
    """
    keras = keras_module()
    x_train, y_train = data["x_train"], data["y_train"]
    flat = x_train.reshape(-1, x_train.shape[-1])
    inputs = keras.Input((WINDOW, len(FEATURE_NAMES)), name="window")
    x = keras.layers.Normalization(
        mean=flat.mean(axis=0).tolist(), variance=flat.var(axis=0).tolist(), name="normalize"
    )(inputs)
    if attention:
        sequence = keras.layers.LSTM(width, return_sequences=True, name="lstm")(x)
        last = keras.layers.Cropping1D((WINDOW - 1, 0), name="last_step")(sequence)
        context = keras.layers.MultiHeadAttention(
            NUM_HEADS, max(width // NUM_HEADS, 4), name="temporal_attention"
        )(last, sequence)
        x = keras.layers.Concatenate(name="state_and_context")([last, context])
        x = keras.layers.Flatten(name="flatten")(x)
    else:
        x = keras.layers.LSTM(width, name="lstm")(x)
    x = keras.layers.Dense(16, activation="relu", name="dense")(x)
    x = keras.layers.Dense(1, name="forecast_standardized")(x)
    outputs = keras.layers.Rescaling(
        float(y_train.std()), offset=float(y_train.mean()), name="forecast_celsius"
    )(x)
    return keras.Model(inputs, outputs, name=NAME if attention else f"{NAME}_plain")


def _compiler(data: dict):
    """``compiled(**options)``: a compiled forecaster (the statistics come from ``data``)."""

    def compiled(
        *, learning_rate: float = LEARNING_RATE, width: int = DEFAULT_WIDTH, attention: bool = True
    ):
        model = weather_lstm(data, width=width, attention=attention)
        model.compile(optimizer=make_optimizer("adam", learning_rate), loss="mse", metrics=["mae"])
        return model

    return compiled


def _hyperparameters(
    *,
    epochs: int,
    seed: int,
    learning_rate: float = LEARNING_RATE,
    width: int = DEFAULT_WIDTH,
    attention: bool = True,
) -> dict:
    return {
        "optimizer": "adam",
        "learning_rate": learning_rate,
        "width": width,
        "attention": attention,
        "window": WINDOW,
        "batch_size": BATCH_SIZE,
        "epochs": epochs,
        "seed": seed,
    }


def _split(data: dict):
    return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])


def _recipe(data: dict) -> Recipe:
    """The shared build steps' view of the forecaster, whose layers hold ``data``'s statistics."""
    return Recipe(
        compiled=_compiler(data),
        hyperparameters=_hyperparameters,
        batch_size=BATCH_SIZE,
        split=_split,
    )


def _setup() -> tuple[Recipe, dict]:
    data = weather_data()  # first: the model's Normalization layer holds its statistics
    return _recipe(data), data


def build(
    models_dir: Path, data_dir: Path, *, quick: bool = False, epochs: int | None = None
) -> dict:
    """Rebuilds the weather forecaster: model and card, both runs, the sweep and the sample set.

    Writes ``models/weather_lstm.keras`` (+ ``.json``), ``data/runs/weather_lstm/{lstm_attention,
    lstm}``, ``data/sweeps/weather_lstm`` and ``data/samples/weather_lstm.npz`` (the 2015
    windows).

    Returns:
        The card plus paths and the build's duration (see :class:`~neurogenesis.zoo.Scenario`).
    """
    start = time.perf_counter()
    epochs = epochs or (QUICK_EPOCHS if quick else DEFAULT_EPOCHS)
    data = weather_data()
    runs_dir = fresh_dir(data_dir / "runs" / NAME)
    recipe = _recipe(data)
    for run, attention in ((MAIN_RUN, True), (PLAIN_RUN, False)):
        trained = recipe.record_run(
            runs_dir / run, data, epochs, {"attention": attention}, comparison=not attention
        )
        if attention:
            model = trained

    recipe.sweep(
        NAME,
        data_dir,
        data,
        grid=QUICK_SWEEP_GRID if quick else SWEEP_GRID,
        epochs=QUICK_SWEEP_EPOCHS if quick else SWEEP_EPOCHS,
        metric=SWEEP_METRIC,
        goal=SWEEP_GOAL,
    )

    x_test, y_test = data["x_test"], data["y_test"]
    forecast = model.predict(x_test, verbose=0)[:, 0]
    mae = float(np.mean(np.abs(forecast - y_test)))
    persistence = float(np.mean(np.abs(data["persistence_test"] - y_test)))
    card = make_card(
        name=NAME,
        title=TITLE,
        dataset=DATASET,
        task=TASK,
        description=(
            f"An LSTM ({DEFAULT_WIDTH} units) reads 14 days of weather; its last step attends over "
            f"all 14 steps (MultiHeadAttention, {NUM_HEADS} heads) and a dense head forecasts the "
            f"next day's maximum temperature in °C. Test MAE {mae:.2f} °C on 2015 against "
            f"{persistence:.2f} °C for 'tomorrow = today'. The '{PLAIN_RUN}' run is the same "
            "network without attention."
        ),
        test_metric="mae",
        test_value=mae,
        goal="min",
        epochs=epochs,
        input_description=(
            f"{WINDOW}-day windows, float32 (n, {WINDOW}, {len(FEATURE_NAMES)}): "
            + ", ".join(
                f"{name} ({unit})" if unit else name
                for name, unit in zip(FEATURE_NAMES, FEATURE_UNITS, strict=True)
            )
            + "; the model normalizes them itself"
        ),
        input_shape=(None, WINDOW, len(FEATURE_NAMES)),
        input_dtype="float32",
        label_names=None,
        data_dir=data_dir,
        runs=[MAIN_RUN, PLAIN_RUN],
        quick=quick,
        test_split=f"the {len(y_test)} windows forecasting {TEST_YEAR} in data/samples/{NAME}.npz",
        output=f"next day's {TARGET} in °C, shape (n, 1)",
        feature_names=list(FEATURE_NAMES),
        persistence_mae=round(persistence, 4),
    )
    model_path = save_model_and_card(model, models_dir, NAME, card)
    save_samples(
        data_dir,
        NAME,
        x=x_test,
        y=y_test,
        dates=data["dates_test"],
        feature_names=np.array(FEATURE_NAMES),
        feature_units=np.array(FEATURE_UNITS),
        target_name=np.array(f"next-day {TARGET} (°C)"),
    )
    return scenario_facts(card, model_path, data_dir, seconds_since(start))


def _model_at_width(width: int):
    """The forecaster at one width, untrained, for the architecture page's width sweep."""
    # The data only sets the Normalization and Rescaling constants, which are not weights: a
    # stand-in of the right shape gives the same architecture without reading the table.
    stand_in = {
        "x_train": np.zeros((2, WINDOW, len(FEATURE_NAMES)), dtype="float32"),
        "y_train": np.array([0.0, 1.0], dtype="float32"),
    }
    return weather_lstm(stand_in, width=width)


SCENARIO = Scenario(
    name=NAME,
    title=TITLE,
    dataset=DATASET,
    task=TASK,
    default_epochs=DEFAULT_EPOCHS,
    build=build,
    setup=_setup,
    sweep=SweepSpec.declared(globals()),
    width_model=_model_at_width,
)
