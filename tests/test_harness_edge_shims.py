"""The edge layer's emulator shims (tests/harness/moto_server.py), checked with boto3.

The round trips that decide whether Terraform sees a diff after applying the
edge (WAF web ACL and its logging, the CloudFront function and distribution)
must come back from the emulator in AWS's shape. The shims were worked out
against a real `terraform apply` / `plan` / update / `destroy` of those
resources; this keeps what they return from slipping, in a few seconds and
without terraform. It runs its own moto server, so it never shares (or
resets) a deployment of another test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError

from tests.harness.emulator import ClientFactory
from tests.harness.moto_server import AWS_MANAGED_RULE_GROUP_WCUS, MotoServer

pytestmark = [pytest.mark.terraform, pytest.mark.emulated]

REGION = "us-east-1"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClientFactory]:
    with MotoServer(tmp_path_factory.mktemp("edge-shims-moto")) as server:
        yield ClientFactory(server.endpoint, REGION)


def visibility(name: str) -> dict[str, Any]:
    return {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": name}


def managed_rule(name: str, priority: int, **statement: Any) -> dict[str, Any]:
    return {
        "Name": name,
        "Priority": priority,
        "OverrideAction": {"None": {}},
        "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": name, **statement}},
        "VisibilityConfig": visibility(name),
    }


def rate_limit(limit: int) -> dict[str, Any]:
    return {
        "Name": "rate-limit-per-ip",
        "Priority": 0,
        "Action": {"Block": {}},
        "Statement": {"RateBasedStatement": {"Limit": limit, "AggregateKeyType": "IP", "EvaluationWindowSec": 300}},
        "VisibilityConfig": visibility("rate-limit-per-ip"),
    }


EDGE_RULES = [
    rate_limit(2000),
    managed_rule("AWSManagedRulesAmazonIpReputationList", 1),
    managed_rule(
        "AWSManagedRulesCommonRuleSet", 2,
        RuleActionOverrides=[{"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}],
    ),
    managed_rule("AWSManagedRulesKnownBadInputsRuleSet", 3),
    managed_rule(
        "AWSManagedRulesBotControlRuleSet", 4,
        ManagedRuleGroupConfigs=[{"AWSManagedRulesBotControlRuleSet": {"InspectionLevel": "COMMON"}}],
    ),
]


def by_name(rules: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {rule["Name"]: rule for rule in rules}


def create_web_acl(clients: ClientFactory, name: str) -> dict[str, Any]:
    return clients("wafv2").create_web_acl(
        Name=name, Scope="CLOUDFRONT", DefaultAction={"Allow": {}}, VisibilityConfig=visibility(name),
        Rules=EDGE_RULES, Description="edge", Tags=[{"Key": "layer", "Value": "edge"}],
    )["Summary"]


def test_web_acl_rules_round_trip_and_update_replaces_them(clients: ClientFactory) -> None:
    waf = clients("wafv2")
    summary = create_web_acl(clients, "edge-rules")
    got = waf.get_web_acl(Name="edge-rules", Scope="CLOUDFRONT", Id=summary["Id"])
    acl = got["WebACL"]
    rules = by_name(acl["Rules"])
    assert rules["rate-limit-per-ip"]["Statement"]["RateBasedStatement"] == {"Limit": 2000, "AggregateKeyType": "IP", "EvaluationWindowSec": 300}
    assert rules["rate-limit-per-ip"]["Action"] == {"Block": {}}
    common = rules["AWSManagedRulesCommonRuleSet"]
    assert common["Statement"]["ManagedRuleGroupStatement"]["RuleActionOverrides"] == [{"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}]
    assert common["OverrideAction"] == {"None": {}}
    assert common["VisibilityConfig"] == visibility("AWSManagedRulesCommonRuleSet")
    bot = rules["AWSManagedRulesBotControlRuleSet"]["Statement"]["ManagedRuleGroupStatement"]
    assert bot["ManagedRuleGroupConfigs"] == [{"AWSManagedRulesBotControlRuleSet": {"InspectionLevel": "COMMON"}}]
    assert acl["Capacity"] == 2 + sum(AWS_MANAGED_RULE_GROUP_WCUS[name] for name in rules if name != "rate-limit-per-ip")
    assert acl["ManagedByFirewallManager"] is False
    assert acl["LabelNamespace"] == "awswaf:123456789012:webacl:edge-rules:"

    # In place, as the edge's update does: a lower limit, one managed group fewer.
    fewer = [rate_limit(1000), *[r for r in EDGE_RULES[1:] if r["Name"] != "AWSManagedRulesKnownBadInputsRuleSet"]]
    with pytest.raises(ClientError, match="WAFOptimisticLockException"):
        waf.update_web_acl(Name="edge-rules", Scope="CLOUDFRONT", Id=summary["Id"], DefaultAction={"Allow": {}},
                           VisibilityConfig=visibility("edge-rules"), Rules=fewer, LockToken="stale")
    next_token = waf.update_web_acl(Name="edge-rules", Scope="CLOUDFRONT", Id=summary["Id"], DefaultAction={"Allow": {}},
                                    VisibilityConfig=visibility("edge-rules"), Rules=fewer, LockToken=got["LockToken"])["NextLockToken"]
    got = waf.get_web_acl(Name="edge-rules", Scope="CLOUDFRONT", Id=summary["Id"])
    assert got["LockToken"] == next_token
    rules = by_name(got["WebACL"]["Rules"])
    assert "AWSManagedRulesKnownBadInputsRuleSet" not in rules
    assert rules["rate-limit-per-ip"]["Statement"]["RateBasedStatement"]["Limit"] == 1000
    # UpdateWebACL replaces the whole specification: no rules and no description is what it says.
    waf.update_web_acl(Name="edge-rules", Scope="CLOUDFRONT", Id=summary["Id"], DefaultAction={"Allow": {}},
                       VisibilityConfig=visibility("edge-rules"), Rules=[], LockToken=got["LockToken"])
    got = waf.get_web_acl(Name="edge-rules", Scope="CLOUDFRONT", Id=summary["Id"])
    assert (got["WebACL"]["Rules"], got["WebACL"]["Description"], got["WebACL"]["Capacity"]) == ([], "", 0)
    waf.delete_web_acl(Name="edge-rules", Scope="CLOUDFRONT", Id=summary["Id"], LockToken=got["LockToken"])


def test_logging_configuration_keeps_redacted_headers_and_checks_the_destination(clients: ClientFactory) -> None:
    waf = clients("wafv2")
    acl_arn = create_web_acl(clients, "edge-logging")["ARN"]
    log_group = "arn:aws:logs:us-east-1:123456789012:log-group:aws-waf-logs-edge"
    redacted = [{"SingleHeader": {"Name": name}} for name in ("Authorization", "cookie", "x-origin-verify")]
    for destination in (f"{log_group}:*", "arn:aws:logs:us-east-1:123456789012:log-group:edge-waf"):
        with pytest.raises(ClientError, match="WAFInvalidParameterException"):
            waf.put_logging_configuration(LoggingConfiguration={"ResourceArn": acl_arn, "LogDestinationConfigs": [destination]})
    with pytest.raises(ClientError, match="WAFNonexistentItemException"):
        waf.put_logging_configuration(LoggingConfiguration={"ResourceArn": acl_arn + "0", "LogDestinationConfigs": [log_group]})

    waf.put_logging_configuration(LoggingConfiguration={"ResourceArn": acl_arn, "LogDestinationConfigs": [log_group], "RedactedFields": redacted})
    config = waf.get_logging_configuration(ResourceArn=acl_arn)["LoggingConfiguration"]
    assert config["LogDestinationConfigs"] == [log_group]
    assert config["RedactedFields"] == [{"SingleHeader": {"Name": name}} for name in ("authorization", "cookie", "x-origin-verify")]
    assert config["ManagedByFirewallManager"] is False
    waf.delete_logging_configuration(ResourceArn=acl_arn)
    with pytest.raises(ClientError, match="WAFNonexistentItemException"):
        waf.get_logging_configuration(ResourceArn=acl_arn)


def test_function_publish_makes_a_live_stage_with_the_key_value_store(clients: ClientFactory) -> None:
    cloudfront = clients("cloudfront")
    store = cloudfront.create_key_value_store(Name="x-origin-verify-shims")["KeyValueStore"]
    associations = {"Quantity": 1, "Items": [{"KeyValueStoreARN": store["ARN"]}]}
    config = {"Comment": "origin verify", "Runtime": "cloudfront-js-2.0", "KeyValueStoreAssociations": associations}
    created = cloudfront.create_function(Name="origin-verify-shims", FunctionConfig=config, FunctionCode=b"// v1")
    assert created["FunctionSummary"]["FunctionConfig"]["KeyValueStoreAssociations"] == associations
    with pytest.raises(ClientError, match="NoSuchFunctionExists"):
        cloudfront.describe_function(Name="origin-verify-shims", Stage="LIVE")
    with pytest.raises(ClientError, match="PreconditionFailed"):
        cloudfront.publish_function(Name="origin-verify-shims", IfMatch="stale")

    published = cloudfront.publish_function(Name="origin-verify-shims", IfMatch=created["ETag"])["FunctionSummary"]
    assert published["FunctionMetadata"]["Stage"] == "LIVE"
    assert published["Status"] == "UNASSOCIATED"
    live = cloudfront.describe_function(Name="origin-verify-shims", Stage="LIVE")
    development = cloudfront.describe_function(Name="origin-verify-shims", Stage="DEVELOPMENT")
    assert live["FunctionSummary"]["FunctionConfig"]["KeyValueStoreAssociations"] == associations
    assert development["ETag"] == created["ETag"] != live["ETag"]

    # A code change: UpdateFunction (DEVELOPMENT), then PublishFunction (LIVE).
    updated = cloudfront.update_function(Name="origin-verify-shims", IfMatch=development["ETag"], FunctionConfig=config, FunctionCode=b"// v2")
    assert updated["ETag"] != development["ETag"]
    assert cloudfront.get_function(Name="origin-verify-shims", Stage="LIVE")["FunctionCode"].read() == b"// v1"
    cloudfront.publish_function(Name="origin-verify-shims", IfMatch=updated["ETag"])
    assert cloudfront.get_function(Name="origin-verify-shims", Stage="LIVE")["FunctionCode"].read() == b"// v2"
    with pytest.raises(ClientError, match="PreconditionFailed"):
        cloudfront.delete_function(Name="origin-verify-shims", IfMatch=development["ETag"])
    cloudfront.delete_function(Name="origin-verify-shims", IfMatch=updated["ETag"])


def test_distribution_keeps_function_association_web_acl_and_policies(clients: ClientFactory) -> None:
    cloudfront = clients("cloudfront")
    function = cloudfront.create_function(
        Name="origin-verify-dist", FunctionConfig={"Comment": "", "Runtime": "cloudfront-js-2.0"}, FunctionCode=b"// v1"
    )
    cloudfront.publish_function(Name="origin-verify-dist", IfMatch=function["ETag"])
    function_arn = function["FunctionSummary"]["FunctionMetadata"]["FunctionARN"]
    first_acl, second_acl = (create_web_acl(clients, name)["ARN"] for name in ("edge-dist-1", "edge-dist-2"))
    methods = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
    associations = {"Quantity": 1, "Items": [{"FunctionARN": function_arn, "EventType": "viewer-request"}]}
    origin = {
        "Id": "api",
        "DomainName": "abc123.execute-api.us-east-1.amazonaws.com",
        "OriginPath": "/production",
        "CustomOriginConfig": {
            "HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only",
            "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
            "OriginReadTimeout": 30, "OriginKeepaliveTimeout": 5,
        },
    }
    config = {
        "CallerReference": "edge-shims",
        "Comment": "edge",
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [origin]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "api",
            "ViewerProtocolPolicy": "https-only",
            "CachePolicyId": CACHING_DISABLED,
            "OriginRequestPolicyId": ALL_VIEWER_EXCEPT_HOST_HEADER,
            "AllowedMethods": {"Quantity": 7, "Items": methods, "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}},
            "FunctionAssociations": associations,
        },
        "WebACLId": first_acl,
        "HttpVersion": "http2and3",
        "IsIPV6Enabled": True,
        "PriceClass": "PriceClass_100",
    }
    created = cloudfront.create_distribution(DistributionConfig=config)["Distribution"]
    got = cloudfront.get_distribution_config(Id=created["Id"])
    behavior = got["DistributionConfig"]["DefaultCacheBehavior"]
    assert behavior["FunctionAssociations"] == associations
    assert behavior["LambdaFunctionAssociations"] == {"Quantity": 0}
    assert behavior["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert behavior["CachePolicyId"] == CACHING_DISABLED
    assert "ForwardedValues" not in behavior
    assert got["DistributionConfig"]["WebACLId"] == first_acl
    assert got["DistributionConfig"]["Origins"]["Items"][0]["CustomOriginConfig"] == origin["CustomOriginConfig"]
    assert got["DistributionConfig"]["Origins"]["Items"][0]["OriginPath"] == "/production"

    # web_acl_id changed in place: UpdateDistribution keeps the association too.
    cloudfront.update_distribution(Id=created["Id"], IfMatch=got["ETag"], DistributionConfig={**got["DistributionConfig"], "WebACLId": second_acl})
    got = cloudfront.get_distribution_config(Id=created["Id"])
    assert got["DistributionConfig"]["WebACLId"] == second_acl
    assert got["DistributionConfig"]["DefaultCacheBehavior"]["FunctionAssociations"] == associations


def test_get_authorizers_lists_what_the_api_holds(clients: ClientFactory) -> None:
    """The live audit lists an API's authorizers (GetAuthorizers); the shim answers with the ones created, as AWS."""
    apigateway = clients("apigatewayv2")
    api = apigateway.create_api(Name="shim-authorizers", ProtocolType="HTTP")["ApiId"]
    assert apigateway.get_authorizers(ApiId=api)["Items"] == []
    created = apigateway.create_authorizer(
        ApiId=api,
        AuthorizerType="REQUEST",
        Name="origin-verify",
        AuthorizerUri="arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:f/invocations",
        IdentitySource=["$request.header.x-origin-verify"],
        AuthorizerPayloadFormatVersion="2.0",
        EnableSimpleResponses=True,
    )
    (listed,) = apigateway.get_authorizers(ApiId=api)["Items"]
    assert (listed["AuthorizerId"], listed["AuthorizerType"], listed["IdentitySource"]) == (
        created["AuthorizerId"], "REQUEST", ["$request.header.x-origin-verify"]
    )
    apigateway.delete_authorizer(ApiId=api, AuthorizerId=created["AuthorizerId"])
    assert apigateway.get_authorizers(ApiId=api)["Items"] == []
    with pytest.raises(apigateway.exceptions.NotFoundException):
        apigateway.get_authorizers(ApiId="missing")
