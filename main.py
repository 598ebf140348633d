"""Synthesize one Terraform stack per environment config.

    python main.py                       # every config/*.tfvars and *.json
    python main.py --config config/staging.tfvars --output /tmp/out

Output is all-or-nothing: the app synthesizes into a temporary folder beside
the output folder and swaps it in only when every stack succeeded, so a bad
config leaves the previous ``cdktf.out`` exactly as it was. ``cdktf synth``
runs this file (cdktf.json) and passes its output folder in CDKTF_OUTDIR.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import constructs_lib  # noqa: F401  (first: cheap provider imports, no jsii banner)
from stacks.config import ConfigError, EnvironmentConfig, load_configs

PROJECT_DIR = Path(__file__).resolve().parent
DEFAULT_CONFIG_DIR = PROJECT_DIR / "config"
CONFIG_SUFFIXES = (".tfvars", ".tfvars.json", ".json")
EXIT_CONFIG_ERROR = 2


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

    Returns the stack names and the warnings the constructs raised (cdktf
    keeps them in manifest.json, where `cdktf synth` prints them from).
    Raises ConfigError before anything is written when a config is bad.
    """
    configs = load_configs(config_paths)
    outdir = outdir.resolve()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", dir=outdir.parent))
    try:
        build_app(configs, staging).synth()
        stack_names, warnings = _read_manifest(staging / "manifest.json")
        _replace_dir(staging, outdir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return stack_names, warnings


def _read_manifest(manifest: Path) -> tuple[list[str], list[str]]:
    """The stack names (in name order) and the construct warnings."""
    stacks = json.loads(manifest.read_text())["stacks"]
    return list(stacks), [
        f"{name}: {annotation['message']}"
        for name, stack in stacks.items()
        for annotation in stack["annotations"]
        if annotation["level"] == "@cdktf/warn"
    ]


def _replace_dir(new: Path, target: Path) -> None:
    """Put ``new`` at ``target``; the old tree is moved aside, then removed."""
    if not target.exists():
        new.rename(target)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
    target.rename(retired / target.name)
    try:
        new.rename(target)
    except OSError:
        (retired / target.name).rename(target)
        raise
    finally:
        shutil.rmtree(retired, ignore_errors=True)


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


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        stacks, warnings = synthesize(args.config or default_config_paths(), args.output)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"synthesized {len(stacks)} stack(s) into {args.output}: {', '.join(stacks)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
