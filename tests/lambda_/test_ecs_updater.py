"""lambda/ecs_updater: exact repository -> service mapping, never raises on events, only on ECS."""

from __future__ import annotations

import importlib.util
import itertools
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

FUNCTION_SOURCE = Path(__file__).resolve().parents[2] / "lambda" / "ecs_updater" / "index.py"
REGION = "us-east-1"
SERVICES = {
    "circle-of-trust-api": {"cluster": "circle-of-trust-api", "service": "api-service"},
    "circle-of-trust-worker": {"cluster": "circle-of-trust-workers", "service": "worker-service"},
}
_module_names = itertools.count()


def load_function(monkeypatch: pytest.MonkeyPatch, service_map: str | None = json.dumps(SERVICES)) -> ModuleType:
    """A cold start: a fresh copy of the module, imported with this environment.

    ``lambda`` is a keyword, so the source is loaded from its path.
    """
    if service_map is None:
        monkeypatch.delenv("SERVICE_MAP", raising=False)
    else:
        monkeypatch.setenv("SERVICE_MAP", service_map)
    monkeypatch.setenv("AWS_REGION", REGION)
    spec = importlib.util.spec_from_file_location(f"ecs_updater_{next(_module_names)}", FUNCTION_SOURCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def push(repository: Any = "circle-of-trust-api", **detail: Any) -> dict[str, Any]:
    """An EventBridge "ECR Image Action" event for a successful push."""
    return {
        "version": "0",
        "id": "13cde686-328b-6117-af20-0e5566167482",
        "detail-type": "ECR Image Action",
        "source": "aws.ecr",
        "account": "123456789012",
        "region": REGION,
        "resources": [],
        "detail": {
            "result": "SUCCESS",
            "repository-name": repository,
            "image-digest": "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234abcd",
            "action-type": "PUSH",
            "image-tag": "abc123",
            **detail,
        },
    }


def log_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(record.getMessage()) for record in caplog.records if record.name == "ecs_updater"]


# ---------------------------------------------------------------------------
# Deploying, against moto
# ---------------------------------------------------------------------------


@pytest.fixture
def ecs():
    """Both services of SERVICES, in moto."""
    with mock_aws():
        client = boto3.client("ecs", region_name=REGION)
        client.register_task_definition(family="app", containerDefinitions=[{"name": "app", "image": "app:latest", "memory": 512}])
        for target in SERVICES.values():
            client.create_cluster(clusterName=target["cluster"])
            client.create_service(cluster=target["cluster"], serviceName=target["service"], taskDefinition="app", desiredCount=1)
        yield client


def deployment_ids(ecs) -> dict[str, str]:
    """The primary deployment of each service; a forced new deployment replaces it."""
    ids = {}
    for target in SERVICES.values():
        [service] = ecs.describe_services(cluster=target["cluster"], services=[target["service"]])["services"]
        ids[target["service"]] = next(d["id"] for d in service["deployments"] if d["status"] == "PRIMARY")
    return ids


@pytest.mark.parametrize("repository", sorted(SERVICES))
def test_a_push_forces_a_new_deployment_of_the_mapped_service_only(ecs, monkeypatch, repository):
    function = load_function(monkeypatch)
    before = deployment_ids(ecs)

    result = function.handler(push(repository), None)

    target = SERVICES[repository]
    assert result == {"status": "deployed", **target, "repository": repository, "image_tag": "abc123"}
    after = deployment_ids(ecs)
    assert after[target["service"]] != before[target["service"]]
    assert {s: i for s, i in after.items() if s != target["service"]} == {s: i for s, i in before.items() if s != target["service"]}


def test_a_push_by_digest_alone_deploys_without_a_tag(ecs, monkeypatch):
    function = load_function(monkeypatch)
    event = push()
    del event["detail"]["image-tag"]

    assert function.handler(event, None)["image_tag"] is None


def test_an_ecs_error_is_logged_and_raised_so_the_invocation_retries(ecs, monkeypatch, caplog):
    function = load_function(monkeypatch, json.dumps({"circle-of-trust-api": {"cluster": "circle-of-trust-api", "service": "retired-service"}}))

    with pytest.raises(ClientError) as raised:
        function.handler(push(), None)

    assert raised.value.response["Error"]["Code"] == "ServiceNotFoundException"
    [line] = [line for line in log_lines(caplog) if line["message"] == "ECS update failed"]
    assert line["service"] == "retired-service"
    assert line["error_type"] == "ServiceNotFoundException"


# ---------------------------------------------------------------------------
# Ignoring what is not a successful push of a mapped repository
# ---------------------------------------------------------------------------


