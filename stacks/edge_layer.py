"""The edge layer: everything clients reach. Public endpoints change when the API's shape does, not on deploys.

Certificates and the custom domain, the web ACL (AWS WAF) and the three
CloudFront distributions it guards (the frontend's, in front of the data
layer's bucket, and one per API), the origin verification that refuses
API requests which did not come through them, the optional Cognito sign-in,
the HTTP API (VPC link to the data layer's Cloud Map service) and the
WebSocket API (v1 VPC link to an internal NLB), and the region's API
Gateway logging setting. With canary releases (``api_release_strategy``),
also the release ALB both APIs reach the tasks through instead
(``release_load_balancer``: its listener and two target groups hold live
traffic, and CodeDeploy in the services layer shifts them).
The APIs, the distribution and the user pool are data-bearing too (clients
hold their URLs; the pool holds the users), so they carry the same
protection and address guard as the data layer's resources.

Exports to the layers above: ``http_api`` (metrics, URL),
``websocket_api`` (target group the API service registers in, the
callback URL, ``grant_manage_connections``), ``frontend`` (upload and
invalidate grants, metrics) and ``api_environment``, the environment the
API containers read.
"""

from __future__ import annotations

from cdktf import Annotations
from constructs import Construct

from constructs_lib.api_distribution import ApiDistribution, ApiDistributionProps
from constructs_lib.aws_context import AwsContext
from constructs_lib.domain import (
    API_SUBDOMAIN,
    WEBSOCKET_SUBDOMAIN,
    AliasRecords,
    AliasRecordsProps,
    DnsValidatedCertificate,
    DnsValidatedCertificateProps,
)
from constructs_lib.frontend import Frontend, FrontendProps
from constructs_lib.http_api import HttpApi, HttpApiProps, RequestAuthorizer
from constructs_lib.origin_verify import HEADER_NAME, OriginVerification, OriginVerificationProps
from constructs_lib.waf import EdgeWebAcl, EdgeWebAclProps
from constructs_lib.waf_rules import WafRuleSettings
from constructs_lib.identity import SingleSignOn, SingleSignOnProps, hosted_ui_origin
from constructs_lib.load_balancer import ReleaseLoadBalancer, ReleaseLoadBalancerProps
from constructs_lib.websocket_api import AlbTarget, ApiGatewayAccount, ApiGatewayAccountProps, WebSocketApi, WebSocketApiProps
from stacks.config import EnvironmentConfig
from stacks.data_layer import DataLayer
from stacks.layer import CLOUDFRONT_CERTIFICATE_REGION, LayerStack
from stacks.names import (
    http_api_name,
    release_load_balancer_name,
    release_target_group_names,
    websocket_alb_target_group_name,
    websocket_api_name,
)
from stacks.network_layer import NetworkLayer


