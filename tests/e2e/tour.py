"""Driving the real app in Chromium: wait for a page to finish, read what the browser received.

Shared by the picture check (tests/e2e/test_pictures.py) and benchmarks/pages.py. Streamlit's own
messages are read off the websocket: whether the script still runs, and the figure JSON each
``st.plotly_chart`` sent (what the plotting module chose, before the browser draws it), so a check
can compare what was asked for with what was drawn (plotly's ``_fullData``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

FINISHED = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR)
DEFAULT_WAIT_SECONDS = 240
# A click's rerun answers within milliseconds; a click that starts none is given this long.
ANSWER_SECONDS = 0.8
# No message for this long (the frontend has drawn what came) and then nothing running, nothing
# stale, nothing drawing for QUIET_SECONDS: the page has finished.
SILENT_SECONDS = 1.0
QUIET_SECONDS = 0.5


ROOT = Path(__file__).resolve().parent.parent.parent
CHROMIUM = next(
    (path for path in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(path).exists()),
    None,
)
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve(folder: Path, app_arguments=(), start_seconds: float = 90, **environment):
    """``streamlit run app.py -- app_arguments`` on a free port, logging to folder/server.log;
    yields its URL once healthy and stops it afterwards. Raises RuntimeError (with the log's
    tail) when it does not start."""
    with serve_process(folder, app_arguments, start_seconds, **environment) as (base, _):
        yield base


@contextlib.contextmanager
def serve_process(folder: Path, app_arguments=(), start_seconds: float = 90, **environment):
    """:func:`serve`, yielding ``(url, process)`` (the benchmarks read the server's memory)."""
    port = free_port()
    env = dict(os.environ, NEUROGENESIS_UPLOAD_DIR=str(folder / "uploads"), **environment)
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
        "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--", *[str(argument) for argument in app_arguments],
    ]  # fmt: skip
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        if not wait_healthy(base, process, start_seconds):
            process.kill()
            raise RuntimeError(
                "the app did not start: " + (folder / "server.log").read_text()[-2000:]
            )
        yield base, process
    finally:
        stop(process)
        log.close()


def stop(process: subprocess.Popen) -> None:
    """Asks a server to end, and ends it after 15 s if it has not."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def cpu_seconds(pid: int) -> float | None:
    """The CPU time (user and system, all threads) process ``pid`` has used so far, from Linux's
    /proc; None where it cannot tell. Unlike wall time, it does not grow when other processes
    (the browser drawing, other jobs) take the cores: what a server computed, not how long it
    waited."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, AttributeError):
        return None
    return (int(fields[11]) + int(fields[12])) / ticks  # utime and stime, fields 14 and 15


def wait_healthy(base: str, process: subprocess.Popen, seconds: float) -> bool:
    """Whether the server at ``base`` answers its health check within ``seconds`` (False at
    once when its process ended)."""
    deadline = time.time() + seconds
    while time.time() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


def views(page, wire: Wire, pages=None, tabs: bool = True, seconds=DEFAULT_WAIT_SECONDS):
    """Opens every page whose title contains one of ``pages`` (all without), and each of its
    top-level tabs (``tabs``); yields ``(title, tab, seconds to finish, finished)`` per view."""
    for title in page_titles(page):
        if pages and not any(part.lower() in title.lower() for part in pages):
            continue
        took, finished = open_page(page, wire, title, seconds)
        names = (tab_names(page) if tabs else []) or [""]
        for index, tab in enumerate(names):
            if index:
                took, finished = open_tab(page, wire, tab, seconds)
            yield title, tab, took, finished


def class_key(key: str) -> str:
    """The CSS class Streamlit gives an element with ``key`` (``st-key-`` + the key, every
    character outside ``[A-Za-z0-9_-]`` replaced by ``-``)."""
    return re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip())


