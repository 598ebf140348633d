"""tools/outputs.py: one output of an environment, from the layer that declares it."""

from __future__ import annotations

import os
import stat

import pytest

from tools.outputs import OutputsError, main, owning_stack


def test_each_output_is_found_in_its_owning_layer(synth_dir):
    assert owning_stack(synth_dir, "production", "jobs_table_name") == "production-data"
    assert owning_stack(synth_dir, "production", "vpc_id") == "production-network"
    assert owning_stack(synth_dir, "production", "alarm_topic_arn") == "production-operations"
    # Re-exported by the services layer for CI; the owner (lower in apply order) answers.
    assert owning_stack(synth_dir, "staging", "frontend_bucket_name") == "staging-data"


def test_unknown_outputs_and_cross_stack_outputs_are_refused(synth_dir):
    with pytest.raises(OutputsError, match="no layer of production has an output 'nope'"):
        owning_stack(synth_dir, "production", "nope")
    with pytest.raises(OutputsError, match="cross-stack output"):
        owning_stack(synth_dir, "production", "cross_stack_output_aws_vpc_network_vpc_id")


def test_it_runs_terraform_output_in_that_layers_folder(synth_dir, tmp_path, monkeypatch, capfd):
    """A stand-in terraform records its arguments: -chdir names the data layer, -raw the output."""
    fake = tmp_path / "bin" / "terraform"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho "$@"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    assert main(["production", "jobs_table_name", "--output", str(synth_dir)]) == 0
    assert capfd.readouterr().out.strip() == f"-chdir={synth_dir}/stacks/production-data output -raw jobs_table_name"
    assert main(["production", "nope", "--output", str(synth_dir)]) == 2
    assert "no layer of production" in capfd.readouterr().err
