"""The public door: a regional REST API, a JWT-checking TOKEN authorizer on every method, usage plans, WAF.

REST API rather than HTTP API because only REST APIs take a WAF web ACL, usage plans with quotas and
per-client throttling; HTTP API's native JWT authorizer would have been the only gain. A TOKEN authorizer
therefore verifies the customer's OIDC tokens, and returns the org's usage-plan key so each tenant's plan
limits apply to it (API key source AUTHORIZER: clients never send or see an API key).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from functions.scim.paths import SCIM_BASE_PATH
from infra_cdk import contract, nag
from infra_cdk.compute import retained_log_group

if TYPE_CHECKING:
    from aws_cdk import aws_lambda as lambda_

    from infra_cdk.config import CustomerConfig
    from infra_cdk.data import DataStore
    from infra_cdk.foundation import Foundation

# The stage is the deployment, not the API version: routes carry their own /v1, so URLs read …/api/v1/orgs.
STAGE: Final = "api"
# A bearer JWT: three base64url parts; anything else is refused by API Gateway before the authorizer runs.
TOKEN_SHAPE: Final = r"^Bearer [-0-9A-Za-z_]+\.[-0-9A-Za-z_]+\.[-0-9A-Za-z_]*$"
# An org's SCIM bearer token (functions/service/scim_tokens.py): h2scim_{org}_{43 base64url characters}.
SCIM_TOKEN_SHAPE: Final = r"^Bearer h2scim_[a-z0-9][a-z0-9-]{0,62}_[-0-9A-Za-z_]{43}$"
# Not cached: a rotated SCIM token is refused at the gateway at once (IdP traffic is light).
SCIM_AUTHORIZER_CACHE: Final = cdk.Duration.seconds(0)
AUTHORIZER_CACHE: Final = cdk.Duration.minutes(5)
WAF_REQUESTS_PER_IP_PER_5_MIN: Final = 2000
MANAGED_RULE_GROUPS: Final = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)


@dataclass(frozen=True, slots=True)
class BearerDoor:
    """One way into the API: ``{proxy+}`` below ``path`` to the API function, behind a TOKEN authorizer that
    API Gateway calls only for an ``Authorization`` header of ``token_shape``."""

    path: str
    authorizer_id: str
    authorizer_function: str
    token_shape: str
    cache: cdk.Duration
    nag_reason: str


# The org's SCIM path is more specific than the root ``{proxy+}``: API Gateway routes SCIM there, and JWTs never reach
# it. Both lead to the same API function.
DOORS: Final = (
    BearerDoor("/", "JwtAuthorizer", "Authorizer", TOKEN_SHAPE, AUTHORIZER_CACHE, "oidc-authorizer"),
    BearerDoor(
        SCIM_BASE_PATH, "ScimAuthorizer", "ScimAuthorizer", SCIM_TOKEN_SHAPE, SCIM_AUTHORIZER_CACHE, "scim-authorizer"
    ),
)


def tenants_json(config: CustomerConfig) -> str:
    """The orgs this deployment serves, with the plan and retention the API gives them when they are created."""
    return json.dumps(
        {t.org: {"plan": t.plan, "retention_days": t.retention_days} for t in config.tenants}, sort_keys=True
    )


def usage_key_prefix(customer: str) -> str:
    """Usage-plan key values are this prefix + org id; they meter, they do not authenticate."""
    return f"hetero2-usage-key-{customer}-"


class Api(Construct):
    """REST API ``v1`` with access and execution logs, X-Ray, a web ACL and one usage plan per tenant."""

    def __init__(self, scope: Construct, construct_id: str, *, foundation: Foundation, state_machine_arn: str) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        config, data, compute = foundation.config, foundation.data, foundation.compute
        handler = compute.functions["Api"]
        authorizer_function = compute.functions["Authorizer"]
        oidc = {
            contract.env.JWT_ISSUER: config.oidc.issuer,
            contract.env.JWT_AUDIENCE: config.oidc.audience,
            contract.env.JWKS_URL: config.oidc.resolved_jwks_url,
            contract.env.GROUP_CLAIM: config.oidc.group_claim,
            contract.env.GROUP_ROLES: json.dumps(config.group_roles, sort_keys=True),
        }
        for name, value in oidc.items():
            handler.add_environment(name, value)
            authorizer_function.add_environment(name, value)
        handler.add_environment(contract.env.STATE_MACHINE_ARN, state_machine_arn)
        handler.add_environment(contract.env.TENANTS, tenants_json(config))
        for door in DOORS:
            compute.functions[door.authorizer_function].add_environment(
                contract.env.USAGE_KEY_PREFIX, usage_key_prefix(config.customer)
            )

        account = self._execution_log_role(stack)
        self.access_logs = retained_log_group(self, "AccessLogs", data.platform_key)
        rate = sum(tenant.limits.api_rate_per_second for tenant in config.tenants)
        burst = sum(tenant.limits.api_burst for tenant in config.tenants)
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=f"hetero2-{config.customer}",
            description=f"HETERO-2 API for {config.customer}",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=False,
            api_key_source_type=apigw.ApiKeySourceType.AUTHORIZER,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=True,
                tracing_enabled=True,
                throttling_rate_limit=rate,
                throttling_burst_limit=burst,
            ),
        )
        self.rest_api.node.add_dependency(account)
        validator = self.rest_api.add_request_validator(
            "RequestValidator", validate_request_body=True, validate_request_parameters=True
        )
        self.authorizers = {
            door.authorizer_id: self._door(door, handler, compute.functions[door.authorizer_function], validator)
            for door in DOORS
        }
        self._usage_plans(config)
        self.web_acl = self._web_acl(stack, config, data)

    def _door(
        self,
        door: BearerDoor,
        handler: lambda_.IFunction,
        authorizer_function: lambda_.IFunction,
        validator: apigw.RequestValidator,
    ) -> apigw.TokenAuthorizer:
        """The door's authorizer, and ``{proxy+}`` below its path: every method to the API function, behind it."""
        authorizer = apigw.TokenAuthorizer(
            self,
            door.authorizer_id,
            handler=authorizer_function,
            identity_source=apigw.IdentitySource.header("Authorization"),
            validation_regex=door.token_shape,
            results_cache_ttl=door.cache,
        )
        proxy = self.rest_api.root.resource_for_path(door.path).add_resource("{proxy+}")
        method = proxy.add_method(
            "ANY",
            apigw.LambdaIntegration(handler, proxy=True),
            authorizer=authorizer,
            authorization_type=apigw.AuthorizationType.CUSTOM,
            api_key_required=True,
            request_validator=validator,
        )
        nag.acknowledge(method, "AwsSolutions-COG4", door.nag_reason)
        return authorizer

    def _execution_log_role(self, stack: cdk.Stack) -> apigw.CfnAccount:
        """The regional API Gateway account setting: execution logs go to CloudWatch through this role."""
        role = nag.service_role(
            self,
            "ExecutionLogRole",
            "apigateway.amazonaws.com",
            "API Gateway writes execution logs of the HETERO-2 API",
        )
        groups = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name="API-Gateway-Execution-Logs_*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        nag.add_statement(
            role,
            actions=[
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:DescribeLogStreams",
                "logs:FilterLogEvents",
                "logs:GetLogEvents",
                "logs:PutLogEvents",
            ],
            resources=[groups, f"{groups}:log-stream:*"],
            wildcard_reason="apigw-execution-logs",
        )
        nag.add_statement(
            role,
            actions=["logs:DescribeLogGroups"],
            resources=[
                stack.format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name="*",
                    arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
            wildcard_reason="apigw-execution-logs",
        )
        return apigw.CfnAccount(self, "Account", cloud_watch_role_arn=role.role_arn)

    def _usage_plans(self, config: CustomerConfig) -> None:
        stage = self.rest_api.deployment_stage
        for tenant in config.tenants:
            limits = tenant.limits
            key = apigw.ApiKey(
                self,
                f"UsageKey-{tenant.org}",
                api_key_name=f"hetero2-{config.customer}-{tenant.org}",
                description=f"Meters org {tenant.org}; returned by the authorizer, never sent by clients",
                value=f"{usage_key_prefix(config.customer)}{tenant.org}",
                enabled=True,
            )
            plan = self.rest_api.add_usage_plan(
                f"UsagePlan-{tenant.org}",
                name=f"hetero2-{config.customer}-{tenant.org}-{tenant.plan}",
                description=f"Plan {tenant.plan} of org {tenant.org}",
                throttle=apigw.ThrottleSettings(rate_limit=limits.api_rate_per_second, burst_limit=limits.api_burst),
                quota=apigw.QuotaSettings(limit=limits.monthly_requests, period=apigw.Period.MONTH),
                api_stages=[apigw.UsagePlanPerApiStage(api=self.rest_api, stage=stage)],
            )
            plan.add_api_key(key)

    def _web_acl(self, stack: cdk.Stack, config: CustomerConfig, data: DataStore) -> wafv2.CfnWebACL:
        def visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
            return wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
            )

        rules = [
            wafv2.CfnWebACL.RuleProperty(
                name=group,
                priority=priority,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=group
                    )
                ),
                visibility_config=visibility(group),
            )
            for priority, group in enumerate(MANAGED_RULE_GROUPS)
        ]
        rules.append(
            wafv2.CfnWebACL.RuleProperty(
                name="RequestsPerIp",
                priority=len(rules),
                action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        limit=WAF_REQUESTS_PER_IP_PER_5_MIN, aggregate_key_type="IP"
                    )
                ),
                visibility_config=visibility("RequestsPerIp"),
            )
        )
        acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=visibility(f"hetero2-{config.customer}-api"),
            rules=rules,
        )
        wafv2.CfnWebACLAssociation(
            self, "WebAclAssociation", resource_arn=self.rest_api.deployment_stage.stage_arn, web_acl_arn=acl.attr_arn
        )
        log_name = f"aws-waf-logs-hetero2-{config.customer}"
        retained_log_group(self, "WafLogs", data.platform_key, name=log_name)
        waf_logging = wafv2.CfnLoggingConfiguration(
            self,
            "WafLogging",
            resource_arn=acl.attr_arn,
            log_destination_configs=[
                stack.format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name=log_name,
                    arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
            # Bearer tokens never reach the WAF logs.
            redacted_fields=[
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": "authorization"})
            ],
        )
        waf_logging.node.add_dependency(self.node.find_child("WafLogs"))
        return acl
