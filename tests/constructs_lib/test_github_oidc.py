"""constructs_lib/github_oidc.py: the GitHub Actions deploy role, its trust, and the grants it receives.

One synth holds two roles, one per side of each flag:

* ``branch``: the branch subject, the OIDC provider looked up, and every grant
  the stack gives the deploy role (ECR push, ECS deploy with the deploy tag
  condition, frontend upload and invalidation, reading the state);
* ``env``: the environment subject, the provider created here, a longer
  session, and a deploy grant without the tag condition.
"""

from __future__ import annotations

import pytest

from constructs_lib.actions import (
    CLOUDFRONT_INVALIDATION_ACTIONS,
    DYNAMODB_READ_STATE_DIGEST_ACTIONS,
    ECR_AUTHORIZATION_ACTIONS,
    ECR_DESCRIBE_IMAGES_ACTIONS,
    ECR_PUSH_ACTIONS,
    ECS_DEPLOY_ACTIONS,
    ECS_REGISTER_TASK_DEFINITION_ACTIONS,
    ECS_SERVICE_DEPLOY_ACTIONS,
    ECS_TAG_ON_REGISTER_ACTIONS,
    ECS_TASK_DEFINITION_READ_ACTIONS,
    ECS_TASK_DEFINITION_TAGS_READ_ACTIONS,
    IAM_PASS_ROLE_ACTIONS,
    S3_LIST_BUCKET_ACTIONS,
    S3_READ_STATE_ACTIONS,
    S3_SYNC_OBJECT_ACTIONS,
)
from constructs_lib.frontend import Frontend, FrontendProps
from constructs_lib.github_oidc import GithubActionsRole, GithubActionsRoleProps
from constructs_lib.registry import Repository, RepositoryProps
from constructs_lib.service import FargateService
from constructs_lib.terraform_state import TerraformState
from tests.support import EXECUTION_ROLE, TASK_ROLE, api_service_props, at, data_sources, logical_id, ref, resources, synth_construct

DEPLOY_TAG = {"deployed-by": "tools.ecs_deploy"}
# A layered environment: every layer's state under staging/ (staging/<layer>.tfstate).
STATE = TerraformState(bucket="cot-state", key_prefix="staging", lock_table="cot-lock", region="eu-west-1")
# A stack with its whole state in one object.
ONE_STATE = TerraformState(bucket="cot-state", key="production/terraform.tfstate", lock_table="cot-lock", region="eu-west-1")
ROLES: dict[str, GithubActionsRole] = {}


@pytest.fixture(scope="module")
def doc():
    def build(stack):
        branch = GithubActionsRole(stack, "branch", GithubActionsRoleProps(name="cot-github-actions", repository="my-org/app"))
        env = GithubActionsRole(
            stack,
            "env",
            GithubActionsRoleProps(
                name="cot-prod-github-actions",
                repository="My-Org/App.js",
                branch="ignored-with-an-environment",
                environment="production",
                create_oidc_provider=True,
                max_session_duration_seconds=7200,
                description="prod deploys",
            ),
        )
        ROLES.update(branch=branch, env=env)
        repository = Repository(stack, "api-repository", RepositoryProps(name="cot-api", kms_key_arn="arn:aws:kms:us-east-1:111122223333:key/ecr"))
        service = FargateService(stack, "api-service", api_service_props())
        frontend = Frontend(stack, "frontend", FrontendProps(bucket_name="cot-frontend", name_prefix="cot", web_acl_arn="arn:aws:wafv2:us-east-1:111122223333:global/webacl/cot/1"))
        repository.grant_push(branch)
        service.grant_deploy(branch, register_request_tags=DEPLOY_TAG)
        frontend.grant_upload(branch)
        frontend.grant_invalidate(branch)
        STATE.grant_read(branch)
        service.grant_deploy(env)
        ONE_STATE.grant_read(env)

    return synth_construct(build)


