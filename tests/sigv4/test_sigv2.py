"""SigV2 for S3: AWS's published examples, and what botocore's HmacV1 signers and boto3's default presigner produce.

botocore reads the time for SigV2 through `time.time()` (presigned `Expires`) and `email.utils.formatdate`
(the `Date` header); the tests freeze it and give the verifier a FixedClock, so nothing depends on the wall clock.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock
from urllib.parse import quote, urlsplit

import boto3
import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from rolegate.clock import FixedClock
from rolegate.errors import AwsError, SignatureDoesNotMatch
from rolegate.sigv4 import HttpRequestView, VerifiedRequest, verify_s3, verify_sigv2

SESSION = boto3.session.Session()  # one session: the S3 model is loaded once
ACCESS_KEY = "AKIAROLEGATESIGV2001"
SECRET = "sigv2/secret+key/EXAMPLE0123456789abcdef"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE//////////token+with/odd=chars"
NOW = 1_768_471_200  # 2026-01-15T10:00:00Z
ENDPOINT = "http://127.0.0.1:9"

DOC_KEY, DOC_SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def secret_for(access_key_id: str) -> str | None:
    return {ACCESS_KEY: SECRET, DOC_KEY: DOC_SECRET}.get(access_key_id)


def at(epoch: float) -> FixedClock:
    return FixedClock(datetime.fromtimestamp(epoch, UTC))


@contextmanager
def frozen_time(epoch: float = NOW) -> Iterator[None]:
    with mock.patch("time.time", return_value=epoch):
        yield


def view_of(method: str, url: str, headers: dict[str, str] | None = None) -> HttpRequestView:
    parts = urlsplit(url)
    pairs = [("Host", parts.netloc), *(headers or {}).items()]
    payload = (headers or {}).get("X-Amz-Content-SHA256", "")
    return HttpRequestView(method, parts.path, parts.query, pairs, payload)


def check(view: HttpRequestView, clock: FixedClock | None = None, **kwargs: Any) -> VerifiedRequest:
    verified = verify_s3(view, secret_for, clock or at(NOW + 5), **kwargs)
    assert verified is not None
    return verified


def rejected(view: HttpRequestView, clock: FixedClock | None = None, **kwargs: Any) -> AwsError:
    with pytest.raises(AwsError) as raised:
        verify_s3(view, secret_for, clock or at(NOW + 5), **kwargs)
    return raised.value


# --- AWS's examples (Amazon S3 developer guide, "Signing and authenticating REST requests") -------------------


def test_aws_query_string_example() -> None:
    query = "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620"
    view = view_of("GET", f"http://johnsmith.s3.amazonaws.com/photos/puppy.jpg?{query}")
    verified = check(view, at(1175139620), resource_path="/johnsmith/photos/puppy.jpg")
    assert (verified.access_key_id, verified.presigned, verified.signature_version) == (DOC_KEY, True, "AWS")
    assert verified.auth_type == "REST-QUERY-STRING"
    error = rejected(view, at(1175139621), resource_path="/johnsmith/photos/puppy.jpg")
    assert (error.code, error.message) == ("AccessDenied", "Request has expired")
    assert error.extra == {"Expires": "2007-03-29T03:40:20Z", "ServerTime": "2007-03-29T03:40:21Z"}
    assert rejected(view, at(1175139620)).code == "SignatureDoesNotMatch"  # signed for the virtual-hosted bucket


def test_aws_header_example() -> None:
    headers = {
        "Date": "Tue, 27 Mar 2007 19:36:42 +0000",
        "Authorization": "AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=",
    }
    view = view_of("GET", "http://johnsmith.s3.amazonaws.com/photos/puppy.jpg", headers)
    instant = datetime(2007, 3, 27, 19, 36, 42, tzinfo=UTC)
    verified = check(view, FixedClock(instant + timedelta(minutes=14)), resource_path="/johnsmith/photos/puppy.jpg")
    assert verified.signed_at == instant
    assert verified.auth_type == "REST-HEADER"
    error = rejected(view, FixedClock(instant + timedelta(minutes=16)), resource_path="/johnsmith/photos/puppy.jpg")
    assert (error.code, error.http_status) == ("RequestTimeTooSkewed", 403)
    assert error.message == "The difference between the request time and the current time is too large."
    assert error.extra == {
        "RequestTime": "Tue, 27 Mar 2007 19:36:42 +0000",
        "ServerTime": "2007-03-27T19:52:42Z",
        "MaxAllowedSkewMilliseconds": "900000",
    }


# --- what boto3 and botocore produce --------------------------------------------------------------------------


def client(token: str | None = None, **config: Any) -> Any:
    return SESSION.client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET,
        aws_session_token=token,
        config=Config(**config) if config else None,
    )


def presigned(
    method: str, operation: str, params: dict[str, Any], *, token: str | None = None, expires: int = 900
) -> HttpRequestView:
    with frozen_time():
        url = client(token).generate_presigned_url(operation, Params=params, ExpiresIn=expires, HttpMethod=method)
    return view_of(method, url)


KEY = "dir/ü a+b~c.txt"
PRESIGNED: dict[str, tuple[str, str, dict[str, Any]]] = {
    "get": ("GET", "get_object", {"Bucket": "bucket", "Key": KEY}),
    "get-overrides": (
        "GET",
        "get_object",
        {
            "Bucket": "bucket",
            "Key": KEY,
            "ResponseContentType": "text/plain; charset=utf-8",
            "ResponseContentDisposition": 'attachment; filename="a b.txt"',
        },
    ),
    "get-version": ("GET", "get_object", {"Bucket": "bucket", "Key": KEY, "VersionId": "v1+/="}),
    "put": ("PUT", "put_object", {"Bucket": "bucket", "Key": KEY}),
    "create-multipart": ("POST", "create_multipart_upload", {"Bucket": "bucket", "Key": KEY}),
    "upload-part": ("PUT", "upload_part", {"Bucket": "bucket", "Key": KEY, "UploadId": "u/1+2", "PartNumber": 2}),
    "put-tagging": ("PUT", "put_object_tagging", {"Bucket": "bucket", "Key": KEY, "Tagging": {"TagSet": []}}),
    "list-v2": ("GET", "list_objects_v2", {"Bucket": "bucket", "Prefix": "a b/"}),
}


def test_boto3_presigns_sigv2_by_default() -> None:
    view = presigned(*PRESIGNED["get"])
    names = [piece.partition("=")[0] for piece in view.raw_query.split("&")]
    assert names == ["AWSAccessKeyId", "Signature", "Expires"]
    assert not any(name.startswith("X-Amz-") for name in names)


@pytest.mark.parametrize("name", PRESIGNED)
def test_accepts_boto3_presigned_urls(name: str) -> None:
    method, operation, params = PRESIGNED[name]
    verified = check(presigned(method, operation, params))
    assert verified == VerifiedRequest(
        access_key_id=ACCESS_KEY,
        session_token=None,
        region="",
        service="s3",
        signed_at=datetime.fromtimestamp(NOW + 5, UTC),
        presigned=True,
        signature_version="AWS",
    )


def test_signed_sub_resources_are_in_the_string_to_sign() -> None:
    view = presigned(*PRESIGNED["upload-part"])
    with pytest.raises(SignatureDoesNotMatch) as raised:
        verify_sigv2(view, lambda _: "wrong", at(NOW))
    assert (
        raised.value.extra["StringToSign"]
        == f"PUT\n\n\n{NOW + 900}\n/bucket/dir/%C3%BC%20a%2Bb~c.txt?partNumber=2&uploadId=u/1+2"
    )
    assert raised.value.extra["StringToSignBytes"].startswith("50 55 54 0a")  # "PUT\n"
    assert raised.value.extra["AWSAccessKeyId"] == ACCESS_KEY
    assert "wrong" not in repr(raised.value.extra) and SECRET not in repr(raised.value.extra)


def test_a_session_token_travels_in_the_query_and_is_signed() -> None:
    view = presigned(*PRESIGNED["get"], token=TOKEN)
    assert "x-amz-security-token=" in view.raw_query
    assert check(view).session_token == TOKEN
    assert TOKEN not in repr(check(view))
    other = dataclasses.replace(
        view, raw_query=view.raw_query.replace("x-amz-security-token=", "x-amz-security-token=x")
    )
    assert rejected(other).code == "SignatureDoesNotMatch"


@pytest.mark.parametrize("where", ["query", "header"])
def test_a_mismatch_shows_the_string_to_sign_without_the_session_token(where: str) -> None:
    view = presigned(*PRESIGNED["get"], token=TOKEN) if where == "query" else header_signed(token=TOKEN)
    wrong = dataclasses.replace(view, raw_path=view.raw_path + "x")
    error = rejected(wrong)
    assert error.code == "SignatureDoesNotMatch"
    assert "x-amz-security-token:(session token not shown)\n" in error.extra["StringToSign"]
    assert bytes.fromhex(error.extra["StringToSignBytes"].replace(" ", "")).decode() == error.extra["StringToSign"]
    assert TOKEN not in repr(error.extra)


def _replace_query(view: HttpRequestView, name: str, value: str) -> HttpRequestView:
    pieces = [f"{name}={value}" if piece.startswith(f"{name}=") else piece for piece in view.raw_query.split("&")]
    return dataclasses.replace(view, raw_query="&".join(pieces))


TAMPERS: dict[str, tuple[str, Callable[[HttpRequestView], HttpRequestView]]] = {
    "method": ("get", lambda view: dataclasses.replace(view, method="DELETE")),
    "path": ("get", lambda view: dataclasses.replace(view, raw_path=view.raw_path + "x")),
    "sub-resource-value": ("get-overrides", lambda view: _replace_query(view, "response-content-type", "text/html")),
    "sub-resource-added": ("get", lambda view: dataclasses.replace(view, raw_query=view.raw_query + "&tagging")),
    "version": ("get-version", lambda view: _replace_query(view, "versionId", "v2")),
    "expires-extended": ("get", lambda view: _replace_query(view, "Expires", str(NOW + 9999))),
    "signature": ("get", lambda view: _replace_query(view, "Signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA%3D")),
    "amz-header-added": ("get", lambda view: dataclasses.replace(view, headers=[*view.headers, ("x-amz-meta-a", "b")])),
}


@pytest.mark.parametrize("name", TAMPERS)
def test_rejects_tampered_urls(name: str) -> None:
    base, tamper = TAMPERS[name]
    view = presigned(*PRESIGNED[base])
    tampered = tamper(view)
    assert tampered != view
    error = rejected(tampered)
    assert (error.code, error.http_status) == ("SignatureDoesNotMatch", 403)
    assert error.message == (
        "The request signature we calculated does not match the signature you provided. Check your key and signing method."
    )


def test_unsigned_query_parameters_do_not_matter() -> None:
    view = presigned(*PRESIGNED["list-v2"])
    assert check(dataclasses.replace(view, raw_query=view.raw_query + "&x-id=GetObject&prefix=other"))


def test_an_unescaped_plus_in_the_signature_still_matches() -> None:
    for attempt in range(40):  # find a URL whose signature has a '+', then send it unescaped
        view = presigned("GET", "get_object", {"Bucket": "bucket", "Key": f"k{attempt}"})
        if "%2B" in view.raw_query:
            assert check(dataclasses.replace(view, raw_query=view.raw_query.replace("%2B", "+")))
            return
    pytest.fail("no signature with a '+' in 40 tries")


def test_expiry() -> None:
    view = presigned(*PRESIGNED["get"], expires=60)
    assert check(view, at(NOW + 60))
    error = rejected(view, at(NOW + 61))
    assert (error.code, error.http_status, error.message) == ("AccessDenied", 403, "Request has expired")
    assert error.extra == {"Expires": "2026-01-15T10:01:00Z", "ServerTime": "2026-01-15T10:01:01Z"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "AWSAccessKeyId=AKIAROLEGATESIGV2001&Expires=1768471260",
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
        ),
        (
            "Signature=abc&Expires=1768471260",
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
        ),
        (
            "AWSAccessKeyId=AKIAROLEGATESIGV2001&Signature=abc&Expires=",
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
        ),
        (
            "AWSAccessKeyId=AKIAROLEGATESIGV2001&Signature=abc&Expires=soon",
            "Invalid date (should be seconds since epoch): soon",
        ),
    ],
)
def test_incomplete_query_authentication(query: str, message: str) -> None:
    error = rejected(view_of("GET", f"{ENDPOINT}/bucket/key?{query}"))
    assert (error.code, error.http_status, error.message) == ("AccessDenied", 403, message)


def test_unknown_access_key() -> None:
    view = presigned(*PRESIGNED["get"])
    error = rejected(_replace_query(view, "AWSAccessKeyId", "AKIANOBODY"))
    assert (error.code, error.http_status) == ("InvalidAccessKeyId", 403)
    assert error.extra == {"AWSAccessKeyId": "AKIANOBODY"}


def test_one_mechanism_only() -> None:
    view = presigned(*PRESIGNED["get"])
    for other in (
        dataclasses.replace(view, headers=[*view.headers, ("Authorization", "AWS a:b")]),
        dataclasses.replace(view, raw_query=view.raw_query + "&X-Amz-Algorithm=AWS4-HMAC-SHA256"),
    ):
        error = rejected(other)
        assert (error.code, error.http_status) == ("InvalidArgument", 400)
        assert error.message.startswith("Only one auth mechanism allowed")


# --- the header form ----------------------------------------------------------------------------------------


def header_signed(*, token: str | None = None, extra: dict[str, str] | None = None) -> HttpRequestView:
    request = AWSRequest(
        method="PUT",
        url=f"{ENDPOINT}/bucket/{quote(KEY)}?tagging",
        headers={
            "Content-Type": "text/plain",
            "Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg==",
            "x-amz-meta-Colour": " blue ",
            **(extra or {}),
        },
    )
    with frozen_time():
        botocore.auth.HmacV1Auth(Credentials(ACCESS_KEY, SECRET, token)).add_auth(request)
    return view_of("PUT", request.url, dict(request.headers.items()))


def test_accepts_botocore_header_signatures() -> None:
    view = header_signed(token=TOKEN)
    verified = check(view)
    assert (verified.presigned, verified.session_token, verified.signature_version) == (False, TOKEN, "AWS")
    assert verified.signed_at == datetime.fromtimestamp(NOW, UTC)


def test_aws_delete_example_with_x_amz_date() -> None:
    """AWS's example puts the x-amz-date value on the date line; the documented rule leaves the line empty."""
    headers = {
        "Date": "Tue, 27 Mar 2007 21:20:27 +0000",
        "x-amz-date": "Tue, 27 Mar 2007 21:20:26 +0000",
        "Authorization": "AWS AKIAIOSFODNN7EXAMPLE:lx3byBScXR6KzyMaifNkardMwNk=",
    }
    view = view_of("DELETE", "http://s3.amazonaws.com/johnsmith/photos/puppy.jpg", headers)
    instant = datetime(2007, 3, 27, 21, 20, 26, tzinfo=UTC)
    assert check(view, FixedClock(instant)).signed_at == instant
    rule_form = "DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n/johnsmith/photos/puppy.jpg"
    signature = base64.b64encode(hmac.new(DOC_SECRET.encode(), rule_form.encode(), hashlib.sha1).digest()).decode()
    rule_view = dataclasses.replace(view, headers=[*view.headers[:-1], ("Authorization", f"AWS {DOC_KEY}:{signature}")])
    assert check(rule_view, FixedClock(instant))
    assert rejected(view, FixedClock(instant + timedelta(minutes=16))).code == "RequestTimeTooSkewed"


