"""S3 over real HTTP with unmodified boto3: how it signs payloads, path- and virtual-hosted-style addressing,
and S3's answers (errors, ranges, conditional reads, listings, copies, tags, metadata, awkward keys) as
botocore reads them off the wire."""

from __future__ import annotations

import base64
import email.header
import hashlib
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.exceptions
import pytest
from awscli_support import Principal, client_error, management_admin, member_account, policy
from e2e_support import LiveServer, live_server
from s3_e2e_support import (
    Keys,
    keys_of,
    record_requests,
    s3_client,
    s3_error,
    send_signed,
    signed_request,
    virtual_client,
)

BUCKET = "wire-bucket"
ALPHABET = b"abcdefghijklmnopqrstuvwxyz"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("s3wire") / "data") as running:
        s3_client(running).create_bucket(Bucket=BUCKET)
        yield running


@pytest.fixture(scope="module")
def s3(server: LiveServer) -> Any:
    return s3_client(server)


@pytest.fixture(scope="module")
def other_account(server: LiveServer) -> Principal:
    """The administrator of a second account in the organization."""
    return member_account(management_admin(server), "other")


def crc32_header(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


# -- payload signing ---------------------------------------------------------------------------------------


def test_put_object_as_boto3_sends_it_signed_payload_with_crc32(server: LiveServer) -> None:
    client = s3_client(server)
    wire = record_requests(client)
    body = b"signed payload " * 1000
    put = client.put_object(Bucket=BUCKET, Key="signed.bin", Body=body)
    (_method, _host, path, _query, headers) = wire.requests[-1]
    assert path == f"/{BUCKET}/signed.bin"
    assert headers["x-amz-content-sha256"] == hashlib.sha256(body).hexdigest()
    assert headers["x-amz-checksum-crc32"] == crc32_header(body)
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert client.get_object(Bucket=BUCKET, Key="signed.bin")["Body"].read() == body


def test_a_crc32_that_does_not_match_the_body_is_bad_digest(s3: Any) -> None:
    wrong = crc32_header(b"something else")
    assert client_error(s3.put_object, Bucket=BUCKET, Key="bad-crc.bin", Body=b"payload", ChecksumCRC32=wrong) == (
        "BadDigest",
        "The CRC32 you specified did not match the calculated checksum.",
        400,
    )
    assert client_error(s3.head_object, Bucket=BUCKET, Key="bad-crc.bin")[2] == 404


def test_a_body_changed_after_signing_is_an_x_amz_content_sha256_mismatch(server: LiveServer) -> None:
    client = s3_client(server, request_checksum_calculation="when_required")

    def swap_body(request: Any, **_: Any) -> None:
        request.body = b"tampered"

    client.meta.events.register_first("before-send.s3", swap_body)
    code, message, status = client_error(client.put_object, Bucket=BUCKET, Key="swapped.bin", Body=b"original")
    assert (code, message, status) == (
        "XAmzContentSHA256Mismatch",
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
        400,
    )
    assert client_error(s3_client(server).head_object, Bucket=BUCKET, Key="swapped.bin")[2] == 404


def test_a_signature_mismatch_shows_what_the_server_signed(server: LiveServer) -> None:
    """As S3 does: the StringToSign and CanonicalRequest, also as spaced hex bytes, so a client can compare
    them with its own. Here the request is sent to another key than the one signed for."""
    signed = signed_request(server, "GET", f"/{BUCKET}/signed-for.txt")
    signed.url = signed.url.replace("signed-for.txt", "sent-to.txt")
    status, _, body = send_signed(server, signed)
    error = s3_error(body)
    assert (status, error["Code"]) == (403, "SignatureDoesNotMatch")
    canonical = error["CanonicalRequest"]
    assert canonical.startswith(f"GET\n/{BUCKET}/sent-to.txt\n")
    assert error["StringToSign"].endswith(hashlib.sha256(canonical.encode()).hexdigest())
    assert bytes.fromhex(error["CanonicalRequestBytes"].replace(" ", "")).decode() == canonical
    assert bytes.fromhex(error["StringToSignBytes"].replace(" ", "")).decode() == error["StringToSign"]
    assert error["SignatureProvided"] == signed.headers["Authorization"].rsplit("Signature=", 1)[1]


def test_unsigned_payload_when_payload_signing_is_disabled(server: LiveServer) -> None:
    client = s3_client(server, s3={"payload_signing_enabled": False})
    wire = record_requests(client)
    body = bytes(range(256)) * 64
    client.put_object(Bucket=BUCKET, Key="unsigned.bin", Body=body)
    headers = wire.requests[-1][4]
    assert headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    assert client.get_object(Bucket=BUCKET, Key="unsigned.bin")["Body"].read() == body


def test_sigv2_header_signing(server: LiveServer) -> None:
    """botocore's `s3` signature version: `Authorization: AWS KEY:SIGNATURE` over the Date header."""
    client = s3_client(server, signature_version="s3")
    wire = record_requests(client)
    client.put_object(Bucket=BUCKET, Key="sigv2/a key+plus.txt", Body=b"version two")
    assert wire.requests[-1][4]["authorization"].startswith("AWS AKIA")
    assert client.get_object(Bucket=BUCKET, Key="sigv2/a key+plus.txt")["Body"].read() == b"version two"
    wrong = s3_client(server, Keys(secret="not-the-secret"), signature_version="s3")
    assert client_error(wrong.get_object, Bucket=BUCKET, Key="sigv2/a key+plus.txt")[0::2] == (
        "SignatureDoesNotMatch",
        403,
    )


# -- addressing --------------------------------------------------------------------------------------------


def test_virtual_hosted_style_addressing(server: LiveServer) -> None:
    client, wire = virtual_client(server)
    client.create_bucket(Bucket="vhost-bucket")
    client.put_object(Bucket="vhost-bucket", Key="dir/a file.txt", Body=b"virtual", Metadata={"via": "host"})
    assert client.get_object(Bucket="vhost-bucket", Key="dir/a file.txt")["Body"].read() == b"virtual"
    assert client.head_object(Bucket="vhost-bucket", Key="dir/a file.txt")["Metadata"] == {"via": "host"}
    assert [o["Key"] for o in client.list_objects_v2(Bucket="vhost-bucket")["Contents"]] == ["dir/a file.txt"]
    assert client_error(client.get_object, Bucket="vhost-bucket", Key="missing")[0::2] == ("NoSuchKey", 404)
    port = server.endpoint.rsplit(":", 1)[1]
    assert {host for _, host, _, _, _ in wire.requests} == {f"vhost-bucket.localhost:{port}"}
    assert ("PUT", "/dir/a%20file.txt") in {(method, path) for method, _, path, _, _ in wire.requests}
    # The same bucket, path-style.
    assert s3_client(server).get_object(Bucket="vhost-bucket", Key="dir/a file.txt")["Body"].read() == b"virtual"


# -- errors ------------------------------------------------------------------------------------------------


def test_no_such_bucket_and_no_such_key(s3: Any) -> None:
    code, message, status = client_error(s3.get_object, Bucket="no-such-bucket-here", Key="k")
    assert (code, message, status) == ("NoSuchBucket", "The specified bucket does not exist", 404)
    assert client_error(s3.list_objects_v2, Bucket="no-such-bucket-here")[0::2] == ("NoSuchBucket", 404)
    assert client_error(s3.head_bucket, Bucket="no-such-bucket-here")[0::2] == ("404", 404)
    assert client_error(s3.get_object, Bucket=BUCKET, Key="no/such/key") == (
        "NoSuchKey",
        "The specified key does not exist.",
        404,
    )
    assert client_error(s3.head_object, Bucket=BUCKET, Key="no/such/key")[0::2] == ("404", 404)


def test_error_documents_on_the_wire(server: LiveServer) -> None:
    """S3's error XML: Code, Message, the key, and the request id that is also in x-amz-request-id; HEAD
    answers carry the status and headers only."""
    status, headers, body = send_signed(server, signed_request(server, "GET", f"/{BUCKET}/missing%20key.txt"))
    error = s3_error(body)
    assert (status, headers["content-type"]) == (404, "application/xml")
    assert (error["Code"], error["Message"], error["Key"]) == (
        "NoSuchKey",
        "The specified key does not exist.",
        "missing key.txt",
    )
    assert error["RequestId"] == headers["x-amz-request-id"]
    assert error["HostId"] == headers["x-amz-id-2"]
    status, headers, body = send_signed(server, signed_request(server, "HEAD", f"/{BUCKET}/missing%20key.txt"))
    assert (status, body) == (404, b"")
    assert headers["x-amz-request-id"]
    status, _, body = send_signed(server, signed_request(server, "GET", "/no-such-bucket-here/k"))
    assert (status, s3_error(body)["Code"], s3_error(body)["BucketName"]) == (
        404,
        "NoSuchBucket",
        "no-such-bucket-here",
    )


def test_bucket_already_exists_in_another_account(s3: Any, server: LiveServer, other_account: Principal) -> None:
    s3.create_bucket(Bucket="taken-bucket")
    theirs = s3_client(server, keys_of(other_account))
    assert client_error(theirs.create_bucket, Bucket="taken-bucket") == (
        "BucketAlreadyExists",
        "The requested bucket name is not available. The bucket namespace is shared by all users of the system."
        " Please select a different name and try again.",
        409,
    )
    assert client_error(theirs.list_objects_v2, Bucket="taken-bucket")[0::2] == ("AccessDenied", 403)
    assert "taken-bucket" not in [b["Name"] for b in theirs.list_buckets()["Buckets"]]
    assert "taken-bucket" in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_bucket_already_owned_by_you_outside_us_east_1(server: LiveServer, s3: Any) -> None:
    ireland = s3_client(server, region="eu-west-1")
    configuration = {"LocationConstraint": "eu-west-1"}
    ireland.create_bucket(Bucket="owned-in-ireland", CreateBucketConfiguration=configuration)
    assert client_error(ireland.create_bucket, Bucket="owned-in-ireland", CreateBucketConfiguration=configuration) == (
        "BucketAlreadyOwnedByYou",
        "Your previous request to create the named bucket succeeded and you already own it.",
        409,
    )
    assert ireland.get_bucket_location(Bucket="owned-in-ireland")["LocationConstraint"] == "eu-west-1"
    # In us-east-1 S3 answers 200 to the owner, for legacy compatibility.
    assert s3.create_bucket(Bucket=BUCKET)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_bucket_not_empty(s3: Any) -> None:
    s3.create_bucket(Bucket="full-bucket")
    s3.put_object(Bucket="full-bucket", Key="keep.txt", Body=b"x")
    assert client_error(s3.delete_bucket, Bucket="full-bucket") == (
        "BucketNotEmpty",
        "The bucket you tried to delete is not empty",
        409,
    )
    s3.delete_object(Bucket="full-bucket", Key="keep.txt")
    assert s3.delete_bucket(Bucket="full-bucket")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert client_error(s3.head_bucket, Bucket="full-bucket")[2] == 404


@pytest.mark.parametrize("name", ["ab", "Upper-Case-Bucket", "under_score", "192.168.5.4", "dots..together"])
def test_invalid_bucket_name(s3: Any, name: str) -> None:
    assert client_error(s3.create_bucket, Bucket=name) == (
        "InvalidBucketName",
        "The specified bucket is not valid.",
        400,
    )


def test_bucket_policy_errors(s3: Any) -> None:
    s3.create_bucket(Bucket="policy-bucket")
    assert client_error(s3.get_bucket_policy, Bucket="policy-bucket") == (
        "NoSuchBucketPolicy",
        "The bucket policy does not exist",
        404,
    )
    assert client_error(s3.put_bucket_policy, Bucket="policy-bucket", Policy="not json") == (
        "MalformedPolicy",
        "Policies must be valid JSON and the first byte must be '{'",
        400,
    )
    assert client_error(s3.put_bucket_policy, Bucket="policy-bucket", Policy='{"Version": "2012-10-17",') == (
        "MalformedPolicy",
        "This policy contains invalid Json",
        400,
    )
    outside = policy(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other-bucket/*"}
    )
    assert client_error(s3.put_bucket_policy, Bucket="policy-bucket", Policy=outside) == (
        "MalformedPolicy",
        "Policy has invalid resource",
        400,
    )
    no_principal = policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::policy-bucket/*"})
    assert client_error(s3.put_bucket_policy, Bucket="policy-bucket", Policy=no_principal)[0::2] == (
        "MalformedPolicy",
        400,
    )
    assert client_error(s3.get_bucket_policy, Bucket="policy-bucket")[0] == "NoSuchBucketPolicy"


# -- reads -------------------------------------------------------------------------------------------------


def test_range_get(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="alphabet.txt", Body=ALPHABET)
    part = s3.get_object(Bucket=BUCKET, Key="alphabet.txt", Range="bytes=2-5")
    assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert part["ContentRange"] == "bytes 2-5/26"
    assert part["ContentLength"] == 4
    assert part["Body"].read() == b"cdef"
    suffix = s3.get_object(Bucket=BUCKET, Key="alphabet.txt", Range="bytes=-3")
    assert (suffix["ContentRange"], suffix["Body"].read()) == ("bytes 23-25/26", b"xyz")
    open_ended = s3.get_object(Bucket=BUCKET, Key="alphabet.txt", Range="bytes=20-")
    assert (open_ended["ContentRange"], open_ended["Body"].read()) == ("bytes 20-25/26", b"uvwxyz")
    assert client_error(s3.get_object, Bucket=BUCKET, Key="alphabet.txt", Range="bytes=26-") == (
        "InvalidRange",
        "The requested range is not satisfiable",
        416,
    )
    whole = s3.get_object(Bucket=BUCKET, Key="alphabet.txt")
    assert whole["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert whole["AcceptRanges"] == "bytes"
    assert whole["ResponseMetadata"]["HTTPHeaders"]["server"] == "AmazonS3"  # as S3 names itself, not uvicorn


def test_conditional_reads(s3: Any) -> None:
    etag = s3.put_object(Bucket=BUCKET, Key="conditional.txt", Body=b"v1")["ETag"]
    with pytest.raises(botocore.exceptions.ClientError) as not_modified:
        s3.get_object(Bucket=BUCKET, Key="conditional.txt", IfNoneMatch=etag)
    metadata = not_modified.value.response["ResponseMetadata"]
    assert metadata["HTTPStatusCode"] == 304
    assert metadata["HTTPHeaders"]["etag"] == etag  # a 304 repeats the validators
    assert metadata["HTTPHeaders"]["server"] == "AmazonS3"
    assert "last-modified" in metadata["HTTPHeaders"]
    assert client_error(s3.head_object, Bucket=BUCKET, Key="conditional.txt", IfNoneMatch=etag)[2] == 304
    assert s3.get_object(Bucket=BUCKET, Key="conditional.txt", IfMatch=etag)["Body"].read() == b"v1"
    assert client_error(s3.get_object, Bucket=BUCKET, Key="conditional.txt", IfMatch='"0123"') == (
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        412,
    )
    later = datetime.now(UTC) + timedelta(hours=1)
    assert client_error(s3.get_object, Bucket=BUCKET, Key="conditional.txt", IfModifiedSince=later)[2] == 304
    earlier = datetime.now(UTC) - timedelta(hours=1)
    assert s3.get_object(Bucket=BUCKET, Key="conditional.txt", IfModifiedSince=earlier)["Body"].read() == b"v1"
    # A conditional write: If-None-Match: * refuses to overwrite.
    assert client_error(s3.put_object, Bucket=BUCKET, Key="conditional.txt", Body=b"v2", IfNoneMatch="*")[0::2] == (
        "PreconditionFailed",
        412,
    )


# -- objects -----------------------------------------------------------------------------------------------


def test_delete_objects(s3: Any) -> None:
    for key in ("batch/1", "batch/2"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=key.encode())
    deleted = s3.delete_objects(
        Bucket=BUCKET, Delete={"Objects": [{"Key": "batch/1"}, {"Key": "batch/2"}, {"Key": "batch/never-was"}]}
    )
    assert sorted(d["Key"] for d in deleted["Deleted"]) == ["batch/1", "batch/2", "batch/never-was"]
    assert "Errors" not in deleted
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="batch/")["KeyCount"] == 0
    s3.put_object(Bucket=BUCKET, Key="batch/3", Body=b"3")
    quiet = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "batch/3"}], "Quiet": True})
    assert "Deleted" not in quiet
    assert client_error(s3.head_object, Bucket=BUCKET, Key="batch/3")[2] == 404


def test_copy_object(s3: Any) -> None:
    source = "copy/source file+1.txt"
    etag = s3.put_object(
        Bucket=BUCKET, Key=source, Body=b"copy me", ContentType="text/plain", Metadata={"origin": "source"}
    )["ETag"]
    copied = s3.copy_object(Bucket=BUCKET, Key="copy/same.txt", CopySource={"Bucket": BUCKET, "Key": source})
    assert copied["CopyObjectResult"]["ETag"] == etag
    same = s3.get_object(Bucket=BUCKET, Key="copy/same.txt")
    assert (same["Body"].read(), same["ContentType"], same["Metadata"]) == (
        b"copy me",
        "text/plain",
        {"origin": "source"},
    )
    s3.copy_object(
        Bucket=BUCKET,
        Key="copy/replaced.txt",
        CopySource={"Bucket": BUCKET, "Key": source},
        MetadataDirective="REPLACE",
        Metadata={"origin": "replaced"},
        ContentType="application/json",
    )
    replaced = s3.head_object(Bucket=BUCKET, Key="copy/replaced.txt")
    assert (replaced["ContentType"], replaced["Metadata"]) == ("application/json", {"origin": "replaced"})
    assert client_error(
        s3.copy_object, Bucket=BUCKET, Key="copy/none.txt", CopySource={"Bucket": BUCKET, "Key": "copy/absent"}
    )[0::2] == ("NoSuchKey", 404)


def test_user_metadata_and_stored_headers_round_trip(s3: Any) -> None:
    s3.put_object(
        Bucket=BUCKET,
        Key="meta.txt",
        Body=b"m",
        Metadata={"Owner": "Alice", "project-id": "42"},
        ContentType="text/csv",
        CacheControl="max-age=60",
        ContentDisposition='attachment; filename="meta.txt"',
        ContentLanguage="en",
    )
    head = s3.head_object(Bucket=BUCKET, Key="meta.txt")
    assert head["Metadata"] == {"owner": "Alice", "project-id": "42"}  # S3 keeps metadata names in lower case
    assert (head["ContentType"], head["CacheControl"], head["ContentDisposition"], head["ContentLanguage"]) == (
        "text/csv",
        "max-age=60",
        'attachment; filename="meta.txt"',
        "en",
    )
    got = s3.get_object(Bucket=BUCKET, Key="meta.txt", ResponseContentType="application/octet-stream")
    assert (got["Metadata"], got["ContentType"]) == ({"owner": "Alice", "project-id": "42"}, "application/octet-stream")


def test_non_ascii_metadata_is_stored_decoded_and_returned_as_rfc_2047(s3: Any, server: LiveServer) -> None:
    """S3 decodes RFC 2047 encoded-words in metadata values and encodes non-ASCII values on the way out; a
    value sent as raw latin-1 bytes comes back encoded too, and a non-ASCII response override as well."""
    encoded = "=?UTF-8?B?" + base64.b64encode("Zürich".encode()).decode() + "?="
    s3.put_object(Bucket=BUCKET, Key="unicode-meta.txt", Body=b"u", Metadata={"city": encoded})
    assert s3.head_object(Bucket=BUCKET, Key="unicode-meta.txt")["Metadata"] == {"city": encoded}
    request = signed_request(
        server, "PUT", f"/{BUCKET}/latin-meta.txt", body=b"l", headers={"x-amz-meta-name": "Jos\u00e9"}
    )
    assert send_signed(server, request)[0] == 200
    head = s3.head_object(Bucket=BUCKET, Key="latin-meta.txt")
    assert head["Metadata"] == {"name": "=?UTF-8?B?" + base64.b64encode("José".encode()).decode() + "?="}
    got = s3.get_object(Bucket=BUCKET, Key="latin-meta.txt", ResponseContentDisposition='inline; filename="café.txt"')
    assert str(email.header.make_header(email.header.decode_header(got["ContentDisposition"]))) == (
        'inline; filename="café.txt"'
    )


def test_object_tagging(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="tagged.txt", Body=b"t", Tagging="Environment=Production&Team=Data%20Ops")
    tags = s3.get_object_tagging(Bucket=BUCKET, Key="tagged.txt")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("Environment", "Production"), ("Team", "Data Ops")]
    assert s3.get_object(Bucket=BUCKET, Key="tagged.txt")["TagCount"] == 2
    s3.put_object_tagging(Bucket=BUCKET, Key="tagged.txt", Tagging={"TagSet": [{"Key": "Environment", "Value": "Dev"}]})
    assert s3.get_object_tagging(Bucket=BUCKET, Key="tagged.txt")["TagSet"] == [{"Key": "Environment", "Value": "Dev"}]
    assert s3.delete_object_tagging(Bucket=BUCKET, Key="tagged.txt")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_object_tagging(Bucket=BUCKET, Key="tagged.txt")["TagSet"] == []
    assert client_error(s3.get_object_tagging, Bucket=BUCKET, Key="untagged-missing.txt")[0::2] == ("NoSuchKey", 404)


# -- listings ----------------------------------------------------------------------------------------------


def test_list_objects_v2_pages_with_continuation_tokens(s3: Any) -> None:
    s3.create_bucket(Bucket="paged-bucket")
    keys = [f"item-{n}" for n in range(5)]
    for key in keys:
        s3.put_object(Bucket="paged-bucket", Key=key, Body=key.encode())
    first = s3.list_objects_v2(Bucket="paged-bucket", MaxKeys=2)
    assert ([o["Key"] for o in first["Contents"]], first["KeyCount"], first["IsTruncated"]) == (keys[:2], 2, True)
    second = s3.list_objects_v2(Bucket="paged-bucket", MaxKeys=2, ContinuationToken=first["NextContinuationToken"])
    assert second["ContinuationToken"] == first["NextContinuationToken"]
    assert ([o["Key"] for o in second["Contents"]], second["IsTruncated"]) == (keys[2:4], True)
    third = s3.list_objects_v2(Bucket="paged-bucket", MaxKeys=2, ContinuationToken=second["NextContinuationToken"])
    assert ([o["Key"] for o in third["Contents"]], third["IsTruncated"]) == (keys[4:], False)
    assert "NextContinuationToken" not in third
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket="paged-bucket", PaginationConfig={"PageSize": 2})
    assert [o["Key"] for page in pages for o in page["Contents"]] == keys
    after = s3.list_objects_v2(Bucket="paged-bucket", StartAfter="item-2")
    assert [o["Key"] for o in after["Contents"]] == keys[3:]
    assert after["Contents"][0]["Size"] == len(b"item-3")


def test_delimiter_and_common_prefixes(s3: Any) -> None:
    s3.create_bucket(Bucket="tree-bucket")
    for key in ("docs/a.txt", "docs/b.txt", "docs/deep/c.txt", "logs/2024/x.log", "readme.md"):
        s3.put_object(Bucket="tree-bucket", Key=key, Body=b".")
    top = s3.list_objects_v2(Bucket="tree-bucket", Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["docs/", "logs/"]
    assert [o["Key"] for o in top["Contents"]] == ["readme.md"]
    assert top["KeyCount"] == 3
    docs = s3.list_objects_v2(Bucket="tree-bucket", Delimiter="/", Prefix="docs/")
    assert [o["Key"] for o in docs["Contents"]] == ["docs/a.txt", "docs/b.txt"]
    assert [p["Prefix"] for p in docs["CommonPrefixes"]] == ["docs/deep/"]
    v1 = s3.list_objects(Bucket="tree-bucket", Delimiter="/", MaxKeys=2)
    assert ([p["Prefix"] for p in v1["CommonPrefixes"]], v1["IsTruncated"], v1["NextMarker"]) == (
        ["docs/", "logs/"],
        True,
        "logs/",
    )
    rest = s3.list_objects(Bucket="tree-bucket", Delimiter="/", Marker=v1["NextMarker"])
    assert ([o["Key"] for o in rest["Contents"]], rest["IsTruncated"]) == (["readme.md"], False)


AWKWARD_KEYS = [
    "with space.txt",
    "ünïcödé/ファイル.txt",
    "plus+sign+1",
    "percent%20literal%2F",
    "mixed ?&=#+%/ü~*'().txt",
]


def test_awkward_keys_round_trip_through_put_list_and_get(s3: Any) -> None:
    s3.create_bucket(Bucket="awkward-bucket")
    for key in AWKWARD_KEYS:
        s3.put_object(Bucket="awkward-bucket", Key=key, Body=key.encode())
    expected = sorted(AWKWARD_KEYS, key=lambda k: k.encode())  # S3 lists in UTF-8 binary order
    v2 = s3.list_objects_v2(Bucket="awkward-bucket")
    assert v2["EncodingType"] == "url"  # boto3 asks for it and decodes the keys again
    assert [o["Key"] for o in v2["Contents"]] == expected
    assert [o["Key"] for o in s3.list_objects(Bucket="awkward-bucket")["Contents"]] == expected
    for key in AWKWARD_KEYS:
        assert s3.get_object(Bucket="awkward-bucket", Key=key)["Body"].read() == key.encode()
        assert s3.head_object(Bucket="awkward-bucket", Key=key)["ContentLength"] == len(key.encode())
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="awkward-bucket", Prefix="plus+")["Contents"]] == [
        "plus+sign+1"
    ]
