"""Customer-managed KMS keys, one per purpose, and the KMS side of grants.

Why one key per purpose (``ecr``, ``queue``, ``tables``, ``secrets``, later
``logs`` and ``cloudtrail``) rather than one for everything: an identity
grant of ``kms:Decrypt`` on the queue key cannot decrypt a secret, and a key
can be disabled or scheduled for deletion without touching the others. Each
key costs $1 a month.

The key policy is explicit, built from typed statements (no JSON strings):

* the account root may administer and use the key (the action list in
  ``actions.KMS_KEY_ACCOUNT_ACTIONS``, no ``kms:*``). That delegates to IAM, as
  AWS's default key policy does: a role of the account uses the key only when
  its own policy allows it, and the grants below do that on the key's ARN
  with ``kms:ViaService`` so the key is usable only through that service;
* service principals that call KMS themselves (CloudWatch Logs, CloudTrail,
  DynamoDB's key monitoring) get exactly their documented actions, under the
  conditions AWS documents for them.

Rotation is always on; deletion waits the longest window AWS allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from constructs_lib._validation import Problems
from constructs_lib.actions import KMS_KEY_ACCOUNT_ACTIONS
from constructs_lib.aws_context import AwsContext
from constructs_lib.iam import Condition, Statement
from constructs_lib.policy import skip_check

# checkov reads a key policy as if it were an identity policy. These three
# checks misfire on every key policy; each reason says why for a reviewer.
KEY_POLICY_SKIPS = (
    ("CKV_AWS_356", 'Key policy: Resource "*" means this key only; a key policy cannot name any other resource'),
    ("CKV_AWS_111", "Key policy: write actions reach only this key, for the account root (IAM grants on the key ARN) and named service principals"),
    ("CKV_AWS_109", "Key policy: the account root keeps kms:PutKeyPolicy on its own key so the key can never become unmanageable, as in AWS's default key policy"),
)

_PURPOSE = r"[a-z][a-z0-9-]{0,31}"


@dataclass(frozen=True, kw_only=True)
class KeyServicePrincipal:
    """An AWS service principal that calls KMS itself, not on a caller's behalf.

    service: the principal, such as ``logs.us-east-1.amazonaws.com``.
    actions: the KMS actions AWS documents for it; no wildcards.
    conditions: the conditions AWS documents for it, such as the
        ``kms:EncryptionContext:aws:logs:arn`` of CloudWatch Logs. Default none.
    sid: statement id. Default: derived from the service.
    """

    service: str
    actions: tuple[str, ...]
    conditions: tuple[Condition, ...] = ()
    sid: str = ""


@dataclass(frozen=True, kw_only=True)
class EncryptionKeyProps:
    """Inputs of a customer-managed key.

    name_prefix: the environment's resource prefix.
    purpose: what the key encrypts, 1-32 lower-case letters, digits and '-',
        starting with a letter; the alias is ``alias/<name_prefix>-<purpose>``.
    description: shown in the KMS console. Default: derived from the alias.
    service_principals: services that call KMS themselves. Default none.
    deletion_window_days: 7-30. Default 30, the longest: a deleted key makes
        everything it encrypted unreadable for good, so a scheduled deletion
        stays cancellable for as long as AWS allows.
    rotation_period_days: automatic rotation period, 90-2560. Default 365
        (AWS's default; rotation is always on).
    provider: an aws provider of another region, for a key that what it
        encrypts needs there (WAF's us-east-1 logs). Default None: the stack's.
    """

    name_prefix: str
    purpose: str
    description: str = ""
    service_principals: tuple[KeyServicePrincipal, ...] = ()
    deletion_window_days: int = 30
    rotation_period_days: int = 365
    provider: TerraformProvider | None = None

    def __post_init__(self) -> None:
        problems = Problems("EncryptionKeyProps")
        problems.matches("purpose", self.purpose, _PURPOSE, "1-32 lower-case letters, digits and '-', starting with a letter")
        problems.between("deletion_window_days", self.deletion_window_days, 7, 30)
        problems.between("rotation_period_days", self.rotation_period_days, 90, 2560)
        for principal in self.service_principals:
            if not principal.actions or any("*" in action for action in principal.actions):
                problems.add(f"service_principals: {principal.service} must list its actions without wildcards, but {principal.actions!r} was provided")
        problems.raise_if_any()

    @property
    def alias_name(self) -> str:
        return f"alias/{self.name_prefix}-{self.purpose}"


class EncryptionKey(Construct):
    """A rotated symmetric key with an explicit key policy and an alias."""

    def __init__(self, scope: Construct, construct_id: str, props: EncryptionKeyProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        context = AwsContext.of(self)
        root = f"arn:{context.partition}:iam::{context.account_id}:root"
        statements = [
            DataAwsIamPolicyDocumentStatement(
                sid="AccountAdministersAndDelegatesToIam",
                effect="Allow",
                principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="AWS", identifiers=[root])],
                actions=list(KMS_KEY_ACCOUNT_ACTIONS),
                # In a key policy, "*" means this key and nothing else.
                resources=["*"],
            )
        ]
        for principal in props.service_principals:
            statements.append(
                DataAwsIamPolicyDocumentStatement(
                    sid=principal.sid or "Service" + "".join(part.title() for part in principal.service.split(".")[0].split("-")),
                    effect="Allow",
                    principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=[principal.service])],
                    actions=list(principal.actions),
                    resources=["*"],
                    condition=[
                        DataAwsIamPolicyDocumentStatementCondition(test=c.test, variable=c.variable, values=list(c.values))
                        for c in principal.conditions
                    ]
                    or None,
                )
            )
        self.policy_document = DataAwsIamPolicyDocument(self, "key-policy", statement=statements)
        for check_id, reason in KEY_POLICY_SKIPS:
            skip_check(self.policy_document, check_id, reason)
        self.key = KmsKey(
            self,
            "key",
            description=props.description or f"{props.alias_name}: encrypts {props.purpose} data",
            enable_key_rotation=True,
            rotation_period_in_days=props.rotation_period_days,
            deletion_window_in_days=props.deletion_window_days,
            policy=self.policy_document.json,
            provider=props.provider,
        )
        self.alias = KmsAlias(self, "alias", name=props.alias_name, target_key_id=self.key.key_id, provider=props.provider)

    @property
    def key_arn(self) -> str:
        return self.key.arn

    @property
    def key_id(self) -> str:
        return self.key.key_id

    @property
    def alias_name(self) -> str:
        return self.props.alias_name


def key_statements(
    scope: Construct,
    key_arn: str | None,
    actions: Sequence[str],
    *,
    via_service: str,
    sid: str,
) -> list[Statement]:
    """The KMS statement a grant adds when its resource is encrypted with ``key_arn``.

    Empty when there is no customer-managed key. ``via_service`` is the
    service that uses the key for the caller (``sqs``, ``dynamodb``,
    ``secretsmanager``): the role can use the key through that service in
    this region and in no other way.
    """
    if key_arn is None:
        return []
    context = AwsContext.of(scope)
    return [
        Statement(
            sid=sid,
            actions=tuple(actions),
            resources=(key_arn,),
            conditions=(
                Condition(
                    test="StringEquals",
                    variable="kms:ViaService",
                    values=(f"{via_service}.{context.region}.{context.dns_suffix}",),
                ),
            ),
        )
    ]
