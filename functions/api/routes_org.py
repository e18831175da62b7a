"""Orgs, projects, members, usage and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from botocore.exceptions import ClientError

from functions.api import models
from functions.api.deps import (
    authorize,
    caller_of,
    header,
    not_found,
    org_role_of,
    record,
    refused_as_missing,
    services,
)
from functions.api.errors import ApiError
from functions.api.idempotency import idempotent
from functions.api.permissions import Permission
from functions.service import audit_log, clock, org_terms, public_keys
from functions.service.directory import DEFAULT_PLAN, DEFAULT_RETENTION_DAYS, OrgRole, ProjectRole
from functions.service.errors import AlreadyExistsError, NotFoundError
from functions.service.tenancy import ProjectRef

router = Router()


def _org_out(org: models.OrgId, role: OrgRole) -> dict[str, Any]:
    found = services().context.directory.get_org(org)
    return models.OrgOut(
        org=found.org,
        name=found.name,
        plan=found.plan,
        retention_days=found.retention_days,
        created_at=found.created_at,
        external_sharing=found.external_sharing,
        your_role=role.value,
    ).model_dump()


@router.post(
    "/v1/orgs",
    summary="Create your org (the org id comes from your token)",
    responses=models.responses(201, models.OrgOut, 400, 409),
)
def create_org(body: models.OrgCreate) -> tuple[dict[str, Any], int]:
    svc = services()
    principal = svc.verifier.verify(header(router, "Authorization"))

    provisioned = svc.context.settings.tenants
    if provisioned and principal.org not in provisioned:
        raise ApiError(403, "org_not_provisioned", f"org {principal.org} is not provisioned in this deployment")
    terms = provisioned.get(principal.org, {})

    caller = caller_of(router, principal, OrgRole.ORG_ADMIN)
    directory = svc.context.directory

    def action() -> tuple[dict[str, Any], int]:
        # The org record first: its conditional put decides which of concurrent creators wins; the others get 409
        # and create no keys. Then the keys (in a deployment CDK made them and they are only looked up; locally
        # they are created); if that fails, the claim is released so the org can be created again.
        try:
            directory.create_org(
                principal.org,
                body.name,
                principal.user,
                plan=str(terms.get("plan", DEFAULT_PLAN)),
                retention_days=int(terms.get("retention_days", DEFAULT_RETENTION_DAYS)),
            )
        except AlreadyExistsError as exc:
            raise ApiError(409, "already_exists", f"org {principal.org} exists already") from exc
        try:
            svc.context.keys.create_org_keys(principal.org)
        except ClientError as exc:
            directory.release_org(principal.org, principal.user)
            if exc.response.get("Error", {}).get("Code") in ("AccessDeniedException", "AccessDenied"):
                raise ApiError(403, "org_not_provisioned", f"org {principal.org} is not provisioned here") from exc
            raise
        # the public key that verifies this org's packs, published where the download route finds it
        public_keys.publish(svc.context, principal.org)
        record(caller, audit_log.ORG_CREATE, principal.org)
        return _org_out(principal.org, OrgRole.ORG_ADMIN), 201

    return idempotent(router, "create_org", caller, body.model_dump(), action)


@router.get(
    "/v1/orgs",
    summary="List the orgs you belong to (your token's org)",
    responses=models.responses(200, models.OrgList),
)
def list_orgs() -> dict[str, Any]:
    principal = services().verifier.verify(header(router, "Authorization"))
    try:
        role = org_role_of(principal)
        return {"orgs": [_org_out(principal.org, role)]}
    except NotFoundError:
        return {"orgs": []}


@router.get(
    "/v1/orgs/<org>",
    summary="Get an org",
    responses=models.responses(200, models.OrgOut, 403),
)
def get_org(org: models.OrgId) -> models.OrgOut:
    caller = authorize(router, Permission.ORG_READ, org)
    try:
        return models.OrgOut(**_org_out(org, caller.org_role))
    except NotFoundError as exc:
        raise not_found(f"org {org}") from exc


@router.patch(
    "/v1/orgs/<org>",
    summary="Change the org's retention or external sharing (org admins)",
    responses=models.responses(200, models.OrgOut, 403),
)
def update_org(org: models.OrgId, body: models.OrgUpdate) -> models.OrgOut:
    caller = authorize(router, Permission.ORG_MANAGE, org, audit_action=audit_log.RETENTION_CHANGE)
    context = services().context
    if body.retention_days is None and body.external_sharing is None:
        raise ApiError(422, "validation_error", "send retention_days, external_sharing or both")
    if body.retention_days is not None:
        bound = org_terms.max_retention_days(context, org)
        if bound is not None and body.retention_days > bound:
            raise ApiError(
                422,
                "retention_beyond_lifecycle",
                f"retention_days {body.retention_days} exceeds the {bound} days this deployment's storage "
                "lifecycle keeps the org's data; raise it in the customer config first",
            )
        context.directory.set_retention_days(org, body.retention_days)
        record(caller, audit_log.RETENTION_CHANGE, org, retention_days=body.retention_days)
    if body.external_sharing is not None:
        context.directory.set_external_sharing(org, body.external_sharing)
        record(caller, audit_log.SHARING_CHANGE, org, external_sharing=body.external_sharing)
    return models.OrgOut(**_org_out(org, caller.org_role))


@router.post(
    "/v1/orgs/<org>/projects",
    summary="Create a project; you become its admin",
    responses=models.responses(201, models.ProjectOut, 400, 403, 409),
)
def create_project(org: models.OrgId, body: models.ProjectCreate) -> tuple[dict[str, Any], int]:
    caller = authorize(router, Permission.PROJECT_CREATE, org)

    def action() -> tuple[dict[str, Any], int]:
        ref = ProjectRef(org, body.project)
        directory = services().context.directory
        try:
            project = directory.create_project(ref, body.name, caller.user)
        except AlreadyExistsError as exc:
            if caller.org_role != OrgRole.ORG_ADMIN and directory.project_role(ref, caller.user) is None:
                # a project the caller cannot see: the same answer as GET gives them, not 409 (issue 14)
                raise refused_as_missing(router, caller, f"{org}/{body.project}", f"project {body.project}") from exc
            raise ApiError(409, "already_exists", f"project {body.project} exists already") from exc
        record(caller, audit_log.PROJECT_CREATE, f"{org}/{body.project}")
        out = models.ProjectOut(**_project_dict(project), your_role=ProjectRole.ADMIN.value)
        return out.model_dump(), 201

    return idempotent(router, "create_project", caller, body.model_dump(), action)


def _project_dict(project: Any) -> dict[str, Any]:
    return {
        "org": project.org,
        "project": project.project,
        "name": project.name,
        "created_at": project.created_at,
        "created_by": project.created_by,
    }


@router.get(
    "/v1/orgs/<org>/projects",
    summary="List the projects you can see",
    responses=models.responses(200, models.ProjectList, 403),
)
def list_projects(org: models.OrgId) -> models.ProjectList:
    caller = authorize(router, Permission.ORG_READ, org)
    directory = services().context.directory
    projects = []
    for project in directory.list_projects(org):
        role = directory.project_role(ProjectRef(org, project.project), caller.user)
        if role is None and caller.org_role != OrgRole.ORG_ADMIN:
            continue
        projects.append(models.ProjectOut(**_project_dict(project), your_role=role.value if role else None))
    return models.ProjectList(projects=projects)


@router.get(
    "/v1/orgs/<org>/projects/<project>",
    summary="Get a project",
    responses=models.responses(200, models.ProjectOut, 403),
)
def get_project(org: models.OrgId, project: models.ProjectId) -> models.ProjectOut:
    caller = authorize(router, Permission.PROJECT_READ, org, project)
    found = services().context.directory.get_project(ProjectRef(org, project))
    role = caller.project_role.value if caller.project_role else None
    return models.ProjectOut(**_project_dict(found), your_role=role)


@router.get(
    "/v1/orgs/<org>/projects/<project>/members",
    summary="List project members",
    responses=models.responses(200, models.MemberList, 403),
)
def list_members(org: models.OrgId, project: models.ProjectId) -> models.MemberList:
    authorize(router, Permission.PROJECT_READ, org, project)
    members = services().context.directory.list_members(ProjectRef(org, project))
    return models.MemberList(members=[models.MemberOut(**m) for m in members])


@router.post(
    "/v1/orgs/<org>/projects/<project>/members",
    summary="Add a member with a role",
    responses=models.responses(201, models.MemberOut, 400, 403, 409),
)
def add_member(org: models.OrgId, project: models.ProjectId, body: models.MemberAdd) -> tuple[dict[str, Any], int]:
    target = f"{org}/{project}/{body.user}"
    caller = authorize(
        router, Permission.MEMBERS_MANAGE, org, project, audit_action=audit_log.MEMBER_ADD, audit_target=target
    )

    def action() -> tuple[dict[str, Any], int]:
        try:
            services().context.directory.add_member(ProjectRef(org, project), body.user, body.role)
        except AlreadyExistsError as exc:
            raise ApiError(409, "already_exists", f"{body.user} is a member already") from exc
        record(caller, audit_log.MEMBER_ADD, target, role=body.role.value)
        return {"user": body.user, "role": body.role.value}, 201

    return idempotent(router, "add_member", caller, {"p": project, **body.model_dump()}, action)


@router.put(
    "/v1/orgs/<org>/projects/<project>/members/<user>",
    summary="Change a member's role",
    responses=models.responses(200, models.MemberOut, 403),
)
def change_member(
    org: models.OrgId, project: models.ProjectId, user: models.UserId, body: models.MemberChange
) -> models.MemberOut:
    target = f"{org}/{project}/{user}"
    caller = authorize(
        router, Permission.MEMBERS_MANAGE, org, project, audit_action=audit_log.MEMBER_CHANGE_ROLE, audit_target=target
    )
    try:
        services().context.directory.change_member(ProjectRef(org, project), user, body.role)
    except NotFoundError as exc:
        raise not_found(f"member {user}") from exc
    record(caller, audit_log.MEMBER_CHANGE_ROLE, target, role=body.role.value)
    return models.MemberOut(user=user, role=body.role)


@router.delete(
    "/v1/orgs/<org>/projects/<project>/members/<user>",
    summary="Remove a member",
    responses=models.responses(200, models.Removed, 403),
)
def remove_member(org: models.OrgId, project: models.ProjectId, user: models.UserId) -> tuple[dict[str, Any], int]:
    target = f"{org}/{project}/{user}"
    caller = authorize(
        router, Permission.MEMBERS_MANAGE, org, project, audit_action=audit_log.MEMBER_REMOVE, audit_target=target
    )
    try:
        services().context.directory.remove_member(ProjectRef(org, project), user)
    except NotFoundError as exc:
        raise not_found(f"member {user}") from exc
    record(caller, audit_log.MEMBER_REMOVE, target)
    return {"removed": user}, 200


@router.get(
    "/v1/orgs/<org>/usage",
    summary="Metered usage per project for a month (org admins)",
    responses=models.responses(200, models.UsageOut, 403),
)
def usage(
    org: models.OrgId,
    month: Annotated[
        str | None, Query(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="yyyy-mm (default: this month)")
    ] = None,
) -> models.UsageOut:
    authorize(router, Permission.ORG_USAGE_READ, org)
    month = month or clock.this_month()
    report = services().context.metering.usage(org, month)
    return models.UsageOut(org=org, month=month, projects=report["projects"], total=report["total"])


@router.get(
    "/v1/orgs/<org>/audit",
    summary="The org's audit log, oldest first (org admins)",
    responses=models.responses(200, models.AuditPage, 403),
)
def audit(
    org: models.OrgId,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    after: Annotated[int | None, Query(ge=0, description="return events after this seq")] = None,
) -> models.AuditPage:
    authorize(router, Permission.ORG_AUDIT_READ, org)
    events = services().context.audit.events(org, limit=limit + 1, start_after_seq=after)
    page = events[:limit]
    next_token = str(page[-1]["seq"]) if len(events) > limit else None
    return models.AuditPage(events=[models.AuditEventOut(**e) for e in page], next_token=next_token)
