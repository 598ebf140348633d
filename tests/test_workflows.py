"""The GitHub Actions workflows: valid for GitHub, and consistent with the stacks, the tools and the README.

* Every workflow (and the shared composite action) validates against the
  schema check-jsonschema ships (its vendored copy: the run has no network).
* Every `terraform output -raw <name>` a workflow reads is an output of every
  stack it can deploy to, every secret it uses is listed in the README's
  "GitHub secrets", and every tools.ecs_deploy command parses with the tool's
  own argument parser.
* Third-party actions are pinned, and jobs that assume a role may ask for an
  OIDC token.
"""

from __future__ import annotations

import json
import os
import re
import shlex
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
OUTPUT_READ = re.compile(r"terraform output -raw ([A-Za-z0-9_]+)")
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


def test_the_shipped_workflows_are_there():
    assert [path.name for path in WORKFLOWS] == ["deploy-backend-api.yml", "deploy-backend-worker.yml", "deploy-frontend.yml", "infrastructure.yml"]
    assert [path.parent.name for path in ACTIONS] == ["setup"]


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


def test_every_output_a_workflow_reads_is_an_output_of_every_stack(stack_outputs):
    read = {}
    for path in WORKFLOWS:
        names = {name for script in run_scripts(load(path)) for name in OUTPUT_READ.findall(script)}
        read[path.name] = names
        for stack, outputs in stack_outputs.items():
            assert names <= outputs, f"{path.name} reads {sorted(names - outputs)}, not outputs of the {stack} stack"
    assert read["deploy-backend-api.yml"] == {"ecr_api_repository_url", "api_cluster_name", "api_service_name", "deploys_on_push"}
    assert read["deploy-backend-worker.yml"] == {"ecr_worker_repository_url", "worker_cluster_name", "worker_service_name", "deploys_on_push"}
    assert read["deploy-frontend.yml"] == {"frontend_bucket_name", "cloudfront_distribution_id", "api_gateway_url", "websocket_gateway_url"}


@pytest.mark.parametrize("name", ["deploy-backend-api.yml", "deploy-backend-worker.yml"])
def test_backend_deploy_steps_stand_aside_where_pushes_deploy_themselves(name):
    """With the ECR-push updater (deploys_on_push), the updater deploys the pushed tag; a CI deploy
    as well would register a second revision of the same image."""
    (job,) = load(WORKFLOWS_DIR / name)["jobs"].values()
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
    for name in DEPLOY_WORKFLOWS:
        (job,) = load(WORKFLOWS_DIR / name)["jobs"].values()
        assert job["environment"] == "${{ inputs.environment || 'staging' }}", name
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
def test_every_ecs_deploy_command_parses_with_the_tools_parser():
    commands = [
        " ".join(script.split())
        for name in ("deploy-backend-api.yml", "deploy-backend-worker.yml")
        for script in run_scripts(load(WORKFLOWS_DIR / name))
        if "tools.ecs_deploy" in script
    ]
    assert len(commands) == 2
    for command in commands:
        words = shlex.split(command.replace("${{ github.sha }}", "0123456789abcdef0123456789abcdef01234567"))
        assert words[:3] == [".venv/bin/python", "-m", "tools.ecs_deploy"]
        args = parse_args([re.sub(r"\$([A-Z_]+)", r"\1", word) for word in words[3:]])
        assert (args.command, args.wait) == ("deploy", True)
        assert args.image == "REPOSITORY_URL:0123456789abcdef0123456789abcdef01234567"


def test_images_are_tagged_with_the_commit_sha():
    for name in ("deploy-backend-api.yml", "deploy-backend-worker.yml"):
        (job,) = load(WORKFLOWS_DIR / name)["jobs"].values()
        assert job["env"]["IMAGE_TAG"] == "${{ github.sha }}"
        push = next(script for script in run_scripts(load(WORKFLOWS_DIR / name)) if "docker push" in script)
        assert 'docker push "$REPOSITORY_URL:$IMAGE_TAG"' in push


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
    (setup,) = ACTIONS
    terraform = next(step for step in load(setup)["runs"]["steps"] if step.get("uses", "").startswith("hashicorp/setup-terraform@"))
    assert terraform["with"]["terraform_wrapper"] is False
