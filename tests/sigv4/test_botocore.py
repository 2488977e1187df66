"""verify() against requests signed by botocore itself: SigV4Auth, SigV4QueryAuth, the S3 signers and real clients.

botocore reads the time through `botocore.auth.get_current_datetime`; the tests freeze it there and give
verify() a FixedClock a few seconds later, so nothing sleeps and nothing depends on the wall clock.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock
from urllib.parse import quote, urlsplit

import botocore.auth
import botocore.session
import pytest
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.utils import percent_encode_sequence
from hypothesis import given, settings
from hypothesis import strategies as st

from rolegate.clock import FixedClock
from rolegate.errors import AccessDenied, AwsError, SignatureDoesNotMatch
from rolegate.sigv4 import HttpRequestView, VerifiedRequest, verify
from rolegate.sigv4.canonical import hashed_payload

ACCESS_KEY = "ASIAROLEGATEEXAMPLE1"
SECRET = "rolegate/secret+key/EXAMPLE0123456789abcdef"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE//////////token+with/odd=chars"
SIGNED_AT = datetime(2026, 1, 15, 10, 0, 0)  # naive UTC, as botocore's get_current_datetime returns it
CLOCK_AT = SIGNED_AT.replace(tzinfo=UTC) + timedelta(seconds=5)
RESERVED = "/a b/ü ሴ/~!*'()$&=+,;:@?#[]%"


@contextmanager
def botocore_time(instant: datetime = SIGNED_AT) -> Iterator[None]:
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=instant):
        yield


def credentials(token: str | None = TOKEN) -> Credentials:
    return Credentials(ACCESS_KEY, SECRET, token)


def secret_for(access_key_id: str) -> str | None:
    return SECRET if access_key_id == ACCESS_KEY else None


def clock(offset_seconds: float = 0) -> FixedClock:
    return FixedClock(CLOCK_AT + timedelta(seconds=offset_seconds))


def text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def view_of(request: Any, *, s3: bool = False) -> HttpRequestView:
    """What a server would see: wire path and query, headers (plus the Host the HTTP client adds), payload hash."""
    parts = urlsplit(request.url)
    headers = [(name, text(value)) for name, value in request.headers.items()]
    if not any(name.lower() == "host" for name, _ in headers):
        headers.insert(0, ("Host", parts.netloc))
    if s3:
        payload = next((value for name, value in headers if name.lower() == "x-amz-content-sha256"), "")
    else:
        body = request.body or b""
        payload = hashed_payload(body.encode() if isinstance(body, str) else body)
    return HttpRequestView(request.method, parts.path, parts.query, headers, payload)


def sign(request: AWSRequest, signer: Any) -> AWSRequest:
    with botocore_time():
        signer.add_auth(request)
    return request


# --- requests signed with the low-level signers ---------------------------------------------------------------


def sts_form_post() -> HttpRequestView:
    request = AWSRequest(
        method="POST",
        url="https://sts.amazonaws.com/",
        data={"Action": "GetCallerIdentity", "Version": "2011-06-15"},
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    return view_of(sign(request, botocore.auth.SigV4Auth(credentials(), "sts", "us-east-1")))


def iam_form_post_with_reserved_characters() -> HttpRequestView:
    request = AWSRequest(
        method="POST",
        url="https://iam.amazonaws.com/",
        data={"Action": "CreateUser", "Version": "2010-05-08", "UserName": "a+b=c,d@e", "Path": RESERVED},
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    return view_of(sign(request, botocore.auth.SigV4Auth(credentials(None), "iam", "us-east-1")))


def iam_get_with_unicode_query() -> HttpRequestView:
    query = percent_encode_sequence({"Action": "ListUsers", "PathPrefix": RESERVED, "Marker": "ሴ ü+%20"})
    request = AWSRequest(method="GET", url=f"https://iam.amazonaws.com/?{query}")
    return view_of(sign(request, botocore.auth.SigV4Auth(credentials(), "iam", "us-east-1")))


def get_with_params_sent_as_plus() -> HttpRequestView:
    """AWSRequest.params go on the wire form-encoded (space as `+`) but are signed with `%20`."""
    request = AWSRequest(
        method="GET", url="https://sts.eu-west-1.amazonaws.com/", params={"Action": "X", "q": "a b+c/ü"}
    )
    signed = sign(request, botocore.auth.SigV4Auth(credentials(), "sts", "eu-west-1"))
    assert "a+b%2Bc" in signed.prepare().url
    return view_of(signed.prepare())


def s3_put_with_odd_key() -> HttpRequestView:
    key = "dir//a b/ünï ሴ+code?&=~.txt"
    request = AWSRequest(method="PUT", url=f"http://rolegate.test:9000/bucket/{quote(key, safe='/~')}", data=b"hello")
    return view_of(sign(request, botocore.auth.S3SigV4Auth(credentials(), "s3", "us-east-1")), s3=True)


def s3_get_with_dot_segments() -> HttpRequestView:
    request = AWSRequest(method="GET", url="https://rolegate.test/bucket/a/./b/../c//?list-type=2&prefix=a%20b")
    return view_of(sign(request, botocore.auth.S3SigV4Auth(credentials(), "s3", "us-east-1")), s3=True)


def sts_presigned_get() -> HttpRequestView:
    request = AWSRequest(method="GET", url="https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15")
    return view_of(sign(request, botocore.auth.SigV4QueryAuth(credentials(), "sts", "us-east-1", expires=60)))


def s3_presigned_get() -> HttpRequestView:
    request = AWSRequest(method="GET", url=f"https://rolegate.test/bucket/{quote('a b//ü+', safe='/~')}")
    signer = botocore.auth.S3SigV4QueryAuth(credentials(), "s3", "us-east-1", expires=3600)
    return view_of(sign(request, signer), s3=True)


@dataclasses.dataclass(frozen=True)
class Signed:
    build: Callable[[], HttpRequestView]
    service: str
    region: str
    s3: bool = False
    presigned: bool = False
    token: str | None = TOKEN


SIGNED = {
    "sts-form-post": Signed(sts_form_post, "sts", "us-east-1"),
    "iam-form-post-reserved": Signed(iam_form_post_with_reserved_characters, "iam", "us-east-1", token=None),
    "iam-get-unicode-query": Signed(iam_get_with_unicode_query, "iam", "us-east-1"),
    "get-params-plus": Signed(get_with_params_sent_as_plus, "sts", "eu-west-1"),
    "s3-put-odd-key": Signed(s3_put_with_odd_key, "s3", "us-east-1", s3=True),
    "s3-get-dot-segments": Signed(s3_get_with_dot_segments, "s3", "us-east-1", s3=True),
    "sts-presigned": Signed(sts_presigned_get, "sts", "us-east-1", presigned=True),
    "s3-presigned": Signed(s3_presigned_get, "s3", "us-east-1", s3=True, presigned=True),
}


def check(signed: Signed, view: HttpRequestView, **kwargs: Any) -> VerifiedRequest:
    secrets = kwargs.pop("secret_for", secret_for)
    at = kwargs.pop("clock", clock())
    return verify(view, secrets, at, service=signed.service, region=signed.region, s3=signed.s3, **kwargs)


@pytest.mark.parametrize("name", SIGNED)
def test_accepts_what_botocore_signs(name: str) -> None:
    signed = SIGNED[name]
    verified = check(signed, signed.build())
    assert verified == VerifiedRequest(
        access_key_id=ACCESS_KEY,
        session_token=signed.token,
        region=signed.region,
        service=signed.service,
        signed_at=SIGNED_AT.replace(tzinfo=UTC),
        presigned=signed.presigned,
    )


def _replace_header(view: HttpRequestView, name: str, value: str) -> HttpRequestView:
    headers = [(key, value if key.lower() == name else old) for key, old in view.headers]
    return dataclasses.replace(view, headers=headers)


def _change_query(view: HttpRequestView) -> HttpRequestView:
    """Change the first operation parameter's value, or add one when there is none."""
    pairs = view.raw_query.split("&") if view.raw_query else []
    for index, pair in enumerate(pairs):
        if not pair.startswith("X-Amz-"):
            pairs[index] = pair + "x"
            return dataclasses.replace(view, raw_query="&".join(pairs))
    return dataclasses.replace(view, raw_query="&".join([*pairs, "Extra=1"]))


