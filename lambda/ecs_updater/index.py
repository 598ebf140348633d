"""Roll an ECS service when its ECR repository receives an image.

EventBridge invokes ``handler`` asynchronously with an "ECR Image Action"
event. The repository -> service mapping is the function's ``SERVICE_MAP``
environment variable, an explicit JSON object::

    {"circle-of-trust-api": {"cluster": "circle-of-trust-api", "service": "api-service"}, ...}

The seed chose the service by ``'api' in repo_name``, which would also roll
the API for ``rapid-worker``; an exact map cannot.

When it raises, and why:

- Any event it cannot use (malformed, partial, foreign, a DELETE, a failed
  push, an unmapped repository) is logged and answered with
  ``{"status": "ignored", "reason": ...}``. Retrying such an event can never
  succeed; raising would only retry it twice and park it in the DLQ.
- An ECS error is logged and re-raised: throttling and transient faults
  succeed on Lambda's retries, and a lasting fault ends in the DLQ, where
  an alarm sees it.
- A broken ``SERVICE_MAP`` fails the cold start: every push would be
  mishandled, so the function's errors and the DLQ should show it at once
  rather than a stream of "ignored" answers.

Python 3.11+, boto3 only.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from typing import Any, Mapping

import boto3

logger = logging.getLogger("ecs_updater")
logger.setLevel(os.environ.get("LOG_LEVEL", "INFO"))

EVENT_SOURCE = "aws.ecr"
EVENT_DETAIL_TYPE = "ECR Image Action"


class ConfigurationError(ValueError):
    """SERVICE_MAP is missing or malformed; every problem in one message."""


def _log(level: int, message: str, **fields: Any) -> None:
    """One JSON object per line, so CloudWatch Logs Insights can filter on its fields."""
    logger.log(level, json.dumps({"message": message, **fields}, default=repr, sort_keys=True))


def parse_service_map(text: str | None) -> dict[str, dict[str, str]]:
    """Validate SERVICE_MAP; raise one ConfigurationError that lists every problem."""
    if not text:
        raise ConfigurationError("SERVICE_MAP is not set; expected a JSON object of repository -> {cluster, service}")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigurationError(f"SERVICE_MAP is not valid JSON: {error}") from None
    if not isinstance(raw, dict) or not raw:
        raise ConfigurationError("SERVICE_MAP must be a non-empty JSON object of repository -> {cluster, service}")
    problems = []
    for repository, target in raw.items():
        if not repository:
            problems.append("an empty repository name")
        if not isinstance(target, dict) or set(target) != {"cluster", "service"}:
            problems.append(f"{repository}: must be an object with exactly the keys cluster and service; got {target!r}")
            continue
        for key in ("cluster", "service"):
            if not isinstance(target[key], str) or not target[key]:
                problems.append(f"{repository}: {key} must be a non-empty string; got {target[key]!r}")
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


def handler(event: Any, context: Any) -> dict[str, Any]:
    problem = _push_problem(event)
    if problem:
        return _ignored(problem, event)
    detail: Mapping[str, Any] = event["detail"]
    repository = detail["repository-name"]
    target = SERVICE_MAP.get(repository)
    if target is None:
        return _ignored(f"repository {repository} is not in SERVICE_MAP", event)
    image_tag = detail.get("image-tag") if isinstance(detail.get("image-tag"), str) else None
    result = {"status": "deployed", **target, "repository": repository, "image_tag": image_tag}
    try:
        _ecs().update_service(cluster=target["cluster"], service=target["service"], forceNewDeployment=True)
    except Exception as error:
        _log(logging.ERROR, "ECS update failed", error=str(error), error_type=type(error).__name__, **result)
        raise
    _log(logging.INFO, "deployment started", **result)
    return result
