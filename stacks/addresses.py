"""Readable, stable Terraform addresses derived from construct paths.

cdktf's default logical ID is the construct path plus a hash
(``conversations-table_1E0C37CD``): unreadable in a plan, and any refactor
that moves a construct changes the hash, which Terraform reads as "destroy
the table, create a new one". Every layer stack (stacks/layer.py) names its
elements with ``address_name`` instead:

1. take the construct path below the stack: ``tables/conversations/Default``;
2. drop every ``Default`` component (a construct's main resource);
3. drop a component that repeats the end of the one before it
   (``api-service/service`` is the API service, ``jobs-table/table`` the
   table, ``api-tasks-security-group/security-group`` the group);
4. join with ``_``; every character outside ``[A-Za-z0-9_]`` becomes ``_``.

So ``data/jobs-table/table`` is ``aws_dynamodb_table.jobs_table`` and
``network/network/private-0`` is ``aws_subnet.network_private_0``. No hash:
two paths that would give one name are an error at synth
(``AddressCollision``), naming both paths, so uniqueness never depends on luck.
"""

from __future__ import annotations

import re

_INVALID = re.compile(r"[^A-Za-z0-9_]")
DEFAULT_CHILD = "Default"


class AddressCollision(Exception):
    """Two construct paths of one stack derive the same Terraform name."""

    def __init__(self, stack: str, name: str, first: str, second: str) -> None:
        self.name = name
        super().__init__(
            f"stack {stack}: construct paths {first!r} and {second!r} both derive the Terraform name {name!r}; "
            "rename one of the constructs (stacks/addresses.py explains the scheme)"
        )


def address_name(relative_path: str) -> str:
    """The Terraform name of the element at ``relative_path`` (below its stack)."""
    kept: list[str] = []
    for component in relative_path.split("/"):
        if not component or component == DEFAULT_CHILD:
            continue
        if kept and (kept[-1] == component or kept[-1].endswith(f"-{component}")):
            continue
        kept.append(component)
    return terraform_name("_".join(kept))


def terraform_name(text: str) -> str:
    """``text`` as a Terraform identifier: every other character becomes ``_``."""
    name = _INVALID.sub("_", text)
    if not name or name[0].isdigit():
        name = f"_{name}"
    return name


class AddressBook:
    """The names a stack has handed out, so a second path with the same name fails."""

    def __init__(self, stack: str) -> None:
        self.stack = stack
        self._paths: dict[str, str] = {}

    def allocate(self, relative_path: str) -> str:
        name = address_name(relative_path)
        owner = self._paths.setdefault(name, relative_path)
        if owner != relative_path:
            raise AddressCollision(self.stack, name, owner, relative_path)
        return name
