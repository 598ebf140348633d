"""The layer stacks of an environment: what each holds, protection, account guard, sizes, change isolation."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from stacks.environment import LAYERS
from tests.support import synth_layers
from constructs_lib.data_bearing import DATA_BEARING_TYPES

PROJECT = Path(__file__).resolve().parents[1]
MAX_RESOURCES_PER_STACK = 100
# Types that only a given layer may hold: the data layer keeps what stores data.
STORES = {"aws_dynamodb_table", "aws_s3_bucket", "aws_sqs_queue", "aws_ecr_repository", "aws_kms_key",
          "aws_cloudwatch_log_group", "aws_secretsmanager_secret", "aws_service_discovery_private_dns_namespace",
          "aws_backup_vault", "aws_cloudtrail"}  # fmt: skip


@pytest.fixture(scope="module")
def shipped():
    from stacks.config import load_configs

    configs = load_configs([PROJECT / "config" / "production.tfvars", PROJECT / "config" / "staging.tfvars"])
    guarded = dataclasses.replace(
        configs[1],
        environment="guarded",
        s3_frontend_bucket="circle-of-trust-frontend-guarded",
        allowed_account_ids=("123456789012",),
        assume_role_arn="arn:aws:iam::123456789012:role/terraform-apply",
        enable_backup=True,
        protect_data=True,
    )
    return {config.environment: config for config in [*configs, guarded]}, synth_layers([*configs, guarded])


def resource_types(stack: dict) -> dict[str, int]:
    return {resource_type: len(blocks) for resource_type, blocks in stack.get("resource", {}).items()}


def test_each_environment_is_five_layers_none_above_100_resources(shipped):
    _, layers = shipped
    for environment, stacks in layers.items():
        assert list(stacks) == [f"{environment}-{layer}" for layer in LAYERS]
        for name, stack in stacks.items():
            count = sum(resource_types(stack).values())
            assert 0 < count <= MAX_RESOURCES_PER_STACK, (name, count)


def test_every_store_is_in_the_data_layer(shipped):
    """Tables, buckets, queues, repositories, keys, log groups, secrets, the namespace, trail and vault: data layer only."""
    _, layers = shipped
    for environment, stacks in layers.items():
        for name, stack in stacks.items():
            stores = STORES & set(resource_types(stack))
            if name.endswith("-data"):
                assert {"aws_dynamodb_table", "aws_s3_bucket", "aws_sqs_queue", "aws_kms_key"} <= stores
            else:
                assert not stores, (name, stores)


def test_routine_service_resources_are_only_in_the_services_layer(shipped):
    _, layers = shipped
    for environment, stacks in layers.items():
        for name, stack in stacks.items():
            routine = {"aws_ecs_service", "aws_ecs_task_definition", "aws_appautoscaling_policy"} & set(resource_types(stack))
            assert bool(routine) == name.endswith("-services"), (name, routine)


@pytest.mark.parametrize("environment", ["production", "guarded"])
def test_data_bearing_resources_are_protected_where_the_environment_protects_data(shipped, environment):
    configs, layers = shipped
    assert configs[environment].protect_data
    protected = 0
    for name, stack in layers[environment].items():
        for resource_type, blocks in stack.get("resource", {}).items():
            for resource_name, block in blocks.items():
                prevent = block.get("lifecycle", {}).get("prevent_destroy", False)
                assert prevent == (resource_type in DATA_BEARING_TYPES), f"{name}: {resource_type}.{resource_name}"
                protected += prevent
    assert protected >= 25
    # Protection is added to a lifecycle, never in place of one: the services still ignore what CI and scaling own,
    # the canary's listener what CodeDeploy owns.
    (api_service,) = [
        block for block in layers[environment][f"{environment}-services"]["resource"]["aws_ecs_service"].values()
        if block["name"] == "api-blue-green"
    ]
    assert {"task_definition", "desired_count", "load_balancer"} <= set(api_service["lifecycle"]["ignore_changes"])
    (listener,) = layers[environment][f"{environment}-edge"]["resource"]["aws_lb_listener"]["release_load_balancer_listener"],
    assert listener["lifecycle"] == {"ignore_changes": ["default_action"], "prevent_destroy": True}


def test_staging_stays_disposable(shipped):
    configs, layers = shipped
    assert not configs["staging"].protect_data
    for stack in layers["staging"].values():
        for blocks in stack.get("resource", {}).values():
            assert not any(block.get("lifecycle", {}).get("prevent_destroy") for block in blocks.values())


def test_every_provider_refuses_other_accounts_and_assumes_the_environments_role(shipped):
    _, layers = shipped
    for name, stack in layers["guarded"].items():
        for provider in stack["provider"]["aws"]:
            assert provider["allowed_account_ids"] == ["123456789012"], name
            assert provider["assume_role"] == [{"role_arn": "arn:aws:iam::123456789012:role/terraform-apply", "session_name": f"terraform-{name}"}]
    for stack in layers["production"].values():
        (provider,) = stack["provider"]["aws"]
        assert "allowed_account_ids" not in provider and "assume_role" not in provider  # empty: a warning at synth instead


def test_each_layer_reads_only_the_layers_below_it(shipped):
    _, layers = shipped
    for environment, stacks in layers.items():
        order = list(stacks)
        for position, (name, stack) in enumerate(stacks.items()):
            reads = {key.removeprefix("cross_stack_reference_input_").replace("_", "-") for key in stack.get("data", {}).get("terraform_remote_state", {})}
            assert reads <= set(order[:position]), (name, reads)
            backend_keys = {block["config"]["key"] for block in stack.get("data", {}).get("terraform_remote_state", {}).values()}
            assert backend_keys <= {f"{environment}/{layer}.tfstate" for layer in LAYERS}


def test_a_change_to_the_api_cpu_target_touches_only_the_services_layer(shipped):
    """The measure of the layering: a routine tuning plans and locks one small state, not the environment."""
    configs, layers = shipped
    production = configs["production"]
    tuned = synth_layers([dataclasses.replace(production, api_cpu_target_percent=production.api_cpu_target_percent + 10)])["production"]
    changed = [name for name, stack in tuned.items() if stack != layers["production"][name]]
    assert changed == ["production-services"]
