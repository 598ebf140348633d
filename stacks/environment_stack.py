"""One environment's stack: backend, provider and the constructs, wired."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from cdktf import Annotations, S3Backend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from constructs_lib.actions import KMS_DYNAMODB_SERVICE_ACTIONS, KMS_EVENTS_SQS_SERVICE_ACTIONS, KMS_LOGS_SERVICE_ACTIONS
from constructs_lib.aws_context import AwsContext
from constructs_lib.discovery import DiscoveryService, DiscoveryServiceProps, PrivateDnsNamespace, PrivateDnsNamespaceProps
from constructs_lib.encryption import EncryptionKey, EncryptionKeyProps, KeyServicePrincipal
from constructs_lib.iam import Condition, ServiceRole, ServiceRoleProps
from constructs_lib.logs import LogGroup, LogGroupProps
from constructs_lib.network import Network, NetworkProps
from constructs_lib.queue import Queue, QueueProps
from constructs_lib.registry import Repository, RepositoryProps
from constructs_lib.scaling import (
    QueueDepthScaling,
    QueueDepthScalingProps,
    ScalableTargetProps,
    ScalingStep,
    TargetTracking,
    TargetTrackingProps,
    ecs_service_resource_id,
)
from constructs_lib.secrets import Secret, SecretProps
from constructs_lib.security_groups import AppSecurityGroup, AppSecurityGroupProps, HttpsEgress
from constructs_lib.service import CapacityProviderShare, EcsCluster, EcsClusterProps, FargateService, FargateServiceProps
from constructs_lib.tables import (
    CONVERSATIONS_PARTITION_KEY,
    CONVERSATIONS_SORT_KEY,
    JOBS_PARTITION_KEY,
    JOBS_TTL_ATTRIBUTE,
    Table,
    TableProps,
)
from constructs_lib.domain import (
    API_SUBDOMAIN,
    WEBSOCKET_SUBDOMAIN,
    AliasRecords,
    AliasRecordsProps,
    ApiCustomDomain,
    ApiCustomDomainProps,
    DnsValidatedCertificate,
    DnsValidatedCertificateProps,
)
from constructs_lib.frontend import Frontend, FrontendProps
from constructs_lib.http_api import HttpApi, HttpApiProps
from constructs_lib.identity import SingleSignOn, SingleSignOnProps, hosted_ui_origin
from constructs_lib.websocket_api import ApiGatewayAccount, ApiGatewayAccountProps, WebSocketApi, WebSocketApiProps
from constructs_lib.alarms import (
    ALARMS_KEY_PRINCIPAL,
    AlarmTopic,
    AlarmTopicProps,
    MetricAlarm,
    error_rate_alarm,
    latency_alarm,
    message_age_alarm,
    queue_not_empty_alarm,
    tasks_below_desired_alarm,
    throttling_alarm,
)
from constructs_lib.audit import AuditTrail, AuditTrailProps, cloudtrail_key_principals
from constructs_lib.backup import TableBackup, TableBackupProps
from constructs_lib.monitoring import Dashboard, DashboardProps, GraphWidget
from constructs_lib.ecs_updater import EcrPushUpdater, EcrPushUpdaterProps, UpdaterTarget, rule_arn_for
from constructs_lib.github_oidc import GithubActionsRole, GithubActionsRoleProps
from constructs_lib.terraform_state import TerraformState
from stacks.config import EnvironmentConfig
from tools.ecs_deploy import DEPLOY_TAG

MANAGED_BY = "cdktf"
# tools.ecs_deploy tags every revision it registers; its two users (the deploy role, the updater) register no other kind.
DEPLOY_REQUEST_TAGS = {DEPLOY_TAG["key"]: DEPLOY_TAG["value"]}
# Every paging alarm's description ends with this; docs/runbook.md has a section per alarm (tests/test_runbook.py).
RUNBOOK_ALARMS = "Runbook: docs/runbook.md, Alarms."
LAMBDA_DIR = Path(__file__).resolve().parents[1] / "lambda"  # absolute: cdktf resolves relative asset paths from cdktf.json
CLOUDFRONT_CERTIFICATE_REGION = "us-east-1"  # CloudFront reads certificates only there
API_SERVICE_NAME = "api-service"  # the seed's name, also the Cloud Map service's
WORKER_SERVICE_NAME = "worker-service"
API_CONTAINER = "api"
WORKER_CONTAINER = "worker"
# Fargate Spot gives 2 minutes' notice; a worker gets all of it to finish or
# hand its job back (Fargate's maximum stop timeout).
WORKER_STOP_TIMEOUT_SECONDS = 120
# No `required_version` in the terraform block: cdktf 0.21's HCL renderer
# writes any extra terraform-block attribute as `0 = "required_version"`, which
# breaks `cdktf synth --hcl`. The README states Terraform >= 1.6 instead.


def role_policies(role: ServiceRole) -> list[IamRolePolicy]:
    """The inline policies the grants attached to ``role``."""
    return [child for child in role.node.children if isinstance(child, IamRolePolicy)]


def default_tags(config: EnvironmentConfig) -> dict[str, str]:
    """Tags the provider puts on every taggable resource."""
    return {"project": config.project_name, "environment": config.environment, "managed-by": MANAGED_BY}


class EnvironmentStack(TerraformStack):
    """Everything one environment runs, named after ``config.environment``."""

    def __init__(self, scope: Construct, config: EnvironmentConfig) -> None:
        super().__init__(scope, config.environment)
        self.config = config
        S3Backend(
            self,
            bucket=config.state_bucket,
            key=config.effective_state_key,
            region=config.effective_state_region,
            encrypt=True,
            dynamodb_table=config.state_lock_table,
        )
        AwsProvider(
            self,
            "aws",
            region=config.aws_region,
            default_tags=[AwsProviderDefaultTags(tags=default_tags(config))],
        )

        self.keys = self._add_keys(config)
        self.network = Network(
            self,
            "network",
            NetworkProps(
                name_prefix=config.resource_prefix,
                availability_zones=config.effective_availability_zones,
                vpc_cidr=config.vpc_cidr,
                enable_nat_gateway=config.enable_nat_gateway,
                single_nat_gateway=config.single_nat_gateway,
                flow_log_retention_days=config.flow_log_retention_days,
                flow_log_kms_key_arn=self.keys["logs"].key_arn,
            ),
        )

        self._output("vpc_id", self.network.vpc_id, "ID of the VPC.")
        self._output("private_subnet_ids", self.network.private_subnet_ids, "Subnets of the tasks and VPC links.")
        self._output("public_subnet_ids", self.network.public_subnet_ids, "Subnets of NAT gateways and public load balancers.")
        self._add_workloads(config)
        self._add_operations(config)
        self._add_delivery(config)

    def _add_keys(self, config: EnvironmentConfig) -> dict[str, EncryptionKey]:
        """One customer-managed key per purpose (see constructs_lib/encryption.py)."""
        context = AwsContext.of(self)
        logs = KeyServicePrincipal(
            service=f"logs.{context.region}.{context.dns_suffix}",
            actions=KMS_LOGS_SERVICE_ACTIONS,
            # Only for log groups of this account and region, as AWS documents.
            conditions=(Condition("ArnLike", "kms:EncryptionContext:aws:logs:arn", (context.arn("logs", "log-group:*"),)),),
            sid="CloudWatchLogsEncryptsLogGroups",
        )
        dynamodb = KeyServicePrincipal(service="dynamodb.amazonaws.com", actions=KMS_DYNAMODB_SERVICE_ACTIONS, sid="DynamoDbReadsKeyState")
        return {
            purpose: EncryptionKey(
                self, f"{purpose}-key", EncryptionKeyProps(name_prefix=config.resource_prefix, purpose=purpose, service_principals=principals)
            )
            for purpose, principals in (
                ("logs", (logs,)),
                ("ecr", ()),
                ("queue", ()),
                ("tables", (dynamodb,)),
                ("secrets", ()),
            )
        }

    # -- workloads: registry, data, discovery, IAM, ECS, scaling -------------------
    def _add_workloads(self, config: EnvironmentConfig) -> None:
        prefix = config.resource_prefix
        context = AwsContext.of(self)

        self.api_repository, self.worker_repository = (
            Repository(self, f"{role}-repository", RepositoryProps(name=f"{prefix}-{role}", kms_key_arn=self.keys["ecr"].key_arn))
            for role in ("api", "worker")
        )
        self.api_log_group, self.worker_log_group = (
            LogGroup(
                self,
                f"{role}-log-group",
                LogGroupProps(name=f"/ecs/{prefix}-{role}", retention_days=config.log_retention_days, kms_key_arn=self.keys["logs"].key_arn),
            )
            for role in ("api", "worker")
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
            PrivateDnsNamespaceProps(name=f"{prefix}.local", vpc_id=self.network.vpc_id, description=f"Service discovery of {prefix}"),
        )
        self.api_discovery = DiscoveryService(
            self,
            "api-discovery",
            DiscoveryServiceProps(name=API_SERVICE_NAME, namespace_id=self.namespace.namespace_id, description="API tasks, for the API Gateway VPC link"),
        )

        # Security groups: the VPC link reaches the API port; workers accept nothing.
        self.api_security_group, self.worker_security_group, self.vpc_link_security_group = (
            AppSecurityGroup(self, f"{name}-security-group", AppSecurityGroupProps(name=f"{prefix}-{name}", vpc_id=self.network.vpc_id, description=description))
            for name, description in (
                ("api-tasks", "API tasks: the API port from the VPC link only; HTTPS out to AWS"),
                ("worker-tasks", "Worker tasks: nothing in; HTTPS out to AWS"),
                ("api-vpc-link", "API Gateway VPC link: out to the API tasks' port only"),
            )
        )
        self.vpc_link_security_group.connect(self.api_security_group, config.api_container_port, "API Gateway VPC link to the API tasks")
        endpoints = self.network.endpoint_security_group
        https = HttpsEgress(
            security_group_ids=(endpoints.id,) if endpoints is not None else (),
            prefix_list_ids=tuple(endpoint.prefix_list_id for endpoint in self.network.gateway_endpoints.values()),
            internet=config.enable_nat_gateway,
        )
        for group in (self.api_security_group, self.worker_security_group):
            group.allow_https_egress(https)

        # IAM: one execution role (the ECS agent), one task role per service (the app).
        ecs_source_arns = (context.arn("ecs", "*"),)
        self.execution_role, self.api_task_role, self.worker_task_role = (
            ServiceRole(
                self,
                f"{name}-role",
                ServiceRoleProps(name=f"{prefix}-{name}", service="ecs-tasks.amazonaws.com", source_arn_patterns=ecs_source_arns, description=description),
            )
            for name, description in (
                ("ecs-execution", "ECS agent: pulls the two images, writes the two log groups, reads the app secret"),
                ("api-task", "API tasks: both tables, sending jobs"),
                ("worker-task", "Worker tasks: consuming jobs, the jobs table"),
            )
        )
        for repository in (self.api_repository, self.worker_repository):
            repository.grant_pull(self.execution_role)
        for log_group in (self.api_log_group, self.worker_log_group):
            log_group.grant_write(self.execution_role)
        self.app_secret.grant_read(self.execution_role)
        self.conversations_table.grant_read_write_data(self.api_task_role)
        self.jobs_table.grant_read_write_data(self.api_task_role)
        self.job_queue.grant_send_messages(self.api_task_role)
        self.job_queue.grant_consume_messages(self.worker_task_role)
        self.jobs_table.grant_read_write_data(self.worker_task_role)

        # ECS: the seed's two clusters, the API on on-demand Fargate, the workers on Spot.
        self.api_cluster = EcsCluster(self, "api-cluster", EcsClusterProps(name=f"{prefix}-api"))
        self.worker_cluster = EcsCluster(
            self,
            "worker-cluster",
            EcsClusterProps(
                name=f"{prefix}-workers",
                capacity_providers=("FARGATE", "FARGATE_SPOT"),
                default_strategy=(CapacityProviderShare("FARGATE_SPOT"),),
            ),
        )
        worker_strategy = (CapacityProviderShare("FARGATE_SPOT", weight=1),)
        if config.worker_on_demand_base > 0:
            # The base runs on on-demand first; weight 0 keeps every task beyond it on Spot.
            worker_strategy = (CapacityProviderShare("FARGATE", weight=0, base=config.worker_on_demand_base), *worker_strategy)
        common_environment = {
            "AWS_REGION": context.region,
            "JOB_QUEUE_URL": self.job_queue.queue_url,
            "JOBS_TABLE_NAME": self.jobs_table.table_name,
        }
        secrets = {"APP_SECRET": self.app_secret.secret_arn}
        network = {"subnet_ids": tuple(self.network.private_subnet_ids)}
        edge_environment = self._add_edge(config)
        self.api_service = FargateService(
            self,
            "api-service",
            FargateServiceProps(
                cluster_name=self.api_cluster.cluster_name,
                service_name=API_SERVICE_NAME,
                family=f"{prefix}-api",
                container_name=API_CONTAINER,
                image=f"{self.api_repository.repository_url}:{config.api_image_tag}",
                cpu=config.api_task_cpu,
                memory_mib=config.api_task_memory,
                execution_role_arn=self.execution_role.role_arn,
                task_role_arn=self.api_task_role.role_arn,
                log_group_name=self.api_log_group.log_group_name,
                security_group_ids=(self.api_security_group.security_group_id,),
                capacity_provider_strategy=(CapacityProviderShare("FARGATE", weight=1),),
                desired_count=config.api_min_capacity,
                container_port=config.api_container_port,
                environment={
                    **common_environment,
                    "CONVERSATIONS_TABLE_NAME": self.conversations_table.table_name,
                    "PORT": str(config.api_container_port),
                    **edge_environment,
                },
                secrets=secrets,
                service_registry_arn=self.api_discovery.service_arn,
                target_group_arn=self.websocket_api.target_group_arn,
                depends_on=(*role_policies(self.execution_role), *role_policies(self.api_task_role)),
                **network,
            ),
        )
        self.worker_service = FargateService(
            self,
            "worker-service",
            FargateServiceProps(
                cluster_name=self.worker_cluster.cluster_name,
                service_name=WORKER_SERVICE_NAME,
                family=f"{prefix}-worker",
                container_name=WORKER_CONTAINER,
                image=f"{self.worker_repository.repository_url}:{config.worker_image_tag}",
                cpu=config.worker_task_cpu,
                memory_mib=config.worker_task_memory,
                execution_role_arn=self.execution_role.role_arn,
                task_role_arn=self.worker_task_role.role_arn,
                log_group_name=self.worker_log_group.log_group_name,
                security_group_ids=(self.worker_security_group.security_group_id,),
                capacity_provider_strategy=worker_strategy,
                desired_count=config.worker_min_capacity,
                environment={**common_environment, "JOB_TIMEOUT_SECONDS": str(config.worker_job_timeout_seconds)},
                secrets=secrets,
                stop_timeout_seconds=WORKER_STOP_TIMEOUT_SECONDS,
                depends_on=(*role_policies(self.execution_role), *role_policies(self.worker_task_role)),
                **network,
            ),
        )

        # Autoscaling: the API on CPU, the workers on queue depth from zero.
        self.api_scaling = TargetTracking(
            self,
            "api-scaling",
            TargetTrackingProps(
                name=f"{prefix}-api-cpu",
                target=ScalableTargetProps(
                    service_namespace="ecs",
                    resource_id=ecs_service_resource_id(self.api_cluster.cluster_name, self.api_service.service_name),
                    scalable_dimension="ecs:service:DesiredCount",
                    min_capacity=config.api_min_capacity,
                    max_capacity=config.api_max_capacity,
                ),
                predefined_metric_type="ECSServiceAverageCPUUtilization",
                target_value_percent=config.api_cpu_target_percent,
            ),
        )
        self.worker_scaling = QueueDepthScaling(
            self,
            "worker-scaling",
            QueueDepthScalingProps(
                name=f"{prefix}-workers",
                cluster_name=self.worker_cluster.cluster_name,
                service_name=self.worker_service.service_name,
                visible_messages=self.job_queue.metric_approximate_number_of_messages_visible(),
                in_flight_messages=self.job_queue.metric_approximate_number_of_messages_not_visible(),
                min_capacity=config.worker_min_capacity,
                max_capacity=config.worker_max_capacity,
                steps=tuple(ScalingStep(visible, tasks) for visible, tasks in config.worker_scaling_steps),
                scale_in_after_minutes=config.worker_scale_in_minutes,
            ),
        )

        # Outputs CI and operators read (names are stable; see the README).
        for name, value, description in (
            ("ecr_api_repository_url", self.api_repository.repository_url, "Push API images here, tagged with the commit SHA."),
            ("ecr_worker_repository_url", self.worker_repository.repository_url, "Push worker images here, tagged with the commit SHA."),
            ("api_cluster_name", self.api_cluster.cluster_name, "ECS cluster of the API service."),
            ("worker_cluster_name", self.worker_cluster.cluster_name, "ECS cluster of the worker service."),
            ("api_service_name", self.api_service.service_name, "ECS service of the API."),
            ("worker_service_name", self.worker_service.service_name, "ECS service of the workers."),
            ("api_task_definition_family", self.api_service.task_definition_family, "Task definition family of the API (deploys and rollbacks use family:revision)."),
            ("worker_task_definition_family", self.worker_service.task_definition_family, "Task definition family of the workers."),
            ("sqs_queue_url", self.job_queue.queue_url, "URL of the job queue."),
            ("jobs_table_name", self.jobs_table.table_name, "DynamoDB table of jobs."),
            ("conversations_table_name", self.conversations_table.table_name, "DynamoDB table of conversations."),
            ("cloud_map_service_arn", self.api_discovery.service_arn, "Cloud Map service of the API tasks (the API Gateway integration target)."),
        ):
            self._output(name, value, description)

    # -- edge: custom domain, frontend, SSO, HTTP and WebSocket APIs --------------
    def _add_edge(self, config: EnvironmentConfig) -> dict[str, str]:
        """Everything clients reach. Returns the API service's extra environment.

        Called before the API service exists (the service registers in the
        WebSocket NLB's target group and reads the URLs below), after the
        network, Cloud Map, the security groups and the task role.
        """
        prefix = config.resource_prefix
        context = AwsContext.of(self)
        custom_domain = config.custom_domain_enabled
        if config.domain_name and not custom_domain:
            Annotations.of(self).add_warning(
                f"domain_name {config.domain_name!r} is ignored: a custom domain needs hosted_zone_id (the Route 53 zone "
                "that validates its certificates); the app keeps the AWS default endpoints"
            )
        api_domain = f"{API_SUBDOMAIN}.{config.domain_name}"
        websocket_domain = f"{WEBSOCKET_SUBDOMAIN}.{config.domain_name}"

        # Certificates first: CloudFront and the API domains need them at creation.
        # CloudFront reads its certificate in us-east-1 only.
        cloudfront_certificate = api_certificate = None
        if custom_domain:
            us_east_1 = None
            if config.aws_region != CLOUDFRONT_CERTIFICATE_REGION:
                us_east_1 = AwsProvider(
                    self,
                    "aws-us-east-1",
                    alias="us_east_1",
                    region=CLOUDFRONT_CERTIFICATE_REGION,
                    default_tags=[AwsProviderDefaultTags(tags=default_tags(config))],
                )
            cloudfront_certificate = DnsValidatedCertificate(
                self,
                "cloudfront-certificate",
                DnsValidatedCertificateProps(domain_name=config.domain_name, hosted_zone_id=config.hosted_zone_id, provider=us_east_1),
            )
            api_certificate = DnsValidatedCertificate(
                self,
                "api-certificate",
                DnsValidatedCertificateProps(domain_name=api_domain, subject_alternative_names=(websocket_domain,), hosted_zone_id=config.hosted_zone_id),
            )

        # The SPA's CSP may name the API origins only when they are fixed names:
        # the APIs' own endpoints would make a cycle (their CORS names the distribution).
        if custom_domain:
            connect_origins = [f"https://{api_domain}", f"wss://{websocket_domain}"]
        else:
            connect_origins = [f"{scheme}://*.execute-api.{context.region}.{context.dns_suffix}" for scheme in ("https", "wss")]
        if config.enable_cognito_sso:
            connect_origins.append(hosted_ui_origin(config.effective_cognito_domain_prefix, context.region))
        self.frontend = Frontend(
            self,
            "frontend",
            FrontendProps(
                bucket_name=config.s3_frontend_bucket,
                name_prefix=prefix,
                price_class=config.cloudfront_price_class,
                connect_origins=tuple(connect_origins),
                aliases=(config.domain_name,) if custom_domain else (),
                certificate_arn=cloudfront_certificate.certificate_arn if cloudfront_certificate else None,
            ),
        )
        frontend_url = self.frontend.frontend_url

        self.single_sign_on: SingleSignOn | None = None
        jwt: dict = {}
        if config.enable_cognito_sso:
            self.single_sign_on = SingleSignOn(
                self,
                "single-sign-on",
                SingleSignOnProps(
                    name=prefix,
                    domain_prefix=config.effective_cognito_domain_prefix,
                    metadata_url=config.pingid_metadata_url,
                    callback_urls=(f"{frontend_url}/",),
                    logout_urls=(f"{frontend_url}/",),
                ),
            )
            jwt = dict(jwt_issuer=self.single_sign_on.issuer_url, jwt_audience=(self.single_sign_on.cognito_user_pool_client_id,))

        self.http_api = HttpApi(
            self,
            "http-api",
            HttpApiProps(
                name=f"{prefix}-api",
                subnet_ids=tuple(self.network.private_subnet_ids),
                vpc_link_security_group_ids=(self.vpc_link_security_group.security_group_id,),
                cloud_map_service_arn=self.api_discovery.service_arn,
                cors_allow_origins=(frontend_url,),
                throttling_burst_limit=config.api_throttling_burst_limit,
                throttling_rate_limit=config.api_throttling_rate_limit,
                log_retention_days=config.api_access_log_retention_days,
                log_kms_key_arn=self.keys["logs"].key_arn,
                **jwt,
            ),
        )

        account_role_arn = None
        if config.manage_api_gateway_account:
            self.api_gateway_account = ApiGatewayAccount(
                self, "api-gateway-account", ApiGatewayAccountProps(role_name=f"{prefix}-apigateway-cloudwatch")
            )
            account_role_arn = self.api_gateway_account.cloudwatch_role_arn
        self.websocket_api = WebSocketApi(
            self,
            "websocket-api",
            WebSocketApiProps(
                name=f"{prefix}-ws",
                load_balancer_name=f"{prefix}-ws",
                vpc_id=self.network.vpc_id,
                subnet_ids=tuple(self.network.private_subnet_ids),
                container_port=config.api_container_port,
                account_logging_role_arn=account_role_arn,
                throttling_burst_limit=config.websocket_throttling_burst_limit,
                throttling_rate_limit=config.websocket_throttling_rate_limit,
                log_retention_days=config.api_access_log_retention_days,
                log_kms_key_arn=self.keys["logs"].key_arn,
            ),
        )
        self.websocket_api.load_balancer_security_group.connect(
            self.api_security_group, config.api_container_port, "WebSocket NLB to the API tasks (traffic and health checks)"
        )
        self.websocket_api.grant_manage_connections(self.api_task_role)

        api_url, websocket_url = self.http_api.api_gateway_url, self.websocket_api.websocket_gateway_url
        if custom_domain:
            api = ApiCustomDomain(
                self,
                "api-domain",
                ApiCustomDomainProps(
                    domain_name=api_domain,
                    certificate_arn=api_certificate.certificate_arn,
                    hosted_zone_id=config.hosted_zone_id,
                    api_id=self.http_api.api_id,
                    stage_name=self.http_api.stage_name,
                ),
            )
            websocket = ApiCustomDomain(
                self,
                "websocket-domain",
                ApiCustomDomainProps(
                    domain_name=websocket_domain,
                    certificate_arn=api_certificate.certificate_arn,
                    hosted_zone_id=config.hosted_zone_id,
                    api_id=self.websocket_api.websocket_api_id,
                    stage_name=self.websocket_api.stage_name,
                    url_scheme="wss",
                ),
            )
            AliasRecords(
                self,
                "frontend-alias",
                AliasRecordsProps(
                    name=config.domain_name,
                    hosted_zone_id=config.hosted_zone_id,
                    target_dns_name=self.frontend.cloudfront_domain_name,
                    target_hosted_zone_id=self.frontend.cloudfront_hosted_zone_id,
                ),
            )
            api_url, websocket_url = api.url, websocket.url

        for name, value, description in (
            ("api_gateway_url", api_url, "Base URL of the HTTP API (the frontend's VITE_API_URL)."),
            ("websocket_gateway_url", websocket_url, "URL of the WebSocket API (the frontend's VITE_WS_URL)."),
            ("frontend_url", frontend_url, "URL of the app."),
            ("frontend_bucket_name", self.frontend.frontend_bucket_name, "Private bucket the React build is uploaded to."),
            ("cloudfront_distribution_id", self.frontend.cloudfront_distribution_id, "Distribution to invalidate after an upload."),
            ("cloudfront_domain_name", self.frontend.cloudfront_domain_name, "CloudFront's own name for the frontend."),
        ):
            self._output(name, value, description)
        if self.single_sign_on is not None:
            for name, value, description in (
                ("cognito_user_pool_id", self.single_sign_on.cognito_user_pool_id, "User pool federated with PingID."),
                ("cognito_user_pool_client_id", self.single_sign_on.cognito_user_pool_client_id, "App client of the frontend (VITE_COGNITO_CLIENT_ID)."),
                ("cognito_domain", self.single_sign_on.cognito_domain, "Hosted sign-in domain the frontend redirects to."),
            ):
                self._output(name, value, description)

        environment = {"WEBSOCKET_CALLBACK_URL": self.websocket_api.websocket_callback_url}
        if self.single_sign_on is None and config.pingid_metadata_url:
            # Without the pool, the API does SSO itself from PingID's metadata.
            environment["PINGID_METADATA_URL"] = config.pingid_metadata_url
        return environment

    # -- operations: audit trail, alarms and dashboard, backups ------------------------
    def _add_operations(self, config: EnvironmentConfig) -> None:
        """Who changed what (CloudTrail), what is wrong now (alarms to SNS, a dashboard), backups.

        Called last: the alarms and the dashboard read the metrics of the
        queue, tables, services and HTTP API.
        """
        prefix = config.resource_prefix

        self.audit_trail: AuditTrail | None = None
        if config.enable_cloudtrail:
            trail_name = f"{prefix}-trail"
            self.keys["cloudtrail"] = EncryptionKey(
                self,
                "cloudtrail-key",
                EncryptionKeyProps(name_prefix=prefix, purpose="cloudtrail", service_principals=cloudtrail_key_principals(self, trail_name)),
            )
            self.audit_trail = AuditTrail(
                self,
                "audit-trail",
                AuditTrailProps(
                    trail_name=trail_name,
                    bucket_name=config.effective_cloudtrail_bucket,
                    kms_key_arn=self.keys["cloudtrail"].key_arn,
                    log_kms_key_arn=self.keys["logs"].key_arn,
                    log_retention_days=config.cloudtrail_log_retention_days,
                ),
            )

        self.keys["alarms"] = EncryptionKey(
            self, "alarms-key", EncryptionKeyProps(name_prefix=prefix, purpose="alarms", service_principals=(ALARMS_KEY_PRINCIPAL,))
        )
        self.alarm_topic = AlarmTopic(
            self,
            "alarm-topic",
            AlarmTopicProps(
                name=f"{prefix}-alarms",
                kms_key_arn=self.keys["alarms"].key_arn,
                email_addresses=(config.alarm_email,) if config.alarm_email else (),
            ),
        )
        to_topic = (self.alarm_topic.topic_arn,)
        runbook = RUNBOOK_ALARMS
        queue, api = self.job_queue, self.http_api
        alarms = {
            "dlq-alarm": queue_not_empty_alarm(
                name=f"{prefix}-jobs-dlq-not-empty",
                visible_messages=queue.metric_dlq_approximate_number_of_messages_visible(),
                description=f"Jobs failed {config.dlq_max_receive_count} times and wait in the dead-letter queue (kept 14 days). {runbook}",
                action_arns=to_topic,
            ),
            "api-errors-alarm": error_rate_alarm(
                name=f"{prefix}-api-5xx-rate",
                errors=api.metric_server_errors(),
                requests=api.metric_count(),
                threshold_percent=config.alarm_api_5xx_percent,
                description=f"More than {config.alarm_api_5xx_percent}% of HTTP API requests answered 5xx. {runbook}",
                action_arns=to_topic,
            ),
            "api-latency-alarm": latency_alarm(
                name=f"{prefix}-api-latency-p99",
                latency=api.metric_latency(),
                threshold_milliseconds=config.alarm_api_latency_p99_milliseconds,
                description=f"HTTP API p99 latency above {config.alarm_api_latency_p99_milliseconds} ms for 15 minutes. {runbook}",
                action_arns=to_topic,
            ),
            **{
                f"{role}-tasks-alarm": tasks_below_desired_alarm(
                    name=f"{prefix}-{service_name}-tasks-below-desired",
                    running=service.metric_running_task_count(),
                    desired=service.metric_desired_task_count(),
                    description=f"ECS service {service_name} has run fewer tasks than desired for 10 minutes. {runbook}",
                    action_arns=to_topic,
                )
                for role, service_name, service in (
                    ("api", API_SERVICE_NAME, self.api_service),
                    ("worker", WORKER_SERVICE_NAME, self.worker_service),
                )
            },
            "job-age-alarm": message_age_alarm(
                name=f"{prefix}-jobs-oldest-message-age",
                age=queue.metric_approximate_age_of_oldest_message(),
                threshold_seconds=config.effective_alarm_job_age_seconds,
                description=f"A job message is older than {config.effective_alarm_job_age_seconds} s: workers are not keeping up or not running. {runbook}",
                action_arns=to_topic,
            ),
            **{
                f"{table_id}-throttling-alarm": throttling_alarm(
                    name=f"{prefix}-{table_id}-table-throttled",
                    read_throttles=table.metric_read_throttle_events(),
                    write_throttles=table.metric_write_throttle_events(),
                    description=f"DynamoDB throttled reads or writes of the {table_id} table. {runbook}",
                    action_arns=to_topic,
                )
                for table_id, table in (("conversations", self.conversations_table), ("jobs", self.jobs_table))
            },
        }
        self.alarms = {construct_id: MetricAlarm(self, construct_id, props) for construct_id, props in alarms.items()}

        tables = (("conversations", self.conversations_table), ("jobs", self.jobs_table))
        self.dashboard = Dashboard(
            self,
            "dashboard",
            DashboardProps(
                name=prefix,
                widgets=(
                    *(alarm.widget for alarm in self.alarms.values()),
                    GraphWidget(
                        title="Job queue: waiting and in flight",
                        metrics={
                            "visible": queue.metric_approximate_number_of_messages_visible(),
                            "inFlight": queue.metric_approximate_number_of_messages_not_visible(),
                        },
                    ),
                    GraphWidget(
                        title="HTTP API: requests, 4xx, 5xx",
                        metrics={"requests": api.metric_count(), "clientErrors": api.metric_client_errors(), "serverErrors": api.metric_server_errors()},
                    ),
                    GraphWidget(
                        title="Tables: consumed capacity units",
                        metrics={
                            f"{table_id}{kind}": getattr(table, f"metric_consumed_{kind.lower()}_capacity_units")()
                            for table_id, table in tables
                            for kind in ("Read", "Write")
                        },
                    ),
                ),
            ),
        )

        self.table_backup: TableBackup | None = None
        if config.enable_backup:
            self.keys["backup"] = EncryptionKey(self, "backup-key", EncryptionKeyProps(name_prefix=prefix, purpose="backup"))
            self.table_backup = TableBackup(
                self,
                "table-backup",
                TableBackupProps(
                    name=f"{prefix}-backup",
                    kms_key_arn=self.keys["backup"].key_arn,
                    resource_arns=(self.conversations_table.table_arn, self.jobs_table.table_arn),
                    retention_days=config.backup_retention_days,
                ),
            )

        # Outputs operators read (docs/runbook.md names each one).
        for name, value, description in (
            ("alarm_topic_arn", self.alarm_topic.topic_arn, "SNS topic every alarm publishes ALARM and OK to; subscribe chat or paging here."),
            ("dashboard_name", self.dashboard.dashboard_name, "CloudWatch dashboard of the alarms' metrics."),
            ("resource_prefix", prefix, "Prefix of this environment's resource names (alarms, keys, vault: <prefix>-...)."),
            ("dlq_url", queue.dlq_url, "URL of the job queue's dead-letter queue."),
            ("dlq_arn", queue.dlq_arn, "ARN of the dead-letter queue (the source of a redrive)."),
            ("http_api_id", api.api_id, "ID of the HTTP API."),
            ("vpc_link_id", api.vpc_link_id, "VPC link of the HTTP API to the API tasks."),
            ("api_access_log_group_name", api.access_log_group_name, "JSON access logs of the HTTP API (integration errors included)."),
            ("cloud_map_namespace_name", self.namespace.namespace_name, "Cloud Map namespace of the API tasks."),
            ("cloud_map_service_name", self.api_discovery.service_name, "Cloud Map service the HTTP API resolves the API tasks from."),
            ("api_log_group_name", self.api_log_group.log_group_name, "Log group of the API containers."),
            ("worker_log_group_name", self.worker_log_group.log_group_name, "Log group of the worker containers."),
        ):
            self._output(name, value, description)
        if self.audit_trail is not None:
            for name, value, description in (
                ("cloudtrail_trail_name", self.audit_trail.trail_name, "The account's multi-region audit trail."),
                ("cloudtrail_trail_arn", self.audit_trail.trail_arn, "ARN of the audit trail (aws cloudtrail validate-logs --trail-arn)."),
                ("cloudtrail_bucket_name", self.audit_trail.cloudtrail_bucket_name, "Bucket of the trail's log and digest files."),
                ("cloudtrail_log_group_name", self.audit_trail.log_group_name, "CloudWatch Logs copy of the trail's events."),
            ):
                self._output(name, value, description)
        if self.table_backup is not None:
            self._output("backup_vault_name", self.table_backup.backup_vault_name, "AWS Backup vault of the tables' daily recovery points.")

    # -- delivery: the GitHub Actions deploy role, the ECR-push updater -------------------
    def _add_delivery(self, config: EnvironmentConfig) -> None:
        """How new images and frontend builds reach this environment.

        With github_repository: the role the workflows in .github/workflows
        assume through GitHub's OIDC provider, allowed exactly what they do:
        push the two images, deploy the two services the way tools/ecs_deploy.py
        does, upload the frontend and invalidate CloudFront, and read this
        stack's outputs from its state. With enable_ecr_push_updater: the
        seed's EventBridge alternative. Called after the workloads and the edge.
        """
        prefix = config.resource_prefix
        self.github_actions_role: GithubActionsRole | None = None
        if config.github_repository:
            role = GithubActionsRole(
                self,
                "github-actions-role",
                GithubActionsRoleProps(
                    name=f"{prefix}-github-actions",
                    repository=config.github_repository,
                    branch=config.github_branch,
                    environment=config.github_environment,
                    create_oidc_provider=config.create_github_oidc_provider,
                ),
            )
            for repository in (self.api_repository, self.worker_repository):
                repository.grant_push(role)
            for service in (self.api_service, self.worker_service):
                service.grant_deploy(role, register_request_tags=DEPLOY_REQUEST_TAGS)
            self.frontend.grant_upload(role)
            self.frontend.grant_invalidate(role)
            TerraformState(
                bucket=config.state_bucket,
                key=config.effective_state_key,
                lock_table=config.state_lock_table,
                region=config.effective_state_region,
            ).grant_read(role)
            self.github_actions_role = role
            self._output("github_actions_role_arn", role.role_arn, "Role the deploy workflows assume (the GitHub secret AWS_ROLE_TO_ASSUME).")

        self.ecr_push_updater: EcrPushUpdater | None = None
        # In every stack: the deploy workflows read it, and only build and push where pushes deploy themselves.
        self._output(
            "deploys_on_push",
            "true" if config.enable_ecr_push_updater else "false",
            "true when the ECR-push updater deploys each pushed tag (the deploy workflows then only build and push).",
        )
        if config.enable_ecr_push_updater:
            props = EcrPushUpdaterProps(
                name=f"{prefix}-ecs-updater",
                targets=tuple(
                    UpdaterTarget(
                        repository_name=repository.props.name,
                        cluster_name=cluster.cluster_name,
                        service_name=service.service_name,
                        repository_url=repository.repository_url,
                        container_name=service.props.container_name,
                    )
                    for repository, cluster, service in (
                        (self.api_repository, self.api_cluster, self.api_service),
                        (self.worker_repository, self.worker_cluster, self.worker_service),
                    )
                ),
                source_dir=str(LAMBDA_DIR / "ecs_updater"),
                log_kms_key_arn=self.keys["logs"].key_arn,
                log_retention_days=config.log_retention_days,
            )
            # Its own key (environment and DLQ): EventBridge may use it for this rule's DLQ deliveries only.
            events = KeyServicePrincipal(
                service="events.amazonaws.com",
                actions=KMS_EVENTS_SQS_SERVICE_ACTIONS,
                conditions=(Condition("ArnEquals", "aws:SourceArn", (rule_arn_for(self, props),)),),
                sid="EventBridgeSendsToTheUpdaterDlq",
            )
            self.keys["ecs-updater"] = EncryptionKey(
                self, "ecs-updater-key", EncryptionKeyProps(name_prefix=prefix, purpose="ecs-updater", service_principals=(events,))
            )
            updater = EcrPushUpdater(self, "ecr-push-updater", replace(props, kms_key_arn=self.keys["ecs-updater"].key_arn))
            for service in (self.api_service, self.worker_service):
                # It deploys with tools.ecs_deploy, so it gets the deploy role's grant, tag condition included.
                service.grant_deploy(updater.role, register_request_tags=DEPLOY_REQUEST_TAGS)
            for repository in (self.api_repository, self.worker_repository):
                # Push times: an older push's event must not replace the newer image (lambda/ecs_updater).
                repository.grant_describe_images(updater.role)
            self.ecr_push_updater = updater
            # Pushes it could not deploy after Lambda's retries (or EventBridge could not deliver) page like failed jobs.
            self.alarms["updater-dlq-alarm"] = MetricAlarm(
                self,
                "updater-dlq-alarm",
                queue_not_empty_alarm(
                    name=f"{prefix}-ecs-updater-dlq-not-empty",
                    visible_messages=updater.metric_dlq_messages_visible(),
                    description=f"Image pushes the ECR-push updater did not deploy wait in its dead-letter queue (kept 14 days). {RUNBOOK_ALARMS}",
                    action_arns=(self.alarm_topic.topic_arn,),
                ),
            )
            for name, value, description in (
                ("ecr_push_updater_function_name", updater.function_name, "Lambda that deploys a pushed image tag to its service."),
                ("ecr_push_updater_dlq_url", updater.dlq_url, "Pushes the updater failed to handle, kept 14 days."),
            ):
                self._output(name, value, description)

    def _output(self, name: str, value: object, description: str) -> TerraformOutput:
        """An output whose Terraform name is exactly ``name`` (CI reads these)."""
        output = TerraformOutput(self, name, value=value, description=description)
        output.override_logical_id(name)
        return output
