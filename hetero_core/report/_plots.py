"""The report's plots as inline SVG: slack distribution, decoy similarity, AUC by similarity bin.

``report.html`` is a checksummed, signed member of a byte-identical pack, so every plot must come out as
the same bytes in every process: no date in the metadata, element ids from a fixed salt (matplotlib
otherwise draws a random one), text drawn as paths from the DejaVu Sans file bundled with matplotlib
(not whichever copy the system font cache prefers), and ids rewritten under a per-plot prefix so several
plots can share one HTML document without clashing. The bytes then depend on the numbers and the
matplotlib version only. Plots take plain numbers (histogram counts, AUCs), never per-molecule data, so
their size does not grow with the input.

matplotlib's ``rcParams`` are process-global; rendering swaps them in a context, so do not render from two
threads of one process at the same time.
"""

from __future__ import annotations

import io
import itertools
import math
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, MaxNLocator

from hetero_core.audit import EASY_MAX, HARD_AUC_SIGNAL, MEDIUM_MAX

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from matplotlib.axes import Axes
    from matplotlib.typing import RcKeyType

__all__ = [
    "BinAuc",
    "PlotDataError",
    "auc_by_bin_svg",
    "matplotlib_version",
    "similarity_histogram_svg",
    "slack_histogram_svg",
]

# Okabe–Ito colours: distinguishable with the common colour-vision deficiencies and in greyscale print.
FAIL_COLOUR = "#d55e00"
PASS_COLOUR = "#0072b2"
NEUTRAL_COLOUR = "#56b4e9"
SHADE_COLOUR = "#f0f0f0"
LINE_COLOUR = "#333333"

CHANCE_AUC = 0.5

_FIG_WIDTH_IN = 6.4
_FIG_HEIGHT_IN = 2.5
_SALT = "hetero2-report"
_FONT_FILE = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
_FONT_SIZE = 9.0
_RC: dict[RcKeyType, Any] = {
    "svg.hashsalt": _SALT,
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": _FONT_SIZE,
    "axes.unicode_minus": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 72.0,
    "savefig.dpi": 72.0,
}
# Every key matplotlib would write into <metadata>; None drops it (Date would change every run).
_METADATA: dict[str, str | None] = {"Date": None, "Creator": None, "Format": None, "Type": None}

_ID = re.compile(r'\sid="([^"]*)"')
_REFERENCE = re.compile(r'(href="#|url\(#)([^")]*)')
_PREFIX = re.compile(r"[a-z][a-z0-9-]*")


class PlotDataError(ValueError):
    """The numbers given cannot be drawn as the plot asked for (e.g. edges and counts of different lengths)."""


@dataclass(frozen=True, slots=True)
class BinAuc:
    """One similarity bin of the realism block: its name, AUC (None when the bin is empty) and pair count."""

    name: str
    auc: float | None
    n_pairs: int


def matplotlib_version() -> str:
    """The version the plot bytes depend on; the report prints it next to the other runtime versions."""
    return str(matplotlib.__version__)


@contextmanager
def _pinned_axes() -> Iterator[tuple[Figure, Axes]]:
    """A figure with one axes, drawn under the pinned style (fonts, sizes) that keeps the SVG bytes stable."""
    with matplotlib.rc_context(_RC):
        figure = _figure()
        yield figure, figure.add_subplot()


def _font() -> FontProperties:
    return FontProperties(fname=str(_FONT_FILE), size=_FONT_SIZE)


def _pin_fonts(figure: Figure) -> None:
    """Point every text of the figure at matplotlib's own font file, keeping each text's size."""
    figure.draw_without_rendering()  # creates the tick labels, so they are found below
    for text in figure.findobj(Text):
        font = _font()
        font.set_size(text.get_fontsize())
        font.set_weight(text.get_fontweight())
        text.set_fontproperties(font)


