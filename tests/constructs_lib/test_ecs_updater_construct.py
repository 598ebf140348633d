"""constructs_lib/ecs_updater.py: the ECR-push rule, the function, its permission, role, logs and DLQ.

One synth holds ``updater`` (a KMS key, tracing, the services' force-deployment
grants) and ``plain`` (no key, no tracing, x86_64): both sides of each option.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import shutil
import sys
import zipfile
from pathlib import Path

import pytest

from constructs_lib.actions import LOGS_WRITE_ACTIONS, SQS_SEND_ACTIONS, XRAY_WRITE_ACTIONS
from constructs_lib.ecs_updater import (
    CHECKS_NOT_APPLICABLE,
    CODEDEPLOY_RELEASE_MODULE,
    ECS_DEPLOY_MODULE,
    EcrPushUpdater,
    EcrPushUpdaterProps,
    UpdaterTarget,
    rule_arn_for,
    stage_sources,
)
from constructs_lib.policy import checkov_skips
from constructs_lib.service import FargateService
from tests.support import EXECUTION_ROLE, TASK_ROLE, api_service_props, at, data_sources, logical_id, ref, resources, synth_construct
from tools.ecs_deploy import DEPLOY_TAG

SOURCE_DIR = str(Path(__file__).resolve().parents[2] / "lambda" / "ecs_updater")
KEY = "arn:aws:kms:us-east-1:111122223333:key/updater"
LOG_KEY = "arn:aws:kms:us-east-1:111122223333:key/logs"
REGISTRY = "111122223333.dkr.ecr.us-east-1.amazonaws.com"
TARGETS = (
    UpdaterTarget("cot-api", "cot-api", "api-service", f"{REGISTRY}/cot-api", "api"),
    UpdaterTarget("cot-worker", "cot-workers", "worker-service", f"{REGISTRY}/cot-worker", "worker"),
)
SERVICE_MAP = {
    "cot-api": {"cluster": "cot-api", "service": "api-service", "repository_url": f"{REGISTRY}/cot-api", "container": "api"},
    "cot-worker": {"cluster": "cot-workers", "service": "worker-service", "repository_url": f"{REGISTRY}/cot-worker", "container": "worker"},
}
BUILT: dict = {}


def props(**overrides) -> EcrPushUpdaterProps:
    return EcrPushUpdaterProps(**{"name": "cot-ecs-updater", "targets": TARGETS, "source_dir": SOURCE_DIR, **overrides})


@pytest.fixture(scope="module")
def doc():
    def build(stack):
        updater = EcrPushUpdater(stack, "updater", props(kms_key_arn=KEY, log_kms_key_arn=LOG_KEY, log_retention_days=90))
        plain = EcrPushUpdater(stack, "plain", props(name="cot-plain", targets=TARGETS[:1], tracing=False, architecture="x86_64"))
        service = FargateService(stack, "api", api_service_props())
        service.grant_deploy(updater.role, register_request_tags={DEPLOY_TAG["key"]: DEPLOY_TAG["value"]})
        BUILT.update(updater=updater, plain=plain, rule_arn=rule_arn_for(stack, props().name))

    return synth_construct(build)


def rid(doc, resource_type: str, path: str) -> str:
    return logical_id(resources(doc, resource_type), path)


def rref(doc, resource_type: str, path: str, attribute: str) -> str:
    return ref(doc, resource_type, rid(doc, resource_type, path), attribute)


def bare(reference: str) -> str:
    """``aws_x.y.arn`` from ``${aws_x.y.arn}``: how a reference reads inside jsonencode()."""
    return reference[2:-1]


def statements(doc, path: str) -> list[dict]:
    return at(data_sources(doc, "aws_iam_policy_document"), path)["statement"]


def function(doc, name: str = "updater") -> dict:
    return at(resources(doc, "aws_lambda_function"), f"{name}/function")


# -- the rule, its target and the permission -----------------------------------------------
def test_rule_matches_successful_pushes_to_exactly_the_two_repositories(doc):
    rule = at(resources(doc, "aws_cloudwatch_event_rule"), "updater/rule")
    assert rule["name"] == "cot-ecs-updater-ecr-push"
    assert rule["event_pattern"] == (
        '${jsonencode({"source" = ["aws.ecr"], "detail-type" = ["ECR Image Action"], '
        '"detail" = {"action-type" = ["PUSH"], "result" = ["SUCCESS"], "repository-name" = ["cot-api", "cot-worker"]}})}'
    )
    assert props().event_pattern == {
        "source": ["aws.ecr"],
        "detail-type": ["ECR Image Action"],
        "detail": {"action-type": ["PUSH"], "result": ["SUCCESS"], "repository-name": ["cot-api", "cot-worker"]},
    }


def test_eventbridge_may_invoke_the_function_for_this_rule_only(doc):
    permission = at(resources(doc, "aws_lambda_permission"), "updater/invoke-permission")
    assert permission == {
        "statement_id": "AllowEcrPushRule",
        "action": "lambda:InvokeFunction",
        "function_name": rref(doc, "aws_lambda_function", "updater/function", "function_name"),
        "principal": "events.amazonaws.com",
        "source_arn": rref(doc, "aws_cloudwatch_event_rule", "updater/rule", "arn"),
    }


def test_target_retries_then_parks_events_in_the_dlq(doc):
    target = at(resources(doc, "aws_cloudwatch_event_target"), "updater/target")
    assert target["rule"] == rref(doc, "aws_cloudwatch_event_rule", "updater/rule", "name")
    assert target["arn"] == rref(doc, "aws_lambda_function", "updater/function", "arn")
    assert target["target_id"] == "ecs-updater"
    assert target["retry_policy"] == {"maximum_event_age_in_seconds": 3600, "maximum_retry_attempts": 8}
    assert target["dead_letter_config"] == {"arn": rref(doc, "aws_sqs_queue", "updater/dlq/queue", "arn")}
    assert target["depends_on"] == ["aws_lambda_permission." + rid(doc, "aws_lambda_permission", "updater/invoke-permission")]


# -- the function ---------------------------------------------------------------------------
def test_function_runtime_code_and_limits(doc):
    fn = function(doc)
    assert (fn["function_name"], fn["runtime"], fn["handler"], fn["architectures"]) == ("cot-ecs-updater", "python3.12", "index.handler", ["arm64"])
    assert (fn["memory_size"], fn["timeout"]) == (128, 30)
    assert fn["role"] == rref(doc, "aws_iam_role", "updater/role", "arn")
    # cdktf's asset: assets/<asset id>/<content hash>/archive.zip; the same hash triggers code updates.
    assert fn["filename"] == f"assets/updater_code_{fn['filename'].split('/')[1].split('_')[-1]}/{fn['source_code_hash']}/archive.zip"
    assert fn["source_code_hash"] == BUILT["updater"].asset.asset_hash


def test_one_push_at_a_time_by_default(doc):
    """Reserved concurrency 1: the handler's newest-image check and its deploy cannot interleave with another push's."""
    assert EcrPushUpdaterProps.__dataclass_fields__["reserved_concurrency"].default == 1
    assert function(doc)["reserved_concurrent_executions"] == 1
    assert function(doc, "plain")["reserved_concurrent_executions"] == 1


def test_service_map_is_an_explicit_jsonencoded_map(doc):
    variables = function(doc)["environment"]["variables"]
    assert variables == {
        "LOG_LEVEL": "INFO",
        "SERVICE_MAP": '${jsonencode({"cot-api" = {"cluster" = "cot-api", "service" = "api-service", '
        f'"repository_url" = "{REGISTRY}/cot-api", "container" = "api"}}, '
        '"cot-worker" = {"cluster" = "cot-workers", "service" = "worker-service", '
        f'"repository_url" = "{REGISTRY}/cot-worker", "container" = "worker"}}}})}}',
    }
    assert props().service_map == SERVICE_MAP


def test_function_encrypts_its_environment_traces_and_has_a_dlq(doc):
    fn = function(doc)
    assert fn["kms_key_arn"] == KEY
    assert fn["tracing_config"] == {"mode": "Active"}
    assert fn["dead_letter_config"] == {"target_arn": rref(doc, "aws_sqs_queue", "updater/dlq/queue", "arn")}


def test_function_waits_for_its_log_group_and_role_policies(doc):
    policies = {rid(doc, "aws_iam_role_policy", f"updater/role/{grant}-policy") for grant in ("log-group-write", "dlq-send", "xray-write")}
    assert sorted(function(doc)["depends_on"]) == sorted(
        ["aws_cloudwatch_log_group." + rid(doc, "aws_cloudwatch_log_group", "updater/log-group")]
        + [f"aws_iam_role_policy.{policy}" for policy in policies]
    )


def test_async_invocations_retry_twice_within_an_hour(doc):
    config = at(resources(doc, "aws_lambda_function_event_invoke_config"), "updater/invoke-config")
    assert config == {
        "function_name": rref(doc, "aws_lambda_function", "updater/function", "function_name"),
        "maximum_event_age_in_seconds": 3600,
        "maximum_retry_attempts": 2,
    }


def test_vpc_and_code_signing_checks_are_skipped_with_reasons(doc):  # doc builds BUILT["updater"]
    assert checkov_skips(BUILT["updater"].function) == CHECKS_NOT_APPLICABLE
    assert sorted(CHECKS_NOT_APPLICABLE) == ["CKV_AWS_117", "CKV_AWS_272"]


# -- logs and the DLQ ------------------------------------------------------------------------
def test_log_group_is_the_functions_encrypted_with_retention(doc):
    group = at(resources(doc, "aws_cloudwatch_log_group"), "updater/log-group")
    assert group == {"name": "/aws/lambda/cot-ecs-updater", "retention_in_days": 90, "kms_key_id": LOG_KEY}


def test_dlq_keeps_failures_14_days_encrypted(doc):
    dlq = at(resources(doc, "aws_sqs_queue"), "updater/dlq/queue")
    assert (dlq["name"], dlq["message_retention_seconds"], dlq["kms_master_key_id"]) == ("cot-ecs-updater-dlq", 1209600, KEY)


def test_dlq_policy_lets_eventbridge_send_for_the_rule_only(doc):
    policy = at(resources(doc, "aws_sqs_queue_policy"), "updater/dlq/queue-policy")
    assert policy["queue_url"] == rref(doc, "aws_sqs_queue", "updater/dlq/queue", "url")
    assert statements(doc, "updater/dlq/queue-policy-document") == [
        {
            "sid": "ServiceSendsForOneSource",
            "effect": "Allow",
            "principals": [{"type": "Service", "identifiers": ["events.amazonaws.com"]}],
            "actions": ["sqs:SendMessage"],
            "resources": [rref(doc, "aws_sqs_queue", "updater/dlq/queue", "arn")],
            "condition": [{"test": "ArnEquals", "variable": "aws:SourceArn", "values": [rref(doc, "aws_cloudwatch_event_rule", "updater/rule", "arn")]}],
        }
    ]


def test_a_queue_has_one_resource_policy(doc):  # doc builds BUILT
    with pytest.raises(ValueError, match="already has its resource policy"):
        BUILT["updater"].dlq.grant_send_messages_from_service("events.amazonaws.com", source_arn="arn:aws:events:us-east-1:111122223333:rule/x")


def test_rule_arn_is_known_before_the_rule_for_the_key_policy(doc):  # doc builds BUILT
    assert BUILT["rule_arn"].endswith(":rule/cot-ecs-updater-ecr-push")
    assert BUILT["rule_arn"].startswith("arn:")


# -- the role ---------------------------------------------------------------------------------
def role_grants(doc, name: str) -> dict[str, list[dict]]:
    role_ref = rref(doc, "aws_iam_role", f"{name}/role", "id")
    found = {}
    for policy in resources(doc, "aws_iam_role_policy").values():
        if policy["role"] == role_ref:
            document_id = policy["policy"].split(".")[2]
            found[policy["name"]] = data_sources(doc, "aws_iam_policy_document")[document_id]["statement"]
    return found


def test_role_is_trusted_by_lambda_for_this_account(doc):
    (trust,) = statements(doc, "updater/role/trust")
    assert trust["principals"] == [{"type": "Service", "identifiers": ["lambda.amazonaws.com"]}]
    assert [c["variable"] for c in trust["condition"]] == ["aws:SourceAccount"]


def test_role_may_only_deploy_the_service_write_its_logs_send_to_its_dlq_and_trace(doc):
    """The deploy role's grant: tools/ecs_deploy's calls, on exact ARNs where IAM has resource types."""
    grants = role_grants(doc, "updater")
    assert sorted(grants) == ["api-deploy", "dlq-send", "log-group-write", "xray-write"]
    by_sid = {statement["sid"]: statement for statement in grants["api-deploy"]}
    service = ref(doc, "aws_ecs_service", *resources(doc, "aws_ecs_service"), "id")
    assert by_sid["DescribeService"] == {"sid": "DescribeService", "effect": "Allow", "actions": ["ecs:DescribeServices"], "resources": [service]}
    # The updater may point the service at revisions of the service's own family only.
    assert by_sid["DeployOwnRevisions"]["actions"] == ["ecs:UpdateService"] and by_sid["DeployOwnRevisions"]["resources"] == [service]
    ((test, variable, values),) = [(c["test"], c["variable"], c["values"]) for c in by_sid["DeployOwnRevisions"]["condition"]]
    assert (test, variable) == ("ArnLike", "ecs:task-definition") and values == by_sid["ReadRevisionTags"]["resources"]
    assert by_sid["RegisterTaskDefinitions"]["condition"] == [
        {"test": "StringEquals", "variable": "aws:RequestTag/deployed-by", "values": ["tools.ecs_deploy"]}
    ]
    assert by_sid["PassTaskRolesToEcs"] == {
        "sid": "PassTaskRolesToEcs",
        "effect": "Allow",
        "actions": ["iam:PassRole"],
        "resources": [TASK_ROLE, EXECUTION_ROLE],
        "condition": [{"test": "StringEquals", "variable": "iam:PassedToService", "values": ["ecs-tasks.amazonaws.com"]}],
    }
    (revisions,) = by_sid["TagRevisionsAtRegistration"]["resources"]
    assert revisions.endswith(":task-definition/cot-api:*")
    assert by_sid["RegisterTaskDefinitions"]["resources"] == [revisions]
    # Only the two actions IAM gives no resource type are on "*".
    assert sorted(a for st in grants["api-deploy"] if st["resources"] == ["*"] for a in st["actions"]) == [
        "ecs:DescribeTaskDefinition",
        "ecs:ListTaskDefinitions",
    ]
    assert grants["log-group-write"] == [
        {
            "sid": "WriteLogs",
            "effect": "Allow",
            "actions": list(LOGS_WRITE_ACTIONS),
            "resources": [rref(doc, "aws_cloudwatch_log_group", "updater/log-group", "arn") + ":log-stream:*"],
        }
    ]
    send, encrypt = grants["dlq-send"]
    assert (send["actions"], send["resources"]) == (list(SQS_SEND_ACTIONS), [rref(doc, "aws_sqs_queue", "updater/dlq/queue", "arn")])
    assert (encrypt["actions"], encrypt["resources"]) == (["kms:Decrypt", "kms:GenerateDataKey"], [KEY])
    assert [c["variable"] for c in encrypt["condition"]] == ["kms:ViaService"]
    assert grants["xray-write"] == [{"sid": "WriteTraces", "effect": "Allow", "actions": list(XRAY_WRITE_ACTIONS), "resources": ["*"]}]


# -- the other side of each option -------------------------------------------------------------
def test_without_key_or_tracing(doc):
    fn = function(doc, "plain")
    assert "kms_key_arn" not in fn
    assert fn["tracing_config"] == {"mode": "PassThrough"}
    assert fn["architectures"] == ["x86_64"]
    assert at(resources(doc, "aws_sqs_queue"), "plain/dlq/queue")["sqs_managed_sse_enabled"] is True
    assert sorted(role_grants(doc, "plain")) == ["dlq-send", "log-group-write"]
    assert fn["environment"]["variables"]["SERVICE_MAP"].startswith('${jsonencode({"cot-api" = {"cluster" = "cot-api"')
    assert "cot-worker" not in fn["environment"]["variables"]["SERVICE_MAP"]
    assert json.loads(json.dumps(props(targets=TARGETS[:1]).service_map)) == {"cot-api": SERVICE_MAP["cot-api"]}


# -- metrics ----------------------------------------------------------------------------------
def test_metrics_name_the_function_rule_and_dlq(doc):  # doc builds BUILT
    updater = BUILT["updater"]
    assert (updater.metric_errors().namespace, updater.metric_errors().metric_name, updater.metric_errors().statistic) == ("AWS/Lambda", "Errors", "Sum")
    assert list(updater.metric_errors().dimensions) == ["FunctionName"]
    assert (updater.metric_failed_invocations().namespace, list(updater.metric_failed_invocations().dimensions)) == ("AWS/Events", ["RuleName"])
    assert updater.metric_dlq_messages_visible().metric_name == "ApproximateNumberOfMessagesVisible"


# -- the code asset -----------------------------------------------------------------------------
def test_staged_sources_are_the_py_files_only_with_a_fixed_time(tmp_path):
    source = tmp_path / "src"
    (source / "__pycache__").mkdir(parents=True)
    (source / "index.py").write_text("def handler(event, context):\n    return {}\n")
    (source / "helpers.py").write_text("X = 1\n")
    (source / "__pycache__" / "index.cpython-311.pyc").write_bytes(b"\x00compiled")
    (source / "notes.txt").write_text("not code")
    module = tmp_path / "lib" / "shared.py"
    module.parent.mkdir()
    module.write_text("Y = 2\n")
    staged = Path(stage_sources(str(source), (str(module),)))
    assert sorted(p.name for p in staged.iterdir()) == ["helpers.py", "index.py", "shared.py"]
    assert {os.stat(p).st_mtime for p in staged.iterdir()} == {946684800}
    assert (staged / "index.py").read_bytes() == (source / "index.py").read_bytes()
    assert (staged / "shared.py").read_bytes() == module.read_bytes()


def synthesized_zip(source: Path, **overrides) -> tuple[str, bytes]:
    """The asset hash and the bytes of the archive cdktf writes for an updater built from ``source``."""
    from cdktf import TerraformStack, Testing
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    app = Testing.app()
    stack = TerraformStack(app, "test")
    AwsProvider(stack, "aws", region="us-east-1")
    updater = EcrPushUpdater(stack, "updater", props(source_dir=str(source), **overrides))
    out = Path(Testing.full_synth(stack))
    (archive,) = out.rglob("archive.zip")
    return updater.asset.asset_hash, archive.read_bytes()


def test_the_zip_holds_the_handler_and_the_deploy_tool_it_imports(tmp_path):
    _, archive = synthesized_zip(Path(SOURCE_DIR))
    with zipfile.ZipFile(io.BytesIO(archive)) as package:
        assert sorted(package.namelist()) == ["codedeploy_release.py", "ecs_deploy.py", "index.py"]
        assert package.read("ecs_deploy.py") == Path(ECS_DEPLOY_MODULE).read_bytes()
        assert package.read("codedeploy_release.py") == Path(CODEDEPLOY_RELEASE_MODULE).read_bytes()
        assert package.read("index.py") == (Path(SOURCE_DIR) / "index.py").read_bytes()
        # One fixed time for every entry (zip times are local: 2000-01-01T00:00:00Z, give or take the time zone).
        (stamp,) = {info.date_time for info in package.infolist()}
        assert stamp[:2] in ((2000, 1), (1999, 12))
    assert ECS_DEPLOY_MODULE == str(Path(SOURCE_DIR).parents[1] / "tools" / "ecs_deploy.py")
    assert CODEDEPLOY_RELEASE_MODULE == str(Path(SOURCE_DIR).parents[1] / "tools" / "codedeploy_release.py")
    handler = (Path(SOURCE_DIR) / "index.py").read_bytes()
    assert b"\nimport ecs_deploy" in handler and b"\nimport codedeploy_release" in handler
    # Packaged, each imports the other as a top-level module (in the repository: relatively, within tools).
    assert b"    import codedeploy_release\n" in Path(ECS_DEPLOY_MODULE).read_bytes()
    assert b"    import ecs_deploy\n" in Path(CODEDEPLOY_RELEASE_MODULE).read_bytes()


def _module_level_imports(path: str) -> set[str]:
    """Top-level names imported outside functions and classes (in if/try blocks too)."""
    found: set[str] = set()
    pending = list(ast.parse(Path(path).read_text()).body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found |= {node.module.split(".")[0]} if node.module and not node.level else {alias.name for alias in node.names}
        elif isinstance(node, (ast.If, ast.Try)):
            pending += [*node.body, *node.orelse, *getattr(node, "finalbody", []), *(item for handler in getattr(node, "handlers", []) for item in handler.body)]
    return found


@pytest.mark.parametrize("module", [ECS_DEPLOY_MODULE, CODEDEPLOY_RELEASE_MODULE], ids=["ecs_deploy", "codedeploy_release"])
def test_the_deploy_tool_imports_only_the_standard_library_at_module_level(module):
    """The function's package holds no dependencies: boto3 comes with the runtime, the rest must be stdlib (or each other, packaged alongside)."""
    imported = _module_level_imports(module)
    allowed = set(sys.stdlib_module_names) | {"ecs_deploy", "codedeploy_release"}
    assert imported <= allowed, imported - allowed
    assert "boto3" not in imported and "botocore" not in imported


