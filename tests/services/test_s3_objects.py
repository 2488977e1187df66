"""Objects through the service path on the memory and SQLite stores: put/get/head/delete, ETags, metadata,
tags on put, ranges, conditional requests, copies, batch deletes, and how blobs follow the metadata
(failed writes leave nothing behind, deleted bytes go only after the deletion committed)."""

from __future__ import annotations

import hashlib
import io
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import timedelta

import botocore.parsers
import pytest
from botocore.awsrequest import HTTPHeaders
from s3_support import GeneratedStream, MiB, S3World, md5_etag, raises, stream_digest
from services_support import DEV, NOW

from rolegate.errors import AwsError, InternalFailure
from rolegate.protocol.restxml import s3_error_response
from rolegate.services.context import Caller
from rolegate.services.s3.storage import GRACE, INLINE_MAX, collect_orphans
from rolegate.store.records import DeadBlob, InlineBlob, S3Object, Setting


@pytest.fixture
def root(s3: S3World) -> Caller:
    caller = s3.account(DEV)
    s3.bucket(caller, "data")
    return caller


def blob_files(s3: S3World) -> set[str]:
    return set(s3.blobs.names())


def test_put_and_get_round_trip_with_metadata_and_etag(s3: S3World, root: Caller) -> None:
    data = b"hello world\n" * 100
    put = s3.put(
        root,
        "data",
        "docs/readme.txt",
        data,
        ContentType="text/plain",
        Metadata={"author": "ana", "purpose": "test"},
        CacheControl="max-age=60",
        ContentEncoding="aws-chunked",
        ContentDisposition="inline",
    )
    assert put == {"ETag": md5_etag(data), "ServerSideEncryption": "AES256"}
    result, body = s3.get(root, "data", "docs/readme.txt")
    assert body == data
    assert result["ETag"] == md5_etag(data)
    assert result["ContentLength"] == len(data) and result["ContentType"] == "text/plain"
    assert result["Metadata"] == {"author": "ana", "purpose": "test"}
    assert result["CacheControl"] == "max-age=60" and result["ContentDisposition"] == "inline"
    assert "ContentEncoding" not in result  # aws-chunked is a transfer detail, not stored
    assert result["LastModified"] == NOW and result["AcceptRanges"] == "bytes"
    head = s3.s3(root, "HeadObject", Bucket="data", Key="docs/readme.txt")
    assert {k: v for k, v in result.items() if k != "Body"} == head


