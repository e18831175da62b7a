"""Bearer-token authentication: a JWT signed by a configured issuer (the customer's OIDC provider, or the Cognito
user pool that federates their SAML IdP).

The primary issuer, audience and keys are configuration (``HETERO2_JWT_ISSUER``, ``HETERO2_JWT_AUDIENCE``, and either
``HETERO2_JWKS_URL`` or an inline ``HETERO2_JWKS`` document for the local server); ``HETERO2_SSO_ISSUERS`` adds more
(the SAML pool: its own audience, JWKS and claim names). Each token is checked against the one issuer its ``iss``
names, with that issuer's keys only. There is no bypass: tests and the local server sign real tokens with a key of
their own and publish it as the JWKS.

Group claims map to org roles through ``HETERO2_GROUP_ROLES`` (``{org: {group: role}}``, from the customer config):
a token's groups are looked up in the mapping of the token's own org only, so a group can never reach another org.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import jwt

from functions.api.errors import AuthenticationError
from functions.service import env
from functions.service.directory import OrgRole
from functions.service.errors import ServiceError
from functions.service.ids import checked_id, checked_user_id

ORG_CLAIM = "hetero2:org"
GROUP_CLAIM = "cognito:groups"
MAX_GROUPS = 100
ALGORITHMS = ["RS256", "ES256"]
LEEWAY_SECONDS = 30
MAX_NAME_CHARS = 200


@dataclass(frozen=True, slots=True)
class Principal:
    user: str
    org: str
    # the person's display name when the IdP puts one in the token (OIDC ``name``); shown, never trusted
    name: str | None = None
    # The org role the token's groups map to in its own org (None: no mapped group); the stronger of this and the
    # role stored for the user applies (functions/api/deps.py).
    group_role: OrgRole | None = None


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """One identity provider: where its keys are, which audience it must name, and which claims carry the org
    and the groups."""

    issuer: str
    audience: str
    jwks_url: str | None = None
    jwks: dict[str, Any] | None = None
    org_claim: str = ORG_CLAIM
    group_claim: str = GROUP_CLAIM


@dataclass(frozen=True, slots=True)
class AuthConfig:
    issuer: str
    audience: str
    jwks_url: str | None = None
    jwks: dict[str, Any] | None = None
    group_claim: str = GROUP_CLAIM
    sso_issuers: tuple[TrustedIssuer, ...] = ()
    group_roles: dict[str, dict[str, OrgRole]] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> AuthConfig:
        environ = os.environ
        inline = environ.get(env.JWKS)
        config = cls(
            issuer=environ.get(env.JWT_ISSUER, ""),
            audience=environ.get(env.JWT_AUDIENCE, ""),
            jwks_url=environ.get(env.JWKS_URL) or None,
            jwks=json.loads(inline) if inline else None,
            group_claim=environ.get(env.GROUP_CLAIM) or GROUP_CLAIM,
            sso_issuers=tuple(TrustedIssuer(**entry) for entry in json.loads(environ.get(env.SSO_ISSUERS) or "[]")),
            group_roles=group_roles(json.loads(environ.get(env.GROUP_ROLES) or "{}")),
        )
        if not config.issuer or not config.audience or not (config.jwks_url or config.jwks):
            raise RuntimeError(f"set {env.JWT_ISSUER}, {env.JWT_AUDIENCE} and {env.JWKS_URL} (or {env.JWKS})")
        return config

    @property
    def issuers(self) -> tuple[TrustedIssuer, ...]:
        primary = TrustedIssuer(self.issuer, self.audience, self.jwks_url, self.jwks, group_claim=self.group_claim)
        return (primary, *self.sso_issuers)


def group_roles(document: object) -> dict[str, dict[str, OrgRole]]:
    """``{org: {group: role}}`` checked: org ids, non-empty group names, org roles only."""
    if not isinstance(document, dict):
        raise RuntimeError(f"{env.GROUP_ROLES} must be a JSON object {{org: {{group: role}}}}")
    mapping: dict[str, dict[str, OrgRole]] = {}
    for org, groups in document.items():
        if not isinstance(groups, dict) or not all(isinstance(g, str) and g for g in groups):
            raise RuntimeError(f"{env.GROUP_ROLES}: org {org!r} must map group names to roles")
        try:
            mapping[checked_id(org, "org")] = {group: OrgRole(role) for group, role in groups.items()}
        except (ServiceError, ValueError) as exc:
            raise RuntimeError(f"{env.GROUP_ROLES}: {exc}") from exc
    return mapping


def token_groups(value: object) -> tuple[str, ...]:
    """A groups claim as a list of names: a JSON list (``cognito:groups``, most OIDC IdPs) or a string of
    comma-separated names (a Cognito custom attribute mapped from a SAML attribute: ``"[a, b]"`` or ``"a,b"``)."""
    if isinstance(value, str):
        value = [part.strip() for part in value.strip().removeprefix("[").removesuffix("]").split(",")]
    if not isinstance(value, list):
        return ()
    return tuple(dict.fromkeys(g for g in value if isinstance(g, str) and g))[:MAX_GROUPS]


class _IssuerKeys:
    """The signing keys of one issuer: fetched from its JWKS URL (cached by PyJWT) or given inline."""

    def __init__(self, issuer: TrustedIssuer) -> None:
        self.issuer = issuer
        self._client = jwt.PyJWKClient(issuer.jwks_url) if issuer.jwks_url else None
        self._keys = jwt.PyJWKSet.from_dict(issuer.jwks) if issuer.jwks else None

    def key_for(self, token: str) -> Any:
        try:
            if self._client is not None:
                return self._client.get_signing_key_from_jwt(token).key
            assert self._keys is not None
            kid = jwt.get_unverified_header(token).get("kid")
            for key in self._keys.keys:
                if key.key_id == kid:
                    return key.key
        except (jwt.PyJWTError, jwt.PyJWKClientError) as exc:
            raise AuthenticationError(f"token key cannot be resolved: {exc}") from exc
        raise AuthenticationError("token signed by an unknown key")


class TokenVerifier:
    def __init__(self, config: AuthConfig) -> None:
        self._config = config
        self._issuers = {issuer.issuer: _IssuerKeys(issuer) for issuer in reversed(config.issuers)}

    def _issuer_of(self, token: str) -> _IssuerKeys:
        """The trusted issuer the token names (unverified: only picks whose keys and audience to check against)."""
        try:
            named = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"invalid token: {exc}") from exc
        found = self._issuers.get(named) if isinstance(named, str) else None
        return found if found is not None else self._issuers[self._config.issuer]

    def verify(self, authorization: str | None) -> Principal:
        if not authorization or not authorization.startswith("Bearer "):
            raise AuthenticationError("missing bearer token")
        token = authorization.removeprefix("Bearer ").strip()
        keys = self._issuer_of(token)
        issuer = keys.issuer
        try:
            claims = jwt.decode(
                token,
                keys.key_for(token),
                algorithms=ALGORITHMS,
                audience=issuer.audience,
                issuer=issuer.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"invalid token: {exc}") from exc
        try:
            org = checked_id(claims.get(issuer.org_claim), "org claim")
            user = checked_user_id(claims["sub"], "sub")
        except ServiceError as exc:
            raise AuthenticationError(f"invalid token claims: {exc}") from exc
        return Principal(
            user,
            org,
            name=_display_name(claims.get("name")),
            group_role=self.group_role(org, token_groups(claims.get(issuer.group_claim))),
        )

    def group_role(self, org: str, groups: tuple[str, ...]) -> OrgRole | None:
        """The strongest org role the groups map to in ``org``'s own mapping (another org's mapping is never read)."""
        mapping = self._config.group_roles.get(org, {})
        roles = {mapping[group] for group in groups if group in mapping}
        if OrgRole.ORG_ADMIN in roles:
            return OrgRole.ORG_ADMIN
        return OrgRole.MEMBER if roles else None


def _display_name(value: object) -> str | None:
    """The ``name`` claim if it is a short printable string; anything else is ignored (a name is decoration)."""
    if not isinstance(value, str):
        return None
    name = " ".join(value.split())[:MAX_NAME_CHARS]
    return name if name and name.isprintable() else None
