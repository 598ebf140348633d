"""OriginVerification: the secret header CloudFront adds and the authorizer checks; the function run for real in Node."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from cdktf_cdktf_provider_aws.apigatewayv2_api import Apigatewayv2Api
from cdktf_cdktf_provider_aws.apigatewayv2_authorizer import Apigatewayv2Authorizer

from constructs_lib.logs import LogGroup
from constructs_lib.origin_verify import (
    OriginVerification,
    OriginVerificationProps,
    authorizer_log_group_props,
    origin_secret_props,
    viewer_request_code,
)
from constructs_lib.secrets import Secret
from constructs_lib.policy import checkov_skips
from tests.support import at, data_sources, logical_id, only, ref, resources, synth_construct

KEY = "arn:aws:kms:us-east-1:111122223333:key/secrets"
ROLES = "arn:aws:iam::111122223333:role/"
ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool"


def build(**overrides):
    captured = {}

    def make(stack):
        log_group = LogGroup(stack, "authorizer-log-group", authorizer_log_group_props("cot", 30, None))
        # Made elsewhere in the stacks (the data layer), as here beside the construct.
        secret = Secret(stack, "origin-secret", origin_secret_props("cot", KEY, ROLES))
        props = OriginVerificationProps(**{"name": "cot", "secret_kms_key_arn": KEY, "log_group": log_group, "secret": secret, **overrides})
        captured["verification"] = verification = OriginVerification(stack, "origin-verify", props)
        api = Apigatewayv2Api(stack, "api", name="cot-api", protocol_type="HTTP")
        authorizer = Apigatewayv2Authorizer(
            stack,
            "authorizer",
            api_id=api.id,
            name="cot-origin-verify",
            authorizer_type="REQUEST",
            authorizer_uri=verification.authorizer_invoke_arn,
            identity_sources=["$request.header.x-origin-verify"],
            authorizer_payload_format_version="2.0",
        )
        verification.grant_invoke("http-api-authorizer", api.execution_arn, authorizer.id)

    return synth_construct(make), captured["verification"]


@pytest.fixture(scope="module")
def default():
    return build()


@pytest.fixture(scope="module")
def with_sso():
    return build(jwt_issuer=ISSUER, jwt_audience=("client-a", "client-b"))


def item_ref(document, resource_type, path, attribute):
    return ref(document, resource_type, logical_id(resources(document, resource_type), path), attribute)


def policy_document(document, path):
    return at(data_sources(document, "aws_iam_policy_document"), path)


# -- the value never enters Terraform ------------------------------------------------------
def test_neither_store_gets_a_value_from_terraform(default):
    document, _ = default
    assert not resources(document, "aws_secretsmanager_secret_version")
    assert not resources(document, "aws_cloudfrontkeyvaluestore_key")
    assert not resources(document, "aws_cloudfrontkeyvaluestore_keys_exclusive")
    assert "secret_string" not in json.dumps(document)
    secret = only(document, "aws_secretsmanager_secret")
    assert (secret["name"], secret["kms_key_id"]) == ("cot/origin-verify", KEY)
    assert only(document, "aws_cloudfront_key_value_store")["name"] == "cot-origin-verify"


def test_only_the_authorizer_and_the_rotator_read_the_secret(default):
    """The secret names its two readers by the names the roles get (it is made in a layer below them)."""
    document, _ = default
    names = {role["name"] for role in resources(document, "aws_iam_role").values()}
    assert names == {"cot-origin-verify", "cot-origin-verify-rotator"}
    readers = [f"{ROLES}cot-origin-verify", f"{ROLES}cot-origin-verify-rotator"]
    secret_arn = item_ref(document, "aws_secretsmanager_secret", "origin-secret", "arn")
    policy = only(document, "aws_secretsmanager_secret_policy")
    assert policy["secret_arn"] == secret_arn and policy["block_public_policy"] is True
    statements = {statement["sid"]: statement for statement in policy_document(document, "origin-secret/policy-document")["statement"]}
    allow = statements["ReadersReadTheValue"]
    assert allow["effect"] == "Allow"
    assert allow["condition"] == [{"test": "ArnEquals", "variable": "aws:PrincipalArn", "values": readers}]
    deny = statements["DenyTheValueToAllButTheReaders"]
    assert deny["effect"] == "Deny" and deny["actions"] == ["secretsmanager:GetSecretValue"]
    values = deny["condition"][0]["values"]
    assert values[:2] == readers and len(values) == 3 and values[2].endswith(":root")  # the two roles, and the account's root user


def test_the_rotator_is_assumed_from_the_account_and_writes_only_the_secret_and_the_store(default):
    document, _ = default
    (trust,) = policy_document(document, "origin-verify/rotator/trust")["statement"]
    (principal,) = trust["principals"]
    assert principal["type"] == "AWS" and principal["identifiers"][0].endswith(":root") and trust["actions"] == ["sts:AssumeRole"]
    write, encrypt, store = policy_document(document, "origin-verify/rotator/rotate-policy-document")["statement"]
    assert sorted(write["actions"]) == ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"]
    assert write["resources"] == [item_ref(document, "aws_secretsmanager_secret", "origin-secret", "arn")]
    assert (sorted(encrypt["actions"]), encrypt["resources"]) == (["kms:Decrypt", "kms:GenerateDataKey"], [KEY])
    assert encrypt["condition"][0]["variable"] == "kms:ViaService"
    assert all(action.startswith("cloudfront-keyvaluestore:") and "Delete" not in action for action in store["actions"])
    assert store["resources"] == [item_ref(document, "aws_cloudfront_key_value_store", "origin-verify/key-value-store", "arn")]


def test_the_role_reads_exactly_this_secret_decrypts_through_secrets_manager_and_writes_only_its_log_streams(default):
    document, _ = default
    role = item_ref(document, "aws_iam_role", "origin-verify/role", "id")
    policies = [policy for policy in resources(document, "aws_iam_role_policy").values() if policy["role"] == role]
    assert {policy["name"] for policy in policies} == {"origin-secret-read", "authorizer-log-group-write"}
    read, decrypt = policy_document(document, "origin-verify/role/origin-secret-read-policy-document")["statement"]
    assert sorted(read["actions"]) == ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
    assert read["resources"] == [item_ref(document, "aws_secretsmanager_secret", "origin-secret", "arn")]
    assert (decrypt["actions"], decrypt["resources"]) == (["kms:Decrypt"], [KEY])
    (via,) = decrypt["condition"]
    assert (via["test"], via["variable"]) == ("StringEquals", "kms:ViaService")
    assert via["values"][0].startswith("secretsmanager.${data.aws_region.")
    (write,) = policy_document(document, "origin-verify/role/authorizer-log-group-write-policy-document")["statement"]
    assert sorted(write["actions"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert write["resources"] == [f"{item_ref(document, 'aws_cloudwatch_log_group', 'authorizer-log-group', 'arn')}:log-stream:*"]


def test_the_role_is_lambdas_and_the_function_waits_for_its_grants(default):
    document, _ = default
    (trust,) = policy_document(document, "origin-verify/role/trust")["statement"]
    assert trust["principals"] == [{"type": "Service", "identifiers": ["lambda.amazonaws.com"]}]
    function = only(document, "aws_lambda_function")
    assert function["role"] == item_ref(document, "aws_iam_role", "origin-verify/role", "arn")
    role = item_ref(document, "aws_iam_role", "origin-verify/role", "id")
    own = [name for name, policy in resources(document, "aws_iam_role_policy").items() if policy["role"] == role]
    assert sorted(function["depends_on"]) == sorted(f"aws_iam_role_policy.{name}" for name in own)


# -- the authorizer function -------------------------------------------------------------------
def test_authorizer_reads_the_secret_by_reference_and_the_header_name(default):
    document, _ = default
    function = only(document, "aws_lambda_function")
    assert function["environment"]["variables"] == {
        "SECRET_ARN": item_ref(document, "aws_secretsmanager_secret", "origin-secret", "arn"),
        "HEADER_NAME": "x-origin-verify",
        "SECRET_CACHE_SECONDS": "60",
    }
    assert function["function_name"] == "cot-origin-verify"  # the log group /aws/lambda/cot-origin-verify is its
    assert only(document, "aws_cloudwatch_log_group")["name"] == f"/aws/lambda/{function['function_name']}"
    assert (function["kms_key_arn"], function["memory_size"], function["timeout"], function["architectures"]) == (KEY, 256, 5, ["arm64"])
    assert function["handler"] == "index.handler" and function["runtime"].startswith("python3")


def test_with_sso_the_authorizer_checks_the_pools_token_too(with_sso):
    document, _ = with_sso
    variables = only(document, "aws_lambda_function")["environment"]["variables"]
    assert (variables["JWT_ISSUER"], variables["JWT_AUDIENCE"]) == (ISSUER, "client-a,client-b")
    assert variables["SECRET_ARN"] == item_ref(document, "aws_secretsmanager_secret", "origin-secret", "arn")


def test_secret_cache_follows_the_props():
    document, _ = build(secret_cache_seconds=15)
    assert only(document, "aws_lambda_function")["environment"]["variables"]["SECRET_CACHE_SECONDS"] == "15"


def test_authorizer_skips_only_the_checks_that_do_not_apply(default):
    _, verification = default
    assert set(checkov_skips(verification.authorizer_function)) == {"CKV_AWS_117", "CKV_AWS_272", "CKV_AWS_116", "CKV_AWS_115"}


# -- the CloudFront Function --------------------------------------------------------------------
def test_function_is_published_js_2_0_associated_with_the_store(default):
    document, verification = default
    function = only(document, "aws_cloudfront_function")
    store_arn = item_ref(document, "aws_cloudfront_key_value_store", "origin-verify/key-value-store", "arn")
    assert (function["runtime"], function["publish"], function["name"]) == ("cloudfront-js-2.0", True, "cot-origin-verify")
    assert function["key_value_store_associations"] == [store_arn]
    # cf.kvs() takes the store's ID, the last part of its ARN (arn:aws:cloudfront::<account>:key-value-store/<id>).
    assert f"cf.kvs('${{element(split(\"/\", {store_arn[2:-1]}), 1)}}')" in function["code"]


def test_function_code_overwrites_the_header_from_the_store_and_deletes_it_on_error(default):
    document, _ = default
    code = only(document, "aws_cloudfront_function")["code"]
    assert "request.headers['x-origin-verify'] = { value: await kvs.get('x-origin-verify') };" in code
    try_part, catch_part = code.split("} catch (err) {")
    assert "kvs.get(" in try_part and "delete" not in try_part
    assert "delete request.headers['x-origin-verify'];" in catch_part
    assert code.index("return request;") > code.index("delete request.headers")


STUB = """\
export const calls = [];
export default {
  kvs(id) {
    return {
      async get(key) {
        calls.push([id, key]);
        if (globalThis.store.fails) { throw new Error('Key not found'); }
        return globalThis.store.value;
      },
    };
  },
};
"""

RUNNER = """\
import { handler } from './function.mjs';
import { calls } from './cloudfront.mjs';

