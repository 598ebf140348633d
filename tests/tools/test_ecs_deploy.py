"""tools/ecs_deploy.py against moto's ECS, in process."""

from __future__ import annotations

import os

import boto3
import pytest
from moto import mock_aws

from tools import ecs_deploy
from tools.ecs_deploy import DeployError, current_image, deploy_image, parse_task_definition, rollback, running_image

REGION = "us-east-1"
CLUSTER = "circle-of-trust-api"
SERVICE = "api-service"
FAMILY = "circle-of-trust-api"
REPOSITORY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/circle-of-trust-api"
ACCOUNT_ARN = "arn:aws:iam::123456789012"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:circle-of-trust/app-AbCdEf"

CONTAINER = {
    "name": "api",
    "image": f"{REPOSITORY}:latest",
    "essential": True,
    "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
    "environment": [
        {"name": "AWS_REGION", "value": REGION},
        {"name": "JOB_QUEUE_URL", "value": "https://sqs.us-east-1.amazonaws.com/123456789012/circle-of-trust-jobs"},
    ],
    "secrets": [{"name": "APP_SECRET", "valueFrom": SECRET_ARN}],
    "logConfiguration": {
        "logDriver": "awslogs",
        "options": {"awslogs-group": "/ecs/circle-of-trust-api", "awslogs-region": REGION, "awslogs-stream-prefix": "api"},
    },
    "stopTimeout": 30,
}
TASK_DEFINITION = {
    "family": FAMILY,
    "taskRoleArn": f"{ACCOUNT_ARN}:role/circle-of-trust-api-task",
    "executionRoleArn": f"{ACCOUNT_ARN}:role/circle-of-trust-ecs-execution",
    "networkMode": "awsvpc",
    "requiresCompatibilities": ["FARGATE"],
    "cpu": "512",
    "memory": "1024",
    "runtimePlatform": {"operatingSystemFamily": "LINUX", "cpuArchitecture": "X86_64"},
    "containerDefinitions": [CONTAINER],
    "tags": [{"key": "project", "value": "circle-of-trust"}],
}
# Everything a revision carries that a deploy must keep.
KEPT = ("taskRoleArn", "executionRoleArn", "networkMode", "requiresCompatibilities", "cpu", "memory", "runtimePlatform")


@pytest.fixture(autouse=True)
def _credentials(monkeypatch):
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", REGION),
        ("AWS_REGION", REGION),
    ):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def ecs():
    """An ECS with the API cluster and a service on revision 1 (what Terraform creates)."""
    with mock_aws():
        client = boto3.client("ecs", region_name=REGION)
        client.create_cluster(clusterName=CLUSTER)
        first = client.register_task_definition(**TASK_DEFINITION)["taskDefinition"]["taskDefinitionArn"]
        client.create_service(
            cluster=CLUSTER,
            serviceName=SERVICE,
            taskDefinition=first,
            desiredCount=2,
            # No networkConfiguration: moto would validate it against its EC2
            # (slow to start), and the deploy tool never reads or changes it.
        )
        yield client


def _running(client) -> tuple[str, int]:
    service = client.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    return parse_task_definition(service["taskDefinition"])


def _describe(client, arn: str) -> dict:
    return client.describe_task_definition(taskDefinition=arn, include=["TAGS"])


# -- deploy ---------------------------------------------------------------------------
def test_deploy_registers_a_new_revision_and_points_the_service_at_it(ecs):
    arn = deploy_image(ecs, CLUSTER, SERVICE, f"{REPOSITORY}:abc123")

    assert parse_task_definition(arn) == (FAMILY, 2)
    assert _running(ecs) == (FAMILY, 2)


def test_deploy_changes_only_the_image(ecs):
    before = _describe(ecs, f"{FAMILY}:1")
    after = _describe(ecs, deploy_image(ecs, CLUSTER, SERVICE, f"{REPOSITORY}:abc123"))

    old, new = before["taskDefinition"], after["taskDefinition"]
    for key in KEPT:
        assert new[key] == old[key], key
    [old_container], [new_container] = old["containerDefinitions"], new["containerDefinitions"]
    assert new_container["image"] == f"{REPOSITORY}:abc123"
    assert {k: v for k, v in new_container.items() if k != "image"} == {k: v for k, v in old_container.items() if k != "image"}
    # Roles, environment, secrets by ARN, cpu/memory and logs, spelled out:
    assert new["executionRoleArn"].endswith("role/circle-of-trust-ecs-execution")
    assert new_container["secrets"] == [{"name": "APP_SECRET", "valueFrom": SECRET_ARN}]
    assert new_container["logConfiguration"]["options"]["awslogs-group"] == "/ecs/circle-of-trust-api"
    assert (new["cpu"], new["memory"]) == ("512", "1024")
    # Tags are kept, and the revision is marked as deployed.
    assert before["tags"] == [{"key": "project", "value": "circle-of-trust"}]
    assert after["tags"] == [{"key": "project", "value": "circle-of-trust"}, {"key": "deployed-by", "value": "tools.ecs_deploy"}]


