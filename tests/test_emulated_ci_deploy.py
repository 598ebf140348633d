"""CI deploys images by task-definition revision, rolls back, production moves to canary releases, and Terraform never drifts.

End to end on the emulator, with every layer of production applied by real
terraform, layer by layer in the manifest's order, and `tools.ecs_deploy`
called exactly as CI calls it (a boto3 ECS client, the services layer's
outputs, `<repository_url>:<sha>`). Production starts as it ran before its
move to canary releases (the shipped config with `api_release_strategy =
"rolling"`, as every production deployed before, or adopted from the HCL
project, runs), and ends as shipped (canary). This is also production's
emulated deploy: the checks every environment gets
(tests/test_emulated_deploy.py: complete, reading the layers below,
plan-clean, data protected) run on the shipped config's layers. The steps:

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
6. the cutover to canary releases (README, "Moving to canary releases"),
   with both APIs' traffic followed to a serving service after every apply:
   `cutover` applied (network, edge, services: nothing destroyed, the rolling
   service serving), the serving image released to `api-blue-green` through
   CodeDeploy, then the shipped `canary` config applied (edge, with
   `tools.plan_guard` allowing exactly the NLB's old target group; services;
   network; operations);
7. the checks every environment gets, on the shipped config's layers (each
   layer planned clean right after its part of the move); a CI release
   through CodeDeploy, after which the layers CodeDeploy touches plan clean;
   then all of them are destroyed in reverse order.

The live audit (`python -m tools.live_audit`, prowler from .audit/) scans the
shipped layers: it starts once the move is applied, runs beside step 7's
checks and release (which touch only the ECS service, its task sets and the
listener's weights), and is awaited before the destroy. Its failure (a FAIL neither
accepted in code nor in its table of artefacts, or a stale acceptance) fails
the test with its report, after the scenario's own checks and the destroy.

The steps share one apply and depend on each other's revisions, so they are
one test: pytest-xdist hands the tests of one module to different workers,
which would apply the stack twice and see each other's revisions in neither.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from stacks.names import API_BLUE_GREEN_SERVICE_NAME, API_SERVICE_NAME
from tests.conftest import environment_configs
from tests.harness.emulator import ClientFactory, DeployedStack, deployed_environment, prepare_emulated_copy
from tests.test_emulated_deploy import check_deployed_environment, deployments_in_progress, destroy_environment, finish_deployment
from tools import ecs_deploy, plan_guard
from tools.layers import apply_order, read_dependencies, release_order
from tools.ecs_deploy import DEPLOY_TAG, deploy_image, parse_task_definition, rollback

# Its own xdist group: with make test's `-n 3 --dist loadgroup --no-loadscope-reorder` it starts first,
# beside the adoption and staging's deploy (tests/conftest.py). It is also production's emulated deploy.
pytestmark = [pytest.mark.terraform, pytest.mark.emulated, pytest.mark.xdist_group("emulated-ci-deploy")]

ENVIRONMENT = "production"
STACK = f"{ENVIRONMENT}-services"  # the layer CI reads and deploys to
PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIG = PROJECT_ROOT / "config" / f"{ENVIRONMENT}.tfvars"
PREFIX = environment_configs()[ENVIRONMENT].resource_prefix
# The one resource the move to canary deletes that tools.plan_guard guards: the WebSocket NLB's target group of
# the rolling service's tasks (the NLB forwards to the release ALB's group of type alb instead).
RETIRED_TARGET_GROUP = "aws_lb_target_group.websocket_api_target_group"
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

    def synth_dir(self) -> Path:
        if self._proc.returncode is None:
            self._output, _ = self._proc.communicate()
        if self._proc.returncode != 0:
            pytest.fail(f"synthesizing the config variant failed ({self._proc.returncode}):\n{self._output}", pytrace=False)
        return self.outdir

    def stack_dir(self, stack: str = STACK) -> Path:
        return self.synth_dir() / "stacks" / stack

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


def config_variant(root: Path, name: str, **keys: object) -> BackgroundSynth:
    """The shipped production config with ``keys`` set (each exactly once there), synthesizing in the background."""
    text = CONFIG.read_text()
    for key, value in keys.items():
        text, count = re.subn(rf"(?m)^{key}\s*=.*$", f"{key} = {json.dumps(value)}", text)
        assert count == 1, f"{CONFIG} must set {key} exactly once"
    (root / name).mkdir(parents=True)
    variant = root / name / CONFIG.name
    variant.write_text(text)
    return BackgroundSynth(variant, root / name / "cdktf.out")


class Variants:
    """The config variants the scenario applies, each synthesized by `main.py --config` while something else runs."""

    def __init__(self, root: Path):
        self.root = root
        # Production as it ran before its move to canary releases.
        self.rolling = config_variant(root, "rolling", api_release_strategy="rolling")
        self.started: list[BackgroundSynth] = [self.rolling]

    def start_the_rest(self) -> None:
        """Step 5's Terraform-side change (on the rolling production) and step 6's cutover."""
        self.memory = config_variant(self.root, "memory", api_release_strategy="rolling", api_task_memory=VARIANT_API_MEMORY)
        # With step 5's memory: the cutover changes nothing the rolling production has.
        self.cutover = config_variant(self.root, "cutover", api_release_strategy="cutover", api_task_memory=VARIANT_API_MEMORY)
        self.started += [self.memory, self.cutover]

    def stop(self) -> None:
        for synth in self.started:
            synth.stop()


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Variants]:
    work = Variants(tmp_path_factory.mktemp("variants"))
    yield work
    work.stop()


@pytest.fixture(scope="module")
def ci_environment(
    variants: Variants,
    moto_endpoint: str,
    terraform_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, DeployedStack]]:
    """Every layer of production as it ran with rolling releases, applied once for the whole scenario."""
    work = tmp_path_factory.mktemp("ci-deploy")
    rolling = variants.rolling.synth_dir()
    variants.start_the_rest()  # they synthesize while this applies
    with deployed_environment(rolling, ENVIRONMENT, work, moto_endpoint, terraform_env) as layers:
        yield layers


def test_ci_deploys_roll_back_cut_over_to_canary_and_leave_terraform_without_drift(
    ci_environment: dict[str, DeployedStack],
    variants: Variants,
    moto_endpoint: str,
    synth_dir: Path,
    tmp_path: Path,
) -> None:
    seed_origin_secret_as_ci_does(ci_environment, moto_endpoint)
    run_ci_deploys(ci_environment, variants.memory, moto_endpoint)
    cut_over_to_canary(ci_environment, variants.cutover, synth_dir, moto_endpoint, tmp_path)
    audit = BackgroundAudit(synth_dir, moto_endpoint, tmp_path / "live-audit")
    try:
        # The deploy checks every environment gets (tests/test_emulated_deploy.py), on the shipped config's layers;
        # each layer planned clean after its part of the move (cut_over_to_canary).
        vpc_id = check_deployed_environment(ci_environment, synth_dir, ENVIRONMENT, plans=False)
        release_as_ci_does(ci_environment)
        for name in (f"{ENVIRONMENT}-edge", STACK):  # what CodeDeploy changes: the listener, the service
            assert_plan_clean(ci_environment[name], f"of {name} after a canary release")
        audit.wait()
        destroy_environment(ci_environment, vpc_id)
    finally:
        audit.stop()
    ecs = ci_environment[STACK].clients("ecs")
    clusters = ecs.describe_clusters(clusters=[f"{PREFIX}-api", f"{PREFIX}-workers"])["clusters"]
    assert all(cluster["status"] == "INACTIVE" for cluster in clusters), clusters
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


def run_ci_deploys(ci_environment: dict[str, DeployedStack], api_memory_variant: BackgroundSynth, moto_endpoint: str) -> None:
    """Steps 1-5, on the rolling production."""
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



def cut_over_to_canary(layers: dict[str, DeployedStack], cutover: BackgroundSynth, synth_dir: Path, endpoint: str, tmp_path: Path) -> None:
    """Step 6: README "Moving to canary releases", as an operator runs it, with both APIs served after every apply."""
    services, edge = layers[STACK], layers[f"{ENVIRONMENT}-edge"]
    clients = services.clients
    ecs, codedeploy = clients("ecs"), clients("codedeploy")
    before = services.terraform.output()
    cluster = before["api_cluster_name"]
    rolling = Service(ecs, cluster, API_SERVICE_NAME, before["api_task_definition_family"])
    serving_image, serving_revision = rolling.image(), rolling.arn()
    traffic = TrafficPaths(clients, cluster, edge.terraform.output()["http_api_id"], f"{PREFIX}-ws")
    on_rolling = {"http": {(API_SERVICE_NAME, serving_image)}, "websocket": {(API_SERVICE_NAME, serving_image)}}
    assert traffic.serving() == on_rolling

    # 1. cutover, in the order the workflow takes (tools.layers): the ALB, api-blue-green and its CodeDeploy group
    #    beside the rolling service, which keeps serving; nothing destroyed.
    for name, allowed in moving_order(synth_dir, "rolling", "cutover"):
        applied = apply_move_step(layers[name], cutover.stack_dir(name), endpoint, allowed, tmp_path)
        assert not [change for change in applied if "delete" in change["change"]["actions"]], name
        # Nothing CI did (steps 1-5) shows in a plan: the data and operations layers have nothing to do.
        assert bool(applied) == (name.removeprefix(f"{ENVIRONMENT}-") in ("network", "edge", "services")), (name, applied)
        assert traffic.serving() == on_rolling, f"after the cutover's {name}"
    outputs = services.terraform.output()
    assert (outputs["api_release_strategy"], outputs["api_service_name"], outputs["api_blue_green_service_name"]) == (
        "cutover", API_SERVICE_NAME, API_BLUE_GREEN_SERVICE_NAME,
    )  # fmt: skip
    assert rolling.arn() == serving_revision, "the cutover moved the rolling service"
    # Stored by the cutover's apply, so that the move repoints the NLB's listener before it deletes this group.
    (tasks_group,) = [r for r in edge.state()["resources"] if r["type"] == "aws_lb_target_group" and r["name"] == RETIRED_TARGET_GROUP.split(".")[1]]
    assert tasks_group["instances"][0].get("create_before_destroy") is True
    blue_green = Service(ecs, cluster, API_BLUE_GREEN_SERVICE_NAME, outputs["api_task_definition_family"])
    assert blue_green.describe()["deploymentController"] == {"type": "CODE_DEPLOY"}

    # 2. The serving image to api-blue-green, through CodeDeploy, as the README's command does it.
    names = ["--cluster", cluster, "--service", API_BLUE_GREEN_SERVICE_NAME, "--codedeploy-application", outputs["api_codedeploy_application_name"],
             "--codedeploy-group", outputs["api_codedeploy_deployment_group_name"]]  # fmt: skip
    code = ecs_deploy.main(["deploy", *names, "--image", serving_image, "--wait", "--poll-seconds", "0"], ecs_client=ecs, codedeploy_client=codedeploy, sleep=lambda _: None)
    assert code == 0
    finish_deployments(codedeploy, outputs["api_codedeploy_application_name"], outputs["api_codedeploy_deployment_group_name"])
    assert blue_green.image() == serving_image
    assert [ts["status"] for ts in blue_green.describe()["taskSets"]] == ["PRIMARY"]
    assert traffic.serving() == on_rolling, "api-blue-green serves nothing before the move"

    # 3. canary, the shipped config, in the order the workflow takes (tools.layers): the APIs move to the ALB (edge,
    #    the plan guard letting go of exactly the NLB's old group), then the rolling service goes (services), then its
    #    rules (network).
    on_blue_green = {"http": {(API_BLUE_GREEN_SERVICE_NAME, serving_image)}, "websocket": {(API_BLUE_GREEN_SERVICE_NAME, serving_image)}}
    order = moving_order(synth_dir, "cutover", "canary")
    assert [(name.removeprefix(f"{ENVIRONMENT}-"), allowed) for name, allowed in order][1:4] == [
        ("edge", (RETIRED_TARGET_GROUP,)), ("services", ()), ("network", ()),
    ]  # fmt: skip
    expected = on_rolling
    for name, allowed in order:
        apply_move_step(layers[name], synth_dir / "stacks" / name, endpoint, allowed, tmp_path)
        if name == f"{ENVIRONMENT}-edge":
            # Both services ran while the APIs moved: the rolling one goes only in the services layer.
            expected = on_blue_green
            assert rolling.describe()["status"] == "ACTIVE"
        assert traffic.serving() == expected, f"after the canary's {name}"
    assert [s["status"] for s in ecs.describe_services(cluster=cluster, services=[API_SERVICE_NAME])["services"]] in ([], ["DRAINING"], ["INACTIVE"])
    outputs = services.terraform.output()
    assert (outputs["api_release_strategy"], outputs["api_service_name"]) == ("canary", API_BLUE_GREEN_SERVICE_NAME)


def moving_order(synth_dir: Path, deployed: str, synthesized: str) -> list[tuple[str, tuple[str, ...]]]:
    """The workflow's order for a release-strategy move, from tools.layers (as `order --deployed-strategy` prints it)."""
    return release_order(apply_order(read_dependencies(synth_dir), ENVIRONMENT), ENVIRONMENT, deployed, synthesized)


