"""tools/plan_guard.py and constructs_lib/data_bearing.py.

Parsing, messages, bad input and --allow are tested on hand-written plan
dicts (instant). The guard itself is tested on real plans too: a small
configuration is applied to moto with real terraform, then changed and
planned from the same state, so the actions, `action_reason` and
`replace_paths` the guard reads are the ones terraform and the aws provider
really write.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.harness.emulator import OVERRIDE_FILE, emulator_override
from tests.harness.terraform import AWS_PROVIDER_VERSION, Terraform
from constructs_lib import data_bearing
from tools import plan_guard
from constructs_lib.data_bearing import DATA_BEARING_TYPES, is_data_bearing
from tools.plan_guard import DELETED, EXIT_LOSS, EXIT_OK, EXIT_USAGE, REPLACED, Violation, check_plan, render_path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


# --- constructs_lib/data_bearing.py -------------------------------------------------

REQUIRED_TYPES = {
    "aws_dynamodb_table", "aws_s3_bucket", "aws_sqs_queue", "aws_ecr_repository", "aws_kms_key",
    "aws_cloudwatch_log_group", "aws_secretsmanager_secret", "aws_service_discovery_private_dns_namespace",
    "aws_apigatewayv2_api", "aws_api_gateway_rest_api", "aws_cloudfront_distribution", "aws_cognito_user_pool",
    "aws_backup_vault", "aws_cloudtrail", "aws_efs_file_system", "aws_db_instance", "aws_rds_cluster",
}  # fmt: skip


def test_data_bearing_types_hold_every_required_type():
    assert isinstance(DATA_BEARING_TYPES, frozenset)
    assert REQUIRED_TYPES <= DATA_BEARING_TYPES


def test_every_data_bearing_type_is_a_resource_of_the_pinned_aws_provider():
    """A misspelt type would never match a plan: each must be a resource of
    hashicorp/aws 5.100.0, whose generated bindings have one folder per type.
    find_spec on the top-level package locates it without importing jsii."""
    bindings = Path(importlib.util.find_spec("cdktf_cdktf_provider_aws").origin).parent
    assert sorted(t for t in DATA_BEARING_TYPES if not (bindings / t.removeprefix("aws_")).is_dir()) == []


def test_is_data_bearing():
    assert is_data_bearing("aws_dynamodb_table")
    assert is_data_bearing("aws_sqs_queue")
    for stateless in ("aws_iam_role", "aws_security_group", "aws_ecs_service", "aws_lambda_function", "aws_lb_target_group_attachment"):
        assert not is_data_bearing(stateless), stateless
    # Live traffic: a replaced load balancer, listener or target group is an outage (the canary's ALB, the WebSocket NLB).
    for live in ("aws_lb", "aws_lb_listener", "aws_lb_target_group"):
        assert is_data_bearing(live), live
    assert not is_data_bearing("aws_dynamodb_table_item"), "exact type names, not prefixes"


def test_data_bearing_imports_no_jsii():
    proc = subprocess.run(
        [sys.executable, "-c", "import sys, constructs_lib.data_bearing, tools.plan_guard; print('jsii' in sys.modules)"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert proc.stdout.strip() == "False"
    assert data_bearing.__doc__ and plan_guard.__doc__


# --- check_plan on hand-written plans --------------------------------------


def change(address: str, actions: list[str], replace_paths: list[list[Any]] | None = None, **extra: Any) -> dict[str, Any]:
    """One `resource_changes` entry shaped as terraform writes it."""
    details: dict[str, Any] = {"actions": actions, "before": {}, "after": {}}
    if replace_paths is not None:
        details["replace_paths"] = replace_paths
    entry = {"address": address, "mode": "managed", "type": address.split(".")[-2], "name": address.split(".")[-1], "change": details}
    return {**entry, **extra}


def plan_of(*changes: dict[str, Any]) -> dict[str, Any]:
    return {"format_version": "1.2", "terraform_version": "1.11.4", "resource_changes": list(changes)}


def test_render_path():
    assert render_path(["encryption_configuration", 0, "encryption_type"]) == "encryption_configuration[0].encryption_type"
    assert render_path(["hash_key"]) == "hash_key"
    assert render_path(["tags", "team:owner"]) == 'tags["team:owner"]'
    assert render_path(["attribute", 1, "name"]) == "attribute[1].name"
    assert render_path([]) == ""


def test_deletions_and_replacements_of_data_bearing_resources_are_violations():
    plan = plan_of(
        change("aws_sqs_queue.jobs", ["delete"], action_reason="delete_because_no_resource_config"),
        change("aws_dynamodb_table.records", ["delete", "create"], [["hash_key"]], action_reason="replace_because_cannot_update"),
        change("aws_s3_bucket.site", ["create", "delete"], [["bucket"]]),
        change("module.old.aws_kms_key.key", ["delete"], action_reason="delete_because_no_module"),
        change("aws_cloudwatch_log_group.logs[1]", ["delete"], action_reason="delete_because_count_index"),
    )
    assert check_plan(plan) == [
        Violation("aws_sqs_queue.jobs", "aws_sqs_queue", DELETED),
        Violation("aws_dynamodb_table.records", "aws_dynamodb_table", REPLACED, ("hash_key",)),
        Violation("aws_s3_bucket.site", "aws_s3_bucket", REPLACED, ("bucket",)),
        Violation("module.old.aws_kms_key.key", "aws_kms_key", DELETED),
        Violation("aws_cloudwatch_log_group.logs[1]", "aws_cloudwatch_log_group", DELETED),
    ]


def test_harmless_changes_data_sources_and_other_types_pass():
    plan = plan_of(
        change("aws_sqs_queue.jobs", ["update"]),
        change("aws_sqs_queue.dlq", ["no-op"]),
        change("aws_dynamodb_table.new", ["create"]),
        change("aws_s3_bucket.old", ["forget"]),  # a `removed` block with destroy = false keeps the bucket
        change("aws_iam_role.task", ["delete", "create"], [["name"]]),
        change("aws_security_group.api", ["delete"]),
        change("data.aws_s3_bucket.site", ["read"], mode="data", type="aws_s3_bucket"),
        # a data source never deletes anything, whatever actions it carries
        change("data.aws_kms_key.key", ["delete"], mode="data", type="aws_kms_key"),
    )
    assert check_plan(plan) == []


def test_a_deposed_object_that_is_deleted_counts():
    plan = plan_of(change("aws_dynamodb_table.records", ["delete"], deposed="a1b2c3d4"))
    [violation] = check_plan(plan)
    assert violation == Violation("aws_dynamodb_table.records", "aws_dynamodb_table", DELETED, (), "a1b2c3d4")
    assert violation.describe() == "aws_dynamodb_table.records (deposed object a1b2c3d4) (aws_dynamodb_table) would be DELETED"


def test_allow_matches_exactly_one_address():
    plan = plan_of(
        change("aws_sqs_queue.jobs", ["delete"]),
        change("aws_sqs_queue.jobs[0]", ["delete"]),
        change("module.a.aws_sqs_queue.jobs", ["delete"]),
    )
    assert [v.address for v in check_plan(plan, allow=frozenset({"aws_sqs_queue.jobs"}))] == [
        "aws_sqs_queue.jobs[0]",
        "module.a.aws_sqs_queue.jobs",
    ]


def test_violations_are_frozen():
    violation = Violation("aws_sqs_queue.jobs", "aws_sqs_queue", DELETED)
    with pytest.raises(AttributeError):
        violation.action = REPLACED  # type: ignore[misc]


# --- the command on plan files ---------------------------------------------


def run_main(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = plan_guard.main(list(argv))
    return code, out.getvalue(), err.getvalue()


def write(path: Path, content: Any) -> Path:
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_a_clean_plan_exits_0_with_a_summary(tmp_path):
    plan = write(tmp_path / "plan.json", plan_of(change("aws_sqs_queue.jobs", ["update"]), change("aws_iam_role.r", ["no-op"])))
    code, out, err = run_main(str(plan))
    assert (code, err) == (EXIT_OK, "")
    assert out == "plan guard: 2 changes checked, no data-bearing resource deleted or replaced\n"


def test_a_plan_without_resource_changes_is_a_plan(tmp_path):
    """terraform 1.11 leaves resource_changes out when the plan manages nothing (these are its keys then)."""
    empty = {
        "format_version": "1.2", "terraform_version": "1.11.4", "planned_values": {"root_module": {}},
        "configuration": {"root_module": {}}, "applyable": False, "complete": True, "errored": False, "timestamp": "2025-01-01T00:00:00Z",
    }  # fmt: skip
    assert check_plan(empty) == []
    code, out, _ = run_main(str(write(tmp_path / "empty.json", empty)))
    assert (code, out) == (EXIT_OK, "plan guard: 0 changes checked, no data-bearing resource deleted or replaced\n")


def test_violations_exit_1_with_one_list_naming_address_type_action_paths_and_file(tmp_path):
    staging = write(tmp_path / "staging.json", plan_of(change("aws_sqs_queue.jobs", ["delete"])))
    production = write(
        tmp_path / "production.json",
        plan_of(change("aws_ecr_repository.api", ["delete", "create"], [["encryption_configuration", 0, "encryption_type"], ["name"]])),
    )
    code, out, err = run_main(str(staging), str(production))
    assert (code, err) == (EXIT_LOSS, "")
    assert out.splitlines() == [
        "plan guard: 2 data-bearing resource(s) would be lost:",
        f"  {staging}: aws_sqs_queue.jobs (aws_sqs_queue) would be DELETED",
        f"  {production}: aws_ecr_repository.api (aws_ecr_repository) would be REPLACED,"
        " forced by encryption_configuration[0].encryption_type, name",
        "Change the configuration to keep them, or, after review, rerun with --allow ADDRESS for each.",
    ]


def test_allow_lets_a_reviewed_change_through_and_says_so(tmp_path):
    plan = write(tmp_path / "plan.json", plan_of(change("aws_sqs_queue.jobs", ["delete"]), change("aws_sqs_queue.dlq", ["update"])))
    code, out, _ = run_main(str(plan), "--allow", "aws_sqs_queue.jobs", "--allow", "aws_s3_bucket.gone")
    assert code == EXIT_OK
    assert out.splitlines() == [
        f"plan guard: allowed by --allow: {plan}: aws_sqs_queue.jobs (aws_sqs_queue) would be DELETED",
        "plan guard: note: --allow aws_s3_bucket.gone matched no deletion or replacement",
        "plan guard: 2 changes checked, no data-bearing resource deleted or replaced",
    ]


def test_allow_does_not_cover_other_violations(tmp_path):
    plan = write(tmp_path / "plan.json", plan_of(change("aws_sqs_queue.jobs", ["delete"]), change("aws_sqs_queue.dlq", ["delete"])))
    code, out, _ = run_main(str(plan), "--allow", "aws_sqs_queue.jobs")
    assert code == EXIT_LOSS
    assert "aws_sqs_queue.dlq (aws_sqs_queue) would be DELETED" in out
    assert "plan guard: 1 data-bearing resource(s) would be lost:" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{not json", "not JSON"),
        ([1, 2], "JSON without format_version"),
        ({"resource_changes": []}, "JSON without format_version"),
        # what `terraform show -json` prints for the state, not a plan
        ({"format_version": "1.0", "terraform_version": "1.11.4", "values": {"root_module": {}}}, "no resource_changes or planned_values"),
        ({"format_version": "1.2", "resource_changes": {"a": 1}}, "resource_changes is not a list"),
        ({"format_version": "1.2", "resource_changes": [{"address": "aws_sqs_queue.q", "change": {}}]}, "resource_changes is not a list"),
        ({"format_version": "1.2", "resource_changes": [], "errored": True}, "the plan is marked errored"),
    ],
)
def test_bad_input_exits_2_naming_the_file_and_what_was_expected(tmp_path, content, message):
    path = tmp_path / "input.json"
    if content is not None:
        write(path, content)
    code, out, err = run_main(str(path))
    assert (code, out) == (EXIT_USAGE, "")
    assert err.startswith(f"plan guard: {path}: {message}")
    assert "expected" in err
    assert "Traceback" not in err


def test_bad_input_from_the_command_line_has_no_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "tools.plan_guard", str(tmp_path / "missing.json")],
        cwd=PROJECT_ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == EXIT_USAGE
    assert proc.stderr == (
        f"plan guard: {tmp_path / 'missing.json'}: no such file; expected the JSON of `terraform show -json PLANFILE`\n"
    )


# --- real plans: terraform against moto --------------------------------------

NAME = "plan-guard-fixture"  # this module's own resources in the shared emulator


def fixture_config(
    *, queue: bool = True, visibility_timeout: int = 30, hash_key: str = "pk", ecr_encryption: str = "AES256", role: str = NAME
) -> dict[str, Any]:
    """A queue, a table and a repository (data-bearing) and a role (not)."""
    resources: dict[str, Any] = {
        "aws_dynamodb_table": {
            "records": {
                "name": NAME,
                "billing_mode": "PAY_PER_REQUEST",
                "hash_key": hash_key,
                "attribute": [{"name": hash_key, "type": "S"}],
            }
        },
        "aws_ecr_repository": {
            "images": {"name": NAME, "encryption_configuration": [{"encryption_type": ecr_encryption}]},
        },
        "aws_iam_role": {
            "runner": {
                "name": role,
                "assume_role_policy": json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
                    }
                ),
            }
        },
    }
    if queue:
        resources["aws_sqs_queue"] = {"jobs": {"name": NAME, "visibility_timeout_seconds": visibility_timeout}}
    return {
        "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": AWS_PROVIDER_VERSION}}},
        "provider": {"aws": [{"region": "us-east-1"}]},
        "resource": resources,
    }


class Fixture:
    """The applied configuration; `plan(**changes)` plans a changed copy from the same state."""

    def __init__(self, workdir: Path, terraform: Terraform):
        self.workdir = workdir
        self.terraform = terraform

    def write(self, **changes: Any) -> None:
        (self.workdir / "main.tf.json").write_text(json.dumps(fixture_config(**changes), indent=2))

    def plan(self, name: str, **changes: Any) -> tuple[dict[str, Any], Path]:
        """The changed configuration's plan JSON, also saved as NAME.json for the command."""
        self.write(**changes)
        plan = self.terraform.plan_json(planfile=f"{name}.tfplan")
        path = self.workdir / f"{name}.json"
        path.write_text(json.dumps(plan))
        return plan, path


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory, moto_endpoint: str, terraform_env: dict[str, str]) -> Fixture:
    """Apply the fixture configuration once, with local state.

    Nothing is destroyed afterwards (it would cost a third of the module's
    time): the names are this module's own, and every emulated deployment
    resets moto before it starts.
    """
    workdir = tmp_path_factory.mktemp("plan-guard")
    (workdir / OVERRIDE_FILE).write_text(json.dumps(emulator_override(fixture_config(), moto_endpoint), indent=2))
    fixture = Fixture(workdir, Terraform(workdir, terraform_env))
    fixture.write()
    fixture.terraform.init(backend=False)
    fixture.terraform.apply()
    return fixture


