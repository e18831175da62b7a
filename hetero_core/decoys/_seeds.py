"""Per-molecule seeds (SPEC §3): from the canonical SMILES by default, so a molecule gets the same decoys in
every job (and decoys are cacheable), or from the row id as the original tool did."""

from __future__ import annotations

import hashlib
import zlib
from typing import Literal

SeedBy = Literal["smiles", "id"]


def molecule_seed(run_seed: int, *, seed_by: SeedBy, canonical_smiles: str, molecule_id: str) -> int:
    if seed_by == "id":
        return (zlib.crc32(molecule_id.encode("utf-8")) ^ run_seed) & 0xFFFFFFFF
    digest = hashlib.sha256(f"{run_seed}|{canonical_smiles}".encode()).digest()
    return int.from_bytes(digest[:4], "big")
