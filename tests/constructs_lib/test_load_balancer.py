"""constructs_lib/load_balancer.py: the release ALB, its two target groups and the listener CodeDeploy shifts."""

from __future__ import annotations

import pytest
from cdktf import Fn, TerraformOutput

from constructs_lib.policy import MIN_REASON_LENGTH, accepted_findings, checkov_skips
from constructs_lib.load_balancer import ReleaseLoadBalancer, ReleaseLoadBalancerProps
from constructs_lib.security_groups import AppSecurityGroup, AppSecurityGroupProps
from tests.support import at, logical_id, only, ref, resources, synth_construct

REQUIRED = dict(name="cot-lb", target_group_names=("cot-a", "cot-b"), vpc_id="vpc-1", subnet_ids=("subnet-a", "subnet-b"), port=8080)
CAPTURED: dict[str, ReleaseLoadBalancer] = {}


def props(security_group=None, **overrides) -> ReleaseLoadBalancerProps:
    return ReleaseLoadBalancerProps(**{**REQUIRED, "security_group": security_group, **overrides})


@pytest.fixture(scope="module")
def document():
    def build(stack):
        group = AppSecurityGroup(stack, "alb-group", AppSecurityGroupProps(name="cot-api-alb", vpc_id="vpc-1", description="Release ALB"))
        lb = CAPTURED["lb"] = ReleaseLoadBalancer(stack, "release-lb", props(group, health_check_path="/healthz"))
        for name in ("listener_arn", "load_balancer_arn", "dns_name"):
            TerraformOutput(stack, name, value=getattr(lb, name))
        for index, arn in enumerate(lb.target_group_arns):
            TerraformOutput(stack, f"target_group_{index}", value=arn)

    return synth_construct(build)


def group_ref(document, label: str, attribute: str = "arn") -> str:
    return ref(document, "aws_lb_target_group", logical_id(resources(document, "aws_lb_target_group"), f"release-lb/target-group-{label}"), attribute)


def lb_ref(document, attribute: str) -> str:
    return ref(document, "aws_lb", logical_id(resources(document, "aws_lb"), "release-lb/load-balancer"), attribute)


# -- the ALB ------------------------------------------------------------------------------
def test_the_alb_is_internal_in_the_private_subnets_behind_its_group(document):
    lb = only(document, "aws_lb")
    assert lb["name"] == "cot-lb"
    # An application load balancer: only it weighs requests between two target groups.
    assert (lb["load_balancer_type"], lb["internal"]) == ("application", True)
    assert lb["subnets"] == ["subnet-a", "subnet-b"]
    group_id = logical_id(resources(document, "aws_security_group"), "alb-group/security-group")
    assert lb["security_groups"] == [ref(document, "aws_security_group", group_id, "id")]
    # Requests with malformed headers are dropped, not forwarded to the tasks.
    assert lb["drop_invalid_header_fields"] is True


# -- the target groups -----------------------------------------------------------------------
@pytest.mark.parametrize(("label", "name"), [("a", "cot-a"), ("b", "cot-b")])
def test_each_target_group_takes_task_ips_over_http_on_the_port(document, label, name):
    group = at(resources(document, "aws_lb_target_group"), f"release-lb/target-group-{label}")
    assert group["name"] == name
    # Fargate tasks (awsvpc) register by IP; the ALB speaks HTTP to them on the container port.
    assert (group["target_type"], group["protocol"], group["port"], group["vpc_id"]) == ("ip", "HTTP", 8080, "vpc-1")
    check = group["health_check"]
    assert (check["enabled"], check["protocol"], check["path"], check["port"]) == (True, "HTTP", "/healthz", "traffic-port")
    # Any answer below 500 means the process serves (an API root may answer 401 or 404).
    assert check["matcher"] == "200-499"
    # ELB requires the timeout to be shorter than the interval.
    assert check["timeout"] < check["interval"]
    assert (check["healthy_threshold"], check["unhealthy_threshold"]) == (2, 3)
    # API Gateway waits 30 s at most for an answer: a leaving task keeps its requests that long.
    assert group["deregistration_delay"] == "30"


