"""Bearer-token authentication: a JWT signed by the configured issuer (Cognito or any OIDC provider).

Issuer, audience and keys are configuration (``HETERO2_JWT_ISSUER``, ``HETERO2_JWT_AUDIENCE``, and either
``HETERO2_JWKS_URL`` or an inline ``HETERO2_JWKS`` document for the local server). There is no bypass: tests and
the local server sign real tokens with a key of their own and publish it as the JWKS.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import jwt

from functions.api.errors import AuthenticationError
from functions.service import env
from functions.service.errors import ServiceError
from functions.service.ids import checked_id, checked_user_id

ORG_CLAIM = "hetero2:org"
ALGORITHMS = ["RS256", "ES256"]
LEEWAY_SECONDS = 30
MAX_NAME_CHARS = 200


@dataclass(frozen=True, slots=True)
class Principal:
    user: str
    org: str
    # the person's display name when the IdP puts one in the token (OIDC ``name``); shown, never trusted
    name: str | None = None


@dataclass(frozen=True, slots=True)
class AuthConfig:
    issuer: str
    audience: str
    jwks_url: str | None = None
    jwks: dict[str, Any] | None = None

    @classmethod
    def from_env(cls) -> AuthConfig:
        environ = os.environ
        inline = environ.get(env.JWKS)
        config = cls(
            issuer=environ.get(env.JWT_ISSUER, ""),
            audience=environ.get(env.JWT_AUDIENCE, ""),
            jwks_url=environ.get(env.JWKS_URL) or None,
            jwks=json.loads(inline) if inline else None,
        )
        if not config.issuer or not config.audience or not (config.jwks_url or config.jwks):
            raise RuntimeError(f"set {env.JWT_ISSUER}, {env.JWT_AUDIENCE} and {env.JWKS_URL} (or {env.JWKS})")
        return config


class TokenVerifier:
    def __init__(self, config: AuthConfig) -> None:
        self._config = config
        self._client = jwt.PyJWKClient(config.jwks_url) if config.jwks_url else None
        self._keys = jwt.PyJWKSet.from_dict(config.jwks) if config.jwks else None

    def _key_for(self, token: str) -> Any:
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

    def verify(self, authorization: str | None) -> Principal:
        if not authorization or not authorization.startswith("Bearer "):
            raise AuthenticationError("missing bearer token")
        token = authorization.removeprefix("Bearer ").strip()
        try:
            claims = jwt.decode(
                token,
                self._key_for(token),
                algorithms=ALGORITHMS,
                audience=self._config.audience,
                issuer=self._config.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"invalid token: {exc}") from exc
        try:
            return Principal(
                user=checked_user_id(claims["sub"], "sub"),
                org=checked_id(claims.get(ORG_CLAIM), "org claim"),
                name=_display_name(claims.get("name")),
            )
        except ServiceError as exc:
            raise AuthenticationError(f"invalid token claims: {exc}") from exc


def _display_name(value: object) -> str | None:
    """The ``name`` claim if it is a short printable string; anything else is ignored (a name is decoration)."""
    if not isinstance(value, str):
        return None
    name = " ".join(value.split())[:MAX_NAME_CHARS]
    return name if name and name.isprintable() else None
