"""The audit's statistics: per-molecule AUC against the exact null (SPEC §5) and the dataset-level metrics."""

from __future__ import annotations

from hetero_core.audit._dataset import (
    EASY_AUC_ONLY,
    EASY_MAX,
    HARD_AUC_SIGNAL,
    HARD_MAX,
    HARD_MIN,
    INTERPRETATIONS,
    MEDIAN_SIMILARITY_MIN,
    MEDIUM_MAX,
    MIN_HARD_PAIRS,
    DatasetAccumulator,
    RealismAccumulator,
    separation,
)
from hetero_core.audit._decision import (
    ACCEPTANCE_SCHEMA,
    OUTCOMES,
    Acceptance,
    AcceptanceCriteria,
    decide,
    load_acceptance,
    score_coverage,
)
from hetero_core.audit._molecule import (
    AuditResult,
    audit_molecule,
)
from hetero_core.audit._null import chance_pass_probability, null_auc_quantile_exact
from hetero_core.audit._power import power_curve

__all__ = [
    "ACCEPTANCE_SCHEMA",
    "EASY_AUC_ONLY",
    "EASY_MAX",
    "HARD_AUC_SIGNAL",
    "HARD_MAX",
    "HARD_MIN",
    "INTERPRETATIONS",
    "MEDIAN_SIMILARITY_MIN",
    "MEDIUM_MAX",
    "MIN_HARD_PAIRS",
    "OUTCOMES",
    "Acceptance",
    "AcceptanceCriteria",
    "AuditResult",
    "DatasetAccumulator",
    "RealismAccumulator",
    "audit_molecule",
    "chance_pass_probability",
    "decide",
    "load_acceptance",
    "null_auc_quantile_exact",
    "power_curve",
    "score_coverage",
    "separation",
]
