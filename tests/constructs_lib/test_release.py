"""constructs_lib/release.py: CodeDeploy canary releases of an ECS service, its service role and who may release."""

from __future__ import annotations

import re

import pytest
from cdktf import TerraformOutput

from constructs_lib.iam import ServiceRole, ServiceRoleProps
from constructs_lib.load_balancer import ReleaseLoadBalancer, ReleaseLoadBalancerProps
from constructs_lib.release import CanaryRelease, CanaryReleaseProps
from constructs_lib.security_groups import AppSecurityGroup, AppSecurityGroupProps
from tests.support import EXECUTION_ROLE, TASK_ROLE, at, data_sources, logical_id, only, ref, resources, synth_construct

SERVICE_ARN = "arn:aws:ecs:us-east-1:111122223333:service/cot-api/api-service"
ALARMS = ("cot-api-release-5xx-rate-a", "cot-api-release-latency-p99-b")
# The context's ARN parts: arn:<partition>:<service>:<region>:<account>:<resource>.
PARTITION, REGION, ACCOUNT = (r"\$\{data\.aws_partition\.[^}]+\.partition\}", r"\$\{data\.aws_region\.[^}]+\.name\}", r"\$\{data\.aws_caller_identity\.[^}]+\.account_id\}")
CAPTURED: dict[str, object] = {}


def arn(service: str, resource: str) -> re.Pattern[str]:
    """An ARN of this account and region, ``resource`` given as a regex."""
    return re.compile(f"arn:{PARTITION}:{service}:{REGION}:{ACCOUNT}:{resource}")


def release_props(load_balancer=None, **overrides) -> CanaryReleaseProps:
    values = dict(
        name="cot-api",
        cluster_name="cot-api",
        service_name="api-service",
        service_arn=SERVICE_ARN,
        load_balancer=load_balancer,
        passed_role_arns=(TASK_ROLE, EXECUTION_ROLE),
        alarm_names=ALARMS,
    )
    return CanaryReleaseProps(**{**values, **overrides})


def load_balancer(stack) -> ReleaseLoadBalancer:
    group = AppSecurityGroup(stack, "alb-group", AppSecurityGroupProps(name="cot-api-alb", vpc_id="vpc-1", description="Release ALB"))
    return ReleaseLoadBalancer(
        stack,
        "release-lb",
        ReleaseLoadBalancerProps(name="cot-lb", target_group_names=("cot-a", "cot-b"), vpc_id="vpc-1", subnet_ids=("subnet-a", "subnet-b"), security_group=group, port=8080),
    )


@pytest.fixture(scope="module")
def document():
    def build(stack):
        release = CAPTURED["release"] = CanaryRelease(
            stack, "api-release", release_props(load_balancer(stack), canary_percent=20, bake_minutes=7, termination_wait_minutes=45)
        )
        deployer = ServiceRole(stack, "deployer", ServiceRoleProps(name="cot-deployer", service="ecs-tasks.amazonaws.com"))
        release.grant_release(deployer)
        starter = ServiceRole(stack, "starter", ServiceRoleProps(name="cot-starter", service="lambda.amazonaws.com"))
        release.grant_release(starter, follow=False)
        for name in ("application_name", "deployment_group_name", "deployment_config_name", "deployment_group_arn"):
            TerraformOutput(stack, name, value=getattr(release, name))

    return synth_construct(build)


def listener_arn(document) -> str:
    return ref(document, "aws_lb_listener", logical_id(resources(document, "aws_lb_listener"), "release-lb/listener"), "arn")


def statements(document, path: str) -> dict[str, dict]:
    return {statement["sid"]: statement for statement in at(data_sources(document, "aws_iam_policy_document"), path)["statement"]}


# -- the application and the canary configuration ------------------------------------------------
def test_the_application_is_an_ecs_application(document):
    application = only(document, "aws_codedeploy_app")
    assert (application["name"], application["compute_platform"]) == ("cot-api", "ECS")


