"""Charts with their downloads, every page as one zip, and the "How to read this" expander.

Every page draws its charts with :func:`chart`: the chart, a compact download control (PNG, SVG,
HTML and, where the page passes its data, CSV) and an entry in the page's export registry, from
which :func:`bundle_button` builds one zip of the whole page. A page calls :func:`start_page`
first (an empty registry for the run) and :func:`bundle_button` last; its "How to read this"
expander is :func:`how_to_read`, which links to the user manual.
"""

from __future__ import annotations

import contextlib
import html
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from neurogenesis.errors import ExportUnavailableError
from neurogenesis.plotting.export import (
    FIGURE_FORMATS,
    export_session,
    figure_bytes,
    static_export_available,
)
from neurogenesis.plotting.style import browser_safe

EXPORTS_STATE = "page_exports"  # session state: {"page": title, "charts": {chart key: ChartExport}}


CHART_FORMATS = ("png", "svg", "html")


DOWNLOAD_LABELS = {"png": "PNG", "svg": "SVG", "html": "HTML (interactive)", "csv": "Data (CSV)"}


PLOTLY_SCRIPT = "plotly.min.js"  # one copy in a bundle; its HTML files load it from beside them


MANUAL_PAGE = "app_pages/manual.py"

# A table, or a function that makes it when a download asks for it (data that is costly to read).


ChartData = pd.DataFrame | Callable[[], pd.DataFrame]


@dataclass(frozen=True)
class ChartExport:
    """One chart as the page drew it: its file stem, title, figure and (optionally) its data."""

    key: str
    name: str
    title: str
    figure: go.Figure
    data: ChartData | None = None


def file_stem(name: str) -> str:
    """``name`` as a file name without extension: letters, digits, ``-``, ``_`` and ``.``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_.") or "chart"


def start_page(title: str) -> None:
    """Opens the page's export registry for this run (empty: what the last run drew is gone)."""
    st.session_state[EXPORTS_STATE] = {"page": title, "charts": {}}


def _registry() -> dict:
    if EXPORTS_STATE not in st.session_state:
        start_page("NeuroGenesis")
    return st.session_state[EXPORTS_STATE]


def recorded_charts() -> list[ChartExport]:
    """The charts this page has drawn so far in this run, in order."""
    return list(_registry()["charts"].values())


def chart(
    figure: go.Figure,
    *,
    key: str,
    data: ChartData | None = None,
    name: str | None = None,
    downloads: bool = True,
    **options,
):
    """``st.plotly_chart(figure, key=key, **options)`` with its downloads below it.

    The figure (and ``data``, its numbers as a table) is recorded for the page's bundle. A chart
    redrawn under the same key (a fragment's rerun) replaces its entry. Downloads are made only
    when clicked. ``downloads=False`` is for previews that the finished chart replaces in the
    same run.

    Returns:
        What ``st.plotly_chart`` returns: the selection event with ``on_select``.
    """
    # theme=None: the colours, scales and fonts the plotting module chose reach the browser;
    # browser_safe: Streamlit swaps #000001-#000020 for theme colours (Inferno's black zero).
    options.setdefault("theme", None)
    event = st.plotly_chart(browser_safe(figure), key=key, **options)
    if downloads:
        title = _plain(figure.layout.title.text if figure.layout.title else None)
        export = ChartExport(key, file_stem(name or key), title or name or key, figure, data)
        _registry()["charts"][key] = export
        _download_control(export)
    return event


def _plain(title: str | None) -> str:
    """A figure title's first line as text (titles hold Plotly's HTML: <br>, <sub>, entities)."""
    first = re.split(r"<br\s*/?>", title or "", maxsplit=1)[0]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", first)).split())


def figure_file(figure: go.Figure, fmt: str) -> bytes:
    """The figure's file in ``fmt``; empty when the static export cannot run here after all."""
    try:
        return figure_bytes(figure, fmt)
    except ExportUnavailableError:
        return b""


def csv_bytes(data: ChartData) -> bytes:
    """The table as CSV (its index too when it labels rows, as a confusion matrix's does)."""
    frame = data() if callable(data) else data
    labelled = not isinstance(frame.index, pd.RangeIndex)
    return frame.to_csv(index=labelled).encode("utf-8")


