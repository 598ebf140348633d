"""ECR repositories: immutable tags, scan on push, KMS, the last N images kept.

Tags are IMMUTABLE because of how images are deployed (tools/ecs_deploy.py):
CI pushes ``<repository_url>:<commit-sha>`` and registers a task-definition
revision naming that tag. A tag that can never be re-pointed means a
revision always runs the same bytes, so rolling back to a revision restores
exactly the image it ran before. A mutable tag (``latest``) would let a
push change what an old revision runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn
from cdktf_cdktf_provider_aws.ecr_lifecycle_policy import EcrLifecyclePolicy
from cdktf_cdktf_provider_aws.ecr_repository import (
    EcrRepository,
    EcrRepositoryEncryptionConfiguration,
    EcrRepositoryImageScanningConfiguration,
)
from constructs import Construct

from constructs_lib._validation import Problems
from constructs_lib.actions import ECR_AUTHORIZATION_ACTIONS, ECR_DESCRIBE_IMAGES_ACTIONS, ECR_PULL_ACTIONS, ECR_PUSH_ACTIONS
from constructs_lib.iam import Role, ServiceRole, Statement

_NAME = r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"


@dataclass(frozen=True, kw_only=True)
class RepositoryProps:
    """Inputs of a repository.

    name: 2-256 lower-case letters, digits and ``. _ - /``.
    kms_key_arn: customer-managed key for the images. Default None (ECR's
        AES-256 encryption). ECR decrypts through a grant it creates on the
        key, so pulling needs no KMS permission.
    image_tag_mutability: IMMUTABLE or MUTABLE. Default IMMUTABLE (see the
        module docstring).
    scan_on_push: basic vulnerability scan of every pushed image. Default True.
    max_image_count: images kept, newest first; older ones expire. 1-1000.
        Default 10. Rollback can only reach revisions whose image is still
        among them.
    force_delete: let ``terraform destroy`` delete a repository that still
        holds images. Default False: images are what every task definition
        revision runs, so deleting them by accident breaks rollbacks.
    """

    name: str
    kms_key_arn: str | None = None
    image_tag_mutability: str = "IMMUTABLE"
    scan_on_push: bool = True
    max_image_count: int = 10
    force_delete: bool = False

    def __post_init__(self) -> None:
        problems = Problems("RepositoryProps")
        if not 2 <= len(self.name) <= 256:
            problems.add(f"name must be between 2 and 256 characters long, but {self.name!r} was provided")
        problems.matches("name", self.name, _NAME, "lower-case letters and digits separated by single . _ - or /")
        problems.one_of("image_tag_mutability", self.image_tag_mutability, ("IMMUTABLE", "MUTABLE"))
        problems.between("max_image_count", self.max_image_count, 1, 1000)
        problems.raise_if_any()


class Repository(Construct):
    """One private ECR repository with its lifecycle policy."""

    def __init__(self, scope: Construct, construct_id: str, props: RepositoryProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        if props.kms_key_arn is None:
            encryption = EcrRepositoryEncryptionConfiguration(encryption_type="AES256")
        else:
            encryption = EcrRepositoryEncryptionConfiguration(encryption_type="KMS", kms_key=props.kms_key_arn)
        self.repository = EcrRepository(
            self,
            "repository",
            name=props.name,
            image_tag_mutability=props.image_tag_mutability,
            image_scanning_configuration=EcrRepositoryImageScanningConfiguration(scan_on_push=props.scan_on_push),
            encryption_configuration=[encryption],
            force_delete=props.force_delete,
        )
        self.lifecycle_policy = EcrLifecyclePolicy(
            self,
            "lifecycle-policy",
            repository=self.repository.name,
            policy=Fn.jsonencode(
                {
                    "rules": [
                        {
                            "rulePriority": 1,
                            "description": f"Keep the last {props.max_image_count} images",
                            "selection": {
                                "tagStatus": "any",
                                "countType": "imageCountMoreThan",
                                "countNumber": props.max_image_count,
                            },
                            "action": {"type": "expire"},
                        }
                    ]
                }
            ),
        )

    # -- attributes ------------------------------------------------------------------
    @property
    def repository_url(self) -> str:
        return self.repository.repository_url

    @property
    def repository_arn(self) -> str:
        return self.repository.arn

    @property
    def repository_name(self) -> str:
        return self.repository.name

    # -- grants ----------------------------------------------------------------------
    def grant_pull(self, role: ServiceRole) -> None:
        """Pull this repository's images (and log in to the registry)."""
        role.grant(
            f"{self.node.id}-pull",
            [
                Statement(sid="PullImages", actions=ECR_PULL_ACTIONS, resources=(self.repository_arn,)),
                # GetAuthorizationToken has no resource-level permissions.
                Statement(sid="RegistryLogin", actions=ECR_AUTHORIZATION_ACTIONS, resources=("*",)),
            ],
        )

    def grant_push(self, role: Role) -> None:
        """Push images to this repository, see which tags it holds (and log in to the registry).

        No KMS permission: as for pulls, ECR encrypts through its own grant on the key.
        """
        role.grant(
            f"{self.node.id}-push",
            [
                Statement(sid="PushImages", actions=ECR_PUSH_ACTIONS, resources=(self.repository_arn,)),
                self._describe_images_statement(),
                # GetAuthorizationToken has no resource-level permissions.
                Statement(sid="RegistryLogin", actions=ECR_AUTHORIZATION_ACTIONS, resources=("*",)),
            ],
        )

    def grant_describe_images(self, role: Role) -> None:
        """Read this repository's image details (tags, push times) and nothing else: the ECR-push updater compares push times."""
        role.grant(f"{self.node.id}-describe-images", [self._describe_images_statement()])

    def _describe_images_statement(self) -> Statement:
        return Statement(sid="DescribeImages", actions=ECR_DESCRIBE_IMAGES_ACTIONS, resources=(self.repository_arn,))
