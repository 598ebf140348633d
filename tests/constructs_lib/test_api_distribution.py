"""ApiDistribution: CloudFront in front of an API Gateway API, uncached, HTTPS only, behind the web ACL."""

from __future__ import annotations

import pytest
from cdktf import TerraformOutput

from constructs_lib.api_distribution import ApiDistribution, ApiDistributionProps
from constructs_lib.policy import accepted_findings, checkov_skips
from tests.support import logical_id, only, ref, resources, synth_construct

WEB_ACL = "arn:aws:wafv2:us-east-1:111122223333:global/webacl/cot/1"
FUNCTION = "arn:aws:cloudfront::111122223333:function/cot-origin-verify"
CERTIFICATE = "arn:aws:acm:us-east-1:111122223333:certificate/abc"
HTTP_ORIGIN = "abc123.execute-api.eu-west-1.amazonaws.com"
WS_ORIGIN = "def456.execute-api.eu-west-1.amazonaws.com"
# AWS's managed policies, the same IDs in every account (CloudFront developer guide, "Use managed cache policies"
# and "Use managed origin request policies").
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def props(**overrides) -> ApiDistributionProps:
    defaults = dict(name="cot-api", kind="http", origin_domain_name=HTTP_ORIGIN, web_acl_arn=WEB_ACL, viewer_request_function_arn=FUNCTION)
    return ApiDistributionProps(**{**defaults, **overrides})


def build(**overrides):
    captured = {}

    def make(stack):
        captured["distribution"] = distribution = ApiDistribution(stack, "api-distribution", props(**overrides))
        for name in ("url", "distribution_id", "domain_name", "hosted_zone_id"):
            TerraformOutput(stack, name, value=getattr(distribution, name))
        TerraformOutput(stack, "metric_distribution_id", value=distribution.metric("Requests").dimensions["DistributionId"])

    return synth_construct(make), captured["distribution"]


@pytest.fixture(scope="module")
def http():
    return build()


@pytest.fixture(scope="module")
def websocket():
    return build(name="cot-ws", kind="websocket", origin_domain_name=WS_ORIGIN, origin_path="/live")


@pytest.fixture(scope="module")
def custom_domain():
    return build(aliases=("api.app.example.com",), certificate_arn=CERTIFICATE)


def distribution_ref(document, attribute):
    return ref(document, "aws_cloudfront_distribution", logical_id(resources(document, "aws_cloudfront_distribution"), "api-distribution"), attribute)


