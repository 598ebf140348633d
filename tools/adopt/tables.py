"""What adoption knows about AWS resource types: how each is identified, what is protected,
which differences are refused, and which replacements are harmless by construction."""

from __future__ import annotations

from pathlib import Path

from constructs_lib.data_bearing import DATA_BEARING_TYPES

PROJECT_DIR = Path(__file__).resolve().parents[2]
EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
AWS_PROVIDER = 'provider["registry.terraform.io/hashicorp/aws"]'
LEGACY_FILE = "legacy.tfstate"
PLAN_FILE = "adopt-plan.json"  # what `plan` proved; `push` reads it
PROOF_DIR = ".proof"
OVERRIDE_FILE = "zz_adopt_override.tf.json"
USER_OVERRIDE_FILE = "zz_adopt_user_override.tf.json"
# A value a lower layer only knows after its apply, in the proof of the layers above:
# ``adopt-proof-unknown-<n>``, numbered so that a change it causes names its source.
UNKNOWN = "adopt-proof-unknown"

# Protected: the plan refuses to destroy, replace or create a second time any of these.
PROTECTED_TYPES = DATA_BEARING_TYPES | {"aws_vpc", "aws_subnet", "aws_ecs_cluster", "aws_ecs_service"}

# How each type is identified: tuples of argument paths (state attribute =
# synthesized argument of the same name). "~tier" is "public" or "private" from
# the Name tag. The first spec of a type is its strict identity (a name, an ID
# pair); the others are weaker and are tried only once neither the strict
# identities nor use (a matched resource naming its parent: a service's security
# groups, an alias's key) pair anything more. The spec that pairs one legacy
# instance with one synthesized resource is the recorded evidence.
_BUCKET = [("bucket",)]
IDENTITY: dict[str, list[tuple[str, ...]]] = {
    "aws_vpc": [("tags.Name",), ("cidr_block",)],
    # Zone and tier before the Name tag: teams number subnets from 1, the design from 0.
    "aws_subnet": [("vpc_id", "cidr_block"), ("vpc_id", "availability_zone", "~tier"), ("vpc_id", "tags.Name")],
    "aws_internet_gateway": [("vpc_id",)],
    "aws_nat_gateway": [("subnet_id",)],
    "aws_route_table": [],  # through the association of a matched subnet (INFER_PARENTS)
    "aws_route_table_association": [("subnet_id",), ("gateway_id",)],
    "aws_route": [("route_table_id", "destination_cidr_block")],
    "aws_default_security_group": [("vpc_id",)],
    # By name; else by use (the groups a matched service, endpoint, load balancer or VPC link
    # holds); else by the Name tag. The group's name and description are then kept (ForceNew).
    "aws_security_group": [("vpc_id", "name"), ("vpc_id", "tags.Name")],
    "aws_vpc_security_group_ingress_rule": [("security_group_id", "ip_protocol", "from_port", "to_port", "~peer")],
    "aws_vpc_security_group_egress_rule": [("security_group_id", "ip_protocol", "from_port", "to_port", "~peer")],
    "aws_vpc_endpoint": [("vpc_id", "service_name")],
    "aws_flow_log": [("vpc_id",)],
    "aws_ecr_repository": [("name",)],
    "aws_ecr_lifecycle_policy": [("repository",)],
    "aws_dynamodb_table": [("name",)],
    "aws_appautoscaling_target": [("service_namespace", "resource_id", "scalable_dimension")],
    "aws_appautoscaling_policy": [("name", "resource_id")],
    "aws_sqs_queue": [("name",)],
    "aws_sqs_queue_policy": [("queue_url",)],
    "aws_sqs_queue_redrive_allow_policy": [("queue_url",)],
    "aws_sqs_queue_redrive_policy": [("queue_url",)],
    "aws_sns_topic": [("name",)],
    "aws_cloudwatch_log_group": [("name",)],
    "aws_cloudwatch_metric_alarm": [("alarm_name",)],
    "aws_cloudwatch_dashboard": [("dashboard_name",)],
    "aws_cloudwatch_event_rule": [("name",)],
    "aws_cloudwatch_event_target": [("rule", "target_id")],
    "aws_lambda_function": [("function_name",)],
    "aws_kms_key": [],  # through its alias (INFER_PARENTS)
    "aws_kms_alias": [("name",)],
    "aws_secretsmanager_secret": [("name",)],
    "aws_s3_bucket": _BUCKET,
    **{
        f"aws_s3_bucket_{child}": _BUCKET
        for child in (
            "policy", "versioning", "website_configuration", "public_access_block", "ownership_controls",
            "server_side_encryption_configuration", "lifecycle_configuration", "cors_configuration", "acl",
        )
    },
    "aws_ecs_cluster": [("name",)],
    "aws_ecs_cluster_capacity_providers": [("cluster_name",)],
    "aws_ecs_service": [("cluster", "name")],
    "aws_ecs_task_definition": [("family",)],
    "aws_iam_role": [("name",)],
    "aws_iam_role_policy": [("role", "name")],
    "aws_iam_role_policy_attachment": [("role", "policy_arn")],
    "aws_iam_openid_connect_provider": [("url",)],
    # A team's own name for the one namespace of the VPC: matched by the VPC, the name kept (ForceNew).
    "aws_service_discovery_private_dns_namespace": [("name",), ("vpc",)],
    "aws_service_discovery_service": [("dns_config.0.namespace_id", "name"), ("name",)],
    # Clients hold an API's URL, not its name: one API per protocol on each side pairs by protocol (renamed in place).
    "aws_apigatewayv2_api": [("name", "protocol_type"), ("protocol_type",)],
    "aws_apigatewayv2_stage": [("api_id", "name")],
    "aws_apigatewayv2_route": [("api_id", "route_key")],
    "aws_apigatewayv2_integration": [("api_id", "integration_type", "integration_uri"), ("api_id", "integration_type")],
    "aws_apigatewayv2_vpc_link": [("name",)],
    # One network load balancer on each side pairs by its type (as APIs by protocol); its name is then kept.
    "aws_lb": [("name",), ("load_balancer_type",)],
    # The WebSocket path's REST VPC link: by name, else by the load balancer it targets.
    "aws_api_gateway_vpc_link": [("name",), ("target_arns",)],
    "aws_cloudfront_origin_access_control": [("name",)],
    # The distribution in front of the frontend bucket: its hostname is what users and DNS hold.
    "aws_cloudfront_distribution": [("origin.0.domain_name",)],
    "aws_lb_target_group": [("name",), ("vpc_id", "port", "protocol")],
    "aws_lb_listener": [("load_balancer_arn", "port")],
    "aws_cloudtrail": [("name",)],
    "aws_backup_vault": [("name",)],
    "aws_cognito_user_pool": [("name",)],
}
# ARNs where the design writes a name: compared by the name.
_NAME_OF_ARN = {"cluster", "role"}
# Differences the application would notice: never kept, refused with the reason.
REFUSED: dict[str, dict[str, str]] = {
    "aws_dynamodb_table": {
        "hash_key": "the application reads and writes items by the table's key schema",
        "range_key": "the application reads and writes items by the table's key schema",
    },
    "aws_sqs_queue": {"fifo_queue": "producers and consumers use a FIFO queue differently (group IDs, deduplication)"},
}


# Replacements of a matched instance that harm nothing running, by construction: the
# design's value is taken (not kept) and the plan lists each with this reason. Any
# other replacement of a matched instance is kept away (the legacy value kept) or
# refused; ``--allow-replace STACK:ADDRESS`` accepts one reviewed address.
HARMLESS_REPLACEMENTS: dict[str, str] = {
    "aws_ecs_task_definition": (
        "a task definition revision is immutable: the change registers a new revision; the design sets skip_destroy, "
        "so the old revision stays registered and running tasks keep it until the service rolls to the new one "
        "(under its circuit breaker)"
    ),
    "aws_ecr_lifecycle_policy": (
        "a policy document on the repository: replacing it rewrites the expiry rules and touches no image "
        "(ECR evaluates lifecycle rules asynchronously, within 24 hours)"
    ),
}

# The seed's HCL project runs its API service under ECS's own deployment controller, which ECS can't change
# in place: the design is matched as rolling, and the migration file keeps it so until the cutover (README,
# "Moving to canary releases").
LEGACY_RELEASE_STRATEGY = "rolling"
