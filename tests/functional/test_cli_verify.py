"""``hetero2 verify``: an intact pack passes, a changed byte fails naming the member, signatures need the right key."""

from __future__ import annotations

import shutil
import stat
from typing import TYPE_CHECKING

import pytest

from hetero_core.cli import main
from hetero_core.layout import REQUIRED_MEMBERS, ZIP

if TYPE_CHECKING:
    from pathlib import Path

    from tests.functional.conftest import Cli

UNSIGNED_MEMBERS = (*REQUIRED_MEMBERS, ZIP)
SIGNATURE_MEMBERS = ("manifest.sig", "signing_public_key.pem")


def _run(source: Path, out: Path, *options: str) -> None:
    fixed = ["--scorer", "mock", "--k-decoys", "5", "--workers", "1", "--quiet", "--created-at", "2026-01-01T00:00:00Z"]
    code = main(["run", str(source), "--out", str(out), *fixed, *options])
    assert code == 0


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The publisher's key pair made with ``hetero2 keygen``: (private, public)."""
    private = tmp_path_factory.mktemp("keys") / "publisher.pem"
    assert main(["keygen", "--out", str(private)]) == 0
    return private, private.with_name("publisher.pub.pem")


@pytest.fixture(scope="module")
def unsigned_pack(module_drugs_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("unsigned") / "pack"
    _run(module_drugs_csv, out)
    return out


@pytest.fixture(scope="module")
def signed_pack(module_drugs_csv: Path, keys: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("signed") / "pack"
    _run(module_drugs_csv, out, "--sign-key", str(keys[0]))
    return out


def _flip_middle_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_fresh_pack_folder_verifies(cli: Cli, unsigned_pack: Path) -> None:
    result = cli("verify", unsigned_pack)
    assert result.code == 0
    assert result.out.startswith("verify: OK")


def test_fresh_pack_zip_verifies(cli: Cli, unsigned_pack: Path) -> None:
    result = cli("verify", unsigned_pack / "evidence_pack.zip")
    assert result.code == 0
    assert result.out.startswith("verify: OK")


@pytest.mark.parametrize("member", UNSIGNED_MEMBERS)
def test_one_flipped_byte_fails_verification_naming_the_member(
    cli: Cli, unsigned_pack: Path, tmp_path: Path, member: str
) -> None:
    pack = shutil.copytree(unsigned_pack, tmp_path / "pack")
    _flip_middle_byte(pack / member)

    result = cli("verify", pack)
    assert result.code == 1
    assert member in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize("member", SIGNATURE_MEMBERS)
def test_one_flipped_byte_in_the_signature_pair_fails_verification(
    cli: Cli, signed_pack: Path, keys: tuple[Path, Path], tmp_path: Path, member: str
) -> None:
    pack = shutil.copytree(signed_pack, tmp_path / "pack")
    _flip_middle_byte(pack / member)

    result = cli("verify", pack, "--public-key", keys[1])
    assert result.code == 1
    assert member in result.err


@pytest.mark.parametrize("member", UNSIGNED_MEMBERS[:-1])
def test_missing_member_fails_verification_naming_it(
    cli: Cli, unsigned_pack: Path, tmp_path: Path, member: str
) -> None:
    pack = shutil.copytree(unsigned_pack, tmp_path / "pack")
    (pack / member).unlink()

    result = cli("verify", pack)
    assert result.code == 1
    assert member in result.err


def test_file_slipped_into_a_pack_fails_verification_naming_it(cli: Cli, unsigned_pack: Path, tmp_path: Path) -> None:
    pack = shutil.copytree(unsigned_pack, tmp_path / "pack")
    (pack / "run_me.sh").write_text("#!/bin/sh\n", encoding="utf-8")

    result = cli("verify", pack)
    assert result.code == 1
    assert "run_me.sh" in result.err


def test_flipped_byte_inside_the_zip_fails_zip_verification(cli: Cli, unsigned_pack: Path, tmp_path: Path) -> None:
    archive = tmp_path / "evidence_pack.zip"
    shutil.copyfile(unsigned_pack / "evidence_pack.zip", archive)
    _flip_middle_byte(archive)

    assert cli("verify", archive).code == 1


def test_signed_pack_verifies_with_the_publishers_public_key(
    cli: Cli, signed_pack: Path, keys: tuple[Path, Path]
) -> None:
    assert {"manifest.sig", "signing_public_key.pem"} <= {path.name for path in signed_pack.iterdir()}
    folder = cli("verify", signed_pack, "--public-key", keys[1])
    assert folder.code == 0
    assert "public key given" in folder.out
    assert cli("verify", signed_pack / "evidence_pack.zip", "--public-key", keys[1]).code == 0


def test_signed_pack_fails_with_another_keys_public_key(cli: Cli, signed_pack: Path, tmp_path: Path) -> None:
    assert cli("keygen", "--out", tmp_path / "stranger.pem").code == 0

    result = cli("verify", signed_pack, "--public-key", tmp_path / "stranger.pub.pem")
    assert result.code == 1
    assert "manifest.sig" in result.err


def test_unsigned_pack_fails_when_a_public_key_is_required(
    cli: Cli, unsigned_pack: Path, keys: tuple[Path, Path]
) -> None:
    result = cli("verify", unsigned_pack, "--public-key", keys[1])
    assert result.code == 1
    assert "not signed" in result.err


def test_keygen_writes_a_private_key_only_its_owner_can_read(cli: Cli, tmp_path: Path) -> None:
    result = cli("keygen", "--out", tmp_path / "key.pem")

    assert result.code == 0
    assert stat.S_IMODE((tmp_path / "key.pem").stat().st_mode) == 0o600
    assert (tmp_path / "key.pub.pem").read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert b"PRIVATE KEY" not in (tmp_path / "key.pub.pem").read_bytes()


def test_keygen_refuses_to_overwrite_a_key(cli: Cli, tmp_path: Path) -> None:
    assert cli("keygen", "--out", tmp_path / "key.pem").code == 0
    before = (tmp_path / "key.pem").read_bytes()

    result = cli("keygen", "--out", tmp_path / "key.pem")
    assert result.code == 2
    assert str(tmp_path / "key.pem") in result.err
    assert (tmp_path / "key.pem").read_bytes() == before


def test_verify_of_a_path_that_does_not_exist_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    result = cli("verify", tmp_path / "no-such-pack")
    assert result.code == 2
    assert "no such pack" in result.err
