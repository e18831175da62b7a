"""A customer's model as a callable: batches, and every way it can fail costs its own rows only (issue 16, item 4)."""

from __future__ import annotations

import math
import time
from typing import Any

import pytest
from rdkit import Chem

from hetero_core.chunks import process_rows
from hetero_core.config import RunConfig
from hetero_core.errors import ConfigError
from hetero_core.reasons import ErrorReason, Status, Verdict
from hetero_core.records import InputRow
from hetero_core.scores import CallableScorer, Candidate, ScoreRequest, ScorerFault

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
CAFFEINE = "Cn1c(=O)c2c(ncn2C)n(C)c1=O"
IBUPROFEN = "CC(C)Cc1ccc(cc1)C(C)C(=O)O"
CONFIG = RunConfig(k_decoys=5, decoy_descriptors="fast")


def _rows(*smiles: str) -> list[InputRow]:
    return [InputRow(index=i + 1, line=i + 2, id=f"m{i + 1}", smiles=s) for i, s in enumerate(smiles)]


def _heavy_atoms(smiles: list[str]) -> list[float]:
    """A real, deterministic toy model: the original and its decoys tie (same atoms), so nothing PASSes."""
    return [float(Chem.MolFromSmiles(s).GetNumHeavyAtoms()) for s in smiles]


def _run(fn: Any, *smiles: str, batch_size: int = 64, timeout: float | None = 30.0) -> list[Any]:
    scorer = CallableScorer(fn, batch_size=batch_size, batch_timeout_s=timeout)
    return list(process_rows(_rows(*smiles), CONFIG, scorer))


def test_a_well_behaved_scorer_audits_every_row_in_batches_across_rows() -> None:
    calls: list[int] = []

    def model(smiles: list[str]) -> list[float]:
        calls.append(len(smiles))
        return _heavy_atoms(smiles)

    results = _run(model, ASPIRIN, CAFFEINE, IBUPROFEN, batch_size=10)
    assert [r.status for r in results] == [Status.OK] * 3
    assert [r.verdict for r in results] == [Verdict.FAIL] * 3
    molecules = sum(1 + r.n_decoys for r in results)
    assert sum(calls) == molecules  # every original and decoy scored exactly once
    assert max(calls) == 10  # batches of batch_size, spanning rows (each row has 6 molecules)
    assert results[0].decoys[0]["score"] == 13.0  # aspirin's 13 heavy atoms, as the model said


def test_one_row_holding_a_batch_larger_than_the_rows_molecules_is_one_call() -> None:
    calls: list[int] = []

    def model(smiles: list[str]) -> list[float]:
        calls.append(len(smiles))
        return _heavy_atoms(smiles)

    results = _run(model, ASPIRIN, CAFFEINE, batch_size=1000)
    assert len(calls) == 1
    assert calls[0] == sum(1 + r.n_decoys for r in results)


def test_a_scorer_declaring_mol_input_gets_rdkit_molecules() -> None:
    seen: list[type] = []

    def model(mols: list[Chem.Mol]) -> list[float]:
        seen.extend(type(m) for m in mols)
        return [float(m.GetNumAtoms()) for m in mols]

    model.input_type = "mol"  # type: ignore[attr-defined]
    (result,) = _run(model, ASPIRIN)
    assert result.status == Status.OK
    assert set(seen) == {Chem.Mol}


def test_an_unknown_input_type_is_refused_before_any_work() -> None:
    def model(smiles: list[str]) -> list[float]:
        return [0.0] * len(smiles)

    model.input_type = "inchi"  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="input_type"):
        CallableScorer(model)


@pytest.mark.parametrize("bad", [0, -3])
def test_batch_size_below_one_is_refused(bad: int) -> None:
    with pytest.raises(ConfigError, match="batch_size"):
        CallableScorer(_heavy_atoms, batch_size=bad)


def test_a_scorer_that_is_not_callable_is_refused() -> None:
    with pytest.raises(ConfigError, match="callable"):
        CallableScorer("qed")  # type: ignore[arg-type]


