"""Peak memory of the running dashboard over a full tour, against Community Cloud's 1 GB.

    python benchmarks/app_memory.py [--demos digits_cnn,shapes_cnn] [--sessions 5] [--budget 1024]

Starts ``streamlit run app.py`` on the bundled demos as Community Cloud does (no arguments;
``NEUROGENESIS_SMALL_SERVER=1``, as its container's memory limit would say), reads the server's resident memory from /proc (its peak, VmHWM, and the
sampled peak of it and the model-reading workers it starts, as a container counts them) when idle, then drives a real browser (Debian's chromium) over every page and every
tab of every demo (the picture check's tour: each view waited for until it finished), printing the
peak after each view; then ``--sessions`` browser sessions at once, each on another demo, open
every page. Prints the peak per page and in total against the budget (Community Cloud's small
tier: about 1 GB) and the idle server as the baseline measured in the same run. Exits 1 when the
peak passes the budget. Linux only.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser import TreeSampler, demo_labels, launch, peak_mib, tour, tree_rss_mib  # noqa: E402

GOAL_MIB = 800.0


class Meter:
    """The server's memory: its own peak (VmHWM) or the sampled peak of it and the workers it
    started, whichever is larger, and the tree's resident memory now."""

    def __init__(self, pid: int) -> None:
        self.pid, self.sampler = pid, TreeSampler(pid)

    def peak(self) -> float:
        return max(peak_mib(self.pid), self.sampler.peak)

    def now(self) -> float:
        return tree_rss_mib(self.pid)


def tour_views(url: str, demo: str, meter: Meter | None, pages=None, tabs=True) -> list[dict]:
    """Every page (and tab) of ``demo`` in one session: one row per view with the server's
    peak and current memory after it finished (``meter`` None: seconds only)."""
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        wire = tour.Wire()
        tour.open_app(page, wire, url)
        tour.choose_model(page, wire, demo)
        for title, tab, took, finished in tour.views(page, wire, pages, tabs):
            row = {"demo": demo, "page": title, "tab": tab, "seconds": took, "finished": finished}
            if meter is not None:
                row["peak"], row["rss"] = meter.peak(), meter.now()
            rows.append(row)
        browser.close()
    return rows


def _session_tour(url: str, demo: str, pages, out) -> None:
    try:
        out.put(tour_views(url, demo, None, pages, tabs=False))
    except Exception as error:  # reported by the driver
        out.put([{"demo": demo, "error": f"{type(error).__name__}: {error}"}])


def sessions_at_once(url: str, demos: list[str], count: int, meter: Meter, pages=None) -> dict:
    """``count`` sessions (their own browsers, demos taken in turn) tour every page at once;
    the server's peak while they ran and their longest tour."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    chosen = [demos[index % len(demos)] for index in range(count)]
    workers = [context.Process(target=_session_tour, args=(url, d, pages, out)) for d in chosen]
    began = time.time()
    for worker in workers:
        worker.start()
    found = [out.get(timeout=3600) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    errors = [row["error"] for rows in found for row in rows if "error" in row]
    return {"peak": meter.peak(), "seconds": time.time() - began, "errors": errors}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demos", default="all", help="comma-separated demo names, or all")
    parser.add_argument("--pages", default="", help="only pages whose title contains these")
    parser.add_argument("--sessions", type=int, default=5, help="sessions at once (0: none)")
    parser.add_argument("--budget", type=float, default=1024.0, help="MiB (Community Cloud: 1 GB)")
    args = parser.parse_args(argv)
    demos = demo_labels() if args.demos == "all" else args.demos.split(",")
    pages = [part.strip() for part in args.pages.split(",") if part.strip()]
    cloud = {"NEUROGENESIS_SMALL_SERVER": "1"}  # as on Community Cloud, whatever this machine has
    with (
        tempfile.TemporaryDirectory() as folder,
        tour.serve_process(Path(folder), **cloud) as (url, server),
    ):
        time.sleep(2.0)
        meter = Meter(server.pid)
        time.sleep(0.5)
        idle = meter.peak()
        print(f"idle server (baseline): {idle:6.0f} MiB")
        rows = []
        for demo in demos:
            for row in tour_views(url, demo, meter, pages):
                rows.append(row)
                where = row["page"] + (f" > {row['tab']}" if row["tab"] else "")
                late = "" if row["finished"] else "  (did not finish)"
                print(
                    f"{demo:22s} {where:42s} {row['seconds']:6.1f} s  "
                    f"peak {row['peak']:6.0f} MiB  now {row['rss']:6.0f} MiB{late}",
                    flush=True,
                )
        tour_peak = meter.peak()
        crowd = None
        if args.sessions:
            crowd = sessions_at_once(url, demos, args.sessions, meter, pages)
    by_page: dict[str, float] = defaultdict(float)
    before = idle
    for row in rows:  # the growth of the peak each page caused
        by_page[row["page"]] += row["peak"] - before
        before = row["peak"]
    print("\npeak growth per page (MiB, summed over demos and tabs):")
    for page, growth in sorted(by_page.items(), key=lambda item: -item[1]):
        print(f"  {page:30s} {growth:7.0f}")
    print(f"\nidle server:                       {idle:7.0f} MiB")
    print(
        f"after the tour of {len(demos)} demos:        {tour_peak:7.0f} MiB   "
        f"{tour_peak / idle:4.1f}x idle   {tour_peak / args.budget:5.0%} of the "
        f"{args.budget:.0f} MiB budget (goal {GOAL_MIB:.0f})"
    )
    peak = tour_peak
    if crowd is not None:
        peak = crowd["peak"]
        print(
            f"with {args.sessions} sessions at once:       {crowd['peak']:7.0f} MiB   "
            f"{crowd['peak'] / args.budget:5.0%} of the budget ({crowd['seconds']:.0f} s)"
        )
        for error in crowd["errors"]:
            print(f"  a session failed: {error}")
    unfinished = [row for row in rows if not row["finished"]]
    if unfinished:
        print(f"{len(unfinished)} views did not finish: the figures miss their memory")
    if peak > args.budget:
        print(f"FAIL: peak {peak:.0f} MiB is past the {args.budget:.0f} MiB budget")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
