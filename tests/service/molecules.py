"""Distinct, valid drug-like SMILES in any number: the bundled approved drugs with small groups grafted on."""

from __future__ import annotations

import csv
import io
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING

from rdkit import Chem, RDLogger

if TYPE_CHECKING:
    from collections.abc import Sequence

_GROUPS = ("", "C", "CC", "OC", "NC", "FC", "ClC", "CCC", "COC")


@cache
def _drugs() -> tuple[str, ...]:
    text = files("hetero_core").joinpath("examples/approved_drugs.csv").read_text()
    return tuple(row["smiles"] for row in csv.DictReader(io.StringIO(text)))


def distinct_molecules(n: int) -> list[str]:
    RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]  # missing from RDKit's stubs
    seen: set[str] = set()
    found: list[str] = []
    for first in _GROUPS:
        for second in _GROUPS:
            for smiles in _drugs():
                mol: Chem.Mol | None = Chem.MolFromSmiles(first + second + smiles)
                if mol is None:
                    continue
                canonical = Chem.MolToSmiles(mol)
                if canonical in seen:
                    continue
                seen.add(canonical)
                found.append(first + second + smiles)
                if len(found) == n:
                    return found
    raise ValueError(f"only {len(found)} distinct molecules can be made, {n} asked")


def input_csv(smiles: Sequence[str], ids: Sequence[str] | None = None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "smiles"])
    for i, s in enumerate(smiles):
        writer.writerow([ids[i] if ids else f"m{i + 1:05d}", s])
    return buffer.getvalue().encode()