def context(doc) -> dict[str, str]:
    """The expressions AwsContext's data sources resolve to."""
    data = lambda kind, path: logical_id(data_sources(doc, kind), path)  # noqa: E731
    return {
        "partition": "${data.aws_partition." + data("aws_partition", "aws_context/partition") + ".partition}",
        "region": "${data.aws_region." + data("aws_region", "aws_context/region") + ".name}",
        "account": "${data.aws_caller_identity." + data("aws_caller_identity", "aws_context/caller") + ".account_id}",
    }


def statements(doc, path: str) -> list[dict]:
    return at(data_sources(doc, "aws_iam_policy_document"), path)["statement"]


def granted(doc, role: str) -> dict[str, str]:
    """Inline policy name -> the policy document reference, for one of the two roles."""
    role_ref = ref(doc, "aws_iam_role", logical_id(resources(doc, "aws_iam_role"), f"{role}/role"), "id")
    return {p["name"]: p["policy"] for p in resources(doc, "aws_iam_role_policy").values() if p["role"] == role_ref}


def resource_ref(doc, resource_type: str, path: str, attribute: str) -> str:
    return ref(doc, resource_type, logical_id(resources(doc, resource_type), path), attribute)


def only_ref(doc, resource_type: str, attribute: str) -> str:
    """The reference to the one resource of a type (cdktf shortens IDs such as api-service/service)."""
    (logical,) = resources(doc, resource_type)
    return ref(doc, resource_type, logical, attribute)


def data_ref(doc, data_type: str, path: str, attribute: str) -> str:
    return "${data." + f"{data_type}.{logical_id(data_sources(doc, data_type), path)}.{attribute}" + "}"


# -- trust ----------------------------------------------------------------------------------
def test_branch_role_trusts_exactly_the_branch_of_the_repository_through_the_looked_up_provider(doc):
    provider = at(data_sources(doc, "aws_iam_openid_connect_provider"), "branch/oidc-provider")
    assert provider == {"url": "https://token.actions.githubusercontent.com"}
    provider_arn = data_ref(doc, "aws_iam_openid_connect_provider", "branch/oidc-provider", "arn")
    assert statements(doc, "branch/trust") == [
        {
            "sid": "GithubActionsOidc",
            "effect": "Allow",
            "actions": ["sts:AssumeRoleWithWebIdentity"],
            "principals": [{"type": "Federated", "identifiers": [provider_arn]}],
            "condition": [
                {"test": "StringEquals", "variable": "token.actions.githubusercontent.com:aud", "values": ["sts.amazonaws.com"]},
                {"test": "StringEquals", "variable": "token.actions.githubusercontent.com:sub", "values": ["repo:my-org/app:ref:refs/heads/main"]},
            ],
        }
    ]
    assert ROLES["branch"].subject == "repo:my-org/app:ref:refs/heads/main"


def test_environment_role_trusts_exactly_the_environment_through_the_provider_it_creates(doc):
    provider = at(resources(doc, "aws_iam_openid_connect_provider"), "env/oidc-provider")
    assert provider == {
        "url": "https://token.actions.githubusercontent.com",
        "client_id_list": ["sts.amazonaws.com"],
        "thumbprint_list": ["6938fd4d98bab03faadb97b34396831e3780aea1"],
    }
    (trust,) = statements(doc, "env/trust")
    assert trust["principals"] == [{"type": "Federated", "identifiers": [resource_ref(doc, "aws_iam_openid_connect_provider", "env/oidc-provider", "arn")]}]
    assert trust["condition"] == [
        {"test": "StringEquals", "variable": "token.actions.githubusercontent.com:aud", "values": ["sts.amazonaws.com"]},
        # Case kept as given: the claim is compared case-sensitively.
        {"test": "StringEquals", "variable": "token.actions.githubusercontent.com:sub", "values": ["repo:My-Org/App.js:environment:production"]},
    ]


