"""The report's opening for a reviewer: the decision box, then how the audit works, then what it cannot show.

A governance reviewer signs off on the first screen: the outcome (GO, STOP or INCONCLUSIVE), one plain
sentence why, which model, and the rule that decided. The methods say in words what a PASS means at this
run's k (with the defaults and 20 decoys, "the original beats all 20 decoys"), and the limitations name
what this particular run could not see (skipped salts, missing scores, few hard pairs).
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

from hetero_core.audit import null_auc_quantile_exact
from hetero_core.report._markup import _count, _e, _int_text, _map, _number, _pct, _section, _seq
from hetero_core.report._model import model_text

if TYPE_CHECKING:
    from collections.abc import Mapping

OUTCOME_CLASS = {"GO": "go", "STOP": "stop", "INCONCLUSIVE": "inconclusive"}

DECISION_CSS = """
.decision { border-left-width: 8px; margin-bottom: 0.8em; }
.decision.go { border-left-color: #009e73; background: #eef8f4; }
.decision.stop { border-left-color: #d55e00; background: #fbf1ea; }
.decision.inconclusive { border-left-color: #7f7f7f; background: #f4f4f4; }
.decision .outcome { font-size: 1.5em; margin: 0.1em 0 0.3em 0; }
"""


def _gate_at(k: int, q: float, margin: float) -> Fraction | None:
    """The gate of a molecule with k scored decoys (exact), or None for parameters the report cannot read."""
    if k < 1 or not 0.0 < q < 1.0 or not margin >= 0.0:
        return None
    return min(Fraction(1), null_auc_quantile_exact(1, k, q) + Fraction(margin).limit_denominator(10**9))


def pass_meaning(k: int | None, q: float | None, margin: float | None) -> str:
    """What PASS means in words at this k: "beats all 20 decoys" when the gate is 1."""
    if k is None or q is None or margin is None:
        return "PASS means the original's AUC against its decoys reaches the gate (null quantile + margin)."
    gate = _gate_at(k, q, margin)
    if gate is None:
        return "PASS means the original's AUC against its decoys reaches the gate (null quantile + margin)."
    chance = f"a model with no signal PASSes such a molecule with probability 1/{k + 1} ({1 / (k + 1):.1%})"
    if gate == 1:
        return (
            f"With {k} decoys the gate is 1: PASS means the original scores above all {k} of its decoys (a tie "
            f"with any decoy counts half and is a FAIL); {chance}."
        )
    needed = -(-gate * k // 1)  # ceil(gate * k): decoys to beat, ties counting half
    if needed >= k:
        return (
            f"With {k} decoys the gate is {float(gate):.3f}: PASS means the original scores above all {k} of its "
            f"decoys; {chance}."
        )
    return (
        f"With {k} decoys the gate is {float(gate):.3f}: PASS means the original beats at least {needed} of its {k} "
        "decoys (ties count half)."
    )


def decision_box(manifest: Mapping[str, Any], metrics: Mapping[str, Any]) -> str:
    """The first box of the report: outcome, one sentence why, the model, the rule used."""
    decision = _map(metrics.get("decision"))
    outcome = str(decision.get("outcome", ""))
    css = OUTCOME_CLASS.get(outcome)
    if css is None:
        return (
            '<div class="box decision inconclusive"><p class="outcome">Decision: <b>none recorded</b></p>'
            "<p>This pack predates the decision (hetero_audit.v2): read the PASS-rate against chance below.</p>"
            f"<p>Model: {model_text(manifest)}</p></div>"
        )
    criteria = _map(decision.get("criteria"))
    acceptance = _map(manifest.get("acceptance"))
    if criteria.get("source") == "file":
        source = (
            f"acceptance file <code>{_e(acceptance.get('path'))}</code> (sha256 <code>{_e(acceptance.get('sha256'))}"
            "</code>)"
        )
    else:
        source = "the SPEC §5 defaults"
    rule = (
        f"GO needs at least {_int_text(criteria.get('min_judged'))} judged molecules, a PASS-rate above chance at "
        f"one-sided p &lt; {_e(criteria.get('alpha'))}, at most {_int_text(criteria.get('max_errors'))} ERROR rows, "
        f"score coverage of at least {_pct(criteria.get('min_score_coverage'))} and at least "
        f"{_int_text(criteria.get('min_hard_pairs'))} scored hard pairs. STOP when the PASS-rate is not above chance "
        "(or below it) with enough molecules; otherwise INCONCLUSIVE."
    )
    return "\n".join(
        [
            f'<div class="box decision {css}" id="decision">',
            f'<p class="outcome">Decision: <b>{_e(outcome)}</b></p>',
            f"<p>{_e(decision.get('sentence'), 600)}</p>",
            f"<p>Model: {model_text(manifest)}</p>",
            f'<p class="note">Rule: {rule} Criteria: {source}.</p>',
            "</div>",
        ]
    )


def methods_section(manifest: Mapping[str, Any], metrics: Mapping[str, Any]) -> str:
    """How the numbers were made, in words a reviewer can check against the pack."""
    parameters = _map(manifest.get("parameters")) or _map(metrics.get("config"))
    k = _count(parameters.get("k_decoys"))
    q, margin = _number(parameters.get("q")), _number(parameters.get("margin"))
    hard_bin = _map(_map(_map(metrics.get("realism")).get("bins")).get("hard"))
    window = [_number(b) for b in _seq(hard_bin.get("range"), 2)]
    window_text = f"{window[0]:g}–{window[1]:g}" if len(window) == 2 and None not in window else "0.65–0.95"
    hard_mode = (
        f" Hard mode was on: only decoys with similarity {window_text} to their original were kept."
        if parameters.get("hard_mode")
        else ""
    )
    direction = "lower" if parameters.get("score_direction") == "lower" else "higher"
    return _section(
        "methods",
        "Methods",
        [
            f"<p><b>Decoys.</b> For every molecule the engine builds up to {_int_text(k)} decoys: molecules with the "
            "same atoms (same formula, charges and isotopes) in which every heavy atom keeps its number of "
            "neighbours, made by swapping the ends of two single bonds. Each decoy is a valid, connected molecule, "
            "different from its original and from the other decoys, and the same input and seed give the same "
            f"decoys on any machine.{hard_mode}</p>",
            f"<p><b>Scores.</b> The model scored the original and every decoy as exported in <code>decoys.csv</code> "
            f"(full precision; {direction} score = more likely real). Two scores within 1e-9 (relative) of each "
            "other count as a tie.</p>",
            "<p><b>PASS.</b> Per molecule, the AUC is the share of its decoys the original outscores (ties count "
            "half); the gate is the 95% quantile of that AUC for a model with no signal plus a margin. "
            f"{_e(pass_meaning(k, q, margin), 600)}</p>",
            "<p><b>PASS-rate against chance.</b> Each molecule's chance of a PASS is known exactly, so the number of "
            "PASSes is compared with what luck gives in both directions: more (the model reads structure) and "
            "fewer (the model prefers the rewired decoys).</p>",
            "<p><b>Realism.</b> The share of (original, decoy) pairs the original wins, split by how similar the "
            f"decoy is (Tanimoto on Morgan fingerprints); hard is {window_text}, hard mode's window, with a 95% "
            "interval from resampling molecules. It measures whether the model separates close look-alikes one pair "
            "at a time. It does not measure whether the model's scores are right about activity, whether the decoys "
            "could be made, or whether molecules PASS.</p>",
        ],
    )


def limitations_section(manifest: Mapping[str, Any], metrics: Mapping[str, Any]) -> str:
    """What this run could not see: skipped rows, missing scores, few hard pairs, short decoy sets."""
    parameters = _map(manifest.get("parameters")) or _map(metrics.get("config"))
    reasons = {
        str(_map(r).get("reason")): _count(_map(r).get("count")) or 0 for r in _seq(metrics.get("top_reasons"), 50)
    }
    decision = _map(metrics.get("decision"))
    measured = _map(decision.get("measured"))
    coverage = _map(metrics.get("scores_coverage"))
    decoys = _map(metrics.get("decoys"))
    hard = _map(_map(_map(metrics.get("realism")).get("bins")).get("hard"))
    items: list[str] = []
    disconnected = reasons.get("disconnected", 0)
    if disconnected:
        items.append(
            f"{disconnected:,} row(s) were skipped as salts or mixtures (more than one fragment); "
            "<code>--standardize</code> keeps the largest fragment so they are audited."
        )
    elif parameters.get("standardize"):
        items.append("Standardisation was on: salts were reduced to their largest fragment and charges neutralised.")
    skipped = sum(reasons.values()) - disconnected
    if skipped:
        items.append(f"{skipped:,} further row(s) were skipped or failed (see Rows and reasons).")
    score_share = _number(measured.get("score_coverage"))
    if score_share is None:
        score_share = _number(coverage.get("decoy_coverage"))
    items.append(
        f"Score coverage: {_pct(score_share)} (the lower of originals and decoys with a score); "
        "a decoy without a score is left out of its molecule's AUC."
    )
    hard_pairs = _count(hard.get("n_pairs"))
    items.append(
        f"{_int_text(hard_pairs)} scored hard pairs in {_int_text(hard.get('n_molecules'))} molecules"
        + (" — too few for the realism reading" if hard_pairs is not None and hard_pairs < 50 else "")
        + "."
    )
    share = _number(decoys.get("share_reaching_k"))
    if share is not None and share < 1.0:
        items.append(
            f"Only {_pct(share)} of molecules got all {_int_text(decoys.get('k'))} decoys; a molecule with fewer "
            "decoys PASSes by chance more often, and its own gate and chance rate are used."
        )
    items.append(
        "The audit shows whether this model ranks these molecules above rewired look-alikes; it does not validate "
        "the model's predictions of activity or properties, and says nothing about molecules unlike these."
    )
    body = "".join(f"<li>{item}</li>" for item in items)
    return _section("limitations", "Limitations of this run", [f"<ul>{body}</ul>"])
