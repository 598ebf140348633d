"""The CodeDeploy path of tools/ecs_deploy.py: releasing to an ECS service whose deployment controller is CODE_DEPLOY.

Such a service (the API with ``api_release_strategy = "canary"``) refuses
UpdateService with a new task definition; a release is a CodeDeploy
deployment of the group Terraform made for it (outputs
``api_codedeploy_application_name`` / ``api_codedeploy_deployment_group_name``),
whose AppSpec names the revision, the container and its port. CodeDeploy
starts a replacement task set, shifts a canary share of the listener's
traffic to it, bakes, shifts the rest, and keeps the original task set for
the group's termination wait before deleting it (``Succeeded``). A release
alarm in ALARM (``ALARM_ACTIVE``), tasks that never get healthy
(``HEALTH_CONSTRAINTS`` / ``ECS_UPDATE_ERROR``) or StopDeployment
(``MANUAL_STOP``) end the deployment ``Stopped`` or ``Failed``, and with
auto-rollback CodeDeploy starts a rollback deployment (creator
``codeDeployRollback``) that moves traffic back to the original task set.

``deploy --wait`` follows the deployment it created, by ID:

* success: ``Succeeded``, or ``InProgress`` with the ECS target's
  ``AfterAllowTraffic`` lifecycle event ``Succeeded`` (and the deployment,
  read once more, not stopped meanwhile): all traffic is on the
  replacement, and what is left is the termination wait, during which
  ``rollback`` still shifts traffic back (said on stderr, with the window);
* failure: ``Failed`` or ``Stopped``; the rollback deployment, when there is
  one, is followed to its end first, and the error names the deployment,
  ``errorInformation`` (code, message and what the code means), the
  rollback deployment and the revision the service serves afterwards;
* timeout: as on the rolling path (``ecs_deploy.Waiting``).

``rollback``: when the group has a deployment in progress (Created, Queued,
InProgress, Baking or Ready, such as one in its termination wait),
StopDeployment with autoRollbackEnabled and follow the rollback deployment
CodeDeploy starts (always: only once it is over is the serving revision
known; without ``--wait``, polled as ``--poll-seconds`` and
``--timeout-seconds`` say); otherwise a new
deployment of the earlier revision ``ecs_deploy.rollback`` chose.

Standard library only at module level: the ECR-push updater Lambda packages
this file next to ecs_deploy.py and its handler.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

if __package__:
    from . import ecs_deploy
else:  # packaged next to ecs_deploy.py (the updater Lambda), or run from tools/
    import ecs_deploy

# ListDeployments statuses of a deployment that is not over: CreateDeployment fails while the group has one.
IN_PROGRESS_STATUSES = ("Created", "Queued", "InProgress", "Baking", "Ready")
FAILED_STATUSES = ("Failed", "Stopped")
ROLLBACK_CREATOR = "codeDeployRollback"
TRAFFIC_SHIFTED_EVENT = "AfterAllowTraffic"
# What an errorInformation code means, for messages.
CAUSES = {
    "ALARM_ACTIVE": "a release alarm",
    "HEALTH_CONSTRAINTS": "the new tasks failed health checks or did not start",
    "ECS_UPDATE_ERROR": "the new tasks failed health checks or did not start",
    "MANUAL_STOP": "stopped by an operator",
}
FLAGS_MISSING = (
    "service {service!r} uses the CODE_DEPLOY deployment controller, so it is released through CodeDeploy: "
    "pass --codedeploy-application and --codedeploy-group (the services layer's terraform outputs "
    "api_codedeploy_application_name and api_codedeploy_deployment_group_name)"
)


@dataclass(frozen=True)
class CodeDeployTarget:
    """The boto3 ``codedeploy`` client and the application and deployment group that release the service."""

    client: Any
    application: str
    group: str


def controller(service: dict) -> str:
    """The service's deployment controller type (ECS when DescribeServices names none)."""
    return (service.get("deploymentController") or {}).get("type") or "ECS"


def require_target(release: CodeDeployTarget | None, service: str) -> CodeDeployTarget:
    if release is None or not release.application or not release.group:
        raise ecs_deploy.DeployError(FLAGS_MISSING.format(service=service))
    return release


def load_balancer_container(task_definition: dict, revision_arn: str, container: str | None) -> tuple[str, int]:
    """(name, port) of the container the AppSpec's LoadBalancerInfo names: ``container``, or the only one; its first port mapping."""
    definition = ecs_deploy._container(task_definition["containerDefinitions"], revision_arn, container)
    ports = [mapping["containerPort"] for mapping in definition.get("portMappings") or [] if mapping.get("containerPort")]
    if not ports:
        raise ecs_deploy.DeployError(
            f"container {definition['name']!r} of {revision_arn} has no portMappings, so there is no port for CodeDeploy's "
            "load balancer to shift traffic to"
        )
    return definition["name"], ports[0]


