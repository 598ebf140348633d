"""Frontend: private versioned bucket, OAC-only bucket policy, CloudFront SPA hosting, security headers."""

from __future__ import annotations

import pytest
from cdktf import Fn, TerraformOutput

from constructs_lib.frontend import CACHING_OPTIMIZED_POLICY_ID, Frontend, FrontendProps, content_security_policy
from constructs_lib.policy import accepted_findings, checkov_skips
from tests.support import data_sources, logical_id, only, ref, resources, synth_construct

CERTIFICATE = "arn:aws:acm:us-east-1:111122223333:certificate/abc"
ORIGINS = ("https://api.app.example.com", "wss://ws.app.example.com")
WEB_ACL = "arn:aws:wafv2:us-east-1:111122223333:global/webacl/cot/1"


def props(**overrides) -> FrontendProps:
    return FrontendProps(**{"bucket_name": "cot-frontend", "name_prefix": "cot", "web_acl_arn": WEB_ACL, **overrides})


def build(**overrides):
    def make(stack):
        frontend = Frontend(stack, "frontend", props(**overrides))
        for name in ("frontend_bucket_name", "cloudfront_distribution_id", "cloudfront_domain_name", "cloudfront_hosted_zone_id", "frontend_url"):
            TerraformOutput(stack, name, value=getattr(frontend, name))

    return synth_construct(make)


@pytest.fixture(scope="module")
def default_domain():
    return build(connect_origins=ORIGINS)


@pytest.fixture(scope="module")
def custom_domain():
    return build(aliases=("app.example.com",), certificate_arn=CERTIFICATE, price_class="PriceClass_All", web_acl_arn="arn:aws:wafv2:us-east-1:111122223333:global/webacl/x/1")


def bucket_ref(document, attribute):
    return ref(document, "aws_s3_bucket", logical_id(resources(document, "aws_s3_bucket"), "frontend/bucket"), attribute)


def distribution_ref(document, attribute):
    return ref(document, "aws_cloudfront_distribution", logical_id(resources(document, "aws_cloudfront_distribution"), "frontend/distribution"), attribute)


# -- the bucket ------------------------------------------------------------------------
def test_bucket_is_named_from_props_and_kept_on_destroy(default_domain):
    bucket = only(default_domain, "aws_s3_bucket")
    assert bucket["bucket"] == "cot-frontend"
    assert bucket["force_destroy"] is False


def test_bucket_blocks_every_kind_of_public_access(default_domain):
    block = only(default_domain, "aws_s3_bucket_public_access_block")
    assert block["bucket"] == bucket_ref(default_domain, "id")
    assert all(block[key] is True for key in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
    assert only(default_domain, "aws_s3_bucket_ownership_controls")["rule"] == {"object_ownership": "BucketOwnerEnforced"}


def test_bucket_is_encrypted_and_versioned(default_domain):
    (rule,) = only(default_domain, "aws_s3_bucket_server_side_encryption_configuration")["rule"]
    assert rule["apply_server_side_encryption_by_default"] == {"sse_algorithm": "AES256"}
    assert only(default_domain, "aws_s3_bucket_versioning")["versioning_configuration"] == {"status": "Enabled"}


def test_replaced_versions_expire_after_30_days(default_domain):
    lifecycle = only(default_domain, "aws_s3_bucket_lifecycle_configuration")
    (rule,) = lifecycle["rule"]
    assert rule["status"] == "Enabled"
    assert rule["filter"] == [{"prefix": ""}]
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": 30}]
    assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 7}]
    versioning = logical_id(resources(default_domain, "aws_s3_bucket_versioning"), "frontend/bucket/versioning")
    assert lifecycle["depends_on"] == [f"aws_s3_bucket_versioning.{versioning}"]


