"""Which Terraform resource types are data-bearing: the single definition.

A resource is data-bearing when deleting or replacing it loses something an
apply cannot give back: stored data, an identity that others hold on to (a
key, a user pool, an account-wide trust), or a public endpoint whose address
changes; or live traffic, where a replacement is an outage. `tools.plan_guard`
refuses plans that delete or replace one, `tools.address_guard` holds each
to its reviewed address, and the stacks read the same set for
`lifecycle.prevent_destroy`, so the list lives here once, in plain Python (no
jsii import), below both the stacks and the tools that read it.
"""

from __future__ import annotations

DATA_BEARING_TYPES: frozenset[str] = frozenset(
    {
        # Stored data: a new resource starts empty.
        "aws_dynamodb_table",
        "aws_s3_bucket",
        "aws_efs_file_system",
        "aws_db_instance",
        "aws_rds_cluster",
        "aws_kinesis_stream",
        "aws_opensearch_domain",
        "aws_docdb_cluster",
        # Messages in flight and the images CI pushed: the queue's jobs and
        # the ECR tags that task definitions and rollbacks point at.
        "aws_sqs_queue",
        "aws_ecr_repository",
        # Records that exist nowhere else: logs and the audit trail (its
        # bucket is listed above), and the recovery points of a backup vault.
        "aws_cloudwatch_log_group",
        "aws_cloudtrail",
        "aws_backup_vault",
        # Secrets and keys: a replaced secret loses values set out of band; a
        # deleted KMS key makes everything encrypted with it unreadable.
        "aws_secretsmanager_secret",
        "aws_kms_key",
        # Identities: a new user pool has no users and new IDs; the account's
        # OIDC provider is shared by every deploy role that trusts it.
        "aws_cognito_user_pool",
        "aws_iam_openid_connect_provider",
        # Names and public endpoints that clients, DNS delegations or
        # allow-lists hold: a replacement gets a new ID, hostname or address.
        "aws_apigatewayv2_api",
        "aws_api_gateway_rest_api",
        "aws_apigatewayv2_domain_name",
        "aws_cloudfront_distribution",
        "aws_cognito_user_pool_domain",
        "aws_service_discovery_private_dns_namespace",
        "aws_route53_zone",
        "aws_eip",
        # Subscriptions: a replaced topic loses them, and email subscribers
        # must confirm again before an alarm reaches anyone.
        "aws_sns_topic",
        # Live traffic: the load balancers between the APIs' VPC links and the
        # tasks (the WebSocket NLB, the canary's release ALB), their listeners
        # and target groups. A replaced one drops every request until its
        # successor is wired and its targets are healthy: an outage. (The
        # release ALB's listener and groups are also what CodeDeploy shifts.)
        "aws_lb",
        "aws_lb_listener",
        "aws_lb_target_group",
    }
)


def is_data_bearing(resource_type: str) -> bool:
    """True when deleting or replacing a resource of this type loses data, identity or an endpoint, or drops live traffic."""
    return resource_type in DATA_BEARING_TYPES
