"""Custom domain: certificates validated in Route 53, API domains, aliases; and the whole edge in both domain modes.

The second half builds every edge construct together, wired the way the
stack wires them (fake network and Cloud Map inputs), once with a custom
domain in eu-west-1 (so the CloudFront certificate needs the us-east-1
provider alias) and SSO, once with the default endpoints and no SSO; then
checks both synthesize, differ as the domain rules say, and pass
``terraform validate``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import cdktf
from cdktf import TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from constructs_lib.aws_context import AwsContext
from constructs_lib.domain import (
    API_SUBDOMAIN,
    WEBSOCKET_SUBDOMAIN,
    AliasRecords,
    AliasRecordsProps,
    ApiCustomDomain,
    ApiCustomDomainProps,
    DnsValidatedCertificate,
    DnsValidatedCertificateProps,
)
from constructs_lib.frontend import Frontend, FrontendProps
from constructs_lib.http_api import HttpApi, HttpApiProps
from constructs_lib.identity import SingleSignOn, SingleSignOnProps, hosted_ui_origin
from constructs_lib.websocket_api import ApiGatewayAccount, ApiGatewayAccountProps, WebSocketApi, WebSocketApiProps
from tests.harness.terraform import Terraform
from tests.support import logical_id, only, ref, resources, synth_construct, synth_stack

ZONE = "Z0123456789ABCDEFGHIJ"
DOMAIN = "app.example.com"
CERTIFICATE = "arn:aws:acm:eu-west-1:111122223333:certificate/abc"


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


@pytest.fixture(scope="module")
def api_domain():
    def make(stack):
        domain = ApiCustomDomain(
            stack,
            "ws-domain",
            ApiCustomDomainProps(domain_name=f"ws.{DOMAIN}", certificate_arn=CERTIFICATE, hosted_zone_id=ZONE, api_id="api123", stage_name="live", url_scheme="wss"),
        )
        TerraformOutput(stack, "url", value=domain.url)

    return synth_construct(make)


def test_api_domain_is_regional_with_tls_1_2(api_domain):
    domain = only(api_domain, "aws_apigatewayv2_domain_name")
    assert domain["domain_name"] == f"ws.{DOMAIN}"
    assert domain["domain_name_configuration"] == {"certificate_arn": CERTIFICATE, "endpoint_type": "REGIONAL", "security_policy": "TLS_1_2"}


def test_api_domain_maps_its_root_to_the_stage(api_domain):
    mapping = only(api_domain, "aws_apigatewayv2_api_mapping")
    domain_id = logical_id(resources(api_domain, "aws_apigatewayv2_domain_name"), "ws-domain")
    assert (mapping["api_id"], mapping["stage"]) == ("api123", "live")
    assert mapping["domain_name"] == ref(api_domain, "aws_apigatewayv2_domain_name", domain_id, "id")
    assert "api_mapping_key" not in mapping
    mapping_id = logical_id(resources(api_domain, "aws_apigatewayv2_api_mapping"), "ws-domain/mapping")
    assert api_domain["output"]["url"]["value"] == f"wss://{ref(api_domain, 'aws_apigatewayv2_api_mapping', mapping_id, 'domain_name')}"


def test_api_domain_has_an_ipv4_alias_to_the_regional_endpoint(api_domain):
    record = only(api_domain, "aws_route53_record")
    domain_id = logical_id(resources(api_domain, "aws_apigatewayv2_domain_name"), "ws-domain")
    assert (record["name"], record["type"], record["zone_id"]) == (f"ws.{DOMAIN}", "A", ZONE)
    assert record["alias"] == {
        "name": f"${{aws_apigatewayv2_domain_name.{domain_id}.domain_name_configuration[0].target_domain_name}}",
        "zone_id": f"${{aws_apigatewayv2_domain_name.{domain_id}.domain_name_configuration[0].hosted_zone_id}}",
        "evaluate_target_health": False,
    }


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
        (lambda: ApiCustomDomainProps(domain_name=DOMAIN, certificate_arn=CERTIFICATE, hosted_zone_id=ZONE, api_id="a", stage_name="s", url_scheme="http"), "ApiCustomDomainProps: url_scheme must be one of https, wss, but 'http' was provided"),
    ],
)
def test_props_name_the_field_the_allowed_values_and_the_value(build, message):
    with pytest.raises(ValueError) as caught:
        build()
    assert message in str(caught.value)


def test_props_report_every_problem_at_once():
    with pytest.raises(ValueError) as caught:
        ApiCustomDomainProps(domain_name="x", certificate_arn=CERTIFICATE, hosted_zone_id="z", api_id="a", stage_name="s", url_scheme="ftp")
    assert str(caught.value).count("; ") == 2


# ---------------------------------------------------------------------------
# The whole edge, wired as the stack wires it, in both domain modes
# ---------------------------------------------------------------------------

PREFIX = "cot"
PORT = 8080
METADATA_URL = "https://sso.pingone.com/your-org-id/saml/metadata"


def build_edge(
    stack: TerraformStack,
    *,
    region: str,
    domain_name: str,
    hosted_zone_id: str,
    enable_sso: bool,
    vpc_id: str = "vpc-1",
    subnet_ids: tuple[str, ...] = ("subnet-a", "subnet-b"),
    vpc_link_security_group_id: str = "sg-vpc-link",
    cloud_map_service_arn: str = "arn:aws:servicediscovery:us-east-1:111122223333:service/srv-api",
) -> None:
    """The stack's ``_add_edge``, by default with fake network, Cloud Map and security group inputs."""
    context = AwsContext.of(stack)
    custom_domain = bool(domain_name and hosted_zone_id)
    api_domain, ws_domain = f"{API_SUBDOMAIN}.{domain_name}", f"{WEBSOCKET_SUBDOMAIN}.{domain_name}"
    cloudfront_certificate = api_certificate = None
    if custom_domain:
        us_east_1 = AwsProvider(stack, "aws-us-east-1", alias="us_east_1", region="us-east-1") if region != "us-east-1" else None
        cloudfront_certificate = DnsValidatedCertificate(stack, "cloudfront-certificate", DnsValidatedCertificateProps(domain_name=domain_name, hosted_zone_id=hosted_zone_id, provider=us_east_1))
        api_certificate = DnsValidatedCertificate(
            stack, "api-certificate", DnsValidatedCertificateProps(domain_name=api_domain, subject_alternative_names=(ws_domain,), hosted_zone_id=hosted_zone_id)
        )
    if custom_domain:
        connect_origins = [f"https://{api_domain}", f"wss://{ws_domain}"]
    else:
        connect_origins = [f"{scheme}://*.execute-api.{context.region}.{context.dns_suffix}" for scheme in ("https", "wss")]
    if enable_sso:
        connect_origins.append(hosted_ui_origin(PREFIX, context.region))
    frontend = Frontend(
        stack,
        "frontend",
        FrontendProps(
            bucket_name=f"{PREFIX}-frontend",
            name_prefix=PREFIX,
            connect_origins=tuple(connect_origins),
            aliases=(domain_name,) if custom_domain else (),
            certificate_arn=cloudfront_certificate.certificate_arn if cloudfront_certificate else None,
        ),
    )
    jwt = {}
    sso = None
    if enable_sso:
        sso = SingleSignOn(
            stack,
            "single-sign-on",
            SingleSignOnProps(name=PREFIX, domain_prefix=PREFIX, metadata_url=METADATA_URL, callback_urls=(f"{frontend.frontend_url}/",), logout_urls=(f"{frontend.frontend_url}/",)),
        )
        jwt = dict(jwt_issuer=sso.issuer_url, jwt_audience=(sso.cognito_user_pool_client_id,))
    http_api = HttpApi(
        stack,
        "http-api",
        HttpApiProps(
            name=f"{PREFIX}-api",
            subnet_ids=subnet_ids,
            vpc_link_security_group_ids=(vpc_link_security_group_id,),
            cloud_map_service_arn=cloud_map_service_arn,
            cors_allow_origins=(frontend.frontend_url,),
            **jwt,
        ),
    )
    account = ApiGatewayAccount(stack, "api-gateway-account", ApiGatewayAccountProps(role_name=f"{PREFIX}-apigateway-cloudwatch"))
    websocket_api = WebSocketApi(
        stack,
        "websocket-api",
        WebSocketApiProps(
            name=f"{PREFIX}-ws",
            load_balancer_name=f"{PREFIX}-ws",
            vpc_id=vpc_id,
            subnet_ids=subnet_ids,
            container_port=PORT,
            account_logging_role_arn=account.cloudwatch_role_arn,
        ),
    )
    api_url, websocket_url = http_api.api_gateway_url, websocket_api.websocket_gateway_url
    if custom_domain:
        api = ApiCustomDomain(
            stack,
            "api-domain",
            ApiCustomDomainProps(domain_name=api_domain, certificate_arn=api_certificate.certificate_arn, hosted_zone_id=hosted_zone_id, api_id=http_api.api_id, stage_name=http_api.stage_name),
        )
        ws = ApiCustomDomain(
            stack,
            "websocket-domain",
            ApiCustomDomainProps(
                domain_name=ws_domain,
                certificate_arn=api_certificate.certificate_arn,
                hosted_zone_id=hosted_zone_id,
                api_id=websocket_api.websocket_api_id,
                stage_name=websocket_api.stage_name,
                url_scheme="wss",
            ),
        )
        AliasRecords(
            stack,
            "frontend-alias",
            AliasRecordsProps(name=domain_name, hosted_zone_id=hosted_zone_id, target_dns_name=frontend.cloudfront_domain_name, target_hosted_zone_id=frontend.cloudfront_hosted_zone_id),
        )
        api_url, websocket_url = api.url, ws.url
    outputs = {
        "api_gateway_url": api_url,
        "websocket_gateway_url": websocket_url,
        "frontend_bucket_name": frontend.frontend_bucket_name,
        "cloudfront_distribution_id": frontend.cloudfront_distribution_id,
        "cloudfront_domain_name": frontend.cloudfront_domain_name,
        "frontend_url": frontend.frontend_url,
    }
    if sso is not None:
        outputs |= {
            "cognito_user_pool_id": sso.cognito_user_pool_id,
            "cognito_user_pool_client_id": sso.cognito_user_pool_client_id,
            "cognito_domain": sso.cognito_domain,
        }
    for name, value in outputs.items():
        TerraformOutput(stack, name, value=value).override_logical_id(name)


