"""The harness's CloudFront KeyValueStore data-plane shim (tests/harness/moto_keyvaluestore.py) answers as AWS does.

The unit tests need no server: how the shim recognises a data-plane request,
and that boto3 signs one with SigV4A (awscrt installed). The others run one
moto server for the module and talk to it with boto3.
"""

from __future__ import annotations

import uuid
from typing import Any, Iterator

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.harness.moto_keyvaluestore import signing_service
from tests.harness.moto_server import MotoServer

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
ARN = "arn:aws:cloudfront::123456789012:key-value-store/0d3b0ea8-52b7-4c32-a0f4-1b1a2c3d4e5f"


def test_signing_service_of_sigv4_and_sigv4a() -> None:
    sigv4a = "AWS4-ECDSA-P256-SHA256 Credential=AKID/20240101/cloudfront-keyvaluestore/aws4_request, SignedHeaders=host, Signature=ab"
    sigv4 = "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=ab"
    assert signing_service({"HTTP_AUTHORIZATION": sigv4a}) == "cloudfront-keyvaluestore"
    assert signing_service({"HTTP_AUTHORIZATION": sigv4}) == "secretsmanager"
    assert signing_service({}) is None
    assert signing_service({"HTTP_AUTHORIZATION": "AWS AKID:signature"}) is None


def test_boto3_signs_the_data_plane_with_sigv4a() -> None:
    """awscrt is installed: the client signs (no MissingDependencyException), with SigV4A's global region set."""
    client = boto3.client("cloudfront-keyvaluestore", region_name=REGION, **CREDENTIALS)
    seen: dict[str, Any] = {}

    def capture(request: Any, **_: Any) -> AWSResponse:
        seen.update(url=request.url, headers=dict(request.headers))
        return AWSResponse(request.url, 200, {"ETag": "KV1"}, None)  # type: ignore[arg-type]

    client.meta.events.register("before-send.cloudfront-keyvaluestore.DescribeKeyValueStore", capture)
    with pytest.raises(Exception):  # the empty stand-in response does not parse; the request is what counts
        client.describe_key_value_store(KvsARN=ARN)
    authorization = seen["headers"]["Authorization"]
    authorization = authorization.decode() if isinstance(authorization, bytes) else authorization
    assert authorization.startswith("AWS4-ECDSA-P256-SHA256 Credential=testing/")
    assert "/cloudfront-keyvaluestore/aws4_request" in authorization
    region_set = seen["headers"]["X-Amz-Region-Set"]
    assert (region_set.decode() if isinstance(region_set, bytes) else region_set) == "*"
    assert seen["url"].startswith("https://123456789012.cloudfront-kvs.global.api.aws/key-value-stores/")


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with MotoServer(tmp_path_factory.mktemp("moto-keyvaluestore")) as server:
        yield server.endpoint


@pytest.fixture
def kvs(endpoint: str) -> Any:
    return boto3.client(
        "cloudfront-keyvaluestore", region_name=REGION, endpoint_url=endpoint, config=Config(proxies={"http": endpoint}), **CREDENTIALS
    )


@pytest.fixture
def store(endpoint: str) -> str:
    cloudfront = boto3.client("cloudfront", region_name=REGION, endpoint_url=endpoint, **CREDENTIALS)
    return cloudfront.create_key_value_store(Name=f"kvs-{uuid.uuid4().hex[:8]}")["KeyValueStore"]["ARN"]


