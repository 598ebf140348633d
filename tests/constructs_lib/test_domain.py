"""Custom domain: certificates validated in Route 53, aliases; and the edge layer in both domain modes.

The second half synthesizes the real edge layer (``stacks.edge_layer``)
from environment configs: a custom domain in eu-west-1 (so the CloudFront
certificate needs the us-east-1 provider alias) with Cognito SSO, a custom
domain in us-east-1, and the default endpoints; then checks they differ as
the domain rules say, and that both modes pass ``terraform validate``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import cdktf
from cdktf import TerraformOutput
from cdktf_cdktf_provider_aws.provider import AwsProvider

from constructs_lib.domain import AliasRecords, AliasRecordsProps, DnsValidatedCertificate, DnsValidatedCertificateProps
from tests.harness.terraform import Terraform
from tests.support import at, logical_id, only, ref, resources, synth_construct

ZONE = "Z0123456789ABCDEFGHIJ"
DOMAIN = "app.example.com"


# ---------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def certificates():
    def make(stack):
        east = AwsProvider(stack, "aws-us-east-1", alias="us_east_1", region="us-east-1")
        cloudfront = DnsValidatedCertificate(stack, "cloudfront-certificate", DnsValidatedCertificateProps(domain_name=DOMAIN, hosted_zone_id=ZONE, provider=east))
        api = DnsValidatedCertificate(
            stack, "api-certificate", DnsValidatedCertificateProps(domain_name=f"api.{DOMAIN}", subject_alternative_names=(f"ws.{DOMAIN}",), hosted_zone_id=ZONE)
        )
        TerraformOutput(stack, "cloudfront_certificate_arn", value=cloudfront.certificate_arn)
        TerraformOutput(stack, "api_certificate_arn", value=api.certificate_arn)

    return synth_construct(make, region="eu-west-1")


def certificate(document, path):
    return logical_id(resources(document, "aws_acm_certificate"), path)


def test_certificates_are_validated_by_dns_and_replaced_before_destroyed(certificates):
    certs = resources(certificates, "aws_acm_certificate")
    cloudfront = certs[certificate(certificates, "cloudfront-certificate")]
    api = certs[certificate(certificates, "api-certificate")]
    assert (cloudfront["domain_name"], cloudfront["validation_method"]) == (DOMAIN, "DNS")
    assert "subject_alternative_names" not in cloudfront
    assert (api["domain_name"], api["subject_alternative_names"]) == (f"api.{DOMAIN}", [f"ws.{DOMAIN}"])
    assert cloudfront["lifecycle"] == api["lifecycle"] == {"create_before_destroy": True}


def test_cloudfront_certificate_and_its_validation_use_the_us_east_1_provider(certificates):
    certs = resources(certificates, "aws_acm_certificate")
    validations = resources(certificates, "aws_acm_certificate_validation")
    assert certs[certificate(certificates, "cloudfront-certificate")]["provider"] == "aws.us_east_1"
    assert validations[logical_id(validations, "cloudfront-certificate/validation")]["provider"] == "aws.us_east_1"
    assert "provider" not in certs[certificate(certificates, "api-certificate")]
    assert "provider" not in validations[logical_id(validations, "api-certificate/validation")]
    records = resources(certificates, "aws_route53_record")
    assert all("provider" not in record for record in records.values())  # Route 53 is global


def test_one_validation_record_per_name_in_the_zone(certificates):
    records = resources(certificates, "aws_route53_record")
    for path in ("cloudfront-certificate", "api-certificate"):
        record = records[logical_id(records, f"{path}/validation-records")]
        cert = certificate(certificates, path)
        # No tolist(): a set with unknown parts becomes a wholly unknown list, and plan refuses the for_each.
        assert record["for_each"] == f"${{{{ for option in aws_acm_certificate.{cert}.domain_validation_options : option.domain_name => option }}}}"
        assert record["zone_id"] == ZONE
        assert (record["name"], record["type"], record["records"]) == (
            "${each.value.resource_record_name}",
            "${each.value.resource_record_type}",
            ["${each.value.resource_record_value}"],
        )
        assert record["ttl"] == 60 and record["allow_overwrite"] is True


def test_users_get_the_arn_only_once_acm_has_issued_the_certificate(certificates):
    validations = resources(certificates, "aws_acm_certificate_validation")
    records = resources(certificates, "aws_route53_record")
    for path, output in (("cloudfront-certificate", "cloudfront_certificate_arn"), ("api-certificate", "api_certificate_arn")):
        validation_id = logical_id(validations, f"{path}/validation")
        validation = validations[validation_id]
        assert validation["certificate_arn"] == ref(certificates, "aws_acm_certificate", certificate(certificates, path), "arn")
        record_id = logical_id(records, f"{path}/validation-records")
        assert validation["validation_record_fqdns"] == f"${{[ for key, val in aws_route53_record.{record_id}: val.fqdn]}}"
        assert certificates["output"][output]["value"] == ref(certificates, "aws_acm_certificate_validation", validation_id, "certificate_arn")


def test_alias_records_add_aaaa_for_ipv6_targets():
    document = synth_construct(
        lambda stack: AliasRecords(stack, "alias", AliasRecordsProps(name=DOMAIN, hosted_zone_id=ZONE, target_dns_name="d111.cloudfront.net", target_hosted_zone_id="Z2FDTNDATAQYW2"))
    )
    records = sorted(resources(document, "aws_route53_record").values(), key=lambda r: r["type"])
    assert [r["type"] for r in records] == ["A", "AAAA"]
    for record in records:
        assert record["name"] == DOMAIN and record["zone_id"] == ZONE
        assert record["alias"] == {"name": "d111.cloudfront.net", "zone_id": "Z2FDTNDATAQYW2", "evaluate_target_health": False}


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: DnsValidatedCertificateProps(domain_name="App.Example.com", hosted_zone_id=ZONE), "DnsValidatedCertificateProps: domain_name must be a lower-case DNS name such as app.example.com, but 'App.Example.com' was provided"),
        (lambda: DnsValidatedCertificateProps(domain_name=DOMAIN, hosted_zone_id="zone-1"), "hosted_zone_id must be a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ (upper-case letters and digits, no /hostedzone/ prefix), but 'zone-1' was provided"),
        (lambda: DnsValidatedCertificateProps(domain_name=DOMAIN, hosted_zone_id=ZONE, subject_alternative_names=(DOMAIN,)), "subject_alternative_names must not repeat domain_name, but 'app.example.com' was provided"),
        (lambda: DnsValidatedCertificateProps(domain_name=DOMAIN, hosted_zone_id=ZONE, subject_alternative_names=("bad_name",)), "subject_alternative_names must be a lower-case DNS name"),
        (lambda: DnsValidatedCertificateProps(domain_name=DOMAIN, hosted_zone_id=ZONE, validation_record_ttl_seconds=30), "validation_record_ttl_seconds must be between 60 and 172800, but 30 was provided"),
        (lambda: AliasRecordsProps(name="x", hosted_zone_id=ZONE, target_dns_name="d", target_hosted_zone_id="Z"), "AliasRecordsProps: name must be a lower-case DNS name such as app.example.com, but 'x' was provided"),
    ],
)
def test_props_name_the_field_the_allowed_values_and_the_value(build, message):
    with pytest.raises(ValueError) as caught:
        build()
    assert message in str(caught.value)


def test_props_report_every_problem_at_once():
    with pytest.raises(ValueError) as caught:
        DnsValidatedCertificateProps(domain_name="x", hosted_zone_id="z", validation_record_ttl_seconds=1)
    assert str(caught.value).count("; ") == 2



# ---------------------------------------------------------------------------
# The edge layer itself, in both domain modes
# ---------------------------------------------------------------------------
#
# The real EdgeLayer, built from configs by build_environment as main.py builds
# it: a custom domain in eu-west-1 (so the CloudFront certificate needs the
# us-east-1 provider alias) with Cognito SSO, a custom domain in us-east-1
# without SSO, and the default endpoints in us-east-1 without SSO.

METADATA_URL = "https://sso.pingone.com/your-org-id/saml/metadata"
REGION_REF = "${data.aws_region.aws_context_region.name}"
DNS_SUFFIX_REF = "${data.aws_partition.aws_context_partition.dns_suffix}"
DISTRIBUTIONS = ("frontend/distribution", "api-distribution/distribution", "websocket-distribution/distribution")


def synth_edges(configs) -> dict[str, tuple[dict, dict, Path]]:
    """Per environment: the edge stack's JSON, every layer's JSON, and the edge's synthesized folder (for terraform)."""
    from stacks.environment import build_environment

    app = cdktf.Testing.app()
    environments = {config.environment: build_environment(app, config) for config in configs}
    app.synth()
    outdir = Path(app.outdir) / "stacks"
    result = {}
    for name, environment in environments.items():
        layers = {layer.node.id: json.loads((outdir / layer.node.id / "cdk.tf.json").read_text()) for layer in environment.layers}
        result[name] = (layers[f"{name}-edge"], layers, outdir / f"{name}-edge")
    return result


