"""constructs_lib/encryption.py: keys, key policies, the KMS side of grants."""

from __future__ import annotations

import pytest

from constructs_lib.actions import KMS_KEY_ACCOUNT_ACTIONS
from constructs_lib.encryption import EncryptionKey, EncryptionKeyProps, KeyServicePrincipal, key_statements
from constructs_lib.iam import Condition
from tests.support import at, data_sources, ref, resources, synth_construct, logical_id

LOGS = KeyServicePrincipal(
    service="logs.us-east-1.amazonaws.com",
    actions=("kms:Decrypt", "kms:GenerateDataKey"),
    conditions=(Condition("ArnLike", "kms:EncryptionContext:aws:logs:arn", ("arn:aws:logs:us-east-1:111122223333:log-group:*",)),),
)


# cdktf drops a path part that its parent's name ends with: "queue-key/key"
# is the logical ID "queue-key_<hash>", so tests look keys up by "queue-key".


@pytest.fixture(scope="module")
def doc():
    def build(stack):
        EncryptionKey(stack, "queue-key", EncryptionKeyProps(name_prefix="cot", purpose="queue"))
        EncryptionKey(
            stack,
            "logs-key",
            EncryptionKeyProps(name_prefix="cot", purpose="logs", service_principals=(LOGS,), deletion_window_days=7, rotation_period_days=90),
        )

    return synth_construct(build)


def test_key_is_rotated_and_deletion_waits_the_longest_window_by_default(doc):
    key = at(resources(doc, "aws_kms_key"), "queue-key")
    assert key["enable_key_rotation"] is True
    assert key["rotation_period_in_days"] == 365
    assert key["deletion_window_in_days"] == 30
    assert key["description"] == "alias/cot-queue: encrypts queue data"
    custom = at(resources(doc, "aws_kms_key"), "logs-key")
    assert (custom["deletion_window_in_days"], custom["rotation_period_in_days"]) == (7, 90)


def test_alias_is_prefix_and_purpose(doc):
    alias = at(resources(doc, "aws_kms_alias"), "queue-key/alias")
    assert alias["name"] == "alias/cot-queue"
    assert alias["target_key_id"] == ref(doc, "aws_kms_key", logical_id(resources(doc, "aws_kms_key"), "queue-key"), "key_id")


def test_key_policy_is_the_typed_document(doc):
    documents = data_sources(doc, "aws_iam_policy_document")
    key = at(resources(doc, "aws_kms_key"), "queue-key")
    assert key["policy"] == "${data.aws_iam_policy_document." + logical_id(documents, "queue-key/key-policy") + ".json}"


def test_account_root_administers_the_key_with_explicit_actions(doc):
    (statement,) = at(data_sources(doc, "aws_iam_policy_document"), "queue-key/key-policy")["statement"]
    assert statement["principals"] == [
        {
            "type": "AWS",
            "identifiers": [
                "arn:${data.aws_partition.aws_context_partition_70275C44.partition}:iam::"
                "${data.aws_caller_identity.aws_context_caller_EAFF1965.account_id}:root"
            ],
        }
    ]
    assert statement["actions"] == list(KMS_KEY_ACCOUNT_ACTIONS)
    assert not any("*" in action for action in statement["actions"])
    # Without PutKeyPolicy nobody could ever change the policy again.
    assert {"kms:PutKeyPolicy", "kms:Decrypt", "kms:ScheduleKeyDeletion"} <= set(statement["actions"])
    assert statement["resources"] == ["*"]  # in a key policy: this key


def test_service_principals_get_their_actions_and_conditions(doc):
    statements = at(data_sources(doc, "aws_iam_policy_document"), "logs-key/key-policy")["statement"]
    assert len(statements) == 2
    service = statements[1]
    assert service["sid"] == "ServiceLogs"
    assert service["principals"] == [{"type": "Service", "identifiers": ["logs.us-east-1.amazonaws.com"]}]
    assert service["actions"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert service["condition"] == [
        {"test": "ArnLike", "variable": "kms:EncryptionContext:aws:logs:arn", "values": ["arn:aws:logs:us-east-1:111122223333:log-group:*"]}
    ]


def test_grant_statements_limit_the_key_to_one_service_in_this_region(doc):
    def build(stack):
        build.result = key_statements(stack, "arn:aws:kms:us-east-1:1:key/k", ("kms:Decrypt",), via_service="sqs", sid="Decrypt")
        build.none = key_statements(stack, None, ("kms:Decrypt",), via_service="sqs", sid="Decrypt")

    synth_construct(build)
    (statement,) = build.result
    assert statement.resources == ("arn:aws:kms:us-east-1:1:key/k",)
    assert statement.actions == ("kms:Decrypt",)
    (condition,) = statement.conditions
    assert (condition.test, condition.variable) == ("StringEquals", "kms:ViaService")
    assert condition.values[0].startswith("sqs.")
    assert build.none == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"purpose": "Queue"}, "purpose must be 1-32 lower-case letters, digits and '-', starting with a letter, but 'Queue' was provided"),
        ({"purpose": "x" * 33}, "purpose must be 1-32 lower-case letters"),
        ({"deletion_window_days": 6}, "deletion_window_days must be between 7 and 30, but 6 was provided"),
        ({"deletion_window_days": 31}, "deletion_window_days must be between 7 and 30, but 31 was provided"),
        ({"rotation_period_days": 89}, "rotation_period_days must be between 90 and 2560, but 89 was provided"),
        ({"rotation_period_days": 2561}, "rotation_period_days must be between 90 and 2560, but 2561 was provided"),
        (
            {"service_principals": (KeyServicePrincipal(service="logs.amazonaws.com", actions=("kms:*",)),)},
            "service_principals: logs.amazonaws.com must list its actions without wildcards, but ('kms:*',) was provided",
        ),
        (
            {"service_principals": (KeyServicePrincipal(service="logs.amazonaws.com", actions=()),)},
            "service_principals: logs.amazonaws.com must list its actions without wildcards, but () was provided",
        ),
    ],
)
def test_props_validation_messages(kwargs, message):
    with pytest.raises(ValueError, match="^EncryptionKeyProps: ") as caught:
        EncryptionKeyProps(**{"name_prefix": "cot", "purpose": "queue", **kwargs})
    assert message in str(caught.value)


def test_props_report_every_problem_at_once():
    with pytest.raises(ValueError) as caught:
        EncryptionKeyProps(name_prefix="cot", purpose="-", deletion_window_days=1, rotation_period_days=1)
    assert str(caught.value).count(" was provided") == 3