def test_a_deploy_from_a_deployed_revision_keeps_one_deploy_tag(ecs):
    deploy_image(ecs, CLUSTER, SERVICE, f"{REPOSITORY}:abc123")
    tags = _describe(ecs, deploy_image(ecs, CLUSTER, SERVICE, f"{REPOSITORY}:def456"))["tags"]
    assert [tag["key"] for tag in tags].count("deployed-by") == 1


def test_deploy_starts_from_the_newest_active_revision_so_terraform_changes_ride_along(ecs):
    deploy_image(ecs, CLUSTER, SERVICE, f"{REPOSITORY}:abc123")  # revision 2, running
    # Terraform changes the task definition: a new revision, memory 2048, not running.
    changed = dict(TASK_DEFINITION, memory="2048")
    assert ecs.register_task_definition(**changed)["taskDefinition"]["revision"] == 3
    assert _running(ecs) == (FAMILY, 2)

    arn = deploy_image(ecs, CLUSTER, SERVICE, f"{REPOSITORY}:def456")

    new = _describe(ecs, arn)["taskDefinition"]
    assert (new["revision"], new["memory"]) == (4, "2048")
    assert new["containerDefinitions"][0]["image"] == f"{REPOSITORY}:def456"


def test_deploy_skips_inactive_revisions(ecs):
    deploy_image(ecs, CLUSTER, SERVICE, f"{REPOSITORY}:abc123")  # 2
    ecs.register_task_definition(**dict(TASK_DEFINITION, memory="4096"))  # 3
    ecs.deregister_task_definition(taskDefinition=f"{FAMILY}:3")

    new = _describe(ecs, deploy_image(ecs, CLUSTER, SERVICE, f"{REPOSITORY}:def456"))["taskDefinition"]

    assert (new["revision"], new["memory"]) == (4, "1024")


def test_deploy_picks_the_named_container_when_there_are_several(ecs):
    sidecar = dict(CONTAINER, name="sidecar", image="public.ecr.aws/nginx/nginx:1.27", portMappings=[])
    ecs.register_task_definition(**dict(TASK_DEFINITION, containerDefinitions=[CONTAINER, sidecar]))
    with pytest.raises(DeployError, match=r"has 2 containers \(api, sidecar\); name one with --container"):
        deploy_image(ecs, CLUSTER, SERVICE, f"{REPOSITORY}:abc123")
    with pytest.raises(DeployError, match="has no container 'web'; it has: api, sidecar"):
        deploy_image(ecs, CLUSTER, SERVICE, f"{REPOSITORY}:abc123", container="web")

    containers = _describe(ecs, deploy_image(ecs, CLUSTER, SERVICE, f"{REPOSITORY}:abc123", container="api"))["taskDefinition"]["containerDefinitions"]

    assert {c["name"]: c["image"] for c in containers} == {"api": f"{REPOSITORY}:abc123", "sidecar": "public.ecr.aws/nginx/nginx:1.27"}


@pytest.mark.parametrize("image", ["", "abc123", f"{REPOSITORY}", f"{REPOSITORY}:", f"{REPOSITORY}:-bad", f"{REPOSITORY}@sha256:xyz", f"{REPOSITORY}:abc123\n"])
def test_deploy_rejects_an_image_without_a_tag_or_digest(ecs, image):
    with pytest.raises(DeployError, match="image must be <repository_url>:<tag> or <repository_url>@sha256:<digest>"):
        deploy_image(ecs, CLUSTER, SERVICE, image)
    assert _running(ecs) == (FAMILY, 1)


