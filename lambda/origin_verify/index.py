"""Refuse API Gateway requests that did not come through CloudFront (and its WAF).

CloudFront's viewer-request function sets ``x-origin-verify: <token>`` on every
origin request, overwriting any value the viewer sent; this REQUEST authorizer,
on the HTTP API's routes and the WebSocket API's ``$connect``, lets a request in
only when that header equals the token in the Secrets Manager secret
``SECRET_ARN``, whose SecretString is ``{"current": "<token>", "previous":
"<token or "">"}``. During a rotation both are accepted (an allow by
``previous`` is logged as such, so operators see when rotation is complete).
The token is never in Terraform state, and never logged here.

- The secret's JSON is cached ``SECRET_CACHE_SECONDS`` (60): one
  GetSecretValue per warm container per minute. A secret without a value
  (ResourceNotFoundException) or with malformed JSON accepts nothing (fail
  closed), logged once as an error. Any other Secrets Manager error raises:
  API Gateway answers 500, the request is refused, Lambda's error metric shows it.
- Comparison is ``hmac.compare_digest`` on bytes, against every candidate. A
  header sent twice reaches us comma-joined (HTTP API) or as two values
  (WebSocket ``multiValueHeaders``); both are compared as the joined string,
  which never equals a token: refused.
- With ``JWT_ISSUER`` set (Cognito SSO), an HTTP API request must also carry a
  valid Cognito JWT in ``authorization`` (an HTTP API route has one authorizer
  and this replaces the JWT authorizer it had). Checked as API Gateway's JWT
  authorizer does: RS256 against the issuer's JWKS, ``iss``, ``exp``/``nbf``/
  ``iat`` (60 s skew), and ``aud`` or ``client_id`` in ``JWT_AUDIENCE``. RSA
  PKCS#1 v1.5 is verified in pure Python (no crypto library in the runtime).
  The WebSocket ``$connect`` checks the origin header only.
- Any other event shape is refused.
- botocore's loggers are held at INFO or above whatever the log level: at
  DEBUG they print GetSecretValue's response body, the tokens included.

Responses: HTTP API payload 2.0 simple responses ``{"isAuthorized", "context"}``;
WebSocket an IAM policy on the event's ``methodArn``. One JSON log line per
decision: ``{"decision", "reason", "api", "requestId"}``.

COST, measured with time.perf_counter (CPython 3.11, 2-vCPU Xeon dev VM): a
cold import takes ~100-110 ms, of which ~100 ms is importing boto3 and ~2.5 ms
this module; the first request then makes the client (~40-60 ms) and calls
GetSecretValue once. A warm invocation takes ~10-20 µs on the header-only
path and ~0.2-0.3 ms with a 2048-bit RS256 JWT (its ``pow``), log line included.

Python 3.11+, boto3 and the standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import time
import urllib.request
from hmac import compare_digest
from typing import Any

import boto3
from botocore.exceptions import ClientError

logger = logging.getLogger("origin_verify")
logger.setLevel(os.environ.get("LOG_LEVEL", "INFO"))
for _name in ("botocore", "boto3"):  # botocore's DEBUG log prints response bodies: GetSecretValue's holds the tokens
    logging.getLogger(_name).setLevel(max(logging.INFO, logging.getLogger(_name).level))

SECRET_ARN = os.environ.get("SECRET_ARN", "")
HEADER_NAME = os.environ.get("HEADER_NAME", "x-origin-verify").lower()
SECRET_CACHE_SECONDS = float(os.environ.get("SECRET_CACHE_SECONDS", "60"))
JWT_ISSUER = os.environ.get("JWT_ISSUER", "")
JWT_AUDIENCE = frozenset(filter(None, (a.strip() for a in os.environ.get("JWT_AUDIENCE", "").split(","))))
JWKS_URL = f"{JWT_ISSUER}/.well-known/jwks.json"
JWKS_REFETCH_SECONDS = 300
CLOCK_SKEW_SECONDS = 60
PRINCIPAL_ID = "cloudfront-origin"
# DER DigestInfo prefix for SHA-256 (RFC 8017, section 9.2, note 1).
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")

if not SECRET_ARN:
    raise RuntimeError("SECRET_ARN is not set")
if JWT_ISSUER and (not JWT_ISSUER.startswith("https://") or not JWT_AUDIENCE):
    raise RuntimeError("JWT_ISSUER must be an https:// URL and needs a non-empty JWT_AUDIENCE")

_client: Any = None  # the Secrets Manager client, made on first use (no network at import)
_secret: tuple[float, tuple[bytes, ...]] | None = None  # (expires at, accepted tokens: current[, previous])
_unconfigured_reported = False
_jwks: dict[str, tuple[int, int]] = {}  # kid -> (n, e)
_jwks_fetched_at: float | None = None


class Refused(Exception):
    """A request this authorizer says no to; ``args[0]`` is the logged reason code."""


def _now() -> float:
    return time.time()


def _log(level: int, **fields: Any) -> None:
    logger.log(level, json.dumps(fields, sort_keys=True))


def _parse_secret(text: str | None) -> tuple[bytes, ...]:
    """The accepted tokens; () when there is no value or it is not the expected JSON."""
    try:
        value = json.loads(text) if text else None
    except ValueError:
        return ()
    if not isinstance(value, dict):
        return ()
    current, previous = value.get("current"), value.get("previous")
    previous = "" if previous is None else previous  # missing or null: no rotation under way
    if not isinstance(current, str) or not current or not isinstance(previous, str):
        return ()
    return (current.encode(), previous.encode()) if previous else (current.encode(),)


def _tokens() -> tuple[bytes, ...]:
    """The secret's accepted tokens, read at most once per SECRET_CACHE_SECONDS."""
    global _client, _secret, _unconfigured_reported
    now = _now()
    if _secret is not None and now < _secret[0]:
        return _secret[1]
    if _client is None:
        _client = boto3.client("secretsmanager", region_name=os.environ.get("AWS_REGION"))
    try:
        text = _client.get_secret_value(SecretId=SECRET_ARN).get("SecretString")
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            _log(logging.ERROR, error="secrets-manager-error", code=error.response.get("Error", {}).get("Code"), secret=SECRET_ARN)
            raise  # botocore's message names the operation and the error, never a secret value
        text = None
    tokens = _parse_secret(text)
    if not tokens and not _unconfigured_reported:
        _log(logging.ERROR, error="no-secret-configured", secret=SECRET_ARN,
             detail="no value" if text is None else "SecretString is not {\"current\": <non-empty>, \"previous\": <string>}")
    _unconfigured_reported = not tokens
    _secret = (now + SECRET_CACHE_SECONDS, tokens)
    return tokens


