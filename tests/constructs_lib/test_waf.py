"""The edge web ACL: rule order, rate rule, managed groups and their overrides, capacity, logging, metrics, key principals."""

from __future__ import annotations

import pytest
import cdktf
from cdktf import TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

import constructs_lib.waf_rules as waf_rules
from constructs_lib.logs import LogGroup, LogGroupProps
from constructs_lib.waf import EdgeWebAcl, EdgeWebAclProps, edge_key_principals
from constructs_lib.waf_rules import ManagedGroup, WafRuleSettings, managed_groups, web_acl_capacity
from tests.support import data_sources, logical_id, only, ref, resources, synth_construct

RATE_RULE = "rate-limit-per-ip"
IP_REPUTATION = "AWSManagedRulesAmazonIpReputationList"
COMMON = "AWSManagedRulesCommonRuleSet"
KNOWN_BAD_INPUTS = "AWSManagedRulesKnownBadInputsRuleSet"
ANONYMOUS_IP = "AWSManagedRulesAnonymousIpList"
BOT_CONTROL = "AWSManagedRulesBotControlRuleSet"
# AWS's published capacities (AWS WAF developer guide, "AWS Managed Rules rule groups list";
# a rate-based statement without scope-down or custom keys costs 2).
PUBLISHED_WCU = {RATE_RULE: 2, IP_REPUTATION: 25, COMMON: 700, KNOWN_BAD_INPUTS: 200, ANONYMOUS_IP: 50, BOT_CONTROL: 50}
LOG_GROUP_NAME = "aws-waf-logs-cot"


def build(rules: WafRuleSettings | None = None, *, in_another_region: bool = False):
    """The ACL called ``cot`` logging to ``aws-waf-logs-cot``; with a us-east-1 provider alias in a eu-west-1 stack if asked."""
    captured = {}

    def make(stack):
        provider = AwsProvider(stack, "aws-us-east-1", alias="us_east_1", region="us-east-1") if in_another_region else None
        log_group = LogGroup(stack, "waf-log-group", LogGroupProps(name=LOG_GROUP_NAME, provider=provider))
        props = EdgeWebAclProps(name="cot", log_group=log_group, provider=provider, **({"rules": rules} if rules else {}))
        captured["acl"] = EdgeWebAcl(stack, "web-acl", props)

    document = synth_construct(make, region="eu-west-1" if in_another_region else "us-east-1")
    return document, captured["acl"]


@pytest.fixture(scope="module")
def default():
    return build()


@pytest.fixture(scope="module")
def everything():
    return build(WafRuleSettings(enable_anonymous_ip_list=True, enable_bot_control=True))


def rules_of(document) -> list[dict]:
    return only(document, "aws_wafv2_web_acl")["rule"]


def by_name(document) -> dict[str, dict]:
    return {rule["name"]: rule for rule in rules_of(document)}


def managed_statement(rule: dict) -> dict:
    ((statement,),) = [rule["statement"][0]["managed_rule_group_statement"]]
    return statement


# -- order and priorities ---------------------------------------------------------------
def test_rate_rule_first_then_reputation_common_known_bad_inputs_and_anonymous_ips(default):
    document, _ = default
    assert [(rule["name"], rule["priority"]) for rule in rules_of(document)] == [
        (RATE_RULE, 0),
        (IP_REPUTATION, 1),
        (COMMON, 2),
        (KNOWN_BAD_INPUTS, 3),
        (ANONYMOUS_IP, 4),
    ]


def test_the_anonymous_ip_list_counts_unless_enabled(default):
    """Always in the ACL (checkov's CKV2_AWS_47 wants it), blocking only when the config says so."""
    document, _ = default
    assert by_name(document)[ANONYMOUS_IP]["override_action"] == [{"count": [{}]}]
    document, _ = build(WafRuleSettings(enable_anonymous_ip_list=True))
    assert by_name(document)[ANONYMOUS_IP]["override_action"] == [{"none": [{}]}]