def test_deploy_accepts_a_digest(ecs):
    digest = "sha256:" + "a" * 64
    arn = deploy_image(ecs, CLUSTER, SERVICE, f"{REPOSITORY}@{digest}")
    assert _describe(ecs, arn)["taskDefinition"]["containerDefinitions"][0]["image"] == f"{REPOSITORY}@{digest}"


def test_deploy_to_an_unknown_service_says_so(ecs):
    with pytest.raises(DeployError, match=r"service 'nope' not found in cluster 'circle-of-trust-api' \(MISSING\)"):
        deploy_image(ecs, CLUSTER, "nope", f"{REPOSITORY}:abc123")


def test_deploy_to_an_unknown_cluster_says_so(ecs):
    with pytest.raises(DeployError, match=r"describing service 'api-service' in cluster 'nope' failed \(ClusterNotFoundException\)"):
        deploy_image(ecs, "nope", SERVICE, f"{REPOSITORY}:abc123")


# -- current_image ---------------------------------------------------------------------
def test_current_image_is_the_newest_active_revisions_not_the_running_ones(ecs):
    """What deploy_image would replace: Terraform's newer, not running revision counts, a deregistered one does not."""
    assert current_image(ecs, CLUSTER, SERVICE) == f"{REPOSITORY}:latest"
    deploy_image(ecs, CLUSTER, SERVICE, f"{REPOSITORY}:abc123")  # 2, running
    assert current_image(ecs, CLUSTER, SERVICE) == f"{REPOSITORY}:abc123"
    ecs.register_task_definition(**dict(TASK_DEFINITION, containerDefinitions=[dict(CONTAINER, image=f"{REPOSITORY}:terraform")]))  # 3
    assert current_image(ecs, CLUSTER, SERVICE) == f"{REPOSITORY}:terraform"
    ecs.deregister_task_definition(taskDefinition=f"{FAMILY}:3")
    assert current_image(ecs, CLUSTER, SERVICE) == f"{REPOSITORY}:abc123"
    assert _running(ecs) == (FAMILY, 2)


def test_current_image_of_a_named_container_or_says_why_not(ecs):
    sidecar = dict(CONTAINER, name="sidecar", image="public.ecr.aws/nginx/nginx:1.27", portMappings=[])
    ecs.register_task_definition(**dict(TASK_DEFINITION, containerDefinitions=[CONTAINER, sidecar]))
    assert current_image(ecs, CLUSTER, SERVICE, container="sidecar") == "public.ecr.aws/nginx/nginx:1.27"
    with pytest.raises(DeployError, match=r"has 2 containers \(api, sidecar\); name one with --container"):
        current_image(ecs, CLUSTER, SERVICE)
    with pytest.raises(DeployError, match="has no container 'web'; it has: api, sidecar"):
        current_image(ecs, CLUSTER, SERVICE, container="web")
    with pytest.raises(DeployError, match=r"service 'nope' not found"):
        current_image(ecs, CLUSTER, "nope")


def test_running_image_is_the_running_revisions_not_the_newest(ecs):
    """What the service runs: Terraform's newer revision (never deployed) does not count."""
    deploy_image(ecs, CLUSTER, SERVICE, f"{REPOSITORY}:abc123")  # 2, running
    ecs.register_task_definition(**dict(TASK_DEFINITION, containerDefinitions=[dict(CONTAINER, image=f"{REPOSITORY}:terraform")]))  # 3
    assert running_image(ecs, CLUSTER, SERVICE) == f"{REPOSITORY}:abc123"
    assert current_image(ecs, CLUSTER, SERVICE) == f"{REPOSITORY}:terraform"
    rollback(ecs, CLUSTER, SERVICE, to_revision=1)
    assert running_image(ecs, CLUSTER, SERVICE, container="api") == f"{REPOSITORY}:latest"
    with pytest.raises(DeployError, match="has no container 'web'; it has: api"):
        running_image(ecs, CLUSTER, SERVICE, container="web")


# -- rollback -------------------------------------------------------------------------
def test_rollback_goes_to_the_previous_revision(ecs):
    deploy_image(ecs, CLUSTER, SERVICE, f"{REPOSITORY}:abc123")  # 2
    deploy_image(ecs, CLUSTER, SERVICE, f"{REPOSITORY}:def456")  # 3

    arn = rollback(ecs, CLUSTER, SERVICE)

    assert parse_task_definition(arn) == (FAMILY, 2)
    assert _running(ecs) == (FAMILY, 2)
    assert _describe(ecs, arn)["taskDefinition"]["containerDefinitions"][0]["image"] == f"{REPOSITORY}:abc123"
    assert parse_task_definition(rollback(ecs, CLUSTER, SERVICE)) == (FAMILY, 1)


