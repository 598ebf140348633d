"""The GitHub Actions workflows: valid for GitHub, and consistent with the stacks, the tools and the README.

* Every workflow (and the shared composite action) validates against the
  schema check-jsonschema ships (its vendored copy: the run has no network).
* Every `terraform output -raw <name>` a workflow reads is an output of every
  stack it can deploy to (the reusable backend deploy's names rendered for
  each service), every secret it uses is listed in the README's "GitHub
  secrets", and every tools.ecs_deploy command parses with the tool's own
  argument parser.
* The two backend deploys are one reusable workflow; every deploy job fails at
  once, naming github_repository in config/<environment>.tfvars, where the
  stack has no deploy role.
* Third-party actions are pinned, and jobs that assume a role may ask for an
  OIDC token.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib import resources as package_resources
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from stacks.config import load_configs
from tools.ecs_deploy import parse_args

PROJECT = Path(__file__).resolve().parents[1]
WORKFLOWS_DIR = PROJECT / ".github" / "workflows"
WORKFLOWS = sorted(WORKFLOWS_DIR.glob("*.yml"))
ACTIONS = sorted((PROJECT / ".github" / "actions").glob("*/action.yml"))
DEPLOY_WORKFLOWS = ("deploy-backend-api.yml", "deploy-backend-worker.yml", "deploy-frontend.yml")
BACKEND_CALLERS = {"deploy-backend-api.yml": "api", "deploy-backend-worker.yml": "worker"}
BACKEND = "deploy-backend.yml"
OUTPUT_READ = re.compile(r'terraform output -raw "?([A-Za-z0-9_${}]+)"?')
# Read by every deploy job, but an output only of the stacks that make a deploy role
# (github_repository set) until every stack outputs it (an empty string where there is
# no role); the jobs treat missing and empty alike: no deploy role, stop.
ROLE_OUTPUT = "github_actions_role_arn"
# The API's CodeDeploy names (issue #20: empty strings with the rolling strategy), read only for the api.
CODEDEPLOY_OUTPUTS = {"api_codedeploy_application_name", "api_codedeploy_deployment_group_name"}
SERVICE_GUARD = re.compile(r'^\s*if \[ "\$SERVICE" = (\w+) \]; then\n(.*?)^\s*fi\n', re.MULTILINE | re.DOTALL)
SECRET_USE = re.compile(r"secrets\.([A-Za-z0-9_]+)")
SECRETS_SECTION = re.compile(r"^## GitHub secrets\n(.*?)(?=^## |\Z)", re.MULTILINE | re.DOTALL)
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$")
# A proxy that refuses every connection: a schema download would fail the run.
NO_NETWORK = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9", "NO_PROXY": ""}


def load(path: Path) -> dict:
    # YAML 1.2 (ruamel): `on:` stays the string "on", as GitHub reads it.
    return YAML(typ="safe").load(path.read_text())


def run_scripts(document: dict) -> list[str]:
    steps = [step for job in document.get("jobs", {}).values() for step in job.get("steps", [])]
    steps += document.get("runs", {}).get("steps", [])
    return [step["run"] for step in steps if "run" in step]


def uses(document: dict) -> list[str]:
    steps = [step for job in document.get("jobs", {}).values() for step in job.get("steps", [])]
    steps += document.get("runs", {}).get("steps", [])
    return [step["uses"] for step in steps if "uses" in step]


@pytest.fixture(scope="module")
def stack_outputs(synth_dir: Path) -> dict[str, set[str]]:
    return {
        stack.name: set(json.loads((stack / "cdk.tf.json").read_text()).get("output", {}))
        for stack in sorted((synth_dir / "stacks").iterdir())
    }


def backend_job() -> dict:
    (job,) = load(WORKFLOWS_DIR / BACKEND)["jobs"].values()
    return job


def rendered(script: str, service: str) -> str:
    """A script of the reusable backend deploy as it runs for ``service`` (its `if [ "$SERVICE" = other ]` blocks left out)."""
    script = SERVICE_GUARD.sub(lambda match: match.group(2) if match.group(1) == service else "", script)
    return script.replace("${SERVICE}", service).replace("$SERVICE", service)


def test_the_shipped_workflows_are_there():
    assert [path.name for path in WORKFLOWS] == [
        "deploy-backend-api.yml", "deploy-backend-worker.yml", "deploy-backend.yml", "deploy-frontend.yml", "infrastructure.yml"
    ]
    assert [path.parent.name for path in ACTIONS] == ["require-deploy-role", "setup"]


# -- GitHub's schema, offline -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("schema", "files"),
    [("vendor.github-workflows", WORKFLOWS), ("vendor.github-actions", ACTIONS)],
    ids=["workflows", "composite-action"],
)
def test_files_validate_against_the_vendored_github_schema(schema, files):
    vendored = package_resources.files("check_jsonschema.builtin_schemas.vendor") / f"{schema.split('.', 1)[1]}.json"
    assert vendored.is_file(), f"check-jsonschema ships no {vendored.name}"
    proc = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        env={**os.environ, **NO_NETWORK},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok -- validation done" in proc.stdout


# -- consistency with the stacks ------------------------------------------------------------------
def test_deploy_workflows_can_target_exactly_the_configured_environments():
    environments = sorted(config.environment for config in load_configs(sorted((PROJECT / "config").glob("*.tfvars"))))
    for name in DEPLOY_WORKFLOWS:
        dispatch = load(WORKFLOWS_DIR / name)["on"]["workflow_dispatch"]["inputs"]["environment"]
        assert sorted(dispatch["options"]) == environments, name
        assert dispatch["default"] == "staging"


def test_every_output_a_workflow_reads_is_an_output_of_every_services_layer(stack_outputs):
    """The deploy workflows read one state per environment: its services layer's, which outputs all they need."""
    configs = {config.environment: config for config in load_configs(sorted((PROJECT / "config").glob("*.tfvars")))}
    read = {}
    for path in WORKFLOWS:
        scripts = run_scripts(load(path))
        if path.name == BACKEND:
            for caller, service in BACKEND_CALLERS.items():
                read[caller] = {name for script in scripts for name in OUTPUT_READ.findall(rendered(script, service))}
            continue
        read[path.name] = {name for script in scripts for name in OUTPUT_READ.findall(script)}
    assert configs
    services_layers = [f"{environment}-services" for environment in configs]
    for name, names in read.items():
        for stack in services_layers:
            missing = names - stack_outputs[stack]
            assert not missing, f"{name} reads {sorted(missing)}, not outputs of the {stack} stack"
    assert read["deploy-backend-api.yml"] == {
        "ecr_api_repository_url", "api_cluster_name", "api_service_name", "deploys_on_push", ROLE_OUTPUT, *CODEDEPLOY_OUTPUTS
    }
    assert read["deploy-backend-worker.yml"] == {"ecr_worker_repository_url", "worker_cluster_name", "worker_service_name", "deploys_on_push", ROLE_OUTPUT}
    assert read["deploy-frontend.yml"] == {"frontend_bucket_name", "cloudfront_distribution_id", "api_gateway_url", "websocket_gateway_url", ROLE_OUTPUT}


