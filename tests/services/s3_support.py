"""Helpers for the S3 service tests: a World whose Services has a BlobStore in tmp_path, S3 calls whose
params and results are checked against botocore's S3 shapes, and generated streams for large bodies."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import botocore.handlers
import botocore.parsers
import botocore.session
import pytest
from botocore.awsrequest import HTTPHeaders
from botocore.model import ListShape, MapShape, Shape, StructureShape
from services_support import World

from rolegate.clock import FixedClock
from rolegate.errors import AwsError
from rolegate.ids import seeded
from rolegate.protocol.restxml import s3_response
from rolegate.services.context import Caller
from rolegate.services.dispatch import Services
from rolegate.store.blobs import BlobStore
from rolegate.store.interface import Store
from rolegate.store.records import Bucket, InlineBlob, S3Object
from rolegate.store.secrets import Sealer

S3_MODEL = botocore.session.get_session().get_service_model("s3")
MiB = 1024 * 1024


def bucket_policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def grant(
    principal: Any, action: str | list[str], resource: str | list[str], effect: str = "Allow", **extra: Any
) -> dict[str, Any]:
    return {"Effect": effect, "Principal": principal, "Action": action, "Resource": resource, **extra}


def conforms(value: Any, shape: Shape, path: str = "") -> None:
    """Every key of a result is a member of the botocore output shape (recursively), so the rest-xml codec
    and botocore's parser will know it."""
    if isinstance(shape, StructureShape):
        assert isinstance(value, dict), path
        unknown = set(value) - set(shape.members)
        assert not unknown, f"{path}: {sorted(unknown)} not in {shape.name}"
        for name, item in value.items():
            conforms(item, shape.members[name], f"{path}.{name}")
    elif isinstance(shape, ListShape):
        assert isinstance(value, list), path
        for index, item in enumerate(value):
            conforms(item, shape.member, f"{path}[{index}]")
    elif isinstance(shape, MapShape):
        assert isinstance(value, dict), path


DECODERS = {
    "ListObjects": botocore.handlers.decode_list_object,
    "ListObjectsV2": botocore.handlers.decode_list_object_v2,
}


def over_the_wire(operation: str, result: dict[str, Any]) -> dict[str, Any]:
    """The result as boto3 sees it: written by rolegate's rest-xml codec, read by botocore's parser and
    its S3 handlers (URL-decoding of listed keys, the bare GetBucketLocation document)."""
    model = S3_MODEL.operation_model(operation)
    status, headers, body = s3_response(model, result)
    assert isinstance(body, bytes)
    response = {"status_code": status, "headers": HTTPHeaders.from_pairs(headers), "body": body}
    parsed: dict[str, Any] = botocore.parsers.create_parser("rest-xml").parse(response, model.output_shape)
    parsed.pop("ResponseMetadata", None)
    parsed.pop("Body", None)  # the stream is checked by the tests themselves
    if operation == "GetBucketLocation":
        raw = SimpleNamespace(raw=body, content=body)
        botocore.handlers.parse_get_bucket_location(parsed, raw)
    if operation in DECODERS:
        DECODERS[operation](parsed, context={"encoding_type_auto_set": True})
        parsed.setdefault("EncodingType", result.get("EncodingType"))
    return {k: v for k, v in parsed.items() if v not in (None, {}) or k in result}


def expected_from_botocore(result: dict[str, Any]) -> dict[str, Any]:
    """What botocore should read back: empty strings in XML come back as None, as from S3."""
    return {k: (None if v == "" and k == "LocationConstraint" else v) for k, v in result.items()}


class S3World(World):
    """A World with object storage; `s3()` calls an S3 operation and checks the result's shape."""

    def __init__(self, services: Services, clock: FixedClock, blobs: BlobStore) -> None:
        super().__init__(services, clock)
        self.blobs = blobs

    def s3(self, caller: Caller, operation: str, **params: Any) -> dict[str, Any]:
        model = S3_MODEL.operation_model(operation)
        assert set(params) <= set(model.input_shape.members), sorted(set(params) - set(model.input_shape.members))
        result = self.call(caller, "s3", operation, **params)
        if model.output_shape is not None:
            checked = {k: v for k, v in result.items() if k != "Body"}
            conforms(checked, model.output_shape, operation)
            assert over_the_wire(operation, checked) == expected_from_botocore(checked), operation
        else:
            assert result == {}
        return result

    def bucket(self, caller: Caller, name: str, policy: str = "") -> str:
        self.s3(caller, "CreateBucket", Bucket=name)
        if policy:
            with self.services.store.transaction() as tx:
                found = tx.get(Bucket, name)
                assert found is not None
                tx.put(Bucket(found.name, found.account_id, found.region, found.created, policy, found.tags))
        return name

    def put(self, caller: Caller, bucket: str, key: str, data: bytes = b"data", **params: Any) -> dict[str, Any]:
        return self.s3(caller, "PutObject", Bucket=bucket, Key=key, Body=io.BytesIO(data), **params)

    def stored_blobs(self) -> set[str]:
        """Every blob holding bytes: files on disk, the small objects' bytes in their rows (named here by
        bucket and key), and InlineBlob rows (left by earlier versions)."""
        with self.services.store.transaction(write=False) as tx:
            inline = {b.name for b in tx.find(InlineBlob)}
            in_rows = {f"{o.bucket}/{o.key}" for o in tx.find(S3Object) if o.inline and not o.blob}
        return set(self.blobs.names()) | inline | in_rows

    def get(self, caller: Caller, bucket: str, key: str, **params: Any) -> tuple[dict[str, Any], bytes]:
        result = self.s3(caller, "GetObject", Bucket=bucket, Key=key, **params)
        return result, read_all(result["Body"])


def make_world(store: Store, clock: FixedClock, tmp_path: Path) -> S3World:
    blobs = BlobStore(tmp_path / "objects")
    services = Services(store, Sealer({"k": b"\x07" * 32}, "k"), clock, seeded(7), blobs=blobs)
    return S3World(services, clock, blobs)


def raises(code: str, status: int, call: Callable[..., Any], *args: Any, **kwargs: Any) -> AwsError:
    """Run `call` and check it fails with S3's `code` and HTTP `status`; returns the error for more checks."""
    with pytest.raises(AwsError) as excinfo:
        call(*args, **kwargs)
    assert (excinfo.value.code, excinfo.value.http_status) == (code, status), excinfo.value
    return excinfo.value


def read_all(chunks: Iterable[bytes]) -> bytes:
    return b"".join(chunks)


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


class GeneratedStream(io.RawIOBase):
    """`size` pseudo-random bytes produced on demand (never held whole), with their MD5 computed as read."""

    def __init__(self, size: int, seed: int = 1) -> None:
        self.size = size
        self.position = 0
        self.block = hashlib.sha256(str(seed).encode()).digest() * 2048  # 64 KiB pattern
        self.md5 = hashlib.md5()

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        left = self.size - self.position
        n = left if n < 0 else min(n, left)
        out = bytearray()
        while len(out) < n:
            offset = (self.position + len(out)) % len(self.block)
            out += self.block[offset : offset + n - len(out)]
        self.position += n
        data = bytes(out)
        self.md5.update(data)
        return data


def stream_digest(size: int, seed: int = 1) -> str:
    """The MD5 hex of GeneratedStream(size, seed), computed by reading it in chunks."""
    stream = GeneratedStream(size, seed)
    while stream.read(MiB):
        pass
    return stream.md5.hexdigest()
