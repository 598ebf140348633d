"""tools.adopt's matching on a small hand-written design and legacy state (no terraform, no synthesis).

The design has the shape the layer stacks have: a network layer with a VPC and
two security groups, a services layer whose ECS service reads them through
``terraform_remote_state`` outputs, as cdktf writes cross-stack references.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tools.adopt import Design, LegacyInstance, match
from tools.adopt.design import reference_slots

REMOTE = "data.terraform_remote_state.cross_stack_reference_input_production_network.outputs"


def design() -> Design:
    network = {
        "terraform": {"backend": {"s3": {"key": "production/network.tfstate"}}},
        "resource": {
            "aws_vpc": {"network_vpc": {"cidr_block": "10.0.0.0/16", "tags": {"Name": "circle-of-trust-vpc"}}},
            "aws_security_group": {
                "api_tasks_security_group": {"name": "circle-of-trust-api-tasks", "vpc_id": "${aws_vpc.network_vpc.id}", "tags": {"Name": "api"}},
                "worker_tasks_security_group": {"name": "circle-of-trust-worker-tasks", "vpc_id": "${aws_vpc.network_vpc.id}", "tags": {"Name": "worker"}},
            },
        },
        "output": {
            "api_sg": {"value": "${aws_security_group.api_tasks_security_group.id}", "sensitive": True},
            "worker_sg": {"value": "${aws_security_group.worker_tasks_security_group.id}", "sensitive": True},
        },
    }
    services = {
        "terraform": {"backend": {"s3": {"key": "production/services.tfstate"}}},
        "data": {"terraform_remote_state": {"cross_stack_reference_input_production_network": {"config": {"key": "production/network.tfstate"}}}},
        "resource": {
            "aws_ecs_service": {
                "api_service": {
                    "name": "api-service",
                    "cluster": "circle-of-trust-api",
                    "network_configuration": {"security_groups": [f"${{{REMOTE}.api_sg}}"], "assign_public_ip": False},
                },
                "worker_service": {
                    "name": "worker-service",
                    "cluster": "circle-of-trust-workers",
                    "network_configuration": {"security_groups": [f"${{{REMOTE}.worker_sg}}"]},
                },
            }
        },
    }
    return Design("production", "us-east-1", ["production-network", "production-services"], {"production-network": network, "production-services": services}, Path("/nonexistent"))


def instance(address: str, attributes: dict[str, Any]) -> LegacyInstance:
    type_ = address.split(".")[0]
    return LegacyInstance(address, type_, {"mode": "managed", "type": type_}, {"schema_version": 0, "attributes": attributes})


def legacy(api_groups: list[str], worker_groups: list[str], *groups: tuple[str, str, str, dict[str, str]]) -> list[LegacyInstance]:
    return [
        instance("aws_vpc.main", {"id": "vpc-1", "cidr_block": "10.0.0.0/16", "tags": {"Name": "circle-of-trust-vpc"}}),
        *(instance(f"aws_security_group.{name}", {"id": group_id, "vpc_id": "vpc-1", "name": sg_name, "tags": tags}) for name, group_id, sg_name, tags in groups),
        instance("aws_ecs_service.api", {"name": "api-service", "cluster": "arn:aws:ecs:us-east-1:123456789012:cluster/circle-of-trust-api", "network_configuration": [{"security_groups": api_groups}]}),
        instance("aws_ecs_service.worker", {"name": "worker-service", "cluster": "arn:aws:ecs:us-east-1:123456789012:cluster/circle-of-trust-workers", "network_configuration": [{"security_groups": worker_groups}]}),
    ]


def moves(result) -> dict[str, str]:
    return {m.legacy.address: m.design.address for m in result.matches.values()}


def test_reference_slots_name_nested_blocks_and_lists_as_the_state_holds_them() -> None:
    args = design().stacks["production-services"]["resource"]["aws_ecs_service"]["api_service"]
    assert list(reference_slots(args)) == [("network_configuration.0.security_groups", [f"{REMOTE}.api_sg"])]
    mixed = {"a": ["${x.y.z}", "literal"], "b": "prefix-${aws_vpc.v.id}", "tags": {"k": "${aws_vpc.v.id}"}, "c": [{"d": "${aws_vpc.v.id}"}]}
    assert list(reference_slots(mixed)) == [("c.0.d", ["aws_vpc.v.id"])]  # only whole references; tags are never a use


def test_a_group_named_differently_is_matched_by_the_service_that_uses_it() -> None:
    result = match(design(), legacy(["sg-a"], ["sg-w"], ("team_api", "sg-a", "cot-prod-api-sg", {}), ("team_worker", "sg-w", "cot-prod-worker-sg", {})))
    assert moves(result)["aws_security_group.team_api"] == "aws_security_group.api_tasks_security_group"
    assert moves(result)["aws_security_group.team_worker"] == "aws_security_group.worker_tasks_security_group"
    evidence = {m.legacy.address: m.evidence for m in result.matches.values()}
    assert evidence["aws_security_group.team_api"] == {"network_configuration.0.security_groups of aws_ecs_service.api": "sg-a"}


def test_use_is_trusted_before_a_weaker_identity() -> None:
    """A leftover group carries the design's Name tag; the service uses another. Use wins, and the leftover stays."""
    result = match(
        design(),
        legacy(["sg-used"], [], ("leftover", "sg-old", "old-api", {"Name": "api"}), ("used", "sg-used", "cot-api", {})),
    )
    assert moves(result)["aws_security_group.used"] == "aws_security_group.api_tasks_security_group"
    assert "aws_security_group.leftover" in {i.address for i in result.unmatched_legacy}


def test_a_name_is_trusted_before_use_and_a_tag_when_nothing_else_pairs() -> None:
    result = match(
        design(),
        legacy(["sg-b"], ["sg-b"], ("named", "sg-n", "circle-of-trust-api-tasks", {}), ("shared", "sg-b", "cot-shared", {}), ("tagged", "sg-t", "x", {"Name": "worker"})),
    )
    # The name pairs the API group; the worker service's only group is then the one it uses.
    assert moves(result)["aws_security_group.named"] == "aws_security_group.api_tasks_security_group"
    assert moves(result)["aws_security_group.shared"] == "aws_security_group.worker_tasks_security_group"
    assert "aws_security_group.tagged" in {i.address for i in result.unmatched_legacy}
    # Without the worker's use, the Name tag decides.
    result = match(design(), legacy([], [], ("tagged", "sg-t", "x", {"Name": "worker"})))
    assert moves(result)["aws_security_group.tagged"] == "aws_security_group.worker_tasks_security_group"


def test_an_ambiguous_use_pairs_nothing() -> None:
    """Two groups on the service, one reference in the design: which one is it? Not guessed."""
    result = match(design(), legacy(["sg-a", "sg-b"], [], ("one", "sg-a", "one", {}), ("two", "sg-b", "two", {})))
    assert {"aws_security_group.one", "aws_security_group.two"} <= {i.address for i in result.unmatched_legacy}
