"""Deploy an image to an ECS service, or roll it back, by task-definition revision.

    python -m tools.ecs_deploy deploy   --cluster C --service S --image <repo_url>:<sha> [--wait]
    python -m tools.ecs_deploy rollback --cluster C --service S [--revision N] [--wait]
    (a CODE_DEPLOY service: plus --codedeploy-application A --codedeploy-group G)

Both print the task-definition ARN the service now runs, and nothing else,
on stdout; errors go to stderr with exit status 1.

``--wait`` follows the deployment the command itself started, not the
service: the ID of the PRIMARY deployment of the new revision that
UpdateService answers with. It succeeds only when that deployment is
COMPLETED and still the PRIMARY, and the service runs the revision. It fails,
naming the revision the service runs now, when that deployment FAILED, or
when it is gone from the service's deployments while another revision is the
PRIMARY. The latter is what the deployment circuit breaker's rollback looks
like once it is over: ECS marks the deployment FAILED, starts a NEW deployment
of the last completed revision, and, when that one completes, drops the
failed one; the service is then stable again, on the old revision (which is
why waiting for a stable service, as ``services_stable`` does, reported
success after a rollback). aws-actions/amazon-ecs-deploy-task-definition fixed
the same bug the same way (issue #191, pull request #860). The error names
what failed the deployment when its rolloutStateReason tells (``failure_cause``):
the deployment circuit breaker (tasks that do not start or stay healthy), or
the service's deployment alarms (its release gate, such as the workers' DLQ
growth alarm, in ALARM during the rollout or the bake time after it); the
reason itself is quoted either way.

``deploy`` registers a NEW revision copied from the newest ACTIVE revision of
the service's family, with only the container image replaced, then points
the service at it. Copying the newest revision (not the running one) is
what lets Terraform-side changes ride along: when Terraform changes the
task definition it registers a revision, which the next deploy starts from.
Everything else of the revision is kept: roles, environment, secrets,
cpu/memory, log configuration, tags.

``rollback`` points the service at an earlier ACTIVE revision of its family,
``--revision N`` (the seed's ``--task-definition circle-of-trust-api:42``)
or by default the revision before the one it runs now. "Before" skips
revisions that no deploy registered: when Terraform changes the task
definition it registers a revision that names the config's first image tag
and never runs (the service ignores it until the next deploy copies it), so
rolling back onto it would start an image nobody deployed. Deploys tag their
revisions ``deployed-by=tools.ecs_deploy`` to tell them apart; when no earlier
revision has the tag, the default is simply the one just before (the
revision Terraform created the service with).

Terraform ignores the service's ``task_definition`` and ``desired_count``,
so neither command causes drift (see constructs_lib/service.py).

A service whose deployment controller is CODE_DEPLOY (DescribeServices'
``deploymentController.type``; the API with the canary release strategy)
cannot be updated to a revision: both commands then release through
CodeDeploy (tools/codedeploy_release.py), with ``--codedeploy-application``
and ``--codedeploy-group`` (the services layer's outputs
``api_codedeploy_application_name`` and
``api_codedeploy_deployment_group_name``). The revision is registered and
chosen exactly as above; see that module for what ``--wait`` and
``rollback`` do there.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

# The RegisterTaskDefinition parameters that DescribeTaskDefinition returns.
# Everything else it returns (arn, revision, status, compatibilities,
# requiresAttributes, registeredAt/By, ...) is read-only.
REGISTER_FIELDS = (
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "containerDefinitions",
    "volumes",
    "placementConstraints",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "pidMode",
    "ipcMode",
    "proxyConfiguration",
    "inferenceAccelerators",
    "ephemeralStorage",
    "runtimePlatform",
    "enableFaultInjection",
)
# Marks the revisions a deploy registered (see ``rollback``).
DEPLOY_TAG = {"key": "deployed-by", "value": "tools.ecs_deploy"}
_TASK_DEFINITION = re.compile(r"(?:^|/)(?P<family>[A-Za-z0-9_-]{1,255}):(?P<revision>[1-9][0-9]*)$")
# <registry>/<repository>:<tag> or <registry>/<repository>@sha256:<digest>
_IMAGE = re.compile(r"^[^\s:@]+(?::[0-9]+)?/[^\s:@]+(?::[A-Za-z0-9_][A-Za-z0-9._-]{0,127}|@sha256:[0-9a-f]{64})$")


class DeployError(RuntimeError):
    """A deploy or rollback that cannot go ahead; the message says why."""


def parse_task_definition(arn_or_name: str) -> tuple[str, int]:
    """(family, revision) from ``arn:...:task-definition/family:rev`` or ``family:rev``."""
    match = _TASK_DEFINITION.search(arn_or_name)
    if not match:
        raise DeployError(f"not a task definition revision: {arn_or_name!r} (expected family:revision or its ARN)")
    return match.group("family"), int(match.group("revision"))


def _call(description: str, operation, **kwargs) -> dict:
    """Run one ECS call; turn a client error into a DeployError that says what failed."""
    try:
        return operation(**kwargs)
    except Exception as error:  # botocore ClientError and friends
        code = getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__)
        raise DeployError(f"{description} failed ({code}): {error}") from error


def describe_service(ecs_client, cluster: str, service: str) -> dict:
    """The service, or a DeployError naming the cluster and service."""
    response = _call(
        f"describing service {service!r} in cluster {cluster!r}",
        ecs_client.describe_services,
        cluster=cluster,
        services=[service],
    )
    found = [item for item in response.get("services", []) if item.get("status") != "INACTIVE"]
    if not found:
        reasons = ", ".join(failure.get("reason", "?") for failure in response.get("failures", [])) or "INACTIVE"
        raise DeployError(f"service {service!r} not found in cluster {cluster!r} ({reasons})")
    return found[0]


def active_revisions(ecs_client, family: str) -> dict[int, str]:
    """revision -> ARN of every ACTIVE revision of exactly ``family``."""
    revisions: dict[int, str] = {}
    paginator = ecs_client.get_paginator("list_task_definitions")
    try:
        pages = list(paginator.paginate(familyPrefix=family, status="ACTIVE"))
    except Exception as error:
        raise DeployError(f"listing the revisions of family {family!r} failed: {error}") from error
    for page in pages:
        for arn in page.get("taskDefinitionArns", []):
            arn_family, revision = parse_task_definition(arn)
            if arn_family == family:  # familyPrefix is documented as a family name, but be exact
                revisions[revision] = arn
    return revisions


def _describe_task_definition(ecs_client, task_definition: str) -> tuple[dict, list[dict]]:
    response = _call(
        f"describing task definition {task_definition!r}",
        ecs_client.describe_task_definition,
        taskDefinition=task_definition,
        include=["TAGS"],
    )
    return response["taskDefinition"], response.get("tags") or []


def image_problem(image: str) -> str | None:
    """Why ``image`` is not one deploy_image accepts, or None (the ECR-push updater checks pushes with it)."""
    if _IMAGE.fullmatch(image):
        return None
    return f"image must be <repository_url>:<tag> or <repository_url>@sha256:<digest>, but {image!r} was provided"


def _newest_revision(ecs_client, cluster: str, service: str) -> tuple[str, str, dict, list[dict]]:
    """(family, ARN, task definition, tags) of the newest ACTIVE revision of the service's family: what a deploy starts from."""
    return _newest_revision_of(ecs_client, describe_service(ecs_client, cluster, service))


