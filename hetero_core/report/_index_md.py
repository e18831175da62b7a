"""``index.md``: the pack's first page for a person — what was run, what came out, how to check it.

Rendered only from the manifest and the metrics, so it is as deterministic as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hetero_core.layout import CHECKSUMS, DECOYS, MANIFEST, METRICS, REPORT, SUMMARY

INTERPRETATION_TEXT = {
    "SUCCESS_SIGNAL_ON_HARD": "the model still ranks real molecules above decoys that look very much like them",
    "ILLUSION_CONFIRMED": "on decoys that look like the real molecules the model does no better than chance",
    "INCONCLUSIVE_DECOYS_TOO_EASY": "too few close decoys to tell whether the model reads structure",
}


def human_number(value: Any, digits: int = 3) -> str:
    """A metric for people: n/a for missing, fixed decimals, tiny p-values in exponent form."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e-3 and value != 0 else f"{value:.{digits}f}"
    return str(value)


def _cell(text: str) -> str:
    """Keep user text from breaking the Markdown table."""
    return text.replace("|", "\\|").replace("\n", " ")[:120]


def render_index(manifest: Mapping[str, Any], metrics: Mapping[str, Any]) -> str:
    counts = metrics["counts"]
    slack = metrics["slack"]
    realism = metrics["realism"]
    decoys = metrics["decoys"]
    params = manifest["parameters"]
    molecules = manifest["inputs"][0]
    lines = [
        "# HETERO-2 evidence pack",
        "",
        f"The full report, with plots and the worst molecules drawn beside their decoys: [{REPORT}]({REPORT}).",
        "",
        f"Created {manifest['created_at']} by {manifest['engine']['name']} {manifest['engine']['version']} "
        f"(commit {manifest['engine']['git_commit']}), RDKit {manifest['runtime']['rdkit']}.",
        "",
        f"Input `{_cell(molecules['name'])}`: {molecules['rows']} rows, sha256 `{molecules['sha256']}`. "
        f"Scores: **{params['scorer']}**. Decoys per molecule asked: {params['k_decoys']}; "
        f"seed {params['seed']} (by {params['seed_by']}); hard mode {'on' if params['hard_mode'] else 'off'}; "
        f"standardisation {'on' if params['standardize'] else 'off'}.",
        "",
        "## Rows",
        "",
        "| OK | SKIP | ERROR | total |",
        "|---:|---:|---:|---:|",
        f"| {counts['OK']} | {counts['SKIP']} | {counts['ERROR']} | {counts['total']} |",
        "",
    ]
    if metrics["top_reasons"]:
        lines += ["| reason | rows |", "|---|---:|"]
        lines += [f"| `{r['reason']}` | {r['count']} |" for r in metrics["top_reasons"]]
        lines.append("")
    lines += [
        "## Audit",
        "",
        f"- Molecules judged: {metrics['n_judged']}; PASS-rate **{human_number(metrics['pass_rate'])}** "
        f"(chance alone would give {human_number(metrics['expected_pass_rate_by_chance'])}; "
        f"p-value {human_number(metrics['pass_rate_p_value'])}).",
        f"- Slack: median {human_number(slack['median'])}, p25 {human_number(slack['p25'])}, "
        f"p75 {human_number(slack['p75'])}, "
        f"mean {human_number(slack['mean'])}.",
        f"- Decoys: {human_number(decoys['mean_per_molecule'], 1)} per molecule; "
        f"{human_number(decoys['share_reaching_k'])} of molecules got all {decoys['k']}.",
        "",
        "## Decoy realism",
        "",
        "| similarity bin | pairs | AUC |",
        "|---|---:|---:|",
    ]
    for name, block in realism["bins"].items():
        lines.append(f"| {name} | {block['n_pairs']} | {human_number(block['auc'])} |")
    interpretation = realism["interpretation"]
    lines += [
        "",
        f"Interpretation: **{interpretation}** — {INTERPRETATION_TEXT.get(interpretation, '')}"
        + (" (the model only beats easy decoys)." if realism.get("easy_only") else "."),
        "",
    ]
    if metrics["worst_molecules"]:
        lines += ["## Molecules where the model was fooled most", "", "| id | slack | SMILES |", "|---|---:|---|"]
        lines += [
            f"| {_cell(m['id'])} | {human_number(m['slack'])} | `{_cell(m['canonical_smiles'])}` |"
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
