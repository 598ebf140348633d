"""Each stack deploys to the moto emulator with real terraform, plans clean, and destroys.

Every resource of the synthesized stack is deployed: where moto lacks an API
or returns a field differently from AWS, tests/harness/moto_server.py shims
moto (each shim names its gap); nothing is left out of the emulated copy.
State lives in moto's S3 under the stack's own backend key, locked through
moto's DynamoDB, so the synthesized backend block is exercised too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stacks.config import EnvironmentConfig
from tests.harness.emulator import DeployedStack, deployed_stack, read_stack

# With `-n 2 --dist loadgroup`, both stacks run on one worker while the CI
# deploy scenario (tests/test_emulated_ci_deploy.py, about as long) has the other.
pytestmark = [pytest.mark.terraform, pytest.mark.emulated, pytest.mark.xdist_group("emulated-stacks")]


def test_stack_deploys_plans_clean_and_destroys(
    stack_name: str,
    stack_dir: Path,
    stack_config: EnvironmentConfig,
    moto_endpoint: str,
    terraform_env: dict[str, str],
    tmp_path: Path,
) -> None:
    with deployed_stack(stack_dir, tmp_path / stack_name, moto_endpoint, terraform_env) as stack:
        assert_backend_used(stack)
        assert_every_resource_deployed(stack, stack_dir)
        vpc_id = assert_vpc_deployed(stack, stack_dir, stack_config)

        plan = stack.terraform.plan()
        assert not plan.has_changes, f"the plan right after apply is not empty:\n{plan.output}"

        stack.destroy()
        assert stack.managed_resources() == [], "resources left in state after destroy"
        ec2 = stack.clients("ec2")
        assert ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Vpcs"] == []


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
