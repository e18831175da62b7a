"""What every route needs: the services, the caller (from the token), the authorisation check, the audit trail,
and the one error shape."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

from functions.api.auth import AuthConfig, Principal, TokenVerifier
from functions.api.errors import ApiError
from functions.api.permissions import SHARED_JOB_PERMISSIONS, Permission, allowed, hides_existence
from functions.service import audit_log, org_terms, refusals
from functions.service.context import ServiceContext, service_context
from functions.service.directory import OrgRole
from functions.service.errors import NotAMemberError, NotFoundError
from functions.service.ids import checked_id
from functions.service.tenancy import JobRef, ProjectRef

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from aws_lambda_powertools.event_handler.api_gateway import Router
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

    from functions.service.directory import Org, ProjectRole


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


@dataclass
class ApiServices:
    context: ServiceContext
    auth: AuthConfig

    @cached_property
    def verifier(self) -> TokenVerifier:
        return TokenVerifier(self.auth)


_services: ApiServices | None = None


def services() -> ApiServices:
    global _services  # noqa: PLW0603 - one per Lambda container
    if _services is None:
        _services = ApiServices(service_context(), AuthConfig.from_env())
    return _services


def reset_services(value: ApiServices | None = None) -> None:
    global _services  # noqa: PLW0603
    _services = value


@dataclass(frozen=True, slots=True)
class Caller:
    principal: Principal
    org_role: OrgRole
    project_role: ProjectRole | None
    source_ip: str | None
    request_id: str

    @property
    def user(self) -> str:
        return self.principal.user

    @property
    def org(self) -> str:
        return self.principal.org


def _event(app: APIGatewayRestResolver | Router) -> APIGatewayProxyEvent:
    return cast("APIGatewayProxyEvent", app.current_event)


def request_id(app: APIGatewayRestResolver | Router) -> str:
    return str(_event(app).request_context.request_id or uuid.uuid4())


def _source_ip(app: APIGatewayRestResolver | Router) -> str | None:
    return _event(app).request_context.identity.source_ip


def authorize(
    app: APIGatewayRestResolver | Router,
    permission: Permission,
    org: str,
    project: str | None = None,
    *,
    audit_action: str | None = None,
    audit_target: str | None = None,
    job: str | None = None,
) -> Caller:
    """The caller, if they may do ``permission`` on ``org``/``project``; else 401, 404 or 403.

    An org id in the path that is not the token's org, or a project the caller has no role in, is 404: the
    answer must not reveal that another tenant's (or an unshared project's) resource exists. With ``job``, a job
    shared with the caller counts too (``SHARED_JOB_PERMISSIONS``).
    """
    svc = services()
    principal = svc.verifier.verify(header(app, "Authorization"))
    if org != principal.org:
        _probe(app, principal, permission, org, f"org {org}")
        raise not_found(f"org {org}")
    try:
        found = svc.context.directory.get_org(org)  # the token's org, but not created yet (POST /v1/orgs)
    except NotFoundError as exc:
        raise not_found(f"org {org}") from exc
    org_terms.sync(svc.context, found)  # a plan or retention change in the customer config reaches the record
    org_role = member_role(app, found, principal, permission)
    project_role, shared = None, False
    if project is not None:
        ref = ProjectRef(checked_id(org, "org"), checked_id(project, "project"))
        try:
            svc.context.directory.get_project(ref)
        except NotFoundError as exc:
            raise not_found(f"project {project}") from exc
        project_role = svc.context.directory.project_role(ref, principal.user)
        shared = _shared_with_caller(permission, project_role, org_role, ref, job, principal.user)
        if hides_existence(permission, project_role, org_role, shared_job=shared):
            _probe(app, principal, permission, org, f"{org}/{project}", cross_org=False)
            raise not_found(f"project {project}")
    caller = Caller(principal, org_role, project_role, _source_ip(app), request_id(app))
    if not allowed(permission, org_role, project_role, shared_job=shared):
        record_refusal(
            caller, audit_action or audit_log.ACCESS_DENIED, audit_target or org, 403, permission=permission.value
        )
        raise ApiError(403, "forbidden", f"your role does not allow {permission.value}")
    return caller


def authorize_job_action(
    app: APIGatewayRestResolver | Router, permission: Permission, ref: JobRef, action: str, detail: str | None = None
) -> tuple[Caller, str]:
    """:func:`authorize` for an action on one job, and the action's audit target (the job, or ``job/detail``); a
    refusal is audited as ``action`` on that same target."""
    target = audit_log.job_target(ref) + (f"/{detail}" if detail else "")
    caller = authorize(app, permission, ref.org, ref.project, audit_action=action, audit_target=target)
    return caller, target


def _shared_with_caller(
    permission: Permission,
    project_role: ProjectRole | None,
    org_role: OrgRole,
    project: ProjectRef,
    job: str | None,
    user: str,
) -> bool:
    """True when only a share can allow this: no project role, not an org admin, and the job is shared with them."""
    if job is None or project_role is not None or org_role == OrgRole.ORG_ADMIN:
        return False
    if permission not in SHARED_JOB_PERMISSIONS:
        return False
    ref = JobRef(project.org, project.project, checked_id(job, "job"))
    return services().context.shares.get(ref, user) is not None


def member_role(
    app: APIGatewayRestResolver | Router, org: Org, principal: Principal, permission: Permission | None = None
) -> OrgRole:
    """The caller's org role, read on every request; a user SCIM deprovisioned (or never provisioned, where SCIM
    manages the org) is refused with 403 here, however valid their token, and the refusal is audited. A member's
    role is the stronger of the one stored for them and the one their IdP groups map to in the token's own org
    (functions/api/auth.py)."""
    try:
        stored = services().context.directory.member_role(org, principal.user)
    except NotAMemberError as exc:
        refusals.record_refusal(
            services().context,
            org.org,
            actor=principal.user,
            action=audit_log.ACCESS_DENIED,
            target=org.org,
            source_ip=_source_ip(app),
            request_id=request_id(app),
            status=403,
            reason="not_a_member",
            **({"permission": permission.value} if permission else {}),
        )
        raise ApiError(403, "not_a_member", str(exc)) from exc
    return OrgRole.ORG_ADMIN if OrgRole.ORG_ADMIN in (stored, principal.group_role) else stored


def caller_of(app: APIGatewayRestResolver | Router, principal: Principal, org_role: OrgRole) -> Caller:
    """The caller of a route that checks its own permission (POST /v1/orgs), with source IP and request id."""
    return Caller(principal, org_role, None, _source_ip(app), request_id(app))


def _probe(
    app: APIGatewayRestResolver | Router,
    principal: Principal,
    permission: Permission,
    org: str,
    target: str,
    *,
    cross_org: bool = True,
) -> None:
    """Audit a 404 that hides something from a signed-in caller: in the caller's org, and (for a cross-org probe)
    in the probed org too if it exists, so both orgs' admins see it. Rate-limited per org; never raises."""
    context = services().context
    orgs = [principal.org, org] if cross_org else [principal.org]
    for audited in dict.fromkeys(orgs):
        refusals.record_refusal(
            context,
            audited,
            actor=f"{principal.user}@{principal.org}" if audited != principal.org else principal.user,
            action=audit_log.ACCESS_DENIED,
            target=target,
            source_ip=_source_ip(app),
            request_id=request_id(app),
            status=404,
            permission=permission.value,
        )


