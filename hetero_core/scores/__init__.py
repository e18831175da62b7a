"""Where scores come from: reference and built-in scorers, and the customer's scores files (SPEC §4)."""

from __future__ import annotations

from hetero_core.scores._callable import (
    CallableScorer,
    ScorerFault,
)
from hetero_core.scores._external import (
    ExternalScores,
    load_external_scores,
)
from hetero_core.scores._model import ModelInfo
from hetero_core.scores._plugins import (
    SCORER_GROUP,
    InstalledScorer,
    LoadedScorer,
    installed_scorers,
    load_scorer,
)
from hetero_core.scores._scorers import (
    BatchScorer,
    Candidate,
    Scorer,
    ScoreRequest,
    ScoreResult,
    make_scorer,
)
from hetero_core.scores._table import ScoresTableFile, format_scored_rows

__all__ = [
    "SCORER_GROUP",
    "BatchScorer",
    "CallableScorer",
    "Candidate",
    "ExternalScores",
    "InstalledScorer",
    "LoadedScorer",
    "ModelInfo",
    "ScoreRequest",
    "ScoreResult",
    "Scorer",
    "ScorerFault",
    "ScoresTableFile",
    "format_scored_rows",
    "installed_scorers",
    "load_external_scores",
    "load_scorer",
    "make_scorer",
]
