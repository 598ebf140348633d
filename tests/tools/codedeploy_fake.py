"""A CodeDeploy (and the ECS side of a CODE_DEPLOY service) that answers with the shapes of /tmp/canary_contract.md (issue #20).

``FakeCodeDeploy`` is a boto3 ``codedeploy`` client for ONE application and
deployment group releasing ONE ECS service; ``CodeDeployEcs`` wraps moto's
ECS client (task definitions, the service) and answers DescribeServices and
UpdateService for that service as ECS does for a CODE_DEPLOY service. Both
share a ``World``: the task sets and the revision the service serves.

Emulated time, as in the contract: each read of a deployment (GetDeployment,
GetDeploymentTarget) is one step. A release (scenario ``"release"``):

    read 1   InProgress; replacement task set (Green, ACTIVE) installing, Install InProgress, 0 % traffic
    read 2   InProgress; canary: AllowTraffic InProgress, 100-P % Blue / P % Green
    read 3   InProgress; all traffic on Green (AllowTraffic, AfterAllowTraffic Succeeded), Green PRIMARY:
             the termination wait, W reads (W = 0: Succeeded at once)
    read 3+W Succeeded; the original task set is deleted

``"alarm"`` stops the release at read ``alarm_at`` (ALARM_ACTIVE),
``"health"`` fails it at read 2 (HEALTH_CONSTRAINTS or ECS_UPDATE_ERROR, traffic
never moved), ``"hang"`` stays installing forever. StopDeployment stops it
at its next read (MANUAL_STOP). A stopped or failed deployment gets a
rollback deployment (creator ``codeDeployRollback``) that succeeds on its
first read, putting the original task set back as the PRIMARY with all
traffic. Nothing here produces a state AWS would not.
"""

from __future__ import annotations

import copy
import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from botocore.exceptions import ClientError

APPLICATION = "cot-staging-api"
GROUP = "cot-staging-api"
CONFIG = "cot-staging-api-canary-10pct-5min"
ACCOUNT = "123456789012"
REGION = "us-east-1"
LIFECYCLE = (
    "BeforeInstall", "Install", "AfterInstall", "AllowTestTraffic", "AfterAllowTestTraffic", "BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic",
)
IN_PROGRESS = ("Created", "Queued", "InProgress", "Baking", "Ready")
ALARM_MESSAGE = (
    "One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been "
    "stopped. Activated alarms: <cot-staging-api-release-5xx> "
)
HEALTH_MESSAGES = {
    "HEALTH_CONSTRAINTS": "The overall deployment failed because too many individual instances failed deployment, too few healthy instances are "
    "available for deployment, or some instances in your deployment group are experiencing problems.",
    "ECS_UPDATE_ERROR": "The ECS service cannot reach a steady state. Tasks of the replacement task set failed to start.",
}
STOP_MESSAGE = "The deployment was stopped by a user."
T0 = datetime(2025, 6, 15, 15, 0, tzinfo=timezone.utc)


def client_error(operation: str, code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}}, operation)


@dataclass
class TaskSet:
    identifier: str
    task_definition: str
    label: str  # Blue (the original) or Green (the replacement)
    target_group: str
    status: str = "ACTIVE"
    weight: float = 0.0


@dataclass
class World:
    cluster: str
    service: str
    serving: str  # the PRIMARY task set's revision: the service's taskDefinition
    task_sets: list[TaskSet] = field(default_factory=list)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        if not self.task_sets:
            self.task_sets = [TaskSet("ecs-svc/1000000000000000001", self.serving, "Blue", "cot-staging-api-a", "PRIMARY", 100.0)]

    def primary(self) -> TaskSet:
        return next(item for item in self.task_sets if item.status == "PRIMARY")