def test_aws_upload_example_joins_repeated_headers() -> None:
    headers = [
        ("Host", "static.johnsmith.net:8080"),
        ("Date", "Tue, 27 Mar 2007 21:06:08 +0000"),
        ("x-amz-acl", "public-read"),
        ("content-type", "application/x-download"),
        ("Content-MD5", "4gJE4saaMU4BqNR0kLY+lw=="),
        ("X-Amz-Meta-ReviewedBy", "joe@johnsmith.net"),
        ("X-Amz-Meta-ReviewedBy", "jane@johnsmith.net"),
        ("X-Amz-Meta-FileChecksum", "0x02661779"),
        ("X-Amz-Meta-ChecksumAlgorithm", "crc32"),
        ("Content-Disposition", "attachment; filename=database.dat"),
        ("Content-Encoding", "gzip"),
        ("Content-Length", "5913339"),
        ("Authorization", "AWS AKIAIOSFODNN7EXAMPLE:ilyl83RwaSoYIEdixDQcA4OnAnc="),
    ]
    view = HttpRequestView("PUT", "/db-backup.dat.gz", "", headers, "")
    clock = FixedClock(datetime(2007, 3, 27, 21, 6, 8, tzinfo=UTC))
    assert check(view, clock, resource_path="/static.johnsmith.net/db-backup.dat.gz")
    reordered = dataclasses.replace(view, headers=[headers[6], *headers[:6], *headers[7:]])
    assert (
        rejected(reordered, clock, resource_path="/static.johnsmith.net/db-backup.dat.gz").code
        == "SignatureDoesNotMatch"
    )


