"""Flexible checksums of multipart uploads, driven by real boto3 over HTTP: botocore computes and sends each
part's checksum, the server keeps it, and the completed object carries S3's COMPOSITE checksum (checksum of
the part checksums, "-N") or FULL_OBJECT checksum (the CRC of the whole object, which botocore then checks
while it downloads the object)."""

from __future__ import annotations

import base64
import hashlib
import os
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from e2e_support import LiveServer
from s3_e2e_support import MiB, s3_client

BUCKET = "multipart-checksums"
DIGESTS: dict[str, Callable[[bytes], bytes]] = {
    "CRC32": lambda data: zlib.crc32(data).to_bytes(4, "big"),
    "SHA256": lambda data: hashlib.sha256(data).digest(),
}


@pytest.fixture(scope="module")
def s3(server: LiveServer) -> Any:
    client = s3_client(server)
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture(scope="module")
def s3_when_required(server: LiveServer) -> Any:
    """A client that sends a checksum only where an operation requires one (UploadPart does not)."""
    return s3_client(server, request_checksum_calculation="when_required")


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def upload_parts(s3: Any, key: str, upload_id: str, pieces: list[bytes], algorithm: str) -> list[dict[str, Any]]:
    """Upload each piece with botocore computing its checksum; the entries the complete request lists."""
    parts = []
    for number, data in enumerate(pieces, start=1):
        uploaded = s3.upload_part(
            Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=number, Body=data, ChecksumAlgorithm=algorithm
        )
        assert uploaded[f"Checksum{algorithm}"] == b64(DIGESTS[algorithm](data))
        parts.append(
            {"PartNumber": number, "ETag": uploaded["ETag"], f"Checksum{algorithm}": uploaded[f"Checksum{algorithm}"]}
        )
    return parts


def error_of(call: Callable[..., Any], **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


@pytest.mark.parametrize("algorithm", ["CRC32", "SHA256"])
def test_composite_checksum_of_a_multipart_object(s3: Any, algorithm: str) -> None:
    key = f"composite-{algorithm}.bin"
    pieces = [os.urandom(5 * MiB), os.urandom(123_457)]
    created = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ChecksumAlgorithm=algorithm)
    assert (created["ChecksumAlgorithm"], created["ChecksumType"]) == (algorithm, "COMPOSITE")
    upload_id = created["UploadId"]
    parts = upload_parts(s3, key, upload_id, pieces, algorithm)
    listed = s3.list_parts(Bucket=BUCKET, Key=key, UploadId=upload_id)
    assert (listed["ChecksumAlgorithm"], listed["ChecksumType"]) == (algorithm, "COMPOSITE")
    assert [p[f"Checksum{algorithm}"] for p in listed["Parts"]] == [p[f"Checksum{algorithm}"] for p in parts]
    done = s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})
    digest = DIGESTS[algorithm]
    expected = b64(digest(b"".join(digest(p) for p in pieces))) + "-2"
    assert (done[f"Checksum{algorithm}"], done["ChecksumType"]) == (expected, "COMPOSITE")
    head = s3.head_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    assert (head[f"Checksum{algorithm}"], head["ChecksumType"]) == (expected, "COMPOSITE")
    assert f"Checksum{algorithm}" not in s3.head_object(Bucket=BUCKET, Key=key)
    got = s3.get_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    assert got[f"Checksum{algorithm}"] == expected
    assert got["Body"].read() == b"".join(pieces)
    attributes = s3.get_object_attributes(
        Bucket=BUCKET, Key=key, ObjectAttributes=["ETag", "Checksum", "ObjectParts", "ObjectSize"], MaxParts=1
    )
    assert attributes["ETag"] == done["ETag"].strip('"')  # GetObjectAttributes' ETag has no quotes
    assert attributes["Checksum"] == {f"Checksum{algorithm}": expected[:-2], "ChecksumType": "COMPOSITE"}
    assert attributes["ObjectSize"] == sum(map(len, pieces))
    object_parts = attributes["ObjectParts"]
    assert (object_parts["TotalPartsCount"], object_parts["IsTruncated"], object_parts["NextPartNumberMarker"]) == (
        2,
        True,
        1,
    )
    assert object_parts["Parts"] == [
        {"PartNumber": 1, "Size": 5 * MiB, f"Checksum{algorithm}": parts[0][f"Checksum{algorithm}"]}
    ]


