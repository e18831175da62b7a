"""API Gateway TOKEN authorizer: verify the bearer JWT before the API Lambda runs.

The decision is cached per token (5 minutes), so the policy allows the whole stage, not one route: what a
user may do on a route is the API's permission table's job. ``usageIdentifierKey`` picks the org's usage plan
(API key value = ``HETERO2_USAGE_KEY_PREFIX`` + org), so throttling and quotas at the gateway are per tenant.
The API Lambda verifies the token again itself: the authorizer is a gate, not the only check.
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any

from functions.api.auth import AuthConfig, TokenVerifier
from functions.api.errors import AuthenticationError
from functions.handlers.method_arn import stage_prefix
from functions.service import env
from functions.service.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@cache
def _verifier() -> TokenVerifier:
    return TokenVerifier(AuthConfig.from_env())


def stage_arn(method_arn: str) -> str:
    """``arn:aws:execute-api:region:account:api/stage/VERB/path`` → the same ARN for every verb and path."""
    return f"{stage_prefix(method_arn)}/*/*"


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        principal = _verifier().verify(str(event.get("authorizationToken", "")))
    except AuthenticationError as exc:
        logger.info("token refused", extra={"reason": str(exc)})
        metrics.add_metric(name="AuthorizerDenied", unit="Count", value=1)
        # API Gateway answers 401 for exactly this message
        raise Exception("Unauthorized") from exc
    metrics.add_metric(name="AuthorizerAllowed", unit="Count", value=1)
    return {
        "principalId": principal.user,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": stage_arn(str(event["methodArn"]))}
            ],
        },
        "context": {"org": principal.org, "user": principal.user},
        "usageIdentifierKey": os.environ.get(env.USAGE_KEY_PREFIX, "") + principal.org,
    }
