"""migrations/<environment>.json's release entry: an adopted environment keeps rolling releases until its cutover.

The legacy HCL project's API service runs under ECS's own deployment
controller, which ECS can't change in place, so `tools.adopt plan` keeps
`rolling` in the migration file while the config (production ships the
canary) says otherwise; the README's cutover edits the entry to `cutover`,
then removes it. Synthesized with the shipped production config, in the
Testing app (no terraform).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from stacks import migrations
from stacks.config import load_config
from tests.support import synth_layers
from tools.adopt.matching import Matching
from tools.adopt.report import Outcome, migration_document

PROJECT = Path(__file__).resolve().parents[1]
PRODUCTION = PROJECT / "config" / "production.tfvars"


def write(folder: Path, document: dict) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / "production.json"
    path.write_text(json.dumps(document))
    return path


def api_services(folder: Path) -> list[str]:
    """The API services (ECS names) the shipped production config gets with this migration folder."""
    config = load_config(PRODUCTION)
    with migrations.reading_from(folder):
        layers = synth_layers([config])["production"]
    services = layers["production-services"]["resource"]["aws_ecs_service"].values()
    return sorted(service["name"] for service in services if service["name"] != "worker-service")


def test_the_release_entry_decides_the_api_services_and_without_it_the_config_does(tmp_path):
    folder = tmp_path / "migrations"
    assert load_config(PRODUCTION).api_release_strategy == "canary"
    write(folder, {"kept": [], "release": {"api_release_strategy": "rolling"}})
    assert api_services(folder) == ["api-service"]
    write(folder, {"kept": [], "release": {"api_release_strategy": "cutover"}})
    assert api_services(folder) == ["api-blue-green", "api-service"]
    write(folder, {"kept": []})
    assert api_services(folder) == ["api-blue-green"]


def test_tools_adopt_reads_the_design_with_the_legacy_controller_whatever_the_file_says(tmp_path):
    folder = tmp_path / "migrations"
    write(folder, {"release": {"api_release_strategy": "canary"}})
    with migrations.reading_from(folder, release_strategy="rolling"):
        assert migrations.kept_release_strategy("production") == "rolling"
    with migrations.reading_from(folder):
        assert migrations.kept_release_strategy("production") == "canary"
    with migrations.reading_from(None):
        assert migrations.kept_release_strategy("production") is None


@pytest.mark.parametrize("value", ["blue-green", None, 3])
def test_a_bad_release_entry_is_one_error_naming_the_file_the_key_and_what_is_allowed(tmp_path, value):
    path = write(tmp_path / "migrations", {"release": {"api_release_strategy": value}})
    with migrations.reading_from(path.parent), pytest.raises(migrations.MigrationError) as error:
        migrations.kept_release_strategy("production")
    message = str(error.value)
    assert str(path) in message and "release.api_release_strategy" in message and "canary, cutover, rolling" in message


def test_a_kept_value_on_the_rolling_service_after_the_move_says_to_drop_the_entry(tmp_path):
    """After the cutover, the rolling service is gone: its kept values (the flat legacy project keeps one) are stale."""
    folder = tmp_path / "migrations"
    kept = {"stack": "production-services", "address": "aws_ecs_service.api_service", "attribute": "capacity_provider_strategy", "value": []}
    write(folder, {"kept": [kept], "release": {"api_release_strategy": "cutover"}})
    assert api_services(folder) == ["api-blue-green", "api-service"]  # during the cutover the entry still applies
    write(folder, {"kept": [kept]})
    with pytest.raises(migrations.MigrationError, match=r"aws_ecs_service\.api_service, which the design does not have .*rolling API service.*remove the entry"):
        api_services(folder)


@pytest.mark.parametrize(("strategy", "kept"), [("canary", "rolling"), ("cutover", "rolling"), ("rolling", None)])
def test_adopt_keeps_rolling_in_the_migration_file_while_the_config_names_another_strategy(strategy, kept):
    config = dataclasses.replace(load_config(PRODUCTION), api_release_strategy=strategy)
    document = migration_document(config, {"lineage": "l", "serial": 1}, Matching(), Outcome())
    if kept is None:
        assert "release" not in document
        return
    release = document["release"]
    assert (release["api_release_strategy"], release["config"]) == (kept, strategy)
    assert "Moving to canary releases" in release["to_drop"] and "cutover" in release["to_drop"]

