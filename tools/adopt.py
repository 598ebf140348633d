"""Adopt what the legacy HCL project manages into the layer stacks, without recreating it.

    python -m tools.adopt plan --config config/production.tfvars --legacy-state legacy.tfstate --out adopt/ \\
        [--retire ADDRESS ...] [--override FILE] [--migrations-dir migrations]
    python -m tools.adopt push --config config/production.tfvars --from adopt/ --legacy-key prod/terraform.tfstate \\
        [--backend-config KEY=VALUE ...] [--force]

``plan`` reads a state file (``terraform state pull`` of the legacy project,
format 4), synthesizes the environment and matches every legacy resource
instance to a synthesized resource by type and identity (names, ARNs, IDs;
for unnamed types the identifying arguments: a subnet by VPC and CIDR, an
association by subnet, a rule by group, port and peer), never by address.
References in the synthesized arguments (``${aws_vpc.network_vpc.id}``,
cross-stack reads) resolve to the legacy values of whatever matched them,
so parents match first and their children follow. It writes
``OUT/<stack>.tfstate`` (the moved instances under their new addresses,
fresh lineage, serial 1), ``OUT/legacy.tfstate`` (the remainder: legacy
lineage, serial + 1) and ``migrations/<environment>.json`` (reviewed and
committed like a database migration), then proves the result: ``terraform
plan`` of every stack against its new local state, in apply order. Where the
design differs from a protected resource in an argument that forces its
replacement, the legacy value is kept (recorded in the migration file,
applied by synthesis, stacks/migrations.py); a difference the application
would notice (a table's key schema) is refused.

``push`` writes each stack's state to its backend with ``terraform state
push`` (which takes the lock and writes the digest), after a backup of every
state object it replaces, and prints how to undo it.

Exit status: 0 done; 1 refused (the reasons are printed); 2 bad input.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from tools.data_bearing import DATA_BEARING_TYPES

PROJECT_DIR = Path(__file__).resolve().parents[1]
EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
AWS_PROVIDER = 'provider["registry.terraform.io/hashicorp/aws"]'
LEGACY_FILE = "legacy.tfstate"
PLAN_FILE = "adopt-plan.json"  # what `plan` proved; `push` reads it
PROOF_DIR = ".proof"
OVERRIDE_FILE = "zz_adopt_override.tf.json"
USER_OVERRIDE_FILE = "zz_adopt_user_override.tf.json"
# A value a lower layer only knows after its apply, in the proof of the layers above.
UNKNOWN = "adopt-proof-unknown"

# Protected: the plan refuses to destroy, replace or create a second time any of these.
PROTECTED_TYPES = DATA_BEARING_TYPES | {"aws_vpc", "aws_subnet", "aws_ecs_cluster", "aws_ecs_service"}

# How each type is identified, tried in order: a tuple of argument paths (state
# attribute = synthesized argument of the same name). "~tier" is "public" or
# "private" from the Name tag. The first spec that pairs one legacy instance
# with one synthesized resource decides, and is the recorded evidence.
_BUCKET = [("bucket",)]
IDENTITY: dict[str, list[tuple[str, ...]]] = {
    "aws_vpc": [("tags.Name",), ("cidr_block",)],
    # Zone and tier before the Name tag: teams number subnets from 1, the design from 0.
    "aws_subnet": [("vpc_id", "cidr_block"), ("vpc_id", "availability_zone", "~tier"), ("vpc_id", "tags.Name")],
    "aws_internet_gateway": [("vpc_id",)],
    "aws_nat_gateway": [("subnet_id",)],
    "aws_route_table": [],  # through the association of a matched subnet (INFER_PARENTS)
    "aws_route_table_association": [("subnet_id",), ("gateway_id",)],
    "aws_route": [("route_table_id", "destination_cidr_block")],
    "aws_default_security_group": [("vpc_id",)],
    "aws_security_group": [("vpc_id", "name")],
    "aws_vpc_security_group_ingress_rule": [("security_group_id", "ip_protocol", "from_port", "to_port", "~peer")],
    "aws_vpc_security_group_egress_rule": [("security_group_id", "ip_protocol", "from_port", "to_port", "~peer")],
    "aws_vpc_endpoint": [("vpc_id", "service_name")],
    "aws_flow_log": [("vpc_id",)],
    "aws_ecr_repository": [("name",)],
    "aws_ecr_lifecycle_policy": [("repository",)],
    "aws_dynamodb_table": [("name",)],
    "aws_appautoscaling_target": [("service_namespace", "resource_id", "scalable_dimension")],
    "aws_appautoscaling_policy": [("name", "resource_id")],
    "aws_sqs_queue": [("name",)],
    "aws_sqs_queue_policy": [("queue_url",)],
    "aws_sqs_queue_redrive_allow_policy": [("queue_url",)],
    "aws_sqs_queue_redrive_policy": [("queue_url",)],
    "aws_sns_topic": [("name",)],
    "aws_cloudwatch_log_group": [("name",)],
    "aws_cloudwatch_metric_alarm": [("alarm_name",)],
    "aws_cloudwatch_dashboard": [("dashboard_name",)],
    "aws_cloudwatch_event_rule": [("name",)],
    "aws_cloudwatch_event_target": [("rule", "target_id")],
    "aws_lambda_function": [("function_name",)],
    "aws_kms_key": [],  # through its alias (INFER_PARENTS)
    "aws_kms_alias": [("name",)],
    "aws_secretsmanager_secret": [("name",)],
    "aws_s3_bucket": _BUCKET,
    **{
        f"aws_s3_bucket_{child}": _BUCKET
        for child in (
            "policy", "versioning", "website_configuration", "public_access_block", "ownership_controls",
            "server_side_encryption_configuration", "lifecycle_configuration", "cors_configuration", "acl",
        )
    },
    "aws_ecs_cluster": [("name",)],
    "aws_ecs_cluster_capacity_providers": [("cluster_name",)],
    "aws_ecs_service": [("cluster", "name")],
    "aws_ecs_task_definition": [("family",)],
    "aws_iam_role": [("name",)],
    "aws_iam_role_policy": [("role", "name")],
    "aws_iam_role_policy_attachment": [("role", "policy_arn")],
    "aws_iam_openid_connect_provider": [("url",)],
    # A team's own name for the one namespace of the VPC: matched by the VPC, the name kept (ForceNew).
    "aws_service_discovery_private_dns_namespace": [("name",), ("vpc",)],
    "aws_service_discovery_service": [("dns_config.0.namespace_id", "name"), ("name",)],
    # Clients hold an API's URL, not its name: one API per protocol on each side pairs by protocol (renamed in place).
    "aws_apigatewayv2_api": [("name", "protocol_type"), ("protocol_type",)],
    "aws_apigatewayv2_stage": [("api_id", "name")],
    "aws_apigatewayv2_route": [("api_id", "route_key")],
    "aws_apigatewayv2_integration": [("api_id", "integration_type", "integration_uri"), ("api_id", "integration_type")],
    "aws_apigatewayv2_vpc_link": [("name",)],
    "aws_lb": [("name",)],
    "aws_cloudfront_origin_access_control": [("name",)],
    # The distribution in front of the frontend bucket: its hostname is what users and DNS hold.
    "aws_cloudfront_distribution": [("origin.0.domain_name",)],
    "aws_lb_target_group": [("name",)],
    "aws_lb_listener": [("load_balancer_arn", "port")],
    "aws_cloudtrail": [("name",)],
    "aws_backup_vault": [("name",)],
    "aws_cognito_user_pool": [("name",)],
}
# A matched child names its parent: (child type, argument, parent type, parent attribute the argument holds).
INFER_PARENTS = (
    ("aws_route_table_association", "route_table_id", "aws_route_table", "id"),
    ("aws_kms_alias", "target_key_id", "aws_kms_key", "key_id"),
)
# ARNs where the design writes a name: compared by the name.
_NAME_OF_ARN = {"cluster", "role"}
# Differences the application would notice: never kept, refused with the reason.
REFUSED: dict[str, dict[str, str]] = {
    "aws_dynamodb_table": {
        "hash_key": "the application reads and writes items by the table's key schema",
        "range_key": "the application reads and writes items by the table's key schema",
    },
    "aws_sqs_queue": {"fifo_queue": "producers and consumers use a FIFO queue differently (group IDs, deduplication)"},
}


class AdoptError(Exception):
    """Bad input (exit 2)."""


# -- the legacy state ---------------------------------------------------------------


@dataclass
class LegacyInstance:
    address: str
    type: str
    resource: dict[str, Any]
    instance: dict[str, Any]

    @property
    def attributes(self) -> dict[str, Any]:
        return self.instance.get("attributes") or {}


def instance_address(resource: Mapping[str, Any], instance: Mapping[str, Any]) -> str:
    """``module.vpc.aws_subnet.private[0]``, as terraform prints it."""
    prefix = f"{resource['module']}." if resource.get("module") else ""
    data = "data." if resource.get("mode") == "data" else ""
    key = instance.get("index_key")
    index = "" if key is None else f"[{json.dumps(key)}]"
    return f"{prefix}{data}{resource['type']}.{resource['name']}{index}"


def load_legacy(path: Path) -> tuple[dict[str, Any], list[LegacyInstance]]:
    try:
        state = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise AdoptError(f"{path}: cannot read a state file ({error})") from None
    if not isinstance(state, dict) or state.get("version") != 4 or not isinstance(state.get("resources"), list):
        raise AdoptError(f"{path}: not a Terraform state of format version 4 (`terraform state pull` prints one)")
    instances = [
        LegacyInstance(instance_address(resource, instance), resource["type"], resource, instance)
        for resource in state["resources"]
        if resource.get("mode") == "managed"
        for instance in resource.get("instances", ())
        if not instance.get("deposed")
    ]
    return state, instances


# -- the design --------------------------------------------------------------------


@dataclass
class DesignResource:
    stack: str
    type: str
    name: str
    args: dict[str, Any]

    @property
    def address(self) -> str:
        return f"{self.type}.{self.name}"

    @property
    def key(self) -> tuple[str, str]:
        return (self.stack, self.address)


@dataclass
class Design:
    environment: str
    region: str
    order: list[str]
    stacks: dict[str, dict[str, Any]]
    synth_dir: Path

    def resources(self) -> list[DesignResource]:
        return [
            DesignResource(stack, type_, name, args)
            for stack in self.order
            for type_, blocks in sorted(self.stacks[stack].get("resource", {}).items())
            for name, args in sorted(blocks.items())
        ]

    def backend(self, stack: str) -> dict[str, Any]:
        return dict(self.stacks[stack]["terraform"]["backend"]["s3"])

    def stack_of_key(self, key: str) -> str | None:
        return next((stack for stack in self.order if self.backend(stack)["key"] == key), None)


def synthesize(config_path: Path, outdir: Path, migrations_dir: Path | None) -> Path:
    """main.py's synthesis of the one environment; kept values from ``migrations_dir`` (None: the design alone)."""
    import main
    from stacks import migrations

    with migrations.reading_from(migrations_dir):
        main.synthesize([config_path], outdir)
    return outdir