@pytest.fixture(scope="module")
def edges():
    from stacks.config import EnvironmentConfig

    return synth_edges(
        [
            EnvironmentConfig(
                environment="custom",
                s3_frontend_bucket="cot-frontend-custom",
                aws_region="eu-west-1",
                domain_name=DOMAIN,
                hosted_zone_id=ZONE,
                enable_cognito_sso=True,
                pingid_metadata_url=METADATA_URL,
            ),
            EnvironmentConfig(environment="east", s3_frontend_bucket="cot-frontend-east", domain_name=DOMAIN, hosted_zone_id=ZONE),
            EnvironmentConfig(environment="plain", s3_frontend_bucket="cot-frontend-plain"),
        ]
    )


@pytest.fixture(scope="module")
def custom_mode(edges):
    return edges["custom"]


@pytest.fixture(scope="module")
def default_mode(edges):
    return edges["plain"]


def output(document, name):
    return document["output"][name]["value"]


def item_ref(document, resource_type, path, attribute):
    return ref(document, resource_type, logical_id(resources(document, resource_type), path), attribute)


def distribution(document, path):
    return at(resources(document, "aws_cloudfront_distribution"), path)


def connect_src(document):
    policy = at(resources(document, "aws_cloudfront_response_headers_policy"), "frontend/response-headers-policy")
    csp = policy["security_headers_config"]["content_security_policy"]["content_security_policy"]
    (directive,) = [part for part in csp.split("; ") if part.startswith("connect-src ")]
    return directive.split(" ")[1:]


