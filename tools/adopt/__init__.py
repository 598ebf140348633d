"""Adopt what the legacy HCL project manages into the layer stacks, without recreating it.

    python -m tools.adopt plan --config config/production.tfvars --legacy-state legacy.tfstate --out adopt/ \\
        [--retire ADDRESS ...] [--allow-replace STACK:ADDRESS ...] [--override FILE] [--migrations-dir migrations]
    python -m tools.adopt push --config config/production.tfvars --from adopt/ --legacy-key prod/terraform.tfstate \\
        [--backend-config KEY=VALUE ...] [--force]

``plan`` reads a state file (``terraform state pull`` of the legacy project,
format 4), synthesizes the environment and matches every legacy resource
instance to a synthesized resource by type and identity, never by address
(matching.py: names and IDs first, then use, then weaker identities). It writes
``OUT/<stack>.tfstate`` (the moved instances under their new addresses, fresh
lineage, serial 1; plus the security group rules AWS already holds on adopted
groups, rules.py), ``OUT/legacy.tfstate`` (the remainder: legacy lineage,
serial + 1) and ``migrations/<environment>.json`` (reviewed and committed like
a database migration), then proves the result (proof.py): ``terraform plan``
of every stack against its new local state, in apply order, the layers above
reading what the layers below will hold. Where the design differs from an
adopted instance of any type in an argument that forces its replacement, the
legacy value is kept (applied by synthesis, stacks/migrations.py); a
replacement keeping cannot prevent is allowed only for a harmless type or a
reviewed ``--allow-replace``; a difference the application would notice (a
table's key schema) is refused.

``push`` writes each stack's state to its backend with ``terraform state
push`` (which takes the lock and writes the digest), after a backup of every
state object it replaces, and prints how to undo it.

Exit status: 0 done; 1 refused (the reasons are printed); 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from tools.adopt.design import Design, DesignResource, Resolver, identity_key, legacy_getter, lookup, read_design, synthesize
from tools.adopt.legacy import AdoptError, LegacyInstance, instance_address, legacy_remainder, load_legacy, new_state
from tools.adopt.matching import Match, Matching, created_twice, match
from tools.adopt.tables import AWS_PROVIDER, HARMLESS_REPLACEMENTS, IDENTITY, PROJECT_DIR, PROTECTED_TYPES, REFUSED

__all__ = [
    "AWS_PROVIDER", "AdoptError", "Design", "DesignResource", "HARMLESS_REPLACEMENTS", "IDENTITY", "LegacyInstance", "Match",
    "Matching", "PROTECTED_TYPES", "REFUSED", "Resolver", "created_twice", "identity_key", "instance_address", "legacy_getter",
    "legacy_remainder", "load_legacy", "lookup", "main", "match", "new_state", "read_design", "synthesize",
]  # fmt: skip


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.adopt", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser("plan", help="match the legacy state to the design, write the states and the migration file, prove them")
    plan.add_argument("--config", type=Path, required=True, help="the environment's config file")
    plan.add_argument("--legacy-state", type=Path, required=True, help="the legacy project's state (terraform state pull > FILE)")
    plan.add_argument("--out", type=Path, required=True, help="folder for the new states (one per stack) and legacy.tfstate")
    plan.add_argument("--retire", action="append", default=[], metavar="ADDRESS", help="a protected legacy resource the design no longer has, reviewed (repeatable)")
    plan.add_argument(
        "--allow-replace", action="append", default=[], metavar="STACK:ADDRESS",
        help="accept the replacement of this one adopted resource, reviewed (repeatable; never for a data-bearing type)",
    )  # fmt: skip
    plan.add_argument("--migrations-dir", type=Path, default=PROJECT_DIR / "migrations", help="where <environment>.json is written (default: migrations/)")
    plan.add_argument("--override", type=Path, help="a *_override.tf.json merged into every stack of the proof (e.g. provider endpoints of an emulator)")
    push = commands.add_parser("push", help="write the proved states to their backends, with backups")
    push.add_argument("--config", type=Path, required=True, help="the environment's config file")
    push.add_argument("--from", dest="source", type=Path, required=True, help="the folder adopt plan wrote")
    push.add_argument("--legacy-key", required=True, help="S3 key of the legacy state in the state bucket (the seed's: prod/terraform.tfstate)")
    push.add_argument("--backend-config", action="append", default=[], metavar="KEY=VALUE", help="passed to terraform init (e.g. use_path_style=true)")
    push.add_argument("--force", action="store_true", help="overwrite stack states that already hold resources")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    from tools.adopt.plan import run_plan
    from tools.adopt.push import run_push

    args = parse_args(sys.argv[1:] if argv is None else argv)
    return run_plan(args) if args.command == "plan" else run_push(args)
