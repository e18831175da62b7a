"""Writes the evidence pack (SPEC §6): CSV members streamed to disk in slices, JSON members, checksums, signature, zip.

Everything is built in a hidden staging folder beside the output folder and moved into place only when
complete, so a crash never leaves a half-written pack where a reader (or ``verify``) would find it. Every byte
depends only on the rows, the mappings given and ``created_at``: no clock, umask, mtime or host name leaks in,
so the same run gives a byte-identical pack, zip included.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import secrets
import shutil
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from numbers import Integral, Real
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hetero_core.errors import PackOutputError, SigningError
from hetero_core.hashing import file_sha256
from hetero_core.layout import (
    CHECKSUMS,
    DECOYS,
    INDEX,
    MANIFEST,
    MANIFEST_SCHEMA,
    MANIFEST_SCHEMAS,
    METRICS,
    PUBLIC_KEY,
    REPORT,
    SIGNATURE,
    SUMMARY,
    ZIP,
)
from hetero_core.pack._shares import ChunkShare, StitchedMember
from hetero_core.pack._signing import SIGNATURE_ALGORITHM, verify_signature
from hetero_core.pack._slices import (
    SLICE_ROWS,
    SLICED_MEMBERS,
    ZIP_COMPRESSLEVEL,
    MemberTables,
    RowFormatter,
    SliceInfo,
    deflate_whole,
    encode_slice,
)
from hetero_core.pack._zipstream import Span, ZipEntry, zip_pieces

if TYPE_CHECKING:
    from types import TracebackType

    from hetero_core.pack._signing import Signer
    from hetero_core.pack._zipstream import Piece

__all__ = ["ZIP_COMPRESSLEVEL", "PackBuilder", "PackInfo", "seal_members", "small_zip_entry", "write_json"]

ZIP_MIN_TIME = datetime(1980, 1, 1, tzinfo=UTC)  # the DOS timestamp epoch
ZIP_MAX_TIME = datetime(2107, 12, 31, 23, 59, 58, tzinfo=UTC)
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class PackInfo:
    """Where the finished pack is and what it holds; ``files`` maps every member but the zip to its sha256."""

    path: Path
    zip_path: Path
    zip_sha256: str
    files: dict[str, str]
    signed: bool


def _json_safe(value: object) -> object:
    """Replace non-finite floats by None at any depth: ``allow_nan=False`` JSON has no NaN, and null is honest."""
    if isinstance(value, Mapping):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, Integral):
        return int(value)  # numpy integers are not JSON-serialisable as such
    if isinstance(value, Real):
        number = float(value)
        return number if math.isfinite(number) else None
    return value  # json.dumps names anything it cannot encode


def write_json(path: Path, obj: object) -> bytes:
    """Write a JSON member in the pack's one canonical style and return the exact bytes written."""
    data = json_bytes(obj)
    path.write_bytes(data)
    return data


def zip_date_time(created_at: datetime) -> tuple[int, int, int, int, int, int]:
    if created_at.tzinfo is None or created_at.utcoffset() is None:
        raise ValueError("created_at must be timezone-aware (e.g. datetime.now(UTC)); a naive time is ambiguous")
    moment = min(max(created_at.astimezone(UTC), ZIP_MIN_TIME), ZIP_MAX_TIME)
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def json_bytes(obj: object) -> bytes:
    """A JSON member in the pack's one canonical style."""
    return (json.dumps(_json_safe(obj), sort_keys=True, indent=2, allow_nan=False) + "\n").encode("utf-8")


def small_zip_entry(name: str, data: bytes) -> ZipEntry:
    """A small member's zip entry: compressed whole, in memory."""
    return ZipEntry(name, zlib.crc32(data), len(data), (deflate_whole(data),))


