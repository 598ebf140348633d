"""HTTP API: VPC link, Cloud Map integration, $default route and stage, CORS, logs, JWT or REQUEST authorizer."""

from __future__ import annotations

import re

import pytest
from cdktf import Fn, TerraformOutput

from constructs_lib.http_api import ACCESS_LOG_FIELDS, HttpApi, HttpApiProps, RequestAuthorizer
from constructs_lib.policy import accepted_findings, checkov_skips
from tests.support import logical_id, only, ref, resources, synth_construct

SERVICE_ARN = "arn:aws:servicediscovery:us-east-1:111122223333:service/srv-abc"
ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool"
AUTHORIZER_INVOKE_ARN = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:111122223333:function:cot-origin-verify/invocations"
ORIGIN_VERIFY = RequestAuthorizer(name="cot-api-origin-verify", function_invoke_arn=AUTHORIZER_INVOKE_ARN, identity_headers=("x-origin-verify",), result_ttl_seconds=120)
REQUIRED = dict(
    name="cot-api",
    subnet_ids=("subnet-a", "subnet-b"),
    vpc_link_security_group_ids=("sg-link",),
    integration_target_arn=SERVICE_ARN,
    cors_allow_origins=("https://app.example.com",),
)


def props(**overrides) -> HttpApiProps:
    return HttpApiProps(**{**REQUIRED, **overrides})


def build(**overrides):
    return synth_construct(lambda stack: HttpApi(stack, "http-api", props(**overrides)))


@pytest.fixture(scope="module")
def open_api():
    return build()


@pytest.fixture(scope="module")
def jwt_api():
    return build(jwt_issuer=ISSUER, jwt_audience=("client-1",), throttling_burst_limit=50, throttling_rate_limit=20, log_retention_days=90)


@pytest.fixture(scope="module")
def request_api():
    return build(request_authorizer=ORIGIN_VERIFY)


def api_ref(document, attribute):
    return ref(document, "aws_apigatewayv2_api", logical_id(resources(document, "aws_apigatewayv2_api"), "http-api"), attribute)


def test_vpc_link_sits_in_the_private_subnets_with_its_own_group(open_api):
    link = only(open_api, "aws_apigatewayv2_vpc_link")
    assert link["name"] == "cot-api"
    assert link["subnet_ids"] == ["subnet-a", "subnet-b"]
    assert link["security_group_ids"] == ["sg-link"]


def test_integration_proxies_everything_to_the_cloud_map_service_through_the_link(open_api):
    integration = only(open_api, "aws_apigatewayv2_integration")
    link_id = logical_id(resources(open_api, "aws_apigatewayv2_vpc_link"), "http-api/vpc-link")
    assert integration["api_id"] == api_ref(open_api, "id")
    assert integration["integration_type"] == "HTTP_PROXY"
    assert integration["integration_uri"] == SERVICE_ARN
    assert integration["integration_method"] == "ANY"
    assert integration["connection_type"] == "VPC_LINK"
    assert integration["connection_id"] == ref(open_api, "aws_apigatewayv2_vpc_link", link_id, "id")
    assert integration["payload_format_version"] == "1.0"
    assert integration["timeout_milliseconds"] == 30000


def test_one_default_route_to_the_integration_without_authorizer_by_default(open_api):
    route = only(open_api, "aws_apigatewayv2_route")
    integration_id = logical_id(resources(open_api, "aws_apigatewayv2_integration"), "http-api/integration")
    assert route["route_key"] == "$default"
    assert route["target"] == f"integrations/{ref(open_api, 'aws_apigatewayv2_integration', integration_id, 'id')}"
    assert route["authorization_type"] == "NONE"
    assert "authorizer_id" not in route
    assert not resources(open_api, "aws_apigatewayv2_authorizer")


def test_api_is_http_with_cors_for_the_frontend_origin_only(open_api):
    api = only(open_api, "aws_apigatewayv2_api")
    assert api["protocol_type"] == "HTTP"
    assert api["disable_execute_api_endpoint"] is False
    assert api["cors_configuration"] == {
        "allow_origins": ["https://app.example.com"],
        "allow_methods": ["DELETE", "GET", "PATCH", "POST", "PUT"],
        "allow_headers": ["authorization", "content-type"],
        "allow_credentials": False,
        "max_age": 3600,
    }