@pytest.fixture
def function_without_ecs(monkeypatch) -> ModuleType:
    """The function, with ECS replaced by a tripwire: ignored events must not reach it."""
    function = load_function(monkeypatch)
    function._ecs = lambda: pytest.fail("an ignored event reached ECS")
    return function


def with_detail(**detail: Any) -> dict[str, Any]:
    event = push()
    event["detail"].update(detail)
    return event


def without(path: tuple[str, ...]) -> dict[str, Any]:
    event = push()
    container = event
    for key in path[:-1]:
        container = container[key]
    del container[path[-1]]
    return event


NOT_AN_OBJECT = "event is not an object"
NO_DETAIL = "detail is missing or not an object"
NO_REPOSITORY = "detail.repository-name is missing or not a string"


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        pytest.param(None, NOT_AN_OBJECT, id="none"),
        pytest.param("aws.ecr", NOT_AN_OBJECT, id="string"),
        pytest.param([push()], NOT_AN_OBJECT, id="list"),
        pytest.param(42, NOT_AN_OBJECT, id="number"),
        pytest.param({}, "source is not aws.ecr", id="empty-object"),
        pytest.param({**push(), "source": "aws.s3"}, "source is not aws.ecr", id="other-source"),
        pytest.param({**push(), "detail-type": "ECR Image Scan"}, "detail-type is not ECR Image Action", id="scan-event"),
        pytest.param(without(("detail",)), NO_DETAIL, id="no-detail"),
        pytest.param({**push(), "detail": "PUSH"}, NO_DETAIL, id="detail-string"),
        pytest.param({**push(), "detail": [push()["detail"]]}, NO_DETAIL, id="detail-list"),
        pytest.param({**push(), "detail": None}, NO_DETAIL, id="detail-null"),
        pytest.param(with_detail(**{"action-type": "DELETE"}), "detail.action-type is not PUSH", id="delete"),
        pytest.param(without(("detail", "action-type")), "detail.action-type is not PUSH", id="no-action-type"),
        pytest.param(with_detail(result="FAILURE"), "detail.result is not SUCCESS", id="failed-push"),
        pytest.param(without(("detail", "result")), "detail.result is not SUCCESS", id="no-result"),
        pytest.param(without(("detail", "repository-name")), NO_REPOSITORY, id="no-repository"),
        pytest.param(push(repository=None), NO_REPOSITORY, id="repository-null"),
        pytest.param(push(repository=["circle-of-trust-api"]), NO_REPOSITORY, id="repository-list"),
        pytest.param(push(repository={"name": "circle-of-trust-api"}), NO_REPOSITORY, id="repository-object"),
    ],
)
def test_an_event_that_is_not_a_successful_push_is_ignored(function_without_ecs, caplog, event, reason):
    result = function_without_ecs.handler(event, None)

    assert result == {"status": "ignored", "reason": reason}
    assert log_lines(caplog)[-1]["reason"] == reason


@pytest.mark.parametrize(
    "repository",
    ["rapid-worker", "api", "circle-of-trust-frontend", "CIRCLE-OF-TRUST-API", "circle-of-trust-api ", ""],
    ids=repr,
)
def test_only_an_exact_repository_name_deploys(function_without_ecs, caplog, repository):
    """The seed's substring match would have rolled the worker for rapid-worker and the API for api."""
    result = function_without_ecs.handler(push(repository), None)

    assert result == {"status": "ignored", "reason": f"repository {repository} is not in SERVICE_MAP"}
    assert log_lines(caplog)[-1]["message"] == "event ignored"


# ---------------------------------------------------------------------------
# SERVICE_MAP is checked at cold start
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service_map", "message"),
    [
        (None, "SERVICE_MAP is not set"),
        ("", "SERVICE_MAP is not set"),
        ("{circle-of-trust-api: api-service}", "SERVICE_MAP is not valid JSON"),
        ("[]", "must be a non-empty JSON object"),
        ("{}", "must be a non-empty JSON object"),
        ('{"circle-of-trust-api": "api-service"}', "circle-of-trust-api: must be an object with exactly the keys cluster and service"),
        ('{"circle-of-trust-api": {"cluster": "c"}}', "circle-of-trust-api: must be an object with exactly the keys cluster and service"),
        ('{"circle-of-trust-api": {"cluster": "c", "service": "s", "region": "x"}}', "exactly the keys cluster and service"),
        ('{"circle-of-trust-api": {"cluster": "", "service": "s"}}', "circle-of-trust-api: cluster must be a non-empty string"),
        ('{"circle-of-trust-api": {"cluster": "c", "service": 7}}', "circle-of-trust-api: service must be a non-empty string; got 7"),
    ],
    ids=["unset", "empty", "not-json", "array", "empty-object", "target-string", "no-service", "extra-key", "empty-cluster", "service-number"],
)
def test_a_broken_service_map_fails_the_cold_start(monkeypatch, caplog, service_map, message):
    with pytest.raises(ValueError, match=message) as raised:
        load_function(monkeypatch, service_map)

    assert type(raised.value).__name__ == "ConfigurationError"
    assert log_lines(caplog)[-1]["message"] == "configuration error"


