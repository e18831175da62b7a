"""Formatting primitives of report.html: limits, the stylesheet, escaped cells, tables and fact lists.

Every helper here escapes and clips what it is given, so a section never writes customer text raw.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from typing import Any

from hetero_core.reasons import ErrorReason, SkipReason
from hetero_core.report._index_md import human_number
from hetero_core.report._plots import PlotDataError

MAX_WORST_MOLECULES = 10
MAX_TOP_DECOYS = 3
MAX_PROBLEM_ROWS = 25
MAX_REASONS = 20
MAX_INPUTS = 10
MAX_SERVICE_IDS = 20
MAX_CALIBRATION_RUNS = 10
# Molecule drawings stop (placeholders instead) once they add up to this; keeps the page under ~1 MB.
DEPICTION_BUDGET_BYTES = 450_000
# Longest customer text shown before it is clipped with an ellipsis.
ID_CHARS = 80
SMILES_CHARS = 200
DETAIL_CHARS = 200
NAME_CHARS = 120
# Conventional significance level for the plain-words reading of the PASS-rate p-value.
SIGNIFICANCE_LEVEL = 0.05
STRONG_SIGNIFICANCE_LEVEL = 0.001

_BIN_ORDER = ("easy", "medium", "hard", "near_identical")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_REASON_TEXT: dict[str, str] = {
    SkipReason.MISSING_SMILES: "the SMILES cell is empty",
    SkipReason.INVALID_SMILES: "RDKit cannot parse or sanitise the SMILES",
    SkipReason.TOO_MANY_ATOMS: "more heavy atoms than the limit (parameter max_heavy_atoms)",
    SkipReason.DISCONNECTED: "more than one fragment (a salt or a mixture); --standardize keeps the largest",
    SkipReason.DUPLICATE_ID: "an earlier row has the same id",
    SkipReason.NO_DECOYS_GENERATED: "no bond could be rewired into a valid decoy (small or very symmetric molecule)",
    SkipReason.MISSING_SCORES: "the scores give no score for the original",
    SkipReason.MISSING_SCORES_FOR_ALL_DECOYS: "the scores give no score for any of its decoys",
    ErrorReason.TIMEOUT: "the molecule took longer than the time limit (parameter timeout_s)",
    ErrorReason.CHUNK_FAILED: "the worker process died twice on this row",
    ErrorReason.INTERNAL_ERROR: "a fault in the engine; the detail names the exception",
    ErrorReason.SCORER_ERROR: "the audited model failed on this molecule or one of its decoys; the detail says how",
}

_CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  max-width: 1100px; margin: 0 auto; padding: 24px; color: #1a1a1a; background: #ffffff; line-height: 1.45; }
h1 { font-size: 1.6em; margin: 0 0 0.2em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #d0d0d0; padding-bottom: 0.2em; margin-top: 1.8em; }
h3 { font-size: 1.05em; margin: 0 0 0.4em; }
p.lead { color: #444444; margin-top: 0; }
.box { background: #f3f7fa; border-left: 4px solid #0072b2; padding: 0.6em 1em; }
.box p { margin: 0.3em 0; }
.note { color: #555555; font-size: 0.92em; }
table { border-collapse: collapse; margin: 0.6em 0; }
th, td { border: 1px solid #d8d8d8; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f5f5f5; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code.reason { white-space: nowrap; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.88em;
  overflow-wrap: anywhere; }
.pass { color: #005a8c; font-weight: 600; }
.fail { color: #a33b00; font-weight: 600; }
nav ol { columns: 2; margin: 0.4em 0; }
figure.plot { margin: 0.6em 0; }
svg.plot { width: 100%; max-width: 760px; height: auto; display: block; }
figure.plot figcaption { font-size: 0.9em; color: #444444; }
article.mol { border: 1px solid #e0e0e0; padding: 0.6em 0.8em; margin: 0.9em 0; }
.cards { display: flex; flex-wrap: wrap; gap: 8px; }
figure.card { margin: 0; width: 224px; border: 1px solid #d8d8d8; padding: 2px; background: #ffffff; }
figure.card.original { border: 2px solid #0072b2; }
figure.card.above { border: 2px solid #d55e00; }
figure.card figcaption { font-size: 0.82em; padding: 2px 4px; }
svg.mol-svg { display: block; width: 220px; height: auto; }
footer { margin-top: 2.5em; border-top: 1px solid #d0d0d0; padding-top: 0.6em; font-size: 0.9em; color: #444444; }
@page { size: A4; margin: 14mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav { display: none; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  article.mol, figure, table, .box { break-inside: avoid; page-break-inside: avoid; }
  .cards { gap: 4px; flex-wrap: nowrap; }
  figure.card { width: 25%; box-sizing: border-box; }
  svg.mol-svg { width: 100%; }
  figure.card figcaption { font-size: 7pt; }
  a { color: inherit; text-decoration: none; }
}
"""