def test_the_group_arns_are_the_groups_own_a_first(document):
    outputs = {name: output["value"] for name, output in document["output"].items()}
    # The ECS service is created in a: the first ARN must be a's, read from the group, not through the listener.
    assert (outputs["target_group_0"], outputs["target_group_1"]) == (group_ref(document, "a"), group_ref(document, "b"))
    assert CAPTURED["lb"].target_group_names == ("cot-a", "cot-b")


# -- the listener --------------------------------------------------------------------------
def test_the_listener_serves_http_on_the_port_and_forwards_to_a_first(document):
    listener = only(document, "aws_lb_listener")
    assert listener["load_balancer_arn"] == lb_ref(document, "arn")
    assert (listener["protocol"], listener["port"]) == ("HTTP", 8080)
    assert listener["default_action"] == [{"type": "forward", "target_group_arn": group_ref(document, "a")}]
    assert "certificate_arn" not in listener and "ssl_policy" not in listener


def test_terraform_leaves_the_listeners_action_to_codedeploy(document):
    """CodeDeploy moves the listener between a and b (with weights during a canary); a plan must not move it back."""
    listener = only(document, "aws_lb_listener")
    assert "default_action" in listener["lifecycle"]["ignore_changes"]
    assert not listener["lifecycle"].get("create_before_destroy")


def test_attributes_reference_the_resources(document):
    outputs = {name: output["value"] for name, output in document["output"].items()}
    listener_id = logical_id(resources(document, "aws_lb_listener"), "release-lb/listener")
    assert outputs["listener_arn"] == ref(document, "aws_lb_listener", listener_id, "arn")
    assert outputs["load_balancer_arn"] == lb_ref(document, "arn")
    assert outputs["dns_name"] == lb_ref(document, "dns_name")


# -- metrics ------------------------------------------------------------------------------------
METRICS = {
    "metric_requests": ("RequestCount", "Sum"),
    "metric_target_5xx": ("HTTPCode_Target_5XX_Count", "Sum"),
    "metric_target_response_time": ("TargetResponseTime", "p99"),
    "metric_unhealthy_hosts": ("UnHealthyHostCount", "Maximum"),
}


def test_metrics_are_each_target_groups_on_this_alb():
    captured = {}

    def build(stack):
        group = AppSecurityGroup(stack, "alb-group", AppSecurityGroupProps(name="cot-api-alb", vpc_id="vpc-1", description="Release ALB"))
        lb = ReleaseLoadBalancer(stack, "release-lb", props(group))
        for helper in METRICS:
            for index in (0, 1):
                metric = captured[helper, index] = getattr(lb, helper)(index)
                for dimension, value in metric.dimensions.items():
                    TerraformOutput(stack, f"{helper}_{index}_{dimension}", value=value)

    document = synth_construct(build)
    outputs = {name: output["value"] for name, output in document["output"].items()}
    for helper, (metric_name, statistic) in METRICS.items():
        for index, label in enumerate(("a", "b")):
            metric = captured[helper, index]
            assert (metric.namespace, metric.metric_name, metric.statistic) == ("AWS/ApplicationELB", metric_name, statistic)
            assert sorted(metric.dimensions) == ["LoadBalancer", "TargetGroup"]
            # CloudWatch's dimensions are the ARN suffixes: app/<name>/<id> and targetgroup/<name>/<id>.
            assert outputs[f"{helper}_{index}_LoadBalancer"] == lb_ref(document, "arn_suffix")
            assert outputs[f"{helper}_{index}_TargetGroup"] == group_ref(document, label, "arn_suffix")


