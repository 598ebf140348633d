"""lambda/ecs_updater: exact repository -> service mapping; a push deploys its tag the way CI does, unless a newer push is deployed; only deploys raise.

The function is loaded from the folder the construct zips (``stage_sources``
with its default ``module_files``), so these tests run the packaged layout:
``index.py`` importing ``ecs_deploy`` from next to itself.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import json
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.ecr.models import ecr_backends

from constructs_lib.ecs_updater import EcrPushUpdaterProps, stage_sources
from tools.ecs_deploy import DEPLOY_TAG, image_problem, parse_task_definition

SOURCE_DIR = Path(__file__).resolve().parents[2] / "lambda" / "ecs_updater"
PACKAGE = Path(stage_sources(str(SOURCE_DIR), EcrPushUpdaterProps.__dataclass_fields__["module_files"].default))
REGION = "us-east-1"
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
SERVICES = {
    "circle-of-trust-api": {
        "cluster": "circle-of-trust-api",
        "service": "api-service",
        "repository_url": f"{REGISTRY}/circle-of-trust-api",
        "container": "api",
    },
    "circle-of-trust-worker": {
        "cluster": "circle-of-trust-workers",
        "service": "worker-service",
        "repository_url": f"{REGISTRY}/circle-of-trust-worker",
        "container": "worker",
    },
}
_module_names = itertools.count()


def load_function(monkeypatch: pytest.MonkeyPatch, service_map: str | None = json.dumps(SERVICES)) -> ModuleType:
    """A cold start: a fresh copy of the packaged module (and its ecs_deploy), imported with this environment.

    ``lambda`` is a keyword, so the source is loaded from its path.
    """
    if service_map is None:
        monkeypatch.delenv("SERVICE_MAP", raising=False)
    else:
        monkeypatch.setenv("SERVICE_MAP", service_map)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.syspath_prepend(str(PACKAGE))
    monkeypatch.delitem(sys.modules, "ecs_deploy", raising=False)
    monkeypatch.delitem(sys.modules, "codedeploy_release", raising=False)
    spec = importlib.util.spec_from_file_location(f"ecs_updater_{next(_module_names)}", PACKAGE / "index.py")
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

SIDECAR = {"name": "otel", "image": "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0", "memory": 128, "essential": False}


def task_definition(family: str, container: str, image: str, **environment: str) -> dict[str, Any]:
    """What Terraform registers: the app container on the config's tag, plus a sidecar the deploy must leave alone."""
    return {
        "family": family,
        "taskRoleArn": f"arn:aws:iam::123456789012:role/{family}-task",
        "executionRoleArn": "arn:aws:iam::123456789012:role/circle-of-trust-ecs-execution",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "512",
        "memory": "1024",
        "containerDefinitions": [
            {
                "name": container,
                "image": image,
                "essential": True,
                "environment": [{"name": key, "value": value} for key, value in sorted(environment.items())],
            },
            SIDECAR,
        ],
        "tags": [{"key": "project", "value": "circle-of-trust"}],
    }


def family_of(repository: str) -> str:
    return repository  # Terraform names each family after its repository here


@pytest.fixture
def ecs():
    """Both services of SERVICES on revision 1 of their families (what Terraform creates), and their empty repositories, in moto."""
    with mock_aws():
        ecr = boto3.client("ecr", region_name=REGION)
        for repository in SERVICES:
            ecr.create_repository(repositoryName=repository, imageTagMutability="IMMUTABLE")
        client = boto3.client("ecs", region_name=REGION)
        for repository, target in SERVICES.items():
            first = client.register_task_definition(
                **task_definition(family_of(repository), target["container"], f"{target['repository_url']}:initial", LOG_LEVEL="INFO")
            )["taskDefinition"]["taskDefinitionArn"]
            client.create_cluster(clusterName=target["cluster"])
            client.create_service(cluster=target["cluster"], serviceName=target["service"], taskDefinition=first, desiredCount=1)
        yield client


