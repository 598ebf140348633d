"""The API's release load balancer: an internal ALB with two target groups, for traffic-shifted releases.

Why it exists: a canary sends a share of requests to the new revision, and
only a load balancer can weigh requests. Cloud Map cannot: its DNS keeps
answering with whatever tasks are registered, so the seed's HTTP API
integration would reach old and new tasks by chance, and a rollback would
wait for DNS caches. CodeDeploy's ECS blue/green deployments shift an ALB
listener between two target groups.

Shape:

* an internal ALB in the private subnets, with a security group given by
  the network layer (its rules reference the VPC link's, the WebSocket NLB's
  and the API tasks' groups);
* two target groups, ``a`` and ``b`` (IP targets: Fargate tasks in awsvpc
  mode, HTTP on the container port, the health check on
  ``health_check_path`` where any answer below 500 means the process serves);
* one production listener on ``port`` that forwards to ``a`` when created.
  CodeDeploy owns it from then on (it forwards to whichever group serves,
  with weights during a canary), so Terraform ignores its default action.

Both APIs reach the tasks through it: the HTTP API's VPC link integration
targets the listener (``listener_arn``), and the WebSocket API's NLB
forwards to the ALB through a target group of type ``alb``. A release
therefore shifts both together.

The listener speaks HTTP: clients' TLS ends at CloudFront and again at
API Gateway, and this hop stays inside the VPC between API Gateway's VPC
link and the tasks (the checkov skips below say so, with the reasons the
README lists).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.lb import Lb
from cdktf_cdktf_provider_aws.lb_listener import LbListener, LbListenerDefaultAction
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from constructs import Construct

from constructs_lib._validation import Problems
from constructs_lib.limits import HEALTH_CHECK_PATH
from constructs_lib.metrics import Metric
from constructs_lib.policy import accept_finding, skip_check
from constructs_lib.security_groups import AppSecurityGroup

# Any answer below 500 means the process serves HTTP: the API's root may answer 404 or 401.
HEALTH_CHECK_MATCHER = "200-499"
APPLICATION_ELB_NAMESPACE = "AWS/ApplicationELB"
_ELB_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,30}[A-Za-z0-9])?")
# Attributes CodeDeploy owns: which target group (and with what weight) the listener forwards to.
LISTENER_IGNORED_CHANGES = ("default_action",)

# checkov checks that do not fit this design, with the reason the README lists.
CHECKS_NOT_APPLICABLE = {
    "CKV_AWS_2": "Internal listener inside the VPC: clients' TLS ends at CloudFront and API Gateway, and only API Gateway's VPC link and the WebSocket NLB reach this port",
    "CKV_AWS_103": "The listener is HTTP inside the VPC (see CKV_AWS_2), so it has no TLS policy to set",
    "CKV_AWS_91": "API Gateway access logs already record every request this ALB forwards; ALB access logs would need an SSE-S3 bucket outside the project's KMS keys",
    "CKV_AWS_150": "The ALB holds no data and plan_guard refuses its replacement; deletion protection would only block destroy of a disposable environment",
    "CKV2_AWS_20": "No client reaches this internal ALB: CloudFront redirects viewers to HTTPS, and API Gateway is HTTPS only",
}
# Where checkov reports each (the policy gate refuses a skip it no longer reports).
LOAD_BALANCER_CHECKS = ("CKV_AWS_91", "CKV_AWS_150", "CKV2_AWS_20")
LISTENER_CHECKS = ("CKV_AWS_2", "CKV_AWS_103")
TARGET_GROUP_CHECKS_NOT_APPLICABLE = {
    "CKV_AWS_378": CHECKS_NOT_APPLICABLE["CKV_AWS_2"],
}
# Live-audit (prowler) findings accepted on the ALB.
FINDINGS_ACCEPTED = {
    "elbv2_deletion_protection": CHECKS_NOT_APPLICABLE["CKV_AWS_150"],
    "elbv2_logging_enabled": CHECKS_NOT_APPLICABLE["CKV_AWS_91"],
    "elbv2_ssl_listeners": CHECKS_NOT_APPLICABLE["CKV_AWS_2"],
    "elbv2_waf_acl_attached": "Internal ALB: the web ACL guards the CloudFront distributions in front of both APIs, the only way in",
}


@dataclass(frozen=True, kw_only=True)
class ReleaseLoadBalancerProps:
    """Inputs of the release load balancer.

    name: the ALB's name, 1-32 letters, digits and '-'.
    target_group_names: the two target groups' names (``a``, ``b``), each
        1-32 letters, digits and '-'.
    vpc_id: the VPC of the API tasks.
    subnet_ids: private subnets, at least two (an ALB spans two zones).
    security_group: the ALB's group (made in the network layer).
    port: listener port, and the tasks' port, 1-65535.
    health_check_path: path checked on each task. Default "/".
    health_check_interval_seconds: 5-300. Default 10.
    healthy_threshold_count: checks in a row to become healthy, 2-10.
        Default 2: a new task set takes traffic 20 s after it answers.
    unhealthy_threshold_count: checks in a row to become unhealthy, 2-10.
        Default 3.
    deregistration_delay_seconds: time a task leaving a group keeps its
        in-flight requests, 0-3600. Default 30 (API Gateway waits 30 s at most).
    """

    name: str
    target_group_names: tuple[str, str]
    vpc_id: str
    subnet_ids: tuple[str, ...]
    security_group: AppSecurityGroup
    port: int
    health_check_path: str = "/"
    health_check_interval_seconds: int = 10
    healthy_threshold_count: int = 2
    unhealthy_threshold_count: int = 3
    deregistration_delay_seconds: int = 30

    def __post_init__(self) -> None:
        problems = Problems("ReleaseLoadBalancerProps")
        for label, name in (("name", self.name), *(("target_group_names", group) for group in self.target_group_names)):
            problems.matches(label, name, _ELB_NAME.pattern, "1-32 letters, digits and '-', not starting or ending with '-'")
        if len(self.target_group_names) != 2 or len(set(self.target_group_names)) != 2:
            problems.add(f"target_group_names must be two different names, but {list(self.target_group_names)!r} was provided")
        if len(self.subnet_ids) < 2:
            problems.add(f"subnet_ids must hold at least two subnets (an ALB spans two zones), but {len(self.subnet_ids)} were provided")
        problems.between("port", self.port, 1, 65535)
        problems.matches("health_check_path", self.health_check_path, HEALTH_CHECK_PATH, "a path starting with '/', up to 1024 letters, digits and /_.~-")
        problems.between("health_check_interval_seconds", self.health_check_interval_seconds, 5, 300)
        problems.between("healthy_threshold_count", self.healthy_threshold_count, 2, 10)
        problems.between("unhealthy_threshold_count", self.unhealthy_threshold_count, 2, 10)
        problems.between("deregistration_delay_seconds", self.deregistration_delay_seconds, 0, 3600)
        problems.raise_if_any()


class ReleaseLoadBalancer(Construct):
    """An internal ALB, two target groups and the production listener CodeDeploy shifts."""

    def __init__(self, scope: Construct, construct_id: str, props: ReleaseLoadBalancerProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.load_balancer = Lb(
            self,
            "load-balancer",
            name=props.name,
            internal=True,
            load_balancer_type="application",
            subnets=list(props.subnet_ids),
            security_groups=[props.security_group.security_group_id],
            drop_invalid_header_fields=True,
            tags={"Name": props.name},
        )
        for check_id in LOAD_BALANCER_CHECKS:
            skip_check(self.load_balancer, check_id, CHECKS_NOT_APPLICABLE[check_id])
        for check_id, reason in FINDINGS_ACCEPTED.items():
            accept_finding(self.load_balancer, check_id, reason)
        self.target_groups = tuple(
            LbTargetGroup(
                self,
                f"target-group-{label}",
                name=name,
                vpc_id=props.vpc_id,
                target_type="ip",  # Fargate tasks (awsvpc) register by IP
                protocol="HTTP",
                port=props.port,
                deregistration_delay=str(props.deregistration_delay_seconds),
                health_check=LbTargetGroupHealthCheck(
                    enabled=True,
                    protocol="HTTP",
                    path=props.health_check_path,
                    port="traffic-port",
                    matcher=HEALTH_CHECK_MATCHER,
                    interval=props.health_check_interval_seconds,
                    timeout=5,
                    healthy_threshold=props.healthy_threshold_count,
                    unhealthy_threshold=props.unhealthy_threshold_count,
                ),
                tags={"Name": name},
            )
            for label, name in zip(("a", "b"), props.target_group_names)
        )
        for group in self.target_groups:
            for check_id, reason in TARGET_GROUP_CHECKS_NOT_APPLICABLE.items():
                skip_check(group, check_id, reason)
        self.listener = LbListener(
            self,
            "listener",
            load_balancer_arn=self.load_balancer.arn,
            protocol="HTTP",
            port=props.port,
            default_action=[LbListenerDefaultAction(type="forward", target_group_arn=self.target_groups[0].arn)],
            lifecycle=TerraformResourceLifecycle(ignore_changes=list(LISTENER_IGNORED_CHANGES)),
        )
        for check_id in LISTENER_CHECKS:
            skip_check(self.listener, check_id, CHECKS_NOT_APPLICABLE[check_id])

    # -- attributes --------------------------------------------------------------------
    @property
    def load_balancer_arn(self) -> str:
        return self.load_balancer.arn

    @property
    def dns_name(self) -> str:
        return self.load_balancer.dns_name

    @property
    def listener_arn(self) -> str:
        return self.listener.arn

    @property
    def port(self) -> int:
        return self.props.port

    @property
    def target_group_names(self) -> tuple[str, str]:
        return self.props.target_group_names

    @property
    def target_group_arns(self) -> tuple[str, str]:
        """The groups' ARNs, ``a`` first: the ECS service is created in ``a``.

        Not read through the listener: CodeDeploy changes its default action,
        and an output that follows it would show a change after every release.
        The edge layer (the listener) is applied before the services layer.
        """
        return (self.target_groups[0].arn, self.target_groups[1].arn)

    # -- metrics ------------------------------------------------------------------------
    def metric(self, target_group: int, metric_name: str, *, statistic: str = "Sum") -> Metric:
        """A metric of target group ``target_group`` (0: ``a``, 1: ``b``) on this ALB, 1-minute period."""
        return Metric(
            namespace=APPLICATION_ELB_NAMESPACE,
            metric_name=metric_name,
            dimensions={"LoadBalancer": self.load_balancer.arn_suffix, "TargetGroup": self.target_groups[target_group].arn_suffix},
            statistic=statistic,
        )

    def metric_requests(self, target_group: int) -> Metric:
        """Requests the group's targets received (``RequestCount``)."""
        return self.metric(target_group, "RequestCount")

    def metric_target_5xx(self, target_group: int) -> Metric:
        """5xx answers of the group's targets (``HTTPCode_Target_5XX_Count``)."""
        return self.metric(target_group, "HTTPCode_Target_5XX_Count")

    def metric_target_response_time(self, target_group: int) -> Metric:
        """Seconds from the request leaving the ALB to the target's answer (``TargetResponseTime``)."""
        return self.metric(target_group, "TargetResponseTime", statistic="p99")

    def metric_unhealthy_hosts(self, target_group: int) -> Metric:
        """Targets failing the health check (``UnHealthyHostCount``)."""
        return self.metric(target_group, "UnHealthyHostCount", statistic="Maximum")
