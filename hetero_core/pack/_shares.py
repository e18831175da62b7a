"""A chunk's share of the pack, and the stitching of shares into whole members without reading their bytes.

A worker that processed input rows ``first_row … first_row + rows - 1`` (1-based) formats them and writes, per
sliced member, the slices it holds completely (compressed, plus their text for the loose CSV object) into one data
object,
and describes them in a :class:`ChunkShare` (JSON, with its partial metrics). A slice that straddles two chunks
(only when a job's chunk size is not a multiple of ``SLICE_ROWS``) travels as text in both shares and is
compressed by the stitcher, so the bytes are the same however the rows were chunked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import groupby
from typing import TYPE_CHECKING, Any

from hetero_core.layout import SUMMARY
from hetero_core.pack._crc import crc32_concat
from hetero_core.pack._slices import (
    FINAL_BLOCK,
    SLICE_ROWS,
    SLICED_MEMBERS,
    MemberTables,
    SliceInfo,
    encode_slice,
    slice_of_row,
    slice_rows,
)
from hetero_core.pack._zipstream import Piece, Span, ZipEntry

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from hetero_core.chunks import RowResult

__all__ = ["SHARE_SCHEMA", "ChunkShare", "MemberShare", "StitchedMember", "encode_share", "stitch_shares"]

SHARE_SCHEMA = "hetero_chunk_share.v1"


@dataclass(slots=True)
class MemberShare:
    """One member's part of a chunk: complete slices (in the data object) and partial slices' text."""

    complete: list[tuple[int, SliceInfo]] = field(default_factory=list)
    deflate: tuple[int, int] = (0, 0)  # offset, length of the complete slices' deflate segments in the data object
    text: tuple[int, int] = (0, 0)  # offset, length of their text
    partial: list[tuple[int, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "complete": [[number, info.to_dict()] for number, info in self.complete],
            "deflate": list(self.deflate),
            "text": list(self.text),
            "partial": [[number, text] for number, text in self.partial],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MemberShare:
        return cls(
            complete=[(int(number), SliceInfo.from_dict(info)) for number, info in data["complete"]],
            deflate=(int(data["deflate"][0]), int(data["deflate"][1])),
            text=(int(data["text"][0]), int(data["text"][1])),
            partial=[(int(number), str(text)) for number, text in data["partial"]],
        )


@dataclass(slots=True)
class ChunkShare:
    """What a chunk contributes: its rows, its slices per member and its partial metrics (``ResultCollector``)."""

    first_row: int
    rows: int
    members: dict[str, MemberShare]
    metrics: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SHARE_SCHEMA,
            "first_row": self.first_row,
            "rows": self.rows,
            "slice_rows": SLICE_ROWS,
            "members": {name: share.to_dict() for name, share in self.members.items()},
            "metrics": self.metrics,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChunkShare:
        if data.get("schema_version") != SHARE_SCHEMA or data.get("slice_rows") != SLICE_ROWS:
            raise ValueError(
                f"chunk share is {data.get('schema_version')!r} with slices of {data.get('slice_rows')!r} rows; "
                f"this engine stitches {SHARE_SCHEMA} with {SLICE_ROWS}"
            )
        members = {name: MemberShare.from_dict(share) for name, share in data["members"].items()}
        return cls(int(data["first_row"]), int(data["rows"]), members, dict(data["metrics"]))


def encode_share(
    results: Iterable[RowResult], *, first_row: int, total_rows: int, tables: MemberTables
) -> tuple[ChunkShare, bytes, list[RowResult]]:
    """Slice a chunk's results (consecutive rows from ``first_row``): the share, its data object, the results.

    The data object holds, per member in ``SLICED_MEMBERS`` order, the deflate segments of the complete slices
    then their text. The share's ``metrics`` is left empty for the caller (who folds the results it gets back).
    """
    kept: list[RowResult] = []
    members = {name: MemberShare() for name in SLICED_MEMBERS}
    segments: dict[str, list[bytes]] = {name: [] for name in SLICED_MEMBERS}
    texts: dict[str, list[bytes]] = {name: [] for name in SLICED_MEMBERS}
    expected = first_row
    for number, group in groupby(results, key=lambda result: slice_of_row(result.index)):
        rows = list(group)
        if [r.index for r in rows] != list(range(expected, expected + len(rows))):
            raise ValueError(f"chunk results are not consecutive rows from {expected}")
        expected += len(rows)
        kept.extend(rows)
        bounds = slice_rows(number, total_rows)
        complete = rows[0].index == bounds.start and rows[-1].index == bounds.stop - 1
        for name in SLICED_MEMBERS:
            formatter = tables.formatter(name)
            lines = [r.summary for r in rows] if name == SUMMARY else [d for r in rows for d in r.decoys]
            text = formatter.text(lines)
            if complete:
                info, segment = encode_slice(text.encode("utf-8"))
                members[name].complete.append((number, info))
                segments[name].append(segment)
                texts[name].append(text.encode("utf-8"))
            else:
                members[name].partial.append((number, text))
    data = bytearray()
    for name in SLICED_MEMBERS:
        deflate, joined = b"".join(segments[name]), b"".join(texts[name])
        members[name].deflate = (len(data), len(deflate))
        data += deflate
        members[name].text = (len(data), len(joined))
        data += joined
    return ChunkShare(first_row, len(kept), members, {}), bytes(data), kept


@dataclass(slots=True)
class StitchedMember:
    """A whole sliced member as pieces: its slices' facts, its deflate segments and its text, in order."""

    slices: list[SliceInfo] = field(default_factory=list)
    deflate: list[Piece] = field(default_factory=list)
    text: list[Piece] = field(default_factory=list)

    def add(self, info: SliceInfo, segment: Piece, text: Piece) -> None:
        self.slices.append(info)
        self.deflate.append(segment)
        self.text.append(text)

    @property
    def size(self) -> int:
        return sum(info.size for info in self.slices)

    def zip_entry(self, name: str) -> ZipEntry:
        crc = crc32_concat((info.crc, info.size) for info in self.slices)
        return ZipEntry(name, crc, self.size, (*self.deflate, FINAL_BLOCK))


