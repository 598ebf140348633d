"""Seed and rotate the origin-verify token, outside Terraform.

    python -m tools.origin_secret status --secret-arn S --kvs-arn K [--region R] [--role-arn ROTATOR]
    python -m tools.origin_secret ensure --secret-arn S --kvs-arn K          # first deploy, and repair
    python -m tools.origin_secret rotate --secret-arn S --kvs-arn K [--no-finish] [--force]
    python -m tools.origin_secret finish --secret-arn S --kvs-arn K          # step 3 of a --no-finish rotation

Why a tool: CloudFront's viewer-request function reads the token from a
CloudFront KeyValueStore (key ``x-origin-verify``) and sends it to API Gateway
as the ``x-origin-verify`` header; the origin-verify Lambda authorizer compares
it with a Secrets Manager secret ``{"current": <token>, "previous": <token or
"">}`` (both accepted). Terraform creates the secret without a version and the
store empty, so the token is never in Terraform state or in the repository:
this tool generates it (``secrets.token_urlsafe``) and writes both stores. It
never prints a token. The secret's policy lets only the authorizer and the
rotator role (``--role-arn``, output ``origin_secret_rotator_role_arn``) read
it, so run the tool with ``--role-arn``. The ARNs are outputs of the environment's edge layer
(``python -m tools.outputs <environment> origin_verify_secret_arn`` and
``origin_verify_key_value_store_arn``).

``rotate`` changes the token without refusing a request that came through
CloudFront, in three steps:

1. the secret becomes ``{"current": new, "previous": old}``: the authorizer
   accepts both (each warm authorizer within its 60 s secret cache, hence
   the wait of ``--authorizer-cache-seconds``);
2. the store's key becomes ``new``: CloudFront sends it as the edge locations
   pick it up, while some still send ``old``, and API Gateway keeps caching
   an authorizer result per header value for up to 300 s (hence the wait of
   ``--propagation-seconds``);
3. the secret becomes ``{"current": new, "previous": ""}``: ``old`` is refused.

At every moment the authorizer accepts what CloudFront sends. A rotation
stopped between the steps (``--no-finish``, or an interruption) leaves
``previous`` set; ``rotate`` then refuses, naming ``finish`` (step 3, once
the store holds ``current`` and has not changed for ``--propagation-seconds``)
and ``rotate --force`` (resume the stopped rotation from where it stopped: it
never starts a new token over an unfinished one, which could refuse the token
some edge locations still send), so two rotations never overlap.

The store's writes take its ETag (DescribeKeyValueStore) as ``If-Match``;
a ConflictException (someone else wrote the store meanwhile) is retried once
with a fresh ETag. The store's data-plane API is signed with SigV4A, which
botocore needs ``awscrt`` for (in the Pipfile).

Exit status: 0 when done (or nothing to do), 1 with one ``error:`` line on
stderr for a refusal or an AWS error.
"""

from __future__ import annotations

import argparse
import datetime
import json
import secrets
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from botocore.exceptions import BotoCoreError, ClientError

KEY = "x-origin-verify"
AUTHORIZER_CACHE_SECONDS = 60.0
PROPAGATION_SECONDS = 300.0
TOKEN_BYTES = 48


class OriginSecretError(Exception):
    """A refusal, or an AWS call that failed; the message names which."""


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


@dataclass(frozen=True)
class Secret:
    current: str | None  # None: the secret has no value yet
    previous: str = ""

    @property
    def has_value(self) -> bool:
        return self.current is not None

    @property
    def rotating(self) -> bool:
        return bool(self.previous)


@dataclass(frozen=True)
class StoreKey:
    value: str | None  # None: the key is missing
    etag: str
    last_modified: datetime.datetime | None


def _error_code(error: ClientError) -> str | None:
    return error.response.get("Error", {}).get("Code")


