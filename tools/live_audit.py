"""Audit an applied environment with a live-account scanner (prowler); honour only reasoned acceptances.

    python -m tools.live_audit --environment production --endpoint http://127.0.0.1:5000
    python -m tools.live_audit --environment production --synth-dir cdktf.out --output /tmp/audit
    python -m tools.live_audit --environment production --ocsf report.ocsf.json   # classify a report, no scan

prowler (``.audit/bin/prowler``, its own venv from audit.lock: ``make
setup``) scans the account the environment was applied to; with
``--endpoint`` that is the emulator (fake credentials, ``AWS_ENDPOINT_URL``).
Each FAIL of its OCSF report is mapped to a Terraform resource of the
environment's layer stacks, by ARN or ID, from the layers' applied states
(read from each stack's S3 backend, as synthesized), and is then:

- accepted: the resource's ``//`` block accepts that check
  (``constructs_lib.policy.accept_finding``, with its reason);
- an artefact: a row of ``ARTEFACTS`` below, the one reviewed table of what
  the emulator itself, or an account-wide setting that no environment owns,
  makes prowler report, each row with its evidence;
- unexplained: anything else, which fails the audit.

An acceptance that matches no FAIL (the resource passes now, or the check
no longer runs) fails the audit too, so acceptances cannot rot. Artefact
rows that matched nothing are listed, without failing: against a real
account the emulator's rows match nothing by design.

Exit status: 0 clean, 1 unexplained FAILs or stale acceptances, 2 usage,
state or scanner error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from tools.layers import LayersError, apply_order, read_dependencies

ROOT = Path(__file__).resolve().parents[1]
PROWLER = ROOT / ".audit" / "bin" / "prowler"
ACCEPT_KEY = "audit_accept"  # written by constructs_lib.policy.accept_finding (not imported: it loads jsii)
STACK_FILE = "cdk.tf.json"
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
# What the environments are made of; every one of these has a check group in prowler.
SERVICES = (
    "s3", "iam", "kms", "dynamodb", "sqs", "ecr", "ecs", "cloudtrail", "cloudwatch", "ec2", "vpc",
    "secretsmanager", "apigatewayv2", "cloudfront", "elbv2", "backup", "sns",
)
REPORT_NAME = "live-audit"  # prowler -F: the report is <output>/live-audit.ocsf.json
PROWLER_TIMEOUT_SECONDS = 900
# prowler's exit codes: 0 no FAIL, 3 some FAIL; anything else is an error.
PROWLER_OK = (0, 3)
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
# Never let an ambient profile, session or role turn an emulator scan into a real-account one.
AWS_ENV_DROPPED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")


class AuditError(Exception):
    """The audit could not run, or its result cannot be trusted (exit 2)."""


# -- the reviewed table of artefacts ----------------------------------------------
EMULATOR, ACCOUNT = "emulator", "account"


@dataclass(frozen=True)
class Artefact:
    """FAILs that say nothing about the environment: of ``check`` (a regex, full match) on a
    resource whose UID or name matches ``resource`` (a regex, searched).

    ``managed``: True when the resource must be one of the environment's own
    (the emulator misreports it), False when it must not be (the account's,
    or the emulator's own), None for either. ``data``: a regex that must also
    be found in the resource's data as prowler reports it (compact JSON, keys
    sorted), e.g. a KMS key's aliases. ``{state_bucket}`` and ``{lock_table}``
    in ``resource`` stand for the environment's backend.

    ``scope``: EMULATOR rows hold only in a scan of the emulator
    (``--endpoint``); ACCOUNT rows (an account-wide setting no environment
    owns) hold everywhere. ``evidence``: what was seen that makes it one.
    """

    check: str
    resource: str
    managed: bool | None
    scope: str
    evidence: str
    data: str | None = None

    def matches(self, finding: "Finding", managed: bool, placeholders: Mapping[str, str], emulated: bool) -> bool:
        if self.scope == EMULATOR and not emulated:
            return False
        if self.managed is not None and self.managed != managed:
            return False
        if not re.fullmatch(self.check, finding.check_id):
            return False
        if self.data is not None and not re.search(self.data, finding.data):
            return False
        pattern = self.resource
        for name, value in placeholders.items():
            pattern = pattern.replace("{" + name + "}", re.escape(value))
        return bool(re.search(pattern, finding.resource_uid) or re.search(pattern, finding.resource_name))


def _account_arn(service: str, resource: str) -> str:
    """An account-level pseudo-ARN prowler reports a per-account check on: arn:aws:logs:us-east-1:123456789012:log-group."""
    return rf"^arn:aws[a-z-]*:{service}:[a-z0-9-]*:\d{{12}}:{resource}$"

# The one reviewed table. A new row needs its evidence: what moto or the account was
# seen to do (a command's output, moto's source), not only what prowler printed.
ARTEFACTS: tuple[Artefact, ...] = (
    # -- the emulator's own resources and gaps (moto 5.2.5 in server mode) --------
    Artefact(
        "ec2_ebs_snapshots_encrypted", r"snapshot/snap-", False, EMULATOR,
        "moto ships ~1,300 AMIs, each with an unencrypted EBS snapshot in every account it emulates; "
        "the environments make no snapshots (no EC2 instances, no EBS volumes: Fargate only)",
    ),
    Artefact(
        r"ec2_networkacl_allow_ingress_(any_port|tcp_port_22|tcp_port_3389)", r"network-acl/acl-", False, EMULATOR,
        "the default NACL of moto's default VPC (moto makes a default VPC per region, as AWS does); "
        "the environment's own VPC's default NACL resolves to its aws_vpc and is not excused here",
        data=r'"default":true',
    ),
    Artefact(
        "kms_cmk_rotation_enabled", r"key/", False, EMULATOR,
        "moto creates the AWS-managed key alias/aws/dynamodb as a CUSTOMER key ('Default key', rotation off) "
        "when a table uses DynamoDB's default encryption (the harness's bare lock table); on AWS it is "
        "AWS-managed, rotated by AWS, and prowler skips AWS-managed keys",
        data=r'"aliases":\["alias/aws/',
    ),
    Artefact(
        "ec2_securitygroup_not_used", r"security-group/sg-", True, EMULATOR,
        "moto runs no ECS tasks (no task ENIs in the api/worker task groups) and puts interface-endpoint "
        "ENIs in the VPC's default security group instead of the endpoints' group "
        "(DescribeNetworkInterfaces on moto: none in these groups); the services and endpoints use them on AWS",
    ),
    Artefact(
        "secretsmanager_secret_unused", r"secret:", True, EMULATOR,
        "moto runs no ECS tasks, so nothing ever reads the secret (LastAccessedDate stays empty); "
        "the API and worker tasks read it at start on AWS",
    ),
    Artefact(
        "cloudtrail_cloudwatch_logging_enabled", r"trail/", True, EMULATOR,
        "the trail does deliver to CloudWatch Logs (DescribeTrails on moto: CloudWatchLogsLogGroupArn and "
        "CloudWatchLogsRoleArn set), but moto's GetTrailStatus has no LatestCloudWatchLogsDeliveryTime, "
        "which the check reads",
    ),
    Artefact(
        "cloudfront_distributions_origin_traffic_encrypted", r"distribution/", True, EMULATOR,
        "the origin is the private S3 bucket behind origin access control; moto's GetDistribution returns the "
        "origin without its S3OriginConfig (only DomainName and OriginAccessControlId), so prowler takes it for "
        "a custom origin without an origin protocol policy",
    ),
    # -- account-wide settings and the shared state backend ------------------------------
    Artefact(
        r"cloudtrail_s3_dataevents_(read|write)_enabled", _account_arn("cloudtrail", "trail"), False, ACCOUNT,
        "the check passes only for a trail recording object-level events of every bucket of the account (a data "
        "resource on all of S3); the environment's trail records write events on its own buckets (data_event_bucket_arns), "
        "and whether the account logs every bucket's objects is the account's (its organisation trail's) decision",
    ),
    Artefact(
        r"iam_password_policy_.+", r"password-policy", False, ACCOUNT,
        "the IAM password policy is one per account; the environments create no IAM users",
    ),
    Artefact(
        r"iam_(securityaudit|support)_role_created", r"policy/(SecurityAudit|AWSSupportAccess)$", False, ACCOUNT,
        "the security-audit and support roles are the account's (its operators'), not an environment's",
    ),
    Artefact(
        "iam_check_saml_providers_sts", r":root$", False, ACCOUNT,
        "account-level: whether the account federates its console users through a SAML provider",
    ),
    Artefact(
        r"cloudwatch_(changes_to_.+_alarm_configured|log_metric_filter_.+)",
        _account_arn("logs", "log-group"), False, ACCOUNT,
        "the CIS metric-filter alarms (root use, IAM/NACL/VPC/trail changes, ...) belong on the account's "
        "(organisation's) CloudTrail log group, one set per account; an environment's trail does not own them",
    ),
    Artefact(
        r"ecr_registry_(enhanced_scanning_enabled|scan_images_on_push_enabled)", r"registry/\d{12}$", False, ACCOUNT,
        "the registry scanning configuration is one per account and region; the environment's repositories "
        "scan on push themselves",
    ),
    Artefact(
        "vpc_different_regions", _account_arn("ec2", "vpc"), False, ACCOUNT,
        "account-level (the account's VPCs across regions); the audit scans only the environment's region",
    ),
    Artefact(
        r"s3_.+", r"^arn:aws[a-z-]*:s3:::{state_bucket}$", False, ACCOUNT,
        "the Terraform state bucket, shared by every environment and made once per account by tools/bootstrap "
        "(versioned, encrypted, public access blocked, TLS-only policy, lifecycle), not by an environment's "
        "layers; on the emulator the test harness creates it bare (tests/harness/emulator.py create_backend)",
    ),
    Artefact(
        r"dynamodb_.+", r":table/{lock_table}$", False, ACCOUNT,
        "the Terraform lock table, shared by every environment and made once per account by tools/bootstrap "
        "(KMS, deletion protection, PITR), not by an environment's layers; on the emulator the test harness "
        "creates it bare (tests/harness/emulator.py create_backend)",
    ),
)


# -- findings and the environment's resources ---------------------------------------
@dataclass(frozen=True, order=True)
class Finding:
    """One record of prowler's OCSF report."""

    check_id: str
    status: str  # PASS, FAIL, MANUAL
    service: str
    severity: str
    resource_uid: str
    resource_name: str
    resource_type: str
    region: str
    detail: str
    data: str = ""  # the resource's data as prowler reports it, compact JSON with sorted keys

    @classmethod
    def from_ocsf(cls, record: Mapping[str, Any]) -> "Finding":
        try:
            resource = (record.get("resources") or [{}])[0]
            return cls(
                check_id=record["metadata"]["event_code"],
                status=record["status_code"],
                service=(resource.get("group") or {}).get("name") or record["metadata"]["event_code"].split("_")[0],
                severity=record.get("severity") or "",
                resource_uid=resource.get("uid") or "",
                resource_name=resource.get("name") or "",
                resource_type=resource.get("type") or "",
                region=resource.get("region") or "",
                detail=record.get("status_detail") or record.get("message") or "",
                data=json.dumps((resource.get("data") or {}).get("metadata") or {}, sort_keys=True, separators=(",", ":"), default=str),
            )
        except (KeyError, TypeError, IndexError, AttributeError) as error:
            raise AuditError(f"not a prowler OCSF finding ({error.__class__.__name__}: {error}): {json.dumps(record)[:300]}") from None


