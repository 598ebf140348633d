"""tools.adopt's proof decisions on plan JSON shaped as `terraform show -json` writes it (no terraform here).

What each replacement of an adopted instance becomes: a kept value, an allowed
replacement (harmless type, or a reviewed --allow-replace), or a refusal naming
the address, the attribute and what keeping would need. The emulated adoption
test drives the same code through real plans.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tools.adopt import Design, LegacyInstance, Match
from tools.adopt.design import DesignResource
from tools.adopt.proof import ProofContext, ProviderSchema, Source, StackProof, Unknowns, _outputs, _replacement, _with_unknowns, argument_value
from tools.adopt.tables import HARMLESS_REPLACEMENTS

# The shape of `terraform providers schema -json` for the blocks used here (abridged from hashicorp/aws 5.100.0).
SCHEMA = {
    "aws_service_discovery_service": {
        "block": {
            "attributes": {"arn": {"type": "string", "computed": True}, "name": {"type": "string", "required": True}},
            "block_types": {
                "health_check_custom_config": {
                    "nesting_mode": "list",
                    "block": {"attributes": {"failure_threshold": {"type": "number", "optional": True, "computed": True}}},
                },
                "dns_config": {
                    "nesting_mode": "list",
                    "block": {
                        "attributes": {"namespace_id": {"type": "string", "required": True}, "routing_policy": {"type": "string", "optional": True}},
                        "block_types": {"dns_records": {"nesting_mode": "list", "block": {"attributes": {"ttl": {"type": "number", "required": True}}}}},
                    },
                },
            },
        }
    },
    "aws_lb": {
        "block": {
            "attributes": {"name": {"type": "string", "optional": True, "computed": True}},
            "block_types": {
                "subnet_mapping": {
                    "nesting_mode": "set",
                    "block": {"attributes": {"subnet_id": {"type": "string", "required": True}, "outpost_id": {"type": "string", "computed": True}}},
                }
            },
        }
    },
}


def context(*allow: str) -> ProofContext:
    schema = ProviderSchema()
    schema._resources = SCHEMA  # what ProviderSchema.block reads from terraform, given
    return ProofContext(legacy=[], allow_replace=set(allow), schema=schema)


def adopted(type_: str, name: str, attributes: dict[str, Any]) -> Match:
    legacy = LegacyInstance(f"{type_}.legacy", type_, {}, {"attributes": attributes})
    return Match(legacy, DesignResource("production-data", type_, name, {}), {})


def decide(found: Match, forced_by: list[str], sources: dict[str, list[Source]] | None = None, ctx: ProofContext | None = None) -> StackProof:
    proof = StackProof(found.design.stack)
    details = {"actions": ["delete", "create"], "replace_paths": [[attribute] for attribute in forced_by]}
    _replacement(proof, Path("/nonexistent"), {}, ctx or context(), found, found.design.address, found.design.type, details, sources or {})
    return proof


def test_a_forcing_argument_of_any_type_keeps_the_legacy_value_as_an_argument() -> None:
    service = adopted(
        "aws_service_discovery_service",
        "api_discovery_service",
        {"name": "api-service", "arn": "arn:x", "health_check_custom_config": [{"failure_threshold": 1}], "health_check_config": []},
    )
    proof = decide(service, ["health_check_custom_config"])
    assert proof.keep == {"aws_service_discovery_service.api_discovery_service": {"health_check_custom_config": [{"failure_threshold": 1}]}}
    assert not proof.violations and not proof.allowed
    # Computed-only attributes and nulls never become arguments (the provider would refuse them).
    block = SCHEMA["aws_lb"]["block"]
    assert argument_value(block, "subnet_mapping", [{"subnet_id": "subnet-1", "outpost_id": "", "allocation_id": None}]) == [{"subnet_id": "subnet-1"}]
    assert argument_value(block, "name", "cot-ws") == "cot-ws"


def test_a_harmless_type_takes_the_design_value_and_is_listed_with_its_reason() -> None:
    task = adopted("aws_ecs_task_definition", "api_service_task_definition", {"family": "cot-api", "container_definitions": "[]"})
    proof = decide(task, ["container_definitions", "family"])
    assert proof.keep == {}
    (allowed,) = proof.allowed
    assert (allowed.address, allowed.legacy, allowed.attributes) == ("aws_ecs_task_definition.api_service_task_definition", "aws_ecs_task_definition.legacy", ["container_definitions", "family"])
    assert allowed.reason == HARMLESS_REPLACEMENTS["aws_ecs_task_definition"]


def test_a_value_that_comes_from_a_replaced_resource_is_not_kept_but_refused_with_its_source() -> None:
    """Keeping the old registry ARN would point the service at the Cloud Map service the same apply replaces."""
    service = adopted("aws_ecs_service", "api_service", {"service_registries": [{"registry_arn": "arn:old"}]})
    source = Source("production-data", "aws_service_discovery_service.api_discovery_service", "replaced")
    proof = decide(service, ["service_registries"], {"service_registries": [source]})
    assert proof.keep == {} and not proof.allowed
    (violation,) = proof.violations
    assert violation.startswith("production-data aws_ecs_service.api_service (legacy aws_ecs_service.legacy) would be REPLACED, forced by service_registries")
    assert "production-data aws_service_discovery_service.api_discovery_service (replaced)" in violation
    assert "keeping would need that resource kept first" in violation
    assert violation.endswith("--allow-replace production-data:aws_ecs_service.api_service")
    assert proof.cascades == ["aws_ecs_service.api_service: service_registries <- production-data aws_service_discovery_service.api_discovery_service (replaced)"]


def test_a_value_that_comes_from_a_created_resource_keeps_the_legacy_value() -> None:
    """An ECR repository's key is new: the legacy encryption (which points at nothing replaced) is kept."""
    repository = adopted("aws_ecr_repository", "api_repository", {"encryption_configuration": [{"encryption_type": "AES256", "kms_key": ""}]})
    source = Source("production-data", "aws_kms_key.ecr_key", "created")
    proof = decide(repository, ["encryption_configuration"], {"encryption_configuration": [source]})
    assert proof.keep == {"aws_ecr_repository.api_repository": {"encryption_configuration": [{"encryption_type": "AES256", "kms_key": ""}]}}
    assert not proof.violations


