"""Apply a legacy HCL project (tests/legacy/<name>) to the emulator, as its team would have.

The project's own files are copied unchanged; a ``zz_emulator_override.tf.json``
points its provider and its S3 backend at moto (the same override the
synthesized stacks get, tests/harness/emulator.py). Its state then lives
where the seed kept it: ``prod/terraform.tfstate`` in the state bucket.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any, Mapping

from .emulator import OVERRIDE_FILE, ClientFactory, create_backend, emulator_override
from .terraform import Terraform

LEGACY_DIR = Path(__file__).resolve().parents[1] / "legacy"
# The seed's backend block, which every legacy fixture declares in HCL.
LEGACY_BACKEND = {
    "bucket": "circle-of-trust-terraform-state",
    "key": "prod/terraform.tfstate",
    "region": "us-east-1",
    "dynamodb_table": "terraform-state-lock",
    "encrypt": True,
}


def legacy_backend(fixture_dir: Path) -> dict[str, Any]:
    """The fixture's backend "s3" block: checked against LEGACY_BACKEND (HCL is not parsed here)."""
    text = "\n".join(path.read_text() for path in sorted(Path(fixture_dir).glob("*.tf")))
    match = re.search(r'backend\s+"s3"\s*\{(.*?)\}', text, re.S)
    assert match, f"{fixture_dir}: no backend \"s3\" block"
    for key, value in LEGACY_BACKEND.items():
        literal = json.dumps(value) if isinstance(value, str) else str(value).lower()
        assert re.search(rf"\b{key}\s*=\s*{re.escape(literal)}", match.group(1)), f"{fixture_dir}: backend {key} is not {literal}"
    return dict(LEGACY_BACKEND)


def write_lambda_zip(path: Path) -> None:
    """The small handler archive a legacy project's `aws_lambda_function` names (not committed: built here)."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return {'statusCode': 200}\n")


def apply_legacy(name: str, work_dir: Path, endpoint: str, env: Mapping[str, str]) -> Terraform:
    """Copy tests/legacy/<name>, point it at the emulator, init and apply; return its Terraform."""
    source = LEGACY_DIR / name
    backend = legacy_backend(source)
    shutil.copytree(source, work_dir, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"), dirs_exist_ok=True)
    if "lambda_ecs_updater.zip" in "".join(p.read_text() for p in work_dir.rglob("*.tf")):
        write_lambda_zip(work_dir / "lambda_ecs_updater.zip")
    create_backend(endpoint, backend["bucket"], backend["dynamodb_table"], backend["region"])
    override = emulator_override({"provider": {"aws": [{}]}, "terraform": {"backend": {"s3": backend}}}, endpoint)
    (work_dir / OVERRIDE_FILE).write_text(json.dumps(override, indent=2))
    env = {k: v for k, v in env.items() if k != "TF_REATTACH_PROVIDERS"}  # HCL: the harness never reattaches (see _reattach_is_safe)
    terraform = Terraform(work_dir, env)
    terraform.init(backend=True)
    terraform.apply()
    return terraform


def read_object(endpoint: str, region: str, bucket: str, key: str) -> bytes:
    return ClientFactory(endpoint, region)("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
