"""docs/standard-claims.md holds: its golden files match what the code writes, and every test it names exists.

The golden files in tests/data/golden/ are frozen copies written by hand (the expected summary is arithmetic on
the scores file, not engine output), so a change to a public contract fails here rather than passing against
the code's own constants.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from hetero_core.acceptance import AcceptanceCriteria, load_acceptance

if TYPE_CHECKING:
    from tests.functional.conftest import Cli, ReadTable

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "data" / "golden"
CLAIMS = ROOT / "docs" / "standard-claims.md"


def test_summary_header_is_the_frozen_contract(cli: Cli, tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    assert cli.run(GOLDEN / "molecules.csv", pack, "--scorer", "good", k=4).code == 0
    written = (pack / "summary.csv").read_bytes().split(b"\n", 1)[0] + b"\n"
    assert written == (GOLDEN / "summary_header.csv").read_bytes()


def test_hetero_scores_v1_golden_file_gives_the_hand_computed_verdicts(
    cli: Cli, tmp_path: Path, read_table: ReadTable
) -> None:
    pack = tmp_path / "pack"
    result = cli.run(GOLDEN / "molecules.csv", pack, "--scores", GOLDEN / "scores_v1.json", k=4)
    assert result.code == 0, result.err
    with (GOLDEN / "expected_summary.csv").open(encoding="utf-8", newline="") as handle:
        expected = list(csv.DictReader(handle))
    written = read_table(pack / "summary.csv")
    assert [{column: row[column] for column in expected[0]} for row in written] == expected


def test_default_criteria_are_the_frozen_contract() -> None:
    """The decision's defaults are what the golden acceptance.v1 file states, and that file is a valid document."""
    golden = json.loads((GOLDEN / "default_criteria.json").read_text(encoding="utf-8"))
    assert AcceptanceCriteria().to_dict() == golden["criteria"]
    assert load_acceptance(GOLDEN / "default_criteria.json").criteria == AcceptanceCriteria()


def test_every_test_the_claims_name_exists() -> None:
    named = re.findall(r"`(tests/[\w/]+\.py)::(test_\w+)`", CLAIMS.read_text(encoding="utf-8"))
    assert len(named) >= 20
    for path, name in named:
        source = (ROOT / path).read_text(encoding="utf-8")
        assert re.search(rf"^def {name}\(", source, re.M), f"{path}::{name} is named in standard-claims.md but absent"
