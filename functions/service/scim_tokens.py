"""Each org's SCIM bearer token: issued (and rotated) by an org admin through the API, stored only as a hash.

The token names its org (``h2scim_{org}_{secret}``), so checking one is a single GetItem of that org's token record
and a constant-time comparison of SHA-256 digests. The secret is 256 random bits, so a plain SHA-256 (not a slow
password hash) is enough: nothing short of the token itself finds a preimage. Issuing a new token replaces the old
one at once; the plaintext is shown once, to the admin who asked, and never stored (not even in the idempotency
table: the issuing route is deliberately not idempotent).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from functions.service import table
from functions.service.clock import utc_now
from functions.service.errors import ScimTokenError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

PREFIX = "h2scim_"
SECRET_BYTES = 32
_TOKEN = re.compile(r"^h2scim_([a-z0-9][a-z0-9-]{0,62})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True, slots=True)
class IssuedToken:
    org: str
    token: str  # the only time the plaintext exists outside the caller
    issued_at: str


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def org_of_token(token: str) -> str:
    """The org a token claims to belong to (checked against the stored hash by :func:`verify`)."""
    match = _TOKEN.match(token)
    if match is None:
        raise ScimTokenError("not a SCIM token of this service")
    return match.group(1)


def issue(main: Table, org: str, issued_by: str) -> IssuedToken:
    """A new token for ``org``, replacing (and so revoking) the previous one."""
    token = f"{PREFIX}{org}_{secrets.token_urlsafe(SECRET_BYTES)}"
    now = utc_now()
    main.put_item(Item={**table.scim_token_key(org), "sha256": digest(token), "issued_at": now, "issued_by": issued_by})
    return IssuedToken(org, token, now)


def verify(main: Table, authorization: str | None) -> str:
    """The org of a valid ``Authorization: Bearer <SCIM token>`` header; :class:`ScimTokenError` otherwise."""
    if not authorization or not authorization.startswith("Bearer "):
        raise ScimTokenError("missing bearer token")
    token = authorization.removeprefix("Bearer ").strip()
    org = org_of_token(token)
    item = main.get_item(Key=table.scim_token_key(org)).get("Item")
    if item is None or not hmac.compare_digest(str(item["sha256"]), digest(token)):
        raise ScimTokenError("unknown or rotated SCIM token")
    return org
