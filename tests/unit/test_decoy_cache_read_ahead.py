"""Read-ahead for a store whose reads are round trips: the next rows' entries are read at once, and nothing a row
shows changes — the same results, the same cache event per row, one read per looked-up row, a failed or damaged
read costing only its own row's cache, the same time limit per row. A folder store reads nothing ahead."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import pytest

from hetero_core.cache import (
    CachedDecoys,
    DecoyCache,
    FolderStore,
    PendingRead,
    decoy_cache_key,
    read_ahead,
)
from hetero_core.chunks import _process, process_rows
from hetero_core.config import RunConfig
from hetero_core.decoys import molecule_seed
from hetero_core.molecules import CanonicalMolecule, canonical_molecule
from hetero_core.records import InputRow
from hetero_core.scores import CallableScorer, Scorer, make_scorer

if TYPE_CHECKING:
    from pathlib import Path

DRUGS = [
    "CC(=O)Oc1ccccc1C(=O)O",  # aspirin
    "CC(C)Cc1ccc(cc1)C(C)C(=O)O",  # ibuprofen
    "CC(=O)Nc1ccc(O)cc1",  # paracetamol
    "Cn1cnc2c1c(=O)n(C)c(=O)n2C",  # caffeine
    "COc1ccc2cc(ccc2c1)C(C)C(=O)O",  # naproxen
    "OC(=O)Cc1ccccc1Nc1c(Cl)cccc1Cl",  # diclofenac
    "CN1CCC[C@H]1c1cccnc1",  # nicotine
    "CC(C)NCC(O)COc1cccc2ccccc12",  # propranolol
    "not a molecule",
    "CN(C)C(=N)NC(=N)N",  # metformin
    "NC(=O)c1ccccc1O",  # salicylamide
    "O=C(O)c1ccccc1O",  # salicylic acid
]
CONFIG = RunConfig(k_decoys=4, decoy_descriptors="fast")


def _rows(smiles: list[str]) -> list[InputRow]:
    return [InputRow(index=i + 1, line=i + 2, id=f"m{i}", smiles=s) for i, s in enumerate(smiles)]


class _Remote(FolderStore):
    """A folder standing in for S3: misses are requests, each read takes a little while and may run on a
    read-ahead thread, every read is recorded, and reads of ``failing`` keys fail as a network would."""

    cheap_misses = False

    def __init__(self, root: Path, read_ahead: int = 4, failing: frozenset[str] = frozenset()) -> None:
        super().__init__(root)
        self.read_ahead = read_ahead
        self.failing = failing
        self.reads: list[str] = []
        self.most_at_once = 0
        self._at_once = 0
        self._lock = threading.Lock()

    def read(self, key: str) -> bytes | None:
        with self._lock:
            self.reads.append(key)
            self._at_once += 1
            self.most_at_once = max(self.most_at_once, self._at_once)
        try:
            time.sleep(0.005)
            if key in self.failing:
                raise OSError("connection reset")
            return super().read(key)
        finally:
            with self._lock:
                self._at_once -= 1


def _lengths(smiles: list[str]) -> list[float]:
    return [float(len(s)) for s in smiles]


SCORERS = {"random": lambda: make_scorer("random"), "batched": lambda: CallableScorer(_lengths, batch_size=7)}


def _run(rows: list[InputRow], scorer: Scorer | None, cache: DecoyCache | None) -> list[dict[str, Any]]:
    return [r.to_dict() for r in process_rows(rows, CONFIG, scorer, cache)]


def _without_event(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "decoy_cache": ""} for r in results]


def _key(smiles: str) -> str:
    canonical = canonical_molecule(smiles)
    assert isinstance(canonical, CanonicalMolecule)
    text = canonical.canonical_smiles
    return decoy_cache_key(
        text, molecule_seed(CONFIG.seed, seed_by="smiles", canonical_smiles=text, molecule_id=""), CONFIG
    )


@pytest.mark.parametrize("scorer", SCORERS)
def test_a_warm_chunk_reads_its_entries_at_once_and_each_once(tmp_path: Path, scorer: str) -> None:
    rows = _rows(DRUGS)
    plain = _run(rows, SCORERS[scorer](), None)
    cold = _run(rows, SCORERS[scorer](), DecoyCache(FolderStore(tmp_path)))
    remote = _Remote(tmp_path)
    warm = _run(rows, SCORERS[scorer](), DecoyCache(remote))
    assert [r["decoy_cache"] for r in warm] == ["" if r["status"] == "SKIP" else "hit" for r in warm]
    assert _without_event(warm) == _without_event(cold) == _without_event(plain)
    assert remote.reads == [_key(s) for s in DRUGS if s != "not a molecule"], "one read a row, in row order"
    assert remote.most_at_once > 1, "the reads overlapped"


def test_a_cold_chunk_counts_as_without_read_ahead_and_the_same_molecule_twice_hits_once_stored(
    tmp_path: Path,
) -> None:
    """The second aspirin is read after the first has stored its entry (as row by row), not guessed at once."""
    smiles = [DRUGS[0], DRUGS[1], DRUGS[0], DRUGS[2], DRUGS[0]]
    counts: dict[int, tuple[list[str], int]] = {}
    for threads in (0, 2):
        remote = _Remote(tmp_path / str(threads), read_ahead=threads)
        results = [
            r.decoy_cache for r in process_rows(_rows(smiles), CONFIG, make_scorer("random"), DecoyCache(remote))
        ]
        counts[threads] = (results, len(remote.reads))
    assert counts[2] == counts[0] == (["miss", "miss", "hit", "miss", "hit"], 5)


def test_a_failed_read_costs_that_rows_cache_only(tmp_path: Path) -> None:
    rows = _rows(DRUGS)
    cold = _run(rows, make_scorer("random"), DecoyCache(FolderStore(tmp_path)))
    failing = frozenset({_key(DRUGS[1]), _key(DRUGS[5])})
    warm = _run(rows, make_scorer("random"), DecoyCache(_Remote(tmp_path, failing=failing)))
    events = [r["decoy_cache"] for r in warm]
    assert [i for i, event in enumerate(events) if event == "unwritable"] == [1, 5]
    assert events.count("hit") == len(DRUGS) - 3  # the invalid row is looked up nowhere
    assert _without_event(warm) == _without_event(cold)


def test_a_damaged_entry_read_ahead_is_rebuilt_and_overwritten(tmp_path: Path) -> None:
    rows = _rows(DRUGS)
    store = FolderStore(tmp_path)
    cold = _run(rows, make_scorer("random"), DecoyCache(store))
    damaged = store._path(_key(DRUGS[3]))
    damaged.write_bytes(damaged.read_bytes()[:-10])
    warm = _run(rows, make_scorer("random"), DecoyCache(_Remote(tmp_path)))
    assert [r["decoy_cache"] for r in warm].count("corrupt") == 1
    assert warm[3]["decoy_cache"] == "corrupt"
    assert _without_event(warm) == _without_event(cold)
    again = _run(rows, make_scorer("random"), DecoyCache(_Remote(tmp_path)))
    assert again[3]["decoy_cache"] == "hit"


def test_a_row_read_ahead_keeps_one_time_limit_for_both_halves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Canonicalising ahead (0.3 s) and building decoys later (0.3 s) spend one limit of 0.5 s: the row times out,
    as it does when both halves run in one step. The rows around it are untouched."""
    real_canonical, real_made = canonical_molecule, _process._made_decoys

    def slow_canonical(smiles: str, guardrails: Any = None) -> Any:
        if smiles == DRUGS[2]:
            time.sleep(0.3)
        return real_canonical(smiles, guardrails)

    def slow_made(canonical: CanonicalMolecule, seed: int, config: RunConfig, *, for_cache: bool) -> CachedDecoys:
        if canonical.canonical_smiles == "CC(=O)Nc1ccc(O)cc1":
            time.sleep(0.3)
        return real_made(canonical, seed, config, for_cache=for_cache)

    monkeypatch.setattr(_process, "canonical_molecule", slow_canonical)
    monkeypatch.setattr(_process, "_made_decoys", slow_made)
    config = RunConfig(k_decoys=4, decoy_descriptors="fast", timeout_s=0.5)
    for threads in (0, 2):
        store = _Remote(tmp_path / str(threads), read_ahead=threads)
        results = list(process_rows(_rows(DRUGS[:4]), config, make_scorer("random"), DecoyCache(store)))
        assert [(r.status, r.reason) for r in results] == [("OK", ""), ("OK", ""), ("ERROR", "timeout"), ("OK", "")]


def test_a_folder_store_reads_nothing_ahead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: object) -> None:
        raise AssertionError("a folder store must be read row by row")

    monkeypatch.setattr(_process, "read_ahead", refused)
    assert FolderStore.read_ahead == 0
    results = _run(_rows(DRUGS[:3]), make_scorer("random"), DecoyCache(FolderStore(tmp_path)))
    assert [r["decoy_cache"] for r in results] == ["miss"] * 3


def test_read_ahead_hands_each_item_its_own_read_in_order_and_a_key_waiting_in_the_window_none(tmp_path: Path) -> None:
    store = _Remote(tmp_path, read_ahead=2)
    FolderStore(tmp_path).write("a" * 64, b"entry a")
    keyed: list[tuple[int, str | None]] = [(0, "a" * 64), (1, None), (2, "b" * 64), (3, "a" * 64)]
    out = list(read_ahead(store, keyed))
    assert [item for item, _ in out] == [0, 1, 2, 3]
    reads = [read for _, read in out]
    assert isinstance(reads[0], PendingRead)
    assert isinstance(reads[2], PendingRead)
    assert (reads[0].result(), reads[1], reads[2].result(), reads[3]) == (b"entry a", None, None, None)
    assert store.reads == ["a" * 64, "b" * 64]
