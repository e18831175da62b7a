"""What every request passes before the resolver parses anything: the token, then the body's form.

Powertools validates the body against the route's model before any route code runs, so without this gate an
unauthenticated caller with a bad body would get 422 with schema details instead of 401, and malformed input
(a body nested 100,000 deep, a ``text/plain`` body, bytes that are not UTF-8) would reach the JSON parser and end
as a 500. Here, in this order: authenticate (401, audited against the path's org, rate-limited), then decode
(400), check the media type (415), the size (413) and the nesting depth (400) — each a 4xx in the one error shape.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from typing import Any

from functions.api.errors import AuthenticationError
from functions.service import audit_log, refusals

MAX_JSON_DEPTH = 32
MAX_BODY_BYTES = 1024 * 1024
JSON_MEDIA_TYPE = "application/json"
_ORG_PATH = re.compile(r"^/v1/orgs/([a-z0-9][a-z0-9-]{0,62})(?:/|$)")


def json_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """True if the JSON text nests arrays/objects deeper than ``limit`` (a scan, no recursion, no parse)."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def header_of(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def request_id_of(event: dict[str, Any]) -> str:
    return str((event.get("requestContext") or {}).get("requestId") or uuid.uuid4())


def source_ip_of(event: dict[str, Any]) -> str | None:
    value = ((event.get("requestContext") or {}).get("identity") or {}).get("sourceIp")
    return str(value) if value else None


def error_answer(event: dict[str, Any], status: int, code: str, message: str) -> dict[str, Any]:
    """An API Gateway proxy response in the service's one error shape."""
    body = {"error": {"code": code, "message": message, "request_id": request_id_of(event)}}
    headers = {"Content-Type": JSON_MEDIA_TYPE}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return {"statusCode": status, "headers": headers, "body": json.dumps(body), "isBase64Encoded": False}


def _audit_unauthenticated(event: dict[str, Any], reason: str) -> None:
    """A 401 on ``/v1/orgs/{org}/...`` of an existing org is a trace that org's admins should see."""
    from functions.api.deps import services  # noqa: PLC0415 - deps imports this module's callers

    path = str(event.get("path") or "")
    match = _ORG_PATH.match(path)
    if match is None:
        return
    refusals.record_refusal(
        services().context,
        match.group(1),
        actor="anonymous",
        action=audit_log.AUTH_REFUSED,
        target=path,
        source_ip=source_ip_of(event),
        request_id=request_id_of(event),
        status=401,
        method=str(event.get("httpMethod") or "")[:16],
        reason=reason[:200],
    )


def check(event: dict[str, Any]) -> dict[str, Any] | None:
    """The refusal to send instead of resolving ``event``, or None (the body in ``event`` is then UTF-8 text)."""
    from functions.api.deps import services  # noqa: PLC0415

    try:
        services().verifier.verify(header_of(event, "authorization"))
    except AuthenticationError as exc:
        _audit_unauthenticated(event, str(exc))
        return error_answer(event, 401, "unauthenticated", str(exc))

    problem = body_problem(event, (JSON_MEDIA_TYPE,))
    return None if problem is None else error_answer(event, *problem)


def body_problem(event: dict[str, Any], media_types: tuple[str, ...]) -> tuple[int, str, str] | None:
    """What is wrong with the body's form as (status, code, message), or None; the body in ``event`` is then UTF-8
    text. Shared by the API and SCIM (``functions/scim/app.py``), which answer it in their own error shapes."""
    body = event.get("body")
    if body is None or body == "":
        return None
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(str(body), validate=True)
        except (binascii.Error, ValueError):
            return 400, "invalid_body", "the body is not valid base64"
    else:
        raw = str(body).encode("utf-8", "surrogatepass")
    if len(raw) > MAX_BODY_BYTES:
        return 413, "body_too_large", f"the body exceeds {MAX_BODY_BYTES} bytes"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return 400, "invalid_encoding", "the body is not UTF-8"
    event["body"], event["isBase64Encoded"] = text, False
    media_type = (header_of(event, "content-type") or media_types[0]).split(";", 1)[0].strip().lower()
    if media_type not in media_types:
        return 415, "unsupported_media_type", f"send {' or '.join(media_types)}, not {media_type}"
    if json_depth_exceeds(text):
        return 400, "too_deeply_nested", f"JSON nests deeper than {MAX_JSON_DEPTH} levels"
    return None
