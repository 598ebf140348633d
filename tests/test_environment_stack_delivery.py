"""The stack's delivery wiring: the GitHub Actions deploy role and the ECR-push updater, both flag sides.

Builds three stacks once: production (neither), staging (the role for the
GitHub environment "staging", the OIDC provider looked up, the updater) and
a variant (the role for a branch, the provider created here).
"""

from __future__ import annotations

import dataclasses

import re
from pathlib import Path

import pytest

from tests.support import data_sources, inline_policies_size, merged_environment, ref, resources, role_grants, serving_api_service, synth_layers

PROJECT = Path(__file__).resolve().parents[1]
DELIVERY_OUTPUTS = ("ecr_push_updater_function_name", "ecr_push_updater_dlq_url")
DEPLOY_GRANTS = [
    "api-repository-push",
    "api-service-deploy",
    "frontend-invalidate",
    "frontend-upload",
    "terraform-state-read",
    "worker-repository-push",
    "worker-service-deploy",
]
IAM_INLINE_POLICY_LIMIT = 10240  # characters, all inline policies of a role together (whitespace not counted)


@pytest.fixture(scope="module")
def stacks() -> dict[str, tuple]:
    from stacks.config import EnvironmentConfig, load_configs

    production, staging = load_configs([PROJECT / "config" / "production.tfvars", PROJECT / "config" / "staging.tfvars"])
    # The shipped staging trusts no repository until a team sets its own; here it has one, trusted for
    # jobs in the GitHub environment "staging", as the shipped workflows name theirs.
    configs = [production, dataclasses.replace(staging, github_repository="my-org/app", github_environment="staging")]
    configs.append(
        EnvironmentConfig(
            environment="variant",
            s3_frontend_bucket="circle-of-trust-frontend-variant",
            github_repository="my-org/app",
            github_branch="release",
            create_github_oidc_provider=True,
        )
    )
    layers = synth_layers(configs)
    return {config.environment: (config, merged_environment(layers[config.environment])) for config in configs}


def doc_of(stacks, env: str) -> dict:
    return stacks[env][1]


def document(doc: dict, reference: str) -> list[dict]:
    """Statements of the policy document a `${data.aws_iam_policy_document.X.json}` points at."""
    logical = reference.split(".")[2]
    return data_sources(doc, "aws_iam_policy_document")[logical]["statement"]


def role_named(doc: dict, name: str) -> tuple[str, dict]:
    (found,) = [(rid, role) for rid, role in resources(doc, "aws_iam_role").items() if role["name"] == name]
    return found


def by_name(doc: dict, resource_type: str, name: str, attribute: str, key: str = "name") -> str:
    (rid,) = [rid for rid, item in resources(doc, resource_type).items() if item.get(key) == name]
    return ref(doc, resource_type, rid, attribute)


def updater_functions(doc) -> list[dict]:
    """The ECR-push updater's function (the edge's origin-verify authorizer is the environment's other one)."""
    return [f for f in resources(doc, "aws_lambda_function").values() if f["function_name"].endswith("-ecs-updater")]


# -- both sides of github_repository ------------------------------------------------------------
def test_production_has_no_deploy_role_provider_or_updater(stacks):
    doc = doc_of(stacks, "production")
    assert not [role for role in resources(doc, "aws_iam_role").values() if "github" in role["name"]]
    assert not resources(doc, "aws_iam_openid_connect_provider") and not data_sources(doc, "aws_iam_openid_connect_provider")
    assert not updater_functions(doc) and not resources(doc, "aws_cloudwatch_event_rule")
    assert not set(DELIVERY_OUTPUTS) & set(doc["output"])
    assert doc["output"]["deploys_on_push"]["value"] == "false"
    # The seed lists the output; without a repository it is empty, and the deploy jobs stop on that.
    assert doc["output"]["github_actions_role_arn"]["value"] == ""


