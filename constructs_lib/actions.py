"""Every IAM action list the constructs grant, in one place.

Named grants (``queue.grant_send_messages(role)``) pick from these lists, so
a reviewer reads one file to see what any role can do. No wildcards: not
``*``, not ``service:*``, not ``kms:GenerateDataKey*``; each action is
spelled out, so a new action AWS adds is never granted silently.
"""

from __future__ import annotations

# -- ECR -------------------------------------------------------------------------
# Registry login, granted on resource "*": GetAuthorizationToken has no
# resource-level permissions (neither have ECS_TASK_DEFINITION_READ_ACTIONS,
# ECS_REGISTER_TASK_DEFINITION_ACTIONS and XRAY_WRITE_ACTIONS; nothing else is
# granted on "*").
ECR_AUTHORIZATION_ACTIONS = ("ecr:GetAuthorizationToken",)
# Pull one repository's images (what the ECS agent does with the execution role).
ECR_PULL_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
)
# Push images (the GitHub Actions deploy role, constructs_lib/github_oidc.py).
ECR_PUSH_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)

# Whether a commit's image is already pushed: tags are IMMUTABLE, so a re-run
# of a deploy workflow skips the push instead of failing on it. The ECR-push
# updater reads push times with it, so an older push never replaces a newer one.
ECR_DESCRIBE_IMAGES_ACTIONS = ("ecr:DescribeImages",)

# -- ECS deploys (tools/ecs_deploy.py; the GitHub Actions deploy role) -----------
# Every ECS call of tools/ecs_deploy.py, grouped below by the resources IAM lets
# them name (FargateService.grant_deploy). Plus iam:PassRole on the execution
# and task roles, for RegisterTaskDefinition.
ECS_DEPLOY_ACTIONS = (
    "ecs:DescribeServices",
    "ecs:DescribeTaskDefinition",
    "ecs:ListTagsForResource",  # reading a revision's tags (describe with include=TAGS)
    "ecs:ListTaskDefinitions",
    "ecs:RegisterTaskDefinition",
    "ecs:TagResource",  # registering with tags
    "ecs:UpdateService",
)
# On the service's ARN.
ECS_SERVICE_DEPLOY_ACTIONS = ("ecs:DescribeServices", "ecs:UpdateService")
ECS_SERVICE_DESCRIBE_ACTIONS = ("ecs:DescribeServices",)
# Granted with an ``ecs:task-definition`` condition: the service may be pointed at its own family only.
ECS_SERVICE_UPDATE_ACTIONS = ("ecs:UpdateService",)
# No resource-level permissions (IAM service authorization reference: no
# resource type for these actions), so on "*".
ECS_TASK_DEFINITION_READ_ACTIONS = ("ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions")
# On the family's revisions (the reference's task-definition* resource type),
# and narrowed further by a condition on the request's tags.
ECS_REGISTER_TASK_DEFINITION_ACTIONS = ("ecs:RegisterTaskDefinition",)
# On the family's revisions (task-definition/<family>:*).
ECS_TASK_DEFINITION_TAGS_READ_ACTIONS = ("ecs:ListTagsForResource",)
# Tagging at registration, only with ecs:CreateAction = RegisterTaskDefinition.
ECS_TAG_ON_REGISTER_ACTIONS = ("ecs:TagResource",)

# -- IAM -----------------------------------------------------------------------------
# Handing the task and execution roles to ECS in a new task-definition
# revision (always with iam:PassedToService = ecs-tasks.amazonaws.com).
IAM_PASS_ROLE_ACTIONS = ("iam:PassRole",)

