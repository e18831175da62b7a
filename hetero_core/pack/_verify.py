"""Verifies an evidence pack (SPEC §6): zip integrity, checksums, the manifest's file list, required members, signature.

Checks run in a fixed order and stop at the first failure, which :class:`PackVerificationError` names, so a
customer is told *which* file is wrong rather than just "invalid". Nothing is extracted to disk and no path
read from the pack is ever opened: members are looked up among the files actually found inside the pack.

A zip is checked entry by entry (each deflate stream must end exactly where the entry ends and match its
CRC-32) and record by record (local headers, central directory and end record must be the writer's canonical
ones). A byte change that re-encodes an entry to the very same content cannot be seen without recompressing,
which would tie verification to one zlib build; it changes no member, only the zip's own sha256.

When a line of ``checksums.sha256`` disagrees with a file, an independent record of that file (its
``manifest.json`` entry, or its copy in ``evidence_pack.zip`` beside a folder) decides which of the two was
damaged, so a flipped byte in the checksums file is reported as such and not as a damaged member.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import zipfile
import zlib
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from hetero_core.errors import PackVerificationError, SigningError
from hetero_core.hashing import file_sha256
from hetero_core.layout import (
    CHECKSUMS,
    DECOYS,
    INDEX,
    MANIFEST,
    MANIFEST_SCHEMAS,
    METRICS,
    OPTIONAL_MEMBERS,
    PUBLIC_KEY,
    REPORT,
    REQUIRED_MEMBERS,
    SIGNATURE,
    SUMMARY,
    ZIP,
)
from hetero_core.pack._signing import SIGNATURE_ALGORITHM, public_key_id, verify_signature

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["CHECKED_WITH_EMBEDDED_KEY", "CHECKED_WITH_PUBLIC_KEY", "UNSIGNED", "VerifyReport", "verify_pack"]

MANIFEST_V1 = MANIFEST_SCHEMAS[0]
CHECKED_WITH_PUBLIC_KEY = "public-key"
CHECKED_WITH_EMBEDDED_KEY = "embedded-key"
UNSIGNED = "unsigned"

# Members the manifest's "files" list must cover (the others are written after, or describe, the manifest).
MANIFEST_COVERED: tuple[str, ...] = (SUMMARY, DECOYS, METRICS, INDEX, REPORT)
# checksums.sha256, manifest.json and the signature pair are read whole; anything bigger is not ours.
MAX_METADATA_BYTES = 16 * 1024 * 1024

_CHECKSUM_LINE = re.compile(r"([0-9a-f]{64})  (.+)")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20
_ZIP_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError, NotImplementedError)

# Zip record layouts (APPNOTE 4.3.7, 4.3.12, 4.3.16); zipfile reads some fields and silently ignores others.
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_CENTRAL_RECORD = struct.Struct("<4s4B4HL2L5H2L")
_END_RECORD = struct.Struct("<4s4H2LH")
_LOCAL_MAGIC, _CENTRAL_MAGIC, _END_MAGIC = b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06"
_ENCRYPTED_FLAG = 0x01
_DATA_DESCRIPTOR_FLAG = 0x08
_UTF8_FLAG = 0x800
_CANONICAL_CREATE_SYSTEM = 3  # what the pack writer pins: Unix, regular file rw-r--r--
_CANONICAL_EXTERNAL_ATTR = 0o100644 << 16


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What a successful verification covered; ``signature_checked_with`` says how far to trust it.

    ``embedded-key`` proves the pack is intact as signed, not who signed it: only a public key obtained
    from the signer (``public-key``) proves that.
    """

    pack: str
    members_checked: int
    signed: bool
    signature_checked_with: str
    zip_sha256: str | None


@dataclass(frozen=True, slots=True)
class _Digest:
    size: int
    sha256: str


