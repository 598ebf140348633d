"""Run the real terraform CLI offline, against the local provider mirror.

There is no network here: `terraform init` only works with a CLI config that
installs hashicorp/aws from a filesystem mirror. A missing terraform binary or
mirror fails loudly instead of skipping, so a green run always means terraform
really ran.
"""

from __future__ import annotations

import json
import os
import platform
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Self

AWS_PROVIDER_VERSION = "5.100.0"
_PROVIDER_DIR = f"registry.terraform.io/hashicorp/aws/{AWS_PROVIDER_VERSION}"
_PROVIDER_FILE = f"terraform-provider-aws_v{AWS_PROVIDER_VERSION}*"
_PROVIDER_GLOB = f"{_PROVIDER_DIR}/*/{_PROVIDER_FILE}"
WELL_KNOWN_MIRROR = Path("/opt/tf-plugins")
# Bounded search roots for machines where the mirror lives elsewhere.
_MIRROR_SEARCH_ROOTS = (
    Path("/opt"),
    Path("/usr/local/share"),
    Path("/usr/share"),
    Path.home() / ".terraform.d",
    Path.home() / ".local/share",
)
_MIRROR_SEARCH_DEPTH = 3
_TAIL_CHARS = 6000
# terraform's "Error acquiring the state lock" message, then "Lock Info:" with the lock's ID.
_STALE_LOCK = re.compile(r"Error acquiring the state lock.*?^\s*ID:\s+(\S+)", re.S | re.M)
_PROVIDER_START_TIMEOUT_S = 60.0
REATTACH_VAR = "TF_REATTACH_PROVIDERS"


class TerraformError(RuntimeError):
    """A terraform command failed; the message carries its output tail."""


def _has_provider(root: Path) -> bool:
    return any(root.glob(_PROVIDER_GLOB))


def find_provider_mirror() -> Path:
    """Return the mirror root (the folder above `registry.terraform.io`).

    Order: $COT_TF_PROVIDER_MIRROR, the well-known /opt/tf-plugins, then a
    search a few levels deep under the usual roots.
    """
    override = os.environ.get("COT_TF_PROVIDER_MIRROR")
    if override:
        root = Path(override)
        if not _has_provider(root):
            raise FileNotFoundError(
                f"COT_TF_PROVIDER_MIRROR={override} holds no {_PROVIDER_GLOB}"
            )
        return root
    if _has_provider(WELL_KNOWN_MIRROR):
        return WELL_KNOWN_MIRROR
    for base in _MIRROR_SEARCH_ROOTS:
        for dirpath, dirnames, _ in os.walk(base):
            if "registry.terraform.io" in dirnames and _has_provider(Path(dirpath)):
                return Path(dirpath)
            if len(Path(dirpath).relative_to(base).parts) >= _MIRROR_SEARCH_DEPTH:
                dirnames.clear()
    raise FileNotFoundError(
        f"hashicorp/aws {AWS_PROVIDER_VERSION} provider mirror not found: set "
        f"COT_TF_PROVIDER_MIRROR to the folder holding {_PROVIDER_GLOB}"
    )


def find_provider_binary(mirror: Path | None = None) -> Path:
    """The provider executable for this machine's platform inside the mirror."""
    mirror = mirror or find_provider_mirror()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    platform_dir = mirror / _PROVIDER_DIR / f"{sys.platform}_{arch}"
    found = sorted(platform_dir.glob(_PROVIDER_FILE))
    if not found:
        raise FileNotFoundError(f"no {_PROVIDER_FILE} in {platform_dir}")
    return found[0]


if sys.platform == "linux":
    import ctypes

    _prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved here: no imports after fork
else:
    _prctl = None
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """preexec_fn: have Linux stop the child if the test process dies first."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def find_terraform() -> str:
    """Return the terraform binary on PATH, or fail with a clear message."""
    binary = shutil.which("terraform")
    if binary is None:
        raise FileNotFoundError("terraform CLI not found on PATH")
    return binary


def write_cli_config(config_dir: Path, mirror: Path | None = None) -> Path:
    """Write a CLI config that installs providers from the mirror only.

    From an unpacked mirror (as here) init only symlinks the 700 MB provider;
    the plugin cache keeps init that cheap for a zip-packed mirror too, which
    is then unpacked once per session instead of once per working directory.
    """
    mirror = mirror or find_provider_mirror()
    config_dir.mkdir(parents=True, exist_ok=True)
    cache = config_dir / "plugin-cache"
    cache.mkdir(exist_ok=True)
    config = config_dir / "terraform.tfrc"
    config.write_text(
        f"""plugin_cache_dir = {json.dumps(str(cache))}
disable_checkpoint = true

