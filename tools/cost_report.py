"""Fixed monthly cost at idle of each synthesized stack, and NAT versus VPC endpoints.

    python -m tools.cost_report [--output cdktf.out] [--stack NAME ...] [--format text|json] [--prices FILE]

Run ``python main.py`` first. The report reads ``<output>/stacks/*/cdk.tf.json``
as plain JSON and never imports cdktf, so it takes well under a second.

Why idle cost: it is the floor of the bill and the part a design choice fixes
(NAT gateway or endpoints, how many AZs, how many tasks at minimum). What
traffic decides (requests, GB processed, storage, log ingestion) is listed
as "usage-based, $0 at idle", not estimated.

Prices come from ``tools/prices_us_east_1.json``, which names its region
(us-east-1), date (``as_of``), currency and hours a month (730), and gives
each price a source note. The report prints the region and date in its
header and warns when a stack's aws provider is in another region.

Rules (a month is 730 hours; free tiers are account-wide and not deducted):

- NAT gateway: $0.045/h each (+$0.045/GB, usage). Public IPv4: $0.005/h per
  ``aws_eip`` (a NAT gateway's address is its EIP, counted once), per subnet
  of an internet-facing load balancer, per Fargate task with
  ``assign_public_ip``, and per public NAT gateway without an ``allocation_id``.
- Interface VPC endpoint: $0.01 per endpoint per AZ-hour, AZs =
  ``len(subnet_ids)``. Gateway endpoints (S3, DynamoDB): free.
- Load balancer: $0.0225/h (ALB or NLB), $0.0125/h (GWLB); LCUs are usage.
- Fargate, per ``aws_ecs_service``: tasks at idle = ``min_capacity`` of the
  ``aws_appautoscaling_target`` whose ``resource_id`` names the service,
  else ``desired_count`` (Terraform's default 0). vCPU = task cpu / 1024,
  GB = memory MiB / 1024 (or "0.5 vCPU" / "1 GB" strings), priced per hour
  for x86 or ARM64. The capacity provider strategy (the service's, else the
  cluster's default; ``launch_type = "FARGATE"`` means on-demand) splits the
  tasks: each provider's ``base`` first, the rest in proportion to ``weight``
  (an expected value, so it may be fractional). FARGATE_SPOT tasks cost
  ``1 - fargate_spot_discount`` (0.3) of on-demand: Spot moves with spare
  capacity, so that line is an estimate. Storage above 20 GB is added at the
  on-demand rate; Cloud Map registrations cost $0.10 per task a month.
- DynamoDB PROVISIONED (Terraform's default billing mode): table and GSI
  read and write capacity, or the ``min_capacity`` of a scaling target for
  that table or index, at $0.00013/RCU-h and $0.00065/WCU-h (Standard-IA:
  $0.00016 and $0.00081). PAY_PER_REQUEST: $0 at idle. Storage is usage.
- KMS: $1/month per key or replica key (rotation later adds $1 for each of
  the first two rotations; not counted). Secrets Manager: $0.40/month per
  secret and per replica.
- CloudWatch alarm: $0.10/month per metric the alarm reads, $0.30 when its
  period is under 60 s. A single-metric alarm reads one; a metric-math alarm
  reads one per ``metric_query`` entry that has a ``metric`` (expressions
  are free), plus two for each ANOMALY_DETECTION_BAND expression (the
  band's bounds are billed as metrics). Composite alarm: $0.50/month.
  Dashboard: $3/month each (the account's first 3 free are not deducted).
- Route 53 hosted zone: $0.50/month, including the private zone a Cloud Map
  DNS namespace creates. WAF: $5/month per web ACL + $1 per rule, + $10 for
  Bot Control. A stack with a web ACL and distributions also gets what a
  million API requests add (CloudFront, WAF, the viewer-request function and
  its KeyValueStore read, Bot Control, the authorizer uncached).
- Usage-based, $0 at idle: SQS, Lambda, API Gateway, CloudFront, S3, ECR,
  logs and flow logs, SNS, CloudTrail (the first trail's management events
  are free), Cognito, Backup, on-demand tables, Container Insights metrics.
- Free (VPC, subnets, routes, security groups, IAM, listeners, task
  definitions, scaling policies, ...): ignored. Any other type is reported
  as "not priced" so that a new resource cannot go missing silently.

The NAT-versus-endpoints comparison takes the stack's AZ count (the distinct
AZs of its private subnets) and its interface endpoints (or, for a stack
with a NAT gateway, the network construct's default five: ecr.api, ecr.dkr,
logs, sqs, secretsmanager). The seed's "$7-10/month" for VPC endpoints is
one endpoint in one AZ ($7.30): its three endpoints in two AZs cost $43.80.

Exit codes: 0 report printed (warnings included); 2 usage error, no stacks,
unreadable stack or price table.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

EXIT_OK = 0
EXIT_USAGE = 2

DEFAULT_OUTPUT = Path("cdktf.out")
DEFAULT_PRICES = Path(__file__).resolve().parent / "prices_us_east_1.json"

# What constructs_lib/network.py makes when NAT is off (its
# DEFAULT_INTERFACE_ENDPOINT_SERVICES; a test keeps the two equal). The
# comparison uses it for a stack that has a NAT gateway instead.
DEFAULT_INTERFACE_ENDPOINT_SERVICES = ("ecr.api", "ecr.dkr", "logs", "sqs", "secretsmanager")
SEED_ENDPOINT_COUNT = 3  # "$0.01/hour per endpoint x 3 endpoints" in the seed
FARGATE_FREE_STORAGE_GB = 20


class CostReportError(Exception):
    """A problem with the inputs (price table, output folder, stack JSON)."""


# --------------------------------------------------------------------------
# Price table
# --------------------------------------------------------------------------

PRICE_PERIODS = ("hour", "month", "GB", "ratio", "million requests")
REQUIRED_PRICES = (
    "nat_gateway", "nat_gateway_data", "public_ipv4", "interface_endpoint", "interface_endpoint_data",
    "application_load_balancer", "network_load_balancer", "gateway_load_balancer",
    "fargate_vcpu", "fargate_memory", "fargate_arm_vcpu", "fargate_arm_memory",
    "fargate_ephemeral_storage", "fargate_spot_discount",
    "dynamodb_rcu", "dynamodb_wcu", "dynamodb_ia_rcu", "dynamodb_ia_wcu",
    "kms_key", "secret", "alarm_metric", "alarm_metric_high_resolution", "composite_alarm",
    "dashboard", "hosted_zone", "cloud_map_instance", "waf_web_acl", "waf_rule",
    "waf_requests", "waf_bot_control", "waf_bot_control_requests", "cloudfront_https_requests",
    "cloudfront_function_invocations", "cloudfront_kvs_reads", "lambda_requests",
)


@dataclass(frozen=True)
class Price:
    value: float
    per: str  # one of PRICE_PERIODS
    unit: str
    source: str


@dataclass(frozen=True)
class PriceTable:
    """The price file: every figure the pricers use, for one region and date."""

    region: str
    as_of: str
    currency: str
    hours_per_month: float
    prices: Mapping[str, Price]
    path: str = ""

    def monthly(self, key: str) -> float:
        """Price of one unit for a month (hourly prices times hours_per_month)."""
        price = self.prices[key]
        if price.per == "hour":
            return price.value * self.hours_per_month
        if price.per == "month":
            return price.value
        raise ValueError(f"{key} is priced per {price.per}, not by time")

    def value(self, key: str) -> float:
        return self.prices[key].value


def load_prices(path: Path | str = DEFAULT_PRICES) -> PriceTable:
    """Read and check a price file; every problem is reported in one error."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CostReportError(f"{path}: cannot read the price table: {exc}") from exc
    problems: list[str] = []
    for key in ("region", "as_of", "currency"):
        if not isinstance(data.get(key), str) or not data.get(key):
            problems.append(f"{key}: must be a non-empty string, got {data.get(key)!r}")
    hours = data.get("hours_per_month")
    if not isinstance(hours, (int, float)) or not 600 <= hours <= 800:
        problems.append(f"hours_per_month: must be a number from 600 to 800 (730 is usual), got {hours!r}")
    raw = data.get("prices") if isinstance(data.get("prices"), dict) else {}
    prices: dict[str, Price] = {}
    for key in REQUIRED_PRICES:
        entry = raw.get(key)
        if not isinstance(entry, dict):
            problems.append(f"prices.{key}: missing")
            continue
        value, per = entry.get("value"), entry.get("per")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            problems.append(f"prices.{key}.value: must be a number >= 0, got {value!r}")
        elif per == "ratio" and value > 1:
            problems.append(f"prices.{key}.value: a ratio must be from 0 to 1, got {value!r}")
        if per not in PRICE_PERIODS:
            problems.append(f"prices.{key}.per: must be one of {', '.join(PRICE_PERIODS)}, got {per!r}")
        if not entry.get("source"):
            problems.append(f"prices.{key}.source: must say where the price comes from")
        if not problems:
            prices[key] = Price(float(value), per, str(entry.get("unit", key)), str(entry["source"]))
    if problems:
        raise CostReportError(f"{path}: invalid price table:\n  " + "\n  ".join(problems))
    return PriceTable(data["region"], data["as_of"], data["currency"], float(hours), prices, str(path))


