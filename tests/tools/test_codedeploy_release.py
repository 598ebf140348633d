"""tools/ecs_deploy.py with a CODE_DEPLOY service (tools/codedeploy_release.py): moto's ECS for the task definitions, and
the fakes of tests/tools/codedeploy_fake.py, which answer as /tmp/canary_contract.md says CodeDeploy and ECS do."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from tests.tools.codedeploy_fake import (
    ALARM_MESSAGE,
    APPLICATION,
    GROUP,
    HEALTH_MESSAGES,
    ROLLBACK,
    CodeDeployEcs,
    FakeCodeDeploy,
    World,
)
from tools import codedeploy_release, ecs_deploy
from tools.codedeploy_release import CodeDeployTarget
from tools.ecs_deploy import DeployError, deploy_image, parse_task_definition, rollback

REGION = "us-east-1"
CLUSTER = "cot-staging-api"
SERVICE = "api-service"
FAMILY = "cot-staging-api"
REPOSITORY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/cot-staging-api"
CONTAINER = {
    "name": "api",
    "image": f"{REPOSITORY}:latest",
    "essential": True,
    "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
}
TASK_DEFINITION = {
    "family": FAMILY,
    "executionRoleArn": "arn:aws:iam::123456789012:role/cot-staging-ecs-execution",
    "networkMode": "awsvpc",
    "requiresCompatibilities": ["FARGATE"],
    "cpu": "512",
    "memory": "1024",
    "containerDefinitions": [CONTAINER],
}
FLAGS = ["--codedeploy-application", APPLICATION, "--codedeploy-group", GROUP]


@pytest.fixture(autouse=True)
def _credentials(monkeypatch):
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_DEFAULT_REGION", REGION), ("AWS_REGION", REGION)):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


class Setup:
    """moto's ECS with the API service on revision 1, CODE_DEPLOY-controlled, and the shared World."""

    def __init__(self, client):
        self.moto = client
        self.first = client.register_task_definition(**TASK_DEFINITION)["taskDefinition"]["taskDefinitionArn"]
        client.create_cluster(clusterName=CLUSTER)
        client.create_service(
            cluster=CLUSTER, serviceName=SERVICE, taskDefinition=self.first, desiredCount=2, deploymentController={"type": "CODE_DEPLOY"}
        )
        self.world = World(CLUSTER, SERVICE, self.first)
        self.ecs = CodeDeployEcs(client, self.world)

    def codedeploy(self, *scenarios: str, **options) -> FakeCodeDeploy:
        return FakeCodeDeploy(self.world, *scenarios, **options)

    def revisions(self) -> list[int]:
        return sorted(parse_task_definition(arn)[1] for arn in self.moto.list_task_definitions(familyPrefix=FAMILY)["taskDefinitionArns"])


@pytest.fixture
def api():
    with mock_aws():
        yield Setup(boto3.client("ecs", region_name=REGION))


def _waiting(slept: list | None = None, timeout: float = 600.0) -> ecs_deploy.Waiting:
    return ecs_deploy.Waiting(poll_seconds=5, timeout_seconds=timeout, sleep=(slept if slept is not None else []).append)


def _app_spec(codedeploy: FakeCodeDeploy, index: int = -1) -> dict:
    create = codedeploy.named("create_deployment")[index]
    assert create["revision"]["revisionType"] == "AppSpecContent"
    return json.loads(create["revision"]["appSpecContent"]["content"])


def _target(codedeploy: FakeCodeDeploy) -> CodeDeployTarget:
    return CodeDeployTarget(codedeploy, APPLICATION, GROUP)


