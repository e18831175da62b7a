"""The decoy cache: one key that every decoy parameter changes, entries that are checked before they are trusted,
a folder store that survives concurrent writers, and the counts of what the cache did."""

from __future__ import annotations

import dataclasses
import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from hetero_core.cache import (
    CACHE_DIR_ENV,
    AsWritten,
    CachedDecoy,
    CachedDecoys,
    CacheEvent,
    CacheStats,
    CorruptEntryError,
    DecoyCache,
    DecoyRecipe,
    FolderStore,
    decode_entry,
    decoy_cache_key,
    default_cache_dir,
    encode_entry,
)
from hetero_core.chunks import _process, process_rows, stream_results
from hetero_core.config import RunConfig
from hetero_core.decoys import molecule_seed
from hetero_core.molecules import CanonicalMolecule, PreparedMolecule, Rejection, canonical_molecule
from hetero_core.reasons import SkipReason
from hetero_core.records import InputRow
from hetero_core.scores import make_scorer

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
KEY = "ab" + "0" * 62
ENTRY = CachedDecoys(
    decoys=(CachedDecoy("CC(=O)OC(=O)c1ccccc1O", "f" * 64, 0.1 + 0.2), CachedDecoy("C", "e" * 64, 1 / 3)),
    rejections={"new_n_n_single": 3},
    columns={"n_decoys": 2, "mw": 180.15899999999996, "decoy_strategy": "strict", "tanimoto_min": None},
)


# --- the key ---------------------------------------------------------------------------------------------------


def _changed(value: Any) -> Any:
    """A different value of the same kind, for any field of the recipe."""
    if isinstance(value, bool) or value is None:
        return (0.6, 0.9)
    if isinstance(value, int):
        return value + 1
    if isinstance(value, tuple):
        return (value[0], value[1] - 0.01)
    return value + "x"


def _recipe() -> DecoyRecipe:
    return DecoyRecipe.of(ASPIRIN, 1234, RunConfig(hard_mode=True))


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(DecoyRecipe)])
def test_every_field_of_the_recipe_changes_the_key(name: str) -> None:
    recipe = _recipe()
    other = dataclasses.replace(recipe, **{name: _changed(getattr(recipe, name))})
    assert other.key() != recipe.key()


def test_a_recipe_without_hard_mode_has_another_key_than_with_it() -> None:
    assert dataclasses.replace(_recipe(), hard_mode=None).key() != _recipe().key()


@pytest.mark.parametrize(
    "change",
    [
        {"k_decoys": 21},
        {"seed": 1},
        {"seed_by": "id"},
        {"hard_mode": True},
        {"decoy_filter": "none"},
        {"decoy_filter": "strict"},
        {"max_rung": "relax_aromatic"},
        {"decoy_descriptors": "fast"},
    ],
)
def test_every_decoy_parameter_of_a_run_changes_the_key(change: dict[str, Any]) -> None:
    base = RunConfig()
    assert decoy_cache_key(ASPIRIN, 7, RunConfig(**change)) != decoy_cache_key(ASPIRIN, 7, base)


@pytest.mark.parametrize("change", [{"hard_min_similarity": 0.6}, {"hard_max_similarity": 0.9}])
def test_hard_mode_bounds_change_the_key(change: dict[str, Any]) -> None:
    base = RunConfig(hard_mode=True)
    assert decoy_cache_key(ASPIRIN, 7, RunConfig(hard_mode=True, **change)) != decoy_cache_key(ASPIRIN, 7, base)


def test_the_molecule_and_its_seed_change_the_key() -> None:
    base = decoy_cache_key(ASPIRIN, 7, RunConfig())
    assert decoy_cache_key("CCO", 7, RunConfig()) != base
    assert decoy_cache_key(ASPIRIN, 8, RunConfig()) != base


