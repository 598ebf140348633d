"""The stack's operations wiring: audit trail, alarms to SNS, dashboard, backups, outputs; both sides of each flag.

Builds three stacks once: the two real configs (trail on, backup off, no
e-mail) and a variant with the trail off, backups on, an alarm e-mail and
its own thresholds.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import data_sources, ref, resources, synth_stack, merged_environment, synth_layers

PROJECT = Path(__file__).resolve().parents[1]
PREFIXES = {"production": "circle-of-trust", "staging": "circle-of-trust-staging", "variant": "circle-of-trust-variant"}
OPERATIONS_OUTPUTS = (
    "alarm_topic_arn", "dashboard_name", "resource_prefix", "dlq_url", "dlq_arn", "http_api_id", "vpc_link_id", "api_access_log_group_name",
    "cloud_map_namespace_name", "cloud_map_service_name", "api_log_group_name", "worker_log_group_name",
)  # fmt: skip
TRAIL_OUTPUTS = ("cloudtrail_trail_name", "cloudtrail_trail_arn", "cloudtrail_bucket_name", "cloudtrail_log_group_name")
ALARM_SUFFIXES = (
    "jobs-dlq-not-empty", "api-5xx-rate", "api-latency-p99", "api-service-tasks-below-desired",
    "worker-service-tasks-below-desired", "jobs-oldest-message-age", "conversations-table-throttled", "jobs-table-throttled",
    "waf-blocked-requests", "waf-rate-limited-requests",
)  # fmt: skip
TOKEN = re.compile(r"^\$\{([a-z0-9_.]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}$")


@pytest.fixture(scope="module")
def docs() -> dict[str, dict]:
    from stacks.config import EnvironmentConfig, load_configs

    configs = load_configs([PROJECT / "config" / "production.tfvars", PROJECT / "config" / "staging.tfvars"])
    configs.append(
        EnvironmentConfig(
            environment="variant",
            s3_frontend_bucket="circle-of-trust-frontend-variant",
            enable_cloudtrail=False,
            enable_backup=True,
            backup_retention_days=90,
            alarm_email="ops@example.com",
            alarm_api_5xx_percent=2,
            alarm_api_latency_p99_milliseconds=800,
            alarm_job_age_seconds=3600,
        )
    )
    # Outside us-east-1: the web ACL, its logs and its alarms still live there.
    configs.append(
        EnvironmentConfig(
            environment="abroad",
            aws_region="eu-west-1",
            s3_frontend_bucket="circle-of-trust-frontend-abroad",
            enable_cloudtrail=False,
            manage_api_gateway_account=False,
            alarm_waf_blocked_requests=500,
        )
    )
    layers = synth_layers(configs)
    return {config.environment: merged_environment(layers[config.environment]) for config in configs}


def by_name(doc: dict, resource_type: str, name: str, key: str = "name") -> tuple[str, dict]:
    (found,) = [(rid, item) for rid, item in resources(doc, resource_type).items() if item.get(key) == name]
    return found


def name_ref(doc: dict, resource_type: str, name: str, attribute: str, key: str = "name") -> str:
    return ref(doc, resource_type, by_name(doc, resource_type, name, key)[0], attribute)


def purpose_keys(doc: dict) -> dict[str, str]:
    """Key purpose (from its alias) -> the key's ARN reference."""
    return {
        alias["name"].rsplit("-", 1)[1]: ref(doc, "aws_kms_key", TOKEN.match(alias["target_key_id"]).group(2), "arn")
        for alias in resources(doc, "aws_kms_alias").values()
    }


def alarms_by_name(doc: dict) -> dict[str, dict]:
    return {alarm["alarm_name"]: alarm for alarm in resources(doc, "aws_cloudwatch_metric_alarm").values()}


def query_metric(alarm: dict, query_id: str) -> dict:
    (query,) = [q for q in alarm["metric_query"] if q["id"] == query_id]
    return query["metric"]