def error(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    return raised.value.response["Error"]["Code"], raised.value.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.mark.terraform
@pytest.mark.emulated
@pytest.mark.xdist_group("emulated-keyvaluestore")
def test_put_key_with_a_stale_if_match_is_a_conflict(kvs: Any, store: str) -> None:
    stale = kvs.describe_key_value_store(KvsARN=store)["ETag"]
    fresh = kvs.put_key(KvsARN=store, Key="a", Value="1", IfMatch=stale)["ETag"]
    assert fresh != stale
    with pytest.raises(kvs.exceptions.ConflictException) as raised:
        kvs.put_key(KvsARN=store, Key="a", Value="2", IfMatch=stale)
    assert error(raised) == ("ConflictException", 409)
    with pytest.raises(kvs.exceptions.ConflictException):
        kvs.delete_key(KvsARN=store, Key="a", IfMatch=stale)
    with pytest.raises(kvs.exceptions.ConflictException):
        kvs.update_keys(KvsARN=store, IfMatch=stale, Puts=[{"Key": "b", "Value": "2"}])
    assert kvs.get_key(KvsARN=store, Key="a")["Value"] == "1"
    assert kvs.describe_key_value_store(KvsARN=store)["ETag"] == fresh


@pytest.mark.terraform
@pytest.mark.emulated
@pytest.mark.xdist_group("emulated-keyvaluestore")
def test_reads_and_writes_as_the_service_model_says(kvs: Any, store: str) -> None:
    described = kvs.describe_key_value_store(KvsARN=store)
    assert (described["KvsARN"], described["ItemCount"], described["TotalSizeInBytes"], described["Status"]) == (store, 0, 0, "READY")
    assert described["Created"] <= described["LastModified"]
    put = kvs.put_key(KvsARN=store, Key="key", Value="value", IfMatch=described["ETag"])
    assert (put["ItemCount"], put["TotalSizeInBytes"]) == (1, 8)
    got = kvs.get_key(KvsARN=store, Key="key")
    assert (got["Key"], got["Value"], got["ItemCount"], got["TotalSizeInBytes"]) == ("key", "value", 1, 8)
    updated = kvs.update_keys(
        KvsARN=store, IfMatch=put["ETag"], Puts=[{"Key": f"k{i:02}", "Value": str(i)} for i in range(12)], Deletes=[{"Key": "key"}]
    )
    assert updated["ItemCount"] == 12 and updated["ETag"] != put["ETag"]
    pages = list(kvs.get_paginator("list_keys").paginate(KvsARN=store, PaginationConfig={"PageSize": 5}))
    assert [len(page["Items"]) for page in pages] == [5, 5, 2]
    assert [item["Key"] for page in pages for item in page["Items"]] == [f"k{i:02}" for i in range(12)]
    deleted = kvs.delete_key(KvsARN=store, Key="k00", IfMatch=updated["ETag"])
    assert deleted["ItemCount"] == 11 and deleted["ETag"] == kvs.describe_key_value_store(KvsARN=store)["ETag"]


@pytest.mark.terraform
@pytest.mark.emulated
@pytest.mark.xdist_group("emulated-keyvaluestore")
def test_missing_keys_and_stores_are_not_found(kvs: Any, store: str) -> None:
    with pytest.raises(kvs.exceptions.ResourceNotFoundException) as raised:
        kvs.get_key(KvsARN=store, Key="missing")
    assert error(raised) == ("ResourceNotFoundException", 404)
    etag = kvs.describe_key_value_store(KvsARN=store)["ETag"]
    with pytest.raises(kvs.exceptions.ResourceNotFoundException):
        kvs.delete_key(KvsARN=store, Key="missing", IfMatch=etag)
    assert kvs.describe_key_value_store(KvsARN=store)["ETag"] == etag  # a refused write changes nothing
    with pytest.raises(kvs.exceptions.ResourceNotFoundException):
        kvs.describe_key_value_store(KvsARN=ARN)  # never created in moto's cloudfront backend
    with pytest.raises(kvs.exceptions.ResourceNotFoundException):
        kvs.put_key(KvsARN=ARN, Key="a", Value="1", IfMatch="KV1")


@pytest.mark.terraform
@pytest.mark.emulated
@pytest.mark.xdist_group("emulated-keyvaluestore")
def test_other_services_still_reach_moto(endpoint: str, kvs: Any, store: str) -> None:
    """The shim takes only requests signed for cloudfront-keyvaluestore."""
    cloudfront = boto3.client("cloudfront", region_name=REGION, endpoint_url=endpoint, **CREDENTIALS)
    names = [item["ARN"] for item in cloudfront.list_key_value_stores()["KeyValueStoreList"].get("Items", [])]
    assert store in names
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=endpoint, **CREDENTIALS)
    s3.create_bucket(Bucket=f"kvs-{uuid.uuid4().hex[:8]}")