@pytest.mark.parametrize(
    "change",
    [
        {"q": 0.9},
        {"margin": 0.1},
        {"score_direction": "lower"},
        {"timeout_s": 5.0},
        {"min_score_coverage": 0.5},
        {"max_heavy_atoms": 50},
        {"standardize": True},
    ],
)
def test_audit_only_parameters_share_the_decoys(change: dict[str, Any]) -> None:
    """A re-audit with other audit settings (or a new model) finds the decoys it made before."""
    assert decoy_cache_key(ASPIRIN, 7, RunConfig(**change)) == decoy_cache_key(ASPIRIN, 7, RunConfig())


def test_hard_mode_bounds_do_not_matter_when_hard_mode_is_off() -> None:
    off = RunConfig(hard_min_similarity=0.5)
    assert decoy_cache_key(ASPIRIN, 7, off) == decoy_cache_key(ASPIRIN, 7, RunConfig())


# --- entries -----------------------------------------------------------------------------------------------------


def test_an_entry_reads_back_exactly_floats_included() -> None:
    back = decode_entry(KEY, encode_entry(KEY, ENTRY))
    assert back == ENTRY
    assert back.decoys[0].similarity == 0.1 + 0.2  # shortest round-trip repr, not rounded


def _damaged() -> dict[str, bytes]:
    data = encode_entry(KEY, ENTRY)
    flipped = bytearray(data)
    flipped[-5] ^= 0x01
    return {
        "truncated": data[:-7],
        "cut in the header": data[:30],
        "a flipped byte": bytes(flipped),
        "empty": b"",
        "another format": data.replace(b"hetero2.decoy_cache.v1", b"hetero2.decoy_cache.v0", 1),
        "not text": b"\x00\xff" * 40,
    }


@pytest.mark.parametrize("damage", list(_damaged()))
def test_a_damaged_entry_is_never_trusted(damage: str) -> None:
    with pytest.raises(CorruptEntryError):
        decode_entry(KEY, _damaged()[damage])


def test_an_entry_stored_under_another_key_is_never_trusted() -> None:
    with pytest.raises(CorruptEntryError, match="another key"):
        decode_entry("cd" + "1" * 62, encode_entry(KEY, ENTRY))


# --- the cache in front of generation ------------------------------------------------------------------------------


