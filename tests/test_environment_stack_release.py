"""The API's canary releases across the layers (issue 20): both sides of api_release_strategy.

Builds five environments once: a canary one (non-default canary values, a
GitHub repository and the ECR-push updater, so both releasers exist), the
two shipped configs (both canary), and production as it runs before its move
(rolling) and during it (cutover, with both releasers too).
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from tests.support import at, data_sources, inline_policies_size, merged_environment, ref, resources, role_grants, synth_layers

LAYERS = ("network", "data", "edge", "services", "operations")

PROJECT = Path(__file__).resolve().parents[1]
PREFIX = "circle-of-trust-canary"
PORT = 9000
KINDS = ("5xx-rate", "latency-p99", "unhealthy-targets")
CONTEXT_ARN = r"arn:\$\{data\.aws_partition\.[^}]+\.partition\}:{service}:\$\{data\.aws_region\.[^}]+\.name\}:\$\{data\.aws_caller_identity\.[^}]+\.account_id\}:"
IAM_INLINE_POLICY_LIMIT = 10240  # characters, all inline policies of a role together (whitespace not counted)


def context_arn(service: str, resource: str) -> re.Pattern[str]:
    """arn:<partition>:<service>:<region>:<account>:<resource> of this environment's account and region."""
    return re.compile(CONTEXT_ARN.replace("{service}", service) + resource)


@pytest.fixture(scope="module")
def envs() -> dict[str, tuple]:
    from stacks.config import EnvironmentConfig, load_configs

    configs = load_configs([PROJECT / "config" / "production.tfvars", PROJECT / "config" / "staging.tfvars"])
    production = configs[0]
    # Production before its move (every production deployed until now, or adopted), and during it.
    # Named as production is (names and state keys), so the three can be compared resource by resource.
    same = dict(name_prefix=production.resource_prefix, state_key_prefix=production.effective_state_key_prefix)
    configs.append(dataclasses.replace(production, environment="rolling", api_release_strategy="rolling", **same))
    configs.append(dataclasses.replace(production, environment="cutover", api_release_strategy="cutover", **same))
    releasers = dict(github_repository="my-org/app", enable_ecr_push_updater=True)
    configs.append(dataclasses.replace(production, environment="cutover-releasers", api_release_strategy="cutover", **same, **releasers))
    configs.append(
        EnvironmentConfig(
            environment="canary",
            s3_frontend_bucket="circle-of-trust-frontend-canary",
            manage_api_gateway_account=False,
            api_container_port=PORT,
            api_release_strategy="canary",
            api_canary_percent=25,
            api_canary_bake_minutes=3,
            api_release_termination_wait_minutes=15,
            api_release_5xx_percent=2,
            api_release_latency_p99_milliseconds=800,
            api_health_check_path="/healthz",
            github_repository="my-org/app",
            github_branch="main",
            enable_ecr_push_updater=True,
        )
    )
    layers = synth_layers(configs)
    return {config.environment: (config, layers[config.environment], merged_environment(layers[config.environment])) for config in configs}


@pytest.fixture(scope="module")
def doc(envs) -> dict:
    return envs["canary"][2]


def by_name(doc: dict, resource_type: str, name: str, key: str = "name") -> tuple[str, dict]:
    (found,) = [(rid, item) for rid, item in resources(doc, resource_type).items() if item.get(key) == name]
    return found


def name_ref(doc: dict, resource_type: str, name: str, attribute: str, key: str = "name") -> str:
    return ref(doc, resource_type, by_name(doc, resource_type, name, key)[0], attribute)


def group_rules(doc: dict, group_name: str) -> tuple[str, list[dict], list[dict]]:
    group_ref = name_ref(doc, "aws_security_group", group_name, "id")
    ingress = [r for r in resources(doc, "aws_vpc_security_group_ingress_rule").values() if r["security_group_id"] == group_ref]
    egress = [r for r in resources(doc, "aws_vpc_security_group_egress_rule").values() if r["security_group_id"] == group_ref]
    return group_ref, ingress, egress


