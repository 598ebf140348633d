"""Deploy the image an ECR repository just received to its ECS service.

EventBridge invokes ``handler`` asynchronously with an "ECR Image Action"
event. The repository -> service mapping is the function's ``SERVICE_MAP``
environment variable, an explicit JSON object::

    {"circle-of-trust-api": {"cluster": "circle-of-trust-api", "service": "api-service",
                             "repository_url": "123456789012.dkr.ecr.us-east-1.amazonaws.com/circle-of-trust-api",
                             "container": "api"}, ...}

A service released through CodeDeploy (deployment controller CODE_DEPLOY,
the API with the canary release strategy) also has ``codedeploy_application``
and ``codedeploy_group`` (both or neither): the push is then deployed with a
CodeDeploy deployment (tools/codedeploy_release.py, packaged next to this
file too), whose AppSpec names the new revision, the container and its port.
The function does not wait for it, as it does not wait for a rolling update:
it returns once CreateDeployment answered; the release alarms and
CodeDeploy's auto-rollback guard the rest. A push while the group has a
deployment in progress fails (DeploymentLimitExceededException) and is
retried by Lambda, and then parked in the DLQ.

The seed chose the service by ``'api' in repo_name``, which would also roll
the API for ``rapid-worker``; an exact map cannot. The seed then forced a
new deployment, which restarts the service's current revision: with
IMMUTABLE SHA tags that revision names the previous image, so a push
deployed nothing. This function deploys ``<repository_url>:<image-tag>``
the way CI does, with ``ecs_deploy.deploy_image`` (tools/ecs_deploy.py,
packaged next to this file): a new revision copied from the family's newest
ACTIVE one with only that container's image replaced, tagged
``deployed-by``, and the service pointed at it, so rollbacks work the same
whichever of the two deployed.

Newest image wins. Two pushes close together, or a push whose event comes
late (EventBridge and Lambda retry for up to an hour each), would otherwise
let whichever deploy finishes last leave an OLDER image running. Before
deploying, the function reads two images of the mapped container: the one
the family's newest ACTIVE revision names (the revision a deploy copies) and
the one the revision the service runs names (its taskDefinition, the PRIMARY
deployment's). When either is another tag of the same repository, and ECR
(DescribeImages, ``imagePushedAt``) says it was pushed after the pushed tag,
the event is ignored. Both are needed: right after Terraform registers a
revision, the newest one names the config's tag, which was never pushed,
while the service still runs the last deploy's image. The function's
reserved concurrency of 1 makes this check and the deploy one step: no
second push deploys in between. Anything else (another repository, a digest,
a tag ECR does not hold, such as the config's first ``latest``) deploys as
before.

When it raises, and why:

- Any event it cannot use (malformed, partial, foreign, a DELETE, a failed
  push, an unmapped repository, a push without an image tag or with one
  that is no valid image reference) is logged and answered with
  ``{"status": "ignored", "reason": ...}``. Retrying such an event can never
  succeed; raising would only retry it twice and park it in the DLQ.
- A push older than the image the service's newest revision names is
  answered ``{"status": "ignored", "reason": "<other> (pushed <time>) is
  newer than <tag> (pushed <time>) ..."}``: deploying it would roll back.
- A failed deploy (an ECS error; an ECR error, other than the current
  image's tag not being found, the pushed tag included; or a task
  definition without the mapped container) is logged and re-raised:
  throttling and transient faults succeed on Lambda's retries, and a
  lasting fault ends in the DLQ, where an alarm sees it.
- A broken ``SERVICE_MAP`` fails the cold start: every push would be
  mishandled, so the function's errors and the DLQ should show it at once
  rather than a stream of "ignored" answers.

Python 3.11+, boto3 and the standard library only.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from datetime import datetime
from typing import Any, Mapping

import boto3
from botocore.exceptions import ClientError

import codedeploy_release  # tools/codedeploy_release.py, packaged next to this file (ecs_deploy's CodeDeploy path)
import ecs_deploy  # tools/ecs_deploy.py, which the construct packages next to this file

logger = logging.getLogger("ecs_updater")
logger.setLevel(os.environ.get("LOG_LEVEL", "INFO"))

EVENT_SOURCE = "aws.ecr"
EVENT_DETAIL_TYPE = "ECR Image Action"
TARGET_KEYS = ("cluster", "service", "repository_url", "container")
# Set together, for a service released through CodeDeploy.
CODEDEPLOY_KEYS = ("codedeploy_application", "codedeploy_group")
_EXPECTED = "JSON object of repository -> {" + ", ".join(TARGET_KEYS) + "[, " + ", ".join(CODEDEPLOY_KEYS) + "]}"


class ConfigurationError(ValueError):
    """SERVICE_MAP is missing or malformed; every problem in one message."""


def _log(level: int, message: str, **fields: Any) -> None:
    """One JSON object per line, so CloudWatch Logs Insights can filter on its fields."""
    logger.log(level, json.dumps({"message": message, **fields}, default=repr, sort_keys=True))


def parse_service_map(text: str | None) -> dict[str, dict[str, str]]:
    """Validate SERVICE_MAP; raise one ConfigurationError that lists every problem."""
    if not text:
        raise ConfigurationError(f"SERVICE_MAP is not set; expected a {_EXPECTED}")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigurationError(f"SERVICE_MAP is not valid JSON: {error}") from None
    if not isinstance(raw, dict) or not raw:
        raise ConfigurationError(f"SERVICE_MAP must be a non-empty {_EXPECTED}")
    problems = []
    for repository, target in raw.items():
        if not repository:
            problems.append("an empty repository name")
        if not isinstance(target, dict) or set(target) not in (set(TARGET_KEYS), {*TARGET_KEYS, *CODEDEPLOY_KEYS}):
            problems.append(
                f"{repository}: must be an object with exactly the keys {', '.join(TARGET_KEYS)} "
                f"(and, for a CodeDeploy release, both of {', '.join(CODEDEPLOY_KEYS)}); got {target!r}"
            )
            continue
        for key in [key for key in (*TARGET_KEYS, *CODEDEPLOY_KEYS) if key in target]:
            if not isinstance(target[key], str) or not target[key]:
                problems.append(f"{repository}: {key} must be a non-empty string; got {target[key]!r}")
        url = target["repository_url"]
        # The URL must be this repository's: a pushed tag is deployed as <repository_url>:<tag>.
        if repository and isinstance(url, str) and url and not url.endswith(f"/{repository}"):
            problems.append(f"{repository}: repository_url must end with /{repository}; got {url!r}")
    if problems:
        raise ConfigurationError("SERVICE_MAP: " + "; ".join(problems))
    return raw


def _load_service_map() -> dict[str, dict[str, str]]:
    try:
        return parse_service_map(os.environ.get("SERVICE_MAP"))
    except ConfigurationError as error:
        _log(logging.ERROR, "configuration error", error=str(error))
        raise


SERVICE_MAP = _load_service_map()


@functools.cache
def _ecs() -> Any:
    """Made on the first deployment, in the function's region (Lambda sets AWS_REGION)."""
    return boto3.client("ecs", region_name=os.environ.get("AWS_REGION"))


