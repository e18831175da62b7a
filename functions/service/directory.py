"""Orgs, projects and who may do what in them (the main table). Roles are stored here; what a role may do is
decided in one place only, ``functions/api/permissions.py``."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from functions.service import table
from functions.service.clock import utc_now
from functions.service.conditional import written
from functions.service.errors import AlreadyExistsError, NotAMemberError, NotFoundError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

    from functions.service.tenancy import ProjectRef

DEFAULT_PLAN = "standard"
DEFAULT_RETENTION_DAYS = 90


class OrgRole(StrEnum):
    ORG_ADMIN = "org_admin"
    MEMBER = "member"


class ProjectRole(StrEnum):
    ADMIN = "admin"
    RUN = "run"
    VIEW = "view"


@dataclass(frozen=True, slots=True)
class Org:
    org: str
    name: str
    plan: str
    retention_days: int
    created_at: str
    external_sharing: bool = False  # off until an org_admin turns it on (issue 14)
    # from the first user SCIM provisions, the IdP decides who is in the org: a user with no USER# item is refused
    scim_provisioning: bool = False


@dataclass(frozen=True, slots=True)
class Project:
    org: str
    project: str
    name: str
    created_at: str
    created_by: str


class Directory:
    def __init__(self, table: Table) -> None:
        self._table = table

    def _put_new(self, item: dict[str, Any], what: str) -> None:
        if not written(lambda: self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")):
            raise AlreadyExistsError(f"{what} exists already")

    # orgs
    def create_org(
        self,
        org: str,
        name: str,
        creator: str,
        plan: str = DEFAULT_PLAN,
        retention_days: int = DEFAULT_RETENTION_DAYS,
    ) -> Org:
        now = utc_now()
        self._put_new(
            {
                **table.org_key(org),
                "org": org,
                "name": name,
                "plan": plan,
                "retention_days": retention_days,
                "created_at": now,
                "created_by": creator,
            },
            f"org {org}",
        )
        self.set_org_role(org, creator, OrgRole.ORG_ADMIN)
        return Org(org, name, plan, retention_days, now)

    def release_org(self, org: str, creator: str) -> None:
        """Undo :meth:`create_org` when what must follow it (the org's keys) could not be made."""
        self._table.delete_item(Key=table.user_key(org, creator))
        self._table.delete_item(Key=table.org_key(org))

    def get_org(self, org: str) -> Org:
        item = self._table.get_item(Key=table.org_key(org)).get("Item")
        if item is None:
            raise NotFoundError(f"no org {org}")
        return Org(
            org,
            str(item["name"]),
            str(item["plan"]),
            int(str(item["retention_days"])),
            str(item["created_at"]),
            item.get("external_sharing") is True,
            item.get("scim_provisioning") is True,
        )

    def set_scim_provisioning(self, org: str) -> None:
        """From now on only users with an org record (provisioned by SCIM, or the org's admins) are members."""
        self._set_org_setting(org, "scim_provisioning", True)

    def set_external_sharing(self, org: str, enabled: bool) -> None:
        self._set_org_setting(org, "external_sharing", enabled)

    def set_retention_days(self, org: str, days: int) -> None:
        self._set_org_setting(org, "retention_days", days)

    def _set_org_setting(self, org: str, attribute: str, value: bool | int) -> None:
        """Change one attribute of the org record; a missing org fails the condition rather than being created."""
        self._table.update_item(
            Key=table.org_key(org),
            UpdateExpression="SET #setting = :value",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#setting": attribute},
            ExpressionAttributeValues={":value": value},
        )

    def member_role(self, org: Org, user: str) -> OrgRole:
        """The caller's org role, checked on every request: one GetItem of the user's org record, so a SCIM
        deprovisioning refuses the very next request, whatever token it carries. A user the IdP put in the org is a
        member unless made org admin here.

        Raises :class:`NotAMemberError` for a user deprovisioned by SCIM (``active`` false), or with no record at
        all in an org whose membership SCIM manages.
        """
        item = self._table.get_item(Key=table.user_key(org.org, user)).get("Item")
        if item is None:
            if org.scim_provisioning:
                raise NotAMemberError(f"{user} is not provisioned in org {org.org}")
            return OrgRole.MEMBER
        if item.get("active") is False:
            raise NotAMemberError(f"{user} was deprovisioned from org {org.org}")
        return OrgRole(str(item["org_role"]))

    def set_org_role(self, org: str, user: str, role: OrgRole) -> None:
        self._table.put_item(Item={**table.user_key(org, user), "user": user, "org_role": role.value})

    # the org records SCIM manages (functions/service/scim_directory.py)
    def link_scim_user(self, org: str, user: str, scim_id: str, *, admin_by_group: bool, active: bool) -> None:
        """Make ``user``'s org record that of SCIM User ``scim_id``, with its ``active`` flag and org role.

        The role is ``org_admin`` if the IdP's groups say so, or if the API granted it before SCIM took the record
        over (the org's creator): groups can add the role, not take a granted one away; ``active: false`` still
        refuses anyone. :class:`AlreadyExistsError` if another SCIM User holds the name.
        """
        key = table.user_key(org, user)
        existing = self._table.get_item(Key=key).get("Item") or {}
        holder = existing.get("scim_id")
        if holder is not None and holder != scim_id:
            raise AlreadyExistsError(f"userName {user} is taken")
        granted = existing.get("granted_role") or (existing.get("org_role") if existing and holder is None else None)
        admin = admin_by_group or granted == OrgRole.ORG_ADMIN.value
        item: dict[str, Any] = {
            **key,
            "user": user,
            "org_role": (OrgRole.ORG_ADMIN if admin else OrgRole.MEMBER).value,
            "active": active,
            "scim_id": scim_id,
        }
        if granted:
            item["granted_role"] = str(granted)
        linked = written(
            lambda: self._table.put_item(
                Item=item,
                ConditionExpression="attribute_not_exists(scim_id) OR scim_id = :id",
                ExpressionAttributeValues={":id": scim_id},
            )
        )
        if not linked:
            raise AlreadyExistsError(f"userName {user} is taken")

    def unlink_scim_user(self, org: str, user: str, scim_id: str) -> None:
        """Delete SCIM User ``scim_id``'s org record: in an org SCIM manages, no access from the next request on."""
        written(
            lambda: self._table.delete_item(
                Key=table.user_key(org, user),
                ConditionExpression="scim_id = :id",
                ExpressionAttributeValues={":id": scim_id},
            )
        )

    # projects
    def create_project(self, ref: ProjectRef, name: str, creator: str) -> Project:
        now = utc_now()
        self._put_new(
            {
                **table.project_key(ref.org, ref.project),
                "org": ref.org,
                "project": ref.project,
                "name": name,
                "created_at": now,
                "created_by": creator,
            },
            f"project {ref.project}",
        )
        self.set_member(ref, creator, ProjectRole.ADMIN)
        return Project(ref.org, ref.project, name, now, creator)

    def get_project(self, ref: ProjectRef) -> Project:
        item = self._table.get_item(Key=table.project_key(ref.org, ref.project)).get("Item")
        if item is None:
            raise NotFoundError(f"no project {ref.project}")
        return _project(item)

    def list_projects(self, org: str) -> list[Project]:
        items = self._query(table.org_pk(org), table.PROJECT)
        return [_project(i) for i in items]

    def delete_project(self, ref: ProjectRef) -> None:
        for item in self._query(table.project_pk(ref.org, ref.project), ""):
            self._table.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})
        self._table.delete_item(Key=table.project_key(ref.org, ref.project))

    # project members
    def project_role(self, ref: ProjectRef, user: str) -> ProjectRole | None:
        item = self._table.get_item(Key=table.member_key(ref.org, ref.project, user)).get("Item")
        return ProjectRole(str(item["role"])) if item else None

    def set_member(self, ref: ProjectRef, user: str, role: ProjectRole) -> None:
        self._table.put_item(
            Item={**table.member_key(ref.org, ref.project, user), "user": user, "role": role.value, "since": utc_now()}
        )

    def add_member(self, ref: ProjectRef, user: str, role: ProjectRole) -> None:
        item = {**table.member_key(ref.org, ref.project, user), "user": user, "role": role.value, "since": utc_now()}
        if not written(lambda: self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")):
            raise AlreadyExistsError(f"{user} is a member already")

    def change_member(self, ref: ProjectRef, user: str, role: ProjectRole) -> None:
        changed = written(
            lambda: self._table.update_item(
                Key=table.member_key(ref.org, ref.project, user),
                UpdateExpression="SET #r = :r",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#r": "role"},
                ExpressionAttributeValues={":r": role.value},
            )
        )
        if not changed:
            raise NotFoundError(f"{user} is not a member")

    def remove_member(self, ref: ProjectRef, user: str) -> None:
        key = table.member_key(ref.org, ref.project, user)
        if not written(lambda: self._table.delete_item(Key=key, ConditionExpression="attribute_exists(pk)")):
            raise NotFoundError(f"{user} is not a member")

    def list_members(self, ref: ProjectRef) -> list[dict[str, str]]:
        return [
            {"user": str(i["user"]), "role": str(i["role"])}
            for i in self._query(table.project_pk(ref.org, ref.project), table.MEMBER)
        ]

    def _query(self, pk: str, prefix: str) -> list[dict[str, Any]]:
        """Every item of the partition ``pk`` whose sort key starts with ``prefix`` (all of them for "")."""
        condition = "pk = :pk AND begins_with(sk, :p)" if prefix else "pk = :pk"
        values = {":pk": pk, ":p": prefix} if prefix else {":pk": pk}
        return list(
            table.all_items(self._table.query, KeyConditionExpression=condition, ExpressionAttributeValues=values)
        )


def _project(item: dict[str, Any]) -> Project:
    return Project(
        str(item["org"]), str(item["project"]), str(item["name"]), str(item["created_at"]), str(item["created_by"])
    )
