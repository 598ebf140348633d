"""Policy-scan skips and accepted live-audit findings, written next to the resource they excuse.

checkov's ``terraform_json`` runner ignores inline skip comments, so a skip
lives in the synthesized JSON instead, in the resource's ``//`` block (a
comment to Terraform; ``cdktf synth --hcl`` leaves it out of the HCL)::

    "//": {"checkov_skip": [{"id": "CKV_AWS_158", "reason": "..."}], "metadata": {...}}

``tools/policy_scan.py`` reads it there, turns each matching failure into a
skip, and fails on a skip that matches no failure, so skips cannot rot.

The skips are kept on the Python side until synth: reading construct
metadata back through jsii costs a few milliseconds per call, and a synth
records about a hundred skips.

cdktf 0.21 details: an aspect writes the skips at synth, when logical IDs
are final; a data source's ``//`` block is rebuilt by cdktf after its own
overrides, so its skips go in through a stack override. ``Testing.synth``
strips every ``//`` key: read skips from an App synth (or
``Testing.full_synth``), or with ``checkov_skips()``.

Findings of the live-account audit (prowler, ``tools/live_audit.py``) that a
resource accepts go the same way, under ``audit_accept`` (``accept_finding``):
the audit turns each matching FAIL into an accepted one and fails on an
acceptance that matches no FAIL.
"""

from __future__ import annotations

import re
import weakref

import jsii
from cdktf import Aspects, IAspect, TerraformDataSource, TerraformResource, TerraformStack
from constructs import IConstruct

SKIP_KEY = "checkov_skip"  # tools/policy_scan.py reads this key; keep both in step
ACCEPT_KEY = "audit_accept"  # tools/live_audit.py reads this key; keep both in step
CHECK_ID_PATTERN = re.compile(r"CKV2?_[A-Z]+_\d+")  # use with fullmatch: `$` would let "CKV_AWS_1\n" through
AUDIT_CHECK_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")  # prowler's check IDs: ecs_task_definitions_containers_readonly_access
MIN_REASON_LENGTH = 20  # long enough to say why, e.g. "key policy: '*' is this key"

# kind -> element -> {check ID: reason}; jsii hands back the same Python object for a construct made in Python.
_RECORDED: dict[str, weakref.WeakKeyDictionary[IConstruct, dict[str, str]]] = {SKIP_KEY: weakref.WeakKeyDictionary(), ACCEPT_KEY: weakref.WeakKeyDictionary()}
_PATTERNS = {SKIP_KEY: (CHECK_ID_PATTERN, "CKV_AWS_158 or CKV2_AWS_5"), ACCEPT_KEY: (AUDIT_CHECK_PATTERN, "a prowler check ID such as vpc_endpoint_connections_trust_boundaries")}


def checkov_skips(element: TerraformResource | TerraformDataSource) -> dict[str, str]:
    """The checks skipped on ``element``: check ID -> reason, in the order added."""
    return dict(_RECORDED[SKIP_KEY].get(element, {}))


def accepted_findings(element: TerraformResource | TerraformDataSource) -> dict[str, str]:
    """The live-audit checks ``element`` accepts: check ID -> reason, in the order added."""
    return dict(_RECORDED[ACCEPT_KEY].get(element, {}))


def skip_check(element: TerraformResource | TerraformDataSource, check_id: str, reason: str) -> None:
    """Record that checkov check ``check_id`` does not apply to ``element``, and why.

    ``reason`` is one line of at least 20 characters that would convince a
    security reviewer; the README lists it. Raises ValueError naming every
    problem (bad ID, weak reason, the same check skipped twice).
    """
    _record(SKIP_KEY, "skip_check", element, check_id, reason)


def accept_finding(element: TerraformResource | TerraformDataSource, check_id: str, reason: str) -> None:
    """Record that the live audit's ``check_id`` fails on ``element`` by design, and why (as ``skip_check``)."""
    _record(ACCEPT_KEY, "accept_finding", element, check_id, reason)


def _record(kind: str, caller: str, element: TerraformResource | TerraformDataSource, check_id: str, reason: str) -> None:
    if not isinstance(element, (TerraformResource, TerraformDataSource)):
        raise TypeError(f"{caller}: expected a Terraform resource or data source, got {type(element).__name__}")
    recorded = _RECORDED[kind]
    existing = dict(recorded.get(element, {}))
    problems = []
    pattern, example = _PATTERNS[kind]
    if not isinstance(check_id, str) or not pattern.fullmatch(check_id):
        problems.append(f"check_id must look like {example}, but {check_id!r} was provided")
    elif check_id in existing:
        problems.append(f"{check_id} is already {'skipped' if kind == SKIP_KEY else 'accepted'} here (reason: {existing[check_id]!r})")
    text = reason.strip() if isinstance(reason, str) else ""
    if len(text.splitlines()) > 1:
        problems.append(f"reason must be a single line, but {len(text.splitlines())} lines were provided")
    elif len(text) < MIN_REASON_LENGTH:
        problems.append(
            f"reason must say why the check does not fit, in at least {MIN_REASON_LENGTH} characters, "
            f"but {reason!r} was provided"
        )
    if problems:
        raise ValueError(f"{caller} on {element.node.path}: " + "; ".join(problems))
    if not existing and not any(element in r for r in _RECORDED.values()):
        Aspects.of(element).add(_WriteSkips())
    recorded.setdefault(element, {})[check_id] = text


@jsii.implements(IAspect)
class _WriteSkips:
    """Writes a resource's or data source's skips and accepted findings into its ``//`` block at synth."""

    def visit(self, node: IConstruct) -> None:
        for kind, recorded in _RECORDED.items():
            entries = [{"id": check_id, "reason": reason} for check_id, reason in recorded.get(node, {}).items()]
            if not entries:
                continue
            if isinstance(node, TerraformResource):
                node.add_override(f"//.{kind}", entries)
            elif isinstance(node, TerraformDataSource):
                path = f"data.{node.terraform_resource_type}.{node.friendly_unique_id}.//.{kind}"
                TerraformStack.of(node).add_override(path, entries)
