"""tools/bootstrap.py against moto in-process: create, re-run, refuse, check, teardown."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from moto import mock_aws

import tools.bootstrap as bootstrap_module
from tools.bootstrap import (
    EXIT_DIFFERENCES,
    EXIT_OK,
    EXIT_USAGE,
    GITHUB_OIDC_THUMBPRINT,
    _denies_insecure_transport,
    main,
    tls_only_policy,
)

PROJECT = Path(__file__).resolve().parents[2]
PRODUCTION = str(PROJECT / "config" / "production.tfvars")
BUCKET = "circle-of-trust-terraform-state"
TABLE = "terraform-state-lock"
REGION = "us-east-1"
OURS = {"project": "circle-of-trust", "environment": "shared", "managed-by": "circle-of-trust-bootstrap"}
READ_ONLY_PREFIXES = ("Get", "Head", "List", "Describe")


@pytest.fixture
def aws():
    with mock_aws():
        yield


@pytest.fixture
def api_calls(monkeypatch) -> list[str]:
    """Every AWS operation made from now on, by name (the test clears it before the call under test)."""
    calls: list[str] = []
    original = BaseClient._make_api_call

    def record(client, operation_name, params):
        calls.append(operation_name)
        return original(client, operation_name, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", record)
    return calls


def changes(calls: list[str]) -> list[str]:
    return [name for name in calls if not name.startswith(READ_ONLY_PREFIXES)]


def s3(region: str = REGION):
    return boto3.client("s3", region_name=region)


def dynamodb():
    return boto3.client("dynamodb", region_name=REGION)


def bootstrap(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def created(capsys, *extra: str) -> None:
    code, out, err = bootstrap(capsys, "--config", PRODUCTION, *extra)
    assert code == EXIT_OK, out + err


def write_config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "env.tfvars"
    path.write_text(text)
    return str(path)


# ---------------------------------------------------------------------------
# create
# ---------------------------------------------------------------------------


def test_create_makes_the_state_bucket_with_every_setting(aws, capsys):
    code, out, _ = bootstrap(capsys, "create", "--config", PRODUCTION)

    assert code == EXIT_OK
    assert f"state bucket {BUCKET}: created" in out.splitlines()
    client = s3()
    assert client.get_bucket_location(Bucket=BUCKET)["LocationConstraint"] is None  # us-east-1
    assert client.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    rules = client.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    assert [r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules] == ["AES256"]
    assert client.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    assert client.get_bucket_ownership_controls(Bucket=BUCKET)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}
    ]
    [statement] = json.loads(client.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == "*"
    assert statement["Action"] == "s3:*"
    assert sorted(statement["Resource"]) == [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    [rule] = client.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule["Filter"] == {"Prefix": ""}
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 90
    assert rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 7
    assert {t["Key"]: t["Value"] for t in client.get_bucket_tagging(Bucket=BUCKET)["TagSet"]} == OURS


def test_create_makes_the_lock_table_with_every_setting(aws, capsys):
    code, out, _ = bootstrap(capsys, "--config", PRODUCTION)

    assert code == EXIT_OK
    assert f"lock table {TABLE}: created" in out.splitlines()
    client = dynamodb()
    table = client.describe_table(TableName=TABLE)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "LockID", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "LockID", "AttributeType": "S"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSEDescription"]["Status"] == "ENABLED"
    assert table["SSEDescription"]["SSEType"] == "KMS"
    assert table["DeletionProtectionEnabled"] is True
    backups = client.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    tags = client.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == OURS


def test_noncurrent_version_days_is_configurable(aws, capsys):
    created(capsys, "--noncurrent-version-days", "30")

    [rule] = s3().get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30


def test_outside_us_east_1_the_backend_is_made_in_the_state_region(aws, capsys, tmp_path):
    config = write_config(tmp_path, 'environment = "staging"\naws_region = "us-east-1"\nstate_region = "eu-west-2"\n')

    code, out, _ = bootstrap(capsys, "--config", config)

    assert code == EXIT_OK, out
    assert s3("eu-west-2").get_bucket_location(Bucket=BUCKET)["LocationConstraint"] == "eu-west-2"
    boto3.client("dynamodb", region_name="eu-west-2").describe_table(TableName=TABLE)
    with pytest.raises(ClientError):
        dynamodb().describe_table(TableName=TABLE)


def test_point_in_time_recovery_is_retried_while_backups_are_being_enabled(aws, capsys, monkeypatch):
    """Right after a table turns ACTIVE, DynamoDB may still refuse UpdateContinuousBackups."""
    refusals = iter([True, True])
    original = BaseClient._make_api_call

    def not_yet(client, operation_name, params):
        if operation_name == "UpdateContinuousBackups" and next(refusals, False):
            error = {"Error": {"Code": "ContinuousBackupsUnavailableException", "Message": "Backups are being enabled for the table"}}
            raise ClientError(error, operation_name)
        return original(client, operation_name, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", not_yet)
    sleeps: list[float] = []
    monkeypatch.setattr(bootstrap_module.time, "sleep", sleeps.append)

    created(capsys)

    backups = dynamodb().describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    assert len(sleeps) == 2


def test_running_again_changes_nothing_and_says_so(aws, capsys, api_calls):
    created(capsys)
    api_calls.clear()

    code, out, _ = bootstrap(capsys, "--config", PRODUCTION)

    assert code == EXIT_OK
    assert out.splitlines() == [f"state bucket {BUCKET}: exists, matches", f"lock table {TABLE}: exists, matches"]
    assert api_calls, "the re-run must look at the resources"
    assert changes(api_calls) == []


# ---------------------------------------------------------------------------
# refusing what differs or is not ours
# ---------------------------------------------------------------------------


def suspend_versioning() -> None:
    s3().put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})


def drop_bucket_policy() -> None:
    s3().delete_bucket_policy(Bucket=BUCKET)


def turn_off_point_in_time_recovery() -> None:
    dynamodb().update_continuous_backups(
        TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )


def drop_ownership_tag() -> None:
    s3().put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": [{"Key": "project", "Value": "circle-of-trust"}]})


@pytest.mark.parametrize(
    ("alter", "difference"),
    [
        (suspend_versioning, f"state bucket {BUCKET}: versioning: expected Enabled, found Suspended"),
        (
            drop_bucket_policy,
            f"state bucket {BUCKET}: bucket policy statement denying aws:SecureTransport = false: expected present, found absent",
        ),
        (turn_off_point_in_time_recovery, f"lock table {TABLE}: point-in-time recovery: expected ENABLED, found DISABLED"),
        (drop_ownership_tag, f"state bucket {BUCKET}: tag managed-by: expected circle-of-trust-bootstrap, found none"),
    ],
    ids=["versioning-suspended", "no-tls-policy", "no-pitr", "not-tagged-ours"],
)
def test_a_changed_resource_is_reported_and_left_alone(aws, capsys, api_calls, alter, difference):
    created(capsys)
    alter()
    api_calls.clear()

    code, out, err = bootstrap(capsys, "--config", PRODUCTION)

    assert code == EXIT_DIFFERENCES
    assert difference in out.splitlines()
    assert "exists, differs; left unchanged" in out
    assert "nothing was changed" in err
    assert changes(api_calls) == []


def test_a_different_noncurrent_version_days_is_a_difference(aws, capsys, api_calls):
    created(capsys)
    api_calls.clear()

    code, out, _ = bootstrap(capsys, "--config", PRODUCTION, "--noncurrent-version-days", "30")

    assert code == EXIT_DIFFERENCES
    assert f"state bucket {BUCKET}: lifecycle noncurrent version expiration days: expected 30, found 90" in out.splitlines()
    assert changes(api_calls) == []


def test_a_lock_table_with_another_key_blocks_everything(aws, capsys, api_calls):
    dynamodb().create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    api_calls.clear()

    code, out, _ = bootstrap(capsys, "--config", PRODUCTION)

    assert code == EXIT_DIFFERENCES
    lines = out.splitlines()
    assert f"lock table {TABLE}: key schema: expected LockID (S, HASH), found id (S, HASH)" in lines
    assert f"lock table {TABLE}: deletion protection: expected true, found false" in lines
    assert f"state bucket {BUCKET}: missing; not created because another resource differs" in lines
    assert changes(api_calls) == []
    with pytest.raises(ClientError, match="404"):
        s3().head_bucket(Bucket=BUCKET)


def test_a_bucket_made_by_hand_as_in_the_seed_is_not_adopted(aws, capsys, api_calls):
    client = s3()
    client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    api_calls.clear()

    code, out, _ = bootstrap(capsys, "--config", PRODUCTION)

    assert code == EXIT_DIFFERENCES
    lines = out.splitlines()
    assert f"state bucket {BUCKET}: tag managed-by: expected circle-of-trust-bootstrap, found none" in lines
    assert f"state bucket {BUCKET}: object ownership: expected BucketOwnerEnforced, found none" in lines
    assert changes(api_calls) == []


@pytest.mark.parametrize(
    "statement",
    [
        tls_only_policy(f"arn:aws:s3:::{BUCKET}")["Statement"][0],
        {
            "Effect": "Deny",
            "Principal": {"AWS": ["*"]},
            "Action": ["s3:*"],
            "Resource": [f"arn:aws:s3:::{BUCKET}/*", f"arn:aws:s3:::{BUCKET}", "arn:aws:s3:::other"],
            "Condition": {"Bool": {"aws:SecureTransport": [False]}},
        },
    ],
    ids=["as-written", "same-meaning-other-spelling"],
)
def test_a_tls_deny_statement_is_recognised_however_it_is_spelled(statement):
    assert _denies_insecure_transport(statement, f"arn:aws:s3:::{BUCKET}")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("Effect", "Allow"),
        ("Principal", {"AWS": "arn:aws:iam::123456789012:root"}),
        ("Action", "s3:GetObject"),
        ("Resource", f"arn:aws:s3:::{BUCKET}/*"),
        ("Condition", {"Bool": {"aws:SecureTransport": "true"}}),
    ],
)
def test_a_statement_that_does_not_deny_all_plain_http_is_not_enough(key, value):
    statement = {**tls_only_policy(f"arn:aws:s3:::{BUCKET}")["Statement"][0], key: value}
    assert not _denies_insecure_transport(statement, f"arn:aws:s3:::{BUCKET}")


# ---------------------------------------------------------------------------
# check
# ---------------------------------------------------------------------------


def test_check_reports_missing_resources_and_creates_nothing(aws, capsys, api_calls):
    code, out, err = bootstrap(capsys, "check", "--config", PRODUCTION)

    assert code == EXIT_DIFFERENCES
    assert out.splitlines() == [f"state bucket {BUCKET}: missing", f"lock table {TABLE}: missing"]
    assert "`create` would create them" in err
    assert changes(api_calls) == []


def test_check_passes_after_create(aws, capsys):
    created(capsys)

    code, out, _ = bootstrap(capsys, "check", "--config", PRODUCTION)

    assert code == EXIT_OK
    assert out.splitlines() == [f"state bucket {BUCKET}: exists, matches", f"lock table {TABLE}: exists, matches"]


# ---------------------------------------------------------------------------
# GitHub OIDC provider
# ---------------------------------------------------------------------------


def oidc_providers() -> list[str]:
    return [p["Arn"] for p in boto3.client("iam").list_open_id_connect_providers()["OpenIDConnectProviderList"]]


def test_the_oidc_provider_is_made_only_when_asked(aws, capsys):
    created(capsys)
    assert oidc_providers() == []

    code, out, _ = bootstrap(capsys, "--config", PRODUCTION, "--create-oidc-provider")

    assert code == EXIT_OK
    assert "GitHub OIDC provider token.actions.githubusercontent.com: created" in out.splitlines()
    [arn] = oidc_providers()
    provider = boto3.client("iam").get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert provider["ClientIDList"] == ["sts.amazonaws.com"]
    assert provider["ThumbprintList"] == [GITHUB_OIDC_THUMBPRINT]
    assert {t["Key"]: t["Value"] for t in provider["Tags"]} == OURS


def test_the_oidc_provider_is_not_made_twice(aws, capsys, api_calls):
    created(capsys, "--create-oidc-provider")
    api_calls.clear()

    code, out, _ = bootstrap(capsys, "--config", PRODUCTION, "--create-oidc-provider")

    assert code == EXIT_OK
    assert "GitHub OIDC provider token.actions.githubusercontent.com: exists, matches" in out.splitlines()
    assert changes(api_calls) == []
    assert len(oidc_providers()) == 1


def test_an_oidc_provider_made_by_hand_is_reported_not_adopted(aws, capsys, api_calls):
    created(capsys)
    boto3.client("iam").create_open_id_connect_provider(
        Url="https://token.actions.githubusercontent.com",
        ClientIDList=["some-other-audience"],
        ThumbprintList=[GITHUB_OIDC_THUMBPRINT],
    )
    api_calls.clear()

    code, out, _ = bootstrap(capsys, "--config", PRODUCTION, "--create-oidc-provider")

    assert code == EXIT_DIFFERENCES
    label = "GitHub OIDC provider token.actions.githubusercontent.com"
    assert f"{label}: client ID sts.amazonaws.com: expected present, found absent" in out.splitlines()
    assert f"{label}: tag managed-by: expected circle-of-trust-bootstrap, found none" in out.splitlines()
    assert changes(api_calls) == []


# ---------------------------------------------------------------------------
# teardown
# ---------------------------------------------------------------------------


def backend_exists() -> tuple[bool, bool]:
    try:
        s3().head_bucket(Bucket=BUCKET)
        bucket = True
    except ClientError:
        bucket = False
    try:
        dynamodb().describe_table(TableName=TABLE)
        table = True
    except ClientError:
        table = False
    return bucket, table


@pytest.mark.parametrize(
    ("confirm", "message"),
    [
        ((), f"run it with --confirm {BUCKET}. Nothing was deleted."),
        (("--confirm", "circle-of-trust-frontend"), "does not name the state bucket"),
    ],
    ids=["no-confirmation", "wrong-bucket"],
)
def test_teardown_needs_the_bucket_name_as_confirmation(aws, capsys, api_calls, confirm, message):
    created(capsys)
    api_calls.clear()

    code, out, err = bootstrap(capsys, "teardown", "--config", PRODUCTION, *confirm)

    assert code == EXIT_USAGE
    assert message in err
    assert out == ""
    assert api_calls == []
    assert backend_exists() == (True, True)


def test_teardown_empties_every_version_and_deletes_the_backend(aws, capsys):
    created(capsys)
    client = s3()
    # moto evaluates the TLS-only policy without its aws:SecureTransport condition and
    # would refuse these writes; teardown does not depend on the policy.
    client.delete_bucket_policy(Bucket=BUCKET)
    for body in (b"1", b"2", b"3"):
        client.put_object(Bucket=BUCKET, Key="production/terraform.tfstate", Body=body)
    client.put_object(Bucket=BUCKET, Key="staging/terraform.tfstate", Body=b"s")
    client.delete_object(Bucket=BUCKET, Key="staging/terraform.tfstate")  # a delete marker

    code, out, _ = bootstrap(capsys, "teardown", "--config", PRODUCTION, "--confirm", BUCKET)

    assert code == EXIT_OK
    assert out.splitlines() == [
        f"state bucket {BUCKET}: deleted (5 object versions and delete markers removed)",
        f"lock table {TABLE}: deleted",
    ]
    assert backend_exists() == (False, False)


def test_teardown_of_an_absent_backend_says_so(aws, capsys):
    code, out, _ = bootstrap(capsys, "teardown", "--config", PRODUCTION, "--confirm", BUCKET)

    assert code == EXIT_OK
    assert out.splitlines() == [f"state bucket {BUCKET}: absent, nothing to delete", f"lock table {TABLE}: absent, nothing to delete"]


def test_teardown_refuses_what_bootstrap_did_not_create(aws, capsys, api_calls):
    created(capsys)
    table_arn = dynamodb().describe_table(TableName=TABLE)["Table"]["TableArn"]
    dynamodb().untag_resource(ResourceArn=table_arn, TagKeys=["managed-by"])
    api_calls.clear()

    code, out, err = bootstrap(capsys, "teardown", "--config", PRODUCTION, "--confirm", BUCKET)

    assert code == EXIT_DIFFERENCES
    assert out.splitlines() == [
        f"lock table {TABLE}: not created by bootstrap; left unchanged",
        f"lock table {TABLE}: tag managed-by: expected circle-of-trust-bootstrap, found none",
    ]
    assert "nothing was deleted" in err
    assert changes(api_calls) == []
    assert backend_exists() == (True, True)


# ---------------------------------------------------------------------------
# usage and configuration errors
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("missing.tfvars", "missing.tfvars: file not found"),
        ('environment = "production"\nstate_bucket = "Not_A_Bucket"\n', "state_bucket: is not a valid S3 bucket name"),
    ],
    ids=["missing-file", "invalid-bucket-name"],
)
def test_a_bad_config_exits_2_before_any_aws_call(aws, capsys, api_calls, tmp_path, config, message):
    path = str(tmp_path / config) if config.endswith(".tfvars") else write_config(tmp_path, config)

    code, out, err = bootstrap(capsys, "--config", path)

    assert code == EXIT_USAGE
    assert message in err
    assert out == ""
    assert api_calls == []


@pytest.mark.parametrize("days", ["0", "-5", "ninety"])
def test_noncurrent_version_days_must_be_a_positive_whole_number(aws, capsys, api_calls, days):
    code, _, err = bootstrap(capsys, "--config", PRODUCTION, "--noncurrent-version-days", days)

    assert code == EXIT_USAGE
    assert "must be a whole number of days, 1 or more" in err
    assert api_calls == []
