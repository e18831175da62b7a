"""What a person reads: report.html (plots, drawn molecules) and index.md."""

from __future__ import annotations

from hetero_core.report._html import (
    render_report,
)
from hetero_core.report._index_md import (
    human_number,
    p_text,
    render_index,
)

__all__ = [
    "human_number",
    "p_text",
    "render_index",
    "render_report",
]
