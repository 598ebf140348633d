"""The proof: ``terraform plan`` of every stack against its new state, in apply order.

What each plan does to an adopted instance decides: an argument that forces its
replacement keeps the legacy value (any type); a replacement that keeping cannot
prevent is allowed only for a harmless type (``HARMLESS_REPLACEMENTS``) or a
reviewed ``--allow-replace``, and refused otherwise. A value a lower layer only
knows after its apply stands in the layers above as a numbered marker, so the
change it causes there names its source instead of passing for a kept value.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import Any, Mapping, Sequence

from tools.adopt.design import _REFERENCE, Design, _whole_expression
from tools.adopt.legacy import AdoptError, LegacyInstance, cty_type, write_json
from tools.adopt.matching import Match, created_twice
from tools.adopt.tables import (
    HARMLESS_REPLACEMENTS,
    OVERRIDE_FILE,
    PROOF_DIR,
    PROTECTED_TYPES,
    REFUSED,
    UNKNOWN,
    USER_OVERRIDE_FILE,
)
from constructs_lib.data_bearing import DATA_BEARING_TYPES


class TerraformFailed(Exception):
    pass


class PlanConflict(Exception):
    """The plan failed on an adopted resource: the design's arguments conflict with what its state holds
    (a target group's HTTP matcher under the design's TCP health check). Keeping the named
    attributes' legacy values may resolve it; ``keep`` holds them, ``error`` the plan's message."""

    def __init__(self, keep: dict[str, dict[str, Any]], error: str):
        super().__init__(error)
        self.keep, self.error = keep, error


_DIAGNOSTIC_RESOURCE = re.compile(r"^\s*with (aws_[a-z0-9_]+\.[A-Za-z0-9_]+),", re.M)
_DIAGNOSTIC_PATH = re.compile(r'^Path: ([a-z0-9_]+)|"([a-z0-9_]+)(?:\[\d+\])?\.', re.M)


def plan_conflicts(error: str, moved: Mapping[str, Match]) -> list[tuple[str, str]]:
    """(address, top-level attribute) of each plan error naming an adopted resource and an attribute its state holds."""
    found = []
    for diagnostic in error.split("Error: ")[1:]:
        resource, path = _DIAGNOSTIC_RESOURCE.search(diagnostic), _DIAGNOSTIC_PATH.search(diagnostic)
        if resource and path and resource.group(1) in moved:
            attribute = path.group(1) or path.group(2)
            if attribute in moved[resource.group(1)].legacy.attributes:
                found.append((resource.group(1), attribute))
    return found


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


class Unknowns:
    """Markers for values a lower layer knows only after its apply, each naming its source."""

    _MARKER = re.compile(rf"{UNKNOWN}-(\d+)")

    def __init__(self) -> None:
        self.sources: list[Source] = []

    def marker(self, output: str, source: Source) -> str:
        self.sources.append(source)
        text = f"{UNKNOWN}-{len(self.sources) - 1}"
        # Where an ARN is validated as one: a well-formed ARN that names the marker.
        return f"arn:aws:iam::000000000000:role/{text}" if output.endswith("arn") else text

    def sources_in(self, value: Any) -> list[Source]:
        found = sorted({int(n) for n in self._MARKER.findall(json.dumps(value))})
        return [self.sources[n] for n in found if n < len(self.sources)]


@dataclass(frozen=True)
class Source:
    """A resource whose attributes a plan knows only after the apply: created, or replaced."""

    stack: str
    address: str
    action: str

    def __str__(self) -> str:
        return f"{self.stack} {self.address} ({self.action})"


_ADDRESS = re.compile(r"\b(aws_[a-z0-9_]+\.[A-Za-z0-9_]+)\.")


class ProviderSchema:
    """The aws provider's resource schemas (``terraform providers schema -json``), read once per plan."""

    def __init__(self) -> None:
        self._resources: dict[str, Any] | None = None

    def block(self, workdir: Path, env: Mapping[str, str], type_: str) -> dict[str, Any]:
        if self._resources is None:
            shown = json.loads(terraform(workdir, "providers", "schema", "-json", env=env).stdout)
            providers = shown.get("provider_schemas", {})
            self._resources = next((p.get("resource_schemas", {}) for name, p in providers.items() if name.endswith("/aws")), {})
        return (self._resources.get(type_) or {}).get("block", {})


def argument_value(block: Mapping[str, Any], attribute: str, value: Any) -> Any:
    """A legacy attribute value as an argument: nulls and computed-only attributes dropped, by the schema."""
    if attribute in block.get("block_types", {}):
        inner = block["block_types"][attribute]["block"]
        items = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
        return [
            {key: argument_value(inner, key, item) for key, item in sorted(entry.items()) if item is not None and _configurable(inner, key)}
            for entry in items
            if isinstance(entry, dict)
        ]
    return _without_nulls(value)


