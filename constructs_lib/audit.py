"""The audit trail: a multi-region CloudTrail trail into its own private bucket.

What it records: every management event (read and write) of the account in
every region, global services (IAM, STS, CloudFront) included, with log file
validation on, so a digest file signed by CloudTrail proves that no log file
was changed or deleted afterwards (``aws cloudtrail validate-logs``). Data
events (S3 object reads, DynamoDB item calls) are off: they are billed per
event and the app's own logs cover them.

Where it goes:

* the bucket, private and encrypted with the trail's own KMS key (the
  ``cloudtrail`` key; ``cloudtrail_key_principals`` gives the statements
  AWS documents for it). Its policy lets only this trail write, and only
  under ``AWSLogs/<account>/``, with ``bucket-owner-full-control``; it
  refuses any request without TLS. Versioning keeps a deleted log file for
  ``noncurrent_version_expiration_days``; log files move to Glacier Instant
  Retrieval after ``archive_after_days`` (S3 does not transition objects
  under 128 KB, which most log files are: they stay in Standard, where they
  cost less than the transition request) and expire after
  ``log_retention_days``.
* a CloudWatch Logs group (same retention, the logs key), for Logs Insights
  queries and metric filters without downloading files. CloudTrail writes
  it through a role only it can assume.

Names are fixed at synth (``arn:...:trail/<trail_name>``), which is what
lets the key and bucket policies name the trail by ARN before it exists:
referencing the trail's ``arn`` attribute would make a cycle (the trail
needs the key and the bucket policy first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudtrail import Cloudtrail, CloudtrailEventSelector, CloudtrailEventSelectorDataResource
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from constructs import Construct

from constructs_lib._validation import Problems, is_token
from constructs_lib.actions import (
    KMS_CLOUDTRAIL_DESCRIBE_ACTIONS,
    KMS_CLOUDTRAIL_ENCRYPT_ACTIONS,
    LOGS_WRITE_ACTIONS,
    S3_CLOUDTRAIL_ACL_CHECK_ACTIONS,
    S3_CLOUDTRAIL_WRITE_ACTIONS,
)
from constructs_lib.aws_context import AwsContext
from constructs_lib.bucket import BUCKET_NAME_DESCRIPTION, BUCKET_NAME_PATTERN, MFA_DELETE_REASON, PrivateBucket, PrivateBucketProps
from constructs_lib.encryption import KeyServicePrincipal
from constructs_lib.iam import Condition, ServiceRole, ServiceRoleProps, Statement
from constructs_lib.limits import LOG_RETENTION_DAYS
from constructs_lib.logs import LogGroup, LogGroupProps
from constructs_lib.policy import accept_finding, skip_check

CLOUDTRAIL_PRINCIPAL = "cloudtrail.amazonaws.com"
ARCHIVE_STORAGE_CLASS = "GLACIER_IR"  # Glacier Instant Retrieval: cheap, still read in milliseconds in an incident
BUCKET_OWNER_FULL_CONTROL = "bucket-owner-full-control"
MAX_ROLE_NAME_LENGTH = 64  # IAM
LOGS_ROLE_SUFFIX = "-logs"
_TRAIL_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]"

# checkov checks that do not fit the audit bucket and trail, with the reason the README lists.
BUCKET_CHECKS_NOT_APPLICABLE = {
    "CKV_AWS_18": "Audit bucket: the trail records every management call on it; server access logs would need a further, ACL-enabled bucket",
    "CKV_AWS_144": "Audit bucket: log file validation proves integrity and the trail covers every region; a replica would double storage for no reader",
    "CKV2_AWS_62": "Audit bucket: nothing processes new log files on arrival; the CloudWatch Logs copy is what alarms and queries read",
}
# Live-audit (prowler) findings the design accepts.
BUCKET_FINDINGS_ACCEPTED = {
    "s3_bucket_server_access_logging_enabled": BUCKET_CHECKS_NOT_APPLICABLE["CKV_AWS_18"],
    "s3_bucket_event_notifications_enabled": BUCKET_CHECKS_NOT_APPLICABLE["CKV2_AWS_62"],
    "s3_bucket_cross_region_replication": BUCKET_CHECKS_NOT_APPLICABLE["CKV_AWS_144"],
    "s3_bucket_no_mfa_delete": MFA_DELETE_REASON,
    "s3_bucket_object_lock": "Log file validation (CloudTrail's signed SHA-256 digest chain) proves each log file unchanged and present; Object Lock would also block the lifecycle's expiry of old logs",
}
TRAIL_FINDINGS_ACCEPTED = {
    "cloudtrail_bucket_requires_mfa_delete": MFA_DELETE_REASON,
    "cloudtrail_logs_s3_bucket_access_logging_enabled": BUCKET_CHECKS_NOT_APPLICABLE["CKV_AWS_18"],
    "cloudtrail_insights_exist": "Insights bills every management event it analyses; the paging alarms (API errors and latency, the queue, the tables) watch this app's unusual activity",
}
TRAIL_CHECKS_NOT_APPLICABLE = {
    "CKV_AWS_252": "An SNS notice per delivered log file (hundreds a day) has no consumer; alarms read the CloudWatch Logs copy instead",
}


def trail_arn_for(scope: Construct, trail_name: str) -> str:
    """``arn:<partition>:cloudtrail:<region>:<account>:trail/<name>``, known before the trail exists."""
    return AwsContext.of(scope).arn("cloudtrail", f"trail/{trail_name}")


def cloudtrail_key_principals(scope: Construct, trail_name: str) -> tuple[KeyServicePrincipal, ...]:
    """The ``cloudtrail`` key's statements for CloudTrail, as AWS documents them.

    CloudTrail may generate data keys only for trails of this account
    (``kms:EncryptionContext:aws:cloudtrail:arn``) and only on behalf of this
    trail (``aws:SourceArn``); it may read the key's metadata for this trail.
    """
    context = AwsContext.of(scope)
    source = Condition("StringEquals", "aws:SourceArn", (trail_arn_for(scope, trail_name),))
    return (
        KeyServicePrincipal(
            service=CLOUDTRAIL_PRINCIPAL,
            actions=KMS_CLOUDTRAIL_ENCRYPT_ACTIONS,
            conditions=(
                Condition(
                    "StringLike",
                    "kms:EncryptionContext:aws:cloudtrail:arn",
                    (f"arn:{context.partition}:cloudtrail:*:{context.account_id}:trail/*",),
                ),
                source,
            ),
            sid="CloudTrailEncryptsLogFiles",
        ),
        KeyServicePrincipal(
            service=CLOUDTRAIL_PRINCIPAL,
            actions=KMS_CLOUDTRAIL_DESCRIBE_ACTIONS,
            conditions=(source,),
            sid="CloudTrailDescribesKey",
        ),
    )


@dataclass(frozen=True, kw_only=True)
class AuditTrailProps:
    """Inputs of the audit trail.

    trail_name: 3-59 letters, digits, '.', '_' and '-', starting and ending
        with a letter or digit, no two of '.', '_', '-' in a row (CloudTrail
        allows 128; the CloudWatch Logs role ``<trail_name>-logs`` must fit
        IAM's 64).
    bucket_name: the trail's own bucket, an S3 bucket name: 3-63 lower-case
        letters, digits, '.' and '-'. Nothing else writes to it.
    kms_key_arn: the key of log files, digest files and the bucket (the
        ``cloudtrail`` key, with ``cloudtrail_key_principals`` in its policy).
    log_kms_key_arn: key of the CloudWatch Logs group (the logs key, whose
        policy admits CloudWatch Logs). Default None (CloudWatch's own).
    log_retention_days: days a log file (and a CloudWatch Logs event) is
        kept, one of the CloudWatch Logs values (1, 3, 5, ... 3653). Default
        365: a year of "who changed what", what an incident review or an
        audit asks for.
    archive_after_days: days after which log files move to Glacier Instant
        Retrieval, 1-3650; 0, or not less than log_retention_days, keeps them
        in Standard. Default 90.
    noncurrent_version_expiration_days: days a deleted or replaced log file
        version is kept, 1-3650. Default 30: time to notice a deletion.
    force_destroy: let ``terraform destroy`` delete the bucket with its
        log files. Default False: the bucket is the audit record, so a destroy
        stops at a non-empty bucket.
    data_event_bucket_arns: buckets whose object writes (PutObject,
        DeleteObject, ...) the trail records as data events, as ARNs. Default none.
    """

    trail_name: str
    bucket_name: str
    kms_key_arn: str
    log_kms_key_arn: str | None = None
    log_retention_days: int = 365
    archive_after_days: int = 90
    noncurrent_version_expiration_days: int = 30
    force_destroy: bool = False
    data_event_bucket_arns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems = Problems("AuditTrailProps")
        longest = MAX_ROLE_NAME_LENGTH - len(LOGS_ROLE_SUFFIX)
        if is_token(self.trail_name):
            problems.add("trail_name must be known at synth (key and bucket policies name the trail by ARN), but a token was provided")
        elif not re.fullmatch(_TRAIL_NAME, self.trail_name) or re.search(r"[._-]{2}", self.trail_name) or len(self.trail_name) > longest:
            problems.add(
                f"trail_name must be 3-{longest} letters, digits, '.', '_' and '-', starting and ending with a letter or digit, "
                f"with no two of '.', '_', '-' in a row, but {self.trail_name!r} was provided"
            )
        problems.matches("bucket_name", self.bucket_name, BUCKET_NAME_PATTERN, BUCKET_NAME_DESCRIPTION)
        if not is_token(self.kms_key_arn) and not self.kms_key_arn.startswith("arn:"):
            problems.add(f"kms_key_arn must be a KMS key ARN, but {self.kms_key_arn!r} was provided")
        problems.one_of("log_retention_days", self.log_retention_days, LOG_RETENTION_DAYS)
        if self.archive_after_days != 0:
            problems.between("archive_after_days", self.archive_after_days, 1, 3650)
        problems.between("noncurrent_version_expiration_days", self.noncurrent_version_expiration_days, 1, 3650)
        problems.raise_if_any()

    @property
    def log_group_name(self) -> str:
        return f"/aws/cloudtrail/{self.trail_name}"

    @property
    def archives(self) -> bool:
        """Whether log files transition to Glacier IR before they expire."""
        return 0 < self.archive_after_days < self.log_retention_days


class AuditTrail(Construct):
    """A multi-region trail, its bucket and bucket policy, and its CloudWatch Logs copy."""

    def __init__(self, scope: Construct, construct_id: str, props: AuditTrailProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        context = AwsContext.of(self)
        arn = trail_arn_for(self, props.trail_name)

        # -- the bucket ----------------------------------------------------------------
        self.bucket = PrivateBucket(
            self,
            "bucket",
            PrivateBucketProps(
                bucket_name=props.bucket_name,
                force_destroy=props.force_destroy,
                kms_key_arn=props.kms_key_arn,
                # No S3 Bucket Key: CloudTrail, the only writer, asks KMS for
                # each file itself (under the encryption context its key
                # statement checks); a few thousand files a day cost cents.
                bucket_key_enabled=False,
                noncurrent_version_expiration_days=props.noncurrent_version_expiration_days,
                expiration_days=props.log_retention_days,
                archive_after_days=props.archive_after_days if props.archives else None,
                archive_storage_class=ARCHIVE_STORAGE_CLASS,
                lifecycle_rule_id="archive-then-expire-log-files",
            ),
        )
        for check_id, reason in BUCKET_CHECKS_NOT_APPLICABLE.items():
            skip_check(self.bucket.bucket, check_id, reason)
        for check_id, reason in BUCKET_FINDINGS_ACCEPTED.items():
            accept_finding(self.bucket.bucket, check_id, reason)
        log_files = f"{self.bucket.bucket_arn}/AWSLogs/{context.account_id}/*"
        trail_only = DataAwsIamPolicyDocumentStatementCondition(test="StringEquals", variable="aws:SourceArn", values=[arn])
        cloudtrail = [DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=[CLOUDTRAIL_PRINCIPAL])]
        self.bucket_policy = self.bucket.add_policy(
            [
                DataAwsIamPolicyDocumentStatement(
                    sid="CloudTrailChecksBucketAcl",
                    effect="Allow",
                    principals=cloudtrail,
                    actions=list(S3_CLOUDTRAIL_ACL_CHECK_ACTIONS),
                    resources=[self.bucket.bucket_arn],
                    condition=[trail_only],
                ),
                DataAwsIamPolicyDocumentStatement(
                    sid="CloudTrailWritesLogFiles",
                    effect="Allow",
                    principals=cloudtrail,
                    actions=list(S3_CLOUDTRAIL_WRITE_ACTIONS),
                    resources=[log_files],
                    condition=[
                        DataAwsIamPolicyDocumentStatementCondition(test="StringEquals", variable="s3:x-amz-acl", values=[BUCKET_OWNER_FULL_CONTROL]),
                        trail_only,
                    ],
                ),
            ],
        )

        # -- the CloudWatch Logs copy ------------------------------------------------------
        self.log_group = LogGroup(
            self,
            "log-group",
            LogGroupProps(name=props.log_group_name, retention_days=props.log_retention_days, kms_key_arn=props.log_kms_key_arn),
        )
        self.logs_role = ServiceRole(
            self,
            "logs-role",
            ServiceRoleProps(
                name=f"{props.trail_name}{LOGS_ROLE_SUFFIX}",
                service=CLOUDTRAIL_PRINCIPAL,
                description=f"CloudTrail trail {props.trail_name}: writes its events to {props.log_group_name}",
                # Confused-deputy protection: CloudTrail assumes the role for a
                # trail and sends that trail's ARN (aws:SourceArn) and account
                # (aws:SourceAccount); only this trail may assume it.
                source_arn_patterns=(arn,),
            ),
        )
        logs_policy = self.logs_role.grant(
            "write-trail-events",
            [
                Statement(
                    sid="WriteTrailEvents",
                    actions=LOGS_WRITE_ACTIONS,
                    # CloudTrail names its streams <account>_CloudTrail_<region>.
                    resources=(f"{self.log_group.log_group_arn}:log-stream:{context.account_id}_CloudTrail_*",),
                )
            ],
        )

        # -- the trail -----------------------------------------------------------------------
        self.trail = Cloudtrail(
            self,
            "trail",
            name=props.trail_name,
            s3_bucket_name=self.bucket.bucket.id,
            kms_key_id=props.kms_key_arn,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            event_selector=[
                CloudtrailEventSelector(read_write_type="All", include_management_events=True),
                # Who changed which object of the project's buckets (a deploy, or anyone else): writes only, as reads
                # (every page view through CloudFront) would bill per request and say nothing of a change.
                *(
                    [
                        CloudtrailEventSelector(
                            read_write_type="WriteOnly",
                            include_management_events=False,
                            data_resource=[CloudtrailEventSelectorDataResource(type="AWS::S3::Object", values=[f"{arn}/" for arn in props.data_event_bucket_arns])],
                        )
                    ]
                    if props.data_event_bucket_arns
                    else []
                ),
            ],
            # The provider wants the group's ARN with its streams' wildcard.
            cloud_watch_logs_group_arn=f"{self.log_group.log_group_arn}:*",
            cloud_watch_logs_role_arn=self.logs_role.role_arn,
            # CloudTrail checks at creation that it may write to both.
            depends_on=[self.bucket_policy, logs_policy],
        )
        for check_id, reason in TRAIL_CHECKS_NOT_APPLICABLE.items():
            skip_check(self.trail, check_id, reason)
        for check_id, reason in TRAIL_FINDINGS_ACCEPTED.items():
            accept_finding(self.trail, check_id, reason)

    # -- attributes -------------------------------------------------------------------
    @property
    def trail_name(self) -> str:
        return self.trail.name

    @property
    def trail_arn(self) -> str:
        return self.trail.arn

    @property
    def cloudtrail_bucket_name(self) -> str:
        return self.bucket.bucket_name

    @property
    def cloudtrail_bucket_arn(self) -> str:
        return self.bucket.bucket_arn

    @property
    def log_group_name(self) -> str:
        return self.log_group.log_group_name
