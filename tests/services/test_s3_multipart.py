"""Multipart uploads through the service path: S3's multipart ETag, part-size and ordering rules, reads that
stream across parts (ranges, partNumber), abort and completion clean-up, listing parts and uploads."""

from __future__ import annotations

import hashlib
import io
import tracemalloc
from typing import Any

import pytest
from s3_support import GeneratedStream, MiB, S3World, md5_etag, raises, stream_digest
from services_support import DEV

from rolegate.services.context import Caller
from rolegate.services.s3.storage import GRACE

FIVE_MIB = 5 * MiB


@pytest.fixture
def root(s3: S3World) -> Caller:
    caller = s3.account(DEV)
    s3.bucket(caller, "uploads")
    return caller


def start(s3: S3World, root: Caller, key: str = "big.bin", **params: Any) -> str:
    created = s3.s3(root, "CreateMultipartUpload", Bucket="uploads", Key=key, **params)
    assert (created["Bucket"], created["Key"]) == ("uploads", key)
    return str(created["UploadId"])


def part(s3: S3World, root: Caller, upload: str, number: int, data: bytes, key: str = "big.bin") -> dict[str, Any]:
    etag = s3.s3(
        root, "UploadPart", Bucket="uploads", Key=key, UploadId=upload, PartNumber=number, Body=io.BytesIO(data)
    )["ETag"]
    assert etag == md5_etag(data)
    return {"PartNumber": number, "ETag": etag}


def complete(
    s3: S3World, root: Caller, upload: str, parts: list[dict[str, Any]], key: str = "big.bin"
) -> dict[str, Any]:
    return s3.s3(
        root, "CompleteMultipartUpload", Bucket="uploads", Key=key, UploadId=upload, MultipartUpload={"Parts": parts}
    )


def s3_multipart_etag(*pieces: bytes) -> str:
    """S3's rule, computed independently: MD5 of the concatenated binary MD5s, then -N."""
    joined = b"".join(hashlib.md5(p).digest() for p in pieces)
    return f'"{hashlib.md5(joined).hexdigest()}-{len(pieces)}"'


def test_complete_upload_has_s3s_etag_and_reads_across_parts(s3: S3World, root: Caller) -> None:
    pieces = [b"A" * FIVE_MIB, b"B" * FIVE_MIB, b"tail"]
    upload = start(s3, root, ContentType="application/x-test", Metadata={"origin": "cli"}, Tagging="k=v")
    parts = [part(s3, root, upload, n, data) for n, data in enumerate(pieces, start=1)]
    done = complete(s3, root, upload, parts)
    assert done["ETag"] == s3_multipart_etag(*pieces)
    assert (done["Bucket"], done["Key"]) == ("uploads", "big.bin")
    result, body = s3.get(root, "uploads", "big.bin")
    assert body == b"".join(pieces)
    assert (result["ETag"], result["ContentLength"]) == (done["ETag"], 2 * FIVE_MIB + 4)
    assert (result["ContentType"], result["Metadata"], result["TagCount"]) == (
        "application/x-test",
        {"origin": "cli"},
        1,
    )
    _, across = s3.get(root, "uploads", "big.bin", Range=f"bytes={FIVE_MIB - 2}-{FIVE_MIB + 1}")
    assert across == b"AABB"
    _, tail = s3.get(root, "uploads", "big.bin", Range="bytes=-6")
    assert tail == b"BBtail"
    second, body = s3.get(root, "uploads", "big.bin", PartNumber=2)
    assert body == pieces[1] and second["PartsCount"] == 3
    assert second["ContentRange"] == f"bytes {FIVE_MIB}-{2 * FIVE_MIB - 1}/{2 * FIVE_MIB + 4}"
    raises("InvalidPartNumber", 416, s3.get, root, "uploads", "big.bin", PartNumber=4)
    raises("NoSuchUpload", 404, s3.s3, root, "ListParts", Bucket="uploads", Key="big.bin", UploadId=upload)


def test_parts_below_five_mib_are_refused_except_the_last(s3: S3World, root: Caller) -> None:
    upload = start(s3, root)
    parts = [part(s3, root, upload, 1, b"small"), part(s3, root, upload, 2, b"also small")]
    error = raises("EntityTooSmall", 400, complete, s3, root, upload, parts)
    assert error.message == "Your proposed upload is smaller than the minimum allowed size"
    assert error.extra["MinSizeAllowed"] == str(FIVE_MIB) and error.extra["ProposedSize"] == "5"
    single = complete(s3, root, upload, parts[1:])  # one part: the last may be small
    assert single["ETag"] == s3_multipart_etag(b"also small")
    assert s3.get(root, "uploads", "big.bin")[1] == b"also small"