def peers(rules: list[dict]) -> list[tuple]:
    return sorted((r["referenced_security_group_id"], r["ip_protocol"], r["from_port"], r["to_port"]) for r in rules if "referenced_security_group_id" in r)


def listener(doc: dict) -> tuple[str, dict]:
    (lb_id, _) = by_name(doc, "aws_lb", f"{PREFIX}-lb")
    (found,) = [(rid, item) for rid, item in resources(doc, "aws_lb_listener").items() if item["load_balancer_arn"] == ref(doc, "aws_lb", lb_id, "arn")]
    return found


def api_service(doc: dict, name: str = "api-blue-green") -> tuple[str, dict]:
    """The API's service under CodeDeploy (canary and cutover), or by ``name`` the seed's rolling one."""
    return by_name(doc, "aws_ecs_service", name)


def release_alarms(doc: dict) -> dict[str, tuple[str, dict]]:
    return {item["alarm_name"]: (rid, item) for rid, item in resources(doc, "aws_cloudwatch_metric_alarm").items() if "-api-release-" in item["alarm_name"]}


# -- network layer: the ALB between both APIs and the tasks -------------------------------------------
def test_the_alb_accepts_the_vpc_link_and_the_nlb_and_reaches_only_the_tasks_on_the_port(doc):
    alb, alb_in, alb_out = group_rules(doc, f"{PREFIX}-api-alb")
    link = name_ref(doc, "aws_security_group", f"{PREFIX}-api-vpc-link", "id")
    nlb = name_ref(doc, "aws_security_group", f"{PREFIX}-ws-nlb", "id")
    tasks = name_ref(doc, "aws_security_group", f"{PREFIX}-api-tasks", "id")
    assert peers(alb_in) == sorted([(link, "tcp", PORT, PORT), (nlb, "tcp", PORT, PORT)])
    assert not [r for r in alb_in if "cidr_ipv4" in r or "prefix_list_id" in r]
    assert peers(alb_out) == [(tasks, "tcp", PORT, PORT)] and len(alb_out) == 1


def test_the_tasks_accept_only_the_alb_and_the_link_and_nlb_reach_only_the_alb(doc):
    alb = name_ref(doc, "aws_security_group", f"{PREFIX}-api-alb", "id")
    _, tasks_in, _ = group_rules(doc, f"{PREFIX}-api-tasks")
    # No direct path from the VPC link or the NLB to the tasks: every request goes through the weighed listener.
    assert peers(tasks_in) == [(alb, "tcp", PORT, PORT)]
    for name in ("api-vpc-link", "ws-nlb"):
        _, _, egress = group_rules(doc, f"{PREFIX}-{name}")
        assert peers(egress) == [(alb, "tcp", PORT, PORT)], name


# -- edge layer: the ALB, the HTTP API integration, the NLB's alb target ----------------------------
def test_the_release_alb_is_internal_in_the_private_subnets_behind_its_group(envs, doc):
    _, lb = by_name(doc, "aws_lb", f"{PREFIX}-lb")
    assert (lb["load_balancer_type"], lb["internal"], lb["drop_invalid_header_fields"]) == ("application", True, True)
    subnets = resources(doc, "aws_subnet")
    assert lb["subnets"] == [ref(doc, "aws_subnet", f"network_private_{i}", "id") for i in range(2)]
    assert all(subnets[f"network_private_{i}"].get("map_public_ip_on_launch") is not True for i in range(2))
    assert lb["security_groups"] == [name_ref(doc, "aws_security_group", f"{PREFIX}-api-alb", "id")]
    # In the edge layer, with both APIs: the services layer only reads it.
    layers = envs["canary"][1]
    assert [name for name, stack in layers.items() if any(item.get("load_balancer_type") == "application" for item in resources(stack, "aws_lb").values())] == ["canary-edge"]


