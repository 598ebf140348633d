"""Session fixtures for the terraform and emulator tests.

All of them are lazy: a unit test that requests none of them pays nothing
(no synth, no provider process, no moto server).
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import pytest

from tests.harness.moto_server import MotoServer
from tests.harness.tier_guard import GUARD
from tests.harness.terraform import ProviderServer, terraform_env as make_terraform_env

if TYPE_CHECKING:
    from stacks.config import EnvironmentConfig

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@functools.cache
def environment_configs() -> dict[str, EnvironmentConfig]:
    """The configs main.py synthesizes, by environment (= stack name)."""
    from main import default_config_paths
    from stacks.config import load_configs

    return {config.environment: config for config in load_configs(default_config_paths())}


@functools.cache
def stack_environments() -> dict[str, str]:
    """Every stack main.py synthesizes (``<environment>-<layer>``) -> its environment."""
    from stacks.environment import LAYERS

    return {f"{environment}-{layer}": environment for environment in environment_configs() for layer in LAYERS}


def pytest_configure(config: pytest.Config) -> None:
    # pytest-xdist registers it too; this keeps --strict-markers happy without xdist.
    config.addinivalue_line("markers", "xdist_group(name): run in one pytest-xdist worker with `--dist loadgroup`")
    GUARD.install()


def pytest_unconfigure(config: pytest.Config) -> None:
    GUARD.uninstall()


# The tier guard (tests/harness/tier_guard.py): while a test sets up, runs and
# tears down (session fixtures it is the first to request included), starting
# terraform, the provider or the cdktf CLI needs its `terraform` marker, and
# starting the moto server `terraform` and `emulated`; otherwise the launch
# raises TierViolation and the test fails, in every tier.
def _watched(item: pytest.Item):
    if GUARD.stand_in_root is None:
        GUARD.stand_in_root = item.config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    return GUARD.watching(item.nodeid, [marker.name for marker in item.iter_markers()])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    with _watched(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    with _watched(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    with _watched(item):
        return (yield)


# The emulated scenarios, longest first (minutes each, measured alone: CI deploy ~13, adoption ~9,
# staging via cdktf ~7, rollback and plan guard ~2). With --no-loadscope-reorder (Makefile's
# PYTEST_ARGS) xdist's loadgroup hands work out in collection order, so collected first they
# start at once, each on its own worker, and the short tests fill the workers around them
# instead of pushing a long scenario to the end. Without it xdist sorts the groups by their
# number of tests: the adoption (6 tests) and staging (1) then shared one worker, 30 minutes.
LONGEST_FIRST = ("emulated-ci-deploy", "emulated-adopt", "emulated-staging", "emulated-rollback", "emulated-plan-guard")


def _group_rank(item: pytest.Item) -> int:
    marker = item.get_closest_marker("xdist_group")
    name = (marker.args[0] if marker.args else marker.kwargs.get("name")) if marker else None
    if name in LONGEST_FIRST:
        return LONGEST_FIRST.index(name)
    return len(LONGEST_FIRST) if name else len(LONGEST_FIRST) + 1


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=_group_rank)  # stable: within a rank, collection order


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run a test that takes `stack_name` once per synthesized stack."""
    if "stack_name" in metafunc.fixturenames:
        metafunc.parametrize("stack_name", sorted(stack_environments()))


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every stack, synthesized once per session by `main.py --output` in a subprocess.

    A subprocess keeps the jsii runtime out of the test process and runs the
    same entry point as CI and `cdktf synth`.
    """
    out = tmp_path_factory.mktemp("synth") / "cdktf.out"
    proc = subprocess.run(
        [sys.executable, "main.py", "--output", str(out)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        pytest.fail(f"main.py --output failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}", pytrace=False)
    synthesized = sorted(p.name for p in (out / "stacks").iterdir())
    assert synthesized == sorted(stack_environments()), "synthesized stacks differ from the configs' layers"
    return out


@pytest.fixture
def stack_config(stack_name: str) -> EnvironmentConfig:
    """The environment config a stack was synthesized from."""
    return environment_configs()[stack_environments()[stack_name]]


@pytest.fixture
def stack_dir(synth_dir: Path, stack_name: str) -> Path:
    """The synthesized folder of one stack (holds cdk.tf.json)."""
    return synth_dir / "stacks" / stack_name


@pytest.fixture(scope="session")
def terraform_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Env for `Terraform`: offline CLI config plus one shared provider process."""
    root = tmp_path_factory.mktemp("terraform")
    with ProviderServer(make_terraform_env(root), root / "provider.log") as provider:
        yield provider.env


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a moto server (with the harness's shims) for the whole session."""
    with MotoServer(tmp_path_factory.mktemp("moto")) as server:
        yield server.endpoint
