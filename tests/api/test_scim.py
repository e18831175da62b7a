"""SCIM 2.0 over real HTTP against the local server: the org's token, provisioning and deprovisioning, groups as
org roles, filters and pages, the protocol's error bodies, and the audit trail of every write.

The IdP is played by ``Scim`` (the org's SCIM token); the people it provisions sign in to the API with ordinary
JWTs from the server's issuer, whose ``sub`` is the SCIM ``userName``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
import requests

from functions.service import table as keys
from functions.service.context import service_context
from tests.api.conftest import Client, Tenant

if TYPE_CHECKING:
    from functions.local.server import LocalService

MEDIA = "application/scim+json"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
SEARCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


@dataclass
class Scim:
    """The org's identity provider: every call is a real HTTP request with the org's SCIM bearer token."""

    base: str
    token: str

    def call(self, method: str, path: str, body: Any = None, **params: str) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": MEDIA}
        return requests.request(method, self.base + path, json=body, headers=headers, params=params, timeout=60)

    def create_user(self, user_name: str, **attributes: Any) -> dict[str, Any]:
        response = self.call("POST", "/Users", {"schemas": [USER_SCHEMA], "userName": user_name, **attributes})
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def create_group(self, name: str, *members: str) -> dict[str, Any]:
        body = {"schemas": [GROUP_SCHEMA], "displayName": name, "members": [{"value": m} for m in members]}
        response = self.call("POST", "/Groups", body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def patch(self, path: str, *operations: dict[str, Any]) -> requests.Response:
        return self.call("PATCH", path, {"schemas": [PATCH_SCHEMA], "Operations": list(operations)})


def issue_token(tenant: Tenant) -> str:
    response = tenant.admin.post(f"/v1/orgs/{tenant.org}/scim-token")
    assert response.status_code == 201, response.text
    assert response.headers["Cache-Control"] == "no-store"
    token: str = response.json()["token"]
    return token


@pytest.fixture
def idp(tenant: Tenant, service: LocalService) -> Scim:
    return Scim(f"{service.url}/scim/v2", issue_token(tenant))


def _name() -> str:
    return f"user-{uuid.uuid4().hex[:10]}"


def test_a_deprovisioned_user_is_refused_on_the_next_request_with_the_same_token(tenant: Tenant, idp: Scim) -> None:
    name = _name()
    user = idp.create_user(name)
    person = tenant.user(name)  # a JWT valid for hours, issued before the deprovisioning
    assert person.get(f"/v1/orgs/{tenant.org}").status_code == 200
    assert idp.call("DELETE", f"/Users/{user['id']}").status_code == 204
    refused = person.get(f"/v1/orgs/{tenant.org}")
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "not_a_member"
    assert person.get("/v1/orgs").status_code == 403  # the route that checks no permission checks membership too


def test_active_false_refuses_and_active_true_restores_access(tenant: Tenant, idp: Scim) -> None:
    name = _name()
    user = idp.create_user(name)
    person = tenant.user(name)
    tenant.project("scim-p")
    assert tenant.admin.post(f"/v1/orgs/{tenant.org}/projects/scim-p/members", {"user": name, "role": "run"}).ok
    assert person.get(f"/v1/orgs/{tenant.org}/projects/scim-p").status_code == 200

    answer = idp.patch(f"/Users/{user['id']}", {"op": "replace", "value": {"active": False}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["active"] is False
    assert person.get(f"/v1/orgs/{tenant.org}/projects/scim-p").status_code == 403

    assert idp.patch(f"/Users/{user['id']}", {"op": "replace", "path": "active", "value": True}).status_code == 200
    assert person.get(f"/v1/orgs/{tenant.org}/projects/scim-p").status_code == 200


def test_once_the_idp_provisions_users_only_they_and_the_orgs_admins_are_members(tenant: Tenant, idp: Scim) -> None:
    bystander = tenant.user("never-provisioned")
    assert bystander.get(f"/v1/orgs/{tenant.org}").status_code == 200  # before SCIM: any user of the org's IdP
    idp.create_user(_name())
    assert bystander.get(f"/v1/orgs/{tenant.org}").status_code == 403
    assert tenant.admin.get(f"/v1/orgs/{tenant.org}").json()["your_role"] == "org_admin"


def test_the_org_admin_group_carries_the_org_role_both_ways(tenant: Tenant, idp: Scim) -> None:
    name = _name()
    user = idp.create_user(name)
    person = tenant.user(name)
    assert person.get(f"/v1/orgs/{tenant.org}/audit").status_code == 403
    group = idp.create_group("org_admin", user["id"])
    assert person.get(f"/v1/orgs/{tenant.org}").json()["your_role"] == "org_admin"
    assert person.get(f"/v1/orgs/{tenant.org}/audit").status_code == 200
    removed = idp.patch(f"/Groups/{group['id']}", {"op": "remove", "path": f'members[value eq "{user["id"]}"]'})
    assert removed.status_code == 200, removed.text
    assert person.get(f"/v1/orgs/{tenant.org}/audit").status_code == 403
    other = idp.create_group("chemists", user["id"])  # any other group name grants nothing beyond membership
    assert other["members"][0]["value"] == user["id"]
    assert person.get(f"/v1/orgs/{tenant.org}").json()["your_role"] == "member"


def test_groups_name_only_users_of_the_org(idp: Scim, other_tenant: Tenant, service: LocalService) -> None:
    foreign = Scim(idp.base, issue_token(other_tenant)).create_user(_name())
    answer = idp.call(
        "POST", "/Groups", {"schemas": [GROUP_SCHEMA], "displayName": "x", "members": [{"value": foreign["id"]}]}
    )
    assert answer.status_code == 400
    assert answer.json()["scimType"] == "invalidValue"
    assert idp.call("GET", f"/Users/{foreign['id']}").status_code == 404  # another org's user does not exist here


def test_filters_on_username_displayname_and_externalid(idp: Scim) -> None:
    name = _name()
    user = idp.create_user(name, externalId=f"ext-{name}")
    idp.create_user(_name())
    group = idp.create_group(f"team-{name}", user["id"])

    for params in ({"filter": f'userName eq "{name}"'}, {"filter": f'userName eq "{name.upper()}"'}):
        found = idp.call("GET", "/Users", **params).json()
        assert (found["totalResults"], found["Resources"][0]["id"]) == (1, user["id"]), params
    by_external = idp.call("GET", "/Users", filter=f'externalId eq "ext-{name}"').json()
    assert [r["id"] for r in by_external["Resources"]] == [user["id"]]
    by_group_name = idp.call("GET", "/Groups", filter=f'displayName eq "team-{name}"').json()
    assert [r["id"] for r in by_group_name["Resources"]] == [group["id"]]
    none = idp.call("GET", "/Users", filter='userName eq "nobody-at-all"').json()
    assert (none["totalResults"], none.get("Resources", [])) == (0, [])


def test_search_by_post_on_one_type_and_across_both(idp: Scim) -> None:
    name = _name()
    user = idp.create_user(name, displayName=f"Dr {name}")
    group = idp.create_group(f"Dr {name}")
    search = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": f'displayName sw "Dr {name}"',
    }
    users = idp.call("POST", "/Users/.search", search).json()
    assert [r["id"] for r in users["Resources"]] == [user["id"]]
    both = idp.call("POST", "/.search", {**search, "attributes": ["displayName"]}).json()
    assert sorted(r["id"] for r in both["Resources"]) == sorted([user["id"], group["id"]])
    assert all(set(r) == {"schemas", "id", "displayName"} for r in both["Resources"])
    assert {r["schemas"][0] for r in both["Resources"]} == {USER_SCHEMA, GROUP_SCHEMA}


def test_pages_follow_start_index_and_count(idp: Scim) -> None:
    for _ in range(5):
        idp.create_user(_name())
    everyone = idp.call("GET", "/Users").json()
    total = everyone["totalResults"]
    assert total >= 5
    ids = [r["id"] for r in everyone["Resources"]]
    pages = [idp.call("GET", "/Users", startIndex=str(start), count="2").json() for start in range(1, total + 1, 2)]
    assert all(p["totalResults"] == total and p["itemsPerPage"] == len(p["Resources"]) <= 2 for p in pages)
    assert [r["id"] for p in pages for r in p["Resources"]] == ids
    only_names = idp.call("GET", "/Users", attributes="userName", count="1").json()["Resources"][0]
    assert set(only_names) == {"schemas", "id", "userName"}


def test_put_replaces_and_a_new_username_moves_the_access(tenant: Tenant, idp: Scim) -> None:
    old, new = _name(), _name()
    user = idp.create_user(old, displayName="Old")
    replaced = idp.call("PUT", f"/Users/{user['id']}", {"schemas": [USER_SCHEMA], "userName": new, "active": True})
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["userName"], "displayName" in replaced.json()) == (new, False)
    assert tenant.user(old).get(f"/v1/orgs/{tenant.org}").status_code == 403
    assert tenant.user(new).get(f"/v1/orgs/{tenant.org}").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "scim_type"),
    [
        ("GET", "/Users/0123456789abcdef0123456789abcdef", None, 404, None),
        ("GET", "/Nothing", None, 404, None),
        ("DELETE", "/ServiceProviderConfig", None, 405, None),
        ("POST", "/Users", {"schemas": [USER_SCHEMA]}, 400, "invalidValue"),
        ("POST", "/Users", {"schemas": [USER_SCHEMA], "userName": "a/b"}, 400, "invalidValue"),
        (
            "PATCH",
            "/Users/0123456789abcdef0123456789abcdef",
            {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "active", "value": False}]},
            404,
            None,
        ),
        (
            "PATCH",
            "/Users/0123456789abcdef0123456789abcdef",
            {"schemas": [PATCH_SCHEMA], "Operations": []},
            400,
            "invalidValue",
        ),
        ("GET", "/.search", None, 405, None),
    ],
)
def test_errors_are_scim_error_bodies_with_the_right_status(
    idp: Scim, method: str, path: str, body: Any, status: int, scim_type: str | None
) -> None:
    answer = idp.call(method, path, body)
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"] == MEDIA
    error = answer.json()
    assert error["schemas"] == [ERROR_SCHEMA]
    assert error["status"] == str(status)
    assert error.get("scimType") == scim_type


def test_bad_filters_duplicates_and_bodies_are_4xx(idp: Scim) -> None:
    bad = idp.call("GET", "/Users", filter="userName eq")
    assert (bad.status_code, bad.json()["scimType"]) == (400, "invalidFilter")
    name = _name()
    idp.create_user(name)
    again = idp.call("POST", "/Users", {"schemas": [USER_SCHEMA], "userName": name})
    assert (again.status_code, again.json()["scimType"]) == (409, "uniqueness")
    plain = requests.post(
        idp.base + "/Users",
        data="userName=x",
        headers={"Authorization": f"Bearer {idp.token}", "Content-Type": "text/plain"},
        timeout=30,
    )
    assert plain.status_code == 415
    assert plain.json()["schemas"] == [ERROR_SCHEMA]
    deep = requests.post(
        idp.base + "/Users",
        data="[" * 10_000 + "]" * 10_000,
        headers={"Authorization": f"Bearer {idp.token}", "Content-Type": MEDIA},
        timeout=30,
    )
    assert (deep.status_code, deep.json()["scimType"]) == (400, "invalidSyntax")


def test_scim_token_and_api_token_are_not_interchangeable(tenant: Tenant, idp: Scim) -> None:
    assert Client(idp.base, tenant.admin.token).get("/Users").status_code == 401
    api_with_scim = Client(tenant.service.url, idp.token).get(f"/v1/orgs/{tenant.org}")
    assert api_with_scim.status_code == 401
    missing = requests.get(idp.base + "/Users", timeout=30)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert missing.json()["schemas"] == [ERROR_SCHEMA]


def test_a_new_token_revokes_the_old_one_and_only_its_hash_is_stored(tenant: Tenant, idp: Scim) -> None:
    assert idp.call("GET", "/Users").status_code == 200
    fresh = issue_token(tenant)
    assert idp.call("GET", "/Users").status_code == 401
    assert Scim(idp.base, fresh).call("GET", "/Users").status_code == 200
    context = service_context()
    stored = context.dynamodb.Table(context.settings.table).get_item(Key=keys.scim_token_key(tenant.org))["Item"]
    assert fresh not in {str(value) for value in stored.values()}
    assert fresh.split("_")[-1] not in str(stored)


def test_only_an_org_admin_issues_the_token(tenant: Tenant, other_tenant: Tenant) -> None:
    member = tenant.user("plain-member")
    assert member.post(f"/v1/orgs/{tenant.org}/scim-token").status_code == 403
    assert other_tenant.admin.post(f"/v1/orgs/{tenant.org}/scim-token").status_code == 404


def test_every_scim_write_is_audited_with_its_operation(tenant: Tenant, idp: Scim) -> None:
    name = _name()
    user = idp.create_user(name)
    idp.patch(f"/Users/{user['id']}", {"op": "replace", "path": "active", "value": False})
    idp.call("POST", "/Users", {"schemas": [USER_SCHEMA], "userName": name})  # 409: audited as failed
    idp.call("DELETE", f"/Users/{user['id']}")
    forged = f"h2scim_{tenant.org}_{'A' * 43}"  # the shape of the org's token, not its secret
    assert (
        requests.get(idp.base + "/Users", headers={"Authorization": f"Bearer {forged}"}, timeout=30).status_code == 401
    )
    events = tenant.admin.get(f"/v1/orgs/{tenant.org}/audit", limit="500").json()["events"]
    scim = [(e["action"], e["outcome"], e["details"].get("operation")) for e in events if e["actor"] == "scim"]
    assert scim[-4:] == [
        ("scim.user.create", "success", "POST /scim/v2/Users"),
        ("scim.user.patch", "success", "PATCH /scim/v2/Users"),
        ("scim.user.create", "failed", "POST /scim/v2/Users"),
        ("scim.user.delete", "success", "DELETE /scim/v2/Users"),
    ]
    patch = next(e for e in events if e["action"] == "scim.user.patch")
    assert patch["target"] == f"Users/{user['id']}"
    assert patch["details"]["operations"] == [{"op": "replace", "path": "active"}]
    assert patch["details"]["active"] is False
    assert any(e["action"] == "scim.token.issue" and e["actor"] == f"{tenant.org}-admin" for e in events)
    refused = [e for e in events if e["action"] == "auth.refused" and e["target"] == "/scim/v2/Users"]
    assert refused
    assert refused[-1]["details"]["status"] == 401


def test_the_per_request_membership_check_adds_no_dynamodb_call(tenant: Tenant, service: LocalService) -> None:
    """The check reads the user's org record, the same single GetItem that resolved the org role before SCIM."""
    context = service_context()
    calls: list[str] = []
    client = context.dynamodb.meta.client
    client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    try:
        assert tenant.admin.get(f"/v1/orgs/{tenant.org}").status_code == 200
    finally:
        client.meta.events.unregister("before-call.dynamodb.*")
    assert calls.count("GetItem") == 3  # the org record (authorize), the user's org record, the org record (answer)
    assert set(calls) == {"GetItem"}


def test_malformed_patches_are_400_scim_errors_never_500(idp: Scim) -> None:
    user = idp.create_user(_name())
    operations: list[Any] = [
        "x",
        [{"op": "bogus"}],
        [{"op": "add", "path": "nope", "value": 1}],
        [{"op": "remove", "path": "userName"}],
        [{"op": "replace", "path": "id", "value": "mine"}],
        [{"op": "replace", "path": "userName", "value": "a#b"}],
        [{"op": "replace", "path": 'emails[type eq "work"].value', "value": "a@b.c"}],
        [{"op": "replace", "value": "not an object"}],
    ]
    for ops in operations:
        answer = idp.call("PATCH", f"/Users/{user['id']}", {"schemas": [PATCH_SCHEMA], "Operations": ops})
        assert answer.status_code == 400, (ops, answer.text)
        assert answer.json()["schemas"] == [ERROR_SCHEMA]
    assert idp.call("GET", f"/Users/{user['id']}").json()["userName"] == user["userName"]  # nothing half-applied
