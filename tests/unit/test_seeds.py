"""Per-molecule seeds (SPEC §3)."""

from __future__ import annotations

import zlib

from hetero_core.decoys import molecule_seed


def test_seed_by_id_is_the_original_tools_crc32_xor_seed() -> None:
    assert molecule_seed(7, seed_by="id", canonical_smiles="CCO", molecule_id="aspirin") == zlib.crc32(b"aspirin") ^ 7


def test_seed_by_smiles_ignores_the_id_and_follows_the_molecule() -> None:
    a = molecule_seed(0, seed_by="smiles", canonical_smiles="CCO", molecule_id="a")
    b = molecule_seed(0, seed_by="smiles", canonical_smiles="CCO", molecule_id="b")
    c = molecule_seed(0, seed_by="smiles", canonical_smiles="CCN", molecule_id="a")
    d = molecule_seed(1, seed_by="smiles", canonical_smiles="CCO", molecule_id="a")
    assert a == b
    assert len({a, c, d}) == 3
    assert 0 <= a < 2**32