def running(ecs, target: dict[str, str]) -> str:
    [service] = ecs.describe_services(cluster=target["cluster"], services=[target["service"]])["services"]
    return service["taskDefinition"]


def described(ecs, arn: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    response = ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
    return response["taskDefinition"], response.get("tags", [])


def containers(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in definition["containerDefinitions"]}


@pytest.mark.parametrize("repository", sorted(SERVICES))
def test_a_push_deploys_its_tag_to_the_mapped_service_only(ecs, monkeypatch, repository):
    function = load_function(monkeypatch)
    target = SERVICES[repository]
    other = next(t for r, t in SERVICES.items() if r != repository)
    other_before = running(ecs, other)
    first, _ = described(ecs, running(ecs, target))

    result = function.handler(push(repository, **{"image-tag": "0a1b2c3"}), None)

    image = f"{target['repository_url']}:0a1b2c3"
    assert result == {
        "status": "deployed",
        "cluster": target["cluster"],
        "service": target["service"],
        "repository": repository,
        "image_tag": "0a1b2c3",
        "image_digest": push()["detail"]["image-digest"],
        "image": image,
        "task_definition": running(ecs, target),
    }
    assert parse_task_definition(result["task_definition"]) == (family_of(repository), 2)
    deployed, tags = described(ecs, result["task_definition"])
    assert containers(deployed)[target["container"]]["image"] == image
    # Only that image changed: the other container, the environment, roles and sizes are the first revision's.
    assert {k: v for k, v in containers(deployed)[target["container"]].items() if k != "image"} == {
        k: v for k, v in containers(first)[target["container"]].items() if k != "image"
    }
    assert containers(deployed)["otel"] == containers(first)["otel"]
    for key in ("taskRoleArn", "executionRoleArn", "networkMode", "cpu", "memory", "requiresCompatibilities"):
        assert deployed[key] == first[key], key
    assert tags == [{"key": "project", "value": "circle-of-trust"}, DEPLOY_TAG]
    assert running(ecs, other) == other_before


def test_a_second_push_deploys_again_from_the_newest_revision(ecs, monkeypatch):
    """A revision Terraform registered between two pushes (here: a new environment value) rides along with the second."""
    function = load_function(monkeypatch)
    target = SERVICES["circle-of-trust-api"]
    first = function.handler(push(**{"image-tag": "1111111"}), None)["task_definition"]
    ecs.register_task_definition(
        **task_definition("circle-of-trust-api", "api", f"{target['repository_url']}:initial", LOG_LEVEL="DEBUG")
    )

    second = function.handler(push(**{"image-tag": "2222222"}), None)["task_definition"]

    assert [parse_task_definition(arn)[1] for arn in (first, second)] == [2, 4]
    assert running(ecs, target) == second
    deployed, tags = described(ecs, second)
    api = containers(deployed)["api"]
    assert (api["image"], api["environment"]) == (f"{target['repository_url']}:2222222", [{"name": "LOG_LEVEL", "value": "DEBUG"}])
    assert DEPLOY_TAG in tags
    assert containers(described(ecs, first)[0])["api"]["image"] == f"{target['repository_url']}:1111111"


def test_a_failed_deploy_is_logged_and_raised_so_the_invocation_retries(ecs, monkeypatch, caplog):
    retired = {**SERVICES["circle-of-trust-api"], "service": "retired-service"}
    function = load_function(monkeypatch, json.dumps({"circle-of-trust-api": retired}))

    with pytest.raises(function.ecs_deploy.DeployError, match="service 'retired-service' not found"):
        function.handler(push(), None)

    [line] = [line for line in log_lines(caplog) if line["message"] == "deployment failed"]
    assert (line["service"], line["error_type"], line["image"]) == ("retired-service", "DeployError", f"{retired['repository_url']}:abc123")


def test_an_ecs_client_error_is_raised_with_its_code(ecs, monkeypatch, caplog):
    """ECS refuses a call (here: the mapped cluster does not exist); its error code is in the message and the cause."""
    function = load_function(monkeypatch, json.dumps({"circle-of-trust-api": {**SERVICES["circle-of-trust-api"], "cluster": "gone"}}))

    with pytest.raises(function.ecs_deploy.DeployError, match=r"\(ClusterNotFoundException\)") as raised:
        function.handler(push(), None)

    assert isinstance(raised.value.__cause__, ClientError)
    assert raised.value.__cause__.response["Error"]["Code"] == "ClusterNotFoundException"
    [line] = [line for line in log_lines(caplog) if line["message"] == "deployment failed"]
    assert line["cluster"] == "gone"


def test_a_task_definition_without_the_mapped_container_raises(ecs, monkeypatch):
    """A SERVICE_MAP naming the wrong container is a lasting fault: it must reach the DLQ, not be ignored."""
    wrong = {**SERVICES["circle-of-trust-api"], "container": "web"}
    function = load_function(monkeypatch, json.dumps({"circle-of-trust-api": wrong}))

    with pytest.raises(function.ecs_deploy.DeployError, match="has no container 'web'; it has: api, otel"):
        function.handler(push(), None)

    assert parse_task_definition(running(ecs, wrong))[1] == 1


# ---------------------------------------------------------------------------
# A service released through CodeDeploy (deployment controller CODE_DEPLOY)
# ---------------------------------------------------------------------------

CANARY = {
    **SERVICES["circle-of-trust-api"],
    "service": "api-canary",
    "codedeploy_application": "cot-staging-api",
    "codedeploy_group": "cot-staging-api",
}


@pytest.fixture
def canary(ecs):
    """A CODE_DEPLOY service of the API family, on a revision whose api container has its port, and a CodeDeploy fake for it."""
    from tests.tools.codedeploy_fake import FakeCodeDeploy, World

    definition = task_definition("circle-of-trust-api", "api", f"{CANARY['repository_url']}:initial", LOG_LEVEL="INFO")
    definition["containerDefinitions"][0]["portMappings"] = [{"containerPort": 8080, "protocol": "tcp"}]
    first = ecs.register_task_definition(**definition)["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(
        cluster=CANARY["cluster"], serviceName=CANARY["service"], taskDefinition=first, desiredCount=1, deploymentController={"type": "CODE_DEPLOY"}
    )
    return first, FakeCodeDeploy(World(CANARY["cluster"], CANARY["service"], first))


def test_a_push_to_a_codedeploy_service_creates_a_deployment_and_does_not_wait(ecs, canary, monkeypatch):
    first, codedeploy = canary
    function = load_function(monkeypatch, json.dumps({"circle-of-trust-api": CANARY}))
    monkeypatch.setattr(function, "_codedeploy", lambda: codedeploy)

    result = function.handler(push(**{"image-tag": "0a1b2c3"}), None)

    image = f"{CANARY['repository_url']}:0a1b2c3"
    assert result == {
        "status": "deployed",
        "cluster": CANARY["cluster"],
        "service": "api-canary",
        "repository": "circle-of-trust-api",
        "image_tag": "0a1b2c3",
        "image_digest": push()["detail"]["image-digest"],
        "image": image,
        "codedeploy_application": "cot-staging-api",
        "codedeploy_group": "cot-staging-api",
        "task_definition": result["task_definition"],
    }
    assert parse_task_definition(result["task_definition"]) == ("circle-of-trust-api", parse_task_definition(first)[1] + 1)
    deployed, tags = described(ecs, result["task_definition"])
    assert containers(deployed)["api"]["image"] == image and DEPLOY_TAG in tags
    # One CreateDeployment, and nothing after it: the function does not follow the deployment.
    assert [name for name, _ in codedeploy.calls] == ["create_deployment"]
    (create,) = codedeploy.named("create_deployment")
    assert (create["applicationName"], create["deploymentGroupName"]) == ("cot-staging-api", "cot-staging-api")
    spec = json.loads(create["revision"]["appSpecContent"]["content"])
    assert spec["Resources"][0]["TargetService"] == {
        "Type": "AWS::ECS::Service",
        "Properties": {"TaskDefinition": result["task_definition"], "LoadBalancerInfo": {"ContainerName": "api", "ContainerPort": 8080}},
    }
    # No UpdateService: the service still serves its first revision until CodeDeploy moves it.
    assert running(ecs, CANARY) == first


def test_a_push_while_a_codedeploy_deployment_is_in_progress_raises_so_the_invocation_retries(ecs, canary, monkeypatch, caplog):
    _, codedeploy = canary
    function = load_function(monkeypatch, json.dumps({"circle-of-trust-api": CANARY}))
    monkeypatch.setattr(function, "_codedeploy", lambda: codedeploy)
    function.handler(push(**{"image-tag": "1111111"}), None)

    with pytest.raises(function.ecs_deploy.DeployError, match=r"\(DeploymentLimitExceededException\): the group already has a deployment in progress"):
        function.handler(push(**{"image-tag": "2222222"}), None)

    [line] = [line for line in log_lines(caplog) if line["message"] == "deployment failed"]
    assert (line["image_tag"], line["codedeploy_group"]) == ("2222222", "cot-staging-api")


def test_a_codedeploy_service_without_codedeploy_keys_raises_naming_them(ecs, canary, monkeypatch):
    """A map that lost the keys (a rolling target pointed at a CODE_DEPLOY service) is a lasting fault: to the DLQ."""
    rolling = {key: value for key, value in CANARY.items() if not key.startswith("codedeploy_")}
    function = load_function(monkeypatch, json.dumps({"circle-of-trust-api": rolling}))
    monkeypatch.setattr(function, "_codedeploy", lambda: pytest.fail("no CodeDeploy client without the keys"))

    with pytest.raises(function.ecs_deploy.DeployError, match="pass --codedeploy-application and --codedeploy-group"):
        function.handler(push(), None)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"codedeploy_application": "cot-staging-api"}, "both of codedeploy_application, codedeploy_group"),
        ({"codedeploy_group": "cot-staging-api"}, "both of codedeploy_application, codedeploy_group"),
        ({"codedeploy_application": "cot-staging-api", "codedeploy_group": ""}, "circle-of-trust-api: codedeploy_group must be a non-empty string"),
    ],
    ids=["application-only", "group-only", "empty-group"],
)
def test_codedeploy_keys_come_in_pairs_of_non_empty_strings(monkeypatch, changes, message):
    with pytest.raises(ValueError, match=message):
        load_function(monkeypatch, api_map(**changes))


