"""constructs_lib/service.py: clusters, task definitions and services."""

from __future__ import annotations

import pytest
from cdktf import TerraformOutput

from constructs_lib.service import (
    SERVICE_IGNORED_CHANGES,
    CapacityProviderShare,
    EcsCluster,
    EcsClusterProps,
    FargateService,
)
from tests.support import EXECUTION_ROLE, TASK_ROLE, api_service_props, at, logical_id, ref, resources, synth_construct

SECRET = "arn:aws:secretsmanager:us-east-1:111122223333:secret:cot/app-AbCdEf"


@pytest.fixture(scope="module")
def doc():
    def build(stack):
        api_cluster = EcsCluster(stack, "api-cluster", EcsClusterProps(name="cot-api"))
        worker_cluster = EcsCluster(
            stack,
            "worker-cluster",
            EcsClusterProps(name="cot-workers", capacity_providers=("FARGATE", "FARGATE_SPOT"), default_strategy=(CapacityProviderShare("FARGATE_SPOT"),)),
        )
        FargateService(
            stack,
            "api",
            api_service_props(
                cluster_name=api_cluster.cluster_name,
                desired_count=2,
                container_port=8080,
                environment={"QUEUE_URL": "https://sqs/q", "AWS_REGION": "us-east-1"},
                secrets={"APP_SECRET": SECRET},
                service_registry_arn="arn:aws:servicediscovery:us-east-1:111122223333:service/srv-1",
            ),
        )
        FargateService(
            stack,
            "worker",
            api_service_props(
                cluster_name=worker_cluster.cluster_name,
                service_name="worker-service",
                family="cot-worker",
                container_name="worker",
                cpu=2048,
                memory_mib=4096,
                desired_count=0,
                stop_timeout_seconds=120,
                capacity_provider_strategy=(CapacityProviderShare("FARGATE_SPOT"),),
                deployment_alarm_names=("cot-worker-release-dlq-growth", "cot-worker-release-other"),
            ),
        )
        FargateService(
            stack,
            "based",
            api_service_props(
                cluster_name=worker_cluster.cluster_name,
                service_name="based-service",
                family="cot-based",
                capacity_provider_strategy=(CapacityProviderShare("FARGATE", weight=0, base=2), CapacityProviderShare("FARGATE_SPOT")),
            ),
        )

    return synth_construct(build)


def _container(doc, path: str) -> str:
    return at(resources(doc, "aws_ecs_task_definition"), path)["container_definitions"]


def test_clusters_have_container_insights_and_their_capacity_providers(doc):
    api = at(resources(doc, "aws_ecs_cluster"), "api-cluster")
    assert api == {"name": "cot-api", "setting": [{"name": "containerInsights", "value": "enabled"}]}
    providers = at(resources(doc, "aws_ecs_cluster_capacity_providers"), "worker-cluster/capacity-providers")
    assert providers["capacity_providers"] == ["FARGATE", "FARGATE_SPOT"]
    assert providers["default_capacity_provider_strategy"] == [{"capacity_provider": "FARGATE_SPOT", "weight": 1, "base": 0}]
    api_providers = at(resources(doc, "aws_ecs_cluster_capacity_providers"), "api-cluster/capacity-providers")
    assert api_providers["capacity_providers"] == ["FARGATE"]


def test_service_names_its_cluster_through_the_capacity_provider_association(doc):
    service = at(resources(doc, "aws_ecs_service"), "api/service")
    associations = resources(doc, "aws_ecs_cluster_capacity_providers")
    assert service["cluster"] == ref(doc, "aws_ecs_cluster_capacity_providers", logical_id(associations, "api-cluster/capacity-providers"), "cluster_name")


def test_task_definition_is_fargate_awsvpc_with_both_roles(doc):
    task = at(resources(doc, "aws_ecs_task_definition"), "api/task-definition")
    assert task["family"] == "cot-api"
    assert (task["requires_compatibilities"], task["network_mode"]) == (["FARGATE"], "awsvpc")
    assert (task["cpu"], task["memory"]) == ("512", "1024")
    assert (task["execution_role_arn"], task["task_role_arn"]) == (EXECUTION_ROLE, TASK_ROLE)
    assert task["runtime_platform"] == {"operating_system_family": "LINUX", "cpu_architecture": "X86_64"}
    # Replaced revisions stay ACTIVE for rollbacks; Terraform tracks only its own revision.
    assert task["skip_destroy"] is True
    assert "track_latest" not in task


