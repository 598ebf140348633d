"""constructs_lib/policy.py: skips land in the `//` block of the App synth; bad skips are refused."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import constructs_lib  # noqa: F401  (cheap provider imports)
import cdktf
from cdktf import App, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_availability_zones import DataAwsAvailabilityZones
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs_lib.policy import SKIP_KEY, checkov_skips, skip_check
from tests.harness.terraform import Terraform
from tests.support import data_sources, resources
from tools.policy_scan import Address, read_skips

KMS_REASON = "Holds only VPC flow metadata; CloudWatch Logs encrypts it at rest with AWS-owned keys"
RETENTION_REASON = "Flow logs are kept 90 days by policy; the account's archive keeps them longer"
ZONES_REASON = "Zones are pinned by the subnets' own availability_zone arguments, not by this lookup"


class Built:
    def __init__(self, outdir: Path) -> None:
        self.app = App(outdir=str(outdir), stack_traces=False)
        self.stack = TerraformStack(self.app, "policy")
        AwsProvider(self.stack, "aws", region="us-east-1")
        self.group = CloudwatchLogGroup(self.stack, "flow-logs", name="/vpc/flow-logs", retention_in_days=90)
        self.zones = DataAwsAvailabilityZones(self.stack, "zones", state="available")
        self.plain = CloudwatchLogGroup(self.stack, "plain", name="/plain", retention_in_days=90)
        skip_check(self.group, "CKV_AWS_158", KMS_REASON)
        skip_check(self.group, "CKV_AWS_338", f"  {RETENTION_REASON}  ")
        skip_check(self.zones, "CKV_AWS_394", ZONES_REASON)
        self.outdir = outdir
        self.app.synth()
        self.document: dict[str, Any] = json.loads((outdir / "stacks" / "policy" / "cdk.tf.json").read_text())
        # The validation tests add their resources here, after the synth above.
        self.scratch = TerraformStack(self.app, "scratch")
        self._ids = itertools.count()

    def log_group(self) -> CloudwatchLogGroup:
        return CloudwatchLogGroup(self.scratch, f"group-{next(self._ids)}", name="/x")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return Built(tmp_path_factory.mktemp("policy") / "cdktf.out")


def comment(items: dict[str, Any], element: cdktf.TerraformElement) -> dict[str, Any]:
    return items[element.friendly_unique_id]["//"]


def test_skips_are_written_next_to_the_resource_in_order(built: Built) -> None:
    block = comment(resources(built.document, CloudwatchLogGroup.TF_RESOURCE_TYPE), built.group)
    assert block[SKIP_KEY] == [
        {"id": "CKV_AWS_158", "reason": KMS_REASON},
        {"id": "CKV_AWS_338", "reason": RETENTION_REASON},  # stripped
    ]
    assert block["metadata"]["path"] == "policy/flow-logs", "cdktf's own metadata is kept beside the skips"


def test_a_data_source_skip_survives_cdktf_rebuilding_its_comment(built: Built) -> None:
    block = comment(data_sources(built.document, DataAwsAvailabilityZones.TF_RESOURCE_TYPE), built.zones)
    assert block[SKIP_KEY] == [{"id": "CKV_AWS_394", "reason": ZONES_REASON}]
    assert block["metadata"]["path"] == "policy/zones"


def test_an_element_without_skips_has_no_skip_block(built: Built) -> None:
    assert SKIP_KEY not in comment(resources(built.document, CloudwatchLogGroup.TF_RESOURCE_TYPE), built.plain)


def test_skips_change_nothing_terraform_reads(built: Built) -> None:
    """cdktf.Testing.synth drops every `//` block, so the configuration is that of the unskipped resources."""
    document = json.loads(cdktf.Testing.synth(built.stack))
    assert resources(document, CloudwatchLogGroup.TF_RESOURCE_TYPE)[built.group.friendly_unique_id] == {
        "name": "/vpc/flow-logs",
        "retention_in_days": 90,
    }


def test_the_policy_scan_reads_them_where_they_are_written(built: Built) -> None:
    assert read_skips(built.document) == {
        Address("resource", "aws_cloudwatch_log_group", built.group.friendly_unique_id): {
            "CKV_AWS_158": KMS_REASON,
            "CKV_AWS_338": RETENTION_REASON,
        },
        Address("data", "aws_availability_zones", built.zones.friendly_unique_id): {"CKV_AWS_394": ZONES_REASON},
    }


def test_checkov_skips_reads_them_back(built: Built) -> None:
    assert checkov_skips(built.group) == {"CKV_AWS_158": KMS_REASON, "CKV_AWS_338": RETENTION_REASON}
    assert checkov_skips(built.plain) == {}


# -- validation --------------------------------------------------------------------
@pytest.mark.parametrize("check_id", ["ckv_aws_158", "CKV_AWS_", "CKV3_AWS_1", "BC_AWS_GENERAL_1", "CKV_AWS_1 ", "CKV_AWS_158\n", ""])
def test_a_malformed_check_id_is_refused(built: Built, check_id: str) -> None:
    group = built.log_group()
    with pytest.raises(ValueError, match=r"check_id must look like CKV_AWS_158 or CKV2_AWS_5, but .* was provided"):
        skip_check(group, check_id, KMS_REASON)
    assert checkov_skips(group) == {}


def test_a_graph_check_id_is_accepted(built: Built) -> None:
    group = built.log_group()
    skip_check(group, "CKV2_AWS_5", "A reason that is long enough for a reviewer")
    assert checkov_skips(group) == {"CKV2_AWS_5": "A reason that is long enough for a reviewer"}


@pytest.mark.parametrize("reason", ["", "   ", "n/a", "not needed here", "x" * 19])
def test_a_reason_a_reviewer_would_not_accept_is_refused(built: Built, reason: str) -> None:
    group = built.log_group()
    with pytest.raises(ValueError, match="reason must say why the check does not fit, in at least 20 characters"):
        skip_check(group, "CKV_AWS_158", reason)


def test_a_multi_line_reason_is_refused(built: Built) -> None:
    group = built.log_group()
    with pytest.raises(ValueError, match="reason must be a single line, but 2 lines were provided"):
        skip_check(group, "CKV_AWS_158", "First line of the reason\nsecond line of it")


def test_the_same_check_twice_is_refused_with_the_first_reason(built: Built) -> None:
    with pytest.raises(ValueError, match=r"policy/flow-logs: CKV_AWS_158 is already skipped here \(reason: 'Holds only"):
        skip_check(built.group, "CKV_AWS_158", "Another reason, also long enough")
    assert list(checkov_skips(built.group)) == ["CKV_AWS_158", "CKV_AWS_338"]


def test_every_problem_is_reported_at_once(built: Built) -> None:
    group = built.log_group()
    with pytest.raises(ValueError) as error:
        skip_check(group, "AWS_158", "n/a")
    assert str(error.value).startswith(f"skip_check on {group.node.path}: check_id must look like")
    assert "; reason must say why" in str(error.value)


def test_only_resources_and_data_sources_can_be_skipped(built: Built) -> None:
    output = TerraformOutput(built.scratch, "an-output", value="x")
    with pytest.raises(TypeError, match="expected a Terraform resource or data source, got TerraformOutput"):
        skip_check(output, "CKV_AWS_158", KMS_REASON)  # type: ignore[arg-type]


# -- Terraform still reads the file ------------------------------------------------
@pytest.mark.terraform
def test_terraform_accepts_the_skips_in_json_and_hcl(built: Built, terraform_env: dict[str, str], tmp_path: Path) -> None:
    """`//` is a comment in Terraform JSON; the HCL rendering leaves the skips out."""
    json_dir = shutil.copytree(built.outdir / "stacks" / "policy", tmp_path / "json")
    hcl_dir = tmp_path / "hcl"
    hcl_dir.mkdir()
    hcl = cdktf.Testing.synth_hcl(built.stack)
    assert SKIP_KEY not in hcl
    (hcl_dir / "main.tf").write_text(hcl)
    for workdir in (json_dir, hcl_dir):
        terraform = Terraform(workdir, terraform_env)
        terraform.init(backend=False)
        result = terraform.validate()
        assert result["valid"], f"{workdir.name}: {json.dumps(result['diagnostics'], indent=2)}"


def test_accepted_audit_findings_land_beside_the_skips_and_bad_ones_are_refused(tmp_path: Path) -> None:
    from constructs_lib.policy import ACCEPT_KEY, accept_finding, accepted_findings

    app = App(outdir=str(tmp_path), stack_traces=False)
    stack = TerraformStack(app, "audit")
    AwsProvider(stack, "aws", region="us-east-1")
    group = CloudwatchLogGroup(stack, "flow-logs", name="/vpc/flow-logs", retention_in_days=90)
    accept_finding(group, "cloudwatch_log_group_retention_policy_specific_days_enabled", RETENTION_REASON)
    skip_check(group, "CKV_AWS_158", KMS_REASON)
    assert accepted_findings(group) == {"cloudwatch_log_group_retention_policy_specific_days_enabled": RETENTION_REASON}
    with pytest.raises(ValueError) as refused:
        accept_finding(group, "CKV_AWS_158", "short")
    assert str(refused.value) == (
        "accept_finding on audit/flow-logs: check_id must look like a prowler check ID such as vpc_endpoint_connections_trust_boundaries, "
        "but 'CKV_AWS_158' was provided; reason must say why the check does not fit, in at least 20 characters, but 'short' was provided"
    )
    app.synth()
    body = json.loads((tmp_path / "stacks" / "audit" / "cdk.tf.json").read_text())["resource"]["aws_cloudwatch_log_group"]["flow-logs"]
    assert body["//"][ACCEPT_KEY] == [{"id": "cloudwatch_log_group_retention_policy_specific_days_enabled", "reason": RETENTION_REASON}]
    assert body["//"][SKIP_KEY] == [{"id": "CKV_AWS_158", "reason": KMS_REASON}]
