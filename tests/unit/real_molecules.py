"""Real molecules and their decoys for the exactness tests of decoy descriptors (Crippen logP, acceptors, rings):
the bundled drugs, a ChEMBL actives file RDKit ships and the tests' tricky set, plus what a test adds."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

from rdkit import RDConfig

from hetero_core.decoys import DecoyParams, generate_decoys
from hetero_core.decoys._generate import Decoy
from hetero_core.molecules import Guardrails, PreparedMolecule, prepare_molecule

if TYPE_CHECKING:
    from collections.abc import Iterable

ROOT = Path(__file__).resolve().parents[2]
# each standardized molecule with its decoys, as ``decoys_of`` returns them
WithDecoys = list[tuple[PreparedMolecule, list[Decoy]]]


def real_smiles(*smi_files: str) -> list[str]:
    """The drugs, then the first SMILES of every line of ``smi_files`` (paths from the repository root), the ChEMBL
    actives and the tricky set; blank and ``#`` lines skipped."""
    drugs = [row["smiles"] for row in csv.DictReader((ROOT / "hetero_core/examples/approved_drugs.csv").open())]
    files = [ROOT / name for name in smi_files]
    files += [Path(RDConfig.RDContribDir, "fraggle", "data", "ChEMBL_11265_actives.smi")]
    files += [ROOT / "tests/data/tricky_molecules.smi"]
    lines = [line for path in files for line in path.read_text().split("\n")]
    return [*drugs, *(line.split()[0] for line in lines if line.strip() and not line.startswith("#"))]


def decoys_of(smiles: Iterable[str], seed: int) -> WithDecoys:
    """Each molecule standardized, with its 20 decoys (every rung the ladder reaches)."""
    out: WithDecoys = []
    for text in smiles:
        prepared = prepare_molecule(text, Guardrails(standardize=True))
        assert isinstance(prepared, PreparedMolecule), text
        found = generate_decoys(prepared.mol, prepared.canonical_smiles, seed=seed, params=DecoyParams(k=20))
        out.append((prepared, list(found.decoys)))
    return out
