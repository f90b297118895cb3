"""TensorBoard event files: ``Event`` protos decoded with TensorBoard's generated protobuf modules
(protobuf only, no TensorFlow), scalars and histograms in every dtype TensorBoard writes."""

from __future__ import annotations

import math
import re
import struct
from pathlib import Path

import numpy as np

from neurogenesis.io.logs.records import _HEADER, _U32, _crc32c, _resync
from neurogenesis.io.logs.series import (
    EVENT_FILE_MARKER,
    Problem,
    _FileRecords,
    _plural,
    _records,
    _TagTable,
    _ValueProblems,
)

MAX_HISTOGRAM_BUCKETS = 1 << 20  # a shape claiming more is damage, not a histogram


# --------------------------------------------------------------------------------------------
# TensorBoard event files
# --------------------------------------------------------------------------------------------

_PROTO = None


def _protos():
    """TensorBoard's generated protobuf modules (protobuf only: no TensorFlow import)."""
    global _PROTO
    if _PROTO is None:
        from tensorboard.compat.proto import event_pb2, types_pb2

        _PROTO = (event_pb2, types_pb2)
    return _PROTO


_U16 = struct.Struct("<H")
_F16 = struct.Struct("<e")
_F32 = struct.Struct("<f")


def _bfloat16(raw: bytes) -> tuple[float]:
    return _F32.unpack(b"\x00\x00" + raw)


def _half_bits(bits: int) -> float:
    return _F16.unpack(_U16.pack(bits & 0xFFFF))[0]


def _bfloat16_bits(bits: int) -> float:
    return _F32.unpack(_U32.pack((bits & 0xFFFF) << 16))[0]


_DTYPE_TABLES = None


def _dtype_tables():
    """Per TensorFlow dtype: (itemsize, unpack) for tensor_content, and the typed field to read."""
    global _DTYPE_TABLES
    if _DTYPE_TABLES is None:
        types = _protos()[1]
        content = {
            types.DT_FLOAT: (4, _F32.unpack),
            types.DT_DOUBLE: (8, struct.Struct("<d").unpack),
            types.DT_HALF: (2, _F16.unpack),
            types.DT_BFLOAT16: (2, _bfloat16),
            types.DT_INT32: (4, struct.Struct("<i").unpack),
            types.DT_INT64: (8, struct.Struct("<q").unpack),
            types.DT_INT16: (2, struct.Struct("<h").unpack),
            types.DT_INT8: (1, struct.Struct("<b").unpack),
            types.DT_UINT8: (1, struct.Struct("<B").unpack),
            types.DT_UINT16: (2, struct.Struct("<H").unpack),
            types.DT_UINT32: (4, struct.Struct("<I").unpack),
            types.DT_UINT64: (8, struct.Struct("<Q").unpack),
        }
        typed = {
            types.DT_FLOAT: ("float_val", float),
            types.DT_DOUBLE: ("double_val", float),
            types.DT_HALF: ("half_val", _half_bits),
            types.DT_BFLOAT16: ("half_val", _bfloat16_bits),
            types.DT_INT32: ("int_val", float),
            types.DT_INT16: ("int_val", float),
            types.DT_INT8: ("int_val", float),
            types.DT_UINT8: ("int_val", float),
            types.DT_UINT16: ("int_val", float),
            types.DT_INT64: ("int64_val", float),
            types.DT_UINT32: ("uint32_val", float),
            types.DT_UINT64: ("uint64_val", float),
        }
        numpy_dtypes = {
            types.DT_FLOAT: np.dtype("<f4"),
            types.DT_DOUBLE: np.dtype("<f8"),
            types.DT_HALF: np.dtype("<f2"),
            types.DT_INT32: np.dtype("<i4"),
            types.DT_INT64: np.dtype("<i8"),
        }
        _DTYPE_TABLES = (content, typed, numpy_dtypes, types.DT_BFLOAT16)
    return _DTYPE_TABLES


def _typed_scalar(tensor, typed) -> float | None:
    entry = typed.get(tensor.dtype)
    if entry is None:
        return None
    values = getattr(tensor, entry[0])
    if len(values) != 1:
        return None
    return entry[1](values[0])