def _text_member(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")


def _manifest_entry(name: str, member: StitchedMember | bytes) -> dict[str, object]:
    if isinstance(member, bytes):
        return {"path": name, "size": len(member), "sha256": hashlib.sha256(member).hexdigest()}
    return {
        "path": name,
        "size": member.size,
        "slice_rows": SLICE_ROWS,
        "slices": [info.to_manifest() for info in member.slices],
    }


def seal_members(
    sliced: Mapping[str, StitchedMember],
    *,
    metrics: Mapping[str, object],
    manifest: Mapping[str, object],
    index_md: str,
    report_html: str,
    signer: Signer | None,
) -> dict[str, bytes]:
    """Every member but the sliced ones and the zip, as bytes: what both the CLI and the service finalize seal.

    The manifest lists the small members' sha256 and the sliced members' per-slice sha256
    (``hetero_manifest.v2``); ``checksums.sha256`` lists the small members (``sha256sum -c`` format).
    """
    reserved = {"files", "signature"} & set(manifest)
    if reserved:
        raise ValueError(f"manifest keys {sorted(reserved)!r} are written by the pack writer, not the caller")
    if set(sliced) != set(SLICED_MEMBERS):
        raise ValueError(f"sliced members must be {SLICED_MEMBERS}, got {sorted(sliced)}")
    small: dict[str, bytes] = {
        METRICS: json_bytes(metrics),
        INDEX: _text_member(index_md),
        REPORT: _text_member(report_html),
    }
    listed: dict[str, StitchedMember | bytes] = {**sliced, **small}
    full_manifest: dict[str, object] = {**manifest, "schema_version": MANIFEST_SCHEMA}
    full_manifest["files"] = [_manifest_entry(name, listed[name]) for name in sorted(listed)]
    if signer is not None:
        full_manifest["signature"] = {
            "algorithm": SIGNATURE_ALGORITHM,
            "key_id": signer.key_id,
            "public_key": PUBLIC_KEY,
        }
    manifest_bytes = json_bytes(full_manifest)
    small[MANIFEST] = manifest_bytes
    if signer is not None:
        signature = signer.sign(manifest_bytes)
        public_key = signer.public_key_pem()
        # A misconfigured signer (e.g. a KMS key that does not match its public key) must fail here,
        # not at the customer's verify.
        if not verify_signature(public_key, manifest_bytes, signature):
            raise SigningError(f"signer {signer.key_id}: its signature does not verify with its own public key")
        small[SIGNATURE] = signature
        small[PUBLIC_KEY] = public_key
    checksums = "".join(f"{hashlib.sha256(small[name]).hexdigest()}  {name}\n" for name in sorted(small))
    small[CHECKSUMS] = checksums.encode("utf-8")
    return small


def pack_zip_entries(sliced: Mapping[str, StitchedMember], small: Mapping[str, bytes]) -> list[ZipEntry]:
    """The zip's entries, sorted by name: the sliced members' segments as they are, the small ones compressed."""
    names = sorted({*sliced, *small})
    return [sliced[name].zip_entry(name) if name in sliced else small_zip_entry(name, small[name]) for name in names]


def _check_out_dir(out_dir: Path) -> None:
    """Only an empty folder or a previous pack may be replaced: never someone's other files."""
    if out_dir.is_symlink():
        raise PackOutputError(out_dir, "is a symbolic link; give a real folder for the evidence pack")
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise PackOutputError(out_dir, "exists and is not a folder")
    if _is_previous_pack(out_dir):
        return
    if any(out_dir.iterdir()):
        raise PackOutputError(
            out_dir,
            f"folder is not empty and is not an evidence pack (no {MANIFEST} with schema {MANIFEST_SCHEMA}); "
            "refusing to replace it",
        )


def _is_previous_pack(folder: Path) -> bool:
    """A folder we wrote: its manifest.json is ours (another tool's manifest.json does not count)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("schema_version") in MANIFEST_SCHEMAS


class _SlicedFile:
    """One sliced member being written: the CSV file, its deflate segments beside it, the slices so far.

    A sealed slice is compressed and written by the builder's one background thread (zlib and sha256 release the
    GIL), in the order the slices were sealed, so the thread that feeds rows never waits for level-9 deflate.
    """

    def __init__(self, formatter: RowFormatter, text_path: Path, deflate_path: Path, writer: _SliceWriter) -> None:
        self.formatter = formatter
        self._writer = writer
        self._text = text_path.open("wb")
        self._deflate = deflate_path.open("wb")
        self._deflate_path = str(deflate_path)
        self._digest = hashlib.sha256()
        self.member = StitchedMember()
        self._buffer = io.StringIO()
        self._rows = _csv_writer(self._buffer)
        self.slice_number: int | None = None  # the slice being filled from chunk shares (None: none open)
        self._write_slice(formatter.header())

    def add(self, row: Mapping[str, object]) -> None:
        self._rows.writerow(self.formatter.cells(row))

    def add_text(self, number: int, text: str) -> None:
        """Append a chunk's formatted lines of slice ``number``; a new number seals the slice before it."""
        if self.slice_number is not None and number != self.slice_number:
            self.close_slice()
        self.slice_number = number
        self._buffer.write(text)

    def add_complete(self, info: SliceInfo, segment: bytes, text: bytes) -> None:
        """Append a slice a chunk formatted and compressed whole."""
        if self.slice_number is not None:
            self.close_slice()
        self._writer.submit(self._store, text, (info, segment))

    @property
    def pending(self) -> bool:
        """Rows added since the last slice was sealed."""
        return self._buffer.tell() > 0

    def close_slice(self) -> None:
        """Seal the rows added since the last slice (possibly none: an empty slice is still a slice)."""
        text = self._buffer.getvalue().encode("utf-8")
        self._buffer.seek(0)
        self._buffer.truncate()
        self.slice_number = None
        self._write_slice(text)

    def _write_slice(self, text: bytes) -> None:
        self._writer.submit(self._store, text, None)

    def _store(self, text: bytes, encoded: tuple[SliceInfo, bytes] | None) -> None:
        info, segment = encoded or encode_slice(text)
        offset = self._deflate.tell()
        self._deflate.write(segment)
        self._text.write(text)
        self._digest.update(text)
        self.member.add(info, Span(self._deflate_path, offset, len(segment)), b"")

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def close(self) -> None:
        self._text.close()
        self._deflate.close()