def apply_move_step(stack: DeployedStack, stack_dir: Path, endpoint: str, allowed: tuple[str, ...], tmp_path: Path) -> list[dict[str, Any]]:
    """One layer of a move, as the workflow applies it: plan, the plan guard (refusing without ``allowed``, passing with
    exactly it), apply that plan, then a clean plan. Returns the plan's changes (none applied where there are none)."""
    prepare_emulated_copy(stack_dir, stack.terraform.workdir, endpoint)
    plan = stack.terraform.plan_json()
    changes = [c for c in plan.get("resource_changes", ()) if c["change"]["actions"] != ["no-op"]]
    path = tmp_path / f"{stack.name}.plan.json"
    path.write_text(json.dumps(plan))
    assert [(v.address, v.action) for v in plan_guard.check_plan(plan)] == [(address, plan_guard.DELETED) for address in allowed], stack.name
    if allowed:
        assert plan_guard.main([str(path)]) == plan_guard.EXIT_LOSS
    assert plan_guard.main([str(path), *(f"--allow={address}" for address in allowed)]) == plan_guard.EXIT_OK
    if changes:
        stack.terraform.run("apply", "-input=false", f"-parallelism={stack.terraform.parallelism}", "tfplan")
        assert_plan_clean(stack, f"of {stack.name} after its part of the move")
    return changes