# -- deploy ---------------------------------------------------------------------------------------
def test_a_good_release_exits_0_with_an_appspec_naming_the_revision_the_container_and_its_port(api, capsys):
    codedeploy = api.codedeploy("release", wait_minutes=30)
    slept: list = []
    argv = ["deploy", "--cluster", CLUSTER, "--service", SERVICE, "--image", f"{REPOSITORY}:abc123", "--wait", "--poll-seconds", "3", *FLAGS]

    assert ecs_deploy.main(argv, ecs_client=api.ecs, sleep=slept.append, codedeploy_client=codedeploy) == 0

    out, err = capsys.readouterr()
    arn = out.strip()
    assert parse_task_definition(arn) == (FAMILY, 2)
    assert _app_spec(codedeploy) == {
        "version": 0.0,
        "Resources": [
            {
                "TargetService": {
                    "Type": "AWS::ECS::Service",
                    "Properties": {"TaskDefinition": arn, "LoadBalancerInfo": {"ContainerName": "api", "ContainerPort": 8080}},
                }
            }
        ],
    }
    (create,) = codedeploy.named("create_deployment")
    assert (create["applicationName"], create["deploymentGroupName"]) == (APPLICATION, GROUP)
    # The new revision is a deploy's: the image replaced, tagged, as on the rolling path.
    described = api.moto.describe_task_definition(taskDefinition=arn, include=["TAGS"])
    assert described["taskDefinition"]["containerDefinitions"][0]["image"] == f"{REPOSITORY}:abc123"
    assert ecs_deploy.DEPLOY_TAG in described["tags"]
    # It stopped following at the termination wait: traffic all on the replacement, the deployment still InProgress.
    deployment_id = codedeploy.named("get_deployment")[0]["deploymentId"]
    assert codedeploy.deployments[deployment_id].info["status"] == "InProgress"
    assert api.world.serving == arn
    assert slept == [3]
    assert f"all traffic is on {FAMILY}:2" in err
    assert "kept for 30 minutes (the deployment group's termination wait)" in err and "rollback` shifts traffic back" in err


def test_a_release_that_succeeds_outright_exits_0(api):
    """W = 0: no termination wait, the deployment is Succeeded when traffic has moved."""
    codedeploy = api.codedeploy(wait_minutes=0)
    arn = deploy_image(api.ecs, CLUSTER, SERVICE, f"{REPOSITORY}:abc123", wait=_waiting(), release=_target(codedeploy))
    (deployment,) = codedeploy.deployments.values()
    assert deployment.info["status"] == "Succeeded"
    assert api.world.serving == arn and [item.task_definition for item in api.world.task_sets] == [arn]


def test_without_wait_it_returns_after_create_deployment(api):
    codedeploy = api.codedeploy()
    arn = deploy_image(api.ecs, CLUSTER, SERVICE, f"{REPOSITORY}:abc123", release=_target(codedeploy))
    assert [name for name, _ in codedeploy.calls] == ["create_deployment"]
    assert _app_spec(codedeploy)["Resources"][0]["TargetService"]["Properties"]["TaskDefinition"] == arn


def test_an_alarm_rollback_exits_1_naming_alarm_active_the_rollback_deployment_and_the_old_revision(api, capsys):
    codedeploy = api.codedeploy("alarm", alarm_at=2)
    argv = ["deploy", "--cluster", CLUSTER, "--service", SERVICE, "--image", f"{REPOSITORY}:abc123", "--wait", *FLAGS]

    assert ecs_deploy.main(argv, ecs_client=api.ecs, sleep=lambda seconds: None, codedeploy_client=codedeploy) == 1

    out, err = capsys.readouterr()
    assert out == ""
    release, rolled_back = codedeploy.deployments.values()
    assert rolled_back.info["creator"] == ROLLBACK and rolled_back.info["status"] == "Succeeded"
    started, error = err.splitlines()
    assert started == f"CodeDeploy deployment {release.info['deploymentId']} of {FAMILY}:2 to service 'api-service' started"
    assert error.startswith(
        f"error: CodeDeploy deployment {release.info['deploymentId']} of {FAMILY}:2 Stopped: a release alarm (ALARM_ACTIVE: {ALARM_MESSAGE})"
    ), err
    assert error.endswith(f"; rollback deployment {rolled_back.info['deploymentId']} Succeeded; service 'api-service' now serves {FAMILY}:1")


