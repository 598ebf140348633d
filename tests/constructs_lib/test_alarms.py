"""constructs_lib/alarms.py: the encrypted alarm topic, one alarm, and the alarms this project raises."""

from __future__ import annotations

import pytest

from constructs_lib.alarms import (
    AlarmProps,
    AlarmTopic,
    AlarmTopicProps,
    MetricAlarm,
    alarms_key_principal,
    error_rate_alarm,
    latency_alarm,
    message_age_alarm,
    queue_growth_release_alarm,
    queue_not_empty_alarm,
    release_error_rate_alarm,
    release_latency_alarm,
    release_unhealthy_targets_alarm,
    tasks_below_desired_alarm,
    throttling_alarm,
)
from constructs_lib.encryption import EncryptionKey, EncryptionKeyProps
from constructs_lib.metrics import Metric
from tests.support import at, data_sources, logical_id, ref, resources, synth_construct

TOPIC = "arn:aws:sns:us-east-1:111122223333:cot-alarms"
SQS = dict(namespace="AWS/SQS", dimensions={"QueueName": "cot-jobs"})
VISIBLE = Metric(metric_name="ApproximateNumberOfMessagesVisible", **SQS)
AGE = Metric(metric_name="ApproximateAgeOfOldestMessage", **SQS)
API = dict(namespace="AWS/ApiGateway", dimensions={"ApiId": "abc", "Stage": "$default"}, statistic="Sum")
ERRORS, REQUESTS = Metric(metric_name="5xx", **API), Metric(metric_name="Count", **API)
LATENCY = Metric(namespace="AWS/ApiGateway", metric_name="Latency", dimensions={"ApiId": "abc", "Stage": "$default"})
ECS = dict(namespace="ECS/ContainerInsights", dimensions={"ClusterName": "cot-api", "ServiceName": "api-service"})
RUNNING, DESIRED = Metric(metric_name="RunningTaskCount", **ECS), Metric(metric_name="DesiredTaskCount", **ECS)
DYNAMODB = dict(namespace="AWS/DynamoDB", dimensions={"TableName": "cot-jobs"}, statistic="Sum", period_seconds=300)
READS, WRITES = Metric(metric_name="ReadThrottleEvents", **DYNAMODB), Metric(metric_name="WriteThrottleEvents", **DYNAMODB)
ALARMS: dict[str, MetricAlarm] = {}


def builders() -> dict[str, AlarmProps]:
    common = dict(action_arns=(TOPIC,), description="What happened. Runbook: docs/runbook.md")
    return {
        "dlq": queue_not_empty_alarm(name="cot-jobs-dlq-not-empty", visible_messages=VISIBLE, **common),
        "errors": error_rate_alarm(name="cot-api-5xx-rate", errors=ERRORS, requests=REQUESTS, threshold_percent=5, **common),
        "latency": latency_alarm(name="cot-api-latency-p99", latency=LATENCY, threshold_milliseconds=2000, **common),
        "tasks": tasks_below_desired_alarm(name="cot-api-service-tasks-below-desired", running=RUNNING, desired=DESIRED, **common),
        "age": message_age_alarm(name="cot-jobs-oldest-message-age", age=AGE, threshold_seconds=1920, **common),
        "throttling": throttling_alarm(name="cot-jobs-table-throttled", read_throttles=READS, write_throttles=WRITES, **common),
    }


@pytest.fixture(scope="module")
def doc():
    def build(stack):
        key = EncryptionKey(stack, "alarms-key", EncryptionKeyProps(name_prefix="cot", purpose="alarms", service_principals=(alarms_key_principal(stack),)))
        AlarmTopic(stack, "alarms", AlarmTopicProps(name="cot-alarms", kms_key_arn=key.key_arn, email_addresses=("ops@example.com", "dev@example.com")))
        AlarmTopic(stack, "quiet", AlarmTopicProps(name="cot-quiet", kms_key_arn=key.key_arn))
        for construct_id, alarm_props in builders().items():
            ALARMS[construct_id] = MetricAlarm(stack, construct_id, alarm_props)

    return synth_construct(build)


def alarm(doc, construct_id: str) -> dict:
    return at(resources(doc, "aws_cloudwatch_metric_alarm"), f"{construct_id}/alarm")


