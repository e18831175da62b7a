"""report.html of a real pack in headless Chromium, and report bytes identical across processes.

The browser tests need Debian's ``chromium`` (``apt-get install chromium``) and the Python ``playwright``
package driving it through ``executable_path`` (never ``playwright install``: no browser download). Without
either they are skipped with the reason. The byte-stability test needs neither and always runs.

Artefacts for a person to look at land in ``test-artifacts/`` at the repository root (git-ignored): a
full-page screenshot and the page printed to PDF.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from hetero_core.config import RunConfig
from hetero_core.layout import REPORT
from hetero_core.pipeline import run_audit
from hetero_core.scores import make_scorer
from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS, playwright_or_skip

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import BrowserContext

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
BUNDLED_EXAMPLE = ROOT / "hetero_core" / "examples" / "approved_drugs.csv"
CREATED_AT = "2026-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled 44 approved drugs audited with QED and 5 decoys each: a real pack with FAILs to draw."""
    out = tmp_path_factory.mktemp("chromium") / "pack"
    run_audit(
        BUNDLED_EXAMPLE,
        out,
        config=RunConfig(k_decoys=5),
        scorer=make_scorer("qed"),
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    sync_api = playwright_or_skip()
    profile = tmp_path_factory.mktemp("chromium-profile")  # fresh user-data-dir: no cache, no history
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1200, "height": 1000},
        )
        try:
            yield context
        finally:
            context.close()


def test_report_opens_in_chromium_without_errors_or_network_and_shows_molecules(
    pack: Path, browser: BrowserContext
) -> None:
    url = (pack / REPORT).resolve().as_uri()
    page = browser.new_page()
    console: list[str] = []
    page_errors: list[str] = []
    requests: list[str] = []
    failed: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    page.on("requestfailed", lambda request: failed.append(request.url))

    page.goto(url, wait_until="load")

    assert [entry for entry in console if entry.startswith(("error", "warning"))] == []
    assert page_errors == []
    assert failed == []
    assert requests == [url]  # the page itself, nothing else: no font, no script, no image fetched
    assert page.title() == "HETERO-2 audit report — approved_drugs.csv"
    molecules = page.locator("#worst svg")
    assert molecules.count() > 0
    first = molecules.first.bounding_box()
    assert first is not None
    assert first["width"] > 100
    assert first["height"] > 50
    assert page.locator("svg.plot").count() == 3

    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "report-chromium.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.read_bytes().startswith(b"\x89PNG")
    printed = ARTIFACTS / "report-chromium.pdf"
    page.pdf(path=str(printed), format="A4", print_background=True)
    assert printed.read_bytes().startswith(b"%PDF")
    page.close()


def test_report_prints_with_the_navigation_hidden(pack: Path, browser: BrowserContext) -> None:
    page = browser.new_page()
    page.goto((pack / REPORT).resolve().as_uri(), wait_until="load")
    assert page.locator("nav").is_visible()
    page.emulate_media(media="print")
    assert not page.locator("nav").is_visible()
    page.close()


def _run_in_new_process(out: Path, hash_seed: str, mpl_config: Path | None) -> None:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    if mpl_config is not None:
        env["MPLCONFIGDIR"] = str(mpl_config)  # a fresh font cache, built from scratch in that process
    command = [sys.executable, "-m", "hetero_core.cli", "run", BUNDLED_EXAMPLE, "--out", out]
    command += ["--k-decoys", "5", "--scorer", "qed", "--workers", "1", "--quiet", "--created-at", CREATED_AT]
    done = subprocess.run([str(part) for part in command], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_report_bytes_are_identical_from_two_separate_processes(tmp_path: Path) -> None:
    _run_in_new_process(tmp_path / "first", "1", None)
    _run_in_new_process(tmp_path / "second", "2", tmp_path / "matplotlib-config")
    first, second = (tmp_path / "first" / REPORT).read_bytes(), (tmp_path / "second" / REPORT).read_bytes()
    assert len(first) > 10_000
    assert first == second
