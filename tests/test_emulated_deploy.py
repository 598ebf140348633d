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

from pathlib import Path

import pytest

from stacks.config import EnvironmentConfig
from stacks.environment import LAYERS
from stacks.names import API_SERVICE_NAME
from tests.conftest import environment_configs
from tests.harness.emulator import DeployedStack, cdktf_deployed_environment, deployed_environment, read_stack
from tools.layers import apply_order, read_dependencies

# Each environment is its own xdist group (tests/conftest.py), as is the CI deploy
# scenario (tests/test_emulated_ci_deploy.py): the three longest tests spread over the workers.
CDKTF_DEPLOYED = "staging"
pytestmark = [pytest.mark.terraform, pytest.mark.emulated]


def test_environment_deploys_layer_by_layer_plans_clean_and_destroys(
    environment_name: str,
    synth_dir: Path,
    moto_endpoint: str,
    terraform_env: dict[str, str],
    tmp_path: Path,
) -> None:
    config = environment_configs()[environment_name]
    order = apply_order(read_dependencies(synth_dir), environment_name)
    assert [name.removeprefix(f"{environment_name}-") for name in order] == list(LAYERS)
    # One environment the way a user deploys it (`npx cdktf deploy`, which reads the order from the
    # manifest), the other with the plain terraform CLI layer by layer, as the README shows both.
    deploy = cdktf_deployed_environment if environment_name == CDKTF_DEPLOYED else deployed_environment
    with deploy(synth_dir, environment_name, tmp_path, moto_endpoint, terraform_env) as layers:
        if environment_name == CDKTF_DEPLOYED:
            log = next(iter(layers.values())).deploy_log
            assert all(f"{name}  Apply complete!" in log or f"{name} Apply complete!" in log for name in order), log[-3000:]
        for name, stack in layers.items():
            stack_dir = synth_dir / "stacks" / name
            assert_backend_used(stack)
            assert_every_resource_deployed(stack, stack_dir)
        network = layers[f"{environment_name}-network"]
        vpc_id = assert_vpc_deployed(network, synth_dir / "stacks" / network.name, config)
        assert_layers_read_each_other(layers)

        for name, stack in layers.items():
            plan = stack.terraform.plan()
            assert not plan.has_changes, f"{name}: the plan right after apply is not empty:\n{plan.output}"

        protected = assert_data_is_protected(layers, config)
        for name in reversed(order):
            layers[name].destroy()
            assert layers[name].managed_resources() == [], f"{name}: resources left in state after destroy"
        assert protected or not config.protect_data
        ec2 = network.clients("ec2")
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
