"""PrivateBucket: public access blocked, ACLs off, encryption, versioning, lifecycle, TLS-only bucket policy."""

from __future__ import annotations

import pytest
from cdktf import Fn, TerraformOutput
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from constructs import Construct

from constructs_lib.bucket import PrivateBucket, PrivateBucketProps
from tests.support import at, data_sources, logical_id, only, ref, resources, synth_construct

KEY = "arn:aws:kms:us-east-1:111122223333:key/k"
PUBLIC_ACCESS_FLAGS = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
BUCKETS: dict[str, PrivateBucket] = {}
TLS_DENY = {
    "sid": "DenyRequestsWithoutTls",
    "effect": "Deny",
    "principals": [{"type": "*", "identifiers": ["*"]}],
    "actions": ["s3:*"],
    "condition": [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}],
}


def props(**overrides) -> PrivateBucketProps:
    return PrivateBucketProps(**{"bucket_name": "cot-assets", **overrides})


def build(name: str, policy: bool = False, **overrides):
    """Synth one PrivateBucket at construct path ``site/assets``, with its attributes as outputs."""

    def make(stack):
        bucket = BUCKETS[name] = PrivateBucket(Construct(stack, "site"), "assets", props(**overrides))
        if policy:
            bucket.add_policy(
                [
                    DataAwsIamPolicyDocumentStatement(
                        sid="ServiceReads",
                        effect="Allow",
                        principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=["example.amazonaws.com"])],
                        actions=["s3:GetObject"],
                        resources=[f"{bucket.bucket_arn}/*"],
                    )
                ],
            )
        for attribute in ("bucket_name", "bucket_arn", "bucket_regional_domain_name"):
            TerraformOutput(stack, attribute, value=getattr(bucket, attribute))

    return synth_construct(make)


@pytest.fixture(scope="module")
def default():
    """Every default: SSE-S3, 30 days of old versions, nothing archived or expired, no policy yet."""
    return build("default")


@pytest.fixture(scope="module")
def configured():
    """Every option set the other way: SSE-KMS with a Bucket Key, archive then expire, a policy."""
    return build(
        "configured",
        policy=True,
        force_destroy=True,
        kms_key_arn=KEY,
        bucket_key_enabled=True,
        noncurrent_version_expiration_days=10,
        expiration_days=365,
        archive_after_days=90,
        archive_storage_class="DEEP_ARCHIVE",
        lifecycle_rule_id="archive-then-expire",
    )


def bucket_ref(doc, attribute: str) -> str:
    return ref(doc, "aws_s3_bucket", logical_id(resources(doc, "aws_s3_bucket"), "site/assets"), attribute)


def lifecycle_rule(doc) -> dict:
    (rule,) = only(doc, "aws_s3_bucket_lifecycle_configuration")["rule"]
    return rule


# -- the bucket ------------------------------------------------------------------------------
def test_bucket_takes_the_address_of_the_construct_and_is_kept_on_destroy(default, configured):
    # The S3 bucket is the construct's default child: its logical ID is the construct's (site_assets_<hash>), not site_assets_bucket_<hash>.
    bucket = at(resources(default, "aws_s3_bucket"), "site/assets")
    assert bucket["bucket"] == "cot-assets"
    assert bucket["force_destroy"] is False
    assert at(resources(configured, "aws_s3_bucket"), "site/assets")["force_destroy"] is True


@pytest.mark.parametrize(
    ("resource_type", "path"),
    [
        ("aws_s3_bucket_public_access_block", "site/assets/public-access-block"),
        ("aws_s3_bucket_ownership_controls", "site/assets/ownership-controls"),
        ("aws_s3_bucket_server_side_encryption_configuration", "site/assets/encryption"),
        ("aws_s3_bucket_versioning", "site/assets/versioning"),
        ("aws_s3_bucket_lifecycle_configuration", "site/assets/lifecycle"),
        ("aws_s3_bucket_policy", "site/assets/policy"),
    ],
)
def test_every_setting_applies_to_this_bucket(configured, resource_type, path):
    assert at(resources(configured, resource_type), path)["bucket"] == bucket_ref(configured, "id")


def test_every_kind_of_public_access_is_blocked_and_acls_are_off(default):
    block = only(default, "aws_s3_bucket_public_access_block")
    assert {flag: block[flag] for flag in PUBLIC_ACCESS_FLAGS} == dict.fromkeys(PUBLIC_ACCESS_FLAGS, True)
    assert only(default, "aws_s3_bucket_ownership_controls")["rule"] == {"object_ownership": "BucketOwnerEnforced"}