def finish_deployments(codedeploy: Any, application: str, group: str) -> None:
    """Read each deployment in progress through its termination wait: each succeeds."""
    for deployment_id in deployments_in_progress(codedeploy, application, group):
        info = finish_deployment(codedeploy, deployment_id)
        assert info["status"] == "Succeeded", info


def release_as_ci_does(layers: dict[str, DeployedStack]) -> None:
    """Step 7's release: the workflow's deploy step on the canary production (the outputs it reads, the flags it passes)."""
    services = layers[STACK]
    outputs = services.terraform.output()
    ecs, codedeploy = services.clients("ecs"), services.clients("codedeploy")
    application, group = outputs["api_codedeploy_application_name"], outputs["api_codedeploy_deployment_group_name"]
    assert application and group, outputs
    api = Service(ecs, outputs["api_cluster_name"], outputs["api_service_name"], outputs["api_task_definition_family"])
    before = api.arn()
    image = f"{outputs['ecr_api_repository_url']}:sha5"
    argv = ["deploy", "--cluster", api.cluster, "--service", api.service, "--image", image, "--codedeploy-application", application,
            "--codedeploy-group", group, "--wait", "--poll-seconds", "0"]  # fmt: skip
    assert ecs_deploy.main(argv, ecs_client=ecs, codedeploy_client=codedeploy, sleep=lambda _: None) == 0
    finish_deployments(codedeploy, application, group)
    assert api.image() == image and api.revision() > parse_task_definition(before)[1]
    # Built on Terraform's newest revision (the shipped config's memory, not the cutover variant's the service ran).
    (terraform_revision,) = [a["arn"] for a in services.managed_resources("aws_ecs_task_definition") if a["family"] == api.family]
    assert_only_image_changed(ecs, terraform_revision, api.arn(), image)


