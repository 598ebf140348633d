"""Keep the test tiers honest: a test without the marker may not start the slow tools.

`make test-unit` runs `-m "not terraform"`: no terraform, no provider
process, no emulator. A test that starts one of them without its marker
would silently slow that tier down (or fail on a machine without terraform),
so tests/conftest.py installs this guard around the set-up, call and
tear-down of every test that lacks the marker; the launch then raises
`TierViolation` before any process starts, naming the marker to add.

    terraform CLI, aws provider, cdktf CLI  ->  @pytest.mark.terraform
    the moto server (tests.harness.moto_server)  ->  @pytest.mark.terraform + @pytest.mark.emulated

The cdktf CLI counts as terraform: `cdktf deploy` runs terraform, and `cdktf
synth` is the node toolchain the terraform tier already carries.
It wraps `subprocess.Popen._execute_child`, through which every subprocess
launch passes (run, check_output, Popen, whatever name it was imported under).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

MOTO_MODULES = ("tests.harness.moto_server", "moto.server", "moto")


class TierViolation(RuntimeError):
    """A test started terraform, the provider or the emulator without its marker."""


SHELLS = ("sh", "bash", "dash", "zsh")
_SEPARATORS = ("&&", "||", ";", "|", "&")


def _words(text: str) -> list[str]:
    try:
        lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        return list(lexer)
    except ValueError:
        return text.split()


def _commands(text: str) -> list[list[str]]:
    """The simple commands of a shell command line (split at && || ; | &)."""
    commands: list[list[str]] = [[]]
    for word in _words(text):
        if word in _SEPARATORS:
            commands.append([])
        else:
            commands[-1].append(word)
    return [c for c in commands if c]


def _classify(argv: list[str]) -> tuple[str, tuple[str, ...]] | None:
    while argv and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", argv[0]):  # VAR=value program ...
        argv = argv[1:]
    if not argv:
        return None
    program = os.path.basename(argv[0])
    if program in SHELLS and "-c" in argv[1:-1]:
        command_line = argv[argv.index("-c", 1) + 1]
        return next(filter(None, (_classify(c) for c in _commands(command_line))), None)
    if program == "env":  # env [VAR=value ...] program ...
        rest = [a for a in argv[1:] if "=" not in a and not a.startswith("-")]
        return _classify(rest)
    if program == "terraform":
        return "the terraform CLI", ("terraform",)
    if program.startswith("terraform-provider-"):
        return "a terraform provider process", ("terraform",)
    if program == "cdktf" or (program in ("npx", "node") and any(os.path.basename(a) == "cdktf" for a in argv[1:3])):
        return "the cdktf CLI", ("terraform",)
    if program in ("moto_server", "moto-server"):
        return "the moto server", ("terraform", "emulated")
    if program.startswith("python") and "-m" in argv[1:-1] and argv[argv.index("-m", 1) + 1] in MOTO_MODULES:
        return "the moto server", ("terraform", "emulated")
    return None


def _argv(args: Any) -> list[str]:
    if isinstance(args, (str, bytes, os.PathLike)):
        return _words(os.fsdecode(args))
    return [os.fsdecode(a) for a in args]


def launched_tool(args: Any, executable: Any = None, shell: bool = False) -> tuple[str, tuple[str, ...]] | None:
    """(what, the markers it needs) when the command starts a gated tool, else None."""
    if shell:  # Popen runs /bin/sh -c <the string, or the list's first item>
        text = os.fsdecode(args if isinstance(args, (str, bytes, os.PathLike)) else args[0])
        return next(filter(None, (_classify(c) for c in _commands(text))), None)
    argv = _argv(args)
    if executable is not None and argv:
        argv = [os.fsdecode(executable), *argv[1:]]
    return _classify(argv)


class _Guard:
    def __init__(self) -> None:
        self.test: str | None = None  # node ID of the unmarked test running now
        self.markers: frozenset[str] = frozenset()
        # A stand-in `terraform` a test writes into its own temporary folder is not terraform.
        self.stand_in_root: Path | None = None
        self.original = subprocess.Popen._execute_child  # type: ignore[attr-defined]

    def install(self) -> None:
        guard = self
        original = self.original

        def _execute_child(popen: subprocess.Popen, args: Any, executable: Any, *rest: Any, **kwargs: Any) -> Any:
            if guard.test is not None:
                # _execute_child(args, executable, preexec_fn, close_fds, pass_fds, cwd, env,
                # startupinfo, creationflags, shell, ...): env is the 5th, shell the 8th after them.
                shell = bool(rest[7]) if len(rest) > 7 else bool(kwargs.get("shell"))
                env = rest[4] if len(rest) > 4 else kwargs.get("env")
                found = launched_tool(args, executable, shell)
                if found is not None and not shell and guard.is_stand_in(args, executable, env):
                    found = None
                if found is not None:
                    what, needed = found
                    missing = [m for m in needed if m not in guard.markers]
                    if missing:
                        marks = " and ".join(f"@pytest.mark.{m}" for m in missing)
                        raise TierViolation(
                            f"{guard.test} starts {what} ({(args if isinstance(args, str) else shlex.join(_argv(args)))[:200]}) but is not marked "
                            f"{marks}: the unit tier (`make test-unit`, -m \"not terraform\") runs no terraform "
                            f"and no emulator. Mark the test (or its module's pytestmark)."
                        )
            return original(popen, args, executable, *rest, **kwargs)

        subprocess.Popen._execute_child = _execute_child  # type: ignore[attr-defined]

    def is_stand_in(self, args: Any, executable: Any, env: Any) -> bool:
        """The program is a file under the session's temporary folder (a test's fake)."""
        if self.stand_in_root is None:
            return False
        argv = _argv(args)
        program = os.fsdecode(executable) if executable is not None else (argv[0] if argv else "")
        path = program if os.sep in program else shutil.which(program, path=(env or os.environ).get("PATH"))
        return path is not None and Path(path).resolve().is_relative_to(self.stand_in_root.resolve())

    def uninstall(self) -> None:
        subprocess.Popen._execute_child = self.original  # type: ignore[attr-defined]

    @contextmanager
    def watching(self, test: str, markers: Sequence[str]) -> Iterator[None]:
        """Guard launches for the duration of one phase of one test."""
        previous = self.test, self.markers
        self.test, self.markers = test, frozenset(markers)
        try:
            yield
        finally:
            self.test, self.markers = previous


GUARD = _Guard()