def _download_control(export: ChartExport) -> None:
    formats = CHART_FORMATS if static_export_available() else ("html",)
    with st.popover("Download", icon=":material/download:", type="tertiary"):
        for fmt in formats:
            st.download_button(
                DOWNLOAD_LABELS[fmt],
                partial(figure_file, export.figure, fmt),
                file_name=f"{export.name}.{fmt}",
                mime=FIGURE_FORMATS[fmt],
                key=f"{export.key}:download:{fmt}",
                on_click="ignore",
                width="stretch",
            )
        if export.data is not None:
            st.download_button(
                DOWNLOAD_LABELS["csv"],
                partial(csv_bytes, export.data),
                file_name=f"{export.name}.csv",
                mime="text/csv",
                key=f"{export.key}:download:csv",
                on_click="ignore",
                width="stretch",
            )
        if len(formats) == 1:
            st.caption("PNG and SVG need kaleido and a Chrome or Chromium browser.")


def bundle_bytes(
    charts: list[ChartExport], *, title: str = "NeuroGenesis", static_images: bool = False
) -> bytes:
    """A zip of the charts: each as HTML (and PNG when ``static_images``), its data as CSV, one
    copy of plotly.js that the HTML files load, and a README.txt listing the files."""
    import plotly.offline

    buffer = io.BytesIO()
    lines = [
        f"NeuroGenesis: {title}",
        f"Exported {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {len(charts)} chart(s).",
        "",
        f"Open the .html files in a browser (interactive; they load {PLOTLY_SCRIPT} from the same",
        "folder, so keep it beside them). The .csv files hold the numbers behind the charts.",
        "",
    ]
    used: set[str] = set()
    # One browser renders every PNG (a browser per image takes seconds each).
    session = export_session() if static_images else contextlib.nullcontext()
    with session, zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(PLOTLY_SCRIPT, plotly.offline.get_plotlyjs())
        for export in charts:
            stem, number = export.name, 2
            while stem in used:
                stem, number = f"{export.name}_{number}", number + 1
            used.add(stem)
            files = [f"{stem}.html"]
            archive.writestr(
                files[0], export.figure.to_html(include_plotlyjs=PLOTLY_SCRIPT, full_html=True)
            )
            problems = []
            if static_images:
                try:
                    archive.writestr(f"{stem}.png", figure_bytes(export.figure, "png"))
                    files.append(f"{stem}.png")
                except ExportUnavailableError as error:
                    problems.append(f"no PNG: {error}")
            if export.data is not None:
                # The bundle is still worth having when one table cannot be read again (a log
                # file deleted since the page ran): the README says which and why.
                try:
                    archive.writestr(f"{stem}.csv", csv_bytes(export.data))
                    files.append(f"{stem}.csv")
                except Exception as error:
                    problems.append(f"no CSV: {type(error).__name__}: {error}")
            lines.append(f"- {export.title}: {', '.join(files)}")
            lines.extend(f"  ({problem})" for problem in problems)
        lines.append(f"- {PLOTLY_SCRIPT}: Plotly's JavaScript, for the .html files")
        archive.writestr("README.txt", "\n".join(lines) + "\n")
    return buffer.getvalue()


def _bundle_of(state: dict, static_images: bool) -> bytes:
    # Reads the registry when clicked, so a fragment's redrawn charts are the ones bundled.
    return bundle_bytes(
        list(state["charts"].values()), title=state["page"], static_images=static_images
    )


def bundle_button() -> None:
    """One download for the whole page: every chart drawn in this run and its data, as a zip."""
    state = _registry()
    charts = list(state["charts"].values())
    if not charts:
        return
    static = static_export_available()
    tables = sum(export.data is not None for export in charts)
    st.download_button(
        f"Download this page ({len(charts)} chart{'s' if len(charts) != 1 else ''}"
        + (f", {tables} table{'s' if tables != 1 else ''}" if tables else "")
        + ", zip)",
        partial(_bundle_of, state, static),
        file_name=f"neurogenesis_{file_stem(state['page'].lower())}.zip",
        mime="application/zip",
        key="page_bundle",
        icon=":material/folder_zip:",
        on_click="ignore",
        help="Every chart on this page as interactive HTML"
        + (" and PNG" if static else "")
        + ", the data behind them as CSV, and a README listing the files. Only the open tab's "
        "charts are drawn, so only they are in the zip.",
    )


def manual_link(section: str) -> None:
    """A link to the user manual's section for this page, once the manual page is in the app."""
    if not (Path(__file__).resolve().parents[2] / MANUAL_PAGE).is_file():
        return
    with contextlib.suppress(StreamlitPageNotFoundError):  # written, not yet registered in app.py
        st.page_link(
            MANUAL_PAGE,
            label=f"User manual: {section}",
            icon=":material/menu_book:",
            query_params={"section": section},
        )


@contextlib.contextmanager
def how_to_read(section: str) -> Iterator[None]:
    """The page's "How to read this" expander, ending with a link to the manual's ``section``."""
    with st.expander("How to read this"):
        yield
        manual_link(section)