class TrafficPaths:
    """Where each API's requests end, read from the emulator as AWS reports it.

    From the HTTP API's VPC-link integration (a Cloud Map service, or the
    release ALB's listener) and the WebSocket NLB's listener, through
    target groups (of type alb: the ALB's listener and its weighted groups),
    to the ECS services or task sets registered at the end: the set of
    (service name, image) per API. moto starts no task for a service under
    ECS's own controller (its runningCount stays 0), so such a service serves
    here when it is ACTIVE with tasks desired; a task set (CodeDeploy,
    tests/harness/moto_codedeploy.py) when its tasks run.
    """

    def __init__(self, clients: ClientFactory, cluster: str, http_api_id: str, websocket_load_balancer_name: str):
        self.ecs, self.elbv2, self.apigatewayv2 = clients("ecs"), clients("elbv2"), clients("apigatewayv2")
        self.cluster, self.http_api_id = cluster, http_api_id
        (self.websocket_load_balancer,) = self.elbv2.describe_load_balancers(Names=[websocket_load_balancer_name])["LoadBalancers"]

    def serving(self) -> dict[str, set[tuple[str, str]]]:
        self._described = self._services()
        return {"http": self._from_integration(), "websocket": self._from_listeners(self.websocket_load_balancer["LoadBalancerArn"])}

    def _services(self) -> list[dict[str, Any]]:
        arns = self.ecs.list_services(cluster=self.cluster)["serviceArns"]
        return [s for i in range(0, len(arns), 10) for s in self.ecs.describe_services(cluster=self.cluster, services=arns[i : i + 10])["services"]]

    def _image(self, task_definition: str) -> str:
        (container,) = self.ecs.describe_task_definition(taskDefinition=task_definition)["taskDefinition"]["containerDefinitions"]
        return container["image"]

    def _from_integration(self) -> set[tuple[str, str]]:
        (integration,) = [i for i in self.apigatewayv2.get_integrations(ApiId=self.http_api_id)["Items"] if i.get("ConnectionType") == "VPC_LINK"]
        uri = integration["IntegrationUri"]
        if ":servicediscovery:" in uri:
            return {
                (s["serviceName"], self._image(s["taskDefinition"]))
                for s in self._described
                if s["status"] == "ACTIVE" and s["desiredCount"] > 0 and any(r["registryArn"] == uri for r in s.get("serviceRegistries", ()))
            }
        (listener,) = self.elbv2.describe_listeners(ListenerArns=[uri])["Listeners"]
        return self._from_listener(listener)

    def _from_listeners(self, load_balancer_arn: str, port: int | None = None) -> set[tuple[str, str]]:
        listeners = self.elbv2.describe_listeners(LoadBalancerArn=load_balancer_arn)["Listeners"]
        return {end for listener in listeners if port in (None, listener["Port"]) for end in self._from_listener(listener)}

    def _from_listener(self, listener: dict[str, Any]) -> set[tuple[str, str]]:
        reached: set[tuple[str, str]] = set()
        for action in listener["DefaultActions"]:
            forward = action.get("ForwardConfig", {}).get("TargetGroups") or [{"TargetGroupArn": action["TargetGroupArn"], "Weight": 1}]
            for group in forward:
                if group.get("Weight", 1) > 0:
                    reached |= self._from_target_group(group["TargetGroupArn"])
        return reached

    def _from_target_group(self, arn: str) -> set[tuple[str, str]]:
        (group,) = self.elbv2.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"]
        if group["TargetType"] == "alb":
            targets = self.elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
            return {end for t in targets for end in self._from_listeners(t["Target"]["Id"], t["Target"].get("Port"))}
        reached = set()
        for s in self._described:
            if s["status"] != "ACTIVE":
                continue
            for task_set in s.get("taskSets", ()):
                if task_set["runningCount"] > 0 and any(lb.get("targetGroupArn") == arn for lb in task_set.get("loadBalancers", ())):
                    reached.add((s["serviceName"], self._image(task_set["taskDefinition"])))
            if not s.get("taskSets") and s["desiredCount"] > 0 and any(lb.get("targetGroupArn") == arn for lb in s.get("loadBalancers", ())):
                reached.add((s["serviceName"], self._image(s["taskDefinition"])))
        return reached


class Service:
    """One ECS service of the stack, as CI sees it."""

    def __init__(self, ecs: Any, cluster: str, service: str, family: str):
        self.ecs, self.cluster, self.service, self.family = ecs, cluster, service, family

    def describe(self) -> dict[str, Any]:
        return ecs_deploy.describe_service(self.ecs, self.cluster, self.service)

    def arn(self) -> str:
        """ARN of the task definition revision the service runs."""
        return self.describe()["taskDefinition"]

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
