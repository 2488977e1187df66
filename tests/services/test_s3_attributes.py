"""GetObjectAttributes through the service path, on every store: the two permissions S3 requires, the missing-key
rule, which attributes come back and in which form (unquoted ETag, composite checksum without its part count),
parts listed only when they carry checksums and paged by MaxParts/PartNumberMarker, and S3's refusals of the
attribute header. Results are checked against botocore's output shape by the world's calls."""

from __future__ import annotations

import base64
import zlib
from typing import Any

import pytest
from s3_support import MiB, S3World, md5_etag, raises
from services_support import DEV, allow, doc
from test_s3_multipart_checksums import body, start

from rolegate.services.context import Caller

BUCKET = "uploads"
EVERYTHING = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]
FIVE_MIB = 5 * MiB


@pytest.fixture
def root(s3: S3World) -> Caller:
    caller = s3.account(DEV)
    s3.bucket(caller, BUCKET)
    return caller


def attributes(s3: S3World, caller: Caller, key: str, names: list[str] = EVERYTHING, **params: Any) -> dict[str, Any]:
    return s3.s3(caller, "GetObjectAttributes", Bucket=BUCKET, Key=key, ObjectAttributes=names, **params)


def multipart(s3: S3World, root: Caller, key: str, pieces: list[bytes], algorithm: str | None) -> dict[str, Any]:
    """A completed multipart upload of `pieces`, each part sent with its `algorithm` checksum (or none)."""
    extra = {"ChecksumAlgorithm": algorithm} if algorithm else {}
    upload_id = start(s3, root, key, **extra)["UploadId"]
    parts = []
    for number, data in enumerate(pieces, start=1):
        sent = s3.s3(
            root,
            "UploadPart",
            Bucket=BUCKET,
            Key=key,
            UploadId=upload_id,
            PartNumber=number,
            Body=body(data, algorithm),
        )
        parts.append(
            {"PartNumber": number, "ETag": sent["ETag"], **{k: v for k, v in sent.items() if k.startswith("Checksum")}}
        )
    return s3.s3(
        root, "CompleteMultipartUpload", Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
    )


def test_a_simple_object_answers_with_its_unquoted_etag_size_and_storage_class(s3: S3World, root: Caller) -> None:
    s3.put(root, BUCKET, "note.txt", b"hello")
    result = attributes(s3, root, "note.txt")
    assert result["ETag"] == md5_etag(b"hello").strip('"')
    assert '"' not in result["ETag"]
    assert (result["ObjectSize"], result["StorageClass"]) == (5, "STANDARD")
    assert "LastModified" in result
    assert "Checksum" not in result  # stored without a flexible checksum
    assert "ObjectParts" not in result  # not a multipart object


def test_only_the_attributes_asked_for_come_back(s3: S3World, root: Caller) -> None:
    s3.put(root, BUCKET, "note.txt", b"hello")
    assert set(attributes(s3, root, "note.txt", ["ObjectSize"])) == {"LastModified", "ObjectSize"}
    assert set(attributes(s3, root, "note.txt", ["ETag", "StorageClass"])) == {"LastModified", "ETag", "StorageClass"}


def test_a_single_upload_checksum_is_a_full_object_checksum(s3: S3World, root: Caller) -> None:
    s3.s3(root, "PutObject", Bucket=BUCKET, Key="note.txt", Body=body(b"hello", "CRC32"))
    crc = base64.b64encode(zlib.crc32(b"hello").to_bytes(4, "big")).decode()
    assert attributes(s3, root, "note.txt", ["Checksum"])["Checksum"] == {
        "ChecksumCRC32": crc,
        "ChecksumType": "FULL_OBJECT",
    }


