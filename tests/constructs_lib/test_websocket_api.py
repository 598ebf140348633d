"""WebSocket API: internal NLB, v1 VPC link, per-route integrations, $connect authorizer, deployment, stage, account role."""

from __future__ import annotations

import re

import pytest
from cdktf import Fn, TerraformOutput

from constructs_lib.http_api import RequestAuthorizer
from constructs_lib.iam import ServiceRole, ServiceRoleProps
from constructs_lib.policy import accepted_findings, checkov_skips
from constructs_lib.security_groups import AppSecurityGroup, AppSecurityGroupProps
from constructs_lib.websocket_api import (
    ACCESS_LOG_FIELDS,
    API_GATEWAY_LOGS_ACTIONS,
    AlbTarget,
    ApiGatewayAccount,
    ApiGatewayAccountProps,
    WebSocketApi,
    WebSocketApiProps,
)
from tests.support import at, data_sources, logical_id, only, ref, resources, synth_construct

ROLE_ARN = "arn:aws:iam::111122223333:role/cot-apigateway-cloudwatch"
REQUIRED = dict(
    name="cot-ws",
    load_balancer_name="cot-ws",
    vpc_id="vpc-1",
    subnet_ids=("subnet-a", "subnet-b"),
    container_port=8080,
    account_logging_role_arn=ROLE_ARN,
)
PATHS = {"$connect": "/ws/connect", "$disconnect": "/ws/disconnect", "$default": "/ws/message"}


def props(**overrides) -> WebSocketApiProps:
    return WebSocketApiProps(**{**REQUIRED, **overrides})


@pytest.fixture(scope="module")
def document():
    """The API with defaults, wired the way the stack wires it: the NLB's
    group reaches a stand-in for the API tasks' group, the task role may
    manage connections, and the attributes are outputs."""

    def make(stack):
        api = WebSocketApi(stack, "websocket-api", props())
        tasks = AppSecurityGroup(stack, "api-tasks", AppSecurityGroupProps(name="cot-api-tasks", vpc_id="vpc-1", description="API tasks"))
        api.load_balancer_security_group.connect(tasks, 8080, "WebSocket NLB to the API tasks")
        role = ServiceRole(stack, "api-task-role", ServiceRoleProps(name="cot-api-task", service="ecs-tasks.amazonaws.com"))
        api.grant_manage_connections(role)
        for name in ("websocket_gateway_url", "websocket_callback_url", "target_group_arn", "load_balancer_dns_name", "vpc_link_id", "websocket_api_id"):
            TerraformOutput(stack, name, value=getattr(api, name))

    return synth_construct(make)


@pytest.fixture(scope="module")
def account():
    return synth_construct(lambda stack: ApiGatewayAccount(stack, "apigateway-account", ApiGatewayAccountProps(role_name="cot-apigateway-cloudwatch")))


def outputs(document):
    return {name: output["value"] for name, output in document["output"].items()}


def lb_ref(document, attribute):
    return ref(document, "aws_lb", logical_id(resources(document, "aws_lb"), "websocket-api/load-balancer"), attribute)


def api_ref(document, attribute):
    return ref(document, "aws_apigatewayv2_api", logical_id(resources(document, "aws_apigatewayv2_api"), "websocket-api"), attribute)


def nlb_group_id(document):
    return logical_id(resources(document, "aws_security_group"), "websocket-api/load-balancer-security-group")


# -- the private path -------------------------------------------------------------------
def test_load_balancer_is_an_internal_nlb_in_the_private_subnets(document):
    lb = only(document, "aws_lb")
    assert lb["name"] == "cot-ws"
    assert lb["internal"] is True
    assert lb["load_balancer_type"] == "network"
    assert lb["subnets"] == ["subnet-a", "subnet-b"]
    assert lb["security_groups"] == [ref(document, "aws_security_group", nlb_group_id(document), "id")]
    assert lb["enable_cross_zone_load_balancing"] is True