def read_design(synth_dir: Path, environment: str, region: str) -> Design:
    from tools.layers import apply_order, read_dependencies

    order = apply_order(read_dependencies(synth_dir), environment)
    stacks = {name: json.loads((synth_dir / "stacks" / name / "cdk.tf.json").read_text()) for name in order}
    return Design(environment, region, order, stacks, synth_dir)


# -- resolving synthesized arguments to legacy values ----------------------------------------

_UNRESOLVED = object()
_INTERPOLATION = re.compile(r"\$\{([^{}]*)\}")
_REFERENCE = re.compile(r"(?P<type>aws_[a-z0-9_]+)\.(?P<name>[A-Za-z0-9_]+)\.(?P<path>[A-Za-z0-9_.\[\]]+)")
_REMOTE = re.compile(r"data\.terraform_remote_state\.(?P<name>[A-Za-z0-9_]+)\.outputs\.(?P<output>[A-Za-z0-9_]+)")
_AZ_BY_NAME = re.compile(r'data\.aws_availability_zones\.[A-Za-z0-9_]+\.names\[index\(data\.aws_availability_zones\.[A-Za-z0-9_]+\.names, "([a-z0-9-]+)"\)\]')


def lookup(value: Any, path: str) -> Any:
    """``a.0.b`` in state attributes or synthesized arguments (a block is a dict or a list of one)."""
    for step in re.split(r"[.\[\]]+", path.strip(".[]")):
        if step == "":
            continue
        if isinstance(value, list):
            if not step.isdigit() or int(step) >= len(value):
                return _UNRESOLVED
            value = value[int(step)]
        elif isinstance(value, dict):
            if step.isdigit() and step not in value:
                continue  # a single block synthesized as an object
            if step not in value:
                return _UNRESOLVED
            value = value[step]
        else:
            return _UNRESOLVED
    return value