def context(doc, kind: str, attribute: str) -> str:
    path = {"aws_caller_identity": "aws_context/caller", "aws_partition": "aws_context/partition", "aws_region": "aws_context/region"}[kind]
    return "${data." + f"{kind}.{logical_id(data_sources(doc, kind), path)}.{attribute}" + "}"


# -- the topic ---------------------------------------------------------------------------------
def test_topic_is_encrypted_with_the_alarms_key(doc):
    topic = at(resources(doc, "aws_sns_topic"), "alarms/topic")
    assert topic["name"] == "cot-alarms"
    assert topic["kms_master_key_id"] == ref(doc, "aws_kms_key", logical_id(resources(doc, "aws_kms_key"), "alarms-key"), "arn")


def test_alarms_key_lets_cloudwatch_encrypt_what_it_publishes(doc):
    statements = at(data_sources(doc, "aws_iam_policy_document"), "alarms-key/key-policy")["statement"]
    (cloudwatch,) = [s for s in statements if s["sid"] == "CloudWatchAlarmsPublishToEncryptedTopic"]
    assert cloudwatch["principals"] == [{"type": "Service", "identifiers": ["cloudwatch.amazonaws.com"]}]
    assert cloudwatch["actions"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert not any("*" in action for action in cloudwatch["actions"])


def test_alarms_key_lets_only_alarms_of_this_account_and_region_use_it(doc):
    """Confused-deputy protection: the same keys the topic policy checks."""
    statements = at(data_sources(doc, "aws_iam_policy_document"), "alarms-key/key-policy")["statement"]
    (cloudwatch,) = [s for s in statements if s["sid"] == "CloudWatchAlarmsPublishToEncryptedTopic"]
    account = context(doc, "aws_caller_identity", "account_id")
    partition, region = context(doc, "aws_partition", "partition"), context(doc, "aws_region", "name")
    assert cloudwatch["condition"] == [
        {"test": "StringEquals", "variable": "aws:SourceAccount", "values": [account]},
        {"test": "ArnLike", "variable": "aws:SourceArn", "values": [f"arn:{partition}:cloudwatch:{region}:{account}:alarm:*"]},
    ]


def test_topic_policy_lets_only_alarms_of_this_account_and_region_publish(doc):
    topic_arn = ref(doc, "aws_sns_topic", logical_id(resources(doc, "aws_sns_topic"), "alarms/topic"), "arn")
    policy = at(resources(doc, "aws_sns_topic_policy"), "alarms/policy")
    assert policy["arn"] == topic_arn
    assert policy["policy"] == "${data.aws_iam_policy_document." + logical_id(data_sources(doc, "aws_iam_policy_document"), "alarms/policy-document") + ".json}"
    publish, tls = at(data_sources(doc, "aws_iam_policy_document"), "alarms/policy-document")["statement"]
    assert publish["effect"] == "Allow"
    assert publish["principals"] == [{"type": "Service", "identifiers": ["cloudwatch.amazonaws.com"]}]
    assert (publish["actions"], publish["resources"]) == (["sns:Publish"], [topic_arn])
    account = context(doc, "aws_caller_identity", "account_id")
    assert publish["condition"] == [
        {"test": "StringEquals", "variable": "aws:SourceAccount", "values": [account]},
        {
            "test": "ArnLike",
            "variable": "aws:SourceArn",
            "values": [f"arn:{context(doc, 'aws_partition', 'partition')}:cloudwatch:{context(doc, 'aws_region', 'name')}:{account}:alarm:*"],
        },
    ]
    assert (tls["effect"], tls["actions"], tls["resources"]) == ("Deny", ["sns:Publish"], [topic_arn])
    assert tls["condition"] == [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}]


def test_each_address_is_subscribed_by_email_and_none_without_addresses(doc):
    subscriptions = resources(doc, "aws_sns_topic_subscription")
    topic_arn = ref(doc, "aws_sns_topic", logical_id(resources(doc, "aws_sns_topic"), "alarms/topic"), "arn")
    assert sorted((s["protocol"], s["endpoint"], s["topic_arn"]) for s in subscriptions.values()) == [
        ("email", "dev@example.com", topic_arn),
        ("email", "ops@example.com", topic_arn),
    ]


