"""constructs_lib/secrets.py: secrets without values, and grant_read."""

from __future__ import annotations

import pytest

from constructs_lib.actions import SECRETS_READ_ACTIONS
from constructs_lib.iam import ServiceRole, ServiceRoleProps
from constructs_lib.policy import checkov_skips
from constructs_lib.secrets import Secret, SecretProps
from tests.support import at, data_sources, logical_id, ref, resources, synth_construct

KEY = "arn:aws:kms:us-east-1:111122223333:key/secrets"
ROTATOR = "arn:aws:lambda:us-east-1:111122223333:function:rotate"
MANUAL = "Third-party credentials issued out of band; operators rotate them"


skips: dict[str, dict[str, str]] = {}


@pytest.fixture(scope="module")
def doc():
    def build(stack):
        secret = Secret(
            stack, "app-secret", SecretProps(name="cot/app", description="app credentials", kms_key_arn=KEY, manual_rotation_reason=MANUAL)
        )
        plain = Secret(stack, "plain-secret", SecretProps(name="cot/plain", recovery_window_days=0, rotation_lambda_arn=ROTATOR, rotation_days=7))
        skips["app"] = checkov_skips(secret.secret)
        skips["plain"] = checkov_skips(plain.secret)
        role = ServiceRole(stack, "execution", ServiceRoleProps(name="exec", service="ecs-tasks.amazonaws.com"))
        secret.grant_read(role)
        plain.grant_read(role)

    return synth_construct(build)


def test_secret_is_encrypted_with_the_key_and_recoverable_for_30_days(doc):
    secret = at(resources(doc, "aws_secretsmanager_secret"), "app-secret")
    assert secret == {"name": "cot/app", "description": "app credentials", "kms_key_id": KEY, "recovery_window_in_days": 30}  # and no value
    assert at(resources(doc, "aws_secretsmanager_secret"), "plain-secret")["recovery_window_in_days"] == 0


def test_terraform_never_holds_a_value(doc):
    assert resources(doc, "aws_secretsmanager_secret_version") == {}
    assert "secret_string" not in str(doc)


def test_grant_read_names_the_secret_and_decrypts_through_secrets_manager_only(doc):
    secret_id = logical_id(resources(doc, "aws_secretsmanager_secret"), "app-secret")
    read, decrypt = at(data_sources(doc, "aws_iam_policy_document"), "execution/app-secret-read-policy-document")["statement"]
    assert read["actions"] == list(SECRETS_READ_ACTIONS)
    assert read["resources"] == [ref(doc, "aws_secretsmanager_secret", secret_id, "arn")]
    assert decrypt["actions"] == ["kms:Decrypt"]
    assert decrypt["resources"] == [KEY]
    (condition,) = decrypt["condition"]
    assert condition["variable"] == "kms:ViaService"
    assert condition["values"][0].startswith("secretsmanager.${data.aws_region.")


def test_without_a_key_the_grant_has_no_kms_statement(doc):
    statements = at(data_sources(doc, "aws_iam_policy_document"), "execution/plain-secret-read-policy-document")["statement"]
    assert [s["sid"] for s in statements] == ["ReadSecret"]


def test_a_rotation_function_rotates_on_schedule(doc):
    plain_id = logical_id(resources(doc, "aws_secretsmanager_secret"), "plain-secret")
    (rotation,) = resources(doc, "aws_secretsmanager_secret_rotation").values()
    assert rotation["secret_id"] == ref(doc, "aws_secretsmanager_secret", plain_id, "id")
    assert rotation["rotation_lambda_arn"] == ROTATOR
    assert rotation["rotation_rules"] == {"automatically_after_days": 7}
    assert skips["plain"] == {}


def test_manual_rotation_records_its_reason_as_the_rotation_check_skip(doc):
    assert skips["app"] == {"CKV2_AWS_57": MANUAL}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "cot app"}, "name must be 1-512 of letters, digits and /_+=.@-, but 'cot app' was provided"),
        ({"name": ""}, "name must be 1-512 of letters, digits and /_+=.@-, but '' was provided"),
        ({"recovery_window_days": 6}, "recovery_window_days must be between 7 and 30, but 6 was provided"),
        ({"recovery_window_days": 31}, "recovery_window_days must be between 7 and 30, but 31 was provided"),
        ({"rotation_days": 0}, "rotation_days must be between 1 and 1000, but 0 was provided"),
        ({"manual_rotation_reason": ""}, "exactly one of rotation_lambda_arn and manual_rotation_reason must be set, but neither was provided"),
        ({"rotation_lambda_arn": ROTATOR}, "exactly one of rotation_lambda_arn and manual_rotation_reason must be set, but both were provided"),
    ],
)
def test_props_validation_messages(kwargs, message):
    with pytest.raises(ValueError, match="^SecretProps: ") as caught:
        SecretProps(**{"name": "cot/app", "manual_rotation_reason": MANUAL, **kwargs})
    assert message in str(caught.value)


