"""constructs_lib/backup.py: vault, daily plan, selection of the tables, and the role AWS Backup assumes."""

from __future__ import annotations

import pytest

from constructs_lib.backup import TableBackup, TableBackupProps
from tests.support import at, data_sources, logical_id, ref, resources, synth_construct

KEY = "arn:aws:kms:us-east-1:111122223333:key/backup"
TABLES = ("arn:aws:dynamodb:us-east-1:111122223333:table/cot-conversations", "arn:aws:dynamodb:us-east-1:111122223333:table/cot-jobs")
BACKUPS: dict[str, TableBackup] = {}


@pytest.fixture(scope="module")
def doc():
    def build(stack):
        BACKUPS["default"] = TableBackup(stack, "backup", TableBackupProps(name="cot-backup", kms_key_arn=KEY, resource_arns=TABLES))
        BACKUPS["custom"] = TableBackup(
            stack, "custom", TableBackupProps(name="cot-long", kms_key_arn=KEY, resource_arns=TABLES[:1], retention_days=365, schedule_expression="cron(30 2 ? * * *)")
        )
        BACKUPS["compliance"] = TableBackup(stack, "compliance", TableBackupProps(name="cot-locked", kms_key_arn=KEY, resource_arns=TABLES, vault_lock="compliance"))
        BACKUPS["unlocked"] = TableBackup(stack, "unlocked", TableBackupProps(name="cot-open", kms_key_arn=KEY, resource_arns=TABLES, vault_lock="none"))

    return synth_construct(build)


def test_vault_is_encrypted_with_the_backup_key_and_never_force_destroyed(doc):
    vault = at(resources(doc, "aws_backup_vault"), "backup/vault")
    assert (vault["name"], vault["kms_key_arn"], vault["force_destroy"]) == ("cot-backup", KEY, False)


def test_plan_backs_up_daily_into_the_vault_and_keeps_35_days(doc):
    plan = at(resources(doc, "aws_backup_plan"), "backup/plan")
    assert plan["name"] == "cot-backup-daily"
    (rule,) = plan["rule"]
    assert rule["rule_name"] == "daily"
    assert rule["target_vault_name"] == ref(doc, "aws_backup_vault", logical_id(resources(doc, "aws_backup_vault"), "backup/vault"), "name")
    assert rule["schedule"] == "cron(0 5 ? * * *)"
    assert (rule["start_window"], rule["completion_window"]) == (60, 360)
    assert rule["lifecycle"] == {"delete_after": 35}


def test_retention_and_schedule_come_from_props(doc):
    (rule,) = at(resources(doc, "aws_backup_plan"), "custom/plan")["rule"]
    assert (rule["schedule"], rule["lifecycle"]) == ("cron(30 2 ? * * *)", {"delete_after": 365})


def test_selection_names_exactly_the_tables_and_the_role(doc):
    selection = at(resources(doc, "aws_backup_selection"), "backup/selection")
    assert selection["name"] == "cot-backup-tables"
    assert selection["resources"] == list(TABLES)
    assert selection["plan_id"] == ref(doc, "aws_backup_plan", logical_id(resources(doc, "aws_backup_plan"), "backup/plan"), "id")
    assert selection["iam_role_arn"] == ref(doc, "aws_iam_role", logical_id(resources(doc, "aws_iam_role"), "backup/role"), "arn")
    assert "selection_tag" not in selection and "condition" not in selection
    attachments = resources(doc, "aws_iam_role_policy_attachment")
    assert selection["depends_on"] == [
        f"aws_iam_role_policy_attachment.{logical_id(attachments, f'backup/{purpose}-policy')}" for purpose in ("backup", "restores")
    ]


