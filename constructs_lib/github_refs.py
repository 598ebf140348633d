"""GitHub names the deploy role's trust policy is built from, and their rules.

Plain data, no jsii: ``stacks/config/`` validates the config with these
rules and ``constructs_lib/github_oidc.py`` validates its props with them.

The GitHub OIDC token's ``sub`` claim (GitHub's default format, which this
project assumes) is one of::

    repo:<owner>/<name>:ref:refs/heads/<branch>     a job without an environment
    repo:<owner>/<name>:environment:<environment>   a job with ``environment:``

A job that names an environment always gets the second form, whatever its
branch; GitHub's deployment branch rules of the environment then say which
branches may use it. The trust policy compares the whole claim with
StringEquals, so the values are case-sensitive and must be spelled exactly
as GitHub reports them.
"""

from __future__ import annotations

import re

OIDC_HOST = "token.actions.githubusercontent.com"
OIDC_URL = f"https://{OIDC_HOST}"
# The audience aws-actions/configure-aws-credentials requests.
OIDC_AUDIENCE = "sts.amazonaws.com"
# GitHub's intermediate CA, as in the seed; AWS no longer checks it for this
# issuer, but the API still requires a thumbprint (see tools/bootstrap.py).
OIDC_THUMBPRINT = "6938fd4d98bab03faadb97b34396831e3780aea1"

# owner: 1-39 letters, digits and single '-' not at either end; name: 1-100
# letters, digits, '.', '_' and '-', not "." or "..".
_OWNER = r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}"
_NAME = r"[A-Za-z0-9._-]{1,100}"
REPOSITORY_PATTERN = re.compile(rf"{_OWNER}/{_NAME}")  # use with fullmatch: `$` would let a trailing "\n" through
REPOSITORY_RULE = "owner/name: an owner of 1-39 letters, digits and single '-', a name of 1-100 letters, digits, '.', '_' and '-'"

MAX_BRANCH_LENGTH = 255
BRANCH_RULE = (
    f"a git branch name of 1-{MAX_BRANCH_LENGTH} characters: no spaces, control characters or any of ~ ^ : ? * [ \\, "
    "no '..', '@{' or '//', not starting with '-' or '/', not ending with '/', '.' or '.lock', no part starting with '.'"
)
ENVIRONMENT_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,255}")  # use with fullmatch
ENVIRONMENT_RULE = "a GitHub environment name of 1-255 letters, digits, '.', '_' and '-' (no ':', which separates the fields of the sub claim)"


def repository_problems(repository: str) -> list[str]:
    """Why ``repository`` is not ``owner/name``; empty when it is."""
    if REPOSITORY_PATTERN.fullmatch(repository) and repository.split("/")[1] not in (".", ".."):
        return []
    return [f"must be {REPOSITORY_RULE}"]


def branch_problems(branch: str) -> list[str]:
    """Every way ``branch`` breaks git's ref-name rules (git check-ref-format), or none."""
    problems = []
    if not 1 <= len(branch) <= MAX_BRANCH_LENGTH:
        problems.append(f"must be 1-{MAX_BRANCH_LENGTH} characters long")
    bad = sorted({char for char in branch if ord(char) < 0x20 or ord(char) == 0x7F or char in " ~^:?*[\\"})
    if bad:
        problems.append("must not contain " + ", ".join(repr(char) for char in bad))
    for sequence in ("..", "@{", "//"):
        if sequence in branch:
            problems.append(f"must not contain {sequence!r}")
    if branch.startswith(("-", "/")):
        problems.append("must not start with '-' or '/'")
    if branch.endswith(("/", ".", ".lock")):
        problems.append("must not end with '/', '.' or '.lock'")
    if any(part.startswith(".") or part.endswith(".lock") for part in branch.split("/")):
        problems.append("must not have a '/'-separated part starting with '.' or ending with '.lock'")
    if branch == "@":
        problems.append("must not be '@'")
    return problems


def environment_problems(environment: str) -> list[str]:
    """Why ``environment`` is not a usable GitHub environment name; empty when it is."""
    return [] if ENVIRONMENT_PATTERN.fullmatch(environment) else [f"must be {ENVIRONMENT_RULE}"]


def oidc_subject(repository: str, *, branch: str = "main", environment: str = "") -> str:
    """The ``sub`` claim of a job in ``repository`` on ``branch``, or in ``environment`` when set."""
    if environment:
        return f"repo:{repository}:environment:{environment}"
    return f"repo:{repository}:ref:refs/heads/{branch}"