# -- audit trail --------------------------------------------------------------------------------
@pytest.mark.parametrize("env", ["production", "staging"])
def test_each_real_environment_has_its_trail_bucket_key_and_log_group(docs, env):
    doc, prefix = docs[env], PREFIXES[env]
    _, trail = by_name(doc, "aws_cloudtrail", f"{prefix}-trail")
    keys = purpose_keys(doc)
    assert trail["kms_key_id"] == keys["cloudtrail"]
    assert trail["s3_bucket_name"] == name_ref(doc, "aws_s3_bucket", f"{prefix}-audit-logs", "id", key="bucket")
    assert (trail["is_multi_region_trail"], trail["include_global_service_events"], trail["enable_log_file_validation"]) == (True, True, True)
    _, group = by_name(doc, "aws_cloudwatch_log_group", f"/aws/cloudtrail/{prefix}-trail")
    assert (group["retention_in_days"], group["kms_key_id"]) == (365, keys["logs"])
    bucket_id = name_ref(doc, "aws_s3_bucket", f"{prefix}-audit-logs", "id", key="bucket")
    (encryption,) = [r for r in resources(doc, "aws_s3_bucket_server_side_encryption_configuration").values() if r["bucket"] == bucket_id]
    assert encryption["rule"][0]["apply_server_side_encryption_by_default"]["kms_master_key_id"] == keys["cloudtrail"]


def test_the_logs_key_already_admits_the_trail_log_group(docs):
    # CloudWatch Logs may use the logs key for any log group of the account and region (log-group:*; StringLike,
    # the operator of the key's type, String).
    doc = docs["production"]
    logs_key = next(k for k in resources(doc, "aws_kms_key").values() if k["description"].startswith("alias/circle-of-trust-logs"))
    statements = data_sources(doc, "aws_iam_policy_document")[TOKEN.match(logs_key["policy"]).group(2)]["statement"]
    (condition,) = statements[1]["condition"]
    assert condition["test"] == "StringLike" and condition["values"][0].endswith(":log-group:*")


def test_without_the_trail_there_is_no_trail_bucket_key_or_output(docs):
    doc = docs["variant"]
    assert not resources(doc, "aws_cloudtrail")
    assert "cloudtrail" not in purpose_keys(doc)
    assert [b["bucket"] for b in resources(doc, "aws_s3_bucket").values()] == ["circle-of-trust-frontend-variant"]
    assert not set(TRAIL_OUTPUTS) & set(doc["output"])


# -- alarms --------------------------------------------------------------------------------------
@pytest.mark.parametrize("env", ["production", "staging", "variant"])
def test_alarm_topic_is_encrypted_with_the_alarms_key(docs, env):
    doc, prefix = docs[env], PREFIXES[env]
    _, topic = by_name(doc, "aws_sns_topic", f"{prefix}-alarms")
    assert topic["kms_master_key_id"] == purpose_keys(doc)["alarms"]


def test_email_subscription_only_with_alarm_email(docs):
    assert not resources(docs["production"], "aws_sns_topic_subscription")
    (subscription,) = resources(docs["variant"], "aws_sns_topic_subscription").values()
    assert (subscription["protocol"], subscription["endpoint"]) == ("email", "ops@example.com")
    assert subscription["topic_arn"] == name_ref(docs["variant"], "aws_sns_topic", "circle-of-trust-variant-alarms", "arn")


@pytest.mark.parametrize("env", ["production", "variant"])
def test_every_operations_alarm_pages_the_topic(docs, env):
    doc, prefix = docs[env], PREFIXES[env]
    topic = name_ref(doc, "aws_sns_topic", f"{prefix}-alarms", "arn")
    alarms = alarms_by_name(doc)
    for suffix in ALARM_SUFFIXES:
        alarm = alarms[f"{prefix}-{suffix}"]
        assert alarm["alarm_actions"] == [topic] and alarm["ok_actions"] == [topic], suffix
        assert alarm["treat_missing_data"] == "notBreaching", suffix
        assert "docs/runbook.md" in alarm["alarm_description"], suffix
    # The scaling alarms act on the service, not on people.
    for name in (f"{prefix}-workers-backlog", f"{prefix}-workers-idle"):
        assert topic not in alarms[name]["alarm_actions"]


