"""The rules of the edge web ACL, as plain data (no jsii import).

``stacks.config`` validates its WAF keys against these tables, the cost
report prices the same rule list, and ``constructs_lib.waf`` writes it into
the web ACL's ``rule`` blocks. Capacities (WCU) and prices are AWS's
published figures (AWS WAF developer guide, "AWS Managed Rules rule groups
list"; aws.amazon.com/waf/pricing), checked 2026-12.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "COMMON_RULE_SET_RULES",
    "DEFAULT_WEB_ACL_CAPACITY",
    "RATE_LIMIT_MAX",
    "RATE_LIMIT_MIN",
    "RATE_LIMIT_WINDOWS",
    "RATE_RULE_NAME",
    "ManagedGroup",
    "WafRuleSettings",
    "managed_groups",
    "rule_blocks",
    "web_acl_capacity",
]

# A web ACL's capacity without a quota increase.
DEFAULT_WEB_ACL_CAPACITY = 1500
RATE_LIMIT_MIN, RATE_LIMIT_MAX = 10, 2_000_000_000
RATE_LIMIT_WINDOWS = (60, 120, 300, 600)
RATE_RULE_NAME = "rate-limit-per-ip"
# A rate-based rule with no scope-down statement costs 2 WCU.
RATE_RULE_CAPACITY = 2

# The rules of AWSManagedRulesCommonRuleSet (version 1.x), any of which may be set to count.
COMMON_RULE_SET_RULES = (
    "NoUserAgent_HEADER",
    "UserAgent_BadBots_HEADER",
    "SizeRestrictions_QUERYSTRING",
    "SizeRestrictions_Cookie_HEADER",
    "SizeRestrictions_BODY",
    "SizeRestrictions_URIPATH",
    "EC2MetaDataSSRF_BODY",
    "EC2MetaDataSSRF_COOKIE",
    "EC2MetaDataSSRF_URIPATH",
    "EC2MetaDataSSRF_QUERYARGUMENTS",
    "GenericLFI_QUERYARGUMENTS",
    "GenericLFI_URIPATH",
    "GenericLFI_BODY",
    "RestrictedExtensions_URIPATH",
    "RestrictedExtensions_QUERYARGUMENTS",
    "GenericRFI_QUERYARGUMENTS",
    "GenericRFI_BODY",
    "GenericRFI_URIPATH",
    "CrossSiteScripting_COOKIE",
    "CrossSiteScripting_QUERYARGUMENTS",
    "CrossSiteScripting_BODY",
    "CrossSiteScripting_URIPATH",
)


@dataclass(frozen=True)
class ManagedGroup:
    """One AWS managed rule group in the web ACL.

    capacity: its WCU. monthly_usd / per_million_usd: what it adds to WAF's
    own $1 per rule a month and $0.60 per million requests (Bot Control's
    subscription and per-request fee; the others add nothing).
    count_only: the whole group counts and never blocks (its metrics and
    logs show what it would block).
    """

    name: str
    capacity: int
    monthly_usd: float = 0.0
    per_million_usd: float = 0.0
    count_rules: tuple[str, ...] = ()
    config: tuple[tuple[str, Any], ...] = ()
    count_only: bool = False


@dataclass(frozen=True, kw_only=True)
class WafRuleSettings:
    """What the config chooses about the rules (the config keys of the same names)."""

    rate_limit: int = 2000
    rate_limit_window_seconds: int = 300
    common_rule_overrides: tuple[str, ...] = ("SizeRestrictions_BODY",)
    enable_anonymous_ip_list: bool = False
    enable_bot_control: bool = False


def managed_groups(settings: WafRuleSettings) -> tuple[ManagedGroup, ...]:
    """The managed groups, in evaluation order after the rate rule.

    Reputation first (cheapest, drops known-bad sources before the body
    inspections), then the common set, then known bad inputs (Log4j and
    friends), then the anonymous-IP list (counting unless enabled) and the
    optional Bot Control.
    """
    groups = [
        ManagedGroup("AWSManagedRulesAmazonIpReputationList", 25),
        ManagedGroup("AWSManagedRulesCommonRuleSet", 700, count_rules=tuple(settings.common_rule_overrides)),
        ManagedGroup("AWSManagedRulesKnownBadInputsRuleSet", 200),
    ]
    # Always there, blocking only when enabled: counting shows how much traffic
    # comes from VPNs, Tor and hosting providers before anyone decides to block it.
    groups.append(ManagedGroup("AWSManagedRulesAnonymousIpList", 50, count_only=not settings.enable_anonymous_ip_list))
    if settings.enable_bot_control:
        groups.append(
            ManagedGroup(
                "AWSManagedRulesBotControlRuleSet",
                50,
                monthly_usd=10.0,
                per_million_usd=1.0,
                config=(("aws_managed_rules_bot_control_rule_set", {"inspection_level": "COMMON"}),),
            )
        )
    return tuple(groups)


def web_acl_capacity(settings: WafRuleSettings) -> int:
    """The web ACL's WCU: the rate rule plus every managed group."""
    return RATE_RULE_CAPACITY + sum(group.capacity for group in managed_groups(settings))


def _visibility(metric_name: str) -> dict[str, Any]:
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric_name, "sampled_requests_enabled": True}


def rule_blocks(settings: WafRuleSettings) -> list[dict[str, Any]]:
    """The web ACL's ``rule`` blocks in Terraform's (HCL) shape, priorities from 0.

    Each rule's metric name is its rule name, so the ``Rule`` dimension of
    ``AWS/WAFV2`` metrics reads the same as the rule.
    """
    rules: list[dict[str, Any]] = [
        {
            "name": RATE_RULE_NAME,
            "priority": 0,
            "action": [{"block": [{}]}],
            "statement": [
                {
                    "rate_based_statement": [
                        {
                            "limit": settings.rate_limit,
                            "aggregate_key_type": "IP",
                            "evaluation_window_sec": settings.rate_limit_window_seconds,
                        }
                    ]
                }
            ],
            "visibility_config": [_visibility(RATE_RULE_NAME)],
        }
    ]
    for priority, group in enumerate(managed_groups(settings), start=1):
        statement: dict[str, Any] = {"name": group.name, "vendor_name": "AWS"}
        if group.count_rules:
            statement["rule_action_override"] = [
                {"name": rule, "action_to_use": [{"count": [{}]}]} for rule in sorted(group.count_rules)
            ]
        if group.config:
            statement["managed_rule_group_configs"] = [{key: [value] for key, value in group.config}]
        rules.append(
            {
                "name": group.name,
                "priority": priority,
                "override_action": [{"count": [{}]} if group.count_only else {"none": [{}]}],
                "statement": [{"managed_rule_group_statement": [statement]}],
                "visibility_config": [_visibility(group.name)],
            }
        )
    return rules
