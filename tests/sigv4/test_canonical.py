"""The SigV4 canonicalization steps on their own: paths, queries, headers, dates and the key derivation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from rolegate.sigv4.canonical import (
    amz_date,
    canonical_headers,
    canonical_query_string,
    canonical_uri,
    normalize_path,
    query_pairs,
    signed_headers,
    signing_key,
    trim_all,
)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("", "/"),
        ("/", "/"),
        ("//", "/"),
        ("/./", "/"),
        ("/example/..", "/"),
        ("/example1/example2/../..", "/"),
        ("/../../a", "/a"),
        ("//example//", "/example/"),
        ("/a/./b/../c", "/a/c"),
        ("/a/b/.", "/a/b"),
        ("/a/b/", "/a/b/"),
        ("/%2E%2E/a", "/%2E%2E/a"),  # encoded dots are data, not dot segments
    ],
)
def test_normalize_path(path: str, expected: str) -> None:
    assert normalize_path(path) == expected


@pytest.mark.parametrize(
    ("raw_path", "service_form", "s3_form"),
    [
        ("/", "/", "/"),
        ("", "/", "/"),
        ("/a%20b", "/a%2520b", "/a%20b"),  # botocore sends %20 and signs %2520 for non-S3 services
        ("/a b/ü", "/a%20b/%C3%BC", "/a%20b/%C3%BC"),
        ("/%e1%88%b4", "/%25e1%2588%25b4", "/%E1%88%B4"),
        ("/my-object//example//photo.user", "/my-object/example/photo.user", "/my-object//example//photo.user"),
        ("/a/./b/../c", "/a/c", "/a/./b/../c"),
        ("/%7Etilde~", "/%257Etilde~", "/~tilde~"),
        ("/$delete+plus", "/%24delete%2Bplus", "/%24delete%2Bplus"),  # `+` in a path is a plus, not a space
        ("/%2Fkey", "/%252Fkey", "//key"),
        ("/%FF", "/%25FF", "/%FF"),  # bytes that are not UTF-8 survive
    ],
)
def test_canonical_uri(raw_path: str, service_form: str, s3_form: str) -> None:
    assert canonical_uri(raw_path, normalize=True) == service_form
    assert canonical_uri(raw_path, normalize=False) == s3_form


@pytest.mark.parametrize(
    ("raw_query", "expected"),
    [
        ("", ""),
        ("b=2&a=1", "a=1&b=2"),
        ("a=2&a=1&a=10", "a=1&a=10&a=2"),
        ("Param1=value2&Param1=Value1", "Param1=Value1&Param1=value2"),
        ("flag&empty=&x=1", "empty=&flag=&x=1"),
        ("a=1&&b=2&", "a=1&b=2"),
        ("q=a+b", "q=a%20b"),  # `+` on the wire is a space
        ("q=a%2Bb", "q=a%2Bb"),
        ("q=a%20b", "q=a%20b"),
        ("%e1%88%b4=%7e", "%E1%88%B4=~"),
        ("ሴ=bar", "%E1%88%B4=bar"),
        ("k=%FF%FE", "k=%FF%FE"),
        ("prefix=/a b/&list-type=2", "list-type=2&prefix=%2Fa%20b%2F"),
        ("Param-3=Value3&Param=Value2&%E1%88%B4=Value1", "%E1%88%B4=Value1&Param=Value2&Param-3=Value3"),
    ],
)
def test_canonical_query_string(raw_query: str, expected: str) -> None:
    assert canonical_query_string(raw_query) == expected


def test_canonical_query_string_from_pairs_and_with_exclusions() -> None:
    assert canonical_query_string([("b", "x y"), ("a", "ü")]) == "a=%C3%BC&b=x%20y"
    raw = "X-Amz-Signature=abc&X-Amz-Date=20150830T123600Z&x-amz-signature=kept"
    assert canonical_query_string(raw, exclude=("X-Amz-Signature",)) == (
        "X-Amz-Date=20150830T123600Z&x-amz-signature=kept"
    )


def test_query_pairs_keep_order_repeats_and_blanks() -> None:
    assert query_pairs("b=1&a&b=&c=x%3Dy+z") == [("b", "1"), ("a", ""), ("b", ""), ("c", "x=y z")]


def test_canonical_headers() -> None:
    headers = [
        ("Host", "example.amazonaws.com"),
        ("My-Header1", "  a   b\t c  "),
        ("my-header1", "second"),
        ("Folded", "value1\n  value2\n     value3"),
        ("Unsigned", "ignored"),
    ]
    assert canonical_headers(headers, ["my-header1", "HOST", "folded", "absent"]) == (
        "absent:\nfolded:value1 value2 value3\nhost:example.amazonaws.com\nmy-header1:a b c,second\n"
    )


def test_signed_headers_are_lower_case_sorted_and_unique() -> None:
    assert signed_headers(["X-Amz-Date", "host", "Host", "content-type"]) == "content-type;host;x-amz-date"


def test_trim_all() -> None:
    assert trim_all('  "a   b   c"  ') == '"a b c"'


def test_amz_date() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert amz_date(datetime(2015, 8, 30, 14, 36, tzinfo=plus_two)) == "20150830T123600Z"
    assert amz_date(datetime(2015, 8, 30, 12, 36, 0, 999_999, tzinfo=UTC)) == "20150830T123600Z"
    assert amz_date(datetime(2015, 8, 30, 12, 36)) == "20150830T123600Z"  # naive means UTC


def test_signing_key_matches_the_aws_documentation_example() -> None:
    key = signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
