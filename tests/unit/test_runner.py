"""Batch runner: order, duplicates, worker-count independence, and no row lost when a worker dies."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from hetero_core.chunks import mark_duplicates, stream_results
from hetero_core.config import RunConfig
from hetero_core.reasons import ErrorReason, SkipReason, Status
from hetero_core.records import InputRow
from hetero_core.scores import ScoreRequest, make_scorer

if TYPE_CHECKING:
    from hetero_core.scores._scorers import ScoreResult

DRUGS = [
    "CC(=O)Oc1ccccc1C(=O)O",
    "Cn1cnc2c1c(=O)n(C)c(=O)n2C",
    "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
    "CC(=O)Nc1ccc(O)cc1",
    "COc1ccc2cc(ccc2c1)C(C)C(=O)O",
    "OC(=O)Cc1ccccc1Nc1c(Cl)cccc1Cl",
    "CC(C)NCC(O)COc1cccc2ccccc12",
    "NC(=O)N1c2ccccc2C=Cc2ccccc12",
]
CONFIG = RunConfig(k_decoys=5)


def _rows(n: int = 24) -> list[InputRow]:
    return [InputRow(index=i + 1, line=i + 2, id=f"m{i}", smiles=DRUGS[i % len(DRUGS)]) for i in range(n)]


def test_duplicates_are_marked_after_the_first() -> None:
    rows = [InputRow(1, 2, "a", "C"), InputRow(2, 3, "b", "C"), InputRow(3, 4, "a", "CC")]
    marked = list(mark_duplicates(rows))
    assert [r.error for r in marked] == [None, None, SkipReason.DUPLICATE_ID]


def test_results_keep_input_order_and_count() -> None:
    results = list(stream_results(_rows(), CONFIG, make_scorer("good"), workers=2, chunk_rows=3))
    assert [r.index for r in results] == list(range(1, 25))
    assert all(r.status == Status.OK for r in results)


def test_worker_count_does_not_change_results() -> None:
    one = [r.to_dict() for r in stream_results(_rows(), CONFIG, make_scorer("random"), workers=1)]
    two = [r.to_dict() for r in stream_results(_rows(), CONFIG, make_scorer("random"), workers=2, chunk_rows=5)]
    assert one == two


class _CrashOn:
    """Kills its worker process outright on one molecule, like a segfault in native code would."""

    name = "crash"

    def __init__(self, victim: str):
        self.victim = victim
        self.good = make_scorer("good")

    def score(self, request: ScoreRequest) -> ScoreResult:
        if request.molecule_id == self.victim:
            os._exit(13)
        return self.good.score(request)


def test_a_dying_worker_loses_only_its_row() -> None:
    results = list(stream_results(_rows(12), CONFIG, _CrashOn("m5"), workers=2, chunk_rows=4))
    assert [r.index for r in results] == list(range(1, 13))
    failed = [r for r in results if r.status == Status.ERROR]
    assert [(r.id, r.reason) for r in failed] == [("m5", ErrorReason.CHUNK_FAILED)]
    assert all(r.status == Status.OK for r in results if r.id != "m5")
