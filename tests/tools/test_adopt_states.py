"""tools.adopt's state handling, on hand-written states (no terraform, no synthesis)."""

from __future__ import annotations

from tools.adopt import (
    AWS_PROVIDER,
    DesignResource,
    LegacyInstance,
    Match,
    identity_key,
    instance_address,
    legacy_getter,
    legacy_remainder,
    lookup,
    new_state,
)

LEGACY = {
    "version": 4,
    "terraform_version": "1.11.4",
    "serial": 7,
    "lineage": "legacy-lineage",
    "outputs": {},
    "resources": [
        {
            "module": "module.vpc",
            "mode": "managed",
            "type": "aws_subnet",
            "name": "private",
            "provider": AWS_PROVIDER,
            "instances": [
                {"index_key": 0, "schema_version": 1, "attributes": {"id": "subnet-a", "vpc_id": "vpc-1", "cidr_block": "10.0.1.0/24"}, "dependencies": ["module.vpc.aws_vpc.this"]},
                {"index_key": 1, "schema_version": 1, "attributes": {"id": "subnet-b", "vpc_id": "vpc-1", "cidr_block": "10.0.2.0/24"}},
            ],
        },
        {"mode": "managed", "type": "aws_dynamodb_table", "name": "tables", "provider": AWS_PROVIDER, "instances": [{"index_key": "jobs", "schema_version": 1, "attributes": {"id": "t"}}]},
    ],
}


def test_addresses_carry_module_and_index_keys() -> None:
    subnets, tables = LEGACY["resources"]
    assert instance_address(subnets, subnets["instances"][0]) == "module.vpc.aws_subnet.private[0]"
    assert instance_address(tables, tables["instances"][0]) == 'aws_dynamodb_table.tables["jobs"]'


def test_the_remainder_keeps_the_lineage_and_drops_moved_instances_only() -> None:
    remainder = legacy_remainder(LEGACY, {"module.vpc.aws_subnet.private[0]", 'aws_dynamodb_table.tables["jobs"]'})
    assert (remainder["lineage"], remainder["serial"]) == ("legacy-lineage", 8)
    assert [(r["type"], [i["index_key"] for i in r["instances"]]) for r in remainder["resources"]] == [("aws_subnet", [1])]
    assert LEGACY["serial"] == 7 and len(LEGACY["resources"][0]["instances"]) == 2  # the input is untouched


def test_a_moved_instance_keeps_its_attributes_under_the_new_address() -> None:
    resource = LEGACY["resources"][0]
    legacy = LegacyInstance("module.vpc.aws_subnet.private[0]", "aws_subnet", resource, resource["instances"][0])
    design = DesignResource("production-network", "aws_subnet", "network_private_0", {})
    state = new_state(LEGACY, [Match(legacy, design, {})])
    assert (state["version"], state["serial"]) == (4, 1) and state["lineage"] != "legacy-lineage"
    (moved,) = state["resources"]
    assert (moved["type"], moved["name"], moved["provider"], "module" in moved) == ("aws_subnet", "network_private_0", AWS_PROVIDER, False)
    (instance,) = moved["instances"]
    assert instance["attributes"] == {"id": "subnet-a", "vpc_id": "vpc-1", "cidr_block": "10.0.1.0/24"}
    assert "index_key" not in instance and "dependencies" not in instance
    assert new_state(LEGACY, [])["lineage"] != state["lineage"]


def test_identity_keys_read_nested_attributes_and_compare_cluster_arns_by_name() -> None:
    assert lookup({"dns_config": [{"namespace_id": "ns-1"}]}, "dns_config.0.namespace_id") == "ns-1"
    assert lookup({"dns_config": {"namespace_id": "ns-1"}}, "dns_config.0.namespace_id") == "ns-1"  # a block cdktf wrote as an object
    service = LegacyInstance("aws_ecs_service.api", "aws_ecs_service", {}, {"attributes": {"cluster": "arn:aws:ecs:us-east-1:1:cluster/c-api", "name": "api-service"}})
    assert identity_key(("cluster", "name"), legacy_getter(service)) == ("c-api", "api-service")
    subnet = LegacyInstance("s", "aws_subnet", {}, {"attributes": {"vpc_id": "v", "availability_zone": "us-east-1a", "tags": {"Name": "x-public-1"}}})
    assert identity_key(("vpc_id", "availability_zone", "~tier"), legacy_getter(subnet)) == ("v", "us-east-1a", "public")
    assert identity_key(("vpc_id", "cidr_block"), legacy_getter(subnet)) is None
