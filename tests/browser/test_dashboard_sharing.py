"""Issue 15's remaining Job-page and Jobs-page features in Debian's Chromium against the local server: retry of a
cancelled job, share a job with another member who then sees it, the external-link form only where the org allows
it, the verify badge (checked in the browser with WebCrypto), the decoys-only export and the Jobs filters.
Every page is watched as in test_dashboard_app.py (no console error, no foreign host)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest
import requests

from functions.local.server import DEMO_ORG, DEMO_PROJECT, LocalService
from hetero_core.layout import DECOY_COLUMNS
from tests.browser.dashboard import SMALL_CSV, Watched, cancelled_run, demo_sign_in, retry, shot, wait_state

if TYPE_CHECKING:
    from pathlib import Path

    from playwright.sync_api import Browser

FAST: dict[str, object] = {
    "k_decoys": 3,
    "decoy_descriptors": "fast",
    "scorer": "qed",
    "model_name": "shared-model",
    "model_version": "7",
}


def finished_demo_job(service: LocalService, token: str) -> str:
    """A small job of the demo project run to the end through the API (the pages need a succeeded job)."""
    bearer = {"Authorization": f"Bearer {token}"}
    base = f"{service.url}/v1/orgs/{DEMO_ORG}/projects/{DEMO_PROJECT}/jobs"
    body: dict[str, Any] = {"input_name": "small.csv", "expected_rows": 3, "parameters": FAST}
    created = requests.post(base, json=body, headers=bearer, timeout=30).json()
    upload = created["uploads"]["input"]
    sent = requests.request(
        upload["method"], upload["url"], data=SMALL_CSV.encode(), headers=upload["headers"], timeout=30
    )
    assert sent.status_code == 200
    job: str = created["job"]["job"]
    assert requests.post(f"{base}/{job}/start", headers=bearer, timeout=30).status_code == 202
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if requests.get(f"{base}/{job}", headers=bearer, timeout=30).json()["state"] == "SUCCEEDED":
            return job
        time.sleep(0.3)
    raise TimeoutError(job)


@pytest.mark.usefixtures("signed_in")
def test_cancel_then_retry_a_job_from_its_page(watched: Watched, tmp_path: Path) -> None:
    page = watched.page
    cancelled_run(page, tmp_path)
    retry(page)
    assert wait_state(page, "QUEUED", "RUNNING", "SUCCEEDED") != "CANCELLED"
    page.click("#cancel")  # no need to run 44 drugs at k = 50 to the end here
    assert wait_state(page, "CANCELLED") == "CANCELLED"
    watched.assert_clean()


def test_share_with_a_member_who_then_sees_it_verify_badge_link_form_export_and_filters(
    watched: Watched, server: LocalService, browser: Browser, tmp_path: Path
) -> None:
    token = server.seed_demo()
    job = finished_demo_job(server, token)
    page = watched.page
    demo_sign_in(watched, server.url)
    page.goto(f"{server.url}/#/p/{DEMO_PROJECT}/jobs/{job}")
    page.wait_for_selector("#share-form")
    assert page.locator("#link-form").count() == 0  # external sharing is off for the org: no link form

    page.click("#verify")
    page.wait_for_selector("#verify-badge.badge-ok, #verify-badge.badge-bad", timeout=60_000)
    badge = page.inner_text("#verify-badge")
    assert badge.startswith("✓ Verified: signature valid"), badge
    assert "match the signed manifest" in badge
    assert "match checksums.sha256" in badge

    page.fill("#share-user", "reviewer-1")
    page.click("#share-submit")
    page.wait_for_selector("#shared-with >> text=reviewer-1")
    assert page.inner_text("#verify-badge") == badge  # the re-rendered page keeps the check's result
    page.wait_for_selector("#toast.show", state="hidden")
    shot(page, "dashboard-job-shared.png", "web-dashboard-job-1280x800.png")

    # the reviewer: an org member with no role in the project, signed in with their own token
    reviewer_context = browser.new_context(viewport={"width": 390, "height": 844})
    reviewer = reviewer_context.new_page()
    try:
        reviewer.goto(server.url + "/")
        reviewer.fill("#token", server.issuer.token("reviewer-1", DEMO_ORG))
        reviewer.click("text=Sign in with token")
        reviewer.wait_for_selector("h1:has-text('Projects')")
        reviewer.click("nav >> text=Shared with me")
        reviewer.wait_for_selector("#shared >> text=small.csv")
        reviewer.click("#shared a")
        reviewer.wait_for_selector("#job-state .state-SUCCEEDED")
        for absent in ("#cancel", "#retry", "#delete", "#share-form", "#link-form"):
            assert reviewer.locator(absent).count() == 0
        assert reviewer.evaluate("document.documentElement.scrollWidth") <= 390
        shot(reviewer, "dashboard-shared-390.png")
    finally:
        reviewer_context.close()

    # external links: only once an org admin turned them on
    org = f"{server.url}/v1/orgs/{DEMO_ORG}"
    bearer = {"Authorization": f"Bearer {token}"}
    assert requests.patch(org, json={"external_sharing": True}, headers=bearer, timeout=30).status_code == 200
    try:
        page.reload()
        page.wait_for_selector("#link-form")
        page.fill("#link-recipient", "auditor@example.org")
        page.click("#link-submit")
        page.wait_for_selector("#link-url:not(.hidden)")
        assert requests.get(page.input_value("#link-url"), timeout=30).content.startswith(b"PK")
    finally:
        requests.patch(org, json={"external_sharing": False}, headers=bearer, timeout=30)
    events = requests.get(f"{org}/audit?limit=500", headers=bearer, timeout=30).json()["events"]
    assert any(e["action"] == "pack.share" and e["details"].get("recipient") == "auditor@example.org" for e in events)

    # the decoys-only export on the New audit page: the four columns, no score
    page.goto(f"{server.url}/#/p/{DEMO_PROJECT}/new")
    page.wait_for_selector("#decoys-job")
    page.select_option("#decoys-job", job)
    with page.expect_download() as download:
        page.click("#decoys-download")
    exported = tmp_path / "decoys.csv"
    download.value.save_as(exported)
    lines = exported.read_text(encoding="utf-8").splitlines()
    assert lines[0].split(",") == list(DECOY_COLUMNS)
    assert len(lines) > 3

    # the Jobs filters: model name and creator
    page.goto(f"{server.url}/#/p/{DEMO_PROJECT}")
    page.click("#filters summary")
    page.fill("#filter-model_name", "shared-model")
    page.fill("#filter-created_by", "demo-admin")
    page.click("#apply-filters")
    page.wait_for_selector("#clear-filters")  # rendered only once the filtered page is there
    page.wait_for_selector(f"tr[data-job='{job}']")
    models = page.locator("table.jobs tbody tr").all_inner_texts()
    assert models
    assert all("shared-model 7" in row for row in models)
    assert "demo-admin" in page.inner_text(f"tr[data-job='{job}'] .created-by")
    assert "of" in page.inner_text("#page-count")
    shot(page, "dashboard-jobs-filtered.png")
    watched.assert_clean()