def test_an_alarm_during_the_termination_wait_reports_the_revision_served_after_the_rollback(api):
    """The replacement is PRIMARY when the alarm fires; the error names what serves once the rollback is over, not before."""
    codedeploy = api.codedeploy("alarm", alarm_at=5, wait_minutes=30)
    target = _target(codedeploy)
    arn = deploy_image(api.ecs, CLUSTER, SERVICE, f"{REPOSITORY}:abc123", release=target)
    deployment_id = codedeploy.named("create_deployment") and next(iter(codedeploy.deployments))
    for _ in range(3):
        codedeploy.get_deployment(deploymentId=deployment_id)  # traffic shifted: the replacement serves
    assert api.world.serving == arn

    with pytest.raises(DeployError) as failure:
        codedeploy_release.wait_for_release(api.ecs, CLUSTER, SERVICE, target, deployment_id, arn, _waiting())

    assert "ALARM_ACTIVE" in str(failure.value) and str(failure.value).endswith(f"now serves {FAMILY}:1")


@pytest.mark.parametrize("code", ["HEALTH_CONSTRAINTS", "ECS_UPDATE_ERROR"])
def test_a_health_failure_exits_1_naming_it(api, capsys, code):
    codedeploy = api.codedeploy("health", health_code=code)
    argv = ["deploy", "--cluster", CLUSTER, "--service", SERVICE, "--image", f"{REPOSITORY}:abc123", "--wait", *FLAGS]

    assert ecs_deploy.main(argv, ecs_client=api.ecs, sleep=lambda seconds: None, codedeploy_client=codedeploy) == 1

    err = capsys.readouterr().err
    release, rolled_back = codedeploy.deployments.values()
    assert f"{release.info['deploymentId']} of {FAMILY}:2 Failed: the new tasks failed health checks or did not start ({code}: {HEALTH_MESSAGES[code]})" in err
    assert f"rollback deployment {rolled_back.info['deploymentId']} Succeeded; service 'api-service' now serves {FAMILY}:1" in err


def test_a_group_with_a_deployment_in_progress_refuses_clearly(api):
    codedeploy = api.codedeploy("hang")
    deploy_image(api.ecs, CLUSTER, SERVICE, f"{REPOSITORY}:abc123", release=_target(codedeploy))
    (busy,) = codedeploy.deployments

    with pytest.raises(DeployError) as refused:
        deploy_image(api.ecs, CLUSTER, SERVICE, f"{REPOSITORY}:def456", release=_target(codedeploy))

    message = str(refused.value)
    assert message.startswith(
        f"CodeDeploy refused to deploy {FAMILY}:3 to deployment group '{GROUP}' of application '{APPLICATION}' (DeploymentLimitExceededException): "
        f"the group already has a deployment in progress ({busy})"
    ), message
    assert "python -m tools.ecs_deploy rollback" in message


def test_missing_codedeploy_flags_are_a_clear_error_before_anything_is_registered(api, capsys):
    argv = ["deploy", "--cluster", CLUSTER, "--service", SERVICE, "--image", f"{REPOSITORY}:abc123", "--wait"]
    assert ecs_deploy.main(argv, ecs_client=api.ecs) == 1
    err = capsys.readouterr().err
    for words in ("CODE_DEPLOY", "--codedeploy-application", "--codedeploy-group", "api_codedeploy_application_name", "api_codedeploy_deployment_group_name"):
        assert words in err, words
    assert api.revisions() == [1]
    # One of the two is not enough either.
    assert ecs_deploy.main([*argv, "--codedeploy-application", APPLICATION], ecs_client=api.ecs, codedeploy_client=api.codedeploy()) == 1
    assert "--codedeploy-group" in capsys.readouterr().err
    with pytest.raises(DeployError, match="pass --codedeploy-application and --codedeploy-group"):
        rollback(api.ecs, CLUSTER, SERVICE)


def test_a_container_without_a_port_is_refused_before_anything_is_registered(api):
    api.moto.register_task_definition(**{**TASK_DEFINITION, "containerDefinitions": [{**CONTAINER, "portMappings": []}]})
    codedeploy = api.codedeploy()
    with pytest.raises(DeployError, match=r"container 'api' of .*:2 has no portMappings"):
        deploy_image(api.ecs, CLUSTER, SERVICE, f"{REPOSITORY}:abc123", release=_target(codedeploy))
    assert api.revisions() == [1, 2] and codedeploy.calls == []


