"""CloudWatch log groups with a retention, and the grant to write to one."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from constructs import Construct

from constructs_lib._validation import Problems
from constructs_lib.actions import KMS_LOGS_SERVICE_ACTIONS, LOGS_WRITE_ACTIONS
from constructs_lib.aws_context import AwsContext
from constructs_lib.encryption import KeyServicePrincipal
from constructs_lib.iam import Condition, ServiceRole, Statement
from constructs_lib.limits import LOG_RETENTION_DAYS


def logs_key_principal(scope: Construct, region: str | None = None) -> KeyServicePrincipal:
    """A key's statement that lets CloudWatch Logs encrypt this account's log groups of ``region`` (default: the stack's).

    Only for log groups of this account and region, by the encryption context
    that names the group, as AWS documents. The key is typed String in the
    Service Authorization Reference, so the test is StringLike (AWS's example
    uses ArnLike; on this value, a whole ARN ending in ``log-group:*``, both
    match the same requests) and IAM linters find no type mismatch.
    """
    context = AwsContext.of(scope)
    return KeyServicePrincipal(
        service=f"logs.{region or context.region}.{context.dns_suffix}",
        actions=KMS_LOGS_SERVICE_ACTIONS,
        conditions=(Condition("StringLike", "kms:EncryptionContext:aws:logs:arn", (context.arn("logs", "log-group:*", in_region=region),)),),
        sid="CloudWatchLogsEncryptsLogGroups",
    )


@dataclass(frozen=True, kw_only=True)
class LogGroupProps:
    """Inputs of a log group.

    name: 1-512 characters, such as ``/ecs/circle-of-trust-api``.
    retention_days: one of the values CloudWatch accepts (1, 3, 5, 7, 14,
        30, ... 3653). Default 30.
    kms_key_arn: customer-managed key. Default None (CloudWatch's own
        encryption).
    provider: an aws provider of another region (WAF's logs of a
        CloudFront web ACL live in us-east-1). Default None: the stack's.
    """

    name: str
    retention_days: int = 30
    kms_key_arn: str | None = None
    provider: TerraformProvider | None = None

    def __post_init__(self) -> None:
        problems = Problems("LogGroupProps")
        if not 1 <= len(self.name) <= 512:
            problems.add(f"name must be between 1 and 512 characters long, but {self.name!r} was provided")
        problems.one_of("retention_days", self.retention_days, LOG_RETENTION_DAYS)
        problems.raise_if_any()


class LogGroup(Construct):
    """One log group."""

    def __init__(self, scope: Construct, construct_id: str, props: LogGroupProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.log_group = CloudwatchLogGroup(
            self,
            "log-group",
            name=props.name,
            retention_in_days=props.retention_days,
            kms_key_id=props.kms_key_arn,
            provider=props.provider,
        )

    @property
    def log_group_name(self) -> str:
        return self.log_group.name

    @property
    def log_group_arn(self) -> str:
        return self.log_group.arn

    def grant_write(self, role: ServiceRole) -> None:
        """Create streams in this group and write events to them."""
        role.grant(
            f"{self.node.id}-write",
            [
                Statement(
                    sid="WriteLogs",
                    actions=LOGS_WRITE_ACTIONS,
                    # Streams are ARNs under the group: <group arn>:log-stream:<name>.
                    resources=(f"{self.log_group_arn}:log-stream:*",),
                )
            ],
        )
