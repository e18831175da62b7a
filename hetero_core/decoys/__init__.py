"""Matched decoys (SPEC §3): degree-preserving double edge swaps along the strategy ladder, seeded per molecule."""

from __future__ import annotations

from hetero_core.decoys._generate import (
    LADDER,
    DecoyParams,
    DecoySet,
    HardMode,
    generate_decoys,
)
from hetero_core.decoys._plausibility import (
    DECOY_FILTERS,
    DecoyFilter,
    RejectionReason,
    format_rejections,
)
from hetero_core.decoys._seeds import (
    SeedBy,
    molecule_seed,
)

__all__ = [
    "DECOY_FILTERS",
    "LADDER",
    "DecoyFilter",
    "DecoyParams",
    "DecoySet",
    "HardMode",
    "RejectionReason",
    "SeedBy",
    "format_rejections",
    "generate_decoys",
    "molecule_seed",
]