def test_the_listener_forwards_to_a_on_the_port_and_leaves_its_action_to_codedeploy(doc):
    _, item = listener(doc)
    assert (item["protocol"], item["port"]) == ("HTTP", PORT)
    assert item["default_action"] == [{"type": "forward", "target_group_arn": name_ref(doc, "aws_lb_target_group", f"{PREFIX}-a", "arn")}]
    assert item["lifecycle"]["ignore_changes"] == ["default_action"]
    for label in ("a", "b"):
        _, group = by_name(doc, "aws_lb_target_group", f"{PREFIX}-{label}")
        assert (group["target_type"], group["protocol"], group["port"]) == ("ip", "HTTP", PORT)
        assert (group["health_check"]["path"], group["health_check"]["matcher"]) == ("/healthz", "200-499")
        assert group["vpc_id"] == ref(doc, "aws_vpc", "network_vpc", "id")


def test_the_http_api_integration_targets_the_listener(doc):
    (integration,) = [i for i in resources(doc, "aws_apigatewayv2_integration").values() if i.get("integration_method") == "ANY"]
    listener_id, _ = listener(doc)
    assert integration["integration_uri"] == ref(doc, "aws_lb_listener", listener_id, "arn")
    assert integration["connection_type"] == "VPC_LINK"
    assert "servicediscovery" not in json.dumps(integration)


def test_the_websocket_nlb_forwards_to_the_alb_once_its_listener_exists(doc):
    group_id, group = by_name(doc, "aws_lb_target_group", f"{PREFIX}-wa")
    assert (group["target_type"], group["protocol"], group["port"]) == ("alb", "TCP", PORT)
    assert group["health_check"]["path"] == "/healthz"
    (attachment,) = resources(doc, "aws_lb_target_group_attachment").values()
    assert attachment["target_group_arn"] == ref(doc, "aws_lb_target_group", group_id, "arn")
    assert attachment["target_id"] == name_ref(doc, "aws_lb", f"{PREFIX}-lb", "arn")
    assert attachment["port"] == PORT
    listener_id, _ = listener(doc)
    assert f"aws_lb_listener.{listener_id}" in attachment["depends_on"]
    # The NLB's listener forwards to the alb group; no group of the NLB takes task IPs.
    _, nlb = by_name(doc, "aws_lb", f"{PREFIX}-ws")
    (nlb_listener,) = [item for item in resources(doc, "aws_lb_listener").values() if item["load_balancer_arn"] == name_ref(doc, "aws_lb", f"{PREFIX}-ws", "arn")]
    assert nlb_listener["default_action"] == [{"type": "forward", "target_group_arn": ref(doc, "aws_lb_target_group", group_id, "arn")}]
    assert not [g for g in resources(doc, "aws_lb_target_group").values() if g["name"] == f"{PREFIX}-ws"]


# -- services layer: the API under CodeDeploy ---------------------------------------------------------
def test_the_api_service_runs_under_codedeploy_in_target_group_a_without_cloud_map(doc):
    _, service = api_service(doc)
    assert service["deployment_controller"] == {"type": "CODE_DEPLOY"}
    assert service["load_balancer"] == [
        {"target_group_arn": name_ref(doc, "aws_lb_target_group", f"{PREFIX}-a", "arn"), "container_name": "api", "container_port": PORT}
    ]
    assert "service_registries" not in service
    assert "deployment_circuit_breaker" not in service and "alarms" not in service and not service.get("force_new_deployment")
    assert "load_balancer" in service["lifecycle"]["ignore_changes"]
    # The worker keeps rolling updates with its circuit breaker.
    _, worker = by_name(doc, "aws_ecs_service", "worker-service")
    assert "deployment_controller" not in worker and worker["deployment_circuit_breaker"] == {"enable": True, "rollback": True}


