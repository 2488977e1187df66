"""S3's input rules that no shape in the model carries: bucket names, key length, metadata size, tags, the
checksum algorithms S3 computes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from typing import Any
from urllib.parse import parse_qsl

from rolegate.errors import InvalidArgument, InvalidRequest, KeyTooLongError, MetadataTooLarge
from rolegate.services.s3.errors import BadRequest, InvalidBucketName, InvalidTag, NotImplementedFeature, malformed_xml
from rolegate.store.records import Tags

MAX_KEY_BYTES = 1024
MAX_METADATA_BYTES = 2048
MAX_OBJECT_TAGS = 10
MAX_BUCKET_TAGS = 50
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
IP_ADDRESS = re.compile(r"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$")
RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
CHECKSUM_ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")
TAG_CHARS = re.compile(r"^[\w .:/=+\-@]*$", re.UNICODE)
CUSTOMER_KEY_PARAMS = (
    "SSECustomerAlgorithm",
    "SSECustomerKey",
    "CopySourceSSECustomerAlgorithm",
    "CopySourceSSECustomerKey",
)


def check_bucket_name(name: str) -> None:
    """General-purpose bucket naming rules (S3 User Guide, "Bucket naming rules")."""
    valid = (
        bool(BUCKET_NAME.match(name))
        and ".." not in name
        and not IP_ADDRESS.match(name)
        and not name.startswith(RESERVED_PREFIXES)
        and not name.endswith(RESERVED_SUFFIXES)
    )
    if not valid:
        raise InvalidBucketName("The specified bucket is not valid.", BucketName=name)


def refuse_customer_keys(params: Mapping[str, Any]) -> None:
    """Encryption with customer-provided keys (SSE-C) is not offered; refuse it rather than ignore the key."""
    if any(params.get(name) for name in CUSTOMER_KEY_PARAMS):
        raise NotImplementedFeature(
            "A header you provided implies functionality that is not implemented",
            Header="x-amz-server-side-encryption-customer-algorithm",
        )


def check_key(key: str) -> None:
    size = len(key.encode("utf-8"))
    if size > MAX_KEY_BYTES:
        raise KeyTooLongError("Your key is too long", Size=str(size), MaxSizeAllowed=str(MAX_KEY_BYTES))


def metadata_of(params: Mapping[str, Any]) -> Tags:
    """User metadata (`x-amz-meta-*`, names already lower-cased) within S3's 2 KB budget."""
    raw = params.get("Metadata") or {}
    if not isinstance(raw, Mapping):
        raise InvalidArgument("Invalid metadata")
    pairs = tuple(sorted((str(k).lower(), mail_decoded(str(v))) for k, v in raw.items()))
    size = sum(len(k.encode("utf-8")) + len(v.encode("utf-8")) for k, v in pairs)
    if size > MAX_METADATA_BYTES:
        raise MetadataTooLarge(
            "Your metadata headers exceed the maximum allowed metadata size",
            Size=str(size),
            MaxSizeAllowed=str(MAX_METADATA_BYTES),
        )
    return pairs


def mail_decoded(value: str) -> str:
    """A metadata value as S3 stores it: RFC 2047 encoded-words (`=?UTF-8?B?...?=`) decoded, since S3 encodes
    non-ASCII values that way when it returns them. A value that does not decode is kept as sent."""
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError, UnicodeError, HeaderParseError):
        return value


def header_tags(value: str | None) -> Tags:
    """The `x-amz-tagging` header: a URL-encoded query string `k1=v1&k2=v2`."""
    if not value:
        return ()
    try:
        pairs = parse_qsl(value, keep_blank_values=True, strict_parsing=True, max_num_fields=MAX_OBJECT_TAGS + 1)
    except ValueError as error:
        raise InvalidArgument(
            "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without"
            " tag name duplicates."
        ) from error
    return check_tags(pairs, MAX_OBJECT_TAGS, "Object")


def tag_set(tagging: Any, limit: int, kind: str) -> Tags:
    """A `Tagging` payload (`{"TagSet": [{"Key", "Value"}]}`) checked against S3's tag rules."""
    if not isinstance(tagging, Mapping) or not isinstance(tagging.get("TagSet", []), list):
        raise malformed_xml()
    pairs: list[tuple[str, str]] = []
    for tag in tagging.get("TagSet", []):
        if not isinstance(tag, Mapping) or not isinstance(tag.get("Key"), str):
            raise malformed_xml()
        value = tag.get("Value", "")
        pairs.append((tag["Key"], value if isinstance(value, str) else ""))
    return check_tags(pairs, limit, kind)


def check_tags(pairs: list[tuple[str, str]], limit: int, kind: str) -> Tags:
    if len(pairs) > limit:
        raise BadRequest(f"{kind} tags cannot be greater than {limit}")
    seen: set[str] = set()
    for key, value in pairs:
        problem = _tag_problem(key, value)
        if problem:
            raise InvalidTag(problem, TagKey=key)
        if key in seen:
            raise InvalidTag("Cannot provide multiple Tags with the same key", TagKey=key)
        seen.add(key)
    return tuple(pairs)


def _tag_problem(key: str, value: str) -> str:
    if not key or not TAG_CHARS.match(key):
        return "The TagKey you have provided is invalid"
    if len(key) > MAX_TAG_KEY:
        return f"The TagKey you have provided is too long, max {MAX_TAG_KEY}"
    if len(value) > MAX_TAG_VALUE:
        return f"The TagValue you have provided is too long, max {MAX_TAG_VALUE}"
    if not TAG_CHARS.match(value):
        return "The TagValue you have provided is invalid"
    if key.lower().startswith("aws:"):
        return "Your TagKey cannot be prefixed with aws:"
    return ""


def tag_list(tags: Tags) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags]


def max_count(params: Mapping[str, Any], name: str, default: int = 1000, cap: int = 1000) -> int:
    """A paging size parameter: absent → default; S3 never returns more than `cap`."""
    value = params.get(name)
    if value is None:
        return default
    if not isinstance(value, int) or value < 0:
        raise InvalidArgument(f"Provided {name} not an integer or within integer range")
    return min(value, cap)


def checksum_algorithm(params: Mapping[str, Any]) -> str:
    """The `ChecksumAlgorithm` a request asks S3 to compute ("" for none), refused when S3 does not offer it."""
    algorithm = str(params.get("ChecksumAlgorithm") or "").strip().upper()
    if algorithm and algorithm not in CHECKSUM_ALGORITHMS:
        raise InvalidRequest(
            "Checksum algorithm provided is unsupported. Please try again with any of the valid types: "
            f"[{', '.join(CHECKSUM_ALGORITHMS)}]"
        )
    return algorithm
