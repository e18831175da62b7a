"""axe-core's accessibility scan of every dashboard page: no serious or critical violation.

axe-core comes from npm's lock file (``tests/browser/axe``, installed by ``make setup``) and is injected through
the DevTools protocol by this test only. Pages: sign-in, jobs (filters open), new audit (advanced parameters open,
the decoys-only export), a created job (share form), a succeeded job (verify badge shown, the external-link form
on), shared with me, members, history, admin, at 1280×800 and at 390 px wide.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from functions.local.server import DEMO_ORG, DEMO_PROJECT, LocalService
from tests.browser.test_dashboard_sharing import finished_demo_job

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
SCAN = """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
  .map(v => ({id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map(n => n.target.join(" "))}))"""


def _serious(page: Page) -> list[dict[str, object]]:
    page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, object]] = page.evaluate(SCAN)
    return [v for v in found if v["impact"] in ("serious", "critical")]


def _open(page: Page, url: str, ready: str) -> None:
    """Go to ``url`` and wait until ``ready`` (a CSS selector) shows: the page has rendered."""
    page.goto(url)
    page.wait_for_selector(ready)


def test_the_installed_axe_core_is_the_locked_release() -> None:
    assert AXE.is_file(), "axe-core is not installed: run `make setup` (npm ci --prefix tests/browser/axe)"
    assert hashlib.sha256(AXE.read_bytes()).hexdigest() == AXE_SHA256


@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_has_no_serious_or_critical_axe_violation(
    browser: Browser, service: LocalService, width: int
) -> None:
    token = service.seed_demo()
    base = f"{service.url}/v1/orgs/{DEMO_ORG}/projects/{DEMO_PROJECT}"
    body: dict[str, Any] = {
        "input_name": "m.csv",
        "expected_rows": 1,
        "parameters": {"model_name": "m", "model_version": "2"},
    }
    answer = requests.post(f"{base}/jobs", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    job = answer.json()["job"]["job"]
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    try:
        _open(page, service.url + "/", "#demo-sign-in")
        found = {"sign-in": _serious(page)}
        page.click("#demo-sign-in")
        page.wait_for_selector("h1:has-text('Jobs')")
        page.click("#filters summary")
        found["jobs"] = _serious(page)
        _open(page, f"{service.url}/#/p/{DEMO_PROJECT}/new", "#new-audit-form")
        page.click("#advanced summary")
        page.wait_for_selector("#decoys-only")
        found["new audit"] = _serious(page)
        _open(page, f"{service.url}/#/p/{DEMO_PROJECT}/jobs/{job}", "#share-form")
        found["job"] = _serious(page)
        done = finished_demo_job(service, token)
        org = f"{service.url}/v1/orgs/{DEMO_ORG}"
        bearer = {"Authorization": f"Bearer {token}"}
        assert requests.patch(org, json={"external_sharing": True}, headers=bearer, timeout=30).status_code == 200
        try:
            _open(page, f"{service.url}/#/p/{DEMO_PROJECT}/jobs/{done}", "#link-form")
            page.click("#verify")
            page.wait_for_selector("#verify-badge.badge-ok, #verify-badge.badge-bad")
            found["succeeded job"] = _serious(page)
        finally:
            requests.patch(org, json={"external_sharing": False}, headers=bearer, timeout=30)
        for name, route, ready in (  # the pages scanned as they open
            ("shared with me", "#/shared", "#shared, #no-shared"),
            ("members", f"#/p/{DEMO_PROJECT}/members", "#members"),
            ("history", f"#/p/{DEMO_PROJECT}/history", "svg.chart, #no-history"),
            ("admin", "#/admin", "#audit"),
        ):
            _open(page, f"{service.url}/{route}", ready)
            found[name] = _serious(page)
    finally:
        context.close()
    serious = {name: [(v["id"], v["targets"]) for v in found_here] for name, found_here in found.items() if found_here}
    assert serious == {}
