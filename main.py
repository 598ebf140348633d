"""Synthesize the layer stacks (`<environment>-<layer>`) of every environment config.

    python main.py                       # every config/*.tfvars and *.json
    python main.py --config config/staging.tfvars --output /tmp/out

Output is all-or-nothing: the app synthesizes into a temporary folder beside
the output folder and swaps it in only when every stack succeeded, so a bad
config leaves the previous ``cdktf.out`` exactly as it was. ``cdktf synth``
runs this file (cdktf.json) and passes its output folder in CDKTF_OUTDIR.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import os
import re
import shutil
import signal
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import constructs_lib  # noqa: F401  (first: cheap provider imports, no jsii banner)
from stacks.addresses import AddressCollision
from stacks.config import ConfigError, EnvironmentConfig, load_configs
from stacks.migrations import MigrationError

PROJECT_DIR = Path(__file__).resolve().parent
DEFAULT_CONFIG_DIR = PROJECT_DIR / "config"
CONFIG_SUFFIXES = (".tfvars", ".tfvars.json", ".json")
EXIT_CONFIG_ERROR = 2
EXIT_ADDRESS_COLLISION = 1
# A run stopped by a signal exits as shells report it: 128 + the signal number.
HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived; raised where the program was, so ``finally`` blocks clean up."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.written = False  # whether the new output was already in place

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def default_config_paths(directory: Path = DEFAULT_CONFIG_DIR) -> list[Path]:
    """Every config file in ``config/``, in name order (stable output)."""
    return sorted(p for p in directory.iterdir() if p.is_file() and p.name.endswith(CONFIG_SUFFIXES))


def build_app(configs: list[EnvironmentConfig], outdir: Path):
    """The cdktf App with the layer stacks of every environment, not yet synthesized."""
    from cdktf import App

    from stacks.environment import build_environment

    # skip_validation stays off: construct validations must fail the synth.
    app = App(outdir=str(outdir), stack_traces=False)
    for config in configs:
        build_environment(app, config)
    return app


def synthesize(config_paths: list[Path], outdir: Path) -> tuple[list[str], list[str]]:
    """Validate every config, synthesize, then swap the result into ``outdir``.

    Returns the stack names and the warnings: the configs' (each starting
    with its file) and the constructs' (cdktf keeps them in manifest.json,
    where `cdktf synth` prints them from). Raises ConfigError before
    anything is written when a config is bad. Whatever happens (an error, a
    signal turned into Interrupted), no temporary folder is left behind and
    ``outdir`` holds either the previous output or the complete new one.
    """
    warnings: list[str] = []
    configs = load_configs(config_paths, warnings)
    outdir = outdir.resolve()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(outdir)
    staging: Path | None = None
    retired: Path | None = None
    written = False
    try:
        try:
            with _signals_deferred():  # no instant where the folder exists but is not known here
                staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.new-{os.getpid()}-", dir=outdir.parent))
            build_app(configs, staging).synth()
            stack_names, construct_warnings = _read_manifest(staging / "manifest.json")
            for hcl in sorted(staging.glob("stacks/*/cdk.tf")):  # `cdktf synth --hcl`
                unquote_references(hcl)
            warnings.extend(construct_warnings)
            with _signals_deferred():
                retired = _replace_dir(staging, outdir)
                written = True
        finally:
            with _signals_deferred():
                for folder in (staging, retired):
                    if folder is not None:
                        shutil.rmtree(folder, ignore_errors=True)
    except Interrupted as interrupted:
        interrupted.written = written
        raise
    return stack_names, warnings


_QUOTED_REFERENCE = re.compile(r'^"([A-Za-z_][A-Za-z0-9_.\[\]-]*)",$')
# Meta-arguments whose list items are references (or attribute names), never strings.
_REFERENCE_LISTS = ("depends_on = [", "ignore_changes = [")


def unquote_references(path: Path) -> None:
    """Write the items of ``depends_on`` and ``ignore_changes`` lists of exported HCL bare, as Terraform wants them.

    cdktf 0.21's HCL renderer quotes them (``"aws_iam_role_policy.x",``,
    ``"task_definition",``); Terraform accepts that with a deprecation warning
    per item and says it will stop. The JSON output is right as it is (JSON
    has only strings).
    """
    lines = path.read_text().split("\n")
    inside = False
    for index, line in enumerate(lines):
        text = line.strip()
        if text in _REFERENCE_LISTS:
            inside = True
        elif inside and text == "]":
            inside = False
        elif inside:
            lines[index] = line[: len(line) - len(line.lstrip())] + _QUOTED_REFERENCE.sub(r"\1,", text)
    path.write_text("\n".join(lines))


def _read_manifest(manifest: Path) -> tuple[list[str], list[str]]:
    """The stack names (in name order) and the construct warnings."""
    stacks = json.loads(manifest.read_text())["stacks"]
    return list(stacks), [
        f"{name}: {annotation['message']}"
        for name, stack in stacks.items()
        for annotation in stack["annotations"]
        if annotation["level"] == "@cdktf/warn"
    ]


# -- the output swap ---------------------------------------------------------------

def _temporary_pattern(name: str) -> re.Pattern[str]:
    """Names of the temporary folders beside the output: ``.<name>.new-<pid>-<random>`` and ``.old-``.

    The older unnamed forms ``.<name>.<random>`` and ``.<name>.old.<random>``
    (from before the pid was part of the name) match too, without a pid.
    """
    return re.compile(rf"\.{re.escape(name)}\.(?:(?P<kind>new|old)-(?P<pid>\d+)-|(?P<legacy>old\.)?)[a-z0-9_]{{8}}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_temporaries(target: Path) -> None:
    """Remove what runs killed beyond cleaning up (SIGKILL, a power cut) left beside ``target``.

    A folder of a live process (another run writing the same output) is
    left alone. A killed run's moved-aside old output is put back when
    nothing is at ``target``: the kill came between the two renames.
    """
    pattern = _temporary_pattern(target.name)
    for entry in sorted(target.parent.iterdir()):
        match = pattern.fullmatch(entry.name)
        if not match or entry.is_symlink() or not entry.is_dir():
            continue
        if match["pid"] and (int(match["pid"]) == os.getpid() or _alive(int(match["pid"]))):
            continue
        old = entry / target.name
        if (match["kind"] == "old" or match["legacy"]) and old.is_dir() and not target.exists():
            old.rename(target)
        shutil.rmtree(entry, ignore_errors=True)


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back (they arrive when the block ends)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


_RENAME_EXCHANGE = 2  # linux/fs.h


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), _RENAME_EXCHANGE)
    if result == 0:
        return True
    errno = ctypes.get_errno()
    if errno in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: this kernel or file system cannot
        return False
    raise OSError(errno, os.strerror(errno), str(first))


def _between_renames() -> None:
    """Called between the two renames of the fallback swap; tests replace it to act there."""


def _replace_dir(new: Path, target: Path) -> Path | None:
    """Put ``new`` at ``target``; return the folder now holding the old output, for the caller to remove.

    Where the kernel can, the two folders are exchanged atomically, so at
    every instant one complete output is at ``target``; the old one is then
    at ``new``. Elsewhere the old one is renamed aside into a temporary
    folder, then ``new`` into place, and renamed back if that fails. Call it
    with SIGINT and SIGTERM held back (_signals_deferred); a kill that
    cannot be held back (SIGKILL) between the renames leaves the old output
    aside, and the next run puts it back (_remove_stale_temporaries).
    """
    if not target.exists():
        new.rename(target)
        return None
    if _exchange(new, target):
        return new
    retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-{os.getpid()}-", dir=target.parent))
    try:
        target.rename(retired / target.name)
        try:
            _between_renames()
            new.rename(target)
        except BaseException:
            (retired / target.name).rename(target)
            raise
    except BaseException:
        shutil.rmtree(retired, ignore_errors=True)
        raise
    return retired


# -- the command ------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--config",
        action="append",
        type=Path,
        metavar="FILE",
        help="an environment's .tfvars or .json file; repeat for several (default: every file in config/)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(os.environ.get("CDKTF_OUTDIR", "cdktf.out")),
        help="output folder (default: $CDKTF_OUTDIR or cdktf.out)",
    )
    return parser.parse_args(argv)


def _interrupt(signum: int, frame: object) -> None:
    raise Interrupted(signum)


@contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGINT and SIGTERM raise Interrupted (instead of a KeyboardInterrupt traceback or a silent death)."""
    previous = {signum: signal.signal(signum, _interrupt) for signum in HANDLED_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        with _signals_interrupt():
            stacks, warnings = synthesize(args.config or default_config_paths(), args.output)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    except MigrationError as error:
        # migrations/<environment>.json is an input like the config.
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    except AddressCollision as error:
        # A code change, not a config: two constructs derive one Terraform address.
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ADDRESS_COLLISION
    except Interrupted as interrupted:
        name = signal.Signals(interrupted.signum).name
        state = "the new output is complete" if interrupted.written else "the previous output is unchanged"
        print(f"interrupted by {name}: {state} in {args.output}", file=sys.stderr)
        return interrupted.exit_code
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"synthesized {len(stacks)} stack(s) into {args.output}: {', '.join(stacks)}")
    return 0


def _exit(code: int) -> None:
    """Exit; after an interruption without the jsii runtime's exit handlers (its node process may be gone)."""
    if code > 128:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    _exit(main())