def run_guard(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tools.plan_guard", *args], cwd=PROJECT_ROOT, capture_output=True, text=True)


def actions_by_address(plan: dict[str, Any]) -> dict[str, list[str]]:
    return {c["address"]: c["change"]["actions"] for c in plan["resource_changes"]}


@pytest.mark.terraform
@pytest.mark.emulated
@pytest.mark.xdist_group("emulated-plan-guard")
def test_a_forcenew_change_is_refused_as_a_replacement_with_the_attributes_that_force_it(applied: Fixture) -> None:
    plan, path = applied.plan("replace", hash_key="id", ecr_encryption="KMS")
    assert actions_by_address(plan) == {
        "aws_dynamodb_table.records": ["delete", "create"],
        "aws_ecr_repository.images": ["delete", "create"],
        "aws_iam_role.runner": ["no-op"],
        "aws_sqs_queue.jobs": ["no-op"],
    }
    assert check_plan(plan) == [
        Violation("aws_dynamodb_table.records", "aws_dynamodb_table", REPLACED, ("hash_key",)),
        Violation("aws_ecr_repository.images", "aws_ecr_repository", REPLACED, ("encryption_configuration[0].encryption_type",)),
    ]

    proc = run_guard(str(path))
    assert proc.returncode == EXIT_LOSS, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[:3] == [
        "plan guard: 2 data-bearing resource(s) would be lost:",
        f"  {path}: aws_dynamodb_table.records (aws_dynamodb_table) would be REPLACED, forced by hash_key",
        f"  {path}: aws_ecr_repository.images (aws_ecr_repository) would be REPLACED,"
        " forced by encryption_configuration[0].encryption_type",
    ]

    # Allowing one of the two still fails on the other.
    proc = run_guard(str(path), "--allow", "aws_ecr_repository.images")
    assert proc.returncode == EXIT_LOSS
    assert "aws_dynamodb_table.records (aws_dynamodb_table) would be REPLACED" in proc.stdout
    assert "1 data-bearing resource(s) would be lost" in proc.stdout


@pytest.mark.terraform
@pytest.mark.emulated
@pytest.mark.xdist_group("emulated-plan-guard")
def test_a_removed_resource_is_refused_as_a_deletion_unless_allowed(applied: Fixture) -> None:
    plan, path = applied.plan("delete", queue=False)
    [removed] = [c for c in plan["resource_changes"] if c["address"] == "aws_sqs_queue.jobs"]
    assert removed["change"]["actions"] == ["delete"]
    assert removed["action_reason"] == "delete_because_no_resource_config"
    assert check_plan(plan) == [Violation("aws_sqs_queue.jobs", "aws_sqs_queue", DELETED)]

    proc = run_guard(str(path))
    assert proc.returncode == EXIT_LOSS, proc.stdout + proc.stderr
    assert f"  {path}: aws_sqs_queue.jobs (aws_sqs_queue) would be DELETED" in proc.stdout.splitlines()

    proc = run_guard(str(path), "--allow", "aws_sqs_queue.jobs")
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == [
        f"plan guard: allowed by --allow: {path}: aws_sqs_queue.jobs (aws_sqs_queue) would be DELETED",
        "plan guard: 4 changes checked, no data-bearing resource deleted or replaced",
    ]


@pytest.mark.terraform
@pytest.mark.emulated
@pytest.mark.xdist_group("emulated-plan-guard")
def test_an_in_place_update_and_a_stateless_replacement_pass(applied: Fixture) -> None:
    plan, path = applied.plan("harmless", visibility_timeout=60, role=f"{NAME}-renamed")
    assert actions_by_address(plan) == {
        "aws_dynamodb_table.records": ["no-op"],
        "aws_ecr_repository.images": ["no-op"],
        "aws_iam_role.runner": ["delete", "create"],  # a role holds no data: its replacement passes
        "aws_sqs_queue.jobs": ["update"],
    }
    assert check_plan(plan) == []

    proc = run_guard(str(path))
    assert (proc.returncode, proc.stderr) == (EXIT_OK, "")
    assert proc.stdout == "plan guard: 4 changes checked, no data-bearing resource deleted or replaced\n"