def test_alarms_read_the_metrics_of_this_stack(docs):
    doc, alarms = docs["production"], alarms_by_name(docs["production"])
    dlq = alarms["circle-of-trust-jobs-dlq-not-empty"]
    assert dlq["dimensions"] == {"QueueName": name_ref(doc, "aws_sqs_queue", "circle-of-trust-jobs-dlq", "name")}
    age = alarms["circle-of-trust-jobs-oldest-message-age"]
    assert age["dimensions"] == {"QueueName": name_ref(doc, "aws_sqs_queue", "circle-of-trust-jobs", "name")}
    assert age["threshold"] == 1920  # twice the visibility timeout (960 s)
    api_id = name_ref(doc, "aws_apigatewayv2_api", "circle-of-trust-api", "id")
    errors = alarms["circle-of-trust-api-5xx-rate"]
    assert query_metric(errors, "errors")["dimensions"] == {"ApiId": api_id, "Stage": "$default"}
    assert (query_metric(errors, "errors")["metric_name"], query_metric(errors, "requests")["metric_name"]) == ("5xx", "Count")
    assert errors["threshold"] == 5
    latency = alarms["circle-of-trust-api-latency-p99"]
    assert (latency["dimensions"]["ApiId"], latency["extended_statistic"], latency["threshold"]) == (api_id, "p99", 2000)
    # The API's alarm keeps the seed's name; production's API serves from api-blue-green (canary releases).
    for alarm, service, cluster in (
        ("api-service", "api-blue-green", "circle-of-trust-api"),
        ("worker-service", "worker-service", "circle-of-trust-workers"),
    ):
        tasks = alarms[f"circle-of-trust-{alarm}-tasks-below-desired"]
        dimensions = query_metric(tasks, "running")["dimensions"]
        assert dimensions["ServiceName"] == name_ref(doc, "aws_ecs_service", service, "name")
        cluster_ref = name_ref(doc, "aws_ecs_cluster", cluster, "name")
        (providers,) = [rid for rid, item in resources(doc, "aws_ecs_cluster_capacity_providers").items() if item["cluster_name"] == cluster_ref]
        assert dimensions["ClusterName"] == ref(doc, "aws_ecs_cluster_capacity_providers", providers, "cluster_name")
        assert query_metric(tasks, "desired")["dimensions"] == dimensions
    for table in ("conversations", "jobs"):
        throttled = alarms[f"circle-of-trust-{table}-table-throttled"]
        assert query_metric(throttled, "reads")["dimensions"] == {"TableName": name_ref(doc, "aws_dynamodb_table", f"circle-of-trust-{table}", "name")}


def test_thresholds_come_from_the_config(docs):
    alarms = alarms_by_name(docs["variant"])
    assert alarms["circle-of-trust-variant-api-5xx-rate"]["threshold"] == 2
    assert alarms["circle-of-trust-variant-api-latency-p99"]["threshold"] == 800
    assert alarms["circle-of-trust-variant-jobs-oldest-message-age"]["threshold"] == 3600


def test_topic_policy_and_key_policy_admit_cloudwatch(docs):
    doc = docs["production"]
    topic_id, _ = by_name(doc, "aws_sns_topic", "circle-of-trust-alarms")
    (policy,) = [p for p in resources(doc, "aws_sns_topic_policy").values() if p["arn"] == ref(doc, "aws_sns_topic", topic_id, "arn")]
    publish = data_sources(doc, "aws_iam_policy_document")[TOKEN.match(policy["policy"]).group(2)]["statement"][0]
    assert publish["principals"] == [{"type": "Service", "identifiers": ["cloudwatch.amazonaws.com"]}]
    assert {c["variable"] for c in publish["condition"]} == {"aws:SourceAccount", "aws:SourceArn"}
    alarms_key = next(k for k in resources(doc, "aws_kms_key").values() if k["description"].startswith("alias/circle-of-trust-alarms"))
    statements = data_sources(doc, "aws_iam_policy_document")[TOKEN.match(alarms_key["policy"]).group(2)]["statement"]
    assert statements[1]["principals"] == [{"type": "Service", "identifiers": ["cloudwatch.amazonaws.com"]}]
    assert statements[1]["actions"] == ["kms:Decrypt", "kms:GenerateDataKey"]