class Resolver:
    """Values of synthesized arguments, references resolved through the matches so far."""

    def __init__(self, design: Design, matches: Mapping[tuple[str, str], LegacyInstance], account: str | None):
        self.design = design
        self.matches = matches
        self.account = account
        self.by_key = {resource.key: resource for resource in design.resources()}

    def argument(self, resource: DesignResource, path: str) -> Any:
        return self.value(resource.stack, lookup(resource.args, path), depth=0)

    def value(self, stack: str, value: Any, depth: int) -> Any:
        if value is _UNRESOLVED or depth > 8:
            return _UNRESOLVED
        if isinstance(value, str):
            return self.string(stack, value, depth)
        if isinstance(value, list):
            items = [self.value(stack, item, depth) for item in value]
            return _UNRESOLVED if any(item is _UNRESOLVED for item in items) else items
        if isinstance(value, dict):
            items = {key: self.value(stack, item, depth) for key, item in value.items()}
            return _UNRESOLVED if any(item is _UNRESOLVED for item in items.values()) else items
        return value

    def string(self, stack: str, text: str, depth: int) -> Any:
        parts = _INTERPOLATION.split(text)
        if len(parts) == 1:
            return text
        resolved = []
        for index, part in enumerate(parts):
            if index % 2 == 0:
                resolved.append(part)
                continue
            value = self.expression(stack, part.strip(), depth + 1)
            if value is _UNRESOLVED:
                return _UNRESOLVED
            if len(parts) == 3 and parts[0] == parts[2] == "":
                return value  # the whole string is one expression: keep its type
            resolved.append(str(value).lower() if isinstance(value, bool) else str(value))
        return "".join(resolved)

    def expression(self, stack: str, expression: str, depth: int) -> Any:
        if match := _AZ_BY_NAME.fullmatch(expression):
            return match.group(1)
        if match := _REMOTE.fullmatch(expression):
            block = self.design.stacks[stack].get("data", {}).get("terraform_remote_state", {}).get(match["name"])
            source = self.design.stack_of_key(block["config"]["key"]) if block else None
            output = self.design.stacks[source].get("output", {}).get(match["output"]) if source else None
            return _UNRESOLVED if output is None else self.value(source, output["value"], depth)
        if re.fullmatch(r"data\.aws_region\.[A-Za-z0-9_]+\.name", expression):
            return self.design.region
        if re.fullmatch(r"data\.aws_partition\.[A-Za-z0-9_]+\.partition", expression):
            return "aws"
        if re.fullmatch(r"data\.aws_partition\.[A-Za-z0-9_]+\.dns_suffix", expression):
            return "amazonaws.com"
        if re.fullmatch(r"data\.aws_caller_identity\.[A-Za-z0-9_]+\.account_id", expression):
            return self.account or _UNRESOLVED
        if match := _REFERENCE.fullmatch(expression):
            key = (stack, f"{match['type']}.{match['name']}")
            if key in self.matches:
                return lookup(self.matches[key].attributes, match["path"])
            resource = self.by_key.get(key)
            if resource is None:
                return _UNRESOLVED
            # Not matched (yet): what the design itself gives, when it is an argument (a name).
            return self.value(stack, lookup(resource.args, match["path"]), depth)
        return _UNRESOLVED


def _normalize(path: str, value: Any) -> Any:
    if path in _NAME_OF_ARN and isinstance(value, str) and value.startswith("arn:"):
        return value.rsplit("/", 1)[-1]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value


def _derived(path: str, get) -> Any:
    if path == "~tier":
        name = get("tags.Name")
        if not isinstance(name, str):
            return _UNRESOLVED
        return "public" if "public" in name.lower() else "private" if "private" in name.lower() else _UNRESOLVED
    if path == "~peer":
        for peer in ("cidr_ipv4", "cidr_ipv6", "referenced_security_group_id", "prefix_list_id"):
            value = get(peer)
            if isinstance(value, str) and value:
                return f"{peer}={value}"
        return _UNRESOLVED
    return _normalize(path, get(path))


def identity_key(spec: Sequence[str], get) -> tuple | None:
    values = []
    for path in spec:
        value = _derived(path, get)
        if value is _UNRESOLVED or value is None or value == "":
            return None
        values.append(json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else value)
    return tuple(values)


def legacy_getter(instance: LegacyInstance):
    return lambda path: lookup(instance.attributes, path)


def design_getter(resolver: Resolver, resource: DesignResource):
    return lambda path: resolver.argument(resource, path)


# -- matching --------------------------------------------------------------------------


@dataclass
class Match:
    legacy: LegacyInstance
    design: DesignResource
    evidence: dict[str, Any]


@dataclass
class Matching:
    matches: dict[tuple[str, str], Match] = field(default_factory=dict)
    unmatched_legacy: list[LegacyInstance] = field(default_factory=list)
    created: list[DesignResource] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _account_of(instances: Iterable[LegacyInstance]) -> str | None:
    for instance in instances:
        arn = instance.attributes.get("arn")
        if isinstance(arn, str) and (match := re.match(r"arn:[^:]+:[^:]+:[^:]*:(\d{12}):", arn)):
            return match.group(1)
    return None


