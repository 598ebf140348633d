"""Create, check and tear down the Terraform backend: the S3 state bucket, the
DynamoDB lock table and, optionally, the account's GitHub OIDC provider.

    python -m tools.bootstrap [create] --config config/production.tfvars [--create-oidc-provider] [--noncurrent-version-days 90]
    python -m tools.bootstrap check    --config config/production.tfvars [--create-oidc-provider] [--noncurrent-version-days 90]
    python -m tools.bootstrap teardown --config config/production.tfvars --confirm circle-of-trust-terraform-state

Names and region come from the environment's config (``state_bucket``,
``state_lock_table``, ``state_region`` or else ``aws_region``).

Why a boto3 command and not a CDKTF stack with local state: the backend must
exist before any stack can ``terraform init``, so it cannot live in the S3
state it creates; a stack with local state would leave a state file that
nobody keeps (lose it and the next apply tries to create the bucket again).
A command can also compare and report instead of converging: the state of
every environment is in this bucket, so when the bucket or table differs from
what we expect, a human should decide, not an apply.

What it guarantees:

- ``create`` makes whatever is missing and leaves alone whatever exists. It
  first inspects every resource; when any of them differs from the expected
  settings, or was not created by this command (tag
  ``managed-by=circle-of-trust-bootstrap``), it reports each difference and
  creates nothing at all. Running it again prints "exists, matches" per
  resource and changes nothing.
- ``check`` takes the options of ``create`` and only reports; a missing
  resource counts as a difference.
- ``teardown`` is the seed's Cleanup for after ``terraform destroy`` of every
  environment: it needs ``--confirm <state bucket name>``, refuses resources it
  did not create, deletes every object version and delete marker and then the
  bucket, and turns off deletion protection and deletes the table. It never
  deletes the OIDC provider: one per account, other repositories' roles may
  trust it.

Choices:

- SSE-S3 (AES256), the seed's choice, not SSE-KMS with the aws/s3 key: an
  AWS managed key's policy cannot be changed, so it adds no access control
  beyond IAM and the bucket policy, only KMS requests and their throttling
  on every state read and write. A customer managed key would add control,
  but it would have to exist before the backend does.
- The lock table uses the AWS managed KMS key (aws/dynamodb): its use is
  logged in CloudTrail, at no cost per request worth noting for a lock table.
- Tags: ``project``, ``environment=shared`` (one bucket holds every
  environment's state, under ``<environment>/terraform.tfstate``) and
  ``managed-by``, which is how teardown knows a resource is ours.
- The OIDC provider keeps the seed's thumbprint; AWS no longer checks it for
  token.actions.githubusercontent.com (it trusts the issuer's CA), but the
  API still requires one for older SDKs and it does no harm. It is compared
  by client ID only.

Exit codes:

- 0: everything exists and matches, was created, or was deleted (or was
  already absent).
- 1: an AWS call failed; something may be half-made: run ``check``.
- 2: usage or config error, or teardown without a matching ``--confirm``;
  nothing was changed.
- 3: a resource differs from the expected settings or was not created by this
  command (check: or is missing); nothing was changed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Protocol

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from stacks.config import ConfigError, EnvironmentConfig, load_config

EXIT_OK = 0
EXIT_AWS_ERROR = 1
EXIT_USAGE = 2
EXIT_DIFFERENCES = 3

MANAGED_BY_KEY = "managed-by"
MANAGED_BY_VALUE = "circle-of-trust-bootstrap"
# The backend serves every environment; see the module docstring.
SHARED_ENVIRONMENT = "shared"

DEFAULT_NONCURRENT_VERSION_DAYS = 90
ABORT_INCOMPLETE_UPLOAD_DAYS = 7
LIFECYCLE_RULE_ID = "terraform-state-retention"
TLS_STATEMENT_SID = "DenyInsecureTransport"
PUBLIC_ACCESS_BLOCK_SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_CLIENT_ID = "sts.amazonaws.com"
GITHUB_OIDC_THUMBPRINT = "6938fd4d98bab03faadb97b34396831e3780aea1"

# Waiting for the lock table to become ACTIVE or to disappear, and for its
# backups to become available: up to 2 minutes each.
_TABLE_WAITER = {"Delay": 2, "MaxAttempts": 60}
_PITR_ATTEMPTS = 24
_PITR_RETRY_SECONDS = 5


class BootstrapError(Exception):
    """An AWS operation did not do what was asked (beyond a ClientError)."""


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


class Differences:
    """The "<setting>: expected X, found Y" lines of one resource."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def expect(self, setting: str, expected: Any, found: Any) -> None:
        if expected != found:
            self.lines.append(f"{setting}: expected {_show(expected)}, found {_show(found)}")

    def expect_present(self, setting: str, present: bool) -> None:
        self.expect(setting, "present", "present" if present else "absent")

    def expect_tags(self, expected: Mapping[str, str], found: Mapping[str, str]) -> None:
        """Expected tags must be present; other tags are someone else's business."""
        for key, value in expected.items():
            self.expect(f"tag {key}", value, found.get(key))


