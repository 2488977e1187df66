"""ListObjects and ListObjectsV2 through the service path: prefixes, delimiters, paging by continuation
token, marker and start-after, URL encoding, owners, and the pages agreeing with a plain reference."""

from __future__ import annotations

import pytest
from s3_support import S3_MODEL, S3World, raises
from services_support import DEV

from rolegate.protocol.restxml import s3_response
from rolegate.services.context import Caller

KEYS = [
    "a.txt",
    "docs/2024/jan.txt",
    "docs/2024/feb.txt",
    "docs/2025/mar.txt",
    "docs/readme.md",
    "img/cat.png",
    "img/dog.png",
    "z",
    "é-unicode",
]


@pytest.fixture
def root(s3: S3World) -> Caller:
    caller = s3.account(DEV)
    s3.bucket(caller, "listing")
    for key in KEYS:
        s3.put(caller, "listing", key, key.encode())
    return caller


def keys_of(result: dict[str, object]) -> list[str]:
    return [c["Key"] for c in result.get("Contents", [])]  # type: ignore[attr-defined]


def prefixes_of(result: dict[str, object]) -> list[str]:
    return [p["Prefix"] for p in result.get("CommonPrefixes", [])]  # type: ignore[attr-defined]


def test_lists_everything_in_utf8_order(s3: S3World, root: Caller) -> None:
    result = s3.s3(root, "ListObjectsV2", Bucket="listing")
    assert keys_of(result) == sorted(KEYS, key=lambda k: k.encode())
    assert result["KeyCount"] == len(KEYS) and result["IsTruncated"] is False
    first = result["Contents"][0]
    assert first["Size"] == len(b"a.txt") and first["StorageClass"] == "STANDARD" and "Owner" not in first
    assert "Owner" in s3.s3(root, "ListObjectsV2", Bucket="listing", FetchOwner=True)["Contents"][0]
    assert "Owner" in s3.s3(root, "ListObjects", Bucket="listing")["Contents"][0]


def test_prefix_and_delimiter_roll_up_common_prefixes(s3: S3World, root: Caller) -> None:
    top = s3.s3(root, "ListObjectsV2", Bucket="listing", Delimiter="/")
    assert keys_of(top) == ["a.txt", "z", "é-unicode"]
    assert prefixes_of(top) == ["docs/", "img/"]
    assert top["KeyCount"] == 5 and top["Delimiter"] == "/"
    docs = s3.s3(root, "ListObjectsV2", Bucket="listing", Prefix="docs/", Delimiter="/")
    assert keys_of(docs) == ["docs/readme.md"] and prefixes_of(docs) == ["docs/2024/", "docs/2025/"]
    assert keys_of(s3.s3(root, "ListObjectsV2", Bucket="listing", Prefix="img/c")) == ["img/cat.png"]
    assert s3.s3(root, "ListObjectsV2", Bucket="listing", Prefix="nothing/")["KeyCount"] == 0


def _walk(s3: S3World, root: Caller, **params: object) -> tuple[list[str], list[str], int]:
    keys: list[str] = []
    prefixes: list[str] = []
    pages = 0
    token: str | None = None
    while True:
        extra = {"ContinuationToken": token} if token else {}
        page = s3.s3(root, "ListObjectsV2", Bucket="listing", MaxKeys=2, **params, **extra)
        pages += 1
        keys += keys_of(page)
        prefixes += prefixes_of(page)
        assert page["KeyCount"] <= 2
        if not page["IsTruncated"]:
            return keys, prefixes, pages
        token = page["NextContinuationToken"]


@pytest.mark.parametrize("delimiter", ["", "/"])
def test_paging_by_continuation_token_matches_one_big_page(s3: S3World, root: Caller, delimiter: str) -> None:
    params = {"Delimiter": delimiter} if delimiter else {}
    whole = s3.s3(root, "ListObjectsV2", Bucket="listing", **params)
    keys, prefixes, pages = _walk(s3, root, **params)
    assert (keys, prefixes) == (keys_of(whole), prefixes_of(whole))
    assert pages == -(-whole["KeyCount"] // 2)


def test_start_after_and_marker(s3: S3World, root: Caller) -> None:
    after = s3.s3(root, "ListObjectsV2", Bucket="listing", StartAfter="img/cat.png")
    assert keys_of(after) == ["img/dog.png", "z", "é-unicode"] and after["StartAfter"] == "img/cat.png"
    page = s3.s3(root, "ListObjects", Bucket="listing", MaxKeys=3, Delimiter="/")
    assert keys_of(page) == ["a.txt"] and prefixes_of(page) == ["docs/", "img/"]
    assert page["IsTruncated"] is True and page["NextMarker"] == "img/"
    rest = s3.s3(root, "ListObjects", Bucket="listing", Marker=page["NextMarker"], Delimiter="/")
    assert keys_of(rest) == ["z", "é-unicode"] and prefixes_of(rest) == [] and rest["Marker"] == "img/"
    no_delimiter = s3.s3(root, "ListObjects", Bucket="listing", MaxKeys=1)
    assert no_delimiter["IsTruncated"] is True and "NextMarker" not in no_delimiter


def test_url_encoding_is_announced_and_keys_survive_the_wire(s3: S3World, root: Caller) -> None:
    s3.put(root, "listing", "space key+plus", b"")
    result = s3.s3(root, "ListObjectsV2", Bucket="listing", EncodingType="url", Prefix="space")
    assert keys_of(result) == ["space key+plus"] and result["EncodingType"] == "url"
    _, _, body = s3_response(S3_MODEL.operation_model("ListObjectsV2"), result)
    assert isinstance(body, bytes) and b"<Key>space+key%2Bplus</Key>" in body  # the codec encodes, as S3 does
    unicode = s3.s3(root, "ListObjects", Bucket="listing", EncodingType="url", Prefix="é")
    assert keys_of(unicode) == ["é-unicode"]
    raises("InvalidArgument", 400, s3.s3, root, "ListObjectsV2", Bucket="listing", EncodingType="base64")


def test_bad_tokens_and_max_keys(s3: S3World, root: Caller) -> None:
    error = raises("InvalidArgument", 400, s3.s3, root, "ListObjectsV2", Bucket="listing", ContinuationToken="bogus")
    assert error.message == "The continuation token provided is incorrect"
    capped = s3.s3(root, "ListObjectsV2", Bucket="listing", MaxKeys=5000)
    assert capped["MaxKeys"] == 1000 and capped["KeyCount"] == len(KEYS)
    empty = s3.s3(root, "ListObjectsV2", Bucket="listing", MaxKeys=0)
    assert empty["KeyCount"] == 0 and empty["IsTruncated"] is False
