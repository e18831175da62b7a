"""``hetero2 reproduce``: a signed pack of real molecules re-runs from its manifest to the same bytes, and every
way it can fail names what failed: the input's hash, a broken signature, a version drift, the differing member."""

from __future__ import annotations

import json
import zipfile
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path

    from tests.functional.conftest import Cli, PinCommit, WriteTable

K = 5


@pytest.fixture
def pinned_commit(pin_commit: PinCommit) -> None:
    pin_commit("commit-a")


@pytest.fixture
def signed_pack(cli: Cli, real_set_csv: Path, tmp_path: Path, pinned_commit: None) -> tuple[Path, Path]:
    assert cli("keygen", "--out", tmp_path / "key.pem").code == 0
    pack = tmp_path / "pack"
    result = cli.run(
        real_set_csv, pack, "--scorer", "sa", "--sign-key", tmp_path / "key.pem", "--model-name", "SA", k=K
    )
    assert result.code == 0, result.err
    return pack, tmp_path / "key.pub.pem"


def test_a_signed_pack_of_real_molecules_is_reproduced(
    cli: Cli, signed_pack: tuple[Path, Path], real_set_csv: Path
) -> None:
    pack, public_key = signed_pack
    result = cli("reproduce", pack, "--input", real_set_csv, "--public-key", public_key, "--workers", "1")
    assert result.code == 0, result.err
    assert result.out == f"reproduce: REPRODUCED: {pack}: 6 members identical\n"
    zipped = cli("reproduce", pack / "evidence_pack.zip", "--input", real_set_csv, "--workers", "1")
    assert zipped.code == 0, zipped.err


def test_one_changed_byte_of_the_input_is_named_by_its_hash(
    cli: Cli, signed_pack: tuple[Path, Path], real_set_csv: Path, tmp_path: Path
) -> None:
    pack, _ = signed_pack
    changed = tmp_path / real_set_csv.name
    data = bytearray(real_set_csv.read_bytes())
    data[-2] = ord("N") if data[-2] != ord("N") else ord("C")
    changed.write_bytes(bytes(data))
    result = cli("reproduce", pack, "--input", changed, "--workers", "1")
    assert result.code == 2
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    assert "is not the molecules file the pack was made from" in result.err
    assert manifest["inputs"][0]["sha256"] in result.err


def test_an_edited_manifest_is_refused_with_the_verify_failure(
    cli: Cli, signed_pack: tuple[Path, Path], real_set_csv: Path
) -> None:
    pack, public_key = signed_pack
    manifest_path = pack / "manifest.json"
    manifest_path.write_text(
        manifest_path.read_text(encoding="utf-8").replace('"k_decoys": 5', '"k_decoys": 6'), encoding="utf-8"
    )
    result = cli("reproduce", pack, "--input", real_set_csv, "--public-key", public_key, "--workers", "1")
    assert result.code == 1
    assert result.err.startswith("verify: FAILED: ")
    assert "REPRODUCED" not in result.out


def test_a_version_drift_is_named_and_only_allowed_on_request(
    cli: Cli, signed_pack: tuple[Path, Path], real_set_csv: Path, pin_commit: PinCommit
) -> None:
    pack, _ = signed_pack
    pin_commit("commit-b")
    refused = cli("reproduce", pack, "--input", real_set_csv, "--workers", "1")
    assert refused.code == 2
    assert "version drift: engine git_commit commit-a in the pack, commit-b here" in refused.err
    assert "--allow-version-drift" in refused.err

    allowed = cli("reproduce", pack, "--input", real_set_csv, "--workers", "1", "--allow-version-drift")
    assert allowed.code == 1
    assert "version drift allowed: engine git_commit commit-a in the pack, commit-b here" in allowed.err
    assert allowed.out.startswith(
        "reproduce: DIFFERS: index.md: line 5: 'Created 2026-01-01T00:00:00Z by hetero2 0.1.0 (commit commit-a)"
    )


def test_a_scores_pack_needs_its_scores_file_and_reproduces_with_it(
    cli: Cli, tmp_path: Path, write_table: WriteTable, drugs_csv: Path
) -> None:
    assert cli("decoys", drugs_csv, "--out", tmp_path / "decoys.csv", "--k-decoys", "4", "--quiet").code == 0
    lines = (tmp_path / "decoys.csv").read_text(encoding="utf-8").splitlines()
    scored = [lines[0] + ",score"] + [f"{line},{0.9 if ',original,' in line else 0.1}" for line in lines[1:]]
    scores = tmp_path / "scores.csv"
    scores.write_text("\n".join(scored) + "\n", encoding="utf-8")
    pack = tmp_path / "pack"
    assert cli.run(drugs_csv, pack, "--scores", scores, k=4).code == 0

    missing = cli("reproduce", pack, "--input", drugs_csv, "--workers", "1")
    assert missing.code == 2
    assert "give it with --scores" in missing.err
    done = cli("reproduce", pack, "--input", drugs_csv, "--scores", scores, "--workers", "1")
    assert done.code == 0, done.err
    assert "REPRODUCED" in done.out


def test_a_missing_pack_is_a_usage_error(cli: Cli, tmp_path: Path, drugs_csv: Path) -> None:
    result = cli("reproduce", tmp_path / "nope", "--input", drugs_csv)
    assert result.code == 2
    assert "no such pack folder or zip" in result.err


def test_a_zip_member_read_back_is_the_folder_member(signed_pack: tuple[Path, Path]) -> None:
    pack, _ = signed_pack
    with zipfile.ZipFile(pack / "evidence_pack.zip") as archive:
        assert archive.read("manifest.json") == (pack / "manifest.json").read_bytes()


def test_a_json_member_difference_is_named_by_its_key_path() -> None:
    from hetero_core.pipeline._reproduce import _first_difference  # noqa: PLC0415

    old = json.dumps({"decision": {"outcome": "GO"}, "n": [1, 2]}).encode()
    new = json.dumps({"decision": {"outcome": "STOP"}, "n": [1, 2]}).encode()
    assert _first_difference("metrics.json", old, new) == 'at decision.outcome: "GO" in the pack, "STOP" re-run'
    longer = json.dumps({"n": [1, 2, 3]}).encode()
    assert _first_difference("metrics.json", json.dumps({"n": [1, 2]}).encode(), longer) == "at n (length 2 vs 3)"
    assert _first_difference("summary.csv", b"a\nb\n", b"a\nc\n") == "line 2: 'b' in the pack, 'c' re-run"