def _configurable(block: Mapping[str, Any], key: str) -> bool:
    if key in block.get("block_types", {}):
        return True
    spec = block.get("attributes", {}).get(key)
    return bool(spec) and not (spec.get("computed") and not spec.get("optional") and not spec.get("required"))


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _with_unknowns(after: Any, unknown: Any, marker: str) -> Any:
    """A planned value with every unknown part (``after_unknown``) replaced by ``marker``."""
    if unknown is True:
        return marker
    if isinstance(unknown, list) and isinstance(after, (list, type(None))):
        return [_with_unknowns(a, u, marker) for a, u in zip_longest(after or [], unknown)]
    if isinstance(unknown, dict) and isinstance(after, (dict, type(None))):
        after = after or {}
        return {k: _with_unknowns(after.get(k), unknown.get(k), marker) for k in sorted(set(after) | set(unknown))}
    return after


def _has_unknown(unknown: Any) -> bool:
    return unknown is True or (isinstance(unknown, list) and any(map(_has_unknown, unknown))) or (
        isinstance(unknown, dict) and any(map(_has_unknown, unknown.values()))
    )


@dataclass
class Replacement:
    """A replacement of an adopted instance the plan keeps: harmless by type, or reviewed."""

    stack: str
    address: str
    legacy: str
    attributes: list[str]
    reason: str


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
    allowed: list[Replacement] = field(default_factory=list)
    cascades: list[str] = field(default_factory=list)  # "address: attribute <- source", for review
    outputs: dict[str, Any] = field(default_factory=dict)


@dataclass
class ProofContext:
    """What every stack's proof shares: the adopted instances, the reviewed replacements, the markers."""

    legacy: Sequence[LegacyInstance]
    allow_replace: set[str]
    allow_used: set[str] = field(default_factory=set)
    user_override: dict[str, Any] | None = None
    unknowns: Unknowns = field(default_factory=Unknowns)
    schema: ProviderSchema = field(default_factory=ProviderSchema)
    lower_outputs: dict[str, Path] = field(default_factory=dict)


def prove_stack(design: Design, stack: str, out: Path, moved: Mapping[str, Match], context: ProofContext) -> StackProof:
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
        if source is None or source not in context.lower_outputs:
            raise AdoptError(f"{stack}: reads {block['config']['key']}, which no lower layer of the proof wrote")
        remote[name] = {"backend": "local", "config": {"path": str(context.lower_outputs[source])}}
    if remote:
        override["data"] = {"terraform_remote_state": remote}
    if lifted := unprotect(config):
        override["resource"] = lifted
    write_json(workdir / OVERRIDE_FILE, override)
    if context.user_override:
        write_json(workdir / USER_OVERRIDE_FILE, context.user_override)
    env = _stack_env(config)
    terraform(workdir, "init", "-input=false", env=env)
    try:
        terraform(workdir, "plan", "-input=false", "-lock=false", "-out=tfplan", env=env)
    except TerraformFailed as error:
        conflicts = plan_conflicts(str(error), moved)
        if not conflicts:
            raise
        keep: dict[str, dict[str, Any]] = {}
        for address, attribute in conflicts:
            block = context.schema.block(workdir, env, moved[address].design.type)
            keep.setdefault(address, {})[attribute] = argument_value(block, attribute, moved[address].legacy.attributes[attribute])
        raise PlanConflict(keep, str(error)) from None
    shown = terraform(workdir, "show", "-json", "tfplan", env=env).stdout
    (out / PROOF_DIR / f"{stack}.plan.json").write_text(shown)  # for review: what the proof read
    plan = json.loads(shown)
    changes = [c for c in plan.get("resource_changes") or () if c.get("mode") == "managed"]
    actions_by_address = {c["address"]: _ACTION_NAMES.get(tuple(c["change"]["actions"]), "unchanged") for c in changes}
    for change in changes:
        address, type_ = change["address"], change["type"]
        actions = tuple(change["change"]["actions"])
        details = change["change"]
        before, after = details.get("before") or {}, details.get("after") or {}
        unknown = details.get("after_unknown") or {}
        if actions == ("update",):
            changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k) or unknown.get(k) is True)
            proof.updates.append(f"{address}: {', '.join(changed)}")
            proof.cascades += [f"{address}: {k} <- {s}" for k in changed for s in context.unknowns.sources_in(after.get(k))]
        elif actions == ("create",):
            proof.creates.append(address)
            if type_ in PROTECTED_TYPES:
                proof.violations += created_twice(stack, address, type_, after, context.legacy)
        elif actions in (("delete", "create"), ("create", "delete")):
            arguments = config.get("resource", {}).get(type_, {}).get(change["name"], {})
            sources = {
                attribute: [*context.unknowns.sources_in(after.get(attribute)), *_same_layer_sources(stack, arguments.get(attribute), actions_by_address)]
                for attribute in sorted(set(after) | set(unknown))
            }
            _replacement(proof, workdir, env, context, moved.get(address), address, type_, details, sources)
        elif actions == ("delete",):
            proof.deletes.append(address)
            if type_ in PROTECTED_TYPES:
                proof.violations.append(f"{stack} {address} would be DESTROYED")
    proof.outputs = _outputs(stack, config, plan, actions_by_address, context.unknowns)
    return proof


