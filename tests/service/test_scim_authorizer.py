"""The gateway's SCIM authorizer: the org's SCIM token (checked against its hash in DynamoDB on moto) in, an allow
policy for the stage's SCIM paths only, or 'Unauthorized', out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from functions.handlers import scim_authorizer
from functions.local.stack import LambdaContextData
from functions.service import env, scim_tokens
from functions.service.context import reset_service_context

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mypy_boto3_dynamodb.service_resource import Table

METHOD_ARN = "arn:aws:execute-api:eu-central-1:123456789012:abcdef1234/api/GET/scim/v2/Users"


@pytest.fixture
def main(table: Table, monkeypatch: pytest.MonkeyPatch) -> Iterator[Table]:
    """The shared moto main table, and the authorizer's environment pointing at it."""
    monkeypatch.setenv(env.BUCKET, "unused")
    monkeypatch.setenv(env.TABLE, table.name)
    monkeypatch.setenv(env.USAGE_KEY_PREFIX, "hetero2-acme-")
    reset_service_context(None)
    try:
        yield table
    finally:
        reset_service_context(None)


def _call(token: str) -> dict[str, Any]:
    event = {"type": "TOKEN", "authorizationToken": token, "methodArn": METHOD_ARN}
    result: dict[str, Any] = scim_authorizer.handler(event, LambdaContextData("hetero2-scim-authorizer"))
    return result


def test_the_orgs_token_is_allowed_on_the_scim_paths_only_with_its_usage_key(main: Table) -> None:
    issued = scim_tokens.issue(main, "acme", "acme-admin")
    result = _call(f"Bearer {issued.token}")
    assert result["principalId"] == "scim:acme"
    assert result["usageIdentifierKey"] == "hetero2-acme-acme"
    statement = result["policyDocument"]["Statement"][0]
    assert statement["Effect"] == "Allow"
    assert statement["Resource"] == "arn:aws:execute-api:eu-central-1:123456789012:abcdef1234/api/*/scim/v2/*"


def test_a_rotated_forged_or_foreign_token_is_unauthorized(main: Table) -> None:
    old = scim_tokens.issue(main, "acme", "acme-admin").token
    scim_tokens.issue(main, "acme", "acme-admin")
    other_org = scim_tokens.issue(main, "borealis", "b-admin").token
    forged_for_acme = other_org.replace("h2scim_borealis_", "h2scim_acme_")
    for token in (old, forged_for_acme, f"h2scim_nobody_{'A' * 43}", "not-a-token", ""):
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            _call(f"Bearer {token}")


def test_scim_paths_arn_refuses_what_is_not_a_method_arn() -> None:
    with pytest.raises(ValueError, match="not a method ARN"):
        scim_authorizer.scim_paths_arn("nonsense")
