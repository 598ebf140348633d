"""tools/live_audit.py: mapping prowler's FAILs to the environment's resources and sorting them.

Unit tier: no prowler, no emulator. The records in data/prowler_ocsf_sample.json
are prowler 5.46.0's own json-ocsf output from a scan of production's five
layers on moto, trimmed only of bulky text (compliance lists, descriptions);
the states below use the IDs that scan saw.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tools import live_audit
from tools.live_audit import ACCOUNT, ARTEFACTS, EMULATOR, Address, Artefact, AuditError, Finding, classify, inventory, read_acceptances

SAMPLE = Path(__file__).parent / "data" / "prowler_ocsf_sample.json"
PLACEHOLDERS = {"state_bucket": "circle-of-trust-terraform-state", "lock_table": "terraform-state-lock"}
ACCOUNT_ID = "123456789012"
API_TASK_FAMILY = f"arn:aws:ecs:us-east-1:{ACCOUNT_ID}:task-definition/circle-of-trust-api"
PROJECT_VPC_DEFAULT_NACL = "acl-91ed35d1573f8dc81"  # the other NACL in the sample is moto's default VPC's
VPC = Address("production-network", "aws_vpc", "network_vpc")
TASK_DEFINITION = Address("production-services", "aws_ecs_task_definition", "api_service_task_definition")
AUDIT_BUCKET = Address("production-data", "aws_s3_bucket", "audit_trail_bucket")
SECRET = Address("production-data", "aws_secretsmanager_secret", "app_secret")
HTTP_API = Address("production-edge", "aws_apigatewayv2_api", "http_api")


def records() -> list[dict[str, Any]]:
    return json.loads(SAMPLE.read_text())


def findings(check: str | None = None, status: str | None = None) -> list[Finding]:
    found = [Finding.from_ocsf(r) for r in records()]
    return [f for f in found if check in (None, f.check_id) and status in (None, f.status)]


def managed(type_name: str, logical_id: str, **attributes: Any) -> dict[str, Any]:
    return {"mode": "managed", "type": type_name, "name": logical_id, "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]", "instances": [{"schema_version": 0, "attributes": attributes}]}


def states() -> dict[str, dict[str, Any]]:
    """The layers' states, as terraform writes them, cut to the resources of the sample."""
    bucket = "circle-of-trust-audit-logs"
    return {
        "production-network": {"version": 4, "resources": [
            managed("aws_vpc", "network_vpc", id="vpc-d02755c12ca5ea941", arn=f"arn:aws:ec2:us-east-1:{ACCOUNT_ID}:vpc/vpc-d02755c12ca5ea941",
                    default_network_acl_id=PROJECT_VPC_DEFAULT_NACL, default_security_group_id="sg-ebba6a562d3a1c22c", default_route_table_id="rtb-9c8e2327db66b30ed"),
            managed("aws_default_security_group", "network_default_security_group", id="sg-ebba6a562d3a1c22c", arn=f"arn:aws:ec2:us-east-1:{ACCOUNT_ID}:security-group/sg-ebba6a562d3a1c22c"),
        ]},
        "production-data": {"version": 4, "resources": [
            managed("aws_s3_bucket", "audit_trail_bucket", id=bucket, arn=f"arn:aws:s3:::{bucket}", bucket=bucket),
            # Its settings carry the bucket's name as their ID too.
            managed("aws_s3_bucket_versioning", "audit_trail_bucket_versioning", id=bucket, bucket=bucket),
            managed("aws_s3_bucket_policy", "audit_trail_bucket_policy", id=bucket, bucket=bucket),
            managed("aws_secretsmanager_secret", "app_secret", id=f"arn:aws:secretsmanager:us-east-1:{ACCOUNT_ID}:secret:circle-of-trust/app-zgEFPs",
                    arn=f"arn:aws:secretsmanager:us-east-1:{ACCOUNT_ID}:secret:circle-of-trust/app-zgEFPs", name="circle-of-trust/app"),
            {"mode": "data", "type": "aws_caller_identity", "name": "current", "instances": [{"attributes": {"id": ACCOUNT_ID}}]},
        ]},
        "production-edge": {"version": 4, "resources": [
            # Terraform's ARN of an API has a slash prowler's lacks (::/apis/ID vs ::apis/ID): found by its ID.
            managed("aws_apigatewayv2_api", "http_api", id="kbcawqgo", arn="arn:aws:apigateway:us-east-1::/apis/kbcawqgo", name="circle-of-trust-api"),
        ]},
        "production-services": {"version": 4, "resources": [
            managed("aws_ecs_task_definition", "api_service_task_definition", id="circle-of-trust-api", family="circle-of-trust-api",
                    arn=f"{API_TASK_FAMILY}:1", arn_without_revision=API_TASK_FAMILY, revision=1),
        ]},
    }