def _namespace_ids(svg: str, prefix: str) -> str:
    """Drop ids nothing refers to and put ``prefix`` in front of the rest, so plots in one page never clash."""
    referenced = {match.group(2) for match in _REFERENCE.finditer(svg)}

    def rename_id(match: re.Match[str]) -> str:
        name = match.group(1)
        return f' id="{prefix}-{name}"' if name in referenced else ""

    def rename_reference(match: re.Match[str]) -> str:
        return f"{match.group(1)}{prefix}-{match.group(2)}"

    return _REFERENCE.sub(rename_reference, _ID.sub(rename_id, svg))


def _to_svg(figure: Figure, prefix: str, title: str) -> str:
    """Serialise a figure as an inline <svg> element (no XML prolog or doctype) with a text title."""
    if _PREFIX.fullmatch(prefix) is None:
        raise ValueError(f"plot id prefix must be lower-case letters, digits and '-': {prefix!r}")
    _pin_fonts(figure)
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata=_METADATA)
    text = buffer.getvalue()
    start = text.find("<svg")
    if start < 0:  # pragma: no cover - matplotlib always writes an <svg> element
        raise PlotDataError("matplotlib produced no <svg> element")
    svg = _namespace_ids(text[start:], prefix).rstrip() + "\n"
    # An accessible name, and the class the report's CSS sizes plots by; title is our own fixed text.
    return svg.replace("<svg ", f'<svg class="plot" role="img" aria-label="{title}" ', 1)


def _figure() -> Figure:
    # Fixed margins, not a layout engine: our labels are fixed text, and constrained layout costs 0.2 s a plot.
    figure = Figure(figsize=(_FIG_WIDTH_IN, _FIG_HEIGHT_IN))
    figure.subplots_adjust(left=0.1, right=0.96, bottom=0.2, top=0.96)
    return figure


def _check_histogram(edges: Sequence[float], counts: Sequence[int]) -> None:
    if len(counts) == 0 or len(edges) != len(counts) + 1:
        raise PlotDataError(f"a histogram needs len(edges) == len(counts) + 1 > 1, got {len(edges)} and {len(counts)}")
    if any(not math.isfinite(edge) for edge in edges) or any(b <= a for a, b in itertools.pairwise(edges)):
        raise PlotDataError(f"histogram edges must be finite and increasing: {list(edges)!r}")
    if any(count < 0 for count in counts):
        raise PlotDataError(f"histogram counts must be >= 0: {list(counts)!r}")


def _bars(axes: Axes, edges: Sequence[float], counts: Sequence[int], colour: str | list[str]) -> None:
    """A histogram's bars, each from its left edge to the next, thin white outlines between them."""
    widths = [b - a for a, b in itertools.pairwise(edges)]
    axes.bar(list(edges[:-1]), list(counts), width=widths, align="edge", color=colour, edgecolor="white", linewidth=0.5)


def slack_histogram_svg(edges: Sequence[float], counts: Sequence[int], *, prefix: str = "slack") -> str:
    """Molecules per slack bin; bins at or above 0 (PASS) and below (FAIL) in two colours, a line at 0.

    Raises:
        PlotDataError: edges and counts do not describe a histogram.
    """
    _check_histogram(edges, counts)
    with _pinned_axes() as (figure, axes):
        _bars(axes, edges, counts, [PASS_COLOUR if left >= 0 else FAIL_COLOUR for left in edges[:-1]])
        axes.axvline(0.0, color=LINE_COLOUR, linewidth=1.0, linestyle="--")
        axes.set_xlim(edges[0], edges[-1])
        axes.set_xlabel("slack = AUC − gate  (left of the dashed line: FAIL, from it rightwards: PASS)")
        axes.set_ylabel("molecules")
        _integer_y(axes, max(counts))
        return _to_svg(figure, prefix, "Histogram of slack per judged molecule")


