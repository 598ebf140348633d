"""The bad-input contract of config loading (issue 12, item 3).

For any bad config file: one ConfigError listing every problem, each with
the file, the key (or line and column), what is allowed and what was given;
never another exception; a message of bounded size.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stacks.config import ConfigError, load_config, load_configs
from stacks.tfvars import dump_tfvars_value


def write(tmp_path: Path, values: dict, name: str = "test.tfvars") -> Path:
    path = tmp_path / name
    if name.endswith(".json"):
        path.write_text(json.dumps(values))
    else:
        path.write_text("".join(f"{key} = {dump_tfvars_value(value)}\n" for key, value in values.items()))
    return path


def problems_for(tmp_path: Path, values: dict, name: str = "test.tfvars") -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, values, name))
    return list(caught.value.problems)


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return list(caught.value.problems)


# -- 1. a trailing newline is not a valid end of a checked string ---------------------

@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"environment": "test\n"}, "environment"),
        ({"project_name": "circle\n"}, "project_name"),
        ({"name_prefix": "cot-qa\n"}, "name_prefix"),
        ({"api_image_tag": "v1\n"}, "api_image_tag"),
        ({"worker_image_tag": "latest\n"}, "worker_image_tag"),
        ({"domain_name": "app.example.com\n"}, "domain_name"),
        ({"github_repository": "my-org/app\n"}, "github_repository"),
        ({"github_repository": "my-org/app", "github_environment": "staging\n"}, "github_environment"),
        ({"state_lock_table": "locks\n"}, "state_lock_table"),
        ({"domain_name": "app.example.com", "hosted_zone_id": "Z0123456789\n"}, "hosted_zone_id"),
        ({"cognito_domain_prefix": "cot-sign-in\n"}, "cognito_domain_prefix"),
        ({"alarm_email": "ops@example.com\n"}, "alarm_email"),
    ],
)
def test_a_value_with_a_trailing_newline_is_rejected(tmp_path, values, key):
    problems = problems_for(tmp_path, {"environment": "test", **values})
    assert any(problem.startswith(f"{tmp_path / 'test.tfvars'}: {key}: ") and problem.endswith("\\n'") for problem in problems), problems


def test_a_heredoc_value_ends_in_a_newline_and_is_rejected(tmp_path):
    path = tmp_path / "heredoc.tfvars"
    path.write_text("environment = <<EOT\nqa\nEOT\n")
    (problem,) = problems_of(path)
    assert problem == f"{path}: environment: must be 2-16 lower-case letters, digits and single '-', starting with a letter; got 'qa\\n'"