@pytest.mark.parametrize(("environment", "provider"), [("custom", "aws.us_east_1"), ("east", None)])
def test_custom_domain_has_one_us_east_1_certificate_for_the_app_and_both_api_names(edges, environment, provider):
    document, _, _ = edges[environment]
    certificate = only(document, "aws_acm_certificate")
    validation = only(document, "aws_acm_certificate_validation")
    assert certificate["domain_name"] == DOMAIN
    assert certificate["subject_alternative_names"] == [f"api.{DOMAIN}", f"ws.{DOMAIN}"]
    # CloudFront reads certificates in us-east-1 only: through the alias when the stack is elsewhere, the stack's own provider otherwise.
    assert certificate.get("provider") == validation.get("provider") == provider
    regions = {block.get("alias"): block["region"] for block in document["provider"]["aws"]}
    assert regions == ({None: "eu-west-1", "us_east_1": "us-east-1"} if provider else {None: "us-east-1"})


def test_custom_domain_serves_each_distribution_on_its_name_with_the_validated_certificate(custom_mode):
    document, _, _ = custom_mode
    certificate_arn = item_ref(document, "aws_acm_certificate_validation", "cloudfront-certificate/validation", "certificate_arn")
    for path, name in zip(DISTRIBUTIONS, (DOMAIN, f"api.{DOMAIN}", f"ws.{DOMAIN}")):
        served = distribution(document, path)
        assert served["aliases"] == [name], path
        assert served["viewer_certificate"] == {"acm_certificate_arn": certificate_arn, "ssl_support_method": "sni-only", "minimum_protocol_version": "TLSv1.2_2021"}, path


def test_custom_domain_alias_records_point_each_name_at_its_distribution(custom_mode):
    document, _, _ = custom_mode
    aliases = {(record["name"], record["type"]): record for record in resources(document, "aws_route53_record").values() if "alias" in record}
    expected = {}
    for path, name in zip(DISTRIBUTIONS, (DOMAIN, f"api.{DOMAIN}", f"ws.{DOMAIN}")):
        target = {
            "name": item_ref(document, "aws_cloudfront_distribution", path, "domain_name"),
            "zone_id": item_ref(document, "aws_cloudfront_distribution", path, "hosted_zone_id"),
            "evaluate_target_health": False,
        }
        expected |= {(name, record_type): target for record_type in ("A", "AAAA")}
    assert {key: record["alias"] for key, record in aliases.items()} == expected
    assert all(record["zone_id"] == ZONE for record in aliases.values())


