"""JSON training histories (``History.history`` dumped as JSON, or a list of per-epoch records),
read tolerantly: a file cut short is read as far as it goes."""

from __future__ import annotations

import json
import math
import re

import numpy as np

from neurogenesis.io.logs.series import (
    _NUMBER_LIKE,
    Problem,
    _as_step,
    _FileRecords,
    _NotALog,
    _plural,
    _records,
    _TagTable,
    _ValueProblems,
)

MAX_JSON_DEPTH = 200


# --------------------------------------------------------------------------------------------
# JSON histories
# --------------------------------------------------------------------------------------------

_NONFINITE_WORDS = {
    "nan",
    "+nan",
    "-nan",
    "inf",
    "+inf",
    "-inf",
    "infinity",
    "+infinity",
    "-infinity",
}
_POINT, _MISSING, _BAD = 0, 1, 2


def _json_number(item) -> tuple[int, float]:
    """(status, value) of one history entry: a point, missing (null) or not a number."""
    if item is None:
        return _MISSING, math.nan
    if isinstance(item, bool):
        return _BAD, math.nan
    if isinstance(item, (int, float)):
        try:
            return _POINT, float(item)
        except OverflowError:
            return _BAD, math.nan
    if isinstance(item, str):
        word = item.strip()
        if word.lower() in _NONFINITE_WORDS or _NUMBER_LIKE.fullmatch(word):
            try:
                return _POINT, float(word)
            except ValueError:
                return _BAD, math.nan
    return _BAD, math.nan


def _is_entry(item) -> bool:
    return item is None or isinstance(item, (int, float, str))


def _counts_as_number(item) -> bool:
    return item is None or (_json_number(item)[0] == _POINT)


def _history_columns(obj, partial: bool = False) -> dict | None:
    """The dict-of-lists history in obj ({"loss": [...]} or {"history": {...}}), or None.

    A partial object (the intact start of a damaged file) may have only empty lists so far.
    """
    if not isinstance(obj, dict):
        return None
    inner = obj.get("history")
    if isinstance(inner, dict) and _history_columns(inner, partial) is not None:
        return inner
    if not obj:
        return None
    if not all(isinstance(v, list) and all(_is_entry(x) for x in v) for v in obj.values()):
        return None
    if not partial and not any(_counts_as_number(x) for v in obj.values() for x in v):
        return None
    return obj


def _history_rows(obj) -> list | None:
    """The list-of-dicts history in obj ([{"epoch": 0, "loss": ...}, ...]), or None."""
    if not isinstance(obj, list) or not obj:
        return None
    if not all(isinstance(row, dict) and all(_is_entry(x) for x in row.values()) for row in obj):
        return None
    if not any(_counts_as_number(x) for row in obj for k, x in row.items() if k != "epoch"):
        return None
    return obj


