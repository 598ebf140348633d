"""The stack's workloads wiring: names, outputs, IAM, network paths, both flag sides.

Builds three stacks once: the two real configs (production: VPC endpoints;
staging: NAT) and a variant with PROVISIONED tables and an on-demand base.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import at, data_sources, logical_id, ref, resources, synth_stack, merged_environment, synth_layers

PROJECT = Path(__file__).resolve().parents[1]
CI_OUTPUTS = (
    "ecr_api_repository_url", "ecr_worker_repository_url", "api_cluster_name", "worker_cluster_name",
    "api_service_name", "worker_service_name", "api_task_definition_family", "worker_task_definition_family",
    "sqs_queue_url", "jobs_table_name", "conversations_table_name", "cloud_map_service_arn",
)  # fmt: skip
PREFIXES = {"production": "circle-of-trust", "staging": "circle-of-trust-staging", "variant": "circle-of-trust-variant"}
# The API's service: both shipped configs release through the canary (CodeDeploy's api-blue-green); the variant keeps
# the seed's rolling api-service (both sides: tests/test_environment_stack_release.py).
API_SERVICES = {"production": "api-blue-green", "staging": "api-blue-green", "variant": "api-service"}
API_SERVICE_PATHS = {"production": "api-blue-green/service", "staging": "api-blue-green/service", "variant": "api-service"}
# Actions with no resource-level permissions: registry login, task-definition reads and
# registration (the deploy role), X-Ray writes (the ECR-push updater's tracing).
STAR_RESOURCE_ACTIONS = {
    "ecr:GetAuthorizationToken", "ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions",
    "xray:PutTelemetryRecords", "xray:PutTraceSegments",
    # API Gateway's CloudWatch role lists the region's log groups (names and settings).
    "logs:DescribeLogGroups",
    # CodeDeploy's role creates task sets (held to the service by ecs:service) and reads the release ALB:
    # no resource-level permissions.
    "ecs:CreateTaskSet",
    "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth",
}  # fmt: skip
TOKEN = re.compile(r"^\$\{([a-z0-9_.]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}$")


@pytest.fixture(scope="module")
def docs() -> dict[str, dict]:
    from stacks.config import EnvironmentConfig, load_configs

    configs = load_configs([PROJECT / "config" / "production.tfvars", PROJECT / "config" / "staging.tfvars"])
    configs.append(
        EnvironmentConfig(
            environment="variant",
            s3_frontend_bucket="circle-of-trust-frontend-variant",
            dynamodb_billing_mode="PROVISIONED",
            worker_on_demand_base=2,
            api_container_port=9000,
            worker_release_alarms=False,
        )
    )
    layers = synth_layers(configs)
    return {config.environment: merged_environment(layers[config.environment]) for config in configs}


def statements_of(doc: dict, policy_ref: str) -> list[dict]:
    """Statements of the policy document a `${data.aws_iam_policy_document.X.json}` points at."""
    match = TOKEN.match(policy_ref)
    assert match and match.group(1) == "data.aws_iam_policy_document", policy_ref
    return data_sources(doc, "aws_iam_policy_document")[match.group(2)]["statement"]


def role_policies(doc: dict, role_name: str) -> dict[str, list[dict]]:
    """Inline policy name -> statements, for the role named ``role_name``."""
    roles = resources(doc, "aws_iam_role")
    (role_id,) = [key for key, role in roles.items() if role["name"] == role_name]
    return {
        policy["name"]: statements_of(doc, policy["policy"])
        for policy in resources(doc, "aws_iam_role_policy").values()
        if policy["role"] == ref(doc, "aws_iam_role", role_id, "id")
    }


def by_name(doc: dict, resource_type: str, name: str, key: str = "name") -> tuple[str, dict]:
    (found,) = [(rid, item) for rid, item in resources(doc, resource_type).items() if item.get(key) == name]
    return found


def name_ref(doc: dict, resource_type: str, name: str, attribute: str, key: str = "name") -> str:
    return ref(doc, resource_type, by_name(doc, resource_type, name, key)[0], attribute)


# -- names and outputs -------------------------------------------------------------------
@pytest.mark.parametrize("env", ["production", "staging"])
def test_resource_names_follow_the_seed(docs, env):
    doc, prefix = docs[env], PREFIXES[env]
    assert sorted(c["name"] for c in resources(doc, "aws_ecs_cluster").values()) == [f"{prefix}-api", f"{prefix}-workers"]
    assert sorted(s["name"] for s in resources(doc, "aws_ecs_service").values()) == [API_SERVICES[env], "worker-service"]
    assert sorted(t["family"] for t in resources(doc, "aws_ecs_task_definition").values()) == [f"{prefix}-api", f"{prefix}-worker"]
    assert sorted(r["name"] for r in resources(doc, "aws_ecr_repository").values()) == [f"{prefix}-api", f"{prefix}-worker"]
    assert sorted(t["name"] for t in resources(doc, "aws_dynamodb_table").values()) == [f"{prefix}-conversations", f"{prefix}-jobs"]
    updater_dlq = [f"{prefix}-ecs-updater-dlq"] if env == "staging" else []  # staging enables the ECR-push updater
    assert sorted(q["name"] for q in resources(doc, "aws_sqs_queue").values()) == sorted([f"{prefix}-jobs", f"{prefix}-jobs-dlq", *updater_dlq])
    groups = {g["name"] for g in resources(doc, "aws_cloudwatch_log_group").values()}
    assert {f"/ecs/{prefix}-api", f"/ecs/{prefix}-worker"} <= groups
    # The app's credentials, and the origin-verify token (the edge's authorizer reads it; no value from Terraform).
    assert sorted(s["name"] for s in resources(doc, "aws_secretsmanager_secret").values()) == [f"{prefix}/app", f"{prefix}/origin-verify"]
    assert [n["name"] for n in resources(doc, "aws_service_discovery_private_dns_namespace").values()] == [f"{prefix}.local"]
    assert [s["name"] for s in resources(doc, "aws_service_discovery_service").values()] == ["api-service"]
    assert sorted(a["name"] for a in resources(doc, "aws_kms_alias").values()) == [
        f"alias/{prefix}-{purpose}"
        # staging enables the ECR-push updater, production (production-like) AWS Backup: each has its own key
        for purpose in sorted(("alarms", "cloudtrail", "ecr", "logs", "queue", "secrets", "tables", *(("ecs-updater",) if env == "staging" else ("backup",))))
    ]


@pytest.mark.parametrize("env", ["production", "staging"])
def test_ci_outputs_exist_with_their_exact_names(docs, env):
    doc = docs[env]
    outputs = doc["output"]
    assert set(CI_OUTPUTS) <= set(outputs)
    assert outputs["ecr_api_repository_url"]["value"] == name_ref(doc, "aws_ecr_repository", f"{PREFIXES[env]}-api", "repository_url")
    assert outputs["sqs_queue_url"]["value"] == name_ref(doc, "aws_sqs_queue", f"{PREFIXES[env]}-jobs", "url")
    assert outputs["jobs_table_name"]["value"] == name_ref(doc, "aws_dynamodb_table", f"{PREFIXES[env]}-jobs", "name")
    assert outputs["api_task_definition_family"]["value"] == name_ref(doc, "aws_ecs_task_definition", f"{PREFIXES[env]}-api", "family", key="family")
    assert outputs["cloud_map_service_arn"]["value"] == name_ref(doc, "aws_service_discovery_service", "api-service", "arn")
    assert outputs["api_service_name"]["value"] == name_ref(doc, "aws_ecs_service", API_SERVICES[env], "name")
    assert all(outputs[name]["description"] for name in CI_OUTPUTS)


# -- IAM ------------------------------------------------------------------------------------
def _key_policy_documents(doc: dict) -> set[str]:
    return {TOKEN.match(key["policy"]).group(2) for key in resources(doc, "aws_kms_key").values()}


@pytest.mark.parametrize("env", ["production", "staging", "variant"])
def test_no_policy_document_grants_wildcard_actions_or_star_resources(docs, env):
    doc = docs[env]
    key_policies = _key_policy_documents(doc)
    documents = data_sources(doc, "aws_iam_policy_document")
    assert len(documents) > 15
    for document_id, document in documents.items():
        for statement in document["statement"]:
            where = f"{document_id} {statement.get('sid', '')}"
            if statement.get("effect") == "Deny":
                conditions = {(c["test"], c["variable"], tuple(c["values"])) for c in statement["condition"]}
                if document_id in ("app_secret_policy_document", "origin_secret_policy_document"):
                    # A secret's policy: other accounts get nothing, the value only its readers (and root).
                    ((test, variable, _),) = conditions
                    assert (statement["sid"], test, variable) in {
                        ("DenyOtherAccounts", "StringNotEquals", "aws:PrincipalAccount"),
                        ("DenyTheValueToAllButTheReaders", "ArnNotEquals", "aws:PrincipalArn"),
                    }, where
                    continue
                # The only other denials: bucket policies refusing requests without TLS.
                assert conditions == {("Bool", "aws:SecureTransport", ("false",))}, where
                continue
            assert statement.get("effect", "Allow") == "Allow", where
            assert not {"not_actions", "not_resources", "not_principals"} & set(statement), where
            for action in statement["actions"]:
                assert "*" not in action, f"{where}: wildcard action {action}"
            for principal in statement.get("principals", []):
                assert "*" not in principal["identifiers"], where
            resources_ = statement.get("resources", [])
            if "*" in resources_:
                # Key policies: "*" is the key itself. Otherwise only actions without
                # resource-level permissions (constructs_lib/actions.py says which).
                assert document_id in key_policies or set(statement["actions"]) <= STAR_RESOURCE_ACTIONS, f"{where}: * resource"
            if document_id not in key_policies and "principals" not in statement:
                assert resources_, where


@pytest.mark.parametrize("env", ["production", "staging"])
def test_ecs_roles_trust_only_ecs_tasks_of_this_account(docs, env):
    doc, prefix = docs[env], PREFIXES[env]
    for name in ("ecs-execution", "api-task", "worker-task"):
        _, role = by_name(doc, "aws_iam_role", f"{prefix}-{name}")
        (statement,) = statements_of(doc, role["assume_role_policy"])
        assert statement["actions"] == ["sts:AssumeRole"]
        assert statement["principals"] == [{"type": "Service", "identifiers": ["ecs-tasks.amazonaws.com"]}]
        conditions = {c["variable"]: c for c in statement["condition"]}
        assert conditions["aws:SourceAccount"]["values"] == ["${data.aws_caller_identity.aws_context_caller.account_id}"]
        (source_arn,) = conditions["aws:SourceArn"]["values"]
        assert conditions["aws:SourceArn"]["test"] == "ArnLike"
        assert re.fullmatch(r"arn:\$\{data\.aws_partition\.[^}]+\}:ecs:\$\{data\.aws_region\.[^}]+\}:\$\{data\.aws_caller_identity\.[^}]+\}:\*", source_arn)


def _purpose_keys(doc: dict) -> dict[str, str]:
    """Key purpose (from its alias) -> the key's ARN reference."""
    keys = {}
    for alias in resources(doc, "aws_kms_alias").values():
        keys[alias["name"].rsplit("-", 1)[1]] = ref(doc, "aws_kms_key", TOKEN.match(alias["target_key_id"]).group(2), "arn")
    return keys


