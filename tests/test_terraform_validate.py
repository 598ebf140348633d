"""Every synthesized stack is valid Terraform for hashicorp/aws 5.100.0.

`cdktf.Testing.to_be_valid_terraform` needs a backend init and so cannot work
offline; this runs `init -backend=false` and `validate` on a copy instead.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.harness.terraform import Terraform

pytestmark = [pytest.mark.terraform, pytest.mark.validate]


def test_stack_is_valid_terraform(stack_dir: Path, terraform_env: dict[str, str], tmp_path: Path) -> None:
    workdir = shutil.copytree(stack_dir, tmp_path / stack_dir.name)
    terraform = Terraform(workdir, terraform_env)
    terraform.init(backend=False)
    result = terraform.validate()
    assert result["valid"] and result["error_count"] == 0, json.dumps(result["diagnostics"], indent=2)
    assert result["warning_count"] == 0, json.dumps(result["diagnostics"], indent=2)
