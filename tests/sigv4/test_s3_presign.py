"""S3 authentication end to end: SigV4 presigned URLs, clock skew, x-amz-content-sha256, and real clients over HTTP.

The unit tests freeze botocore's clock and hand the verifier a FixedClock. The end-to-end tests run a small
stdlib HTTP server on 127.0.0.1 whose only logic is `verify_s3` and `s3_payload_reader` in front of a dict of
objects, and drive it with boto3, urllib (presigned URLs) and the aws CLI, all signing with the real time.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

import boto3
import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from rolegate.clock import FixedClock, SystemClock
from rolegate.errors import AccessDenied, AwsError
from rolegate.sigv4 import HttpRequestView, VerifiedRequest, s3_payload_reader, verify_s3

SESSION = boto3.session.Session()  # one session: the S3 model is loaded once
ACCESS_KEY = "AKIAROLEGATEPRESIGN1"
SECRET = "presign/secret+key/EXAMPLE0123456789abcdef"
SIGNED_AT = datetime(2026, 1, 15, 10, 0, 0)  # naive UTC, as botocore's get_current_datetime returns it
SIGNED_AT_UTC = SIGNED_AT.replace(tzinfo=UTC)
AWS = Path(sys.executable).with_name("aws")


def secret_for(access_key_id: str) -> str | None:
    return SECRET if access_key_id == ACCESS_KEY else None


def at(seconds: float) -> FixedClock:
    return FixedClock(SIGNED_AT_UTC + timedelta(seconds=seconds))


@contextmanager
def botocore_time(instant: datetime = SIGNED_AT) -> Iterator[None]:
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=instant):
        yield


def s3_client(endpoint: str, **config: Any) -> Any:
    return SESSION.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET,
        config=Config(**config) if config else None,
    )


def view_of_url(method: str, url: str, *headers: tuple[str, str]) -> HttpRequestView:
    parts = urlsplit(url)
    return HttpRequestView(method, parts.path, parts.query, [("Host", parts.netloc), *headers], "UNSIGNED-PAYLOAD")


def rejected(view: HttpRequestView, clock: FixedClock) -> AwsError:
    with pytest.raises(AwsError) as raised:
        verify_s3(view, secret_for, clock)
    return raised.value


# --- SigV4 presigned URLs ------------------------------------------------------------------------------------


def presign_v4(method: str = "GET", operation: str = "get_object", expires: int = 3600, **params: Any) -> str:
    params = {"Bucket": "bucket", "Key": "dir/ü a+b.txt", **params}
    with botocore_time():
        client = s3_client("http://127.0.0.1:9", signature_version="s3v4")
        return str(client.generate_presigned_url(operation, Params=params, ExpiresIn=expires, HttpMethod=method))


def test_sigv4_presigned_get_lives_for_its_expiry() -> None:
    view = view_of_url("GET", presign_v4(expires=600))
    verified = verify_s3(view, secret_for, at(600))
    assert verified == VerifiedRequest(
        access_key_id=ACCESS_KEY,
        session_token=None,
        region="us-east-1",
        service="s3",
        signed_at=SIGNED_AT_UTC,
        presigned=True,
    )
    assert verified.auth_type == "REST-QUERY-STRING"
    assert verified.signature_version == "AWS4-HMAC-SHA256"
    error = rejected(view, at(601))
    assert (error.code, error.http_status, error.message) == ("AccessDenied", 403, "Request has expired")
    assert error.extra == {
        "X-Amz-Expires": "600",
        "Expires": "2026-01-15T10:10:00Z",
        "ServerTime": "2026-01-15T10:10:01Z",
    }


def test_sigv4_presigned_urls_are_capped_at_a_week() -> None:
    assert verify_s3(view_of_url("GET", presign_v4(expires=604800)), secret_for, at(604800))
    error = rejected(view_of_url("GET", presign_v4(expires=604801)), at(1))
    assert (error.code, error.http_status) == ("AuthorizationQueryParametersError", 400)
    assert error.message == (
        "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than "
        "604800 seconds"
    )


@pytest.mark.parametrize(
    "tamper",
    [
        lambda view: dataclasses.replace(view, raw_path=view.raw_path.replace("dir", "other")),
        lambda view: dataclasses.replace(
            view, raw_query=view.raw_query.replace("X-Amz-Expires=3600", "X-Amz-Expires=7200")
        ),
        lambda view: dataclasses.replace(view, raw_query=view.raw_query + "&response-content-type=text%2Fhtml"),
        lambda view: dataclasses.replace(
            view, raw_query=view.raw_query.replace("X-Amz-Signature=", "X-Amz-Signature=0")
        ),
        lambda view: dataclasses.replace(view, method="PUT"),
    ],
    ids=["path", "expires", "override-added", "signature", "method"],
)
def test_sigv4_presigned_tampered(tamper: Any) -> None:
    view = view_of_url("GET", presign_v4())
    error = rejected(tamper(view), at(1))
    assert (error.code, error.http_status) == ("SignatureDoesNotMatch", 403)
    assert set(error.extra) == {
        "AWSAccessKeyId",
        "StringToSign",
        "SignatureProvided",
        "StringToSignBytes",
        "CanonicalRequest",
        "CanonicalRequestBytes",
    }


def test_a_presigned_put_body_is_checked_against_what_it_claims() -> None:
    url = presign_v4("PUT", "put_object")
    body = b"uploaded through a presigned URL"
    view = view_of_url("PUT", url)
    verified = verify_s3(view, secret_for, at(1))
    reader = s3_payload_reader(view, verified, io.BytesIO(body), length=len(body))
    assert reader.read(-1) == body
    claimed = dataclasses.replace(view, headers=[*view.headers, ("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==")])
    with pytest.raises(AwsError) as raised:
        s3_payload_reader(claimed, verified, io.BytesIO(body), length=len(body)).read(-1)
    assert (raised.value.code, raised.value.message) == (
        "BadDigest",
        "The Content-MD5 you specified did not match what we received.",
    )


# --- header signatures: skew and the payload header ----------------------------------------------------------


def header_signed(content_sha256: str | None = None, method: str = "GET") -> HttpRequestView:
    headers = {"X-Amz-Content-SHA256": content_sha256} if content_sha256 is not None else {}
    request = AWSRequest(method=method, url="http://127.0.0.1:9/bucket/key", headers=headers)
    with botocore_time():
        botocore.auth.SigV4Auth(Credentials(ACCESS_KEY, SECRET), "s3", "us-east-1").add_auth(request)
    parts = urlsplit(request.url)
    pairs = [("Host", parts.netloc), *((name, str(value)) for name, value in request.headers.items())]
    return HttpRequestView(method, parts.path, parts.query, pairs, content_sha256 or "")


@pytest.mark.parametrize("offset", [-16 * 60, 16 * 60])
def test_header_signatures_allow_fifteen_minutes_of_skew(offset: int) -> None:
    view = header_signed(hashlib.sha256(b"").hexdigest())
    assert verify_s3(view, secret_for, at(offset - 61 if offset > 0 else offset + 61))
    error = rejected(view, at(offset))
    assert (error.code, error.http_status) == ("RequestTimeTooSkewed", 403)
    assert error.message == "The difference between the request time and the current time is too large."
    assert error.extra["RequestTime"] == "20260115T100000Z"
    assert error.extra["MaxAllowedSkewMilliseconds"] == "900000"


@pytest.mark.parametrize("value", ["invalid", "unsigned-payload", "STREAMING-SOMETHING-ELSE", "e3b0c442"])
def test_header_signed_requests_need_a_known_payload_mode(value: str) -> None:
    error = rejected(header_signed(value), at(1))
    assert (error.code, error.http_status) == ("InvalidArgument", 400)
    assert error.message == (
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, "
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid "
        "sha256 value."
    )
    assert error.extra == {"ArgumentName": "x-amz-content-sha256", "ArgumentValue": value}


def test_header_signed_requests_need_the_payload_header() -> None:
    error = rejected(header_signed(None), at(1))
    assert (error.code, error.message) == (
        "InvalidRequest",
        "Missing required header for this request: x-amz-content-sha256",
    )


def test_anonymous_requests_come_back_as_none() -> None:
    assert verify_s3(view_of_url("GET", "http://127.0.0.1:9/bucket/key"), secret_for, at(0)) is None
    blank = view_of_url("GET", "http://127.0.0.1:9/bucket/key", ("Authorization", "   "))
    assert verify_s3(blank, secret_for, at(0)) is None


# --- end to end over HTTP --------------------------------------------------------------------------------------


class FakeS3(ThreadingHTTPServer):
    """Objects in a dict behind rolegate's S3 authentication and payload decoding; nothing else."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), S3Handler)
        self.objects: dict[str, bytes] = {}
        self.checksums: dict[str, tuple[str, str] | None] = {}
        self.lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class S3Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeS3

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _spool(self, spool: Any, length: int) -> None:
        remaining = length
        while remaining and (block := self.rfile.read(min(65536, remaining))):
            spool.write(block)
            remaining -= len(block)
        spool.seek(0)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        path, _, query = self.path.partition("?")
        view = HttpRequestView(
            self.command, path, query, list(self.headers.items()), self.headers.get("x-amz-content-sha256", "")
        )
        with tempfile.SpooledTemporaryFile(max_size=1 << 20) as spool:
            self._spool(spool, length)
            try:
                verified = verify_s3(view, secret_for, SystemClock())
                if verified is None:
                    raise AccessDenied("Access Denied")
                reader = s3_payload_reader(view, verified, spool, length=length)
                body = b"".join(iter(lambda: reader.read(65536), b""))
                self._respond(path, parse_qs(query, keep_blank_values=True), body, reader.checksum)
            except AwsError as error:
                self._send(error.http_status, _error_xml(error), "application/xml")

    def _respond(self, path: str, query: dict[str, list[str]], body: bytes, checksum: tuple[str, str] | None) -> None:
        key = path + "".join(f"#{query[name][0]}" for name in ("partNumber",) if name in query)
        if self.command == "POST" and "uploads" in query:
            xml = "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>up-1</UploadId></InitiateMultipartUploadResult>"
            self._send(200, xml.encode(), "application/xml")
        elif self.command == "PUT":
            with self.server.lock:
                self.server.objects[key] = body
                self.server.checksums[key] = checksum
            self._send(200, b"", None)
        elif key in self.server.objects:
            self._send(200, self.server.objects[key], "application/octet-stream")
        else:
            self._send(
                404,
                b"<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>",
                "application/xml",
            )

    def _send(self, status: int, body: bytes, content_type: str | None) -> None:
        self.send_response(status)
        self.send_header("ETag", f'"{hashlib.md5(body).hexdigest()}"')
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _error_xml(error: AwsError) -> bytes:
    extra = "".join(f"<{name}>{escape(str(value))}</{name}>" for name, value in error.extra.items() if name.isalnum())
    text = f"<Error><Code>{error.code}</Code><Message>{escape(error.message)}</Message>{extra}</Error>"
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + text).encode()


