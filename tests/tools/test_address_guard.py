"""tools/address_guard.py: data-bearing resources keep their reviewed addresses, or a moved block carries them."""

from __future__ import annotations

import copy
import json

import pytest

from tools.address_guard import ADDRESSES_FILE, check, main, read_reviewed, read_stacks, synthesized_list

STACK = {
    "resource": {
        "aws_dynamodb_table": {"jobs_table": {}},
        "aws_iam_role": {"worker_task_role": {}},
        "aws_sqs_queue": {"job_queue": {}, "job_queue_dlq": {}},
    }
}
REVIEWED = {"qa-data": ["aws_dynamodb_table.jobs_table", "aws_sqs_queue.job_queue", "aws_sqs_queue.job_queue_dlq"]}


def test_the_list_holds_only_data_bearing_types():
    assert synthesized_list({"qa-data": STACK, "qa-services": {"resource": {"aws_iam_role": {"r": {}}}}}) == REVIEWED


def test_an_unchanged_output_passes():
    assert check({"qa-data": STACK}, REVIEWED) == []


def test_a_renamed_table_fails_naming_the_address_and_the_fix():
    renamed = copy.deepcopy(STACK)
    renamed["resource"]["aws_dynamodb_table"] = {"tables_jobs": {}}
    problems = check({"qa-data": renamed}, REVIEWED)
    assert len(problems) == 2
    assert problems[0].startswith("qa-data: aws_dynamodb_table.jobs_table is gone from the stack, so Terraform would destroy it")
    assert 'move_from_id("aws_dynamodb_table.jobs_table")' in problems[0]
    assert problems[1].startswith("qa-data: aws_dynamodb_table.tables_jobs is data-bearing but not in data_addresses.json")


def test_a_moved_block_carries_the_address():
    renamed = copy.deepcopy(STACK)
    renamed["resource"]["aws_dynamodb_table"] = {"tables_jobs": {}}
    renamed["moved"] = [{"from": "aws_dynamodb_table.jobs_table", "to": "aws_dynamodb_table.tables_jobs"}]
    assert check({"qa-data": renamed}, REVIEWED) == []
    renamed["moved"] = [{"from": "aws_dynamodb_table.jobs_table", "to": "aws_dynamodb_table.elsewhere"}]
    assert any("has a moved block to aws_dynamodb_table.elsewhere" in p for p in check({"qa-data": renamed}, REVIEWED))


def test_a_resource_moved_to_another_layer_needs_a_state_move():
    data = copy.deepcopy(STACK)
    del data["resource"]["aws_sqs_queue"]["job_queue_dlq"]
    services = {"resource": {"aws_sqs_queue": {"job_queue_dlq": {}}}}
    problems = check({"qa-data": data, "qa-services": services}, REVIEWED)
    assert problems[0].startswith("qa-data: aws_sqs_queue.job_queue_dlq now belongs to stack qa-services; a moved block cannot cross states")
    assert "terraform state mv" in problems[0]


def test_the_committed_list_matches_the_synthesized_stacks(synth_dir):
    """The reviewed list is complete and every address on it is still there: the guard itself, on the real output."""
    stacks = read_stacks(synth_dir)
    reviewed = read_reviewed()
    assert check(stacks, reviewed) == []
    assert reviewed == synthesized_list(stacks)
    # What the issue names is on it, in the layer that keeps data.
    for environment in ("production", "staging"):
        data = set(reviewed[f"{environment}-data"])
        assert {"aws_dynamodb_table.jobs_table", "aws_dynamodb_table.conversations_table", "aws_s3_bucket.frontend_bucket",
                "aws_sqs_queue.job_queue", "aws_ecr_repository.api_repository", "aws_kms_key.tables_key",
                "aws_secretsmanager_secret.app_secret", "aws_service_discovery_private_dns_namespace.namespace",
                "aws_cloudwatch_log_group.api_log_group"} <= data
        assert {"aws_apigatewayv2_api.http_api", "aws_apigatewayv2_api.websocket_api"} <= set(reviewed[f"{environment}-edge"])


def test_the_command_line_check_and_its_exit_codes(synth_dir, tmp_path, capsys):
    assert main(["check", "--output", str(synth_dir)]) == 0
    assert "every reviewed data-bearing address is where it was" in capsys.readouterr().out
    listed = json.loads(ADDRESSES_FILE.read_text())
    listed["production-data"].append("aws_dynamodb_table.gone")
    edited = tmp_path / "addresses.json"
    edited.write_text(json.dumps(listed))
    assert main(["check", "--output", str(synth_dir), "--addresses", str(edited)]) == 1
    assert "production-data: aws_dynamodb_table.gone is gone from the stack" in capsys.readouterr().out
    assert main(["check", "--output", str(tmp_path / "none")]) == 2
    assert "no synthesized stacks" in capsys.readouterr().err
