"""Row statuses and the stable, machine-readable reasons (SPEC §2). One place; everything imports these."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Outcome of one input row. Every row gets exactly one."""

    OK = "OK"
    SKIP = "SKIP"
    ERROR = "ERROR"


class Verdict(StrEnum):
    """Audit verdict of one molecule (``hetero_audit.v2``)."""

    PASS = "PASS"
    FAIL = "FAIL"
    SKIP = "SKIP"


class SkipReason(StrEnum):
    """Why a row was not audited: always a fact about the user's data, never our fault."""

    MISSING_SMILES = "missing_smiles"
    INVALID_SMILES = "invalid_smiles"
    TOO_MANY_ATOMS = "too_many_atoms"
    DISCONNECTED = "disconnected"
    DUPLICATE_ID = "duplicate_id"
    NO_DECOYS_GENERATED = "no_decoys_generated"
    MISSING_SCORES = "missing_scores"
    MISSING_SCORES_FOR_ALL_DECOYS = "missing_scores_for_all_decoys"


class ErrorReason(StrEnum):
    """Faults of ours or of the environment. Bad user data is never an ERROR."""

    TIMEOUT = "timeout"
    CHUNK_FAILED = "chunk_failed"
    INTERNAL_ERROR = "internal_error"
    # the customer's own model (a callable scorer) raised, timed out or returned a non-number for this row
    SCORER_ERROR = "scorer_error"


class Warning_(StrEnum):
    """Row warnings that do not change the status (joined with ';' in summary.csv)."""

    WEIGHTS_UNWEIGHTED_NULL = "weights_used_in_auc_but_null_q_is_unweighted"
    PARTIAL_DECOY_SCORES = "missing_scores_for_some_decoys"
    FEWER_DECOYS_THAN_REQUESTED = "fewer_decoys_than_requested"
    STANDARDIZED = "standardized"