def test_empty_objects_and_default_content_type(s3: S3World, root: Caller) -> None:
    assert s3.put(root, "data", "empty", b"")["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    result, body = s3.get(root, "data", "empty")
    assert (body, result["ContentLength"], result["ContentType"]) == (b"", 0, "binary/octet-stream")


def test_overwrite_replaces_the_object_and_its_bytes_go_after_commit(s3: S3World, root: Caller) -> None:
    first, second = b"1" * (INLINE_MAX + 1), b"2" * (INLINE_MAX + 2)  # too big for the database: files
    s3.put(root, "data", "k", first)
    first_blob = blob_files(s3)
    s3.put(root, "data", "k", second)
    assert s3.get(root, "data", "k")[1] == second
    assert first_blob <= blob_files(s3)  # the old bytes wait in the graveyard
    s3.clock.advance(GRACE.total_seconds())
    s3.put(root, "data", "other", b"x")  # any later write call purges committed graveyard entries
    assert not first_blob & blob_files(s3)
    with s3.services.store.transaction() as tx:
        assert tx.find(DeadBlob) == []


def test_a_small_overwrite_of_an_object_in_a_file_hands_the_file_to_the_graveyard(s3: S3World, root: Caller) -> None:
    """An unconditional small PutObject writes without reading the object it replaces, unless that object
    has bytes elsewhere: a file, here, which must not be left behind."""
    s3.put(root, "data", "k", b"1" * (INLINE_MAX + 1))
    big = blob_files(s3)
    assert len(big) == 1
    s3.put(root, "data", "k", b"small")
    assert s3.get(root, "data", "k")[1] == b"small"
    with s3.services.store.transaction() as tx:
        assert [d.name for d in tx.find(DeadBlob)] == list(big)
    s3.clock.advance(GRACE.total_seconds())
    s3.put(root, "data", "other", b"x")
    assert blob_files(s3) == set()


def test_delete_object_then_missing_key(s3: S3World, root: Caller) -> None:
    s3.put(root, "data", "gone", b"bytes")
    assert s3.s3(root, "DeleteObject", Bucket="data", Key="gone") == {}
    assert s3.s3(root, "DeleteObject", Bucket="data", Key="gone") == {}  # idempotent, as in S3
    error = raises("NoSuchKey", 404, s3.get, root, "data", "gone")
    assert error.message == "The specified key does not exist." and error.extra == {"Key": "gone"}
    raises("NoSuchKey", 404, s3.s3, root, "HeadObject", Bucket="data", Key="gone")
    s3.clock.advance(GRACE.total_seconds() + 1)
    s3.put(root, "data", "next", b"")
    assert len(s3.stored_blobs()) == 1


def test_key_and_metadata_limits(s3: S3World, root: Caller) -> None:
    s3.put(root, "data", "k" * 1024)
    error = raises("KeyTooLongError", 400, s3.put, root, "data", "é" * 513)
    assert error.message == "Your key is too long" and error.extra["MaxSizeAllowed"] == "1024"
    s3.put(root, "data", "meta-ok", Metadata={"a": "x" * 2047})
    error = raises("MetadataTooLarge", 400, s3.put, root, "data", "meta", Metadata={"a": "x" * 2048})
    assert error.message == "Your metadata headers exceed the maximum allowed metadata size"
    assert len(s3.stored_blobs()) == 2  # refused before any bytes were written


def test_tags_on_put_and_object_tagging(s3: S3World, root: Caller) -> None:
    s3.put(root, "data", "tagged", Tagging="Environment=Production&team=data%20eng")
    result, _ = s3.get(root, "data", "tagged")
    assert result["TagCount"] == 2
    tags = s3.s3(root, "GetObjectTagging", Bucket="data", Key="tagged")["TagSet"]
    assert tags == [{"Key": "Environment", "Value": "Production"}, {"Key": "team", "Value": "data eng"}]
    new = [{"Key": "Environment", "Value": "Staging"}]
    assert s3.s3(root, "PutObjectTagging", Bucket="data", Key="tagged", Tagging={"TagSet": new}) == {}
    assert s3.s3(root, "GetObjectTagging", Bucket="data", Key="tagged")["TagSet"] == new
    assert s3.s3(root, "DeleteObjectTagging", Bucket="data", Key="tagged") == {}
    assert s3.s3(root, "GetObjectTagging", Bucket="data", Key="tagged")["TagSet"] == []
    eleven = "&".join(f"k{i}=v" for i in range(11))
    error = raises("BadRequest", 400, s3.put, root, "data", "many", Tagging=eleven)
    assert error.message == "Object tags cannot be greater than 10"
    raises("InvalidTag", 400, s3.put, root, "data", "long", Tagging="k=" + "v" * 257)
    raises("NoSuchKey", 404, s3.s3, root, "GetObjectTagging", Bucket="data", Key="absent")


@pytest.mark.parametrize(
    ("header", "expected", "content_range"),
    [
        ("bytes=0-4", b"01234", "bytes 0-4/10"),
        ("bytes=7-", b"789", "bytes 7-9/10"),
        ("bytes=-3", b"789", "bytes 7-9/10"),
        ("bytes=5-100", b"56789", "bytes 5-9/10"),
        ("bytes=-50", b"0123456789", "bytes 0-9/10"),
    ],
)
def test_byte_ranges(s3: S3World, root: Caller, header: str, expected: bytes, content_range: str) -> None:
    s3.put(root, "data", "digits", b"0123456789")
    result, body = s3.get(root, "data", "digits", Range=header)
    assert body == expected
    assert (result["ContentRange"], result["ContentLength"]) == (content_range, len(expected))


def test_unsatisfiable_and_ignored_ranges(s3: S3World, root: Caller) -> None:
    s3.put(root, "data", "digits", b"0123456789")
    error = raises("InvalidRange", 416, s3.get, root, "data", "digits", Range="bytes=10-")
    assert error.message == "The requested range is not satisfiable"
    assert error.extra == {"RangeRequested": "bytes=10-", "ActualObjectSize": "10"}
    raises("InvalidRange", 416, s3.get, root, "data", "digits", Range="bytes=-0")
    result, body = s3.get(root, "data", "digits", Range="bytes=5-2")
    assert body == b"0123456789" and "ContentRange" not in result
    assert s3.get(root, "data", "digits", Range="items=1-2")[1] == b"0123456789"


def test_conditional_reads(s3: S3World, root: Caller) -> None:
    etag = s3.put(root, "data", "c", b"content")["ETag"]
    before, after = NOW - timedelta(hours=1), NOW + timedelta(hours=1)
    assert s3.get(root, "data", "c", IfMatch=etag)[1] == b"content"
    assert s3.get(root, "data", "c", IfMatch="*")[1] == b"content"
    error = raises("PreconditionFailed", 412, s3.get, root, "data", "c", IfMatch='"other"')
    assert error.message == "At least one of the pre-conditions you specified did not hold"
    assert error.extra == {"Condition": "If-Match"}
    raises("PreconditionFailed", 412, s3.get, root, "data", "c", IfUnmodifiedSince=before)
    assert s3.get(root, "data", "c", IfMatch=etag, IfUnmodifiedSince=before)[1] == b"content"
    raises("NotModified", 304, s3.get, root, "data", "c", IfNoneMatch=etag)
    raises("NotModified", 304, s3.s3, root, "HeadObject", Bucket="data", Key="c", IfModifiedSince=after)
    raises("NotModified", 304, s3.get, root, "data", "c", IfModifiedSince=NOW)
    assert s3.get(root, "data", "c", IfModifiedSince=before)[1] == b"content"
    assert s3.get(root, "data", "c", IfNoneMatch='"other"', IfModifiedSince=after)[1] == b"content"


def test_conditional_writes(s3: S3World, root: Caller) -> None:
    etag = s3.put(root, "data", "w", b"v1", IfNoneMatch="*")["ETag"]
    raises("PreconditionFailed", 412, s3.put, root, "data", "w", b"v2", IfNoneMatch="*")
    raises("PreconditionFailed", 412, s3.put, root, "data", "w", b"v2", IfMatch='"stale"')
    raises("NoSuchKey", 404, s3.put, root, "data", "absent", b"v2", IfMatch=etag)
    s3.put(root, "data", "w", b"v2", IfMatch=etag)
    assert s3.get(root, "data", "w")[1] == b"v2"
    assert len(s3.stored_blobs()) == 1  # the refused writes left no blobs; v1's inline bytes went with its row


def test_small_objects_live_in_the_database_and_leave_with_their_rows(s3: S3World, root: Caller) -> None:
    small, limit, large = b"s" * 10, b"l" * INLINE_MAX, b"x" * (INLINE_MAX + 1)
    for key, data in (("small", small), ("limit", limit), ("large", large)):
        s3.put(root, "data", key, data)
        assert s3.get(root, "data", key)[1] == data
    assert len(blob_files(s3)) == 1 and len(s3.stored_blobs()) == 3  # only "large" is a file
    copied = s3.s3(root, "CopyObject", Bucket="data", Key="copy", CopySource="data/small")
    assert copied["CopyObjectResult"]["ETag"] == md5_etag(small)
    s3.put(root, "data", "small", b"replaced")
    assert s3.get(root, "data", "copy")[1] == small and s3.get(root, "data", "small")[1] == b"replaced"
    assert s3.get(root, "data", "limit", Range="bytes=2-4")[1] == b"lll"
    s3.s3(root, "DeleteObject", Bucket="data", Key="copy")
    s3.s3(root, "DeleteObject", Bucket="data", Key="limit")
    assert len(s3.stored_blobs()) == 2  # "small" (replaced) and "large"; no inline row outlives its object
    stranger = s3.user(DEV, "stranger")
    raises("AccessDenied", 403, s3.put, stranger, "data", "denied", small)
    raises("IncompleteBody", 400, s3.put, root, "data", "short", small, ContentLength=11)
    assert len(s3.stored_blobs()) == 2


def test_response_overrides(s3: S3World, root: Caller) -> None:
    s3.put(root, "data", "file.bin", b"x", ContentType="application/octet-stream")
    result, _ = s3.get(
        root, "data", "file.bin", ResponseContentType="text/csv", ResponseContentDisposition="attachment"
    )
    assert (result["ContentType"], result["ContentDisposition"]) == ("text/csv", "attachment")


def test_acls_other_than_the_owners_are_refused(s3: S3World, root: Caller) -> None:
    s3.put(root, "data", "ok", ACL="bucket-owner-full-control")
    error = raises("AccessControlListNotSupported", 400, s3.put, root, "data", "public", ACL="public-read")
    assert error.message == "The bucket does not allow ACLs"


def test_copy_object_copies_bytes_metadata_and_tags(s3: S3World, root: Caller) -> None:
    s3.bucket(root, "other")
    etag = s3.put(root, "data", "src", b"copy me", Metadata={"m": "1"}, Tagging="t=1", ContentType="text/x")["ETag"]
    copied = s3.s3(root, "CopyObject", Bucket="other", Key="dst", CopySource="data/src")
    assert copied["CopyObjectResult"] == {"ETag": etag, "LastModified": NOW}
    result, body = s3.get(root, "other", "dst")
    assert (body, result["Metadata"], result["ContentType"], result["TagCount"]) == (
        b"copy me",
        {"m": "1"},
        "text/x",
        1,
    )
    s3.s3(
        root,
        "CopyObject",
        Bucket="other",
        Key="replaced",
        CopySource="/data/src",
        MetadataDirective="REPLACE",
        Metadata={"n": "2"},
        TaggingDirective="REPLACE",
        Tagging="u=2",
    )
    result, _ = s3.get(root, "other", "replaced")
    assert (result["Metadata"], result["ContentType"]) == ({"n": "2"}, "binary/octet-stream")
    assert s3.s3(root, "GetObjectTagging", Bucket="other", Key="replaced")["TagSet"] == [{"Key": "u", "Value": "2"}]
    s3.s3(root, "DeleteObject", Bucket="data", Key="src")
    assert s3.get(root, "other", "dst")[1] == b"copy me"  # the copy does not share the source's fate


def test_copy_object_errors(s3: S3World, root: Caller) -> None:
    s3.put(root, "data", "src", b"x")
    error = raises("InvalidRequest", 400, s3.s3, root, "CopyObject", Bucket="data", Key="src", CopySource="data/src")
    assert error.message.startswith("This copy request is illegal because it is trying to copy an object to itself")
    s3.s3(root, "CopyObject", Bucket="data", Key="src", CopySource="data/src", MetadataDirective="REPLACE")
    raises("InvalidArgument", 400, s3.s3, root, "CopyObject", Bucket="data", Key="d", CopySource="data")
    raises("NoSuchKey", 404, s3.s3, root, "CopyObject", Bucket="data", Key="d", CopySource="data/none")
    raises("NoSuchBucket", 404, s3.s3, root, "CopyObject", Bucket="data", Key="d", CopySource="nobucket/src")
    raises(
        "PreconditionFailed", 412, s3.s3, root, "CopyObject", Bucket="data", Key="d", CopySource="data/src",
        CopySourceIfMatch='"nope"',
    )  # fmt: skip
    raises(
        "PreconditionFailed", 412, s3.s3, root, "CopyObject", Bucket="data", Key="d", CopySource="data/src",
        CopySourceIfModifiedSince=NOW + timedelta(days=1),
    )  # fmt: skip


def test_copy_source_keys_are_url_decoded(s3: S3World, root: Caller) -> None:
    s3.put(root, "data", "dir/a b+c.txt", b"spaced")
    s3.s3(root, "CopyObject", Bucket="data", Key="copy", CopySource="data/dir/a%20b%2Bc.txt?versionId=null")
    assert s3.get(root, "data", "copy")[1] == b"spaced"


def test_delete_objects_reports_each_key(s3: S3World, root: Caller) -> None:
    for key in ("a", "b", "c"):
        s3.put(root, "data", key)
    result = s3.s3(
        root, "DeleteObjects", Bucket="data", Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "zz"}]}
    )
    assert result == {"Deleted": [{"Key": "a"}, {"Key": "b"}, {"Key": "zz"}]}
    assert s3.s3(root, "DeleteObjects", Bucket="data", Delete={"Objects": [{"Key": "c"}], "Quiet": True}) == {}
    assert s3.s3(root, "ListObjectsV2", Bucket="data")["KeyCount"] == 0
    error = raises("MalformedXML", 400, s3.s3, root, "DeleteObjects", Bucket="data", Delete={"Objects": []})
    assert error.message.startswith("The XML you provided was not well-formed")
    too_many = {"Objects": [{"Key": f"k{i}"} for i in range(1001)]}
    raises("MalformedXML", 400, s3.s3, root, "DeleteObjects", Bucket="data", Delete=too_many)