def test_codedeploy_is_asked_in_the_functions_region(monkeypatch):
    function = load_function(monkeypatch)
    assert function._codedeploy().meta.region_name == REGION
    assert function._codedeploy() is function._codedeploy()


# ---------------------------------------------------------------------------
# Newest image wins: an older push never replaces a newer deployed one
# ---------------------------------------------------------------------------

API_URL = SERVICES["circle-of-trust-api"]["repository_url"]
T0 = 1_750_000_000  # epoch seconds


def pushed(repository: str, tag: str, at: int) -> None:
    """Put an image tagged ``tag`` into moto's ECR, received at ``at`` (epoch seconds).

    moto stamps images with the current second, so two pushes in one test
    would tie; the time is set on moto's record of the image instead.
    """
    layer = "sha256:" + hashlib.sha256(f"{repository}:{tag}".encode()).hexdigest()  # a manifest per tag: ECR keys images by digest
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023, "digest": layer},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 32654, "digest": layer}],
    }
    boto3.client("ecr", region_name=REGION).put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag)
    (image,) = [i for i in ecr_backends["123456789012"][REGION].repositories[repository].images if tag in i.image_tags]
    image.image_pushed_at = at


def revisions(ecs, family: str) -> list[str]:
    return ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"]


def register_api_revision(ecs, image: str) -> None:
    """A revision registered outside the updater (Terraform, or CI) whose api container names ``image``."""
    ecs.register_task_definition(**task_definition("circle-of-trust-api", "api", image, LOG_LEVEL="INFO"))


