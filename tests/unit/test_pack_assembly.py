"""Row results folded into metrics: the worst molecules with their top decoys, problem rows, scorer facts."""

from __future__ import annotations

from hetero_core.audit import DatasetAccumulator
from hetero_core.chunks import RowResult
from hetero_core.pack import ScorerFacts, scorer_facts
from hetero_core.pack._assembly import PROBLEM_ROWS, TOP_DECOYS_PER_WORST, WORST_MOLECULES, ResultCollector
from hetero_core.reasons import ErrorReason, SkipReason, Status, Verdict
from hetero_core.scores import make_scorer


def _failed(index: int, slack: float, decoy_scores: tuple[float | None, ...] = ()) -> RowResult:
    summary = {"canonical_smiles": "CCO", "auc": 0.25}
    decoys = [{"role": "original", "smiles": "CCO", "score": 0.9}]
    decoys += [{"role": "decoy", "smiles": f"C{i}", "score": s} for i, s in enumerate(decoy_scores)]
    return RowResult(
        index,
        f"m{index}",
        Status.OK,
        "",
        Verdict.FAIL,
        summary,
        decoys=decoys,
        slack=slack,
        chance_pass=0.05,
        n_decoys=20,
        score_original=0.9,
    )


def test_worst_molecules_are_the_lowest_slacks_earliest_first_on_ties() -> None:
    collector = ResultCollector(k=20)
    for index in range(1, 31):
        collector.add(_failed(index, -0.5))
    collector.add(_failed(31, -0.9))
    worst = collector.worst_molecules()
    assert len(worst) == WORST_MOLECULES
    assert worst[0]["id"] == "m31"
    assert worst[0]["slack"] == -0.9
    assert [w["id"] for w in worst[1:]] == [f"m{i}" for i in range(1, WORST_MOLECULES)]


def test_worst_molecule_carries_its_top_scored_decoys_highest_first_unscored_left_out() -> None:
    collector = ResultCollector(k=20)
    collector.add(_failed(1, -0.4, (0.1, None, 0.95, 0.5, 0.95, 0.3)))
    (entry,) = collector.worst_molecules()
    assert entry["score_original"] == 0.9
    assert entry["auc"] == 0.25
    assert len(entry["top_decoys"]) == TOP_DECOYS_PER_WORST
    # equal scores keep file order: C2 before C4
    assert entry["top_decoys"] == [
        {"smiles": "C2", "score": 0.95, "similarity": None},  # no pairs recorded: similarity unknown
        {"smiles": "C4", "score": 0.95, "similarity": None},
        {"smiles": "C3", "score": 0.5, "similarity": None},
    ]


def test_worst_molecule_decoys_carry_their_similarity_to_the_original() -> None:
    result = _failed(1, -0.4, (0.1, None, 0.95, 0.5))
    result.pairs = [(0.9, 0.1, 0.41), (0.9, 0.95, 0.72), (0.9, 0.5, 0.66)]  # the three scored decoys, in order
    collector = ResultCollector(k=20)
    collector.add(result)
    (entry,) = collector.worst_molecules()
    assert [(d["smiles"], d["similarity"]) for d in entry["top_decoys"]] == [("C2", 0.72), ("C3", 0.66), ("C0", 0.41)]


def test_problem_rows_list_the_first_skip_and_error_rows_only() -> None:
    collector = ResultCollector(k=20)
    collector.add(_failed(0, -0.1))
    for index in range(1, PROBLEM_ROWS + 10):
        status, reason = (Status.SKIP, SkipReason.INVALID_SMILES) if index % 2 else (Status.ERROR, ErrorReason.TIMEOUT)
        summary = {"warnings": "detail " * 100}
        collector.add(RowResult(index, f"r{index}", status, reason, "", summary))
    assert len(collector.problems) == PROBLEM_ROWS
    assert collector.problems[0] == {
        "row": 1,
        "id": "r1",
        "status": "SKIP",
        "reason": "invalid_smiles",
        "detail": ("detail " * 100)[:200],
    }
    assert collector.problems[1]["reason"] == "timeout"


def test_slack_histogram_has_fixed_edges_and_counts_every_judged_row() -> None:
    accumulator = DatasetAccumulator(k=20)
    for slack in (-0.95, -0.35, -0.35, 0.0, 0.45):
        accumulator.add(Status.OK, verdict=Verdict.FAIL, slack=slack, chance_pass=0.05, n_decoys=20)
    histogram = accumulator.result()["slack_histogram"]
    assert histogram["edges"][0] == -1.0
    assert histogram["edges"][-1] == 1.0
    assert len(histogram["counts"]) == len(histogram["edges"]) - 1 == 20
    assert sum(histogram["counts"]) == 5
    assert histogram["counts"][0] == 1  # [-1.0, -0.9)
    assert histogram["counts"][6] == 2  # [-0.4, -0.3)
    assert histogram["counts"][10] == 1  # [0.0, 0.1)


def test_scorer_facts_round_trip_and_builtin_scorer_is_not_external() -> None:
    facts = scorer_facts(make_scorer("mock"))
    assert facts == ScorerFacts(label="mock")
    assert not facts.external
    external = ScorerFacts("external", "hetero_scores.v2", "s.csv", "ab" * 32, 10, 1, 9)
    assert external.external
    assert ScorerFacts.from_dict(external.to_dict()) == external
