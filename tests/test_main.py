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
    assert outputs["vpc_id"]["value"] == "${aws_vpc.network_vpc.id}"


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
        "warning: config/production.tfvars: allowed_account_ids: is empty, so 'production' may be applied with credentials of any account; "
        'set it to the account(s) of this environment, such as ["123456789012"]\n'
        "warning: production-edge: domain_name 'circleoftrust.yourdomain.com' is ignored: a custom domain needs "
        "hosted_zone_id (the Route 53 zone that validates its certificates); the app keeps the AWS default endpoints\n"
        "warning: production-edge: pingid_metadata_url 'https://sso.pingone.com/your-org-id/saml/metadata' is given to the API tasks "
        "to fetch at runtime (enable_cognito_sso is false), but they cannot reach it: enable_nat_gateway is false, so the tasks have "
        "no path to the internet, only VPC endpoints to AWS. Set enable_cognito_sso = true (Cognito federates with PingID and "
        "fetches the metadata itself), or enable_nat_gateway = true\n"
        "warning: production-operations: alarm_email is empty, so the 10 paging alarms of 'production' publish to the SNS topic "
        "circle-of-trust-alarms, to which this stack subscribes nobody: unless chat or paging is subscribed to it out of band "
        "(output alarm_topic_arn), nobody is paged. Set alarm_email to the on-call address\n"
    )


# -- bad input never ends in a traceback ------------------------------------------------------

def test_a_config_given_twice_exits_2_without_traceback(tmp_path, previous_output):
    result = run_main("--config", "config/staging.tfvars", "--config", "./config/staging.tfvars", "--output", str(previous_output))
    assert result.returncode == 2
    assert result.stderr == (
        "error: invalid configuration:\n"
        "  config/staging.tfvars: given more than once (first as config/staging.tfvars); each file is one environment, so give it once\n"
    )
    assert_untouched(previous_output)


def test_an_environment_too_long_for_the_derived_names_exits_2_without_traceback(tmp_path, previous_output):
    config = tmp_path / "long.tfvars"
    config.write_text('environment = "abcdefghijklmno"\n')
    result = run_main("--config", str(config), "--output", str(previous_output))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "WebSocket NLB name 'circle-of-trust-abcdefghijklmno-ws' 34 characters long" in result.stderr
    assert_untouched(previous_output)


# -- signals: no traceback, no leftovers, old or new output whole -------------------------------

# main.py with a fake app (no jsii: fast, and independent of the stack) and
# hooks that pause where a test sends its signal.
FAKE_SYNTH = """
import os, sys, time
from pathlib import Path
import main

class FakeApp:
    def __init__(self, outdir):
        self.outdir = Path(outdir)

    def synth(self):
        (self.outdir / "stacks" / "qa").mkdir(parents=True)
        (self.outdir / "stacks" / "qa" / "cdk.tf.json").write_text('{"new": true}')
        if os.environ["PAUSE"] == "synth":
            Path(os.environ["READY"]).touch()
            time.sleep(60)
        (self.outdir / "manifest.json").write_text('{"stacks": {"qa": {"annotations": []}}}')

def between_renames():
    if os.environ["PAUSE"] == "between-renames":
        Path(os.environ["READY"]).touch()
        time.sleep(3)  # SIGINT and SIGTERM are held back here

main.build_app = lambda configs, outdir: FakeApp(outdir)
main._between_renames = between_renames
if os.environ.get("NO_EXCHANGE"):
    main._exchange = lambda first, second: False
main._exit(main.main(sys.argv[1:]))
"""

NEW_OUTPUT = {
    "manifest.json": hashlib.sha256(b'{"stacks": {"qa": {"annotations": []}}}').hexdigest(),
    "stacks/qa/cdk.tf.json": hashlib.sha256(b'{"new": true}').hexdigest(),
}


def run_until(tmp_path: Path, out: Path, pause: str, signum: int, **env: str) -> subprocess.CompletedProcess:
    """Run FAKE_SYNTH, send ``signum`` once it reaches ``pause``, and wait for it."""
    import signal
    import time

    config = tmp_path / "qa.tfvars"
    config.write_text('environment = "qa"\n')
    ready = tmp_path / "ready"
    process = subprocess.Popen(
        [sys.executable, "-c", FAKE_SYNTH, "--config", str(config), "--output", str(out)],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PAUSE": pause, "READY": str(ready), **env},
    )
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "never reached the pause"
        time.sleep(0.05)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.mark.parametrize(("signame", "code"), [("SIGTERM", 143), ("SIGINT", 130)])
def test_a_signal_during_synthesis_keeps_the_old_output_and_leaves_nothing(tmp_path, previous_output, signame, code):
    import signal

    result = run_until(tmp_path, previous_output, "synth", getattr(signal, signame))
    assert result.returncode == code
    assert result.stderr == f"interrupted by {signame}: the previous output is unchanged in {previous_output}\n"
    assert result.stdout == ""
    assert_untouched(previous_output)


def test_a_signal_between_the_two_renames_waits_for_the_new_output(tmp_path, previous_output):
    """Where the atomic exchange is not available: the signal is held back until the new output is in place."""
    import signal

    result = run_until(tmp_path, previous_output, "between-renames", signal.SIGTERM, NO_EXCHANGE="1")
    assert result.returncode == 143
    assert result.stderr == f"interrupted by SIGTERM: the new output is complete in {previous_output}\n"
    assert tree_digest(previous_output) == NEW_OUTPUT
    assert [p.name for p in previous_output.parent.iterdir() if p.name.startswith(".cdktf.out")] == []