def app_spec(task_definition_arn: str, container: str, port: int) -> str:
    """The AppSpec content (JSON, which is valid YAML) of a release of ``task_definition_arn``."""
    return json.dumps(
        {
            "version": 0.0,
            "Resources": [
                {
                    "TargetService": {
                        "Type": "AWS::ECS::Service",
                        "Properties": {
                            "TaskDefinition": task_definition_arn,
                            "LoadBalancerInfo": {"ContainerName": container, "ContainerPort": port},
                        },
                    }
                }
            ],
        }
    )


def _error_code(error: BaseException) -> str:
    cause = error.__cause__ if isinstance(error, ecs_deploy.DeployError) and error.__cause__ else error
    return getattr(cause, "response", {}).get("Error", {}).get("Code", type(cause).__name__)


def _in_progress(release: CodeDeployTarget) -> list[str]:
    """IDs of the group's deployments that are not over, newest first."""
    response = ecs_deploy._call(
        f"listing the deployments in progress of deployment group {release.group!r} of application {release.application!r}",
        release.client.list_deployments,
        applicationName=release.application,
        deploymentGroupName=release.group,
        includeOnlyStatuses=list(IN_PROGRESS_STATUSES),
    )
    return list(response.get("deployments") or [])


def create_release(
    ecs_client, cluster: str, service: str, release: CodeDeployTarget, task_definition_arn: str, task_definition: dict, container: str | None, wait
) -> None:
    """CreateDeployment of ``task_definition_arn``; with ``wait``, follow it (see the module docstring)."""
    name, port = load_balancer_container(task_definition, task_definition_arn, container)
    revision = ecs_deploy._revision(task_definition_arn)
    try:
        response = release.client.create_deployment(
            applicationName=release.application,
            deploymentGroupName=release.group,
            revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": app_spec(task_definition_arn, name, port)}},
            description=f"tools.ecs_deploy: {revision} to {cluster}/{service}",
        )
    except Exception as error:  # botocore ClientError and friends
        code = _error_code(error)
        where = f"deployment group {release.group!r} of application {release.application!r}"
        if code == "DeploymentLimitExceededException":
            try:
                busy = ", ".join(_in_progress(release)) or "unknown"
            except ecs_deploy.DeployError:
                busy = "unknown"
            raise ecs_deploy.DeployError(
                f"CodeDeploy refused to deploy {revision} to {where} ({code}): the group already has a deployment in progress "
                f"({busy}); wait for it to end, or stop it and shift traffic back with `python -m tools.ecs_deploy rollback`"
            ) from error
        raise ecs_deploy.DeployError(f"creating a CodeDeploy deployment of {revision} in {where} failed ({code}): {error}") from error
    deployment_id = response["deploymentId"]
    print(f"CodeDeploy deployment {deployment_id} of {revision} to service {service!r} started", file=sys.stderr)
    if wait is not None:
        wait_for_release(ecs_client, cluster, service, release, deployment_id, task_definition_arn, wait)


def _get_deployment(release: CodeDeployTarget, deployment_id: str) -> dict:
    return ecs_deploy._call(f"reading CodeDeploy deployment {deployment_id}", release.client.get_deployment, deploymentId=deployment_id)["deploymentInfo"]


def _ecs_target(release: CodeDeployTarget, deployment_id: str) -> dict:
    """The deployment's ECS target (lifecycle events, task sets), or {} while it has none."""
    target_ids = ecs_deploy._call(
        f"listing the targets of CodeDeploy deployment {deployment_id}", release.client.list_deployment_targets, deploymentId=deployment_id
    ).get("targetIds") or []
    if not target_ids:
        return {}
    response = ecs_deploy._call(
        f"reading target {target_ids[0]} of CodeDeploy deployment {deployment_id}",
        release.client.get_deployment_target,
        deploymentId=deployment_id,
        targetId=target_ids[0],
    )
    return (response.get("deploymentTarget") or {}).get("ecsTarget") or {}


def _event_status(target: dict, name: str) -> str | None:
    return next((event.get("status") for event in target.get("lifecycleEvents") or [] if event.get("lifecycleEventName") == name), None)


