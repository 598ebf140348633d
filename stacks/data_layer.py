"""The data layer: everything whose loss or replacement loses data. Nothing here changes on a routine deploy.

Keys, image repositories, log groups, the app secret, the job queue, the
tables, the Cloud Map namespace and service, the frontend bucket, the VPC
flow logs, the audit trail and the backup vault. Every one of them is
data-bearing (constructs_lib/data_bearing.py), so each carries ``prevent_destroy``
where the environment protects data, and tests/test_address_guard.py holds
their addresses to the reviewed list.

Exports to the layers above (their attributes; cdktf turns each use into an
output here and a remote-state read there), and who reads each:

* ``jobs_table``: the API and worker task roles read and write it, both
  containers get its name (services); throttling alarm (operations).
* ``conversations_table``: the API task role and container (services);
  throttling alarm (operations).
* ``job_queue``: the API sends, the workers consume, the workers scale on its
  depth (services); DLQ and age alarms (operations).
* ``api_repository``, ``worker_repository``: pulled by the execution role,
  pushed by the deploy role, read by the ECR-push updater (services).
* ``api_log_group``, ``worker_log_group``, ``app_secret``: the execution role
  (services). ``http_api_access_log_group``,
  ``websocket_api_access_log_group``: the APIs' stages (edge).
* ``api_discovery``: the HTTP API's integration (edge), the API service's
  registrations (services). ``namespace``: nothing above (the service is here).
* ``frontend_bucket``: CloudFront and its bucket policy (edge), the deploy
  role's upload grant (services).
* ``keys``: the updater's and the alarm topic's encryption (services,
  operations); ``updater_log_group``, ``updater_dlq``: the ECR-push updater
  (services) and its DLQ alarm (operations).
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from constructs_lib.actions import KMS_DYNAMODB_SERVICE_ACTIONS, KMS_EVENTS_SQS_SERVICE_ACTIONS
from constructs_lib.alarms import alarms_key_principal
from constructs_lib.audit import AuditTrail, AuditTrailProps, cloudtrail_key_principals
from constructs_lib.aws_context import AwsContext
from constructs_lib.backup import TableBackup, TableBackupProps
from constructs_lib.bucket import PrivateBucket
from constructs_lib.discovery import DiscoveryService, DiscoveryServiceProps, PrivateDnsNamespace, PrivateDnsNamespaceProps
from constructs_lib.ecs_updater import rule_arn_for, updater_dlq_props, updater_log_group_props
from constructs_lib.encryption import EncryptionKey, EncryptionKeyProps, KeyServicePrincipal
from constructs_lib.frontend import FrontendProps
from constructs_lib.http_api import access_log_group_props
from constructs_lib.iam import Condition
from constructs_lib.logs import LogGroup, LogGroupProps, logs_key_principal
from constructs_lib.network import add_vpc_flow_logs
from constructs_lib.origin_verify import authorizer_log_group_props, origin_secret_props
from constructs_lib.queue import Queue, QueueProps
from constructs_lib.registry import Repository, RepositoryProps
from constructs_lib.secrets import Secret, SecretProps
from constructs_lib.tables import (
    CONVERSATIONS_PARTITION_KEY,
    CONVERSATIONS_SORT_KEY,
    JOBS_PARTITION_KEY,
    JOBS_TTL_ATTRIBUTE,
    Table,
    TableProps,
)
from constructs_lib.waf import WAF_REGION, edge_key_principals, waf_log_group_name
from stacks.config import EnvironmentConfig
from stacks.layer import LayerStack
from stacks.names import API_SERVICE_NAME, execution_role_name, http_api_name, updater_name, websocket_api_name
from stacks.network_layer import NetworkLayer


class DataLayer(LayerStack):
    layer = "data"

    def __init__(self, scope: Construct, config: EnvironmentConfig, network: NetworkLayer) -> None:
        super().__init__(scope, config)
        prefix = config.resource_prefix
        self.keys = self._add_keys(config)
        logs_key = self.keys["logs"].key_arn

        self.api_repository, self.worker_repository = (
            Repository(self, f"{role}-repository", RepositoryProps(name=f"{prefix}-{role}", kms_key_arn=self.keys["ecr"].key_arn))
            for role in ("api", "worker")
        )
        self.api_log_group, self.worker_log_group = (
            LogGroup(self, f"{role}-log-group", LogGroupProps(name=f"/ecs/{prefix}-{role}", retention_days=config.log_retention_days, kms_key_arn=logs_key))
            for role in ("api", "worker")
        )
        self.http_api_access_log_group, self.websocket_api_access_log_group = (
            LogGroup(self, f"{api}-access-log-group", access_log_group_props(name, config.api_access_log_retention_days, logs_key))
            for api, name in (("http-api", http_api_name(config)), ("websocket-api", websocket_api_name(config)))
        )
        # The edge web ACL (CLOUDFRONT scope) logs to us-east-1 only: there, with its own key, when the rest is elsewhere.
        self.edge_provider: AwsProvider | None = None
        self.edge_key: EncryptionKey | None = None
        waf_logs_key = logs_key
        if config.aws_region != WAF_REGION:
            self.edge_provider = self.aws_provider("aws-us-east-1", WAF_REGION, alias="us_east_1")
            self.edge_key = EncryptionKey(
                self,
                "edge-key",
                EncryptionKeyProps(name_prefix=prefix, purpose="edge", service_principals=edge_key_principals(self, WAF_REGION), provider=self.edge_provider),
            )
            waf_logs_key = self.edge_key.key_arn
        self.waf_log_group = LogGroup(
            self,
            "waf-log-group",
            LogGroupProps(name=waf_log_group_name(prefix), retention_days=config.waf_log_retention_days, kms_key_arn=waf_logs_key, provider=self.edge_provider),
        )
        self.origin_verify_log_group = LogGroup(self, "origin-verify-log-group", authorizer_log_group_props(prefix, config.log_retention_days, logs_key))
        # Read by the edge's authorizer and rotator roles (by the names they get), written only by tools.origin_secret.
        self.origin_secret = Secret(
            self,
            "origin-secret",
            origin_secret_props(prefix, self.keys["secrets"].key_arn, AwsContext.of(self).arn("iam", "role/", region=False)),
        )
        self.app_secret = Secret(
            self,
            "app-secret",
            SecretProps(
                name=f"{prefix}/app",
                description="Credentials the API and the workers read at start (JSON). The value is set out of band, never by Terraform.",
                kms_key_arn=self.keys["secrets"].key_arn,
                manual_rotation_reason=(
                    "Holds third-party credentials issued out of band that no Lambda can rotate; "
                    "operators rotate them with put-secret-value per the runbook"
                ),
                # The one reader: the ECS execution role (services layer; grant_read there), by the name it gets.
                # The ECR-push updater never reads it (it copies task definitions, which name the secret by ARN).
                reader_role_arns=(AwsContext.of(self).arn("iam", f"role/{execution_role_name(config)}", region=False),),
            ),
        )
        self.job_queue = Queue(
            self,
            "job-queue",
            QueueProps(
                name=f"{prefix}-jobs",
                visibility_timeout_seconds=config.queue_visibility_timeout_seconds,
                kms_key_arn=self.keys["queue"].key_arn,
                create_dlq=True,
                dlq_max_receive_count=config.dlq_max_receive_count,
            ),
        )
        table_settings = dict(
            billing_mode=config.dynamodb_billing_mode,
            min_read_capacity_units=config.dynamodb_min_read_capacity,
            max_read_capacity_units=config.dynamodb_max_read_capacity,
            min_write_capacity_units=config.dynamodb_min_write_capacity,
            max_write_capacity_units=config.dynamodb_max_write_capacity,
            target_utilization_percent=config.dynamodb_target_utilization_percent,
            kms_key_arn=self.keys["tables"].key_arn,
            deletion_protection=config.table_deletion_protection,
        )
        self.conversations_table = Table(
            self,
            "conversations-table",
            TableProps(name=f"{prefix}-conversations", partition_key=CONVERSATIONS_PARTITION_KEY, sort_key=CONVERSATIONS_SORT_KEY, **table_settings),
        )
        self.jobs_table = Table(
            self,
            "jobs-table",
            TableProps(name=f"{prefix}-jobs", partition_key=JOBS_PARTITION_KEY, ttl_attribute=JOBS_TTL_ATTRIBUTE, **table_settings),
        )

        # Cloud Map: <prefix>.local, so each environment has its own namespace.
        self.namespace = PrivateDnsNamespace(
            self,
            "namespace",
            PrivateDnsNamespaceProps(name=f"{prefix}.local", vpc_id=network.network.vpc_id, description=f"Service discovery of {prefix}"),
        )
        self.api_discovery = DiscoveryService(
            self,
            "api-discovery",
            DiscoveryServiceProps(name=API_SERVICE_NAME, namespace_id=self.namespace.namespace_id, description="API tasks, for the API Gateway VPC link"),
        )

        # The React build: the bucket is data (earlier builds are the rollbacks); the CDN is the edge layer's.
        self.frontend_bucket = PrivateBucket(
            self, "frontend-bucket", FrontendProps(bucket_name=config.s3_frontend_bucket, name_prefix=prefix).bucket_props()
        )

        vpc = Construct(self, "vpc")
        self.flow_log_group, _, _ = add_vpc_flow_logs(
            vpc, vpc_id=network.network.vpc_id, name_prefix=prefix, retention_days=config.flow_log_retention_days, kms_key_arn=logs_key
        )

        self.audit_trail: AuditTrail | None = None
        if config.enable_cloudtrail:
            self.audit_trail = AuditTrail(
                self,
                "audit-trail",
                AuditTrailProps(
                    trail_name=self._trail_name,
                    bucket_name=config.effective_cloudtrail_bucket,
                    kms_key_arn=self.keys["cloudtrail"].key_arn,
                    log_kms_key_arn=logs_key,
                    log_retention_days=config.cloudtrail_log_retention_days,
                    data_event_bucket_arns=(self.frontend_bucket.bucket_arn,),
                ),
            )

        self.table_backup: TableBackup | None = None
        if config.enable_backup:
            self.table_backup = TableBackup(
                self,
                "table-backup",
                TableBackupProps(
                    name=f"{prefix}-backup",
                    kms_key_arn=self.keys["backup"].key_arn,
                    resource_arns=(self.conversations_table.table_arn, self.jobs_table.table_arn),
                    retention_days=config.backup_retention_days,
                    vault_lock=config.backup_vault_lock,
                ),
            )

        self.updater_log_group: LogGroup | None = None
        self.updater_dlq: Queue | None = None
        if config.enable_ecr_push_updater:
            name = updater_name(config)
            self.updater_log_group = LogGroup(self, "ecs-updater-log-group", updater_log_group_props(name, config.log_retention_days, logs_key))
            self.updater_dlq = Queue(self, "ecs-updater-dlq", updater_dlq_props(name, self.keys["ecs-updater"].key_arn))

        for name, value, description in (
            ("ecr_api_repository_url", self.api_repository.repository_url, "Push API images here, tagged with the commit SHA."),
            ("ecr_worker_repository_url", self.worker_repository.repository_url, "Push worker images here, tagged with the commit SHA."),
            ("sqs_queue_url", self.job_queue.queue_url, "URL of the job queue."),
            ("dlq_url", self.job_queue.dlq_url, "URL of the job queue's dead-letter queue."),
            ("dlq_arn", self.job_queue.dlq_arn, "ARN of the dead-letter queue (the source of a redrive)."),
            ("jobs_table_name", self.jobs_table.table_name, "DynamoDB table of jobs."),
            ("conversations_table_name", self.conversations_table.table_name, "DynamoDB table of conversations."),
            ("cloud_map_namespace_name", self.namespace.namespace_name, "Cloud Map namespace of the API tasks."),
            ("cloud_map_service_name", self.api_discovery.service_name, "Cloud Map service the HTTP API resolves the API tasks from."),
            ("cloud_map_service_arn", self.api_discovery.service_arn, "Cloud Map service of the API tasks (the API Gateway integration target)."),
            ("api_log_group_name", self.api_log_group.log_group_name, "Log group of the API containers."),
            ("worker_log_group_name", self.worker_log_group.log_group_name, "Log group of the worker containers."),
            ("api_access_log_group_name", self.http_api_access_log_group.log_group_name, "JSON access logs of the HTTP API (integration errors included)."),
            ("frontend_bucket_name", self.frontend_bucket.bucket_name, "Private bucket the React build is uploaded to."),
        ):
            self.output(name, value, description)
        if self.audit_trail is not None:
            for name, value, description in (
                ("cloudtrail_trail_name", self.audit_trail.trail_name, "The account's multi-region audit trail."),
                ("cloudtrail_trail_arn", self.audit_trail.trail_arn, "ARN of the audit trail (aws cloudtrail validate-logs --trail-arn)."),
                ("cloudtrail_bucket_name", self.audit_trail.cloudtrail_bucket_name, "Bucket of the trail's log and digest files."),
                ("cloudtrail_log_group_name", self.audit_trail.log_group_name, "CloudWatch Logs copy of the trail's events."),
            ):
                self.output(name, value, description)
        if self.table_backup is not None:
            self.output("backup_vault_name", self.table_backup.backup_vault_name, "AWS Backup vault of the tables' daily recovery points.")
        if self.updater_dlq is not None:
            self.output("ecr_push_updater_dlq_url", self.updater_dlq.queue_url, "Pushes the updater failed to handle, kept 14 days.")

    @property
    def _trail_name(self) -> str:
        return f"{self.config.resource_prefix}-trail"

    def _add_keys(self, config: EnvironmentConfig) -> dict[str, EncryptionKey]:
        """One customer-managed key per purpose (see constructs_lib/encryption.py)."""
        context = AwsContext.of(self)
        logs = logs_key_principal(self)
        # Confused-deputy protection of the service statements: CloudWatch Logs by the encryption context
        # that names the log group (this account's groups only: the condition AWS documents for it).
        # DynamoDB's statement allows kms:DescribeKey only (no encrypt or decrypt), as AWS documents it,
        # without a condition. CloudTrail, CloudWatch alarms and EventBridge by aws:SourceArn (and aws:SourceAccount).
        dynamodb = KeyServicePrincipal(service="dynamodb.amazonaws.com", actions=KMS_DYNAMODB_SERVICE_ACTIONS, sid="DynamoDbReadsKeyState")
        purposes: list[tuple[str, tuple[KeyServicePrincipal, ...]]] = [
            ("logs", (logs,)),
            ("ecr", ()),
            ("queue", ()),
            ("tables", (dynamodb,)),
            ("secrets", ()),
        ]
        if config.enable_cloudtrail:
            purposes.append(("cloudtrail", cloudtrail_key_principals(self, self._trail_name)))
        purposes.append(("alarms", (alarms_key_principal(self),)))
        if config.enable_backup:
            purposes.append(("backup", ()))
        if config.enable_ecr_push_updater:
            # The updater's environment and DLQ: EventBridge may use it for that rule's DLQ deliveries only.
            events = KeyServicePrincipal(
                service="events.amazonaws.com",
                actions=KMS_EVENTS_SQS_SERVICE_ACTIONS,
                conditions=(
                    Condition("StringEquals", "aws:SourceAccount", (context.account_id,)),
                    Condition("ArnEquals", "aws:SourceArn", (rule_arn_for(self, updater_name(config)),)),
                ),
                sid="EventBridgeSendsToTheUpdaterDlq",
            )
            purposes.append(("ecs-updater", (events,)))
        return {
            purpose: EncryptionKey(
                self, f"{purpose}-key", EncryptionKeyProps(name_prefix=config.resource_prefix, purpose=purpose, service_principals=principals)
            )
            for purpose, principals in purposes
        }
