"""constructs_lib/tables.py: keys, PITR, KMS, protection, both billing modes, grants."""

from __future__ import annotations

import pytest
from cdktf import TerraformOutput

from constructs_lib.actions import DYNAMODB_READ_DATA_ACTIONS, DYNAMODB_WRITE_DATA_ACTIONS, KMS_DYNAMODB_WRITE_ACTIONS
from constructs_lib.iam import ServiceRole, ServiceRoleProps
from constructs_lib.tables import (
    CONVERSATIONS_PARTITION_KEY,
    CONVERSATIONS_SORT_KEY,
    JOBS_PARTITION_KEY,
    JOBS_TTL_ATTRIBUTE,
    KeyAttribute,
    Table,
    TableProps,
)
from tests.support import at, data_sources, logical_id, ref, resources, synth_construct

KEY = "arn:aws:kms:us-east-1:111122223333:key/tables"


@pytest.fixture(scope="module")
def doc():
    def build(stack):
        conversations = Table(
            stack,
            "conversations",
            TableProps(name="cot-conversations", partition_key=CONVERSATIONS_PARTITION_KEY, sort_key=CONVERSATIONS_SORT_KEY, kms_key_arn=KEY),
        )
        Table(
            stack,
            "jobs",
            TableProps(
                name="cot-jobs",
                partition_key=JOBS_PARTITION_KEY,
                ttl_attribute=JOBS_TTL_ATTRIBUTE,
                billing_mode="PROVISIONED",
                min_read_capacity_units=2,
                max_read_capacity_units=50,
                min_write_capacity_units=3,
                max_write_capacity_units=60,
                target_utilization_percent=65,
                deletion_protection=False,
            ),
        )
        role = ServiceRole(stack, "api", ServiceRoleProps(name="api", service="ecs-tasks.amazonaws.com"))
        conversations.grant_read_write_data(role)
        conversations.grant_read_data(role)

    return synth_construct(build)


def _table_ref(doc, path: str, attribute: str) -> str:
    return ref(doc, "aws_dynamodb_table", logical_id(resources(doc, "aws_dynamodb_table"), path), attribute)


def test_conversations_keys_pitr_kms_and_protection(doc):
    table = at(resources(doc, "aws_dynamodb_table"), "conversations/table")
    assert table["name"] == "cot-conversations"
    assert (table["hash_key"], table["range_key"]) == ("conversation_id", "created_at")
    assert table["attribute"] == [{"name": "conversation_id", "type": "S"}, {"name": "created_at", "type": "S"}]
    assert table["point_in_time_recovery"] == {"enabled": True}
    assert table["server_side_encryption"] == {"enabled": True, "kms_key_arn": KEY}
    assert table["deletion_protection_enabled"] is True


def test_pay_per_request_has_no_capacity_and_no_autoscaling(doc):
    table = at(resources(doc, "aws_dynamodb_table"), "conversations/table")
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert "read_capacity" not in table and "write_capacity" not in table and "lifecycle" not in table
    targets = resources(doc, "aws_appautoscaling_target")
    assert not any(key.startswith("conversations_") for key in targets)


def test_jobs_table_has_its_key_and_ttl(doc):
    table = at(resources(doc, "aws_dynamodb_table"), "jobs/table")
    assert table["hash_key"] == "job_id" and "range_key" not in table
    assert table["attribute"] == [{"name": "job_id", "type": "S"}]
    assert table["ttl"] == {"attribute_name": "expires_at", "enabled": True}
    assert table["deletion_protection_enabled"] is False
    # No key: an AWS owned key.
    assert table["server_side_encryption"] == {"enabled": False}


def test_provisioned_tables_start_at_the_minimum_and_let_autoscaling_own_capacity(doc):
    table = at(resources(doc, "aws_dynamodb_table"), "jobs/table")
    assert table["billing_mode"] == "PROVISIONED"
    assert (table["read_capacity"], table["write_capacity"]) == (2, 3)
    assert table["lifecycle"] == {"ignore_changes": ["read_capacity", "write_capacity"]}


@pytest.mark.parametrize(("kind", "low", "high"), [("read", 2, 50), ("write", 3, 60)])
def test_provisioned_tables_scale_reads_and_writes_by_target_tracking(doc, kind, low, high):
    target = at(resources(doc, "aws_appautoscaling_target"), f"jobs/{kind}-scaling/target")
    assert target["service_namespace"] == "dynamodb"
    assert target["resource_id"] == "table/" + _table_ref(doc, "jobs/table", "name")
    assert target["scalable_dimension"] == f"dynamodb:table:{kind.title()}CapacityUnits"
    assert (target["min_capacity"], target["max_capacity"]) == (low, high)
    policy = at(resources(doc, "aws_appautoscaling_policy"), f"jobs/{kind}-scaling/policy")
    assert policy["name"] == f"cot-jobs-{kind}-capacity"
    assert policy["policy_type"] == "TargetTrackingScaling"
    configuration = policy["target_tracking_scaling_policy_configuration"]
    assert configuration["target_value"] == 65
    assert configuration["predefined_metric_specification"] == {"predefined_metric_type": f"DynamoDB{kind.title()}CapacityUtilization"}