def _grants(doc: dict, role_name: str) -> dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]]:
    return {
        name: [(tuple(s["actions"]), tuple(s["resources"])) for s in statements]
        for name, statements in role_policies(doc, role_name).items()
    }


def test_execution_role_pulls_two_repositories_writes_two_log_groups_reads_the_app_secret(docs):
    doc = docs["production"]
    grants = _grants(doc, "circle-of-trust-ecs-execution")
    assert sorted(grants) == ["api-log-group-write", "api-repository-pull", "app-secret-read", "worker-log-group-write", "worker-repository-pull"]
    for role in ("api", "worker"):
        pull, login = grants[f"{role}-repository-pull"]
        assert pull[1] == (name_ref(doc, "aws_ecr_repository", f"circle-of-trust-{role}", "arn"),)
        assert login == (("ecr:GetAuthorizationToken",), ("*",))
        ((actions, (stream,)),) = grants[f"{role}-log-group-write"]
        assert stream == name_ref(doc, "aws_cloudwatch_log_group", f"/ecs/circle-of-trust-{role}", "arn") + ":log-stream:*"
    read, decrypt = grants["app-secret-read"]
    assert read[1] == (name_ref(doc, "aws_secretsmanager_secret", "circle-of-trust/app", "arn"),)
    assert decrypt == (("kms:Decrypt",), (_purpose_keys(doc)["secrets"],))


