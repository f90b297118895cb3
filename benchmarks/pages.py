"""Every page's time to finish in the real app, first view against a warm revisit in the same run.

    python benchmarks/pages.py                       # every demo, every page, every tab
    python benchmarks/pages.py --demo digits_cnn --page Features --tabs

Starts ``streamlit run app.py`` on the bundled demos and drives it in Debian's Chromium, as a user
would: picks each demo in the sidebar, clicks each page (and with ``--tabs`` each tab), and waits
until the script has finished and every chart has drawn (tests/e2e/tour.settle). Prints, per view,
the seconds of the first view (cold: the computation runs) and of a revisit (warm: Streamlit's
caches answer), their ratio, and whether the first view meets its goal: 10 s for a page, 5 s for
the projector (issue 19). Times depend on the machine; the ratio and the goals are what to read.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e import tour  # noqa: E402 (after the repository is on the path)

DEMOS = ("digits_cnn", "shapes_cnn", "sentiment_transformer", "weather_lstm", "digits_vae")
PAGE_GOAL_SECONDS = 10.0
PROJECTOR_GOAL_SECONDS = 5.0
SKIPPED_PAGES = ("User manual",)


def _goal(where: str) -> float:
    return PROJECTOR_GOAL_SECONDS if "Projector" in where else PAGE_GOAL_SECONDS


def _views(page, wire, title: str, with_tabs: bool):
    """(view name, seconds, finished) for the page and, with tabs, each tab after the first."""
    took, finished = tour.open_page(page, wire, title)
    tabs = tour.tab_names(page)
    yield (title + (f" › {tabs[0]}" if tabs else ""), took, finished)
    if with_tabs:
        for tab in tabs[1:]:
            took, finished = tour.open_tab(page, wire, tab)
            yield (f"{title} › {tab}", took, finished)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", action="append", default=[], help="demo name (repeatable)")
    parser.add_argument("--page", action="append", default=[], help="page title text")
    parser.add_argument("--tabs", action="store_true", help="every tab, not only the first")
    parser.add_argument("--max-steps", default="", help="NEUROGENESIS_MAX_STEPS for the server")
    args = parser.parse_args()
    if tour.CHROMIUM is None:
        print("benchmarks/pages.py needs Debian's chromium (python3 tasks.py test installs it)")
        return 2
    from playwright.sync_api import sync_playwright

    environment = {"NEUROGENESIS_MAX_STEPS": args.max_steps} if args.max_steps else {}
    rows = []
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=tour.CHROMIUM, args=tour.CHROMIUM_FLAGS
        )
        with tour.serve(Path(folder), **environment) as url:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            wire = tour.Wire()
            started = time.time()
            tour.open_app(page, wire, url)
            print(f"home page (server start, first script run): {time.time() - started:.1f} s")
            for demo in args.demo or DEMOS:
                tour.choose_model(page, wire, demo)
                titles = [
                    title
                    for title in tour.page_titles(page)
                    if title not in SKIPPED_PAGES
                    and (not args.page or any(p.lower() in title.lower() for p in args.page))
                ]
                cold = {}
                for title in titles:
                    for where, took, finished in _views(page, wire, title, args.tabs):
                        cold[where] = (took, finished)
                # the revisit: the same views again, with every cache warm
                for title in titles:
                    for where, took, _ in _views(page, wire, title, args.tabs):
                        first, finished = cold.get(where, (float("nan"), False))
                        rows.append((demo, where, first, took, finished))
                        flag = "ok" if finished and first <= _goal(where) else "SLOW"
                        print(
                            f"{demo:22s} {where:55s} first {first:6.1f} s  warm {took:5.1f} s  "
                            f"x{first / max(took, 0.1):5.1f}  {flag} (goal {_goal(where):.0f} s)",
                            flush=True,
                        )
        browser.close()
    slow = [row for row in rows if not row[4] or row[2] > _goal(row[1])]
    print(f"\n{len(rows)} views; {len(rows) - len(slow)} within their goal, {len(slow)} over it")
    for demo, where, first, _, finished in slow:
        print(f"  over: {demo} {where} {first:.1f} s{'' if finished else ' (did not finish)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
