"""Pack verification: passes on an intact pack (folder or zip), names the first thing that fails otherwise."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from hetero_core import layout
from hetero_core.errors import PackVerificationError, SigningError
from hetero_core.pack import LocalKeySigner, PackInfo, VerifyReport, generate_private_key_pem, verify_pack
from hetero_core.pack._writer import PackBuilder
from hetero_core.reasons import SkipReason, Status, Verdict

if TYPE_CHECKING:
    from collections.abc import Callable

CREATED_AT = datetime(2025, 3, 14, 15, 9, 26, tzinfo=UTC)
ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
CAFFEINE = "Cn1cnc2c1c(=O)n(C)c(=O)n2C"
BENZENE = "c1ccccc1"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def signer() -> LocalKeySigner:
    """A fixed key: with RFC 6979 signatures every test pack is byte-identical run after run, so the byte
    each damage test flips is always the same one."""
    return LocalKeySigner(ec.derive_private_key(0x4E7E_2000_0000_0000_0000_0000_0000_0001, ec.SECP256R1()))


@pytest.fixture(scope="module")
def stranger() -> LocalKeySigner:
    """Someone else's key: never the one the pack was signed with."""
    return LocalKeySigner.from_pem_bytes(generate_private_key_pem())


def _build(out_dir: Path, signer: LocalKeySigner | None = None) -> PackInfo:
    with PackBuilder(out_dir, extra_columns=["assay"]) as builder:
        builder.add_summary_row(
            {
                "id": "aspirin",
                "status": Status.OK,
                "verdict": Verdict.PASS,
                "auc": 0.93,
                "slack": 0.13,
                "smiles": ASPIRIN,
            }
        )
        builder.add_summary_row(
            {"id": "caffeine", "status": Status.OK, "verdict": Verdict.FAIL, "slack": -0.05, "input_assay": "=1+1"}
        )
        builder.add_summary_row(
            {"id": "row_3", "status": Status.SKIP, "reason": SkipReason.INVALID_SMILES, "smiles": "C1CC"}
        )
        builder.add_decoy_rows(
            [
                {"molecule_id": "aspirin", "role": "original", "hash": _sha(ASPIRIN.encode()), "smiles": ASPIRIN},
                {"molecule_id": "aspirin", "role": "decoy", "hash": "0" * 64, "smiles": "CC(=O)c1ccccc1OC(=O)O"},
                {"molecule_id": "caffeine", "role": "original", "hash": _sha(CAFFEINE.encode()), "smiles": CAFFEINE},
                {"molecule_id": "benzene", "role": "original", "hash": _sha(BENZENE.encode()), "smiles": BENZENE},
            ]
        )
        return builder.finish(
            metrics={"counts": {"OK": 2, "SKIP": 1, "ERROR": 0}, "pass_rate": 0.5},
            manifest={"engine": {"name": "hetero2", "version": "0.1.0"}, "parameters": {"n_decoys": 1, "seed": 7}},
            index_md="# HETERO-2 audit\n\nOK 2 · SKIP 1\n",
            created_at=CREATED_AT,
            signer=signer,
        )


@pytest.fixture
def unsigned(tmp_path: Path) -> PackInfo:
    return _build(tmp_path / "pack")


@pytest.fixture
def signed(tmp_path: Path, signer: LocalKeySigner) -> PackInfo:
    return _build(tmp_path / "pack", signer)


