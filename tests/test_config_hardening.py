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


# -- 3. nesting deep enough to exhaust the recursion limit -----------------------------

def test_deep_nesting_in_tfvars_is_a_config_error_with_its_position(tmp_path):
    path = tmp_path / "deep.tfvars"
    path.write_text('environment = "qa"\nworker_scaling_steps = ' + "[" * 10_000 + "]" * 10_000 + "\n")
    (problem,) = problems_of(path)
    assert problem == f"{path}: line 2, column 56: lists and maps nest deeper than 32 levels"


def test_deep_nesting_in_json_is_a_config_error_with_its_position(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('{"environment": "qa",\n "worker_scaling_steps": ' + "[" * 10_000 + "]" * 10_000 + "}")
    (problem,) = problems_of(path)
    assert problem == f"{path}: line 2, column 58: lists and objects nest deeper than 32 levels"


def test_nesting_up_to_the_limit_is_read_and_then_type_checked(tmp_path):
    deep = [[[[1]]]]
    for name in ("ok.tfvars", "ok.json"):
        (problem,) = problems_for(tmp_path, {"environment": "qa", "worker_scaling_steps": deep}, name)
        assert "worker_scaling_steps: must be a list of [visible_messages, tasks] pairs" in problem


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("big.tfvars", "api_task_cpu = " + "9" * 5000 + "\n", "line 1, column 16: number literal longer than 100 characters"),
        ("big.json", '{"api_task_cpu": ' + "9" * 5000 + "}", "line 1, column 18: number literal longer than 100 characters"),
        ("escape.tfvars", 'environment = "\\U00110000"\n', "line 1, column 16: unicode escape \\U00110000 is not a character"),
    ],
    ids=["tfvars-number", "json-number", "tfvars-escape"],
)
def test_literals_python_cannot_convert_are_config_errors(tmp_path, name, text, expected):
    path = tmp_path / name
    path.write_text(text)
    assert problems_of(path) == [f"{path}: {expected}"]


# -- 5. a key set twice -------------------------------------------------------------------

def test_a_json_key_set_twice_is_rejected_with_its_line(tmp_path):
    path = tmp_path / "twice.json"
    path.write_text('{\n  "environment": "qa",\n  "api_task_cpu": 256,\n  "environment": "prod",\n  "tags": {"a": 1, "a": 2}\n}\n')
    assert problems_of(path) == [
        f"{path}: line 4, column 3: key 'environment' is set more than once in one object",
        f"{path}: line 5, column 20: key 'a' is set more than once in one object",
    ]


def test_the_same_key_in_different_json_objects_is_fine(tmp_path):
    path = tmp_path / "nested.json"
    path.write_text('{"environment": "qa", "x": {"environment": 1}}')
    problems = problems_of(path)
    assert problems[0] == f"{path}: x: unknown key"


def test_a_tfvars_key_set_twice_is_rejected_with_its_line(tmp_path):
    path = tmp_path / "twice.tfvars"
    path.write_text('environment = "qa"\napi_task_cpu = 256\nenvironment = "prod"\n')
    assert problems_of(path) == [f"{path}: line 3, column 1: 'environment' is set more than once"]


# -- 6. a UTF-8 byte order mark -----------------------------------------------------------

@pytest.mark.parametrize(("name", "text"), [("bom.tfvars", 'environment = "qa"\n'), ("bom.json", '{"environment": "qa"}')])
def test_a_leading_byte_order_mark_is_accepted(tmp_path, name, text):
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert load_config(path).environment == "qa"


# -- 7. bytes that are not UTF-8 ----------------------------------------------------------

@pytest.mark.parametrize("name", ["latin1.tfvars", "latin1.json"])
def test_a_byte_that_is_not_utf8_is_reported_by_line_and_column(tmp_path, name):
    path = tmp_path / name
    body = '"environment": "qa",\n"alarm_email": "caf\xe9@example.com"' if name.endswith(".json") else 'environment = "qa"\nalarm_email = "caf\xe9@example.com"'
    if name.endswith(".json"):
        body = "{" + body + "}"
    path.write_bytes(body.encode("latin-1"))
    (problem,) = problems_of(path)
    column = 20 if name.endswith(".json") else 19
    assert problem == f"{path}: line 2, column {column}: not valid UTF-8 (byte 0xe9); save the file as UTF-8"


def test_the_column_of_a_bad_byte_counts_characters_not_bytes(tmp_path):
    path = tmp_path / "mixed.tfvars"
    path.write_bytes('domain_name = "é'.encode() + b"\xff" + b'"\n')
    (problem,) = problems_of(path)
    assert problem == f"{path}: line 1, column 17: not valid UTF-8 (byte 0xff); save the file as UTF-8"