def _path_problem(path: str) -> str | None:
    """Why ``path`` cannot name a member inside a pack, or None when it is a plain relative path."""
    if not path:
        return "is an empty path"
    if any(ord(char) < 32 for char in path):
        return "contains a control character"
    if "\\" in path:
        return "contains a backslash; pack paths use '/'"
    if path.startswith("/") or re.match(r"[A-Za-z]:", path):
        return "is an absolute path"
    parts = path.split("/")
    if ".." in parts:
        return "contains '..', which would leave the pack"
    if "" in parts or "." in parts:
        return "is not a normalised relative path"
    return None


def _require_safe(path: str, member: str, what: str) -> None:
    problem = _path_problem(path)
    if problem is not None:
        raise PackVerificationError(member, f"{what} {path!r} {problem}")


def _digest_stream(read: Callable[[int], bytes]) -> _Digest:
    digest = hashlib.sha256()
    size = 0
    while chunk := read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return _Digest(size, digest.hexdigest())


def _read_entry(handle: BinaryIO, info: zipfile.ZipInfo, member: str) -> _Digest:
    """Inflate one entry straight from the archive bytes, checking what zipfile lets pass.

    zipfile stops at the declared size and never asks whether the deflate stream really ended there, so a
    damaged final-block flag or end-of-block code would go unnoticed; here the stream must end exactly at
    the entry's last compressed byte, produce exactly ``file_size`` bytes and match the CRC.
    """

    def damaged(why: str) -> PackVerificationError:
        return PackVerificationError(member, f"zip entry {info.filename!r} is damaged ({why})")

    if info.flag_bits & _ENCRYPTED_FLAG:
        raise damaged("encrypted entries are not part of a pack")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise damaged(f"unsupported compression method {info.compress_type}")
    handle.seek(info.header_offset)
    header = handle.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != _LOCAL_MAGIC:
        raise damaged("no local file header where the central directory points")
    name_length, extra_length = _LOCAL_HEADER.unpack(header)[-2:]
    if handle.read(name_length) != info.orig_filename.encode("utf-8" if info.flag_bits & _UTF8_FLAG else "cp437"):
        raise damaged("the local header names another file")
    handle.seek(extra_length, os.SEEK_CUR)

    inflater = zlib.decompressobj(-zlib.MAX_WBITS) if info.compress_type == zipfile.ZIP_DEFLATED else None
    digest = hashlib.sha256()
    crc = 0
    size = 0
    remaining = info.compress_size
    while remaining:
        chunk = handle.read(min(_CHUNK, remaining))
        if not chunk:
            raise damaged("compressed data is truncated")
        remaining -= len(chunk)
        pending = chunk
        while pending:
            if inflater is None:
                out, pending = pending, b""
            else:
                if inflater.eof:
                    raise damaged("bytes after the end of the deflate stream")
                out = inflater.decompress(pending, _CHUNK)
                pending = inflater.unconsumed_tail
            size += len(out)
            if size > info.file_size:
                raise damaged("inflates to more than its declared size")
            digest.update(out)
            crc = zlib.crc32(out, crc)
    if inflater is not None and (not inflater.eof or inflater.unused_data):
        raise damaged("the deflate stream does not end where the entry ends")
    if size != info.file_size:
        raise damaged(f"inflates to {size} bytes, not the declared {info.file_size}")
    if crc != info.CRC:
        raise damaged(f"CRC-32 is {crc:08x}, the directory says {info.CRC:08x}")
    return _Digest(size, digest.hexdigest())


def _scan_zip(path: Path, archive: zipfile.ZipFile, blame: Callable[[str], str]) -> dict[str, _Digest]:
    """Read every entry once and check it; ``blame`` maps an entry to the member an error names."""
    digests: dict[str, _Digest] = {}
    with path.open("rb") as handle:
        for info in archive.infolist():
            name = info.filename
            _require_safe(name, blame(name), "zip entry")
            if name in digests:
                raise PackVerificationError(blame(name), f"zip entry {name!r} appears more than once")
            if name == ZIP:
                raise PackVerificationError(blame(name), f"a pack zip must not contain another {ZIP}")
            try:
                digests[name] = _read_entry(handle, info, blame(name))
            except (zlib.error, OSError, struct.error) as exc:
                raise PackVerificationError(blame(name), f"zip entry {name!r} is damaged ({exc})") from exc
    return digests