def test_the_backend_deploys_are_one_reusable_workflow_called_per_service():
    called = load(WORKFLOWS_DIR / BACKEND)["on"]
    assert set(called) == {"workflow_call"}
    assert set(called["workflow_call"]["inputs"]) == {"service", "environment", "stack"}
    for caller, service in BACKEND_CALLERS.items():
        workflow = load(WORKFLOWS_DIR / caller)
        (job,) = workflow["jobs"].values()
        assert job["uses"] == f"./.github/workflows/{BACKEND}", caller
        assert job["with"] == {"service": service, "environment": "${{ inputs.environment || 'staging' }}"}, caller
        assert job["secrets"] == "inherit", caller
        # The callers keep their triggers: their own folder, and the shared job.
        assert workflow["on"]["push"]["paths"] == [f"backend/{service}/**", f".github/workflows/{caller}", f".github/workflows/{BACKEND}"]
        assert workflow["concurrency"]["group"] == f"deploy-backend-{service}-${{{{ inputs.environment || 'staging' }}}}"
    job = backend_job()
    assert job["env"]["BUILD_CONTEXT"] == "backend/${{ inputs.service }}"
    # One place names the stack the outputs come from (the services layer's, once the stacks are split).
    assert job["env"]["OUTPUTS_STACK"] == "${{ inputs.stack || format('{0}-services', inputs.environment) }}"
    (setup,) = [step for step in job["steps"] if step.get("uses") == "./.github/actions/setup"]
    assert setup["with"] == {"stack": "${{ env.OUTPUTS_STACK }}"}
    assert sum("OUTPUTS_STACK" in json.dumps(step) for step in job["steps"]) == 1


def test_the_reusable_deploy_refuses_a_service_it_does_not_know():
    (check,) = [step for step in backend_job()["steps"] if step.get("name") == "Check the service"]
    for service, status in (("api", 0), ("worker", 0), ("frontend", 1), ("", 1)):
        proc = subprocess.run(["bash", "-e", "-c", check["run"]], env={**os.environ, "SERVICE": service}, capture_output=True, text=True)
        assert proc.returncode == status, (service, proc.stdout)
    assert backend_job()["steps"].index(check) == 0