def test_ctrl_c_during_a_real_synth_exits_130_without_traceback_or_leftovers(tmp_path, previous_output):
    """Ctrl-C signals the whole process group: main.py and the jsii node process."""
    import signal
    import time

    process = subprocess.Popen(
        [sys.executable, str(PROJECT / "main.py"), "--config", "config/staging.tfvars", "--output", str(previous_output)],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not [p for p in previous_output.parent.iterdir() if p.name.startswith(".cdktf.out.new-")]:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1)  # inside the jsii synth
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert (process.returncode, stderr) == (130, f"interrupted by SIGINT: the previous output is unchanged in {previous_output}\n")
    assert_untouched(previous_output)


# -- the swap and stale leftovers, in process ---------------------------------------------------

def test_a_failed_second_rename_puts_the_old_output_back(tmp_path, previous_output, monkeypatch):
    new = tmp_path / "new"
    (new / "stacks").mkdir(parents=True)
    monkeypatch.setattr(main, "_exchange", lambda first, second: False)

    def fail() -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(main, "_between_renames", fail)
    with pytest.raises(OSError, match="disk on fire"):
        main._replace_dir(new, previous_output)
    assert_untouched(previous_output)
    assert new.is_dir()


def dead_pid() -> int:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    return int(child.stdout)


def test_leftovers_of_killed_runs_are_removed_and_an_old_output_put_back(tmp_path, previous_output):
    pid = dead_pid()
    # A run killed (SIGKILL) between the renames: its old output is aside, nothing at the target.
    aside = tmp_path / f".cdktf.out.old-{pid}-abcd1234"
    aside.mkdir()
    previous_output.rename(aside / "cdktf.out")
    # A run killed during synthesis, and one of the older unnamed form.
    (tmp_path / f".cdktf.out.new-{pid}-efgh5678" / "stacks").mkdir(parents=True)
    (tmp_path / ".cdktf.out.ijkl9012").mkdir()
    # A live run's folder and unrelated files stay.
    live = tmp_path / f".cdktf.out.new-{os.getppid()}-mnop3456"
    live.mkdir()
    (tmp_path / ".cdktf.out.notes").mkdir()
    main._remove_stale_temporaries(previous_output)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".cdktf.out")) == sorted([".cdktf.out.notes", live.name])
    live.rmdir()
    (tmp_path / ".cdktf.out.notes").rmdir()
    assert_untouched(previous_output)


def test_a_stale_old_output_is_removed_when_the_target_exists(tmp_path, previous_output):
    stale = tmp_path / f".cdktf.out.old-{dead_pid()}-abcd1234" / "cdktf.out"
    stale.mkdir(parents=True)
    (stale / "older").write_text("x")
    main._remove_stale_temporaries(previous_output)
    assert_untouched(previous_output)


def test_the_swap_replaces_an_existing_output_and_hands_back_the_old_one(tmp_path, previous_output):
    new = tmp_path / "new"
    (new / "stacks" / "qa").mkdir(parents=True)
    (new / "stacks" / "qa" / "cdk.tf.json").write_text('{"new": true}')
    (new / "manifest.json").write_text('{"stacks": {"qa": {"annotations": []}}}')
    old = main._replace_dir(new, previous_output)
    assert tree_digest(previous_output) == NEW_OUTPUT
    # The exchange leaves the old output where the new one was; the fallback, in a folder beside it.
    assert old is not None
    assert (old / "stacks" / "old").is_dir() or (old / "cdktf.out" / "stacks" / "old").is_dir()


def test_config_warnings_are_printed_with_their_file(tmp_path):
    config = tmp_path / "prod-eu.tfvars"
    config.write_text('environment = "prod-eu"\n')
    result = subprocess.run(
        [sys.executable, "-c", FAKE_SYNTH, "--config", str(config), "--output", str(tmp_path / "out")],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        env={**os.environ, "PAUSE": "none", "READY": str(tmp_path / "ready")},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        f"warning: {config}: allowed_account_ids: is empty, so 'prod-eu' may be applied with credentials of any account; "
        'set it to the account(s) of this environment, such as ["123456789012"]\n'
    )


def test_exported_hcl_gets_bare_references_in_depends_on_and_ignore_changes(tmp_path):
    """cdktf's HCL renderer quotes them (deprecated); strings elsewhere keep their quotes."""
    hcl = tmp_path / "cdk.tf"
    hcl.write_text(
        'resource "aws_ecs_service" "api_service" {\n'
        'name = "api-service"\n'
        "depends_on = [\n"
        '"aws_iam_role_policy.api_task_role_policy",\n'
        '"data.aws_iam_policy_document.trust",\n'
        "]\n"
        "lifecycle {\n"
        "  ignore_changes = [\n"
        '"task_definition",\n'
        '"desired_count",\n'
        "]\n"
        "}\n"
        'tags = [\n"not-a-reference",\n]\n'
        "}\n"
    )
    main.unquote_references(hcl)
    text = hcl.read_text()
    assert "\naws_iam_role_policy.api_task_role_policy,\ndata.aws_iam_policy_document.trust,\n" in text
    assert "\ntask_definition,\ndesired_count,\n" in text
    assert 'name = "api-service"' in text and '"not-a-reference",' in text


def test_a_broken_migration_file_is_one_error_not_a_traceback(tmp_path):
    """migrations/<environment>.json (written by tools.adopt) is input too: exit 2, the file named, no traceback."""
    from stacks import migrations

    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "staging.json").write_text('{"kept": [}')
    with migrations.reading_from(folder), pytest.raises(migrations.MigrationError, match=r"staging\.json: not a migration file"):
        migrations.kept_values("staging")
    (folder / "staging.json").write_text('{"kept": {"stack": "x"}}')
    with migrations.reading_from(folder), pytest.raises(migrations.MigrationError, match=r'"kept" must be a list'):
        migrations.kept_values("staging")
