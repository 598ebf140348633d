"""The hashed locks: the Pipfile's requirements in requirements.lock, the
Makefile's own tools (tooling.in) in tooling.lock, the live audit's scanner
(audit.in) in audit.lock.

    python -m tools.lock                        # make lock: regenerate all three, keeping every pin still allowed
    python -m tools.lock --upgrade              # make upgrade: the newest versions the Pipfile allows
    python -m tools.lock --upgrade-package boto3  # make upgrade PACKAGE=boto3: that one only
    python -m tools.lock --check                # exit 1, naming `make lock`, when a lock is stale

The Pipfile stays the file a person edits. pip-tools (`pip-compile
--generate-hashes`, from the hash-pinned tooling venv) resolves it against the
package index this machine's pip is configured with and writes every package,
direct and transitive, runtime and dev, pinned to one version with the sha256
of each of its files. No index URL, find-links or trusted host is written, so
the lock names no index host and installs from whatever index the machine's
pip uses. pip-compile keeps the pins of the existing lock unless told to
upgrade, so `make lock` after an unchanged Pipfile rewrites the same bytes.

Each lock carries one line with the digest of its input (the Pipfile's
`[packages]`, `[dev-packages]` and `python_version`, or tooling.in's
requirements, or audit.in's), so `--check` and tests/test_locks.py find a lock that no
longer matches its input. `--check` uses the standard library only: the
Makefile runs it with the bare interpreter before it installs anything.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIPFILE = ROOT / "Pipfile"
PROJECT_LOCK = ROOT / "requirements.lock"
TOOLING_IN = ROOT / "tooling.in"
TOOLING_LOCK = ROOT / "tooling.lock"
# The scanner of tools/live_audit.py: its own venv (.audit/), its own lock.
AUDIT_IN = ROOT / "audit.in"
AUDIT_LOCK = ROOT / "audit.lock"
REGENERATE = "make lock"
DIGEST_PREFIX = "# input digest: sha256:"
SECTIONS = ("packages", "dev-packages")
# What a Pipfile entry may say beyond its version; anything else (git, path,
# editable, index) has no place in a hashed lock from the machine's index.
_ENTRY_KEYS = {"version", "extras", "markers"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")
_HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")
# Index hosts and URL-carrying options: a lock holding either is tied to one index.
INDEX_OPTIONS = re.compile(r"^\s*(-i|--index-url|--extra-index-url|-f|--find-links|--trusted-host)\b", re.M)
URL = re.compile(r"\b[a-z][a-z0-9+.-]*://", re.I)


class LockError(Exception):
    """The Pipfile holds something this lock cannot express."""


def canonical(name: str) -> str:
    """PEP 503 name: lower case, runs of -_. as one dash."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pipfile_requirements(pipfile: Path | None = None) -> dict[str, list[str]]:
    """The Pipfile's sections as requirement lines pip understands, in file order."""
    pipfile = pipfile or PIPFILE
    data = tomllib.loads(pipfile.read_text())
    if data.get("source"):
        raise LockError(
            f"{pipfile.name}: [[source]] is not used: the lock installs from the index this machine's pip is "
            "configured with (pip config / PIP_INDEX_URL), and a URL in the Pipfile would name an index host"
        )
    sections: dict[str, list[str]] = {}
    for section in SECTIONS:
        lines = []
        for name, entry in data.get(section, {}).items():
            if not _NAME.match(name):
                raise LockError(f"{pipfile.name} [{section}] {name!r}: not a package name")
            if isinstance(entry, str):
                entry = {"version": entry}
            unknown = set(entry) - _ENTRY_KEYS
            if unknown:
                raise LockError(
                    f"{pipfile.name} [{section}] {name}: {', '.join(sorted(unknown))} not supported "
                    f"(a hashed lock from the index takes {', '.join(sorted(_ENTRY_KEYS))})"
                )
            version = entry.get("version", "*").strip()
            extras = entry.get("extras", [])
            line = name + (f"[{','.join(extras)}]" if extras else "") + ("" if version == "*" else version)
            if entry.get("markers"):
                line += f"; {entry['markers']}"
            lines.append(line)
        sections[section] = lines
    return sections


