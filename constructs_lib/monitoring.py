"""A CloudWatch dashboard built from the same ``Metric`` values the alarms use.

Each ``GraphWidget`` draws metrics (or one metric-math expression over them)
and, for an alarm's widget, the alarm's threshold as a horizontal line, so
the dashboard shows exactly what the alarm evaluates. The body is built with
``Fn.jsonencode`` (queue names, API ids and the region are tokens), which
keeps both the JSON and the HCL output valid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from cdktf import Fn
from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from constructs import Construct

from constructs_lib._validation import Problems
from constructs_lib.aws_context import AwsContext
from constructs_lib.metrics import Metric

GRID_WIDTH = 24  # CloudWatch's dashboard grid
EXPRESSION_ID = "expression"
_QUERY_ID = r"[a-z][A-Za-z0-9_]{0,254}"
_DASHBOARD_NAME = r"[A-Za-z0-9_-]{1,255}"


@dataclass(frozen=True, kw_only=True)
class GraphWidget:
    """A time-series graph.

    title: shown above the graph.
    metrics: query id -> metric, in drawing order; ids start with a lower-case
        letter (metric math refers to them), at least one.
    expression: metric math over the ids, drawn instead of its inputs.
        Default "": draw the metrics themselves.
    expression_label: the expression's legend. Default: the title.
    threshold: a horizontal line (an alarm's threshold). Default None.
    threshold_label: the line's legend. Default "alarm threshold".
    """

    title: str
    metrics: Mapping[str, Metric]
    expression: str = ""
    expression_label: str = ""
    threshold: float | None = None
    threshold_label: str = "alarm threshold"

    def __post_init__(self) -> None:
        problems = Problems("GraphWidget")
        if not self.metrics:
            problems.add(f"metrics must hold at least one metric, but none was provided for {self.title!r}")
        for query_id in self.metrics:
            problems.matches("metrics", query_id, _QUERY_ID, "keyed by ids starting with a lower-case letter, then letters, digits and '_'")
        problems.raise_if_any()

    def render(self, region: str) -> dict[str, Any]:
        """The widget's ``properties`` (position and size are the dashboard's)."""
        rows: list[list[Any]] = []
        for query_id, metric in self.metrics.items():
            options: dict[str, Any] = {"id": query_id, "stat": metric.statistic, "period": metric.period_seconds}
            if metric.region and metric.region != region:
                options["region"] = metric.region
            if self.expression:
                options["visible"] = False
            dimensions = [part for name, value in metric.dimensions.items() for part in (name, value)]
            rows.append([metric.namespace, metric.metric_name, *dimensions, options])
        if self.expression:
            rows.append([{"expression": self.expression, "id": EXPRESSION_ID, "label": self.expression_label or self.title}])
        properties: dict[str, Any] = {
            "title": self.title,
            "region": region,
            "view": "timeSeries",
            "stacked": False,
            "metrics": rows,
        }
        if self.threshold is not None:
            properties["annotations"] = {"horizontal": [{"label": self.threshold_label, "value": self.threshold}]}
        return properties


@dataclass(frozen=True, kw_only=True)
class DashboardProps:
    """Inputs of a dashboard.

    name: 1-255 letters, digits, '-' and '_', such as ``circle-of-trust``.
    widgets: graphs, laid out left to right, top to bottom; at least one.
    widget_width: grid columns per graph, 1-24. Default 12 (two per row).
    widget_height: grid rows per graph, 1-1000. Default 6.
    """

    name: str
    widgets: tuple[GraphWidget, ...] = field(default_factory=tuple)
    widget_width: int = 12
    widget_height: int = 6

    def __post_init__(self) -> None:
        problems = Problems("DashboardProps")
        problems.matches("name", self.name, _DASHBOARD_NAME, "1-255 letters, digits, '-' and '_'")
        if not self.widgets:
            problems.add("widgets must hold at least one widget, but none was provided")
        problems.between("widget_width", self.widget_width, 1, GRID_WIDTH)
        problems.between("widget_height", self.widget_height, 1, 1000)
        problems.raise_if_any()


def dashboard_body(props: DashboardProps, region: str) -> dict[str, Any]:
    """The dashboard's JSON body as a value (tokens inside stay tokens)."""
    per_row = GRID_WIDTH // props.widget_width
    return {
        "widgets": [
            {
                "type": "metric",
                "x": (index % per_row) * props.widget_width,
                "y": (index // per_row) * props.widget_height,
                "width": props.widget_width,
                "height": props.widget_height,
                "properties": widget.render(region),
            }
            for index, widget in enumerate(props.widgets)
        ]
    }


class Dashboard(Construct):
    """One CloudWatch dashboard in the stack's region."""

    def __init__(self, scope: Construct, construct_id: str, props: DashboardProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.dashboard = CloudwatchDashboard(
            self,
            "dashboard",
            dashboard_name=props.name,
            dashboard_body=Fn.jsonencode(dashboard_body(props, AwsContext.of(self).region)),
        )

    @property
    def dashboard_name(self) -> str:
        return self.dashboard.dashboard_name

    @property
    def dashboard_arn(self) -> str:
        return self.dashboard.dashboard_arn
