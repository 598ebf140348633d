"""Where an environment's Terraform state lives, and the grant to read it.

The backend (bucket and lock table) is made by tools/bootstrap.py, not by a
stack, so this is not a construct: just the names, and the grant the deploy
workflows need to run ``terraform output`` (they read the stack's outputs
instead of keeping a second copy of every resource name).

Reading one environment's state takes, per Terraform's S3 backend
documentation: ``s3:ListBucket`` on the bucket (``terraform init`` lists the
workspaces), ``s3:GetObject`` on the state object, and, with DynamoDB
locking, ``dynamodb:GetItem`` on the backend's digest item
``<bucket>/<key>-md5`` (the consistency check). No write and no lock:
``terraform output`` takes neither. The bucket uses SSE-S3 and the table the
AWS managed key, so no KMS permission either.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs_lib.actions import DYNAMODB_READ_STATE_DIGEST_ACTIONS, S3_LIST_BUCKET_ACTIONS, S3_READ_STATE_ACTIONS
from constructs_lib.aws_context import AwsContext
from constructs_lib.iam import Condition, Role, Statement


@dataclass(frozen=True, kw_only=True)
class TerraformState:
    """One environment's S3 backend settings (the stack's ``S3Backend``).

    bucket: the state bucket. key: the state object's key.
    lock_table: the DynamoDB lock table. region: the bucket's and table's region.
    """

    bucket: str
    key: str
    lock_table: str
    region: str

    @property
    def digest_item_id(self) -> str:
        """The lock table item where the S3 backend keeps the state's MD5 digest."""
        return f"{self.bucket}/{self.key}-md5"

    def grant_read(self, role: Role) -> None:
        """Read this state and nothing else of the backend (what ``terraform init`` + ``terraform output`` do)."""
        context = AwsContext.of(role)
        bucket_arn = f"arn:{context.partition}:s3:::{self.bucket}"
        table_arn = f"arn:{context.partition}:dynamodb:{self.region}:{context.account_id}:table/{self.lock_table}"
        role.grant(
            "terraform-state-read",
            [
                Statement(sid="ListStateBucket", actions=S3_LIST_BUCKET_ACTIONS, resources=(bucket_arn,)),
                Statement(sid="ReadState", actions=S3_READ_STATE_ACTIONS, resources=(f"{bucket_arn}/{self.key}",)),
                Statement(
                    sid="ReadStateDigest",
                    actions=DYNAMODB_READ_STATE_DIGEST_ACTIONS,
                    resources=(table_arn,),
                    conditions=(Condition("ForAllValues:StringEquals", "dynamodb:LeadingKeys", (self.digest_item_id,)),),
                ),
            ],
        )
