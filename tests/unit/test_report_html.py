"""report.html: a self-contained page that says in plain words what the audit found, safe with customer text."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import matplotlib
import pytest

from hetero_core.config import RunConfig
from hetero_core.layout import CHECKSUMS, INDEX, MANIFEST, METRICS, REPORT, ZIP
from hetero_core.pack import verify_pack
from hetero_core.pack._writer import PackBuilder
from hetero_core.pipeline import run_audit
from hetero_core.report import _html as report_html
from hetero_core.report import _markup as report_markup
from hetero_core.report import _molecules as report_molecules
from hetero_core.report import render_report
from hetero_core.report._html import MAX_PROBLEM_ROWS, MAX_WORST_MOLECULES
from hetero_core.scores import make_scorer
from tests.conftest import DEFAULT_CRITERIA

if TYPE_CHECKING:
    from pathlib import Path

CREATED_AT = datetime(2026, 1, 1, tzinfo=UTC)
INPUT_SHA256 = "525987bf4c36dac524b8ccfc0ccea3d80e10c179a613e195bd6d2b183624e01d"
OLANZAPINE = "Cc1cc2c(s1)Nc1ccccc1N=C2N1CCN(C)CC1"
CLOZAPINE = "CN1CCN(C2=Nc3cc(Cl)ccc3Nc3ccccc32)CC1"
ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
CAFFEINE = "Cn1cnc2c1c(=O)n(C)c(=O)n2C"
IBUPROFEN = "CC(C)Cc1ccc(cc1)C(C)C(=O)O"
PARACETAMOL = "CC(=O)Nc1ccc(O)cc1"
HOSTILE = "<script>alert(1)</script>"
# Namespace names inside inline SVG are identifiers, never fetched.
SVG_NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink", "http://www.rdkit.org/xml"}

MANIFEST_IN: dict[str, Any] = {
    "schema_version": "hetero_manifest.v1",
    "created_at": "2026-01-01T00:00:00Z",
    "engine": {"name": "hetero2", "version": "0.1.0", "git_commit": "081942b3db8e52a33b5fef27021309fb89204dd2"},
    "runtime": {"python": "3.11.7", "rdkit": "2026.09.1", "numpy": "2.4.6"},
    "contracts": {"audit": "hetero_audit.v2", "decoys": "decoys.v1", "summary": "hetero_summary.v1"},
    "parameters": {"k_decoys": 20, "seed": 0, "seed_by": "smiles", "hard_mode": False, "q": 0.95, "scorer": "qed"},
    "seeds": {"run_seed": 0, "seed_by": "smiles"},
    "inputs": [
        {
            "role": "molecules",
            "name": "approved_drugs.csv",
            "format": "csv",
            "rows": 44,
            "sha256": INPUT_SHA256,
            "columns": {"id_column": "id", "smiles_column": "smiles", "sdf_id_property": None},
        }
    ],
}

METRICS_IN: dict[str, Any] = {
    "schema_version": "hetero_metrics.v1",
    "counts": {"OK": 41, "SKIP": 2, "ERROR": 1, "total": 44},
    "top_reasons": [{"reason": "no_decoys_generated", "count": 2}, {"reason": "timeout", "count": 1}],
    "verdicts": {"PASS": 0, "FAIL": 41, "SKIP": 3},
    "n_judged": 41,
    "pass_rate": 0.0,
    "slack": {"mean": -0.35, "median": -0.35, "p25": -0.45, "p75": -0.225, "min": -0.75, "max": -0.05},
    "slack_histogram": {
        "edges": [round(-1.0 + 0.1 * i, 1) for i in range(21)],
        "counts": [0, 0, 1, 2, 3, 10, 14, 3, 7, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    },
    "expected_pass_rate_by_chance": 0.047619,
    "pass_rate_p_value": 1.0,
    "pass_rate_p_value_lower": 0.135,
    "significance": {
        "n_pass": 0,
        "expected_pass": 1.952,
        "p_better_than_chance": 1.0,
        "p_worse_than_chance": 0.135,
        "alpha": 0.05,
        "finding": "consistent_with_chance",
    },
    "decoys": {
        "k": 20,
        "molecules": 43,
        "total": 820,
        "mean_per_molecule": 19.07,
        "share_reaching_k": 0.95,
        "scored": 820,
    },
    "realism": {
        "n_pairs": 820,
        "auc": 0.6494,
        "median_similarity": 0.6417,
        "bins": {
            "easy": {"range": [0.0, 0.5], "n_pairs": 197, "auc": 0.7208},
            "medium": {"range": [0.5, 0.65], "n_pairs": 300, "auc": 0.6492},
            "hard": {
                "range": [0.65, 0.95],
                "n_pairs": 300,
                "auc": 0.6014,
                "auc_ci95": [0.5312, 0.6633],
                "n_molecules": 35,
            },
            "near_identical": {"range": [0.95, 1.0], "n_pairs": 23, "auc": 0.6},
        },
        "interpretation": "HARD_PAIR_AUC_UNCERTAIN",
        "easy_only": False,
        "similarity_histogram": {
            "bin_edges": [i / 20 for i in range(21)],
            "counts": [0, 0, 2, 19, 34, 35, 28, 27, 23, 9, 46, 83, 128, 135, 113, 79, 20, 9, 3, 7],
        },
    },
    "scores_coverage": {"mode": "qed", "decoys_generated": 820, "decoys_scored": 820, "decoy_coverage": 1.0},
    "decision": {
        "outcome": "STOP",
        "sentence": "0 of 41 molecules PASS where chance alone gives about 2.0: not above chance (p = 1.000, needs "
        "< 0.05), so there is no evidence that the model reads structure rather than composition.",
        "reasons": [{"code": "pass_rate_not_above_chance", "text": "0 of 41 molecules PASS"}],
        "criteria": {**DEFAULT_CRITERIA, "source": "default"},
        "measured": {"n_judged": 41, "score_coverage": 1.0, "hard_pairs": 300},
    },
    "worst_molecules": [
        {
            "id": "olanzapine",
            "slack": -0.75,
            "auc": 0.25,
            "canonical_smiles": OLANZAPINE,
            "score_original": 0.808,
            "top_decoys": [
                {"smiles": "CCN(C)CCN1Cc2cc3c(s2)Nc2ccccc2N=C31", "score": 0.935, "similarity": 0.7213},
                {"smiles": "Cc1cc2c(s1)Nc1ccccc1N=C2N(C)CCN1CC1", "score": 0.881},
                {"smiles": "CNc1sc2cc1C(N1CCN(C)CC1)=Nc1ccccc1-2", "score": 0.5},
            ],
        },
        {
            "id": "clozapine",
            "slack": -0.65,
            "auc": 0.35,
            "canonical_smiles": CLOZAPINE,
            "score_original": 0.80,
            "top_decoys": [{"smiles": "Cc1ccccc1Nc1ccc(Cl)cc1N=C1N2CCN1CC2", "score": 0.924}],
        },
    ],
    "problem_rows": [
        {"row": 7, "id": "benzene", "status": "SKIP", "reason": "no_decoys_generated", "detail": ""},
        {"row": 9, "id": "pyrrole", "status": "SKIP", "reason": "no_decoys_generated", "detail": ""},
        {"row": 30, "id": "vancomycin", "status": "ERROR", "reason": "timeout", "detail": "took longer than 60 s"},
    ],
}


def _tails(upper: float, lower: float) -> dict[str, Any]:
    """Metrics changes for a PASS count with these two tails (hetero_audit.v3)."""
    finding = "above_chance" if upper < 0.05 else "below_chance" if lower < 0.05 else "consistent_with_chance"
    block = {"p_better_than_chance": upper, "p_worse_than_chance": lower, "alpha": 0.05, "finding": finding}
    return {"pass_rate_p_value": upper, "pass_rate_p_value_lower": lower, "significance": block}


CALIBRATION_IN: dict[str, Any] = {
    "schema_version": "hetero_calibration.v1",
    "created_at": "2026-01-01T00:00:00Z",
    "input": "approved_drugs.csv",
    "runs": {
        "constant": {
            "pack": "constant",
            "zip_sha256": "c" * 64,
            "pass_rate": 0.0,
            "median_slack": -0.5,
            "n_judged": 41,
        },
        "good": {"pack": "good", "zip_sha256": "a" * 64, "pass_rate": 1.0, "median_slack": 0.0, "n_judged": 41},
        "random": {"pack": "random", "zip_sha256": "b" * 64, "pass_rate": 0.05, "median_slack": -0.3, "n_judged": 41},
    },
    "separation": {
        "good_minus_constant": {"delta_median_slack": 0.5, "delta_pass_rate": 1.0},
        "good_minus_random": {"delta_median_slack": 0.3, "delta_pass_rate": 0.95},
    },
}


def _metrics(**changes: Any) -> dict[str, Any]:
    metrics = copy.deepcopy(METRICS_IN)
    metrics.update(changes)
    return metrics


def _section(page: str, anchor: str) -> str:
    match = re.search(rf'<section id="{anchor}">(.*?)</section>', page, re.DOTALL)
    assert match is not None, f"no section {anchor}"
    return match.group(1)


def _plain(fragment: str) -> str:
    """The text a reader sees: tags dropped, whitespace folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment))


