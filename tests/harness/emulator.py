"""Deploy a synthesized stack to the moto emulator with real terraform.

A copy of the stack gets a `zz_emulator_override.tf.json` that points the aws
provider and the S3 backend at moto; the synthesized cdk.tf.json itself is
never changed, so what is deployed is exactly what CDKTF wrote. State really
lands in moto's S3 and locking really goes through moto's DynamoDB.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.request
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

import boto3
from botocore.client import BaseClient
from botocore.config import Config

from .terraform import REATTACH_VAR, ProviderServer, Terraform

OVERRIDE_FILE = "zz_emulator_override.tf.json"
# Written only before a test's deliberate teardown: lifts prevent_destroy (an
# override merges argument by argument, so the rest of each lifecycle stays).
UNPROTECT_FILE = "zz_unprotect_override.tf.json"
STACK_FILE = "cdk.tf.json"
DUMMY_CREDENTIALS = {"access_key": "testing", "secret_key": "testing"}

# Provider `endpoints` keys (canonical names in hashicorp/aws 5.x) for every
# service the project uses now or is planned to use. Anything missing here
# would silently go to real AWS and fail on the dummy credentials.
EMULATED_SERVICES = (
    "acm", "apigateway", "apigatewayv2", "appautoscaling", "autoscaling", "backup",
    "cloudformation", "cloudfront", "cloudtrail", "cloudwatch", "codedeploy", "cognitoidentity",
    "cognitoidp", "dynamodb", "ec2", "ecr", "ecs", "elb", "elbv2", "events", "iam",
    "kms", "lambda", "logs", "resourcegroupstaggingapi", "route53", "s3",
    "scheduler", "secretsmanager", "servicediscovery", "sns", "sqs", "ssm", "sts",
    "wafv2",
)
_BACKEND_SERVICES = ("s3", "dynamodb", "sts", "iam")
_SKIP_CHECKS = {
    "skip_credentials_validation": True,
    "skip_metadata_api_check": True,
    "skip_region_validation": True,
}


def read_stack(stack_dir: Path) -> dict[str, Any]:
    return json.loads((Path(stack_dir) / STACK_FILE).read_text())


def read_backend(stack_dir: Path) -> dict[str, Any]:
    """The stack's `terraform.backend.s3` block, as synthesized."""
    try:
        return dict(read_stack(stack_dir)["terraform"]["backend"]["s3"])
    except KeyError as exc:
        raise ValueError(f"{stack_dir}/{STACK_FILE} has no S3 backend") from exc


def emulator_override(stack: Mapping[str, Any], endpoint: str) -> dict[str, Any]:
    """Build the override that points every aws provider and the backend at moto.

    Terraform merges provider blocks by name and alias but replaces the whole
    backend block, so the backend keeps every synthesized argument and only
    gains the emulator's endpoints, credentials and skips.
    """
    override: dict[str, Any] = {}
    providers = stack.get("provider", {}).get("aws", [])
    if providers:
        settings = {
            **DUMMY_CREDENTIALS,
            **_SKIP_CHECKS,
            "s3_use_path_style": True,
            "endpoints": [{service: endpoint for service in EMULATED_SERVICES}],
        }
        override["provider"] = {
            "aws": [
                {**({"alias": p["alias"]} if "alias" in p else {}), **settings}
                for p in providers
            ]
        }
    backend = stack.get("terraform", {}).get("backend", {}).get("s3")
    if backend is not None:
        override["terraform"] = {"backend": {"s3": _emulated_s3_config(backend, endpoint)}}
    # Reads of another layer's state (cdktf's cross-stack references) must find it in the emulator too.
    remote_states = {
        name: {"config": _emulated_s3_config(block["config"], endpoint)}
        for name, block in stack.get("data", {}).get("terraform_remote_state", {}).items()
        if block.get("backend") == "s3"
    }
    if remote_states:
        override["data"] = {"terraform_remote_state": remote_states}
    return override


