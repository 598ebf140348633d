"""The config's keys: one typed, documented field per key of the environment's file.

The README's configuration reference is generated from these fields
(``tools/config_reference.py``): each names its doc, its default and what is
allowed. The rules that check the values are in ``stacks.config.rules``.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from constructs_lib.container_paths import DEFAULT_WRITABLE_PATHS, WRITABLE_PATHS_ALLOWED
from constructs_lib.limits import LOG_RETENTION_DAYS
from constructs_lib.waf_rules import COMMON_RULE_SET_RULES

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

def is_production_like(environment: str) -> bool:
    """``production`` or ``prod``, or starting with ``production-`` or ``prod-``."""
    return bool(re.fullmatch(r"prod(?:uction)?(?:-.*)?", environment, re.DOTALL))


# Keys whose default depends on the environment's name (the schema's doc says how).
ENVIRONMENT_DEFAULTS = {"enable_backup": is_production_like}


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
    api_writable_paths: tuple[str, ...] = _key(
        "Paths the API container may write to. Its root filesystem is read-only; each path is an ephemeral task volume (Fargate task storage, private to the task, gone when it stops) mounted read-write there. Empty: nothing is writable.",
        DEFAULT_WRITABLE_PATHS,
        allowed=WRITABLE_PATHS_ALLOWED,
    )
    worker_writable_paths: tuple[str, ...] = _key(
        "Paths the worker container may write to (scratch space for jobs), as api_writable_paths.",
        DEFAULT_WRITABLE_PATHS,
        allowed=WRITABLE_PATHS_ALLOWED,
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
    api_release_strategy: str = _key(
        "How API releases reach users. canary: CodeDeploy blue/green behind an internal ALB that both APIs reach the tasks through; a release first serves api_canary_percent of requests for api_canary_bake_minutes, then all of them, and rolls back by shifting traffic (no task starts) when a release alarm fires or the new tasks fail health checks. rolling: ECS rolling updates with the circuit breaker, the HTTP API on Cloud Map and the WebSocket NLB on the tasks (the seed's shape, and the one an adopted HCL deployment keeps until its cutover). cutover: the step from rolling to canary in an environment already serving, README \"Moving to canary releases\": the rolling service keeps serving through Cloud Map and the NLB while the canary's service (api-blue-green), ALB and CodeDeploy group are made beside it; canary then moves both APIs to the ALB and removes the rolling service. Going from rolling straight to canary leaves the API without tasks until the new service is up.",
        "rolling",
        allowed="canary, cutover or rolling",
    )
    api_canary_percent: int = _key(
        "canary and cutover: share of requests (%) the new revision serves during the bake, before it serves all of them.",
        10,
        allowed="1-99",
    )
    api_canary_bake_minutes: int = _key(
        "canary and cutover: minutes the new revision serves api_canary_percent of requests, while the release alarms watch, before it serves all of them.",
        5,
        allowed="1-60",
    )
    api_release_termination_wait_minutes: int = _key(
        "canary and cutover: minutes the previous revision's tasks keep running after all traffic moved, so `tools.ecs_deploy rollback` in that window is a traffic shift, not a deployment. The release alarms still roll back during it.",
        30,
        allowed="0-2880 (CodeDeploy's limit, two days)",
    )
    api_release_5xx_percent: int = _key(
        "canary and cutover: release alarm, per target group: 5xx answers of the API tasks as a percentage of its requests, in 2 of 3 one-minute periods, above which a release rolls back.",
        5,
        allowed="1-100",
    )
    api_release_latency_p99_milliseconds: int = _key(
        "canary and cutover: release alarm, per target group: p99 response time (ms) of the API tasks, in 2 of 3 one-minute periods, above which a release rolls back.",
        1000,
        allowed="50-30000",
    )
    api_health_check_path: str = _key(
        "canary and cutover: path the load balancer's health check requests from each API task; any answer below 500 counts as healthy (the process serves HTTP), 5xx or no answer within 5 s as unhealthy. A task unhealthy 3 times in a row (10 s apart) is replaced, and during a release fails it.",
        "/",
        allowed="a path starting with '/', up to 1024 letters, digits and /_.~-",
    )
    worker_release_alarms: bool = _key(
        "Alarm-gated worker deploys: the worker service names its release alarm (`<prefix>-worker-release-dlq-growth`: the job queue's dead-letter queue gained messages in the last minute or two) as an ECS deployment alarm, so a deployment during which, or during whose bake time, it is in ALARM fails and rolls back to the last completed revision, as the circuit breaker does. The alarm notifies nobody (ECS reads it; the jobs-dlq-not-empty alarm pages). false: the circuit breaker alone. The API is not affected.",
        True,
        allowed="true or false",
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

    # -- edge protection: the WAF web ACL on every CloudFront distribution -----
    waf_rate_limit: int = _key(
        "WAF rate-based rule: requests one client IP may send to the app, the HTTP API and the WebSocket API together within waf_rate_limit_window_seconds before WAF blocks it (until its rate falls below the limit). 2000 per 5 minutes is about 7 requests a second, well above what one person's browser sends.",
        2000,
        allowed="10-2000000000",
    )
    waf_rate_limit_window_seconds: int = _key(
        "Window (s) over which the rate-based rule counts each IP's requests.",
        300,
        allowed="60, 120, 300 or 600",
    )
    waf_common_rule_overrides: tuple[str, ...] = _key(
        "Rules of AWSManagedRulesCommonRuleSet that only count (logged and measured, never blocked). Default SizeRestrictions_BODY: it blocks bodies over 8 KB, and chat messages with pasted text exceed that; the API limits body sizes itself.",
        ("SizeRestrictions_BODY",),
        allowed="a list of the common rule set's rule names: " + ", ".join(COMMON_RULE_SET_RULES),
    )
    waf_enable_anonymous_ip_list: bool = _key(
        "Let AWSManagedRulesAnonymousIpList (VPNs, Tor, hosting providers) block. false: the group is in the web ACL but only counts (metrics and logs show how much traffic it would block), since blocking would lock out users behind corporate VPNs too; turn it on when the app's users are known not to use one. The group costs $1 a month either way.",
        False,
        allowed="true or false",
    )
    waf_enable_bot_control: bool = _key(
        "Add AWSManagedRulesBotControlRuleSet at the common inspection level (known bots, scrapers): $10 a month plus $1 per million requests inspected beyond the first 10 million.",
        False,
        allowed="true or false",
    )
    waf_log_retention_days: int = _key(
        "Retention (days) of the WAF log group aws-waf-logs-<prefix> (every request WAF saw, with the authorization, cookie and origin-secret headers redacted); a year, as the other logs, covers incident reviews.",
        365,
        allowed="a CloudWatch Logs retention: " + ", ".join(map(str, LOG_RETENTION_DAYS)),
    )
    origin_verify_cache_seconds: int = _key(
        "How long API Gateway caches the origin-verify authorizer's answer per header value (and token, with enable_cognito_sso): one Lambda call per client per period instead of one per request. The origin secret's rotation waits at least this long before the old value stops being accepted.",
        300,
        allowed="0-3600",
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
    alarm_waf_blocked_requests: int = _key(
        "WAF alarm: requests the web ACL blocked (all rules) in a five-minute period above which the alarm fires: an attack, or a rule blocking real users.",
        1000,
        allowed="1-100000000",
    )
    alarm_waf_rate_limited_requests: int = _key(
        "WAF alarm: requests the per-IP rate rule blocked in a five-minute period above which the alarm fires.",
        100,
        allowed="1-100000000",
    )
    alarm_job_age_seconds: int = _key(
        "Job queue alarm: age (s) of the oldest job message, counted from when it was sent, that fires the alarm. It includes the time a worker holds the message, so it must exceed queue_visibility_timeout_seconds. 0: twice queue_visibility_timeout_seconds.",
        0,
        allowed="0, or queue_visibility_timeout_seconds + 1 to 1209600",
    )
    enable_backup: bool = _key(
        "AWS Backup of the two tables: a vault encrypted with its own KMS key, a daily plan (05:00 UTC) and a selection of exactly the two tables. Point-in-time recovery (35 days) is on either way; backups add recovery points that outlive a deleted table and longer retention. Default: true for a production-like environment (`production`, `prod`, `production-*`, `prod-*`), false otherwise.",
        False,
        allowed="true or false",
    )
    backup_vault_lock: str = _key(
        "With enable_backup: the vault's lock. `governance`: no recovery point can be deleted before backup_retention_days, nor the vault's retention shortened, except by a principal allowed backup:DeleteBackupVaultLockConfiguration (the account's administrators). `compliance`: nobody can, AWS included, once 3 days have passed (irreversible: a wrong retention is then locked in for good, so it is a deliberate opt-in). `none`: no lock.",
        "governance",
        allowed="governance, compliance or none",
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
    def api_rolling_service(self) -> bool:
        """The seed's rolling API service (Cloud Map and the WebSocket NLB's own target group) exists: rolling and cutover."""
        return self.api_release_strategy != "canary"

    @property
    def api_blue_green_service(self) -> bool:
        """The CodeDeploy-controlled API service, its release ALB and deployment group exist: cutover and canary."""
        return self.api_release_strategy != "rolling"

    @property
    def api_traffic_on_release_load_balancer(self) -> bool:
        """Both APIs reach the tasks through the release ALB (canary only; during a cutover they still reach the rolling service)."""
        return self.api_release_strategy == "canary"

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
        return is_production_like(self.environment)

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