def run(acceptances: dict[Address, dict[str, str]] | None = None, emulated: bool = True, sample: list[Finding] | None = None, **kwargs: Any):
    return classify(findings() if sample is None else sample, inventory(states()), acceptances or {}, PLACEHOLDERS, emulated=emulated, **kwargs)


def unexplained(result) -> set[tuple[str, str]]:
    return {(f.check_id, str(a) if a else f.resource_uid) for f, a in result.unexplained}


# -- reading prowler's report -------------------------------------------------------
def test_ocsf_records_are_read_as_prowler_writes_them():
    (finding,) = findings("ecs_task_definitions_containers_readonly_access", "FAIL")
    assert finding.status == "FAIL" and finding.service == "ecs" and finding.severity == "High"
    assert finding.resource_uid == f"{API_TASK_FAMILY}:1"
    assert finding.resource_name == "circle-of-trust-api:1"
    assert "write access to the root filesystem" in finding.detail
    assert json.loads(finding.data)["arn"] == finding.resource_uid
    assert {f.status for f in findings()} == {"PASS", "FAIL", "MANUAL"}


def test_a_report_that_is_not_prowler_ocsf_is_a_usage_error(tmp_path):
    (tmp_path / "r.json").write_text(json.dumps([{"status_code": "FAIL"}]))
    with pytest.raises(AuditError, match="not a prowler OCSF finding"):
        live_audit.read_report(tmp_path / "r.json")
    (tmp_path / "r.json").write_text("{}")
    with pytest.raises(AuditError, match="JSON list"):
        live_audit.read_report(tmp_path / "r.json")


# -- mapping a finding to a resource ---------------------------------------------------
def test_findings_resolve_to_the_resource_they_are_about():
    resources = inventory(states())
    resolve = lambda check: {resources.resolve(f) for f in findings(check, "FAIL")}
    assert resolve("ecs_task_definitions_containers_readonly_access") == {TASK_DEFINITION}
    assert resolve("apigatewayv2_api_authorizers_enabled") == {HTTP_API}
    # The bucket, not its versioning or policy, which share its name as ID.
    assert resolve("s3_bucket_object_lock") == {AUDIT_BUCKET}
    assert resolve("secretsmanager_secret_unused") == {SECRET}
    # Account-level and moto's own resources are no resource of the environment.
    assert resolve("iam_password_policy_minimum_length_14") == {None}
    assert resolve("ec2_ebs_snapshots_encrypted") == {None}


def test_a_vpcs_default_nacl_is_the_vpcs_until_a_resource_manages_it():
    resources = inventory(states())
    by_acl = {f.resource_name: resources.resolve(f) for f in findings("ec2_networkacl_allow_ingress_any_port")}
    assert by_acl[PROJECT_VPC_DEFAULT_NACL] == VPC
    assert by_acl["acl-636c2fd09bc2786d4"] is None  # moto's default VPC

    managed_acl = Address("production-network", "aws_default_network_acl", "network_default_network_acl")
    with_acl = states()
    with_acl["production-network"]["resources"].append(managed(managed_acl.type, managed_acl.name, id=PROJECT_VPC_DEFAULT_NACL))
    resources = inventory(with_acl)
    assert {resources.resolve(f) for f in findings("ec2_networkacl_allow_ingress_any_port") if f.resource_name == PROJECT_VPC_DEFAULT_NACL} == {managed_acl}


