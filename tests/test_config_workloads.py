"""Config keys of the workloads issue: defaults, types, and every rule's message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stacks.config import ConfigError, EnvironmentConfig, config_keys, load_config
from stacks.tfvars import dump_tfvars_value

PROJECT = Path(__file__).resolve().parents[1]

WORKLOAD_DEFAULTS = {
    "log_retention_days": 365,
    "api_container_port": 8080,
    "api_cpu_target_percent": 60,
    "worker_on_demand_base": 0,
    "queue_visibility_timeout_seconds": 960,
    "worker_job_timeout_seconds": 900,
    "dlq_max_receive_count": 5,
    "worker_scaling_steps": ((1, 1), (50, 5), (200, 10), (1000, 20)),
    "worker_scale_in_minutes": 5,
    "dynamodb_billing_mode": "PAY_PER_REQUEST",
    "dynamodb_min_read_capacity": 5,
    "dynamodb_max_read_capacity": 100,
    "dynamodb_min_write_capacity": 5,
    "dynamodb_max_write_capacity": 100,
    "dynamodb_target_utilization_percent": 70,
    "table_deletion_protection": True,
    "worker_release_alarms": True,
}


def write(tmp_path: Path, values: dict, name: str = "test.tfvars") -> Path:
    path = tmp_path / name
    if name.endswith(".json"):
        path.write_text(json.dumps(values))
    else:
        path.write_text("".join(f"{key} = {dump_tfvars_value(value)}\n" for key, value in values.items()))
    return path


def problems_for(tmp_path: Path, **overrides) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, {"environment": "test", **overrides}))
    return list(caught.value.problems)


def test_the_new_keys_have_their_defaults_docs_and_allowed_values():
    specs = {spec.name: spec for spec in config_keys()}
    defaults = EnvironmentConfig(environment="test")
    for key, value in WORKLOAD_DEFAULTS.items():
        assert getattr(defaults, key) == value, key
        assert specs[key].metadata["doc"] and specs[key].metadata["allowed"], key
        assert specs[key].metadata["seed"] is False, key


def test_the_seed_file_loads_with_the_workload_defaults():
    config = load_config(PROJECT / "config" / "production.tfvars")
    for key, value in WORKLOAD_DEFAULTS.items():
        assert getattr(config, key) == value, key


def test_staging_overrides_steps_and_table_protection_and_keeps_a_year_of_logs():
    config = load_config(PROJECT / "config" / "staging.tfvars")
    assert config.worker_scaling_steps == ((1, 1), (50, 2), (200, 4))
    assert (config.log_retention_days, config.flow_log_retention_days) == (365, 365)
    assert config.table_deletion_protection is False


def test_worker_release_alarms_is_a_boolean_that_may_be_turned_off(tmp_path):
    assert load_config(write(tmp_path, {"environment": "test", "worker_release_alarms": False})).worker_release_alarms is False
    (problem,) = problems_for(tmp_path, worker_release_alarms="yes")
    assert problem.endswith("test.tfvars: worker_release_alarms: must be true or false; got 'yes'"), problem


@pytest.mark.parametrize("suffix", [".tfvars", ".json"])
def test_scaling_steps_read_as_a_list_of_pairs(tmp_path, suffix):
    config = load_config(write(tmp_path, {"environment": "test", "worker_scaling_steps": [[1, 2], [10, 4]]}, f"test{suffix}"))
    assert config.worker_scaling_steps == ((1, 2), (10, 4))


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (5, "5"),
        ("1,1", "'1,1'"),
        ([1, 1], "[1, 1]"),
        ([[1, 1, 1]], "[[1, 1, 1]]"),
        ([[1]], "[[1]]"),
        ([[1, "2"]], "[[1, '2']]"),
        ([[1.0, 2]], "[[1.0, 2]]"),
        ([[True, 2]], "[[true, 2]]"),  # as the file writes it, not Python's True
        ([{"a": 1}], "[{'a' = 1}]"),
    ],
)
def test_scaling_steps_must_be_pairs_of_whole_numbers(tmp_path, value, shown):
    (problem,) = problems_for(tmp_path, worker_scaling_steps=value)
    assert problem.endswith(
        "worker_scaling_steps: must be a list of [visible_messages, tasks] pairs of whole numbers, "
        f"such as [[1, 1], [50, 5]]; got {shown}"
    )


@pytest.mark.parametrize(
    ("key", "value"),
    [("table_deletion_protection", "yes"), ("dynamodb_billing_mode", 1), ("api_container_port", "8080"), ("worker_on_demand_base", True)],
)
def test_new_keys_are_type_checked(tmp_path, key, value):
    (problem,) = problems_for(tmp_path, **{key: value})
    assert f"{key}: must be " in problem


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"log_retention_days": 31}, "log_retention_days: must be one of 1, 3, 5, 7, 14, 30, 60"),
        ({"api_container_port": 80}, "api_container_port: must be from 1024 to 65535; got 80"),
        ({"api_container_port": 70000}, "api_container_port: must be from 1024 to 65535; got 70000"),
        ({"api_cpu_target_percent": 5}, "api_cpu_target_percent: must be from 10 to 90; got 5"),
        ({"api_cpu_target_percent": 95}, "api_cpu_target_percent: must be from 10 to 90; got 95"),
        ({"worker_on_demand_base": 21}, "worker_on_demand_base: must be from 0 to worker_max_capacity (20); got 21"),
        ({"worker_on_demand_base": -1}, "worker_on_demand_base: must be from 0 to worker_max_capacity (20); got -1"),
        ({"worker_job_timeout_seconds": 0}, "worker_job_timeout_seconds: must be from 1 to 43199; got 0"),
        ({"queue_visibility_timeout_seconds": 50000}, "queue_visibility_timeout_seconds: must be from 1 to 43200; got 50000"),
        (
            {"queue_visibility_timeout_seconds": 900},
            "queue_visibility_timeout_seconds: must be greater than worker_job_timeout_seconds (900), "
            "or a job still running becomes visible and a second worker starts it; got 900",
        ),
        (
            {"worker_job_timeout_seconds": 1200},
            "queue_visibility_timeout_seconds: must be greater than worker_job_timeout_seconds (1200), "
            "or a job still running becomes visible and a second worker starts it; got the default",
        ),
        ({"dlq_max_receive_count": 0}, "dlq_max_receive_count: must be from 1 to 1000; got 0"),
        ({"worker_scale_in_minutes": 61}, "worker_scale_in_minutes: must be from 1 to 60; got 61"),
        ({"worker_scaling_steps": []}, "worker_scaling_steps: must hold at least one [visible_messages, tasks] pair, but none was provided; got []"),
        ({"worker_scaling_steps": [[0, 1]]}, "worker_scaling_steps: must start at 1 or more visible messages, but 0 was provided"),
        (
            {"worker_scaling_steps": [[1, 1], [50, 5], [50, 6]]},
            "worker_scaling_steps: must have strictly ascending visible_messages thresholds, but 50 follows 50",
        ),
        (
            {"worker_scaling_steps": [[1, 1], [50, 21]]},
            "worker_scaling_steps: tasks must be between 1 and the maximum capacity (20), but 21 was provided at 50 visible messages",
        ),
        (
            {"worker_scaling_steps": [[1, 0]]},
            "worker_scaling_steps: tasks must be between 1 and the maximum capacity (20), but 0 was provided at 1 visible messages",
        ),
        (
            {"worker_scaling_steps": [[1, 5], [50, 2]]},
            "worker_scaling_steps: must not add fewer tasks for a larger backlog, but 2 at 50 visible messages follows 5",
        ),
        ({"dynamodb_billing_mode": "ON_DEMAND"}, "dynamodb_billing_mode: must be PAY_PER_REQUEST or PROVISIONED; got 'ON_DEMAND'"),
        ({"dynamodb_min_read_capacity": 0}, "dynamodb_min_read_capacity: must be from 1 to 40000; got 0"),
        ({"dynamodb_max_read_capacity": 40001}, "dynamodb_max_read_capacity: must be from 1 to 40000; got 40001"),
        ({"dynamodb_min_write_capacity": 0}, "dynamodb_min_write_capacity: must be from 1 to 40000; got 0"),
        ({"dynamodb_max_write_capacity": 0}, "dynamodb_max_write_capacity: must be from 1 to 40000; got 0"),
        (
            {"dynamodb_min_read_capacity": 200},
            "dynamodb_min_read_capacity: must not exceed dynamodb_max_read_capacity (100); got 200",
        ),
        (
            {"dynamodb_min_write_capacity": 10, "dynamodb_max_write_capacity": 9},
            "dynamodb_min_write_capacity: must not exceed dynamodb_max_write_capacity (9); got 10",
        ),
        ({"dynamodb_target_utilization_percent": 95}, "dynamodb_target_utilization_percent: must be from 20 to 90; got 95"),
    ],
)
def test_each_rule_names_the_key_what_is_allowed_and_the_value(tmp_path, overrides, expected):
    problems = problems_for(tmp_path, **overrides)
    assert len(problems) == 1, problems
    assert expected in problems[0]
    assert problems[0].startswith(str(tmp_path / "test.tfvars"))


def test_steps_are_checked_against_the_configured_maximum(tmp_path):
    problems = problems_for(tmp_path, worker_max_capacity=4)
    assert [p.split("worker_scaling_steps: ")[1].split(";")[0] for p in problems] == [
        "tasks must be between 1 and the maximum capacity (4), but 5 was provided at 50 visible messages",
        "tasks must be between 1 and the maximum capacity (4), but 10 was provided at 200 visible messages",
        "tasks must be between 1 and the maximum capacity (4), but 20 was provided at 1000 visible messages",
    ]


def test_an_invalid_maximum_is_reported_once_not_again_by_the_rules_that_use_it(tmp_path):
    problems = problems_for(tmp_path, worker_max_capacity=0, worker_scaling_steps=[[1, 1], [1, 2]])
    assert [p.split(": ", 1)[1] for p in problems] == [
        "worker_max_capacity: must be from 1 to 1000; got 0",
        "worker_scaling_steps: must have strictly ascending visible_messages thresholds, but 1 follows 1; got [[1, 1], [1, 2]]",
    ]


def test_a_valid_provisioned_config_loads(tmp_path):
    config = load_config(
        write(
            tmp_path,
            {
                "environment": "test",
                "dynamodb_billing_mode": "PROVISIONED",
                "dynamodb_min_read_capacity": 1,
                "dynamodb_max_read_capacity": 1,
                "worker_on_demand_base": 20,
                "queue_visibility_timeout_seconds": 43200,
                "worker_job_timeout_seconds": 43199,
                "table_deletion_protection": False,
            },
        )
    )
    assert (config.dynamodb_billing_mode, config.worker_on_demand_base, config.table_deletion_protection) == ("PROVISIONED", 20, False)


# -- writable paths of the read-only containers (issue 18) -----------------------------------------
def test_writable_paths_default_to_tmp_and_are_documented():
    specs = {spec.name: spec for spec in config_keys()}
    defaults = EnvironmentConfig(environment="test")
    for key in ("api_writable_paths", "worker_writable_paths"):
        assert getattr(defaults, key) == ("/tmp",), key
        assert "absolute paths" in specs[key].metadata["allowed"] and "not '/' itself" in specs[key].metadata["allowed"], key
        assert "read-only" in specs[key].metadata["doc"] or "api_writable_paths" in specs[key].metadata["doc"], key


@pytest.mark.parametrize("suffix", ["tfvars", "json"])
def test_writable_paths_read_as_lists(tmp_path, suffix):
    config = load_config(write(tmp_path, {"environment": "test", "worker_writable_paths": ["/tmp", "/var/scratch"], "api_writable_paths": []}, f"t.{suffix}"))
    assert config.worker_writable_paths == ("/tmp", "/var/scratch")
    assert config.api_writable_paths == ()


def test_writable_paths_problems_are_reported_together_naming_the_key(tmp_path):
    problems = problems_for(tmp_path, api_writable_paths=["/", "/tmp", "/tmp"], worker_writable_paths=["relative"])
    assert any(p.endswith("api_writable_paths: must not hold '/': that would make the whole root filesystem writable again; got ['/', '/tmp', '/tmp']") for p in problems), problems
    assert any("api_writable_paths: must not repeat a path, but /tmp appears more than once" in p for p in problems), problems
    assert any("worker_writable_paths: must hold absolute paths" in p and "but 'relative' was provided" in p for p in problems), problems
    assert len(problems) == 3


def test_writable_paths_are_type_checked(tmp_path):
    (problem,) = problems_for(tmp_path, api_writable_paths="/tmp")
    assert problem.endswith("api_writable_paths: must be a list of strings; got '/tmp'")


# -- canary releases of the API (issue 20) -------------------------------------------------------------
RELEASE_DEFAULTS = {
    "api_release_strategy": "rolling",
    "api_canary_percent": 10,
    "api_canary_bake_minutes": 5,
    "api_release_termination_wait_minutes": 30,
    "api_release_5xx_percent": 5,
    "api_release_latency_p99_milliseconds": 1000,
    "api_health_check_path": "/",
}


def test_the_release_keys_have_their_defaults_docs_and_allowed_values():
    specs = {spec.name: spec for spec in config_keys()}
    defaults = EnvironmentConfig(environment="test")
    for key, value in RELEASE_DEFAULTS.items():
        assert getattr(defaults, key) == value, key
        assert specs[key].metadata["doc"] and specs[key].metadata["allowed"], key
    assert "canary" in specs["api_release_strategy"].metadata["allowed"] and "rolling" in specs["api_release_strategy"].metadata["allowed"]


def test_both_shipped_configs_release_the_api_through_the_canary():
    """Staging tests the release path production uses (a serving production gets there through the README's cutover)."""
    assert load_config(PROJECT / "config" / "staging.tfvars").api_release_strategy == "canary"
    assert load_config(PROJECT / "config" / "production.tfvars").api_release_strategy == "canary"


def test_a_canary_config_loads_at_the_limits(tmp_path):
    config = load_config(
        write(
            tmp_path,
            {
                "environment": "test",
                "api_release_strategy": "canary",
                "api_canary_percent": 99,
                "api_canary_bake_minutes": 60,
                "api_release_termination_wait_minutes": 2880,  # CodeDeploy's maximum: two days
                "api_release_5xx_percent": 100,
                "api_release_latency_p99_milliseconds": 30000,
                "api_health_check_path": "/health/live_v2.json",
            },
        )
    )
    assert (config.api_release_strategy, config.api_canary_percent, config.api_release_termination_wait_minutes) == ("canary", 99, 2880)
    low = load_config(write(tmp_path, {"environment": "test", "api_canary_percent": 1, "api_canary_bake_minutes": 1, "api_release_termination_wait_minutes": 0,
                                       "api_release_5xx_percent": 1, "api_release_latency_p99_milliseconds": 50}, "low.tfvars"))  # fmt: skip
    assert (low.api_canary_percent, low.api_release_termination_wait_minutes) == (1, 0)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"api_release_strategy": "blue-green"}, "api_release_strategy: must be one of canary, cutover, rolling; got 'blue-green'"),
        ({"api_release_strategy": "Canary"}, "api_release_strategy: must be one of canary, cutover, rolling; got 'Canary'"),
        # A canary of 0 % tests nothing; 100 % is no canary (CodeDeploy's TimeBasedCanary takes 1-99).
        ({"api_canary_percent": 0}, "api_canary_percent: must be from 1 to 99; got 0"),
        ({"api_canary_percent": 100}, "api_canary_percent: must be from 1 to 99; got 100"),
        ({"api_canary_bake_minutes": 0}, "api_canary_bake_minutes: must be from 1 to 60; got 0"),
        ({"api_canary_bake_minutes": 61}, "api_canary_bake_minutes: must be from 1 to 60; got 61"),
        ({"api_release_termination_wait_minutes": -1}, "api_release_termination_wait_minutes: must be from 0 to 2880; got -1"),
        ({"api_release_termination_wait_minutes": 2881}, "api_release_termination_wait_minutes: must be from 0 to 2880; got 2881"),
        ({"api_release_5xx_percent": 0}, "api_release_5xx_percent: must be from 1 to 100; got 0"),
        ({"api_release_5xx_percent": 101}, "api_release_5xx_percent: must be from 1 to 100; got 101"),
        ({"api_release_latency_p99_milliseconds": 49}, "api_release_latency_p99_milliseconds: must be from 50 to 30000; got 49"),
        ({"api_release_latency_p99_milliseconds": 30001}, "api_release_latency_p99_milliseconds: must be from 50 to 30000; got 30001"),
        ({"api_health_check_path": "health"}, "api_health_check_path: must be a path starting with '/', up to 1024 letters, digits and /_.~-; got 'health'"),
        ({"api_health_check_path": "/health?deep=1"}, "api_health_check_path: must be a path starting with '/'"),
        ({"api_health_check_path": "/" + "h" * 1024}, "api_health_check_path: must be a path starting with '/'"),
        ({"api_health_check_path": "/health\n"}, "api_health_check_path: must be a path starting with '/'"),
    ],
)
def test_each_release_rule_names_the_file_the_key_what_is_allowed_and_the_value(tmp_path, overrides, expected):
    problems = problems_for(tmp_path, **overrides)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{tmp_path / 'test.tfvars'}: ")
    assert expected in problems[0]


@pytest.mark.parametrize(("key", "value"), [("api_release_strategy", 1), ("api_canary_percent", "10"), ("api_canary_bake_minutes", 5.5), ("api_health_check_path", 1), ("api_release_5xx_percent", True)])
def test_release_keys_are_type_checked(tmp_path, key, value):
    (problem,) = problems_for(tmp_path, **{key: value})
    assert f"{key}: must be " in problem
