"""Keras CSVLogger files (and CSV logs like them): one row per epoch, a header of metric names."""

from __future__ import annotations

import csv
import math

import numpy as np

from neurogenesis.io.logs.series import (
    _NUMBER_LIKE,
    Problem,
    _as_step,
    _empty_records,
    _FileRecords,
    _NotALog,
    _plural,
    _records,
    _TagTable,
    _ValueProblems,
)

CSV_MISSING = ("", "NA")


def _split_csv_line(line: str, separator: str) -> list[str] | None:
    if '"' not in line:
        return line.split(separator)
    try:
        rows = list(csv.reader([line], delimiter=separator))
    except csv.Error:
        return None
    return rows[0] if len(rows) == 1 else None


def _sniff_separator(header: str) -> str:
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: (counts[sep], sep == ","))
    return best if counts[best] else ","


def _is_header(fields: list[str]) -> bool:
    names = [f.strip() for f in fields]
    return any(names) and not any(_NUMBER_LIKE.fullmatch(name) for name in names)


def _describe_csv_problem(kind, tag, count, line, detail) -> str:
    if kind == "unparseable_value":
        return (
            f"Column '{tag}' has {_plural(count, 'value')} that {'is' if count == 1 else 'are'} "
            f"not a number (first on line {line}: {detail}); treated as missing."
        )
    if kind == "corrupt":
        return (
            f"{_plural(count, 'line')} ({'first ' if count > 1 else ''}line {line}) "
            f"{'has' if count == 1 else 'have'} {detail}, so {'it was' if count == 1 else 'they were'} "
            "left out."
        )
    return detail


def _parse_csv(data: bytes, file: str) -> _FileRecords:
    """A Keras CSVLogger file: a header line (epoch, metrics...) and one line per epoch."""
    text = data.decode("utf-8-sig", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    content_lines = [i for i, line in enumerate(lines) if line.strip()]
    if not content_lines:
        return _empty_records()
    header_index = content_lines[0]
    last_index = content_lines[-1]
    separator = _sniff_separator(lines[header_index])
    header = _split_csv_line(lines[header_index], separator)
    if header is None or not _is_header(header):
        raise _NotALog(
            f"its first line {lines[header_index][:60]!r} is not a header of metric names "
            "(a CSVLogger file starts with 'epoch,loss,...')"
        )

    tags = _TagTable()
    problems: list[Problem] = []
    bad = _ValueProblems(file)
    codes: list[int] = []
    steps: list[int] = []
    values: list[float] = []
    missing: list[bool] = []
    breaks: list[bool] = []

    def columns_of(names: list[str]):
        names = [name.strip() or f"column {j + 1}" for j, name in enumerate(names)]
        epoch_column = names.index("epoch") if "epoch" in names else None
        metric_columns = [(j, tags.code(name)) for j, name in enumerate(names) if j != epoch_column]
        return epoch_column, metric_columns

    epoch_column, metric_columns = columns_of(header)
    num_fields = len(header)
    row_index = 0
    pending_break = False
    for i in content_lines[1:]:
        line_number = i + 1
        fields = _split_csv_line(lines[i], separator)
        if fields is None:
            bad.add("corrupt", None, line_number, "unbalanced quotes")
            continue
        if _is_header(fields) and (
            [f.strip() for f in fields] == [f.strip() for f in header]
            or fields[0].strip() == "epoch"
        ):
            # A logger started again on the same file: a new segment, possibly new columns.
            header = fields
            epoch_column, metric_columns = columns_of(header)
            num_fields = len(header)
            row_index = 0
            pending_break = True
            continue
        if len(fields) < num_fields:
            if i == last_index:
                problems.append(
                    Problem(
                        "truncated",
                        file,
                        f"The last line (line {line_number}) has {len(fields)} of "
                        f"{num_fields} fields: the file was cut in the middle of a line, "
                        "which was left out.",
                        line_number,
                    )
                )
            else:
                bad.add(
                    "corrupt",
                    None,
                    line_number,
                    f"fewer fields than the header's {num_fields}",
                )
            continue
        if len(fields) > num_fields:
            bad.add("corrupt", None, line_number, f"more fields than the header's {num_fields}")
            continue
        if epoch_column is not None:
            cell = fields[epoch_column].strip()
            try:
                step = _as_step(float(cell))
            except ValueError:
                step = None
            if step is None:
                bad.add("unparseable_value", "epoch", line_number, repr(cell[:40]))
                continue
        else:
            step = row_index
        row_index += 1
        for j, code in metric_columns:
            cell = fields[j].strip()
            if cell in CSV_MISSING:
                number = math.nan
                is_missing = True
            else:
                try:
                    number = float(cell)
                    is_missing = False
                except ValueError:
                    bad.add("unparseable_value", tags.names[code], line_number, repr(cell[:40]))
                    number = math.nan
                    is_missing = True
            codes.append(code)
            steps.append(step)
            values.append(number)
            missing.append(is_missing)
            breaks.append(pending_break)
            pending_break = False
    problems.extend(bad.problems(_describe_csv_problem))
    problems.sort(key=lambda p: p.offset or 0)
    n = len(codes)
    return _records(
        tags, codes, steps, np.full(n, np.nan), values, missing, breaks, problems=problems
    )
