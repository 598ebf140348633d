"""Scan the synthesized stacks with checkov; honour only reasoned, in-code skips.

    python -m tools.policy_scan                    # every stack in cdktf.out (synthesize first)
    python -m tools.policy_scan --stack staging --output /tmp/out
    python -m tools.policy_scan --list-skips       # the README's table of skips

checkov's ``terraform_json`` runner ignores inline skip comments, so the
skips live in each resource's ``//`` block (``constructs_lib/policy.py``).
A failure with a matching skip counts as skipped; any other failure fails
the scan, and so does a skip that matches no failure (a stale skip), so
skips cannot outlive the reason they were added for.

checkov runs from this interpreter's environment (the pinned version), one
process per stack in parallel, offline: ``--skip-download``, no update
check, no platform API key. Exit status: 0 clean, 1 findings, 2 usage or
scanner error.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SKIP_KEY = "checkov_skip"  # written by constructs_lib.policy.skip_check (not imported: it loads jsii)
STACK_FILE = "cdk.tf.json"
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
CHECKOV_ENV = {
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",  # no package-index version lookup on start-up (1 s timeout)
    "BC_SKIP_MAPPING": "TRUE",  # no check-ID mapping download
}
CHECKOV_ENV_DROPPED = ("BC_API_KEY", "PRISMA_API_URL")  # never turn a local scan into a platform run
CHECKOV_TIMEOUT_SECONDS = 300


class ScanError(Exception):
    """The scan could not run or its result cannot be trusted (exit 2)."""


@dataclass(frozen=True, order=True)
class Address:
    """A block of a stack: ``resource``/``data``, its type and cdktf logical ID."""

    block: str
    type: str
    logical_id: str

    def __str__(self) -> str:
        prefix = "data." if self.block == "data" else ""
        return f"{prefix}{self.type}.{self.logical_id}"


@dataclass(frozen=True, order=True)
class Finding:
    check_id: str
    check_name: str
    resource: str  # the Address as text, or checkov's own name when it maps to no block


@dataclass
class StackResult:
    stack: str
    passed: int = 0
    failed: list[Finding] = field(default_factory=list)
    skipped: list[tuple[Finding, str]] = field(default_factory=list)  # (finding, reason)
    stale: list[tuple[Address, str]] = field(default_factory=list)  # (where, check id)
    # (check id, resource's logical ID) of every passed check: what a skip must never stand in for.
    passed_checks: set[tuple[str, str]] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.stale

    def lines(self) -> list[str]:
        out = [f"{self.stack}: {self.passed} passed, {len(self.failed)} failed, {len(self.skipped)} skipped"]
        out += [f"{self.stack}: {f.check_id} {f.check_name} on {f.resource}" for f in sorted(self.failed)]
        out += [f"{self.stack}: skipped {f.check_id} on {f.resource} ({reason})" for f, reason in sorted(self.skipped)]
        out += [
            f"{self.stack}: stale skip {check_id} on {where}: checkov no longer reports it there; remove the skip"
            for where, check_id in sorted(self.stale)
        ]
        return out


# -- reading the stacks ----------------------------------------------------------
def stack_dirs(output: Path, names: list[str] | None = None) -> dict[str, Path]:
    """Stack name -> folder, for every synthesized stack (or the ``names`` asked for)."""
    # Absolute: checkov runs with each stack's folder as its working directory.
    root = output.resolve() / "stacks"
    found = {p.name: p for p in sorted(root.iterdir()) if (p / STACK_FILE).is_file()} if root.is_dir() else {}
    if not found:
        raise ScanError(f"no synthesized stacks in {root}; run `python main.py --output {output}` first")
    unknown = sorted(set(names or ()) - set(found))
    if unknown:
        raise ScanError(f"unknown stack(s) {', '.join(unknown)}; synthesized: {', '.join(found)}")
    return {name: path for name, path in found.items() if not names or name in names}


def blocks(document: dict[str, Any]) -> dict[Address, dict[str, Any]]:
    """Every resource and data source of a synthesized stack, by address."""
    return {
        Address(block, type_name, logical_id): body
        for block in ("resource", "data")
        for type_name, items in document.get(block, {}).items()
        for logical_id, body in items.items()
    }


def read_skips(document: dict[str, Any]) -> dict[Address, dict[str, str]]:
    """The skips recorded in a stack: address -> {check id: reason}."""
    skips: dict[Address, dict[str, str]] = {}
    for address, body in blocks(document).items():
        entries = body.get("//", {}).get(SKIP_KEY, [])
        if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("id"), str) and isinstance(e.get("reason"), str) for e in entries
        ):
            raise ScanError(f"{address}: malformed {SKIP_KEY} block (write skips with constructs_lib.policy.skip_check)")
        if entries:
            skips[address] = {e["id"]: e["reason"] for e in entries}
    return skips


def resolve(document_blocks: dict[Address, Any], checkov_resource: str) -> Address | None:
    """The address checkov means by ``resource``.

    Resource checks name a block ``resource.<logical id>`` or
    ``data.<logical id>`` (the type is lost); graph checks name it
    ``<type>.<logical id>``. cdktf logical IDs have no dots and are unique
    per stack, so the last part plus the block kind finds it.
    """
    parts = checkov_resource.split(".")
    block = "data" if parts[0] == "data" else "resource"
    matches = [a for a in document_blocks if a.block == block and a.logical_id == parts[-1]]
    if len(parts) >= 2 and parts[-2] not in ("resource", "data"):
        matches = [a for a in matches if a.type == parts[-2]]
    return matches[0] if len(matches) == 1 else None


# -- running checkov -------------------------------------------------------------
def checkov_command(stack_file: Path) -> list[str]:
    """checkov from this interpreter, so the scan uses the pinned version."""
    return [
        sys.executable,
        "-W",
        "ignore::SyntaxWarning",  # what checkov's own entry point silences
        "-m",
        "checkov.main",
        "--framework",
        "terraform_json",
        "--skip-download",
        "--file",
        str(stack_file),
        "--output",
        "json",
        # Not --quiet: the report keeps the passed checks too (StackResult.passed_checks).
    ]


def run_checkov(stack_file: Path) -> dict[str, Any]:
    """checkov's JSON report of one stack file."""
    env = {k: v for k, v in os.environ.items() if k not in CHECKOV_ENV_DROPPED} | CHECKOV_ENV
    proc = subprocess.run(
        checkov_command(stack_file),
        # In the stack's folder: no project .checkov.yaml can change what runs.
        cwd=stack_file.parent,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=CHECKOV_TIMEOUT_SECONDS,
    )
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        report = None
    if proc.returncode not in (0, 1) or not isinstance(report, dict) or "results" not in report:
        raise ScanError(f"checkov failed on {stack_file} (exit {proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    if report.get("summary", {}).get("parsing_errors"):
        raise ScanError(f"checkov could not parse {stack_file}")
    return report


def evaluate(stack: str, document: dict[str, Any], report: dict[str, Any]) -> StackResult:
    """Match checkov's failures against the stack's skips."""
    document_blocks = blocks(document)
    skips = read_skips(document)
    used: set[tuple[Address, str]] = set()
    result = StackResult(stack, passed=report.get("summary", {}).get("passed", 0))
    # checkov names a resource `<type>.<id>` or, for some checks of JSON files, `resource.<id>`.
    result.passed_checks = {(record["check_id"], record["resource"].rsplit(".", 1)[-1]) for record in report["results"].get("passed_checks", [])}
    for record in report["results"].get("failed_checks", []):
        address = resolve(document_blocks, record["resource"])
        finding = Finding(record["check_id"], record["check_name"], str(address or record["resource"]))
        reason = skips.get(address, {}).get(finding.check_id) if address else None
        if reason is None:
            result.failed.append(finding)
        else:
            result.skipped.append((finding, reason))
            used.add((address, finding.check_id))
    result.stale = [(a, c) for a, checks in skips.items() for c in checks if (a, c) not in used]
    return result


def scan_stack(stack: str, stack_dir: Path) -> StackResult:
    stack_file = stack_dir / STACK_FILE
    return evaluate(stack, json.loads(stack_file.read_text()), run_checkov(stack_file))


def scan(dirs: dict[str, Path]) -> list[StackResult]:
    """Every stack, one checkov process each, in parallel (start-up dominates)."""
    with ThreadPoolExecutor(max_workers=min(len(dirs), os.cpu_count() or 1)) as pool:
        return list(pool.map(lambda item: scan_stack(*item), dirs.items()))


# -- the README table ------------------------------------------------------------
def skips_table(dirs: dict[str, Path]) -> str:
    """Markdown table of every skip; one row per skip, the stacks that have it together."""
    rows: dict[tuple[str, str, str], list[str]] = {}
    for stack, path in dirs.items():
        for address, checks in read_skips(json.loads((path / STACK_FILE).read_text())).items():
            for check_id, reason in checks.items():
                rows.setdefault((str(address), check_id, reason), []).append(stack)
    lines = ["| stack | resource | check | reason |", "| --- | --- | --- | --- |"]
    for (resource, check_id, reason), stacks in sorted(rows.items()):
        cells = (", ".join(stacks), f"`{resource}`", check_id, reason.replace("|", "\\|"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.policy_scan", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(os.environ.get("CDKTF_OUTDIR", "cdktf.out")),
        help="synth output folder (default: $CDKTF_OUTDIR or cdktf.out)",
    )
    parser.add_argument("--stack", action="append", metavar="NAME", help="scan only this stack; repeat for several")
    parser.add_argument("--list-skips", action="store_true", help="print the skips as a markdown table; no scan")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        dirs = stack_dirs(args.output, args.stack)
        if args.list_skips:
            print(skips_table(dirs))
            return EXIT_OK
        results = scan(dirs)
    except (ScanError, subprocess.TimeoutExpired) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    for result in results:
        print("\n".join(result.lines()))
    return EXIT_OK if all(r.ok for r in results) else EXIT_FINDINGS


if __name__ == "__main__":
    sys.exit(main())