def test_content_length_mismatch_is_incomplete_body(s3: S3World, root: Caller) -> None:
    error = raises("IncompleteBody", 400, s3.put, root, "data", "short", b"abc", ContentLength=10)
    assert error.message == "You did not provide the number of bytes specified by the Content-Length HTTP header"
    raises("EntityTooLarge", 400, s3.put, root, "data", "huge", b"", ContentLength=5 * 1024**3 + 1)
    assert blob_files(s3) == set()


def test_a_crash_mid_upload_leaves_no_object_and_no_file(s3: S3World, root: Caller) -> None:
    class Broken(io.RawIOBase):
        sent = 0

        def readable(self) -> bool:
            return True

        def read(self, n: int = -1) -> bytes:
            self.sent += 1
            if self.sent > 3:
                raise ConnectionResetError("peer reset")
            return b"p" * (n if n > 0 else 10)

    with pytest.raises(InternalFailure):
        s3.s3(root, "PutObject", Bucket="data", Key="partial", Body=Broken())
    raises("NoSuchKey", 404, s3.s3, root, "HeadObject", Bucket="data", Key="partial")
    assert [p for p in s3.blobs.root.rglob("*") if p.is_file()] == []


def test_a_failed_transaction_removes_the_written_blob(s3: S3World, root: Caller) -> None:
    raises("NoSuchBucket", 404, s3.put, root, "no-such-bucket", "k", b"bytes")
    stranger = s3.user(DEV, "stranger")
    raises("AccessDenied", 403, s3.put, stranger, "data", "k", b"bytes")
    assert blob_files(s3) == set()


