"""Helpers shared by the unit tests: synthesize constructs and read the JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable

import constructs_lib  # noqa: F401  (cheap provider imports)
from cdktf import TerraformStack, Testing
from cdktf_cdktf_provider_aws.provider import AwsProvider

from constructs_lib.service import CapacityProviderShare, FargateServiceProps
from stacks.addresses import address_name

_REMOTE_OUTPUT = re.compile(r"data\.terraform_remote_state\.cross_stack_reference_input_([a-z0-9_]+)\.outputs\.([A-Za-z0-9_]+)")

# Roles of the sample API service that construct tests build and grant on.
EXECUTION_ROLE = "arn:aws:iam::111122223333:role/exec"
TASK_ROLE = "arn:aws:iam::111122223333:role/api"


def synth_stack(stack: TerraformStack) -> dict[str, Any]:
    """The stack's Terraform JSON as a dict."""
    return json.loads(Testing.synth(stack))


def synth_layers(configs: list[Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """Every layer stack of each config, synthesized by one app: environment -> stack name -> JSON."""
    from stacks.environment import build_environment

    app = Testing.app()
    environments = {config.environment: build_environment(app, config) for config in configs}
    app.synth()
    outdir = Path(app.outdir)
    return {
        name: {layer.node.id: json.loads((outdir / "stacks" / layer.node.id / "cdk.tf.json").read_text()) for layer in environment.layers}
        for name, environment in environments.items()
    }


def merged_environment(stacks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One document of an environment's layers, as if it were one stack.

    Each cross-stack read (``${data.terraform_remote_state.<input>.outputs.<output>}``)
    is replaced by the writer's output value, so a test can follow a
    reference from a role's policy to the table it names across layers.
    Outputs are the layers' own (cross-stack outputs left out).
    """
    writers = {name.replace("-", "_"): stack.get("output", {}) for name, stack in stacks.items()}

    def value_of(match: re.Match[str]) -> Any:
        return writers[match.group(1)][match.group(2)]["value"]

    def resolve(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: resolve(item) for key, item in value.items() if key != "//"}
        if isinstance(value, list):
            return [resolve(item) for item in value]
        if isinstance(value, str) and "terraform_remote_state" in value:
            whole = _REMOTE_OUTPUT.fullmatch(value[2:-1]) if value.startswith("${") and value.endswith("}") else None
            if whole:
                return resolve(value_of(whole))

            def inline(match: re.Match[str]) -> str:
                found = value_of(match)
                assert isinstance(found, str) and found.startswith("${") and found.endswith("}"), found
                return found[2:-1]

            return resolve(_REMOTE_OUTPUT.sub(inline, value))
        return value

    merged: dict[str, Any] = {"resource": {}, "data": {}, "output": {}}
    for stack in stacks.values():
        resolved = resolve(stack)
        for kind in ("resource", "data"):
            for block_type, blocks in resolved.get(kind, {}).items():
                target = merged[kind].setdefault(block_type, {})
                for name, block in blocks.items():
                    if block_type == "terraform_remote_state":
                        continue
                    assert kind == "data" or name not in target, f"{block_type}.{name} is in two layers"
                    target[name] = block
        for name, output in resolved.get("output", {}).items():
            if not name.startswith("cross_stack_output_"):
                merged["output"][name] = output
        merged.setdefault("provider", resolved.get("provider"))
    return merged


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

    In a layer stack the ID is ``address_name(path)`` (stacks/addresses.py).
    In a bare test stack cdktf names an item ``<path joined by _>_<hash>``;
    Testing.synth drops the metadata that holds the path, so the ID's prefix
    is what identifies it.
    """
    if address_name(path) in items:
        return address_name(path)
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


_TOKEN = re.compile(r"\$\{[^}]*\}")
# The longest real value of the tokens AwsContext builds ARNs from: a partition (aws-us-gov),
# a region name, an account ID. Any other token counts as a 100-character ARN.
_CONTEXT_TOKEN_LENGTHS = ((".aws_partition.", 10), (".aws_region.", 20), (".account_id}", 12))


def role_grants(doc: dict[str, Any], role_name: str) -> dict[str, list[dict[str, Any]]]:
    """Inline policy name -> its statements (from the policy document data source), of the role named ``role_name``."""
    (role_id,) = [rid for rid, role in resources(doc, "aws_iam_role").items() if role["name"] == role_name]
    role_ref = ref(doc, "aws_iam_role", role_id, "id")
    documents = data_sources(doc, "aws_iam_policy_document")
    return {
        policy["name"]: documents[policy["policy"].split(".")[2]]["statement"]
        for policy in resources(doc, "aws_iam_role_policy").values()
        if policy["role"] == role_ref
    }


def inline_policies_size(grants: dict[str, list[dict[str, Any]]]) -> int:
    """Characters of a role's inline policies as IAM counts them (no whitespace), tokens at their longest real values."""

    def longest(match: re.Match[str]) -> str:
        token = match.group(0)
        return "x" * next((length for kind, length in _CONTEXT_TOKEN_LENGTHS if kind in token), 100)

    total = 0
    for statements in grants.values():
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": s["sid"],
                    "Effect": s.get("effect", "Allow"),
                    "Action": s["actions"],
                    "Resource": s["resources"],
                    **({"Condition": {c["test"]: {c["variable"]: c["values"]} for c in s["condition"]}} if "condition" in s else {}),
                }
                for s in statements
            ],
        }
        total += len(_TOKEN.sub(longest, json.dumps(policy, separators=(",", ":"))))
    return total


def serving_api_service(config: Any) -> str:
    """The name (and construct ID) of the API service that serves: the CodeDeploy one under canary releases,
    the seed's rolling one otherwise (cutover included: it serves until the move)."""
    return "api-blue-green" if config.api_release_strategy == "canary" else "api-service"
