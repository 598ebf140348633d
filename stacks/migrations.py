"""Legacy values kept on adopted resources, from ``migrations/<environment>.json``.

``python -m tools.adopt plan`` writes that file when it moves the legacy
project's resources into the layer stacks. Where the design differs from an
adopted resource in an argument that forces its replacement (a subnet's CIDR,
an ECR repository's encryption, a security group's description), the file's ``kept`` list
holds the legacy value, and ``apply_kept_values`` puts it on the resource
as an override after the layers are built: synthesis then plans no
replacement. No file, no change.

Its ``release`` entry keeps the API's release strategy of an adopted
environment: the legacy API service runs under ECS's own deployment
controller, which ECS can't change in place, so the environment stays
``rolling`` whatever the config says until its cutover (README, "Moving to
canary releases"), which edits and then removes the entry.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence


MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
_directory: Path | None = MIGRATIONS_DIR
_release_strategy: str | None = None  # reading_from's override of the file's ``release`` entry


class MigrationError(Exception):
    """The migration file names a resource the design does not have."""


@contextmanager
def reading_from(directory: Path | None, *, release_strategy: str | None = None) -> Iterator[None]:
    """Read kept values from ``directory`` in this block (None: none; tools.adopt needs the design alone),
    and with ``release_strategy``, build the API that way whatever the config or the file say."""
    global _directory, _release_strategy
    previous, _directory = (_directory, _release_strategy), directory
    _release_strategy = release_strategy
    try:
        yield
    finally:
        _directory, _release_strategy = previous


def _read(environment: str, directory: Path | None) -> tuple[Path | None, dict[str, Any]]:
    directory = _directory if directory is None else directory
    if directory is None:
        return None, {}
    path = Path(directory) / f"{environment}.json"
    if not path.exists():
        return path, {}
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise MigrationError(f"{path}: not a migration file written by `python -m tools.adopt plan` ({error})") from None
    if not isinstance(document, dict):
        raise MigrationError(f"{path}: not a migration file written by `python -m tools.adopt plan` (not a JSON object)")
    return path, document


def kept_release_strategy(environment: str, directory: Path | None = None) -> str | None:
    """The API release strategy the migration file keeps (its ``release.api_release_strategy``), or None."""
    from constructs_lib.limits import API_RELEASE_STRATEGIES

    if _release_strategy is not None:
        return _release_strategy
    path, document = _read(environment, directory)
    if "release" not in document:
        return None
    release = document["release"]
    value = release.get("api_release_strategy") if isinstance(release, dict) else None
    if value not in API_RELEASE_STRATEGIES:
        raise MigrationError(
            f"{path}: release.api_release_strategy is {value!r}; allowed: {', '.join(API_RELEASE_STRATEGIES)} "
            "(or no \"release\" entry: the config's api_release_strategy applies)"
        )
    return value


def kept_values(environment: str, directory: Path | None = None) -> list[dict[str, Any]]:
    path, document = _read(environment, directory)
    kept = document.get("kept", [])
    try:
        return [dict(entry) for entry in kept if {"stack", "address", "attribute", "value"} <= set(entry)] if isinstance(kept, list) else _bad(path)
    except (AttributeError, TypeError) as error:
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
            raise MigrationError(
                f"migrations/{environment}.json keeps {entry['attribute']} on {entry['stack']} {entry['address']}, which the design does not have "
                "(one it no longer makes, such as the rolling API service and its NLB target group after the move to canary releases: "
                "remove the entry)"
            )
        # An override merges lists into the synthesized ones: the design's value goes first.
        reset = getattr(resource, f"reset_{entry['attribute']}", None)
        if reset is not None:
            reset()
        resource.add_override(entry["attribute"], entry["value"])
    return len(entries)
