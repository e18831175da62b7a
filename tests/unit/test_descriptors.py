"""Descriptor columns on molecules a chemist knows."""

from __future__ import annotations

import math

import pytest
from rdkit import Chem

from hetero_core.molecules import descriptors, mean_abs_deltas, similarity_summary, spectral_features


def test_aspirin_descriptors() -> None:
    d = descriptors(Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O"))
    assert d["mw"] == pytest.approx(180.159, abs=1e-3)
    assert d["heavy_atoms"] == 13
    assert d["rings"] == 1
    assert d["aromatic_rings"] == 1
    assert d["hbd"] == 1
    assert d["tpsa"] == pytest.approx(63.6, abs=0.1)


def test_mean_abs_deltas() -> None:
    original = descriptors(Chem.MolFromSmiles("CCCCO"))  # butanol
    isomer = descriptors(Chem.MolFromSmiles("CCOCC"))  # diethyl ether: same formula
    deltas = mean_abs_deltas(original, [isomer, original])
    assert deltas["mean_abs_delta_mw"] == pytest.approx(0.0)
    assert deltas["mean_abs_delta_hbd"] == pytest.approx(0.5)
    assert mean_abs_deltas(original, [])["mean_abs_delta_logp"] is None


def test_similarity_summary() -> None:
    assert similarity_summary([0.2, 0.9, 0.5]) == {"tanimoto_min": 0.2, "tanimoto_median": 0.5}
    assert similarity_summary([]) == {"tanimoto_min": None, "tanimoto_median": None}


def test_spectral_features_of_known_graphs() -> None:
    # path of 3 atoms (propane): Laplacian eigenvalues 0, 1, 3
    propane = spectral_features(Chem.MolFromSmiles("CCC"))
    assert propane["spectral_gap"] == pytest.approx(1.0)
    p = [1 / 4, 3 / 4]
    assert propane["spectral_entropy"] == pytest.approx(-sum(x * math.log(x) for x in p))
    # 6-cycle (cyclohexane): algebraic connectivity 2 - 2cos(2pi/6) = 1
    assert spectral_features(Chem.MolFromSmiles("C1CCCCC1"))["spectral_gap"] == pytest.approx(1.0)
    assert spectral_features(Chem.MolFromSmiles("C")) == {"spectral_gap": None, "spectral_entropy": None}


def test_fast_set_leaves_out_the_slow_descriptors() -> None:
    fast = descriptors(Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O"), full=False)
    assert fast["logp"] is None
    assert fast["hba"] is None
    assert fast["tpsa"] == pytest.approx(63.6, abs=0.1)
    full = descriptors(Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O"))
    deltas = mean_abs_deltas(full, [fast])
    assert deltas["mean_abs_delta_logp"] is None
    assert deltas["mean_abs_delta_tpsa"] == pytest.approx(0.0)
