"""tools/layers.py: the apply order comes from the manifest's dependencies."""

from __future__ import annotations

import json

import pytest

from tools.layers import LayersError, apply_order, main, read_dependencies

DEPENDENCIES = {
    "qa-operations": ("qa-data", "qa-services"),
    "qa-services": ("qa-data", "qa-network"),
    "qa-data": ("qa-network",),
    "qa-network": (),
    "prod-network": (),
}


def test_each_stack_comes_after_what_it_reads():
    assert apply_order(DEPENDENCIES, "qa") == ["qa-network", "qa-data", "qa-services", "qa-operations"]
    assert apply_order(DEPENDENCIES) == ["prod-network", "qa-network", "qa-data", "qa-services", "qa-operations"]


def test_a_cycle_and_an_unknown_dependency_are_errors():
    with pytest.raises(LayersError, match="cycle"):
        apply_order({"a": ("b",), "b": ("a",)})
    with pytest.raises(LayersError, match="depends on ghost"):
        apply_order({"a": ("ghost",)})
    with pytest.raises(LayersError, match="no stack of environment 'dev'"):
        apply_order(DEPENDENCIES, "dev")


def test_the_real_manifest_orders_the_five_layers(synth_dir, capsys):
    for environment in ("production", "staging"):
        assert main(["order", "--environment", environment, "--output", str(synth_dir)]) == 0
        assert capsys.readouterr().out.split() == [f"{environment}-{layer}" for layer in ("network", "data", "edge", "services", "operations")]
    assert main(["order", "--environment", "staging", "--output", str(synth_dir), "--reverse"]) == 0
    assert capsys.readouterr().out.split()[0] == "staging-operations"


def test_a_missing_or_broken_manifest_is_one_message(tmp_path, capsys):
    assert main(["order", "--output", str(tmp_path)]) == 2
    assert "manifest.json does not exist" in capsys.readouterr().err
    (tmp_path / "manifest.json").write_text(json.dumps({"stacks": []}))
    with pytest.raises(LayersError, match="not a cdktf manifest"):
        read_dependencies(tmp_path)
