"""A private S3 bucket: the one way this project makes a bucket.

The frontend (the React build, read by CloudFront) and the audit trail
(CloudTrail's log files) need the same bucket:

* all public access blocked and ACLs off (BucketOwnerEnforced), so only the
  bucket policy and IAM decide who reads it;
* default encryption: SSE-S3, or SSE-KMS with ``kms_key_arn``;
* versioning, so a deleted or overwritten object can be restored, with
  one lifecycle rule that expires replaced versions, aborts multipart
  uploads left unfinished after 7 days and, where asked, archives and
  expires current objects;
* a bucket policy (``add_policy``) of the caller's service statements plus
  one that refuses any request without TLS, which every bucket here has.

Checkov skips stay with the caller, on ``bucket``: why a check does not fit
depends on what the bucket holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
    S3BucketLifecycleConfigurationRuleTransition,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import S3BucketOwnershipControls, S3BucketOwnershipControlsRule
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import S3BucketVersioningA, S3BucketVersioningVersioningConfiguration
from cdktf import TerraformStack
from constructs import Construct

from constructs_lib._validation import Problems, is_token

BUCKET_NAME_PATTERN = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
BUCKET_NAME_DESCRIPTION = "an S3 bucket name: 3-63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit"
# Storage classes a lifecycle rule can move objects to; the two IA classes
# take objects only after 30 days in Standard.
ARCHIVE_STORAGE_CLASSES = ("STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE")
MIN_DAYS_BEFORE_IA = 30
ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS = 7
MAX_LIFECYCLE_RULE_ID_LENGTH = 255  # S3
DENY_WITHOUT_TLS_SID = "DenyRequestsWithoutTls"
# A deny, so every S3 action: nothing at all goes over plain HTTP. (Not in
# actions.py, whose lists are grants and never hold a wildcard.)
DENY_WITHOUT_TLS_ACTIONS = ("s3:*",)


# Live audit (prowler): MFA delete is not something Terraform can turn on.
MFA_DELETE_REASON = (
    "MFA delete can be turned on only by the root user with its MFA device through the S3 API, never by the role "
    "Terraform runs as; versioning keeps every deleted version and CloudTrail records each delete"
)


@dataclass(frozen=True, kw_only=True)
class PrivateBucketProps:
    """Inputs of a private bucket.

    bucket_name: an S3 bucket name, 3-63 lower-case letters, digits, '.' and
        '-', starting and ending with a letter or digit (names are global).
    force_destroy: let ``terraform destroy`` delete the bucket with its
        objects and versions. Default False: a private bucket here holds
        something that has no other copy (earlier builds, audit records), so
        a destroy stops at a non-empty bucket.
    kms_key_arn: SSE-KMS with this customer-managed key. Default None
        (SSE-S3: S3's own keys, no key policy to keep in step).
    bucket_key_enabled: with ``kms_key_arn``, use an S3 Bucket Key (fewer KMS
        requests, but KMS no longer sees each object's own encryption
        context). Default False, S3's own default; not allowed without a key.
    noncurrent_version_expiration_days: days a replaced or deleted object
        version is kept, 1-3650. Default 30.
    expiration_days: days after which current objects expire, 1 or more.
        Default None (objects are kept until deleted).
    archive_after_days: days after which current objects move to
        ``archive_storage_class``, 1-3650 and less than ``expiration_days``
        (at least 30 for STANDARD_IA and ONEZONE_IA). Default None (they stay
        in Standard).
    archive_storage_class: one of STANDARD_IA, ONEZONE_IA,
        INTELLIGENT_TIERING, GLACIER_IR, GLACIER, DEEP_ARCHIVE. Default
        GLACIER_IR: cheap, and still read in milliseconds.
    lifecycle_rule_id: ID of the lifecycle rule, 1-255 characters, shown by
        ``aws s3api get-bucket-lifecycle-configuration``. Default
        ``expire-noncurrent-versions``.
    """

    bucket_name: str
    force_destroy: bool = False
    kms_key_arn: str | None = None
    bucket_key_enabled: bool = False
    noncurrent_version_expiration_days: int = 30
    expiration_days: int | None = None
    archive_after_days: int | None = None
    archive_storage_class: str = "GLACIER_IR"
    lifecycle_rule_id: str = "expire-noncurrent-versions"

    def __post_init__(self) -> None:
        problems = Problems("PrivateBucketProps")
        problems.matches("bucket_name", self.bucket_name, BUCKET_NAME_PATTERN, BUCKET_NAME_DESCRIPTION)
        if self.kms_key_arn is not None and not is_token(self.kms_key_arn) and not self.kms_key_arn.startswith("arn:"):
            problems.add(f"kms_key_arn must be a KMS key ARN or None (SSE-S3), but {self.kms_key_arn!r} was provided")
        if self.bucket_key_enabled and self.kms_key_arn is None:
            problems.add("bucket_key_enabled needs kms_key_arn (an S3 Bucket Key is for SSE-KMS only), but True was provided without a key")
        problems.between("noncurrent_version_expiration_days", self.noncurrent_version_expiration_days, 1, 3650)
        if self.expiration_days is not None and (isinstance(self.expiration_days, bool) or self.expiration_days < 1):
            problems.add(f"expiration_days must be at least 1, or None to keep objects, but {self.expiration_days!r} was provided")
        if self.archive_after_days is not None:
            problems.between("archive_after_days", self.archive_after_days, 1, 3650)
            if self.expiration_days is not None and self.archive_after_days >= self.expiration_days:
                problems.add(
                    f"archive_after_days must be less than expiration_days ({self.expiration_days}; S3 moves an object only before it expires), "
                    f"but {self.archive_after_days!r} was provided"
                )
            if self.archive_storage_class in ("STANDARD_IA", "ONEZONE_IA") and self.archive_after_days < MIN_DAYS_BEFORE_IA:
                problems.add(
                    f"archive_after_days must be at least {MIN_DAYS_BEFORE_IA} with {self.archive_storage_class} (S3's minimum), "
                    f"but {self.archive_after_days!r} was provided"
                )
        problems.one_of("archive_storage_class", self.archive_storage_class, ARCHIVE_STORAGE_CLASSES)
        if not 1 <= len(self.lifecycle_rule_id) <= MAX_LIFECYCLE_RULE_ID_LENGTH:
            problems.add(f"lifecycle_rule_id must be 1-{MAX_LIFECYCLE_RULE_ID_LENGTH} characters long, but {self.lifecycle_rule_id!r} was provided")
        problems.raise_if_any()


class PrivateBucket(Construct):
    """A versioned, encrypted bucket that no public access, ACL or plain-HTTP request reaches."""

    def __init__(self, scope: Construct, construct_id: str, props: PrivateBucketProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.policy: S3BucketPolicy | None = None
        self.policy_document: DataAwsIamPolicyDocument | None = None
        # "Default": cdktf leaves this ID out of the logical ID, so the bucket
        # keeps the address its parent's child "bucket" had (and
        # ``node.default_child`` finds it).
        self.bucket = S3Bucket(self, "Default", bucket=props.bucket_name, force_destroy=props.force_destroy)
        self.public_access_block = S3BucketPublicAccessBlock(
            self,
            "public-access-block",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        self.ownership_controls = S3BucketOwnershipControls(
            self, "ownership-controls", bucket=self.bucket.id, rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced")
        )
        self.encryption = S3BucketServerSideEncryptionConfigurationA(self, "encryption", bucket=self.bucket.id, rule=[self._encryption_rule()])
        self.versioning = S3BucketVersioningA(
            self, "versioning", bucket=self.bucket.id, versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled")
        )
        self.lifecycle = S3BucketLifecycleConfiguration(
            self,
            "lifecycle",
            bucket=self.bucket.id,
            rule=[self._lifecycle_rule()],
            # A lifecycle rule on versions must follow versioning being enabled.
            depends_on=[self.versioning],
        )

    def _encryption_rule(self) -> S3BucketServerSideEncryptionConfigurationRuleA:
        if self.props.kms_key_arn is None:
            return S3BucketServerSideEncryptionConfigurationRuleA(
                apply_server_side_encryption_by_default=S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(sse_algorithm="AES256"),
            )
        return S3BucketServerSideEncryptionConfigurationRuleA(
            apply_server_side_encryption_by_default=S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                sse_algorithm="aws:kms", kms_master_key_id=self.props.kms_key_arn
            ),
            bucket_key_enabled=self.props.bucket_key_enabled,
        )

    def _lifecycle_rule(self) -> S3BucketLifecycleConfigurationRule:
        props = self.props
        return S3BucketLifecycleConfigurationRule(
            id=props.lifecycle_rule_id,
            status="Enabled",
            filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
            transition=(
                [S3BucketLifecycleConfigurationRuleTransition(days=props.archive_after_days, storage_class=props.archive_storage_class)]
                if props.archive_after_days is not None
                else None
            ),
            expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=props.expiration_days)] if props.expiration_days is not None else None,
            noncurrent_version_expiration=[
                S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(noncurrent_days=props.noncurrent_version_expiration_days)
            ],
            abort_incomplete_multipart_upload=[
                S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS)
            ],
        )

    # -- the bucket policy -----------------------------------------------------------
    def add_policy(self, statements: Sequence[DataAwsIamPolicyDocumentStatement], scope: Construct | None = None) -> S3BucketPolicy:
        """Attach the bucket policy: ``statements``, then the deny of requests without TLS.

        Callers write only what their service may do; the TLS deny is the
        same on every bucket, so it is added here. A bucket has one policy,
        so this can be called once. The policy waits for the public access
        block: S3 checks a new policy against the block, and two changes to
        one bucket at once can fail with OperationAborted. ``scope`` puts
        the policy in another construct (another layer's, when it names
        that layer's resources); a later layer's apply finds the block made.
        """
        if self.policy is not None:
            raise ValueError(f"{self.node.path}: the bucket already has its policy (one per bucket)")
        owner = scope or self
        same_stack = TerraformStack.of(owner) is TerraformStack.of(self)
        self.policy_document = DataAwsIamPolicyDocument(owner, "policy-document", statement=[*statements, self._deny_without_tls()])
        self.policy = S3BucketPolicy(
            owner,
            "policy",
            bucket=self.bucket.id,
            policy=self.policy_document.json,
            depends_on=[self.public_access_block] if same_stack else None,
        )
        return self.policy

    def _deny_without_tls(self) -> DataAwsIamPolicyDocumentStatement:
        return DataAwsIamPolicyDocumentStatement(
            sid=DENY_WITHOUT_TLS_SID,
            effect="Deny",
            principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="*", identifiers=["*"])],
            actions=list(DENY_WITHOUT_TLS_ACTIONS),
            resources=[self.bucket_arn, f"{self.bucket_arn}/*"],
            condition=[DataAwsIamPolicyDocumentStatementCondition(test="Bool", variable="aws:SecureTransport", values=["false"])],
        )

    # -- attributes -------------------------------------------------------------------
    @property
    def bucket_name(self) -> str:
        return self.bucket.bucket

    @property
    def bucket_arn(self) -> str:
        return self.bucket.arn

    @property
    def bucket_regional_domain_name(self) -> str:
        """``<name>.s3.<region>.amazonaws.com``, what CloudFront uses as an S3 origin."""
        return self.bucket.bucket_regional_domain_name
