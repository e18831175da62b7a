"""What a person reads: report.html (plots, drawn molecules) and index.md.

Names load on first use: the number formatters (the CLI's summary, the client) are plain text, while
``render_report`` draws with matplotlib and RDKit, which only sealing a pack needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hetero_core._lazy import lazy_attributes

if TYPE_CHECKING:
    from hetero_core.report._html import render_report
    from hetero_core.report._index_md import human_number, p_text, render_index

_SOURCES = {
    "render_report": "hetero_core.report._html",
    **dict.fromkeys(("human_number", "p_text", "render_index"), "hetero_core.report._index_md"),
}
__all__ = [
    "human_number",
    "p_text",
    "render_index",
    "render_report",
]
__getattr__, __dir__ = lazy_attributes(__name__, globals(), _SOURCES)