# --- reading the metrics without trusting their shape -----------------------------------------------------------


def _map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _seq(value: object, limit: int) -> list[Any]:
    return list(value[:limit]) if isinstance(value, list | tuple) else []


def _number(value: object) -> float | None:
    """A finite real number, else None (bools, text and NaN are not numbers to show)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _count(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, Integral):
        return None
    return int(value)


# --- text for people ---------------------------------------------------------------------------------------------


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _e(value: object, limit: int = NAME_CHARS) -> str:
    """Customer text made safe for HTML: control characters and lone surrogates replaced, clipped, escaped."""
    text = "" if value is None else str(value)
    text = _CONTROL.sub("\ufffd", text).encode("utf-8", "replace").decode("utf-8")
    return html.escape(_clip(text, limit), quote=True)


def _num(value: object, digits: int = 3) -> str:
    number = _number(value)
    if number is None:
        count = _count(value)
        return "n/a" if count is None else str(count)
    return human_number(number, digits)


def _pct(value: object) -> str:
    number = _number(value)
    return "n/a" if number is None else f"{number * 100:.1f}%"


def _int_text(value: object) -> str:
    count = _count(value)
    return "n/a" if count is None else f"{count:,}"


def _param(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(_param(item) for item in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _row(cells: Sequence[str], numeric: Sequence[bool] | None = None, header: bool = False) -> str:
    tag = "th" if header else "td"
    flags = numeric or [False] * len(cells)
    numeric_class = ' class="num"'
    return (
        "<tr>"
        + "".join(f"<{tag}{numeric_class if n else ''}>{c}</{tag}>" for c, n in zip(cells, flags, strict=True))
        + "</tr>"
    )


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool] | None = None) -> str:
    lines = ["<table>", "<thead>" + _row(header, numeric, header=True) + "</thead>", "<tbody>"]
    lines += [_row(row, numeric) for row in rows]
    lines += ["</tbody>", "</table>"]
    return "\n".join(lines)


def _section(section_id: str, title: str, body: Sequence[str]) -> str:
    """One report section: the anchor the table of contents links to, its heading, then its body."""
    return "\n".join([f'<section id="{section_id}">', f"<h2>{title}</h2>", *body, "</section>"])


def _facts(pairs: Sequence[tuple[str, str]]) -> str:
    """A two-column table of label → value; values are already escaped HTML."""
    return (
        "<table>\n<tbody>\n"
        + "\n".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in pairs)
        + "\n</tbody>\n</table>"
    )


def _plot(render: Any, *args: Any, caption: str) -> str:
    try:
        svg = render(*args)
    except PlotDataError as error:
        return f'<p class="note">No plot: the metrics do not hold drawable numbers ({_e(error, 160)}).</p>'
    return f'<figure class="plot">\n{svg}<figcaption>{caption}</figcaption>\n</figure>'


def _histogram(block: Mapping[str, Any], edges_key: str) -> tuple[list[float], list[int]] | None:
    edges_raw, counts_raw = block.get(edges_key), block.get("counts")
    if not isinstance(edges_raw, list | tuple) or not isinstance(counts_raw, list | tuple):
        return None
    edges = [_number(edge) for edge in edges_raw]
    counts = [_count(count) for count in counts_raw]
    if any(edge is None for edge in edges) or any(count is None for count in counts):
        return None
    return [e for e in edges if e is not None], [c for c in counts if c is not None]


def _reachable(
    histogram: tuple[list[float], list[int]] | None, top: float | None
) -> tuple[list[float], list[int]] | None:
    """The slack histogram cut after the bin holding max(0, the largest slack): slack = AUC − gate cannot exceed
    1 − gate, which is 0 at k = 20, so the empty bins up to +1 would only suggest values no molecule can reach."""
    if histogram is None:
        return None
    edges, counts = histogram
    if len(edges) != len(counts) + 1:
        return histogram  # malformed: left for the plot to refuse with its note
    keep = sum(1 for left in edges[:-1] if left <= max(0.0, top or 0.0) + 1e-12)
    return (edges[: keep + 1], counts[:keep]) if keep else histogram


# --- sections ----------------------------------------------------------------------------------------------------
