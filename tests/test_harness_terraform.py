"""tests/harness/terraform.py: the stale-lock shim of `Terraform.run`, against a stand-in binary."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.harness.terraform import Terraform, TerraformError

LOCK_ERROR = """
Error: Error acquiring the state lock

Error message: operation error DynamoDB: PutItem, https response error
StatusCode: 400, ConditionalCheckFailedException: The conditional request failed
Lock Info:
  ID:        f73c2226-9ecc-6639-3f7d-0152eaad78a1
  Path:      circle-of-trust-terraform-state/production/terraform.tfstate
  Operation: OperationTypeApply
"""


def fake_terraform(tmp_path: Path, lock_failures: int) -> tuple[Terraform, Path]:
    """A Terraform whose binary fails `apply` on a lock `lock_failures` times, and logs every call."""
    calls = tmp_path / "calls"
    error = tmp_path / "lock-error.txt"
    error.write_text(LOCK_ERROR)
    binary = tmp_path / "terraform"
    binary.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> "{calls}"\n'
        f'failures=$(grep -c "^apply" "{calls}")\n'
        f'if [ "$1" = apply ] && [ "$failures" -le {lock_failures} ]; then cat "{error}" >&2; exit 1; fi\n'
        "echo done\n"
    )
    binary.chmod(0o755)
    terraform = Terraform(tmp_path, dict(os.environ))
    terraform.binary = str(binary)
    return terraform, calls


def test_a_stale_lock_is_force_unlocked_and_the_command_run_again(tmp_path):
    terraform, calls = fake_terraform(tmp_path, lock_failures=1)
    with pytest.warns(UserWarning, match="stale emulator state lock f73c2226-9ecc-6639-3f7d-0152eaad78a1"):
        result = terraform.run("apply", "-auto-approve")
    assert result.stdout.strip() == "done"
    assert calls.read_text().splitlines() == [
        "apply -auto-approve -no-color",
        "force-unlock -force f73c2226-9ecc-6639-3f7d-0152eaad78a1 -no-color",
        "apply -auto-approve -no-color",
    ]


def test_a_lock_that_comes_back_fails_the_command(tmp_path):
    """Only one retry: a lock that is really held is not unlocked in a loop."""
    terraform, calls = fake_terraform(tmp_path, lock_failures=2)
    with pytest.warns(UserWarning), pytest.raises(TerraformError, match="Error acquiring the state lock"):
        terraform.run("apply", "-auto-approve")
    assert [line.split()[0] for line in calls.read_text().splitlines()] == ["apply", "force-unlock", "apply"]


def test_other_failures_are_not_retried(tmp_path):
    terraform, calls = fake_terraform(tmp_path, lock_failures=0)
    (tmp_path / "terraform").write_text(f'#!/bin/sh\necho "$*" >> "{calls}"\necho "Error: Invalid reference" >&2\nexit 1\n')
    with pytest.raises(TerraformError, match="Invalid reference"):
        terraform.run("plan")
    assert calls.read_text().splitlines() == ["plan -no-color"]


def test_plan_json_saves_the_plan_and_returns_its_show_json(tmp_path):
    terraform, calls = fake_terraform(tmp_path, lock_failures=0)
    terraform.parallelism = 4
    (tmp_path / "terraform").write_text(
        f'#!/bin/sh\necho "$*" >> "{calls}"\n'
        'if [ "$1" = show ]; then echo \'{"format_version": "1.2", "resource_changes": []}\'; fi\n'
    )
    assert terraform.plan_json("-destroy", planfile="gone.tfplan") == {"format_version": "1.2", "resource_changes": []}
    assert calls.read_text().splitlines() == [
        "plan -input=false -parallelism=4 -out=gone.tfplan -destroy -no-color",
        "show -json gone.tfplan -no-color",
    ]