def _missing(text: str, *phrases: str) -> list[str]:
    """The phrases ``text`` lacks, so a failing test names every sentence the page dropped, not just the first."""
    return [phrase for phrase in phrases if phrase not in text]


@pytest.fixture(scope="module")
def page() -> str:
    """The report of the synthetic pack above, rendered once (plots take a fifth of a second each)."""
    return render_report(MANIFEST_IN, METRICS_IN)


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand-in plots and drawings, for tests about the words: each stub is an <svg> like the real ones."""
    plot = '<svg class="plot"></svg>\n'
    for name in ("slack_histogram_svg", "similarity_histogram_svg", "auc_by_bin_svg"):
        monkeypatch.setattr(report_html, name, lambda *args, **kwargs: plot)
    monkeypatch.setattr(report_molecules, "molecule_svg", lambda smiles: "<svg class='mol-svg'></svg>\n")


# --- the page as a whole ------------------------------------------------------------------------------------------


def test_report_is_one_complete_html_document(page: str) -> None:
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">')
    assert page.endswith("</body>\n</html>\n")
    assert "<title>HETERO-2 audit report — approved_drugs.csv</title>" in page


def test_the_first_box_is_the_decision_with_its_reason_model_and_rule(page: str) -> None:
    header = page[page.index("<header>") : page.index("</header>")]
    first_box = header[header.index('<div class="box') : header.index("</div>")]
    text = _plain(first_box)
    assert 'class="box decision stop"' in first_box
    assert not _missing(
        text,
        "Decision: STOP",
        "0 of 41 molecules PASS where chance alone gives about 2.0",
        "Model: unnamed (no --model-name given) · scores: qed",
        "Rule: GO needs at least 30 judged molecules, a PASS-rate above chance at one-sided p &lt; 0.05",
        "Criteria: the SPEC §5 defaults.",
    )
    assert "success" not in _plain(header).lower()


@pytest.mark.parametrize(("outcome", "css"), [("GO", "go"), ("INCONCLUSIVE", "inconclusive")])
def test_decision_box_is_coloured_by_outcome(fast: None, outcome: str, css: str) -> None:
    decision = {**METRICS_IN["decision"], "outcome": outcome}
    page = render_report(MANIFEST_IN, _metrics(decision=decision))
    assert f'<div class="box decision {css}" id="decision">' in page
    assert f"Decision: <b>{outcome}</b>" in page


def test_a_pack_without_a_decision_says_so_instead_of_inventing_one(fast: None) -> None:
    metrics = copy.deepcopy(METRICS_IN)
    del metrics["decision"]
    page = render_report(MANIFEST_IN, metrics)
    assert "Decision: <b>none recorded</b>" in page


def test_acceptance_file_is_named_in_the_rule(fast: None) -> None:
    manifest = {**MANIFEST_IN, "acceptance": {"source": "file", "path": "gates/<strict>.json", "sha256": "ab" * 32}}
    decision = {**METRICS_IN["decision"], "criteria": {**METRICS_IN["decision"]["criteria"], "source": "file"}}
    page = render_report(manifest, _metrics(decision=decision))
    assert "acceptance file <code>gates/&lt;strict&gt;.json</code> (sha256 <code>" + "ab" * 32 in page


@pytest.mark.parametrize(
    ("k", "expected"),
    [
        (20, "With 20 decoys the gate is 1: PASS means the original scores above all 20 of its decoys"),
        (19, "With 19 decoys the gate is 0.997: PASS means the original scores above all 19 of its decoys"),
        (1, "With 1 decoys the gate is 1: PASS means the original scores above all 1 of its decoys"),
        (200, "With 200 decoys the gate is 1: PASS means the original scores above all 200 of its decoys"),
    ],
)
def test_methods_say_what_pass_means_at_this_k(fast: None, k: int, expected: str) -> None:
    manifest = {**MANIFEST_IN, "parameters": {**MANIFEST_IN["parameters"], "k_decoys": k, "margin": 0.05}}
    assert expected in _plain(_section(render_report(manifest, METRICS_IN), "methods"))


def test_methods_give_the_share_to_beat_when_the_gate_is_below_one(fast: None) -> None:
    manifest = {**MANIFEST_IN, "parameters": {**MANIFEST_IN["parameters"], "k_decoys": 20, "margin": 0.0}}
    expected = "With 20 decoys the gate is 0.950: PASS means the original beats at least 19 of its 20 decoys"
    assert expected in _plain(_section(render_report(manifest, METRICS_IN), "methods"))


def test_methods_say_what_realism_does_not_measure(page: str) -> None:
    text = _plain(_section(page, "methods"))
    assert "It does not measure whether the model's scores are right about activity" in text
    assert "hard is 0.65–0.95, hard mode's window" in text


def test_limitations_name_skipped_salts_coverage_and_hard_pairs(fast: None) -> None:
    reasons = [{"reason": "disconnected", "count": 3}, {"reason": "timeout", "count": 1}]
    text = _plain(_section(render_report(MANIFEST_IN, _metrics(top_reasons=reasons)), "limitations"))
    assert not _missing(
        text,
        "3 row(s) were skipped as salts or mixtures (more than one fragment); --standardize keeps",
        "1 further row(s) were skipped or failed",
        "Score coverage: 100.0%",
        "300 scored hard pairs in 35 molecules.",
        "Only 95.0% of molecules got all 20 decoys",
    )


def test_every_section_is_there_in_reading_order(page: str) -> None:
    anchors = re.findall(r'<section id="([a-z-]+)">', page)
    expected = ["methods", "limitations", "facts", "rows", "pass-rate", "slack", "realism", "worst", "problems"]
    assert anchors == expected
    assert re.findall(r'<a href="#([a-z-]+)">', page) == anchors


def test_page_can_neither_run_script_nor_fetch_anything(page: str) -> None:
    assert "default-src 'none'; style-src 'unsafe-inline'; img-src data:" in page
    lowered = page.lower()
    for construct in ("<script", "<link", "<img", "<iframe", "<object", "<embed", "@import", "@font-face", "src="):
        assert construct not in lowered, construct
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", page))
    assert urls <= SVG_NAMESPACES


def test_page_has_print_styles(page: str) -> None:
    assert not _missing(page, "@media print", "@page", "break-inside: avoid")


def test_same_manifest_and_metrics_give_the_same_page(page: str) -> None:
    assert render_report(MANIFEST_IN, METRICS_IN) == page


def test_report_does_not_change_what_it_was_given(fast: None) -> None:
    manifest, metrics = copy.deepcopy(MANIFEST_IN), copy.deepcopy(METRICS_IN)
    render_report(manifest, metrics, CALIBRATION_IN)
    assert (manifest, metrics) == (MANIFEST_IN, METRICS_IN)


# --- sections -----------------------------------------------------------------------------------------------------


def test_run_facts_name_input_checksum_versions_and_parameters(page: str) -> None:
    facts = _plain(_section(page, "facts"))
    for expected in (
        "approved_drugs.csv",
        INPUT_SHA256,
        "hetero2 0.1.0",
        "081942b3db8e52a33b5fef27021309fb89204dd2",
        "Python 3.11.7",
        "RDKit 2026.09.1",
        "NumPy 2.4.6",
        f"matplotlib {matplotlib.__version__}",
        "k_decoys 20",
        "hard_mode no",
        "scorer qed",
        "id_column=id",
    ):
        assert expected in facts, expected


def test_service_ids_appear_only_when_the_service_ran_the_job(fast: None) -> None:
    assert "Service" not in _section(render_report(MANIFEST_IN, METRICS_IN), "facts")
    manifest = {**MANIFEST_IN, "service": {"job_id": "job-7", "tenant_id": "acme"}}
    facts = _plain(_section(render_report(manifest, METRICS_IN), "facts"))
    assert "job_id: job-7" in facts
    assert "tenant_id: acme" in facts


def test_rows_section_gives_counts_and_every_reason_in_words(page: str) -> None:
    rows = _plain(_section(page, "rows"))
    assert re.search(r"OK SKIP ERROR total PASS FAIL not judged 41 2 1 44 0 41 3", rows)
    assert not _missing(
        rows,
        "no_decoys_generated 2 no bond could be rewired",
        "timeout 1 the molecule took longer than the time limit",
        "19.1 per molecule",
    )


def test_rows_section_says_so_when_nothing_was_skipped(fast: None) -> None:
    metrics = _metrics(top_reasons=[], problem_rows=[], counts={"OK": 44, "SKIP": 0, "ERROR": 0, "total": 44})
    page = render_report(MANIFEST_IN, metrics)
    assert "No row was skipped or failed." in _section(page, "rows")
    assert "None: every row was audited." in _section(page, "problems")


def test_no_p_value_is_ever_shown_as_zero(fast: None) -> None:
    page = render_report(MANIFEST_IN, _metrics(**_tails(1e-30, 1.0)))
    assert "0.000" not in _plain(_section(page, "pass-rate"))
    assert "p &lt; 0.001" in page


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"verdicts": {"PASS": 41, "FAIL": 0, "SKIP": 3}, "pass_rate": 1.0, **_tails(7.1e-21, 1.0)},
            "is below 0.001: far too small to be luck. The model ranks real molecules above their decoys more often "
            "than chance.",
        ),
        (
            {"verdicts": {"PASS": 5, "FAIL": 36, "SKIP": 3}, "pass_rate": 5 / 41, **_tails(0.02, 0.99)},
            "is 0.020, below the conventional 0.05: evidence that the model beats chance",
        ),
        (
            {"verdicts": {"PASS": 2, "FAIL": 39, "SKIP": 3}, "pass_rate": 2 / 41, **_tails(0.58, 0.7)},
            "luck alone could give this PASS-rate. There is no evidence",
        ),
        (
            {"verdicts": {"PASS": 1, "FAIL": 40, "SKIP": 3}, "pass_rate": 1 / 41, **_tails(0.86, 0.4)},
            "It PASSes even fewer molecules than luck would.",
        ),
        (
            {
                "verdicts": {"PASS": 3, "FAIL": 265, "SKIP": 0},
                "n_judged": 268,
                "pass_rate": 3 / 268,
                **_tails(1.0, 6e-4),
            },
            "The probability of 3 or fewer PASSes by luck is below 0.001: the model PASSes fewer molecules than "
            "chance would",
        ),
        ({}, "No molecule PASSed. There is no evidence that the model reads structure rather than composition."),
        (
            {"n_judged": 0, "pass_rate": None, "pass_rate_p_value": None, "expected_pass_rate_by_chance": None},
            "no PASS-rate to test",
        ),
    ],
)
def test_pass_rate_is_read_against_chance_in_plain_words(fast: None, changes: dict[str, Any], expected: str) -> None:
    section = _plain(_section(render_report(MANIFEST_IN, _metrics(**changes)), "pass-rate"))
    assert expected in section


def test_pass_rate_section_gives_the_expected_rate_by_chance(page: str) -> None:
    section = _plain(_section(page, "pass-rate"))
    assert not _missing(
        section,
        "0 of 41 judged molecules PASSed (0.0%)",
        "about 4.8% of them (about 2.0 molecules) by luck alone",
        "P(at least this many PASS by chance) p = 1.000",
        "P(at most this many PASS by chance) p = 0.135",
        "finding the PASS count is within what chance gives",
    )


def test_slack_section_has_its_histogram_and_quantiles(page: str) -> None:
    section = _section(page, "slack")
    assert section.count('<svg class="plot"') == 1
    assert "min p25 median mean p75 max -0.750 -0.450 -0.350 -0.350 -0.225 -0.050" in _plain(section)


def test_slack_section_has_no_plot_when_nothing_was_judged(fast: None) -> None:
    section = _section(render_report(MANIFEST_IN, _metrics(n_judged=0)), "slack")
    assert "<svg" not in section
    assert "No judged molecule: no slack to plot." in section


def test_a_malformed_histogram_gives_a_note_not_an_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("similarity_histogram_svg", "auc_by_bin_svg"):
        monkeypatch.setattr(report_html, name, lambda *args, **kwargs: "<svg></svg>")
    metrics = _metrics(slack_histogram={"edges": [-1.0, 0.0, 1.0], "counts": [1, 2, 3]})
    section = _section(render_report(MANIFEST_IN, metrics), "slack")
    assert "<svg" not in section
    assert "No plot: the metrics do not hold drawable numbers" in section


def test_realism_section_has_table_two_plots_and_the_reading(page: str) -> None:
    section = _section(page, "realism")
    text = _plain(section)
    assert section.count('<svg class="plot"') == 2
    assert not _missing(
        text,
        "easy 0.00–0.50 197 0.721",
        "hard 0.65–0.95 300 0.601 0.531–0.663",
        "near_identical 0.95–1.00 23 0.600",
        "all 0–1 820 0.649",
        "Hard-pair AUC uncertain.",
        "On 300 hard pairs (similarity 0.65–0.95) the hard-pair AUC is 0.601 (95% interval 0.531–0.663",
    )
    assert "success" not in text.lower()


@pytest.mark.parametrize(
    ("interpretation", "easy_only", "expected"),
    [
        ("HARD_PAIR_AUC_NOT_ABOVE_THRESHOLD", False, "Hard-pair AUC not above 0.55. On 300 hard pairs"),
        ("HARD_PAIR_AUC_NOT_ABOVE_THRESHOLD", True, "It does beat easy decoys (AUC 0.721 > 0.7)"),
        ("HARD_PAIR_AUC_ABOVE_THRESHOLD", False, "This counts pairs; whether molecules PASS is the PASS-rate"),
        ("HARD_PAIR_AUC_UNCERTAIN", False, "the interval straddles 0.55"),
        ("DECOYS_TOO_EASY_TO_JUDGE", False, "Decoys too easy to judge. The median similarity"),
        ("SUCCESS_SIGNAL_ON_HARD", False, "(hetero_audit.v2 label) hard-pair AUC above 0.55"),
        ("SOMETHING_NEW", False, "The metrics hold no realism interpretation."),
    ],
)
def test_every_realism_interpretation_is_explained(
    fast: None, interpretation: str, easy_only: bool, expected: str
) -> None:
    realism = {**METRICS_IN["realism"], "interpretation": interpretation, "easy_only": easy_only}
    section = _plain(_section(render_report(MANIFEST_IN, _metrics(realism=realism)), "realism"))
    assert expected in section
    assert ("It does beat easy decoys" in section) is easy_only


def test_calibration_section_is_absent_without_a_calibration(page: str) -> None:
    assert 'id="calibration"' not in page
    assert "Known-bad / known-good" not in page


def test_calibration_shows_runs_and_separation_when_given(fast: None) -> None:
    page = render_report(MANIFEST_IN, METRICS_IN, CALIBRATION_IN)
    section = _plain(_section(page, "calibration"))
    assert re.findall(r'<section id="([a-z-]+)">', page).index("calibration") == 7
    assert not _missing(
        section,
        "good 100.0% 0.000 41",
        "constant 0.0% -0.500 41",
        "good_minus_constant 0.500 1.000 separated",
        "the audit reacts to scoring quality on this input",
    )
    assert "not on this pack's input" not in section


def test_calibration_that_does_not_separate_says_so(fast: None) -> None:
    calibration = copy.deepcopy(CALIBRATION_IN)
    calibration["separation"]["good_minus_random"] = {"delta_median_slack": -0.1, "delta_pass_rate": 0.0}
    calibration["input"] = "other.csv"
    section = _plain(_section(render_report(MANIFEST_IN, METRICS_IN, calibration), "calibration"))
    assert not _missing(
        section,
        "good_minus_random -0.100 0.000 not separated",
        "The audit did not separate good_minus_random",
        "Calibration was run on other.csv , not on this pack's input.",
    )


def test_worst_molecules_are_drawn_beside_their_top_decoys(page: str) -> None:
    section = _section(page, "worst")
    articles = re.findall(r'<article class="mol">(.*?)</article>', section, re.DOTALL)
    assert len(articles) == 2
    assert articles[0].count("<svg class='mol-svg'") == 4  # olanzapine and its three decoys
    assert articles[1].count("<svg class='mol-svg'") == 2
    first = _plain(articles[0])
    assert "1. olanzapine — FAIL , slack -0.750, AUC 0.250" in first
    assert "original · score 0.808" in first
    assert OLANZAPINE in first


def test_decoys_the_model_preferred_to_the_original_are_marked(page: str) -> None:
    olanzapine = re.findall(r'<article class="mol">(.*?)</article>', _section(page, "worst"), re.DOTALL)[0]
    captions = [_plain(c) for c in re.findall(r"<figcaption>(.*?)</figcaption>", olanzapine, re.DOTALL)]
    assert captions[1].startswith(" decoy 1 · preferred to the original · score 0.935 · similarity 0.72")
    assert captions[2].startswith(" decoy 2 · preferred to the original · score 0.881")
    assert captions[3].startswith(" decoy 3 · score 0.500")
    assert olanzapine.count('class="card above"') == 2


def test_with_lower_is_better_a_lower_scored_decoy_is_the_preferred_one(fast: None) -> None:
    metrics = _metrics(config={"score_direction": "lower"})
    olanzapine = re.findall(
        r'<article class="mol">(.*?)</article>', _section(render_report(MANIFEST_IN, metrics), "worst"), re.DOTALL
    )[0]
    captions = [_plain(c) for c in re.findall(r"<figcaption>(.*?)</figcaption>", olanzapine, re.DOTALL)]
    assert captions[3].startswith(" decoy 3 · preferred to the original · score 0.500")
    assert olanzapine.count('class="card above"') == 1


def test_slack_axis_stops_after_the_largest_reachable_slack(page: str) -> None:
    # slack = AUC - gate never exceeds 1 - gate (0 at k = 20): the plot ends with the bin holding 0
    assert report_markup._reachable(([-1.0, -0.5, 0.0, 0.5, 1.0], [1, 2, 3, 0]), 0.0) == (
        [-1.0, -0.5, 0.0, 0.5],
        [1, 2, 3],
    )
    assert report_markup._reachable(([-1.0, 0.0, 1.0], [1, 2]), 0.4) == ([-1.0, 0.0, 1.0], [1, 2])
    assert report_markup._reachable(([-1.0, 0.0, 1.0], [1, 2, 3]), 0.0) == ([-1.0, 0.0, 1.0], [1, 2, 3])


def test_when_every_shown_molecule_passed_they_are_called_closest_calls(fast: None) -> None:
    worst = copy.deepcopy(METRICS_IN["worst_molecules"])
    for molecule in worst:
        molecule["slack"] = 0.0
    section = _plain(_section(render_report(MANIFEST_IN, _metrics(worst_molecules=worst)), "worst"))
    assert "Every molecule shown PASSed: the model was not fooled." in section
    assert "PASS , slack 0.000" in section


def test_no_worst_molecules_gives_a_note(fast: None) -> None:
    section = _section(render_report(MANIFEST_IN, _metrics(worst_molecules=[])), "worst")
    assert "No judged molecule, so none to show." in section
    assert "<svg" not in section


def test_unparseable_smiles_in_the_metrics_is_drawn_as_a_placeholder(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("slack_histogram_svg", "similarity_histogram_svg", "auc_by_bin_svg"):
        monkeypatch.setattr(report_html, name, lambda *args, **kwargs: "<svg></svg>")
    worst = [{**METRICS_IN["worst_molecules"][1], "canonical_smiles": "C1CC", "top_decoys": []}]
    section = _section(render_report(MANIFEST_IN, _metrics(worst_molecules=worst)), "worst")
    assert 'class="mol-svg placeholder"' in section
    assert "invalid SMILES" in section


def test_problem_rows_are_listed_with_reasons_and_details(page: str) -> None:
    section = _plain(_section(page, "problems"))
    assert "All 3 SKIP and ERROR rows" in section
    assert "30 vancomycin ERROR timeout took longer than 60 s" in section
    # an empty detail falls back to what the reason means
    assert "7 benzene SKIP no_decoys_generated no bond could be rewired" in section


def test_only_the_first_problem_rows_are_shown_with_the_total(fast: None) -> None:
    rows = [{"row": i, "id": f"m{i}", "status": "SKIP", "reason": "invalid_smiles", "detail": ""} for i in range(60)]
    metrics = _metrics(problem_rows=rows, counts={"OK": 0, "SKIP": 100_000, "ERROR": 3, "total": 100_003})
    section = _section(render_report(MANIFEST_IN, metrics), "problems")
    assert "The first 25 of 100,003 SKIP and ERROR rows" in _plain(section)
    assert section.count("<tr>") == MAX_PROBLEM_ROWS + 1  # and the header


# --- customer text ------------------------------------------------------------------------------------------------


def _hostile_inputs() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    manifest = copy.deepcopy(MANIFEST_IN)
    manifest["inputs"][0].update(name=HOSTILE, format=HOSTILE)
    manifest["inputs"][0]["columns"] = {"id_column": HOSTILE, "smiles_column": HOSTILE}
    manifest["parameters"]["scorer"] = HOSTILE
    manifest["service"] = {HOSTILE: HOSTILE}
    metrics = _metrics()
    metrics["top_reasons"] = [{"reason": HOSTILE, "count": 1}]
    metrics["problem_rows"] = [{"row": 1, "id": HOSTILE, "status": HOSTILE, "reason": HOSTILE, "detail": HOSTILE}]
    metrics["worst_molecules"][0].update(id=HOSTILE, canonical_smiles=HOSTILE)
    metrics["worst_molecules"][0]["top_decoys"][0]["smiles"] = HOSTILE
    metrics["scores_coverage"]["mode"] = HOSTILE
    metrics["realism"]["interpretation"] = HOSTILE
    calibration = copy.deepcopy(CALIBRATION_IN)
    calibration["input"] = HOSTILE
    calibration["runs"][HOSTILE] = {"zip_sha256": HOSTILE}
    calibration["separation"][HOSTILE] = {"delta_median_slack": 1.0, "delta_pass_rate": 1.0}
    return manifest, metrics, calibration


def test_customer_text_is_escaped_everywhere(fast: None) -> None:
    page = render_report(*_hostile_inputs())
    assert "<script" not in page.lower()
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 15


def test_customer_text_cannot_close_an_attribute_or_a_tag(fast: None) -> None:
    manifest = copy.deepcopy(MANIFEST_IN)
    manifest["inputs"][0]["name"] = '"><svg onload=alert(1)>'
    page = render_report(manifest, METRICS_IN)
    assert "onload" not in page.replace("&quot;&gt;&lt;svg onload=alert(1)&gt;", "")


def test_long_customer_text_is_clipped(fast: None) -> None:
    worst = [{**METRICS_IN["worst_molecules"][1], "id": "x" * 10_000, "canonical_smiles": "C" * 5_000}]
    rows = [{"row": 1, "id": "y" * 10_000, "status": "SKIP", "reason": "invalid_smiles", "detail": "z" * 10_000}]
    page = render_report(MANIFEST_IN, _metrics(worst_molecules=worst, problem_rows=rows))
    assert "x" * 79 + "…" in page
    assert "x" * 81 not in page
    assert "C" * 199 + "…" in page
    assert "y" * 81 not in page
    assert "z" * 201 not in page


def test_control_characters_and_lone_surrogates_do_not_break_the_page(fast: None) -> None:
    worst = [{**METRICS_IN["worst_molecules"][1], "id": "bad\x00id\x1b\udcff"}]
    page = render_report(MANIFEST_IN, _metrics(worst_molecules=worst))
    page.encode("utf-8")  # would raise on a lone surrogate
    assert "bad\ufffdid\ufffd?" in page


# --- size, robustness ---------------------------------------------------------------------------------------------


def _large_metrics() -> dict[str, Any]:
    """What a 100,000-row audit's metrics look like at their largest: full top-N lists of big molecules."""
    big_original = "CC(C)C" + "C(=O)NCC(C)" * 11 + "C(=O)O"  # ~80 heavy atoms: a long peptoid chain
    big_decoys = ["CCC(C)" + "C(=O)NCC(C)" * 11 + "C(=O)O", "CC(C)C" + "NC(=O)CC(C)" * 11 + "C(=O)O"]
    worst = [
        {
            "id": f"compound-{i:06d}-" + "long-id-" * 30,
            "slack": -0.9 + i / 100,
            "auc": 0.1,
            "canonical_smiles": big_original,
            "score_original": 0.2,
            "top_decoys": [{"smiles": smiles, "score": 0.9} for smiles in (*big_decoys, big_decoys[0])],
        }
        for i in range(MAX_WORST_MOLECULES + 5)
    ]
    problems = [
        {"row": i, "id": "z" * 5_000, "status": "ERROR", "reason": "internal_error", "detail": "Traceback " * 200}
        for i in range(500)
    ]
    counts = {"OK": 90_000, "SKIP": 9_000, "ERROR": 1_000, "total": 100_000}
    histogram = {"edges": METRICS_IN["slack_histogram"]["edges"], "counts": [4_500] * 20}
    return _metrics(counts=counts, worst_molecules=worst, problem_rows=problems, slack_histogram=histogram)


