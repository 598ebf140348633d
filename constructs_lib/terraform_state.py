"""Where an environment's Terraform state lives, and the grant to read it.

The backend (bucket and lock table) is made by tools/bootstrap.py, not by a
stack, so this is not a construct: just the names, and the grant the deploy
workflows need to run ``terraform output`` (they read the stack's outputs
instead of keeping a second copy of every resource name).

An environment's state is every object under one key prefix: a layered
environment keeps each layer's state at ``<key_prefix>/<layer>.tfstate``
(the prefix defaults to the environment's name), so the grant covers the
prefix, not one key, and nothing outside it::

    TerraformState(bucket="cot-state", key_prefix="staging", lock_table="cot-lock", region="eu-west-1").grant_read(role)

A stack that still keeps its whole state in one object may name that object
instead (``key="staging/terraform.tfstate"``, not ``key_prefix``); the grant
then covers exactly that key.

Reading the state takes, per Terraform's S3 backend documentation:
``s3:ListBucket`` on the bucket (``terraform init`` lists the workspaces),
``s3:GetObject`` on the state objects, and, with DynamoDB locking,
``dynamodb:GetItem`` on the backend's digest items ``<bucket>/<key>-md5``
(the consistency check). No write and no lock: ``terraform output`` takes
neither. The bucket uses SSE-S3 and the table the AWS managed key, so no KMS
permission either.

ListBucket is limited with ``s3:prefix`` to the environment's keys, so the
role cannot list other environments' states. ``terraform init`` also lists
the default workspace prefix ``env:/``; since Terraform 1.7 the S3 backend
ignores the AccessDenied that listing gets when ``workspace_key_prefix`` is
not set (hashicorp/terraform#34511), which the stacks do not set. The lock
table's items are scoped with ``dynamodb:LeadingKeys`` to the digest items of
the environment's keys; the lock items ``<bucket>/<key>`` are never read.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs_lib.actions import DYNAMODB_READ_STATE_DIGEST_ACTIONS, S3_LIST_BUCKET_ACTIONS, S3_READ_STATE_ACTIONS
from constructs_lib.aws_context import AwsContext
from constructs_lib.iam import Condition, Role, Statement

# IAM's StringLike wildcards, and what would make a prefix or key ambiguous.
_NOT_IN_KEYS = ("*", "?", "$")


@dataclass(frozen=True, kw_only=True)
class TerraformState:
    """One environment's S3 backend settings (its stacks' ``S3Backend``).

    bucket: the state bucket. lock_table: the DynamoDB lock table.
    region: the bucket's and table's region.
    key_prefix: the folder of the environment's state objects, without
    slashes at either end (``staging`` for ``staging/<layer>.tfstate``).
    key: instead of ``key_prefix``, the one state object of a stack that is
    not split into layers.
    Exactly one of ``key_prefix`` and ``key`` is given.
    """

    bucket: str
    lock_table: str
    region: str
    key_prefix: str | None = None
    key: str | None = None

    def __post_init__(self) -> None:
        if (self.key_prefix is None) == (self.key is None):
            raise ValueError("TerraformState takes exactly one of key_prefix (a layered environment) and key (one state object)")
        value = self.key_prefix if self.key is None else self.key
        name = "key_prefix" if self.key is None else "key"
        if not value or value.startswith("/") or value.endswith("/") or any(char in value for char in _NOT_IN_KEYS):
            raise ValueError(f"{name} must be a non-empty S3 key without a leading or trailing '/' or any of {' '.join(_NOT_IN_KEYS)}, but {value!r} was provided")

    def state_key(self, layer: str) -> str:
        """The key of ``layer``'s state under the prefix: ``<key_prefix>/<layer>.tfstate``."""
        if self.key_prefix is None:
            raise ValueError(f"this state is the one object {self.key!r}; it has no layers")
        return f"{self.key_prefix}/{layer}.tfstate"

    @property
    def object_pattern(self) -> str:
        """The state objects' keys: ``<key_prefix>/*``, or the one ``key``."""
        return self.key if self.key is not None else f"{self.key_prefix}/*"

    @property
    def digest_item_pattern(self) -> str:
        """The lock table items where the S3 backend keeps the states' MD5 digests (``<bucket>/<key>-md5``)."""
        return f"{self.bucket}/{self.object_pattern}-md5"

    def grant_read(self, role: Role) -> None:
        """Read the environment's state objects and nothing else of the backend (what ``terraform init`` + ``terraform output`` do)."""
        context = AwsContext.of(role)
        bucket_arn = f"arn:{context.partition}:s3:::{self.bucket}"
        table_arn = f"arn:{context.partition}:dynamodb:{self.region}:{context.account_id}:table/{self.lock_table}"
        if self.key is not None:
            list_condition = Condition("StringEquals", "s3:prefix", (self.key,))
            digest_condition = Condition("ForAllValues:StringEquals", "dynamodb:LeadingKeys", (self.digest_item_pattern,))
        else:
            list_condition = Condition("StringLike", "s3:prefix", (self.key_prefix, f"{self.key_prefix}/*"))
            digest_condition = Condition("ForAllValues:StringLike", "dynamodb:LeadingKeys", (self.digest_item_pattern,))
        role.grant(
            "terraform-state-read",
            [
                Statement(sid="ListStateBucket", actions=S3_LIST_BUCKET_ACTIONS, resources=(bucket_arn,), conditions=(list_condition,)),
                Statement(sid="ReadState", actions=S3_READ_STATE_ACTIONS, resources=(f"{bucket_arn}/{self.object_pattern}",)),
                Statement(
                    sid="ReadStateDigest",
                    actions=DYNAMODB_READ_STATE_DIGEST_ACTIONS,
                    resources=(table_arn,),
                    conditions=(digest_condition,),
                ),
            ],
        )