# -- 8. every problem in one run ------------------------------------------------------------

def test_type_errors_unknown_keys_and_value_rules_are_reported_together(tmp_path):
    path = write(
        tmp_path,
        {
            "environment": "qa",
            "api_task_cpu": "512",  # wrong type
            "api_task_memry": 1024,  # unknown
            "az_count": 9,  # a rule of another key
            "api_min_capacity": 20,  # a rule comparing with api_max_capacity (fine by itself)
            "alarm_email": "nobody",
        },
    )
    problems = problems_of(path)
    assert [problem.split(": ")[1] for problem in problems] == [
        "api_task_cpu",
        "api_task_memry",
        "allowed keys",
        "az_count",
        "api_min_capacity",
        "alarm_email",
    ]


def test_rules_that_depend_on_a_key_of_the_wrong_type_stay_quiet(tmp_path):
    # api_task_memory = 512 is wrong with the default cpu 512, but the cpu
    # given was unusable, so that rule cannot be judged; api_max_capacity
    # is of the wrong type, so api_min_capacity cannot be compared with it.
    problems = problems_for(
        tmp_path, {"environment": "qa", "api_task_cpu": "256", "api_task_memory": 512, "api_min_capacity": 12, "api_max_capacity": "20"}
    )
    assert [problem.split(": ")[1] for problem in problems] == ["api_task_cpu", "api_max_capacity"]


def test_a_missing_environment_does_not_hide_the_other_keys_problems(tmp_path):
    problems = problems_for(tmp_path, {"az_count": 1, "api_task_cpu": 300})
    assert [problem.split(": ")[1] for problem in problems] == ["environment", "az_count", "api_task_cpu"]


# -- 9. bounded output -------------------------------------------------------------------

def test_a_hundred_thousand_unknown_keys_give_a_bounded_message(tmp_path):
    path = tmp_path / "many.json"
    path.write_text(json.dumps({"environment": "qa", **{f"unknown_key_{index}": index for index in range(100_000)}}))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    error = caught.value
    assert len(error.problems) == 100_001  # every one is counted ...
    message = str(error)
    assert len(message) < 20_000  # ... but only some are shown
    assert message.count("allowed keys:") == 1
    assert message.endswith("  ... and 99951 more")
    assert len(message.splitlines()) == 1 + 50 + 1


def test_long_values_and_odd_keys_are_shortened_in_messages(tmp_path):
    path = tmp_path / "long.json"
    path.write_text(json.dumps({"environment": "qa", "domain_name": "x" * 1_000_000, "bad\nkey" * 1000: 1}))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert len(str(caught.value)) < 5_000
    assert all("\n" not in problem for problem in caught.value.problems)


# -- 2. names derived from the resource prefix fit their service's limits -------------------

def test_an_environment_that_makes_the_nlb_name_too_long_is_a_config_error(tmp_path):
    # 15 characters: a valid environment name, but circle-of-trust-<it>-ws is 34 characters.
    problems = problems_for(tmp_path, {"environment": "abcdefghijklmno"})
    assert problems == [
        f"{tmp_path / 'test.tfvars'}: project_name, environment: make the WebSocket NLB{kind} name 'circle-of-trust-abcdefghijklmno-ws' "
        "34 characters long, but Elastic Load Balancing allows 1-32: shorten project_name or environment, or set a shorter name_prefix; "
        "got project_name = 'circle-of-trust', environment = 'abcdefghijklmno'"
        for kind in ("", " target group")
    ]


def test_the_longest_prefix_that_fits_loads(tmp_path):
    config = load_config(write(tmp_path, {"environment": "abcdefghijklm"}))  # the NLB name is 32 characters
    assert len(f"{config.resource_prefix}-ws") == 32


def test_derived_names_name_the_keys_the_prefix_comes_from(tmp_path):
    production = problems_for(tmp_path, {"environment": "production", "project_name": "a" * 20, "name_prefix": "b" * 28, "api_task_cpu": 300})
    assert [problem.split(": ")[1] for problem in production] == ["api_task_cpu"]  # name_prefix fits
    from_project = problems_for(tmp_path, {"environment": "production", "project_name": "p" * 20, "enable_ecr_push_updater": True, "api_task_cpu": 300})
    assert [problem.split(": ")[1] for problem in from_project] == ["api_task_cpu"]  # production uses project_name alone: 23 characters
    longest = problems_for(tmp_path, {"environment": "e" * 16, "project_name": "p" * 20, "enable_backup": True, "enable_ecr_push_updater": True})
    whats = [problem.split(": make the ")[1].split(" '")[0] for problem in longest]
    assert whats == ["WebSocket NLB name", "WebSocket NLB target group name", "backup selection name"]
    without_backup = problems_for(tmp_path, {"environment": "e" * 16, "project_name": "p" * 20})
    assert len(without_backup) == 2


