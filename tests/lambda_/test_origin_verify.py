"""lambda/origin_verify: only requests that carry CloudFront's secret header (and, with Cognito SSO, a valid JWT) get in.

Secrets Manager is moto's, in process (real GetSecretValue calls); the JWTs
are signed with a key made here by ``cryptography`` (test-only: the function
itself verifies RS256 with the standard library), and the JWKS is served by
replacing the function's ``_fetch_jwks``, so no test touches the network.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import importlib.util
import itertools
import json
import logging
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from moto import mock_aws

SOURCE = Path(__file__).resolve().parents[2] / "lambda" / "origin_verify" / "index.py"
REGION = "us-east-1"
HTTP_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default/GET/items"
WS_ARN = "arn:aws:execute-api:us-east-1:123456789012:wsapi12345/prod/$connect"
CURRENT = "cur-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
PREVIOUS = "prev-0a1b2c3d4e5f60718293a4b5c6d7e8f9"
ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example"
CLIENT_ID = "3n4b5urk1ft4fl3mg5e62d9ado"
KID = "key-1"
NOW = 1_750_000_000.0
_module_names = itertools.count()


# ---------------------------------------------------------------------------
# Fixtures and helpers
# ---------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch):
    """An empty secret (no version yet) in moto; ``put(current, previous)`` gives it a value."""
    for name, value in {"AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("secretsmanager", region_name=REGION)
        arn = client.create_secret(Name="circle-of-trust/origin-verify")["ARN"]

        class Secret:
            def put(self, current: str = CURRENT, previous: str = "") -> None:
                self.put_string(json.dumps({"current": current, "previous": previous}))

            def put_string(self, text: str) -> None:
                client.put_secret_value(SecretId=arn, SecretString=text)

        Secret.arn, Secret.client = arn, client
        yield Secret()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def load(monkeypatch: pytest.MonkeyPatch, clock: Clock | None = None, **environment: str | None) -> ModuleType:
    """A cold start: a fresh copy of the module, imported with this environment (``lambda`` is a keyword: load by path)."""
    for name in ("SECRET_ARN", "HEADER_NAME", "SECRET_CACHE_SECONDS", "JWT_ISSUER", "JWT_AUDIENCE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        if value is not None:
            monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location(f"origin_verify_{next(_module_names)}", SOURCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if clock is not None:
        monkeypatch.setattr(module, "_now", clock)
    return module


@pytest.fixture
def function(monkeypatch: pytest.MonkeyPatch, secret, clock: Clock) -> ModuleType:
    return load(monkeypatch, clock, SECRET_ARN=secret.arn)


def http_event(headers: dict[str, str] | None = None, request_id: str = "req-http-1") -> dict[str, Any]:
    """An HTTP API payload 2.0 REQUEST authorizer event (header names lower-cased, as API Gateway sends them)."""
    event: dict[str, Any] = {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": HTTP_ARN,
        "identitySource": list((headers or {}).values()),
        "routeKey": "GET /items",
        "rawPath": "/items",
        "rawQueryString": "",
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef123",
            "domainName": "abcdef123.execute-api.us-east-1.amazonaws.com",
            "http": {"method": "GET", "path": "/items", "protocol": "HTTP/1.1", "sourceIp": "130.176.0.1"},
            "requestId": request_id,
            "routeKey": "GET /items",
            "stage": "$default",
        },
    }
    if headers is not None:
        event["headers"] = headers
    return event


def ws_event(headers: dict[str, str] | None = None, multi: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """A WebSocket $connect REQUEST authorizer event (header names as the client sent them)."""
    headers = {"Host": "wsapi12345.execute-api.us-east-1.amazonaws.com", "Upgrade": "websocket", **(headers or {})}
    return {
        "type": "REQUEST",
        "methodArn": WS_ARN,
        "headers": headers,
        "multiValueHeaders": multi if multi is not None else {name: [value] for name, value in headers.items()},
        "queryStringParameters": {},
        "stageVariables": {},
        "requestContext": {
            "routeKey": "$connect",
            "eventType": "CONNECT",
            "extendedRequestId": "ext-1",
            "requestTime": "09/Jun/2025:10:00:00 +0000",
            "messageDirection": "IN",
            "stage": "prod",
            "connectedAt": 1749463200000,
            "requestTimeEpoch": 1749463200000,
            "requestId": "req-ws-1",
            "domainName": "wsapi12345.execute-api.us-east-1.amazonaws.com",
            "connectionId": "Zx1yAbCdIAMCJ-A=",
            "apiId": "wsapi12345",
        },
    }


def origin(value: str = CURRENT) -> dict[str, str]:
    return {"x-origin-verify": value}


def policy(effect: str, resource: str = WS_ARN) -> dict[str, Any]:
    return {
        "principalId": "cloudfront-origin",
        "policyDocument": {"Version": "2012-10-17", "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}]},
    }


def decisions(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    lines = [json.loads(record.getMessage()) for record in caplog.records if record.name == "origin_verify"]
    return [line for line in lines if "decision" in line]


def count_get_secret_value(monkeypatch: pytest.MonkeyPatch, module: ModuleType) -> dict[str, int]:
    """Counts the Secrets Manager clients the module makes and the GetSecretValue calls they send."""
    counts = {"clients": 0, "calls": 0}
    make = boto3.client

    def client(*args: Any, **kwargs: Any) -> Any:
        counts["clients"] += 1
        made = make(*args, **kwargs)
        made.meta.events.register("before-call.secrets-manager.GetSecretValue", lambda **_: counts.__setitem__("calls", counts["calls"] + 1))
        return made

    monkeypatch.setattr(module.boto3, "client", client)
    return counts


# ---------------------------------------------------------------------------
# The origin header, HTTP API
# ---------------------------------------------------------------------------


def test_cold_start_makes_no_client_and_no_call(monkeypatch, secret, clock):
    module = load(monkeypatch, clock, SECRET_ARN=secret.arn)
    assert module._client is None and module._secret is None


def test_secret_arn_is_required(monkeypatch, secret):
    with pytest.raises(RuntimeError, match="SECRET_ARN"):
        load(monkeypatch)


@pytest.mark.parametrize("issuer, audience", [("http://cognito.example", CLIENT_ID), (ISSUER, None), (ISSUER, " , ")])
def test_jwt_settings_are_checked_at_cold_start(monkeypatch, secret, issuer, audience):
    with pytest.raises(RuntimeError, match="JWT_ISSUER"):
        load(monkeypatch, SECRET_ARN=secret.arn, JWT_ISSUER=issuer, JWT_AUDIENCE=audience)


def test_current_secret_is_allowed(function, secret, caplog):
    secret.put()
    caplog.set_level(logging.INFO, logger="origin_verify")
    assert function.handler(http_event(origin()), None) == {"isAuthorized": True, "context": {}}
    assert decisions(caplog) == [{"decision": "allow", "reason": "current-secret", "api": HTTP_ARN, "requestId": "req-http-1"}]


def test_previous_secret_is_allowed_during_a_rotation_and_logged_as_such(function, secret, caplog):
    secret.put(CURRENT, PREVIOUS)
    caplog.set_level(logging.INFO, logger="origin_verify")
    assert function.handler(http_event(origin(PREVIOUS)), None)["isAuthorized"] is True
    assert function.handler(http_event(origin(CURRENT)), None)["isAuthorized"] is True
    assert [line["reason"] for line in decisions(caplog)] == ["previous-secret", "current-secret"]


def test_previous_secret_is_refused_once_rotation_is_complete(function, secret, clock):
    secret.put(CURRENT, PREVIOUS)
    assert function.handler(http_event(origin(PREVIOUS)), None)["isAuthorized"] is True
    secret.put(CURRENT, "")
    clock.now += 61
    assert function.handler(http_event(origin(PREVIOUS)), None)["isAuthorized"] is False


@pytest.mark.parametrize(
    "headers, reason",
    [
        (None, "missing-header"),
        ({}, "missing-header"),
        ({"x-origin-verify": ""}, "missing-header"),
        ({"x-other": CURRENT}, "missing-header"),
        ({"x-origin-verify": "wrong"}, "wrong-secret"),
        ({"x-origin-verify": CURRENT[:-1]}, "wrong-secret"),
        ({"x-origin-verify": CURRENT + "x"}, "wrong-secret"),
        ({"x-origin-verify": f"viewer-value,{CURRENT}"}, "wrong-secret"),
        ({"x-origin-verify": f"{CURRENT},{CURRENT}"}, "wrong-secret"),
        ({"x-origin-verify": PREVIOUS}, "wrong-secret"),
    ],
    ids=["no-headers", "empty-headers", "empty-value", "other-header", "wrong", "prefix", "longer", "comma-joined", "twice", "previous-without-rotation"],
)
def test_refused(function, secret, caplog, headers, reason):
    secret.put(CURRENT, "")  # previous is "" outside a rotation: an empty header must not match it
    caplog.set_level(logging.INFO, logger="origin_verify")
    assert function.handler(http_event(headers), None) == {"isAuthorized": False, "context": {}}
    assert decisions(caplog) == [{"decision": "deny", "reason": reason, "api": HTTP_ARN, "requestId": "req-http-1"}]


def test_header_name_is_configurable(monkeypatch, secret, clock):
    secret.put()
    module = load(monkeypatch, clock, SECRET_ARN=secret.arn, HEADER_NAME="X-CF-Secret")
    assert module.handler(http_event({"x-cf-secret": CURRENT}), None)["isAuthorized"] is True
    assert module.handler(http_event(origin()), None)["isAuthorized"] is False


def test_a_secret_without_a_value_refuses_everything_and_is_reported_once(function, secret, clock, caplog):
    caplog.set_level(logging.INFO, logger="origin_verify")
    assert function.handler(http_event(origin()), None)["isAuthorized"] is False
    clock.now += 61  # refetched: still no value, not reported again
    assert function.handler(http_event(origin("")), None)["isAuthorized"] is False
    assert function.handler(http_event(origin()), None)["isAuthorized"] is False
    assert [line["reason"] for line in decisions(caplog)] == ["no-secret-configured", "missing-header", "no-secret-configured"]
    errors = [json.loads(r.getMessage()) for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == [{"error": "no-secret-configured", "secret": secret.arn, "detail": "no value"}]
    secret.put()
    clock.now += 61
    assert function.handler(http_event(origin()), None)["isAuthorized"] is True


@pytest.mark.parametrize(
    "text",
    ["not json", "[]", '"a string"', "{}", '{"current": ""}', '{"current": 42}', json.dumps({"current": CURRENT, "previous": 5}),
     json.dumps({"current": CURRENT, "previous": 0})],
)
def test_a_malformed_secret_refuses_everything(function, secret, caplog, text):
    secret.put_string(text)
    caplog.set_level(logging.INFO, logger="origin_verify")
    assert function.handler(http_event(origin()), None)["isAuthorized"] is False
    assert [line["reason"] for line in decisions(caplog)] == ["no-secret-configured"]
    assert any(r.levelno == logging.ERROR and "no-secret-configured" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("text", [json.dumps({"current": CURRENT}), json.dumps({"current": CURRENT, "previous": None})])
def test_missing_or_null_previous_means_no_rotation(monkeypatch, function, secret, text):
    secret.put_string(text)
    calls = spy_on_compare(monkeypatch, function)
    assert function.handler(http_event(origin()), None)["isAuthorized"] is True
    assert calls == [(CURRENT.encode(), CURRENT.encode())]


def test_other_secrets_manager_errors_raise_without_the_secret(function, secret, caplog):
    secret.put()
    secret.client.delete_secret(SecretId=secret.arn)  # GetSecretValue now answers InvalidRequestException
    with pytest.raises(ClientError) as raised:
        function.handler(http_event(origin()), None)
    assert raised.value.response["Error"]["Code"] == "InvalidRequestException"
    assert CURRENT not in str(raised.value)


# ---------------------------------------------------------------------------
# The secret cache
# ---------------------------------------------------------------------------


def test_secret_is_read_once_per_cache_period(monkeypatch, function, secret, clock):
    secret.put(CURRENT)
    counts = count_get_secret_value(monkeypatch, function)
    for _ in range(5):
        assert function.handler(http_event(origin()), None)["isAuthorized"] is True
    assert counts == {"clients": 1, "calls": 1}

    secret.put("rotated-token", CURRENT)
    clock.now += 59
    assert function.handler(http_event(origin("rotated-token")), None)["isAuthorized"] is False  # still cached
    assert counts["calls"] == 1
    clock.now += 1
    assert function.handler(http_event(origin("rotated-token")), None)["isAuthorized"] is True
    assert function.handler(http_event(origin(CURRENT)), None)["isAuthorized"] is True  # now the previous one
    assert counts == {"clients": 1, "calls": 2}


def test_cache_period_is_configurable(monkeypatch, secret, clock):
    secret.put()
    module = load(monkeypatch, clock, SECRET_ARN=secret.arn, SECRET_CACHE_SECONDS="5")
    counts = count_get_secret_value(monkeypatch, module)
    module.handler(http_event(origin()), None)
    clock.now += 5
    module.handler(http_event(origin()), None)
    assert counts["calls"] == 2


def test_a_missing_header_does_not_read_the_secret(monkeypatch, function, secret):
    counts = count_get_secret_value(monkeypatch, function)
    function.handler(http_event({}), None)
    assert counts == {"clients": 0, "calls": 0}


# ---------------------------------------------------------------------------
# Constant-time comparison
# ---------------------------------------------------------------------------


def spy_on_compare(monkeypatch: pytest.MonkeyPatch, module: ModuleType, answer: Callable[[bytes, bytes], bool] | None = None) -> list[tuple[bytes, bytes]]:
    calls: list[tuple[bytes, bytes]] = []

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return hmac.compare_digest(a, b) if answer is None else answer(a, b)

    monkeypatch.setattr(module, "compare_digest", spy)
    return calls


def test_every_candidate_is_compared_with_compare_digest(monkeypatch, function, secret):
    secret.put(CURRENT, PREVIOUS)
    calls = spy_on_compare(monkeypatch, function)
    assert function.handler(http_event(origin(CURRENT)), None)["isAuthorized"] is True
    assert calls == [(CURRENT.encode(), CURRENT.encode()), (CURRENT.encode(), PREVIOUS.encode())]  # no early exit on a match
    calls.clear()
    assert function.handler(http_event(origin("short")), None)["isAuthorized"] is False
    assert calls == [(b"short", CURRENT.encode()), (b"short", PREVIOUS.encode())]  # no short cut on length


def test_an_empty_previous_is_no_candidate(monkeypatch, function, secret):
    secret.put(CURRENT, "")
    calls = spy_on_compare(monkeypatch, function)
    assert function.handler(http_event(origin("wrong")), None)["isAuthorized"] is False
    assert calls == [(b"wrong", CURRENT.encode())]


def test_compare_digest_alone_decides(monkeypatch, function, secret):
    secret.put(CURRENT)
    spy_on_compare(monkeypatch, function, lambda a, b: True)
    assert function.handler(http_event(origin("anything")), None)["isAuthorized"] is True
    spy_on_compare(monkeypatch, function, lambda a, b: False)
    assert function.handler(http_event(origin(CURRENT)), None)["isAuthorized"] is False


# ---------------------------------------------------------------------------
# WebSocket $connect
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["X-Origin-Verify", "x-origin-verify", "X-ORIGIN-VERIFY"])
def test_websocket_allowed_with_the_header_in_any_case(function, secret, caplog, name):
    secret.put()
    caplog.set_level(logging.INFO, logger="origin_verify")
    assert function.handler(ws_event({name: CURRENT}), None) == policy("Allow")
    assert decisions(caplog) == [{"decision": "allow", "reason": "current-secret", "api": WS_ARN, "requestId": "req-ws-1"}]


def test_websocket_reads_headers_when_there_are_no_multi_value_headers(function, secret):
    secret.put()
    event = ws_event({"X-Origin-Verify": CURRENT})
    del event["multiValueHeaders"]
    assert function.handler(event, None) == policy("Allow")


@pytest.mark.parametrize(
    "headers, multi",
    [
        ({}, None),
        ({"X-Origin-Verify": "wrong"}, None),
        ({"X-Origin-Verify": ""}, None),
        ({"X-Origin-Verify": CURRENT}, {"X-Origin-Verify": ["viewer-value", CURRENT]}),  # sent twice: headers holds the last
        ({"x-origin-verify": CURRENT}, {"X-Origin-Verify": ["viewer-value"], "x-origin-verify": [CURRENT]}),
    ],
    ids=["missing", "wrong", "empty", "sent-twice", "two-spellings"],
)
def test_websocket_denied(function, secret, headers, multi):
    secret.put()
    assert function.handler(ws_event(headers, multi), None) == policy("Deny")


def test_websocket_needs_no_jwt_when_sso_is_on(monkeypatch, secret, clock):
    secret.put()
    module = load(monkeypatch, clock, SECRET_ARN=secret.arn, JWT_ISSUER=ISSUER, JWT_AUDIENCE=CLIENT_ID)
    monkeypatch.setattr(module, "_fetch_jwks", lambda url: pytest.fail("the WebSocket path fetched the JWKS"))
    assert module.handler(ws_event({"X-Origin-Verify": CURRENT}), None) == policy("Allow")


# ---------------------------------------------------------------------------
# Unknown events
# ---------------------------------------------------------------------------


def rest_event() -> dict[str, Any]:
    return {"type": "REQUEST", "methodArn": "arn:aws:execute-api:us-east-1:123456789012:rest/prod/GET/items", "headers": origin()}


def ws_message_event() -> dict[str, Any]:
    event = ws_event({"X-Origin-Verify": CURRENT})
    event["requestContext"]["eventType"] = "MESSAGE"
    return event


def http_v1_event() -> dict[str, Any]:
    return {**http_event(origin()), "version": "1.0"}


def token_event() -> dict[str, Any]:
    return {"type": "TOKEN", "authorizationToken": CURRENT, "methodArn": WS_ARN}


@pytest.mark.parametrize("make", [lambda: None, lambda: "text", dict, rest_event, ws_message_event, http_v1_event, token_event])
def test_unknown_events_are_refused(function, secret, caplog, make):
    secret.put()
    caplog.set_level(logging.INFO, logger="origin_verify")
    assert function.handler(make(), None) == {"isAuthorized": False, **policy("Deny", "*")}
    assert [line["reason"] for line in decisions(caplog)] == ["unknown-event"]


# ---------------------------------------------------------------------------
# Cognito JWTs (JWT_ISSUER set)
# ---------------------------------------------------------------------------


@functools.cache
def rsa_key(name: str) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwk(kid: str, key: rsa.RSAPrivateKey) -> dict[str, str]:
    numbers = key.public_key().public_numbers()
    as_bytes = lambda value: value.to_bytes((value.bit_length() + 7) // 8, "big")  # noqa: E731
    return {"alg": "RS256", "e": b64url(as_bytes(numbers.e)), "kid": kid, "kty": "RSA", "n": b64url(as_bytes(numbers.n)), "use": "sig"}


def id_claims(**overrides: Any) -> dict[str, Any]:
    claims = {
        "sub": "5b6c7d8e-aaaa-bbbb-cccc-0123456789ab",
        "aud": CLIENT_ID,
        "cognito:username": "alice",
        "email": "alice@example.com",
        "email_verified": True,
        "iss": ISSUER,
        "token_use": "id",
        "auth_time": int(NOW) - 100,
        "iat": int(NOW) - 100,
        "exp": int(NOW) + 3500,
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def access_claims(**overrides: Any) -> dict[str, Any]:
    claims = {
        "sub": "5b6c7d8e-aaaa-bbbb-cccc-0123456789ab",
        "client_id": CLIENT_ID,
        "username": "alice",
        "iss": ISSUER,
        "token_use": "access",
        "scope": "openid email",
        "iat": int(NOW) - 100,
        "exp": int(NOW) + 3500,
    }
    claims.update(overrides)
    return claims


def sign(claims: dict[str, Any], *, kid: str = KID, key_name: str = KID, alg: str = "RS256") -> str:
    signing_input = f"{b64url(json.dumps({'kid': kid, 'alg': alg}).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = rsa_key(key_name).sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


class Jwks:
    """Stands in for the issuer's JWKS endpoint: records each URL fetched."""

    def __init__(self, *kids: str) -> None:
        self.kids = list(kids)
        self.urls: list[str] = []

    def __call__(self, url: str) -> dict[str, Any]:
        self.urls.append(url)
        return {"keys": [jwk(kid, rsa_key(kid)) for kid in self.kids]}