def test_a_task_definition_revision_ci_registered_belongs_to_terraforms_family():
    (record,) = [r for r in records() if r["metadata"]["event_code"] == "ecs_task_definitions_containers_readonly_access"]
    text = json.dumps(record).replace("circle-of-trust-api:1", "circle-of-trust-api:7")
    finding = Finding.from_ocsf(json.loads(text))
    assert finding.resource_uid == f"{API_TASK_FAMILY}:7"
    assert inventory(states()).resolve(finding) == TASK_DEFINITION


def test_an_id_two_resources_share_equally_is_an_error_not_a_guess():
    twins = {"production-data": {"resources": [managed("aws_sns_topic_policy", "a", id="shared"), managed("aws_sns_topic_subscription", "b", id="shared")]}}
    finding = Finding("sns_x", "FAIL", "sns", "Low", "shared", "shared", "", "us-east-1", "")
    with pytest.raises(AuditError, match="names 2 resources"):
        inventory(twins).resolve(finding)


# -- classification ---------------------------------------------------------------
def test_the_sample_sorts_into_artefacts_and_real_findings():
    result = run()
    assert not result.ok and not result.accepted and not result.stale
    assert unexplained(result) == {
        ("ecs_task_definitions_containers_readonly_access", str(TASK_DEFINITION)),
        ("apigatewayv2_api_authorizers_enabled", str(HTTP_API)),
        ("ec2_networkacl_allow_ingress_any_port", str(VPC)),  # the environment's VPC: real
        ("s3_bucket_object_lock", str(AUDIT_BUCKET)),
    }
    artefact_checks = sorted(f.check_id for f, _ in result.artefacts)
    assert artefact_checks == sorted([
        "ec2_networkacl_allow_ingress_any_port",  # moto's default VPC
        "kms_cmk_rotation_enabled",  # moto's alias/aws/dynamodb
        "ec2_ebs_snapshots_encrypted",
        "s3_bucket_object_versioning",  # the state bucket
        "iam_password_policy_minimum_length_14",
        "secretsmanager_secret_unused",
        "cloudtrail_s3_dataevents_read_enabled",  # account-level: a trail over every bucket of the account
    ])
    assert result.passed == {"ecs": 1, "kms": 1}
    assert sum(result.failed.values()) == 11  # MANUAL counts as neither


def test_an_accepted_finding_passes_with_its_reason_and_others_still_fail():
    acceptances = {TASK_DEFINITION: {"ecs_task_definitions_containers_readonly_access": "the runtime writes to /tmp; a tmpfs is planned"}}
    result = run(acceptances)
    assert [(f.check_id, a, r) for f, a, r in result.accepted] == [
        ("ecs_task_definitions_containers_readonly_access", TASK_DEFINITION, "the runtime writes to /tmp; a tmpfs is planned")
    ]
    assert ("ecs_task_definitions_containers_readonly_access", str(TASK_DEFINITION)) not in unexplained(result)
    assert not result.stale and not result.ok


def test_nothing_unexplained_and_nothing_stale_is_clean():
    real = {(f.check_id, a) for f, a in run().unexplained if a is not None}
    acceptances: dict[Address, dict[str, str]] = {}
    for check_id, address in real:
        acceptances.setdefault(address, {})[check_id] = "accepted for this test, with a reason"
    sample = [f for f in findings() if f.check_id != "cloudtrail_s3_dataevents_read_enabled"]  # no resource to accept it on
    result = run(acceptances, sample=sample)
    assert result.ok, result.lines()
    assert len(result.accepted) == len(real)


def test_an_acceptance_that_no_longer_fails_is_stale():
    acceptances = {
        SECRET: {"secretsmanager_has_restrictive_resource_policy": "a resource policy is not needed for this secret"},
        # Accepted on the resource, but the FAIL is on another one: stale, and the FAIL stays unexplained.
        AUDIT_BUCKET: {"ecs_task_definitions_containers_readonly_access": "on the wrong resource"},
    }
    result = run(acceptances)
    assert {(str(a), c) for a, c, _ in result.stale} == {
        (str(SECRET), "secretsmanager_has_restrictive_resource_policy"),
        (str(AUDIT_BUCKET), "ecs_task_definitions_containers_readonly_access"),
    }
    assert not result.ok
    assert any(line.startswith("STALE accept_finding secretsmanager_has_restrictive_resource_policy on production-data:aws_secretsmanager_secret.app_secret") for line in result.lines())


