"""The browser tier's Chromium (Debian's binary, one set of flags, skipped with its reason where it is absent) and
the dashboard tests' server and watched page (tests/browser/dashboard.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from tests.browser.dashboard import Watched, became_download, demo_sign_in

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import ModuleType

    from playwright.sync_api import Browser

    from functions.local.server import LocalService

CHROMIUM = Path("/usr/bin/chromium")
# No sandbox (root in a container), no GPU, and nothing that would phone home on its own.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def playwright_or_skip() -> ModuleType:
    """``playwright.sync_api``, or a skip that says what is missing: Debian's chromium or the playwright package."""
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium (apt-get install -y chromium)")
    return pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is absent: pip install playwright (dev extra)"
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium per test module (a module may define its own, e.g. a persistent profile)."""
    with playwright_or_skip().sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def server(service: LocalService) -> LocalService:
    service.seed_demo()
    return service


@pytest.fixture
def watched(browser: Browser, server: LocalService) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    ports = {urlsplit(server.url).port or 0, urlsplit(server.moto_url).port or 0}
    seen = Watched(page, ports)
    page.on("console", lambda message: seen.console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    page.on(
        "requestfailed",
        lambda request: (
            None
            if became_download(request)
            else seen.failed.append(f"{request.method} {request.resource_type} {request.url} {request.failure}")
        ),
    )
    page.on("request", lambda request: seen.urls.append(request.url))
    page.on(
        "response", lambda r: seen.refused.append(f"{r.status} {r.request.method} {r.url}") if r.status >= 400 else None
    )
    try:
        yield seen
    finally:
        context.close()


@pytest.fixture
def signed_in(watched: Watched, server: LocalService) -> None:
    """The watched page signed in as the demo org's admin, on the Jobs page: where most dashboard tests start."""
    demo_sign_in(watched, server.url)
