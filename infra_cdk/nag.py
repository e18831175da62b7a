"""cdk-nag acknowledgements: each one on one construct, with a reason a security reviewer would accept.

Every reason lives in :data:`REASONS`, and ``docs/security.md`` lists them word for word (a
test holds the two together). IAM statements go through :func:`add_statement`, which refuses a wildcard
action outright and a wildcard resource without a named reason, so a new grant cannot widen access quietly.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

import aws_cdk as cdk
from aws_cdk import aws_iam as iam

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from constructs import Construct, IConstruct

RULE_PREFIX: Final = "AwsSolutions-"

REASONS: Final[dict[str, str]] = {
    "tenant-objects": (
        "Object ARNs end in a key wildcard below one configured tenant's prefix (tenants/ORG/...); S3 has no "
        "other way to name the objects a job will create, and each tenant's prefix is listed on its own."
    ),
    "xray": (
        "X-Ray PutTraceSegments and PutTelemetryRecords do not support resource-level permissions; AWS "
        "documents Resource '*' as the only form."
    ),
    "states-logs-xray": (
        "Step Functions logging uses CloudWatch Logs vended-delivery actions, and tracing uses X-Ray "
        "PutTraceSegments/PutTelemetryRecords; none of them supports resource-level permissions."
    ),
    "ecr-auth-token": (
        "ecr:GetAuthorizationToken does not support resource-level permissions; the image pull itself is "
        "limited to the one asset repository."
    ),
    "distributed-map-children": (
        "Distributed Map child executions get names chosen by Step Functions; the grant is limited to "
        "executions of this stack's own audit-job state machine."
    ),
    "job-executions": (
        "Executions are named by job id at run time; Describe/Stop are limited to executions of this "
        "stack's own audit-job state machine (the API cancels and reports on jobs)."
    ),
    "ecs-tasks-of-cluster": (
        "ECS task ARNs are created at run time; DescribeTasks/StopTask are limited to tasks of this stack's "
        "own worker cluster."
    ),
    "apigw-execution-logs": (
        "API Gateway names its execution-log groups API-Gateway-Execution-Logs_{api-id}/{stage} when it "
        "first logs, so writes are limited to that name prefix in this account and region; DescribeLogGroups "
        "(names only, no log data) needs the account's log-group ARN pattern."
    ),
    "audit-anchors": (
        "Anchors are named by org and chain position at run time (anchors/ORG/SEQ.json); the grant is limited "
        "to this stack's audit-anchor bucket, whose Object Lock (compliance mode) lets nothing be overwritten "
        "or deleted."
    ),
    "list-streams": (
        "dynamodb:ListStreams does not support resource-level permissions; reading stream records (DescribeStream, "
        "GetShardIterator, GetRecords) is limited to the audit table's own stream."
    ),
    "cognito-federated-only": (
        "The user pool only federates the customer's SAML IdP (no self sign-up; the app client offers the SAML "
        "provider only), so every sign-in is authenticated, and risk-assessed, by the customer's IdP; Cognito's "
        "threat protection (Plus feature plan) would only see federated sign-ins it cannot challenge."
    ),
    "access-log-bucket": (
        "This bucket is the server-access-log target of the artifact bucket; logging it into itself would "
        "loop, and S3 log delivery writes it with SSE-S3 only."
    ),
    "lambda-runtime": (
        "Pinned to python3.12, the version layers/build.sh builds the control-plane layer for and the worker "
        "image (public.ecr.aws/lambda/python:3.12) runs; all functions move to a newer runtime together."
    ),
    "oidc-authorizer": (
        "Customers sign in with their own OIDC identity provider; a Lambda TOKEN authorizer verifies the "
        "JWT (signature against the issuer's JWKS, issuer, audience, expiry) on every method instead of a "
        "Cognito user pool."
    ),
    "scim-authorizer": (
        "Identity providers provision users with the org's SCIM bearer token (RFC 7644 §2), not a Cognito user; "
        "a Lambda TOKEN authorizer checks it against the org's stored SHA-256 on every uncached call, and the "
        "API function checks it again on every request."
    ),
    "ecs-environment": (
        "The worker's environment holds resource names only (bucket, tables, key alias prefix), no secrets; "
        "the job's descriptor key is passed per run by the state machine as a container override."
    ),
    "dlq-is-dlq": (
        "This queue is itself the dead-letter queue of the EventBridge targets; a dead-letter queue of a "
        "dead-letter queue would only hide messages an operator must see (its depth has an alarm)."
    ),
    "web-geo": (
        "The web dashboard is static files (HTML, one script, one stylesheet) with no data in them; customers' "
        "staff sign in from wherever they work, and the API behind it enforces who may see what."
    ),
    "web-waf": (
        "A WAF web ACL for CloudFront must live in us-east-1 while this stack lives in the customer's region; "
        "the distribution serves static files only (GET/HEAD), and every data request goes to the API, which "
        "has its own regional web ACL."
    ),
    "web-cloudfront-logs": (
        "CloudFront standard logs need an ACL-enabled bucket, and this stack disables ACLs on every bucket; "
        "the distribution serves static files only, and the site bucket's S3 access log and the API's access "
        "log record every request that touches data."
    ),
    "web-default-certificate": (
        "The distribution uses CloudFront's default *.cloudfront.net certificate until the customer names a "
        "domain; CloudFront then cannot pin TLS 1.2, and HSTS plus HTTPS-only viewers keep browsers on TLS 1.2+."
    ),
}


def acknowledge(scope: IConstruct, rule: str, reason_key: str) -> None:
    """Acknowledge one cdk-nag finding on ``scope`` (and the resources under it) with a registered reason."""
    if not rule.startswith(RULE_PREFIX):
        raise ValueError(f"{rule!r} is not an {RULE_PREFIX} rule id")
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule, reason=REASONS[reason_key]))


def flatten_reference(node: Any) -> str:
    """A resolved CloudFormation value as cdk-nag spells it in a finding id (``<Logical.Attr>`` for tokens)."""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(flatten_reference(item) for item in items)
        if "Fn::Sub" in node:
            return flatten_reference(node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{flatten_reference(resource)}.{flatten_reference(attribute)}>"
        if "Fn::ImportValue" in node:
            return flatten_reference(node["Fn::ImportValue"])
        if "Ref" in node:
            return f"<{flatten_reference(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))


def wildcard_resources(scope: IConstruct, resources: Sequence[str]) -> Iterator[str]:
    """The finding suffixes (``Resource::...``) cdk-nag's IAM5 reports for these resources."""
    stack = cdk.Stack.of(scope)
    for resource in resources:
        flat = flatten_reference(stack.resolve(resource))
        if "*" in flat:
            yield f"Resource::{flat}"


