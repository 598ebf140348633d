"""`cdktf synth --hcl`, the way out of CDKTF, writes valid Terraform too.

cdktf 0.21's HCL renderer has broken output before (a `required_version` in
the terraform block, JSON strings built around tokens), so the exported HCL
of every stack goes through `terraform validate` like the JSON does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.harness.terraform import Terraform

pytestmark = pytest.mark.terraform

PROJECT = Path(__file__).resolve().parents[1]
CDKTF_CLI = PROJECT / "node_modules" / ".bin" / "cdktf"


@pytest.fixture(scope="module")
def hcl_dir(tmp_path_factory) -> Path:
    assert CDKTF_CLI.exists(), "the cdktf CLI is missing: run `npm ci` (make setup does)"
    out = tmp_path_factory.mktemp("hcl") / "cdktf.out"
    result = subprocess.run(
        [str(CDKTF_CLI), "synth", "--hcl", "--output", str(out)],
        cwd=PROJECT,
        # cdktf.json runs `pipenv run python main.py`; the venv's python is the same app.
        env={**os.environ, "CHECKPOINT_DISABLE": "1", "CI": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out


def test_every_stack_is_exported_as_hcl_only(hcl_dir, stack_name):
    files = sorted(p.name for p in (hcl_dir / "stacks" / stack_name).iterdir() if p.is_file())
    assert "cdk.tf" in files and "cdk.tf.json" not in files


def test_exported_hcl_is_valid_terraform(hcl_dir, stack_name, terraform_env, tmp_path):
    workdir = shutil.copytree(hcl_dir / "stacks" / stack_name, tmp_path / stack_name)
    terraform = Terraform(workdir, terraform_env)
    terraform.init(backend=False)
    result = terraform.validate()
    assert result["valid"] and result["error_count"] == 0, json.dumps(result["diagnostics"], indent=2)
    # Quoted references in depends_on are deprecated (Terraform says it will remove them).
    assert result["warning_count"] == 0, json.dumps(result["diagnostics"], indent=2)


def test_exported_hcl_keeps_the_backend(hcl_dir, stack_name):
    text = (hcl_dir / "stacks" / stack_name / "cdk.tf").read_text()
    assert 'backend "s3"' in text and "encrypt        = true" in text
    environment, layer = stack_name.split("-", 1)
    assert f'key            = "{environment}/{layer}.tfstate"' in text