def test_default_stage_auto_deploys_with_default_throttling(open_api):
    stage = only(open_api, "aws_apigatewayv2_stage")
    assert stage["api_id"] == api_ref(open_api, "id")
    assert stage["name"] == "$default"
    assert stage["auto_deploy"] is True
    assert stage["default_route_settings"] == {"throttling_burst_limit": 200, "throttling_rate_limit": 100}


def test_access_logs_are_json_in_a_retained_group(open_api):
    stage = only(open_api, "aws_apigatewayv2_stage")
    group_id = logical_id(resources(open_api, "aws_cloudwatch_log_group"), "http-api/access-logs/log-group")
    group = resources(open_api, "aws_cloudwatch_log_group")[group_id]
    assert group["name"] == "/aws/apigateway/cot-api"
    assert group["retention_in_days"] == 365
    settings = stage["access_log_settings"]
    assert settings["destination_arn"] == ref(open_api, "aws_cloudwatch_log_group", group_id, "arn")
    # jsonencode, not a JSON string: valid in the HCL export too.
    assert settings["format"].startswith("${jsonencode({") and settings["format"].endswith("})}")
    pairs = dict(re.findall(r'"(\w+)" = "(\$context[\w.]+)"', settings["format"]))
    assert pairs == ACCESS_LOG_FIELDS


def test_jwt_authorizer_guards_the_route_with_the_pool_issuer_and_client(jwt_api):
    authorizer = only(jwt_api, "aws_apigatewayv2_authorizer")
    assert authorizer["authorizer_type"] == "JWT"
    assert authorizer["identity_sources"] == ["$request.header.Authorization"]
    assert authorizer["jwt_configuration"] == {"issuer": ISSUER, "audience": ["client-1"]}
    assert authorizer["api_id"] == api_ref(jwt_api, "id")
    route = only(jwt_api, "aws_apigatewayv2_route")
    authorizer_id = logical_id(resources(jwt_api, "aws_apigatewayv2_authorizer"), "http-api/jwt-authorizer")
    assert route["authorization_type"] == "JWT"
    assert route["authorizer_id"] == ref(jwt_api, "aws_apigatewayv2_authorizer", authorizer_id, "id")


def test_request_authorizer_is_a_lambda_with_payload_2_0_simple_responses_and_the_header_as_identity(request_api):
    authorizer = only(request_api, "aws_apigatewayv2_authorizer")
    assert authorizer["authorizer_type"] == "REQUEST"
    assert authorizer["name"] == "cot-api-origin-verify"
    assert authorizer["authorizer_uri"] == AUTHORIZER_INVOKE_ARN
    assert authorizer["authorizer_payload_format_version"] == "2.0"
    assert authorizer["enable_simple_responses"] is True
    assert authorizer["identity_sources"] == ["$request.header.x-origin-verify"]
    assert authorizer["authorizer_result_ttl_in_seconds"] == 120
    assert authorizer["api_id"] == api_ref(request_api, "id")
    assert "jwt_configuration" not in authorizer


def test_request_authorizer_guards_the_route_as_custom(request_api):
    route = only(request_api, "aws_apigatewayv2_route")
    authorizer_id = logical_id(resources(request_api, "aws_apigatewayv2_authorizer"), "http-api/request-authorizer")
    assert route["authorization_type"] == "CUSTOM"
    assert route["authorizer_id"] == ref(request_api, "aws_apigatewayv2_authorizer", authorizer_id, "id")


def test_request_authorizer_identity_takes_every_header_given():
    authorizer = RequestAuthorizer(name="a", function_invoke_arn=AUTHORIZER_INVOKE_ARN, identity_headers=("x-origin-verify", "authorization"))
    document = build(request_authorizer=authorizer)
    found = only(document, "aws_apigatewayv2_authorizer")
    assert found["identity_sources"] == ["$request.header.x-origin-verify", "$request.header.authorization"]
    assert found["authorizer_result_ttl_in_seconds"] == 300


def test_throttling_and_retention_come_from_props(jwt_api):
    assert only(jwt_api, "aws_apigatewayv2_stage")["default_route_settings"] == {"throttling_burst_limit": 50, "throttling_rate_limit": 20}
    assert only(jwt_api, "aws_cloudwatch_log_group")["retention_in_days"] == 90