def _check_zip_layout(path: Path, archive: zipfile.ZipFile, blame: Callable[[str], str], label: str) -> None:
    try:
        _check_zip_records(path, archive, blame, label)
    except (struct.error, UnicodeEncodeError, OSError) as exc:
        raise PackVerificationError(label, f"zip records are damaged ({exc})") from exc


def _check_zip_records(path: Path, archive: zipfile.ZipFile, blame: Callable[[str], str], label: str) -> None:
    """Pin every header byte the CRCs do not cover, so no header byte of the zip can change unnoticed.

    zipfile trusts the central directory and ignores most of each local header; the writer's zip is canonical
    (entries back to back, no extra fields, no comments, fixed attributes), so every local field must repeat
    the central one and every central field must hold the writer's value. Archives with a member large enough
    for zip64 fields are left to the CRC checks.
    """
    infos = archive.infolist()
    if any(info.file_size * 1.05 > zipfile.ZIP64_LIMIT for info in infos):
        return
    size = path.stat().st_size
    with path.open("rb") as handle:

        def read_at(offset: int, length: int) -> bytes:
            handle.seek(offset)
            return handle.read(length)

        end = _END_RECORD.unpack(read_at(size - _END_RECORD.size, _END_RECORD.size))
        magic, disk, cd_disk, disk_entries, total_entries, cd_size, cd_offset, comment_length = end
        if (magic, disk, cd_disk, comment_length) != (_END_MAGIC, 0, 0, 0) or not (
            disk_entries == total_entries == len(infos)
        ):
            raise PackVerificationError(label, "end-of-archive record is not the writer's (damaged or re-zipped)")
        central = read_at(cd_offset, cd_size)
        expected_offset = 0
        position = 0
        for info in infos:
            member = blame(info.filename)
            raw_name = info.orig_filename.encode("utf-8" if info.flag_bits & _UTF8_FLAG else "cp437")
            record = _CENTRAL_RECORD.unpack(central[position : position + _CENTRAL_RECORD.size])
            (c_magic, create_version, create_system, extract_version, c_reserved, c_flags, c_method, c_time,
             c_date, c_crc, c_csize, c_usize, c_name_length, c_extra_length, c_comment_length, c_disk,
             c_internal, c_external, c_offset) = record  # fmt: skip
            c_name = central[position + _CENTRAL_RECORD.size : position + _CENTRAL_RECORD.size + c_name_length]
            position += _CENTRAL_RECORD.size + c_name_length + c_extra_length + c_comment_length
            if (
                c_magic != _CENTRAL_MAGIC
                or create_version != extract_version
                or create_system != _CANONICAL_CREATE_SYSTEM
                or c_reserved != 0
                or c_flags & _DATA_DESCRIPTOR_FLAG
                or (c_extra_length, c_comment_length, c_disk, c_internal) != (0, 0, 0, 0)
                or c_external != _CANONICAL_EXTERNAL_ATTR
                or c_offset != expected_offset
                or c_name != raw_name
            ):
                raise PackVerificationError(member, "zip central directory record is not the writer's (damaged)")
            local = _LOCAL_HEADER.unpack(read_at(c_offset, _LOCAL_HEADER.size))
            name = read_at(c_offset + _LOCAL_HEADER.size, c_name_length)
            (l_magic, l_version, l_reserved, l_flags, l_method, l_time, l_date, l_crc, l_csize, l_usize,
             l_name_length, l_extra_length) = local  # fmt: skip
            if (
                (l_magic, l_version, l_reserved, l_flags, l_method, l_time, l_date)
                != (_LOCAL_MAGIC, extract_version, 0, c_flags, c_method, c_time, c_date)
                or (l_crc, l_csize, l_usize, l_name_length, l_extra_length)
                != (c_crc, c_csize, c_usize, c_name_length, 0)
                or name != c_name
            ):
                raise PackVerificationError(member, "zip local header disagrees with the central directory")
            expected_offset = c_offset + _LOCAL_HEADER.size + l_name_length + c_csize
        if cd_offset != expected_offset or position != cd_size or cd_offset + cd_size + _END_RECORD.size != size:
            raise PackVerificationError(label, "zip has bytes outside its entries and directory (damaged)")