def test_bucket_policy_lets_only_this_distribution_read_and_denies_plain_http(default_domain):
    policy = only(default_domain, "aws_s3_bucket_policy")
    document_id = logical_id(data_sources(default_domain, "aws_iam_policy_document"), "frontend/bucket/policy-document")
    assert policy["policy"] == "${" + f"data.aws_iam_policy_document.{document_id}.json" + "}"
    allow, deny = data_sources(default_domain, "aws_iam_policy_document")[document_id]["statement"]
    assert allow["effect"] == "Allow"
    assert allow["principals"] == [{"type": "Service", "identifiers": ["cloudfront.amazonaws.com"]}]
    assert allow["actions"] == ["s3:GetObject"]
    assert allow["resources"] == [f"{bucket_ref(default_domain, 'arn')}/*"]
    assert allow["condition"] == [{"test": "StringEquals", "variable": "AWS:SourceArn", "values": [distribution_ref(default_domain, "arn")]}]
    assert deny["effect"] == "Deny"
    assert deny["principals"] == [{"type": "*", "identifiers": ["*"]}]
    assert deny["resources"] == [bucket_ref(default_domain, "arn"), f"{bucket_ref(default_domain, 'arn')}/*"]
    assert deny["condition"] == [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}]


# -- CloudFront ----------------------------------------------------------------------------
def test_origin_access_control_always_signs_with_sigv4(default_domain):
    control = only(default_domain, "aws_cloudfront_origin_access_control")
    assert (control["origin_access_control_origin_type"], control["signing_behavior"], control["signing_protocol"]) == ("s3", "always", "sigv4")


def test_distribution_reads_the_bucket_through_the_origin_access_control(default_domain):
    distribution = only(default_domain, "aws_cloudfront_distribution")
    (origin,) = distribution["origin"]
    control = logical_id(resources(default_domain, "aws_cloudfront_origin_access_control"), "frontend/origin-access-control")
    assert origin["domain_name"] == bucket_ref(default_domain, "bucket_regional_domain_name")
    assert origin["origin_access_control_id"] == ref(default_domain, "aws_cloudfront_origin_access_control", control, "id")
    assert "s3_origin_config" not in origin and "custom_origin_config" not in origin


def test_distribution_serves_https_only_compressed_with_the_managed_cache_policy(default_domain):
    distribution = only(default_domain, "aws_cloudfront_distribution")
    behavior = distribution["default_cache_behavior"]
    headers = logical_id(resources(default_domain, "aws_cloudfront_response_headers_policy"), "frontend/response-headers-policy")
    assert behavior["viewer_protocol_policy"] == "redirect-to-https"
    assert behavior["compress"] is True
    assert behavior["cache_policy_id"] == CACHING_OPTIMIZED_POLICY_ID == "658327ea-f89d-4fab-a63d-7e88639e58f6"
    assert behavior["response_headers_policy_id"] == ref(default_domain, "aws_cloudfront_response_headers_policy", headers, "id")
    assert behavior["target_origin_id"] == distribution["origin"][0]["origin_id"]
    assert "forwarded_values" not in behavior
    assert distribution["default_root_object"] == "index.html"
    assert distribution["enabled"] is True and distribution["is_ipv6_enabled"] is True
    assert distribution["http_version"] == "http2and3"
    assert distribution["price_class"] == "PriceClass_100"


def test_missing_paths_fall_back_to_the_spa(default_domain):
    responses = only(default_domain, "aws_cloudfront_distribution")["custom_error_response"]
    assert sorted((r["error_code"], r["response_code"], r["response_page_path"], r["error_caching_min_ttl"]) for r in responses) == [
        (403, 200, "/index.html", 10),
        (404, 200, "/index.html", 10),
    ]


def test_default_domain_uses_the_cloudfront_certificate(default_domain):
    distribution = only(default_domain, "aws_cloudfront_distribution")
    assert distribution["viewer_certificate"] == {"cloudfront_default_certificate": True}
    assert "aliases" not in distribution
    assert distribution["web_acl_id"] == WEB_ACL  # the web ACL does not depend on the domain
    assert default_domain["output"]["frontend_url"]["value"] == f"https://{distribution_ref(default_domain, 'domain_name')}"


