"""The app the way Streamlit Community Cloud runs it, step by step, with nothing from the dev setup.

Community Cloud clones the repository, ``apt-get install``-s the lines of ``packages.txt``, makes
a virtual environment with the chosen Python, installs ``requirements.txt`` into it (the package
itself is not installed: ``app.py`` finds ``neurogenesis`` because Streamlit puts the script's
folder on ``sys.path``) and runs ``streamlit run app.py`` from the repository's root, where
``.streamlit/config.toml`` is read. These tests do the same on this machine:

1. copy the files git tracks (what a clone gets; the working tree's content) to a folder of
   their own;
2. make a fresh venv with this Python (``python -m venv``) and ``pip install -r
   requirements.txt`` into it, nothing else (Community Cloud tries ``uv pip install`` first and
   falls back to pip; both install the same file);
3. start ``<venv>/bin/streamlit run app.py --server.headless true --server.port P`` in the copy
   with a clean environment (no ``PYTHONPATH``, no virtualenv, a HOME of its own) and the
   settings Community Cloud forces over ``config.toml``;
4. open every page of the router in Chromium on the bundled demos, wait until each has finished
   running, and check that it drew its title and charts, with no exception or error box; and
   download one chart's PNG (kaleido from ``requirements.txt`` with the browser that
   ``packages.txt`` installs).

They also check that the venv holds no package that only ``requirements-dev.txt`` asks for (so
the app never imports a dev tool) and that ``import neurogenesis`` fails outside the copy's root
(so the pages import the package through ``sys.path``, as on Community Cloud).

The venv's install takes minutes the first time (TensorFlow is large) and seconds after that
(pip's cache). ``NEUROGENESIS_CLOUD_VENV=/some/folder`` keeps the venv there: a venv that exists
is reused (``pip install -r requirements.txt`` then only checks it), one that does not is made
there. When pip cannot reach its package index the tests are skipped, saying so.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.e2e import tour
from tests.e2e.test_browser import browser  # noqa: F401 (the shared browser fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(3600)]

ROOT = tour.ROOT
VENV_VARIABLE = "NEUROGENESIS_CLOUD_VENV"
PIP_SECONDS = 2400  # a first install downloads TensorFlow and friends (about 1 GB)
START_SECONDS = 180  # the server answers its health check (no TensorFlow import before a page)
PAGE_SECONDS = 420  # one page's first run on two busy cores (TensorFlow import, the demo's model)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Community Cloud's most memory for one app (docs.streamlit.io, "Manage your app", App resources
# and limits, as of February 2024: 690 MB minimum, 2.7 GB maximum).
CLOUD_MEMORY_BYTES = int(2.7e9)
# The settings Community Cloud forces over config.toml (docs.streamlit.io, "Status and
# limitations of Community Cloud", Configuration). Usage statistics stay off here: this machine
# has no business sending them.
CLOUD_OVERRIDES = (
    "--client.showErrorDetails", "false",
    "--runner.fastReruns", "true",
    "--server.runOnSave", "true",
    "--server.enableXsrfProtection", "true",
)  # fmt: skip
# What pip prints when it cannot reach the index (and nothing else is wrong).
NO_INDEX = re.compile(
    r"NewConnectionError|Failed to establish a new connection|Temporary failure in name "
    r"resolution|Name or service not known|Network is unreachable|ConnectTimeoutError|"
    r"ProxyError|Could not fetch URL|SSLError",
)


def _router_pages():
    """The router's pages (app_pages/ui/pages.py, read on its own: the app_pages package would
    import Streamlit's page helpers into this process)."""
    spec = importlib.util.spec_from_file_location("cloud_way_pages", ROOT / "app_pages/ui/pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PAGES


PAGES = _router_pages()
# Environment variables of the machine that the server keeps: where programs are, the locale.
KEPT_VARIABLES = ("PATH", "LANG", "LC_ALL", "TZ")


def _requirement_names(path: Path) -> set[str]:
    """The normalised project names a requirements file lists itself for this platform (``-r``
    lines and requirements whose environment marker does not hold here are left out)."""
    names = set()
    for line in path.read_text().splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate():
            names.add(canonicalize_name(requirement.name))
    return names


def _clean_environment(home: Path, venv: Path) -> dict[str, str]:
    """The server's environment: the venv's bin first on PATH, the machine's locale, and nothing
    of this test process (no PYTHONPATH, VIRTUAL_ENV, NEUROGENESIS_* or streamlit settings)."""
    environment = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
    environment["PATH"] = f"{venv / 'bin'}{os.pathsep}{environment.get('PATH', '/usr/bin:/bin')}"
    environment["HOME"] = str(home)
    environment["TF_CPP_MIN_LOG_LEVEL"] = "2"  # quieter logs only; Community Cloud shows them all
    return environment


@pytest.fixture(scope="module")
def cloud_copy(tmp_path_factory) -> Path:
    """The files git tracks, copied as the working tree has them (what a clone of this commit
    with these edits would hold): no .venv, no caches, no untracked files."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("the Cloud way copies what git tracks: needs git and a git checkout")
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    copy = tmp_path_factory.mktemp("cloud") / "repository"
    for name in filter(None, listing.split("\0")):
        source = ROOT / name
        if not source.is_file():  # deleted in the working tree, not yet committed
            continue
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    assert (copy / "app.py").is_file() and (copy / "requirements.txt").is_file()
    return copy


@pytest.fixture(scope="module")
def cloud_venv(tmp_path_factory, cloud_copy) -> Path:
    """A venv with requirements.txt only, made with this Python (``NEUROGENESIS_CLOUD_VENV``
    names one to make or reuse)."""
    named = os.environ.get(VENV_VARIABLE)
    venv = Path(named) if named else tmp_path_factory.mktemp("cloud-venv") / "venv"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    began = time.time()
    try:
        installed = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "-r", "requirements.txt"],
            cwd=cloud_copy,
            capture_output=True,
            text=True,
            timeout=PIP_SECONDS,
            env={key: value for key, value in os.environ.items() if key != "PYTHONPATH"},
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"pip install -r requirements.txt took over {PIP_SECONDS} s")
    output = installed.stdout + installed.stderr
    if installed.returncode != 0:
        if NO_INDEX.search(output):
            pytest.skip(f"pip cannot reach its package index: {output.strip()[-600:]}")
        pytest.fail(f"pip install -r requirements.txt failed:\n{output[-4000:]}")
    print(f"\n[cloud way] venv {venv}: pip install -r requirements.txt {time.time() - began:.0f} s")
    return venv


def _installed_names(venv: Path) -> set[str]:
    script = (
        "import importlib.metadata as m, re\n"
        "for d in m.distributions():\n"
        "    print(re.sub(r'[-_.]+', '-', d.metadata['Name']).lower())\n"
    )
    listing = subprocess.run(
        [str(venv / "bin" / "python"), "-c", script], capture_output=True, text=True, check=True
    )
    return set(listing.stdout.split())


@contextlib.contextmanager
def _cloud_server(copy: Path, venv: Path, home: Path):
    """``streamlit run app.py`` in the copy, the Community Cloud way; yields its URL."""
    port = tour.free_port()
    command = [
        str(venv / "bin" / "streamlit"), "run", "app.py",
        "--server.headless", "true", "--server.port", str(port),
        "--server.address", "127.0.0.1", *CLOUD_OVERRIDES,
    ]  # fmt: skip
    log_path = home / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command,
            cwd=copy,
            env=_clean_environment(home, venv),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            if not tour.wait_healthy(base, process, START_SECONDS):
                pytest.fail("the app did not start the Cloud way:\n" + log_path.read_text()[-4000:])
            yield base, process
        finally:
            tour.stop(process)


@pytest.fixture(scope="module")
def cloud_server(tmp_path_factory, cloud_copy, cloud_venv):
    home = tmp_path_factory.mktemp("cloud-home")
    with _cloud_server(cloud_copy, cloud_venv, home) as (base, process):
        yield {"url": base, "log": home / "server.log", "pid": process.pid}


def _url_path(entry) -> str:
    """The page's address under the router: st.Page names a page after its file's stem; the
    default page (Home) is the root."""
    return "" if entry.title == "Home" else Path(entry.path).stem


def _peak_memory_bytes(pid: int) -> int | None:
    """The process's peak resident memory (Linux's VmHWM), None where /proc cannot tell."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) * 1024 if found else None


