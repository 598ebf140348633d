"""The CodeDeploy ECS blue/green (canary) shims (tests/harness/moto_codedeploy.py), checked with boto3.

What the deploy tool and Terraform rely on (the canary release contract, issue
#20): the deployment group's round trip, the CODE_DEPLOY service's task sets,
and a deployment's steps (one per read) with the listener weights, the alarm
stop, the failed install, StopDeployment and the rollback deployment. It runs
its own moto server, so it never shares (or resets) a deployment of another
test; each test builds its own stack (prefix) on it.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError

from tests.harness.emulator import ClientFactory
from tests.harness.moto_server import FAIL_TO_START, MotoServer

pytestmark = [pytest.mark.terraform, pytest.mark.emulated]

REGION = "us-east-1"
BAKE_MINUTES = 5  # the canary's interval: the emulator holds the canary for as many reads
WAIT = 2  # termination_wait_time_in_minutes: reads of the deployment


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClientFactory]:
    with MotoServer(tmp_path_factory.mktemp("codedeploy-moto")) as server:
        yield ClientFactory(server.endpoint, REGION)


@pytest.fixture(scope="module")
def network(clients: ClientFactory) -> dict[str, Any]:
    ec2 = clients("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{zone}")["Subnet"]["SubnetId"]
        for i, zone in enumerate("ab")
    ]
    group = ec2.create_security_group(GroupName="api", Description="api", VpcId=vpc)["GroupId"]
    return {"vpc": vpc, "subnets": subnets, "security_group": group}


def image(tag: str) -> str:
    return f"123456789012.dkr.ecr.{REGION}.amazonaws.com/api:{tag}"


def register(clients: ClientFactory, family: str, tag: str) -> str:
    return clients("ecs").register_task_definition(
        family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{"name": "api", "image": image(tag), "portMappings": [{"containerPort": 8080}]}],
    )["taskDefinition"]["taskDefinitionArn"]


def make_stack(clients: ClientFactory, network: dict[str, Any], prefix: str, wait: int = WAIT) -> dict[str, Any]:
    """The canary layout: internal ALB, listener -> <prefix>-a, CODE_DEPLOY service, app, config, group, alarm."""
    elbv2, ecs, codedeploy = clients("elbv2"), clients("ecs"), clients("codedeploy")
    alb = elbv2.create_load_balancer(Name=prefix, Subnets=network["subnets"], SecurityGroups=[network["security_group"]],
                                     Scheme="internal", Type="application")["LoadBalancers"][0]["LoadBalancerArn"]
    tgs = {
        side: elbv2.create_target_group(Name=f"{prefix}-{side}", Protocol="HTTP", Port=8080, VpcId=network["vpc"],
                                        TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
        for side in "ab"
    }
    listener = elbv2.create_listener(LoadBalancerArn=alb, Protocol="HTTP", Port=80,
                                     DefaultActions=[{"Type": "forward", "TargetGroupArn": tgs["a"]}])["Listeners"][0]["ListenerArn"]
    ecs.create_cluster(clusterName=prefix)
    v1 = register(clients, f"{prefix}-api", "v1")
    service = ecs.create_service(
        cluster=prefix, serviceName=f"{prefix}-api", taskDefinition=v1, desiredCount=2, launchType="FARGATE",
        deploymentController={"type": "CODE_DEPLOY"},
        loadBalancers=[{"targetGroupArn": tgs["a"], "containerName": "api", "containerPort": 8080}],
        networkConfiguration={"awsvpcConfiguration": {"subnets": network["subnets"], "securityGroups": [network["security_group"]]}},
    )["service"]["serviceArn"]
    alarm = f"{prefix}-api-5xx"
    clients("cloudwatch").put_metric_alarm(
        AlarmName=alarm, MetricName="HTTPCode_Target_5XX_Count", Namespace="AWS/ApplicationELB", Statistic="Sum",
        Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    app = f"{prefix}-api"
    config = f"{prefix}-api-canary-10pct-5min"
    codedeploy.create_application(applicationName=app, computePlatform="ECS")
    codedeploy.create_deployment_config(
        deploymentConfigName=config, computePlatform="ECS",
        trafficRoutingConfig={"type": "TimeBasedCanary", "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": BAKE_MINUTES}},
    )
    group_spec = dict(
        applicationName=app, deploymentGroupName=app, deploymentConfigName=config,
        serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy",
        deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        blueGreenDeploymentConfiguration={
            "deploymentReadyOption": {"actionOnTimeout": "CONTINUE_DEPLOYMENT"},
            "terminateBlueInstancesOnDeploymentSuccess": {"action": "TERMINATE", "terminationWaitTimeInMinutes": wait},
        },
        autoRollbackConfiguration={"enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]},
        alarmConfiguration={"enabled": True, "ignorePollAlarmFailure": False, "alarms": [{"name": alarm}]},
        ecsServices=[{"serviceName": f"{prefix}-api", "clusterName": prefix}],
        loadBalancerInfo={"targetGroupPairInfoList": [{
            "targetGroups": [{"name": f"{prefix}-a"}, {"name": f"{prefix}-b"}],
            "prodTrafficRoute": {"listenerArns": [listener]},
        }]},
        tags=[{"Key": "project", "Value": prefix}],
    )
    codedeploy.create_deployment_group(**group_spec)
    return {"prefix": prefix, "app": app, "group": app, "config": config, "alarm": alarm, "listener": listener,
            "tgs": tgs, "service": service, "v1": v1, "group_spec": group_spec}


def deploy(clients: ClientFactory, stack: dict[str, Any], task_definition: str) -> str:
    content = {"version": 0.0, "Resources": [{"TargetService": {"Type": "AWS::ECS::Service", "Properties": {
        "TaskDefinition": task_definition, "LoadBalancerInfo": {"ContainerName": "api", "ContainerPort": 8080}}}}]}
    return clients("codedeploy").create_deployment(
        applicationName=stack["app"], deploymentGroupName=stack["group"],
        revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": json.dumps(content)}},
    )["deploymentId"]


def read(clients: ClientFactory, deployment_id: str) -> dict[str, Any]:
    return clients("codedeploy").get_deployment(deploymentId=deployment_id)["deploymentInfo"]


def target(clients: ClientFactory, stack: dict[str, Any], deployment_id: str) -> dict[str, Any]:
    target_id = f"{stack['prefix']}:{stack['prefix']}-api"
    return clients("codedeploy").get_deployment_target(deploymentId=deployment_id, targetId=target_id)["deploymentTarget"]["ecsTarget"]


def weights(clients: ClientFactory, stack: dict[str, Any]) -> dict[str, int]:
    action = clients("elbv2").describe_listeners(ListenerArns=[stack["listener"]])["Listeners"][0]["DefaultActions"][0]
    if "ForwardConfig" not in action:  # as created: forward to one target group
        return {side: 100 if arn == action["TargetGroupArn"] else 0 for side, arn in stack["tgs"].items()}
    by_arn = {tg["TargetGroupArn"]: tg["Weight"] for tg in action["ForwardConfig"]["TargetGroups"]}
    return {side: by_arn.get(arn, 0) for side, arn in stack["tgs"].items()}


def service(clients: ClientFactory, stack: dict[str, Any]) -> dict[str, Any]:
    return clients("ecs").describe_services(cluster=stack["prefix"], services=[stack["service"]])["services"][0]


def task_sets(clients: ClientFactory, stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The service's task sets by target group side."""
    sides = {arn: side for side, arn in stack["tgs"].items()}
    return {sides[t["loadBalancers"][0]["targetGroupArn"]]: t for t in service(clients, stack)["taskSets"]}