# -- dashboard -------------------------------------------------------------------------------------
def test_dashboard_graphs_every_alarm_metric(docs):
    doc = docs["production"]
    (dashboard,) = resources(doc, "aws_cloudwatch_dashboard").values()
    assert dashboard["dashboard_name"] == "circle-of-trust"
    body = dashboard["dashboard_body"]
    for name in alarms_by_name(doc):
        # Not graphed: the scaling alarms (they act on the service) and the release gates (ECS reads them during a deploy;
        # the DLQ they watch is the DLQ alarm's graph).
        if not name.startswith("circle-of-trust-workers-") and "-release-" not in name:
            assert f'"title" = "{name}"' in body, name
    for reference in (
        name_ref(doc, "aws_sqs_queue", "circle-of-trust-jobs-dlq", "name"),
        name_ref(doc, "aws_apigatewayv2_api", "circle-of-trust-api", "id"),
        name_ref(doc, "aws_dynamodb_table", "circle-of-trust-conversations", "name"),
        name_ref(doc, "aws_ecs_service", "worker-service", "name"),
    ):
        assert reference[2:-1] in body
    # One graph per alarm, then the queue, the HTTP API, the web ACL per rule, the tables.
    assert body.count('"type" = "metric"') == len(ALARM_SUFFIXES) + 4
    for rule in ("rate-limit-per-ip", "AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"):
        assert f'"AWS/WAFV2", "BlockedRequests", "WebACL", "circle-of-trust", "Rule", "{rule}"' in body, rule


def test_waf_alarms_watch_the_web_acl_where_waf_publishes_its_metrics(docs):
    """AWS/WAFV2 metrics of a CloudFront ACL exist in us-east-1 only, dimensions WebACL and Rule (no Region)."""
    alarms = alarms_by_name(docs["production"])
    topic = name_ref(docs["production"], "aws_sns_topic", "circle-of-trust-alarms", "arn")
    blocked, limited = alarms["circle-of-trust-waf-blocked-requests"], alarms["circle-of-trust-waf-rate-limited-requests"]
    assert (blocked["namespace"], blocked["metric_name"], blocked["statistic"], blocked["period"]) == ("AWS/WAFV2", "BlockedRequests", "Sum", 300)
    assert blocked["dimensions"] == {"WebACL": "circle-of-trust", "Rule": "ALL"} and blocked["threshold"] == 1000
    assert limited["dimensions"] == {"WebACL": "circle-of-trust", "Rule": "rate-limit-per-ip"} and limited["threshold"] == 100
    assert "2000 requests per 300 s" in limited["alarm_description"]
    assert "provider" not in blocked and blocked["alarm_actions"] == [topic]
    # eu-west-1: the alarms are made in us-east-1 and page a topic there (an alarm notifies its own region only).
    doc = docs["abroad"]
    alarms = alarms_by_name(doc)
    _, edge_topic = by_name(doc, "aws_sns_topic", "circle-of-trust-abroad-edge-alarms")
    assert edge_topic["provider"] == "aws.us_east_1"
    edge_topic_arn = name_ref(doc, "aws_sns_topic", "circle-of-trust-abroad-edge-alarms", "arn")
    for name in ("circle-of-trust-abroad-waf-blocked-requests", "circle-of-trust-abroad-waf-rate-limited-requests"):
        assert alarms[name]["provider"] == "aws.us_east_1", name
        assert alarms[name]["alarm_actions"] == [edge_topic_arn] == alarms[name]["ok_actions"], name
    assert alarms["circle-of-trust-abroad-waf-blocked-requests"]["threshold"] == 500
    # Every other alarm stays in eu-west-1 with the environment's topic.
    assert "provider" not in alarms["circle-of-trust-abroad-api-5xx-rate"]
    # WAF's log group and its key live in us-east-1 too; the key lets only us-east-1's CloudWatch Logs and alarms in.
    _, log_group = by_name(doc, "aws_cloudwatch_log_group", "aws-waf-logs-circle-of-trust-abroad")
    assert log_group["provider"] == "aws.us_east_1"
    (edge_key,) = [k for k in resources(doc, "aws_kms_key").values() if k.get("provider") == "aws.us_east_1"]
    assert log_group["kms_key_id"].startswith("${aws_kms_key.") and "edge_key" in log_group["kms_key_id"]
    assert "edge_key" in edge_key["policy"]


# -- backup ------------------------------------------------------------------------------------------
def test_backup_is_on_in_production_only_by_its_environment_default(docs):
    """enable_backup defaults to true for a production-like environment; neither shipped file sets it."""
    doc = docs["staging"]
    assert not resources(doc, "aws_backup_vault") and not resources(doc, "aws_backup_plan")
    assert "backup" not in purpose_keys(doc) and "backup_vault_name" not in doc["output"]
    doc = docs["production"]
    _, vault = by_name(doc, "aws_backup_vault", "circle-of-trust-backup")
    assert vault["kms_key_arn"] == purpose_keys(doc)["backup"]
    (lock,) = resources(doc, "aws_backup_vault_lock_configuration").values()
    assert lock["min_retention_days"] == 35 and "changeable_for_days" not in lock  # governance mode