def test_rollback_skips_revisions_terraform_registered_but_nobody_deployed(ecs):
    deploy_image(ecs, CLUSTER, SERVICE, f"{REPOSITORY}:abc123")  # 2, deployed
    ecs.register_task_definition(**dict(TASK_DEFINITION, memory="2048"))  # 3: Terraform, image :latest, never ran
    deploy_image(ecs, CLUSTER, SERVICE, f"{REPOSITORY}:def456")  # 4, from 3

    arn = rollback(ecs, CLUSTER, SERVICE)

    assert parse_task_definition(arn) == (FAMILY, 2)
    assert _describe(ecs, arn)["taskDefinition"]["containerDefinitions"][0]["image"] == f"{REPOSITORY}:abc123"
    # An explicit revision is taken as given.
    assert parse_task_definition(rollback(ecs, CLUSTER, SERVICE, to_revision=3)) == (FAMILY, 3)


def test_rollback_skips_inactive_revisions(ecs):
    for tag in ("a1", "b2", "c3"):
        deploy_image(ecs, CLUSTER, SERVICE, f"{REPOSITORY}:{tag}")  # 2, 3, 4
    ecs.deregister_task_definition(taskDefinition=f"{FAMILY}:3")

    assert parse_task_definition(rollback(ecs, CLUSTER, SERVICE)) == (FAMILY, 2)


def test_rollback_to_a_given_revision(ecs):
    for tag in ("a1", "b2", "c3"):
        deploy_image(ecs, CLUSTER, SERVICE, f"{REPOSITORY}:{tag}")  # 2, 3, 4

    assert parse_task_definition(rollback(ecs, CLUSTER, SERVICE, to_revision=2)) == (FAMILY, 2)
    # Forward again to a later revision works the same way.
    assert parse_task_definition(rollback(ecs, CLUSTER, SERVICE, to_revision=4)) == (FAMILY, 4)


def test_rollback_of_a_family_with_one_revision_says_so(ecs):
    with pytest.raises(
        DeployError,
        match=r"runs circle-of-trust-api:1 and the family has no earlier ACTIVE revision to roll back to",
    ):
        rollback(ecs, CLUSTER, SERVICE)


@pytest.mark.parametrize(
    ("revision", "message"),
    [
        (0, "revision must be 1 or more, but 0 was provided"),
        (2, "already runs circle-of-trust-api:2"),
        (9, r"circle-of-trust-api:9 is not an ACTIVE revision \(ACTIVE: 1, 2\)"),
    ],
)
def test_rollback_to_a_bad_revision_says_why(ecs, revision, message):
    deploy_image(ecs, CLUSTER, SERVICE, f"{REPOSITORY}:abc123")
    with pytest.raises(DeployError, match=message):
        rollback(ecs, CLUSTER, SERVICE, to_revision=revision)


def test_rollback_to_an_inactive_revision_is_refused(ecs):
    deploy_image(ecs, CLUSTER, SERVICE, f"{REPOSITORY}:abc123")
    ecs.deregister_task_definition(taskDefinition=f"{FAMILY}:1")
    with pytest.raises(DeployError, match="ECS cannot move a service onto a missing or INACTIVE revision"):
        rollback(ecs, CLUSTER, SERVICE, to_revision=1)


def test_rollback_of_an_unknown_service_says_so(ecs):
    with pytest.raises(DeployError, match=r"service 'worker-service' not found in cluster 'circle-of-trust-api'"):
        rollback(ecs, CLUSTER, "worker-service")