# -- one alarm ----------------------------------------------------------------------------------
def test_every_alarm_sends_alarm_and_ok_to_the_topic_and_pages_nobody_on_insufficient_data(doc):
    items = resources(doc, "aws_cloudwatch_metric_alarm")
    assert len(items) == len(builders())
    for item in items.values():
        assert item["alarm_actions"] == [TOPIC] and item["ok_actions"] == [TOPIC]
        assert item["actions_enabled"] is True
        assert "insufficient_data_actions" not in item
        assert item["alarm_description"] == "What happened. Runbook: docs/runbook.md"


def test_dlq_alarm_fires_on_one_message(doc):
    item = alarm(doc, "dlq")
    assert (item["alarm_name"], item["namespace"], item["metric_name"], item["dimensions"]) == (
        "cot-jobs-dlq-not-empty", "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": "cot-jobs"},
    )  # fmt: skip
    assert (item["statistic"], item["period"], item["evaluation_periods"], item["datapoints_to_alarm"]) == ("Maximum", 60, 1, 1)
    assert (item["comparison_operator"], item["threshold"], item["treat_missing_data"]) == ("GreaterThanThreshold", 0, "notBreaching")


def test_error_rate_alarm_is_metric_math_over_5xx_and_count(doc):
    item = alarm(doc, "errors")
    assert "metric_name" not in item and "namespace" not in item
    errors, requests, expression = item["metric_query"]
    assert errors == {
        "id": "errors",
        "return_data": False,
        "metric": {"namespace": "AWS/ApiGateway", "metric_name": "5xx", "dimensions": {"ApiId": "abc", "Stage": "$default"}, "stat": "Sum", "period": 300},
    }
    assert requests["id"] == "requests" and requests["metric"]["metric_name"] == "Count" and requests["return_data"] is False
    assert expression == {"id": "expression", "expression": "100 * FILL(errors, 0) / requests", "label": "5xx responses (% of requests)", "return_data": True}
    assert (item["comparison_operator"], item["threshold"], item["treat_missing_data"]) == ("GreaterThanThreshold", 5, "notBreaching")
    assert (item["evaluation_periods"], item["datapoints_to_alarm"]) == (3, 2)


def test_latency_alarm_uses_p99_as_an_extended_statistic(doc):
    item = alarm(doc, "latency")
    assert (item["metric_name"], item["extended_statistic"], item["period"]) == ("Latency", "p99", 300)
    assert "statistic" not in item
    assert (item["threshold"], item["evaluation_periods"], item["datapoints_to_alarm"], item["treat_missing_data"]) == (2000, 3, 3, "notBreaching")


def test_tasks_alarm_compares_desired_with_running_for_ten_minutes(doc):
    item = alarm(doc, "tasks")
    desired, running, expression = item["metric_query"]
    for query, name in ((desired, "DesiredTaskCount"), (running, "RunningTaskCount")):
        assert query["metric"]["namespace"] == "ECS/ContainerInsights"
        assert query["metric"]["metric_name"] == name
        assert query["metric"]["dimensions"] == {"ClusterName": "cot-api", "ServiceName": "api-service"}
        assert (query["metric"]["stat"], query["metric"]["period"]) == ("Average", 60)
    assert expression["expression"] == "desired - running"
    assert (item["comparison_operator"], item["threshold"]) == ("GreaterThanThreshold", 0)
    assert (item["evaluation_periods"], item["datapoints_to_alarm"], item["treat_missing_data"]) == (10, 10, "notBreaching")


def test_message_age_alarm_uses_the_threshold_given(doc):
    item = alarm(doc, "age")
    assert (item["metric_name"], item["statistic"], item["period"], item["threshold"]) == ("ApproximateAgeOfOldestMessage", "Maximum", 60, 1920)
    assert (item["evaluation_periods"], item["treat_missing_data"]) == (3, "notBreaching")


def test_throttling_alarm_sums_read_and_write_throttles(doc):
    item = alarm(doc, "throttling")
    reads, writes, expression = item["metric_query"]
    assert (reads["metric"]["metric_name"], writes["metric"]["metric_name"]) == ("ReadThrottleEvents", "WriteThrottleEvents")
    assert reads["metric"]["dimensions"] == {"TableName": "cot-jobs"}
    assert (reads["metric"]["stat"], reads["metric"]["period"]) == ("Sum", 300)
    assert expression["expression"] == "FILL(reads, 0) + FILL(writes, 0)"
    assert (item["comparison_operator"], item["threshold"], item["evaluation_periods"], item["treat_missing_data"]) == (
        "GreaterThanThreshold", 0, 1, "notBreaching",
    )  # fmt: skip


