"""Issue 15's API additions over real HTTP: a job shared with a member who has no role in its project, who
created each job, the retry of a cancelled job, and the Jobs list's filters and totals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.api.test_user_path import FAST, run_job, upload, wait_for
from tests.service.molecules import distinct_molecules, input_csv

if TYPE_CHECKING:
    from tests.api.conftest import Client, Tenant


def _created_job(tenant: Tenant, client: Client, project: str = "p1", **parameters: str) -> str:
    response = client.post(
        f"/v1/orgs/{tenant.org}/projects/{project}/jobs",
        {"input_name": "m.csv", "expected_rows": 3, "parameters": {**FAST, **parameters}},
    )
    assert response.status_code == 201, response.text
    job: str = response.json()["job"]["job"]
    return job


def test_a_shared_job_is_seen_by_its_recipient_and_nothing_else_of_the_project(tenant: Tenant) -> None:
    project = tenant.project("shared")
    path, job = run_job(tenant, project, input_csv(distinct_molecules(6)))
    other_job = _created_job(tenant, tenant.admin, project)
    reviewer = tenant.user("reviewer")  # an org member with no role in the project
    assert reviewer.get(path).status_code == 404
    assert reviewer.get(f"/v1/orgs/{tenant.org}/shared-jobs").json() == {"jobs": []}

    shared = tenant.admin.post(path + "/shares", {"user": "reviewer"})
    assert shared.status_code == 201, shared.text
    assert shared.json()["user"] == "reviewer"
    assert shared.json()["granted_by"] == f"{tenant.org}-admin"

    assert reviewer.get(path).json()["state"] == job["state"] == "SUCCEEDED"
    assert reviewer.get(path + "/results").status_code == 200
    assert reviewer.get(path + "/download?artifact=pack").status_code == 200
    listed = reviewer.get(f"/v1/orgs/{tenant.org}/shared-jobs").json()["jobs"]
    assert [(s["job"]["job"], s["granted_by"]) for s in listed] == [(job["job"], f"{tenant.org}-admin")]
    assert tenant.admin.get(path).json()["shared_with"] == ["reviewer"]
    assert tenant.admin.get(path + "/shares").json()["shares"][0]["user"] == "reviewer"
    # a share shows one job: not the project, its other jobs, nor what a project role would allow on this job
    projects = f"/v1/orgs/{tenant.org}/projects/{project}"
    assert reviewer.get(projects).status_code == 404
    assert reviewer.get(projects + "/jobs").status_code == 404
    assert reviewer.get(f"{projects}/jobs/{other_job}").status_code == 404
    assert reviewer.post(path + "/retry").status_code == 404
    assert reviewer.post(path + "/shares", {"user": "someone-else"}).status_code == 404
    assert reviewer.post(path + "/share", {"recipient": "x@example.org"}).status_code == 404
    assert reviewer.call("DELETE", path).status_code == 404

    assert tenant.admin.call("DELETE", path + "/shares/reviewer").status_code == 200
    assert reviewer.get(path).status_code == 404
    assert tenant.admin.call("DELETE", path + "/shares/reviewer").status_code == 404
    events = tenant.admin.get(f"/v1/orgs/{tenant.org}/audit?limit=200").json()["events"]
    shares = [(e["action"], e["details"].get("recipient")) for e in events if e["action"].startswith("job.")]
    assert ("job.share", "reviewer") in shares
    assert ("job.unshare", "reviewer") in shares


def test_deleting_a_shared_job_deletes_its_shares(tenant: Tenant) -> None:
    project = tenant.project("gone")
    job = _created_job(tenant, tenant.admin, project)
    path = f"/v1/orgs/{tenant.org}/projects/{project}/jobs/{job}"
    assert tenant.admin.post(path + "/shares", {"user": "reader"}).status_code == 201
    assert tenant.admin.post(path + "/cancel").status_code == 200
    assert tenant.admin.call("DELETE", path).status_code == 200
    assert tenant.user("reader").get(f"/v1/orgs/{tenant.org}/shared-jobs").json() == {"jobs": []}


def test_sharing_refuses_yourself_a_bad_user_id_and_a_missing_job(tenant: Tenant) -> None:
    project = tenant.project("refusals")
    job = _created_job(tenant, tenant.admin, project)
    jobs = f"/v1/orgs/{tenant.org}/projects/{project}/jobs"
    assert tenant.admin.post(f"{jobs}/{job}/shares", {"user": f"{tenant.org}-admin"}).json()["error"]["code"] == (
        "share_with_yourself"
    )
    assert tenant.admin.post(f"{jobs}/{job}/shares", {"user": "a#b"}).status_code == 422
    assert tenant.admin.post(f"{jobs}/{job}/shares", {"user": "x", "extra": 1}).status_code == 422
    assert tenant.admin.post(f"{jobs}/jnosuchjob/shares", {"user": "x"}).status_code == 404


def test_the_job_record_names_who_created_it_with_the_name_claim_when_there_is_one(tenant: Tenant) -> None:
    project = tenant.project("authors")
    named = tenant.admin.__class__(tenant.service.url, tenant.service.issuer.token("ada", tenant.org, name="Ada L."))
    assert tenant.admin.post(f"/v1/orgs/{tenant.org}/projects/{project}/members", {"user": "ada", "role": "run"})
    job = _created_job(tenant, named, project)
    record = tenant.admin.get(f"/v1/orgs/{tenant.org}/projects/{project}/jobs/{job}").json()
    assert (record["created_by"], record["created_by_name"]) == ("ada", "Ada L.")
    unnamed = tenant.admin.get(
        f"/v1/orgs/{tenant.org}/projects/{project}/jobs/{_created_job(tenant, tenant.admin, project)}"
    )
    assert (unnamed.json()["created_by"], unnamed.json()["created_by_name"]) == (f"{tenant.org}-admin", None)


def test_a_cancelled_job_can_be_retried_and_then_runs_to_the_end(tenant: Tenant) -> None:
    project = tenant.project("again")
    data = input_csv(distinct_molecules(6))
    created = tenant.admin.post(
        f"/v1/orgs/{tenant.org}/projects/{project}/jobs",
        {"input_name": "molecules.csv", "expected_rows": 6, "parameters": FAST},
    ).json()
    upload(created["uploads"]["input"], data)
    path = f"/v1/orgs/{tenant.org}/projects/{project}/jobs/{created['job']['job']}"
    assert tenant.admin.post(path + "/cancel").json()["state"] == "CANCELLED"
    retried = tenant.admin.post(path + "/retry")
    assert retried.status_code == 202, retried.text
    assert wait_for(tenant.admin, path)["state"] == "SUCCEEDED"
    assert tenant.admin.post(path + "/retry").json()["error"]["code"] == "invalid_state"  # a success is final


def test_the_jobs_list_filters_by_model_decision_creator_and_day_and_counts_every_page(tenant: Tenant) -> None:
    project = tenant.project("filters")
    runner = tenant.member(project, "runner", "run")
    first = _created_job(tenant, tenant.admin, project, model_name="m", model_version="1")
    second = _created_job(tenant, runner, project, model_name="m", model_version="2")
    third = _created_job(tenant, runner, project, model_name="n", model_version="2")
    jobs = f"/v1/orgs/{tenant.org}/projects/{project}/jobs"

    def listed(query: str) -> list[str]:
        response = tenant.admin.get(f"{jobs}?{query}")
        assert response.status_code == 200, response.text
        return [j["job"] for j in response.json()["jobs"]]

    assert listed("model_name=m") == [second, first]
    assert listed("model_name=m&model_version=2") == [second]
    assert listed("created_by=runner") == [third, second]
    today = tenant.admin.get(f"{jobs}/{first}").json()["created_at"][:10]
    assert listed(f"created_from={today}&created_to={today}") == [third, second, first]
    assert listed("created_to=2000-01-01") == []
    assert listed("decision=GO") == []
    page = tenant.admin.get(f"{jobs}?limit=2").json()
    assert (len(page["jobs"]), page["total"], page["next_token"]) == (2, 3, second)
    assert tenant.admin.get(f"{jobs}?limit=2&next_token={second}").json()["jobs"][0]["job"] == first
    assert tenant.admin.get(f"{jobs}?created_from=yesterday").status_code == 422
    assert tenant.admin.get(f"{jobs}?decision=MAYBE").status_code == 422
