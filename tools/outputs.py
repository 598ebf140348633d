"""Read one output of an environment without knowing which layer holds it.

    python -m tools.outputs production jobs_table_name          # terraform output -raw, in the right layer
    python -m tools.outputs production jobs_table_name --json

An environment is several stacks (stacks/environment.py); an operator asking
for ``jobs_table_name`` should not have to remember that the data layer
outputs it. This finds the layer whose synthesized ``cdk.tf.json`` declares
the output (the lowest layer in apply order when several re-export it, so
the owner answers) and runs ``terraform output`` in that stack's folder,
which must have been initialised (``terraform init``) as for any read.

Exit: terraform's own exit code; 2 with one message when the output folder,
the environment or the output is unknown.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Sequence

from tools.layers import LayersError, apply_order, read_dependencies

CROSS_STACK_OUTPUT_PREFIX = "cross_stack_output_"


class OutputsError(Exception):
    """The output cannot be located."""


def owning_stack(output: Path, environment: str, name: str) -> str:
    """The first stack of ``environment``, in apply order, that declares output ``name``."""
    if name.startswith(CROSS_STACK_OUTPUT_PREFIX):
        raise OutputsError(f"{name} is a cross-stack output that cdktf wires between layers, not one for people")
    try:
        order = apply_order(read_dependencies(output), environment)
    except LayersError as error:
        raise OutputsError(str(error)) from None
    declared: dict[str, set[str]] = {}
    for stack in order:
        outputs = json.loads((Path(output) / "stacks" / stack / "cdk.tf.json").read_text()).get("output", {})
        declared[stack] = {key for key in outputs if not key.startswith(CROSS_STACK_OUTPUT_PREFIX)}
        if name in declared[stack]:
            return stack
    known = sorted(set().union(*declared.values()))
    raise OutputsError(f"no layer of {environment} has an output {name!r}; its outputs: {', '.join(known)}")


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.outputs", description=__doc__.split("\n\n")[0])
    parser.add_argument("environment", help="environment name, such as production")
    parser.add_argument("name", help="output name, such as jobs_table_name")
    parser.add_argument("--json", action="store_true", help="print it as JSON (terraform output -json) instead of raw")
    parser.add_argument("--output", type=Path, default=Path("cdktf.out"), help="synthesized output folder (default: cdktf.out)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        stack = owning_stack(args.output, args.environment, args.name)
    except OutputsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    stack_dir = Path(args.output) / "stacks" / stack
    return subprocess.run(["terraform", f"-chdir={stack_dir}", "output", "-json" if args.json else "-raw", args.name], check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
