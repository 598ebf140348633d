"""An SQS queue with an optional dead-letter queue, encrypted with KMS.

A message that fails ``dlq_max_receive_count`` times moves to the DLQ,
which keeps it 14 days (the SQS maximum) for inspection and redrive. The
DLQ's redrive allow policy accepts messages only from this queue.

The visibility timeout must outlast the longest job a consumer runs: while
a job runs its message is invisible, and if the timeout ran out first a
second worker would receive the same message and run the job twice. The
config checks ``queue_visibility_timeout_seconds > worker_job_timeout_seconds``.

JSON attributes (redrive policies) are built with ``Fn.jsonencode`` so the
tokens inside stay valid in both the JSON and the HCL output.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from cdktf_cdktf_provider_aws.sqs_queue_policy import SqsQueuePolicy
from cdktf_cdktf_provider_aws.sqs_queue_redrive_allow_policy import SqsQueueRedriveAllowPolicy
from constructs import Construct

from constructs_lib._validation import Problems
from constructs_lib.actions import KMS_DECRYPT_ACTIONS, KMS_SQS_SEND_ACTIONS, SQS_CONSUME_ACTIONS, SQS_SEND_ACTIONS, SQS_SERVICE_SEND_ACTIONS
from constructs_lib.encryption import key_statements
from constructs_lib.iam import ServiceRole, Statement
from constructs_lib.limits import SQS_MAX_VISIBILITY_TIMEOUT_SECONDS
from constructs_lib.metrics import Metric

MAX_RETENTION_SECONDS = 14 * 24 * 3600  # 1,209,600: the SQS maximum
METRIC_NAMESPACE = "AWS/SQS"
_NAME = r"[A-Za-z0-9_-]{1,80}"


@dataclass(frozen=True, kw_only=True)
class QueueProps:
    """Inputs of a standard queue.

    name: 1-80 letters, digits, '-' and '_'. The DLQ is ``<name>-dlq``.
    visibility_timeout_seconds: 0-43200. Default 30 (the SQS default); set
        it above the longest time a consumer holds a message.
    message_retention_seconds: 60-1209600. Default 345600 (4 days, SQS's).
    receive_wait_time_seconds: long polling, 0-20. Default 20: fewer empty
        receives, so fewer requests and lower cost for idle workers.
    kms_key_arn: customer-managed key for SSE-KMS on both queues. Default
        None (SSE-SQS, still encrypted at rest).
    kms_data_key_reuse_period_seconds: 60-86400. Default 300 (SQS's).
    create_dlq: add a dead-letter queue. Default False.
    dlq_max_receive_count: receives before a message moves to the DLQ,
        1-1000. Default 5.
    dlq_message_retention_seconds: 60-1209600. Default 1209600 (14 days),
        the longest, to leave time to look at failures.
    """

    name: str
    visibility_timeout_seconds: int = 30
    message_retention_seconds: int = 345600
    receive_wait_time_seconds: int = 20
    kms_key_arn: str | None = None
    kms_data_key_reuse_period_seconds: int = 300
    create_dlq: bool = False
    dlq_max_receive_count: int = 5
    dlq_message_retention_seconds: int = MAX_RETENTION_SECONDS

    def __post_init__(self) -> None:
        problems = Problems("QueueProps")
        problems.matches("name", self.name, _NAME, "1-80 letters, digits, '-' and '_'")
        if self.create_dlq and len(self.name) > 76:
            problems.add(f"name must be at most 76 characters long with create_dlq (the DLQ adds '-dlq'), but {self.name!r} was provided")
        problems.between("visibility_timeout_seconds", self.visibility_timeout_seconds, 0, SQS_MAX_VISIBILITY_TIMEOUT_SECONDS)
        problems.between("message_retention_seconds", self.message_retention_seconds, 60, MAX_RETENTION_SECONDS)
        problems.between("receive_wait_time_seconds", self.receive_wait_time_seconds, 0, 20)
        problems.between("kms_data_key_reuse_period_seconds", self.kms_data_key_reuse_period_seconds, 60, 86400)
        problems.between("dlq_max_receive_count", self.dlq_max_receive_count, 1, 1000)
        problems.between("dlq_message_retention_seconds", self.dlq_message_retention_seconds, 60, MAX_RETENTION_SECONDS)
        problems.raise_if_any()


class Queue(Construct):
    """A standard queue and, with ``create_dlq``, its dead-letter queue."""

    def __init__(self, scope: Construct, construct_id: str, props: QueueProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.dlq: SqsQueue | None = None
        self._resource_policy: SqsQueuePolicy | None = None
        redrive_policy = None
        if props.create_dlq:
            self.dlq = SqsQueue(
                self,
                "dlq",
                name=f"{props.name}-dlq",
                message_retention_seconds=props.dlq_message_retention_seconds,
                **self._encryption(),
            )
            redrive_policy = Fn.jsonencode(
                {"deadLetterTargetArn": self.dlq.arn, "maxReceiveCount": props.dlq_max_receive_count}
            )
        self.queue = SqsQueue(
            self,
            "queue",
            name=props.name,
            visibility_timeout_seconds=props.visibility_timeout_seconds,
            message_retention_seconds=props.message_retention_seconds,
            receive_wait_time_seconds=props.receive_wait_time_seconds,
            redrive_policy=redrive_policy,
            **self._encryption(),
        )
        if self.dlq is not None:
            # A separate resource: inline on the DLQ it would reference the
            # queue that references the DLQ (a cycle).
            SqsQueueRedriveAllowPolicy(
                self,
                "dlq-redrive-allow-policy",
                queue_url=self.dlq.url,
                redrive_allow_policy=Fn.jsonencode(
                    {"redrivePermission": "byQueue", "sourceQueueArns": [self.queue.arn]}
                ),
            )

    def _encryption(self) -> dict:
        if self.props.kms_key_arn is None:
            return {"sqs_managed_sse_enabled": True}
        return {
            "kms_master_key_id": self.props.kms_key_arn,
            "kms_data_key_reuse_period_seconds": self.props.kms_data_key_reuse_period_seconds,
        }

    # -- attributes --------------------------------------------------------------------
    @property
    def queue_url(self) -> str:
        return self.queue.url

    @property
    def queue_arn(self) -> str:
        return self.queue.arn

    @property
    def queue_name(self) -> str:
        return self.queue.name

    @property
    def dlq_url(self) -> str | None:
        return self.dlq.url if self.dlq else None

    @property
    def dlq_arn(self) -> str | None:
        return self.dlq.arn if self.dlq else None

    @property
    def dlq_name(self) -> str | None:
        return self.dlq.name if self.dlq else None

    # -- metrics -------------------------------------------------------------------------
    def metric(self, metric_name: str, *, statistic: str = "Maximum") -> Metric:
        """A metric of this queue (``AWS/SQS``, dimension ``QueueName``), 1-minute period."""
        return Metric(
            namespace=METRIC_NAMESPACE,
            metric_name=metric_name,
            dimensions={"QueueName": self.queue_name},
            statistic=statistic,
        )

    def metric_approximate_number_of_messages_visible(self) -> Metric:
        """Messages waiting to be received (the backlog)."""
        return self.metric("ApproximateNumberOfMessagesVisible")

    def metric_approximate_number_of_messages_not_visible(self) -> Metric:
        """Messages received but not yet deleted (jobs in flight)."""
        return self.metric("ApproximateNumberOfMessagesNotVisible")

    def metric_approximate_age_of_oldest_message(self) -> Metric:
        """Seconds the oldest waiting message has waited."""
        return self.metric("ApproximateAgeOfOldestMessage")

    def metric_dlq_approximate_number_of_messages_visible(self) -> Metric:
        """Messages in the dead-letter queue (each one a job that failed ``dlq_max_receive_count`` times)."""
        if self.dlq is None:
            raise ValueError(f"{self.node.path}: the queue has no DLQ (create_dlq is False)")
        return Metric(
            namespace=METRIC_NAMESPACE,
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": self.dlq.name},
            statistic="Maximum",
        )

    # -- grants --------------------------------------------------------------------------
    def grant_send_messages(self, role: ServiceRole) -> None:
        """Send messages to the queue (and encrypt them)."""
        role.grant(
            f"{self.node.id}-send",
            [
                Statement(sid="SendMessages", actions=SQS_SEND_ACTIONS, resources=(self.queue_arn,)),
                *key_statements(self, self.props.kms_key_arn, KMS_SQS_SEND_ACTIONS, via_service="sqs", sid="EncryptMessages"),
            ],
        )

    def grant_send_messages_from_service(self, service: str, *, source_arn: str, scope: Construct | None = None) -> SqsQueuePolicy:
        """Let an AWS service send to this queue on behalf of one resource only.

        Writes the queue's resource policy: ``sqs:SendMessage`` for the service
        principal ``service`` (such as ``events.amazonaws.com``) when
        ``aws:SourceArn`` equals ``source_arn`` (such as the EventBridge rule
        whose target this queue is the DLQ of). A queue has one resource
        policy, so this can be called once. With a customer-managed key, the
        key policy must also let the service use the key (see
        ``constructs_lib/encryption.py``). ``scope`` puts the policy in
        another construct: the source's, when it lives in another layer
        (the queue's layer must not read the layer above it).
        """
        if self._resource_policy is not None:
            raise ValueError(f"{self.node.path}: the queue already has its resource policy (one per queue)")
        owner = scope or self
        document = DataAwsIamPolicyDocument(
            owner,
            "queue-policy-document",
            statement=[
                DataAwsIamPolicyDocumentStatement(
                    sid="ServiceSendsForOneSource",
                    effect="Allow",
                    principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=[service])],
                    actions=list(SQS_SERVICE_SEND_ACTIONS),
                    resources=[self.queue_arn],
                    condition=[DataAwsIamPolicyDocumentStatementCondition(test="ArnEquals", variable="aws:SourceArn", values=[source_arn])],
                )
            ],
        )
        self._resource_policy = SqsQueuePolicy(owner, "queue-policy", queue_url=self.queue_url, policy=document.json)
        return self._resource_policy

    def grant_consume_messages(self, role: ServiceRole) -> None:
        """Receive, delete and extend the visibility of messages (and decrypt them)."""
        role.grant(
            f"{self.node.id}-consume",
            [
                Statement(sid="ConsumeMessages", actions=SQS_CONSUME_ACTIONS, resources=(self.queue_arn,)),
                *key_statements(self, self.props.kms_key_arn, KMS_DECRYPT_ACTIONS, via_service="sqs", sid="DecryptMessages"),
            ],
        )
