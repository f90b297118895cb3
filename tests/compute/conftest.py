"""A real Ray instance on this machine (2 CPUs) for the cluster tests, one per test process.

Skipped, with the reason, only where Ray cannot be installed (``pip install neurogenesis[ray]``;
``.ci/run`` installs it, so CI runs these tests).
"""

from __future__ import annotations

import pytest

from neurogenesis.compute import ComputeTarget
from tests.app.conftest import app_argv  # noqa: F401 (the page tests' fixture, for pages on a cluster)

RAY_CPUS = 2


@pytest.fixture(scope="session")
def ray_target():
    """A :class:`ComputeTarget` for a Ray instance started here with 2 CPUs (2 workers)."""
    pytest.importorskip("ray", reason="Ray is not installed here (pip install 'neurogenesis[ray]')")
    import ray

    from neurogenesis.compute.ray import connect

    target = ComputeTarget("local", workers=RAY_CPUS)
    connect(target)
    yield target
    ray.shutdown()
