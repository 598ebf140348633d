"""Network: subnets, routing in both NAT modes, endpoints, default SG, flow logs."""

from __future__ import annotations

import pytest

from constructs_lib.network import Network, NetworkProps
from tests.support import at, data_sources, logical_id, only, ref, resources, synth_construct

ZONES = "data.aws_availability_zones.network_zones_"
INTERFACE_SERVICES = {"ecr.api", "ecr.dkr", "logs", "sqs", "secretsmanager"}


TWO_ZONES = ("us-east-1a", "us-east-1b")


def build(**props):
    props = {"availability_zones": TWO_ZONES, **props}
    return synth_construct(lambda stack: Network(stack, "network", NetworkProps(name_prefix="cot", **props)))


@pytest.fixture(scope="module")
def endpoints_mode():
    return build()


@pytest.fixture(scope="module")
def single_nat():
    return build(enable_nat_gateway=True)


@pytest.fixture(scope="module")
def nat_per_zone():
    return build(
        enable_nat_gateway=True,
        single_nat_gateway=False,
        availability_zones=("us-east-1a", "us-east-1b", "us-east-1d"),
        vpc_cidr="10.20.0.0/20",
    )


def test_vpc_has_dns_for_private_endpoints(endpoints_mode):
    vpc = only(endpoints_mode, "aws_vpc")
    assert vpc["cidr_block"] == "10.0.0.0/16"
    assert vpc["enable_dns_support"] is True and vpc["enable_dns_hostnames"] is True


def zone_of(document, name):
    """The guarded expression a subnet uses for zone ``name``: the name, or a plan-time error."""
    zones = "data.aws_availability_zones." + logical_id(data_sources(document, "aws_availability_zones"), "network/zones")
    return f'${{{zones}.names[index({zones}.names, "{name}")]}}'


def test_two_zones_with_private_and_public_subnets_on_the_named_zones(endpoints_mode):
    subnets = resources(endpoints_mode, "aws_subnet")
    expected = {
        "network/private-0": ("10.0.0.0/20", 0),
        "network/private-1": ("10.0.16.0/20", 1),
        "network/public-0": ("10.0.128.0/20", 0),
        "network/public-1": ("10.0.144.0/20", 1),
    }
    assert len(subnets) == len(expected)
    for path, (cidr, zone) in expected.items():
        subnet = at(subnets, path)
        assert subnet["cidr_block"] == cidr
        assert subnet["availability_zone"] == zone_of(endpoints_mode, TWO_ZONES[zone])
        assert subnet["map_public_ip_on_launch"] is False


def test_the_named_zones_are_checked_at_plan_time(endpoints_mode):
    zones = at(data_sources(endpoints_mode, "aws_availability_zones"), "network/zones")
    assert zones["state"] == "available"
    assert zones["filter"] == [
        {"name": "zone-name", "values": list(TWO_ZONES)},
        {"name": "opt-in-status", "values": ["opt-in-not-required"]},
    ]


def test_default_security_group_allows_nothing(endpoints_mode):
    group = only(endpoints_mode, "aws_default_security_group")
    assert group["vpc_id"] == ref(endpoints_mode, "aws_vpc", logical_id(resources(endpoints_mode, "aws_vpc"), "network/vpc"), "id")
    assert not group.get("ingress") and not group.get("egress")


def test_public_subnets_route_to_the_internet_gateway(endpoints_mode):
    routes = resources(endpoints_mode, "aws_route")
    public = at(routes, "network/public-default-route")
    igw = logical_id(resources(endpoints_mode, "aws_internet_gateway"), "network/internet-gateway")
    assert public["destination_cidr_block"] == "0.0.0.0/0"
    assert public["gateway_id"] == ref(endpoints_mode, "aws_internet_gateway", igw, "id")


def private_default_routes(document):
    return [r for r in resources(document, "aws_route").values() if "nat_gateway_id" in r]