def test_the_zip_and_its_hash_depend_on_the_code_only(tmp_path):
    """Two synths, one from a fresh copy and one with __pycache__ and other mtimes: the same bytes; another module: other bytes."""
    fresh, touched = tmp_path / "fresh", tmp_path / "touched"
    for copy in (fresh, touched):
        copy.mkdir()
        shutil.copyfile(Path(SOURCE_DIR) / "index.py", copy / "index.py")
    os.utime(touched / "index.py", (1_700_000_000, 1_700_000_000))
    (touched / "__pycache__").mkdir()
    (touched / "__pycache__" / "index.cpython-311.pyc").write_bytes(os.urandom(64))
    tools = []
    for module in (ECS_DEPLOY_MODULE, CODEDEPLOY_RELEASE_MODULE):
        tool = tmp_path / "tool" / Path(module).name
        tool.parent.mkdir(exist_ok=True)
        shutil.copyfile(module, tool)
        os.utime(tool, (1_700_000_000, 1_700_000_000))
        tools.append(str(tool))

    first, second = synthesized_zip(fresh), synthesized_zip(touched, module_files=tuple(tools))
    assert first == second
    # cdktf hashes the staged folder's files in name order: codedeploy_release.py, ecs_deploy.py, then index.py.
    contents = Path(CODEDEPLOY_RELEASE_MODULE).read_bytes() + Path(ECS_DEPLOY_MODULE).read_bytes() + (Path(SOURCE_DIR) / "index.py").read_bytes()
    assert first[0] == hashlib.md5(contents).hexdigest()[: len(first[0])].upper()

    changed = tmp_path / "ecs_deploy.py"
    changed.write_bytes(Path(ECS_DEPLOY_MODULE).read_bytes() + b"\n# changed\n")
    third = synthesized_zip(fresh, module_files=(str(changed), CODEDEPLOY_RELEASE_MODULE))
    assert third[0] != first[0] and third[1] != first[1]