class Stores:
    """The secret and the key-value store, read and written with boto3 clients."""

    def __init__(self, secretsmanager: Any, keyvaluestore: Any, secret_arn: str, kvs_arn: str):
        self.secretsmanager, self.keyvaluestore = secretsmanager, keyvaluestore
        self.secret_arn, self.kvs_arn = secret_arn, kvs_arn

    def read_secret(self) -> Secret:
        self.secretsmanager.describe_secret(SecretId=self.secret_arn)  # a missing secret fails here, not as "no value"
        try:
            text = self.secretsmanager.get_secret_value(SecretId=self.secret_arn).get("SecretString")
        except ClientError as error:  # only "no value yet" is expected
            if _error_code(error) == "ResourceNotFoundException":
                return Secret(None)
            raise
        try:
            value = json.loads(text or "")
        except ValueError:
            value = None
        if (
            not isinstance(value, dict)
            or not isinstance(value.get("current"), str)
            or not value["current"]
            or not isinstance(value.get("previous") or "", str)
        ):
            raise OriginSecretError(
                f'secret {self.secret_arn} holds a value that is not {{"current": <token>, "previous": <token or "">}}: '
                "refusing to touch it (the authorizer refuses every request until it is fixed)"
            )
        return Secret(value["current"], value.get("previous") or "")  # as the authorizer reads it

    def write_secret(self, current: str, previous: str) -> None:
        self.secretsmanager.put_secret_value(
            SecretId=self.secret_arn, SecretString=json.dumps({"current": current, "previous": previous})
        )

    def read_store(self) -> StoreKey:
        described = self.keyvaluestore.describe_key_value_store(KvsARN=self.kvs_arn)
        try:
            value = self.keyvaluestore.get_key(KvsARN=self.kvs_arn, Key=KEY)["Value"]
        except ClientError as error:  # only a missing key is expected
            if _error_code(error) != "ResourceNotFoundException":
                raise
            value = None
        return StoreKey(value, described["ETag"], described.get("LastModified"))

    def put_store(self, value: str) -> None:
        """PutKey with the store's current ETag; on a conflict, once more with a fresh one."""
        for attempt in (1, 2):
            etag = self.keyvaluestore.describe_key_value_store(KvsARN=self.kvs_arn)["ETag"]
            try:
                self.keyvaluestore.put_key(KvsARN=self.kvs_arn, Key=KEY, Value=value, IfMatch=etag)
                return
            except ClientError as error:
                if _error_code(error) != "ConflictException" or attempt == 2:
                    raise
                print("key-value store: changed by someone else meanwhile (ConflictException); retrying with its new ETag")


