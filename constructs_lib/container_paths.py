"""Writable paths of a container with a read-only root filesystem (plain data, no jsii import).

Shared by ``FargateServiceProps.writable_paths`` and the config check of
``api_writable_paths`` / ``worker_writable_paths``, so both report the same
problems. Each path becomes one task volume (Fargate task storage: ephemeral,
private to the task, gone when it stops) mounted read-write at that path.
"""

from __future__ import annotations

import re
from typing import Sequence

__all__ = ["DEFAULT_WRITABLE_PATHS", "WRITABLE_PATHS_ALLOWED", "volume_name", "writable_path_problems"]

# What most runtimes need: Python's tempfile, JVM and Node scratch files.
DEFAULT_WRITABLE_PATHS = ("/tmp",)
MAX_WRITABLE_PATHS = 20
_SEGMENT = r"[A-Za-z0-9_][A-Za-z0-9._-]*"
_PATH = re.compile(rf"(?:/{_SEGMENT})+")  # use with fullmatch: `$` would let "/tmp\n" through
WRITABLE_PATHS_ALLOWED = (
    f"a list of at most {MAX_WRITABLE_PATHS} distinct absolute paths such as [\"/tmp\", \"/var/cache/app\"]: "
    "'/'-separated segments of letters, digits, '.', '_' and '-' (a segment not starting with '.' or '-'), "
    "at most 255 characters, not '/' itself, no trailing '/', none inside another"
)


def volume_name(path: str) -> str:
    """The task volume mounted at ``path``: ``writable-`` and its segments joined with '-' (``/var/cache`` -> ``writable-var-cache``)."""
    return "writable-" + "-".join(re.sub(r"[^A-Za-z0-9_-]", "_", segment) for segment in path.strip("/").split("/"))


def writable_path_problems(paths: Sequence[str]) -> list[str]:
    """What is wrong with a list of writable paths, one message per problem."""
    problems: list[str] = []
    if len(paths) > MAX_WRITABLE_PATHS:
        problems.append(f"must hold at most {MAX_WRITABLE_PATHS} paths, but {len(paths)} were provided")
    for path in paths:
        if path == "/":
            problems.append("must not hold '/': that would make the whole root filesystem writable again")
        elif len(path) > 255 or not _PATH.fullmatch(path):
            problems.append(
                "must hold absolute paths of '/'-separated segments of letters, digits, '.', '_' and '-' "
                f"(no '..', '//' or trailing '/', at most 255 characters), but {path!r} was provided"
            )
    if len(set(paths)) != len(paths):
        repeated = sorted({path for path in paths if list(paths).count(path) > 1})
        problems.append(f"must not repeat a path, but {', '.join(repeated)} appears more than once")
    distinct = sorted(set(paths))
    for outer in distinct:
        for inner in distinct:
            if inner != outer and inner.startswith(outer.rstrip("/") + "/") and outer != "/":
                problems.append(f"must not hold a path inside another (it is writable already), but {inner} is inside {outer}")
    names: dict[str, str] = {}
    for path in distinct:
        if _PATH.fullmatch(path):
            other = names.setdefault(volume_name(path), path)
            if other != path:
                problems.append(f"must give each path its own volume name, but {other} and {path} both make {volume_name(path)!r}")
    return problems
