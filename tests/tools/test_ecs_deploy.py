"""tools/ecs_deploy.py against moto's ECS, in process."""

from __future__ import annotations

import os

import boto3
import pytest
from moto import mock_aws

from tools import ecs_deploy
from tools.ecs_deploy import DeployError, current_image, deploy_image, parse_task_definition, rollback, wait_stable

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


@pytest.mark.parametrize("image", ["", "abc123", f"{REPOSITORY}", f"{REPOSITORY}:", f"{REPOSITORY}:-bad", f"{REPOSITORY}@sha256:xyz"])
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


# -- waiting and the CLI ----------------------------------------------------------------
def _make_stable(client) -> None:
    """moto places no tasks; setting the desired count marks them all running."""
    client.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=2)


def test_wait_stable_returns_for_a_stable_service(ecs):
    _make_stable(ecs)
    wait_stable(ecs, CLUSTER, SERVICE, delay_seconds=1, max_attempts=2)


def test_wait_stable_says_when_the_service_does_not_settle(ecs):
    with pytest.raises(DeployError, match="service 'api-service' in cluster 'circle-of-trust-api' did not become stable"):
        wait_stable(ecs, CLUSTER, SERVICE, delay_seconds=1, max_attempts=1)


def test_wait_stable_reports_a_deployment_the_circuit_breaker_failed(ecs):
    class FailedRollout:
        """The moto client, but its deployment failed (moto never fails one)."""

        def __getattr__(self, name):
            return getattr(ecs, name)

        def get_waiter(self, name):
            class Stable:
                def wait(self, **kwargs):
                    return None

            return Stable()

        def describe_services(self, **kwargs):
            response = ecs.describe_services(**kwargs)
            response["services"][0]["deployments"][0].update(rolloutState="FAILED", rolloutStateReason="tasks failed to start")
            return response

    with pytest.raises(DeployError, match="deployment of service 'api-service' failed: tasks failed to start"):
        wait_stable(FailedRollout(), CLUSTER, SERVICE)


def test_cli_deploy_then_rollback_prints_the_arn(ecs, capsys):
    _make_stable(ecs)
    assert ecs_deploy.main(["deploy", "--cluster", CLUSTER, "--service", SERVICE, "--image", f"{REPOSITORY}:abc123"], ecs_client=ecs) == 0
    assert parse_task_definition(capsys.readouterr().out.strip()) == (FAMILY, 2)

    assert ecs_deploy.main(["rollback", "--cluster", CLUSTER, "--service", SERVICE], ecs_client=ecs) == 0
    assert parse_task_definition(capsys.readouterr().out.strip()) == (FAMILY, 1)

    assert ecs_deploy.main(["rollback", "--cluster", CLUSTER, "--service", SERVICE, "--revision", "2", "--wait"], ecs_client=ecs) == 0
    assert parse_task_definition(capsys.readouterr().out.strip()) == (FAMILY, 2)


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