def test_a_newer_push_deploys_over_the_older_deployed_one(ecs, monkeypatch):
    function = load_function(monkeypatch)
    pushed("circle-of-trust-api", "aaaaaaa", T0)
    assert function.handler(push(**{"image-tag": "aaaaaaa"}), None)["status"] == "deployed"
    pushed("circle-of-trust-api", "bbbbbbb", T0 + 60)

    result = function.handler(push(**{"image-tag": "bbbbbbb"}), None)

    assert result["status"] == "deployed"
    assert containers(described(ecs, running(ecs, API))[0])["api"]["image"] == f"{API_URL}:bbbbbbb"


def test_a_late_event_for_an_older_push_is_ignored_and_changes_nothing(ecs, monkeypatch, caplog):
    """A's event arrives after B (pushed later) was deployed: concurrently handled, or retried for an hour."""
    function = load_function(monkeypatch)
    pushed("circle-of-trust-api", "aaaaaaa", T0)
    pushed("circle-of-trust-api", "bbbbbbb", T0 + 60)
    deployed_b = function.handler(push(**{"image-tag": "bbbbbbb"}), None)["task_definition"]
    before = revisions(ecs, "circle-of-trust-api")

    result = function.handler(push(**{"image-tag": "aaaaaaa"}), None)

    reason = (
        "bbbbbbb (pushed 2025-06-15T15:07:40+00:00) is newer than aaaaaaa (pushed 2025-06-15T15:06:40+00:00) "
        "and the service's newest revision names it; deploying aaaaaaa would roll it back"
    )
    assert result == {"status": "ignored", "reason": reason}
    assert revisions(ecs, "circle-of-trust-api") == before
    assert running(ecs, API) == deployed_b
    assert log_lines(caplog)[-1] == {"message": "event ignored", "reason": reason, "event_id": push()["id"]}


