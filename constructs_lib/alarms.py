"""Alarms that page people: an encrypted SNS topic and the alarms that publish to it.

``AlarmTopic`` is an SNS topic encrypted with a customer-managed key (the
``alarms`` key, whose policy needs ``alarms_key_principal`` so CloudWatch
may encrypt what it publishes), a topic policy that lets CloudWatch alarms
of this account and region publish and nothing else, and optional e-mail
subscriptions (each address must confirm the mail SNS sends before it
receives anything; Terraform cannot confirm it).

``MetricAlarm`` is one CloudWatch alarm on a ``Metric`` or on metric math
over several, sending both ALARM and OK to the topic, so whoever was paged
also hears that it is over. INSUFFICIENT_DATA pages nobody: each alarm
chooses ``treat_missing_data`` instead, and says why (see the functions
below, one per kind of alarm this project raises). A release gate
(``AlarmProps.release_gate``) is the one kind that notifies nobody: ECS
reads its state during a deployment of the service that names it.

Each alarm also yields a dashboard graph of exactly what it evaluates
(``MetricAlarm.widget``), threshold included.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Mapping

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from constructs_lib._validation import Problems, is_token
from constructs_lib.actions import KMS_CLOUDWATCH_ALARMS_ACTIONS, SNS_PUBLISH_ACTIONS
from constructs_lib.aws_context import AwsContext
from constructs_lib.encryption import KeyServicePrincipal
from constructs_lib.iam import Condition
from constructs_lib.metrics import Metric
from constructs_lib.monitoring import EXPRESSION_ID, GraphWidget
from constructs_lib.policy import accept_finding

CLOUDWATCH_PRINCIPAL = "cloudwatch.amazonaws.com"
COMPARISON_OPERATORS = (
    "GreaterThanThreshold",
    "GreaterThanOrEqualToThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
)
MISSING_DATA_TREATMENTS = ("breaching", "notBreaching", "ignore", "missing")
MAX_EVALUATION_RANGE_SECONDS = 24 * 3600  # periods x evaluation periods, CloudWatch's limit
_TOPIC_NAME = r"[A-Za-z0-9_-]{1,256}"
_EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"
_QUERY_ID = r"[a-z][A-Za-z0-9_]{0,254}"


def alarms_key_principal(scope: Construct, region: str | None = None) -> KeyServicePrincipal:
    """The alarms key's statement that lets CloudWatch encrypt what it publishes to the topic.

    AWS's documented key policy statement for alarms to an encrypted topic,
    limited to alarms of this account and region (confused-deputy
    protection): CloudWatch sends ``aws:SourceAccount`` and the alarm's ARN
    as ``aws:SourceArn`` when an alarm acts, the same keys the topic's own
    policy checks. ``region``: the alarms' region, when not the stack's.
    """
    context = AwsContext.of(scope)
    return KeyServicePrincipal(
        service=CLOUDWATCH_PRINCIPAL,
        actions=KMS_CLOUDWATCH_ALARMS_ACTIONS,
        conditions=(
            Condition("StringEquals", "aws:SourceAccount", (context.account_id,)),
            Condition("ArnLike", "aws:SourceArn", (context.arn("cloudwatch", "alarm:*", in_region=region),)),
        ),
        sid="CloudWatchAlarmsPublishToEncryptedTopic",
    )


# prowler wants an action on every alarm; a release gate's consumer is ECS or CodeDeploy, which reads its state during a deploy.
RELEASE_GATE_REASON = (
    "A release gate: ECS or CodeDeploy reads its state during a deployment and rolls the deployment back; it pages nobody "
    "itself, the operations layer's alarm on the same signal does"
)


# -- the topic ---------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class AlarmTopicProps:
    """Inputs of the alarm topic.

    name: 1-256 letters, digits, '-' and '_', such as ``circle-of-trust-alarms``.
    kms_key_arn: the topic's key (the ``alarms`` key, with
        ``alarms_key_principal`` in its policy).
    email_addresses: addresses subscribed to every alarm and recovery.
        Default none (subscribe out of band: chat, paging, ...).
    provider / region: an aws provider of another region and that region,
        for alarms on metrics published only there (CloudFront's and WAF's,
        us-east-1): an alarm notifies a topic of its own region. Default
        None: the stack's.
    """

    name: str
    kms_key_arn: str
    email_addresses: tuple[str, ...] = ()
    provider: TerraformProvider | None = None
    region: str | None = None

    def __post_init__(self) -> None:
        problems = Problems("AlarmTopicProps")
        problems.matches("name", self.name, _TOPIC_NAME, "1-256 letters, digits, '-' and '_'")
        if not is_token(self.kms_key_arn) and not self.kms_key_arn.startswith("arn:"):
            problems.add(f"kms_key_arn must be a KMS key ARN, but {self.kms_key_arn!r} was provided")
        for address in self.email_addresses:
            problems.matches("email_addresses", address, _EMAIL, "e-mail addresses such as ops@example.com")
        if len(set(self.email_addresses)) != len(self.email_addresses):
            problems.add(f"email_addresses must not repeat an address, but {list(self.email_addresses)!r} was provided")
        if (self.provider is None) != (self.region is None):
            problems.add("provider and region go together: the topic's policy names alarms of the provider's region")
        problems.raise_if_any()


class AlarmTopic(Construct):
    """The encrypted topic every alarm publishes to, and its subscriptions."""

    def __init__(self, scope: Construct, construct_id: str, props: AlarmTopicProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        context = AwsContext.of(self)
        self.topic = SnsTopic(self, "topic", name=props.name, kms_master_key_id=props.kms_key_arn, provider=props.provider)
        alarms_arn = context.arn("cloudwatch", "alarm:*", in_region=props.region)
        self.policy_document = DataAwsIamPolicyDocument(
            self,
            "policy-document",
            statement=[
                DataAwsIamPolicyDocumentStatement(
                    sid="CloudWatchAlarmsOfThisAccountPublish",
                    effect="Allow",
                    principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=[CLOUDWATCH_PRINCIPAL])],
                    actions=list(SNS_PUBLISH_ACTIONS),
                    resources=[self.topic.arn],
                    condition=[
                        DataAwsIamPolicyDocumentStatementCondition(test="StringEquals", variable="aws:SourceAccount", values=[context.account_id]),
                        DataAwsIamPolicyDocumentStatementCondition(test="ArnLike", variable="aws:SourceArn", values=[alarms_arn]),
                    ],
                ),
                DataAwsIamPolicyDocumentStatement(
                    sid="DenyRequestsWithoutTls",
                    effect="Deny",
                    principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="*", identifiers=["*"])],
                    actions=list(SNS_PUBLISH_ACTIONS),
                    resources=[self.topic.arn],
                    condition=[DataAwsIamPolicyDocumentStatementCondition(test="Bool", variable="aws:SecureTransport", values=["false"])],
                ),
            ],
        )
        # Principals of the account need no statement here: their own IAM
        # policies are enough for a topic of their account.
        SnsTopicPolicy(self, "policy", arn=self.topic.arn, policy=self.policy_document.json, provider=props.provider)
        self.subscriptions = [
            SnsTopicSubscription(self, f"email-{index}", topic_arn=self.topic.arn, protocol="email", endpoint=address, provider=props.provider)
            for index, address in enumerate(props.email_addresses)
        ]

    @property
    def topic_arn(self) -> str:
        return self.topic.arn

    @property
    def topic_name(self) -> str:
        return self.topic.name


# -- one alarm ----------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class AlarmProps:
    """Inputs of one alarm.

    name: 1-255 characters, no control characters, such as
        ``circle-of-trust-jobs-dlq-not-empty``.
    description: what happened and what to do, up to 1024 characters (it is
        in every notification).
    metrics: query id -> metric. One metric is alarmed on directly; several
        are the inputs of ``expression``. Ids start with a lower-case letter.
    expression: metric math over the ids, such as ``100 * errors / requests``.
        Default "": alarm on the one metric. With an expression every metric
        must have the same period.
    expression_label: the expression's name in graphs. Default: the name.
    comparison_operator: GreaterThanThreshold, GreaterThanOrEqualToThreshold,
        LessThanThreshold or LessThanOrEqualToThreshold.
    threshold: the value compared with, in the metric's (or expression's) unit.
    treat_missing_data: breaching, notBreaching, ignore or missing; no
        default, because the right answer depends on when the metric is
        published at all.
    evaluation_periods: periods looked at, at least 1; with the period at
        most a day (CloudWatch's limit). Default 1.
    datapoints_to_alarm: of those, how many must breach, 1 to
        evaluation_periods. Default 0: all of them.
    action_arns: where ALARM and OK go (the alarm topic), at least one,
        unless release_gate.
    release_gate: the alarm gates deployments: an ECS service names it in
        its deployment alarms (or a CodeDeploy deployment group in its alarm
        configuration), and ECS (CodeDeploy), its consumer, reads its state
        and fails (and rolls back) a deployment during which it is in ALARM.
        It may then have no action_arns: whoever must hear about the failure
        hears it from a paging alarm (the operations layer's) or the deploy.
        Default False: an alarm nobody hears is noise.
    provider: an aws provider of the region the metrics are published in,
        when that is not the stack's (CloudFront's and WAF's: us-east-1).
        Default None: the stack's.
    """

    name: str
    description: str
    metrics: Mapping[str, Metric]
    comparison_operator: str
    threshold: float
    treat_missing_data: str
    action_arns: tuple[str, ...]
    expression: str = ""
    expression_label: str = ""
    evaluation_periods: int = 1
    datapoints_to_alarm: int = 0
    release_gate: bool = False
    provider: TerraformProvider | None = None

    def __post_init__(self) -> None:
        problems = Problems("AlarmProps")
        if not 1 <= len(self.name) <= 255 or re.search(r"[\x00-\x1f]", self.name):
            problems.add(f"name must be 1-255 characters without control characters, but {self.name!r} was provided")
        if len(self.description) > 1024:
            problems.add(f"description must be at most 1024 characters long, but {len(self.description)} were provided")
        if not self.metrics:
            problems.add("metrics must hold at least one metric, but none was provided")
        for query_id in self.metrics:
            problems.matches("metrics", query_id, _QUERY_ID, "keyed by ids starting with a lower-case letter, then letters, digits and '_'")
        if len(self.metrics) > 1 and not self.expression:
            problems.add(f"expression must combine the metrics {sorted(self.metrics)} into one series, but none was provided")
        periods = sorted({metric.period_seconds for metric in self.metrics.values()})
        if self.expression and len(periods) > 1:
            problems.add(f"metrics must share one period for metric math, but periods {periods} were provided")
        problems.one_of("comparison_operator", self.comparison_operator, COMPARISON_OPERATORS)
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, (int, float)) or not math.isfinite(self.threshold):
            problems.add(f"threshold must be a finite number, but {self.threshold!r} was provided")
        problems.one_of("treat_missing_data", self.treat_missing_data, MISSING_DATA_TREATMENTS)
        if periods:
            problems.between("evaluation_periods", self.evaluation_periods, 1, max(1, MAX_EVALUATION_RANGE_SECONDS // periods[-1]))
        if self.datapoints_to_alarm != 0:
            problems.between("datapoints_to_alarm", self.datapoints_to_alarm, 1, self.evaluation_periods)
        if not self.action_arns and not self.release_gate:
            problems.add(
                "action_arns must hold at least one ARN (an alarm nobody hears is noise; a release gate, which ECS reads, "
                "says so with release_gate=True), but none was provided"
            )
        problems.raise_if_any()

    @property
    def period_seconds(self) -> int:
        return next(iter(self.metrics.values())).period_seconds

    @property
    def effective_datapoints_to_alarm(self) -> int:
        return self.datapoints_to_alarm or self.evaluation_periods


class MetricAlarm(Construct):
    """One alarm; ALARM and OK go to ``action_arns``."""

    def __init__(self, scope: Construct, construct_id: str, props: AlarmProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        common = dict(
            alarm_name=props.name,
            alarm_description=props.description,
            comparison_operator=props.comparison_operator,
            threshold=props.threshold,
            evaluation_periods=props.evaluation_periods,
            datapoints_to_alarm=props.effective_datapoints_to_alarm,
            treat_missing_data=props.treat_missing_data,
            actions_enabled=True,
            # None, not []: a release gate notifies nobody, and leaving the arguments out is what reads back.
            alarm_actions=list(props.action_arns) or None,
            ok_actions=list(props.action_arns) or None,
            provider=props.provider,
        )
        if props.expression:
            self.alarm = CloudwatchMetricAlarm(
                self,
                "alarm",
                metric_query=[
                    *(
                        CloudwatchMetricAlarmMetricQuery(
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
                        for query_id, metric in props.metrics.items()
                    ),
                    CloudwatchMetricAlarmMetricQuery(
                        id=EXPRESSION_ID, expression=props.expression, label=props.expression_label or props.name, return_data=True
                    ),
                ],
                **common,
            )
        else:
            (metric,) = props.metrics.values()
            statistic = {"extended_statistic": metric.statistic} if metric.is_percentile else {"statistic": metric.statistic}
            self.alarm = CloudwatchMetricAlarm(
                self,
                "alarm",
                namespace=metric.namespace,
                metric_name=metric.metric_name,
                dimensions=dict(metric.dimensions),
                period=metric.period_seconds,
                **statistic,
                **common,
            )
        if props.release_gate and not props.action_arns:
            accept_finding(self.alarm, "cloudwatch_alarm_actions_alarm_state_configured", RELEASE_GATE_REASON)

    @property
    def alarm_name(self) -> str:
        return self.alarm.alarm_name

    @property
    def alarm_arn(self) -> str:
        return self.alarm.arn

    @property
    def widget(self) -> GraphWidget:
        """A graph of what this alarm evaluates, with its threshold."""
        return GraphWidget(
            title=self.props.name,
            metrics=self.props.metrics,
            expression=self.props.expression,
            expression_label=self.props.expression_label,
            threshold=self.props.threshold,
        )


# -- the alarms this project raises ------------------------------------------------------
def queue_not_empty_alarm(*, name: str, visible_messages: Metric, action_arns: tuple[str, ...], description: str) -> AlarmProps:
    """At least one message in a dead-letter queue, for one minute.

    Missing data is not breaching: SQS publishes a queue's metrics only while
    it is active (it holds messages or was called in the last 6 hours), and a
    DLQ holding a message is active, so no data means an empty queue. The
    alarm stays in ALARM until someone redrives or deletes the messages.
    """
    return AlarmProps(
        name=name,
        description=description,
        metrics={"messages": visible_messages.with_(statistic="Maximum", period_seconds=60)},
        comparison_operator="GreaterThanThreshold",
        threshold=0,
        treat_missing_data="notBreaching",
        action_arns=action_arns,
    )


def queue_growth_release_alarm(*, name: str, visible_messages: Metric, description: str) -> AlarmProps:
    """A release gate: a dead-letter queue gained messages within the last minute or two.

    ``DIFF`` of the visible messages (Maximum, one-minute periods) above 0:
    growth, not "not empty". A DLQ keeps messages 14 days, and an alarm on
    "not empty" would fail every deployment until someone redrives; one on
    growth fires only when jobs dead-letter now, and goes back to OK a
    minute or two after they stop, or when a redrive drains the queue
    (a negative difference). Two one-minute periods, one breaching
    datapoint: DIFF needs the previous minute inside the alarm's window.
    Missing data is not breaching: an idle empty DLQ publishes nothing, and
    DIFF has no value for a minute without a predecessor (so the very first
    message into an idle DLQ shows up only with the next one; the paging
    "not empty" alarm still catches it). No actions: ECS is its consumer
    (``release_gate``).
    """
    return AlarmProps(
        name=name,
        description=description,
        metrics={"messages": visible_messages.with_(statistic="Maximum", period_seconds=60)},
        expression="DIFF(messages)",
        expression_label="Dead-letter queue growth (messages per minute)",
        comparison_operator="GreaterThanThreshold",
        threshold=0,
        treat_missing_data="notBreaching",
        evaluation_periods=2,
        datapoints_to_alarm=1,
        action_arns=(),
        release_gate=True,
    )


def error_rate_alarm(
    *, name: str, errors: Metric, requests: Metric, threshold_percent: float, action_arns: tuple[str, ...], description: str
) -> AlarmProps:
    """Errors as a percentage of requests above ``threshold_percent`` in 2 of 3 five-minute periods.

    Missing data is not breaching: API Gateway publishes nothing for a period
    without requests, and no traffic is not an error rate. Two of three
    periods lets one bad burst pass without paging anyone.
    """
    return AlarmProps(
        name=name,
        description=description,
        metrics={
            "errors": errors.with_(statistic="Sum", period_seconds=300),
            "requests": requests.with_(statistic="Sum", period_seconds=300),
        },
        expression="100 * FILL(errors, 0) / requests",
        expression_label="5xx responses (% of requests)",
        comparison_operator="GreaterThanThreshold",
        threshold=threshold_percent,
        treat_missing_data="notBreaching",
        evaluation_periods=3,
        datapoints_to_alarm=2,
        action_arns=action_arns,
    )


def latency_alarm(*, name: str, latency: Metric, threshold_milliseconds: float, action_arns: tuple[str, ...], description: str) -> AlarmProps:
    """p99 latency above ``threshold_milliseconds`` for three five-minute periods in a row.

    Missing data is not breaching: no requests, no latency. Fifteen
    sustained minutes separate a slow dependency from one slow request.
    """
    return AlarmProps(
        name=name,
        description=description,
        metrics={"latency": latency.with_(statistic="p99", period_seconds=300)},
        comparison_operator="GreaterThanThreshold",
        threshold=threshold_milliseconds,
        treat_missing_data="notBreaching",
        evaluation_periods=3,
        action_arns=action_arns,
    )


def tasks_below_desired_alarm(
    *, name: str, running: Metric, desired: Metric, action_arns: tuple[str, ...], description: str, minutes: int = 10
) -> AlarmProps:
    """Fewer RUNNING tasks than the service wants, every minute for ``minutes`` minutes (default 10).

    A new task takes a minute or two to pull its image and start, so only a
    gap that lasts (tasks crashing, an image that cannot be pulled, no Spot
    capacity) alarms. Missing data is not breaching: Container Insights may
    publish nothing for a service scaled to zero, and no data is no gap.
    """
    return AlarmProps(
        name=name,
        description=description,
        metrics={
            "desired": desired.with_(statistic="Average", period_seconds=60),
            "running": running.with_(statistic="Average", period_seconds=60),
        },
        expression="desired - running",
        expression_label="Tasks missing (desired - running)",
        comparison_operator="GreaterThanThreshold",
        threshold=0,
        treat_missing_data="notBreaching",
        evaluation_periods=minutes,
        action_arns=action_arns,
    )


def message_age_alarm(*, name: str, age: Metric, threshold_seconds: int, action_arns: tuple[str, ...], description: str) -> AlarmProps:
    """The oldest message older than ``threshold_seconds`` for three minutes.

    The age counts from when the message was sent, including the time a
    worker holds it, so the threshold must exceed the visibility timeout (the
    config checks it) or every long job would alarm. Missing data is not
    breaching: an idle, empty queue publishes nothing, and holds no old message.
    """
    return AlarmProps(
        name=name,
        description=description,
        metrics={"age": age.with_(statistic="Maximum", period_seconds=60)},
        comparison_operator="GreaterThanThreshold",
        threshold=threshold_seconds,
        treat_missing_data="notBreaching",
        evaluation_periods=3,
        action_arns=action_arns,
    )


def throttling_alarm(
    *, name: str, read_throttles: Metric, write_throttles: Metric, action_arns: tuple[str, ...], description: str
) -> AlarmProps:
    """Any read or write throttled in a five-minute period.

    DynamoDB publishes throttle events only when there are some, so missing
    data is not breaching, and FILL makes one missing side count as zero.
    The SDK retries a throttled call, so users saw latency, not errors yet.
    """
    return AlarmProps(
        name=name,
        description=description,
        metrics={
            "reads": read_throttles.with_(statistic="Sum", period_seconds=300),
            "writes": write_throttles.with_(statistic="Sum", period_seconds=300),
        },
        expression="FILL(reads, 0) + FILL(writes, 0)",
        expression_label="Throttled reads + writes",
        comparison_operator="GreaterThanThreshold",
        threshold=0,
        treat_missing_data="notBreaching",
        action_arns=action_arns,
    )


def blocked_requests_alarm(*, name: str, blocked: Metric, threshold: int, action_arns: tuple[str, ...], description: str, provider: TerraformProvider | None = None) -> AlarmProps:
    """More than ``threshold`` requests blocked by a web ACL (or one of its rules) in five minutes.

    Missing data is not breaching: WAF publishes ``BlockedRequests`` only for
    periods in which it blocked something. One period: a surge is news at
    once (an attack under way, or a rule that started blocking real users).
    """
    return AlarmProps(
        name=name,
        description=description,
        metrics={"blocked": blocked.with_(statistic="Sum", period_seconds=300)},
        comparison_operator="GreaterThanThreshold",
        threshold=threshold,
        treat_missing_data="notBreaching",
        action_arns=action_arns,
        provider=provider,
    )


# -- release gates of the API's canary (CodeDeploy reads them; constructs_lib/release.py) --
# One-minute periods, 2 of 3 breaching: a canary bakes for minutes, so the
# alarms must decide within them, and one bad minute alone (a cold cache)
# does not roll a release back. Missing data is not breaching: a target group
# without targets or requests publishes nothing.
def _release_gate(*, name: str, description: str, metrics: Mapping[str, Metric], threshold: float, **expression: str) -> AlarmProps:
    """What the three gates share: above ``threshold`` in 2 of 3 one-minute periods, no actions (CodeDeploy reads them)."""
    return AlarmProps(
        name=name,
        description=description,
        metrics=metrics,
        comparison_operator="GreaterThanThreshold",
        threshold=threshold,
        treat_missing_data="notBreaching",
        evaluation_periods=3,
        datapoints_to_alarm=2,
        action_arns=(),
        release_gate=True,
        **expression,
    )


def release_error_rate_alarm(*, name: str, errors: Metric, requests: Metric, threshold_percent: float, description: str) -> AlarmProps:
    """A release gate: the targets' 5xx answers above ``threshold_percent`` of their requests."""
    return _release_gate(
        name=name,
        description=description,
        metrics={"errors": errors.with_(statistic="Sum", period_seconds=60), "requests": requests.with_(statistic="Sum", period_seconds=60)},
        threshold=threshold_percent,
        expression="100 * FILL(errors, 0) / requests",
        expression_label="Target 5xx answers (% of requests)",
    )


def release_latency_alarm(*, name: str, response_time: Metric, threshold_milliseconds: float, description: str) -> AlarmProps:
    """A release gate: the targets' p99 response time above ``threshold_milliseconds`` (the ALB reports seconds)."""
    return _release_gate(
        name=name,
        description=description,
        metrics={"latency": response_time.with_(statistic="p99", period_seconds=60)},
        threshold=threshold_milliseconds / 1000,
    )


def release_unhealthy_targets_alarm(*, name: str, unhealthy: Metric, description: str) -> AlarmProps:
    """A release gate: a target of the group failed its health checks in 2 of 3 minutes."""
    return _release_gate(
        name=name,
        description=description,
        metrics={"unhealthy": unhealthy.with_(statistic="Maximum", period_seconds=60)},
        threshold=0,
    )
