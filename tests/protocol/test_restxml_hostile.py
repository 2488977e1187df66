"""Hostile and malformed S3 requests: each is one of S3's errors (an AwsError), never another exception."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_restxml_support import wire_request

from rolegate.errors import AwsError
from rolegate.protocol.restxml import parse_copy_source, parse_s3_request

TAGGING = "/b/k"
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<Tagging><TagSet><Tag><Key>&lol2;</Key><Value>v</Value></Tag></TagSet></Tagging>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<Tagging><TagSet><Tag><Key>&x;</Key><Value>v</Value></Tag></TagSet></Tagging>"""


def _code(
    method: str, path: str, query: str = "", headers: dict[str, str] | None = None, body: bytes = b"", **kw: Any
) -> tuple[str, int, dict[str, Any]]:
    with pytest.raises(AwsError) as caught:
        parse_s3_request(method, path, query, headers or {}, io.BytesIO(body), **kw)
    return caught.value.code, caught.value.http_status, caught.value.extra


def _outcome(method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Any:
    """The parse result, or the AwsError it raised (anything else escapes and fails the test)."""
    try:
        return parse_s3_request(method, path, query, headers, io.BytesIO(body))
    except AwsError as error:
        return error


@pytest.mark.parametrize(
    "body",
    [
        b"<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet>",  # unclosed
        b"not xml at all",
        BILLION_LAUGHS,
        XXE,
        b"<Other><TagSet/></Other>",  # wrong root
        b"<Tagging/>",  # required TagSet missing
        b"<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>",  # required Value missing
        b"<Tagging><TagSet/><TagSet/></Tagging>",  # a single member given twice
        "<Tagging><TagSet><Tag><Key>é</Key><Value>v</Value></Tag></TagSet></Tagging>".encode("latin-1"),  # not UTF-8
    ],
)
def test_bad_xml_payloads_are_malformed_xml(body: bytes) -> None:
    assert _code("PUT", TAGGING, "tagging", body=body)[:2] == ("MalformedXML", 400)


def test_typed_xml_values_that_do_not_fit_are_malformed_xml() -> None:
    body = b"<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>"
    assert _code("POST", "/b/k", "uploadId=u", body=body)[0] == "MalformedXML"
    body = b"<Delete><Object><Key>a</Key></Object><Quiet>maybe</Quiet></Delete>"
    assert _code("POST", "/b", "delete", body=body)[0] == "MalformedXML"


def test_delete_with_no_objects_is_malformed_xml_like_s3() -> None:
    assert _code("POST", "/b", "delete", body=b"<Delete><Quiet>true</Quiet></Delete>")[0] == "MalformedXML"


def test_required_payload_missing_is_missing_request_body() -> None:
    assert _code("PUT", TAGGING, "tagging")[:2] == ("MissingRequestBodyError", 400)
    assert _code("PUT", "/b", "policy", body=b"  \n")[0] == "MissingRequestBodyError"


def test_oversized_payloads_are_refused_before_parsing() -> None:
    big = b"<Tagging><TagSet>" + b"<Tag><Key>k</Key><Value>v</Value></Tag>" * 30000 + b"</TagSet></Tagging>"
    code, status, extra = _code("PUT", TAGGING, "tagging", body=big)
    assert (code, status, extra["MaxMessageLengthBytes"]) == ("MaxMessageLengthExceeded", 400, 1024 * 1024)
    policy = b'{"Statement": "' + b"x" * 30000 + b'"}'
    assert _code("PUT", "/b", "policy", body=policy, max_text_bytes=20 * 1024)[0] == "MaxMessageLengthExceeded"


def test_policy_that_is_not_utf8_is_refused() -> None:
    assert _code("PUT", "/b", "policy", body=b'{"a": "\xff"}')[0] == "InvalidRequest"


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/b/%zz", ""),
        ("/b/%4", ""),
        ("/b/%ff%fe", ""),
        ("/b/k", "versionId=%E0%80"),
        ("/b/k", "version%GGId=1"),
        ("b/k", ""),
    ],
)
def test_bad_percent_encoding_and_utf8_are_invalid_uri(path: str, query: str) -> None:
    assert _code("GET", path, query)[:2] == ("InvalidURI", 400)


def test_raw_non_utf8_path_bytes_are_invalid_uri() -> None:
    with pytest.raises(AwsError) as caught:
        parse_s3_request("GET", b"/b/\xc3(", b"", {}, None)
    assert caught.value.code == "InvalidURI"


def test_too_many_query_fields_are_invalid_uri() -> None:
    assert _code("GET", "/b", "&".join(f"p{i}=1" for i in range(1001)))[0] == "InvalidURI"


@pytest.mark.parametrize(
    ("method", "path", "query", "resource"),
    [
        ("POST", "/b/k", "", "OBJECT"),
        ("POST", "/b", "", "BUCKET"),
        ("PUT", "/", "", "SERVICE"),
        ("PATCH", "/b/k", "", "OBJECT"),
        ("DELETE", "/", "", "SERVICE"),
    ],
)
def test_unmatched_method_and_resource_is_method_not_allowed(method: str, path: str, query: str, resource: str) -> None:
    code, status, extra = _code(method, path, query)
    assert (code, status, extra) == ("MethodNotAllowed", 405, {"Method": method, "ResourceType": resource})


def test_unsupported_operation_is_not_implemented() -> None:
    code, status, _ = _code("GET", "/b", "website", supported={"ListObjects"})
    assert (code, status) == ("NotImplemented", 501)