const cases = JSON.parse(process.argv[2]);
const results = [];
for (const [store, headers] of cases) {
  globalThis.store = store;
  calls.length = 0;
  const request = await handler({ version: '1.0', request: { method: 'GET', uri: '/', headers: structuredClone(headers) } });
  results.push({ headers: request.headers, calls: [...calls] });
}
console.log(JSON.stringify(results));
"""


def run_function(code: str, cases: list, tmp_path) -> list[dict]:
    node = shutil.which("node")
    assert node, "node is needed to run the CloudFront Function (npm's node carries the cdktf CLI on these machines)"
    import_line = "import cf from 'cloudfront';"
    assert code.startswith(import_line + "\n")
    (tmp_path / "function.mjs").write_text(code.replace(import_line, "import cf from './cloudfront.mjs';", 1) + "export { handler };\n")
    (tmp_path / "cloudfront.mjs").write_text(STUB)
    (tmp_path / "run.mjs").write_text(RUNNER)
    proc = subprocess.run([node, "run.mjs", json.dumps(cases)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_function_run_in_node_sets_the_stores_value_and_drops_the_viewers_own(tmp_path):
    code = viewer_request_code("kvs-1234")
    viewer = {"x-origin-verify": {"value": "forged"}, "accept": {"value": "application/json"}}
    overwritten, dropped, absent, fresh = run_function(
        code,
        [
            [{"value": "s3cret"}, viewer],  # a value in the store: it replaces the viewer's
            [{"fails": True}, viewer],  # no value yet (get rejects): the viewer's must not pass either
            [{"fails": True}, {"accept": {"value": "*/*"}}],  # nothing to drop: no error, no header
            [{"value": "s3cret"}, {}],  # the usual case: the viewer sent none
        ],
        tmp_path,
    )
    assert overwritten["headers"] == {"x-origin-verify": {"value": "s3cret"}, "accept": {"value": "application/json"}}
    assert overwritten["calls"] == [["kvs-1234", "x-origin-verify"]]
    assert dropped["headers"] == {"accept": {"value": "application/json"}}
    assert absent["headers"] == {"accept": {"value": "*/*"}}
    assert fresh["headers"] == {"x-origin-verify": {"value": "s3cret"}}


# -- who may invoke the authorizer ----------------------------------------------------------------
def test_grant_invoke_lets_one_api_gateway_authorizer_invoke_it(default):
    document, _ = default
    permission = only(document, "aws_lambda_permission")
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert permission["action"] == "lambda:InvokeFunction"
    assert permission["function_name"] == item_ref(document, "aws_lambda_function", "origin-verify/authorizer", "function_name")
    execution_arn = ref(document, "aws_apigatewayv2_api", "api", "execution_arn")
    authorizer_id = ref(document, "aws_apigatewayv2_authorizer", "authorizer", "id")
    assert permission["source_arn"] == f"{execution_arn}/authorizers/{authorizer_id}"
    assert permission["statement_id"] == "AllowHttpApiAuthorizer"
    assert only(document, "aws_apigatewayv2_authorizer")["authorizer_uri"] == item_ref(document, "aws_lambda_function", "origin-verify/authorizer", "invoke_arn")


# -- props ------------------------------------------------------------------------------------------
def a_log_group_and_secret() -> dict:
    import cdktf
    from cdktf import TerraformStack

    stack = TerraformStack(cdktf.Testing.app(), "test")
    return {
        "log_group": LogGroup(stack, "log-group", authorizer_log_group_props("cot", 30, None)),
        "secret": Secret(stack, "secret", origin_secret_props("cot", KEY, ROLES)),
    }


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "cot verify"}, "name must be 1-50 letters, digits, '-' and '_', but 'cot verify' was provided"),
        ({"name": "x" * 51}, "name must be 1-50 letters"),
        ({"result_ttl_seconds": 3601}, "result_ttl_seconds must be between 0 and 3600, but 3601 was provided"),
        ({"secret_cache_seconds": 0}, "secret_cache_seconds must be between 1 and 3600, but 0 was provided"),
        ({"memory_mib": 64}, "memory_mib must be between 128 and 10240, but 64 was provided"),
        ({"timeout_seconds": 11}, "timeout_seconds must be between 1 and 10, but 11 was provided"),
        ({"architecture": "ppc64"}, "architecture must be one of arm64, x86_64, but 'ppc64' was provided"),
        ({"jwt_issuer": ISSUER}, "jwt_issuer and jwt_audience go together: both or neither"),
        ({"jwt_audience": ("client-a",)}, "jwt_issuer and jwt_audience go together: both or neither"),
    ],
)
def test_props_name_the_field_the_allowed_values_and_the_value(overrides, message):
    with pytest.raises(ValueError) as caught:
        OriginVerificationProps(**{"name": "cot", "secret_kms_key_arn": KEY, **a_log_group_and_secret(), **overrides})
    assert str(caught.value).startswith("OriginVerificationProps: ")
    assert message in str(caught.value)


def test_props_report_every_problem_at_once():
    with pytest.raises(ValueError) as caught:
        OriginVerificationProps(name="", secret_kms_key_arn=KEY, **a_log_group_and_secret(), memory_mib=1, timeout_seconds=0)
    assert str(caught.value).count("; ") == 2


def test_authorizer_log_group_is_named_for_the_function():
    props = authorizer_log_group_props("cot", 14, KEY)
    assert (props.name, props.retention_days, props.kms_key_arn) == ("/aws/lambda/cot-origin-verify", 14, KEY)
    assert props.name == f"/aws/lambda/{OriginVerificationProps(name='cot', secret_kms_key_arn=None, **a_log_group_and_secret()).function_name}"