def refused_as_missing(app: APIGatewayRestResolver | Router, caller: Caller, target: str, what: str) -> ApiError:
    """The 404 for something the caller may not learn exists (audited like any hidden-resource probe)."""
    record_refusal(caller, audit_log.ACCESS_DENIED, target, 404)
    return not_found(what)


def record_refusal(caller: Caller, action: str, target: str, status: int, **details: Any) -> None:
    """One refused request of a signed-in member, audited in their org (rate-limited, never raises:
    ``refusals.record_refusal``)."""
    refusals.record_refusal(
        services().context,
        caller.org,
        actor=caller.user,
        action=action,
        target=target,
        source_ip=caller.source_ip,
        request_id=caller.request_id,
        status=status,
        **details,
    )


def header(app: APIGatewayRestResolver | Router, name: str) -> str | None:
    """A request header, whatever the case the client (or API Gateway) gave its name."""
    wanted = name.lower()
    for key, value in (app.current_event.headers or {}).items():
        if key.lower() == wanted:
            return str(value)
    return None


def record(caller: Caller, action: str, target: str, outcome: str = "success", **details: Any) -> None:
    """One audit event: who, what, when (the log stamps it), from where, outcome."""
    services().context.audit.append(
        caller.org,
        actor=caller.user,
        action=action,
        target=target,
        outcome=outcome,
        source_ip=caller.source_ip,
        details={"request_id": caller.request_id, **details} if details or caller.request_id else None,
    )


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")
