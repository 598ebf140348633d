"""constructs_lib/queue.py: the job queue, its DLQ, grants and metrics."""

from __future__ import annotations

import pytest
from cdktf import TerraformOutput

from constructs_lib.actions import SQS_CONSUME_ACTIONS, SQS_SEND_ACTIONS
from constructs_lib.iam import ServiceRole, ServiceRoleProps
from constructs_lib.queue import Queue, QueueProps
from tests.support import at, data_sources, logical_id, ref, resources, synth_construct

KEY = "arn:aws:kms:us-east-1:111122223333:key/queue"
QUEUES = {}


@pytest.fixture(scope="module")
def doc():
    def build(stack):
        jobs = Queue(
            stack,
            "jobs",
            QueueProps(name="cot-jobs", visibility_timeout_seconds=960, kms_key_arn=KEY, create_dlq=True, dlq_max_receive_count=3),
        )
        plain = Queue(stack, "plain", QueueProps(name="cot-plain"))
        QUEUES.update(jobs=jobs, plain=plain)
        api = ServiceRole(stack, "api", ServiceRoleProps(name="api", service="ecs-tasks.amazonaws.com"))
        worker = ServiceRole(stack, "worker", ServiceRoleProps(name="worker", service="ecs-tasks.amazonaws.com"))
        jobs.grant_send_messages(api)
        jobs.grant_consume_messages(worker)
        plain.grant_send_messages(worker)

    return synth_construct(build)


def _queue_ref(doc, path: str, attribute: str) -> str:
    return ref(doc, "aws_sqs_queue", logical_id(resources(doc, "aws_sqs_queue"), path), attribute)


def test_queue_has_the_visibility_timeout_long_polling_and_kms(doc):
    queue = at(resources(doc, "aws_sqs_queue"), "jobs/queue")
    assert queue["name"] == "cot-jobs"
    assert queue["visibility_timeout_seconds"] == 960
    assert queue["receive_wait_time_seconds"] == 20
    assert queue["message_retention_seconds"] == 345600
    assert (queue["kms_master_key_id"], queue["kms_data_key_reuse_period_seconds"]) == (KEY, 300)


def test_dlq_keeps_messages_14_days_encrypted_with_the_same_key(doc):
    dlq = at(resources(doc, "aws_sqs_queue"), "jobs/dlq")
    assert dlq["name"] == "cot-jobs-dlq"
    assert dlq["message_retention_seconds"] == 1209600
    assert dlq["kms_master_key_id"] == KEY


def test_redrive_policy_is_jsonencoded_with_the_receive_count(doc):
    policy = at(resources(doc, "aws_sqs_queue"), "jobs/queue")["redrive_policy"]
    dlq_arn = _queue_ref(doc, "jobs/dlq", "arn")[2:-1]  # the bare expression inside ${...}
    assert policy == '${jsonencode({"deadLetterTargetArn" = ' + dlq_arn + ', "maxReceiveCount" = 3})}'


def test_dlq_accepts_redrives_only_from_the_queue(doc):
    allow = at(resources(doc, "aws_sqs_queue_redrive_allow_policy"), "jobs/dlq-redrive-allow-policy")
    assert allow["queue_url"] == _queue_ref(doc, "jobs/dlq", "url")
    queue_arn = _queue_ref(doc, "jobs/queue", "arn")[2:-1]
    assert allow["redrive_allow_policy"] == '${jsonencode({"redrivePermission" = "byQueue", "sourceQueueArns" = [' + queue_arn + "]})}"


def test_without_a_key_or_dlq_the_queue_uses_sse_sqs_and_has_no_redrive(doc):
    queue = at(resources(doc, "aws_sqs_queue"), "plain/queue")
    assert queue["sqs_managed_sse_enabled"] is True
    assert "kms_master_key_id" not in queue and "redrive_policy" not in queue
    assert queue["visibility_timeout_seconds"] == 30
    assert len(resources(doc, "aws_sqs_queue")) == 3
    assert len(resources(doc, "aws_sqs_queue_redrive_allow_policy")) == 1
    assert QUEUES["plain"].dlq_arn is None and QUEUES["plain"].dlq_url is None and QUEUES["plain"].dlq_name is None