def test_the_configuration_is_a_time_based_canary_named_for_its_shape(document):
    config = only(document, "aws_codedeploy_deployment_config")
    assert config["compute_platform"] == "ECS"
    # P % of requests for M minutes, then all: CodeDeploy's TimeBasedCanary (percentage, interval in minutes).
    assert config["traffic_routing_config"] == {"type": "TimeBasedCanary", "time_based_canary": {"percentage": 20, "interval": 7}}
    # A configuration cannot be updated: another shape needs another name.
    assert config["deployment_config_name"] == "cot-api-canary-20pct-7min"


def test_the_default_canary_is_ten_percent_for_five_minutes_and_a_thirty_minute_wait():
    document = synth_construct(lambda stack: CanaryRelease(stack, "api-release", release_props(load_balancer(stack))))
    config = only(document, "aws_codedeploy_deployment_config")
    assert config["traffic_routing_config"]["time_based_canary"] == {"percentage": 10, "interval": 5}
    assert config["deployment_config_name"] == "cot-api-canary-10pct-5min"
    terminate = only(document, "aws_codedeploy_deployment_group")["blue_green_deployment_config"]["terminate_blue_instances_on_deployment_success"]
    assert terminate == {"action": "TERMINATE", "termination_wait_time_in_minutes": 30}


# -- the deployment group ---------------------------------------------------------------------
def test_the_group_is_a_blue_green_deployment_with_traffic_control(document):
    group = only(document, "aws_codedeploy_deployment_group")
    assert group["deployment_group_name"] == "cot-api"
    assert group["app_name"] == ref(document, "aws_codedeploy_app", logical_id(resources(document, "aws_codedeploy_app"), "api-release/application"), "name")
    # ECS under CodeDeploy supports exactly this style.
    assert group["deployment_style"] == {"deployment_option": "WITH_TRAFFIC_CONTROL", "deployment_type": "BLUE_GREEN"}


def test_the_group_uses_the_configuration_resource_not_a_name_it_may_not_have_yet(document):
    group = only(document, "aws_codedeploy_deployment_group")
    config_id = logical_id(resources(document, "aws_codedeploy_deployment_config"), "api-release/deployment-config")
    # A reference: Terraform creates the configuration first (a literal would race it).
    assert group["deployment_config_name"] == ref(document, "aws_codedeploy_deployment_config", config_id, "deployment_config_name")


def test_the_replacement_takes_traffic_once_healthy_and_the_original_stays_for_the_wait(document):
    blue_green = only(document, "aws_codedeploy_deployment_group")["blue_green_deployment_config"]
    # No manual approval step: traffic moves as soon as the replacement task set is ready.
    assert blue_green["deployment_ready_option"] == {"action_on_timeout": "CONTINUE_DEPLOYMENT"}
    assert blue_green["terminate_blue_instances_on_deployment_success"] == {"action": "TERMINATE", "termination_wait_time_in_minutes": 45}


def test_the_group_shifts_this_service_between_both_target_groups_on_the_listener(document):
    group = only(document, "aws_codedeploy_deployment_group")
    assert group["ecs_service"] == {"cluster_name": "cot-api", "service_name": "api-service"}
    pair = group["load_balancer_info"]["target_group_pair_info"]
    assert pair["prod_traffic_route"] == {"listener_arns": [listener_arn(document)]}
    # CodeDeploy names target groups by name (not ARN); the service starts in the first one.
    assert pair["target_group"] == [{"name": "cot-a"}, {"name": "cot-b"}]
    assert sorted(g["name"] for g in resources(document, "aws_lb_target_group").values()) == ["cot-a", "cot-b"]
    assert "test_traffic_route" not in pair


def test_a_failure_or_an_alarm_rolls_back(document):
    group = only(document, "aws_codedeploy_deployment_group")
    rollback = group["auto_rollback_configuration"]
    assert rollback["enabled"] is True
    assert sorted(rollback["events"]) == ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]
    alarms = group["alarm_configuration"]
    assert alarms["alarms"] == list(ALARMS)
    assert alarms["enabled"] is True
    # An alarm CodeDeploy cannot read stops the deployment rather than being ignored.
    assert alarms.get("ignore_poll_alarm_failure", False) is False


