"""Canary releases of an ECS service: CodeDeploy blue/green with automatic rollback.

On hashicorp/aws 5.100 (this project's pin) a traffic-shifted release of an
ECS service is a CodeDeploy blue/green deployment: ECS's own blue/green,
linear and canary strategies need provider 6.4 or later. The service runs
with ``deployment_controller = CODE_DEPLOY`` behind a ``ReleaseLoadBalancer``
(constructs_lib/load_balancer.py), and a deployment:

1. starts a replacement task set of the new revision in the idle target
   group and waits until its tasks pass the health check (tasks that never
   do fail the deployment before any request reaches them);
2. shifts ``canary_percent`` of the listener's requests to it for
   ``bake_minutes`` (a custom ``TimeBasedCanary`` configuration), then all;
3. keeps the original task set running for ``termination_wait_minutes``, so
   a rollback in that window is a listener change, not a deployment;
4. terminates the original task set.

A release alarm in ALARM at any point before the end (the alarms are the
group's ``alarm_configuration``), a failure, or an operator's
StopDeployment rolls back: CodeDeploy moves all traffic to the original task
set, which still runs, so no task starts (``auto_rollback_configuration``
with DEPLOYMENT_FAILURE and DEPLOYMENT_STOP_ON_ALARM). AWS documents that
CodeDeploy polls the alarms during the deployment; the rollback itself is
one listener change.

Who may release: ``grant_release(role)`` lets a role create deployments of
this group only, read and stop them; tools.ecs_deploy uses exactly these
calls. The role CodeDeploy itself assumes may change this service's task
sets and this listener, read these alarms, and pass the service's two
roles to ECS: AWS's managed AWSCodeDeployRoleForECS, narrowed to exact ARNs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.codedeploy_app import CodedeployApp
from cdktf_cdktf_provider_aws.codedeploy_deployment_config import (
    CodedeployDeploymentConfig,
    CodedeployDeploymentConfigTrafficRoutingConfig,
    CodedeployDeploymentConfigTrafficRoutingConfigTimeBasedCanary,
)
from cdktf_cdktf_provider_aws.codedeploy_deployment_group import (
    CodedeployDeploymentGroup,
    CodedeployDeploymentGroupAlarmConfiguration,
    CodedeployDeploymentGroupAutoRollbackConfiguration,
    CodedeployDeploymentGroupBlueGreenDeploymentConfig,
    CodedeployDeploymentGroupBlueGreenDeploymentConfigDeploymentReadyOption,
    CodedeployDeploymentGroupBlueGreenDeploymentConfigTerminateBlueInstancesOnDeploymentSuccess,
    CodedeployDeploymentGroupDeploymentStyle,
    CodedeployDeploymentGroupEcsService,
    CodedeployDeploymentGroupLoadBalancerInfo,
    CodedeployDeploymentGroupLoadBalancerInfoTargetGroupPairInfo,
    CodedeployDeploymentGroupLoadBalancerInfoTargetGroupPairInfoProdTrafficRoute,
    CodedeployDeploymentGroupLoadBalancerInfoTargetGroupPairInfoTargetGroup,
)
from constructs import Construct

from constructs_lib._validation import Problems
from constructs_lib.actions import (
    CLOUDWATCH_DESCRIBE_ALARMS_ACTIONS,
    CODEDEPLOY_APPLICATION_REVISION_ACTIONS,
    CODEDEPLOY_DEPLOYMENT_CONFIG_READ_ACTIONS,
    CODEDEPLOY_FOLLOW_ACTIONS,
    CODEDEPLOY_START_ACTIONS,
    CODEDEPLOY_TARGET_AND_STOP_ACTIONS,
    ECS_CREATE_TASK_SET_ACTIONS,
    ECS_DELETE_TASK_SET_ACTIONS,
    ECS_PRIMARY_TASK_SET_ACTIONS,
    ELB_DESCRIBE_ACTIONS,
    ELB_MODIFY_LISTENER_ACTIONS,
    IAM_PASS_ROLE_ACTIONS,
    ECS_SERVICE_DESCRIBE_ACTIONS,
)
from constructs_lib.aws_context import AwsContext
from constructs_lib.iam import Condition, Role, ServiceRole, ServiceRoleProps, Statement
from constructs_lib.load_balancer import ReleaseLoadBalancer

CODEDEPLOY_PRINCIPAL = "codedeploy.amazonaws.com"
ROLLBACK_EVENTS = ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM")
MAX_TERMINATION_WAIT_MINUTES = 2880  # CodeDeploy's limit: two days
MAX_RELEASE_ALARMS = 10  # CodeDeploy's limit per deployment group
_NAME = re.compile(r"[A-Za-z0-9_.+-]{1,100}")


def deployment_config_name(name: str, canary_percent: int, bake_minutes: int) -> str:
    """``<name>-canary-<P>pct-<M>min``: a changed canary is a new configuration (they cannot be updated)."""
    return f"{name}-canary-{canary_percent}pct-{bake_minutes}min"


@dataclass(frozen=True, kw_only=True)
class CanaryReleaseProps:
    """Inputs of a service's canary releases.

    name: the CodeDeploy application's and deployment group's name, and the
        prefix of the deployment configuration's and CodeDeploy role's,
        1-100 letters, digits and ``_.+-``.
    cluster_name, service_name: the ECS service (deployment controller
        CODE_DEPLOY, created in the load balancer's first target group).
    service_arn: its ARN (the CodeDeploy role's task-set permissions).
    load_balancer: the ALB whose listener and target groups CodeDeploy shifts.
    passed_role_arns: the service's task and execution roles, which
        CodeDeploy passes to ECS when it creates a task set.
    alarm_names: release alarms; one in ALARM rolls back. 1-10 (CodeDeploy's
        limit).
    canary_percent: requests (%) the new revision serves first, 1-99.
        Default 10.
    bake_minutes: how long, 1-60. Default 5.
    termination_wait_minutes: how long the original task set keeps running
        after all traffic moved, 0-2880. Default 30.
    """

    name: str
    cluster_name: str
    service_name: str
    service_arn: str
    load_balancer: ReleaseLoadBalancer
    passed_role_arns: tuple[str, ...]
    alarm_names: tuple[str, ...]
    canary_percent: int = 10
    bake_minutes: int = 5
    termination_wait_minutes: int = 30

    def __post_init__(self) -> None:
        problems = Problems("CanaryReleaseProps")
        problems.matches("name", self.name, _NAME.pattern, "1-100 letters, digits and _.+-")
        problems.between("canary_percent", self.canary_percent, 1, 99)
        problems.between("bake_minutes", self.bake_minutes, 1, 60)
        problems.between("termination_wait_minutes", self.termination_wait_minutes, 0, MAX_TERMINATION_WAIT_MINUTES)
        if not 1 <= len(self.alarm_names) <= MAX_RELEASE_ALARMS:
            problems.add(f"alarm_names must name 1-{MAX_RELEASE_ALARMS} release alarms (without one, nothing rolls back), but {len(self.alarm_names)} were provided")
        if not self.passed_role_arns:
            problems.add("passed_role_arns must hold the service's task and execution roles, but none was provided")
        problems.raise_if_any()


class CanaryRelease(Construct):
    """The CodeDeploy application, canary configuration, service role and deployment group of one ECS service."""

    def __init__(self, scope: Construct, construct_id: str, props: CanaryReleaseProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        context = AwsContext.of(self)
        load_balancer = props.load_balancer
        self.application = CodedeployApp(self, "application", name=props.name, compute_platform="ECS")
        self.deployment_config = CodedeployDeploymentConfig(
            self,
            "deployment-config",
            deployment_config_name=deployment_config_name(props.name, props.canary_percent, props.bake_minutes),
            compute_platform="ECS",
            traffic_routing_config=CodedeployDeploymentConfigTrafficRoutingConfig(
                type="TimeBasedCanary",
                time_based_canary=CodedeployDeploymentConfigTrafficRoutingConfigTimeBasedCanary(
                    percentage=props.canary_percent, interval=props.bake_minutes
                ),
            ),
        )
        # Confused-deputy protection as CodeDeploy documents it for ECS deployments made through its API: this
        # account, and this deployment group's ARN (names, not the group's attributes: the group needs the role first).
        self.service_role = ServiceRole(
            self,
            "service-role",
            ServiceRoleProps(
                name=f"{props.name}-codedeploy",
                service=CODEDEPLOY_PRINCIPAL,
                description=f"CodeDeploy: canary releases of ECS service {props.service_name}",
                source_arn_patterns=(self.deployment_group_arn,),
            ),
        )
        task_sets = context.arn("ecs", f"task-set/{props.cluster_name}/{props.service_name}/*")
        alarms = tuple(context.arn("cloudwatch", f"alarm:{name}") for name in props.alarm_names)
        role_policy = self.service_role.grant(
            "release",
            [
                Statement(sid="ReadService", actions=ECS_SERVICE_DESCRIBE_ACTIONS, resources=(props.service_arn,)),
                # CreateTaskSet takes no resource (an ARN would match none of its requests): "*" held to this service.
                Statement(
                    sid="CreateTaskSets",
                    actions=ECS_CREATE_TASK_SET_ACTIONS,
                    resources=("*",),
                    conditions=(Condition("ArnEquals", "ecs:service", (props.service_arn,)),),
                ),
                Statement(sid="ShiftTaskSets", actions=ECS_PRIMARY_TASK_SET_ACTIONS, resources=(props.service_arn,)),
                Statement(sid="DeleteTaskSets", actions=ECS_DELETE_TASK_SET_ACTIONS, resources=(task_sets,)),
                # No resource-level permissions for the ELB Describe actions (Service Authorization Reference).
                Statement(sid="ReadLoadBalancer", actions=ELB_DESCRIBE_ACTIONS, resources=("*",)),
                Statement(sid="ShiftListener", actions=ELB_MODIFY_LISTENER_ACTIONS, resources=(load_balancer.listener_arn,)),
                Statement(sid="ReadReleaseAlarms", actions=CLOUDWATCH_DESCRIBE_ALARMS_ACTIONS, resources=alarms),
                Statement(
                    sid="PassTaskRolesToEcs",
                    actions=IAM_PASS_ROLE_ACTIONS,
                    resources=props.passed_role_arns,
                    conditions=(Condition("StringEquals", "iam:PassedToService", ("ecs-tasks.amazonaws.com",)),),
                ),
            ],
        )
        first, second = load_balancer.target_group_names
        self.deployment_group = CodedeployDeploymentGroup(
            self,
            "deployment-group",
            app_name=self.application.name,
            deployment_group_name=props.name,
            deployment_config_name=self.deployment_config.deployment_config_name,
            service_role_arn=self.service_role.role_arn,
            deployment_style=CodedeployDeploymentGroupDeploymentStyle(deployment_option="WITH_TRAFFIC_CONTROL", deployment_type="BLUE_GREEN"),
            blue_green_deployment_config=CodedeployDeploymentGroupBlueGreenDeploymentConfig(
                deployment_ready_option=CodedeployDeploymentGroupBlueGreenDeploymentConfigDeploymentReadyOption(action_on_timeout="CONTINUE_DEPLOYMENT"),
                terminate_blue_instances_on_deployment_success=CodedeployDeploymentGroupBlueGreenDeploymentConfigTerminateBlueInstancesOnDeploymentSuccess(
                    action="TERMINATE", termination_wait_time_in_minutes=props.termination_wait_minutes
                ),
            ),
            ecs_service=CodedeployDeploymentGroupEcsService(cluster_name=props.cluster_name, service_name=props.service_name),
            load_balancer_info=CodedeployDeploymentGroupLoadBalancerInfo(
                target_group_pair_info=CodedeployDeploymentGroupLoadBalancerInfoTargetGroupPairInfo(
                    prod_traffic_route=CodedeployDeploymentGroupLoadBalancerInfoTargetGroupPairInfoProdTrafficRoute(
                        listener_arns=[load_balancer.listener_arn]
                    ),
                    target_group=[
                        CodedeployDeploymentGroupLoadBalancerInfoTargetGroupPairInfoTargetGroup(name=first),
                        CodedeployDeploymentGroupLoadBalancerInfoTargetGroupPairInfoTargetGroup(name=second),
                    ],
                )
            ),
            auto_rollback_configuration=CodedeployDeploymentGroupAutoRollbackConfiguration(enabled=True, events=list(ROLLBACK_EVENTS)),
            alarm_configuration=CodedeployDeploymentGroupAlarmConfiguration(
                alarms=list(props.alarm_names), enabled=True, ignore_poll_alarm_failure=False
            ),
            # CodeDeploy checks the role's permissions when the group is created.
            depends_on=[role_policy],
        )

    # -- attributes --------------------------------------------------------------------
    @property
    def application_name(self) -> str:
        return self.application.name

    @property
    def deployment_group_name(self) -> str:
        return self.deployment_group.deployment_group_name

    @property
    def deployment_config_name(self) -> str:
        return self.deployment_config.deployment_config_name

    @property
    def deployment_group_arn(self) -> str:
        """``arn:...:codedeploy:<region>:<account>:deploymentgroup:<application>/<group>``."""
        return AwsContext.of(self).arn("codedeploy", f"deploymentgroup:{self.props.name}/{self.props.name}")

    # -- grants -------------------------------------------------------------------------
    def grant_release(self, role: Role, *, follow: bool = True) -> None:
        """Create deployments of this group only and, with ``follow``, read and stop them (what tools.ecs_deploy does).

        CreateDeployment, ListDeployments, GetDeployment and GetDeploymentGroup
        take the deployment group (Service Authorization Reference);
        CreateDeployment also reads the configuration and registers the
        AppSpec revision with the application. StopDeployment and the
        deployment-target reads take no resource and have no condition key,
        so they are on "*" (a group ARN there matched none of their requests:
        ``deploy --wait`` and ``rollback`` would have been refused on AWS; an
        IAM linter found it). In an account shared by several environments
        that lets this role stop another environment's deployment, which
        rolls it back: IAM offers nothing narrower, so give production its own
        account (``allowed_account_ids``). ``follow=False`` (the ECR-push
        updater, which returns once the deployment started): no reads of
        deployments, no stop. PassRole is not needed: CodeDeploy's own role
        passes the service's roles to ECS.
        """
        context = AwsContext.of(self)
        name = self.props.name
        actions = CODEDEPLOY_START_ACTIONS + (CODEDEPLOY_FOLLOW_ACTIONS if follow else ())
        follow_targets_and_stop = (
            [Statement(sid="FollowTargetsAndStop", actions=CODEDEPLOY_TARGET_AND_STOP_ACTIONS, resources=("*",))] if follow else []
        )
        role.grant(
            f"{self.node.id}-release",
            [
                Statement(sid="ReleaseThroughOwnGroup", actions=actions, resources=(self.deployment_group_arn,)),
                *follow_targets_and_stop,
                Statement(
                    sid="ReadOwnDeploymentConfig",
                    actions=CODEDEPLOY_DEPLOYMENT_CONFIG_READ_ACTIONS,
                    resources=(context.arn("codedeploy", f"deploymentconfig:{self.deployment_config_name}"),),
                ),
                Statement(
                    sid="RegisterOwnRevisions",
                    actions=CODEDEPLOY_APPLICATION_REVISION_ACTIONS,
                    resources=(context.arn("codedeploy", f"application:{name}"),),
                ),
            ],
        )