def test_report_for_a_100k_row_audit_stays_under_a_megabyte() -> None:
    page = render_report(MANIFEST_IN, _large_metrics(), CALIBRATION_IN)
    assert len(page.encode("utf-8")) < 1_000_000
    assert _section(page, "worst").count('<article class="mol">') == MAX_WORST_MOLECULES


def test_drawings_stop_at_the_size_budget(fast: None, monkeypatch: pytest.MonkeyPatch) -> None:
    drawing = "<svg class='mol-svg'>" + "x" * 1_000 + "</svg>"
    monkeypatch.setattr(report_molecules, "molecule_svg", lambda smiles: drawing)
    monkeypatch.setattr(report_molecules, "DEPICTION_BUDGET_BYTES", 2_500)
    section = _section(render_report(MANIFEST_IN, METRICS_IN), "worst")
    assert section.count("<svg class='mol-svg'>") == 3
    assert section.count('class="mol-svg placeholder" role="img" aria-label="not drawn: report size limit"') == 3


def test_empty_manifest_and_metrics_still_give_a_page() -> None:
    page = render_report({}, {})
    assert page.startswith("<!DOCTYPE html>")
    assert "No molecule was judged, so there is no PASS-rate." in page
    assert "The manifest names no input." in page


def test_wrongly_shaped_metrics_give_n_a_not_an_exception(fast: None) -> None:
    metrics = {
        "counts": [1, 2],
        "n_judged": "many",
        "pass_rate": float("nan"),
        "slack": {"median": float("inf"), "mean": True},
        "realism": {"bins": {"hard": {"auc": "high", "n_pairs": None, "range": "0.7-1"}}},
        "worst_molecules": [None, {"top_decoys": "none"}],
        "problem_rows": "none",
        "top_reasons": [{"reason": None}],
    }
    page = render_report({"inputs": "x", "engine": None}, metrics)
    assert "n/a" in _section(page, "slack")
    assert "hard n/a n/a n/a" in _plain(_section(page, "realism"))


