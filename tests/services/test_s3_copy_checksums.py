"""CopyObject and flexible checksums, on every store: the copy keeps its source's algorithm (and value, when
that covers the whole object), takes the algorithm a request names instead, and turns a multipart source's
COMPOSITE value into the full-object value the copy, a single object, can be checked against. Expected
values are computed here from the bytes with the wire layer's hashers."""

from __future__ import annotations

import os

import pytest
from s3_support import MiB, S3World, raises
from services_support import DEV
from test_s3_attributes import BUCKET, multipart
from test_s3_multipart_checksums import b64, body, digest

from rolegate.services.context import Caller
from rolegate.services.s3.storage import INLINE_MAX


@pytest.fixture
def root(s3: S3World) -> Caller:
    caller = s3.account(DEV)
    s3.bucket(caller, BUCKET)
    return caller


def put(s3: S3World, root: Caller, key: str, data: bytes, algorithm: str | None = None) -> None:
    s3.s3(root, "PutObject", Bucket=BUCKET, Key=key, Body=body(data, algorithm))


def copy(s3: S3World, root: Caller, source: str, target: str, **params: str) -> dict[str, str]:
    result = s3.s3(root, "CopyObject", Bucket=BUCKET, Key=target, CopySource=f"{BUCKET}/{source}", **params)
    return dict(result["CopyObjectResult"])


def stored(s3: S3World, root: Caller, key: str) -> dict[str, str]:
    head = s3.s3(root, "HeadObject", Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    return {name: value for name, value in head.items() if name.startswith("Checksum")}


@pytest.mark.parametrize("size", [100, INLINE_MAX + 1], ids=["inline", "file"])
def test_a_copy_keeps_its_sources_checksum(s3: S3World, root: Caller, size: int) -> None:
    data = os.urandom(size)
    put(s3, root, "source", data, "SHA256")
    expected = {"ChecksumSHA256": b64(digest("SHA256", data)), "ChecksumType": "FULL_OBJECT"}
    result = copy(s3, root, "source", "copy")
    assert {k: v for k, v in result.items() if k.startswith("Checksum")} == expected
    assert stored(s3, root, "copy") == expected


@pytest.mark.parametrize("size", [100, INLINE_MAX + 1], ids=["inline", "file"])
def test_a_copy_that_names_an_algorithm_is_hashed_in_it(s3: S3World, root: Caller, size: int) -> None:
    data = os.urandom(size)
    put(s3, root, "source", data, "SHA256")
    for algorithm in ("CRC32", "CRC32C", "CRC64NVME", "SHA1"):
        result = copy(s3, root, "source", f"copy-{algorithm}", ChecksumAlgorithm=algorithm)
        expected = {f"Checksum{algorithm}": b64(digest(algorithm, data)), "ChecksumType": "FULL_OBJECT"}
        assert {k: v for k, v in result.items() if k.startswith("Checksum")} == expected
        assert stored(s3, root, f"copy-{algorithm}") == expected


def test_a_multipart_sources_composite_checksum_becomes_a_full_object_one(s3: S3World, root: Caller) -> None:
    pieces = [os.urandom(5 * MiB), os.urandom(1000)]
    completed = multipart(s3, root, "parts.bin", pieces, "SHA256")
    assert completed["ChecksumType"] == "COMPOSITE"
    copy(s3, root, "parts.bin", "whole.bin")
    assert stored(s3, root, "whole.bin") == {
        "ChecksumSHA256": b64(digest("SHA256", b"".join(pieces))),
        "ChecksumType": "FULL_OBJECT",
    }


def test_a_source_without_checksum_gives_a_copy_without_one(s3: S3World, root: Caller) -> None:
    put(s3, root, "plain", b"no checksum here")
    assert not any(name.startswith("Checksum") for name in copy(s3, root, "plain", "copy"))
    assert stored(s3, root, "copy") == {}


def test_an_algorithm_s3_does_not_offer_is_refused(s3: S3World, root: Caller) -> None:
    put(s3, root, "plain", b"bytes")
    error = raises("InvalidRequest", 400, copy, s3, root, "plain", "copy", ChecksumAlgorithm="MD4")
    assert error.message.startswith("Checksum algorithm provided is unsupported.")
    raises("NoSuchKey", 404, s3.s3, root, "HeadObject", Bucket=BUCKET, Key="copy")
