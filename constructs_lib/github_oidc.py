"""The role GitHub Actions assumes to deploy, through GitHub's OIDC provider.

No long-lived AWS keys in GitHub: a workflow job asks GitHub for an OIDC
token (``permissions: id-token: write``), and
aws-actions/configure-aws-credentials trades it for this role's temporary
credentials with ``sts:AssumeRoleWithWebIdentity``. The trust policy lets
exactly one kind of job do that, by two StringEquals conditions and never a
wildcard:

* ``token.actions.githubusercontent.com:aud`` = ``sts.amazonaws.com``;
* ``token.actions.githubusercontent.com:sub`` = one subject of one
  repository: ``repo:<owner>/<name>:ref:refs/heads/<branch>`` (jobs on that
  branch that name no environment) or, when ``environment`` is set,
  ``repo:<owner>/<name>:environment:<environment>`` (jobs that name that
  GitHub environment; the environment's deployment branch rules and
  reviewers then guard it). See ``constructs_lib/github_refs.py``.

The OIDC provider is one per account and URL. By default the role looks it
up (``tools/bootstrap.py --create-oidc-provider`` makes it once per
account); ``create_oidc_provider`` makes it here instead, for an account
where this stack is its only user (destroying the stack then deletes it).

The role starts with no permissions: the resource constructs' named grants
add each one (``repository.grant_push(role)``, ``service.grant_deploy(role)``,
``frontend.grant_upload(role)``, ``state.grant_read(role)``...).
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.data_aws_iam_openid_connect_provider import DataAwsIamOpenidConnectProvider
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from cdktf_cdktf_provider_aws.iam_role import IamRole
from constructs import Construct

from constructs_lib._validation import Problems
from constructs_lib.github_refs import (
    OIDC_AUDIENCE,
    OIDC_HOST,
    OIDC_THUMBPRINT,
    OIDC_URL,
    branch_problems,
    environment_problems,
    oidc_subject,
    repository_problems,
)
from constructs_lib.iam import Role

AUDIENCE_CLAIM = f"{OIDC_HOST}:aud"
SUBJECT_CLAIM = f"{OIDC_HOST}:sub"
_ROLE_NAME = r"[A-Za-z0-9+=,.@_-]{1,64}"


@dataclass(frozen=True, kw_only=True)
class GithubActionsRoleProps:
    """Inputs of the deploy role.

    name: the IAM role name, 1-64 letters, digits and ``+=,.@_-``.
    repository: the GitHub repository whose workflows may assume the role,
        ``owner/name``, spelled exactly as GitHub does (the claim is
        compared case-sensitively).
    branch: the branch whose jobs may assume it when ``environment`` is
        empty; a git branch name. Default ``main``.
    environment: a GitHub environment; when set, only jobs that name it may
        assume the role (and ``branch`` is not used). 1-255 letters, digits,
        ``.``, ``_`` and ``-``. Default empty.
    create_oidc_provider: create the account's GitHub OIDC provider here
        instead of looking it up. Default False (one per account;
        tools/bootstrap.py makes it).
    max_session_duration_seconds: longest credentials last, 3600-43200.
        Default 3600: a deploy (build, push, waiting for the service) ends
        well within an hour.
    description: shown in the IAM console. Default: names the subject.
    """

    name: str
    repository: str
    branch: str = "main"
    environment: str = ""
    create_oidc_provider: bool = False
    max_session_duration_seconds: int = 3600
    description: str = ""

    def __post_init__(self) -> None:
        problems = Problems("GithubActionsRoleProps")
        problems.matches("name", self.name, _ROLE_NAME, "1-64 letters, digits and +=,.@_-")
        for label, value, found in (
            ("repository", self.repository, repository_problems(self.repository)),
            ("branch", self.branch, [] if self.environment else branch_problems(self.branch)),
            ("environment", self.environment, environment_problems(self.environment) if self.environment else []),
        ):
            for problem in found:
                problems.add(f"{label} {problem}, but {value!r} was provided")
        problems.between("max_session_duration_seconds", self.max_session_duration_seconds, 3600, 43200)
        problems.raise_if_any()

    @property
    def subject(self) -> str:
        """The exact ``sub`` claim the role trusts."""
        return oidc_subject(self.repository, branch=self.branch, environment=self.environment)


class GithubActionsRole(Role):
    """A role that only the configured repository's branch or environment can assume, through OIDC."""

    def __init__(self, scope: Construct, construct_id: str, props: GithubActionsRoleProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        if props.create_oidc_provider:
            self.oidc_provider: IamOpenidConnectProvider | DataAwsIamOpenidConnectProvider = IamOpenidConnectProvider(
                self,
                "oidc-provider",
                url=OIDC_URL,
                client_id_list=[OIDC_AUDIENCE],
                thumbprint_list=[OIDC_THUMBPRINT],
            )
        else:
            self.oidc_provider = DataAwsIamOpenidConnectProvider(self, "oidc-provider", url=OIDC_URL)
        self.trust_policy = DataAwsIamPolicyDocument(
            self,
            "trust",
            statement=[
                DataAwsIamPolicyDocumentStatement(
                    sid="GithubActionsOidc",
                    effect="Allow",
                    actions=["sts:AssumeRoleWithWebIdentity"],
                    principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="Federated", identifiers=[self.oidc_provider.arn])],
                    condition=[
                        DataAwsIamPolicyDocumentStatementCondition(test="StringEquals", variable=AUDIENCE_CLAIM, values=[OIDC_AUDIENCE]),
                        DataAwsIamPolicyDocumentStatementCondition(test="StringEquals", variable=SUBJECT_CLAIM, values=[props.subject]),
                    ],
                )
            ],
        )
        self._attach(
            IamRole(
                self,
                "role",
                name=props.name,
                description=props.description or f"GitHub Actions deploys: {props.subject}",
                assume_role_policy=self.trust_policy.json,
                max_session_duration=props.max_session_duration_seconds,
            )
        )

    @property
    def oidc_provider_arn(self) -> str:
        return self.oidc_provider.arn

    @property
    def subject(self) -> str:
        return self.props.subject