def _piece(source: str | bytes, offset: int, length: int) -> Piece:
    return source[offset : offset + length] if isinstance(source, bytes) else Span(source, offset, length)


class _Stitcher:
    """Appends shares' slices to whole members; a slice split between shares waits here until it is whole."""

    def __init__(self, tables: MemberTables) -> None:
        self.members: dict[str, StitchedMember] = {}
        for name, (info, segment, header) in tables.header_slices().items():
            self.members[name] = StitchedMember()
            self.members[name].add(info, segment, header)
        self._pending: dict[str, tuple[int, list[str]]] = {}

    def partial(self, name: str, number: int, text: str) -> None:
        if name in self._pending and self._pending[name][0] != number:
            self.flush(name)
        self._pending.setdefault(name, (number, []))[1].append(text)

    def flush(self, name: str) -> None:
        if name in self._pending:
            _number, parts = self._pending.pop(name)
            text = "".join(parts).encode("utf-8")
            info, segment = encode_slice(text)
            self.members[name].add(info, segment, text)

    def complete(self, name: str, member: MemberShare, source: str | bytes) -> None:
        self.flush(name)
        segment_offset, text_offset = member.deflate[0], member.text[0]
        for _number, info in member.complete:
            text = _piece(source, text_offset, info.size)
            self.members[name].add(info, _piece(source, segment_offset, info.compressed_size), text)
            segment_offset += info.compressed_size
            text_offset += info.size


def stitch_shares(
    shares: Sequence[tuple[ChunkShare, str | bytes]], *, total_rows: int, tables: MemberTables
) -> dict[str, StitchedMember]:
    """Join shares given in row order into whole members; ``source`` is the data object's key or its bytes.

    A slice split between shares is compressed here from their texts. Raises ValueError when the shares do not
    cover rows 1 … ``total_rows`` exactly once, in order.
    """
    stitcher = _Stitcher(tables)
    expected_row = 1
    for share, source in shares:
        if share.first_row != expected_row:
            raise ValueError(f"chunk shares are not consecutive: expected row {expected_row}, got {share.first_row}")
        expected_row += share.rows
        for name in SLICED_MEMBERS:
            member = share.members[name]
            first_complete = member.complete[0][0] if member.complete else None
            for number, text in member.partial:
                if first_complete is not None and number > first_complete:
                    continue  # a tail: after the complete slices
                stitcher.partial(name, number, text)
            if member.complete:
                stitcher.complete(name, member, source)
                for number, text in member.partial:
                    if number > member.complete[-1][0]:
                        stitcher.partial(name, number, text)
    for name in SLICED_MEMBERS:
        stitcher.flush(name)
    if expected_row != total_rows + 1:
        raise ValueError(f"chunk shares cover {expected_row - 1} rows, the input has {total_rows}")
    slices = -(-total_rows // SLICE_ROWS) + 1
    for name, stitched in stitcher.members.items():
        if len(stitched.slices) != slices:
            raise ValueError(f"{name}: stitched {len(stitched.slices)} slices, expected {slices}")
    return stitcher.members
