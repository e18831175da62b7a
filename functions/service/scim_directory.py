"""One org's SCIM Users and Groups, kept beside the org membership the API checks on every request.

A SCIM User is two items in the org's partition: ``SCIM#USER#{id}`` (the resource as the identity provider sent it,
validated by scim2-models, without any password) and the user's org record ``USER#{userName}`` (``org_role``,
``active``, ``scim_id``), the one item :meth:`Directory.member_role` reads per API request. So ``userName`` is the
API user id: the ``sub`` of the tokens the IdP issues. Deleting a User deletes its org record; ``active: false``
keeps it with the flag down; either way the user's next API request is refused. From the first User the IdP
creates, the org's membership is the IdP's: a signed-in user with no org record is refused too (the org's creator
and the admins the API made keep theirs).

Groups (``SCIM#GROUP#{id}``) carry org roles by name: a group whose ``displayName`` is ``org_admin`` makes its
members org admins; any other group is kept (an IdP pushes the groups it is told to) and grants nothing more than
membership. Project roles stay with project admins (``/members``). Each group change recomputes the org role of
the users it adds or drops, so the per-request check stays one GetItem.

Errors are scim2-models' exceptions (their ``status`` and ``scimType`` are the protocol's answer).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from scim2_models import (
    Context,
    Group,
    InvalidValueException,
    Meta,
    NotFoundException,
    Resource,
    UniquenessException,
    User,
)

from functions.service import table
from functions.service.errors import AlreadyExistsError, InvalidIdentifierError
from functions.service.ids import SCIM_ID, checked_user_id

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

    from functions.service.directory import Directory

ADMIN_GROUP = "org_admin"
ResourceT = TypeVar("ResourceT", bound=Resource[Any])


def grants_admin(group: Group) -> bool:
    return (group.display_name or "").strip().lower() == ADMIN_GROUP


def _stamp(resource: ResourceT, kind: str, scim_id: str, created: datetime | None) -> ResourceT:
    now = datetime.now(UTC)
    resource.schemas = resource.schemas or [str(type(resource).__schema__)]
    resource.id = scim_id
    resource.meta = Meta(resource_type=kind, created=created or now, last_modified=now)
    return resource


class ScimDirectory:
    """SCIM Users and Groups of ``org``; every write keeps the users' org records (their access) in step."""

    def __init__(self, main: Table, directory: Directory, org: str) -> None:
        self._table = main
        self._directory = directory
        self.org = org

    # storage
    def _get(self, prefix: str, model: type[ResourceT], scim_id: str) -> ResourceT:
        if not SCIM_ID.fullmatch(scim_id):
            raise NotFoundException(detail=f"{model.__name__} {scim_id} not found")
        item = self._table.get_item(Key=table.scim_resource_key(self.org, prefix, scim_id)).get("Item")
        if item is None:
            raise NotFoundException(detail=f"{model.__name__} {scim_id} not found")
        return model.model_validate(json.loads(str(item["resource"])))

    def _all(self, prefix: str, model: type[ResourceT]) -> list[ResourceT]:
        items = table.all_items(
            self._table.query,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
            ExpressionAttributeValues={":pk": table.org_pk(self.org), ":p": prefix},
        )
        return [model.model_validate(json.loads(str(item["resource"]))) for item in items]

    def _put(self, prefix: str, resource: Resource[Any]) -> None:
        assert resource.id is not None
        stored = resource.model_dump(scim_ctx=Context.DEFAULT, exclude_none=True)
        self._table.put_item(
            Item={**table.scim_resource_key(self.org, prefix, resource.id), "resource": json.dumps(stored)}
        )

    def _delete(self, prefix: str, scim_id: str) -> None:
        self._table.delete_item(Key=table.scim_resource_key(self.org, prefix, scim_id))

    # users
    def get_user(self, scim_id: str) -> User[Any]:
        return self._get(table.SCIM_USER, User, scim_id)

    def list_users(self) -> list[User[Any]]:
        return self._all(table.SCIM_USER, User)

    def find_user(self, user_name: str) -> User[Any] | None:
        """The User whose userName is exactly ``user_name``, through its org record: two GetItems, no listing."""
        try:
            key = table.user_key(self.org, checked_user_id(user_name, "userName"))
        except InvalidIdentifierError:
            return None
        item = self._table.get_item(Key=key).get("Item")
        if item is None or "scim_id" not in item:
            return None
        try:
            return self.get_user(str(item["scim_id"]))
        except NotFoundException:
            return None

    def create_user(self, user: User[Any]) -> User[Any]:
        user = _stamp(user, "User", uuid.uuid4().hex, None)
        user.password = None  # write-only in SCIM, and never stored here: sign-in is the IdP's business
        self._directory.set_scim_provisioning(self.org)  # from the first User on, the IdP decides who is in
        self._link(user, self.list_groups())
        self._put(table.SCIM_USER, user)
        return user

    def replace_user(self, scim_id: str, user: User[Any]) -> User[Any]:
        """Store ``user`` as User ``scim_id`` (a PUT, or a PATCH already applied); a new userName moves the access."""
        before = self.get_user(scim_id)
        user = _stamp(user, "User", scim_id, before.meta.created if before.meta else None)
        user.password = None
        self._link(user, self.list_groups())
        if before.user_name != user.user_name:
            self._directory.unlink_scim_user(self.org, _user_name(before), scim_id)
        self._put(table.SCIM_USER, user)
        return user

    def delete_user(self, scim_id: str) -> User[Any]:
        """Delete User ``scim_id``: its org record first (access ends), then its group memberships and itself."""
        user = self.get_user(scim_id)
        self._directory.unlink_scim_user(self.org, _user_name(user), scim_id)
        for group in self.list_groups():
            if any(member.value == scim_id for member in group.members or []):
                group.members = [m for m in group.members or [] if m.value != scim_id]
                self._put(table.SCIM_GROUP, group)
        self._delete(table.SCIM_USER, scim_id)
        return user

    def _link(self, user: User[Any], groups: list[Group]) -> None:
        assert user.id is not None
        admin = any(grants_admin(g) and any(m.value == user.id for m in g.members or []) for g in groups)
        try:
            self._directory.link_scim_user(
                self.org, _user_name(user), user.id, admin_by_group=admin, active=user.active is not False
            )
        except AlreadyExistsError as exc:
            raise UniquenessException(detail=str(exc)) from exc

    # groups
    def get_group(self, scim_id: str) -> Group:
        return self._get(table.SCIM_GROUP, Group, scim_id)

    def list_groups(self) -> list[Group]:
        return self._all(table.SCIM_GROUP, Group)

    def create_group(self, group: Group) -> Group:
        group = _stamp(group, "Group", uuid.uuid4().hex, None)
        self._check_members(group)
        self._put(table.SCIM_GROUP, group)
        self._refresh_roles(_member_ids(group))
        return group

    def replace_group(self, scim_id: str, group: Group) -> Group:
        before = self.get_group(scim_id)
        group = _stamp(group, "Group", scim_id, before.meta.created if before.meta else None)
        self._check_members(group)
        self._put(table.SCIM_GROUP, group)
        self._refresh_roles(_member_ids(before) | _member_ids(group))
        return group

    def delete_group(self, scim_id: str) -> Group:
        group = self.get_group(scim_id)
        self._delete(table.SCIM_GROUP, scim_id)
        self._refresh_roles(_member_ids(group))
        return group

    def _check_members(self, group: Group) -> None:
        """Members are Users of this org, named by the id this service gave them."""
        for member in group.members or []:
            if member.type not in (None, "User"):
                raise InvalidValueException(detail=f"members: only Users can be members, not {member.type}")
            try:
                user = self.get_user(str(member.value or ""))
            except NotFoundException as exc:
                raise InvalidValueException(detail=f"members: no User {member.value}") from exc
            member.type = "User"
            member.display = member.display or user.display_name or user.user_name

    def _refresh_roles(self, scim_ids: set[str]) -> None:
        """Recompute the org role of the users a group change touched (a user deleted meanwhile is skipped)."""
        if not scim_ids:
            return
        groups = self.list_groups()
        for scim_id in sorted(scim_ids):
            try:
                user = self.get_user(scim_id)
            except NotFoundException:
                continue
            self._link(user, groups)


def _member_ids(group: Group) -> set[str]:
    return {str(member.value) for member in group.members or [] if member.value}


def _user_name(user: User[Any]) -> str:
    """The API user id a User stands for: its userName, in the alphabet of a token's ``sub``."""
    try:
        return checked_user_id(user.user_name, "userName")
    except InvalidIdentifierError as exc:
        raise InvalidValueException(detail=f"userName: {exc}") from exc
