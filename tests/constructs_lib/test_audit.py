"""constructs_lib/audit.py: the multi-region trail, its key statements, bucket, bucket policy and CloudWatch Logs copy."""

from __future__ import annotations

import pytest
from cdktf import Fn

from constructs_lib.audit import AuditTrail, AuditTrailProps, cloudtrail_key_principals
from constructs_lib.encryption import EncryptionKey, EncryptionKeyProps
from constructs_lib.policy import accepted_findings, checkov_skips
from tests.support import at, data_sources, logical_id, ref, resources, synth_construct

LOGS_KEY = "arn:aws:kms:us-east-1:111122223333:key/logs"
TRAILS: dict[str, AuditTrail] = {}


def props(**overrides) -> AuditTrailProps:
    return AuditTrailProps(**{"trail_name": "cot-trail", "bucket_name": "cot-audit-logs", "kms_key_arn": "arn:aws:kms:us-east-1:1:key/k", **overrides})


@pytest.fixture(scope="module")
def doc():
    def build(stack):
        key = EncryptionKey(
            stack, "cloudtrail-key", EncryptionKeyProps(name_prefix="cot", purpose="cloudtrail", service_principals=cloudtrail_key_principals(stack, "cot-trail"))
        )
        TRAILS["trail"] = AuditTrail(
            stack, "audit", AuditTrailProps(trail_name="cot-trail", bucket_name="cot-audit-logs", kms_key_arn=key.key_arn, log_kms_key_arn=LOGS_KEY)
        )

    return synth_construct(build)


@pytest.fixture(scope="module")
def short():
    """Retention no longer than the archive age, a bucket that may be destroyed."""

    def build(stack):
        TRAILS["short"] = AuditTrail(
            stack, "audit", props(log_retention_days=90, force_destroy=True, data_event_bucket_arns=("arn:aws:s3:::cot-frontend",))
        )

    return synth_construct(build)


def context(doc, kind: str, attribute: str) -> str:
    path = {"aws_caller_identity": "aws_context/caller", "aws_partition": "aws_context/partition", "aws_region": "aws_context/region"}[kind]
    return "${data." + f"{kind}.{logical_id(data_sources(doc, kind), path)}.{attribute}" + "}"


def trail_arn(doc) -> str:
    return (
        f"arn:{context(doc, 'aws_partition', 'partition')}:cloudtrail:{context(doc, 'aws_region', 'name')}:"
        f"{context(doc, 'aws_caller_identity', 'account_id')}:trail/cot-trail"
    )


def bucket_ref(doc, attribute: str) -> str:
    return ref(doc, "aws_s3_bucket", logical_id(resources(doc, "aws_s3_bucket"), "audit/bucket"), attribute)


def key_ref(doc) -> str:
    return ref(doc, "aws_kms_key", logical_id(resources(doc, "aws_kms_key"), "cloudtrail-key"), "arn")


# -- the trail ------------------------------------------------------------------------------
def test_trail_records_every_region_and_global_service_with_validated_log_files(doc):
    trail = at(resources(doc, "aws_cloudtrail"), "audit/trail")
    assert trail["name"] == "cot-trail"
    assert trail["is_multi_region_trail"] is True
    assert trail["include_global_service_events"] is True
    assert trail["enable_log_file_validation"] is True
    assert trail["enable_logging"] is True
    assert trail["event_selector"] == [{"read_write_type": "All", "include_management_events": True}]
    assert "advanced_event_selector" not in trail and "insight_selector" not in trail


def test_trail_writes_its_bucket_with_its_key_and_its_log_group_through_its_role(doc):
    trail = at(resources(doc, "aws_cloudtrail"), "audit/trail")
    assert trail["s3_bucket_name"] == bucket_ref(doc, "id")
    assert trail["kms_key_id"] == key_ref(doc)
    group = logical_id(resources(doc, "aws_cloudwatch_log_group"), "audit/log-group")
    assert trail["cloud_watch_logs_group_arn"] == "${aws_cloudwatch_log_group." + group + ".arn}:*"
    assert trail["cloud_watch_logs_role_arn"] == ref(doc, "aws_iam_role", logical_id(resources(doc, "aws_iam_role"), "audit/logs-role"), "arn")
    # CloudTrail checks at creation that it may write both.
    assert trail["depends_on"] == [
        f"aws_s3_bucket_policy.{logical_id(resources(doc, 'aws_s3_bucket_policy'), 'audit/bucket/policy')}",
        f"aws_iam_role_policy.{logical_id(resources(doc, 'aws_iam_role_policy'), 'audit/logs-role/write-trail-events-policy')}",
    ]


