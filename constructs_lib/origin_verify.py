"""Proof that a request came through CloudFront: a secret header CloudFront adds and a Lambda authorizer checks.

Why: the web ACL sits on CloudFront, but API Gateway's own endpoints
(``<id>.execute-api.<region>.amazonaws.com``) stay reachable from the
internet, and an HTTP API has no resource policy to limit its callers. So:

* a CloudFront Function on every API distribution's viewer requests sets
  ``x-origin-verify`` from a CloudFront KeyValueStore, overwriting whatever
  the viewer sent (and removing it while the store is empty);
* a Lambda REQUEST authorizer (``lambda/origin_verify``) on the HTTP API's
  route and the WebSocket API's ``$connect`` compares the header, in
  constant time, with a Secrets Manager secret ``{"current", "previous"}``.
  API Gateway refuses a request without the header before calling the
  function (it is an identity source) and caches an answer per header value
  (``result_ttl_seconds``), so the function runs about once per client and
  period, not per request.

Neither store gets its value from Terraform: the secret has no version and
the KeyValueStore no key until ``python -m tools.origin_secret ensure`` writes
both, so the value is never in the state or in this repository. Until then
every API request is refused (fail closed). The same tool rotates it without
downtime (``docs/runbook.md``, "Rotating the origin secret").

With Cognito SSO the route's one authorizer is this function, so it checks
the user pool's JWT too (``jwt_issuer``/``jwt_audience``), as the JWT
authorizer did.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cdktf import AssetType, Fn, TerraformAsset
from cdktf_cdktf_provider_aws.cloudfront_function import CloudfrontFunction
from cdktf_cdktf_provider_aws.cloudfront_key_value_store import CloudfrontKeyValueStore
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction, LambdaFunctionEnvironment, LambdaFunctionTracingConfig
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from constructs import Construct

from constructs_lib._validation import Problems
from constructs_lib.ecs_updater import ARCHITECTURES, HANDLER, RUNTIME, stage_sources
from constructs_lib.actions import KEYVALUESTORE_ROTATE_ACTIONS, KMS_SECRETS_ROTATE_ACTIONS, SECRETS_ROTATE_ACTIONS
from constructs_lib.encryption import key_statements
from constructs_lib.iam import AccountRole, ServiceRole, ServiceRoleProps, Statement
from constructs_lib.logs import LogGroup, LogGroupProps
from constructs_lib.metrics import Metric
from constructs_lib.policy import skip_check
from constructs_lib.secrets import Secret, SecretProps

HEADER_NAME = "x-origin-verify"
KEY_NAME = HEADER_NAME  # the KeyValueStore key the function reads
SOURCE_DIR = str(Path(__file__).resolve().parents[1] / "lambda" / "origin_verify")
FUNCTION_RUNTIME = "cloudfront-js-2.0"
APIGATEWAY_PRINCIPAL = "apigateway.amazonaws.com"
_NAME = r"[A-Za-z0-9_-]{1,50}"  # "-origin-verify" is appended; Lambda and CloudFront allow 64

MANUAL_ROTATION_REASON = (
    "Rotated by `python -m tools.origin_secret rotate` (runbook): a rotation writes CloudFront's KeyValueStore between "
    "two versions of this secret and waits out the authorizer's caches in between, a sequence an operator runs and watches"
)
CHECKS_NOT_APPLICABLE = {
    "CKV_AWS_117": "The authorizer reads one secret (and, with SSO, the user pool's public keys from the internet); a VPC would add ENIs and a NAT for nothing",
    "CKV_AWS_272": "The code is this repository's lambda/origin_verify, zipped at synth and applied by Terraform; there is no signed artifact to verify",
    "CKV_AWS_116": "API Gateway invokes the authorizer synchronously and answers the caller itself; a DLQ receives only asynchronous events",
    "CKV_AWS_115": "API Gateway's throttling and the authorizer cache bound its invocations; reserving concurrency would cap the APIs instead of protecting anything",
}


def viewer_request_code(key_value_store_id: str) -> str:
    """The CloudFront Function: set the origin header from the store, never pass the viewer's own."""
    return "\n".join(
        (
            "import cf from 'cloudfront';",
            f"const kvs = cf.kvs('{key_value_store_id}');",
            "async function handler(event) {",
            "  const request = event.request;",
            "  try {",
            f"    request.headers['{HEADER_NAME}'] = {{ value: await kvs.get('{KEY_NAME}') }};",
            "  } catch (err) {",
            "    // No value yet (before tools.origin_secret ensure): the viewer's own must not pass either.",
            f"    delete request.headers['{HEADER_NAME}'];",
            "  }",
            "  return request;",
            "}",
            "",
        )
    )


