"""tools/policy_scan.py on small hand-written stacks: failures, skips, stale skips, the README table.

The matching logic is tested on made-up reports (instant); the `policy`
tests run the real checkov, one process per stack (about 4 s each, in
parallel).
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tools import policy_scan
from tools.policy_scan import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, Address, ScanError, evaluate, main, read_skips, resolve

LOG_GROUP = Address("resource", "aws_cloudwatch_log_group", "app-logs_5E6F7A8B")
KEPT_LOG_GROUP = Address("resource", "aws_cloudwatch_log_group", "kept-logs_9C0D1E2F")
SECURITY_GROUP = Address("resource", "aws_security_group", "lonely_3A4B5C6D")
ZONES = Address("data", "aws_availability_zones", "zones_1A2B3C4D")
REASONS = {
    (LOG_GROUP, "CKV_AWS_158"): "Holds only request logs; CloudWatch encrypts them with AWS-owned keys",
    (LOG_GROUP, "CKV_AWS_338"): "Kept 90 days by the retention policy | archived elsewhere",
    (SECURITY_GROUP, "CKV2_AWS_5"): "Attached by CI to tasks it starts outside Terraform",
    (ZONES, "CKV_AWS_394"): "Subnets name their zones; this lookup only checks that they exist",
}

BASE: dict[str, Any] = {
    "data": {"aws_availability_zones": {ZONES.logical_id: {"state": "available"}}},
    "resource": {
        "aws_cloudwatch_log_group": {
            LOG_GROUP.logical_id: {"name": "/app", "retention_in_days": 90},
            # encrypted and kept a year: passes every check
            KEPT_LOG_GROUP.logical_id: {
                "name": "/kept",
                "retention_in_days": 365,
                "kms_key_id": "arn:aws:kms:us-east-1:123456789012:key/abc",
            },
        },
        "aws_security_group": {
            SECURITY_GROUP.logical_id: {"name": "lonely", "description": "Nothing uses this group", "vpc_id": "vpc-0123"}
        },
    },
}


def with_skips(document: dict[str, Any], skips: dict[tuple[Address, str], str]) -> dict[str, Any]:
    """``document`` with skips in the shape constructs_lib.policy writes them."""
    document = copy.deepcopy(document)
    for (address, check_id), reason in skips.items():
        body = document[address.block][address.type][address.logical_id]
        comment = body.setdefault("//", {"metadata": {"path": f"stack/{address.logical_id}"}})
        comment.setdefault(policy_scan.SKIP_KEY, []).append({"id": check_id, "reason": reason})
    return document


def write_stacks(output: Path, stacks: dict[str, dict[str, Any]]) -> Path:
    for name, document in stacks.items():
        (output / "stacks" / name).mkdir(parents=True)
        (output / "stacks" / name / "cdk.tf.json").write_text(json.dumps(document, indent=2))
    return output


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def report(*failures: tuple[str, str], passed: int = 7) -> dict[str, Any]:
    """A checkov JSON report with these (check id, checkov resource name) failures."""
    records = [{"check_id": check_id, "check_name": f"name of {check_id}", "resource": name} for check_id, name in failures]
    return {"check_type": "terraform_json", "results": {"failed_checks": records}, "summary": {"passed": passed}}


# -- matching, on made-up reports --------------------------------------------------
@pytest.mark.parametrize(
    ("checkov_name", "expected"),
    [
        ("resource.app-logs_5E6F7A8B", LOG_GROUP),  # resource checks drop the type
        ("data.zones_1A2B3C4D", ZONES),
        ("aws_security_group.lonely_3A4B5C6D", SECURITY_GROUP),  # graph checks keep it
        ("data.aws_availability_zones.zones_1A2B3C4D", ZONES),
        ("aws_vpc.lonely_3A4B5C6D", None),  # wrong type
        ("data.app-logs_5E6F7A8B", None),  # wrong block
        ("resource.nothing_00000000", None),
        ("provider.aws", None),
    ],
)
def test_checkov_names_resolve_to_stack_addresses(checkov_name: str, expected: Address | None) -> None:
    assert resolve(policy_scan.blocks(BASE), checkov_name) == expected


def test_an_unskipped_failure_fails_and_names_the_resource() -> None:
    result = evaluate("dev", BASE, report(("CKV_AWS_158", "resource.app-logs_5E6F7A8B")))
    assert not result.ok
    assert result.lines() == [
        "dev: 7 passed, 1 failed, 0 skipped",
        "dev: CKV_AWS_158 name of CKV_AWS_158 on aws_cloudwatch_log_group.app-logs_5E6F7A8B",
    ]


def test_a_skipped_failure_passes_with_its_reason() -> None:
    document = with_skips(BASE, {(ZONES, "CKV_AWS_394"): REASONS[(ZONES, "CKV_AWS_394")]})
    result = evaluate("dev", document, report(("CKV_AWS_394", "data.zones_1A2B3C4D")))
    assert result.ok
    assert result.lines() == [
        "dev: 7 passed, 0 failed, 1 skipped",
        f"dev: skipped CKV_AWS_394 on data.aws_availability_zones.zones_1A2B3C4D ({REASONS[(ZONES, 'CKV_AWS_394')]})",
    ]


def test_a_skip_excuses_only_its_own_check_on_its_own_resource() -> None:
    document = with_skips(BASE, {(LOG_GROUP, "CKV_AWS_158"): REASONS[(LOG_GROUP, "CKV_AWS_158")]})
    result = evaluate(
        "dev",
        document,
        report(
            ("CKV_AWS_158", "resource.app-logs_5E6F7A8B"),
            ("CKV_AWS_338", "resource.app-logs_5E6F7A8B"),
            ("CKV_AWS_158", "resource.kept-logs_9C0D1E2F"),
        ),
    )
    assert [(f.check_id, f.resource) for f in result.failed] == [
        ("CKV_AWS_338", str(LOG_GROUP)),
        ("CKV_AWS_158", str(KEPT_LOG_GROUP)),
    ]
    assert [f.check_id for f, _ in result.skipped] == ["CKV_AWS_158"]


def test_a_skip_that_matches_no_failure_is_stale_and_fails() -> None:
    document = with_skips(BASE, {(KEPT_LOG_GROUP, "CKV_AWS_158"): "Was not encrypted before the key existed"})
    result = evaluate("dev", document, report())
    assert not result.ok
    assert result.lines()[1:] == [
        "dev: stale skip CKV_AWS_158 on aws_cloudwatch_log_group.kept-logs_9C0D1E2F: "
        "checkov no longer reports it there; remove the skip"
    ]


def test_a_failure_that_maps_to_no_block_still_fails() -> None:
    result = evaluate("dev", BASE, report(("CKV_AWS_41", "provider.aws")))
    assert [(f.check_id, f.resource) for f in result.failed] == [("CKV_AWS_41", "provider.aws")]


def test_a_hand_edited_skip_block_is_refused() -> None:
    document = copy.deepcopy(BASE)
    document["resource"]["aws_security_group"][SECURITY_GROUP.logical_id]["//"] = {"checkov_skip": ["CKV2_AWS_5"]}
    with pytest.raises(ScanError, match="aws_security_group.lonely_3A4B5C6D: malformed checkov_skip block"):
        read_skips(document)


# -- the command -------------------------------------------------------------------
def test_list_skips_prints_one_row_per_skip_with_the_stacks_that_have_it(tmp_path: Path) -> None:
    both = with_skips(BASE, {key: REASONS[key] for key in [(LOG_GROUP, "CKV_AWS_338"), (ZONES, "CKV_AWS_394")]})
    one_more = with_skips(both, {(SECURITY_GROUP, "CKV2_AWS_5"): REASONS[(SECURITY_GROUP, "CKV2_AWS_5")]})
    output = write_stacks(tmp_path, {"production": both, "staging": one_more, "bare": BASE})
    code, out, _ = run("--output", str(output), "--list-skips")
    assert code == EXIT_OK
    assert out.splitlines() == [
        "| stack | resource | check | reason |",
        "| --- | --- | --- | --- |",
        "| production, staging | `aws_cloudwatch_log_group.app-logs_5E6F7A8B` | CKV_AWS_338 | "
        "Kept 90 days by the retention policy \\| archived elsewhere |",
        "| staging | `aws_security_group.lonely_3A4B5C6D` | CKV2_AWS_5 | " + REASONS[(SECURITY_GROUP, "CKV2_AWS_5")] + " |",
        "| production, staging | `data.aws_availability_zones.zones_1A2B3C4D` | CKV_AWS_394 | "
        + REASONS[(ZONES, "CKV_AWS_394")]
        + " |",
    ]


def test_without_synthesized_stacks_it_says_what_to_run(tmp_path: Path) -> None:
    code, out, err = run("--output", str(tmp_path / "missing"))
    assert (code, out) == (EXIT_USAGE, "")
    assert "no synthesized stacks in" in err and "run `python main.py --output" in err


def test_an_unknown_stack_is_a_usage_error(tmp_path: Path) -> None:
    output = write_stacks(tmp_path, {"production": BASE})
    code, _, err = run("--output", str(output), "--stack", "prod")
    assert code == EXIT_USAGE
    assert "unknown stack(s) prod; synthesized: production" in err


# -- with the real checkov ---------------------------------------------------------
@pytest.fixture(scope="module")
def output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three stacks: failing, fully skipped, and clean but for a stale skip."""
    kept = BASE["resource"]["aws_cloudwatch_log_group"][KEPT_LOG_GROUP.logical_id]
    return write_stacks(
        tmp_path_factory.mktemp("scan"),
        {
            "failing": BASE,
            "skipped": with_skips(BASE, REASONS),
            "stale": with_skips(
                {"resource": {"aws_cloudwatch_log_group": {KEPT_LOG_GROUP.logical_id: kept}}},
                {(KEPT_LOG_GROUP, "CKV_AWS_158"): "Was not encrypted before the key existed"},
            ),
        },
    )


