"""Flexible checksums of multipart uploads through the service path, as S3 keeps them: the upload's algorithm
and type, each part's verified checksum, the COMPOSITE and FULL_OBJECT object checksums (the latter combined
from part CRCs, checked here against the CRC of the whole object), and the refusals S3 answers with. Bodies
are the payload reader the server glue hands on (`VerifiedBody`), so each part's checksum is verified as read.
The CRC combination itself is checked against computing the CRC of the concatenated bytes."""

from __future__ import annotations

import base64
import hashlib
import io
import zlib
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from s3_support import MiB, S3World, raises
from services_support import DEV

from rolegate.digests import new_hasher
from rolegate.services.context import Caller
from rolegate.services.s3 import multipart
from rolegate.services.s3.crc_combine import combined_crc
from rolegate.services.s3.multipart import _object_checksum
from rolegate.sigv4.checksums import ChecksumClaim, PayloadClaims, VerifiedBody
from rolegate.store.records import MultipartUpload, ObjectPart

FIVE_MIB = 5 * MiB
CRCS = ("CRC32", "CRC32C", "CRC64NVME")


@pytest.fixture
def root(s3: S3World) -> Caller:
    caller = s3.account(DEV)
    s3.bucket(caller, "uploads")
    return caller


def digest(algorithm: str, data: bytes) -> bytes:
    """The reference digest: the wire layer's hashers (zlib, hashlib, its own table-driven CRCs)."""
    hasher = new_hasher(algorithm)
    hasher.update(data)
    return hasher.digest()


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def body(data: bytes, algorithm: str | None = None) -> VerifiedBody:
    """A request body as the glue passes it, claiming the `algorithm` checksum of `data` (when given)."""
    claim = ChecksumClaim(algorithm, digest(algorithm, data)) if algorithm else None
    return VerifiedBody(io.BytesIO(data), PayloadClaims(checksum=claim), len(data))


def start(s3: S3World, root: Caller, key: str = "big.bin", **params: Any) -> dict[str, Any]:
    return s3.s3(root, "CreateMultipartUpload", Bucket="uploads", Key=key, **params)


def upload_part(
    s3: S3World, root: Caller, upload: str, number: int, data: bytes, algorithm: str | None = None
) -> dict[str, Any]:
    return s3.s3(
        root, "UploadPart", Bucket="uploads", Key="big.bin", UploadId=upload, PartNumber=number,
        Body=body(data, algorithm),
    )  # fmt: skip


def complete(s3: S3World, root: Caller, upload: str, parts: list[dict[str, Any]], **params: Any) -> dict[str, Any]:
    return s3.s3(
        root, "CompleteMultipartUpload", Bucket="uploads", Key="big.bin", UploadId=upload,
        MultipartUpload={"Parts": parts}, **params,
    )  # fmt: skip


def listed(number: int, uploaded: dict[str, Any]) -> dict[str, Any]:
    """The entry of a complete request for a part: its number, ETag and the checksums UploadPart returned."""
    return {"PartNumber": number, **{k: v for k, v in uploaded.items() if k.startswith(("ETag", "Checksum"))}}


def head(s3: S3World, root: Caller, **params: Any) -> dict[str, Any]:
    return s3.s3(root, "HeadObject", Bucket="uploads", Key="big.bin", **params)


def checksums(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k.startswith("Checksum")}


# --- CreateMultipartUpload ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"ChecksumAlgorithm": "CRC32"}, ("CRC32", "COMPOSITE")),
        ({"ChecksumAlgorithm": "SHA256"}, ("SHA256", "COMPOSITE")),
        ({"ChecksumAlgorithm": "CRC64NVME"}, ("CRC64NVME", "FULL_OBJECT")),
        ({"ChecksumAlgorithm": "CRC32C", "ChecksumType": "FULL_OBJECT"}, ("CRC32C", "FULL_OBJECT")),
        ({"ChecksumAlgorithm": "SHA1", "ChecksumType": "COMPOSITE"}, ("SHA1", "COMPOSITE")),
    ],
)
def test_an_upload_keeps_and_echoes_its_algorithm_and_type(
    s3: S3World, root: Caller, params: dict[str, str], expected: tuple[str, str]
) -> None:
    created = start(s3, root, **params)
    assert (created["ChecksumAlgorithm"], created["ChecksumType"]) == expected
    upload = created["UploadId"]
    upload_part(s3, root, upload, 1, b"data", expected[0])  # a listing without parts has no Part elements
    parts = s3.s3(root, "ListParts", Bucket="uploads", Key="big.bin", UploadId=upload)
    assert (parts["ChecksumAlgorithm"], parts["ChecksumType"]) == expected
    assert parts["Parts"][0][f"Checksum{expected[0]}"] == b64(digest(expected[0], b"data"))
    (entry,) = s3.s3(root, "ListMultipartUploads", Bucket="uploads")["Uploads"]
    assert (entry["ChecksumAlgorithm"], entry["ChecksumType"]) == expected


