"""Each environment's layers deploy to the moto emulator in order with real terraform, plan clean, and destroy in reverse.

Every resource of every synthesized layer is deployed: where moto lacks an
API or returns a field differently from AWS, tests/harness/moto_server.py
shims moto (each shim names its gap); nothing is left out of the emulated
copy. Each layer's state lives in moto's S3 under its own backend key,
locked through moto's DynamoDB, and the layers above read it from there
(cdktf's cross-stack references), so the synthesized backend blocks and
remote-state reads are exercised too. Protection is lifted only for the
teardown, in the emulated copy.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from stacks.config import EnvironmentConfig
from stacks.environment import LAYERS
from stacks.names import WORKER_SERVICE_NAME
from tests.conftest import environment_configs
from tests.harness.emulator import DeployedStack, cdktf_deployed_environment, read_stack
from tools import ecs_deploy, iam_lint
from tools.codedeploy_release import IN_PROGRESS_STATUSES
from tools.layers import apply_order, read_dependencies

# The production layers are deployed with the terraform CLI, layer by layer, by the CI
# deploy scenario (tests/test_emulated_ci_deploy.py), which runs these same checks on them
# (`check_deployed_environment`, `destroy_environment`) before and after its CI deploys:
# each environment is deployed once per run. The two are separate xdist groups.
CDKTF_DEPLOYED = "staging"
pytestmark = [pytest.mark.terraform, pytest.mark.emulated, pytest.mark.xdist_group(f"emulated-{CDKTF_DEPLOYED}")]


def test_staging_deploys_with_npx_cdktf_deploy_plans_clean_releases_the_api_through_the_canary_and_destroys(
    synth_dir: Path,
    moto_endpoint: str,
    terraform_env: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Deployed as a user deploys it: `npx cdktf deploy 'staging-*'`, which reads the order from the manifest.

    Staging's API is a canary (api_release_strategy): between the plans and
    the destroy, `tools.ecs_deploy` releases it through CodeDeploy
    (``release_the_api_through_the_canary``).
    """
    order = apply_order(read_dependencies(synth_dir), CDKTF_DEPLOYED)
    with cdktf_deployed_environment(synth_dir, CDKTF_DEPLOYED, tmp_path, moto_endpoint, terraform_env) as layers:
        log = next(iter(layers.values())).deploy_log
        for name in order:
            assert re.search(rf"^{re.escape(name)}\s+Apply complete!", log, flags=re.MULTILINE), f"{name}:\n{log[-3000:]}"
        vpc_id = check_deployed_environment(layers, synth_dir, CDKTF_DEPLOYED)
        release_the_api_through_the_canary(layers, CDKTF_DEPLOYED, capsys)
        destroy_environment(layers, vpc_id)


def check_deployed_environment(layers: dict[str, DeployedStack], synth_dir: Path, environment: str, *, plans: bool = True) -> str:
    """Every layer applied in the manifest's order, complete, reading the layers below, plan-clean and protected as configured.

    ``plans=False`` where the caller saw each layer plan clean after its last apply already.
    Returns the VPC's ID (for `destroy_environment`).
    """
    config = environment_configs()[environment]
    assert list(layers) == apply_order(read_dependencies(synth_dir), environment)
    assert [name.removeprefix(f"{environment}-") for name in layers] == list(LAYERS)
    for name, stack in layers.items():
        assert_backend_used(stack)
        assert_every_resource_deployed(stack, synth_dir / "stacks" / name)
    network = layers[f"{environment}-network"]
    vpc_id = assert_vpc_deployed(network, synth_dir / "stacks" / network.name, config)
    assert_layers_read_each_other(layers)
    assert_iam_lint_clean(layers, synth_dir, environment)
    for name, stack in layers.items() if plans else ():
        plan = stack.terraform.plan()
        assert not plan.has_changes, f"{name}: the plan right after apply is not empty:\n{plan.output}"
    refused = assert_data_is_protected(layers, config)
    assert bool(refused) == config.protect_data
    return vpc_id


def destroy_environment(layers: dict[str, DeployedStack], vpc_id: str) -> None:
    """Destroy the layers in reverse order (protection lifted in the test's copy only); nothing is left."""
    for name in reversed(list(layers)):
        layers[name].destroy()
        assert layers[name].managed_resources() == [], f"{name}: resources left in state after destroy"
    ec2 = next(iter(layers.values())).clients("ec2")
    assert ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Vpcs"] == []


