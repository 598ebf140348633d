"""constructs_lib/secrets.py: secrets without values, and grant_read."""

from __future__ import annotations

import pytest

from constructs_lib.actions import SECRETS_READ_ACTIONS
from constructs_lib.iam import ServiceRole, ServiceRoleProps
from constructs_lib.secrets import Secret, SecretProps
from tests.support import at, data_sources, logical_id, ref, resources, synth_construct

KEY = "arn:aws:kms:us-east-1:111122223333:key/secrets"


@pytest.fixture(scope="module")
def doc():
    def build(stack):
        secret = Secret(stack, "app-secret", SecretProps(name="cot/app", description="app credentials", kms_key_arn=KEY))
        plain = Secret(stack, "plain-secret", SecretProps(name="cot/plain", recovery_window_days=0))
        role = ServiceRole(stack, "execution", ServiceRoleProps(name="exec", service="ecs-tasks.amazonaws.com"))
        secret.grant_read(role)
        plain.grant_read(role)

    return synth_construct(build)


def test_secret_is_encrypted_with_the_key_and_recoverable_for_30_days(doc):
    secret = at(resources(doc, "aws_secretsmanager_secret"), "app-secret")
    assert secret == {"name": "cot/app", "description": "app credentials", "kms_key_id": KEY, "recovery_window_in_days": 30}
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


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "cot app"}, "name must be 1-512 of letters, digits and /_+=.@-, but 'cot app' was provided"),
        ({"name": ""}, "name must be 1-512 of letters, digits and /_+=.@-, but '' was provided"),
        ({"recovery_window_days": 6}, "recovery_window_days must be between 7 and 30, but 6 was provided"),
        ({"recovery_window_days": 31}, "recovery_window_days must be between 7 and 30, but 31 was provided"),
    ],
)
def test_props_validation_messages(kwargs, message):
    with pytest.raises(ValueError, match="^SecretProps: ") as caught:
        SecretProps(**{"name": "cot/app", **kwargs})
    assert message in str(caught.value)