def test_grant_send_messages(doc):
    send, encrypt = at(data_sources(doc, "aws_iam_policy_document"), "api/jobs-send-policy-document")["statement"]
    assert send["actions"] == list(SQS_SEND_ACTIONS)
    assert send["resources"] == [_queue_ref(doc, "jobs/queue", "arn")]
    assert encrypt["actions"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert encrypt["resources"] == [KEY]
    assert encrypt["condition"][0]["variable"] == "kms:ViaService"
    assert encrypt["condition"][0]["values"][0].startswith("sqs.")


def test_grant_consume_messages(doc):
    consume, decrypt = at(data_sources(doc, "aws_iam_policy_document"), "worker/jobs-consume-policy-document")["statement"]
    assert consume["actions"] == list(SQS_CONSUME_ACTIONS)
    assert set(consume["actions"]) == {
        "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl",
    }  # fmt: skip
    assert consume["resources"] == [_queue_ref(doc, "jobs/queue", "arn")]
    assert (decrypt["actions"], decrypt["resources"]) == (["kms:Decrypt"], [KEY])


def test_grant_without_a_key_has_no_kms_statement(doc):
    statements = at(data_sources(doc, "aws_iam_policy_document"), "worker/plain-send-policy-document")["statement"]
    assert [s["sid"] for s in statements] == ["SendMessages"]


def test_metrics_name_the_queue(doc):
    jobs = QUEUES["jobs"]
    visible = jobs.metric_approximate_number_of_messages_visible()
    assert (visible.namespace, visible.metric_name, visible.statistic, visible.period_seconds) == (
        "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", 60,
    )  # fmt: skip
    assert set(visible.dimensions) == {"QueueName"}
    assert jobs.metric_approximate_number_of_messages_not_visible().metric_name == "ApproximateNumberOfMessagesNotVisible"
    assert jobs.metric_approximate_age_of_oldest_message().metric_name == "ApproximateAgeOfOldestMessage"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "cot jobs"}, "name must be 1-80 letters, digits, '-' and '_', but 'cot jobs' was provided"),
        ({"name": "x" * 77, "create_dlq": True}, "name must be at most 76 characters long with create_dlq"),
        ({"visibility_timeout_seconds": 43201}, "visibility_timeout_seconds must be between 0 and 43200, but 43201 was provided"),
        ({"message_retention_seconds": 59}, "message_retention_seconds must be between 60 and 1209600, but 59 was provided"),
        ({"receive_wait_time_seconds": 21}, "receive_wait_time_seconds must be between 0 and 20, but 21 was provided"),
        ({"kms_data_key_reuse_period_seconds": 59}, "kms_data_key_reuse_period_seconds must be between 60 and 86400, but 59 was provided"),
        ({"dlq_max_receive_count": 0}, "dlq_max_receive_count must be between 1 and 1000, but 0 was provided"),
        ({"dlq_message_retention_seconds": 1209601}, "dlq_message_retention_seconds must be between 60 and 1209600, but 1209601 was provided"),
    ],
)
def test_props_validation_messages(kwargs, message):
    with pytest.raises(ValueError, match="^QueueProps: ") as caught:
        QueueProps(**{"name": "cot-jobs", **kwargs})
    assert message in str(caught.value)



def test_dlq_metric_names_the_dlq_and_needs_one():
    def build(stack):
        queue = Queue(stack, "jobs", QueueProps(name="cot-jobs", create_dlq=True))
        build.messages = queue.metric_dlq_approximate_number_of_messages_visible()
        TerraformOutput(stack, "queue_name", value=build.messages.dimensions["QueueName"])
        with pytest.raises(ValueError, match="the queue has no DLQ"):
            Queue(stack, "plain", QueueProps(name="cot-plain")).metric_dlq_approximate_number_of_messages_visible()

    doc = synth_construct(build)
    messages = build.messages
    assert (messages.namespace, messages.metric_name, messages.statistic, messages.period_seconds) == (
        "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", 60,
    )  # fmt: skip
    assert doc["output"]["queue_name"]["value"] == _queue_ref(doc, "jobs/dlq", "name")
