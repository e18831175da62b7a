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
import re
import zipfile
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
from hetero_core.pack._zipcheck import (
    READ_CHUNK,
    ZIP_READ_ERRORS,
    Digest,
    check_zip_layout,
    open_zip,
    require_safe,
    scan_folder,
    scan_zip,
)

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


class _Pack:
    """The members of a pack folder or zip, their digests, whole reads of the small ones, streams of the rest."""

    def __init__(
        self, digests: Mapping[str, Digest], read: Callable[[str], bytes], open_member: Callable[[str], BinaryIO]
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
        require_safe(path, CHECKSUMS, f"line {number}: path")
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
    slices: tuple[Digest, ...]


def _slice_records(where: str, path: str, size: int, slices: object) -> _Slices:
    if not isinstance(slices, list) or not slices:
        raise PackVerificationError(MANIFEST, f"{where} ({path}) has no valid 'slices' list")
    records: list[Digest] = []
    for number, item in enumerate(slices):
        slice_size = item.get("size") if isinstance(item, dict) else None
        slice_sha = item.get("sha256") if isinstance(item, dict) else None
        if not isinstance(slice_size, int) or isinstance(slice_size, bool) or slice_size < 0:
            raise PackVerificationError(MANIFEST, f"{where} ({path}) slice {number} has no valid 'size'")
        if not isinstance(slice_sha, str) or _SHA256.fullmatch(slice_sha) is None:
            raise PackVerificationError(MANIFEST, f"{where} ({path}) slice {number} has no valid 'sha256'")
        records.append(Digest(slice_size, slice_sha))
    if sum(record.size for record in records) != size:
        raise PackVerificationError(MANIFEST, f"{where} ({path}): its slices do not add up to its 'size'")
    return _Slices(size, tuple(records))


def _manifest_files(manifest: Mapping[str, object]) -> dict[str, Digest | _Slices]:
    files = manifest.get("files")
    if not isinstance(files, list):
        raise PackVerificationError(MANIFEST, "has no 'files' list")
    sliced_allowed = manifest.get("schema_version") != MANIFEST_V1
    records: dict[str, Digest | _Slices] = {}
    for position, entry in enumerate(files):
        where = f"'files'[{position}]"
        if not isinstance(entry, dict):
            raise PackVerificationError(MANIFEST, f"{where} is not an object")
        path, size, sha256 = entry.get("path"), entry.get("size"), entry.get("sha256")
        if not isinstance(path, str):
            raise PackVerificationError(MANIFEST, f"{where} has no string 'path'")
        require_safe(path, MANIFEST, f"{where}: path")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise PackVerificationError(MANIFEST, f"{where} ({path}) has no valid 'size'")
        if path in records:
            raise PackVerificationError(MANIFEST, f"{where}: {path!r} is listed twice")
        if sliced_allowed and "slices" in entry and sha256 is None:
            records[path] = _slice_records(where, path, size, entry["slices"])
            continue
        if not isinstance(sha256, str) or _SHA256.fullmatch(sha256) is None:
            raise PackVerificationError(MANIFEST, f"{where} ({path}) has no valid 'sha256'")
        records[path] = Digest(size, sha256)
    return records


def _check_slices(handle: BinaryIO, path: str, record: _Slices) -> None:
    """Hash the member slice by slice (the slices are consecutive byte ranges) against the manifest."""
    for number, expected in enumerate(record.slices):
        digest = hashlib.sha256()
        remaining = expected.size
        while remaining:
            chunk = handle.read(min(READ_CHUNK, remaining))
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
        self._folder_zip: dict[str, Digest] | None = None
        if self.is_zip:
            if not path.is_file():
                raise PackVerificationError(path.name or str(path), "no such pack folder or zip")
            archive = open_zip(stack, path, path.name)
            digests = scan_zip(path, archive, lambda entry: entry)
            check_zip_layout(path, archive, lambda entry: entry, path.name)
            self.pack = _Pack(digests, archive.read, archive.open)  # type: ignore[arg-type]
        else:
            self.pack = _Pack(
                scan_folder(path), lambda name: (path / name).read_bytes(), lambda name: (path / name).open("rb")
            )

    def _zip_copy_digests(self) -> dict[str, Digest] | None:
        """Digests of the folder's zip entries, or None when there is no readable zip (a witness only)."""
        if self.is_zip or ZIP not in self.pack.digests:
            return None
        if self._folder_zip is None:
            try:
                with zipfile.ZipFile(self.path / ZIP) as archive:
                    self._folder_zip = scan_zip(self.path / ZIP, archive, lambda _entry: ZIP)
            except (PackVerificationError, *ZIP_READ_ERRORS):
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
        archive = open_zip(self.stack, self.path / ZIP, ZIP)
        entries = scan_zip(self.path / ZIP, archive, lambda _entry: ZIP)
        members = {name: digest for name, digest in self.pack.digests.items() if name != ZIP}
        for name in members:
            if name not in entries:
                raise PackVerificationError(ZIP, f"has no entry for the folder's {name}")
        for name, digest in entries.items():
            if name not in members:
                raise PackVerificationError(ZIP, f"has an entry {name!r} that the folder does not have")
            if digest != members[name]:
                raise PackVerificationError(ZIP, f"entry {name!r} differs from the folder's {name}")
        check_zip_layout(self.path / ZIP, archive, lambda _entry: ZIP, ZIP)
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