def _flip(path: Path, offset: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    position = len(data) // 2 if offset is None else offset
    data[position] ^= 0x01
    path.write_bytes(bytes(data))


def _reseal(folder: Path) -> None:
    """Rewrite checksums.sha256 to match the folder, as someone covering their tracks would."""
    names = sorted(
        entry.relative_to(folder).as_posix()
        for entry in folder.rglob("*")
        if entry.is_file() and entry.name not in (layout.CHECKSUMS, layout.ZIP)
    )
    text = "".join(f"{_sha((folder / name).read_bytes())}  {name}\n" for name in names)
    (folder / layout.CHECKSUMS).write_text(text, encoding="utf-8")


def _edit_manifest(folder: Path, edit: Callable[[dict[str, object]], object]) -> None:
    manifest = json.loads((folder / layout.MANIFEST).read_bytes())
    edit(manifest)
    (folder / layout.MANIFEST).write_text(json.dumps(manifest, sort_keys=True, indent=2) + "\n", encoding="utf-8")


def _rezip(source: Path, target: Path, transform: Callable[[str, bytes], bytes | None]) -> None:
    """Copy a zip entry by entry; ``transform`` may change an entry's bytes or drop it (None)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target.with_suffix(".tmp"), "w") as new:
        for info in old.infolist():
            data = transform(info.filename, old.read(info))
            if data is not None:
                new.writestr(info, data)
    target.with_suffix(".tmp").replace(target)


def _compressed_byte_offset(zip_path: Path, name: str) -> int:
    """Offset of a byte in the middle of ``name``'s compressed data (after its local header)."""
    with zipfile.ZipFile(zip_path) as archive:
        info = archive.getinfo(name)
    raw = zip_path.read_bytes()
    name_length, extra_length = struct.unpack("<HH", raw[info.header_offset + 26 : info.header_offset + 30])
    data_start: int = info.header_offset + 30 + name_length + extra_length
    return data_start + info.compress_size // 2


def _fails(path: Path, public_key_pem: bytes | None = None) -> PackVerificationError:
    with pytest.raises(PackVerificationError) as excinfo:
        verify_pack(path, public_key_pem)
    return excinfo.value


# --- intact packs --------------------------------------------------------------------------------------------


def test_unsigned_folder_verifies(unsigned: PackInfo) -> None:
    report = verify_pack(unsigned.path)
    assert report == VerifyReport(
        pack=str(unsigned.path),
        members_checked=len(layout.REQUIRED_MEMBERS),
        signed=False,
        signature_checked_with="unsigned",
        zip_sha256=unsigned.zip_sha256,
    )


def test_unsigned_zip_verifies(unsigned: PackInfo) -> None:
    report = verify_pack(unsigned.zip_path)
    assert report.members_checked == len(layout.REQUIRED_MEMBERS)
    assert report.signed is False
    assert report.signature_checked_with == "unsigned"
    assert report.zip_sha256 == unsigned.zip_sha256


def test_folder_without_its_zip_still_verifies(unsigned: PackInfo) -> None:
    unsigned.zip_path.unlink()
    report = verify_pack(unsigned.path)
    assert report.zip_sha256 is None
    assert report.members_checked == len(layout.REQUIRED_MEMBERS)


def test_signed_folder_verifies_with_embedded_key(signed: PackInfo) -> None:
    report = verify_pack(signed.path)
    assert report.signed is True
    assert report.signature_checked_with == "embedded-key"
    assert report.members_checked == len(layout.REQUIRED_MEMBERS) + 2


@pytest.mark.parametrize("use_zip", [False, True])
def test_signed_pack_verifies_with_the_signers_public_key(
    signed: PackInfo, signer: LocalKeySigner, use_zip: bool
) -> None:
    report = verify_pack(signed.zip_path if use_zip else signed.path, signer.public_key_pem())
    assert report.signed is True
    assert report.signature_checked_with == "public-key"
    assert report.zip_sha256 == signed.zip_sha256


def test_signed_zip_verifies_with_embedded_key(signed: PackInfo) -> None:
    assert verify_pack(signed.zip_path).signature_checked_with == "embedded-key"


def test_verifying_a_zip_writes_nothing_to_disk(signed: PackInfo, tmp_path: Path) -> None:
    before = sorted(str(entry) for entry in tmp_path.rglob("*"))
    verify_pack(signed.zip_path)
    assert sorted(str(entry) for entry in tmp_path.rglob("*")) == before


# --- one flipped byte, named ---------------------------------------------------------------------------------

UNSIGNED_MEMBERS = (*layout.REQUIRED_MEMBERS, layout.ZIP)
SIGNED_MEMBERS = (*layout.REQUIRED_MEMBERS, *layout.OPTIONAL_MEMBERS, layout.ZIP)


@pytest.mark.parametrize("member", SIGNED_MEMBERS)
def test_flipped_byte_in_signed_folder_names_the_member(signed: PackInfo, member: str) -> None:
    _flip(signed.path / member)
    assert _fails(signed.path).member == member


@pytest.mark.parametrize("member", UNSIGNED_MEMBERS)
def test_flipped_byte_in_unsigned_folder_names_the_member(unsigned: PackInfo, member: str) -> None:
    _flip(unsigned.path / member)
    assert _fails(unsigned.path).member == member


@pytest.mark.parametrize(
    "member",
    [*layout.REQUIRED_MEMBERS, *layout.OPTIONAL_MEMBERS],
)
def test_flipped_byte_inside_a_compressed_zip_entry_names_the_entry(signed: PackInfo, member: str) -> None:
    _flip(signed.zip_path, _compressed_byte_offset(signed.zip_path, member))
    error = _fails(signed.zip_path)
    assert error.member == member
    assert "damaged" in str(error)


@pytest.mark.parametrize("line_of", [layout.METRICS, layout.MANIFEST, layout.SIGNATURE])
def test_changed_hex_digit_in_checksums_is_blamed_on_checksums(signed: PackInfo, line_of: str) -> None:
    path = signed.path / layout.CHECKSUMS
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.endswith(f"  {line_of}\n"))
    lines[index] = ("1" if lines[index][0] != "1" else "2") + lines[index][1:]
    path.write_text("".join(lines), encoding="utf-8")
    error = _fails(signed.path)
    assert error.member == layout.CHECKSUMS
    assert line_of in str(error)