def test_custom_domain_serves_the_alias_with_its_certificate_and_tls_1_2(custom_domain):
    distribution = only(custom_domain, "aws_cloudfront_distribution")
    assert distribution["aliases"] == ["app.example.com"]
    assert distribution["viewer_certificate"] == {
        "acm_certificate_arn": CERTIFICATE,
        "ssl_support_method": "sni-only",
        "minimum_protocol_version": "TLSv1.2_2021",
    }
    assert distribution["price_class"] == "PriceClass_All"
    assert distribution["web_acl_id"] == "arn:aws:wafv2:us-east-1:111122223333:global/webacl/x/1"
    assert custom_domain["output"]["frontend_url"]["value"] == "https://app.example.com"


def test_security_headers(default_domain):
    policy = only(default_domain, "aws_cloudfront_response_headers_policy")
    headers = policy["security_headers_config"]
    assert headers["strict_transport_security"] == {"access_control_max_age_sec": 63072000, "include_subdomains": True, "preload": True, "override": True}
    assert headers["content_type_options"] == {"override": True}
    assert headers["frame_options"] == {"frame_option": "DENY", "override": True}
    assert headers["referrer_policy"] == {"referrer_policy": "strict-origin-when-cross-origin", "override": True}
    assert headers["xss_protection"] == {"protection": False, "override": True}
    assert headers["content_security_policy"] == {"content_security_policy": content_security_policy(ORIGINS), "override": True}
    assert policy["name"] == "cot-frontend-security-headers"


def test_hsts_preload_can_be_left_out():
    headers = only(build(hsts_preload=False), "aws_cloudfront_response_headers_policy")["security_headers_config"]
    assert headers["strict_transport_security"]["preload"] is False


def test_content_security_policy_lets_the_spa_call_only_its_origins():
    directives = dict(part.split(" ", 1) for part in content_security_policy(ORIGINS).split("; ") if " " in part)
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self' https://api.app.example.com wss://ws.app.example.com"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "upgrade-insecure-requests" in content_security_policy(())


def test_attributes_are_outputs_of_the_right_resources(default_domain):
    values = {name: output["value"] for name, output in default_domain["output"].items()}
    assert values["frontend_bucket_name"] == bucket_ref(default_domain, "bucket")
    assert values["cloudfront_distribution_id"] == distribution_ref(default_domain, "id")
    assert values["cloudfront_domain_name"] == distribution_ref(default_domain, "domain_name")
    assert values["cloudfront_hosted_zone_id"] == distribution_ref(default_domain, "hosted_zone_id")


@pytest.mark.parametrize(
    ("overrides", "distribution_skips"),
    [
        # The WAF checks (CKV_AWS_68, CKV2_AWS_47) are never skipped: every distribution has the web ACL.
        ({}, ["CKV_AWS_86", "CKV_AWS_374", "CKV_AWS_310", "CKV2_AWS_42", "CKV_AWS_174"]),
        ({"aliases": ("app.example.com",), "certificate_arn": CERTIFICATE}, ["CKV_AWS_86", "CKV_AWS_374", "CKV_AWS_310"]),
    ],
)
def test_policy_scan_skips_follow_the_configuration(overrides, distribution_skips):
    captured = {}
    synth_construct(lambda stack: captured.setdefault("frontend", Frontend(stack, "frontend", props(**overrides))))
    frontend = captured["frontend"]
    assert list(checkov_skips(frontend.distribution)) == distribution_skips
    assert list(checkov_skips(frontend.bucket.bucket)) == ["CKV_AWS_18", "CKV2_AWS_62", "CKV_AWS_144", "CKV_AWS_145"]