def test_an_acceptance_wins_over_an_artefact_row():
    acceptances = {SECRET: {"secretsmanager_secret_unused": "accepted in code before the artefact row existed"}}
    result = run(acceptances)
    assert [f.check_id for f, _, _ in result.accepted] == ["secretsmanager_secret_unused"]
    assert not result.stale


def test_emulator_rows_hold_only_in_a_scan_of_the_emulator():
    on_account = run(emulated=False)
    checks = {c for c, _ in unexplained(on_account)}
    assert {"ec2_ebs_snapshots_encrypted", "kms_cmk_rotation_enabled", "secretsmanager_secret_unused"} <= checks
    # Account-wide rows hold against a real account too.
    assert "iam_password_policy_minimum_length_14" not in checks and "s3_bucket_object_versioning" not in checks
    assert all(row.scope == ACCOUNT for row in {row for _, row in on_account.artefacts})
    assert all(row.scope == ACCOUNT for row in on_account.unused_artefacts)


def test_an_artefact_row_holds_only_for_the_resources_it_names():
    (moto_key,) = findings("kms_cmk_rotation_enabled", "FAIL")
    own_key = Finding(**{**moto_key.__dict__, "data": moto_key.data.replace("alias/aws/dynamodb", "alias/circle-of-trust-logs")})
    result = run(sample=[moto_key, own_key])
    assert [f for f, _ in result.artefacts] == [moto_key]
    assert [f for f, _ in result.unexplained] == [own_key]
    # A row for managed resources does not excuse the same check on someone else's.
    (secret,) = findings("secretsmanager_secret_unused")
    foreign = Finding(**{**secret.__dict__, "resource_uid": secret.resource_uid.replace("circle-of-trust/app", "other/app"), "resource_name": "other/app", "data": "{}"})
    assert [f for f, _ in run(sample=[foreign]).unexplained] == [foreign]


def test_the_state_backend_rows_name_this_environments_backend_only():
    (state_bucket,) = findings("s3_bucket_object_versioning")
    other = Finding(**{**state_bucket.__dict__, "resource_uid": "arn:aws:s3:::someone-elses-bucket", "resource_name": "someone-elses-bucket"})
    result = run(sample=[state_bucket, other])
    assert [f for f, _ in result.artefacts] == [state_bucket]
    assert [f for f, _ in result.unexplained] == [other]


def test_the_report_prints_counts_per_service_and_each_unexplained_fail():
    lines = run().lines()
    assert "  ecs                  1     1" in lines
    assert "  kms                  1     1" in lines
    assert any(re.match(r"UNEXPLAINED ecs_task_definitions_containers_readonly_access \[High\] production-services:aws_ecs_task_definition.api_service_task_definition arn:", line) for line in lines)
    assert any(line.startswith("artefact x1: cloudtrail_s3_dataevents_(read|write)_enabled on") for line in lines)


# -- the table itself --------------------------------------------------------------
def test_every_artefact_row_is_reviewable():
    assert len(set(ARTEFACTS)) == len(ARTEFACTS)
    for row in ARTEFACTS:
        assert row.scope in (EMULATOR, ACCOUNT), row
        assert len(row.evidence) >= 60 and "\n" not in row.evidence, row
        re.compile(row.check), re.compile(row.resource), row.data and re.compile(row.data)
        # Artefacts of the emulator on the environment's own resources and the account's own
        # resources only: an account-wide row must never excuse an environment's resource.
        assert row.scope == EMULATOR or row.managed is False, row


def test_every_artefact_row_names_checks_the_installed_prowler_has():
    checks_dir = live_audit.ROOT / ".audit" / "lib"
    services = sorted(checks_dir.glob("python3*/site-packages/prowler/providers/aws/services"))
    if not services:
        pytest.skip("prowler is not installed in .audit/ (make setup)")
    check_ids = {p.name for p in services[0].glob("*/*") if p.is_dir() and (p / f"{p.name}.py").is_file()}
    assert len(check_ids) > 300
    for row in ARTEFACTS:
        assert any(re.fullmatch(row.check, c) for c in check_ids), f"no prowler check matches {row.check}"


