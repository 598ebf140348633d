"""Legacy values kept on adopted resources, from ``migrations/<environment>.json``.

``python -m tools.adopt plan`` writes that file when it moves the legacy
project's resources into the layer stacks. Where the design differs from an
adopted resource in an argument that forces its replacement (a subnet's CIDR,
an ECR repository's encryption, a security group's description), the file's ``kept`` list
holds the legacy value, and ``apply_kept_values`` puts it on the resource
as an override after the layers are built: synthesis then plans no
replacement. No file, no change.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence


MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
_directory: Path | None = MIGRATIONS_DIR


class MigrationError(Exception):
    """The migration file names a resource the design does not have."""


@contextmanager
def reading_from(directory: Path | None) -> Iterator[None]:
    """Read kept values from ``directory`` in this block (None: none; tools.adopt needs the design alone)."""
    global _directory
    previous, _directory = _directory, directory
    try:
        yield
    finally:
        _directory = previous


def kept_values(environment: str, directory: Path | None = None) -> list[dict[str, Any]]:
    directory = _directory if directory is None else directory
    if directory is None:
        return []
    path = Path(directory) / f"{environment}.json"
    if not path.exists():
        return []
    try:
        kept = json.loads(path.read_text()).get("kept", ())
        return [dict(entry) for entry in kept if {"stack", "address", "attribute", "value"} <= set(entry)] if isinstance(kept, list) else _bad(path)
    except (OSError, ValueError, AttributeError, TypeError) as error:
        raise MigrationError(f"{path}: not a migration file written by `python -m tools.adopt plan` ({error})") from None


def _bad(path: Path) -> list[dict[str, Any]]:
    raise MigrationError(f"{path}: its \"kept\" must be a list of {{stack, address, attribute, value}}")


def apply_kept_values(environment: str, layers: Sequence[Any]) -> int:
    """Override each kept attribute on its resource; returns how many were applied."""
    entries = kept_values(environment)
    if not entries:
        return 0
    from cdktf import TerraformResource  # here: main.py imports this module's error before the jsii runtime starts
    resources = {}
    for layer in layers:
        for child in layer.node.find_all():
            if isinstance(child, TerraformResource):
                resources[(layer.node.id, f"{child.terraform_resource_type}.{layer.get_logical_id(child)}")] = child
    for entry in entries:
        resource = resources.get((entry["stack"], entry["address"]))
        if resource is None:
            raise MigrationError(f"migrations/{environment}.json keeps {entry['attribute']} on {entry['stack']} {entry['address']}, which the design does not have")
        # An override merges lists into the synthesized ones: the design's value goes first.
        reset = getattr(resource, f"reset_{entry['attribute']}", None)
        if reset is not None:
            reset()
        resource.add_override(entry["attribute"], entry["value"])
    return len(entries)