@dataclass(frozen=True, order=True)
class Address:
    """A managed resource of one layer stack: ``<stack>:<type>.<logical id>``."""

    stack: str
    type: str
    name: str

    def __str__(self) -> str:
        return f"{self.stack}:{self.type}.{self.name}"


# Attributes that identify a resource instance in AWS, best first. The last ones name
# what AWS makes along with a VPC (its default NACL, security group, route table):
# a finding on those is the VPC's unless a resource manages them itself (its `id`
# then ranks first).
IDENTIFYING_ATTRIBUTES = ("arn", "arn_without_revision", "id", "default_network_acl_id", "default_security_group_id", "default_route_table_id")
# An ECS task definition revision CI registered (tools/ecs_deploy) belongs to Terraform's family.
_REVISION = re.compile(r"^(arn:[^:]+:ecs:[^:]*:[^:]*:task-definition/[^:]+):\d+$")
# When one ID names a resource and its settings (an S3 bucket's name is the ID of its
# policy, versioning, encryption, ...), the finding is about the resource itself.
PRIMARY_TYPES = frozenset({"aws_s3_bucket", "aws_sqs_queue", "aws_dynamodb_table", "aws_security_group", "aws_vpc", "aws_iam_role", "aws_kms_key"})


@dataclass
class Inventory:
    """The environment's managed resources, findable by what prowler names them by."""

    by_identifier: dict[str, dict[Address, int]] = field(default_factory=dict)  # identifier -> {address: best rank}

    def add(self, address: Address, attributes: Mapping[str, Any]) -> None:
        for rank, key in enumerate(IDENTIFYING_ATTRIBUTES):
            value = attributes.get(key)
            if isinstance(value, str) and value:
                ranks = self.by_identifier.setdefault(value, {})
                ranks[address] = min(rank, ranks.get(address, rank))

    @staticmethod
    def keys(finding: Finding) -> list[str]:
        """What the finding names its resource by, most specific first."""
        keys = [finding.resource_uid]
        revision = _REVISION.match(finding.resource_uid)
        if revision:
            keys.append(revision.group(1))
        try:
            metadata = json.loads(finding.data) if finding.data else {}
        except ValueError:
            metadata = {}
        if isinstance(metadata, dict):
            # e.g. an API Gateway v2 API: uid arn:...::apis/ID, Terraform's arn arn:...::/apis/ID, its id ID
            keys += [str(metadata[k]) for k in ("arn", "id") if isinstance(metadata.get(k), str)]
        # Not the resource's name: names repeat across types (the ECR repository, the task
        # definition family and the HTTP API are all circle-of-trust-api).
        return [key for key in dict.fromkeys(keys) if key]

    def resolve(self, finding: Finding) -> Address | None:
        """The one resource the finding is about, or None when it is not the environment's."""
        for key in self.keys(finding):
            ranks = self.by_identifier.get(key)
            if not ranks:
                continue
            best = min(ranks.values())
            found = sorted(address for address, rank in ranks.items() if rank == best)
            if len(found) > 1:
                found = [a for a in found if a.type in PRIMARY_TYPES] or found
            if len(found) == 1:
                return found[0]
            raise AuditError(f"{finding.check_id}: {key} names {len(found)} resources: {', '.join(map(str, found))}")
        return None


