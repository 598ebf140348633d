"""Hold every data-bearing resource to its reviewed address, so no refactor silently replaces data.

Terraform knows a resource by its address. Rename a construct, and the
address changes: Terraform plans "destroy the old table, create a new one".
``stacks/data_addresses.json`` is the committed, reviewed list of the address
of every data-bearing resource (constructs_lib/data_bearing.py) per stack. ``check``
compares a synthesized output with it and reports:

* a listed address that is gone from its stack, unless a ``moved`` block in
  that stack carries it to an address that exists (cdktf:
  ``new_resource.move_from_id("<old address>")``, and the old address stays
  in the list until the move has been applied everywhere);
* a listed address that now appears in another stack: a ``moved`` block
  cannot cross states, so the resource must be moved between the two states
  with ``terraform state mv`` first (README, "State layout");
* a data-bearing address that is not in the list: review it, then record it
  with ``update``.

    python -m tools.address_guard check  [--output cdktf.out]
    python -m tools.address_guard update [--output cdktf.out]   # after review: rewrite the list

Exit: 0 clean; 1 problems (each on its own line); 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

from constructs_lib.data_bearing import DATA_BEARING_TYPES

PROJECT_DIR = Path(__file__).resolve().parents[1]
ADDRESSES_FILE = PROJECT_DIR / "stacks" / "data_addresses.json"
STACK_FILE = "cdk.tf.json"


class GuardError(Exception):
    """The synthesized output or the list cannot be read."""


def read_stacks(output: Path) -> dict[str, dict[str, Any]]:
    root = Path(output) / "stacks"
    if not root.is_dir():
        raise GuardError(f"no synthesized stacks in {root}: run `python main.py --output {output}` first")
    try:
        return {path.parent.name: json.loads(path.read_text()) for path in sorted(root.glob(f"*/{STACK_FILE}"))}
    except (OSError, ValueError) as error:
        raise GuardError(f"{root}: {error}") from None


def data_addresses(stack: Mapping[str, Any]) -> list[str]:
    """Addresses of the stack's data-bearing resources, sorted."""
    return sorted(
        f"{resource_type}.{name}"
        for resource_type, blocks in stack.get("resource", {}).items()
        if resource_type in DATA_BEARING_TYPES
        for name in blocks
    )


def all_addresses(stack: Mapping[str, Any]) -> set[str]:
    return {f"{resource_type}.{name}" for resource_type, blocks in stack.get("resource", {}).items() for name in blocks}


def moves(stack: Mapping[str, Any]) -> dict[str, str]:
    """``moved`` blocks of the stack: from -> to."""
    return {block["from"]: block["to"] for block in stack.get("moved", [])}


def synthesized_list(stacks: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """What ``update`` writes: stack -> data-bearing addresses (stacks without any left out)."""
    return {name: addresses for name, stack in sorted(stacks.items()) if (addresses := data_addresses(stack))}


def check(stacks: Mapping[str, Mapping[str, Any]], reviewed: Mapping[str, Sequence[str]]) -> list[str]:
    """Every problem, one line each (empty when the output keeps every reviewed address)."""
    problems: list[str] = []
    located = {address: name for name, stack in stacks.items() for address in all_addresses(stack)}
    for stack_name, addresses in sorted(reviewed.items()):
        stack = stacks.get(stack_name)
        for address in addresses:
            if stack is not None and address in all_addresses(stack):
                continue
            target = moves(stack).get(address) if stack is not None else None
            if target is not None and target in all_addresses(stack):
                continue
            elsewhere = located.get(address)
            if elsewhere is not None and elsewhere != stack_name:
                problems.append(
                    f"{stack_name}: {address} now belongs to stack {elsewhere}; a moved block cannot cross states: move it with "
                    f"`terraform state mv -state=<{stack_name} state> -state-out=<{elsewhere} state> {address} {address}` "
                    "(README, State layout), then run `python -m tools.address_guard update`"
                )
            elif stack is None:
                problems.append(f"{stack_name}: the stack is gone, and with it {address}; keep the stack or move its resources first")
            elif target is not None:
                problems.append(f"{stack_name}: {address} has a moved block to {target}, which the stack does not have")
            else:
                problems.append(
                    f"{stack_name}: {address} is gone from the stack, so Terraform would destroy it; if it has a new address, add "
                    f'`<new resource>.move_from_id("{address}")` where the construct makes it (a moved block), or restore the old construct ID'
                )
    for stack_name, stack in sorted(stacks.items()):
        listed = set(reviewed.get(stack_name, ()))
        carried = set(moves(stack).values())
        for address in data_addresses(stack):
            if address not in listed and address not in carried:
                problems.append(
                    f"{stack_name}: {address} is data-bearing but not in {ADDRESSES_FILE.name}: review it, "
                    "then record it with `python -m tools.address_guard update`"
                )
    return problems


def read_reviewed(path: Path = ADDRESSES_FILE) -> dict[str, list[str]]:
    try:
        reviewed = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise GuardError(f"{path} does not exist: create it with `python -m tools.address_guard update`") from None
    except (OSError, ValueError) as error:
        raise GuardError(f"{path}: {error}") from None
    if not isinstance(reviewed, dict) or not all(isinstance(v, list) and all(isinstance(a, str) for a in v) for v in reviewed.values()):
        raise GuardError(f"{path}: expected an object of stack name -> list of addresses")
    return reviewed


def render(addresses: Mapping[str, Sequence[str]]) -> str:
    return json.dumps(addresses, indent=2, sort_keys=True) + "\n"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.address_guard", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("check", "update"))
    parser.add_argument("--output", type=Path, default=Path("cdktf.out"), help="synthesized output folder (default: cdktf.out)")
    parser.add_argument("--addresses", type=Path, default=ADDRESSES_FILE, help=f"the reviewed list (default: {ADDRESSES_FILE.relative_to(PROJECT_DIR)})")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        stacks = read_stacks(args.output)
        if args.command == "update":
            args.addresses.write_text(render(synthesized_list(stacks)))
            print(f"wrote {args.addresses}: review the diff before you commit it")
            return 0
        problems = check(stacks, read_reviewed(args.addresses))
    except GuardError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem)
    if problems:
        print(f"address guard: {len(problems)} problem(s)")
        return 1
    print(f"address guard: every reviewed data-bearing address is where it was ({len(stacks)} stacks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
