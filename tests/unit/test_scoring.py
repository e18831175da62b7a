"""Score sources: demo, reference (known bad / known good) and built-in real scorers (SPEC §4)."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from rdkit import Chem

from hetero_core.errors import ConfigError
from hetero_core.hashing import smiles_hash
from hetero_core.records import ScoredItem
from hetero_core.scores import Candidate, Scorer, ScoreRequest, make_scorer
from hetero_core.scores import _scorers as scoring
from hetero_core.scores._scorers import SCORER_NAMES, ScoreResult

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
# Same formula as aspirin (C9H8O4), bonds rewired: an acetyl salicylic mixed anhydride.
ASPIRIN_DECOY = "CC(=O)OC(=O)c1ccccc1O"
CAFFEINE = "Cn1c(=O)c2c(ncn2C)n(C)c1=O"
BENZENE = "c1ccccc1"
TESTOSTERONE = "C[C@]12CC[C@H]3[C@@H](CCC4=CC(=O)CC[C@@]34C)[C@@H]1CC[C@@H]2O"

REPO_ROOT = Path(__file__).resolve().parents[2]


def candidate(smiles: str) -> Candidate:
    canonical = Chem.MolToSmiles(Chem.MolFromSmiles(smiles))
    return Candidate(hash=smiles_hash(canonical), smiles=canonical)


def request(original: str, *decoys: str, molecule_id: str = "aspirin", seed: int = 0) -> ScoreRequest:
    return ScoreRequest(
        molecule_id=molecule_id,
        original=candidate(original),
        decoys=[candidate(smiles) for smiles in decoys],
        seed=seed,
    )


def scores(result: ScoreResult) -> list[float | None]:
    return [None if item is None else item.score for item in (result.original, *result.decoys)]


def fake_hash(prefix: str) -> str:
    return prefix + "0" * (64 - len(prefix))


# --- make_scorer ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SCORER_NAMES)
def test_make_scorer_builds_every_named_scorer(name: str) -> None:
    scorer = make_scorer(name)
    assert scorer.name == name
    assert isinstance(scorer, Scorer)


def test_scorer_names_are_the_public_list() -> None:
    assert SCORER_NAMES == ("mock", "constant", "random", "good", "qed", "sa", "composition")


@pytest.mark.parametrize("name", ["external", "QED", "", "mocks"])
def test_make_scorer_unknown_name_lists_valid_names(name: str) -> None:
    with pytest.raises(ConfigError) as error:
        make_scorer(name)
    message = str(error.value)
    assert repr(name) in message
    for valid in SCORER_NAMES:
        assert valid in message


@pytest.mark.parametrize("name", SCORER_NAMES)
def test_every_scorer_keeps_decoy_order_and_count(name: str) -> None:
    result = make_scorer(name).score(request(ASPIRIN, ASPIRIN_DECOY, CAFFEINE, BENZENE))
    assert len(result.decoys) == 3
    assert result.original is not None
    alone = make_scorer(name).score(request(ASPIRIN, BENZENE))
    assert result.decoys[2] == alone.decoys[0]


@pytest.mark.parametrize("name", SCORER_NAMES)
def test_every_scorer_handles_a_molecule_without_decoys(name: str) -> None:
    result = make_scorer(name).score(request(BENZENE))
    assert result.decoys == []
    assert result.original is not None


@pytest.mark.parametrize("name", SCORER_NAMES)
def test_every_scorer_survives_pickling(name: str) -> None:
    scorer = make_scorer(name, seed=3)
    clone = pickle.loads(pickle.dumps(scorer))
    job = request(ASPIRIN, ASPIRIN_DECOY, CAFFEINE)
    assert clone.score(job) == scorer.score(job)


# --- mock -------------------------------------------------------------------------------------


def test_mock_original_scores_one_and_decoys_follow_first_twelve_hex_digits() -> None:
    job = ScoreRequest(
        molecule_id="aspirin",
        original=candidate(ASPIRIN),
        decoys=[
            Candidate(hash=fake_hash("ffffffffffff"), smiles="x"),
            Candidate(hash="0" * 12 + "f" * 52, smiles="y"),
            Candidate(hash=fake_hash("8"), smiles="z"),
        ],
        seed=0,
    )
    result = make_scorer("mock").score(job)
    assert result.original == ScoredItem(1.0, 1.0)
    assert [item.score for item in result.decoys if item is not None] == [1.0, 0.0, pytest.approx(0.5, abs=1e-12)]


def test_mock_decoy_score_of_a_real_decoy_is_below_one() -> None:
    result = make_scorer("mock").score(request(ASPIRIN, ASPIRIN_DECOY))
    decoy = result.decoys[0]
    assert decoy is not None
    # hash of the canonical decoy starts with e1c43524cc72
    assert decoy.score == pytest.approx(int("e1c43524cc72", 16) / (16**12 - 1))
    assert 0.0 <= decoy.score < 1.0


# --- reference scorers ------------------------------------------------------------------------


def test_constant_scores_every_molecule_one_half() -> None:
    result = make_scorer("constant").score(request(ASPIRIN, ASPIRIN_DECOY, CAFFEINE))
    assert scores(result) == [0.5, 0.5, 0.5]
    assert all(item is not None and item.weight == 1.0 for item in (result.original, *result.decoys))


def test_good_scores_original_one_and_decoys_zero() -> None:
    result = make_scorer("good").score(request(ASPIRIN, ASPIRIN_DECOY, CAFFEINE))
    assert scores(result) == [1.0, 0.0, 0.0]


def test_random_scores_are_uniform_draws_in_unit_interval() -> None:
    result = make_scorer("random", seed=11).score(request(ASPIRIN, ASPIRIN_DECOY, CAFFEINE, BENZENE))
    values = scores(result)
    assert all(value is not None and 0.0 <= value < 1.0 for value in values)
    assert len(set(values)) == len(values)


def test_random_is_pinned_for_a_known_molecule() -> None:
    # Guards reproducibility across releases: a change here changes every published random audit.
    result = make_scorer("random", seed=7).score(request(ASPIRIN, ASPIRIN_DECOY, molecule_id="aspirin"))
    assert scores(result) == [
        pytest.approx(0.6686243944957282, abs=1e-15),
        pytest.approx(0.2893909311192827, abs=1e-15),
    ]


def test_random_is_deterministic_across_instances() -> None:
    job = request(ASPIRIN, ASPIRIN_DECOY, CAFFEINE)
    assert make_scorer("random", seed=5).score(job) == make_scorer("random", seed=5).score(job)


def test_random_does_not_depend_on_decoy_order_or_chunking() -> None:
    scorer = make_scorer("random", seed=5)
    forward = scorer.score(request(ASPIRIN, ASPIRIN_DECOY, CAFFEINE, BENZENE))
    backward = scorer.score(request(ASPIRIN, BENZENE, CAFFEINE, ASPIRIN_DECOY))
    assert forward.original == backward.original
    assert forward.decoys == list(reversed(backward.decoys))
    # A different process or chunk sees only part of the work, and scores from a fresh scorer.
    partial = make_scorer("random", seed=5).score(request(ASPIRIN, CAFFEINE))
    assert partial.decoys[0] == forward.decoys[1]


def test_random_differs_for_a_different_run_seed() -> None:
    job = request(ASPIRIN, ASPIRIN_DECOY, CAFFEINE)
    first, second = scores(make_scorer("random", seed=1).score(job)), scores(make_scorer("random", seed=2).score(job))
    assert all(a != b for a, b in zip(first, second, strict=True))


def test_random_differs_for_a_different_molecule_id() -> None:
    scorer = make_scorer("random", seed=1)
    as_row_1 = scorer.score(request(ASPIRIN, ASPIRIN_DECOY, molecule_id="row_1"))
    as_row_2 = scorer.score(request(ASPIRIN, ASPIRIN_DECOY, molecule_id="row_2"))
    assert scores(as_row_1)[0] != scores(as_row_2)[0]
    assert scores(as_row_1)[1] != scores(as_row_2)[1]


def test_random_ignores_the_per_molecule_seed() -> None:
    scorer = make_scorer("random", seed=1)
    job = request(ASPIRIN, ASPIRIN_DECOY, seed=1)
    assert scorer.score(job) == scorer.score(request(ASPIRIN, ASPIRIN_DECOY, seed=999))


# --- qed --------------------------------------------------------------------------------------


def test_qed_of_aspirin_caffeine_and_benzene() -> None:
    result = make_scorer("qed").score(request(ASPIRIN, CAFFEINE, BENZENE))
    assert scores(result) == [
        pytest.approx(0.550, abs=0.005),
        pytest.approx(0.538, abs=0.005),
        pytest.approx(0.443, abs=0.005),
    ]


def test_candidate_carries_no_rdkit_object_so_scorers_see_only_the_exported_smiles() -> None:
    with pytest.raises(TypeError):
        Candidate(hash=smiles_hash(BENZENE), smiles=BENZENE, mol=Chem.MolFromSmiles(CAFFEINE))  # type: ignore[call-arg]


@pytest.mark.parametrize("name", ["qed", "sa"])
def test_chemistry_scorer_gives_no_score_for_unparsable_smiles(name: str) -> None:
    job = ScoreRequest(
        molecule_id="m",
        original=candidate(ASPIRIN),
        decoys=[Candidate(hash=smiles_hash("C1CC"), smiles="C1CC"), candidate(BENZENE)],
        seed=0,
    )
    result = make_scorer(name).score(job)
    assert result.decoys[0] is None
    assert result.decoys[1] is not None
    assert result.original is not None


# --- sa ---------------------------------------------------------------------------------------


def test_sa_aspirin_is_easy_to_make() -> None:
    original = make_scorer("sa").score(request(ASPIRIN)).original
    assert original is not None
    assert original.score > 0.7
    # sascorer gives aspirin ≈ 1.58 on its 1 (easy) .. 10 (hard) scale
    assert original.score == pytest.approx((10 - 1.58) / 9, abs=0.005)


def test_sa_benzene_is_the_easiest_possible() -> None:
    original = make_scorer("sa").score(request(BENZENE)).original
    assert original is not None
    assert original.score == pytest.approx(1.0)


def test_sa_ranks_a_stereo_rich_steroid_below_aspirin() -> None:
    result = make_scorer("sa").score(request(ASPIRIN, TESTOSTERONE))
    aspirin, testosterone = scores(result)
    assert aspirin is not None
    assert testosterone is not None
    assert 0.0 <= testosterone < aspirin <= 1.0


def test_sa_fragment_table_is_not_loaded_at_import() -> None:
    probe = (
        "import sys, hetero_core.scores._scorers; "
        "print('rdkit.Contrib.SA_Score.sascorer' in sys.modules); "
        "hetero_core.scores._scorers.make_scorer('sa'); "
        "print('rdkit.Contrib.SA_Score.sascorer' in sys.modules)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    assert completed.stdout.split() == ["False", "False"]


def test_sa_fragment_table_is_read_once_per_process() -> None:
    scorer = make_scorer("sa")
    scorer.score(request(ASPIRIN, CAFFEINE))
    scorer.score(request(BENZENE))
    make_scorer("sa").score(request(CAFFEINE))
    assert scoring._sascorer.cache_info().misses == 1


# --- composition (known bad: sees only the formula) -------------------------------------------------------


def test_composition_scorer_ties_every_decoy_with_its_original() -> None:
    result = make_scorer("composition", seed=3).score(request(ASPIRIN, ASPIRIN_DECOY, "OC(=O)c1ccccc1OC(C)=O"))
    assert result.original is not None
    assert [d.score if d else None for d in result.decoys] == [result.original.score] * 2


def test_composition_scorer_varies_between_formulas_and_seeds() -> None:
    aspirin = make_scorer("composition", seed=3).score(request(ASPIRIN)).original
    caffeine = make_scorer("composition", seed=3).score(request(CAFFEINE)).original
    reseeded = make_scorer("composition", seed=4).score(request(ASPIRIN)).original
    assert aspirin is not None
    assert caffeine is not None
    assert reseeded is not None
    assert len({aspirin.score, caffeine.score, reseeded.score}) == 3
    assert 0.0 <= aspirin.score < 1.0