def test_only_the_vpc_link_gets_into_the_nlb(document):
    lb = only(document, "aws_lb")
    assert lb["enforce_security_group_inbound_rules_on_private_link_traffic"] == "off"
    group = resources(document, "aws_security_group")[nlb_group_id(document)]
    assert group["vpc_id"] == "vpc-1"
    assert not group.get("ingress") and not group.get("egress")
    nlb_group = ref(document, "aws_security_group", nlb_group_id(document), "id")
    ingress = resources(document, "aws_vpc_security_group_ingress_rule").values()
    assert all(rule["security_group_id"] != nlb_group for rule in ingress)


def test_nlb_reaches_only_the_api_tasks_port(document):
    nlb_group = ref(document, "aws_security_group", nlb_group_id(document), "id")
    tasks_group = ref(document, "aws_security_group", logical_id(resources(document, "aws_security_group"), "api-tasks/security-group"), "id")
    (egress,) = resources(document, "aws_vpc_security_group_egress_rule").values()
    assert (egress["security_group_id"], egress["referenced_security_group_id"]) == (nlb_group, tasks_group)
    assert (egress["ip_protocol"], egress["from_port"], egress["to_port"]) == ("tcp", 8080, 8080)
    (ingress,) = resources(document, "aws_vpc_security_group_ingress_rule").values()
    assert (ingress["security_group_id"], ingress["referenced_security_group_id"], ingress["from_port"]) == (tasks_group, nlb_group, 8080)


def test_target_group_takes_task_ips_on_the_container_port_with_a_tcp_check(document):
    group = only(document, "aws_lb_target_group")
    assert group["target_type"] == "ip"
    assert (group["protocol"], group["port"], group["vpc_id"]) == ("TCP", 8080, "vpc-1")
    assert group["deregistration_delay"] == "30"
    assert group["health_check"] == {
        "enabled": True,
        "protocol": "TCP",
        "port": "traffic-port",
        "interval": 10,
        "healthy_threshold": 3,
        "unhealthy_threshold": 3,
    }


def test_http_health_check_when_a_path_is_given():
    document = synth_construct(lambda stack: WebSocketApi(stack, "websocket-api", props(health_check_path="/health", health_check_interval_seconds=30)))
    check = only(document, "aws_lb_target_group")["health_check"]
    assert (check["protocol"], check["path"], check["matcher"], check["interval"]) == ("HTTP", "/health", "200-399", 30)


def test_listener_forwards_tcp_on_the_container_port(document):
    listener = only(document, "aws_lb_listener")
    group_id = logical_id(resources(document, "aws_lb_target_group"), "websocket-api/target-group")
    assert listener["load_balancer_arn"] == lb_ref(document, "arn")
    assert (listener["protocol"], listener["port"]) == ("TCP", 8080)
    assert listener["default_action"] == [{"type": "forward", "target_group_arn": ref(document, "aws_lb_target_group", group_id, "arn")}]


def test_target_group_arn_is_read_through_the_listener(document):
    listener_id = logical_id(resources(document, "aws_lb_listener"), "websocket-api/listener")
    assert outputs(document)["target_group_arn"] == "${" + f"aws_lb_listener.{listener_id}.default_action[0].target_group_arn" + "}"


def test_v1_vpc_link_targets_the_nlb(document):
    link = only(document, "aws_api_gateway_vpc_link")
    assert link["target_arns"] == [lb_ref(document, "arn")]
    assert link["name"] == "cot-ws"


# -- the API -----------------------------------------------------------------------------
def test_api_is_a_websocket_api_routing_on_the_action_field(document):
    api = only(document, "aws_apigatewayv2_api")
    assert api["protocol_type"] == "WEBSOCKET"
    assert api["route_selection_expression"] == "$request.body.action"