def assert_layers_read_each_other(layers: dict[str, DeployedStack]) -> None:
    """A value one layer exports is what the layer above it used: the API service runs in the network layer's subnets."""
    network, services = (next(stack for name, stack in layers.items() if name.endswith(suffix)) for suffix in ("-network", "-services"))
    subnets = {subnet["id"] for subnet in network.managed_resources("aws_subnet")}
    (api,) = [service for service in services.managed_resources("aws_ecs_service") if service["name"] != WORKER_SERVICE_NAME]
    used = set(api["network_configuration"][0]["subnets"])
    assert used and used <= subnets, (used, subnets)


def assert_iam_lint_clean(layers: dict[str, DeployedStack], synth_dir: Path, environment: str) -> None:
    """Every policy document Terraform applied, as rendered in the layers' states, passes the IAM linter
    (tools.iam_lint: parliament, with its reviewed acceptances), and the lint read every kind of document."""
    endpoint = next(iter(layers.values())).clients.endpoint
    documents = iam_lint.environment_documents(synth_dir, environment, endpoint)
    kinds = {document.kind for document in documents}
    assert kinds == {iam_lint.IDENTITY, iam_lint.TRUST, iam_lint.KEY, iam_lint.RESOURCE, iam_lint.ENDPOINT}, kinds
    roles = [
        f"{name}:aws_iam_role.{resource['name']}"
        for name, layer in layers.items()
        for resource in layer.state()["resources"]
        if resource["mode"] == "managed" and resource["type"] == "aws_iam_role"
    ]
    linted = {document.address.removesuffix(".assume_role_policy") for document in documents if document.kind == iam_lint.TRUST}
    assert set(roles) == linted, set(roles) ^ linted  # every role's trust, from the state, and nothing else
    result = iam_lint.classify(documents)
    assert result.clean, iam_lint.report(result)


def assert_data_is_protected(layers: dict[str, DeployedStack], config: EnvironmentConfig) -> int:
    """Where the environment protects data, terraform itself refuses to destroy the data layer.

    Returns how many resources the refused plan named (0 where nothing is protected).
    """
    data = next(stack for name, stack in layers.items() if name.endswith("-data"))
    if not config.protect_data:
        return 0
    result = data.terraform.run("plan", "-destroy", "-refresh=false", "-input=false", ok_codes=(1,))
    assert "Instance cannot be destroyed" in result.stdout + result.stderr, result.stdout[-2000:] + result.stderr[-2000:]
    return (result.stdout + result.stderr).count("Instance cannot be destroyed")


def assert_backend_used(stack: DeployedStack) -> None:
    """The state object is in the bucket under the stack's key, and its digest in the lock table."""
    backend = stack.backend
    assert stack.managed_resources(), f"no managed resources in s3://{backend['bucket']}/{backend['key']}"
    lock_ids = {item["LockID"]["S"] for item in stack.lock_table_items()}
    assert f"{backend['bucket']}/{backend['key']}-md5" in lock_ids, lock_ids


def assert_every_resource_deployed(stack: DeployedStack, stack_dir: Path) -> None:
    """Every resource block of cdk.tf.json is in the state: nothing was skipped for the emulator."""
    synthesized = {f"{type_}.{name}" for type_, blocks in read_stack(stack_dir).get("resource", {}).items() for name in blocks}
    deployed = {f"{r['type']}.{r['name']}" for r in stack.state()["resources"] if r["mode"] == "managed" and r["instances"]}
    assert synthesized - deployed == set(), "synthesized but not deployed"
    assert deployed - synthesized == set(), "deployed but not synthesized"


def assert_vpc_deployed(stack: DeployedStack, stack_dir: Path, config: EnvironmentConfig) -> str:
    """The VPC exists with the configured CIDR and carries the provider's default tags; returns its ID."""
    provider = next(p for p in read_stack(stack_dir)["provider"]["aws"] if "alias" not in p)
    default_tags = provider["default_tags"][0]["tags"]
    assert {"project": config.project_name, "environment": config.environment}.items() <= default_tags.items()
    assert "managed-by" in default_tags

    (vpc_state,) = stack.managed_resources("aws_vpc")
    (vpc,) = stack.clients("ec2").describe_vpcs(VpcIds=[vpc_state["id"]])["Vpcs"]
    assert vpc["CidrBlock"] == config.vpc_cidr
    tags = {tag["Key"]: tag["Value"] for tag in vpc.get("Tags", [])}
    assert default_tags.items() <= tags.items(), tags
    return vpc["VpcId"]