def service_role(scope: Construct, construct_id: str, service: str, description: str) -> iam.Role:
    """A role one AWS service assumes, with no managed policy: what it may do is added by :func:`add_statement`."""
    return iam.Role(scope, construct_id, assumed_by=iam.ServicePrincipal(service), description=description)


def add_statement(
    role: iam.Role,
    *,
    actions: Sequence[str],
    resources: Sequence[str],
    wildcard_reason: str | None = None,
    conditions: dict[str, Any] | None = None,
) -> None:
    """Grant explicit actions on explicit resources; a resource wildcard needs a registered reason."""
    wild_actions = [action for action in actions if "*" in action]
    if wild_actions:
        raise ValueError(f"wildcard actions are not allowed: {wild_actions}")
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=list(actions), resources=list(resources), conditions=conditions)
    )
    for finding in wildcard_resources(role, resources):
        if wildcard_reason is None:
            raise ValueError(f"{finding} needs a wildcard_reason")
        acknowledge(role, f"{RULE_PREFIX}IAM5[{finding}]", wildcard_reason)


def acknowledge_wildcard(scope: IConstruct, resource: str, reason_key: str) -> None:
    """Acknowledge a wildcard resource that CDK itself put into a role's policy (X-Ray, vended logs, ...)."""
    for finding in wildcard_resources(scope, [resource]):
        acknowledge(scope, f"{RULE_PREFIX}IAM5[{finding}]", reason_key)
