"""The WebSocket API (the clients' ``VITE_WS_URL``), reaching the API tasks privately.

WebSocket APIs cannot use a v2 VPC link (the HTTP API's, which targets Cloud
Map directly). Their private route is a v1 (REST) VPC link, and a v1 link
can only target a Network Load Balancer. So:

    client --wss--> WebSocket API --v1 VPC link (PrivateLink)--> internal NLB
        --TCP <container port>--> API tasks (target group of type ip;
        the ECS service registers its tasks there)

Each route (``$connect``, ``$disconnect``, ``$default``) is an HTTP_PROXY
integration to ``http://<nlb dns>:<port><path>`` that adds the caller's
``ConnectionId`` header: the API needs it to tell connections apart and to
push messages back later through the ``@connections`` API
(``grant_manage_connections``). ``$connect`` accepts the connection when the
API answers 2xx. ``$default`` has a route response, so whatever the API
answers goes back to the client on the same socket.

The NLB has its own security group with no inbound rule at all, and
PrivateLink traffic is exempt from inbound rules: the VPC link is the only
way in. Its one outbound rule (added by the stack with
``load_balancer_security_group.connect``) reaches the API tasks' port, which
also carries the health checks. Cross-zone load balancing is on, so a zone
whose tasks are all down does not black-hole its share of connections.

Cost (us-east-1, 730 h a month): the NLB is $0.0225/h ($16.43) plus
$0.006 per NLCU-hour (one NLCU: 800 new TCP connections/s, 100,000 active,
or 1 GB/h; at this app's traffic well under one NLCU, at most $4.38), so
about $16.50-21 a month; the v1 VPC link itself costs nothing. API Gateway
WebSocket usage is $1.00 per million messages plus $0.25 per million
connection-minutes.

Access logs of WebSocket (and REST) APIs are written with the account's
API Gateway CloudWatch role, a per-region account setting
(``ApiGatewayAccount``): without it the stage cannot be created. One stack
per account and region owns that setting (``manage_api_gateway_account``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from cdktf import Fn, ITerraformDependable, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.api_gateway_account import ApiGatewayAccount as ApiGatewayAccountResource
from cdktf_cdktf_provider_aws.api_gateway_vpc_link import ApiGatewayVpcLink
from cdktf_cdktf_provider_aws.apigatewayv2_api import Apigatewayv2Api
from cdktf_cdktf_provider_aws.apigatewayv2_authorizer import Apigatewayv2Authorizer
from cdktf_cdktf_provider_aws.apigatewayv2_deployment import Apigatewayv2Deployment
from cdktf_cdktf_provider_aws.apigatewayv2_integration import Apigatewayv2Integration
from cdktf_cdktf_provider_aws.apigatewayv2_route import Apigatewayv2Route
from cdktf_cdktf_provider_aws.apigatewayv2_route_response import Apigatewayv2RouteResponse
from cdktf_cdktf_provider_aws.apigatewayv2_stage import (
    Apigatewayv2Stage,
    Apigatewayv2StageAccessLogSettings,
    Apigatewayv2StageDefaultRouteSettings,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lb import Lb
from cdktf_cdktf_provider_aws.lb_listener import LbListener, LbListenerDefaultAction
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from cdktf_cdktf_provider_aws.lb_target_group_attachment import LbTargetGroupAttachment
from constructs import Construct

from constructs_lib._validation import Problems
from constructs_lib.aws_context import AwsContext
from constructs_lib.http_api import MAX_BURST_LIMIT, MAX_RATE_LIMIT, RequestAuthorizer, access_log_group_props
from constructs_lib.iam import Condition, ServiceRole, Statement, policy_document, trust_document
from constructs_lib.limits import LOG_RETENTION_DAYS
from constructs_lib.load_balancer import HEALTH_CHECK_MATCHER
from constructs_lib.logs import LogGroup, LogGroupProps
from constructs_lib.metrics import Metric, api_gateway_stage_metric
from constructs_lib.policy import accept_finding, skip_check
from constructs_lib.security_groups import AppSecurityGroup, AppSecurityGroupProps

REQUIRED_ROUTES = ("$connect", "$disconnect", "$default")
DEFAULT_ROUTE_PATHS = {"$connect": "/ws/connect", "$disconnect": "/ws/disconnect", "$default": "/ws/message"}
# The header that carries the caller's connection id to the API.
CONNECTION_ID_HEADER = "ConnectionId"
INTEGRATION_REQUEST_PARAMETERS = {f"integration.request.header.{CONNECTION_ID_HEADER}": "context.connectionId"}
MAX_INTEGRATION_TIMEOUT_MILLISECONDS = 29000  # the WebSocket API maximum
# Post to, read and close one client connection (the API Gateway Management API).
MANAGE_CONNECTIONS_ACTIONS = ("execute-api:ManageConnections",)
# What API Gateway does with the account's CloudWatch role: the actions of
# the AWS managed policy AmazonAPIGatewayPushToCloudWatchLogs, without its
# read actions (GetLogEvents, FilterLogEvents). Creating and writing is
# limited to API Gateway's log groups (API_GATEWAY_LOG_GROUPS); listing
# groups and streams (names and settings, no events) is not.
API_GATEWAY_WRITE_LOGS_ACTIONS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
# DescribeLogGroups has no resource type in the Service Authorization
# Reference (it lists the caller's groups of the region), so it is on "*",
# with aws:RequestedRegion = the stack's region; DescribeLogStreams takes a
# group (log-group*), so it is on the region's groups.
API_GATEWAY_DESCRIBE_LOG_GROUPS_ACTIONS = ("logs:DescribeLogGroups",)
API_GATEWAY_DESCRIBE_LOG_STREAMS_ACTIONS = ("logs:DescribeLogStreams",)
API_GATEWAY_LOGS_ACTIONS = API_GATEWAY_WRITE_LOGS_ACTIONS + API_GATEWAY_DESCRIBE_LOG_GROUPS_ACTIONS + API_GATEWAY_DESCRIBE_LOG_STREAMS_ACTIONS
# The log groups API Gateway writes with that role, by name pattern:
#   /aws/apigateway/<name>            access logs (access_log_group_props names
#                                     every stage's group so), the welcome group
#                                     API Gateway makes when the setting is saved,
#                                     and WebSocket execution logs (/aws/apigateway/<api id>/<stage>)
#   API-Gateway-Execution-Logs_<id>/<stage>   REST execution logs
# Not the CloudTrail copy, the ECS, flow log or updater groups.
API_GATEWAY_LOG_GROUPS = ("/aws/apigateway/*", "API-Gateway-Execution-Logs_*")
_NAME = r"[A-Za-z0-9_.-]{1,128}"
_ELB_NAME = r"[A-Za-z0-9]([A-Za-z0-9-]{0,30}[A-Za-z0-9])?"
_STAGE = r"[A-Za-z0-9_-]{1,128}"
_ROUTE_KEY = r"\$connect|\$disconnect|\$default|[A-Za-z0-9_.-]{1,128}"
_PATH = r"/[A-Za-z0-9/_.~-]*"

# checkov checks that do not fit this design, with the reason the README lists.
LOAD_BALANCER_CHECKS_NOT_APPLICABLE = {
    "CKV_AWS_150": "The internal NLB holds no data and Terraform recreates it; deletion protection would only block replacements and destroy",
    "CKV_AWS_91": "NLB access logs exist only for TLS listeners; this listener is TCP inside the VPC, and API Gateway access logs record every request",
}
# Live-audit (prowler) findings accepted on the load balancer and the API.
LOAD_BALANCER_FINDINGS_ACCEPTED = {
    "elbv2_deletion_protection": LOAD_BALANCER_CHECKS_NOT_APPLICABLE["CKV_AWS_150"],
    "elbv2_logging_enabled": LOAD_BALANCER_CHECKS_NOT_APPLICABLE["CKV_AWS_91"],
    "elbv2_nlb_tls_termination_enabled": "API Gateway terminates the clients' TLS; the NLB only carries that traffic over PrivateLink to the tasks inside the VPC, for an internal name no client sees",
}
WEBSOCKET_AUTHORIZER_REASON = (
    "Clients authenticate to the API service itself when they connect (its own session, PingID SAML); the API answers "
    "$connect, so no API Gateway authorizer stands in front of it"
)
STAGE_CHECKS_NOT_APPLICABLE = {
    "CKV2_AWS_51": "Client certificates authenticate API Gateway to public HTTP backends; this backend is reached only through the private VPC link",
}
ROUTE_AUTHORIZATION_REASON = (
    "WebSocket APIs accept no JWT authorizer; the API authorizes the $connect handshake itself and other routes ride the accepted connection"
)
# With a $connect authorizer the other routes still have none: WebSocket APIs authorize the handshake only.
CONNECTED_ROUTE_REASON = "WebSocket APIs authorize only $connect (here a Lambda authorizer); every other route rides the connection it accepted"

ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "eventType": "$context.eventType",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "connectionId": "$context.connectionId",
    "messageId": "$context.messageId",
    "integrationStatus": "$context.integrationStatus",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
    "error": "$context.error.message",
    "userAgent": "$context.identity.userAgent",
}


# ---------------------------------------------------------------------------
# The account setting that WebSocket access logs need
# ---------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class ApiGatewayAccountProps:
    """Inputs of the API Gateway account setting.

    role_name: name of the role API Gateway assumes to write logs, 1-64
        characters, such as ``circle-of-trust-apigateway-cloudwatch``.
    """

    role_name: str

    def __post_init__(self) -> None:
        problems = Problems("ApiGatewayAccountProps")
        problems.matches("role_name", self.role_name, r"[A-Za-z0-9+=,.@_-]{1,64}", "1-64 letters, digits and +=,.@_-")
        problems.raise_if_any()


API_GATEWAY_ROLE_TRUST_REASON = (
    "API Gateway documents this account-level logging role's trust without conditions and sends no aws:SourceAccount "
    "or aws:SourceArn when assuming it; only this account's API Gateway setting can name the role, and it writes only API Gateway log groups"
)


class ApiGatewayAccount(Construct):
    """The region's API Gateway CloudWatch role, which REST and WebSocket logging need.

    It is ONE setting per account and region, serving every API there: so
    exactly one stack per account and region makes this construct (the
    config key ``manage_api_gateway_account``; ``load_configs`` refuses two
    environments of one account and region that both set it). The others'
    stages log with the owner's role, which may create and write API
    Gateway's log groups of the region (``API_GATEWAY_LOG_GROUPS``: the
    access log groups ``/aws/apigateway/<api name>`` of every environment,
    and the execution log groups API Gateway makes) and no other group.

    The trust policy has no ``aws:SourceAccount``/``aws:SourceArn``
    condition, unlike ``ServiceRole``: API Gateway documents this role's
    trust without conditions (the "Set up CloudWatch logging" guide and the
    AWS::ApiGateway::Account example), does not document sending either key
    when it assumes the account-level logging role, and checks the role by
    assuming it when the setting is saved, so a condition it does not meet
    would fail that save and every later log delivery. What guards it
    instead: only ``apigateway:PATCH`` on this account's setting can point
    API Gateway at it (iam:PassRole, never across accounts), and it may write
    only API Gateway's log groups. The live audit's confused-deputy check is
    accepted on it with that reason (``API_GATEWAY_ROLE_TRUST_REASON``).
    """

    def __init__(self, scope: Construct, construct_id: str, props: ApiGatewayAccountProps) -> None:
        super().__init__(scope, construct_id)
        context = AwsContext.of(self)
        trust = trust_document(self, "Service", "apigateway.amazonaws.com")
        self.role = IamRole(
            self,
            "role",
            name=props.role_name,
            description="API Gateway writes access and execution logs of this region's REST and WebSocket APIs",
            assume_role_policy=trust.json,
        )
        accept_finding(self.role, "iam_role_cross_service_confused_deputy_prevention", API_GATEWAY_ROLE_TRUST_REASON)
        logs = policy_document(
            self,
            "write-logs-policy-document",
            [
                Statement(
                    sid="WriteApiGatewayLogs",
                    actions=API_GATEWAY_WRITE_LOGS_ACTIONS,
                    # A group, and the streams in it (log-group:<name>:log-stream:<stream>).
                    resources=tuple(
                        context.arn("logs", f"log-group:{pattern}{streams}") for pattern in API_GATEWAY_LOG_GROUPS for streams in ("", ":log-stream:*")
                    ),
                ),
                # Listing: names and settings, never events; "*" held to this region by the requested region.
                Statement(
                    sid="DescribeLogGroups",
                    actions=API_GATEWAY_DESCRIBE_LOG_GROUPS_ACTIONS,
                    resources=("*",),
                    conditions=(Condition("StringEquals", "aws:RequestedRegion", (context.region,)),),
                ),
                Statement(
                    sid="DescribeLogStreams",
                    actions=API_GATEWAY_DESCRIBE_LOG_STREAMS_ACTIONS,
                    resources=(context.arn("logs", "log-group:*"),),
                ),
            ],
        )
        IamRolePolicy(self, "write-logs-policy", name="write-logs", role=self.role.id, policy=logs.json)
        self.account = ApiGatewayAccountResource(self, "account", cloudwatch_role_arn=self.role.arn)

    @property
    def cloudwatch_role_arn(self) -> str:
        """The role's ARN, read through the account setting: a stage that logs waits for it."""
        return self.account.cloudwatch_role_arn


