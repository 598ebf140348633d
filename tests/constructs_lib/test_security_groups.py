"""constructs_lib/security_groups.py: closed groups, one rule per allowed path."""

from __future__ import annotations

import pytest

from constructs_lib.security_groups import AppSecurityGroup, AppSecurityGroupProps, HttpsEgress
from tests.support import at, logical_id, ref, resources, synth_construct


@pytest.fixture(scope="module")
def doc():
    def build(stack):
        groups = {
            name: AppSecurityGroup(stack, name, AppSecurityGroupProps(name=f"cot-{name}", vpc_id="vpc-1", description=f"{name} group"))
            for name in ("link", "api", "worker", "natted")
        }
        groups["link"].connect(groups["api"], 8080, "VPC link to API")
        endpoints = HttpsEgress(security_group_ids=("sg-endpoints",), prefix_list_ids=("pl-s3", "pl-ddb"))
        groups["api"].allow_https_egress(endpoints)
        groups["worker"].allow_https_egress(endpoints)
        groups["natted"].allow_https_egress(HttpsEgress(internet=True))

    return synth_construct(build)


def _group_ref(doc, name: str) -> str:
    return ref(doc, "aws_security_group", logical_id(resources(doc, "aws_security_group"), f"{name}/security-group"), "id")


def _rules(doc, kind: str, group: str) -> list[dict]:
    return [rule for rule in resources(doc, f"aws_vpc_security_group_{kind}_rule").values() if rule["security_group_id"] == _group_ref(doc, group)]


def test_group_has_no_inline_rules(doc):
    group = at(resources(doc, "aws_security_group"), "api/security-group")
    assert group == {"name": "cot-api", "description": "api group", "vpc_id": "vpc-1", "tags": {"Name": "cot-api"}}


def test_connect_allows_exactly_one_port_between_the_two_groups(doc):
    (egress,) = [rule for rule in _rules(doc, "egress", "link")]
    assert egress == {
        "security_group_id": _group_ref(doc, "link"),
        "referenced_security_group_id": _group_ref(doc, "api"),
        "ip_protocol": "tcp", "from_port": 8080, "to_port": 8080, "description": "VPC link to API",
    }  # fmt: skip
    (ingress,) = _rules(doc, "ingress", "api")
    assert ingress["referenced_security_group_id"] == _group_ref(doc, "link")
    assert (ingress["ip_protocol"], ingress["from_port"], ingress["to_port"]) == ("tcp", 8080, 8080)


def test_groups_without_connect_accept_nothing(doc):
    assert _rules(doc, "ingress", "worker") == [] and _rules(doc, "ingress", "link") == []


def test_https_egress_goes_only_to_the_endpoints_and_prefix_lists(doc):
    rules = _rules(doc, "egress", "worker")
    assert all((r["ip_protocol"], r["from_port"], r["to_port"]) == ("tcp", 443, 443) for r in rules)
    destinations = sorted(r.get("referenced_security_group_id") or r.get("prefix_list_id") or r.get("cidr_ipv4") for r in rules)
    assert destinations == ["pl-ddb", "pl-s3", "sg-endpoints"]


def test_https_egress_to_the_internet_only_when_asked(doc):
    (rule,) = _rules(doc, "egress", "natted")
    assert (rule["cidr_ipv4"], rule["from_port"], rule["to_port"]) == ("0.0.0.0/0", 443, 443)
    assert not any("cidr_ipv4" in rule for rule in _rules(doc, "egress", "api"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "sg-x"}, "name must be 1-255 characters, not starting with 'sg-', but 'sg-x' was provided"),
        ({"name": ""}, "name must be 1-255 characters, not starting with 'sg-', but '' was provided"),
        ({"description": ""}, "description must say why the group exists, but an empty one was provided"),
    ],
)
def test_props_validation_messages(kwargs, message):
    with pytest.raises(ValueError, match="^AppSecurityGroupProps: ") as caught:
        AppSecurityGroupProps(**{"name": "x", "vpc_id": "v", "description": "d", **kwargs})
    assert message in str(caught.value)


def test_https_egress_needs_a_destination():
    with pytest.raises(ValueError, match="HttpsEgress: give at least one destination, but none was provided"):
        HttpsEgress()


def test_connect_checks_the_port():
    def build(stack):
        a = AppSecurityGroup(stack, "a", AppSecurityGroupProps(name="a", vpc_id="v", description="d"))
        b = AppSecurityGroup(stack, "b", AppSecurityGroupProps(name="b", vpc_id="v", description="d"))
        a.connect(b, 0, "bad")

    with pytest.raises(ValueError, match=r"a.connect: port must be between 1 and 65535, but 0 was provided"):
        synth_construct(build)
