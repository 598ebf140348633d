"""constructs_lib/registry.py: ECR repositories, grant_pull and grant_describe_images."""

from __future__ import annotations

import pytest

from constructs_lib.actions import ECR_AUTHORIZATION_ACTIONS, ECR_DESCRIBE_IMAGES_ACTIONS, ECR_PULL_ACTIONS
from constructs_lib.iam import ServiceRole, ServiceRoleProps
from constructs_lib.registry import Repository, RepositoryProps
from tests.support import at, data_sources, logical_id, ref, resources, synth_construct

KEY = "arn:aws:kms:us-east-1:111122223333:key/ecr"


@pytest.fixture(scope="module")
def doc():
    def build(stack):
        api = Repository(stack, "api-repository", RepositoryProps(name="cot-api", kms_key_arn=KEY))
        Repository(stack, "plain-repository", RepositoryProps(name="cot-plain", image_tag_mutability="MUTABLE", max_image_count=3, scan_on_push=False))
        role = ServiceRole(stack, "execution", ServiceRoleProps(name="exec", service="ecs-tasks.amazonaws.com"))
        api.grant_pull(role)
        reader = ServiceRole(stack, "reader", ServiceRoleProps(name="reader", service="lambda.amazonaws.com"))
        api.grant_describe_images(reader)

    return synth_construct(build)


def test_repository_is_immutable_scanned_kms_encrypted_and_kept(doc):
    repository = at(resources(doc, "aws_ecr_repository"), "api-repository")
    assert repository["name"] == "cot-api"
    assert repository["image_tag_mutability"] == "IMMUTABLE"
    assert repository["image_scanning_configuration"] == {"scan_on_push": True}
    assert repository["encryption_configuration"] == [{"encryption_type": "KMS", "kms_key": KEY}]
    assert repository["force_delete"] is False


def test_without_a_key_ecr_uses_aes256(doc):
    repository = at(resources(doc, "aws_ecr_repository"), "plain-repository")
    assert repository["encryption_configuration"] == [{"encryption_type": "AES256"}]
    assert repository["image_tag_mutability"] == "MUTABLE"
    assert repository["image_scanning_configuration"] == {"scan_on_push": False}


def test_lifecycle_keeps_the_last_ten_images_by_default(doc):
    repositories = resources(doc, "aws_ecr_repository")
    policy = at(resources(doc, "aws_ecr_lifecycle_policy"), "api-repository/lifecycle-policy")
    assert policy["repository"] == ref(doc, "aws_ecr_repository", logical_id(repositories, "api-repository"), "name")
    # Fn.jsonencode renders an HCL jsonencode() expression.
    assert policy["policy"].startswith("${jsonencode(")
    for part in ('"tagStatus" = "any"', '"countType" = "imageCountMoreThan"', '"countNumber" = 10', '"type" = "expire"'):
        assert part in policy["policy"], part
    assert '"countNumber" = 3' in at(resources(doc, "aws_ecr_lifecycle_policy"), "plain-repository/lifecycle-policy")["policy"]


def test_grant_pull_names_the_repository_and_logs_in_on_star_only(doc):
    repositories = resources(doc, "aws_ecr_repository")
    statements = at(data_sources(doc, "aws_iam_policy_document"), "execution/api-repository-pull-policy-document")["statement"]
    pull, login = statements
    assert pull["actions"] == list(ECR_PULL_ACTIONS)
    assert pull["resources"] == [ref(doc, "aws_ecr_repository", logical_id(repositories, "api-repository"), "arn")]
    assert login["actions"] == list(ECR_AUTHORIZATION_ACTIONS) == ["ecr:GetAuthorizationToken"]
    assert login["resources"] == ["*"]
    assert at(resources(doc, "aws_iam_role_policy"), "execution/api-repository-pull-policy")["name"] == "api-repository-pull"


def test_grant_describe_images_names_the_repository_and_nothing_else(doc):
    repositories = resources(doc, "aws_ecr_repository")
    statements = at(data_sources(doc, "aws_iam_policy_document"), "reader/api-repository-describe-images-policy-document")["statement"]
    assert statements == [
        {
            "sid": "DescribeImages",
            "effect": "Allow",
            "actions": list(ECR_DESCRIBE_IMAGES_ACTIONS),
            "resources": [ref(doc, "aws_ecr_repository", logical_id(repositories, "api-repository"), "arn")],
        }
    ]
    assert ECR_DESCRIBE_IMAGES_ACTIONS == ("ecr:DescribeImages",)
    assert at(resources(doc, "aws_iam_role_policy"), "reader/api-repository-describe-images-policy")["name"] == "api-repository-describe-images"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "a"}, "name must be between 2 and 256 characters long, but 'a' was provided"),
        ({"name": "Cot-Api"}, "name must be lower-case letters and digits separated by single . _ - or /, but 'Cot-Api' was provided"),
        ({"name": "cot--api"}, "but 'cot--api' was provided"),
        ({"image_tag_mutability": "mutable"}, "image_tag_mutability must be one of IMMUTABLE, MUTABLE, but 'mutable' was provided"),
        ({"max_image_count": 0}, "max_image_count must be between 1 and 1000, but 0 was provided"),
        ({"max_image_count": 1001}, "max_image_count must be between 1 and 1000, but 1001 was provided"),
    ],
)
def test_props_validation_messages(kwargs, message):
    with pytest.raises(ValueError, match="^RepositoryProps: ") as caught:
        RepositoryProps(**{"name": "cot-api", **kwargs})
    assert message in str(caught.value)