def stack_documents(synth_dir: Path, environment: str) -> dict[str, dict[str, Any]]:
    """The environment's layer stacks (apply order) -> their synthesized cdk.tf.json."""
    try:
        order = apply_order(read_dependencies(synth_dir), environment)
    except LayersError as error:
        raise AuditError(str(error)) from None
    documents = {}
    for name in order:
        path = Path(synth_dir) / "stacks" / name / STACK_FILE
        try:
            documents[name] = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise AuditError(f"cannot read {path}: {error}") from None
    return documents


def read_acceptances(stack: str, document: Mapping[str, Any]) -> dict[Address, dict[str, str]]:
    """The findings a stack's resources accept: address -> {check id: reason}."""
    accepted: dict[Address, dict[str, str]] = {}
    for type_name, items in document.get("resource", {}).items():
        for logical_id, body in items.items():
            entries = body.get("//", {}).get(ACCEPT_KEY, [])
            if not isinstance(entries, list) or not all(
                isinstance(e, dict) and isinstance(e.get("id"), str) and isinstance(e.get("reason"), str) for e in entries
            ):
                raise AuditError(f"{stack}:{type_name}.{logical_id}: malformed {ACCEPT_KEY} block (write it with constructs_lib.policy.accept_finding)")
            if entries:
                accepted[Address(stack, type_name, logical_id)] = {e["id"]: e["reason"] for e in entries}
    return accepted