def test_widget_draws_exactly_what_the_alarm_evaluates(doc):
    for construct_id, construct in ALARMS.items():
        widget = construct.widget
        assert widget.title == construct.props.name
        assert dict(widget.metrics) == dict(construct.props.metrics), construct_id
        assert (widget.expression, widget.threshold) == (construct.props.expression, construct.props.threshold)


def test_attributes(doc):
    assert ALARMS["dlq"].alarm_arn.startswith("${") and ALARMS["dlq"].alarm_name.startswith("${")


# -- props -----------------------------------------------------------------------------------
def alarm_props(**overrides) -> AlarmProps:
    values = dict(
        name="cot-x",
        description="",
        metrics={"m": VISIBLE},
        comparison_operator="GreaterThanThreshold",
        threshold=0,
        treat_missing_data="notBreaching",
        action_arns=(TOPIC,),
    )
    return AlarmProps(**{**values, **overrides})


def test_alarm_defaults():
    props = alarm_props()
    assert (props.evaluation_periods, props.datapoints_to_alarm, props.effective_datapoints_to_alarm, props.expression) == (1, 0, 1, "")
    assert alarm_props(evaluation_periods=5, datapoints_to_alarm=2).effective_datapoints_to_alarm == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": ""}, "name must be 1-255 characters without control characters, but '' was provided"),
        ({"name": "a\nb"}, "name must be 1-255 characters without control characters, but 'a\\nb' was provided"),
        ({"description": "x" * 1025}, "description must be at most 1024 characters long, but 1025 were provided"),
        ({"metrics": {}}, "metrics must hold at least one metric, but none was provided"),
        ({"metrics": {"Bad": VISIBLE}}, "metrics must be keyed by ids starting with a lower-case letter, then letters, digits and '_', but 'Bad' was provided"),
        ({"metrics": {"a": VISIBLE, "b": AGE}}, "expression must combine the metrics ['a', 'b'] into one series, but none was provided"),
        ({"metrics": {"a": VISIBLE, "b": AGE.with_(period_seconds=300)}, "expression": "a + b"}, "metrics must share one period for metric math, but periods [60, 300] were provided"),
        ({"comparison_operator": "GreaterThanUpperThreshold"}, "comparison_operator must be one of GreaterThanThreshold, GreaterThanOrEqualToThreshold, LessThanThreshold, LessThanOrEqualToThreshold, but 'GreaterThanUpperThreshold' was provided"),
        ({"threshold": float("nan")}, "threshold must be a finite number, but nan was provided"),
        ({"threshold": True}, "threshold must be a finite number, but True was provided"),
        ({"treat_missing_data": "zero"}, "treat_missing_data must be one of breaching, notBreaching, ignore, missing, but 'zero' was provided"),
        ({"evaluation_periods": 0}, "evaluation_periods must be between 1 and 1440, but 0 was provided"),
        ({"evaluation_periods": 1441}, "evaluation_periods must be between 1 and 1440, but 1441 was provided"),
        ({"metrics": {"m": VISIBLE.with_(period_seconds=3600)}, "evaluation_periods": 25}, "evaluation_periods must be between 1 and 24, but 25 was provided"),
        ({"evaluation_periods": 3, "datapoints_to_alarm": 4}, "datapoints_to_alarm must be between 1 and 3, but 4 was provided"),
        ({"action_arns": ()}, "action_arns must hold at least one ARN (an alarm nobody hears is noise; a release gate, which ECS reads, says so with release_gate=True), but none was provided"),
    ],
)
def test_alarm_props_validation_messages(kwargs, message):
    with pytest.raises(ValueError, match="^AlarmProps: ") as caught:
        alarm_props(**kwargs)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "cot alarms"}, "name must be 1-256 letters, digits, '-' and '_', but 'cot alarms' was provided"),
        ({"kms_key_arn": "alias/aws/sns"}, "kms_key_arn must be a KMS key ARN, but 'alias/aws/sns' was provided"),
        ({"email_addresses": ("ops",)}, "email_addresses must be e-mail addresses such as ops@example.com, but 'ops' was provided"),
        ({"email_addresses": ("a@example.com", "a@example.com")}, "email_addresses must not repeat an address, but ['a@example.com', 'a@example.com'] was provided"),
    ],
)
def test_topic_props_validation_messages(kwargs, message):
    with pytest.raises(ValueError, match="^AlarmTopicProps: ") as caught:
        AlarmTopicProps(**{"name": "cot-alarms", "kms_key_arn": "arn:aws:kms:us-east-1:1:key/k", **kwargs})
    assert message in str(caught.value)


