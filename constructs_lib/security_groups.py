"""Security groups with named, single-purpose rules.

Each group starts closed: Terraform removes AWS's default allow-all egress
rule, and this construct adds one ``aws_vpc_security_group_*_rule`` per
allowed path, each with a description. The paths of this project:

* ``connect(source, target, port)``: source may open TCP ``port`` to
  target; adds the egress rule on the source and the ingress rule on the
  target, each referencing the other group (no CIDRs). The API Gateway VPC
  link's group reaches the API tasks this way and nothing else does.
* ``allow_https_egress(...)``: tasks call AWS APIs over 443 only: to the
  interface endpoints' group, to the gateway endpoints' prefix lists (S3 for
  image layers, DynamoDB) and, when there is NAT, to the internet.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from constructs_lib._validation import Problems

HTTPS_PORT = 443


@dataclass(frozen=True, kw_only=True)
class AppSecurityGroupProps:
    """Inputs of a group.

    name: 1-255 characters, not starting with ``sg-``.
    vpc_id: the VPC.
    description: why the group exists (shown in the console; AWS makes it
        immutable, changing it replaces the group).
    """

    name: str
    vpc_id: str
    description: str

    def __post_init__(self) -> None:
        problems = Problems("AppSecurityGroupProps")
        if not 1 <= len(self.name) <= 255 or self.name.startswith("sg-"):
            problems.add(f"name must be 1-255 characters, not starting with 'sg-', but {self.name!r} was provided")
        if not self.description:
            problems.add("description must say why the group exists, but an empty one was provided")
        problems.raise_if_any()


@dataclass(frozen=True, kw_only=True)
class HttpsEgress:
    """Where a group may open HTTPS connections.

    security_group_ids: groups such as the interface endpoints'. Default none.
    prefix_list_ids: gateway endpoints' prefix lists. Default none.
    internet: 0.0.0.0/0 (only sensible with a NAT gateway). Default False.
    """

    security_group_ids: tuple[str, ...] = ()
    prefix_list_ids: tuple[str, ...] = ()
    internet: bool = False

    def __post_init__(self) -> None:
        if not (self.security_group_ids or self.prefix_list_ids or self.internet):
            raise ValueError("HttpsEgress: give at least one destination, but none was provided")


class AppSecurityGroup(Construct):
    """A security group whose rules are added by ``connect`` and ``allow_https_egress``."""

    def __init__(self, scope: Construct, construct_id: str, props: AppSecurityGroupProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.security_group = SecurityGroup(
            self,
            "security-group",
            name=props.name,
            description=props.description,
            vpc_id=props.vpc_id,
            tags={"Name": props.name},
        )

    @property
    def security_group_id(self) -> str:
        return self.security_group.id

    def connect(self, target: "AppSecurityGroup", port: int, description: str) -> None:
        """Let this group open TCP ``port`` to ``target``, and only that."""
        problems = Problems(f"{self.node.id}.connect")
        problems.between("port", port, 1, 65535)
        problems.raise_if_any()
        VpcSecurityGroupEgressRule(
            self,
            f"to-{target.node.id}-{port}",
            security_group_id=self.security_group_id,
            referenced_security_group_id=target.security_group_id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description=description,
        )
        VpcSecurityGroupIngressRule(
            target,
            f"from-{self.node.id}-{port}",
            security_group_id=target.security_group_id,
            referenced_security_group_id=self.security_group_id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description=description,
        )

    def allow_https_egress(self, egress: HttpsEgress) -> None:
        """HTTPS (443) out to the given destinations; nothing else goes out."""
        common = {"security_group_id": self.security_group_id, "ip_protocol": "tcp", "from_port": HTTPS_PORT, "to_port": HTTPS_PORT}
        for index, group_id in enumerate(egress.security_group_ids):
            VpcSecurityGroupEgressRule(
                self, f"https-to-group-{index}", referenced_security_group_id=group_id,
                description="HTTPS to the VPC interface endpoints", **common,
            )  # fmt: skip
        for index, prefix_list_id in enumerate(egress.prefix_list_ids):
            VpcSecurityGroupEgressRule(
                self, f"https-to-prefix-list-{index}", prefix_list_id=prefix_list_id,
                description="HTTPS to a gateway endpoint (S3 or DynamoDB)", **common,
            )  # fmt: skip
        if egress.internet:
            VpcSecurityGroupEgressRule(
                self, "https-to-internet", cidr_ipv4="0.0.0.0/0",
                description="HTTPS to AWS APIs and the internet through NAT", **common,
            )  # fmt: skip