def synth_edge(**mode) -> tuple[dict, Path]:
    """The edge stack's JSON and its synthesized folder (for terraform)."""
    app = cdktf.Testing.app()
    stack = TerraformStack(app, "edge")
    AwsProvider(stack, "aws", region=mode["region"])
    build_edge(stack, **mode)
    return synth_stack(stack), Path(cdktf.Testing.full_synth(stack)) / "stacks" / "edge"


@pytest.fixture(scope="module")
def custom_mode():
    return synth_edge(region="eu-west-1", domain_name=DOMAIN, hosted_zone_id=ZONE, enable_sso=True)


@pytest.fixture(scope="module")
def default_mode():
    return synth_edge(region="us-east-1", domain_name="", hosted_zone_id="", enable_sso=False)


def output(document, name):
    return document["output"][name]["value"]


def test_custom_domain_mode_serves_the_app_api_and_websocket_on_the_domain(custom_mode):
    document, _ = custom_mode
    assert output(document, "frontend_url") == f"https://{DOMAIN}"
    assert output(document, "api_gateway_url").startswith("https://${aws_apigatewayv2_api_mapping.")
    assert output(document, "websocket_gateway_url").startswith("wss://${aws_apigatewayv2_api_mapping.")
    domains = sorted(d["domain_name"] for d in resources(document, "aws_apigatewayv2_domain_name").values())
    assert domains == [f"api.{DOMAIN}", f"ws.{DOMAIN}"]
    aliases = sorted((r["name"], r["type"]) for r in resources(document, "aws_route53_record").values() if "alias" in r)
    assert aliases == sorted([(DOMAIN, "A"), (DOMAIN, "AAAA"), (f"api.{DOMAIN}", "A"), (f"ws.{DOMAIN}", "A")])
    providers = document["provider"]["aws"]
    assert {p.get("alias"): p["region"] for p in providers} == {None: "eu-west-1", "us_east_1": "us-east-1"}


