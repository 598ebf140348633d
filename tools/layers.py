"""The order to apply (or destroy) the synthesized stacks, read from cdktf's manifest.

Each stack lists the stacks it reads from in ``manifest.json``
(``dependencies``, which cdktf derives from the cross-stack references), so
the order lives in one place: the code that makes the references. The
infrastructure workflow, the README's commands and the emulated tests all
take it from here instead of repeating it.

    python -m tools.layers order [--environment production] [--output cdktf.out] [--reverse]

prints one stack name per line, dependencies first (``--reverse``: the
destroy order). Exit 2 with one message when the manifest is missing or
unreadable, or names a cycle or an unknown stack.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Mapping, Sequence

MANIFEST = "manifest.json"


class LayersError(Exception):
    """The manifest cannot give an order."""


def read_dependencies(output: Path) -> dict[str, tuple[str, ...]]:
    """Stack name -> the stacks it reads from, as the manifest lists them."""
    path = Path(output) / MANIFEST
    try:
        stacks = json.loads(path.read_text())["stacks"]
        return {name: tuple(stack.get("dependencies", ())) for name, stack in stacks.items()}
    except FileNotFoundError:
        raise LayersError(f"{path} does not exist: run `python main.py --output {output}` first") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise LayersError(f"{path} is not a cdktf manifest ({error.__class__.__name__}: {error})") from None


def apply_order(dependencies: Mapping[str, Sequence[str]], environment: str | None = None) -> list[str]:
    """Stacks in an order where each comes after the stacks it reads; ties by name (stable output).

    With ``environment``, only that environment's stacks (``<environment>-<layer>``).
    """
    names = sorted(name for name in dependencies if environment is None or name.startswith(f"{environment}-"))
    if not names:
        raise LayersError(f"no stack of environment {environment!r} in the manifest (stacks: {', '.join(sorted(dependencies))})")
    for name in names:
        for needed in dependencies[name]:
            if needed not in dependencies:
                raise LayersError(f"stack {name} depends on {needed}, which the manifest does not list")
    order: list[str] = []
    done: set[str] = set()
    remaining = list(names)
    while remaining:
        ready = [name for name in remaining if all(needed in done or needed not in names for needed in dependencies[name])]
        if not ready:
            raise LayersError(f"the stacks {', '.join(remaining)} depend on each other in a cycle")
        for name in ready:
            order.append(name)
            done.add(name)
            remaining.remove(name)
    return order


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.layers", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    order = commands.add_parser("order", help="print the stacks in apply order, one per line")
    order.add_argument("--environment", help="only this environment's stacks")
    order.add_argument("--output", type=Path, default=Path("cdktf.out"), help="synthesized output folder (default: cdktf.out)")
    order.add_argument("--reverse", action="store_true", help="destroy order: dependents first")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        order = apply_order(read_dependencies(args.output), args.environment)
    except LayersError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("\n".join(reversed(order) if args.reverse else order))
    return 0


if __name__ == "__main__":
    sys.exit(main())
