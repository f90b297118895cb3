"""CSV logs: Keras CSVLogger files (one row per epoch) and PyTorch Lightning ``metrics.csv`` files
(one row per logging call, keyed by a ``step`` column)."""

from __future__ import annotations

import csv
import math

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
STEP_COLUMN = "step"
EPOCH_COLUMN = "epoch"
WALL_TIME_COLUMN = "wall_time"
AXIS_COLUMNS = (STEP_COLUMN, EPOCH_COLUMN, WALL_TIME_COLUMN)
"""Header names (lower case, spaces as underscores) that are axes, never metrics."""


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


def _axis_name(name: str) -> str:
    """A header name as compared with the axis names: ``Wall time`` -> ``wall_time``."""
    return name.strip().lower().replace(" ", "_")


def _cell_number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _parse_csv(data: bytes, file: str) -> _FileRecords:
    """A CSV log: a header line and one line per logging call.

    Two layouts, told apart by the header:

    - Keras's CSVLogger: ``epoch`` and the metrics, one row per epoch; the epoch is the step and
      an empty or ``NA`` cell is a missing value (a ``val_*`` cell of an epoch without validation).
    - A ``step`` column, as PyTorch Lightning's CSVLogger writes (``metrics.csv``: the keys sorted,
      ``epoch`` and ``step`` among them): one row per logging call, the step is the x axis and
      ``epoch`` a column kept as each point's epoch. A row fills only the columns its call logged
      (``train_loss_step`` every N steps, ``val_*`` and ``*_epoch`` at the epoch's last step), so
      an empty cell is no point at all; ``NA`` is still a missing value.

    The axis columns (``step``, ``epoch``, ``wall_time``, in any case, ``Wall time`` too) are never
    metrics; ``wall_time`` gives the points' wall times.
    """
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
    epochs: list[float] = []
    walls: list[float] = []

    def columns_of(names: list[str]):
        names = [name.strip() or f"column {j + 1}" for j, name in enumerate(names)]
        axes = [_axis_name(name) for name in names]
        found = {
            axis: (axes.index(axis) if axis in axes else None)
            for axis in (STEP_COLUMN, EPOCH_COLUMN, WALL_TIME_COLUMN)
        }
        metric_columns = [
            (j, tags.code(name)) for j, name in enumerate(names) if axes[j] not in AXIS_COLUMNS
        ]
        return found, names, metric_columns

    axis_columns, names, metric_columns = columns_of(header)
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
            or _axis_name(fields[0]) in AXIS_COLUMNS
        ):
            # A logger started again on the same file: a new segment, possibly new columns.
            header = fields
            axis_columns, names, metric_columns = columns_of(header)
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
        step_column = axis_columns[STEP_COLUMN]
        epoch_column = axis_columns[EPOCH_COLUMN]
        by_step = step_column is not None
        key_column = step_column if by_step else epoch_column
        epoch = math.nan
        if key_column is not None:
            cell = fields[key_column].strip()
            number = _cell_number(cell)
            step = None if number is None else _as_step(number)
            if step is None:
                bad.add("unparseable_value", names[key_column], line_number, repr(cell[:40]))
                continue
        else:
            step = row_index
        if by_step and epoch_column is not None:
            cell = fields[epoch_column].strip()
            number = _cell_number(cell) if cell not in CSV_MISSING else math.nan
            if number is None or not (math.isnan(number) or _as_step(number) is not None):
                bad.add("unparseable_value", names[epoch_column], line_number, repr(cell[:40]))
                number = math.nan
            epoch = number
        wall = math.nan
        wall_column = axis_columns[WALL_TIME_COLUMN]
        if wall_column is not None:
            cell = fields[wall_column].strip()
            number = _cell_number(cell) if cell not in CSV_MISSING else math.nan
            if number is None:
                bad.add("unparseable_value", names[wall_column], line_number, repr(cell[:40]))
                number = math.nan
            wall = number
        row_index += 1
        for j, code in metric_columns:
            cell = fields[j].strip()
            if by_step and cell == "":
                continue  # another logging call's row: this column was not logged here
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
            epochs.append(epoch)
            walls.append(wall)
            pending_break = False
    problems.extend(bad.problems(_describe_csv_problem))
    problems.sort(key=lambda p: p.offset or 0)
    return _records(tags, codes, steps, walls, values, missing, breaks, epochs, problems=problems)