def _progress(target: dict) -> str:
    """Where an ECS target is, for messages: its lifecycle event under way and the traffic on each task set."""
    events = target.get("lifecycleEvents") or []
    current = next((event for event in events if event.get("status") == "InProgress"), None)
    current = current or next((event for event in events if event.get("status") == "Pending"), None)
    sets = ", ".join(
        f"{item.get('taskSetLabel', '?')} {item.get('trafficWeight', 0):g} %"
        for item in target.get("taskSetsInfo") or []
    )
    step = f"lifecycle event {current['lifecycleEventName']} {current['status']}" if current else "no lifecycle event under way"
    return f"{step}; traffic: {sets or 'no task sets yet'}"


def _termination_wait(release: CodeDeployTarget) -> str:
    """The group's termination wait, for the note on stderr ("" when it cannot be read: the note is informational)."""
    try:
        info = release.client.get_deployment_group(applicationName=release.application, deploymentGroupName=release.group)["deploymentGroupInfo"]
        minutes = info["blueGreenDeploymentConfiguration"]["terminateBlueInstancesOnDeploymentSuccess"]["terminationWaitTimeInMinutes"]
    except Exception:
        return ""
    return f" for {minutes} minutes (the deployment group's termination wait)"


def cause(code: str | None) -> str:
    return CAUSES.get(code or "", f"CodeDeploy's error code {code}" if code else "no error information")


def _follow_to_end(release: CodeDeployTarget, deployment_id: str, wait, deadline: float) -> dict | None:
    """Poll deployment ``deployment_id`` until it is Succeeded, Failed or Stopped: its info, or None at the deadline."""
    while True:
        info = _get_deployment(release, deployment_id)
        if info.get("status") in ("Succeeded", *FAILED_STATUSES):
            return info
        if wait.clock() >= deadline:
            return None
        wait.sleep(wait.poll_seconds)


def failure_message(ecs_client, cluster: str, service: str, release: CodeDeployTarget, info: dict, task_definition_arn: str, wait, deadline: float) -> str:
    """Why deployment ``info`` (Failed or Stopped) failed and what serves now, after following its rollback deployment to its end."""
    error = info.get("errorInformation") or {}
    code = error.get("code")
    message = (
        f"CodeDeploy deployment {info['deploymentId']} of {ecs_deploy._revision(task_definition_arn)} {info['status']}: "
        f"{cause(code)} ({code or 'no code'}: {error.get('message', 'no message')})"
    )
    rollback_id = (info.get("rollbackInfo") or {}).get("rollbackDeploymentId")
    if rollback_id:
        ended = _follow_to_end(release, rollback_id, wait, deadline)
        if ended is None:
            message += f"; its rollback deployment {rollback_id} did not end within {wait.timeout_seconds:g} s"
        elif ended.get("status") == "Succeeded":
            message += f"; rollback deployment {rollback_id} Succeeded"
        else:
            rollback_error = ended.get("errorInformation") or {}
            message += (
                f"; rollback deployment {rollback_id} {ended.get('status')} "
                f"({rollback_error.get('code', 'no code')}: {rollback_error.get('message', 'no message')})"
            )
    else:
        message += "; CodeDeploy started no rollback deployment"
    serving = ecs_deploy.describe_service(ecs_client, cluster, service).get("taskDefinition")
    return f"{message}; service {service!r} now serves {ecs_deploy._revision(serving)}"


def wait_for_release(ecs_client, cluster: str, service: str, release: CodeDeployTarget, deployment_id: str, task_definition_arn: str, wait) -> None:
    """Poll CodeDeploy deployment ``deployment_id`` of ``task_definition_arn`` until it is over; raise a DeployError unless it succeeded.

    See the module docstring for what counts as over.
    """
    deadline = wait.clock() + wait.timeout_seconds
    target: dict = {}
    while True:
        info = _get_deployment(release, deployment_id)
        status = info.get("status")
        if status == "Succeeded":
            return
        if status in FAILED_STATUSES:
            raise ecs_deploy.DeployError(failure_message(ecs_client, cluster, service, release, info, task_definition_arn, wait, deadline))
        if status == "InProgress":
            target = _ecs_target(release, deployment_id) or target
            if _event_status(target, TRAFFIC_SHIFTED_EVENT) == "Succeeded":
                # Traffic has moved; the deployment may have been stopped since it was read (an alarm in the termination wait).
                confirmed = _get_deployment(release, deployment_id)
                if confirmed.get("status") in FAILED_STATUSES:
                    raise ecs_deploy.DeployError(failure_message(ecs_client, cluster, service, release, confirmed, task_definition_arn, wait, deadline))
                print(
                    f"CodeDeploy deployment {deployment_id}: all traffic is on {ecs_deploy._revision(task_definition_arn)}; the original "
                    f"task set is kept{_termination_wait(release)} before it is deleted, and until then "
                    "`python -m tools.ecs_deploy rollback` shifts traffic back to it",
                    file=sys.stderr,
                )
                return
        if wait.clock() >= deadline:
            serving = ecs_deploy.describe_service(ecs_client, cluster, service).get("taskDefinition")
            raise ecs_deploy.DeployError(
                f"CodeDeploy deployment {deployment_id} of {ecs_deploy._revision(task_definition_arn)} did not complete within "
                f"{wait.timeout_seconds:g} s ({status}; {_progress(target)}); service {service!r} serves {ecs_deploy._revision(serving)}"
            )
        wait.sleep(wait.poll_seconds)


