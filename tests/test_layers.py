"""The house plan's floors (DESIGN.md, "Layout"), read from the imports with ``ast``.

Data flows one way: ``io`` -> ``analysis`` -> ``plotting`` -> ``cached`` -> ``app_pages``. Each
test names the rule it keeps and lists every place that breaks it, so a failure reads as a to-do.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "neurogenesis"
PAGES = ROOT / "app_pages"
MAX_PAGE_LINES = 250
# What a page may take from analysis: constants and the infos it is handed (never a function).
PAGE_ANALYSIS_NAME = re.compile(r"^([A-Z][A-Z0-9_]*|[A-Z]\w*Info)$")
TENSOR_LIBRARIES = ("tensorflow", "keras", "keras_hub", "keras_nlp", "keras_cv", "tf_keras")


def _python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _imports(path: Path) -> list[tuple[int, str, tuple[str, ...]]]:
    """Every import in ``path`` (also inside functions): (line, module, names taken from it)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name, ()) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: resolve against the file's package
                package = path.parent.relative_to(ROOT).parts
                base = package[: len(package) - node.level + 1]
                module = ".".join((*base, module) if module else base)
            found.append((node.lineno, module, tuple(alias.name for alias in node.names)))
    return found


def _under(module: str, *roots: str) -> bool:
    return any(module == root or module.startswith(f"{root}.") for root in roots)


def _where(path: Path, line: int, text: str) -> str:
    shown = path.relative_to(ROOT) if ROOT in path.parents else path
    return f"{shown}:{line}: {text}"


def _page_files() -> list[Path]:
    return [*_python_files(PAGES), ROOT / "app.py"]


def _page_import_problems(files: list[Path]) -> list[str]:
    broken = []
    for path in files:
        for line, module, names in _imports(path):
            if _under(module, *TENSOR_LIBRARIES):
                broken.append(_where(path, line, f"imports {module}"))
            elif module == "neurogenesis" and "analysis" in names:
                broken.append(_where(path, line, "imports the analysis package"))
            elif _under(module, "neurogenesis.analysis"):
                taken = [name for name in names if not PAGE_ANALYSIS_NAME.match(name)]
                if not names or taken:
                    broken.append(_where(path, line, f"takes {taken or module} from {module}"))
    return broken


def test_pages_hold_no_keras_object_and_call_no_analysis_function():
    broken = _page_import_problems(_page_files())
    assert not broken, "\n".join(broken)


def test_page_files_stay_short():
    long = [
        f"{path.relative_to(ROOT)}: {count} lines"
        for path in sorted(PAGES.glob("*.py"))
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_PAGE_LINES
    ]
    assert not long, f"page files over {MAX_PAGE_LINES} lines:\n" + "\n".join(long)


def test_analysis_knows_no_demos_no_cache_no_drawing_and_no_streamlit():
    forbidden = ("neurogenesis.zoo", "neurogenesis.cached", "neurogenesis.plotting", "streamlit")
    broken = [
        _where(path, line, f"imports {module}")
        for path in _python_files(PACKAGE / "analysis")
        for line, module, names in _imports(path)
        if _under(module, *forbidden)
        or (module == "neurogenesis" and {"zoo", "cached", "plotting"} & set(names))
    ]
    assert not broken, "\n".join(broken)


def test_plotting_imports_no_tensorflow_and_no_streamlit():
    broken = [
        _where(path, line, f"imports {module}")
        for path in _python_files(PACKAGE / "plotting")
        for line, module, _ in _imports(path)
        if _under(module, *TENSOR_LIBRARIES, "streamlit", "neurogenesis.cached")
    ]
    assert not broken, "\n".join(broken)


def test_io_imports_nothing_above_it():
    allowed = ("neurogenesis.io", "neurogenesis.errors")
    broken = []
    for path in _python_files(PACKAGE / "io"):
        for line, module, names in _imports(path):
            if module == "neurogenesis" and set(names) - {"io", "errors"}:
                broken.append(_where(path, line, f"imports {names} from neurogenesis"))
            elif (
                _under(module, "neurogenesis")
                and not _under(module, *allowed)
                or _under(module, "streamlit", "plotly")
            ):
                broken.append(_where(path, line, f"imports {module}"))
    assert not broken, "\n".join(broken)


def test_only_the_cache_layer_and_the_pages_import_streamlit():
    inside = (PACKAGE / "cached",)
    broken = [
        _where(path, line, f"imports {module}")
        for path in _python_files(PACKAGE)
        if not any(folder in path.parents for folder in inside)
        for line, module, _ in _imports(path)
        if _under(module, "streamlit")
        # the CLI's `app` verb starts the server through streamlit's own entry point
        and not (path.name == "cli.py" and module == "streamlit.web")
    ]
    assert not broken, "\n".join(broken)


def test_the_cache_layer_knows_no_run_folder_names():
    """Which runs have a model or attention is the catalogue's business (workspace, io.recordings),
    not the cache's: cached/ neither imports the run-folder format nor spells its file names."""
    from neurogenesis.io import run_folder

    names = {
        value
        for name, value in vars(run_folder).items()
        if name.isupper() and isinstance(value, str) and "." in value  # file names
    }
    broken = []
    for path in _python_files(PACKAGE / "cached"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for line, module, _ in _imports(path):
            if _under(module, "neurogenesis.io.run_folder"):
                broken.append(_where(path, line, f"imports {module}"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value in names
            ):
                broken.append(_where(path, node.lineno, f"spells {node.value!r}"))
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from neurogenesis.analysis.features import prediction_info", 1),
        ("from neurogenesis.analysis.features import DEFAULT_TOP_K, PredictionInfo", 0),
        ("from neurogenesis import analysis", 1),
        ("from neurogenesis.analysis import features as feature_analysis", 1),
        ("def f():\n    import tensorflow as tf", 1),
        ("import keras.ops", 1),
        ("from neurogenesis.plotting.features import plot_sample_grid", 0),
    ],
)
def test_the_page_rule_catches_what_it_names(tmp_path, source, expected):
    # The rule is only as good as its reading of imports: a function taken from analysis, the
    # package itself and an import hidden inside a function all count; plotting does not.
    page = tmp_path / "page.py"
    page.write_text(source, encoding="utf-8")
    assert len(_page_import_problems([page])) == expected
