"""The typed, validated configuration of one environment.

One file per environment (``config/<environment>.tfvars``, or ``.json``)
holds exactly the keys of the seed's ``terraform.tfvars`` plus what the
architecture needs. ``load_config`` either returns a complete
``EnvironmentConfig`` or raises one ``ConfigError`` listing every problem,
each naming the file, the key, what is allowed and what was given, so that
bad input never reaches Terraform.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import json
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

# Shared with the construct props (plain data, no jsii import).
from constructs_lib.limits import (
    DYNAMODB_BILLING_MODES as BILLING_MODES,
    DYNAMODB_MAX_CAPACITY_UNITS as MAX_TABLE_CAPACITY,
    FARGATE_MEMORY_MIB,
    LOG_RETENTION_DAYS,
    SQS_MAX_VISIBILITY_TIMEOUT_SECONDS as MAX_VISIBILITY_TIMEOUT_SECONDS,
    describe_memory_sizes,
)
from constructs_lib import github_refs
from constructs_lib.scaling_steps import scaling_step_problems
from stacks.tfvars import MAX_NESTING, MAX_NUMBER_LENGTH, TfvarsError, parse_tfvars

__all__ = [
    "AWS_REGIONS",
    "BILLING_MODES",
    "ConfigError",
    "EnvironmentConfig",
    "FARGATE_MEMORY_MIB",
    "LOG_RETENTION_DAYS",
    "config_keys",
    "load_config",
    "load_configs",
]

# Commercial, GovCloud and China regions that the hashicorp/aws 5.100.0
# provider knows.
AWS_REGIONS = (
    "af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
    "ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ca-central-1", "ca-west-1",
    "cn-north-1", "cn-northwest-1", "eu-central-1", "eu-central-2", "eu-north-1",
    "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1",
    "me-central-1", "me-south-1", "mx-central-1", "sa-east-1", "us-east-1", "us-east-2",
    "us-gov-east-1", "us-gov-west-1", "us-west-1", "us-west-2",
)  # fmt: skip


# Every pattern is used with fullmatch: `$` would accept a trailing newline.
_NAME = re.compile(r"[a-z][a-z0-9-]*[a-z0-9]")
_IMAGE_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
_DOMAIN = re.compile(r"(?=.{4,253}\Z)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_GITHUB_REPOSITORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
_STATE_KEY_PREFIX = re.compile(r"[A-Za-z0-9!_.*'()/-]{1,900}")  # room for "/<layer>.tfstate" in S3's 1024
_ACCOUNT_ID = re.compile(r"[0-9]{12}")
_ROLE_ARN = re.compile(r"arn:(?P<partition>aws|aws-cn|aws-us-gov):iam::(?P<account>[0-9]{12}):role/(?P<path>(?:[\x21-\x2e\x30-\x7e]+/)*)(?P<name>[\w+=,.@-]{1,64})", re.ASCII)
_DYNAMODB_TABLE = re.compile(r"[A-Za-z0-9_.-]{3,255}")


# The message shows at most this many problems (then "... and N more"), so
# that a file of 100,000 bad keys still gives a readable, bounded message.
MAX_SHOWN_PROBLEMS = 50
# Characters of a given value (its repr) or an unknown key shown in a problem.
MAX_SHOWN_VALUE = 120


class ConfigError(Exception):
    """Every problem found in one or more config files, in one message.

    ``problems`` holds them all; the message shows the first
    MAX_SHOWN_PROBLEMS and counts the rest.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        lines = [f"  {problem}" for problem in self.problems[:MAX_SHOWN_PROBLEMS]]
        if len(self.problems) > MAX_SHOWN_PROBLEMS:
            lines.append(f"  ... and {len(self.problems) - MAX_SHOWN_PROBLEMS} more")
        super().__init__("invalid configuration:\n" + "\n".join(lines))


def _shorten(value: Any) -> str:
    """repr(value), cut to MAX_SHOWN_VALUE characters."""
    text = repr(value)
    if len(text) <= MAX_SHOWN_VALUE:
        return text
    return f"{text[:MAX_SHOWN_VALUE]}... ({len(text)} characters)"


def _show_key(key: str) -> str:
    """A key as written when it is a plain name, else its shortened repr (a JSON key may hold anything)."""
    return key if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]{0,63}", key) else _shorten(key)


def _key(doc: str, default: Any = dataclasses.MISSING, *, allowed: str, seed: bool = False) -> Any:
    """A config field with the documentation the README's reference is built from."""
    metadata = {"doc": doc, "allowed": allowed, "seed": seed}
    if default is dataclasses.MISSING:
        return field(metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True, kw_only=True)
