"""tools/cost_report.py on small hand-written stacks, with every expected figure worked by hand.

Prices used below (tools/prices_us_east_1.json, 730 h a month):
NAT $0.045/h = $32.85; public IPv4 $0.005/h = $3.65; interface endpoint
$0.01/AZ-h = $7.30; NLB/ALB $0.0225/h = $16.425; Fargate $0.04048/vCPU-h and
$0.004445/GB-h, Spot 70 % less; DynamoDB $0.00013/RCU-h and $0.00065/WCU-h.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tools import cost_report
from tools.cost_report import (
    CostReportError,
    SynthStack,
    alarm_metrics,
    load_prices,
    main,
    split_tasks,
    stack_cost,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PRICES = load_prices()
H = 730  # hours a month

# --------------------------------------------------------------------------
# Builders: the shapes CDKTF writes (references as ${type.id.attr} tokens).
# --------------------------------------------------------------------------


def merge(*parts: dict) -> dict:
    resources: dict[str, dict] = {}
    for part in parts:
        for rtype, group in part.items():
            resources.setdefault(rtype, {}).update(group)
    return resources


def document(*parts: dict, region: object = "us-east-1") -> dict:
    provider = {"aws": [{"region": region}]} if region is not None else {}
    return {"provider": provider, "resource": merge(*parts)}


def cost_of(*parts: dict, region: object = "us-east-1") -> cost_report.StackCost:
    return stack_cost(SynthStack("test", document(*parts, region=region)), PRICES)


def monthly(cost: cost_report.StackCost, prefix: str) -> float:
    matching = [i for i in cost.items if i.what.startswith(prefix)]
    assert matching, f"no line item starts with {prefix!r}: {[i.what for i in cost.items]}"
    return sum(i.monthly_usd for i in matching)


def whats(cost: cost_report.StackCost) -> list[str]:
    return [i.what for i in cost.items]


def private_subnets(azs: int) -> dict:
    return {
        "aws_subnet": {
            f"network_private-{i}_ABCD000{i}": {
                "availability_zone": f"${{element(data.aws_availability_zones.zones.names, {i})}}",
                "tags": {"Name": f"app-private-{i}", "tier": "private"},
            }
            for i in range(azs)
        }
        | {
            f"network_public-{i}_ABCD100{i}": {
                "availability_zone": f"${{element(data.aws_availability_zones.zones.names, {i})}}",
                "tags": {"Name": f"app-public-{i}", "tier": "public"},
            }
            for i in range(azs)
        }
    }


def nat_gateways(count: int) -> dict:
    return {
        "aws_eip": {f"nat-{i}-address": {"domain": "vpc"} for i in range(count)},
        "aws_nat_gateway": {
            f"nat-{i}": {"allocation_id": f"${{aws_eip.nat-{i}-address.id}}", "subnet_id": f"${{aws_subnet.public-{i}.id}}"}
            for i in range(count)
        },
    }


def interface_endpoints(services: list[str], azs: int) -> dict:
    return {
        "aws_vpc_endpoint": {
            f"{s.replace('.', '-')}-interface-endpoint": {
                "service_name": f"com.amazonaws.${{data.aws_region.r.name}}.{s}",
                "vpc_endpoint_type": "Interface",
                "subnet_ids": [f"${{aws_subnet.network_private-{i}_ABCD000{i}.id}}" for i in range(azs)],
            }
            for s in services
        }
    }


def gateway_endpoints() -> dict:
    return {
        "aws_vpc_endpoint": {
            f"{s}-gateway-endpoint": {"service_name": f"com.amazonaws.us-east-1.{s}", "vpc_endpoint_type": "Gateway"}
            for s in ("s3", "dynamodb")
        }
    }


def fargate_service(
    name: str,
    cpu: str,
    memory: str,
    *,
    min_tasks: int | None,
    desired_count: int = 0,
    strategy: list[dict] | None = None,
    extra: dict | None = None,
) -> dict:
    """An ECS service, its task definition and (with min_tasks) its scaling target."""
    service = {
        "name": name,
        "cluster": f"${{aws_ecs_cluster_capacity_providers.{name}-providers.cluster_name}}",
        "task_definition": f"${{aws_ecs_task_definition.{name}_task-definition_12345678.arn}}",
        "desired_count": desired_count,
        "network_configuration": {"assign_public_ip": False, "subnets": []},
        **({"capacity_provider_strategy": strategy} if strategy is not None else {}),
        **(extra or {}),
    }
    parts = {
        "aws_ecs_service": {f"{name}_ABCDEF12": service},
        "aws_ecs_task_definition": {
            f"{name}_task-definition_12345678": {
                "family": f"app-{name}",
                "cpu": cpu,
                "memory": memory,
                "requires_compatibilities": ["FARGATE"],
                "runtime_platform": {"cpu_architecture": "X86_64", "operating_system_family": "LINUX"},
            }
        },
    }
    if min_tasks is not None:
        parts["aws_appautoscaling_target"] = {
            f"{name}-scaling_target": {
                "min_capacity": min_tasks,
                "max_capacity": 10,
                "resource_id": f"service/${{aws_ecs_cluster_capacity_providers.{name}-providers.cluster_name}}"
                f"/${{aws_ecs_service.{name}_ABCDEF12.name}}",
                "scalable_dimension": "ecs:service:DesiredCount",
                "service_namespace": "ecs",
            }
        }
    return parts


ON_DEMAND = [{"base": 0, "capacity_provider": "FARGATE", "weight": 1}]
SPOT = [{"base": 0, "capacity_provider": "FARGATE_SPOT", "weight": 1}]

# Worker task, 2 vCPU / 4 GB: on-demand (2 x 0.04048 + 4 x 0.004445) x 730
# = (0.08096 + 0.01778) x 730 = 0.09874 x 730 = $72.0802; Spot 0.3 x 72.0802 = $21.62406.
WORKER_ON_DEMAND_TASK = 72.0802
WORKER_SPOT_TASK = 21.62406


# --------------------------------------------------------------------------
# Price table
# --------------------------------------------------------------------------


def test_price_table_names_region_date_and_hours_and_sources_every_price():
    assert (PRICES.region, PRICES.as_of, PRICES.currency, PRICES.hours_per_month) == ("us-east-1", "2026-11", "USD", 730)
    assert all(price.source and price.unit for price in PRICES.prices.values())
    # The field notes' figures.
    assert PRICES.value("nat_gateway") == 0.045
    assert PRICES.value("public_ipv4") == 0.005
    assert PRICES.value("interface_endpoint") == 0.01
    assert (PRICES.value("fargate_vcpu"), PRICES.value("fargate_memory")) == (0.04048, 0.004445)
    assert PRICES.monthly("nat_gateway") == pytest.approx(32.85)
    assert PRICES.monthly("interface_endpoint") == pytest.approx(7.30)


def test_invalid_price_table_lists_every_problem_in_one_error(tmp_path):
    data = json.loads(cost_report.DEFAULT_PRICES.read_text())
    data["as_of"] = ""
    data["hours_per_month"] = 24
    data["prices"]["nat_gateway"]["value"] = -1
    data["prices"]["fargate_spot_discount"]["value"] = 1.5
    del data["prices"]["kms_key"]
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(data))
    with pytest.raises(CostReportError) as error:
        load_prices(path)
    message = str(error.value)
    for expected in (
        "as_of: must be a non-empty string",
        "hours_per_month: must be a number from 600 to 800 (730 is usual), got 24",
        "prices.nat_gateway.value: must be a number >= 0, got -1",
        "prices.fargate_spot_discount.value: a ratio must be from 0 to 1, got 1.5",
        "prices.kms_key: missing",
    ):
        assert expected in message


# --------------------------------------------------------------------------
# NAT gateways, addresses, endpoints, load balancers
# --------------------------------------------------------------------------


def test_one_nat_gateway_and_its_address():
    cost = cost_of(private_subnets(2), nat_gateways(1))
    assert monthly(cost, "NAT gateway") == pytest.approx(0.045 * 730)  # $32.85
    assert monthly(cost, "Public IPv4: Elastic IP of a NAT gateway") == pytest.approx(0.005 * 730)  # $3.65
    assert cost.total_monthly_usd == pytest.approx(36.50)


def test_a_nat_gateway_per_az():
    cost = cost_of(private_subnets(2), nat_gateways(2))
    assert monthly(cost, "NAT gateway") == pytest.approx(2 * 32.85)
    assert monthly(cost, "Public IPv4") == pytest.approx(2 * 3.65)
    assert cost.total_monthly_usd == pytest.approx(73.00)


def test_public_nat_without_allocation_still_pays_for_its_address_and_a_loose_eip_is_counted():
    cost = cost_of({"aws_nat_gateway": {"nat": {"subnet_id": "x"}}, "aws_eip": {"spare": {"domain": "vpc"}}})
    assert monthly(cost, "Public IPv4 of a NAT gateway (no aws_eip)") == pytest.approx(3.65)
    assert monthly(cost, "Public IPv4: Elastic IP") == pytest.approx(3.65)
    assert "Public IPv4: Elastic IP of a NAT gateway" not in whats(cost)


def test_five_interface_endpoints_in_two_azs_and_free_gateway_endpoints():
    services = ["ecr.api", "ecr.dkr", "logs", "sqs", "secretsmanager"]
    cost = cost_of(private_subnets(2), interface_endpoints(services, 2), gateway_endpoints())
    # 5 endpoints x 2 AZs x $0.01 x 730 h = $73.00
    assert monthly(cost, "Interface VPC endpoints") == pytest.approx(5 * 2 * 0.01 * 730)
    assert round(cost.total_monthly_usd, 2) == 73.00
    interface = next(i for i in cost.items if i.what.startswith("Interface"))
    assert (interface.count, interface.unit) == (10, "endpoint-AZ")
    assert "ecr.api" in interface.what and "5 x 2 AZs" in interface.what
    assert monthly(cost, "Gateway VPC endpoints (dynamodb, s3)") == 0


def test_internal_nlb_and_internet_facing_alb():
    cost = cost_of(
        {
            "aws_lb": {
                "nlb": {"load_balancer_type": "network", "internal": True, "subnets": ["a", "b"]},
                "alb": {"internal": False, "subnets": ["${aws_subnet.a.id}", "${aws_subnet.b.id}"]},
            }
        }
    )
    assert monthly(cost, "Network Load Balancer") == pytest.approx(0.0225 * 730)  # $16.425
    assert monthly(cost, "Application Load Balancer") == pytest.approx(16.425)  # default type
    # internet-facing ALB: one public IPv4 per subnet; the internal NLB has none
    assert monthly(cost, "Public IPv4 of internet-facing") == pytest.approx(2 * 3.65)


# --------------------------------------------------------------------------
# Fargate
# --------------------------------------------------------------------------


def test_api_service_runs_its_scaling_minimum_on_demand():
    # desired_count 3 is what Terraform creates; the scaling minimum (2) is what idles.
    cost = cost_of(fargate_service("api", "512", "1024", min_tasks=2, desired_count=3, strategy=ON_DEMAND))
    # 2 tasks x (0.5 vCPU x $0.04048 + 1 GB x $0.004445) x 730 h
    # = 2 x (0.02024 + 0.004445) x 730 = 2 x 0.024685 x 730 = $36.0401
    assert monthly(cost, "Fargate api: 0.5 vCPU / 1 GB, on-demand") == pytest.approx(36.0401)
    assert round(cost.total_monthly_usd, 2) == 36.04
    item = cost.items[0]
    assert (item.count, item.unit) == (2, "task")
    assert "min_capacity" in item.note


def test_without_a_scaling_target_desired_count_runs():
    service = fargate_service("api", "0.5 vCPU", "1 GB", min_tasks=None, desired_count=1, extra={"launch_type": "FARGATE"})
    cost = cost_of(service)
    # 1 x 0.024685 x 730 = $18.02005; "0.5 vCPU" / "1 GB" strings parse like "512" / "1024"
    assert monthly(cost, "Fargate api") == pytest.approx(18.02005)
    assert "desired_count" in cost.items[0].note


def test_spot_worker_at_zero_tasks_costs_nothing():
    cost = cost_of(fargate_service("worker", "2048", "4096", min_tasks=0, strategy=SPOT))
    assert whats(cost) == ["Fargate worker: 2 vCPU / 4 GB, Spot (estimate)"]
    assert cost.items[0].count == 0
    assert cost.total_monthly_usd == 0


def test_spot_worker_with_one_task_pays_the_spot_price():
    cost = cost_of(fargate_service("worker", "2048", "4096", min_tasks=1, strategy=SPOT))
    # 1 x 0.3 x (2 x 0.04048 + 4 x 0.004445) x 730 = 0.3 x 72.0802 = $21.62406
    assert monthly(cost, "Fargate worker: 2 vCPU / 4 GB, Spot") == pytest.approx(WORKER_SPOT_TASK)
    assert "Fargate worker: 2 vCPU / 4 GB, on-demand" not in whats(cost)


def test_fargate_base_runs_on_demand_and_the_rest_on_spot():
    strategy = [
        {"base": 1, "capacity_provider": "FARGATE", "weight": 0},
        {"base": 0, "capacity_provider": "FARGATE_SPOT", "weight": 1},
    ]
    cost = cost_of(fargate_service("worker", "2048", "4096", min_tasks=3, strategy=strategy))
    # base: 1 on-demand task = $72.0802; the other 2 on Spot = 2 x $21.62406 = $43.24812
    assert monthly(cost, "Fargate worker: 2 vCPU / 4 GB, on-demand") == pytest.approx(WORKER_ON_DEMAND_TASK)
    assert monthly(cost, "Fargate worker: 2 vCPU / 4 GB, Spot") == pytest.approx(2 * WORKER_SPOT_TASK)
    assert cost.total_monthly_usd == pytest.approx(72.0802 + 43.24812)  # $115.32832


def test_split_tasks_base_first_then_weights():
    both = [{"capacity_provider": "FARGATE", "base": 1, "weight": 1}, {"capacity_provider": "FARGATE_SPOT", "weight": 3}]
    assert split_tasks(5, both) == {"FARGATE": 1 + 1, "FARGATE_SPOT": 3}  # 4 left over, 1:3
    assert split_tasks(1, both) == {"FARGATE": 1, "FARGATE_SPOT": 0}
    assert split_tasks(0, both) == {"FARGATE": 0, "FARGATE_SPOT": 0}


def test_service_without_strategy_takes_its_cluster_default():
    parts = fargate_service("worker", "2048", "4096", min_tasks=1, strategy=None)
    parts["aws_ecs_cluster_capacity_providers"] = {
        "worker-providers": {
            "cluster_name": "${aws_ecs_cluster.workers.name}",
            "capacity_providers": ["FARGATE", "FARGATE_SPOT"],
            "default_capacity_provider_strategy": SPOT,
        }
    }
    cost = cost_of(parts)
    assert monthly(cost, "Fargate worker: 2 vCPU / 4 GB, Spot") == pytest.approx(WORKER_SPOT_TASK)


def test_public_ip_tasks_and_cloud_map_registrations():
    extra = {
        "network_configuration": {"assign_public_ip": True},
        "service_registries": {"registry_arn": "${aws_service_discovery_service.api.arn}"},
    }
    cost = cost_of(fargate_service("api", "256", "512", min_tasks=2, strategy=ON_DEMAND, extra=extra))
    assert monthly(cost, "Public IPv4 of api tasks") == pytest.approx(2 * 3.65)
    assert monthly(cost, "Cloud Map registrations of api tasks") == pytest.approx(2 * 0.10)


def test_arm64_tasks_use_the_graviton_price():
    parts = fargate_service("api", "1024", "2048", min_tasks=1, strategy=ON_DEMAND)
    parts["aws_ecs_task_definition"]["api_task-definition_12345678"]["runtime_platform"]["cpu_architecture"] = "ARM64"
    # (1 x 0.03238 + 2 x 0.00356) x 730 = 0.0395 x 730 = $28.835
    assert monthly(cost_of(parts), "Fargate api: 1 vCPU / 2 GB ARM64") == pytest.approx(28.835)


# --------------------------------------------------------------------------
# DynamoDB, KMS, secrets, alarms, zones
# --------------------------------------------------------------------------


def test_provisioned_table_with_a_gsi():
    table = {
        "name": "jobs",
        "billing_mode": "PROVISIONED",
        "read_capacity": 5,
        "write_capacity": 5,
        "global_secondary_index": [{"name": "by-status", "read_capacity": 5, "write_capacity": 5}],
    }
    cost = cost_of({"aws_dynamodb_table": {"jobs_1234ABCD": table}})
    # reads: (5 + 5) RCU x $0.00013 x 730 = 10 x 0.0949 = $0.949
    # writes: (5 + 5) WCU x $0.00065 x 730 = 10 x 0.4745 = $4.745
    assert monthly(cost, "DynamoDB jobs: provisioned reads") == pytest.approx(0.949)
    assert monthly(cost, "DynamoDB jobs: provisioned writes") == pytest.approx(4.745)
    assert cost.total_monthly_usd == pytest.approx(5.694)
    assert "GSI by-status 5/5" in cost.items[0].note


def test_table_scaling_minimum_replaces_its_capacity_and_on_demand_is_usage():
    cost = cost_of(
        {
            "aws_dynamodb_table": {
                # no billing_mode: Terraform's default is PROVISIONED
                "jobs": {"name": "jobs", "read_capacity": 5, "write_capacity": 5},
                "chats": {"name": "chats", "billing_mode": "PAY_PER_REQUEST"},
            },
            "aws_appautoscaling_target": {
                "reads": {
                    "min_capacity": 2,
                    "resource_id": "table/${aws_dynamodb_table.jobs.name}",
                    "scalable_dimension": "dynamodb:table:ReadCapacityUnits",
                    "service_namespace": "dynamodb",
                }
            },
        }
    )
    assert monthly(cost, "DynamoDB jobs: provisioned reads") == pytest.approx(2 * 0.00013 * 730)  # $0.1898
    assert monthly(cost, "DynamoDB jobs: provisioned writes") == pytest.approx(5 * 0.00065 * 730)  # $2.3725
    assert [u.what for u in cost.usage] == ["DynamoDB chats (on-demand)"]
    assert not any("chats" in w for w in whats(cost))


def test_gsi_scaling_minimum_by_literal_resource_id():
    table = {
        "name": "jobs",
        "read_capacity": 10,
        "write_capacity": 1,
        "global_secondary_index": {"name": "by-status", "read_capacity": 10, "write_capacity": 1},
    }
    target = {
        "min_capacity": 1,
        "resource_id": "table/jobs/index/by-status",
        "scalable_dimension": "dynamodb:index:ReadCapacityUnits",
        "service_namespace": "dynamodb",
    }
    cost = cost_of({"aws_dynamodb_table": {"jobs": table}, "aws_appautoscaling_target": {"gsi-reads": target}})
    # reads: table 10 + GSI minimum 1 = 11 RCU (the GSI's own 10 is only its start)
    reads = next(i for i in cost.items if i.what.endswith("reads"))
    assert reads.count == 11 and reads.note.startswith("RCU/WCU: table 10/1, GSI by-status 1/1")


def test_kms_keys_and_secrets():
    cost = cost_of(
        {
            "aws_kms_key": {f"key-{i}": {"enable_key_rotation": True} for i in range(3)},
            "aws_kms_alias": {"alias": {}},
            "aws_secretsmanager_secret": {"a": {"name": "a"}, "b": {"name": "b"}},
        }
    )
    assert monthly(cost, "KMS customer managed keys") == pytest.approx(3 * 1.00)
    assert monthly(cost, "Secrets Manager secrets") == pytest.approx(2 * 0.40)
    assert cost.total_monthly_usd == pytest.approx(3.80)


def test_alarm_metric_counting_rule():
    single = {"metric_name": "CPUUtilization", "namespace": "AWS/ECS", "period": 60}
    math = {
        "metric_query": [
            {"id": "visible", "metric": {"metric_name": "Visible", "namespace": "AWS/SQS", "period": 60}},
            {"id": "in_flight", "metric": {"metric_name": "NotVisible", "namespace": "AWS/SQS", "period": 60}},
            {"id": "backlog", "expression": "visible + in_flight", "return_data": True},
        ]
    }
    anomaly = {
        "metric_query": [
            {"id": "m1", "metric": {"metric_name": "Latency", "namespace": "AWS/ApiGateway", "period": 300}},
            {"id": "band", "expression": "ANOMALY_DETECTION_BAND(m1, 2)"},
        ]
    }
    high = {"metric_name": "Errors", "namespace": "App", "period": 10}
    assert alarm_metrics(single) == (1, False)
    assert alarm_metrics(math) == (2, False)  # the expression is free
    assert alarm_metrics(anomaly) == (3, False)  # the metric + the band's two bounds
    assert alarm_metrics(high) == (1, True)

    cost = cost_of(
        {
            "aws_cloudwatch_metric_alarm": {"single": single, "math": math, "anomaly": anomaly, "high": high},
            "aws_cloudwatch_composite_alarm": {"page": {"alarm_rule": "ALARM(single)"}},
        }
    )
    # standard: (1 + 2 + 3) metrics x $0.10 = $0.60; high resolution: 1 x $0.30; composite: $0.50
    assert monthly(cost, "CloudWatch alarm metrics (standard resolution)") == pytest.approx(0.60)
    assert monthly(cost, "CloudWatch alarm metrics (high resolution)") == pytest.approx(0.30)
    assert monthly(cost, "CloudWatch composite alarms") == pytest.approx(0.50)


def test_zones_dashboards_and_waf():
    cost = cost_of(
        {
            "aws_route53_zone": {"zone": {"name": "example.com"}},
            "aws_service_discovery_private_dns_namespace": {"ns": {"name": "app.local"}},
            "aws_cloudwatch_dashboard": {"main": {"dashboard_name": "main"}},
            "aws_wafv2_web_acl": {"acl": {"rule": [{"name": "a"}, {"name": "b"}]}},
        }
    )
    assert monthly(cost, "Route 53 hosted zones") == pytest.approx(0.50)
    assert monthly(cost, "Route 53 hosted zone of a Cloud Map private DNS namespace") == pytest.approx(0.50)
    assert monthly(cost, "CloudWatch dashboards") == pytest.approx(3.00)
    assert monthly(cost, "WAF") == pytest.approx(5.00 + 2 * 1.00)


def _managed(name: str) -> dict:
    return {"name": name, "statement": [{"managed_rule_group_statement": [{"name": name, "vendor_name": "AWS"}]}]}


def test_bot_control_adds_its_subscription_and_a_million_edge_requests_are_priced():
    """AWS WAF: $5/ACL, $1/rule, Bot Control $10 + $1/M; per million requests CloudFront HTTPS $1.00 (US/EU),
    WAF $0.60, a CloudFront Function $0.10 and its KeyValueStore read $0.03, a Lambda request $0.20."""
    edge = {
        "aws_wafv2_web_acl": {"acl": {"rule": [{"name": "rate"}, _managed("AWSManagedRulesCommonRuleSet"), _managed("AWSManagedRulesBotControlRuleSet")]}},
        "aws_cloudfront_distribution": {"api": {}},
        "aws_cloudfront_function": {"verify": {}},
        "aws_cloudfront_key_value_store": {"store": {}},
        "aws_apigatewayv2_authorizer": {"origin": {}},
    }
    cost = cost_of(edge)
    assert monthly(cost, "WAF") == pytest.approx(5.00 + 3 * 1.00 + 10.00)
    assert dict(cost.per_million_requests) == pytest.approx(
        {
            "CloudFront HTTPS requests": 1.00,
            "WAF requests": 0.60,
            "CloudFront Function invocations": 0.10,
            "KeyValueStore reads": 0.03,
            "Bot Control requests (beyond 10 million a month)": 1.00,
            "Lambda authorizer, if no answer were cached": 0.20,
        }
    )
    assert "Per million API requests through CloudFront and the web ACL: $2.93" in cost_report.render_text([cost], PRICES)
    # Without Bot Control: no subscription, no per-request fee; without a web ACL nothing per request is claimed.
    edge["aws_wafv2_web_acl"]["acl"]["rule"].pop()
    cost = cost_of(edge)
    assert monthly(cost, "WAF") == pytest.approx(5.00 + 2 * 1.00)
    assert "Bot Control requests (beyond 10 million a month)" not in dict(cost.per_million_requests)
    assert cost_of({"aws_cloudfront_distribution": {"site": {}}}).per_million_requests == []


def test_usage_based_free_and_unknown_types():
    cost = cost_of(
        {
            "aws_sqs_queue": {"jobs": {}, "dlq": {}},
            "aws_cloudfront_distribution": {"site": {}},
            "aws_apigatewayv2_api": {"http": {}},
            "aws_apigatewayv2_route": {"route": {}},
            "aws_lambda_function": {"fn": {}},
            "aws_cloudtrail": {"trail": {}},
            "aws_iam_role": {"role": {}},
            "aws_security_group": {"sg": {}},
            "aws_db_instance": {"db": {}},
        }
    )
    assert cost.items == [] and cost.total_monthly_usd == 0
    usage = {u.resource_type: u.count for u in cost.usage}
    assert usage == {
        "aws_sqs_queue": 2,
        "aws_cloudfront_distribution": 1,
        "aws_apigatewayv2_api": 1,
        "aws_lambda_function": 1,
        "aws_cloudtrail": 1,
    }
    assert "aws_db_instance x1: not in the price table (not priced)" in cost.warnings
    assert not any("aws_iam_role" in w or "aws_apigatewayv2_route" in w for w in cost.warnings)


# --------------------------------------------------------------------------
# NAT versus endpoints; region
# --------------------------------------------------------------------------


def test_comparison_for_two_azs_with_endpoints():
    services = ["ecr.api", "ecr.dkr", "logs", "sqs", "secretsmanager"]
    cost = cost_of(private_subnets(2), interface_endpoints(services, 2))
    c = cost.comparison
    assert (c.az_count, c.interface_endpoints, c.endpoints_counted_from) == (2, 5, "this stack")
    assert c.one_nat_monthly_usd == pytest.approx(32.85 + 3.65)  # $36.50
    assert c.nat_per_az_monthly_usd == pytest.approx(2 * 36.50)  # $73.00
    assert c.endpoints_monthly_usd == pytest.approx(5 * 2 * 7.30)  # $73.00
    assert c.seed_endpoints_monthly_usd == pytest.approx(3 * 2 * 7.30)  # $43.80
    # (73.00 - 36.50) / (0.045 - 0.01) = 36.50 / 0.035 = 1,042.86 GB a month
    assert c.break_even_gb_one_nat == pytest.approx(36.50 / 0.035)
    assert c.break_even_gb_nat_per_az == 0  # same fixed cost, cheaper per GB

    text = "\n".join(cost_report.render_comparison(c))
    assert "one NAT gateway:      1 x $32.85 + 1 public IPv4 x $3.65 = $36.50/month (+$0.045/GB)" in text
    assert "a NAT gateway per AZ: 2 x $36.50 = $73.00/month" in text
    assert "interface endpoints:  5 x 2 AZs x $7.30 = $73.00/month (+$0.01/GB)" in text
    assert "above 1,043 GB/month" in text
    assert "S3 and DynamoDB: free" in text
    assert "the seed's \"$7-10/month\" is one endpoint in one AZ ($7.30); its 3 endpoints in 2 AZs cost $43.80/month" in text


def test_comparison_for_three_azs_with_a_nat_uses_the_default_endpoint_set():
    cost = cost_of(private_subnets(3), nat_gateways(1))
    c = cost.comparison
    assert cost.az_count == 3
    assert c.stack_uses == "1 NAT gateway"
    assert c.interface_endpoints == 5 and "what the network construct makes" in c.endpoints_counted_from
    assert c.nat_per_az_monthly_usd == pytest.approx(3 * 36.50)  # $109.50
    assert c.endpoints_monthly_usd == pytest.approx(5 * 3 * 7.30)  # $109.50
    assert c.seed_endpoints_monthly_usd == pytest.approx(3 * 3 * 7.30)  # $65.70
    # (109.50 - 36.50) / 0.035 = 2,085.71 GB a month
    assert c.break_even_gb_one_nat == pytest.approx(73.00 / 0.035)
    text = "\n".join(cost_report.render_comparison(c))
    assert "a NAT gateway per AZ: 3 x $36.50 = $109.50/month" in text
    assert "5 x 3 AZs x $7.30 = $109.50/month" in text
    assert "above 2,086 GB/month" in text


def test_default_endpoint_set_matches_the_network_construct():
    """Read constructs_lib/network.py's constant without importing cdktf."""
    tree = ast.parse((PROJECT_ROOT / "constructs_lib" / "network.py").read_text())
    value = next(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "DEFAULT_INTERFACE_ENDPOINT_SERVICES" for t in node.targets)
    )
    assert ast.literal_eval(value) == cost_report.DEFAULT_INTERFACE_ENDPOINT_SERVICES