def test_container_definitions_are_jsonencoded_with_image_env_secrets_and_logs(doc):
    container = _container(doc, "api/task-definition")
    assert container.startswith("${jsonencode([{") and container.endswith("}])}")
    for part in (
        '"name" = "api"',
        '"image" = "111122223333.dkr.ecr.us-east-1.amazonaws.com/cot-api:latest"',
        '"essential" = true',
        '"environment" = [{"name" = "AWS_REGION", "value" = "us-east-1"}, {"name" = "QUEUE_URL", "value" = "https://sqs/q"}]',
        f'"secrets" = [{{"name" = "APP_SECRET", "valueFrom" = "{SECRET}"}}]',
        '"portMappings" = [{"containerPort" = 8080, "protocol" = "tcp"}]',
        '"logDriver" = "awslogs"',
        '"awslogs-group" = "/ecs/cot-api"',
        '"awslogs-stream-prefix" = "api"',
        '"awslogs-region" = data.aws_region.',
        '"stopTimeout" = 30',
    ):
        assert part in container, part
    assert SECRET not in container.split('"secrets"')[0]  # never an environment value


def test_worker_container_has_no_port_env_or_secrets_when_given_none(doc):
    container = _container(doc, "worker/task-definition")
    assert '"portMappings"' not in container and '"environment"' not in container and '"secrets"' not in container
    assert '"stopTimeout" = 120' in container


def test_service_runs_in_private_subnets_without_public_ips(doc):
    service = at(resources(doc, "aws_ecs_service"), "api/service")
    assert service["network_configuration"] == {"subnets": ["subnet-a", "subnet-b"], "security_groups": ["sg-api"], "assign_public_ip": False}
    assert service["platform_version"] == "LATEST"
    assert "launch_type" not in service


