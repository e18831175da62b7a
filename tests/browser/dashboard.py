"""What the dashboard's browser tests share: the watched page (console, errors, requests, hosts), sign-in,
submitting through the New audit form, waiting for a state, and screenshots."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from playwright.sync_api import Page, Request

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
DOCS = ROOT / "docs"
DRUGS = ROOT / "hetero_core" / "examples" / "approved_drugs.csv"
SMALL_CSV = (
    "id,smiles\naspirin,CC(=O)Oc1ccccc1C(=O)O\nparacetamol,CC(=O)Nc1ccc(O)cc1\nibuprofen,CC(C)Cc1ccc(cc1)C(C)C(=O)O\n"
)
FINISH_MS = 180_000


@dataclass
class Watched:
    """A page and everything it logged or fetched."""

    page: Page
    allowed_ports: set[int]
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.refused == []
        assert [m for m in self.console if m.startswith(("error", "warning"))] == []
        assert self.errors == []
        assert self.failed == [], "\n".join(self.failed)
        elsewhere = [u for u in self.urls if not local_url(u, self.allowed_ports)]
        assert elsewhere == []


def local_url(url: str, ports: set[int]) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob") or (parts.hostname == "127.0.0.1" and parts.port in ports)


def became_download(request: Request) -> bool:
    """A navigation answered with ``Content-Disposition: attachment`` is a download; Chromium reports it aborted."""
    return request.resource_type == "document" and "response-content-disposition=attachment" in request.url


def shot(page: Page, name: str, docs_name: str | None = None) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
    assert (ARTIFACTS / name).read_bytes().startswith(b"\x89PNG")
    if docs_name and os.environ.get("HETERO2_DOCS_SCREENSHOTS") == "1":
        page.screenshot(path=str(DOCS / docs_name))


def demo_sign_in(w: Watched, url: str) -> None:
    w.page.goto(url + "/")
    w.page.click("#demo-sign-in")
    w.page.wait_for_selector("h1:has-text('Jobs')")


def submit(page: Page, tmp_path: Path, name: str, text: str, checks: tuple[str, ...] = (), **fields: str) -> str:
    page.click("#new-audit")
    path = tmp_path / name
    path.write_text(text)
    page.set_input_files("#input-file", str(path))
    page.wait_for_selector("#rows-note:not(:empty)")
    page.click("#advanced summary")  # the advanced parameters are collapsed until asked for
    page.select_option("#decoy_descriptors", "fast")
    for selector, value in fields.items():
        if selector == "scores":
            page.set_input_files("#scores-file", value)
        else:
            page.fill(f"#{selector}", value)
    for box in checks:
        page.check(f"#{box}")
    page.click("#submit")
    page.wait_for_selector("#job-state, p.error:not(:empty)", timeout=60_000)
    assert page.locator("p.error:not(:empty)").count() == 0, page.locator("p.error:not(:empty)").all_inner_texts()
    return page.url.rsplit("/", 1)[-1]


def wait_state(page: Page, *states: str) -> str:
    selector = ", ".join(f"#job-state .state-{s}" for s in states)
    page.wait_for_selector(selector, timeout=FINISH_MS)
    return page.inner_text("#job-state")


def cancelled_run(page: Page, tmp_path: Path) -> None:
    """Submit the bundled drugs at k = 50 (long enough to be caught running) and cancel the job from its page."""
    submit(page, tmp_path, "drugs.csv", DRUGS.read_text(), k_decoys="50")
    page.click("#cancel")
    assert wait_state(page, "CANCELLED") == "CANCELLED"


def retry(page: Page) -> None:
    """Retry the job on the page; the API accepts it (202)."""
    with page.expect_response(lambda r: r.url.endswith("/retry")) as retried:
        page.click("#retry")
    assert retried.value.status == 202