@pytest.fixture(scope="module")
def fake_s3() -> Iterator[FakeS3]:
    server = FakeS3()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def fetch(url: str, method: str = "GET", data: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def error_code(body: bytes) -> str:
    return body.split(b"<Code>")[1].split(b"</Code>")[0].decode()


BIG = os.urandom(300_000)


def test_boto3_writes_and_reads_over_http(fake_s3: FakeS3) -> None:
    client = s3_client(fake_s3.endpoint)
    client.put_object(Bucket="bucket", Key="plain.bin", Body=BIG)
    client.put_object(Bucket="bucket", Key="sha.bin", Body=BIG, ChecksumAlgorithm="SHA256")
    client.upload_part(Bucket="bucket", Key="part.bin", UploadId="up-1", PartNumber=2, Body=io.BytesIO(BIG))
    assert client.get_object(Bucket="bucket", Key="plain.bin")["Body"].read() == BIG
    assert fake_s3.objects["/bucket/sha.bin"] == fake_s3.objects["/bucket/part.bin#2"] == BIG
    assert fake_s3.checksums["/bucket/plain.bin"] is not None and fake_s3.checksums["/bucket/plain.bin"][0] == "CRC32"
    assert fake_s3.checksums["/bucket/sha.bin"] == ("SHA256", base64.b64encode(hashlib.sha256(BIG).digest()).decode())
    unsigned = s3_client(fake_s3.endpoint, s3={"payload_signing_enabled": False})
    unsigned.put_object(Bucket="bucket", Key="unsigned.bin", Body=BIG)
    assert fake_s3.objects["/bucket/unsigned.bin"] == BIG


def test_wrong_keys_are_refused_over_http(fake_s3: FakeS3) -> None:
    client = SESSION.client(
        "s3",
        endpoint_url=fake_s3.endpoint,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key="not-the-secret",
        config=Config(retries={"max_attempts": 1}),
    )
    with pytest.raises(client.exceptions.ClientError) as raised:
        client.put_object(Bucket="bucket", Key="nope", Body=b"x")
    assert raised.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert "/bucket/nope" not in fake_s3.objects


def test_presigned_urls_over_http(fake_s3: FakeS3) -> None:
    s3_client(fake_s3.endpoint).put_object(Bucket="bucket", Key="shared.bin", Body=BIG)
    params = {"Bucket": "bucket", "Key": "shared.bin"}
    v2 = s3_client(fake_s3.endpoint).generate_presigned_url("get_object", Params=params, ExpiresIn=300)
    v4 = s3_client(fake_s3.endpoint, signature_version="s3v4").generate_presigned_url("get_object", Params=params)
    assert "AWSAccessKeyId=" in v2 and "X-Amz-Signature=" in v4
    assert fetch(v2) == (200, BIG)
    assert fetch(v4) == (200, BIG)
    status, body = fetch(v2.replace("shared.bin", "shared.bix"))
    assert (status, error_code(body)) == (403, "SignatureDoesNotMatch")
    put_url = s3_client(fake_s3.endpoint, signature_version="s3v4").generate_presigned_url(
        "put_object", Params={"Bucket": "bucket", "Key": "via-url.txt"}
    )
    assert fetch(put_url, "PUT", b"put through a presigned URL")[0] == 200
    assert fake_s3.objects["/bucket/via-url.txt"] == b"put through a presigned URL"


def test_expired_presigned_urls_over_http(fake_s3: FakeS3) -> None:
    long_ago = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=2)
    with botocore_time(long_ago):
        v4 = s3_client(fake_s3.endpoint, signature_version="s3v4").generate_presigned_url(
            "get_object", Params={"Bucket": "bucket", "Key": "k"}, ExpiresIn=60
        )
    with mock.patch("time.time", return_value=long_ago.replace(tzinfo=UTC).timestamp()):
        v2 = s3_client(fake_s3.endpoint).generate_presigned_url(
            "get_object", Params={"Bucket": "bucket", "Key": "k"}, ExpiresIn=60
        )
    for url in (v4, v2):
        status, body = fetch(url)
        assert (status, error_code(body)) == (403, "AccessDenied")
        assert b"<Message>Request has expired</Message>" in body and b"<ServerTime>" in body


@pytest.mark.skipif(not AWS.exists(), reason="the aws CLI is a test dependency")
def test_aws_cli_copy_and_presign(fake_s3: FakeS3, tmp_path: Path) -> None:
    source = tmp_path / "upload.bin"
    source.write_bytes(BIG)
    env = {
        "HOME": str(tmp_path),
        "PATH": os.environ.get("PATH", ""),
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1",
    }

    def aws(*args: str) -> str:
        command = [str(AWS), "--endpoint-url", fake_s3.endpoint, *args]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr
        return result.stdout

    aws("s3", "cp", str(source), "s3://bucket/cli/upload.bin", "--only-show-errors")
    assert fake_s3.objects["/bucket/cli/upload.bin"] == BIG
    url = aws("s3", "presign", "s3://bucket/cli/upload.bin", "--expires-in", "120").strip()
    assert "AWSAccessKeyId=" in url
    assert fetch(url) == (200, BIG)