# --- in a real pack -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report-pack")
    drugs = folder / "drugs.csv"
    rows = [("aspirin", ASPIRIN), ("caffeine", CAFFEINE), ("ibuprofen", IBUPROFEN), ("paracetamol", PARACETAMOL)]
    drugs.write_text("id,smiles\n" + "".join(f"{i},{s}\n" for i, s in rows) + "bad,C1CC\n", encoding="utf-8")
    out = folder / "pack"
    run_audit(drugs, out, config=RunConfig(k_decoys=4), scorer=make_scorer("qed"), created_at=CREATED_AT)
    return out


def test_every_pack_has_a_report_covered_by_manifest_checksums_and_zip(real_pack: Path) -> None:
    report = (real_pack / REPORT).read_bytes()
    manifest = json.loads((real_pack / MANIFEST).read_text(encoding="utf-8"))
    assert REPORT in [entry["path"] for entry in manifest["files"]]
    assert f"  {REPORT}\n" in (real_pack / CHECKSUMS).read_text(encoding="utf-8")
    import zipfile  # noqa: PLC0415 - only this test reads the zip

    with zipfile.ZipFile(real_pack / ZIP) as archive:
        assert archive.read(REPORT) == report
    assert verify_pack(real_pack).members_checked == 7


def test_pack_report_is_the_render_of_its_own_manifest_and_metrics(real_pack: Path) -> None:
    """Anyone can re-render the report from the pack's JSON and get the same bytes (same library versions)."""
    manifest = json.loads((real_pack / MANIFEST).read_text(encoding="utf-8"))
    metrics = json.loads((real_pack / METRICS).read_text(encoding="utf-8"))
    del manifest["files"]
    assert render_report(manifest, metrics).encode("utf-8") == (real_pack / REPORT).read_bytes()


