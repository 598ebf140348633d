"""Policy-scan skips, written next to the resource they excuse.

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
"""

from __future__ import annotations

import re
import weakref

import jsii
from cdktf import Aspects, IAspect, TerraformDataSource, TerraformResource, TerraformStack
from constructs import IConstruct

SKIP_KEY = "checkov_skip"  # tools/policy_scan.py reads this key; keep both in step
CHECK_ID_PATTERN = re.compile(r"CKV2?_[A-Z]+_\d+")  # use with fullmatch: `$` would let "CKV_AWS_1\n" through
MIN_REASON_LENGTH = 20  # long enough to say why, e.g. "key policy: '*' is this key"

# element -> {check ID: reason}; jsii hands back the same Python object for a construct made in Python.
_SKIPS: weakref.WeakKeyDictionary[IConstruct, dict[str, str]] = weakref.WeakKeyDictionary()


def checkov_skips(element: TerraformResource | TerraformDataSource) -> dict[str, str]:
    """The checks skipped on ``element``: check ID -> reason, in the order added."""
    return dict(_SKIPS.get(element, {}))


def skip_check(element: TerraformResource | TerraformDataSource, check_id: str, reason: str) -> None:
    """Record that checkov check ``check_id`` does not apply to ``element``, and why.

    ``reason`` is one line of at least 20 characters that would convince a
    security reviewer; the README lists it. Raises ValueError naming every
    problem (bad ID, weak reason, the same check skipped twice).
    """
    if not isinstance(element, (TerraformResource, TerraformDataSource)):
        raise TypeError(f"skip_check: expected a Terraform resource or data source, got {type(element).__name__}")
    existing = checkov_skips(element)
    problems = []
    if not isinstance(check_id, str) or not CHECK_ID_PATTERN.fullmatch(check_id):
        problems.append(f"check_id must look like CKV_AWS_158 or CKV2_AWS_5, but {check_id!r} was provided")
    elif check_id in existing:
        problems.append(f"{check_id} is already skipped here (reason: {existing[check_id]!r})")
    text = reason.strip() if isinstance(reason, str) else ""
    if len(text.splitlines()) > 1:
        problems.append(f"reason must be a single line, but {len(text.splitlines())} lines were provided")
    elif len(text) < MIN_REASON_LENGTH:
        problems.append(
            f"reason must say why the check does not fit, in at least {MIN_REASON_LENGTH} characters, "
            f"but {reason!r} was provided"
        )
    if problems:
        raise ValueError(f"skip_check on {element.node.path}: " + "; ".join(problems))
    if not existing:
        _SKIPS[element] = {}
        Aspects.of(element).add(_WriteSkips())
    _SKIPS[element][check_id] = text


@jsii.implements(IAspect)
class _WriteSkips:
    """Writes a resource's or data source's skips into its ``//`` block at synth."""

    def visit(self, node: IConstruct) -> None:
        skips = [{"id": check_id, "reason": reason} for check_id, reason in checkov_skips(node).items()]
        if not skips:
            return
        if isinstance(node, TerraformResource):
            node.add_override(f"//.{SKIP_KEY}", skips)
        elif isinstance(node, TerraformDataSource):
            path = f"data.{node.terraform_resource_type}.{node.friendly_unique_id}.//.{SKIP_KEY}"
            TerraformStack.of(node).add_override(path, skips)