def _emulated_s3_config(config: Mapping[str, Any], endpoint: str) -> dict[str, Any]:
    """An S3 backend config (or a remote-state read of one) pointed at the emulator.

    Terraform replaces the whole backend block (and a data source's whole
    `config` argument) from an override, so every synthesized setting is kept.
    """
    return {
        **config,
        **DUMMY_CREDENTIALS,
        **_SKIP_CHECKS,
        "use_path_style": True,
        "endpoints": {service: endpoint for service in _BACKEND_SERVICES},
    }


def unprotect_override(stack: Mapping[str, Any]) -> dict[str, Any]:
    """An override lifting ``prevent_destroy`` from every resource that has it (empty when none does)."""
    lifted = {
        resource_type: {name: {"lifecycle": {"prevent_destroy": False}} for name in names}
        for resource_type, blocks in stack.get("resource", {}).items()
        if (names := sorted(name for name, block in blocks.items() if block.get("lifecycle", {}).get("prevent_destroy")))
    }
    return {"resource": lifted} if lifted else {}


def prepare_emulated_copy(stack_dir: Path, dest_dir: Path, endpoint: str) -> Path:
    """Copy a synthesized stack (with its assets) to dest_dir and add the override."""
    stack_dir, dest_dir = Path(stack_dir), Path(dest_dir)
    shutil.copytree(
        stack_dir,
        dest_dir,
        ignore=shutil.ignore_patterns(".terraform", "*.tfstate", "*.tfstate.backup", OVERRIDE_FILE, UNPROTECT_FILE),
        dirs_exist_ok=True,
    )
    override = emulator_override(read_stack(stack_dir), endpoint)
    (dest_dir / OVERRIDE_FILE).write_text(json.dumps(override, indent=2))
    return dest_dir


class ClientFactory:
    """boto3 clients bound to the emulator: `clients("ecs")`, `clients("s3", "eu-west-1")`."""

    def __init__(self, endpoint: str, region: str):
        self.endpoint = endpoint
        self.region = region
        self._session = boto3.session.Session(
            aws_access_key_id=DUMMY_CREDENTIALS["access_key"],
            aws_secret_access_key=DUMMY_CREDENTIALS["secret_key"],
        )
        self._clients: dict[tuple[str, str], BaseClient] = {}

    def __call__(self, service: str, region: str | None = None) -> BaseClient:
        key = (service, region or self.region)
        if key not in self._clients:
            self._clients[key] = self._session.client(
                service,
                region_name=key[1],
                endpoint_url=self.endpoint,
                config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
            )
        return self._clients[key]


def reset_emulator(endpoint: str) -> None:
    """Drop every resource moto holds, so one deployment cannot see another's."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=30):
        pass


def create_backend(endpoint: str, bucket: str, table: str | None, region: str) -> None:
    """Create the state bucket and the lock table (LockID hash key); idempotent."""
    clients = ClientFactory(endpoint, region)
    s3 = clients("s3")
    bucket_args: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        bucket_args["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**bucket_args)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    if table is None:
        return
    dynamodb = clients("dynamodb")
    try:
        dynamodb.create_table(
            TableName=table,
            AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    except dynamodb.exceptions.ResourceInUseException:
        pass


def create_github_oidc_provider(endpoint: str, region: str) -> None:
    """The account's GitHub OIDC provider, which a stack with a deploy role looks up; idempotent.

    A prerequisite like the backend: `python -m tools.bootstrap
    --create-oidc-provider` makes it once per account, with these values.
    """
    from tools.bootstrap import GITHUB_OIDC_CLIENT_ID, GITHUB_OIDC_HOST, GITHUB_OIDC_THUMBPRINT

    iam = ClientFactory(endpoint, region)("iam")
    try:
        iam.create_open_id_connect_provider(
            Url=f"https://{GITHUB_OIDC_HOST}", ClientIDList=[GITHUB_OIDC_CLIENT_ID], ThumbprintList=[GITHUB_OIDC_THUMBPRINT]
        )
    except iam.exceptions.EntityAlreadyExistsException:
        pass


def create_prerequisites(stack_dir: Path, endpoint: str) -> None:
    """What must exist before the stack's init and apply: its backend and, if it looks one up, the GitHub OIDC provider."""
    backend = read_backend(stack_dir)
    create_backend(endpoint, backend["bucket"], backend.get("dynamodb_table"), backend["region"])
    if "aws_iam_openid_connect_provider" in read_stack(stack_dir).get("data", {}):
        create_github_oidc_provider(endpoint, backend["region"])


