"""The local server answers concurrent requests as Lambda would: each on its own, never mixed up.

Powertools' resolver keeps the request it is handling on the one ``app`` object; Lambda runs one request per
container at a time, the local server's threads must not run two through it at once (the dashboard's parallel
GETs got 422s that belonged to the other request).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.api.conftest import Tenant


def test_parallel_requests_on_different_routes_each_get_their_own_answer(tenant: Tenant) -> None:
    project = tenant.project("parallel")
    paths = [
        f"/v1/orgs/{tenant.org}",
        f"/v1/orgs/{tenant.org}/projects",
        f"/v1/orgs/{tenant.org}/projects/{project}/jobs?limit=5",
    ]
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda i: (paths[i % 3], tenant.admin.get(paths[i % 3])), range(300)))
    refused = [(path, response.status_code, response.text[:200]) for path, response in answers if not response.ok]
    assert refused == []
    for path, response in answers:
        body = response.json()
        if path.endswith("?limit=5"):
            assert body["jobs"] == []
        elif path.endswith("/projects"):
            assert [p["project"] for p in body["projects"]] == [project]