def test_one_provider_of_each_kind_and_no_wildcard_anywhere_in_the_trust(doc):
    assert len(resources(doc, "aws_iam_openid_connect_provider")) == 1
    assert len(data_sources(doc, "aws_iam_openid_connect_provider")) == 1
    for role in ("branch", "env"):
        for condition in statements(doc, f"{role}/trust")[0]["condition"]:
            assert condition["test"] == "StringEquals"
            assert not any("*" in value or "?" in value for value in condition["values"])


def test_roles_name_session_and_description(doc):
    branch = at(resources(doc, "aws_iam_role"), "branch/role")
    env = at(resources(doc, "aws_iam_role"), "env/role")
    assert (branch["name"], branch["max_session_duration"], branch["description"]) == (
        "cot-github-actions",
        3600,
        "GitHub Actions deploys: repo:my-org/app:ref:refs/heads/main",
    )
    assert (env["name"], env["max_session_duration"], env["description"]) == ("cot-prod-github-actions", 7200, "prod deploys")
    trust_ref = data_ref(doc, "aws_iam_policy_document", "branch/trust", "json")
    assert branch["assume_role_policy"] == trust_ref


# -- grants ---------------------------------------------------------------------------------
def test_the_branch_role_gets_exactly_the_deploy_grants(doc):
    assert sorted(granted(doc, "branch")) == ["api-repository-push", "api-service-deploy", "frontend-invalidate", "frontend-upload", "terraform-state-read"]
    assert sorted(granted(doc, "env")) == ["api-service-deploy", "terraform-state-read"]


def test_push_to_the_repository_and_log_in(doc):
    repository_arn = only_ref(doc, "aws_ecr_repository", "arn")
    assert statements(doc, "branch/api-repository-push-policy-document") == [
        {"sid": "PushImages", "effect": "Allow", "actions": list(ECR_PUSH_ACTIONS), "resources": [repository_arn]},
        {"sid": "DescribeImages", "effect": "Allow", "actions": list(ECR_DESCRIBE_IMAGES_ACTIONS), "resources": [repository_arn]},
        {"sid": "RegistryLogin", "effect": "Allow", "actions": list(ECR_AUTHORIZATION_ACTIONS), "resources": ["*"]},
    ]


def test_deploy_the_service_register_revisions_and_pass_only_its_roles_to_ecs(doc):
    c = context(doc)
    service_arn = only_ref(doc, "aws_ecs_service", "id")
    revisions = f"arn:{c['partition']}:ecs:{c['region']}:{c['account']}:task-definition/cot-api:*"
    assert statements(doc, "branch/api-service-deploy-policy-document") == [
        {"sid": "DescribeService", "effect": "Allow", "actions": ["ecs:DescribeServices"], "resources": [service_arn]},
        {
            "sid": "DeployOwnRevisions",
            "effect": "Allow",
            "actions": ["ecs:UpdateService"],
            "resources": [service_arn],
            "condition": [{"test": "ArnLike", "variable": "ecs:task-definition", "values": [revisions]}],
        },
        {"sid": "ReadTaskDefinitions", "effect": "Allow", "actions": ["ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions"], "resources": ["*"]},
        {
            "sid": "RegisterTaskDefinitions",
            "effect": "Allow",
            "actions": ["ecs:RegisterTaskDefinition"],
            "resources": [revisions],  # its own family only: staging's deployer can't register a production revision
            "condition": [{"test": "StringEquals", "variable": "aws:RequestTag/deployed-by", "values": ["tools.ecs_deploy"]}],
        },
        {"sid": "ReadRevisionTags", "effect": "Allow", "actions": ["ecs:ListTagsForResource"], "resources": [revisions]},
        {
            "sid": "TagRevisionsAtRegistration",
            "effect": "Allow",
            "actions": ["ecs:TagResource"],
            "resources": [revisions],
            "condition": [{"test": "StringEquals", "variable": "ecs:CreateAction", "values": ["RegisterTaskDefinition"]}],
        },
        {
            "sid": "PassTaskRolesToEcs",
            "effect": "Allow",
            "actions": ["iam:PassRole"],
            "resources": [TASK_ROLE, EXECUTION_ROLE],
            "condition": [{"test": "StringEquals", "variable": "iam:PassedToService", "values": ["ecs-tasks.amazonaws.com"]}],
        },
    ]