# -- props ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "x" * 53}, "name must be 1-52 letters, digits, '-' and '_'"),
        ({"targets": ()}, "targets must hold at least one repository, but none was provided"),
        ({"targets": (TARGETS[0], TARGETS[0])}, "targets must name each repository once, but ['cot-api', 'cot-api'] was provided"),
        ({"targets": (UpdaterTarget("Bad Name", "c", "s", f"{REGISTRY}/x", "api"),)}, "targets' repository_name must be an ECR repository name, but 'Bad Name' was provided"),
        ({"source_dir": "lambda/ecs_updater"}, "source_dir must be an absolute path (cdktf resolves relative ones from cdktf.json), but 'lambda/ecs_updater' was provided"),
        ({"source_dir": "/nonexistent"}, "source_dir must hold index.py, but '/nonexistent' does not"),
        ({"module_files": ("tools/ecs_deploy.py",)}, "module_files must be absolute paths of existing .py files, but 'tools/ecs_deploy.py' was provided"),
        ({"module_files": ("/nonexistent/x.py",)}, "module_files must be absolute paths of existing .py files, but '/nonexistent/x.py' was provided"),
        ({"module_files": (f"{SOURCE_DIR}/index.py",)}, "module_files must not share a file name with each other or source_dir's files, but ['index.py'] do"),
        ({"module_files": (ECS_DEPLOY_MODULE, ECS_DEPLOY_MODULE)}, "module_files must not share a file name with each other or source_dir's files, but ['ecs_deploy.py'] do"),
        ({"targets": (UpdaterTarget("cot-api", "c", "s", f"{REGISTRY}/cot-api", "api container"),)}, "targets' container_name must be 1-255 letters, digits, '-' and '_', but 'api container' was provided"),
        ({"targets": (UpdaterTarget("cot-api", "c", "s", "", "api"),)}, "targets' repository_url must be set, but cot-api has none"),
        (
            {"targets": (UpdaterTarget("cot-api", "c", "s", f"{REGISTRY}/cot-api", "api", codedeploy_application="cot-api"),)},
            "targets' codedeploy_application and codedeploy_group must be set together, but cot-api has only one",
        ),
        (
            {"targets": (UpdaterTarget("cot-api", "c", "s", f"{REGISTRY}/cot-api", "api", codedeploy_group="cot-api"),)},
            "targets' codedeploy_application and codedeploy_group must be set together, but cot-api has only one",
        ),
        ({"log_retention_days": 2}, "log_retention_days must be one of 1, 3, 5, 7"),
        ({"memory_mib": 64}, "memory_mib must be between 128 and 10240, but 64 was provided"),
        ({"timeout_seconds": 901}, "timeout_seconds must be between 1 and 900, but 901 was provided"),
        ({"reserved_concurrency": 0}, "reserved_concurrency must be between 1 and 1000, but 0 was provided"),
        ({"reserved_concurrency": 1001}, "reserved_concurrency must be between 1 and 1000, but 1001 was provided"),
        ({"event_maximum_age_seconds": 59}, "event_maximum_age_seconds must be between 60 and 86400, but 59 was provided"),
        ({"event_maximum_retry_attempts": 186}, "event_maximum_retry_attempts must be between 0 and 185, but 186 was provided"),
        ({"invocation_maximum_age_seconds": 21601}, "invocation_maximum_age_seconds must be between 60 and 21600, but 21601 was provided"),
        ({"invocation_maximum_retry_attempts": 3}, "invocation_maximum_retry_attempts must be between 0 and 2, but 3 was provided"),
        ({"architecture": "arm"}, "architecture must be one of arm64, x86_64, but 'arm' was provided"),
    ],
)
def test_props_validation_messages(kwargs, message):
    with pytest.raises(ValueError) as caught:
        props(**kwargs)
    assert str(caught.value).startswith("EcrPushUpdaterProps: ")
    assert message in str(caught.value)


# -- a target released through CodeDeploy --------------------------------------------------------
def test_a_codedeploy_target_adds_its_application_and_group_to_the_service_map():
    canary = UpdaterTarget("cot-api", "cot-api", "api-service", f"{REGISTRY}/cot-api", "api", codedeploy_application="cot-api", codedeploy_group="cot-api")
    assert props(targets=(canary, TARGETS[1])).service_map == {
        "cot-api": {**SERVICE_MAP["cot-api"], "codedeploy_application": "cot-api", "codedeploy_group": "cot-api"},
        "cot-worker": SERVICE_MAP["cot-worker"],
    }
    # Without them (the rolling strategy) the map is as before: no empty keys.
    assert props().service_map == SERVICE_MAP