def test_the_named_container_gives_the_port(api):
    sidecar = {"name": "otel", "image": "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0", "portMappings": [{"containerPort": 4317}]}
    api.moto.register_task_definition(**{**TASK_DEFINITION, "containerDefinitions": [CONTAINER, sidecar]})
    codedeploy = api.codedeploy()
    with pytest.raises(DeployError, match="name one with --container"):
        deploy_image(api.ecs, CLUSTER, SERVICE, f"{REPOSITORY}:abc123", release=_target(codedeploy))
    deploy_image(api.ecs, CLUSTER, SERVICE, f"{REPOSITORY}:abc123", container="api", release=_target(codedeploy))
    assert _app_spec(codedeploy)["Resources"][0]["TargetService"]["Properties"]["LoadBalancerInfo"] == {"ContainerName": "api", "ContainerPort": 8080}


def test_wait_gives_up_after_its_timeout_and_says_where_the_deployment_is(api):
    codedeploy = api.codedeploy("hang")
    clock = iter(range(0, 1000, 10))
    wait = ecs_deploy.Waiting(poll_seconds=10, timeout_seconds=30, sleep=lambda seconds: None, clock=lambda: next(clock))

    with pytest.raises(DeployError) as timeout:
        deploy_image(api.ecs, CLUSTER, SERVICE, f"{REPOSITORY}:abc123", wait=wait, release=_target(codedeploy))

    (deployment_id,) = codedeploy.deployments
    assert str(timeout.value) == (
        f"CodeDeploy deployment {deployment_id} of {FAMILY}:2 did not complete within 30 s "
        f"(InProgress; lifecycle event Install InProgress; traffic: Blue 100 %, Green 0 %); service 'api-service' serves {FAMILY}:1"
    )


def test_the_rolling_path_ignores_the_codedeploy_target(api):
    """A service with the ECS controller (the rolling strategy) is updated as before, whatever the flags say."""
    api.moto.create_service(cluster=CLUSTER, serviceName="worker-service", taskDefinition=api.first, desiredCount=1)
    codedeploy = api.codedeploy()
    arn = deploy_image(api.ecs, CLUSTER, "worker-service", f"{REPOSITORY}:abc123", release=_target(codedeploy))
    assert api.moto.describe_services(cluster=CLUSTER, services=["worker-service"])["services"][0]["taskDefinition"] == arn
    assert codedeploy.calls == []


def test_update_service_is_not_how_a_code_deploy_service_is_released(api):
    """What the fake ECS answers (as ECS does): the reason the CodeDeploy path exists."""
    with pytest.raises(Exception, match="Use AWS CodeDeploy to trigger a new deployment"):
        api.ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=api.first)


# -- rollback -------------------------------------------------------------------------------------
def test_rollback_in_the_termination_wait_stops_the_deployment_and_prints_the_old_revision(api, capsys):
    codedeploy = api.codedeploy("release", wait_minutes=30)
    deploy = ["deploy", "--cluster", CLUSTER, "--service", SERVICE, "--image", f"{REPOSITORY}:abc123", "--wait", *FLAGS]
    assert ecs_deploy.main(deploy, ecs_client=api.ecs, sleep=lambda seconds: None, codedeploy_client=codedeploy) == 0
    (release_id,) = codedeploy.deployments
    capsys.readouterr()

    argv = ["rollback", "--cluster", CLUSTER, "--service", SERVICE, *FLAGS]
    assert ecs_deploy.main(argv, ecs_client=api.ecs, sleep=lambda seconds: None, codedeploy_client=codedeploy) == 0

    out, err = capsys.readouterr()
    assert out.strip() == api.first
    assert codedeploy.named("stop_deployment") == [{"deploymentId": release_id, "autoRollbackEnabled": True}]
    assert codedeploy.named("list_deployments")[-1]["includeOnlyStatuses"] == ["Created", "Queued", "InProgress", "Baking", "Ready"]
    release, rolled_back = codedeploy.deployments.values()
    assert release.info["status"] == "Stopped" and release.info["errorInformation"]["code"] == "MANUAL_STOP"
    assert rolled_back.info["status"] == "Succeeded"
    assert len(codedeploy.named("create_deployment")) == 1, "traffic shifted back; no new deployment"
    assert f"{release_id} stopped with auto-rollback" in err


