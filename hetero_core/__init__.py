"""HETERO-2 engine: matched degree-preserving decoys, per-molecule audit, verifiable evidence packs.

The engine is pure: molecules and tables in, results out. It imports nothing from AWS so the CLI,
the worker Lambda and the Fargate task all run exactly the same code.

The public API below is loaded on first use, so that ``hetero_core.layout`` (pack member names, read by the
API and the client) can be imported without paying for RDKit and matplotlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hetero_core._lazy import lazy_attributes

__version__ = "0.1.0"
ENGINE_NAME = "hetero2"

if TYPE_CHECKING:
    from hetero_core.audit import AuditResult, audit_molecule
    from hetero_core.config import RunConfig
    from hetero_core.decoys import DecoyParams, DecoySet, generate_decoys
    from hetero_core.errors import HeteroError
    from hetero_core.pack import VerifyReport, verify_pack
    from hetero_core.pipeline import ModelAudit, audit_model, run_audit

# public name -> the module that defines it
_PUBLIC: dict[str, str] = {
    "AuditResult": "hetero_core.audit",
    "audit_molecule": "hetero_core.audit",
    "RunConfig": "hetero_core.config",
    "DecoyParams": "hetero_core.decoys",
    "DecoySet": "hetero_core.decoys",
    "generate_decoys": "hetero_core.decoys",
    "HeteroError": "hetero_core.errors",
    "VerifyReport": "hetero_core.pack",
    "verify_pack": "hetero_core.pack",
    "run_audit": "hetero_core.pipeline",
    # the notebook face: not ``audit``, which is the subpackage hetero_core.audit (see audit_model's docstring)
    "audit_model": "hetero_core.pipeline",
    "ModelAudit": "hetero_core.pipeline",
}

__all__ = [
    "ENGINE_NAME",
    "AuditResult",
    "DecoyParams",
    "DecoySet",
    "HeteroError",
    "ModelAudit",
    "RunConfig",
    "VerifyReport",
    "__version__",
    "audit_model",
    "audit_molecule",
    "generate_decoys",
    "run_audit",
    "verify_pack",
]

__getattr__, __dir__ = lazy_attributes(__name__, globals(), _PUBLIC)
