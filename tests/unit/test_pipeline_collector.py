"""Dataset folding in the pipeline: the 'worst molecules' list of index.md and metrics.json."""

from __future__ import annotations

from hetero_core.chunk import RowResult
from hetero_core.pipeline import WORST_MOLECULES, _Collector
from hetero_core.reasons import Status, Verdict


def _failed(index: int, slack: float) -> RowResult:
    summary = {"canonical_smiles": "CCO"}
    return RowResult(
        index, f"m{index}", Status.OK, "", Verdict.FAIL, summary, slack=slack, chance_pass=0.05, n_decoys=20
    )


def test_worst_molecules_are_the_lowest_slacks_earliest_first_on_ties() -> None:
    collector = _Collector(k=20)
    for index in range(1, 31):
        collector.add(_failed(index, -0.5))
    collector.add(_failed(31, -0.9))
    worst = collector.worst_molecules()
    assert len(worst) == WORST_MOLECULES
    assert worst[0] == {"id": "m31", "slack": -0.9, "canonical_smiles": "CCO"}
    assert [w["id"] for w in worst[1:]] == [f"m{i}" for i in range(1, WORST_MOLECULES)]