class CodeDeployEcs:
    """moto's ECS client, answering for the CODE_DEPLOY service as ECS does (taskSets, no deployments, UpdateService refused)."""

    def __init__(self, client, world: World):
        self.client, self.world = client, world

    def __getattr__(self, name):
        return getattr(self.client, name)

    def describe_services(self, **kwargs):
        response = self.client.describe_services(**kwargs)
        for service in response.get("services", []):
            if service["serviceName"] == self.world.service:
                service["deploymentController"] = {"type": "CODE_DEPLOY"}
                service["taskDefinition"] = self.world.serving
                service["deployments"] = []
                service["taskSets"] = [
                    {
                        "id": item.identifier,
                        "taskSetArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-set/{self.world.cluster}/{self.world.service}/{item.identifier}",
                        "status": item.status,
                        "taskDefinition": item.task_definition,
                        "computedDesiredCount": 2,
                        "pendingCount": 0,
                        "runningCount": 2,
                        "launchType": "FARGATE",
                        "scale": {"value": 100.0, "unit": "PERCENT"},
                        "stabilityStatus": "STEADY_STATE",
                        "loadBalancers": [
                            {
                                "targetGroupArn": f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{item.target_group}/0123456789abcdef",
                                "containerName": "api",
                                "containerPort": 8080,
                            }
                        ],
                    }
                    for item in self.world.task_sets
                ]
        return response

    def update_service(self, **kwargs):
        if "taskDefinition" in kwargs and kwargs["service"].rsplit("/", 1)[-1] == self.world.service:
            raise client_error(
                "UpdateService",
                "InvalidParameterException",
                "Unable to update task definition on services with a CODE_DEPLOY deployment controller. "
                "Use AWS CodeDeploy to trigger a new deployment.",
            )
        return self.client.update_service(**kwargs)


@dataclass
class _Deployment:
    info: dict
    scenario: str
    task_definition: str
    original: str  # the revision the service served when it was created
    reads: int = 0
    stop_requested: bool = False
    code: str = "HEALTH_CONSTRAINTS"