def test_changed_hex_digit_in_checksums_without_zip_uses_the_manifest_as_witness(unsigned: PackInfo) -> None:
    unsigned.zip_path.unlink()
    path = unsigned.path / layout.CHECKSUMS
    text = path.read_text(encoding="utf-8")
    digest = _sha((unsigned.path / layout.REPORT).read_bytes())
    path.write_text(text.replace(digest, ("f" if digest[0] != "f" else "e") + digest[1:]), encoding="utf-8")
    assert _fails(unsigned.path).member == layout.CHECKSUMS


def test_damaged_member_in_folder_without_zip_is_named(unsigned: PackInfo) -> None:
    unsigned.zip_path.unlink()
    _flip(unsigned.path / layout.METRICS)
    error = _fails(unsigned.path)
    assert error.member == layout.METRICS
    assert "sha256 mismatch" in str(error)


@pytest.mark.parametrize("member", [layout.SUMMARY, layout.DECOYS])
def test_damaged_sliced_member_is_named_with_its_slice(unsigned: PackInfo, member: str) -> None:
    """summary.csv and decoys.csv are checked slice by slice against the signed manifest (hetero_manifest.v2)."""
    unsigned.zip_path.unlink()
    _flip(unsigned.path / member)
    error = _fails(unsigned.path)
    assert error.member == member
    assert "slice" in str(error)


def test_sliced_member_with_an_extra_line_is_refused(unsigned: PackInfo) -> None:
    unsigned.zip_path.unlink()
    with (unsigned.path / layout.DECOYS).open("a", encoding="utf-8") as handle:
        handle.write("x,decoy,,C,,\n")
    error = _fails(unsigned.path)
    assert error.member == layout.DECOYS
    assert "size" in str(error)


