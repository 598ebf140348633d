"""The design: the synthesized layer stacks of one environment, and their arguments resolved
through what has matched so far."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from tools.adopt.legacy import LegacyInstance
from tools.adopt.tables import _NAME_OF_ARN, LEGACY_RELEASE_STRATEGY


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
    """main.py's synthesis of the one environment; kept values from ``migrations_dir`` (None: the design alone,
    with the legacy project's release strategy: its API service keeps its controller)."""
    import main
    from stacks import migrations

    override = LEGACY_RELEASE_STRATEGY if migrations_dir is None else None
    with migrations.reading_from(migrations_dir, release_strategy=override):
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

    def target(self, stack: str, expression: str, depth: int = 0) -> tuple[str, str, str] | None:
        """The design resource an expression reads, through lower layers' outputs: (stack, address, attribute path)."""
        if depth > 8:
            return None
        if match := _REMOTE.fullmatch(expression):
            block = self.design.stacks[stack].get("data", {}).get("terraform_remote_state", {}).get(match["name"])
            source = self.design.stack_of_key(block["config"]["key"]) if block else None
            output = self.design.stacks[source].get("output", {}).get(match["output"]) if source else None
            inner = _whole_expression(output["value"]) if output else None
            return self.target(source, inner, depth + 1) if inner else None
        if (match := _REFERENCE.fullmatch(expression)) and (stack, f"{match['type']}.{match['name']}") in self.by_key:
            return stack, f"{match['type']}.{match['name']}", match["path"]
        return None


def _whole_expression(value: Any) -> str | None:
    """``x`` of a string that is exactly ``${x}``."""
    if isinstance(value, str) and (match := _INTERPOLATION.fullmatch(value)):
        return match.group(1).strip()
    return None


_META_ARGUMENTS = {"//", "depends_on", "lifecycle", "provider", "count", "for_each", "tags", "tags_all"}


def reference_slots(args: Mapping[str, Any]) -> Iterator[tuple[str, list[str]]]:
    """(path, [expression, ...]) for every argument that holds references only: a single
    ``${...}`` or a list of them, at any depth (a nested block's path gets ``.0``, which
    ``lookup`` reads on both sides: a block is a list of one in the state)."""

    def walk(value: Any, path: str) -> Iterator[tuple[str, list[str]]]:
        if isinstance(value, dict):
            for key, item in sorted(value.items()):
                if key not in _META_ARGUMENTS:
                    yield from walk(item, f"{path}.0.{key}" if path else key)
        elif isinstance(value, list):
            expressions = [_whole_expression(item) for item in value]
            if value and all(expressions):
                yield path, expressions  # type: ignore[misc]
            elif all(isinstance(item, dict) for item in value):
                for index, item in enumerate(value):
                    for key, inner in sorted(item.items()):
                        yield from walk(inner, f"{path}.{index}.{key}")
        elif expression := _whole_expression(value):
            yield path, [expression]

    yield from walk(dict(args), "")


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