def test_rollback_with_nothing_in_progress_deploys_the_earlier_revision_chosen_as_the_rolling_path_does(api, capsys):
    codedeploy = api.codedeploy(wait_minutes=0)
    target = _target(codedeploy)
    second = deploy_image(api.ecs, CLUSTER, SERVICE, f"{REPOSITORY}:abc123", wait=_waiting(), release=target)  # 2, deployed
    api.moto.register_task_definition(**{**TASK_DEFINITION, "memory": "2048"})  # 3: Terraform's, never deployed
    deploy_image(api.ecs, CLUSTER, SERVICE, f"{REPOSITORY}:def456", wait=_waiting(), release=target)  # 4, from 3
    assert parse_task_definition(api.world.serving) == (FAMILY, 4)

    argv = ["rollback", "--cluster", CLUSTER, "--service", SERVICE, "--wait", *FLAGS]
    assert ecs_deploy.main(argv, ecs_client=api.ecs, sleep=lambda seconds: None, codedeploy_client=codedeploy) == 0

    assert capsys.readouterr().out.strip() == second
    assert codedeploy.named("stop_deployment") == []
    spec = _app_spec(codedeploy)["Resources"][0]["TargetService"]["Properties"]
    assert spec == {"TaskDefinition": second, "LoadBalancerInfo": {"ContainerName": "api", "ContainerPort": 8080}}
    assert api.world.serving == second
    # An explicit revision is taken as given, as on the rolling path.
    assert parse_task_definition(rollback(api.ecs, CLUSTER, SERVICE, to_revision=3, release=target)) == (FAMILY, 3)
    with pytest.raises(DeployError, match="is in progress, so --revision 1 cannot be deployed now"):
        rollback(api.ecs, CLUSTER, SERVICE, to_revision=1, release=target)


def test_rollback_of_a_first_release_says_there_is_nothing_earlier(api):
    with pytest.raises(DeployError, match=f"runs {FAMILY}:1 and the family has no earlier ACTIVE revision"):
        rollback(api.ecs, CLUSTER, SERVICE, release=_target(api.codedeploy()))


def test_rollback_during_a_rollback_follows_it(api):
    codedeploy = api.codedeploy("alarm", alarm_at=1)
    target = _target(codedeploy)
    deploy_image(api.ecs, CLUSTER, SERVICE, f"{REPOSITORY}:abc123", release=target)
    (release_id,) = codedeploy.deployments
    codedeploy.get_deployment(deploymentId=release_id)  # Stopped by the alarm; its rollback deployment is Created

    assert rollback(api.ecs, CLUSTER, SERVICE, release=target, follow=_waiting()) == api.first
    assert codedeploy.named("stop_deployment") == []


def test_the_codedeploy_path_is_importable_without_the_tools_package(tmp_path):
    """The updater Lambda imports both files as top-level modules: ecs_deploy first, as its handler does."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    for module in (ecs_deploy, codedeploy_release):
        shutil.copyfile(Path(module.__file__), tmp_path / Path(module.__file__).name)
    probe = "import ecs_deploy, codedeploy_release; assert codedeploy_release.ecs_deploy is ecs_deploy; print(ecs_deploy.codedeploy_release.CodeDeployTarget.__name__)"
    for order in (probe, probe.replace("import ecs_deploy, codedeploy_release", "import codedeploy_release, ecs_deploy")):
        result = subprocess.run([sys.executable, "-c", order], cwd=tmp_path, capture_output=True, text=True, check=False)
        assert (result.returncode, result.stdout.strip()) == (0, "CodeDeployTarget"), result.stderr


def test_python_m_uses_one_copy_of_the_module(tmp_path):
    """`python -m tools.ecs_deploy`: codedeploy_release's DeployError is the one main catches."""
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    code = (
        "import runpy, sys; sys.argv = ['x', '--help']\n"
        "try:\n    runpy.run_module('tools.ecs_deploy', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "import tools.codedeploy_release as c; assert c.ecs_deploy.__name__ == '__main__', c.ecs_deploy.__name__"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