@pytest.fixture
def jwks() -> Jwks:
    return Jwks(KID)


@pytest.fixture
def sso(monkeypatch, secret, clock, jwks) -> ModuleType:
    secret.put()
    module = load(monkeypatch, clock, SECRET_ARN=secret.arn, JWT_ISSUER=ISSUER, JWT_AUDIENCE=f"other-client, {CLIENT_ID}")
    monkeypatch.setattr(module, "_fetch_jwks", jwks)
    return module


def with_jwt(token: str, secret_value: str = CURRENT) -> dict[str, Any]:
    return http_event({"x-origin-verify": secret_value, "authorization": token})


@pytest.mark.parametrize("prefix", ["", "Bearer ", "bearer "])
def test_secret_and_valid_id_token_are_allowed(sso, jwks, caplog, prefix):
    caplog.set_level(logging.INFO, logger="origin_verify")
    response = sso.handler(with_jwt(prefix + sign(id_claims())), None)
    assert response == {"isAuthorized": True, "context": {"sub": "5b6c7d8e-aaaa-bbbb-cccc-0123456789ab", "username": "alice", "email": "alice@example.com"}}
    assert jwks.urls == [f"{ISSUER}/.well-known/jwks.json"]
    assert decisions(caplog)[0]["decision"] == "allow"


