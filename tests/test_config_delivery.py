"""Config keys of the delivery issue: defaults, the shipped files, and every rule's message."""

from __future__ import annotations

from pathlib import Path

import pytest

from stacks.config import ConfigError, EnvironmentConfig, load_config
from stacks.tfvars import dump_tfvars_value

PROJECT = Path(__file__).resolve().parents[1]

DELIVERY_DEFAULTS = {
    "github_repository": "",
    "github_branch": "main",
    "github_environment": "",
    "create_github_oidc_provider": False,
    "enable_ecr_push_updater": False,
}


def write(tmp_path: Path, values: dict) -> Path:
    path = tmp_path / "test.tfvars"
    path.write_text("".join(f"{key} = {dump_tfvars_value(value)}\n" for key, value in values.items()))
    return path


def problems_for(tmp_path: Path, **overrides) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, {"environment": "test", **overrides}))
    return list(caught.value.problems)


def test_defaults_make_no_role_and_no_updater():
    config = EnvironmentConfig(environment="test")
    assert {key: getattr(config, key) for key in DELIVERY_DEFAULTS} == DELIVERY_DEFAULTS


def test_production_keeps_the_seed_file_and_has_neither():
    config = load_config(PROJECT / "config" / "production.tfvars")
    assert {key: getattr(config, key) for key in DELIVERY_DEFAULTS} == DELIVERY_DEFAULTS


def test_staging_has_the_updater_and_no_role_until_its_repository_is_set():
    config = load_config(PROJECT / "config" / "staging.tfvars")
    # A placeholder owner/name would trust whoever owns it on GitHub: the team sets its own.
    assert (config.github_repository, config.github_environment) == ("", "")
    assert "#   github_environment = \"staging\"" in (PROJECT / "config" / "staging.tfvars").read_text()
    assert (config.github_branch, config.create_github_oidc_provider, config.enable_ecr_push_updater) == ("main", False, True)


@pytest.mark.parametrize(
    "values",
    [
        {"github_repository": "my-org/app", "github_branch": "release/2024.1"},
        {"github_repository": "my-org/app", "github_branch": "feature_x-1"},
        {"github_repository": "my-org/app", "github_environment": "Production-EU.1"},
        {"github_repository": "my-org/app", "create_github_oidc_provider": True},
        {"enable_ecr_push_updater": True},
    ],
)
def test_valid_values_load(tmp_path, values):
    config = load_config(write(tmp_path, {"environment": "test", **values}))
    for key, value in values.items():
        assert getattr(config, key) == value


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"github_repository": "o/r", "github_branch": ""}, "github_branch: must be 1-255 characters long; got ''"),
        ({"github_repository": "o/r", "github_branch": "feature x"}, "github_branch: must not contain ' '; got 'feature x'"),
        ({"github_repository": "o/r", "github_branch": "a*"}, "github_branch: must not contain '*'; got 'a*'"),
        ({"github_repository": "o/r", "github_branch": "a..b"}, "github_branch: must not contain '..'; got 'a..b'"),
        ({"github_repository": "o/r", "github_branch": "a@{b"}, "github_branch: must not contain '@{'; got 'a@{b'"),
        ({"github_repository": "o/r", "github_branch": "-x"}, "github_branch: must not start with '-' or '/'; got '-x'"),
        ({"github_repository": "o/r", "github_branch": "x.lock"}, "github_branch: must not end with '/', '.' or '.lock'; got 'x.lock'"),
        (
            {"github_repository": "o/r", "github_branch": "a/.b"},
            "github_branch: must not have a '/'-separated part starting with '.' or ending with '.lock'; got 'a/.b'",
        ),
        (
            {"github_repository": "o/r", "github_environment": "prod:eu"},
            "github_environment: must be a GitHub environment name of 1-255 letters, digits, '.', '_' and '-' (no ':', "
            "which separates the fields of the sub claim); got 'prod:eu'",
        ),
        (
            {"github_repository": "o/r", "github_environment": "staging", "github_branch": "develop"},
            "github_branch: has no effect with github_environment (jobs in an environment get the environment sub claim): "
            "leave it out, or leave github_environment empty; got 'develop'",
        ),
        (
            {"github_environment": "staging"},
            "github_environment: has no effect without github_repository (no deploy role): set github_repository too, or leave it out; got 'staging'",
        ),
        (
            {"create_github_oidc_provider": True},
            "create_github_oidc_provider: has no effect without github_repository (no deploy role): set github_repository too, or leave it out; got true",
        ),
        ({"enable_ecr_push_updater": "yes"}, "enable_ecr_push_updater: must be true or false; got 'yes'"),
    ],
)
def test_each_rule_names_the_key_the_rule_and_the_value(tmp_path, overrides, expected):
    problems = problems_for(tmp_path, **overrides)
    assert any(problem.endswith(expected) for problem in problems), problems


def test_every_branch_problem_is_reported_at_once(tmp_path):
    problems = problems_for(tmp_path, github_repository="o/r", github_branch="/a..b.lock")
    assert [p.split(": ", 2)[2].split(";")[0] for p in problems] == [
        "must not contain '..'",
        "must not start with '-' or '/'",
        "must not end with '/', '.' or '.lock'",
        "must not have a '/'-separated part starting with '.' or ending with '.lock'",
    ]