def test_default_encryption_is_sse_s3_without_a_bucket_key_setting(default):
    encryption = only(default, "aws_s3_bucket_server_side_encryption_configuration")
    assert encryption["rule"] == [{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}]


@pytest.mark.parametrize("bucket_key_enabled", [True, False])
def test_a_key_makes_it_sse_kms_with_the_bucket_key_as_asked(bucket_key_enabled):
    doc = build("kms", kms_key_arn=KEY, bucket_key_enabled=bucket_key_enabled)
    (rule,) = only(doc, "aws_s3_bucket_server_side_encryption_configuration")["rule"]
    assert rule["apply_server_side_encryption_by_default"] == {"sse_algorithm": "aws:kms", "kms_master_key_id": KEY}
    assert rule["bucket_key_enabled"] is bucket_key_enabled


def test_bucket_is_versioned(default):
    assert only(default, "aws_s3_bucket_versioning")["versioning_configuration"] == {"status": "Enabled"}


# -- lifecycle ---------------------------------------------------------------------------------
def test_default_lifecycle_expires_old_versions_and_unfinished_uploads_only(default):
    lifecycle = only(default, "aws_s3_bucket_lifecycle_configuration")
    # S3 rejects a rule on noncurrent versions before versioning is enabled.
    assert lifecycle["depends_on"] == [f"aws_s3_bucket_versioning.{logical_id(resources(default, 'aws_s3_bucket_versioning'), 'site/assets/versioning')}"]
    assert lifecycle_rule(default) == {
        "id": "expire-noncurrent-versions",
        "status": "Enabled",
        "filter": [{"prefix": ""}],
        "noncurrent_version_expiration": [{"noncurrent_days": 30}],
        "abort_incomplete_multipart_upload": [{"days_after_initiation": 7}],
    }


def test_configured_lifecycle_archives_then_expires_current_objects(configured):
    rule = lifecycle_rule(configured)
    assert rule["id"] == "archive-then-expire"
    assert rule["transition"] == [{"days": 90, "storage_class": "DEEP_ARCHIVE"}]
    assert rule["expiration"] == [{"days": 365}]
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": 10}]
    assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 7}]


def test_expiration_and_archive_are_independent():
    expire_only = lifecycle_rule(build("expire", expiration_days=30))
    assert expire_only["expiration"] == [{"days": 30}] and "transition" not in expire_only
    archive_only = lifecycle_rule(build("archive", archive_after_days=10))
    assert archive_only["transition"] == [{"days": 10, "storage_class": "GLACIER_IR"}] and "expiration" not in archive_only


# -- the bucket policy ----------------------------------------------------------------------------
def test_no_policy_until_one_is_added(default):
    assert resources(default, "aws_s3_bucket_policy") == {}
    assert data_sources(default, "aws_iam_policy_document") == {}
    assert BUCKETS["default"].policy is None


def test_policy_holds_the_callers_statements_then_the_tls_deny_on_bucket_and_objects(configured):
    policy = at(resources(configured, "aws_s3_bucket_policy"), "site/assets/policy")
    document_id = logical_id(data_sources(configured, "aws_iam_policy_document"), "site/assets/policy-document")
    assert policy["policy"] == "${data.aws_iam_policy_document." + document_id + ".json}"
    assert policy["depends_on"] == [
        f"aws_s3_bucket_public_access_block.{logical_id(resources(configured, 'aws_s3_bucket_public_access_block'), 'site/assets/public-access-block')}"
    ]
    service, deny = data_sources(configured, "aws_iam_policy_document")[document_id]["statement"]
    assert service["sid"] == "ServiceReads" and service["effect"] == "Allow"
    assert deny == {**TLS_DENY, "resources": [bucket_ref(configured, "arn"), f"{bucket_ref(configured, 'arn')}/*"]}


def test_policy_without_statements_is_the_tls_deny_alone_after_the_public_access_block():
    def make(stack):
        PrivateBucket(Construct(stack, "site"), "assets", props()).add_policy([])

    doc = synth_construct(make)
    policy = only(doc, "aws_s3_bucket_policy")
    assert policy["depends_on"] == [f"aws_s3_bucket_public_access_block.{logical_id(resources(doc, 'aws_s3_bucket_public_access_block'), 'site/assets/public-access-block')}"]
    (document,) = data_sources(doc, "aws_iam_policy_document").values()
    (deny,) = document["statement"]
    assert deny == {**TLS_DENY, "resources": [bucket_ref(doc, "arn"), f"{bucket_ref(doc, 'arn')}/*"]}


