"""Secrets Manager secrets that the services read, without their values.

Terraform creates the secret (name, key, recovery window) but never a
value: a value in Terraform would sit in plain text in the state file and
the plan output. An operator sets it out of band, once per environment:

    aws secretsmanager put-secret-value --secret-id <prefix>/app \\
        --secret-string file://app-secret.json

ECS reads it at task start with the execution role and hands it to the
container as an environment variable (``secrets`` in the container
definition, by ARN), so it never appears in a task definition either.

The secret's resource policy makes the readers' IAM grants the only way to
the value (``reader_role_arns``):

* ``ReadersReadTheValue`` allows the readers (and nobody else) to read it;
* ``DenyOtherAccounts`` denies every action to principals of other accounts;
* ``DenyTheValueToAllButTheReaders`` denies reading the value to every
  principal of the account but the readers and the account root (the
  break-glass user). Administrators keep what their IAM policies give them
  on the secret (describe, put-secret-value, rotate, delete, this policy):
  they set the value and can change the policy, which CloudTrail records,
  but no role's "secretsmanager:*" reads the value by accident.

The readers are named by ARN in conditions (``aws:PrincipalArn``), not as
principals: Secrets Manager refuses a principal that does not exist yet,
and the readers live in a layer applied after the secret's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_policy import SecretsmanagerSecretPolicy
from cdktf_cdktf_provider_aws.secretsmanager_secret_rotation import (
    SecretsmanagerSecretRotation,
    SecretsmanagerSecretRotationRotationRules,
)
from constructs import Construct

from constructs_lib._validation import Problems, is_token
from constructs_lib.actions import KMS_DECRYPT_ACTIONS, SECRETS_READ_ACTIONS, SECRETS_VALUE_ACTIONS
from constructs_lib.aws_context import AwsContext
from constructs_lib.encryption import key_statements
from constructs_lib.iam import ServiceRole, Statement
from constructs_lib.policy import accept_finding, skip_check

_NAME = r"[A-Za-z0-9/_+=.@-]{1,512}"

# prowler's check wants one Deny of every action to every principal but the readers (and an organisation condition).
RESTRICTIVE_POLICY_REASON = (
    "The policy denies other accounts everything and every principal of this account but the reader role and the root "
    "user the value; it leaves administrators what IAM gives them (describe, put, rotate, change this policy), where "
    "prowler wants every action denied to every principal but the readers, which would lock the secret's own setup out"
)


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
    reader_role_arns: IAM role ARNs (``arn:<partition>:iam::<account>:role/
        <name>``, of this account) that may read the value; the resource
        policy denies it to every other principal but the account root.
        Give every role that ``grant_read`` is called for. Default none
        (only the root user could read it).
    """

    name: str
    description: str = ""
    kms_key_arn: str | None = None
    recovery_window_days: int = 30
    rotation_lambda_arn: str | None = None
    rotation_days: int = 30
    manual_rotation_reason: str = ""
    reader_role_arns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems = Problems("SecretProps")
        for arn in self.reader_role_arns:
            if not is_token(arn) and not re.fullmatch(r"arn:[a-z-]+:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}", arn):
                problems.add(f"reader_role_arns must hold IAM role ARNs such as arn:aws:iam::123456789012:role/reader, but {arn!r} was provided")
        if len(set(self.reader_role_arns)) != len(self.reader_role_arns):
            problems.add(f"reader_role_arns must not repeat a role, but {list(self.reader_role_arns)!r} was provided")
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
            for check_id in ("secretsmanager_automatic_rotation_enabled", "secretsmanager_secret_rotated_periodically"):
                accept_finding(self.secret, check_id, props.manual_rotation_reason)
        accept_finding(self.secret, "secretsmanager_has_restrictive_resource_policy", RESTRICTIVE_POLICY_REASON)
        self.policy_document = self._policy_document()
        self.policy = SecretsmanagerSecretPolicy(
            self,
            "policy",
            secret_arn=self.secret.arn,
            policy=self.policy_document.json,
            # Secrets Manager refuses a policy that would open the secret to other accounts.
            block_public_policy=True,
        )

    def _policy_document(self) -> DataAwsIamPolicyDocument:
        context = AwsContext.of(self)
        root = f"arn:{context.partition}:iam::{context.account_id}:root"
        everyone = [DataAwsIamPolicyDocumentStatementPrincipals(type="AWS", identifiers=["*"])]
        statements = []
        if self.props.reader_role_arns:
            statements.append(
                DataAwsIamPolicyDocumentStatement(
                    sid="ReadersReadTheValue",
                    effect="Allow",
                    # The account, narrowed to the readers: a role named as a principal must exist already.
                    principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="AWS", identifiers=[root])],
                    actions=list(SECRETS_READ_ACTIONS),
                    resources=[self.secret.arn],
                    condition=[DataAwsIamPolicyDocumentStatementCondition(test="ArnEquals", variable="aws:PrincipalArn", values=list(self.props.reader_role_arns))],
                )
            )
        statements += [
            DataAwsIamPolicyDocumentStatement(
                sid="DenyOtherAccounts",
                effect="Deny",
                principals=everyone,
                actions=["secretsmanager:*"],
                resources=[self.secret.arn],
                condition=[DataAwsIamPolicyDocumentStatementCondition(test="StringNotEquals", variable="aws:PrincipalAccount", values=[context.account_id])],
            ),
            DataAwsIamPolicyDocumentStatement(
                sid="DenyTheValueToAllButTheReaders",
                effect="Deny",
                principals=everyone,
                actions=list(SECRETS_VALUE_ACTIONS),
                resources=[self.secret.arn],
                condition=[
                    DataAwsIamPolicyDocumentStatementCondition(
                        test="ArnNotEquals", variable="aws:PrincipalArn", values=[*self.props.reader_role_arns, root]
                    )
                ],
            ),
        ]
        return DataAwsIamPolicyDocument(self, "policy-document", statement=statements)

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
