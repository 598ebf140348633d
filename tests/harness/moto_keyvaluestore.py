"""The CloudFront KeyValueStore data plane for the harness's moto server.

A shim of its own module (tests/harness/moto_server.py registers it with
`shim(...)`); what it covers is in `cloudfront_keyvaluestore_data_plane`'s
docstring.

How a data-plane request from boto3 gets here. The service's endpoint rules
put the store's account in front of the configured endpoint's host
(`endpoint_url=http://127.0.0.1:N` becomes `http://123456789012.127.0.0.1:N`,
as `https://123456789012.cloudfront-kvs.global.api.aws` on AWS), a name
nothing resolves; a client that reaches the server through it as an HTTP
proxy (`Config(proxies={"http": endpoint})`, or `HTTP_PROXY` for a CLI) sends
the request to the server with the absolute URL as its target, which
werkzeug turns into the usual path. The request is signed with SigV4A, whose
credential scope has no region (`AKID/20240101/cloudfront-keyvaluestore/
aws4_request`): moto's dispatcher cannot parse that scope and hands the
request to S3, its default. The shim therefore wraps the dispatcher and serves
every request signed for `cloudfront-keyvaluestore` itself, before moto's
dispatch, routing on the method and the path
`/key-value-stores/{KvsARN}[/keys[/{Key}]]` (both labels percent-encoded by
botocore, decoded segment by segment here).
"""

from __future__ import annotations

import datetime
import json
import threading
import uuid
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, unquote, urlsplit

SIGNING_NAME = "cloudfront-keyvaluestore"
# CloudFront KeyValueStore quotas: a value of at most 1 KB, a store of at most 5 MB.
MAX_VALUE_BYTES = 1024
MAX_STORE_BYTES = 5 * 1024 * 1024
DEFAULT_PAGE, MAX_PAGE = 10, 50

_LOCK = threading.Lock()
_STATUS = {200: "200 OK", 400: "400 Bad Request", 402: "402 Payment Required", 404: "404 Not Found", 409: "409 Conflict"}


class KvsError(Exception):
    """An error the service answers with: rest-json shape, status from the service model."""

    STATUS = {"ValidationException": 400, "ServiceQuotaExceededException": 402, "ResourceNotFoundException": 404, "ConflictException": 409}

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def signing_service(environ: dict[str, Any]) -> str | None:
    """The service of a SigV4 or SigV4A Authorization header's credential scope."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    marker = "Credential="
    if marker not in auth:
        return None
    scope = auth.split(marker, 1)[1].split(",", 1)[0].strip().split("/")
    # SigV4: AKID/date/region/service/aws4_request; SigV4A: AKID/date/service/aws4_request.
    return scope[-2] if len(scope) >= 4 else None


def _new_etag() -> str:
    return "KV" + uuid.uuid4().hex[:13].upper()


def _size(items: dict[str, str]) -> int:
    return sum(len(k.encode()) + len(v.encode()) for k, v in items.items())


def _store(arn: str) -> Any:
    """moto's KeyValueStore with this ARN (its control plane made it), else ResourceNotFoundException."""
    from moto.cloudfront.models import cloudfront_backends

    parts = arn.split(":")
    if len(parts) < 6 or parts[2] != "cloudfront" or not parts[5].startswith("key-value-store/"):
        raise KvsError("ValidationException", f"KvsARN {arn} is not a CloudFront KeyValueStore ARN")
    account = parts[4]
    if account in cloudfront_backends:
        for store in cloudfront_backends[account]["global"].key_value_stores.values():
            if store.arn == arn:
                return store
    raise KvsError("ResourceNotFoundException", f"Key Value Store {arn} was not found")


def _data(store: Any) -> dict[str, Any]:
    """The store's keys and data-plane version, kept on moto's model (so `/moto-api/reset` clears it).
    The data-plane ETag is not the control plane's (UpdateKeyValueStore's IfMatch)."""
    created = store.last_modified_time
    return store.__dict__.setdefault(
        "shim_data", {"items": {}, "etag": _new_etag(), "created": created, "last_modified": created}
    )