TAMPERS: dict[str, Callable[[HttpRequestView], HttpRequestView]] = {
    "method": lambda view: dataclasses.replace(view, method="DELETE"),
    "path": lambda view: dataclasses.replace(view, raw_path=view.raw_path + "x"),
    "query-added": lambda view: dataclasses.replace(view, raw_query="&".join(filter(None, [view.raw_query, "A=1"]))),
    "query-changed": _change_query,
    "host": lambda view: _replace_header(view, "host", "evil.example"),
}


@pytest.mark.parametrize("tamper", TAMPERS)
@pytest.mark.parametrize("name", SIGNED)
def test_rejects_tampered_requests(name: str, tamper: str) -> None:
    signed = SIGNED[name]
    view = signed.build()
    tampered = TAMPERS[tamper](view)
    assert tampered != view
    with pytest.raises(SignatureDoesNotMatch):
        check(signed, tampered)


@pytest.mark.parametrize("name", [name for name, signed in SIGNED.items() if not signed.presigned])
def test_rejects_a_tampered_body(name: str) -> None:
    signed = SIGNED[name]
    view = signed.build()
    other = hashed_payload(b"tampered")
    if signed.s3:  # S3 signs the x-amz-content-sha256 header; the caller checks the body against it
        view = _replace_header(view, "x-amz-content-sha256", other)
    with pytest.raises(SignatureDoesNotMatch):
        check(signed, dataclasses.replace(view, payload_hash=other))


