"""main.py: one stack per environment, byte-identical output, all-or-nothing writes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import main
from stacks.config import ConfigError
from stacks.environment import LAYERS

ENVIRONMENTS = ("production", "staging")

PROJECT = Path(__file__).resolve().parents[1]


def run_main(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(PROJECT / "main.py"), *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "cdktf.out"
    result = run_main("--output", str(out))
    assert result.returncode == 0, result.stderr
    assert "synthesized 10 stack(s)" in result.stdout
    return out


def stack(out: Path, name: str) -> dict:
    return json.loads((out / "stacks" / name / "cdk.tf.json").read_text())


def test_one_stack_per_layer_of_each_shipped_environment(synthesized):
    assert sorted(p.name for p in (synthesized / "stacks").iterdir()) == sorted(
        f"{environment}-{layer}" for environment in ENVIRONMENTS for layer in LAYERS
    )
    assert LAYERS == ("network", "data", "edge", "services", "operations")


@pytest.mark.parametrize("environment", ENVIRONMENTS)
@pytest.mark.parametrize("layer", LAYERS)
def test_state_lives_in_s3_encrypted_and_locked(synthesized, environment, layer):
    """Each layer has its own state object under the environment's prefix, one lock table for all."""
    key = f"{environment}/{layer}.tfstate"
    terraform = stack(synthesized, f"{environment}-{layer}")["terraform"]
    assert terraform["backend"] == {
        "s3": {
            "bucket": "circle-of-trust-terraform-state",
            "key": key,
            "region": "us-east-1",
            "encrypt": True,
            "dynamodb_table": "terraform-state-lock",
        }
    }
    assert terraform["required_providers"]["aws"] == {"source": "aws", "version": "5.100.0"}
    assert "required_version" not in terraform  # it would break `cdktf synth --hcl`


@pytest.mark.parametrize("name", ["production", "staging"])
@pytest.mark.parametrize("layer", LAYERS)
def test_provider_region_and_default_tags(synthesized, name, layer):
    (provider,) = stack(synthesized, f"{name}-{layer}")["provider"]["aws"]
    assert provider["region"] == "us-east-1"
    assert provider["default_tags"] == [
        {"tags": {"project": "circle-of-trust", "environment": name, "managed-by": "cdktf"}}
    ]


def test_production_uses_endpoints_and_staging_a_nat_gateway(synthesized):
    production, staging = stack(synthesized, "production-network"), stack(synthesized, "staging-network")
    assert "aws_nat_gateway" not in production["resource"]
    assert len(production["resource"]["aws_vpc_endpoint"]) == 7
    assert len(staging["resource"]["aws_nat_gateway"]) == 1
    assert production["resource"]["aws_vpc"]
    names = {v["tags"]["Name"] for v in production["resource"]["aws_vpc"].values()}
    assert names == {"circle-of-trust-vpc"}
    assert {v["tags"]["Name"] for v in staging["resource"]["aws_vpc"].values()} == {"circle-of-trust-staging-vpc"}


def test_outputs_keep_their_plain_names(synthesized):
    outputs = stack(synthesized, "production-network")["output"]
    assert {"vpc_id", "private_subnet_ids", "public_subnet_ids"} <= set(outputs)
    assert outputs["vpc_id"]["value"] == "${aws_vpc.network_vpc}"


def test_same_config_gives_byte_identical_output(synthesized, tmp_path):
    again = tmp_path / "again"
    result = run_main("--output", str(again))
    assert result.returncode == 0, result.stderr
    assert tree_digest(again) == tree_digest(synthesized)


def test_cdktf_outdir_is_honoured(tmp_path):
    out = tmp_path / "from-env"
    result = run_main("--config", "config/staging.tfvars", env={"CDKTF_OUTDIR": str(out)})
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (out / "stacks").iterdir()) == sorted(f"staging-{layer}" for layer in LAYERS)


def test_normal_output_has_no_node_end_of_life_banner(tmp_path):
    result = run_main("--config", "config/staging.tfvars", "--output", str(tmp_path / "o"))
    assert result.returncode == 0
    assert "end-of-life" not in result.stdout + result.stderr
    assert result.stderr == ""


@pytest.fixture
def previous_output(tmp_path) -> Path:
    """An output folder from an earlier run, which a failed run must leave alone."""
    out = tmp_path / "cdktf.out"
    (out / "stacks" / "old").mkdir(parents=True)
    (out / "stacks" / "old" / "cdk.tf.json").write_text('{"old": true}')
    (out / "manifest.json").write_text("{}")
    return out


def assert_untouched(out: Path) -> None:
    assert tree_digest(out) == {
        "manifest.json": hashlib.sha256(b"{}").hexdigest(),
        "stacks/old/cdk.tf.json": hashlib.sha256(b'{"old": true}').hexdigest(),
    }
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(".cdktf.out")]
    assert leftovers == [], "temporary synth folders were left behind"


def test_bad_config_exits_non_zero_with_one_message_and_writes_nothing(tmp_path, previous_output):
    bad = tmp_path / "bad.tfvars"
    bad.write_text('environment = "qa"\napi_task_cpu = 512\napi_task_memory = 512\n')
    result = run_main("--config", str(bad), "--output", str(previous_output))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "error: invalid configuration:\n"
        f"  {bad}: api_task_memory: must be a memory size (MiB) Fargate accepts with api_task_cpu = 512: "
        "1024, 2048, 3072, 4096; got 512\n"
    )
    assert_untouched(previous_output)


def test_missing_config_file_exits_non_zero_and_writes_nothing(tmp_path, previous_output):
    assert main.main(["--config", str(tmp_path / "missing.tfvars"), "--output", str(previous_output)]) == 2
    assert_untouched(previous_output)


def test_a_failure_during_synthesis_leaves_the_old_output_and_no_temporary_folder(tmp_path, previous_output, monkeypatch):
    good = tmp_path / "good.tfvars"
    good.write_text('environment = "qa"\n')

    def broken_app(configs, outdir):
        (outdir / "stacks" / "qa").mkdir(parents=True)
        (outdir / "stacks" / "qa" / "cdk.tf.json").write_text("{half")
        raise RuntimeError("synth failed half way")

    monkeypatch.setattr(main, "build_app", broken_app)
    with pytest.raises(RuntimeError, match="half way"):
        main.synthesize([good], previous_output)
    assert_untouched(previous_output)


def test_a_fresh_output_folder_is_created_whole(tmp_path):
    with pytest.raises(ConfigError):
        main.synthesize([tmp_path / "absent.json"], tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_construct_warnings_are_printed(synthesized):
    result = run_main("--config", "config/production.tfvars", "--output", str(synthesized.parent / "warned"))
    assert result.returncode == 0
    assert result.stderr == (
        "warning: production-edge: domain_name 'circleoftrust.yourdomain.com' is ignored: a custom domain needs "
        "hosted_zone_id (the Route 53 zone that validates its certificates); the app keeps the AWS default endpoints\n"
    )
