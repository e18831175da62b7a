"""Preparing input molecules (guardrails, optional standardisation) and describing them."""

from __future__ import annotations

from hetero_core.molecules._acceptors import DecoyAcceptors
from hetero_core.molecules._crippen import DecoyLogP, crippen_logp
from hetero_core.molecules._descriptors import (
    DecoyDescriptors,
    descriptors,
    mean_abs_deltas,
    similarity_summary,
    spectral_features,
)
from hetero_core.molecules._prepare import (
    DEFAULT_MAX_HEAVY_ATOMS,
    CanonicalMolecule,
    Guardrails,
    PreparedMolecule,
    Rejection,
    canonical_molecule,
    prepare_molecule,
)

__all__ = [
    "DEFAULT_MAX_HEAVY_ATOMS",
    "CanonicalMolecule",
    "DecoyAcceptors",
    "DecoyDescriptors",
    "DecoyLogP",
    "Guardrails",
    "PreparedMolecule",
    "Rejection",
    "canonical_molecule",
    "crippen_logp",
    "descriptors",
    "mean_abs_deltas",
    "prepare_molecule",
    "similarity_summary",
    "spectral_features",
]