def stop_and_roll_back(ecs_client, cluster: str, service: str, release: CodeDeployTarget, deployment_id: str, wait) -> str:
    """StopDeployment(autoRollbackEnabled) of the group's deployment in progress; follow the rollback; the ARN the service serves after it.

    A deployment in progress that is itself a rollback deployment is followed, not stopped.
    """
    deadline = wait.clock() + wait.timeout_seconds
    info = _get_deployment(release, deployment_id)
    if info.get("creator") == ROLLBACK_CREATOR:
        rollback_id = deployment_id
        print(f"CodeDeploy deployment {deployment_id} is already a rollback; following it", file=sys.stderr)
    else:
        ecs_deploy._call(
            f"stopping CodeDeploy deployment {deployment_id}",
            release.client.stop_deployment,
            deploymentId=deployment_id,
            autoRollbackEnabled=True,
        )
        print(f"CodeDeploy deployment {deployment_id} stopped with auto-rollback; following the rollback", file=sys.stderr)
        stopped = _follow_to_end(release, deployment_id, wait, deadline)
        if stopped is None:
            raise ecs_deploy.DeployError(f"CodeDeploy deployment {deployment_id} was asked to stop but did not within {wait.timeout_seconds:g} s")
        if stopped.get("status") == "Succeeded":
            raise ecs_deploy.DeployError(
                f"CodeDeploy deployment {deployment_id} Succeeded before it could be stopped; run rollback again to deploy the earlier revision"
            )
        rollback_id = (stopped.get("rollbackInfo") or {}).get("rollbackDeploymentId")
        if not rollback_id:
            serving = ecs_deploy.describe_service(ecs_client, cluster, service).get("taskDefinition")
            raise ecs_deploy.DeployError(
                f"CodeDeploy deployment {deployment_id} {stopped.get('status')} but CodeDeploy started no rollback deployment; "
                f"service {service!r} serves {ecs_deploy._revision(serving)}"
            )
    ended = _follow_to_end(release, rollback_id, wait, deadline)
    serving = ecs_deploy.describe_service(ecs_client, cluster, service).get("taskDefinition")
    if ended is None or ended.get("status") != "Succeeded":
        state = "did not end within {:g} s".format(wait.timeout_seconds) if ended is None else ended.get("status")
        error = (ended or {}).get("errorInformation") or {}
        detail = f" ({error.get('code')}: {error.get('message')})" if error else ""
        raise ecs_deploy.DeployError(
            f"rollback deployment {rollback_id} of CodeDeploy deployment {deployment_id} {state}{detail}; "
            f"service {service!r} serves {ecs_deploy._revision(serving)}"
        )
    return serving


def roll_back(
    ecs_client,
    cluster: str,
    service: str,
    release: CodeDeployTarget,
    choose_target,
    container: str | None,
    wait,
    *,
    revision: int | None = None,
    follow=None,
) -> str:
    """``rollback`` of a CODE_DEPLOY service; ``choose_target()`` is the rolling path's choice of the earlier revision (an ARN).

    Returns the ARN the service serves (after a stop) or is being released to (a new deployment).
    """
    in_progress = _in_progress(release)
    if in_progress:
        if revision is not None:
            raise ecs_deploy.DeployError(
                f"CodeDeploy deployment {in_progress[0]} of service {service!r} is in progress, so --revision {revision} cannot be deployed now; "
                "run rollback without --revision to stop it and shift traffic back, then deploy the revision"
            )
        return stop_and_roll_back(ecs_client, cluster, service, release, in_progress[0], wait or follow or ecs_deploy.Waiting())
    target_arn = choose_target()
    task_definition, _ = ecs_deploy._describe_task_definition(ecs_client, target_arn)
    create_release(ecs_client, cluster, service, release, target_arn, task_definition, container, wait)
    return target_arn
