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

Importing this package imports neither TensorFlow nor Keras (the dashboard lists scenarios
before anything is trained); each scenario imports Keras when it builds or trains.
"""

from __future__ import annotations

from neurogenesis.zoo import digits, sentiment, shapes, vae, weather
from neurogenesis.zoo.common import SEED, Scenario

SCENARIOS: dict[str, Scenario] = {
    module.SCENARIO.name: module.SCENARIO for module in (digits, shapes, sentiment, weather, vae)
}
SCENARIO_NAMES: tuple[str, ...] = tuple(SCENARIOS)

__all__ = ["SCENARIOS", "SCENARIO_NAMES", "SEED", "Scenario"]
