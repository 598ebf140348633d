"""tools/iam_lint.py: which documents of a state are linted, and how parliament's findings are sorted.

Unit tier: the real linter (parliament) on small documents in the shapes
Terraform renders them in state; no emulator. The emulated scenarios lint
every document of both applied environments (tests/test_emulated_deploy.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tools import iam_lint
from tools.iam_lint import ENDPOINT, IDENTITY, KEY, RESOURCE, TRUST, Document, classify, state_documents
from tools.live_audit import AuditError

ACCOUNT = "123456789012"
TASK_FAMILY = f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/circle-of-trust-api"
ALB_LISTENER = f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:listener/app/cot-release/0123456789abcdef/0123456789abcdef"
NLB_LISTENER = f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:listener/net/cot-ws/0123456789abcdef/0123456789abcdef"


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(actions: str | list[str], resources: str | list[str], **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}


TRUST_POLICY = policy({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"})
KEY_POLICY = policy(
    {"Sid": "Account", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"},
    {
        "Sid": "Logs",
        "Effect": "Allow",
        "Principal": {"Service": "logs.us-east-1.amazonaws.com"},
        "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": "*",
        "Condition": {"StringLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:*"}},
    },
)


def lint(kind: str, document: dict[str, Any]) -> iam_lint.LintResult:
    return classify([Document("stack:aws_x.y.policy", kind, document)])


def issues(result: iam_lint.LintResult) -> list[str]:
    return sorted(finding.issue for finding in result.unexplained)


# -- what the linter finds, and what is inherent or accepted ----------------------------
def test_a_trust_policy_names_no_resource_and_that_is_not_a_finding() -> None:
    result = lint(TRUST, TRUST_POLICY)
    assert result.clean and [finding.issue for finding, _ in result.inherent] == ["MALFORMED"]
    # The same document as an identity policy is malformed.
    assert issues(lint(IDENTITY, TRUST_POLICY)) == ["MALFORMED"]


def test_a_key_policy_may_say_star_for_itself_and_delegate_to_the_account() -> None:
    result = lint(KEY, KEY_POLICY)
    assert result.clean, iam_lint.report(result)
    assert {finding.issue for finding, _ in result.inherent} == {"RESOURCE_STAR"}
    assert {finding.issue for finding, _ in result.accepted} == {"PERMISSIONS_MANAGEMENT_ACTIONS"}
    # In an identity policy, "*" on actions that take a resource is a finding.
    assert "RESOURCE_STAR" in issues(lint(IDENTITY, policy(allow(["kms:Decrypt"], "*"))))


def test_arn_operators_on_the_string_typed_encryption_context_key_are_found() -> None:
    """Why the logs key's condition is StringLike: ArnLike on kms:EncryptionContext:aws:logs:arn is a type mismatch."""
    arn_like = json.loads(json.dumps(KEY_POLICY).replace("StringLike", "ArnLike"))
    assert issues(lint(KEY, arn_like)) == ["MISMATCHED_TYPE"]


def test_an_encryption_context_condition_on_describe_key_is_found() -> None:
    """Why the logs key's statement has no kms:DescribeKey: the condition could never match it."""
    with_describe = json.loads(json.dumps(KEY_POLICY))
    with_describe["Statement"][1]["Action"].append("kms:DescribeKey")
    assert issues(lint(KEY, with_describe)) == ["UNKNOWN_CONDITION_FOR_ACTION"]