def test_props_report_every_problem_at_once():
    with pytest.raises(ValueError) as caught:
        alarm_props(name="", comparison_operator="x", treat_missing_data="y")
    assert str(caught.value).count(" was provided") == 3


# -- release gates -------------------------------------------------------------------------------
def test_a_release_gate_may_notify_nobody_and_other_alarms_may_not():
    assert alarm_props(action_arns=(), release_gate=True).action_arns == ()
    with pytest.raises(ValueError, match="action_arns must hold at least one ARN"):
        alarm_props(action_arns=(), release_gate=False)


@pytest.fixture(scope="module")
def release_doc():
    def build(stack):
        MetricAlarm(stack, "growth", queue_growth_release_alarm(name="cot-worker-release-dlq-growth", visible_messages=VISIBLE, description="Gate."))

    return synth_construct(build)


def test_queue_growth_release_alarm_fires_on_growth_not_on_old_messages(release_doc):
    item = alarm(release_doc, "growth")
    messages, expression = item["metric_query"]
    assert messages == {
        "id": "messages",
        "return_data": False,
        "metric": {"namespace": "AWS/SQS", "metric_name": "ApproximateNumberOfMessagesVisible", "dimensions": {"QueueName": "cot-jobs"}, "stat": "Maximum", "period": 60},
    }
    # DIFF: a DLQ holding old messages (a flat series) gives 0 and does not breach; only growth does.
    assert (expression["expression"], expression["return_data"]) == ("DIFF(messages)", True)
    assert (item["comparison_operator"], item["threshold"], item["treat_missing_data"]) == ("GreaterThanThreshold", 0, "notBreaching")
    assert (item["evaluation_periods"], item["datapoints_to_alarm"]) == (2, 1)


def test_queue_growth_release_alarm_notifies_nobody(release_doc):
    item = alarm(release_doc, "growth")
    assert "alarm_actions" not in item and "ok_actions" not in item and "insufficient_data_actions" not in item
    assert item["alarm_name"] == "cot-worker-release-dlq-growth"


def test_the_audit_accepts_a_release_gate_without_actions_and_nothing_else():
    """prowler wants ALARM actions on every alarm; only a release gate (read by ECS) is excused, with the reason."""
    from constructs_lib.alarms import RELEASE_GATE_REASON
    from constructs_lib.policy import accepted_findings

    captured = {}

    def build(stack):
        captured["gate"] = MetricAlarm(stack, "gate", queue_growth_release_alarm(name="cot-gate", visible_messages=VISIBLE, description="Gate."))
        captured["paging"] = MetricAlarm(stack, "paging", alarm_props())

    synth_construct(build)
    assert accepted_findings(captured["gate"].alarm) == {"cloudwatch_alarm_actions_alarm_state_configured": RELEASE_GATE_REASON}
    assert accepted_findings(captured["paging"].alarm) == {}


# -- release gates of the API's canary (CodeDeploy reads them) -----------------------------------
# The ALB's per-target-group metrics, at the period the Metric defaults to (the factories set 1 minute).
ALB = dict(namespace="AWS/ApplicationELB", dimensions={"LoadBalancer": "app/cot-lb/abc", "TargetGroup": "targetgroup/cot-a/def"}, period_seconds=300)
TARGET_5XX, ALB_REQUESTS = Metric(metric_name="HTTPCode_Target_5XX_Count", **ALB), Metric(metric_name="RequestCount", **ALB)
RESPONSE_TIME = Metric(metric_name="TargetResponseTime", statistic="Average", **ALB)
UNHEALTHY = Metric(metric_name="UnHealthyHostCount", **ALB)
CANARY_GATES: dict[str, MetricAlarm] = {}


