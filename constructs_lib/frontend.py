"""The React build: a private S3 bucket served by CloudFront.

The seed hosted the build as an S3 static website (public bucket, HTTP
only). Here the bucket stays private and CloudFront reads it with origin
access control (SigV4 on every request):

* Bucket: all public access blocked, ACLs off (BucketOwnerEnforced), SSE-S3,
  versioning with non-current versions expiring after 30 days (the seed's
  backup strategy: a bad deploy is rolled back by restoring versions), and a
  policy that lets only this distribution read objects (``AWS:SourceArn``)
  and refuses any request without TLS.
* Distribution: HTTPS only (HTTP redirects), HTTP/2 and HTTP/3, IPv6,
  compression, AWS's managed CachingOptimized policy, ``index.html`` at the
  root, and 403/404 answered with ``/index.html`` and 200 so that the SPA's
  client-side routes survive a reload (S3 answers 403 for a missing key
  when the reader may not list the bucket).
* Response headers policy: HSTS, ``nosniff``, ``X-Frame-Options: DENY``,
  ``strict-origin-when-cross-origin`` and a Content-Security-Policy for a
  Vite/React build that talks only to its own origin and ``connect_origins``
  (the API, the WebSocket and, with SSO, Cognito).
* The environment's web ACL (AWS WAF, ``constructs_lib.waf``).
* With a custom domain: the aliases, an ACM certificate from us-east-1 and
  TLS 1.2 (TLSv1.2_2021) at least. Without one, the default
  ``*.cloudfront.net`` certificate, which CloudFront pins to TLSv1.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudfront_distribution import (
    CloudfrontDistribution,
    CloudfrontDistributionCustomErrorResponse,
    CloudfrontDistributionDefaultCacheBehavior,
    CloudfrontDistributionOrigin,
    CloudfrontDistributionRestrictions,
    CloudfrontDistributionRestrictionsGeoRestriction,
    CloudfrontDistributionViewerCertificate,
)
from cdktf_cdktf_provider_aws.cloudfront_origin_access_control import CloudfrontOriginAccessControl
from cdktf_cdktf_provider_aws.cloudfront_response_headers_policy import (
    CloudfrontResponseHeadersPolicy,
    CloudfrontResponseHeadersPolicySecurityHeadersConfig,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicy,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigContentTypeOptions,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigFrameOptions,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigReferrerPolicy,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurity,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigXssProtection,
)
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from constructs import Construct

from constructs_lib._validation import Problems, is_token
from constructs_lib.actions import CLOUDFRONT_INVALIDATION_ACTIONS, S3_LIST_BUCKET_ACTIONS, S3_SYNC_OBJECT_ACTIONS
from constructs_lib.bucket import BUCKET_NAME_DESCRIPTION, BUCKET_NAME_PATTERN, MFA_DELETE_REASON, PrivateBucket, PrivateBucketProps
from constructs_lib.iam import Role, Statement
from constructs_lib.metrics import Metric
from constructs_lib.policy import accept_finding, skip_check

# AWS's managed "Managing-CachingOptimized" cache policy: gzip/brotli, no
# cookies, headers or query strings in the key, 1 day default TTL.
CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"
PRICE_CLASSES = ("PriceClass_100", "PriceClass_200", "PriceClass_All")
MINIMUM_TLS_POLICY = "TLSv1.2_2021"
ORIGIN_ID = "frontend-bucket"
INDEX_DOCUMENT = "index.html"
SPA_FALLBACK_ERROR_CODES = (403, 404)
MAX_CSP_LENGTH = 1783  # CloudFront's limit for the header value
_PREFIX = r"[A-Za-z0-9-]{1,40}"
_HOST = r"(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+"
_ALIAS = r"[a-z0-9-]+(\.[a-z0-9-]+)+"
_CONNECT_ORIGIN = rf"(https|wss)://{_HOST}(:[0-9]{{1,5}})?"

# checkov checks that do not fit this design, with the reason the README lists.
BUCKET_CHECKS_NOT_APPLICABLE = {
    "CKV_AWS_18": "Only CloudFront reads the bucket (OAC); its requests are counted by CloudFront, and S3 server access logs would need a second, ACL-enabled bucket",
    "CKV2_AWS_62": "Nothing reacts to uploads of the frontend build; CI invalidates CloudFront itself after syncing",
    "CKV_AWS_144": "The build is reproducible from git and versioned in place; a replica in a second region would serve no reader",
    "CKV_AWS_145": "SSE-S3: the objects are the public web app, and CloudFront OAC reads SSE-KMS objects only with a key policy per distribution",
}
DISTRIBUTION_CHECKS_NOT_APPLICABLE = {
    "CKV_AWS_86": "Standard logs need an S3 bucket with ACLs enabled, which this project keeps off; CloudFront's metrics cover a static site",
    "CKV_AWS_374": "The app serves its users wherever they are; no country is excluded by requirement",
    "CKV_AWS_310": "One S3 origin in one region: a failover origin would need a replicated bucket for a static, rebuildable site",
}
# Live-audit (prowler) findings the design accepts, with the same reasons.
BUCKET_FINDINGS_ACCEPTED = {
    "s3_bucket_server_access_logging_enabled": BUCKET_CHECKS_NOT_APPLICABLE["CKV_AWS_18"],
    "s3_bucket_event_notifications_enabled": BUCKET_CHECKS_NOT_APPLICABLE["CKV2_AWS_62"],
    "s3_bucket_cross_region_replication": BUCKET_CHECKS_NOT_APPLICABLE["CKV_AWS_144"],
    "s3_bucket_kms_encryption": BUCKET_CHECKS_NOT_APPLICABLE["CKV_AWS_145"],
    "s3_bucket_no_mfa_delete": MFA_DELETE_REASON,
    "s3_bucket_object_lock": "CI replaces the build's files in place on every deploy: Object Lock would block the overwrite and keep every old bundle; versioning keeps the history",
}
DISTRIBUTION_FINDINGS_ACCEPTED = {
    "cloudfront_distributions_logging_enabled": DISTRIBUTION_CHECKS_NOT_APPLICABLE["CKV_AWS_86"],
    "cloudfront_distributions_geo_restrictions_enabled": DISTRIBUTION_CHECKS_NOT_APPLICABLE["CKV_AWS_374"],
    "cloudfront_distributions_field_level_encryption_enabled": "Field-level encryption protects form fields POSTed through CloudFront; this distribution serves the static build (GET) and no API",
}
DISTRIBUTION_CHECKS_WITHOUT_CUSTOM_DOMAIN = {
    "CKV2_AWS_42": "No custom domain configured: the *.cloudfront.net certificate is the only one CloudFront can serve then",
    "CKV_AWS_174": "No custom domain configured: CloudFront's default certificate fixes the minimum TLS version; an ACM certificate gets TLSv1.2_2021",
}


DISTRIBUTION_FINDINGS_WITHOUT_CUSTOM_DOMAIN = {
    "cloudfront_distributions_custom_ssl_certificate": DISTRIBUTION_CHECKS_WITHOUT_CUSTOM_DOMAIN["CKV2_AWS_42"],
    "cloudfront_distributions_pqc_tls_enabled": "No custom domain configured: the default *.cloudfront.net certificate fixes CloudFront's default security policy; an ACM certificate lets the policy be chosen",
}


def viewer_certificate(certificate_arn: str | None) -> CloudfrontDistributionViewerCertificate:
    """An ACM certificate (us-east-1) with SNI and TLS 1.2 at least, or CloudFront's default one."""
    if certificate_arn:
        return CloudfrontDistributionViewerCertificate(
            acm_certificate_arn=certificate_arn, ssl_support_method="sni-only", minimum_protocol_version=MINIMUM_TLS_POLICY
        )
    return CloudfrontDistributionViewerCertificate(cloudfront_default_certificate=True)


