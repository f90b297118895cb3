"""benchmarks/attribution_memory.py runs (a 32x32 CNN, not its default EfficientNet-B0) and
chunks integrated gradients the way ``attribution.chunk_rows`` says under its budget."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_memory_benchmark_runs_and_chunks_by_the_budget():
    from neurogenesis.analysis import attribution, graph
    from neurogenesis.testing import tiny_cnn

    model = tiny_cnn(input_shape=(32, 32, 3), num_classes=4)
    rows = attribution.chunk_rows(graph.graph_layers(model), (32, 32, 3), budget_bytes=2**20)
    assert rows < 2 * 5  # a budget of 1 MiB splits the 10 rows
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "attribution_memory.py"), "--model", "tiny",
         "--photos", "2", "--steps", "5", "--baseline-rows", "2", "--budget-mb", "1"],
        capture_output=True, text=True, cwd=ROOT, check=False, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 photos x 5 steps = 10 rows" in result.stdout
    assert f"budget 1 MiB: {rows} rows per gradient call" in result.stdout
    assert "chunked growth / unchunked (scaled):" in result.stdout