@pytest.fixture(scope="module")
def scanned(output: Path) -> tuple[int, str]:
    """One scan of the failing and the stale stack (two checkov processes in parallel)."""
    code, out, err = run("--output", str(output), "--stack", "failing", "--stack", "stale")
    assert err == ""
    return code, out


@pytest.fixture(scope="module")
def clean(output: Path) -> tuple[int, str]:
    code, out, err = run("--output", str(output), "--stack", "skipped")
    assert err == ""
    return code, out


@pytest.mark.policy
def test_checkov_failures_fail_the_scan_and_are_named(scanned: tuple[int, str]) -> None:
    code, out = scanned
    assert code == EXIT_FINDINGS
    lines = [line for line in out.splitlines() if line.startswith("failing: ")]
    assert lines[0].endswith(" passed, 4 failed, 0 skipped")
    assert lines[1:] == [
        "failing: CKV2_AWS_5 Ensure that Security Groups are attached to another resource "
        "on aws_security_group.lonely_3A4B5C6D",
        "failing: CKV_AWS_158 Ensure that CloudWatch Log Group is encrypted by KMS "
        "on aws_cloudwatch_log_group.app-logs_5E6F7A8B",
        "failing: CKV_AWS_338 Ensure CloudWatch log groups retains logs for at least 1 year "
        "on aws_cloudwatch_log_group.app-logs_5E6F7A8B",
        "failing: CKV_AWS_394 Ensure aws_availability_zones data source pins zone identity so its result set "
        "does not silently expand when AWS adds an Availability Zone on data.aws_availability_zones.zones_1A2B3C4D",
    ]