def test_the_deploy_grant_covers_every_ecs_call_of_the_deploy_tool_and_nothing_else():
    groups = (
        ECS_SERVICE_DEPLOY_ACTIONS,
        ECS_TASK_DEFINITION_READ_ACTIONS,
        ECS_REGISTER_TASK_DEFINITION_ACTIONS,
        ECS_TASK_DEFINITION_TAGS_READ_ACTIONS,
        ECS_TAG_ON_REGISTER_ACTIONS,
    )
    assert sorted(action for group in groups for action in group) == sorted(ECS_DEPLOY_ACTIONS)
    assert IAM_PASS_ROLE_ACTIONS == ("iam:PassRole",)


def test_without_tags_registration_has_no_tag_condition(doc):
    register = [s for s in statements(doc, "env/api-service-deploy-policy-document") if s["sid"] == "RegisterTaskDefinitions"]
    (revisions,) = register[0]["resources"]
    assert revisions.endswith(":task-definition/cot-api:*")
    assert register == [{"sid": "RegisterTaskDefinitions", "effect": "Allow", "actions": ["ecs:RegisterTaskDefinition"], "resources": [revisions]}]


def test_upload_the_frontend_build(doc):
    bucket_arn = only_ref(doc, "aws_s3_bucket", "arn")
    assert statements(doc, "branch/frontend-upload-policy-document") == [
        {"sid": "ListBuild", "effect": "Allow", "actions": list(S3_LIST_BUCKET_ACTIONS), "resources": [bucket_arn]},
        {"sid": "ReplaceBuild", "effect": "Allow", "actions": list(S3_SYNC_OBJECT_ACTIONS), "resources": [f"{bucket_arn}/*"]},
    ]
    assert S3_SYNC_OBJECT_ACTIONS == ("s3:DeleteObject", "s3:GetObject", "s3:PutObject")


def test_invalidate_only_this_distribution(doc):
    distribution_arn = only_ref(doc, "aws_cloudfront_distribution", "arn")
    assert statements(doc, "branch/frontend-invalidate-policy-document") == [
        {"sid": "InvalidateCache", "effect": "Allow", "actions": list(CLOUDFRONT_INVALIDATION_ACTIONS), "resources": [distribution_arn]}
    ]
    assert CLOUDFRONT_INVALIDATION_ACTIONS == ("cloudfront:CreateInvalidation", "cloudfront:GetInvalidation")


def test_read_the_environments_states_under_its_prefix_and_list_only_them(doc):
    c = context(doc)
    assert statements(doc, "branch/terraform-state-read-policy-document") == [
        {
            "sid": "ListStateBucket",
            "effect": "Allow",
            "actions": list(S3_LIST_BUCKET_ACTIONS),
            "resources": [f"arn:{c['partition']}:s3:::cot-state"],
            # Not the other environments' keys.
            "condition": [{"test": "StringLike", "variable": "s3:prefix", "values": ["staging", "staging/*"]}],
        },
        {"sid": "ReadState", "effect": "Allow", "actions": list(S3_READ_STATE_ACTIONS), "resources": [f"arn:{c['partition']}:s3:::cot-state/staging/*"]},
        {
            "sid": "ReadStateDigest",
            "effect": "Allow",
            "actions": list(DYNAMODB_READ_STATE_DIGEST_ACTIONS),
            # The state's region, not the stack's.
            "resources": [f"arn:{c['partition']}:dynamodb:eu-west-1:{c['account']}:table/cot-lock"],
            "condition": [{"test": "ForAllValues:StringLike", "variable": "dynamodb:LeadingKeys", "values": ["cot-state/staging/*-md5"]}],
        },
    ]


