"""CodeDeploy ECS blue/green (canary) deployments for the harness's moto server.

Shims of their own module, registered by tests/harness/moto_server.py with
`register(shim, ...)` (not with @shim here: run as `python -m
tests.harness.moto_server`, that file is __main__, not the module an import
from here would fill; so it hands over the shared helpers instead of this
module importing them). They are applied after moto_server's own shims, so
their ECS wrappers run around the ecs_* shims there.

What AWS does, and what the shims reproduce, is the canary release contract
(issue #20): an ECS service with the CODE_DEPLOY deployment controller behind
one production listener and two target groups; a CodeDeploy application
(compute platform ECS) whose deployment group shifts the listener from the
original task set ("Blue") to a replacement ("Green") by a TimeBasedCanary
deployment config, watching CloudWatch alarms, with auto-rollback and a wait
before the original task set is terminated.

Emulated time: each read of a deployment (GetDeployment, BatchGetDeployments,
GetDeploymentTarget) is one step; the steps are in `codedeploy_ecs_deployments`.
"""

from __future__ import annotations

import json
import math
import uuid
from typing import Any, Callable

# Set by register(): moto_server's marker and helpers (one source of truth).
_FAIL_TO_START = ""
_shim_state: Callable[[object, str], dict] = lambda backend, name: {}  # type: ignore[type-arg]  # noqa: E731
_utc_now: Callable[[], Any] = lambda: None  # noqa: E731

