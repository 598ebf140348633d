"""The legacy state: its instances, and the states adoption writes from it."""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from tools.adopt.tables import AWS_PROVIDER

if TYPE_CHECKING:
    from tools.adopt.matching import Match

class AdoptError(Exception):
    """Bad input (exit 2)."""


# -- the legacy state ---------------------------------------------------------------


@dataclass
class LegacyInstance:
    address: str
    type: str
    resource: dict[str, Any]
    instance: dict[str, Any]

    @property
    def attributes(self) -> dict[str, Any]:
        return self.instance.get("attributes") or {}


def instance_address(resource: Mapping[str, Any], instance: Mapping[str, Any]) -> str:
    """``module.vpc.aws_subnet.private[0]``, as terraform prints it."""
    prefix = f"{resource['module']}." if resource.get("module") else ""
    data = "data." if resource.get("mode") == "data" else ""
    key = instance.get("index_key")
    index = "" if key is None else f"[{json.dumps(key)}]"
    return f"{prefix}{data}{resource['type']}.{resource['name']}{index}"


def load_legacy(path: Path) -> tuple[dict[str, Any], list[LegacyInstance]]:
    try:
        state = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise AdoptError(f"{path}: cannot read a state file ({error})") from None
    if not isinstance(state, dict) or state.get("version") != 4 or not isinstance(state.get("resources"), list):
        raise AdoptError(f"{path}: not a Terraform state of format version 4 (`terraform state pull` prints one)")
    instances = [
        LegacyInstance(instance_address(resource, instance), resource["type"], resource, instance)
        for resource in state["resources"]
        if resource.get("mode") == "managed"
        for instance in resource.get("instances", ())
        if not instance.get("deposed")
    ]
    return state, instances



def new_state(legacy_state: Mapping[str, Any], moved: Sequence[Match]) -> dict[str, Any]:
    resources = []
    for found in sorted(moved, key=lambda m: m.design.address):
        instance = {k: copy.deepcopy(v) for k, v in found.legacy.instance.items() if k not in ("index_key", "dependencies")}
        resources.append(
            {"mode": "managed", "type": found.design.type, "name": found.design.name, "provider": AWS_PROVIDER, "instances": [instance]}
        )
    return {
        "version": 4,
        "terraform_version": legacy_state.get("terraform_version", "1.11.4"),
        "serial": 1,
        "lineage": str(uuid.uuid4()),
        "outputs": {},
        "resources": resources,
        "check_results": None,
    }


def legacy_remainder(legacy_state: Mapping[str, Any], moved_addresses: set[str]) -> dict[str, Any]:
    state = copy.deepcopy(dict(legacy_state))
    kept = []
    for resource in state["resources"]:
        instances = [i for i in resource.get("instances", ()) if resource.get("mode") != "managed" or instance_address(resource, i) not in moved_addresses]
        if instances:
            kept.append({**resource, "instances": instances})
    state["resources"] = kept
    state["serial"] = int(state.get("serial", 0)) + 1
    return state


def write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2, sort_keys=False) + "\n")


def cty_type(value: Any) -> Any:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return ["tuple", [cty_type(item) for item in value]]
    if isinstance(value, dict):
        return ["object", {key: cty_type(item) for key, item in value.items()}]
    return "dynamic"