def test_read_one_state_object_and_its_digest_item(doc):
    c = context(doc)
    assert statements(doc, "env/terraform-state-read-policy-document") == [
        {
            "sid": "ListStateBucket",
            "effect": "Allow",
            "actions": list(S3_LIST_BUCKET_ACTIONS),
            "resources": [f"arn:{c['partition']}:s3:::cot-state"],
            "condition": [{"test": "StringEquals", "variable": "s3:prefix", "values": ["production/terraform.tfstate"]}],
        },
        {
            "sid": "ReadState",
            "effect": "Allow",
            "actions": list(S3_READ_STATE_ACTIONS),
            "resources": [f"arn:{c['partition']}:s3:::cot-state/production/terraform.tfstate"],
        },
        {
            "sid": "ReadStateDigest",
            "effect": "Allow",
            "actions": list(DYNAMODB_READ_STATE_DIGEST_ACTIONS),
            "resources": [f"arn:{c['partition']}:dynamodb:eu-west-1:{c['account']}:table/cot-lock"],
            "condition": [
                {"test": "ForAllValues:StringEquals", "variable": "dynamodb:LeadingKeys", "values": ["cot-state/production/terraform.tfstate-md5"]}
            ],
        },
    ]


def test_a_layers_state_key_is_under_the_prefix():
    assert STATE.state_key("services") == "staging/services.tfstate"
    with pytest.raises(ValueError, match="has no layers"):
        ONE_STATE.state_key("services")


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ({}, "exactly one of key_prefix"),
        ({"key_prefix": "staging", "key": "staging/terraform.tfstate"}, "exactly one of key_prefix"),
        ({"key_prefix": ""}, "key_prefix must be a non-empty S3 key"),
        ({"key_prefix": "staging/"}, "without a leading or trailing '/'"),
        ({"key_prefix": "/staging"}, "without a leading or trailing '/'"),
        ({"key_prefix": "stag*"}, r"or any of \* \? \$"),
        ({"key": "staging/?.tfstate"}, "key must be a non-empty S3 key"),
    ],
)
def test_a_state_needs_one_plain_prefix_or_key(names, message):
    with pytest.raises(ValueError, match=message):
        TerraformState(bucket="cot-state", lock_table="cot-lock", region="eu-west-1", **names)


def test_no_statement_of_either_role_uses_a_wildcard_action(doc):
    for role in ("branch", "env"):
        for name in granted(doc, role):
            for statement in statements(doc, f"{role}/{name}-policy-document"):
                assert not any("*" in action for action in statement["actions"]), (name, statement)


# -- props ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "x" * 65}, "name must be 1-64 letters, digits and +=,.@_-, but 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' was provided"),
        ({"repository": "just-a-name"}, "repository must be owner/name: an owner of 1-39 letters, digits and single '-', a name of 1-100 letters, digits, '.', '_' and '-', but 'just-a-name' was provided"),
        ({"repository": "org/*"}, "repository must be owner/name"),
        ({"branch": "a*"}, "branch must not contain '*', but 'a*' was provided"),
        ({"branch": "a..b/"}, "branch must not contain '..', but 'a..b/' was provided; branch must not end with '/', '.' or '.lock', but 'a..b/' was provided"),
        ({"environment": "prod:eu"}, "environment must be a GitHub environment name of 1-255 letters, digits, '.', '_' and '-'"),
        ({"max_session_duration_seconds": 900}, "max_session_duration_seconds must be between 3600 and 43200, but 900 was provided"),
    ],
)
def test_props_validation_messages(kwargs, message):
    with pytest.raises(ValueError) as caught:
        GithubActionsRoleProps(**{"name": "deploy", "repository": "my-org/app", **kwargs})
    assert str(caught.value).startswith("GithubActionsRoleProps: ")
    assert message in str(caught.value)


def test_branch_rules_do_not_apply_with_an_environment():
    props = GithubActionsRoleProps(name="deploy", repository="my-org/app", branch="not a branch", environment="staging")
    assert props.subject == "repo:my-org/app:environment:staging"
