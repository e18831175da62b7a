"""Reading a pack's zip or folder defensively: every entry inflated and checked, every header byte pinned.

Split from :mod:`hetero_core.pack._verify`, which decides what the digests found here must match.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from hetero_core.errors import PackVerificationError
from hetero_core.layout import ZIP

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import ExitStack

__all__ = [
    "READ_CHUNK",
    "ZIP_READ_ERRORS",
    "Digest",
    "check_zip_layout",
    "digest_stream",
    "open_zip",
    "path_problem",
    "require_safe",
    "scan_folder",
    "scan_zip",
]

READ_CHUNK = 1 << 20
ZIP_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError, NotImplementedError)

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
class Digest:
    size: int
    sha256: str


def path_problem(path: str) -> str | None:
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


def require_safe(path: str, member: str, what: str) -> None:
    problem = path_problem(path)
    if problem is not None:
        raise PackVerificationError(member, f"{what} {path!r} {problem}")


def digest_stream(read: Callable[[int], bytes]) -> Digest:
    digest = hashlib.sha256()
    size = 0
    while chunk := read(READ_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return Digest(size, digest.hexdigest())


def _read_entry(handle: BinaryIO, info: zipfile.ZipInfo, member: str) -> Digest:
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
        chunk = handle.read(min(READ_CHUNK, remaining))
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
                out = inflater.decompress(pending, READ_CHUNK)
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
    return Digest(size, digest.hexdigest())


def scan_zip(path: Path, archive: zipfile.ZipFile, blame: Callable[[str], str]) -> dict[str, Digest]:
    """Read every entry once and check it; ``blame`` maps an entry to the member an error names."""
    digests: dict[str, Digest] = {}
    with path.open("rb") as handle:
        for info in archive.infolist():
            name = info.filename
            require_safe(name, blame(name), "zip entry")
            if name in digests:
                raise PackVerificationError(blame(name), f"zip entry {name!r} appears more than once")
            if name == ZIP:
                raise PackVerificationError(blame(name), f"a pack zip must not contain another {ZIP}")
            try:
                digests[name] = _read_entry(handle, info, blame(name))
            except (zlib.error, OSError, struct.error) as exc:
                raise PackVerificationError(blame(name), f"zip entry {name!r} is damaged ({exc})") from exc
    return digests


def check_zip_layout(path: Path, archive: zipfile.ZipFile, blame: Callable[[str], str], label: str) -> None:
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


def open_zip(stack: ExitStack, path: Path, member: str) -> zipfile.ZipFile:
    try:
        return stack.enter_context(zipfile.ZipFile(path))
    except ZIP_READ_ERRORS as exc:
        raise PackVerificationError(member, f"cannot be opened as a zip ({exc})") from exc


def scan_folder(root: Path) -> dict[str, Digest]:
    """Every regular file under ``root``; links are refused rather than followed out of the pack."""
    digests: dict[str, Digest] = {}
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
                    digests[relative] = digest_stream(handle.read)
    return dict(sorted(digests.items()))