def test_service_rolls_back_failed_deployments_and_ignores_only_what_ci_and_autoscaling_own(doc):
    for path in ("api/service", "worker/service", "based/service"):
        service = at(resources(doc, "aws_ecs_service"), path)
        assert service["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
        assert service["lifecycle"] == {"ignore_changes": ["task_definition", "desired_count"]}
        assert service["force_new_deployment"] is True
        assert service["wait_for_steady_state"] is False
    assert SERVICE_IGNORED_CHANGES == ("task_definition", "desired_count")


def test_a_service_naming_release_alarms_fails_and_rolls_back_deployments_on_them(doc):
    worker = at(resources(doc, "aws_ecs_service"), "worker/service")
    assert worker["alarms"] == {"alarm_names": ["cot-worker-release-dlq-growth", "cot-worker-release-other"], "enable": True, "rollback": True}
    # Without names, no alarms block at all: the circuit breaker alone.
    for path in ("api/service", "based/service"):
        assert "alarms" not in at(resources(doc, "aws_ecs_service"), path)


def test_service_starts_on_the_terraform_revision_with_the_initial_count(doc):
    service = at(resources(doc, "aws_ecs_service"), "api/service")
    tasks = resources(doc, "aws_ecs_task_definition")
    assert service["task_definition"] == ref(doc, "aws_ecs_task_definition", logical_id(tasks, "api/task-definition"), "arn")
    assert (service["name"], service["desired_count"]) == ("api-service", 2)
    assert at(resources(doc, "aws_ecs_service"), "worker/service")["desired_count"] == 0


def test_api_registers_its_container_port_in_cloud_map(doc):
    service = at(resources(doc, "aws_ecs_service"), "api/service")
    assert service["service_registries"] == {
        "registry_arn": "arn:aws:servicediscovery:us-east-1:111122223333:service/srv-1",
        "container_name": "api",
        "container_port": 8080,
    }
    assert "service_registries" not in at(resources(doc, "aws_ecs_service"), "worker/service")


def test_capacity_provider_strategies(doc):
    assert at(resources(doc, "aws_ecs_service"), "api/service")["capacity_provider_strategy"] == [{"capacity_provider": "FARGATE", "weight": 1, "base": 0}]
    assert at(resources(doc, "aws_ecs_service"), "worker/service")["capacity_provider_strategy"] == [
        {"capacity_provider": "FARGATE_SPOT", "weight": 1, "base": 0}
    ]
    assert at(resources(doc, "aws_ecs_service"), "based/service")["capacity_provider_strategy"] == [
        {"capacity_provider": "FARGATE", "weight": 0, "base": 2},
        {"capacity_provider": "FARGATE_SPOT", "weight": 1, "base": 0},
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cpu": 300}, "cpu must be a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192, 16384, but 300 was provided"),
        ({"memory_mib": 512}, "memory_mib must be a memory size (MiB) Fargate accepts with 512 CPU units: 1024, 2048, 3072, 4096, but 512 was provided"),
        ({"service_name": "api service"}, "service_name must be 1-255 letters, digits, '-' and '_', but 'api service' was provided"),
        ({"family": "cot:api"}, "family must be 1-255 letters, digits, '-' and '_', but 'cot:api' was provided"),
        ({"subnet_ids": ()}, "subnet_ids must hold at least one subnet, but none was provided"),
        ({"security_group_ids": ()}, "security_group_ids must hold at least one group, but none was provided"),
        ({"capacity_provider_strategy": ()}, "capacity_provider_strategy must hold at least one capacity provider, but none was provided"),
        ({"capacity_provider_strategy": (CapacityProviderShare("EC2"),)}, "capacity_provider_strategy.capacity_provider must be one of FARGATE, FARGATE_SPOT, but 'EC2' was provided"),
        ({"capacity_provider_strategy": (CapacityProviderShare("FARGATE", weight=0),)}, "capacity_provider_strategy needs a capacity provider with a weight above 0, but all weights are 0"),
        ({"capacity_provider_strategy": (CapacityProviderShare("FARGATE", base=1), CapacityProviderShare("FARGATE_SPOT", base=1))}, "capacity_provider_strategy may give a base to one capacity provider only"),
        ({"capacity_provider_strategy": (CapacityProviderShare("FARGATE"), CapacityProviderShare("FARGATE"))}, "capacity_provider_strategy must name each capacity provider once"),
        ({"capacity_provider_strategy": (CapacityProviderShare("FARGATE", weight=1001),)}, "capacity_provider_strategy.weight must be between 0 and 1000, but 1001 was provided"),
        ({"desired_count": -1}, "desired_count must be between 0 and 1000, but -1 was provided"),
        ({"container_port": 0}, "container_port must be between 1 and 65535, but 0 was provided"),
        ({"service_registry_arn": "arn:aws:servicediscovery:us-east-1:1:service/s"}, "container_port must be set with service_registry_arn (SRV records carry the port), but None was provided"),
        ({"environment": {"1BAD": "x"}}, "environment and secrets names must be letters, digits and '_', not starting with a digit, but '1BAD' was provided"),
        ({"environment": {"APP_MODE\n": "x"}}, "environment and secrets names must be letters, digits and '_', not starting with a digit, but 'APP_MODE\\n' was provided"),
        ({"secrets": {"APP_SECRET\n": SECRET}}, "environment and secrets names must be letters, digits and '_', not starting with a digit, but 'APP_SECRET\\n' was provided"),
        ({"environment": {"DB_PASSWORD": "hunter2"}}, "environment must not hold secret-like names (put 'DB_PASSWORD' in secrets, by ARN), but 'DB_PASSWORD' was provided"),
        ({"environment": {"OPENAI_API_KEY": "sk"}}, "put 'OPENAI_API_KEY' in secrets"),
        ({"environment": {"APP": "x"}, "secrets": {"APP": SECRET}}, "environment and secrets must not share names, but 'APP' is in both"),
        ({"secrets": {"APP_SECRET": "hunter2"}}, "secrets must map names to Secrets Manager ARNs, but 'APP_SECRET' maps to 'hunter2'"),
        ({"stop_timeout_seconds": 121}, "stop_timeout_seconds must be between 2 and 120, but 121 was provided"),
        ({"cpu_architecture": "arm64"}, "cpu_architecture must be one of X86_64, ARM64, but 'arm64' was provided"),
        ({"deployment_minimum_healthy_percent": 101}, "deployment_minimum_healthy_percent must be between 0 and 100, but 101 was provided"),
        ({"deployment_maximum_percent": 99}, "deployment_maximum_percent must be between 100 and 200, but 99 was provided"),
        ({"deployment_alarm_names": ("",)}, "deployment_alarm_names must be alarm names of 1-255 characters without control characters, but '' was provided"),
        ({"deployment_alarm_names": ("a", "a")}, "deployment_alarm_names must not repeat a name, but ['a', 'a'] was provided"),
        ({"deployment_alarm_names": tuple(f"a{i}" for i in range(11))}, "deployment_alarm_names may name at most 10 alarms, but 11 were provided"),
    ],
)  # fmt: skip
def test_service_props_validation_messages(kwargs, message):
    with pytest.raises(ValueError, match="^FargateServiceProps: ") as caught:
        api_service_props(**kwargs)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "cot api"}, "name must be 1-255 letters, digits, '-' and '_', but 'cot api' was provided"),
        ({"capacity_providers": ("EC2",)}, "capacity_providers must be one of FARGATE, FARGATE_SPOT, but 'EC2' was provided"),
        ({"default_strategy": (CapacityProviderShare("FARGATE_SPOT"),)}, "default_strategy must use the cluster's capacity_providers, but 'FARGATE_SPOT' was provided"),
    ],
)  # fmt: skip
def test_cluster_props_validation_messages(kwargs, message):
    with pytest.raises(ValueError, match="^EcsClusterProps: ") as caught:
        EcsClusterProps(**{"name": "cot-api", **kwargs})
    assert message in str(caught.value)