def _newest_revision_of(ecs_client, current: dict) -> tuple[str, str, dict, list[dict]]:
    family, _ = parse_task_definition(current["taskDefinition"])
    revisions = active_revisions(ecs_client, family)
    if not revisions:
        raise DeployError(f"family {family!r} has no ACTIVE revision to start from")
    arn = revisions[max(revisions)]
    task_definition, tags = _describe_task_definition(ecs_client, arn)
    return family, arn, task_definition, tags


def _container(containers: list[dict], revision_arn: str, container: str | None) -> dict:
    """The named container's definition, or the only one when ``container`` is None."""
    names = [item["name"] for item in containers]
    if container is None:
        if len(containers) != 1:
            raise DeployError(f"{revision_arn} has {len(containers)} containers ({', '.join(names)}); name one with --container")
        return containers[0]
    matching = [item for item in containers if item["name"] == container]
    if not matching:
        raise DeployError(f"{revision_arn} has no container {container!r}; it has: {', '.join(names)}")
    return matching[0]


def current_image(ecs_client, cluster: str, service: str, container: str | None = None) -> str:
    """The image the newest ACTIVE revision of the service's family names for ``container``: the one deploy_image would replace."""
    _, arn, task_definition, _ = _newest_revision(ecs_client, cluster, service)
    return _container(task_definition["containerDefinitions"], arn, container)["image"]