def _header(event: dict, name: str) -> str:
    """The header's value, looked up case-insensitively; several values come back comma-joined."""
    multi = event.get("multiValueHeaders") if isinstance(event.get("multiValueHeaders"), dict) else {}
    single = event.get("headers") if isinstance(event.get("headers"), dict) else {}
    values = [v for k, vs in multi.items() if str(k).lower() == name and isinstance(vs, list) for v in vs]
    values = values or [v for k, v in single.items() if str(k).lower() == name]
    return ",".join(v for v in values if isinstance(v, str))


def _check_origin(event: dict) -> str:
    """The allow reason (current-secret / previous-secret), or raise Refused."""
    given = _header(event, HEADER_NAME)
    if not given:
        raise Refused("missing-header")
    tokens = _tokens()
    if not tokens:
        raise Refused("no-secret-configured")
    matches = [compare_digest(given.encode(), token) for token in tokens]  # every candidate, no short cut
    if matches[0]:
        return "current-secret"
    if any(matches):
        return "previous-secret"
    raise Refused("wrong-secret")


def _fetch_jwks(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - https:// enforced at cold start
        return json.load(response)


def _key(kid: Any) -> tuple[int, int] | None:
    """The issuer's RSA key ``kid``; an unknown kid refetches the JWKS, at most once per JWKS_REFETCH_SECONDS."""
    global _jwks, _jwks_fetched_at
    if isinstance(kid, str) and kid in _jwks:
        return _jwks[kid]
    if _jwks_fetched_at is None or _now() - _jwks_fetched_at >= JWKS_REFETCH_SECONDS:
        document = _fetch_jwks(JWKS_URL)  # a failure raises (500) and is retried by the next request
        _jwks_fetched_at = _now()
        keys = document.get("keys") if isinstance(document, dict) else None
        _jwks = {}
        for jwk in keys if isinstance(keys, list) else []:
            try:
                if jwk["kty"] == "RSA" and jwk.get("alg", "RS256") == "RS256" and jwk.get("use", "sig") == "sig":
                    n, e = (int.from_bytes(_b64decode(jwk[x]), "big") for x in ("n", "e"))
                    if n.bit_length() >= 2048:
                        _jwks[jwk["kid"]] = (n, e)
            except (KeyError, TypeError, ValueError):
                continue  # a key we cannot use is no key
    return _jwks.get(kid) if isinstance(kid, str) else None


def _b64decode(segment: str) -> bytes:
    if not isinstance(segment, str) or not _B64URL.fullmatch(segment):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _rsa_sha256_verify(key: tuple[int, int], message: bytes, signature: bytes) -> bool:
    """RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017, 8.2.2): s^e mod n must be the encoded hash of the message."""
    n, e = key
    size = (n.bit_length() + 7) // 8
    if len(signature) != size or int.from_bytes(signature, "big") >= n:
        return False
    encoded = pow(int.from_bytes(signature, "big"), e, n).to_bytes(size, "big")
    digest_info = _SHA256_DIGEST_INFO + hashlib.sha256(message).digest()
    expected = b"\x00\x01" + b"\xff" * (size - len(digest_info) - 3) + b"\x00" + digest_info
    return compare_digest(encoded, expected)


def _is_time(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_jwt(event: dict) -> dict[str, str]:
    """The verified token's sub/username/email, or raise Refused("bad-jwt:<why>")."""
    token = _header(event, "authorization").strip()
    scheme, _, rest = token.partition(" ")
    if scheme.lower() == "bearer":
        token = rest.strip()
    if not token:
        raise Refused("bad-jwt:missing")
    parts = token.split(".")
    try:
        if len(parts) != 3:
            raise ValueError("not three segments")
        header, claims = (json.loads(_b64decode(part)) for part in parts[:2])
        signature = _b64decode(parts[2])
    except ValueError:  # JSON, base64 and UTF-8 errors alike
        raise Refused("bad-jwt:malformed") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise Refused("bad-jwt:malformed")
    if header.get("alg") != "RS256":
        raise Refused("bad-jwt:alg")
    key = _key(header.get("kid"))
    if key is None:
        raise Refused("bad-jwt:unknown-kid")
    if not _rsa_sha256_verify(key, f"{parts[0]}.{parts[1]}".encode(), signature):
        raise Refused("bad-jwt:signature")
    now = _now()
    if claims.get("iss") != JWT_ISSUER:
        raise Refused("bad-jwt:iss")
    if not _is_time(claims.get("exp")) or claims["exp"] <= now - CLOCK_SKEW_SECONDS:
        raise Refused("bad-jwt:expired")
    for claim in ("nbf", "iat"):
        if claim in claims and (not _is_time(claims[claim]) or claims[claim] > now + CLOCK_SKEW_SECONDS):
            raise Refused(f"bad-jwt:{claim}")
    audience = claims["aud"] if "aud" in claims else claims.get("client_id")
    audiences = audience if isinstance(audience, list) else [audience]
    if not any(isinstance(a, str) and a in JWT_AUDIENCE for a in audiences):
        raise Refused("bad-jwt:aud")
    context = {"sub": claims.get("sub"), "username": claims.get("username", claims.get("cognito:username")), "email": claims.get("email")}
    return {name: value for name, value in context.items() if isinstance(value, str)}


def _policy(effect: str, resource: str) -> dict[str, Any]:
    statement = {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}
    return {"principalId": PRINCIPAL_ID, "policyDocument": {"Version": "2012-10-17", "Statement": [statement]}}


def handler(event: Any, context: Any) -> dict[str, Any]:
    event = event if isinstance(event, dict) else {}
    request_context = event.get("requestContext") if isinstance(event.get("requestContext"), dict) else {}
    is_request = event.get("type") == "REQUEST"
    if is_request and event.get("version") == "2.0" and isinstance(event.get("routeArn"), str):
        kind, api = "http", event["routeArn"]
    elif is_request and isinstance(event.get("methodArn"), str) and request_context.get("eventType") == "CONNECT":
        kind, api = "websocket", event["methodArn"]
    else:
        kind, api = "unknown", event.get("routeArn") or event.get("methodArn")
    claims: dict[str, str] = {}
    try:
        if kind == "unknown":
            raise Refused("unknown-event")
        reason = _check_origin(event)
        if kind == "http" and JWT_ISSUER:
            claims = _check_jwt(event)
        allowed = True
    except Refused as refusal:
        reason, allowed = refusal.args[0], False
    _log(logging.INFO, decision="allow" if allowed else "deny", reason=reason, api=api, requestId=request_context.get("requestId"))
    if kind == "http":
        return {"isAuthorized": allowed, "context": claims}
    if kind == "websocket":
        return _policy("Allow" if allowed else "Deny", api)
    return {"isAuthorized": False, **_policy("Deny", "*")}  # whichever format the caller reads, it says no
