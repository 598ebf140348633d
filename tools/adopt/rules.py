"""Security group rules and routes that already exist on an adopted group or route table, whoever wrote them.

A team's groups carry their rules inline (``ingress``/``egress`` blocks) or as
``aws_security_group_rule`` resources; the design writes one
``aws_vpc_security_group_*_rule`` per rule. Creating a rule the group already
has fails on AWS (``InvalidPermission.Duplicate``), halfway through the
network layer, and revoking it first would cut the traffic of running tasks.
So a design rule that AWS already holds on an adopted group is imported: its
rule ID (``DescribeSecurityGroupRules``) goes into the new state, and the
proof's refresh reads the rest. Rules the design does not have stay in place,
listed with the command that revokes each once reviewed. A legacy rule
resource of another type (``aws_security_group_rule``) that held an imported
rule leaves the legacy state with it. Routes written inside a legacy
``aws_route_table`` (its ``route`` blocks) are imported the same way into the
design's ``aws_route`` (by table and destination): creating them again
fails with ``RouteAlreadyExists``.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

from tools.adopt.design import _UNRESOLVED, DesignResource, Resolver
from tools.adopt.legacy import LegacyInstance
from tools.adopt.matching import Match

# type -> egress?
RULE_TYPES = {"aws_vpc_security_group_ingress_rule": False, "aws_vpc_security_group_egress_rule": True}
_PEERS = (("cidr_ipv4", "CidrIpv4"), ("cidr_ipv6", "CidrIpv6"), ("prefix_list_id", "PrefixListId"), ("referenced_security_group_id", None))
# The schema version of aws_vpc_security_group_*_rule and aws_route in hashicorp/aws 5.100.0 (terraform providers schema -json).
_SCHEMA_VERSION = 0


@dataclass
class ExistingRule:
    """A rule AWS holds on an adopted group that no moved resource manages."""

    group_id: str
    group: str  # the legacy group's address
    rule_id: str
    egress: bool
    text: str

    @property
    def revoke(self) -> str:
        direction = "egress" if self.egress else "ingress"
        return f"aws ec2 revoke-security-group-{direction} --group-id {self.group_id} --security-group-rule-ids {self.rule_id}"


def _aws_key(rule: Mapping[str, Any]) -> tuple:
    peer = next(
        (f"{name}={rule[field]}" for name, field in _PEERS if field and rule.get(field)),
        f"referenced_security_group_id={(rule.get('ReferencedGroupInfo') or {}).get('GroupId')}",
    )
    protocol = str(rule.get("IpProtocol"))
    ports = (-1, -1) if protocol == "-1" else (int(rule.get("FromPort", -1)), int(rule.get("ToPort", -1)))
    return (bool(rule.get("IsEgress")), protocol, *ports, peer)


def _design_key(resolver: Resolver, resource: DesignResource) -> tuple | None:
    get = lambda path: resolver.argument(resource, path)  # noqa: E731
    protocol = get("ip_protocol")
    if protocol is _UNRESOLVED:
        return None
    protocol = {"all": "-1", "6": "tcp", "17": "udp", "1": "icmp"}.get(str(protocol).lower(), str(protocol).lower())
    peer = None
    for name, _ in _PEERS:
        value = get(name)
        if value is _UNRESOLVED:
            if name in resource.args:
                return None  # a peer not known before the apply (a group the design creates): AWS cannot hold this rule yet
            continue
        if value:
            peer = f"{name}={value}"
            break
    if peer is None:
        return None
    ports = (-1, -1) if protocol == "-1" else (get("from_port"), get("to_port"))
    if any(p is _UNRESOLVED or p is None for p in ports):
        return None
    return (RULE_TYPES[resource.type], protocol, int(ports[0]), int(ports[1]), peer)


def _imported(id_: str, type_: str, address: str, **identity: str) -> LegacyInstance:
    """An instance holding only what ``terraform import`` would start it with: the proof's refresh reads the rest."""
    attributes = {"id": id_, **identity}
    return LegacyInstance(address, type_, {}, {"schema_version": _SCHEMA_VERSION, "attributes": attributes, "sensitive_attributes": []})


def route_id(table_id: str, destination: str) -> str:
    """The ID the provider gives a route (``routeCreateID``: the table and the destination's CRC-32)."""
    return f"r-{table_id}{zlib.crc32(destination.encode())}"


def _legacy_rule_keys(instance: LegacyInstance) -> set[tuple]:
    """The AWS rules an ``aws_security_group_rule`` holds (one per CIDR or peer), keyed as ``_aws_key``."""
    a = instance.attributes
    if instance.type != "aws_security_group_rule":
        return set()
    protocol = {"all": "-1", "6": "tcp", "17": "udp", "1": "icmp"}.get(str(a.get("protocol")).lower(), str(a.get("protocol")).lower())
    ports = (-1, -1) if protocol == "-1" else (int(a.get("from_port", -1)), int(a.get("to_port", -1)))
    peers = [f"cidr_ipv4={c}" for c in a.get("cidr_blocks") or ()] + [f"cidr_ipv6={c}" for c in a.get("ipv6_cidr_blocks") or ()]
    peers += [f"prefix_list_id={p}" for p in a.get("prefix_list_ids") or ()]
    if a.get("source_security_group_id"):
        peers.append(f"referenced_security_group_id={a['source_security_group_id']}")
    if a.get("self"):
        peers.append(f"referenced_security_group_id={a.get('security_group_id')}")
    return {(a.get("type") == "egress", protocol, *ports, peer) for peer in peers}


