"""The molecules of report.html: the worst-fooled ones drawn beside the decoys they lost to, and the problem rows.

Drawings share one byte budget so the page stays small whatever the input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hetero_core.layout import SUMMARY
from hetero_core.reasons import Status
from hetero_core.report._depiction import molecule_svg, placeholder_svg
from hetero_core.report._markup import (
    _REASON_TEXT,
    DEPICTION_BUDGET_BYTES,
    DETAIL_CHARS,
    ID_CHARS,
    MAX_PROBLEM_ROWS,
    MAX_TOP_DECOYS,
    MAX_WORST_MOLECULES,
    SMILES_CHARS,
    _count,
    _e,
    _int_text,
    _map,
    _num,
    _number,
    _section,
    _seq,
    _table,
)

if TYPE_CHECKING:
    from collections.abc import Mapping


class _DepictionBudget:
    """Draws molecules until their bytes reach the budget, then placeholders: a bound on the page size."""

    def __init__(self, limit: int) -> None:
        self.left = limit

    def draw(self, smiles: object) -> str:
        text = smiles if isinstance(smiles, str) else ""
        if self.left <= 0:
            return placeholder_svg("not drawn: report size limit")
        svg = molecule_svg(text)
        self.left -= len(svg)
        return svg


def _card(svg: str, title: str, score: str, smiles: object, css: str, similarity: float | None = None) -> str:
    text = smiles if isinstance(smiles, str) else ""
    similar = f" · similarity {_num(similarity, 2)}" if similarity is not None else ""
    return (
        f'<figure class="card {css}">\n{svg}<figcaption><b>{title}</b> · score {score}{similar}<br>'
        f"<code>{_e(text, SMILES_CHARS)}</code></figcaption>\n</figure>"
    )


def _worst_section(metrics: Mapping[str, Any]) -> str:
    worst = [_map(m) for m in _seq(metrics.get("worst_molecules"), MAX_WORST_MOLECULES)]
    if not worst:
        return _section(
            "worst", "Where the model was fooled worst", ['<p class="note">No judged molecule, so none to show.</p>']
        )
    parts = []
    any_fail = any((_number(m.get("slack")) or 0.0) < 0 for m in worst)
    if any_fail:
        parts.append(
            "<p>The judged molecules with the lowest slack, worst first. Each is drawn beside the decoys the model "
            "scored highest; a decoy framed in orange scored above the real molecule, i.e. the model preferred a "
            "rewired version with the same atoms.</p>"
        )
    else:
        parts.append(
            "<p>Every molecule shown PASSed: the model was not fooled. These are its closest calls (lowest slack), "
            "each drawn beside the decoys it scored highest.</p>"
        )
    budget = _DepictionBudget(DEPICTION_BUDGET_BYTES)
    lower = _map(metrics.get("config")).get("score_direction") == "lower"
    for rank, molecule in enumerate(worst, start=1):
        slack = _number(molecule.get("slack"))
        verdict = "PASS" if slack is not None and slack >= 0 else "FAIL"
        original_score = _number(molecule.get("score_original"))
        cards = [
            _card(
                budget.draw(molecule.get("canonical_smiles")),
                "original",
                _num(original_score),
                molecule.get("canonical_smiles"),
                "original",
            )
        ]
        for position, decoy in enumerate(_seq(molecule.get("top_decoys"), MAX_TOP_DECOYS), start=1):
            item = _map(decoy)
            score = _number(item.get("score"))
            # "above" means preferred by the model: a higher score, or a lower one when lower is better
            above = (
                score is not None and original_score is not None and (score - original_score) * (-1 if lower else 1) > 0
            )
            cards.append(
                _card(
                    budget.draw(item.get("smiles")),
                    f"decoy {position}" + (" · preferred to the original" if above else ""),
                    _num(score),
                    item.get("smiles"),
                    "above" if above else "decoy",
                    _number(item.get("similarity")),
                )
            )
        parts += [
            '<article class="mol">',
            f'<h3>{rank}. {_e(molecule.get("id"), ID_CHARS)} — <span class="{verdict.lower()}">{verdict}</span>, '
            f"slack {_num(slack)}, AUC {_num(molecule.get('auc'))}</h3>",
            '<div class="cards">',
            *cards,
            "</div>",
            "</article>",
        ]
    return _section("worst", "Where the model was fooled worst", parts)


def _problems_section(metrics: Mapping[str, Any]) -> str:
    counts = _map(metrics.get("counts"))
    total = (_count(counts.get(Status.SKIP)) or 0) + (_count(counts.get(Status.ERROR)) or 0)
    problems = [_map(p) for p in _seq(metrics.get("problem_rows"), MAX_PROBLEM_ROWS)]
    parts = []
    if not problems:
        parts.append("<p>None: every row was audited.</p>" if not total else "<p>The metrics list no row.</p>")
    else:
        shown = f"The first {len(problems)} of {total:,}" if total > len(problems) else f"All {len(problems)}"
        parts.append(
            f"<p>{shown} SKIP and ERROR rows, in input order (row = data line number); every one is in "
            f"<code>{SUMMARY}</code> with its reason.</p>"
        )
        rows = [
            [
                _int_text(p.get("row")),
                _e(p.get("id"), ID_CHARS),
                _e(p.get("status")),
                f'<code class="reason">{_e(p.get("reason"))}</code>',
                _e(p.get("detail"), DETAIL_CHARS) or _e(_REASON_TEXT.get(str(p.get("reason")), "")),
            ]
            for p in problems
        ]
        parts.append(_table(["row", "id", "status", "reason", "detail"], rows, [True, False, False, False, False]))
    return _section("problems", "SKIP and ERROR rows", parts)