def test_attributes_and_metrics():
    captured = {}

    def make(stack):
        api = captured["api"] = HttpApi(stack, "http-api", props())
        for name in ("api_gateway_url", "api_id", "stage_name", "vpc_link_id", "access_log_group_name"):
            TerraformOutput(stack, name, value=getattr(api, name))

    document = synth_construct(make)
    outputs = {name: output["value"] for name, output in document["output"].items()}
    assert outputs["api_gateway_url"] == api_ref(document, "api_endpoint")
    assert outputs["api_id"] == api_ref(document, "id")
    assert outputs["stage_name"].startswith("${aws_apigatewayv2_stage.") and outputs["stage_name"].endswith(".name}")
    assert outputs["vpc_link_id"].startswith("${aws_apigatewayv2_vpc_link.")
    assert outputs["access_log_group_name"].startswith("${aws_cloudwatch_log_group.")
    api = captured["api"]
    metric = api.metric_server_errors()
    assert (metric.namespace, metric.metric_name, metric.statistic) == ("AWS/ApiGateway", "5xx", "Sum")
    assert metric.dimensions["Stage"] == "$default"
    assert api.metric_latency().statistic == "Average"
    assert {m.metric_name for m in (api.metric_count(), api.metric_client_errors(), api.metric_integration_latency())} == {"Count", "4xx", "IntegrationLatency"}


def test_policy_scan_skip_only_for_the_open_route():
    captured = {}
    synth_construct(lambda stack: captured.setdefault("open", HttpApi(stack, "http-api", props())))
    synth_construct(lambda stack: captured.setdefault("jwt", HttpApi(stack, "http-api", props(jwt_issuer=ISSUER, jwt_audience=("c",)))))
    assert list(checkov_skips(captured["open"].default_route)) == ["CKV_AWS_309"]
    assert checkov_skips(captured["jwt"].default_route) == {}


def test_a_request_authorizer_needs_no_open_route_excuse():
    captured = {}
    synth_construct(lambda stack: captured.setdefault("open", HttpApi(stack, "http-api", props())))
    synth_construct(lambda stack: captured.setdefault("request", HttpApi(stack, "http-api", props(request_authorizer=ORIGIN_VERIFY))))
    assert "apigatewayv2_api_authorizers_enabled" in accepted_findings(captured["open"].api)
    assert checkov_skips(captured["request"].default_route) == {}
    assert "apigatewayv2_api_authorizers_enabled" not in accepted_findings(captured["request"].api)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "bad name"}, "name must be 1-128 letters, digits, '-', '_' and '.', but 'bad name' was provided"),
        ({"subnet_ids": ()}, "subnet_ids must hold at least one subnet, but none was provided"),
        ({"vpc_link_security_group_ids": ()}, "vpc_link_security_group_ids must hold at least one group, but none was provided"),
        ({"integration_target_arn": "srv-abc"}, "integration_target_arn must be a Cloud Map service ARN or an ALB listener ARN, but 'srv-abc' was provided"),
        ({"cors_allow_origins": ()}, "cors_allow_origins must hold at least one origin, but none was provided"),
        ({"cors_allow_origins": ("*",)}, "cors_allow_origins must be origins such as https://app.example.com (scheme and host, no path, no '*'), but '*' was provided"),
        ({"cors_allow_origins": ("https://app.example.com/",)}, "but 'https://app.example.com/' was provided"),
        ({"cors_allow_methods": ("GET", "TRACE")}, "cors_allow_methods must be one of DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT, but 'TRACE' was provided"),
        ({"cors_max_age_seconds": 86401}, "cors_max_age_seconds must be between 0 and 86400, but 86401 was provided"),
        ({"throttling_burst_limit": 5001}, "throttling_burst_limit must be between 0 and 5000, but 5001 was provided"),
        ({"throttling_rate_limit": -1}, "throttling_rate_limit must be between 0 and 10000, but -1 was provided"),
        ({"integration_timeout_milliseconds": 30001}, "integration_timeout_milliseconds must be between 50 and 30000, but 30001 was provided"),
        ({"jwt_issuer": "http://issuer", "jwt_audience": ("c",)}, "jwt_issuer must be an https:// issuer URL, but 'http://issuer' was provided"),
        ({"jwt_issuer": ISSUER}, "jwt_audience must hold at least one client id with jwt_issuer, but none was provided"),
        ({"jwt_audience": ("c",)}, "jwt_audience needs jwt_issuer, but only jwt_audience ['c'] was provided"),
        ({"log_retention_days": 2}, "log_retention_days must be one of 1, 3, 5, 7, 14, 30,"),
        (
            {"jwt_issuer": ISSUER, "jwt_audience": ("c",), "request_authorizer": ORIGIN_VERIFY},
            "jwt_issuer and request_authorizer exclude each other: a route has one authorizer",
        ),
    ],
)
def test_props_name_the_field_the_allowed_values_and_the_value(overrides, message):
    with pytest.raises(ValueError) as caught:
        props(**overrides)
    assert str(caught.value).startswith("HttpApiProps: ")
    assert message in str(caught.value)