def test_the_deployment_group_shifts_the_api_service_on_the_listener(doc):
    (group,) = resources(doc, "aws_codedeploy_deployment_group").values()
    service_id, service = api_service(doc)
    assert group["deployment_group_name"] == f"{PREFIX}-api"
    assert group["app_name"] == name_ref(doc, "aws_codedeploy_app", f"{PREFIX}-api", "name")
    # The service and its cluster, as the service itself names them.
    assert group["ecs_service"] == {"cluster_name": service["cluster"], "service_name": ref(doc, "aws_ecs_service", service_id, "name")}
    pair = group["load_balancer_info"]["target_group_pair_info"]
    assert pair["prod_traffic_route"]["listener_arns"] == [ref(doc, "aws_lb_listener", listener(doc)[0], "arn")]
    assert pair["target_group"] == [{"name": f"{PREFIX}-a"}, {"name": f"{PREFIX}-b"}]
    assert group["blue_green_deployment_config"]["terminate_blue_instances_on_deployment_success"] == {"action": "TERMINATE", "termination_wait_time_in_minutes": 15}
    (config_id, config) = by_name(doc, "aws_codedeploy_deployment_config", f"{PREFIX}-api-canary-25pct-3min", key="deployment_config_name")
    assert config["traffic_routing_config"] == {"type": "TimeBasedCanary", "time_based_canary": {"percentage": 25, "interval": 3}}
    assert group["deployment_config_name"] == ref(doc, "aws_codedeploy_deployment_config", config_id, "deployment_config_name")
    assert group["auto_rollback_configuration"] == {"enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]}


def test_six_release_alarms_watch_each_target_group_and_gate_the_group(doc):
    alarms = release_alarms(doc)
    assert sorted(alarms) == sorted(f"{PREFIX}-api-release-{kind}-{label}" for kind in KINDS for label in ("a", "b"))
    lb_suffix = name_ref(doc, "aws_lb", f"{PREFIX}-lb", "arn_suffix")
    for name, (_, alarm) in alarms.items():
        label = name[-1]
        dimensions = {"LoadBalancer": lb_suffix, "TargetGroup": name_ref(doc, "aws_lb_target_group", f"{PREFIX}-{label}", "arn_suffix")}
        metrics = [query["metric"] for query in alarm.get("metric_query", []) if "metric" in query] or [alarm]
        assert all(metric["dimensions"] == dimensions for metric in metrics), name
        assert all(metric["namespace"] == "AWS/ApplicationELB" for metric in metrics), name
        # Gates, not pages: CodeDeploy reads them.
        assert "alarm_actions" not in alarm and "ok_actions" not in alarm, name
    assert alarms[f"{PREFIX}-api-release-5xx-rate-a"][1]["threshold"] == 2
    assert alarms[f"{PREFIX}-api-release-latency-p99-b"][1]["threshold"] == 0.8  # 800 ms, in the ALB's seconds
    (group,) = resources(doc, "aws_codedeploy_deployment_group").values()
    assert sorted(group["alarm_configuration"]["alarms"]) == sorted(ref(doc, "aws_cloudwatch_metric_alarm", rid, "alarm_name") for rid, _ in alarms.values())
    assert group["alarm_configuration"]["enabled"] is True


def test_codedeploy_may_change_only_the_api_services_task_sets_and_pass_only_its_roles(doc):
    grants = role_grants(doc, f"{PREFIX}-api-codedeploy")
    by_sid = {s["sid"]: s for statements in grants.values() for s in statements}
    service_id, service = api_service(doc)
    service_arn = ref(doc, "aws_ecs_service", service_id, "id")  # the provider's ID of a service is its ARN
    cluster, name = (re.escape(value) for value in (service["cluster"], ref(doc, "aws_ecs_service", service_id, "name")))
    assert by_sid["ShiftTaskSets"]["resources"] == [service_arn]
    assert by_sid["CreateTaskSets"]["condition"] == [{"test": "ArnEquals", "variable": "ecs:service", "values": [service_arn]}]
    (task_sets,) = by_sid["DeleteTaskSets"]["resources"]
    assert context_arn("ecs", f"task-set/{cluster}/{name}/\\*").fullmatch(task_sets), task_sets
    assert by_sid["PassTaskRolesToEcs"]["resources"] == [
        name_ref(doc, "aws_iam_role", f"{PREFIX}-api-task", "arn"),
        name_ref(doc, "aws_iam_role", f"{PREFIX}-ecs-execution", "arn"),
    ]
    assert by_sid["ShiftListener"]["resources"] == [ref(doc, "aws_lb_listener", listener(doc)[0], "arn")]
    alarm_resources = by_sid["ReadReleaseAlarms"]["resources"]
    names = sorted(ref(doc, "aws_cloudwatch_metric_alarm", rid, "alarm_name") for rid, _ in release_alarms(doc).values())
    assert sorted(resource.rsplit(":alarm:", 1)[1] for resource in alarm_resources) == names
    assert all(context_arn("cloudwatch", "alarm:").match(resource) for resource in alarm_resources)


@pytest.mark.parametrize("role", ["github-actions", "ecs-updater"])
def test_both_releasers_may_release_through_this_environments_group_only(doc, role):
    statements = {s["sid"]: s for s in role_grants(doc, f"{PREFIX}-{role}")["api-release-release"]}
    (group,) = statements["ReleaseThroughOwnGroup"]["resources"]
    assert context_arn("codedeploy", f"deploymentgroup:{PREFIX}-api/{PREFIX}-api").fullmatch(group), group
    assert "codedeploy:CreateDeployment" in statements["ReleaseThroughOwnGroup"]["actions"]
    # Only the deploy role follows and stops deployments; the updater starts them and returns.
    assert ("codedeploy:GetDeployment" in statements["ReleaseThroughOwnGroup"]["actions"]) == (role == "github-actions")
    stop = statements.get("FollowTargetsAndStop")
    assert (stop is not None) == (role == "github-actions")
    if stop:  # no resource type and no condition key for these three: "*" (an ARN would match none of their requests)
        assert ("codedeploy:StopDeployment" in stop["actions"], stop["resources"]) == (True, ["*"])
    (application,) = statements["RegisterOwnRevisions"]["resources"]
    assert context_arn("codedeploy", f"application:{PREFIX}-api").fullmatch(application), application


def test_the_deploy_roles_inline_policies_still_fit_iams_size_limit(doc):
    """IAM caps a role's inline policies at 10,240 characters together; the release grant keeps a fifth of it free."""
    total = inline_policies_size(role_grants(doc, f"{PREFIX}-github-actions"))
    assert 0 < total < IAM_INLINE_POLICY_LIMIT * 0.8, total


def test_only_the_elb_reads_and_task_set_creation_are_new_on_every_resource(doc):
    allowed = {
        "ecr:GetAuthorizationToken", "ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions",
        "xray:PutTelemetryRecords", "xray:PutTraceSegments", "logs:DescribeLogGroups", "ecs:CreateTaskSet",
        "codedeploy:GetDeploymentTarget", "codedeploy:ListDeploymentTargets", "codedeploy:StopDeployment",
        "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeRules",
        "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth",
    }  # fmt: skip
    key_policies = {key["policy"].split(".")[2] for key in resources(doc, "aws_kms_key").values()}
    for document_id, document in data_sources(doc, "aws_iam_policy_document").items():
        if document_id in key_policies:
            continue
        for statement in document["statement"]:
            if "*" in statement.get("resources", []) and statement.get("effect", "Allow") == "Allow":
                assert set(statement["actions"]) <= allowed, (document_id, statement["actions"])


def test_outputs_name_the_strategy_the_application_the_group_and_the_internal_url(doc):
    outputs = {name: output["value"] for name, output in doc["output"].items()}
    assert outputs["api_release_strategy"] == "canary"
    assert outputs["api_codedeploy_application_name"] == name_ref(doc, "aws_codedeploy_app", f"{PREFIX}-api", "name")
    group_id, _ = by_name(doc, "aws_codedeploy_deployment_group", f"{PREFIX}-api", key="deployment_group_name")
    assert outputs["api_codedeploy_deployment_group_name"] == ref(doc, "aws_codedeploy_deployment_group", group_id, "deployment_group_name")
    assert outputs["api_internal_url"] == f"http://{name_ref(doc, 'aws_lb', f'{PREFIX}-lb', 'dns_name')}:{PORT}"


def test_only_the_listener_joins_what_terraform_ignores(doc):
    ignoring = {
        (resource_type, tuple(item["lifecycle"]["ignore_changes"]))
        for resource_type, items in doc["resource"].items()
        for item in items.values()
        if "ignore_changes" in item.get("lifecycle", {}) and resource_type not in ("aws_ecs_service", "aws_dynamodb_table")
    }
    assert ignoring == {("aws_lb_listener", ("default_action",))}


# -- a rolling environment (production, until its cutover) has nothing of the canary ---------------------
@pytest.mark.parametrize("env", ["rolling"])
def test_rolling_environments_have_nothing_of_the_canary(envs, env):
    config, _, doc = envs[env]
    assert config.api_release_strategy == "rolling"
    assert not [lb for lb in resources(doc, "aws_lb").values() if lb["load_balancer_type"] == "application"]
    for resource_type in ("aws_codedeploy_app", "aws_codedeploy_deployment_group", "aws_codedeploy_deployment_config", "aws_lb_target_group_attachment"):
        assert not resources(doc, resource_type), resource_type
    assert not release_alarms(doc)
    assert not [g for g in resources(doc, "aws_security_group").values() if g["name"].endswith("-api-alb")]
    assert not [r for r in resources(doc, "aws_iam_role").values() if r["name"].endswith("-codedeploy")]
    assert not [p for p in resources(doc, "aws_iam_role_policy").values() if p["name"] == "api-release-release"]
    outputs = {name: output["value"] for name, output in doc["output"].items()}
    assert (outputs["api_release_strategy"], outputs["api_codedeploy_application_name"], outputs["api_codedeploy_deployment_group_name"]) == ("rolling", "", "")
    # Internal callers keep the seed's Cloud Map name under rolling releases.
    assert outputs["api_internal_url"].startswith("http://${aws_service_discovery_service.") and outputs["api_internal_url"].endswith(":8080")
    _, service = api_service(doc, "api-service")
    assert not [s for s in resources(doc, "aws_ecs_service").values() if s["name"] == "api-blue-green"]
    assert "deployment_controller" not in service and service["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
    assert service["service_registries"]["registry_arn"] == name_ref(doc, "aws_service_discovery_service", "api-service", "arn")
    (integration,) = [i for i in resources(doc, "aws_apigatewayv2_integration").values() if i.get("integration_method") == "ANY"]
    assert integration["integration_uri"] == name_ref(doc, "aws_service_discovery_service", "api-service", "arn")


def test_the_services_layer_declares_every_release_output_in_both_strategies(envs):
    names = ("api_release_strategy", "api_codedeploy_application_name", "api_codedeploy_deployment_group_name", "api_blue_green_service_name")
    for env in ("rolling", "cutover", "canary"):
        _, layers, _ = envs[env]
        outputs = layers[f"{env}-services"]["output"]
        assert set(names) <= set(outputs), env
        assert all(outputs[name]["description"] for name in names)
    assert "api_internal_url" in envs["canary"][1]["canary-edge"]["output"]


def test_the_canary_api_task_definition_still_exposes_the_container_port(doc):
    container = at(resources(doc, "aws_ecs_task_definition"), "api-blue-green/task-definition")["container_definitions"]
    assert f'"containerPort" = {PORT}' in container


@pytest.mark.parametrize("env", ["staging", "production"])
def test_both_shipped_configs_release_through_the_canary_at_the_defaults(envs, env):
    """Staging tests production's release path: 10 % for 5 minutes, the old task set kept 30 minutes."""
    config, _, doc = envs[env]
    (config,) = resources(doc, "aws_codedeploy_deployment_config").values()
    assert config["deployment_config_name"] == f"{envs[env][0].resource_prefix}-api-canary-10pct-5min"
    assert config["traffic_routing_config"]["time_based_canary"] == {"percentage": 10, "interval": 5}
    (group,) = resources(doc, "aws_codedeploy_deployment_group").values()
    terminate = group["blue_green_deployment_config"]["terminate_blue_instances_on_deployment_success"]
    assert (terminate["action"], terminate["termination_wait_time_in_minutes"]) == ("TERMINATE", 30)
    (service,) = [s for s in resources(doc, "aws_ecs_service").values() if s["name"].startswith("api")]
    assert (service["name"], service["deployment_controller"]) == ("api-blue-green", {"type": "CODE_DEPLOY"})


# -- the cutover (README, "Moving to canary releases"): rolling -> cutover -> canary ---------------------------------
def declared(envs, env: str) -> dict[tuple[str, str], dict]:
    """(layer, address) -> arguments of every resource and data source of ``env``'s layers."""
    _, layers, _ = envs[env]
    # The layers' reads of each other carry the environment's name: ENV in its place (and no construct paths).
    own = f"_input_{env.replace('-', '_')}_"

    def normalized(arguments: dict) -> dict:
        notes = {key: value for key, value in arguments.get("//", {}).items() if key != "metadata"}
        return json.loads(json.dumps({**arguments, "//": notes}).replace(own, "_input_ENV_"))

    return {
        (layer, f"{kind}.{resource_type}.{name}".replace(own, "_input_ENV_")): normalized(arguments)
        for layer in LAYERS
        for kind in ("resource", "data")
        for resource_type, items in layers[f"{env}-{layer}"].get(kind, {}).items()
        for name, arguments in items.items()
    }


def test_the_cutover_only_adds_and_canary_changes_only_the_traffic_paths_and_removes_only_the_rolling_service(envs):
    """rolling -> cutover creates and changes nothing else (the rolling API keeps serving); cutover -> canary
    creates nothing, moves both APIs' paths and the operations layer's view of the API service, and deletes
    only the rolling service, its scaling, its NLB target group and its security group rules."""
    rolling, cutover, canary = (declared(envs, env) for env in ("rolling", "cutover", "production"))
    assert set(rolling) < set(cutover) and set(canary) < set(cutover)
    # The one difference: the NLB's task group becomes create_before_destroy (no change to plan; the cutover's apply
    # stores it in state), so the move's apply repoints the NLB's listener before it deletes the group.
    tasks_group = ("edge", "resource.aws_lb_target_group.websocket_api_target_group")
    assert [key for key in rolling if rolling[key] != cutover[key]] == [tasks_group]
    assert {**rolling[tasks_group], "lifecycle": {"create_before_destroy": True, "prevent_destroy": True}} == cutover[tasks_group]
    changed = sorted(key for key in canary if canary[key] != cutover[key])
    assert changed == [
        ("edge", "resource.aws_apigatewayv2_integration.http_api_integration"),
        ("edge", "resource.aws_lb_listener.websocket_api_listener"),
        ("operations", "resource.aws_cloudwatch_dashboard.dashboard"),
        ("operations", "resource.aws_cloudwatch_metric_alarm.api_tasks_alarm"),
    ]
    assert sorted(set(cutover) - set(canary)) == [
        ("edge", "resource.aws_lb_target_group.websocket_api_target_group"),
        *(("network", f"resource.{rule}") for rule in sorted((
            "aws_vpc_security_group_egress_rule.api_vpc_link_security_group_to_api_tasks_security_group_8080",
            "aws_vpc_security_group_egress_rule.websocket_nlb_security_group_to_api_tasks_security_group_8080",
            "aws_vpc_security_group_ingress_rule.api_tasks_security_group_from_api_vpc_link_security_group_8080",
            "aws_vpc_security_group_ingress_rule.api_tasks_security_group_from_websocket_nlb_security_group_8080",
        ))),
        ("services", "resource.aws_appautoscaling_policy.api_scaling_policy"),
        ("services", "resource.aws_appautoscaling_target.api_scaling_target"),
        ("services", "resource.aws_ecs_service.api_service"),
        ("services", "resource.aws_ecs_task_definition.api_service_task_definition"),
    ]  # fmt: skip


def test_during_the_cutover_both_apis_stay_on_the_rolling_service_and_the_canary_waits_beside_it(envs):
    _, _, doc = envs["cutover"]
    prefix = envs["cutover"][0].resource_prefix
    discovery = name_ref(doc, "aws_service_discovery_service", "api-service", "arn")
    (integration,) = [i for i in resources(doc, "aws_apigatewayv2_integration").values() if i.get("integration_method") == "ANY"]
    assert integration["integration_uri"] == discovery
    websocket_tasks = name_ref(doc, "aws_lb_target_group", f"{prefix}-ws", "arn")
    (nlb_listener,) = [item for item in resources(doc, "aws_lb_listener").values() if item["protocol"] == "TCP"]
    assert nlb_listener["default_action"][0]["target_group_arn"] == websocket_tasks
    # The NLB's group of type alb already holds the ALB, health-checked through it, before it gets traffic.
    (attachment,) = resources(doc, "aws_lb_target_group_attachment").values()
    assert attachment["target_group_arn"] == name_ref(doc, "aws_lb_target_group", f"{prefix}-wa", "arn")
    _, rolling = api_service(doc, "api-service")
    assert "deployment_controller" not in rolling and rolling["service_registries"]["registry_arn"] == discovery
    assert rolling["load_balancer"][0]["target_group_arn"] == ref(doc, "aws_lb_listener", next(
        rid for rid, item in resources(doc, "aws_lb_listener").items() if item["protocol"] == "TCP"), "default_action[0].target_group_arn")
    blue_green_id, blue_green = api_service(doc)
    assert blue_green["deployment_controller"] == {"type": "CODE_DEPLOY"}
    assert blue_green["load_balancer"][0]["target_group_arn"] == name_ref(doc, "aws_lb_target_group", f"{prefix}-a", "arn")
    # One family: a revision CI deploys to either service is the API's.
    assert len({t["family"] for t in resources(doc, "aws_ecs_task_definition").values() if "-api" in t["family"]}) == 1
    (group,) = resources(doc, "aws_codedeploy_deployment_group").values()
    assert group["ecs_service"]["service_name"] == ref(doc, "aws_ecs_service", blue_green_id, "name")
    # Both services scale on CPU between the same bounds.
    targets = sorted(t["resource_id"] for t in resources(doc, "aws_appautoscaling_target").values() if t["resource_id"].startswith("service/") and "api" in t["resource_id"])
    assert len(targets) == 2 and all(t["min_capacity"] == 2 for t in resources(doc, "aws_appautoscaling_target").values() if "api" in t["resource_id"])
    # The tasks admit the VPC link and the NLB (the rolling path) and the ALB (the canary's).
    tasks_ref, ingress, _ = group_rules(doc, f"{prefix}-api-tasks")
    sources = sorted(r["referenced_security_group_id"] for r in ingress if "referenced_security_group_id" in r)
    assert sources == sorted(name_ref(doc, "aws_security_group", name, "id") for name in (f"{prefix}-api-vpc-link", f"{prefix}-ws-nlb", f"{prefix}-api-alb"))


def test_during_the_cutover_ci_deploys_the_rolling_service_and_the_deploy_role_may_release_the_other(envs):
    config, layers, doc = envs["cutover-releasers"]
    prefix = config.resource_prefix
    outputs = {name: output["value"] for name, output in layers["cutover-releasers-services"]["output"].items()}
    assert outputs["api_release_strategy"] == "cutover"
    assert outputs["api_service_name"] == name_ref(doc, "aws_ecs_service", "api-service", "name")
    assert outputs["api_blue_green_service_name"] == name_ref(doc, "aws_ecs_service", "api-blue-green", "name")
    assert outputs["api_codedeploy_application_name"] == name_ref(doc, "aws_codedeploy_app", f"{prefix}-api", "name")
    internal = {name: output["value"] for name, output in layers["cutover-releasers-edge"]["output"].items()}["api_internal_url"]
    assert "cross_stack_output_aws_service_discovery_service_api_discovery_service_name" in internal, internal  # Cloud Map, as under rolling
    # CI and pushes keep deploying the serving (rolling) service the ECS way until the move; the operator who
    # applies the cutover releases the serving image to api-blue-green once, with the operator's own credentials.
    for releaser in ("github-actions", "ecs-updater"):
        grants = role_grants(doc, f"{prefix}-{releaser}")
        assert "api-service-deploy" in grants and "worker-service-deploy" in grants, releaser
        assert "api-blue-green-deploy" not in grants and "api-release-release" not in grants, releaser
    (function,) = resources(doc, "aws_lambda_function").values() if len(resources(doc, "aws_lambda_function")) == 1 else [
        f for f in resources(doc, "aws_lambda_function").values() if f["function_name"] == f"{prefix}-ecs-updater"]
    assert "codedeploy" not in function["environment"]["variables"]["SERVICE_MAP"]
