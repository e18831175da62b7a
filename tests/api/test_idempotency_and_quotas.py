"""Retried and concurrent requests: one job per Idempotency-Key, and quotas that races cannot exceed."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import requests

from functions.api.deps import services
from functions.service import clock, submission
from functions.service.tenancy import JobRef

if TYPE_CHECKING:
    import pytest

    from tests.api.conftest import Tenant

BODY = {"input_name": "m.csv", "expected_rows": 2}


def _concurrently(count: int, call: Any) -> list[requests.Response]:
    results: list[requests.Response] = []
    barrier = threading.Barrier(count)

    def run() -> None:
        barrier.wait()
        results.append(call())

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_duplicates_with_one_key_create_one_job(tenant: Tenant) -> None:
    tenant.project("p1")
    path = f"/v1/orgs/{tenant.org}/projects/p1/jobs"
    responses = _concurrently(8, lambda: tenant.admin.post(path, BODY, **{"Idempotency-Key": "create-once"}))
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}
    created = {r.json()["job"]["job"] for r in responses if r.status_code == 201}
    assert len(created) == 1
    in_progress = [r.json()["error"]["code"] for r in responses if r.status_code == 409]
    assert set(in_progress) <= {"request_in_progress"}
    jobs = tenant.admin.get(path).json()["jobs"]
    assert [j["job"] for j in jobs] == list(created)
    # a later retry returns the first response, byte for byte the same job
    again = tenant.admin.post(path, BODY, **{"Idempotency-Key": "create-once"})
    assert again.status_code == 201
    assert again.json()["job"]["job"] == next(iter(created))


def test_same_key_with_another_body_is_409_and_keys_are_per_user(tenant: Tenant) -> None:
    tenant.project("p1")
    path = f"/v1/orgs/{tenant.org}/projects/p1/jobs"
    first = tenant.admin.post(path, BODY, **{"Idempotency-Key": "k1"})
    assert first.status_code == 201
    other_body = tenant.admin.post(path, {**BODY, "expected_rows": 3}, **{"Idempotency-Key": "k1"})
    assert other_body.status_code == 409
    assert other_body.json()["error"]["code"] == "idempotency_key_reused"
    colleague = tenant.member("p1", "colleague", "run")
    theirs = colleague.post(path, BODY, **{"Idempotency-Key": "k1"})  # same key, another user: another job
    assert theirs.status_code == 201
    assert theirs.json()["job"]["job"] != first.json()["job"]["job"]


def _no_dispatch(ctx: Any) -> list[JobRef]:
    """Queue without dispatching: the job waits, holding its reservation, until the test ends it."""
    return []


def test_concurrent_starts_cannot_exceed_the_monthly_molecule_quota(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """standard plan: 1,000,000 molecules a month. Eight jobs declaring 240,000 rows each, started at once:
    exactly four fit (960,000), the others are 429 with what was exceeded: the monthly quota is refused up front,
    never queued. The jobs wait in the queue (nothing dispatches them), so none can finish and refund its unused
    rows while the race is on."""
    monkeypatch.setattr(submission, "dispatch_quietly", _no_dispatch)
    tenant.project("p1")
    base = f"/v1/orgs/{tenant.org}/projects/p1/jobs"
    jobs = []
    for _ in range(8):
        created = tenant.admin.post(base, {"input_name": "m.csv", "expected_rows": 240_000}).json()
        upload = created["uploads"]["input"]
        assert requests.put(upload["url"], data=b"id,smiles\na,CCO\n", headers=upload["headers"], timeout=30).ok
        jobs.append(created["job"]["job"])
    starts = iter(jobs)
    lock = threading.Lock()

    def start() -> requests.Response:
        with lock:
            job = next(starts)
        return tenant.admin.post(f"{base}/{job}/start")

    responses = _concurrently(8, start)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [202] * 4 + [429] * 4
    refusal = next(r.json()["error"] for r in responses if r.status_code == 429)
    assert refusal["code"] == "quota_exceeded"
    assert refusal["details"][0]["quota"] == "molecules_per_month"
    assert refusal["details"][0]["limit"] == 1_000_000


def test_rows_per_job_is_refused_at_submit(tenant: Tenant) -> None:
    tenant.project("p1")
    response = tenant.admin.post(
        f"/v1/orgs/{tenant.org}/projects/p1/jobs", {"input_name": "m.csv", "expected_rows": 10_000_000}
    )
    assert response.status_code == 429
    assert response.json()["error"]["details"][0]["quota"] == "rows_per_job"


def test_a_start_at_the_last_second_of_a_month_is_charged_and_refunded_to_that_month(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clock reads 23:59:59 on 31 January and moves a second at every reading: the reservation must charge
    January and record January, so that the cancel's refund gives January back (not February)."""
    monkeypatch.setattr(submission, "dispatch_quietly", _no_dispatch)
    tenant.project("p1")
    base = f"/v1/orgs/{tenant.org}/projects/p1/jobs"
    created = tenant.admin.post(base, {"input_name": "m.csv", "expected_rows": 500}).json()
    upload = created["uploads"]["input"]
    assert requests.put(upload["url"], data=b"id,smiles\na,CCO\n", headers=upload["headers"], timeout=30).ok
    job = created["job"]["job"]

    last_second = datetime(2027, 1, 31, 23, 59, 59, tzinfo=UTC)
    ticks = itertools.count()
    monkeypatch.setattr(clock, "now", lambda: last_second + timedelta(seconds=next(ticks)))
    assert tenant.admin.post(f"{base}/{job}/start").status_code == 202
    ctx = services().context  # the API's own context (another tier may have reset the process-wide one)
    assert ctx.jobs.get(JobRef(tenant.org, "p1", job)).get("quota_month") == "2027-01"
    assert ctx.quotas.status(tenant.org, "2027-01").molecules_used == 500

    assert tenant.admin.post(f"{base}/{job}/cancel").status_code == 200
    assert ctx.quotas.status(tenant.org, "2027-01").molecules_used == 0
    assert ctx.quotas.status(tenant.org, "2027-02").molecules_used == 0