def test_container_insights_metrics_name_the_cluster_and_the_service():
    helpers = {
        "metric_running_task_count": "RunningTaskCount",
        "metric_desired_task_count": "DesiredTaskCount",
        "metric_cpu_utilized": "CpuUtilized",
        "metric_memory_utilized": "MemoryUtilized",
    }

    def build(stack):
        service = FargateService(stack, "api", api_service_props())
        build.metrics = {helper: getattr(service, helper)() for helper in helpers}
        for helper, metric in build.metrics.items():
            TerraformOutput(stack, helper, value=metric.dimensions["ServiceName"])

    doc = synth_construct(build)
    service_name = ref(doc, "aws_ecs_service", logical_id(resources(doc, "aws_ecs_service"), "api/service"), "name")
    for helper, name in helpers.items():
        metric = build.metrics[helper]
        assert (metric.namespace, metric.metric_name, metric.statistic, metric.period_seconds) == ("ECS/ContainerInsights", name, "Average", 60)
        assert (list(metric.dimensions), metric.dimensions["ClusterName"]) == (["ClusterName", "ServiceName"], "cot-api")
        assert doc["output"][helper]["value"] == service_name


# -- read-only root filesystem, writable volumes, non-blocking logs (issue 18) -----------------------
@pytest.fixture(scope="module")
def hardened():
    def build(stack):
        FargateService(stack, "default", api_service_props())
        FargateService(stack, "cache", api_service_props(family="cot-cache", writable_paths=("/tmp", "/var/cache/app")))
        FargateService(stack, "sealed", api_service_props(family="cot-sealed", writable_paths=(), log_mode="blocking"))

    return synth_construct(build)


def test_container_root_filesystem_is_read_only_with_tmp_as_its_one_writable_volume_by_default(hardened):
    container = _container(hardened, "default/task-definition")
    assert '"readonlyRootFilesystem" = true' in container
    assert '"mountPoints" = [{"sourceVolume" = "writable-tmp", "containerPath" = "/tmp", "readOnly" = false}]' in container
    task = at(resources(hardened, "aws_ecs_task_definition"), "default/task-definition")
    # No host, EFS or Docker volume configuration: Fargate's ephemeral task storage.
    assert task["volume"] == [{"name": "writable-tmp"}]


def test_each_writable_path_is_a_volume_with_its_mount_point(hardened):
    container = _container(hardened, "cache/task-definition")
    assert (
        '"mountPoints" = [{"sourceVolume" = "writable-tmp", "containerPath" = "/tmp", "readOnly" = false}, '
        '{"sourceVolume" = "writable-var-cache-app", "containerPath" = "/var/cache/app", "readOnly" = false}]'
    ) in container
    task = at(resources(hardened, "aws_ecs_task_definition"), "cache/task-definition")
    assert task["volume"] == [{"name": "writable-tmp"}, {"name": "writable-var-cache-app"}]


def test_without_writable_paths_nothing_is_writable_and_no_volume_is_made(hardened):
    container = _container(hardened, "sealed/task-definition")
    assert '"readonlyRootFilesystem" = true' in container and '"mountPoints"' not in container
    assert "volume" not in at(resources(hardened, "aws_ecs_task_definition"), "sealed/task-definition")


def test_awslogs_is_non_blocking_with_a_25m_buffer_by_default_and_blocking_on_request(hardened):
    container = _container(hardened, "default/task-definition")
    assert '"mode" = "non-blocking"' in container and '"max-buffer-size" = "25m"' in container
    sealed = _container(hardened, "sealed/task-definition")
    assert '"mode" = "blocking"' in sealed and "max-buffer-size" not in sealed


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"writable_paths": ("/",)}, "writable_paths must not hold '/'"),
        ({"writable_paths": ("tmp",)}, "writable_paths must hold absolute paths of '/'-separated segments"),
        ({"writable_paths": ("/tmp", "/tmp")}, "writable_paths must not repeat a path, but /tmp appears more than once"),
        ({"writable_paths": ("/tmp", "/tmp/x")}, "writable_paths must not hold a path inside another (it is writable already), but /tmp/x is inside /tmp"),
        ({"log_mode": "sometimes"}, "log_mode must be one of non-blocking, blocking, but 'sometimes' was provided"),
        ({"log_max_buffer_size": "25MB"}, "log_max_buffer_size must be a size such as 25m: 1-999999 then k, m or g, but '25MB' was provided"),
    ],
)
def test_hardening_props_validation_messages(overrides, message):
    with pytest.raises(ValueError) as error:
        api_service_props(**overrides)
    assert message in str(error.value)


