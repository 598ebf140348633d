"""docs/runbook.md names only outputs the stacks have, runs only commands our tools accept, and releases locks safely."""

from __future__ import annotations

import importlib
import json
import re
import shlex
from pathlib import Path

import pytest

from tests.conftest import environment_configs

PROJECT = Path(__file__).resolve().parents[1]
RUNBOOK = PROJECT / "docs" / "runbook.md"
OUTPUT_REFERENCE = re.compile(r"\$\(out\s+([A-Za-z0-9_]+)\)")
TOOL_COMMAND = re.compile(r"(\$\()?python -m (tools\.[a-z_]+)\s+(.*?)(?:\s+#.*)?$")


def runbook() -> str:
    return RUNBOOK.read_text()


def code_blocks(text: str) -> list[str]:
    return re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.DOTALL)


def command_lines(text: str) -> list[str]:
    """Shell lines of the code blocks, continuation lines joined."""
    lines: list[str] = []
    for block in code_blocks(text):
        joined = re.sub(r"\\\n\s*", " ", block)
        lines.extend(line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#"))
    return lines


def referenced_outputs() -> set[str]:
    return set(OUTPUT_REFERENCE.findall(runbook()))


def test_the_runbook_reads_names_from_outputs():
    names = referenced_outputs()
    assert len(names) >= 20, sorted(names)
    # The seed's hard-coded names are gone.
    text = "\n".join(code_blocks(runbook()))
    for seed_name in ("circle-of-trust-api ", "circle-of-trust-jobs", "circle-of-trust-frontend", "circle-of-trust.local", ":42"):
        assert seed_name not in text, seed_name


def test_every_output_the_runbook_uses_exists_in_a_layer_of_every_environment(synth_dir):
    """`out NAME` (tools.outputs) finds each one in some layer of each environment."""
    from tools.outputs import OutputsError, owning_stack

    names = referenced_outputs()
    for environment in sorted(environment_configs()):
        missing = []
        for name in sorted(names):
            try:
                owning_stack(synth_dir, environment, name)
            except OutputsError:
                missing.append(name)
        assert not missing, f"{environment}: docs/runbook.md reads outputs no layer has: {missing}"


def test_the_runbook_defines_out_and_never_reads_one_layer_by_hand():
    text = runbook()
    assert 'out() { python -m tools.outputs "$ENVIRONMENT" "$1"; }' in text
    assert "terraform output -raw" not in text


def test_the_output_table_lists_exactly_the_outputs_used():
    text = runbook()
    section = text[text.index("Outputs this runbook uses:") : text.index("## Monitoring")]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    listed = {name for row in rows for name in re.findall(r"`([a-z0-9_]+)`", row)}
    assert listed == referenced_outputs()


def test_state_locks_are_released_with_force_unlock_never_by_deleting_the_item():
    lines = command_lines(runbook())
    assert any(line.startswith("terraform force-unlock ") for line in lines)
    lock_tables = {config.state_lock_table for config in environment_configs().values()}
    for line in lines:
        assert "delete-item" not in line, line
        if any(table in line for table in lock_tables):
            assert not re.search(r"\bdelete", line), line


def test_cleanup_destroys_each_stack_before_the_backend():
    text = runbook()
    cleanup = text[text.index("## Cleanup") :]
    destroy = cleanup.index('terraform -chdir="cdktf.out/stacks/$stack" destroy')
    assert cleanup.index("--reverse") < destroy < cleanup.index("tools.bootstrap teardown")


def _tool_invocations() -> list[tuple[str, list[str]]]:
    invocations = []
    for line in command_lines(runbook()):
        match = TOOL_COMMAND.search(line)
        if match:
            command = match.group(3)
            if match.group(1):  # $(python -m ...): the command ends at its closing parenthesis
                command = command.split(")", 1)[0]
            command = command.split("; }", 1)[0]  # the body of a shell function
            args = [re.sub(r"^\$\{?[A-Z_]+\}?$", "placeholder", arg) for arg in shlex.split(command)]
            invocations.append((match.group(2), args))
    return invocations


def test_the_runbook_uses_the_rollback_and_teardown_commands():
    commands = {(module, args[0]) for module, args in _tool_invocations()}
    assert ("tools.ecs_deploy", "rollback") in commands
    assert ("tools.bootstrap", "teardown") in commands


@pytest.mark.parametrize(("module", "args"), _tool_invocations(), ids=lambda value: value if isinstance(value, str) else " ".join(value))
def test_every_tool_command_parses(module, args):
    tool = importlib.import_module(module)
    parsed = tool.parse_args(args)
    if hasattr(parsed, "command"):
        assert parsed.command == args[0]
    else:  # tools.outputs: ENVIRONMENT NAME
        assert [parsed.environment, parsed.name] == args[:2]


def test_every_alarm_that_pages_has_a_runbook_section(synth_dir):
    """Alarm descriptions send the reader to "docs/runbook.md, Alarms": each one must find its section there."""
    headings = set(re.findall(r"^### (.+)$", runbook(), flags=re.MULTILINE))
    sections = {name.strip("`") for heading in headings for name in heading.split(", ")}
    paging = 0
    for environment, config in sorted(environment_configs().items()):
        alarms = {
            name: alarm
            for layer in sorted((synth_dir / "stacks").glob(f"{environment}-*"))
            for name, alarm in json.loads((layer / "cdk.tf.json").read_text()).get("resource", {}).get("aws_cloudwatch_metric_alarm", {}).items()
        }
        stack = environment
        for alarm in alarms.values():
            if "docs/runbook.md" not in alarm.get("alarm_description", ""):
                continue  # scaling alarms act on a service, not on people
            paging += 1
            generic = "<prefix>" + alarm["alarm_name"].removeprefix(config.resource_prefix)
            assert generic in sections, f"{stack}: alarm {alarm['alarm_name']} has no `### {generic}` section in docs/runbook.md"
    assert paging >= 17, paging
