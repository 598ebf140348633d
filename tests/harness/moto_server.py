"""Moto in server mode, in a child process, with shims for its known gaps.

The server runs in its own process so that terraform (and boto3 in tests) talk
to it over HTTP exactly as they would to AWS, and so that patching moto never
leaks into the test process. Each shim below names the emulator gap it covers:
the shims change moto, never the infrastructure code.

Child entry point, from the project root:
    python -m tests.harness.moto_server [--port N] [--port-file PATH]
Parent side: `MotoServer`, a context manager that starts the child on a free
loopback port, waits until it answers, and always stops it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Callable

from .terraform import die_with_parent

HOST = "127.0.0.1"
_PROJECT_ROOT = Path(__file__).resolve().parents[2]
_START_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 10.0

SHIMS: list[Callable[[], None]] = []


def shim(func: Callable[[], None]) -> Callable[[], None]:
    """Register a patch to apply to moto before the server starts."""
    SHIMS.append(func)
    return func


@shim
def appautoscaling_tags() -> None:
    """Gap: Application Auto Scaling has no ListTagsForResource/TagResource/
    UntagResource and drops RegisterScalableTarget's Tags, so the provider
    retries creating an aws_appautoscaling_target until it times out (and would
    then see a tags_all diff). Keep tags per scalable-target ARN."""
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse as R

    def tags_of(self: R) -> dict[str, dict[str, str]]:
        backend = self.applicationautoscaling_backend
        if not hasattr(backend, "shim_tags"):
            backend.shim_tags = {}
        return backend.shim_tags

    register = R.register_scalable_target

    def register_scalable_target(self: R) -> str:
        body = register(self)
        tags = self._get_param("Tags")
        if tags:
            tags_of(self).setdefault(json.loads(body)["ScalableTargetARN"], {}).update(tags)
        return body

    def list_tags_for_resource(self: R) -> str:
        return json.dumps({"Tags": tags_of(self).get(self._get_param("ResourceARN"), {})})

    def tag_resource(self: R) -> str:
        tags_of(self).setdefault(self._get_param("ResourceARN"), {}).update(self._get_param("Tags") or {})
        return "{}"

    def untag_resource(self: R) -> str:
        tags = tags_of(self).get(self._get_param("ResourceARN"), {})
        for key in self._get_param("TagKeys") or []:
            tags.pop(key, None)
        return "{}"

    R.register_scalable_target = register_scalable_target
    R.list_tags_for_resource = list_tags_for_resource
    R.tag_resource = tag_resource
    R.untag_resource = untag_resource


@shim
def ecs_create_service_fields() -> None:
    """Gap: ECS CreateService ignores capacityProviderStrategy,
    enableECSManagedTags and availabilityZoneRebalancing, so DescribeServices
    omits them and the plan after apply wants to replace the service
    (strategy) or update it (the others). Store them on the service, as
    UpdateService already does."""
    from moto.core.utils import camelcase_to_underscores
    from moto.ecs.responses import EC2ContainerServiceResponse as R

    create = R.create_service

    def create_service(self: R):  # type: ignore[no-untyped-def]
        result = create(self)
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("serviceName"))
        for param in ("capacityProviderStrategy", "enableECSManagedTags", "availabilityZoneRebalancing"):
            value = self._get_param(param)
            if value is not None:
                setattr(service, camelcase_to_underscores(param), value)
        return result

    R.create_service = create_service


@shim
def kms_rotation_period() -> None:
    """Gap: KMS EnableKeyRotation ignores RotationPeriodInDays and
    GetKeyRotationStatus never returns it, so every plan wants to set
    rotation_period_in_days from 0 to 365 again. Keep it (AWS default 365)."""
    from moto.kms.responses import KmsResponse as R

    enable = R.enable_key_rotation

    def enable_key_rotation(self: R) -> str:
        body = enable(self)
        key = self.kms_backend.keys[self.kms_backend.get_key_id(self._get_param("KeyId"))]
        key.rotation_period_in_days = self._get_param("RotationPeriodInDays") or 365
        return body

    status = R.get_key_rotation_status

    def get_key_rotation_status(self: R) -> str:
        result = json.loads(status(self))
        key = self.kms_backend.keys[self.kms_backend.get_key_id(self._get_param("KeyId"))]
        if result["KeyRotationEnabled"]:
            result["RotationPeriodInDays"] = getattr(key, "rotation_period_in_days", 365)
        return json.dumps(result)

    R.enable_key_rotation = enable_key_rotation
    R.get_key_rotation_status = get_key_rotation_status


@shim
def ec2_security_group_rule_descriptions() -> None:
    """Gap: DescribeSecurityGroupRules returns a rule's Description only for
    CIDR rules; for rules that reference a security group or a prefix list it
    is dropped, so every plan re-adds the description of
    aws_vpc_security_group_{ingress,egress}_rule. Return it for all kinds."""
    import inspect

    from moto.ec2.models.security_groups import SecurityGroupRule

    init = SecurityGroupRule.__init__
    signature = inspect.signature(init)

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        init(self, *args, **kwargs)
        prefix_list = signature.bind(self, *args, **kwargs).arguments.get("prefix_list_id")
        self.prefix_list_description = (prefix_list or {}).get("Description")

    def description(self: SecurityGroupRule) -> str | None:
        return (
            self.ip_range.get("Description")
            or self.source_group.get("Description")
            or getattr(self, "prefix_list_description", None)
        )

    SecurityGroupRule.__init__ = __init__
    SecurityGroupRule.description = property(description)


@shim
def sqs_redrive_policies() -> None:
    """Gaps: (1) SQS returns RedrivePolicy as `json.dumps` output (spaces after
    separators) where AWS returns compact JSON, so every plan shows a
    whitespace-only update: re-serialize compactly. (2) RedriveAllowPolicy is
    stored but never returned (nor accepted in AttributeNames), so
    aws_sqs_queue_redrive_allow_policy waits forever for it to appear."""
    from moto.sqs.models import Queue

    Queue.redrive_allow_policy = None
    Queue.BASE_ATTRIBUTES = [*Queue.BASE_ATTRIBUTES, "RedriveAllowPolicy"]
    attributes = Queue.attributes.fget

    def compact(value: object) -> str | None:
        if not value:
            return None  # unset, or removed with "": AWS omits the attribute
        return json.dumps(json.loads(value) if isinstance(value, str) else value, separators=(",", ":"))

    def shimmed_attributes(self: Queue) -> dict:  # type: ignore[type-arg]
        result = attributes(self)
        result["RedrivePolicy"] = compact(self.redrive_policy)
        result["RedriveAllowPolicy"] = compact(self.redrive_allow_policy)
        return result

    Queue.attributes = property(shimmed_attributes)


def apply_shims() -> None:
    for patch in SHIMS:
        patch()


def serve(port: int, port_file: Path | None = None) -> None:
    """Apply the shims and serve forever on HOST:port (0 = any free port)."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    apply_shims()
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(HOST, port, app, threaded=True, request_handler=MotoRequestHandler)
    if port_file is not None:
        # The socket is already listening: write atomically, then announce.
        tmp = port_file.with_suffix(".tmp")
        tmp.write_text(str(server.server_port))
        tmp.rename(port_file)
    print(f"moto server listening on http://{HOST}:{server.server_port}", flush=True)
    server.serve_forever()