def test_api_task_role_reads_and_writes_both_tables_and_sends_jobs(docs):
    doc = docs["production"]
    grants = _grants(doc, "circle-of-trust-api-task")
    assert sorted(grants) == [
        "conversations-table-read-write-data",
        "job-queue-send",
        "jobs-table-read-write-data",
        "websocket-api-manage-connections",
    ]
    ((actions, (connections,)),) = grants["websocket-api-manage-connections"]
    assert actions == ("execute-api:ManageConnections",)
    # Only the @connections API of this WebSocket API's stage (send, read, close a connection).
    assert re.fullmatch(
        r"\$\{aws_apigatewayv2_api\.websocket_api\.execution_arn\}/\$\{aws_apigatewayv2_stage\.websocket_api_stage\.name\}/\*/@connections/\*",
        connections,
    ), connections
    assert grants["conversations-table-read-write-data"][0][1] == (name_ref(doc, "aws_dynamodb_table", "circle-of-trust-conversations", "arn"),)
    assert grants["jobs-table-read-write-data"][0][1] == (name_ref(doc, "aws_dynamodb_table", "circle-of-trust-jobs", "arn"),)
    send, encrypt = grants["job-queue-send"]
    assert send == (("sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"), (name_ref(doc, "aws_sqs_queue", "circle-of-trust-jobs", "arn"),))
    assert encrypt[0] == ("kms:Decrypt", "kms:GenerateDataKey")