# -- CodeDeploy canary releases (constructs_lib/release.py) -------------------------
# What tools.ecs_deploy calls to release through one deployment group, on the
# group's ARN where the Service Authorization Reference gives the action that
# resource type (deploymentgroup:<application>/<group>): starting one (and
# naming the one in progress when CreateDeployment is refused) ...
CODEDEPLOY_START_ACTIONS = ("codedeploy:CreateDeployment", "codedeploy:ListDeployments")
# ... and following it (deploy --wait) ...
CODEDEPLOY_FOLLOW_ACTIONS = ("codedeploy:GetDeployment", "codedeploy:GetDeploymentGroup")
# ... and reading its targets (the task sets) and stopping it (rollback), which
# the reference gives no resource type and no condition key: "*" or nothing.
CODEDEPLOY_TARGET_AND_STOP_ACTIONS = (
    "codedeploy:GetDeploymentTarget",
    "codedeploy:ListDeploymentTargets",
    "codedeploy:StopDeployment",
)
# CreateDeployment reads the group's configuration (deploymentconfig:<name>) ...
CODEDEPLOY_DEPLOYMENT_CONFIG_READ_ACTIONS = ("codedeploy:GetDeploymentConfig",)
# ... and registers the AppSpec revision with the application (application:<name>), as
# aws-actions/amazon-ecs-deploy-task-definition documents for CodeDeploy deployments.
CODEDEPLOY_APPLICATION_REVISION_ACTIONS = ("codedeploy:RegisterApplicationRevision",)
# What CodeDeploy's service role does to the ECS service (AWSCodeDeployRoleForECS, narrowed),
# by the resource each action takes in the Service Authorization Reference:
# CreateTaskSet takes none (the task set does not exist yet): on "*", with the
# ecs:service condition naming the service;
ECS_CREATE_TASK_SET_ACTIONS = ("ecs:CreateTaskSet",)
# UpdateServicePrimaryTaskSet takes the service;
ECS_PRIMARY_TASK_SET_ACTIONS = ("ecs:UpdateServicePrimaryTaskSet",)
# DeleteTaskSet takes the task set (task-set/<cluster>/<service>/<ID>).
ECS_DELETE_TASK_SET_ACTIONS = ("ecs:DeleteTaskSet",)
ECS_TASK_SET_ACTIONS = ECS_CREATE_TASK_SET_ACTIONS + ECS_PRIMARY_TASK_SET_ACTIONS + ECS_DELETE_TASK_SET_ACTIONS
# No resource-level permissions (Service Authorization Reference), so on "*".
ELB_DESCRIBE_ACTIONS = (
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
)
# On the production listener only.
ELB_MODIFY_LISTENER_ACTIONS = ("elasticloadbalancing:ModifyListener",)
# On the release alarms only.
CLOUDWATCH_DESCRIBE_ALARMS_ACTIONS = ("cloudwatch:DescribeAlarms",)

# -- CloudWatch Logs ----------------------------------------------------------------
# The awslogs driver creates a stream per task and writes to it.
LOGS_WRITE_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")

# -- Secrets Manager ------------------------------------------------------------------
SECRETS_READ_ACTIONS = ("secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue")
# What reads a secret's value (BatchGetSecretValue needs GetSecretValue on each secret too).
SECRETS_VALUE_ACTIONS = ("secretsmanager:GetSecretValue",)

# -- SQS ---------------------------------------------------------------------------------
SQS_SEND_ACTIONS = ("sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage")
# A service principal delivering to a queue (its resource policy), such as
# EventBridge parking a rule's undeliverable events in a DLQ.
SQS_SERVICE_SEND_ACTIONS = ("sqs:SendMessage",)
SQS_CONSUME_ACTIONS = (
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:ReceiveMessage",
)

# -- DynamoDB (items only; no table management, no streams) ------------------------
DYNAMODB_READ_DATA_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
)
DYNAMODB_WRITE_DATA_ACTIONS = (
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)

# -- KMS, in identity policies (always with kms:ViaService, see encryption.py) -----
# Reading data a service encrypted under the key.
KMS_DECRYPT_ACTIONS = ("kms:Decrypt",)
# SQS producers: a data key per reuse period, and Decrypt to reuse a cached one.
KMS_SQS_SEND_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
# DynamoDB readers and writers (what aws-cdk grants, wildcards spelled out).
KMS_DYNAMODB_READ_ACTIONS = ("kms:Decrypt", "kms:DescribeKey")
KMS_DYNAMODB_WRITE_ACTIONS = (
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)