# -- the API's canary releases (issue 20), on staging's applied environment -------------------------------
def deployments_in_progress(codedeploy: Any, application: str, group: str) -> list[str]:
    """IDs of the deployment group's deployments that have not ended (a termination wait included)."""
    return codedeploy.list_deployments(
        applicationName=application, deploymentGroupName=group, includeOnlyStatuses=list(IN_PROGRESS_STATUSES)
    )["deployments"]


def finish_deployment(codedeploy: Any, deployment_id: str) -> dict[str, Any]:
    """Read the deployment through its termination wait (one read is one emulated minute); its final info."""
    for _ in range(24 * 60):
        info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        if info["status"] not in IN_PROGRESS_STATUSES:
            return info
    raise AssertionError(f"deployment {deployment_id} did not end")


def release_the_api_through_the_canary(layers: dict[str, DeployedStack], environment: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Releases through `tools.ecs_deploy` (its CLI entry point) and CodeDeploy, each followed by clean plans.

    The emulator plays CodeDeploy step by step (tests/harness/moto_codedeploy.py):
    a replacement task set in the idle target group, the canary's weights on
    the listener, all traffic, the termination wait, the original's end;
    a release alarm in ALARM or a StopDeployment rolls back to the original
    task set, which still runs. The sequence:

    1. a good release that completes (the original task set terminated);
    2. a good release, then an operator's rollback inside the termination
       wait: a traffic shift back, exit 0, the previous revision serving;
    3. a release whose 5xx release alarm fires during the canary's bake:
       rolled back, exit 1 naming the alarm and the revision serving;
    4. a rollback after the wait: a new deployment of the earlier revision.

    After each, the plans of the layers CodeDeploy touches (the listener in
    the edge, the service and its group in the services layer) are clean.
    """
    services, edge = layers[f"{environment}-services"], layers[f"{environment}-edge"]
    outputs = services.terraform.output()
    assert outputs["api_release_strategy"] == "canary"
    clients = services.clients
    ecs, codedeploy, elbv2, cloudwatch = (clients(name) for name in ("ecs", "codedeploy", "elbv2", "cloudwatch"))
    cluster, service = outputs["api_cluster_name"], outputs["api_service_name"]
    application, group = outputs["api_codedeploy_application_name"], outputs["api_codedeploy_deployment_group_name"]
    repository = outputs["ecr_api_repository_url"]
    names = ["--cluster", cluster, "--service", service, "--codedeploy-application", application, "--codedeploy-group", group]
    waiting = ["--wait", "--poll-seconds", "0"]
    (load_balancer,) = [lb for lb in elbv2.describe_load_balancers()["LoadBalancers"] if lb["Type"] == "application"]
    (listener,) = elbv2.describe_listeners(LoadBalancerArn=load_balancer["LoadBalancerArn"])["Listeners"]
    prefix = outputs["api_task_definition_family"].removesuffix("-api")
    found = elbv2.describe_target_groups(Names=[f"{prefix}-a", f"{prefix}-b"])["TargetGroups"]
    groups = {tg["TargetGroupArn"]: tg["TargetGroupName"] for tg in found}
    # Only the group the listener forwards to is attached to the ALB until the first release.
    assert [tg["TargetGroupName"] for tg in found if tg["LoadBalancerArns"]] == [f"{prefix}-a"]

    def run(*argv: str, sleep=lambda _: None) -> tuple[int, str, str]:
        capsys.readouterr()
        code = ecs_deploy.main(list(argv), ecs_client=ecs, codedeploy_client=codedeploy, sleep=sleep)
        captured = capsys.readouterr()
        return code, captured.out.strip(), captured.err

    def serving() -> str:
        return ecs.describe_services(cluster=cluster, services=[service])["services"][0]["taskDefinition"]

    def weights() -> dict[str, int]:
        (action,) = elbv2.describe_listeners(ListenerArns=[listener["ListenerArn"]])["Listeners"][0]["DefaultActions"]
        forward = action.get("ForwardConfig", {}).get("TargetGroups") or [{"TargetGroupArn": action["TargetGroupArn"], "Weight": 1}]
        total = sum(item.get("Weight", 1) for item in forward) or 1
        return {groups[item["TargetGroupArn"]]: round(100 * item.get("Weight", 1) / total) for item in forward if item.get("Weight", 1)}

    def task_sets() -> list[dict]:
        return ecs.describe_services(cluster=cluster, services=[service])["services"][0]["taskSets"]

    def in_progress() -> list[str]:
        return deployments_in_progress(codedeploy, application, group)

    def finish(deployment_id: str) -> dict:
        return finish_deployment(codedeploy, deployment_id)

    def plans_clean(after: str) -> None:
        for stack in (edge, services):
            plan = stack.terraform.plan()
            assert not plan.has_changes, f"{stack.name}: the plan {after} is not empty:\n{plan.output}"

    first = serving()
    assert {ts["status"]: ts["taskDefinition"] for ts in task_sets()} == {"PRIMARY": first}
    assert weights() == {f"{prefix}-a": 100}

    # 1. A good release that completes.
    code, released, err = run("deploy", *names, "--image", f"{repository}:release-1", *waiting)
    assert code == 0, err
    assert serving() == released != first and released.endswith(f"task-definition/{prefix}-api:2"), (released, err)
    assert weights() == {f"{prefix}-b": 100}
    # The original task set still runs through the termination wait, serving nothing.
    assert sorted((ts["status"], ts["taskDefinition"]) for ts in task_sets()) == sorted([("PRIMARY", released), ("ACTIVE", first)])
    (deployment_id,) = in_progress()
    info = finish(deployment_id)
    assert info["status"] == "Succeeded", info
    assert [(ts["status"], ts["taskDefinition"]) for ts in task_sets()] == [("PRIMARY", released)]
    plans_clean("after a completed canary release")

    # 2. A good release, then an operator's rollback inside the termination wait: a traffic shift.
    code, second, err = run("deploy", *names, "--image", f"{repository}:release-2", *waiting)
    assert code == 0 and serving() == second and weights() == {f"{prefix}-a": 100}, err
    code, now, err = run("rollback", *names, *waiting)
    assert code == 0, err
    assert now == serving() == released, (now, err)
    assert weights() == {f"{prefix}-b": 100}
    assert [(ts["status"], ts["taskDefinition"]) for ts in task_sets()] == [("PRIMARY", released)], "a rollback in the wait started tasks"
    assert in_progress() == []
    plans_clean("after an operator's rollback in the termination wait")

    # 3. A release whose release alarm fires during the canary's bake.
    alarm = f"{prefix}-api-release-5xx-rate-a"  # the replacement task set goes to the idle group, a
    fired: list[dict[str, int]] = []

    def bake(_: float) -> None:
        """Between the tool's reads: once the canary serves its share, its release alarm fires."""
        if not fired and weights().get(f"{prefix}-a") == 10:
            fired.append(weights())
            cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="emulated: 5xx from the canary")

    code, _, err = run("deploy", *names, "--image", f"{repository}:release-3", *waiting, sleep=bake)
    assert fired == [{f"{prefix}-b": 90, f"{prefix}-a": 10}], "the alarm did not fire during the bake"
    assert code == 1, err
    assert "ALARM_ACTIVE" in err and "a release alarm" in err and f"{prefix}-api:2" in err, err
    assert serving() == released and weights() == {f"{prefix}-b": 100}
    assert [(ts["status"], ts["taskDefinition"]) for ts in task_sets()] == [("PRIMARY", released)]
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="emulated: recovered")
    plans_clean("after an alarm rollback")

    # 4. After the wait, a rollback is a new (canary) deployment of the earlier revision.
    code, now, err = run("rollback", *names, *waiting)
    assert code == 0, err
    assert now == serving() == first and weights() == {f"{prefix}-a": 100}, (now, err)
    (deployment_id,) = in_progress()
    assert finish(deployment_id)["status"] == "Succeeded"
    plans_clean("after a rollback by a new deployment")