def backend_of(stack: str, document: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return dict(document["terraform"]["backend"]["s3"])
    except (KeyError, TypeError):
        raise AuditError(f"{stack}: no S3 backend in {STACK_FILE}") from None


def read_state(backend: Mapping[str, Any], endpoint: str | None) -> dict[str, Any]:
    """A layer's state object, from its S3 backend (the emulator's with ``endpoint``)."""
    import boto3  # the project's venv has it; the rest of this module does not need it
    from botocore.config import Config

    options: dict[str, Any] = {"region_name": backend["region"]}
    if endpoint:
        options.update(
            endpoint_url=endpoint,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            config=Config(s3={"addressing_style": "path"}),
        )
    s3 = boto3.session.Session().client("s3", **options)
    try:
        body = s3.get_object(Bucket=backend["bucket"], Key=backend["key"])["Body"].read()
    except Exception as error:  # botocore's errors are generated classes
        raise AuditError(f"cannot read the state s3://{backend['bucket']}/{backend['key']}: {error}") from None
    return json.loads(body)


def inventory(states: Mapping[str, Mapping[str, Any]]) -> Inventory:
    """Every managed resource instance of the layers' states."""
    found = Inventory()
    for stack, state in states.items():
        for resource in state.get("resources", []):
            if resource.get("mode") != "managed":
                continue
            address = Address(stack, resource["type"], resource["name"])
            for instance in resource.get("instances", []):  # cdktf writes no count/for_each: one each
                found.add(address, instance.get("attributes") or {})
    return found


# -- classification --------------------------------------------------------------
@dataclass
class AuditResult:
    passed: Counter[str] = field(default_factory=Counter)  # service -> PASS count
    failed: Counter[str] = field(default_factory=Counter)  # service -> FAIL count
    accepted: list[tuple[Finding, Address, str]] = field(default_factory=list)  # (finding, resource, reason)
    artefacts: list[tuple[Finding, Artefact]] = field(default_factory=list)
    unexplained: list[tuple[Finding, Address | None]] = field(default_factory=list)
    stale: list[tuple[Address, str, str]] = field(default_factory=list)  # (resource, check id, reason)
    unused_artefacts: list[Artefact] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unexplained and not self.stale

    def lines(self) -> list[str]:
        out = ["per service (PASS / FAIL):"]
        for service in sorted(set(self.passed) | set(self.failed)):
            out.append(f"  {service:<16} {self.passed[service]:>5} {self.failed[service]:>5}")
        out.append(f"  {'total':<16} {sum(self.passed.values()):>5} {sum(self.failed.values()):>5}")
        by_row = Counter(row for _, row in self.artefacts)
        out.append(
            f"FAIL: {len(self.accepted)} accepted in code, {len(self.artefacts)} artefacts "
            f"({len(by_row)} of {len(by_row) + len(self.unused_artefacts)} table rows), {len(self.unexplained)} unexplained "
            f"({len({(f.check_id, str(a) if a else f.resource_uid) for f, a in self.unexplained})} distinct check and resource)"
        )
        for finding, address, reason in sorted(self.accepted, key=lambda t: (str(t[1]), t[0])):
            out.append(f"accepted {finding.check_id} on {address} ({reason})")
        for row, count in sorted(by_row.items(), key=lambda t: (t[0].check, t[0].resource)):
            out.append(f"artefact x{count}: {row.check} on /{row.resource}/ ({row.scope}: {row.evidence})")
        for row in self.unused_artefacts:
            out.append(f"note: artefact row {row.check} on /{row.resource}/ matched nothing")
        # One line per check and resource: the revisions CI registered repeat their family's findings.
        grouped: dict[tuple[str, str], list[Finding]] = {}
        for finding, address in sorted(self.unexplained, key=lambda t: (t[0].check_id, str(t[1]), t[0])):
            key = (finding.check_id, str(address) if address else finding.resource_uid or finding.resource_name)
            grouped.setdefault(key, []).append(finding)
        for (_, where), group in grouped.items():
            finding = group[0]
            resource = finding.resource_uid or finding.resource_name
            where = where if where != resource else "(not a resource of this environment)"
            more = f" (and {len(group) - 1} more like it: {', '.join(f.resource_name or f.resource_uid for f in group[1:])})" if len(group) > 1 else ""
            out.append(f"UNEXPLAINED {finding.check_id} [{finding.severity}] {where} {resource}: {finding.detail}{more}")
        for address, check_id, reason in sorted(self.stale):
            out.append(f"STALE accept_finding {check_id} on {address}: prowler no longer reports it FAIL there; remove the acceptance ({reason})")
        return out


def classify(
    findings: Iterable[Finding],
    resources: Inventory,
    acceptances: Mapping[Address, Mapping[str, str]],
    placeholders: Mapping[str, str],
    emulated: bool,
    artefacts: Sequence[Artefact] = ARTEFACTS,
) -> AuditResult:
    """Sort the FAILs into accepted, artefacts and unexplained; find stale acceptances."""
    result = AuditResult()
    used: set[tuple[Address, str]] = set()
    used_rows: set[Artefact] = set()
    for finding in findings:
        if finding.status == "PASS":
            result.passed[finding.service] += 1
        if finding.status != "FAIL":
            continue
        result.failed[finding.service] += 1
        address = resources.resolve(finding)
        reason = acceptances.get(address, {}).get(finding.check_id) if address else None
        if reason is not None:
            result.accepted.append((finding, address, reason))
            used.add((address, finding.check_id))
            continue
        row = next((a for a in artefacts if a.matches(finding, address is not None, placeholders, emulated)), None)
        if row is not None:
            result.artefacts.append((finding, row))
            used_rows.add(row)
            continue
        result.unexplained.append((finding, address))
    result.stale = [(a, c, r) for a, checks in acceptances.items() for c, r in checks.items() if (a, c) not in used]
    result.unused_artefacts = [row for row in artefacts if row not in used_rows and (emulated or row.scope != EMULATOR)]
    return result


# -- running prowler ---------------------------------------------------------------
def prowler_command(prowler: Path, region: str, output: Path, services: Sequence[str] = SERVICES) -> list[str]:
    return [
        str(prowler), "aws", "--filter-region", region, "--services", *services,
        "--output-formats", "json-ocsf", "--output-directory", str(output), "--output-filename", REPORT_NAME,
        "--no-banner", "--no-color",
    ]


def prowler_env(region: str, endpoint: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env["AWS_DEFAULT_REGION"] = region
    if endpoint:
        for key in AWS_ENV_DROPPED:
            env.pop(key, None)
        env.update(FAKE_CREDENTIALS, AWS_ENDPOINT_URL=endpoint)
    return env


def run_prowler(prowler: Path, region: str, endpoint: str | None, output: Path) -> Path:
    """Scan; the path of the OCSF report."""
    if not os.access(prowler, os.X_OK):
        raise AuditError(f"{prowler} is not installed: run `make setup` (it installs audit.lock into .audit/)")
    output.mkdir(parents=True, exist_ok=True)
    report = output / f"{REPORT_NAME}.ocsf.json"
    report.unlink(missing_ok=True)
    log = output / "prowler.log"
    with open(log, "w") as log_file:
        try:
            proc = subprocess.run(
                prowler_command(prowler, region, output),
                cwd=output,
                env=prowler_env(region, endpoint),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                timeout=PROWLER_TIMEOUT_SECONDS,
            )
        except subprocess.TimeoutExpired:
            raise AuditError(f"prowler did not finish in {PROWLER_TIMEOUT_SECONDS} s (log: {log})") from None
    if proc.returncode not in PROWLER_OK or not report.is_file():
        tail = log.read_text(errors="replace")[-3000:]
        raise AuditError(f"prowler failed (exit {proc.returncode}, log {log}):\n{tail}")
    return report


def read_report(path: Path) -> list[Finding]:
    try:
        records = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise AuditError(f"cannot read the OCSF report {path}: {error}") from None
    if not isinstance(records, list):
        raise AuditError(f"{path}: an OCSF report is a JSON list of findings")
    return [Finding.from_ocsf(record) for record in records]


# -- the command -------------------------------------------------------------------
def audit(
    environment: str,
    synth_dir: Path,
    endpoint: str | None,
    region: str,
    output: Path,
    report: Path | None = None,
    prowler: Path = PROWLER,
) -> AuditResult:
    documents = stack_documents(synth_dir, environment)
    acceptances: dict[Address, dict[str, str]] = {}
    backends = {}
    for stack, document in documents.items():
        acceptances.update(read_acceptances(stack, document))
        backends[stack] = backend_of(stack, document)
    states = {stack: read_state(backend, endpoint) for stack, backend in backends.items()}
    first = next(iter(backends.values()))
    placeholders = {"state_bucket": first["bucket"], "lock_table": first.get("dynamodb_table") or "(none)"}
    findings = read_report(report or run_prowler(prowler, region, endpoint, output))
    return classify(findings, inventory(states), acceptances, placeholders, emulated=endpoint is not None)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.live_audit", description=__doc__.split("\n\n")[0])
    parser.add_argument("--environment", required=True, help="the environment whose layers were applied (production, staging, ...)")
    parser.add_argument("--synth-dir", type=Path, default=Path(os.environ.get("CDKTF_OUTDIR", "cdktf.out")), help="synth output (default: $CDKTF_OUTDIR or cdktf.out)")
    parser.add_argument("--endpoint", help="an emulator's URL (fake credentials); without it, the account of the ambient AWS credentials")
    parser.add_argument("--region", default="us-east-1", help="the region to scan (default: us-east-1)")
    parser.add_argument("--output", type=Path, default=Path("live-audit.out"), help="where prowler writes its report and log (default: live-audit.out)")
    parser.add_argument("--ocsf", type=Path, help="classify this prowler OCSF report instead of scanning")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started = time.monotonic()
    try:
        result = audit(args.environment, args.synth_dir, args.endpoint, args.region, args.output.resolve(), args.ocsf)
    except AuditError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    print("\n".join(result.lines()))
    print(f"live audit of {args.environment}: {'clean' if result.ok else 'FAILED'} in {time.monotonic() - started:.0f} s")
    return EXIT_OK if result.ok else EXIT_FINDINGS


if __name__ == "__main__":
    sys.exit(main())
