"""The service wiring: functions and image, the state machine, the API's authorizer, events and alarms."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import TYPE_CHECKING, Any

from aws_cdk import assertions

from functions.scim.paths import SCIM_BASE_PATH
from functions.service import deployment as sizing
from infra_cdk import contract
from infra_cdk.api import MANAGED_RULE_GROUPS, SCIM_TOKEN_SHAPE, TOKEN_SHAPE
from infra_cdk.assets import CHUNK_REQUIREMENTS, REPO_ROOT, WORKER_REQUIREMENTS
from infra_cdk.compute import (
    CONTROL_PLANE_FUNCTIONS,
    FARGATE_CODE_SERVICES,
    WORKER_FUNCTIONS,
    WORKER_GATEWAY_ENDPOINTS,
)
from infra_cdk.events import DROP_FOLDER_KEYS
from infra_cdk.nag import flatten_reference

if TYPE_CHECKING:
    from pathlib import Path

    from tests.infra.conftest import Json, Synthesized

ALL_HANDLERS = {spec.handler for spec in (*WORKER_FUNCTIONS, *CONTROL_PLANE_FUNCTIONS)}


def _functions_by_handler(synthesized: Synthesized, stack: str) -> dict[str, Json]:
    """Zip functions by Handler, image functions by their ImageConfig command."""
    found: dict[str, Json] = {}
    for function in synthesized.resources(stack, "AWS::Lambda::Function").values():
        properties = function["Properties"]
        handler = properties.get("Handler") or properties["ImageConfig"]["Command"][0]
        found[handler] = properties
    return found


def _only(resources: dict[str, Json]) -> tuple[str, Json]:
    assert len(resources) == 1, list(resources)
    return next(iter(resources.items()))


def test_one_stack_per_customer_region_in_its_account(synthesized: Synthesized) -> None:
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text(encoding="utf-8"))
    stacks = {
        name: artifact["environment"]
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    assert stacks == {name: f"aws://{config.account}/{config.region}" for name, config in synthesized.configs.items()}


def test_every_contract_handler_is_deployed(synthesized: Synthesized, stack: str) -> None:
    assert set(_functions_by_handler(synthesized, stack)) == ALL_HANDLERS


def test_run_chunk_and_the_chunk_tasks_run_the_lean_image_and_the_rest_share_the_full_one(
    synthesized: Synthesized, stack: str
) -> None:
    functions = _functions_by_handler(synthesized, stack)
    images = {spec.name: json.dumps(functions[spec.handler]["Code"]["ImageUri"]) for spec in WORKER_FUNCTIONS}
    tasks = {
        (str(task["Properties"]["Cpu"]), str(task["Properties"]["Memory"])): task
        for task in synthesized.resources(stack, "AWS::ECS::TaskDefinition").values()
    }
    finalize_task = tasks.pop((str(sizing.FARGATE_CPU), str(sizing.FARGATE_MEMORY_MIB)))
    (chunk_task,) = tasks.values()
    assert (chunk_task["Properties"]["Cpu"], chunk_task["Properties"]["Memory"]) == (
        str(sizing.FARGATE_CHUNK_CPU),
        str(sizing.FARGATE_CHUNK_MEMORY_MIB),
    )
    image = {}
    for name, task in (("finalize", finalize_task), ("chunk", chunk_task)):
        (container,) = task["Properties"]["ContainerDefinitions"]
        image[name] = json.dumps(container["Image"])
        assert container["Name"] == contract.WORKER_CONTAINER_NAME
        assert (*container["EntryPoint"], *container["Command"]) == contract.FARGATE_WORKER_COMMAND
        assert container["LogConfiguration"]["LogDriver"] == "awslogs"
        assert task["Properties"]["RequiresCompatibilities"] == ["FARGATE"]
    assert images["Plan"] == images["Finalize"] == image["finalize"] != images["RunChunk"] == image["chunk"]
    manifest = json.loads((synthesized.outdir / f"{stack}.assets.json").read_text(encoding="utf-8"))
    targets = sorted(image["source"].get("dockerBuildTarget", "") for image in manifest["dockerImages"].values())
    # one asset per target: the chunk image for RunChunk and the chunk tasks, the full one for the rest
    assert targets == sorted([contract.CHUNK_IMAGE_TARGET, contract.FULL_IMAGE_TARGET])


def test_worker_image_context_is_the_engine_and_service_only(synthesized: Synthesized, stack: str) -> None:
    manifest = json.loads((synthesized.outdir / f"{stack}.assets.json").read_text(encoding="utf-8"))
    for image in manifest["dockerImages"].values():
        context = synthesized.outdir / image["source"]["directory"]
        assert sorted(path.name for path in context.iterdir()) == ["functions", "hetero_core"]
        assert (context / contract.WORKER_DOCKERFILE).is_file()
        assert (context / WORKER_REQUIREMENTS).is_file()
        assert (context / CHUNK_REQUIREMENTS).is_file()
        assert not list(context.rglob("__pycache__"))


def _control_plane_asset(synthesized: Synthesized, stack: str) -> Path:
    functions = _functions_by_handler(synthesized, stack)
    keys = {functions[spec.handler]["Code"]["S3Key"] for spec in CONTROL_PLANE_FUNCTIONS}
    assert len(keys) == 1
    return synthesized.outdir / f"asset.{next(iter(keys)).removesuffix('.zip')}"


def test_control_plane_zip_holds_only_the_python_packages(synthesized: Synthesized, stack: str) -> None:
    asset = _control_plane_asset(synthesized, stack)
    assert sorted(path.name for path in asset.iterdir()) == ["functions", "hetero_core"]
    assert not (asset / contract.WORKER_DOCKERFILE).exists()
    assert not (asset / WORKER_REQUIREMENTS).exists()
    assert not list(asset.rglob("*.pyc"))


def test_control_plane_zip_has_every_first_party_module_its_handlers_import(synthesized: Synthesized) -> None:
    """What the handlers import from this repository must be in the zip (the layer holds only third parties)."""
    present = [
        spec.handler.rsplit(".", 1)[0]
        for spec in CONTROL_PLANE_FUNCTIONS
        if (REPO_ROOT / (spec.handler.rsplit(".", 1)[0].replace(".", "/") + ".py")).is_file()
    ]
    probe = (
        "import importlib, json, sys\n"
        f"for name in {present!r}: importlib.import_module(name)\n"
        "files = {m.split('.')[0]: getattr(mod, '__file__', None) or '' for m, mod in sys.modules.items()}\n"
        "print(json.dumps(files))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    files: dict[str, str] = json.loads(result.stdout)
    first_party = {
        name for name, path in files.items() if path.startswith(str(REPO_ROOT)) and "site-packages" not in path
    }
    assert "functions" in first_party
    asset = _control_plane_asset(synthesized, next(iter(synthesized.templates)))
    assert first_party <= {path.name for path in asset.iterdir()}
    assert not {"rdkit", "numpy"} & set(files), "the control-plane layer has no RDKit or NumPy"


def test_control_plane_functions_carry_the_layer(synthesized: Synthesized, stack: str) -> None:
    functions = _functions_by_handler(synthesized, stack)
    layer, _ = _only(synthesized.resources(stack, "AWS::Lambda::LayerVersion"))
    for spec in CONTROL_PLANE_FUNCTIONS:
        assert functions[spec.handler]["Layers"] == [{"Ref": layer}]
        assert functions[spec.handler]["Runtime"] == "python3.12"


def test_chunk_worker_reserves_what_the_plans_pay_for(synthesized: Synthesized, stack: str) -> None:
    config = synthesized.configs[stack]
    run_chunk = _functions_by_handler(synthesized, stack)[contract.RUN_CHUNK_HANDLER]
    assert run_chunk["ReservedConcurrentExecutions"] == config.chunk_concurrency
    assert run_chunk["Environment"]["Variables"][contract.env.MAX_CONCURRENCY] == str(config.chunk_concurrency)
    assert run_chunk["Timeout"] < 900, "Lambda gives up before the state machine's task timeout"


def test_functions_are_traced_and_get_the_contract_environment(synthesized: Synthesized, stack: str) -> None:
    functions = _functions_by_handler(synthesized, stack)
    for handler, function in functions.items():
        assert function["TracingConfig"] == {"Mode": "Active"}, handler
        variables = function["Environment"]["Variables"]
        for name in (contract.env.BUCKET, contract.env.TABLE, contract.env.AUDIT_TABLE, contract.env.KMS_ALIAS_PREFIX):
            assert name in variables, (handler, name)
        assert variables["POWERTOOLS_SERVICE_NAME"] == "hetero2"
    plan = functions[contract.PLAN_HANDLER]["Environment"]["Variables"]
    assert {contract.env.WORKER_SUBNETS, contract.env.WORKER_SECURITY_GROUPS, contract.env.FARGATE_MIN_ROWS} <= set(
        plan
    )
    oidc = synthesized.configs[stack].oidc
    for handler in (contract.API_HANDLER, contract.AUTHORIZER_HANDLER):
        variables = functions[handler]["Environment"]["Variables"]
        assert variables[contract.env.JWT_ISSUER] == oidc.issuer
        assert variables[contract.env.JWT_AUDIENCE] == oidc.audience
        assert variables[contract.env.JWKS_URL] == oidc.resolved_jwks_url
    for handler in (contract.API_HANDLER, contract.DROP_TRIGGER_HANDLER):
        assert contract.env.STATE_MACHINE_ARN in functions[handler]["Environment"]["Variables"]


def test_state_machine_is_inline_substituted_logged_and_traced(synthesized: Synthesized, stack: str) -> None:
    _, machine = _only(synthesized.resources(stack, "AWS::StepFunctions::StateMachine"))
    properties = machine["Properties"]
    definition = properties["DefinitionString"]
    assert isinstance(definition, str), "inline, so cfn-lint validates the ASL"
    states = json.loads(definition)["States"]
    assert {"Plan", "ChooseExecutor", "ProcessChunks", "ProcessChunksOnFargate", "Finalize", "MarkFailed"} <= set(
        states
    )
    assert set(properties["DefinitionSubstitutions"]) == set(contract.ASL_SUBSTITUTIONS)
    assert properties["DefinitionSubstitutions"][contract.SUB_CONTAINER] == contract.WORKER_CONTAINER_NAME
    assert properties["LoggingConfiguration"]["Level"] == "ALL"
    assert properties["TracingConfiguration"] == {"Enabled": True}


def test_every_api_method_requires_the_jwt_authorizer_and_a_usage_key(synthesized: Synthesized, stack: str) -> None:
    """Every method but SCIM's takes the JWT authorizer; SCIM's takes the SCIM token's (next test)."""
    authorizers = _authorizers_by_token_shape(synthesized, stack)
    jwt_authorizer = authorizers[TOKEN_SHAPE]
    methods = synthesized.resources(stack, "AWS::ApiGateway::Method")
    scim_methods = _scim_methods(synthesized, stack)
    assert methods
    for method_id, method in methods.items():
        assert method["Properties"]["AuthorizationType"] == "CUSTOM"
        if method_id not in scim_methods:
            assert method["Properties"]["AuthorizerId"] == {"Ref": jwt_authorizer}
        assert method["Properties"]["ApiKeyRequired"] is True
    _, api = _only(synthesized.resources(stack, "AWS::ApiGateway::RestApi"))
    assert api["Properties"]["ApiKeySourceType"] == "AUTHORIZER"