def running_image(ecs_client, cluster: str, service: str, container: str | None = None) -> str:
    """The image the revision the service runs (its ``taskDefinition``, the PRIMARY deployment's) names for ``container``."""
    arn = describe_service(ecs_client, cluster, service)["taskDefinition"]
    task_definition, _ = _describe_task_definition(ecs_client, arn)
    return _container(task_definition["containerDefinitions"], arn, container)["image"]


@dataclass(frozen=True)
class Waiting:
    """How ``--wait`` polls: every ``poll_seconds``, for at most ``timeout_seconds``."""

    poll_seconds: float = 15.0
    timeout_seconds: float = 1800.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


def deploy_image(
    ecs_client,
    cluster: str,
    service: str,
    image: str,
    container: str | None = None,
    *,
    wait: Waiting | None = None,
    release: codedeploy_release.CodeDeployTarget | None = None,
) -> str:
    """Register a revision with ``image`` and update the service to it; return its ARN.

    ``container`` names the container whose image changes; it may be left
    out when the task definition has exactly one. With ``wait``, return only
    once the deployment this call started COMPLETED (see wait_for_deployment).

    A CODE_DEPLOY service is released through CodeDeploy instead, and needs
    ``release`` (the codedeploy client, application and deployment group;
    see tools/codedeploy_release.py). ``release`` is not used for a service
    with another deployment controller.
    """
    problem = image_problem(image)
    if problem:
        raise DeployError(problem)
    current = describe_service(ecs_client, cluster, service)
    code_deploy = codedeploy_release.controller(current) == "CODE_DEPLOY"
    if code_deploy:
        release = codedeploy_release.require_target(release, service)
    family, base_arn, task_definition, tags = _newest_revision_of(ecs_client, current)
    if code_deploy:
        # Before registering anything: the AppSpec needs the container's port.
        codedeploy_release.load_balancer_container(task_definition, base_arn, container)

    request: dict[str, Any] = {key: copy.deepcopy(task_definition[key]) for key in REGISTER_FIELDS if task_definition.get(key) not in (None, [], {})}
    target = _container(request["containerDefinitions"], base_arn, container)
    target["image"] = image
    # Keep the revision's tags (not aws:*, which AWS owns) and mark it as deployed.
    request["tags"] = [tag for tag in tags if not tag["key"].startswith("aws:") and tag["key"] != DEPLOY_TAG["key"]]
    request["tags"].append(dict(DEPLOY_TAG))

    registered = _call(f"registering a revision of {family!r}", ecs_client.register_task_definition, **request)
    new_arn = registered["taskDefinition"]["taskDefinitionArn"]
    if code_deploy:
        codedeploy_release.create_release(ecs_client, cluster, service, release, new_arn, registered["taskDefinition"], container, wait)
    else:
        _point_service_at(ecs_client, cluster, service, new_arn, wait)
    return new_arn


def was_deployed(ecs_client, task_definition_arn: str) -> bool:
    """Whether a deploy registered this revision (it carries DEPLOY_TAG)."""
    _, tags = _describe_task_definition(ecs_client, task_definition_arn)
    return DEPLOY_TAG in [{"key": tag["key"], "value": tag["value"]} for tag in tags]