class EnvironmentConfig:
    """One environment's settings. Field names are the config file's keys."""

    # -- the seed's terraform.tfvars ------------------------------------------
    environment: str = _key(
        "Environment name; names the stack (cdktf.out/stacks/<environment>) and, by default, the state key prefix.",
        allowed="lower-case letters, digits and '-', 2-16 characters, starting with a letter; short enough that the names derived from the resource prefix fit (the WebSocket NLB's `<prefix>-ws` has at most 32 characters)",
        seed=True,
    )
    aws_region: str = _key("Region every resource is created in.", "us-east-1", allowed="an AWS region code", seed=True)
    project_name: str = _key(
        "Prefix of resource names (the seed's `<project>-api`, `<project>-jobs`, ...) and the `project` tag.",
        "circle-of-trust",
        allowed="lower-case letters, digits and '-', 3-20 characters, starting with a letter; short enough that the names derived from the resource prefix fit (see environment)",
        seed=True,
    )
    s3_frontend_bucket: str = _key(
        "Name of the private S3 bucket that holds the React build.",
        "circle-of-trust-frontend",
        allowed="an S3 bucket name: 3-63 lower-case letters, digits, '-' and '.'",
        seed=True,
    )
    pingid_metadata_url: str = _key(
        "SAML metadata URL of the PingID identity provider; empty disables SSO wiring.",
        "",
        allowed="empty or an https:// URL",
        seed=True,
    )
    domain_name: str = _key(
        "Custom domain of the app; empty uses the AWS default endpoints.",
        "",
        allowed="empty or a DNS name such as app.example.com",
        seed=True,
    )
    enable_nat_gateway: bool = _key(
        "true: private subnets reach the internet through NAT. false: no NAT; VPC endpoints for the AWS services the tasks use.",
        False,
        allowed="true or false",
        seed=True,
    )
    api_task_cpu: int = _key("API task CPU units.", 512, allowed="a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192, 16384", seed=True)
    api_task_memory: int = _key("API task memory (MiB).", 1024, allowed="a memory size Fargate accepts with api_task_cpu", seed=True)
    api_min_capacity: int = _key("Fewest running API tasks.", 2, allowed="1-1000, at most api_max_capacity", seed=True)
    api_max_capacity: int = _key("Most running API tasks.", 10, allowed="1-1000", seed=True)
    worker_task_cpu: int = _key("Worker task CPU units.", 2048, allowed="a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192, 16384", seed=True)
    worker_task_memory: int = _key("Worker task memory (MiB).", 4096, allowed="a memory size Fargate accepts with worker_task_cpu", seed=True)
    worker_min_capacity: int = _key("Fewest running worker tasks (0 lets the workers scale to zero).", 0, allowed="0-1000, at most worker_max_capacity", seed=True)
    worker_max_capacity: int = _key("Most running worker tasks.", 20, allowed="1-1000", seed=True)
    api_image_tag: str = _key("Image tag of the first API task definition; CI owns the image after that.", "latest", allowed="an image tag: 1-128 of A-Z a-z 0-9 _ . -", seed=True)
    worker_image_tag: str = _key("Image tag of the first worker task definition; CI owns the image after that.", "latest", allowed="an image tag: 1-128 of A-Z a-z 0-9 _ . -", seed=True)

    # -- what the architecture needs besides ----------------------------------
    name_prefix: str = _key(
        "Prefix of resource names. Empty: project_name in production (the seed's names), `<project_name>-<environment>` elsewhere, so environments can share an account.",
        "",
        allowed="empty, or lower-case letters, digits and '-', 3-28 characters",
    )
    state_bucket: str = _key("S3 bucket holding the Terraform state (created by the bootstrap).", "circle-of-trust-terraform-state", allowed="an S3 bucket name")
    state_lock_table: str = _key("DynamoDB table for Terraform state locking.", "terraform-state-lock", allowed="a DynamoDB table name: 3-255 of A-Z a-z 0-9 _ . -")
    state_key_prefix: str = _key(
        "Prefix of this environment's state keys in state_bucket: the stack of layer L keeps its state at `<state_key_prefix>/L.tfstate`. Empty: the environment name. Replaces state_key.",
        "",
        allowed="empty, or 1-900 of A-Z a-z 0-9 and !_.*'()/-, not starting or ending with '/' and without '//'",
    )
    state_region: str = _key("Region of the state bucket and lock table. Empty: aws_region.", "", allowed="empty or an AWS region code")
    vpc_cidr: str = _key("IPv4 range of the VPC; split into 16 equal blocks, private subnets first, public from the ninth.", "10.0.0.0/16", allowed="an IPv4 CIDR block from /16 to /24")
    az_count: int = _key("Availability zones the subnets span.", 2, allowed="2-6")
    availability_zones: tuple[str, ...] = _key(
        "Names of the zones to span, pinned so that a zone AWS adds never moves a subnet. Empty: the region's first az_count zones by letter (`<region>a`, `<region>b`, ...); set it in regions where zone `a` is not open to every account (us-west-1, ap-northeast-1).",
        (),
        allowed="empty, or az_count distinct zone names of aws_region, such as [\"us-east-1a\", \"us-east-1b\"]",
    )
    single_nat_gateway: bool = _key("With enable_nat_gateway: one NAT gateway for all zones (cheaper) instead of one per zone (zone-independent).", True, allowed="true or false")
    flow_log_retention_days: int = _key("Retention of the VPC flow log group (days); a year of network history is what an incident review asks for.", 365, allowed="a CloudWatch Logs retention: " + ", ".join(map(str, LOG_RETENTION_DAYS)))
    github_repository: str = _key("GitHub repository (`owner/name`) whose workflows may deploy; empty: no deploy role.", "", allowed="empty or owner/name")

    # -- guard rails: which account, which role, what may be destroyed ----------
    allowed_account_ids: tuple[str, ...] = _key(
        "AWS account IDs this environment may be applied to; every AWS provider of the stack gets them as allowed_account_ids, so credentials of another account fail before any change. Empty: any account, and a production-like environment (environment `production`, `prod` or starting with `prod-` or `production-`) gets a warning at synth.",
        (),
        allowed='a list of distinct 12-digit account IDs as strings, such as ["123456789012"] (quoted: a number would lose a leading zero)',
    )
    assume_role_arn: str = _key(
        "IAM role every AWS provider of the stack assumes (from the credentials it starts with). Empty: the credentials are used as they are.",
        "",
        allowed="empty or an IAM role ARN `arn:<partition>:iam::<12 digits>:role/<path/><name>` of aws_region's partition, whose account is in allowed_account_ids when that is set",
    )
    protect_data: bool = _key(
        "true: the data-bearing resources (tables, buckets, queues, keys, the backup vault) get `lifecycle { prevent_destroy = true }`, so a plan that would destroy one fails. false for a disposable environment.",
        True,
        allowed="true or false",
    )

    # -- delivery: the GitHub Actions deploy role, the ECR-push updater ----------
    github_branch: str = _key(
        "With github_repository and no github_environment: the branch whose workflow jobs may assume the deploy role (OIDC sub `repo:<owner>/<name>:ref:refs/heads/<branch>`). A job that names a GitHub environment gets the environment form instead, so set github_environment for the shipped workflows.",
        "main",
        allowed="a git branch name: 1-255 characters, no spaces or ~ ^ : ? * [ \\, no '..', '@{' or '//', not starting with '-' or '/', not ending with '/', '.' or '.lock'",
    )
    github_environment: str = _key(
        "With github_repository: the GitHub environment whose jobs may assume the deploy role (OIDC sub `repo:<owner>/<name>:environment:<environment>`); the environment's deployment branch rules then say which branches deploy. Empty: the github_branch form.",
        "",
        allowed="empty, or 1-255 letters, digits, '.', '_' and '-'",
    )
    create_github_oidc_provider: bool = _key(
        "With github_repository: create the account's GitHub OIDC provider (token.actions.githubusercontent.com) in this stack. false: look it up; there is one per account, made once by `python -m tools.bootstrap --create-oidc-provider`.",
        False,
        allowed="true or false (true needs github_repository)",
    )
    enable_ecr_push_updater: bool = _key(
        "The seed's EventBridge alternative to the CI deploy step: a rule on successful pushes to the two repositories invokes a Lambda that deploys the pushed tag to the mapped service exactly as CI does (tools/ecs_deploy.py: a new task definition revision with only the image replaced). A push without a tag deploys nothing. The backend deploy workflows read the stack's deploys_on_push output and then only build and push, so each push deploys once.",
        False,
        allowed="true or false",
    )

    # -- workloads: ECS, ECR, SQS, DynamoDB, Cloud Map ------------------------
    log_retention_days: int = _key(
        "Retention of the ECS log groups `/ecs/<prefix>-api` and `/ecs/<prefix>-worker` (days); a year covers audits and incident reviews.",
        365,
        allowed="a CloudWatch Logs retention: " + ", ".join(map(str, LOG_RETENTION_DAYS)),
    )
    api_container_port: int = _key(
        "TCP port the API container listens on; the VPC link reaches it there and Cloud Map publishes it (SRV).",
        8080,
        allowed="1024-65535 (an unprivileged port: the container runs as a non-root user)",
    )
    api_cpu_target_percent: int = _key(
        "Average CPU (%) of the API tasks that target tracking holds between api_min_capacity and api_max_capacity.",
        60,
        allowed="10-90",
    )
    worker_on_demand_base: int = _key(
        "Worker tasks that run on Fargate on-demand before any runs on FARGATE_SPOT (Spot can be reclaimed with 2 minutes' notice).",
        0,
        allowed="0 to worker_max_capacity",
    )
    queue_visibility_timeout_seconds: int = _key(
        "How long a received job message stays invisible to other workers; must outlast a job, or a second worker runs it again.",
        960,
        allowed="1-43200, greater than worker_job_timeout_seconds",
    )
    worker_job_timeout_seconds: int = _key(
        "Longest a worker may spend on one job (passed to the worker as JOB_TIMEOUT_SECONDS).",
        900,
        allowed="1-43199, less than queue_visibility_timeout_seconds",
    )
    dlq_max_receive_count: int = _key(
        "Receives of a job message before it moves to the dead-letter queue (kept 14 days).",
        5,
        allowed="1-1000",
    )
    worker_scaling_steps: tuple[tuple[int, int], ...] = _key(
        "Worker scale-out steps, [visible_messages, tasks] pairs: while at least visible_messages messages wait, each scaling action adds that many tasks, repeated every 2 minutes while the backlog lasts, up to worker_max_capacity. Tasks are only ever added here; scale-in waits for an empty queue (worker_scale_in_minutes).",
        ((1, 1), (50, 5), (200, 10), (1000, 20)),
        allowed="a list of [visible_messages, tasks] pairs of whole numbers: visible_messages strictly ascending from at least 1, tasks 1 to worker_max_capacity and never fewer for a larger backlog",
    )
    worker_scale_in_minutes: int = _key(
        "Minutes the job queue must hold no message, visible or in flight, before the workers scale in to worker_min_capacity.",
        5,
        allowed="1-60",
    )
    dynamodb_billing_mode: str = _key(
        "Billing of the conversations and jobs tables: PAY_PER_REQUEST (on-demand; follows bursts, nothing to tune) or PROVISIONED (capacity with target-tracking autoscaling; cheaper for a steady load).",
        "PAY_PER_REQUEST",
        allowed="PAY_PER_REQUEST or PROVISIONED",
    )
    dynamodb_min_read_capacity: int = _key("PROVISIONED only: fewest read capacity units per table (autoscaling floor).", 5, allowed="1-40000, at most dynamodb_max_read_capacity")
    dynamodb_max_read_capacity: int = _key("PROVISIONED only: most read capacity units per table (autoscaling ceiling).", 100, allowed="1-40000")
    dynamodb_min_write_capacity: int = _key("PROVISIONED only: fewest write capacity units per table (autoscaling floor).", 5, allowed="1-40000, at most dynamodb_max_write_capacity")
    dynamodb_max_write_capacity: int = _key("PROVISIONED only: most write capacity units per table (autoscaling ceiling).", 100, allowed="1-40000")
    dynamodb_target_utilization_percent: int = _key("PROVISIONED only: consumed/provisioned capacity (%) autoscaling aims at.", 70, allowed="20-90")
    table_deletion_protection: bool = _key(
        "Deletion protection of the DynamoDB tables. Keep true in production; a disposable environment may set false so `terraform destroy` can remove its tables.",
        True,
        allowed="true or false",
    )

    # -- edge: HTTP and WebSocket APIs, frontend, custom domain, SSO ----------
    hosted_zone_id: str = _key(
        "Route 53 public hosted zone that serves domain_name. A custom domain (https://<domain_name>, https://api.<domain_name>, wss://ws.<domain_name>, with ACM certificates validated by DNS in this zone) needs both; with domain_name but no zone the app keeps the AWS default endpoints and synth prints a warning.",
        "",
        allowed="empty, or a hosted zone ID such as Z0123456789ABCDEFGHIJ (upper-case letters and digits, without /hostedzone/); needs domain_name",
    )
    cloudfront_price_class: str = _key(
        "Edge locations that serve the frontend: PriceClass_100 (North America and Europe, the cheapest), PriceClass_200 (plus most of Asia, the Middle East and Africa) or PriceClass_All.",
        "PriceClass_100",
        allowed="PriceClass_100, PriceClass_200 or PriceClass_All",
    )
    api_throttling_burst_limit: int = _key("Requests the HTTP API absorbs at once before answering 429.", 200, allowed="0-5000")
    api_throttling_rate_limit: int = _key("Steady requests per second the HTTP API allows.", 100, allowed="0-10000")
    websocket_throttling_burst_limit: int = _key("Messages the WebSocket API absorbs at once before refusing them.", 100, allowed="0-5000")
    websocket_throttling_rate_limit: int = _key("Steady messages per second the WebSocket API allows.", 50, allowed="0-10000")
    api_access_log_retention_days: int = _key(
        "Retention of the HTTP and WebSocket APIs' JSON access logs (days); a year covers audits and incident reviews.",
        365,
        allowed="a CloudWatch Logs retention: " + ", ".join(map(str, LOG_RETENTION_DAYS)),
    )
    manage_api_gateway_account: bool = _key(
        "Own the region's API Gateway CloudWatch role setting (aws_api_gateway_account, one per account and region, which WebSocket access logs need): this environment makes the role `<prefix>-apigateway-cloudwatch`, which may create and write API Gateway's log groups of the region (`/aws/apigateway/*`, `API-Gateway-Execution-Logs_*`) and no other, and points the setting at it. Exactly one environment per account and region sets true (two loaded together that share an account and region are refused); the others' WebSocket stages log with its role, so it is applied first and destroyed last.",
        True,
        allowed="true or false",
    )
    enable_cognito_sso: bool = _key(
        "true: users sign in through a Cognito user pool federated with PingID over SAML (from pingid_metadata_url), and the HTTP API accepts only that pool's tokens. false: no pool; the API service gets PINGID_METADATA_URL and handles sign-in itself.",
        False,
        allowed="true or false (true needs pingid_metadata_url)",
    )
    cognito_domain_prefix: str = _key(
        "With enable_cognito_sso: prefix of the hosted sign-in domain <prefix>.auth.<region>.amazoncognito.com, unique in the region. Empty: the resource prefix.",
        "",
        allowed="empty, or 1-63 lower-case letters, digits and '-', not containing aws, amazon or cognito",
    )

    # -- operations: audit trail, alarms, dashboard, backup --------------------
    enable_cloudtrail: bool = _key(
        "A multi-region CloudTrail trail of every management event (read and write, global services included, log file validation on) into its own KMS-encrypted bucket and a CloudWatch Logs group. The first trail of an account records management events for free; a second one (another environment in the same account) pays $2 per 100,000 events, so set false in all but one environment that shares an account.",
        True,
        allowed="true or false",
    )
    cloudtrail_bucket: str = _key(
        "With enable_cloudtrail: name of the trail's private bucket (names are global). Empty: `<resource prefix>-audit-logs`.",
        "",
        allowed="empty or an S3 bucket name, other than s3_frontend_bucket and state_bucket",
    )
    cloudtrail_log_retention_days: int = _key(
        "With enable_cloudtrail: days trail log files (bucket, moved to Glacier Instant Retrieval after 90 days) and events (CloudWatch Logs) are kept; a year of who-changed-what is what an incident review or audit asks for.",
        365,
        allowed="a CloudWatch Logs retention: " + ", ".join(map(str, LOG_RETENTION_DAYS)),
    )
    alarm_email: str = _key(
        "Address subscribed to the alarm topic `<prefix>-alarms` (SNS sends it a confirmation mail first). Empty: no subscription; subscribe chat or paging to the topic out of band.",
        "",
        allowed="empty or an e-mail address",
    )
    alarm_api_5xx_percent: int = _key(
        "HTTP API alarm: 5xx responses as a percentage of requests, in 2 of 3 five-minute periods, above which the alarm fires.",
        5,
        allowed="1-100",
    )
    alarm_api_latency_p99_milliseconds: int = _key(
        "HTTP API alarm: p99 latency (ms) that, exceeded for 15 minutes, fires the alarm.",
        2000,
        allowed="50-30000 (30 s is the longest an HTTP API waits)",
    )
    alarm_job_age_seconds: int = _key(
        "Job queue alarm: age (s) of the oldest job message, counted from when it was sent, that fires the alarm. It includes the time a worker holds the message, so it must exceed queue_visibility_timeout_seconds. 0: twice queue_visibility_timeout_seconds.",
        0,
        allowed="0, or queue_visibility_timeout_seconds + 1 to 1209600",
    )
    enable_backup: bool = _key(
        "AWS Backup of the two tables: a vault encrypted with its own KMS key, a daily plan (05:00 UTC) and a selection of exactly the two tables. Point-in-time recovery (35 days) is on either way; backups add recovery points that outlive a deleted table and longer retention.",
        False,
        allowed="true or false",
    )
    backup_retention_days: int = _key(
        "With enable_backup: days each daily recovery point is kept.",
        35,
        allowed="1-36500",
    )

    # -- derived values -----------------------------------------------------------
    @property
    def resource_prefix(self) -> str:
        if self.name_prefix:
            return self.name_prefix
        if self.environment == "production":
            return self.project_name
        return f"{self.project_name}-{self.environment}"

    @property
    def effective_availability_zones(self) -> tuple[str, ...]:
        if self.availability_zones:
            return self.availability_zones
        return tuple(f"{self.aws_region}{letter}" for letter in "abcdefgh"[: self.az_count])

    @property
    def effective_state_key_prefix(self) -> str:
        return self.state_key_prefix or self.environment

    def state_key(self, layer: str) -> str:
        """The state object key of the stack of ``layer``: ``<state_key_prefix>/<layer>.tfstate``."""
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,62}", layer):
            raise ValueError(f"layer must be 1-63 lower-case letters, digits and '-', starting with a letter, but {layer!r} was provided")
        return f"{self.effective_state_key_prefix}/{layer}.tfstate"

    @property
    def production_like(self) -> bool:
        """environment production or prod, or starting with production- or prod-: warned about what only production needs."""
        return bool(re.fullmatch(r"prod(?:uction)?(?:-.*)?", self.environment, re.DOTALL))

    @property
    def effective_state_region(self) -> str:
        return self.state_region or self.aws_region

    @property
    def custom_domain_enabled(self) -> bool:
        """A custom domain needs the name and the zone its certificates are validated in."""
        return bool(self.domain_name and self.hosted_zone_id)

    @property
    def effective_cognito_domain_prefix(self) -> str:
        return self.cognito_domain_prefix or self.resource_prefix

    @property
    def effective_cloudtrail_bucket(self) -> str:
        return self.cloudtrail_bucket or f"{self.resource_prefix}-audit-logs"

    @property
    def effective_alarm_job_age_seconds(self) -> int:
        return self.alarm_job_age_seconds or 2 * self.queue_visibility_timeout_seconds


