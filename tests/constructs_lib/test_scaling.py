"""constructs_lib/scaling.py (and scaling_steps.py): target tracking and queue-depth scaling."""

from __future__ import annotations

import pytest

from constructs_lib.metrics import Metric
from constructs_lib.scaling import (
    QueueDepthScaling,
    QueueDepthScalingProps,
    ScalableTargetProps,
    TargetTracking,
    TargetTrackingProps,
    ecs_service_resource_id,
)
from constructs_lib.scaling_steps import DEFAULT_SCALING_STEPS, ScalingStep, scaling_step_problems
from tests.support import at, resources, synth_construct, logical_id, ref

VISIBLE = Metric(namespace="AWS/SQS", metric_name="ApproximateNumberOfMessagesVisible", dimensions={"QueueName": "cot-jobs"}, statistic="Maximum")
IN_FLIGHT = Metric(namespace="AWS/SQS", metric_name="ApproximateNumberOfMessagesNotVisible", dimensions={"QueueName": "cot-jobs"}, statistic="Maximum")


def queue_props(**overrides) -> QueueDepthScalingProps:
    return QueueDepthScalingProps(
        **{
            "name": "cot-workers",
            "cluster_name": "cot-workers",
            "service_name": "worker-service",
            "visible_messages": VISIBLE,
            "in_flight_messages": IN_FLIGHT,
            **overrides,
        }
    )


@pytest.fixture(scope="module")
def doc():
    def build(stack):
        TargetTracking(
            stack,
            "api-scaling",
            TargetTrackingProps(
                name="cot-api-cpu",
                target=ScalableTargetProps(
                    service_namespace="ecs",
                    resource_id=ecs_service_resource_id("cot-api", "api-service"),
                    scalable_dimension="ecs:service:DesiredCount",
                    min_capacity=2,
                    max_capacity=10,
                ),
                predefined_metric_type="ECSServiceAverageCPUUtilization",
                target_value_percent=60,
            ),
        )
        QueueDepthScaling(stack, "worker-scaling", queue_props())
        QueueDepthScaling(stack, "small-scaling", queue_props(name="cot-small", min_capacity=1, max_capacity=4, steps=(ScalingStep(5, 2),), scale_in_after_minutes=10))

    return synth_construct(build)


def test_api_tracks_average_cpu_between_min_and_max(doc):
    target = at(resources(doc, "aws_appautoscaling_target"), "api-scaling/target")
    assert target == {
        "service_namespace": "ecs",
        "resource_id": "service/cot-api/api-service",
        "scalable_dimension": "ecs:service:DesiredCount",
        "min_capacity": 2,
        "max_capacity": 10,
    }
    policy = at(resources(doc, "aws_appautoscaling_policy"), "api-scaling/policy")
    assert policy["policy_type"] == "TargetTrackingScaling"
    assert policy["target_tracking_scaling_policy_configuration"] == {
        "target_value": 60,
        "predefined_metric_specification": {"predefined_metric_type": "ECSServiceAverageCPUUtilization"},
        "scale_in_cooldown": 300,
        "scale_out_cooldown": 60,
    }


def test_workers_scale_from_zero_to_the_maximum(doc):
    target = at(resources(doc, "aws_appautoscaling_target"), "worker-scaling/target")
    assert (target["min_capacity"], target["max_capacity"]) == (0, 20)
    assert target["resource_id"] == "service/cot-workers/worker-service"


