"""Synth-time warnings of the layers (issue 12, items 3 and 4): both sides of each.

- edge: the API tasks are handed pingid_metadata_url to fetch at runtime
  but have no path to the internet (no NAT gateway, VPC endpoints only);
- operations: a production-like environment whose paging alarms go to a
  topic this stack subscribes nobody to (no alarm_email).

main.py prints the warnings of the synthesized manifest (``@cdktf/warn``
annotations, per stack); these tests read the same manifest.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import cdktf
import pytest

from stacks.config import EnvironmentConfig, load_configs

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def configs() -> dict[str, EnvironmentConfig]:
    production, staging = load_configs([PROJECT / "config" / "production.tfvars", PROJECT / "config" / "staging.tfvars"])
    assert production.pingid_metadata_url and not production.enable_cognito_sso and not production.enable_nat_gateway
    assert not production.alarm_email and not staging.alarm_email

    def variant(environment: str, **changes) -> EnvironmentConfig:
        return dataclasses.replace(production, environment=environment, **changes)

    return {
        config.environment: config
        for config in (
            production,
            staging,
            variant("prod-sso", enable_cognito_sso=True),
            variant("prod-nat", enable_nat_gateway=True),
            variant("prod-local", pingid_metadata_url=""),
            variant("prod-paged", alarm_email="oncall@example.com"),
        )
    }


@pytest.fixture(scope="module")
def warnings(configs) -> dict[str, list[str]]:
    """Stack name -> its warnings, from the manifest of one app holding every environment."""
    from stacks.environment import build_environment

    app = cdktf.Testing.app()
    for config in configs.values():
        build_environment(app, config)
    app.synth()
    stacks = json.loads((Path(app.outdir) / "manifest.json").read_text())["stacks"]
    return {
        name: [annotation["message"] for annotation in stack["annotations"] if annotation["level"] == "@cdktf/warn"]
        for name, stack in stacks.items()
    }


def pingid_warnings(warnings: dict[str, list[str]], environment: str) -> list[str]:
    return [message for message in warnings[f"{environment}-edge"] if message.startswith("pingid_metadata_url")]


def alarm_warnings(warnings: dict[str, list[str]], environment: str) -> list[str]:
    return [message for message in warnings[f"{environment}-operations"] if message.startswith("alarm_email")]


# -- edge: PingID's metadata out of reach -------------------------------------------------------
def test_production_is_warned_that_its_api_tasks_cannot_fetch_the_pingid_metadata(warnings):
    assert pingid_warnings(warnings, "production") == [
        "pingid_metadata_url 'https://sso.pingone.com/your-org-id/saml/metadata' is given to the API tasks to fetch at runtime "
        "(enable_cognito_sso is false), but they cannot reach it: enable_nat_gateway is false, so the tasks have no path to the "
        "internet, only VPC endpoints to AWS. Set enable_cognito_sso = true (Cognito federates with PingID and fetches the "
        "metadata itself), or enable_nat_gateway = true"
    ]


@pytest.mark.parametrize(
    "environment",
    [
        "prod-sso",  # Cognito fetches the metadata; the tasks never get the URL
        "prod-nat",  # the tasks reach the internet through the NAT gateway
        "prod-local",  # no URL to fetch
        "staging",  # NAT gateway, and no URL
    ],
)
def test_no_pingid_warning_where_the_metadata_is_reachable_or_not_fetched_by_the_tasks(warnings, environment):
    assert pingid_warnings(warnings, environment) == []


def test_the_warning_goes_with_the_url_the_api_tasks_get(configs, warnings):
    # Warned exactly where the tasks get the URL (no pool) and have no NAT gateway.
    for environment, config in configs.items():
        handed_over = bool(config.pingid_metadata_url) and not config.enable_cognito_sso
        assert bool(pingid_warnings(warnings, environment)) is (handed_over and not config.enable_nat_gateway), environment


# -- operations: pages nobody receives -----------------------------------------------------------
def test_a_production_like_environment_without_alarm_email_is_warned_of_silent_pages(warnings):
    assert alarm_warnings(warnings, "production") == [
        "alarm_email is empty, so the 10 paging alarms of 'production' publish to the SNS topic circle-of-trust-alarms, to which "
        "this stack subscribes nobody: unless chat or paging is subscribed to it out of band (output alarm_topic_arn), nobody "
        "is paged. Set alarm_email to the on-call address"
    ]


@pytest.mark.parametrize(
    "environment",
    [
        "prod-paged",  # production-like, with a subscriber
        "staging",  # not production-like: its alarms may go unheard
    ],
)
def test_no_alarm_warning_with_an_alarm_email_or_outside_production(warnings, environment):
    assert alarm_warnings(warnings, environment) == []


def test_no_other_layer_warns_of_these(warnings):
    for stack, messages in warnings.items():
        if not stack.endswith(("-edge", "-operations")):
            assert not [m for m in messages if m.startswith(("pingid_metadata_url", "alarm_email"))], stack
