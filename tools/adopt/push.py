"""``adopt push``: write the proved states to their backends, after a backup of every object replaced."""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

from tools.adopt.legacy import AdoptError, write_json
from tools.adopt.proof import TerraformFailed, terraform
from tools.adopt.tables import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, LEGACY_FILE, PLAN_FILE

def _parse_backend_config(pairs: Sequence[str]) -> list[str]:
    for pair in pairs:
        if "=" not in pair:
            raise AdoptError(f"--backend-config {pair!r}: expected KEY=VALUE")
    return [f"-backend-config={pair}" for pair in pairs]


def _s3(region: str):
    import boto3

    return boto3.session.Session().client("s3", region_name=region)


def _read_object(s3: Any, bucket: str, key: str) -> bytes | None:
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None


def _same_encryption(s3: Any, bucket: str, key: str) -> dict[str, str]:
    """The backup is encrypted as the state it copies is (a copy otherwise falls back to the bucket's default)."""
    head = s3.head_object(Bucket=bucket, Key=key)
    if head.get("ServerSideEncryption") == "aws:kms":
        return {"ServerSideEncryption": "aws:kms", **({"SSEKMSKeyId": head["SSEKMSKeyId"]} if head.get("SSEKMSKeyId") else {})}
    return {"ServerSideEncryption": "AES256"}


def _backend_dir(root: Path, name: str, backend: Mapping[str, Any], flags: Sequence[str], env: Mapping[str, str]) -> Path:
    """A folder holding only the backend block (no providers to install), initialised with it."""
    workdir = root / name
    workdir.mkdir(parents=True)
    write_json(workdir / "backend.tf.json", {"terraform": {"backend": {"s3": dict(backend)}}})
    terraform(workdir, "init", "-input=false", *flags, env=env)
    return workdir


def run_push(args: argparse.Namespace) -> int:
    from stacks.config import ConfigError, load_config

    try:
        config = load_config(args.config)
        source: Path = args.source.resolve()
        plan = json.loads((source / PLAN_FILE).read_text()) if (source / PLAN_FILE).exists() else None
        if not plan or not plan.get("proved") or plan.get("environment") != config.environment:
            raise AdoptError(f"{source}: no proved adopt plan of {config.environment!r} ({PLAN_FILE}); run `python -m tools.adopt plan` first")
        flags = _parse_backend_config(args.backend_config)
    except (ConfigError, AdoptError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    bucket, region, table = config.state_bucket, config.effective_state_region, config.state_lock_table
    targets = [(stack, config.state_key(stack.removeprefix(f"{config.environment}-")), source / f"{stack}.tfstate") for stack in plan["stacks"]]
    legacy_key = args.legacy_key
    s3 = _s3(region)
    try:
        # Refuse before anything changes.
        current = {key: _read_object(s3, bucket, key) for _, key, _ in targets}
        legacy_now = _read_object(s3, bucket, legacy_key)
    except Exception as error:  # botocore errors: credentials, endpoint, permissions
        print(f"error: reading s3://{bucket}: {error}", file=sys.stderr)
        return EXIT_REFUSED
    problems = []
    for stack, key, _ in targets:
        body = current[key]
        if body is not None and json.loads(body).get("resources") and not args.force:
            problems.append(f"s3://{bucket}/{key} ({stack}) already holds resources; refusing to overwrite it (--force after review)")
    if legacy_now is None:
        problems.append(f"s3://{bucket}/{legacy_key}: no legacy state there")
    else:
        remote = json.loads(legacy_now)
        if (remote.get("lineage"), remote.get("serial")) != (plan["legacy_lineage"], plan["legacy_serial"]):
            problems.append(
                f"s3://{bucket}/{legacy_key} is lineage {remote.get('lineage')} serial {remote.get('serial')}, not the state the plan read "
                f"({plan['legacy_lineage']} serial {plan['legacy_serial']}): pull it again and rerun adopt plan"
            )
    if problems:
        print("adopt push: REFUSED, nothing changed:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_REFUSED

    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    undo: list[str] = []
    backups = {}
    for key, body in [*((key, current[key]) for _, key, _ in targets), (legacy_key, legacy_now)]:
        if body is None:
            undo.append(f"aws s3 rm s3://{bucket}/{key}")
            undo.append(f"aws dynamodb delete-item --table-name {table} --key '{{\"LockID\":{{\"S\":\"{bucket}/{key}-md5\"}}}}'")
            continue
        backup = f"{key}.backup-{stamp}"
        s3.copy_object(Bucket=bucket, Key=backup, CopySource={"Bucket": bucket, "Key": key}, **_same_encryption(s3, bucket, key))
        backups[key] = backup
        digest = hashlib.md5(body).hexdigest()
        undo.append(f"aws s3 cp s3://{bucket}/{backup} s3://{bucket}/{key}")
        undo.append(f"aws dynamodb put-item --table-name {table} --item '{{\"LockID\":{{\"S\":\"{bucket}/{key}-md5\"}},\"Digest\":{{\"S\":\"{digest}\"}}}}'")
        print(f"backup: s3://{bucket}/{key} -> s3://{bucket}/{backup}")

    work = Path(tempfile.mkdtemp(prefix="adopt-push-"))
    env = {k: v for k, v in os.environ.items() if k != "TF_REATTACH_PROVIDERS"}
    try:
        pushes = [(stack, key, path, config) for stack, key, path in targets] + [("legacy", legacy_key, source / LEGACY_FILE, None)]
        for stack, key, path, _ in pushes:
            backend = {"bucket": bucket, "key": key, "region": region, "encrypt": True}
            if table:
                backend["dynamodb_table"] = table
            workdir = _backend_dir(work, stack, backend, flags, env)
            force = ["-force"] if args.force and stack != "legacy" else []
            terraform(workdir, "state", "push", *force, str(path), env=env)
            print(f"pushed: {path.name} -> s3://{bucket}/{key}")
    except TerraformFailed as error:
        print(f"error: {error}\nadopt push stopped; to undo what was pushed:\n  " + "\n  ".join(undo), file=sys.stderr)
        return EXIT_REFUSED
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\nadopt push: done. To undo it (restores every state object exactly as it was):")
    for line in undo:
        print(f"  {line}")
    return EXIT_OK