def test_access_token_with_client_id_is_allowed(sso):
    response = sso.handler(with_jwt(sign(access_claims())), None)
    assert response == {"isAuthorized": True, "context": {"sub": "5b6c7d8e-aaaa-bbbb-cccc-0123456789ab", "username": "alice"}}


def test_aud_as_a_list_is_allowed(sso):
    assert sso.handler(with_jwt(sign(id_claims(aud=["someone-else", CLIENT_ID]))), None)["isAuthorized"] is True


def test_jwks_is_cached(sso, jwks, clock):
    for _ in range(3):
        assert sso.handler(with_jwt(sign(id_claims())), None)["isAuthorized"] is True
    clock.now += 3600
    assert sso.handler(with_jwt(sign(id_claims(iat=int(clock.now), exp=int(clock.now) + 60))), None)["isAuthorized"] is True
    assert len(jwks.urls) == 1


def test_the_secret_is_still_required_with_a_valid_token(sso, caplog):
    caplog.set_level(logging.INFO, logger="origin_verify")
    assert sso.handler(http_event({"authorization": sign(id_claims())}), None)["isAuthorized"] is False
    assert sso.handler(with_jwt(sign(id_claims()), "wrong"), None)["isAuthorized"] is False
    assert [line["reason"] for line in decisions(caplog)] == ["missing-header", "wrong-secret"]