@pytest.mark.parametrize(
    ("env", "subject", "provider_created"),
    [
        ("staging", "repo:my-org/app:environment:staging", False),
        ("variant", "repo:my-org/app:ref:refs/heads/release", True),
    ],
)
def test_the_role_trusts_exactly_one_subject(stacks, env, subject, provider_created):
    config, doc = stacks[env]
    role_id, role = role_named(doc, f"{config.resource_prefix}-github-actions")
    (trust,) = document(doc, role["assume_role_policy"])
    assert trust["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    assert trust["condition"] == [
        {"test": "StringEquals", "variable": "token.actions.githubusercontent.com:aud", "values": ["sts.amazonaws.com"]},
        {"test": "StringEquals", "variable": "token.actions.githubusercontent.com:sub", "values": [subject]},
    ]
    (principal,) = trust["principals"]
    if provider_created:
        (provider_id,) = resources(doc, "aws_iam_openid_connect_provider")
        assert principal["identifiers"] == [ref(doc, "aws_iam_openid_connect_provider", provider_id, "arn")]
        assert not data_sources(doc, "aws_iam_openid_connect_provider")
    else:
        (provider_id,) = data_sources(doc, "aws_iam_openid_connect_provider")
        assert principal["identifiers"] == ["${data.aws_iam_openid_connect_provider." + provider_id + ".arn}"]
        assert not resources(doc, "aws_iam_openid_connect_provider")
    assert doc["output"]["github_actions_role_arn"]["value"] == ref(doc, "aws_iam_role", role_id, "arn")


@pytest.mark.parametrize("env", ["staging", "variant"])
def test_the_role_gets_exactly_the_deploy_grants_on_this_stacks_resources(stacks, env):
    config, doc = stacks[env]
    prefix = config.resource_prefix
    grants = role_grants(doc, f"{prefix}-github-actions")
    canary = config.api_release_strategy == "canary"
    api = serving_api_service(config)
    # A canary API is released through CodeDeploy (tests/test_environment_stack_release.py checks that grant).
    expected = [f"{api}-deploy" if grant == "api-service-deploy" else grant for grant in DEPLOY_GRANTS]
    assert sorted(grants) == sorted(expected + (["api-release-release"] if canary else []))
    for role in ("api", "worker"):
        push, describe, login = grants[f"{role}-repository-push"]
        repository_arn = by_name(doc, "aws_ecr_repository", f"{prefix}-{role}", "arn")
        assert push["resources"] == describe["resources"] == [repository_arn]
        assert login["resources"] == ["*"] and login["actions"] == ["ecr:GetAuthorizationToken"]

        service_name = api if role == "api" else "worker-service"
        service_statements = {s["sid"]: s for s in grants[f"{service_name}-deploy"]}
        service_id = by_name(doc, "aws_ecs_service", service_name, "id")
        assert service_statements["DescribeService"]["resources"] == [service_id]
        if canary and role == "api":
            # Its deploys are CodeDeploy deployments: no UpdateService at all.
            assert "DeployOwnRevisions" not in service_statements
            assert not [s for s in grants[f"{service_name}-deploy"] if "ecs:UpdateService" in s["actions"]]
        else:
            assert service_statements["DeployOwnRevisions"]["resources"] == [service_id]
            # Only to revisions of this environment's own family: never staging's service on production's task definition.
            (own_family,) = service_statements["DeployOwnRevisions"]["condition"]
            assert (own_family["test"], own_family["variable"]) == ("ArnLike", "ecs:task-definition")
            assert own_family["values"] == service_statements["ReadRevisionTags"]["resources"]
        assert service_statements["RegisterTaskDefinitions"]["condition"] == [
            {"test": "StringEquals", "variable": "aws:RequestTag/deployed-by", "values": ["tools.ecs_deploy"]}
        ]
        assert service_statements["ReadRevisionTags"]["resources"][0].endswith(f":task-definition/{prefix}-{role}:*")
        # Registering, too, only in its own family (the task-definition resource type of RegisterTaskDefinition).
        assert service_statements["RegisterTaskDefinitions"]["resources"] == service_statements["ReadRevisionTags"]["resources"]
        assert service_statements["PassTaskRolesToEcs"]["resources"] == [
            by_name(doc, "aws_iam_role", f"{prefix}-{role}-task", "arn"),
            by_name(doc, "aws_iam_role", f"{prefix}-ecs-execution", "arn"),
        ]
    (listing, objects) = grants["frontend-upload"]
    bucket_arn = by_name(doc, "aws_s3_bucket", config.s3_frontend_bucket, "arn", key="bucket")
    assert (listing["resources"], objects["resources"]) == ([bucket_arn], [f"{bucket_arn}/*"])
    (invalidate,) = grants["frontend-invalidate"]
    distribution_id = "frontend_distribution"  # the frontend's: the API distributions are never invalidated
    assert invalidate["resources"] == [ref(doc, "aws_cloudfront_distribution", distribution_id, "arn")]
    list_state, read_state, digest = grants["terraform-state-read"]
    # Every layer state of this environment (a plan's remote-state reads), no other environment's.
    prefix = config.effective_state_key_prefix
    assert config.state_key("services").startswith(f"{prefix}/")
    assert read_state["resources"][0].endswith(f":s3:::{config.state_bucket}/{prefix}/*")
    assert list_state["condition"][0]["values"] == [prefix, f"{prefix}/*"]
    assert digest["resources"][0].endswith(f":table/{config.state_lock_table}")