@dataclass(frozen=True)
class Found:
    """An existing resource: its tags and how it differs from the expected settings."""

    tags: Mapping[str, str]
    differences: tuple[str, ...]

    @property
    def ours(self) -> bool:
        return self.tags.get(MANAGED_BY_KEY) == MANAGED_BY_VALUE


class Resource(Protocol):
    label: str

    def inspect(self) -> Found | None:
        """The resource as found, or None when it does not exist."""

    def create(self) -> None: ...


@dataclass(frozen=True)
class Backend:
    """What the bootstrap makes, from one environment's config."""

    bucket: str
    table: str
    region: str
    tags: Mapping[str, str]
    noncurrent_version_days: int = DEFAULT_NONCURRENT_VERSION_DAYS

    @classmethod
    def from_config(cls, config: EnvironmentConfig, noncurrent_version_days: int) -> Backend:
        tags = {"project": config.project_name, "environment": SHARED_ENVIRONMENT, MANAGED_BY_KEY: MANAGED_BY_VALUE}
        return cls(
            bucket=config.state_bucket,
            table=config.state_lock_table,
            region=config.effective_state_region,
            tags=tags,
            noncurrent_version_days=noncurrent_version_days,
        )

    @property
    def partition(self) -> str:
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"

    def tag_list(self) -> list[dict[str, str]]:
        return [{"Key": key, "Value": value} for key, value in self.tags.items()]


def _tag_map(tags: Iterable[Mapping[str, str]]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in tags}


# ---------------------------------------------------------------------------
# The state bucket
# ---------------------------------------------------------------------------