def hs256_with_public_key() -> str:
    """The classic confusion attack: HS256, keyed with the RSA public key's PEM."""
    pem = rsa_key(KID).public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = f"{b64url(json.dumps({'kid': KID, 'alg': 'HS256'}).encode())}.{b64url(json.dumps(id_claims()).encode())}"
    return f"{signing_input}.{b64url(hmac.new(pem, signing_input.encode(), hashlib.sha256).digest())}"


def alg_none() -> str:
    return f"{b64url(json.dumps({'kid': KID, 'alg': 'none'}).encode())}.{b64url(json.dumps(id_claims()).encode())}."


def tampered_payload() -> str:
    header, _, signature = sign(id_claims()).split(".")
    return f"{header}.{b64url(json.dumps(id_claims(sub='mallory')).encode())}.{signature}"


def short_signature() -> str:
    header, payload, signature = sign(id_claims()).split(".")
    return f"{header}.{payload}.{b64url(base64.urlsafe_b64decode(signature + '==')[1:])}"


def zero_padded_signature() -> str:
    header, payload, signature = sign(id_claims()).split(".")
    padded = bytes(1) + base64.urlsafe_b64decode(signature + "==")  # one byte longer than the modulus, same value
    return f"{header}.{payload}.{b64url(padded)}"