def content_security_policy(connect_origins: tuple[str, ...]) -> str:
    """A CSP for a Vite/React build served from one origin.

    Scripts only from the build (Vite emits no inline script); inline
    styles allowed (CSS-in-JS and React's ``style`` props); images and fonts
    from the build, ``data:`` and ``blob:``; XHR/fetch/WebSocket only to
    this origin and ``connect_origins``; never framed; no plugins.
    """
    connect = " ".join(("'self'", *connect_origins))
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            f"connect-src {connect}",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "object-src 'none'",
            "upgrade-insecure-requests",
        )
    )


@dataclass(frozen=True, kw_only=True)
class FrontendProps:
    """Inputs of the frontend.

    bucket_name: the private bucket (the seed's ``s3_frontend_bucket``), an
        S3 bucket name: 3-63 lower-case letters, digits, '.' and '-'.
    name_prefix: prefix of the origin access control and headers policy
        names, 1-40 letters, digits and '-'.
    price_class: PriceClass_100 (North America, Europe), PriceClass_200
        (plus most of Asia, Middle East, Africa) or PriceClass_All.
        Default PriceClass_100, the cheapest.
    connect_origins: origins the SPA may call besides its own, such as
        ``https://api.example.com``, ``wss://ws.example.com`` or
        ``https://*.execute-api.us-east-1.amazonaws.com``; https:// or wss://,
        no path. Default none.
    aliases: custom domain names of the distribution, such as
        ``app.example.com``. Default none (the cloudfront.net name only).
    certificate_arn: ACM certificate in us-east-1 covering ``aliases``;
        required with aliases, not allowed without. Default None.
    noncurrent_version_expiration_days: days a replaced or deleted object
        version is kept, 1-3650. Default 30 (the seed's backup strategy).
    hsts_max_age_seconds: ``Strict-Transport-Security`` max-age, 0-63072000.
        Default 63072000 (2 years; subdomains included).
    hsts_preload: add ``preload`` to HSTS. Default True: it only consents to
        browsers' preload list (joining it is a separate, manual submission
        of a registrable domain); False where that consent is not ours to give.
    error_caching_min_ttl_seconds: how long CloudFront caches the SPA
        fallback for a missing path, 0-31536000. Default 10.
    web_acl_arn: the AWS WAF web ACL (CLOUDFRONT scope, us-east-1) in front
        of the app (``constructs_lib.waf``); the distribution requires it
        (the bucket's props, ``bucket_props()``, do not). Default None.
    force_destroy: let ``terraform destroy`` delete the bucket with its
        objects and versions. Default False: the bucket holds the only copy
        of earlier builds (rollbacks), so a destroy stops at a non-empty bucket.
    bucket: the bucket, made elsewhere (the data layer: it outlives the
        distribution; ``bucket_props()`` gives its props). Its policy is made
        here, since it names the distribution. Default None: made here.
    """

    bucket_name: str
    name_prefix: str
    price_class: str = "PriceClass_100"
    connect_origins: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    certificate_arn: str | None = None
    noncurrent_version_expiration_days: int = 30
    hsts_max_age_seconds: int = 63072000
    hsts_preload: bool = True
    error_caching_min_ttl_seconds: int = 10
    web_acl_arn: str | None = None
    force_destroy: bool = False
    bucket: PrivateBucket | None = None

    def __post_init__(self) -> None:
        problems = Problems("FrontendProps")
        problems.matches("bucket_name", self.bucket_name, BUCKET_NAME_PATTERN, BUCKET_NAME_DESCRIPTION)
        problems.matches("name_prefix", self.name_prefix, _PREFIX, "1-40 letters, digits and '-'")
        problems.one_of("price_class", self.price_class, PRICE_CLASSES)
        for origin in self.connect_origins:
            problems.matches("connect_origins", origin, _CONNECT_ORIGIN, "https:// or wss:// origins without a path, such as wss://ws.example.com")
        for alias in self.aliases:
            problems.matches("aliases", alias, _ALIAS, "lower-case DNS names such as app.example.com")
        if self.aliases and self.certificate_arn is None:
            problems.add(f"certificate_arn must be set with aliases (CloudFront serves {', '.join(self.aliases)} only with a certificate), but None was provided")
        if self.certificate_arn is not None and not self.aliases:
            problems.add("certificate_arn needs aliases to serve, but no alias was provided")
        problems.between("noncurrent_version_expiration_days", self.noncurrent_version_expiration_days, 1, 3650)
        problems.between("hsts_max_age_seconds", self.hsts_max_age_seconds, 0, 63072000)
        problems.between("error_caching_min_ttl_seconds", self.error_caching_min_ttl_seconds, 0, 31536000)
        policy = self.content_security_policy
        if not is_token(policy) and len(policy) > MAX_CSP_LENGTH:
            problems.add(f"connect_origins make the Content-Security-Policy {len(policy)} characters long, but CloudFront allows at most {MAX_CSP_LENGTH}")
        problems.raise_if_any()

    def bucket_props(self) -> PrivateBucketProps:
        return PrivateBucketProps(
            bucket_name=self.bucket_name,
            force_destroy=self.force_destroy,
            noncurrent_version_expiration_days=self.noncurrent_version_expiration_days,
        )

    @property
    def content_security_policy(self) -> str:
        return content_security_policy(self.connect_origins)


