"""``adopt plan``: match, write the states and the migration file, prove them layer by layer."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tools.adopt.design import Design, Resolver, read_design, synthesize
from tools.adopt.legacy import AdoptError, legacy_remainder, load_legacy, new_state, write_json
from tools.adopt.matching import Match, _account_of, match
from tools.adopt.proof import PlanConflict, ProofContext, StackProof, TerraformFailed, prove_stack
from tools.adopt.report import Outcome, migration_document, print_matching, print_proof, print_summary
from tools.adopt.rules import describe_with, existing_routes, existing_rules
from tools.adopt.tables import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, LEGACY_FILE, PLAN_FILE, PROOF_DIR, PROTECTED_TYPES

_ALLOW = re.compile(r"(?P<stack>[a-z0-9-]+):(?P<address>aws_[a-z0-9_]+\.[A-Za-z0-9_-]+)")


def _ec2(region: str) -> Any:
    import boto3

    return boto3.session.Session().client("ec2", region_name=region)


def _allowed_addresses(values: list[str], design: Design) -> tuple[set[str], list[str]]:
    """``--allow-replace STACK:ADDRESS`` values, each naming one resource of the design."""
    problems = []
    for value in values:
        found = _ALLOW.fullmatch(value)
        if not found:
            problems.append(f"--allow-replace {value!r}: expected STACK:ADDRESS, such as production-services:aws_ecs_task_definition.api_service_task_definition")
        elif found["stack"] not in design.stacks or not any(r.key == (found["stack"], found["address"]) for r in design.resources()):
            problems.append(f"--allow-replace {value}: the design has no {found['address']} in {found['stack']}")
    return set(values), problems


def run_plan(args: argparse.Namespace) -> int:
    from stacks.config import ConfigError, load_config

    try:
        config = load_config(args.config)
        legacy_state, legacy = load_legacy(args.legacy_state)
        user_override = json.loads(Path(args.override).read_text()) if args.override else None
    except (ConfigError, AdoptError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    out: Path = args.out.resolve()
    migrations_dir: Path = args.migrations_dir.resolve()
    migration_path = migrations_dir / f"{config.environment}.json"
    previous = migration_path.read_bytes() if migration_path.exists() else None
    work = Path(tempfile.mkdtemp(prefix="adopt-synth-"))
    proved = False
    try:
        design = read_design(synthesize(args.config, work / "design", None), config.environment, config.aws_region)
        allow_replace, problems = _allowed_addresses(args.allow_replace, design)
        matching = match(design, legacy)
        outcome = Outcome(retired=set(args.retire))
        unknown_retired = outcome.retired - {i.address for i in legacy}
        problems += matching.problems
        problems += [f"--retire {address}: no managed instance of the legacy state has this address" for address in sorted(unknown_retired)]
        problems += [
            f"--retire {m.legacy.address}: it matches {m.design.stack} {m.design.address} and would be moved, not retired; "
            "drop --retire, or rename it in the design if it really is another resource"
            for m in sorted(matching.matches.values(), key=lambda m: m.legacy.address)
            if m.legacy.address in outcome.retired
        ]
        for instance in matching.unmatched_legacy:
            if instance.type in PROTECTED_TYPES and instance.address not in outcome.retired:
                problems.append(
                    f"{instance.address} ({instance.type}, id {instance.attributes.get('id')}) matches no resource of the design; "
                    f"adopting would orphan it: rename it in the design, or pass --retire {instance.address} after review"
                )
        print_matching(matching, outcome.retired)
        if problems:
            print(f"\nadopt plan: REFUSED, {len(problems)} problem(s); nothing written:", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            return EXIT_REFUSED

        # Rules and routes the adopted groups and tables already hold (inline, or another resource type's):
        # imported, not created again; a legacy rule resource that held one leaves the legacy state with it.
        resolver = Resolver(design, {k: m.legacy for k, m in matching.matches.items()}, _account_of(legacy))
        try:
            outcome.imports, outcome.loose_rules = existing_rules(
                matching.matches.values(), matching.created, resolver, describe_with(_ec2(config.aws_region)), matching.unmatched_legacy
            )
        except (BotoCoreError, ClientError) as error:
            raise AdoptError(f"reading the adopted security groups' rules (ec2:DescribeSecurityGroupRules): {error}") from None
        outcome.imports += existing_routes(matching.matches.values(), matching.created, resolver)
        consumed = {m.evidence.get("legacy") for m in outcome.imports} - {None}
        matching.unmatched_legacy = [i for i in matching.unmatched_legacy if i.address not in consumed]

        # The states, under the new addresses.
        out.mkdir(parents=True, exist_ok=True)
        (out / PLAN_FILE).unlink(missing_ok=True)
        moved_by_stack: dict[str, dict[str, Match]] = {stack: {} for stack in design.order}
        for found in [*matching.matches.values(), *outcome.imports]:
            moved_by_stack[found.design.stack][found.design.address] = found
        for stack in design.order:
            write_json(out / f"{stack}.tfstate", new_state(legacy_state, list(moved_by_stack[stack].values())))
        moved_addresses = {m.legacy.address for m in matching.matches.values()} | consumed
        write_json(out / LEGACY_FILE, legacy_remainder(legacy_state, moved_addresses))

        # The proof, stack by stack in apply order; kept values re-synthesized through the migration file.
        kept = outcome.kept
        write_json(migration_path, migration_document(config, legacy_state, matching, outcome))
        proofs: list[StackProof] = []
        context = ProofContext(legacy, allow_replace, user_override=user_override)
        refused: list[str] = []
        current = design
        for stack in design.order:
            for attempt in range(4):
                try:
                    proof = prove_stack(current, stack, out, moved_by_stack[stack], context)
                    wanted = proof.keep
                except PlanConflict as conflict:
                    proof, wanted = None, conflict.keep
                    failed = conflict.error
                new = {(stack, a): v for a, v in wanted.items() if kept.get((stack, a), {}).items() < ({**kept.get((stack, a), {}), **v}).items()}
                if proof is None and (not new or attempt == 3):
                    raise TerraformFailed(failed)
                if proof is not None and (proof.refused or not new or attempt == 3):
                    break
                for key, values in new.items():
                    kept.setdefault(key, {}).update(values)
                write_json(migration_path, migration_document(config, legacy_state, matching, outcome))
                shutil.rmtree(work / "kept", ignore_errors=True)
                current = read_design(synthesize(args.config, work / "kept", migrations_dir), config.environment, config.aws_region)
            refused += proof.refused
            if proof.keep and not proof.refused:
                proof.violations += [
                    f"{stack} {address} would still be REPLACED after keeping {', '.join(sorted(values))}"
                    for address, values in proof.keep.items()
                    if all(kept.get((stack, address), {}).get(k) == v for k, v in values.items())
                ]
            proofs.append(proof)
            outcome.allowed += proof.allowed
            outputs_state = json.loads((out / f"{stack}.tfstate").read_text())
            outputs_state["outputs"] = proof.outputs
            context.lower_outputs[stack] = out / PROOF_DIR / f"{stack}.outputs.tfstate"
            write_json(context.lower_outputs[stack], outputs_state)
        write_json(migration_path, migration_document(config, legacy_state, matching, outcome))
        violations = refused + [v for proof in proofs for v in proof.violations]
        violations += [
            f"--allow-replace {value}: the proof replaces no such adopted instance (or keeping prevents it); drop the flag"
            for value in sorted(allow_replace - context.allow_used)
        ]
        print_proof(proofs, outcome, migration_path)
        print_summary(design.order, matching, outcome, proofs)
        if violations:
            print(f"\nadopt plan: REFUSED, {len(violations)} problem(s) in the plans; push refuses this folder, {migration_path} is left as it was (what this plan would have written: {out}/{migration_path.stem}.not-proved.json):", file=sys.stderr)
            for violation in violations:
                print(f"  {violation}", file=sys.stderr)
            return EXIT_REFUSED
        write_json(
            out / PLAN_FILE,
            {
                "environment": config.environment,
                "stacks": design.order,
                "legacy_lineage": legacy_state.get("lineage"),
                "legacy_serial": legacy_state.get("serial"),
                "migration": str(migration_path),
                "proved": True,
            },
        )
        proved = True
        print(f"\nadopt plan: proved; review {migration_path}, then: python -m tools.adopt push --config {args.config} --from {args.out} --legacy-key KEY")
        return EXIT_OK
    except (TerraformFailed, AdoptError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_REFUSED
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not proved:
            _restore(migration_path, previous, out)


def _restore(migration_path: Path, previous: bytes | None, out: Path) -> None:
    """A plan that did not prove leaves the migration file as it was (synthesis reads it: a half-proved
    set of kept values must never reach a stack); what it wrote moves to ``OUT/`` for review."""
    if migration_path.exists() and out.exists():
        shutil.copyfile(migration_path, out / f"{migration_path.stem}.not-proved.json")
    if previous is None:
        migration_path.unlink(missing_ok=True)
    else:
        migration_path.write_bytes(previous)