def test_backup_selects_both_tables_into_a_vault_with_its_own_key(docs):
    doc = docs["variant"]
    _, vault = by_name(doc, "aws_backup_vault", "circle-of-trust-variant-backup")
    assert vault["kms_key_arn"] == purpose_keys(doc)["backup"]
    _, plan = by_name(doc, "aws_backup_plan", "circle-of-trust-variant-backup-daily")
    assert plan["rule"][0]["lifecycle"] == {"delete_after": 90}
    _, selection = by_name(doc, "aws_backup_selection", "circle-of-trust-variant-backup-tables")
    assert sorted(selection["resources"]) == sorted(
        name_ref(doc, "aws_dynamodb_table", f"circle-of-trust-variant-{table}", "arn") for table in ("conversations", "jobs")
    )
    assert doc["output"]["backup_vault_name"]["value"] == name_ref(doc, "aws_backup_vault", "circle-of-trust-variant-backup", "name")


# -- outputs ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("env", ["production", "staging"])
def test_operations_outputs_exist_with_descriptions(docs, env):
    doc, prefix = docs[env], PREFIXES[env]
    outputs = doc["output"]
    assert set(OPERATIONS_OUTPUTS) | set(TRAIL_OUTPUTS) <= set(outputs)
    assert all(outputs[name]["description"] for name in (*OPERATIONS_OUTPUTS, *TRAIL_OUTPUTS))
    assert outputs["alarm_topic_arn"]["value"] == name_ref(doc, "aws_sns_topic", f"{prefix}-alarms", "arn")
    assert outputs["dlq_url"]["value"] == name_ref(doc, "aws_sqs_queue", f"{prefix}-jobs-dlq", "url")
    assert outputs["dlq_arn"]["value"] == name_ref(doc, "aws_sqs_queue", f"{prefix}-jobs-dlq", "arn")
    assert outputs["resource_prefix"]["value"] == prefix
    assert outputs["http_api_id"]["value"] == name_ref(doc, "aws_apigatewayv2_api", f"{prefix}-api", "id")
    assert outputs["vpc_link_id"]["value"] == name_ref(doc, "aws_apigatewayv2_vpc_link", f"{prefix}-api", "id")
    assert outputs["cloud_map_namespace_name"]["value"] == name_ref(doc, "aws_service_discovery_private_dns_namespace", f"{prefix}.local", "name")
    assert outputs["cloud_map_service_name"]["value"] == name_ref(doc, "aws_service_discovery_service", "api-service", "name")
    assert outputs["dashboard_name"]["value"] == name_ref(doc, "aws_cloudwatch_dashboard", prefix, "dashboard_name", key="dashboard_name")
    assert outputs["cloudtrail_bucket_name"]["value"] == name_ref(doc, "aws_s3_bucket", f"{prefix}-audit-logs", "bucket", key="bucket")


OPERATIONS_DOCUMENTS = ("audit_trail_", "alarm_topic_", "table_backup_", "cloudtrail_key_", "alarms_key_", "backup_key_")


@pytest.mark.parametrize("env", ["production", "variant"])
def test_operations_policy_documents_grant_no_wildcard_action_and_star_only_in_key_policies(docs, env):
    doc = docs[env]
    documents = {k: v for k, v in data_sources(doc, "aws_iam_policy_document").items() if k.startswith(OPERATIONS_DOCUMENTS)}
    assert len(documents) >= (5 if env == "production" else 4)
    for document_id, document in documents.items():
        for statement in document["statement"]:
            if statement.get("effect") == "Deny":
                # The only denials: requests without TLS.
                assert [(c["test"], c["variable"], c["values"]) for c in statement["condition"]] == [("Bool", "aws:SecureTransport", ["false"])], document_id
                continue
            assert not any("*" in action for action in statement["actions"]), document_id
            assert all("*" not in principal["identifiers"] for principal in statement.get("principals", [])), document_id
            if "*" in statement.get("resources", []):
                assert document_id.endswith("_key_key_policy"), document_id  # in a key policy, "*" is the key itself