@pytest.mark.parametrize("overrides", [{}, {"aliases": ("app.example.com",), "certificate_arn": CERTIFICATE}])
def test_waf_finding_is_never_accepted(overrides):
    captured = {}
    synth_construct(lambda stack: captured.setdefault("frontend", Frontend(stack, "frontend", props(**overrides))))
    findings = accepted_findings(captured["frontend"].distribution)
    assert findings, "the distribution accepts other findings, so an empty result would prove nothing"
    assert "cloudfront_distributions_using_waf" not in findings


def test_frontend_without_a_web_acl_is_refused_naming_the_field():
    captured = {}

    def make(stack):
        Frontend(stack, "frontend", props(web_acl_arn=None))
        captured["built"] = True

    with pytest.raises(ValueError) as caught:
        synth_construct(make)
    assert str(caught.value) == "FrontendProps: web_acl_arn must be set: every distribution is behind the web ACL, but None was provided"
    assert "built" not in captured


def test_metrics():
    captured = {}
    synth_construct(lambda stack: captured.setdefault("frontend", Frontend(stack, "frontend", props())))
    frontend = captured["frontend"]
    assert frontend.metric_server_error_rate().dimensions["Region"] == "Global"
    assert {m.metric_name for m in (frontend.metric_requests(), frontend.metric_error_rate(), frontend.metric_server_error_rate())} == {"Requests", "TotalErrorRate", "5xxErrorRate"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"bucket_name": "Bad_Bucket"}, "bucket_name must be an S3 bucket name: 3-63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit, but 'Bad_Bucket' was provided"),
        ({"name_prefix": "a b"}, "name_prefix must be 1-40 letters, digits and '-', but 'a b' was provided"),
        ({"price_class": "PriceClass_50"}, "price_class must be one of PriceClass_100, PriceClass_200, PriceClass_All, but 'PriceClass_50' was provided"),
        ({"connect_origins": ("http://api.example.com",)}, "connect_origins must be https:// or wss:// origins without a path, such as wss://ws.example.com, but 'http://api.example.com' was provided"),
        ({"connect_origins": ("https://api.example.com/v1",)}, "but 'https://api.example.com/v1' was provided"),
        ({"aliases": ("App.Example.com",), "certificate_arn": CERTIFICATE}, "aliases must be lower-case DNS names such as app.example.com, but 'App.Example.com' was provided"),
        ({"aliases": ("app.example.com",)}, "certificate_arn must be set with aliases (CloudFront serves app.example.com only with a certificate), but None was provided"),
        ({"certificate_arn": CERTIFICATE}, "certificate_arn needs aliases to serve, but no alias was provided"),
        ({"noncurrent_version_expiration_days": 0}, "noncurrent_version_expiration_days must be between 1 and 3650, but 0 was provided"),
        ({"hsts_max_age_seconds": -1}, "hsts_max_age_seconds must be between 0 and 63072000, but -1 was provided"),
        ({"error_caching_min_ttl_seconds": 31536001}, "error_caching_min_ttl_seconds must be between 0 and 31536000, but 31536001 was provided"),
        ({"connect_origins": tuple(f"https://api{i}.example.com" for i in range(80))}, "connect_origins make the Content-Security-Policy"),
    ],
)
def test_props_name_the_field_the_allowed_values_and_the_value(overrides, message):
    with pytest.raises(ValueError) as caught:
        props(**overrides)
    assert str(caught.value).startswith("FrontendProps: ")
    assert message in str(caught.value)


def test_props_report_every_problem_at_once():
    with pytest.raises(ValueError) as caught:
        props(bucket_name="X", price_class="cheap", noncurrent_version_expiration_days=0)
    assert str(caught.value).count("; ") == 2


def test_wildcard_and_token_origins_are_accepted():
    props(connect_origins=("https://*.execute-api.us-east-1.amazonaws.com", f"wss://*.execute-api.{Fn.lower('REGION')}.amazonaws.com"))
