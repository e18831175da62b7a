"""The decision on real molecules (SPEC §5): a structure-reading model gets GO, models that cannot read
structure do not, ``--fail-on-stop`` gates CI and ``--acceptance`` overrides the criteria on the record."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pathlib import Path

    from tests.functional.conftest import Cli

K = 20


def _decision(pack: Path) -> dict[str, Any]:
    metrics: dict[str, Any] = json.loads((pack / "metrics.json").read_text(encoding="utf-8"))
    return metrics["decision"]


@pytest.mark.parametrize(
    ("scorer", "allowed"),
    [
        ("good", {"GO"}),
        ("constant", {"STOP"}),
        ("random", {"STOP", "INCONCLUSIVE"}),
        ("composition", {"STOP", "INCONCLUSIVE"}),
    ],
)
def test_reference_models_on_real_molecules_get_the_decision_they_deserve(
    cli: Cli, real_set_csv: Path, tmp_path: Path, scorer: str, allowed: set[str]
) -> None:
    pack = tmp_path / scorer
    result = cli.run(real_set_csv, pack, "--scorer", scorer, k=K)
    assert result.code == 0, result.err
    decision = _decision(pack)
    assert decision["outcome"] in allowed
    if scorer != "good":  # models that cannot read structure: a PASS-rate within (or below) chance
        metrics = json.loads((pack / "metrics.json").read_text(encoding="utf-8"))
        assert metrics["significance"]["finding"] != "above_chance"
    first_line = result.out.splitlines()[0]
    assert first_line == f"decision: {decision['outcome']} — {decision['sentence']}"
    assert result.out.splitlines()[1] == f"report: {pack / 'report.html'}"


def test_qed_on_approved_drugs_is_not_go(cli: Cli, tmp_path: Path) -> None:
    pack = tmp_path / "qed"
    assert cli.run(None, pack, "--scorer", "qed", k=K).code == 0  # the bundled 44 approved drugs
    assert _decision(pack)["outcome"] != "GO"


def test_fail_on_stop_exits_3_on_stop_and_still_writes_the_pack(cli: Cli, real_set_csv: Path, tmp_path: Path) -> None:
    pack = tmp_path / "constant"
    result = cli.run(real_set_csv, pack, "--scorer", "constant", "--fail-on-stop", k=K)
    assert result.code == 3
    assert "decision STOP and --fail-on-stop given" in result.err
    assert _decision(pack)["outcome"] == "STOP"
    assert (pack / "evidence_pack.zip").is_file()
    assert cli.run(real_set_csv, tmp_path / "good", "--scorer", "good", "--fail-on-stop", k=K).code == 0


def test_acceptance_file_overrides_the_criteria_and_is_recorded(cli: Cli, real_set_csv: Path, tmp_path: Path) -> None:
    acceptance = tmp_path / "strict.json"
    acceptance.write_text(json.dumps({"schema_version": "acceptance.v1", "criteria": {"min_judged": 1000}}))
    pack = tmp_path / "good"
    assert cli.run(real_set_csv, pack, "--scorer", "good", "--acceptance", acceptance, k=K).code == 0
    decision = _decision(pack)
    assert decision["outcome"] == "INCONCLUSIVE"
    assert decision["criteria"]["min_judged"] == 1000
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["acceptance"]["path"] == str(acceptance)
    assert manifest["acceptance"]["sha256"] == hashlib.sha256(acceptance.read_bytes()).hexdigest()
    assert manifest["acceptance"]["criteria"]["min_judged"] == 1000


def test_default_criteria_are_recorded_when_no_acceptance_file_is_given(
    cli: Cli, drugs_csv: Path, tmp_path: Path
) -> None:
    pack = tmp_path / "pack"
    assert cli.run(drugs_csv, pack, "--scorer", "good", k=4).code == 0
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["acceptance"]["source"] == "default"
    assert manifest["acceptance"]["sha256"] is None
    assert _decision(pack)["outcome"] == "INCONCLUSIVE"  # five molecules are too few to decide


def test_a_bad_acceptance_file_is_refused_before_any_work(cli: Cli, drugs_csv: Path, tmp_path: Path) -> None:
    acceptance = tmp_path / "bad.json"
    acceptance.write_text(json.dumps({"schema_version": "acceptance.v1", "criteria": {"alpha": 2}}))
    result = cli.run(drugs_csv, tmp_path / "pack", "--acceptance", acceptance, k=4)
    assert result.code == 2
    assert "criterion 'alpha' must be a number in (0, 0.5]" in result.err
    assert str(acceptance) in result.err
    assert not (tmp_path / "pack").exists()
