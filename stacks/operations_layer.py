"""The operations layer: what is wrong now. Alarms to SNS and a dashboard, tuned often, never touching data.

Reads the metrics of the layers below (queue, tables, services, HTTP API,
the web ACL, the updater's DLQ). Exports nothing: it is the top of the
environment.
"""

from __future__ import annotations

import re

from cdktf import Annotations
from constructs import Construct

from constructs_lib.alarms import (
    AlarmProps,
    AlarmTopic,
    AlarmTopicProps,
    MetricAlarm,
    blocked_requests_alarm,
    error_rate_alarm,
    latency_alarm,
    message_age_alarm,
    queue_not_empty_alarm,
    tasks_below_desired_alarm,
    throttling_alarm,
)
from constructs_lib.monitoring import Dashboard, DashboardProps, GraphWidget
from constructs_lib.waf import WAF_REGION
from stacks.config import EnvironmentConfig
from stacks.data_layer import DataLayer
from stacks.edge_layer import EdgeLayer
from stacks.layer import LayerStack
from stacks.names import API_SERVICE_NAME, WORKER_SERVICE_NAME
from stacks.services_layer import ServicesLayer

# Every paging alarm's description ends with this; docs/runbook.md has a section per alarm (tests/test_runbook.py).
RUNBOOK_ALARMS = "Runbook: docs/runbook.md, Alarms."


