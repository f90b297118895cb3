#!/usr/bin/env python3
"""The README's two commands, with nothing but Python 3.11 needed to start them.

    python3 tasks.py app    # make .venv, install, start the dashboard on the bundled demos
    python3 tasks.py test   # make .venv, install the test tools (and Chromium when apt-get may), run every test

Extra arguments after the verb go to the tool: ``python3 tasks.py app -- --logdir runs/`` passes
``--logdir runs/`` to the dashboard; ``python3 tasks.py test -k logs`` passes ``-k logs`` to pytest.
Installation is skipped when the requirement files have not changed since the last install.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("NEUROGENESIS_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
# Installed with --no-deps after the requirement file named (pip cannot say so per line).
NO_DEPS_FILES = {"requirements-dev.txt": "requirements-nodeps.txt"}


def _say(message: str) -> None:
    print(f"[tasks] {message}", flush=True)


def _run(*command: str | os.PathLike, **kwargs) -> None:
    subprocess.run([str(part) for part in command], check=True, **kwargs)


def _ensure_venv(requirement_file: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 (tasks.py runs on whatever python3 the user has)
        sys.exit(
            f"NeuroGenesis needs Python 3.11 or newer. Received: Python {sys.version.split()[0]}"
        )
    if not PYTHON.exists():
        _say(f"creating the virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    no_deps = NO_DEPS_FILES.get(requirement_file)
    inputs = b"".join(
        (ROOT / name).read_bytes()
        for name in (
            requirement_file,
            "requirements.txt",
            "requirements-ray.txt",
            "pyproject.toml",
            no_deps,
        )
        if name is not None
    )
    stamp = VENV / f".stamp-{requirement_file}"
    digest = hashlib.sha256(inputs).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    _say(f"installing {requirement_file} (a few minutes the first time: TensorFlow is large)")
    _run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    _run(PYTHON, "-m", "pip", "install", "--quiet", "-r", ROOT / requirement_file)
    if no_deps is not None:
        _run(PYTHON, "-m", "pip", "install", "--quiet", "--no-deps", "-r", ROOT / no_deps)
    _run(PYTHON, "-m", "pip", "install", "--quiet", "--no-deps", "-e", ROOT)
    stamp.write_text(digest)


def _ensure_chromium() -> None:
    """Debian's chromium serves the browser tests; Playwright never downloads a browser of its own."""
    if any(Path(path).exists() for path in CHROMIUM_PATHS):
        return
    apt = shutil.which("apt-get")
    if apt is None:
        _say("no chromium and no apt-get: the browser tests will be skipped")
        return
    prefix = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else None)
    if prefix is None:
        _say("no chromium and no root: the browser tests will be skipped")
        return
    _say("installing Debian's chromium for the browser tests")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        _run(*prefix, apt, "update", "-qq", env=env, stdout=subprocess.DEVNULL)
        _run(
            *prefix,
            apt,
            "install",
            "-y",
            "-qq",
            "chromium",
            "fonts-dejavu-core",
            env=env,
            stdout=subprocess.DEVNULL,
        )
    except subprocess.CalledProcessError as error:
        _say(f"could not install chromium ({error}); the browser tests will be skipped")


def app(arguments: list[str]) -> int:
    _ensure_venv("requirements.txt")
    if arguments and arguments[0] == "--":
        arguments = arguments[1:]
    command = [str(PYTHON), "-m", "neurogenesis", "app", *arguments]
    _say("starting the dashboard: " + " ".join(command[2:]))
    return subprocess.call(command, cwd=ROOT)


def test(arguments: list[str]) -> int:
    _ensure_venv("requirements-dev.txt")
    _ensure_chromium()
    # Two workers, one test file each at a time (module-scoped fixtures stay in one process).
    command = [str(PYTHON), "-m", "pytest", "-n", "2", "--dist", "loadfile", *arguments]
    _say("running " + " ".join(command[2:]))
    return subprocess.call(command, cwd=ROOT)


def main(argv: list[str]) -> int:
    verbs = {"app": app, "test": test}
    if not argv or argv[0] not in verbs:
        print(__doc__)
        return 2
    return verbs[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