@pytest.mark.parametrize("name", SIGNED)
def test_rejects_another_secret_and_an_unknown_key(name: str) -> None:
    signed = SIGNED[name]
    with pytest.raises(SignatureDoesNotMatch):
        check(signed, signed.build(), secret_for=lambda _: SECRET.upper())
    with pytest.raises(AwsError) as raised:
        check(signed, signed.build(), secret_for=lambda _: None)
    assert raised.value.code == ("InvalidAccessKeyId" if signed.s3 else "InvalidClientTokenId")
    assert SECRET not in str(raised.value)
    assert SECRET not in repr(raised.value.extra)


@pytest.mark.parametrize("name", [name for name, signed in SIGNED.items() if not signed.s3])
def test_unsigned_extra_headers_are_ignored(name: str) -> None:
    signed = SIGNED[name]
    view = signed.build()
    extra = dataclasses.replace(view, headers=[*view.headers, ("User-Agent", "curl"), ("X-Amz-Foo", "bar")])
    assert check(signed, extra).access_key_id == ACCESS_KEY


def test_s3_rejects_unsigned_amz_headers() -> None:
    signed = SIGNED["s3-put-odd-key"]
    view = signed.build()
    with pytest.raises(AccessDenied) as raised:
        check(signed, dataclasses.replace(view, headers=[*view.headers, ("X-Amz-Meta-Owner", "mallory")]))
    assert raised.value.extra == {"HeadersNotSigned": "x-amz-meta-owner"}


@pytest.mark.parametrize("name", ["sts-presigned", "s3-presigned"])
def test_presigned_urls_live_for_their_expiry_not_fifteen_minutes(name: str) -> None:
    signed = SIGNED[name]
    expires = 60 if name == "sts-presigned" else 3600
    assert check(signed, signed.build(), clock=clock(expires - 5)).presigned
    with pytest.raises(AccessDenied) as raised:
        check(signed, signed.build(), clock=clock(expires - 4))
    assert raised.value.message == "Request has expired"
    if signed.s3:
        assert raised.value.extra == {
            "X-Amz-Expires": "3600",
            "Expires": "2026-01-15T11:00:00Z",
            "ServerTime": "2026-01-15T11:00:01Z",
        }
    else:
        assert raised.value.extra == {}


def test_header_signatures_expire_after_fifteen_minutes() -> None:
    signed = SIGNED["sts-form-post"]
    assert check(signed, signed.build(), clock=clock(15 * 60 - 5))
    with pytest.raises(SignatureDoesNotMatch) as raised:
        check(signed, signed.build(), clock=clock(15 * 60 - 4))
    assert raised.value.message == (
        "Signature expired: 20260115T100000Z is now earlier than 20260115T100001Z (20260115T101501Z - 15 min.)"
    )


