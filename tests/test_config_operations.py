"""Config keys of the operations issue (audit trail, alarms, backup): defaults, derived values, every rule's message."""

from __future__ import annotations

from pathlib import Path

import pytest

from stacks.config import ConfigError, EnvironmentConfig, config_keys, load_config, load_configs
from stacks.tfvars import dump_tfvars_value

PROJECT = Path(__file__).resolve().parents[1]

OPERATIONS_DEFAULTS = {
    "enable_cloudtrail": True,
    "cloudtrail_bucket": "",
    "cloudtrail_log_retention_days": 365,
    "alarm_email": "",
    "alarm_api_5xx_percent": 5,
    "alarm_api_latency_p99_milliseconds": 2000,
    "alarm_job_age_seconds": 0,
    "enable_backup": False,
    "backup_retention_days": 35,
}


def write(tmp_path: Path, values: dict, name: str = "test.tfvars") -> Path:
    path = tmp_path / name
    path.write_text("".join(f"{key} = {dump_tfvars_value(value)}\n" for key, value in values.items()))
    return path


def problems_for(tmp_path: Path, **overrides) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, {"environment": "test", **overrides}))
    return list(caught.value.problems)


def test_the_new_keys_have_their_defaults_docs_and_allowed_values():
    specs = {spec.name: spec for spec in config_keys()}
    defaults = EnvironmentConfig(environment="test")
    for key, value in OPERATIONS_DEFAULTS.items():
        assert getattr(defaults, key) == value, key
        assert specs[key].metadata["doc"] and specs[key].metadata["allowed"], key
        assert specs[key].metadata["seed"] is False, key


@pytest.mark.parametrize(
    ("file", "prefix", "backup"), [("production.tfvars", "circle-of-trust", True), ("staging.tfvars", "circle-of-trust-staging", False)]
)
def test_shipped_files_keep_the_defaults_a_trail_each_and_backup_in_production_only(file, prefix, backup):
    config = load_config(PROJECT / "config" / file)
    for key, value in {**OPERATIONS_DEFAULTS, "enable_backup": backup}.items():
        assert getattr(config, key) == value, key
    assert config.effective_cloudtrail_bucket == f"{prefix}-audit-logs"
    assert config.backup_vault_lock == "governance"


@pytest.mark.parametrize(
    ("environment", "expected"),
    [("production", True), ("prod", True), ("prod-eu", True), ("production-2", True), ("staging", False), ("products", False), ("preprod", False)],
)
def test_backup_is_on_by_default_where_the_environment_is_production_like(tmp_path, environment, expected):
    assert load_config(write(tmp_path, {"environment": environment})).enable_backup is expected
    assert load_config(write(tmp_path, {"environment": environment, "enable_backup": not expected})).enable_backup is (not expected)


def test_a_vault_lock_mode_outside_the_three_is_refused(tmp_path):
    assert problems_for(tmp_path, backup_vault_lock="strict") == [
        f"{tmp_path / 'test.tfvars'}: backup_vault_lock: must be one of governance, compliance, none; got 'strict'"
    ]


def test_derived_values():
    config = EnvironmentConfig(environment="test", queue_visibility_timeout_seconds=600, worker_job_timeout_seconds=500)
    assert config.effective_alarm_job_age_seconds == 1200  # twice the visibility timeout
    assert EnvironmentConfig(environment="test", alarm_job_age_seconds=3600).effective_alarm_job_age_seconds == 3600
    assert EnvironmentConfig(environment="test", cloudtrail_bucket="my-trail-logs").effective_cloudtrail_bucket == "my-trail-logs"
    assert EnvironmentConfig(environment="qa", name_prefix="cot-qa").effective_cloudtrail_bucket == "cot-qa-audit-logs"