def test_the_roles_inline_policies_fit_iams_size_limit(stacks):
    """IAM caps a role's inline policies at 10,240 characters together; keep a fifth of it free.

    Tokens count at their longest real values (tests.support.inline_policies_size).
    """
    config, doc = stacks["staging"]
    total = inline_policies_size(role_grants(doc, f"{config.resource_prefix}-github-actions"))
    assert 0 < total < IAM_INLINE_POLICY_LIMIT * 0.8, total


# -- both sides of enable_ecr_push_updater ------------------------------------------------------
def test_staging_updater_maps_its_repositories_to_its_services(stacks):
    config, doc = stacks["staging"]
    prefix = config.resource_prefix
    (function,) = updater_functions(doc)
    (cluster_api, cluster_worker) = (
        ref(doc, "aws_ecs_cluster_capacity_providers", rid, "cluster_name")
        for rid in sorted(resources(doc, "aws_ecs_cluster_capacity_providers"), key=lambda rid: "worker" in rid)
    )
    api_service = by_name(doc, "aws_ecs_service", "api-blue-green", "name")[2:-1]
    worker_service = by_name(doc, "aws_ecs_service", "worker-service", "name")[2:-1]
    api_url, worker_url = (by_name(doc, "aws_ecr_repository", f"{prefix}-{role}", "repository_url")[2:-1] for role in ("api", "worker"))
    # Staging's API is a canary: the updater deploys it through its CodeDeploy application and group.
    application = ref(doc, "aws_codedeploy_app", next(iter(resources(doc, "aws_codedeploy_app"))), "name")[2:-1]
    group = ref(doc, "aws_codedeploy_deployment_group", next(iter(resources(doc, "aws_codedeploy_deployment_group"))), "deployment_group_name")[2:-1]
    assert function["environment"]["variables"]["SERVICE_MAP"] == (
        f'${{jsonencode({{"{prefix}-api" = {{"cluster" = {cluster_api[2:-1]}, "service" = {api_service}, "repository_url" = {api_url}, "container" = "api", '
        f'"codedeploy_application" = {application}, "codedeploy_group" = {group}}}, '
        f'"{prefix}-worker" = {{"cluster" = {cluster_worker[2:-1]}, "service" = {worker_service}, "repository_url" = {worker_url}, "container" = "worker"}}}})}}'
    )
    (rule,) = resources(doc, "aws_cloudwatch_event_rule").values()
    assert f'"repository-name" = ["{prefix}-api", "{prefix}-worker"]' in rule["event_pattern"]
    assert sorted(r["name"] for r in resources(doc, "aws_ecr_repository").values()) == [f"{prefix}-api", f"{prefix}-worker"]
    assert doc["output"]["ecr_push_updater_function_name"]["value"].startswith("${aws_lambda_function.")
    assert doc["output"]["ecr_push_updater_dlq_url"]["value"].startswith("${aws_sqs_queue.")
    assert doc["output"]["deploys_on_push"]["value"] == "true"