def test_a_composite_checksum_drops_the_part_count_and_the_parts_are_listed(s3: S3World, root: Caller) -> None:
    pieces = [b"a" * FIVE_MIB, b"b" * FIVE_MIB, b"tail"]
    completed = multipart(s3, root, "big.bin", pieces, "CRC32")
    assert completed["ChecksumCRC32"].endswith("-3")
    result = attributes(s3, root, "big.bin")
    assert result["Checksum"] == {"ChecksumCRC32": completed["ChecksumCRC32"][:-2], "ChecksumType": "COMPOSITE"}
    assert result["ETag"] == completed["ETag"].strip('"')
    assert result["ObjectSize"] == sum(map(len, pieces))
    parts = result["ObjectParts"]
    assert (parts["TotalPartsCount"], parts["PartNumberMarker"], parts["MaxParts"]) == (3, 0, 1000)
    assert (parts["IsTruncated"], parts["NextPartNumberMarker"]) == (False, 3)
    expected = [
        {
            "PartNumber": n,
            "Size": len(data),
            "ChecksumCRC32": base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode(),
        }
        for n, data in enumerate(pieces, start=1)
    ]
    assert parts["Parts"] == expected


def test_parts_are_paged_by_max_parts_and_the_marker(s3: S3World, root: Caller) -> None:
    multipart(s3, root, "big.bin", [b"a" * FIVE_MIB, b"b" * FIVE_MIB, b"tail"], "SHA256")
    first = attributes(s3, root, "big.bin", ["ObjectParts"], MaxParts=2)["ObjectParts"]
    assert [p["PartNumber"] for p in first["Parts"]] == [1, 2]
    assert (first["IsTruncated"], first["NextPartNumberMarker"], first["MaxParts"]) == (True, 2, 2)
    rest = attributes(s3, root, "big.bin", ["ObjectParts"], MaxParts=2, PartNumberMarker=2)["ObjectParts"]
    assert [p["PartNumber"] for p in rest["Parts"]] == [3]
    assert (rest["IsTruncated"], rest["PartNumberMarker"], rest["TotalPartsCount"]) == (False, 2, 3)


def test_parts_without_checksums_are_only_counted(s3: S3World, root: Caller) -> None:
    multipart(s3, root, "big.bin", [b"a" * FIVE_MIB, b"tail"], None)
    assert attributes(s3, root, "big.bin", ["ObjectParts", "Checksum"]) == {
        "LastModified": attributes(s3, root, "big.bin", ["ObjectSize"])["LastModified"],
        "ObjectParts": {"TotalPartsCount": 2},
    }


def test_both_get_object_and_get_object_attributes_are_required(s3: S3World, root: Caller) -> None:
    s3.put(root, BUCKET, "note.txt", b"hello")
    objects = f"arn:aws:s3:::{BUCKET}/*"
    only_get = s3.user(DEV, "reader", doc(allow("s3:GetObject", objects)))
    only_attributes = s3.user(DEV, "auditor", doc(allow("s3:GetObjectAttributes", objects)))
    both = s3.user(DEV, "both", doc(allow(["s3:GetObject", "s3:GetObjectAttributes"], objects)))
    raises("AccessDenied", 403, attributes, s3, only_get, "note.txt")
    raises("AccessDenied", 403, attributes, s3, only_attributes, "note.txt")
    assert attributes(s3, both, "note.txt", ["ObjectSize"])["ObjectSize"] == 5


def test_a_missing_key_is_no_such_key_only_for_callers_who_may_list(s3: S3World, root: Caller) -> None:
    objects = f"arn:aws:s3:::{BUCKET}/*"
    reader = s3.user(DEV, "reader", doc(allow(["s3:GetObject", "s3:GetObjectAttributes"], objects)))
    lister = s3.user(
        DEV,
        "lister",
        doc(
            allow(["s3:GetObject", "s3:GetObjectAttributes"], objects), allow("s3:ListBucket", f"arn:aws:s3:::{BUCKET}")
        ),
    )
    raises("AccessDenied", 403, attributes, s3, reader, "absent")
    raises("NoSuchKey", 404, attributes, s3, lister, "absent")


def test_the_attribute_header_is_required_and_checked(s3: S3World, root: Caller) -> None:
    s3.put(root, BUCKET, "note.txt", b"hello")
    missing = raises("InvalidRequest", 400, attributes, s3, root, "note.txt", [])
    assert "x-amz-object-attributes header" in missing.message
    unknown = raises("InvalidArgument", 400, attributes, s3, root, "note.txt", ["ETags"])
    assert unknown.message == "Invalid attribute name specified."
    assert unknown.extra["ArgumentValue"] == "ETags"
    assert set(attributes(s3, root, "note.txt", ["ETags", "ObjectSize"])) == {"LastModified", "ObjectSize"}