def test_region_other_than_the_price_table_is_warned():
    cost = cost_of(private_subnets(2), region="eu-west-1")
    assert "region eu-west-1 differs from the price table's us-east-1: these are us-east-1 prices" in cost.warnings
    assert cost_of(private_subnets(2)).warnings == []
    assert any("not a literal" in w for w in cost_of(private_subnets(2), region="${var.region}").warnings)
    assert any("no aws provider region" in w for w in cost_of(private_subnets(2), region=None).warnings)


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------


@pytest.fixture
def output_dir(tmp_path: Path) -> Path:
    stacks = {
        "alpha": document(private_subnets(2), nat_gateways(1), fargate_service("api", "512", "1024", min_tasks=2, strategy=ON_DEMAND)),
        "beta": document(private_subnets(2), interface_endpoints(["logs", "sqs"], 2), region="eu-west-1"),
    }
    for name, doc in stacks.items():
        folder = tmp_path / "out" / "stacks" / name
        folder.mkdir(parents=True)
        (folder / "cdk.tf.json").write_text(json.dumps(doc))
    return tmp_path / "out"


def test_cli_text(output_dir, capsys):
    assert main(["--output", str(output_dir)]) == 0
    text = capsys.readouterr().out
    assert "prices for us-east-1 as of 2026-11" in text
    assert "== alpha (us-east-1, 2 AZs) ==" in text and "== beta (eu-west-1, 2 AZs) ==" in text
    # alpha: 32.85 + 3.65 + 36.0401 = 72.5401
    assert "Total $72.54/month" in text
    # beta: 2 endpoints x 2 AZs x 7.30 = 29.20
    assert "Total $29.20/month" in text
    assert "WARNING: region eu-west-1 differs" in text
    assert "NAT gateway vs VPC endpoints for 2 AZs (this stack has 1 NAT gateway)" in text