def test_staging_updater_role_deploys_exactly_the_two_services_as_the_deploy_role_does(stacks):
    """It registers revisions with tools.ecs_deploy, so it has the GitHub deploy role's grant, statement for statement."""
    config, doc = stacks["staging"]
    grants = role_grants(doc, f"{config.resource_prefix}-ecs-updater")
    assert sorted(grants) == [
        "api-blue-green-deploy",
        "api-release-release",  # staging's API is a canary: CodeDeploy deployments, as the deploy role's
        "api-repository-describe-images",
        "ecs-updater-dlq-send",
        "ecs-updater-log-group-write",
        "worker-repository-describe-images",
        "worker-service-deploy",
        "xray-write",
    ]
    deploy_role = role_grants(doc, f"{config.resource_prefix}-github-actions")
    for role, service_name in (("api", "api-blue-green"), ("worker", "worker-service")):
        statements = grants[f"{service_name}-deploy"]
        assert statements == deploy_role[f"{service_name}-deploy"]
        by_sid = {statement["sid"]: statement for statement in statements}
        if role == "api" and config.api_release_strategy == "canary":
            assert "DeployOwnRevisions" not in by_sid
            # It starts deployments only: the deploy role's release grant without reading or stopping them.
            starts, follows = (grant["api-release-release"][0] for grant in (grants, deploy_role))
            assert starts["resources"] == follows["resources"]
            assert sorted(starts["actions"]) == ["codedeploy:CreateDeployment", "codedeploy:ListDeployments"]
            assert set(starts["actions"]) < set(follows["actions"])
            # Nor reads of targets or a stop (the deploy role's only statement on "*"); the rest alike.
            assert [s["sid"] for s in deploy_role["api-release-release"]][1] == "FollowTargetsAndStop"
            assert grants["api-release-release"][1:] == deploy_role["api-release-release"][2:]
        else:
            assert by_sid["DeployOwnRevisions"]["resources"] == [by_name(doc, "aws_ecs_service", service_name, "id")]
            assert by_sid["DeployOwnRevisions"]["condition"][0]["values"][0].endswith(f":task-definition/{config.resource_prefix}-{role}:*")
        assert by_sid["RegisterTaskDefinitions"]["condition"] == [
            {"test": "StringEquals", "variable": "aws:RequestTag/deployed-by", "values": ["tools.ecs_deploy"]}
        ]
        (family,) = by_sid["RegisterTaskDefinitions"]["resources"]
        assert family.endswith(f":task-definition/{config.resource_prefix}-{role}:*")
        assert by_sid["PassTaskRolesToEcs"]["condition"] == [
            {"test": "StringEquals", "variable": "iam:PassedToService", "values": ["ecs-tasks.amazonaws.com"]}
        ]
        assert [arn.split(".")[0] for arn in by_sid["PassTaskRolesToEcs"]["resources"]] == ["${aws_iam_role", "${aws_iam_role"]


def test_staging_updater_role_describes_images_of_exactly_the_two_repositories(stacks):
    """Push times for the handler's newest-image check: ecr:DescribeImages on the two repositories' ARNs, no other ECR action anywhere."""
    config, doc = stacks["staging"]
    prefix = config.resource_prefix
    grants = role_grants(doc, f"{prefix}-ecs-updater")
    for role in ("api", "worker"):
        assert grants[f"{role}-repository-describe-images"] == [
            {
                "sid": "DescribeImages",
                "effect": "Allow",
                "actions": ["ecr:DescribeImages"],
                "resources": [by_name(doc, "aws_ecr_repository", f"{prefix}-{role}", "arn")],
            }
        ]
    ecr = sorted((action, resource) for statements in grants.values() for s in statements for action in s["actions"] if action.startswith("ecr:") for resource in s["resources"])
    assert ecr == sorted(("ecr:DescribeImages", by_name(doc, "aws_ecr_repository", f"{prefix}-{role}", "arn")) for role in ("api", "worker"))