def test_part_list_errors(s3: S3World, root: Caller) -> None:
    upload = start(s3, root)
    one, two = part(s3, root, upload, 1, b"x" * FIVE_MIB), part(s3, root, upload, 2, b"y")
    error = raises("InvalidPartOrder", 400, complete, s3, root, upload, [two, one])
    assert error.message.startswith("The list of parts was not in ascending order")
    error = raises("InvalidPart", 400, complete, s3, root, upload, [one, {"PartNumber": 2, "ETag": '"0000"'}])
    assert error.message.startswith("One or more of the specified parts could not be found.")
    raises("InvalidPart", 400, complete, s3, root, upload, [one, {"PartNumber": 3, "ETag": two["ETag"]}])
    raises("MalformedXML", 400, complete, s3, root, upload, [])
    unquoted = {"PartNumber": 2, "ETag": two["ETag"].strip('"')}
    assert complete(s3, root, upload, [one, unquoted])["ETag"] == s3_multipart_etag(b"x" * FIVE_MIB, b"y")


def test_unknown_or_mismatched_uploads_and_part_numbers(s3: S3World, root: Caller) -> None:
    upload = start(s3, root)
    error = raises(
        "NoSuchUpload", 404, s3.s3, root, "UploadPart", Bucket="uploads", Key="big.bin", UploadId="nope",
        PartNumber=1, Body=io.BytesIO(b"x"),
    )  # fmt: skip
    assert error.extra == {"UploadId": "nope"}
    assert error.message.startswith("The specified upload does not exist.")
    raises("NoSuchUpload", 404, s3.s3, root, "ListParts", Bucket="uploads", Key="other-key", UploadId=upload)
    for number in (0, 10001):
        error = raises(
            "InvalidArgument", 400, s3.s3, root, "UploadPart", Bucket="uploads", Key="big.bin", UploadId=upload,
            PartNumber=number, Body=io.BytesIO(b"x"),
        )  # fmt: skip
        assert error.message == "Part number must be an integer between 1 and 10000, inclusive"
    assert s3.stored_blobs() == set()


def test_reuploading_a_part_replaces_it_and_unused_parts_are_dropped(s3: S3World, root: Caller) -> None:
    upload = start(s3, root)
    part(s3, root, upload, 1, b"old")
    first = part(s3, root, upload, 1, b"new")
    part(s3, root, upload, 2, b"never used")
    listed = s3.s3(root, "ListParts", Bucket="uploads", Key="big.bin", UploadId=upload)
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in listed["Parts"]] == [
        (1, 3, md5_etag(b"new")),
        (2, 10, md5_etag(b"never used")),
    ]
    complete(s3, root, upload, [first])
    s3.clock.advance(GRACE.total_seconds())
    s3.put(root, "uploads", "trigger-purge", b"")
    assert len(s3.stored_blobs()) == 2  # the kept part and the new object; "old" and part 2 are gone


def test_abort_drops_the_upload_and_its_parts(s3: S3World, root: Caller) -> None:
    upload = start(s3, root)
    part(s3, root, upload, 1, b"abandoned")
    assert s3.s3(root, "AbortMultipartUpload", Bucket="uploads", Key="big.bin", UploadId=upload) == {}
    raises("NoSuchUpload", 404, s3.s3, root, "AbortMultipartUpload", Bucket="uploads", Key="big.bin", UploadId=upload)
    raises("NoSuchKey", 404, s3.s3, root, "HeadObject", Bucket="uploads", Key="big.bin")
    s3.clock.advance(GRACE.total_seconds())
    s3.put(root, "uploads", "trigger-purge", b"")
    assert len(s3.stored_blobs()) == 1


