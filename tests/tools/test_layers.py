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


# -- moves of the API's release strategy (README, "Moving to canary releases") ---------------------------
def test_the_move_to_canary_applies_the_network_after_the_services_and_lets_only_the_nlbs_old_group_go(synth_dir, capsys):
    """Production ships canary: from a cutover, edge switches both APIs while the rolling service still runs, services
    removes it, and only then network removes the rules to it."""
    assert main(["order", "--environment", "production", "--output", str(synth_dir), "--deployed-strategy", "cutover"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "production-data",
        "production-edge aws_lb_target_group.websocket_api_target_group",
        "production-services",
        "production-network",
        "production-operations",
    ]


@pytest.mark.parametrize("deployed", ["", "canary", " canary\n"])
def test_a_new_or_unmoved_environment_applies_in_the_manifests_order_letting_nothing_go(synth_dir, capsys, deployed):
    assert main(["order", "--environment", "production", "--output", str(synth_dir), "--deployed-strategy", deployed]) == 0
    assert capsys.readouterr().out.splitlines() == [f"production-{layer}" for layer in ("network", "data", "edge", "services", "operations")]


def test_rolling_straight_to_canary_stops_with_the_way_through_the_cutover(synth_dir, capsys):
    assert main(["order", "--environment", "production", "--output", str(synth_dir), "--deployed-strategy", "rolling"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "deployed with api_release_strategy = 'rolling' and the config says 'canary'" in captured.err
    assert 'apply "cutover" first' in captured.err and "Moving to canary releases" in captured.err


def test_a_move_back_is_refused_and_the_flag_needs_an_environment(synth_dir, capsys):
    from tools.layers import ReleaseMoveError, release_order

    order = [f"qa-{layer}" for layer in ("network", "data", "edge", "services", "operations")]
    assert release_order(order, "qa", "rolling", "cutover") == [(stack, ()) for stack in order]
    for deployed, synthesized in (("canary", "rolling"), ("canary", "cutover"), ("cutover", "rolling")):
        with pytest.raises(ReleaseMoveError, match="rolling -> cutover -> canary"):
            release_order(order, "qa", deployed, synthesized)
    assert main(["order", "--output", str(synth_dir), "--deployed-strategy", "cutover"]) == 2
    assert "--deployed-strategy needs --environment" in capsys.readouterr().err