@pytest.mark.parametrize("name", [BACKEND, "deploy-frontend.yml"])
def test_deploy_jobs_stop_at_once_without_a_deploy_role(name):
    """Before assuming it (the secret) and once the outputs are read (github_actions_role_arn)."""
    (job,) = load(WORKFLOWS_DIR / name)["jobs"].values()
    steps = job["steps"]
    uses = [step.get("uses", "") for step in steps]
    checks = [index for index, step in enumerate(steps) if step.get("uses") == "./.github/actions/require-deploy-role"]
    assert len(checks) == 2, name
    credentials = next(index for index, action in enumerate(uses) if action.startswith("aws-actions/configure-aws-credentials@"))
    reads = next(index for index, step in enumerate(steps) if "terraform output" in step.get("run", ""))
    assert checks[0] < credentials < reads < checks[1], name
    assert steps[checks[0]]["with"]["role-arn"] == "${{ secrets.AWS_ROLE_TO_ASSUME }}"
    assert steps[checks[1]]["with"]["role-arn"] == "${{ env.DEPLOY_ROLE_ARN }}"
    # Every services layer outputs it (empty without a role): an error reading it is a real error.
    assert 'echo "DEPLOY_ROLE_ARN=$(terraform output -raw github_actions_role_arn)"' in steps[reads]["run"]
    assert all(not step.get("continue-on-error") for step in steps), name


@pytest.mark.parametrize(("role", "status"), [("", 1), ("arn:aws:iam::123456789012:role/cot-staging-github-actions", 0)])
def test_the_deploy_role_check_names_the_config_key_to_set(role, status):
    (action,) = [path for path in ACTIONS if path.parent.name == "require-deploy-role"]
    (step,) = load(action)["runs"]["steps"]
    env = {**os.environ, "ROLE_ARN": role, "ENVIRONMENT": "production", "SOURCE": "The stack's github_actions_role_arn output"}
    proc = subprocess.run(["bash", "-e", "-c", step["run"]], env=env, capture_output=True, text=True)
    assert proc.returncode == status, proc.stdout + proc.stderr
    if status:
        assert proc.stdout.startswith("::error title=No deploy role for production::"), proc.stdout
        assert "Set github_repository in config/production.tfvars" in proc.stdout
    assert set(step["env"]) == {"ROLE_ARN", "ENVIRONMENT", "SOURCE"}, "inputs reach the script as environment variables, not as ${{ }} in it"


def test_backend_deploy_steps_stand_aside_where_pushes_deploy_themselves():
    """With the ECR-push updater (deploys_on_push), the updater deploys the pushed tag; a CI deploy
    as well would register a second revision of the same image."""
    job = backend_job()
    reads = [step for step in job["steps"] if "terraform output" in step.get("run", "")]
    assert len(reads) == 1 and 'echo "DEPLOYS_ON_PUSH=$(terraform output -raw deploys_on_push)"' in reads[0]["run"]
    deploys = [step for step in job["steps"] if "tools.ecs_deploy deploy" in step.get("run", "")]
    # A re-run finds the image pushed already: no push event, so the job deploys itself.
    assert [step.get("if") for step in deploys] == ["env.DEPLOYS_ON_PUSH != 'true' || env.PUSHED_NOW != 'true'"]
    assert [step.get("if") for step in job["steps"] if "updater" in step.get("name", "").lower()] == [
        "env.DEPLOYS_ON_PUSH == 'true' && env.PUSHED_NOW == 'true'"
    ]
    (build,) = [step for step in job["steps"] if "docker push" in step.get("run", "")]
    assert "if" not in build, "the image is built and pushed either way"
    push = build["run"].split("else", 1)[1]
    assert push.index("docker push") < push.index('echo "PUSHED_NOW=true" >> "$GITHUB_ENV"'), "only a push made now sets PUSHED_NOW"


def test_deploy_jobs_name_the_github_environment_the_deploy_role_trusts():
    """The jobs run in the GitHub environment named after the stack, so a stack with a
    deploy role must trust that environment's sub claim (github_environment)."""
    (frontend,) = load(WORKFLOWS_DIR / "deploy-frontend.yml")["jobs"].values()
    assert frontend["environment"] == "${{ inputs.environment || 'staging' }}"
    # The backend callers pass the same expression as the environment input, which names the job's environment.
    for name in BACKEND_CALLERS:
        (job,) = load(WORKFLOWS_DIR / name)["jobs"].values()
        assert job["with"]["environment"] == "${{ inputs.environment || 'staging' }}", name
    assert backend_job()["environment"] == "${{ inputs.environment }}"
    for config in load_configs(sorted((PROJECT / "config").glob("*.tfvars"))):
        if config.github_repository:
            assert config.github_environment == config.environment, config.environment