def _default_region(stack: Mapping[str, Any], backend: Mapping[str, Any]) -> str:
    """Region of the default (unaliased) aws provider, else the backend's."""
    for provider in stack.get("provider", {}).get("aws", []):
        if "alias" not in provider and "region" in provider:
            return provider["region"]
    return backend["region"]


def _lift_dynamodb_table(clients: ClientFactory, table: dict[str, Any]) -> None:
    if table.get("deletion_protection_enabled"):
        clients("dynamodb").update_table(TableName=table["name"], DeletionProtectionEnabled=False)


# Resource type -> how to lift its deletion protection (given state attributes).
_DELETION_PROTECTION_LIFTERS = {
    "aws_dynamodb_table": _lift_dynamodb_table,
}


@dataclass
class DeployedStack:
    """A stack applied to the emulator; `clients` reach the same emulator."""

    name: str
    terraform: Terraform
    backend: dict[str, Any]
    clients: ClientFactory
    destroyed: bool = field(default=False, init=False)
    deploy_log: str = field(default="", init=False)

    @classmethod
    def of(cls, stack_dir: Path, terraform: Terraform, endpoint: str) -> "DeployedStack":
        """The synthesized stack at ``stack_dir``, deployed (or to be) by ``terraform`` to the emulator."""
        backend = read_backend(stack_dir)
        return cls(
            name=Path(stack_dir).name,
            terraform=terraform,
            backend=backend,
            clients=ClientFactory(endpoint, _default_region(read_stack(stack_dir), backend)),
        )

    def state(self) -> dict[str, Any]:
        """The state file as stored in the emulated backend bucket."""
        body = self.clients("s3", self.backend["region"]).get_object(
            Bucket=self.backend["bucket"], Key=self.backend["key"]
        )["Body"]
        return json.loads(body.read())

    def managed_resources(self, resource_type: str | None = None) -> list[dict[str, Any]]:
        """Attributes of every managed resource instance in the stored state."""
        return [
            instance["attributes"]
            for resource in self.state()["resources"]
            if resource["mode"] == "managed" and resource_type in (None, resource["type"])
            for instance in resource["instances"]
        ]

    def lock_table_items(self) -> list[dict[str, Any]]:
        table = self.backend["dynamodb_table"]
        return self.clients("dynamodb", self.backend["region"]).scan(TableName=table)["Items"]

    def lift_deletion_protection(self) -> None:
        """Turn off deletion protection, as an operator must before a teardown.

        Protection is intended (production tables have it) and would stop
        `terraform destroy` on AWS too; the destroy test checks everything else.
        """
        for resource_type, lift in _DELETION_PROTECTION_LIFTERS.items():
            for attributes in self.managed_resources(resource_type):
                lift(self.clients, attributes)

    def lift_prevent_destroy(self) -> None:
        """Let Terraform destroy what ``protect_data`` protects, in this copy only (see UNPROTECT_FILE)."""
        override = unprotect_override(read_stack(self.terraform.workdir))
        if override:
            (Path(self.terraform.workdir) / UNPROTECT_FILE).write_text(json.dumps(override, indent=2))

    def destroy(self, refresh: bool = False) -> str:
        """Destroy without a refresh by default: the plan just before read
        everything, and a refresh costs ~10 s per stack against the emulator."""
        self.lift_prevent_destroy()
        self.lift_deletion_protection()
        output = self.terraform.destroy(refresh=refresh)
        self.destroyed = True
        return output