def config_keys() -> tuple[dataclasses.Field, ...]:
    return dataclasses.fields(EnvironmentConfig)


# ---------------------------------------------------------------------------
# Validation: every rule appends problems; none stops at the first.
# ---------------------------------------------------------------------------

def _s3_bucket_name_problem(name: str) -> str | None:
    if not 3 <= len(name) <= 63:
        return "must be 3-63 characters long"
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]*[a-z0-9]", name):
        return "may hold only lower-case letters, digits, '.' and '-', and must start and end with a letter or digit"
    if ".." in name:
        return "must not contain two adjacent periods"
    if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name):
        return "must not be formatted as an IP address"
    if name.startswith(("xn--", "sthree-", "amzn-s3-demo-")) or name.endswith(("-s3alias", "--ol-s3", "--x-s3", ".mrap")):
        return "must not use a prefix or suffix that S3 reserves (xn--, sthree-, -s3alias, --ol-s3, ...)"
    return None


def _name_problem(value: str, low: int, high: int) -> str | None:
    if not low <= len(value) <= high or not _NAME.fullmatch(value) or "--" in value:
        return f"must be {low}-{high} lower-case letters, digits and single '-', starting with a letter"
    return None


def _check_strings(config: EnvironmentConfig, report: Callable[[str, str], None]) -> None:
    problem = _name_problem(config.environment, 2, 16)
    if problem:
        report("environment", problem)
    problem = _name_problem(config.project_name, 3, 20)
    if problem:
        report("project_name", problem)
    if config.name_prefix:
        problem = _name_problem(config.name_prefix, 3, 28)
        if problem:
            report("name_prefix", problem)
    for key in ("aws_region", "state_region"):
        value = getattr(config, key)
        if (value or key == "aws_region") and value not in AWS_REGIONS:
            suggestion = difflib.get_close_matches(value, AWS_REGIONS, n=1)
            hint = f" (did you mean {suggestion[0]!r}?)" if suggestion else ""
            report(key, f"must be an AWS region code such as us-east-1{hint}")
    for key in ("s3_frontend_bucket", "state_bucket"):
        problem = _s3_bucket_name_problem(getattr(config, key))
        if problem:
            report(key, f"is not a valid S3 bucket name: {problem}")
    if not _DYNAMODB_TABLE.fullmatch(config.state_lock_table):
        report("state_lock_table", "must be a DynamoDB table name: 3-255 of A-Z a-z 0-9 _ . -")
    prefix = config.state_key_prefix
    if prefix and (not _STATE_KEY_PREFIX.fullmatch(prefix) or prefix.startswith("/") or prefix.endswith("/") or "//" in prefix):
        report("state_key_prefix", "must be empty or 1-900 of letters, digits and !_.*'()/-, not starting or ending with '/' and without '//'")
    _check_accounts(config, report)
    if config.pingid_metadata_url and not re.fullmatch(r"https://[^\s/$.?#][^\s]*", config.pingid_metadata_url):
        report("pingid_metadata_url", "must be empty or an https:// URL")
    if config.domain_name and not _DOMAIN.fullmatch(config.domain_name):
        report("domain_name", "must be empty or a lower-case DNS name such as app.example.com")
    for key in ("api_image_tag", "worker_image_tag"):
        if not _IMAGE_TAG.fullmatch(getattr(config, key)):
            report(key, "must be an image tag: 1-128 of A-Z a-z 0-9 _ . -, not starting with '.' or '-'")
    if config.github_repository and not _GITHUB_REPOSITORY.fullmatch(config.github_repository):
        report("github_repository", "must be empty or owner/name, such as my-org/circle-of-trust")
    _check_delivery(config, report)


