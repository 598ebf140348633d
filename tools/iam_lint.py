"""Lint every IAM policy document of an applied environment with an IAM linter (parliament).

    python -m tools.iam_lint --environment production                 # the layers' states, from their S3 backends
    python -m tools.iam_lint --environment staging --endpoint http://127.0.0.1:5000   # on the emulator
    python -m tools.iam_lint --state production-services.tfstate ...  # states pulled with `terraform state pull`

What is linted is what Terraform applied: the rendered JSON in the layers'
states (role trust and inline policies, key, bucket, queue, topic, secret,
repository and endpoint policies), with real ARNs, not the synthesized
templates. Every policy attribute of every managed resource is read; one
whose kind (``DOCUMENT_KINDS``) is unknown fails the lint, so a new resource
type is never skipped silently.

parliament checks each document against its copy of the Service
Authorization Reference: actions and condition keys that exist, resources
of the type each action takes (an ARN an action can't take matches none of
its requests), "*" where an action takes a resource, condition operators of
the key's type, and the community auditors' risky actions. Its findings are:

- inherent to the kind of document (``INHERENT``), and not reported: a trust
  policy names no resource; in a key policy "*" is the key itself; an
  endpoint policy filters requests and grants nothing (its actions are
  still checked: ``"*"`` there reads as every service's, iam:* included);
- accepted (``ACCEPTED``): the reviewed table below, each row with its reason;
- anything else, which fails the lint.

Exit status: 0 clean, 1 unexplained findings, 2 usage or state error.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from tools.live_audit import AuditError, backend_of, read_state, stack_documents

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
IDENTITY, TRUST, KEY, RESOURCE, ENDPOINT = "identity", "trust", "key", "resource", "endpoint"
# The attributes that hold a policy document, by resource type: which kind it is.
# (type, attribute) -> kind; type "*" for an attribute that means the same everywhere.
DOCUMENT_KINDS: Mapping[tuple[str, str], str] = {
    ("*", "assume_role_policy"): TRUST,
    ("aws_iam_role_policy", "policy"): IDENTITY,
    ("aws_iam_policy", "policy"): IDENTITY,
    ("aws_iam_user_policy", "policy"): IDENTITY,
    ("aws_iam_group_policy", "policy"): IDENTITY,
    ("aws_kms_key", "policy"): KEY,
    ("aws_s3_bucket_policy", "policy"): RESOURCE,
    ("aws_sqs_queue_policy", "policy"): RESOURCE,
    ("aws_sns_topic_policy", "policy"): RESOURCE,
    ("aws_secretsmanager_secret_policy", "policy"): RESOURCE,
    ("aws_ecr_repository_policy", "policy"): RESOURCE,
    ("aws_vpc_endpoint", "policy"): ENDPOINT,
    ("aws_cloudwatch_log_resource_policy", "policy_document"): RESOURCE,
    ("aws_backup_vault_policy", "policy"): RESOURCE,
    # Read back by the provider from the service: the same document as the
    # resource's own *_policy resource above, linted there.
    ("aws_sqs_queue", "policy"): "",
    ("aws_sns_topic", "policy"): "",
    ("aws_s3_bucket", "policy"): "",
    ("aws_secretsmanager_secret", "policy"): "",
}
POLICY_ATTRIBUTE = re.compile(r"(.*_)?polic(y|ies)(_document)?")


@dataclass(frozen=True)
class Rule:
    """Findings of ``issue`` on documents of ``kinds`` whose detail or location matches ``about`` (a regex,
    searched), on documents for which ``holds`` (default: always) is true."""

    issue: str
    kinds: tuple[str, ...]
    about: str
    reason: str
    holds: Callable[[Mapping[str, Any]], bool] | None = None

    def matches(self, finding: "LintFinding") -> bool:
        return (
            finding.issue == self.issue
            and finding.kind in self.kinds
            and re.search(self.about, finding.text, re.IGNORECASE) is not None
            and (self.holds is None or self.holds(finding.policy))
        )


def _statements(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = policy.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def passes_roles_only_to_ecs(policy: Mapping[str, Any]) -> bool:
    """Every statement that allows iam:PassRole names roles (no wildcard) and passes them to ECS tasks only."""
    for statement in _statements(policy):
        if statement.get("Effect") != "Allow" or "iam:passrole" not in {a.lower() for a in _listed(statement.get("Action", []))}:
            continue
        roles = _listed(statement.get("Resource", []))
        passed_to = statement.get("Condition", {}).get("StringEquals", {}).get("iam:PassedToService")
        if not roles or any("*" in role or ":role/" not in role for role in roles) or _listed(passed_to) != ["ecs-tasks.amazonaws.com"]:
            return False
    return True


ENDPOINT_REASON = (
    "an endpoint policy grants nothing: it decides which requests, already allowed by the caller's own policies, "
    "may use the endpoint; this one admits this account's principals to this account's resources, for the "
    "endpoint's own service (constructs_lib.network.endpoint_policy)"
)
INHERENT = (
    Rule("MALFORMED", (TRUST,), r"neither Resource nor NotResource", "a trust policy names no resource: the role is the resource"),
    Rule("RESOURCE_STAR", (KEY,), r".", 'in a key policy "*" is the key the policy is attached to'),
    Rule("RESOURCE_STAR", (ENDPOINT,), r".", ENDPOINT_REASON),
    Rule("PERMISSIONS_MANAGEMENT_ACTIONS", (ENDPOINT,), r".", ENDPOINT_REASON),
    Rule("CREDENTIALS_EXPOSURE", (ENDPOINT,), r".", ENDPOINT_REASON),
)
ACCEPTED = (
    Rule(
        "CREDENTIALS_EXPOSURE",
        (IDENTITY,),
        r'^\{"location": \{"actions": \["ecr:GetAuthorizationToken"\]\}\}$',
        "ECR gives registry credentials only through GetAuthorizationToken, which takes no resource; pulling an image "
        "(the execution role) and pushing one (CI's deploy role) need it. What the token may reach is decided by the "
        "repository statements beside it, each on its own repository's ARN.",
    ),
    Rule(
        "PERMISSIONS_MANAGEMENT_ACTIONS",
        (IDENTITY,),
        r'^\{"location": \{"actions": \["iam:PassRole"\]\}\}$',
        "registering a task-definition revision (the deploy roles, the ECR-push updater) and creating a task set "
        "(CodeDeploy) pass the service's task and execution roles to ECS; the statement names exactly those roles, "
        "with iam:PassedToService = ecs-tasks.amazonaws.com (checked on the document, not only the finding)",
        holds=passes_roles_only_to_ecs,
    ),
    Rule(
        "RESOURCE_MISMATCH",
        (IDENTITY,),
        r'^\{"detail": \[(\{"action": "elasticloadbalancing:ModifyListener", "required_format": "arn:\*:elasticloadbalancing:\*:\*:listener/net/\*/\*/\*"\}(, )?)+\]\}$',
        "a defect of parliament 1.6.4: the Service Authorization Reference gives ModifyListener two resource types, "
        "listener/app and listener/net, of which a request names one; parliament requires an ARN to be both. The "
        "release role's ARN is the release ALB's listener (listener/app), the one CodeDeploy shifts.",
    ),
    Rule(
        "UNKNOWN_FEDERATION_SOURCE",
        (TRUST,),
        r'^\{"detail": "arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/token\.actions\.githubusercontent\.com"\}$',
        "GitHub's OIDC provider in this account, which CI's deploy role trusts for its repository's workflows only "
        "(the sub and aud conditions beside it), as AWS documents for GitHub Actions; parliament knows only the "
        "public web-identity providers (Cognito, Amazon, Google, Facebook).",
    ),
    Rule(
        "PERMISSIONS_MANAGEMENT_ACTIONS",
        (KEY,),
        r".",
        "the key policy's statement for the account (arn:...:root), as in AWS's default key policy: it lets IAM policies "
        "decide who administers the key (none of this project's roles may); without it a key can't be managed or deleted.",
    ),
)


@dataclass(frozen=True)
class Document:
    """One policy document and where it is attached (``stack:type.name.attribute``)."""

    address: str
    kind: str
    policy: Mapping[str, Any]


@dataclass(frozen=True)
class LintFinding:
    address: str
    kind: str
    issue: str
    severity: str
    text: str  # the finding's detail and location, as JSON
    policy: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)  # the document it is about

    def __str__(self) -> str:
        return f"{self.address} ({self.kind} policy): {self.issue} [{self.severity}] {self.text}"


@dataclass
class LintResult:
    documents: int = 0
    inherent: list[tuple[LintFinding, Rule]] = field(default_factory=list)
    accepted: list[tuple[LintFinding, Rule]] = field(default_factory=list)
    unexplained: list[LintFinding] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.unexplained


def kind_of(resource_type: str, attribute: str) -> str | None:
    """The kind of the document at ``resource_type.attribute``; "" for a read-back copy; None when unknown."""
    return DOCUMENT_KINDS.get((resource_type, attribute), DOCUMENT_KINDS.get(("*", attribute)))


def _policy_json(value: Any) -> Mapping[str, Any] | None:
    if not isinstance(value, str) or "Statement" not in value:
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) and "Statement" in parsed else None


def state_documents(stack: str, state: Mapping[str, Any]) -> list[Document]:
    """Every policy document of a layer's managed resources; AuditError on one of unknown kind."""
    found = []
    for resource in state.get("resources", []):
        if resource.get("mode") != "managed":
            continue
        for instance in resource.get("instances", []):
            for attribute, value in sorted((instance.get("attributes") or {}).items()):
                policy = _policy_json(value)
                if policy is None or not POLICY_ATTRIBUTE.fullmatch(attribute):
                    continue
                address = f"{stack}:{resource['type']}.{resource['name']}.{attribute}"
                kind = kind_of(resource["type"], attribute)
                if kind is None:
                    raise AuditError(f"{address}: a policy document of a kind this lint does not know; add ({resource['type']!r}, {attribute!r}) to DOCUMENT_KINDS")
                if kind:
                    found.append(Document(address, kind, policy))
    return found


