"""The edge web ACL: AWS WAF in front of every CloudFront distribution of an environment.

Why on CloudFront: API Gateway HTTP and WebSocket APIs cannot be associated
with a web ACL (only REST APIs, ALBs, CloudFront, AppSync, Cognito, App
Runner and Verified Access can), so the APIs are served through CloudFront
and one ``CLOUDFRONT``-scope ACL (which AWS keeps in us-east-1) covers the
app, the HTTP API and the WebSocket API alike. The origin-verify authorizer
(``constructs_lib.origin_verify``) refuses whatever reaches API Gateway
without passing CloudFront, so the ACL cannot be walked around.

The rules (``constructs_lib.waf_rules``): a per-IP rate-based rule, then
AWS's IP reputation list, common rule set and known-bad-inputs set (Log4j
included), optionally the anonymous-IP list and Bot Control. Every rule
publishes CloudWatch metrics (``AWS/WAFV2``, dimensions ``WebACL`` and
``Rule``, in us-east-1) and keeps sampled requests. Default action: allow.

The rules are written as Terraform's own ``rule`` blocks: the generated
bindings type a rule's ``statement`` as "any", which cdktf would write as an
attribute, so the blocks go into the JSON as an override and into the HCL
export with the block markers cdktf's renderer reads (``WebAclResource``).
Not ``rule_json``: checkov reads only ``rule`` blocks, and a reviewer reads
blocks too.

Logging: every request WAF evaluated goes to a log group named
``aws-waf-logs-*`` (WAF's requirement) in us-east-1, KMS-encrypted, with
the ``authorization`` and ``cookie`` headers and the origin secret's header
redacted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from typing import Any

import jsii
from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.wafv2_web_acl import Wafv2WebAcl, Wafv2WebAclDefaultAction, Wafv2WebAclDefaultActionAllow, Wafv2WebAclVisibilityConfig
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import (
    Wafv2WebAclLoggingConfiguration,
    Wafv2WebAclLoggingConfigurationRedactedFields,
    Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader,
)
from constructs import Construct

from constructs_lib._validation import Problems
from constructs_lib.alarms import alarms_key_principal
from constructs_lib.encryption import KeyServicePrincipal
from constructs_lib.logs import LogGroup, logs_key_principal
from constructs_lib.metrics import Metric
from constructs_lib.waf_rules import (
    COMMON_RULE_SET_RULES,
    DEFAULT_WEB_ACL_CAPACITY,
    RATE_LIMIT_MAX,
    RATE_LIMIT_MIN,
    RATE_LIMIT_WINDOWS,
    RATE_RULE_NAME,
    WafRuleSettings,
    managed_groups,
    rule_blocks,
    web_acl_capacity,
)

SCOPE = "CLOUDFRONT"
WAF_REGION = "us-east-1"  # a CLOUDFRONT-scope ACL, its metrics and its log group live here
LOG_GROUP_PREFIX = "aws-waf-logs-"  # WAF delivers only to log groups named so
# Request headers WAF's logs never show: credentials (tokens, session cookies) and the origin secret.
REDACTED_HEADERS = ("authorization", "cookie", "x-origin-verify")
ALL_RULES = "ALL"  # the Rule dimension of the web ACL's totals
_NAME = r"[A-Za-z0-9_-]{1,128}"


def waf_log_group_name(name: str) -> str:
    return f"{LOG_GROUP_PREFIX}{name}"


def edge_key_principals(scope: Construct, region: str = WAF_REGION) -> tuple[KeyServicePrincipal, ...]:
    """The statements of a key in ``region`` for what the edge keeps there when the environment lives elsewhere.

    CloudWatch Logs (WAF's log group) and CloudWatch alarms (the WAF alarms'
    topic), each limited to this account and that region as AWS documents.
    """
    return (logs_key_principal(scope, region), alarms_key_principal(scope, region))


@dataclass(frozen=True, kw_only=True)
class EdgeWebAclProps:
    """Inputs of the edge web ACL.

    name: the ACL's name and its metric name, 1-128 letters, digits, '-' and
        '_', such as ``circle-of-trust``.
    log_group: the destination of WAF's logs, a log group named
        ``aws-waf-logs-*`` in us-east-1 (the data layer makes it, so the logs
        outlive the ACL; ``waf_log_group_name`` gives the name).
    rules: the rate limit and the managed groups (``WafRuleSettings``:
        2,000 requests per IP per 5 minutes, the common set's body-size rule
        counting only, no optional groups).
    provider: an aws provider in us-east-1, where CloudFront-scope ACLs
        live. Default None: the stack's (which must then be in us-east-1).
    redacted_headers: headers the logs redact. Default authorization,
        cookie and x-origin-verify.
    """

    name: str
    log_group: LogGroup
    rules: WafRuleSettings = field(default_factory=WafRuleSettings)
    provider: TerraformProvider | None = None
    redacted_headers: tuple[str, ...] = REDACTED_HEADERS

    def __post_init__(self) -> None:
        problems = Problems("EdgeWebAclProps")
        problems.matches("name", self.name, _NAME, "1-128 letters, digits, '-' and '_'")
        problems.between("rules.rate_limit", self.rules.rate_limit, RATE_LIMIT_MIN, RATE_LIMIT_MAX)
        problems.one_of("rules.rate_limit_window_seconds", self.rules.rate_limit_window_seconds, RATE_LIMIT_WINDOWS)
        for rule in self.rules.common_rule_overrides:
            problems.one_of("rules.common_rule_overrides", rule, COMMON_RULE_SET_RULES)
        capacity = web_acl_capacity(self.rules)
        if capacity > DEFAULT_WEB_ACL_CAPACITY:
            problems.add(f"the rules need {capacity} WCU, more than the {DEFAULT_WEB_ACL_CAPACITY} a web ACL has without a quota increase")
        if not self.log_group.props.name.startswith(LOG_GROUP_PREFIX):
            problems.add(f"log_group must be named {LOG_GROUP_PREFIX}* (WAF delivers nowhere else), but {self.log_group.props.name!r} was provided")
        problems.raise_if_any()


def _hcl_blocks(value: Any) -> Any:
    """A ``rule`` value in the form cdktf's HCL renderer writes as nested blocks (a list of objects is a block)."""
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return {
            "value": [{key: _hcl_blocks(inner) for key, inner in item.items()} for item in value],
            "isBlock": True,
            "type": "list",
            "storageClassType": "list",
        }
    return value