class FakeCodeDeploy:
    """A boto3 codedeploy client for one deployment group (see the module docstring); ``calls`` records every call."""

    def __init__(self, world: World, *scenarios: str, wait_minutes: int = 30, alarm_at: int = 2, health_code: str = "HEALTH_CONSTRAINTS"):
        self.world, self.scenarios = world, list(scenarios)
        self.wait_minutes, self.alarm_at, self.health_code = wait_minutes, alarm_at, health_code
        self.deployments: dict[str, _Deployment] = {}
        self.calls: list[tuple[str, dict]] = []
        self._ids = (f"d-{n:09d}".replace("d-0", "d-A", 1) for n in itertools.count(1))

    # -- helpers -------------------------------------------------------------------------
    def _check_group(self, operation: str, application: str, group: str) -> None:
        if application != APPLICATION:
            raise client_error(operation, "ApplicationDoesNotExistException", f"No application found for name: {application}")
        if group != GROUP:
            raise client_error(operation, "DeploymentGroupDoesNotExistException", f"No Deployment Group found for name: {group}")

    def _deployment(self, operation: str, deployment_id: str) -> _Deployment:
        if deployment_id not in self.deployments:
            raise client_error(operation, "DeploymentDoesNotExistException", f"The deployment {deployment_id} could not be found.")
        return self.deployments[deployment_id]

    def _new(self, creator: str, task_definition: str, original: str, scenario: str, revision: dict, description: str | None) -> _Deployment:
        deployment_id = next(self._ids)
        info = {
            "deploymentId": deployment_id,
            "applicationName": APPLICATION,
            "deploymentGroupName": GROUP,
            "deploymentConfigName": CONFIG,
            "status": "Created",
            "creator": creator,
            "createTime": T0 + timedelta(minutes=len(self.deployments)),
            "computePlatform": "ECS",
            "revision": revision,
            "deploymentStyle": {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        }
        if description:
            info["description"] = description
        record = _Deployment(info, scenario, task_definition, original, code=self.health_code)
        self.deployments[deployment_id] = record
        return record

    def _end(self, record: _Deployment, status: str, code: str | None = None, message: str | None = None) -> None:
        record.info["status"] = status
        record.info["completeTime"] = record.info["createTime"] + timedelta(minutes=record.reads)
        if code:
            record.info["errorInformation"] = {"code": code, "message": message}
        if status in ("Failed", "Stopped"):
            # Auto-rollback (DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM, and StopDeployment's autoRollbackEnabled).
            rollback = self._new(ROLLBACK, record.original, record.original, "rollback", record.info["revision"], None)
            rollback.info["rollbackInfo"] = {"rollbackTriggeringDeploymentId": record.info["deploymentId"]}
            record.info["rollbackInfo"] = {
                "rollbackDeploymentId": rollback.info["deploymentId"],
                "rollbackMessage": f"Deployment {record.info['deploymentId']} was rolled back by deployment {rollback.info['deploymentId']}",
            }

    def _step(self, record: _Deployment) -> None:
        """One read of the deployment: advance it one step."""
        if record.info["status"] not in IN_PROGRESS:
            return
        record.reads += 1
        world, reads = self.world, record.reads
        if record.scenario == "rollback":  # the original task set is still running: traffic back at once
            original = next((item for item in world.task_sets if item.task_definition == record.task_definition and item.label == "Blue"), None)
            world.task_sets = [original or TaskSet("ecs-svc/1000000000000000009", record.task_definition, "Blue", "cot-staging-api-a")]
            world.task_sets[0].status, world.task_sets[0].weight = "PRIMARY", 100.0
            world.serving = record.task_definition
            self._end(record, "Succeeded")
            return
        if record.stop_requested:
            self._end(record, "Stopped", "MANUAL_STOP", STOP_MESSAGE)
            return
        if record.scenario == "alarm" and reads >= self.alarm_at:
            self._end(record, "Stopped", "ALARM_ACTIVE", ALARM_MESSAGE)
            return
        if record.scenario == "health" and reads >= 2:
            self._end(record, "Failed", record.code, HEALTH_MESSAGES[record.code])
            return
        record.info["status"] = "InProgress"
        blue = next(item for item in world.task_sets if item.label == "Blue")
        if reads == 1:
            world.task_sets.append(TaskSet(f"ecs-svc/20000000000000000{next(world.ids):02d}", record.task_definition, "Green", "cot-staging-api-b"))
        if record.scenario == "hang":
            return
        green = next(item for item in world.task_sets if item.label == "Green")
        if reads == 2:
            blue.weight, green.weight = 90.0, 10.0
        elif reads >= 3:
            blue.weight, green.weight = 0.0, 100.0
            blue.status, green.status = "ACTIVE", "PRIMARY"
            world.serving = record.task_definition
            if reads >= 3 + self.wait_minutes:  # the termination wait is over: the original task set goes
                world.task_sets = [green]
                green.label = "Blue"  # the next deployment's original
                self._end(record, "Succeeded")

    def _events(self, record: _Deployment) -> list[dict]:
        reads, status = record.reads, record.info["status"]
        done = {"BeforeInstall", "Install", "AfterInstall", "BeforeAllowTraffic"} if reads >= 2 else {"BeforeInstall"}
        if reads >= 3 or status == "Succeeded":
            done |= {"AllowTraffic", "AfterAllowTraffic"}
        running = "Install" if reads == 1 or record.scenario == "hang" else "AllowTraffic" if reads == 2 else None
        events = []
        for name in LIFECYCLE:
            if name in ("AllowTestTraffic", "AfterAllowTestTraffic"):
                state = "Skipped" if reads >= 2 and record.scenario != "hang" else "Pending"
            elif record.scenario == "hang" and name != "BeforeInstall":
                state = "InProgress" if name == "Install" else "Pending"
            elif name in done:
                state = "Succeeded"
            elif name == running:
                state = "Failed" if status in ("Failed", "Stopped") else "InProgress"
            else:
                state = "Pending"
            event = {"lifecycleEventName": name, "status": state}
            if state in ("Succeeded", "Failed", "InProgress"):
                event["startTime"] = record.info["createTime"]
            if state in ("Succeeded", "Failed"):
                event["endTime"] = record.info["createTime"] + timedelta(minutes=reads)
            events.append(event)
        return events

    # -- the API -------------------------------------------------------------------------
    def create_deployment(self, **kwargs):
        self.calls.append(("create_deployment", kwargs))
        self._check_group("CreateDeployment", kwargs["applicationName"], kwargs["deploymentGroupName"])
        busy = [d for d in self.deployments.values() if d.info["status"] in IN_PROGRESS]
        if busy:
            raise client_error(
                "CreateDeployment",
                "DeploymentLimitExceededException",
                f"The Deployment Group '{GROUP}' already has an active Deployment '{busy[-1].info['deploymentId']}'",
            )
        revision = kwargs["revision"]
        spec = json.loads(revision["appSpecContent"]["content"])
        task_definition = spec["Resources"][0]["TargetService"]["Properties"]["TaskDefinition"]
        scenario = self.scenarios.pop(0) if self.scenarios else "release"
        record = self._new("user", task_definition, self.world.serving, scenario, copy.deepcopy(revision), kwargs.get("description"))
        return {"deploymentId": record.info["deploymentId"]}

    def get_deployment(self, **kwargs):
        self.calls.append(("get_deployment", kwargs))
        record = self._deployment("GetDeployment", kwargs["deploymentId"])
        self._step(record)
        return {"deploymentInfo": copy.deepcopy(record.info)}

    def list_deployment_targets(self, **kwargs):
        self.calls.append(("list_deployment_targets", kwargs))
        self._deployment("ListDeploymentTargets", kwargs["deploymentId"])
        return {"targetIds": [f"{self.world.cluster}:{self.world.service}"]}

    def get_deployment_target(self, **kwargs):
        self.calls.append(("get_deployment_target", kwargs))
        record = self._deployment("GetDeploymentTarget", kwargs["deploymentId"])
        self._step(record)
        status = record.info["status"]
        return {
            "deploymentTarget": {
                "deploymentTargetType": "ECSTarget",
                "ecsTarget": {
                    "deploymentId": kwargs["deploymentId"],
                    "targetId": kwargs["targetId"],
                    "targetArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{self.world.cluster}/{self.world.service}",
                    "lastUpdatedAt": record.info["createTime"] + timedelta(minutes=record.reads),
                    "status": "InProgress" if status in IN_PROGRESS else status if status != "Stopped" else "Failed",
                    "lifecycleEvents": self._events(record),
                    "taskSetsInfo": [
                        {
                            "identifer": item.identifier,
                            "desiredCount": 2,
                            "pendingCount": 0,
                            "runningCount": 2,
                            "status": item.status,
                            "trafficWeight": item.weight,
                            "targetGroup": {"name": item.target_group},
                            "taskSetLabel": item.label,
                        }
                        for item in self.world.task_sets
                    ],
                },
            }
        }

    def list_deployments(self, **kwargs):
        self.calls.append(("list_deployments", kwargs))
        self._check_group("ListDeployments", kwargs["applicationName"], kwargs["deploymentGroupName"])
        wanted = kwargs.get("includeOnlyStatuses")
        found = [d.info["deploymentId"] for d in self.deployments.values() if wanted is None or d.info["status"] in wanted]
        return {"deployments": found[::-1]}

    def stop_deployment(self, **kwargs):
        self.calls.append(("stop_deployment", kwargs))
        record = self._deployment("StopDeployment", kwargs["deploymentId"])
        if record.info["status"] not in IN_PROGRESS:
            raise client_error("StopDeployment", "DeploymentAlreadyCompletedException", f"Deployment {kwargs['deploymentId']} has already completed.")
        record.stop_requested = True
        return {"status": "Pending", "statusMessage": "Stopping deployment"}

    def get_deployment_group(self, **kwargs):
        self.calls.append(("get_deployment_group", kwargs))
        self._check_group("GetDeploymentGroup", kwargs["applicationName"], kwargs["deploymentGroupName"])
        return {
            "deploymentGroupInfo": {
                "applicationName": APPLICATION,
                "deploymentGroupName": GROUP,
                "deploymentConfigName": CONFIG,
                "computePlatform": "ECS",
                "deploymentStyle": {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
                "blueGreenDeploymentConfiguration": {
                    "terminateBlueInstancesOnDeploymentSuccess": {"action": "TERMINATE", "terminationWaitTimeInMinutes": self.wait_minutes},
                    "deploymentReadyOption": {"actionOnTimeout": "CONTINUE_DEPLOYMENT", "waitTimeInMinutes": 0},
                },
                "autoRollbackConfiguration": {"enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]},
                "alarmConfiguration": {"enabled": True, "ignorePollAlarmFailure": False, "alarms": [{"name": "cot-staging-api-release-5xx"}]},
                "ecsServices": [{"serviceName": self.world.service, "clusterName": self.world.cluster}],
            }
        }

    def named(self, name: str) -> list[dict]:
        """The arguments of every call of ``name``."""
        return [kwargs for called, kwargs in self.calls if called == name]


ROLLBACK = "codeDeployRollback"