def test_pack_report_shows_the_real_run(real_pack: Path) -> None:
    page = (real_pack / REPORT).read_text(encoding="utf-8")
    assert "drugs.csv" in _plain(_section(page, "facts"))
    assert "bad SKIP invalid_smiles" in _plain(_section(page, "problems"))
    assert _section(page, "worst").count("<svg class='mol-svg'") > 0


def test_index_md_links_to_the_report(real_pack: Path) -> None:
    assert f"[{REPORT}]({REPORT})" in (real_pack / INDEX).read_text(encoding="utf-8")


def test_pack_builder_renders_a_report_when_none_is_given(tmp_path: Path) -> None:
    with PackBuilder(tmp_path / "pack") as builder:
        info = builder.finish(metrics={}, manifest={}, index_md="", created_at=CREATED_AT)
    page = (info.path / REPORT).read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert REPORT in info.files


def test_pack_builder_writes_the_report_it_is_given_with_unix_newlines(tmp_path: Path) -> None:
    with PackBuilder(tmp_path / "pack") as builder:
        info = builder.finish(
            metrics={}, manifest={}, index_md="", report_html="<p>a</p>\r\n<p>b</p>\r", created_at=CREATED_AT
        )
    assert (info.path / REPORT).read_bytes() == b"<p>a</p>\n<p>b</p>\n"