def _partition(region: str) -> str:
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


def _check_accounts(config: EnvironmentConfig, report: Callable[[str, str], None]) -> None:
    """allowed_account_ids and assume_role_arn, and that they agree."""
    ids = config.allowed_account_ids
    bad = [account for account in ids if not _ACCOUNT_ID.fullmatch(account)]
    if bad:
        report("allowed_account_ids", f"must hold 12-digit AWS account IDs; not {', '.join(_shorten(account) for account in bad[:5])}")
    if len(set(ids)) != len(ids):
        report("allowed_account_ids", "must not repeat an account ID")
    arn = config.assume_role_arn
    if not arn:
        return
    match = _ROLE_ARN.fullmatch(arn)
    if not match or len(match["path"]) > 512:
        report("assume_role_arn", "must be empty or an IAM role ARN such as arn:aws:iam::123456789012:role/deploy (a path may come before the name: role/ci/deploy)")
        return
    partition = _partition(config.aws_region)
    if match["partition"] != partition:
        report("assume_role_arn", f"must be in the partition of aws_region ({config.aws_region}): arn:{partition}:iam::...")
    if ids and not bad and match["account"] not in ids:
        report("assume_role_arn", f"must be a role of an account in allowed_account_ids ({', '.join(ids)}), not of {match['account']}")


def _check_delivery(config: EnvironmentConfig, report: Callable[[str, str], None]) -> None:
    """The deploy role's branch or environment (the OIDC sub claim), and what needs github_repository."""
    for problem in github_refs.branch_problems(config.github_branch):
        report("github_branch", problem)
    if config.github_environment:
        for problem in github_refs.environment_problems(config.github_environment):
            report("github_environment", problem)
        if config.github_branch != "main":
            report("github_branch", "has no effect with github_environment (jobs in an environment get the environment sub claim): leave it out, or leave github_environment empty")
    if not config.github_repository:
        for key, unused in (
            ("github_environment", bool(config.github_environment)),
            ("create_github_oidc_provider", config.create_github_oidc_provider),
        ):
            if unused:
                report(key, "has no effect without github_repository (no deploy role): set github_repository too, or leave it out")


def _check_network(config: EnvironmentConfig, report: Callable[[str, str], None]) -> None:
    try:
        network = ipaddress.IPv4Network(config.vpc_cidr, strict=True)
    except ValueError as error:
        report("vpc_cidr", f"must be an IPv4 CIDR block such as 10.0.0.0/16 ({error})")
    else:
        if not 16 <= network.prefixlen <= 24:
            report("vpc_cidr", "must have a prefix length from /16 to /24 (AWS allows /16-/28; each subnet is 1/16 of the VPC)")
    if not 2 <= config.az_count <= 6:
        report("az_count", "must be from 2 to 6")
    elif config.availability_zones:
        zones = config.availability_zones
        if len(zones) != config.az_count or len(set(zones)) != len(zones):
            report("availability_zones", f"must name exactly az_count ({config.az_count}) distinct zones")
        foreign = [zone for zone in zones if not re.fullmatch(re.escape(config.aws_region) + r"[a-z]", zone)]
        if foreign:
            report("availability_zones", f"must be zones of aws_region ({config.aws_region}), such as {config.aws_region}a; not {', '.join(foreign)}")
    if config.flow_log_retention_days not in LOG_RETENTION_DAYS:
        report("flow_log_retention_days", "must be one of " + ", ".join(map(str, LOG_RETENTION_DAYS)))


