"""Adopting the legacy HCL project's resources into the layer stacks, on the emulator with real terraform.

Each legacy project under tests/legacy/ is applied to moto by terraform (its
state in moto's S3 at the seed's prod/terraform.tfstate), pulled, and
adopted: ``python -m tools.adopt plan`` (matching, states, migration file,
the plan proof) and ``push`` run as an operator runs them, as subprocesses
reading only the standard AWS variables and their flags. One legacy apply per
fixture is shared by its assertions (the module's fixtures), to keep the
emulated suite short. The flat project is the critical path (legacy apply,
adopt plan, push, the five stacks applied); the refusals (on hand-edited
copies of the pulled flat state: no second apply; they stop at matching,
before any terraform) and the whole modular project (on a moto server and a
provider process of its own) run beside the flat stacks' applies, which
mostly wait on the provider's propagation delays.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.conftest import PROJECT_ROOT
from tests.harness.emulator import ClientFactory, prepare_emulated_copy, read_stack, reset_emulator
from tests.harness.legacy import LEGACY_BACKEND, apply_legacy, read_object
from tests.harness.moto_server import MotoServer
from tests.harness.terraform import REATTACH_VAR, ProviderServer, Terraform, terraform_env as make_terraform_env
from tools.adopt import HARMLESS_REPLACEMENTS, PROTECTED_TYPES

pytestmark = [pytest.mark.terraform, pytest.mark.emulated, pytest.mark.xdist_group("emulated-adopt")]

CONFIG = PROJECT_ROOT / "config" / "production.tfvars"
BUCKET, LEGACY_KEY, REGION = LEGACY_BACKEND["bucket"], LEGACY_BACKEND["key"], LEGACY_BACKEND["region"]
ORDER = ["production-network", "production-data", "production-edge", "production-services", "production-operations"]
TIMINGS: dict[str, float] = {}


def operator_env(terraform_env: dict[str, str], endpoint: str) -> dict[str, str]:
    """What an operator's shell holds: the standard AWS variables (here: the emulator's), nothing else.

    No override file and no backend flags: the provider and the S3 backend find the
    emulator through AWS_ENDPOINT_URL, as they would find AWS through a profile.
    """
    return {
        **without_reattach(terraform_env),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }


def adopt(env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "tools.adopt", *map(str, args)], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    TIMINGS[f"adopt {args[0]}"] = max(TIMINGS.get(f"adopt {args[0]}", 0.0), time.monotonic() - started)
    return proc


def plan_args(tmp: Path, legacy_state: Path, out: str, *extra: str, migrations: str = "migrations") -> list[str | Path]:
    return [
        "plan", "--config", CONFIG, "--legacy-state", legacy_state, "--out", tmp / out,
        "--migrations-dir", tmp / migrations, *extra,
    ]  # fmt: skip


class Adoption:
    """One legacy project applied to the emulator, and where its adoption writes."""

    def __init__(self, name: str, root: Path, endpoint: str, terraform_env: dict[str, str], operator: dict[str, str]):
        """``operator``: operator_env, reattached to a provider process started with exactly that environment
        (a harness speed-up: the provider reads the same variables it would read when terraform starts it)."""
        reset_emulator(endpoint)
        self.name, self.root, self.endpoint = name, root, endpoint
        self.terraform_env = terraform_env
        self.env = operator
        started = time.monotonic()
        apply_legacy(name, root / "legacy", endpoint, terraform_env)
        TIMINGS[f"legacy apply {name}"] = time.monotonic() - started
        self.legacy_bytes = read_object(endpoint, REGION, BUCKET, LEGACY_KEY)
        self.legacy_state = root / "legacy.tfstate"
        self.legacy_state.write_bytes(self.legacy_bytes)
        self.clients = ClientFactory(endpoint, REGION)

    @property
    def legacy(self) -> dict[str, Any]:
        return json.loads(self.legacy_bytes)

    def managed(self) -> list[tuple[str, dict[str, Any]]]:
        """(address, attributes) of every managed instance of the legacy state."""
        from tools.adopt import instance_address

        return [
            (instance_address(r, i), i["attributes"]) for r in self.legacy["resources"] if r["mode"] == "managed" for i in r["instances"]
        ]

    def migration(self) -> dict[str, Any]:
        return json.loads((self.root / "migrations" / "production.json").read_text())

    def synthesize_with_kept_values(self) -> Path:
        """The stacks as `python main.py` synthesizes them with this migration file (stacks/migrations.py)."""
        out = self.root / "synth"
        code = (
            "import sys; from pathlib import Path; from tools.adopt import synthesize; "
            "synthesize(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))"
        )
        subprocess.run(
            [sys.executable, "-c", code, str(CONFIG), str(out), str(self.root / "migrations")], cwd=PROJECT_ROOT, env=self.env, check=True, capture_output=True
        )
        return out


def plan_apply_replan(adoption: Adoption, synth: Path, stack: str) -> tuple[dict[str, Any], Any]:
    """Init a synthesized stack against the emulator, save its plan, apply exactly that plan, and plan again
    (with a refresh: what the emulator now reports). Returns (the plan's JSON, the plan after)."""
    workdir = prepare_emulated_copy(synth / "stacks" / stack, adoption.root / "apply" / stack, adoption.endpoint)
    with ExitStack() as resources:
        env = adoption.terraform_env
        if (workdir / "assets").is_dir() and REATTACH_VAR in env:
            # The provider opens a Lambda's asset (the edge's authorizer) relative to its own cwd,
            # so such a stack gets a provider process started in its working directory (as deployed_stack does).
            env = resources.enter_context(ProviderServer(env, workdir.parent / f"{stack}.provider.log", cwd=workdir)).env
        terraform = Terraform(workdir, env)
        terraform.init(backend=True)
        plan = terraform.plan_json()
        terraform.run("apply", "-input=false", f"-parallelism={terraform.parallelism}", "tfplan")
        return plan, terraform.plan()


def apply_adopted_stacks(adoption: Adoption, synth: Path) -> dict[str, tuple[dict[str, Any], Any]]:
    """Every stack, in apply order, synthesized with the kept values: plan, apply, plan again."""
    results = {}
    for stack in ORDER:
        started = time.monotonic()
        results[stack] = plan_apply_replan(adoption, synth, stack)
        TIMINGS[f"{adoption.name} {stack} plan, apply, plan"] = time.monotonic() - started
    return results


def assert_adopted_without_loss(out: Path, results: dict[str, tuple[dict[str, Any], Any]], migration: dict[str, Any]) -> dict[str, list[str]]:
    """No adopted instance (of any type) replaced or destroyed in the plans that were applied, except the
    harmless replacements the migration file lists; none created a second time; a clean plan after each apply.
    Returns the replacements seen, per stack."""
    assert list(results) == ORDER
    allowed = {(r["stack"], r["address"]) for r in migration["allowed_replacements"]}
    replaced: dict[str, list[str]] = {}
    for stack, (plan, after) in results.items():
        adopted = {f"{r['type']}.{r['name']}" for r in json.loads((out / f"{stack}.tfstate").read_text())["resources"]}
        for change in plan.get("resource_changes", ()):
            if change["address"] in adopted and "delete" in change["change"]["actions"]:
                replaced.setdefault(stack, []).append(change["address"])
                assert (stack, change["address"]) in allowed, f"{stack}: adopted {change['address']} {change['change']['actions']}"
                assert change["type"] in HARMLESS_REPLACEMENTS, change["address"]
        created = {c["address"] for c in plan.get("resource_changes", ()) if c["change"]["actions"] == ["create"]}
        assert not adopted & created, f"{stack}: adopted resources planned as new: {adopted & created}"
        assert not after.has_changes, f"{stack}: not clean after apply:\n{after.output[-4000:]}"
    return replaced


def without_reattach(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k != "TF_REATTACH_PROVIDERS"}


def run_beside(name: str, root: Path, terraform_env: dict[str, str]) -> dict[str, Any]:
    """One legacy project on a moto server and an aws provider process of its own (one provider
    process holds one configuration, so it cannot serve the flat project's terraform at the same time):
    legacy apply, adopt plan, the synthesis with its migration file, push, and every stack's
    plan, apply and plan after it. Its terraform has a CLI config of its own: concurrent `terraform init`s
    sharing one plugin cache race to create its folders ("mkdir ...: file exists")."""
    terraform_env = make_terraform_env(root / "terraform", terraform_env)
    with MotoServer(root / "moto") as server, ProviderServer(operator_env(terraform_env, server.endpoint), root / "provider.log") as provider:
        adoption = Adoption(name, root, server.endpoint, provider.env, provider.env)
        result: dict[str, Any] = {"adoption": adoption}
        result["plan"] = adopt(adoption.env, *plan_args(root, adoption.legacy_state, "out"))
        if result["plan"].returncode != 0:
            return result
        result["migration"] = adoption.migration()
        if name in CASCADES:  # a second plan of the same state, with a lower-layer replacement reviewed in
            result["cascade"] = adopt(adoption.env, *plan_args(root, adoption.legacy_state, "cascade", "--allow-replace", CASCADES[name], migrations="cascade-migrations"))
        result["synth"] = synth = adoption.synthesize_with_kept_values()
        result["push"] = adopt(adoption.env, "push", "--config", CONFIG, "--from", root / "out", "--legacy-key", LEGACY_KEY)
        if result["push"].returncode != 0:
            return result
        result["stacks"] = apply_adopted_stacks(adoption, synth)
        # What the tests read from the emulator after it stops: its groups, and the legacy state as pushed.
        result["groups"] = adoption.clients("ec2").describe_security_groups()["SecurityGroups"]
        result["remainder"] = json.loads(read_object(server.endpoint, REGION, BUCKET, LEGACY_KEY))
    return result


# The projects adopted beside the flat one, each on its own emulator (tests/legacy/<name>).
BESIDE_PROJECTS = ("modular", "inline", "renamed")
# A replacement in a lower layer, reviewed in with --allow-replace, whose new ARN the layers above read.
CASCADES = {"inline": "production-data:aws_service_discovery_service.api_discovery_service"}


class Beside:
    """The work that needs no more than the flat legacy state: the refusals (on copies of that one
    pulled state, hand-edited: no second apply) and the other legacy projects (each on a moto server
    and provider process of its own). It runs beside the flat stacks' applies, which mostly wait on the
    provider's propagation delays; started on first need, so each test can also start it."""

    def __init__(self, terraform_env: dict[str, str], root: Path):
        self.terraform_env, self.root = terraform_env, root
        self.pool = ThreadPoolExecutor(len(BESIDE_PROJECTS) + 3, thread_name_prefix="adopt-beside")
        self.futures: dict[str, Future[Any]] = {}

    def start(self, flat: Adoption) -> None:
        if self.futures:
            return
        state = flat.legacy
        (table,) = [r for r in state["resources"] if r["type"] == "aws_dynamodb_table" and r["name"] == "jobs"]
        table["instances"][0]["attributes"]["hash_key"] = "id"
        edited = flat.root / "key-schema.tfstate"
        edited.write_text(json.dumps(state))
        root = flat.root
        for name in BESIDE_PROJECTS:
            self.futures[name] = self.pool.submit(run_beside, name, self.root / name, self.terraform_env)
        self.futures["refused-key"] = self.pool.submit(
            adopt, flat.env, *plan_args(root, edited, "refused-key", "--retire", "aws_dynamodb_table.sessions", migrations="refused-key-migrations")
        )
        self.futures["refused-unmatched"] = self.pool.submit(
            adopt, flat.env, *plan_args(root, flat.legacy_state, "refused-unmatched", migrations="refused-unmatched-migrations")
        )
        self.futures["refused-retire"] = self.pool.submit(
            adopt, flat.env, *plan_args(
                root, flat.legacy_state, "refused-retire", "--retire", "aws_dynamodb_table.sessions", "--retire", "aws_dynamodb_table.jobs",
                "--retire", "aws_sqs_queue.gone", migrations="refused-retire-migrations",
            ),
        )  # fmt: skip

    def result(self, flat: Adoption, name: str) -> Any:
        self.start(flat)
        return self.futures[name].result()


@pytest.fixture(scope="module")
def flat(moto_endpoint: str, terraform_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Adoption]:
    """The flat project applied once, and its adopt plan."""
    root = tmp_path_factory.mktemp("adopt-flat")
    with ProviderServer(operator_env(terraform_env, moto_endpoint), root / "operator-provider.log") as operator:
        adoption = Adoption("flat", root, moto_endpoint, terraform_env, operator.env)
        adoption.plan = adopt(adoption.env, *plan_args(adoption.root, adoption.legacy_state, "out", "--retire", "aws_dynamodb_table.sessions"))
        yield adoption


@pytest.fixture(scope="module")
def beside(terraform_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Any:
    work = Beside(terraform_env, tmp_path_factory.mktemp("adopt-beside"))
    yield work
    work.pool.shutdown(wait=True, cancel_futures=True)


def test_flat_project_is_adopted_pushed_applied_and_rolled_back(flat: Adoption, beside: Beside) -> None:
    out = flat.root / "out"
    proc = flat.plan
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-6000:]
    report = proc.stdout
    assert "adopt plan: proved" in report
    migration = flat.migration()
    moves = {m["legacy"]: (m["stack"], m["address"]) for m in migration["moves"]}
    left = {entry["legacy"]: entry for entry in migration["left_in_legacy_state"]}

    # Matched by identity, never by address (no legacy name is the new one).
    assert moves["aws_vpc.main"] == ("production-network", "aws_vpc.network_vpc")
    assert moves["aws_subnet.private_b"] == ("production-network", "aws_subnet.network_private_1")
    assert moves["aws_route_table_association.public_a"] == ("production-network", "aws_route_table_association.network_public_0_routes")
    assert moves["aws_dynamodb_table.jobs"] == ("production-data", "aws_dynamodb_table.jobs_table")
    assert moves["aws_sqs_queue.jobs_dlq"] == ("production-data", "aws_sqs_queue.job_queue_dlq")
    assert moves["aws_ecr_repository.api"] == ("production-data", "aws_ecr_repository.api_repository")
    assert moves["aws_s3_bucket.frontend"] == ("production-data", "aws_s3_bucket.frontend_bucket")
    assert moves["aws_ecs_service.worker"] == ("production-services", "aws_ecs_service.worker_service")
    assert moves["aws_ecs_task_definition.api"] == ("production-services", "aws_ecs_task_definition.api_service_task_definition")
    # Production ships canary releases, but the legacy API service runs under ECS's own controller, which ECS can't
    # change in place: the design is matched as rolling, and the migration file keeps it so until the cutover.
    assert moves["aws_ecs_service.api"] == ("production-services", "aws_ecs_service.api_service")
    assert (migration["release"]["api_release_strategy"], migration["release"]["config"]) == ("rolling", "canary")
    # What running tasks use is adopted by that use, whatever its name: the tasks' group (shared by both services:
    # the API service is matched first) and the execution role its task definition names. Their names are kept.
    evidence = {m["legacy"]: m["evidence"] for m in migration["moves"]}
    assert moves["aws_security_group.ecs_tasks"] == ("production-network", "aws_security_group.api_tasks_security_group")
    assert list(evidence["aws_security_group.ecs_tasks"]) == ["network_configuration.0.security_groups of aws_ecs_service.api"]
    assert moves["aws_iam_role.ecs_task_execution"] == ("production-services", "aws_iam_role.ecs_execution_role")
    # The website configuration stays, with the command that drops it.
    for address in ("aws_s3_bucket_website_configuration.frontend", "aws_dynamodb_table.sessions"):
        assert left[address]["remove_once_reviewed"] == f"terraform state rm '{address}'"
    assert "retired" in left["aws_dynamodb_table.sessions"]["reason"]
    assert len(moves) + len(left) == len(flat.managed())
    # ForceNew differences on protected resources: the legacy values are kept.
    kept = {(k["address"], k["attribute"]): k["value"] for k in migration["kept"]}
    assert kept[("aws_ecr_repository.api_repository", "encryption_configuration")] == [{"encryption_type": "AES256", "kms_key": ""}]
    assert kept[("aws_security_group.api_tasks_security_group", "name")] == "circle-of-trust-ecs-tasks"
    assert kept[("aws_security_group.api_tasks_security_group", "description")] == "ECS tasks"
    # The task definitions are replaced (a new revision), the one harmless replacement here, with its reason.
    assert {(r["address"], r["reason"]) for r in migration["allowed_replacements"]} == {
        ("aws_ecs_task_definition.api_service_task_definition", HARMLESS_REPLACEMENTS["aws_ecs_task_definition"]),
        ("aws_ecs_task_definition.worker_service_task_definition", HARMLESS_REPLACEMENTS["aws_ecs_task_definition"]),
    }
    assert kept[("aws_ecs_service.api_service", "capacity_provider_strategy")] == []
    # Each says how to drop it later, as a planned replacement; the report says so too.
    for entry in migration["kept"]:
        if entry["attribute"] == "cluster":  # the same cluster by ARN, as the legacy project wrote it
            assert entry["value"] == f"arn:aws:ecs:us-east-1:123456789012:cluster/{entry['value'].rsplit('/', 1)[1]}"
            assert entry["to_drop"].startswith("nothing to drop: the legacy cluster is the design's, written as an ARN")
            continue
        assert entry["to_drop"].startswith(
            f"remove this entry from migrations/production.json; the next plan of {entry['stack']} then replaces {entry['address']} (forced by {entry['attribute']})"
        )
    assert "to drop it later: remove this entry from migrations/production.json" in report
    # In-place differences are shown, not hidden.
    assert re.search(r"update +aws_sqs_queue\.job_queue: .*visibility_timeout_seconds", report)

    # The states: format 4, one fresh lineage per stack, serial 1, the legacy instances under the new addresses.
    lineages = set()
    for stack in ORDER:
        state = json.loads((out / f"{stack}.tfstate").read_text())
        assert (state["version"], state["serial"]) == (4, 1)
        lineages.add(state["lineage"])
        for resource in state["resources"]:
            assert resource["provider"] == 'provider["registry.terraform.io/hashicorp/aws"]' and "module" not in resource
    assert len(lineages) == len(ORDER) and flat.legacy["lineage"] not in lineages
    remainder = json.loads((out / "legacy.tfstate").read_text())
    assert (remainder["lineage"], remainder["serial"]) == (flat.legacy["lineage"], flat.legacy["serial"] + 1)
    assert sorted(f"{r['type']}.{r['name']}" for r in remainder["resources"] if r["mode"] == "managed") == sorted(left)

    # Push: backups, then the states; a second push is refused.
    push = ["push", "--config", CONFIG, "--from", out, "--legacy-key", LEGACY_KEY]
    # The synthesis with the migration file needs nothing from the push: it runs meanwhile.
    synthesis = ThreadPoolExecutor(1)
    synthesized = synthesis.submit(flat.synthesize_with_kept_values)
    synthesis.shutdown(wait=False)
    proc = adopt(flat.env, *push)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    undo = [line.strip() for line in proc.stdout.split("To undo it", 1)[1].splitlines() if line.strip().startswith("aws ")]
    s3 = flat.clients("s3")
    stored = json.loads(s3.get_object(Bucket=BUCKET, Key=LEGACY_KEY)["Body"].read())
    assert sorted(f"{r['type']}.{r['name']}" for r in stored["resources"] if r["mode"] == "managed") == sorted(left)
    again = adopt(flat.env, *push)
    assert again.returncode == 1 and "already holds resources" in again.stderr, again.stdout + again.stderr

    # Every stack, in apply order, synthesized with the kept values: no protected resource replaced,
    # destroyed or created a second time; apply; a clean plan after it.
    synth = synthesized.result()
    beside.start(flat)  # the refusals and the modular project, while the applies below wait on the provider
    replaced = assert_adopted_without_loss(out, apply_adopted_stacks(flat, synth), migration)
    assert replaced == {"production-services": ["aws_ecs_task_definition.api_service_task_definition", "aws_ecs_task_definition.worker_service_task_definition"]}

    # Roll back: the printed commands restore the legacy state object exactly.
    restore_with(flat, undo)
    assert s3.get_object(Bucket=BUCKET, Key=LEGACY_KEY)["Body"].read() == flat.legacy_bytes
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert not any(key.startswith("production/") for key in keys), keys


def test_a_table_whose_key_schema_differs_is_refused_with_the_reason(flat: Adoption, beside: Beside) -> None:
    proc = beside.result(flat, "refused-key")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert re.search(r"REFUSED aws_dynamodb_table\.jobs -> production-data aws_dynamodb_table\.jobs_table: hash_key is 'id' .* 'job_id'", proc.stderr), proc.stderr
    assert "key schema" in proc.stderr
    assert not (flat.root / "refused-key").exists(), "a refused plan writes nothing"
    assert not (flat.root / "refused-key-migrations" / "production.json").exists()


def test_an_unmatched_legacy_table_is_refused_until_retired(flat: Adoption, beside: Beside) -> None:
    proc = beside.result(flat, "refused-unmatched")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "aws_dynamodb_table.sessions (aws_dynamodb_table, id circle-of-trust-sessions) matches no resource of the design" in proc.stderr
    assert "--retire aws_dynamodb_table.sessions" in proc.stderr
    assert not (flat.root / "refused-unmatched").exists()
    assert not (flat.root / "refused-unmatched-migrations" / "production.json").exists()
    # Retired, the same state is adopted: the flat plan (test_flat_project_...) passes --retire.


def test_the_proof_refuses_a_protected_resource_its_plan_would_create_a_second_time(flat: Adoption) -> None:
    """The plan-side check, on the proof's real plans: what they create clashes with nothing of this
    legacy state, and a legacy log group holding the name a plan creates (one the matching missed) is named."""
    from tools.adopt import LegacyInstance, created_twice, load_legacy

    assert flat.plan.returncode == 0, flat.plan.stdout[-3000:] + flat.plan.stderr[-3000:]
    _, legacy = load_legacy(flat.legacy_state)
    creates = []
    for stack in ORDER:
        plan = json.loads((flat.root / "out" / ".proof" / f"{stack}.plan.json").read_text())
        for change in plan["resource_changes"]:
            if change["change"]["actions"] == ["create"] and change["type"] in PROTECTED_TYPES:
                assert created_twice(stack, change["address"], change["type"], change["change"]["after"], legacy) == [], change["address"]
                creates.append((stack, change))
    stack, change = next((s, c) for s, c in creates if c["type"] == "aws_cloudwatch_log_group")
    name = change["change"]["after"]["name"]
    model = next(i for i in legacy if i.type == "aws_cloudwatch_log_group")
    team_made = LegacyInstance(
        "aws_cloudwatch_log_group.team_made", model.type, model.resource, {**model.instance, "attributes": {**model.attributes, "name": name}}
    )
    assert created_twice(stack, change["address"], change["type"], change["change"]["after"], [*legacy, team_made]) == [
        f"{stack} {change['address']} would be CREATED A SECOND TIME: legacy aws_cloudwatch_log_group.team_made has the same name ({name}); "
        "the apply would fail on a name that exists, or duplicate it"
    ]


def test_retiring_what_matches_or_what_the_state_lacks_is_refused(flat: Adoption, beside: Beside) -> None:
    proc = beside.result(flat, "refused-retire")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (
        "--retire aws_dynamodb_table.jobs: it matches production-data aws_dynamodb_table.jobs_table and would be moved, not retired" in proc.stderr
    ), proc.stderr
    assert "--retire aws_sqs_queue.gone: no managed instance of the legacy state has this address" in proc.stderr
    assert "aws_dynamodb_table.sessions" not in proc.stderr  # retired and unmatched: as asked
    assert not (flat.root / "refused-retire").exists()
    assert not (flat.root / "refused-retire-migrations" / "production.json").exists()


def restore_with(adoption: Adoption, commands: list[str]) -> None:
    """Run the `aws s3 cp/rm` and `aws dynamodb put-item/delete-item` lines push printed, with boto3."""
    s3, dynamodb = adoption.clients("s3"), adoption.clients("dynamodb")
    for command in commands:
        words = command.split(" ", 4)
        if words[1:3] == ["s3", "cp"]:
            source, target = (w.removeprefix("s3://").split("/", 1) for w in command.split()[3:5])
            s3.copy_object(Bucket=target[0], Key=target[1], CopySource={"Bucket": source[0], "Key": source[1]})
        elif words[1:3] == ["s3", "rm"]:
            bucket, key = command.split()[3].removeprefix("s3://").split("/", 1)
            s3.delete_object(Bucket=bucket, Key=key)
        elif words[1:3] == ["dynamodb", "put-item"]:
            table = command.split()[4]
            dynamodb.put_item(TableName=table, Item=json.loads(command.split("--item ", 1)[1].strip("'")))
        elif words[1:3] == ["dynamodb", "delete-item"]:
            table = command.split()[4]
            dynamodb.delete_item(TableName=table, Key=json.loads(command.split("--key ", 1)[1].strip("'")))
        else:
            raise AssertionError(f"unexpected undo command: {command}")


def test_modular_project_with_count_indexed_subnets_keeps_their_cidrs(flat: Adoption, beside: Beside) -> None:
    result = beside.result(flat, "modular")
    proc = result["plan"]
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-6000:]
    migration = result["migration"]
    moves = {m["legacy"]: (m["stack"], m["address"]) for m in migration["moves"]}
    left = {entry["legacy"] for entry in migration["left_in_legacy_state"]}
    assert moves["module.vpc.aws_vpc.this"] == ("production-network", "aws_vpc.network_vpc")
    assert moves["module.vpc.aws_subnet.private[0]"] == ("production-network", "aws_subnet.network_private_0")
    assert moves["module.vpc.aws_subnet.public[1]"] == ("production-network", "aws_subnet.network_public_1")
    assert moves['aws_dynamodb_table.tables["jobs"]'] == ("production-data", "aws_dynamodb_table.jobs_table")
    assert moves['aws_cloudwatch_log_group.ecs["worker"]'] == ("production-data", "aws_cloudwatch_log_group.worker_log_group")
    assert moves["aws_ecs_cluster.workers"] == ("production-services", "aws_ecs_cluster.worker_cluster")
    assert moves["aws_ecs_service.api"] == ("production-services", "aws_ecs_service.api_service")
    # The seed's edge comes along: a matched API brings its stage and integration, a service its scaling.
    assert moves["aws_apigatewayv2_api.main"] == ("production-edge", "aws_apigatewayv2_api.http_api")
    assert moves["aws_apigatewayv2_stage.default"] == ("production-edge", "aws_apigatewayv2_stage.http_api_stage")
    assert moves["aws_apigatewayv2_integration.api"] == ("production-edge", "aws_apigatewayv2_integration.http_api_integration")
    assert moves["aws_service_discovery_private_dns_namespace.main"] == ("production-data", "aws_service_discovery_private_dns_namespace.namespace")
    assert moves["aws_service_discovery_service.api"] == ("production-data", "aws_service_discovery_service.api_discovery_service")
    assert moves["aws_appautoscaling_target.api"] == ("production-services", "aws_appautoscaling_target.api_scaling_target")
    assert moves["aws_appautoscaling_policy.api_cpu"] == ("production-services", "aws_appautoscaling_policy.api_scaling_policy")
    assert moves["aws_appautoscaling_target.worker"] == ("production-services", "aws_appautoscaling_target.worker_scaling_target")
    evidence = {m["legacy"]: m["evidence"] for m in migration["moves"]}
    # The distribution users reach, by the bucket it serves; the WebSocket API the team named its own way, by protocol
    # (one API per protocol on each side), renamed in place: clients keep its URL.
    assert moves["aws_cloudfront_distribution.frontend"] == ("production-edge", "aws_cloudfront_distribution.frontend_distribution")
    assert evidence["aws_cloudfront_distribution.frontend"] == {"origin.0.domain_name": "circle-of-trust-frontend.s3.us-east-1.amazonaws.com"}
    assert moves["aws_apigatewayv2_api.websocket"] == ("production-edge", "aws_apigatewayv2_api.websocket_api")
    assert evidence["aws_apigatewayv2_api.websocket"] == {"protocol_type": "WEBSOCKET"}
    assert re.search(r"update +aws_apigatewayv2_api\.websocket_api: .*\bname\b", proc.stdout), proc.stdout[-4000:]
    # What the design names differently stays behind, unprotected: the design's own are created beside it.
    assert {"aws_apigatewayv2_route.proxy", "aws_apigatewayv2_stage.websocket"} <= left
    # What a matched resource uses comes along by that use, whatever its name: the VPC link its integration
    # names (and, through the link, its security group), the origin access control of the distribution.
    assert moves["aws_apigatewayv2_vpc_link.main"] == ("production-edge", "aws_apigatewayv2_vpc_link.http_api_vpc_link")
    assert moves["aws_security_group.vpc_link"] == ("production-network", "aws_security_group.api_vpc_link_security_group")
    assert moves["aws_cloudfront_origin_access_control.frontend"] == ("production-edge", "aws_cloudfront_origin_access_control.frontend_origin_access_control")
    # The seed's EventBridge updater is off in the new production design: it stays in the legacy state.
    assert {"aws_lambda_function.ecs_updater", "aws_iam_role.lambda_ecs_updater", "aws_cloudwatch_event_rule.ecr_push", "aws_cloudwatch_event_target.lambda_updater"} <= left
    kept = {(k["address"], k["attribute"]): k["value"] for k in migration["kept"]}
    assert kept[("aws_subnet.network_private_0", "cidr_block")] == "10.0.1.0/24"
    assert kept[("aws_subnet.network_public_1", "cidr_block")] == "10.0.102.0/24"
    # The worker service already runs on capacity providers: nothing to keep there.
    assert ("aws_ecs_service.worker_service", "capacity_provider_strategy") not in kept
    # A plain synthesis with this migration file carries the kept CIDRs.
    subnets = read_stack(result["synth"] / "stacks" / "production-network")["resource"]["aws_subnet"]
    assert subnets["network_private_1"]["cidr_block"] == "10.0.2.0/24"

    proc = result["push"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert_adopted_without_loss(result["adoption"].root / "out", result["stacks"], migration)
    print("timings:", json.dumps({k: round(v) for k, v in TIMINGS.items()}))


def moved_and_kept(migration: dict[str, Any]) -> tuple[dict[str, tuple[str, str]], dict[tuple[str, str], Any], dict[str, dict[str, Any]]]:
    moves = {m["legacy"]: (m["stack"], m["address"]) for m in migration["moves"]}
    kept = {(k["address"], k["attribute"]): k["value"] for k in migration["kept"]}
    evidence = {m["legacy"]: m["evidence"] for m in migration["moves"]}
    return moves, kept, evidence


def test_inline_project_keeps_defaulted_descriptions_and_imports_its_inline_rules(flat: Adoption, beside: Beside) -> None:
    """Groups with the design's names, inline rules and no description; a Cloud Map service without a
    custom health check; roles under a path; its own task families; the public route inside its table."""
    result = beside.result(flat, "inline")
    proc = result["plan"]
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-6000:]
    migration = result["migration"]
    moves, kept, _ = moved_and_kept(migration)
    groups = ("api_tasks", "worker_tasks", "network_endpoints", "api_vpc_link")
    assert moves['aws_subnet.private["us-east-1b"]'] == ("production-network", "aws_subnet.network_private_1")
    assert moves["aws_security_group.vpc_endpoints"] == ("production-network", "aws_security_group.network_endpoints_security_group")
    # What forces the replacement of a group in use, a Cloud Map service with instances, a role is kept as it is.
    for group in groups:
        assert kept[(f"aws_security_group.{group}_security_group", "description")] == "Managed by Terraform"
    assert kept[("aws_service_discovery_service.api_discovery_service", "health_check_custom_config")] == []
    for role in ("api_task_role", "worker_task_role", "ecs_execution_role"):
        assert kept[(f"aws_iam_role.{role}", "path")] == "/service/"
    # Only the harmless types are replaced: the team's task families become the design's, its lifecycle rules too.
    assert {(r["address"], tuple(r["forced_by"])) for r in migration["allowed_replacements"]} == {
        ("aws_ecr_lifecycle_policy.api_repository_lifecycle_policy", ("policy",)),
        ("aws_ecr_lifecycle_policy.worker_repository_lifecycle_policy", ("policy",)),
        ("aws_ecs_task_definition.api_service_task_definition", ("container_definitions", "family", "runtime_platform", "volume")),
        ("aws_ecs_task_definition.worker_service_task_definition", ("container_definitions", "family", "runtime_platform", "volume")),
    }
    # Inline rules and the inline route are imported into the design's resources, not created again (duplicates fail on AWS).
    imported = {entry["address"]: entry["id"] for entry in migration["imported"]}
    assert set(imported) == {
        "aws_route.network_public_default_route",
        "aws_vpc_security_group_ingress_rule.api_tasks_security_group_from_api_vpc_link_security_group_8080",
        "aws_vpc_security_group_ingress_rule.network_endpoints_https_ingress",
    }
    assert imported["aws_route.network_public_default_route"].startswith("r-rtb-")
    # The team's wider egress stays in place (nothing revoked under running tasks), each with its revoke command.
    loose = migration["rules_left_in_place"]
    assert len(loose) == 3 and all(r["revoke_once_reviewed"].startswith("aws ec2 revoke-security-group-egress --group-id sg-") for r in loose)
    assert "SUMMARY per layer" in proc.stdout and "allowed replacements" in proc.stdout
    # The proof follows the apply order: a Cloud Map service the data layer would replace (reviewed in) shows, in the
    # services layer's proof, as the change it causes to the API's service, which holds its ARN.
    cascade = result["cascade"]
    assert re.search(
        r"because +aws_ecs_service\.api_service: service_registries <- production-data aws_service_discovery_service\.api_discovery_service \(replaced\)",
        cascade.stdout,
    ), cascade.stdout[-4000:] + cascade.stderr[-2000:]
    assert "production-data aws_service_discovery_service.api_discovery_service (legacy aws_service_discovery_service.api, forced by health_check_custom_config): --allow-replace" in cascade.stdout

    assert result["push"].returncode == 0, result["push"].stdout + result["push"].stderr
    replaced = assert_adopted_without_loss(result["adoption"].root / "out", result["stacks"], migration)
    assert sorted(a for addresses in replaced.values() for a in addresses) == sorted(r["address"] for r in migration["allowed_replacements"])
    # The groups running tasks use are the legacy ones, under the design's addresses.
    (group,) = [g for g in result["groups"] if g["GroupName"] == "circle-of-trust-api-tasks"]
    legacy_ids = {a["id"] for address, a in result["adoption"].managed() if address == "aws_security_group.api_tasks"}
    assert {group["GroupId"]} == legacy_ids