def test_a_subresource_missing_its_required_header_names_it() -> None:
    code, status, _ = _code("GET", "/b/k", "attributes")
    assert (code, status) == ("InvalidRequest", 400)


@pytest.mark.parametrize(
    ("query", "headers", "argument"),
    [
        ("list-type=2&max-keys=ten", {}, "max-keys"),
        ("list-type=2&max-keys=99999999999", {}, "max-keys"),
        ("list-type=2&fetch-owner=maybe", {}, "fetch-owner"),
        ("list-type=2&max-keys=1&max-keys=2", {}, "max-keys"),
        ("list-type=2", {"x-amz-optional-object-attributes": '"unterminated'}, "x-amz-optional-object-attributes"),
    ],
)
def test_untyped_values_are_invalid_argument_naming_the_parameter(
    query: str, headers: dict[str, str], argument: str
) -> None:
    code, status, extra = _code("GET", "/b", query, headers)
    assert (code, status, extra["ArgumentName"]) == ("InvalidArgument", 400, argument)


def test_bad_header_values_are_invalid_argument() -> None:
    code, _, extra = _code("PUT", "/b/k", "", {"Content-Length": "5", "x-amz-object-lock-retain-until-date": "soon"})
    assert (code, extra["ArgumentName"]) == ("InvalidArgument", "x-amz-object-lock-retain-until-date")
    code, _, extra = _code("PUT", "/b/k", "", {"Content-Length": "-x"})
    assert (code, extra["ArgumentName"]) == ("InvalidArgument", "content-length")


def test_key_too_long() -> None:
    code, status, extra = _code("GET", "/b/" + "%C3%A9" * 513)
    assert (code, status, extra) == ("KeyTooLongError", 400, {"Size": 1026, "MaxSizeAllowed": 1024})
    parse_s3_request("GET", "/b/" + "k" * 1024, "", {}, None)  # exactly at the limit is fine


def test_metadata_too_large() -> None:
    headers = {"Content-Length": "0", "x-amz-meta-big": "v" * 2046}
    code, status, extra = _code("PUT", "/b/k", "", headers)
    assert (code, status, extra["Size"], extra["MaxSizeAllowed"]) == ("MetadataTooLarge", 400, 2049, 2048)


def test_streaming_upload_without_length_is_missing_content_length() -> None:
    assert _code("PUT", "/b/k", "", {"Transfer-Encoding": "chunked"})[:2] == ("MissingContentLength", 411)


def test_content_md5_mismatch_and_garbage() -> None:
    method, path, query, headers, body = wire_request(
        "PutBucketTagging", {"Bucket": "b", "Tagging": {"TagSet": [{"Key": "k", "Value": "v"}]}}
    )
    headers["Content-MD5"] = "1B2M2Y8AsgTpgAmY7PhCfg=="  # the MD5 of nothing
    assert _code(method, path, query, headers, body)[:2] == ("BadDigest", 400)
    headers["Content-MD5"] = "not base64!"
    assert _code(method, path, query, headers, body)[:2] == ("InvalidDigest", 400)


@pytest.mark.parametrize(
    "value", ["", "bucket-only", "/bucket", "bucket/", "b/%zz", "b/k?versionId=1&x=2", "b/k?other=1"]
)
def test_bad_copy_sources_are_invalid_argument(value: str) -> None:
    with pytest.raises(AwsError) as caught:
        parse_copy_source(value)
    assert (caught.value.code, caught.value.extra["ArgumentName"]) == ("InvalidArgument", "x-amz-copy-source")
    assert _code("PUT", "/b/k", "", {"x-amz-copy-source": value})[0] == "InvalidArgument"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH"]),
    path=st.text(max_size=60).map(lambda text: "/" + text),
    query=st.text(max_size=60),
    headers=st.dictionaries(
        st.sampled_from(
            [
                "content-length",
                "x-amz-copy-source",
                "if-modified-since",
                "x-amz-meta-a",
                "content-md5",
                "range",
                "x-amz-decoded-content-length",
            ]
        ),
        st.text(max_size=30),
        max_size=4,
    ),
    body=st.binary(max_size=200),
)
def test_arbitrary_requests_raise_nothing_but_aws_errors(
    method: str, path: str, query: str, headers: dict[str, str], body: bytes
) -> None:
    outcome = _outcome(method, path, query, headers, body)
    if isinstance(outcome, AwsError):
        assert outcome.code and 300 <= outcome.http_status < 600
    else:
        assert outcome[0].name and isinstance(outcome[1], dict)


XML_ISH = st.recursive(
    st.text(max_size=10),
    lambda children: st.builds(
        lambda tag, inner: f"<{tag}>{''.join(inner)}</{tag}>",
        st.sampled_from(["Delete", "Object", "Key", "VersionId", "Quiet", "Tagging", "TagSet", "Tag", "Value", "x"]),
        st.lists(children, max_size=3),
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(document=XML_ISH, target=st.sampled_from([("POST", "/b", "delete"), ("PUT", "/b/k", "tagging")]))
def test_arbitrary_xml_payloads_raise_nothing_but_aws_errors(document: str, target: tuple[str, str, str]) -> None:
    method, path, query = target
    outcome = _outcome(method, path, query, {}, document.encode("utf-8"))
    if isinstance(outcome, AwsError):
        assert outcome.code in ("MalformedXML", "MissingRequestBodyError")
    else:
        assert ("Delete" in outcome[1]) or ("Tagging" in outcome[1])
