"""`tools.ecs_deploy deploy --wait` against a deployment circuit breaker rollback (issue 12).

moto runs no tasks and has no circuit breaker; the harness's
``ecs_rolling_deployments`` shim rolls deployments out the way ECS does, and
makes a revision whose image contains ``fail-to-start`` fail to start (as an
image missing from the registry would): its deployment goes IN_PROGRESS ->
FAILED ("ECS deployment circuit breaker: tasks failed to start."), ECS starts
a new PRIMARY deployment of the last completed revision, which completes, and
the failed deployment is gone, leaving a stable service on the old revision.

A service with deployment alarms (the workers' release gate) fails its
deployment the same way when a named CloudWatch alarm is in ALARM during the
rollout or its bake time (one extra step), with the shim's descriptive
DEPLOYMENT_ALARMS_FAILED_REASON (ECS's own text is not documented).

The cluster, service and task definition are made with boto3 directly (no
terraform): the scenario is the deploy tool's, both as a Python function and
as the CLI the deploy workflow runs, with AWS_ENDPOINT_URL pointing at moto.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Iterator

import boto3
import pytest

from tests.harness.moto_server import CIRCUIT_BREAKER_FAILED_REASON, DEPLOYMENT_ALARMS_FAILED_REASON, FAIL_TO_START
from tools.ecs_deploy import DeployError, Waiting, deploy_image, parse_task_definition

pytestmark = [pytest.mark.terraform, pytest.mark.emulated, pytest.mark.xdist_group("emulated-rollback")]

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
REPOSITORY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/circle-of-trust-api"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}
FAST = Waiting(poll_seconds=0.05, timeout_seconds=20)


class EcsService:
    """A cluster with one service on revision 1, circuit breaker with rollback on; with ``alarm_names``, deployment alarms too."""

    def __init__(self, endpoint: str, alarm_names: tuple[str, ...] = ()):
        self.endpoint = endpoint
        self.ecs = boto3.client("ecs", region_name=REGION, endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing")
        self.cloudwatch = boto3.client(
            "cloudwatch", region_name=REGION, endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        configuration: dict = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}
        if alarm_names:
            configuration["alarms"] = {"alarmNames": list(alarm_names), "enable": True, "rollback": True}
        suffix = uuid.uuid4().hex[:8]
        self.cluster, self.service, self.family = f"rollback-{suffix}", "api-service", f"rollback-api-{suffix}"
        self.ecs.create_cluster(clusterName=self.cluster)
        first = self.ecs.register_task_definition(
            family=self.family,
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="512",
            containerDefinitions=[{"name": "api", "image": f"{REPOSITORY}:first", "essential": True}],
        )["taskDefinition"]["taskDefinitionArn"]
        self.ecs.create_service(
            cluster=self.cluster,
            serviceName=self.service,
            taskDefinition=first,
            desiredCount=2,
            deploymentConfiguration=configuration,
        )

    def described(self) -> dict:
        return self.ecs.describe_services(cluster=self.cluster, services=[self.service])["services"][0]

    def revision(self) -> int:
        family, revision = parse_task_definition(self.described()["taskDefinition"])
        assert family == self.family
        return revision

    def cli(self, image: str) -> subprocess.CompletedProcess[str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
        env.update(CREDENTIALS, AWS_ENDPOINT_URL=self.endpoint, AWS_REGION=REGION)
        return subprocess.run(
            [sys.executable, "-m", "tools.ecs_deploy", "deploy", "--cluster", self.cluster, "--service", self.service,
             "--image", image, "--region", REGION, "--wait", "--poll-seconds", "0.1", "--timeout-seconds", "20"],
            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
        )


    def set_alarm(self, name: str, state: str) -> None:
        self.cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason=f"test: {state}")


@pytest.fixture
def service(moto_endpoint: str) -> Iterator[EcsService]:
    yield EcsService(moto_endpoint)


@pytest.fixture
def gated(moto_endpoint: str) -> Iterator[tuple[EcsService, str]]:
    """A service gated by one release alarm (a DLQ growth alarm, as the workers'), which starts OK."""
    name = f"release-dlq-growth-{uuid.uuid4().hex[:8]}"
    cloudwatch = boto3.client("cloudwatch", region_name=REGION, endpoint_url=moto_endpoint, aws_access_key_id="testing", aws_secret_access_key="testing")
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        ComparisonOperator="GreaterThanThreshold",
        Threshold=0,
        EvaluationPeriods=2,
        DatapointsToAlarm=1,
        TreatMissingData="notBreaching",
        Metrics=[
            {"Id": "messages", "ReturnData": False, "MetricStat": {
                "Metric": {"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible", "Dimensions": [{"Name": "QueueName", "Value": "jobs-dlq"}]},
                "Period": 60, "Stat": "Maximum"}},
            {"Id": "expression", "Expression": "DIFF(messages)", "ReturnData": True},
        ],
    )  # fmt: skip
    service = EcsService(moto_endpoint, alarm_names=(name,))
    service.set_alarm(name, "OK")
    yield service, name


def test_a_good_image_deploys_and_the_wait_returns_once_its_deployment_completed(service: EcsService) -> None:
    arn = deploy_image(service.ecs, service.cluster, service.service, f"{REPOSITORY}:good", wait=FAST)

    assert parse_task_definition(arn) == (service.family, 2)
    (deployment,) = service.described()["deployments"]
    assert (deployment["status"], deployment["rolloutState"], deployment["taskDefinition"]) == ("PRIMARY", "COMPLETED", arn)
    assert service.described()["runningCount"] == 2


