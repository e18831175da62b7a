"""The project's two digests: a molecule's identity in score files, and a file's sha256 for manifests.

``smiles_hash`` is sha256 of the canonical SMILES (SPEC §3, ``decoys.v1``); ``file_sha256`` is what the
manifest, ``checksums.sha256`` and the client's download check write and compare, in one place.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_BLOCK = 1 << 20  # files are read in 1 MiB blocks, so a large decoy table never sits in memory


def smiles_hash(smiles: str) -> str:
    """Hex sha256 of the SMILES string exactly as given (UTF-8); callers pass canonical SMILES."""
    return hashlib.sha256(smiles.encode("utf-8")).hexdigest()


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes; an unreadable file raises ``OSError`` for the caller to name."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()
