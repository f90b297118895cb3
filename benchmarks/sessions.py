"""A class on one server: 1, 5 and 10 browser sessions open the same page at the same moment.

    python benchmarks/sessions.py [--demo digits_cnn] [--page "Loss landscape"] [--counts 1,5,10]

Starts ``streamlit run app.py`` on the bundled demos as Community Cloud does. Each session is a
real browser (Debian's chromium, its own process) that has opened the app and chosen the demo;
all click the page's link at once, and each reports the seconds until its page finished (the
run over, every chart drawn: the picture check's wait).

1. Cold: ``--cold`` sessions at once on a page nobody computed yet. The computation they share
   (the loss landscape: the same model, samples and settings) runs once; the others wait for it
   and say so. Baseline: one session alone on a fresh server, measured in the same run.
2. Warm: the same page, computed already, with each of ``--counts`` sessions at once. Baseline:
   the first count (one session).

Each session reports two times: until the server had finished its script run for it (what the
server's capacity decides) and until its page was drawn (here the browsers run on the same
cores as the server and draw WebGL in software, so this time grows with the number of browsers
on this machine, which a class does not share). Prints each case's slowest and median session
and the server's peak memory (it and the workers it starts), and the ratios to the baselines.
Exits 1 when the largest count's slowest server time is more than ``--goal`` (2) times one
session's on the warm page. Linux only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from app_memory import Meter  # noqa: E402
from browser import simultaneous, tour  # noqa: E402


def _case(label: str, url: str, demo: str, page: str, count: int, meter: Meter) -> float:
    found = simultaneous(url, demo, page, count)
    errors = [item["error"] for item in found if "error" in item]
    for error in errors:
        print(f"  a session failed: {error}")
    seconds = [item["seconds"] for item in found if "seconds" in item]
    served = [item["server"] for item in found if "server" in item]
    late = sum(1 for item in found if item.get("finished") is False)
    told = sum(1 for item in found if item.get("queued"))
    slowest, served_slowest = max(seconds), max(served)
    print(
        f"{label:34s} server done: slowest {served_slowest:6.1f} s  median "
        f"{statistics.median(served):6.1f} s | drawn: slowest {slowest:6.1f} s  median "
        f"{statistics.median(seconds):6.1f} s | peak {meter.peak():6.0f} MiB"
        + (f"  ({late} did not finish)" if late else "")
        + (f"  ({told} said they waited for another session)" if told else ""),
        flush=True,
    )
    return served_slowest, slowest


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo", default="digits_cnn")
    parser.add_argument("--page", default="Loss landscape")
    parser.add_argument("--counts", default="1,5,10")
    parser.add_argument("--cold", type=int, default=5, help="sessions at once, cold (0: skip)")
    parser.add_argument("--goal", type=float, default=2.0)
    args = parser.parse_args(argv)
    counts = [int(part) for part in args.counts.split(",")]
    print(f"{args.page} on {args.demo}:")
    with tempfile.TemporaryDirectory() as folder:
        for name in ("a", "b"):
            (Path(folder) / name).mkdir()
        cold_one = None
        if args.cold:
            with tour.serve_process(Path(folder) / "a") as (url, server):
                meter = Meter(server.pid)
                cold_one = _case("cold, 1 session (baseline)", url, args.demo, args.page, 1, meter)
        with tour.serve_process(Path(folder) / "b") as (url, server):
            meter = Meter(server.pid)
            if args.cold:
                label = f"cold, {args.cold} sessions at once"
                crowd = _case(label, url, args.demo, args.page, args.cold, meter)
                print(
                    f"  server done {crowd[0] / cold_one[0]:.2f}x, drawn "
                    f"{crowd[1] / cold_one[1]:.2f}x one session alone (one computation shared)"
                )
            else:  # warm the page first
                _case("warming (one session)", url, args.demo, args.page, 1, meter)
            warm = {}
            for count in counts:
                label = f"warm, {count} session{'s' if count > 1 else ''} at once"
                warm[count] = _case(label, url, args.demo, args.page, count, meter)
    base = warm[counts[0]]
    for count in counts[1:]:
        print(
            f"warm, {count} sessions: server done {warm[count][0] / base[0]:.2f}x, drawn "
            f"{warm[count][1] / base[1]:.2f}x {counts[0]} (goal <= {args.goal} for the server)"
        )
    worst = warm[counts[-1]][0] / base[0]
    if worst > args.goal:
        print(
            f"FAIL: the server took {worst:.2f}x as long for {counts[-1]} sessions "
            f"(goal {args.goal}x)"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