def test_every_prefixed_name_of_the_stack_is_in_the_table():
    """A name the stack adds must be added to DERIVED_NAMES with its limit."""
    import re

    from stacks.config import DERIVED_NAMES

    stacks = Path(__file__).resolve().parents[1] / "stacks"
    source = "\n".join(path.read_text() for path in sorted(stacks.glob("*.py")))
    source = re.sub(r"\{(?:self\.)?config\.resource_prefix\}", "{prefix}", source)
    literals = set(re.findall(r'f"([^"{ ]*\{prefix\}[^"{ ]*)"', source))
    assert len(literals) > 15, sorted(literals)
    templates = {name.template for name in DERIVED_NAMES}
    assert literals - {"{prefix}.local"} <= templates, sorted(literals - templates)


# -- 4. one file given twice, two files of one environment ----------------------------------

def test_the_same_file_given_twice_is_a_config_error(tmp_path, monkeypatch):
    path = write(tmp_path, {"environment": "qa"}, "qa.tfvars")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_configs([path, Path("qa.tfvars"), Path("./qa.tfvars")])
    assert caught.value.problems == (
        f"qa.tfvars: given more than once (first as {path}); each file is one environment, so give it once",
        f"qa.tfvars: given more than once (first as {path}); each file is one environment, so give it once",
    )


def test_a_missing_file_given_twice_is_reported_once_as_missing_and_once_as_repeated(tmp_path):
    missing = tmp_path / "missing.tfvars"
    with pytest.raises(ConfigError) as caught:
        load_configs([missing, missing])
    assert caught.value.problems == (
        f"{missing}: file not found",
        f"{missing}: given more than once (first as {missing}); each file is one environment, so give it once",
    )


def test_two_files_of_one_environment_are_a_config_error(tmp_path):
    first = write(tmp_path, {"environment": "qa"}, "a.tfvars")
    second = write(tmp_path, {"environment": "qa", "s3_frontend_bucket": "other-bucket", "name_prefix": "cot-other"}, "b.json")
    with pytest.raises(ConfigError) as caught:
        load_configs([first, second])
    assert caught.value.problems[0] == f"{second}: environment: must differ from {first} (each environment is its own stack); got the same value"


# -- the canary's names (issue 20) do not narrow what is valid ----------------------------------------

@pytest.mark.parametrize(
    "values",
    [
        {"environment": "abcdefghijklm"},  # circle-of-trust-abcdefghijklm: the NLB name is 32 characters
        {"environment": "e" * 8, "project_name": "p" * 20},  # the longest project_name: 29 characters too
        {"environment": "qa", "name_prefix": "n" * 28},  # the longest name_prefix
    ],
)
def test_the_longest_prefix_that_fits_loads_with_canary_releases_too(tmp_path, values):
    rolling = load_config(write(tmp_path, values, "rolling.tfvars"))
    assert len(f"{rolling.resource_prefix}-ws") >= 31
    canary = load_config(write(tmp_path, {**values, "api_release_strategy": "canary", "api_canary_percent": 99, "api_canary_bake_minutes": 60}, "canary.tfvars"))
    prefix = canary.resource_prefix
    # ELB allows 1-32 characters: the ALB, its two groups and the NLB's alb-type group fit where the NLB's name fits.
    assert max(len(f"{prefix}-{suffix}") for suffix in ("lb", "a", "b", "wa")) == len(f"{prefix}-ws") <= 32
    # CodeDeploy allows 100 for the configuration's name, IAM 64 for the role's.
    assert len(f"{prefix}-api-canary-99pct-60min") <= 100 and len(f"{prefix}-api-codedeploy") <= 64


def test_a_prefix_too_long_for_the_nlb_is_too_long_for_the_alb_and_nothing_else_is_new(tmp_path):
    rolling = problems_for(tmp_path, {"environment": "abcdefghijklmno"}, "rolling.tfvars")
    canary = problems_for(tmp_path, {"environment": "abcdefghijklmno", "api_release_strategy": "canary"}, "canary.tfvars")
    whats = [problem.split(": make the ")[1].split(" '")[0] for problem in canary]
    assert [problem.split(": make the ")[1] for problem in rolling] == [problem.split(": make the ")[1] for problem in canary[: len(rolling)]]
    # The new names are ELB's, with its 1-32 limit, and name the keys the prefix comes from.
    assert sorted(set(whats) - {"WebSocket NLB name", "WebSocket NLB target group name"}) == [
        "WebSocket NLB target group name (type alb)",
        "release ALB name",
        "release target group name",
    ]
    for problem in canary:
        assert "Elastic Load Balancing allows 1-32" in problem and ": project_name, environment: " in problem, problem
