"""Flexible checksums: what a PutObject was verified against is stored and returned when asked for, and
botocore validates the body it downloads against it."""

from __future__ import annotations

import base64
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_support import live_server
from s3_e2e_support import s3_client


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with live_server(tmp_path_factory.mktemp("checksums") / "data") as server:
        client = s3_client(server)
        client.create_bucket(Bucket="checksum-bucket")
        yield client


def _crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def test_put_returns_and_stores_the_crc32_it_verified(s3: Any) -> None:
    data = b"checksummed body\n" * 100
    put = s3.put_object(Bucket="checksum-bucket", Key="crc.txt", Body=data)
    assert put["ChecksumCRC32"] == _crc32(data)
    head = s3.head_object(Bucket="checksum-bucket", Key="crc.txt", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == _crc32(data)
    assert head["ChecksumType"] == "FULL_OBJECT"
    got = s3.get_object(Bucket="checksum-bucket", Key="crc.txt", ChecksumMode="ENABLED")
    assert got["ChecksumCRC32"] == _crc32(data)
    assert got["Body"].read() == data  # botocore checks the CRC32 while reading


def test_checksums_only_when_asked_and_only_for_the_whole_object(s3: Any) -> None:
    data = b"0123456789" * 50
    s3.put_object(Bucket="checksum-bucket", Key="ranged.txt", Body=data, ChecksumAlgorithm="SHA256")
    plain = s3.head_object(Bucket="checksum-bucket", Key="ranged.txt")
    assert "ChecksumSHA256" not in plain
    ranged = s3.get_object(Bucket="checksum-bucket", Key="ranged.txt", Range="bytes=0-9", ChecksumMode="ENABLED")
    assert "ChecksumSHA256" not in ranged
    assert ranged["Body"].read() == data[:10]
    whole = s3.head_object(Bucket="checksum-bucket", Key="ranged.txt", ChecksumMode="ENABLED")
    assert "ChecksumSHA256" in whole
    assert "ChecksumCRC32" not in whole