def test_worker_task_role_consumes_jobs_and_writes_only_the_jobs_table(docs):
    doc = docs["production"]
    grants = _grants(doc, "circle-of-trust-worker-task")
    assert sorted(grants) == ["job-queue-consume", "jobs-table-read-write-data"]
    consume, decrypt = grants["job-queue-consume"]
    assert "sqs:SendMessage" not in consume[0] and "sqs:ReceiveMessage" in consume[0]
    assert decrypt[0] == ("kms:Decrypt",)
    all_resources = {resource for statements in grants.values() for _, resources_ in statements for resource in resources_}
    assert name_ref(doc, "aws_dynamodb_table", "circle-of-trust-conversations", "arn") not in all_resources


def test_each_kms_grant_uses_the_key_of_its_resource_through_its_service(docs):
    doc = docs["production"]
    keys_by_alias = _purpose_keys(doc)
    expected = {"secrets": ("secretsmanager", "circle-of-trust-ecs-execution"), "queue": ("sqs", "circle-of-trust-api-task"), "tables": ("dynamodb", "circle-of-trust-worker-task")}
    for purpose, (service, role) in expected.items():
        kms = [s for statements in role_policies(doc, role).values() for s in statements if s["actions"][0].startswith("kms:")]
        matching = [s for s in kms if s["resources"] == [keys_by_alias[purpose]]]
        assert matching, (purpose, role)
        for statement in matching:
            (condition,) = statement["condition"]
            assert condition["variable"] == "kms:ViaService" and condition["values"][0].startswith(f"{service}.")


def test_resources_use_their_purpose_keys(docs):
    doc = docs["production"]
    keys = _purpose_keys(doc)
    assert all(r["encryption_configuration"] == [{"encryption_type": "KMS", "kms_key": keys["ecr"]}] for r in resources(doc, "aws_ecr_repository").values())
    assert all(q["kms_master_key_id"] == keys["queue"] for q in resources(doc, "aws_sqs_queue").values())
    assert all(t["server_side_encryption"] == {"enabled": True, "kms_key_arn": keys["tables"]} for t in resources(doc, "aws_dynamodb_table").values())
    assert all(s["kms_key_id"] == keys["secrets"] for s in resources(doc, "aws_secretsmanager_secret").values())
    tables_policy = [
        statements_of(doc, key["policy"]) for key in resources(doc, "aws_kms_key").values() if key["description"].startswith("alias/circle-of-trust-tables")
    ][0]
    assert tables_policy[1]["principals"] == [{"type": "Service", "identifiers": ["dynamodb.amazonaws.com"]}]
    assert tables_policy[1]["actions"] == ["kms:DescribeKey"]


