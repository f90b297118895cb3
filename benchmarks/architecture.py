"""How fast the architecture facts and graph of ResNet-50 are ready, against Keras's own summary.

    python benchmarks/architecture.py [--repeats 5]

Prints the median time of (a) Keras's ``model.summary()`` into a string, the baseline a user
already waits for; (b) ``architecture_summary`` (per-layer params, MACs, memory); (c) ``graph_info``
(the layered layout) plus ``plot_graph`` and its JSON serialisation (what reaches the browser), and
their ratios. The goal for (c) is under 2 s warm.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import keras

    from neurogenesis.analysis.architecture import architecture_summary, graph_info
    from neurogenesis.plotting.architecture import plot_graph

    model = keras.applications.ResNet50(weights=None)
    lines: list[str] = []
    baseline = _median_seconds(lambda: model.summary(print_fn=lines.append), args.repeats)
    summary = _median_seconds(lambda: architecture_summary(model), args.repeats)
    graph = _median_seconds(lambda: plot_graph(graph_info(model)).to_json(), args.repeats)
    info = architecture_summary(model)
    print(
        f"ResNet-50: {len(model.layers)} layers, {info.num_params:,} parameters, {info.macs / 1e9:.3f} G MACs"
    )
    print(f"(a) keras model.summary():            {baseline * 1000:8.1f} ms")
    print(
        f"(b) architecture_summary (with MACs): {summary * 1000:8.1f} ms   {summary / baseline:5.2f}x the summary"
    )
    print(
        f"(c) graph layout + figure + JSON:     {graph * 1000:8.1f} ms   {graph / baseline:5.2f}x the summary"
    )
    print(f"graph ready under the 2 s goal: {'yes' if graph < 2.0 else 'NO'}")


if __name__ == "__main__":
    main()
