"""Application Auto Scaling: target tracking, and step scaling on a queue.

Two shapes cover this project:

``TargetTracking`` keeps a predefined metric at a target (the API's average
CPU, a provisioned table's consumed capacity).

``QueueDepthScaling`` runs queue workers from zero. A backlog-per-task
metric divides by zero at zero tasks, so it uses step scaling on the queue
itself, with two alarms:

* scale out: ``ApproximateNumberOfMessagesVisible >= steps[0]`` for one
  minute. Each step ``(visible_messages, tasks)`` adds ``tasks`` tasks
  while the backlog is at least ``visible_messages`` (``ChangeInCapacity``);
  the alarm repeats the action every cooldown while the backlog lasts, up
  to ``max_capacity``. One visible message therefore starts one task, a
  large backlog adds many at once. Adding (not ``ExactCapacity``) is
  deliberate: an exact step would also *lower* the count when the backlog
  shrinks while jobs still run, killing them.
* scale in: ``Visible + NotVisible <= 0`` (metric math) for
  ``scale_in_after_minutes`` consecutive minutes sets the count to
  ``min_capacity``. NotVisible counts the messages workers hold, so while
  any job runs, nothing scales in (aws-cdk #9242 scales in on Visible
  alone and kills running jobs). Missing data is "not breaching": an
  absent datapoint never counts as an empty queue.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicy,
    AppautoscalingPolicyStepScalingPolicyConfiguration,
    AppautoscalingPolicyStepScalingPolicyConfigurationStepAdjustment,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
)
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)
from constructs import Construct

from constructs_lib._validation import Problems
from constructs_lib.metrics import Metric
from constructs_lib.scaling_steps import DEFAULT_SCALING_STEPS, ScalingStep, scaling_step_problems

MAX_TASKS = 1000  # per-service task limit we accept in props


def ecs_service_resource_id(cluster_name: str, service_name: str) -> str:
    """Application Auto Scaling's id of an ECS service."""
    return f"service/{cluster_name}/{service_name}"


def dynamodb_table_resource_id(table_name: str) -> str:
    """Application Auto Scaling's id of a DynamoDB table."""
    return f"table/{table_name}"


@dataclass(frozen=True, kw_only=True)
class ScalableTargetProps:
    """What to scale.

    service_namespace: ``ecs`` or ``dynamodb``.
    resource_id: such as ``service/<cluster>/<service>`` (see the helpers).
    scalable_dimension: such as ``ecs:service:DesiredCount``.
    min_capacity, max_capacity: bounds, 0 <= min <= max.
    """

    service_namespace: str
    resource_id: str
    scalable_dimension: str
    min_capacity: int
    max_capacity: int

    def problems(self, problems: Problems) -> None:
        problems.one_of("service_namespace", self.service_namespace, ("ecs", "dynamodb"))
        if self.min_capacity < 0 or self.max_capacity < 1:
            problems.add(f"min_capacity and max_capacity must be at least 0 and 1, but {self.min_capacity} and {self.max_capacity} were provided")
        if self.min_capacity > self.max_capacity:
            problems.add(f"min_capacity must be between 0 and max_capacity ({self.max_capacity}), but {self.min_capacity} was provided")


def _scalable_target(scope: Construct, target: ScalableTargetProps) -> AppautoscalingTarget:
    return AppautoscalingTarget(
        scope,
        "target",
        service_namespace=target.service_namespace,
        resource_id=target.resource_id,
        scalable_dimension=target.scalable_dimension,
        min_capacity=target.min_capacity,
        max_capacity=target.max_capacity,
    )