# -- network paths ----------------------------------------------------------------------------
def _group_rules(doc: dict, group_name: str) -> tuple[str, list[dict], list[dict]]:
    group_ref = name_ref(doc, "aws_security_group", group_name, "id")
    ingress = [r for r in resources(doc, "aws_vpc_security_group_ingress_rule").values() if r["security_group_id"] == group_ref]
    egress = [r for r in resources(doc, "aws_vpc_security_group_egress_rule").values() if r["security_group_id"] == group_ref]
    return group_ref, ingress, egress


@pytest.mark.parametrize(("env", "port"), [("variant", 9000)])
def test_api_tasks_accept_only_the_vpc_link_on_the_container_port(docs, env, port):
    """Rolling releases (canary ones put the release ALB between: tests/test_environment_stack_release.py)."""
    doc, prefix = docs[env], PREFIXES[env]
    link_ref, link_ingress, link_egress = _group_rules(doc, f"{prefix}-api-vpc-link")
    api_ref, api_ingress, _ = _group_rules(doc, f"{prefix}-api-tasks")
    nlb_ref, _, _ = _group_rules(doc, f"{prefix}-ws-nlb")
    sources = sorted((rule["referenced_security_group_id"], rule["ip_protocol"], rule["from_port"], rule["to_port"]) for rule in api_ingress)
    # The HTTP API's VPC link and the WebSocket API's internal NLB, on the container port only.
    assert sources == sorted([(link_ref, "tcp", port, port), (nlb_ref, "tcp", port, port)])
    assert link_ingress == []
    (out,) = link_egress
    assert (out["referenced_security_group_id"], out["from_port"], out["to_port"]) == (api_ref, port, port)
    container = at(resources(doc, "aws_ecs_task_definition"), "api-service/task-definition")["container_definitions"]
    assert f'"containerPort" = {port}' in container
    assert at(resources(doc, "aws_ecs_service"), "api-service")["service_registries"]["container_port"] == port


@pytest.mark.parametrize("env", ["production", "staging"])
def test_workers_accept_nothing_and_all_task_egress_is_https(docs, env):
    doc, prefix = docs[env], PREFIXES[env]
    _, worker_ingress, worker_egress = _group_rules(doc, f"{prefix}-worker-tasks")
    assert worker_ingress == []
    for group in ("api-tasks", "worker-tasks"):
        _, _, egress = _group_rules(doc, f"{prefix}-{group}")
        assert egress and all((r["ip_protocol"], r["from_port"], r["to_port"]) == ("tcp", 443, 443) for r in egress)


def test_without_nat_tasks_reach_aws_through_endpoints_and_prefix_lists(docs):
    doc = docs["production"]
    _, _, egress = _group_rules(doc, "circle-of-trust-worker-tasks")
    endpoints = resources(doc, "aws_vpc_endpoint")
    gateway = sorted(ref(doc, "aws_vpc_endpoint", logical_id(endpoints, f"network/{s}-gateway-endpoint"), "prefix_list_id") for s in ("s3", "dynamodb"))
    assert sorted(r["prefix_list_id"] for r in egress if "prefix_list_id" in r) == gateway
    groups = resources(doc, "aws_security_group")
    assert [r["referenced_security_group_id"] for r in egress if "referenced_security_group_id" in r] == [
        ref(doc, "aws_security_group", logical_id(groups, "network/endpoints-security-group"), "id")
    ]
    assert not any("cidr_ipv4" in r for r in egress)


def test_with_nat_tasks_reach_aws_over_https_to_the_internet(docs):
    _, _, egress = _group_rules(docs["staging"], "circle-of-trust-staging-api-tasks")
    assert [r["cidr_ipv4"] for r in egress if "cidr_ipv4" in r] == ["0.0.0.0/0"]
    assert not any("referenced_security_group_id" in r for r in egress)


def test_services_run_in_the_private_subnets(docs):
    doc = docs["production"]
    subnets = resources(doc, "aws_subnet")
    private = [ref(doc, "aws_subnet", logical_id(subnets, f"network/private-{i}"), "id") for i in range(2)]
    for service in resources(doc, "aws_ecs_service").values():
        assert service["network_configuration"]["subnets"] == private
        assert service["network_configuration"]["assign_public_ip"] is False