class _Maker:
    """Counts how often decoys were really built."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> CachedDecoys:
        self.calls += 1
        return ENTRY


def test_a_miss_builds_and_stores_then_a_hit_builds_nothing(tmp_path: Path) -> None:
    cache, make = DecoyCache(FolderStore(tmp_path)), _Maker()
    assert cache.decoys(ASPIRIN, 7, RunConfig(), make) == (ENTRY, CacheEvent.MISS)
    assert cache.decoys(ASPIRIN, 7, RunConfig(), make) == (ENTRY, CacheEvent.HIT)
    assert make.calls == 1


@pytest.mark.parametrize("damage", ["truncated", "a flipped byte", "empty"])
def test_a_corrupt_entry_is_rebuilt_overwritten_and_counted(tmp_path: Path, damage: str) -> None:
    store, make = FolderStore(tmp_path), _Maker()
    cache = DecoyCache(store)
    key = decoy_cache_key(ASPIRIN, 7, RunConfig())
    store.write(key, _damaged()[damage])
    assert cache.decoys(ASPIRIN, 7, RunConfig(), make) == (ENTRY, CacheEvent.CORRUPT)
    assert make.calls == 1
    assert decode_entry(key, store.read(key) or b"") == ENTRY  # overwritten with a good entry
    assert cache.decoys(ASPIRIN, 7, RunConfig(), make) == (ENTRY, CacheEvent.HIT)


def test_a_cache_that_cannot_be_written_costs_the_cache_never_the_row(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")  # root ignores permissions; a file in the way does not
    cache, make = DecoyCache(FolderStore(blocked)), _Maker()
    assert cache.decoys(ASPIRIN, 7, RunConfig(), make) == (ENTRY, CacheEvent.UNWRITABLE)


def test_a_cache_that_cannot_be_read_costs_the_cache_never_the_row(tmp_path: Path) -> None:
    store = FolderStore(tmp_path)
    key = decoy_cache_key(ASPIRIN, 7, RunConfig())
    (tmp_path / key[:2] / f"{key}.entry").mkdir(parents=True)  # reading a folder raises IsADirectoryError
    assert DecoyCache(store).decoys(ASPIRIN, 7, RunConfig(), _Maker()) == (ENTRY, CacheEvent.UNWRITABLE)


def test_stats_count_each_event_and_ignore_rows_without_a_cache() -> None:
    events = ["hit", "hit", "miss", "corrupt", "unwritable", ""]
    assert CacheStats.of(events).to_dict() == {"hits": 2, "misses": 1, "corrupt": 1, "unwritable": 1}


# --- the folder store --------------------------------------------------------------------------------------------


def _write_many(root: str, rounds: int) -> None:
    store = FolderStore(Path(root))
    data = encode_entry(KEY, ENTRY)
    for _ in range(rounds):
        store.write(KEY, data)
        read = store.read(KEY)
        assert read is not None
        decode_entry(KEY, read)  # a reader never sees a half-written entry


def test_concurrent_writers_of_one_key_leave_a_whole_entry(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_write_many, args=(str(tmp_path), 60)) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    assert [p.exitcode for p in processes] == [0, 0, 0, 0]
    assert decode_entry(KEY, FolderStore(tmp_path).read(KEY) or b"") == ENTRY
    assert [p.name for p in (tmp_path / KEY[:2]).iterdir()] == [f"{KEY}.entry"]  # no temporary file left


def test_usage_and_clear_touch_entries_only(tmp_path: Path) -> None:
    store = FolderStore(tmp_path)
    store.write(KEY, encode_entry(KEY, ENTRY))
    other = "cd" + "2" * 62
    store.write(other, encode_entry(other, ENTRY))
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "moses.csv.gz").write_bytes(b"keep me")
    usage = store.usage()
    assert (usage.entries, usage.bytes) == (2, 2 * len(encode_entry(KEY, ENTRY)))
    assert store.clear().entries == 2
    assert store.usage().entries == 0
    assert (tmp_path / "datasets" / "moses.csv.gz").read_bytes() == b"keep me"


@pytest.fixture
def no_cache_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (CACHE_DIR_ENV, "XDG_CACHE_HOME", "LOCALAPPDATA"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_default_folder_follows_the_user_cache_conventions(no_cache_env: pytest.MonkeyPatch) -> None:
    assert default_cache_dir() == Path.home() / ".cache" / "hetero2" / "decoys"
    no_cache_env.setenv("XDG_CACHE_HOME", "/xdg")
    assert default_cache_dir() == Path("/xdg/hetero2/decoys")
    no_cache_env.setenv(CACHE_DIR_ENV, "/explicit")
    assert default_cache_dir() == Path("/explicit")


# --- through the runner ------------------------------------------------------------------------------------------


def _rows() -> list[InputRow]:
    smiles = ["CC(=O)Oc1ccccc1C(=O)O", "CC(C)Cc1ccc(cc1)C(C)C(=O)O", "CC(=O)Nc1ccc(O)cc1", "not a molecule"]
    return [InputRow(index=i + 1, line=i + 2, id=f"m{i}", smiles=s) for i, s in enumerate(smiles)]


@pytest.mark.parametrize("workers", [1, 2])
def test_rows_from_a_warm_cache_equal_rows_built_without_one(tmp_path: Path, workers: int) -> None:
    config = RunConfig(k_decoys=5)
    cache = DecoyCache(FolderStore(tmp_path))

    def run(with_cache: DecoyCache | None) -> list[dict[str, Any]]:
        results = stream_results(_rows(), config, make_scorer("random"), workers=workers, cache=with_cache)
        return [r.to_dict() for r in results]

    plain = run(None)
    cold, warm = run(cache), run(cache)
    assert [r["decoy_cache"] for r in cold] == ["miss", "miss", "miss", ""]  # the SKIP row never reached decoys
    assert [r["decoy_cache"] for r in warm] == ["hit", "hit", "hit", ""]
    for row in (*cold, *warm):
        row["decoy_cache"] = ""
    assert cold == plain
    assert warm == plain


def test_a_hit_never_parses_the_canonical_smiles_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The parse-back only feeds decoy generation; a warm row is served from the canonical SMILES alone."""
    config, cache = RunConfig(k_decoys=5), DecoyCache(FolderStore(tmp_path))
    rows = _rows()[:3]
    cold = [r.to_dict() for r in process_rows(rows, config, make_scorer("random"), cache)]
    calls: list[str] = []
    real = CanonicalMolecule.prepared

    def counted(self: CanonicalMolecule) -> PreparedMolecule | Rejection:
        calls.append(self.canonical_smiles)
        return real(self)

    monkeypatch.setattr(CanonicalMolecule, "prepared", counted)
    warm = [r.to_dict() for r in process_rows(rows, config, make_scorer("random"), cache)]
    assert calls == []
    assert [r["decoy_cache"] for r in warm] == ["hit"] * 3
    assert [{**r, "decoy_cache": ""} for r in warm] == [{**r, "decoy_cache": ""} for r in cold]