def python_version(pipfile: Path | None = None) -> str | None:
    return tomllib.loads((pipfile or PIPFILE).read_text()).get("requires", {}).get("python_version")


def input_digest(requirements: dict[str, list[str]], python: str | None) -> str:
    """sha256 of what a lock is made from; comments and formatting do not count."""
    payload = {"python_version": python, **{k: sorted(v) for k, v in requirements.items()}}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def requirements_in(path: Path) -> list[str]:
    """The requirement lines of a requirements .in file (no comments, no options)."""
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            lines.append(line)
    return lines


@dataclass
class Pin:
    version: str
    hashes: list[str] = field(default_factory=list)


def read_lock(path: Path) -> tuple[str | None, dict[str, Pin]]:
    """(input digest, canonical name -> pin) of a pip-compile lock."""
    text = path.read_text()
    digest = None
    pins: dict[str, Pin] = {}
    current: Pin | None = None
    for raw in text.splitlines():
        if raw.startswith(DIGEST_PREFIX):
            digest = raw[len(DIGEST_PREFIX):].split()[0]
            continue
        line = raw.split("#", 1)[0] if not raw.lstrip().startswith("--hash") else raw
        if not line.strip():
            continue
        match = _PIN.match(line)
        if match:
            current = pins[canonical(match.group(1))] = Pin(match.group(2))
        if current is not None:
            current.hashes += _HASH.findall(line)
        if not line.rstrip().endswith("\\"):
            current = None
    return digest, pins


def _satisfies(version: str, requirement: str) -> bool | None:
    """Whether `version` meets the requirement's specifier; None when it cannot tell without packaging."""
    spec = requirement[len(re.match(r"[A-Za-z0-9._-]+(\[[^\]]*\])?", requirement).group(0)):].split(";")[0].strip()
    if not spec:
        return True
    if re.fullmatch(r"==\s*[^,*<>=!~]+", spec):
        return spec.lstrip("=").strip() == version
    try:
        from packaging.specifiers import SpecifierSet
    except ImportError:
        return None
    return SpecifierSet(spec).contains(version, prereleases=True)


def lock_problems(lock: Path, requirements: list[str], digest: str) -> list[str]:
    """Why `lock` does not match its input (empty: it does)."""
    if not lock.exists():
        return [f"{lock.name} is missing"]
    text = lock.read_text()
    recorded, pins = read_lock(lock)
    problems = []
    if recorded != digest:
        problems.append(f"{lock.name} was made from other requirements (input digest {recorded} != {digest})")
    for requirement in requirements:
        name = canonical(re.match(r"[A-Za-z0-9._-]+", requirement).group(0))
        pin = pins.get(name)
        if pin is None:
            problems.append(f"{lock.name} does not pin {requirement}")
        elif _satisfies(pin.version, requirement) is False:
            problems.append(f"{lock.name} pins {name}=={pin.version}, which {requirement} does not allow")
    problems += [f"{lock.name}: {name}=={pin.version} has no sha256 hash" for name, pin in pins.items() if not pin.hashes]
    if INDEX_OPTIONS.search(text) or URL.search(text):
        problems.append(f"{lock.name} names an index or a URL; installs must use the machine's configured index")
    return problems


def project_inputs(pipfile: Path | None = None) -> tuple[list[str], str]:
    pipfile = pipfile or PIPFILE
    sections = pipfile_requirements(pipfile)
    return [line for lines in sections.values() for line in lines], input_digest(sections, python_version(pipfile))


def tooling_inputs(tooling_in: Path | None = None) -> tuple[list[str], str]:
    lines = requirements_in(tooling_in or TOOLING_IN)
    return lines, input_digest({"tooling": lines}, None)


def audit_inputs(audit_in: Path | None = None) -> tuple[list[str], str]:
    lines = requirements_in(audit_in or AUDIT_IN)
    return lines, input_digest({"audit": lines}, None)


