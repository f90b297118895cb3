"""Attention scores of a whole sample set in batches, against one call per sample; flow against rollout.

    python benchmarks/attention.py [--samples 800] [--repeats 2]

On the bundled sentiment_transformer demo, times (best of ``--repeats``, same run):

(a) ``attention_scores`` over ``--samples`` samples (one rebuilt graph, batches of 64) against a
    loop over the same rebuilt graph with one sample per call, and checks both give the same
    scores;
(b) ``head_importance`` (every head removed in turn) over 200 samples;
(c) attention flow (maximum flow) against rollout for one sample, and checks flow's rows are
    bounded by what rollout's paths can carry (each entry <= 1).
Exits non-zero when (a)'s scores differ.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from benchmarks.timing import best  # noqa: E402
from neurogenesis.analysis import attention, graph  # noqa: E402
from neurogenesis.io.models import load_model  # noqa: E402
from neurogenesis.io.samples import load_samples  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=800)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    model = load_model(ROOT / "models" / "sentiment_transformer.keras")
    x = load_samples(ROOT / "data" / "samples" / "sentiment_transformer.npz").x[: args.samples]
    layers = attention.attention_layers(model)
    tapped = graph.tap_model(model, [layer + graph.SCORES_SUFFIX for layer in layers])

    def one_by_one():
        rows = [graph.call_tapped(tapped, x[i : i + 1])[1:] for i in range(len(x))]
        return {
            layer: np.concatenate([np.asarray(row[k]) for row in rows])
            for k, layer in enumerate(layers)
        }

    batched_s, batched = best(lambda: attention.attention_scores(model, x), args.repeats)
    loop_s, looped = best(one_by_one, args.repeats)
    same = all(np.allclose(batched[layer], looped[layer], atol=1e-5) for layer in layers)
    print(
        f"(a) scores of {len(x)} samples, {len(layers)} layers: batched {batched_s:.2f} s, "
        f"one sample per call {loop_s:.2f} s ({loop_s / batched_s:.1f}x); same scores: {same}"
    )
    ablation_s, info = best(lambda: attention.head_importance(model, x[:200]), 1)
    heads = sum(info.num_heads)
    print(
        f"(b) head importance, {heads} heads x 200 samples: {ablation_s:.2f} s "
        f"({ablation_s / heads * 1e3:.0f} ms per head)"
    )
    one = {layer: values[:1] for layer, values in batched.items()}
    rollout_s, _ = best(lambda: attention.attention_rollout(one), args.repeats)
    flow_s, flow = best(lambda: attention.attention_flow(one), args.repeats)
    print(
        f"(c) one sample ({x.shape[1]} tokens): rollout {rollout_s * 1e3:.2f} ms, flow "
        f"{flow_s * 1e3:.0f} ms ({flow_s / rollout_s:,.0f}x rollout); flow within [0, 1]: "
        f"{bool((flow >= -1e-9).all() and (flow <= 1 + 1e-6).all())}"
    )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
