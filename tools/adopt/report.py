"""What adoption writes for review: the migration file and the printed report, per layer."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from tools.adopt.matching import Match, Matching
from tools.adopt.proof import Replacement, StackProof
from tools.adopt.rules import ExistingRule
from tools.adopt.tables import _NAME_OF_ARN, LEGACY_RELEASE_STRATEGY, PROTECTED_TYPES



@dataclass
class Outcome:
    """Everything the migration file records besides the matching itself."""

    retired: set[str] = field(default_factory=set)
    kept: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    imports: list[Match] = field(default_factory=list)
    loose_rules: list[ExistingRule] = field(default_factory=list)
    allowed: list[Replacement] = field(default_factory=list)


def migration_document(config: Any, legacy_state: Mapping[str, Any], matching: Matching, outcome: Outcome) -> dict[str, Any]:
    moves = sorted(matching.matches.values(), key=lambda m: m.legacy.address)
    left = []
    for instance in sorted(matching.unmatched_legacy, key=lambda i: i.address):
        protected = instance.type in PROTECTED_TYPES
        reason = (
            "retired with --retire: not managed by the new design"
            if instance.address in outcome.retired
            else f"no {instance.type} of the design has its identity"
            + ("" if protected else "; not protected: it stays in the legacy state")
        )
        left.append({"legacy": instance.address, "id": instance.attributes.get("id"), "reason": reason, "remove_once_reviewed": f"terraform state rm '{instance.address}'"})
    by_address = {(m.design.stack, m.design.address): m for m in moves}
    imported = {(m.design.stack, m.design.address) for m in outcome.imports}
    return {
        "environment": config.environment,
        "legacy": {"lineage": legacy_state.get("lineage"), "serial": legacy_state.get("serial")},
        "moves": [
            {"legacy": m.legacy.address, "stack": m.design.stack, "address": m.design.address, "id": m.legacy.attributes.get("id"), "evidence": m.evidence}
            for m in moves
        ],
        "kept": [
            {
                "stack": stack,
                "address": address,
                "attribute": attribute,
                "value": value,
                "legacy": by_address[(stack, address)].legacy.address if (stack, address) in by_address else None,
                "reason": "the design's value forces replacement of an adopted resource; the legacy value is kept",
                "to_drop": _to_drop(config.environment, stack, address, attribute, value),
            }
            for (stack, address), attributes in sorted(outcome.kept.items())
            for attribute, value in sorted(attributes.items())
        ],
        "allowed_replacements": [
            {"stack": r.stack, "address": r.address, "legacy": r.legacy, "forced_by": r.attributes, "reason": r.reason}
            for r in sorted(outcome.allowed, key=lambda r: (r.stack, r.address))
        ],
        "imported": [
            {"stack": m.design.stack, "address": m.design.address, "id": m.legacy.attributes["id"], "evidence": m.evidence}
            for m in sorted(outcome.imports, key=lambda m: m.design.key)
        ],
        "rules_left_in_place": [
            {"group": r.group, "group_id": r.group_id, "rule_id": r.rule_id, "rule": r.text, "revoke_once_reviewed": r.revoke}
            for r in sorted(outcome.loose_rules, key=lambda r: (r.group_id, r.rule_id))
        ],
        **_release(config),
        "left_in_legacy_state": left,
        "created_new": [{"stack": r.stack, "address": r.address} for r in sorted(matching.created, key=lambda r: r.key) if r.key not in imported],
    }


def _release(config: Any) -> dict[str, Any]:
    """The legacy API's release strategy, kept while the config names another (stacks/migrations.py)."""
    if config.api_release_strategy == LEGACY_RELEASE_STRATEGY:
        return {}
    return {
        "release": {
            "api_release_strategy": LEGACY_RELEASE_STRATEGY,
            "config": config.api_release_strategy,
            "reason": (
                "the legacy API service runs under ECS's own deployment controller, which ECS can't change in place: "
                f"api_release_strategy = \"{config.api_release_strategy}\" would replace it while it serves"
            ),
            "to_drop": (
                'README "Moving to canary releases": set this to "cutover" and apply network, edge, services; deploy the '
                "serving image to api-blue-green; then remove this entry and the kept entries of the rolling API service "
                "(aws_ecs_service.api_service and its task definition and scaling, aws_lb_target_group.websocket_api_target_group), "
                "and apply edge, services, network, operations"
            ),
        }
    }