def _check_tasks(config: EnvironmentConfig, report: Callable[[str, str], None]) -> None:
    for role in ("api", "worker"):
        cpu_key, memory_key = f"{role}_task_cpu", f"{role}_task_memory"
        cpu, memory = getattr(config, cpu_key), getattr(config, memory_key)
        if cpu not in FARGATE_MEMORY_MIB:
            report(cpu_key, "must be a Fargate CPU size: " + ", ".join(map(str, FARGATE_MEMORY_MIB)))
        elif memory not in FARGATE_MEMORY_MIB[cpu]:
            report(memory_key, f"must be a memory size (MiB) Fargate accepts with {cpu_key} = {cpu}: {describe_memory_sizes(cpu)}")
        lowest = 1 if role == "api" else 0
        low_key, high_key = f"{role}_min_capacity", f"{role}_max_capacity"
        low, high = getattr(config, low_key), getattr(config, high_key)
        if not lowest <= low <= 1000:
            report(low_key, f"must be from {lowest} to 1000")
        if not 1 <= high <= 1000:
            report(high_key, "must be from 1 to 1000")
        if low > high:
            report(low_key, f"must not exceed {high_key} ({high})")


def _check_range(config: EnvironmentConfig, report: Callable[[str, str], None], key: str, low: int, high: int) -> bool:
    value = getattr(config, key)
    if not low <= value <= high:
        report(key, f"must be from {low} to {high}")
        return False
    return True


def _check_workloads(config: EnvironmentConfig, report: Callable[[str, str], None]) -> None:
    if config.log_retention_days not in LOG_RETENTION_DAYS:
        report("log_retention_days", "must be one of " + ", ".join(map(str, LOG_RETENTION_DAYS)))
    _check_range(config, report, "api_container_port", 1024, 65535)
    _check_range(config, report, "api_cpu_target_percent", 10, 90)
    # Rules that compare with worker_max_capacity stay quiet while it is itself
    # out of range: that problem is reported once, by _check_tasks.
    max_ok = 1 <= config.worker_max_capacity <= 1000
    if max_ok and not 0 <= config.worker_on_demand_base <= config.worker_max_capacity:
        report("worker_on_demand_base", f"must be from 0 to worker_max_capacity ({config.worker_max_capacity})")
    timeout_ok = _check_range(config, report, "worker_job_timeout_seconds", 1, MAX_VISIBILITY_TIMEOUT_SECONDS - 1)
    visibility_ok = _check_range(config, report, "queue_visibility_timeout_seconds", 1, MAX_VISIBILITY_TIMEOUT_SECONDS)
    if timeout_ok and visibility_ok and config.queue_visibility_timeout_seconds <= config.worker_job_timeout_seconds:
        report(
            "queue_visibility_timeout_seconds",
            f"must be greater than worker_job_timeout_seconds ({config.worker_job_timeout_seconds}), "
            "or a job still running becomes visible and a second worker starts it",
        )
    _check_range(config, report, "dlq_max_receive_count", 1, 1000)
    _check_range(config, report, "worker_scale_in_minutes", 1, 60)
    max_tasks = config.worker_max_capacity if max_ok else None
    for problem in scaling_step_problems(list(config.worker_scaling_steps), max_tasks):
        report("worker_scaling_steps", problem)


def _check_tables(config: EnvironmentConfig, report: Callable[[str, str], None]) -> None:
    if config.dynamodb_billing_mode not in BILLING_MODES:
        report("dynamodb_billing_mode", "must be PAY_PER_REQUEST or PROVISIONED")
    for kind in ("read", "write"):
        low_key, high_key = f"dynamodb_min_{kind}_capacity", f"dynamodb_max_{kind}_capacity"
        low_ok = _check_range(config, report, low_key, 1, MAX_TABLE_CAPACITY)
        high_ok = _check_range(config, report, high_key, 1, MAX_TABLE_CAPACITY)
        if low_ok and high_ok and getattr(config, low_key) > getattr(config, high_key):
            report(low_key, f"must not exceed {high_key} ({getattr(config, high_key)})")
    _check_range(config, report, "dynamodb_target_utilization_percent", 20, 90)


PRICE_CLASSES = ("PriceClass_100", "PriceClass_200", "PriceClass_All")
_HOSTED_ZONE_ID = re.compile(r"[A-Z0-9]{1,32}")
_COGNITO_DOMAIN_PREFIX = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_COGNITO_RESERVED = ("aws", "amazon", "cognito")


def _check_edge(config: EnvironmentConfig, report: Callable[[str, str], None]) -> None:
    if config.hosted_zone_id:
        if not _HOSTED_ZONE_ID.fullmatch(config.hosted_zone_id):
            report("hosted_zone_id", "must be empty or a Route 53 hosted zone ID: upper-case letters and digits such as Z0123456789ABCDEFGHIJ, without /hostedzone/")
        if not config.domain_name:
            report("hosted_zone_id", "has no effect without domain_name: set domain_name too, or leave hosted_zone_id empty")
    if config.cloudfront_price_class not in PRICE_CLASSES:
        report("cloudfront_price_class", "must be one of " + ", ".join(PRICE_CLASSES))
    for key, high in (
        ("api_throttling_burst_limit", 5000),
        ("api_throttling_rate_limit", 10000),
        ("websocket_throttling_burst_limit", 5000),
        ("websocket_throttling_rate_limit", 10000),
    ):
        _check_range(config, report, key, 0, high)
    if config.api_access_log_retention_days not in LOG_RETENTION_DAYS:
        report("api_access_log_retention_days", "must be one of " + ", ".join(map(str, LOG_RETENTION_DAYS)))
    prefix = config.effective_cognito_domain_prefix
    if config.cognito_domain_prefix or config.enable_cognito_sso:
        if not _COGNITO_DOMAIN_PREFIX.fullmatch(prefix) or any(word in prefix for word in _COGNITO_RESERVED):
            report(
                "cognito_domain_prefix",
                f"must be 1-63 lower-case letters, digits and '-' not containing aws, amazon or cognito (Cognito reserves them); {prefix!r} would be used",
            )
    if config.enable_cognito_sso and not config.pingid_metadata_url:
        report("enable_cognito_sso", "needs pingid_metadata_url (PingID's SAML metadata URL), which is empty")


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MAX_MESSAGE_AGE_SECONDS = 1209600  # SQS keeps a message 14 days at most


def _check_operations(config: EnvironmentConfig, report: Callable[[str, str], None]) -> None:
    if config.cloudtrail_bucket:
        # The default, <resource prefix>-audit-logs, is valid whenever the prefix is.
        problem = _s3_bucket_name_problem(config.cloudtrail_bucket)
        if problem:
            report("cloudtrail_bucket", f"is not a valid S3 bucket name: {problem}")
    if config.enable_cloudtrail:
        bucket = config.effective_cloudtrail_bucket
        for other in ("s3_frontend_bucket", "state_bucket"):
            if bucket == getattr(config, other):
                report("cloudtrail_bucket", f"must differ from {other} ({bucket!r}): the trail's bucket holds only its log files")
    if config.cloudtrail_log_retention_days not in LOG_RETENTION_DAYS:
        report("cloudtrail_log_retention_days", "must be one of " + ", ".join(map(str, LOG_RETENTION_DAYS)))
    if config.alarm_email and not _EMAIL.fullmatch(config.alarm_email):
        report("alarm_email", "must be empty or an e-mail address such as ops@example.com")
    _check_range(config, report, "alarm_api_5xx_percent", 1, 100)
    _check_range(config, report, "alarm_api_latency_p99_milliseconds", 50, 30000)
    age, visibility = config.alarm_job_age_seconds, config.queue_visibility_timeout_seconds
    if age and not visibility < age <= MAX_MESSAGE_AGE_SECONDS:
        report(
            "alarm_job_age_seconds",
            f"must be 0 or from queue_visibility_timeout_seconds + 1 ({visibility + 1}) to {MAX_MESSAGE_AGE_SECONDS}: "
            "the age includes the time a worker holds the message, so a lower threshold alarms on every long job",
        )
    _check_range(config, report, "backup_retention_days", 1, 36500)