def rollback(
    ecs_client,
    cluster: str,
    service: str,
    to_revision: int | None = None,
    *,
    wait: Waiting | None = None,
    release: codedeploy_release.CodeDeployTarget | None = None,
    container: str | None = None,
    follow: Waiting | None = None,
) -> str:
    """Point the service at an earlier ACTIVE revision of its family; return its ARN.

    Default: the newest ACTIVE revision below the running one that a deploy
    registered, or, when there is none, the newest ACTIVE revision below it.
    With ``wait``, return only once the deployment this call started
    COMPLETED (see wait_for_deployment).

    A CODE_DEPLOY service needs ``release`` (and ``container`` when its
    revision has several): with a CodeDeploy deployment in progress, it is
    stopped with auto-rollback and the rollback followed (the ARN returned
    is the revision the service serves after it; polled as ``wait``, else
    ``follow``, else ``Waiting()`` says); otherwise the revision chosen as
    above is released through CodeDeploy. See tools/codedeploy_release.py.
    """
    current = describe_service(ecs_client, cluster, service)
    if codedeploy_release.controller(current) == "CODE_DEPLOY":
        release = codedeploy_release.require_target(release, service)
        return codedeploy_release.roll_back(
            ecs_client,
            cluster,
            service,
            release,
            lambda: _rollback_target(ecs_client, service, current, to_revision),
            container,
            wait,
            revision=to_revision,
            follow=follow,
        )
    target_arn = _rollback_target(ecs_client, service, current, to_revision)
    _point_service_at(ecs_client, cluster, service, target_arn, wait)
    return target_arn


def _rollback_target(ecs_client, service: str, current: dict, to_revision: int | None) -> str:
    """The ARN ``rollback`` goes to (see there), for the service as DescribeServices answered (``current``)."""
    family, running = parse_task_definition(current["taskDefinition"])
    revisions = active_revisions(ecs_client, family)
    if to_revision is None:
        earlier = sorted((revision for revision in revisions if revision < running), reverse=True)
        if not earlier:
            raise DeployError(
                f"service {service!r} runs {family}:{running} and the family has no earlier ACTIVE revision to roll back to"
            )
        deployed = (revision for revision in earlier if was_deployed(ecs_client, revisions[revision]))
        target = next(deployed, earlier[0])
    else:
        if to_revision < 1:
            raise DeployError(f"revision must be 1 or more, but {to_revision} was provided")
        if to_revision == running:
            raise DeployError(f"service {service!r} already runs {family}:{running}")
        if to_revision not in revisions:
            raise DeployError(
                f"{family}:{to_revision} is not an ACTIVE revision (ACTIVE: {', '.join(map(str, sorted(revisions))) or 'none'}); "
                "ECS cannot move a service onto a missing or INACTIVE revision"
            )
        target = to_revision
    return revisions[target]


def _point_service_at(ecs_client, cluster: str, service: str, task_definition_arn: str, wait: Waiting | None) -> None:
    """UpdateService to the revision; with ``wait``, follow the deployment that started until it is over."""
    response = _call(
        f"updating service {service!r} to {task_definition_arn}",
        ecs_client.update_service,
        cluster=cluster,
        service=service,
        taskDefinition=task_definition_arn,
    )
    if wait is None:
        return
    deployment_id = own_deployment_id(response.get("service") or {}, task_definition_arn)
    if deployment_id is None:
        # UpdateService answers with the service as it is after the call; read it once more before giving up.
        deployment_id = own_deployment_id(describe_service(ecs_client, cluster, service), task_definition_arn)
    if deployment_id is None:
        raise DeployError(
            f"updating service {service!r} to {task_definition_arn} started no PRIMARY deployment of it, so there is nothing to wait for"
        )
    wait_for_deployment(ecs_client, cluster, service, deployment_id, task_definition_arn, wait)


def own_deployment_id(service: dict, task_definition_arn: str) -> str | None:
    """The ID of the service's PRIMARY deployment when it deploys ``task_definition_arn`` (right after UpdateService: ours)."""
    for deployment in service.get("deployments") or []:
        if deployment.get("status") == "PRIMARY" and deployment.get("taskDefinition") == task_definition_arn:
            return deployment.get("id")
    return None


def _revision(arn: str | None) -> str:
    """``family:revision`` of a task-definition ARN, for messages."""
    if not arn:
        return "no revision"
    try:
        family, revision = parse_task_definition(arn)
    except DeployError:
        return arn
    return f"{family}:{revision}"