@dataclass
class Wire:
    """What Streamlit sent the browser: run state and every plotly chart's figure JSON by key."""

    running: bool = False
    finished_at: float = 0.0  # when the server last said a script run finished
    last_message: float = field(default_factory=time.time)
    figures: dict[str, dict] = field(default_factory=dict)
    # Each script run as [start, end]: its new_session message and its script_finished (any
    # status; None while it runs), as this process received them: the server's share of a view.
    runs: list[list] = field(default_factory=list)
    _by_hash: dict[str, ForwardMsg] = field(default_factory=dict)

    def on_frame(self, payload) -> None:
        if isinstance(payload, str):
            return
        try:
            message = ForwardMsg.FromString(payload)
        except Exception:  # not a ForwardMsg (a ping): nothing to read
            return
        if message.hash:
            self._by_hash[message.hash] = message
        if message.ref_hash and message.ref_hash in self._by_hash:
            message = self._by_hash[message.ref_hash]
        kind = message.WhichOneof("type")
        if kind == "new_session":
            self.runs.append([time.time(), None])
        elif kind == "session_status_changed":
            self.running = message.session_status_changed.script_is_running
        elif kind == "script_finished":
            if self.runs and self.runs[-1][1] is None:
                self.runs[-1][1] = time.time()
            if message.script_finished in FINISHED:
                self.running = False
                self.finished_at = time.time()
        elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            element = message.delta.new_element
            if element.WhichOneof("type") == "plotly_chart":
                chart = element.plotly_chart
                parts = chart.id.split("-", 2)  # "$$ID-<hash>-<user key>"
                if len(parts) == 3 and chart.spec:
                    self.figures[class_key(parts[2])] = json.loads(chart.spec)
        self.last_message = time.time()

    def run_spans(self, since: float) -> list[tuple[float, float | None]]:
        """The script runs that started after ``since``: (start, end) in seconds after it, end
        None for a run still going."""
        return [
            (start - since, None if end is None else end - since)
            for start, end in self.runs
            if start >= since
        ]

    def script_seconds(self, since: float) -> float | None:
        """Seconds from the start of the first script run after ``since`` to the end of the
        last: what the server spent on a click (its reruns included), without the browser's
        drawing. None when no run started since, or the last has not ended."""
        spans = self.run_spans(since)
        if not spans or spans[-1][1] is None:
            return None
        return spans[-1][1] - spans[0][0]


BUSY_JS = """() => {
    const q = s => document.querySelector(s);
    const status = q('[data-testid="stStatusWidget"]');
    const running = status && /running|connecting/i.test(status.innerText || '');
    const waiting = q('[data-testid="stSkeleton"]') || q('[data-testid="stSpinner"]')
        || q('[data-testid="stProgress"]') || q('[data-stale="true"]');
    const undrawn = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
        .some(p => !p.querySelector('.main-svg'));
    const main = q('[data-testid="stMain"]') || q('section.main');
    const empty = !main || (main.innerText || '').trim().length < 20;
    return Boolean(running || waiting || undrawn || empty);
}"""


def settle(page, wire: Wire, seconds: float = DEFAULT_WAIT_SECONDS, start: float | None = None):
    """Wait until the script run has finished, nothing is stale, no skeleton, spinner or progress
    bar is left and every plotly chart has drawn. Returns the seconds from ``start`` to the
    moment the page went quiet, and whether it did before ``seconds``."""
    start = start or time.time()
    # Wait for the click's answer, not a fixed time: most views finish in a few seconds, and a
    # tour has dozens of them.
    while not wire.running and wire.last_message < start and time.time() - start < ANSWER_SECONDS:
        page.wait_for_timeout(50)
    quiet_since = None
    while time.time() - start < seconds:
        busy = (
            wire.running
            or time.time() - wire.last_message < SILENT_SECONDS
            or page.evaluate(BUSY_JS)
        )
        if busy:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.time()
        elif time.time() - quiet_since > QUIET_SECONDS:
            return quiet_since - start, True
        page.wait_for_timeout(100)
    return time.time() - start, False


def open_app(page, wire: Wire, url: str, seconds: float = DEFAULT_WAIT_SECONDS) -> None:
    page.on("websocket", lambda socket: socket.on("framereceived", wire.on_frame))
    page.goto(url, wait_until="domcontentloaded")
    settle(page, wire, seconds)