# -- waiting: --wait follows the deployment the command started ------------------------------
# moto's UpdateService starts no deployment (its one deployment keeps the revision the
# service was created with, IN_PROGRESS, forever), so these tests script the deployments
# ECS reports, and nothing else: each DescribeServices answers with the next state of a
# sequence ECS produces, the last state repeating. The sequences (AWS: Deployment
# rolloutState "begins in an IN_PROGRESS state. When the service reaches a steady state,
# the deployment transitions to a COMPLETED state. If the service fails to reach a steady
# state and circuit breaker is turned on, the deployment transitions to a FAILED state";
# DeploymentCircuitBreaker rollback: "the service is rolled back to the last deployment
# that completed successfully", which ECS does with a NEW deployment of that revision;
# the reason ECS gives is "ECS deployment circuit breaker: tasks failed to start.", as quoted in
# aws/containers-roadmap#1488; aws-actions/amazon-ecs-deploy-task-definition#191 and #860):
#
#   UpdateService            PRIMARY new IN_PROGRESS, ACTIVE old COMPLETED
#   success                  PRIMARY new COMPLETED (the old deployment drained and is gone)
#   circuit breaker trips    PRIMARY rollback (old revision, new ID) IN_PROGRESS, ACTIVE new FAILED;
#                            the service's taskDefinition is the old revision again
#   rollback over            PRIMARY rollback COMPLETED; the failed deployment is gone
CIRCUIT_BREAKER_REASON = "ECS deployment circuit breaker: tasks failed to start."
NEW_ID, OLD_ID, ROLLBACK_ID, LATER_ID = "ecs-svc/1111111111111111111", "ecs-svc/2222222222222222222", "ecs-svc/3333333333333333333", "ecs-svc/4444444444444444444"


def _deployment(deployment_id: str, arn: str, status: str, rollout: str, reason: str | None = None, running: int = 0) -> dict:
    if reason is None:
        reason = f"ECS deployment {deployment_id} {'completed' if rollout == 'COMPLETED' else 'in progress'}."
    return {
        "id": deployment_id, "status": status, "taskDefinition": arn, "desiredCount": 2, "runningCount": running,
        "pendingCount": 0, "failedTasks": 3 if rollout == "FAILED" else 0, "rolloutState": rollout, "rolloutStateReason": reason,
    }


def started(old: str, new: str) -> tuple[str, list[dict]]:
    return new, [_deployment(NEW_ID, new, "PRIMARY", "IN_PROGRESS"), _deployment(OLD_ID, old, "ACTIVE", "COMPLETED", running=2)]


def completed(old: str, new: str) -> tuple[str, list[dict]]:
    return new, [_deployment(NEW_ID, new, "PRIMARY", "COMPLETED", running=2)]


def tripped(old: str, new: str) -> tuple[str, list[dict]]:
    return old, [
        _deployment(ROLLBACK_ID, old, "PRIMARY", "IN_PROGRESS", running=2),
        _deployment(NEW_ID, new, "ACTIVE", "FAILED", CIRCUIT_BREAKER_REASON),
    ]


ALARM_REASON = "ECS deployment failed: deployment alarm(s) in ALARM state: cot-worker-release-dlq-growth."


def alarm_tripped(old: str, new: str) -> tuple[str, list[dict]]:
    return old, [
        _deployment(ROLLBACK_ID, old, "PRIMARY", "IN_PROGRESS", running=2),
        _deployment(NEW_ID, new, "ACTIVE", "FAILED", ALARM_REASON, running=2),
    ]


def breaker_rolling_back(old: str, new: str) -> tuple[str, list[dict]]:
    """What ECS shows once the failed deployment is gone but the rollback still runs (its reason names the breaker)."""
    return old, [_deployment(ROLLBACK_ID, old, "PRIMARY", "IN_PROGRESS", f"ECS deployment circuit breaker: rolling back to deploymentId {OLD_ID}.", running=1)]


def rolled_back(old: str, new: str) -> tuple[str, list[dict]]:
    return old, [_deployment(ROLLBACK_ID, old, "PRIMARY", "COMPLETED", running=2)]


class RollingEcs:
    """The moto client, with the deployments of one UpdateService scripted (see above)."""

    def __init__(self, client, *states):
        self.client, self.states, self.polls = client, states, 0
        self.old = self.new = ""

    def __getattr__(self, name):
        return getattr(self.client, name)

    def update_service(self, **kwargs):
        self.old = self.client.describe_services(cluster=kwargs["cluster"], services=[kwargs["service"]])["services"][0]["taskDefinition"]
        self.new = kwargs["taskDefinition"]
        response = self.client.update_service(**kwargs)
        response["service"]["taskDefinition"], response["service"]["deployments"] = started(self.old, self.new)
        return response

    def describe_services(self, **kwargs):
        response = self.client.describe_services(**kwargs)
        if self.new:
            state = self.states[min(self.polls, len(self.states) - 1)]
            self.polls += 1
            response["services"][0]["taskDefinition"], response["services"][0]["deployments"] = state(self.old, self.new)
        return response