def test_custom_domain_outputs_are_the_api_names(custom_mode):
    document, _, _ = custom_mode
    assert output(document, "api_gateway_url") == f"https://api.{DOMAIN}"
    assert output(document, "websocket_gateway_url") == f"wss://ws.{DOMAIN}"
    assert output(document, "frontend_url") == f"https://{DOMAIN}"


@pytest.mark.parametrize("environment", ["custom", "east", "plain"])
def test_no_api_gateway_custom_domain_in_any_layer(edges, environment):
    """The APIs are reached through CloudFront only; a regional API domain would walk around the web ACL."""
    _, layers, _ = edges[environment]
    for name, stack in layers.items():
        for resource_type in ("aws_apigatewayv2_domain_name", "aws_apigatewayv2_api_mapping"):
            assert not resources(stack, resource_type), (name, resource_type)


def test_custom_domain_csp_names_exactly_the_domain_origins_and_the_sign_in_origin(edges):
    custom, _, _ = edges["custom"]
    east, _, _ = edges["east"]
    sign_in = f"https://circle-of-trust-custom.auth.{REGION_REF}.amazoncognito.com"
    assert connect_src(custom) == ["'self'", f"https://api.{DOMAIN}", f"wss://ws.{DOMAIN}", sign_in]
    assert connect_src(east) == ["'self'", f"https://api.{DOMAIN}", f"wss://ws.{DOMAIN}"]
    assert only(custom, "aws_cognito_user_pool_domain")["domain"] == "circle-of-trust-custom"


def test_sso_mode_has_no_jwt_authorizer_the_request_authorizer_checks_the_token(custom_mode):
    document, _, _ = custom_mode
    authorizers = resources(document, "aws_apigatewayv2_authorizer")
    assert {authorizer["authorizer_type"] for authorizer in authorizers.values()} == {"REQUEST"}
    assert not any("jwt_configuration" in authorizer for authorizer in authorizers.values())
    http = at(authorizers, "http-api/request-authorizer")
    assert http["identity_sources"] == ["$request.header.x-origin-verify", "$request.header.authorization"]
    variables = only(document, "aws_lambda_function")["environment"]["variables"]
    pool = item_ref(document, "aws_cognito_user_pool", "single-sign-on/user-pool", "id")
    assert variables["JWT_ISSUER"] == f"https://cognito-idp.{REGION_REF}.{DNS_SUFFIX_REF}/{pool}"
    assert variables["JWT_AUDIENCE"] == item_ref(document, "aws_cognito_user_pool_client", "single-sign-on/frontend-client", "id")
    assert only(document, "aws_cognito_user_pool_client")["callback_urls"] == [f"https://{DOMAIN}/"]
    assert {"cognito_user_pool_id", "cognito_user_pool_client_id", "cognito_domain"} <= set(document["output"])


def test_default_mode_authorizer_checks_only_the_origin_header(default_mode):
    document, _, _ = default_mode
    http = at(resources(document, "aws_apigatewayv2_authorizer"), "http-api/request-authorizer")
    assert http["identity_sources"] == ["$request.header.x-origin-verify"]
    variables = only(document, "aws_lambda_function")["environment"]["variables"]
    assert not {"JWT_ISSUER", "JWT_AUDIENCE"} & set(variables)
    assert not resources(document, "aws_cognito_user_pool") and "cognito_user_pool_id" not in document["output"]


@pytest.mark.parametrize("environment", ["custom", "plain"])
def test_each_api_authorizer_is_the_origin_verify_function_which_only_those_authorizers_invoke(edges, environment):
    document, _, _ = edges[environment]
    authorizers = resources(document, "aws_apigatewayv2_authorizer")
    invoke_arn = item_ref(document, "aws_lambda_function", "origin-verify/authorizer", "invoke_arn")
    permissions = {permission["source_arn"]: permission for permission in resources(document, "aws_lambda_permission").values()}
    expected = set()
    for api, authorizer_path in (("http-api", "http-api/request-authorizer"), ("websocket-api", "websocket-api/connect-authorizer")):
        authorizer = at(authorizers, authorizer_path)
        assert authorizer["authorizer_uri"] == invoke_arn
        assert authorizer["api_id"] == item_ref(document, "aws_apigatewayv2_api", api, "id")
        expected.add(f"{item_ref(document, 'aws_apigatewayv2_api', api, 'execution_arn')}/authorizers/{item_ref(document, 'aws_apigatewayv2_authorizer', authorizer_path, 'id')}")
    assert set(permissions) == expected
    function_name = item_ref(document, "aws_lambda_function", "origin-verify/authorizer", "function_name")
    assert all(p["function_name"] == function_name and p["principal"] == "apigateway.amazonaws.com" for p in permissions.values())


