"""Issue 16's acceptance test for faults: a model raising on one molecule of 300 costs exactly that row."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from rdkit import Chem

from hetero_core.chunks import stream_results
from hetero_core.config import RunConfig
from hetero_core.io import DEFAULT_COLUMNS
from hetero_core.reasons import ErrorReason, Status
from hetero_core.scores import CallableScorer

if TYPE_CHECKING:
    from pathlib import Path

    from hetero_core.chunks import RowResult


class _PoisonedModel:
    """Scores by heavy-atom count but raises on one molecule, like a featuriser with a gap; picklable."""

    def __init__(self, poison: str) -> None:
        self.poison = poison

    def __call__(self, smiles: list[str]) -> list[float]:
        if self.poison in smiles:
            raise KeyError(f"no embedding for {self.poison}")
        return [float(Chem.MolFromSmiles(s).GetNumHeavyAtoms()) for s in smiles]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_scorer_raising_on_one_molecule_of_300_gives_299_audited_rows_and_one_scorer_error(
    tmp_path: Path, workers: int, real_300_csv: Path
) -> None:
    path = real_300_csv
    config = RunConfig(k_decoys=3, decoy_descriptors="fast")
    # the canonical form of a well-behaved row's original: what the engine hands the model
    poison_row = 150
    plain = list(stream_results(DEFAULT_COLUMNS.read(path), config, None))
    poison = plain[poison_row].decoys[0]["smiles"]
    scorer = CallableScorer(_PoisonedModel(poison), batch_size=64)

    results: list[RowResult] = list(stream_results(DEFAULT_COLUMNS.read(path), config, scorer, workers=workers))

    assert [r.index for r in results] == [r.index for r in plain]  # every row, in input order
    assert len(results) == 300
    errors = [r for r in results if r.status == Status.ERROR]
    assert [(r.id, r.reason) for r in errors] == [(plain[poison_row].id, ErrorReason.SCORER_ERROR)]
    assert errors[0].summary["warnings"].startswith("KeyError: 'no embedding for")
    others = [r for r in results if r.status != Status.ERROR]
    assert len(others) == 299
    # every other row is exactly what the model makes of it, as if the poisoned molecule did not exist
    assert [r.status for r in others] == [p.status for i, p in enumerate(plain) if i != poison_row]
    assert sum(r.n_decoys_scored for r in others) == sum(r.n_decoys or 0 for r in others if r.status == Status.OK)
