"""Helpers shared by the unit tests: synthesize constructs and read the JSON."""

from __future__ import annotations

import json
from typing import Any, Callable

import constructs_lib  # noqa: F401  (cheap provider imports)
from cdktf import TerraformStack, Testing
from cdktf_cdktf_provider_aws.provider import AwsProvider

from constructs_lib.service import CapacityProviderShare, FargateServiceProps

# Roles of the sample API service that construct tests build and grant on.
EXECUTION_ROLE = "arn:aws:iam::111122223333:role/exec"
TASK_ROLE = "arn:aws:iam::111122223333:role/api"


def synth_stack(stack: TerraformStack) -> dict[str, Any]:
    """The stack's Terraform JSON as a dict."""
    return json.loads(Testing.synth(stack))


def synth_construct(build: Callable[[TerraformStack], Any], region: str = "us-east-1") -> dict[str, Any]:
    """Build constructs in a bare stack with an AWS provider, and synthesize it."""
    app = Testing.app()
    stack = TerraformStack(app, "test")
    AwsProvider(stack, "aws", region=region)
    build(stack)
    return synth_stack(stack)


def resources(document: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """Resources of one type, by logical ID (empty when there are none)."""
    return document.get("resource", {}).get(resource_type, {})


def data_sources(document: dict[str, Any], data_type: str) -> dict[str, dict[str, Any]]:
    return document.get("data", {}).get(data_type, {})


def only(document: dict[str, Any], resource_type: str) -> dict[str, Any]:
    """The single resource of a type; fails when there is not exactly one."""
    found = list(resources(document, resource_type).values())
    assert len(found) == 1, f"expected one {resource_type}, found {len(found)}"
    return found[0]


def ref(document: dict[str, Any], resource_type: str, logical_id: str, attribute: str) -> str:
    """The Terraform reference string another resource uses for an attribute."""
    assert logical_id in resources(document, resource_type), f"no {resource_type}.{logical_id}"
    return "${" + f"{resource_type}.{logical_id}.{attribute}" + "}"


def logical_id(items: dict[str, dict[str, Any]], path: str) -> str:
    """The logical ID of the item at construct path ``path`` (``network/vpc``).

    cdktf names an item ``<path joined by _>_<hash>``; Testing.synth drops the
    metadata that holds the path, so the ID's prefix is what identifies it.
    """
    prefix = path.replace("/", "_") + "_"
    found = [key for key in items if key.startswith(prefix) and "_" not in key[len(prefix) :]]
    assert len(found) == 1, f"expected one item at {path}, found {found or 'none'} among {sorted(items)}"
    return found[0]


def at(items: dict[str, dict[str, Any]], path: str) -> dict[str, Any]:
    """The item at construct path ``path``."""
    return items[logical_id(items, path)]


def api_service_props(**overrides: Any) -> FargateServiceProps:
    """Props of a sample API service (cluster ``cot-api``, service ``api-service``, container ``api``)."""
    defaults: dict[str, Any] = {
        "cluster_name": "cot-api",
        "service_name": "api-service",
        "family": "cot-api",
        "container_name": "api",
        "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/cot-api:latest",
        "cpu": 512,
        "memory_mib": 1024,
        "execution_role_arn": EXECUTION_ROLE,
        "task_role_arn": TASK_ROLE,
        "log_group_name": "/ecs/cot-api",
        "subnet_ids": ("subnet-a", "subnet-b"),
        "security_group_ids": ("sg-api",),
        "capacity_provider_strategy": (CapacityProviderShare("FARGATE"),),
    }
    return FargateServiceProps(**{**defaults, **overrides})
