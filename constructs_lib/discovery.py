"""Cloud Map: a private DNS namespace and the services registered in it.

API Gateway's HTTP API reaches the API tasks through a VPC link and a
Cloud Map integration, which needs the service's SRV records (A records
alone are rejected): SRV carries each task's IP *and* port. The custom
health check lets ECS mark tasks healthy or not as they start and stop;
without one, API Gateway keeps routing to stopped tasks after a deploy.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.service_discovery_private_dns_namespace import ServiceDiscoveryPrivateDnsNamespace
from cdktf_cdktf_provider_aws.service_discovery_service import (
    ServiceDiscoveryService,
    ServiceDiscoveryServiceDnsConfig,
    ServiceDiscoveryServiceDnsConfigDnsRecords,
    ServiceDiscoveryServiceHealthCheckCustomConfig,
)
from constructs import Construct

from constructs_lib._validation import Problems

_DNS_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_NAMESPACE = rf"{_DNS_LABEL}(\.{_DNS_LABEL})*"


@dataclass(frozen=True, kw_only=True)
class PrivateDnsNamespaceProps:
    """Inputs of a namespace.

    name: a DNS name such as ``circle-of-trust.local``; one per environment,
        so use the environment's resource prefix.
    vpc_id: the VPC whose resolver answers for it.
    description: Default empty.
    """

    name: str
    vpc_id: str
    description: str = ""

    def __post_init__(self) -> None:
        problems = Problems("PrivateDnsNamespaceProps")
        problems.matches("name", self.name, _NAMESPACE, "a lower-case DNS name such as circle-of-trust.local")
        problems.raise_if_any()


class PrivateDnsNamespace(Construct):
    """A private DNS namespace in one VPC."""

    def __init__(self, scope: Construct, construct_id: str, props: PrivateDnsNamespaceProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.namespace = ServiceDiscoveryPrivateDnsNamespace(
            self,
            "namespace",
            name=props.name,
            vpc=props.vpc_id,
            description=props.description or None,
        )

    @property
    def namespace_id(self) -> str:
        return self.namespace.id

    @property
    def namespace_arn(self) -> str:
        return self.namespace.arn

    @property
    def namespace_name(self) -> str:
        return self.namespace.name


@dataclass(frozen=True, kw_only=True)
class DiscoveryServiceProps:
    """Inputs of a Cloud Map service with SRV records.

    name: a DNS label, such as ``api-service``.
    namespace_id: the namespace's id.
    dns_ttl_seconds: TTL of the SRV records, 0-3600. Default 10: short, so
        clients stop using a stopped task's address soon after a deploy.
    description: Default empty.
    """

    name: str
    namespace_id: str
    dns_ttl_seconds: int = 10
    description: str = ""

    def __post_init__(self) -> None:
        problems = Problems("DiscoveryServiceProps")
        problems.matches("name", self.name, _DNS_LABEL, "a DNS label: 1-63 lower-case letters, digits and '-'")
        problems.between("dns_ttl_seconds", self.dns_ttl_seconds, 0, 3600)
        problems.raise_if_any()


class DiscoveryService(Construct):
    """A Cloud Map service; ECS registers its tasks (see ``FargateService``)."""

    def __init__(self, scope: Construct, construct_id: str, props: DiscoveryServiceProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.service = ServiceDiscoveryService(
            self,
            "service",
            name=props.name,
            description=props.description or None,
            dns_config=ServiceDiscoveryServiceDnsConfig(
                namespace_id=props.namespace_id,
                routing_policy="MULTIVALUE",
                dns_records=[ServiceDiscoveryServiceDnsConfigDnsRecords(type="SRV", ttl=props.dns_ttl_seconds)],
            ),
            # ECS reports each task's health. AWS fixes failure_threshold at 1 and the
            # provider marks it deprecated, but provider 5.100.0 drops an empty block
            # from CreateService (terraform-provider-aws#44285): the custom health check
            # would never be enabled and every plan would want to replace the service.
            health_check_custom_config=ServiceDiscoveryServiceHealthCheckCustomConfig(failure_threshold=1),
        )

    @property
    def service_arn(self) -> str:
        return self.service.arn

    @property
    def service_id(self) -> str:
        return self.service.id

    @property
    def service_name(self) -> str:
        return self.service.name
