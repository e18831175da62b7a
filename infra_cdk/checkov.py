"""checkov (an IaC policy suite we did not write) over our templates: each finding fixed, or skipped here.

A skip is template metadata on the one resource it concerns (``Metadata.checkov.skip``: check id and comment),
never a global suppression, and each comment is a reason from :data:`REASONS`, which ``docs/security.md`` lists
word for word (``tests/infra/test_checkov.py`` runs checkov and holds the two together). What is fixed instead of
skipped: CKV_AWS_116 for the functions EventBridge invokes asynchronously (they get the dead-letter queue).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3

from infra_cdk import nag

if TYPE_CHECKING:
    from constructs import IConstruct

# Invoked asynchronously (EventBridge): a failure after Lambda's own retries goes to the dead-letter queue.
ASYNC_FUNCTIONS: Final = frozenset({"DropTrigger", "Retention", "AuditAnchor", "Reconcile"})

REASONS: Final[dict[str, str]] = {
    "CKV_AWS_115": (
        "Reserved concurrency is set where a function can fan out (RunChunk, under the Distributed Map); the "
        "others are bounded upstream (API Gateway stage throttling and per-tenant usage plans, one scheduled "
        "run at a time, the state machine's MaxConcurrency), and reserving for each would carve the account's "
        "unreserved pool below the floor the config enforces."
    ),
    "CKV_AWS_116": (
        "Invoked synchronously (by API Gateway or as a Step Functions task) or by a stream's event source mapping: "
        "the caller receives the error and retries or catches it (the state machine marks the job failed; the "
        "audit stream's mapping retries, then sends the failed records to the dead-letter queue); a Lambda "
        "dead-letter queue only receives failed asynchronous invocations, so it would stay empty."
    ),
    "CKV_AWS_117": (
        "The function calls only AWS APIs (S3, DynamoDB, KMS, Step Functions), authorized by IAM and resource "
        "policies; a VPC would add NAT or interface endpoints and cold-start latency without narrowing what "
        "it can reach. The Fargate worker, which runs customer-supplied input at scale, runs in isolated "
        "subnets with VPC endpoints only."
    ),
    "CKV_AWS_173": (
        "The environment holds resource names and public settings only (bucket, tables, key alias prefix, "
        "issuer URL), never secrets; Lambda encrypts it at rest with the AWS managed key, and a customer "
        "managed key would add a KMS grant and call per cold start without protecting anything secret."
    ),
    "CKV_AWS_120": (
        "Every response is for one authenticated caller and changes with job state; an API Gateway cache keyed "
        "on the path could serve one caller's answer to another and stale state, so responses are never cached."
    ),
    "CKV_AWS_18": (
        "This bucket is the server-access-log target of the other buckets; logging it into itself would loop, "
        "and its objects are themselves the access log."
    ),
    # the web dashboard's distribution: the same answers cdk-nag's CloudFront rules get (one text each)
    "CKV_AWS_68": nag.REASONS["web-waf"],
    "CKV_AWS_86": nag.REASONS["web-cloudfront-logs"],
    "CKV_AWS_174": nag.REASONS["web-default-certificate"],
}


def skip(resource: cdk.CfnResource, check_id: str) -> None:
    """Skip one check on one resource, with its registered reason as the comment checkov records."""
    existing = resource.get_metadata("checkov") or {}
    skips = [*existing.get("skip", []), {"id": check_id, "comment": REASONS[check_id]}]
    resource.add_metadata("checkov", {"skip": skips})


def apply(stack: cdk.Stack, functions: dict[str, lambda_.Function], access_logs: s3.Bucket) -> None:
    """Skip, with their reasons, the checks this stack answers by design (the list in docs/security.md)."""
    for name, function in functions.items():
        cfn = _cfn(function)
        skip(cfn, "CKV_AWS_117")
        skip(cfn, "CKV_AWS_173")
        if not isinstance(cfn, lambda_.CfnFunction) or cfn.reserved_concurrent_executions is None:
            skip(cfn, "CKV_AWS_115")
        if name not in ASYNC_FUNCTIONS:
            skip(cfn, "CKV_AWS_116")
    skip(_cfn(access_logs), "CKV_AWS_18")
    for construct in stack.node.find_all():
        if isinstance(construct, apigateway.CfnStage):
            skip(construct, "CKV_AWS_120")
        if isinstance(construct, cloudfront.CfnDistribution):
            for check in ("CKV_AWS_68", "CKV_AWS_86", "CKV_AWS_174"):
                skip(construct, check)


def _cfn(construct: IConstruct) -> cdk.CfnResource:
    resource = construct.node.default_child
    if not isinstance(resource, cdk.CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource")
    return resource