def test_renamed_project_is_matched_by_use_and_keeps_its_names(flat: Adoption, beside: Beside) -> None:
    """Groups, roles and a namespace named the team's way, told apart only by tags and what uses them; rules of
    both resource styles; a WebSocket target group whose health check conflicts with the design's."""
    result = beside.result(flat, "renamed")
    proc = result["plan"]
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-6000:]
    migration = result["migration"]
    moves, kept, evidence = moved_and_kept(migration)
    used_by = {
        "module.network.aws_security_group.api": ("api_tasks_security_group", "network_configuration.0.security_groups of aws_ecs_service.api"),
        "module.network.aws_security_group.worker": ("worker_tasks_security_group", "network_configuration.0.security_groups of aws_ecs_service.worker"),
        "module.network.aws_security_group.ws_nlb": ("websocket_nlb_security_group", "security_groups of aws_lb.ws"),
        "aws_service_discovery_service.api": ("api_discovery_service", "service_registries.0.registry_arn of aws_ecs_service.api"),
        "aws_iam_role.execution": ("ecs_execution_role", "execution_role_arn of aws_ecs_task_definition.api"),
    }
    for legacy_address, (name, use) in used_by.items():
        assert moves[legacy_address][1].endswith(f".{name}"), (legacy_address, moves.get(legacy_address))
        assert list(evidence[legacy_address]) == [use]
    assert kept[("aws_security_group.api_tasks_security_group", "name")] == "cot-prod-api-sg"
    assert kept[("aws_iam_role.ecs_execution_role", "name")] == "cot-prod-task-execution"
    assert kept[("aws_service_discovery_private_dns_namespace.namespace", "name")] == "cot.internal"
    # The design's TCP health check cannot be planned over the team's HTTP one (the provider refuses the stored
    # matcher): the plan's error named the attribute, and the legacy block is kept.
    health = kept[("aws_lb_target_group.websocket_api_target_group", "health_check")]
    assert health[0]["protocol"] == "HTTP" and health[0]["path"] == "/health"
    # The endpoints' old-style rule is taken over by the design's rule resource, and leaves the legacy state.
    (rule,) = [e for e in migration["imported"] if e["address"] == "aws_vpc_security_group_ingress_rule.network_endpoints_https_ingress"]
    taken_over = rule["evidence"]["legacy"]
    assert taken_over.startswith("module.network.aws_security_group_rule.")
    assert taken_over not in {e["legacy"] for e in migration["left_in_legacy_state"]}
    assert {r["address"] for r in migration["allowed_replacements"]} == {
        "aws_ecr_lifecycle_policy.api_repository_lifecycle_policy",
        "aws_ecr_lifecycle_policy.worker_repository_lifecycle_policy",
        "aws_ecs_task_definition.api_service_task_definition",
        "aws_ecs_task_definition.worker_service_task_definition",
    }

    assert result["push"].returncode == 0, result["push"].stdout + result["push"].stderr
    assert_adopted_without_loss(result["adoption"].root / "out", result["stacks"], migration)
    assert taken_over not in {f"{r['module']}.{r['type']}.{r['name']}" for r in result["remainder"]["resources"] if r.get("module")}
    print("timings:", json.dumps({k: round(v) for k, v in TIMINGS.items()}))