# -- services, environment, secrets --------------------------------------------------------------
def test_containers_get_queue_tables_region_and_the_secret_by_arn(docs):
    doc = docs["production"]
    queue_url = name_ref(doc, "aws_sqs_queue", "circle-of-trust-jobs", "url")[2:-1]
    jobs = name_ref(doc, "aws_dynamodb_table", "circle-of-trust-jobs", "name")[2:-1]
    conversations = name_ref(doc, "aws_dynamodb_table", "circle-of-trust-conversations", "name")[2:-1]
    secret = name_ref(doc, "aws_secretsmanager_secret", "circle-of-trust/app", "arn")[2:-1]
    api = at(resources(doc, "aws_ecs_task_definition"), "api-blue-green/task-definition")["container_definitions"]
    worker = at(resources(doc, "aws_ecs_task_definition"), "worker-service/task-definition")["container_definitions"]
    for container in (api, worker):
        assert f'{{"name" = "JOB_QUEUE_URL", "value" = {queue_url}}}' in container
        assert f'{{"name" = "JOBS_TABLE_NAME", "value" = {jobs}}}' in container
        assert '{"name" = "AWS_REGION", "value" = data.aws_region.' in container
        assert f'"secrets" = [{{"name" = "APP_SECRET", "valueFrom" = {secret}}}]' in container
        assert container.count(secret) == 1
    assert f'{{"name" = "CONVERSATIONS_TABLE_NAME", "value" = {conversations}}}' in api and "CONVERSATIONS" not in worker
    assert '{"name" = "JOB_TIMEOUT_SECONDS", "value" = "900"}' in worker
    assert '"stopTimeout" = 120' in worker


def test_first_revision_uses_the_config_image_tag(docs):
    doc = docs["production"]
    api = at(resources(doc, "aws_ecs_task_definition"), "api-blue-green/task-definition")["container_definitions"]
    repository = name_ref(doc, "aws_ecr_repository", "circle-of-trust-api", "repository_url")
    assert f'"image" = "{repository}:latest"' in api


@pytest.mark.parametrize(
    ("env", "strategy"),
    [
        ("production", [{"capacity_provider": "FARGATE_SPOT", "weight": 1, "base": 0}]),
        (
            "variant",
            [{"capacity_provider": "FARGATE", "weight": 0, "base": 2}, {"capacity_provider": "FARGATE_SPOT", "weight": 1, "base": 0}],
        ),
    ],
)
def test_workers_run_on_spot_with_an_optional_on_demand_base(docs, env, strategy):
    doc = docs[env]
    assert at(resources(doc, "aws_ecs_service"), "worker-service")["capacity_provider_strategy"] == strategy
    assert at(resources(doc, "aws_ecs_service"), API_SERVICE_PATHS[env])["capacity_provider_strategy"] == [
        {"capacity_provider": "FARGATE", "weight": 1, "base": 0}
    ]


def test_services_ignore_exactly_task_definition_and_desired_count(docs):
    """And, under CodeDeploy (the shipped configs' canary API), the load balancer: a release alternates its target group."""
    for doc in docs.values():
        for service in resources(doc, "aws_ecs_service").values():
            extra = ["load_balancer"] if service.get("deployment_controller") == {"type": "CODE_DEPLOY"} else []
            assert service["lifecycle"] == {"ignore_changes": ["task_definition", "desired_count", *extra]}
    ignoring = [
        (resource_type, rid)
        for doc in docs.values()
        for resource_type, items in doc["resource"].items()
        for rid, item in items.items()
        if "ignore_changes" in item.get("lifecycle", {}) and resource_type not in ("aws_ecs_service", "aws_dynamodb_table")
    ]
    # The release ALB's listener (both shipped configs' canary): CodeDeploy owns its default action.
    assert ignoring == [("aws_lb_listener", "release_load_balancer_listener")] * 2


# -- data and scaling, both sides of each flag ------------------------------------------------
def test_tables_are_on_demand_and_protected_in_production(docs):
    doc = docs["production"]
    for table in resources(doc, "aws_dynamodb_table").values():
        assert table["billing_mode"] == "PAY_PER_REQUEST"
        assert table["deletion_protection_enabled"] is True
        assert table["point_in_time_recovery"] == {"enabled": True}
    assert not [t for t in resources(doc, "aws_appautoscaling_target").values() if t["service_namespace"] == "dynamodb"]


