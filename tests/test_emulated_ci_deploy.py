"""CI deploys images by task-definition revision, rolls back, and Terraform never drifts.

End to end on the emulator, with every layer of production applied once by
real terraform, layer by layer in the manifest's order, and `tools.ecs_deploy`
called exactly as CI calls it (a boto3 ECS client, the services layer's
outputs, `<repository_url>:<sha>`). This is also production's emulated deploy:
first the checks every environment gets (tests/test_emulated_deploy.py:
complete, reading the layers below, plan-clean, data protected), then:

1. deploy `sha1` to the API: the service runs revision first + 1, which
   differs from the revision before only in the image and the deploy tag;
   the plan is empty;
2. deploy `sha2`: revision first + 2; the plan is empty;
3. `rollback()`: back on the `sha1` revision; the plan is empty;
   `rollback(to_revision=1)`: on Terraform's own revision;
4. deploy `sha1` to the workers once, the same way; the plan is empty;
5. a Terraform-side change (a config variant with more API memory, synthesized
   by `main.py --config`) is applied: Terraform registers a revision of its
   own, the service stays on the revision CI deployed, the plan is empty, and
   the next CI deploy carries the new memory; the plan is empty;
6. every layer plans clean, then all of them are destroyed in reverse order.

The live audit (`python -m tools.live_audit`, prowler from .audit/) scans the
same applied layers: it starts once the deploy checks have passed and runs
beside steps 1-6 (which touch only the ECS task definitions and services; a
revision CI registers counts as Terraform's family), and is awaited before
the destroy. Its failure (a FAIL neither accepted in code nor in its table
of artefacts, or a stale acceptance) fails the test with its report, after
the scenario's own checks and the destroy.

The steps share one apply (two minutes against the emulator) and depend on
each other's revisions, so they are one test: pytest-xdist hands the tests of
one module to different workers, which would apply the stack twice and see
each other's revisions in neither.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.harness.emulator import DeployedStack, deployed_environment, prepare_emulated_copy
from tests.test_emulated_deploy import check_deployed_environment, destroy_environment
from tools import ecs_deploy
from tools.ecs_deploy import DEPLOY_TAG, deploy_image, parse_task_definition, rollback

# Its own xdist group: with `-n 2 --dist loadgroup` it runs beside staging's deploy
# (tests/test_emulated_deploy.py). It is also production's emulated deploy.
pytestmark = [pytest.mark.terraform, pytest.mark.emulated, pytest.mark.xdist_group("emulated-ci-deploy")]

ENVIRONMENT = "production"
STACK = f"{ENVIRONMENT}-services"  # the layer CI reads and deploys to
PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIG = PROJECT_ROOT / "config" / f"{ENVIRONMENT}.tfvars"
# The Terraform-side change of step 5: more memory for the API tasks (a valid
# Fargate size with the production API's 512 CPU units, and not its current one).
VARIANT_API_MEMORY = 2048
# Per-revision fields of DescribeTaskDefinition: everything else must be equal
# between a deployed revision and the one it was copied from, except the image.
REVISION_IDENTITY = frozenset({"taskDefinitionArn", "revision", "registeredAt", "registeredBy", "deregisteredAt", "status"})


class BackgroundSynth:
    """`main.py --config <variant> --output <dir>` in a subprocess, started now, awaited on use.

    It runs while the stack is applied, so the variant costs no wall time.
    """

    def __init__(self, config: Path, outdir: Path):
        self.outdir = outdir
        self._proc = subprocess.Popen(
            [sys.executable, "main.py", "--config", str(config), "--output", str(outdir)],
            cwd=PROJECT_ROOT,
            env={**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def stack_dir(self) -> Path:
        output, _ = self._proc.communicate()
        if self._proc.returncode != 0:
            pytest.fail(f"synthesizing the config variant failed ({self._proc.returncode}):\n{output}", pytrace=False)
        return self.outdir / "stacks" / STACK

    def stop(self) -> None:
        """Stop it if nobody waited for it (the scenario failed first)."""
        if self._proc.returncode is None:
            self._proc.kill()
            self._proc.communicate()


class BackgroundAudit:
    """`python -m tools.live_audit` of the applied environment in a subprocess, started now, awaited before the destroy."""

    TIMEOUT_SECONDS = 1200

    def __init__(self, synth_dir: Path, endpoint: str, outdir: Path):
        self.outdir = outdir
        self.started = time.monotonic()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tools.live_audit", "--environment", ENVIRONMENT, "--synth-dir", str(synth_dir),
             "--endpoint", endpoint, "--output", str(outdir)],
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: stop() ends prowler with it
        )
        self.returncode: int | None = None
        self.output = ""
        self.seconds = 0.0

    def wait(self) -> None:
        """Until the audit has finished (prowler must see the layers before they are destroyed)."""
        if self.returncode is None:
            try:
                self.output, _ = self._proc.communicate(timeout=self.TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self._kill()
                self.output = self._proc.communicate()[0] + f"\n(killed after {self.TIMEOUT_SECONDS} s)"
            self.returncode = self._proc.returncode
            self.seconds = time.monotonic() - self.started
            self.outdir.mkdir(parents=True, exist_ok=True)
            (self.outdir / "report.txt").write_text(self.output)

    def stop(self) -> None:
        """Stop it, prowler included, if nobody waited for it (the scenario failed first)."""
        if self._proc.returncode is None:
            self._kill()
            self._proc.communicate()

    def _kill(self) -> None:
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="module")
def api_memory_variant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundSynth]:
    """The production config with only api_task_memory changed, synthesizing in the background."""
    root = tmp_path_factory.mktemp("variant")
    text, count = re.subn(r"(?m)^api_task_memory\s*=.*$", f"api_task_memory = {VARIANT_API_MEMORY}", CONFIG.read_text())
    assert count == 1, f"{CONFIG} must set api_task_memory exactly once"
    variant = root / CONFIG.name
    variant.write_text(text)
    synth = BackgroundSynth(variant, root / "cdktf.out")
    yield synth
    synth.stop()


@pytest.fixture(scope="module")
def ci_environment(
    api_memory_variant: BackgroundSynth,  # first: it synthesizes while this applies
    synth_dir: Path,
    moto_endpoint: str,
    terraform_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, DeployedStack]]:
    """Every layer of production, applied once for the whole scenario."""
    work = tmp_path_factory.mktemp("ci-deploy")
    with deployed_environment(synth_dir, ENVIRONMENT, work, moto_endpoint, terraform_env) as layers:
        yield layers


def test_ci_deploys_roll_back_and_leave_terraform_without_drift(
    ci_environment: dict[str, DeployedStack],
    api_memory_variant: BackgroundSynth,
    moto_endpoint: str,
    synth_dir: Path,
    tmp_path: Path,
) -> None:
    # The deploy checks every environment gets (tests/test_emulated_deploy.py), on the layers as applied.
    vpc_id = check_deployed_environment(ci_environment, synth_dir, ENVIRONMENT)
    seed_origin_secret_as_ci_does(ci_environment, moto_endpoint)
    audit = BackgroundAudit(synth_dir, moto_endpoint, tmp_path / "live-audit")
    try:
        vpc_id = run_ci_deploys(ci_environment, api_memory_variant, moto_endpoint, vpc_id, audit)
    finally:
        audit.stop()
    print(audit.output)
    assert audit.returncode == 0, (
        f"the live audit of {ENVIRONMENT} failed (exit {audit.returncode}, {audit.seconds:.0f} s; "
        f"prowler's report and log in {audit.outdir}):\n{audit.output}"
    )


def seed_origin_secret_as_ci_does(ci_environment: dict[str, DeployedStack], moto_endpoint: str) -> None:
    """The workflow's step after the applies: `tools.origin_secret ensure` with the edge's outputs, assuming the rotator role.

    Afterwards the authorizer's secret and CloudFront's KeyValueStore hold the
    same token (what the function sends is what the authorizer accepts), a
    second run changes nothing, the token is in no output, and Terraform,
    which never wrote either value, plans clean.
    """
    import json

    import boto3
    from botocore.config import Config

    edge = ci_environment[f"{ENVIRONMENT}-edge"]
    outputs = edge.terraform.output()
    region = "us-east-1"
    arns = [
        "--secret-arn", outputs["origin_verify_secret_arn"], "--kvs-arn", outputs["origin_verify_key_value_store_arn"],
        "--role-arn", outputs["origin_secret_rotator_role_arn"], "--region", region,
    ]  # fmt: skip
    env = {
        **os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_ENDPOINT_URL": moto_endpoint,
        # The store's data-plane host is <account>.<endpoint host>: the emulator is the client's proxy too.
        "HTTP_PROXY": moto_endpoint,
    }  # fmt: skip
    runs = [
        subprocess.run([sys.executable, "-m", "tools.origin_secret", "ensure", *arns], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
        for _ in range(2)
    ]
    for run in runs:
        assert run.returncode == 0, run.stdout + run.stderr
    credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    secrets = boto3.client("secretsmanager", region_name=region, endpoint_url=moto_endpoint, **credentials)
    secret = json.loads(secrets.get_secret_value(SecretId=outputs["origin_verify_secret_arn"])["SecretString"])
    store = boto3.client("cloudfront-keyvaluestore", region_name=region, endpoint_url=moto_endpoint, config=Config(proxies={"http": moto_endpoint}), **credentials)
    sent = store.get_key(KvsARN=outputs["origin_verify_key_value_store_arn"], Key="x-origin-verify")["Value"]
    assert secret["current"] == sent and len(sent) >= 64 and secret["previous"] == "", "the function would send what the authorizer refuses"
    assert len(secrets.list_secret_version_ids(SecretId=outputs["origin_verify_secret_arn"])["Versions"]) == 1, "the second ensure wrote again"
    for run in runs:
        assert sent not in run.stdout + run.stderr
    for name in (f"{ENVIRONMENT}-data", f"{ENVIRONMENT}-edge"):
        assert_plan_clean(ci_environment[name], f"of {name} after seeding the origin secret")


def run_ci_deploys(
    ci_environment: dict[str, DeployedStack], api_memory_variant: BackgroundSynth, moto_endpoint: str, vpc_id: str, audit: BackgroundAudit
) -> str:
    stack = ci_environment[STACK]
    ecs = stack.clients("ecs")
    outputs = stack.terraform.output()
    api = Service(ecs, outputs["api_cluster_name"], outputs["api_service_name"], outputs["api_task_definition_family"])
    worker = Service(ecs, outputs["worker_cluster_name"], outputs["worker_service_name"], outputs["worker_task_definition_family"])
    api_repo, worker_repo = outputs["ecr_api_repository_url"], outputs["ecr_worker_repository_url"]

    # Terraform created both services on revision 1 of their families.
    first = api.revision()
    terraform_arn = api.arn()
    assert first == 1, api.arn()
    assert worker.revision() == 1, worker.arn()

    # 1. deploy sha1
    sha1_arn = deploy_image(ecs, api.cluster, api.service, f"{api_repo}:sha1")
    assert api.arn() == sha1_arn and api.revision() == first + 1, (api.arn(), sha1_arn)
    assert_only_image_changed(ecs, terraform_arn, sha1_arn, f"{api_repo}:sha1")
    assert_plan_clean(stack, "after deploying sha1 to the API")

    # 2. deploy sha2
    sha2_arn = deploy_image(ecs, api.cluster, api.service, f"{api_repo}:sha2")
    assert api.arn() == sha2_arn and api.revision() == first + 2, (api.arn(), sha2_arn)
    assert_only_image_changed(ecs, sha1_arn, sha2_arn, f"{api_repo}:sha2")
    assert_plan_clean(stack, "after deploying sha2 to the API")

    # 3. roll back: by default to the previous deployed revision, then to revision 1
    assert rollback(ecs, api.cluster, api.service) == sha1_arn
    assert api.arn() == sha1_arn and api.image() == f"{api_repo}:sha1"
    assert_plan_clean(stack, "after rolling the API back to sha1")
    assert rollback(ecs, api.cluster, api.service, to_revision=1) == terraform_arn
    assert api.arn() == terraform_arn and api.revision() == 1

    # 4. the workers deploy the same way
    worker_first_arn = worker.arn()
    worker_sha1_arn = deploy_image(ecs, worker.cluster, worker.service, f"{worker_repo}:sha1")
    assert worker.arn() == worker_sha1_arn and worker.revision() == 2, (worker.arn(), worker_sha1_arn)
    assert_only_image_changed(ecs, worker_first_arn, worker_sha1_arn, f"{worker_repo}:sha1")
    assert_plan_clean(stack, "after rolling the API back to revision 1 and deploying sha1 to the workers")

    # 5. a Terraform-side change while the API runs a CI revision
    sha3_arn = deploy_image(ecs, api.cluster, api.service, f"{api_repo}:sha3")
    assert api.revision() == first + 3
    assert api.memory() != str(VARIANT_API_MEMORY), "the variant must change the memory"
    prepare_emulated_copy(api_memory_variant.stack_dir(), stack.terraform.workdir, moto_endpoint)
    apply_output = stack.terraform.apply()
    assert not re.search(r"aws_ecs_service\.\S+: Modifying", apply_output), apply_output
    (terraform_revision,) = [
        parse_task_definition(attributes["arn"])
        for attributes in stack.managed_resources("aws_ecs_task_definition")
        if attributes["family"] == api.family
    ]
    assert terraform_revision == (api.family, first + 4), terraform_revision
    assert api.arn() == sha3_arn, "the Terraform change moved the service off the revision CI deployed"
    assert ecs.describe_task_definition(taskDefinition=terraform_arn)["taskDefinition"]["status"] == "ACTIVE", (
        "skip_destroy must keep Terraform's replaced revision ACTIVE for rollbacks"
    )
    assert_plan_clean(stack, f"after applying api_task_memory = {VARIANT_API_MEMORY}")
    sha4_arn = deploy_image(ecs, api.cluster, api.service, f"{api_repo}:sha4")
    assert api.arn() == sha4_arn and api.revision() == first + 5
    assert api.memory() == str(VARIANT_API_MEMORY) and api.image() == f"{api_repo}:sha4"
    assert_plan_clean(stack, "after deploying sha4 on top of the Terraform change")

    # 6. nothing CI did shows in any layer's plan; the audit has seen the layers; then destroy every layer, dependents first
    for name, layer in ci_environment.items():
        assert_plan_clean(layer, f"of {name} after the CI deploys and rollbacks")
    audit.wait()
    destroy_environment(ci_environment, vpc_id)
    clusters = ecs.describe_clusters(clusters=[api.cluster, worker.cluster])["clusters"]
    assert all(cluster["status"] == "INACTIVE" for cluster in clusters), clusters
    return vpc_id


class Service:
    """One ECS service of the stack, as CI sees it."""

    def __init__(self, ecs: Any, cluster: str, service: str, family: str):
        self.ecs, self.cluster, self.service, self.family = ecs, cluster, service, family

    def arn(self) -> str:
        """ARN of the task definition revision the service runs."""
        return ecs_deploy.describe_service(self.ecs, self.cluster, self.service)["taskDefinition"]

    def revision(self) -> int:
        family, revision = parse_task_definition(self.arn())
        assert family == self.family, (family, self.family)
        return revision

    def task_definition(self) -> dict[str, Any]:
        return self.ecs.describe_task_definition(taskDefinition=self.arn())["taskDefinition"]

    def image(self) -> str:
        (container,) = self.task_definition()["containerDefinitions"]
        return container["image"]

    def memory(self) -> str:
        return self.task_definition()["memory"]


def assert_only_image_changed(ecs: Any, before_arn: str, after_arn: str, image: str) -> None:
    """`after` is `before` with `image` in its one container, plus the deploy tag."""
    before = ecs.describe_task_definition(taskDefinition=before_arn, include=["TAGS"])
    after = ecs.describe_task_definition(taskDefinition=after_arn, include=["TAGS"])
    expected = {key: value for key, value in before["taskDefinition"].items() if key not in REVISION_IDENTITY}
    (container,) = expected["containerDefinitions"]
    assert container["image"] != image, f"{before_arn} already runs {image}"
    expected["containerDefinitions"] = [{**container, "image": image}]
    actual = {key: value for key, value in after["taskDefinition"].items() if key not in REVISION_IDENTITY}
    assert actual == expected
    expected_tags = [tag for tag in before.get("tags", []) if tag["key"] != DEPLOY_TAG["key"]] + [DEPLOY_TAG]
    assert sorted(after.get("tags", []), key=str) == sorted(expected_tags, key=str)
    assert {"key": "managed-by", "value": "cdktf"} in expected_tags, "a deploy must keep the revision's tags"


def assert_plan_clean(stack: DeployedStack, when: str) -> None:
    plan = stack.terraform.plan()
    assert not plan.has_changes, f"terraform plan {when} is not empty:\n{plan.output}"