@dataclass(frozen=True)
class DerivedName:
    """A name the stack builds from the resource prefix, and the limits on its length.

    ``template`` has ``{prefix}`` for the resource prefix; ``when`` says
    whether the resource exists with a config (None: always).
    """

    template: str
    what: str
    service: str
    low: int
    high: int
    when: Callable[[EnvironmentConfig], bool] | None = None


def _with_trail(config: EnvironmentConfig) -> bool:
    return config.enable_cloudtrail


def _with_updater(config: EnvironmentConfig) -> bool:
    return config.enable_ecr_push_updater


def _with_backup(config: EnvironmentConfig) -> bool:
    return config.enable_backup


def _with_sso(config: EnvironmentConfig) -> bool:
    return config.enable_cognito_sso


# Every name the layer stacks (stacks/*_layer.py) and the constructs derive from the
# resource prefix (`<prefix>-...`), with the length AWS allows (or, where
# stricter, the construct). The prefix's characters are checked with the
# keys it comes from (lower-case letters, digits and single '-'), which every
# one of these services accepts; only the lengths remain.
DERIVED_NAMES: tuple[DerivedName, ...] = (
    # Elastic Load Balancing: the WebSocket API's internal NLB and its target group.
    DerivedName("{prefix}-ws", "WebSocket NLB name", "Elastic Load Balancing", 1, 32),
    DerivedName("{prefix}-ws", "WebSocket NLB target group name", "Elastic Load Balancing", 1, 32),
    # IAM roles.
    *(
        DerivedName(template, "IAM role name", "IAM", 1, 64, when)
        for template, when in (
            ("{prefix}-ecs-execution", None),
            ("{prefix}-api-task", None),
            ("{prefix}-worker-task", None),
            ("{prefix}-vpc-flow-logs", None),
            ("{prefix}-github-actions", lambda config: bool(config.github_repository)),
            ("{prefix}-apigateway-cloudwatch", lambda config: config.manage_api_gateway_account),
            ("{prefix}-ecs-updater", _with_updater),
            ("{prefix}-trail-logs", _with_trail),
            ("{prefix}-backup", _with_backup),
        )
    ),
    # The ECR-push updater: Lambda function, its rule and queue.
    DerivedName("{prefix}-ecs-updater", "Lambda function name", "Lambda", 1, 64, _with_updater),
    DerivedName("{prefix}-ecs-updater", "ECR-push updater name", "the updater construct (its rule and queue append up to 9 characters)", 1, 52, _with_updater),
    DerivedName("{prefix}-ecs-updater-ecr-push", "EventBridge rule name", "EventBridge", 1, 64, _with_updater),
    DerivedName("{prefix}-ecs-updater-dlq", "SQS queue name", "SQS", 1, 80, _with_updater),
    # SQS, DynamoDB, ECR, ECS.
    DerivedName("{prefix}-jobs", "SQS queue name", "SQS", 1, 80),
    DerivedName("{prefix}-jobs-dlq", "SQS queue name", "SQS", 1, 80),
    DerivedName("{prefix}-conversations", "DynamoDB table name", "DynamoDB", 3, 255),
    DerivedName("{prefix}-jobs", "DynamoDB table name", "DynamoDB", 3, 255),
    DerivedName("{prefix}-worker", "ECR repository name", "ECR", 2, 256),
    DerivedName("{prefix}-api", "ECR repository name", "ECR", 2, 256),
    DerivedName("{prefix}-workers", "ECS cluster name", "ECS", 1, 255),
    DerivedName("{prefix}-api", "ECS cluster name", "ECS", 1, 255),
    DerivedName("{prefix}-worker", "ECS task definition family", "ECS", 1, 255),
    DerivedName("{prefix}-api", "ECS task definition family", "ECS", 1, 255),
    # Application Auto Scaling policies.
    DerivedName("{prefix}-api-cpu", "scaling policy name", "Application Auto Scaling", 1, 256),
    DerivedName("{prefix}-workers-scale-out", "scaling policy name", "Application Auto Scaling", 1, 256),
    DerivedName(
        "{prefix}-conversations-write-capacity", "scaling policy name", "Application Auto Scaling", 1, 256,
        lambda config: config.dynamodb_billing_mode == "PROVISIONED",
    ),
    # CloudWatch Logs.
    DerivedName("/ecs/{prefix}-worker", "log group name", "CloudWatch Logs", 1, 512),
    DerivedName("/vpc/{prefix}/flow-logs", "log group name", "CloudWatch Logs", 1, 512),
    DerivedName("/aws/apigateway/{prefix}-api", "log group name", "CloudWatch Logs", 1, 512),
    DerivedName("/aws/lambda/{prefix}-ecs-updater", "log group name", "CloudWatch Logs", 1, 512, _with_updater),
    DerivedName("/aws/cloudtrail/{prefix}-trail", "log group name", "CloudWatch Logs", 1, 512, _with_trail),
    # Edge: APIs, frontend, sign-in.
    DerivedName("{prefix}-api", "HTTP API name", "API Gateway", 1, 128),
    DerivedName("{prefix}-api-jwt", "JWT authorizer name", "API Gateway", 1, 128, _with_sso),
    DerivedName("{prefix}-ws", "WebSocket API name", "API Gateway", 1, 128),
    DerivedName("{prefix}-frontend", "CloudFront origin access control name", "CloudFront", 1, 64),
    DerivedName("{prefix}-frontend-security-headers", "CloudFront response headers policy name", "CloudFront", 1, 128),
    DerivedName("{prefix}", "frontend name prefix", "the frontend construct", 1, 40),
    DerivedName("{prefix}", "Cognito user pool name", "Cognito", 1, 128, _with_sso),
    DerivedName("{prefix}-frontend", "Cognito app client name", "Cognito", 1, 128, _with_sso),
    DerivedName(
        "{prefix}", "Cognito domain prefix", "Cognito", 1, 63, lambda config: config.enable_cognito_sso and not config.cognito_domain_prefix
    ),
    # Operations: trail, keys, alarms, dashboard, backup.
    DerivedName("{prefix}-trail", "CloudTrail trail name", "CloudTrail", 3, 128, _with_trail),
    DerivedName(
        "{prefix}-audit-logs", "CloudTrail bucket name", "S3", 3, 63, lambda config: config.enable_cloudtrail and not config.cloudtrail_bucket
    ),
    DerivedName("alias/{prefix}-secrets", "KMS alias", "KMS", 1, 256),
    DerivedName("alias/{prefix}-cloudtrail", "KMS alias", "KMS", 1, 256, _with_trail),
    DerivedName("alias/{prefix}-ecs-updater", "KMS alias", "KMS", 1, 256, _with_updater),
    DerivedName("{prefix}-alarms", "SNS topic name", "SNS", 1, 256),
    *(
        DerivedName(template, "alarm name", "CloudWatch", 1, 255)
        for template in (
            "{prefix}-jobs-dlq-not-empty",
            "{prefix}-api-5xx-rate",
            "{prefix}-api-latency-p99",
            "{prefix}-worker-service-tasks-below-desired",
            "{prefix}-jobs-oldest-message-age",
        )
    ),
    DerivedName("{prefix}-conversations-table-throttled", "alarm name", "CloudWatch", 1, 255),
    DerivedName("{prefix}-ecs-updater-dlq-not-empty", "alarm name", "CloudWatch", 1, 255, _with_updater),
    DerivedName("{prefix}", "dashboard name", "CloudWatch", 1, 255),
    DerivedName("{prefix}-backup", "backup vault name", "AWS Backup", 2, 50, _with_backup),
    DerivedName("{prefix}-backup-daily", "backup plan name", "AWS Backup", 1, 50, _with_backup),
    DerivedName("{prefix}-backup-tables", "backup selection name", "AWS Backup", 1, 50, _with_backup),
    # Elsewhere.
    DerivedName("{prefix}-worker-tasks", "security group name", "EC2", 1, 255),
    DerivedName("{prefix}/app", "secret name", "Secrets Manager", 1, 512),
    DerivedName("{prefix}", "Cloud Map namespace label (`<prefix>.local`)", "Route 53", 1, 63),
)


