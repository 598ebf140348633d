"""AWS Backup of the tables: a KMS-encrypted vault, a daily plan, a selection.

Point-in-time recovery already restores a table to any second of the last
35 days. AWS Backup adds what PITR does not: recovery points that outlive
the table (PITR goes with a deleted table's settings), a retention longer
than 35 days, and one place to see and audit every backup job.

* Vault ``<name>``, encrypted with the ``backup`` key. A vault holding
  recovery points cannot be deleted: a ``terraform destroy`` stops there
  until they are deleted (``force_destroy`` is off on purpose).
* Plan ``<name>-daily``: one backup a day at 05:00 UTC
  (``schedule_expression``), started within an hour, finished within six,
  each kept ``retention_days``.
* Selection ``<name>-tables``: exactly the table ARNs given, no tag-based
  selection that a tag typo could widen or empty.
* Vault lock (``vault_lock``): ``governance`` by default, so no recovery
  point is deleted before its retention ends, nor the retention shortened,
  except by a principal allowed ``backup:DeleteBackupVaultLockConfiguration``
  (an administrator, deliberately). ``compliance`` locks it for everybody,
  AWS included, once its grace days pass: irreversible, so an opt-in.
* Role ``<name>``, trusted by ``backup.amazonaws.com``, with AWS's two
  managed policies for backup and restore. They are the only AWS managed
  policies in the project: AWS Backup calls per-resource-type APIs (for
  DynamoDB: CreateBackup or StartAwsBackupJob with advanced backup, tagging,
  KMS grants, RestoreTableFromAwsBackup ...) that AWS extends as the service
  grows, and a hand-kept subset would fail only when a nightly job or a
  restore runs. Only AWS Backup can assume the role, and only this plan's
  selection passes it.

DynamoDB's "advanced backup" features (vault-key encryption, cold storage,
copies) are an account-wide Backup setting per region
(``aws backup update-region-settings``), not managed here: without them a
DynamoDB recovery point is a DynamoDB backup encrypted with the table's own
key, which is still restorable from the vault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.backup_plan import BackupPlan, BackupPlanRule, BackupPlanRuleLifecycle
from cdktf_cdktf_provider_aws.backup_selection import BackupSelection
from cdktf_cdktf_provider_aws.backup_vault import BackupVault
from cdktf_cdktf_provider_aws.backup_vault_lock_configuration import BackupVaultLockConfiguration
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from constructs_lib._validation import Problems, is_token
from constructs_lib.aws_context import AwsContext
from constructs_lib.iam import ServiceRole, ServiceRoleProps
from constructs_lib.limits import VAULT_LOCK_MODES
from constructs_lib.policy import accept_finding

BACKUP_PRINCIPAL = "backup.amazonaws.com"
# AWS managed policies (see the module docstring for why these two).
MANAGED_POLICIES = {
    "backup": "service-role/AWSBackupServiceRolePolicyForBackup",
    "restores": "service-role/AWSBackupServiceRolePolicyForRestores",
}
# Live-audit (prowler) findings accepted on the role and the plan.
BACKUP_TRUST_REASON = (
    "AWS Backup's documented trust policy for its service role has no condition and AWS does not document it sending "
    "aws:SourceAccount; only this plan's selection passes the role (iam:PassRole in this account)"
)
REPORT_PLAN_REASON = (
    "Backup Audit Manager report plans are one set per account and region, over every vault; this environment's plan "
    "and vault appear in the account's reports once the account defines them"
)
START_WINDOW_MINUTES = 60  # the least AWS Backup accepts
COMPLETION_WINDOW_MINUTES = 360
MAX_RETENTION_DAYS = 36500  # AWS Backup's limit: 100 years
COMPLIANCE_GRACE_DAYS = 3  # the least AWS accepts: the lock can still be removed for 3 days
_NAME = r"[A-Za-z0-9_-]{2,43}"  # the vault allows 50; "-tables" must still fit the selection's 50
_SCHEDULE = r"cron\([^()]+\)"


@dataclass(frozen=True, kw_only=True)
class TableBackupProps:
    """Inputs of the table backups.

    name: 2-43 letters, digits, '-' and '_', such as ``circle-of-trust-backup``:
        the vault and the role; the plan is ``<name>-daily``, the selection
        ``<name>-tables``.
    kms_key_arn: the vault's key (the ``backup`` key).
    resource_arns: the tables to back up, at least one.
    retention_days: days each recovery point is kept, 1-36500. Default 35
        (as long as point-in-time recovery reaches back).
    schedule_expression: when the daily job starts, an AWS Backup cron
        expression in UTC. Default ``cron(0 5 ? * * *)`` (05:00 UTC, after
        the night in the Americas and before the day in Europe).
    vault_lock: ``governance`` (default), ``compliance`` or ``none``; the lock's
        minimum retention is ``retention_days`` (see the module docstring).
    """

    name: str
    kms_key_arn: str
    resource_arns: tuple[str, ...]
    retention_days: int = 35
    schedule_expression: str = "cron(0 5 ? * * *)"
    vault_lock: str = "governance"

    def __post_init__(self) -> None:
        problems = Problems("TableBackupProps")
        problems.matches("name", self.name, _NAME, "2-43 letters, digits, '-' and '_'")
        if not is_token(self.kms_key_arn) and not self.kms_key_arn.startswith("arn:"):
            problems.add(f"kms_key_arn must be a KMS key ARN, but {self.kms_key_arn!r} was provided")
        if not self.resource_arns:
            problems.add("resource_arns must hold at least one table ARN, but none was provided")
        for arn in self.resource_arns:
            if not is_token(arn) and not arn.startswith("arn:"):
                problems.add(f"resource_arns must hold ARNs, but {arn!r} was provided")
        problems.between("retention_days", self.retention_days, 1, MAX_RETENTION_DAYS)
        if not is_token(self.schedule_expression) and not re.fullmatch(_SCHEDULE, self.schedule_expression):
            problems.add(f"schedule_expression must be a cron(...) expression such as cron(0 5 ? * * *), but {self.schedule_expression!r} was provided")
        if self.vault_lock not in VAULT_LOCK_MODES:
            problems.add(f"vault_lock must be one of {', '.join(VAULT_LOCK_MODES)}, but {self.vault_lock!r} was provided")
        problems.raise_if_any()


class TableBackup(Construct):
    """A vault, a daily plan and a selection of the given tables."""

    def __init__(self, scope: Construct, construct_id: str, props: TableBackupProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        context = AwsContext.of(self)
        self.vault = BackupVault(self, "vault", name=props.name, kms_key_arn=props.kms_key_arn, force_destroy=False)
        self.vault_lock: BackupVaultLockConfiguration | None = None
        if props.vault_lock != "none":
            self.vault_lock = BackupVaultLockConfiguration(
                self,
                "vault-lock",
                backup_vault_name=self.vault.name,
                min_retention_days=props.retention_days,
                # Compliance mode is a lock with a grace period; governance mode has none.
                changeable_for_days=COMPLIANCE_GRACE_DAYS if props.vault_lock == "compliance" else None,
            )
        self.plan = BackupPlan(
            self,
            "plan",
            name=f"{props.name}-daily",
            rule=[
                BackupPlanRule(
                    rule_name="daily",
                    target_vault_name=self.vault.name,
                    schedule=props.schedule_expression,
                    start_window=START_WINDOW_MINUTES,
                    completion_window=COMPLETION_WINDOW_MINUTES,
                    lifecycle=BackupPlanRuleLifecycle(delete_after=props.retention_days),
                )
            ],
        )
        self.role = ServiceRole(
            self,
            "role",
            ServiceRoleProps(
                name=props.name,
                service=BACKUP_PRINCIPAL,
                description=f"AWS Backup: backs up and restores the tables of plan {props.name}-daily",
                # AWS Backup's documented trust policy has no condition; the
                # role is passed to this selection only (iam:PassRole, same account).
                source_account_condition=False,
            ),
        )
        accept_finding(self.role.role, "iam_role_cross_service_confused_deputy_prevention", BACKUP_TRUST_REASON)
        accept_finding(self.plan, "backup_reportplans_exist", REPORT_PLAN_REASON)
        self.policy_attachments = [
            IamRolePolicyAttachment(
                self,
                f"{purpose}-policy",
                role=self.role.role_name,
                policy_arn=f"arn:{context.partition}:iam::aws:policy/{path}",
            )
            for purpose, path in MANAGED_POLICIES.items()
        ]
        self.selection = BackupSelection(
            self,
            "selection",
            name=f"{props.name}-tables",
            plan_id=self.plan.id,
            iam_role_arn=self.role.role_arn,
            resources=list(props.resource_arns),
            # AWS Backup checks the role when the selection is created.
            depends_on=self.policy_attachments,
        )

    @property
    def backup_vault_name(self) -> str:
        return self.vault.name

    @property
    def backup_vault_arn(self) -> str:
        return self.vault.arn

    @property
    def backup_plan_id(self) -> str:
        return self.plan.id

    @property
    def backup_role_arn(self) -> str:
        return self.role.role_arn
