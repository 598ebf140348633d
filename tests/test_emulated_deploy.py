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

import pytest

from stacks.config import EnvironmentConfig
from stacks.environment import LAYERS
from stacks.names import API_SERVICE_NAME
from tests.conftest import environment_configs
from tests.harness.emulator import DeployedStack, cdktf_deployed_environment, read_stack
from tools.layers import apply_order, read_dependencies

# The production layers are deployed with the terraform CLI, layer by layer, by the CI
# deploy scenario (tests/test_emulated_ci_deploy.py), which runs these same checks on them
# (`check_deployed_environment`, `destroy_environment`) before and after its CI deploys:
# each environment is deployed once per run. The two are separate xdist groups.
CDKTF_DEPLOYED = "staging"
pytestmark = [pytest.mark.terraform, pytest.mark.emulated, pytest.mark.xdist_group(f"emulated-{CDKTF_DEPLOYED}")]


def test_staging_deploys_with_npx_cdktf_deploy_plans_clean_and_destroys(
    synth_dir: Path,
    moto_endpoint: str,
    terraform_env: dict[str, str],
    tmp_path: Path,
) -> None:
    """Deployed as a user deploys it: `npx cdktf deploy 'staging-*'`, which reads the order from the manifest."""
    order = apply_order(read_dependencies(synth_dir), CDKTF_DEPLOYED)
    with cdktf_deployed_environment(synth_dir, CDKTF_DEPLOYED, tmp_path, moto_endpoint, terraform_env) as layers:
        log = next(iter(layers.values())).deploy_log
        for name in order:
            assert re.search(rf"^{re.escape(name)}\s+Apply complete!", log, flags=re.MULTILINE), f"{name}:\n{log[-3000:]}"
        vpc_id = check_deployed_environment(layers, synth_dir, CDKTF_DEPLOYED)
        destroy_environment(layers, vpc_id)


def check_deployed_environment(layers: dict[str, DeployedStack], synth_dir: Path, environment: str) -> str:
    """Every layer applied in the manifest's order, complete, reading the layers below, plan-clean and protected as configured.

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
    for name, stack in layers.items():
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
    (api,) = [service for service in services.managed_resources("aws_ecs_service") if service["name"] == API_SERVICE_NAME]
    used = set(api["network_configuration"][0]["subnets"])
    assert used and used <= subnets, (used, subnets)


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