class WebAclResource(Wafv2WebAcl):
    """``aws_wafv2_web_acl`` whose ``rule`` blocks are plain Terraform in the JSON and in the HCL export."""

    def set_rules(self, rules: list[dict[str, Any]]) -> None:
        self._rules = rules
        self.add_override("rule", rules)

    @jsii.member(jsii_name="toHclTerraform")
    def to_hcl_terraform(self) -> Any:
        hcl = super().to_hcl_terraform()
        for body in hcl["resource"]["aws_wafv2_web_acl"].values():
            body["rule"] = _hcl_blocks(self._rules)
        return hcl


class EdgeWebAcl(Construct):
    """One CloudFront-scope web ACL and its logging."""

    def __init__(self, scope: Construct, construct_id: str, props: EdgeWebAclProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.web_acl = WebAclResource(
            self,
            "web-acl",
            name=props.name,
            description=f"{props.name}: rate limit per IP and AWS managed rules in front of the app and its APIs",
            scope=SCOPE,
            default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()),
            visibility_config=Wafv2WebAclVisibilityConfig(
                cloudwatch_metrics_enabled=True, metric_name=props.name, sampled_requests_enabled=True
            ),
            provider=props.provider,
        )
        self.web_acl.set_rules(rule_blocks(props.rules))
        self.logging = Wafv2WebAclLoggingConfiguration(
            self,
            "logging",
            resource_arn=self.web_acl.arn,
            # The provider's log group ARN has no ":*" suffix, the form WAF takes.
            log_destination_configs=[props.log_group.log_group_arn],
            redacted_fields=[
                Wafv2WebAclLoggingConfigurationRedactedFields(single_header=Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader(name=header))
                for header in props.redacted_headers
            ],
            provider=props.provider,
        )

    # -- attributes -------------------------------------------------------------------
    @property
    def web_acl_arn(self) -> str:
        """What a distribution's ``web_acl_id`` takes (for WAFv2, the ARN)."""
        return self.web_acl.arn

    @property
    def web_acl_name(self) -> str:
        return self.props.name

    @property
    def capacity(self) -> int:
        return web_acl_capacity(self.props.rules)

    @property
    def rule_names(self) -> tuple[str, ...]:
        return (RATE_RULE_NAME, *(group.name for group in managed_groups(self.props.rules)))

    # -- metrics ------------------------------------------------------------------------
    def metric(self, metric_name: str, rule: str = ALL_RULES) -> Metric:
        """A metric of the ACL (``AWS/WAFV2`` in us-east-1; CloudFront ACLs have no ``Region`` dimension)."""
        return Metric(namespace="AWS/WAFV2", metric_name=metric_name, dimensions={"WebACL": self.props.name, "Rule": rule}, statistic="Sum", region=WAF_REGION)

    def metric_blocked_requests(self, rule: str = ALL_RULES) -> Metric:
        return self.metric("BlockedRequests", rule)

    def metric_allowed_requests(self, rule: str = ALL_RULES) -> Metric:
        return self.metric("AllowedRequests", rule)

    def metric_counted_requests(self, rule: str = ALL_RULES) -> Metric:
        return self.metric("CountedRequests", rule)

    def metric_rate_limited_requests(self) -> Metric:
        """Requests the per-IP rate rule blocked."""
        return self.metric_blocked_requests(RATE_RULE_NAME)