@dataclass(frozen=True, kw_only=True)
class OriginVerificationProps:
    """Inputs of the origin verification.

    name: prefix of every name (secret ``<name>/origin-verify``, function,
        store and authorizer ``<name>-origin-verify``), 1-50 letters, digits,
        '-' and '_'.
    secret_kms_key_arn: key of the secret and the function's environment.
    secret: the secret, made elsewhere (the data layer, so it outlives the
        edge); ``origin_secret_props`` gives its props, which name this
        construct's two roles as its only readers.
    log_group: the authorizer's log group ``/aws/lambda/<name>-origin-verify``,
        made elsewhere (the data layer); ``log_group_props()`` gives its props.
    jwt_issuer / jwt_audience: with Cognito SSO, the user pool's issuer URL
        and app client ids; the authorizer then also requires a valid token.
        Default None / none.
    result_ttl_seconds: how long API Gateway caches an answer per identity,
        0-3600. Default 300.
    secret_cache_seconds: how long a warm authorizer keeps the secret, 1-3600.
        Default 60: a rotation waits this long before CloudFront sends the
        new value.
    memory_mib: 128-10240. Default 256 (the JWT check's RSA is pure Python;
        more memory is more CPU).
    timeout_seconds: 1-10. Default 5 (API Gateway waits 10 s for an authorizer).
    architecture: arm64 or x86_64. Default arm64.
    """

    name: str
    secret_kms_key_arn: str | None
    log_group: LogGroup
    secret: Secret
    jwt_issuer: str | None = None
    jwt_audience: tuple[str, ...] = ()
    result_ttl_seconds: int = 300
    secret_cache_seconds: int = 60
    memory_mib: int = 256
    timeout_seconds: int = 5
    architecture: str = "arm64"

    def __post_init__(self) -> None:
        problems = Problems("OriginVerificationProps")
        problems.matches("name", self.name, _NAME, "1-50 letters, digits, '-' and '_'")
        problems.between("result_ttl_seconds", self.result_ttl_seconds, 0, 3600)
        problems.between("secret_cache_seconds", self.secret_cache_seconds, 1, 3600)
        problems.between("memory_mib", self.memory_mib, 128, 10240)
        problems.between("timeout_seconds", self.timeout_seconds, 1, 10)
        problems.one_of("architecture", self.architecture, ARCHITECTURES)
        if (self.jwt_issuer is None) != (not self.jwt_audience):
            problems.add("jwt_issuer and jwt_audience go together: both or neither")
        problems.raise_if_any()

    @property
    def function_name(self) -> str:
        return f"{self.name}-origin-verify"


def origin_secret_props(name: str, kms_key_arn: str | None, role_arn_prefix: str) -> SecretProps:
    """The secret of the origin verification called ``name``: no value from Terraform; its readers, by the names they get.

    role_arn_prefix: ``arn:<partition>:iam::<account>:role/``.
    """
    function_name = f"{name}-origin-verify"
    return SecretProps(
        name=f"{name}/origin-verify",
        description='{"current", "previous"}: the header CloudFront adds to API requests. Written by tools.origin_secret, never by Terraform.',
        kms_key_arn=kms_key_arn,
        manual_rotation_reason=MANUAL_ROTATION_REASON,
        reader_role_arns=(f"{role_arn_prefix}{function_name}", f"{role_arn_prefix}{rotator_role_name(name)}"),
    )


def rotator_role_name(name: str) -> str:
    return f"{name}-origin-verify-rotator"


def authorizer_log_group_props(name: str, retention_days: int, kms_key_arn: str | None) -> LogGroupProps:
    """The authorizer's log group, for the origin verification called ``name``."""
    return LogGroupProps(name=f"/aws/lambda/{name}-origin-verify", retention_days=retention_days, kms_key_arn=kms_key_arn)


