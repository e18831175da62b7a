"""``index.md``: the pack's first page for a person — what was run, what came out, how to check it.

Rendered only from the manifest and the metrics, so it is as deterministic as they are.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

from hetero_core.layout import CHECKSUMS, DECOYS, MANIFEST, METRICS, REPORT, SUMMARY

INTERPRETATION_TEXT = {
    # hetero_audit.v3: neutral statements of what was measured on the hard pairs
    "DECOYS_TOO_EASY_TO_JUDGE": "too few decoys close to their originals (median similarity below 0.55 or fewer "
    "than 50 hard pairs) to say anything about structure",
    "HARD_PAIR_AUC_ABOVE_THRESHOLD": "on hard pairs the original outscored its decoy more often than 0.55 of the "
    "time, the whole 95% interval included; this counts single pairs, not molecules that PASS",
    "HARD_PAIR_AUC_UNCERTAIN": "the 95% interval of the hard-pair AUC straddles 0.55: these data cannot say whether "
    "the model separates real molecules from close look-alikes",
    "HARD_PAIR_AUC_NOT_ABOVE_THRESHOLD": "on hard pairs the original did not outscore its decoy more often than 0.55 "
    "of the time: no sign that the model tells real molecules from close look-alikes",
    # hetero_audit.v2 packs, still rendered by name
    "SUCCESS_SIGNAL_ON_HARD": "(hetero_audit.v2 label) hard-pair AUC above 0.55",
    "ILLUSION_CONFIRMED": "(hetero_audit.v2 label) hard-pair AUC not above 0.55",
    "INCONCLUSIVE_DECOYS_TOO_EASY": "(hetero_audit.v2 label) too few close decoys to judge",
}

FINDING_TEXT = {
    "above_chance": "more molecules PASS than chance allows",
    "below_chance": "fewer molecules PASS than chance would give: the model prefers the decoys",
    "consistent_with_chance": "the PASS count is within what chance gives",
}


def p_number(value: Any) -> str:
    """A p-value's magnitude for a sentence: "below 0.001" or three decimals, never "0.000"."""
    if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
        return "n/a"
    return "below 0.001" if value < 0.001 else f"{value:.3f}"


def p_text(value: Any) -> str:
    """A p-value for people: "p < 0.001" below that, "p = 0.123" above, never "p = 0.000"."""
    number = p_number(value)
    if number == "n/a":
        return "p n/a"
    return "p < 0.001" if number == "below 0.001" else f"p = {number}"