def test_a_late_event_is_ignored_when_the_running_revision_is_newer_than_the_newest_registered(ecs, monkeypatch, caplog):
    """Terraform registered a revision after B was deployed: it names the config's tag (never pushed),
    while the service still runs B. A's late event must not replace B."""
    function = load_function(monkeypatch)
    pushed("circle-of-trust-api", "aaaaaaa", T0)
    pushed("circle-of-trust-api", "bbbbbbb", T0 + 60)
    deployed_b = function.handler(push(**{"image-tag": "bbbbbbb"}), None)["task_definition"]
    register_api_revision(ecs, f"{API_URL}:latest")  # Terraform's revision, not running
    before = revisions(ecs, "circle-of-trust-api")

    result = function.handler(push(**{"image-tag": "aaaaaaa"}), None)

    assert result == {
        "status": "ignored",
        "reason": "bbbbbbb (pushed 2025-06-15T15:07:40+00:00) is newer than aaaaaaa (pushed 2025-06-15T15:06:40+00:00) "
        "and the service runs it; deploying aaaaaaa would roll it back",
    }
    assert revisions(ecs, "circle-of-trust-api") == before
    assert running(ecs, API) == deployed_b


def test_a_push_newer_than_both_the_running_and_the_newest_image_deploys(ecs, monkeypatch):
    function = load_function(monkeypatch)
    pushed("circle-of-trust-api", "aaaaaaa", T0)
    pushed("circle-of-trust-api", "bbbbbbb", T0 + 60)
    pushed("circle-of-trust-api", "ccccccc", T0 + 120)
    function.handler(push(**{"image-tag": "aaaaaaa"}), None)  # running: aaaaaaa
    register_api_revision(ecs, f"{API_URL}:bbbbbbb")  # newest: bbbbbbb, not running

    result = function.handler(push(**{"image-tag": "ccccccc"}), None)

    assert result["status"] == "deployed"
    assert containers(described(ecs, running(ecs, API))[0])["api"]["image"] == f"{API_URL}:ccccccc"


