"""One environment's stack: backend, provider and the constructs, wired."""

from __future__ import annotations

from cdktf import S3Backend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from constructs_lib.actions import KMS_DYNAMODB_SERVICE_ACTIONS, KMS_LOGS_SERVICE_ACTIONS
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
from stacks.config import EnvironmentConfig

MANAGED_BY = "cdktf"
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
                },
                secrets=secrets,
                service_registry_arn=self.api_discovery.service_arn,
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

    def _output(self, name: str, value: object, description: str) -> TerraformOutput:
        """An output whose Terraform name is exactly ``name`` (CI reads these)."""
        output = TerraformOutput(self, name, value=value, description=description)
        output.override_logical_id(name)
        return output