def _prefix_sources(config: EnvironmentConfig) -> tuple[str, ...]:
    """The keys the resource prefix is made of."""
    if config.name_prefix:
        return ("name_prefix",)
    if config.environment == "production":
        return ("project_name",)
    return ("project_name", "environment")


def _check_derived_names(config: EnvironmentConfig, report: Callable[..., None]) -> None:
    """Every name in DERIVED_NAMES fits its service's length limit."""
    sources = _prefix_sources(config)
    limits = {"environment": (2, 16), "project_name": (3, 20), "name_prefix": (3, 28)}
    if any(_name_problem(getattr(config, key), *limits[key]) for key in sources):
        return  # the prefix itself is reported; its lengths would only add noise
    prefix = config.resource_prefix
    advice = "shorten name_prefix" if sources == ("name_prefix",) else f"shorten {' or '.join(sources)}, or set a shorter name_prefix"
    got = ", ".join(f"{key} = {_shorten(getattr(config, key))}" for key in sources)
    for name in DERIVED_NAMES:
        if name.when is not None and not name.when(config):
            continue
        value = name.template.format(prefix=prefix)
        if not name.low <= len(value) <= name.high:
            report(
                ", ".join(sources),
                f"make the {name.what} {value!r} {len(value)} characters long, but {name.service} allows {name.low}-{name.high}: {advice}",
                got,
            )


_RULES = (_check_strings, _check_network, _check_tasks, _check_workloads, _check_tables, _check_edge, _check_operations, _check_derived_names)


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------

_TYPE_NAMES = {bool: "true or false", int: "a whole number", str: "a string"}


def _coerce(key: str, value: Any, wanted: Any, report: Callable[[str, str], None]) -> Any:
    """Type-check one value. bool is not an int here, and 2.0 is not 2."""
    if typing.get_args(wanted) == (str, Ellipsis):
        return _coerce_strings(key, value, report)
    if typing.get_origin(wanted) is tuple:
        return _coerce_pairs(key, value, report)
    if wanted is int and isinstance(value, bool) or not isinstance(value, wanted):
        report(key, f"must be {_TYPE_NAMES[wanted]}")
        return dataclasses.MISSING
    return value


def _coerce_strings(key: str, value: Any, report: Callable[[str, str], None]) -> Any:
    """A list of strings, as a tuple."""
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return tuple(value)
    if key == "allowed_account_ids":
        report(key, 'must be a list of account IDs as quoted strings, such as ["012345678901"]: a number would lose a leading zero')
    else:
        report(key, "must be a list of strings")
    return dataclasses.MISSING


def _coerce_pairs(key: str, value: Any, report: Callable[[str, str], None]) -> Any:
    """A list of [whole number, whole number] pairs, as a tuple of tuples."""
    def is_whole(item: Any) -> bool:
        return isinstance(item, int) and not isinstance(item, bool)

    if isinstance(value, (list, tuple)) and all(
        isinstance(pair, (list, tuple)) and len(pair) == 2 and all(map(is_whole, pair)) for pair in value
    ):
        return tuple(tuple(pair) for pair in value)
    report(key, "must be a list of [visible_messages, tasks] pairs of whole numbers, such as [[1, 1], [50, 5]]")
    return dataclasses.MISSING


def _position(text: str, pos: int) -> str:
    """``line L, column C`` (1-based) of character ``pos`` of ``text``."""
    line = text.count("\n", 0, pos) + 1
    return f"line {line}, column {pos - (text.rfind(chr(10), 0, pos) + 1) + 1}"


def _decode(path: Path, data: bytes) -> str:
    """UTF-8 text without a leading byte order mark (Terraform accepts one)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        line = data.count(b"\n", 0, error.start) + 1
        before = data[line_start : error.start].decode("utf-8", errors="replace").removeprefix("\ufeff")
        raise ConfigError(
            [f"{path}: line {line}, column {len(before) + 1}: not valid UTF-8 (byte 0x{data[error.start]:02x}); save the file as UTF-8"]
        ) from None
    return text.removeprefix("\ufeff")


# The tokens that matter for nesting and keys: strings, brackets and colons.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}:]', re.DOTALL)


def _json_too_deep(text: str) -> int | None:
    """Where lists and objects first nest deeper than a value may (the outer object is one more)."""
    depth = 0
    for token in _JSON_TOKEN.finditer(text):
        char = token.group()[0]
        if char in "[{":
            depth += 1
            if depth > MAX_NESTING + 1:
                return token.start()
        elif char in "]}":
            depth -= 1
    return None


def _json_duplicate_keys(text: str) -> list[tuple[int, str]]:
    """(position, key) of every key set again in the same object of valid JSON text."""
    found: list[tuple[int, str]] = []
    objects: list[set[str] | None] = []
    tokens = list(_JSON_TOKEN.finditer(text))
    for index, token in enumerate(tokens):
        lexeme = token.group()
        if lexeme in "[{":
            objects.append(set() if lexeme == "{" else None)
        elif lexeme in "]}":
            objects.pop()
        elif lexeme.startswith('"') and index + 1 < len(tokens) and tokens[index + 1].group() == ":":
            key = json.loads(lexeme)
            seen = objects[-1]
            if seen is not None:
                if key in seen:
                    found.append((token.start(), key))
                seen.add(key)
    return found


class _NumberTooLong(ValueError):
    pass


def _parse_int(literal: str) -> int:
    if len(literal) > MAX_NUMBER_LENGTH:
        raise _NumberTooLong(literal)
    return int(literal)


def _read_json(path: Path, text: str) -> Mapping[str, Any]:
    deep = _json_too_deep(text)
    if deep is not None:
        raise ConfigError([f"{path}: {_position(text, deep)}: lists and objects nest deeper than {MAX_NESTING} levels"])
    duplicated: list[str] = []

    def unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key, value in pairs:
            if key in values:
                duplicated.append(key)
            values[key] = value
        return values

    try:
        values = json.loads(text, object_pairs_hook=unique_pairs, parse_int=_parse_int)
    except json.JSONDecodeError as error:
        raise ConfigError([f"{path}: line {error.lineno}, column {error.colno}: invalid JSON: {error.msg}"]) from None
    except _NumberTooLong as error:
        where = _position(text, text.find(str(error)))
        raise ConfigError([f"{path}: {where}: number literal longer than {MAX_NUMBER_LENGTH} characters"]) from None
    if duplicated:
        # Terraform rejects a key set twice; json.loads would keep the last value.
        located = _json_duplicate_keys(text) or [(None, key) for key in duplicated]
        raise ConfigError(
            [
                f"{path}: {_position(text, pos) + ': ' if pos is not None else ''}key {_shorten(key)} is set more than once in one object"
                for pos, key in located
            ]
        )
    if not isinstance(values, dict):
        raise ConfigError([f"{path}: must hold a JSON object of key/value pairs"])
    return values


def _read(path: Path) -> Mapping[str, Any]:
    """Parse one file by its suffix; errors name the file and the position."""
    if not path.name.endswith((".json", ".tfvars")):
        raise ConfigError([f"{path}: unknown file type; allowed: .tfvars, .tfvars.json or .json"])
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except OSError as error:
        raise ConfigError([f"{path}: cannot be read ({error.strerror or error})"]) from None
    text = _decode(path, data)
    if path.name.endswith(".json"):
        return _read_json(path, text)
    try:
        return parse_tfvars(text)
    except TfvarsError as error:
        raise ConfigError([f"{path}: {error}"]) from None


# Keys that were renamed: the unknown-key message says what replaced them.
_REPLACED_KEYS = {"state_key": "state_key_prefix; layer L keeps its state at <state_key_prefix>/L.tfstate"}


def _alternate(value: Any) -> Any:
    """A value of the same type that differs from ``value`` (see _check_rules)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    return (*value, value[0]) if value else ("x",)