def test_allow_replace_accepts_the_one_reviewed_address_and_never_a_data_bearing_type() -> None:
    service = adopted("aws_ecs_service", "api_service", {})
    ctx = context("production-data:aws_ecs_service.api_service")
    proof = decide(service, ["service_registries"], {"service_registries": [Source("production-data", "x.y", "replaced")]}, ctx)
    assert [a.reason for a in proof.allowed] == ["--allow-replace production-data:aws_ecs_service.api_service, reviewed"]
    assert not proof.violations and ctx.allow_used == {"production-data:aws_ecs_service.api_service"}
    other = decide(adopted("aws_ecs_service", "worker_service", {}), ["name"], ctx=ctx)
    assert other.violations and not other.allowed  # the flag names one address, not a type
    # Reviewed, the design's value is taken where the legacy one would otherwise be kept.
    namespace = adopted("aws_service_discovery_service", "api_discovery_service", {"health_check_custom_config": []})
    ctx = context("production-data:aws_service_discovery_service.api_discovery_service")
    proof = decide(namespace, ["health_check_custom_config"], ctx=ctx)
    assert proof.keep == {} and [a.attributes for a in proof.allowed] == [["health_check_custom_config"]]
    table = adopted("aws_dynamodb_table", "jobs_table", {})
    proof = decide(table, ["stream_view_type"], ctx=context("production-data:aws_dynamodb_table.jobs_table"))
    (violation,) = proof.violations
    assert "which the legacy state does not hold" in violation
    assert violation.endswith("aws_dynamodb_table holds data, so --allow-replace is refused for it")


def test_a_refused_attribute_is_never_kept() -> None:
    table = adopted("aws_dynamodb_table", "jobs_table", {"hash_key": "id"})
    proof = decide(table, ["hash_key"])
    assert proof.keep == {} and not proof.violations
    assert proof.refused == ["REFUSED aws_dynamodb_table.legacy -> production-data aws_dynamodb_table.jobs_table: hash_key differs; the application reads and writes items by the table's key schema"]


