"""tools.origin_secret against the harness's moto server: seeding, zero-downtime rotation, repair.

The secret (without a value) and the key-value store (empty) are made with
boto3 as Terraform's edge layer makes them; the tool then writes both over
HTTP, the store through the harness's `cloudfront_keyvaluestore_data_plane`
shim (tests/harness/moto_keyvaluestore.py), SigV4A-signed with awscrt. One
server for the module; every test has its own secret and store. Waits are
zero and `sleep` is a callback that looks at both stores, so a test sees each
moment of a rotation: at every one, what CloudFront sends (the store's value)
is a token the authorizer accepts (the secret's current or previous).
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import boto3
import pytest
from botocore.config import Config

from tests.harness.moto_server import MotoServer
from tools import origin_secret
from tools.origin_secret import KEY, main

pytestmark = [pytest.mark.terraform, pytest.mark.emulated, pytest.mark.xdist_group("emulated-origin-secret")]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
NO_WAIT = ["--authorizer-cache-seconds", "0", "--propagation-seconds", "0"]


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with MotoServer(tmp_path_factory.mktemp("moto-origin-secret")) as server:
        yield server.endpoint


def keyvaluestore_client(endpoint: str) -> Any:
    # The endpoint rules put the account in front of the host (123456789012.127.0.0.1:N),
    # which nothing resolves: the server is the client's HTTP proxy too (see the shim's docstring).
    return boto3.client(
        "cloudfront-keyvaluestore", region_name=REGION, endpoint_url=endpoint, config=Config(proxies={"http": endpoint}), **CREDENTIALS
    )


class Edge:
    """One environment's origin secret and key-value store, as the edge layer's first apply leaves them."""

    def __init__(self, endpoint: str, capsys: pytest.CaptureFixture[str]):
        self.endpoint, self.capsys = endpoint, capsys
        self.secretsmanager = boto3.client("secretsmanager", region_name=REGION, endpoint_url=endpoint, **CREDENTIALS)
        self.keyvaluestore = keyvaluestore_client(endpoint)
        cloudfront = boto3.client("cloudfront", region_name=REGION, endpoint_url=endpoint, **CREDENTIALS)
        suffix = uuid.uuid4().hex[:8]
        self.secret_arn = self.secretsmanager.create_secret(Name=f"origin-verify-{suffix}", Description="origin verify")["ARN"]
        self.kvs_arn = cloudfront.create_key_value_store(Name=f"origin-verify-{suffix}")["KeyValueStore"]["ARN"]
        self.tokens: set[str] = set()
        self.out = self.err = ""

    def run(self, *args: str, sleep: Callable[[float], None] = lambda _: None, keyvaluestore: Any = None, **kwargs: Any) -> int:
        code = main(
            [*args, "--secret-arn", self.secret_arn, "--kvs-arn", self.kvs_arn, "--region", REGION],
            secretsmanager=self.secretsmanager,
            keyvaluestore=keyvaluestore or self.keyvaluestore,
            sleep=sleep,
            **kwargs,
        )
        captured = self.capsys.readouterr()
        self.out, self.err = captured.out, captured.err
        self.remember()
        self.assert_no_token_printed()
        return code

    def secret(self) -> tuple[str, str]:
        value = json.loads(self.secretsmanager.get_secret_value(SecretId=self.secret_arn)["SecretString"])
        assert set(value) == {"current", "previous"}
        return value["current"], value["previous"]

    def secret_version(self) -> str:
        return self.secretsmanager.get_secret_value(SecretId=self.secret_arn)["VersionId"]

    def items(self) -> dict[str, str]:
        return {item["Key"]: item["Value"] for item in self.keyvaluestore.list_keys(KvsARN=self.kvs_arn)["Items"]}

    def sent(self) -> str | None:
        """What CloudFront's function sends: the store's value under KEY."""
        return self.items().get(KEY)

    def etag(self) -> str:
        return self.keyvaluestore.describe_key_value_store(KvsARN=self.kvs_arn)["ETag"]

    def put(self, key: str, value: str) -> None:
        self.keyvaluestore.put_key(KvsARN=self.kvs_arn, Key=key, Value=value, IfMatch=self.etag())

    def remember(self) -> None:
        try:
            self.tokens.update(token for token in self.secret() if token)
        except (self.secretsmanager.exceptions.ResourceNotFoundException, ValueError):
            pass  # no value yet, or not the secret's JSON
        if self.sent():
            self.tokens.add(self.sent())

    def assert_no_token_printed(self) -> None:
        for token in self.tokens:
            assert token not in self.out and token not in self.err, "a token was printed"

    def assert_accepted(self) -> None:
        """The authorizer (current or previous) accepts what CloudFront sends."""
        current, previous = self.secret()
        assert self.sent() in {current, previous} - {""}


@pytest.fixture
def edge(endpoint: str, capsys: pytest.CaptureFixture[str]) -> Edge:
    return Edge(endpoint, capsys)


def test_ensure_seeds_the_secret_and_the_store(edge: Edge) -> None:
    assert edge.run("ensure") == 0
    current, previous = edge.secret()
    assert previous == ""
    assert len(current) == 64  # secrets.token_urlsafe(48)
    assert edge.items() == {KEY: current}
    assert "stored a new token" in edge.out and "put current" in edge.out


def test_ensure_twice_changes_nothing(edge: Edge) -> None:
    assert edge.run("ensure") == 0
    etag, version, items = edge.etag(), edge.secret_version(), edge.items()
    assert edge.run("ensure") == 0
    assert "nothing to change" in edge.out
    assert (edge.etag(), edge.secret_version(), edge.items()) == (etag, version, items)


def test_rotate_keeps_what_cloudfront_sends_accepted_at_every_step(edge: Edge) -> None:
    assert edge.run("ensure") == 0
    old, _ = edge.secret()
    moments: list[tuple[float, tuple[str, str], str | None]] = []

    def sleep(seconds: float) -> None:
        edge.assert_accepted()
        moments.append((seconds, edge.secret(), edge.sent()))

    assert edge.run("rotate", "--authorizer-cache-seconds", "7", "--propagation-seconds", "11", sleep=sleep) == 0
    new, previous = edge.secret()
    assert new != old and previous == ""
    assert edge.items() == {KEY: new}
    assert moments == [
        (7, (new, old), old),  # step 1 done: the authorizer accepts both, CloudFront still sends old
        (11, (new, old), new),  # step 2 done: CloudFront sends new, old still accepted
    ]
    assert "rotation complete" in edge.out


def test_rotate_no_finish_then_rotate_refuses_and_finish_completes(edge: Edge) -> None:
    assert edge.run("ensure") == 0
    old, _ = edge.secret()
    assert edge.run("rotate", "--no-finish", *NO_WAIT) == 0
    new, previous = edge.secret()
    assert previous == old and edge.sent() == new
    assert "run `finish`" in edge.out

    assert edge.run("rotate", *NO_WAIT) == 1
    assert edge.err.count("\n") == 1 and edge.err.startswith("error: rotate: ")
    assert "`finish`" in edge.err and "--force" in edge.err
    assert edge.secret() == (new, old)

    assert edge.run("status") == 0
    assert "rotation: in progress" in edge.out and "key-value store: holds current" in edge.out

    # The store changed moments ago: edge locations may still send old.
    assert edge.run("finish") == 1
    assert "finish in" in edge.err and edge.secret() == (new, old)
    later = lambda: datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=301)  # noqa: E731
    assert edge.run("finish", now=later) == 0
    assert edge.secret() == (new, "") and edge.sent() == new
    assert edge.run("finish") == 0 and "nothing to finish" in edge.out


def test_interrupted_rotation_resumes_with_force(edge: Edge) -> None:
    assert edge.run("ensure") == 0
    old, _ = edge.secret()

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        edge.run("rotate", *NO_WAIT, sleep=interrupt)
    edge.capsys.readouterr()
    new, previous = edge.secret()
    assert previous == old and edge.sent() == old  # stopped between steps 1 and 2
    edge.assert_accepted()
    edge.remember()

    assert edge.run("finish", "--propagation-seconds", "0") == 1
    assert "does not hold current" in edge.err and "rotate --force" in edge.err
    assert edge.run("status") == 0 and "holds previous" in edge.out
    assert edge.run("ensure") == 0 and "nothing to change" in edge.out and edge.sent() == old
    assert edge.run("rotate", *NO_WAIT) == 1 and "`finish`" in edge.err

    waits: list[float] = []

    def sleep(seconds: float) -> None:
        edge.assert_accepted()
        waits.append(seconds)

    assert edge.run("rotate", "--force", "--authorizer-cache-seconds", "3", "--propagation-seconds", "5", sleep=sleep) == 0
    assert waits == [3, 5]
    assert edge.secret() == (new, "") and edge.items() == {KEY: new}  # the interrupted rotation's token, no third one


def test_rotate_and_finish_refuse_before_ensure(edge: Edge) -> None:
    assert edge.run("status") == 0
    assert "has NO value" in edge.out and "does NOT hold" in edge.out
    assert edge.run("rotate", *NO_WAIT) == 1 and "run `ensure` first" in edge.err
    assert edge.run("finish") == 1 and "run `ensure` first" in edge.err
    assert edge.items() == {}


def test_ensure_repairs_a_store_that_lost_its_key(edge: Edge) -> None:
    assert edge.run("ensure") == 0
    current, _ = edge.secret()
    version = edge.secret_version()
    edge.keyvaluestore.delete_key(KvsARN=edge.kvs_arn, Key=KEY, IfMatch=edge.etag())
    assert edge.run("status") == 0 and "does NOT hold the key" in edge.out
    assert edge.run("rotate", *NO_WAIT) == 1 and "run `ensure` first" in edge.err
    assert edge.run("ensure") == 0 and "was missing the key" in edge.out
    assert edge.items() == {KEY: current} and edge.secret_version() == version

    edge.put(KEY, "something-else")
    assert edge.run("ensure") == 0 and "held another value" in edge.out
    assert edge.items() == {KEY: current}


class ConcurrentWriter:
    """The store's client, with someone else writing the store just before this tool's next `times` PutKeys."""

    def __init__(self, edge: Edge, times: int = 1):
        self.edge, self.times, self.puts = edge, times, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.edge.keyvaluestore, name)

    def put_key(self, **kwargs: Any) -> Any:
        self.puts += 1
        if self.puts <= self.times:
            self.edge.put(f"other-{self.puts}", "v")  # the ETag the tool read is now stale
        return self.edge.keyvaluestore.put_key(**kwargs)


def test_a_concurrent_store_change_is_retried_once(edge: Edge) -> None:
    writer = ConcurrentWriter(edge)
    assert edge.run("ensure", keyvaluestore=writer) == 0
    assert writer.puts == 2
    current, _ = edge.secret()
    assert edge.items() == {KEY: current, "other-1": "v"}
    assert "ConflictException" in edge.out


def test_a_second_conflict_fails_with_one_error_line(edge: Edge) -> None:
    assert edge.run("ensure", keyvaluestore=ConcurrentWriter(edge, times=2)) == 1
    assert edge.err.count("\n") == 1
    assert edge.err.startswith("error: ensure: AWS call failed:") and "PutKey" in edge.err and "ConflictException" in edge.err


def test_a_missing_secret_is_an_error_not_a_missing_value(edge: Edge) -> None:
    edge.secret_arn = edge.secret_arn.replace("origin-verify-", "no-such-secret-")
    assert edge.run("ensure") == 1
    assert edge.err.count("\n") == 1 and "DescribeSecret" in edge.err and "ResourceNotFoundException" in edge.err


def test_a_malformed_secret_is_left_alone(edge: Edge) -> None:
    edge.secretsmanager.put_secret_value(SecretId=edge.secret_arn, SecretString="not json")
    assert edge.run("ensure") == 1 and "refusing to touch it" in edge.err
    assert edge.secretsmanager.get_secret_value(SecretId=edge.secret_arn)["SecretString"] == "not json"
    assert edge.items() == {}


def test_tokens_come_from_secrets(edge: Edge, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def token_urlsafe(nbytes: int) -> str:
        calls.append(nbytes)
        return f"fixed-token-{len(calls)}"

    monkeypatch.setattr(origin_secret.secrets, "token_urlsafe", token_urlsafe)
    assert edge.run("ensure") == 0
    assert edge.run("rotate", *NO_WAIT) == 0
    assert calls == [48, 48] and edge.secret() == ("fixed-token-2", "")


def test_cli_with_the_sdks_own_clients(edge: Edge) -> None:
    """As an operator runs it: boto3's own clients (SigV4A through awscrt), the ARNs as options."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_") and key.lower() not in ("http_proxy", "no_proxy")}
    env.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_ENDPOINT_URL=edge.endpoint,
        HTTP_PROXY=edge.endpoint,  # the store's host is <account>.127.0.0.1 (see keyvaluestore_client)
    )
    command = [sys.executable, "-m", "tools.origin_secret"]
    arns = ["--secret-arn", edge.secret_arn, "--kvs-arn", edge.kvs_arn, "--region", REGION]
    seeded = subprocess.run([*command, "ensure", *arns], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert seeded.returncode == 0, seeded.stderr
    status = subprocess.run([*command, "status", *arns], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert status.returncode == 0, status.stderr
    current, _ = edge.secret()
    assert "key-value store: holds current" in status.stdout
    assert edge.items() == {KEY: current}
    assert current not in seeded.stdout + seeded.stderr + status.stdout + status.stderr