def _waiting(slept: list | None = None, timeout: float = 60.0) -> ecs_deploy.Waiting:
    return ecs_deploy.Waiting(poll_seconds=5, timeout_seconds=timeout, sleep=(slept if slept is not None else []).append)


def test_wait_returns_when_its_deployment_completed(ecs):
    slept: list = []
    rolling = RollingEcs(ecs, started, started, completed)

    arn = deploy_image(rolling, CLUSTER, SERVICE, f"{REPOSITORY}:abc123", wait=_waiting(slept))

    assert parse_task_definition(arn) == (FAMILY, 2)
    assert rolling.polls == 3 and slept == [5, 5]


def test_wait_fails_after_a_circuit_breaker_rollback_it_only_sees_the_end_of(ecs):
    """Issue 12: once the rollback is over the service is stable, on the old revision, with no FAILED deployment left."""
    rolling = RollingEcs(ecs, started, rolled_back)

    with pytest.raises(DeployError) as failure:
        deploy_image(rolling, CLUSTER, SERVICE, f"{REPOSITORY}:abc123", wait=_waiting())

    message = str(failure.value)
    assert message.startswith(f"deployment {NEW_ID} of {FAMILY}:2 is gone from service 'api-service', which now runs {FAMILY}:1")
    assert "the deployment circuit breaker rolled it back" in message


def test_wait_fails_when_it_sees_its_deployment_failed(ecs):
    rolling = RollingEcs(ecs, started, tripped, rolled_back)

    with pytest.raises(DeployError, match=rf"deployment {NEW_ID} of {FAMILY}:2 failed \({CIRCUIT_BREAKER_REASON}\); service 'api-service' now runs {FAMILY}:1"):
        deploy_image(rolling, CLUSTER, SERVICE, f"{REPOSITORY}:abc123", wait=_waiting())
    assert rolling.polls == 2, "it stops at the first FAILED state"


def test_wait_names_the_circuit_breaker_or_the_alarms_as_what_failed_the_deployment(ecs):
    with pytest.raises(DeployError) as breaker:
        deploy_image(RollingEcs(ecs, started, tripped), CLUSTER, SERVICE, f"{REPOSITORY}:abc123", wait=_waiting())
    assert str(breaker.value).endswith("rolls back to; failed by the deployment circuit breaker"), str(breaker.value)

    with pytest.raises(DeployError) as alarm:
        deploy_image(RollingEcs(ecs, started, alarm_tripped), CLUSTER, SERVICE, f"{REPOSITORY}:def456", wait=_waiting())
    message = str(alarm.value)
    assert message.startswith(f"deployment {NEW_ID} of {FAMILY}:3 failed ({ALARM_REASON}); service 'api-service' now runs {FAMILY}:2"), message
    assert message.endswith("; failed by a deployment alarm (the service's release gate)"), message


def test_wait_names_the_circuit_breaker_when_only_the_rollback_deployment_is_left(ecs):
    with pytest.raises(DeployError) as failure:
        deploy_image(RollingEcs(ecs, started, breaker_rolling_back), CLUSTER, SERVICE, f"{REPOSITORY}:abc123", wait=_waiting())
    message = str(failure.value)
    assert message.startswith(f"deployment {NEW_ID} of {FAMILY}:2 is gone from service 'api-service', which now runs {FAMILY}:1"), message
    assert message.endswith("); the deployment circuit breaker rolled it back"), message


@pytest.mark.parametrize(
    ("reason", "cause"),
    [
        ("ECS deployment circuit breaker: tasks failed to start.", "the deployment circuit breaker"),
        ("ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1.", "the deployment circuit breaker"),
        (ALARM_REASON, "a deployment alarm (the service's release gate)"),
        ("ECS deployment ecs-svc/1 completed.", None),
        (None, None),
    ],
)
def test_failure_cause_reads_the_rollout_state_reason(reason, cause):
    assert ecs_deploy.failure_cause(reason) == cause