def test_role_is_trusted_by_aws_backup_with_the_managed_backup_and_restore_policies(doc):
    role = at(resources(doc, "aws_iam_role"), "backup/role")
    assert role["name"] == "cot-backup"
    (trust,) = at(data_sources(doc, "aws_iam_policy_document"), "backup/role/trust")["statement"]
    assert trust["principals"] == [{"type": "Service", "identifiers": ["backup.amazonaws.com"]}]
    assert trust["actions"] == ["sts:AssumeRole"]
    assert "condition" not in trust  # AWS Backup's documented trust policy; iam:PassRole is the guard
    partition = logical_id(data_sources(doc, "aws_partition"), "aws_context/partition")
    role_name = ref(doc, "aws_iam_role", logical_id(resources(doc, "aws_iam_role"), "backup/role"), "name")
    attachments = [a for a in resources(doc, "aws_iam_role_policy_attachment").values() if a["role"] == role_name]
    assert sorted(a["policy_arn"] for a in attachments) == [
        f"arn:${{data.aws_partition.{partition}.partition}}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyFor{kind}"
        for kind in ("Backup", "Restores")
    ]
    assert not resources(doc, "aws_iam_role_policy")  # no inline grants beside them


def test_the_vault_is_locked_in_governance_mode_for_the_retention_by_default(doc):
    locks = resources(doc, "aws_backup_vault_lock_configuration")
    vault = ref(doc, "aws_backup_vault", logical_id(resources(doc, "aws_backup_vault"), "backup/vault"), "name")
    lock = at(locks, "backup/vault-lock")
    assert (lock["backup_vault_name"], lock["min_retention_days"]) == (vault, 35)
    assert "changeable_for_days" not in lock and "max_retention_days" not in lock  # governance: no grace period, no cap
    assert at(locks, "custom/vault-lock")["min_retention_days"] == 365


def test_compliance_mode_has_the_three_day_grace_and_none_means_no_lock(doc):
    lock = at(resources(doc, "aws_backup_vault_lock_configuration"), "compliance/vault-lock")
    assert (lock["min_retention_days"], lock["changeable_for_days"]) == (35, 3)
    assert BACKUPS["unlocked"].vault_lock is None
    assert len(resources(doc, "aws_backup_vault_lock_configuration")) == 3


def test_attributes(doc):
    backup = BACKUPS["default"]
    for name in ("backup_vault_name", "backup_vault_arn", "backup_plan_id", "backup_role_arn"):
        assert getattr(backup, name).startswith("${"), name


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "c"}, "name must be 2-43 letters, digits, '-' and '_', but 'c' was provided"),
        ({"name": "c" * 44}, f"name must be 2-43 letters, digits, '-' and '_', but '{'c' * 44}' was provided"),
        ({"kms_key_arn": "alias/aws/backup"}, "kms_key_arn must be a KMS key ARN, but 'alias/aws/backup' was provided"),
        ({"resource_arns": ()}, "resource_arns must hold at least one table ARN, but none was provided"),
        ({"resource_arns": ("cot-jobs",)}, "resource_arns must hold ARNs, but 'cot-jobs' was provided"),
        ({"retention_days": 0}, "retention_days must be between 1 and 36500, but 0 was provided"),
        ({"retention_days": 36501}, "retention_days must be between 1 and 36500, but 36501 was provided"),
        ({"schedule_expression": "rate(1 day)"}, "schedule_expression must be a cron(...) expression such as cron(0 5 ? * * *), but 'rate(1 day)' was provided"),
        ({"vault_lock": "strict"}, "vault_lock must be one of governance, compliance, none, but 'strict' was provided"),
    ],
)
def test_props_validation_messages(kwargs, message):
    with pytest.raises(ValueError, match="^TableBackupProps: ") as caught:
        TableBackupProps(**{"name": "cot-backup", "kms_key_arn": KEY, "resource_arns": TABLES, **kwargs})
    assert message in str(caught.value)


def test_props_report_every_problem_at_once():
    with pytest.raises(ValueError) as caught:
        TableBackupProps(name="c", kms_key_arn="k", resource_arns=("x",), retention_days=0)
    assert str(caught.value).count(" was provided") == 4
