"""The evidence pack (SPEC §6): writing, assembling from row results, signing, provenance, verification.

Names load on first use: verifying a pack or a signature (the API, the client) needs no RDKit, assembling one does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hetero_core._lazy import lazy_attributes

if TYPE_CHECKING:
    from hetero_core.pack._assembly import (
        FoldedChunk,
        ResultCollector,
        ScorerFacts,
        SealedPack,
        ShareFolder,
        assemble_pack,
        chunk_share,
        scorer_facts,
        seal_stitched,
    )
    from hetero_core.pack._provenance import engine_info, iso, resolve_created_at, runtime_versions
    from hetero_core.pack._shares import ChunkShare, StitchedMember, encode_share, stitch_shares
    from hetero_core.pack._signing import (
        LocalKeySigner,
        Signer,
        generate_private_key_pem,
        public_key_id,
        public_key_pem_from_private,
    )
    from hetero_core.pack._slices import MemberTables
    from hetero_core.pack._verify import VerifyReport, verify_pack
    from hetero_core.pack._writer import PackInfo
    from hetero_core.pack._zipstream import Piece, Span

_SOURCES = {
    **dict.fromkeys(
        (
            "FoldedChunk",
            "ResultCollector",
            "ScorerFacts",
            "SealedPack",
            "ShareFolder",
            "assemble_pack",
            "chunk_share",
            "scorer_facts",
            "seal_stitched",
        ),
        "hetero_core.pack._assembly",
    ),
    **dict.fromkeys(("ChunkShare", "StitchedMember", "encode_share", "stitch_shares"), "hetero_core.pack._shares"),
    "MemberTables": "hetero_core.pack._slices",
    **dict.fromkeys(("Piece", "Span"), "hetero_core.pack._zipstream"),
    **dict.fromkeys(("engine_info", "iso", "resolve_created_at", "runtime_versions"), "hetero_core.pack._provenance"),
    **dict.fromkeys(
        ("LocalKeySigner", "Signer", "generate_private_key_pem", "public_key_id", "public_key_pem_from_private"),
        "hetero_core.pack._signing",
    ),
    **dict.fromkeys(("VerifyReport", "verify_pack"), "hetero_core.pack._verify"),
    "PackInfo": "hetero_core.pack._writer",
}
__all__ = [
    "ChunkShare",
    "FoldedChunk",
    "LocalKeySigner",
    "MemberTables",
    "PackInfo",
    "Piece",
    "ResultCollector",
    "ScorerFacts",
    "SealedPack",
    "ShareFolder",
    "Signer",
    "Span",
    "StitchedMember",
    "VerifyReport",
    "assemble_pack",
    "chunk_share",
    "encode_share",
    "engine_info",
    "generate_private_key_pem",
    "iso",
    "public_key_id",
    "public_key_pem_from_private",
    "resolve_created_at",
    "runtime_versions",
    "scorer_facts",
    "seal_stitched",
    "stitch_shares",
    "verify_pack",
]
__getattr__, __dir__ = lazy_attributes(__name__, globals(), _SOURCES)
