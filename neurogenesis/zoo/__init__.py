"""Demo scenarios: real data that ships inside a package, small models, recorded runs.

``neurogenesis demo`` rebuilds every scenario into ``models/`` and ``data/`` with a fixed seed.
"""

from __future__ import annotations

from neurogenesis.zoo.digits import build_digits_cnn

SCENARIOS = {"digits_cnn": build_digits_cnn}

__all__ = ["SCENARIOS", "build_digits_cnn"]
