"""constructs_lib/discovery.py: namespace and SRV service for API Gateway."""

from __future__ import annotations

import pytest

from constructs_lib.discovery import DiscoveryService, DiscoveryServiceProps, PrivateDnsNamespace, PrivateDnsNamespaceProps
from tests.support import at, logical_id, ref, resources, synth_construct


@pytest.fixture(scope="module")
def doc():
    def build(stack):
        namespace = PrivateDnsNamespace(stack, "namespace", PrivateDnsNamespaceProps(name="circle-of-trust.local", vpc_id="vpc-1"))
        DiscoveryService(stack, "api", DiscoveryServiceProps(name="api-service", namespace_id=namespace.namespace_id))

    return synth_construct(build)


def test_namespace_is_private_to_the_vpc(doc):
    namespace = at(resources(doc, "aws_service_discovery_private_dns_namespace"), "namespace")
    assert namespace == {"name": "circle-of-trust.local", "vpc": "vpc-1"}


def test_service_publishes_srv_records_with_a_custom_health_check(doc):
    namespaces = resources(doc, "aws_service_discovery_private_dns_namespace")
    service = at(resources(doc, "aws_service_discovery_service"), "api/service")
    assert service["name"] == "api-service"
    assert service["dns_config"] == {
        "namespace_id": ref(doc, "aws_service_discovery_private_dns_namespace", logical_id(namespaces, "namespace"), "id"),
        "routing_policy": "MULTIVALUE",
        "dns_records": [{"type": "SRV", "ttl": 10}],
    }
    # Not empty: provider 5.100.0 would drop an empty block and never enable the check.
    assert service["health_check_custom_config"] == {"failure_threshold": 1}
    assert "health_check_config" not in service


@pytest.mark.parametrize(
    ("props", "kwargs", "message"),
    [
        (PrivateDnsNamespaceProps, {"name": "Circle.Local", "vpc_id": "v"}, "name must be a lower-case DNS name such as circle-of-trust.local, but 'Circle.Local' was provided"),
        (PrivateDnsNamespaceProps, {"name": "-x.local", "vpc_id": "v"}, "but '-x.local' was provided"),
        (DiscoveryServiceProps, {"name": "api.service", "namespace_id": "n"}, "name must be a DNS label: 1-63 lower-case letters, digits and '-', but 'api.service' was provided"),
        (DiscoveryServiceProps, {"name": "api", "namespace_id": "n", "dns_ttl_seconds": 3601}, "dns_ttl_seconds must be between 0 and 3600, but 3601 was provided"),
    ],
)
def test_props_validation_messages(props, kwargs, message):
    with pytest.raises(ValueError, match=f"^{props.__name__}: ") as caught:
        props(**kwargs)
    assert message in str(caught.value)