def integrations_by_route(document):
    routes = resources(document, "aws_apigatewayv2_route").values()
    integrations = resources(document, "aws_apigatewayv2_integration")
    found = {}
    for route in routes:
        integration_id = re.fullmatch(r"integrations/\$\{aws_apigatewayv2_integration\.([^.]+)\.id\}", route["target"]).group(1)
        found[route["route_key"]] = (route, integrations[integration_id])
    return found


def test_each_builtin_route_proxies_to_its_path_on_the_nlb_through_the_v1_link(document):
    found = integrations_by_route(document)
    assert set(found) == set(PATHS)
    link = ref(document, "aws_api_gateway_vpc_link", logical_id(resources(document, "aws_api_gateway_vpc_link"), "websocket-api/vpc-link"), "id")
    for route_key, (route, integration) in found.items():
        assert route["api_id"] == integration["api_id"] == api_ref(document, "id")
        assert integration["integration_type"] == "HTTP_PROXY"
        assert integration["connection_type"] == "VPC_LINK"
        assert integration["connection_id"] == link
        assert integration["integration_method"] == "POST"
        assert integration["integration_uri"] == f"http://{lb_ref(document, 'dns_name')}:8080{PATHS[route_key]}"
        assert integration["request_parameters"] == {"integration.request.header.ConnectionId": "context.connectionId"}
        assert integration["timeout_milliseconds"] == 29000


def test_only_message_routes_answer_on_the_socket(document):
    found = integrations_by_route(document)
    assert found["$default"][0]["route_response_selection_expression"] == "$default"
    assert "route_response_selection_expression" not in found["$connect"][0]
    assert "route_response_selection_expression" not in found["$disconnect"][0]
    response = only(document, "aws_apigatewayv2_route_response")
    route_id = logical_id(resources(document, "aws_apigatewayv2_route"), "websocket-api/default-route")
    assert response["route_id"] == ref(document, "aws_apigatewayv2_route", route_id, "id")
    assert response["route_response_key"] == "$default"


def test_custom_routes_are_added_beside_the_builtin_ones():
    document = synth_construct(lambda stack: WebSocketApi(stack, "websocket-api", props(route_paths={**PATHS, "sendMessage": "/ws/send"})))
    found = integrations_by_route(document)
    assert set(found) == {*PATHS, "sendMessage"}
    assert found["sendMessage"][1]["integration_uri"].endswith(":8080/ws/send")
    assert found["sendMessage"][0]["route_response_selection_expression"] == "$default"


def test_deployment_is_redone_when_routes_or_integrations_change(document):
    deployment = only(document, "aws_apigatewayv2_deployment")
    assert deployment["lifecycle"] == {"create_before_destroy": True}
    trigger = deployment["triggers"]["redeployment"]
    assert trigger.startswith("${sha1(jsonencode([")
    for integration_id in resources(document, "aws_apigatewayv2_integration"):
        for attribute in ("id", "integration_uri", "request_parameters", "timeout_milliseconds"):
            assert f"aws_apigatewayv2_integration.{integration_id}.{attribute}" in trigger
    routes = {f"aws_apigatewayv2_route.{key}" for key in resources(document, "aws_apigatewayv2_route")}
    responses = {f"aws_apigatewayv2_route_response.{key}" for key in resources(document, "aws_apigatewayv2_route_response")}
    assert set(deployment["depends_on"]) == routes | responses


def test_stage_serves_the_deployment_with_access_logs_and_throttling(document):
    stage = only(document, "aws_apigatewayv2_stage")
    deployment_id = logical_id(resources(document, "aws_apigatewayv2_deployment"), "websocket-api/deployment")
    group_id = logical_id(resources(document, "aws_cloudwatch_log_group"), "websocket-api/access-logs/log-group")
    assert stage["name"] == "live"
    assert stage["deployment_id"] == ref(document, "aws_apigatewayv2_deployment", deployment_id, "id")
    assert "auto_deploy" not in stage
    assert stage["default_route_settings"] == {"throttling_burst_limit": 100, "throttling_rate_limit": 50}
    assert stage["access_log_settings"]["destination_arn"] == ref(document, "aws_cloudwatch_log_group", group_id, "arn")
    assert dict(re.findall(r'"(\w+)" = "(\$context[\w.]+)"', stage["access_log_settings"]["format"])) == ACCESS_LOG_FIELDS
    assert ROLE_ARN in stage["description"]  # the stage waits for the account logging role
    group = resources(document, "aws_cloudwatch_log_group")[group_id]
    assert (group["name"], group["retention_in_days"]) == ("/aws/apigateway/cot-ws", 365)