def tls_only_policy(bucket_arn: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": TLS_STATEMENT_SID,
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _denies_insecure_transport(statement: Mapping[str, Any], bucket_arn: str) -> bool:
    """Whether one policy statement denies every request without TLS, however it is spelled."""
    principal = statement.get("Principal")
    if isinstance(principal, dict):
        principal = principal.get("AWS")
    condition = statement.get("Condition", {})
    secure_transport = condition.get("Bool", {}).get("aws:SecureTransport") if isinstance(condition, dict) else None
    return (
        statement.get("Effect") == "Deny"
        and _as_list(principal) == ["*"]
        and "s3:*" in _as_list(statement.get("Action"))
        and {bucket_arn, f"{bucket_arn}/*"} <= set(_as_list(statement.get("Resource")))
        and [str(v).lower() for v in _as_list(secure_transport)] == ["false"]
    )


def _whole_bucket(rule: Mapping[str, Any]) -> bool:
    scope = rule.get("Filter", {"Prefix": rule.get("Prefix", "")})
    return rule.get("Status") == "Enabled" and scope in ({}, {"Prefix": ""})


class StateBucket:
    def __init__(self, backend: Backend, s3: Any) -> None:
        self.backend = backend
        self.s3 = s3
        self.name = backend.bucket
        self.arn = f"arn:{backend.partition}:s3:::{backend.bucket}"
        self.label = f"state bucket {backend.bucket}"

    def _get(self, operation: str, missing_code: str) -> dict[str, Any] | None:
        """A bucket sub-resource, or None when the bucket has none (S3 answers with an error)."""
        try:
            return getattr(self.s3, operation)(Bucket=self.name)
        except ClientError as error:
            if _error_code(error) == missing_code:
                return None
            raise

    def inspect(self) -> Found | None:
        try:
            self.s3.head_bucket(Bucket=self.name)
        except ClientError as error:
            code = _error_code(error)
            if code in ("404", "NoSuchBucket"):
                return None
            if code in ("403", "AccessDenied"):
                # Owned by another account, or we may not read it: nothing else can be checked.
                return Found({}, ("access: expected a bucket this account can read, found 403 Forbidden",))
            raise
        found = Differences()
        location = self.s3.get_bucket_location(Bucket=self.name).get("LocationConstraint")
        found.expect("region", self.backend.region, {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location))
        found.expect("versioning", "Enabled", self.s3.get_bucket_versioning(Bucket=self.name).get("Status"))
        encryption = self._get("get_bucket_encryption", "ServerSideEncryptionConfigurationNotFoundError")
        rules = encryption["ServerSideEncryptionConfiguration"]["Rules"] if encryption else []
        algorithms = [rule.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm") for rule in rules]
        found.expect("default encryption", "AES256", ", ".join(filter(None, algorithms)) or None)
        block = self._get("get_public_access_block", "NoSuchPublicAccessBlockConfiguration")
        block = block["PublicAccessBlockConfiguration"] if block else {}
        for setting in PUBLIC_ACCESS_BLOCK_SETTINGS:
            found.expect(f"public access block {setting}", True, block.get(setting, False))
        ownership = self._get("get_bucket_ownership_controls", "OwnershipControlsNotFoundError")
        owner_rules = ownership["OwnershipControls"]["Rules"] if ownership else []
        found.expect("object ownership", "BucketOwnerEnforced", owner_rules[0]["ObjectOwnership"] if owner_rules else None)
        policy = self._get("get_bucket_policy", "NoSuchBucketPolicy")
        statements = _as_list(json.loads(policy["Policy"]).get("Statement", [])) if policy else []
        denies = any(_denies_insecure_transport(s, self.arn) for s in statements if isinstance(s, dict))
        found.expect_present("bucket policy statement denying aws:SecureTransport = false", denies)
        lifecycle = self._get("get_bucket_lifecycle_configuration", "NoSuchLifecycleConfiguration")
        whole = [rule for rule in (lifecycle or {}).get("Rules", []) if _whole_bucket(rule)]
        noncurrent = [r["NoncurrentVersionExpiration"].get("NoncurrentDays") for r in whole if "NoncurrentVersionExpiration" in r]
        uploads = [r["AbortIncompleteMultipartUpload"].get("DaysAfterInitiation") for r in whole if "AbortIncompleteMultipartUpload" in r]
        found.expect("lifecycle noncurrent version expiration days", self.backend.noncurrent_version_days, noncurrent[0] if noncurrent else None)
        found.expect("lifecycle incomplete multipart upload abort days", ABORT_INCOMPLETE_UPLOAD_DAYS, uploads[0] if uploads else None)
        tagging = self._get("get_bucket_tagging", "NoSuchTagSet")
        tags = _tag_map(tagging["TagSet"]) if tagging else {}
        found.expect_tags(self.backend.tags, tags)
        return Found(tags, tuple(found.lines))

    def create(self) -> None:
        """Create and configure the bucket; tagged first, so teardown can remove it if a later step fails."""
        create_args: dict[str, Any] = {"Bucket": self.name, "ObjectOwnership": "BucketOwnerEnforced"}
        if self.backend.region != "us-east-1":  # us-east-1 rejects an explicit LocationConstraint
            create_args["CreateBucketConfiguration"] = {"LocationConstraint": self.backend.region}
        self.s3.create_bucket(**create_args)
        self.s3.put_bucket_tagging(Bucket=self.name, Tagging={"TagSet": self.backend.tag_list()})
        self.s3.put_public_access_block(
            Bucket=self.name,
            PublicAccessBlockConfiguration={setting: True for setting in PUBLIC_ACCESS_BLOCK_SETTINGS},
        )
        self.s3.put_bucket_versioning(Bucket=self.name, VersioningConfiguration={"Status": "Enabled"})
        self.s3.put_bucket_encryption(
            Bucket=self.name,
            ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
        )
        self.s3.put_bucket_policy(Bucket=self.name, Policy=json.dumps(tls_only_policy(self.arn)))
        self.s3.put_bucket_lifecycle_configuration(
            Bucket=self.name,
            LifecycleConfiguration={
                "Rules": [
                    {
                        "ID": LIFECYCLE_RULE_ID,
                        "Status": "Enabled",
                        "Filter": {"Prefix": ""},
                        "NoncurrentVersionExpiration": {"NoncurrentDays": self.backend.noncurrent_version_days},
                        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_INCOMPLETE_UPLOAD_DAYS},
                    }
                ]
            },
        )

    def delete(self) -> str:
        """Delete every object version and delete marker, then the bucket."""
        removed = 0
        for page in self.s3.get_paginator("list_object_versions").paginate(Bucket=self.name):
            batch = [
                {"Key": item["Key"], "VersionId": item["VersionId"]}
                for item in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if not batch:
                continue
            # DeleteObjects answers 200 and lists the keys it could not delete.
            errors = self.s3.delete_objects(Bucket=self.name, Delete={"Objects": batch, "Quiet": True}).get("Errors", [])
            if errors:
                first = errors[0]
                raise BootstrapError(
                    f"{self.label}: could not delete {len(errors)} object version(s), "
                    f"first {first.get('Key')}: {first.get('Code')} {first.get('Message')}"
                )
            removed += len(batch)
        self.s3.delete_bucket(Bucket=self.name)
        return f"deleted ({removed} object versions and delete markers removed)"


# ---------------------------------------------------------------------------
# The lock table
# ---------------------------------------------------------------------------


class LockTable:
    def __init__(self, backend: Backend, dynamodb: Any) -> None:
        self.backend = backend
        self.dynamodb = dynamodb
        self.name = backend.table
        self.label = f"lock table {backend.table}"

    def inspect(self) -> Found | None:
        try:
            table = self.dynamodb.describe_table(TableName=self.name)["Table"]
        except ClientError as error:
            if _error_code(error) == "ResourceNotFoundException":
                return None
            raise
        found = Differences()
        types = {a["AttributeName"]: a["AttributeType"] for a in table.get("AttributeDefinitions", [])}
        key_schema = ", ".join(f"{k['AttributeName']} ({types.get(k['AttributeName'], '?')}, {k['KeyType']})" for k in table["KeySchema"])
        found.expect("key schema", "LockID (S, HASH)", key_schema)
        found.expect("billing mode", "PAY_PER_REQUEST", table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"))
        sse = table.get("SSEDescription", {})
        found.expect(
            "server-side encryption",
            "KMS ENABLED",
            f"{sse.get('SSEType')} {sse.get('Status')}" if sse else "AWS owned key (the default)",
        )
        found.expect("deletion protection", True, table.get("DeletionProtectionEnabled", False))
        backups = self.dynamodb.describe_continuous_backups(TableName=self.name)["ContinuousBackupsDescription"]
        found.expect(
            "point-in-time recovery",
            "ENABLED",
            backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus"),
        )
        tags = _tag_map(self.dynamodb.list_tags_of_resource(ResourceArn=table["TableArn"]).get("Tags", []))
        found.expect_tags(self.backend.tags, tags)
        return Found(tags, tuple(found.lines))

    def create(self) -> None:
        self.dynamodb.create_table(
            TableName=self.name,
            AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            SSESpecification={"Enabled": True, "SSEType": "KMS"},  # no key ID: the AWS managed aws/dynamodb key
            DeletionProtectionEnabled=True,
            Tags=self.backend.tag_list(),
        )
        self.dynamodb.get_waiter("table_exists").wait(TableName=self.name, WaiterConfig=_TABLE_WAITER)
        self._enable_point_in_time_recovery()

    def _enable_point_in_time_recovery(self) -> None:
        """Retried: for a while after the table turns ACTIVE, DynamoDB answers
        ContinuousBackupsUnavailableException ("Backups are being enabled")."""
        for attempt in range(_PITR_ATTEMPTS):
            try:
                self.dynamodb.update_continuous_backups(
                    TableName=self.name,
                    PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
                )
                return
            except ClientError as error:
                if _error_code(error) != "ContinuousBackupsUnavailableException" or attempt == _PITR_ATTEMPTS - 1:
                    raise
                time.sleep(_PITR_RETRY_SECONDS)

    def delete(self) -> str:
        self.dynamodb.update_table(TableName=self.name, DeletionProtectionEnabled=False)
        self.dynamodb.delete_table(TableName=self.name)
        self.dynamodb.get_waiter("table_not_exists").wait(TableName=self.name, WaiterConfig=_TABLE_WAITER)
        return "deleted"


# ---------------------------------------------------------------------------
# The GitHub OIDC provider
# ---------------------------------------------------------------------------


class GithubOidcProvider:
    def __init__(self, backend: Backend, iam: Any) -> None:
        self.backend = backend
        self.iam = iam
        self.label = f"GitHub OIDC provider {GITHUB_OIDC_HOST}"

    def _arn(self) -> str | None:
        providers = self.iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
        return next((p["Arn"] for p in providers if p["Arn"].endswith(f":oidc-provider/{GITHUB_OIDC_HOST}")), None)

    def inspect(self) -> Found | None:
        arn = self._arn()
        if arn is None:
            return None
        provider = self.iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        found = Differences()
        found.expect_present(f"client ID {GITHUB_OIDC_CLIENT_ID}", GITHUB_OIDC_CLIENT_ID in provider.get("ClientIDList", []))
        tags = _tag_map(provider.get("Tags", []))
        found.expect_tags(self.backend.tags, tags)
        return Found(tags, tuple(found.lines))

    def create(self) -> None:
        self.iam.create_open_id_connect_provider(
            Url=f"https://{GITHUB_OIDC_HOST}",
            ClientIDList=[GITHUB_OIDC_CLIENT_ID],
            ThumbprintList=[GITHUB_OIDC_THUMBPRINT],
            Tags=self.backend.tag_list(),
        )


# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------


def _report(resource: Resource, status: str, differences: Iterable[str] = ()) -> None:
    """One line for the resource, then one per difference, each starting with the resource."""
    print(f"{resource.label}: {status}")
    for line in differences:
        print(f"{resource.label}: {line}")


def create(resources: list[Resource], *, apply: bool) -> int:
    """Inspect everything first; create what is missing only when nothing differs."""
    inspected = [(resource, resource.inspect()) for resource in resources]
    differing = [(r, f) for r, f in inspected if f is not None and f.differences]
    missing = [r for r, f in inspected if f is None]
    for resource, found in inspected:
        if found is None:
            if not apply:
                _report(resource, "missing")
            elif differing:
                _report(resource, "missing; not created because another resource differs")
        elif found.differences:
            _report(resource, "exists, differs; left unchanged", found.differences)
        else:
            _report(resource, "exists, matches")
    if differing:
        print(
            f"error: {len(differing)} resource(s) differ from the expected settings; nothing was changed. "
            "Fix them by hand, or remove them, and run again.",
            file=sys.stderr,
        )
        return EXIT_DIFFERENCES
    if not apply:
        if missing:
            print(f"error: {len(missing)} resource(s) missing; `create` would create them.", file=sys.stderr)
            return EXIT_DIFFERENCES
        return EXIT_OK
    for resource in missing:
        resource.create()
        _report(resource, "created")
    return EXIT_OK


def teardown(resources: list[StateBucket | LockTable]) -> int:
    """Delete the bucket and the table, but only when both are ours (or absent)."""
    inspected = [(resource, resource.inspect()) for resource in resources]
    foreign = [(r, f) for r, f in inspected if f is not None and not f.ours]
    for resource, found in foreign:
        ownership = Differences()
        ownership.expect(f"tag {MANAGED_BY_KEY}", MANAGED_BY_VALUE, found.tags.get(MANAGED_BY_KEY))
        _report(resource, "not created by bootstrap; left unchanged", ownership.lines)
    if foreign:
        print("error: teardown deletes only what bootstrap created; nothing was deleted.", file=sys.stderr)
        return EXIT_DIFFERENCES
    for resource, found in inspected:
        _report(resource, "absent, nothing to delete" if found is None else resource.delete())
    return EXIT_OK


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

COMMANDS = ("create", "check", "teardown")


def _positive_days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        days = 0
    if days < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of days, 1 or more; got {text!r}")
    return days


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bootstrap",
        description=__doc__.split("\n\n")[0],
        epilog="exit codes: 0 ok, 1 AWS call failed, 2 usage or config error (nothing changed), "
        "3 a resource differs or is not ours (nothing changed)",
    )
    commands = parser.add_subparsers(dest="command", metavar="{create,check,teardown}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", required=True, metavar="FILE", help="the environment's .tfvars or .json file")
    settings = argparse.ArgumentParser(add_help=False)
    settings.add_argument(
        "--create-oidc-provider",
        action="store_true",
        help=f"include the GitHub OIDC provider ({GITHUB_OIDC_HOST}, one per account)",
    )
    settings.add_argument(
        "--noncurrent-version-days",
        type=_positive_days,
        default=DEFAULT_NONCURRENT_VERSION_DAYS,
        metavar="DAYS",
        help=f"days before an old state version expires (default: {DEFAULT_NONCURRENT_VERSION_DAYS})",
    )
    commands.add_parser("create", parents=[common, settings], help="create what is missing (the default)")
    commands.add_parser("check", parents=[common, settings], help="report only; a missing resource counts as a difference")
    teardown_parser = commands.add_parser("teardown", parents=[common], help="delete the state bucket and the lock table")
    teardown_parser.add_argument("--confirm", metavar="BUCKET", help="the state bucket's name: you mean to delete every environment's state")
    return parser


def parse_args(argv: list[str]) -> argparse.Namespace:
    if not argv or argv[0] not in (*COMMANDS, "-h", "--help"):
        argv = ["create", *argv]
    return _parser().parse_args(argv)


def _confirmation_problem(args: argparse.Namespace, backend: Backend) -> str | None:
    if args.confirm is None:
        return (
            f"teardown deletes state bucket {backend.bucket} (every environment's Terraform state) "
            f"and lock table {backend.table}; run it with --confirm {backend.bucket}. Nothing was deleted."
        )
    if args.confirm != backend.bucket:
        return f"--confirm {args.confirm} does not name the state bucket of {args.config} ({backend.bucket}). Nothing was deleted."
    return None


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    backend = Backend.from_config(config, getattr(args, "noncurrent_version_days", DEFAULT_NONCURRENT_VERSION_DAYS))
    if args.command == "teardown":
        problem = _confirmation_problem(args, backend)
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return EXIT_USAGE
    def client(service: str) -> Any:
        return boto3.client(service, region_name=backend.region)

    resources: list[Any] = [StateBucket(backend, client("s3")), LockTable(backend, client("dynamodb"))]
    try:
        if args.command == "teardown":
            return teardown(resources)
        if args.create_oidc_provider:
            resources.append(GithubOidcProvider(backend, client("iam")))
        return create(resources, apply=args.command == "create")
    except (BotoCoreError, ClientError, BootstrapError) as error:
        print(f"error: {error}", file=sys.stderr)
        print("error: a resource may be half-made or half-deleted: run `python -m tools.bootstrap check` to see where it stands.", file=sys.stderr)
        return EXIT_AWS_ERROR


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exit_:  # argparse: usage errors (2) and --help (0)
        return int(exit_.code or 0)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
