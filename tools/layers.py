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

    python -m tools.layers order --environment production --deployed-strategy cutover

is the order of an apply that may move the API's release strategy (the
services layer's output ``api_release_strategy`` as deployed, empty for a
new environment, against the one synthesized): each line a stack, then the
addresses ``tools.plan_guard --allow`` lets go in that stack's plan. The
move from ``cutover`` to ``canary`` applies the network layer after the
services layer (its rules to the rolling service go only once nothing
routes there) and lets the WebSocket NLB's old target group go; a move the
README's cutover does not make (``rolling`` straight to ``canary``, or
back) exits 1 naming the way (README, "Moving to canary releases").
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

MANIFEST = "manifest.json"


class LayersError(Exception):
    """The manifest cannot give an order."""


class ReleaseMoveError(LayersError):
    """The apply would move the API's release strategy a way that takes it offline (exit 1)."""


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


@dataclass(frozen=True)
class ReleaseMove:
    """How an apply moves the API from one release strategy to the next (README, "Moving to canary releases")."""

    after_services: tuple[str, ...] = ()  # layers applied right after the services layer instead of in manifest order
    allowed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # layer -> addresses its plan may delete


RELEASE_MOVES = {
    ("rolling", "cutover"): ReleaseMove(),  # it only adds
    ("cutover", "canary"): ReleaseMove(after_services=("network",), allowed={"edge": ("aws_lb_target_group.websocket_api_target_group",)}),
}


def synthesized_strategy(output: Path, environment: str) -> str:
    """The API release strategy the synthesized services layer of ``environment`` declares."""
    path = Path(output) / "stacks" / f"{environment}-services" / "cdk.tf.json"
    try:
        return str(json.loads(path.read_text())["output"]["api_release_strategy"]["value"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise LayersError(f"{path}: no api_release_strategy output ({error.__class__.__name__}: {error})") from None


def release_order(order: Sequence[str], environment: str, deployed: str, synthesized: str) -> list[tuple[str, tuple[str, ...]]]:
    """(stack, addresses the plan guard lets go) in the order an apply from ``deployed`` to ``synthesized`` takes."""
    if not deployed or deployed == synthesized:
        return [(stack, ()) for stack in order]
    move = RELEASE_MOVES.get((deployed, synthesized))
    if move is None:
        raise ReleaseMoveError(
            f"{environment} is deployed with api_release_strategy = {deployed!r} and the config says {synthesized!r}: "
            + (
                "apply \"cutover\" first, release the serving image to api-blue-green, then \"canary\" (README, \"Moving to canary releases\"); "
                "from rolling straight to canary the API has no task serving until the new service is up"
                if (deployed, synthesized) == ("rolling", "canary")
                else "the moves are rolling -> cutover -> canary (README, \"Moving to canary releases\"); there is no way back in one apply"
            )
        )
    layer_of = {stack: stack.removeprefix(f"{environment}-") for stack in order}
    moved = [stack for stack in order if layer_of[stack] not in move.after_services]
    at = moved.index(f"{environment}-services") + 1
    moved[at:at] = [stack for stack in order if layer_of[stack] in move.after_services]
    return [(stack, move.allowed.get(layer_of[stack], ())) for stack in moved]


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.layers", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    order = commands.add_parser("order", help="print the stacks in apply order, one per line")
    order.add_argument("--environment", help="only this environment's stacks")
    order.add_argument("--output", type=Path, default=Path("cdktf.out"), help="synthesized output folder (default: cdktf.out)")
    order.add_argument("--reverse", action="store_true", help="destroy order: dependents first")
    order.add_argument(
        "--deployed-strategy",
        metavar="STRATEGY",
        help="with --environment: the deployed services layer's api_release_strategy output (empty: a new environment); "
        "each line is then a stack and the addresses its plan guard lets go",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        order = apply_order(read_dependencies(args.output), args.environment)
        if args.deployed_strategy is not None:
            if args.environment is None or args.reverse:
                raise LayersError("--deployed-strategy needs --environment, and orders an apply (not --reverse)")
            synthesized = synthesized_strategy(args.output, args.environment)
            lines = release_order(order, args.environment, args.deployed_strategy.strip(), synthesized)
            print("\n".join(" ".join((stack, *allowed)) for stack, allowed in lines))
            return 0
    except ReleaseMoveError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except LayersError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("\n".join(reversed(order) if args.reverse else order))
    return 0


if __name__ == "__main__":
    sys.exit(main())
