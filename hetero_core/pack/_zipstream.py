"""The pack's zip as a list of pieces: header bytes made here, entry data that may live elsewhere.

A member's deflate stream is given as pieces (bytes, or a :class:`Span` of bytes held in a file or an S3 object),
so the CLI can stream them from its staging folder and the service can join them with S3 ``UploadPartCopy``
without reading them. Every header field is pinned (SPEC §6 and ``docs/pack-format.md``): sizes and CRC-32 are
known before the data, so there are no data descriptors; zip64 records appear only when a size or offset needs
them, by the same rules as Python's ``zipfile``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = ["Piece", "Span", "ZipEntry", "dos_date_time", "piece_length", "zip_pieces"]

ZIP64_LIMIT = (1 << 31) - 1  # zipfile's threshold: past it a field moves into the zip64 extra
_FILE_COUNT_LIMIT = (1 << 16) - 1
_VERSION = 20  # deflate
_VERSION_ZIP64 = 45
_CREATE_SYSTEM = 3  # Unix
_EXTERNAL_ATTR = 0o100644 << 16  # regular file, rw-r--r--
_DEFLATED = 8
_UTF8_FLAG = 0x800
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")
_END64 = struct.Struct("<4sQ2H2L4Q")
_LOCATOR64 = struct.Struct("<4sLQL")
_MAX32 = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class Span:
    """``length`` bytes at ``offset`` of ``source`` (a file path or an object key, as the caller's reader knows)."""

    source: str
    offset: int
    length: int


Piece = bytes | Span


def piece_length(piece: Piece) -> int:
    return piece.length if isinstance(piece, Span) else len(piece)


@dataclass(frozen=True, slots=True)
class ZipEntry:
    """One member: its raw deflate stream as pieces, with the sizes and CRC-32 of what it inflates to."""

    name: str
    crc: int
    size: int
    data: tuple[Piece, ...]

    @property
    def compressed_size(self) -> int:
        return sum(piece_length(piece) for piece in self.data)


def dos_date_time(date_time: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    """(date, time) in MS-DOS form, two-second resolution."""
    year, month, day, hour, minute, second = date_time
    return (year - 1980) << 9 | month << 5 | day, hour << 11 | minute << 5 | second // 2


def _encoded_name(name: str) -> tuple[bytes, int]:
    try:
        return name.encode("ascii"), 0
    except UnicodeEncodeError:
        return name.encode("utf-8"), _UTF8_FLAG


def zip_pieces(entries: Sequence[ZipEntry], date_time: tuple[int, int, int, int, int, int]) -> list[Piece]:
    """The whole archive, in order: each local header then its data, the central directory, the end records.

    Entries are written in the order given (the pack writer sorts them by name).
    """
    dos_date, dos_time = dos_date_time(date_time)
    pieces: list[Piece] = []
    central: list[bytes] = []
    offset = 0
    for entry in entries:
        name, flags = _encoded_name(entry.name)
        csize = entry.compressed_size
        # zipfile's rule for a deflated entry of known size: zip64 when it might pass the limit
        zip64 = entry.size * 1.05 > ZIP64_LIMIT
        version = _VERSION_ZIP64 if zip64 else _VERSION
        local_extra = struct.pack("<2H2Q", 1, 16, entry.size, csize) if zip64 else b""
        local_sizes = (_MAX32, _MAX32) if zip64 else (csize, entry.size)
        header = _LOCAL.pack(
            b"PK\x03\x04", version, 0, flags, _DEFLATED, dos_time, dos_date, entry.crc, *local_sizes,
            len(name), len(local_extra),
        )  # fmt: skip
        pieces.append(header + name + local_extra)
        pieces.extend(entry.data)
        central.append(_central_record(entry, name, flags, csize, offset, dos_date, dos_time))
        offset += len(header) + len(name) + len(local_extra) + csize
    directory = b"".join(central)
    pieces.append(directory + _end_records(len(entries), len(directory), offset))
    return pieces


def _central_record(
    entry: ZipEntry, name: bytes, flags: int, csize: int, offset: int, dos_date: int, dos_time: int
) -> bytes:
    extra_values: list[int] = []
    sizes = [entry.size, csize]
    if entry.size > ZIP64_LIMIT or csize > ZIP64_LIMIT:
        extra_values += sizes
        sizes = [_MAX32, _MAX32]
    header_offset = offset
    if offset > ZIP64_LIMIT:
        extra_values.append(offset)
        header_offset = _MAX32
    extra = struct.pack(f"<2H{len(extra_values)}Q", 1, 8 * len(extra_values), *extra_values) if extra_values else b""
    version = _VERSION_ZIP64 if extra_values or entry.size * 1.05 > ZIP64_LIMIT else _VERSION
    record = _CENTRAL.pack(
        b"PK\x01\x02", version, _CREATE_SYSTEM, version, 0, flags, _DEFLATED, dos_time, dos_date, entry.crc,
        sizes[1], sizes[0], len(name), len(extra), 0, 0, 0, _EXTERNAL_ATTR, header_offset,
    )  # fmt: skip
    return record + name + extra


def _end_records(count: int, directory_size: int, directory_offset: int) -> bytes:
    records = b""
    if count > _FILE_COUNT_LIMIT or directory_offset > ZIP64_LIMIT or directory_size > ZIP64_LIMIT:
        end64_offset = directory_offset + directory_size
        records += _END64.pack(
            b"PK\x06\x06", _END64.size - 12, _VERSION_ZIP64, _VERSION_ZIP64, 0, 0, count, count,
            directory_size, directory_offset,
        )  # fmt: skip
        records += _LOCATOR64.pack(b"PK\x06\x07", 0, end64_offset, 1)
        count, directory_size, directory_offset = (
            min(count, _FILE_COUNT_LIMIT), min(directory_size, _MAX32), min(directory_offset, _MAX32)
        )  # fmt: skip
    return records + _END.pack(b"PK\x05\x06", 0, 0, count, count, directory_size, directory_offset, 0)


def total_length(pieces: Iterable[Piece]) -> int:
    return sum(piece_length(piece) for piece in pieces)
