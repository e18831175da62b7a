"""Independent re-check of decoy plausibility (``decoys.v2``): red-flag motifs and stereo-only decoys.

Reads a ``decoys.csv`` (a pack folder, a pack's ``decoys.csv`` or a ``hetero2 decoys`` table) and, with SMARTS
patterns and ring rules written here, never with the engine's code (this file imports nothing from
``hetero_core``), counts per decoy the motifs of which it has more than its own original:

    O–O, N–N, N–O, S–O single bonds, halogen on N/O/S, 3- and 4-membered rings, cumulated double bonds,
    cyclobutadienes, bridgehead double bonds in small bridged bicycles (Bredt), charged atoms without an
    oppositely charged neighbour (a torn-apart nitro group or zwitterion),

and the decoys that differ from their original or from an earlier decoy of the same molecule only in stereo.
It prints the share of decoys with at least one new motif, the count by motif with an example, the number of
stereo-only decoys and the share of molecules that reached k decoys.

    python benchmarks/check_decoy_motifs.py PACK_OR_CSV [--k 20] [--json FILE]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rdkit import Chem, rdBase

if TYPE_CHECKING:
    from collections.abc import Iterator

rdBase.DisableLog("rdApp.*")

# Motif name -> SMARTS; a match set counted once per distinct atom set (RDKit's uniquify).
SMARTS: dict[str, str] = {
    "O-O single": "[#8]-[#8]",
    "N-N single": "[#7]-[#7]",
    "N-O single": "[#7]-[#8]",
    "S-O single": "[#16]-[#8]",
    "halogen on N/O/S": "[F,Cl,Br,I]~[#7,#8,#16]",
    "3-membered ring": "*1~*~*1",
    "4-membered ring": "*1~*~*~*1",
    "cumulated double bonds": "*=*=*",
    "cyclobutadiene": "*1=*-*=*-1",
    "separated cation": "[+1,+2,+3;!$(*~[-1,-2,-3])]",
    "separated anion": "[-1,-2,-3;!$(*~[+1,+2,+3])]",
}
_PATTERNS = {name: Chem.MolFromSmarts(smarts) for name, smarts in SMARTS.items()}
BREDT = "bridgehead double bond (Bredt)"
MOTIFS: tuple[str, ...] = (*SMARTS, BREDT)


def motif_counts(mol: Chem.Mol) -> Counter[str]:
    counts: Counter[str] = Counter()
    for name, pattern in _PATTERNS.items():
        counts[name] = len(mol.GetSubstructMatches(pattern, uniquify=True, maxMatches=10_000))
    counts[BREDT] = _bredt(mol)
    return counts


def _bredt(mol: Chem.Mol) -> int:
    """Bridgeheads with a ring double/aromatic bond: atoms at an end of the atoms shared by two rings of at most
    7 atoms that share 3 or more atoms (a bridged, not fused, bicycle)."""
    rings = [set(r) for r in mol.GetRingInfo().AtomRings() if len(r) <= 7]
    heads: set[int] = set()
    for i, first in enumerate(rings):
        for second in rings[i + 1 :]:
            shared = first & second
            if len(shared) < 3:
                continue
            for index in shared:
                inside = [n for n in mol.GetAtomWithIdx(index).GetNeighbors() if n.GetIdx() in shared]
                if len(inside) < 2:
                    heads.add(index)
    unsaturated = (Chem.BondType.DOUBLE, Chem.BondType.AROMATIC)
    return sum(
        any(b.IsInRing() and b.GetBondType() in unsaturated for b in mol.GetAtomWithIdx(h).GetBonds()) for h in heads
    )


def _flat(mol: Chem.Mol) -> str:
    copy = Chem.Mol(mol)
    Chem.RemoveStereochemistry(copy)
    return str(Chem.MolToSmiles(copy))


@dataclass
class Report:
    molecules: int = 0
    molecules_reaching_k: int = 0
    decoys: int = 0
    flagged: int = 0
    by_motif: Counter[str] = field(default_factory=Counter)
    examples: dict[str, tuple[str, str]] = field(default_factory=dict)
    stereo_only: int = 0
    stereo_examples: list[tuple[str, str]] = field(default_factory=list)
    unparsable: int = 0


def _groups(path: Path) -> Iterator[tuple[str, list[str]]]:
    """(original SMILES, decoy SMILES) per molecule, in file order."""
    with path.open(encoding="utf-8", newline="") as handle:
        current: str | None = None
        original = ""
        decoys: list[str] = []
        for row in csv.DictReader(handle):
            if row["molecule_id"] != current:
                if current is not None and original:
                    yield original, decoys
                current, original, decoys = row["molecule_id"], "", []
            if row["role"] == "original":
                original = row["smiles"]
            else:
                decoys.append(row["smiles"])
        if current is not None and original:
            yield original, decoys


def check(path: Path, k: int) -> Report:
    report = Report()
    for original_smiles, decoys in _groups(path):
        original: Chem.Mol | None = Chem.MolFromSmiles(original_smiles)
        if original is None:
            report.unparsable += 1
            continue
        report.molecules += 1
        report.molecules_reaching_k += len(decoys) >= k
        base = motif_counts(original)
        seen = {_flat(original)}
        for smiles in decoys:
            mol: Chem.Mol | None = Chem.MolFromSmiles(smiles)
            report.decoys += 1
            if mol is None:
                report.unparsable += 1
                continue
            new = [m for m, count in motif_counts(mol).items() if count > base[m]]
            if new:
                report.flagged += 1
                for motif in new:
                    report.by_motif[motif] += 1
                    report.examples.setdefault(motif, (original_smiles, smiles))
            flat = _flat(mol)
            if flat in seen:
                report.stereo_only += 1
                if len(report.stereo_examples) < 3:
                    report.stereo_examples.append((original_smiles, smiles))
            seen.add(flat)
    return report


def _decoys_csv(target: Path) -> Path:
    return target / "decoys.csv" if target.is_dir() else target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("decoys", type=Path, help="pack folder, its decoys.csv, or a hetero2 decoys table")
    parser.add_argument("--k", type=int, default=20, help="decoys requested per molecule (default 20)")
    parser.add_argument("--json", type=Path, help="also write the numbers as JSON here")
    args = parser.parse_args(argv)
    report = check(_decoys_csv(args.decoys), args.k)
    share = report.flagged / report.decoys if report.decoys else 0.0
    reaching = report.molecules_reaching_k / report.molecules if report.molecules else 0.0
    print(f"molecules                         {report.molecules}")
    print(f"decoys                            {report.decoys}")
    print(f"mean decoys per molecule          {report.decoys / max(report.molecules, 1):.2f}")
    print(f"share of molecules reaching k={args.k:<3} {reaching:.3f}")
    print(f"decoys with a new red-flag motif  {report.flagged} ({100 * share:.2f}%)")
    for motif in MOTIFS:
        if report.by_motif[motif]:
            original, decoy = report.examples[motif]
            print(f"  {motif:<31} {report.by_motif[motif]:>6}  e.g. {original} -> {decoy}")
    print(f"stereo-only decoys                {report.stereo_only}")
    for original, decoy in report.stereo_examples:
        print(f"  e.g. {original} -> {decoy}")
    if report.unparsable:
        print(f"unparsable SMILES                 {report.unparsable}")
    if args.json:
        payload = {
            "molecules": report.molecules,
            "decoys": report.decoys,
            "k": args.k,
            "share_reaching_k": reaching,
            "flagged": report.flagged,
            "share_flagged": share,
            "by_motif": dict(report.by_motif),
            "stereo_only": report.stereo_only,
        }
        args.json.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
