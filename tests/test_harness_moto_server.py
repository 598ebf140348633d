"""Two emulator shims that keep a Lambda permission from outliving its RemovePermission.

A CI run lost 5 minutes and then failed: terraform's destroy removed the
origin-verify function's WebSocket permission (RemovePermission answered 204)
and the provider then found the statement in the policy until it gave up.
AWS can't get there; moto can in two ways, each shimmed in
tests/harness/moto_server.py and checked here:
- a second AddPermission with a StatementId the policy holds appends a copy
  (AWS: ResourceConflictException), and RemovePermission takes out only one;
- its server answers each request on its own thread against unlocked backend
  lists and dicts, so two requests on one policy can interleave (AWS applies
  them one after the other): `Serialized` handles one request at a time.
"""

from __future__ import annotations

import io
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError

from tests.harness.emulator import ClientFactory
from tests.harness.moto_server import MotoServer, Serialized

REGION = "us-east-1"


class Recording:
    """A WSGI app that records how many calls overlap and whether its result was closed."""

    def __init__(self) -> None:
        self.inside = 0
        self.most_inside = 0
        self.closed = 0
        self._count = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        with self._count:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        time.sleep(0.01)  # long enough that unserialized threads overlap every time
        start_response("200 OK", [])
        app = self

        class Body:
            def __iter__(self) -> Iterator[bytes]:
                yield b"ok:"
                yield environ["PATH_INFO"].encode()
                with app._count:
                    app.inside -= 1

            def close(self) -> None:
                with app._count:
                    app.closed += 1

        return Body()


def test_requests_never_overlap_and_bodies_are_built_inside_the_lock() -> None:
    app = Recording()
    serialized = Serialized(app)
    with ThreadPoolExecutor(max_workers=8) as pool:
        bodies = list(pool.map(lambda i: serialized({"PATH_INFO": f"/{i}"}, lambda *_: None), range(16)))
    assert app.most_inside == 1
    assert bodies == [[b"ok:", f"/{i}".encode()] for i in range(16)]
    assert app.closed == 16


def test_an_unserialized_app_does_overlap() -> None:
    """The check above could fail: without the wrapper, the same calls overlap."""
    app = Recording()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda i: list(app({"PATH_INFO": f"/{i}"}, lambda *_: None)), range(16)))
    assert app.most_inside > 1


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClientFactory]:
    with MotoServer(tmp_path_factory.mktemp("serialized-moto")) as server:
        yield ClientFactory(server.endpoint, REGION)


def _handler_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def role_arn(clients: ClientFactory) -> str:
    return clients("iam").create_role(
        RoleName="moto-server-test",
        AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}',
    )["Role"]["Arn"]


@pytest.mark.terraform
@pytest.mark.emulated
def test_add_permission_refuses_a_statement_id_the_policy_holds(clients: ClientFactory, role_arn: str) -> None:
    """AWS answers ResourceConflictException; moto alone appends a second copy that RemovePermission leaves behind."""
    lam = clients("lambda")
    lam.create_function(FunctionName="duplicates", Runtime="python3.12", Role=role_arn, Handler="index.handler", Code={"ZipFile": _handler_zip()})
    lam.add_permission(FunctionName="duplicates", StatementId="AllowApi", Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com")
    with pytest.raises(ClientError) as refused:
        lam.add_permission(FunctionName="duplicates", StatementId="AllowApi", Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com")
    assert refused.value.response["Error"]["Code"] == "ResourceConflictException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert "AllowApi" in refused.value.response["Error"]["Message"]
    lam.remove_permission(FunctionName="duplicates", StatementId="AllowApi")
    with pytest.raises(ClientError) as gone:
        lam.get_policy(FunctionName="duplicates")
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.terraform
@pytest.mark.emulated
def test_a_repeated_lock_put_succeeds_another_holders_lock_is_refused(clients: ClientFactory) -> None:
    """terraform's lock write: PutItem with attribute_not_exists(LockID). The same item sent twice (an SDK retry of an
    applied write) succeeds; another holder's item fails the condition, as on AWS."""
    dynamodb = clients("dynamodb")
    dynamodb.create_table(
        TableName="locks",
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )

    def lock(info: str) -> str:
        try:
            dynamodb.put_item(
                TableName="locks",
                Item={"LockID": {"S": "bucket/prod/terraform.tfstate"}, "Info": {"S": info}},
                ConditionExpression="attribute_not_exists(LockID)",
            )
            return "locked"
        except ClientError as error:
            return error.response["Error"]["Code"]

    mine = '{"ID":"d5483de0-2370-fc50-b813-3bb8d48e8963","Operation":"state-push","Created":"2026-12-06T12:54:09Z"}'
    assert lock(mine) == "locked"
    assert lock(mine) == "locked"  # the same request again
    assert lock(mine.replace("d5483de0", "0badc0de")) == "ConditionalCheckFailedException"
    item = dynamodb.get_item(TableName="locks", Key={"LockID": {"S": "bucket/prod/terraform.tfstate"}})["Item"]
    assert item["Info"]["S"] == mine
