"""Writes the evidence pack (SPEC §6): CSV members streamed to disk, JSON members, checksums, signature, zip.

Everything is built in a hidden staging folder beside the output folder and moved into place only when
complete, so a crash never leaves a half-written pack where a reader (or ``verify``) would find it. Every byte
depends only on the rows, the mappings given and ``created_at``: no clock, umask, mtime or host name leaks in,
so the same run gives a byte-identical pack, zip included.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import secrets
import shutil
import sys
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from numbers import Integral, Real
from pathlib import Path
from typing import IO, TYPE_CHECKING

from hetero_core.errors import PackOutputError, SigningError
from hetero_core.hashing import file_sha256
from hetero_core.io import format_cell, format_exact
from hetero_core.layout import (
    CHECKSUMS,
    DECOY_COLUMNS,
    DECOYS,
    EXACT_COLUMNS,
    EXTRA_COLUMN_PREFIX,
    INDEX,
    MANIFEST,
    MANIFEST_SCHEMA,
    METRICS,
    PUBLIC_KEY,
    REPORT,
    SCORED_DECOY_COLUMNS,
    SIGNATURE,
    SUMMARY,
    SUMMARY_COLUMNS,
    ZIP,
)
from hetero_core.pack._signing import SIGNATURE_ALGORITHM, verify_signature

if TYPE_CHECKING:
    import _csv
    from types import TracebackType

    from hetero_core.pack._signing import Signer

__all__ = ["ZIP_COMPRESSLEVEL", "PackBuilder", "PackInfo", "write_json"]

ZIP_COMPRESSLEVEL = 9
ZIP_FILE_MODE = 0o100644  # regular file, rw-r--r--
ZIP_CREATE_SYSTEM = 3  # Unix, whatever the host, so external_attr means the same everywhere
ZIP_MIN_TIME = datetime(1980, 1, 1, tzinfo=UTC)  # the DOS timestamp epoch
ZIP_MAX_TIME = datetime(2107, 12, 31, 23, 59, 58, tzinfo=UTC)
CSV_LINE_TERMINATOR = "\n"
_CHUNK = 1 << 20
# ZipInfo's compression level attribute became public (and renamed) in Python 3.13.
_ZIPINFO_LEVEL_ATTR = "compress_level" if sys.version_info >= (3, 13) else "_compresslevel"


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
    text = json.dumps(_json_safe(obj), sort_keys=True, indent=2, allow_nan=False) + "\n"
    data = text.encode("utf-8")
    path.write_bytes(data)
    return data


def _zip_date_time(created_at: datetime) -> tuple[int, int, int, int, int, int]:
    if created_at.tzinfo is None or created_at.utcoffset() is None:
        raise ValueError("created_at must be timezone-aware (e.g. datetime.now(UTC)); a naive time is ambiguous")
    moment = min(max(created_at.astimezone(UTC), ZIP_MIN_TIME), ZIP_MAX_TIME)
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def _write_zip(folder: Path, names: Sequence[str], date_time: tuple[int, int, int, int, int, int]) -> Path:
    """Zip the members with every header field pinned, so equal member bytes give an equal zip."""
    zip_path = folder / ZIP
    with zipfile.ZipFile(zip_path, "w", allowZip64=True) as archive:
        for name in sorted(names):
            source = folder / name
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            setattr(info, _ZIPINFO_LEVEL_ATTR, ZIP_COMPRESSLEVEL)
            info.create_system = ZIP_CREATE_SYSTEM
            info.external_attr = ZIP_FILE_MODE << 16
            # Known up front so the zip64 decision depends on the size alone, and the member is streamed.
            info.file_size = source.stat().st_size
            with source.open("rb") as src, archive.open(info, "w") as dest:
                shutil.copyfileobj(src, dest, _CHUNK)
    return zip_path


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
    return isinstance(manifest, dict) and manifest.get("schema_version") == MANIFEST_SCHEMA


class PackBuilder:
    """Builds one evidence pack: stream rows in, then :meth:`finish` seals and moves it into ``out_dir``.

    Use it as a context manager: an exception inside the block (or leaving it without calling
    :meth:`finish`) removes the staging folder and leaves ``out_dir`` untouched. Row mappings are keyed by the
    CSV header names (extra input columns with their ``input_`` prefix); values are formatted by
    :func:`format_cell`, score columns (``EXACT_COLUMNS``) at full precision by :func:`format_exact`.
    """

    def __init__(self, out_dir: Path, *, extra_columns: Sequence[str] = (), scored: bool = False) -> None:
        out_dir = Path(os.path.abspath(out_dir))
        if not out_dir.name:
            raise PackOutputError(out_dir, "is not a usable folder name for an evidence pack")
        if len(set(extra_columns)) != len(extra_columns):
            raise ValueError(f"extra_columns has duplicates: {list(extra_columns)!r}")
        _check_out_dir(out_dir)
        self.out_dir = out_dir
        self.summary_columns: tuple[str, ...] = (
            *SUMMARY_COLUMNS,
            *(EXTRA_COLUMN_PREFIX + column for column in extra_columns),
        )
        self.decoy_columns: tuple[str, ...] = SCORED_DECOY_COLUMNS if scored else DECOY_COLUMNS
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        self._staging = out_dir.parent / f".{out_dir.name}.staging-{secrets.token_hex(8)}"
        self._staging.mkdir()
        self._open = True
        self._handles: list[IO[str]] = []
        self._summary_known = frozenset(self.summary_columns)
        self._decoy_known = frozenset(self.decoy_columns)
        try:
            self._summary = self._csv_writer(SUMMARY, self.summary_columns)
            self._decoys = self._csv_writer(DECOYS, self.decoy_columns)
        except BaseException:
            self.abort()
            raise

    @property
    def staging_dir(self) -> Path:
        """The hidden folder being written; gone once the pack is finished or aborted."""
        return self._staging

    def _csv_writer(self, name: str, header: Sequence[str]) -> _csv.Writer:
        handle = (self._staging / name).open("w", encoding="utf-8", newline="")
        self._handles.append(handle)
        writer = csv.writer(handle, lineterminator=CSV_LINE_TERMINATOR)
        writer.writerow(header)
        return writer

    def _require_open(self) -> None:
        if not self._open:
            raise RuntimeError("this PackBuilder is already finished or aborted")

    @staticmethod
    def _format_row(row: Mapping[str, object], columns: Sequence[str], known: frozenset[str], member: str) -> list[str]:
        """The row's cells in header order; absent columns empty, unknown ones refused."""
        if not known.issuperset(row):
            unknown = [key for key in row if key not in known]
            raise ValueError(f"{member}: unknown column(s) {unknown!r}; the header is fixed by pack_layout")
        return [
            (format_exact if column in EXACT_COLUMNS else format_cell)(row[column]) if column in row else ""
            for column in columns
        ]

    def add_summary_row(self, row: Mapping[str, object]) -> None:
        """Append one summary.csv row (input order is the caller's); absent columns are left empty."""
        self._require_open()
        self._summary.writerow(self._format_row(row, self.summary_columns, self._summary_known, SUMMARY))

    def add_decoy_rows(self, rows: Iterable[Mapping[str, object]]) -> None:
        """Append decoys.csv rows."""
        self._require_open()
        columns, known, write = self.decoy_columns, self._decoy_known, self._decoys.writerow
        for row in rows:
            write(self._format_row(row, columns, known, DECOYS))

    def _close_handles(self) -> None:
        for handle in self._handles:
            handle.close()
        self._handles.clear()

    def abort(self) -> None:
        """Discard everything written so far; safe to call more than once."""
        self._open = False
        self._close_handles()
        shutil.rmtree(self._staging, ignore_errors=True)

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
            reserved = {"files", "signature"} & set(manifest)
            if reserved:
                raise ValueError(f"manifest keys {sorted(reserved)!r} are written by the pack writer, not the caller")
            if report_html is None:
                from hetero_core.report import render_report  # noqa: PLC0415 - matplotlib only when needed

                report_html = render_report(manifest, metrics)
            info = self._seal(metrics, manifest, index_md, report_html, _zip_date_time(created_at), signer)
        except BaseException:
            self.abort()
            raise
        self._open = False
        return info

    def _seal(
        self,
        metrics: Mapping[str, object],
        manifest: Mapping[str, object],
        index_md: str,
        report_html: str,
        date_time: tuple[int, int, int, int, int, int],
        signer: Signer | None,
    ) -> PackInfo:
        self._close_handles()
        staging = self._staging
        write_json(staging / METRICS, metrics)
        for name, text in ((INDEX, index_md), (REPORT, report_html)):
            (staging / name).write_bytes(text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8"))

        listed = sorted((SUMMARY, DECOYS, METRICS, INDEX, REPORT))
        digests = {name: file_sha256(staging / name) for name in listed}
        full_manifest: dict[str, object] = dict(manifest)
        full_manifest["files"] = [
            {"path": name, "size": (staging / name).stat().st_size, "sha256": digests[name]} for name in listed
        ]
        if signer is not None:
            full_manifest["signature"] = {
                "algorithm": SIGNATURE_ALGORITHM,
                "key_id": signer.key_id,
                "public_key": PUBLIC_KEY,
            }
        manifest_bytes = write_json(staging / MANIFEST, full_manifest)
        digests[MANIFEST] = hashlib.sha256(manifest_bytes).hexdigest()

        if signer is not None:
            signature = signer.sign(manifest_bytes)
            public_key = signer.public_key_pem()
            # A misconfigured signer (e.g. a KMS key that does not match its public key) must fail here,
            # not at the customer's verify.
            if not verify_signature(public_key, manifest_bytes, signature):
                raise SigningError(f"signer {signer.key_id}: its signature does not verify with its own public key")
            (staging / SIGNATURE).write_bytes(signature)
            (staging / PUBLIC_KEY).write_bytes(public_key)
            digests[SIGNATURE] = hashlib.sha256(signature).hexdigest()
            digests[PUBLIC_KEY] = hashlib.sha256(public_key).hexdigest()

        checksums = "".join(f"{digests[name]}  {name}\n" for name in sorted(digests))
        (staging / CHECKSUMS).write_bytes(checksums.encode("utf-8"))
        digests[CHECKSUMS] = hashlib.sha256(checksums.encode("utf-8")).hexdigest()

        zip_path = _write_zip(staging, sorted(digests), date_time)
        zip_sha256 = file_sha256(zip_path)
        self._move_into_place()
        return PackInfo(
            path=self.out_dir,
            zip_path=self.out_dir / ZIP,
            zip_sha256=zip_sha256,
            files=dict(sorted(digests.items())),
            signed=signer is not None,
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
