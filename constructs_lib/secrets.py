"""Secrets Manager secrets that the services read, without their values.

Terraform creates the secret (name, key, recovery window) but never a
value: a value in Terraform would sit in plain text in the state file and
the plan output. An operator sets it out of band, once per environment:

    aws secretsmanager put-secret-value --secret-id <prefix>/app \\
        --secret-string file://app-secret.json

ECS reads it at task start with the execution role and hands it to the
container as an environment variable (``secrets`` in the container
definition, by ARN), so it never appears in a task definition either.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_rotation import (
    SecretsmanagerSecretRotation,
    SecretsmanagerSecretRotationRotationRules,
)
from constructs import Construct

from constructs_lib._validation import Problems
from constructs_lib.actions import KMS_DECRYPT_ACTIONS, SECRETS_READ_ACTIONS
from constructs_lib.encryption import key_statements
from constructs_lib.iam import ServiceRole, Statement
from constructs_lib.policy import skip_check

_NAME = r"[A-Za-z0-9/_+=.@-]{1,512}"


@dataclass(frozen=True, kw_only=True)
class SecretProps:
    """Inputs of a secret.

    name: 1-512 of letters, digits and ``/_+=.@-``; by convention
        ``<prefix>/<name>``, such as ``circle-of-trust/app``.
    description: what the value holds and who sets it. Default empty.
    kms_key_arn: customer-managed key. Default None (``aws/secretsmanager``).
    recovery_window_days: 0 (delete at once) or 7-30. Default 30: a deleted
        secret stops every task that reads it from starting, so it stays
        restorable for as long as AWS allows.
    rotation_lambda_arn: a rotation function; rotation then runs every
        rotation_days. Default None.
    rotation_days: 1-1000. Default 30.
    manual_rotation_reason: required when there is no rotation function:
        why no code can rotate this value (e.g. credentials a third party
        issues). Recorded next to the secret as the policy-scan skip of the
        rotation check, and listed in the README. Default empty.
    """

    name: str
    description: str = ""
    kms_key_arn: str | None = None
    recovery_window_days: int = 30
    rotation_lambda_arn: str | None = None
    rotation_days: int = 30
    manual_rotation_reason: str = ""

    def __post_init__(self) -> None:
        problems = Problems("SecretProps")
        problems.matches("name", self.name, _NAME, "1-512 of letters, digits and /_+=.@-")
        if self.recovery_window_days != 0:
            problems.between("recovery_window_days", self.recovery_window_days, 7, 30)
        problems.between("rotation_days", self.rotation_days, 1, 1000)
        if (self.rotation_lambda_arn is None) == (not self.manual_rotation_reason):
            problems.add(
                "exactly one of rotation_lambda_arn and manual_rotation_reason must be set, "
                f"but {'neither was' if self.rotation_lambda_arn is None else 'both were'} provided"
            )
        problems.raise_if_any()


class Secret(Construct):
    """One secret, encrypted with the given key, value set out of band."""

    def __init__(self, scope: Construct, construct_id: str, props: SecretProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.secret = SecretsmanagerSecret(
            self,
            "secret",
            name=props.name,
            description=props.description or None,
            kms_key_id=props.kms_key_arn,
            recovery_window_in_days=props.recovery_window_days,
        )
        if props.rotation_lambda_arn is not None:
            SecretsmanagerSecretRotation(
                self,
                "rotation",
                secret_id=self.secret.id,
                rotation_lambda_arn=props.rotation_lambda_arn,
                rotation_rules=SecretsmanagerSecretRotationRotationRules(automatically_after_days=props.rotation_days),
            )
        else:
            skip_check(self.secret, "CKV2_AWS_57", props.manual_rotation_reason)

    @property
    def secret_arn(self) -> str:
        return self.secret.arn

    @property
    def secret_name(self) -> str:
        return self.secret.name

    def grant_read(self, role: ServiceRole) -> None:
        """Read the value (and decrypt it through Secrets Manager)."""
        role.grant(
            f"{self.node.id}-read",
            [
                Statement(sid="ReadSecret", actions=SECRETS_READ_ACTIONS, resources=(self.secret_arn,)),
                *key_statements(self, self.props.kms_key_arn, KMS_DECRYPT_ACTIONS, via_service="secretsmanager", sid="DecryptSecret"),
            ],
        )