def test_a_bucket_has_one_policy():
    def make(stack):
        bucket = PrivateBucket(Construct(stack, "site"), "assets", props())
        bucket.add_policy([])
        with pytest.raises(ValueError, match="^test/site/assets: the bucket already has its policy"):
            bucket.add_policy([])

    synth_construct(make)


# -- attributes --------------------------------------------------------------------------------------
def test_attributes_are_the_buckets(default):
    values = {name: output["value"] for name, output in default["output"].items()}
    assert values == {
        "bucket_name": bucket_ref(default, "bucket"),
        "bucket_arn": bucket_ref(default, "arn"),
        "bucket_regional_domain_name": bucket_ref(default, "bucket_regional_domain_name"),
    }


# -- props -----------------------------------------------------------------------------------------
def test_defaults():
    defaults = props()
    assert (defaults.force_destroy, defaults.kms_key_arn, defaults.bucket_key_enabled) == (False, None, False)
    assert (defaults.noncurrent_version_expiration_days, defaults.expiration_days, defaults.archive_after_days) == (30, None, None)
    assert (defaults.archive_storage_class, defaults.lifecycle_rule_id) == ("GLACIER_IR", "expire-noncurrent-versions")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"bucket_name": "Bad_Bucket"}, "bucket_name must be an S3 bucket name: 3-63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit, but 'Bad_Bucket' was provided"),
        ({"kms_key_arn": "alias/cot"}, "kms_key_arn must be a KMS key ARN or None (SSE-S3), but 'alias/cot' was provided"),
        ({"bucket_key_enabled": True}, "bucket_key_enabled needs kms_key_arn (an S3 Bucket Key is for SSE-KMS only), but True was provided without a key"),
        ({"noncurrent_version_expiration_days": 0}, "noncurrent_version_expiration_days must be between 1 and 3650, but 0 was provided"),
        ({"noncurrent_version_expiration_days": 3651}, "noncurrent_version_expiration_days must be between 1 and 3650, but 3651 was provided"),
        ({"expiration_days": 0}, "expiration_days must be at least 1, or None to keep objects, but 0 was provided"),
        ({"archive_after_days": 0}, "archive_after_days must be between 1 and 3650, but 0 was provided"),
        ({"archive_after_days": 3651}, "archive_after_days must be between 1 and 3650, but 3651 was provided"),
        ({"archive_after_days": 365, "expiration_days": 365}, "archive_after_days must be less than expiration_days (365; S3 moves an object only before it expires), but 365 was provided"),
        ({"archive_after_days": 29, "archive_storage_class": "STANDARD_IA"}, "archive_after_days must be at least 30 with STANDARD_IA (S3's minimum), but 29 was provided"),
        ({"archive_after_days": 7, "archive_storage_class": "ONEZONE_IA"}, "archive_after_days must be at least 30 with ONEZONE_IA (S3's minimum), but 7 was provided"),
        ({"archive_storage_class": "GLACIER_DEEP"}, "archive_storage_class must be one of STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR, GLACIER, DEEP_ARCHIVE, but 'GLACIER_DEEP' was provided"),
        ({"lifecycle_rule_id": ""}, "lifecycle_rule_id must be 1-255 characters long, but '' was provided"),
        ({"lifecycle_rule_id": "r" * 256}, f"lifecycle_rule_id must be 1-255 characters long, but '{'r' * 256}' was provided"),
    ],
)
def test_props_name_the_field_the_allowed_values_and_the_value(overrides, message):
    with pytest.raises(ValueError) as caught:
        props(**overrides)
    assert str(caught.value).startswith("PrivateBucketProps: ")
    assert message in str(caught.value)


def test_props_report_every_problem_at_once():
    with pytest.raises(ValueError) as caught:
        props(bucket_name="X", bucket_key_enabled=True, expiration_days=0, lifecycle_rule_id="")
    assert str(caught.value).count(" was provided") == 4


@pytest.mark.parametrize(
    "overrides",
    [
        {"bucket_name": Fn.lower("COT-ASSETS"), "kms_key_arn": Fn.lower("ARN")},  # tokens are checked at apply
        {"expiration_days": 3653},  # the longest CloudWatch Logs retention, which the audit trail's files follow
        {"archive_after_days": 364, "expiration_days": 365},
        {"archive_after_days": 30, "archive_storage_class": "STANDARD_IA"},
        {"archive_after_days": 1, "archive_storage_class": "GLACIER_IR"},
    ],
)
def test_props_accept_the_edges(overrides):
    assert props(**overrides).bucket_name