def test_stage_without_an_account_role_of_this_stack():
    document = synth_construct(lambda stack: WebSocketApi(stack, "websocket-api", props(account_logging_role_arn=None)))
    assert only(document, "aws_apigatewayv2_stage")["description"] == "Access logs written with the API Gateway account role of the region"


def test_urls(document):
    values = outputs(document)
    stage_id = logical_id(resources(document, "aws_apigatewayv2_stage"), "websocket-api/stage")
    assert values["websocket_gateway_url"] == ref(document, "aws_apigatewayv2_stage", stage_id, "invoke_url")
    callback = values["websocket_callback_url"]
    assert callback.startswith(f"https://{api_ref(document, 'id')}.execute-api.${{data.aws_region.")
    assert callback.endswith(f".dns_suffix}}/{ref(document, 'aws_apigatewayv2_stage', stage_id, 'name')}")


def test_task_role_may_manage_this_stages_connections_only(document):
    (statement,) = at(data_sources(document, "aws_iam_policy_document"), "api-task-role/websocket-api-manage-connections-policy-document")["statement"]
    stage_id = logical_id(resources(document, "aws_apigatewayv2_stage"), "websocket-api/stage")
    assert statement["actions"] == ["execute-api:ManageConnections"]
    assert statement["resources"] == [f"{api_ref(document, 'execution_arn')}/{ref(document, 'aws_apigatewayv2_stage', stage_id, 'name')}/*/@connections/*"]


def test_policy_scan_skips_name_their_reasons():
    captured = {}
    synth_construct(lambda stack: captured.setdefault("api", WebSocketApi(stack, "websocket-api", props())))
    api = captured["api"]
    assert list(checkov_skips(api.load_balancer)) == ["CKV_AWS_150", "CKV_AWS_91"]
    assert list(checkov_skips(api.stage)) == ["CKV2_AWS_51"]
    assert all(list(checkov_skips(route)) == ["CKV_AWS_309"] for route in api.routes.values())
    assert len(api.routes) == 3


def test_metrics():
    captured = {}
    synth_construct(lambda stack: captured.setdefault("api", WebSocketApi(stack, "websocket-api", props())))
    api = captured["api"]
    assert {m.metric_name for m in (api.metric_connect_count(), api.metric_message_count(), api.metric_integration_errors())} == {"ConnectCount", "MessageCount", "IntegrationError"}
    assert api.metric_message_count().dimensions["Stage"] == "live"
    unhealthy = api.metric_unhealthy_hosts()
    assert (unhealthy.namespace, unhealthy.statistic, sorted(unhealthy.dimensions)) == ("AWS/NetworkELB", "Maximum", ["LoadBalancer", "TargetGroup"])


# -- the $connect authorizer ---------------------------------------------------------------
AUTHORIZER_INVOKE_ARN = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:111122223333:function:cot-origin-verify/invocations"
CONNECT_AUTHORIZER = RequestAuthorizer(name="cot-ws-origin-verify", function_invoke_arn=AUTHORIZER_INVOKE_ARN, identity_headers=("x-origin-verify",))


@pytest.fixture(scope="module")
def authorized():
    captured = {}

    def make(stack):
        api = captured["api"] = WebSocketApi(stack, "websocket-api", props(connect_authorizer=CONNECT_AUTHORIZER))
        TerraformOutput(stack, "api_execution_arn", value=api.api_execution_arn)

    return synth_construct(make), captured["api"]