def test_a_retry_of_the_deployed_tag_deploys_again(ecs, monkeypatch):
    """The newest revision names the pushed tag itself, e.g. registered by an attempt whose UpdateService failed: deploy it."""
    function = load_function(monkeypatch)
    pushed("circle-of-trust-api", "aaaaaaa", T0)
    register_api_revision(ecs, f"{API_URL}:aaaaaaa")  # revision 2, not running

    result = function.handler(push(**{"image-tag": "aaaaaaa"}), None)

    assert (result["status"], parse_task_definition(running(ecs, API))[1]) == ("deployed", 3)


@pytest.mark.parametrize(
    "current",
    [
        pytest.param(f"{API_URL}:latest", id="tag-never-pushed"),
        pytest.param(f"{SERVICES['circle-of-trust-worker']['repository_url']}:bbbbbbb", id="other-repository"),
        pytest.param(f"{API_URL}@sha256:" + "b" * 64, id="digest"),
        pytest.param("public.ecr.aws/docker/library/nginx:1.27", id="public-image"),
    ],
)
def test_a_current_image_with_no_newer_push_of_this_repository_is_replaced(ecs, monkeypatch, current):
    """The config's first tag (never pushed), another repository's newer tag, a digest: none is a newer push of this repository."""
    function = load_function(monkeypatch)
    pushed("circle-of-trust-api", "aaaaaaa", T0)
    pushed("circle-of-trust-worker", "bbbbbbb", T0 + 60)  # newer, but in the other repository
    register_api_revision(ecs, current)

    result = function.handler(push(**{"image-tag": "aaaaaaa"}), None)

    assert result["status"] == "deployed"
    assert containers(described(ecs, running(ecs, API))[0])["api"]["image"] == f"{API_URL}:aaaaaaa"


def test_an_ecr_error_other_than_not_found_is_raised(ecs, monkeypatch, caplog):
    """The mapped repository is gone from ECR: a lasting fault, so it must reach the DLQ."""
    function = load_function(monkeypatch)
    register_api_revision(ecs, f"{API_URL}:aaaaaaa")
    boto3.client("ecr", region_name=REGION).delete_repository(repositoryName="circle-of-trust-api", force=True)

    with pytest.raises(ClientError) as raised:
        function.handler(push(**{"image-tag": "bbbbbbb"}), None)

    assert raised.value.response["Error"]["Code"] == "RepositoryNotFoundException"
    assert parse_task_definition(running(ecs, API))[1] == 1
    [line] = [line for line in log_lines(caplog) if line["message"] == "deployment failed"]
    assert (line["error_type"], line["image_tag"]) == ("RepositoryNotFoundException", "bbbbbbb")


def test_a_pushed_tag_ecr_does_not_hold_is_raised(ecs, monkeypatch):
    """It was just pushed: not finding it is a fault (or another region's event), not a reason to skip or to deploy."""
    function = load_function(monkeypatch)
    pushed("circle-of-trust-api", "aaaaaaa", T0)
    register_api_revision(ecs, f"{API_URL}:aaaaaaa")

    with pytest.raises(ClientError) as raised:
        function.handler(push(**{"image-tag": "bbbbbbb"}), None)

    assert raised.value.response["Error"]["Code"] == "ImageNotFoundException"
    assert parse_task_definition(running(ecs, API))[1] == 1
    assert len(revisions(ecs, "circle-of-trust-api")) == 2


def test_ecr_is_asked_in_the_functions_region(monkeypatch):
    function = load_function(monkeypatch)
    assert function._ecr().meta.region_name == REGION
    assert function._ecr() is function._ecr()


# ---------------------------------------------------------------------------
# Ignoring what is not a successful push of a mapped repository
# ---------------------------------------------------------------------------