def test_one_visible_message_triggers_scale_out(doc):
    alarm = at(resources(doc, "aws_cloudwatch_metric_alarm"), "worker-scaling/scale-out-alarm")
    assert alarm["alarm_name"] == "cot-workers-backlog"
    assert (alarm["namespace"], alarm["metric_name"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert alarm["dimensions"] == {"QueueName": "cot-jobs"}
    assert (alarm["statistic"], alarm["period"], alarm["evaluation_periods"]) == ("Maximum", 60, 1)
    assert (alarm["comparison_operator"], alarm["threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    assert alarm["treat_missing_data"] == "notBreaching"
    policies = resources(doc, "aws_appautoscaling_policy")
    assert alarm["alarm_actions"] == [ref(doc, "aws_appautoscaling_policy", logical_id(policies, "worker-scaling/scale-out-policy"), "arn")]


def test_scale_out_steps_add_tasks_and_never_remove_any(doc):
    policy = at(resources(doc, "aws_appautoscaling_policy"), "worker-scaling/scale-out-policy")
    assert policy["policy_type"] == "StepScaling"
    configuration = policy["step_scaling_policy_configuration"]
    # ChangeInCapacity: ExactCapacity would lower the count while jobs still run.
    assert configuration["adjustment_type"] == "ChangeInCapacity"
    assert configuration["metric_aggregation_type"] == "Maximum"
    assert configuration["cooldown"] == 120
    # Bounds are relative to the threshold (1 visible message).
    assert configuration["step_adjustment"] == [
        {"metric_interval_lower_bound": "0", "metric_interval_upper_bound": "49", "scaling_adjustment": 1},
        {"metric_interval_lower_bound": "49", "metric_interval_upper_bound": "199", "scaling_adjustment": 5},
        {"metric_interval_lower_bound": "199", "metric_interval_upper_bound": "999", "scaling_adjustment": 10},
        {"metric_interval_lower_bound": "999", "scaling_adjustment": 20},
    ]
    assert all(step["scaling_adjustment"] > 0 for step in configuration["step_adjustment"])


def test_scale_in_needs_an_empty_queue_in_flight_included_for_minutes(doc):
    alarm = at(resources(doc, "aws_cloudwatch_metric_alarm"), "worker-scaling/scale-in-alarm")
    assert alarm["alarm_name"] == "cot-workers-idle"
    assert (alarm["comparison_operator"], alarm["threshold"]) == ("LessThanOrEqualToThreshold", 0)
    assert (alarm["evaluation_periods"], alarm["datapoints_to_alarm"]) == (5, 5)
    assert alarm["treat_missing_data"] == "notBreaching"
    queries = {query["id"]: query for query in alarm["metric_query"]}
    assert queries["backlog"] == {"id": "backlog", "expression": "visible + in_flight", "label": "Messages visible or in flight", "return_data": True}
    assert queries["visible"]["metric"] == {
        "namespace": "AWS/SQS", "metric_name": "ApproximateNumberOfMessagesVisible",
        "dimensions": {"QueueName": "cot-jobs"}, "stat": "Maximum", "period": 60,
    }  # fmt: skip
    assert queries["in_flight"]["metric"]["metric_name"] == "ApproximateNumberOfMessagesNotVisible"
    assert queries["visible"]["return_data"] is False and queries["in_flight"]["return_data"] is False
    assert "namespace" not in alarm and "metric_name" not in alarm


def test_scale_in_goes_to_the_minimum(doc):
    policy = at(resources(doc, "aws_appautoscaling_policy"), "worker-scaling/scale-in-policy")
    configuration = policy["step_scaling_policy_configuration"]
    assert configuration["adjustment_type"] == "ExactCapacity"
    assert configuration["step_adjustment"] == [{"metric_interval_upper_bound": "0", "scaling_adjustment": 0}]
    small = at(resources(doc, "aws_appautoscaling_policy"), "small-scaling/scale-in-policy")
    assert small["step_scaling_policy_configuration"]["step_adjustment"] == [{"metric_interval_upper_bound": "0", "scaling_adjustment": 1}]


def test_custom_steps_threshold_and_minutes(doc):
    alarm = at(resources(doc, "aws_cloudwatch_metric_alarm"), "small-scaling/scale-out-alarm")
    assert alarm["threshold"] == 5
    steps = at(resources(doc, "aws_appautoscaling_policy"), "small-scaling/scale-out-policy")["step_scaling_policy_configuration"]["step_adjustment"]
    assert steps == [{"metric_interval_lower_bound": "0", "scaling_adjustment": 2}]
    assert at(resources(doc, "aws_cloudwatch_metric_alarm"), "small-scaling/scale-in-alarm")["evaluation_periods"] == 10


def test_default_steps_are_the_issue_s():
    assert [(s.visible_messages, s.tasks) for s in DEFAULT_SCALING_STEPS] == [(1, 1), (50, 5), (200, 10), (1000, 20)]
    assert scaling_step_problems([(1, 1), (50, 5), (200, 10), (1000, 20)], 20) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_capacity": 21}, "min_capacity must be between 0 and 20, but 21 was provided"),
        ({"max_capacity": 0, "steps": (ScalingStep(1, 1),)}, "max_capacity must be between 1 and 1000, but 0 was provided"),
        ({"scale_in_after_minutes": 0}, "scale_in_after_minutes must be between 1 and 60, but 0 was provided"),
        ({"scale_out_cooldown_seconds": 3601}, "scale_out_cooldown_seconds must be between 0 and 3600, but 3601 was provided"),
        ({"steps": ()}, "steps must hold at least one [visible_messages, tasks] pair, but none was provided"),
        ({"steps": (ScalingStep(0, 1),)}, "steps must start at 1 or more visible messages, but 0 was provided"),
        ({"steps": (ScalingStep(10, 1), ScalingStep(5, 2))}, "steps must have strictly ascending visible_messages thresholds, but 5 follows 10"),
        ({"steps": (ScalingStep(1, 21),)}, "steps tasks must be between 1 and the maximum capacity (20), but 21 was provided at 1 visible messages"),
        ({"steps": (ScalingStep(1, 3), ScalingStep(9, 2))}, "steps must not add fewer tasks for a larger backlog, but 2 at 9 visible messages follows 3"),
    ],
)
def test_queue_depth_props_validation_messages(kwargs, message):
    with pytest.raises(ValueError, match="^QueueDepthScalingProps: ") as caught:
        queue_props(**kwargs)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target_value_percent": 95}, "target_value_percent must be between 10 and 90, but 95 was provided"),
        ({"scale_in_cooldown_seconds": -1}, "scale_in_cooldown_seconds must be between 0 and 3600, but -1 was provided"),
        ({"scale_out_cooldown_seconds": 4000}, "scale_out_cooldown_seconds must be between 0 and 3600, but 4000 was provided"),
        ({"target": ScalableTargetProps(service_namespace="lambda", resource_id="x", scalable_dimension="y", min_capacity=1, max_capacity=2)},
         "service_namespace must be one of ecs, dynamodb, but 'lambda' was provided"),
        ({"target": ScalableTargetProps(service_namespace="ecs", resource_id="x", scalable_dimension="y", min_capacity=3, max_capacity=2)},
         "min_capacity must be between 0 and max_capacity (2), but 3 was provided"),
        ({"target": ScalableTargetProps(service_namespace="ecs", resource_id="x", scalable_dimension="y", min_capacity=-1, max_capacity=0)},
         "min_capacity and max_capacity must be at least 0 and 1, but -1 and 0 were provided"),
    ],
)  # fmt: skip
def test_target_tracking_props_validation_messages(kwargs, message):
    target = ScalableTargetProps(service_namespace="ecs", resource_id="x", scalable_dimension="y", min_capacity=1, max_capacity=2)
    with pytest.raises(ValueError, match="^TargetTrackingProps: ") as caught:
        TargetTrackingProps(**{"name": "p", "target": target, "predefined_metric_type": "ECSServiceAverageCPUUtilization", **kwargs})
    assert message in str(caught.value)
