"""The job queue over real HTTP: a start beyond the org's concurrent-job limit answers 202 QUEUED with a position
(never 429), the position moves up when a job ahead is cancelled, the cancelled job never runs, and the rest run to
the end one after another. ``hetero2 remote status`` shows the position."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from functions.api.deps import services
from functions.service import clock, table
from functions.service.tenancy import JobRef
from hetero2_client.cli import EXIT_OK, main
from tests.api.test_user_path import FAST, upload, wait_for
from tests.client.conftest import printed, token_of
from tests.service.molecules import distinct_molecules, input_csv

if TYPE_CHECKING:
    import pytest

    from tests.api.conftest import Tenant


def _created(tenant: Tenant, project: str, rows: int) -> str:
    data = input_csv(distinct_molecules(rows))
    created = tenant.admin.post(
        f"/v1/orgs/{tenant.org}/projects/{project}/jobs",
        {"input_name": "molecules.csv", "expected_rows": rows, "parameters": FAST},
    )
    assert created.status_code == 201, created.text
    upload(created.json()["uploads"]["input"], data)
    return f"/v1/orgs/{tenant.org}/projects/{project}/jobs/{created.json()['job']['job']}"


def test_starts_beyond_the_limit_are_queued_with_positions_and_a_cancel_frees_a_place(
    tenant: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    services().context.quotas.set_plan(tenant.org, "trial")  # one running job at a time
    project = tenant.project("p1")
    first, second, third = (_created(tenant, project, 30) for _ in range(3))

    answers: list[dict[str, Any]] = []
    for path in (first, second, third):
        started = tenant.admin.post(path + "/start")
        assert started.status_code == 202, started.text
        answers.append(started.json())
    # The first start takes the org's one slot: QUEUED, or already RUNNING when the local execution's Plan step won
    # the race with the answer (the answer is read after the dispatch); either way it waits in no queue.
    assert answers[0]["state"] in ("QUEUED", "RUNNING")
    assert [a["state"] for a in answers[1:]] == ["QUEUED"] * 2
    assert [a["queue_position"] for a in answers] == [None, 1, 2]
    assert tenant.admin.get(third).json()["queue_position"] == 2
    listed = tenant.admin.get(f"/v1/orgs/{tenant.org}/projects/{project}/jobs").json()["jobs"]
    assert sorted(j["queue_position"] or 0 for j in listed) == [0, 1, 2]

    job_id = third.rsplit("/", 1)[1]
    status = ["remote", "status", f"{project}/{job_id}", "--url", tenant.service.url, "--token", token_of(tenant)]
    assert main(status) == EXIT_OK
    assert "QUEUED" in (line := printed(capsys.readouterr().out))
    assert "position 2 in the org's queue" in line

    cancelled = tenant.admin.post(second + "/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["state"], cancelled.json()["queue_position"]) == ("CANCELLED", None)
    assert tenant.admin.get(third).json()["queue_position"] == 1

    assert wait_for(tenant.admin, first)["state"] == "SUCCEEDED"
    done = wait_for(tenant.admin, third)
    assert (done["state"], done["queue_position"]) == ("SUCCEEDED", None)
    never_ran = tenant.admin.get(second).json()
    assert (never_ran["state"], never_ran["progress"]["rows_done"]) == ("CANCELLED", 0)
    # finalize writes SUCCEEDED, then settles (gives the slot back, dispatches): allow that moment to pass
    deadline = time.monotonic() + 60
    while (running := services().context.quotas.status(tenant.org, clock.this_month()).running_jobs) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.1)
    assert running == 0


def test_a_start_over_the_monthly_quota_is_still_refused_not_queued(tenant: Tenant) -> None:
    """Five jobs reserving 2,000 molecules each fill a trial month (10,000): the sixth start is 429, not QUEUED. The
    org's one running slot is held meanwhile (as by a long job), so none of the five can run and refund rows."""
    ctx = services().context
    ctx.quotas.set_plan(tenant.org, "trial")
    slot = ctx.dynamodb.Table(ctx.settings.table)
    slot.put_item(Item={**table.running_key(tenant.org), "running": 1})
    project = tenant.project("p1")
    paths = [_created(tenant, project, 2) for _ in range(6)]
    for path in paths[:5]:
        ctx.jobs.update(_ref(path), expected_rows=2_000)
    positions = [tenant.admin.post(path + "/start").json()["queue_position"] for path in paths[:5]]
    assert positions == [1, 2, 3, 4, 5]
    ctx.jobs.update(_ref(paths[5]), expected_rows=1)
    refused = tenant.admin.post(paths[5] + "/start")
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["details"][0]["quota"] == "molecules_per_month"
    assert tenant.admin.get(paths[5]).json()["state"] == "CREATED"

    for path in paths[:5]:
        assert tenant.admin.post(path + "/cancel").json()["state"] == "CANCELLED"
    assert ctx.quotas.status(tenant.org, clock.this_month()).molecules_used == 0
    assert ctx.quotas.status(tenant.org, clock.this_month()).running_jobs == 1, "waiting jobs never held a slot"
    slot.put_item(Item={**table.running_key(tenant.org), "running": 0})


def _ref(path: str) -> JobRef:
    _, _, _, org, _, project, _, job = path.split("/")
    return JobRef(org, project, job)