def _timestamp(value: Any) -> float:
    """Epoch seconds (rest-json's default); moto's times are naive UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.timestamp()


def _write(store: Any, if_match: str | None, change: Callable[[dict[str, str]], None]) -> dict[str, Any]:
    """Apply `change` to a copy of the items when If-Match is the current ETag; a new ETag after."""
    from moto.core.utils import utcnow

    data = _data(store)
    if not if_match:
        raise KvsError("ValidationException", "If-Match header is required")
    if if_match != data["etag"]:
        raise KvsError("ConflictException", "Pre-Condition failed: the ETag does not match the Key Value Store's current version")
    items = dict(data["items"])
    change(items)
    if _size(items) > MAX_STORE_BYTES:
        raise KvsError("ServiceQuotaExceededException", f"the Key Value Store would exceed {MAX_STORE_BYTES} bytes")
    data.update(items=items, etag=_new_etag(), last_modified=utcnow())
    return {"ItemCount": len(items), "TotalSizeInBytes": _size(items)}


def _put(items: dict[str, str], key: Any, value: Any) -> None:
    if not isinstance(key, str) or not 1 <= len(key) <= 1024:
        raise KvsError("ValidationException", "Key must be a string of 1 to 1024 characters")
    if not isinstance(value, str):
        raise KvsError("ValidationException", "Value is required")
    if len(value.encode()) > MAX_VALUE_BYTES:
        raise KvsError("ValidationException", f"Value must be at most {MAX_VALUE_BYTES} bytes")
    items[key] = value


def handle(method: str, segments: list[str], query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> tuple[dict[str, Any], dict[str, str]]:
    """(JSON body, extra headers) of one data-plane operation; raises KvsError."""
    if len(segments) < 2 or segments[0] != "key-value-stores" or (len(segments) > 2 and segments[2] != "keys") or len(segments) > 4:
        raise KvsError("ValidationException", f"no CloudFront KeyValueStore operation at /{'/'.join(segments)}")
    with _LOCK:
        store = _store(segments[1])
        data = _data(store)
        if len(segments) == 2 and method == "GET":  # DescribeKeyValueStore
            body_out = {
                "ItemCount": len(data["items"]),
                "TotalSizeInBytes": _size(data["items"]),
                "KvsARN": store.arn,
                "Created": _timestamp(data["created"]),
                "LastModified": _timestamp(data["last_modified"]),
                "Status": store.status,
            }
            return body_out, {"ETag": data["etag"]}
        if len(segments) == 3 and method == "GET":  # ListKeys
            try:
                limit = int(query.get("MaxResults", [DEFAULT_PAGE])[0])
            except ValueError:
                raise KvsError("ValidationException", "MaxResults must be a number") from None
            if not 1 <= limit <= MAX_PAGE:
                raise KvsError("ValidationException", f"MaxResults must be between 1 and {MAX_PAGE}")
            keys = sorted(data["items"])
            start = query.get("NextToken", [None])[0]
            if start is not None:
                if start not in keys:
                    raise KvsError("ValidationException", "NextToken is not valid")
                keys = keys[keys.index(start):]
            page, rest = keys[:limit], keys[limit:]
            out: dict[str, Any] = {"Items": [{"Key": k, "Value": data["items"][k]} for k in page]}
            if rest:
                out["NextToken"] = rest[0]
            return out, {}
        if len(segments) == 3 and method == "POST":  # UpdateKeys
            request = json.loads(body or b"{}")
            puts, deletes = request.get("Puts") or [], request.get("Deletes") or []

            def update(items: dict[str, str]) -> None:
                for item in deletes:
                    if item.get("Key") not in items:
                        raise KvsError("ValidationException", f"Key {item.get('Key')!r} to delete is not in the Key Value Store")
                    del items[item["Key"]]
                for item in puts:
                    _put(items, item.get("Key"), item.get("Value"))

            out = _write(store, headers.get("if-match"), update)
            return out, {"ETag": data["etag"]}
        if len(segments) == 4:
            key = segments[3]
            if method == "GET":  # GetKey
                if key not in data["items"]:
                    raise KvsError("ResourceNotFoundException", f"Key {key} was not found in {store.arn}")
                return {"Key": key, "Value": data["items"][key], "ItemCount": len(data["items"]), "TotalSizeInBytes": _size(data["items"])}, {}
            if method == "PUT":  # PutKey
                value = json.loads(body or b"{}").get("Value")
                out = _write(store, headers.get("if-match"), lambda items: _put(items, key, value))
                return out, {"ETag": data["etag"]}
            if method == "DELETE":  # DeleteKey

                def delete(items: dict[str, str]) -> None:
                    if key not in items:
                        raise KvsError("ResourceNotFoundException", f"Key {key} was not found in {store.arn}")
                    del items[key]

                out = _write(store, headers.get("if-match"), delete)
                return out, {"ETag": data["etag"]}
        raise KvsError("ValidationException", f"no CloudFront KeyValueStore operation {method} /{'/'.join(segments)}")


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """A WSGI app for the data plane (the rest-json protocol of the service model)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")
    # Through a proxy the target is the absolute URL; either way, the encoded path.
    split = urlsplit(raw)
    segments = [unquote(part) for part in split.path.split("/")[1:]]
    if segments and segments[-1] == "":
        segments.pop()
    headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")}
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    try:
        payload, extra = handle(environ["REQUEST_METHOD"], segments, parse_qs(split.query), headers, body)
        status = 200
    except KvsError as error:
        status = KvsError.STATUS[error.code]
        payload, extra = {"Message": error.message}, {"x-amzn-ErrorType": error.code}
    except json.JSONDecodeError:
        status = 400
        payload, extra = {"Message": "the request body is not JSON"}, {"x-amzn-ErrorType": "ValidationException"}
    out = json.dumps(payload).encode()
    start_response(
        _STATUS[status],
        [("Content-Type", "application/json"), ("Content-Length", str(len(out))), ("x-amzn-RequestId", str(uuid.uuid4())), *extra.items()],
    )
    return [out]


def cloudfront_keyvaluestore_data_plane() -> None:
    """Gap: moto has CloudFront KeyValueStores' control plane (CreateKeyValueStore
    and the rest, in its cloudfront backend) but not their data plane, the
    `cloudfront-keyvaluestore` API (DescribeKeyValueStore, GetKey, ListKeys,
    PutKey, DeleteKey, UpdateKeys) that tools/origin_secret.py writes the origin
    token with: its SigV4A-signed requests reach moto's S3 backend. Serve it
    as AWS does: keys per store ARN, for stores moto's cloudfront backend
    holds (else ResourceNotFoundException); a data-plane ETag that every write
    changes; PutKey, DeleteKey and UpdateKeys only with `If-Match` equal to
    the current ETag (else 409 ConflictException); GetKey of a missing key
    ResourceNotFoundException; the responses shaped as botocore's service
    model says (ETag in a header, timestamps as epoch seconds, errors in
    x-amzn-ErrorType)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication as D

    dispatch = D.__call__

    def __call__(self: D, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if signing_service(environ) == SIGNING_NAME:
            return application(environ, start_response)
        return dispatch(self, environ, start_response)

    D.__call__ = __call__