def test_attributes(doc):
    trail = TRAILS["trail"]
    assert trail.trail_name.startswith("${") and trail.trail_arn.startswith("${")
    assert trail.cloudtrail_bucket_name.startswith("${") and trail.log_group_name.startswith("${")
    assert trail.props.log_group_name == "/aws/cloudtrail/cot-trail"


# -- the key ----------------------------------------------------------------------------------
def test_key_lets_cloudtrail_encrypt_for_trails_of_this_account_on_behalf_of_this_trail(doc):
    statements = at(data_sources(doc, "aws_iam_policy_document"), "cloudtrail-key/key-policy")["statement"]
    assert [s["sid"] for s in statements] == ["AccountAdministersAndDelegatesToIam", "CloudTrailEncryptsLogFiles", "CloudTrailDescribesKey"]
    encrypt, describe = statements[1:]
    for statement in (encrypt, describe):
        assert statement["principals"] == [{"type": "Service", "identifiers": ["cloudtrail.amazonaws.com"]}]
        assert statement["resources"] == ["*"]
    assert encrypt["actions"] == ["kms:GenerateDataKey"]
    assert encrypt["condition"] == [
        {
            "test": "StringLike",
            "variable": "kms:EncryptionContext:aws:cloudtrail:arn",
            "values": [f"arn:{context(doc, 'aws_partition', 'partition')}:cloudtrail:*:{context(doc, 'aws_caller_identity', 'account_id')}:trail/*"],
        },
        {"test": "StringEquals", "variable": "aws:SourceArn", "values": [trail_arn(doc)]},
    ]
    assert describe["actions"] == ["kms:DescribeKey"]
    assert describe["condition"] == [{"test": "StringEquals", "variable": "aws:SourceArn", "values": [trail_arn(doc)]}]


def test_policies_name_the_trail_by_arn_built_from_its_name_not_its_attribute(doc):
    # The trail's own arn attribute would make a cycle: the trail needs the key and the bucket policy first.
    for document in data_sources(doc, "aws_iam_policy_document").values():
        assert "aws_cloudtrail." not in str(document)


# -- the bucket ---------------------------------------------------------------------------------
def test_bucket_is_named_from_props_private_owner_enforced_and_kept_on_destroy(doc, short):
    assert at(resources(doc, "aws_s3_bucket"), "audit/bucket")["bucket"] == "cot-audit-logs"
    assert at(resources(doc, "aws_s3_bucket"), "audit/bucket")["force_destroy"] is False
    assert at(resources(short, "aws_s3_bucket"), "audit/bucket")["force_destroy"] is True
    block = at(resources(doc, "aws_s3_bucket_public_access_block"), "audit/bucket/public-access-block")
    assert block["bucket"] == bucket_ref(doc, "id")
    assert all(block[key] is True for key in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
    ownership = at(resources(doc, "aws_s3_bucket_ownership_controls"), "audit/bucket/ownership-controls")
    assert ownership["rule"] == {"object_ownership": "BucketOwnerEnforced"}


def test_bucket_is_encrypted_with_the_cloudtrail_key_and_versioned(doc):
    (rule,) = at(resources(doc, "aws_s3_bucket_server_side_encryption_configuration"), "audit/bucket/encryption")["rule"]
    assert rule["apply_server_side_encryption_by_default"] == {"sse_algorithm": "aws:kms", "kms_master_key_id": key_ref(doc)}
    assert rule["bucket_key_enabled"] is False
    versioning = at(resources(doc, "aws_s3_bucket_versioning"), "audit/bucket/versioning")
    assert versioning["versioning_configuration"] == {"status": "Enabled"}


def test_log_files_move_to_glacier_ir_then_expire_with_the_retention(doc):
    lifecycle = at(resources(doc, "aws_s3_bucket_lifecycle_configuration"), "audit/bucket/lifecycle")
    (rule,) = lifecycle["rule"]
    assert rule["status"] == "Enabled" and rule["filter"] == [{"prefix": ""}]
    assert rule["transition"] == [{"days": 90, "storage_class": "GLACIER_IR"}]
    assert rule["expiration"] == [{"days": 365}]
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": 30}]
    assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 7}]
    assert lifecycle["depends_on"] == [f"aws_s3_bucket_versioning.{logical_id(resources(doc, 'aws_s3_bucket_versioning'), 'audit/bucket/versioning')}"]


