"""The SCIM endpoints behind ``/scim/v2``: one dispatcher from an API Gateway proxy event to a SCIM answer.

In this order: the org's SCIM bearer token (401 otherwise, audited against the org the token names), the body's
form (the API's own limits, :func:`functions.api.gate.body_problem`), the route (404 for none, 405 for a method it
does not take), then scim2-models validates the payload. Every error is a SCIM Error body
(``urn:ietf:params:scim:api:messages:2.0:Error``) with its status and ``scimType``; every answer is
``application/scim+json``. Each write is an audit event (``scim.user.create`` ... ``scim.group.delete``) with the
SCIM operation, successful or not. Reads are not audited (an IdP reads before every write; the API access log has
them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from pydantic import ValidationError
from scim2_models import (
    Context,
    Error,
    Group,
    ListResponse,
    NotFoundException,
    PatchOp,
    Resource,
    ResourceType,
    ResponseParameters,
    Schema,
    SCIMException,
    User,
)

from functions.api import gate
from functions.api.deps import services
from functions.scim import discovery, listing
from functions.scim.paths import MEDIA_TYPE, SCIM_BASE_PATH
from functions.service import audit_log, refusals, scim_tokens
from functions.service.errors import ScimTokenError
from functions.service.observability import logger
from functions.service.scim_directory import ScimDirectory

if TYPE_CHECKING:
    from functions.service.context import ServiceContext

ACTOR: Final = "scim"  # the org's identity provider, through the org's SCIM token
READ_ONLY_ENDPOINTS: Final = ("ServiceProviderConfig", "Schemas", "ResourceTypes")
WRITE_ACTIONS: Final[dict[tuple[str, str], str]] = {
    ("Users", "POST"): audit_log.AuditAction.SCIM_USER_CREATE.value,
    ("Users", "PUT"): audit_log.AuditAction.SCIM_USER_REPLACE.value,
    ("Users", "PATCH"): audit_log.AuditAction.SCIM_USER_PATCH.value,
    ("Users", "DELETE"): audit_log.AuditAction.SCIM_USER_DELETE.value,
    ("Groups", "POST"): audit_log.AuditAction.SCIM_GROUP_CREATE.value,
    ("Groups", "PUT"): audit_log.AuditAction.SCIM_GROUP_REPLACE.value,
    ("Groups", "PATCH"): audit_log.AuditAction.SCIM_GROUP_PATCH.value,
    ("Groups", "DELETE"): audit_log.AuditAction.SCIM_GROUP_DELETE.value,
}


class MethodNotAllowedError(SCIMException):
    """A method the endpoint does not take (RFC 7644 §3.12 lists no scimType for it)."""

    status = 405


@dataclass
class ScimRequest:
    event: dict[str, Any]
    context: ServiceContext
    org: str
    method: str
    segments: list[str]
    query: dict[str, str]
    base_url: str
    request_id: str
    source_ip: str | None
    audit_details: dict[str, Any] = field(default_factory=dict)

    @property
    def store(self) -> ScimDirectory:
        return ScimDirectory(self.context.dynamodb.Table(self.context.settings.table), self.context.directory, self.org)

    def body(self) -> Any:
        text = self.event.get("body")
        if not text:
            raise _invalid_syntax("a body is required")
        try:
            return json.loads(str(text))
        except ValueError as exc:
            raise _invalid_syntax(f"the body is not JSON: {exc}") from exc

    def located(self, resource: Resource[Any]) -> Resource[Any]:
        if resource.meta is not None:
            resource.meta.location = f"{self.base_url}/{discovery.ENDPOINTS[type(resource)]}/{resource.id}"
        return resource


def _invalid_syntax(detail: str) -> SCIMException:
    error = SCIMException(detail=detail)
    error.scim_type = "invalidSyntax"
    return error


def answer(status: int, body: dict[str, Any] | None = None, **headers: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": MEDIA_TYPE, **headers},
        "body": json.dumps(body) if body is not None else "",
        "isBase64Encoded": False,
    }


def error_answer(error: Error) -> dict[str, Any]:
    status = int(error.status or 500)
    headers = {"WWW-Authenticate": 'Bearer realm="scim"'} if status == 401 else {}
    return answer(status, error.model_dump(), **headers)


def _base_url(event: dict[str, Any]) -> str:
    """The SCIM base URL the client used (resources' ``meta.location``), stage prefix included."""
    context = event.get("requestContext") or {}
    host = gate.header_of(event, "host") or str(context.get("domainName") or "localhost")
    proto = gate.header_of(event, "x-forwarded-proto") or ("https" if context.get("domainName") else "http")
    full, path = str(context.get("path") or ""), str(event.get("path") or "")
    prefix = full[: -len(path)] if path and full.endswith(path) else ""
    return f"{proto}://{host}{prefix}{SCIM_BASE_PATH}"


def handle(event: dict[str, Any]) -> dict[str, Any]:
    """Answer one SCIM request (an API Gateway proxy event whose path is under ``/scim/v2``)."""
    context = services().context  # the API function's one context, as its routes use
    request_id, source_ip = gate.request_id_of(event), gate.source_ip_of(event)
    try:
        org = scim_tokens.verify(context.dynamodb.Table(context.settings.table), gate.header_of(event, "authorization"))
    except ScimTokenError as exc:
        _audit_refusal(context, event, str(exc), request_id, source_ip)
        return error_answer(Error(status=401, detail=str(exc)))
    problem = gate.body_problem(event, (MEDIA_TYPE, gate.JSON_MEDIA_TYPE))
    if problem is not None:
        status, _code, message = problem
        error = Error(status=status, detail=message, scim_type="invalidSyntax" if status == 400 else None)
        return error_answer(error)
    query = {k: str(v) for k, v in (event.get("queryStringParameters") or {}).items()}
    segments = str(event.get("path") or "")[len(SCIM_BASE_PATH) :].strip("/").split("/")
    method = str(event.get("httpMethod") or "GET").upper()
    request = ScimRequest(event, context, org, method, segments, query, _base_url(event), request_id, source_ip)
    action = WRITE_ACTIONS.get((segments[0], method)) if len(segments) <= 2 else None
    try:
        response = route(request)
    except (SCIMException, ValidationError) as exc:
        error = exc.to_error() if isinstance(exc, SCIMException) else Error.from_validation_error(exc.errors()[0])
        if action is not None:
            _audit_write(request, action, "failed", status=int(error.status or 400), detail=str(error.detail)[:200])
        return error_answer(error)
    except Exception:
        logger.exception("SCIM request failed", extra={"org": org})
        return error_answer(Error(status=500, detail=f"internal error; quote request id {request_id}"))
    if action is not None:
        _audit_write(request, action, "success")
    return response


def route(request: ScimRequest) -> dict[str, Any]:
    head, rest, method = request.segments[0], request.segments[1:], request.method
    if head in READ_ONLY_ENDPOINTS and len(rest) <= 1:
        if method != "GET":
            raise MethodNotAllowedError(detail=f"{head} only answers GET")
        return _discovery(request, head, rest[0] if rest else None)
    if head == ".search" and not rest:
        if method != "POST":
            raise MethodNotAllowedError(detail="/.search answers POST")
        return _search_everything(request)
    model = discovery.RESOURCES.get(head)
    if model is None or len(rest) > 1:
        raise NotFoundException(detail=f"no SCIM endpoint {request.event.get('path')}")
    if not rest:
        if method == "GET":
            return _list(request, model, listing.search_request(model, request.query))
        if method == "POST":
            return _create(request, model)
        raise MethodNotAllowedError(detail=f"/{head} answers GET and POST")
    if rest[0] == ".search":
        if method != "POST":
            raise MethodNotAllowedError(detail=f"/{head}/.search answers POST")
        return _list(request, model, listing.search_request(model, request.body()))
    operations = {"GET": _get, "PUT": _replace, "PATCH": _patch, "DELETE": _delete}
    if method not in operations:
        raise MethodNotAllowedError(detail=f"/{head}/{{id}} answers GET, PUT, PATCH and DELETE")
    return operations[method](request, model, rest[0])


# discovery
def _discovery(request: ScimRequest, head: str, wanted: str | None) -> dict[str, Any]:
    if head == "ServiceProviderConfig":
        if wanted is not None:
            raise NotFoundException(detail="ServiceProviderConfig has no sub-resources")
        config = discovery.service_provider_config(request.base_url)
        return answer(200, config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
    published: list[Schema] | list[ResourceType] = (
        discovery.schemas(request.base_url) if head == "Schemas" else discovery.resource_types(request.base_url)
    )
    if wanted is not None:
        for item in published:
            if item.id == wanted:
                return answer(200, item.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
        raise NotFoundException(detail=f"no {head} {wanted}")
    model = Schema if head == "Schemas" else ResourceType
    listed = ListResponse[model](  # type: ignore[valid-type]
        total_results=len(published), start_index=1, items_per_page=len(published), resources=published
    )
    return answer(200, listed.model_dump(scim_ctx=Context.SEARCH_RESPONSE))


# Users and Groups
def _search_everything(request: ScimRequest) -> dict[str, Any]:
    """``POST /.search``: one filter over Users and Groups together (an attribute one lacks does not match it)."""
    both: Any = User | Group
    search = listing.search_request(both, request.body())
    resources: list[Resource[Any]] = [*request.store.list_users(), *request.store.list_groups()]
    return answer(200, listing.page(both, search, resources, request.located))


def _list(request: ScimRequest, model: type[Resource[Any]], search: Any) -> dict[str, Any]:
    store = request.store
    resources: list[Resource[Any]]
    if model is User:
        name = listing.equality_on(search, "userName")
        found = store.find_user(name) if name is not None else None
        # userName compares case-insensitively: a miss on the exact name still reads the whole list
        resources = [found] if found is not None else list(store.list_users())
    else:
        resources = list(store.list_groups())
    return answer(200, listing.page(model, search, resources, request.located))


def _response_parameters(request: ScimRequest, model: type[Resource[Any]]) -> ResponseParameters[Any]:
    wanted = {k: request.query[k] for k in ("attributes", "excludedAttributes") if request.query.get(k)}
    return ResponseParameters[model].model_validate(wanted)  # type: ignore[valid-type]


def _dump(
    request: ScimRequest, resource: Resource[Any], context: Context, model: type[Resource[Any]]
) -> dict[str, Any]:
    request.located(resource)
    return resource.model_dump(scim_ctx=context, response_parameters=_response_parameters(request, model))


def _get(request: ScimRequest, model: type[Resource[Any]], scim_id: str) -> dict[str, Any]:
    resource = _read(request.store, model, scim_id)
    return answer(200, _dump(request, resource, Context.RESOURCE_QUERY_RESPONSE, model))


def _create(request: ScimRequest, model: type[Resource[Any]]) -> dict[str, Any]:
    resource = model.model_validate(request.body(), scim_ctx=Context.RESOURCE_CREATION_REQUEST)
    store = request.store
    created = store.create_user(resource) if isinstance(resource, User) else store.create_group(_group(resource))
    _note(request, created)
    body = _dump(request, created, Context.RESOURCE_CREATION_RESPONSE, model)
    return answer(201, body, Location=f"{request.base_url}/{request.segments[0]}/{created.id}")


def _replace(request: ScimRequest, model: type[Resource[Any]], scim_id: str) -> dict[str, Any]:
    store = request.store
    before = _read(store, model, scim_id)
    wanted = model.model_validate(request.body(), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
    wanted.replace(before)  # read-only attributes kept, immutable ones checked (RFC 7644 §3.5.1)
    saved = _store(store, scim_id, wanted)
    _note(request, saved)
    return answer(200, _dump(request, saved, Context.RESOURCE_REPLACEMENT_RESPONSE, model))


def _patch(request: ScimRequest, model: type[Resource[Any]], scim_id: str) -> dict[str, Any]:
    store = request.store
    patch = PatchOp[model].model_validate(request.body(), scim_ctx=Context.RESOURCE_PATCH_REQUEST)  # type: ignore[valid-type]
    resource = _read(store, model, scim_id)
    request.audit_details["operations"] = [
        {"op": str(operation.op.value), "path": str(operation.path) if operation.path else None}
        for operation in patch.operations or []
    ]
    if patch.patch(resource):
        resource = _store(store, scim_id, resource)
    _note(request, resource)
    return answer(200, _dump(request, resource, Context.RESOURCE_PATCH_RESPONSE, model))


def _delete(request: ScimRequest, model: type[Resource[Any]], scim_id: str) -> dict[str, Any]:
    store = request.store
    deleted = store.delete_user(scim_id) if model is User else store.delete_group(scim_id)
    _note(request, deleted)
    return answer(204)


def _read(store: ScimDirectory, model: type[Resource[Any]], scim_id: str) -> Resource[Any]:
    """The stored User or Group ``scim_id`` (the model is the endpoint's)."""
    return store.get_user(scim_id) if model is User else store.get_group(scim_id)


def _store(store: ScimDirectory, scim_id: str, resource: Resource[Any]) -> Resource[Any]:
    """Write ``resource`` over the stored User or Group ``scim_id``; returns it as stored."""
    if isinstance(resource, User):
        return store.replace_user(scim_id, resource)
    return store.replace_group(scim_id, _group(resource))


def _group(resource: Resource[Any]) -> Group:
    assert isinstance(resource, Group)
    return resource


def _note(request: ScimRequest, resource: Resource[Any]) -> None:
    """What the audit event says about the resource written: its id, name and (a User) whether it is active."""
    request.audit_details["scim_id"] = resource.id
    if isinstance(resource, User):
        request.audit_details.update(user_name=resource.user_name, active=resource.active is not False)
    elif isinstance(resource, Group):
        request.audit_details.update(display_name=resource.display_name, members=len(resource.members or []))


# audit
def _audit_write(request: ScimRequest, action: str, outcome: str, **details: Any) -> None:
    head = request.segments[0]
    target = f"{head}/{request.segments[1]}" if len(request.segments) > 1 else head
    if "scim_id" in request.audit_details and len(request.segments) == 1:
        target = f"{head}/{request.audit_details['scim_id']}"
    request.context.audit.append(
        request.org,
        actor=ACTOR,
        action=action,
        target=target[:256],
        outcome=outcome,
        source_ip=request.source_ip,
        details={
            "request_id": request.request_id,
            "operation": f"{request.method} {SCIM_BASE_PATH}/{head}",
            **request.audit_details,
            **details,
        },
    )


def _audit_refusal(
    context: ServiceContext, event: dict[str, Any], reason: str, request_id: str, source_ip: str | None
) -> None:
    """A refused SCIM token that names an org is a trace for that org's admins (rate-limited like every refusal)."""
    token = (gate.header_of(event, "authorization") or "").removeprefix("Bearer ").strip()
    try:
        org = scim_tokens.org_of_token(token)
    except ScimTokenError:
        return
    refusals.record_refusal(
        context,
        org,
        actor="anonymous",
        action=audit_log.AUTH_REFUSED,
        target=str(event.get("path") or SCIM_BASE_PATH),
        source_ip=source_ip,
        request_id=request_id,
        status=401,
        method=str(event.get("httpMethod") or "")[:16],
        reason=reason[:200],
    )