def test_an_image_that_cannot_start_fails_the_wait_naming_the_revision_that_runs(service: EcsService) -> None:
    deploy_image(service.ecs, service.cluster, service.service, f"{REPOSITORY}:good", wait=FAST)  # revision 2

    with pytest.raises(DeployError) as failure:
        deploy_image(service.ecs, service.cluster, service.service, f"{REPOSITORY}:{FAIL_TO_START}", wait=FAST)  # revision 3

    message = str(failure.value)
    assert f"of {service.family}:3 failed ({CIRCUIT_BREAKER_FAILED_REASON})" in message, message
    assert f"now runs {service.family}:2" in message, message
    # The rollback then ends the way that made `--wait` lie: one COMPLETED deployment, of the old revision.
    service.described()
    (deployment,) = service.described()["deployments"]
    assert (deployment["status"], deployment["rolloutState"]) == ("PRIMARY", "COMPLETED")
    assert service.revision() == 2


def test_the_cli_exits_0_for_a_good_image_and_1_naming_the_running_revision_for_a_bad_one(service: EcsService) -> None:
    good = service.cli(f"{REPOSITORY}:good")
    assert good.returncode == 0, good.stderr
    assert parse_task_definition(good.stdout.strip()) == (service.family, 2)

    bad = service.cli(f"{REPOSITORY}:v2-{FAIL_TO_START}")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert bad.stdout == ""
    assert bad.stderr.startswith(f"error: deployment ecs-svc/"), bad.stderr
    assert f"of {service.family}:3 failed" in bad.stderr and f"now runs {service.family}:2" in bad.stderr, bad.stderr


# -- deployment alarms (the workers' release gate) -------------------------------------------------
def test_the_service_reads_back_its_deployment_alarms(gated: tuple[EcsService, str]) -> None:
    """DescribeServices returns what CreateService was given, so a Terraform plan after apply stays clean."""
    service, name = gated
    assert service.described()["deploymentConfiguration"]["alarms"] == {"alarmNames": [name], "enable": True, "rollback": True}


def test_with_the_alarm_ok_a_deploy_completes_after_a_bake_time(gated: tuple[EcsService, str]) -> None:
    service, _ = gated
    arn = deploy_image(service.ecs, service.cluster, service.service, f"{REPOSITORY}:good", wait=FAST)

    assert parse_task_definition(arn) == (service.family, 2)
    (deployment,) = service.described()["deployments"]
    assert (deployment["status"], deployment["rolloutState"], deployment["taskDefinition"]) == ("PRIMARY", "COMPLETED", arn)


def test_an_alarm_in_alarm_during_the_rollout_fails_the_wait_naming_the_alarm_and_the_revision_that_runs(gated: tuple[EcsService, str]) -> None:
    service, name = gated
    deploy_image(service.ecs, service.cluster, service.service, f"{REPOSITORY}:good", wait=FAST)  # revision 2
    service.set_alarm(name, "ALARM")  # jobs dead-letter now

    with pytest.raises(DeployError) as failure:
        deploy_image(service.ecs, service.cluster, service.service, f"{REPOSITORY}:dead-letters", wait=FAST)  # revision 3

    message = str(failure.value)
    assert f"of {service.family}:3 failed ({DEPLOYMENT_ALARMS_FAILED_REASON.format(alarms=name)})" in message, message
    assert f"now runs {service.family}:2" in message and message.endswith("failed by a deployment alarm (the service's release gate)"), message
    service.described()
    (deployment,) = service.described()["deployments"]
    assert (deployment["status"], deployment["rolloutState"]) == ("PRIMARY", "COMPLETED")
    assert service.revision() == 2


def test_an_alarm_that_fires_during_the_bake_time_still_rolls_the_deployment_back(gated: tuple[EcsService, str]) -> None:
    """Steady state is reached on the second step; with alarms the deployment stays IN_PROGRESS one step more."""
    service, name = gated
    first = service.described()["taskDefinition"]
    second = service.ecs.register_task_definition(
        family=service.family, requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
        containerDefinitions=[{"name": "api", "image": f"{REPOSITORY}:baking", "essential": True}],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    service.ecs.update_service(cluster=service.cluster, service=service.service, taskDefinition=second)

    for _ in range(2):
        primary = service.described()["deployments"][0]
    assert (primary["taskDefinition"], primary["rolloutState"]) == (second, "IN_PROGRESS")
    service.set_alarm(name, "ALARM")

    failed = service.described()
    assert failed["taskDefinition"] == first
    rollback, ours = failed["deployments"]
    assert (ours["taskDefinition"], ours["rolloutState"], ours["status"]) == (second, "FAILED", "ACTIVE")
    assert (rollback["taskDefinition"], rollback["status"]) == (first, "PRIMARY")
    (done,) = service.described()["deployments"]
    assert (done["taskDefinition"], done["rolloutState"]) == (first, "COMPLETED")


def test_the_cli_exits_1_naming_the_alarm_and_the_running_revision(gated: tuple[EcsService, str]) -> None:
    service, name = gated
    good = service.cli(f"{REPOSITORY}:good")
    assert good.returncode == 0, good.stderr
    service.set_alarm(name, "ALARM")

    bad = service.cli(f"{REPOSITORY}:dead-letters")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert bad.stdout == ""
    assert f"of {service.family}:3 failed (" in bad.stderr and name in bad.stderr, bad.stderr
    assert f"now runs {service.family}:2" in bad.stderr and "failed by a deployment alarm" in bad.stderr, bad.stderr
