"""Whole runs from a file: the audit, the calibration, the decoys export."""

from __future__ import annotations

from hetero_core.pipeline._calibration import (
    run_calibration,
)
from hetero_core.pipeline._decoy_table import (
    write_decoy_table,
)
from hetero_core.pipeline._notebook import (
    CallableRun,
    ModelAudit,
    audit_callable,
    audit_model,
)
from hetero_core.pipeline._reproduce import (
    ReproduceError,
    Reproduction,
    check_recorded_file,
    compare_with_pack,
    refuse_version_drift,
    reproduce_pack,
    version_drift,
)
from hetero_core.pipeline._run import (
    RunOutcome,
    run_audit,
)

__all__ = [
    "CallableRun",
    "ModelAudit",
    "ReproduceError",
    "Reproduction",
    "RunOutcome",
    "audit_callable",
    "audit_model",
    "check_recorded_file",
    "compare_with_pack",
    "refuse_version_drift",
    "reproduce_pack",
    "run_audit",
    "run_calibration",
    "version_drift",
    "write_decoy_table",
]
