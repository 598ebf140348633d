"""constructs_lib/actions.py: the one list of granted actions."""

from __future__ import annotations

import re

from constructs_lib import actions

LISTS = {name: value for name, value in vars(actions).items() if name.endswith("_ACTIONS")}


def test_every_list_is_a_tuple_of_service_prefixed_actions_without_wildcards():
    assert len(LISTS) >= 15
    for name, value in LISTS.items():
        assert isinstance(value, tuple) and value, name
        for action in value:
            assert re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9]+", action), (name, action)
        assert len(set(value)) == len(value), name


def test_lists_stay_within_their_service():
    for name, value in LISTS.items():
        service = {"ECR": "ecr", "ECS": "ecs", "LOGS": "logs", "SECRETS": "secretsmanager", "SQS": "sqs", "DYNAMODB": "dynamodb", "KMS": "kms", "S3": "s3", "SNS": "sns", "CLOUDFRONT": "cloudfront", "KEYVALUESTORE": "cloudfront-keyvaluestore", "IAM": "iam", "XRAY": "xray", "CODEDEPLOY": "codedeploy", "ELB": "elasticloadbalancing", "CLOUDWATCH": "cloudwatch"}[name.split("_")[0]]
        assert {action.split(":")[0] for action in value} == {service}, name


def test_consumers_cannot_send_and_readers_cannot_write():
    assert "sqs:SendMessage" not in actions.SQS_CONSUME_ACTIONS
    assert "sqs:DeleteMessage" not in actions.SQS_SEND_ACTIONS
    assert not set(actions.DYNAMODB_READ_DATA_ACTIONS) & set(actions.DYNAMODB_WRITE_DATA_ACTIONS)
    assert not any("Table" in action and "Describe" not in action for action in actions.DYNAMODB_READ_DATA_ACTIONS + actions.DYNAMODB_WRITE_DATA_ACTIONS)


def test_a_starter_cannot_stop_or_follow_and_codedeploys_role_cannot_update_services():
    """The ECR-push updater only starts deployments; CodeDeploy's role moves task sets, never a service's revision."""
    assert not set(actions.CODEDEPLOY_START_ACTIONS) & set(actions.CODEDEPLOY_FOLLOW_ACTIONS)
    assert "codedeploy:StopDeployment" not in actions.CODEDEPLOY_START_ACTIONS
    assert "ecs:UpdateService" not in actions.ECS_TASK_SET_ACTIONS
    assert all(action.startswith("elasticloadbalancing:Describe") for action in actions.ELB_DESCRIBE_ACTIONS)
