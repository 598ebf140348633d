"""Each stack deploys to the moto emulator with real terraform, plans clean, and destroys.

State lives in moto's S3 under the stack's own backend key, locked through
moto's DynamoDB, so the synthesized backend block is exercised too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stacks.config import EnvironmentConfig
from tests.harness.emulator import DeployedStack, deployed_stack, read_stack

pytestmark = [pytest.mark.terraform, pytest.mark.emulated]


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