def _histogram_tensor(tensor) -> np.ndarray | None:
    """A TF2 histogram tensor (k, 3) as float64, or None when it has another shape or dtype."""
    content_table, typed, numpy_dtypes, bfloat16 = _dtype_tables()
    dims = [d.size for d in tensor.tensor_shape.dim]
    if dims in ([0], [0, 3], [0, 2]):
        return np.zeros((0, 3))
    if len(dims) != 2 or dims[1] != 3 or not 0 <= dims[0] <= MAX_HISTOGRAM_BUCKETS:
        return None
    count = dims[0] * 3
    content = tensor.tensor_content
    if content:
        if tensor.dtype == bfloat16:
            raw = np.frombuffer(content, dtype="<u2")
            array = (raw.astype(np.uint32) << 16).view(np.float32)
        else:
            dtype = numpy_dtypes.get(tensor.dtype)
            if dtype is None or len(content) != count * dtype.itemsize:
                return None
            array = np.frombuffer(content, dtype=dtype)
        if array.size != count:
            return None
    else:
        entry = typed.get(tensor.dtype)
        if entry is None:
            return None
        values = list(getattr(tensor, entry[0]))
        if not values or len(values) > count:
            return None
        if len(values) < count:  # protobuf tensors may repeat their last value to fill the shape
            values.extend([values[-1]] * (count - len(values)))
        convert = entry[1]
        array = np.array([convert(v) for v in values], dtype=np.float64)
    return array.astype(np.float64).reshape(dims[0], 3)


def _histogram_proto(histo) -> np.ndarray | None:
    """A TF1 HistogramProto as (k, 3) buckets, the way TensorBoard's data_compat migrates it."""
    limits = list(histo.bucket_limit)
    counts = list(histo.bucket)
    if len(limits) != len(counts):
        return None
    if not limits:
        return np.zeros((0, 3))
    lefts = [histo.min, *limits[:-1]]
    rights = [*limits[:-1], histo.max]
    return np.array([lefts, rights, counts], dtype=np.float64).T


def _describe_event_problem(kind, tag, count, offset, detail) -> str:
    if tag is None:
        return (
            f"{_plural(count, 'record')} at byte {offset} and after could not be decoded as "
            f"TensorBoard events ({detail}); they were left out."
        )
    return (
        f"{_plural(count, 'value')} of tag '{tag}' could not be decoded (first at byte {offset}: "
        f"{detail}); they were left out."
    )