def test_code_deploy_service_has_a_primary_task_set_and_refuses_a_new_revision(clients: ClientFactory, network: dict[str, Any]) -> None:
    stack = make_stack(clients, network, "cd-svc")
    found = service(clients, stack)
    assert found["deploymentController"] == {"type": "CODE_DEPLOY"}
    assert found["taskDefinition"] == stack["v1"]
    assert found["deployments"] == []
    (primary,) = found["taskSets"]
    assert primary["status"] == "PRIMARY" and primary["taskDefinition"] == stack["v1"]
    assert primary["loadBalancers"][0]["targetGroupArn"] == stack["tgs"]["a"]
    assert primary["runningCount"] == 2 and primary["scale"] == {"value": 100.0, "unit": "PERCENT"}

    v2 = register(clients, f"{stack['prefix']}-api", "v2")
    with pytest.raises(ClientError) as error:
        clients("ecs").update_service(cluster=stack["prefix"], service=stack["service"], taskDefinition=v2)
    assert error.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "CODE_DEPLOY deployment controller" in error.value.response["Error"]["Message"]
    clients("ecs").update_service(cluster=stack["prefix"], service=stack["service"], desiredCount=3)
    found = service(clients, stack)
    assert found["taskDefinition"] == stack["v1"] and found["taskSets"][0]["computedDesiredCount"] == 3


