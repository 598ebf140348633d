"""The seed's optional EventBridge deployment: deploy the image an ECR repository receives to its ECS service.

An EventBridge rule matches successful pushes to exactly the configured
repositories and invokes a Lambda function (``lambda/ecs_updater``), which
deploys ``<repository_url>:<pushed tag>`` to the mapped service with
tools/ecs_deploy.py's ``deploy_image``, as CI does: a new task-definition
revision with only the image replaced, tagged ``deployed-by``. The seed's
``forceNewDeployment`` restarts the current revision, which with IMMUTABLE
SHA tags names the previous image: a push would deploy nothing. The mapping
is explicit (``SERVICE_MAP``, repository name -> ``{cluster, service,
repository_url, container}``), never guessed from the repository's name as
the seed did. What the seed left out is here too: the
``aws_lambda_permission`` that lets the rule invoke the function, retries,
and one dead-letter queue for both failure paths (events EventBridge could
not deliver, and invocations that failed after Lambda's own retries).

Where it is on, the stack's ``deploys_on_push`` output says so, and the
backend deploy workflows only build and push: each push deploys once.

Pieces and their guards:

* rule: ``aws.ecr`` / ``ECR Image Action`` / PUSH / SUCCESS / these
  repository names (built with ``Fn.jsonencode``);
* target: retry policy (event age, attempts) and the DLQ;
* permission: ``events.amazonaws.com`` may invoke, for this rule's ARN only;
* function: python3.12 on arm64, reserved concurrency 1 (pushes are
  handled one at a time, and the handler ignores a push older than the
  image the service's newest revision names: a late or concurrent older
  push cannot win), X-Ray active tracing, environment encrypted with
  ``kms_key_arn``, async retries and the same DLQ
  (``dead_letter_config``); its code is ``source_dir``'s ``*.py``
  files plus ``module_files`` (tools/ecs_deploy.py and its CodeDeploy path,
  tools/codedeploy_release.py), zipped by cdktf
  (``TerraformAsset``, ARCHIVE) from a clean copy so that neither
  ``__pycache__`` nor file times reach the asset;
* role: trusted by lambda.amazonaws.com for this account; it writes its log
  group, sends to the DLQ and traces; the stack adds
  ``service.grant_deploy(updater.role, register_request_tags=DEPLOY_TAG)``
  per service, the GitHub deploy role's grant, and
  ``repository.grant_describe_images(updater.role)`` per repository, for
  the handler's push-time comparison;
* log group ``/aws/lambda/<name>``, KMS-encrypted, with a retention;
* DLQ: ``<name>-dlq``, SSE-KMS with ``kms_key_arn``, 14 days; its policy
  lets EventBridge send for this rule only. The key's policy must let
  ``events.amazonaws.com`` use it for the same rule (``rule_arn_for``).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cdktf import AssetType, Fn, TerraformAsset
from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import (
    CloudwatchEventTarget,
    CloudwatchEventTargetDeadLetterConfig,
    CloudwatchEventTargetRetryPolicy,
)
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionDeadLetterConfig,
    LambdaFunctionEnvironment,
    LambdaFunctionTracingConfig,
)
from cdktf_cdktf_provider_aws.lambda_function_event_invoke_config import LambdaFunctionEventInvokeConfig
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from constructs import Construct

from constructs_lib._validation import Problems, is_token
from constructs_lib.actions import XRAY_WRITE_ACTIONS
from constructs_lib.aws_context import AwsContext
from constructs_lib.iam import ServiceRole, ServiceRoleProps, Statement
from constructs_lib.limits import LOG_RETENTION_DAYS
from constructs_lib.logs import LogGroup, LogGroupProps
from constructs_lib.metrics import Metric
from constructs_lib.policy import skip_check
from constructs_lib.queue import MAX_RETENTION_SECONDS, Queue, QueueProps

RUNTIME = "python3.12"
HANDLER = "index.handler"
HANDLER_FILE = "index.py"
EVENT_SOURCE = "aws.ecr"
EVENT_DETAIL_TYPE = "ECR Image Action"
EVENTS_PRINCIPAL = "events.amazonaws.com"
TARGET_ID = "ecs-updater"
ARCHITECTURES = ("arm64", "x86_64")
# Staged source files get this modification time (2000-01-01T00:00:00Z), so
# the zip cdktf writes depends on the files' contents only.
_FIXED_MTIME = 946684800
_NAME = r"[A-Za-z0-9_-]{1,52}"  # "-ecr-push" (rule) and "-dlq" (queue) are appended; Lambda allows 64
_REPOSITORY = r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
_CONTAINER = r"[A-Za-z0-9_-]{1,255}"
# The handler imports it as ``ecs_deploy``; it imports only the standard library at module level.
ECS_DEPLOY_MODULE = str(Path(__file__).resolve().parents[1] / "tools" / "ecs_deploy.py")
# ecs_deploy's CodeDeploy path, imported by it (and the handler) as ``codedeploy_release``; standard library only too.
CODEDEPLOY_RELEASE_MODULE = str(Path(__file__).resolve().parents[1] / "tools" / "codedeploy_release.py")

CHECKS_NOT_APPLICABLE = {
    "CKV_AWS_117": "The function only calls the ECS, ECR and CodeDeploy APIs; it reaches no VPC resource, and a VPC would add ENIs plus a NAT or ECS and ECR endpoints for nothing",
    "CKV_AWS_272": "The code is this repository's lambda/ecs_updater, zipped at synth and applied by Terraform from CI; there is no signed artifact to verify",
}


@dataclass(frozen=True)
class UpdaterTarget:
    """One repository and the service its pushes deploy to.

    repository_name: the ECR repository's name, known at synth (it keys
        ``SERVICE_MAP`` and the rule's pattern), such as ``circle-of-trust-api``.
    cluster_name, service_name: the ECS service (tokens allowed).
    repository_url: the repository's URL (a token allowed); a pushed tag is
        deployed as ``<repository_url>:<tag>``.
    container_name: the container of the service's task definition whose
        image a push replaces (a token allowed).
    codedeploy_application, codedeploy_group: for a service whose
        deployment controller is CODE_DEPLOY, the CodeDeploy application and
        deployment group that release it (tokens allowed; both or neither).
        Default None: the service is updated in place (a rolling update).
    """

    repository_name: str
    cluster_name: str
    service_name: str
    repository_url: str
    container_name: str
    codedeploy_application: str | None = None
    codedeploy_group: str | None = None


@dataclass(frozen=True, kw_only=True)
class EcrPushUpdaterProps:
    """Inputs of the updater.

    name: the function's (and role's) name, 1-52 letters, digits, '-' and
        '_'; the rule is ``<name>-ecr-push``, the DLQ ``<name>-dlq``, the log
        group ``/aws/lambda/<name>``.
    targets: one or more repositories and their services; each repository once.
    source_dir: absolute path of the function's folder (``index.py`` with
        ``handler``); only its top-level ``*.py`` files are packaged.
    module_files: absolute paths of single-file modules packaged next to
        ``index.py``, so the handler imports them by file name instead of
        repeating their code. Default: tools/ecs_deploy.py, whose
        ``deploy_image`` the handler calls, and tools/codedeploy_release.py,
        its CodeDeploy path.
    kms_key_arn: customer-managed key for the function's environment and the
        DLQ. Default None (Lambda's AWS managed key; SSE-SQS).
    log_kms_key_arn: key of the log group. Default None.
    log_retention_days: a CloudWatch Logs retention. Default 365.
    memory_mib: 128-10240. Default 128: a few ECS API calls.
    timeout_seconds: 1-900. Default 30.
    reserved_concurrency: 1-1000. Default 1: one push at a time, so the
        handler's newest-image check and its deploy are one step that no
        other push can interleave (a concurrent older push could otherwise
        win). Deploys take seconds, and Lambda retries a throttled async
        event by itself (not counted as a retry attempt) within
        ``invocation_maximum_age_seconds``, so a second push waits instead
        of racing; one still throttled when that age passes goes to the
        DLQ. It also means the function can never take the account's whole
        concurrency. It lowers the account's unreserved concurrency, which
        must stay at 100 or more (an account whose quota is still 10 cannot
        reserve any).
    event_maximum_age_seconds: how long EventBridge keeps retrying to invoke
        the function, 60-86400. Default 3600.
    event_maximum_retry_attempts: EventBridge's invoke retries, 0-185.
        Default 8.
    invocation_maximum_age_seconds: how long Lambda keeps an async event
        for retries, 60-21600. Default 3600.
    invocation_maximum_retry_attempts: Lambda's retries of a failed
        invocation, 0-2. Default 2.
    tracing: X-Ray active tracing. Default True (a few traces a day cost
        nothing within X-Ray's free tier).
    architecture: arm64 or x86_64. Default arm64 (cheaper; pure Python).
    log_group, dlq: the log group and the DLQ, made elsewhere (the data
        layer, so what they hold outlives the function; ``log_group_props()``
        and ``dlq_props()`` give their props). Default None: made here.
    """

    name: str
    targets: tuple[UpdaterTarget, ...]
    source_dir: str
    module_files: tuple[str, ...] = (ECS_DEPLOY_MODULE, CODEDEPLOY_RELEASE_MODULE)
    kms_key_arn: str | None = None
    log_kms_key_arn: str | None = None
    log_retention_days: int = 365
    memory_mib: int = 128
    timeout_seconds: int = 30
    reserved_concurrency: int = 1
    event_maximum_age_seconds: int = 3600
    event_maximum_retry_attempts: int = 8
    invocation_maximum_age_seconds: int = 3600
    invocation_maximum_retry_attempts: int = 2
    tracing: bool = True
    architecture: str = "arm64"
    log_group: LogGroup | None = None
    dlq: Queue | None = None

    def __post_init__(self) -> None:
        problems = Problems("EcrPushUpdaterProps")
        problems.matches("name", self.name, _NAME, "1-52 letters, digits, '-' and '_'")
        if not self.targets:
            problems.add("targets must hold at least one repository, but none was provided")
        names = [target.repository_name for target in self.targets]
        for name in names:
            if is_token(name):
                problems.add("targets' repository_name must be known at synth (it keys SERVICE_MAP), but a token was provided")
            else:
                problems.matches("targets' repository_name", name, _REPOSITORY, "an ECR repository name")
        if len(set(names)) != len(names):
            problems.add(f"targets must name each repository once, but {names} was provided")
        for target in self.targets:
            problems.matches("targets' container_name", target.container_name, _CONTAINER, "1-255 letters, digits, '-' and '_'")
            if not target.repository_url:
                problems.add(f"targets' repository_url must be set, but {target.repository_name} has none")
            if bool(target.codedeploy_application) != bool(target.codedeploy_group):
                problems.add(
                    f"targets' codedeploy_application and codedeploy_group must be set together, but {target.repository_name} has only one"
                )
        source = Path(self.source_dir)
        if not source.is_absolute():
            problems.add(f"source_dir must be an absolute path (cdktf resolves relative ones from cdktf.json), but {self.source_dir!r} was provided")
        elif not (source / HANDLER_FILE).is_file():
            problems.add(f"source_dir must hold {HANDLER_FILE}, but {self.source_dir!r} does not")
        packaged = [p.name for p in source.glob("*.py")] if source.is_absolute() else []
        for module in self.module_files:
            path = Path(module)
            if not path.is_absolute() or path.suffix != ".py" or not path.is_file():
                problems.add(f"module_files must be absolute paths of existing .py files, but {module!r} was provided")
            packaged.append(path.name)
        clashes = sorted({name for name in packaged if packaged.count(name) > 1})
        if clashes:
            problems.add(f"module_files must not share a file name with each other or source_dir's files, but {clashes} do")
        problems.one_of("log_retention_days", self.log_retention_days, LOG_RETENTION_DAYS)
        problems.between("memory_mib", self.memory_mib, 128, 10240)
        problems.between("timeout_seconds", self.timeout_seconds, 1, 900)
        problems.between("reserved_concurrency", self.reserved_concurrency, 1, 1000)
        problems.between("event_maximum_age_seconds", self.event_maximum_age_seconds, 60, 86400)
        problems.between("event_maximum_retry_attempts", self.event_maximum_retry_attempts, 0, 185)
        problems.between("invocation_maximum_age_seconds", self.invocation_maximum_age_seconds, 60, 21600)
        problems.between("invocation_maximum_retry_attempts", self.invocation_maximum_retry_attempts, 0, 2)
        problems.one_of("architecture", self.architecture, ARCHITECTURES)
        problems.raise_if_any()

    @property
    def rule_name(self) -> str:
        return updater_rule_name(self.name)

    @property
    def event_pattern(self) -> dict:
        """The rule's pattern: successful pushes to exactly these repositories."""
        return {
            "source": [EVENT_SOURCE],
            "detail-type": [EVENT_DETAIL_TYPE],
            "detail": {
                "action-type": ["PUSH"],
                "result": ["SUCCESS"],
                "repository-name": [target.repository_name for target in self.targets],
            },
        }

    @property
    def service_map(self) -> dict[str, dict[str, str]]:
        """``SERVICE_MAP``: repository name -> {cluster, service, repository_url, container[, codedeploy_application, codedeploy_group]}."""
        return {
            t.repository_name: {
                "cluster": t.cluster_name,
                "service": t.service_name,
                "repository_url": t.repository_url,
                "container": t.container_name,
                **(
                    {"codedeploy_application": t.codedeploy_application, "codedeploy_group": t.codedeploy_group}
                    if t.codedeploy_application
                    else {}
                ),
            }
            for t in self.targets
        }

    def log_group_props(self) -> LogGroupProps:
        return updater_log_group_props(self.name, self.log_retention_days, self.log_kms_key_arn)

    def dlq_props(self) -> QueueProps:
        return updater_dlq_props(self.name, self.kms_key_arn)


def updater_log_group_props(name: str, retention_days: int, kms_key_arn: str | None) -> LogGroupProps:
    """The log group of the updater called ``name`` (Lambda writes to ``/aws/lambda/<name>``)."""
    return LogGroupProps(name=f"/aws/lambda/{name}", retention_days=retention_days, kms_key_arn=kms_key_arn)


def updater_dlq_props(name: str, kms_key_arn: str | None) -> QueueProps:
    """The DLQ of the updater called ``name``: failed pushes, kept as long as SQS allows."""
    return QueueProps(name=f"{name}-dlq", message_retention_seconds=MAX_RETENTION_SECONDS, kms_key_arn=kms_key_arn)


def updater_rule_name(name: str) -> str:
    return f"{name}-ecr-push"


def rule_arn_for(scope: Construct, updater_name: str) -> str:
    """The rule's ARN before the rule exists (a key policy naming it can then be made first)."""
    return AwsContext.of(scope).arn("events", f"rule/{updater_rule_name(updater_name)}")


def stage_sources(source_dir: str, module_files: tuple[str, ...] = ()) -> str:
    """A fresh folder holding only ``source_dir``'s top-level ``*.py`` files and ``module_files``, with one fixed mtime.

    Running the handler's tests leaves ``__pycache__`` (whose .pyc files
    embed source mtimes) next to the source; a fresh checkout changes every
    mtime. Neither may change the asset: cdktf hashes the folder's contents
    and zips it with the files' mtimes. The folder lives until the process
    exits (cdktf zips it during ``app.synth()``).
    """
    staged = Path(tempfile.mkdtemp(prefix="cot-lambda-"))
    atexit.register(shutil.rmtree, staged, True)
    for source in [*sorted(Path(source_dir).glob("*.py")), *map(Path, module_files)]:
        target = staged / source.name
        shutil.copyfile(source, target)
        os.chmod(target, 0o644)
        os.utime(target, (_FIXED_MTIME, _FIXED_MTIME))
    os.utime(staged, (_FIXED_MTIME, _FIXED_MTIME))
    return str(staged)


class EcrPushUpdater(Construct):
    """Rule, target, permission, function, role, log group and DLQ."""

    def __init__(self, scope: Construct, construct_id: str, props: EcrPushUpdaterProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props

        # Given: made in the data layer, so logs and undelivered pushes outlive the function.
        self.log_group = props.log_group or LogGroup(self, "log-group", props.log_group_props())
        self.dlq = props.dlq or Queue(self, "dlq", props.dlq_props())
        self.role = ServiceRole(
            self,
            "role",
            ServiceRoleProps(
                name=props.name,
                service="lambda.amazonaws.com",
                description="ECR-push updater: deploys pushed images to its ECS services, writes its logs and DLQ",
            ),
        )
        self.log_group.grant_write(self.role)
        self.dlq.grant_send_messages(self.role)
        if props.tracing:
            # X-Ray's write actions have no resource-level permissions.
            self.role.grant("xray-write", [Statement(sid="WriteTraces", actions=XRAY_WRITE_ACTIONS, resources=("*",))])
        own_grants = [child for child in self.role.node.children if isinstance(child, IamRolePolicy)]

        self.asset = TerraformAsset(self, "code", path=stage_sources(props.source_dir, props.module_files), type=AssetType.ARCHIVE)
        self.function = LambdaFunction(
            self,
            "function",
            function_name=props.name,
            description="Deploys a pushed image tag to the ECS service mapped to its repository",
            role=self.role.role_arn,
            runtime=RUNTIME,
            handler=HANDLER,
            architectures=[props.architecture],
            filename=self.asset.path,
            # A hash of the sources' contents: the code changes when they do, and only then.
            source_code_hash=self.asset.asset_hash,
            memory_size=props.memory_mib,
            timeout=props.timeout_seconds,
            reserved_concurrent_executions=props.reserved_concurrency,
            environment=LambdaFunctionEnvironment(variables={"SERVICE_MAP": Fn.jsonencode(props.service_map), "LOG_LEVEL": "INFO"}),
            # Lambda decrypts the environment through a grant it makes on the key; the role needs no KMS permission.
            kms_key_arn=props.kms_key_arn,
            tracing_config=LambdaFunctionTracingConfig(mode="Active" if props.tracing else "PassThrough"),
            dead_letter_config=LambdaFunctionDeadLetterConfig(target_arn=self.dlq.queue_arn),
            # The log group first (or Lambda makes an unencrypted one without retention), and the
            # role's policies (CreateFunction checks that the role may send to the DLQ).
            # A log group given from another layer exists before this layer is applied.
            depends_on=[*([] if props.log_group is not None else [self.log_group.log_group]), *own_grants],
        )
        for check_id, reason in CHECKS_NOT_APPLICABLE.items():
            skip_check(self.function, check_id, reason)
        self.invoke_config = LambdaFunctionEventInvokeConfig(
            self,
            "invoke-config",
            function_name=self.function.function_name,
            maximum_event_age_in_seconds=props.invocation_maximum_age_seconds,
            maximum_retry_attempts=props.invocation_maximum_retry_attempts,
        )

        self.rule = CloudwatchEventRule(
            self,
            "rule",
            name=props.rule_name,
            description="Successful image pushes to " + ", ".join(t.repository_name for t in props.targets),
            # jsonencode, not json.dumps: the pattern stays valid in the HCL output too.
            event_pattern=Fn.jsonencode(props.event_pattern),
        )
        self.permission = LambdaPermission(
            self,
            "invoke-permission",
            statement_id="AllowEcrPushRule",
            action="lambda:InvokeFunction",
            function_name=self.function.function_name,
            principal=EVENTS_PRINCIPAL,
            source_arn=self.rule.arn,
        )
        self.target = CloudwatchEventTarget(
            self,
            "target",
            rule=self.rule.name,
            target_id=TARGET_ID,
            arn=self.function.arn,
            retry_policy=CloudwatchEventTargetRetryPolicy(
                maximum_event_age_in_seconds=props.event_maximum_age_seconds,
                maximum_retry_attempts=props.event_maximum_retry_attempts,
            ),
            dead_letter_config=CloudwatchEventTargetDeadLetterConfig(arn=self.dlq.queue_arn),
            depends_on=[self.permission],
        )
        # A DLQ made in another layer gets its policy here, beside the rule it names.
        self.dlq_policy = self.dlq.grant_send_messages_from_service(
            EVENTS_PRINCIPAL, source_arn=self.rule.arn, scope=self if props.dlq is not None else None
        )

    # -- attributes ------------------------------------------------------------------------
    @property
    def function_name(self) -> str:
        return self.function.function_name

    @property
    def function_arn(self) -> str:
        return self.function.arn

    @property
    def rule_arn(self) -> str:
        return self.rule.arn

    @property
    def dlq_url(self) -> str:
        return self.dlq.queue_url

    @property
    def dlq_arn(self) -> str:
        return self.dlq.queue_arn

    # -- metrics ---------------------------------------------------------------------------
    def metric_errors(self) -> Metric:
        """Invocations that raised (``AWS/Lambda`` ``Errors``, Sum)."""
        return Metric(namespace="AWS/Lambda", metric_name="Errors", dimensions={"FunctionName": self.function_name}, statistic="Sum")

    def metric_failed_invocations(self) -> Metric:
        """Events the rule could not deliver to the function (``AWS/Events`` ``FailedInvocations``, Sum)."""
        return Metric(namespace="AWS/Events", metric_name="FailedInvocations", dimensions={"RuleName": self.rule.name}, statistic="Sum")

    def metric_dlq_messages_visible(self) -> Metric:
        """Events and invocations that failed for good, waiting in the DLQ."""
        return self.dlq.metric_approximate_number_of_messages_visible()