@functools.cache
def _codedeploy() -> Any:
    """Made on the first CodeDeploy release, in the function's region."""
    return boto3.client("codedeploy", region_name=os.environ.get("AWS_REGION"))


def _release(target: Mapping[str, str]) -> Any:
    """The CodeDeploy application and group that release the target's service, or None (a rolling update)."""
    if "codedeploy_application" not in target:
        return None
    return codedeploy_release.CodeDeployTarget(_codedeploy(), target["codedeploy_application"], target["codedeploy_group"])


@functools.cache
def _ecr() -> Any:
    """Made on the first push-time lookup, in the function's region."""
    return boto3.client("ecr", region_name=os.environ.get("AWS_REGION"))


def _pushed_at(repository: str, tag: str) -> datetime:
    """When ECR received ``repository:tag``; raises ClientError (ImageNotFoundException when ECR holds no such tag)."""
    response = _ecr().describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
    return response["imageDetails"][0]["imagePushedAt"]


def _is_image_not_found(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ImageNotFoundException"


def _newer_image(target: Mapping[str, str], repository: str, image_tag: str) -> str | None:
    """Why deploying ``image_tag`` would replace a newer push of the repository, or None when it would not.

    Checks the image of the family's newest revision and the image of the revision the service runs.
    """
    ecs = _ecs()
    cluster, service, container = target["cluster"], target["service"], target["container"]
    images = {
        "the service's newest revision names it": ecs_deploy.current_image(ecs, cluster, service, container=container),
        "the service runs it": ecs_deploy.running_image(ecs, cluster, service, container=container),
    }
    prefix = f"{target['repository_url']}:"
    pushed_at: datetime | None = None
    checked: set[str] = set()
    for where, current in images.items():
        if current in checked or not current.startswith(prefix) or current == prefix + image_tag:
            continue  # another repository, a digest, or this very tag (a retry must still point the service at it)
        checked.add(current)
        other = current[len(prefix):]
        try:
            other_pushed_at = _pushed_at(repository, other)
        except ClientError as error:
            if _is_image_not_found(error):
                continue  # such as the config's first tag, which was never pushed
            raise
        if pushed_at is None:
            pushed_at = _pushed_at(repository, image_tag)  # just pushed: not finding it is a fault, not a reason to skip
        if other_pushed_at > pushed_at:
            return (
                f"{other} (pushed {other_pushed_at.isoformat()}) is newer than {image_tag} (pushed {pushed_at.isoformat()}) "
                f"and {where}; deploying {image_tag} would roll it back"
            )
    return None


def _push_problem(event: Any) -> str | None:
    """Why an event is not a successful ECR image push, or None when it is one."""
    if not isinstance(event, dict):
        return "event is not an object"
    if event.get("source") != EVENT_SOURCE:
        return f"source is not {EVENT_SOURCE}"
    if event.get("detail-type") != EVENT_DETAIL_TYPE:
        return f"detail-type is not {EVENT_DETAIL_TYPE}"
    detail = event.get("detail")
    if not isinstance(detail, dict):
        return "detail is missing or not an object"
    if detail.get("action-type") != "PUSH":
        return "detail.action-type is not PUSH"
    if detail.get("result") != "SUCCESS":
        return "detail.result is not SUCCESS"
    if not isinstance(detail.get("repository-name"), str):
        return "detail.repository-name is missing or not a string"
    return None


def _ignored(reason: str, event: Any) -> dict[str, str]:
    event_id = event.get("id") if isinstance(event, dict) else None
    _log(logging.INFO, "event ignored", reason=reason, event_id=event_id)
    return {"status": "ignored", "reason": reason}


def _image_tag(detail: Mapping[str, Any]) -> str | None:
    tag = detail.get("image-tag")
    return tag if isinstance(tag, str) and tag else None


def handler(event: Any, context: Any) -> dict[str, Any]:
    problem = _push_problem(event)
    if problem:
        return _ignored(problem, event)
    detail: Mapping[str, Any] = event["detail"]
    repository = detail["repository-name"]
    target = SERVICE_MAP.get(repository)
    if target is None:
        return _ignored(f"repository {repository} is not in SERVICE_MAP", event)
    image_tag = _image_tag(detail)
    if image_tag is None:
        return _ignored("detail.image-tag is missing or not a non-empty string: a push by digest alone names no image to deploy", event)
    # By tag, not by digest: it is the image CI deploys (<repository_url>:<commit sha>), so
    # revisions read the same whoever registered them, and the repositories' tags are
    # IMMUTABLE, so the tag names exactly the pushed digest. deploy_image accepts both forms.
    image = f"{target['repository_url']}:{image_tag}"
    problem = ecs_deploy.image_problem(image)
    if problem:
        return _ignored(problem, event)
    deployment = {
        "cluster": target["cluster"],
        "service": target["service"],
        "repository": repository,
        "image_tag": image_tag,
        "image_digest": detail.get("image-digest") if isinstance(detail.get("image-digest"), str) else None,
        "image": image,
        **{key: target[key] for key in CODEDEPLOY_KEYS if key in target},
    }
    try:
        newer = _newer_image(target, repository, image_tag)
        if newer is None:
            release = _release(target)
            # Not waiting: CreateDeployment (or UpdateService) started the deployment, and that is all this function does.
            options = {"release": release} if release is not None else {}
            task_definition = ecs_deploy.deploy_image(_ecs(), target["cluster"], target["service"], image, container=target["container"], **options)
    except Exception as error:
        _log(logging.ERROR, "deployment failed", error=str(error), error_type=type(error).__name__, **deployment)
        raise
    if newer is not None:
        return _ignored(newer, event)
    result = {"status": "deployed", **deployment, "task_definition": task_definition}
    _log(logging.INFO, "deployment started", **result)
    return result