def _fails_on(smiles_to_fail: str, output: Any) -> Any:
    """A model that misbehaves (``output(smiles)``) whenever ``smiles_to_fail`` is among its molecules."""

    def model(smiles: list[str]) -> Any:
        if smiles_to_fail in smiles:
            return output(smiles)
        return _heavy_atoms(smiles)

    return model


def _raise(smiles: list[str]) -> Any:
    raise ValueError("featuriser cannot handle this ring\n" + "x" * 1000)


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (_raise, "ValueError: featuriser cannot handle this ring"),
        (lambda s: _heavy_atoms(s)[:-1], "returned 0 values for 1 molecules"),
        (lambda s: [math.nan] * len(s), "returned nan for molecule 'm2' original"),
        (lambda s: [math.inf] * len(s), "returned inf for molecule 'm2' original"),
        (lambda s: ["high"] * len(s), "non-number 'high' for molecule 'm2' original"),
        (lambda s: [None] * len(s), "non-number None"),
        (lambda s: [True] * len(s), "non-number True"),
        (lambda s: 7.0, "returned float, not a sequence"),
    ],
    ids=["exception", "wrong-count", "nan", "inf", "string", "none", "bool", "scalar"],
)
def test_each_fault_costs_only_its_row_as_scorer_error_naming_the_molecule(output: Any, expected: str) -> None:
    results = _run(_fails_on(CAFFEINE, output), ASPIRIN, CAFFEINE, IBUPROFEN, batch_size=64)
    assert [r.id for r in results] == ["m1", "m2", "m3"]  # no row lost, input order kept
    assert [r.status for r in results] == [Status.OK, Status.ERROR, Status.OK]
    failed = results[1]
    assert failed.reason == ErrorReason.SCORER_ERROR
    detail = failed.summary["warnings"]
    assert expected in detail
    assert CAFFEINE in detail  # the first offending molecule is named
    assert "Traceback" not in detail
    assert "File " not in detail
    assert len(detail) < 400  # the model's message is truncated


def test_a_failing_decoy_also_fails_its_row_and_names_the_decoy() -> None:
    first = next(iter(process_rows(_rows(ASPIRIN), CONFIG, None)))
    decoy = first.decoys[2]["smiles"]
    results = _run(_fails_on(decoy, _raise), ASPIRIN, CAFFEINE)
    assert [r.status for r in results] == [Status.ERROR, Status.OK]
    assert f"decoy {first.decoys[2]['hash'][:12]} {decoy}" in results[0].summary["warnings"]


def test_a_failing_batch_is_retried_one_molecule_at_a_time() -> None:
    calls: list[int] = []

    def model(smiles: list[str]) -> list[float]:
        calls.append(len(smiles))
        if len(smiles) > 1:
            raise RuntimeError("out of GPU memory")
        return _heavy_atoms(smiles)

    results = _run(model, ASPIRIN, CAFFEINE, batch_size=64)
    assert [r.status for r in results] == [Status.OK, Status.OK]  # every molecule scored alone
    assert calls[0] == 12
    assert set(calls[1:]) == {1}


def test_a_hanging_scorer_times_out_per_batch_and_costs_only_its_row() -> None:
    def model(smiles: list[str]) -> list[float]:
        if CAFFEINE in smiles:
            time.sleep(5)
        return _heavy_atoms(smiles)

    started = time.perf_counter()
    results = _run(model, ASPIRIN, CAFFEINE, batch_size=64, timeout=0.2)
    assert time.perf_counter() - started < 4
    assert [r.status for r in results] == [Status.OK, Status.ERROR]
    assert "timed out after 0.2 s" in results[1].summary["warnings"]


def test_score_on_one_request_raises_the_fault_for_the_engines_row_guard() -> None:
    scorer = CallableScorer(_fails_on(ASPIRIN, _raise))
    staged = next(iter(process_rows(_rows(ASPIRIN), CONFIG, None)))
    request = ScoreRequest("m1", Candidate(staged.decoys[0]["hash"], ASPIRIN), [], seed=0)
    with pytest.raises(ScorerFault, match="molecule 'm1' original"):
        scorer.score(request)