def test_staging_updater_key_lets_eventbridge_in_for_the_rule_only(stacks):
    config, doc = stacks["staging"]
    (function,) = updater_functions(doc)
    key_id = function["kms_key_arn"].split(".")[1]
    (dlq,) = [q for q in resources(doc, "aws_sqs_queue").values() if q["name"] == f"{config.resource_prefix}-ecs-updater-dlq"]
    assert dlq["kms_master_key_id"] == function["kms_key_arn"]
    key = resources(doc, "aws_kms_key")[key_id]
    events = [s for s in document(doc, key["policy"]) if s.get("sid") == "EventBridgeSendsToTheUpdaterDlq"]
    (statement,) = events
    assert statement["principals"] == [{"type": "Service", "identifiers": ["events.amazonaws.com"]}]
    assert statement["actions"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    account, condition = statement["condition"]
    assert (account["test"], account["variable"]) == ("StringEquals", "aws:SourceAccount")
    assert account["values"][0].endswith(".account_id}")
    assert (condition["test"], condition["variable"]) == ("ArnEquals", "aws:SourceArn")
    assert condition["values"][0].endswith(f":rule/{config.resource_prefix}-ecs-updater-ecr-push")
    (log_group,) = [g for g in resources(doc, "aws_cloudwatch_log_group").values() if g["name"] == f"/aws/lambda/{config.resource_prefix}-ecs-updater"]
    assert log_group["retention_in_days"] == config.log_retention_days


def test_staging_updater_dlq_pages_the_alarm_topic(stacks):
    config, doc = stacks["staging"]
    prefix = config.resource_prefix
    (alarm,) = [a for a in resources(doc, "aws_cloudwatch_metric_alarm").values() if a["alarm_name"] == f"{prefix}-ecs-updater-dlq-not-empty"]
    topic = by_name(doc, "aws_sns_topic", f"{prefix}-alarms", "arn")
    assert alarm["alarm_actions"] == [topic] and alarm["ok_actions"] == [topic]
    assert (alarm["namespace"], alarm["metric_name"], alarm["statistic"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum")
    assert alarm["dimensions"] == {"QueueName": by_name(doc, "aws_sqs_queue", f"{prefix}-ecs-updater-dlq", "name")}
    assert (alarm["comparison_operator"], alarm["threshold"], alarm["treat_missing_data"]) == ("GreaterThanThreshold", 0, "notBreaching")
    assert "docs/runbook.md" in alarm["alarm_description"]


def test_variant_without_the_updater_has_none_of_it(stacks):
    doc = doc_of(stacks, "variant")
    assert not updater_functions(doc)
    assert not [p for p in resources(doc, "aws_lambda_permission").values() if p["principal"] == "events.amazonaws.com"]
    assert not [a for a in resources(doc, "aws_kms_alias").values() if a["name"].endswith("-ecs-updater")]
    assert "ecr_push_updater_function_name" not in doc["output"]
    assert not [a for a in resources(doc, "aws_cloudwatch_metric_alarm").values() if "ecs-updater" in a["alarm_name"]]


# -- what the runbook promises of the images -----------------------------------------------------
RUNBOOK = PROJECT / "docs" / "runbook.md"


def test_the_runbook_restores_images_as_far_back_as_the_lifecycle_keeps_them(stacks):
    (row,) = [line for line in RUNBOOK.read_text().splitlines() if line.startswith("| Container images |")]
    kept = {int(number) for number in re.findall(r"last (\d+)", row)}
    assert re.search(r"\| any of the last \d+ pushed images \|$", row), row
    for env in stacks:
        policies = resources(doc_of(stacks, env), "aws_ecr_lifecycle_policy").values()
        assert len(policies) == 2, env  # the api and the worker repository
        counts = {int(count) for policy in policies for count in re.findall(r'"?countNumber"?\s*[=:]\s*(\d+)', policy["policy"])}
        assert counts == kept, (env, counts, row)


@pytest.mark.parametrize("environment", ["production", "staging"])
def test_the_app_secret_policy_names_the_execution_role_that_reads_it(stacks, environment):
    """The secret (data layer) names its reader by the name the services layer gives the execution role."""
    config, doc = stacks[environment]
    (policy,) = [p for p in resources(doc, "aws_secretsmanager_secret_policy").values() if "app_secret" in p["secret_arn"]]
    readers, _, value = document(doc, policy["policy"])
    _, execution_role = role_named(doc, f"{config.resource_prefix}-ecs-execution")
    assert execution_role["name"] == f"{config.resource_prefix}-ecs-execution"
    (reader,) = readers["condition"][0]["values"]
    assert reader.endswith(f":role/{config.resource_prefix}-ecs-execution")
    assert reader in value["condition"][0]["values"]