def test_every_service_map_problem_is_reported_at_once(monkeypatch):
    broken = {"circle-of-trust-api": {"cluster": "", "service": "s"}, "circle-of-trust-worker": ["w"]}

    with pytest.raises(ValueError) as raised:
        load_function(monkeypatch, json.dumps(broken))

    assert "circle-of-trust-api: cluster" in str(raised.value)
    assert "circle-of-trust-worker: must be an object" in str(raised.value)


# ---------------------------------------------------------------------------
# Property: whatever arrives, the answer is a status; only ECS may raise
# ---------------------------------------------------------------------------

FAILING_REPOSITORY = "circle-of-trust-retired"
PROPERTY_SERVICES = {**SERVICES, FAILING_REPOSITORY: {"cluster": "circle-of-trust-api", "service": "retired-service"}}


class RecordingEcs:
    """Records update_service calls; the retired service fails as a deleted one would."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def update_service(self, **arguments: Any) -> dict[str, Any]:
        self.calls.append(arguments)
        if arguments["service"] == "retired-service":
            raise ClientError({"Error": {"Code": "ServiceNotFoundException", "Message": "Service not found."}}, "UpdateService")
        return {"service": {}}


@pytest.fixture(scope="module")
def recorded_function() -> tuple[ModuleType, RecordingEcs]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        function = load_function(monkeypatch, json.dumps(PROPERTY_SERVICES))
    ecs = RecordingEcs()
    function._ecs = lambda: ecs
    return function, ecs


def expected_target(event: Any) -> dict[str, str] | None:
    """The service a successful push of a mapped repository should roll; None for anything else."""
    try:
        detail = event["detail"]
        is_push = (
            event["source"] == "aws.ecr"
            and event["detail-type"] == "ECR Image Action"
            and detail["action-type"] == "PUSH"
            and detail["result"] == "SUCCESS"
        )
        repository = detail["repository-name"]
    except (KeyError, TypeError, IndexError):
        return None
    return PROPERTY_SERVICES.get(repository) if is_push and isinstance(repository, str) else None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=8,
)
telling_strings = st.sampled_from(
    ["aws.ecr", "ECR Image Action", "PUSH", "DELETE", "SUCCESS", "FAILURE", "rapid-worker", "api", "", *PROPERTY_SERVICES]
)
repositories = st.sampled_from([*PROPERTY_SERVICES, "rapid-worker"])
pushes = st.builds(push, repositories, **{"image-tag": json_values | telling_strings})
FIELDS = (("source",), ("detail-type",), ("detail",), ("detail", "action-type"), ("detail", "result"), ("detail", "repository-name"), ("detail", "image-tag"))


@st.composite
def near_valid_events(draw) -> dict[str, Any]:
    """A real push event with one to three fields dropped or replaced."""
    event = push(draw(repositories))
    for path in draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=3, unique=True)):
        container = event if len(path) == 1 else event.get("detail")
        if not isinstance(container, dict):
            continue
        if draw(st.booleans()):
            container.pop(path[-1], None)
        else:
            container[path[-1]] = draw(json_values | telling_strings)
    return event


@settings(max_examples=400, deadline=None)
@given(event=st.one_of(pushes, near_valid_events(), json_values, st.dictionaries(st.sampled_from(["source", "detail-type", "detail"]), json_values)))
def test_any_event_gets_a_status_and_only_ecs_errors_escape(recorded_function, event):
    function, ecs = recorded_function
    ecs.calls.clear()
    target = expected_target(event)

    try:
        result = function.handler(event, None)
    except ClientError:
        assert target == PROPERTY_SERVICES[FAILING_REPOSITORY]
        assert ecs.calls == [{**target, "forceNewDeployment": True}]
        return

    json.dumps(result)  # an answer Lambda can serialize
    if target is None:
        assert result["status"] == "ignored"
        assert isinstance(result["reason"], str) and result["reason"]
        assert ecs.calls == []
    else:
        assert result["status"] == "deployed"
        assert (result["cluster"], result["service"]) == (target["cluster"], target["service"])
        assert ecs.calls == [{**target, "forceNewDeployment": True}]
