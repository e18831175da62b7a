"""Identity of a molecule in score files: sha256 of its canonical SMILES (SPEC §3, ``decoys.v1``)."""

from __future__ import annotations

import hashlib


def smiles_hash(smiles: str) -> str:
    """Hex sha256 of the SMILES string exactly as given (UTF-8); callers pass canonical SMILES."""
    return hashlib.sha256(smiles.encode("utf-8")).hexdigest()
