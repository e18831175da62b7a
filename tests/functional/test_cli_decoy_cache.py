"""``hetero2 run`` with the decoy cache: the pack is byte-identical cold, warm, without the cache and on one or two
workers; what the cache did is printed and written beside the pack (``PACK.run.json``), never inside it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from hetero_core.cli import run_statistics_path

if TYPE_CHECKING:
    from pathlib import Path

    from tests.functional.conftest import Cli, CliResult, PinCommit, Snapshot

K = 8


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "decoy-cache"


def _run(cli: Cli, source: Path, out: Path, *options: str | Path, workers: int = 1) -> CliResult:
    result = cli.run(source, out, "--scorer", "mock", *options, k=K, workers=workers)
    assert result.code == 0, result.err
    return result


def _counts(out: Path) -> dict[str, Any]:
    facts: dict[str, Any] = json.loads(run_statistics_path(out).read_text(encoding="utf-8"))["decoy_cache"]
    return facts


def _entries(cache_dir: Path) -> list[Path]:
    return sorted(cache_dir.glob("??/*.entry"))


def test_the_pack_is_byte_identical_cold_warm_uncached_and_on_any_worker_count(
    cli: Cli, real_set_csv: Path, tmp_path: Path, cache_dir: Path, snapshot: Snapshot, pin_commit: PinCommit
) -> None:
    pin_commit("0" * 40)
    cached = ("--cache-dir", cache_dir)
    _run(cli, real_set_csv, tmp_path / "cold", *cached, workers=2)
    _run(cli, real_set_csv, tmp_path / "warm", *cached, workers=2)
    _run(cli, real_set_csv, tmp_path / "warm1", *cached, workers=1)
    _run(cli, real_set_csv, tmp_path / "plain1", "--no-cache", workers=1)
    _run(cli, real_set_csv, tmp_path / "plain2", "--no-cache", workers=2)

    reference = snapshot(tmp_path / "plain1")
    assert "evidence_pack.zip" in reference
    for name in ("cold", "warm", "warm1", "plain2"):
        assert snapshot(tmp_path / name) == reference, name
    cold, warm, warm1 = (_counts(tmp_path / name) for name in ("cold", "warm", "warm1"))
    assert cold["misses"] >= 55  # every molecule but repeats within the set (a repeat is a hit already)
    assert warm["hits"] == warm1["hits"] == cold["hits"] + cold["misses"]
    assert warm["misses"] == warm1["misses"] == warm["corrupt"] == 0
    assert _counts(tmp_path / "plain1") == {"enabled": False}


def test_hits_and_misses_are_printed_and_written_beside_the_pack(
    cli: Cli, drugs_csv: Path, tmp_path: Path, cache_dir: Path
) -> None:
    cold = _run(cli, drugs_csv, tmp_path / "cold", "--cache-dir", cache_dir)
    assert "decoy cache: 0 hits, 5 misses, 0 corrupt entries rebuilt" in cold.err
    warm = _run(cli, drugs_csv, tmp_path / "warm", "--cache-dir", cache_dir)
    assert "decoy cache: 5 hits, 0 misses, 0 corrupt entries rebuilt" in warm.err
    stats = json.loads(run_statistics_path(tmp_path / "warm").read_text(encoding="utf-8"))
    assert stats["rows"] == 5
    assert stats["decoy_cache"] == {
        "enabled": True,
        "dir": str(cache_dir),
        "hits": 5,
        "misses": 0,
        "corrupt": 0,
        "unwritable": 0,
    }
    assert not (tmp_path / "warm" / run_statistics_path(tmp_path / "warm").name).exists()
    assert "cache" not in (tmp_path / "warm" / "metrics.json").read_text(encoding="utf-8")


def test_corrupt_and_truncated_entries_are_rebuilt_and_counted(
    cli: Cli, drugs_csv: Path, tmp_path: Path, cache_dir: Path, snapshot: Snapshot
) -> None:
    _run(cli, drugs_csv, tmp_path / "cold", "--cache-dir", cache_dir)
    entries = _entries(cache_dir)
    assert len(entries) == 5
    truncated, flipped = entries[0], entries[1]
    truncated.write_bytes(truncated.read_bytes()[:-40])
    damaged = bytearray(flipped.read_bytes())
    damaged[len(damaged) // 2] ^= 0x20
    flipped.write_bytes(bytes(damaged))

    again = _run(cli, drugs_csv, tmp_path / "again", "--cache-dir", cache_dir)
    assert "3 hits, 0 misses, 2 corrupt entries rebuilt" in again.err
    assert _counts(tmp_path / "again")["corrupt"] == 2
    assert snapshot(tmp_path / "again") == snapshot(tmp_path / "cold")
    healed = _run(cli, drugs_csv, tmp_path / "healed", "--cache-dir", cache_dir)
    assert "5 hits, 0 misses, 0 corrupt" in healed.err


def test_no_cache_reads_and_writes_nothing(cli: Cli, drugs_csv: Path, tmp_path: Path, cache_dir: Path) -> None:
    result = _run(cli, drugs_csv, tmp_path / "pack", "--no-cache")
    assert "decoy cache: off (--no-cache)" in result.err
    assert not cache_dir.exists()
    both = cli.run(drugs_csv, tmp_path / "both", "--no-cache", "--cache-dir", cache_dir)
    assert both.code == 2
    assert "contradict" in both.err


def test_the_default_folder_is_the_user_cache(
    cli: Cli, drugs_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HETERO2_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    _run(cli, drugs_csv, tmp_path / "pack")
    assert len(_entries(tmp_path / "xdg" / "hetero2" / "decoys")) == 5


def test_cache_info_and_clear(cli: Cli, drugs_csv: Path, tmp_path: Path, cache_dir: Path) -> None:
    _run(cli, drugs_csv, tmp_path / "pack", "--cache-dir", cache_dir)
    info = cli("cache", "info", "--cache-dir", cache_dir)
    assert info.code == 0
    assert f"decoy cache {cache_dir} holds 5 entries" in info.out
    cleared = cli("cache", "clear", "--cache-dir", cache_dir)
    assert f"decoy cache {cache_dir} removed 5 entries" in cleared.out
    assert _entries(cache_dir) == []
    assert "holds 0 entries" in cli("cache", "info", "--cache-dir", cache_dir).out


def test_the_decoys_table_uses_the_cache_too(cli: Cli, drugs_csv: Path, tmp_path: Path, cache_dir: Path) -> None:
    options = ("--k-decoys", str(K), "--workers", "1", "--quiet", "--cache-dir", cache_dir)
    cold = cli("decoys", drugs_csv, "--out", tmp_path / "cold.csv", *options)
    warm = cli("decoys", drugs_csv, "--out", tmp_path / "warm.csv", *options)
    assert "decoy cache: 0 hits, 5 misses" in cold.out
    assert "decoy cache: 5 hits, 0 misses" in warm.out
    assert (tmp_path / "warm.csv").read_bytes() == (tmp_path / "cold.csv").read_bytes()