# -- KMS, in key policies ------------------------------------------------------------
# What the account (root) may do with a key: administer it and use it. IAM
# policies then decide which principal of the account does which part, so
# this statement delegates to IAM exactly like AWS's default key policy, but
# without the "kms:*" wildcard. kms:PutKeyPolicy is in the list: without it
# the account could never change the key policy again.
KMS_KEY_ACCOUNT_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)
# DynamoDB reads a customer-managed key's metadata to watch its state
# (AWS's documented key policy for DynamoDB tables).
KMS_DYNAMODB_SERVICE_ACTIONS = ("kms:DescribeKey",)

# CloudWatch Logs encrypting and decrypting its log groups' data with a
# customer-managed key (the key policy statement AWS documents for logs).
# AWS's example also lists kms:Describe*; the statement's condition is on the
# request's encryption context, which DescribeKey never carries (the Service
# Authorization Reference lists no kms:EncryptionContext keys for it), so
# there it could never match and is left out.
KMS_LOGS_SERVICE_ACTIONS = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
)

# CloudTrail encrypting log and digest files (AWS documents
# "kms:GenerateDataKey*"; CloudTrail calls GenerateDataKey) and reading the
# key's metadata when a trail is created or updated.
KMS_CLOUDTRAIL_ENCRYPT_ACTIONS = ("kms:GenerateDataKey",)
KMS_CLOUDTRAIL_DESCRIBE_ACTIONS = ("kms:DescribeKey",)
# CloudWatch alarms publishing to an SNS topic encrypted with a
# customer-managed key (AWS documents "kms:GenerateDataKey*" and kms:Decrypt).
KMS_CLOUDWATCH_ALARMS_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")

# -- S3, in bucket policies ---------------------------------------------------------
# CloudTrail checks the bucket's ACL, then writes log files (AWS's documented
# bucket policy for trails).
S3_CLOUDTRAIL_ACL_CHECK_ACTIONS = ("s3:GetBucketAcl",)
S3_CLOUDTRAIL_WRITE_ACTIONS = ("s3:PutObject",)

# -- SNS, in topic policies ------------------------------------------------------------
SNS_PUBLISH_ACTIONS = ("sns:Publish",)

# -- S3 (the frontend upload: `aws s3 sync --delete`) -------------------------------
S3_LIST_BUCKET_ACTIONS = ("s3:ListBucket",)
S3_SYNC_OBJECT_ACTIONS = ("s3:DeleteObject", "s3:GetObject", "s3:PutObject")

# -- CloudFront (invalidating the frontend after an upload, and waiting for it) -----
CLOUDFRONT_INVALIDATION_ACTIONS = ("cloudfront:CreateInvalidation", "cloudfront:GetInvalidation")

# -- The origin secret's rotation (tools.origin_secret) --------------------------------
SECRETS_ROTATE_ACTIONS = ("secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue")
KMS_SECRETS_ROTATE_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
KEYVALUESTORE_ROTATE_ACTIONS = (
    "cloudfront-keyvaluestore:DescribeKeyValueStore",
    "cloudfront-keyvaluestore:GetKey",
    "cloudfront-keyvaluestore:ListKeys",
    "cloudfront-keyvaluestore:PutKey",
)

# -- Terraform state, read only (`terraform output` in the deploy workflows) ---------
# The state object, and the S3 backend's digest item in the lock table.
S3_READ_STATE_ACTIONS = ("s3:GetObject",)
DYNAMODB_READ_STATE_DIGEST_ACTIONS = ("dynamodb:GetItem",)

# -- X-Ray (active tracing of a Lambda function; no resource-level permissions) ------
XRAY_WRITE_ACTIONS = ("xray:PutTelemetryRecords", "xray:PutTraceSegments")

# -- KMS, in key policies: EventBridge sending to an SSE-KMS dead-letter queue ------
KMS_EVENTS_SQS_SERVICE_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
