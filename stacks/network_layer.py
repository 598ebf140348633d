"""The network layer: the VPC and every security group. Changes rarely; everything else stands in it.

Exports to the layers above: ``network`` (VPC and subnet IDs, the endpoint
group and gateway endpoints) and the four security groups of the API tasks,
the workers, the HTTP API's VPC link and the WebSocket NLB, plus, with
canary releases, the release ALB's (between the other two and the tasks). The groups live
here, not with what uses them, because their rules reference each other
across layers (the VPC link and the NLB reach the API tasks' port): kept in
one layer, no two layers depend on each other.
"""

from __future__ import annotations

from constructs import Construct

from constructs_lib.network import Network, NetworkProps
from constructs_lib.policy import skip_check
from constructs_lib.security_groups import AppSecurityGroup, AppSecurityGroupProps, HttpsEgress
from constructs_lib.websocket_api import load_balancer_security_group_props
from stacks.config import EnvironmentConfig
from stacks.layer import LayerStack
from stacks.names import websocket_api_name


LAYERED_FLOW_LOGS_REASON = (
    "The VPC's flow logs (all traffic, KMS-encrypted log group) are made in the data layer, "
    "a separate stack (aws_flow_log.vpc_flow_log in <environment>-data)"
)
LAYERED_ATTACHMENT_REASON = (
    "Attached in the layers above (ECS services, the HTTP API's VPC link, the WebSocket NLB), "
    "separate stacks that read this group's ID from this layer's state"
)


class NetworkLayer(LayerStack):
    layer = "network"

    def __init__(self, scope: Construct, config: EnvironmentConfig) -> None:
        super().__init__(scope, config)
        prefix = config.resource_prefix
        self.network = Network(
            self,
            "network",
            NetworkProps(
                name_prefix=prefix,
                availability_zones=config.effective_availability_zones,
                vpc_cidr=config.vpc_cidr,
                enable_nat_gateway=config.enable_nat_gateway,
                single_nat_gateway=config.single_nat_gateway,
                # The flow log group holds data: the data layer makes it (stacks/data_layer.py).
                enable_flow_logs=False,
            ),
        )

        # Security groups: the VPC link and the NLB reach the API port; workers accept nothing.
        self.api_security_group, self.worker_security_group, self.vpc_link_security_group = (
            AppSecurityGroup(self, f"{name}-security-group", AppSecurityGroupProps(name=f"{prefix}-{name}", vpc_id=self.network.vpc_id, description=description))
            for name, description in (
                ("api-tasks", "API tasks: the API port from the VPC link only; HTTPS out to AWS"),
                ("worker-tasks", "Worker tasks: nothing in; HTTPS out to AWS"),
                ("api-vpc-link", "API Gateway VPC link: out to the API tasks' port only"),
            )
        )
        self.websocket_load_balancer_security_group = AppSecurityGroup(
            self, "websocket-nlb-security-group", load_balancer_security_group_props(websocket_api_name(config), self.network.vpc_id)
        )
        port = config.api_container_port
        # Canary releases put the release ALB between both APIs and the tasks (README, "Canary releases");
        # a cutover keeps the rolling service's rules beside the ALB's until canary removes them.
        self.release_load_balancer_security_group: AppSecurityGroup | None = None
        if config.api_blue_green_service:
            alb = self.release_load_balancer_security_group = AppSecurityGroup(
                self,
                "release-alb-security-group",
                AppSecurityGroupProps(
                    name=f"{prefix}-api-alb",
                    vpc_id=self.network.vpc_id,
                    description="API release ALB: the API port from the VPC link and the WebSocket NLB; out to the API tasks' port",
                ),
            )
            self.vpc_link_security_group.connect(alb, port, "API Gateway VPC link to the release ALB")
            self.websocket_load_balancer_security_group.connect(alb, port, "WebSocket NLB to the release ALB (traffic and health checks)")
            alb.connect(self.api_security_group, port, "Release ALB to the API tasks (traffic and health checks)")
        if config.api_rolling_service:
            self.vpc_link_security_group.connect(self.api_security_group, port, "API Gateway VPC link to the API tasks")
            self.websocket_load_balancer_security_group.connect(self.api_security_group, port, "WebSocket NLB to the API tasks (traffic and health checks)")
        endpoints = self.network.endpoint_security_group
        https = HttpsEgress(
            security_group_ids=(endpoints.id,) if endpoints is not None else (),
            prefix_list_ids=tuple(endpoint.prefix_list_id for endpoint in self.network.gateway_endpoints.values()),
            internet=config.enable_nat_gateway,
        )
        for group in (self.api_security_group, self.worker_security_group):
            group.allow_https_egress(https)

        # Checkov's graph checks see one stack at a time; what these attach to lives in the layers above.
        skip_check(self.network.vpc, "CKV2_AWS_11", LAYERED_FLOW_LOGS_REASON)
        groups = (self.api_security_group, self.worker_security_group, self.vpc_link_security_group, self.websocket_load_balancer_security_group)
        for group in (*groups, *filter(None, (self.release_load_balancer_security_group,))):
            skip_check(group.security_group, "CKV2_AWS_5", LAYERED_ATTACHMENT_REASON)

        self.output("vpc_id", self.network.vpc_id, "ID of the VPC.")
        self.output("private_subnet_ids", self.network.private_subnet_ids, "Subnets of the tasks and VPC links.")
        self.output("public_subnet_ids", self.network.public_subnet_ids, "Subnets of NAT gateways and public load balancers.")