class Frontend(Construct):
    """A private, versioned bucket and the CloudFront distribution that alone reads it."""

    def __init__(self, scope: Construct, construct_id: str, props: FrontendProps) -> None:
        super().__init__(scope, construct_id)
        if props.web_acl_arn is None:
            raise ValueError("FrontendProps: web_acl_arn must be set: every distribution is behind the web ACL, but None was provided")
        self.props = props
        prefix = props.name_prefix

        # -- the bucket ----------------------------------------------------------------
        # SSE-S3 (no kms_key_arn): CloudFront's OAC reads SSE-KMS objects only with
        # a key policy grant per distribution; the build is public content anyway.
        self.bucket = props.bucket or PrivateBucket(self, "bucket", props.bucket_props())

        # -- CloudFront ------------------------------------------------------------------
        self.origin_access_control = CloudfrontOriginAccessControl(
            self,
            "origin-access-control",
            name=f"{prefix}-frontend",
            description=f"CloudFront signs every request to s3://{props.bucket_name}",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
        )
        self.response_headers_policy = CloudfrontResponseHeadersPolicy(
            self,
            "response-headers-policy",
            name=f"{prefix}-frontend-security-headers",
            comment="Security headers of the React app",
            security_headers_config=CloudfrontResponseHeadersPolicySecurityHeadersConfig(
                strict_transport_security=CloudfrontResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurity(
                    access_control_max_age_sec=props.hsts_max_age_seconds, include_subdomains=True, preload=props.hsts_preload, override=True
                ),
                content_type_options=CloudfrontResponseHeadersPolicySecurityHeadersConfigContentTypeOptions(override=True),
                frame_options=CloudfrontResponseHeadersPolicySecurityHeadersConfigFrameOptions(frame_option="DENY", override=True),
                referrer_policy=CloudfrontResponseHeadersPolicySecurityHeadersConfigReferrerPolicy(
                    referrer_policy="strict-origin-when-cross-origin", override=True
                ),
                content_security_policy=CloudfrontResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicy(
                    content_security_policy=props.content_security_policy, override=True
                ),
                # "X-XSS-Protection: 0": the legacy filter is itself an XSS vector; the CSP replaces it.
                xss_protection=CloudfrontResponseHeadersPolicySecurityHeadersConfigXssProtection(protection=False, override=True),
            ),
        )
        self.distribution = CloudfrontDistribution(
            self,
            "distribution",
            enabled=True,
            comment=f"{prefix} frontend (s3://{props.bucket_name})",
            aliases=list(props.aliases) or None,
            default_root_object=INDEX_DOCUMENT,
            is_ipv6_enabled=True,
            http_version="http2and3",
            price_class=props.price_class,
            web_acl_id=props.web_acl_arn,
            origin=[
                CloudfrontDistributionOrigin(
                    origin_id=ORIGIN_ID,
                    domain_name=self.bucket.bucket_regional_domain_name,
                    origin_access_control_id=self.origin_access_control.id,
                )
            ],
            default_cache_behavior=CloudfrontDistributionDefaultCacheBehavior(
                target_origin_id=ORIGIN_ID,
                viewer_protocol_policy="redirect-to-https",
                allowed_methods=["GET", "HEAD", "OPTIONS"],
                cached_methods=["GET", "HEAD"],
                compress=True,
                cache_policy_id=CACHING_OPTIMIZED_POLICY_ID,
                response_headers_policy_id=self.response_headers_policy.id,
            ),
            custom_error_response=[
                CloudfrontDistributionCustomErrorResponse(
                    error_code=code,
                    response_code=200,
                    response_page_path=f"/{INDEX_DOCUMENT}",
                    error_caching_min_ttl=props.error_caching_min_ttl_seconds,
                )
                for code in SPA_FALLBACK_ERROR_CODES
            ],
            restrictions=CloudfrontDistributionRestrictions(
                geo_restriction=CloudfrontDistributionRestrictionsGeoRestriction(restriction_type="none")
            ),
            viewer_certificate=viewer_certificate(props.certificate_arn),
        )

        self._skip_checks()

        # -- who may read the bucket -----------------------------------------------------
        # A bucket made elsewhere gets its policy here: it names this distribution.
        self.bucket.add_policy(
            scope=self if props.bucket is not None else None,
            statements=[
                DataAwsIamPolicyDocumentStatement(
                    sid="CloudFrontReadsObjects",
                    effect="Allow",
                    principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=["cloudfront.amazonaws.com"])],
                    actions=["s3:GetObject"],
                    resources=[f"{self.bucket.bucket_arn}/*"],
                    condition=[
                        DataAwsIamPolicyDocumentStatementCondition(
                            test="StringEquals", variable="AWS:SourceArn", values=[self.distribution.arn]
                        )
                    ],
                ),
            ]
        )

    def _skip_checks(self) -> None:
        """Policy-scan checks that do not fit a private bucket holding a public build, and why."""
        for check_id, reason in BUCKET_CHECKS_NOT_APPLICABLE.items():
            skip_check(self.bucket.bucket, check_id, reason)
        for check_id, reason in DISTRIBUTION_CHECKS_NOT_APPLICABLE.items():
            skip_check(self.distribution, check_id, reason)
        if self.props.certificate_arn is None:
            for check_id, reason in DISTRIBUTION_CHECKS_WITHOUT_CUSTOM_DOMAIN.items():
                skip_check(self.distribution, check_id, reason)
        for check_id, reason in BUCKET_FINDINGS_ACCEPTED.items():
            accept_finding(self.bucket.bucket, check_id, reason)
        findings = dict(DISTRIBUTION_FINDINGS_ACCEPTED)
        findings.update(DISTRIBUTION_FINDINGS_WITHOUT_CUSTOM_DOMAIN if self.props.certificate_arn is None else {})
        for check_id, reason in findings.items():
            accept_finding(self.distribution, check_id, reason)

    # -- attributes -------------------------------------------------------------------
    @property
    def frontend_bucket_name(self) -> str:
        return self.bucket.bucket_name

    @property
    def frontend_bucket_arn(self) -> str:
        return self.bucket.bucket_arn

    @property
    def cloudfront_distribution_id(self) -> str:
        return self.distribution.id

    @property
    def cloudfront_distribution_arn(self) -> str:
        return self.distribution.arn

    @property
    def cloudfront_domain_name(self) -> str:
        """``d1234abcd.cloudfront.net``."""
        return self.distribution.domain_name

    @property
    def cloudfront_hosted_zone_id(self) -> str:
        """Route 53 zone of CloudFront's names, for alias records."""
        return self.distribution.hosted_zone_id

    @property
    def frontend_url(self) -> str:
        """``https://<first alias>`` with a custom domain, else ``https://<cloudfront domain>``."""
        return f"https://{self.props.aliases[0] if self.props.aliases else self.cloudfront_domain_name}"

    # -- grants -------------------------------------------------------------------------
    def grant_upload(self, role: Role) -> None:
        """Replace the build: what ``aws s3 sync --delete`` needs on the bucket.

        No KMS permission: the bucket uses SSE-S3.
        """
        role.grant(
            f"{self.node.id}-upload",
            [
                Statement(sid="ListBuild", actions=S3_LIST_BUCKET_ACTIONS, resources=(self.frontend_bucket_arn,)),
                Statement(sid="ReplaceBuild", actions=S3_SYNC_OBJECT_ACTIONS, resources=(f"{self.frontend_bucket_arn}/*",)),
            ],
        )

    def grant_invalidate(self, role: Role) -> None:
        """Invalidate this distribution's cache and wait for the invalidation."""
        role.grant(
            f"{self.node.id}-invalidate",
            [Statement(sid="InvalidateCache", actions=CLOUDFRONT_INVALIDATION_ACTIONS, resources=(self.cloudfront_distribution_arn,))],
        )

    # -- metrics ------------------------------------------------------------------------
    def metric(self, metric_name: str, *, statistic: str = "Average") -> Metric:
        """A metric of the distribution (``AWS/CloudFront``, published in us-east-1, ``Region=Global``)."""
        return Metric(
            namespace="AWS/CloudFront",
            metric_name=metric_name,
            dimensions={"DistributionId": self.cloudfront_distribution_id, "Region": "Global"},
            statistic=statistic,
        )

    def metric_requests(self) -> Metric:
        return self.metric("Requests", statistic="Sum")

    def metric_error_rate(self) -> Metric:
        """Percentage of responses with a 4xx or 5xx status (``TotalErrorRate``)."""
        return self.metric("TotalErrorRate")

    def metric_server_error_rate(self) -> Metric:
        """Percentage of responses with a 5xx status (``5xxErrorRate``)."""
        return self.metric("5xxErrorRate")