def _open_zip(stack: ExitStack, path: Path, member: str) -> zipfile.ZipFile:
    try:
        return stack.enter_context(zipfile.ZipFile(path))
    except _ZIP_READ_ERRORS as exc:
        raise PackVerificationError(member, f"cannot be opened as a zip ({exc})") from exc


def _scan_folder(root: Path) -> dict[str, _Digest]:
    """Every regular file under ``root``; links are refused rather than followed out of the pack."""
    digests: dict[str, _Digest] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            path = Path(dirpath) / name
            relative = path.relative_to(root).as_posix()
            if path.is_symlink():
                raise PackVerificationError(relative, "is a symbolic link; a pack holds regular files only")
            if name in filenames:
                if not path.is_file():
                    raise PackVerificationError(relative, "is not a regular file")
                with path.open("rb") as handle:
                    digests[relative] = _digest_stream(handle.read)
    return dict(sorted(digests.items()))


class _Pack:
    """The members of a pack folder or zip, their digests, whole reads of the small ones, streams of the rest."""

    def __init__(
        self, digests: Mapping[str, _Digest], read: Callable[[str], bytes], open_member: Callable[[str], BinaryIO]
    ) -> None:
        self.digests = dict(digests)
        self._read = read
        self.open = open_member

    def read_small(self, name: str) -> bytes:
        if self.digests[name].size > MAX_METADATA_BYTES:
            raise PackVerificationError(name, f"is {self.digests[name].size} bytes, too large for a pack metadata file")
        data = self._read(name)
        if hashlib.sha256(data).hexdigest() != self.digests[name].sha256:
            raise PackVerificationError(name, "changed while the pack was being verified")
        return data