def test_connect_authorizer_is_a_lambda_request_authorizer_on_the_header(authorized):
    document, _ = authorized
    authorizer = only(document, "aws_apigatewayv2_authorizer")
    assert authorizer["authorizer_type"] == "REQUEST"
    assert authorizer["name"] == "cot-ws-origin-verify"
    assert authorizer["authorizer_uri"] == AUTHORIZER_INVOKE_ARN
    assert authorizer["api_id"] == api_ref(document, "id")
    # WebSocket syntax, not the HTTP API's $request.header.*
    assert authorizer["identity_sources"] == ["route.request.header.x-origin-verify"]
    # HTTP API-only settings that API Gateway refuses on a WebSocket authorizer.
    for setting in ("authorizer_payload_format_version", "enable_simple_responses", "authorizer_result_ttl_in_seconds"):
        assert setting not in authorizer, setting


def test_only_connect_is_authorized_the_other_routes_ride_the_connection(authorized):
    document, api = authorized
    found = integrations_by_route(document)
    authorizer_id = logical_id(resources(document, "aws_apigatewayv2_authorizer"), "websocket-api/connect-authorizer")
    connect = found["$connect"][0]
    assert (connect["authorization_type"], connect["authorizer_id"]) == ("CUSTOM", ref(document, "aws_apigatewayv2_authorizer", authorizer_id, "id"))
    for route_key in ("$disconnect", "$default"):
        route = found[route_key][0]
        assert route["authorization_type"] == "NONE" and "authorizer_id" not in route, route_key
    # The policy scan: the authorized route needs no excuse, the others keep theirs; the API has an authorizer now.
    assert checkov_skips(api.routes["$connect"]) == {}
    assert all(list(checkov_skips(api.routes[key])) == ["CKV_AWS_309"] for key in ("$disconnect", "$default"))
    assert "apigatewayv2_api_authorizers_enabled" not in accepted_findings(api.api)


def test_without_an_authorizer_no_route_is_authorized(document):
    assert not resources(document, "aws_apigatewayv2_authorizer")
    assert {route.get("authorization_type", "NONE") for route in resources(document, "aws_apigatewayv2_route").values()} == {"NONE"}


def evaluated_trigger(document) -> str:
    """The deployment trigger with each route attribute it reads replaced by that route's configured value.

    The trigger is an expression over the routes' attributes, the same text
    with or without an authorizer; what Terraform hashes is the values it
    reads, which are these.
    """
    trigger = only(document, "aws_apigatewayv2_deployment")["triggers"]["redeployment"]
    routes = resources(document, "aws_apigatewayv2_route")

    def value(match: re.Match[str]) -> str:
        return repr(routes[match.group(1)].get(match.group(2)))

    return re.sub(r"aws_apigatewayv2_route\.([^.\s,}]+)\.(authorization_type|authorizer_id)", value, trigger)


def test_deployment_is_redone_when_the_authorizer_is_added(document, authorized):
    with_authorizer, _ = authorized
    for doc in (document, with_authorizer):
        trigger = only(doc, "aws_apigatewayv2_deployment")["triggers"]["redeployment"]
        for route_id in resources(doc, "aws_apigatewayv2_route"):
            assert f"aws_apigatewayv2_route.{route_id}.authorization_type" in trigger
            assert f"aws_apigatewayv2_route.{route_id}.authorizer_id" in trigger
    before, after = evaluated_trigger(document), evaluated_trigger(with_authorizer)
    assert before != after
    assert "'CUSTOM'" in after and "'CUSTOM'" not in before


def test_api_execution_arn_is_the_apis(authorized):
    document, _ = authorized
    assert document["output"]["api_execution_arn"]["value"] == api_ref(document, "execution_arn")


# -- the release ALB as the NLB's target (canary releases) ---------------------------------------
ALB_ARN = "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/cot-lb/0123456789abcdef"


@pytest.fixture(scope="module")
def alb_targeted():
    return synth_construct(alb_targeted_stack())


