"""Refuse a Terraform plan that deletes or replaces a data-bearing resource.

    terraform plan -out=tfplan && terraform show -json tfplan > plan.json
    python -m tools.plan_guard plan.json [more.json ...] [--allow ADDRESS ...]

A ForceNew attribute changed in a construct, a renamed logical ID or a
removed block reads as one line in a long plan, and `apply` then empties a
table or a queue. The guard reads the plan's ``resource_changes`` and lists
every change whose actions delete a resource of a type in
``constructs_lib.data_bearing.DATA_BEARING_TYPES`` (a delete, or a replace in either
order), with the attributes that force each replacement. A reviewed change
passes with ``--allow ADDRESS`` (exactly that address, in every plan given).

Exit status: 0 nothing data-bearing lost, 1 deletions or replacements found,
2 bad input (missing file, not JSON, not a plan's JSON).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from constructs_lib.data_bearing import is_data_bearing

EXIT_OK, EXIT_LOSS, EXIT_USAGE = 0, 1, 2
DELETED, REPLACED = "would be DELETED", "would be REPLACED"
# Terraform writes a replacement as delete-then-create, or create-then-delete
# under create_before_destroy; either way the old object, and its data, goes.
_ACTIONS = {
    ("delete",): DELETED,
    ("delete", "create"): REPLACED,
    ("create", "delete"): REPLACED,
}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


class PlanError(Exception):
    """The input is not a readable plan JSON (exit 2)."""


@dataclass(frozen=True)
class Violation:
    """One data-bearing resource the plan would delete or replace."""

    address: str
    type: str
    action: str  # DELETED or REPLACED
    replace_paths: tuple[str, ...] = ()
    deposed: str = ""  # the deposed object's key, when the plan deletes one

    def describe(self) -> str:
        deposed = f" (deposed object {self.deposed})" if self.deposed else ""
        text = f"{self.address}{deposed} ({self.type}) {self.action}"
        if self.replace_paths:
            text += ", forced by " + ", ".join(self.replace_paths)
        return text


def render_path(path: Sequence[str | int]) -> str:
    """A `replace_paths` entry as HCL reads: ``["a", 0, "b"]`` -> ``a[0].b``.

    Map keys are strings too in the plan JSON; those that are not plain
    names are quoted, ``tags["team:owner"]``.
    """
    text = ""
    for step in path:
        if isinstance(step, int):
            text += f"[{step}]"
        elif isinstance(step, str) and _IDENTIFIER.match(step):
            text += f".{step}" if text else step
        else:
            text += f"[{json.dumps(step)}]"
    return text


def check_plan(plan: dict[str, Any], allow: Iterable[str] = frozenset()) -> list[Violation]:
    """Every deletion or replacement of a data-bearing managed resource in `plan`.

    `plan` is the parsed output of `terraform show -json PLANFILE`. Data
    sources (``mode == "data"``) are only read, never destroyed, so they are
    skipped; a deletion counts whatever its ``action_reason`` (a removed
    block or module loses the data all the same). Addresses in `allow` are
    left out. A deposed object (left by a failed create-before-destroy) that
    the plan deletes counts too: it is the old resource, with its data.
    """
    allowed = frozenset(allow)
    violations = []
    for change in plan.get("resource_changes") or ():
        if change.get("mode", "managed") != "managed" or not is_data_bearing(str(change.get("type", ""))):
            continue
        details = change.get("change") or {}
        action = _ACTIONS.get(tuple(details.get("actions") or ()))
        if action is None or change.get("address") in allowed:
            continue
        paths = tuple(render_path(p) for p in details.get("replace_paths") or ()) if action == REPLACED else ()
        violations.append(Violation(str(change.get("address", "?")), str(change["type"]), action, paths, str(change.get("deposed") or "")))
    return violations


def count_changes(plan: dict[str, Any]) -> int:
    """Managed resource instances the plan covers (no-ops included): what was checked."""
    return sum(1 for c in plan.get("resource_changes") or () if c.get("mode", "managed") == "managed")


def allowed_matches(plan: dict[str, Any], allow: Iterable[str]) -> list[Violation]:
    """The violations that `allow` let through, to say so in the output."""
    allow = frozenset(allow)
    return [v for v in check_plan(plan) if v.address in allow]


def load_plan(path: Path) -> dict[str, Any]:
    """Read one `terraform show -json PLANFILE` output, or raise PlanError saying what is wrong.

    Terraform leaves ``resource_changes`` out of a plan that touches no
    resource at all, so a plan is recognised by ``format_version`` plus one
    of the keys only a plan's JSON has (state JSON has neither of these).
    """
    expected = "the JSON of `terraform show -json PLANFILE`"
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise PlanError(f"{path}: no such file; expected {expected}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"{path}: cannot read it ({exc}); expected {expected}") from None
    try:
        plan = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(f"{path}: not JSON ({exc}); expected {expected}") from None
    if not isinstance(plan, dict) or "format_version" not in plan:
        raise PlanError(f"{path}: JSON without format_version; expected {expected}")
    if not any(key in plan for key in ("resource_changes", "planned_values", "output_changes")):
        raise PlanError(
            f"{path}: no resource_changes or planned_values (state JSON? run show -json on a saved plan); expected {expected}"
        )
    changes = plan.get("resource_changes", [])
    if not isinstance(changes, list) or not all(
        isinstance(c, dict) and isinstance(c.get("change"), dict) and isinstance(c["change"].get("actions"), list) for c in changes
    ):
        raise PlanError(f"{path}: resource_changes is not a list of changes with actions; expected {expected}")
    if plan.get("errored"):
        raise PlanError(f"{path}: the plan is marked errored, so its changes are incomplete; expected a plan that succeeded")
    return plan


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.plan_guard",
        description="Fail when a Terraform plan deletes or replaces a data-bearing resource.",
    )
    parser.add_argument("plans", nargs="+", type=Path, metavar="PLAN.json", help="output of `terraform show -json PLANFILE`")
    parser.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="accept a reviewed deletion or replacement of exactly this resource address (repeatable)",
    )
    args = parser.parse_args(argv)

    try:
        plans = [(path, load_plan(path)) for path in args.plans]
    except PlanError as exc:
        print(f"plan guard: {exc}", file=sys.stderr)
        return EXIT_USAGE

    allow = frozenset(args.allow)
    checked, found, used = 0, [], set()
    for path, plan in plans:
        checked += count_changes(plan)
        for violation in allowed_matches(plan, allow):
            used.add(violation.address)
            print(f"plan guard: allowed by --allow: {path}: {violation.describe()}")
        found += [(path, v) for v in check_plan(plan, allow)]
    for address in sorted(allow - used):
        print(f"plan guard: note: --allow {address} matched no deletion or replacement")

    if found:
        print(f"plan guard: {len(found)} data-bearing resource(s) would be lost:")
        for path, violation in found:
            print(f"  {path}: {violation.describe()}")
        print("Change the configuration to keep them, or, after review, rerun with --allow ADDRESS for each.")
        return EXIT_LOSS
    print(f"plan guard: {checked} changes checked, no data-bearing resource deleted or replaced")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
