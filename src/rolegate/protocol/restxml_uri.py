"""S3 addressing: virtual-hosted buckets to path style, strict percent-decoding of paths and query strings.

Paths and query strings are taken raw (still percent-encoded, as sent) and decoded exactly once: a
decoded `%2F` inside a key is a slash like any other, `+` in a path is a plus sign, while `+` in a query
string is a space (form encoding; botocore always writes `%2B` and `%20`). Malformed escapes and bytes
that are not UTF-8 are S3's InvalidURI rather than being guessed at.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from urllib.parse import quote

from rolegate.errors import AwsError, InvalidArgument
from rolegate.protocol.restxml_errors import INVALID_URI, InvalidURI

MAX_QUERY_FIELDS = 1000
_CACHED_HOST_CHARS = 300  # a DNS name and a port: longer (hostile) Host values are not kept in the cache
_ESCAPE = re.compile(rb"%([0-9A-Fa-f]{2})")
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")
_PORT = re.compile(r":[0-9]{1,5}")
COPY_SOURCE_HEADER = "x-amz-copy-source"
COPY_SOURCE_MESSAGE = "Copy Source must mention the source bucket and key: sourcebucket/sourcekey"


def _raw(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


def percent_decode(value: str | bytes, *, plus_is_space: bool = False) -> str:
    """One round of percent-decoding to UTF-8 text; InvalidURI for a bad escape or bad UTF-8."""
    if value.__class__ is str and "%" not in value and value.isascii():  # the usual label: nothing to decode
        return value.replace("+", " ") if plus_is_space else value
    raw = value if isinstance(value, bytes) else value.encode("utf-8")
    if plus_is_space:
        raw = raw.replace(b"+", b" ")
    if b"%" in raw:  # most labels and values carry no escape: skip both regular expressions
        if _BAD_ESCAPE.search(raw):
            raise InvalidURI(INVALID_URI)
        raw = _ESCAPE.sub(_unescape, raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidURI(INVALID_URI) from None


def _unescape(match: re.Match[bytes]) -> bytes:
    return bytes([int(match.group(1), 16)])


def parse_query_string(raw_query: str | bytes) -> dict[str, list[str]]:
    """`a=1&b&a=2` as {"a": ["1", "2"], "b": [""]}; keys keep their case (S3 parameters are case-sensitive)."""
    if not raw_query:
        return {}
    raw = _raw(raw_query)
    fields = [field for field in raw.split(b"&") if field]
    if len(fields) > MAX_QUERY_FIELDS:
        raise InvalidURI(INVALID_URI)
    params: dict[str, list[str]] = {}
    for field in fields:
        key, _, value = field.partition(b"=")
        params.setdefault(percent_decode(key, plus_is_space=True), []).append(percent_decode(value, plus_is_space=True))
    return params


def split_bucket_host(host: str, path: str, base_hosts: Iterable[str]) -> str:
    """The path-style path for a request: `b.s3.localhost:9000` + `/k` -> `/b/k` when `s3.localhost` is a base.

    The longest base host that the Host header (port dropped, case folded) ends with wins, so a base of
    `localhost` and one of `s3.localhost` can coexist. A Host equal to a base host, or matching none
    (an IP address, an unknown name), is already path style and leaves the path as it is. The bucket
    label is percent-encoded into the path, so a hostile Host cannot smuggle in extra path segments.
    """
    prefix: str | None
    if host.__class__ is str and len(host) <= _CACHED_HOST_CHARS and isinstance(base_hosts, tuple):
        try:  # the server's base hosts are one tuple, and clients reuse a few Host values
            prefix = _cached_bucket_prefix(host, base_hosts)
        except TypeError:  # something unhashable: the uncached rule below says what happens
            prefix = _bucket_prefix(host, base_hosts)
    else:
        prefix = _bucket_prefix(host, base_hosts)
    if prefix is None:
        return path
    tail = path if path.startswith("/") else "/" + path
    return prefix + ("" if tail == "/" else tail)


def _bucket_prefix(host: str, base_hosts: Iterable[str]) -> str | None:
    """`/<quoted bucket>` when the Host names a bucket under a base host; None when it is path style."""
    name = _host_name(host)
    bases = sorted({base.lower().rstrip(".") for base in base_hosts if base}, key=len, reverse=True)
    if not name or name in bases:
        return None
    for base in bases:
        if name.endswith("." + base):
            return "/" + quote(name[: -len(base) - 1], safe="")
    return None


_cached_bucket_prefix = functools.lru_cache(maxsize=256)(_bucket_prefix)


def _host_name(host: str) -> str:
    name = host.strip().lower()
    if name.startswith("["):  # an IPv6 literal is never a virtual host
        return ""
    port = _PORT.search(name)
    if port and port.end() == len(name):
        name = name[: port.start()]
    return name.rstrip(".")


def parse_copy_source(value: str) -> tuple[str, str, str | None]:
    """(bucket, key, version id) from `x-amz-copy-source`: `[/]bucket/url-encoded-key[?versionId=v]`.

    The key is percent-decoded once (botocore quotes it with `/` and `~` kept). Anything without both a
    bucket and a key is InvalidArgument, as S3 answers.
    """
    path, _, query = value.partition("?")
    try:
        decoded = percent_decode(path.lstrip("/"))
        bucket, slash, key = decoded.partition("/")
        version = None
        if query:
            params = parse_query_string(query)
            if set(params) != {"versionId"} or len(params["versionId"]) != 1:
                raise _copy_source_error(value)
            version = params["versionId"][0]
    except InvalidURI:
        raise _copy_source_error(value) from None
    if not bucket or not slash or not key:
        raise _copy_source_error(value)
    return bucket, key, version


def _copy_source_error(value: str) -> AwsError:
    return InvalidArgument(COPY_SOURCE_MESSAGE, ArgumentName=COPY_SOURCE_HEADER, ArgumentValue=value[:1024])