def test_v2_manifest_slices_must_add_up_to_the_size(unsigned: PackInfo) -> None:
    unsigned.zip_path.unlink()
    manifest = json.loads((unsigned.path / layout.MANIFEST).read_text(encoding="utf-8"))
    entry = next(e for e in manifest["files"] if e["path"] == layout.SUMMARY)
    entry["slices"][0]["size"] += 1
    (unsigned.path / layout.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    error = _fails(unsigned.path)
    assert error.member in (layout.MANIFEST, layout.CHECKSUMS)


def test_truncated_zip_is_refused(unsigned: PackInfo) -> None:
    data = unsigned.zip_path.read_bytes()
    unsigned.zip_path.write_bytes(data[: len(data) - 30])
    assert _fails(unsigned.zip_path).member == layout.ZIP


def test_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / layout.ZIP
    fake.write_text("id,smiles\naspirin,CC(=O)Oc1ccccc1C(=O)O\n")
    error = _fails(fake)
    assert error.member == layout.ZIP
    assert "cannot be opened as a zip" in str(error)


def test_missing_path_is_refused(tmp_path: Path) -> None:
    assert "no such pack" in str(_fails(tmp_path / "nowhere"))


# --- missing, extra and misplaced members --------------------------------------------------------------------


@pytest.mark.parametrize("member", layout.REQUIRED_MEMBERS)
def test_deleted_required_member_is_named(unsigned: PackInfo, member: str) -> None:
    (unsigned.path / member).unlink()
    error = _fails(unsigned.path)
    assert error.member == member
    assert "required member is missing" in str(error)


@pytest.mark.parametrize("member", layout.REQUIRED_MEMBERS)
def test_zip_without_a_required_member_names_it(unsigned: PackInfo, member: str) -> None:
    _rezip(unsigned.zip_path, unsigned.zip_path, lambda name, data: None if name == member else data)
    assert _fails(unsigned.zip_path).member == member


@pytest.mark.parametrize("member", [layout.SIGNATURE, layout.PUBLIC_KEY])
def test_deleted_signature_member_is_named(signed: PackInfo, member: str) -> None:
    (signed.path / member).unlink()
    error = _fails(signed.path)
    assert error.member == member
    assert "missing" in str(error)


@pytest.mark.parametrize("extra", ["notes.txt", "plots/worst.png", ".DS_Store"])
def test_unlisted_file_is_named(unsigned: PackInfo, extra: str) -> None:
    target = unsigned.path / extra
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(b"not part of the pack")
    error = _fails(unsigned.path)
    assert error.member == extra
    assert "not listed" in str(error)


def test_symlink_in_folder_is_refused(unsigned: PackInfo, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("outside the pack")
    (unsigned.path / "link.txt").symlink_to(secret)
    error = _fails(unsigned.path)
    assert error.member == "link.txt"
    assert "symbolic link" in str(error)


def test_zip_entry_escaping_the_pack_is_refused(unsigned: PackInfo) -> None:
    with zipfile.ZipFile(unsigned.zip_path, "a") as archive:
        archive.writestr("../evil.sh", b"rm -rf ~")
    error = _fails(unsigned.zip_path)
    assert error.member == "../evil.sh"
    assert "'..'" in str(error)


# --- checksums.sha256 parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (f"{'a' * 64}  ../x\n", "'..'"),
        (f"{'a' * 64}  plots/../../x\n", "'..'"),
        (f"{'a' * 64}  /etc/passwd\n", "absolute"),
        (f"{'a' * 64}  C:/Windows/x\n", "absolute"),
        (f"{'a' * 64}  plots\\x\n", "backslash"),
        (f"{'a' * 64}  ./summary.csv\n", "normalised"),
        (f"{'a' * 64} summary.csv\n", "is not '<64 lowercase hex>"),
        (f"{'A' * 64}  x\n", "is not '<64 lowercase hex>"),
        (f"{'a' * 63}  x\n", "is not '<64 lowercase hex>"),
        ("\n", "is not '<64 lowercase hex>"),
        (f"{'a' * 64}  {layout.ZIP}\n", "must not be listed"),
        (f"{'a' * 64}  {layout.CHECKSUMS}\n", "must not be listed"),
    ],
)
def test_bad_checksums_line_is_refused(unsigned: PackInfo, line: str, message: str) -> None:
    path = unsigned.path / layout.CHECKSUMS
    path.write_text(path.read_text(encoding="utf-8") + line, encoding="utf-8")
    error = _fails(unsigned.path)
    assert error.member == layout.CHECKSUMS
    assert message in str(error)


