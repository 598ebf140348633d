"""The policy gate: checkov finds no unskipped failure and no stale skip in any real stack.

Every stack is synthesized once per session (`synth_dir`) and scanned by
`tools.policy_scan`, one checkov process per stack in parallel. A check
that does not fit is skipped next to the resource with
`constructs_lib.policy.skip_check`, never here; the README lists each skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.policy_scan import StackResult, scan, skips_table, stack_dirs

pytestmark = pytest.mark.policy

README = Path(__file__).resolve().parents[1] / "README.md"
SKIPS_BEGIN, SKIPS_END = "<!-- policy-skips:begin -->", "<!-- policy-skips:end -->"


@pytest.fixture(scope="module")
def results(synth_dir: Path) -> dict[str, StackResult]:
    return {result.stack: result for result in scan(stack_dirs(synth_dir))}


def test_stack_passes_the_policy_scan(results: dict[str, StackResult], stack_name: str) -> None:
    result = results[stack_name]
    if not result.ok:
        pytest.fail("\n".join(result.lines()), pytrace=False)


def test_readme_lists_every_skip(synth_dir: Path) -> None:
    """The README's table between the policy-skips markers is `--list-skips`, verbatim."""
    text = README.read_text()
    assert SKIPS_BEGIN in text and SKIPS_END in text, (
        f"README.md needs a {SKIPS_BEGIN} ... {SKIPS_END} section holding `python -m tools.policy_scan --list-skips`"
    )
    section = text[text.index(SKIPS_BEGIN) + len(SKIPS_BEGIN) : text.index(SKIPS_END)].strip()
    assert section == skips_table(stack_dirs(synth_dir)), "paste `python -m tools.policy_scan --list-skips` into README.md"


def test_the_waf_checks_pass_on_every_distribution_and_the_acl_logs(results: dict[str, StackResult]) -> None:
    """Passed, not skipped: each distribution has the web ACL (CKV_AWS_68) with the Log4j rules
    (CKV2_AWS_47), and the ACL logs (CKV2_AWS_31)."""
    for stack in ("production-edge", "staging-edge"):
        passed = results[stack].passed_checks
        for distribution in ("frontend_distribution", "api_distribution", "websocket_distribution"):
            for check_id in ("CKV_AWS_68", "CKV2_AWS_47"):
                assert (check_id, distribution) in passed, (stack, check_id, distribution)
        assert ("CKV2_AWS_31", "web_acl") in passed, stack
        assert not {"CKV_AWS_68", "CKV2_AWS_47", "CKV2_AWS_31"} & {finding.check_id for finding in results[stack].failed}