def test_cli_json_and_stack_filter(output_dir, capsys):
    assert main(["--output", str(output_dir), "--format", "json", "--stack", "alpha"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["price_table"]["region"] == "us-east-1" and data["price_table"]["as_of"] == "2026-11"
    [alpha] = data["stacks"]
    assert alpha["stack"] == "alpha" and alpha["total_monthly_usd"] == pytest.approx(72.5401)
    assert {i["what"]: i["monthly_usd"] for i in alpha["items"]}["NAT gateway"] == pytest.approx(32.85)
    assert alpha["nat_vs_endpoints"]["nat_per_az_monthly_usd"] == pytest.approx(73.0)


def test_cli_errors(output_dir, tmp_path, capsys):
    assert main(["--output", str(output_dir), "--stack", "gamma"]) == 2
    assert "no stack named gamma" in capsys.readouterr().err
    assert main(["--output", str(tmp_path / "empty")]) == 2
    assert "run `python main.py" in capsys.readouterr().err


def test_the_module_never_imports_cdktf():
    code = "import sys, tools.cost_report; sys.exit(any(m.startswith(('cdktf', 'jsii')) for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT).returncode == 0


# --------------------------------------------------------------------------
# Smoke test on the real stacks (synthesized once per session by conftest)
# --------------------------------------------------------------------------


def test_real_stacks(synth_dir: Path, capsys):
    assert main(["--output", str(synth_dir), "--format", "json"]) == 0
    stacks = {s["stack"]: s for s in json.loads(capsys.readouterr().out)["stacks"]}

    production = stacks["production-network"]
    kinds = {i["resource_type"] for i in production["items"] if i["monthly_usd"] > 0}
    assert "aws_vpc_endpoint" in kinds and "aws_nat_gateway" not in kinds
    assert not any(i["what"] == "NAT gateway" for i in production["items"])
    assert production["nat_vs_endpoints"]["stack_uses"].endswith("interface endpoints")

    staging = stacks["staging-network"]
    nat = [i for i in staging["items"] if i["what"] == "NAT gateway"]
    assert nat and nat[0]["count"] == 1 and nat[0]["monthly_usd"] == pytest.approx(32.85)
    assert main(["--output", str(synth_dir), "--format", "json"]) == 0
    environments = json.loads(capsys.readouterr().out)["environments"]
    assert set(environments) == {"production", "staging"}
    for name, total in environments.items():
        layers = [s["total_monthly_usd"] for stack_name, s in stacks.items() if stack_name.startswith(f"{name}-")]
        assert len(layers) == 5 and total == pytest.approx(sum(layers))
    # Fargate runs in the services layer: the API's tasks cost something at idle in both.
    for name in environments:
        assert stacks[f"{name}-services"]["total_monthly_usd"] > 0
    for stack in stacks.values():
        assert not [w for w in stack["warnings"] if "differs from the price table" in w]
        # Every type the stacks make is priced, usage-based or known to be free.
        assert not [w for w in stack["warnings"] if "not in the price table" in w]


def codedeploy_group(service: str, *, interval: int, wait: int) -> dict:
    """A CodeDeploy ECS deployment group of ``service`` with a TimeBasedCanary configuration (constructs_lib/release.py's shape)."""
    return {
        "aws_codedeploy_app": {"release_application": {"name": "app-api", "compute_platform": "ECS"}},
        "aws_codedeploy_deployment_config": {
            "release_config": {
                "deployment_config_name": "app-api-canary",
                "compute_platform": "ECS",
                "traffic_routing_config": {"type": "TimeBasedCanary", "time_based_canary": {"percentage": 10, "interval": interval}},
            }
        },
        "aws_codedeploy_deployment_group": {
            "release_group": {
                "app_name": "${aws_codedeploy_app.release_application.name}",
                "deployment_group_name": "app-api",
                "deployment_config_name": "${aws_codedeploy_deployment_config.release_config.deployment_config_name}",
                "ecs_service": {"cluster_name": f"${{aws_ecs_cluster_capacity_providers.{service}-providers.cluster_name}}", "service_name": f"${{aws_ecs_service.{service}_ABCDEF12.name}}"},
                "blue_green_deployment_config": {"terminate_blue_instances_on_deployment_success": {"action": "TERMINATE", "termination_wait_time_in_minutes": wait}},
            }
        },
    }


def test_a_canary_release_costs_nothing_at_idle_and_a_second_task_set_per_release():
    """CodeDeploy bills nothing for ECS; each release runs the idle task count again for the bake plus the termination wait."""
    cost = cost_of(fargate_service("api", "512", "1024", min_tasks=2, strategy=ON_DEMAND), codedeploy_group("api", interval=5, wait=30))
    assert round(cost.total_monthly_usd, 4) == 36.0401  # only the service: the application, config and group are free
    (release,) = [u for u in cost.usage if u.resource_type == "aws_codedeploy_deployment_group"]
    # 2 tasks x (0.5 x $0.04048 + 1 x $0.004445) per hour x 35/60 h = 2 x 0.024685 x 0.58333 = $0.0288
    assert "2 task(s) for up to 35 min" in release.note and "up to $0.0288 per release" in release.note, release.note
    assert not [w for w in cost.warnings if "codedeploy" in w]


def test_a_release_whose_service_is_not_in_the_stack_is_not_estimated():
    cost = cost_of(codedeploy_group("elsewhere", interval=5, wait=0))
    (release,) = cost.usage
    assert "not estimated" in release.note and "no charge for ECS deployments" in release.note


def test_an_arm64_services_release_is_priced_at_the_graviton_rate():
    arm = {"runtime_platform": {"cpu_architecture": "ARM64", "operating_system_family": "LINUX"}}
    service = fargate_service("api", "512", "1024", min_tasks=2, strategy=ON_DEMAND)
    service["aws_ecs_task_definition"]["api_task-definition_12345678"].update(arm)
    (release,) = [u for u in cost_of(service, codedeploy_group("api", interval=5, wait=30)).usage if u.resource_type == "aws_codedeploy_deployment_group"]
    # 2 tasks x (0.5 x $0.03238 + 1 x $0.00356) per hour x 35/60 h = 2 x 0.01975 x 0.58333 = $0.0230
    assert "up to $0.023 per release" in release.note, release.note