def test_valid_values_load(tmp_path):
    config = load_config(
        write(
            tmp_path,
            {
                "environment": "test",
                "enable_cloudtrail": False,
                "cloudtrail_bucket": "my.trail-logs",
                "cloudtrail_log_retention_days": 3653,
                "alarm_email": "ops+alarms@example.com",
                "alarm_api_5xx_percent": 100,
                "alarm_api_latency_p99_milliseconds": 50,
                "alarm_job_age_seconds": 961,
                "enable_backup": True,
                "backup_retention_days": 36500,
            },
        )
    )
    assert (config.enable_backup, config.alarm_job_age_seconds, config.alarm_email) == (True, 961, "ops+alarms@example.com")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"cloudtrail_bucket": "Trail_Logs"}, "cloudtrail_bucket: is not a valid S3 bucket name: may hold only lower-case letters, digits, '.' and '-', and must start and end with a letter or digit; got 'Trail_Logs'"),
        ({"cloudtrail_bucket": "ab"}, "cloudtrail_bucket: is not a valid S3 bucket name: must be 3-63 characters long; got 'ab'"),
        ({"cloudtrail_bucket": "circle-of-trust-frontend"}, "cloudtrail_bucket: must differ from s3_frontend_bucket ('circle-of-trust-frontend'): the trail's bucket holds only its log files; got 'circle-of-trust-frontend'"),
        ({"cloudtrail_bucket": "circle-of-trust-terraform-state"}, "cloudtrail_bucket: must differ from state_bucket ('circle-of-trust-terraform-state'): the trail's bucket holds only its log files; got 'circle-of-trust-terraform-state'"),
        ({"cloudtrail_log_retention_days": 100}, "cloudtrail_log_retention_days: must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653; got 100"),
        ({"alarm_email": "ops"}, "alarm_email: must be empty or an e-mail address such as ops@example.com; got 'ops'"),
        ({"alarm_email": "ops@example"}, "alarm_email: must be empty or an e-mail address such as ops@example.com; got 'ops@example'"),
        ({"alarm_api_5xx_percent": 0}, "alarm_api_5xx_percent: must be from 1 to 100; got 0"),
        ({"alarm_api_5xx_percent": 101}, "alarm_api_5xx_percent: must be from 1 to 100; got 101"),
        ({"alarm_api_latency_p99_milliseconds": 49}, "alarm_api_latency_p99_milliseconds: must be from 50 to 30000; got 49"),
        ({"alarm_api_latency_p99_milliseconds": 30001}, "alarm_api_latency_p99_milliseconds: must be from 50 to 30000; got 30001"),
        (
            {"alarm_job_age_seconds": 960},
            "alarm_job_age_seconds: must be 0 or from queue_visibility_timeout_seconds + 1 (961) to 1209600: the age includes the time a worker holds the message, so a lower threshold alarms on every long job; got 960",
        ),
        ({"alarm_job_age_seconds": 1209601}, "alarm_job_age_seconds: must be 0 or from queue_visibility_timeout_seconds + 1 (961) to 1209600"),
        ({"alarm_job_age_seconds": -5}, "alarm_job_age_seconds: must be 0 or from queue_visibility_timeout_seconds + 1 (961) to 1209600"),
        ({"backup_retention_days": 0}, "backup_retention_days: must be from 1 to 36500; got 0"),
        ({"backup_retention_days": 36501}, "backup_retention_days: must be from 1 to 36500; got 36501"),
    ],
)
def test_each_rule_names_the_key_what_is_allowed_and_the_value(tmp_path, overrides, expected):
    (problem,) = problems_for(tmp_path, **overrides)
    assert problem.startswith(str(tmp_path / "test.tfvars") + ": ")
    assert expected in problem


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("enable_cloudtrail", "yes", "enable_cloudtrail: must be true or false; got 'yes'"),
        ("enable_backup", 1, "enable_backup: must be true or false; got 1"),
        ("alarm_api_5xx_percent", 5.5, "alarm_api_5xx_percent: must be a whole number; got 5.5"),
        ("alarm_email", ["ops@example.com"], "alarm_email: must be a string; got ['ops@example.com']"),
    ],
)
def test_wrong_types_are_named(tmp_path, key, value, expected):
    (problem,) = problems_for(tmp_path, **{key: value})
    assert problem.endswith(expected)


def test_a_disabled_trail_ignores_clashes_with_its_default_bucket(tmp_path):
    config = load_config(write(tmp_path, {"environment": "test", "enable_cloudtrail": False, "s3_frontend_bucket": "circle-of-trust-test-audit-logs"}))
    assert config.enable_cloudtrail is False


def test_environments_must_not_share_a_cloudtrail_bucket_set_by_hand(tmp_path):
    first = write(tmp_path, {"environment": "qa", "s3_frontend_bucket": "bucket-a", "cloudtrail_bucket": "shared-trail"}, "a.tfvars")
    second = write(tmp_path, {"environment": "qb", "s3_frontend_bucket": "bucket-b", "cloudtrail_bucket": "shared-trail", "state_key_prefix": "b", "manage_api_gateway_account": False}, "b.tfvars")
    with pytest.raises(ConfigError) as caught:
        load_configs([first, second])
    assert caught.value.problems == (f"{second}: cloudtrail_bucket: must differ from {first} (bucket names are global); got the same value",)
    # Without the trail the name is unused.
    third = write(tmp_path, {"environment": "qc", "s3_frontend_bucket": "bucket-c", "cloudtrail_bucket": "shared-trail", "enable_cloudtrail": False, "manage_api_gateway_account": False}, "c.tfvars")
    assert [c.environment for c in load_configs([first, third])] == ["qa", "qc"]