CODE_DEPLOY = "CODE_DEPLOY"
# The statuses of a deployment that is not over (ListDeployments' includeOnlyStatuses values).
ACTIVE_STATUSES = ("Created", "Queued", "InProgress", "Baking", "Ready")
LIFECYCLE_EVENTS = (
    "BeforeInstall", "Install", "AfterInstall", "AllowTestTraffic", "AfterAllowTestTraffic",
    "BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic",
)
# CodeDeploy's predefined configs (GetDeploymentConfig answers for them; they cannot be deleted).
DEFAULT_CONFIGS: dict[str, dict[str, Any]] = {
    "CodeDeployDefault.OneAtATime": {"computePlatform": "Server", "minimumHealthyHosts": {"type": "HOST_COUNT", "value": 1}},
    "CodeDeployDefault.HalfAtATime": {"computePlatform": "Server", "minimumHealthyHosts": {"type": "FLEET_PERCENT", "value": 50}},
    "CodeDeployDefault.AllAtOnce": {"computePlatform": "Server", "minimumHealthyHosts": {"type": "HOST_COUNT", "value": 0}},
    "CodeDeployDefault.ECSAllAtOnce": {"computePlatform": "ECS", "trafficRoutingConfig": {"type": "AllAtOnce"}},
    "CodeDeployDefault.ECSLinear10PercentEvery1Minutes": {"computePlatform": "ECS", "trafficRoutingConfig": {"type": "TimeBasedLinear", "timeBasedLinear": {"linearPercentage": 10, "linearInterval": 1}}},
    "CodeDeployDefault.ECSLinear10PercentEvery3Minutes": {"computePlatform": "ECS", "trafficRoutingConfig": {"type": "TimeBasedLinear", "timeBasedLinear": {"linearPercentage": 10, "linearInterval": 3}}},
    "CodeDeployDefault.ECSCanary10Percent5Minutes": {"computePlatform": "ECS", "trafficRoutingConfig": {"type": "TimeBasedCanary", "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 5}}},
    "CodeDeployDefault.ECSCanary10Percent15Minutes": {"computePlatform": "ECS", "trafficRoutingConfig": {"type": "TimeBasedCanary", "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 15}}},
}
ECS_DEFAULT_CONFIG = "CodeDeployDefault.ECSAllAtOnce"

# AWS's text (ECS API reference, UpdateService; the contract quotes it).
UPDATE_TASK_DEFINITION_REFUSED = (
    "Unable to update task definition on services with a CODE_DEPLOY deployment controller. "
    "Use AWS CodeDeploy to trigger a new deployment."
)
# The errorInformation messages below are descriptive, NOT verified against AWS's wording:
# readers (tools.ecs_deploy) rely on errorInformation.code only.
ALARM_ACTIVE_MESSAGE = (
    "One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, "
    "and the affected deployments have been stopped. Activated alarms: <{alarms}>"
)
HEALTH_CONSTRAINTS_MESSAGE = "The ECS tasks of the replacement task set failed to start: they never became healthy."
MANUAL_STOP_MESSAGE = "The deployment was stopped manually (StopDeployment)."


def register(shim: Callable[[Callable[[], None]], Callable[[], None]], *, fail_to_start: str,
             shim_state: Callable[[object, str], dict], utc_now: Callable[[], Any]) -> None:  # type: ignore[type-arg]
    """Register this module's shims with moto_server's `shim`, sharing its marker and helpers."""
    global _FAIL_TO_START, _shim_state, _utc_now
    _FAIL_TO_START, _shim_state, _utc_now = fail_to_start, shim_state, utc_now
    for patch in (codedeploy_resources, ecs_code_deploy_services, codedeploy_ecs_deployments):
        shim(patch)


def _error(code: str, message: str) -> Exception:
    from moto.codedeploy.exceptions import CodeDeployException

    error = CodeDeployException(code, message)
    error.code = 400
    return error


def _drop_empty(info: dict) -> dict:  # type: ignore[type-arg]
    """AWS leaves out what a resource does not have; moto answers {} or null for it."""
    return {key: value for key, value in info.items() if value is not None and value != {}}


def _configs(backend: object) -> dict:  # type: ignore[type-arg]
    return _shim_state(backend, "codedeploy_deployment_configs")


def codedeploy_resources() -> None:
    """Gaps in CodeDeploy's control plane, which Terraform (hashicorp/aws
    5.100.0) drives for aws_codedeploy_app, aws_codedeploy_deployment_config
    and aws_codedeploy_deployment_group:

    - No deployment configs at all: CreateDeploymentConfig,
      GetDeploymentConfig, DeleteDeploymentConfig and ListDeploymentConfigs
      are not implemented. Keep them (computePlatform, trafficRoutingConfig
      e.g. TimeBasedCanary {canaryPercentage, canaryInterval},
      minimumHealthyHosts, zonalConfig: as given), answer for CodeDeploy's
      predefined `CodeDeployDefault.*` configs too, and refuse as AWS does:
      DeploymentConfigAlreadyExistsException, DeploymentConfigDoesNotExistException,
      DeploymentConfigInUseException (a group uses it), InvalidDeploymentConfigNameException
      (deleting a predefined one; AWS's exact code there is not verified).
    - No UpdateDeploymentGroup, DeleteDeploymentGroup, DeleteApplication:
      the provider's update and destroy fail. Update changes only the fields
      the request names (the provider sends the changed ones), renames with
      newDeploymentGroupName (tags follow); delete answers
      {"hooksNotCleanedUp": []}; DeleteApplication removes its groups too.
    - GetDeploymentGroup answers alarmConfiguration {} whatever was sent
      (the plan after apply would re-add the alarms): return it as given,
      AWS's all-off value when none was. outdatedInstancesStrategy null
      where AWS says UPDATE (the provider's default). An ECS group created
      without a config name is `CodeDeployDefault.ECSAllAtOnce` on AWS, not
      moto's OneAtATime. Empty placeholders ({} for targetRevision,
      lastSuccessfulDeployment, ...) are left out, as AWS leaves them out.
    - A group naming a config that does not exist is refused
      (DeploymentConfigDoesNotExistException), as AWS refuses it.
    - ListDeployments lists oldest first; AWS lists newest first. It answers
      [] for a group that does not exist, where AWS fails with
      DeploymentGroupDoesNotExistException."""
    from moto.codedeploy import responses
    from moto.codedeploy.responses import CodeDeployResponse as R
    from moto.core.responses import ActionResult

    def config_info(name: str, config: dict) -> dict:  # type: ignore[type-arg]
        return _drop_empty({"deploymentConfigName": name, **config})

    def find_config(self: R, name: str) -> dict:  # type: ignore[type-arg]
        if name in DEFAULT_CONFIGS:
            return {"deploymentConfigId": str(uuid.uuid5(uuid.NAMESPACE_URL, name)), "createTime": None, **DEFAULT_CONFIGS[name]}
        found = _configs(self.codedeploy_backend).get(name)
        if found is None:
            raise _error("DeploymentConfigDoesNotExistException", f"The deployment configuration {name} does not exist with the user or AWS account.")
        return found

    def create_deployment_config(self: R) -> ActionResult:
        name = self._get_param("deploymentConfigName")
        configs = _configs(self.codedeploy_backend)
        if name in configs or name in DEFAULT_CONFIGS:
            raise _error("DeploymentConfigAlreadyExistsException", f"A deployment configuration with name {name} already exists with the user or AWS account.")
        platform = self._get_param("computePlatform") or "Server"
        config = {
            "deploymentConfigId": str(uuid.uuid4()),
            "createTime": _utc_now(),
            "computePlatform": platform,
            "minimumHealthyHosts": self._get_param("minimumHealthyHosts"),
            "trafficRoutingConfig": self._get_param("trafficRoutingConfig") or ({"type": "AllAtOnce"} if platform != "Server" else None),
            "zonalConfig": self._get_param("zonalConfig"),
        }
        configs[name] = config
        return ActionResult({"deploymentConfigId": config["deploymentConfigId"]})

    def get_deployment_config(self: R) -> ActionResult:
        name = self._get_param("deploymentConfigName")
        return ActionResult({"deploymentConfigInfo": config_info(name, find_config(self, name))})

    def delete_deployment_config(self: R):  # type: ignore[no-untyped-def]
        name = self._get_param("deploymentConfigName")
        if name in DEFAULT_CONFIGS:
            raise _error("InvalidDeploymentConfigNameException", f"The deployment configuration {name} is a default configuration and cannot be deleted.")
        find_config(self, name)
        for groups in self.codedeploy_backend.deployment_groups.values():
            if any(str(group.deployment_config_name) == name for group in groups.values()):
                raise _error("DeploymentConfigInUseException", f"The deployment configuration {name} is in use by a deployment group.")
        del _configs(self.codedeploy_backend)[name]
        return "{}"

    def list_deployment_configs(self: R) -> ActionResult:
        return ActionResult({"deploymentConfigsList": [*DEFAULT_CONFIGS, *_configs(self.codedeploy_backend)]})

    def check_config(self: R, name: str | None) -> None:
        if name:
            find_config(self, name)

    create_group = R.create_deployment_group

    def create_deployment_group(self: R) -> ActionResult:
        check_config(self, self._get_param("deploymentConfigName"))
        result = create_group(self)
        backend = self.codedeploy_backend
        app = backend.get_application(self._get_param("applicationName"))
        group = backend.get_deployment_group(app.application_name, self._get_param("deploymentGroupName"))
        if app.compute_platform == "ECS" and not self._get_param("deploymentConfigName"):
            group.deployment_config_name = ECS_DEFAULT_CONFIG
        group.outdated_instances_strategy = group.outdated_instances_strategy or "UPDATE"
        return result

    # UpdateDeploymentGroupInput member -> DeploymentGroup attribute.
    updatable = {
        "deploymentConfigName": "deployment_config_name",
        "ec2TagFilters": "ec2_tag_filters",
        "onPremisesInstanceTagFilters": "on_premises_instance_tag_filters",
        "autoScalingGroups": "auto_scaling_groups",
        "serviceRoleArn": "service_role_arn",
        "triggerConfigurations": "trigger_configurations",
        "alarmConfiguration": "alarm_configuration",
        "autoRollbackConfiguration": "auto_rollback_configuration",
        "outdatedInstancesStrategy": "outdated_instances_strategy",
        "deploymentStyle": "deployment_style",
        "blueGreenDeploymentConfiguration": "blue_green_deployment_configuration",
        "loadBalancerInfo": "load_balancer_info",
        "ec2TagSet": "ec2_tag_set",
        "ecsServices": "ecs_services",
        "onPremisesTagSet": "on_premises_tag_set",
        "terminationHookEnabled": "termination_hook_enabled",
    }

    def update_deployment_group(self: R) -> ActionResult:
        backend = self.codedeploy_backend
        app_name = self._get_param("applicationName")
        current = self._get_param("currentDeploymentGroupName")
        group = backend.get_deployment_group(app_name, current)
        check_config(self, self._get_param("deploymentConfigName"))
        new_name = self._get_param("newDeploymentGroupName")
        if new_name and new_name != current:
            if new_name in backend.deployment_groups[app_name]:
                raise _error("DeploymentGroupAlreadyExistsException", f"Deployment group {new_name} already exists.")
            old_arn = backend._deployment_group_arn(app_name, current)
            tags = backend.list_tags_for_resource(old_arn)
            backend.tagger.delete_all_tags_for_resource(old_arn)
            if tags:
                backend.tagger.tag_resource(backend._deployment_group_arn(app_name, new_name), tags)
            backend.deployment_groups[app_name][new_name] = backend.deployment_groups[app_name].pop(current)
            group.deployment_group_name = new_name
        for param, attribute in updatable.items():
            value = self._get_param(param)
            if value is not None:
                setattr(group, attribute, value)
        return ActionResult({"hooksNotCleanedUp": []})

    def delete_deployment_group(self: R) -> ActionResult:
        backend = self.codedeploy_backend
        app_name = self._get_param("applicationName")
        name = self._get_param("deploymentGroupName")
        backend.get_application(app_name)
        if name in backend.deployment_groups.get(app_name, {}):  # AWS answers the same for a missing group
            del backend.deployment_groups[app_name][name]
            backend.tagger.delete_all_tags_for_resource(backend._deployment_group_arn(app_name, name))
        return ActionResult({"hooksNotCleanedUp": []})

    def delete_application(self: R):  # type: ignore[no-untyped-def]
        backend = self.codedeploy_backend
        app_name = self._get_param("applicationName")
        if app_name in backend.applications:  # AWS answers the same for a missing application
            for name in backend.deployment_groups.pop(app_name, {}):
                backend.tagger.delete_all_tags_for_resource(backend._deployment_group_arn(app_name, name))
            del backend.applications[app_name]
            backend.tagger.delete_all_tags_for_resource(backend._application_arn(app_name))
        return "{}"

    group_info = responses._deployment_group_info

    def deployment_group_info(group) -> dict:  # type: ignore[no-untyped-def, type-arg]
        info = group_info(group)
        info["alarmConfiguration"] = group.alarm_configuration or {"enabled": False, "ignorePollAlarmFailure": False, "alarms": []}
        return _drop_empty(info)

    list_deployments = R.list_deployments

    def list_deployments_newest_first(self: R) -> ActionResult:
        app_name, group_name = self._get_param("applicationName"), self._get_param("deploymentGroupName")
        if app_name and group_name:
            self.codedeploy_backend.get_deployment_group(app_name, group_name)
        result = list_deployments(self)
        deployments = self.codedeploy_backend.deployments
        ids = sorted(result.result["deployments"], key=lambda i: deployments[i].create_time, reverse=True)
        return ActionResult({"deployments": ids})

    R.create_deployment_config = create_deployment_config
    R.get_deployment_config = get_deployment_config
    R.delete_deployment_config = delete_deployment_config
    R.list_deployment_configs = list_deployment_configs
    R.create_deployment_group = create_deployment_group
    R.update_deployment_group = update_deployment_group
    R.delete_deployment_group = delete_deployment_group
    R.delete_application = delete_application
    R.list_deployments = list_deployments_newest_first
    responses._deployment_group_info = deployment_group_info


def _task_set(service, task_definition: str, load_balancers: list, *, status: str, running: bool, started_by: str | None = None):  # type: ignore[no-untyped-def, type-arg]
    """A task set of the service at scale 100 %, as ECS (CreateService) or CodeDeploy creates it."""
    from moto.ecs.models import TaskSet

    task_set = TaskSet(
        service.arn, service.cluster_name, task_definition, service._account_id, service.region_name,
        network_configuration=service.network_configuration or None,
        load_balancers=load_balancers,
        service_registries=service.service_registries,
        launch_type=service.launch_type,
        capacity_provider_strategy=getattr(service, "capacity_provider_strategy", None),
        platform_version=service.platform_version,
        scale={"value": 100.0, "unit": "PERCENT"},
    )
    task_set.service_arn, task_set.cluster_arn = service.arn, service.cluster_arn
    task_set.status = status
    task_set.started_by = started_by
    task_set.computed_desired_count = service.desired_count
    _set_running(task_set, running)
    return task_set


def _set_running(task_set, running: bool) -> None:  # type: ignore[no-untyped-def]
    from moto.core.utils import utcnow

    desired = task_set.computed_desired_count
    task_set.running_count, task_set.pending_count = (desired, 0) if running else (0, desired)
    task_set.stabilityStatus = "STEADY_STATE" if running else "STABILIZING"
    task_set.updatedAt = task_set.stabilityStatusAt = utcnow()


def ecs_code_deploy_services() -> None:
    """Gaps for an ECS service under the CODE_DEPLOY deployment controller:

    - CreateService creates no task set (and no deployment, which is right:
      `deployments` is empty for CODE_DEPLOY). ECS creates a PRIMARY task set
      of the given revision, scale 100 %, in the service's load balancer
      (target group A), its tasks running (they start in the emulator at
      once, as the rolling shim completes CreateService's deployment):
      DescribeServices shows it in `taskSets`, and the service's
      `taskDefinition` and `loadBalancers` are the PRIMARY task set's.
    - UpdateService with a taskDefinition changes the revision; ECS refuses
      it with InvalidParameterException (UPDATE_TASK_DEFINITION_REFUSED).
      desiredCount updates are allowed: the task sets (scale 100 %) follow.
    The ecs_rolling_deployments shim leaves these services alone (they have
    no deployments to roll out)."""
    from moto.ecs.exceptions import InvalidParameterException
    from moto.ecs.responses import EC2ContainerServiceResponse as R

    create = R.create_service

    def create_service(self: R):  # type: ignore[no-untyped-def]
        result = create(self)
        if (self._get_param("deploymentController") or {}).get("type") != CODE_DEPLOY:
            return result
        backend = self.ecs_backend
        service = backend._get_service(self._get_param("cluster", "default"), self._get_param("serviceName"))
        if service.task_definition:
            service.task_sets.append(_task_set(service, service.task_definition, [dict(lb) for lb in service.load_balancers], status="PRIMARY", running=True))
            cluster = backend._get_cluster(service.cluster_name)
            backend.update_cluster_resources(cluster, service.desired_count - service.running_count, task_state="RUNNING")
            backend.update_cluster_resources(cluster, -service.pending_count, task_state="PENDING")
            service.running_count, service.pending_count = service.desired_count, 0
        return result

    update = R.update_service

    def update_service(self: R):  # type: ignore[no-untyped-def]
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("service").split("/")[-1])
        code_deploy = service.deployment_controller.get("type") == CODE_DEPLOY
        given = self._get_param("taskDefinition")
        if code_deploy and given:
            if self.ecs_backend.describe_task_definition(given).arn != service.task_definition:
                raise InvalidParameterException(UPDATE_TASK_DEFINITION_REFUSED)
        result = update(self)
        if code_deploy and self._get_param("desiredCount") is not None:
            for task_set in service.task_sets:
                task_set.computed_desired_count = math.ceil(service.desired_count * task_set.scale["value"] / 100)
                _set_running(task_set, task_set.running_count > 0 or task_set.computed_desired_count == 0)
        return result

    R.create_service = create_service
    R.update_service = update_service


def codedeploy_ecs_deployments() -> None:
    """Gap: CodeDeploy deployments are records only: CreateDeployment stores
    one, `Created` forever, with a UUID for an ID (AWS: d-XXXXXXXXX); no
    limit of one active deployment per group; errorInformation and
    rollbackInfo are always {}; no StopDeployment, ListDeploymentTargets or
    GetDeploymentTarget; nothing happens to the ECS service or the listener.

    Play AWS's ECS blue/green deployment (the contract, issue #20), one step
    per read of the deployment (GetDeployment, BatchGetDeployments,
    GetDeploymentTarget):

    - CreateDeployment (ECS application): the group must exist (moto's
      errors), its ecsServices' service must exist and use the CODE_DEPLOY
      controller (else InvalidECSServiceException), the revision must be
      AppSpecContent naming TaskDefinition (an existing revision),
      ContainerName and ContainerPort (else InvalidRevisionException; AWS
      may instead accept it and fail the deployment: not verified), and the
      group must have no deployment in Created/Queued/InProgress/Baking/Ready
      (DeploymentLimitExceededException; the message's wording is not
      verified). The deployment is InProgress at once; BeforeInstall
      Succeeded, Install InProgress; the replacement task set (ACTIVE,
      startedBy CODE_DEPLOY, the new revision, scale 100 %, its tasks
      pending) is created in the pair's *other* target group.
      The deployment config is CreateDeployment's or else the group's.
    - Each step first reads the group's alarms (alarmConfiguration, enabled)
      in moto's CloudWatch backend, as the rolling shim does: one in ALARM
      -> Stopped, ALARM_ACTIVE; with auto-rollback on for
      DEPLOYMENT_STOP_ON_ALARM, the rollback deployment (below).
    - Step 1 (install): a revision naming an image with FAIL_TO_START never
      starts -> Failed, HEALTH_CONSTRAINTS, Install Failed, traffic never
      moved; with auto-rollback on for DEPLOYMENT_FAILURE, the rollback
      deployment. Otherwise the replacement's tasks run, AfterInstall and
      BeforeAllowTraffic Succeeded, AllowTestTraffic/AfterAllowTestTraffic
      Skipped (no test listener), AllowTraffic InProgress, and the first
      traffic shift: the production listeners' default action becomes
      forward with ForwardConfig weights (100-P on the original target
      group, P on the replacement's): TimeBasedCanary P; TimeBasedLinear
      P, 2P, ... one step each; AllAtOnce 100 at once.
    - The shift holds for the configuration's interval, one step per
      emulated minute (canary: canaryInterval steps at P %, then 100 %;
      linear: linearInterval steps per increment), then the next shift. At 100 %: UpdateServicePrimaryTaskSet (the replacement PRIMARY,
      the original ACTIVE; the service's taskDefinition and loadBalancers
      are the replacement's, as on AWS), AllowTraffic and AfterAllowTraffic
      Succeeded, instanceTerminationWaitTimeStarted true, still InProgress.
    - Termination wait: W = blueGreenDeploymentConfiguration.
      terminateBlueInstancesOnDeploymentSuccess.terminationWaitTimeInMinutes
      steps (one read = one minute; W = 0 ends at once), then the original
      task set is deleted -> Succeeded. (With action KEEP_ALIVE the original
      is kept, and the deployment Succeeded.)
    - StopDeployment (only while active; else
      DeploymentAlreadyCompletedException): Stopped, MANUAL_STOP, answering
      {"status": "Pending"}; with autoRollbackEnabled the rollback
      deployment. Without it nothing is shifted back: the listener weights
      and the task sets stay as they are (what AWS does to the traffic then
      is not documented clearly; the shim keeps it where it is). The same
      holds for an alarm stop or a failure without auto-rollback: what was
      done stays (a leftover replacement task set is deleted by the next
      CreateDeployment).
    - The rollback deployment (creator codeDeployRollback, revision: an
      AppSpec of the original task set's revision, same config): done at
      once, as the original task set still runs (no task starts): listener
      back to 100 % on the original target group, the original PRIMARY again
      (service taskDefinition/loadBalancers back), the replacement task set
      deleted. It reads InProgress until its first read, then Succeeded.
      rollbackInfo: rollbackDeploymentId on the stopped/failed deployment,
      rollbackTriggeringDeploymentId on the rollback one. Its target shows
      the original task set only, the install events Skipped (not verified
      against AWS). Alarms are not read for a rollback deployment.
    - ListDeploymentTargets: ["<cluster>:<service>"]; GetDeploymentTarget:
      the ECSTarget (lifecycle events; taskSetsInfo with AWS's `identifer`
      spelling, Blue = original, Green = replacement, trafficWeight in
      percent; a task set already deleted shows its last counts). A stopped
      or failed deployment's target is Failed, its running event Failed and
      the events it never reached Skipped (AWS's exact values there are not
      verified).
    Deployments of other compute platforms keep moto's behaviour."""
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.codedeploy import models, responses
    from moto.codedeploy.responses import CodeDeployResponse as R
    from moto.core.responses import ActionResult
    from moto.ecs.models import ecs_backends
    from moto.elbv2.models import elbv2_backends
    from moto.moto_api._internal import mock_random

    init = models.DeploymentInfo.__init__

    def deployment_init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        init(self, *args, **kwargs)
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        self.deployment_id = "d-" + "".join(mock_random.choice(alphabet) for _ in range(9))

    models.DeploymentInfo.__init__ = deployment_init

    def records(backend) -> dict:  # type: ignore[no-untyped-def, type-arg]
        return _shim_state(backend, "codedeploy_ecs_deployments")

    def ecs_of(backend):  # type: ignore[no-untyped-def]
        return ecs_backends[backend.account_id][backend.region_name]

    def elbv2_of(backend):  # type: ignore[no-untyped-def]
        return elbv2_backends[backend.account_id][backend.region_name]

    def target_group_named(backend, name: str):  # type: ignore[no-untyped-def]
        for group in elbv2_of(backend).target_groups.values():
            if group.name == name:
                return group
        raise _error("InvalidTargetGroupPairException", f"The target group {name} does not exist.")

    def parse_appspec(revision: dict) -> dict:  # type: ignore[type-arg]
        content = ((revision or {}).get("appSpecContent") or {}).get("content") or ""
        try:
            try:
                spec = json.loads(content)
            except ValueError:
                import yaml

                spec = yaml.safe_load(content)
            properties = spec["Resources"][0]["TargetService"]["Properties"]
            lb = properties["LoadBalancerInfo"]
            return {"taskDefinition": properties["TaskDefinition"], "containerName": lb["ContainerName"], "containerPort": int(lb["ContainerPort"])}
        except Exception:
            raise _error("InvalidRevisionException", "The AppSpec content must name Resources[0].TargetService.Properties.TaskDefinition and LoadBalancerInfo.ContainerName/ContainerPort.")

    def appspec(task_definition: str, container: str, port: int) -> dict:  # type: ignore[type-arg]
        spec = {"version": 0.0, "Resources": [{"TargetService": {"Type": "AWS::ECS::Service", "Properties": {
            "TaskDefinition": task_definition, "LoadBalancerInfo": {"ContainerName": container, "ContainerPort": port}}}}]}
        return {"revisionType": "AppSpecContent", "appSpecContent": {"content": json.dumps(spec)}}

    def config_of(backend, name: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
        found = DEFAULT_CONFIGS.get(name) or _configs(backend).get(name) or DEFAULT_CONFIGS[ECS_DEFAULT_CONFIG]
        return found.get("trafficRoutingConfig") or {"type": "AllAtOnce"}

    def holds_of(routing: dict) -> list[int]:  # type: ignore[type-arg]
        """Steps (emulated minutes) each shift of ``weights_of`` lasts before the next: the canary's or each linear interval."""
        if routing.get("type") == "TimeBasedCanary":
            return [max(1, int(routing["timeBasedCanary"]["canaryInterval"])), 0]
        if routing.get("type") == "TimeBasedLinear":
            interval = max(1, int(routing["timeBasedLinear"]["linearInterval"]))
            return [interval] * (len(weights_of(routing)) - 1) + [0]
        return [0]

    def weights_of(routing: dict) -> list[int]:  # type: ignore[type-arg]
        if routing.get("type") == "TimeBasedCanary":
            return [int(routing["timeBasedCanary"]["canaryPercentage"]), 100]
        if routing.get("type") == "TimeBasedLinear":
            step = max(1, int(routing["timeBasedLinear"]["linearPercentage"]))
            return [*range(step, 100, step), 100]
        return [100]

    def service_of(backend, rec: dict):  # type: ignore[no-untyped-def, type-arg]
        return ecs_of(backend)._get_service(rec["cluster"], rec["service"])

    def live_task_set(backend, rec: dict, arn: str | None):  # type: ignore[no-untyped-def, type-arg]
        if not arn:
            return None
        return next((t for t in service_of(backend, rec).task_sets if t.task_set_arn == arn), None)

    def snapshot(backend, rec: dict) -> None:  # type: ignore[no-untyped-def, type-arg]
        """Keep each task set's counts, for taskSetsInfo once it is gone."""
        for label in ("Blue", "Green"):
            info = rec["task_sets"].get(label)
            task_set = live_task_set(backend, rec, info and info["arn"])
            if task_set is not None:
                info.update(status=task_set.status, desiredCount=task_set.computed_desired_count,
                            pendingCount=task_set.pending_count, runningCount=task_set.running_count)
        rec["updated"] = _utc_now()

    def shift(backend, rec: dict, replacement_weight: int) -> None:  # type: ignore[no-untyped-def, type-arg]
        """ModifyListener: forward with ForwardConfig weights on both target groups."""
        elbv2 = elbv2_of(backend)
        original, replacement = rec["task_sets"]["Blue"], rec["task_sets"].get("Green")  # no Green: a rollback's
        weights = {"Blue": 100 - replacement_weight, "Green": replacement_weight}
        for listener_arn in rec["listeners"]:
            listener = elbv2.describe_listeners(load_balancer_arn=None, listener_arns=[listener_arn])[0]
            action: dict[str, Any] = {"Type": "forward", "ForwardConfig": {"TargetGroups": [
                {"TargetGroupArn": original["targetGroupArn"], "Weight": weights["Blue"]},
                {"TargetGroupArn": rec["replacement_tg"], "Weight": weights["Green"]},
            ]}}
            order = listener.default_actions[0].data.get("Order") if listener.default_actions else None
            if order is not None:
                action["Order"] = order
            elbv2.modify_listener(listener_arn, actions=[action])
            for arn in (original["targetGroupArn"], rec["replacement_tg"]):
                group = elbv2.target_groups[arn]
                if listener.load_balancer_arn not in group.load_balancer_arns:
                    group.load_balancer_arns.append(listener.load_balancer_arn)
        original["trafficWeight"] = float(weights["Blue"])
        if replacement is not None:
            replacement["trafficWeight"] = float(weights["Green"])

    def make_primary(backend, rec: dict, label: str) -> None:  # type: ignore[no-untyped-def, type-arg]
        ecs_of(backend).update_service_primary_task_set(rec["cluster"], rec["service"], rec["task_sets"][label]["arn"])

    def delete_task_set(backend, rec: dict, label: str) -> None:  # type: ignore[no-untyped-def, type-arg]
        snapshot(backend, rec)
        info = rec["task_sets"].get(label)
        if info and live_task_set(backend, rec, info["arn"]) is not None:
            ecs_of(backend).delete_task_set(rec["cluster"], rec["service"], info["arn"])

    def set_events(rec: dict, status: str, *names: str) -> None:  # type: ignore[type-arg]
        now = _utc_now()
        for name in names:
            event = rec["events"][name]
            if status == "InProgress":
                event.update(status=status, startTime=now)
            elif status == "Skipped":
                event.update(status=status)
            else:
                event.setdefault("startTime", now)
                event.update(status=status, endTime=now)

    def end(deployment, status: str) -> None:  # type: ignore[no-untyped-def]
        deployment.status = status
        deployment.complete_time = _utc_now()

    def auto_rollback(deployment, event: str) -> bool:  # type: ignore[no-untyped-def]
        config = deployment.auto_rollback_configuration or deployment.deployment_group.auto_rollback_configuration or {}
        return bool(config.get("enabled")) and event in (config.get("events") or [])

    def abort(backend, deployment, rec: dict, status: str, code: str, message: str, rollback: bool) -> None:  # type: ignore[no-untyped-def, type-arg]
        """Failed or Stopped with errorInformation; the running event Failed, the rest Skipped."""
        for event in rec["events"].values():
            if event["status"] == "InProgress":
                set_events(rec, "Failed", event["lifecycleEventName"])
            elif event["status"] == "Pending":
                event["status"] = "Skipped"
        rec["error"] = {"code": code, "message": message}
        end(deployment, status)
        snapshot(backend, rec)
        if rollback:
            roll_back(backend, deployment, rec)

    def roll_back(backend, deployment, rec: dict) -> None:  # type: ignore[no-untyped-def, type-arg]
        """The rollback deployment: traffic back on the original, which is PRIMARY again; the replacement deleted."""
        original = rec["task_sets"]["Blue"]
        shift(backend, rec, 0)
        if live_task_set(backend, rec, original["arn"]) is not None:
            make_primary(backend, rec, "Blue")
        delete_task_set(backend, rec, "Green")
        group = deployment.deployment_group
        rollback = models.DeploymentInfo(
            deployment.application, group,
            appspec(original["taskDefinition"], rec["container"], rec["port"]),
            deployment.deployment_config_name, None, None, None, None, None, None, None, "codeDeployRollback",
        )
        rollback.status = "InProgress"
        rollback.start_time = _utc_now()
        backend.deployments[rollback.deployment_id] = rollback
        events = {name: {"lifecycleEventName": name, "status": "Skipped"} for name in LIFECYCLE_EVENTS}
        rollback_rec = {
            **{key: rec[key] for key in ("cluster", "service", "service_arn", "listeners", "container", "port", "replacement_tg")},
            "events": events,
            "task_sets": {"Blue": {**original, "status": "PRIMARY", "trafficWeight": 100.0}},
            "phase": "rollback", "rollback_of": deployment.deployment_id, "error": None, "updated": _utc_now(),
            "rollback_info": {"rollbackTriggeringDeploymentId": deployment.deployment_id,
                              "rollbackMessage": f"Rollback of deployment {deployment.deployment_id}."},
        }
        set_events(rollback_rec, "InProgress", "AllowTraffic")
        records(backend)[rollback.deployment_id] = rollback_rec
        rec["rollback_info"] = {"rollbackDeploymentId": rollback.deployment_id,
                                "rollbackMessage": f"Deployment {deployment.deployment_id} was rolled back by deployment {rollback.deployment_id}."}
        snapshot(backend, rec)

    def alarms_in_alarm(backend, deployment) -> list[str]:  # type: ignore[no-untyped-def]
        config = deployment.deployment_group.alarm_configuration or {}
        if not config.get("enabled"):
            return []
        found = cloudwatch_backends[backend.account_id][backend.region_name].alarms
        names = [alarm.get("name") for alarm in config.get("alarms") or []]
        return [name for name in names if name in found and found[name].state_value == "ALARM"]

    def cannot_start(backend, task_definition: str) -> bool:  # type: ignore[no-untyped-def]
        definition = ecs_of(backend).describe_task_definition(task_definition)
        return any(_FAIL_TO_START in (c.get("image") or c.get("Image") or "") for c in definition.container_definitions)

    def all_shifted(backend, deployment, rec: dict) -> None:  # type: ignore[no-untyped-def, type-arg]
        make_primary(backend, rec, "Green")
        set_events(rec, "Succeeded", "AllowTraffic")
        set_events(rec, "Succeeded", "AfterAllowTraffic")
        rec["phase"] = "wait"
        deployment.instance_termination_wait_time_started = True
        snapshot(backend, rec)
        if rec["wait"] <= 0:
            terminate(backend, deployment, rec)

    def terminate(backend, deployment, rec: dict) -> None:  # type: ignore[no-untyped-def, type-arg]
        if rec["terminate"]:
            delete_task_set(backend, rec, "Blue")
        rec["phase"] = "done"
        end(deployment, "Succeeded")
        snapshot(backend, rec)

    def advance(backend, deployment) -> None:  # type: ignore[no-untyped-def]
        """One emulated step of an active deployment of the shim."""
        rec = records(backend).get(deployment.deployment_id)
        if rec is None or deployment.status not in ACTIVE_STATUSES:
            return
        if rec["phase"] == "rollback":
            set_events(rec, "Succeeded", "AllowTraffic")
            end(deployment, "Succeeded")
            rec["updated"] = _utc_now()
            return
        firing = alarms_in_alarm(backend, deployment)
        if firing:
            message = ALARM_ACTIVE_MESSAGE.format(alarms=", ".join(firing))
            abort(backend, deployment, rec, "Stopped", "ALARM_ACTIVE", message, auto_rollback(deployment, "DEPLOYMENT_STOP_ON_ALARM"))
            return
        if rec["phase"] == "install":
            replacement = live_task_set(backend, rec, rec["task_sets"]["Green"]["arn"])
            if cannot_start(backend, rec["task_sets"]["Green"]["taskDefinition"]):
                abort(backend, deployment, rec, "Failed", "HEALTH_CONSTRAINTS", HEALTH_CONSTRAINTS_MESSAGE, auto_rollback(deployment, "DEPLOYMENT_FAILURE"))
                return
            if replacement is not None:
                _set_running(replacement, True)
            set_events(rec, "Succeeded", "Install", "AfterInstall")
            set_events(rec, "Skipped", "AllowTestTraffic", "AfterAllowTestTraffic")
            set_events(rec, "Succeeded", "BeforeAllowTraffic")
            set_events(rec, "InProgress", "AllowTraffic")
            rec["phase"], rec["stage"] = "shift", 0
        elif rec["phase"] == "shift":
            # The bake: a shift holds for its interval (one read = one emulated minute).
            rec["held"] = rec.get("held", 0) + 1
            if rec["held"] < rec["holds"][rec["stage"]]:
                snapshot(backend, rec)
                return
            rec["stage"], rec["held"] = rec["stage"] + 1, 0
        elif rec["phase"] == "wait":
            rec["waited"] += 1
            if rec["waited"] >= rec["wait"]:
                terminate(backend, deployment, rec)
            else:
                snapshot(backend, rec)
            return
        weight = rec["weights"][rec["stage"]]
        shift(backend, rec, weight)
        snapshot(backend, rec)
        if weight >= 100:
            all_shifted(backend, deployment, rec)

    create_deployment = R.create_deployment

    def create_ecs_deployment(self: R) -> ActionResult:
        backend = self.codedeploy_backend
        app_name, group_name = self._get_param("applicationName"), self._get_param("deploymentGroupName")
        app = backend.get_application(app_name)
        group = backend.get_deployment_group(app_name, group_name or "")
        if app.compute_platform != "ECS":
            return create_deployment(self)
        active = [d for d in backend.deployments.values()
                  if d.application_name == app_name and d.deployment_group_name == group_name and d.status in ACTIVE_STATUSES]
        if active:
            raise _error("DeploymentLimitExceededException", f"The Deployment Group '{group_name}' already has an active Deployment '{active[0].deployment_id}'")
        spec = parse_appspec(self._get_param("revision"))
        ecs = ecs_of(backend)
        try:
            task_definition = ecs.describe_task_definition(spec["taskDefinition"]).arn
        except Exception:
            raise _error("InvalidRevisionException", f"The task definition {spec['taskDefinition']} does not exist.")
        target = (group.ecs_services or [{}])[0]
        try:
            service = ecs._get_service(target.get("clusterName", ""), target.get("serviceName", ""))
        except Exception:
            raise _error("InvalidECSServiceException", f"The ECS service {target.get('serviceName')} in cluster {target.get('clusterName')} does not exist.")
        if service.deployment_controller.get("type") != CODE_DEPLOY:
            raise _error("InvalidECSServiceException", f"The ECS service {service.name} does not use the CODE_DEPLOY deployment controller.")
        primary = next((t for t in service.task_sets if t.status == "PRIMARY"), None)
        pairs = (group.load_balancer_info or {}).get("targetGroupPairInfoList") or []
        if primary is None or not primary.load_balancers or not pairs:
            raise _error("InvalidECSServiceException", f"The ECS service {service.name} has no PRIMARY task set behind a target group of the deployment group.")
        names = [tg["name"] for tg in pairs[0].get("targetGroups") or []]
        groups = {name: target_group_named(backend, name) for name in names}
        original_tg = primary.load_balancers[0]["targetGroupArn"]
        others = [tg for tg in groups.values() if tg.arn != original_tg]
        if len(groups) != 2 or len(others) != 1:
            raise _error("InvalidTargetGroupPairException", "The PRIMARY task set's target group must be one of the deployment group's two target groups.")
        replacement_tg = others[0]

        for stale in [t for t in service.task_sets if t.status != "PRIMARY"]:  # left by a stop without rollback
            ecs.delete_task_set(service.cluster_name, service.name, stale.task_set_arn)
        body = create_deployment(self)
        deployment = backend.deployments[body.result["deploymentId"]]
        deployment.status = "InProgress"
        deployment.start_time = _utc_now()

        load_balancers = [{**lb, "targetGroupArn": replacement_tg.arn, "containerName": spec["containerName"], "containerPort": spec["containerPort"]}
                          for lb in primary.load_balancers[:1]]
        replacement = _task_set(service, task_definition, load_balancers, status="ACTIVE", running=False, started_by=CODE_DEPLOY)
        service.task_sets.append(replacement)
        blue_green = group.blue_green_deployment_configuration or {}
        terminate_config = blue_green.get("terminateBlueInstancesOnDeploymentSuccess") or {}

        def info(task_set, target_group) -> dict:  # type: ignore[no-untyped-def, type-arg]
            return {"arn": task_set.task_set_arn, "identifer": task_set.id, "taskDefinition": task_set.task_definition,
                    "targetGroupArn": target_group, "targetGroup": {"name": elbv2_of(backend).target_groups[target_group].name}}

        rec = {
            "cluster": service.cluster_name, "service": service.name, "service_arn": service.arn,
            "listeners": list(((pairs[0].get("prodTrafficRoute") or {}).get("listenerArns")) or []),
            "container": spec["containerName"], "port": spec["containerPort"], "replacement_tg": replacement_tg.arn,
            "task_sets": {
                "Blue": {**info(primary, original_tg), "trafficWeight": 100.0},
                "Green": {**info(replacement, replacement_tg.arn), "trafficWeight": 0.0},
            },
            "events": {name: {"lifecycleEventName": name, "status": "Pending"} for name in LIFECYCLE_EVENTS},
            "phase": "install", "stage": 0, "waited": 0,
            "weights": weights_of(config_of(backend, str(deployment.deployment_config_name))),
            "holds": holds_of(config_of(backend, str(deployment.deployment_config_name))),
            "wait": int(terminate_config.get("terminationWaitTimeInMinutes") or 0),
            "terminate": terminate_config.get("action", "TERMINATE") != "KEEP_ALIVE",
            "rollback_of": None, "error": None, "rollback_info": None, "updated": _utc_now(),
        }
        set_events(rec, "Succeeded", "BeforeInstall")
        set_events(rec, "InProgress", "Install")
        records(backend)[deployment.deployment_id] = rec
        snapshot(backend, rec)
        return body

    deployment_info = responses._deployment_info

    def ecs_deployment_info(backend, deployment) -> dict:  # type: ignore[no-untyped-def, type-arg]
        info = deployment_info(deployment)
        rec = records(backend).get(deployment.deployment_id)
        if rec is not None:
            info["errorInformation"] = rec["error"]
            info["rollbackInfo"] = rec["rollback_info"]
            info["deploymentOverview"] = None  # instance counts: not for ECS
            info["targetInstances"] = None
        return _drop_empty(info)

    def get_deployment(self: R) -> ActionResult:
        deployment = self.codedeploy_backend.get_deployment(self._get_param("deploymentId"))
        advance(self.codedeploy_backend, deployment)
        return ActionResult({"deploymentInfo": ecs_deployment_info(self.codedeploy_backend, deployment)})

    def batch_get_deployments(self: R) -> ActionResult:
        found = self.codedeploy_backend.batch_get_deployments(self._get_param("deploymentIds") or [])
        for deployment in found:
            advance(self.codedeploy_backend, deployment)
        return ActionResult({"deploymentsInfo": [ecs_deployment_info(self.codedeploy_backend, d) for d in found]})

    def record_of(self: R) -> tuple[Any, dict]:  # type: ignore[type-arg]
        deployment = self.codedeploy_backend.get_deployment(self._get_param("deploymentId"))
        rec = records(self.codedeploy_backend).get(deployment.deployment_id)
        if rec is None:
            raise _error("InvalidDeploymentIdException", f"The deployment {deployment.deployment_id} is not an ECS deployment of the emulator.")
        return deployment, rec

    def target_status(deployment) -> str:  # type: ignore[no-untyped-def]
        return {"Succeeded": "Succeeded", "Failed": "Failed", "Stopped": "Failed", "Created": "Pending", "Queued": "Pending"}.get(deployment.status, "InProgress")

    def list_deployment_targets(self: R) -> ActionResult:
        _, rec = record_of(self)
        return ActionResult({"targetIds": [f"{rec['cluster']}:{rec['service']}"]})

    def get_deployment_target(self: R) -> ActionResult:
        deployment, rec = record_of(self)
        target_id = f"{rec['cluster']}:{rec['service']}"
        if self._get_param("targetId") != target_id:
            raise _error("DeploymentTargetDoesNotExistException", f"The target {self._get_param('targetId')} does not exist in deployment {deployment.deployment_id}.")
        advance(self.codedeploy_backend, deployment)
        task_sets = [{**{k: v for k, v in info.items() if k not in ("arn", "taskDefinition", "targetGroupArn")}, "taskSetLabel": label}
                     for label, info in rec["task_sets"].items()]
        return ActionResult({"deploymentTarget": {"deploymentTargetType": "ECSTarget", "ecsTarget": {
            "deploymentId": deployment.deployment_id, "targetId": target_id, "targetArn": rec["service_arn"],
            "lastUpdatedAt": rec["updated"], "status": target_status(deployment),
            "lifecycleEvents": [dict(rec["events"][name]) for name in LIFECYCLE_EVENTS],
            "taskSetsInfo": task_sets,
        }}})

    def stop_deployment(self: R) -> ActionResult:
        backend = self.codedeploy_backend
        deployment = backend.get_deployment(self._get_param("deploymentId"))
        if deployment.status not in ACTIVE_STATUSES:
            raise _error("DeploymentAlreadyCompletedException", f"The deployment {deployment.deployment_id} has already completed.")
        rec = records(backend).get(deployment.deployment_id)
        rollback = bool(self._get_param("autoRollbackEnabled"))
        if rec is None or rec["phase"] == "rollback":
            end(deployment, "Stopped")
        else:
            abort(backend, deployment, rec, "Stopped", "MANUAL_STOP", MANUAL_STOP_MESSAGE, rollback)
        return ActionResult({"status": "Pending", "statusMessage": "Stop deployment request is pending."})

    R.create_deployment = create_ecs_deployment
    R.get_deployment = get_deployment
    R.batch_get_deployments = batch_get_deployments
    R.list_deployment_targets = list_deployment_targets
    R.get_deployment_target = get_deployment_target
    R.stop_deployment = stop_deployment
