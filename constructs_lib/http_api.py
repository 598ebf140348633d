"""The public HTTP API: API Gateway HTTP API -> VPC link -> Cloud Map (or the release ALB) -> API tasks.

Why this shape (the seed's "HTTP API with VPC Link integration"):

* A v2 VPC link puts API Gateway's ENIs in the private subnets with their own
  security group, which is the only group the API tasks accept traffic from.
  No load balancer: the HTTP_PROXY integration targets the Cloud Map
  service's ARN and API Gateway resolves its SRV records (task IP and port)
  itself, so the integration costs nothing per hour. With canary releases
  the integration targets the internal ALB's listener instead
  (constructs_lib/load_balancer.py): only a load balancer can weigh requests.
* One ``$default`` route on one ``$default`` stage with auto-deploy: every
  path and method goes to the API, and the stage name never appears in the
  path the API sees.
* CORS answers preflights for the frontend's origins only (never ``*``);
  browsers send the Cognito token in ``Authorization``, not cookies, so
  credentials are off unless asked for.
* Access logs are JSON (one object per request, built with ``Fn.jsonencode``
  so the HCL export stays valid) in a log group with a retention.
* Stage-wide throttling caps what one client burst can cost the tasks.
* With ``jwt_issuer`` (Cognito SSO), a JWT authorizer checks every route's
  bearer token before the request reaches the VPC link.
* With ``request_authorizer`` (served through CloudFront), a Lambda REQUEST
  authorizer checks every route instead (it checks the token too, when the
  environment uses SSO: a route has one authorizer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdktf import Fn
from cdktf_cdktf_provider_aws.apigatewayv2_api import Apigatewayv2Api, Apigatewayv2ApiCorsConfiguration
from cdktf_cdktf_provider_aws.apigatewayv2_authorizer import Apigatewayv2Authorizer, Apigatewayv2AuthorizerJwtConfiguration
from cdktf_cdktf_provider_aws.apigatewayv2_integration import Apigatewayv2Integration
from cdktf_cdktf_provider_aws.apigatewayv2_route import Apigatewayv2Route
from cdktf_cdktf_provider_aws.apigatewayv2_stage import (
    Apigatewayv2Stage,
    Apigatewayv2StageAccessLogSettings,
    Apigatewayv2StageDefaultRouteSettings,
)
from cdktf_cdktf_provider_aws.apigatewayv2_vpc_link import Apigatewayv2VpcLink
from constructs import Construct

from constructs_lib._validation import Problems, is_token
from constructs_lib.limits import LOG_RETENTION_DAYS
from constructs_lib.logs import LogGroup, LogGroupProps
from constructs_lib.metrics import Metric, api_gateway_stage_metric
from constructs_lib.policy import accept_finding, skip_check

DEFAULT_STAGE = "$default"
DEFAULT_ROUTE = "$default"
# API Gateway's account-level defaults per region; a stage cannot exceed them.
MAX_BURST_LIMIT = 5000
MAX_RATE_LIMIT = 10000
MAX_INTEGRATION_TIMEOUT_MILLISECONDS = 30000  # the HTTP API maximum
CORS_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
_NAME = r"[A-Za-z0-9_.-]{1,128}"
# A Cloud Map service, or an ALB's listener.
_INTEGRATION_TARGET = re.compile(r"arn:[a-z-]+:(servicediscovery:[^:\s]+:[0-9]{12}:service/srv-[A-Za-z0-9]+|elasticloadbalancing:[^:\s]+:[0-9]{12}:listener/app/[^\s]+)")
_CORS_ORIGIN = r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?"
_ISSUER = r"https://[^\s]+"
# checkov's CKV_AWS_309 wants an authorizer on every route; without SSO the API authenticates itself.
OPEN_ROUTE_REASON = "Without Cognito SSO the API service authenticates requests itself (PingID SAML); enable_cognito_sso adds a JWT authorizer here"

# One JSON object per request. Field names are ours; values are API Gateway's
# $context variables for HTTP APIs.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "path": "$context.path",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationStatus": "$context.integrationStatus",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
    "userAgent": "$context.identity.userAgent",
}


@dataclass(frozen=True, kw_only=True)
class RequestAuthorizer:
    """A Lambda REQUEST authorizer of an API (HTTP or WebSocket).

    name: the authorizer's name.
    function_invoke_arn: the function's invoke ARN.
    identity_headers: request headers that must be present (API Gateway
        answers 401 without calling the function when one is missing) and
        that key the answer cache.
    result_ttl_seconds: how long API Gateway caches an answer per identity,
        0-3600 (HTTP APIs; WebSocket APIs cache nothing). Default 300.
    """

    name: str
    function_invoke_arn: str
    identity_headers: tuple[str, ...]
    result_ttl_seconds: int = 300

    def __post_init__(self) -> None:
        problems = Problems("RequestAuthorizer")
        if not self.identity_headers:
            problems.add("identity_headers must hold at least one header, but none was provided")
        problems.between("result_ttl_seconds", self.result_ttl_seconds, 0, 3600)
        problems.raise_if_any()


@dataclass(frozen=True, kw_only=True)
class HttpApiProps:
    """Inputs of the HTTP API.

    name: API, VPC link and log group name, 1-128 letters, digits, '-', '_'
        and '.'. Such as ``circle-of-trust-api``.
    subnet_ids: private subnets of the VPC link's ENIs, at least one (one per
        zone the API tasks run in).
    vpc_link_security_group_ids: groups of the VPC link's ENIs, at least
        one; the API tasks' group admits the container port from them.
    integration_target_arn: the integration's target: the Cloud Map service
        of the API tasks (SRV records; rolling releases), or the production
        listener of the internal ALB in front of them (canary releases,
        constructs_lib/load_balancer.py).
    integration_target_is_load_balancer: True when integration_target_arn
        is the listener. Default False (Cloud Map).
    cors_allow_origins: origins a browser may call the API from, such as
        ``https://app.example.com``; at least one, never ``*``.
    cors_allow_methods: methods allowed cross-origin, from DELETE, GET, HEAD,
        OPTIONS, PATCH, POST, PUT. Default all of them but HEAD and OPTIONS.
    cors_allow_headers: request headers allowed cross-origin. Default
        ``authorization`` and ``content-type``.
    cors_allow_credentials: let browsers send cookies cross-origin. Default
        False: the SPA sends its token in ``Authorization``.
    cors_max_age_seconds: how long browsers cache a preflight, 0-86400.
        Default 3600.
    throttling_burst_limit: requests the stage absorbs at once, 0-5000.
        Default 200.
    throttling_rate_limit: steady requests per second, 0-10000. Default 100.
    log_retention_days: access log retention, a CloudWatch Logs value.
        Default 365: a year covers audits and incident reviews.
    log_kms_key_arn: key of the access log group. Default None
        (CloudWatch's own encryption).
    integration_timeout_milliseconds: 50-30000. Default 30000 (the most an
        HTTP API waits).
    jwt_issuer: issuer URL of a JWT authorizer on every route (the Cognito
        user pool's), https://. Default None: no authorizer.
    jwt_audience: accepted ``aud``/``client_id`` values, required with
        ``jwt_issuer``. Default none.
    disable_execute_api_endpoint: reject calls to the default
        ``execute-api`` URL (only a custom domain works). Default False.
    request_authorizer: a Lambda REQUEST authorizer on every route
        (payload 2.0, simple responses); excludes ``jwt_issuer``. Default None.
    access_log_group: the access log group, made elsewhere (the data layer,
        so the logs outlive the API; ``log_group_props()`` gives its props).
        Default None: made here from the ``log_*`` props.
    """

    name: str
    subnet_ids: tuple[str, ...]
    vpc_link_security_group_ids: tuple[str, ...]
    integration_target_arn: str
    integration_target_is_load_balancer: bool = False
    cors_allow_origins: tuple[str, ...]
    cors_allow_methods: tuple[str, ...] = ("DELETE", "GET", "PATCH", "POST", "PUT")
    cors_allow_headers: tuple[str, ...] = ("authorization", "content-type")
    cors_allow_credentials: bool = False
    cors_max_age_seconds: int = 3600
    throttling_burst_limit: int = 200
    throttling_rate_limit: int = 100
    log_retention_days: int = 365
    log_kms_key_arn: str | None = None
    integration_timeout_milliseconds: int = MAX_INTEGRATION_TIMEOUT_MILLISECONDS
    jwt_issuer: str | None = None
    jwt_audience: tuple[str, ...] = ()
    disable_execute_api_endpoint: bool = False
    request_authorizer: RequestAuthorizer | None = None
    access_log_group: LogGroup | None = None

    def __post_init__(self) -> None:
        problems = Problems("HttpApiProps")
        problems.matches("name", self.name, _NAME, "1-128 letters, digits, '-', '_' and '.'")
        if not self.subnet_ids:
            problems.add("subnet_ids must hold at least one subnet, but none was provided")
        if not self.vpc_link_security_group_ids:
            problems.add("vpc_link_security_group_ids must hold at least one group, but none was provided")
        if not is_token(self.integration_target_arn) and not _INTEGRATION_TARGET.fullmatch(self.integration_target_arn):
            problems.add(
                f"integration_target_arn must be a Cloud Map service ARN or an ALB listener ARN, but {self.integration_target_arn!r} was provided"
            )
        if not self.cors_allow_origins:
            problems.add("cors_allow_origins must hold at least one origin, but none was provided")
        for origin in self.cors_allow_origins:
            problems.matches("cors_allow_origins", origin, _CORS_ORIGIN, "origins such as https://app.example.com (scheme and host, no path, no '*')")
        for method in self.cors_allow_methods:
            problems.one_of("cors_allow_methods", method, CORS_METHODS)
        problems.between("cors_max_age_seconds", self.cors_max_age_seconds, 0, 86400)
        problems.between("throttling_burst_limit", self.throttling_burst_limit, 0, MAX_BURST_LIMIT)
        problems.between("throttling_rate_limit", self.throttling_rate_limit, 0, MAX_RATE_LIMIT)
        problems.between("integration_timeout_milliseconds", self.integration_timeout_milliseconds, 50, MAX_INTEGRATION_TIMEOUT_MILLISECONDS)
        if self.jwt_issuer is not None:
            problems.matches("jwt_issuer", self.jwt_issuer, _ISSUER, "an https:// issuer URL")
            if not self.jwt_audience:
                problems.add("jwt_audience must hold at least one client id with jwt_issuer, but none was provided")
        elif self.jwt_audience:
            problems.add(f"jwt_audience needs jwt_issuer, but only jwt_audience {list(self.jwt_audience)!r} was provided")
        if self.jwt_issuer is not None and self.request_authorizer is not None:
            problems.add("jwt_issuer and request_authorizer exclude each other: a route has one authorizer (let the request authorizer check the token)")
        problems.one_of("log_retention_days", self.log_retention_days, LOG_RETENTION_DAYS)
        problems.raise_if_any()

    def log_group_props(self) -> LogGroupProps:
        return access_log_group_props(self.name, self.log_retention_days, self.log_kms_key_arn)


def access_log_group_props(api_name: str, retention_days: int, kms_key_arn: str | None) -> LogGroupProps:
    """The access log group of the API (HTTP or WebSocket) called ``api_name``."""
    return LogGroupProps(name=f"/aws/apigateway/{api_name}", retention_days=retention_days, kms_key_arn=kms_key_arn)


class HttpApi(Construct):
    """An HTTP API whose one route proxies everything to the API tasks."""

    def __init__(self, scope: Construct, construct_id: str, props: HttpApiProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.api = Apigatewayv2Api(
            self,
            "api",
            name=props.name,
            protocol_type="HTTP",
            description=f"{props.name}: public HTTP API, proxied privately to the API tasks",
            disable_execute_api_endpoint=props.disable_execute_api_endpoint,
            cors_configuration=Apigatewayv2ApiCorsConfiguration(
                allow_origins=list(props.cors_allow_origins),
                allow_methods=list(props.cors_allow_methods),
                allow_headers=list(props.cors_allow_headers),
                allow_credentials=props.cors_allow_credentials,
                max_age=props.cors_max_age_seconds,
            ),
        )
        self.vpc_link = Apigatewayv2VpcLink(
            self,
            "vpc-link",
            name=props.name,
            subnet_ids=list(props.subnet_ids),
            security_group_ids=list(props.vpc_link_security_group_ids),
            tags={"Name": props.name},
        )
        self.integration = Apigatewayv2Integration(
            self,
            "integration",
            api_id=self.api.id,
            description=(
                "Every request, unchanged, to the API tasks behind the release load balancer"
                if props.integration_target_is_load_balancer
                else "Every request, unchanged, to the API tasks found through Cloud Map"
            ),
            integration_type="HTTP_PROXY",
            integration_method="ANY",
            integration_uri=props.integration_target_arn,
            connection_type="VPC_LINK",
            connection_id=self.vpc_link.id,
            payload_format_version="1.0",  # the only version HTTP_PROXY accepts
            timeout_milliseconds=props.integration_timeout_milliseconds,
        )
        self.authorizer: Apigatewayv2Authorizer | None = None
        authorization_type = "NONE"
        request = props.request_authorizer
        if request is not None:
            self.authorizer = Apigatewayv2Authorizer(
                self,
                "request-authorizer",
                api_id=self.api.id,
                name=request.name,
                authorizer_type="REQUEST",
                authorizer_uri=request.function_invoke_arn,
                authorizer_payload_format_version="2.0",
                enable_simple_responses=True,
                identity_sources=[f"$request.header.{header}" for header in request.identity_headers],
                authorizer_result_ttl_in_seconds=request.result_ttl_seconds,
            )
            authorization_type = "CUSTOM"
        elif props.jwt_issuer is not None:
            self.authorizer = Apigatewayv2Authorizer(
                self,
                "jwt-authorizer",
                api_id=self.api.id,
                name=f"{props.name}-jwt",
                authorizer_type="JWT",
                identity_sources=["$request.header.Authorization"],
                jwt_configuration=Apigatewayv2AuthorizerJwtConfiguration(
                    issuer=props.jwt_issuer, audience=list(props.jwt_audience)
                ),
            )
            authorization_type = "JWT"
        else:
            accept_finding(self.api, "apigatewayv2_api_authorizers_enabled", OPEN_ROUTE_REASON)
        self.default_route = Apigatewayv2Route(
            self,
            "default-route",
            api_id=self.api.id,
            route_key=DEFAULT_ROUTE,
            target=f"integrations/{self.integration.id}",
            # CORS preflights never reach a route: API Gateway answers them from
            # cors_configuration, so the authorizer does not block them.
            authorization_type=authorization_type,
            authorizer_id=self.authorizer.id if self.authorizer else None,
        )
        if self.authorizer is None:
            skip_check(self.default_route, "CKV_AWS_309", OPEN_ROUTE_REASON)
        # Given: made in the data layer, so the logs outlive a replaced API.
        self.access_log_group = props.access_log_group or LogGroup(self, "access-logs", props.log_group_props())
        self.stage = Apigatewayv2Stage(
            self,
            "stage",
            api_id=self.api.id,
            name=DEFAULT_STAGE,
            auto_deploy=True,
            access_log_settings=Apigatewayv2StageAccessLogSettings(
                destination_arn=self.access_log_group.log_group_arn,
                format=Fn.jsonencode(ACCESS_LOG_FIELDS),
            ),
            default_route_settings=Apigatewayv2StageDefaultRouteSettings(
                throttling_burst_limit=props.throttling_burst_limit,
                throttling_rate_limit=props.throttling_rate_limit,
            ),
        )

    # -- attributes -------------------------------------------------------------------
    @property
    def api_id(self) -> str:
        return self.api.id

    @property
    def api_execution_arn(self) -> str:
        return self.api.execution_arn

    @property
    def api_gateway_url(self) -> str:
        """``https://<id>.execute-api.<region>.amazonaws.com``: the ``$default`` stage has no path."""
        return self.api.api_endpoint

    @property
    def stage_name(self) -> str:
        """Read through the stage, so an API mapping waits for the stage to exist."""
        return self.stage.name

    @property
    def vpc_link_id(self) -> str:
        return self.vpc_link.id

    @property
    def access_log_group_name(self) -> str:
        return self.access_log_group.log_group_name

    # -- metrics ------------------------------------------------------------------------
    def metric(self, metric_name: str, *, statistic: str = "Sum") -> Metric:
        """A metric of this API's stage (``AWS/ApiGateway``, dimensions ``ApiId`` and ``Stage``)."""
        return api_gateway_stage_metric(self.api_id, DEFAULT_STAGE, metric_name, statistic=statistic)

    def metric_count(self) -> Metric:
        """Requests."""
        return self.metric("Count")

    def metric_server_errors(self) -> Metric:
        """5xx responses, from API Gateway or the API tasks (``5xx``)."""
        return self.metric("5xx")

    def metric_client_errors(self) -> Metric:
        """4xx responses, throttling (429) and rejected tokens (401) included (``4xx``)."""
        return self.metric("4xx")

    def metric_latency(self) -> Metric:
        """Milliseconds from request to response (``Latency``)."""
        return self.metric("Latency", statistic="Average")

    def metric_integration_latency(self) -> Metric:
        """Milliseconds the API tasks took (``IntegrationLatency``)."""
        return self.metric("IntegrationLatency", statistic="Average")