def _parse_checksums(data: bytes) -> dict[str, str]:
    """``<64 lowercase hex>  <relative path>`` per line, exactly as the writer (and ``sha256sum``) writes them."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PackVerificationError(CHECKSUMS, f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    if not text:
        raise PackVerificationError(CHECKSUMS, "is empty")
    if not text.endswith("\n"):
        raise PackVerificationError(CHECKSUMS, "does not end with a newline")
    listed: dict[str, str] = {}
    for number, line in enumerate(text[:-1].split("\n"), start=1):
        match = _CHECKSUM_LINE.fullmatch(line)
        if match is None:
            raise PackVerificationError(
                CHECKSUMS, f"line {number} is not '<64 lowercase hex>  <relative path>': {line[:120]!r}"
            )
        sha256, path = match.groups()
        _require_safe(path, CHECKSUMS, f"line {number}: path")
        if path in listed:
            raise PackVerificationError(CHECKSUMS, f"line {number}: {path!r} is listed twice")
        if path in (CHECKSUMS, ZIP):
            raise PackVerificationError(CHECKSUMS, f"line {number}: {path!r} must not be listed (it covers the rest)")
        listed[path] = sha256
    return listed


def _manifest_records(data: bytes) -> dict[str, str]:
    """sha256 per path from a manifest that may be damaged: a witness only, so it never raises."""
    try:
        files = json.loads(data.decode("utf-8")).get("files", [])
        return {
            entry["path"]: entry["sha256"]
            for entry in files
            if isinstance(entry.get("path"), str) and isinstance(entry.get("sha256"), str)
        }
    except (ValueError, AttributeError, TypeError, KeyError):
        return {}


def _parse_manifest(data: bytes) -> dict[str, object]:
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise PackVerificationError(MANIFEST, f"is not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict):
        raise PackVerificationError(MANIFEST, "is not a JSON object")
    return manifest


@dataclass(frozen=True, slots=True)
class _Slices:
    """A ``hetero_manifest.v2`` entry listed by slice: the member's size and each slice's (size, sha256)."""

    size: int
    slices: tuple[_Digest, ...]


def _slice_records(where: str, path: str, size: int, slices: object) -> _Slices:
    if not isinstance(slices, list) or not slices:
        raise PackVerificationError(MANIFEST, f"{where} ({path}) has no valid 'slices' list")
    records: list[_Digest] = []
    for number, item in enumerate(slices):
        slice_size = item.get("size") if isinstance(item, dict) else None
        slice_sha = item.get("sha256") if isinstance(item, dict) else None
        if not isinstance(slice_size, int) or isinstance(slice_size, bool) or slice_size < 0:
            raise PackVerificationError(MANIFEST, f"{where} ({path}) slice {number} has no valid 'size'")
        if not isinstance(slice_sha, str) or _SHA256.fullmatch(slice_sha) is None:
            raise PackVerificationError(MANIFEST, f"{where} ({path}) slice {number} has no valid 'sha256'")
        records.append(_Digest(slice_size, slice_sha))
    if sum(record.size for record in records) != size:
        raise PackVerificationError(MANIFEST, f"{where} ({path}): its slices do not add up to its 'size'")
    return _Slices(size, tuple(records))


def _manifest_files(manifest: Mapping[str, object]) -> dict[str, _Digest | _Slices]:
    files = manifest.get("files")
    if not isinstance(files, list):
        raise PackVerificationError(MANIFEST, "has no 'files' list")
    sliced_allowed = manifest.get("schema_version") != MANIFEST_V1
    records: dict[str, _Digest | _Slices] = {}
    for position, entry in enumerate(files):
        where = f"'files'[{position}]"
        if not isinstance(entry, dict):
            raise PackVerificationError(MANIFEST, f"{where} is not an object")
        path, size, sha256 = entry.get("path"), entry.get("size"), entry.get("sha256")
        if not isinstance(path, str):
            raise PackVerificationError(MANIFEST, f"{where} has no string 'path'")
        _require_safe(path, MANIFEST, f"{where}: path")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise PackVerificationError(MANIFEST, f"{where} ({path}) has no valid 'size'")
        if path in records:
            raise PackVerificationError(MANIFEST, f"{where}: {path!r} is listed twice")
        if sliced_allowed and "slices" in entry and sha256 is None:
            records[path] = _slice_records(where, path, size, entry["slices"])
            continue
        if not isinstance(sha256, str) or _SHA256.fullmatch(sha256) is None:
            raise PackVerificationError(MANIFEST, f"{where} ({path}) has no valid 'sha256'")
        records[path] = _Digest(size, sha256)
    return records


def _check_slices(handle: BinaryIO, path: str, record: _Slices) -> None:
    """Hash the member slice by slice (the slices are consecutive byte ranges) against the manifest."""
    for number, expected in enumerate(record.slices):
        digest = hashlib.sha256()
        remaining = expected.size
        while remaining:
            chunk = handle.read(min(_CHUNK, remaining))
            if not chunk:
                raise PackVerificationError(path, f"ends inside slice {number} of its {MANIFEST} record")
            digest.update(chunk)
            remaining -= len(chunk)
        if digest.hexdigest() != expected.sha256:
            raise PackVerificationError(
                path,
                f"slice {number} differs from its {MANIFEST} record (sha256 {digest.hexdigest()} vs {expected.sha256})",
            )


class _Verifier:
    """One verification run; each ``_check_*`` is one step of the fixed order."""

    def __init__(self, path: Path, public_key_pem: bytes | None, stack: ExitStack) -> None:
        self.path = path
        self.public_key_pem = public_key_pem
        self.stack = stack
        self.is_zip = not path.is_dir()
        self._folder_zip: dict[str, _Digest] | None = None
        if self.is_zip:
            if not path.is_file():
                raise PackVerificationError(path.name or str(path), "no such pack folder or zip")
            archive = _open_zip(stack, path, path.name)
            digests = _scan_zip(path, archive, lambda entry: entry)
            _check_zip_layout(path, archive, lambda entry: entry, path.name)
            self.pack = _Pack(digests, archive.read, archive.open)  # type: ignore[arg-type]
        else:
            self.pack = _Pack(
                _scan_folder(path), lambda name: (path / name).read_bytes(), lambda name: (path / name).open("rb")
            )

    def _zip_copy_digests(self) -> dict[str, _Digest] | None:
        """Digests of the folder's zip entries, or None when there is no readable zip (a witness only)."""
        if self.is_zip or ZIP not in self.pack.digests:
            return None
        if self._folder_zip is None:
            try:
                with zipfile.ZipFile(self.path / ZIP) as archive:
                    self._folder_zip = _scan_zip(self.path / ZIP, archive, lambda _entry: ZIP)
            except (PackVerificationError, *_ZIP_READ_ERRORS):
                return None
        return self._folder_zip

    def _culprit(self, name: str, actual: str) -> str:
        """The member to blame when checksums.sha256 and ``name`` disagree: the one a witness contradicts."""
        if name != MANIFEST and MANIFEST in self.pack.digests:
            try:
                records = _manifest_records(self.pack.read_small(MANIFEST))
            except PackVerificationError:
                records = {}
            if records.get(name) == actual:
                return CHECKSUMS
        copies = self._zip_copy_digests()
        if copies is not None and name in copies and copies[name].sha256 == actual:
            return CHECKSUMS
        return name

    def check_required(self) -> None:
        for name in REQUIRED_MEMBERS:
            if name not in self.pack.digests:
                raise PackVerificationError(name, "required member is missing")

    def check_checksums(self) -> dict[str, str]:
        listed = _parse_checksums(self.pack.read_small(CHECKSUMS))
        for path, expected in listed.items():
            found = self.pack.digests.get(path)
            if found is None:
                if path in REQUIRED_MEMBERS or path in OPTIONAL_MEMBERS:
                    raise PackVerificationError(path, f"is listed in {CHECKSUMS} but missing from the pack")
                raise PackVerificationError(CHECKSUMS, f"lists {path!r}, which is not in the pack")
            if found.sha256 != expected:
                culprit = self._culprit(path, found.sha256)
                raise PackVerificationError(
                    culprit, f"sha256 mismatch for {path}: {CHECKSUMS} says {expected}, the file has {found.sha256}"
                )
        return listed

    def _sliced_members(self) -> set[str]:
        """Members a v2 manifest lists by slice: it, not checksums.sha256, covers them (checked in step 6)."""
        if MANIFEST not in self.pack.digests:
            return set()
        try:
            return {path for path, record in _manifest_files(_parse_manifest(self.pack.read_small(MANIFEST))).items()
                    if isinstance(record, _Slices)}  # fmt: skip
        except PackVerificationError:
            return set()

    def check_all_listed(self, listed: Mapping[str, str]) -> None:
        exempt = {CHECKSUMS, ZIP} | self._sliced_members()
        for name in self.pack.digests:
            if name not in listed and name not in exempt:
                raise PackVerificationError(name, f"is in the pack but not listed in {CHECKSUMS}")

    def check_manifest(self) -> dict[str, object]:
        manifest = _parse_manifest(self.pack.read_small(MANIFEST))
        covered = _manifest_files(manifest)
        for path, record in covered.items():
            found = self.pack.digests.get(path)
            if found is None:
                raise PackVerificationError(MANIFEST, f"lists {path!r}, which is not in the pack")
            if isinstance(record, _Slices):
                if found.size != record.size:
                    raise PackVerificationError(
                        path, f"differs from its {MANIFEST} record (size {found.size} vs {record.size})"
                    )
                with self.pack.open(path) as handle:
                    _check_slices(handle, path, record)
                continue
            if found != record:
                raise PackVerificationError(
                    path,
                    f"differs from its {MANIFEST} record (size {found.size} vs {record.size}, "
                    f"sha256 {found.sha256} vs {record.sha256})",
                )
        for name in MANIFEST_COVERED:
            if name not in covered:
                raise PackVerificationError(MANIFEST, f"its 'files' list does not cover {name}")
        return manifest

    def check_signature(self, manifest: Mapping[str, object]) -> tuple[bool, str]:
        declared = manifest.get("signature")
        has_sig = SIGNATURE in self.pack.digests
        has_key = PUBLIC_KEY in self.pack.digests
        if declared is not None:
            if not isinstance(declared, dict) or declared.get("algorithm") != SIGNATURE_ALGORITHM:
                raise PackVerificationError(MANIFEST, f"'signature' block must name algorithm {SIGNATURE_ALGORITHM}")
            if not has_sig:
                raise PackVerificationError(SIGNATURE, f"{MANIFEST} declares a signature but {SIGNATURE} is missing")
        elif has_sig:
            raise PackVerificationError(MANIFEST, f"{SIGNATURE} is present but {MANIFEST} declares no signature")

        if not has_sig:
            if self.public_key_pem is not None:
                raise PackVerificationError(SIGNATURE, "a public key was given but the pack is not signed")
            if has_key:
                raise PackVerificationError(PUBLIC_KEY, "is present but the pack is not signed")
            return False, UNSIGNED

        manifest_bytes = self.pack.read_small(MANIFEST)
        signature = self.pack.read_small(SIGNATURE)
        if self.public_key_pem is not None:
            if not verify_signature(self.public_key_pem, manifest_bytes, signature):
                raise PackVerificationError(
                    SIGNATURE,
                    f"does not verify with the given public key (key id {public_key_id(self.public_key_pem)})",
                )
            return True, CHECKED_WITH_PUBLIC_KEY
        if not has_key:
            raise PackVerificationError(PUBLIC_KEY, "the pack is signed but carries no public key; give the signer's")
        try:
            valid = verify_signature(self.pack.read_small(PUBLIC_KEY), manifest_bytes, signature)
        except SigningError as exc:
            raise PackVerificationError(PUBLIC_KEY, str(exc)) from exc
        if not valid:
            raise PackVerificationError(SIGNATURE, f"does not verify with the embedded {PUBLIC_KEY}")
        return True, CHECKED_WITH_EMBEDDED_KEY

    def check_folder_zip(self) -> str | None:
        if self.is_zip:
            return file_sha256(self.path)
        if ZIP not in self.pack.digests:
            return None
        archive = _open_zip(self.stack, self.path / ZIP, ZIP)
        entries = _scan_zip(self.path / ZIP, archive, lambda _entry: ZIP)
        members = {name: digest for name, digest in self.pack.digests.items() if name != ZIP}
        for name in members:
            if name not in entries:
                raise PackVerificationError(ZIP, f"has no entry for the folder's {name}")
        for name, digest in entries.items():
            if name not in members:
                raise PackVerificationError(ZIP, f"has an entry {name!r} that the folder does not have")
            if digest != members[name]:
                raise PackVerificationError(ZIP, f"entry {name!r} differs from the folder's {name}")
        _check_zip_layout(self.path / ZIP, archive, lambda _entry: ZIP, ZIP)
        return self.pack.digests[ZIP].sha256


def verify_pack(path: Path, public_key_pem: bytes | None = None) -> VerifyReport:
    """Verify a pack folder or its ``evidence_pack.zip``; raise :class:`PackVerificationError` at the first fault.

    With ``public_key_pem`` the pack must be signed by that key. Without it a signed pack is checked against
    the public key it carries, which proves integrity but not origin. An unreadable ``public_key_pem`` raises
    :class:`SigningError` before the pack is read.
    """
    path = Path(path)
    if public_key_pem is not None:
        public_key_id(public_key_pem)  # fail fast on a bad key file, before blaming the pack
    with ExitStack() as stack:
        verifier = _Verifier(path, public_key_pem, stack)
        verifier.check_required()
        listed = verifier.check_checksums()
        verifier.check_all_listed(listed)
        manifest = verifier.check_manifest()
        signed, checked_with = verifier.check_signature(manifest)
        zip_sha256 = verifier.check_folder_zip()
        return VerifyReport(
            pack=str(path),
            members_checked=sum(1 for name in verifier.pack.digests if name != ZIP),
            signed=signed,
            signature_checked_with=checked_with,
            zip_sha256=zip_sha256,
        )