# --------------------------------------------------------------------------
# Data model
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class LineItem:
    """A fixed monthly charge: count x unit price."""

    what: str
    resource_type: str
    count: float
    unit: str
    unit_monthly_usd: float
    note: str = ""

    @property
    def monthly_usd(self) -> float:
        return self.count * self.unit_monthly_usd


@dataclass(frozen=True)
class UsageItem:
    """Something that costs nothing at idle and bills by use."""

    what: str
    resource_type: str
    count: int
    note: str = ""


@dataclass(frozen=True)
class NatComparison:
    """The seed's "NAT Gateway vs VPC Endpoints" for one stack's AZ count, per month."""

    az_count: int
    stack_uses: str
    interface_endpoints: int
    endpoints_counted_from: str
    nat_gateway_monthly_usd: float
    public_ipv4_monthly_usd: float
    one_nat_monthly_usd: float
    nat_per_az_monthly_usd: float
    endpoint_az_monthly_usd: float
    endpoints_monthly_usd: float
    seed_endpoints_monthly_usd: float
    nat_usd_per_gb: float
    endpoint_usd_per_gb: float
    # GB a month of traffic to AWS services above which endpoints cost less;
    # 0 means at any traffic, None when endpoints never catch up.
    break_even_gb_one_nat: float | None
    break_even_gb_nat_per_az: float | None