@pytest.mark.parametrize(
    "tamper",
    [
        lambda headers: {**headers, "Content-Type": "text/html"},
        lambda headers: {**headers, "Content-MD5": "XrY7u+Ae7tCTyyK7j1rNww=="},
        lambda headers: {**headers, "x-amz-meta-colour": "red"},
        lambda headers: {**headers, "X-Amz-Acl": "public-read"},
        lambda headers: {**headers, "Date": "Thu, 15 Jan 2026 10:00:01 GMT"},
    ],
    ids=["content-type", "content-md5", "amz-header", "amz-header-added", "date"],
)
def test_rejects_tampered_headers(tamper: Callable[[dict[str, str]], dict[str, str]]) -> None:
    view = header_signed()
    headers = dict(view.headers)
    tampered = dataclasses.replace(view, headers=list(tamper(headers).items()))
    assert rejected(tampered).code == "SignatureDoesNotMatch"


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        ("AWS AKIAROLEGATESIGV2001", "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature"),
        ("AWS :c2ln", "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature"),
        ("AWS  AKIAROLEGATESIGV2001:c2ln", "Authorization header is invalid -- one and only one ' ' (space) required"),
    ],
)
def test_malformed_header(authorization: str, message: str) -> None:
    view = view_of(
        "GET", f"{ENDPOINT}/bucket/key", {"Date": "Thu, 15 Jan 2026 10:00:00 GMT", "Authorization": authorization}
    )
    error = rejected(view)
    assert (error.code, error.http_status, error.message) == ("InvalidArgument", 400, message)
    assert error.extra == {"ArgumentName": "Authorization", "ArgumentValue": authorization}


def test_header_form_needs_a_date() -> None:
    view = view_of("GET", f"{ENDPOINT}/bucket/key", {"Authorization": "AWS AKIAROLEGATESIGV2001:c2ln"})
    error = rejected(view)
    assert (error.code, error.message) == (
        "AccessDenied",
        "AWS authentication requires a valid Date or x-amz-date header",
    )


def test_anonymous_requests_are_none() -> None:
    assert verify_s3(view_of("GET", f"{ENDPOINT}/bucket/key?list-type=2"), secret_for, at(NOW)) is None