provider_installation {{
  filesystem_mirror {{
    path    = {json.dumps(str(mirror))}
    include = ["registry.terraform.io/*/*"]
  }}
  direct {{
    exclude = ["registry.terraform.io/*/*"]
  }}
}}
"""
    )
    return config


def terraform_env(config_dir: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for terraform: offline CLI config, no prompts, no AWS identity.

    AWS_* variables from the caller are dropped so that no test can ever use
    real credentials, a profile or a CA bundle by accident.
    """
    find_terraform()
    env = {k: v for k, v in (os.environ if base is None else base).items() if not k.startswith("AWS_")}
    env.update(
        TF_CLI_CONFIG_FILE=str(write_cli_config(config_dir)),
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        CHECKPOINT_DISABLE="1",
        AWS_EC2_METADATA_DISABLED="true",
    )
    env.pop("TF_PLUGIN_CACHE_DIR", None)  # the CLI config sets it
    env.pop(REATTACH_VAR, None)
    return env


class ChildProcess:
    """A background child process of the harness, used as `with X(...) as x:`.

    Subclasses set `_proc` in `start()`; `stop()` terminates the child, and
    kills it if it has not exited after `STOP_TIMEOUT_S`.
    """

    STOP_TIMEOUT_S = 10.0
    _proc: subprocess.Popen[Any] | None = None

    def start(self) -> object:
        raise NotImplementedError

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(self.STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ProviderServer(ChildProcess):
    """One long-lived aws provider process that terraform reattaches to.

    Without it every terraform command starts the 700 MB provider two to four
    times, about 3 s each just to build its schema; reattaching saves ~10 s
    per stack deployment. One process holds one provider configuration, so it
    serves one terraform command at a time, and `Terraform` does not use it
    for configurations with aliased aws providers (see `_reattach_is_safe`).
    """

    def __init__(self, env: Mapping[str, str], log_path: Path, mirror: Path | None = None, cwd: Path | None = None):
        self.binary = find_provider_binary(mirror)
        self.log_path = Path(log_path)
        # The provider resolves relative paths in arguments (a Lambda's
        # `filename = "assets/..."`) against its own working directory, as
        # when terraform starts it in the configuration's folder.
        self.cwd = Path(cwd) if cwd is not None else None
        self._base_env = {k: v for k, v in env.items() if k != REATTACH_VAR}
        self.env: dict[str, str] = {}
        self._proc: subprocess.Popen[str] | None = None

    def start(self) -> dict[str, str]:
        """Start the provider in debug mode; return `env` plus TF_REATTACH_PROVIDERS.

        The provider reads AWS settings from its own environment, so it must
        get the sanitized terraform env, not the caller's.
        """
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "a")
        self._proc = subprocess.Popen(
            [str(self.binary), "-debug"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env={**self._base_env, "TF_LOG_PROVIDER": "off"},
            cwd=self.cwd,
            preexec_fn=die_with_parent,
        )
        log.close()
        try:
            reattach = self._read_reattach()
        except BaseException:
            self.stop()
            raise
        self.env = {**self._base_env, REATTACH_VAR: reattach}
        return self.env

    def _read_reattach(self) -> str:
        """Scan stdout for the reattach line, then keep draining it so the
        provider never blocks on a full pipe."""
        assert self._proc is not None and self._proc.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        stdout = self._proc.stdout

        def pump() -> None:
            for line in stdout:
                lines.put(line)
            lines.put("")

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + _PROVIDER_START_TIMEOUT_S
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = lines.get(timeout=remaining)
            except queue.Empty:
                break
            if not line:
                break
            match = re.search(rf"{REATTACH_VAR}='(.+)'", line)
            if match:
                return match.group(1)
        raise RuntimeError(f"the aws provider did not start in debug mode; see {self.log_path}")


@dataclass(frozen=True)
class PlanResult:
    """`terraform plan -detailed-exitcode`: 0 = no changes, 2 = changes."""

    exit_code: int
    output: str

    @property
    def has_changes(self) -> bool:
        return self.exit_code == 2


def _reattach_is_safe(workdir: Path) -> bool:
    """True when the configuration has a single aws provider configuration.

    A reattached provider process keeps one configuration, so aliased aws
    providers would overwrite each other's region and tags (seen: resources
    of the default provider looked up in the alias's region). HCL files are
    not parsed, so their presence also counts as unsafe.
    """
    if any(workdir.glob("*.tf")):
        return False
    aliases = set()
    for path in workdir.glob("*.tf.json"):
        for block in json.loads(path.read_text()).get("provider", {}).get("aws", []):
            aliases.add(block.get("alias"))
    return len(aliases) <= 1


class Terraform:
    """Thin wrapper over the CLI in one working directory.

    Create it once the configuration is in place: it decides then whether the
    env's reattached provider may be used.
    """

    def __init__(self, workdir: Path, env: Mapping[str, str], parallelism: int = 20, timeout_s: float = 600):
        self.workdir = Path(workdir)
        self.timeout_s = timeout_s
        self.env = dict(env)
        if REATTACH_VAR in self.env and not _reattach_is_safe(self.workdir):
            del self.env[REATTACH_VAR]
        self.parallelism = parallelism
        self.binary = find_terraform()

    def run(self, *args: str, ok_codes: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
        """Run `terraform ARGS -no-color`; raise TerraformError on other exit codes.

        Emulator gap (moto server, DynamoDB): now and then, under load, a lock
        PutItem that moto has applied reaches terraform as a failure its AWS
        SDK retries; the retry meets terraform's own lock (ConditionalCheckFailed)
        and the command fails on a lock that nobody holds (moto's log shows the
        same apply's PutItem answered 200, then 400). No other client uses a
        test's emulator, so such a lock is stale by construction: it is
        force-unlocked and the command run once more, with a warning.
        """
        try:
            return self._run_once(args, ok_codes)
        except TerraformError as error:
            stale = _STALE_LOCK.search(str(error))
            if stale is None or args[:1] == ("force-unlock",):
                raise
        warnings.warn(f"terraform {args[0]}: stale emulator state lock {stale.group(1)} force-unlocked; command run again", stacklevel=2)
        self._run_once(("force-unlock", "-force", stale.group(1)), (0,))
        return self._run_once(args, ok_codes)

    def _run_once(self, args: tuple[str, ...], ok_codes: tuple[int, ...]) -> subprocess.CompletedProcess[str]:
        cmd = [self.binary, *args, "-no-color"]
        with subprocess.Popen(
            cmd,
            cwd=self.workdir,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # a timeout can then stop terraform and its providers together
            preexec_fn=die_with_parent,
        ) as proc:
            try:
                stdout, stderr = proc.communicate(timeout=self.timeout_s)
                outcome = f"exited {proc.returncode}"
            except subprocess.TimeoutExpired:
                # Provider retry loops against an emulator gap can run for an hour.
                os.killpg(proc.pid, signal.SIGKILL)
                stdout, stderr = proc.communicate()
                outcome = f"timed out after {self.timeout_s:.0f}s"
        if proc.returncode not in ok_codes:
            raise TerraformError(
                f"`{' '.join(cmd[1:])}` in {self.workdir} {outcome}\n"
                f"--- stdout (tail) ---\n{stdout[-_TAIL_CHARS:]}\n"
                f"--- stderr (tail) ---\n{stderr[-_TAIL_CHARS:]}"
            )
        return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)

    def init(self, backend: bool = True) -> None:
        self.run("init", "-input=false", f"-backend={str(backend).lower()}")

    def validate(self) -> dict[str, Any]:
        """Return the parsed `validate -json` result (exit 1 still yields JSON)."""
        proc = self.run("validate", "-json", ok_codes=(0, 1))
        return json.loads(proc.stdout)

    def plan(self, detailed_exitcode: bool = True) -> PlanResult:
        args = ["plan", "-input=false", f"-parallelism={self.parallelism}"]
        if detailed_exitcode:
            args.append("-detailed-exitcode")
        proc = self.run(*args, ok_codes=(0, 2) if detailed_exitcode else (0,))
        return PlanResult(proc.returncode, proc.stdout)

    def apply(self) -> str:
        return self.run("apply", "-input=false", "-auto-approve", f"-parallelism={self.parallelism}").stdout

    def destroy(self, refresh: bool = True) -> str:
        return self.run(
            "destroy", "-input=false", "-auto-approve", f"-refresh={str(refresh).lower()}", f"-parallelism={self.parallelism}"
        ).stdout

    def output(self) -> dict[str, Any]:
        """Return output values by name (the `value` of `output -json`)."""
        raw = json.loads(self.run("output", "-json").stdout)
        return {name: item["value"] for name, item in raw.items()}

    def show_json(self) -> dict[str, Any]:
        """The state, as `show -json` prints it."""
        return json.loads(self.run("show", "-json").stdout)

    def plan_json(self, *args: str, planfile: str = "tfplan") -> dict[str, Any]:
        """Save a plan (`plan -out=PLANFILE ARGS`) and return `show -json PLANFILE`.

        This is the plan's JSON as CI gates read it (tools.plan_guard), with
        `resource_changes`, actions and `replace_paths`. `args` are extra plan
        options, such as "-destroy" or "-var=name=value"; `planfile` is
        relative to the working directory and overwritten.
        """
        self.run("plan", "-input=false", f"-parallelism={self.parallelism}", f"-out={planfile}", *args)
        return json.loads(self.run("show", "-json", planfile).stdout)