# ---------------------------------------------------------------------------
# The WebSocket API
# ---------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class AlbTarget:
    """The release ALB as the NLB's one target (canary releases; constructs_lib/load_balancer.py).

    load_balancer_arn: the ALB.
    port: its listener's port (an alb-type target group's port must be it).
    target_group_name: the NLB's target group of type ``alb``, 1-32
        characters (a new name: changing the type replaces the group).
    health_check_path: checked on the ALB, so on the tasks behind it.
    health_check_matcher: answers that count as healthy. Default 200-499.
    listener: the ALB's listener on ``port``. ELB registers an ALB as a
        target only once it has a listener on the target group's port, so
        the registration waits for it (and is removed before it).
    serving: the NLB forwards to the ALB. Default True. False during a
        cutover (README, "Moving to canary releases"): the group of type
        ``alb`` is made and health-checked, but the NLB keeps forwarding to
        the tasks' own group until the environment moves to canary. That
        group is then ``create_before_destroy``, stored in state by the
        cutover's apply: the move's apply, which drops it, repoints the
        listener first (without it, Terraform deletes a dropped resource
        before it updates what used it, and ELB refuses to delete a group a
        listener forwards to).
    """

    load_balancer_arn: str
    port: int
    target_group_name: str
    health_check_path: str = "/"
    health_check_matcher: str = HEALTH_CHECK_MATCHER
    listener: ITerraformDependable | None = None
    serving: bool = True