def test_without_nat_there_is_no_way_out_but_endpoints(endpoints_mode):
    assert not resources(endpoints_mode, "aws_nat_gateway")
    assert not resources(endpoints_mode, "aws_eip")
    assert private_default_routes(endpoints_mode) == []
    endpoints = [e for e in resources(endpoints_mode, "aws_vpc_endpoint").values() if e["vpc_endpoint_type"] == "Interface"]
    region = "${data.aws_region.aws_context_region_"
    services = {e["service_name"].split("}.", 1)[1] for e in endpoints}
    assert services == INTERFACE_SERVICES
    subnets = resources(endpoints_mode, "aws_subnet")
    private_ids = [ref(endpoints_mode, "aws_subnet", logical_id(subnets, f"network/private-{i}"), "id") for i in range(2)]
    group_id = logical_id(resources(endpoints_mode, "aws_security_group"), "network/endpoints-security-group")
    for endpoint in endpoints:
        assert endpoint["service_name"].startswith(f"com.amazonaws.{region}")
        assert endpoint["private_dns_enabled"] is True
        assert endpoint["subnet_ids"] == private_ids
        assert endpoint["security_group_ids"] == [ref(endpoints_mode, "aws_security_group", group_id, "id")]


def test_interface_endpoints_accept_only_https_from_the_vpc(endpoints_mode):
    group = only(endpoints_mode, "aws_security_group")
    assert not group.get("ingress") and not group.get("egress")
    rule = only(endpoints_mode, "aws_vpc_security_group_ingress_rule")
    assert (rule["ip_protocol"], rule["from_port"], rule["to_port"], rule["cidr_ipv4"]) == ("tcp", 443, 443, "10.0.0.0/16")
    assert not resources(endpoints_mode, "aws_vpc_security_group_egress_rule")


@pytest.mark.parametrize("mode", ["endpoints_mode", "single_nat", "nat_per_zone"])
def test_gateway_endpoints_serve_every_private_route_table(mode, request):
    document = request.getfixturevalue(mode)
    tables = resources(document, "aws_route_table")
    private_tables = sorted(ref(document, "aws_route_table", key, "id") for key in tables if "_private-" in key)
    gateways = {e["service_name"].rsplit(".", 1)[1]: e for e in resources(document, "aws_vpc_endpoint").values() if e["vpc_endpoint_type"] == "Gateway"}
    assert set(gateways) == {"s3", "dynamodb"}
    for endpoint in gateways.values():
        assert sorted(endpoint["route_table_ids"]) == private_tables


def test_single_nat_serves_every_zone_and_replaces_interface_endpoints(single_nat):
    (nat_id,) = resources(single_nat, "aws_nat_gateway")
    nat = resources(single_nat, "aws_nat_gateway")[nat_id]
    assert nat["subnet_id"] == ref(single_nat, "aws_subnet", logical_id(resources(single_nat, "aws_subnet"), "network/public-0"), "id")
    assert nat["allocation_id"] == ref(single_nat, "aws_eip", logical_id(resources(single_nat, "aws_eip"), "network/nat-0-address"), "id")
    assert only(single_nat, "aws_eip")["domain"] == "vpc"
    routes = private_default_routes(single_nat)
    assert len(routes) == 2
    assert {r["nat_gateway_id"] for r in routes} == {ref(single_nat, "aws_nat_gateway", nat_id, "id")}
    assert {r["destination_cidr_block"] for r in routes} == {"0.0.0.0/0"}
    assert all(e["vpc_endpoint_type"] == "Gateway" for e in resources(single_nat, "aws_vpc_endpoint").values())
    assert not resources(single_nat, "aws_security_group")


