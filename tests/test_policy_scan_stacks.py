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