def test_bot_control_is_appended_only_when_enabled():
    document, _ = build(WafRuleSettings(enable_bot_control=True))
    base = [(RATE_RULE, 0), (IP_REPUTATION, 1), (COMMON, 2), (KNOWN_BAD_INPUTS, 3), (ANONYMOUS_IP, 4)]
    assert [(rule["name"], rule["priority"]) for rule in rules_of(document)] == [*base, (BOT_CONTROL, 5)]


def test_managed_groups_are_aws_groups_that_apply_their_own_actions(everything):
    document, _ = everything
    for rule in rules_of(document)[1:]:
        statement = managed_statement(rule)
        assert (statement["name"], statement["vendor_name"]) == (rule["name"], "AWS")
        assert rule["override_action"] == [{"none": [{}]}], rule["name"]
        assert "action" not in rule


# -- the rate rule -----------------------------------------------------------------------
def test_rate_rule_blocks_per_ip_at_the_default_limit(default):
    document, _ = default
    rate = by_name(document)[RATE_RULE]
    assert rate["action"] == [{"block": [{}]}]
    assert rate["statement"] == [{"rate_based_statement": [{"limit": 2000, "aggregate_key_type": "IP", "evaluation_window_sec": 300}]}]


def test_rate_rule_takes_limit_and_window_from_the_settings():
    document, _ = build(WafRuleSettings(rate_limit=500, rate_limit_window_seconds=60))
    (statement,) = by_name(document)[RATE_RULE]["statement"][0]["rate_based_statement"]
    assert (statement["limit"], statement["evaluation_window_sec"], statement["aggregate_key_type"]) == (500, 60, "IP")


# -- overrides and configs ---------------------------------------------------------------
def test_common_set_counts_only_its_body_size_rule_by_default(default):
    document, _ = default
    assert managed_statement(by_name(document)[COMMON])["rule_action_override"] == [{"name": "SizeRestrictions_BODY", "action_to_use": [{"count": [{}]}]}]
    for name in (IP_REPUTATION, KNOWN_BAD_INPUTS):
        assert "rule_action_override" not in managed_statement(by_name(document)[name])


def test_each_override_counts_in_sorted_order():
    document, _ = build(WafRuleSettings(common_rule_overrides=("SizeRestrictions_BODY", "NoUserAgent_HEADER", "GenericLFI_BODY")))
    overrides = managed_statement(by_name(document)[COMMON])["rule_action_override"]
    assert [override["name"] for override in overrides] == ["GenericLFI_BODY", "NoUserAgent_HEADER", "SizeRestrictions_BODY"]
    assert all(override["action_to_use"] == [{"count": [{}]}] for override in overrides)


def test_no_override_leaves_the_common_set_blocking():
    document, _ = build(WafRuleSettings(common_rule_overrides=()))
    assert "rule_action_override" not in managed_statement(by_name(document)[COMMON])


def test_bot_control_inspects_at_the_common_level(everything):
    document, _ = everything
    assert managed_statement(by_name(document)[BOT_CONTROL])["managed_rule_group_configs"] == [
        {"aws_managed_rules_bot_control_rule_set": [{"inspection_level": "COMMON"}]}
    ]
    assert all("managed_rule_group_configs" not in managed_statement(rule) for name, rule in by_name(document).items() if name not in (RATE_RULE, BOT_CONTROL))


# -- visibility, default action, scope, provider -----------------------------------------
def test_every_rule_publishes_metrics_named_as_the_rule_and_keeps_samples(everything):
    document, _ = everything
    for rule in rules_of(document):
        assert rule["visibility_config"] == [{"cloudwatch_metrics_enabled": True, "metric_name": rule["name"], "sampled_requests_enabled": True}]
    acl = only(document, "aws_wafv2_web_acl")
    assert acl["visibility_config"] == {"cloudwatch_metrics_enabled": True, "metric_name": "cot", "sampled_requests_enabled": True}


def test_acl_is_cloudfront_scoped_and_allows_what_no_rule_blocks(default):
    document, _ = default
    acl = only(document, "aws_wafv2_web_acl")
    assert (acl["name"], acl["scope"]) == ("cot", "CLOUDFRONT")
    assert acl["default_action"] == {"allow": {}}
    assert "provider" not in acl and "provider" not in only(document, "aws_wafv2_web_acl_logging_configuration")


