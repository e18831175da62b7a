"""The report's plots: inline SVG that is byte-stable, self-contained and safe to put several in one page."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import pytest
from matplotlib import font_manager

from hetero_core.report._plots import (
    BinAuc,
    PlotDataError,
    auc_by_bin_svg,
    matplotlib_version,
    similarity_histogram_svg,
    slack_histogram_svg,
)

if TYPE_CHECKING:
    from collections.abc import Callable

SLACK_EDGES = [round(-1.0 + 0.1 * i, 1) for i in range(21)]
# 44 approved drugs audited with QED: every one FAILs, most between -0.5 and -0.2
SLACK_COUNTS = [0, 0, 1, 2, 3, 10, 14, 3, 10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
SIMILARITY_EDGES = [i / 20 for i in range(21)]
SIMILARITY_COUNTS = [0, 0, 2, 19, 34, 35, 28, 27, 23, 29, 46, 83, 128, 135, 133, 89, 30, 19, 3, 17]
BINS = [BinAuc("easy", 0.7208, 197), BinAuc("medium", 0.6492, 392), BinAuc("hard", 0.6014, 291)]

RENDERERS: dict[str, Callable[[], str]] = {
    "slack": lambda: slack_histogram_svg(SLACK_EDGES, SLACK_COUNTS),
    "similarity": lambda: similarity_histogram_svg(SIMILARITY_EDGES, SIMILARITY_COUNTS),
    "auc-bins": lambda: auc_by_bin_svg(BINS),
}


@pytest.fixture(scope="module", params=sorted(RENDERERS))
def plot(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(name, svg) of each plot, rendered once for the module: a plot takes a fifth of a second."""
    name = str(request.param)
    return name, RENDERERS[name]()


@pytest.fixture(scope="module")
def slack_svg() -> str:
    return RENDERERS["slack"]()


def test_plot_is_an_inline_svg_element_without_prolog_or_doctype(plot: tuple[str, str]) -> None:
    _, svg = plot
    assert svg.startswith('<svg class="plot" role="img" aria-label="')
    assert svg.rstrip().endswith("</svg>")
    assert "<?xml" not in svg
    assert "<!DOCTYPE" not in svg


def test_plot_is_the_same_bytes_every_time(plot: tuple[str, str]) -> None:
    name, svg = plot
    assert RENDERERS[name]() == svg


def test_plot_carries_no_date_and_draws_text_as_paths(plot: tuple[str, str]) -> None:
    _, svg = plot
    assert "<dc:date" not in svg
    assert "<metadata" not in svg
    assert "<text" not in svg  # svg.fonttype "path": the page needs no font to show the plot


def test_every_reference_points_at_an_id_of_the_same_plot(plot: tuple[str, str]) -> None:
    name, svg = plot
    ids = re.findall(r'\sid="([^"]*)"', svg)
    references = re.findall(r'(?:href="#|url\(#)([^")]*)', svg)
    assert references
    assert len(ids) == len(set(ids))
    assert set(references) <= set(ids)
    assert all(identifier.startswith(f"{name}-") for identifier in ids)


def test_plots_with_different_prefixes_share_no_id() -> None:
    first = slack_histogram_svg(SLACK_EDGES, SLACK_COUNTS, prefix="first")
    second = slack_histogram_svg(SLACK_EDGES, SLACK_COUNTS, prefix="second")
    first_ids = set(re.findall(r'\sid="([^"]*)"', first))
    second_ids = set(re.findall(r'\sid="([^"]*)"', second))
    assert all(name.startswith("first-") for name in first_ids)
    assert all(name.startswith("second-") for name in second_ids)
    assert not first_ids & second_ids


def test_different_numbers_give_a_different_plot(slack_svg: str) -> None:
    shifted = [*SLACK_COUNTS[1:], 5]
    assert slack_histogram_svg(SLACK_EDGES, shifted) != slack_svg


def test_rendering_leaves_matplotlib_settings_as_they_were() -> None:
    before = (
        matplotlib.rcParams["svg.hashsalt"],
        matplotlib.rcParams["svg.fonttype"],
        matplotlib.rcParams["font.size"],
    )
    slack_histogram_svg(SLACK_EDGES, SLACK_COUNTS)
    after = (matplotlib.rcParams["svg.hashsalt"], matplotlib.rcParams["svg.fonttype"], matplotlib.rcParams["font.size"])
    assert after == before


def test_process_style_settings_do_not_leak_into_the_plot(slack_svg: str) -> None:
    with matplotlib.rc_context({"font.size": 20, "svg.hashsalt": None, "font.family": "serif", "lines.linewidth": 5}):
        assert slack_histogram_svg(SLACK_EDGES, SLACK_COUNTS) == slack_svg


def test_histogram_with_no_molecule_still_draws() -> None:
    svg = slack_histogram_svg(SLACK_EDGES, [0] * 20)
    assert svg.startswith("<svg")


def test_empty_similarity_bin_is_drawn_without_a_bar() -> None:
    with_gap = auc_by_bin_svg([BinAuc("easy", 0.72, 197), BinAuc("medium", None, 0), BinAuc("hard", 0.60, 291)])
    assert with_gap.startswith("<svg")
    assert with_gap != RENDERERS["auc-bins"]()


@pytest.mark.parametrize(
    ("edges", "counts", "message"),
    [
        ([0.0, 0.5, 1.0], [1, 2, 3], "len"),
        ([0.0, 1.0], [], "len"),
        ([0.0, 0.5, 0.5], [1, 2], "increasing"),
        ([0.0, math.nan, 1.0], [1, 2], "finite"),
        ([0.0, 0.5, 1.0], [1, -2], ">= 0"),
    ],
)
def test_numbers_that_are_not_a_histogram_are_refused(edges: list[float], counts: list[int], message: str) -> None:
    with pytest.raises(PlotDataError, match=message):
        slack_histogram_svg(edges, counts)
    with pytest.raises(PlotDataError, match=message):
        similarity_histogram_svg(edges, counts)


@pytest.mark.parametrize(("bins", "message"), [([], "at least one"), ([BinAuc("hard", 1.5, 10)], r"\[0, 1\]")])
def test_auc_bins_that_cannot_be_drawn_are_refused(bins: list[BinAuc], message: str) -> None:
    with pytest.raises(PlotDataError, match=message):
        auc_by_bin_svg(bins)


@pytest.mark.parametrize("prefix", ["", "Slack", "a b", 'x"><script>', "1abc"])
def test_id_prefix_must_be_a_plain_lowercase_name(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        slack_histogram_svg(SLACK_EDGES, SLACK_COUNTS, prefix=prefix)


def test_matplotlib_version_is_the_installed_one() -> None:
    assert matplotlib_version() == matplotlib.__version__


def test_a_font_cache_that_prefers_another_file_does_not_change_the_plot(
    slack_svg: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A system copy of DejaVu Sans (another version) could win the font lookup; the plots never ask it."""
    other_file = str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf")
    lookup = font_manager.FontManager.findfont

    def prefer_other(self: font_manager.FontManager, prop: Any, *args: Any, **kwargs: Any) -> str:
        if isinstance(prop, font_manager.FontProperties) and prop.get_file() is not None:
            return str(lookup(self, prop, *args, **kwargs))
        return other_file

    monkeypatch.setattr(font_manager.FontManager, "findfont", prefer_other)
    assert slack_histogram_svg(SLACK_EDGES, SLACK_COUNTS) == slack_svg