def test_no_transition_when_the_retention_is_not_longer_than_the_archive_age(short):
    (rule,) = at(resources(short, "aws_s3_bucket_lifecycle_configuration"), "audit/bucket/lifecycle")["rule"]
    assert "transition" not in rule
    assert rule["expiration"] == [{"days": 90}]
    assert not props(archive_after_days=0).archives and props(archive_after_days=364).archives


# -- the bucket policy ------------------------------------------------------------------------------
def test_bucket_policy_lets_only_this_trail_check_the_acl_and_write_log_files(doc):
    policy = at(resources(doc, "aws_s3_bucket_policy"), "audit/bucket/policy")
    document_id = logical_id(data_sources(doc, "aws_iam_policy_document"), "audit/bucket/policy-document")
    assert policy["policy"] == "${data.aws_iam_policy_document." + document_id + ".json}"
    assert policy["depends_on"] == [f"aws_s3_bucket_public_access_block.{logical_id(resources(doc, 'aws_s3_bucket_public_access_block'), 'audit/bucket/public-access-block')}"]
    acl, write, tls = data_sources(doc, "aws_iam_policy_document")[document_id]["statement"]
    source_arn = {"test": "StringEquals", "variable": "aws:SourceArn", "values": [trail_arn(doc)]}
    for statement in (acl, write):
        assert statement["effect"] == "Allow"
        assert statement["principals"] == [{"type": "Service", "identifiers": ["cloudtrail.amazonaws.com"]}]
    assert (acl["sid"], acl["actions"], acl["resources"], acl["condition"]) == (
        "CloudTrailChecksBucketAcl", ["s3:GetBucketAcl"], [bucket_ref(doc, "arn")], [source_arn],
    )  # fmt: skip
    assert write["sid"] == "CloudTrailWritesLogFiles"
    assert write["actions"] == ["s3:PutObject"]
    assert write["resources"] == [f"{bucket_ref(doc, 'arn')}/AWSLogs/{context(doc, 'aws_caller_identity', 'account_id')}/*"]
    assert write["condition"] == [
        {"test": "StringEquals", "variable": "s3:x-amz-acl", "values": ["bucket-owner-full-control"]},
        source_arn,
    ]
    assert tls["effect"] == "Deny" and tls["actions"] == ["s3:*"]
    assert tls["principals"] == [{"type": "*", "identifiers": ["*"]}]
    assert tls["resources"] == [bucket_ref(doc, "arn"), f"{bucket_ref(doc, 'arn')}/*"]
    assert tls["condition"] == [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}]


# -- the CloudWatch Logs copy -------------------------------------------------------------------------
def test_log_group_keeps_events_as_long_as_the_bucket_with_the_logs_key(doc, short):
    group = at(resources(doc, "aws_cloudwatch_log_group"), "audit/log-group")
    assert (group["name"], group["retention_in_days"], group["kms_key_id"]) == ("/aws/cloudtrail/cot-trail", 365, LOGS_KEY)
    assert at(resources(short, "aws_cloudwatch_log_group"), "audit/log-group")["retention_in_days"] == 90


