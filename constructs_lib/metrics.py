"""A CloudWatch metric as a value, so alarms and dashboards share one definition.

Constructs expose ``metric_<name>()`` helpers returning ``Metric``; the
namespace and dimension strings live only in the construct that owns the
resource (``Queue`` knows ``AWS/SQS`` and ``QueueName``). API Gateway's
live here: the HTTP and the WebSocket API report the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Mapping

STATISTICS = ("Average", "Maximum", "Minimum", "SampleCount", "Sum")
# Percentiles p0-p100 with up to two decimals (``p99``, ``p99.9``): alarms set
# them as ``extended_statistic``, dashboards and metric math as ``stat``.
PERCENTILE = re.compile(r"p(100(\.0{1,2})?|\d{1,2}(\.\d{1,2})?)")  # use with fullmatch: `$` would let "p99\n" through


@dataclass(frozen=True, kw_only=True)
class Metric:
    """One CloudWatch metric.

    namespace: such as ``AWS/SQS``.
    metric_name: such as ``ApproximateNumberOfMessagesVisible``.
    dimensions: dimension name -> value (values may be tokens).
    statistic: one of Average, Maximum, Minimum, SampleCount, Sum, or a
        percentile p0-p100 such as p99. Default Average.
    period_seconds: 10, 30 or a multiple of 60. Default 60.
    region: where the metric is published when that is not the stack's
        region (CloudFront's and CloudFront-scope WAF's, us-east-1). Default
        None: the stack's region.
    """

    namespace: str
    metric_name: str
    dimensions: Mapping[str, str]
    statistic: str = "Average"
    period_seconds: int = 60
    region: str | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.statistic not in STATISTICS and not PERCENTILE.fullmatch(self.statistic):
            problems.append(f"statistic must be one of {', '.join(STATISTICS)} or a percentile p0-p100 such as p99, but {self.statistic!r} was provided")
        if self.period_seconds not in (10, 30) and (self.period_seconds <= 0 or self.period_seconds % 60):
            problems.append(f"period_seconds must be 10, 30 or a multiple of 60, but {self.period_seconds} was provided")
        if problems:
            raise ValueError(f"{self.metric_name}: " + "; ".join(problems))

    @property
    def is_percentile(self) -> bool:
        """True for ``pNN``: alarms take it as ``extended_statistic``."""
        return self.statistic not in STATISTICS

    def with_(self, *, statistic: str | None = None, period_seconds: int | None = None) -> "Metric":
        """The same metric with another statistic or period."""
        return replace(
            self,
            statistic=statistic or self.statistic,
            period_seconds=period_seconds or self.period_seconds,
        )


API_GATEWAY_NAMESPACE = "AWS/ApiGateway"


def api_gateway_stage_metric(api_id: str, stage: str, metric_name: str, *, statistic: str = "Sum") -> Metric:
    """A metric of one API Gateway v2 stage (HTTP or WebSocket API): dimensions ``ApiId`` and ``Stage``."""
    return Metric(namespace=API_GATEWAY_NAMESPACE, metric_name=metric_name, dimensions={"ApiId": api_id, "Stage": stage}, statistic=statistic)
