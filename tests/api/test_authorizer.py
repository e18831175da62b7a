"""The gateway's TOKEN authorizer: real signed tokens in, an allow policy for the stage or 'Unauthorized' out."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.handlers import authorizer
from functions.local.server import TokenIssuer
from functions.local.stack import LambdaContextData

METHOD_ARN = "arn:aws:execute-api:eu-central-1:123456789012:abcdef1234/api/GET/v1/orgs/acme/projects"


@pytest.fixture
def issuer(monkeypatch: pytest.MonkeyPatch) -> TokenIssuer:
    made = TokenIssuer()
    monkeypatch.setenv("HETERO2_JWT_ISSUER", made.issuer)
    monkeypatch.setenv("HETERO2_JWT_AUDIENCE", made.audience)
    monkeypatch.setenv("HETERO2_JWKS", json.dumps(made.jwks))
    monkeypatch.delenv("HETERO2_JWKS_URL", raising=False)
    monkeypatch.setenv("HETERO2_USAGE_KEY_PREFIX", "hetero2-acme-")
    authorizer._verifier.cache_clear()
    return made


def _call(token: str) -> dict[str, object]:
    event = {"type": "TOKEN", "authorizationToken": token, "methodArn": METHOD_ARN}
    result: dict[str, object] = authorizer.handler(event, LambdaContextData("hetero2-authorizer"))
    return result


def test_a_valid_token_is_allowed_on_the_whole_stage_with_its_orgs_usage_key(issuer: TokenIssuer) -> None:
    result = _call("Bearer " + issuer.token("alice", "acme"))
    assert result["principalId"] == "alice"
    assert result["context"] == {"org": "acme", "user": "alice"}
    assert result["usageIdentifierKey"] == "hetero2-acme-acme"
    statement = result["policyDocument"]["Statement"][0]  # type: ignore[index]
    assert statement["Effect"] == "Allow"
    assert statement["Resource"] == "arn:aws:execute-api:eu-central-1:123456789012:abcdef1234/api/*/*"


@pytest.mark.parametrize(
    "claims", [{"aud": "other"}, {"iss": "https://evil"}, {"exp": 1, "iat": 0}, {"hetero2:org": "Bad Org"}]
)
def test_invalid_tokens_are_unauthorized(issuer: TokenIssuer, claims: dict[str, Any]) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        _call("Bearer " + issuer.token("alice", "acme", **claims))


def test_a_token_from_another_key_and_no_token_are_unauthorized(issuer: TokenIssuer) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        _call("Bearer " + TokenIssuer().token("alice", "acme"))
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        _call("")


def test_stage_arn_refuses_what_is_not_a_method_arn() -> None:
    with pytest.raises(ValueError, match="not a method ARN"):
        authorizer.stage_arn("nonsense")