def choose_model(page, wire: Wire, text: str, seconds: float = DEFAULT_WAIT_SECONDS) -> str:
    """Picks the first sidebar model whose label contains ``text``; returns the label."""
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
    option = page.get_by_role("option").filter(has_text=text).first
    label = " ".join(option.inner_text().split())
    option.click()
    settle(page, wire, seconds)
    return label


def page_titles(page) -> list[str]:
    links = page.locator('[data-testid="stSidebarNavLink"]')
    # the link's text starts with its Material icon's ligature name (account_tree ...)
    return [
        " ".join(links.nth(i).locator("span").last.inner_text().split())
        or " ".join(links.nth(i).inner_text().split())
        for i in range(links.count())
    ]


def open_page(page, wire: Wire, title: str, seconds: float = DEFAULT_WAIT_SECONDS):
    """Clicks the sidebar link ``title``; returns (seconds to finish, finished)."""
    wire.figures.clear()
    clicked = time.time()
    link = page.locator('[data-testid="stSidebarNavLink"]').filter(has_text=title).first
    link.click()
    return settle(page, wire, seconds, clicked)


def tab_names(page) -> list[str]:
    """The page's top-level tabs (a tab inside a tab is the tab's own business)."""
    return page.evaluate(
        """() => {
            const lists = [...document.querySelectorAll('[data-testid="stMain"] [role="tablist"]')];
            const top = lists.filter(l => !l.parentElement.closest('[role="tabpanel"]'));
            return top.length ? [...top[0].querySelectorAll('[role="tab"]')]
                .map(t => (t.innerText || '').trim()) : [];
        }"""
    )


def open_tab(page, wire: Wire, name: str, seconds: float = DEFAULT_WAIT_SECONDS):
    """Clicks the top-level tab ``name``; returns (seconds to finish, finished)."""
    clicked = time.time()
    page.locator('[data-testid="stMain"] [role="tab"]').filter(has_text=name).first.click()
    return settle(page, wire, seconds, clicked)


# ---------------------------------------------------------------------------------------------
# What reached the eye: read in the browser, judged in Python
# ---------------------------------------------------------------------------------------------