def test_the_group_runs_as_the_codedeploy_role_once_its_policy_exists(document):
    group = only(document, "aws_codedeploy_deployment_group")
    role_id = logical_id(resources(document, "aws_iam_role"), "api-release/service-role")
    assert group["service_role_arn"] == ref(document, "aws_iam_role", role_id, "arn")
    policy_id = logical_id(resources(document, "aws_iam_role_policy"), "api-release/service-role/release-policy")
    # CodeDeploy checks the role's permissions when the group is created.
    assert f"aws_iam_role_policy.{policy_id}" in group["depends_on"]


def test_attributes(document):
    outputs = {name: output["value"] for name, output in document["output"].items()}
    group_id = logical_id(resources(document, "aws_codedeploy_deployment_group"), "api-release/deployment-group")
    assert outputs["deployment_group_name"] == ref(document, "aws_codedeploy_deployment_group", group_id, "deployment_group_name")
    assert outputs["application_name"] == ref(document, "aws_codedeploy_app", logical_id(resources(document, "aws_codedeploy_app"), "api-release/application"), "name")
    config_id = logical_id(resources(document, "aws_codedeploy_deployment_config"), "api-release/deployment-config")
    assert outputs["deployment_config_name"] == ref(document, "aws_codedeploy_deployment_config", config_id, "deployment_config_name")
    # arn:<partition>:codedeploy:<region>:<account>:deploymentgroup:<application>/<group>
    assert arn("codedeploy", "deploymentgroup:cot-api/cot-api").fullmatch(outputs["deployment_group_arn"]), outputs["deployment_group_arn"]


# -- the role CodeDeploy assumes ----------------------------------------------------------------
def test_only_codedeploy_assumes_the_service_role(document):
    role = at(resources(document, "aws_iam_role"), "api-release/service-role")
    assert role["name"] == "cot-api-codedeploy"
    (trust,) = at(data_sources(document, "aws_iam_policy_document"), "api-release/service-role/trust")["statement"]
    assert trust["principals"] == [{"type": "Service", "identifiers": ["codedeploy.amazonaws.com"]}]
    assert trust["actions"] == ["sts:AssumeRole"]
    # Confused-deputy protection, as CodeDeploy documents it: this account, for this deployment group only.
    account, source = trust["condition"]
    assert (account["test"], account["variable"]) == ("StringEquals", "aws:SourceAccount")
    (account_id,) = account["values"]
    assert re.fullmatch(r"\$\{data\.aws_caller_identity\.[^}]+\.account_id\}", account_id), account_id
    assert (source["test"], source["variable"]) == ("ArnLike", "aws:SourceArn")
    (group_arn,) = source["values"]
    assert arn("codedeploy", "deploymentgroup:cot-api/cot-api").fullmatch(group_arn), group_arn


def test_codedeploy_reads_the_service_and_changes_only_its_task_sets(document):
    by_sid = statements(document, "api-release/service-role/release-policy-document")
    assert by_sid["ReadService"]["actions"] == ["ecs:DescribeServices"]
    assert by_sid["ReadService"]["resources"] == [SERVICE_ARN]
    # Each action on the resource it takes (Service Authorization Reference). CreateTaskSet takes none, so it is on
    # "*" and held to the service by ecs:service; an ARN there would match none of its requests.
    create = by_sid["CreateTaskSets"]
    assert (create["actions"], create["resources"]) == (["ecs:CreateTaskSet"], ["*"])
    assert create["condition"] == [{"test": "ArnEquals", "variable": "ecs:service", "values": [SERVICE_ARN]}]
    assert (by_sid["ShiftTaskSets"]["actions"], by_sid["ShiftTaskSets"]["resources"]) == (["ecs:UpdateServicePrimaryTaskSet"], [SERVICE_ARN])
    delete = by_sid["DeleteTaskSets"]
    assert delete["actions"] == ["ecs:DeleteTaskSet"]
    (task_sets,) = delete["resources"]
    # arn:<partition>:ecs:<region>:<account>:task-set/<cluster>/<service>/<task set ID>
    assert arn("ecs", r"task-set/cot-api/api-service/\*").fullmatch(task_sets), task_sets


