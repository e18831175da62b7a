"""Molecule drawings as inline SVG for the report: the original beside the decoys that fooled the model.

A chemist sees at a glance what a rewired decoy looks like; a reader of a SMILES string does not. The
drawing is part of a byte-identical pack, so it is made the same way every time: 2D coordinates from
RDKit's own depictor (CoordGen is switched off for the call, whatever the process preference), a fixed
canvas and options, atom labels drawn as paths from RDKit's bundled font. A SMILES that cannot be parsed
or drawn gives a placeholder picture, never an exception: a picture is never worth failing a pack for.

The SVG is made compact and safe to inline: no XML prolog, no per-atom classes, RDKit's long repeated
``style`` attributes folded into a few CSS classes named after their content (identical styles in two
drawings share a name and a rule, so one page may hold any number of drawings), and CXSMILES extensions
(which can carry free-text atom labels) are not parsed.
"""

from __future__ import annotations

import hashlib
import html
import re

from rdkit import Chem, rdBase
from rdkit.Chem import rdDepictor
from rdkit.Chem.Draw import rdMolDraw2D

__all__ = [
    "DEFAULT_HEIGHT",
    "DEFAULT_WIDTH",
    "MAX_DRAWN_ATOMS",
    "molecule_svg",
    "placeholder_svg",
]

DEFAULT_WIDTH = 220
DEFAULT_HEIGHT = 170
# Beyond this many heavy atoms a drawing at card size is an unreadable tangle (and a large file).
MAX_DRAWN_ATOMS = 150
_MIN_SIDE, _MAX_SIDE = 40, 2000

_STYLE_ATTRIBUTE = re.compile(r" style='([^']*)'")
_CLASS_ATTRIBUTE = re.compile(r" class='[^']*'")
_COMMENT = re.compile(r"<!--.*?-->\n?", re.DOTALL)


def _check_size(width: int, height: int) -> None:
    if not (_MIN_SIDE <= width <= _MAX_SIDE and _MIN_SIDE <= height <= _MAX_SIDE):
        raise ValueError(f"drawing size must be {_MIN_SIDE}-{_MAX_SIDE} px a side, got {width}x{height}")


def placeholder_svg(message: str, *, width: int = DEFAULT_WIDTH, height: int = DEFAULT_HEIGHT) -> str:
    """A framed box with a short message, in place of a drawing that cannot be made.

    Raises:
        ValueError: the size is outside 40-2000 px a side (a programming error, not a data error).
    """
    _check_size(width, height)
    text = html.escape(message[:60], quote=True)
    return (
        f'<svg class="mol-svg placeholder" role="img" aria-label="{text}" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}px" height="{height}px" viewBox="0 0 {width} {height}">'
        f'<rect x="1" y="1" width="{width - 2}" height="{height - 2}" fill="#ffffff" stroke="#999999" '
        f'stroke-dasharray="4 3"/>'
        f'<text x="{width / 2:g}" y="{height / 2:g}" text-anchor="middle" dominant-baseline="middle" '
        f'font-family="sans-serif" font-size="12" fill="#555555">{text}</text></svg>\n'
    )


def _parse(smiles: str) -> Chem.Mol | None:
    params = Chem.SmilesParserParams()
    # RDKit's generated stubs type these Boost properties wrongly, hence the ignores.
    params.allowCXSMILES = False  # type: ignore[assignment]  # CXSMILES atom labels are free text: never draw them
    params.parseName = False  # type: ignore[assignment]
    return Chem.MolFromSmiles(smiles, params)


def _compact(svg: str) -> str:
    """Inline-ready RDKit SVG: prolog and comments dropped, repeated styles folded into content-named classes."""
    start = svg.find("<svg")
    if start < 0:
        raise ValueError("RDKit produced no <svg> element")
    body = _COMMENT.sub("", _CLASS_ATTRIBUTE.sub("", svg[start:]))
    rules: dict[str, str] = {}

    def to_class(match: re.Match[str]) -> str:
        style = match.group(1)
        if any(char in style for char in "<>{}&"):
            return match.group(0)  # not a plain declaration list: leave it where it is
        name = "m" + hashlib.sha256(style.encode("utf-8")).hexdigest()[:10]
        rules[name] = style
        return f" class='{name}'"

    body = _STYLE_ATTRIBUTE.sub(to_class, body)
    css = "".join(f".{name}{{{style}}}" for name, style in sorted(rules.items()))
    head_end = body.index(">") + 1
    opening = body[:head_end].replace("<svg ", "<svg class='mol-svg' role='img' ", 1)
    return f"{opening}\n<style>{css}</style>{body[head_end:].rstrip()}\n"


def molecule_svg(smiles: str, *, width: int = DEFAULT_WIDTH, height: int = DEFAULT_HEIGHT) -> str:
    """2D depiction of a SMILES as an inline ``<svg>`` element; a placeholder when it cannot be drawn.

    Args:
        smiles: any SMILES; the customer's text, so it is parsed without CXSMILES extensions and never
            copied into the drawing.
        width, height: canvas in pixels.

    Raises:
        ValueError: the size is outside 40-2000 px a side (a programming error, not a data error).
    """
    _check_size(width, height)
    if not smiles.strip():
        return placeholder_svg("no SMILES", width=width, height=height)
    with rdBase.BlockLogs():
        mol = _parse(smiles)
        if mol is None:
            return placeholder_svg("invalid SMILES", width=width, height=height)
        if mol.GetNumHeavyAtoms() > MAX_DRAWN_ATOMS:
            return placeholder_svg(f"too large to draw ({mol.GetNumHeavyAtoms()} atoms)", width=width, height=height)
        try:
            with rdDepictor.UsingCoordGen(False):
                rdDepictor.Compute2DCoords(mol)
            drawer = rdMolDraw2D.MolDraw2DSVG(width, height)
            options = drawer.drawOptions()
            options.clearBackground = False  # type: ignore[assignment]  # the page is white; one rect less
            drawer.DrawMolecule(mol)
            drawer.FinishDrawing()
            return _compact(drawer.GetDrawingText())
        except Exception:  # RDKit raises assorted wrapped C++ errors; a picture is never worth failing a pack
            return placeholder_svg("cannot be drawn", width=width, height=height)
