"""The old name of :mod:`neurogenesis.model_code`, kept so that existing scripts keep working."""

from neurogenesis.model_code import *  # noqa: F403