class EdgeLayer(LayerStack):
    layer = "edge"

    def __init__(self, scope: Construct, config: EnvironmentConfig, network: NetworkLayer, data: DataLayer) -> None:
        super().__init__(scope, config)
        prefix = config.resource_prefix
        context = AwsContext.of(self)
        custom_domain = config.custom_domain_enabled
        if config.domain_name and not custom_domain:
            Annotations.of(self).add_warning(
                f"domain_name {config.domain_name!r} is ignored: a custom domain needs hosted_zone_id (the Route 53 zone "
                "that validates its certificates); the app keeps the AWS default endpoints"
            )
        api_domain = f"{API_SUBDOMAIN}.{config.domain_name}"
        websocket_domain = f"{WEBSOCKET_SUBDOMAIN}.{config.domain_name}"
        private_subnets = tuple(network.network.private_subnet_ids)
        # CloudFront reads certificates, and keeps CLOUDFRONT-scope web ACLs, in us-east-1 only.
        us_east_1 = None
        if config.aws_region != CLOUDFRONT_CERTIFICATE_REGION:
            us_east_1 = self.aws_provider("aws-us-east-1", CLOUDFRONT_CERTIFICATE_REGION, alias="us_east_1")

        # Certificates first: the distributions need them at creation. One for the
        # app and both API names: CloudFront serves all three.
        certificate = None
        if custom_domain:
            certificate = DnsValidatedCertificate(
                self,
                "cloudfront-certificate",
                DnsValidatedCertificateProps(
                    domain_name=config.domain_name,
                    subject_alternative_names=(api_domain, websocket_domain),
                    hosted_zone_id=config.hosted_zone_id,
                    provider=us_east_1,
                ),
            )
        certificate_arn = certificate.certificate_arn if certificate else None

        self.web_acl = EdgeWebAcl(
            self,
            "web-acl",
            EdgeWebAclProps(
                name=prefix,
                log_group=data.waf_log_group,
                rules=WafRuleSettings(
                    rate_limit=config.waf_rate_limit,
                    rate_limit_window_seconds=config.waf_rate_limit_window_seconds,
                    common_rule_overrides=config.waf_common_rule_overrides,
                    enable_anonymous_ip_list=config.waf_enable_anonymous_ip_list,
                    enable_bot_control=config.waf_enable_bot_control,
                ),
                provider=us_east_1,
            ),
        )

        # The SPA's CSP may name the API origins only when they are fixed names: the
        # APIs' distributions would make a cycle (the HTTP API's CORS names the app's).
        if custom_domain:
            connect_origins = [f"https://{api_domain}", f"wss://{websocket_domain}"]
        else:
            connect_origins = [f"{scheme}://*.cloudfront.net" for scheme in ("https", "wss")]
        if config.enable_cognito_sso:
            connect_origins.append(hosted_ui_origin(config.effective_cognito_domain_prefix, context.region))
        self.frontend = Frontend(
            self,
            "frontend",
            FrontendProps(
                bucket_name=config.s3_frontend_bucket,
                name_prefix=prefix,
                price_class=config.cloudfront_price_class,
                connect_origins=tuple(connect_origins),
                aliases=(config.domain_name,) if custom_domain else (),
                certificate_arn=certificate_arn,
                web_acl_arn=self.web_acl.web_acl_arn,
                bucket=data.frontend_bucket,
            ),
        )
        frontend_url = self.frontend.frontend_url

        self.single_sign_on: SingleSignOn | None = None
        jwt: dict = {}
        if config.enable_cognito_sso:
            self.single_sign_on = SingleSignOn(
                self,
                "single-sign-on",
                SingleSignOnProps(
                    name=prefix,
                    domain_prefix=config.effective_cognito_domain_prefix,
                    metadata_url=config.pingid_metadata_url,
                    callback_urls=(f"{frontend_url}/",),
                    logout_urls=(f"{frontend_url}/",),
                ),
            )
            jwt = dict(jwt_issuer=self.single_sign_on.issuer_url, jwt_audience=(self.single_sign_on.cognito_user_pool_client_id,))

        # The route's one authorizer checks CloudFront's header and, with SSO, the user's token.
        self.origin_verification = OriginVerification(
            self,
            "origin-verify",
            OriginVerificationProps(
                name=prefix,
                secret_kms_key_arn=data.keys["secrets"].key_arn,
                log_group=data.origin_verify_log_group,
                secret=data.origin_secret,
                result_ttl_seconds=config.origin_verify_cache_seconds,
                **jwt,
            ),
        )
        identity_headers = (HEADER_NAME, "authorization") if jwt else (HEADER_NAME,)
        # Canary releases: both APIs reach the tasks through the release ALB, which CodeDeploy shifts.
        # A cutover makes the ALB (and the NLB's group of type alb) while both APIs stay on the rolling service.
        self.release_load_balancer: ReleaseLoadBalancer | None = None
        integration_target_arn = data.api_discovery.service_arn
        alb_target = None
        if config.api_blue_green_service:
            assert network.release_load_balancer_security_group is not None
            self.release_load_balancer = ReleaseLoadBalancer(
                self,
                "release-load-balancer",
                ReleaseLoadBalancerProps(
                    name=release_load_balancer_name(config),
                    target_group_names=release_target_group_names(config),
                    vpc_id=network.network.vpc_id,
                    subnet_ids=private_subnets,
                    security_group=network.release_load_balancer_security_group,
                    port=config.api_container_port,
                    health_check_path=config.api_health_check_path,
                ),
            )
            if config.api_traffic_on_release_load_balancer:
                integration_target_arn = self.release_load_balancer.listener_arn
            alb_target = AlbTarget(
                load_balancer_arn=self.release_load_balancer.load_balancer_arn,
                port=config.api_container_port,
                target_group_name=websocket_alb_target_group_name(config),
                health_check_path=config.api_health_check_path,
                listener=self.release_load_balancer.listener,
                serving=config.api_traffic_on_release_load_balancer,
            )
        self.http_api = HttpApi(
            self,
            "http-api",
            HttpApiProps(
                name=http_api_name(config),
                subnet_ids=private_subnets,
                vpc_link_security_group_ids=(network.vpc_link_security_group.security_group_id,),
                integration_target_arn=integration_target_arn,
                integration_target_is_load_balancer=config.api_traffic_on_release_load_balancer,
                cors_allow_origins=(frontend_url,),
                throttling_burst_limit=config.api_throttling_burst_limit,
                throttling_rate_limit=config.api_throttling_rate_limit,
                log_retention_days=config.api_access_log_retention_days,
                access_log_group=data.http_api_access_log_group,
                request_authorizer=RequestAuthorizer(
                    name=f"{http_api_name(config)}-origin-verify",
                    function_invoke_arn=self.origin_verification.authorizer_invoke_arn,
                    identity_headers=identity_headers,
                    result_ttl_seconds=config.origin_verify_cache_seconds,
                ),
            ),
        )

        account_role_arn = None
        if config.manage_api_gateway_account:
            self.api_gateway_account = ApiGatewayAccount(
                self, "api-gateway-account", ApiGatewayAccountProps(role_name=f"{prefix}-apigateway-cloudwatch")
            )
            account_role_arn = self.api_gateway_account.cloudwatch_role_arn
        self.websocket_api = WebSocketApi(
            self,
            "websocket-api",
            WebSocketApiProps(
                name=websocket_api_name(config),
                load_balancer_name=websocket_api_name(config),
                vpc_id=network.network.vpc_id,
                subnet_ids=private_subnets,
                container_port=config.api_container_port,
                account_logging_role_arn=account_role_arn,
                throttling_burst_limit=config.websocket_throttling_burst_limit,
                throttling_rate_limit=config.websocket_throttling_rate_limit,
                log_retention_days=config.api_access_log_retention_days,
                access_log_group=data.websocket_api_access_log_group,
                load_balancer_security_group=network.websocket_load_balancer_security_group,
                alb_target=alb_target,
                connect_authorizer=RequestAuthorizer(
                    name=f"{websocket_api_name(config)}-origin-verify",
                    function_invoke_arn=self.origin_verification.authorizer_invoke_arn,
                    identity_headers=(HEADER_NAME,),
                ),
            ),
        )
        for construct_id, api in (("http-api-authorizer", self.http_api), ("websocket-api-authorizer", self.websocket_api)):
            assert api.authorizer is not None
            self.origin_verification.grant_invoke(construct_id, api.api_execution_arn, api.authorizer.id)

        # Each API on a distribution of its own, behind the same web ACL.
        execute_api_host = f"execute-api.{context.region}.{context.dns_suffix}"
        self.api_distribution, self.websocket_distribution = (
            ApiDistribution(
                self,
                construct_id,
                ApiDistributionProps(
                    name=name,
                    kind=kind,
                    origin_domain_name=f"{api_id}.{execute_api_host}",
                    origin_path=origin_path,
                    web_acl_arn=self.web_acl.web_acl_arn,
                    viewer_request_function_arn=self.origin_verification.function_arn,
                    aliases=(alias,) if custom_domain else (),
                    certificate_arn=certificate_arn,
                    price_class=config.cloudfront_price_class,
                ),
            )
            for construct_id, name, kind, api_id, origin_path, alias in (
                ("api-distribution", http_api_name(config), "http", self.http_api.api_id, "", api_domain),
                (
                    "websocket-distribution",
                    websocket_api_name(config),
                    "websocket",
                    self.websocket_api.websocket_api_id,
                    f"/{self.websocket_api.props.stage_name}",
                    websocket_domain,
                ),
            )
        )

        if custom_domain:
            for construct_id, name, target_dns_name, target_hosted_zone_id in (
                ("frontend-alias", config.domain_name, self.frontend.cloudfront_domain_name, self.frontend.cloudfront_hosted_zone_id),
                ("api-alias", api_domain, self.api_distribution.domain_name, self.api_distribution.hosted_zone_id),
                ("websocket-alias", websocket_domain, self.websocket_distribution.domain_name, self.websocket_distribution.hosted_zone_id),
            ):
                AliasRecords(
                    self,
                    construct_id,
                    AliasRecordsProps(
                        name=name, hosted_zone_id=config.hosted_zone_id, target_dns_name=target_dns_name, target_hosted_zone_id=target_hosted_zone_id
                    ),
                )
        self.api_url, self.websocket_url = self.api_distribution.url, self.websocket_distribution.url

        for name, value, description in (
            ("api_gateway_url", self.api_url, "Base URL of the HTTP API, through CloudFront and the web ACL (the frontend's VITE_API_URL)."),
            ("websocket_gateway_url", self.websocket_url, "URL of the WebSocket API, through CloudFront and the web ACL (the frontend's VITE_WS_URL)."),
            ("frontend_url", frontend_url, "URL of the app."),
            ("cloudfront_distribution_id", self.frontend.cloudfront_distribution_id, "Distribution to invalidate after an upload."),
            ("cloudfront_domain_name", self.frontend.cloudfront_domain_name, "CloudFront's own name for the frontend."),
            ("api_distribution_id", self.api_distribution.distribution_id, "Distribution in front of the HTTP API."),
            ("websocket_distribution_id", self.websocket_distribution.distribution_id, "Distribution in front of the WebSocket API."),
            ("web_acl_arn", self.web_acl.web_acl_arn, "The web ACL (CLOUDFRONT scope, us-east-1) on all three distributions."),
            ("origin_verify_secret_arn", self.origin_verification.secret_arn, "Secret the API authorizer compares CloudFront's header with (tools.origin_secret writes it)."),
            (
                "origin_verify_key_value_store_arn",
                self.origin_verification.key_value_store_arn,
                "KeyValueStore CloudFront's header comes from (tools.origin_secret writes it).",
            ),
            (
                "origin_secret_rotator_role_arn",
                self.origin_verification.rotator_role_arn,
                "Role tools.origin_secret assumes (--role-arn) to write the origin secret and the KeyValueStore.",
            ),
            ("http_api_id", self.http_api.api_id, "ID of the HTTP API."),
            ("vpc_link_id", self.http_api.vpc_link_id, "VPC link of the HTTP API to the API tasks."),
        ):
            self.output(name, value, description)
        # Where callers inside the VPC reach the API: the release ALB with canary releases (Cloud Map has no
        # API tasks then), the seed's Cloud Map name with rolling ones.
        internal_host = (
            self.release_load_balancer.dns_name
            if self.release_load_balancer is not None and config.api_traffic_on_release_load_balancer
            else f"{data.api_discovery.service_name}.{data.namespace.namespace_name}"
        )
        self.output(
            "api_internal_url",
            f"http://{internal_host}:{config.api_container_port}",
            "URL of the API for callers inside the VPC: the release ALB (canary releases) or the Cloud Map name (rolling).",
        )
        if self.single_sign_on is not None:
            for name, value, description in (
                ("cognito_user_pool_id", self.single_sign_on.cognito_user_pool_id, "User pool federated with PingID."),
                ("cognito_user_pool_client_id", self.single_sign_on.cognito_user_pool_client_id, "App client of the frontend (VITE_COGNITO_CLIENT_ID)."),
                ("cognito_domain", self.single_sign_on.cognito_domain, "Hosted sign-in domain the frontend redirects to."),
            ):
                self.output(name, value, description)

        self.api_environment = {"WEBSOCKET_CALLBACK_URL": self.websocket_api.websocket_callback_url}
        if self.single_sign_on is None and config.pingid_metadata_url:
            # Without the pool, the API does SSO itself from PingID's metadata.
            self.api_environment["PINGID_METADATA_URL"] = config.pingid_metadata_url
            if not config.enable_nat_gateway:
                # Without NAT the private subnets reach AWS only, through VPC endpoints.
                Annotations.of(self).add_warning(
                    f"pingid_metadata_url {config.pingid_metadata_url!r} is given to the API tasks to fetch at runtime "
                    "(enable_cognito_sso is false), but they cannot reach it: enable_nat_gateway is false, so the tasks "
                    "have no path to the internet, only VPC endpoints to AWS. Set enable_cognito_sso = true (Cognito "
                    "federates with PingID and fetches the metadata itself), or enable_nat_gateway = true"
                )