@pytest.fixture(scope="module")
def canary_doc():
    def build(stack):
        for construct_id, props in {
            "errors": release_error_rate_alarm(name="cot-api-release-5xx-rate-a", errors=TARGET_5XX, requests=ALB_REQUESTS, threshold_percent=5, description="Gate."),
            "latency": release_latency_alarm(name="cot-api-release-latency-p99-a", response_time=RESPONSE_TIME, threshold_milliseconds=1500, description="Gate."),
            "unhealthy": release_unhealthy_targets_alarm(name="cot-api-release-unhealthy-targets-a", unhealthy=UNHEALTHY, description="Gate."),
        }.items():
            CANARY_GATES[construct_id] = MetricAlarm(stack, construct_id, props)

    return synth_construct(build)


@pytest.mark.parametrize("construct_id", ["errors", "latency", "unhealthy"])
def test_canary_gates_decide_within_a_bake_on_two_of_three_minutes(canary_doc, construct_id):
    item = alarm(canary_doc, construct_id)
    periods = [query["metric"]["period"] for query in item.get("metric_query", []) if "metric" in query] or [item["period"]]
    # One-minute periods: a five-minute bake sees several; one bad minute alone (a cold cache) does not roll back.
    assert set(periods) == {60}
    assert (item["evaluation_periods"], item["datapoints_to_alarm"]) == (3, 2)
    # A target group without targets or requests (the idle one) publishes nothing: that is not a failure.
    assert item["treat_missing_data"] == "notBreaching"
    assert item["comparison_operator"] == "GreaterThanThreshold"


@pytest.mark.parametrize("construct_id", ["errors", "latency", "unhealthy"])
def test_canary_gates_notify_nobody_and_the_audit_knows_why(canary_doc, construct_id):
    from constructs_lib.alarms import RELEASE_GATE_REASON
    from constructs_lib.policy import accepted_findings

    item = alarm(canary_doc, construct_id)
    assert "alarm_actions" not in item and "ok_actions" not in item and "insufficient_data_actions" not in item
    assert accepted_findings(CANARY_GATES[construct_id].alarm) == {"cloudwatch_alarm_actions_alarm_state_configured": RELEASE_GATE_REASON}
    assert "CodeDeploy" in RELEASE_GATE_REASON


def test_canary_error_gate_is_the_share_of_requests_answered_5xx(canary_doc):
    item = alarm(canary_doc, "errors")
    assert item["alarm_name"] == "cot-api-release-5xx-rate-a"
    assert "metric_name" not in item
    errors, requests, expression = item["metric_query"]
    assert errors == {
        "id": "errors",
        "return_data": False,
        "metric": {"namespace": "AWS/ApplicationELB", "metric_name": "HTTPCode_Target_5XX_Count", "dimensions": ALB["dimensions"], "stat": "Sum", "period": 60},
    }
    assert requests["metric"]["metric_name"] == "RequestCount" and requests["metric"]["stat"] == "Sum" and requests["return_data"] is False
    # A minute without 5xx publishes no 5xx datapoint: FILL makes it 0 %, not missing.
    assert (expression["expression"], expression["return_data"]) == ("100 * FILL(errors, 0) / requests", True)
    assert item["threshold"] == 5


def test_canary_latency_gate_is_p99_in_the_seconds_the_alb_reports(canary_doc):
    item = alarm(canary_doc, "latency")
    assert (item["namespace"], item["metric_name"], item["dimensions"]) == ("AWS/ApplicationELB", "TargetResponseTime", ALB["dimensions"])
    assert (item["extended_statistic"], item["period"]) == ("p99", 60)
    assert "statistic" not in item
    # TargetResponseTime is in seconds: 1500 ms is 1.5.
    assert item["threshold"] == 1.5


def test_canary_unhealthy_gate_fires_on_one_unhealthy_target(canary_doc):
    item = alarm(canary_doc, "unhealthy")
    assert (item["metric_name"], item["dimensions"], item["statistic"], item["period"]) == ("UnHealthyHostCount", ALB["dimensions"], "Maximum", 60)
    assert item["threshold"] == 0