def similarity_histogram_svg(edges: Sequence[float], counts: Sequence[int], *, prefix: str = "similarity") -> str:
    """Decoys per Tanimoto-similarity bin, with the easy / medium / hard regions shaded and named.

    Raises:
        PlotDataError: edges and counts do not describe a histogram.
    """
    _check_histogram(edges, counts)
    with _pinned_axes() as (figure, axes):
        low, high = edges[0], edges[-1]
        axes.axvspan(EASY_MAX, MEDIUM_MAX, color=SHADE_COLOUR, zorder=0)
        _bars(axes, edges, counts, NEUTRAL_COLOUR)
        for boundary in (EASY_MAX, MEDIUM_MAX):
            axes.axvline(boundary, color=LINE_COLOUR, linewidth=0.8, linestyle=":")
        top = max(*counts, 1)
        for label, centre in (
            ("easy", (low + EASY_MAX) / 2),
            ("medium", (EASY_MAX + MEDIUM_MAX) / 2),
            ("hard", (MEDIUM_MAX + high) / 2),
        ):
            axes.text(centre, top * 1.08, label, ha="center", va="bottom", color=LINE_COLOUR)
        axes.set_xlim(low, high)
        axes.set_ylim(0, top * 1.25)
        axes.set_xlabel("Tanimoto similarity of decoy to its original (Morgan r=2, 2048 bits)")
        axes.set_ylabel("decoys")
        _integer_y(axes, top)
        return _to_svg(figure, prefix, "Histogram of decoy similarity to the original")


def auc_by_bin_svg(bins: Sequence[BinAuc], *, prefix: str = "auc-bins") -> str:
    """AUC per similarity bin as bars, with chance (0.5) and the hard-bin signal threshold as lines.

    An empty bin (AUC None) is drawn as "no pairs" instead of a bar.

    Raises:
        PlotDataError: no bins, or an AUC outside [0, 1].
    """
    if not bins:
        raise PlotDataError("AUC by bin needs at least one bin")
    for item in bins:
        if item.auc is not None and not 0.0 <= item.auc <= 1.0:
            raise PlotDataError(f"bin {item.name!r}: AUC must lie in [0, 1], got {item.auc!r}")
    with _pinned_axes() as (figure, axes):
        positions = list(range(len(bins)))
        heights = [item.auc if item.auc is not None else 0.0 for item in bins]
        colours = [PASS_COLOUR if (item.auc or 0.0) > HARD_AUC_SIGNAL else FAIL_COLOUR for item in bins]
        axes.bar(positions, heights, width=0.6, color=colours)
        axes.axhline(CHANCE_AUC, color=LINE_COLOUR, linewidth=1.0, linestyle="--")
        axes.axhline(HARD_AUC_SIGNAL, color=LINE_COLOUR, linewidth=0.8, linestyle=":")
        axes.text(len(bins) - 0.5, CHANCE_AUC - 0.02, " chance 0.5", va="top", ha="left", color=LINE_COLOUR)
        axes.text(
            len(bins) - 0.5,
            HARD_AUC_SIGNAL + 0.02,
            f" signal {HARD_AUC_SIGNAL:g}",
            va="bottom",
            ha="left",
            color=LINE_COLOUR,
        )
        for position, item in zip(positions, bins, strict=True):
            label = "no pairs" if item.auc is None else f"{item.auc:.3f}"
            axes.text(position, (item.auc or 0.0) + 0.02, label, ha="center", va="bottom")
        axes.set_xticks(positions, [f"{item.name}\n{item.n_pairs:,} pairs" for item in bins])
        axes.set_xlim(-0.6, len(bins) + 0.4)
        axes.set_ylim(0.0, 1.12)
        axes.set_ylabel("AUC (original vs decoy)")
        return _to_svg(figure, prefix, "AUC of originals against decoys by similarity bin")


def _compact_count(value: float, _position: object = None) -> str:
    """Tick label for a count that stays narrow at a million molecules: 950, 12k, 1.5M."""
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if abs(value) >= 10_000:
        return f"{value / 1_000:g}k"
    return f"{value:g}"


def _integer_y(axes: Axes, top: int) -> None:
    """Counts are whole numbers: no 0.5 ticks on a y axis that only reaches 1 or 2, and narrow labels."""
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.yaxis.set_major_formatter(FuncFormatter(_compact_count))
    axes.set_ylim(bottom=0, top=max(axes.get_ylim()[1], 1.0) if top else 1.0)