_ACTION_NAMES = {("create",): "created", ("update",): "updated in place", ("delete", "create"): "replaced", ("create", "delete"): "replaced", ("delete",): "destroyed"}


def _same_layer_sources(stack: str, argument: Any, actions: Mapping[str, str]) -> list[Source]:
    """The resources of this layer that an argument references and the same apply creates or replaces."""
    addresses = sorted(set(_ADDRESS.findall(json.dumps(argument)))) if argument is not None else []
    return [Source(stack, a, actions[a]) for a in addresses if actions.get(a) in ("created", "replaced")]


def _replacement(
    proof: StackProof,
    workdir: Path,
    env: Mapping[str, str],
    context: ProofContext,
    found: Match | None,
    address: str,
    type_: str,
    details: Mapping[str, Any],
    sources_of: Mapping[str, list[Source]],
) -> None:
    stack = proof.stack
    attributes = sorted({str(path[0]) for path in details.get("replace_paths") or ()})
    proof.replaces.append(f"{address} (forced by {', '.join(attributes) or '?'})")
    if found is None:  # the proof's states hold adopted instances only
        proof.violations.append(f"{stack} {address} would be REPLACED (forced by {', '.join(attributes) or '?'}), and it is no adopted instance")
        return
    blocked: list[str] = []
    refused = False
    reviewed = f"{stack}:{address}"
    # A reviewed --allow-replace takes the design's value instead of keeping the legacy one (never for data).
    accepted = reviewed in context.allow_replace and type_ not in DATA_BEARING_TYPES
    for attribute in attributes:
        sources = sources_of.get(attribute, [])
        if sources:
            proof.cascades.append(f"{address}: {attribute} <- {', '.join(map(str, sources))}")
        replaced = [s for s in sources if s.action == "replaced"]
        if attribute in REFUSED.get(type_, {}):
            proof.refused.append(f"REFUSED {found.legacy.address} -> {stack} {address}: {attribute} differs; {REFUSED[type_][attribute]}")
            refused = True
        elif type_ in HARMLESS_REPLACEMENTS or accepted:
            continue  # the design's value, whatever it comes from: the replacement harms nothing, or was reviewed
        elif replaced:
            blocked.append(
                f"{attribute}, whose new value comes from {', '.join(map(str, replaced))}, known only after that apply (keeping the old "
                "value would point at what that apply replaces; keeping would need that resource kept first)"
            )
        elif attribute in found.legacy.attributes:
            block = context.schema.block(workdir, env, type_)
            proof.keep.setdefault(address, {})[attribute] = argument_value(block, attribute, found.legacy.attributes[attribute])
        else:
            blocked.append(f"{attribute}, which the legacy state does not hold (keeping would need its value: pull a current legacy state and plan again)")
    if refused or (address in proof.keep and not blocked):
        return  # refused with its reason; or kept: the next attempt plans without this replacement
    if type_ in HARMLESS_REPLACEMENTS:
        proof.allowed.append(Replacement(stack, address, found.legacy.address, attributes, HARMLESS_REPLACEMENTS[type_]))
    elif accepted:
        proof.allowed.append(Replacement(stack, address, found.legacy.address, attributes, f"--allow-replace {reviewed}, reviewed"))
        context.allow_used.add(reviewed)
    else:
        why = "; ".join(blocked) or f"{', '.join(attributes)}, kept and still replaced"
        data = (
            f"; {type_} holds data, so --allow-replace is refused for it"
            if type_ in DATA_BEARING_TYPES
            else f"; or, after review, --allow-replace {reviewed}"
        )
        proof.violations.append(f"{stack} {address} (legacy {found.legacy.address}) would be REPLACED, forced by {why}{data}")


def _outputs(stack: str, config: Mapping[str, Any], plan: Mapping[str, Any], actions: Mapping[str, str], unknowns: Unknowns) -> dict[str, Any]:
    """The stack's outputs as the layers above will read them: known values as planned, unknown parts as markers."""
    outputs = {}
    changes = plan.get("output_changes") or {}
    planned = (plan.get("planned_values") or {}).get("outputs", {})
    for name, block in sorted(config.get("output", {}).items()):
        change = changes.get(name) or {}
        if _has_unknown(change.get("after_unknown")):
            reference = _REFERENCE.fullmatch(_whole_expression(block.get("value")) or "")
            resource = f"{reference['type']}.{reference['name']}" if reference else name
            source = Source(stack, resource, actions.get(resource, "changed"))
            value = _with_unknowns(change.get("after"), change["after_unknown"], unknowns.marker(name, source))
        elif "value" in planned.get(name, {}):
            value = planned[name]["value"]
        else:
            value = change.get("after")
        outputs[name] = {"value": value, "type": cty_type(value)}
    return outputs
