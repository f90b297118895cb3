"""Peak memory of the running dashboard, against an idle Streamlit server measured in the same run.

    python benchmarks/app_memory.py

Starts ``streamlit run app.py`` on the bundled demos, reads the server's peak resident memory
(VmHWM) when idle, after a real browser (Debian's chromium) has rendered the home page, and after
it has rendered the Architecture page (which loads TensorFlow and the model), and prints the ratios
to the idle baseline. Linux only (reads /proc).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def _peak_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc")


def main() -> None:
    from playwright.sync_api import sync_playwright

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{base}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        idle = _peak_mib(server.pid)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            page = browser.new_page()
            page.goto(base)
            page.get_by_test_id("stMetricLabel").first.wait_for(timeout=120_000)
            time.sleep(2)
            home = _peak_mib(server.pid)
            page.goto(f"{base}/architecture")
            page.locator(".js-plotly-plot").first.wait_for(timeout=180_000)
            time.sleep(2)
            architecture = _peak_mib(server.pid)
            browser.close()
    finally:
        server.terminate()
    print(f"idle server (baseline):            {idle:7.0f} MiB")
    print(f"after the home page (demos, no TF): {home:7.0f} MiB   {home / idle:4.1f}x idle")
    print(
        f"after the architecture page (TF):   {architecture:7.0f} MiB   {architecture / idle:4.1f}x idle"
    )


if __name__ == "__main__":
    main()