def human_number(value: Any, digits: int = 3) -> str:
    """A metric for people: n/a for missing, fixed decimals, tiny p-values in exponent form."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e-3 and value != 0 else f"{value:.{digits}f}"
    return str(value)


def _cell(value: object) -> str:
    """Any cell text made inert: HTML escaped (a Markdown viewer renders raw HTML), pipes and breaks defused."""
    text = html.escape(str(value)[:120], quote=True)
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ").replace("`", "&#96;")


def _significance_line(metrics: Mapping[str, Any]) -> str:
    block = metrics.get("significance")
    if not isinstance(block, Mapping):  # a hetero_audit.v2 pack: upper tail only
        return f"{p_text(metrics.get('pass_rate_p_value'))} for at least this many PASS by chance"
    finding = str(block.get("finding"))
    return (
        f"better than chance: {p_text(block.get('p_better_than_chance'))}; worse than chance: "
        f"{p_text(block.get('p_worse_than_chance'))} — {FINDING_TEXT.get(finding, _cell(finding))}"
    )


def render_index(manifest: Mapping[str, Any], metrics: Mapping[str, Any]) -> str:
    """index.md from the manifest and metrics; every value that reaches a table or line goes through ``_cell``."""
    counts = metrics["counts"]
    slack = metrics["slack"]
    realism = metrics["realism"]
    decoys = metrics["decoys"]
    params = manifest["parameters"]
    molecules = manifest["inputs"][0]
    model = manifest.get("model") or {}
    model_name = _cell(model.get("name")) if model.get("name") else "unnamed (no --model-name given)"
    if model.get("version"):
        model_name += f" version {_cell(model['version'])}"
    lines = [
        "# HETERO-2 evidence pack",
        "",
        f"The full report, with plots and the worst molecules drawn beside their decoys: [{REPORT}]({REPORT}).",
        "",
        f"Created {_cell(manifest['created_at'])} by {_cell(manifest['engine']['name'])} "
        f"{_cell(manifest['engine']['version'])} (commit {_cell(manifest['engine']['git_commit'])}), "
        f"RDKit {_cell(manifest['runtime']['rdkit'])}.",
        "",
        f"Model: **{model_name}**; scores: **{_cell(params['scorer'])}**, "
        f"{_cell(params.get('score_direction', 'higher'))} is more likely real.",
        "",
        f"Input {_cell(molecules['name'])}: {_cell(molecules['rows'])} rows, sha256 {_cell(molecules['sha256'])}. "
        f"Decoys per molecule asked: {_cell(params['k_decoys'])}; seed {_cell(params['seed'])} "
        f"(by {_cell(params['seed_by'])}); hard mode {'on' if params['hard_mode'] else 'off'}; "
        f"standardisation {'on' if params['standardize'] else 'off'}.",
        "",
        "## Rows",
        "",
        "| OK | SKIP | ERROR | total |",
        "|---:|---:|---:|---:|",
        f"| {_cell(counts['OK'])} | {_cell(counts['SKIP'])} | {_cell(counts['ERROR'])} | {_cell(counts['total'])} |",
        "",
    ]
    if metrics["top_reasons"]:
        lines += ["| reason | rows |", "|---|---:|"]
        lines += [f"| {_cell(r['reason'])} | {_cell(r['count'])} |" for r in metrics["top_reasons"]]
        lines.append("")
    lines += [
        "## Audit",
        "",
        f"- Molecules judged: {_cell(metrics['n_judged'])}; PASS-rate **{human_number(metrics['pass_rate'])}** "
        f"(chance alone would give {human_number(metrics['expected_pass_rate_by_chance'])}).",
        f"- Significance: {_significance_line(metrics)}.",
        f"- Slack: median {human_number(slack['median'])}, p25 {human_number(slack['p25'])}, "
        f"p75 {human_number(slack['p75'])}, "
        f"mean {human_number(slack['mean'])}.",
        f"- Decoys: {human_number(decoys['mean_per_molecule'], 1)} per molecule; "
        f"{human_number(decoys['share_reaching_k'])} of molecules got all {_cell(decoys['k'])}.",
        "",
        "## Decoy realism",
        "",
        "| similarity bin | range | pairs | AUC | 95% interval |",
        "|---|---|---:|---:|---|",
    ]
    for name, block in realism["bins"].items():
        low, high = ([*list(block.get("range") or []), None, None])[:2]
        interval = block.get("auc_ci95")
        ci = f"{human_number(interval[0])}–{human_number(interval[1])}" if interval else ""
        lines.append(
            f"| {_cell(name)} | {human_number(low, 2)}–{human_number(high, 2)} | {_cell(block['n_pairs'])} | "
            f"{human_number(block['auc'])} | {ci} |"
        )
    interpretation = str(realism["interpretation"])
    lines += [
        "",
        f"Measured: **{_cell(interpretation)}** — {INTERPRETATION_TEXT.get(interpretation, '')}"
        + (" (the model beats only easy decoys)." if realism.get("easy_only") else "."),
        "",
    ]
    if metrics["worst_molecules"]:
        lines += ["## Molecules where the model was fooled most", "", "| id | slack | SMILES |", "|---|---:|---|"]
        lines += [
            f"| {_cell(m['id'])} | {human_number(m['slack'])} | {_cell(m['canonical_smiles'])} |"
            for m in metrics["worst_molecules"]
        ]
        lines.append("")
    lines += [
        "## Members",
        "",
        f"- `{REPORT}` the report for people: plots and molecule drawings, for reading or printing;",
        f"  `{SUMMARY}` one row per input row; `{DECOYS}` every decoy with its hash and score;",
        f"  `{METRICS}` dataset statistics; `{MANIFEST}` provenance and file list; `{CHECKSUMS}` sha256 of members.",
        "",
        "Verify: `hetero2 verify <this folder or evidence_pack.zip> --public-key <published key>` "
        f"or `sha256sum -c {CHECKSUMS}`.",
        "",
    ]
    return "\n".join(lines)