def test_deployment_group_and_config_round_trip(clients: ClientFactory, network: dict[str, Any]) -> None:
    stack = make_stack(clients, network, "cd-rt")
    codedeploy = clients("codedeploy")
    spec = stack["group_spec"]
    info = codedeploy.get_deployment_group(applicationName=stack["app"], deploymentGroupName=stack["group"])["deploymentGroupInfo"]
    for field in ("deploymentConfigName", "serviceRoleArn", "deploymentStyle", "blueGreenDeploymentConfiguration",
                  "autoRollbackConfiguration", "alarmConfiguration", "ecsServices", "loadBalancerInfo"):
        assert info[field] == spec[field], field
    assert info["computePlatform"] == "ECS" and info["outdatedInstancesStrategy"] == "UPDATE"
    arn = f"arn:aws:codedeploy:{REGION}:123456789012:deploymentgroup:{stack['app']}/{stack['group']}"
    assert codedeploy.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "project", "Value": stack["prefix"]}]

    config = codedeploy.get_deployment_config(deploymentConfigName=stack["config"])["deploymentConfigInfo"]
    assert config["computePlatform"] == "ECS"
    assert config["trafficRoutingConfig"] == {"type": "TimeBasedCanary", "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 5}}
    assert "minimumHealthyHosts" not in config
    with pytest.raises(ClientError) as error:
        codedeploy.delete_deployment_config(deploymentConfigName=stack["config"])
    assert error.value.response["Error"]["Code"] == "DeploymentConfigInUseException"

    codedeploy.update_deployment_group(
        applicationName=stack["app"], currentDeploymentGroupName=stack["group"],
        deploymentConfigName="CodeDeployDefault.ECSAllAtOnce",
        alarmConfiguration={"enabled": False, "ignorePollAlarmFailure": False, "alarms": []},
    )
    info = codedeploy.get_deployment_group(applicationName=stack["app"], deploymentGroupName=stack["group"])["deploymentGroupInfo"]
    assert info["deploymentConfigName"] == "CodeDeployDefault.ECSAllAtOnce"
    assert info["alarmConfiguration"] == {"enabled": False, "ignorePollAlarmFailure": False, "alarms": []}
    assert info["loadBalancerInfo"] == spec["loadBalancerInfo"]  # not named in the update: kept
    with pytest.raises(ClientError) as error:
        codedeploy.update_deployment_group(applicationName=stack["app"], currentDeploymentGroupName=stack["group"], deploymentConfigName="nope")
    assert error.value.response["Error"]["Code"] == "DeploymentConfigDoesNotExistException"

    codedeploy.delete_deployment_config(deploymentConfigName=stack["config"])
    with pytest.raises(ClientError) as error:
        codedeploy.get_deployment_config(deploymentConfigName=stack["config"])
    assert error.value.response["Error"]["Code"] == "DeploymentConfigDoesNotExistException"
    assert codedeploy.delete_deployment_group(applicationName=stack["app"], deploymentGroupName=stack["group"])["hooksNotCleanedUp"] == []
    with pytest.raises(ClientError) as error:
        codedeploy.get_deployment_group(applicationName=stack["app"], deploymentGroupName=stack["group"])
    assert error.value.response["Error"]["Code"] == "DeploymentGroupDoesNotExistException"
    codedeploy.delete_application(applicationName=stack["app"])
    with pytest.raises(ClientError) as error:
        codedeploy.get_application(applicationName=stack["app"])
    assert error.value.response["Error"]["Code"] == "ApplicationDoesNotExistException"


def test_good_release_shifts_traffic_by_canary_then_terminates_the_original(clients: ClientFactory, network: dict[str, Any]) -> None:
    stack = make_stack(clients, network, "cd-good")
    v2 = register(clients, f"{stack['prefix']}-api", "v2")
    deployment_id = deploy(clients, stack, v2)
    assert deployment_id.startswith("d-") and len(deployment_id) == 11
    assert clients("codedeploy").list_deployment_targets(deploymentId=deployment_id)["targetIds"] == [f"{stack['prefix']}:{stack['prefix']}-api"]
    sets = task_sets(clients, stack)
    assert sets["b"]["status"] == "ACTIVE" and sets["b"]["taskDefinition"] == v2 and sets["b"]["startedBy"] == "CODE_DEPLOY"
    assert weights(clients, stack)["a"] == 100

    # Step 1: installed, canary 10 % on B.
    ecs_target = target(clients, stack, deployment_id)
    assert ecs_target["status"] == "InProgress" and ecs_target["targetArn"] == stack["service"]
    assert weights(clients, stack) == {"a": 90, "b": 10}
    info = {t["taskSetLabel"]: t for t in ecs_target["taskSetsInfo"]}
    assert info["Blue"]["trafficWeight"] == 90.0 and info["Green"]["trafficWeight"] == 10.0
    assert info["Green"]["identifer"] == sets["b"]["id"] and info["Green"]["targetGroup"] == {"name": f"{stack['prefix']}-b"}
    events = {e["lifecycleEventName"]: e["status"] for e in ecs_target["lifecycleEvents"]}
    assert events["Install"] == "Succeeded" and events["AllowTestTraffic"] == "Skipped" and events["AllowTraffic"] == "InProgress"
    assert service(clients, stack)["taskDefinition"] == stack["v1"]

    # The bake: the configuration's 5 minutes, one read each, at 90/10 (the first was the read above).
    for _ in range(BAKE_MINUTES - 1):
        assert read(clients, deployment_id)["status"] == "InProgress"
        assert weights(clients, stack) == {"a": 90, "b": 10}

    # Step 2: all traffic on B, B PRIMARY; the original kept for the termination wait.
    deployment = read(clients, deployment_id)
    assert deployment["status"] == "InProgress" and deployment["instanceTerminationWaitTimeStarted"] is True
    assert weights(clients, stack) == {"a": 0, "b": 100}
    found = service(clients, stack)
    assert found["taskDefinition"] == v2
    sets = task_sets(clients, stack)
    assert sets["b"]["status"] == "PRIMARY" and sets["a"]["status"] == "ACTIVE"
    assert {e["lifecycleEventName"]: e["status"] for e in target(clients, stack, deployment_id)["lifecycleEvents"]}["AfterAllowTraffic"] == "Succeeded"
    # (that GetDeploymentTarget was wait step 1 of 2)
    assert "a" in task_sets(clients, stack)

    deployment = read(clients, deployment_id)  # wait step 2: the original is terminated
    assert deployment["status"] == "Succeeded" and "completeTime" in deployment and "errorInformation" not in deployment
    assert set(task_sets(clients, stack)) == {"b"}
    assert service(clients, stack)["loadBalancers"][0]["targetGroupArn"] == stack["tgs"]["b"]
    assert clients("codedeploy").list_deployments(
        applicationName=stack["app"], deploymentGroupName=stack["group"], includeOnlyStatuses=["Succeeded"])["deployments"] == [deployment_id]

    # The next release goes back to A.
    v3 = register(clients, f"{stack['prefix']}-api", "v3")
    second = deploy(clients, stack, v3)
    read(clients, second)
    assert weights(clients, stack) == {"a": 10, "b": 90}
    assert clients("codedeploy").list_deployments(applicationName=stack["app"], deploymentGroupName=stack["group"])["deployments"] == [second, deployment_id]


def test_alarm_during_the_bake_stops_and_rolls_back(clients: ClientFactory, network: dict[str, Any]) -> None:
    stack = make_stack(clients, network, "cd-alarm")
    v2 = register(clients, f"{stack['prefix']}-api", "v2")
    deployment_id = deploy(clients, stack, v2)
    read(clients, deployment_id)
    assert weights(clients, stack) == {"a": 90, "b": 10}
    clients("cloudwatch").set_alarm_state(AlarmName=stack["alarm"], StateValue="ALARM", StateReason="5xx")

    deployment = read(clients, deployment_id)
    assert deployment["status"] == "Stopped"
    assert deployment["errorInformation"]["code"] == "ALARM_ACTIVE" and stack["alarm"] in deployment["errorInformation"]["message"]
    rollback_id = deployment["rollbackInfo"]["rollbackDeploymentId"]
    assert weights(clients, stack) == {"a": 100, "b": 0}
    found = service(clients, stack)
    assert found["taskDefinition"] == stack["v1"]
    (original,) = found["taskSets"]  # the replacement deleted, no new task set for the rollback
    assert original["status"] == "PRIMARY" and original["taskDefinition"] == stack["v1"]
    assert original["loadBalancers"][0]["targetGroupArn"] == stack["tgs"]["a"]

    rollback = read(clients, rollback_id)
    assert rollback["creator"] == "codeDeployRollback" and rollback["status"] == "Succeeded"
    assert rollback["rollbackInfo"]["rollbackTriggeringDeploymentId"] == deployment_id
    assert stack["v1"] in rollback["revision"]["appSpecContent"]["content"]
    assert [t["identifer"] for t in target(clients, stack, rollback_id)["taskSetsInfo"]] == [original["id"]]
    clients("cloudwatch").set_alarm_state(AlarmName=stack["alarm"], StateValue="OK", StateReason="ok")


def test_image_that_cannot_start_fails_the_deployment(clients: ClientFactory, network: dict[str, Any]) -> None:
    stack = make_stack(clients, network, "cd-fail")
    bad = register(clients, f"{stack['prefix']}-api", FAIL_TO_START)
    deployment_id = deploy(clients, stack, bad)
    deployment = read(clients, deployment_id)
    assert deployment["status"] == "Failed" and deployment["errorInformation"]["code"] == "HEALTH_CONSTRAINTS"
    assert "rollbackDeploymentId" in deployment["rollbackInfo"]
    assert weights(clients, stack) == {"a": 100, "b": 0}
    assert set(task_sets(clients, stack)) == {"a"} and service(clients, stack)["taskDefinition"] == stack["v1"]
    events = {e["lifecycleEventName"]: e["status"] for e in target(clients, stack, deployment_id)["lifecycleEvents"]}
    assert events["Install"] == "Failed" and events["AllowTraffic"] == "Skipped"


def test_stop_with_rollback_during_the_termination_wait_and_one_deployment_at_a_time(clients: ClientFactory, network: dict[str, Any]) -> None:
    stack = make_stack(clients, network, "cd-stop")
    codedeploy = clients("codedeploy")
    v2 = register(clients, f"{stack['prefix']}-api", "v2")
    deployment_id = deploy(clients, stack, v2)
    with pytest.raises(ClientError) as error:
        deploy(clients, stack, v2)
    assert error.value.response["Error"]["Code"] == "DeploymentLimitExceededException"
    for _ in range(1 + BAKE_MINUTES):  # install and the canary, then all traffic
        read(clients, deployment_id)
    assert weights(clients, stack) == {"a": 0, "b": 100} and service(clients, stack)["taskDefinition"] == v2
    active = codedeploy.list_deployments(applicationName=stack["app"], deploymentGroupName=stack["group"],
                                         includeOnlyStatuses=["Created", "Queued", "InProgress", "Baking", "Ready"])["deployments"]
    assert active == [deployment_id]

    assert codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)["status"] == "Pending"
    deployment = read(clients, deployment_id)
    assert deployment["status"] == "Stopped" and deployment["errorInformation"]["code"] == "MANUAL_STOP"
    assert weights(clients, stack) == {"a": 100, "b": 0}
    found = service(clients, stack)
    assert found["taskDefinition"] == stack["v1"] and [t["status"] for t in found["taskSets"]] == ["PRIMARY"]
    rollback_id = deployment["rollbackInfo"]["rollbackDeploymentId"]
    assert read(clients, rollback_id)["status"] == "Succeeded"
    with pytest.raises(ClientError) as error:
        codedeploy.stop_deployment(deploymentId=deployment_id)
    assert error.value.response["Error"]["Code"] == "DeploymentAlreadyCompletedException"


