"""Config keys of issue 10 (items 4 and 5): allowed accounts, the assumed role, data protection, state keys per layer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stacks.config import ConfigError, EnvironmentConfig, config_keys, load_config, load_configs
from stacks.tfvars import dump_tfvars_value

PROJECT = Path(__file__).resolve().parents[1]

DEFAULTS = {"allowed_account_ids": (), "assume_role_arn": "", "protect_data": True, "state_key_prefix": ""}


def write(tmp_path: Path, values: dict, name: str = "test.tfvars") -> Path:
    path = tmp_path / name
    if name.endswith(".json"):
        path.write_text(json.dumps(values))
    else:
        path.write_text("".join(f"{key} = {dump_tfvars_value(value)}\n" for key, value in values.items()))
    return path


def problems_for(tmp_path: Path, name: str = "test.tfvars", **overrides) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, {"environment": "test", **overrides}, name))
    return list(caught.value.problems)


def test_the_new_keys_have_defaults_docs_and_allowed_values():
    specs = {spec.name: spec for spec in config_keys()}
    config = EnvironmentConfig(environment="test")
    for key, value in DEFAULTS.items():
        assert getattr(config, key) == value, key
        assert specs[key].metadata["doc"] and specs[key].metadata["allowed"], key
    assert "state_key" not in specs


def test_state_keys_are_per_layer_under_the_prefix():
    assert EnvironmentConfig(environment="qa").state_key("network") == "qa/network.tfstate"
    assert EnvironmentConfig(environment="qa", state_key_prefix="teams/a/qa").state_key("data") == "teams/a/qa/data.tfstate"
    with pytest.raises(ValueError, match="layer must be"):
        EnvironmentConfig(environment="qa").state_key("../x")
    assert not hasattr(EnvironmentConfig, "effective_state_key")


def test_the_old_state_key_says_what_replaced_it(tmp_path):
    problems = problems_for(tmp_path, state_key="qa/terraform.tfstate")
    assert problems[0] == (
        f"{tmp_path / 'test.tfvars'}: state_key: unknown key (state_key was replaced by state_key_prefix; "
        "layer L keeps its state at <state_key_prefix>/L.tfstate)"
    )


def test_two_configs_with_one_state_prefix_in_one_bucket_clash(tmp_path):
    first = write(tmp_path, {"environment": "qa", "state_key_prefix": "shared"}, "a.tfvars")
    second = write(tmp_path, {"environment": "qb", "s3_frontend_bucket": "bucket-b", "state_key_prefix": "shared", "manage_api_gateway_account": False}, "b.tfvars")
    # The default prefix of one is the environment name given by hand to the other.
    third = write(tmp_path, {"environment": "qc", "s3_frontend_bucket": "bucket-c", "state_key_prefix": "qa", "manage_api_gateway_account": False}, "c.tfvars")
    with pytest.raises(ConfigError) as caught:
        load_configs([first, second])
    assert caught.value.problems == (f"{second}: state_key_prefix: must differ from {first} (two stacks would share one state); got the same value",)
    default = write(tmp_path, {"environment": "qa", "s3_frontend_bucket": "bucket-a"}, "d.tfvars")
    with pytest.raises(ConfigError) as caught:
        load_configs([default, third])
    assert caught.value.problems == (f"{third}: state_key_prefix: must differ from {default} (two stacks would share one state); got the same value",)
    other_bucket = write(tmp_path, {"environment": "qd", "s3_frontend_bucket": "bucket-d", "state_key_prefix": "shared", "state_bucket": "other-state", "manage_api_gateway_account": False}, "e.tfvars")
    assert len(load_configs([first, other_bucket])) == 2


@pytest.mark.parametrize("name", ["test.tfvars", "test.json"])
def test_account_ids_and_a_role_of_one_of_them_load(tmp_path, name):
    config = load_config(
        write(
            tmp_path,
            {"environment": "test", "allowed_account_ids": ["012345678901", "210987654321"], "assume_role_arn": "arn:aws:iam::012345678901:role/ci/deploy"},
            name,
        )
    )
    assert config.allowed_account_ids == ("012345678901", "210987654321")
    assert config.assume_role_arn == "arn:aws:iam::012345678901:role/ci/deploy"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"allowed_account_ids": [12345678901]},
            'allowed_account_ids: must be a list of account IDs as quoted strings, such as ["012345678901"]: a number would lose a leading zero; got [12345678901]',
        ),
        ({"allowed_account_ids": "012345678901"}, "allowed_account_ids: must be a list of account IDs as quoted strings"),
        ({"allowed_account_ids": ["12345", "01234567890a"]}, "allowed_account_ids: must hold 12-digit AWS account IDs; not '12345', '01234567890a'; got ['12345', '01234567890a']"),
        ({"allowed_account_ids": ["012345678901\n"]}, "allowed_account_ids: must hold 12-digit AWS account IDs; not '012345678901\\n'"),
        ({"allowed_account_ids": ["٠١٢٣٤٥٦٧٨٩٠١"]}, "allowed_account_ids: must hold 12-digit AWS account IDs"),  # not ASCII digits
        ({"allowed_account_ids": ["012345678901", "012345678901"]}, "allowed_account_ids: must not repeat an account ID"),
        ({"assume_role_arn": "arn:aws:iam::0123:role/x"}, "assume_role_arn: must be empty or an IAM role ARN such as arn:aws:iam::123456789012:role/deploy"),
        ({"assume_role_arn": "arn:aws:iam::012345678901:user/x"}, "assume_role_arn: must be empty or an IAM role ARN"),
        ({"assume_role_arn": "arn:aws:iam::012345678901:role/x\n"}, "assume_role_arn: must be empty or an IAM role ARN"),
        ({"assume_role_arn": "arn:aws-cn:iam::012345678901:role/x"}, "assume_role_arn: must be in the partition of aws_region (us-east-1): arn:aws:iam::..."),
        (
            {"allowed_account_ids": ["111111111111"], "assume_role_arn": "arn:aws:iam::012345678901:role/deploy"},
            "assume_role_arn: must be a role of an account in allowed_account_ids (111111111111), not of 012345678901; got 'arn:aws:iam::012345678901:role/deploy'",
        ),
        ({"protect_data": "false"}, "protect_data: must be true or false; got 'false'"),
    ],
)
def test_each_rule_names_the_key_the_rule_and_the_value(tmp_path, overrides, expected):
    problems = problems_for(tmp_path, **overrides)
    assert len(problems) == 1, problems
    assert expected in problems[0]


def test_a_govcloud_role_matches_a_govcloud_region(tmp_path):
    config = load_config(write(tmp_path, {"environment": "test", "aws_region": "us-gov-west-1", "assume_role_arn": "arn:aws-us-gov:iam::012345678901:role/deploy"}))
    assert config.assume_role_arn.startswith("arn:aws-us-gov:")


def test_a_long_odd_role_arn_is_rejected_quickly(tmp_path):
    # A path pattern that overlaps with its separator would backtrack exponentially here.
    problems = problems_for(tmp_path, assume_role_arn="arn:aws:iam::012345678901:role/" + "a/" * 5000 + "!")
    assert len(problems) == 1


@pytest.mark.parametrize(("environment", "production_like"), [("production", True), ("prod", True), ("prod-eu", True), ("production-2", True), ("products", False), ("staging", False)])
def test_production_like_environments(environment, production_like):
    assert EnvironmentConfig(environment=environment).production_like is production_like


def test_a_production_like_environment_without_accounts_loads_with_a_warning(tmp_path):
    path = write(tmp_path, {"environment": "prod-eu"})
    warnings: list[str] = []
    load_configs([path], warnings)
    assert warnings == [
        f"{path}: allowed_account_ids: is empty, so 'prod-eu' may be applied with credentials of any account; "
        'set it to the account(s) of this environment, such as ["123456789012"]'
    ]
    warnings.clear()
    load_configs([write(tmp_path, {"environment": "prod-eu", "allowed_account_ids": ["012345678901"]}, "b.tfvars")], warnings)
    load_configs([write(tmp_path, {"environment": "qa"}, "c.tfvars")], warnings)
    assert warnings == []


def test_shipped_configs_production_protects_its_data_and_staging_is_disposable():
    warnings: list[str] = []
    production, staging = load_configs([PROJECT / "config" / "production.tfvars", PROJECT / "config" / "staging.tfvars"], warnings)
    assert (production.protect_data, staging.protect_data) == (True, False)
    assert (production.allowed_account_ids, staging.allowed_account_ids) == ((), ())
    assert [warning.split(": ")[1] for warning in warnings] == ["allowed_account_ids"]  # production only
    assert production.github_repository == staging.github_repository == ""


# -- the API Gateway account setting: one owner per account and region ----------------------------

def test_shipped_configs_production_owns_the_api_gateway_account_setting_of_the_shared_account():
    production, staging = load_configs([PROJECT / "config" / "production.tfvars", PROJECT / "config" / "staging.tfvars"])
    assert (production.manage_api_gateway_account, staging.manage_api_gateway_account) == (True, False)
    # Both leave allowed_account_ids empty (the same account, by staging's design) in one region.
    assert production.aws_region == staging.aws_region


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({}, {}),  # neither names an account: they may be the same one
        ({"allowed_account_ids": ["111122223333"]}, {"allowed_account_ids": ["111122223333"]}),
        ({"allowed_account_ids": ["111122223333", "444455556666"]}, {"allowed_account_ids": ["444455556666"]}),
    ],
)
def test_two_owners_of_one_account_and_region_are_refused(tmp_path, first, second):
    paths = [write(tmp_path, {"environment": "one", "s3_frontend_bucket": "b-one", **first}, "one.tfvars"),
             write(tmp_path, {"environment": "two", "s3_frontend_bucket": "b-two", **second}, "two.tfvars")]  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        load_configs(paths)
    (problem,) = caught.value.problems
    assert problem.startswith(f"{paths[1]}: manage_api_gateway_account: {paths[0]} already owns the API Gateway account setting of us-east-1 in the same account")
    # Either one gives it up, and both load.
    write(tmp_path, {"environment": "two", "s3_frontend_bucket": "b-two", "manage_api_gateway_account": False, **second}, "two.tfvars")
    assert [config.manage_api_gateway_account for config in load_configs(paths)] == [True, False]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"allowed_account_ids": ["111122223333"]}, {"allowed_account_ids": ["444455556666"]}),  # two accounts
        ({"allowed_account_ids": ["111122223333"]}, {}),  # one names its account, the other may be anywhere
        ({}, {"aws_region": "eu-west-1"}),  # one setting per region
    ],
)
def test_owners_in_different_accounts_or_regions_load(tmp_path, first, second):
    paths = [write(tmp_path, {"environment": "one", "s3_frontend_bucket": "b-one", **first}, "one.tfvars"),
             write(tmp_path, {"environment": "two", "s3_frontend_bucket": "b-two", **second}, "two.tfvars")]  # fmt: skip
    assert [config.manage_api_gateway_account for config in load_configs(paths)] == [True, True]