@dataclass(frozen=True, kw_only=True)
class TargetTrackingProps:
    """Keep a predefined metric at a target.

    name: policy name.
    target: the scalable target.
    predefined_metric_type: such as ``ECSServiceAverageCPUUtilization`` or
        ``DynamoDBReadCapacityUtilization``.
    target_value_percent: 10-90. Default 60.
    scale_in_cooldown_seconds: 0-3600. Default 300: scale in slowly.
    scale_out_cooldown_seconds: 0-3600. Default 60: scale out fast.
    """

    name: str
    target: ScalableTargetProps
    predefined_metric_type: str
    target_value_percent: int = 60
    scale_in_cooldown_seconds: int = 300
    scale_out_cooldown_seconds: int = 60

    def __post_init__(self) -> None:
        problems = Problems("TargetTrackingProps")
        self.target.problems(problems)
        problems.between("target_value_percent", self.target_value_percent, 10, 90)
        problems.between("scale_in_cooldown_seconds", self.scale_in_cooldown_seconds, 0, 3600)
        problems.between("scale_out_cooldown_seconds", self.scale_out_cooldown_seconds, 0, 3600)
        problems.raise_if_any()


class TargetTracking(Construct):
    """A scalable target and one target-tracking policy."""

    def __init__(self, scope: Construct, construct_id: str, props: TargetTrackingProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.target = _scalable_target(self, props.target)
        self.policy = AppautoscalingPolicy(
            self,
            "policy",
            name=props.name,
            policy_type="TargetTrackingScaling",
            service_namespace=self.target.service_namespace,
            resource_id=self.target.resource_id,
            scalable_dimension=self.target.scalable_dimension,
            target_tracking_scaling_policy_configuration=AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                target_value=props.target_value_percent,
                predefined_metric_specification=AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                    predefined_metric_type=props.predefined_metric_type
                ),
                scale_in_cooldown=props.scale_in_cooldown_seconds,
                scale_out_cooldown=props.scale_out_cooldown_seconds,
            ),
        )


@dataclass(frozen=True, kw_only=True)
class QueueDepthScalingProps:
    """Scale an ECS service on a queue's depth (see the module docstring).

    name: prefix of the policy and alarm names.
    cluster_name, service_name: the ECS service.
    visible_messages: the queue's ApproximateNumberOfMessagesVisible metric.
    in_flight_messages: its ApproximateNumberOfMessagesNotVisible metric.
    min_capacity: 0-1000. Default 0 (no tasks while the queue is empty).
    max_capacity: 1-1000. Default 20.
    steps: ``ScalingStep``s; thresholds strictly ascending from at least 1,
        tasks 1..max_capacity and never fewer for a larger backlog.
        Default (1, 1), (50, 5), (200, 10), (1000, 20).
    scale_in_after_minutes: minutes the queue must be empty, in flight
        included, before scaling in, 1-60. Default 5.
    scale_out_cooldown_seconds: wait between scale-out actions, 0-3600.
        Default 120: a Fargate task needs about a minute to start and SQS
        metrics lag a minute or two, so a shorter wait double-counts a backlog.
    """

    name: str
    cluster_name: str
    service_name: str
    visible_messages: Metric
    in_flight_messages: Metric
    min_capacity: int = 0
    max_capacity: int = 20
    steps: tuple[ScalingStep, ...] = DEFAULT_SCALING_STEPS
    scale_in_after_minutes: int = 5
    scale_out_cooldown_seconds: int = 120

    def __post_init__(self) -> None:
        problems = Problems("QueueDepthScalingProps")
        problems.between("min_capacity", self.min_capacity, 0, min(self.max_capacity, MAX_TASKS))
        problems.between("max_capacity", self.max_capacity, 1, MAX_TASKS)
        problems.between("scale_in_after_minutes", self.scale_in_after_minutes, 1, 60)
        problems.between("scale_out_cooldown_seconds", self.scale_out_cooldown_seconds, 0, 3600)
        for problem in scaling_step_problems([(s.visible_messages, s.tasks) for s in self.steps], self.max_capacity):
            problems.add(f"steps {problem}")
        problems.raise_if_any()


def _metric_query(query_id: str, metric: Metric) -> CloudwatchMetricAlarmMetricQuery:
    return CloudwatchMetricAlarmMetricQuery(
        id=query_id,
        return_data=False,
        metric=CloudwatchMetricAlarmMetricQueryMetric(
            namespace=metric.namespace,
            metric_name=metric.metric_name,
            dimensions=dict(metric.dimensions),
            stat=metric.statistic,
            period=metric.period_seconds,
        ),
    )


