"""constructs_lib/monitoring.py: graph widgets and the dashboard body."""

from __future__ import annotations

import pytest

from constructs_lib.metrics import Metric
from constructs_lib.monitoring import Dashboard, DashboardProps, GraphWidget, dashboard_body
from tests.support import at, logical_id, data_sources, resources, synth_construct

VISIBLE = Metric(namespace="AWS/SQS", metric_name="ApproximateNumberOfMessagesVisible", dimensions={"QueueName": "cot-jobs"}, statistic="Maximum")
IN_FLIGHT = Metric(namespace="AWS/SQS", metric_name="ApproximateNumberOfMessagesNotVisible", dimensions={"QueueName": "cot-jobs"}, statistic="Maximum")
LATENCY = Metric(namespace="AWS/ApiGateway", metric_name="Latency", dimensions={"ApiId": "abc", "Stage": "$default"}, statistic="p99", period_seconds=300)
PLAIN = GraphWidget(title="Job queue", metrics={"visible": VISIBLE, "inFlight": IN_FLIGHT})
MATH = GraphWidget(title="Backlog", metrics={"visible": VISIBLE, "inFlight": IN_FLIGHT}, expression="visible + inFlight", threshold=0)
ALARM = GraphWidget(title="Latency", metrics={"latency": LATENCY}, threshold=2000, threshold_label="p99 alarm")


def test_plain_widget_draws_each_metric_with_its_statistic_and_period():
    properties = PLAIN.render("us-east-1")
    assert properties == {
        "title": "Job queue",
        "region": "us-east-1",
        "view": "timeSeries",
        "stacked": False,
        "metrics": [
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "cot-jobs", {"id": "visible", "stat": "Maximum", "period": 60}],
            ["AWS/SQS", "ApproximateNumberOfMessagesNotVisible", "QueueName", "cot-jobs", {"id": "inFlight", "stat": "Maximum", "period": 60}],
        ],
    }


def test_math_widget_hides_its_inputs_and_draws_the_expression_with_the_threshold():
    properties = MATH.render("us-east-1")
    *inputs, expression = properties["metrics"]
    assert all(row[-1]["visible"] is False for row in inputs)
    assert expression == [{"expression": "visible + inFlight", "id": "expression", "label": "Backlog"}]
    assert properties["annotations"] == {"horizontal": [{"label": "alarm threshold", "value": 0}]}


def test_percentiles_and_dimensions_in_order():
    (row,) = ALARM.render("eu-west-1")["metrics"]
    assert row == ["AWS/ApiGateway", "Latency", "ApiId", "abc", "Stage", "$default", {"id": "latency", "stat": "p99", "period": 300}]
    assert ALARM.render("eu-west-1")["annotations"]["horizontal"] == [{"label": "p99 alarm", "value": 2000}]


def test_body_lays_widgets_out_two_per_row():
    body = dashboard_body(DashboardProps(name="cot", widgets=(PLAIN, MATH, ALARM)), "us-east-1")
    assert [(w["type"], w["x"], w["y"], w["width"], w["height"]) for w in body["widgets"]] == [
        ("metric", 0, 0, 12, 6), ("metric", 12, 0, 12, 6), ("metric", 0, 6, 12, 6),
    ]  # fmt: skip
    third = dashboard_body(DashboardProps(name="cot", widgets=(PLAIN, MATH, ALARM), widget_width=8, widget_height=4), "us-east-1")
    assert [(w["x"], w["y"]) for w in third["widgets"]] == [(0, 0), (8, 0), (16, 0)]


def test_dashboard_body_is_jsonencoded_in_the_stack_region():
    def build(stack):
        build.dashboard = Dashboard(stack, "dashboard", DashboardProps(name="cot", widgets=(PLAIN,)))

    doc = synth_construct(build)
    dashboard = at(resources(doc, "aws_cloudwatch_dashboard"), "dashboard")
    assert dashboard["dashboard_name"] == "cot"
    region = logical_id(data_sources(doc, "aws_region"), "aws_context/region")
    body = dashboard["dashboard_body"]
    assert body.startswith("${jsonencode(") and f'"region" = data.aws_region.{region}.name' in body
    assert '"QueueName", "cot-jobs"' in body
    assert build.dashboard.dashboard_arn.startswith("${")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "cot dashboard"}, "DashboardProps: name must be 1-255 letters, digits, '-' and '_', but 'cot dashboard' was provided"),
        ({"widgets": ()}, "DashboardProps: widgets must hold at least one widget, but none was provided"),
        ({"widget_width": 25}, "DashboardProps: widget_width must be between 1 and 24, but 25 was provided"),
        ({"widget_height": 0}, "DashboardProps: widget_height must be between 1 and 1000, but 0 was provided"),
    ],
)
def test_dashboard_props_validation_messages(kwargs, message):
    with pytest.raises(ValueError) as caught:
        DashboardProps(**{"name": "cot", "widgets": (PLAIN,), **kwargs})
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metrics": {}}, "GraphWidget: metrics must hold at least one metric, but none was provided for 'x'"),
        ({"metrics": {"Visible": VISIBLE}}, "GraphWidget: metrics must be keyed by ids starting with a lower-case letter, then letters, digits and '_', but 'Visible' was provided"),
    ],
)
def test_widget_validation_messages(kwargs, message):
    with pytest.raises(ValueError) as caught:
        GraphWidget(**{"title": "x", **kwargs})
    assert message in str(caught.value)