def test_duplicate_checksums_line_is_refused(unsigned: PackInfo) -> None:
    path = unsigned.path / layout.CHECKSUMS
    text = path.read_text(encoding="utf-8")
    path.write_text(text + text.splitlines(keepends=True)[0], encoding="utf-8")
    error = _fails(unsigned.path)
    assert error.member == layout.CHECKSUMS
    assert "listed twice" in str(error)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"\xff\xfe not text", "not UTF-8"),
        (f"{'a' * 64}  {layout.SUMMARY}".encode(), "newline"),
        (f"{'a' * 64}  {layout.SUMMARY}\r\n".encode(), "control character"),
    ],
)
def test_unparseable_checksums_file_is_refused(unsigned: PackInfo, content: bytes, message: str) -> None:
    (unsigned.path / layout.CHECKSUMS).write_bytes(content)
    error = _fails(unsigned.path)
    assert error.member == layout.CHECKSUMS
    assert message in str(error)


def test_checksums_listing_an_unknown_absent_file_is_blamed_on_checksums(unsigned: PackInfo) -> None:
    path = unsigned.path / layout.CHECKSUMS
    path.write_text(path.read_text(encoding="utf-8") + f"{'b' * 64}  notes.html\n", encoding="utf-8")
    error = _fails(unsigned.path)
    assert error.member == layout.CHECKSUMS
    assert "notes.html" in str(error)


# --- the manifest's file list --------------------------------------------------------------------------------


def test_member_changed_with_checksums_rewritten_fails_on_the_manifest(unsigned: PackInfo) -> None:
    summary = unsigned.path / layout.SUMMARY
    summary.write_text(summary.read_text(encoding="utf-8").replace("0.13", "0.93"), encoding="utf-8")
    _reseal(unsigned.path)
    error = _fails(unsigned.path)
    assert error.member == layout.SUMMARY
    assert layout.MANIFEST in str(error)


@pytest.mark.parametrize("member", [layout.SUMMARY, layout.DECOYS, layout.METRICS, layout.INDEX, layout.REPORT])
def test_manifest_must_cover_every_data_member(unsigned: PackInfo, member: str) -> None:
    def drop(manifest: dict[str, object]) -> None:
        files = manifest["files"]
        assert isinstance(files, list)
        manifest["files"] = [entry for entry in files if entry["path"] != member]

    _edit_manifest(unsigned.path, drop)
    _reseal(unsigned.path)
    error = _fails(unsigned.path)
    assert error.member == layout.MANIFEST
    assert f"does not cover {member}" in str(error)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.pop("files"), "no 'files' list"),
        (lambda m: m.update(files="summary.csv"), "no 'files' list"),
        (lambda m: m.update(files=[{"path": "../../etc/passwd", "size": 1, "sha256": "a" * 64}]), "'..'"),
        (lambda m: m.update(files=[{"path": "notes.txt", "size": 1, "sha256": "a" * 64}]), "not in the pack"),
        (lambda m: m.update(files=[{"path": layout.SUMMARY, "size": "big", "sha256": "a" * 64}]), "valid 'size'"),
        (lambda m: m.update(files=[{"path": layout.SUMMARY, "size": 1, "sha256": "xyz"}]), "valid 'sha256'"),
        (lambda m: m.update(files=["summary.csv"]), "is not an object"),
    ],
)
def test_malformed_manifest_file_list_is_refused(
    unsigned: PackInfo, edit: Callable[[dict[str, object]], object], message: str
) -> None:
    _edit_manifest(unsigned.path, edit)
    _reseal(unsigned.path)
    error = _fails(unsigned.path)
    assert error.member == layout.MANIFEST
    assert message in str(error)


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2, 3]\n", b"\xff\xfe"])
def test_unparseable_manifest_is_refused(unsigned: PackInfo, content: bytes) -> None:
    (unsigned.path / layout.MANIFEST).write_bytes(content)
    _reseal(unsigned.path)
    assert _fails(unsigned.path).member == layout.MANIFEST


# --- signature -----------------------------------------------------------------------------------------------


def test_wrong_public_key_fails_on_the_signature(signed: PackInfo, stranger: LocalKeySigner) -> None:
    error = _fails(signed.path, stranger.public_key_pem())
    assert error.member == layout.SIGNATURE
    assert stranger.key_id in str(error)


def test_public_key_given_but_pack_unsigned_fails(unsigned: PackInfo, signer: LocalKeySigner) -> None:
    error = _fails(unsigned.path, signer.public_key_pem())
    assert error.member == layout.SIGNATURE
    assert "not signed" in str(error)


