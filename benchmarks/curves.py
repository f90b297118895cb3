"""Drawing a long training curve: every point against MinMaxLTTB-downsampled points.

Makes a random-walk "loss" of 1,000,000 steps (a few NaN/Inf steps included) and measures

(a) the payload: bytes of the plotly figure JSON a page sends to the browser, all points
    (``go.Scattergl``) against ``downsample(x, y, max_points)`` points (``go.Scatter``),
(b) the time to downsample,
(c) the time to build and serialise each figure (downsampling included for the small one),
(d) the dashboard's whole path (``dashboard_info`` with TensorBoard smoothing over every point,
    then ``plot_dashboard``: smoothed and faint raw curve, each downsampled) against the same two
    curves with every point,
(e) with ``--browser``: the time headless Chromium's Plotly.newPlot takes to draw each of (d)'s
    figures (Debian's chromium and Playwright; skipped with a note when they are missing),

and prints the ratios. Also checks that the downsampled points keep the first and last step and
the global minimum and maximum; exits non-zero when they do not.

    python benchmarks/curves.py [--points 1000000] [--max-points 2000] [--repeats 3] [--browser]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import plotly.graph_objects as go  # noqa: E402

from benchmarks.timing import best  # noqa: E402
from neurogenesis.analysis.smoothing import downsample, tensorboard_ema  # noqa: E402


def _figure_json(trace_cls, x: np.ndarray, y: np.ndarray) -> str:
    fig = go.Figure(trace_cls(x=x, y=y, mode="lines", name="loss"))
    fig.update_layout(xaxis_title="step", yaxis_title="loss")
    return fig.to_json()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--max-points", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--browser", action="store_true", help="also time drawing in Chromium")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    n = args.points
    x = np.arange(n, dtype=np.int64)
    y = 2.0 + np.cumsum(rng.normal(scale=0.01, size=n))
    y[rng.choice(n, size=10, replace=False)] = np.nan
    y[rng.choice(n, size=2, replace=False)] = np.inf
    print(f"series: {n:,} points, budget {args.max_points:,} points, best of {args.repeats}")

    t_ema, _ = best(lambda: tensorboard_ema(y, 0.6), args.repeats)
    print(f"tensorboard_ema(weight=0.6):        {t_ema * 1e3:9.1f} ms")

    t_ds, idx = best(lambda: downsample(x, y, args.max_points), args.repeats)
    print(f"(b) downsample (MinMaxLTTB):         {t_ds * 1e3:9.1f} ms  -> {idx.size:,} points")

    t_full, full_json = best(lambda: _figure_json(go.Scattergl, x, y), args.repeats)
    t_small, small_json = best(
        lambda: _figure_json(go.Scatter, x[(i := downsample(x, y, args.max_points))], y[i]),
        args.repeats,
    )
    full_b, small_b = len(full_json.encode()), len(small_json.encode())
    print(
        f"(a) figure JSON bytes: all points {full_b:,}  downsampled {small_b:,}  "
        f"ratio {full_b / small_b:,.0f}x"
    )
    print(
        f"(c) build + serialise: all points {t_full * 1e3:,.1f} ms  "
        f"downsampled (incl. downsample) {t_small * 1e3:,.1f} ms  ratio {t_full / t_small:,.0f}x"
    )

    full_dashboard, small_dashboard = _dashboard(x, y, args.repeats)
    if args.browser:
        _browser(full_dashboard, small_dashboard, args.repeats)

    finite = np.isfinite(y)
    fi = np.flatnonzero(finite)
    must = {0, n - 1, int(fi[np.argmin(y[finite])]), int(fi[np.argmax(y[finite])])}
    missing = must - set(idx.tolist())
    if missing:
        print(f"FAIL: downsampled points miss indices {sorted(missing)}")
        return 1
    print("ok: first, last, global min and max kept; non-finite kept:", int((~finite[idx]).sum()))
    return 0


def _dashboard(x: np.ndarray, y: np.ndarray, repeats: int):
    """(d): the page's path against drawing the smoothed and raw curves with every point."""
    from neurogenesis.analysis.training import dashboard_info
    from neurogenesis.io.logs import Run, ScalarSeries
    from neurogenesis.plotting.training import plot_dashboard

    n = y.size
    series = ScalarSeries("train/loss", x, y, np.full(n, np.nan), np.zeros(n, np.int32))
    run = Run("long", "/long", "csv", {"train/loss": series}, {}, (), ())

    def page():
        info = dashboard_info([run], ["loss"], smoothing="exponential", smoothing_value=0.6)
        return plot_dashboard(info).to_json()

    def every_point():
        smoothed = tensorboard_ema(y, 0.6)
        figure = go.Figure(
            [
                go.Scattergl(x=x, y=y, mode="lines", opacity=0.3, name="raw"),
                go.Scattergl(x=x, y=smoothed, mode="lines", name="smoothed"),
            ]
        )
        return figure.to_json()

    t_page, page_json = best(page, repeats)
    t_all, all_json = best(every_point, repeats)
    page_b, all_b = len(page_json.encode()), len(all_json.encode())
    print(
        f"(d) dashboard (smoothed + raw): JSON {all_b:,} -> {page_b:,} bytes "
        f"({all_b / page_b:,.0f}x smaller); compute + draw + serialise "
        f"{t_all * 1e3:,.1f} ms -> {t_page * 1e3:,.1f} ms ({t_all / t_page:,.1f}x)"
    )
    return all_json, page_json


def _browser(all_json: str, page_json: str, repeats: int) -> None:
    """(e): Plotly.newPlot in headless Chromium, every point against the dashboard's points."""
    chromium = Path("/usr/bin/chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("(e) skipped: playwright is not installed")
        return
    if not chromium.exists():
        print("(e) skipped: Debian's chromium is not installed")
        return
    from plotly.offline import get_plotlyjs

    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
    draw = """async (figure) => {
        const div = document.createElement('div');
        div.style.width = '1200px'; div.style.height = '500px';
        document.body.appendChild(div);
        const spec = JSON.parse(figure);
        const t0 = performance.now();
        await Plotly.newPlot(div, spec.data, spec.layout);
        const elapsed = performance.now() - t0;
        Plotly.purge(div); div.remove();
        return elapsed;
    }"""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=flags)
        page = browser.new_page()
        page.set_content(f"<html><body><script>{get_plotlyjs()}</script></body></html>")
        times = {}
        for name, figure in (("every point", all_json), ("dashboard", page_json)):
            times[name] = min(page.evaluate(draw, figure) for _ in range(repeats))
        browser.close()
    print(
        f"(e) Plotly.newPlot in Chromium: every point {times['every point']:,.0f} ms, "
        f"dashboard {times['dashboard']:,.0f} ms "
        f"({times['every point'] / max(times['dashboard'], 1e-3):,.1f}x)"
    )


if __name__ == "__main__":
    sys.exit(main())
