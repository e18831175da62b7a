"""CSV cells of the evidence pack: formula injection neutralised, numbers rendered identically everywhere."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hetero_core.io import format_cell, format_exact, unneutralize_cell
from hetero_core.io._csv_safety import FORMULA_PREFIXES, neutralize_cell
from hetero_core.reasons import SkipReason, Status, Warning_

# A text and the cell the pack's CSVs hold for it: a formula starter gets one leading quote (after any quotes already
# there), anything else stays as it is; unneutralize_cell reads the cell back to the text.
CELLS = [
    pytest.param('=HYPERLINK("http://evil","aspirin")', '\'=HYPERLINK("http://evil","aspirin")', id="hyperlink"),
    pytest.param("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0", id="plus"),
    pytest.param("-2+3", "'-2+3", id="minus"),
    pytest.param("-0.05", "'-0.05", id="negative-number"),
    pytest.param("@SUM(A1:A2)", "'@SUM(A1:A2)", id="at"),
    pytest.param("=1+1", "'=1+1", id="equals"),
    pytest.param("\t=1+1", "'\t=1+1", id="tab"),
    pytest.param("\t=1", "'\t=1", id="tab-short"),
    pytest.param("\r=1+1", "'\r=1+1", id="carriage-return"),
    pytest.param("'=1+1", "''=1+1", id="looks-neutralised-gets-another-quote"),
    pytest.param("''-5", "'''-5", id="two-quotes-then-a-formula"),
    pytest.param("'quoted name'", "'quoted name'", id="quotes-without-a-formula-after-them"),
    pytest.param("'aspirin'", "'aspirin'", id="quoted-word"),
    pytest.param("'", "'", id="lone-quote"),
    pytest.param("CC(=O)Oc1ccccc1C(=O)O", "CC(=O)Oc1ccccc1C(=O)O", id="aspirin-equals-inside-smiles-is-harmless"),
    pytest.param("Cn1cnc2c1c(=O)n(C)c(=O)n2C", "Cn1cnc2c1c(=O)n(C)c(=O)n2C", id="caffeine"),
    pytest.param("c1ccccc1", "c1ccccc1", id="benzene"),
    pytest.param("aspirin", "aspirin", id="word"),
    pytest.param("mol-001", "mol-001", id="id"),
    pytest.param("", "", id="empty"),
    pytest.param(" =not a formula once a space leads", " =not a formula once a space leads", id="space-first"),
]


@pytest.mark.parametrize(("text", "cell"), CELLS)
def test_neutralize_cell_quotes_formula_starters_only_and_unneutralize_reads_it_back(text: str, cell: str) -> None:
    assert neutralize_cell(text) == cell
    assert unneutralize_cell(cell) == text


_TRICKY = st.text(alphabet=st.sampled_from(["'", "=", "+", "-", "@", "\t", "\r", "a", "1", " "]), max_size=6)


@given(_TRICKY | st.text())
def test_neutralize_round_trips_exactly(text: str) -> None:
    cell = neutralize_cell(text)
    assert unneutralize_cell(cell) == text
    assert not cell.startswith(FORMULA_PREFIXES)


def test_neutralize_cell_gives_plain_str_for_str_enum() -> None:
    result = neutralize_cell(Status.OK)
    assert result == "OK"
    assert type(result) is str


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (50, "50"),
        (-3, "-3"),
        (0.5, "0.5"),
        (-0.05, "-0.05"),  # a negative slack stays a number: never quoted
        (0.123456789, "0.123457"),
        (1 / 3, "0.333333"),
        (180.159, "180.159"),  # aspirin's MW
        (1e-7, "0.0"),
        (-1e-7, "0.0"),  # rounds to -0.0, which must not print differently from 0.0
        (-0.0, "0.0"),
        (12.0, "12.0"),
        (1e20, "1e+20"),
        (math.nan, ""),
        (math.inf, ""),
        (-math.inf, ""),
    ],
)
def test_format_cell_scalars(value: object, expected: str) -> None:
    assert format_cell(value) == expected


def test_format_cell_numpy_scalars_match_python_ones() -> None:
    assert format_cell(np.float64(-0.05)) == "-0.05"
    assert format_cell(np.float32(0.5)) == "0.5"
    assert format_cell(np.int64(7)) == "7"
    assert format_cell(np.float64("nan")) == ""


def test_format_cell_strings_are_neutralised() -> None:
    assert format_cell("=1+1") == "'=1+1"
    assert format_cell("-0.05") == "'-0.05"  # user *text*, not a number the writer formatted
    assert format_cell("aspirin") == "aspirin"
    assert format_cell(SkipReason.INVALID_SMILES) == "invalid_smiles"


def test_format_cell_joins_lists_and_tuples_with_semicolons() -> None:
    warnings = [Warning_.STANDARDIZED, Warning_.FEWER_DECOYS_THAN_REQUESTED]
    assert format_cell(warnings) == "standardized;fewer_decoys_than_requested"
    assert format_cell(("a", "b", "c")) == "a;b;c"
    assert format_cell([]) == ""
    assert format_cell(["=cmd", "ok"]) == "'=cmd;ok"


@pytest.mark.parametrize("value", [[1, 2], ("a", 2)])
def test_format_cell_refuses_lists_of_non_strings(value: object) -> None:
    with pytest.raises(TypeError, match="lists of strings"):
        format_cell(value)


@pytest.mark.parametrize("value", [{"a": 1}, b"bytes", object(), {1, 2}])
def test_format_cell_refuses_unknown_types(value: object) -> None:
    with pytest.raises(TypeError, match="no CSV cell format"):
        format_cell(value)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_format_cell_float_is_finite_text_within_rounding(value: float) -> None:
    text = format_cell(value)
    if not math.isfinite(value):
        assert text == ""
        return
    assert text not in ("nan", "inf", "-inf", "-0.0")
    assert not text.startswith("'")
    parsed = float(text)
    assert parsed == round(value, 6) or (parsed == 0.0 and round(value, 6) == 0.0)


# --- score cells at full precision (SPEC §4) ------------------------------------------------------


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_format_exact_reads_back_as_the_very_same_float(value: float) -> None:
    assert float(format_exact(value)) == value


def test_format_exact_keeps_what_six_digits_would_round_away() -> None:
    qed = 0.5503793836935493
    assert format_exact(qed) == "0.5503793836935493"
    assert format_cell(qed) == "0.550379"
    assert format_exact(-1e-12) == "-1e-12"  # a negative score stays a number, never a quoted formula


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, ""), (math.nan, ""), (math.inf, ""), (-0.0, "0.0"), (np.float64(0.25), "0.25"), (3, "3")],
)
def test_format_exact_edge_cells(value: object, expected: str) -> None:
    assert format_exact(value) == expected
