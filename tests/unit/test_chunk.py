"""The chunk function: one result per row, whatever happens (OK / SKIP reason / ERROR reason)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from rdkit import Chem

from hetero_core.chunks import RowResult, process_rows
from hetero_core.chunks._process import process_row
from hetero_core.config import RunConfig
from hetero_core.errors import ConfigError
from hetero_core.hashing import smiles_hash
from hetero_core.reasons import ErrorReason, SkipReason, Status, Verdict, Warning_
from hetero_core.records import InputRow, ScoredItem
from hetero_core.scores import ScoreRequest, load_external_scores, make_scorer
from hetero_core.scores._scorers import ScoreResult

if TYPE_CHECKING:
    from pathlib import Path

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
CONFIG = RunConfig(k_decoys=10)


def _row(smiles: str, id_: str = "m1", index: int = 1, error: str | None = None) -> InputRow:
    return InputRow(index=index, line=index + 1, id=id_, smiles=smiles, error=error)


def test_good_scorer_passes_and_fills_every_column() -> None:
    result = process_row(_row(ASPIRIN), CONFIG, make_scorer("good"))
    assert (result.status, result.reason, result.verdict) == (Status.OK, "", Verdict.PASS)
    assert result.n_decoys == 10
    assert result.n_decoys_scored == 10
    assert result.summary["auc"] == 1.0
    assert result.summary["gate"] == 1.0  # k=10: null_q = (ceil(.95*11)-1)/10 = 1.0 -> gate 1
    assert result.summary["slack"] == 0.0
    assert result.summary["canonical_smiles"] == ASPIRIN
    assert result.summary["mean_abs_delta_mw"] == pytest.approx(0.0)
    assert 0.0 < result.summary["tanimoto_min"] <= result.summary["tanimoto_median"] < 1.0
    assert result.summary["spectral_gap"] > 0
    assert [d["role"] for d in result.decoys] == ["original"] + ["decoy"] * 10
    assert len(result.pairs) == 10


def test_constant_scorer_fails_with_auc_one_half() -> None:
    result = process_row(_row(ASPIRIN), CONFIG, make_scorer("constant"))
    assert result.verdict == Verdict.FAIL
    assert result.summary["auc"] == 0.5
    assert result.slack is not None
    assert result.slack < 0


def test_mock_scorer_passes() -> None:
    assert process_row(_row(ASPIRIN), CONFIG, make_scorer("mock")).verdict == Verdict.PASS


@pytest.mark.parametrize(
    ("smiles", "reason"),
    [
        ("", SkipReason.MISSING_SMILES),
        ("C1CC", SkipReason.INVALID_SMILES),
        ("CC(=O)[O-].[Na+]", SkipReason.DISCONNECTED),
        ("CCO", SkipReason.NO_DECOYS_GENERATED),
    ],
)
def test_skip_reasons_from_the_molecule(smiles: str, reason: SkipReason) -> None:
    result = process_row(_row(smiles), CONFIG, make_scorer("good"))
    assert (result.status, result.reason, result.verdict) == (Status.SKIP, reason, Verdict.SKIP)
    assert result.summary["status"] == Status.SKIP
    assert result.summary["reason"] == reason


def test_too_many_atoms() -> None:
    result = process_row(_row("C" * 30), RunConfig(max_heavy_atoms=20), make_scorer("good"))
    assert result.reason == SkipReason.TOO_MANY_ATOMS


def test_reader_flags_become_skips() -> None:
    duplicate = process_row(_row(ASPIRIN, error="duplicate_id"), CONFIG, make_scorer("good"))
    assert duplicate.reason == SkipReason.DUPLICATE_ID
    assert "same id" in duplicate.summary["warnings"]
    broken = process_row(_row("", error="invalid_smiles"), CONFIG, make_scorer("good"))
    assert broken.reason == SkipReason.INVALID_SMILES


def _scores_file(tmp_path: Path, rows: list[tuple[str, str, str, str, str]]) -> Path:
    path = tmp_path / "scored.csv"
    lines = ["molecule_id,role,hash,smiles,score"] + [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _decoy_table(smiles: str) -> RowResult:
    return process_row(_row(smiles), CONFIG, None)


def test_external_scores_partial_missing_and_all_missing(tmp_path: Path) -> None:
    table = _decoy_table(ASPIRIN).decoys
    original = table[0]
    full = [
        (d["molecule_id"], d["role"], d["hash"], d["smiles"], "1" if d["role"] == "original" else "0") for d in table
    ]

    partial = load_external_scores(_scores_file(tmp_path, full[:6]))
    result = process_row(_row(ASPIRIN), CONFIG, partial)
    assert result.status == Status.OK
    assert result.verdict == Verdict.PASS
    assert (result.n_decoys, result.n_decoys_scored) == (10, 5)
    assert Warning_.PARTIAL_DECOY_SCORES in result.summary["warnings"]

    only_original = load_external_scores(_scores_file(tmp_path, full[:1]))
    result = process_row(_row(ASPIRIN), CONFIG, only_original)
    assert result.reason == SkipReason.MISSING_SCORES_FOR_ALL_DECOYS

    no_original = load_external_scores(_scores_file(tmp_path, full[1:]))
    result = process_row(_row(ASPIRIN), CONFIG, no_original)
    assert result.reason == SkipReason.MISSING_SCORES
    assert original["role"] == "original"


def test_decoys_only_mode_has_no_verdict() -> None:
    result = _decoy_table(ASPIRIN)
    assert result.status == Status.OK
    assert result.verdict == ""
    assert "score" not in result.decoys[0]


def test_timeout_turns_only_that_molecule_into_an_error() -> None:
    slow = RunConfig(k_decoys=200, timeout_s=0.001)
    big = "CC(C)Cc1ccc(cc1)C(C)C(=O)OCCOCCOCCOCCOC(=O)C(C)c1ccc(CC(C)C)cc1"
    results = list(process_rows([_row(big, "slow", 1), _row(ASPIRIN, "fine", 2)], slow, make_scorer("good")))
    assert results[0].status == Status.ERROR
    assert results[0].reason == ErrorReason.TIMEOUT
    # the alarm is disarmed afterwards: a cheap molecule with a generous budget still finishes
    fine = process_row(_row(ASPIRIN, "fine", 2), RunConfig(k_decoys=5), make_scorer("good"))
    assert fine.status == Status.OK


class _ExplodingScorer:
    name = "exploding"

    def score(self, request: ScoreRequest) -> ScoreResult:
        raise RuntimeError("model server down")


def test_a_bug_or_outage_costs_one_row_as_internal_error() -> None:
    result = process_row(_row(ASPIRIN), CONFIG, _ExplodingScorer())
    assert result.status == Status.ERROR
    assert result.reason == ErrorReason.INTERNAL_ERROR
    assert "model server down" in result.summary["warnings"]


class _WeightedScorer:
    name = "weighted"

    def score(self, request: ScoreRequest) -> ScoreResult:
        return ScoreResult(ScoredItem(1.0, 2.0), [ScoredItem(0.0, 1.0) for _ in request.decoys])


def test_weights_warning() -> None:
    result = process_row(_row(ASPIRIN), CONFIG, _WeightedScorer())
    assert Warning_.WEIGHTS_UNWEIGHTED_NULL in result.summary["warnings"]


def test_row_result_round_trips_through_json() -> None:
    result = process_row(_row(ASPIRIN), CONFIG, make_scorer("good"))
    again = RowResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again == result


def test_extra_columns_are_kept_with_prefix() -> None:
    row = InputRow(index=1, line=2, id="m1", smiles=ASPIRIN, extra={"activity": "7.2"})
    result = process_row(row, CONFIG, make_scorer("good"))
    assert result.summary["input_activity"] == "7.2"


def test_original_score_for_another_structure_under_the_same_id_is_not_used(tmp_path: Path) -> None:
    table = _decoy_table(ASPIRIN).decoys
    caffeine = "Cn1c(=O)c2c(ncn2C)n(C)c1=O"
    rows = [("m1", "original", smiles_hash(caffeine), caffeine, "9.9")]
    rows += [(d["molecule_id"], d["role"], d["hash"], d["smiles"], "0") for d in table[1:]]
    result = process_row(_row(ASPIRIN), CONFIG, load_external_scores(_scores_file(tmp_path, rows)))
    assert result.reason == SkipReason.MISSING_SCORES
    assert result.score_original is None


# --- score handling (SPEC §4) -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["qed", "sa"])
def test_built_in_scorer_scores_the_molecule_as_exported(name: str) -> None:
    """A customer re-scoring decoys.csv with the same function gets the very same numbers."""
    from rdkit.Chem import QED  # noqa: PLC0415
    from rdkit.Contrib.SA_Score import sascorer  # noqa: PLC0415

    def rescore(smiles: str) -> float:
        mol = Chem.MolFromSmiles(smiles)
        return QED.qed(mol) if name == "qed" else (10.0 - sascorer.calculateScore(mol)) / 9.0

    for smiles in (ASPIRIN, "Cn1c(=O)c2c(ncn2C)n(C)c1=O", "CC(C)Cc1ccc(cc1)C(C)C(=O)O"):
        result = process_row(_row(smiles), CONFIG, make_scorer(name))
        assert result.status == Status.OK
        for row in result.decoys:
            assert row["score"] == rescore(row["smiles"]), row["smiles"]


def test_lower_is_better_reads_the_scores_upside_down_but_exports_them_as_given() -> None:
    lower = RunConfig(k_decoys=10, score_direction="lower")
    good_upside_down = process_row(_row(ASPIRIN), lower, make_scorer("good"))
    assert good_upside_down.verdict == Verdict.FAIL
    assert good_upside_down.summary["auc"] == 0.0
    assert [d["score"] for d in good_upside_down.decoys] == [1.0] + [0.0] * 10  # the model's own numbers
    assert good_upside_down.score_original == 1.0
    assert all(original == -1.0 for original, _, _ in good_upside_down.pairs)  # realism reads them oriented


def test_score_direction_must_be_higher_or_lower() -> None:
    with pytest.raises(ConfigError, match="score_direction"):
        RunConfig(score_direction="up")  # type: ignore[arg-type]


def test_decoy_rejections_are_a_summary_column_and_a_row_count() -> None:
    # an amino ether: many swaps would make a hydroxylamine (N–O single bond), which decoys.v2 rejects
    result = process_row(_row("CCNCCOCCNCC"), CONFIG, make_scorer("good"))
    assert result.rejections.get("new_n_o_single_bond", 0) > 0
    column = result.summary["decoy_rejections"]
    assert column == ";".join(f"{reason}:{count}" for reason, count in sorted(result.rejections.items()))
    unfiltered = process_row(_row("CCNCCOCCNCC"), RunConfig(k_decoys=10, decoy_filter="none"), make_scorer("good"))
    assert unfiltered.rejections == {}
    assert unfiltered.summary["decoy_rejections"] == ""


def test_decoy_filter_and_max_rung_are_validated() -> None:
    with pytest.raises(ConfigError, match="decoy_filter"):
        RunConfig(decoy_filter="loose")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="max_rung"):
        RunConfig(max_rung="ring_suite")
    manifest = RunConfig(decoy_filter="strict", max_rung="relax_aromatic").to_manifest()
    assert (manifest["decoy_filter"], manifest["max_rung"]) == ("strict", "relax_aromatic")
