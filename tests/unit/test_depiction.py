"""Molecule drawings for the report: deterministic, compact, inline-safe, and never an exception."""

from __future__ import annotations

import re

import pytest
from rdkit.Chem import rdDepictor
from rdkit.Chem.Draw import rdMolDraw2D

from hetero_core.report._depiction import MAX_DRAWN_ATOMS, molecule_svg, placeholder_svg

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
CAFFEINE = "Cn1cnc2c1c(=O)n(C)c(=O)n2C"
OLANZAPINE = "Cc1cc2c(s1)Nc1ccccc1N=C2N1CCN(C)CC1"
SODIUM_ACETATE = "CC(=O)[O-].[Na+]"


def _is_placeholder(svg: str, message: str) -> bool:
    return 'class="mol-svg placeholder"' in svg and message in svg


def test_aspirin_is_drawn_as_an_inline_svg_element() -> None:
    svg = molecule_svg(ASPIRIN)
    assert svg.startswith("<svg class='mol-svg' role='img' ")
    assert svg.rstrip().endswith("</svg>")
    assert "<path" in svg
    assert "placeholder" not in svg


def test_drawing_has_no_prolog_comment_or_id_that_would_clash_inline() -> None:
    svg = molecule_svg(CAFFEINE)
    assert "<?xml" not in svg
    assert "<!--" not in svg
    assert re.search(r"\sid=", svg) is None


def test_same_smiles_gives_the_same_bytes() -> None:
    assert molecule_svg(OLANZAPINE) == molecule_svg(OLANZAPINE)


def test_process_wide_coordgen_preference_does_not_change_the_drawing() -> None:
    expected = molecule_svg(OLANZAPINE)
    previous = rdDepictor.GetPreferCoordGen()
    rdDepictor.SetPreferCoordGen(True)
    try:
        assert molecule_svg(OLANZAPINE) == expected
    finally:
        rdDepictor.SetPreferCoordGen(previous)


def test_different_molecules_give_different_drawings() -> None:
    assert molecule_svg(ASPIRIN) != molecule_svg(CAFFEINE)


def test_repeated_styles_are_folded_into_classes_the_drawing_defines() -> None:
    svg = molecule_svg(CAFFEINE)
    assert " style='" not in svg
    used = set(re.findall(r"class='(m[0-9a-f]{10})'", svg))
    defined = set(re.findall(r"\.(m[0-9a-f]{10})\{", svg))
    assert used
    assert used <= defined


def test_size_is_the_canvas_asked_for() -> None:
    svg = molecule_svg(ASPIRIN, width=300, height=200)
    assert "width='300px' height='200px'" in svg


def test_a_salt_is_drawn_with_both_ions() -> None:
    svg = molecule_svg(SODIUM_ACETATE)
    assert "placeholder" not in svg


@pytest.mark.parametrize("smiles", ["C1CC", "C(C)(C)(C)(C)C", "not a smiles", "c1cccc1"])
def test_invalid_smiles_gives_a_placeholder_not_an_exception(smiles: str) -> None:
    assert _is_placeholder(molecule_svg(smiles), "invalid SMILES")


@pytest.mark.parametrize("smiles", ["", "   ", "\t"])
def test_empty_smiles_gives_a_placeholder(smiles: str) -> None:
    assert _is_placeholder(molecule_svg(smiles), "no SMILES")


def test_molecule_too_large_to_read_gives_a_placeholder() -> None:
    svg = molecule_svg("C" * (MAX_DRAWN_ATOMS + 1))
    assert _is_placeholder(svg, f"too large to draw ({MAX_DRAWN_ATOMS + 1} atoms)")


def test_cxsmiles_extensions_are_refused_so_free_text_atom_labels_are_never_drawn() -> None:
    svg = molecule_svg("CCO |$<script>alert(1)</script>;;$|")
    assert _is_placeholder(svg, "invalid SMILES")
    assert "<script" not in svg.lower()


def test_a_drawing_failure_inside_rdkit_gives_a_placeholder(monkeypatch: pytest.MonkeyPatch) -> None:
    class BrokenDrawer:
        def __init__(self, *args: object) -> None:
            raise RuntimeError("Pre-condition Violation: boom")

    monkeypatch.setattr(rdMolDraw2D, "MolDraw2DSVG", BrokenDrawer)
    assert _is_placeholder(molecule_svg(ASPIRIN), "cannot be drawn")


def test_placeholder_escapes_its_message_and_keeps_the_size() -> None:
    svg = placeholder_svg('<b>"x"</b>', width=100, height=80)
    assert "<b>" not in svg
    assert "&lt;b&gt;&quot;x&quot;&lt;/b&gt;" in svg
    assert 'width="100px" height="80px"' in svg


@pytest.mark.parametrize(("width", "height"), [(0, 100), (100, 10), (5000, 100), (100, -1)])
def test_unusable_canvas_size_is_a_programming_error(width: int, height: int) -> None:
    with pytest.raises(ValueError, match="drawing size"):
        molecule_svg(ASPIRIN, width=width, height=height)
    with pytest.raises(ValueError, match="drawing size"):
        placeholder_svg("x", width=width, height=height)