def test_a_canonical_smiles_that_does_not_parse_back_is_a_skip_and_stores_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreadable(self: CanonicalMolecule) -> Rejection:
        return Rejection(SkipReason.INVALID_SMILES, "canonical SMILES does not parse back")

    monkeypatch.setattr(CanonicalMolecule, "prepared", unreadable)
    store = FolderStore(tmp_path)
    for cache in (DecoyCache(store), None):
        (result,) = process_rows(_rows()[:1], RunConfig(k_decoys=5), make_scorer("random"), cache)
        assert (result.status, result.reason) == ("SKIP", "invalid_smiles")
        assert result.summary["warnings"] == "canonical SMILES does not parse back"
    assert store.usage().entries == 0


# --- rows served as written ----------------------------------------------------------------------------------------


def _canonical_rows() -> list[InputRow]:
    """Inputs written exactly as RDKit's canonical SMILES (as MOSES ships them), then one written otherwise."""
    written = ["CC(=O)Oc1ccccc1C(=O)O", "CC(=O)Nc1ccc(O)cc1", "OC(=O)c1ccccc1OC(C)=O"]
    return [InputRow(index=i + 1, line=i + 2, id=f"m{i}", smiles=s) for i, s in enumerate(written)]


def _counting_canonical(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = canonical_molecule  # what _process calls

    def counted(smiles: str, guardrails: Any = None) -> Any:
        calls.append(smiles)
        return real(smiles, guardrails)

    monkeypatch.setattr(_process, "canonical_molecule", counted)
    return calls


def test_an_entry_records_whether_its_smiles_is_written_back_unchanged(tmp_path: Path) -> None:
    store = FolderStore(tmp_path)
    config = RunConfig(k_decoys=5)
    list(process_rows(_canonical_rows()[:1], config, make_scorer("random"), DecoyCache(store)))
    entry = DecoyCache(store).peek(
        ASPIRIN, molecule_seed(config.seed, seed_by="smiles", canonical_smiles=ASPIRIN, molecule_id="m0"), config
    )
    assert entry is not None
    assert entry.as_written == AsWritten(13)
    assert decode_entry(KEY, encode_entry(KEY, dataclasses.replace(ENTRY, as_written=AsWritten(9)))).as_written == (
        AsWritten(9)
    )


def test_a_warm_row_written_as_its_canonical_smiles_needs_no_rdkit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, cache = RunConfig(k_decoys=5), DecoyCache(FolderStore(tmp_path))
    rows = _canonical_rows()
    plain = [r.to_dict() for r in process_rows(rows, config, make_scorer("random"))]
    cold = [r.to_dict() for r in process_rows(rows, config, make_scorer("random"), cache)]
    calls = _counting_canonical(monkeypatch)
    warm = [r.to_dict() for r in process_rows(rows, config, make_scorer("random"), cache)]
    assert calls == [rows[2].smiles]  # only the input not written canonically is parsed
    assert [r["decoy_cache"] for r in warm] == ["hit"] * 3
    assert [{**r, "decoy_cache": ""} for r in warm] == [{**r, "decoy_cache": ""} for r in cold] == plain


@pytest.mark.parametrize(
    ("change", "reason"), [({"max_heavy_atoms": 12}, "too_many_atoms"), ({"standardize": True}, "")]
)
def test_guardrails_and_standardisation_take_the_full_road(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: dict[str, Any], reason: str
) -> None:
    """The decoys are shared with runs of other guardrails (not part of the key), their checks are not."""
    cache = DecoyCache(FolderStore(tmp_path))
    list(process_rows(_canonical_rows()[:1], RunConfig(k_decoys=5), make_scorer("random"), cache))
    calls = _counting_canonical(monkeypatch)
    (result,) = process_rows(_canonical_rows()[:1], RunConfig(k_decoys=5, **change), make_scorer("random"), cache)
    assert calls == [ASPIRIN]
    assert result.reason == reason


def test_an_entry_without_the_as_written_record_takes_the_full_road(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entries made before the record existed stay hits, through RDKit."""
    store, config = FolderStore(tmp_path), RunConfig(k_decoys=5)
    cold = [r.to_dict() for r in process_rows(_canonical_rows()[:1], config, make_scorer("random"), DecoyCache(store))]
    (path,) = tmp_path.glob("??/*.entry")
    key = path.name.removesuffix(".entry")
    store.write(key, encode_entry(key, dataclasses.replace(decode_entry(key, path.read_bytes()), as_written=None)))
    calls = _counting_canonical(monkeypatch)
    counted = _ReadCounting(tmp_path)
    cache = DecoyCache(counted)
    warm = [r.to_dict() for r in process_rows(_canonical_rows()[:1], config, make_scorer("random"), cache)]
    assert calls == [ASPIRIN]
    assert counted.reads == [key], "the entry read under the input's text is the one the full road needs: once"
    assert warm[0]["decoy_cache"] == "hit"
    assert {**warm[0], "decoy_cache": ""} == {**cold[0], "decoy_cache": ""}


class _ReadCounting(FolderStore):
    """A folder store that records every key read."""

    def __init__(self, root: Path, *, cheap_misses: bool = True) -> None:
        super().__init__(root)
        self.cheap_misses = cheap_misses
        self.reads: list[str] = []

    def read(self, key: str) -> bytes | None:
        self.reads.append(key)
        return super().read(key)


def test_a_store_whose_misses_are_requests_is_never_read_at_a_guessed_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On S3 a guess that misses is a billed GET and a round trip: such a store is read only at real keys, one read
    a row, and every row takes RDKit's road (the service's warm chunks as before the as-written shortcut)."""
    config, rows = RunConfig(k_decoys=5), _canonical_rows()
    cold = [r.to_dict() for r in process_rows(rows, config, make_scorer("random"), DecoyCache(FolderStore(tmp_path)))]
    remote = _ReadCounting(tmp_path, cheap_misses=False)
    calls = _counting_canonical(monkeypatch)
    warm = [r.to_dict() for r in process_rows(rows, config, make_scorer("random"), DecoyCache(remote))]
    assert calls == [r.smiles for r in rows]
    assert len(remote.reads) == len(rows)
    assert [r["decoy_cache"] for r in warm] == ["hit"] * len(rows)
    assert [{**r, "decoy_cache": ""} for r in warm] == [{**r, "decoy_cache": ""} for r in cold]