@pytest.fixture
def function_without_ecs(monkeypatch) -> ModuleType:
    """The function, with ECS replaced by a tripwire: ignored events must not reach it."""
    function = load_function(monkeypatch)
    function._ecs = lambda: pytest.fail("an ignored event reached ECS")
    function._ecr = lambda: pytest.fail("an ignored event reached ECR")
    return function


NO_TAG = "detail.image-tag is missing or not a non-empty string: a push by digest alone names no image to deploy"


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
        pytest.param(without(("detail", "image-tag")), NO_TAG, id="digest-only"),
        pytest.param(with_detail(**{"image-tag": ""}), NO_TAG, id="empty-tag"),
        pytest.param(with_detail(**{"image-tag": ["abc123"]}), NO_TAG, id="tag-list"),
        pytest.param(
            with_detail(**{"image-tag": "-abc"}),
            f"image must be <repository_url>:<tag> or <repository_url>@sha256:<digest>, but '{REGISTRY}/circle-of-trust-api:-abc' was provided",
            id="invalid-tag",
        ),
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


API = SERVICES["circle-of-trust-api"]
KEYS = "exactly the keys cluster, service, repository_url, container"


def api_map(**changes: Any) -> str:
    """SERVICE_MAP with the API's target changed (None drops a key)."""
    target = {key: value for key, value in {**API, **changes}.items() if value is not None}
    return json.dumps({"circle-of-trust-api": target})


@pytest.mark.parametrize(
    ("service_map", "message"),
    [
        (None, "SERVICE_MAP is not set"),
        ("", "SERVICE_MAP is not set"),
        ("{circle-of-trust-api: api-service}", "SERVICE_MAP is not valid JSON"),
        ("[]", "must be a non-empty JSON object"),
        ("{}", "must be a non-empty JSON object"),
        ('{"circle-of-trust-api": "api-service"}', f"circle-of-trust-api: must be an object with {KEYS}"),
        ('{"circle-of-trust-api": {"cluster": "c", "service": "s"}}', f"circle-of-trust-api: must be an object with {KEYS}"),
        (api_map(container=None), f"circle-of-trust-api: must be an object with {KEYS}"),
        (api_map(region="us-east-1"), KEYS),
        (api_map(cluster=""), "circle-of-trust-api: cluster must be a non-empty string"),
        (api_map(service=7), "circle-of-trust-api: service must be a non-empty string; got 7"),
        (api_map(container=""), "circle-of-trust-api: container must be a non-empty string"),
        (api_map(repository_url=f"{REGISTRY}/circle-of-trust-worker"), "circle-of-trust-api: repository_url must end with /circle-of-trust-api"),
    ],
    ids=["unset", "empty", "not-json", "array", "empty-object", "target-string", "old-shape", "no-container", "extra-key", "empty-cluster", "service-number", "empty-container", "other-repository-url"],
)
def test_a_broken_service_map_fails_the_cold_start(monkeypatch, caplog, service_map, message):
    with pytest.raises(ValueError, match=message) as raised:
        load_function(monkeypatch, service_map)

    assert type(raised.value).__name__ == "ConfigurationError"
    assert log_lines(caplog)[-1]["message"] == "configuration error"


def test_every_service_map_problem_is_reported_at_once(monkeypatch):
    broken = {
        "circle-of-trust-api": {**API, "cluster": "", "repository_url": f"{REGISTRY}/other"},
        "circle-of-trust-worker": ["w"],
        "": {**API, "container": 3},
    }

    with pytest.raises(ValueError) as raised:
        load_function(monkeypatch, json.dumps(broken))

    assert str(raised.value) == "; ".join(
        [
            "SERVICE_MAP: circle-of-trust-api: cluster must be a non-empty string; got ''",
            f"circle-of-trust-api: repository_url must end with /circle-of-trust-api; got '{REGISTRY}/other'",
            f"circle-of-trust-worker: must be an object with {KEYS} (and, for a CodeDeploy release, both of codedeploy_application, codedeploy_group); got ['w']",
            "an empty repository name",
            ": container must be a non-empty string; got 3",
        ]
    )