def test_no_workflow_names_a_resource_itself():
    """Names come from the outputs; no second copy of a prefix, bucket, cluster or repository name."""
    configs = load_configs(sorted((PROJECT / "config").glob("*.tfvars")))
    names = {config.resource_prefix for config in configs} | {config.s3_frontend_bucket for config in configs} | {"api-service", "worker-service"}
    for path in [*WORKFLOWS, *ACTIONS]:
        text = path.read_text()
        for name in names:
            assert name not in text, f"{path.name} names {name!r}"


# -- tools, secrets, actions, permissions ---------------------------------------------------------------
SHA = "0123456789abcdef0123456789abcdef01234567"
DEPLOY_ENV = {"CLUSTER": "CLUSTER", "SERVICE_NAME": "SERVICE_NAME", "REPOSITORY_URL": "REPOSITORY_URL", "AWS_REGION": "us-east-1"}


def run_deploy_command(script: str, tmp_path: Path, **env: str) -> list[str]:
    """Run a deploy step's script with bash -e (GitHub's default shell), ``.venv/bin/python`` a stub: the arguments it got."""
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True, exist_ok=True)
    python.write_text('#!/usr/bin/env bash\nprintf "%s\\0" "$@" > "$ARGS_FILE"\n')
    python.chmod(0o755)
    args_file = tmp_path / "args"
    environment = {**os.environ, **DEPLOY_ENV, **env, "ARGS_FILE": str(args_file)}
    proc = subprocess.run(["bash", "-e", "-c", script.replace("${{ github.sha }}", SHA)], cwd=tmp_path, env=environment, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return args_file.read_text().split("\0")[:-1]


def test_every_ecs_deploy_command_parses_with_the_tools_parser(tmp_path):
    commands = [
        script
        for name in [path.name for path in WORKFLOWS]
        for script in run_scripts(load(WORKFLOWS_DIR / name))
        if "tools.ecs_deploy" in script
    ]
    assert len(commands) == 1
    for command in commands:
        words = run_deploy_command(command, tmp_path)
        assert words[:2] == ["-m", "tools.ecs_deploy"]
        args = parse_args(words[2:])
        assert (args.command, args.wait) == ("deploy", True)
        assert (args.cluster, args.service, args.region) == ("CLUSTER", "SERVICE_NAME", "us-east-1")
        assert args.image == f"REPOSITORY_URL:{SHA}"


@pytest.mark.parametrize(
    ("application", "group", "expected"),
    [
        ("", "", (None, None)),
        ("cot-staging-api", "cot-staging-api", ("cot-staging-api", "cot-staging-api")),
        ("cot-staging-api", "", ("cot-staging-api", None)),  # the tool then names the missing flag
    ],
    ids=["rolling", "canary", "half"],
)
def test_the_deploy_passes_the_codedeploy_names_only_when_the_outputs_are_non_empty(tmp_path, application, group, expected):
    (deploy,) = [step for step in backend_job()["steps"] if "tools.ecs_deploy deploy" in step.get("run", "")]
    words = run_deploy_command(deploy["run"], tmp_path, CODEDEPLOY_APPLICATION=application, CODEDEPLOY_GROUP=group)
    args = parse_args(words[2:])
    assert (args.codedeploy_application, args.codedeploy_group) == expected
    assert ("--codedeploy-application" in words, "--codedeploy-group" in words) == (bool(application), bool(group))


def test_the_codedeploy_outputs_are_read_for_the_api_only():
    (reads,) = [step for step in backend_job()["steps"] if "terraform output" in step.get("run", "")]
    api, worker = rendered(reads["run"], "api"), rendered(reads["run"], "worker")
    assert set(OUTPUT_READ.findall(api)) & CODEDEPLOY_OUTPUTS == CODEDEPLOY_OUTPUTS
    assert not set(OUTPUT_READ.findall(worker)) & CODEDEPLOY_OUTPUTS
    assert 'echo "CODEDEPLOY_APPLICATION=$(terraform output -raw api_codedeploy_application_name)"' in api
    assert 'echo "CODEDEPLOY_GROUP=$(terraform output -raw api_codedeploy_deployment_group_name)"' in api


def test_images_are_tagged_with_the_commit_sha():
    assert backend_job()["env"]["IMAGE_TAG"] == "${{ github.sha }}"
    push = next(script for script in run_scripts(load(WORKFLOWS_DIR / BACKEND)) if "docker push" in script)
    assert 'docker push "$REPOSITORY_URL:$IMAGE_TAG"' in push


def test_a_failed_or_rolled_back_deployment_fails_the_job():
    """`deploy --wait` exits 1 then; nothing may swallow that exit status."""
    (deploy,) = [step for step in backend_job()["steps"] if "tools.ecs_deploy deploy" in step.get("run", "")]
    assert "--wait" in deploy["run"].split()
    assert not deploy.get("continue-on-error")
    assert not re.search(r"\|\||;\s*true|set \+e|\|\s*tee", deploy["run"]), deploy["run"]


def test_every_secret_used_is_listed_in_the_readme_and_every_listed_one_is_used():
    section = SECRETS_SECTION.search((PROJECT / "README.md").read_text())
    assert section, "README.md needs a '## GitHub secrets' section"
    listed = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", section.group(1), re.MULTILINE))
    used = {secret for path in [*WORKFLOWS, *ACTIONS] for secret in SECRET_USE.findall(path.read_text())}
    assert used == listed, f"used but not listed: {sorted(used - listed)}; listed but not used: {sorted(listed - used)}"
    assert "AWS_ROLE_TO_ASSUME" in used


def test_third_party_actions_are_pinned_to_a_version():
    for path in [*WORKFLOWS, *ACTIONS]:
        for action in uses(load(path)):
            assert action.startswith("./") or PINNED.match(action), f"{path.name}: {action} is not pinned"


def test_jobs_that_assume_a_role_may_request_an_oidc_token_and_nothing_more():
    for path in WORKFLOWS:
        workflow = load(path)
        for job_id, job in workflow["jobs"].items():
            if not any(action.startswith("aws-actions/configure-aws-credentials@") for action in uses({"jobs": {job_id: job}})):
                continue
            permissions = job.get("permissions", workflow.get("permissions"))
            assert permissions == {"id-token": "write", "contents": "read"}, f"{path.name}:{job_id}"


def test_terraform_output_is_read_without_the_setup_terraform_wrapper():
    (setup,) = [path for path in ACTIONS if path.parent.name == "setup"]
    terraform = next(step for step in load(setup)["runs"]["steps"] if step.get("uses", "").startswith("hashicorp/setup-terraform@"))
    assert terraform["with"]["terraform_wrapper"] is False


def test_infrastructure_applies_each_layer_in_the_manifests_order_behind_the_plan_guard():
    """Order from tools.layers (never a second hard-coded list); every plan is guarded before it is applied."""
    document = load(WORKFLOWS_DIR / "infrastructure.yml")
    jobs = document["jobs"]
    assert set(jobs) == {"checks", "plan", "apply-staging", "apply-production"}
    for job_name in ("plan", "apply-staging", "apply-production"):
        script, *after = [step["run"] for step in jobs[job_name]["steps"] if "run" in step]
        # In the order of a release-strategy move from the one deployed (the services layer's output), each
        # stack's plan guard letting go of exactly what that move deletes (README, "Moving to canary releases").
        assert 'python -m tools.layers order --environment "$ENVIRONMENT" --deployed-strategy "$deployed"' in script, job_name
        assert 'deployed=$(terraform -chdir="$services" output -raw api_release_strategy' in script, job_name
        assert 'python -m tools.plan_guard "$RUNNER_TEMP/$stack.plan.json" "${allow[@]}"' in script, job_name
        assert "-network" not in script and script.count("-services") == 1, f"{job_name} names a layer itself"
        lines = [line.strip() for line in script.splitlines()]
        plan = next(i for i, line in enumerate(lines) if " plan " in line)
        show = next(i for i, line in enumerate(lines) if " show -json tfplan" in line)
        guard = next(i for i, line in enumerate(lines) if "python -m tools.plan_guard" in line)
        assert plan < show < guard, job_name
        applies = [i for i, line in enumerate(lines) if " apply " in line]
        if job_name == "plan":
            assert not applies
        else:
            assert applies and guard < applies[0] and lines[applies[0]].endswith("apply -input=false tfplan"), job_name
        # After the applies, and only then, the origin secret is seeded (the APIs refuse everything until it is).
        if job_name == "plan":
            assert not after
        else:
            (ensure,) = after
            assert "python -m tools.origin_secret ensure" in ensure and 'cdktf.out/stacks/$ENVIRONMENT-edge' in ensure, job_name
            for output in ("origin_verify_secret_arn", "origin_verify_key_value_store_arn", "origin_secret_rotator_role_arn"):
                assert f"output -raw {output}" in ensure, (job_name, output)
    assert jobs["apply-production"]["needs"] == "apply-staging"
