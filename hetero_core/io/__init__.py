"""Reading molecule tables (CSV/TSV/SMI/SDF) and keeping user text safe in CSV cells."""

from __future__ import annotations

from hetero_core.io._atomic import atomic_text_file
from hetero_core.io._csv_safety import (
    format_cell,
    format_exact,
    unneutralize_cell,
)
from hetero_core.io._inputs import (
    DEFAULT_COLUMNS,
    InputColumns,
    InputScan,
    raise_csv_field_limit,
)

__all__ = [
    "DEFAULT_COLUMNS",
    "InputColumns",
    "InputScan",
    "atomic_text_file",
    "format_cell",
    "format_exact",
    "raise_csv_field_limit",
    "unneutralize_cell",
]