def _single_values(policy: Mapping[str, Any]) -> dict[str, Any]:
    """The same document with one-element condition value lists as plain values (parliament 1.6.4 fails on
    some operators given a list; IAM reads both the same)."""
    copy = json.loads(json.dumps(policy))
    statements = copy.get("Statement")
    for statement in statements if isinstance(statements, list) else [statements]:
        for operator in (statement or {}).get("Condition", {}).values():
            for key, value in operator.items():
                if isinstance(value, list) and len(value) == 1:
                    operator[key] = value[0]
    return copy


def _parliament() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # parliament imports pkg_resources, which warns that it is deprecated
        import parliament
    if "CREDENTIALS_EXPOSURE" not in parliament.config:  # the community auditors' issues and severities, once
        parliament.override_config(str(Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml"))
    return parliament


def lint_document(document: Document) -> list[LintFinding]:
    """parliament's findings on one document (community auditors included)."""
    parliament = _parliament()
    try:
        analysed = parliament.analyze_policy_string(
            json.dumps(_single_values(document.policy)), ignore_private_auditors=True, include_community_auditors=True
        )
    except Exception as error:  # parliament raises its JSON library's errors on shapes it can't read
        raise AuditError(f"{document.address}: the linter could not read the document ({type(error).__name__}: {error})") from None
    findings = []
    for finding in analysed.findings:
        parliament.enhance_finding(finding)  # severity, from parliament's config
        location = finding.location if isinstance(finding.location, dict) else {"at": finding.location}
        location = {k: v for k, v in location.items() if k not in ("filepath", "line", "column")}  # positions in a one-line document
        text = json.dumps({k: v for k, v in (("detail", finding.detail), ("location", location)) if v}, sort_keys=True, default=str)
        findings.append(LintFinding(document.address, document.kind, finding.issue, finding.severity, text, document.policy))
    return findings


def classify(documents: Iterable[Document]) -> LintResult:
    result = LintResult()
    for document in documents:
        result.documents += 1
        for finding in lint_document(document):
            inherent = next((rule for rule in INHERENT if rule.matches(finding)), None)
            accepted = next((rule for rule in ACCEPTED if rule.matches(finding)), None)
            if inherent:
                result.inherent.append((finding, inherent))
            elif accepted:
                result.accepted.append((finding, accepted))
            else:
                result.unexplained.append(finding)
    return result


def environment_documents(synth_dir: Path, environment: str, endpoint: str | None) -> list[Document]:
    """The documents of an environment's layers, from each layer's state in its S3 backend."""
    documents = []
    for stack, synthesized in stack_documents(synth_dir, environment).items():
        documents += state_documents(stack, read_state(backend_of(stack, synthesized), endpoint))
    return documents


def report(result: LintResult) -> str:
    lines = [f"{result.documents} policy documents linted (parliament, community auditors included)"]
    if result.accepted:
        lines.append(f"accepted ({len(result.accepted)}):")
        lines += [f"  {finding}\n    reason: {rule.reason}" for finding, rule in result.accepted]
    lines.append(f"inherent to the document's kind, not findings: {len(result.inherent)}")
    if result.unexplained:
        lines.append(f"UNEXPLAINED ({len(result.unexplained)}): fix the policy, or add a reasoned row to tools/iam_lint.ACCEPTED")
        lines += [f"  {finding}" for finding in result.unexplained]
    else:
        lines.append("no unexplained findings")
    return "\n".join(lines)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.iam_lint", description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--environment", help="lint the applied layers of this environment (their states, from the S3 backends)")
    source.add_argument("--state", type=Path, nargs="+", metavar="FILE", help="lint these state files (terraform state pull)")
    parser.add_argument("--synth-dir", type=Path, default=Path("cdktf.out"), help="synthesized stacks, for the backends (default: cdktf.out)")
    parser.add_argument("--endpoint", help="read the states from this emulator endpoint instead of AWS")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.environment:
            documents = environment_documents(args.synth_dir, args.environment, args.endpoint)
        else:
            documents = []
            for path in args.state:
                try:
                    state = json.loads(path.read_text())
                except (OSError, ValueError) as error:
                    raise AuditError(f"cannot read the state {path}: {error}") from None
                documents += state_documents(path.stem, state)
        if not documents:
            raise AuditError("no policy documents found: nothing applied, or the wrong environment or states")
        result = classify(documents)
    except AuditError as error:
        print(f"iam lint: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(report(result))
    return EXIT_OK if result.clean else EXIT_FINDINGS


if __name__ == "__main__":
    sys.exit(main())