def alb_targeted_stack(serving: bool = True):
    from cdktf_cdktf_provider_aws.lb import Lb
    from cdktf_cdktf_provider_aws.lb_listener import LbListener, LbListenerDefaultAction

    def make(stack):
        alb = Lb(stack, "alb", name="cot-lb", internal=True, load_balancer_type="application", subnets=["subnet-a", "subnet-b"])
        listener = LbListener(stack, "alb-listener", load_balancer_arn=alb.arn, port=8080, protocol="HTTP", default_action=[LbListenerDefaultAction(type="fixed-response")])
        target = AlbTarget(load_balancer_arn=alb.arn, port=8080, target_group_name="cot-wa", health_check_path="/healthz", listener=listener, serving=serving)
        api = WebSocketApi(stack, "websocket-api", props(alb_target=target))
        TerraformOutput(stack, "target_group_arn", value=api.target_group_arn)

    return make


def test_during_a_cutover_the_alb_group_is_made_and_attached_but_the_nlb_still_forwards_to_the_tasks():
    document = synth_construct(alb_targeted_stack(serving=False))
    groups = resources(document, "aws_lb_target_group")
    tasks_id = logical_id(groups, "websocket-api/target-group")
    alb_group_id = logical_id(groups, "websocket-api/alb-target-group")
    assert (groups[tasks_id]["target_type"], groups[alb_group_id]["target_type"]) == ("ip", "alb")
    assert only(document, "aws_lb_target_group_attachment")["target_group_arn"] == f"${{aws_lb_target_group.{alb_group_id}.arn}}"
    listener = at(resources(document, "aws_lb_listener"), "websocket-api/listener")
    assert listener["default_action"] == [{"type": "forward", "target_group_arn": f"${{aws_lb_target_group.{tasks_id}.arn}}"}]
    # So that the move to canary, which drops it, repoints the listener before deleting it (ELB refuses otherwise).
    assert groups[tasks_id]["lifecycle"] == {"create_before_destroy": True}


def test_without_an_alb_the_tasks_group_keeps_terraforms_default_order(document):
    """create_before_destroy only during a cutover: a group of the same name can't be created before the old one goes."""
    assert "lifecycle" not in only(document, "aws_lb_target_group")


def test_with_an_alb_target_the_nlb_forwards_to_the_alb_through_an_alb_type_group(alb_targeted):
    group = only(alb_targeted, "aws_lb_target_group")
    # A new name: the target type cannot change in place, so the group is replaced.
    assert group["name"] == "cot-wa" != REQUIRED["load_balancer_name"]
    # ELB: an alb-type group is TCP, on the ALB listener's port.
    assert (group["target_type"], group["protocol"], group["port"], group["vpc_id"]) == ("alb", "TCP", 8080, "vpc-1")
    check = group["health_check"]
    # It checks the ALB over HTTP(S) only, so the tasks behind it answer.
    assert (check["protocol"], check["path"], check["port"], check["matcher"]) == ("HTTP", "/healthz", "traffic-port", "200-499")
    group_id = logical_id(resources(alb_targeted, "aws_lb_target_group"), "websocket-api/alb-target-group")
    nlb_listener = at(resources(alb_targeted, "aws_lb_listener"), "websocket-api/listener")
    assert nlb_listener["default_action"] == [{"type": "forward", "target_group_arn": ref(alb_targeted, "aws_lb_target_group", group_id, "arn")}]


def test_the_alb_is_the_one_target_registered_on_its_listener_port_once_the_listener_exists(alb_targeted):
    attachment = only(alb_targeted, "aws_lb_target_group_attachment")
    group_id = logical_id(resources(alb_targeted, "aws_lb_target_group"), "websocket-api/alb-target-group")
    alb_id = "alb"  # a top-level construct keeps its ID
    assert attachment["target_group_arn"] == ref(alb_targeted, "aws_lb_target_group", group_id, "arn")
    assert attachment["target_id"] == ref(alb_targeted, "aws_lb", alb_id, "arn")
    assert attachment["port"] == 8080
    # ELB registers an ALB only once it has a listener on the group's port: the registration waits for it.
    assert "aws_lb_listener.alb-listener" in attachment["depends_on"]


