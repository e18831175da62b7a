"""The large CSV members in slices: fixed row boundaries, one deflate segment each, so anyone can write a slice.

``summary.csv`` and ``decoys.csv`` are the members that grow with the rows (a row of the first, k + 1 rows of the
second per input row); every other member is a few kilobytes. Each is cut into slices: slice 0 is the header
line, slice ``s`` ≥ 1 holds the lines of input rows ``(s-1)·SLICE_ROWS + 1 … s·SLICE_ROWS`` (1-based). The boundaries
depend on row numbers only, never on how a job was chunked or how many workers ran it, so the bytes do not either.

Each slice is compressed on its own into a raw deflate segment ended by a full flush (``Z_FULL_FLUSH``: byte
aligned, no back-references across it), so segments written by different workers concatenate into one valid
deflate stream, closed by :data:`FINAL_BLOCK`. A slice carries its CRC-32, sizes and sha256; the zip's CRC is
combined from the slices' (``_crc``) and the manifest lists the slices' sha256 (``hetero_manifest.v2``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hetero_core.io import format_cell, format_exact
from hetero_core.layout import (
    DECOY_COLUMNS,
    DECOYS,
    EXACT_COLUMNS,
    EXTRA_COLUMN_PREFIX,
    SCORED_DECOY_COLUMNS,
    SUMMARY,
    SUMMARY_COLUMNS,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

__all__ = [
    "FINAL_BLOCK",
    "SLICED_MEMBERS",
    "SLICE_ROWS",
    "MemberTables",
    "RowFormatter",
    "SliceInfo",
    "deflate_whole",
    "encode_slice",
    "slice_of_row",
]

SLICE_ROWS = 1000
SLICED_MEMBERS: tuple[str, ...] = (SUMMARY, DECOYS)
ZIP_COMPRESSLEVEL = 9
CSV_LINE_TERMINATOR = "\n"


def _compressor() -> zlib._Compress:
    return zlib.compressobj(ZIP_COMPRESSLEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)


FINAL_BLOCK: bytes = _compressor().flush(zlib.Z_FINISH)  # an empty final block: closes a stream of segments


def slice_of_row(index: int) -> int:
    """The slice holding input row ``index`` (1-based, as ``InputRow.index``; slice 0 is the header)."""
    return (index - 1) // SLICE_ROWS + 1


def slice_rows(slice_number: int, total_rows: int) -> range:
    """The input rows (1-based) of a slice; the last slice of a file is shorter."""
    start = (slice_number - 1) * SLICE_ROWS + 1
    return range(start, min(start + SLICE_ROWS - 1, total_rows) + 1)


@dataclass(frozen=True, slots=True)
class SliceInfo:
    """One slice of a member: what the manifest lists (size, sha256) and what the zip needs (CRC, deflate size)."""

    size: int
    compressed_size: int
    crc: int
    sha256: str

    def to_manifest(self) -> dict[str, Any]:
        return {"size": self.size, "sha256": self.sha256}

    def to_dict(self) -> dict[str, Any]:
        return {"size": self.size, "compressed_size": self.compressed_size, "crc": self.crc, "sha256": self.sha256}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SliceInfo:
        return cls(int(data["size"]), int(data["compressed_size"]), int(data["crc"]), str(data["sha256"]))


def encode_slice(text: bytes) -> tuple[SliceInfo, bytes]:
    """A slice's facts and its deflate segment (level 9, ended by a full flush, never final)."""
    compressor = _compressor()
    segment = compressor.compress(text) + compressor.flush(zlib.Z_FULL_FLUSH)
    return SliceInfo(len(text), len(segment), zlib.crc32(text), hashlib.sha256(text).hexdigest()), segment


def deflate_whole(data: bytes) -> bytes:
    """A small member's complete deflate stream (level 9, one final block)."""
    compressor = _compressor()
    return compressor.compress(data) + compressor.flush(zlib.Z_FINISH)


class RowFormatter:
    """Formats rows of one CSV member: cells in header order, absent columns empty, unknown ones refused."""

    def __init__(self, member: str, columns: Sequence[str]) -> None:
        self.member = member
        self.columns = tuple(columns)
        self._known = frozenset(self.columns)
        # each column with its formatter, chosen once (a run formats ~150 cells per molecule)
        self._plan = tuple((c, format_exact if c in EXACT_COLUMNS else format_cell) for c in self.columns)

    def cells(self, row: Mapping[str, object]) -> list[str]:
        if not self._known.issuperset(row):
            unknown = [key for key in row if key not in self._known]
            raise ValueError(f"{self.member}: unknown column(s) {unknown!r}; the header is fixed by pack_layout")
        return [fmt(row[column]) if column in row else "" for column, fmt in self._plan]

    def text(self, rows: Iterable[Mapping[str, object]]) -> str:
        """The rows as CSV lines (minimal quoting, ``\\n`` line ends)."""
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator=CSV_LINE_TERMINATOR).writerows(map(self.cells, rows))
        return buffer.getvalue()

    def header(self) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator=CSV_LINE_TERMINATOR).writerow(self.columns)
        return buffer.getvalue().encode("utf-8")


class MemberTables:
    """The two sliced members' formatters for one input's columns: the same text wherever a row is formatted."""

    def __init__(self, extra_columns: Sequence[str] = (), *, scored: bool = True) -> None:
        if len(set(extra_columns)) != len(extra_columns):
            raise ValueError(f"extra_columns has duplicates: {list(extra_columns)!r}")
        summary_columns = (*SUMMARY_COLUMNS, *(EXTRA_COLUMN_PREFIX + column for column in extra_columns))
        self.summary = RowFormatter(SUMMARY, summary_columns)
        self.decoys = RowFormatter(DECOYS, SCORED_DECOY_COLUMNS if scored else DECOY_COLUMNS)

    def formatter(self, member: str) -> RowFormatter:
        return self.summary if member == SUMMARY else self.decoys

    def header_slices(self) -> dict[str, tuple[SliceInfo, bytes, bytes]]:
        """Slice 0 of each member: (facts, deflate segment, the header line)."""
        out: dict[str, tuple[SliceInfo, bytes, bytes]] = {}
        for member in SLICED_MEMBERS:
            text = self.formatter(member).header()
            info, segment = encode_slice(text)
            out[member] = (info, segment, text)
        return out