# -- the resource policy (issue 18) ---------------------------------------------------------
READER = "arn:aws:iam::111122223333:role/cot-ecs-execution"


@pytest.fixture(scope="module")
def guarded():
    def build(stack):
        Secret(stack, "app", SecretProps(name="cot/app", kms_key_arn=KEY, manual_rotation_reason=MANUAL, reader_role_arns=(READER,)))
        Secret(stack, "unread", SecretProps(name="cot/unread", manual_rotation_reason=MANUAL))

    return synth_construct(build)


def _account(document, attribute="account_id"):
    kind, path = ("aws_caller_identity", "aws_context/caller") if attribute == "account_id" else ("aws_partition", "aws_context/partition")
    return "${data." + f"{kind}.{logical_id(data_sources(document, kind), path)}.{attribute}" + "}"


def test_secret_policy_is_attached_with_public_policies_blocked(guarded):
    policy = at(resources(guarded, "aws_secretsmanager_secret_policy"), "app/policy")
    assert policy["secret_arn"] == ref(guarded, "aws_secretsmanager_secret", logical_id(resources(guarded, "aws_secretsmanager_secret"), "app/secret"), "arn")
    assert policy["policy"] == "${data.aws_iam_policy_document." + logical_id(data_sources(guarded, "aws_iam_policy_document"), "app/policy-document") + ".json}"
    assert policy["block_public_policy"] is True


def test_secret_policy_allows_the_readers_and_denies_the_value_to_everyone_else_but_root(guarded):
    secret = ref(guarded, "aws_secretsmanager_secret", logical_id(resources(guarded, "aws_secretsmanager_secret"), "app/secret"), "arn")
    account, partition = _account(guarded), _account(guarded, "partition")
    root = f"arn:{partition}:iam::{account}:root"
    readers, other_accounts, value = at(data_sources(guarded, "aws_iam_policy_document"), "app/policy-document")["statement"]
    assert readers == {
        "sid": "ReadersReadTheValue",
        "effect": "Allow",
        "principals": [{"type": "AWS", "identifiers": [root]}],
        "actions": list(SECRETS_READ_ACTIONS),
        "resources": [secret],
        "condition": [{"test": "ArnEquals", "variable": "aws:PrincipalArn", "values": [READER]}],
    }
    assert other_accounts == {
        "sid": "DenyOtherAccounts",
        "effect": "Deny",
        "principals": [{"type": "AWS", "identifiers": ["*"]}],
        "actions": ["secretsmanager:*"],
        "resources": [secret],
        "condition": [{"test": "StringNotEquals", "variable": "aws:PrincipalAccount", "values": [account]}],
    }
    assert value == {
        "sid": "DenyTheValueToAllButTheReaders",
        "effect": "Deny",
        "principals": [{"type": "AWS", "identifiers": ["*"]}],
        "actions": ["secretsmanager:GetSecretValue"],
        "resources": [secret],
        "condition": [{"test": "ArnNotEquals", "variable": "aws:PrincipalArn", "values": [READER, root]}],
    }


def test_a_secret_without_readers_still_denies_other_accounts_and_the_value_to_all_but_root(guarded):
    statements = at(data_sources(guarded, "aws_iam_policy_document"), "unread/policy-document")["statement"]
    assert [s["sid"] for s in statements] == ["DenyOtherAccounts", "DenyTheValueToAllButTheReaders"]
    assert statements[1]["condition"][0]["values"] == [f"arn:{_account(guarded, 'partition')}:iam::{_account(guarded)}:root"]


@pytest.mark.parametrize(
    ("readers", "message"),
    [
        (("cot-ecs-execution",), "reader_role_arns must hold IAM role ARNs such as arn:aws:iam::123456789012:role/reader, but 'cot-ecs-execution' was provided"),
        ((READER, READER), "reader_role_arns must not repeat a role"),
    ],
)
def test_reader_role_arns_validation_messages(readers, message):
    with pytest.raises(ValueError) as error:
        SecretProps(name="cot/app", manual_rotation_reason=MANUAL, reader_role_arns=readers)
    assert message in str(error.value)
