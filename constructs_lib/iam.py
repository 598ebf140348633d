"""IAM building blocks: policy statements, service roles and grants.

CDKTF has no Grant helper, so this is ours: a role owns one inline policy per
grant (``aws_iam_role_policy``), each rendered by an
``aws_iam_policy_document`` data source from typed statements. No policy is
a hand-written JSON string, and every statement names exact resources.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from constructs_lib.aws_context import AwsContext


@dataclass(frozen=True)
class Condition:
    """One IAM condition: ``test`` operator, context ``variable``, ``values``."""

    test: str
    variable: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    """One Allow/Deny statement on exact resources."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    sid: str = ""
    effect: str = "Allow"
    conditions: tuple[Condition, ...] = ()

    def __post_init__(self) -> None:
        if not self.actions or not self.resources:
            raise ValueError(f"statement {self.sid or self.actions}: actions and resources must not be empty")
        if any(action == "*" or action.endswith(":*") for action in self.actions):
            raise ValueError(f"statement {self.sid or self.actions}: wildcard actions are not allowed")


def _conditions(conditions: Sequence[Condition]) -> list[DataAwsIamPolicyDocumentStatementCondition]:
    return [
        DataAwsIamPolicyDocumentStatementCondition(test=c.test, variable=c.variable, values=list(c.values))
        for c in conditions
    ]


def policy_document(scope: Construct, construct_id: str, statements: Sequence[Statement]) -> DataAwsIamPolicyDocument:
    """An identity policy document from typed statements."""
    return DataAwsIamPolicyDocument(
        scope,
        construct_id,
        statement=[
            DataAwsIamPolicyDocumentStatement(
                sid=s.sid or None,
                effect=s.effect,
                actions=list(s.actions),
                resources=list(s.resources),
                condition=_conditions(s.conditions) or None,
            )
            for s in statements
        ],
    )


def trust_document(
    scope: Construct, principal_type: str, principal: str, conditions: Sequence[DataAwsIamPolicyDocumentStatementCondition] = ()
) -> DataAwsIamPolicyDocument:
    """The ``trust`` policy document of a role: ``principal`` (of ``principal_type``, Service or AWS) may assume it."""
    return DataAwsIamPolicyDocument(
        scope,
        "trust",
        statement=[
            DataAwsIamPolicyDocumentStatement(
                effect="Allow",
                actions=["sts:AssumeRole"],
                principals=[DataAwsIamPolicyDocumentStatementPrincipals(type=principal_type, identifiers=[principal])],
                condition=list(conditions) or None,
            )
        ],
    )


class Role(Construct):
    """An IAM role that grants attach inline policies to.

    Subclasses make the role (and its trust policy) and hand it to
    ``_attach``; the resource constructs' named grants (``grant_pull``,
    ``grant_push``, ...) call ``grant``.
    """

    role: IamRole

    def _attach(self, role: IamRole) -> None:
        self.role = role
        self._grants: set[str] = set()

    @property
    def role_arn(self) -> str:
        return self.role.arn

    @property
    def role_name(self) -> str:
        return self.role.name

    def grant(self, grant_id: str, statements: Sequence[Statement]) -> IamRolePolicy:
        """Attach an inline policy named ``<role>-<grant_id>`` with these statements."""
        if grant_id in self._grants:
            raise ValueError(f"grant {grant_id!r} is already attached to {self.node.path}")
        self._grants.add(grant_id)
        document = policy_document(self, f"{grant_id}-policy-document", statements)
        return IamRolePolicy(self, f"{grant_id}-policy", name=grant_id, role=self.role.id, policy=document.json)


@dataclass(frozen=True, kw_only=True)
class ServiceRoleProps:
    """Props of a role that an AWS service assumes for this account.

    name: the role name (IAM: 1-64 characters).
    service: the service principal, such as ``vpc-flow-logs.amazonaws.com``.
    source_arn_patterns: ``aws:SourceArn`` values the service may act for
        (ArnLike); empty means only the account condition applies.
    description: shown in the IAM console. Default: empty.
    source_account_condition: require ``aws:SourceAccount`` = this account.
        Default True. False only for a role that a service assumes without
        that key in the request (a role passed to AWS Backup or to a
        CloudTrail trail, whose documented trust policies have no
        condition): there ``iam:PassRole``, which never crosses accounts, is
        the guard, and a condition the service never sends would make the
        role unusable.
    """

    name: str
    service: str
    source_arn_patterns: tuple[str, ...] = ()
    description: str = ""
    source_account_condition: bool = True


class ServiceRole(Role):
    """A role trusted by one service principal, limited to this account.

    The trust policy carries ``aws:SourceAccount`` (confused-deputy
    protection) unless ``source_account_condition`` is False, and, when
    given, ``aws:SourceArn``.
    """

    def __init__(self, scope: Construct, construct_id: str, props: ServiceRoleProps) -> None:
        super().__init__(scope, construct_id)
        context = AwsContext.of(self)
        conditions = []
        if props.source_account_condition:
            conditions.append(
                DataAwsIamPolicyDocumentStatementCondition(
                    test="StringEquals", variable="aws:SourceAccount", values=[context.account_id]
                )
            )
        if props.source_arn_patterns:
            conditions.append(
                DataAwsIamPolicyDocumentStatementCondition(
                    test="ArnLike", variable="aws:SourceArn", values=list(props.source_arn_patterns)
                )
            )
        trust = trust_document(self, "Service", props.service, conditions)
        self._attach(
            IamRole(
                self,
                "role",
                name=props.name,
                description=props.description or None,
                assume_role_policy=trust.json,
            )
        )


class AccountRole(Role):
    """A role that principals of this account assume (their own policies must allow ``sts:AssumeRole`` on it).

    For a task people and CI run with one role (``tools.origin_secret``), so
    that a resource policy can name that role as its reader before anyone
    runs the task.
    """

    def __init__(self, scope: Construct, construct_id: str, *, name: str, description: str = "") -> None:
        super().__init__(scope, construct_id)
        context = AwsContext.of(self)
        trust = trust_document(self, "AWS", f"arn:{context.partition}:iam::{context.account_id}:root")
        self._attach(IamRole(self, "role", name=name, description=description or None, assume_role_policy=trust.json))
