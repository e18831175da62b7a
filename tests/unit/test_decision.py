"""The decision (SPEC §5): GO, STOP or INCONCLUSIVE from the dataset metrics, and the acceptance.v1 file."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

import pytest

from hetero_core.audit import Acceptance, AcceptanceCriteria, decide, load_acceptance, score_coverage
from hetero_core.errors import ConfigError
from tests.conftest import DEFAULT_CRITERIA

if TYPE_CHECKING:
    from pathlib import Path


def metrics(
    *,
    n_judged: int = 100,
    n_pass: int = 30,
    upper: float = 1e-9,
    lower: float = 1.0,
    errors: int = 0,
    decoy_coverage: float = 1.0,
    missing_originals: int = 0,
    hard_pairs: int = 500,
) -> dict[str, Any]:
    """The blocks of metrics.json the decision reads, for a run of ``n_judged`` molecules at k = 20."""
    return {
        "n_judged": n_judged,
        "counts": {"OK": n_judged, "SKIP": 0, "ERROR": errors, "total": n_judged + errors},
        "verdicts": {"PASS": n_pass, "FAIL": n_judged - n_pass, "SKIP": errors},
        "expected_pass_rate_by_chance": 1 / 21,
        "significance": {"p_better_than_chance": upper, "p_worse_than_chance": lower},
        "scores_coverage": {
            "molecules_with_original_score": n_judged,
            "molecules_missing_original_score": missing_originals,
            "decoy_coverage": decoy_coverage,
        },
        "realism": {"bins": {"hard": {"n_pairs": hard_pairs}}},
    }


def codes(decision: dict[str, Any]) -> list[str]:
    return [r["code"] for r in decision["reasons"]]


def test_above_chance_with_everything_in_place_is_go() -> None:
    decision = decide(metrics())
    assert decision["outcome"] == "GO"
    assert codes(decision) == ["pass_rate_above_chance"]
    assert decision["sentence"].startswith("30 of 100 molecules PASS where chance alone gives about 4.8")
    assert decision["criteria"] == {**DEFAULT_CRITERIA, "source": "default"}


def test_not_above_chance_with_full_coverage_is_stop() -> None:
    decision = decide(metrics(n_pass=5, upper=0.4, lower=0.7))
    assert decision["outcome"] == "STOP"
    assert codes(decision) == ["pass_rate_not_above_chance"]
    assert "no evidence that the model reads structure" in decision["sentence"]


def test_below_chance_is_stop_even_with_partial_coverage() -> None:
    decision = decide(metrics(n_pass=0, upper=1.0, lower=0.001, decoy_coverage=0.95))
    assert decision["outcome"] == "STOP"
    assert codes(decision) == ["pass_rate_below_chance"]


def test_too_few_judged_molecules_is_inconclusive_whatever_the_p_value() -> None:
    assert decide(metrics(n_judged=29, n_pass=29))["outcome"] == "INCONCLUSIVE"
    assert codes(decide(metrics(n_judged=0, n_pass=0, upper=1.0)))[0] == "too_few_judged"
    assert decide(metrics(n_judged=30, n_pass=29))["outcome"] == "GO"


def test_not_above_chance_with_partial_coverage_is_inconclusive() -> None:
    decision = decide(metrics(n_pass=5, upper=0.4, lower=0.7, missing_originals=10))
    assert decision["outcome"] == "INCONCLUSIVE"
    assert codes(decision) == ["pass_rate_not_above_chance", "partial_score_coverage"]


@pytest.mark.parametrize(
    ("changes", "blocker"),
    [
        ({"errors": 1}, "errors"),
        ({"decoy_coverage": 0.99}, "partial_score_coverage"),
        ({"hard_pairs": 49}, "too_few_hard_pairs"),
    ],
)
def test_above_chance_is_not_go_without_each_go_condition(changes: dict[str, Any], blocker: str) -> None:
    decision = decide(metrics(**changes))
    assert decision["outcome"] == "INCONCLUSIVE"
    assert codes(decision) == ["pass_rate_above_chance", blocker]
    assert decision["sentence"].endswith("so this run cannot decide.")


def test_criteria_from_an_acceptance_change_the_outcome() -> None:
    lenient = Acceptance(AcceptanceCriteria(max_errors=5, min_hard_pairs=0), "acc.json", "0" * 64)
    decision = decide(metrics(errors=3, hard_pairs=0), lenient)
    assert decision["outcome"] == "GO"
    assert decision["criteria"]["source"] == "file"
    strict = Acceptance(AcceptanceCriteria(alpha=1e-12))
    assert decide(metrics(), strict)["outcome"] == "STOP"


def test_score_coverage_is_the_lower_of_originals_and_decoys() -> None:
    assert score_coverage({"molecules_with_original_score": 9, "molecules_missing_original_score": 1}) == 0.9
    both = {"molecules_with_original_score": 10, "molecules_missing_original_score": 0, "decoy_coverage": 0.8}
    assert score_coverage(both) == 0.8
    assert score_coverage({}) is None


# --- acceptance.v1 -------------------------------------------------------------------------------


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "acceptance.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_acceptance_file_is_read_with_its_sha256_and_defaults_for_absent_fields(tmp_path: Path) -> None:
    path = write(tmp_path, {"schema_version": "acceptance.v1", "criteria": {"min_judged": 100, "alpha": 0.01}})
    acceptance = load_acceptance(path)
    assert acceptance.criteria == AcceptanceCriteria(min_judged=100, alpha=0.01)
    assert acceptance.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert acceptance.to_manifest() == {
        "schema_version": "acceptance.v1",
        "source": "file",
        "path": str(path),
        "sha256": acceptance.sha256,
        "criteria": {**DEFAULT_CRITERIA, "min_judged": 100, "alpha": 0.01},
    }
    assert Acceptance().to_manifest()["source"] == "default"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"schema_version": "acceptance.v2"}, "field 'schema_version' must be 'acceptance.v1'"),
        ({"criteria": {}}, "field 'schema_version'"),
        ({"schema_version": "acceptance.v1", "criteria": {"min_judgd": 3}}, "unknown field 'criteria.min_judgd'"),
        ({"schema_version": "acceptance.v1", "critera": {}}, "unknown field 'critera'"),
        ({"schema_version": "acceptance.v1", "criteria": {"alpha": 0.9}}, "criterion 'alpha' must be a number in"),
        ({"schema_version": "acceptance.v1", "criteria": {"alpha": "0.05"}}, "criterion 'alpha'"),
        ({"schema_version": "acceptance.v1", "criteria": {"min_judged": 2.5}}, "criterion 'min_judged' must be an"),
        ({"schema_version": "acceptance.v1", "criteria": {"max_errors": True}}, "criterion 'max_errors'"),
        ({"schema_version": "acceptance.v1", "criteria": {"min_score_coverage": 0}}, "'min_score_coverage'"),
        ({"schema_version": "acceptance.v1", "criteria": []}, "field 'criteria' must be a JSON object"),
        ([], "must hold a JSON object"),
    ],
)
def test_a_bad_acceptance_file_names_the_file_and_the_field(tmp_path: Path, data: object, message: str) -> None:
    path = write(tmp_path, data)
    with pytest.raises(ConfigError, match=message) as info:
        load_acceptance(path)
    assert str(path) in str(info.value)


def test_acceptance_file_that_is_not_json_or_missing_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match="not UTF-8 JSON"):
        load_acceptance(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_acceptance(tmp_path / "absent.json")
