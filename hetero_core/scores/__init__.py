"""Where scores come from: reference and built-in scorers, and the customer's scores files (SPEC §4)."""

from __future__ import annotations

from hetero_core.scores._external import (
    ExternalScores,
    load_external_scores,
)
from hetero_core.scores._model import ModelInfo
from hetero_core.scores._scorers import (
    Candidate,
    Scorer,
    ScoreRequest,
    make_scorer,
)

__all__ = [
    "Candidate",
    "ExternalScores",
    "ModelInfo",
    "ScoreRequest",
    "Scorer",
    "load_external_scores",
    "make_scorer",
]