class _SliceWriter:
    """Runs slice writes on one background thread, in submission order, with a bounded backlog (memory stays
    flat: at most ``_BACKLOG`` slices' text wait); the first failure is raised to the feeding thread."""

    _BACKLOG = 4

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pack-slices")
        self._pending: deque[Future[None]] = deque()

    def submit(
        self,
        store: Callable[[bytes, tuple[SliceInfo, bytes] | None], None],
        text: bytes,
        encoded: tuple[SliceInfo, bytes] | None,
    ) -> None:
        while len(self._pending) >= self._BACKLOG:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(store, text, encoded))

    def drain(self) -> None:
        """Wait for every write; raises the first one's error."""
        while self._pending:
            self._pending.popleft().result()

    def stop(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pending.clear()


def _csv_writer(buffer: io.StringIO) -> Any:
    import csv  # noqa: PLC0415 - only the builder streams rows itself

    return csv.writer(buffer, lineterminator="\n")


class PackBuilder:
    """Builds one evidence pack: stream rows in, then :meth:`finish` seals and moves it into ``out_dir``.

    Use it as a context manager: an exception inside the block (or leaving it without calling
    :meth:`finish`) removes the staging folder and leaves ``out_dir`` untouched. Row mappings are keyed by the
    CSV header names (extra input columns with their ``input_`` prefix); values are formatted by
    ``format_cell``, score columns (``EXACT_COLUMNS``) at full precision by ``format_exact``.

    Rows are cut into slices every ``SLICE_ROWS`` summary rows (``_slices``), exactly as the service's chunk
    workers cut them, so a CLI pack and a service pack of the same rows have the same members.
    """

    def __init__(self, out_dir: Path, *, extra_columns: Sequence[str] = (), scored: bool = False) -> None:
        out_dir = Path(os.path.abspath(out_dir))
        if not out_dir.name:
            raise PackOutputError(out_dir, "is not a usable folder name for an evidence pack")
        tables = MemberTables(extra_columns, scored=scored)
        _check_out_dir(out_dir)
        self.out_dir = out_dir
        self.summary_columns: tuple[str, ...] = tables.summary.columns
        self.decoy_columns: tuple[str, ...] = tables.decoys.columns
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        token = secrets.token_hex(8)
        self._staging = out_dir.parent / f".{out_dir.name}.staging-{token}"
        self._segments = out_dir.parent / f".{out_dir.name}.segments-{token}"
        self._staging.mkdir()
        self._segments.mkdir()
        self._open = True
        self._rows = 0
        self._by_share = False  # fed chunk shares (their slice numbers seal slices), not rows
        self._files: dict[str, _SlicedFile] = {}
        self._writer = _SliceWriter()
        try:
            for name in SLICED_MEMBERS:
                formatter = tables.formatter(name)
                path = self._segments / f"{name}.deflate"
                self._files[name] = _SlicedFile(formatter, self._staging / name, path, self._writer)
        except BaseException:
            self.abort()
            raise

    @property
    def staging_dir(self) -> Path:
        """The hidden folder being written; gone once the pack is finished or aborted."""
        return self._staging

    def _require_open(self) -> None:
        if not self._open:
            raise RuntimeError("this PackBuilder is already finished or aborted")

    def add_summary_row(self, row: Mapping[str, object]) -> None:
        """Append one summary.csv row (input order is the caller's); absent columns are left empty.

        Each summary row is one input row: its decoy rows follow through :meth:`add_decoy_rows`.
        """
        self._require_open()
        self._feed(by_share=False)
        if self._rows and self._rows % SLICE_ROWS == 0:
            for sliced in self._files.values():
                sliced.close_slice()
        self._files[SUMMARY].add(row)
        self._rows += 1

    def add_share(self, share: ChunkShare, data: bytes) -> None:
        """Append a chunk's share (:func:`encode_share`: its rows formatted, whole slices compressed) as it is.

        Shares come in row order; rows and shares are not mixed in one pack. The slices are the ones rows would
        make (their boundaries are row numbers), so the bytes are the same whichever way a pack is fed.
        """
        self._require_open()
        self._feed(by_share=True)
        if share.first_row != self._rows + 1:
            raise ValueError(f"chunk shares are not consecutive: expected row {self._rows + 1}, got {share.first_row}")
        for name in SLICED_MEMBERS:
            sliced, member = self._files[name], share.members[name]
            parts: list[tuple[int, str | SliceInfo]] = [*member.partial, *member.complete]
            segment_at, text_at = member.deflate[0], member.text[0]
            for number, part in sorted(parts, key=lambda item: item[0]):
                if isinstance(part, str):
                    sliced.add_text(number, part)
                    continue
                segment = data[segment_at : segment_at + part.compressed_size]
                sliced.add_complete(part, segment, data[text_at : text_at + part.size])
                segment_at += part.compressed_size
                text_at += part.size
        self._rows += share.rows

    def _feed(self, *, by_share: bool) -> None:
        if self._rows and by_share != self._by_share:
            raise ValueError("a pack is fed either rows or chunk shares, not both")
        self._by_share = by_share

    def add_decoy_rows(self, rows: Iterable[Mapping[str, object]]) -> None:
        """Append decoys.csv rows (of the input row last given to :meth:`add_summary_row`)."""
        self._require_open()
        decoys = self._files[DECOYS]
        for row in rows:
            decoys.add(row)

    def _close_handles(self) -> None:
        self._writer.stop()
        for sliced in self._files.values():
            sliced.close()

    def abort(self) -> None:
        """Discard everything written so far; safe to call more than once."""
        self._open = False
        self._close_handles()
        shutil.rmtree(self._staging, ignore_errors=True)
        shutil.rmtree(self._segments, ignore_errors=True)

    def __enter__(self) -> PackBuilder:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._open:
            self.abort()

    def finish(
        self,
        *,
        metrics: Mapping[str, object],
        manifest: Mapping[str, object],
        index_md: str,
        created_at: datetime,
        signer: Signer | None = None,
        report_html: str | None = None,
    ) -> PackInfo:
        """Write the remaining members, sign, checksum, zip, and move the pack into ``out_dir``.

        ``report_html`` is the page to ship as ``report.html``; when None it is rendered here from
        ``manifest`` and ``metrics`` (``report_html.render_report``), so every pack has one.
        """
        self._require_open()
        try:
            if report_html is None:
                from hetero_core.report import render_report  # noqa: PLC0415 - matplotlib only when needed

                report_html = render_report(manifest, metrics)
            members = self._sealed_members()
            small = seal_members(
                members, metrics=metrics, manifest=manifest, index_md=index_md, report_html=report_html, signer=signer
            )
            info = self._write_sealed(members, small, zip_date_time(created_at), signed=signer is not None)
        except BaseException:
            self.abort()
            raise
        self._open = False
        return info

    def _sealed_members(self) -> dict[str, StitchedMember]:
        """Seal the last slices, wait for every slice write, and close the sliced members."""
        for sliced in self._files.values():
            if sliced.slice_number is not None if self._by_share else (self._rows or sliced.pending):
                sliced.close_slice()
        self._writer.drain()
        self._close_handles()
        return {name: sliced.member for name, sliced in self._files.items()}

    def _write_sealed(
        self,
        members: dict[str, StitchedMember],
        small: dict[str, bytes],
        date_time: tuple[int, int, int, int, int, int],
        *,
        signed: bool,
    ) -> PackInfo:
        """Write the small members and the zip into the staging folder, then move the pack into place."""
        staging = self._staging
        for name, data in small.items():
            (staging / name).write_bytes(data)
        _write_pieces(staging / ZIP, zip_pieces(pack_zip_entries(members, small), date_time))
        shutil.rmtree(self._segments, ignore_errors=True)
        digests = {name: hashlib.sha256(data).hexdigest() for name, data in small.items()}
        digests.update({name: sliced.sha256 for name, sliced in self._files.items()})
        zip_sha256 = file_sha256(staging / ZIP)
        self._move_into_place()
        return PackInfo(
            path=self.out_dir,
            zip_path=self.out_dir / ZIP,
            zip_sha256=zip_sha256,
            files=dict(sorted(digests.items())),
            signed=signed,
        )

    def _move_into_place(self) -> None:
        """Swap the staging folder in; a previous pack is renamed away first and deleted only after."""
        out_dir = self.out_dir
        _check_out_dir(out_dir)  # the folder may have changed while rows were streaming
        retired: Path | None = None
        if out_dir.exists():
            retired = out_dir.parent / f".{out_dir.name}.old-{secrets.token_hex(8)}"
            out_dir.rename(retired)
        try:
            self._staging.rename(out_dir)
        except BaseException:
            if retired is not None:
                retired.rename(out_dir)
            raise
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)


def _write_pieces(path: Path, pieces: Iterable[Piece]) -> None:
    """Write bytes pieces as they are and copy span pieces from their (local) files."""
    with path.open("wb") as out:
        for piece in pieces:
            if isinstance(piece, bytes):
                out.write(piece)
                continue
            with open(piece.source, "rb") as source:
                source.seek(piece.offset)
                remaining = piece.length
                while remaining:
                    chunk = source.read(min(_CHUNK, remaining))
                    if not chunk:
                        raise OSError(f"{piece.source} ended before byte {piece.offset + piece.length}")
                    out.write(chunk)
                    remaining -= len(chunk)