# ---------------------------------------------------------------------------
# Property: whatever arrives, the answer is a status; only a deploy may raise
# ---------------------------------------------------------------------------

FAILING_REPOSITORY = "circle-of-trust-retired"
PROPERTY_SERVICES = {
    **SERVICES,
    FAILING_REPOSITORY: {**API, "service": "retired-service", "repository_url": f"{REGISTRY}/{FAILING_REPOSITORY}"},
}


class RecordingDeploy(Exception):
    """Stands in for ecs_deploy: records deploy_image calls; the retired service fails as a deleted one would.

    Every service's newest and running revisions name public images, so the newest-image check never asks ECR.
    """

    def __init__(self, real: ModuleType) -> None:
        self.calls: list[tuple[str, str, str, str]] = []
        self.image_problem = real.image_problem
        self.DeployError = real.DeployError

    def current_image(self, ecs_client: Any, cluster: str, service: str, container: str | None = None) -> str:
        return "public.ecr.aws/docker/library/busybox:1.36"

    def running_image(self, ecs_client: Any, cluster: str, service: str, container: str | None = None) -> str:
        return "public.ecr.aws/docker/library/busybox:1.35"

    def deploy_image(self, ecs_client: Any, cluster: str, service: str, image: str, container: str | None = None) -> str:
        self.calls.append((cluster, service, image, container))
        if service == "retired-service":
            raise self.DeployError(f"service {service!r} not found in cluster {cluster!r} (MISSING)")
        return f"arn:aws:ecs:{REGION}:123456789012:task-definition/{service}:2"


@pytest.fixture(scope="module")
def recorded_function() -> tuple[ModuleType, RecordingDeploy]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        function = load_function(monkeypatch, json.dumps(PROPERTY_SERVICES))
    deploy = RecordingDeploy(function.ecs_deploy)
    function.ecs_deploy = deploy
    function._ecs = lambda: SimpleNamespace()  # never called by the recorder
    function._ecr = lambda: pytest.fail("the newest-image check asked ECR about a public image")
    return function, deploy


def expected_call(event: Any) -> tuple[str, str, str, str] | None:
    """The deploy a successful, tagged push of a mapped repository should make; None for anything else."""
    try:
        detail = event["detail"]
        is_push = (
            event["source"] == "aws.ecr"
            and event["detail-type"] == "ECR Image Action"
            and detail["action-type"] == "PUSH"
            and detail["result"] == "SUCCESS"
        )
        repository, tag = detail["repository-name"], detail["image-tag"]
    except (KeyError, TypeError, IndexError):
        return None
    if not (is_push and isinstance(repository, str) and repository in PROPERTY_SERVICES and isinstance(tag, str) and tag):
        return None
    target = PROPERTY_SERVICES[repository]
    image = f"{target['repository_url']}:{tag}"
    return None if image_problem(image) else (target["cluster"], target["service"], image, target["container"])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=8,
)
telling_strings = st.sampled_from(
    ["aws.ecr", "ECR Image Action", "PUSH", "DELETE", "SUCCESS", "FAILURE", "rapid-worker", "api", "", "abc123", "v1.2.3", "-x", "a:b", *PROPERTY_SERVICES]
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
def test_any_event_gets_a_status_and_only_deploy_errors_escape(recorded_function, event):
    function, deploy = recorded_function
    deploy.calls.clear()
    call = expected_call(event)

    try:
        result = function.handler(event, None)
    except deploy.DeployError:
        assert call is not None and call[1] == "retired-service"
        assert deploy.calls == [call]
        return

    json.dumps(result)  # an answer Lambda can serialize
    if call is None:
        assert result["status"] == "ignored"
        assert isinstance(result["reason"], str) and result["reason"]
        assert deploy.calls == []
    else:
        assert result["status"] == "deployed"
        assert (result["cluster"], result["service"], result["image"]) == call[:3]
        assert deploy.calls == [call]