def test_grant_read_write_data_names_the_table_and_its_key(doc):
    items, key = at(data_sources(doc, "aws_iam_policy_document"), "api/conversations-read-write-data-policy-document")["statement"]
    assert items["actions"] == list(DYNAMODB_READ_DATA_ACTIONS + DYNAMODB_WRITE_DATA_ACTIONS)
    assert items["resources"] == [_table_ref(doc, "conversations/table", "arn")]
    assert key["actions"] == list(KMS_DYNAMODB_WRITE_ACTIONS)
    assert key["resources"] == [KEY]
    assert key["condition"][0]["values"][0].startswith("dynamodb.")


def test_grant_read_data_is_read_only(doc):
    items, key = at(data_sources(doc, "aws_iam_policy_document"), "api/conversations-read-data-policy-document")["statement"]
    assert items["actions"] == list(DYNAMODB_READ_DATA_ACTIONS)
    assert not any(action in items["actions"] for action in DYNAMODB_WRITE_DATA_ACTIONS)
    assert key["actions"] == ["kms:Decrypt", "kms:DescribeKey"]


def test_table_defaults_protect_the_data():
    props = TableProps(name="cot-x", partition_key=KeyAttribute("id"))
    assert (props.billing_mode, props.point_in_time_recovery, props.deletion_protection) == ("PAY_PER_REQUEST", True, True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "ab"}, "name must be 3-255 of letters, digits and _ . -, but 'ab' was provided"),
        ({"partition_key": KeyAttribute("id", "X")}, "partition_key.type must be one of S, N, B, but 'X' was provided"),
        ({"sort_key": KeyAttribute("at", "string")}, "sort_key.type must be one of S, N, B, but 'string' was provided"),
        ({"billing_mode": "ON_DEMAND"}, "billing_mode must be one of PAY_PER_REQUEST, PROVISIONED, but 'ON_DEMAND' was provided"),
        ({"billing_mode": "PROVISIONED", "max_read_capacity_units": 40001}, "max_read_capacity_units must be between 1 and 40000, but 40001 was provided"),
        ({"billing_mode": "PROVISIONED", "min_read_capacity_units": 101}, "min_read_capacity_units must be between 1 and 100, but 101 was provided"),
        ({"billing_mode": "PROVISIONED", "min_write_capacity_units": 0}, "min_write_capacity_units must be between 1 and 100, but 0 was provided"),
        ({"billing_mode": "PROVISIONED", "max_write_capacity_units": 0}, "max_write_capacity_units must be between 1 and 40000, but 0 was provided"),
        ({"billing_mode": "PROVISIONED", "target_utilization_percent": 95}, "target_utilization_percent must be between 20 and 90, but 95 was provided"),
    ],
)
def test_props_validation_messages(kwargs, message):
    with pytest.raises(ValueError, match="^TableProps: ") as caught:
        TableProps(**{"name": "cot-x", "partition_key": KeyAttribute("id"), **kwargs})
    assert message in str(caught.value)


def test_capacity_is_not_checked_in_on_demand_mode():
    TableProps(name="cot-x", partition_key=KeyAttribute("id"), min_read_capacity_units=0, target_utilization_percent=5)



def test_metrics_name_the_table():
    helpers = {
        "metric_read_throttle_events": "ReadThrottleEvents",
        "metric_write_throttle_events": "WriteThrottleEvents",
        "metric_consumed_read_capacity_units": "ConsumedReadCapacityUnits",
        "metric_consumed_write_capacity_units": "ConsumedWriteCapacityUnits",
    }

    def build(stack):
        table = Table(stack, "jobs", TableProps(name="cot-jobs", partition_key=JOBS_PARTITION_KEY))
        build.metrics = {helper: getattr(table, helper)() for helper in helpers}
        for helper, metric in build.metrics.items():
            TerraformOutput(stack, helper, value=metric.dimensions["TableName"])

    doc = synth_construct(build)
    for helper, name in helpers.items():
        metric = build.metrics[helper]
        assert (metric.namespace, metric.metric_name, metric.statistic, metric.period_seconds) == ("AWS/DynamoDB", name, "Sum", 300)
        assert list(metric.dimensions) == ["TableName"]
        assert doc["output"][helper]["value"] == _table_ref(doc, "jobs/table", "name")