# -- caching and forwarding -----------------------------------------------------------------
@pytest.mark.parametrize("mode", ["http", "websocket"])
def test_nothing_is_cached_and_every_viewer_header_but_host_reaches_the_api(mode, request):
    document, _ = request.getfixturevalue(mode)
    behavior = only(document, "aws_cloudfront_distribution")["default_cache_behavior"]
    assert behavior["cache_policy_id"] == CACHING_DISABLED
    assert behavior["origin_request_policy_id"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert "forwarded_values" not in behavior


@pytest.mark.parametrize("mode", ["http", "websocket"])
def test_viewers_reach_it_over_https_only(mode, request):
    document, _ = request.getfixturevalue(mode)
    distribution = only(document, "aws_cloudfront_distribution")
    # https-only, not redirect-to-https: a redirect would turn an API's POST into a GET.
    assert distribution["default_cache_behavior"]["viewer_protocol_policy"] == "https-only"
    assert distribution["enabled"] is True and distribution["is_ipv6_enabled"] is True
    assert distribution["http_version"] == "http2and3"


def test_http_origin_is_the_api_host_over_tls_1_2_with_its_30_second_timeout(http):
    document, _ = http
    (origin,) = only(document, "aws_cloudfront_distribution")["origin"]
    assert origin["domain_name"] == HTTP_ORIGIN
    assert "origin_path" not in origin  # $default serves the root
    assert origin["custom_origin_config"] == {
        "http_port": 80,
        "https_port": 443,
        "origin_protocol_policy": "https-only",
        "origin_ssl_protocols": ["TLSv1.2"],
        "origin_read_timeout": 30,
        "origin_keepalive_timeout": 5,
    }
    assert only(document, "aws_cloudfront_distribution")["default_cache_behavior"]["target_origin_id"] == origin["origin_id"]


def test_websocket_origin_path_is_the_stage(websocket):
    document, _ = websocket
    (origin,) = only(document, "aws_cloudfront_distribution")["origin"]
    assert (origin["domain_name"], origin["origin_path"]) == (WS_ORIGIN, "/live")
    assert origin["custom_origin_config"]["origin_protocol_policy"] == "https-only"
    assert origin["custom_origin_config"]["origin_ssl_protocols"] == ["TLSv1.2"]


def test_http_api_takes_every_method_websocket_only_the_upgrades_get(http, websocket):
    http_behavior = only(http[0], "aws_cloudfront_distribution")["default_cache_behavior"]
    ws_behavior = only(websocket[0], "aws_cloudfront_distribution")["default_cache_behavior"]
    assert sorted(http_behavior["allowed_methods"]) == ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
    assert sorted(ws_behavior["allowed_methods"]) == ["GET", "HEAD"]
    assert sorted(http_behavior["cached_methods"]) == sorted(ws_behavior["cached_methods"]) == ["GET", "HEAD"]
    assert (http_behavior["compress"], ws_behavior["compress"]) == (True, False)


# -- origin verification and WAF ---------------------------------------------------------------
@pytest.mark.parametrize("mode", ["http", "websocket"])
def test_viewer_requests_pass_the_origin_verify_function_and_the_web_acl(mode, request):
    document, _ = request.getfixturevalue(mode)
    distribution = only(document, "aws_cloudfront_distribution")
    assert distribution["default_cache_behavior"]["function_association"] == [{"event_type": "viewer-request", "function_arn": FUNCTION}]
    assert distribution["web_acl_id"] == WEB_ACL


def test_security_headers_hsts_and_nosniff(http):
    document, _ = http
    policy = only(document, "aws_cloudfront_response_headers_policy")
    headers = policy["security_headers_config"]
    assert headers["strict_transport_security"] == {"access_control_max_age_sec": 63072000, "include_subdomains": True, "preload": True, "override": True}
    assert headers["content_type_options"] == {"override": True}
    assert "cors_config" not in policy  # the HTTP API answers CORS itself
    policy_id = logical_id(resources(document, "aws_cloudfront_response_headers_policy"), "api-distribution/response-headers-policy")
    behavior = only(document, "aws_cloudfront_distribution")["default_cache_behavior"]
    assert behavior["response_headers_policy_id"] == ref(document, "aws_cloudfront_response_headers_policy", policy_id, "id")
    assert policy["name"] == "cot-api-security-headers"


# -- domains and URLs -----------------------------------------------------------------------------
def test_without_a_domain_it_serves_cloudfronts_name_with_the_default_certificate(http):
    document, _ = http
    distribution = only(document, "aws_cloudfront_distribution")
    assert "aliases" not in distribution
    assert distribution["viewer_certificate"] == {"cloudfront_default_certificate": True}
    assert document["output"]["url"]["value"] == f"https://{distribution_ref(document, 'domain_name')}"


def test_with_a_domain_it_serves_the_alias_with_its_certificate_and_tls_1_2(custom_domain):
    document, _ = custom_domain
    distribution = only(document, "aws_cloudfront_distribution")
    assert distribution["aliases"] == ["api.app.example.com"]
    assert distribution["viewer_certificate"] == {"acm_certificate_arn": CERTIFICATE, "ssl_support_method": "sni-only", "minimum_protocol_version": "TLSv1.2_2021"}
    assert document["output"]["url"]["value"] == "https://api.app.example.com"


def test_websocket_url_scheme_is_wss(websocket):
    document, _ = websocket
    assert document["output"]["url"]["value"] == f"wss://{distribution_ref(document, 'domain_name')}"
    _, ws_with_domain = build(kind="websocket", aliases=("ws.app.example.com",), certificate_arn=CERTIFICATE)
    assert ws_with_domain.url == "wss://ws.app.example.com"


def test_attributes_and_metrics_are_the_distributions(http):
    document, distribution = http
    values = {name: output["value"] for name, output in document["output"].items()}
    assert values["distribution_id"] == values["metric_distribution_id"] == distribution_ref(document, "id")
    assert values["domain_name"] == distribution_ref(document, "domain_name")
    assert values["hosted_zone_id"] == distribution_ref(document, "hosted_zone_id")
    requests = distribution.metric("Requests")
    assert (requests.namespace, requests.statistic, requests.region, requests.dimensions["Region"]) == ("AWS/CloudFront", "Sum", "us-east-1", "Global")


# -- policy scan -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "skips"),
    [
        ({}, ["CKV_AWS_86", "CKV_AWS_374", "CKV_AWS_310", "CKV_AWS_305", "CKV2_AWS_42", "CKV_AWS_174"]),
        ({"aliases": ("api.app.example.com",), "certificate_arn": CERTIFICATE}, ["CKV_AWS_86", "CKV_AWS_374", "CKV_AWS_310", "CKV_AWS_305"]),
    ],
)
def test_policy_scan_skips_never_include_the_waf_checks(overrides, skips):
    _, distribution = build(**overrides)
    found = list(checkov_skips(distribution.distribution))
    assert found == skips
    # The web ACL is what these checks ask for: they must pass, not be skipped.
    assert not {"CKV_AWS_68", "CKV2_AWS_47"} & set(found)
    assert "cloudfront_distributions_using_waf" not in accepted_findings(distribution.distribution)


# -- props ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "cot api"}, "name must be 1-60 letters, digits and '-', but 'cot api' was provided"),
        ({"kind": "rest"}, "kind must be one of http, websocket, but 'rest' was provided"),
        ({"price_class": "PriceClass_50"}, "price_class must be one of PriceClass_100, PriceClass_200, PriceClass_All, but 'PriceClass_50' was provided"),
        ({"origin_path": "live"}, "origin_path must be empty or start with '/', but 'live' was provided"),
        ({"aliases": ("Api.Example.com",), "certificate_arn": CERTIFICATE}, "aliases must be lower-case DNS names such as api.example.com, but 'Api.Example.com' was provided"),
        ({"aliases": ("api.app.example.com",)}, "aliases and certificate_arn go together"),
        ({"certificate_arn": CERTIFICATE}, "aliases and certificate_arn go together"),
        ({"hsts_max_age_seconds": 63072001}, "hsts_max_age_seconds must be between 0 and 63072000, but 63072001 was provided"),
    ],
)
def test_props_name_the_field_the_allowed_values_and_the_value(overrides, message):
    with pytest.raises(ValueError) as caught:
        props(**overrides)
    assert str(caught.value).startswith("ApiDistributionProps: ")
    assert message in str(caught.value)


def test_props_report_every_problem_at_once():
    with pytest.raises(ValueError) as caught:
        props(name="", kind="grpc", origin_path="x")
    assert str(caught.value).count("; ") == 2