@contextmanager
def deployed_stack(
    stack_dir: Path,
    work_dir: Path,
    endpoint: str,
    env: Mapping[str, str],
    reset: bool = True,
) -> Iterator[DeployedStack]:
    """Create the backend, init with it, apply; destroy on a clean exit.

    `reset` empties the emulator first so each deployment starts from zero.
    After a failure nothing is destroyed: the next reset (or the end of the
    session's emulator) cleans up, and the failure is not buried under
    destroy errors.
    """
    if reset:
        reset_emulator(endpoint)
    create_prerequisites(stack_dir, endpoint)
    workdir = prepare_emulated_copy(stack_dir, work_dir, endpoint)
    with ExitStack() as resources:
        if REATTACH_VAR in env:
            # A provider process of its own, started in the working directory
            # as terraform would start it: the provider opens relative paths
            # (a Lambda's `filename = "assets/.../archive.zip"`) from its own
            # cwd, and the shared process's cwd is wherever pytest runs.
            log = workdir.parent / f"{workdir.name}.provider.log"
            env = resources.enter_context(ProviderServer(env, log, cwd=workdir)).env
        stack = DeployedStack.of(stack_dir, Terraform(workdir, env), endpoint)
        stack.terraform.init(backend=True)
        stack.terraform.apply()
        yield stack
        if not stack.destroyed:
            stack.destroy()


@contextmanager
def deployed_environment(
    synth_dir: Path,
    environment: str,
    work_dir: Path,
    endpoint: str,
    env: Mapping[str, str],
    reset: bool = True,
) -> Iterator[dict[str, DeployedStack]]:
    """Apply every layer of ``environment`` in the manifest's order; destroy them in reverse on a clean exit.

    Yields stack name -> DeployedStack, in apply order. Each layer reads
    the layers below from their state in the emulator's bucket, as it would
    from S3 (the override points its remote-state reads there).
    """
    from tools.layers import apply_order, read_dependencies

    if reset:
        reset_emulator(endpoint)
    order = apply_order(read_dependencies(synth_dir), environment)
    with ExitStack() as layers:
        deployed: dict[str, DeployedStack] = {}
        for name in order:
            deployed[name] = layers.enter_context(deployed_stack(Path(synth_dir) / "stacks" / name, Path(work_dir) / name, endpoint, env, reset=False))
        yield deployed


CDKTF_CLI = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "cdktf"


@contextmanager
def cdktf_deployed_environment(
    synth_dir: Path,
    environment: str,
    work_dir: Path,
    endpoint: str,
    env: Mapping[str, str],
    reset: bool = True,
) -> Iterator[dict[str, DeployedStack]]:
    """``npx cdktf deploy '<environment>-*'`` of a copy of the synthesized output, as a user runs it.

    The copy's stacks get the emulator override; cdktf reads the manifest,
    runs init, plan and apply for each layer in dependency order, and the
    yielded stacks wrap the same folders for plans and the reverse-order
    destroy. Each terraform starts its own provider from the mirror (no
    reattach: the provider opens the Lambda's asset relative to its cwd).
    """
    from tools.layers import apply_order, read_dependencies

    if reset:
        reset_emulator(endpoint)
    output = Path(work_dir) / "cdktf.out"
    shutil.copytree(synth_dir, output)
    order = apply_order(read_dependencies(output), environment)
    for name in order:
        stack_dir = output / "stacks" / name
        create_prerequisites(stack_dir, endpoint)
        (stack_dir / OVERRIDE_FILE).write_text(json.dumps(emulator_override(read_stack(stack_dir), endpoint), indent=2))
    run_env = {key: value for key, value in env.items() if key != REATTACH_VAR}
    run_env.update(CHECKPOINT_DISABLE="1", CI="1", JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    result = subprocess.run(
        [str(CDKTF_CLI), "deploy", f"{environment}-*", "--skip-synth", "--auto-approve", "--skip-provider-lock",
         "--no-color", "--output", str(output)],
        cwd=Path(__file__).resolve().parents[2],
        env=run_env,
        capture_output=True,
        text=True,
        timeout=1500,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"cdktf deploy failed ({result.returncode}):\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}")
    deployed = {name: DeployedStack.of(output / "stacks" / name, Terraform(output / "stacks" / name, run_env), endpoint) for name in order}
    deployed_stacks = list(deployed.values())
    deployed_stacks[0].deploy_log = result.stdout
    yield deployed
    for stack in reversed(deployed_stacks):
        if not stack.destroyed:
            stack.destroy()