def test_without_an_alb_target_the_tasks_register_in_an_ip_group(document):
    assert only(document, "aws_lb_target_group")["target_type"] == "ip"
    assert not resources(document, "aws_lb_target_group_attachment")


def test_the_alb_target_groups_arn_is_what_the_stack_reads(alb_targeted):
    listener_id = logical_id(resources(alb_targeted, "aws_lb_listener"), "websocket-api/listener")
    assert alb_targeted["output"]["target_group_arn"]["value"] == "${" + f"aws_lb_listener.{listener_id}.default_action[0].target_group_arn" + "}"


# -- the account setting -------------------------------------------------------------------
def test_account_setting_points_at_a_role_api_gateway_assumes(account):
    role_id = logical_id(resources(account, "aws_iam_role"), "apigateway-account/role")
    assert only(account, "aws_api_gateway_account")["cloudwatch_role_arn"] == ref(account, "aws_iam_role", role_id, "arn")
    assert only(account, "aws_iam_role")["name"] == "cot-apigateway-cloudwatch"
    (trust,) = at(data_sources(account, "aws_iam_policy_document"), "apigateway-account/trust")["statement"]
    assert trust["principals"] == [{"type": "Service", "identifiers": ["apigateway.amazonaws.com"]}]
    assert trust["actions"] == ["sts:AssumeRole"]
    assert "condition" not in trust


def test_account_role_creates_and_writes_only_api_gateway_log_groups_of_this_account_and_region(account):
    write, groups, streams = at(data_sources(account, "aws_iam_policy_document"), "apigateway-account/write-logs-policy-document")["statement"]
    # Together, the managed policy AmazonAPIGatewayPushToCloudWatchLogs's actions without its reads.
    assert sorted(write["actions"] + groups["actions"] + streams["actions"]) == sorted(API_GATEWAY_LOGS_ACTIONS) == sorted(
        ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups", "logs:DescribeLogStreams", "logs:PutLogEvents"]
    )
    assert sorted(write["actions"]) == ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    for resource in write["resources"] + streams["resources"]:
        assert resource.startswith("arn:${data.aws_partition.") and ":logs:${data.aws_region." in resource and "${data.aws_caller_identity." in resource
    # Access log groups (/aws/apigateway/<api name>) and the execution log groups API Gateway makes, and their streams: no other group.
    assert [resource.split(":log-group:", 1)[1] for resource in write["resources"]] == [
        "/aws/apigateway/*",
        "/aws/apigateway/*:log-stream:*",
        "API-Gateway-Execution-Logs_*",
        "API-Gateway-Execution-Logs_*:log-stream:*",
    ]
    # Listing reads names and settings, never events. DescribeLogGroups has no resource type, so an ARN would
    # match none of its requests: "*". DescribeLogStreams names its group: the region's groups.
    assert (groups["actions"], groups["resources"]) == (["logs:DescribeLogGroups"], ["*"])
    # ... in the stack's region only, as the ARN said before.
    ((test, variable, (region,)),) = [(c["test"], c["variable"], tuple(c["values"])) for c in groups["condition"]]
    assert (test, variable) == ("StringEquals", "aws:RequestedRegion") and region.startswith("${data.aws_region.")
    assert streams["actions"] == ["logs:DescribeLogStreams"]
    (listed,) = streams["resources"]
    assert listed.endswith(":log-group:*")