@pytest.mark.policy
def test_a_stale_skip_fails_the_real_scan(scanned: tuple[int, str]) -> None:
    _, out = scanned
    assert [line for line in out.splitlines() if line.startswith("stale: ")][1:] == [
        "stale: stale skip CKV_AWS_158 on aws_cloudwatch_log_group.kept-logs_9C0D1E2F: "
        "checkov no longer reports it there; remove the skip"
    ]


@pytest.mark.policy
def test_skipped_failures_pass_and_are_listed_with_their_reasons(clean: tuple[int, str]) -> None:
    code, out = clean
    assert code == EXIT_OK
    lines = out.splitlines()
    assert lines[0].startswith("skipped: ") and lines[0].endswith(" passed, 0 failed, 4 skipped")
    assert sorted(lines[1:]) == sorted(
        f"skipped: skipped {check_id} on {address} ({reason})" for (address, check_id), reason in REASONS.items()
    )


@pytest.mark.policy
def test_a_file_checkov_cannot_parse_is_an_error_not_a_pass(tmp_path: Path) -> None:
    output = write_stacks(tmp_path, {"empty": {}})
    code, out, err = run("--output", str(output))
    assert (code, out) == (EXIT_USAGE, "")
    assert "checkov could not parse" in err


def test_stack_folders_are_absolute_even_from_a_relative_output(tmp_path, monkeypatch):
    # checkov runs in each stack's folder, so a relative path would point nowhere.
    stack = tmp_path / "cdktf.out" / "stacks" / "qa"
    stack.mkdir(parents=True)
    (stack / "cdk.tf.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    from tools.policy_scan import stack_dirs

    assert stack_dirs(Path("cdktf.out")) == {"qa": stack}