def test_copies_carry_checksums(s3: Any) -> None:
    pieces = [os.urandom(5 * MiB), os.urandom(4321)]
    created = s3.create_multipart_upload(Bucket=BUCKET, Key="to-copy.bin", ChecksumAlgorithm="SHA256")
    parts = upload_parts(s3, "to-copy.bin", created["UploadId"], pieces, "SHA256")
    s3.complete_multipart_upload(
        Bucket=BUCKET, Key="to-copy.bin", UploadId=created["UploadId"], MultipartUpload={"Parts": parts}
    )
    whole = b"".join(pieces)
    kept = s3.copy_object(Bucket=BUCKET, Key="copied.bin", CopySource=f"{BUCKET}/to-copy.bin")["CopyObjectResult"]
    assert (kept["ChecksumSHA256"], kept["ChecksumType"]) == (b64(hashlib.sha256(whole).digest()), "FULL_OBJECT")
    crc = s3.copy_object(
        Bucket=BUCKET, Key="copied-crc.bin", CopySource=f"{BUCKET}/copied.bin", ChecksumAlgorithm="CRC32"
    )["CopyObjectResult"]
    assert crc["ChecksumCRC32"] == b64(zlib.crc32(whole).to_bytes(4, "big"))
    got = s3.get_object(Bucket=BUCKET, Key="copied-crc.bin", ChecksumMode="ENABLED")
    assert (got["ChecksumCRC32"], got["ChecksumType"]) == (crc["ChecksumCRC32"], "FULL_OBJECT")
    assert got["Body"].read() == whole  # botocore checks the CRC32 of what it reads


def test_full_object_crc32_is_the_crc32_of_the_whole_object(s3: Any, s3_when_required: Any) -> None:
    key = "full-object.bin"
    pieces = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(77_777)]
    whole = b64(zlib.crc32(b"".join(pieces)).to_bytes(4, "big"))
    created = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")
    assert (created["ChecksumAlgorithm"], created["ChecksumType"]) == ("CRC32", "FULL_OBJECT")
    upload_id = created["UploadId"]
    parts = upload_parts(s3, key, upload_id, pieces[:2], "CRC32")
    last = s3_when_required.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=3, Body=pieces[2])
    assert last["ChecksumCRC32"] == b64(zlib.crc32(pieces[2]).to_bytes(4, "big"))  # computed by the server
    parts.append({"PartNumber": 3, "ETag": last["ETag"], "ChecksumCRC32": last["ChecksumCRC32"]})
    request = {"Bucket": BUCKET, "Key": key, "UploadId": upload_id, "MultipartUpload": {"Parts": parts}}
    wrong = b64(b"\x00\x00\x00\x01")
    assert error_of(s3.complete_multipart_upload, **request, ChecksumCRC32=wrong) == (
        "BadDigest",
        "The CRC32 you specified did not match the calculated checksum.",
    )
    done = s3.complete_multipart_upload(**request, ChecksumCRC32=whole, ChecksumType="FULL_OBJECT")
    assert (done["ChecksumCRC32"], done["ChecksumType"]) == (whole, "FULL_OBJECT")
    head = s3.head_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    assert (head["ChecksumCRC32"], head["ChecksumType"]) == (whole, "FULL_OBJECT")
    got = s3.get_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    assert got["ChecksumCRC32"] == whole
    assert got["Body"].read() == b"".join(pieces)  # botocore checks the CRC32 of what it reads against `whole`


def test_what_s3_refuses(s3: Any, s3_when_required: Any) -> None:
    key = "refused.bin"
    assert error_of(
        s3.create_multipart_upload, Bucket=BUCKET, Key=key, ChecksumAlgorithm="SHA256", ChecksumType="FULL_OBJECT"
    ) == ("InvalidRequest", "The FULL_OBJECT checksum type cannot be used with the sha256 checksum algorithm.")
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ChecksumAlgorithm="SHA256")["UploadId"]
    part = {"Bucket": BUCKET, "Key": key, "UploadId": upload_id, "PartNumber": 1, "Body": b"some bytes"}
    assert error_of(s3.upload_part, **part, ChecksumAlgorithm="CRC32") == (
        "InvalidRequest",
        "Checksum Type mismatch occurred, expected checksum Type: sha256, actual checksum Type: crc32",
    )
    assert error_of(s3_when_required.upload_part, **part) == (
        "InvalidRequest",
        "Checksum Type mismatch occurred, expected checksum Type: sha256, actual checksum Type: null",
    )
    uploaded = s3.upload_part(**part, ChecksumAlgorithm="SHA256")
    complete = {"Bucket": BUCKET, "Key": key, "UploadId": upload_id}
    bare = {"Parts": [{"PartNumber": 1, "ETag": uploaded["ETag"]}]}
    assert error_of(s3.complete_multipart_upload, **complete, MultipartUpload=bare) == (
        "InvalidRequest",
        "The upload was created using a sha256 checksum. The complete request must include the checksum for each"
        " part. It was missing for part 1 in the request.",
    )
    wrong = {"Parts": [{"PartNumber": 1, "ETag": uploaded["ETag"], "ChecksumSHA256": b64(bytes(32))}]}
    assert error_of(s3.complete_multipart_upload, **complete, MultipartUpload=wrong)[0] == "InvalidPart"
    s3.abort_multipart_upload(**complete)
