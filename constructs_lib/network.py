"""The VPC: subnets in several zones, routing, NAT or VPC endpoints, flow logs.

Private subnets hold every task. Public subnets hold only NAT gateways (and
later load balancers that must face the internet); nothing gets a public IP
on launch. Without NAT, tasks reach AWS through endpoints: gateway endpoints
for S3 (ECR image layers live there) and DynamoDB, interface endpoints for
the APIs a Fargate task calls, reachable only on 443 from inside the VPC.

Every endpoint has a policy (``endpoint_policy``): principals of this
account may reach resources of this account through it (``aws:PrincipalAccount``
and ``aws:ResourceAccount``), plus what the service itself needs that this
account does not own: ECR's authorization token (no resource) and, on the S3
gateway, ECR's layer bucket, which image pulls read through presigned URLs.
So a task can neither copy data to another account's bucket or queue nor be
used with another account's credentials through these endpoints.

The VPC's default network ACL, which every subnet uses, is managed
(``aws_default_network_acl``, ``DEFAULT_NACL_INGRESS``): it denies SSH (22)
and RDP (3389) from anywhere, then allows the rest in, and everything out.
Security groups, which are stateful, decide what reaches each ENI; the ACL
keeps the administration ports closed below them. It stays open otherwise
because the subnets' traffic comes from outside the VPC's range too: replies
from the S3 and DynamoDB gateway endpoints and through NAT arrive from AWS
and internet addresses on ephemeral ports, and a stateless ACL would need
them all listed.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_availability_zones import (
    DataAwsAvailabilityZones,
    DataAwsAvailabilityZonesFilter,
)
from cdktf import Fn
from cdktf_cdktf_provider_aws.default_network_acl import DefaultNetworkAcl, DefaultNetworkAclEgress, DefaultNetworkAclIngress
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from constructs_lib.aws_context import AwsContext
from constructs_lib.iam import ServiceRole, ServiceRoleProps, Statement
from constructs_lib.policy import accept_finding

# What a Fargate task in a private subnet calls when there is no NAT: image
# pull (ecr.api, ecr.dkr; layers come through the S3 gateway endpoint), logs,
# the job queue and its secrets.
DEFAULT_INTERFACE_ENDPOINT_SERVICES = ("ecr.api", "ecr.dkr", "logs", "sqs", "secretsmanager")
GATEWAY_ENDPOINT_SERVICES = ("s3", "dynamodb")
# The IAM action prefix of the API each endpoint carries (an endpoint policy
# admits that service's actions only: the endpoint carries no other).
ENDPOINT_ACTION_PREFIXES = {
    "ecr.api": "ecr",
    "ecr.dkr": "ecr",  # image pulls: ecr:BatchGetImage, ecr:GetDownloadUrlForLayer
    "logs": "logs",
    "sqs": "sqs",
    "secretsmanager": "secretsmanager",
    "s3": "s3",
    "dynamodb": "dynamodb",
}
SUBNET_BLOCKS = 16  # the VPC is cut into 16 equal blocks
PUBLIC_BLOCK_OFFSET = 8  # private subnets use blocks 0-7, public ones 8-15
# The default network ACL's inbound rules, in order: (rule number, action, protocol, from port, to port).
# "6" is TCP, "17" UDP (RDP listens on both), "-1" every protocol. From 0.0.0.0/0 each; the VPC has no IPv6 range.
DEFAULT_NACL_INGRESS = (
    (100, "deny", "6", 22, 22),
    (110, "deny", "6", 3389, 3389),
    (120, "deny", "17", 3389, 3389),
    (200, "allow", "-1", 0, 0),
)
DEFAULT_NACL_EGRESS = ((100, "allow", "-1", 0, 0),)
DEFAULT_NACL_ANY_PORT_REASON = (
    "Replies from the S3 and DynamoDB gateway endpoints and through NAT come from outside the VPC on ephemeral ports; "
    "stateful security groups guard every ENI, and the ACL denies SSH and RDP from anywhere"
)
ECR_LAYER_BUCKET_REASON = (
    "ECR serves image layers from its own bucket prod-<region>-starport-layer-bucket through presigned URLs signed by ECR, "
    "not by this account, so that one statement can name no account; it allows only s3:GetObject on that bucket"
)

NO_EC2_ENDPOINT_REASON = (
    "The tasks call no EC2 API (Fargate manages their network interfaces); an EC2 interface endpoint would cost "
    "$14.60 a month across two zones for no caller"
)


@dataclass(frozen=True, kw_only=True)
class NetworkProps:
    """Inputs of the network.

    name_prefix: prefix of every Name tag and resource name.
    availability_zones: the zone names to span, 2-8 of them, such as
        ("us-east-1a", "us-east-1b") (the seed's two zones). Named, not
        looked up by position: a zone AWS adds, or one that becomes
        unavailable, must never move a subnet.
    vpc_cidr: IPv4 range, /16 to /24. Default 10.0.0.0/16.
    enable_nat_gateway: NAT for private subnets instead of VPC endpoints.
        Default False (the seed's default).
    single_nat_gateway: with NAT, one gateway shared by all zones (cheaper)
        rather than one per zone (survives a zone outage). Default True.
    interface_endpoint_services: interface endpoints made when NAT is off.
        Default: ECR api and dkr, CloudWatch Logs, SQS, Secrets Manager.
    enable_flow_logs: VPC flow logs of all traffic to CloudWatch Logs.
        Default True.
    flow_log_retention_days: retention of the flow log group. Default 365:
        a year of network history is what an incident review asks for.
    flow_log_kms_key_arn: KMS key for the flow log group. Default None
        (CloudWatch's own encryption).
    """

    name_prefix: str
    availability_zones: tuple[str, ...]
    vpc_cidr: str = "10.0.0.0/16"
    enable_nat_gateway: bool = False
    single_nat_gateway: bool = True
    interface_endpoint_services: tuple[str, ...] = DEFAULT_INTERFACE_ENDPOINT_SERVICES
    enable_flow_logs: bool = True
    flow_log_retention_days: int = 365
    flow_log_kms_key_arn: str | None = None

    def __post_init__(self) -> None:
        network = ipaddress.IPv4Network(self.vpc_cidr)
        problems = []
        if not 16 <= network.prefixlen <= 24:
            problems.append(f"vpc_cidr must be /16 to /24, but {self.vpc_cidr} was provided")
        if not 2 <= self.az_count <= PUBLIC_BLOCK_OFFSET:
            problems.append(f"availability_zones must hold 2 to {PUBLIC_BLOCK_OFFSET} zones, but {self.az_count} were provided")
        if len(set(self.availability_zones)) != self.az_count:
            problems.append(f"availability_zones must not repeat a zone, but {list(self.availability_zones)} was provided")
        unknown = [service for service in self.interface_endpoint_services if service not in ENDPOINT_ACTION_PREFIXES]
        if unknown:
            problems.append(f"interface_endpoint_services must be among {sorted(ENDPOINT_ACTION_PREFIXES)} (endpoints whose policy this module can write), but {unknown} was provided")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def az_count(self) -> int:
        return len(self.availability_zones)

    def subnet_cidrs(self) -> tuple[list[str], list[str]]:
        """(private, public) CIDRs: one block of 1/16 of the VPC per subnet."""
        blocks = list(ipaddress.IPv4Network(self.vpc_cidr).subnets(prefixlen_diff=4))
        private = [str(blocks[i]) for i in range(self.az_count)]
        public = [str(blocks[PUBLIC_BLOCK_OFFSET + i]) for i in range(self.az_count)]
        return private, public


class Network(Construct):
    """A VPC with public and private subnets across ``az_count`` zones."""

    def __init__(self, scope: Construct, construct_id: str, props: NetworkProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        context = AwsContext.of(self)
        prefix = props.name_prefix

        zone_names = list(props.availability_zones)
        zones = DataAwsAvailabilityZones(
            self,
            "zones",
            state="available",
            filter=[
                DataAwsAvailabilityZonesFilter(name="zone-name", values=zone_names),
                # Local and Wavelength zones are opt-in; they cannot host these subnets.
                DataAwsAvailabilityZonesFilter(name="opt-in-status", values=["opt-in-not-required"]),
            ],
        )
        self.vpc = Vpc(
            self,
            "vpc",
            cidr_block=props.vpc_cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,  # interface endpoints' private DNS needs both
            tags={"Name": f"{prefix}-vpc"},
        )
        accept_finding(self.vpc, "vpc_endpoint_for_ec2_enabled", NO_EC2_ENDPOINT_REASON)
        # Deny everything on the default group, so nothing lands in an open group by accident.
        DefaultSecurityGroup(self, "default-security-group", vpc_id=self.vpc.id, tags={"Name": f"{prefix}-default-deny"})

        private_cidrs, public_cidrs = props.subnet_cidrs()
        # Each subnet names its zone through the lookup: index() fails the plan
        # when a named zone is not an available, regular zone of this account.
        # (A lifecycle postcondition would say so more politely, but cdktf 0.21
        # exports it as invalid HCL.)
        self.availability_zones = [f"${{{zones.fqn}.names[index({zones.fqn}.names, \"{name}\")]}}" for name in zone_names]
        self.public_subnets = [
            Subnet(
                self,
                f"public-{index}",
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                availability_zone=self.availability_zones[index],
                map_public_ip_on_launch=False,
                tags={"Name": f"{prefix}-public-{index}", "tier": "public"},
            )
            for index, cidr in enumerate(public_cidrs)
        ]
        self.private_subnets = [
            Subnet(
                self,
                f"private-{index}",
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                availability_zone=self.availability_zones[index],
                map_public_ip_on_launch=False,
                tags={"Name": f"{prefix}-private-{index}", "tier": "private"},
            )
            for index, cidr in enumerate(private_cidrs)
        ]

        self.internet_gateway = InternetGateway(self, "internet-gateway", vpc_id=self.vpc.id, tags={"Name": f"{prefix}-igw"})
        public_routes = RouteTable(self, "public-routes", vpc_id=self.vpc.id, tags={"Name": f"{prefix}-public"})
        Route(
            self,
            "public-default-route",
            route_table_id=public_routes.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=self.internet_gateway.id,
        )
        for index, subnet in enumerate(self.public_subnets):
            RouteTableAssociation(self, f"public-{index}-routes", subnet_id=subnet.id, route_table_id=public_routes.id)

        # One private route table per zone, so per-zone NAT needs no re-plumbing.
        self.private_route_tables = [
            RouteTable(self, f"private-{index}-routes", vpc_id=self.vpc.id, tags={"Name": f"{prefix}-private-{index}"})
            for index in range(props.az_count)
        ]
        for index, (subnet, table) in enumerate(zip(self.private_subnets, self.private_route_tables)):
            RouteTableAssociation(self, f"private-{index}-routes-association", subnet_id=subnet.id, route_table_id=table.id)

        self.nat_gateways: list[NatGateway] = []
        self.endpoint_security_group: SecurityGroup | None = None
        self.interface_endpoints: dict[str, VpcEndpoint] = {}
        if props.enable_nat_gateway:
            self._add_nat_gateways()
        else:
            self._add_interface_endpoints(context)
        self.gateway_endpoints = {
            service: VpcEndpoint(
                self,
                f"{service}-gateway-endpoint",
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{context.region}.{service}",
                vpc_endpoint_type="Gateway",
                route_table_ids=[table.id for table in self.private_route_tables],
                policy=Fn.jsonencode(endpoint_policy(context, service)),
                tags={"Name": f"{prefix}-{service}"},
            )
            for service in GATEWAY_ENDPOINT_SERVICES
        }
        accept_finding(self.gateway_endpoints["s3"], "vpc_endpoint_connections_trust_boundaries", ECR_LAYER_BUCKET_REASON)
        self.default_network_acl = self._manage_default_network_acl()
        self.flow_log = self._add_flow_logs(context) if props.enable_flow_logs else None

    def _manage_default_network_acl(self) -> DefaultNetworkAcl:
        """The VPC's default ACL, which every subnet uses: SSH and RDP denied from anywhere, the rest allowed (module docstring)."""
        acl = DefaultNetworkAcl(
            self,
            "default-network-acl",
            default_network_acl_id=self.vpc.default_network_acl_id,
            # Listed, not left implicit: the provider plans to remove a subnet it finds associated but not listed.
            subnet_ids=[subnet.id for subnet in (*self.private_subnets, *self.public_subnets)],
            ingress=[
                DefaultNetworkAclIngress(rule_no=number, action=action, protocol=protocol, from_port=low, to_port=high, cidr_block="0.0.0.0/0")
                for number, action, protocol, low, high in DEFAULT_NACL_INGRESS
            ],
            egress=[
                DefaultNetworkAclEgress(rule_no=number, action=action, protocol=protocol, from_port=low, to_port=high, cidr_block="0.0.0.0/0")
                for number, action, protocol, low, high in DEFAULT_NACL_EGRESS
            ],
            tags={"Name": f"{self.props.name_prefix}-default"},
        )
        accept_finding(acl, "ec2_networkacl_allow_ingress_any_port", DEFAULT_NACL_ANY_PORT_REASON)
        return acl

    # -- optional parts -----------------------------------------------------------
    def _add_nat_gateways(self) -> None:
        prefix = self.props.name_prefix
        count = 1 if self.props.single_nat_gateway else self.props.az_count
        for index in range(count):
            address = Eip(self, f"nat-{index}-address", domain="vpc", tags={"Name": f"{prefix}-nat-{index}"})
            self.nat_gateways.append(
                NatGateway(
                    self,
                    f"nat-{index}",
                    allocation_id=address.id,
                    subnet_id=self.public_subnets[index].id,
                    depends_on=[self.internet_gateway],
                    tags={"Name": f"{prefix}-nat-{index}"},
                )
            )
        for index, table in enumerate(self.private_route_tables):
            Route(
                self,
                f"private-{index}-default-route",
                route_table_id=table.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=self.nat_gateways[index % count].id,
            )

    def _add_interface_endpoints(self, context: AwsContext) -> None:
        prefix = self.props.name_prefix
        group = SecurityGroup(
            self,
            "endpoints-security-group",
            name=f"{prefix}-vpc-endpoints",
            description="HTTPS from inside the VPC to the interface endpoints",
            vpc_id=self.vpc.id,
            tags={"Name": f"{prefix}-vpc-endpoints"},
        )
        VpcSecurityGroupIngressRule(
            self,
            "endpoints-https-ingress",
            security_group_id=group.id,
            description="HTTPS from the VPC",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4=self.props.vpc_cidr,
        )
        self.endpoint_security_group = group
        for service in self.props.interface_endpoint_services:
            self.interface_endpoints[service] = VpcEndpoint(
                self,
                f"{service.replace('.', '-')}-interface-endpoint",
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{context.region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[subnet.id for subnet in self.private_subnets],
                security_group_ids=[group.id],
                policy=Fn.jsonencode(endpoint_policy(context, service)),
                tags={"Name": f"{prefix}-{service}"},
            )

    def _add_flow_logs(self, context: AwsContext) -> FlowLog:
        self.flow_log_group, self.flow_log_role, flow_log = add_vpc_flow_logs(
            self,
            vpc_id=self.vpc.id,
            name_prefix=self.props.name_prefix,
            retention_days=self.props.flow_log_retention_days,
            kms_key_arn=self.props.flow_log_kms_key_arn,
        )
        return flow_log

    # -- attributes -----------------------------------------------------------------
    @property
    def vpc_id(self) -> str:
        return self.vpc.id

    @property
    def private_subnet_ids(self) -> list[str]:
        return [subnet.id for subnet in self.private_subnets]

    @property
    def public_subnet_ids(self) -> list[str]:
        return [subnet.id for subnet in self.public_subnets]

    @property
    def private_route_table_ids(self) -> list[str]:
        return [table.id for table in self.private_route_tables]


def endpoint_policy(context: AwsContext, service: str) -> dict:
    """The policy of the endpoint of ``service`` (``s3``, ``ecr.api``, ...): this account's principals to this account's resources, plus what the service needs.

    Only the service's own actions (``ENDPOINT_ACTION_PREFIXES``): the
    endpoint carries no others, and an IAM linter reads ``"*"`` as admitting
    every action of every service (iam:* and the rest).
    ``aws:PrincipalAccount`` keeps out credentials of other accounts,
    ``aws:ResourceAccount`` keeps this account's principals from reaching
    other accounts' resources (copying data out). What the service itself
    needs besides:

    * ``ecr.api``: GetAuthorizationToken, which names no resource, for this
      account's principals;
    * ``s3``: ECR's layer bucket ``prod-<region>-starport-layer-bucket``
      (GetObject only), which image pulls read through URLs ECR presigns.
    """
    account = [context.account_id]
    statements: list[dict] = [
        {
            "Sid": "AccountPrincipalsToAccountResources",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": f"{ENDPOINT_ACTION_PREFIXES[service]}:*",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalAccount": account, "aws:ResourceAccount": account}},
        }
    ]
    if service == "ecr.api":
        statements.append(
            {
                "Sid": "AccountPrincipalsGetEcrTokens",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "ecr:GetAuthorizationToken",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalAccount": account}},
            }
        )
    if service == "s3":
        statements.append(
            {
                "Sid": "EcrImageLayers",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:{context.partition}:s3:::prod-{context.region}-starport-layer-bucket/*",
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def add_vpc_flow_logs(
    scope: Construct, *, vpc_id: str, name_prefix: str, retention_days: int, kms_key_arn: str | None
) -> tuple[CloudwatchLogGroup, ServiceRole, FlowLog]:
    """Flow logs of all of a VPC's traffic to a log group, in ``scope``.

    A function rather than part of ``Network`` alone: a layered environment
    keeps the log group (data) apart from the VPC, in the layer above it.
    Children: ``flow-log-group``, ``flow-log-role``, ``flow-log``.
    """
    context = AwsContext.of(scope)
    group = CloudwatchLogGroup(
        scope,
        "flow-log-group",
        name=f"/vpc/{name_prefix}/flow-logs",
        retention_in_days=retention_days,
        kms_key_id=kms_key_arn,
    )
    role = ServiceRole(
        scope,
        "flow-log-role",
        ServiceRoleProps(
            name=f"{name_prefix}-vpc-flow-logs",
            service="vpc-flow-logs.amazonaws.com",
            source_arn_patterns=(context.arn("ec2", "vpc-flow-log/*"),),
            description="Lets VPC Flow Logs write this VPC's flow log group",
        ),
    )
    role.grant(
        "write-flow-logs",
        [
            Statement(
                sid="WriteFlowLogs",
                actions=("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"),
                resources=(group.arn, f"{group.arn}:*"),
            )
        ],
    )
    flow_log = FlowLog(
        scope,
        "flow-log",
        vpc_id=vpc_id,
        traffic_type="ALL",
        log_destination_type="cloud-watch-logs",
        log_destination=group.arn,
        iam_role_arn=role.role_arn,
        tags={"Name": f"{name_prefix}-flow-log"},
    )
    return group, role, flow_log
