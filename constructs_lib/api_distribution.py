"""CloudFront in front of an API Gateway API, so the edge web ACL covers it.

API Gateway HTTP and WebSocket APIs take no web ACL; CloudFront does. One
distribution per API keeps each API on a host of its own (the paths the
API sees do not change) and the URL stable across API replacements:

* the origin is the API's ``execute-api`` host over HTTPS (TLS 1.2), with
  the stage as origin path for a named stage (WebSocket) and nothing for
  ``$default`` (HTTP);
* AWS's managed ``CachingDisabled`` cache policy (nothing an API answers is
  cached) and ``AllViewerExceptHostHeader`` origin request policy: every
  header, cookie and query string reaches the API, except ``Host`` (API
  Gateway answers 403 to a Host that is not its own). WebSocket upgrades pass
  through; CloudFront keeps the connection open as long as the API does;
* HTTPS only (a redirect would turn a POST into a GET), HTTP/2 and 3, IPv6;
* the origin-verify CloudFront Function on viewer requests (sets the secret
  header the API's authorizer checks) and the environment's web ACL;
* a response headers policy with HSTS (preload consented, as the frontend's) and ``nosniff`` (CORS stays the API's:
  the HTTP API answers preflights from its ``cors_configuration``).

CloudFront standard logs are off, as on the frontend's distribution (they
need an ACL-enabled bucket): API Gateway's access logs and WAF's logs record
every request.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudfront_distribution import (
    CloudfrontDistribution,
    CloudfrontDistributionDefaultCacheBehavior,
    CloudfrontDistributionDefaultCacheBehaviorFunctionAssociation,
    CloudfrontDistributionOrigin,
    CloudfrontDistributionOriginCustomOriginConfig,
    CloudfrontDistributionRestrictions,
    CloudfrontDistributionRestrictionsGeoRestriction,
)
from cdktf_cdktf_provider_aws.cloudfront_response_headers_policy import (
    CloudfrontResponseHeadersPolicy,
    CloudfrontResponseHeadersPolicySecurityHeadersConfig,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigContentTypeOptions,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurity,
)
from constructs import Construct

from constructs_lib._validation import Problems
from constructs_lib.frontend import (
    DISTRIBUTION_CHECKS_WITHOUT_CUSTOM_DOMAIN,
    DISTRIBUTION_FINDINGS_WITHOUT_CUSTOM_DOMAIN,
    PRICE_CLASSES,
    viewer_certificate,
)
from constructs_lib.metrics import Metric
from constructs_lib.policy import accept_finding, skip_check

# AWS's managed policies (the same IDs in every account).
CACHING_DISABLED_POLICY_ID = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
ORIGIN_ID = "api-gateway"
ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
WEBSOCKET_METHODS = ("GET", "HEAD")  # the upgrade is a GET; CloudFront takes no smaller set
CACHED_METHODS = ("GET", "HEAD")
ORIGIN_READ_TIMEOUT_SECONDS = 30  # an HTTP API answers within 30 s or not at all
ORIGIN_KEEPALIVE_SECONDS = 5
KINDS = ("http", "websocket")
_NAME = r"[A-Za-z0-9-]{1,60}"
_ALIAS = r"[a-z0-9-]+(\.[a-z0-9-]+)+"

CHECKS_NOT_APPLICABLE = {
    "CKV_AWS_86": "Standard logs need an S3 bucket with ACLs enabled, which this project keeps off; API Gateway's access logs and WAF's logs record every request",
    "CKV_AWS_374": "The app serves its users wherever they are; no country is excluded by requirement",
    "CKV_AWS_310": "One origin, the API in this region: a standby region (and its failover origin) is a later step of the roadmap",
    "CKV_AWS_305": "An API answers its own paths; there is no root object to serve",
}
FINDINGS_ACCEPTED = {
    "cloudfront_distributions_logging_enabled": CHECKS_NOT_APPLICABLE["CKV_AWS_86"],
    "cloudfront_distributions_geo_restrictions_enabled": CHECKS_NOT_APPLICABLE["CKV_AWS_374"],
    "cloudfront_distributions_field_level_encryption_enabled": "The API's bodies travel over TLS end to end (viewer and origin); field-level encryption would make every field opaque to the API that must read it",
    "cloudfront_distributions_default_root_object": CHECKS_NOT_APPLICABLE["CKV_AWS_305"],
}


@dataclass(frozen=True, kw_only=True)
class ApiDistributionProps:
    """Inputs of an API's distribution.

    name: names the response headers policy and the comment, 1-60 letters,
        digits and '-', such as ``circle-of-trust-api``.
    kind: ``http`` (all methods) or ``websocket`` (GET and HEAD: the upgrade).
    origin_domain_name: the API's ``<id>.execute-api.<region>.<suffix>`` host.
    origin_path: the stage's path for a named stage, such as ``/live``;
        empty for ``$default``. Default empty.
    web_acl_arn: the CLOUDFRONT-scope web ACL.
    viewer_request_function_arn: the origin-verify CloudFront Function.
    aliases / certificate_arn: custom domain names and their us-east-1
        certificate (both or neither). Default none.
    price_class: PriceClass_100, PriceClass_200 or PriceClass_All. Default
        PriceClass_100.
    hsts_max_age_seconds: 0-63072000. Default 63072000 (2 years).
    """

    name: str
    kind: str
    origin_domain_name: str
    web_acl_arn: str
    viewer_request_function_arn: str
    origin_path: str = ""
    aliases: tuple[str, ...] = ()
    certificate_arn: str | None = None
    price_class: str = "PriceClass_100"
    hsts_max_age_seconds: int = 63072000

    def __post_init__(self) -> None:
        problems = Problems("ApiDistributionProps")
        problems.matches("name", self.name, _NAME, "1-60 letters, digits and '-'")
        problems.one_of("kind", self.kind, KINDS)
        problems.one_of("price_class", self.price_class, PRICE_CLASSES)
        if self.origin_path and not self.origin_path.startswith("/"):
            problems.add(f"origin_path must be empty or start with '/', but {self.origin_path!r} was provided")
        for alias in self.aliases:
            problems.matches("aliases", alias, _ALIAS, "lower-case DNS names such as api.example.com")
        if bool(self.aliases) != (self.certificate_arn is not None):
            problems.add("aliases and certificate_arn go together: CloudFront serves a custom name only with a certificate for it")
        problems.between("hsts_max_age_seconds", self.hsts_max_age_seconds, 0, 63072000)
        problems.raise_if_any()


class ApiDistribution(Construct):
    """One CloudFront distribution that proxies everything, uncached, to one API."""

    def __init__(self, scope: Construct, construct_id: str, props: ApiDistributionProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.response_headers_policy = CloudfrontResponseHeadersPolicy(
            self,
            "response-headers-policy",
            name=f"{props.name}-security-headers",
            comment=f"Security headers of {props.name}",
            security_headers_config=CloudfrontResponseHeadersPolicySecurityHeadersConfig(
                strict_transport_security=CloudfrontResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurity(
                    access_control_max_age_sec=props.hsts_max_age_seconds, include_subdomains=True, preload=True, override=True
                ),
                content_type_options=CloudfrontResponseHeadersPolicySecurityHeadersConfigContentTypeOptions(override=True),
            ),
        )
        self.distribution = CloudfrontDistribution(
            self,
            "distribution",
            enabled=True,
            comment=f"{props.name} ({props.kind} API, through the web ACL)",
            aliases=list(props.aliases) or None,
            is_ipv6_enabled=True,
            http_version="http2and3",
            price_class=props.price_class,
            web_acl_id=props.web_acl_arn,
            origin=[
                CloudfrontDistributionOrigin(
                    origin_id=ORIGIN_ID,
                    domain_name=props.origin_domain_name,
                    origin_path=props.origin_path or None,
                    custom_origin_config=CloudfrontDistributionOriginCustomOriginConfig(
                        http_port=80,
                        https_port=443,
                        origin_protocol_policy="https-only",
                        origin_ssl_protocols=["TLSv1.2"],
                        origin_read_timeout=ORIGIN_READ_TIMEOUT_SECONDS,
                        origin_keepalive_timeout=ORIGIN_KEEPALIVE_SECONDS,
                    ),
                )
            ],
            default_cache_behavior=CloudfrontDistributionDefaultCacheBehavior(
                target_origin_id=ORIGIN_ID,
                viewer_protocol_policy="https-only",
                allowed_methods=list(ALL_METHODS if props.kind == "http" else WEBSOCKET_METHODS),
                cached_methods=list(CACHED_METHODS),
                compress=props.kind == "http",
                cache_policy_id=CACHING_DISABLED_POLICY_ID,
                origin_request_policy_id=ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID,
                response_headers_policy_id=self.response_headers_policy.id,
                function_association=[
                    CloudfrontDistributionDefaultCacheBehaviorFunctionAssociation(
                        event_type="viewer-request", function_arn=props.viewer_request_function_arn
                    )
                ],
            ),
            restrictions=CloudfrontDistributionRestrictions(
                geo_restriction=CloudfrontDistributionRestrictionsGeoRestriction(restriction_type="none")
            ),
            viewer_certificate=viewer_certificate(props.certificate_arn),
        )
        for check_id, reason in CHECKS_NOT_APPLICABLE.items():
            skip_check(self.distribution, check_id, reason)
        findings = dict(FINDINGS_ACCEPTED)
        if props.certificate_arn is None:
            for check_id, reason in DISTRIBUTION_CHECKS_WITHOUT_CUSTOM_DOMAIN.items():
                skip_check(self.distribution, check_id, reason)
            findings.update(DISTRIBUTION_FINDINGS_WITHOUT_CUSTOM_DOMAIN)
        for check_id, reason in findings.items():
            accept_finding(self.distribution, check_id, reason)

    # -- attributes -------------------------------------------------------------------
    @property
    def distribution_id(self) -> str:
        return self.distribution.id

    @property
    def domain_name(self) -> str:
        """``d1234abcd.cloudfront.net``."""
        return self.distribution.domain_name

    @property
    def hosted_zone_id(self) -> str:
        return self.distribution.hosted_zone_id

    @property
    def url(self) -> str:
        """``https://`` or ``wss://``, then the first alias or CloudFront's name (no path: the stage is the origin's)."""
        scheme = "https" if self.props.kind == "http" else "wss"
        return f"{scheme}://{self.props.aliases[0] if self.props.aliases else self.domain_name}"

    # -- metrics ------------------------------------------------------------------------
    def metric(self, metric_name: str, *, statistic: str = "Sum") -> Metric:
        """A metric of the distribution (``AWS/CloudFront``, us-east-1, ``Region=Global``)."""
        return Metric(
            namespace="AWS/CloudFront",
            metric_name=metric_name,
            dimensions={"DistributionId": self.distribution_id, "Region": "Global"},
            statistic=statistic,
            region="us-east-1",
        )