@pytest.mark.parametrize(
    ("group", "writable"),
    [
        ("/aws/apigateway/circle-of-trust-ws", True),  # a WebSocket stage's access logs
        ("/aws/apigateway/circle-of-trust-staging-ws", True),  # another environment's stage, same account and region
        ("/aws/apigateway/welcome", True),
        ("API-Gateway-Execution-Logs_a1b2c3/live", True),
        ("/aws/cloudtrail/circle-of-trust", False),
        ("/ecs/circle-of-trust-api", False),
        ("/aws/lambda/circle-of-trust-ecs-updater", False),
        ("/aws/vpc/flow-logs", False),
    ],
)
def test_account_role_patterns_match_api_gateway_groups_only(account, group, writable):
    import fnmatch

    write, *_ = at(data_sources(account, "aws_iam_policy_document"), "apigateway-account/write-logs-policy-document")["statement"]
    patterns = [resource.split(":log-group:", 1)[1] for resource in write["resources"]]
    for target in (group, f"{group}:log-stream:2024/01/01/abc"):
        assert any(fnmatch.fnmatchcase(target, pattern) for pattern in patterns) is writable, target


# -- props -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "a b"}, "name must be 1-128 letters, digits, '-', '_' and '.', but 'a b' was provided"),
        ({"load_balancer_name": "x" * 33}, "load_balancer_name must be 1-32 letters, digits and '-', not starting or ending with '-', but 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' was provided"),
        ({"load_balancer_name": "-ws"}, "load_balancer_name must be 1-32 letters"),
        ({"subnet_ids": ("subnet-a",)}, "subnet_ids must hold at least 2 subnets (one per zone), but 1 was provided"),
        ({"container_port": 0}, "container_port must be between 1 and 65535, but 0 was provided"),
        ({"route_paths": {"$default": "/ws"}}, "route_paths must hold $connect, $disconnect, $default, but $connect, $disconnect was not provided"),
        ({"route_paths": {**PATHS, "$default": "ws"}}, "route_paths['$default'] must be a path starting with '/', but 'ws' was provided"),
        ({"route_paths": {**PATHS, "$bad": "/x"}}, "route_paths keys must be $connect, $disconnect, $default or a route name"),
        ({"stage_name": "$default"}, "stage_name must be 1-128 letters, digits, '-' and '_', but '$default' was provided"),
        ({"throttling_burst_limit": 5001}, "throttling_burst_limit must be between 0 and 5000, but 5001 was provided"),
        ({"throttling_rate_limit": 10001}, "throttling_rate_limit must be between 0 and 10000, but 10001 was provided"),
        ({"log_retention_days": 0}, "log_retention_days must be one of 1, 3, 5,"),
        ({"integration_timeout_milliseconds": 30000}, "integration_timeout_milliseconds must be between 50 and 29000, but 30000 was provided"),
        ({"health_check_path": "health"}, "health_check_path must be a path starting with '/', but 'health' was provided"),
        ({"health_check_interval_seconds": 4}, "health_check_interval_seconds must be between 5 and 300, but 4 was provided"),
        ({"healthy_threshold_count": 1}, "healthy_threshold_count must be between 2 and 10, but 1 was provided"),
        ({"unhealthy_threshold_count": 11}, "unhealthy_threshold_count must be between 2 and 10, but 11 was provided"),
        ({"deregistration_delay_seconds": 3601}, "deregistration_delay_seconds must be between 0 and 3600, but 3601 was provided"),
    ],
)
def test_props_name_the_field_the_allowed_values_and_the_value(overrides, message):
    with pytest.raises(ValueError) as caught:
        props(**overrides)
    assert str(caught.value).startswith("WebSocketApiProps: ")
    assert message in str(caught.value)


def test_props_report_every_problem_at_once():
    with pytest.raises(ValueError) as caught:
        props(container_port=0, subnet_ids=(), stage_name="")
    assert str(caught.value).count("; ") == 2


def test_account_props_check_the_role_name():
    with pytest.raises(ValueError, match=r"role_name must be 1-64 letters, digits and \+=,\.@_-, but 'a b' was provided"):
        ApiGatewayAccountProps(role_name="a b")


def test_tokens_are_not_checked_at_synth():
    props(route_paths={**PATHS, "$default": Fn.lower("/known-at-apply")})
