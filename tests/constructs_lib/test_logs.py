"""constructs_lib/logs.py: log groups and grant_write."""

from __future__ import annotations

import pytest

from constructs_lib.actions import LOGS_WRITE_ACTIONS
from constructs_lib.iam import ServiceRole, ServiceRoleProps
from constructs_lib.logs import LogGroup, LogGroupProps
from tests.support import at, data_sources, resources, synth_construct


@pytest.fixture(scope="module")
def doc():
    def build(stack):
        group = LogGroup(stack, "api-log-group", LogGroupProps(name="/ecs/cot-api"))
        LogGroup(stack, "kept-log-group", LogGroupProps(name="/ecs/cot-kept", retention_days=365, kms_key_arn="arn:aws:kms:us-east-1:1:key/logs"))
        group.grant_write(ServiceRole(stack, "execution", ServiceRoleProps(name="exec", service="ecs-tasks.amazonaws.com")))

    return synth_construct(build)


def test_log_group_has_a_name_and_retention(doc):
    group = at(resources(doc, "aws_cloudwatch_log_group"), "api-log-group")
    assert group == {"name": "/ecs/cot-api", "retention_in_days": 30}
    kept = at(resources(doc, "aws_cloudwatch_log_group"), "kept-log-group")
    assert (kept["retention_in_days"], kept["kms_key_id"]) == (365, "arn:aws:kms:us-east-1:1:key/logs")


def test_grant_write_is_limited_to_the_group_streams(doc):
    (statement,) = at(data_sources(doc, "aws_iam_policy_document"), "execution/api-log-group-write-policy-document")["statement"]
    assert statement["actions"] == list(LOGS_WRITE_ACTIONS) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    (resource,) = statement["resources"]
    assert resource.startswith("${aws_cloudwatch_log_group.api-log-group_") and resource.endswith(".arn}:log-stream:*")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": ""}, "name must be between 1 and 512 characters long, but '' was provided"),
        ({"retention_days": 31}, "retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90"),
    ],
)
def test_props_validation_messages(kwargs, message):
    with pytest.raises(ValueError, match="^LogGroupProps: ") as caught:
        LogGroupProps(**{"name": "/ecs/x", **kwargs})
    assert message in str(caught.value)
