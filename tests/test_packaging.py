"""What Streamlit Community Cloud reads from the repository: packages.txt, the requirement file it
picks, and the README's deploy link.

Community Cloud runs ``apt-get install`` on packages.txt's lines, one package name a line (its
docs say no more; a comment or a version would reach apt as a package name, so the file holds
names only and their reasons live in ``NEEDED`` below).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from neurogenesis.plotting import export
from tests.conftest import ROOT

# Each line of packages.txt and why the app needs it on Community Cloud (Debian).
NEEDED = {
    # kaleido 1.x (PNG, SVG and PDF export) drives a Chrome or Chromium that it finds on PATH or
    # at the usual paths; Debian's chromium installs /usr/bin/chromium.
    "chromium": "the browser kaleido renders static exports in",
    # Chromium draws no text at all without a font (test_exported_png_text_needs_the_font).
    "fonts-dejavu-core": "the sans-serif font for every text in an exported figure",
}
# Community Cloud uses the first dependency file it finds, in this order (docs.streamlit.io,
# "App dependencies for your Community Cloud app"); requirements.txt must be the first here.
DEPENDENCY_FILES = ("uv.lock", "Pipfile", "environment.yml", "requirements.txt", "pyproject.toml")
DEBIAN_NAME = re.compile(r"[a-z0-9][a-z0-9+.-]+")  # Debian Policy 5.6.1
PNG_TITLE = "Validation loss σ ≈ 0.25 → epoch 3"
TITLE_BAND_PIXELS = 60  # the top rows of a 400-pixel-high figure, where its title is drawn


def _packages() -> list[str]:
    return (ROOT / "packages.txt").read_text().splitlines()


def _installed(name: str) -> bool:
    if shutil.which("dpkg-query") is None:
        return False
    status = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", name], capture_output=True, text=True
    ).stdout
    return status == "install ok installed"


def _files_of(name: str) -> list[str]:
    return subprocess.run(
        ["dpkg-query", "-L", name], capture_output=True, text=True, check=True
    ).stdout.split()


def test_packages_txt_is_package_names_only():
    lines = _packages()
    assert lines, "packages.txt is empty"
    for line in lines:
        assert DEBIAN_NAME.fullmatch(line), (
            f"packages.txt line {line!r} is not a bare Debian package name (apt-get reads it)"
        )
    assert len(lines) == len(set(lines))


def test_packages_txt_holds_exactly_what_the_app_needs():
    assert set(_packages()) == set(NEEDED)


def test_the_browser_package_is_one_kaleido_finds():
    from choreographer.browsers._chrome_constants import chromium_names, typical_chromium_paths

    assert "chromium" in chromium_names  # the executable's name kaleido looks up on PATH
    assert "/usr/bin/chromium" in typical_chromium_paths
    assert "/usr/bin/chromium" in export._BROWSERS  # and the path neurogenesis points it at
    if not _installed("chromium"):
        pytest.skip("Debian's chromium is not installed here: cannot list its files")
    assert "/usr/bin/chromium" in _files_of("chromium")


def test_the_font_package_holds_a_sans_serif_font():
    if not _installed("fonts-dejavu-core"):
        pytest.skip("fonts-dejavu-core is not installed here: cannot list its files")
    names = {Path(path).name for path in _files_of("fonts-dejavu-core")}
    assert {"DejaVuSans.ttf", "DejaVuSans-Bold.ttf"} <= names


def _title_band_dark_pixels(tmp_path: Path, font_folder: Path, name: str) -> int:
    """Renders a figure to PNG through kaleido with fontconfig limited to ``font_folder``, in a
    process of its own (Chromium reads FONTCONFIG_FILE once); returns the dark pixels where the
    title is."""
    config = tmp_path / f"{name}.conf"
    config.write_text(
        textwrap.dedent(
            f"""\
            <?xml version="1.0"?>
            <!DOCTYPE fontconfig SYSTEM "fonts.dtd">
            <fontconfig>
              <dir>{font_folder}</dir>
              <cachedir>{tmp_path / (name + "-cache")}</cachedir>
            </fontconfig>
            """
        )
    )
    script = textwrap.dedent(
        f"""\
        import io, sys
        import numpy as np
        import plotly.graph_objects as go
        from PIL import Image
        from neurogenesis.plotting.export import figure_bytes
        figure = go.Figure(go.Scatter(x=[0, 1, 2], y=[1.0, 0.5, 0.25]))
        figure.update_layout(title={PNG_TITLE!r}, template="plotly_white", width=600, height=400)
        png = figure_bytes(figure, "png", width=600, scale=1)
        gray = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
        print(int((gray[:{TITLE_BAND_PIXELS}] < 128).sum()))
        """
    )
    environment = dict(os.environ, FONTCONFIG_FILE=str(config), PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.split()[-1])


@pytest.mark.slow
def test_exported_png_text_needs_the_font(tmp_path):
    if not export.static_export_available():
        pytest.skip("no kaleido or no Chromium here: static export cannot be tried")
    if not _installed("fonts-dejavu-core"):
        pytest.skip("fonts-dejavu-core is not installed here")
    # The package's own fonts only (its folder may hold other packages' fonts too).
    (package := tmp_path / "fonts-dejavu-core").mkdir()
    for path in _files_of("fonts-dejavu-core"):
        if path.endswith(".ttf"):
            shutil.copy(path, package)
    assert (package / "DejaVuSans.ttf").is_file()
    (empty := tmp_path / "no-fonts").mkdir()
    # With no font Chromium draws no text at all: the title band stays white.
    assert _title_band_dark_pixels(tmp_path, empty, "none") == 0
    # With the package's fonts only, the title (Greek and math signs included) is drawn.
    assert _title_band_dark_pixels(tmp_path, package, "dejavu") > 200


def test_community_cloud_picks_requirements_txt():
    present = [name for name in DEPENDENCY_FILES if (ROOT / name).exists()]
    assert present[0] == "requirements.txt", f"Community Cloud would install {present[0]}"


def test_readme_deploy_link_prefills_this_app():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Deploy to Streamlit Community Cloud", 1)[1].split("\n## ", 1)[0]
    links = re.findall(r"https://share\.streamlit\.io/deploy\?[^\s`)]+", section)
    assert links, "the README's deploy section gives no one-click deploy link"
    for link in links:
        query = parse_qs(urlsplit(link).query)
        # The parameters Streamlit's own Deploy button fills in (repository, branch, mainModule).
        assert set(query) == {"repository", "branch", "mainModule"}
        assert query["mainModule"] == ["app.py"]
    assert (ROOT / "app.py").is_file()
    assert "Python 3.11" in section


def test_readme_states_the_upload_limit_config_sets():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    megabytes = config["server"]["maxUploadSize"]
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Deploy to Streamlit Community Cloud", 1)[1].split("\n## ", 1)[0]
    assert f"maxUploadSize = {megabytes}" in section