READ_JS = r"""() => {
  const visible = el => el.offsetParent !== null && el.getBoundingClientRect().width > 0;
  const rect = el => { const r = el.getBoundingClientRect();
                       return [r.left, r.top, r.right, r.bottom]; };
  const arrays = ['x', 'y', 'z', 'values', 'r', 'dimensions', 'cells', 'labels', 'lat',
                  'source', 'node', 'ids', 'a', 'u', 'i', 'text'];
  // Titles from what the figure asked for (_input): plotly fills an empty one with a
  // placeholder ("Click to enter X axis title") and a 3D axis with its letter.
  const titleOf = input => {
    const title = input && input.title;
    const text = title && (typeof title === 'string' ? title : title.text);
    return (text || '').trim();
  };
  const pointsOf = t => Math.max(0, ...arrays.map(k => (t[k] && t[k].length) || 0),
                                 t.type === 'image' && (t.source || t.z) ? 1 : 0);
  const plots = [...document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot')]
    .filter(visible).map(el => {
      const L = el._fullLayout || {};
      const keyed = el.closest('[class*="st-key-"]');
      const key = keyed ? [...keyed.classList].find(c => c.startsWith('st-key-')).slice(7) : null;
      const axes = [];
      for (const letter of ['x', 'y']) {
        for (const id of ((L._subplots || {})[letter + 'axis'] || [])) {
          const name = letter + 'axis' + id.slice(1);
          const a = L[name];
          if (!a) continue;
          axes.push({name, letter, title: titleOf(a._input),
                     ticks: a.visible !== false && a.showticklabels !== false
                            && ((a._vals || []).length > 0),
                     domain: a.domain, type: a.type});
        }
      }
      const scenes = ((L._subplots || {}).gl3d || []).map(id => {
        const s = L[id];
        // a hidden 3D axis (a layer stack's boxes) needs no title
        return {name: id, titles: ['xaxis', 'yaxis', 'zaxis'].map(k =>
          s[k].visible === false || s[k].showticklabels === false ? null
            : titleOf(((el.layout || {})[id] || {})[k]))};  // 3D axes keep no _input
      });
      const traces = (el._fullData || []).map(t => ({
        type: t.type, name: t.name || '', visible: t.visible, points: pointsOf(t),
        colorscale: t.colorscale || null,
        markerColorscale: (t.marker && Array.isArray(t.marker.colorscale)) ? t.marker.colorscale : null,
        showscale: Boolean(t.showscale || (t.marker && t.marker.showscale)),
        colorbarTitle: titleOf((t._input || {}).colorbar)
                       || titleOf(((t._input || {}).marker || {}).colorbar),
        coloraxis: t.coloraxis || null,
        zmin: t.zmin, zmax: t.zmax, zmid: t.zmid, cmin: t.cmin, cmax: t.cmax,
        meta: t.meta === undefined ? null : t.meta,
      }));
      const coloraxes = Object.keys(L).filter(k => /^coloraxis\d*$/.test(k)).map(k => ({
        name: k, colorscale: L[k].colorscale, showscale: L[k].showscale,
        title: titleOf(((el.layout || {})[k] || {}).colorbar)}));  // no _input on colour axes
      // texts: every SVG text plotly drew, with what it is and where it is on screen
      const texts = [];
      const box = rect(el);
      for (const t of el.querySelectorAll('svg text')) {
        const s = (t.textContent || '').trim();
        if (!s) continue;
        const r = t.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) continue;
        let kind = 'other';
        const g = t.closest('g');
        const cls = c => t.closest('.' + c);
        if (cls('legend')) kind = 'legend';
        else if (cls('colorbar')) kind = 'colorbar';
        else if (cls('annotation')) kind = 'annotation';
        else if (t.classList.contains('gtitle')) kind = 'title';
        else if (/^[xy]\d*title$/.test(t.getAttribute('class') || '')) kind = 'axistitle';
        else if (cls('xtick') || cls('ytick')) kind = 'tick';
        else if (cls('textpoint') || cls('text')) kind = 'datatext';
        const axis = (g && (g.getAttribute('class') || '')).match(/^([xy]\d*)tick$/);
        const transform = (t.getAttribute('transform') || '') + (g ? g.getAttribute('transform') || '' : '');
        texts.push({text: s.slice(0, 80), kind, axis: axis ? axis[1] : null,
                    rotated: /rotate\((?!0)/.test(transform), rect: [r.left, r.top, r.right, r.bottom]});
      }
      // el.layout: the title asked for (_fullLayout says "Click to enter Plot title" for none)
      const title = (el.layout && el.layout.title && (el.layout.title.text || el.layout.title)) || '';
      return {key, title: typeof title === 'string' ? title : '', rect: box, axes, scenes, traces,
              coloraxes, texts, annotations: (L.annotations || []).length,
              images: (L.images || []).length, shapes: (L.shapes || []).length};
    });
  const cut = [];
  const main = document.querySelector('[data-testid="stMain"]');
  if (main) {
    for (const el of main.querySelectorAll('*')) {
      if (!visible(el) || el.closest('.js-plotly-plot')) continue;
      const style = getComputedStyle(el);
      if (style.textOverflow === 'ellipsis' && el.scrollWidth > el.clientWidth + 1
          && (el.innerText || '').trim()) {
        cut.push((el.innerText || '').trim().slice(0, 80));
      }
    }
  }
  const problems = [];
  for (const [kind, selector] of [['exception', '[data-testid="stException"]'],
                                  ['error', '[data-testid="stAlertContentError"]']]) {
    for (const el of document.querySelectorAll(selector)) {
      problems.push(kind + ': ' + (el.innerText || '').trim().replace(/\s+/g, ' ').slice(0, 300));
    }
  }
  return {plots, cut, problems, text: main ? main.innerText : ''};
}"""


def read_view(page) -> dict:
    """Every visible chart (figure as drawn, texts and their boxes), cut-off texts, errors."""
    return page.evaluate(READ_JS)