def test_staging_tables_may_be_destroyed(docs):
    assert all(t["deletion_protection_enabled"] is False for t in resources(docs["staging"], "aws_dynamodb_table").values())


def test_provisioned_tables_autoscale_reads_and_writes(docs):
    doc = docs["variant"]
    assert all(t["billing_mode"] == "PROVISIONED" for t in resources(doc, "aws_dynamodb_table").values())
    targets = [t for t in resources(doc, "aws_appautoscaling_target").values() if t["service_namespace"] == "dynamodb"]
    assert sorted(t["scalable_dimension"] for t in targets) == ["dynamodb:table:ReadCapacityUnits"] * 2 + ["dynamodb:table:WriteCapacityUnits"] * 2


def test_api_scales_on_cpu_and_workers_on_the_job_queue(docs):
    doc = docs["production"]
    cpu = [p for p in resources(doc, "aws_appautoscaling_policy").values() if p["policy_type"] == "TargetTrackingScaling"]
    (api,) = cpu
    assert api["target_tracking_scaling_policy_configuration"]["target_value"] == 60
    ecs_targets = [t for t in resources(doc, "aws_appautoscaling_target").values() if t["service_namespace"] == "ecs"]
    assert sorted((t["min_capacity"], t["max_capacity"]) for t in ecs_targets) == [(0, 20), (2, 10)]
    alarms = {a["alarm_name"]: a for a in resources(doc, "aws_cloudwatch_metric_alarm").values()}
    backlog = alarms["circle-of-trust-workers-backlog"]
    assert backlog["dimensions"] == {"QueueName": name_ref(doc, "aws_sqs_queue", "circle-of-trust-jobs", "name")}
    assert alarms["circle-of-trust-workers-idle"]["evaluation_periods"] == 5


def test_staging_uses_its_own_scaling_steps(docs):
    policy = at(resources(docs["staging"], "aws_appautoscaling_policy"), "worker-scaling/scale-out-policy")
    assert [s["scaling_adjustment"] for s in policy["step_scaling_policy_configuration"]["step_adjustment"]] == [1, 2, 4]


def test_queue_settings_come_from_the_config(docs):
    doc = docs["production"]
    _, queue = by_name(doc, "aws_sqs_queue", "circle-of-trust-jobs")
    assert queue["visibility_timeout_seconds"] == 960
    assert '"maxReceiveCount" = 5' in queue["redrive_policy"]
    _, dlq = by_name(doc, "aws_sqs_queue", "circle-of-trust-jobs-dlq")
    assert dlq["message_retention_seconds"] == 14 * 24 * 3600


def test_services_wait_for_their_roles_policies(docs):
    doc = docs["production"]
    policies = resources(doc, "aws_iam_role_policy")
    roles = {rid: role["name"] for rid, role in resources(doc, "aws_iam_role").items()}

    def policies_of(*role_names: str) -> set[str]:
        return {
            f"aws_iam_role_policy.{pid}"
            for pid, policy in policies.items()
            if roles[TOKEN.match(policy["role"]).group(2)] in role_names
        }

    api = at(resources(doc, "aws_ecs_service"), "api-blue-green/service")
    worker = at(resources(doc, "aws_ecs_service"), "worker-service")
    assert set(api["depends_on"]) == policies_of("circle-of-trust-ecs-execution", "circle-of-trust-api-task")
    assert set(worker["depends_on"]) == policies_of("circle-of-trust-ecs-execution", "circle-of-trust-worker-task")
    assert len(api["depends_on"]) == 9 and len(worker["depends_on"]) == 7