def test_an_upload_without_an_algorithm_names_none(s3: S3World, root: Caller) -> None:
    created = start(s3, root)
    assert "ChecksumAlgorithm" not in created and "ChecksumType" not in created
    upload_part(s3, root, created["UploadId"], 1, b"data")
    parts = s3.s3(root, "ListParts", Bucket="uploads", Key="big.bin", UploadId=created["UploadId"])
    assert "ChecksumAlgorithm" not in parts and "ChecksumType" not in parts


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"ChecksumAlgorithm": "SHA1", "ChecksumType": "FULL_OBJECT"},
            "The FULL_OBJECT checksum type cannot be used with the sha1 checksum algorithm.",
        ),
        (
            {"ChecksumAlgorithm": "SHA256", "ChecksumType": "FULL_OBJECT"},
            "The FULL_OBJECT checksum type cannot be used with the sha256 checksum algorithm.",
        ),
        (
            {"ChecksumAlgorithm": "CRC64NVME", "ChecksumType": "COMPOSITE"},
            "The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.",
        ),
        (
            {"ChecksumType": "FULL_OBJECT"},
            "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.",
        ),
        ({"ChecksumAlgorithm": "CRC32", "ChecksumType": "PARTIAL"}, "Value for x-amz-checksum-type header is invalid."),
        (
            {"ChecksumAlgorithm": "XXHASH64"},
            "Checksum algorithm provided is unsupported. Please try again with any of the valid types: "
            "[CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
        ),
    ],
)
def test_combinations_s3_refuses(s3: S3World, root: Caller, params: dict[str, str], message: str) -> None:
    error = raises("InvalidRequest", 400, start, s3, root, **params)
    assert error.message == message
    with s3.services.store.transaction(write=False) as tx:
        assert list(tx.find(MultipartUpload)) == []


# --- UploadPart and ListParts ---------------------------------------------------------------------------------


def test_a_part_keeps_and_returns_its_verified_checksum(s3: S3World, root: Caller) -> None:
    upload = start(s3, root, ChecksumAlgorithm="SHA256")["UploadId"]
    data = b"part one" * 1000
    uploaded = upload_part(s3, root, upload, 1, data, "SHA256")
    assert checksums(uploaded) == {"ChecksumSHA256": b64(hashlib.sha256(data).digest())}
    (entry,) = s3.s3(root, "ListParts", Bucket="uploads", Key="big.bin", UploadId=upload)["Parts"]
    assert entry["ChecksumSHA256"] == uploaded["ChecksumSHA256"]
    assert not {k for k in entry if k.startswith("Checksum")} - {"ChecksumSHA256"}


def test_a_part_in_another_algorithm_is_refused(s3: S3World, root: Caller) -> None:
    upload = start(s3, root, ChecksumAlgorithm="CRC32")["UploadId"]
    error = raises("InvalidRequest", 400, upload_part, s3, root, upload, 1, b"data", "SHA256")
    assert (
        error.message == "Checksum Type mismatch occurred, expected checksum Type: crc32, actual checksum Type: sha256"
    )
    assert s3.stored_blobs() == set()  # the part's bytes are not kept


@pytest.mark.parametrize("kind", ["COMPOSITE", "FULL_OBJECT"])
def test_a_part_in_another_algorithm_is_refused_whatever_the_type(s3: S3World, root: Caller, kind: str) -> None:
    upload = start(s3, root, ChecksumAlgorithm="CRC32C", ChecksumType=kind)["UploadId"]
    error = raises("InvalidRequest", 400, upload_part, s3, root, upload, 1, b"data", "CRC32")
    assert error.message.endswith("expected checksum Type: crc32c, actual checksum Type: crc32")


