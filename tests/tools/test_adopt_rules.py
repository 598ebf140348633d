"""tools.adopt.rules: what an adopted group or route table already holds is imported, not created again.

``describe`` stands in for ec2:DescribeSecurityGroupRules with the fields AWS
returns for each rule (one rule per peer; ``FromPort``/``ToPort`` -1 for all
protocols). The emulated adoption test runs the same code against the
emulator's EC2 with a team's inline rules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tools.adopt import Design, LegacyInstance, Match
from tools.adopt.design import Resolver
from tools.adopt.rules import existing_routes, existing_rules

GROUP, LINK, OWNER = "sg-0aaa", "sg-0bbb", "123456789012"


def rule(rule_id: str, egress: bool, protocol: str, ports: tuple[int, int], **peer: Any) -> dict[str, Any]:
    return {
        "SecurityGroupRuleId": rule_id,
        "GroupId": GROUP,
        "GroupOwnerId": OWNER,
        "IsEgress": egress,
        "IpProtocol": protocol,
        "FromPort": ports[0],
        "ToPort": ports[1],
        "Tags": [],
        "SecurityGroupRuleArn": f"arn:aws:ec2:us-east-1:{OWNER}:security-group-rule/{rule_id}",
        **peer,
    }


AWS_RULES = [
    rule("sgr-01", False, "tcp", (8080, 8080), ReferencedGroupInfo={"GroupId": LINK, "UserId": OWNER}),
    rule("sgr-02", True, "tcp", (443, 443), CidrIpv4="10.0.0.0/16"),
    rule("sgr-03", True, "-1", (-1, -1), CidrIpv4="0.0.0.0/0"),
]


def design() -> Design:
    rules = {
        "from_link": {"security_group_id": "${aws_security_group.api.id}", "ip_protocol": "tcp", "from_port": 8080, "to_port": 8080, "referenced_security_group_id": "${aws_security_group.link.id}"},
        "https_out": {"security_group_id": "${aws_security_group.api.id}", "ip_protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_ipv4": "10.0.0.0/16"},
        "to_new": {"security_group_id": "${aws_security_group.api.id}", "ip_protocol": "tcp", "from_port": 9000, "to_port": 9000, "referenced_security_group_id": "${aws_security_group.created.id}"},
    }
    network = {
        "terraform": {"backend": {"s3": {"key": "production/network.tfstate"}}},
        "resource": {
            "aws_security_group": {"api": {"name": "api"}, "link": {"name": "link"}, "created": {"name": "created"}},
            "aws_vpc_security_group_ingress_rule": {"from_link": rules["from_link"], "to_new": rules["to_new"]},
            "aws_vpc_security_group_egress_rule": {"https_out": rules["https_out"]},
            "aws_route_table": {"public": {"vpc_id": "vpc-1"}},
            "aws_route": {"default": {"route_table_id": "${aws_route_table.public.id}", "destination_cidr_block": "0.0.0.0/0", "gateway_id": "igw-1"}},
        },
    }
    return Design("production", "us-east-1", ["production-network"], {"production-network": network}, Path("/nonexistent"))


def legacy(address: str, attributes: dict[str, Any]) -> LegacyInstance:
    return LegacyInstance(address, address.split(".")[0], {}, {"attributes": attributes})


def adopted(design: Design) -> tuple[list[Match], Resolver, list]:
    resources = {r.address: r for r in design.resources()}
    matches = [
        Match(legacy("aws_security_group.api", {"id": GROUP}), resources["aws_security_group.api"], {}),
        Match(legacy("aws_security_group.link", {"id": LINK}), resources["aws_security_group.link"], {}),
        Match(legacy("aws_route_table.public", {"id": "rtb-1", "route": [{"cidr_block": "0.0.0.0/0", "gateway_id": "igw-1"}]}), resources["aws_route_table.public"], {}),
    ]
    resolver = Resolver(design, {m.design.key: m.legacy for m in matches}, "123456789012")
    created = [r for r in design.resources() if r.key not in {m.design.key for m in matches}]
    return matches, resolver, created


def test_rules_the_group_already_holds_are_imported_by_id_and_the_rest_listed_with_their_revoke_command() -> None:
    matches, resolver, created = adopted(design())
    asked = []
    imports, loose = existing_rules(matches, created, resolver, lambda group: asked.append(group) or (AWS_RULES if group == GROUP else []))
    assert sorted(asked) == [GROUP, LINK]
    imported = {m.design.address: m.legacy.instance for m in imports}
    assert imported == {
        "aws_vpc_security_group_ingress_rule.from_link": {"schema_version": 0, "attributes": {"id": "sgr-01"}, "sensitive_attributes": []},
        "aws_vpc_security_group_egress_rule.https_out": {"schema_version": 0, "attributes": {"id": "sgr-02"}, "sensitive_attributes": []},
    }
    # The rule to a group the design creates cannot exist yet: created by the apply, never imported.
    assert "aws_vpc_security_group_ingress_rule.to_new" not in imported
    (left,) = loose
    assert (left.rule_id, left.egress) == ("sgr-03", True)
    assert left.revoke == f"aws ec2 revoke-security-group-egress --group-id {GROUP} --security-group-rule-ids sgr-03"


def test_a_legacy_rule_resource_that_held_an_imported_rule_is_named_so_it_leaves_the_legacy_state() -> None:
    matches, resolver, created = adopted(design())
    old_style = legacy(
        "aws_security_group_rule.api_https_out",
        {"id": "sgrule-1", "type": "egress", "protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.0.0.0/16"], "security_group_id": GROUP},
    )
    other = legacy("aws_security_group_rule.elsewhere", {**old_style.attributes, "security_group_id": "sg-other"})
    imports, _ = existing_rules(matches, created, resolver, lambda group: AWS_RULES if group == GROUP else [], [old_style, other])
    held = {m.design.address: m.evidence["legacy"] for m in imports}
    assert held == {"aws_vpc_security_group_egress_rule.https_out": "aws_security_group_rule.api_https_out", "aws_vpc_security_group_ingress_rule.from_link": None}


def test_a_rule_already_managed_by_a_moved_rule_resource_is_neither_imported_nor_loose() -> None:
    matches, resolver, created = adopted(design())
    resources = {r.address: r for r in design().resources()}
    moved_rule = Match(legacy("aws_vpc_security_group_egress_rule.out", {"id": "sgr-02"}), resources["aws_vpc_security_group_egress_rule.https_out"], {})
    created = [r for r in created if r.address != "aws_vpc_security_group_egress_rule.https_out"]
    imports, loose = existing_rules([*matches, moved_rule], created, resolver, lambda group: AWS_RULES if group == GROUP else [])
    assert {m.legacy.attributes["id"] for m in imports} == {"sgr-01"}
    assert [r.rule_id for r in loose] == ["sgr-03"]


def test_a_route_written_inside_an_adopted_route_table_is_imported_by_table_and_destination() -> None:
    matches, resolver, created = adopted(design())
    (route,) = existing_routes(matches, created, resolver)
    assert (route.design.address, route.legacy.attributes) == (
        "aws_route.default",
        # r-<table><CRC-32 of the destination>, as the provider's routeCreateID: 0.0.0.0/0 hashes to 1080289494.
        {"id": "r-rtb-11080289494", "route_table_id": "rtb-1", "destination_cidr_block": "0.0.0.0/0"},
    )
    matches[2].legacy.instance["attributes"]["route"] = []
    assert existing_routes(matches, created, resolver) == []
