"""How fast the architecture facts and graph of ResNet-50 are ready, against Keras's own summary.

    python benchmarks/architecture.py [--repeats 5]

Prints the median time of (a) Keras's ``model.summary()`` into a string, the baseline a user
already waits for; (b) ``architecture_summary`` (per-layer params, MACs, memory); (c) the whole
graph view from the model: ``model_graph`` (walk, blocks), ``layout_graph`` with the default
blocks open, ``plot_graph`` and its JSON serialisation (what reaches the browser); (d) the same with
every one of the 177 layers open; (e) opening one more block in the page (the walk is cached:
layout + figure + JSON only); and their ratios. The goal for (c) and (d) is under 2 s warm.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _median_seconds(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _browser_render_seconds(figure, repeats: int) -> float | None:
    """Median time plotly.js takes to draw the figure in headless Chromium, or None without one."""
    import shutil
    import tempfile

    browser = shutil.which("chromium") or shutil.which("google-chrome")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if browser is None:
        return None
    import plotly.io as pio

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "graph.html")
        with open(path, "w") as handle:
            handle.write(
                "<html><body><div id='g'></div>"
                + pio.to_html(figure, include_plotlyjs=True, full_html=False, div_id="first")
                + "</body></html>"
            )
        payload = figure.to_json()
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=browser, args=["--no-sandbox", "--disable-gpu"]
            )
            page = chromium.new_page(viewport={"width": 1400, "height": 900})
            page.goto("file://" + path)
            page.wait_for_selector(".js-plotly-plot")
            times = []
            for _ in range(repeats):
                times.append(
                    page.evaluate(
                        """async (spec) => {
                            const figure = JSON.parse(spec);
                            const start = performance.now();
                            await Plotly.newPlot('g', figure.data, figure.layout);
                            return (performance.now() - start) / 1000;
                        }""",
                        payload,
                    )
                )
            chromium.close()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import keras

    from neurogenesis.analysis.architecture import (
        architecture_summary,
        default_expanded,
        layout_graph,
        model_graph,
    )
    from neurogenesis.plotting.architecture import plot_graph

    model = keras.applications.ResNet50(weights=None)
    lines: list[str] = []
    baseline = _median_seconds(lambda: model.summary(print_fn=lines.append), args.repeats)
    summary = _median_seconds(lambda: architecture_summary(model), args.repeats)

    def view(expanded_of):
        walked = model_graph(model)
        return plot_graph(layout_graph(walked, expanded_of(walked))).to_json()

    graph = _median_seconds(lambda: view(default_expanded), args.repeats)
    full = _median_seconds(lambda: view(lambda walked: None), args.repeats)
    walked = model_graph(model)
    more = (*default_expanded(walked), "conv3_block2")
    click = _median_seconds(lambda: plot_graph(layout_graph(walked, more)).to_json(), args.repeats)
    info = architecture_summary(model)
    print(
        f"ResNet-50: {len(model.layers)} layers, {info.num_params:,} parameters, {info.macs / 1e9:.3f} G MACs"
    )
    print(f"(a) keras model.summary():            {baseline * 1000:8.1f} ms")
    print(
        f"(b) architecture_summary (with MACs): {summary * 1000:8.1f} ms   {summary / baseline:5.2f}x the summary"
    )
    print(
        f"(c) graph, default blocks open:       {graph * 1000:8.1f} ms   {graph / baseline:5.2f}x the summary"
    )
    print(
        f"(d) graph, all 177 layers open:       {full * 1000:8.1f} ms   {full / baseline:5.2f}x the summary"
    )
    print(
        f"(e) open one more block (cached walk): {click * 1000:7.1f} ms   {click / baseline:5.2f}x the summary"
    )
    render = _browser_render_seconds(plot_graph(layout_graph(walked, None)), args.repeats)
    if render is not None:
        print(
            f"(f) browser draws all 177 layers:     {render * 1000:8.1f} ms   (headless Chromium, "
            "plotly.js newPlot)"
        )
    total = full + (render or 0.0)
    print(f"graph ready under the 2 s goal: {'yes' if total < 2.0 else 'NO'} ({total:.2f} s)")


if __name__ == "__main__":
    main()