def match(design: Design, legacy: Sequence[LegacyInstance]) -> Matching:
    resources = design.resources()
    pairs: dict[tuple[str, str], LegacyInstance] = {}
    evidence: dict[tuple[str, str], dict[str, Any]] = {}
    taken: set[str] = set()
    resolver = Resolver(design, pairs, _account_of(legacy))
    types = sorted({r.type for r in resources} & {i.type for i in legacy})
    progress = True
    while progress:
        progress = False
        for type_ in types:
            for spec in IDENTITY.get(type_, ()):
                wanted: dict[tuple, list[DesignResource]] = {}
                for resource in resources:
                    if resource.type == type_ and resource.key not in pairs:
                        key = identity_key(spec, design_getter(resolver, resource))
                        if key is not None:
                            wanted.setdefault(key, []).append(resource)
                offered: dict[tuple, list[LegacyInstance]] = {}
                for instance in legacy:
                    if instance.type == type_ and instance.address not in taken:
                        key = identity_key(spec, legacy_getter(instance))
                        if key is not None:
                            offered.setdefault(key, []).append(instance)
                for key in sorted(set(wanted) & set(offered), key=repr):
                    if len(wanted[key]) == 1 and len(offered[key]) == 1:
                        resource, instance = wanted[key][0], offered[key][0]
                        pairs[resource.key] = instance
                        evidence[resource.key] = dict(zip(spec, key))
                        taken.add(instance.address)
                        progress = True
        for child_type, argument, parent_type, attribute in INFER_PARENTS:
            for key, instance in sorted(pairs.items(), key=lambda item: item[0]):
                resource = resolver.by_key[key]
                if resource.type != child_type:
                    continue
                reference = _REFERENCE.fullmatch(str(resource.args.get(argument, "")).removeprefix("${").removesuffix("}"))
                if not reference or reference["type"] != parent_type:
                    continue
                parent_key = (resource.stack, f"{parent_type}.{reference['name']}")
                held = instance.attributes.get(argument)
                if parent_key in pairs or not held:
                    continue
                parents = [i for i in legacy if i.type == parent_type and i.address not in taken and i.attributes.get(attribute) == held]
                if len(parents) == 1:
                    pairs[parent_key] = parents[0]
                    evidence[parent_key] = {f"{argument} of {instance.address}": held}
                    taken.add(parents[0].address)
                    progress = True
    result = Matching()
    by_key = resolver.by_key
    for key, instance in pairs.items():
        result.matches[key] = Match(instance, by_key[key], evidence[key])
    result.unmatched_legacy = [i for i in legacy if i.address not in taken]
    result.created = [r for r in resources if r.key not in pairs]
    # A protected resource the design creates while a legacy one with its identity stays behind: created a second time.
    for resource in result.created:
        if resource.type not in PROTECTED_TYPES:
            continue
        for spec in IDENTITY.get(resource.type, ()):
            key = identity_key(spec, design_getter(resolver, resource))
            twins = [i.address for i in result.unmatched_legacy if i.type == resource.type and key is not None and identity_key(spec, legacy_getter(i)) == key]
            if twins:
                result.problems.append(
                    f"{resource.stack} {resource.address} would be CREATED A SECOND TIME: legacy {', '.join(twins)} has its identity "
                    f"({', '.join(spec)} = {', '.join(map(str, key))}) but matches more than one resource"
                )
                break
    for found in result.matches.values():
        for attribute, reason in REFUSED.get(found.design.type, {}).items():
            designed = resolver.argument(found.design, attribute)
            held = found.legacy.attributes.get(attribute)
            if designed is _UNRESOLVED:
                designed = None
            if (designed or None) != (held or None):
                result.problems.append(
                    f"REFUSED {found.legacy.address} -> {found.design.stack} {found.design.address}: {attribute} is {held!r} in the legacy "
                    f"resource and {designed!r} in the design; {reason}, so the legacy value cannot be kept and the resource cannot be replaced"
                )
    return result


# -- states -----------------------------------------------------------------------------------


def new_state(legacy_state: Mapping[str, Any], moved: Sequence[Match]) -> dict[str, Any]:
    resources = []
    for found in sorted(moved, key=lambda m: m.design.address):
        instance = {k: copy.deepcopy(v) for k, v in found.legacy.instance.items() if k not in ("index_key", "dependencies")}
        resources.append(
            {"mode": "managed", "type": found.design.type, "name": found.design.name, "provider": AWS_PROVIDER, "instances": [instance]}
        )
    return {
        "version": 4,
        "terraform_version": legacy_state.get("terraform_version", "1.11.4"),
        "serial": 1,
        "lineage": str(uuid.uuid4()),
        "outputs": {},
        "resources": resources,
        "check_results": None,
    }


def legacy_remainder(legacy_state: Mapping[str, Any], moved_addresses: set[str]) -> dict[str, Any]:
    state = copy.deepcopy(dict(legacy_state))
    kept = []
    for resource in state["resources"]:
        instances = [i for i in resource.get("instances", ()) if resource.get("mode") != "managed" or instance_address(resource, i) not in moved_addresses]
        if instances:
            kept.append({**resource, "instances": instances})
    state["resources"] = kept
    state["serial"] = int(state.get("serial", 0)) + 1
    return state


def write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2, sort_keys=False) + "\n")


def cty_type(value: Any) -> Any:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return ["tuple", [cty_type(item) for item in value]]
    if isinstance(value, dict):
        return ["object", {key: cty_type(item) for key, item in value.items()}]
    return "dynamic"


# -- terraform -------------------------------------------------------------------------------------


class TerraformFailed(Exception):
    pass