def test_stop_without_rollback_leaves_the_traffic(clients: ClientFactory, network: dict[str, Any]) -> None:
    stack = make_stack(clients, network, "cd-keep")
    v2 = register(clients, f"{stack['prefix']}-api", "v2")
    deployment_id = deploy(clients, stack, v2)
    read(clients, deployment_id)
    clients("codedeploy").stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=False)
    deployment = read(clients, deployment_id)
    assert deployment["status"] == "Stopped" and "rollbackInfo" not in deployment
    assert weights(clients, stack) == {"a": 90, "b": 10}
    # A new deployment may start; the leftover replacement goes.
    v3 = register(clients, f"{stack['prefix']}-api", "v3")
    deploy(clients, stack, v3)
    sets = task_sets(clients, stack)
    assert sets["a"]["status"] == "PRIMARY" and sets["b"]["taskDefinition"] == v3


def test_deployment_of_a_service_without_code_deploy_is_refused(clients: ClientFactory, network: dict[str, Any]) -> None:
    stack = make_stack(clients, network, "cd-ecs")
    ecs = clients("ecs")
    ecs.create_service(cluster=stack["prefix"], serviceName="rolling", taskDefinition=stack["v1"], desiredCount=1, launchType="FARGATE")
    clients("codedeploy").update_deployment_group(
        applicationName=stack["app"], currentDeploymentGroupName=stack["group"],
        ecsServices=[{"serviceName": "rolling", "clusterName": stack["prefix"]}],
    )
    with pytest.raises(ClientError) as error:
        deploy(clients, stack, stack["v1"])
    assert error.value.response["Error"]["Code"] == "InvalidECSServiceException"
    rolling = ecs.describe_services(cluster=stack["prefix"], services=["rolling"])["services"][0]
    assert not rolling.get("taskSets")
    assert rolling["deployments"][0]["rolloutState"] == "COMPLETED"