class QueueDepthScaling(Construct):
    """Step scaling from zero on queue depth; scale-in only on an idle queue."""

    def __init__(self, scope: Construct, construct_id: str, props: QueueDepthScalingProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.target = _scalable_target(
            self,
            ScalableTargetProps(
                service_namespace="ecs",
                resource_id=ecs_service_resource_id(props.cluster_name, props.service_name),
                scalable_dimension="ecs:service:DesiredCount",
                min_capacity=props.min_capacity,
                max_capacity=props.max_capacity,
            ),
        )
        threshold = props.steps[0].visible_messages
        # Bounds are relative to the alarm threshold; the last step is open-ended.
        adjustments = [
            AppautoscalingPolicyStepScalingPolicyConfigurationStepAdjustment(
                metric_interval_lower_bound=str(step.visible_messages - threshold),
                metric_interval_upper_bound=str(following.visible_messages - threshold) if following else None,
                scaling_adjustment=step.tasks,
            )
            for step, following in zip(props.steps, [*props.steps[1:], None])
        ]
        self.scale_out_policy = AppautoscalingPolicy(
            self,
            "scale-out-policy",
            name=f"{props.name}-scale-out",
            policy_type="StepScaling",
            **self._target_args(),
            step_scaling_policy_configuration=AppautoscalingPolicyStepScalingPolicyConfiguration(
                adjustment_type="ChangeInCapacity",
                cooldown=props.scale_out_cooldown_seconds,
                metric_aggregation_type="Maximum",
                step_adjustment=adjustments,
            ),
        )
        visible = props.visible_messages
        self.scale_out_alarm = CloudwatchMetricAlarm(
            self,
            "scale-out-alarm",
            alarm_name=f"{props.name}-backlog",
            alarm_description=f"At least {threshold} visible message(s): add workers (steps in {props.name}-scale-out).",
            namespace=visible.namespace,
            metric_name=visible.metric_name,
            dimensions=dict(visible.dimensions),
            statistic="Maximum",
            period=60,
            evaluation_periods=1,
            comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=threshold,
            treat_missing_data="notBreaching",
            alarm_actions=[self.scale_out_policy.arn],
        )
        self.scale_in_policy = AppautoscalingPolicy(
            self,
            "scale-in-policy",
            name=f"{props.name}-scale-in",
            policy_type="StepScaling",
            **self._target_args(),
            step_scaling_policy_configuration=AppautoscalingPolicyStepScalingPolicyConfiguration(
                adjustment_type="ExactCapacity",
                cooldown=300,
                metric_aggregation_type="Maximum",
                step_adjustment=[
                    AppautoscalingPolicyStepScalingPolicyConfigurationStepAdjustment(
                        metric_interval_upper_bound="0",
                        scaling_adjustment=props.min_capacity,
                    )
                ],
            ),
        )
        minutes = props.scale_in_after_minutes
        self.scale_in_alarm = CloudwatchMetricAlarm(
            self,
            "scale-in-alarm",
            alarm_name=f"{props.name}-idle",
            alarm_description=(
                f"No message visible or in flight for {minutes} minute(s): scale in to {props.min_capacity}. "
                "In-flight messages count, so running jobs are never scaled in."
            ),
            metric_query=[
                _metric_query("visible", visible.with_(statistic="Maximum", period_seconds=60)),
                _metric_query("in_flight", props.in_flight_messages.with_(statistic="Maximum", period_seconds=60)),
                CloudwatchMetricAlarmMetricQuery(
                    id="backlog",
                    expression="visible + in_flight",
                    label="Messages visible or in flight",
                    return_data=True,
                ),
            ],
            evaluation_periods=minutes,
            datapoints_to_alarm=minutes,
            comparison_operator="LessThanOrEqualToThreshold",
            threshold=0,
            treat_missing_data="notBreaching",
            alarm_actions=[self.scale_in_policy.arn],
        )

    def _target_args(self) -> dict:
        return {
            "service_namespace": self.target.service_namespace,
            "resource_id": self.target.resource_id,
            "scalable_dimension": self.target.scalable_dimension,
        }