def test_a_composite_uploads_part_without_a_checksum_is_refused(s3: S3World, root: Caller) -> None:
    upload = start(s3, root, ChecksumAlgorithm="CRC32")["UploadId"]
    error = raises("InvalidRequest", 400, upload_part, s3, root, upload, 1, b"data")
    assert error.message == "Checksum Type mismatch occurred, expected checksum Type: crc32, actual checksum Type: null"
    assert s3.stored_blobs() == set()


@pytest.mark.parametrize("algorithm", CRCS)
def test_a_full_object_uploads_part_without_a_checksum_gets_its_crc(s3: S3World, root: Caller, algorithm: str) -> None:
    upload = start(s3, root, ChecksumAlgorithm=algorithm, ChecksumType="FULL_OBJECT")["UploadId"]
    data = bytes(range(256)) * 40 + b"odd tail"
    uploaded = upload_part(s3, root, upload, 1, data)
    assert checksums(uploaded) == {f"Checksum{algorithm}": b64(digest(algorithm, data))}
    (entry,) = s3.s3(root, "ListParts", Bucket="uploads", Key="big.bin", UploadId=upload)["Parts"]
    assert entry[f"Checksum{algorithm}"] == uploaded[f"Checksum{algorithm}"]


def test_a_part_is_hashed_in_the_transaction_when_its_upload_was_not_read_ahead(
    s3: S3World, root: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload = start(s3, root, ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")["UploadId"]
    monkeypatch.setattr(multipart, "get_ahead", lambda *_: None)  # as if a read ahead had missed the upload
    uploaded = upload_part(s3, root, upload, 1, b"no checksum sent")
    assert uploaded["ChecksumCRC32"] == b64(zlib.crc32(b"no checksum sent").to_bytes(4, "big"))


def test_without_an_algorithm_parts_still_echo_what_they_were_verified_against(s3: S3World, root: Caller) -> None:
    upload = start(s3, root)["UploadId"]
    data = b"x" * FIVE_MIB
    first = upload_part(s3, root, upload, 1, data, "CRC32")
    assert checksums(first) == {"ChecksumCRC32": b64(zlib.crc32(data).to_bytes(4, "big"))}
    second = upload_part(s3, root, upload, 2, b"tail")
    assert checksums(second) == {}
    done = complete(s3, root, upload, [{"PartNumber": 1, "ETag": first["ETag"]}, listed(2, second)])
    assert checksums(done) == {}  # as before: no object checksum, part checksums not required
    assert checksums(head(s3, root, ChecksumMode="ENABLED")) == {}


# --- CompleteMultipartUpload and reads ------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256"])
def test_composite_checksum_is_the_checksum_of_the_part_checksums(s3: S3World, root: Caller, algorithm: str) -> None:
    pieces = [b"A" * FIVE_MIB, b"tail"]
    upload = start(s3, root, ChecksumAlgorithm=algorithm)["UploadId"]
    parts = [listed(n, upload_part(s3, root, upload, n, data, algorithm)) for n, data in enumerate(pieces, start=1)]
    expected = b64(digest(algorithm, b"".join(digest(algorithm, p) for p in pieces))) + "-2"
    done = complete(s3, root, upload, parts)
    assert checksums(done) == {f"Checksum{algorithm}": expected, "ChecksumType": "COMPOSITE"}
    assert checksums(head(s3, root, ChecksumMode="ENABLED")) == checksums(done)
    got, data = s3.get(root, "uploads", "big.bin", ChecksumMode="ENABLED")
    assert checksums(got) == checksums(done) and data == b"".join(pieces)
    assert checksums(head(s3, root)) == {}  # only when asked
    assert checksums(head(s3, root, ChecksumMode="ENABLED", PartNumber=1)) == {}  # and only for the whole object
    assert checksums(s3.get(root, "uploads", "big.bin", ChecksumMode="ENABLED", Range="bytes=0-9")[0]) == {}


def test_composite_value_matches_one_s3_returned() -> None:
    """Part SHA256s and the composite value S3 returned for them (reported from eu-west-1 by floci-io/floci#3083)."""
    parts = [
        "lcKa6Boe7a167tUCN5C4OaFygGSYD8MBnBARTrdL+1w=",
        "gHjhbUT4oo2tSCtSZJdlKi+jeNXJT+VImqdPXsXvkOc=",
        "4l9PQ3zOPZ0oGFvknFX+J4zZwE4WMzO+l3r8XrbWOeM=",
    ]
    now = datetime(2026, 1, 1, tzinfo=UTC)
    upload = MultipartUpload("u", "b", "k", now, "arn", "id", checksum_algorithm="SHA256", checksum_type="COMPOSITE")
    stored = [ObjectPart("u", n, f"blob{n}", MiB, '"e"', now, (("SHA256", v),)) for n, v in enumerate(parts, 1)]
    assert _object_checksum(upload, stored) == (("SHA256", "rVWtNbadtsaKXJAcgWPWjifHzJaXde/iV4jaJAOdivc=-3"),)


@pytest.mark.parametrize("algorithm", CRCS)
def test_full_object_checksum_is_the_crc_of_the_whole_object(s3: S3World, root: Caller, algorithm: str) -> None:
    pieces = [bytes(range(256)) * (FIVE_MIB // 256), b"last part, short"]
    upload = start(s3, root, ChecksumAlgorithm=algorithm, ChecksumType="FULL_OBJECT")["UploadId"]
    upload_part(s3, root, upload, 1, b"first try", algorithm)
    parts = [
        listed(1, upload_part(s3, root, upload, 1, pieces[0], algorithm)),  # uploaded again: replaces the first try
        listed(2, upload_part(s3, root, upload, 2, pieces[1])),  # no checksum sent: the server's CRC
    ]
    whole = b64(digest(algorithm, b"".join(pieces)))
    done = complete(s3, root, upload, parts)
    assert checksums(done) == {f"Checksum{algorithm}": whole, "ChecksumType": "FULL_OBJECT"}
    assert checksums(head(s3, root, ChecksumMode="ENABLED")) == checksums(done)


def test_a_single_part_full_object_upload(s3: S3World, root: Caller) -> None:
    upload = start(s3, root, ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")["UploadId"]
    done = complete(s3, root, upload, [listed(1, upload_part(s3, root, upload, 1, b"", "CRC32"))])
    assert checksums(done) == {"ChecksumCRC32": "AAAAAA==", "ChecksumType": "FULL_OBJECT"}


def test_complete_needs_every_parts_checksum(s3: S3World, root: Caller) -> None:
    upload = start(s3, root, ChecksumAlgorithm="CRC32")["UploadId"]
    one = listed(1, upload_part(s3, root, upload, 1, b"1" * FIVE_MIB, "CRC32"))
    two = listed(2, upload_part(s3, root, upload, 2, b"2", "CRC32"))
    bare = [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in (one, two)]
    error = raises("InvalidRequest", 400, complete, s3, root, upload, bare)
    assert error.message == (
        "The upload was created using a crc32 checksum. The complete request must include the checksum for each"
        " part. It was missing for part 1 in the request."
    )
    error = raises("InvalidRequest", 400, complete, s3, root, upload, [one, bare[1]])
    assert error.message.endswith("It was missing for part 2 in the request.")
    other = {**bare[1], "ChecksumSHA256": b64(hashlib.sha256(b"2").digest())}
    error = raises("InvalidRequest", 400, complete, s3, root, upload, [one, other])
    assert error.message.endswith("It was missing for part 2 in the request.")
    assert checksums(complete(s3, root, upload, [one, two]))["ChecksumType"] == "COMPOSITE"


def test_complete_refuses_a_part_checksum_that_is_not_the_parts(s3: S3World, root: Caller) -> None:
    upload = start(s3, root, ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")["UploadId"]
    one = listed(1, upload_part(s3, root, upload, 1, b"1" * FIVE_MIB, "CRC32"))
    two = listed(2, upload_part(s3, root, upload, 2, b"2", "CRC32"))
    wrong = {**two, "ChecksumCRC32": b64(zlib.crc32(b"3").to_bytes(4, "big"))}
    error = raises("InvalidPart", 400, complete, s3, root, upload, [one, wrong])
    assert error.message.startswith("One or more of the specified parts could not be found.")
    assert error.extra["PartNumber"] == "2"
    raises("InvalidPart", 400, complete, s3, root, upload, [one, {**two, "ChecksumCRC32": "not base64!"}])
    assert checksums(complete(s3, root, upload, [one, two]))["ChecksumType"] == "FULL_OBJECT"


def test_complete_checks_a_whole_object_checksum_it_is_sent(s3: S3World, root: Caller) -> None:
    pieces = [b"1" * FIVE_MIB, b"2"]
    upload = start(s3, root, ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")["UploadId"]
    parts = [listed(n, upload_part(s3, root, upload, n, d, "CRC32")) for n, d in enumerate(pieces, start=1)]
    whole = b64(zlib.crc32(b"".join(pieces)).to_bytes(4, "big"))
    error = raises("BadDigest", 400, complete, s3, root, upload, parts, ChecksumCRC32=b64(b"\x00\x00\x00\x01"))
    assert error.message == "The CRC32 you specified did not match the calculated checksum."
    error = raises("InvalidRequest", 400, complete, s3, root, upload, parts, ChecksumSHA256=b64(bytes(32)))
    assert error.message.endswith("expected checksum Type: crc32, actual checksum Type: sha256")
    error = raises("InvalidRequest", 400, complete, s3, root, upload, parts, ChecksumType="COMPOSITE")
    assert error.message.startswith("The upload was created using the FULL_OBJECT checksum mode.")
    raises("NoSuchKey", 404, head, s3, root)  # nothing was completed
    done = complete(s3, root, upload, parts, ChecksumCRC32=whole, ChecksumType="FULL_OBJECT")
    assert done["ChecksumCRC32"] == whole


def test_a_composite_whole_object_checksum_may_come_with_or_without_its_part_count(s3: S3World, root: Caller) -> None:
    upload = start(s3, root, ChecksumAlgorithm="SHA1")["UploadId"]
    parts = [listed(1, upload_part(s3, root, upload, 1, b"only part", "SHA1"))]
    value = b64(hashlib.sha1(hashlib.sha1(b"only part").digest()).digest())
    raises("BadDigest", 400, complete, s3, root, upload, parts, ChecksumSHA1=b64(bytes(20)))
    assert complete(s3, root, upload, parts, ChecksumSHA1=value)["ChecksumSHA1"] == f"{value}-1"
    again = start(s3, root, ChecksumAlgorithm="SHA1")["UploadId"]
    parts = [listed(1, upload_part(s3, root, again, 1, b"only part", "SHA1"))]
    assert complete(s3, root, again, parts, ChecksumSHA1=f"{value}-1")["ChecksumSHA1"] == f"{value}-1"


# --- combining CRCs -------------------------------------------------------------------------------------------


def crc_combine(algorithm: str, first: int, second: int, second_length: int) -> int:
    """The CRC of A + B from CRC(A), CRC(B) and len(B): the first piece's length never matters."""
    return combined_crc(algorithm, [(first, 0), (second, second_length)])


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(CRCS), st.binary(max_size=300), st.binary(max_size=300))
def test_combining_two_crcs_is_the_crc_of_the_concatenation(algorithm: str, first: bytes, second: bytes) -> None:
    def crc(data: bytes) -> int:
        return int.from_bytes(digest(algorithm, data), "big")

    assert crc_combine(algorithm, crc(first), crc(second), len(second)) == crc(first + second)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(CRCS), st.lists(st.binary(max_size=200), max_size=8))
def test_combining_many_crcs_is_the_crc_of_the_concatenation(algorithm: str, pieces: list[bytes]) -> None:
    parts = [(int.from_bytes(digest(algorithm, p), "big"), len(p)) for p in pieces]
    assert combined_crc(algorithm, parts) == int.from_bytes(digest(algorithm, b"".join(pieces)), "big")


@pytest.mark.parametrize("algorithm", CRCS)
def test_combining_over_gigabytes_agrees_with_combining_step_by_step(algorithm: str) -> None:
    """Lengths too long to hash here. Take A, then B (2 GiB, CRC 0) and C (3 GiB, CRC `second`): B + C has CRC
    `second` too, so appending B + C at once must equal appending B, then C."""
    first, second = 0x12345678, 0x9ABCDEF0
    gib = 1024**3
    assert crc_combine(algorithm, 0, second, 3 * gib) == second
    at_once = crc_combine(algorithm, first, second, 5 * gib)
    step = crc_combine(algorithm, crc_combine(algorithm, first, 0, 2 * gib), second, 3 * gib)
    assert at_once == step
    assert at_once != crc_combine(algorithm, first, second, 5 * gib - 1)