def test_nat_per_zone_routes_each_zone_through_its_own_gateway(nat_per_zone):
    subnets = resources(nat_per_zone, "aws_subnet")
    assert [at(subnets, f"network/private-{i}")["cidr_block"] for i in range(3)] == ["10.20.0.0/24", "10.20.1.0/24", "10.20.2.0/24"]
    assert [at(subnets, f"network/private-{i}")["availability_zone"] for i in range(3)] == [
        zone_of(nat_per_zone, zone) for zone in ("us-east-1a", "us-east-1b", "us-east-1d")
    ]
    assert [at(subnets, f"network/public-{i}")["cidr_block"] for i in range(3)] == ["10.20.8.0/24", "10.20.9.0/24", "10.20.10.0/24"]
    nats = resources(nat_per_zone, "aws_nat_gateway")
    routes = resources(nat_per_zone, "aws_route")
    for index in range(3):
        nat_id = logical_id(nats, f"network/nat-{index}")
        assert nats[nat_id]["subnet_id"] == ref(nat_per_zone, "aws_subnet", logical_id(subnets, f"network/public-{index}"), "id")
        route = at(routes, f"network/private-{index}-default-route")
        table = logical_id(resources(nat_per_zone, "aws_route_table"), f"network/private-{index}-routes")
        assert route["route_table_id"] == ref(nat_per_zone, "aws_route_table", table, "id")
        assert route["nat_gateway_id"] == ref(nat_per_zone, "aws_nat_gateway", nat_id, "id")


def test_flow_logs_capture_all_traffic_into_a_retained_group(endpoints_mode):
    flow_log = only(endpoints_mode, "aws_flow_log")
    group_id = logical_id(resources(endpoints_mode, "aws_cloudwatch_log_group"), "network/flow-log-group")
    group = resources(endpoints_mode, "aws_cloudwatch_log_group")[group_id]
    assert group["name"] == "/vpc/cot/flow-logs"
    assert group["retention_in_days"] == 365
    assert flow_log["traffic_type"] == "ALL"
    assert flow_log["log_destination_type"] == "cloud-watch-logs"
    assert flow_log["log_destination"] == ref(endpoints_mode, "aws_cloudwatch_log_group", group_id, "arn")
    role_id = logical_id(resources(endpoints_mode, "aws_iam_role"), "network/flow-log-role")
    assert flow_log["iam_role_arn"] == ref(endpoints_mode, "aws_iam_role", role_id, "arn")


def test_flow_log_role_is_trusted_by_flow_logs_of_this_account_only(endpoints_mode):
    documents = data_sources(endpoints_mode, "aws_iam_policy_document")
    (statement,) = at(documents, "network/flow-log-role/trust")["statement"]
    assert statement["principals"] == [{"identifiers": ["vpc-flow-logs.amazonaws.com"], "type": "Service"}]
    assert statement["actions"] == ["sts:AssumeRole"]
    conditions = {c["variable"]: (c["test"], c["values"]) for c in statement["condition"]}
    assert conditions["aws:SourceAccount"][0] == "StringEquals"
    assert conditions["aws:SourceAccount"][1][0].startswith("${data.aws_caller_identity.")
    test, (arn,) = conditions["aws:SourceArn"]
    assert test == "ArnLike" and arn.endswith(":vpc-flow-log/*") and ":ec2:" in arn


def test_flow_log_role_writes_only_its_group(endpoints_mode):
    documents = data_sources(endpoints_mode, "aws_iam_policy_document")
    (statement,) = at(documents, "network/flow-log-role/write-flow-logs-policy-document")["statement"]
    group_arn = ref(endpoints_mode, "aws_cloudwatch_log_group", logical_id(resources(endpoints_mode, "aws_cloudwatch_log_group"), "network/flow-log-group"), "arn")
    assert sorted(statement["actions"]) == ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
    assert statement["resources"] == [group_arn, f"{group_arn}:*"]
    policy = only(endpoints_mode, "aws_iam_role_policy")
    assert policy["role"] == ref(endpoints_mode, "aws_iam_role", logical_id(resources(endpoints_mode, "aws_iam_role"), "network/flow-log-role"), "id")


def test_flow_logs_can_be_turned_off():
    document = build(enable_flow_logs=False)
    assert not resources(document, "aws_flow_log")
    assert not resources(document, "aws_iam_role")
    assert not resources(document, "aws_cloudwatch_log_group")