def test_acl_and_its_logging_use_the_us_east_1_provider_when_given():
    document, _ = build(in_another_region=True)
    assert only(document, "aws_wafv2_web_acl")["provider"] == "aws.us_east_1"
    assert only(document, "aws_wafv2_web_acl_logging_configuration")["provider"] == "aws.us_east_1"
    assert {block.get("alias"): block["region"] for block in document["provider"]["aws"]} == {None: "eu-west-1", "us_east_1": "us-east-1"}


# -- capacity ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("settings", "capacity"),
    [
        (WafRuleSettings(), 977),
        (WafRuleSettings(enable_anonymous_ip_list=True), 977),
        (WafRuleSettings(enable_bot_control=True), 1027),
        (WafRuleSettings(enable_anonymous_ip_list=True, enable_bot_control=True), 1027),
    ],
)
def test_capacity_is_the_published_wcu_of_the_rules_written(settings, capacity):
    document, acl = build(settings)
    written = [rule["name"] for rule in rules_of(document)]
    assert sum(PUBLISHED_WCU[name] for name in written) == capacity
    assert acl.capacity == web_acl_capacity(settings) == capacity


def test_group_capacities_are_aws_published_figures():
    groups = managed_groups(WafRuleSettings(enable_anonymous_ip_list=True, enable_bot_control=True))
    assert {group.name: group.capacity for group in groups} == {name: wcu for name, wcu in PUBLISHED_WCU.items() if name != RATE_RULE}


def a_log_group(name: str = LOG_GROUP_NAME) -> LogGroup:
    return LogGroup(TerraformStack(cdktf.Testing.app(), "test"), "waf-log-group", LogGroupProps(name=name))


@pytest.mark.parametrize(("extra", "accepted"), [(473, True), (474, False)])
def test_props_refuse_rules_beyond_1500_wcu(monkeypatch, extra, accepted):
    """No shipped setting reaches 1,500 WCU (1,027 at most), so a hypothetical extra group stands in for a future one."""
    real = waf_rules.managed_groups
    monkeypatch.setattr(waf_rules, "managed_groups", lambda settings: (*real(settings), ManagedGroup("HypotheticalGroup", extra)))
    settings = WafRuleSettings(enable_anonymous_ip_list=True, enable_bot_control=True)  # 1,027 + extra
    if accepted:
        EdgeWebAclProps(name="cot", log_group=a_log_group(), rules=settings)
        return
    with pytest.raises(ValueError) as caught:
        EdgeWebAclProps(name="cot", log_group=a_log_group(), rules=settings)
    assert "the rules need 1501 WCU, more than the 1500 a web ACL has without a quota increase" in str(caught.value)


# -- logging -------------------------------------------------------------------------------
def test_logs_go_to_the_log_group_with_credentials_and_the_origin_secret_redacted(default):
    document, _ = default
    logging = only(document, "aws_wafv2_web_acl_logging_configuration")
    log_group = logical_id(resources(document, "aws_cloudwatch_log_group"), "waf-log-group")
    acl = logical_id(resources(document, "aws_wafv2_web_acl"), "web-acl")
    assert logging["log_destination_configs"] == [ref(document, "aws_cloudwatch_log_group", log_group, "arn")]
    assert logging["resource_arn"] == ref(document, "aws_wafv2_web_acl", acl, "arn")
    assert logging["redacted_fields"] == [{"single_header": {"name": name}} for name in ("authorization", "cookie", "x-origin-verify")]
    assert only(document, "aws_cloudwatch_log_group")["name"] == LOG_GROUP_NAME