def test_logs_role_is_assumed_by_cloudtrail_and_writes_only_cloudtrail_streams(doc):
    role = at(resources(doc, "aws_iam_role"), "audit/logs-role")
    assert role["name"] == "cot-trail-logs"
    (trust,) = at(data_sources(doc, "aws_iam_policy_document"), "audit/logs-role/trust")["statement"]
    assert trust["principals"] == [{"type": "Service", "identifiers": ["cloudtrail.amazonaws.com"]}]
    assert trust["actions"] == ["sts:AssumeRole"]
    # Confused-deputy protection: this account, and this trail only.
    account = context(doc, "aws_caller_identity", "account_id")
    trail_arn = f"arn:{context(doc, 'aws_partition', 'partition')}:cloudtrail:{context(doc, 'aws_region', 'name')}:{account}:trail/cot-trail"
    assert trust["condition"] == [
        {"test": "StringEquals", "variable": "aws:SourceAccount", "values": [account]},
        {"test": "ArnLike", "variable": "aws:SourceArn", "values": [trail_arn]},
    ]
    policy = at(resources(doc, "aws_iam_role_policy"), "audit/logs-role/write-trail-events-policy")
    assert policy["name"] == "write-trail-events"
    (statement,) = at(data_sources(doc, "aws_iam_policy_document"), "audit/logs-role/write-trail-events-policy-document")["statement"]
    assert statement["actions"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    group = logical_id(resources(doc, "aws_cloudwatch_log_group"), "audit/log-group")
    assert statement["resources"] == [
        "${aws_cloudwatch_log_group." + group + ".arn}:log-stream:" + context(doc, "aws_caller_identity", "account_id") + "_CloudTrail_*"
    ]


# -- policy-scan skips ---------------------------------------------------------------------------------
def test_skips_name_the_checks_that_do_not_fit_with_reasons():
    trail = TRAILS["trail"]
    assert set(checkov_skips(trail.bucket.bucket)) == {"CKV_AWS_18", "CKV_AWS_144", "CKV2_AWS_62"}
    assert set(checkov_skips(trail.trail)) == {"CKV_AWS_252"}
    assert all(len(reason) > 40 for reason in {**checkov_skips(trail.bucket.bucket), **checkov_skips(trail.trail)}.values())


# -- props ---------------------------------------------------------------------------------------------
def test_defaults():
    defaults = props()
    assert (defaults.log_retention_days, defaults.archive_after_days, defaults.noncurrent_version_expiration_days) == (365, 90, 30)
    assert defaults.log_kms_key_arn is None and defaults.force_destroy is False and defaults.archives


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"trail_name": "ab"}, "trail_name must be 3-59 letters, digits, '.', '_' and '-', starting and ending with a letter or digit, with no two of '.', '_', '-' in a row, but 'ab' was provided"),
        ({"trail_name": "-cot"}, "but '-cot' was provided"),
        ({"trail_name": "cot--trail"}, "but 'cot--trail' was provided"),
        ({"trail_name": "c" * 60}, f"but '{'c' * 60}' was provided"),
        ({"trail_name": "${aws_x.y.name}"}, "trail_name must be known at synth (key and bucket policies name the trail by ARN), but a token was provided"),
        ({"bucket_name": "Cot_Audit"}, "bucket_name must be an S3 bucket name: 3-63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit, but 'Cot_Audit' was provided"),
        ({"kms_key_arn": "alias/cot"}, "kms_key_arn must be a KMS key ARN, but 'alias/cot' was provided"),
        ({"log_retention_days": 100}, "log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653, but 100 was provided"),
        ({"archive_after_days": -1}, "archive_after_days must be between 1 and 3650, but -1 was provided"),
        ({"archive_after_days": 3651}, "archive_after_days must be between 1 and 3650, but 3651 was provided"),
        ({"noncurrent_version_expiration_days": 0}, "noncurrent_version_expiration_days must be between 1 and 3650, but 0 was provided"),
    ],
)
def test_props_validation_messages(kwargs, message):
    if kwargs.get("trail_name", "").startswith("${"):
        kwargs = {"trail_name": Fn.lower("cot-trail")}  # a token
    with pytest.raises(ValueError, match="^AuditTrailProps: ") as caught:
        props(**kwargs)
    assert message in str(caught.value)


def test_props_report_every_problem_at_once():
    with pytest.raises(ValueError) as caught:
        props(trail_name="x", bucket_name="X", log_retention_days=2, noncurrent_version_expiration_days=0)
    assert str(caught.value).count(" was provided") == 4


def test_data_events_record_object_writes_of_the_given_buckets_only(doc, short):
    (management,) = at(resources(doc, "aws_cloudtrail"), "audit/trail")["event_selector"]  # none given: management events only
    assert management == {"include_management_events": True, "read_write_type": "All"}
    selectors = at(resources(short, "aws_cloudtrail"), "audit/trail")["event_selector"]
    assert selectors[1] == {
        "read_write_type": "WriteOnly",
        "include_management_events": False,
        "data_resource": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3:::cot-frontend/"]}],
    }


def test_live_audit_findings_are_accepted_on_the_trail_and_its_bucket_with_reasons(doc):
    trail, bucket = TRAILS["trail"].trail, TRAILS["trail"].bucket.bucket
    assert set(accepted_findings(trail)) == {"cloudtrail_bucket_requires_mfa_delete", "cloudtrail_logs_s3_bucket_access_logging_enabled", "cloudtrail_insights_exist"}
    assert set(accepted_findings(bucket)) == {
        "s3_bucket_server_access_logging_enabled", "s3_bucket_event_notifications_enabled", "s3_bucket_cross_region_replication",
        "s3_bucket_no_mfa_delete", "s3_bucket_object_lock",
    }  # fmt: skip
    assert "root user with its MFA device" in accepted_findings(bucket)["s3_bucket_no_mfa_delete"]