def test_unreadable_public_key_is_a_signing_error_not_a_pack_fault(signed: PackInfo) -> None:
    with pytest.raises(SigningError):
        verify_pack(signed.path, b"-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")


@pytest.mark.parametrize("with_key", [False, True])
def test_edited_signed_manifest_fails_on_the_signature(
    signed: PackInfo, signer: LocalKeySigner, with_key: bool
) -> None:
    _edit_manifest(signed.path, lambda manifest: manifest.update(parameters={"n_decoys": 50, "seed": 7}))
    _reseal(signed.path)
    error = _fails(signed.path, signer.public_key_pem() if with_key else None)
    assert error.member == layout.SIGNATURE
    assert "does not verify" in str(error)


def test_stripped_signature_is_detected(signed: PackInfo) -> None:
    (signed.path / layout.SIGNATURE).unlink()
    (signed.path / layout.PUBLIC_KEY).unlink()
    _reseal(signed.path)
    error = _fails(signed.path)
    assert error.member == layout.SIGNATURE
    assert "declares a signature" in str(error)


def test_resigned_by_someone_else_passes_embedded_but_fails_the_real_key(
    signed: PackInfo, signer: LocalKeySigner, stranger: LocalKeySigner
) -> None:
    """The embedded key proves integrity only; the signer's own public key proves origin."""
    signed.zip_path.unlink()
    manifest_bytes = (signed.path / layout.MANIFEST).read_bytes()
    (signed.path / layout.SIGNATURE).write_bytes(stranger.sign(manifest_bytes))
    (signed.path / layout.PUBLIC_KEY).write_bytes(stranger.public_key_pem())
    _reseal(signed.path)
    assert verify_pack(signed.path).signature_checked_with == "embedded-key"
    assert _fails(signed.path, signer.public_key_pem()).member == layout.SIGNATURE


def test_signature_without_manifest_declaration_is_refused(unsigned: PackInfo, signer: LocalKeySigner) -> None:
    manifest_bytes = (unsigned.path / layout.MANIFEST).read_bytes()
    (unsigned.path / layout.SIGNATURE).write_bytes(signer.sign(manifest_bytes))
    (unsigned.path / layout.PUBLIC_KEY).write_bytes(signer.public_key_pem())
    _reseal(unsigned.path)
    error = _fails(unsigned.path)
    assert error.member == layout.MANIFEST
    assert "declares no signature" in str(error)


def test_public_key_without_signature_is_refused(unsigned: PackInfo, signer: LocalKeySigner) -> None:
    (unsigned.path / layout.PUBLIC_KEY).write_bytes(signer.public_key_pem())
    _reseal(unsigned.path)
    assert _fails(unsigned.path).member == layout.PUBLIC_KEY


def test_unknown_signature_algorithm_is_refused(signed: PackInfo, signer: LocalKeySigner) -> None:
    def downgrade(manifest: dict[str, object]) -> None:
        manifest["signature"] = {"algorithm": "NONE", "key_id": signer.key_id, "public_key": layout.PUBLIC_KEY}

    _edit_manifest(signed.path, downgrade)
    _reseal(signed.path)
    error = _fails(signed.path)
    assert error.member == layout.MANIFEST
    assert "ECDSA_SHA_256" in str(error)