def test_wait_fails_when_a_later_deployment_replaced_its_own(ecs):
    def replaced(old: str, new: str) -> tuple[str, list[dict]]:
        later = f"{new[:-1]}9"
        return later, [_deployment(LATER_ID, later, "PRIMARY", "IN_PROGRESS"), _deployment(NEW_ID, new, "ACTIVE", "IN_PROGRESS", running=1)]

    with pytest.raises(DeployError, match=rf"deployment {NEW_ID} of {FAMILY}:2 is no longer the PRIMARY one; .* now deploys {FAMILY}:9"):
        deploy_image(RollingEcs(ecs, started, replaced), CLUSTER, SERVICE, f"{REPOSITORY}:abc123", wait=_waiting())


def test_wait_gives_up_after_its_timeout_and_says_where_the_deployment_is(ecs):
    clock = iter(range(0, 1000, 10))
    wait = ecs_deploy.Waiting(poll_seconds=10, timeout_seconds=30, sleep=lambda seconds: None, clock=lambda: next(clock))

    with pytest.raises(DeployError, match=rf"deployment {NEW_ID} of {FAMILY}:2 did not complete within 30 s \(IN_PROGRESS: .*0 of 2 tasks running\)"):
        deploy_image(RollingEcs(ecs, started), CLUSTER, SERVICE, f"{REPOSITORY}:abc123", wait=wait)


def test_wait_follows_the_deployment_of_its_revision_not_whatever_is_primary(ecs):
    """The ID comes from UpdateService's PRIMARY deployment of the new revision; another revision's PRIMARY is not ours."""
    old, new = f"{FAMILY}:1", f"{FAMILY}:2"
    assert ecs_deploy.own_deployment_id({"deployments": started(old, new)[1]}, new) == NEW_ID
    assert ecs_deploy.own_deployment_id({"deployments": tripped(old, new)[1]}, new) is None


def test_wait_without_a_deployment_of_the_revision_says_so(ecs):
    """moto itself starts no deployment on UpdateService: nothing to follow is an error, not a success."""
    with pytest.raises(DeployError, match="started no PRIMARY deployment of it, so there is nothing to wait for"):
        deploy_image(ecs, CLUSTER, SERVICE, f"{REPOSITORY}:abc123", wait=_waiting())


def test_rollback_waits_the_same_way(ecs):
    deploy_image(ecs, CLUSTER, SERVICE, f"{REPOSITORY}:abc123")  # 2, running
    assert parse_task_definition(rollback(RollingEcs(ecs, started, completed), CLUSTER, SERVICE, wait=_waiting())) == (FAMILY, 1)

    deploy_image(ecs, CLUSTER, SERVICE, f"{REPOSITORY}:def456")  # 3, running
    with pytest.raises(DeployError, match=rf"of {FAMILY}:2 failed \({CIRCUIT_BREAKER_REASON}\); service 'api-service' now runs {FAMILY}:3"):
        rollback(RollingEcs(ecs, started, tripped), CLUSTER, SERVICE, to_revision=2, wait=_waiting())


# -- the CLI ----------------------------------------------------------------------------------------
def test_cli_deploy_then_rollback_prints_the_arn(ecs, capsys):
    assert ecs_deploy.main(["deploy", "--cluster", CLUSTER, "--service", SERVICE, "--image", f"{REPOSITORY}:abc123"], ecs_client=ecs) == 0
    assert parse_task_definition(capsys.readouterr().out.strip()) == (FAMILY, 2)

    assert ecs_deploy.main(["rollback", "--cluster", CLUSTER, "--service", SERVICE], ecs_client=ecs) == 0
    assert parse_task_definition(capsys.readouterr().out.strip()) == (FAMILY, 1)

    slept: list = []
    rolling = RollingEcs(ecs, started, completed)
    argv = ["rollback", "--cluster", CLUSTER, "--service", SERVICE, "--revision", "2", "--wait", "--poll-seconds", "7"]
    assert ecs_deploy.main(argv, ecs_client=rolling, sleep=slept.append) == 0
    assert parse_task_definition(capsys.readouterr().out.strip()) == (FAMILY, 2)
    assert slept == [7]


def test_cli_deploy_wait_exits_1_naming_the_revision_that_runs_after_a_rollback(ecs, capsys):
    argv = ["deploy", "--cluster", CLUSTER, "--service", SERVICE, "--image", f"{REPOSITORY}:abc123", "--wait"]

    assert ecs_deploy.main(argv, ecs_client=RollingEcs(ecs, started, rolled_back), sleep=lambda seconds: None) == 1

    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"error: deployment {NEW_ID} of {FAMILY}:2 is gone from service 'api-service', which now runs {FAMILY}:1")