# -- acceptances in the synthesized stacks --------------------------------------------
def test_acceptances_are_read_from_each_resources_comment_block():
    document = {"resource": {"aws_secretsmanager_secret": {"app_secret": {
        "name": "circle-of-trust/app",
        "//": {"metadata": {"path": "x"}, "checkov_skip": [{"id": "CKV2_AWS_57", "reason": "no rotation lambda yet"}],
               "audit_accept": [{"id": "secretsmanager_automatic_rotation_enabled", "reason": "no rotation lambda yet, see the runbook"}]},
    }}, "aws_vpc": {"network_vpc": {"cidr_block": "10.0.0.0/16"}}}}
    assert read_acceptances("production-data", document) == {SECRET: {"secretsmanager_automatic_rotation_enabled": "no rotation lambda yet, see the runbook"}}
    document["resource"]["aws_vpc"]["network_vpc"]["//"] = {"audit_accept": [{"id": "x"}]}
    with pytest.raises(AuditError, match="malformed audit_accept"):
        read_acceptances("production-network", document)


def test_the_key_is_the_one_constructs_lib_policy_writes():
    source = (live_audit.ROOT / "constructs_lib" / "policy.py").read_text()
    assert f'ACCEPT_KEY = "{live_audit.ACCEPT_KEY}"' in source


# -- running prowler -----------------------------------------------------------------
def test_prowler_scans_one_region_of_the_projects_services_into_one_ocsf_report(tmp_path):
    command = live_audit.prowler_command(Path("/p/prowler"), "eu-west-1", tmp_path)
    assert command[:4] == ["/p/prowler", "aws", "--filter-region", "eu-west-1"]
    services = command[command.index("--services") + 1: command.index("--output-formats")]
    assert "ecs" in services and "apigatewayv2" in services and len(services) == len(live_audit.SERVICES)
    assert command[command.index("--output-formats") + 1] == "json-ocsf"
    assert "--no-banner" in command


def test_an_emulator_scan_uses_fake_credentials_and_no_ambient_profile(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "prod-admin")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "real")
    env = live_audit.prowler_env("us-east-1", "http://127.0.0.1:5000")
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5000" and env["AWS_ACCESS_KEY_ID"] == "testing"
    assert "AWS_PROFILE" not in env and "AWS_SESSION_TOKEN" not in env
    assert live_audit.prowler_env("us-east-1", None)["AWS_PROFILE"] == "prod-admin"


def test_a_missing_scanner_is_a_usage_error_naming_make_setup(tmp_path):
    with pytest.raises(AuditError, match="make setup"):
        live_audit.run_prowler(tmp_path / "no-prowler", "us-east-1", None, tmp_path / "out")