class OperationsLayer(LayerStack):
    layer = "operations"

    def __init__(self, scope: Construct, config: EnvironmentConfig, data: DataLayer, edge: EdgeLayer, services: ServicesLayer) -> None:
        super().__init__(scope, config)
        prefix = config.resource_prefix
        self.alarm_topic = AlarmTopic(
            self,
            "alarm-topic",
            AlarmTopicProps(
                name=f"{prefix}-alarms",
                kms_key_arn=data.keys["alarms"].key_arn,
                email_addresses=(config.alarm_email,) if config.alarm_email else (),
            ),
        )
        to_topic = (self.alarm_topic.topic_arn,)
        runbook = RUNBOOK_ALARMS
        queue, api = data.job_queue, edge.http_api
        alarms = {
            "dlq-alarm": queue_not_empty_alarm(
                name=f"{prefix}-jobs-dlq-not-empty",
                visible_messages=queue.metric_dlq_approximate_number_of_messages_visible(),
                description=f"Jobs failed {config.dlq_max_receive_count} times and wait in the dead-letter queue (kept 14 days). {runbook}",
                action_arns=to_topic,
            ),
            "api-errors-alarm": error_rate_alarm(
                name=f"{prefix}-api-5xx-rate",
                errors=api.metric_server_errors(),
                requests=api.metric_count(),
                threshold_percent=config.alarm_api_5xx_percent,
                description=f"More than {config.alarm_api_5xx_percent}% of HTTP API requests answered 5xx. {runbook}",
                action_arns=to_topic,
            ),
            "api-latency-alarm": latency_alarm(
                name=f"{prefix}-api-latency-p99",
                latency=api.metric_latency(),
                threshold_milliseconds=config.alarm_api_latency_p99_milliseconds,
                description=f"HTTP API p99 latency above {config.alarm_api_latency_p99_milliseconds} ms for 15 minutes. {runbook}",
                action_arns=to_topic,
            ),
            **{
                f"{role}-tasks-alarm": tasks_below_desired_alarm(
                    name=f"{prefix}-{alarm_name}-tasks-below-desired",
                    running=service.metric_running_task_count(),
                    desired=service.metric_desired_task_count(),
                    description=f"ECS service {service.props.service_name} has run fewer tasks than desired for 10 minutes. {runbook}",
                    action_arns=to_topic,
                )
                # The API alarm keeps the seed's service name whichever service serves (api-blue-green with
                # canary releases): paging rules and the runbook find it by name, before and after a cutover.
                for role, alarm_name, service in (
                    ("api", API_SERVICE_NAME, services.api_service),
                    ("worker", WORKER_SERVICE_NAME, services.worker_service),
                )
            },
            "job-age-alarm": message_age_alarm(
                name=f"{prefix}-jobs-oldest-message-age",
                age=queue.metric_approximate_age_of_oldest_message(),
                threshold_seconds=config.effective_alarm_job_age_seconds,
                description=f"A job message is older than {config.effective_alarm_job_age_seconds} s: workers are not keeping up or not running. {runbook}",
                action_arns=to_topic,
            ),
            **{
                f"{table_id}-throttling-alarm": throttling_alarm(
                    name=f"{prefix}-{table_id}-table-throttled",
                    read_throttles=table.metric_read_throttle_events(),
                    write_throttles=table.metric_write_throttle_events(),
                    description=f"DynamoDB throttled reads or writes of the {table_id} table. {runbook}",
                    action_arns=to_topic,
                )
                for table_id, table in (("conversations", data.conversations_table), ("jobs", data.jobs_table))
            },
        }
        if data.updater_dlq is not None:
            # Pushes the updater could not deploy after Lambda's retries (or EventBridge could not deliver) page like failed jobs.
            alarms["updater-dlq-alarm"] = queue_not_empty_alarm(
                name=f"{prefix}-ecs-updater-dlq-not-empty",
                visible_messages=data.updater_dlq.metric_approximate_number_of_messages_visible(),
                description=f"Image pushes the ECR-push updater did not deploy wait in its dead-letter queue (kept 14 days). {runbook}",
                action_arns=to_topic,
            )
        alarms.update(self._edge_alarms(config, data, edge, runbook))
        self.alarms = {construct_id: MetricAlarm(self, construct_id, props) for construct_id, props in alarms.items()}
        if config.production_like and not config.alarm_email:
            Annotations.of(self).add_warning(
                f"alarm_email is empty, so the {len(self.alarms)} paging alarms of {config.environment!r} publish to the "
                f"SNS topic {prefix}-alarms, to which this stack subscribes nobody: unless chat or paging is subscribed to "
                "it out of band (output alarm_topic_arn), nobody is paged. Set alarm_email to the on-call address"
            )

        tables = (("conversations", data.conversations_table), ("jobs", data.jobs_table))
        self.dashboard = Dashboard(
            self,
            "dashboard",
            DashboardProps(
                name=prefix,
                widgets=(
                    *(alarm.widget for alarm in self.alarms.values()),
                    GraphWidget(
                        title="Job queue: waiting and in flight",
                        metrics={
                            "visible": queue.metric_approximate_number_of_messages_visible(),
                            "inFlight": queue.metric_approximate_number_of_messages_not_visible(),
                        },
                    ),
                    GraphWidget(
                        title="HTTP API: requests, 4xx, 5xx",
                        metrics={"requests": api.metric_count(), "clientErrors": api.metric_client_errors(), "serverErrors": api.metric_server_errors()},
                    ),
                    GraphWidget(
                        title="Web ACL: allowed and blocked requests per rule",
                        metrics={
                            "allowed": edge.web_acl.metric_allowed_requests(),
                            **{f"blocked_{_metric_id(rule)}": edge.web_acl.metric_blocked_requests(rule) for rule in edge.web_acl.rule_names},
                            "counted": edge.web_acl.metric_counted_requests(),
                        },
                    ),
                    GraphWidget(
                        title="Tables: consumed capacity units",
                        metrics={
                            f"{table_id}{kind}": getattr(table, f"metric_consumed_{kind.lower()}_capacity_units")()
                            for table_id, table in tables
                            for kind in ("Read", "Write")
                        },
                    ),
                ),
            ),
        )

        # Outputs operators read (docs/runbook.md names each one).
        if self.edge_alarm_topic is not None:
            self.output("edge_alarm_topic_arn", self.edge_alarm_topic.topic_arn, "SNS topic (us-east-1) the web ACL's alarms publish to; subscribe as alarm_topic_arn.")
        for name, value, description in (
            ("alarm_topic_arn", self.alarm_topic.topic_arn, "SNS topic every alarm publishes ALARM and OK to; subscribe chat or paging here."),
            ("dashboard_name", self.dashboard.dashboard_name, "CloudWatch dashboard of the alarms' metrics."),
            ("resource_prefix", prefix, "Prefix of this environment's resource names (alarms, keys, vault: <prefix>-...)."),
        ):
            self.output(name, value, description)

    def _edge_alarms(self, config: EnvironmentConfig, data: DataLayer, edge: EdgeLayer, runbook: str) -> dict[str, AlarmProps]:
        """The web ACL's alarms. WAF publishes a CloudFront ACL's metrics in us-east-1, and an alarm
        notifies a topic of its own region: outside us-east-1 the alarms and a topic of their own live there."""
        prefix = config.resource_prefix
        self.edge_alarm_topic: AlarmTopic | None = None
        provider = None
        to_topic = (self.alarm_topic.topic_arn,)
        if config.aws_region != WAF_REGION:
            assert data.edge_key is not None
            provider = self.aws_provider("aws-us-east-1", WAF_REGION, alias="us_east_1")
            self.edge_alarm_topic = AlarmTopic(
                self,
                "edge-alarm-topic",
                AlarmTopicProps(
                    name=f"{prefix}-edge-alarms",
                    kms_key_arn=data.edge_key.key_arn,
                    email_addresses=(config.alarm_email,) if config.alarm_email else (),
                    provider=provider,
                    region=WAF_REGION,
                ),
            )
            to_topic = (self.edge_alarm_topic.topic_arn,)
        web_acl = edge.web_acl
        return {
            "waf-blocked-alarm": blocked_requests_alarm(
                name=f"{prefix}-waf-blocked-requests",
                blocked=web_acl.metric_blocked_requests(),
                threshold=config.alarm_waf_blocked_requests,
                description=f"The web ACL blocked more than {config.alarm_waf_blocked_requests} requests in 5 minutes: an attack, or a rule blocking real users. {runbook}",
                action_arns=to_topic,
                provider=provider,
            ),
            "waf-rate-limit-alarm": blocked_requests_alarm(
                name=f"{prefix}-waf-rate-limited-requests",
                blocked=web_acl.metric_rate_limited_requests(),
                threshold=config.alarm_waf_rate_limited_requests,
                description=(
                    f"The per-IP rate rule ({config.waf_rate_limit} requests per {config.waf_rate_limit_window_seconds} s) blocked more than "
                    f"{config.alarm_waf_rate_limited_requests} requests in 5 minutes. {runbook}"
                ),
                action_arns=to_topic,
                provider=provider,
            ),
        }


def _metric_id(rule: str) -> str:
    """A dashboard query id for a rule name (lower case, letters, digits and '_')."""
    return re.sub(r"[^a-z0-9]+", "_", rule.lower()).strip("_")
