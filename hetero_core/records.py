"""Plain records passed between the engine's stages (reader → chunk → audit → pack)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class InputRow:
    """One data row of the input file, in input order.

    ``index`` is the 1-based data-row number (header excluded): it names rows with an empty id
    (``row_<index>``) and orders results. ``line`` is the physical line (or SDF record start) in the
    file, for messages. ``id`` is always a non-empty string (never used as a path). ``error`` is set
    only when the reader already knows the row is bad (an SDF record RDKit cannot parse:
    ``"invalid_smiles"`` with ``smiles == ""``), so the row still reaches the summary.
    """

    index: int
    line: int
    id: str
    smiles: str
    extra: dict[str, str] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ScoredItem:
    """A model score for one molecule (original or decoy) with its weight in the AUC."""

    score: float
    weight: float = 1.0