def _clean_name(name: str) -> str:
    """A tag from a file decoded with surrogateescape, made printable."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _describe_json_problem(kind, tag, count, offset, detail) -> str:
    return (
        f"'{tag}' has {_plural(count, 'entry')} that {'is' if count == 1 else 'are'} not a number "
        f"(first {detail}); treated as missing."
    )


VALIDATION_PREFIX = "val_"


def _validation_steps(columns: dict, file: str) -> tuple[dict, list[Problem]]:
    """Where the entries of ``val_*`` lists shorter than the training lists go, and a note.

    Keras validates when ``(epoch + 1) % validation_freq == 0`` (0-based epochs), so
    ``fit(epochs=n, validation_freq=f)`` leaves ``n // f`` validation values, logged at epochs
    ``f - 1, 2f - 1, ...``. When every ``val_*`` list has one length that some integer ``f`` turns
    into the training length that way, their entries are placed there; otherwise they stay at
    0, 1, 2, ... and the note says their epochs are unknown.

    Returns:
        ``{key: frequency}`` for the lists placed, and the notes (``validation_epochs``).
    """
    lengths = {key: len(items) for key, items in columns.items()}
    train = [n for key, n in lengths.items() if not str(key).startswith(VALIDATION_PREFIX)]
    val = {key: n for key, n in lengths.items() if str(key).startswith(VALIDATION_PREFIX)}
    if not train or not val:
        return {}, []
    n_train = max(train)
    shorter = {key: n for key, n in val.items() if 0 < n < n_train}
    if not shorter:
        return {}, []
    n_val = min(shorter.values())
    frequency = n_train // n_val
    if len(set(val.values())) == 1 and frequency >= 2 and n_train // frequency == n_val:
        f = frequency
        message = (
            f"The val_* lists ({n_val} values) are shorter than the training lists ({n_train}): "
            f"validation every {f} epochs (Keras validation_freq={f}), so val_* were placed at "
            f"epochs {f}, {2 * f}, ... (steps {f - 1}, {2 * f - 1}, ..., counted from 0 like the "
            "training lists) — a guess from the list lengths."
        )
        return dict.fromkeys(shorter, f), [Problem("validation_epochs", file, message)]
    listed = ", ".join(f"{_clean_name(str(key))} {n}" for key, n in shorter.items())
    message = (
        f"The val_* lists ({listed} values) are shorter than the training lists ({n_train}) and "
        "no validation frequency fits their lengths, so the epochs they were logged at are "
        "unknown; they are drawn at steps 0, 1, 2, ..."
    )
    return {}, [Problem("validation_epochs", file, message)]


def _json_records(
    columns: dict | None, rows: list | None, file: str, problems, complete: bool = True
) -> _FileRecords:
    """The records of a history; ``complete`` is False for the readable start of a damaged file
    (its lists may be cut anywhere, so their lengths say nothing about validation_freq)."""
    tags = _TagTable()
    bad = _ValueProblems(file)
    codes: list[int] = []
    steps: list[int] = []
    values: list[float] = []
    missing: list[bool] = []
    notes: list[Problem] = []
    if columns is not None:
        frequencies, notes = _validation_steps(columns, file) if complete else ({}, [])
        for key, items in columns.items():
            tag = _clean_name(str(key))
            code = tags.code(tag)
            every = frequencies.get(key, 1)
            for index, item in enumerate(items):
                status, number = _json_number(item)
                if status == _BAD:
                    bad.add("unparseable_value", tag, None, f"entry {index}: {str(item)[:40]!r}")
                codes.append(code)
                steps.append((index + 1) * every - 1)
                values.append(number)
                missing.append(status != _POINT)
    else:
        for index, row in enumerate(rows):
            epoch = row.get("epoch")
            step = _as_step(epoch) if isinstance(epoch, (int, float)) else None
            if step is None:
                step = index
            for key, item in row.items():
                if key == "epoch":
                    continue
                tag = _clean_name(str(key))
                code = tags.code(tag)
                status, number = _json_number(item)
                if status == _BAD:
                    bad.add("unparseable_value", tag, None, f"entry {index}: {str(item)[:40]!r}")
                codes.append(code)
                steps.append(step)
                values.append(number)
                missing.append(status != _POINT)
    problems = list(problems) + bad.problems(_describe_json_problem) + notes
    n = len(codes)
    return _records(tags, codes, steps, np.full(n, np.nan), values, missing, problems=problems)


class _JsonStop(Exception):
    def __init__(self, pos: int, partial):
        self.pos = pos
        self.partial = partial


_NOTHING = object()
_JSON_WS = re.compile(r"[ \t\n\r]*")
_JSON_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\.)*"', re.DOTALL)
_JSON_SCALAR = re.compile(
    r'-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|null|true|false|NaN|-?Infinity|"(?:[^"\\\x00-\x1f]|\\.)*"',
    re.DOTALL,
)
_JSON_LITERALS = {"null": None, "true": True, "false": False, "NaN": math.nan}
_CUT_TOKEN = re.compile(
    r'\s*(?:"(?:[^"\\]|\\.)*\\?|-?\d*\.?\d*(?:[eE][+-]?\d*)?|n(?:u(?:l(?:l)?)?)?|t(?:r(?:u(?:e)?)?)?'
    r"|f(?:a(?:l(?:s(?:e)?)?)?)?|N(?:a(?:N)?)?|-?I(?:n(?:f(?:i(?:n(?:i(?:t(?:y)?)?)?)?)?)?)?)\s*",
    re.DOTALL,
)


def _tolerant_json(text: str):
    """Parses as much of a damaged JSON text as is intact: (value, stop position or None).

    Lists keep their complete items (a number is complete once a ',' or ']' follows it); an
    object keeps its complete entries and the intact part of a list or object it was reading.
    """
    n = len(text)
    ws = _JSON_WS.match
    scalar = _JSON_SCALAR.match

    def skip(pos):
        return ws(text, pos).end()

    def value_at(pos, depth):
        pos = skip(pos)
        if pos >= n or depth > MAX_JSON_DEPTH:
            raise _JsonStop(pos, _NOTHING)
        char = text[pos]
        if char == "{":
            return object_at(pos + 1, depth + 1)
        if char == "[":
            return array_at(pos + 1, depth + 1)
        match = scalar(text, pos)
        if match is None:
            raise _JsonStop(pos, _NOTHING)
        token = match.group()
        if token in _JSON_LITERALS:
            return _JSON_LITERALS[token], match.end(), True
        if token[0] == '"':
            try:
                return json.loads(token), match.end(), True
            except ValueError as error:
                raise _JsonStop(pos, _NOTHING) from error
        try:
            number = json.loads(token)
        except ValueError:  # Infinity, or an integer too long for int()
            number = float(token)
        return number, match.end(), True

    def array_at(pos, depth):
        items = []
        pos = skip(pos)
        if pos < n and text[pos] == "]":
            return items, pos + 1, False
        while True:
            start = pos
            try:
                item, pos, is_scalar = value_at(pos, depth)
            except _JsonStop as stop:
                raise _JsonStop(stop.pos, items) from None
            pos = skip(pos)
            if pos < n and text[pos] in ",]":
                items.append(item)
                if text[pos] == "]":
                    return items, pos + 1, False
                pos += 1
                continue
            if is_scalar:  # a number at the end may be cut short: 0.12 of 0.125
                raise _JsonStop(skip(start), items)
            items.append(item)  # a closed list or object is complete
            raise _JsonStop(pos, items)

    def object_at(pos, depth):
        obj = {}
        pos = skip(pos)
        if pos < n and text[pos] == "}":
            return obj, pos + 1, False
        while True:
            pos = skip(pos)
            match = _JSON_STRING.match(text, pos)
            if match is None:
                raise _JsonStop(pos, obj)
            try:
                key = json.loads(match.group())
            except ValueError:
                raise _JsonStop(pos, obj) from None
            pos = skip(match.end())
            if pos >= n or text[pos] != ":":
                raise _JsonStop(pos if pos >= n else match.start(), obj)
            try:
                item, pos, is_scalar = value_at(pos + 1, depth)
            except _JsonStop as stop:
                if isinstance(stop.partial, (list, dict)):
                    obj[key] = stop.partial
                raise _JsonStop(stop.pos, obj) from None
            end = pos
            pos = skip(pos)
            if pos < n and text[pos] in ",}":
                obj[key] = item
                if text[pos] == "}":
                    return obj, pos + 1, False
                pos += 1
                continue
            if not is_scalar:
                obj[key] = item
            raise _JsonStop(end if not is_scalar else pos, obj)

    try:
        value, pos, _ = value_at(0, 0)
    except _JsonStop as stop:
        return (None if stop.partial is _NOTHING else stop.partial), stop.pos
    except RecursionError:
        return None, 0
    pos = skip(pos)
    return value, (pos if pos < n else None)


def _parse_json(data: bytes, file: str) -> _FileRecords:
    """A Keras History as JSON: {"loss": [...]}, {"history": {...}} or [{"epoch": 0, ...}, ...]."""
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    text = data[bom:].decode("utf-8", errors="surrogateescape")
    problems: list[Problem] = []
    valid = True
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        valid = False
        obj, stop = _tolerant_json(text)
        if stop is not None:
            offset = bom + len(text[:stop].encode("utf-8", "surrogateescape"))
            if _CUT_TOKEN.fullmatch(text, stop):
                problems.append(
                    Problem(
                        "truncated",
                        file,
                        f"The JSON ends early at byte {offset}: it was cut short or is still "
                        "being written; the values before it were read.",
                        offset,
                    )
                )
            else:
                problems.append(
                    Problem(
                        "corrupt",
                        file,
                        f"The JSON is damaged at byte {offset} "
                        f"(unexpected {text[stop : stop + 12]!r}); the values before it were read.",
                        offset,
                    )
                )
    columns = _history_columns(obj, partial=not valid)
    rows = None if columns is not None else _history_rows(obj)
    if columns is None and rows is None:
        if not valid:
            raise _NotALog("it is not valid JSON and no history could be read from it")
        raise _NotALog(
            'it is not a training history (expected {"loss": [...], ...}, '
            '{"history": {...}} or [{"epoch": 0, "loss": ...}, ...])'
        )
    return _json_records(columns, rows, file, problems, complete=valid)