def _parse_events(data: bytes, file: str) -> _FileRecords:
    """Every scalar and histogram in an event file, with the damage found on the way."""
    event_pb2, _ = _protos()
    content_table, typed, _, _ = _dtype_tables()
    parse = event_pb2.Event.FromString
    crc = _crc32c()
    unpack_header = _HEADER.unpack_from
    unpack_u32 = _U32.unpack_from
    n = len(data)

    tags = _TagTable()
    tag_codes = tags.codes
    tag_code = tags.code
    plugins: dict[str, str] = {}
    codes: list[int] = []
    steps: list[int] = []
    walls: list[float] = []
    values: list[float] = []
    add_code, add_step, add_wall, add_value = (
        codes.append,
        steps.append,
        walls.append,
        values.append,
    )
    hist_codes: list[int] = []
    hist_steps: list[int] = []
    hist_walls: list[float] = []
    hist_buckets: list[np.ndarray] = []
    problems: list[Problem] = []
    bad_values = _ValueProblems(file)

    pos = 0
    while pos < n:
        if n - pos < 12:
            problems.append(_truncated_event_problem(file, pos, n))
            break
        length, length_crc = unpack_header(data, pos)
        c = crc(data[pos : pos + 8])
        if (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF != length_crc:
            pos = _resync(data, pos, crc, file, problems, "its length field fails its checksum")
            continue
        end = pos + 12 + length
        if end + 4 > n:
            problems.append(_truncated_event_problem(file, pos, n))
            break
        payload = data[pos + 12 : end]
        c = crc(payload)
        if (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF != unpack_u32(data, end)[0]:
            pos = _resync(data, pos, crc, file, problems, "its data fails its checksum")
            continue
        record_pos = pos
        pos = end + 4
        try:
            event = parse(payload)
        except Exception as error:  # protobuf DecodeError and friends
            bad_values.add("unparseable_value", None, record_pos, type(error).__name__)
            continue
        summary_values = event.summary.value
        if not summary_values:
            continue
        step = event.step
        wall = event.wall_time
        for value in summary_values:
            kind = value.WhichOneof("value")
            if kind == "tensor":
                tag = value.tag
                plugin = plugins.get(tag)
                if plugin is None:
                    # Writers often attach the metadata to a tag's first event only.
                    plugin = value.metadata.plugin_data.plugin_name
                    if plugin:
                        plugins[tag] = plugin
                tensor = value.tensor
                if plugin == "scalars" or not plugin:
                    content = tensor.tensor_content
                    number = None
                    if content:
                        entry = content_table.get(tensor.dtype)
                        if entry is not None and len(content) == entry[0]:
                            number = entry[1](content)[0]
                    elif plugin or not tensor.tensor_shape.dim:
                        number = _typed_scalar(tensor, typed)
                    if number is None:
                        if plugin:
                            bad_values.add(
                                "unparseable_value",
                                tag,
                                record_pos,
                                f"expected one number, got a {_tensor_description(tensor)}",
                            )
                        # A non-numeric tensor without a plugin (the Keras model config) is not ours.
                        continue
                    if not plugin and tensor.tensor_shape.dim:
                        continue  # an unnamed plugin's non-scalar tensor
                    code = tag_codes.get(tag)
                    if code is None:
                        code = tag_code(tag)
                    add_code(code)
                    add_step(step)
                    add_wall(wall)
                    add_value(number)
                elif plugin == "histograms":
                    buckets = _histogram_tensor(tensor)
                    if buckets is None:
                        bad_values.add(
                            "unparseable_value",
                            tag,
                            record_pos,
                            f"expected a (k, 3) histogram, got a {_tensor_description(tensor)}",
                        )
                        continue
                    hist_codes.append(tag_code(tag))
                    hist_steps.append(step)
                    hist_walls.append(wall)
                    hist_buckets.append(buckets)
            elif kind == "simple_value":
                tag = value.tag
                code = tag_codes.get(tag)
                if code is None:
                    code = tag_code(tag)
                add_code(code)
                add_step(step)
                add_wall(wall)
                add_value(value.simple_value)
            elif kind == "histo":
                tag = value.tag
                buckets = _histogram_proto(value.histo)
                if buckets is None:
                    bad_values.add(
                        "unparseable_value",
                        tag,
                        record_pos,
                        "bucket limits and counts differ in length",
                    )
                    continue
                hist_codes.append(tag_code(tag))
                hist_steps.append(step)
                hist_walls.append(wall)
                hist_buckets.append(buckets)
    problems.extend(bad_values.problems(_describe_event_problem))
    problems.sort(key=lambda p: -1 if p.offset is None else p.offset)
    return _records(
        tags,
        codes,
        steps,
        walls,
        values,
        hist_codes=hist_codes,
        hist_steps=hist_steps,
        hist_wall_times=hist_walls,
        hist_buckets=hist_buckets,
        problems=problems,
    )


def _tensor_description(tensor) -> str:
    _, types = _protos()
    try:
        dtype = types.DataType.Name(tensor.dtype)
    except ValueError:
        dtype = f"dtype {tensor.dtype}"
    shape = tuple(d.size for d in tensor.tensor_shape.dim)
    return f"{dtype} tensor of shape {shape}"


def _truncated_event_problem(file: str, pos: int, n: int) -> Problem:
    return Problem(
        "truncated",
        file,
        f"The file ends in the middle of a record at byte {pos} ({_plural(n - pos, 'byte')} of "
        "it are there): it was cut short or is still being written; everything before was read.",
        pos,
    )


def _event_file_sort_key(path: Path) -> tuple:
    """events.out.tfevents.<timestamp>.<host>...: by timestamp, then by name."""
    name = path.name
    _, _, rest = name.partition(EVENT_FILE_MARKER)
    match = re.match(r"\.(\d+)", rest)
    timestamp = int(match.group(1)) if match else math.inf
    return (timestamp, name)