@dataclass
class StackCost:
    stack: str
    region: str | None
    az_count: int | None
    items: list[LineItem] = field(default_factory=list)
    usage: list[UsageItem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    comparison: NatComparison | None = None
    per_million_requests: list[tuple[str, float]] = field(default_factory=list)

    @property
    def total_monthly_usd(self) -> float:
        return sum(item.monthly_usd for item in self.items)


# --------------------------------------------------------------------------
# Reading the synthesized JSON
# --------------------------------------------------------------------------

# `aws_type.logical_id.attribute` inside a Terraform expression; data sources excluded.
_REFERENCE = re.compile(r"(?<![\w.])(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_]+)")
_CDKTF_HASH = re.compile(r"_[0-9A-F]{8}$")


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and "${" in value


def as_list(value: Any) -> list:
    """A block as a list: CDKTF writes a single block as an object."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def number(value: Any) -> float | None:
    """A literal number (CDKTF writes some as strings); None for an expression."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and not is_expression(value):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def references(value: Any, resource_type: str) -> list[str]:
    """Logical ids of `resource_type` resources that `value` refers to, in order."""
    found: list[str] = []
    if isinstance(value, str):
        found += [m.group(2) for m in _REFERENCE.finditer(value) if m.group(1) == resource_type]
    elif isinstance(value, dict):
        for item in value.values():
            found += references(item, resource_type)
    elif isinstance(value, list):
        for item in value:
            found += references(item, resource_type)
    return found


class SynthStack:
    """One synthesized stack: its resources by type, and the facts pricers share."""

    def __init__(self, name: str, document: Mapping[str, Any]):
        self.name = name
        self.document = document
        self.resources: dict[str, dict[str, dict]] = {
            rtype: {lid: body for lid, body in sorted(group.items()) if isinstance(body, dict)}
            for rtype, group in sorted((document.get("resource") or {}).items())
            if isinstance(group, dict)
        }
        self.warnings: list[str] = []

    def of(self, resource_type: str) -> dict[str, dict]:
        return self.resources.get(resource_type, {})

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    @staticmethod
    def label(logical_id: str, body: Mapping[str, Any], *keys: str) -> str:
        """A readable name: the first literal of `keys` (then `name`, tag Name), else the logical id."""
        for key in (*keys, "name"):
            if isinstance(body.get(key), str) and not is_expression(body[key]):
                return body[key]
        tag = (body.get("tags") or {}).get("Name")
        if isinstance(tag, str) and not is_expression(tag):
            return tag
        return _CDKTF_HASH.sub("", logical_id)

    @property
    def regions(self) -> list[Any]:
        providers = (self.document.get("provider") or {}).get("aws")
        return [p.get("region") for p in as_list(providers) if isinstance(p, dict)]

    @property
    def az_count(self) -> int | None:
        """Distinct AZs of the private subnets (all subnets when none looks private)."""
        subnets = list(self.of("aws_subnet").items())
        private = [(lid, body) for lid, body in subnets if _is_private(lid, body)]
        chosen = private or subnets
        if chosen:
            zones = {
                json.dumps(body.get("availability_zone") or body.get("availability_zone_id") or lid)
                for lid, body in chosen
            }
            return len(zones)
        endpoints = self.of("aws_vpc_endpoint").values()
        widths = [len(e["subnet_ids"]) for e in endpoints if isinstance(e.get("subnet_ids"), list)]
        return max(widths) if widths else None


def _is_private(logical_id: str, body: Mapping[str, Any]) -> bool:
    if body.get("map_public_ip_on_launch") is True:
        return False
    tags = body.get("tags") or {}
    tier = tags.get("tier") or tags.get("Tier")
    if isinstance(tier, str):
        return tier.lower() == "private"
    return "private" in f"{tags.get('Name', '')} {logical_id}".lower()


def load_stacks(output: Path, names: Sequence[str] | None = None) -> list[SynthStack]:
    """The stacks under `output`/stacks, in name order (or the named ones)."""
    root = Path(output) / "stacks"
    found = sorted(p.parent.name for p in root.glob("*/cdk.tf.json"))
    if not found:
        raise CostReportError(f"no synthesized stacks in {root}: run `python main.py --output {output}` first")
    if names:
        unknown = [n for n in names if n not in found]
        if unknown:
            raise CostReportError(
                f"--stack: no stack named {', '.join(unknown)} in {root}; there are: {', '.join(found)}"
            )
        found = [n for n in found if n in names]
    stacks = []
    for name in found:
        path = root / name / "cdk.tf.json"
        try:
            stacks.append(SynthStack(name, json.loads(path.read_text())))
        except (OSError, ValueError) as exc:
            raise CostReportError(f"{path}: cannot read: {exc}") from exc
    return stacks


# --------------------------------------------------------------------------
# Pricers: one per resource kind. Each returns the items for every resource
# of its types in the stack; warnings go to the stack.
# --------------------------------------------------------------------------

Item = LineItem | UsageItem
Pricer = Callable[[SynthStack, PriceTable], list[Item]]


def _plural(n: float, word: str) -> str:
    return f"{_num(n)} {word}{'' if n == 1 else 's'}"


def _num(n: float) -> str:
    """A count for people: 2, 0.5, 1.33."""
    return f"{round(n, 2):g}"


def _line(prices: PriceTable, key: str, what: str, rtype: str, count: float, unit: str, note: str = "") -> LineItem:
    """A line item at the monthly price of `key`."""
    return LineItem(what, rtype, count, unit, prices.monthly(key), note)


def price_nat_gateways(stack: SynthStack, prices: PriceTable) -> list[Item]:
    nats = stack.of("aws_nat_gateway")
    data = f"+${prices.value('nat_gateway_data'):g}/GB processed (usage)"
    items: list[Item] = [_line(prices, "nat_gateway", "NAT gateway", "aws_nat_gateway", len(nats), "gateway", data)]
    public = [body for body in nats.values() if body.get("connectivity_type", "public") == "public"]
    without_address = sum(1 for body in public if not body.get("allocation_id"))
    if without_address:
        what = "Public IPv4 of a NAT gateway (no aws_eip)"
        items.append(_line(prices, "public_ipv4", what, "aws_nat_gateway", without_address, "address"))
    return items


def price_elastic_ips(stack: SynthStack, prices: PriceTable) -> list[Item]:
    on_nat = set()
    for body in stack.of("aws_nat_gateway").values():
        on_nat.update(references([body.get("allocation_id"), body.get("secondary_allocation_ids")], "aws_eip"))
    eips = stack.of("aws_eip")
    attached = sum(1 for lid in eips if lid in on_nat)
    items: list[Item] = []
    if attached:
        items.append(_line(prices, "public_ipv4", "Public IPv4: Elastic IP of a NAT gateway", "aws_eip", attached, "address"))
    if len(eips) > attached:
        items.append(_line(prices, "public_ipv4", "Public IPv4: Elastic IP", "aws_eip", len(eips) - attached, "address"))
    return items


def _endpoint_service(body: Mapping[str, Any]) -> str:
    name = str(body.get("service_name", "?"))
    if "}." in name:  # com.amazonaws.${data.aws_region.x.name}.ecr.api
        return name.rsplit("}.", 1)[1]
    parts = name.split(".")
    return ".".join(parts[3:]) if len(parts) > 3 else name


def price_vpc_endpoints(stack: SynthStack, prices: PriceTable) -> list[Item]:
    interface, gateway, az_widths = [], [], []
    for lid, body in stack.of("aws_vpc_endpoint").items():
        kind = body.get("vpc_endpoint_type", "Gateway")
        if kind == "Interface":
            subnets = body.get("subnet_ids")
            if isinstance(subnets, list):
                width = len(subnets)
            else:
                width = stack.az_count or 1
                stack.warn(f"aws_vpc_endpoint.{lid}: subnet_ids is not a list; assumed {width} AZ(s)")
            interface.append(_endpoint_service(body))
            az_widths.append(width)
        elif kind == "Gateway":
            gateway.append(_endpoint_service(body))
        else:
            stack.warn(f"aws_vpc_endpoint.{lid}: endpoint type {kind} not priced")
    items: list[Item] = []
    if interface:
        widths = sorted(set(az_widths))
        shape = (f"{len(interface)} x {_plural(widths[0], 'AZ')}" if len(widths) == 1
                 else f"{len(interface)} endpoints over {'/'.join(map(str, widths))} AZs")
        what = f"Interface VPC endpoints ({shape}: {', '.join(interface)})"
        data = f"+${prices.value('interface_endpoint_data'):g}/GB processed (usage)"
        items.append(_line(prices, "interface_endpoint", what, "aws_vpc_endpoint", sum(az_widths), "endpoint-AZ", data))
    if gateway:
        items.append(LineItem(f"Gateway VPC endpoints ({', '.join(gateway)})", "aws_vpc_endpoint",
                              len(gateway), "endpoint", 0.0))
    return items


_LB_PRICES = {
    "application": ("Application Load Balancer", "application_load_balancer", "LCU"),
    "network": ("Network Load Balancer", "network_load_balancer", "NLCU"),
    "gateway": ("Gateway Load Balancer", "gateway_load_balancer", "GLCU"),
}


def price_load_balancers(stack: SynthStack, prices: PriceTable) -> list[Item]:
    counts: dict[str, int] = {}
    public_addresses = 0
    for rtype in ("aws_lb", "aws_alb"):
        for lid, body in stack.of(rtype).items():
            kind = body.get("load_balancer_type", "application")
            if kind not in _LB_PRICES:
                stack.warn(f"{rtype}.{lid}: load balancer type {kind!r} not priced")
                continue
            counts[kind] = counts.get(kind, 0) + 1
            if body.get("internal") is not True and kind != "gateway":
                # One address per subnet; a mapping with its own EIP is counted as an aws_eip.
                mappings = as_list(body.get("subnet_mapping"))
                subnets = body.get("subnets")
                if mappings:
                    public_addresses += sum(1 for m in mappings if not m.get("allocation_id"))
                else:
                    public_addresses += len(subnets) if isinstance(subnets, list) else (stack.az_count or 1)
    items: list[Item] = []
    for kind, count in sorted(counts.items()):
        label, key, capacity_unit = _LB_PRICES[kind]
        items.append(_line(prices, key, label, "aws_lb", count, "load balancer", f"{capacity_unit}s are usage, excluded"))
    if public_addresses:
        what = "Public IPv4 of internet-facing load balancers (one per subnet)"
        items.append(_line(prices, "public_ipv4", what, "aws_lb", public_addresses, "address"))
    return items


# ---- Fargate


def _vcpu(value: Any) -> float | None:
    """Task cpu as vCPU: "512" (units of 1/1024 vCPU) or "0.5 vCPU"."""
    if isinstance(value, str) and value.strip().lower().endswith("vcpu"):
        return number(value.strip()[:-4].strip())
    units = number(value)
    return None if units is None else units / 1024


def _memory_gb(value: Any) -> float | None:
    """Task memory as GB: "1024" (MiB) or "1 GB"."""
    if isinstance(value, str) and value.strip().lower().endswith("gb"):
        return number(value.strip()[:-2].strip())
    mib = number(value)
    return None if mib is None else mib / 1024


def _resolve(stack: SynthStack, value: Any, resource_type: str, *literal_keys: str) -> tuple[str, dict] | None:
    """The resource `value` refers to, by reference or by a literal name/family/arn."""
    group = stack.of(resource_type)
    for lid in references(value, resource_type):
        if lid in group:
            return lid, group[lid]
    if isinstance(value, str) and not is_expression(value):
        for lid, body in group.items():
            for key in literal_keys:
                literal = body.get(key)
                if isinstance(literal, str) and literal and (value == literal or value.split("/")[-1].split(":")[0] == literal):
                    return lid, body
    return None


def _scaling_min(stack: SynthStack, namespace: str, dimension: str, refers_to: Callable[[str], bool]) -> float | None:
    """`min_capacity` of the scaling target for one scalable dimension, if any."""
    for lid, target in stack.of("aws_appautoscaling_target").items():
        if target.get("service_namespace") != namespace or target.get("scalable_dimension") != dimension:
            continue
        if refers_to(str(target.get("resource_id", ""))):
            minimum = number(target.get("min_capacity"))
            if minimum is None:
                stack.warn(f"aws_appautoscaling_target.{lid}: min_capacity is not a literal")
            return minimum
    return None


def _service_strategy(stack: SynthStack, lid: str, service: Mapping[str, Any]) -> list[dict] | None:
    """The service's capacity provider strategy, else its cluster's default, else its launch type."""
    strategy = as_list(service.get("capacity_provider_strategy"))
    if strategy:
        return strategy
    launch_type = service.get("launch_type")
    if launch_type == "FARGATE":
        return [{"capacity_provider": "FARGATE", "weight": 1, "base": 0}]
    if launch_type:
        stack.warn(f"aws_ecs_service.{lid}: launch type {launch_type} is not Fargate; not priced")
        return None
    cluster = service.get("cluster")
    providers = _resolve(stack, cluster, "aws_ecs_cluster_capacity_providers")
    if providers is None:
        cluster_ids = set(references(cluster, "aws_ecs_cluster"))
        for pid, body in stack.of("aws_ecs_cluster_capacity_providers").items():
            if cluster_ids & set(references(body.get("cluster_name"), "aws_ecs_cluster")):
                providers = (pid, body)
    default = as_list(providers[1].get("default_capacity_provider_strategy")) if providers else []
    if default:
        return default
    stack.warn(f"aws_ecs_service.{lid}: no launch type or capacity provider strategy found; priced as FARGATE on-demand")
    return [{"capacity_provider": "FARGATE", "weight": 1, "base": 0}]


def split_tasks(tasks: float, strategy: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Tasks per capacity provider: each `base` first, the rest by `weight` (expected value)."""
    placed = {str(s.get("capacity_provider")): 0.0 for s in strategy}
    remaining = tasks
    for s in strategy:
        base = min(number(s.get("base")) or 0.0, remaining)
        placed[str(s.get("capacity_provider"))] += base
        remaining -= base
    weights = {str(s.get("capacity_provider")): number(s.get("weight")) or 0.0 for s in strategy}
    total = sum(weights.values())
    if remaining > 0:
        for provider, weight in weights.items():
            placed[provider] += remaining * (weight / total if total else 1 / len(weights))
    return placed


def _is_arm(task: Mapping[str, Any]) -> bool:
    platform = as_list(task.get("runtime_platform"))[:1] or [{}]
    return str(platform[0].get("cpu_architecture", "X86_64")).upper() == "ARM64"


def _fargate_task_price(vcpu: float, gb: float, arm: bool, unit_price: Callable[[str], float]) -> float:
    """One on-demand task's price: ``unit_price`` is ``prices.monthly`` (a month) or ``prices.value`` (an hour)."""
    vcpu_key, memory_key = ("fargate_arm_vcpu", "fargate_arm_memory") if arm else ("fargate_vcpu", "fargate_memory")
    return vcpu * unit_price(vcpu_key) + gb * unit_price(memory_key)


def price_fargate_services(stack: SynthStack, prices: PriceTable) -> list[Item]:
    items: list[Item] = []
    for lid, service in stack.of("aws_ecs_service").items():
        name = stack.label(lid, service)
        found = _resolve(stack, service.get("task_definition"), "aws_ecs_task_definition", "family", "arn")
        if found is None:
            stack.warn(f"aws_ecs_service.{lid}: task definition not found in the stack; not priced")
            continue
        task = found[1]
        vcpu, gb = _vcpu(task.get("cpu")), _memory_gb(task.get("memory"))
        platform = as_list(task.get("runtime_platform"))[:1] or [{}]
        if str(platform[0].get("operating_system_family", "LINUX")).upper() != "LINUX":
            stack.warn(f"aws_ecs_service.{lid}: {platform[0]['operating_system_family']} tasks are not priced")
            continue
        if vcpu is None or gb is None:
            stack.warn(f"aws_ecs_service.{lid}: task cpu/memory are not literals; not priced")
            continue
        strategy = _service_strategy(stack, lid, service)
        if strategy is None:
            continue

        service_name = service.get("name") if not is_expression(service.get("name")) else None
        tasks = _scaling_min(
            stack, "ecs", "ecs:service:DesiredCount",
            lambda rid: lid in references(rid, "aws_ecs_service") or bool(service_name and rid.endswith(f"/{service_name}")),
        )
        source = "min_capacity of its scaling target"
        if tasks is None:
            tasks, source = number(service.get("desired_count")) or 0.0, "desired_count (no scaling target)"

        arm = _is_arm(task)
        on_demand_task = _fargate_task_price(vcpu, gb, arm, prices.monthly)
        spot_task = on_demand_task * (1 - prices.value("fargate_spot_discount"))
        storage = as_list(task.get("ephemeral_storage"))[:1] or [{}]
        extra_gb = max(0.0, (number(storage[0].get("size_in_gib")) or 0.0) - FARGATE_FREE_STORAGE_GB)
        storage_task = extra_gb * prices.monthly("fargate_ephemeral_storage")
        shape = f"{_num(vcpu)} vCPU / {_num(gb)} GB{' ARM64' if arm else ''}"

        placed = split_tasks(tasks, strategy)
        unknown = [p for p in placed if p not in ("FARGATE", "FARGATE_SPOT")]
        if unknown:
            stack.warn(f"aws_ecs_service.{lid}: capacity provider(s) {', '.join(unknown)} not priced")
        lines = [(p, n) for p, n in placed.items() if p in ("FARGATE", "FARGATE_SPOT") and n > 0]
        if not lines:  # nothing runs at idle: one $0 line for the provider it would start on
            lines = [next(((p, 0.0) for p in placed if p in ("FARGATE", "FARGATE_SPOT")), ("FARGATE", 0.0))]
        note = f"{_num(tasks)} task(s) at idle: {source}"
        for provider, count in lines:
            if provider == "FARGATE":
                items.append(LineItem(f"Fargate {name}: {shape}, on-demand", "aws_ecs_service", count, "task",
                                      on_demand_task + storage_task, note))
            else:
                items.append(LineItem(f"Fargate {name}: {shape}, Spot (estimate)", "aws_ecs_service", count, "task",
                                      spot_task + storage_task,
                                      f"{note}; Spot = {1 - prices.value('fargate_spot_discount'):.0%} of on-demand"))
        network = as_list(service.get("network_configuration"))[:1] or [{}]
        if network[0].get("assign_public_ip") is True and tasks:
            items.append(_line(prices, "public_ipv4", f"Public IPv4 of {name} tasks", "aws_ecs_service", tasks, "address"))
        if as_list(service.get("service_registries")) and tasks:
            what = f"Cloud Map registrations of {name} tasks"
            items.append(_line(prices, "cloud_map_instance", what, "aws_ecs_service", tasks, "instance"))
    return items


def price_ecs_clusters(stack: SynthStack, prices: PriceTable) -> list[Item]:
    def insights(cluster: Mapping[str, Any]) -> bool:
        return any(
            s.get("name") == "containerInsights" and s.get("value") in ("enabled", "enhanced")
            for s in as_list(cluster.get("setting"))
        )

    count = sum(1 for body in stack.of("aws_ecs_cluster").values() if insights(body))
    note = "metrics billed as CloudWatch custom metrics per cluster, service and task; not estimated"
    return [UsageItem("ECS Container Insights", "aws_ecs_cluster", count, note)] if count else []


# ---- CodeDeploy


def price_codedeploy(stack: SynthStack, prices: PriceTable) -> list[Item]:
    """CodeDeploy bills nothing for ECS deployments; a canary release runs a second task set for a while.

    Per release: the service's idle task count, on-demand, for the canary's
    bake (the deployment configuration's interval) plus the termination
    wait, both at most (a rollback ends them early). Task start-up is left out.
    """
    items: list[Item] = []
    for lid, group in stack.of("aws_codedeploy_deployment_group").items():
        ecs = (as_list(group.get("ecs_service"))[:1] or [{}])[0]
        found = _resolve(stack, ecs.get("service_name"), "aws_ecs_service", "name")
        task = _resolve(stack, found[1].get("task_definition"), "aws_ecs_task_definition", "family", "arn") if found else None
        config = _resolve(stack, group.get("deployment_config_name"), "aws_codedeploy_deployment_config", "deployment_config_name")
        blue_green = (as_list(group.get("blue_green_deployment_config"))[:1] or [{}])[0]
        terminate = (as_list(blue_green.get("terminate_blue_instances_on_deployment_success"))[:1] or [{}])[0]
        routing = (as_list(config[1].get("traffic_routing_config"))[:1] or [{}])[0] if config else {}
        canary = (as_list(routing.get("time_based_canary"))[:1] or [{}])[0]
        minutes = (number(canary.get("interval")) or 0.0) + (number(terminate.get("termination_wait_time_in_minutes")) or 0.0)
        vcpu = _vcpu(task[1].get("cpu")) if task else None
        gb = _memory_gb(task[1].get("memory")) if task else None
        tasks = None
        if found:
            service_lid, service = found
            service_name = service.get("name") if not is_expression(service.get("name")) else None
            tasks = _scaling_min(
                stack, "ecs", "ecs:service:DesiredCount",
                lambda rid: service_lid in references(rid, "aws_ecs_service") or bool(service_name and rid.endswith(f"/{service_name}")),
            )
        if vcpu is None or gb is None or tasks is None:
            note = "no charge for ECS deployments; each release runs a second task set during the canary and the termination wait (not estimated)"
        else:
            per_release = tasks * _fargate_task_price(vcpu, gb, _is_arm(task[1]), prices.value) * minutes / 60
            note = (
                f"no charge for ECS deployments; each release runs a second task set of {_num(tasks)} task(s) for up to "
                f"{_num(minutes)} min (canary bake plus termination wait): up to {_unit_usd(per_release)} per release"
            )
        items.append(UsageItem(f"CodeDeploy releases of {stack.label(lid, group)}", "aws_codedeploy_deployment_group", 1, note))
    return items


# ---- DynamoDB


def _capacity(stack: SynthStack, lid: str, table: Mapping[str, Any], index: Mapping[str, Any] | None, kind: str) -> float:
    """Idle capacity of a table or GSI: its scaling target's minimum, else its own (kind: Read or Write)."""
    table_name = None if is_expression(table.get("name")) else table.get("name")
    suffix = f"/index/{index.get('name')}" if index else ""

    def refers_to(resource_id: str) -> bool:
        if table_name and resource_id == f"table/{table_name}{suffix}":
            return True
        scoped = resource_id.endswith(suffix) if index else "/index/" not in resource_id
        return scoped and lid in references(resource_id, "aws_dynamodb_table")

    dimension = f"dynamodb:{'index' if index else 'table'}:{kind}CapacityUnits"
    minimum = _scaling_min(stack, "dynamodb", dimension, refers_to)
    if minimum is not None:
        return minimum
    return number((index or table).get(f"{kind.lower()}_capacity")) or 0.0


def price_dynamodb_tables(stack: SynthStack, prices: PriceTable) -> list[Item]:
    items: list[Item] = []
    for lid, table in stack.of("aws_dynamodb_table").items():
        name = stack.label(lid, table)
        if table.get("billing_mode", "PROVISIONED") == "PAY_PER_REQUEST":
            items.append(UsageItem(f"DynamoDB {name} (on-demand)", "aws_dynamodb_table", 1, "requests and storage"))
            continue
        reads = writes = 0.0
        parts = []
        for index in [None, *as_list(table.get("global_secondary_index"))]:
            rcu, wcu = _capacity(stack, lid, table, index, "Read"), _capacity(stack, lid, table, index, "Write")
            reads, writes = reads + rcu, writes + wcu
            parts.append(f"{'GSI ' + str(index.get('name')) if index else 'table'} {_num(rcu)}/{_num(wcu)}")
        ia = table.get("table_class") == "STANDARD_INFREQUENT_ACCESS"
        rcu_key, wcu_key = ("dynamodb_ia_rcu", "dynamodb_ia_wcu") if ia else ("dynamodb_rcu", "dynamodb_wcu")
        note = "RCU/WCU: " + ", ".join(parts) + "; storage is usage"
        items.append(_line(prices, rcu_key, f"DynamoDB {name}: provisioned reads", "aws_dynamodb_table", reads, "RCU", note))
        items.append(_line(prices, wcu_key, f"DynamoDB {name}: provisioned writes", "aws_dynamodb_table", writes, "WCU", note))
    return items


# ---- per-month resources


def price_kms_keys(stack: SynthStack, prices: PriceTable) -> list[Item]:
    keys = [*stack.of("aws_kms_key").values(), *stack.of("aws_kms_replica_key").values()]
    rotating = sum(1 for body in keys if body.get("enable_key_rotation") is True)
    note = f"{rotating} rotate: +$1/month each after the 1st and 2nd rotation" if rotating else ""
    return [_line(prices, "kms_key", "KMS customer managed keys", "aws_kms_key", len(keys), "key", note)]


def price_secrets(stack: SynthStack, prices: PriceTable) -> list[Item]:
    secrets = stack.of("aws_secretsmanager_secret")
    replicas = sum(len(as_list(body.get("replica"))) for body in secrets.values())
    note = f"incl. {replicas} replica(s)" if replicas else ""
    count = len(secrets) + replicas
    return [_line(prices, "secret", "Secrets Manager secrets", "aws_secretsmanager_secret", count, "secret", note)]


def alarm_metrics(alarm: Mapping[str, Any]) -> tuple[int, bool]:
    """(metrics billed, high resolution) for one metric alarm; see the module doc."""
    queries = as_list(alarm.get("metric_query"))
    if not queries:
        period = number(alarm.get("period"))
        return 1, period is not None and period < 60
    metrics = [q["metric"] for q in queries if q.get("metric")]
    bands = sum(1 for q in queries if "ANOMALY_DETECTION_BAND" in str(q.get("expression", "")).upper())
    periods = [number(as_list(m)[0].get("period")) for m in metrics] + [number(q.get("period")) for q in queries]
    return len(metrics) + 2 * bands, any(p is not None and p < 60 for p in periods)


def price_alarms(stack: SynthStack, prices: PriceTable) -> list[Item]:
    # resolution -> [alarms, metrics]
    tally = {False: [0, 0], True: [0, 0]}
    for body in stack.of("aws_cloudwatch_metric_alarm").values():
        metrics, high_resolution = alarm_metrics(body)
        tally[high_resolution][0] += 1
        tally[high_resolution][1] += metrics
    items: list[Item] = []
    for high_resolution, label, key in ((False, "standard", "alarm_metric"), (True, "high", "alarm_metric_high_resolution")):
        alarms, metrics = tally[high_resolution]
        if alarms:
            what = f"CloudWatch alarm metrics ({label} resolution)"
            note = f"{_plural(alarms, 'alarm')}; a metric-math alarm bills each metric it reads"
            items.append(_line(prices, key, what, "aws_cloudwatch_metric_alarm", metrics, "alarm metric", note))
    composite = stack.of("aws_cloudwatch_composite_alarm")
    if composite:
        what = "CloudWatch composite alarms"
        items.append(_line(prices, "composite_alarm", what, "aws_cloudwatch_composite_alarm", len(composite), "alarm"))
    return items


def price_dashboards(stack: SynthStack, prices: PriceTable) -> list[Item]:
    count = len(stack.of("aws_cloudwatch_dashboard"))
    note = "the account's first 3 are free; not deducted"
    return [_line(prices, "dashboard", "CloudWatch dashboards", "aws_cloudwatch_dashboard", count, "dashboard", note)]


def price_hosted_zones(stack: SynthStack, prices: PriceTable) -> list[Item]:
    items: list[Item] = []
    zones = len(stack.of("aws_route53_zone"))
    if zones:
        items.append(_line(prices, "hosted_zone", "Route 53 hosted zones", "aws_route53_zone", zones, "zone", "queries are usage"))
    for kind in ("private", "public"):
        rtype = f"aws_service_discovery_{kind}_dns_namespace"
        if stack.of(rtype):
            what = f"Route 53 hosted zone of a Cloud Map {kind} DNS namespace"
            items.append(_line(prices, "hosted_zone", what, rtype, len(stack.of(rtype)), "zone"))
    return items


def _managed_groups(acl: Mapping[str, Any]) -> list[str]:
    """The AWS managed rule groups a web ACL's ``rule`` blocks reference."""
    return [
        group.get("name", "")
        for rule in as_list(acl.get("rule"))
        for statement in as_list(rule.get("statement"))
        for group in as_list(statement.get("managed_rule_group_statement"))
    ]


def price_waf(stack: SynthStack, prices: PriceTable) -> list[Item]:
    acls = stack.of("aws_wafv2_web_acl")
    rules = sum(len(as_list(body.get("rule"))) for body in acls.values())
    items: list[Item] = [
        _line(prices, "waf_web_acl", "WAF web ACLs", "aws_wafv2_web_acl", len(acls), "web ACL", "requests are usage (per million below)"),
        _line(prices, "waf_rule", "WAF rules", "aws_wafv2_web_acl", rules, "rule"),
    ]
    bot_control = sum(1 for body in acls.values() if BOT_CONTROL in _managed_groups(body))
    if bot_control:
        items.append(_line(prices, "waf_bot_control", "WAF Bot Control subscriptions", "aws_wafv2_web_acl", bot_control, "web ACL"))
    return items


BOT_CONTROL = "AWSManagedRulesBotControlRuleSet"


def edge_per_million(stack: SynthStack, prices: PriceTable) -> list[tuple[str, float]]:
    """What a million requests through this stack's API distributions add, by item (none without a web ACL).

    Every request: CloudFront (HTTPS), WAF, the viewer-request function and
    its KeyValueStore read, Bot Control when the ACL has it; the authorizer
    runs at most once per client and cache period, so its line is the worst
    case (no cache hit). Data transfer out is by GB and not included.
    """
    acls = stack.of("aws_wafv2_web_acl")
    if not acls or not stack.of("aws_cloudfront_distribution"):
        return []
    lines = [
        ("CloudFront HTTPS requests", prices.value("cloudfront_https_requests")),
        ("WAF requests", prices.value("waf_requests")),
    ]
    if stack.of("aws_cloudfront_function"):
        lines.append(("CloudFront Function invocations", prices.value("cloudfront_function_invocations")))
    if stack.of("aws_cloudfront_key_value_store"):
        lines.append(("KeyValueStore reads", prices.value("cloudfront_kvs_reads")))
    if any(BOT_CONTROL in _managed_groups(body) for body in acls.values()):
        lines.append(("Bot Control requests (beyond 10 million a month)", prices.value("waf_bot_control_requests")))
    if stack.of("aws_apigatewayv2_authorizer"):
        lines.append(("Lambda authorizer, if no answer were cached", prices.value("lambda_requests")))
    return lines


# Dispatch table: resource types -> pricer. A pricer runs once when any of its types is present.
PRICERS: tuple[tuple[tuple[str, ...], Pricer], ...] = (
    (("aws_nat_gateway",), price_nat_gateways),
    (("aws_eip",), price_elastic_ips),
    (("aws_vpc_endpoint",), price_vpc_endpoints),
    (("aws_lb", "aws_alb"), price_load_balancers),
    (("aws_ecs_service",), price_fargate_services),
    (("aws_ecs_cluster",), price_ecs_clusters),
    (("aws_dynamodb_table",), price_dynamodb_tables),
    (("aws_kms_key", "aws_kms_replica_key"), price_kms_keys),
    (("aws_secretsmanager_secret",), price_secrets),
    (("aws_cloudwatch_metric_alarm", "aws_cloudwatch_composite_alarm"), price_alarms),
    (("aws_cloudwatch_dashboard",), price_dashboards),
    (
        ("aws_route53_zone", "aws_service_discovery_private_dns_namespace", "aws_service_discovery_public_dns_namespace"),
        price_hosted_zones,
    ),
    (("aws_wafv2_web_acl",), price_waf),
    (("aws_codedeploy_deployment_group",), price_codedeploy),
)

# Billed only by use: listed under "usage-based, $0 at idle".
USAGE_BASED: Mapping[str, tuple[str, str]] = {
    "aws_sqs_queue": ("SQS queues", "requests"),
    "aws_lambda_function": ("Lambda functions", "requests and duration"),
    "aws_apigatewayv2_api": ("API Gateway HTTP/WebSocket APIs", "requests, messages, connection minutes"),
    "aws_api_gateway_rest_api": ("API Gateway REST APIs", "requests"),
    "aws_cloudfront_distribution": ("CloudFront distributions", "requests and data transfer"),
    "aws_s3_bucket": ("S3 buckets", "storage and requests"),
    "aws_ecr_repository": ("ECR repositories", "image storage"),
    "aws_cloudwatch_log_group": ("CloudWatch log groups", "ingestion and storage"),
    "aws_flow_log": ("VPC flow logs", "log ingestion"),
    "aws_sns_topic": ("SNS topics", "publishes and deliveries"),
    "aws_cloudtrail": ("CloudTrail trails", "the first trail's management events are free; data events and extra copies by event"),
    "aws_cognito_user_pool": ("Cognito user pools", "monthly active users"),
    "aws_backup_vault": ("Backup vaults", "backup storage"),
    "aws_cloudwatch_event_bus": ("EventBridge buses", "events"),
    "aws_sfn_state_machine": ("Step Functions state machines", "transitions"),
    "aws_cloudfront_function": ("CloudFront Functions", "invocations"),
    "aws_cloudfront_key_value_store": ("CloudFront KeyValueStores", "reads by functions"),
}

# No charge of their own (configuration, wiring, or billed through another resource).
FREE_TYPES = frozenset({
    "aws_vpc", "aws_subnet", "aws_route", "aws_route_table", "aws_route_table_association",
    "aws_internet_gateway", "aws_egress_only_internet_gateway", "aws_security_group",
    "aws_security_group_rule", "aws_default_security_group", "aws_default_network_acl",
    "aws_default_route_table", "aws_network_acl", "aws_kms_alias", "aws_kms_key_policy",
    "aws_ecs_cluster_capacity_providers", "aws_ecs_task_definition", "aws_appautoscaling_policy",
    "aws_appautoscaling_target", "aws_ecr_lifecycle_policy", "aws_ecr_repository_policy",
    "aws_ecr_registry_scanning_configuration", "aws_sqs_queue_policy", "aws_sqs_queue_redrive_policy",
    "aws_sqs_queue_redrive_allow_policy", "aws_service_discovery_service",
    "aws_service_discovery_http_namespace", "aws_lb_target_group", "aws_lb_listener",
    "aws_lb_listener_rule", "aws_lb_target_group_attachment", "aws_alb_target_group", "aws_alb_listener",
    "aws_cloudwatch_event_rule", "aws_cloudwatch_event_target", "aws_lambda_permission",
    "aws_lambda_event_source_mapping", "aws_lambda_function_event_invoke_config", "aws_cloudwatch_log_resource_policy",
    "aws_cloudwatch_log_subscription_filter", "aws_cloudwatch_log_metric_filter",
    "aws_secretsmanager_secret_version", "aws_secretsmanager_secret_policy",
    "aws_secretsmanager_secret_rotation", "aws_route53_record", "aws_acm_certificate",
    "aws_acm_certificate_validation", "aws_cloudfront_origin_access_control",
    "aws_cloudfront_origin_access_identity", "aws_cloudfront_response_headers_policy",
    "aws_cloudfront_cache_policy", "aws_cloudfront_origin_request_policy",
    "aws_sns_topic_subscription", "aws_sns_topic_policy", "aws_cognito_user_pool_client",
    "aws_cognito_identity_provider", "aws_cognito_user_pool_domain", "aws_cognito_resource_server",
    "aws_backup_plan", "aws_backup_selection", "aws_backup_vault_lock_configuration", "aws_wafv2_web_acl_association",
    "aws_wafv2_web_acl_logging_configuration", "aws_api_gateway_vpc_link", "aws_api_gateway_account",
    "aws_codedeploy_app", "aws_codedeploy_deployment_config",
})
FREE_PREFIXES = (
    "aws_iam_", "aws_s3_bucket_", "aws_vpc_security_group_", "aws_apigatewayv2_", "aws_api_gateway_", "aws_vpc_endpoint_",
)


def is_free(resource_type: str) -> bool:
    return resource_type in FREE_TYPES or (resource_type not in USAGE_BASED and resource_type.startswith(FREE_PREFIXES))


# --------------------------------------------------------------------------
# A stack's cost
# --------------------------------------------------------------------------


def compare_nat_and_endpoints(stack: SynthStack, prices: PriceTable) -> NatComparison | None:
    """The seed's comparison, for this stack's AZ count (None without subnets)."""
    azs = stack.az_count
    if not azs:
        return None
    endpoints = stack.of("aws_vpc_endpoint").values()
    own = sum(1 for e in endpoints if e.get("vpc_endpoint_type") == "Interface")
    nats = len(stack.of("aws_nat_gateway"))
    if own:
        count, counted_from = own, "this stack"
    else:
        count = len(DEFAULT_INTERFACE_ENDPOINT_SERVICES)
        counted_from = "what the network construct makes without NAT: " + ", ".join(DEFAULT_INTERFACE_ENDPOINT_SERVICES)
    parts = [_plural(nats, "NAT gateway")] * bool(nats) + [_plural(own, "interface endpoint")] * bool(own)
    uses = " and ".join(parts) or "neither NAT gateways nor interface endpoints"
    nat, address = prices.monthly("nat_gateway"), prices.monthly("public_ipv4")
    endpoint_az = prices.monthly("interface_endpoint")
    one_nat = nat + address
    per_az = azs * one_nat
    endpoints_monthly = count * azs * endpoint_az
    nat_gb, endpoint_gb = prices.value("nat_gateway_data"), prices.value("interface_endpoint_data")

    def break_even(nat_fixed: float) -> float | None:
        extra = endpoints_monthly - nat_fixed
        if extra <= 0:
            return 0.0
        return extra / (nat_gb - endpoint_gb) if nat_gb > endpoint_gb else None

    return NatComparison(
        az_count=azs, stack_uses=uses, interface_endpoints=count, endpoints_counted_from=counted_from,
        nat_gateway_monthly_usd=nat, public_ipv4_monthly_usd=address, one_nat_monthly_usd=one_nat,
        nat_per_az_monthly_usd=per_az, endpoint_az_monthly_usd=endpoint_az, endpoints_monthly_usd=endpoints_monthly,
        seed_endpoints_monthly_usd=SEED_ENDPOINT_COUNT * azs * endpoint_az, nat_usd_per_gb=nat_gb,
        endpoint_usd_per_gb=endpoint_gb, break_even_gb_one_nat=break_even(one_nat),
        break_even_gb_nat_per_az=break_even(per_az),
    )


def stack_cost(stack: SynthStack, prices: PriceTable) -> StackCost:
    """Price every resource of one stack: dispatch by type, then list what is usage or unknown."""
    regions = stack.regions
    region = regions[0] if regions and isinstance(regions[0], str) else None
    if not regions:
        stack.warn(f"no aws provider region in the stack; prices are {prices.region}'s")
    for r in regions:
        if not isinstance(r, str) or is_expression(r):
            stack.warn(f"the aws provider region is not a literal ({r!r}); prices are {prices.region}'s")
        elif r != prices.region:
            stack.warn(f"region {r} differs from the price table's {prices.region}: these are {prices.region} prices")

    cost = StackCost(stack.name, region, stack.az_count)
    priced: set[str] = set()
    for types, pricer in PRICERS:
        priced.update(types)
        if any(stack.of(t) for t in types):
            for item in pricer(stack, prices):
                (cost.items if isinstance(item, LineItem) else cost.usage).append(item)
    for rtype, group in stack.resources.items():
        if rtype in priced or not group:
            continue
        if rtype in USAGE_BASED:
            label, note = USAGE_BASED[rtype]
            cost.usage.append(UsageItem(label, rtype, len(group), note))
        elif not is_free(rtype):
            stack.warn(f"{rtype} x{len(group)}: not in the price table (not priced)")
    cost.comparison = compare_nat_and_endpoints(stack, prices)
    cost.per_million_requests = edge_per_million(stack, prices)
    if cost.comparison is None and stack.of("aws_vpc"):
        # Only the layer that makes the VPC has a network to compare.
        stack.warn("no subnets or interface endpoints: no NAT-versus-endpoints comparison")
    cost.warnings = list(stack.warnings)
    return cost


def report(output: Path, prices: PriceTable, names: Sequence[str] | None = None) -> list[StackCost]:
    return [stack_cost(stack, prices) for stack in load_stacks(output, names)]


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------


def _usd(value: float) -> str:
    return f"${value:,.2f}"


def _unit_usd(value: float) -> str:
    """Unit prices keep up to 4 decimals ($0.0949 per RCU-month)."""
    whole, decimals = f"{value:,.4f}".split(".")
    return f"${whole}.{decimals.rstrip('0').ljust(2, '0')}"


def render_comparison(c: NatComparison) -> list[str]:
    azs = _plural(c.az_count, "AZ")
    lines = [
        f"NAT gateway vs VPC endpoints for {azs} (this stack has {c.stack_uses}):",
        f"  one NAT gateway:      1 x {_usd(c.nat_gateway_monthly_usd)} + 1 public IPv4 x {_usd(c.public_ipv4_monthly_usd)}"
        f" = {_usd(c.one_nat_monthly_usd)}/month (+${c.nat_usd_per_gb:g}/GB)",
        f"  a NAT gateway per AZ: {c.az_count} x {_usd(c.one_nat_monthly_usd)} = {_usd(c.nat_per_az_monthly_usd)}/month"
        f" (+${c.nat_usd_per_gb:g}/GB)",
        f"  interface endpoints:  {c.interface_endpoints} x {azs} x {_usd(c.endpoint_az_monthly_usd)}"
        f" = {_usd(c.endpoints_monthly_usd)}/month (+${c.endpoint_usd_per_gb:g}/GB); counted from {c.endpoints_counted_from}",
        "  gateway endpoints for S3 and DynamoDB: free, with either choice",
    ]
    for label, gb in (("one NAT gateway", c.break_even_gb_one_nat), ("a NAT gateway per AZ", c.break_even_gb_nat_per_az)):
        if gb is None:
            lines.append(f"  endpoints never cost less than {label} at these prices")
        elif gb == 0:
            lines.append(f"  endpoints cost no more than {label} at any traffic")
        else:
            lines.append(f"  endpoints cost less than {label} above {gb:,.0f} GB/month of traffic to AWS services")
    lines.append(
        f"  the seed's \"$7-10/month\" is one endpoint in one AZ ({_usd(c.endpoint_az_monthly_usd)}); its"
        f" {SEED_ENDPOINT_COUNT} endpoints in {azs} cost {_usd(c.seed_endpoints_monthly_usd)}/month."
        " Endpoints reach AWS services only; a NAT gateway also reaches the internet."
    )
    return lines


def render_text(costs: Sequence[StackCost], prices: PriceTable) -> str:
    out = [
        f"Fixed monthly cost at idle ({prices.currency}; prices for {prices.region} as of {prices.as_of},"
        f" {prices.hours_per_month:g} h/month, from {Path(prices.path).name})",
        "Usage (requests, GB, storage, LCUs) is excluded; account-wide free tiers are not deducted.",
    ]
    for cost in costs:
        out += ["", f"== {cost.stack} ({cost.region or 'region unknown'}, {_plural(cost.az_count or 0, 'AZ')}) =="]
        rows = [("Item", "Count", "Unit", "Unit/month", "Monthly")] + [
            (i.what, _num(i.count), i.unit, _unit_usd(i.unit_monthly_usd), _usd(i.monthly_usd)) for i in cost.items
        ]
        widths = [max(len(row[col]) for row in rows) for col in range(5)]
        for row in rows:
            out.append("  " + "  ".join(
                cell.ljust(widths[col]) if col in (0, 2) else cell.rjust(widths[col]) for col, cell in enumerate(row)
            ).rstrip())
        out.append("  " + f"Total {_usd(cost.total_monthly_usd)}/month".rjust(sum(widths) + 8))
        notes = [f"{i.what}: {i.note}" for i in cost.items if i.note]
        if notes:
            out.append("  Notes:")
            out += [f"    {n}" for n in notes]
        if cost.usage:
            out.append("  Usage-based, $0 at idle:")
            out += [f"    {u.what} x{u.count}: {u.note}" for u in cost.usage]
        for warning in cost.warnings:
            out.append(f"  WARNING: {warning}")
        if cost.per_million_requests:
            total = sum(usd for _, usd in cost.per_million_requests)
            out.append(f"  Per million API requests through CloudFront and the web ACL: {_usd(total)}")
            out += [f"    {what}: {_unit_usd(usd)}" for what, usd in cost.per_million_requests]
        if cost.comparison:
            out += ["  " + line for line in render_comparison(cost.comparison)]
    totals = environment_totals(costs)
    if totals:
        out += ["", "== Environments (every layer) =="]
        out += [f"  {name}: {_usd(total)}/month" for name, total in totals.items()]
    return "\n".join(out) + "\n"


def environment_totals(costs: Sequence[StackCost]) -> dict[str, float]:
    """Monthly total per environment: its layer stacks (``<environment>-<layer>``) added up."""
    totals: dict[str, float] = {}
    for cost in costs:
        environment = cost.stack.rsplit("-", 1)[0]
        totals[environment] = totals.get(environment, 0.0) + cost.total_monthly_usd
    return dict(sorted(totals.items()))


def to_data(costs: Sequence[StackCost], prices: PriceTable) -> dict[str, Any]:
    """The report as plain data (what --format json prints)."""

    def item(i: LineItem) -> dict[str, Any]:
        return {**asdict(i), "unit_monthly_usd": round(i.unit_monthly_usd, 6), "monthly_usd": round(i.monthly_usd, 4)}

    return {
        "price_table": {"region": prices.region, "as_of": prices.as_of, "currency": prices.currency,
                        "hours_per_month": prices.hours_per_month, "path": prices.path},
        "stacks": [
            {
                "stack": c.stack, "region": c.region, "az_count": c.az_count,
                "total_monthly_usd": round(c.total_monthly_usd, 4),
                "items": [item(i) for i in c.items],
                "usage_based": [asdict(u) for u in c.usage],
                "warnings": c.warnings,
                "nat_vs_endpoints": asdict(c.comparison) if c.comparison else None,
                "per_million_requests_usd": {what: usd for what, usd in c.per_million_requests},
            }
            for c in costs
        ],
        "environments": {name: round(total, 4) for name, total in environment_totals(costs).items()},
    }


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.cost_report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="synth output folder (default: cdktf.out)")
    parser.add_argument("--stack", action="append", metavar="NAME", help="only this stack (repeatable; default: all)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--prices", type=Path, default=DEFAULT_PRICES, help="price table (default: tools/prices_us_east_1.json)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        prices = load_prices(args.prices)
        costs = report(args.output, prices, args.stack)
    except CostReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "json":
        print(json.dumps(to_data(costs, prices), indent=2))
    else:
        sys.stdout.write(render_text(costs, prices))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
