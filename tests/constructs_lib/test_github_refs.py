"""constructs_lib/github_refs.py: the OIDC subject forms and the name rules."""

from __future__ import annotations

import pytest

from constructs_lib import github_refs
from tools import bootstrap


def test_subject_is_the_branch_form_without_an_environment():
    assert github_refs.oidc_subject("my-org/app", branch="main") == "repo:my-org/app:ref:refs/heads/main"
    assert github_refs.oidc_subject("my-org/app", branch="release/1.x") == "repo:my-org/app:ref:refs/heads/release/1.x"


def test_subject_is_the_environment_form_with_one_whatever_the_branch():
    assert github_refs.oidc_subject("my-org/app", branch="develop", environment="production") == "repo:my-org/app:environment:production"


def test_provider_values_are_the_bootstraps():
    assert github_refs.OIDC_HOST == bootstrap.GITHUB_OIDC_HOST
    assert github_refs.OIDC_AUDIENCE == bootstrap.GITHUB_OIDC_CLIENT_ID
    assert github_refs.OIDC_THUMBPRINT == bootstrap.GITHUB_OIDC_THUMBPRINT
    assert github_refs.OIDC_URL == "https://token.actions.githubusercontent.com"


@pytest.mark.parametrize("name", ["main", "release/2024.1", "feature_x-1", "a/b/c", "UPPER", "v1.0"])
def test_valid_branches(name):
    assert github_refs.branch_problems(name) == []


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "must be 1-255 characters long"),
        ("x" * 256, "must be 1-255 characters long"),
        ("a b", "must not contain ' '"),
        ("a\tb", "must not contain '\\t'"),
        ("a~b", "must not contain '~'"),
        ("a^b", "must not contain '^'"),
        ("a:b", "must not contain ':'"),
        ("a?b", "must not contain '?'"),
        ("a[b", "must not contain '['"),
        ("a\\b", "must not contain '\\\\'"),
        ("a..b", "must not contain '..'"),
        ("a@{b", "must not contain '@{'"),
        ("a//b", "must not contain '//'"),
        ("/a", "must not start with '-' or '/'"),
        ("a/", "must not end with '/', '.' or '.lock'"),
        ("a.", "must not end with '/', '.' or '.lock'"),
        ("a.lock/b", "must not have a '/'-separated part starting with '.' or ending with '.lock'"),
        (".a", "must not have a '/'-separated part starting with '.' or ending with '.lock'"),
        ("@", "must not be '@'"),
    ],
)
def test_invalid_branches(name, problem):
    assert problem in github_refs.branch_problems(name)


@pytest.mark.parametrize(("name", "ok"), [("production", True), ("Prod-EU_1.x", True), ("", False), ("a b", False), ("a:b", False), ("x" * 256, False)])
def test_environment_names(name, ok):
    assert (github_refs.environment_problems(name) == []) is ok


@pytest.mark.parametrize(
    ("repository", "ok"),
    [("my-org/app", True), ("o/r.js", True), ("a" * 39 + "/r", True), ("a" * 40 + "/r", False), ("-org/app", False), ("org/..", False), ("org", False), ("o/r/x", False)],
)
def test_repository_names(repository, ok):
    assert (github_refs.repository_problems(repository) == []) is ok


# A pattern ending in `$` used with re.match accepts one trailing newline; the rules are whole-string.
def test_a_trailing_newline_is_not_part_of_a_repository_or_environment_name():
    assert github_refs.repository_problems("my-org/app\n") == [f"must be {github_refs.REPOSITORY_RULE}"]
    assert github_refs.environment_problems("staging\n") == [f"must be {github_refs.ENVIRONMENT_RULE}"]
