"""DynamoDB tables: the app's keys, PITR, KMS, deletion protection, capacity.

The app's two tables (names ``<prefix>-conversations`` and ``<prefix>-jobs``):

``conversations``: one item per message of a conversation.
    partition key ``conversation_id`` (S): a conversation's messages live
    together, so its history is one Query;
    sort key ``created_at`` (S, ISO-8601 UTC with a unique suffix, such as
    ``2026-01-15T10:00:00.123Z#<message id>``): the Query returns them in
    order, newest first with ScanIndexForward=false, and a page is a range.
``jobs``: one item per background job.
    partition key ``job_id`` (S): the API writes the item when it enqueues
    the job, the worker updates it by id, the client polls it by id;
    ``expires_at`` (N, epoch seconds) is the TTL attribute, so finished jobs
    expire without a sweeper.

Billing: PAY_PER_REQUEST by default. The load is a chat app's (bursty, low
between bursts, unknown before launch): on-demand follows bursts at once and
costs nothing while idle, whereas provisioned capacity plus autoscaling
reacts in minutes (throttling the burst) and bills the floor all month.
PROVISIONED with target-tracking autoscaling remains a config switch for
a steady, well-known load, where it is cheaper.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
    DynamodbTableTtl,
)
from constructs import Construct

from constructs_lib._validation import Problems
from constructs_lib.actions import (
    DYNAMODB_READ_DATA_ACTIONS,
    DYNAMODB_WRITE_DATA_ACTIONS,
    KMS_DYNAMODB_READ_ACTIONS,
    KMS_DYNAMODB_WRITE_ACTIONS,
)
from constructs_lib.encryption import key_statements
from constructs_lib.iam import ServiceRole, Statement
from constructs_lib.limits import DYNAMODB_BILLING_MODES, DYNAMODB_MAX_CAPACITY_UNITS
from constructs_lib.metrics import Metric
from constructs_lib.scaling import ScalableTargetProps, TargetTracking, TargetTrackingProps, dynamodb_table_resource_id

BILLING_MODES = DYNAMODB_BILLING_MODES
MAX_CAPACITY_UNITS = DYNAMODB_MAX_CAPACITY_UNITS
METRIC_NAMESPACE = "AWS/DynamoDB"
_NAME = r"[A-Za-z0-9_.-]{3,255}"


@dataclass(frozen=True)
class KeyAttribute:
    """A key attribute: name and type (S string, N number, B binary)."""

    name: str
    type: str = "S"


@dataclass(frozen=True, kw_only=True)
class TableProps:
    """Inputs of a table.

    name: 3-255 of letters, digits and ``_ . -``.
    partition_key: the hash key.
    sort_key: the range key. Default None.
    ttl_attribute: number attribute holding an expiry (epoch seconds).
        Default None (no TTL).
    billing_mode: PAY_PER_REQUEST or PROVISIONED. Default PAY_PER_REQUEST
        (see the module docstring).
    min_read_capacity_units, max_read_capacity_units: PROVISIONED only;
        autoscaling bounds, 1-40000, min <= max. Default 5 and 100.
    min_write_capacity_units, max_write_capacity_units: the same for writes.
        Default 5 and 100.
    target_utilization_percent: PROVISIONED only; consumed/provisioned
        capacity autoscaling aims at, 20-90. Default 70.
    kms_key_arn: customer-managed key. Default None (an AWS owned key).
    point_in_time_recovery: continuous backups, restorable to any second of
        the last 35 days. Default True.
    deletion_protection: refuse DeleteTable. Default True: a table is the
        app's data, and a destroy or a replacing plan must not delete it
        without someone turning this off first.
    """

    name: str
    partition_key: KeyAttribute
    sort_key: KeyAttribute | None = None
    ttl_attribute: str | None = None
    billing_mode: str = "PAY_PER_REQUEST"
    min_read_capacity_units: int = 5
    max_read_capacity_units: int = 100
    min_write_capacity_units: int = 5
    max_write_capacity_units: int = 100
    target_utilization_percent: int = 70
    kms_key_arn: str | None = None
    point_in_time_recovery: bool = True
    deletion_protection: bool = True

    def __post_init__(self) -> None:
        problems = Problems("TableProps")
        problems.matches("name", self.name, _NAME, "3-255 of letters, digits and _ . -")
        for label, key in (("partition_key", self.partition_key), ("sort_key", self.sort_key)):
            if key is not None:
                problems.one_of(f"{label}.type", key.type, ("S", "N", "B"))
        problems.one_of("billing_mode", self.billing_mode, BILLING_MODES)
        if self.billing_mode == "PROVISIONED":
            for kind in ("read", "write"):
                low = getattr(self, f"min_{kind}_capacity_units")
                high = getattr(self, f"max_{kind}_capacity_units")
                problems.between(f"max_{kind}_capacity_units", high, 1, MAX_CAPACITY_UNITS)
                problems.between(f"min_{kind}_capacity_units", low, 1, max(1, min(high, MAX_CAPACITY_UNITS)))
            problems.between("target_utilization_percent", self.target_utilization_percent, 20, 90)
        problems.raise_if_any()

    @property
    def provisioned(self) -> bool:
        return self.billing_mode == "PROVISIONED"


class Table(Construct):
    """One table; with PROVISIONED billing, read and write autoscaling too."""

    def __init__(self, scope: Construct, construct_id: str, props: TableProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        keys = [key for key in (props.partition_key, props.sort_key) if key is not None]
        self.table = DynamodbTable(
            self,
            "table",
            name=props.name,
            billing_mode=props.billing_mode,
            hash_key=props.partition_key.name,
            range_key=props.sort_key.name if props.sort_key else None,
            attribute=[DynamodbTableAttribute(name=key.name, type=key.type) for key in keys],
            read_capacity=props.min_read_capacity_units if props.provisioned else None,
            write_capacity=props.min_write_capacity_units if props.provisioned else None,
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=props.point_in_time_recovery),
            server_side_encryption=DynamodbTableServerSideEncryption(
                enabled=props.kms_key_arn is not None, kms_key_arn=props.kms_key_arn
            ),
            deletion_protection_enabled=props.deletion_protection,
            ttl=DynamodbTableTtl(attribute_name=props.ttl_attribute, enabled=True) if props.ttl_attribute else None,
            # Autoscaling owns the provisioned capacity; Terraform sets only the start.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["read_capacity", "write_capacity"]) if props.provisioned else None,
        )
        self.read_scaling: TargetTracking | None = None
        self.write_scaling: TargetTracking | None = None
        if props.provisioned:
            self.read_scaling = self._autoscaling("Read")
            self.write_scaling = self._autoscaling("Write")

    def _autoscaling(self, kind: str) -> TargetTracking:
        lower = kind.lower()
        return TargetTracking(
            self,
            f"{lower}-scaling",
            TargetTrackingProps(
                name=f"{self.props.name}-{lower}-capacity",
                target=ScalableTargetProps(
                    service_namespace="dynamodb",
                    resource_id=dynamodb_table_resource_id(self.table.name),
                    scalable_dimension=f"dynamodb:table:{kind}CapacityUnits",
                    min_capacity=getattr(self.props, f"min_{lower}_capacity_units"),
                    max_capacity=getattr(self.props, f"max_{lower}_capacity_units"),
                ),
                predefined_metric_type=f"DynamoDB{kind}CapacityUtilization",
                target_value_percent=self.props.target_utilization_percent,
                scale_in_cooldown_seconds=300,
                scale_out_cooldown_seconds=60,
            ),
        )

    # -- attributes --------------------------------------------------------------------
    @property
    def table_name(self) -> str:
        return self.table.name

    @property
    def table_arn(self) -> str:
        return self.table.arn

    # -- metrics -----------------------------------------------------------------------
    def metric(self, metric_name: str, *, statistic: str = "Sum", period_seconds: int = 300) -> Metric:
        """A metric of this table (``AWS/DynamoDB``, dimension ``TableName``), 5-minute period.

        DynamoDB publishes most table metrics once a minute but throttling
        metrics only when there was an event, so 5-minute sums read steadier.
        """
        return Metric(
            namespace=METRIC_NAMESPACE,
            metric_name=metric_name,
            dimensions={"TableName": self.table_name},
            statistic=statistic,
            period_seconds=period_seconds,
        )

    def metric_read_throttle_events(self) -> Metric:
        """Reads DynamoDB refused for exceeding capacity (the SDK retries them)."""
        return self.metric("ReadThrottleEvents")

    def metric_write_throttle_events(self) -> Metric:
        """Writes DynamoDB refused for exceeding capacity (the SDK retries them)."""
        return self.metric("WriteThrottleEvents")

    def metric_consumed_read_capacity_units(self) -> Metric:
        """Read capacity units used (what on-demand bills)."""
        return self.metric("ConsumedReadCapacityUnits")

    def metric_consumed_write_capacity_units(self) -> Metric:
        """Write capacity units used (what on-demand bills)."""
        return self.metric("ConsumedWriteCapacityUnits")

    # -- grants ------------------------------------------------------------------------
    def _data_resources(self) -> tuple[str, ...]:
        # The tables have no secondary indexes; add "<arn>/index/<name>" with the first.
        return (self.table_arn,)

    def grant_read_data(self, role: ServiceRole) -> None:
        """Get, query and scan items."""
        role.grant(
            f"{self.node.id}-read-data",
            [
                Statement(sid="ReadItems", actions=DYNAMODB_READ_DATA_ACTIONS, resources=self._data_resources()),
                *key_statements(self, self.props.kms_key_arn, KMS_DYNAMODB_READ_ACTIONS, via_service="dynamodb", sid="DecryptItems"),
            ],
        )

    def grant_read_write_data(self, role: ServiceRole) -> None:
        """Read, put, update and delete items."""
        role.grant(
            f"{self.node.id}-read-write-data",
            [
                Statement(
                    sid="ReadWriteItems",
                    actions=DYNAMODB_READ_DATA_ACTIONS + DYNAMODB_WRITE_DATA_ACTIONS,
                    resources=self._data_resources(),
                ),
                *key_statements(self, self.props.kms_key_arn, KMS_DYNAMODB_WRITE_ACTIONS, via_service="dynamodb", sid="EncryptDecryptItems"),
            ],
        )


# The app's key schemas (see the module docstring).
CONVERSATIONS_PARTITION_KEY = KeyAttribute("conversation_id")
CONVERSATIONS_SORT_KEY = KeyAttribute("created_at")
JOBS_PARTITION_KEY = KeyAttribute("job_id")
JOBS_TTL_ATTRIBUTE = "expires_at"
