"""constructs_lib/metrics.py."""

from __future__ import annotations

import pytest

from constructs_lib.metrics import Metric


def test_with_changes_only_what_is_given():
    metric = Metric(namespace="AWS/SQS", metric_name="M", dimensions={"QueueName": "q"})
    assert (metric.statistic, metric.period_seconds) == ("Average", 60)
    changed = metric.with_(statistic="Maximum")
    assert (changed.statistic, changed.period_seconds, changed.dimensions) == ("Maximum", 60, {"QueueName": "q"})
    assert metric.with_(period_seconds=300).period_seconds == 300


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"statistic": "p999"}, "M: statistic must be one of Average, Maximum, Minimum, SampleCount, Sum or a percentile p0-p100 such as p99, but 'p999' was provided"),
        ({"statistic": "p100.5"}, "M: statistic must be one of Average, Maximum, Minimum, SampleCount, Sum or a percentile p0-p100 such as p99, but 'p100.5' was provided"),
        ({"statistic": "p99\n"}, "M: statistic must be one of Average, Maximum, Minimum, SampleCount, Sum or a percentile p0-p100 such as p99, but 'p99\\n' was provided"),
        ({"statistic": "P99"}, "M: statistic must be one of Average, Maximum, Minimum, SampleCount, Sum or a percentile p0-p100 such as p99, but 'P99' was provided"),
        ({"period_seconds": 90}, "M: period_seconds must be 10, 30 or a multiple of 60, but 90 was provided"),
        ({"period_seconds": 0}, "M: period_seconds must be 10, 30 or a multiple of 60, but 0 was provided"),
    ],
)
def test_validation_messages(kwargs, message):
    with pytest.raises(ValueError) as caught:
        Metric(namespace="AWS/SQS", metric_name="M", dimensions={}, **kwargs)
    assert str(caught.value) == message


@pytest.mark.parametrize("statistic", ["p0", "p50", "p99", "p99.9", "p99.99", "p100"])
def test_percentiles_are_statistics_too(statistic):
    metric = Metric(namespace="AWS/ApiGateway", metric_name="Latency", dimensions={}, statistic=statistic)
    assert metric.is_percentile
    assert not metric.with_(statistic="Average").is_percentile
