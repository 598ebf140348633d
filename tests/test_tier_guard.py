"""The tier guard: an unmarked test that starts terraform, the provider, the
cdktf CLI or the moto server fails (tests/harness/tier_guard.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.harness.tier_guard import GUARD, TierViolation, launched_tool

PROVIDER = "/opt/tf-plugins/registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64/terraform-provider-aws_v5.100.0_x5"


@pytest.fixture(scope="module")
def guarded_during_fixture_setup(request):
    """What the guard watched while a higher-scoped fixture was set up."""
    return GUARD.test


def test_the_guard_watches_this_unmarked_test_and_its_fixtures(request, guarded_during_fixture_setup):
    assert GUARD.test == request.node.nodeid
    assert guarded_during_fixture_setup == request.node.nodeid
    assert "terraform" not in GUARD.markers


@pytest.mark.parametrize(
    "command, kwargs",
    [
        (["terraform", "version"], {}),
        (["/usr/local/bin/terraform", "-chdir=/tmp", "init", "-backend=false"], {}),
        ("cd /tmp && terraform init -backend=false", {"shell": True}),
        (["bash", "-c", "TF_IN_AUTOMATION=1 terraform validate"], {}),
        (["env", "TF_LOG=off", "terraform", "plan"], {}),
        ([PROVIDER, "-debug"], {}),
        (["npx", "cdktf", "deploy", "staging-*"], {}),
        (["node_modules/.bin/cdktf", "synth", "--hcl"], {}),
    ],
    ids=["terraform", "terraform-path", "shell", "bash-c", "env", "provider", "npx-cdktf", "cdktf-bin"],
)
def test_an_unmarked_test_cannot_start_terraform(command, kwargs):
    with pytest.raises(TierViolation, match=r"is not marked @pytest\.mark\.terraform.*make test-unit"):
        subprocess.run(command, capture_output=True, check=False, **kwargs)


def test_an_unmarked_test_cannot_start_the_emulator():
    with pytest.raises(TierViolation, match=r"the moto server .* @pytest\.mark\.terraform and @pytest\.mark\.emulated"):
        subprocess.Popen([sys.executable, "-m", "tests.harness.moto_server", "--port", "0"])


def test_the_emulator_needs_the_emulated_marker_too():
    with GUARD.watching("tests/x.py::test_terraform_only", ["terraform"]):
        with pytest.raises(TierViolation, match=r"not marked @pytest\.mark\.emulated"):
            subprocess.Popen([sys.executable, "-m", "tests.harness.moto_server", "--port", "0"])
        assert launched_tool(["terraform", "version"]) == ("the terraform CLI", ("terraform",))


def test_other_commands_run():
    assert subprocess.run([sys.executable, "-c", "print('ok')"], capture_output=True, text=True).stdout == "ok\n"
    # A path or word that merely contains "terraform" is not terraform.
    assert launched_tool([sys.executable, "-m", "tools.layers", "--dir", "/tmp/terraform"]) is None
    assert launched_tool(["git", "grep", "terraform"]) is None
    assert launched_tool("echo terraform", shell=True) is None
    assert launched_tool([sys.executable, "main.py", "--output", "/tmp/terraform0/cdktf.out"]) is None
