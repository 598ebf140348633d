"""Pairing legacy instances with the design's resources by identity, never by address."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from tools.adopt.design import (
    _UNRESOLVED,
    Design,
    DesignResource,
    Resolver,
    _normalize,
    design_getter,
    identity_key,
    legacy_getter,
    lookup,
    reference_slots,
)
from tools.adopt.legacy import LegacyInstance
from tools.adopt.tables import IDENTITY, PROTECTED_TYPES, REFUSED


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


class _Pairing:
    """The pairs found so far, and the three ways of finding more."""

    def __init__(self, design: Design, legacy: Sequence[LegacyInstance]):
        self.resources = design.resources()
        self.legacy = legacy
        self.pairs: dict[tuple[str, str], LegacyInstance] = {}
        self.evidence: dict[tuple[str, str], dict[str, Any]] = {}
        self.taken: set[str] = set()
        self.resolver = Resolver(design, self.pairs, _account_of(legacy))
        self.types = sorted({r.type for r in self.resources} & {i.type for i in legacy})

    def pair(self, key: tuple[str, str], instance: LegacyInstance, evidence: dict[str, Any]) -> None:
        self.pairs[key] = instance
        self.evidence[key] = evidence
        self.taken.add(instance.address)

    def by_identity(self, strict: bool) -> bool:
        """Strict: each type's first spec; else the weaker ones after it."""
        progress = False
        for type_ in self.types:
            specs = IDENTITY.get(type_, ())
            for spec in specs[:1] if strict else specs[1:]:
                wanted: dict[tuple, list[DesignResource]] = {}
                for resource in self.resources:
                    if resource.type == type_ and resource.key not in self.pairs:
                        key = identity_key(spec, design_getter(self.resolver, resource))
                        if key is not None:
                            wanted.setdefault(key, []).append(resource)
                offered: dict[tuple, list[LegacyInstance]] = {}
                for instance in self.legacy:
                    if instance.type == type_ and instance.address not in self.taken:
                        key = identity_key(spec, legacy_getter(instance))
                        if key is not None:
                            offered.setdefault(key, []).append(instance)
                for key in sorted(set(wanted) & set(offered), key=repr):
                    if len(wanted[key]) == 1 and len(offered[key]) == 1:
                        self.pair(wanted[key][0].key, offered[key][0], dict(zip(spec, key)))
                        progress = True
        return progress

    def by_use(self) -> bool:
        """A matched resource names what it uses: the legacy value it holds where the design
        references another resource pairs that resource with the legacy instance holding the
        value (the security groups of a matched service or endpoint, the registry of a service,
        a task definition's roles, an alias's key, an association's route table). In a list, the
        one reference not yet matched pairs with the one legacy value no matched resource holds."""
        progress = False
        for key in sorted(self.pairs):
            instance = self.pairs[key]
            resource = self.resolver.by_key[key]
            for path, expressions in reference_slots(resource.args):
                held = lookup(instance.attributes, path)
                if held is _UNRESOLVED or held in (None, "", []):
                    continue
                held_values = held if isinstance(held, list) else [held]
                targets = [self.resolver.target(resource.stack, expression) for expression in expressions]
                if not all(targets):
                    continue
                open_targets = [t for t in targets if (t[0], t[1]) not in self.pairs]  # type: ignore[index]
                if len(open_targets) != 1:
                    continue
                target_stack, target_address, attribute = open_targets[0]  # type: ignore[misc]
                claimed = {
                    _normalize(attribute, lookup(self.pairs[(t[0], t[1])].attributes, t[2]))  # type: ignore[index]
                    for t in targets
                    if (t[0], t[1]) in self.pairs  # type: ignore[index]
                }
                free = [v for v in held_values if isinstance(v, (str, int)) and _normalize(attribute, v) not in claimed]
                if len(free) != 1:
                    continue
                target_type = target_address.split(".", 1)[0]
                candidates = [
                    i
                    for i in self.legacy
                    if i.type == target_type
                    and i.address not in self.taken
                    and _normalize(attribute, lookup(i.attributes, attribute)) == _normalize(attribute, free[0])
                ]
                if len(candidates) == 1:
                    self.pair((target_stack, target_address), candidates[0], {f"{path} of {instance.address}": free[0]})
                    progress = True
        return progress


def match(design: Design, legacy: Sequence[LegacyInstance]) -> Matching:
    """Strict identities to a fixpoint first, then use, then the weaker identities; each
    pass that pairs something starts again from the strict identities (a matched parent
    lets its children's identities resolve)."""
    state = _Pairing(design, legacy)
    while state.by_identity(strict=True) or state.by_use() or state.by_identity(strict=False):
        pass
    pairs, resolver = state.pairs, state.resolver
    result = Matching()
    by_key = resolver.by_key
    for key, instance in pairs.items():
        result.matches[key] = Match(instance, by_key[key], state.evidence[key])
    result.unmatched_legacy = [i for i in legacy if i.address not in state.taken]
    result.created = [r for r in state.resources if r.key not in pairs]
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
