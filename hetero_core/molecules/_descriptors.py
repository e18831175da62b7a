"""Descriptors of a molecule and of how far its decoys moved from it (summary.csv columns).

Decoys keep the formula, so MW and heavy-atom count never move; logP, TPSA, H-bond donors/acceptors and ring
counts do, and their mean absolute change tells whether the decoys are chemically close to the molecule.
The Laplacian spectrum of the heavy-atom graph summarises its shape: the spectral gap (algebraic connectivity)
and the spectral entropy.
"""

from __future__ import annotations

import math
from statistics import median
from typing import TYPE_CHECKING

import numpy as np
from rdkit.Chem import rdMolDescriptors

from hetero_core.layout import DESCRIPTOR_NAMES
from hetero_core.molecules._acceptors import DecoyAcceptors
from hetero_core.molecules._crippen import DecoyLogP

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from rdkit import Chem

    Edge = tuple[int, int]

# ring counts: wrong on a decoy that has only FastFindRings' ring set, never changed by a bridge rung
_RING_COUNTS = ("rings", "aromatic_rings")

# Crippen logP and the SMARTS-based acceptor count cost ~90% of the descriptor time (Crippen alone matches
# ~110 SMARTS against the molecule with explicit Hs); the "fast" set leaves them out for decoys.


def descriptors(mol: Chem.Mol, *, full: bool = True, logp: float | None = None) -> dict[str, float | None]:
    """The eight summary descriptors; with ``full=False`` the slow ones are None (decoys of a fast run).

    ``logp``, when given, is the Crippen logP already known (a decoy's, from :class:`DecoyLogP`).
    """
    if full and logp is None:
        logp = rdMolDescriptors.CalcCrippenDescriptors(mol)[0]
    return {
        "mw": rdMolDescriptors._CalcMolWt(mol),  # average molecular weight, as RDKit's Descriptors.MolWt
        "logp": logp if full else None,
        "tpsa": rdMolDescriptors.CalcTPSA(mol),
        "hbd": float(rdMolDescriptors.CalcNumHBD(mol)),
        "hba": float(rdMolDescriptors.CalcNumHBA(mol)) if full else None,
        "heavy_atoms": float(mol.GetNumHeavyAtoms()),
        "rings": float(rdMolDescriptors.CalcNumRings(mol)),
        "aromatic_rings": float(rdMolDescriptors.CalcNumAromaticRings(mol)),
    }


class DecoyDescriptors:
    """The summary descriptors of a molecule and of its decoys, each decoy from the molecule's where that is exact.

    A decoy made on a bridge rung (``same_rings``) keeps every atom's element, charge, hydrogens, aromaticity and
    bond types, and every ring (its swaps move acyclic single bonds only, and a connected result has the same
    cycles): both ring counts are the molecule's, and so, unless hydrogen atoms sit in the graph (where a swap
    can move one), are MW, donors (a per-atom pattern), heavy atoms and TPSA (per-atom contributions summed in
    atom order); its logP and acceptor count are re-derived only where the rewiring changed an atom's environment
    (:class:`DecoyLogP`, :class:`DecoyAcceptors`). The ring counts must come from the molecule: such a decoy only
    gets RDKit's ``FastFindRings``, whose ring set is not the SSSR a parsed SMILES has, and the aromatic-ring
    count read from it was wrong on about 1 bridge-rung decoy in 900 on MOSES. A ring-rung decoy is sanitised in
    full and gets the RDKit calls, with logP again from changed environments.
    """

    __slots__ = ("acceptors", "logp", "original")

    def __init__(self, mol: Chem.Mol, *, full: bool = True):
        self.logp = DecoyLogP(mol) if full else None
        self.original = descriptors(mol, logp=self.logp.molecule_logp if self.logp is not None else None)
        hba = self.original["hba"]
        self.acceptors = (
            DecoyAcceptors(mol, int(hba), props=self.logp.props, neighbours=self.logp.neighbours)
            if self.logp is not None and hba is not None
            else None
        )

    def of(
        self, decoy: Chem.Mol, removed: Sequence[Edge], added: Sequence[Edge], *, same_rings: bool
    ) -> dict[str, float | None]:
        """One decoy's descriptors; ``removed``/``added`` is its rewiring, ``same_rings`` its rung kept every ring."""
        if self.logp is None or self.acceptors is None:
            return self._with_rings_kept(descriptors(decoy, full=False), same_rings=same_rings)
        logp = self.logp.logp(decoy, removed, added, same_aromaticity=same_rings)
        if not (same_rings and self.acceptors.usable):  # not usable: hydrogen atoms in the graph can move
            return self._with_rings_kept(descriptors(decoy, logp=logp), same_rings=same_rings)
        original = self.original
        return {
            "mw": original["mw"],
            "logp": logp,
            "tpsa": original["tpsa"],
            "hbd": original["hbd"],
            "hba": float(self.acceptors.hba(decoy, removed, added, same_rings=True)),
            "heavy_atoms": original["heavy_atoms"],
            "rings": original["rings"],
            "aromatic_rings": original["aromatic_rings"],
        }

    def _with_rings_kept(self, computed: dict[str, float | None], *, same_rings: bool) -> dict[str, float | None]:
        """RDKit's values on the decoy, with the ring-derived ones the molecule's when its rung kept every ring."""
        if same_rings:
            computed.update({name: self.original[name] for name in _RING_COUNTS})
        return computed


def mean_abs_deltas(
    original: Mapping[str, float | None], decoys: Sequence[Mapping[str, float | None]]
) -> dict[str, float | None]:
    """Mean |decoy − original| per descriptor; None when there are no decoys or the descriptor was not computed."""
    out: dict[str, float | None] = {}
    for name in DESCRIPTOR_NAMES:
        base = original[name]
        values = [d[name] for d in decoys]
        known = [v for v in values if v is not None]
        if base is None or not decoys or len(known) != len(values):
            out[f"mean_abs_delta_{name}"] = None
        else:
            out[f"mean_abs_delta_{name}"] = sum(abs(v - base) for v in known) / len(known)
    return out


def similarity_summary(similarities: Sequence[float]) -> dict[str, float | None]:
    if not similarities:
        return {"tanimoto_min": None, "tanimoto_median": None}
    return {"tanimoto_min": min(similarities), "tanimoto_median": float(median(similarities))}


def spectral_features(mol: Chem.Mol) -> dict[str, float | None]:
    """Spectral gap (second-smallest Laplacian eigenvalue) and entropy of the normalised Laplacian spectrum."""
    n = mol.GetNumAtoms()
    if n < 2:
        return {"spectral_gap": None, "spectral_entropy": None}
    laplacian = np.zeros((n, n))
    for bond in mol.GetBonds():
        i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        laplacian[i, j] = laplacian[j, i] = -1.0
    np.fill_diagonal(laplacian, -laplacian.sum(axis=1))
    eigenvalues = np.clip(np.linalg.eigvalsh(laplacian), 0.0, None)
    total = float(eigenvalues.sum())
    probabilities = eigenvalues[eigenvalues > 1e-12] / total
    entropy = float(-(probabilities * np.log(probabilities)).sum())
    return {"spectral_gap": _tidy(float(eigenvalues[1])), "spectral_entropy": _tidy(entropy)}


def _tidy(value: float) -> float:
    """Round away last-bit noise of the eigen-solver so the pack is byte-stable across BLAS builds."""
    return 0.0 if abs(value) < 1e-9 else float(f"{value:.9g}") if math.isfinite(value) else value
