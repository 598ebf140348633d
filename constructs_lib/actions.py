"""Every IAM action list the constructs grant, in one place.

Named grants (``queue.grant_send_messages(role)``) pick from these lists, so
a reviewer reads one file to see what any role can do. No wildcards: not
``*``, not ``service:*``, not ``kms:GenerateDataKey*``; each action is
spelled out, so a new action AWS adds is never granted silently.
"""

from __future__ import annotations

# -- ECR -------------------------------------------------------------------------
# Registry login. The only action in the project granted on resource "*":
# GetAuthorizationToken has no resource-level permissions.
ECR_AUTHORIZATION_ACTIONS = ("ecr:GetAuthorizationToken",)
# Pull one repository's images (what the ECS agent does with the execution role).
ECR_PULL_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
)
# Push images (the CI role of a later issue).
ECR_PUSH_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)

# -- ECS deploys (tools/ecs_deploy.py; the CI role of a later issue) -------------
# Plus iam:PassRole on the execution and task roles, for RegisterTaskDefinition.
ECS_DEPLOY_ACTIONS = (
    "ecs:DescribeServices",
    "ecs:DescribeTaskDefinition",
    "ecs:ListTagsForResource",  # reading a revision's tags (describe with include=TAGS)
    "ecs:ListTaskDefinitions",
    "ecs:RegisterTaskDefinition",
    "ecs:TagResource",  # registering with tags
    "ecs:UpdateService",
)

# -- CloudWatch Logs ----------------------------------------------------------------
# The awslogs driver creates a stream per task and writes to it.
LOGS_WRITE_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")

# -- Secrets Manager ------------------------------------------------------------------
SECRETS_READ_ACTIONS = ("secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue")

# -- SQS ---------------------------------------------------------------------------------
SQS_SEND_ACTIONS = ("sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage")
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
KMS_LOGS_SERVICE_ACTIONS = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
)