def test_codedeploy_shifts_only_this_listener_and_reads_only_these_alarms(document):
    by_sid = statements(document, "api-release/service-role/release-policy-document")
    assert (by_sid["ShiftListener"]["actions"], by_sid["ShiftListener"]["resources"]) == (["elasticloadbalancing:ModifyListener"], [listener_arn(document)])
    alarms = by_sid["ReadReleaseAlarms"]
    assert alarms["actions"] == ["cloudwatch:DescribeAlarms"]
    assert len(alarms["resources"]) == len(ALARMS)
    for resource, name in zip(alarms["resources"], ALARMS):
        assert arn("cloudwatch", f"alarm:{re.escape(name)}").fullmatch(resource), resource


def test_codedeploy_passes_only_the_services_roles_and_only_to_ecs_tasks(document):
    passing = statements(document, "api-release/service-role/release-policy-document")["PassTaskRolesToEcs"]
    assert passing["actions"] == ["iam:PassRole"]
    assert sorted(passing["resources"]) == sorted([TASK_ROLE, EXECUTION_ROLE])
    assert passing["condition"] == [{"test": "StringEquals", "variable": "iam:PassedToService", "values": ["ecs-tasks.amazonaws.com"]}]


def test_nothing_but_the_elb_reads_and_task_set_creation_is_granted_on_every_resource(document):
    """The ELB Describe actions and CreateTaskSet take no resource (Service Authorization Reference); nothing else is on '*'.

    CreateTaskSet carries the ecs:service condition instead (test above)."""
    all_statements = statements(document, "api-release/service-role/release-policy-document").values()
    on_star = sorted(action for statement in all_statements if "*" in statement["resources"] for action in statement["actions"])
    assert on_star == [
        "ecs:CreateTaskSet",
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeRules",
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetHealth",
    ]
    assert all(statement.get("effect", "Allow") == "Allow" and "*" not in "".join(statement["actions"]) for statement in all_statements)


# -- who may release ----------------------------------------------------------------------------
def test_a_releaser_deploys_and_follows_deployments_of_this_group_and_reads_targets_and_stops_where_iam_allows(document):
    by_sid = statements(document, "deployer/api-release-release-policy-document")
    release = by_sid["ReleaseThroughOwnGroup"]
    # What tools.ecs_deploy calls that takes the deployment group as its resource.
    assert sorted(release["actions"]) == [
        "codedeploy:CreateDeployment",
        "codedeploy:GetDeployment",
        "codedeploy:GetDeploymentGroup",
        "codedeploy:ListDeployments",
    ]
    (group,) = release["resources"]
    assert arn("codedeploy", "deploymentgroup:cot-api/cot-api").fullmatch(group), group
    # The three that take no resource: a group ARN would match none of their requests, so "*" (and nothing else there).
    stop = by_sid["FollowTargetsAndStop"]
    assert (sorted(stop["actions"]), stop["resources"]) == (
        ["codedeploy:GetDeploymentTarget", "codedeploy:ListDeploymentTargets", "codedeploy:StopDeployment"],
        ["*"],
    )


def test_a_releaser_reads_this_configuration_and_registers_revisions_of_this_application(document):
    by_sid = statements(document, "deployer/api-release-release-policy-document")
    config = by_sid["ReadOwnDeploymentConfig"]
    assert config["actions"] == ["codedeploy:GetDeploymentConfig"]
    config_id = logical_id(resources(document, "aws_codedeploy_deployment_config"), "api-release/deployment-config")
    (resource,) = config["resources"]
    name = re.escape(ref(document, "aws_codedeploy_deployment_config", config_id, "deployment_config_name"))
    assert arn("codedeploy", f"deploymentconfig:{name}").fullmatch(resource), resource
    revisions = by_sid["RegisterOwnRevisions"]
    assert revisions["actions"] == ["codedeploy:RegisterApplicationRevision"]
    (application,) = revisions["resources"]
    assert arn("codedeploy", "application:cot-api").fullmatch(application), application