def failure_cause(reason: str | None) -> str | None:
    """What failed (or is rolling back) a deployment, from its rolloutStateReason: for messages, None when it does not say.

    ECS's circuit breaker reasons start "ECS deployment circuit breaker:"
    (failed: "tasks failed to start."; its rollback: "rolling back to
    deploymentId ..."). The text ECS gives a deployment its alarms failed is
    not documented, so any reason naming an alarm counts as the alarms'.
    """
    text = (reason or "").lower()
    if "circuit breaker" in text:
        return "the deployment circuit breaker"
    if "alarm" in text:
        return "a deployment alarm (the service's release gate)"
    return None


def deployment_outcome(service: dict, deployment_id: str, task_definition_arn: str) -> tuple[bool, str | None]:
    """Judge one DescribeServices answer for the deployment ``deployment_id`` of ``task_definition_arn``.

    (True, None): it is over and succeeded. (False, None): not over yet.
    (False, why): it is over and failed; ``why`` names the revision the service runs now.
    """
    deployments = service.get("deployments") or []
    primary = next((item for item in deployments if item.get("status") == "PRIMARY"), {})
    ours = next((item for item in deployments if item.get("id") == deployment_id), None)
    deployed = _revision(task_definition_arn)
    runs_now = _revision(service.get("taskDefinition") or primary.get("taskDefinition"))
    if ours is None:
        if primary.get("taskDefinition") == task_definition_arn and primary.get("rolloutState") != "FAILED":
            return False, (
                f"deployment {deployment_id} of {deployed} was replaced by deployment {primary.get('id')} of the same revision; "
                "run the command again to follow that one"
            )
        cause = failure_cause(primary.get("rolloutStateReason"))
        return False, (
            f"deployment {deployment_id} of {deployed} is gone from service {service.get('serviceName')!r}, which now runs {runs_now} "
            f"(deployment {primary.get('id')}, {primary.get('rolloutState', 'no rollout state')}: "
            f"{primary.get('rolloutStateReason', 'no reason given')}); "
            + (f"{cause} rolled it back" if cause else "the deployment circuit breaker rolled it back (or a deployment alarm did), or a later deployment replaced it")
        )
    if ours.get("rolloutState") == "FAILED":
        reason = ours.get("rolloutStateReason", "no reason given")
        cause = failure_cause(reason)
        return False, (
            f"deployment {deployment_id} of {deployed} failed ({reason}); service {service.get('serviceName')!r} now runs {runs_now}"
            + (f", which its PRIMARY deployment {primary.get('id')} rolls back to" if primary and primary is not ours else "")
            + (f"; failed by {cause}" if cause else "")
        )
    if ours.get("status") != "PRIMARY":
        # Still listed, no longer PRIMARY: a later UpdateService started another deployment.
        return False, (
            f"deployment {deployment_id} of {deployed} is no longer the PRIMARY one; service {service.get('serviceName')!r} "
            f"now deploys {_revision(primary.get('taskDefinition'))} (deployment {primary.get('id')})"
        )
    if "rolloutState" in ours:
        done = ours["rolloutState"] == "COMPLETED"
    else:
        # No rollout state (not the rolling update controller): done like the services_stable waiter,
        # one deployment left and all its tasks running.
        done = len(deployments) == 1 and ours.get("runningCount") == ours.get("desiredCount")
    if not done:
        return False, None
    if service.get("taskDefinition") != task_definition_arn:
        return False, f"deployment {deployment_id} of {deployed} completed, but service {service.get('serviceName')!r} runs {runs_now}"
    return True, None