class OriginSecret:
    """The commands. ``sleep`` and ``now`` (UTC) are injectable for tests."""

    def __init__(
        self,
        stores: Stores,
        *,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime.datetime] = _utcnow,
        token: Callable[[], str] = new_token,
    ):
        self.stores, self.sleep, self.now, self.token = stores, sleep, now, token

    def _wait(self, seconds: float, why: str) -> None:
        print(f"waiting {seconds:g}s: {why}", flush=True)
        self.sleep(seconds)

    def _expect(self, current: str, previous: str, before: str) -> None:
        """Refuse to go on when someone else changed the secret since this command wrote it."""
        secret = self.stores.read_secret()
        if (secret.current, secret.previous) != (current, previous):
            raise OriginSecretError(f"the secret changed under this rotation (another rotate/ensure?) before {before}: stopping; run `status`")

    def status(self) -> None:
        secret, store = self.stores.read_secret(), self.stores.read_store()
        print(f"secret: {'has a value' if secret.has_value else 'has NO value (every API request is refused): run ensure'}")
        if secret.has_value:
            print(f"rotation: {'in progress (previous is set): finish it, see rotate --help' if secret.rotating else 'none in progress'}")
        if store.value is None:
            held = "does NOT hold the key"
        elif secret.has_value and store.value == secret.current:
            held = "holds current"
        elif secret.rotating and store.value == secret.previous:
            held = "holds previous (rotation step 2 not done: rotate --force resumes it)"
        else:
            held = "holds a value the secret does not have (every API request is refused): run ensure"
        print(f"key-value store: {held} ({KEY})")

    def ensure(self) -> None:
        secret = self.stores.read_secret()
        if not secret.has_value:
            token = self.token()
            self.stores.write_secret(token, "")
            print("secret: had no value; stored a new token as current")
            self.stores.put_store(token)
            print(f"key-value store: put current under {KEY}")
            return
        store = self.stores.read_store()
        if store.value == secret.current:
            print("nothing to change: the secret has a value and the key-value store holds current")
        elif secret.rotating and store.value == secret.previous:
            print("nothing to change: a rotation is in progress and the key-value store holds previous; `rotate --force` resumes it")
        else:
            self.stores.put_store(secret.current)
            print(f"key-value store: {'was missing the key' if store.value is None else 'held another value'}; put current under {KEY}")

    def rotate(self, *, authorizer_cache_seconds: float, propagation_seconds: float, finish: bool = True, force: bool = False) -> None:
        secret = self.stores.read_secret()
        if not secret.has_value:
            raise OriginSecretError("the secret has no value yet: run `ensure` first")
        store = self.stores.read_store()
        if secret.rotating:
            if not force:
                raise OriginSecretError(
                    "a rotation is already in progress (the secret's previous is set): run `finish` once the key-value store "
                    "holds current (see `status`), or `rotate --force` to resume it"
                )
            print("resuming the rotation in progress (no new token)")
            new, old = secret.current, secret.previous
            if store.value != new:
                self._wait(authorizer_cache_seconds, "every warm authorizer reads the secret again (its secret cache)")
        else:
            if store.value != secret.current:
                raise OriginSecretError("the key-value store does not hold the secret's current token: run `ensure` first")
            new, old = self.token(), secret.current
            self.stores.write_secret(new, old)
            self._expect(new, old, "step 2")
            print("step 1/3: secret holds a new current token and the old one as previous (the authorizer accepts both)")
            self._wait(authorizer_cache_seconds, "every warm authorizer reads the secret again (its secret cache)")
        self._expect(new, old, "step 2")
        if self.stores.read_store().value != new:
            self.stores.put_store(new)
        print("step 2/3: key-value store holds current (CloudFront sends the new token as the edge locations get it)")
        if not finish:
            print(f"stopped before step 3 (--no-finish): run `finish` in {propagation_seconds:g}s or later")
            return
        self._wait(propagation_seconds, "the key-value store reaches every edge location, API Gateway's cached authorizer results expire")
        self._expect(new, old, "step 3")
        self.stores.write_secret(new, "")
        print("step 3/3: secret previous cleared; rotation complete (the old token is refused)")

    def finish(self, *, propagation_seconds: float) -> None:
        secret = self.stores.read_secret()
        if not secret.has_value:
            raise OriginSecretError("the secret has no value yet: run `ensure` first")
        if not secret.rotating:
            print("nothing to finish: no rotation in progress")
            return
        store = self.stores.read_store()
        if store.value != secret.current:
            raise OriginSecretError(
                "the key-value store does not hold current yet (rotation step 2 not done): `rotate --force` resumes the rotation"
            )
        if store.last_modified is not None:
            age = (self.now() - store.last_modified).total_seconds()
            if age < propagation_seconds:
                raise OriginSecretError(
                    f"the key-value store changed {age:.0f}s ago: finish in {propagation_seconds - age:.0f}s "
                    f"(edge locations and API Gateway's authorizer cache may still use previous; --propagation-seconds)"
                )
        self.stores.write_secret(secret.current, "")
        print("step 3/3: secret previous cleared; rotation complete (the old token is refused)")


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--secret-arn", required=True, help="the edge layer's origin_verify_secret_arn output")
    common.add_argument("--kvs-arn", required=True, help="the edge layer's origin_verify_key_value_store_arn output")
    common.add_argument("--region", help="the secret's AWS region (default: the AWS SDK's, e.g. AWS_REGION)")
    common.add_argument(
        "--role-arn",
        help="assume this role first: the edge layer's origin_secret_rotator_role_arn output, the one principal besides the "
        "authorizer that the secret's policy lets read the token",
    )
    parser = argparse.ArgumentParser(prog="python -m tools.origin_secret", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("status", parents=[common], help="whether the secret has a value, a rotation is in progress, the store holds current")
    commands.add_parser("ensure", parents=[common], help="seed both stores (first deploy), or put current back into the store")
    rotate = commands.add_parser("rotate", parents=[common], help="zero-downtime rotation to a new token (three steps)")
    rotate.add_argument(
        "--authorizer-cache-seconds", type=float, default=AUTHORIZER_CACHE_SECONDS,
        help="wait after step 1: the authorizer's secret cache (default %(default)g)",
    )
    rotate.add_argument(
        "--no-finish", dest="finish", action="store_false", help="stop after step 2; `finish` does step 3 later",
    )
    rotate.add_argument("--force", action="store_true", help="resume a rotation in progress instead of refusing")
    finish = commands.add_parser("finish", parents=[common], help="step 3 of a rotation: clear previous")
    for command in (rotate, finish):
        command.add_argument(
            "--propagation-seconds", type=float, default=PROPAGATION_SECONDS,
            help="wait after step 2: store propagation plus API Gateway's authorizer result cache (default %(default)g)",
        )
    return parser.parse_args(argv)


def main(
    argv: Sequence[str] | None = None,
    *,
    secretsmanager: Any = None,
    keyvaluestore: Any = None,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime.datetime] = _utcnow,
) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if secretsmanager is None or keyvaluestore is None:
            import boto3

            session = boto3.Session(region_name=args.region)
            if args.role_arn:
                credentials = session.client("sts").assume_role(RoleArn=args.role_arn, RoleSessionName="origin-secret")["Credentials"]
                session = boto3.Session(
                    region_name=args.region,
                    aws_access_key_id=credentials["AccessKeyId"],
                    aws_secret_access_key=credentials["SecretAccessKey"],
                    aws_session_token=credentials["SessionToken"],
                )
            secretsmanager = secretsmanager or session.client("secretsmanager")
            keyvaluestore = keyvaluestore or session.client("cloudfront-keyvaluestore")
        tool = OriginSecret(Stores(secretsmanager, keyvaluestore, args.secret_arn, args.kvs_arn), sleep=sleep, now=now)
        if args.command == "status":
            tool.status()
        elif args.command == "ensure":
            tool.ensure()
        elif args.command == "rotate":
            tool.rotate(
                authorizer_cache_seconds=args.authorizer_cache_seconds,
                propagation_seconds=args.propagation_seconds,
                finish=args.finish,
                force=args.force,
            )
        else:
            tool.finish(propagation_seconds=args.propagation_seconds)
    except OriginSecretError as error:
        print(f"error: {args.command}: {error}", file=sys.stderr)
        return 1
    except (ClientError, BotoCoreError) as error:
        # botocore's messages name the operation and the error, never a request's values.
        print(f"error: {args.command}: AWS call failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
