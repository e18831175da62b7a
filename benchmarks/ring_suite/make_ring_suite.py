"""Writes ring_suite.csv beside this file: textbook ring systems x common substituents (CC0, our own writing).

Each molecule carries a one-word class: benzenoid, azine, azole, heterole, fused, saturated, strained, bridged,
spiro, macrocycle. Run it again after editing SCAFFOLDS or SUBSTITUENTS; the CSV is committed.
"""

import csv
from collections import Counter
from pathlib import Path

from rdkit import Chem

# (name, class, SMILES with {R} at the attachment atom)
SCAFFOLDS = [
    ("benzene", "benzenoid", "c1ccc(cc1){R}"),
    ("toluene", "benzenoid", "Cc1ccc(cc1){R}"),
    ("naphthalene", "benzenoid", "c1ccc2cc(ccc2c1){R}"),
    ("biphenyl", "benzenoid", "c1ccc(cc1)-c1ccc(cc1){R}"),
    ("anisole", "benzenoid", "COc1ccc(cc1){R}"),
    ("chlorobenzene", "benzenoid", "Clc1ccc(cc1){R}"),
    ("pyridine", "azine", "c1ccnc(c1){R}"),
    ("pyrimidine", "azine", "c1cnc(nc1){R}"),
    ("pyrazine", "azine", "c1cnc(cn1){R}"),
    ("pyridazine", "azine", "c1ccc(nn1){R}"),
    ("triazine", "azine", "c1ncnc(n1){R}"),
    ("pyridone", "azine", "O=c1cccc([nH]1){R}"),
    ("pyrrole", "azole", "c1cc[nH]c1{R}"),
    ("imidazole", "azole", "c1c[nH]c(n1){R}"),
    ("pyrazole", "azole", "c1cc(n[nH]1){R}"),
    ("triazole", "azole", "c1nc(n[nH]1){R}"),
    ("tetrazole", "azole", "c1(nn[nH]n1){R}"),
    ("oxazole", "azole", "c1coc(n1){R}"),
    ("isoxazole", "azole", "c1cc(no1){R}"),
    ("thiazole", "azole", "c1csc(n1){R}"),
    ("oxadiazole", "azole", "c1nnc(o1){R}"),
    ("furan", "heterole", "c1ccoc1{R}"),
    ("thiophene", "heterole", "c1ccsc1{R}"),
    ("indole", "fused", "c1ccc2[nH]cc(c2c1){R}"),
    ("benzimidazole", "fused", "c1ccc2[nH]c(nc2c1){R}"),
    ("benzofuran", "fused", "c1ccc2oc(cc2c1){R}"),
    ("benzothiophene", "fused", "c1ccc2sc(cc2c1){R}"),
    ("quinoline", "fused", "c1ccc2ncc(cc2c1){R}"),
    ("isoquinoline", "fused", "c1ccc2cnc(cc2c1){R}"),
    ("quinazoline", "fused", "c1ccc2nc(ncc2c1){R}"),
    ("purine", "fused", "c1nc2[nH]cnc2c(n1){R}"),
    ("coumarin", "fused", "O=c1ccc2ccc(cc2o1){R}"),
    ("tetralin", "fused", "c1ccc2c(c1)CCCC2{R}"),
    ("indane", "fused", "c1ccc2c(c1)CCC2{R}"),
    ("cyclopentane", "saturated", "C1CCC(C1){R}"),
    ("cyclohexane", "saturated", "C1CCC(CC1){R}"),
    ("cycloheptane", "saturated", "C1CCCC(CC1){R}"),
    ("piperidine", "saturated", "C1CCN(CC1){R}"),
    ("piperazine", "saturated", "CN1CCN(CC1){R}"),
    ("morpholine", "saturated", "C1COCCN1{R}"),
    ("pyrrolidine", "saturated", "C1CCN(C1){R}"),
    ("tetrahydrofuran", "saturated", "C1CCOC1{R}"),
    ("tetrahydropyran", "saturated", "C1CCOCC1{R}"),
    ("cyclopropane", "strained", "C1CC1{R}"),
    ("cyclobutane", "strained", "C1CC(C1){R}"),
    ("azetidine", "strained", "C1CN(C1){R}"),
    ("oxetane", "strained", "C1OCC1{R}"),
    ("betalactam", "strained", "O=C1CCN1{R}"),
    ("epoxide", "strained", "C1OC1{R}"),
    ("norbornane", "bridged", "C1CC2CCC1C2{R}"),
    ("bicyclooctane", "bridged", "C1CC2CCC1CC2{R}"),
    ("adamantane", "bridged", "C1C2CC3CC1CC(C2)C3{R}"),
    ("quinuclidine", "bridged", "C1CN2CCC1CC2{R}"),
    ("spirononane", "spiro", "C1CCC2(CC1)CCC2{R}"),
    ("spiroundecane", "spiro", "C1CCC2(CC1)CCCCC2{R}"),
    ("azaspiro", "spiro", "C1CCC2(CC1)CCN(C2){R}"),
    ("cyclododecane", "macrocycle", "C1CCCCCC(CCCCC1){R}"),
    ("crown", "macrocycle", "C1COCCOCCOCCOCCO1"),
]
SUBSTITUENTS = ["CCO", "C(=O)NC", "CC(C)C", "OCC", "NC(=O)C", "CCN(C)C", "C(=O)OCC", "CCCC(=O)O"]
SUITE = Path(__file__).resolve().parent / "ring_suite.csv"


def suite_rows() -> list[tuple[str, str, str]]:
    """(id, SMILES, class) for every scaffold x substituent, duplicates (same canonical SMILES) dropped."""
    rows: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for name, klass, smiles in SCAFFOLDS:
        for i, substituent in enumerate(SUBSTITUENTS):
            if "{R}" not in smiles and i:
                continue
            written = smiles.replace("{R}", f"({substituent})")
            mol = Chem.MolFromSmiles(written)
            if mol is None:
                raise ValueError(f"{name}: {written} does not parse")
            canonical = Chem.MolToSmiles(mol)
            if canonical not in seen:
                seen.add(canonical)
                rows.append((f"{name}_{i + 1}", written, klass))
    return rows


def main() -> None:
    rows = suite_rows()
    with SUITE.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("id", "smiles", "class"))
        writer.writerows(rows)
    print(f"{SUITE}: {len(rows)} molecules", dict(Counter(row[2] for row in rows)))


if __name__ == "__main__":
    main()