def _problems(page) -> list[str]:
    found = []
    for kind, selector in (
        ("exception", '[data-testid="stException"]'),
        ("error", '[data-testid="stAlertContentError"]'),
    ):
        for element in page.query_selector_all(selector):
            found.append(f"{kind}: {' '.join((element.inner_text() or '').split())[:400]}")
    return found


def test_the_venv_holds_requirements_txt_only(cloud_venv):
    version = subprocess.run(
        [str(cloud_venv / "bin" / "python"), "-c", "import sys; print(*sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert tuple(map(int, version)) == sys.version_info[:2]  # the Python chosen at deploy time
    installed = _installed_names(cloud_venv)
    runtime = _requirement_names(ROOT / "requirements.txt")
    assert runtime <= installed, f"requirements.txt left out: {sorted(runtime - installed)}"
    dev_only = (
        _requirement_names(ROOT / "requirements-dev.txt")
        | _requirement_names(ROOT / "requirements-nodeps.txt")
        | _requirement_names(ROOT / "requirements-ray.txt")
    ) - runtime
    assert {"pytest", "playwright"} <= dev_only
    assert not dev_only & installed, (
        f"the Cloud venv holds dev-only packages {sorted(dev_only & installed)}: it is not the "
        f"one requirements.txt makes ({VENV_VARIABLE} names a venv of its own, not .venv)"
    )


def test_neurogenesis_is_imported_from_the_repository_not_installed(
    cloud_copy, cloud_venv, tmp_path
):
    python = str(cloud_venv / "bin" / "python")
    environment = _clean_environment(tmp_path, cloud_venv)
    outside = subprocess.run(
        [python, "-c", "import neurogenesis"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert outside.returncode != 0
    assert "No module named 'neurogenesis'" in outside.stderr
    # From the root (the script's folder, which Streamlit puts on sys.path) it is the copy's.
    inside = subprocess.run(
        [python, "-c", "import neurogenesis; print(neurogenesis.__file__)"],
        cwd=cloud_copy,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert (
        Path(inside.stdout.strip()).resolve()
        == (cloud_copy / "neurogenesis" / "__init__.py").resolve()
    )


def test_every_page_runs_on_the_demos(browser, cloud_server):  # noqa: F811
    base = cloud_server["url"]
    failures = []
    seconds = {}
    for entry in PAGES:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        wire = tour.Wire()
        began = time.time()
        tour.open_app(page, wire, f"{base}/{_url_path(entry)}", PAGE_SECONDS)
        took, finished = tour.settle(page, wire, PAGE_SECONDS, began)
        seconds[entry.title] = round(took)
        title = "NeuroGenesis" if entry.title == "Home" else entry.title
        headings = [
            " ".join(text.split())
            for text in page.locator('[data-testid="stMain"] h1').all_inner_texts()
        ]
        charts = page.locator('[data-testid="stMain"] [data-testid="stPlotlyChart"]')
        drawn = page.locator('[data-testid="stMain"] [data-testid="stPlotlyChart"] .main-svg')
        problems = _problems(page)
        if not finished:
            problems.append(f"did not finish within {PAGE_SECONDS} s")
        if title not in headings:
            problems.append(f"no title {title!r} (headings: {headings})")
        if charts.count() and not drawn.count():
            problems.append(f"{charts.count()} charts, none drawn")
        failures += [f"{entry.title}: {problem}" for problem in problems]
        page.close()
    peak = _peak_memory_bytes(cloud_server["pid"])
    print(f"\n[cloud way] seconds per page: {seconds}; server's peak memory: {peak} bytes")
    log = cloud_server["log"].read_text()
    assert not failures, "\n".join(failures) + "\n--- server log ---\n" + log[-4000:]
    assert "Traceback" not in log, log[-4000:]
    # Every page on the demos fits in Community Cloud's memory.
    assert peak is None or peak < CLOUD_MEMORY_BYTES


def test_png_export_works_with_the_packages_txt_browser(browser, cloud_server):  # noqa: F811
    packages = (ROOT / "packages.txt").read_text().split()
    if shutil.which("dpkg-query") is None:
        pytest.skip("cannot tell whether packages.txt's packages are installed (no dpkg-query)")
    missing = [
        name
        for name in packages
        if subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", name], capture_output=True, text=True
        ).stdout
        != "install ok installed"
    ]
    if missing:
        pytest.skip(
            f"packages.txt's {missing} are not installed here (Community Cloud installs them)"
        )
    page = browser.new_page(viewport={"width": 1400, "height": 1200}, accept_downloads=True)
    wire = tour.Wire()
    tour.open_app(page, wire, f"{cloud_server['url']}/training", PAGE_SECONDS)
    page.get_by_role("heading", name="Training dynamics").wait_for(timeout=PAGE_SECONDS * 1000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=PAGE_SECONDS * 1000)
    page.get_by_test_id("stPopoverButton").filter(has_text="Download").first.click()
    button = page.get_by_test_id("stDownloadButton").filter(has_text=re.compile(r"^PNG$")).first
    with page.expect_download(timeout=PAGE_SECONDS * 1000) as download:
        button.click()
    data = Path(download.value.path()).read_bytes()
    assert download.value.suggested_filename == "training_curves.png"
    assert data.startswith(PNG_MAGIC) and len(data) > 10_000
    assert not _problems(page)
    page.close()