def test_cli_builds_its_own_client(ecs, capsys):
    assert ecs_deploy.main(["deploy", "--cluster", CLUSTER, "--service", SERVICE, "--image", f"{REPOSITORY}:abc123", "--region", REGION]) == 0
    assert capsys.readouterr().out.strip().endswith(f"task-definition/{FAMILY}:2")


def test_cli_reports_errors_on_stderr_with_status_1(ecs, capsys):
    assert ecs_deploy.main(["rollback", "--cluster", CLUSTER, "--service", SERVICE], ecs_client=ecs) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: service 'api-service' runs circle-of-trust-api:1")


def test_cli_requires_an_image_for_deploy(capsys):
    with pytest.raises(SystemExit) as exit_info:
        ecs_deploy.parse_args(["deploy", "--cluster", CLUSTER, "--service", SERVICE])
    assert exit_info.value.code == 2
    assert "--image" in capsys.readouterr().err


def test_parse_task_definition_rejects_a_bare_family():
    with pytest.raises(DeployError, match="not a task definition revision: 'circle-of-trust-api'"):
        parse_task_definition("circle-of-trust-api")


def test_module_runs_as_a_script():
    """`python -m tools.ecs_deploy --help` works (what the workflows call)."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "tools.ecs_deploy", "--help"],
        capture_output=True,
        text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "deploy" in result.stdout and "rollback" in result.stdout


# -- hardened revisions (issue 18): what a deploy must carry over -------------------------------
HARDENED_CONTAINER = {
    **CONTAINER,
    "readonlyRootFilesystem": True,
    "mountPoints": [
        {"sourceVolume": "writable-tmp", "containerPath": "/tmp", "readOnly": False},
        {"sourceVolume": "writable-var-cache-app", "containerPath": "/var/cache/app", "readOnly": False},
    ],
    "logConfiguration": {
        "logDriver": "awslogs",
        "options": {**CONTAINER["logConfiguration"]["options"], "mode": "non-blocking", "max-buffer-size": "25m"},
    },
}
HARDENED_VOLUMES = [{"name": "writable-tmp"}, {"name": "writable-var-cache-app"}]


class RecordingEcs:
    """Passes every call to moto, and keeps the RegisterTaskDefinition requests (what ECS is asked for, whatever moto keeps)."""

    def __init__(self, client):
        self.client, self.registered = client, []

    def register_task_definition(self, **request):
        self.registered.append(request)
        return self.client.register_task_definition(**request)

    def __getattr__(self, name):
        return getattr(self.client, name)


def test_deploy_keeps_the_read_only_root_filesystem_its_volumes_and_non_blocking_logs(ecs):
    # Terraform registers a hardened revision (constructs_lib/service.py); the next deploy starts from it.
    hardened = ecs.register_task_definition(**{**TASK_DEFINITION, "containerDefinitions": [HARDENED_CONTAINER], "volumes": HARDENED_VOLUMES})
    recording = RecordingEcs(ecs)

    arn = deploy_image(recording, CLUSTER, SERVICE, f"{REPOSITORY}:abc123")

    (request,) = recording.registered
    (container,) = request["containerDefinitions"]
    assert container["image"] == f"{REPOSITORY}:abc123"
    assert container["readonlyRootFilesystem"] is True
    assert container["mountPoints"] == HARDENED_CONTAINER["mountPoints"]
    assert container["logConfiguration"]["options"]["mode"] == "non-blocking"
    assert container["logConfiguration"]["options"]["max-buffer-size"] == "25m"
    assert request["volumes"] == HARDENED_VOLUMES
    # And the revision ECS holds now says the same.
    new = _describe(ecs, arn)["taskDefinition"]
    assert parse_task_definition(arn) == (FAMILY, parse_task_definition(hardened["taskDefinition"]["taskDefinitionArn"])[1] + 1)
    (kept,) = new["containerDefinitions"]
    assert (kept["readonlyRootFilesystem"], kept["mountPoints"]) == (True, HARDENED_CONTAINER["mountPoints"])
    assert [volume["name"] for volume in new["volumes"]] == ["writable-tmp", "writable-var-cache-app"]


def test_volumes_are_among_the_fields_a_deploy_copies():
    assert "volumes" in ecs_deploy.REGISTER_FIELDS and "containerDefinitions" in ecs_deploy.REGISTER_FIELDS
