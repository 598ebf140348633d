"""Run the real terraform CLI offline, against the local provider mirror.

There is no network here: `terraform init` only works with a CLI config that
installs hashicorp/aws from a filesystem mirror. A missing terraform binary or
mirror fails loudly instead of skipping, so a green run always means terraform
really ran.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

AWS_PROVIDER_VERSION = "5.100.0"
_PROVIDER_GLOB = (
    f"registry.terraform.io/hashicorp/aws/{AWS_PROVIDER_VERSION}/*/"
    f"terraform-provider-aws_v{AWS_PROVIDER_VERSION}*"
)
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


def find_terraform() -> str:
    """Return the terraform binary on PATH, or fail with a clear message."""
    binary = shutil.which("terraform")
    if binary is None:
        raise FileNotFoundError("terraform CLI not found on PATH")
    return binary


def write_cli_config(config_dir: Path, mirror: Path | None = None) -> Path:
    """Write a CLI config that installs providers from the mirror only.

    The plugin cache lets every init in a session link to one copy of the
    700 MB provider instead of unpacking it again.
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
    real credentials or a profile by accident.
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
    return env


@dataclass(frozen=True)
class PlanResult:
    """`terraform plan -detailed-exitcode`: 0 = no changes, 2 = changes."""

    exit_code: int
    output: str

    @property
    def has_changes(self) -> bool:
        return self.exit_code == 2


class Terraform:
    """Thin wrapper over the CLI in one working directory."""

    def __init__(self, workdir: Path, env: Mapping[str, str], parallelism: int = 20):
        self.workdir = Path(workdir)
        self.env = dict(env)
        self.parallelism = parallelism
        self.binary = find_terraform()

    def run(self, *args: str, ok_codes: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
        """Run `terraform ARGS -no-color`; raise TerraformError on other exit codes."""
        cmd = [self.binary, *args, "-no-color"]
        proc = subprocess.run(
            cmd, cwd=self.workdir, env=self.env, capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
        if proc.returncode not in ok_codes:
            raise TerraformError(
                f"`{' '.join(cmd[1:])}` in {self.workdir} exited {proc.returncode}\n"
                f"--- stdout (tail) ---\n{proc.stdout[-_TAIL_CHARS:]}\n"
                f"--- stderr (tail) ---\n{proc.stderr[-_TAIL_CHARS:]}"
            )
        return proc

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

    def destroy(self) -> str:
        return self.run("destroy", "-input=false", "-auto-approve", f"-parallelism={self.parallelism}").stdout

    def output(self) -> dict[str, Any]:
        """Return output values by name (the `value` of `output -json`)."""
        raw = json.loads(self.run("output", "-json").stdout)
        return {name: item["value"] for name, item in raw.items()}

    def show_json(self) -> dict[str, Any]:
        return json.loads(self.run("show", "-json").stdout)