def test_flow_log_group_takes_a_kms_key():
    document = build(flow_log_kms_key_arn="arn:aws:kms:us-east-1:111122223333:key/abc")
    assert only(document, "aws_cloudwatch_log_group")["kms_key_id"] == "arn:aws:kms:us-east-1:111122223333:key/abc"


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"vpc_cidr": "10.0.0.0/12"}, "vpc_cidr must be /16 to /24, but 10.0.0.0/12 was provided"),
        ({"availability_zones": ("us-east-1a",)}, "availability_zones must hold 2 to 8 zones, but 1 were provided"),
        ({"availability_zones": ("us-east-1a", "us-east-1a")}, "availability_zones must not repeat a zone, but ['us-east-1a', 'us-east-1a'] was provided"),
        (
            {"interface_endpoint_services": ("logs", "ecs-agent")},
            "interface_endpoint_services must be among ['dynamodb', 'ecr.api', 'ecr.dkr', 'logs', 's3', 'secretsmanager', 'sqs'] "
            "(endpoints whose policy this module can write), but ['ecs-agent'] was provided",
        ),
        (
            {"availability_zones": tuple(f"us-east-1{c}" for c in "abcdefghi"), "vpc_cidr": "10.0.0.0/25"},
            "vpc_cidr must be /16 to /24, but 10.0.0.0/25 was provided; availability_zones must hold 2 to 8 zones, but 9 were provided",
        ),
    ],
)
def test_props_reject_shapes_the_subnet_plan_cannot_hold(props, message):
    with pytest.raises(ValueError) as caught:
        NetworkProps(name_prefix="cot", **{"availability_zones": TWO_ZONES, **props})
    assert str(caught.value) == message


# -- endpoint policies (issue 18) ---------------------------------------------------------
class _Context:
    """Stand-in for AwsContext: endpoint_policy reads these three attributes only."""

    account_id, partition, region = "111122223333", "aws", "eu-west-1"


ACCOUNT_ONLY = {"StringEquals": {"aws:PrincipalAccount": ["111122223333"], "aws:ResourceAccount": ["111122223333"]}}


@pytest.mark.parametrize("service", ["ecr.api", "ecr.dkr", "logs", "sqs", "secretsmanager", "s3", "dynamodb"])
def test_every_endpoint_policy_lets_only_account_principals_reach_account_resources(service):
    from constructs_lib.network import endpoint_policy

    policy = endpoint_policy(_Context(), service)
    assert policy["Version"] == "2012-10-17"
    first = policy["Statement"][0]
    # The service's own actions only: the endpoint carries no others.
    prefix = {"ecr.api": "ecr", "ecr.dkr": "ecr"}.get(service, service)
    assert first == {
        "Sid": "AccountPrincipalsToAccountResources",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": f"{prefix}:*",
        "Resource": "*",
        "Condition": ACCOUNT_ONLY,
    }
    # Nothing but Allow statements, and every one without an account condition is the ECR layer bucket's.
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        if "Condition" not in statement:
            assert (service, statement["Resource"]) == ("s3", "arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*")


def test_ecr_api_endpoint_also_gives_account_principals_their_token():
    from constructs_lib.network import endpoint_policy

    statements = endpoint_policy(_Context(), "ecr.api")["Statement"]
    assert statements[1:] == [
        {
            "Sid": "AccountPrincipalsGetEcrTokens",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "ecr:GetAuthorizationToken",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalAccount": ["111122223333"]}},
        }
    ]