def existing_routes(matches: Iterable[Match], created: Sequence[DesignResource], resolver: Resolver) -> list[Match]:
    """Design routes that an adopted route table already holds in its ``route`` blocks."""
    tables = {m.legacy.attributes.get("id"): m.legacy for m in matches if m.design.type == "aws_route_table"}
    imports = []
    for resource in created:
        if resource.type != "aws_route":
            continue
        table_id, destination = resolver.argument(resource, "route_table_id"), resolver.argument(resource, "destination_cidr_block")
        table = tables.get(table_id) if isinstance(table_id, str) else None
        if table is None or not isinstance(destination, str):
            continue
        if any(route.get("cidr_block") == destination for route in table.attributes.get("route") or ()):
            evidence = {"route of": table.address, "destination_cidr_block": destination}
            # The provider reads a route by its table and destination, as its importer sets them from "<table>_<destination>".
            instance = _imported(route_id(table_id, destination), "aws_route", f"{table.address} route {destination}", route_table_id=table_id, destination_cidr_block=destination)
            imports.append(Match(instance, resource, evidence))
    return imports


def existing_rules(
    matches: Iterable[Match],
    created: Sequence[DesignResource],
    resolver: Resolver,
    describe: Callable[[str], list[dict[str, Any]]],
    legacy_rules: Sequence[LegacyInstance] = (),
) -> tuple[list[Match], list[ExistingRule]]:
    """(imports: design rules AWS already holds, as matches of an instance holding only the rule ID;
    the adopted groups' other rules). ``describe(group_id)`` lists a group's rules (DescribeSecurityGroupRules);
    ``legacy_rules``: the legacy state's unmatched instances, whose ``aws_security_group_rule`` an import may take over."""
    matches = list(matches)
    groups = {m.legacy.attributes.get("id"): m.legacy.address for m in matches if m.design.type == "aws_security_group"}
    groups.pop(None, None)
    wanted = [r for r in created if r.type in RULE_TYPES]
    if not groups:
        return [], []
    managed = {m.legacy.attributes.get("id") for m in matches if m.design.type in RULE_TYPES}
    by_group = {group_id: [rule for rule in describe(group_id) if rule.get("SecurityGroupRuleId") not in managed] for group_id in sorted(groups)}
    imports: list[Match] = []
    claimed: set[str] = set()
    for resource in wanted:
        group_id = resolver.argument(resource, "security_group_id")
        key = _design_key(resolver, resource)
        if group_id not in by_group or key is None:
            continue
        same = [rule for rule in by_group[group_id] if _aws_key(rule) == key and rule["SecurityGroupRuleId"] not in claimed]
        if len(same) != 1:
            continue
        rule_id = same[0]["SecurityGroupRuleId"]
        claimed.add(rule_id)
        held_by = [i.address for i in legacy_rules if _legacy_rule_keys(i) and key in _legacy_rule_keys(i) and i.attributes.get("security_group_id") == group_id]
        evidence = {"rule of": groups[group_id], "security_group_rule_id": rule_id, "key": " ".join(map(str, key)), "legacy": held_by[0] if len(held_by) == 1 else None}
        imports.append(Match(_imported(rule_id, resource.type, f"{groups[group_id]} rule {rule_id}"), resource, evidence))
    loose = [
        ExistingRule(group_id, groups[group_id], rule["SecurityGroupRuleId"], bool(rule.get("IsEgress")), _describe(_aws_key(rule)))
        for group_id, rules in by_group.items()
        for rule in rules
        if rule["SecurityGroupRuleId"] not in claimed
    ]
    return imports, loose


def _describe(key: tuple) -> str:
    egress, protocol, low, high, peer = key
    ports = "all ports" if protocol == "-1" else f"port {low}" if low == high else f"ports {low}-{high}"
    return f"{'egress to' if egress else 'ingress from'} {peer}, {'all traffic' if protocol == '-1' else protocol} {ports}"


def describe_with(ec2: Any) -> Callable[[str], list[dict[str, Any]]]:
    """``describe(group_id)`` over an EC2 client, every page."""

    def describe(group_id: str) -> list[dict[str, Any]]:
        rules: list[dict[str, Any]] = []
        for page in ec2.get_paginator("describe_security_group_rules").paginate(Filters=[{"Name": "group-id", "Values": [group_id]}]):
            rules += page.get("SecurityGroupRules", [])
        return sorted(rules, key=lambda rule: rule["SecurityGroupRuleId"])

    return describe