# -- CodeDeploy's blue/green releases (deployment_controller CODE_DEPLOY, issue 20) -----------------
TARGET_GROUP = "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/cot-a/0123456789abcdef"


@pytest.fixture(scope="module")
def code_deploy():
    def build(stack):
        FargateService(stack, "api", api_service_props(deployment_controller="CODE_DEPLOY", target_group_arn=TARGET_GROUP, container_port=8080, desired_count=2))

    return synth_construct(build)


def test_a_code_deploy_service_is_created_in_its_target_group_under_codedeploy(code_deploy):
    service = at(resources(code_deploy, "aws_ecs_service"), "api/service")
    assert service["deployment_controller"] == {"type": "CODE_DEPLOY"}
    assert service["load_balancer"] == [{"target_group_arn": TARGET_GROUP, "container_name": "api", "container_port": 8080}]
    # CodeDeploy supports services behind a load balancer only: no Cloud Map registration.
    assert "service_registries" not in service


def test_a_code_deploy_service_leaves_failures_and_new_tasks_to_codedeploy(code_deploy):
    service = at(resources(code_deploy, "aws_ecs_service"), "api/service")
    # The circuit breaker and ECS deployment alarms gate rolling updates; CodeDeploy's group rolls back here.
    assert "deployment_circuit_breaker" not in service and "alarms" not in service
    # UpdateService may not start another revision's tasks on a CODE_DEPLOY service.
    assert service.get("force_new_deployment") in (None, False)


def test_a_code_deploy_service_ignores_the_target_group_codedeploy_alternates(code_deploy):
    ignored = at(resources(code_deploy, "aws_ecs_service"), "api/service")["lifecycle"]["ignore_changes"]
    # After a release the PRIMARY task set is in the other group, on another revision, at autoscaling's count.
    assert {"load_balancer", "task_definition", "desired_count"} <= set(ignored)


def test_the_default_controller_is_ecs_with_nothing_of_codedeploy(doc):
    for path in ("api/service", "worker/service"):
        service = at(resources(doc, "aws_ecs_service"), path)
        assert service.get("deployment_controller", {"type": "ECS"}) == {"type": "ECS"}
        assert "load_balancer" not in service["lifecycle"]["ignore_changes"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"deployment_controller": "EXTERNAL"}, "deployment_controller must be one of ECS, CODE_DEPLOY, but 'EXTERNAL' was provided"),
        ({"deployment_controller": "CODE_DEPLOY"}, "target_group_arn must be set with deployment_controller CODE_DEPLOY"),
        (
            {"deployment_controller": "CODE_DEPLOY", "target_group_arn": TARGET_GROUP, "container_port": 8080, "service_registry_arn": "arn:aws:servicediscovery:us-east-1:111122223333:service/srv-1"},
            "service_registry_arn must be None with deployment_controller CODE_DEPLOY",
        ),
        (
            {"deployment_controller": "CODE_DEPLOY", "target_group_arn": TARGET_GROUP, "container_port": 8080, "deployment_alarm_names": ("cot-gate",)},
            "deployment_alarm_names must be empty with deployment_controller CODE_DEPLOY",
        ),
    ],
)  # fmt: skip
def test_code_deploy_props_validation_messages(kwargs, message):
    with pytest.raises(ValueError, match="^FargateServiceProps: ") as caught:
        api_service_props(**kwargs)
    assert message in str(caught.value)


def test_the_constructs_deploy_tag_is_the_one_tools_ecs_deploy_puts_on_revisions():
    """tools/ecs_deploy.py ships alone in the updater's Lambda, so the grant's condition spells the tag itself."""
    from constructs_lib.service import DEPLOY_REQUEST_TAGS
    from tools import ecs_deploy

    assert DEPLOY_REQUEST_TAGS == {ecs_deploy.DEPLOY_TAG["key"]: ecs_deploy.DEPLOY_TAG["value"]}