def test_s3_gateway_endpoint_keeps_ecrs_layer_bucket_reachable_for_image_pulls_and_nothing_else():
    from constructs_lib.network import endpoint_policy

    statements = endpoint_policy(_Context(), "s3")["Statement"]
    assert statements[1:] == [
        {"Sid": "EcrImageLayers", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*"}
    ]
    for service in ("dynamodb", "logs", "sqs", "secretsmanager", "ecr.dkr"):
        assert len(endpoint_policy(_Context(), service)["Statement"]) == 1, service


@pytest.mark.parametrize("mode", ["endpoints_mode", "single_nat"])
def test_every_endpoint_carries_its_policy_with_this_accounts_id(mode, request):
    document = request.getfixturevalue(mode)
    endpoints = resources(document, "aws_vpc_endpoint")
    assert len(endpoints) == (7 if mode == "endpoints_mode" else 2)
    account = "${data.aws_caller_identity." + logical_id(data_sources(document, "aws_caller_identity"), "aws_context/caller") + ".account_id}"
    for endpoint in endpoints.values():
        policy = endpoint["policy"]
        assert policy.startswith("${jsonencode({") and policy.endswith("})}")
        assert '"aws:PrincipalAccount" = [' + account[2:-1] + "]" in policy
        assert '"aws:ResourceAccount" = [' + account[2:-1] + "]" in policy
    s3 = at(endpoints, "network/s3-gateway-endpoint")["policy"]
    assert "-starport-layer-bucket/*" in s3 and '"Action" = "s3:GetObject"' in s3


def test_s3_endpoint_accepts_the_trust_boundary_finding_for_the_ecr_layer_bucket_only():
    from constructs_lib.network import ECR_LAYER_BUCKET_REASON
    from constructs_lib.policy import accepted_findings

    built = {}
    synth_construct(lambda stack: built.setdefault("network", Network(stack, "network", NetworkProps(name_prefix="cot", availability_zones=TWO_ZONES))))
    network = built["network"]
    assert accepted_findings(network.gateway_endpoints["s3"]) == {"vpc_endpoint_connections_trust_boundaries": ECR_LAYER_BUCKET_REASON}
    assert accepted_findings(network.gateway_endpoints["dynamodb"]) == {}
    assert all(accepted_findings(endpoint) == {} for endpoint in network.interface_endpoints.values())
    assert accepted_findings(network.default_network_acl) == {"ec2_networkacl_allow_ingress_any_port": network_module().DEFAULT_NACL_ANY_PORT_REASON}


def network_module():
    import constructs_lib.network

    return constructs_lib.network


# -- the default network ACL (issue 18) ---------------------------------------------------------
@pytest.mark.parametrize("mode", ["endpoints_mode", "single_nat"])
def test_default_network_acl_denies_ssh_and_rdp_from_anywhere_then_allows_the_rest(mode, request):
    document = request.getfixturevalue(mode)
    acl = only(document, "aws_default_network_acl")
    vpc = ref(document, "aws_vpc", logical_id(resources(document, "aws_vpc"), "network/vpc"), "default_network_acl_id")
    assert acl["default_network_acl_id"] == vpc
    anywhere = dict(cidr_block="0.0.0.0/0")
    assert acl["ingress"] == [
        {"rule_no": 100, "action": "deny", "protocol": "6", "from_port": 22, "to_port": 22, **anywhere},
        {"rule_no": 110, "action": "deny", "protocol": "6", "from_port": 3389, "to_port": 3389, **anywhere},
        {"rule_no": 120, "action": "deny", "protocol": "17", "from_port": 3389, "to_port": 3389, **anywhere},
        {"rule_no": 200, "action": "allow", "protocol": "-1", "from_port": 0, "to_port": 0, **anywhere},
    ]
    assert acl["egress"] == [{"rule_no": 100, "action": "allow", "protocol": "-1", "from_port": 0, "to_port": 0, **anywhere}]


def test_default_network_acl_names_every_subnet_so_plans_stay_clean(endpoints_mode):
    acl = only(endpoints_mode, "aws_default_network_acl")
    subnets = resources(endpoints_mode, "aws_subnet")
    expected = [ref(endpoints_mode, "aws_subnet", logical_id(subnets, f"network/{tier}-{index}"), "id") for tier in ("private", "public") for index in (0, 1)]
    assert acl["subnet_ids"] == expected
