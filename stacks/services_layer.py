"""The services layer: what a routine change touches. Task sizes, scaling targets, roles, deploys.

The ECS clusters and services with their task definitions, the task and
execution roles with their grants on the data layer's resources, the
autoscaling of both services, and delivery: the GitHub Actions deploy role
and the optional ECR-push updater. A change to the API's CPU target plans
and locks this layer alone.

Who reads the jobs table: ``data.jobs_table.grant_read_write_data`` below,
for the API and the worker task roles (JOBS_TABLE_NAME in both).

The release alarms live here, next to the services they gate: the worker's
(``worker_release_alarms``), which ECS reads, and, with canary releases
(``api_release_strategy``), the API's six (5xx rate, p99 latency and
unhealthy targets per target group), which CodeDeploy reads; the API's
CodeDeploy application, canary configuration and deployment group too.
Gates, not pages: the operations layer, above, holds the alarms that page
people.

The API's service follows ``api_release_strategy``: the seed's rolling
``api-service`` (rolling), ``api-blue-green`` under CodeDeploy (canary), or
both during a cutover, when the rolling one still serves
(``api_service`` is always the one that serves; README, "Moving to canary
releases").

Exports: the services (their metrics, for the operations layer) and every
output the deploy workflows read (``deploy_outputs``), so CI reads one
state: this layer's.
"""

from __future__ import annotations

from pathlib import Path

from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from constructs_lib.alarms import (
    MetricAlarm,
    queue_growth_release_alarm,
    release_error_rate_alarm,
    release_latency_alarm,
    release_unhealthy_targets_alarm,
)
from constructs_lib.ecs_updater import EcrPushUpdater, EcrPushUpdaterProps, UpdaterTarget
from constructs_lib.github_oidc import GithubActionsRole, GithubActionsRoleProps
from constructs_lib.iam import ServiceRole, ServiceRoleProps
from constructs_lib.load_balancer import ReleaseLoadBalancer
from constructs_lib.release import CanaryRelease, CanaryReleaseProps
from constructs_lib.aws_context import AwsContext
from constructs_lib.scaling import (
    QueueDepthScaling,
    QueueDepthScalingProps,
    ScalableTargetProps,
    ScalingStep,
    TargetTracking,
    TargetTrackingProps,
    ecs_service_resource_id,
)
from constructs_lib.service import (
    DEPLOY_REQUEST_TAGS,
    CapacityProviderShare,
    EcsCluster,
    EcsClusterProps,
    FargateService,
    FargateServiceProps,
)
from constructs_lib.terraform_state import TerraformState
from stacks.config import EnvironmentConfig
from stacks.data_layer import DataLayer
from stacks.edge_layer import EdgeLayer
from stacks.layer import LayerStack
from stacks.names import (
    API_BLUE_GREEN_SERVICE_NAME,
    API_CONTAINER,
    API_SERVICE_NAME,
    WORKER_CONTAINER,
    WORKER_SERVICE_NAME,
    api_release_name,
    execution_role_name,
    updater_name,
)
from stacks.network_layer import NetworkLayer

LAMBDA_DIR = Path(__file__).resolve().parents[1] / "lambda"  # absolute: cdktf resolves relative asset paths from cdktf.json
# Fargate Spot gives 2 minutes' notice; a worker gets all of it to finish or
# hand its job back (Fargate's maximum stop timeout).
WORKER_STOP_TIMEOUT_SECONDS = 120


def role_policies(role: ServiceRole) -> list[IamRolePolicy]:
    """The inline policies the grants attached to ``role``."""
    return [child for child in role.node.children if isinstance(child, IamRolePolicy)]


