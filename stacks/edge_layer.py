"""The edge layer: everything clients reach. Public endpoints change when the API's shape does, not on deploys.

Certificates and the custom domain, the CloudFront distribution in front of
the data layer's bucket, the optional Cognito sign-in, the HTTP API (VPC
link to the data layer's Cloud Map service) and the WebSocket API (v1 VPC
link to an internal NLB), and the region's API Gateway logging setting.
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
from stacks.config import EnvironmentConfig
from stacks.data_layer import DataLayer
from stacks.layer import CLOUDFRONT_CERTIFICATE_REGION, LayerStack
from stacks.names import http_api_name, websocket_api_name
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

        # Certificates first: CloudFront and the API domains need them at creation.
        # CloudFront reads its certificate in us-east-1 only.
        cloudfront_certificate = api_certificate = None
        if custom_domain:
            us_east_1 = None
            if config.aws_region != CLOUDFRONT_CERTIFICATE_REGION:
                us_east_1 = self.aws_provider("aws-us-east-1", CLOUDFRONT_CERTIFICATE_REGION, alias="us_east_1")
            cloudfront_certificate = DnsValidatedCertificate(
                self,
                "cloudfront-certificate",
                DnsValidatedCertificateProps(domain_name=config.domain_name, hosted_zone_id=config.hosted_zone_id, provider=us_east_1),
            )
            api_certificate = DnsValidatedCertificate(
                self,
                "api-certificate",
                DnsValidatedCertificateProps(domain_name=api_domain, subject_alternative_names=(websocket_domain,), hosted_zone_id=config.hosted_zone_id),
            )

        # The SPA's CSP may name the API origins only when they are fixed names:
        # the APIs' own endpoints would make a cycle (their CORS names the distribution).
        if custom_domain:
            connect_origins = [f"https://{api_domain}", f"wss://{websocket_domain}"]
        else:
            connect_origins = [f"{scheme}://*.execute-api.{context.region}.{context.dns_suffix}" for scheme in ("https", "wss")]
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
                certificate_arn=cloudfront_certificate.certificate_arn if cloudfront_certificate else None,
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

        self.http_api = HttpApi(
            self,
            "http-api",
            HttpApiProps(
                name=http_api_name(config),
                subnet_ids=private_subnets,
                vpc_link_security_group_ids=(network.vpc_link_security_group.security_group_id,),
                cloud_map_service_arn=data.api_discovery.service_arn,
                cors_allow_origins=(frontend_url,),
                throttling_burst_limit=config.api_throttling_burst_limit,
                throttling_rate_limit=config.api_throttling_rate_limit,
                log_retention_days=config.api_access_log_retention_days,
                access_log_group=data.http_api_access_log_group,
                **jwt,
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
            ),
        )

        api_url, websocket_url = self.http_api.api_gateway_url, self.websocket_api.websocket_gateway_url
        if custom_domain:
            api = ApiCustomDomain(
                self,
                "api-domain",
                ApiCustomDomainProps(
                    domain_name=api_domain,
                    certificate_arn=api_certificate.certificate_arn,
                    hosted_zone_id=config.hosted_zone_id,
                    api_id=self.http_api.api_id,
                    stage_name=self.http_api.stage_name,
                ),
            )
            websocket = ApiCustomDomain(
                self,
                "websocket-domain",
                ApiCustomDomainProps(
                    domain_name=websocket_domain,
                    certificate_arn=api_certificate.certificate_arn,
                    hosted_zone_id=config.hosted_zone_id,
                    api_id=self.websocket_api.websocket_api_id,
                    stage_name=self.websocket_api.stage_name,
                    url_scheme="wss",
                ),
            )
            AliasRecords(
                self,
                "frontend-alias",
                AliasRecordsProps(
                    name=config.domain_name,
                    hosted_zone_id=config.hosted_zone_id,
                    target_dns_name=self.frontend.cloudfront_domain_name,
                    target_hosted_zone_id=self.frontend.cloudfront_hosted_zone_id,
                ),
            )
            api_url, websocket_url = api.url, websocket.url
        self.api_url, self.websocket_url = api_url, websocket_url

        for name, value, description in (
            ("api_gateway_url", api_url, "Base URL of the HTTP API (the frontend's VITE_API_URL)."),
            ("websocket_gateway_url", websocket_url, "URL of the WebSocket API (the frontend's VITE_WS_URL)."),
            ("frontend_url", frontend_url, "URL of the app."),
            ("cloudfront_distribution_id", self.frontend.cloudfront_distribution_id, "Distribution to invalidate after an upload."),
            ("cloudfront_domain_name", self.frontend.cloudfront_domain_name, "CloudFront's own name for the frontend."),
            ("http_api_id", self.http_api.api_id, "ID of the HTTP API."),
            ("vpc_link_id", self.http_api.vpc_link_id, "VPC link of the HTTP API to the API tasks."),
        ):
            self.output(name, value, description)
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