def test_a_starter_only_starts_deployments_of_this_group(document):
    """The ECR-push updater (follow=False) starts a deployment and returns: no reads of deployments, no StopDeployment."""
    by_sid = statements(document, "starter/api-release-release-policy-document")
    assert "FollowTargetsAndStop" not in by_sid
    release = by_sid["ReleaseThroughOwnGroup"]
    assert sorted(release["actions"]) == ["codedeploy:CreateDeployment", "codedeploy:ListDeployments"]
    (group,) = release["resources"]
    assert arn("codedeploy", "deploymentgroup:cot-api/cot-api").fullmatch(group), group
    assert by_sid["RegisterOwnRevisions"] == statements(document, "deployer/api-release-release-policy-document")["RegisterOwnRevisions"]


def test_a_releaser_gets_no_pass_role_and_no_wildcard_but_the_three_actions_iam_cannot_narrow(document):
    """CodeDeploy's own role passes the task roles; the releaser acts on '*' only where IAM gives no resource."""
    by_sid = statements(document, "deployer/api-release-release-policy-document")
    assert set(by_sid) == {"ReleaseThroughOwnGroup", "FollowTargetsAndStop", "ReadOwnDeploymentConfig", "RegisterOwnRevisions"}
    for sid, statement in by_sid.items():
        assert "iam:PassRole" not in statement["actions"]
        assert all(action.startswith("codedeploy:") and "*" not in action for action in statement["actions"])
        if sid != "FollowTargetsAndStop":
            assert all(resource != "*" and not resource.endswith(":*") for resource in statement["resources"])


# -- props ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "cot api"}, "name must be 1-100 letters, digits and _.+-, but 'cot api' was provided"),
        ({"name": "x" * 101}, "name must be 1-100 letters, digits and _.+-"),
        ({"canary_percent": 0}, "canary_percent must be between 1 and 99, but 0 was provided"),
        ({"canary_percent": 100}, "canary_percent must be between 1 and 99, but 100 was provided"),
        ({"bake_minutes": 0}, "bake_minutes must be between 1 and 60, but 0 was provided"),
        ({"bake_minutes": 61}, "bake_minutes must be between 1 and 60, but 61 was provided"),
        ({"termination_wait_minutes": -1}, "termination_wait_minutes must be between 0 and 2880, but -1 was provided"),
        ({"termination_wait_minutes": 2881}, "termination_wait_minutes must be between 0 and 2880, but 2881 was provided"),
        ({"alarm_names": ()}, "alarm_names must name 1-10 release alarms (without one, nothing rolls back), but 0 were provided"),
        ({"alarm_names": tuple(f"a{i}" for i in range(11))}, "alarm_names must name 1-10 release alarms (without one, nothing rolls back), but 11 were provided"),
        ({"passed_role_arns": ()}, "passed_role_arns must hold the service's task and execution roles, but none was provided"),
    ],
)  # fmt: skip
def test_props_name_the_field_the_allowed_values_and_the_value(overrides, message):
    with pytest.raises(ValueError, match="^CanaryReleaseProps: ") as caught:
        release_props(**overrides)
    assert message in str(caught.value)


def test_props_accept_the_limits():
    release_props(canary_percent=99, bake_minutes=60, termination_wait_minutes=0, alarm_names=tuple(f"a{i}" for i in range(10)))
    release_props(canary_percent=1, bake_minutes=1, termination_wait_minutes=2880, name="x" * 100)


def test_props_report_every_problem_at_once():
    with pytest.raises(ValueError) as caught:
        release_props(canary_percent=0, bake_minutes=0, alarm_names=())
    assert str(caught.value).count("; ") == 2