@pytest.mark.parametrize("environment", ["custom", "plain"])
def test_every_distribution_is_behind_the_one_web_acl(edges, environment):
    document, _, _ = edges[environment]
    web_acl = item_ref(document, "aws_wafv2_web_acl", "web-acl/web-acl", "arn")
    assert only(document, "aws_wafv2_web_acl")["scope"] == "CLOUDFRONT"
    distributions = resources(document, "aws_cloudfront_distribution")
    assert len(distributions) == 3
    assert {logical_id(distributions, path) for path in DISTRIBUTIONS} == set(distributions)
    assert all(served["web_acl_id"] == web_acl for served in distributions.values())


@pytest.mark.parametrize("environment", ["custom", "plain"])
def test_api_distributions_reach_their_api_through_the_origin_verify_function(edges, environment):
    document, _, _ = edges[environment]
    function_arn = item_ref(document, "aws_cloudfront_function", "origin-verify/viewer-request", "arn")
    stage_name = at(resources(document, "aws_apigatewayv2_stage"), "websocket-api/stage")["name"]
    # The HTTP API serves $default at its root; the WebSocket API's named stage is the origin path.
    for path, api, origin_path in (
        ("api-distribution/distribution", "http-api", None),
        ("websocket-distribution/distribution", "websocket-api", f"/{stage_name}"),
    ):
        served = distribution(document, path)
        (origin,) = served["origin"]
        assert origin["domain_name"] == f"{item_ref(document, 'aws_apigatewayv2_api', api, 'id')}.execute-api.{REGION_REF}.{DNS_SUFFIX_REF}"
        assert origin.get("origin_path") == origin_path, path
        assert served["default_cache_behavior"]["function_association"] == [{"event_type": "viewer-request", "function_arn": function_arn}]


def test_default_mode_outputs_are_the_api_distributions_names(default_mode):
    document, _, _ = default_mode
    api = item_ref(document, "aws_cloudfront_distribution", "api-distribution/distribution", "domain_name")
    websocket = item_ref(document, "aws_cloudfront_distribution", "websocket-distribution/distribution", "domain_name")
    assert (api, websocket) == ("${aws_cloudfront_distribution.api_distribution.domain_name}", "${aws_cloudfront_distribution.websocket_distribution.domain_name}")
    assert output(document, "api_gateway_url") == f"https://{api}"
    assert output(document, "websocket_gateway_url") == f"wss://{websocket}"
    assert output(document, "frontend_url") == f"https://{item_ref(document, 'aws_cloudfront_distribution', 'frontend/distribution', 'domain_name')}"


def test_default_mode_has_no_certificate_no_dns_and_the_default_cloudfront_certificate(default_mode):
    document, _, _ = default_mode
    for resource_type in ("aws_acm_certificate", "aws_acm_certificate_validation", "aws_route53_record"):
        assert not resources(document, resource_type), resource_type
    assert [block.get("alias") for block in document["provider"]["aws"]] == [None]
    for path in DISTRIBUTIONS:
        served = distribution(document, path)
        assert "aliases" not in served and served["viewer_certificate"] == {"cloudfront_default_certificate": True}, path


def test_default_mode_csp_allows_cloudfront_names_the_apis_cors_allows_the_app(default_mode):
    document, _, _ = default_mode
    assert connect_src(document) == ["'self'", "https://*.cloudfront.net", "wss://*.cloudfront.net"]
    cloudfront = item_ref(document, "aws_cloudfront_distribution", "frontend/distribution", "domain_name")
    assert at(resources(document, "aws_apigatewayv2_api"), "http-api")["cors_configuration"]["allow_origins"] == [f"https://{cloudfront}"]


@pytest.mark.terraform
@pytest.mark.parametrize("mode", ["custom_mode", "default_mode"])
def test_both_modes_are_valid_terraform(mode, request, terraform_env, tmp_path):
    _, _, stack_dir = request.getfixturevalue(mode)
    workdir = shutil.copytree(stack_dir, tmp_path / mode)
    terraform = Terraform(workdir, terraform_env)
    terraform.init(backend=False)
    result = terraform.validate()
    assert result["valid"] and result["error_count"] == 0, json.dumps(result["diagnostics"], indent=2)