def test_a_scanner_error_is_a_usage_error_with_its_log(tmp_path):
    fake = tmp_path / "prowler"
    fake.write_text("#!/bin/sh\necho 'botocore.exceptions.NoCredentialsError' >&2\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(AuditError, match=r"(?s)prowler failed \(exit 1.*NoCredentialsError"):
        live_audit.run_prowler(fake, "us-east-1", None, tmp_path / "out")


# -- the command ---------------------------------------------------------------------
@pytest.fixture
def synthesized(tmp_path, monkeypatch):
    """A synth dir with production's five layers (one resource accepting a finding), and states served from memory."""
    layers = ["network", "data", "edge", "services", "operations"]
    stacks = {f"production-{layer}": {"terraform": {"backend": {"s3": {
        "bucket": PLACEHOLDERS["state_bucket"], "key": f"production/{layer}.tfstate", "region": "us-east-1", "dynamodb_table": PLACEHOLDERS["lock_table"]}}},
        "resource": {}} for layer in layers}
    stacks["production-services"]["resource"] = {"aws_ecs_task_definition": {"api_service_task_definition": {"family": "circle-of-trust-api", "//": {
        "audit_accept": [{"id": "ecs_task_definitions_containers_readonly_access", "reason": "for the test: the API writes to its root FS"}]}}}}
    manifest = {"stacks": {name: {"dependencies": [f"production-{l}" for l in layers[:i]][-1:]} for i, name in enumerate(stacks)}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    for name, document in stacks.items():
        (tmp_path / "stacks" / name).mkdir(parents=True)
        (tmp_path / "stacks" / name / "cdk.tf.json").write_text(json.dumps(document))
    by_key = {f"production/{name.split('-', 1)[1]}.tfstate": state for name, state in states().items()}
    monkeypatch.setattr(live_audit, "read_state", lambda backend, endpoint: by_key.get(backend["key"], {"resources": []}))
    return tmp_path


def test_main_fails_on_unexplained_findings_and_prints_them(synthesized, tmp_path, capsys):
    code = live_audit.main(["--environment", "production", "--synth-dir", str(synthesized), "--endpoint", "http://127.0.0.1:1", "--ocsf", str(SAMPLE), "--output", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 1
    assert "accepted ecs_task_definitions_containers_readonly_access on production-services:aws_ecs_task_definition.api_service_task_definition" in out
    assert "UNEXPLAINED s3_bucket_object_lock [Low] production-data:aws_s3_bucket.audit_trail_bucket" in out
    assert "live audit of production: FAILED" in out


def test_main_passes_when_every_fail_is_explained(synthesized, tmp_path, capsys):
    report = tmp_path / "clean.json"
    keep = {"ecs_task_definitions_containers_readonly_access", "ec2_ebs_snapshots_encrypted", "iam_password_policy_minimum_length_14", "kms_cmk_rotation_enabled"}
    report.write_text(json.dumps([r for r in records() if r["metadata"]["event_code"] in keep]))
    code = live_audit.main(["--environment", "production", "--synth-dir", str(synthesized), "--endpoint", "http://127.0.0.1:1", "--ocsf", str(report)])
    assert code == 0, capsys.readouterr().out
    assert "live audit of production: clean" in capsys.readouterr().out


def test_main_fails_on_a_stale_acceptance(synthesized, tmp_path, capsys):
    report = tmp_path / "fixed.json"
    report.write_text(json.dumps([r for r in records() if r["metadata"]["event_code"] == "iam_password_policy_minimum_length_14"]))
    code = live_audit.main(["--environment", "production", "--synth-dir", str(synthesized), "--endpoint", "http://127.0.0.1:1", "--ocsf", str(report)])
    assert code == 1
    assert "STALE accept_finding ecs_task_definitions_containers_readonly_access on production-services:aws_ecs_task_definition.api_service_task_definition" in capsys.readouterr().out


def test_main_exits_2_on_an_unknown_environment(synthesized, capsys):
    assert live_audit.main(["--environment", "qa", "--synth-dir", str(synthesized), "--ocsf", str(SAMPLE)]) == 2
    assert "no stack of environment 'qa'" in capsys.readouterr().err


def test_revisions_ci_registered_print_as_one_line_with_their_family():
    (record,) = [r for r in records() if r["metadata"]["event_code"] == "ecs_task_definitions_containers_readonly_access"]
    revisions = [Finding.from_ocsf(json.loads(json.dumps(record).replace("circle-of-trust-api:1", f"circle-of-trust-api:{n}"))) for n in (1, 2, 3)]
    result = run(sample=revisions)
    assert len(result.unexplained) == 3
    (line,) = [line for line in result.lines() if line.startswith("UNEXPLAINED")]
    assert "(and 2 more like it: circle-of-trust-api:2, circle-of-trust-api:3)" in line
    assert "3 unexplained (1 distinct check and resource)" in "\n".join(result.lines())


def test_a_name_alone_does_not_map_a_finding_to_a_resource():
    """Names repeat across types (ECR repository, task family and HTTP API are all circle-of-trust-api)."""
    same_name = {"production-data": {"resources": [managed("aws_ecr_repository", "api_repository", id="circle-of-trust-api", arn="arn:aws:ecr:us-east-1:123456789012:repository/circle-of-trust-api")]}}
    finding = Finding("apigatewayv2_api_authorizers_enabled", "FAIL", "apigatewayv2", "Medium", "arn:aws:apigateway:us-east-1::apis/zzzz", "circle-of-trust-api", "", "us-east-1", "", '{"id":"zzzz"}')
    assert inventory(same_name).resolve(finding) is None