class OriginVerification(Construct):
    """The secret, the KeyValueStore, the CloudFront Function and the authorizer function."""

    def __init__(self, scope: Construct, construct_id: str, props: OriginVerificationProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        name = props.function_name
        self.role = ServiceRole(
            self,
            "role",
            ServiceRoleProps(name=name, service="lambda.amazonaws.com", description="Origin-verify authorizer: reads the origin secret, writes its logs"),
        )
        # Assumed by the account's operators and CI: the one principal besides the authorizer that may read the token.
        self.rotator = AccountRole(
            self,
            "rotator",
            name=rotator_role_name(props.name),
            description="Writes the origin secret and CloudFront's copy of it (tools.origin_secret)",
        )
        self.secret = props.secret
        self.secret.grant_read(self.role)
        props.log_group.grant_write(self.role)
        grants = [child for child in self.role.node.children if isinstance(child, IamRolePolicy)]

        self.key_value_store = CloudfrontKeyValueStore(
            self, "key-value-store", name=name, comment="The origin header's value; written by tools.origin_secret, never by Terraform"
        )
        self.rotator.grant(
            "rotate",
            [
                Statement(sid="WriteTheSecret", actions=SECRETS_ROTATE_ACTIONS, resources=(self.secret.secret_arn,)),
                *key_statements(self, props.secret_kms_key_arn, KMS_SECRETS_ROTATE_ACTIONS, via_service="secretsmanager", sid="EncryptTheSecret"),
                Statement(sid="WriteTheStore", actions=KEYVALUESTORE_ROTATE_ACTIONS, resources=(self.key_value_store.arn,)),
            ],
        )
        self.function = CloudfrontFunction(
            self,
            "viewer-request",
            name=name,
            runtime=FUNCTION_RUNTIME,
            comment=f"Sets {HEADER_NAME} on API requests from the KeyValueStore",
            publish=True,
            code=viewer_request_code(Fn.element(Fn.split("/", self.key_value_store.arn), 1)),
            key_value_store_associations=[self.key_value_store.arn],
        )

        environment = {"SECRET_ARN": self.secret.secret_arn, "HEADER_NAME": HEADER_NAME, "SECRET_CACHE_SECONDS": str(props.secret_cache_seconds)}
        if props.jwt_issuer is not None:
            environment.update(JWT_ISSUER=props.jwt_issuer, JWT_AUDIENCE=",".join(props.jwt_audience))
        self.asset = TerraformAsset(self, "code", path=stage_sources(SOURCE_DIR), type=AssetType.ARCHIVE)
        self.authorizer_function = LambdaFunction(
            self,
            "authorizer",
            function_name=name,
            description="Allows API requests that carry CloudFront's origin header (and, with SSO, a valid user pool token)",
            role=self.role.role_arn,
            runtime=RUNTIME,
            handler=HANDLER,
            architectures=[props.architecture],
            filename=self.asset.path,
            source_code_hash=self.asset.asset_hash,
            memory_size=props.memory_mib,
            timeout=props.timeout_seconds,
            environment=LambdaFunctionEnvironment(variables=environment),
            kms_key_arn=props.secret_kms_key_arn,
            tracing_config=LambdaFunctionTracingConfig(mode="PassThrough"),
            depends_on=grants,
        )
        for check_id, reason in CHECKS_NOT_APPLICABLE.items():
            skip_check(self.authorizer_function, check_id, reason)

    # -- attributes -------------------------------------------------------------------
    @property
    def function_arn(self) -> str:
        """The CloudFront Function, for a distribution's viewer-request association."""
        return self.function.arn

    @property
    def authorizer_invoke_arn(self) -> str:
        return self.authorizer_function.invoke_arn

    @property
    def secret_arn(self) -> str:
        return self.secret.secret_arn

    @property
    def key_value_store_arn(self) -> str:
        return self.key_value_store.arn

    @property
    def rotator_role_arn(self) -> str:
        return self.rotator.role_arn

    # -- grants -------------------------------------------------------------------------
    def grant_invoke(self, construct_id: str, api_execution_arn: str, authorizer_id: str) -> LambdaPermission:
        """Let one API Gateway authorizer (and no other) invoke the authorizer function."""
        return LambdaPermission(
            self,
            f"{construct_id}-permission",
            statement_id=f"Allow{''.join(part.title() for part in construct_id.split('-'))}",
            action="lambda:InvokeFunction",
            function_name=self.authorizer_function.function_name,
            principal=APIGATEWAY_PRINCIPAL,
            source_arn=f"{api_execution_arn}/authorizers/{authorizer_id}",
        )

    # -- metrics ------------------------------------------------------------------------
    def metric_errors(self) -> Metric:
        """Authorizer invocations that raised (API Gateway answers 500; Secrets Manager unreachable, say)."""
        return Metric(namespace="AWS/Lambda", metric_name="Errors", dimensions={"FunctionName": self.props.function_name}, statistic="Sum")