def _to_drop(environment: str, stack: str, address: str, attribute: str, value: Any) -> str:
    if attribute in _NAME_OF_ARN and isinstance(value, str) and value.startswith("arn:"):
        # The provider keeps the format the state holds (ARN or name) for the same object.
        return (
            f"nothing to drop: the legacy {attribute} is the design's, written as an ARN; dropping it would replace "
            f"{address} for no change in AWS"
        )
    return (
        f"remove this entry from migrations/{environment}.json; the next plan of {stack} then replaces {address} "
        f"(forced by {attribute}): schedule it as a deliberate change, with its data moved first where it holds any, "
        "and for what running tasks use (a security group, a Cloud Map service, a load balancer) a cutover: the new one "
        "created beside it under another name, its users moved, then the old one removed"
    )


def print_matching(matching: Matching, retired: set[str]) -> None:
    rows = sorted(matching.matches.values(), key=lambda m: (m.design.stack, m.design.address))
    print(f"MOVED ({len(rows)}):")
    for m in rows:
        evidence = ", ".join(f"{k}={v}" for k, v in m.evidence.items())
        print(f"  {m.legacy.address:55} -> {m.design.stack} {m.design.address}  [{evidence}]")
    print(f"LEFT IN THE LEGACY STATE ({len(matching.unmatched_legacy)}):")
    for instance in sorted(matching.unmatched_legacy, key=lambda i: i.address):
        why = "retired (--retire)" if instance.address in retired else ("PROTECTED, matches nothing" if instance.type in PROTECTED_TYPES else "matches nothing in the design")
        print(f"  {instance.address:55} {why}; once reviewed: terraform state rm '{instance.address}'")
    print(f"TO BE CREATED NEW ({len(matching.created)}):")
    by_stack: dict[str, list[str]] = {}
    for resource in matching.created:
        by_stack.setdefault(resource.stack, []).append(resource.address)
    for stack, addresses in by_stack.items():
        print(f"  {stack}: {len(addresses)}: {', '.join(addresses)}")


def print_proof(proofs: Sequence[StackProof], outcome: Outcome, migration_path: Path) -> None:
    print("\nPROOF (terraform plan of each stack against its new state, in apply order):")
    for proof in proofs:
        print(f"  {proof.stack}: {len(proof.creates)} to create, {len(proof.updates)} to update in place, {len(proof.replaces)} to replace, {len(proof.deletes)} to destroy")
        for line in proof.updates:
            print(f"    update   {line}")
        for line in proof.replaces:
            print(f"    replace  {line}")
        for line in proof.deletes:
            print(f"    destroy  {line}")
        for line in proof.cascades:
            print(f"    because  {line}")
    if outcome.kept:
        print(f"KEPT LEGACY VALUES (in {migration_path}; synthesis applies them):")
        for (stack, address), values in sorted(outcome.kept.items()):
            for attribute, value in sorted(values.items()):
                print(f"  {stack} {address}.{attribute} = {json.dumps(value)}")
                print(f"    to drop it later: {_to_drop(migration_path.stem, stack, address, attribute, value)}")
    if outcome.allowed:
        print("ALLOWED REPLACEMENTS (of adopted instances):")
        for r in sorted(outcome.allowed, key=lambda r: (r.stack, r.address)):
            print(f"  {r.stack} {r.address} (legacy {r.legacy}, forced by {', '.join(r.attributes)}): {r.reason}")
    if outcome.imports:
        print("IMPORTED (rules and routes the adopted groups and tables already hold; creating them again would fail):")
        for m in sorted(outcome.imports, key=lambda m: m.design.key):
            held = f", taken over from legacy {m.evidence['legacy']}" if m.evidence.get("legacy") else ""
            print(f"  {m.design.stack} {m.design.address} <- {m.legacy.attributes['id']} ({m.legacy.address}{held})")
    if outcome.loose_rules:
        print("RULES LEFT IN PLACE (on adopted groups, not in the design; revoke each once reviewed):")
        for r in outcome.loose_rules:
            print(f"  {r.group} {r.rule_id} ({r.text}): {r.revoke}")


def print_summary(order: Sequence[str], matching: Matching, outcome: Outcome, proofs: Sequence[StackProof]) -> None:
    """One line per layer: what happens to it, as the migration file records it."""
    created = {p.stack: len(p.creates) for p in proofs}
    print("\nSUMMARY per layer (moved | kept values | allowed replacements | created new):")
    for stack in order:
        moved = sum(1 for m in matching.matches.values() if m.design.stack == stack) + sum(1 for m in outcome.imports if m.design.stack == stack)
        kept = sum(len(v) for (s, _), v in outcome.kept.items() if s == stack)
        allowed = sum(1 for r in outcome.allowed if r.stack == stack)
        print(f"  {stack:28} {moved:4} moved | {kept:3} kept | {allowed:3} allowed replacements | {created.get(stack, 0):4} created new")
    print(f"  left in the legacy state: {len(matching.unmatched_legacy)} ({len(outcome.retired)} retired)")