@dataclass(frozen=True, kw_only=True)
class WebSocketApiProps:
    """Inputs of the WebSocket API and its private path to the API tasks.

    name: API, VPC link and log group name, 1-128 letters, digits, '-', '_'
        and '.'. Such as ``circle-of-trust-ws``.
    load_balancer_name: name of the NLB and of its target group, 1-32
        letters, digits and '-', not starting or ending with '-'.
    vpc_id: the VPC of the API tasks.
    subnet_ids: private subnets of the NLB, at least two (one per zone of
        the API tasks).
    container_port: the API tasks' port, 1-65535: listener and targets.
    account_logging_role_arn: ``ApiGatewayAccount.cloudwatch_role_arn`` of
        this stack, so the stage is created after the account setting it
        needs. Default None: another stack manages the setting.
    route_paths: route key -> the API's path for it; must hold
        ``$connect``, ``$disconnect`` and ``$default``. Other keys are routes
        selected by the message's ``action`` field. Default
        ``/ws/connect``, ``/ws/disconnect``, ``/ws/message``.
    stage_name: 1-128 letters, digits, '-' and '_'; the last part of the
        default URL. Default ``live``.
    throttling_burst_limit: messages the stage absorbs at once, 0-5000.
        Default 100.
    throttling_rate_limit: steady messages per second, 0-10000. Default 50.
    log_retention_days: access log retention, a CloudWatch Logs value.
        Default 365: a year covers audits and incident reviews.
    log_kms_key_arn: key of the access log group. Default None.
    integration_timeout_milliseconds: 50-29000. Default 29000 (the most a
        WebSocket API waits).
    health_check_path: HTTP path the NLB checks on each task, such as
        ``/health``. Default None: a TCP check (the port accepts
        connections), which needs nothing from the app.
    health_check_interval_seconds: 5-300. Default 10.
    healthy_threshold_count: checks in a row to become healthy, 2-10.
        Default 3.
    unhealthy_threshold_count: checks in a row to become unhealthy, 2-10.
        Default 3.
    deregistration_delay_seconds: time a stopping task keeps its open
        requests, 0-3600. Default 30 (requests last at most 29 s).
    access_log_group: the access log group, made elsewhere (the data layer;
        ``log_group_props()`` gives its props). Default None: made here.
    load_balancer_security_group: the NLB's group, made elsewhere (the
        network layer, beside the group of the tasks it reaches;
        ``load_balancer_security_group_props`` gives its props). Default
        None: made here.
    alb_target: the release ALB the NLB forwards to (canary releases).
        Default None: the API tasks register in the NLB's own target group.
    connect_authorizer: a Lambda REQUEST authorizer of the ``$connect``
        handshake (its ``result_ttl_seconds`` is ignored: WebSocket APIs
        cache nothing). Default None: the API answers ``$connect`` alone.
    """

    name: str
    load_balancer_name: str
    vpc_id: str
    subnet_ids: tuple[str, ...]
    container_port: int
    account_logging_role_arn: str | None = None
    route_paths: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_ROUTE_PATHS))
    stage_name: str = "live"
    throttling_burst_limit: int = 100
    throttling_rate_limit: int = 50
    log_retention_days: int = 365
    log_kms_key_arn: str | None = None
    integration_timeout_milliseconds: int = MAX_INTEGRATION_TIMEOUT_MILLISECONDS
    health_check_path: str | None = None
    health_check_interval_seconds: int = 10
    healthy_threshold_count: int = 3
    unhealthy_threshold_count: int = 3
    deregistration_delay_seconds: int = 30
    access_log_group: LogGroup | None = None
    load_balancer_security_group: AppSecurityGroup | None = None
    connect_authorizer: RequestAuthorizer | None = None
    alb_target: AlbTarget | None = None

    def __post_init__(self) -> None:
        problems = Problems("WebSocketApiProps")
        problems.matches("name", self.name, _NAME, "1-128 letters, digits, '-', '_' and '.'")
        problems.matches("load_balancer_name", self.load_balancer_name, _ELB_NAME, "1-32 letters, digits and '-', not starting or ending with '-'")
        if len(self.subnet_ids) < 2:
            problems.add(f"subnet_ids must hold at least 2 subnets (one per zone), but {len(self.subnet_ids)} was provided")
        problems.between("container_port", self.container_port, 1, 65535)
        missing = [key for key in REQUIRED_ROUTES if key not in self.route_paths]
        if missing:
            problems.add(f"route_paths must hold {', '.join(REQUIRED_ROUTES)}, but {', '.join(missing)} was not provided")
        for key, path in self.route_paths.items():
            problems.matches("route_paths keys", key, _ROUTE_KEY, "$connect, $disconnect, $default or a route name of letters, digits, '-', '_' and '.'")
            problems.matches(f"route_paths[{key!r}]", path, _PATH, "a path starting with '/'")
        problems.matches("stage_name", self.stage_name, _STAGE, "1-128 letters, digits, '-' and '_'")
        problems.between("throttling_burst_limit", self.throttling_burst_limit, 0, MAX_BURST_LIMIT)
        problems.between("throttling_rate_limit", self.throttling_rate_limit, 0, MAX_RATE_LIMIT)
        problems.one_of("log_retention_days", self.log_retention_days, LOG_RETENTION_DAYS)
        problems.between("integration_timeout_milliseconds", self.integration_timeout_milliseconds, 50, MAX_INTEGRATION_TIMEOUT_MILLISECONDS)
        if self.health_check_path is not None:
            problems.matches("health_check_path", self.health_check_path, _PATH, "a path starting with '/'")
        problems.between("health_check_interval_seconds", self.health_check_interval_seconds, 5, 300)
        problems.between("healthy_threshold_count", self.healthy_threshold_count, 2, 10)
        problems.between("unhealthy_threshold_count", self.unhealthy_threshold_count, 2, 10)
        problems.between("deregistration_delay_seconds", self.deregistration_delay_seconds, 0, 3600)
        problems.raise_if_any()

    def log_group_props(self) -> LogGroupProps:
        return access_log_group_props(self.name, self.log_retention_days, self.log_kms_key_arn)