@pytest.mark.parametrize(
    ("document", "found"),
    [
        # DescribeLogGroups takes no resource: an ARN matches none of its requests.
        (policy(allow("logs:DescribeLogGroups", f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:*")), ["RESOURCE_MISMATCH"]),
        (policy(allow("logs:DescribeLogGroups", "*"), allow("logs:DescribeLogStreams", f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:*")), []),
        # RegisterTaskDefinition takes a task definition: "*" is broader than a family.
        (policy(allow("ecs:RegisterTaskDefinition", "*")), ["RESOURCE_STAR"]),
        (policy(allow("ecs:RegisterTaskDefinition", f"{TASK_FAMILY}:*")), []),
        # An action that does not exist.
        (policy(allow("ecs:DeployEverything", "*")), ["UNKNOWN_ACTION"]),
    ],
    ids=["describe-log-groups-on-arn", "describe-split", "register-on-star", "register-on-family", "unknown-action"],
)
def test_identity_policy_findings(document: dict[str, Any], found: list[str]) -> None:
    assert issues(lint(IDENTITY, document)) == found


def test_ecr_registry_token_is_accepted_other_credential_actions_are_not() -> None:
    pull = lint(IDENTITY, policy(allow("ecr:GetAuthorizationToken", "*")))
    assert pull.clean and [finding.issue for finding, _ in pull.accepted] == ["CREDENTIALS_EXPOSURE"]
    assert "ECR" in pull.accepted[0][1].reason
    both = lint(IDENTITY, policy(allow(["ecr:GetAuthorizationToken", "sts:GetSessionToken"], "*")))
    assert "CREDENTIALS_EXPOSURE" in issues(both)


def test_the_release_listener_is_accepted_only_as_an_application_load_balancers() -> None:
    """parliament wants a ModifyListener ARN to be both listener types; the acceptance covers the ALB listener only."""
    alb = lint(IDENTITY, policy(allow("elasticloadbalancing:ModifyListener", ALB_LISTENER)))
    assert alb.clean and [finding.issue for finding, _ in alb.accepted] == ["RESOURCE_MISMATCH"]
    assert issues(lint(IDENTITY, policy(allow("elasticloadbalancing:ModifyListener", NLB_LISTENER)))) == ["RESOURCE_MISMATCH"]


def endpoint_policy(action: str) -> dict[str, Any]:
    account_only = {"StringEquals": {"aws:PrincipalAccount": ACCOUNT, "aws:ResourceAccount": ACCOUNT}}
    return policy({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": action, "Resource": "*", "Condition": account_only})


def test_an_endpoint_policy_for_its_own_service_is_clean_one_for_every_action_is_not() -> None:
    """An endpoint policy grants nothing, so "*" resources and its service's risky actions are inherent; but
    "Action": "*" admits iam:* and every other service's actions through the endpoint, which the linter reports."""
    own = lint(ENDPOINT, endpoint_policy("sqs:*"))
    assert own.clean, iam_lint.report(own)
    assert {finding.issue for finding, _ in own.inherent} == {"RESOURCE_STAR", "PERMISSIONS_MANAGEMENT_ACTIONS"}
    assert "PRIVILEGE_ESCALATION" in issues(lint(ENDPOINT, endpoint_policy("*")))
    # The same document as a grant (a queue's resource policy) is a finding.
    assert "RESOURCE_STAR" in issues(lint(RESOURCE, endpoint_policy("sqs:*")))


def github_trust(provider: str) -> dict[str, Any]:
    return policy(
        {
            "Effect": "Allow",
            "Principal": {"Federated": provider},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                "StringLike": {"token.actions.githubusercontent.com:sub": "repo:my-org/circle-of-trust:ref:refs/heads/main"},
            },
        }
    )


def test_githubs_oidc_provider_is_a_federation_source_the_lint_knows_others_are_not() -> None:
    github = lint(TRUST, github_trust(f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"))
    assert github.clean and [finding.issue for finding, _ in github.accepted] == ["UNKNOWN_FEDERATION_SOURCE"]
    other = lint(TRUST, github_trust(f"arn:aws:iam::{ACCOUNT}:oidc-provider/idp.example.com"))
    assert issues(other) == ["UNKNOWN_FEDERATION_SOURCE"]


PASS_TO_ECS = {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
TASK_ROLE = f"arn:aws:iam::{ACCOUNT}:role/circle-of-trust-api-task"


@pytest.mark.parametrize(
    ("statement", "accepted"),
    [
        (allow("iam:PassRole", [TASK_ROLE], Condition=PASS_TO_ECS), True),
        (allow("iam:PassRole", [TASK_ROLE]), False),  # to any service
        (allow("iam:PassRole", [f"arn:aws:iam::{ACCOUNT}:role/*"], Condition=PASS_TO_ECS), False),  # any role
        (allow("iam:PassRole", [TASK_ROLE], Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}), False),
    ],
    ids=["own-roles-to-ecs", "to-any-service", "any-role", "to-lambda"],
)
def test_passing_roles_is_accepted_only_for_named_roles_passed_to_ecs_tasks(statement: dict[str, Any], accepted: bool) -> None:
    result = lint(IDENTITY, policy(statement))
    assert result.clean is accepted, iam_lint.report(result)
    assert [finding.issue for finding, _ in result.accepted] == (["PERMISSIONS_MANAGEMENT_ACTIONS"] if accepted else [])


# -- which documents of a state are read --------------------------------------------------
def managed(resource_type: str, name: str, **attributes: Any) -> dict[str, Any]:
    return {"mode": "managed", "type": resource_type, "name": name, "instances": [{"attributes": attributes}]}


STATE = {
    "resources": [
        managed("aws_iam_role", "task", assume_role_policy=json.dumps(TRUST_POLICY), inline_policy=[{"name": "x", "policy": "{}"}], arn="arn:aws:iam::123456789012:role/task"),
        managed("aws_iam_role_policy", "task_read", policy=json.dumps(policy(allow("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:q"))), role="task"),
        managed("aws_kms_key", "logs", policy=json.dumps(KEY_POLICY)),
        managed("aws_sqs_queue_policy", "queue", policy=json.dumps(policy(allow("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:q", Principal={"Service": "events.amazonaws.com"})))),
        # Read back from SQS: the queue policy's document again.
        managed("aws_sqs_queue", "queue", policy=json.dumps(policy(allow("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:q")))),
        # Not IAM: lifecycle rules.
        managed("aws_ecr_lifecycle_policy", "api", policy=json.dumps({"rules": [{"rulePriority": 1}]})),
        {"mode": "data", "type": "aws_iam_policy_document", "name": "doc", "instances": [{"attributes": {"json": json.dumps(TRUST_POLICY)}}]},
    ]
}


def test_state_documents_are_the_applied_policies_by_kind() -> None:
    documents = state_documents("production-services", STATE)
    assert [(d.address, d.kind) for d in documents] == [
        ("production-services:aws_iam_role.task.assume_role_policy", TRUST),
        ("production-services:aws_iam_role_policy.task_read.policy", IDENTITY),
        ("production-services:aws_kms_key.logs.policy", KEY),
        ("production-services:aws_sqs_queue_policy.queue.policy", RESOURCE),
    ]
    assert documents[2].policy == KEY_POLICY


def test_a_policy_of_a_kind_the_lint_does_not_know_fails_rather_than_being_skipped() -> None:
    state = {"resources": [managed("aws_glue_resource_policy", "catalog", policy=json.dumps(policy(allow("glue:GetTable", "*"))))]}
    with pytest.raises(AuditError, match=r"aws_glue_resource_policy\.catalog\.policy: .*DOCUMENT_KINDS"):
        state_documents("production-data", state)


# -- the command -----------------------------------------------------------------------------
def write_state(path: Path, *resources: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"version": 4, "resources": list(resources)}))
    return path


def test_main_exits_0_when_clean_1_on_findings_2_on_nothing_to_lint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean = write_state(tmp_path / "clean.tfstate", *STATE["resources"])
    assert iam_lint.main(["--state", str(clean)]) == iam_lint.EXIT_OK
    assert "4 policy documents linted" in capsys.readouterr().out

    star = write_state(tmp_path / "star.tfstate", managed("aws_iam_role_policy", "deploy", policy=json.dumps(policy(allow("ecs:RegisterTaskDefinition", "*")))))
    assert iam_lint.main(["--state", str(clean), str(star)]) == iam_lint.EXIT_FINDINGS
    out = capsys.readouterr().out
    assert "UNEXPLAINED (1)" in out and "star:aws_iam_role_policy.deploy.policy (identity policy): RESOURCE_STAR" in out

    empty = write_state(tmp_path / "empty.tfstate")
    assert iam_lint.main(["--state", str(empty)]) == iam_lint.EXIT_USAGE
    assert "no policy documents found" in capsys.readouterr().err
    assert iam_lint.main(["--state", str(tmp_path / "missing.tfstate")]) == iam_lint.EXIT_USAGE
    assert "cannot read the state" in capsys.readouterr().err