def terraform(workdir: Path, *args: str, env: Mapping[str, str], ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["terraform", *args, "-no-color"], cwd=workdir, env=dict(env), capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if proc.returncode not in ok:
        raise TerraformFailed(f"terraform {' '.join(args)} in {workdir} exited {proc.returncode}:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


def _stack_env(stack: Mapping[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    if any("alias" in p for p in stack.get("provider", {}).get("aws", [])):
        env.pop("TF_REATTACH_PROVIDERS", None)  # one reattached provider process holds one configuration
    return env


def unprotect(stack: Mapping[str, Any]) -> dict[str, Any]:
    """prevent_destroy lifted in the proof copy only: terraform must show a replacement, not stop at it."""
    return {
        type_: lifted
        for type_, blocks in stack.get("resource", {}).items()
        if (lifted := {name: {"lifecycle": {"prevent_destroy": False}} for name, block in blocks.items() if block.get("lifecycle", {}).get("prevent_destroy")})
    }


@dataclass
class StackProof:
    stack: str
    updates: list[str] = field(default_factory=list)
    creates: list[str] = field(default_factory=list)
    replaces: list[str] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    keep: dict[str, dict[str, Any]] = field(default_factory=dict)  # address -> attribute -> legacy value
    refused: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)


def _clean(value: Any) -> Any:
    """A legacy attribute value as an argument: nulls dropped."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def created_twice(stack: str, address: str, type_: str, after: Mapping[str, Any], legacy: Sequence[LegacyInstance]) -> list[str]:
    """A protected resource the plan creates although a legacy instance has its identity.

    Read from the plan's own values (``after``), not from the matching: whatever
    the matching could not resolve statically, terraform has resolved here.
    Only the strict identities (names, ARNs, a subnet's VPC and CIDR) count;
    the derived ones (a subnet's tier read from its Name tag) only guide matching.
    """
    for spec in IDENTITY.get(type_, ()):
        if any(path.startswith("~") for path in spec):
            continue
        key = identity_key(spec, lambda path: lookup(after, path))
        if key is None:
            continue
        twins = [i.address for i in legacy if i.type == type_ and identity_key(spec, legacy_getter(i)) == key]
        if twins:
            return [
                f"{stack} {address} would be CREATED A SECOND TIME: legacy {', '.join(twins)} has the same "
                f"{', '.join(spec)} ({', '.join(map(str, key))}); the apply would fail on a name that exists, or duplicate it"
            ]
    return []


def prove_stack(
    design: Design,
    stack: str,
    out: Path,
    moved: Mapping[str, Match],
    legacy: Sequence[LegacyInstance],
    user_override: dict[str, Any] | None,
    lower_outputs: Mapping[str, Path],
) -> StackProof:
    """Plan ``stack`` against its new local state; what the plan does to each resource."""
    proof = StackProof(stack)
    workdir = out / PROOF_DIR / stack
    shutil.rmtree(workdir, ignore_errors=True)
    shutil.copytree(design.synth_dir / "stacks" / stack, workdir, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    state_copy = out / PROOF_DIR / f"{stack}.tfstate"
    shutil.copyfile(out / f"{stack}.tfstate", state_copy)
    config = design.stacks[stack]
    override: dict[str, Any] = {"terraform": {"backend": {"local": {"path": str(state_copy)}}}}
    remote = {}
    for name, block in config.get("data", {}).get("terraform_remote_state", {}).items():
        source = design.stack_of_key(block["config"]["key"])
        if source is None or source not in lower_outputs:
            raise AdoptError(f"{stack}: reads {block['config']['key']}, which no lower layer of the proof wrote")
        remote[name] = {"backend": "local", "config": {"path": str(lower_outputs[source])}}
    if remote:
        override["data"] = {"terraform_remote_state": remote}
    if lifted := unprotect(config):
        override["resource"] = lifted
    write_json(workdir / OVERRIDE_FILE, override)
    if user_override:
        write_json(workdir / USER_OVERRIDE_FILE, user_override)
    env = _stack_env(config)
    terraform(workdir, "init", "-input=false", env=env)
    terraform(workdir, "plan", "-input=false", "-lock=false", "-out=tfplan", env=env)
    shown = terraform(workdir, "show", "-json", "tfplan", env=env).stdout
    (out / PROOF_DIR / f"{stack}.plan.json").write_text(shown)  # for review: what the proof read
    plan = json.loads(shown)
    for change in plan.get("resource_changes") or ():
        if change.get("mode") != "managed":
            continue
        address, type_ = change["address"], change["type"]
        actions = tuple(change["change"]["actions"])
        details = change["change"]
        if actions == ("update",):
            before, after = details.get("before") or {}, details.get("after") or {}
            unknown = details.get("after_unknown") or {}
            changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k) or unknown.get(k) is True)
            proof.updates.append(f"{address}: {', '.join(changed)}")
        elif actions == ("create",):
            proof.creates.append(address)
            if type_ in PROTECTED_TYPES:
                proof.violations += created_twice(stack, address, type_, details.get("after") or {}, legacy)
        elif actions in (("delete", "create"), ("create", "delete")):
            paths = [p for p in details.get("replace_paths") or ()]
            proof.replaces.append(f"{address} (forced by {', '.join('.'.join(map(str, p)) for p in paths) or '?'})")
            if type_ in PROTECTED_TYPES:
                found = moved.get(address)
                for path in paths:
                    attribute = str(path[0])
                    if found is None:
                        proof.violations.append(f"{stack} {address} would be REPLACED (forced by {attribute})")
                    elif attribute in REFUSED.get(type_, {}):
                        proof.refused.append(f"REFUSED {found.legacy.address} -> {stack} {address}: {attribute} differs; {REFUSED[type_][attribute]}")
                    elif attribute in found.legacy.attributes:
                        proof.keep.setdefault(address, {})[attribute] = _clean(found.legacy.attributes[attribute])
                    else:
                        proof.violations.append(f"{stack} {address} would be REPLACED (forced by {attribute}, which the legacy state does not hold)")
        elif actions == ("delete",):
            proof.deletes.append(address)
            if type_ in PROTECTED_TYPES:
                proof.violations.append(f"{stack} {address} would be DESTROYED")
    outputs = {}
    unknown_outputs = {name: change.get("after_unknown") for name, change in (plan.get("output_changes") or {}).items()}
    for name in config.get("output", {}):
        known = (plan.get("planned_values") or {}).get("outputs", {}).get(name, {})
        if unknown_outputs.get(name) is True or "value" not in known:
            value = f"arn:aws:iam::000000000000:role/{UNKNOWN}" if name.endswith("arn") else UNKNOWN
        else:
            value = known["value"]
        outputs[name] = {"value": value, "type": cty_type(value)}
    proof.outputs = outputs
    return proof


# -- the migration file ---------------------------------------------------------------------


def migration_document(
    config: Any, legacy_state: Mapping[str, Any], matching: Matching, retired: set[str], kept: Mapping[tuple[str, str], Mapping[str, Any]]
) -> dict[str, Any]:
    moves = sorted(matching.matches.values(), key=lambda m: m.legacy.address)
    left = []
    for instance in sorted(matching.unmatched_legacy, key=lambda i: i.address):
        protected = instance.type in PROTECTED_TYPES
        reason = (
            "retired with --retire: not managed by the new design"
            if instance.address in retired
            else f"no {instance.type} of the design has its identity"
            + ("" if protected else "; not protected: it stays in the legacy state")
        )
        left.append({"legacy": instance.address, "id": instance.attributes.get("id"), "reason": reason, "remove_once_reviewed": f"terraform state rm '{instance.address}'"})
    by_address = {(m.design.stack, m.design.address): m for m in moves}
    return {
        "environment": config.environment,
        "legacy": {"lineage": legacy_state.get("lineage"), "serial": legacy_state.get("serial")},
        "moves": [
            {"legacy": m.legacy.address, "stack": m.design.stack, "address": m.design.address, "id": m.legacy.attributes.get("id"), "evidence": m.evidence}
            for m in moves
        ],
        "kept": [
            {
                "stack": stack,
                "address": address,
                "attribute": attribute,
                "value": value,
                "legacy": by_address[(stack, address)].legacy.address if (stack, address) in by_address else None,
                "reason": "the design's value forces replacement of a protected resource; the legacy value is kept",
                "to_drop": _to_drop(config.environment, stack, address, attribute, value),
            }
            for (stack, address), attributes in sorted(kept.items())
            for attribute, value in sorted(attributes.items())
        ],
        "left_in_legacy_state": left,
        "created_new": [{"stack": r.stack, "address": r.address} for r in sorted(matching.created, key=lambda r: r.key)],
    }


def _to_drop(environment: str, stack: str, address: str, attribute: str, value: Any) -> str:
    if attribute in _NAME_OF_ARN and isinstance(value, str) and value.startswith("arn:"):
        # The provider keeps the format the state holds (ARN or name) for the same object.
        return (
            f"nothing to drop: the legacy {attribute} is the design's, written as an ARN; dropping it would replace "
            f"{address} for no change in AWS"
        )
    return (
        f"remove this entry from migrations/{environment}.json; the next plan of {stack} then replaces {address} "
        f"(forced by {attribute}): schedule it as a deliberate change, with its data moved first where it holds any"
    )


# -- plan -----------------------------------------------------------------------------------------


def run_plan(args: argparse.Namespace) -> int:
    from stacks.config import ConfigError, load_config

    try:
        config = load_config(args.config)
        legacy_state, legacy = load_legacy(args.legacy_state)
        user_override = json.loads(Path(args.override).read_text()) if args.override else None
    except (ConfigError, AdoptError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    out: Path = args.out.resolve()
    migrations_dir: Path = args.migrations_dir.resolve()
    migration_path = migrations_dir / f"{config.environment}.json"
    work = Path(tempfile.mkdtemp(prefix="adopt-synth-"))
    try:
        design = read_design(synthesize(args.config, work / "design", None), config.environment, config.aws_region)
        matching = match(design, legacy)
        retired = set(args.retire)
        unknown_retired = retired - {i.address for i in legacy}
        problems = list(matching.problems)
        problems += [f"--retire {address}: no managed instance of the legacy state has this address" for address in sorted(unknown_retired)]
        problems += [
            f"--retire {m.legacy.address}: it matches {m.design.stack} {m.design.address} and would be moved, not retired; "
            "drop --retire, or rename it in the design if it really is another resource"
            for m in sorted(matching.matches.values(), key=lambda m: m.legacy.address)
            if m.legacy.address in retired
        ]
        for instance in matching.unmatched_legacy:
            if instance.type in PROTECTED_TYPES and instance.address not in retired:
                problems.append(
                    f"{instance.address} ({instance.type}, id {instance.attributes.get('id')}) matches no resource of the design; "
                    f"adopting would orphan it: rename it in the design, or pass --retire {instance.address} after review"
                )
        print_matching(matching, retired)
        if problems:
            print(f"\nadopt plan: REFUSED, {len(problems)} problem(s); nothing written:", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            return EXIT_REFUSED

        # The states, under the new addresses.
        out.mkdir(parents=True, exist_ok=True)
        (out / PLAN_FILE).unlink(missing_ok=True)
        moved_by_stack: dict[str, dict[str, Match]] = {stack: {} for stack in design.order}
        for found in matching.matches.values():
            moved_by_stack[found.design.stack][found.design.address] = found
        for stack in design.order:
            write_json(out / f"{stack}.tfstate", new_state(legacy_state, list(moved_by_stack[stack].values())))
        moved_addresses = {m.legacy.address for m in matching.matches.values()}
        write_json(out / LEGACY_FILE, legacy_remainder(legacy_state, moved_addresses))

        # The proof, stack by stack in apply order; kept values re-synthesized through the migration file.
        kept: dict[tuple[str, str], dict[str, Any]] = {}
        write_json(migration_path, migration_document(config, legacy_state, matching, retired, kept))
        proofs: list[StackProof] = []
        lower_outputs: dict[str, Path] = {}
        refused: list[str] = []
        current = design
        for stack in design.order:
            for attempt in range(4):
                proof = prove_stack(current, stack, out, moved_by_stack[stack], legacy, user_override, lower_outputs)
                refused += proof.refused
                new = {(stack, a): v for a, v in proof.keep.items() if kept.get((stack, a), {}).items() < ({**kept.get((stack, a), {}), **v}).items()}
                if proof.refused or not new or attempt == 3:
                    break
                for key, values in new.items():
                    kept.setdefault(key, {}).update(values)
                write_json(migration_path, migration_document(config, legacy_state, matching, retired, kept))
                shutil.rmtree(work / "kept", ignore_errors=True)
                current = read_design(synthesize(args.config, work / "kept", migrations_dir), config.environment, config.aws_region)
            if proof.keep and not proof.refused:
                proof.violations += [
                    f"{stack} {address} would still be REPLACED after keeping {', '.join(sorted(values))}" for address, values in proof.keep.items()
                    if all(kept.get((stack, address), {}).get(k) == v for k, v in values.items())
                ]
            proofs.append(proof)
            outputs_state = json.loads((out / f"{stack}.tfstate").read_text())
            outputs_state["outputs"] = proof.outputs
            lower_outputs[stack] = out / PROOF_DIR / f"{stack}.outputs.tfstate"
            write_json(lower_outputs[stack], outputs_state)
        write_json(migration_path, migration_document(config, legacy_state, matching, retired, kept))
        violations = refused + [v for proof in proofs for v in proof.violations]
        print_proof(proofs, kept, migration_path)
        if violations:
            print(f"\nadopt plan: REFUSED, {len(violations)} problem(s) in the plans; push refuses this folder:", file=sys.stderr)
            for violation in violations:
                print(f"  {violation}", file=sys.stderr)
            return EXIT_REFUSED
        write_json(
            out / PLAN_FILE,
            {
                "environment": config.environment,
                "stacks": design.order,
                "legacy_lineage": legacy_state.get("lineage"),
                "legacy_serial": legacy_state.get("serial"),
                "migration": str(migration_path),
                "proved": True,
            },
        )
        print(f"\nadopt plan: proved; review {migration_path}, then: python -m tools.adopt push --config {args.config} --from {args.out} --legacy-key KEY")
        return EXIT_OK
    except (TerraformFailed, AdoptError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_REFUSED
    finally:
        shutil.rmtree(work, ignore_errors=True)


def print_matching(matching: Matching, retired: set[str]) -> None:
    rows = sorted(matching.matches.values(), key=lambda m: (m.design.stack, m.design.address))
    print(f"MOVED ({len(rows)}):")
    for m in rows:
        evidence = ", ".join(f"{k}={v}" for k, v in m.evidence.items())
        print(f"  {m.legacy.address:55} -> {m.design.stack} {m.design.address}  [{evidence}]")
    print(f"LEFT IN THE LEGACY STATE ({len(matching.unmatched_legacy)}):")
    for instance in sorted(matching.unmatched_legacy, key=lambda i: i.address):
        why = "retired (--retire)" if instance.address in retired else ("PROTECTED, matches nothing" if instance.type in PROTECTED_TYPES else "matches nothing in the design")
        print(f"  {instance.address:55} {why}; once reviewed: terraform state rm '{instance.address}'")
    print(f"TO BE CREATED NEW ({len(matching.created)}):")
    by_stack: dict[str, list[str]] = {}
    for resource in matching.created:
        by_stack.setdefault(resource.stack, []).append(resource.address)
    for stack, addresses in by_stack.items():
        print(f"  {stack}: {len(addresses)}: {', '.join(addresses)}")


def print_proof(proofs: Sequence[StackProof], kept: Mapping[tuple[str, str], Mapping[str, Any]], migration_path: Path) -> None:
    print("\nPROOF (terraform plan of each stack against its new state, in apply order):")
    for proof in proofs:
        print(f"  {proof.stack}: {len(proof.creates)} to create, {len(proof.updates)} to update in place, {len(proof.replaces)} to replace, {len(proof.deletes)} to destroy")
        for line in proof.updates:
            print(f"    update   {line}")
        for line in proof.replaces:
            print(f"    replace  {line}")
        for line in proof.deletes:
            print(f"    destroy  {line}")
    if kept:
        print(f"KEPT LEGACY VALUES (in {migration_path}; synthesis applies them):")
        for (stack, address), values in sorted(kept.items()):
            for attribute, value in sorted(values.items()):
                print(f"  {stack} {address}.{attribute} = {json.dumps(value)}")
                print(f"    to drop it later: {_to_drop(migration_path.stem, stack, address, attribute, value)}")


# -- push ------------------------------------------------------------------------------------------


def _parse_backend_config(pairs: Sequence[str]) -> list[str]:
    for pair in pairs:
        if "=" not in pair:
            raise AdoptError(f"--backend-config {pair!r}: expected KEY=VALUE")
    return [f"-backend-config={pair}" for pair in pairs]


def _s3(region: str):
    import boto3

    return boto3.session.Session().client("s3", region_name=region)


def _read_object(s3: Any, bucket: str, key: str) -> bytes | None:
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None


def _same_encryption(s3: Any, bucket: str, key: str) -> dict[str, str]:
    """The backup is encrypted as the state it copies is (a copy otherwise falls back to the bucket's default)."""
    head = s3.head_object(Bucket=bucket, Key=key)
    if head.get("ServerSideEncryption") == "aws:kms":
        return {"ServerSideEncryption": "aws:kms", **({"SSEKMSKeyId": head["SSEKMSKeyId"]} if head.get("SSEKMSKeyId") else {})}
    return {"ServerSideEncryption": "AES256"}


def _backend_dir(root: Path, name: str, backend: Mapping[str, Any], flags: Sequence[str], env: Mapping[str, str]) -> Path:
    """A folder holding only the backend block (no providers to install), initialised with it."""
    workdir = root / name
    workdir.mkdir(parents=True)
    write_json(workdir / "backend.tf.json", {"terraform": {"backend": {"s3": dict(backend)}}})
    terraform(workdir, "init", "-input=false", *flags, env=env)
    return workdir


def run_push(args: argparse.Namespace) -> int:
    from stacks.config import ConfigError, load_config

    try:
        config = load_config(args.config)
        source: Path = args.source.resolve()
        plan = json.loads((source / PLAN_FILE).read_text()) if (source / PLAN_FILE).exists() else None
        if not plan or not plan.get("proved") or plan.get("environment") != config.environment:
            raise AdoptError(f"{source}: no proved adopt plan of {config.environment!r} ({PLAN_FILE}); run `python -m tools.adopt plan` first")
        flags = _parse_backend_config(args.backend_config)
    except (ConfigError, AdoptError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    bucket, region, table = config.state_bucket, config.effective_state_region, config.state_lock_table
    targets = [(stack, config.state_key(stack.removeprefix(f"{config.environment}-")), source / f"{stack}.tfstate") for stack in plan["stacks"]]
    legacy_key = args.legacy_key
    s3 = _s3(region)
    try:
        # Refuse before anything changes.
        current = {key: _read_object(s3, bucket, key) for _, key, _ in targets}
        legacy_now = _read_object(s3, bucket, legacy_key)
    except Exception as error:  # botocore errors: credentials, endpoint, permissions
        print(f"error: reading s3://{bucket}: {error}", file=sys.stderr)
        return EXIT_REFUSED
    problems = []
    for stack, key, _ in targets:
        body = current[key]
        if body is not None and json.loads(body).get("resources") and not args.force:
            problems.append(f"s3://{bucket}/{key} ({stack}) already holds resources; refusing to overwrite it (--force after review)")
    if legacy_now is None:
        problems.append(f"s3://{bucket}/{legacy_key}: no legacy state there")
    else:
        remote = json.loads(legacy_now)
        if (remote.get("lineage"), remote.get("serial")) != (plan["legacy_lineage"], plan["legacy_serial"]):
            problems.append(
                f"s3://{bucket}/{legacy_key} is lineage {remote.get('lineage')} serial {remote.get('serial')}, not the state the plan read "
                f"({plan['legacy_lineage']} serial {plan['legacy_serial']}): pull it again and rerun adopt plan"
            )
    if problems:
        print("adopt push: REFUSED, nothing changed:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_REFUSED

    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    undo: list[str] = []
    backups = {}
    for key, body in [*((key, current[key]) for _, key, _ in targets), (legacy_key, legacy_now)]:
        if body is None:
            undo.append(f"aws s3 rm s3://{bucket}/{key}")
            undo.append(f"aws dynamodb delete-item --table-name {table} --key '{{\"LockID\":{{\"S\":\"{bucket}/{key}-md5\"}}}}'")
            continue
        backup = f"{key}.backup-{stamp}"
        s3.copy_object(Bucket=bucket, Key=backup, CopySource={"Bucket": bucket, "Key": key}, **_same_encryption(s3, bucket, key))
        backups[key] = backup
        digest = hashlib.md5(body).hexdigest()
        undo.append(f"aws s3 cp s3://{bucket}/{backup} s3://{bucket}/{key}")
        undo.append(f"aws dynamodb put-item --table-name {table} --item '{{\"LockID\":{{\"S\":\"{bucket}/{key}-md5\"}},\"Digest\":{{\"S\":\"{digest}\"}}}}'")
        print(f"backup: s3://{bucket}/{key} -> s3://{bucket}/{backup}")

    work = Path(tempfile.mkdtemp(prefix="adopt-push-"))
    env = {k: v for k, v in os.environ.items() if k != "TF_REATTACH_PROVIDERS"}
    try:
        pushes = [(stack, key, path, config) for stack, key, path in targets] + [("legacy", legacy_key, source / LEGACY_FILE, None)]
        for stack, key, path, _ in pushes:
            backend = {"bucket": bucket, "key": key, "region": region, "encrypt": True}
            if table:
                backend["dynamodb_table"] = table
            workdir = _backend_dir(work, stack, backend, flags, env)
            force = ["-force"] if args.force and stack != "legacy" else []
            terraform(workdir, "state", "push", *force, str(path), env=env)
            print(f"pushed: {path.name} -> s3://{bucket}/{key}")
    except TerraformFailed as error:
        print(f"error: {error}\nadopt push stopped; to undo what was pushed:\n  " + "\n  ".join(undo), file=sys.stderr)
        return EXIT_REFUSED
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\nadopt push: done. To undo it (restores every state object exactly as it was):")
    for line in undo:
        print(f"  {line}")
    return EXIT_OK


# -- the command -----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.adopt", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser("plan", help="match the legacy state to the design, write the states and the migration file, prove them")
    plan.add_argument("--config", type=Path, required=True, help="the environment's config file")
    plan.add_argument("--legacy-state", type=Path, required=True, help="the legacy project's state (terraform state pull > FILE)")
    plan.add_argument("--out", type=Path, required=True, help="folder for the new states (one per stack) and legacy.tfstate")
    plan.add_argument("--retire", action="append", default=[], metavar="ADDRESS", help="a protected legacy resource the design no longer has, reviewed (repeatable)")
    plan.add_argument("--migrations-dir", type=Path, default=PROJECT_DIR / "migrations", help="where <environment>.json is written (default: migrations/)")
    plan.add_argument("--override", type=Path, help="a *_override.tf.json merged into every stack of the proof (e.g. provider endpoints of an emulator)")
    push = commands.add_parser("push", help="write the proved states to their backends, with backups")
    push.add_argument("--config", type=Path, required=True, help="the environment's config file")
    push.add_argument("--from", dest="source", type=Path, required=True, help="the folder adopt plan wrote")
    push.add_argument("--legacy-key", required=True, help="S3 key of the legacy state in the state bucket (the seed's: prod/terraform.tfstate)")
    push.add_argument("--backend-config", action="append", default=[], metavar="KEY=VALUE", help="passed to terraform init (e.g. use_path_style=true)")
    push.add_argument("--force", action="store_true", help="overwrite stack states that already hold resources")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return run_plan(args) if args.command == "plan" else run_push(args)


if __name__ == "__main__":
    sys.exit(main())
