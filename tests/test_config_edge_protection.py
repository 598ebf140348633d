"""The edge-protection keys: each bad value is one clear problem naming the file, the key and what is allowed,
and the values given reach the web ACL, its alarms and the authorizers."""

from __future__ import annotations

from pathlib import Path

import pytest

from stacks.config import ConfigError, EnvironmentConfig, load_config
from stacks.tfvars import dump_tfvars_value
from tests.support import merged_environment, resources, synth_layers


def problems_for(tmp_path: Path, **values) -> list[str]:
    path = tmp_path / "edge.tfvars"
    path.write_text("".join(f"{key} = {dump_tfvars_value(value)}\n" for key, value in {"environment": "edge", **values}.items()))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return [problem.removeprefix(f"{path}: ") for problem in caught.value.problems]


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("waf_rate_limit", 5, "waf_rate_limit: must be from 10 to 2000000000; got 5"),
        ("waf_rate_limit_window_seconds", 90, "waf_rate_limit_window_seconds: must be one of 60, 120, 300, 600; got 90"),
        ("waf_log_retention_days", 100, "waf_log_retention_days: must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365,"),
        ("origin_verify_cache_seconds", 3601, "origin_verify_cache_seconds: must be from 0 to 3600; got 3601"),
        ("alarm_waf_blocked_requests", 0, "alarm_waf_blocked_requests: must be from 1 to 100000000; got 0"),
        ("alarm_waf_rate_limited_requests", 0, "alarm_waf_rate_limited_requests: must be from 1 to 100000000; got 0"),
    ],
)
def test_an_out_of_range_value_is_one_problem_naming_the_key_and_the_range(tmp_path, key, value, problem):
    (found,) = problems_for(tmp_path, **{key: value})
    assert found.startswith(problem), found


def test_common_rule_overrides_must_name_rules_of_the_set_once_each(tmp_path):
    unknown, repeated = problems_for(tmp_path, waf_common_rule_overrides=["SizeRestrictions_BODY", "SizeRestriction_Body", "SizeRestrictions_BODY"])
    assert unknown.startswith("waf_common_rule_overrides: names no rule of AWSManagedRulesCommonRuleSet: 'SizeRestriction_Body'; the rules are NoUserAgent_HEADER,")
    assert repeated.startswith("waf_common_rule_overrides: must not repeat a rule")


def test_a_list_of_strings_is_required_for_the_overrides(tmp_path):
    (found,) = problems_for(tmp_path, waf_common_rule_overrides="SizeRestrictions_BODY")
    assert found.startswith("waf_common_rule_overrides: ")


@pytest.fixture(scope="module")
def tuned() -> dict:
    config = EnvironmentConfig(
        environment="tuned",
        s3_frontend_bucket="circle-of-trust-frontend-tuned",
        enable_cloudtrail=False,
        manage_api_gateway_account=False,
        waf_rate_limit=500,
        waf_rate_limit_window_seconds=60,
        waf_common_rule_overrides=("GenericLFI_BODY", "SizeRestrictions_BODY"),
        waf_enable_anonymous_ip_list=True,
        waf_enable_bot_control=True,
        waf_log_retention_days=90,
        origin_verify_cache_seconds=30,
        alarm_waf_rate_limited_requests=7,
    )
    return merged_environment(synth_layers([config])["tuned"])


def test_the_keys_reach_the_web_acl(tuned):
    (acl,) = resources(tuned, "aws_wafv2_web_acl").values()
    rules = {rule["name"]: rule for rule in acl["rule"]}
    assert rules["rate-limit-per-ip"]["statement"][0]["rate_based_statement"][0] == {"limit": 500, "aggregate_key_type": "IP", "evaluation_window_sec": 60}
    common = rules["AWSManagedRulesCommonRuleSet"]["statement"][0]["managed_rule_group_statement"][0]
    assert [override["name"] for override in common["rule_action_override"]] == ["GenericLFI_BODY", "SizeRestrictions_BODY"]
    assert rules["AWSManagedRulesAnonymousIpList"]["override_action"] == [{"none": [{}]}]  # enabled: it blocks
    assert "AWSManagedRulesBotControlRuleSet" in rules
    (waf_logs,) = [group for group in resources(tuned, "aws_cloudwatch_log_group").values() if group["name"].startswith("aws-waf-logs-")]
    assert waf_logs["retention_in_days"] == 90


def test_the_keys_reach_the_authorizer_cache_and_the_alarm(tuned):
    (http,) = [a for a in resources(tuned, "aws_apigatewayv2_authorizer").values() if "authorizer_result_ttl_in_seconds" in a]
    assert http["authorizer_result_ttl_in_seconds"] == 30
    (alarm,) = [a for a in resources(tuned, "aws_cloudwatch_metric_alarm").values() if a["alarm_name"].endswith("-waf-rate-limited-requests")]
    assert alarm["threshold"] == 7 and "500 requests per 60 s" in alarm["alarm_description"]
