"""The config's rules: each value's range, and the rules between keys and between environments.

Every rule appends problems; none stops at the first. ``RULES`` run on one
environment; ``check_unique`` on several loaded together.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

# Shared with the construct props (plain data, no jsii import).
from constructs_lib.limits import (
    API_RELEASE_STRATEGIES,
    HEALTH_CHECK_PATH,
    DYNAMODB_BILLING_MODES as BILLING_MODES,
    DYNAMODB_MAX_CAPACITY_UNITS as MAX_TABLE_CAPACITY,
    FARGATE_MEMORY_MIB,
    LOG_RETENTION_DAYS,
    SQS_MAX_VISIBILITY_TIMEOUT_SECONDS as MAX_VISIBILITY_TIMEOUT_SECONDS,
    VAULT_LOCK_MODES,
    describe_memory_sizes,
)
from constructs_lib import github_refs
from constructs_lib.container_paths import writable_path_problems
from constructs_lib.scaling_steps import scaling_step_problems
from constructs_lib.waf_rules import COMMON_RULE_SET_RULES, RATE_LIMIT_MAX, RATE_LIMIT_MIN, RATE_LIMIT_WINDOWS
from stacks.config.errors import ConfigError, _shorten
from stacks.config.schema import AWS_REGIONS, EnvironmentConfig

# Every pattern is used with fullmatch: `$` would accept a trailing newline.
_NAME = re.compile(r"[a-z][a-z0-9-]*[a-z0-9]")
_IMAGE_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
_DOMAIN = re.compile(r"(?=.{4,253}\Z)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_GITHUB_REPOSITORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
_STATE_KEY_PREFIX = re.compile(r"[A-Za-z0-9!_.*'()/-]{1,900}")  # room for "/<layer>.tfstate" in S3's 1024
_ACCOUNT_ID = re.compile(r"[0-9]{12}")
_ROLE_ARN = re.compile(r"arn:(?P<partition>aws|aws-cn|aws-us-gov):iam::(?P<account>[0-9]{12}):role/(?P<path>(?:[\x21-\x2e\x30-\x7e]+/)*)(?P<name>[\w+=,.@-]{1,64})", re.ASCII)
_DYNAMODB_TABLE = re.compile(r"[A-Za-z0-9_.-]{3,255}")

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
    for key in ("api_writable_paths", "worker_writable_paths"):
        for problem in writable_path_problems(getattr(config, key)):
            report(key, problem)
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
    if config.api_release_strategy not in API_RELEASE_STRATEGIES:
        report("api_release_strategy", "must be one of " + ", ".join(API_RELEASE_STRATEGIES))
    _check_range(config, report, "api_canary_percent", 1, 99)
    _check_range(config, report, "api_canary_bake_minutes", 1, 60)
    _check_range(config, report, "api_release_termination_wait_minutes", 0, 2880)
    _check_range(config, report, "api_release_5xx_percent", 1, 100)
    _check_range(config, report, "api_release_latency_p99_milliseconds", 50, 30000)
    if not isinstance(config.api_health_check_path, str) or not re.fullmatch(HEALTH_CHECK_PATH, config.api_health_check_path):
        report("api_health_check_path", "must be a path starting with '/', up to 1024 letters, digits and /_.~-")
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
    _check_range(config, report, "waf_rate_limit", RATE_LIMIT_MIN, RATE_LIMIT_MAX)
    if config.waf_rate_limit_window_seconds not in RATE_LIMIT_WINDOWS:
        report("waf_rate_limit_window_seconds", "must be one of " + ", ".join(map(str, RATE_LIMIT_WINDOWS)))
    unknown = [rule for rule in config.waf_common_rule_overrides if rule not in COMMON_RULE_SET_RULES]
    if unknown:
        report(
            "waf_common_rule_overrides",
            f"names no rule of AWSManagedRulesCommonRuleSet: {', '.join(map(repr, unknown))}; the rules are " + ", ".join(COMMON_RULE_SET_RULES),
        )
    if len(set(config.waf_common_rule_overrides)) != len(config.waf_common_rule_overrides):
        report("waf_common_rule_overrides", "must not repeat a rule")
    if config.waf_log_retention_days not in LOG_RETENTION_DAYS:
        report("waf_log_retention_days", "must be one of " + ", ".join(map(str, LOG_RETENTION_DAYS)))
    _check_range(config, report, "origin_verify_cache_seconds", 0, 3600)


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
    _check_range(config, report, "alarm_waf_blocked_requests", 1, 100_000_000)
    _check_range(config, report, "alarm_waf_rate_limited_requests", 1, 100_000_000)
    age, visibility = config.alarm_job_age_seconds, config.queue_visibility_timeout_seconds
    if age and not visibility < age <= MAX_MESSAGE_AGE_SECONDS:
        report(
            "alarm_job_age_seconds",
            f"must be 0 or from queue_visibility_timeout_seconds + 1 ({visibility + 1}) to {MAX_MESSAGE_AGE_SECONDS}: "
            "the age includes the time a worker holds the message, so a lower threshold alarms on every long job",
        )
    _check_range(config, report, "backup_retention_days", 1, 36500)
    if config.backup_vault_lock not in VAULT_LOCK_MODES:
        report("backup_vault_lock", f"must be one of {', '.join(VAULT_LOCK_MODES)}")


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


def _with_canary(config: EnvironmentConfig) -> bool:
    return config.api_blue_green_service


# Every name the layer stacks (stacks/*_layer.py) and the constructs derive from the
# resource prefix (`<prefix>-...`), with the length AWS allows (or, where
# stricter, the construct). The prefix's characters are checked with the
# keys it comes from (lower-case letters, digits and single '-'), which every
# one of these services accepts; only the lengths remain.
DERIVED_NAMES: tuple[DerivedName, ...] = (
    # Elastic Load Balancing: the WebSocket API's internal NLB and its target group.
    DerivedName("{prefix}-ws", "WebSocket NLB name", "Elastic Load Balancing", 1, 32),
    DerivedName("{prefix}-ws", "WebSocket NLB target group name", "Elastic Load Balancing", 1, 32),
    # The canary's internal ALB, its two target groups and the WebSocket NLB's target group of type alb.
    *(
        DerivedName(template, what, "Elastic Load Balancing", 1, 32, _with_canary)
        for template, what in (
            ("{prefix}-lb", "release ALB name"),
            ("{prefix}-a", "release target group name"),
            ("{prefix}-b", "release target group name"),
            ("{prefix}-wa", "WebSocket NLB target group name (type alb)"),
        )
    ),
    DerivedName("{prefix}-api-alb", "security group name", "EC2", 1, 255, _with_canary),
    DerivedName("{prefix}-api", "CodeDeploy application name", "CodeDeploy", 1, 100, _with_canary),
    DerivedName("{prefix}-api", "CodeDeploy deployment group name", "CodeDeploy", 1, 100, _with_canary),
    DerivedName("{prefix}-api-canary-99pct-60min", "CodeDeploy deployment configuration name (longest)", "CodeDeploy", 1, 100, _with_canary),
    DerivedName("{prefix}-api-codedeploy", "IAM role name", "IAM", 1, 64, _with_canary),
    *(
        DerivedName(f"{{prefix}}-api-release-{kind}-{group}", "alarm name", "CloudWatch", 1, 255, _with_canary)
        for kind in ("5xx-rate", "latency-p99", "unhealthy-targets")
        for group in ("a", "b")
    ),
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
            ("{prefix}-origin-verify", None),
            ("{prefix}-origin-verify-rotator", None),
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
    DerivedName("{prefix}-api-security-headers", "CloudFront response headers policy name", "CloudFront", 1, 128),
    DerivedName("{prefix}-ws-security-headers", "CloudFront response headers policy name", "CloudFront", 1, 128),
    DerivedName("{prefix}", "web ACL name", "AWS WAF", 1, 128),
    DerivedName("aws-waf-logs-{prefix}", "WAF log group name", "CloudWatch Logs", 1, 512),
    DerivedName("{prefix}-origin-verify", "Lambda function name", "Lambda", 1, 64),
    DerivedName("{prefix}-origin-verify", "CloudFront Function name", "CloudFront", 1, 64),
    DerivedName("{prefix}-origin-verify", "CloudFront KeyValueStore name", "CloudFront", 1, 64),
    DerivedName("{prefix}-origin-verify", "origin verification name", "the origin-verify construct", 1, 64),
    DerivedName("{prefix}/origin-verify", "secret name", "Secrets Manager", 1, 512),
    DerivedName("{prefix}-api-origin-verify", "Lambda authorizer name", "API Gateway", 1, 128),
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
    DerivedName("{prefix}-edge-alarms", "SNS topic name (us-east-1, for environments elsewhere)", "SNS", 1, 256, lambda config: config.aws_region != "us-east-1"),
    DerivedName("{prefix}-waf-blocked-requests", "alarm name", "CloudWatch", 1, 255),
    DerivedName("{prefix}-waf-rate-limited-requests", "alarm name", "CloudWatch", 1, 255),
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
    DerivedName("{prefix}-worker-release-dlq-growth", "alarm name", "CloudWatch", 1, 255, lambda config: config.worker_release_alarms),
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


def config_warnings(config: EnvironmentConfig) -> list[str]:
    """What a valid config should still change, as ``<key>: <why>`` lines."""
    warnings = []
    if config.production_like and not config.allowed_account_ids:
        warnings.append(
            f"allowed_account_ids: is empty, so {config.environment!r} may be applied with credentials of any account; "
            'set it to the account(s) of this environment, such as ["123456789012"]'
        )
    return warnings


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