def check() -> list[str]:
    problems = lock_problems(PROJECT_LOCK, *project_inputs())
    problems += lock_problems(TOOLING_LOCK, *tooling_inputs())
    problems += lock_problems(AUDIT_LOCK, *audit_inputs())
    return problems


def _names(lines: list[str]) -> set[str]:
    return {canonical(re.match(r"[A-Za-z0-9._-]+", line).group(0)) for line in lines}


def _compile(sources: list[str], output: Path, cwd: Path, digest: str, upgrade: bool, packages: list[str]) -> None:
    command = [
        sys.executable, "-m", "piptools", "compile", "--no-config", "--quiet",
        "--generate-hashes", "--allow-unsafe", "--strip-extras", "--newline", "lf",
        "--no-emit-index-url", "--no-emit-find-links", "--no-emit-trusted-host",
        "--output-file", str(output),
    ]
    command += ["--upgrade"] if upgrade else []
    for package in packages:
        command += ["--upgrade-package", package]
    env = {**os.environ, "CUSTOM_COMPILE_COMMAND": REGENERATE}
    before = (output.read_bytes(), output.stat()) if output.exists() else None
    subprocess.run([*command, *sources], cwd=cwd, env=env, check=True)
    lines = output.read_text().splitlines(keepends=True)
    lines = [line for line in lines if not line.startswith(DIGEST_PREFIX)]
    # After pip-compile's header (the comment block it starts with).
    at = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    lines.insert(at, f"{DIGEST_PREFIX}{digest} (tools/lock.py: what this lock was made from)\n")
    text = "".join(lines)
    output.write_text(text)
    if before is not None and before[0] == text.encode():
        # Unchanged: keep the old timestamp too, so make does not rebuild the venvs.
        os.utime(output, ns=(before[1].st_atime_ns, before[1].st_mtime_ns))


def generate(upgrade: bool = False, packages: list[str] | None = None) -> None:
    packages = packages or []
    wanted = python_version()
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if wanted and wanted != running:
        raise LockError(f"the Pipfile wants Python {wanted}; this is Python {running} (the lock's markers would differ)")
    tooling_lines, tooling_digest = tooling_inputs()
    tooling_packages = [p for p in packages if canonical(p) in _names(tooling_lines)]
    _compile([TOOLING_IN.name], TOOLING_LOCK, ROOT, tooling_digest, upgrade, tooling_packages)
    # The scanner's lock is resolved on its own: its pins (boto3, pydantic, ...)
    # need not agree with the project's, as the two never share a venv.
    audit_lines, audit_digest = audit_inputs()
    audit_packages = [p for p in packages if canonical(p) in _names(audit_lines)]
    _compile([AUDIT_IN.name], AUDIT_LOCK, ROOT, audit_digest, upgrade, audit_packages)
    sections = pipfile_requirements()
    with tempfile.TemporaryDirectory(prefix="cot-lock-") as tmp:
        # One input per Pipfile section, named after it: the lock's "# via"
        # comments then say which section asked for a package.
        sources = []
        for section, lines in sections.items():
            source = Path(tmp) / f"Pipfile:{section}"
            source.write_text("".join(f"{line}\n" for line in lines))
            sources.append(source.name)
        project_packages = [p for p in packages if p not in tooling_packages + audit_packages]
        _compile(sources, PROJECT_LOCK, Path(tmp), input_digest(sections, wanted), upgrade, project_packages)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.lock", description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help=f"only check; exit 1 naming `{REGENERATE}` when a lock is stale")
    mode.add_argument("--upgrade", action="store_true", help="move every package to the newest version its constraints allow")
    mode.add_argument("--upgrade-package", action="append", default=[], metavar="NAME", help="upgrade only this package (repeatable)")
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = check()
            for problem in problems:
                print(f"error: {problem}", file=sys.stderr)
            if problems:
                print(f"The locks do not match the Pipfile / tooling.in / audit.in: run `{REGENERATE}` and commit the result.", file=sys.stderr)
            return 1 if problems else 0
        generate(upgrade=args.upgrade, packages=args.upgrade_package)
    except LockError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as error:
        print(f"error: pip-compile failed ({error.returncode})", file=sys.stderr)
        return 1
    problems = check()
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