def raw_rsa_signature(encode: Callable[[bytes, int], bytes]) -> str:
    """A token whose signature is the key's own RSA operation on an encoded message of the test's making."""
    header, payload, _ = sign(id_claims()).split(".")
    numbers = rsa_key(KID).private_numbers()
    n, d = numbers.public_numbers.n, numbers.d
    size = (n.bit_length() + 7) // 8
    message = encode(hashlib.sha256(f"{header}.{payload}".encode()).digest(), size)
    return f"{header}.{payload}.{b64url(pow(int.from_bytes(message, 'big'), d, n).to_bytes(size, 'big'))}"


SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def hash_without_digest_info() -> str:
    return raw_rsa_signature(lambda digest, size: b"\x00\x01" + b"\xff" * (size - len(digest) - 3) + b"\x00" + digest)


def block_type_2_padding() -> str:
    def encode(digest: bytes, size: int) -> bytes:
        t = SHA256_DIGEST_INFO + digest
        return b"\x00\x02" + b"\xff" * (size - len(t) - 3) + b"\x00" + t
    return raw_rsa_signature(encode)


def correct_encoding_by_hand() -> str:
    """The control for the two above: the same construction, correctly padded, must verify."""
    def encode(digest: bytes, size: int) -> bytes:
        t = SHA256_DIGEST_INFO + digest
        return b"\x00\x01" + b"\xff" * (size - len(t) - 3) + b"\x00" + t
    return raw_rsa_signature(encode)