def test_custom_domain_mode_wires_certificates_into_cloudfront_and_the_api_domains(custom_mode):
    document, _ = custom_mode
    validations = resources(document, "aws_acm_certificate_validation")
    cloudfront_arn = ref(document, "aws_acm_certificate_validation", logical_id(validations, "cloudfront-certificate/validation"), "certificate_arn")
    api_arn = ref(document, "aws_acm_certificate_validation", logical_id(validations, "api-certificate/validation"), "certificate_arn")
    distribution = only(document, "aws_cloudfront_distribution")
    assert distribution["aliases"] == [DOMAIN]
    assert distribution["viewer_certificate"]["acm_certificate_arn"] == cloudfront_arn
    assert distribution["viewer_certificate"]["minimum_protocol_version"] == "TLSv1.2_2021"
    for domain in resources(document, "aws_apigatewayv2_domain_name").values():
        assert domain["domain_name_configuration"]["certificate_arn"] == api_arn


def test_custom_domain_mode_allows_exactly_the_domain_origins(custom_mode):
    document, _ = custom_mode
    csp = only(document, "aws_cloudfront_response_headers_policy")["security_headers_config"]["content_security_policy"]["content_security_policy"]
    assert f"connect-src 'self' https://api.{DOMAIN} wss://ws.{DOMAIN} https://{PREFIX}.auth.${{data.aws_region." in csp
    apis = resources(document, "aws_apigatewayv2_api")
    assert apis[logical_id(apis, "http-api")]["cors_configuration"]["allow_origins"] == [f"https://{DOMAIN}"]


