"""benchmarks/scale.py runs end to end on a small grid (one Ray worker, a given device speed for
the estimate instead of timing ResNet-50) and its estimate is the arithmetic it says."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_scale_benchmark_prints_throughputs_and_the_paper_estimate():
    pytest.importorskip("ray", reason="Ray is not installed here (pip install 'neurogenesis[ray]')")
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "scale.py"), "--resolution", "5",
         "--samples", "64", "--workers", "1", "--devices", "1,4",
         "--device-samples-per-second", "1000"],
        capture_output=True, text=True, cwd=ROOT, check=False, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "5×5 grid × 64 samples = 1,600 sample-forwards per grid" in out
    assert re.search(r"local \(this process\): +[\d.]+ s +[\d,]+ /s", out)
    match = re.search(r"ray, 1 worker : .*max \|ray - local\| ([\d.e+-]+)\)", out)
    assert match and float(match.group(1)) <= 1e-5
    assert "1 worker / local:" in out
    # 51 × 51 × 2,000 forwards at 1 ms each on one device: 1.445 hours.
    hours = float(re.search(r"estimate on +1 such device : +([\d.]+) h", out).group(1))
    assert hours == pytest.approx(51 * 51 * 2000 / 1000 / 3600, abs=0.01)