# -- policy scan and live audit -----------------------------------------------------------------
def test_the_checks_skipped_and_findings_accepted_say_why(document):
    lb = CAPTURED["lb"]
    skipped = {
        "load balancer": checkov_skips(lb.load_balancer),
        "listener": checkov_skips(lb.listener),
        **{f"target group {index}": checkov_skips(group) for index, group in enumerate(lb.target_groups)},
    }
    # HTTP inside the VPC (no TLS, so no TLS policy), no access logs, no deletion protection, no HTTPS redirect.
    assert set(skipped["listener"]) == {"CKV_AWS_2", "CKV_AWS_103"}
    assert set(skipped["load balancer"]) == {"CKV_AWS_91", "CKV_AWS_150", "CKV2_AWS_20"}
    assert all(set(skips) == {"CKV_AWS_378"} for where, skips in skipped.items() if where.startswith("target group"))
    accepted = accepted_findings(lb.load_balancer)
    assert {"elbv2_deletion_protection", "elbv2_logging_enabled", "elbv2_ssl_listeners", "elbv2_waf_acl_attached"} <= set(accepted)
    for reason in [*accepted.values(), *(reason for skips in skipped.values() for reason in skips.values())]:
        assert len(reason) >= MIN_REASON_LENGTH and "\n" not in reason


# -- props ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "x" * 33}, f"name must be 1-32 letters, digits and '-', not starting or ending with '-', but '{'x' * 33}' was provided"),
        ({"name": "-lb"}, "name must be 1-32 letters, digits and '-', not starting or ending with '-', but '-lb' was provided"),
        ({"name": "cot_lb"}, "but 'cot_lb' was provided"),
        ({"target_group_names": ("cot-a", "cot-b-")}, "target_group_names must be 1-32 letters, digits and '-', not starting or ending with '-', but 'cot-b-' was provided"),
        ({"target_group_names": ("cot-a", "cot-a")}, "target_group_names must be two different names, but ['cot-a', 'cot-a'] was provided"),
        ({"subnet_ids": ("subnet-a",)}, "subnet_ids must hold at least two subnets (an ALB spans two zones), but 1 were provided"),
        ({"port": 0}, "port must be between 1 and 65535, but 0 was provided"),
        ({"port": 65536}, "port must be between 1 and 65535, but 65536 was provided"),
        ({"health_check_path": "health"}, "health_check_path must be a path starting with '/', up to 1024 letters, digits and /_.~-, but 'health' was provided"),
        ({"health_check_path": "/health?x=1"}, "but '/health?x=1' was provided"),
        ({"health_check_path": "/" + "h" * 1024}, "health_check_path must be a path starting with '/'"),
        ({"health_check_interval_seconds": 4}, "health_check_interval_seconds must be between 5 and 300, but 4 was provided"),
        ({"healthy_threshold_count": 1}, "healthy_threshold_count must be between 2 and 10, but 1 was provided"),
        ({"unhealthy_threshold_count": 11}, "unhealthy_threshold_count must be between 2 and 10, but 11 was provided"),
        ({"deregistration_delay_seconds": 3601}, "deregistration_delay_seconds must be between 0 and 3600, but 3601 was provided"),
    ],
)  # fmt: skip
def test_props_name_the_field_the_allowed_values_and_the_value(overrides, message):
    with pytest.raises(ValueError, match="^ReleaseLoadBalancerProps: ") as caught:
        props(**overrides)
    assert message in str(caught.value)


def test_props_accept_the_limits():
    props(name="x" * 32, target_group_names=("a" * 32, "b"), health_check_path="/" + "h" * 1023, port=65535)


def test_props_report_every_problem_at_once():
    with pytest.raises(ValueError) as caught:
        props(name="-", subnet_ids=(), port=0)
    assert str(caught.value).count("; ") == 2


def test_tokens_are_not_checked_at_synth():
    props(name=Fn.lower("known-at-apply"), health_check_path=Fn.lower("/known"))