def test_scim_routes_have_their_own_token_authorizer_that_reads_only_the_token_hash(
    synthesized: Synthesized, stack: str
) -> None:
    authorizers = _authorizers_by_token_shape(synthesized, stack)
    scim_authorizer = authorizers[SCIM_TOKEN_SHAPE]
    properties = synthesized.resources(stack, "AWS::ApiGateway::Authorizer")[scim_authorizer]["Properties"]
    assert properties["Type"] == "TOKEN"
    assert properties["IdentitySource"] == "method.request.header.Authorization"
    assert properties["AuthorizerResultTtlInSeconds"] == 0  # a rotated token is refused at once
    assert re.fullmatch(SCIM_TOKEN_SHAPE.strip("^$"), "Bearer h2scim_acme_" + "A" * 43)
    assert not re.fullmatch(SCIM_TOKEN_SHAPE.strip("^$"), "Bearer a.b.c")
    (method,) = _scim_methods(synthesized, stack).values()
    assert method["Properties"]["HttpMethod"] == "ANY"
    assert method["Properties"]["AuthorizerId"] == {"Ref": scim_authorizer}
    assert method["Properties"]["ApiKeyRequired"] is True
    function_id = next(
        name
        for name, function in synthesized.resources(stack, "AWS::Lambda::Function").items()
        if function["Properties"].get("Handler") == contract.SCIM_AUTHORIZER_HANDLER
    )
    assert function_id in json.dumps(properties["AuthorizerUri"])
    role = synthesized.resources(stack, "AWS::Lambda::Function")[function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    actions = {
        action
        for policy in synthesized.resources(stack, "AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    assert {a for a in actions if a.startswith("dynamodb:")} == {"dynamodb:GetItem"}


def _authorizers_by_token_shape(synthesized: Synthesized, stack: str) -> dict[str, str]:
    found = synthesized.resources(stack, "AWS::ApiGateway::Authorizer")
    shapes = {a["Properties"]["IdentityValidationExpression"]: name for name, a in found.items()}
    assert set(shapes) == {TOKEN_SHAPE, SCIM_TOKEN_SHAPE}
    return shapes


def _scim_methods(synthesized: Synthesized, stack: str) -> dict[str, Any]:
    """The methods on /scim/v2/{proxy+} (a resource chain scim → v2 → {proxy+})."""
    resources = synthesized.resources(stack, "AWS::ApiGateway::Resource")

    def path(resource_id: str) -> str:
        resource = resources[resource_id]["Properties"]
        parent = resource["ParentId"]
        prefix = path(parent["Ref"]) if isinstance(parent, dict) and "Ref" in parent else ""
        return f"{prefix}/{resource['PathPart']}"

    return {
        name: method
        for name, method in synthesized.resources(stack, "AWS::ApiGateway::Method").items()
        if path(method["Properties"]["ResourceId"]["Ref"]) == f"{SCIM_BASE_PATH}/{{proxy+}}"
    }


def test_api_stage_logs_traces_throttles_and_sits_behind_waf(synthesized: Synthesized, stack: str) -> None:
    stage_id, stage = _only(synthesized.resources(stack, "AWS::ApiGateway::Stage"))
    properties = stage["Properties"]
    assert "DestinationArn" in properties["AccessLogSetting"]
    (settings,) = properties["MethodSettings"]
    assert settings["LoggingLevel"] == "ERROR"
    assert settings["DataTraceEnabled"] is False
    assert settings["ThrottlingRateLimit"] > 0
    assert properties["TracingEnabled"] is True
    _, association = _only(synthesized.resources(stack, "AWS::WAFv2::WebACLAssociation"))
    assert stage_id in json.dumps(association["Properties"]["ResourceArn"])
    _, acl = _only(synthesized.resources(stack, "AWS::WAFv2::WebACL"))
    groups = {
        rule["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for rule in acl["Properties"]["Rules"]
        if "ManagedRuleGroupStatement" in rule["Statement"]
    }
    assert groups == set(MANAGED_RULE_GROUPS)
    assert any("RateBasedStatement" in rule["Statement"] for rule in acl["Properties"]["Rules"])
    _, logging = _only(synthesized.resources(stack, "AWS::WAFv2::LoggingConfiguration"))
    assert logging["Properties"]["RedactedFields"] == [{"SingleHeader": {"Name": "authorization"}}]


def test_each_tenant_has_a_usage_plan_with_its_plan_limits(synthesized: Synthesized, stack: str) -> None:
    config = synthesized.configs[stack]
    view = synthesized.view(stack)
    view.resource_count_is("AWS::ApiGateway::UsagePlan", len(config.tenants))
    for tenant in config.tenants:
        limits = tenant.limits
        view.has_resource_properties(
            "AWS::ApiGateway::UsagePlan",
            {
                "UsagePlanName": assertions.Match.string_like_regexp(f"-{tenant.org}-{tenant.plan}$"),
                "Throttle": {"RateLimit": limits.api_rate_per_second, "BurstLimit": limits.api_burst},
                "Quota": {"Limit": limits.monthly_requests, "Period": "MONTH"},
            },
        )


def test_drop_folder_files_reach_the_trigger_with_retries_and_dead_letters(
    synthesized: Synthesized, stack: str
) -> None:
    rules = synthesized.resources(stack, "AWS::Events::Rule")
    patterns = [rule["Properties"]["EventPattern"] for rule in rules.values() if "EventPattern" in rule["Properties"]]
    (pattern,) = [p for p in patterns if p["source"] == ["aws.s3"]]
    assert pattern["source"] == ["aws.s3"]
    assert pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["object"]["key"] == [{"wildcard": DROP_FOLDER_KEYS}]
    schedules = [
        rule["Properties"]["ScheduleExpression"]
        for rule in rules.values()
        if "ScheduleExpression" in rule["Properties"]
    ]
    # retention daily, audit anchors hourly, the job queue sweep every 5 minutes
    assert sorted(schedules) == ["cron(17 3 * * ? *)", "rate(1 hour)", "rate(5 minutes)"]
    queue, _ = _only(synthesized.resources(stack, "AWS::SQS::Queue"))
    for rule in rules.values():
        if "EventBusName" in rule["Properties"]:
            continue  # the audit bus's forwarding rules (test_siem_and_sso.py)
        (target,) = rule["Properties"]["Targets"]
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue, "Arn"]}}
        assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    # and a run that fails after Lambda's own async retries reaches the same queue (checkov CKV_AWS_116)
    functions = synthesized.resources(stack, "AWS::Lambda::Function")
    dead_lettered = [f for f in functions.values() if "DeadLetterConfig" in f["Properties"]]
    assert len(dead_lettered) == 4  # the asynchronous ones: DropTrigger, Retention, AuditAnchor, Reconcile
    assert all(
        f["Properties"]["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [queue, "Arn"]}} for f in dead_lettered
    )


def test_executions_that_end_reach_the_reconcile_function(synthesized: Synthesized, stack: str) -> None:
    """Step Functions skips the Catch on TIMED_OUT and ABORTED: this rule is how such a job still ends; every end
    (SUCCEEDED too) also moves the job queue."""
    template = synthesized.templates[stack]
    rules = synthesized.resources(stack, "AWS::Events::Rule")
    (rule,) = [r for r in rules.values() if r["Properties"].get("EventPattern", {}).get("source") == ["aws.states"]]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["detail-type"] == ["Step Functions Execution Status Change"]
    assert sorted(pattern["detail"]["status"]) == ["ABORTED", "FAILED", "SUCCEEDED", "TIMED_OUT"]
    (machine,) = synthesized.resources(stack, "AWS::StepFunctions::StateMachine")
    assert pattern["detail"]["stateMachineArn"] == [{"Ref": machine}]
    (target,) = rule["Properties"]["Targets"]
    function = template["Resources"][target["Arn"]["Fn::GetAtt"][0]]
    assert function["Properties"]["Handler"] == contract.RECONCILE_HANDLER
    definition = json.dumps(template["Resources"][machine]["Properties"]["DefinitionString"])
    assert '\\"TimeoutSeconds\\": 43200' in definition or '\\"TimeoutSeconds\\":43200' in definition


def test_a_sweep_moves_the_job_queue_every_five_minutes(synthesized: Synthesized, stack: str) -> None:
    template = synthesized.templates[stack]
    rules = synthesized.resources(stack, "AWS::Events::Rule").values()
    (sweep,) = [r for r in rules if r["Properties"].get("ScheduleExpression") == "rate(5 minutes)"]
    (target,) = sweep["Properties"]["Targets"]
    function = template["Resources"][target["Arn"]["Fn::GetAtt"][0]]
    assert function["Properties"]["Handler"] == contract.RECONCILE_HANDLER


def test_dispatchers_may_start_jobs_and_use_the_queue_partition_only(synthesized: Synthesized, stack: str) -> None:
    """Whoever releases a slot dispatches: they start executions, know the cap, and reach pk=QUEUE (and no other
    partition outside their tenants')."""
    functions = _functions_by_handler(synthesized, stack)
    for handler in (contract.FINALIZE_HANDLER, contract.MARK_FAILED_HANDLER, contract.RECONCILE_HANDLER):
        variables = functions[handler]["Environment"]["Variables"]
        assert contract.env.STATE_MACHINE_ARN in variables, handler
        assert int(variables[contract.env.MAX_RUNNING_JOBS]) >= 1, handler
    queue_grants = [
        statement
        for policy in synthesized.resources(stack, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement.get("Condition", {}).get("ForAllValues:StringEquals", {}).get("dynamodb:LeadingKeys") == ["QUEUE"]
    ]
    assert len(queue_grants) == 6  # Api, DropTrigger, Finalize, FargateWorker, MarkFailed, Reconcile
    for statement in queue_grants:
        assert "dynamodb:Scan" not in statement["Action"]


def test_the_worker_cluster_offers_fargate_spot_and_fargate(synthesized: Synthesized, stack: str) -> None:
    (association,) = synthesized.resources(stack, "AWS::ECS::ClusterCapacityProviderAssociations").values()
    assert set(association["Properties"]["CapacityProviders"]) == {"FARGATE", "FARGATE_SPOT"}
    definitions = synthesized.resources(stack, "AWS::ECS::TaskDefinition").values()
    assert len(definitions) == 2  # the finalize task and the chunk tasks
    for definition in definitions:
        assert definition["Properties"]["RuntimePlatform"]["CpuArchitecture"] == "X86_64", "Spot runs x86_64 only"


def test_each_failure_mode_has_its_alarm(synthesized: Synthesized, stack: str) -> None:
    metrics = {(namespace, name) for namespace, name, _ in _alarm_metrics(synthesized, stack)}
    for name in ("ChunksFailed", "JobsReconciled", "AwsThrottles"):
        assert ("Hetero2", name) in metrics, name
    assert ("AWS/States", "ExecutionsTimedOut") in metrics
    assert ("AWS/States", "ExecutionsAborted") in metrics


def _alarm_metrics(synthesized: Synthesized, stack: str) -> list[tuple[str, str, Any]]:
    return [
        (
            alarm["Properties"]["Namespace"],
            alarm["Properties"]["MetricName"],
            alarm["Properties"].get("ExtendedStatistic") or alarm["Properties"].get("Statistic"),
        )
        for alarm in synthesized.resources(stack, "AWS::CloudWatch::Alarm").values()
    ]


def test_alarms_cover_failed_jobs_errors_throttles_slow_chunks_and_the_api(
    synthesized: Synthesized, stack: str
) -> None:
    metrics = _alarm_metrics(synthesized, stack)
    function_count = len(WORKER_FUNCTIONS) + len(CONTROL_PLANE_FUNCTIONS)
    assert ("AWS/States", "ExecutionsFailed", "Sum") in metrics
    assert metrics.count(("AWS/Lambda", "Errors", "Sum")) == function_count
    assert metrics.count(("AWS/Lambda", "Throttles", "Sum")) == function_count
    assert ("AWS/Lambda", "Duration", "p95") in metrics
    assert ("AWS/ApiGateway", "5XXError", "Sum") in metrics
    assert ("AWS/ApiGateway", "Latency", "p95") in metrics
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum") in metrics


def test_every_alarm_notifies_the_encrypted_topic(synthesized: Synthesized, stack: str) -> None:
    topic, properties = _only(synthesized.resources(stack, "AWS::SNS::Topic"))
    assert "KmsMasterKeyId" in properties["Properties"]
    for alarm in synthesized.resources(stack, "AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic}]
    synthesized.view(stack).resource_count_is("AWS::CloudWatch::Dashboard", 1)
    emails = synthesized.configs[stack].alarm_emails
    synthesized.view(stack).resource_count_is("AWS::SNS::Subscription", len(emails))


def test_fargate_worker_has_no_way_out_but_vpc_endpoints(synthesized: Synthesized, stack: str) -> None:
    view = synthesized.view(stack)
    view.resource_count_is("AWS::EC2::InternetGateway", 0)
    view.resource_count_is("AWS::EC2::NatGateway", 0)
    view.resource_count_is("AWS::EC2::FlowLog", 1)
    endpoints = synthesized.resources(stack, "AWS::EC2::VPCEndpoint").values()
    services = [flatten_reference(endpoint["Properties"]["ServiceName"]) for endpoint in endpoints]
    suffixes = sorted(service.rsplit(".", 1)[-1] for service in services)
    assert suffixes == ["api", "dkr", "dynamodb", "kms", "logs", "s3"]


def test_every_service_the_fargate_code_calls_has_an_endpoint_in_the_worker_vpc(
    synthesized: Synthesized, stack: str
) -> None:
    """FARGATE_CODE_SERVICES is what the task's code was recorded calling (tests/service/test_fargate_worker.py):
    S3 and DynamoDB through gateway endpoints, everything else (KMS) through a private-DNS interface endpoint."""
    routes: dict[str, dict[str, Any]] = {}
    for endpoint in synthesized.resources(stack, "AWS::EC2::VPCEndpoint").values():
        properties = endpoint["Properties"]
        routes[flatten_reference(properties["ServiceName"]).rsplit(".", 1)[-1]] = properties
    for service in sorted(FARGATE_CODE_SERVICES):
        assert service in routes, f"the Fargate code calls {service} but the worker subnets have no route to it"
        properties = routes[service]
        if service in WORKER_GATEWAY_ENDPOINTS:
            assert properties["VpcEndpointType"] == "Gateway"
        else:
            assert properties["VpcEndpointType"] == "Interface"
            assert properties["PrivateDnsEnabled"] is True


def test_no_asset_ships_the_local_server(synthesized: Synthesized) -> None:
    """The control-plane zip and the worker image context carry the handlers, never ``hetero2 serve``."""
    staged = [folder for folder in synthesized.outdir.glob("asset.*") if (folder / "functions").is_dir()]
    assert len(staged) >= 2
    for folder in staged:
        assert (folder / "functions" / "handlers" / "fargate_worker.py").is_file()
        assert not (folder / "functions" / "local").exists()
        assert not (folder / "functions" / "local_server.py").exists()


def test_the_state_machine_runs_exactly_the_two_worker_task_definitions(synthesized: Synthesized, stack: str) -> None:
    """RunTask on the finalize task and the chunk tasks, in the worker cluster only; both pass the one task role
    and the one execution role (the chunk task reuses the finalize task's)."""
    definitions = set(synthesized.resources(stack, "AWS::ECS::TaskDefinition"))
    statements = [
        statement
        for policy in synthesized.resources(stack, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    (run_task,) = [s for s in statements if s["Action"] == "ecs:RunTask" or s["Action"] == ["ecs:RunTask"]]
    assert {resource["Ref"] for resource in run_task["Resource"]} == definitions
    assert "ecs:cluster" in run_task["Condition"]["ArnEquals"]
    (pass_role,) = [s for s in statements if s["Action"] == "iam:PassRole" or s["Action"] == ["iam:PassRole"]]
    execution_roles = {
        task["Properties"]["ExecutionRoleArn"]["Fn::GetAtt"][0]
        for task in synthesized.resources(stack, "AWS::ECS::TaskDefinition").values()
    }
    assert len(execution_roles) == 1
    assert {resource["Fn::GetAtt"][0] for resource in pass_role["Resource"]} >= execution_roles