class MotoServer:
    """A moto server child process on a free loopback port.

    `with MotoServer(log_dir) as server: server.endpoint` -> "http://127.0.0.1:N".
    Its requests are logged to `log_dir/moto.log`.
    """

    def __init__(self, log_dir: Path):
        self.log_dir = Path(log_dir)
        self.log_path = self.log_dir / "moto.log"
        self.endpoint = ""
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        port_file = self.log_dir / "moto.port"
        port_file.unlink(missing_ok=True)
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", __spec__.name, "--port", "0", "--port-file", str(port_file)],
                cwd=_PROJECT_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                preexec_fn=die_with_parent,
            )
        try:
            self.endpoint = f"http://{HOST}:{self._wait_for_port(port_file)}"
            self._wait_until_answering()
        except BaseException:
            self.stop()
            raise
        return self.endpoint

    def _wait_for_port(self, port_file: Path) -> int:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not port_file.exists():
            self._check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"moto server did not start in {_START_TIMEOUT_S}s\n{self.log_tail()}")
            time.sleep(0.05)
        return int(port_file.read_text())

    def _wait_until_answering(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while True:
            self._check_alive()
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=5):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"moto server at {self.endpoint} does not answer\n{self.log_tail()}")
                time.sleep(0.1)

    def _check_alive(self) -> None:
        assert self._proc is not None
        if self._proc.poll() is not None:
            raise RuntimeError(f"moto server exited with {self._proc.returncode}\n{self.log_tail()}")

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def __enter__(self) -> "MotoServer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--port-file", type=Path, help="write the bound port here once listening")
    args = parser.parse_args(argv)
    serve(args.port, args.port_file)


if __name__ == "__main__":
    main()