# -- props errors ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"log_group": "/aws/waf/cot"}, "log_group must be named aws-waf-logs-* (WAF delivers nowhere else), but '/aws/waf/cot' was provided"),
        ({"rules": WafRuleSettings(rate_limit_window_seconds=90)}, "rules.rate_limit_window_seconds must be one of 60, 120, 300, 600, but 90 was provided"),
        ({"rules": WafRuleSettings(rate_limit=9)}, "rules.rate_limit must be between 10 and 2000000000, but 9 was provided"),
        ({"rules": WafRuleSettings(common_rule_overrides=("SizeRestrictions_BODY", "NoSuchRule"))}, "rules.common_rule_overrides must be one of NoUserAgent_HEADER, "),
        ({"rules": WafRuleSettings(common_rule_overrides=("NoSuchRule",))}, "but 'NoSuchRule' was provided"),
        ({"name": "cot acl"}, "name must be 1-128 letters, digits, '-' and '_', but 'cot acl' was provided"),
    ],
)
def test_props_name_the_field_the_allowed_values_and_the_value(overrides, message):
    log_group = a_log_group(overrides.pop("log_group", LOG_GROUP_NAME))
    with pytest.raises(ValueError) as caught:
        EdgeWebAclProps(**{"name": "cot", "log_group": log_group, **overrides})
    assert str(caught.value).startswith("EdgeWebAclProps: ")
    assert message in str(caught.value)


def test_props_report_every_problem_at_once():
    with pytest.raises(ValueError) as caught:
        EdgeWebAclProps(name="cot", log_group=a_log_group("cot-waf"), rules=WafRuleSettings(rate_limit=1, rate_limit_window_seconds=30))
    assert str(caught.value).count("; ") == 2


# -- metrics ---------------------------------------------------------------------------------
def test_metrics_are_the_acls_in_us_east_1(default):
    _, acl = default
    blocked = acl.metric_blocked_requests()
    assert (blocked.namespace, blocked.metric_name, blocked.statistic, blocked.region) == ("AWS/WAFV2", "BlockedRequests", "Sum", "us-east-1")
    assert dict(blocked.dimensions) == {"WebACL": "cot", "Rule": "ALL"}
    assert "Region" not in blocked.dimensions  # CloudFront-scope ACLs publish without one
    assert acl.metric_allowed_requests().metric_name == "AllowedRequests"
    assert acl.metric_counted_requests(COMMON).dimensions["Rule"] == COMMON


def test_rule_metrics_name_rules_the_acl_publishes(everything):
    """The ``Rule`` dimension is a rule's metric name: a metric of a name no rule publishes would alarm on nothing."""
    document, acl = everything
    published = {rule["visibility_config"][0]["metric_name"] for rule in rules_of(document)}
    assert set(acl.rule_names) == published
    assert acl.metric_rate_limited_requests().dimensions["Rule"] in published
    assert by_name(document)[acl.metric_rate_limited_requests().dimensions["Rule"]]["priority"] == 0


# -- edge key principals -----------------------------------------------------------------
def test_edge_key_principals_name_us_east_1_resources_of_this_account_wherever_the_stack_is():
    def make(stack):
        logs, alarms = edge_key_principals(stack)
        TerraformOutput(stack, "logs_service", value=logs.service)
        TerraformOutput(stack, "logs_condition", value=[[c.test, c.variable, *c.values] for c in logs.conditions])
        TerraformOutput(stack, "alarms_service", value=alarms.service)
        TerraformOutput(stack, "alarms_condition", value=[[c.test, c.variable, *c.values] for c in alarms.conditions])

    document = synth_construct(make, region="eu-west-1")
    partition = ref_data(document, "aws_partition", "partition")
    dns_suffix = ref_data(document, "aws_partition", "dns_suffix")
    account = ref_data(document, "aws_caller_identity", "account_id")
    values = {name: output["value"] for name, output in document["output"].items()}
    assert values["logs_service"] == f"logs.us-east-1.{dns_suffix}"
    assert values["logs_condition"] == [["StringLike", "kms:EncryptionContext:aws:logs:arn", f"arn:{partition}:logs:us-east-1:{account}:log-group:*"]]
    assert values["alarms_service"] == "cloudwatch.amazonaws.com"
    assert values["alarms_condition"] == [
        ["StringEquals", "aws:SourceAccount", account],
        ["ArnLike", "aws:SourceArn", f"arn:{partition}:cloudwatch:us-east-1:{account}:alarm:*"],
    ]


def ref_data(document, data_type: str, attribute: str) -> str:
    (name,) = data_sources(document, data_type)
    return "${" + f"data.{data_type}.{name}.{attribute}" + "}"