def signed_by_an_unpublished_key_under_a_published_kid() -> str:
    return sign(id_claims(), kid=KID, key_name="attacker")


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda: "", "bad-jwt:missing"),
        (lambda: "Bearer ", "bad-jwt:missing"),
        (lambda: "not-a-jwt", "bad-jwt:malformed"),
        (lambda: "a.b.c", "bad-jwt:malformed"),
        (lambda: sign(id_claims()) + ".extra", "bad-jwt:malformed"),
        (lambda: sign(id_claims(exp=int(NOW) - 61)), "bad-jwt:expired"),
        (lambda: sign(id_claims(exp=None)), "bad-jwt:expired"),
        (lambda: sign(id_claims(exp="9999999999")), "bad-jwt:expired"),
        (lambda: sign(id_claims(nbf=int(NOW) + 61)), "bad-jwt:nbf"),
        (lambda: sign(id_claims(iat=int(NOW) + 61)), "bad-jwt:iat"),
        (lambda: sign(id_claims(iss=ISSUER + "/")), "bad-jwt:iss"),
        (lambda: sign(id_claims(iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other")), "bad-jwt:iss"),
        (lambda: sign(id_claims(aud="someone-else")), "bad-jwt:aud"),
        (lambda: sign(id_claims(aud=None)), "bad-jwt:aud"),
        (lambda: sign(id_claims(aud="someone-else", client_id=CLIENT_ID)), "bad-jwt:aud"),  # aud, when present, decides
        (lambda: sign(id_claims(aud=[], client_id=CLIENT_ID)), "bad-jwt:aud"),
        (lambda: sign(id_claims(aud="", client_id=CLIENT_ID)), "bad-jwt:aud"),
        (lambda: sign(access_claims(client_id="someone-else")), "bad-jwt:aud"),
        (lambda: sign(id_claims(), alg="RS512"), "bad-jwt:alg"),
        (alg_none, "bad-jwt:alg"),
        (hs256_with_public_key, "bad-jwt:alg"),
        (tampered_payload, "bad-jwt:signature"),
        (short_signature, "bad-jwt:signature"),
        (zero_padded_signature, "bad-jwt:signature"),
        (signed_by_an_unpublished_key_under_a_published_kid, "bad-jwt:signature"),
        (hash_without_digest_info, "bad-jwt:signature"),
        (block_type_2_padding, "bad-jwt:signature"),
    ],
    ids=lambda value: value if isinstance(value, str) else getattr(value, "__name__", None),
)
def test_bad_tokens_are_refused(sso, caplog, make, reason):
    caplog.set_level(logging.INFO, logger="origin_verify")
    assert sso.handler(with_jwt(make()), None) == {"isAuthorized": False, "context": {}}
    assert [line["reason"] for line in decisions(caplog)] == [reason]


def test_no_authorization_header_is_refused(sso, caplog):
    caplog.set_level(logging.INFO, logger="origin_verify")
    assert sso.handler(http_event(origin()), None)["isAuthorized"] is False
    assert [line["reason"] for line in decisions(caplog)] == ["bad-jwt:missing"]


def test_a_hand_made_pkcs1_encoding_verifies(sso):
    assert sso.handler(with_jwt(correct_encoding_by_hand()), None)["isAuthorized"] is True


def test_clock_skew_of_up_to_60_seconds_is_allowed(sso):
    token = sign(id_claims(exp=int(NOW) - 59, nbf=int(NOW) + 59, iat=int(NOW) + 59))
    assert sso.handler(with_jwt(token), None)["isAuthorized"] is True


def test_unknown_kid_refetches_at_most_once_per_five_minutes(sso, jwks, clock, caplog):
    caplog.set_level(logging.INFO, logger="origin_verify")
    assert sso.handler(with_jwt(sign(id_claims())), None)["isAuthorized"] is True
    assert len(jwks.urls) == 1

    new = sign(id_claims(), kid="key-2", key_name="key-2")
    assert sso.handler(with_jwt(new), None)["isAuthorized"] is False  # fetched 0 s ago: not again
    assert len(jwks.urls) == 1

    clock.now += 300
    assert sso.handler(with_jwt(new), None)["isAuthorized"] is False  # refetched once, still unknown
    assert sso.handler(with_jwt(new), None)["isAuthorized"] is False
    assert len(jwks.urls) == 2
    assert [line["reason"] for line in decisions(caplog)][1:] == ["bad-jwt:unknown-kid"] * 3

    jwks.kids.append("key-2")  # the issuer publishes its new key
    clock.now += 299
    token = sign(id_claims(iat=int(clock.now), exp=int(clock.now) + 600), kid="key-2", key_name="key-2")
    assert sso.handler(with_jwt(token), None)["isAuthorized"] is False
    clock.now += 1
    assert sso.handler(with_jwt(token), None)["isAuthorized"] is True
    assert sso.handler(with_jwt(sign(id_claims(iat=int(clock.now), exp=int(clock.now) + 600))), None)["isAuthorized"] is True
    assert jwks.urls == [f"{ISSUER}/.well-known/jwks.json"] * 3


def test_unusable_keys_in_the_jwks_are_ignored(monkeypatch, sso):
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    document = {"keys": [jwk("small", small), {**jwk("enc", rsa_key("enc")), "use": "enc"}, {"kid": "junk", "kty": "RSA", "n": "!!", "e": "AQAB"},
                         {"kid": "ec", "kty": "EC"}, "not-a-key", jwk(KID, rsa_key(KID))]}
    monkeypatch.setattr(sso, "_fetch_jwks", lambda url: document)
    assert sso.handler(with_jwt(sign(id_claims())), None)["isAuthorized"] is True
    assert set(sso._jwks) == {KID}


def test_a_failed_jwks_fetch_raises_and_is_retried(monkeypatch, sso, jwks):
    def unreachable(url: str) -> Any:
        raise OSError("connection timed out")

    monkeypatch.setattr(sso, "_fetch_jwks", unreachable)
    with pytest.raises(OSError):
        sso.handler(with_jwt(sign(id_claims())), None)
    monkeypatch.setattr(sso, "_fetch_jwks", jwks)
    assert sso.handler(with_jwt(sign(id_claims())), None)["isAuthorized"] is True


def test_context_values_are_strings_only(sso):
    token = sign(id_claims(email=None, **{"cognito:username": 7}))
    assert sso.handler(with_jwt(token), None)["context"] == {"sub": "5b6c7d8e-aaaa-bbbb-cccc-0123456789ab"}


# ---------------------------------------------------------------------------
# Nothing secret in the logs
# ---------------------------------------------------------------------------


def test_no_secret_header_value_or_token_is_ever_logged(monkeypatch, sso, secret, clock, caplog):
    caplog.set_level(logging.DEBUG)
    valid = sign(id_claims())
    sent = ["viewer-guess-123", f"viewer-guess-123,{CURRENT}", valid, tampered_payload(), hs256_with_public_key()]
    secret.put(CURRENT, PREVIOUS)
    clock.now += 61
    sso.handler(with_jwt(valid), None)                         # allow, current
    sso.handler(with_jwt(valid, PREVIOUS), None)               # allow, previous
    sso.handler(with_jwt(valid, sent[0]), None)                # deny, wrong secret
    sso.handler(with_jwt(valid, sent[1]), None)                # deny, comma-joined
    sso.handler(with_jwt(sent[3]), None)                       # deny, bad signature
    sso.handler(with_jwt(sent[4]), None)                       # deny, alg
    sso.handler(ws_event({"X-Origin-Verify": CURRENT}), None)  # allow, websocket
    sso.handler(ws_event({"X-Origin-Verify": sent[0]}), None)  # deny, websocket
    secret.put_string("{not json " + CURRENT)
    clock.now += 61
    sso.handler(with_jwt(valid), None)                         # deny, malformed secret (error logged)
    secret.client.delete_secret(SecretId=secret.arn)
    clock.now += 61
    with pytest.raises(ClientError):
        sso.handler(with_jwt(valid), None)                     # Secrets Manager error (error logged)

    logged = "\n".join(record.getMessage() + str(record.args or "") + str(record.exc_text or "") for record in caplog.records)
    assert len(decisions(caplog)) == 9
    for value in (CURRENT, PREVIOUS, *sent, valid.split(".")[2]):
        assert value not in logged