# -- the worker's release gate -------------------------------------------------------------------
@pytest.mark.parametrize("env", ["production", "staging"])
def test_worker_deploys_are_gated_by_the_dlq_growth_alarm_and_the_api_by_the_circuit_breaker_alone(docs, env):
    doc, prefix = docs[env], PREFIXES[env]
    alarm_id, alarm = by_name(doc, "aws_cloudwatch_metric_alarm", f"{prefix}-worker-release-dlq-growth", key="alarm_name")
    worker = at(resources(doc, "aws_ecs_service"), "worker-service")
    # By reference: Terraform creates the alarm before the service that names it.
    assert worker["alarms"] == {"alarm_names": [f"${{aws_cloudwatch_metric_alarm.{alarm_id}.alarm_name}}"], "enable": True, "rollback": True}
    assert worker["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
    api = at(resources(doc, "aws_ecs_service"), API_SERVICE_PATHS[env])
    assert "alarms" not in api
    # Both ship the canary: CodeDeploy's release alarms and auto-rollback (tests/test_environment_stack_release.py).
    assert api["deployment_controller"] == {"type": "CODE_DEPLOY"} and "deployment_circuit_breaker" not in api

    dlq_id, _ = by_name(doc, "aws_sqs_queue", f"{prefix}-jobs-dlq")
    messages, expression = alarm["metric_query"]
    assert messages["metric"] == {
        "namespace": "AWS/SQS", "metric_name": "ApproximateNumberOfMessagesVisible",
        "dimensions": {"QueueName": f"${{aws_sqs_queue.{dlq_id}.name}}"}, "stat": "Maximum", "period": 60,
    }  # fmt: skip
    assert expression["expression"] == "DIFF(messages)" and expression["return_data"] is True
    assert (alarm["comparison_operator"], alarm["threshold"], alarm["treat_missing_data"]) == ("GreaterThanThreshold", 0, "notBreaching")
    # ECS reads it; the operations layer's jobs-dlq-not-empty alarm is the one that pages.
    assert "alarm_actions" not in alarm and "ok_actions" not in alarm


def test_without_worker_release_alarms_the_workers_have_the_circuit_breaker_alone(docs):
    doc = docs["variant"]
    names = [alarm["alarm_name"] for alarm in resources(doc, "aws_cloudwatch_metric_alarm").values()]
    assert not [name for name in names if "release" in name], names
    worker = at(resources(doc, "aws_ecs_service"), "worker-service")
    assert "alarms" not in worker and worker["deployment_circuit_breaker"] == {"enable": True, "rollback": True}


# -- the API Gateway account setting -------------------------------------------------------------
def test_production_owns_the_api_gateway_account_setting_and_staging_logs_with_its_role(docs):
    production, staging = docs["production"], docs["staging"]
    (account,) = resources(production, "aws_api_gateway_account").values()
    assert account["cloudwatch_role_arn"] == name_ref(production, "aws_iam_role", "circle-of-trust-apigateway-cloudwatch", "arn")
    assert resources(staging, "aws_api_gateway_account") == {}
    assert not [role for role in resources(staging, "aws_iam_role").values() if role["name"].endswith("-apigateway-cloudwatch")]


def test_the_api_gateway_role_writes_every_environments_stage_log_groups_and_no_other_group(docs):
    import fnmatch

    (statements,) = role_policies(docs["production"], "circle-of-trust-apigateway-cloudwatch").values()
    patterns = [
        resource.split(":log-group:", 1)[1]
        for statement in statements
        if "logs:PutLogEvents" in statement["actions"] or "logs:CreateLogGroup" in statement["actions"]
        for resource in statement["resources"]
    ]
    assert patterns and all(not pattern.startswith("*") for pattern in patterns)
    written, others = set(), set()
    for env in ("production", "staging"):  # one account: production's role serves staging's stages too
        doc = docs[env]
        groups = {ref(doc, "aws_cloudwatch_log_group", group_id, "arn"): group["name"] for group_id, group in resources(doc, "aws_cloudwatch_log_group").items()}
        stage_groups = {groups[stage["access_log_settings"]["destination_arn"]] for stage in resources(doc, "aws_apigatewayv2_stage").values()}
        assert len(stage_groups) == 2, env  # the HTTP and the WebSocket API's access logs
        written |= stage_groups
        others |= set(groups.values()) - stage_groups
    assert {"/aws/cloudtrail/circle-of-trust-trail", "/ecs/circle-of-trust-api", "/aws/lambda/circle-of-trust-staging-ecs-updater"} <= others
    for name in written | others:
        writable = any(fnmatch.fnmatchcase(f"{name}:log-stream:x", pattern) for pattern in patterns)
        assert writable is (name in written), name
