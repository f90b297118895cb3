"""The TFRecord framing of event files: length, masked CRC-32C of the length, data, masked CRC-32C
of the data; finding the next good record after damage."""

from __future__ import annotations

import struct

import numpy as np

from neurogenesis.io.logs.series import Problem, _plural

RESYNC_CHUNK_BYTES = 1 << 20


def _masked_crc(crc: int) -> int:
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _crc32c():
    import google_crc32c

    return google_crc32c.value


_HEADER = struct.Struct("<QI")
_U32 = struct.Struct("<I")


_SMALL_LENGTH_CRCS = None
SMALL_LENGTHS = 1 << 16


def _small_length_crcs(crc) -> np.ndarray:
    """The masked CRC of every length field below SMALL_LENGTHS (for a vectorised header check)."""
    global _SMALL_LENGTH_CRCS
    if _SMALL_LENGTH_CRCS is None:
        pack = struct.Struct("<Q").pack
        _SMALL_LENGTH_CRCS = np.array(
            [_masked_crc(crc(pack(length))) for length in range(SMALL_LENGTHS)], dtype=np.uint32
        )
    return _SMALL_LENGTH_CRCS


def _find_next_record(data: bytes, start: int, crc) -> int | None:
    """The first offset >= start where an intact record begins, or None.

    Candidates are filtered with numpy (a length field that fits in the rest of the file and, for
    small lengths, whose checksum matches: zero-filled tails are common after a crash), then the
    length CRC and the data CRC are checked; each byte of the file is scanned at most once.
    """
    n = len(data)
    small_crcs = _small_length_crcs(crc)
    octets = np.frombuffer(data, dtype=np.uint8)
    unpack_header = _HEADER.unpack_from
    unpack_u32 = _U32.unpack_from
    begin = start
    chunk = 4096  # grows: the next record is usually close, but random bytes may run to the end
    while begin + 16 <= n:
        stop = min(n - 16, begin + chunk - 1)  # last candidate position, inclusive
        chunk = min(chunk * 4, RESYNC_CHUNK_BYTES)
        count = stop - begin + 1
        lengths = np.empty(count, dtype=np.uint64)
        for shift in range(8):
            num = (count - shift + 7) // 8
            if num <= 0:
                continue
            num = min(num, (n - begin - shift) // 8)
            lengths[shift::8][:num] = np.frombuffer(data, "<u8", num, begin + shift)
        positions = np.arange(begin, stop + 1, dtype=np.int64)
        room = (n - 16) - positions  # the largest length that fits after each position
        candidates = np.flatnonzero(lengths <= room.astype(np.uint64))
        if candidates.size:
            at = candidates + begin + 8
            stored = (
                octets[at].astype(np.uint32)
                | (octets[at + 1].astype(np.uint32) << 8)
                | (octets[at + 2].astype(np.uint32) << 16)
                | (octets[at + 3].astype(np.uint32) << 24)
            )
            length = lengths[candidates]
            small = length < SMALL_LENGTHS
            expected = small_crcs[np.where(small, length, 0).astype(np.int64)]
            candidates = candidates[~small | (stored == expected)]
        for pos in candidates + begin:
            pos = int(pos)
            length, length_crc = unpack_header(data, pos)
            if _masked_crc(crc(data[pos : pos + 8])) != length_crc:
                continue
            end = pos + 12 + length
            if _masked_crc(crc(data[pos + 12 : end])) == unpack_u32(data, end)[0]:
                return pos
        begin = stop + 1
    return None


def _resync(data: bytes, pos: int, crc, file: str, problems: list[Problem], why: str) -> int:
    """Reports the damaged record at pos and returns the offset of the next intact record."""
    found = _find_next_record(data, pos + 1, crc)
    n = len(data)
    if found is None:
        message = (
            f"The record at byte {pos} is damaged ({why}) and no intact record follows, "
            f"so the last {_plural(n - pos, 'byte')} were skipped."
        )
        found = n
    else:
        message = (
            f"The record at byte {pos} is damaged ({why}); {_plural(found - pos, 'byte')} were "
            f"skipped to the next intact record at byte {found}."
        )
    problems.append(Problem("corrupt", file, message, pos))
    return found