def test_list_parts_pages(s3: S3World, root: Caller) -> None:
    upload = start(s3, root)
    for number in (1, 2, 3):
        part(s3, root, upload, number, b"p%d" % number)
    page = s3.s3(root, "ListParts", Bucket="uploads", Key="big.bin", UploadId=upload, MaxParts=2)
    assert [p["PartNumber"] for p in page["Parts"]] == [1, 2]
    assert page["IsTruncated"] is True and page["NextPartNumberMarker"] == 2
    assert page["Initiator"]["ID"] == root.arn and page["StorageClass"] == "STANDARD"
    rest = s3.s3(root, "ListParts", Bucket="uploads", Key="big.bin", UploadId=upload, PartNumberMarker=2)
    assert [p["PartNumber"] for p in rest["Parts"]] == [3] and rest["IsTruncated"] is False


def test_list_multipart_uploads(s3: S3World, root: Caller) -> None:
    first, second = start(s3, root, "a/one"), start(s3, root, "b/two")
    listed = s3.s3(root, "ListMultipartUploads", Bucket="uploads")
    assert [(u["Key"], u["UploadId"]) for u in listed["Uploads"]] == [("a/one", first), ("b/two", second)]
    assert [u["Key"] for u in s3.s3(root, "ListMultipartUploads", Bucket="uploads", Prefix="b/")["Uploads"]] == [
        "b/two"
    ]
    page = s3.s3(root, "ListMultipartUploads", Bucket="uploads", MaxUploads=1)
    assert page["IsTruncated"] is True and page["NextKeyMarker"] == "a/one"
    rest = s3.s3(root, "ListMultipartUploads", Bucket="uploads", KeyMarker=page["NextKeyMarker"])
    assert [u["Key"] for u in rest["Uploads"]] == ["b/two"]


def test_overwriting_and_copying_a_multipart_object(s3: S3World, root: Caller) -> None:
    pieces = [b"1" * FIVE_MIB, b"2"]
    upload = start(s3, root)
    complete(s3, root, upload, [part(s3, root, upload, n, d) for n, d in enumerate(pieces, start=1)])
    copied = s3.s3(root, "CopyObject", Bucket="uploads", Key="copy.bin", CopySource="uploads/big.bin")
    assert copied["CopyObjectResult"]["ETag"] == md5_etag(b"".join(pieces))
    s3.put(root, "uploads", "big.bin", b"now small")
    assert s3.get(root, "uploads", "big.bin")[1] == b"now small"
    assert hashlib.md5(s3.get(root, "uploads", "copy.bin")[1]).digest() == hashlib.md5(b"".join(pieces)).digest()
    s3.clock.advance(GRACE.total_seconds())
    s3.put(root, "uploads", "trigger-purge", b"")
    assert len(s3.stored_blobs()) == 3


def test_a_32_mib_multipart_object_streams_with_bounded_memory(s3: S3World, root: Caller) -> None:
    size = 8 * MiB
    upload = start(s3, root)
    tracemalloc.start()
    try:
        parts = []
        for number in range(1, 5):
            etag = s3.s3(
                root, "UploadPart", Bucket="uploads", Key="big.bin", UploadId=upload, PartNumber=number,
                Body=GeneratedStream(size, seed=number),
            )["ETag"]  # fmt: skip
            parts.append({"PartNumber": number, "ETag": etag})
        complete(s3, root, upload, parts)
        digest = hashlib.md5()
        for chunk in s3.s3(root, "GetObject", Bucket="uploads", Key="big.bin")["Body"]:
            digest.update(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    expected = hashlib.md5()
    for number in range(1, 5):
        stream = GeneratedStream(size, seed=number)
        while data := stream.read(MiB):
            expected.update(data)
    assert digest.hexdigest() == expected.hexdigest()
    assert [p["ETag"] for p in parts] == [f'"{stream_digest(size, seed=n)}"' for n in range(1, 5)]
    assert peak < 12 * MiB, f"peak {peak / MiB:.1f} MiB"


def test_list_multipart_uploads_pages_within_one_key(s3: S3World, root: Caller) -> None:
    first = start(s3, root, "same")
    s3.clock.advance(1)
    second = start(s3, root, "same")
    page = s3.s3(root, "ListMultipartUploads", Bucket="uploads", MaxUploads=1)
    assert [u["UploadId"] for u in page["Uploads"]] == [first]
    assert (page["NextKeyMarker"], page["NextUploadIdMarker"]) == ("same", first)
    rest = s3.s3(root, "ListMultipartUploads", Bucket="uploads", KeyMarker="same", UploadIdMarker=first)
    assert [u["UploadId"] for u in rest["Uploads"]] == [second] and rest["IsTruncated"] is False
