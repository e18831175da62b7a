"""The API Lambda: Powertools REST resolver with validation, the routes, and one error shape for every error.

Every error body is ``{"error": {"code", "message", "request_id"[, "details"]}}``; validation errors are 422
with the offending fields in ``details``. Requests under ``/scim/v2`` go to the SCIM dispatcher instead
(:mod:`functions.scim.app`: the org's SCIM token, SCIM error bodies), before the JWT gate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

from functions.api import gate, routes_jobs, routes_org, routes_shares
from functions.api.deps import request_id
from functions.api.errors import ApiError, AuthenticationError
from functions.scim import app as scim_app
from functions.scim.paths import is_scim_path
from functions.service.errors import InvalidIdentifierError, TenantAccessError
from functions.service.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFoundError
    from aws_lambda_powertools.utilities.typing import LambdaContext

API_TITLE = "HETERO-2 API"
API_VERSION = "1.0.0"

app = APIGatewayRestResolver(enable_validation=True)
app.include_router(routes_org.router)
app.include_router(routes_jobs.router)
app.include_router(routes_shares.router)
app.configure_openapi(
    title=API_TITLE,
    version=API_VERSION,
    summary="Audit molecular ML models with matched decoys: jobs, evidence packs, tenants.",
    security_schemes={"bearerAuth": HTTPBearer(bearerFormat="JWT")},
    security=[{"bearerAuth": []}],
)


def error_response(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> Response[Any]:
    body: dict[str, Any] = {"code": code, "message": message, "request_id": request_id(app)}
    if details is not None:
        body["details"] = details
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body={"error": body})


@app.exception_handler(ApiError)
def _api_error(exc: ApiError) -> Response[Any]:
    return error_response(exc.status, exc.code, exc.message, exc.details)


@app.exception_handler(AuthenticationError)
def _unauthenticated(exc: AuthenticationError) -> Response[Any]:
    response = error_response(401, "unauthenticated", str(exc))
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


@app.exception_handler(InvalidIdentifierError)
def _bad_identifier(exc: InvalidIdentifierError) -> Response[Any]:
    return error_response(422, "invalid_identifier", str(exc))


@app.exception_handler(TenantAccessError)
def _tenant(exc: TenantAccessError) -> Response[Any]:
    logger.warning("tenant boundary refused", extra={"reason": str(exc)})
    return error_response(404, "not_found", "not found")


@app.exception_handler(RequestValidationError)
def _invalid(exc: RequestValidationError) -> Response[Any]:
    details = [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": str(error.get("msg", "")),
            "type": error.get("type"),
        }
        for error in exc.errors()
    ]
    return error_response(422, "validation_error", "the request is not valid; see details", details)


@app.not_found
def _no_route(exc: RouteNotFoundError) -> Response[Any]:
    return error_response(404, "no_such_route", "no such route")


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response[Any]:
    logger.exception("unhandled error")
    return error_response(500, "internal_error", "internal error; quote the request_id when you report it")


def openapi_document() -> dict[str, Any]:
    import json  # noqa: PLC0415

    document: dict[str, Any] = json.loads(app.get_openapi_json_schema(title=API_TITLE, version=API_VERSION))
    return document


@logger.inject_lambda_context(clear_state=True, correlation_id_path="requestContext.requestId")
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if is_scim_path(event.get("path")):  # the IdP's door: its own token and error shape (functions/scim/)
        result = scim_app.handle(event)
    else:
        refused = gate.check(event)
        result = refused if refused is not None else app.resolve(event, context)
    status = int(result.get("statusCode", 500))
    metrics.add_metric(name="ApiRequests", unit="Count", value=1)
    if status >= 500:
        metrics.add_metric(name="Api5xx", unit="Count", value=1)
    elif status >= 400:
        metrics.add_metric(name="Api4xx", unit="Count", value=1)
    return result
