"""The config module: keys, types, rules, files, and clashes between files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stacks.config import ConfigError, EnvironmentConfig, config_keys, load_config, load_configs
from stacks.tfvars import dump_tfvars_value

PROJECT = Path(__file__).resolve().parents[1]

# The seed's terraform.tfvars keys, which a migrating team's file holds.
SEED_KEYS = {
    "aws_region", "environment", "project_name", "s3_frontend_bucket", "pingid_metadata_url",
    "domain_name", "enable_nat_gateway", "api_task_cpu", "api_task_memory", "api_min_capacity",
    "api_max_capacity", "worker_task_cpu", "worker_task_memory", "worker_min_capacity",
    "worker_max_capacity", "api_image_tag", "worker_image_tag",
}  # fmt: skip


def write(tmp_path: Path, values: dict, name: str = "test.tfvars") -> Path:
    path = tmp_path / name
    if name.endswith(".json"):
        path.write_text(json.dumps(values))
    else:
        path.write_text("".join(f"{key} = {dump_tfvars_value(value)}\n" for key, value in values.items()))
    return path


def problems_for(tmp_path: Path, **overrides) -> list[str]:
    values = {"environment": "test", **overrides}
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, values))
    return list(caught.value.problems)


def test_seed_keys_are_all_config_keys_and_marked_as_seed():
    seed_fields = {f.name for f in config_keys() if f.metadata["seed"]}
    assert seed_fields == SEED_KEYS


def test_every_key_documents_what_it_does_and_allows():
    for spec in config_keys():
        assert spec.metadata["doc"].strip() and spec.metadata["allowed"].strip(), spec.name


def test_the_seed_tfvars_loads_unchanged_with_its_values():
    config = load_config(PROJECT / "config" / "production.tfvars")
    assert config.environment == "production"
    assert (config.api_task_cpu, config.api_task_memory) == (512, 1024)
    assert (config.worker_task_cpu, config.worker_task_memory) == (2048, 4096)
    assert (config.api_min_capacity, config.api_max_capacity) == (2, 10)
    assert (config.worker_min_capacity, config.worker_max_capacity) == (0, 20)
    assert config.enable_nat_gateway is False
    assert config.pingid_metadata_url == "https://sso.pingone.com/your-org-id/saml/metadata"
    # The seed's names: production keeps `<project>-...` without a suffix.
    assert config.resource_prefix == "circle-of-trust"
    assert config.state_key("terraform") == "production/terraform.tfstate"
    assert config.effective_state_region == "us-east-1"


def test_staging_gets_its_own_names_state_and_network():
    staging = load_config(PROJECT / "config" / "staging.tfvars")
    assert staging.resource_prefix == "circle-of-trust-staging"
    assert staging.state_key("network") == "staging/network.tfstate"
    assert staging.enable_nat_gateway is True
    assert staging.vpc_cidr != load_config(PROJECT / "config" / "production.tfvars").vpc_cidr


def test_json_and_tfvars_give_the_same_config(tmp_path):
    values = {"environment": "qa", "api_task_cpu": 1024, "api_task_memory": 3072, "enable_nat_gateway": True}
    from_tfvars = load_config(write(tmp_path, values, "qa.tfvars"))
    from_json = load_config(write(tmp_path, values, "qa.tfvars.json"))
    assert from_tfvars == from_json
    assert from_json.api_task_memory == 3072


def test_explicit_name_prefix_and_state_settings_win(tmp_path):
    config = load_config(
        write(tmp_path, {"environment": "qa", "name_prefix": "cot-qa", "state_key_prefix": "x/qa", "state_region": "eu-west-1"})
    )
    assert (config.resource_prefix, config.state_key("data"), config.effective_state_region) == (
        "cot-qa",
        "x/qa/data.tfstate",
        "eu-west-1",
    )


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("api_task_cpu", "512", "api_task_cpu: must be a whole number; got '512'"),
        ("api_task_cpu", 512.0, "api_task_cpu: must be a whole number; got 512.0"),
        ("api_min_capacity", True, "api_min_capacity: must be a whole number; got true"),
        ("enable_nat_gateway", "false", "enable_nat_gateway: must be true or false; got 'false'"),
        ("enable_nat_gateway", 0, "enable_nat_gateway: must be true or false; got 0"),
        ("domain_name", ["a"], "domain_name: must be a string; got ['a']"),
    ],
)
def test_wrong_types_are_named_with_the_expected_type(tmp_path, key, value, expected):
    (problem,) = problems_for(tmp_path, **{key: value})
    assert problem.endswith(expected)
    assert problem.startswith(str(tmp_path / "test.tfvars"))


def test_unknown_key_suggests_the_close_one_and_lists_allowed_keys_once(tmp_path):
    first, allowed, second = problems_for(tmp_path, api_task_mem=1024, api_task_cpus=512)
    assert first == f"{tmp_path / 'test.tfvars'}: api_task_mem: unknown key (did you mean 'api_task_memory'?)"
    assert second == f"{tmp_path / 'test.tfvars'}: api_task_cpus: unknown key (did you mean 'api_task_cpu'?)"
    assert allowed.startswith(
        f"{tmp_path / 'test.tfvars'}: allowed keys: alarm_api_5xx_percent, alarm_api_latency_p99_milliseconds, alarm_email, alarm_job_age_seconds, alarm_waf_blocked_requests, alarm_waf_rate_limited_requests, allowed_account_ids, api_access_log_retention_days"
    )


def test_missing_environment_is_required(tmp_path):
    path = tmp_path / "x.tfvars"
    path.write_text('aws_region = "us-east-1"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems == (
        f"{path}: environment: required key is missing; allowed: "
        "lower-case letters, digits and '-', 2-16 characters, starting with a letter; short enough that the names derived "
        "from the resource prefix fit (the WebSocket NLB's `<prefix>-ws` has at most 32 characters)",
    )


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"api_task_cpu": 512, "api_task_memory": 512},
            "api_task_memory: must be a memory size (MiB) Fargate accepts with api_task_cpu = 512: 1024, 2048, 3072, 4096; got 512",
        ),
        (
            {"worker_task_cpu": 4096, "worker_task_memory": 4096},
            "worker_task_memory: must be a memory size (MiB) Fargate accepts with worker_task_cpu = 4096: 8192-30720 in steps of 1024; got 4096",
        ),
        (
            {"worker_task_cpu": 8192, "worker_task_memory": 17408},
            "worker_task_memory: must be a memory size (MiB) Fargate accepts with worker_task_cpu = 8192: 16384-61440 in steps of 4096; got 17408",
        ),
        (
            {"api_task_cpu": 300},
            "api_task_cpu: must be a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192, 16384; got 300",
        ),
        ({"api_min_capacity": 11}, "api_min_capacity: must not exceed api_max_capacity (10); got 11"),
        ({"worker_min_capacity": -1}, "worker_min_capacity: must be from 0 to 1000; got -1"),
        ({"api_min_capacity": 0}, "api_min_capacity: must be from 1 to 1000; got 0"),
        ({"worker_max_capacity": 0}, "worker_max_capacity: must be from 1 to 1000; got 0"),
        ({"aws_region": "us-east-9"}, "aws_region: must be an AWS region code such as us-east-1 (did you mean 'us-east-2'?); got 'us-east-9'"),
        ({"state_region": "mars-1"}, "state_region: must be an AWS region code such as us-east-1; got 'mars-1'"),
        ({"vpc_cidr": "10.0.0.1/16"}, "vpc_cidr: must be an IPv4 CIDR block such as 10.0.0.0/16 (10.0.0.1/16 has host bits set); got '10.0.0.1/16'"),
        ({"vpc_cidr": "10.0.0.0/8"}, "vpc_cidr: must have a prefix length from /16 to /24 (AWS allows /16-/28; each subnet is 1/16 of the VPC); got '10.0.0.0/8'"),
        ({"vpc_cidr": "fd00::/56"}, "vpc_cidr: must be an IPv4 CIDR block such as 10.0.0.0/16"),
        ({"az_count": 1}, "az_count: must be from 2 to 6; got 1"),
        ({"availability_zones": ["us-east-1a"]}, "availability_zones: must name exactly az_count (2) distinct zones; got ['us-east-1a']"),
        ({"availability_zones": ["us-east-1a", "us-east-1a"]}, "availability_zones: must name exactly az_count (2) distinct zones"),
        ({"availability_zones": ["us-east-1a", "eu-west-1b"]}, "availability_zones: must be zones of aws_region (us-east-1), such as us-east-1a; not eu-west-1b"),
        ({"availability_zones": "us-east-1a"}, "availability_zones: must be a list of strings; got 'us-east-1a'"),
        ({"flow_log_retention_days": 10}, "flow_log_retention_days: must be one of 1, 3, 5, 7, 14, 30"),
        ({"s3_frontend_bucket": "My_Bucket"}, "s3_frontend_bucket: is not a valid S3 bucket name: may hold only lower-case letters"),
        ({"s3_frontend_bucket": "ab"}, "s3_frontend_bucket: is not a valid S3 bucket name: must be 3-63 characters long; got 'ab'"),
        ({"state_bucket": "a..b"}, "state_bucket: is not a valid S3 bucket name: must not contain two adjacent periods; got 'a..b'"),
        ({"state_bucket": "192.168.1.1"}, "state_bucket: is not a valid S3 bucket name: must not be formatted as an IP address"),
        ({"s3_frontend_bucket": "xn--frontend"}, "s3_frontend_bucket: is not a valid S3 bucket name: must not use a prefix or suffix that S3 reserves"),
        ({"state_lock_table": "x"}, "state_lock_table: must be a DynamoDB table name: 3-255 of A-Z a-z 0-9 _ . -; got 'x'"),
        ({"state_key_prefix": "/abs key"}, "state_key_prefix: must be empty or 1-900 of letters, digits and !_.*'()/-, not starting or ending with '/' and without '//'; got '/abs key'"),
        ({"state_key_prefix": "a//b"}, "state_key_prefix: must be empty or 1-900 of letters"),
        ({"state_key_prefix": "a/"}, "state_key_prefix: must be empty or 1-900 of letters"),
        ({"pingid_metadata_url": "http://sso.example.com/metadata"}, "pingid_metadata_url: must be empty or an https:// URL; got 'http://sso.example.com/metadata'"),
        ({"domain_name": "Not A Domain"}, "domain_name: must be empty or a lower-case DNS name such as app.example.com; got 'Not A Domain'"),
        ({"api_image_tag": "-bad"}, "api_image_tag: must be an image tag: 1-128 of A-Z a-z 0-9 _ . -, not starting with '.' or '-'; got '-bad'"),
        ({"github_repository": "just-a-name"}, "github_repository: must be empty or owner/name, such as my-org/circle-of-trust; got 'just-a-name'"),
        ({"environment": "Prod"}, "environment: must be 2-16 lower-case letters, digits and single '-', starting with a letter; got 'Prod'"),
        ({"project_name": "a--b"}, "project_name: must be 3-20 lower-case letters, digits and single '-', starting with a letter; got 'a--b'"),
        ({"name_prefix": "x"}, "name_prefix: must be 3-28 lower-case letters, digits and single '-', starting with a letter; got 'x'"),
    ],
)
def test_each_rule_names_the_key_what_is_allowed_and_the_value(tmp_path, overrides, expected):
    problems = problems_for(tmp_path, **overrides)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{tmp_path / 'test.tfvars'}: ")
    assert expected in problems[0]


def test_all_problems_of_a_file_are_reported_together(tmp_path):
    problems = problems_for(tmp_path, api_task_cpu=256, api_task_memory=4096, az_count=9, aws_region="nowhere")
    keys = sorted(problem.split(": ")[1] for problem in problems)
    assert keys == ["api_task_memory", "aws_region", "az_count"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('environment = "test"\napi_task_cpu = \n', "line 2, column 16: expected a literal value"),
        ('environment = "test', "line 1, column 15: unterminated string"),
        ('environment = "${var.x}"\n', "line 1, column 16: templates (${...} or %{...}) are not allowed"),
        ('environment = "a"\nenvironment = "b"\n', "line 2, column 1: 'environment' is set more than once"),
        ("environment = upper(\"x\")\n", "line 1, column 15: expected a literal value"),
        ('environment "test"\n', "line 1, column 13: expected '=' after 'environment'"),
    ],
)
def test_tfvars_syntax_errors_name_the_file_line_and_column(tmp_path, text, expected):
    path = tmp_path / "broken.tfvars"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    (problem,) = caught.value.problems
    assert problem.startswith(f"{path}: ")
    assert expected in problem


def test_json_that_is_not_an_object_or_not_json_is_rejected(tmp_path):
    array = tmp_path / "a.json"
    array.write_text("[1, 2]")
    broken = tmp_path / "b.json"
    broken.write_text('{"environment": }')
    with pytest.raises(ConfigError) as caught:
        load_configs([array, broken])
    assert caught.value.problems == (
        f"{array}: must hold a JSON object of key/value pairs",
        f"{broken}: line 1, column 17: invalid JSON: Expecting value",
    )


def test_missing_file_and_unknown_suffix(tmp_path):
    other = tmp_path / "prod.yaml"
    other.write_text("environment: prod\n")
    with pytest.raises(ConfigError) as caught:
        load_configs([tmp_path / "nope.tfvars", other])
    assert caught.value.problems == (
        f"{tmp_path / 'nope.tfvars'}: file not found",
        f"{other}: unknown file type; allowed: .tfvars, .tfvars.json or .json",
    )


def test_no_files_at_all_is_an_error():
    with pytest.raises(ConfigError, match="no config files given"):
        load_configs([])


def test_environments_must_not_share_stack_bucket_state_or_names(tmp_path):
    first = write(tmp_path, {"environment": "qa"}, "a.tfvars")
    second = write(tmp_path, {"environment": "qa", "manage_api_gateway_account": False}, "b.tfvars")  # one owner of the API Gateway setting
    with pytest.raises(ConfigError) as caught:
        load_configs([first, second])
    assert caught.value.problems == (
        f"{second}: environment: must differ from {first} (each environment is its own stack); got the same value",
        f"{second}: s3_frontend_bucket: must differ from {first} (bucket names are global); got the same value",
        f"{second}: state_key_prefix: must differ from {first} (two stacks would share one state); got the same value",
        f"{second}: name_prefix: must differ from {first} (resource names would collide); got the same value",
    )


def test_shipped_configs_load_together():
    configs = load_configs(sorted((PROJECT / "config").glob("*.tfvars")))
    assert [c.environment for c in configs] == ["production", "staging"]
    assert all(isinstance(c, EnvironmentConfig) for c in configs)


def test_zones_default_to_the_regions_first_letters_and_can_be_pinned(tmp_path):
    default = load_config(write(tmp_path, {"environment": "qa", "aws_region": "eu-west-1", "az_count": 3}, "a.tfvars"))
    assert default.effective_availability_zones == ("eu-west-1a", "eu-west-1b", "eu-west-1c")
    pinned = load_config(write(tmp_path, {"environment": "qa", "aws_region": "us-west-1", "availability_zones": ["us-west-1b", "us-west-1c"]}, "b.tfvars"))
    assert pinned.effective_availability_zones == ("us-west-1b", "us-west-1c")


def test_loading_the_config_starts_no_jsii_runtime():
    """stacks.config validates against plain tables (constructs_lib.limits): importing a construct there would
    start the jsii runtime before main.py installs its signal handling, and cost seconds per config check."""
    import subprocess
    import sys

    # (constructs_lib registers the provider package itself as an empty stub: only its submodules would load jsii)
    code = "import sys, stacks.config; print(sorted(m for m in sys.modules if m.split('.')[0] in ('jsii', 'cdktf') or m.startswith('cdktf_cdktf_provider_aws.')))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"