def test_outputs_a_lower_layer_knows_only_after_apply_become_markers_that_name_their_source() -> None:
    config = {
        "output": {
            "registry_arn": {"value": "${aws_service_discovery_service.api_discovery_service.arn}"},
            "subnets": {"value": "${aws_subnet.private.*.id}"},
            "name": {"value": "${aws_sqs_queue.jobs.name}"},
        }
    }
    plan = {
        "output_changes": {
            "registry_arn": {"actions": ["update"], "after": None, "after_unknown": True},
            "subnets": {"actions": ["update"], "after": ["subnet-1", None], "after_unknown": [False, True]},
            "name": {"actions": ["no-op"], "after": "circle-of-trust-jobs", "after_unknown": False},
        },
        "planned_values": {"outputs": {"name": {"sensitive": True, "value": "circle-of-trust-jobs"}}},
    }
    unknowns = Unknowns()
    outputs = _outputs("production-data", config, plan, {"aws_service_discovery_service.api_discovery_service": "replaced"}, unknowns)
    assert outputs["name"] == {"value": "circle-of-trust-jobs", "type": "string"}
    arn = outputs["registry_arn"]["value"]
    assert arn.startswith("arn:aws:iam::000000000000:role/adopt-proof-unknown-")
    assert [str(s) for s in unknowns.sources_in({"service_registries": [{"registry_arn": arn}]})] == [
        "production-data aws_service_discovery_service.api_discovery_service (replaced)"
    ]
    first, second = outputs["subnets"]["value"]
    assert first == "subnet-1" and second.startswith("adopt-proof-unknown-")
    assert unknowns.sources_in("no marker here") == []


@pytest.mark.parametrize(
    ("after", "unknown", "expected"),
    [
        (None, True, "M"),
        ({"a": 1}, {"b": True}, {"a": 1, "b": "M"}),
        ([{"x": None}], [{"x": True}], [{"x": "M"}]),
        ("known", False, "known"),
    ],
)
def test_unknown_parts_of_a_planned_value_are_filled_with_the_marker(after: Any, unknown: Any, expected: Any) -> None:
    assert _with_unknowns(after, unknown, "M") == expected


def test_allow_replace_names_one_resource_of_the_design_as_stack_colon_address() -> None:
    from tools.adopt.plan import _allowed_addresses

    design = Design("production", "us-east-1", ["production-services"], {"production-services": {"resource": {"aws_ecs_service": {"api_service": {}}}}}, Path("/x"))
    assert _allowed_addresses(["production-services:aws_ecs_service.api_service"], design) == ({"production-services:aws_ecs_service.api_service"}, [])
    _, problems = _allowed_addresses(["aws_ecs_service.api_service", "production-data:aws_ecs_service.api_service"], design)
    assert problems == [
        "--allow-replace 'aws_ecs_service.api_service': expected STACK:ADDRESS, such as production-services:aws_ecs_task_definition.api_service_task_definition",
        "--allow-replace production-data:aws_ecs_service.api_service: the design has no aws_ecs_service.api_service in production-data",
    ]


def test_a_plan_that_did_not_prove_leaves_the_migration_file_as_it_was(tmp_path: Path) -> None:
    from tools.adopt.plan import _restore

    migrations, out = tmp_path / "migrations", tmp_path / "out"
    migrations.mkdir()
    out.mkdir()
    path = migrations / "production.json"
    path.write_text('{"kept": ["half-proved"]}')
    _restore(path, b'{"kept": []}', out)
    assert path.read_bytes() == b'{"kept": []}'
    assert (out / "production.not-proved.json").read_text() == '{"kept": ["half-proved"]}'
    path.write_text("{}")
    _restore(path, None, out)  # there was none: there is none
    assert not path.exists()


def test_a_plan_error_on_an_adopted_resource_names_the_attribute_to_keep() -> None:
    from tools.adopt.proof import plan_conflicts

    error = (
        "terraform plan -input=false exited 1:\n\nError: Invalid Attribute Combination\n\n"
        'Attribute "health_check[0].matcher" cannot be specified when "health_check[0].protocol" is "TCP".\n\n'
        "Path: health_check[0].matcher\n\n  with aws_lb_target_group.websocket_api_target_group,\n"
        "  on cdk.tf.json line 905, in resource.aws_lb_target_group.websocket_api_target_group:\n 905:       }\n"
    )
    group = adopted("aws_lb_target_group", "websocket_api_target_group", {"health_check": [{"protocol": "HTTP", "matcher": "200-399"}]})
    assert plan_conflicts(error, {"aws_lb_target_group.websocket_api_target_group": group}) == [("aws_lb_target_group.websocket_api_target_group", "health_check")]
    assert plan_conflicts(error, {}) == []  # not adopted: the error stands
    assert plan_conflicts(error.replace("with aws_lb_target_group", "with aws_lb"), {"aws_lb_target_group.websocket_api_target_group": group}) == []