def test_props_report_every_problem_at_once():
    with pytest.raises(ValueError) as caught:
        props(subnet_ids=(), throttling_burst_limit=-1, cors_allow_origins=("*",))
    assert str(caught.value).count("; ") == 2


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"identity_headers": ()}, "RequestAuthorizer: identity_headers must hold at least one header, but none was provided"),
        ({"result_ttl_seconds": 3601}, "RequestAuthorizer: result_ttl_seconds must be between 0 and 3600, but 3601 was provided"),
    ],
)
def test_request_authorizer_props_name_the_field_and_the_value(overrides, message):
    with pytest.raises(ValueError) as caught:
        RequestAuthorizer(**{"name": "a", "function_invoke_arn": AUTHORIZER_INVOKE_ARN, "identity_headers": ("x-origin-verify",), **overrides})
    assert str(caught.value) == message


def test_tokens_are_not_checked_at_synth():
    token = Fn.lower("known at apply")
    props(integration_target_arn=token, cors_allow_origins=(f"https://{token}",), jwt_issuer=f"https://{token}", jwt_audience=(token,))


# -- the release ALB's listener as the target (canary releases) ------------------------------------
LISTENER_ARN = "arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/cot-lb/0123456789abcdef/fedcba9876543210"


def test_the_integration_may_target_the_release_albs_listener_through_the_link():
    document = build(integration_target_arn=LISTENER_ARN, integration_target_is_load_balancer=True)
    integration = only(document, "aws_apigatewayv2_integration")
    link_id = logical_id(resources(document, "aws_apigatewayv2_vpc_link"), "http-api/vpc-link")
    # An HTTP API private integration with an ALB: the listener's ARN, through the VPC link, every method proxied.
    assert integration["integration_uri"] == LISTENER_ARN
    assert (integration["integration_type"], integration["integration_method"]) == ("HTTP_PROXY", "ANY")
    assert (integration["connection_type"], integration["connection_id"]) == ("VPC_LINK", ref(document, "aws_apigatewayv2_vpc_link", link_id, "id"))
    assert "load balancer" in integration["description"] and "Cloud Map" not in integration["description"]


def test_the_cloud_map_integration_says_so(open_api):
    assert "Cloud Map" in only(open_api, "aws_apigatewayv2_integration")["description"]


@pytest.mark.parametrize(
    "target",
    [
        "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/cot-lb/0123456789abcdef",  # the ALB, not its listener
        "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/cot-a/0123456789abcdef",
        "arn:aws:servicediscovery:us-east-1:111122223333:namespace/ns-abc",
    ],
)
def test_other_arns_are_not_integration_targets(target):
    with pytest.raises(ValueError, match="integration_target_arn must be a Cloud Map service ARN or an ALB listener ARN"):
        props(integration_target_arn=target)


def test_cloud_map_services_and_alb_listeners_of_other_partitions_are_targets():
    props(integration_target_arn="arn:aws-us-gov:elasticloadbalancing:us-gov-west-1:111122223333:listener/app/cot-lb/0123456789abcdef/fedcba9876543210")
    props(integration_target_arn="arn:aws-cn:servicediscovery:cn-north-1:111122223333:service/srv-abc")