def test_date_header_instead_of_x_amz_date() -> None:
    request = AWSRequest(
        method="POST",
        url="https://sts.amazonaws.com/",
        data={"Action": "GetCallerIdentity", "Version": "2011-06-15"},
        headers={"Date": "placeholder", "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    view = view_of(sign(request, botocore.auth.SigV4Auth(credentials(), "sts", "us-east-1")))
    assert not any(name.lower() == "x-amz-date" for name, _ in view.headers)
    verified = verify(view, secret_for, clock(), service="sts")
    assert verified.signed_at == SIGNED_AT.replace(tzinfo=UTC)


# --- requests made by real botocore clients -------------------------------------------------------------------


class _Sent(Exception):
    """Raised from before-send so that the captured request never leaves the process."""


def client_request(service: str, call: Callable[[Any], object], **client_kwargs: Any) -> Any:
    session = botocore.session.Session()
    client = session.create_client(
        service,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET,
        aws_session_token=TOKEN,
        **{"region_name": "us-east-1", **client_kwargs},
    )
    seen: list[Any] = []

    def capture(request: Any, **_: Any) -> None:
        seen.append(request)
        raise _Sent

    client.meta.events.register("before-send", capture)
    with botocore_time(), pytest.raises(_Sent):
        call(client)
    return seen[0]


@pytest.fixture(autouse=True)
def _no_aws_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.setenv(name, str(tmp_path / "absent"))
    for name in ("AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)


S3_CONFIG = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 0})
ENDPOINT = {"endpoint_url": "http://127.0.0.1:8777"}


def test_sts_client_get_caller_identity() -> None:
    request = client_request("sts", lambda c: c.get_caller_identity(), **ENDPOINT)
    verified = verify(view_of(request), secret_for, clock(), service="sts", region="us-east-1")
    assert verified.session_token == TOKEN


def test_iam_client_create_user_with_reserved_path() -> None:
    path = "/division_abc/sub-division_xyz/"
    request = client_request("iam", lambda c: c.create_user(UserName="a+b=c,d.e@f-g_h", Path=path), **ENDPOINT)
    assert verify(view_of(request), secret_for, clock(), service="iam", region="us-east-1").service == "iam"


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:8777", "https://rolegate.test"])
def test_s3_client_put_object_with_odd_key(endpoint: str) -> None:
    key = "dir//a b/ünï ሴ+code?&=~.txt"
    request = client_request(
        "s3", lambda c: c.put_object(Bucket="bucket", Key=key, Body=b"hello"), endpoint_url=endpoint, config=S3_CONFIG
    )
    view = view_of(request, s3=True)
    expected = (
        hashlib.sha256(b"hello").hexdigest() if endpoint.startswith("http:") else "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    )
    assert view.payload_hash == expected
    assert "//" in view.raw_path
    assert verify(view, secret_for, clock(), service="s3", region="us-east-1", s3=True).session_token == TOKEN


def test_s3_client_list_objects_with_reserved_prefix() -> None:
    request = client_request(
        "s3",
        lambda c: c.list_objects_v2(Bucket="bucket", Prefix=RESERVED, Delimiter="/", StartAfter="ሴ"),
        config=S3_CONFIG,
        **ENDPOINT,
    )
    assert verify(view_of(request, s3=True), secret_for, clock(), service="s3", s3=True)


def test_s3_client_presigned_url() -> None:
    session = botocore.session.Session()
    client = session.create_client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET,
        aws_session_token=TOKEN,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        **ENDPOINT,
    )
    with botocore_time():
        url = client.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "a b//ü+"}, ExpiresIn=300)
    parts = urlsplit(url)
    view = HttpRequestView("GET", parts.path, parts.query, [("Host", parts.netloc)], hashed_payload(b""))
    verified = verify(view, secret_for, clock(294), service="s3", region="us-east-1", s3=True)
    assert verified.presigned
    assert verified.session_token == TOKEN
    with pytest.raises(AccessDenied, match="Request has expired"):
        verify(view, secret_for, clock(296), service="s3", s3=True)


# --- properties -----------------------------------------------------------------------------------------------

_TEXT = st.text(max_size=12)


@settings(max_examples=60, deadline=None)
@given(params=st.dictionaries(_TEXT.filter(bool), _TEXT, max_size=4), segments=st.lists(_TEXT, max_size=4))
def test_any_query_and_path_botocore_signs_verifies(params: dict[str, str], segments: list[str]) -> None:
    path = "/" + "/".join(quote(segment, safe="") for segment in segments)
    query = percent_encode_sequence(params)
    request = AWSRequest(method="GET", url=f"https://iam.amazonaws.com{path}" + (f"?{query}" if query else ""))
    view = view_of(sign(request, botocore.auth.SigV4Auth(credentials(), "iam", "us-east-1")))
    assert verify(view, secret_for, clock(), service="iam", region="us-east-1")


@settings(max_examples=60, deadline=None)
@given(key=st.text(min_size=1, max_size=24))
def test_any_s3_key_botocore_signs_verifies(key: str) -> None:
    request = AWSRequest(method="GET", url=f"https://rolegate.test/bucket/{quote(key, safe='/~')}")
    view = view_of(sign(request, botocore.auth.S3SigV4Auth(credentials(), "s3", "us-east-1")), s3=True)
    assert verify(view, secret_for, clock(), service="s3", s3=True)