def _check_rules(values: dict[str, Any], broken: Mapping[str, Any], report: Callable[..., None]) -> EnvironmentConfig:
    """Run every rule; with keys whose value was unusable, only what does not depend on them.

    A broken key (a wrong type, a missing required key) gets a stand-in
    value. The rules run twice, with two different stand-ins, and only the
    problems both runs find are reported: a problem that depends on a broken
    key changes with its stand-in (or appears in one run only), while every
    other key's problems stay the same. So one run lists the type errors and
    the value problems of all other keys together.
    """
    runs: list[list[tuple[str, str, str | None]]] = []
    config = None
    for stand_ins in (dict(broken), {key: _alternate(value) for key, value in broken.items()}):
        found: list[tuple[str, str, str | None]] = []
        config = EnvironmentConfig(**values, **stand_ins)

        def collect(key: str, message: str, got: str | None = None) -> None:
            found.append((key, message, got))

        for rule in _RULES:
            rule(config, collect)
        runs.append(found)
        if not broken:
            break
    keep = set(runs[-1])
    for key, message, got in runs[0]:
        if (key, message, got) in keep and key not in broken:
            report(key, message, got)
    assert config is not None
    return config


def load_config(path: str | Path, warnings: list[str] | None = None) -> EnvironmentConfig:
    """Read and validate one environment's file.

    Raises one ConfigError with every problem: syntax errors stop at the
    first (the rest of the file cannot be read), everything else is
    collected: wrong types, unknown and missing keys, and the rules of all
    keys whose value could be used. ``warnings`` (when given) gets the
    config's warnings, each starting with the file name.
    """
    path = Path(path)
    raw = _read(path)
    problems: list[str] = []

    def report(key: str, message: str, got: str | None = None) -> None:
        shown = got if got is not None else _shorten(raw[key]) if key in raw else "the default"
        problems.append(f"{path}: {key}: {message}; got {shown}")

    fields = {f.name: f for f in config_keys()}
    hints = typing.get_type_hints(EnvironmentConfig)
    values: dict[str, Any] = {}
    broken: dict[str, Any] = {}
    unknown = 0
    for key, value in raw.items():
        if key not in fields:
            hint = ""
            if key in _REPLACED_KEYS:
                hint = f" ({key} was replaced by {_REPLACED_KEYS[key]})"
            elif unknown < MAX_SHOWN_PROBLEMS and len(key) <= 64:  # difflib is slow; only what is shown
                close = difflib.get_close_matches(key, fields, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
            unknown += 1
            problems.append(f"{path}: {_show_key(key)}: unknown key{hint}")
            if unknown == 1:  # once, right after the first: the message may cut the rest
                problems.append(f"{path}: allowed keys: {', '.join(sorted(fields))}")
            continue
        checked = _coerce(key, value, hints[key], report)
        if checked is dataclasses.MISSING:
            broken[key] = fields[key].default
        else:
            values[key] = checked
    for name, spec in fields.items():
        if name not in raw and spec.default is dataclasses.MISSING:
            problems.append(f"{path}: {name}: required key is missing; allowed: {spec.metadata['allowed']}")
            broken[name] = "missing"
    for name, stand_in in broken.items():
        if stand_in is dataclasses.MISSING:  # a required key of the wrong type
            broken[name] = "missing"
    config = _check_rules(values, broken, report)
    if problems:
        raise ConfigError(problems)
    if warnings is not None:
        warnings.extend(f"{path}: {warning}" for warning in config_warnings(config))
    return config


def config_warnings(config: EnvironmentConfig) -> list[str]:
    """What a valid config should still change, as ``<key>: <why>`` lines."""
    warnings = []
    if config.production_like and not config.allowed_account_ids:
        warnings.append(
            f"allowed_account_ids: is empty, so {config.environment!r} may be applied with credentials of any account; "
            'set it to the account(s) of this environment, such as ["123456789012"]'
        )
    return warnings


def load_configs(paths: Sequence[str | Path], warnings: list[str] | None = None) -> list[EnvironmentConfig]:
    """Load several environments; also reject clashes between them (and a file given twice).

    ``warnings`` (when given) gets every config's warnings, each starting
    with its file name.
    """
    if not paths:
        raise ConfigError(["no config files given; allowed: one or more .tfvars, .tfvars.json or .json files"])
    configs: list[EnvironmentConfig] = []
    problems: list[str] = []
    loaded: list[Path] = []
    first_given: dict[Any, int] = {}
    given = [Path(path) for path in paths]
    for index, path in enumerate(given):
        first = given[first_given.setdefault(_file_identity(path), index)]
        if first_given[_file_identity(path)] != index:
            problems.append(f"{path}: given more than once (first as {first}); each file is one environment, so give it once")
            continue
        try:
            configs.append(load_config(path, warnings))
            loaded.append(path)
        except ConfigError as error:
            problems.extend(error.problems)
    if problems:
        raise ConfigError(problems)
    _check_unique(loaded, configs)
    return configs


def _file_identity(path: Path) -> Any:
    """The same for two spellings of one file (./a, a, a symlink to it)."""
    try:
        status = path.stat()
    except OSError:
        return path.absolute()
    return (status.st_dev, status.st_ino)


def _check_unique(paths: Sequence[str | Path], configs: Sequence[EnvironmentConfig]) -> None:
    """Names that must differ between environments: stacks, global buckets, state keys."""
    problems: list[str] = []
    seen: dict[tuple[str, Any], Path] = {}
    for path, config in zip(map(Path, paths), configs):
        for key, value, why in (
            ("environment", config.environment, "each environment is its own stack"),
            ("s3_frontend_bucket", config.s3_frontend_bucket, "bucket names are global"),
            ("state_key_prefix", (config.state_bucket, config.effective_state_key_prefix), "two stacks would share one state"),
            ("name_prefix", config.resource_prefix, "resource names would collide"),
            # Only a name set by hand: default names differ when the prefixes do (checked above).
            ("cloudtrail_bucket", config.cloudtrail_bucket if config.enable_cloudtrail and config.cloudtrail_bucket else None, "bucket names are global"),
        ):
            if value is None:  # a feature that is off names nothing
                continue
            first = seen.setdefault((key, value), path)
            if first != path:
                problems.append(f"{path}: {key}: must differ from {first} ({why}); got the same value")
    problems.extend(_api_gateway_account_owners(paths, configs))
    if problems:
        raise ConfigError(problems)


def _same_account(first: EnvironmentConfig, second: EnvironmentConfig) -> bool:
    """Whether two environments may be the same account: their allowed_account_ids overlap, or neither sets any."""
    if not first.allowed_account_ids and not second.allowed_account_ids:
        return True
    return bool(set(first.allowed_account_ids) & set(second.allowed_account_ids))


def _api_gateway_account_owners(paths: Sequence[str | Path], configs: Sequence[EnvironmentConfig]) -> list[str]:
    """At most one environment per account and region owns the API Gateway account setting.

    aws_api_gateway_account is one setting per account and region: two
    owners would each point it at their own role, the last apply would win,
    and destroying either would take the role the other's stages log with.
    """
    problems: list[str] = []
    owners: list[tuple[Path, EnvironmentConfig]] = []
    for path, config in zip(map(Path, paths), configs):
        if not config.manage_api_gateway_account:
            continue
        for first_path, first in owners:
            if first.aws_region == config.aws_region and _same_account(first, config):
                problems.append(
                    f"{path}: manage_api_gateway_account: {first_path} already owns the API Gateway account setting of "
                    f"{config.aws_region} in the same account (allowed_account_ids {_accounts(first)} and {_accounts(config)}); "
                    "set it false here: this environment's stages log with the owner's role"
                )
                break
        else:
            owners.append((path, config))
    return problems


def _accounts(config: EnvironmentConfig) -> str:
    return ", ".join(config.allowed_account_ids) if config.allowed_account_ids else "empty"