def load_balancer_security_group_props(load_balancer_name: str, vpc_id: str) -> AppSecurityGroupProps:
    """The NLB's group: no inbound rule (PrivateLink traffic bypasses it), out to the tasks once connected."""
    return AppSecurityGroupProps(
        name=f"{load_balancer_name}-nlb",
        vpc_id=vpc_id,
        description="WebSocket NLB: in only through the API Gateway VPC link (PrivateLink); out to the API tasks' port",
    )


def _route_id(route_key: str) -> str:
    return route_key.lstrip("$")


class WebSocketApi(Construct):
    """A WebSocket API whose routes reach the API tasks through a v1 VPC link and an internal NLB."""

    def __init__(self, scope: Construct, construct_id: str, props: WebSocketApiProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self._context = AwsContext.of(self)

        # -- the private path: internal NLB in the private subnets ----------------------
        # Given: made in the network layer beside the API tasks' group it reaches.
        self.load_balancer_security_group = props.load_balancer_security_group or AppSecurityGroup(
            self, "load-balancer-security-group", load_balancer_security_group_props(props.load_balancer_name, props.vpc_id)
        )
        self.load_balancer = Lb(
            self,
            "load-balancer",
            name=props.load_balancer_name,
            internal=True,
            load_balancer_type="network",
            subnets=list(props.subnet_ids),
            security_groups=[self.load_balancer_security_group.security_group_id],
            # The group has no inbound rule: only PrivateLink traffic (the VPC link) gets in.
            enforce_security_group_inbound_rules_on_private_link_traffic="off",
            enable_cross_zone_load_balancing=True,
            tags={"Name": props.load_balancer_name},
        )
        alb = props.alb_target
        self.target_group: LbTargetGroup  # the one the listener forwards to
        if alb is None or not alb.serving:
            self.target_group = LbTargetGroup(
                self,
                "target-group",
                name=props.load_balancer_name,
                vpc_id=props.vpc_id,
                target_type="ip",  # Fargate tasks (awsvpc) register by IP
                protocol="TCP",
                port=props.container_port,
                deregistration_delay=str(props.deregistration_delay_seconds),
                health_check=LbTargetGroupHealthCheck(
                    enabled=True,
                    protocol="HTTP" if props.health_check_path else "TCP",
                    path=props.health_check_path,
                    port="traffic-port",
                    matcher="200-399" if props.health_check_path else None,
                    interval=props.health_check_interval_seconds,
                    healthy_threshold=props.healthy_threshold_count,
                    unhealthy_threshold=props.unhealthy_threshold_count,
                ),
                tags={"Name": props.load_balancer_name},
                lifecycle=TerraformResourceLifecycle(create_before_destroy=True) if alb is not None else None,
            )
        if alb is not None:
            # Canary releases: the NLB forwards to the release ALB, which a release shifts (README, "Canary releases").
            alb_group = LbTargetGroup(
                self,
                "alb-target-group",
                name=alb.target_group_name,
                vpc_id=props.vpc_id,
                target_type="alb",
                protocol="TCP",
                port=alb.port,  # an alb-type group's port is the ALB listener's
                health_check=LbTargetGroupHealthCheck(
                    enabled=True,
                    protocol="HTTP",  # the only protocols an alb-type group checks with are HTTP(S)
                    path=alb.health_check_path,
                    port="traffic-port",
                    matcher=alb.health_check_matcher,
                    interval=props.health_check_interval_seconds,
                    healthy_threshold=props.healthy_threshold_count,
                    unhealthy_threshold=props.unhealthy_threshold_count,
                ),
                tags={"Name": alb.target_group_name},
            )
            if alb.serving:
                self.target_group = alb_group
            LbTargetGroupAttachment(
                self,
                "alb-target",
                target_group_arn=alb_group.arn,
                target_id=alb.load_balancer_arn,
                port=alb.port,
                depends_on=[alb.listener] if alb.listener is not None else None,
            )
        for check_id, reason in LOAD_BALANCER_CHECKS_NOT_APPLICABLE.items():
            skip_check(self.load_balancer, check_id, reason)
        for check_id, reason in LOAD_BALANCER_FINDINGS_ACCEPTED.items():
            accept_finding(self.load_balancer, check_id, reason)
        self.listener = LbListener(
            self,
            "listener",
            load_balancer_arn=self.load_balancer.arn,
            protocol="TCP",
            port=props.container_port,
            default_action=[LbListenerDefaultAction(type="forward", target_group_arn=self.target_group.arn)],
        )
        self.vpc_link = ApiGatewayVpcLink(
            self,
            "vpc-link",
            name=props.name,
            description="WebSocket API to the internal NLB in front of the API tasks",
            target_arns=[self.load_balancer.arn],
            tags={"Name": props.name},
        )

        # -- the API --------------------------------------------------------------------
        self.api = Apigatewayv2Api(
            self,
            "api",
            name=props.name,
            protocol_type="WEBSOCKET",
            description=f"{props.name}: the clients' WebSocket, proxied privately to the API tasks",
            # Routes other than the three built-ins are picked by the message's "action".
            route_selection_expression="$request.body.action",
        )
        self.authorizer: Apigatewayv2Authorizer | None = None
        if props.connect_authorizer is None:
            accept_finding(self.api, "apigatewayv2_api_authorizers_enabled", WEBSOCKET_AUTHORIZER_REASON)
        else:
            self.authorizer = Apigatewayv2Authorizer(
                self,
                "connect-authorizer",
                api_id=self.api.id,
                name=props.connect_authorizer.name,
                authorizer_type="REQUEST",
                authorizer_uri=props.connect_authorizer.function_invoke_arn,
                identity_sources=[f"route.request.header.{header}" for header in props.connect_authorizer.identity_headers],
            )
        self.integrations: dict[str, Apigatewayv2Integration] = {}
        self.routes: dict[str, Apigatewayv2Route] = {}
        self.route_responses: dict[str, Apigatewayv2RouteResponse] = {}
        for route_key in sorted(props.route_paths):
            name = _route_id(route_key)
            integration = Apigatewayv2Integration(
                self,
                f"{name}-integration",
                api_id=self.api.id,
                description=f"{route_key} to {props.route_paths[route_key]} on the API tasks",
                integration_type="HTTP_PROXY",
                integration_method="POST",
                integration_uri=self._integration_uri(props.route_paths[route_key]),
                connection_type="VPC_LINK",
                connection_id=self.vpc_link.id,
                # WebSocket integrations do not pass the connection id unless mapped.
                request_parameters=dict(INTEGRATION_REQUEST_PARAMETERS),
                timeout_milliseconds=props.integration_timeout_milliseconds,
            )
            two_way = route_key not in ("$connect", "$disconnect")
            authorized = route_key == "$connect" and self.authorizer is not None
            route = Apigatewayv2Route(
                self,
                f"{name}-route",
                api_id=self.api.id,
                route_key=route_key,
                target=f"integrations/{integration.id}",
                # Message routes answer on the socket with whatever the API returns.
                route_response_selection_expression="$default" if two_way else None,
                authorization_type="CUSTOM" if authorized else "NONE",
                authorizer_id=self.authorizer.id if authorized else None,
            )
            if two_way:
                self.route_responses[route_key] = Apigatewayv2RouteResponse(
                    self, f"{name}-route-response", api_id=self.api.id, route_id=route.id, route_response_key="$default"
                )
            self.integrations[route_key] = integration
            self.routes[route_key] = route
            if not authorized:
                skip_check(route, "CKV_AWS_309", CONNECTED_ROUTE_REASON if self.authorizer else ROUTE_AUTHORIZATION_REASON)

        # WebSocket stages do not auto-deploy: a new deployment whenever a route
        # or what an integration sends changes (create_before_destroy keeps the
        # stage on the old one until the new one exists).
        self.deployment = Apigatewayv2Deployment(
            self,
            "deployment",
            api_id=self.api.id,
            description=f"{props.name} routes",
            triggers={"redeployment": Fn.sha1(Fn.jsonencode(self._deployed_configuration()))},
            depends_on=[*self.routes.values(), *self.route_responses.values()],
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        self.access_log_group = props.access_log_group or LogGroup(self, "access-logs", props.log_group_props())
        self.stage = Apigatewayv2Stage(
            self,
            "stage",
            api_id=self.api.id,
            name=props.stage_name,
            deployment_id=self.deployment.id,
            # Naming the role makes the stage wait for the account setting it needs.
            description=(
                f"Access logs written with the API Gateway account role {props.account_logging_role_arn}"
                if props.account_logging_role_arn
                else "Access logs written with the API Gateway account role of the region"
            ),
            access_log_settings=Apigatewayv2StageAccessLogSettings(
                destination_arn=self.access_log_group.log_group_arn,
                format=Fn.jsonencode(ACCESS_LOG_FIELDS),
            ),
            default_route_settings=Apigatewayv2StageDefaultRouteSettings(
                throttling_burst_limit=props.throttling_burst_limit,
                throttling_rate_limit=props.throttling_rate_limit,
            ),
        )
        for check_id, reason in STAGE_CHECKS_NOT_APPLICABLE.items():
            skip_check(self.stage, check_id, reason)

    def _integration_uri(self, path: str) -> str:
        return f"http://{self.load_balancer.dns_name}:{self.props.container_port}{path}"

    def _deployed_configuration(self) -> list[dict]:
        """What a deployment captures: each route and what its integration sends where.

        Only references, no interpolated strings: Terraform functions in CDKTF
        cannot take strings with tokens inside.
        """
        return [
            {
                "route": self.routes[key].id,
                "route_key": self.routes[key].route_key,
                "route_response": self.routes[key].route_response_selection_expression,
                "authorization": self.routes[key].authorization_type,
                "authorizer": self.routes[key].authorizer_id,
                "integration": self.integrations[key].id,
                "uri": self.integrations[key].integration_uri,
                "parameters": self.integrations[key].request_parameters,
                "timeout": self.integrations[key].timeout_milliseconds,
            }
            for key in sorted(self.routes)
        ]

    # -- attributes -------------------------------------------------------------------
    @property
    def websocket_api_id(self) -> str:
        return self.api.id

    @property
    def api_execution_arn(self) -> str:
        return self.api.execution_arn

    @property
    def websocket_gateway_url(self) -> str:
        """``wss://<id>.execute-api.<region>.amazonaws.com/<stage>``: the clients' ``VITE_WS_URL``."""
        return self.stage.invoke_url

    @property
    def websocket_callback_url(self) -> str:
        """``https://<id>.execute-api.<region>.<dns suffix>/<stage>``: the ``@connections`` API's endpoint."""
        return f"https://{self.api.id}.execute-api.{self._context.region}.{self._context.dns_suffix}/{self.stage.name}"

    @property
    def stage_name(self) -> str:
        """Read through the stage, so an API mapping waits for the stage to exist."""
        return self.stage.name

    @property
    def load_balancer_arn(self) -> str:
        return self.load_balancer.arn

    @property
    def load_balancer_dns_name(self) -> str:
        return self.load_balancer.dns_name

    @property
    def target_group_arn(self) -> str:
        """The target group's ARN, read through the listener.

        ECS refuses a service whose target group has no load balancer yet;
        a service that names the group this way is created after the listener.
        """
        return self.listener.default_action.get(0).target_group_arn

    @property
    def vpc_link_id(self) -> str:
        return self.vpc_link.id

    @property
    def access_log_group_name(self) -> str:
        return self.access_log_group.log_group_name

    # -- grants ---------------------------------------------------------------------------
    def grant_manage_connections(self, role: ServiceRole) -> None:
        """Post to, read and close this stage's client connections (``@connections``)."""
        role.grant(
            f"{self.node.id}-manage-connections",
            [
                Statement(
                    sid="ManageWebSocketConnections",
                    actions=MANAGE_CONNECTIONS_ACTIONS,
                    # <execution arn>/<stage>/<method>/@connections/<connection id>
                    resources=(f"{self.api.execution_arn}/{self.stage.name}/*/@connections/*",),
                )
            ],
        )

    # -- metrics ------------------------------------------------------------------------
    def metric(self, metric_name: str, *, statistic: str = "Sum") -> Metric:
        """A metric of this API's stage (``AWS/ApiGateway``, dimensions ``ApiId`` and ``Stage``)."""
        return api_gateway_stage_metric(self.websocket_api_id, self.props.stage_name, metric_name, statistic=statistic)

    def metric_connect_count(self) -> Metric:
        """``$connect`` requests (``ConnectCount``)."""
        return self.metric("ConnectCount")

    def metric_message_count(self) -> Metric:
        """Messages in both directions (``MessageCount``)."""
        return self.metric("MessageCount")

    def metric_integration_errors(self) -> Metric:
        """Requests the API tasks answered 4xx/5xx or did not answer (``IntegrationError``)."""
        return self.metric("IntegrationError")

    def metric_unhealthy_hosts(self) -> Metric:
        """API tasks the NLB considers unhealthy (``AWS/NetworkELB`` ``UnHealthyHostCount``)."""
        return Metric(
            namespace="AWS/NetworkELB",
            metric_name="UnHealthyHostCount",
            dimensions={"LoadBalancer": self.load_balancer.arn_suffix, "TargetGroup": self.target_group.arn_suffix},
            statistic="Maximum",
        )
