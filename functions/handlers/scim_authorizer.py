"""API Gateway TOKEN authorizer of ``/scim/v2``: the org's SCIM bearer token, checked against its stored hash.

One GetItem per uncached token. The policy allows only the stage's SCIM paths, so a SCIM token never reaches the
``/v1`` API even at the gateway (and a JWT never reaches SCIM: the JWT authorizer guards everything else).
``usageIdentifierKey`` puts the IdP's calls on its org's usage plan. The API Lambda checks the token again on
every request (:mod:`functions.scim.app`), so a rotated token stops at once whatever the gateway cached.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from functions.handlers.method_arn import stage_prefix
from functions.scim.paths import SCIM_BASE_PATH
from functions.service import env, scim_tokens
from functions.service.context import service_context
from functions.service.errors import ScimTokenError
from functions.service.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def scim_paths_arn(method_arn: str) -> str:
    """``arn:aws:execute-api:region:account:api/stage/VERB/path`` → every verb on the stage's SCIM paths."""
    return f"{stage_prefix(method_arn)}/*{SCIM_BASE_PATH}/*"


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    services = service_context()
    try:
        org = scim_tokens.verify(services.dynamodb.Table(services.settings.table), str(event.get("authorizationToken")))
    except ScimTokenError as exc:
        logger.info("SCIM token refused", extra={"reason": str(exc)})
        metrics.add_metric(name="ScimAuthorizerDenied", unit="Count", value=1)
        raise Exception("Unauthorized") from exc  # API Gateway answers 401 for exactly this message
    metrics.add_metric(name="ScimAuthorizerAllowed", unit="Count", value=1)
    return {
        "principalId": f"scim:{org}",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": scim_paths_arn(str(event["methodArn"])),
                }
            ],
        },
        "context": {"org": org, "user": "scim"},
        "usageIdentifierKey": os.environ.get(env.USAGE_KEY_PREFIX, "") + org,
    }
