"""The web dashboard in Debian's Chromium against a real ``hetero2 serve`` (LocalService over real HTTP).

Every test signs in through the page, and every page is watched: no console error or warning, no uncaught
exception, no failed request, and no request to any host but the server (127.0.0.1: the API and the app on
the server's port, presigned uploads and downloads on its local object store's port). Screenshots land in
``test-artifacts/`` (git-ignored); with ``HETERO2_DOCS_SCREENSHOTS=1`` the two in ``docs/`` are rewritten too.
Skipped, with the reason, where Chromium or Playwright is absent (as test_report_chromium.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from functions.local.server import DEMO_ORG, DEMO_PROJECT, LocalService
from tests.browser.dashboard import SMALL_CSV, Watched, cancelled_run, retry, shot, submit, wait_state


def test_security_headers_and_csp_on_every_app_file(server: LocalService) -> None:
    for path in ("/", "/app.js", "/app.css", "/config.json"):
        answer = requests.get(server.url + path, timeout=30)
        assert answer.status_code == 200
        csp = answer.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp
        assert "unsafe-eval" not in csp
        assert "script-src 'self';" in csp
        assert "frame-ancestors 'none'" in csp
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["Referrer-Policy"] == "no-referrer"
    # files outside the app are never served: what is not an app file goes to the API, which wants a token first
    for path in ("/pyproject.toml", "/web/app.js"):
        assert requests.get(server.url + path, timeout=30).status_code in (401, 404)


@pytest.mark.usefixtures("signed_in")
def test_sign_in_submit_watch_progress_open_report_and_download_the_verified_pack(
    watched: Watched, tmp_path: Path
) -> None:
    page = watched.page
    assert page.inner_text("#user") == f"demo-admin · {DEMO_ORG}"
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/jobs")) as created:
        job = submit(
            page,
            tmp_path,
            "molecules.csv",
            SMALL_CSV,
            checks=("decoy_cache",),
            model_name="qed-baseline",
            model_version="1.0",
            k_decoys="3",
        )
    body = created.value.post_data_json
    assert body is not None
    parameters = body["parameters"]
    assert (parameters["decoy_cache"], parameters["hard_mode"], parameters["k_decoys"]) == (True, False, 3)
    assert page.locator("#job-progress progress").count() == 1
    assert wait_state(page, "SUCCEEDED", "FAILED") == "SUCCEEDED"
    assert page.inner_text("#job-decision").split()[0] in ("GO", "STOP", "INCONCLUSIVE")

    page.click("#open-report")
    report = page.locator("#report")
    report.locator("svg").first.wait_for()
    text = report.evaluate("host => host.shadowRoot.textContent")
    assert "molecules.csv" in text
    assert "Decoy" in text or "decoy" in text
    styled = report.locator("svg").first.evaluate("svg => getComputedStyle(svg).display")
    assert styled != ""
    shot(page, "dashboard-job.png")

    with page.expect_download() as pack_download:
        page.click("#downloads [data-artifact=pack]")
    with page.expect_download() as key_download:
        page.click("#downloads [data-artifact=public_key]")
    pack = tmp_path / "pack.zip"
    key = tmp_path / "key.pem"
    pack_download.value.save_as(pack)
    key_download.value.save_as(key)
    hetero2 = Path(sys.executable).parent / "hetero2"
    verified = subprocess.run(
        [str(hetero2), "verify", str(pack), "--public-key", str(key)], capture_output=True, text=True, check=False
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr

    page.click("text=← Jobs")
    row = page.locator(f"tr[data-job='{job}']")
    assert "SUCCEEDED" in row.inner_text()
    assert "qed-baseline 1.0" in row.inner_text()
    assert "demo-admin" in row.inner_text() or "—" not in row.inner_text()
    shot(page, "dashboard-jobs-1280.png", "web-dashboard-1280x800.png")
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(200)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "dashboard-jobs-390.png", "web-dashboard-390.png")
    watched.assert_clean()


@pytest.mark.usefixtures("signed_in")
def test_the_header_is_checked_in_the_browser_before_anything_is_uploaded(watched: Watched, tmp_path: Path) -> None:
    page = watched.page
    page.click("#new-audit")
    bad = tmp_path / "bad.csv"
    bad.write_text("name,structure\nx,CCO\n")
    page.set_input_files("#input-file", str(bad))
    page.wait_for_selector("#input-error:not(:empty)")
    assert 'no "id" or "smiles" column' in page.inner_text("#input-error")
    posts = len([u for u in watched.urls if "/jobs" in u])
    page.click("#submit")
    page.wait_for_selector("#input-error:not(:empty)")  # checked again on submit (asynchronously: it reads the file)
    assert 'no "id" or "smiles" column' in page.inner_text("#input-error")
    assert len([u for u in watched.urls if "/jobs" in u]) == posts
    watched.assert_clean()


@pytest.mark.usefixtures("signed_in")
def test_cancel_a_running_job_and_retry_a_failed_one(watched: Watched, tmp_path: Path) -> None:
    page = watched.page
    cancelled_run(page, tmp_path)
    assert page.locator("#cancel").count() == 0
    assert page.locator("#retry").count() == 1  # a cancelled job can be retried (test_dashboard_sharing.py does)

    page.click("text=← Jobs")
    scores = tmp_path / "scores.csv"
    scores.write_text("id,score\nnot-a-molecule,0.5\n")
    submit(page, tmp_path, "scored.csv", SMALL_CSV, scores=str(scores))
    assert wait_state(page, "FAILED") == "FAILED"
    assert "score" in page.inner_text("dl.facts dd.error")  # the job's error, as the API records it
    before = page.locator("#job-state").element_handle()
    retry(page)
    before.wait_for_element_state("hidden")  # the page re-rendered after the retry; then watch it to the end
    assert wait_state(page, "FAILED") == "FAILED"  # the same scores: it fails the same way again
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete")
    page.wait_for_selector("h1:has-text('Jobs')")
    watched.assert_clean()


def test_a_view_user_sees_no_run_cancel_retry_or_delete_and_the_api_refuses_them(
    watched: Watched, server: LocalService, tmp_path: Path
) -> None:
    admin = {"Authorization": f"Bearer {server.seed_demo()}"}
    base = f"{server.url}/v1/orgs/{DEMO_ORG}/projects/{DEMO_PROJECT}"
    added = requests.post(f"{base}/members", json={"user": "viewer-1", "role": "view"}, headers=admin, timeout=30)
    assert added.status_code in (200, 201, 409), added.text
    created = requests.post(
        f"{base}/jobs", json={"input_name": "m.csv", "expected_rows": 1}, headers=admin, timeout=30
    ).json()["job"]["job"]
    viewer = server.issuer.token("viewer-1", DEMO_ORG)

    page = watched.page
    page.goto(server.url + "/")
    page.fill("#token", viewer)
    page.click("text=Sign in with token")
    page.wait_for_selector("h1:has-text('Jobs')")
    assert page.locator("#new-audit").count() == 0
    assert page.locator("nav >> text=New audit").count() == 0
    assert page.locator("nav >> text=Members").count() == 0
    assert page.locator("nav >> text=Admin").count() == 0
    page.click(f"tr[data-job='{created}'] a")
    page.wait_for_selector("#job-state")
    for button in ("#cancel", "#retry", "#delete"):
        assert page.locator(button).count() == 0
    shot(page, "dashboard-viewer.png")

    bearer = {"Authorization": f"Bearer {viewer}"}
    assert requests.post(f"{base}/jobs/{created}/cancel", headers=bearer, timeout=30).status_code == 403
    assert requests.delete(f"{base}/jobs/{created}", headers=bearer, timeout=30).status_code == 403
    body: dict[str, str | int] = {"input_name": "m.csv", "expected_rows": 1}
    assert requests.post(f"{base}/jobs", json=body, headers=bearer, timeout=30).status_code == 403
    watched.assert_clean()


@pytest.mark.usefixtures("signed_in")
def test_an_admin_manages_members_and_reads_usage_and_the_audit_log(watched: Watched) -> None:
    page = watched.page
    page.click("nav >> text=Members")
    page.wait_for_selector("#members")
    page.fill("#member-user", "runner-2")
    page.select_option("#member-role", "run")
    page.click("#add-member")
    page.wait_for_selector("#members td:has-text('runner-2')")
    row = page.locator("#members tr", has_text="runner-2")
    assert "run" in row.inner_text()
    row.locator("button[data-remove]").click()
    page.locator("#members td", has_text="runner-2").wait_for(state="detached")

    page.click("nav >> text=Admin")
    page.wait_for_selector("#audit")
    assert page.inner_text("#usage-total").startswith("Total:")
    events = page.locator("#audit tbody tr")
    assert events.count() > 0
    page.fill("#audit-filter", "runner-2")
    visible = page.locator("#audit tbody tr:not(.hidden)")
    assert 0 < visible.count() < events.count()
    assert all("runner-2" in text for text in visible.all_inner_texts())
    shot(page, "dashboard-admin.png")
    watched.assert_clean()


@pytest.mark.usefixtures("signed_in")
def test_project_history_charts_pass_rate_and_decision_by_model_version(watched: Watched, tmp_path: Path) -> None:
    page = watched.page
    job = submit(page, tmp_path, "history.csv", SMALL_CSV, model_name="hist-model", model_version="7", k_decoys="3")
    assert wait_state(page, "SUCCEEDED") == "SUCCEEDED"
    page.click("nav >> text=History")
    page.wait_for_selector("svg.chart")
    row = page.locator("#history tr", has_text=job)
    assert "hist-model 7" in row.inner_text()
    rate = float(row.locator("td").nth(3).inner_text())
    assert 0.0 <= rate <= 1.0
    assert page.locator(f"svg.chart [data-job='{job}']").count() == 1
    assert "hist-model 7" in page.inner_text(".legend")
    shot(page, "dashboard-history.png")
    watched.assert_clean()


class _FakeIdentityProvider:
    """A minimal OIDC provider on 127.0.0.1: discovery, /authorize (signs the user straight in) and /token,
    which issues the server's token only for the verifier whose S256 hash was the authorize request's challenge."""

    def __init__(self, token: str, origin: str) -> None:
        self.token, self.origin = token, origin
        self.codes: dict[str, dict[str, str]] = {}
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def _json(self, status: int, body: dict[str, object]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Access-Control-Allow-Origin", idp.origin)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path == "/.well-known/openid-configuration":
                    endpoints = {"authorization_endpoint": f"{idp.url}/authorize", "token_endpoint": f"{idp.url}/token"}
                    self._json(200, {"issuer": idp.url, **endpoints})
                    return
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                idp.authorize_requests.append(query)
                code = secrets.token_urlsafe(16)
                idp.codes[code] = query
                self.send_response(302)
                self.send_header(
                    "Location", f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
                )
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                form = {
                    k: v[-1] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()).items()
                }
                idp.token_requests.append(form)
                asked = idp.codes.pop(form.get("code", ""), None)
                digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
                challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
                if (
                    asked is None
                    or asked["code_challenge"] != challenge
                    or asked["redirect_uri"] != form.get("redirect_uri")
                    or asked["client_id"] != form.get("client_id")
                ):
                    self._json(400, {"error": "invalid_grant"})
                    return
                self._json(200, {"access_token": idp.token, "token_type": "Bearer", "expires_in": 3600})

            def log_message(self, format: str, *args: object) -> None:
                return

        return Handler


def test_oidc_sign_in_with_pkce_against_a_configured_issuer(watched: Watched, server: LocalService) -> None:
    admin = {"Authorization": f"Bearer {server.seed_demo()}"}
    base = f"{server.url}/v1/orgs/{DEMO_ORG}/projects/{DEMO_PROJECT}"
    added = requests.post(f"{base}/members", json={"user": "oidc-user", "role": "run"}, headers=admin, timeout=30)
    assert added.status_code in (200, 201, 409), added.text
    idp = _FakeIdentityProvider(server.issuer.token("oidc-user", DEMO_ORG), server.url)
    watched.allowed_ports.add(int(idp.url.rsplit(":", 1)[1]))
    server.oidc = {"issuer": idp.url, "client_id": "hetero2-web"}
    try:
        assert idp.url in requests.get(server.url + "/", timeout=30).headers["Content-Security-Policy"]
        page = watched.page
        page.goto(server.url + "/")
        page.click("#oidc-sign-in")
        page.wait_for_selector("h1:has-text('Jobs')")
        assert page.inner_text("#user") == f"oidc-user · {DEMO_ORG}"
        assert "code=" not in page.url  # the code is not left in the address bar or history
    finally:
        server.oidc = None
        idp.httpd.shutdown()
    [asked] = idp.authorize_requests
    assert asked["response_type"] == "code"
    assert asked["code_challenge_method"] == "S256"
    assert asked["client_id"] == "hetero2-web"
    assert asked["redirect_uri"] == server.url + "/"
    [swapped] = idp.token_requests
    assert swapped["grant_type"] == "authorization_code"
    assert "client_secret" not in swapped
    assert len(swapped["code_verifier"]) >= 43
    watched.assert_clean()
