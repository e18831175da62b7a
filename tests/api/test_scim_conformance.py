"""The maintained SCIM conformance suite, scim2-tester, against ``hetero2 serve`` over real HTTP: no check may fail.

The server is started as a user starts it (a separate process); its banner's ``HETERO2_SCIM_URL`` and
``HETERO2_SCIM_TOKEN`` are all the suite is given. The same run by hand (docs/security.md)::

    hetero2 serve   # prints export HETERO2_SCIM_URL=... and export HETERO2_SCIM_TOKEN=...
    python -c 'import os, httpx2, scim2_tester as t; from scim2_client.engines.httpx2 import SyncSCIMClient; \
      c = httpx2.Client(base_url=os.environ["HETERO2_SCIM_URL"], \
                        headers={"Authorization": "Bearer " + os.environ["HETERO2_SCIM_TOKEN"]}); \
      [print(r.status.name, r.title, r.reason) for r in t.check_server(SyncSCIMClient(c))]'
"""

from __future__ import annotations

import signal
import subprocess
import threading
from typing import TYPE_CHECKING

import httpx2
import pytest
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from functions.local.server import free_port
from tests.api.serve_process import exports, read_banner, start_serve

if TYPE_CHECKING:
    from collections.abc import Iterator

# Checks the suite may report as SKIPPED, each with why it does not apply here; anything else skipped fails the test.
# Today none: root /.search, the one optional feature the suite probes that a server may leave out, is served.
EXPECTED_SKIPS: dict[tuple[str, str], str] = {}


@pytest.fixture(scope="module")
def serve() -> Iterator[dict[str, str]]:
    """``hetero2 serve`` in its own process; yields the ``export`` lines of its banner."""
    process = start_serve(free_port(), stderr=subprocess.DEVNULL)
    try:
        exported = exports(read_banner(process, "Ctrl-C"))
        assert "HETERO2_SCIM_TOKEN" in exported, f"no SCIM token in the banner: {exported}"
        # the server logs a metrics line per request on stdout: keep reading, or a full pipe would stall it
        threading.Thread(target=lambda: process.stdout and process.stdout.read(), daemon=True).start()
        yield exported
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def test_the_banner_prints_the_scim_url_and_token_next_to_the_api_token(serve: dict[str, str]) -> None:
    assert serve["HETERO2_SCIM_URL"] == serve["HETERO2_URL"] + "/scim/v2"
    assert serve["HETERO2_SCIM_TOKEN"].startswith("h2scim_demo_")
    assert serve["HETERO2_TOKEN"].count(".") == 2  # the API's JWT is still there


def test_scim2_tester_reports_no_failure_against_hetero2_serve(serve: dict[str, str]) -> None:
    http = httpx2.Client(
        base_url=serve["HETERO2_SCIM_URL"],
        headers={"Authorization": f"Bearer {serve['HETERO2_SCIM_TOKEN']}"},
        timeout=60,
    )
    with http:
        results = check_server(SyncSCIMClient(http))
    failures = [f"{r.title} [{r.resource_type}]: {r.reason}" for r in results if r.status == Status.ERROR]
    assert failures == []
    skipped = {(r.title, str(r.resource_type)) for r in results if r.status == Status.SKIPPED}
    assert skipped == set(EXPECTED_SKIPS), {r.title: r.reason for r in results if r.status == Status.SKIPPED}
    passed = [r for r in results if r.status == Status.SUCCESS]
    assert len(passed) >= 100  # discovery, CRUD, attribute selection and PATCH add/remove/replace per attribute
    checked = {r.title for r in passed}
    for title in ("object_creation", "object_replacement", "object_deletion", "check_add_attribute"):
        assert title in checked