def wait_for_deployment(ecs_client, cluster: str, service: str, deployment_id: str, task_definition_arn: str, wait: Waiting = Waiting()) -> None:
    """Poll the service until deployment ``deployment_id`` of ``task_definition_arn`` is over; raise a DeployError unless it COMPLETED.

    See the module docstring; deployment_outcome judges each answer.
    """
    deadline = wait.clock() + wait.timeout_seconds
    while True:
        current = describe_service(ecs_client, cluster, service)
        succeeded, failure = deployment_outcome(current, deployment_id, task_definition_arn)
        if succeeded:
            return
        if failure:
            raise DeployError(failure)
        if wait.clock() >= deadline:
            ours = next((item for item in current.get("deployments") or [] if item.get("id") == deployment_id), {})
            raise DeployError(
                f"deployment {deployment_id} of {_revision(task_definition_arn)} did not complete within {wait.timeout_seconds:g} s "
                f"({ours.get('rolloutState', 'no rollout state')}: {ours.get('rolloutStateReason', 'no reason given')}, "
                f"{ours.get('runningCount', '?')} of {ours.get('desiredCount', '?')} tasks running); "
                f"service {service!r} runs {_revision(current.get('taskDefinition'))}"
            )
        wait.sleep(wait.poll_seconds)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.ecs_deploy", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("deploy", "register a revision with a new image and deploy it"), ("rollback", "deploy an earlier revision")):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--cluster", required=True, help="ECS cluster name or ARN")
        command.add_argument("--service", required=True, help="ECS service name or ARN")
        command.add_argument("--region", help="AWS region (default: the AWS SDK's, e.g. AWS_REGION)")
        command.add_argument(
            "--wait",
            action="store_true",
            help="wait until the deployment this command starts COMPLETED; exit 1 when it failed or was rolled back",
        )
        command.add_argument("--poll-seconds", type=float, default=Waiting.poll_seconds, help="with --wait: seconds between checks (default %(default)s)")
        command.add_argument(
            "--timeout-seconds", type=float, default=Waiting.timeout_seconds, help="with --wait: give up after this long (default %(default)s)"
        )
        command.add_argument(
            "--codedeploy-application",
            help="a CODE_DEPLOY service's CodeDeploy application (terraform output api_codedeploy_application_name)",
        )
        command.add_argument(
            "--codedeploy-group",
            help="a CODE_DEPLOY service's deployment group (terraform output api_codedeploy_deployment_group_name)",
        )
        if name == "deploy":
            command.add_argument("--image", required=True, help="<repository_url>:<commit-sha>")
            command.add_argument("--container", help="container to change (default: the only one); a CODE_DEPLOY release names its port")
        else:
            command.add_argument("--revision", type=int, help="revision to go to (default: the one before the running one)")
            command.add_argument("--container", help="a CODE_DEPLOY service: the container whose port the release names (default: the only one)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, ecs_client=None, *, sleep: Callable[[float], None] = time.sleep, codedeploy_client=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if ecs_client is None:
        import boto3

        ecs_client = boto3.client("ecs", region_name=args.region)
    wait = Waiting(poll_seconds=args.poll_seconds, timeout_seconds=args.timeout_seconds, sleep=sleep) if args.wait else None
    release = None
    if args.codedeploy_application or args.codedeploy_group:
        if codedeploy_client is None:
            import boto3

            codedeploy_client = boto3.client("codedeploy", region_name=args.region)
        release = codedeploy_release.CodeDeployTarget(codedeploy_client, args.codedeploy_application or "", args.codedeploy_group or "")
    try:
        if args.command == "deploy":
            arn = deploy_image(ecs_client, args.cluster, args.service, args.image, container=args.container, wait=wait, release=release)
        else:
            # A stop during a CodeDeploy deployment is always followed (see tools/codedeploy_release.py), with these settings.
            follow = wait or Waiting(poll_seconds=args.poll_seconds, timeout_seconds=args.timeout_seconds, sleep=sleep)
            arn = rollback(
                ecs_client, args.cluster, args.service, to_revision=args.revision, wait=wait, release=release, container=args.container, follow=follow
            )
    except DeployError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(arn)
    return 0


# The CodeDeploy path. Imported last: it imports this module, whose names are all defined by now.
if __name__ == "__main__":
    # `python -m tools.ecs_deploy`: codedeploy_release's import of this module must find this one, not load a
    # second copy (whose DeployError main would not catch).
    sys.modules.setdefault(__spec__.name if __spec__ else "ecs_deploy", sys.modules[__name__])
if __package__:
    from . import codedeploy_release
else:  # packaged next to codedeploy_release.py (the updater Lambda), or run from tools/
    import codedeploy_release

if __name__ == "__main__":
    sys.exit(main())