class ServicesLayer(LayerStack):
    layer = "services"

    def __init__(self, scope: Construct, config: EnvironmentConfig, network: NetworkLayer, data: DataLayer, edge: EdgeLayer) -> None:
        super().__init__(scope, config)
        prefix = config.resource_prefix
        context = AwsContext.of(self)

        # IAM: one execution role (the ECS agent), one task role per service (the app).
        ecs_source_arns = (context.arn("ecs", "*"),)
        self.execution_role, self.api_task_role, self.worker_task_role = (
            ServiceRole(
                self,
                f"{name}-role",
                ServiceRoleProps(name=role_name, service="ecs-tasks.amazonaws.com", source_arn_patterns=ecs_source_arns, description=description),
            )
            for name, role_name, description in (
                # Its name is the one the app secret's policy (data layer) lets read the value.
                ("ecs-execution", execution_role_name(config), "ECS agent: pulls the two images, writes the two log groups, reads the app secret"),
                ("api-task", f"{prefix}-api-task", "API tasks: both tables, sending jobs"),
                ("worker-task", f"{prefix}-worker-task", "Worker tasks: consuming jobs, the jobs table"),
            )
        )
        for repository in (data.api_repository, data.worker_repository):
            repository.grant_pull(self.execution_role)
        for log_group in (data.api_log_group, data.worker_log_group):
            log_group.grant_write(self.execution_role)
        data.app_secret.grant_read(self.execution_role)
        data.conversations_table.grant_read_write_data(self.api_task_role)
        data.jobs_table.grant_read_write_data(self.api_task_role)
        data.job_queue.grant_send_messages(self.api_task_role)
        edge.websocket_api.grant_manage_connections(self.api_task_role)
        data.job_queue.grant_consume_messages(self.worker_task_role)
        data.jobs_table.grant_read_write_data(self.worker_task_role)

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
            "JOB_QUEUE_URL": data.job_queue.queue_url,
            "JOBS_TABLE_NAME": data.jobs_table.table_name,
        }
        secrets = {"APP_SECRET": data.app_secret.secret_arn}
        subnets = {"subnet_ids": tuple(network.network.private_subnet_ids)}
        # The API's services (README, "Canary releases" and "Moving to canary releases"): rolling, the seed's
        # api-service on Cloud Map and the WebSocket NLB; canary, api-blue-green in the release ALB's first target
        # group under CodeDeploy; a cutover runs both, the rolling one serving. ``api_service`` is the one serving.
        release_load_balancer = edge.release_load_balancer
        self.api_release_alarms = self._api_release_alarms(config, release_load_balancer) if release_load_balancer else []

        def api_service(construct_id: str, service_name: str, **placement: str) -> FargateService:
            return FargateService(
                self,
                construct_id,
                FargateServiceProps(
                    cluster_name=self.api_cluster.cluster_name,
                    service_name=service_name,
                    family=f"{prefix}-api",
                    container_name=API_CONTAINER,
                    image=f"{data.api_repository.repository_url}:{config.api_image_tag}",
                    cpu=config.api_task_cpu,
                    memory_mib=config.api_task_memory,
                    execution_role_arn=self.execution_role.role_arn,
                    task_role_arn=self.api_task_role.role_arn,
                    log_group_name=data.api_log_group.log_group_name,
                    security_group_ids=(network.api_security_group.security_group_id,),
                    capacity_provider_strategy=(CapacityProviderShare("FARGATE", weight=1),),
                    desired_count=config.api_min_capacity,
                    container_port=config.api_container_port,
                    environment={
                        **common_environment,
                        "CONVERSATIONS_TABLE_NAME": data.conversations_table.table_name,
                        "PORT": str(config.api_container_port),
                        **edge.api_environment,
                    },
                    secrets=secrets,
                    **placement,
                    writable_paths=config.api_writable_paths,
                    depends_on=(*role_policies(self.execution_role), *role_policies(self.api_task_role)),
                    **subnets,
                ),
            )

        self.api_rolling_service: FargateService | None = None
        self.api_blue_green_service: FargateService | None = None
        self.api_release: CanaryRelease | None = None
        if config.api_rolling_service:
            self.api_rolling_service = api_service(
                "api-service",
                API_SERVICE_NAME,
                service_registry_arn=data.api_discovery.service_arn,
                target_group_arn=edge.websocket_api.target_group_arn,
            )
        if release_load_balancer is not None:
            self.api_blue_green_service = api_service(
                "api-blue-green",
                API_BLUE_GREEN_SERVICE_NAME,
                deployment_controller="CODE_DEPLOY",
                target_group_arn=release_load_balancer.target_group_arns[0],
            )
            self.api_release = CanaryRelease(
                self,
                "api-release",
                CanaryReleaseProps(
                    name=api_release_name(config),
                    cluster_name=self.api_cluster.cluster_name,
                    service_name=self.api_blue_green_service.service_name,
                    service_arn=self.api_blue_green_service.service_arn,
                    load_balancer=release_load_balancer,
                    passed_role_arns=(self.api_task_role.role_arn, self.execution_role.role_arn),
                    alarm_names=tuple(alarm.alarm_name for alarm in self.api_release_alarms),
                    canary_percent=config.api_canary_percent,
                    bake_minutes=config.api_canary_bake_minutes,
                    termination_wait_minutes=config.api_release_termination_wait_minutes,
                ),
            )
        serving = self.api_rolling_service or self.api_blue_green_service
        assert serving is not None
        self.api_service: FargateService = serving
        # The CodeDeploy release of the service that serves (none during a cutover: CI still deploys the rolling one).
        self.api_serving_release = self.api_release if serving is self.api_blue_green_service else None
        # The worker's release gate: jobs dead-lettering now fail its deployment (README, "Worker release gate").
        self.worker_release_alarms: list[MetricAlarm] = []
        if config.worker_release_alarms:
            self.worker_release_alarms.append(
                MetricAlarm(
                    self,
                    "worker-release-dlq-growth",
                    queue_growth_release_alarm(
                        name=f"{prefix}-worker-release-dlq-growth",
                        visible_messages=data.job_queue.metric_dlq_approximate_number_of_messages_visible(),
                        description=(
                            "Release gate of the worker service (ECS deployment alarm, notifies nobody): job messages reached the "
                            "dead-letter queue in the last minute or two. In ALARM during a worker deployment, ECS fails it and rolls back."
                        ),
                    ),
                )
            )
        self.worker_service = FargateService(
            self,
            "worker-service",
            FargateServiceProps(
                cluster_name=self.worker_cluster.cluster_name,
                service_name=WORKER_SERVICE_NAME,
                family=f"{prefix}-worker",
                container_name=WORKER_CONTAINER,
                image=f"{data.worker_repository.repository_url}:{config.worker_image_tag}",
                cpu=config.worker_task_cpu,
                memory_mib=config.worker_task_memory,
                execution_role_arn=self.execution_role.role_arn,
                task_role_arn=self.worker_task_role.role_arn,
                log_group_name=data.worker_log_group.log_group_name,
                security_group_ids=(network.worker_security_group.security_group_id,),
                capacity_provider_strategy=worker_strategy,
                desired_count=config.worker_min_capacity,
                environment={**common_environment, "JOB_TIMEOUT_SECONDS": str(config.worker_job_timeout_seconds)},
                secrets=secrets,
                stop_timeout_seconds=WORKER_STOP_TIMEOUT_SECONDS,
                writable_paths=config.worker_writable_paths,
                deployment_alarm_names=tuple(alarm.alarm_name for alarm in self.worker_release_alarms),
                depends_on=(*role_policies(self.execution_role), *role_policies(self.worker_task_role)),
                **subnets,
            ),
        )

        # Autoscaling: the API on CPU (each API service during a cutover), the workers on queue depth from zero.
        self.api_scaling, self.api_blue_green_scaling = (
            None
            if service is None
            else TargetTracking(
                self,
                construct_id,
                TargetTrackingProps(
                    name=f"{prefix}-api-cpu",
                    target=ScalableTargetProps(
                        service_namespace="ecs",
                        resource_id=ecs_service_resource_id(self.api_cluster.cluster_name, service.service_name),
                        scalable_dimension="ecs:service:DesiredCount",
                        min_capacity=config.api_min_capacity,
                        max_capacity=config.api_max_capacity,
                    ),
                    predefined_metric_type="ECSServiceAverageCPUUtilization",
                    target_value_percent=config.api_cpu_target_percent,
                ),
            )
            for construct_id, service in (("api-scaling", self.api_rolling_service), ("api-blue-green-scaling", self.api_blue_green_service))
        )
        self.worker_scaling = QueueDepthScaling(
            self,
            "worker-scaling",
            QueueDepthScalingProps(
                name=f"{prefix}-workers",
                cluster_name=self.worker_cluster.cluster_name,
                service_name=self.worker_service.service_name,
                visible_messages=data.job_queue.metric_approximate_number_of_messages_visible(),
                in_flight_messages=data.job_queue.metric_approximate_number_of_messages_not_visible(),
                min_capacity=config.worker_min_capacity,
                max_capacity=config.worker_max_capacity,
                steps=tuple(ScalingStep(visible, tasks) for visible, tasks in config.worker_scaling_steps),
                scale_in_after_minutes=config.worker_scale_in_minutes,
            ),
        )

        self._add_delivery(config, data, edge)

        # Everything the deploy workflows read, in the one state they read (README, "Deploy workflows").
        for name, value, description in (
            ("ecr_api_repository_url", data.api_repository.repository_url, "Push API images here, tagged with the commit SHA."),
            ("ecr_worker_repository_url", data.worker_repository.repository_url, "Push worker images here, tagged with the commit SHA."),
            ("api_cluster_name", self.api_cluster.cluster_name, "ECS cluster of the API service."),
            ("worker_cluster_name", self.worker_cluster.cluster_name, "ECS cluster of the worker service."),
            ("api_service_name", self.api_service.service_name, "ECS service of the API."),
            ("worker_service_name", self.worker_service.service_name, "ECS service of the workers."),
            ("api_task_definition_family", self.api_service.task_definition_family, "Task definition family of the API (deploys and rollbacks use family:revision)."),
            ("worker_task_definition_family", self.worker_service.task_definition_family, "Task definition family of the workers."),
            ("frontend_bucket_name", data.frontend_bucket.bucket_name, "Private bucket the React build is uploaded to."),
            ("cloudfront_distribution_id", edge.frontend.cloudfront_distribution_id, "Distribution to invalidate after an upload."),
            ("api_gateway_url", edge.api_url, "Base URL of the HTTP API (the frontend's VITE_API_URL)."),
            ("websocket_gateway_url", edge.websocket_url, "URL of the WebSocket API (the frontend's VITE_WS_URL)."),
            (
                "api_release_strategy",
                config.api_release_strategy,
                "canary: API deploys go through CodeDeploy (the two names below); rolling: ECS rolling updates; "
                "cutover: rolling, while api_blue_green_service_name is made ready beside it.",
            ),
            (
                "api_codedeploy_application_name",
                self.api_release.application_name if self.api_release else "",
                "CodeDeploy application of the API's canary releases (tools.ecs_deploy --codedeploy-application); empty with rolling releases.",
            ),
            (
                "api_codedeploy_deployment_group_name",
                self.api_release.deployment_group_name if self.api_release else "",
                "CodeDeploy deployment group of the API's canary releases (tools.ecs_deploy --codedeploy-group); empty with rolling releases.",
            ),
            (
                "api_blue_green_service_name",
                self.api_blue_green_service.service_name if self.api_blue_green_service else "",
                "ECS service of the API under CodeDeploy (cutover and canary; during a cutover it serves nothing yet, README "
                '"Moving to canary releases"); empty with rolling releases.',
            ),
        ):
            self.output(name, value, description)

    def _api_release_alarms(self, config: EnvironmentConfig, load_balancer: ReleaseLoadBalancer) -> list[MetricAlarm]:
        """The API's release gates, three per target group: CodeDeploy rolls a release back when one is in ALARM.

        Per group, because the group a release's new tasks are in alternates,
        and a canary's 10 % of requests would hide in the whole ALB's rate.
        They page nobody: the operations layer's API alarms do.
        """
        prefix = config.resource_prefix
        alarms = []
        for index, label in enumerate(("a", "b")):
            what = f"target group {load_balancer.target_group_names[index]}"
            for kind, props in (
                (
                    "5xx-rate",
                    release_error_rate_alarm(
                        name=f"{prefix}-api-release-5xx-rate-{label}",
                        errors=load_balancer.metric_target_5xx(index),
                        requests=load_balancer.metric_requests(index),
                        threshold_percent=config.api_release_5xx_percent,
                        description=(
                            f"Release gate of the API (CodeDeploy alarm, notifies nobody): the API tasks in {what} answered more than "
                            f"{config.api_release_5xx_percent}% of requests with 5xx in 2 of 3 minutes. During a release, CodeDeploy rolls back."
                        ),
                    ),
                ),
                (
                    "latency-p99",
                    release_latency_alarm(
                        name=f"{prefix}-api-release-latency-p99-{label}",
                        response_time=load_balancer.metric_target_response_time(index),
                        threshold_milliseconds=config.api_release_latency_p99_milliseconds,
                        description=(
                            f"Release gate of the API (CodeDeploy alarm, notifies nobody): p99 response time of the API tasks in {what} above "
                            f"{config.api_release_latency_p99_milliseconds} ms in 2 of 3 minutes. During a release, CodeDeploy rolls back."
                        ),
                    ),
                ),
                (
                    "unhealthy-targets",
                    release_unhealthy_targets_alarm(
                        name=f"{prefix}-api-release-unhealthy-targets-{label}",
                        unhealthy=load_balancer.metric_unhealthy_hosts(index),
                        description=(
                            f"Release gate of the API (CodeDeploy alarm, notifies nobody): an API task in {what} failed its health checks "
                            "in 2 of 3 minutes. During a release, CodeDeploy rolls back."
                        ),
                    ),
                ),
            ):
                alarms.append(MetricAlarm(self, f"api-release-{kind}-{label}", props))
        return alarms

    def _add_delivery(self, config: EnvironmentConfig, data: DataLayer, edge: EdgeLayer) -> None:
        """How new images and frontend builds reach this environment.

        With github_repository: the role the workflows in .github/workflows
        assume through GitHub's OIDC provider, allowed exactly what they do:
        push the two images, deploy the two services the way tools/ecs_deploy.py
        does, upload the frontend and invalidate CloudFront, and read this
        layer's state (its outputs). With enable_ecr_push_updater: the seed's
        EventBridge alternative.
        """
        prefix = config.resource_prefix
        self.github_actions_role: GithubActionsRole | None = None
        role_arn = ""
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
            for repository in (data.api_repository, data.worker_repository):
                repository.grant_push(role)
            # The serving API service only: during a cutover the operator, who applies it, releases the serving
            # image to api-blue-green once (README, "Moving to canary releases").
            for service in (self.api_service, self.worker_service):
                service.grant_deploy(role, register_request_tags=DEPLOY_REQUEST_TAGS)
            if self.api_serving_release is not None:
                self.api_serving_release.grant_release(role)
            edge.frontend.grant_upload(role)
            edge.frontend.grant_invalidate(role)
            # The environment's layer states (the workflows read this layer's outputs; the
            # remote-state reads of a plan need the layers below), no other environment's.
            TerraformState(
                bucket=config.state_bucket,
                key_prefix=config.effective_state_key_prefix,
                lock_table=config.state_lock_table,
                region=config.effective_state_region,
            ).grant_read(role)
            self.github_actions_role = role
            role_arn = role.role_arn
        # In every environment, as the seed lists it: empty where no repository may deploy, and the
        # deploy workflows then stop at once naming github_repository (README, "Deploy role").
        self.output("github_actions_role_arn", role_arn, "Role the deploy workflows assume (the GitHub secret AWS_ROLE_TO_ASSUME); empty without github_repository.")

        self.ecr_push_updater: EcrPushUpdater | None = None
        # In every stack: the deploy workflows read it, and only build and push where pushes deploy themselves.
        self.output(
            "deploys_on_push",
            "true" if config.enable_ecr_push_updater else "false",
            "true when the ECR-push updater deploys each pushed tag (the deploy workflows then only build and push).",
        )
        if config.enable_ecr_push_updater:
            updater = EcrPushUpdater(
                self,
                "ecr-push-updater",
                EcrPushUpdaterProps(
                    name=updater_name(config),
                    targets=tuple(
                        UpdaterTarget(
                            repository_name=repository.props.name,
                            cluster_name=cluster.cluster_name,
                            service_name=service.service_name,
                            repository_url=repository.repository_url,
                            container_name=service.props.container_name,
                            # A canary API is deployed through CodeDeploy (tools.ecs_deploy reads the controller).
                            **(
                                dict(codedeploy_application=release.application_name, codedeploy_group=release.deployment_group_name)
                                if service is self.api_service and (release := self.api_serving_release) is not None
                                else {}
                            ),
                        )
                        for repository, cluster, service in (
                            (data.api_repository, self.api_cluster, self.api_service),
                            (data.worker_repository, self.worker_cluster, self.worker_service),
                        )
                    ),
                    source_dir=str(LAMBDA_DIR / "ecs_updater"),
                    kms_key_arn=data.keys["ecs-updater"].key_arn,
                    log_kms_key_arn=data.keys["logs"].key_arn,
                    log_retention_days=config.log_retention_days,
                    log_group=data.updater_log_group,
                    dlq=data.updater_dlq,
                ),
            )
            for service in (self.api_service, self.worker_service):
                # It deploys with tools.ecs_deploy, so it gets the deploy role's grant, tag condition included.
                service.grant_deploy(updater.role, register_request_tags=DEPLOY_REQUEST_TAGS)
            if self.api_serving_release is not None:
                # It only starts deployments: it neither follows nor stops them.
                self.api_serving_release.grant_release(updater.role, follow=False)
            for repository in (data.api_repository, data.worker_repository):
                # Push times: an older push's event must not replace the newer image (lambda/ecs_updater).
                repository.grant_describe_images(updater.role)
            self.ecr_push_updater = updater
            self.output("ecr_push_updater_function_name", updater.function_name, "Lambda that deploys a pushed image tag to its service.")