def test_sso_mode_guards_the_http_api_with_the_pool(custom_mode):
    document, _ = custom_mode
    authorizer = only(document, "aws_apigatewayv2_authorizer")
    pool = ref(document, "aws_cognito_user_pool", logical_id(resources(document, "aws_cognito_user_pool"), "single-sign-on/user-pool"), "id")
    client = ref(document, "aws_cognito_user_pool_client", logical_id(resources(document, "aws_cognito_user_pool_client"), "single-sign-on/frontend-client"), "id")
    assert authorizer["jwt_configuration"]["issuer"].endswith(f"/{pool}")
    assert authorizer["jwt_configuration"]["audience"] == [client]
    assert only(document, "aws_cognito_user_pool_client")["callback_urls"] == [f"https://{DOMAIN}/"]
    assert {"cognito_user_pool_id", "cognito_user_pool_client_id", "cognito_domain"} <= set(document["output"])


def test_default_mode_keeps_the_aws_endpoints_without_certificates_or_dns(default_mode):
    document, _ = default_mode
    for resource_type in ("aws_acm_certificate", "aws_acm_certificate_validation", "aws_route53_record", "aws_apigatewayv2_domain_name", "aws_apigatewayv2_api_mapping"):
        assert not resources(document, resource_type), resource_type
    assert len(document["provider"]["aws"]) == 1
    distribution = only(document, "aws_cloudfront_distribution")
    assert "aliases" not in distribution and distribution["viewer_certificate"] == {"cloudfront_default_certificate": True}
    http_api = logical_id(resources(document, "aws_apigatewayv2_api"), "http-api")
    stage = logical_id(resources(document, "aws_apigatewayv2_stage"), "websocket-api/stage")
    assert output(document, "api_gateway_url") == ref(document, "aws_apigatewayv2_api", http_api, "api_endpoint")
    assert output(document, "websocket_gateway_url") == ref(document, "aws_apigatewayv2_stage", stage, "invoke_url")
    cloudfront = ref(document, "aws_cloudfront_distribution", logical_id(resources(document, "aws_cloudfront_distribution"), "frontend/distribution"), "domain_name")
    assert output(document, "frontend_url") == f"https://{cloudfront}"


def test_default_mode_has_no_sso_and_allows_the_regions_api_gateway_origins(default_mode):
    document, _ = default_mode
    assert not resources(document, "aws_cognito_user_pool") and not resources(document, "aws_apigatewayv2_authorizer")
    assert "cognito_user_pool_id" not in document["output"]
    csp = only(document, "aws_cloudfront_response_headers_policy")["security_headers_config"]["content_security_policy"]["content_security_policy"]
    assert "connect-src 'self' https://*.execute-api.${data.aws_region." in csp and " wss://*.execute-api.${data.aws_region." in csp
    apis = resources(document, "aws_apigatewayv2_api")
    cloudfront = ref(document, "aws_cloudfront_distribution", logical_id(resources(document, "aws_cloudfront_distribution"), "frontend/distribution"), "domain_name")
    assert apis[logical_id(apis, "http-api")]["cors_configuration"]["allow_origins"] == [f"https://{cloudfront}"]


@pytest.mark.terraform
@pytest.mark.parametrize("mode", ["custom_mode", "default_mode"])
def test_both_modes_are_valid_terraform(mode, request, terraform_env, tmp_path):
    _, stack_dir = request.getfixturevalue(mode)
    workdir = shutil.copytree(stack_dir, tmp_path / mode)
    terraform = Terraform(workdir, terraform_env)
    terraform.init(backend=False)
    result = terraform.validate()
    assert result["valid"] and result["error_count"] == 0, json.dumps(result["diagnostics"], indent=2)