def test_embedded_public_key_that_is_not_a_key_is_named(signed: PackInfo) -> None:
    (signed.path / layout.PUBLIC_KEY).write_bytes(b"-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
    _reseal(signed.path)
    signed.zip_path.unlink()
    assert _fails(signed.path).member == layout.PUBLIC_KEY


# --- the folder's zip ----------------------------------------------------------------------------------------


def test_zip_whose_entry_differs_from_the_folder_is_refused(unsigned: PackInfo) -> None:
    _rezip(unsigned.zip_path, unsigned.zip_path, lambda name, data: data + b"x" if name == layout.INDEX else data)
    error = _fails(unsigned.path)
    assert error.member == layout.ZIP
    assert layout.INDEX in str(error)


def test_zip_missing_an_entry_of_the_folder_is_refused(unsigned: PackInfo) -> None:
    _rezip(unsigned.zip_path, unsigned.zip_path, lambda name, data: None if name == layout.METRICS else data)
    error = _fails(unsigned.path)
    assert error.member == layout.ZIP
    assert layout.METRICS in str(error)


def test_zip_with_an_entry_the_folder_lacks_is_refused(unsigned: PackInfo) -> None:
    with zipfile.ZipFile(unsigned.zip_path, "a") as archive:
        archive.writestr("notes.html", b"<html></html>")
    error = _fails(unsigned.path)
    assert error.member == layout.ZIP
    assert "notes.html" in str(error)


def test_zip_mode_report_counts_entries(signed: PackInfo) -> None:
    with zipfile.ZipFile(signed.zip_path) as archive:
        entries = len(archive.infolist())
    assert verify_pack(signed.zip_path).members_checked == entries == len(os.listdir(signed.path)) - 1


def _data_regions(zip_path: Path) -> list[tuple[int, int]]:
    with zipfile.ZipFile(zip_path) as archive:
        infos = archive.infolist()
    return [
        (
            info.header_offset + 30 + len(info.filename),
            info.header_offset + 30 + len(info.filename) + info.compress_size,
        )
        for info in infos
    ]


def test_every_header_byte_and_every_stream_boundary_of_the_zip_is_checked(signed: PackInfo, tmp_path: Path) -> None:
    """zipfile ignores most local-header fields and never checks that a deflate stream ends: verify must.

    Bytes in the middle of compressed data are covered by the CRC (see the per-entry test); a change there
    that decodes to the very same content (an equivalent deflate encoding) is undetectable by design.
    """
    raw = signed.zip_path.read_bytes()
    regions = _data_regions(signed.zip_path)
    inside = {offset for start, end in regions for offset in range(start + 1, end - 1)}
    target = tmp_path / "damaged" / layout.ZIP
    target.parent.mkdir()
    survivors = []
    for offset in range(len(raw)):
        if offset in inside:
            continue
        damaged = bytearray(raw)
        damaged[offset] ^= 0x01
        target.write_bytes(bytes(damaged))
        try:
            verify_pack(target)
        except PackVerificationError:
            continue
        survivors.append(offset)
    assert survivors == []


def test_deflate_stream_ending_early_is_refused(unsigned: PackInfo) -> None:
    """Flipping BFINAL in the first byte keeps the CRC right but leaves the stream unterminated."""
    start, _end = _data_regions(unsigned.zip_path)[0]
    _flip(unsigned.zip_path, start)
    error = _fails(unsigned.zip_path)
    assert error.member == layout.CHECKSUMS
    assert "deflate stream" in str(error)


def test_a_decoys_v1_pack_still_verifies() -> None:
    """A pack written by the decoys.v1 engine (hetero_summary.v1 columns) verifies unchanged under decoys.v2."""
    v1_zip = Path(__file__).resolve().parents[1] / "data" / "packs" / "decoys_v1_pack.zip"
    with zipfile.ZipFile(v1_zip) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        header = archive.read("summary.csv").decode("utf-8").splitlines()[0]
    assert manifest["contracts"]["decoys"] == "decoys.v1"
    assert "decoy_rejections" not in header
    report = verify_pack(v1_zip)
    assert report.signature_checked_with == "unsigned"


def test_a_v1_manifest_pack_keeps_whole_member_checks(tmp_path: Path) -> None:
    """hetero_manifest.v1 (one sha256 per member, CSV members in checksums.sha256): a damaged summary.csv is still
    caught by its checksums line, as before v2."""
    v1_zip = Path(__file__).resolve().parents[1] / "data" / "packs" / "decoys_v1_pack.zip"
    folder = tmp_path / "v1"
    with zipfile.ZipFile(v1_zip) as archive:
        assert json.loads(archive.read(layout.MANIFEST))["schema_version"] == "hetero_manifest.v1"
        archive.extractall(folder)
    assert verify_pack(folder).members_checked == 7
    _flip(folder / layout.SUMMARY)
    error = _fails(folder)
    assert error.member == layout.SUMMARY
    assert "sha256 mismatch" in str(error)