def test_orphans_from_a_lost_commit_are_collected(s3: S3World, root: Caller) -> None:
    s3.put(root, "data", "live", b"alive")
    orphan = s3.blobs.write(io.BytesIO(b"written, then the commit failed"))
    assert collect_orphans(s3.services.store, s3.blobs, older_than=0) == 1
    assert not s3.blobs.exists(orphan.name)
    assert s3.get(root, "data", "live")[1] == b"alive"


def test_a_64_mib_object_is_streamed_in_and_out_with_bounded_memory(s3: S3World, root: Caller) -> None:
    size = 64 * MiB
    tracemalloc.start()
    try:
        put = s3.s3(root, "PutObject", Bucket="data", Key="big", Body=GeneratedStream(size, seed=9))
        result = s3.s3(root, "GetObject", Bucket="data", Key="big")
        digest = hashlib.md5()
        chunks: Iterator[bytes] = result["Body"]
        for chunk in chunks:
            digest.update(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    expected = stream_digest(size, seed=9)
    assert put["ETag"] == f'"{expected}"' and digest.hexdigest() == expected
    assert result["ContentLength"] == size
    assert peak < 12 * MiB, f"peak {peak / MiB:.1f} MiB"
    with s3.services.store.transaction(write=False) as tx:
        stored = tx.get(S3Object, "data", "big")
    assert stored is not None and s3.blobs.size(stored.blob) == size


def test_expected_bucket_owner_must_match(s3: S3World, root: Caller) -> None:
    s3.put(root, "data", "k", b"v", ExpectedBucketOwner=DEV)
    raises("AccessDenied", 403, s3.get, root, "data", "k", ExpectedBucketOwner="999999999999")
    s3.bucket(root, "copies")
    raises(
        "AccessDenied", 403, s3.s3, root, "CopyObject", Bucket="copies", Key="c", CopySource="data/k",
        ExpectedSourceBucketOwner="999999999999",
    )  # fmt: skip


def test_the_body_is_stored_before_the_transaction_opens(s3: S3World, root: Caller) -> None:
    """While the body streams in, other writers are not blocked: a write made from inside the body's read()
    commits (SQLite would wait on our write lock; the memory store would lose it on our commit)."""
    store = s3.services.store

    class Interleaving(io.RawIOBase):
        done = False

        def readable(self) -> bool:
            return True

        def read(self, n: int = -1) -> bytes:
            if self.done:
                return b""
            self.done = True
            with store.transaction() as tx:
                tx.put(Setting("written-mid-upload", "yes"))
            return b"payload"

    s3.s3(root, "PutObject", Bucket="data", Key="k", Body=Interleaving())
    with store.transaction(write=False) as tx:
        assert tx.get(Setting, "written-mid-upload") == Setting("written-mid-upload", "yes")
    assert s3.get(root, "data", "k")[1] == b"payload"


def test_customer_provided_encryption_keys_are_refused_not_ignored(s3: S3World, root: Caller) -> None:
    sse_c = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": "k" * 32}
    error = raises("NotImplemented", 501, s3.put, root, "data", "secret", b"x", **sse_c)
    assert error.message == "A header you provided implies functionality that is not implemented"
    s3.put(root, "data", "plain", b"x")
    raises("NotImplemented", 501, s3.get, root, "data", "plain", **sse_c)


def test_errors_reach_boto3_with_their_codes_and_fields(s3: S3World, root: Caller) -> None:
    """Errors as the rest-xml codec writes them and botocore reads them (304 keeps the validators)."""
    etag = s3.put(root, "data", "k", b"0123456789")["ETag"]
    parser = botocore.parsers.create_parser("rest-xml")
    cases: list[tuple[Callable[[], object], int, str]] = [
        (lambda: s3.get(root, "data", "missing"), 404, "NoSuchKey"),
        (lambda: s3.get(root, "data", "k", Range="bytes=50-"), 416, "InvalidRange"),
        (lambda: s3.s3(root, "HeadBucket", Bucket="nope"), 404, "NoSuchBucket"),
        (lambda: s3.put(s3.user(DEV, "nobody"), "data", "k"), 403, "AccessDenied"),
    ]
    for call, status, code in cases:
        with pytest.raises(AwsError) as excinfo:
            call()
        wire_status, headers, body = s3_error_response(excinfo.value, "req-1")
        parsed = parser.parse(
            {"status_code": wire_status, "headers": HTTPHeaders.from_pairs(headers), "body": body}, None
        )
        assert (wire_status, parsed["Error"]["Code"]) == (status, code)
        assert parsed["Error"]["Message"] == excinfo.value.message
    with pytest.raises(AwsError) as excinfo:
        s3.get(root, "data", "k", IfNoneMatch=etag)
    wire_status, headers, body = s3_error_response(excinfo.value, "req-2")
    assert (wire_status, body) == (304, b"")
    assert ("ETag", etag) in headers and any(name == "Last-Modified" for name, _ in headers)


def test_small_objects_stored_by_earlier_versions_are_read_copied_and_released(s3: S3World, root: Caller) -> None:
    """Before small objects' bytes moved into their rows they had an InlineBlob row named by `blob`: such an
    object is still read, ranged and copied, and replacing it drops that row in the same transaction."""
    with s3.services.store.transaction() as tx:
        tx.put(InlineBlob("legacy-blob", b"earlier"))
        tx.put(S3Object("data", "old", 7, md5_etag(b"earlier"), NOW, blob="legacy-blob", inline=True))
    assert s3.get(root, "data", "old")[1] == b"earlier"
    assert s3.get(root, "data", "old", Range="bytes=1-3")[1] == b"arl"
    s3.s3(root, "CopyObject", Bucket="data", Key="copy", CopySource="data/old")
    assert s3.get(root, "data", "copy")[1] == b"earlier"
    assert s3.stored_blobs() == {"legacy-blob", "data/copy"}
    s3.put(root, "data", "old", b"now")
    assert s3.get(root, "data", "old")[1] == b"now"
    assert s3.stored_blobs() == {"data/old", "data/copy"}
