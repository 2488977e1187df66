"""Requests that carry their authentication in the URL or carry none: presigned URLs (SigV2, boto3's default
for S3 here, and SigV4) fetched with plain urllib, anonymous requests judged by the bucket policy alone, and
a request signed with a clock 20 minutes off."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import botocore.auth
import pytest
from awscli_support import AwsCli, client_error, management_admin, policy
from e2e_support import ROOT_KEY_ID, ROOT_SECRET, LiveServer, live_server
from s3_e2e_support import keys_of, s3_client, s3_error

BUCKET = "presign-bucket"
PUBLIC = "public-read-bucket"
BODY = b"quarterly numbers\n" * 64


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("s3presign") / "data") as running:
        s3 = s3_client(running)
        for bucket in (BUCKET, PUBLIC):
            s3.create_bucket(Bucket=bucket)
            s3.put_object(Bucket=bucket, Key="report.txt", Body=BODY)
        yield running


def fetch(url: str, method: str = "GET", data: bytes | None = None) -> tuple[int, bytes]:
    """(status, body) of a plain urllib request: no SDK, no signing of its own."""
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


def denied(url: str, method: str = "GET", data: bytes | None = None) -> tuple[int, str, str]:
    status, body = fetch(url, method, data)
    found = s3_error(body)
    return status, found["Code"], found["Message"]


def sigv2_url(server: LiveServer, key: str = "report.txt", expires: int = 3600) -> str:
    url: str = s3_client(server).generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=expires
    )
    return url


def sigv4_url(server: LiveServer, method: str = "get_object", key: str = "report.txt", expires: int = 3600) -> str:
    url: str = s3_client(server, signature_version="s3v4").generate_presigned_url(
        method, Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=expires
    )
    return url


def replace_query(url: str, name: str, change: Any) -> str:
    parts = urlsplit(url)
    query = [(k, change(v) if k == name else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def other_char(value: str, index: int) -> str:
    """`value` with the character at `index` replaced by a different one of the same kind."""
    old = value[index]
    new = ("b" if old != "b" else "c") if old.isalpha() else ("1" if old != "1" else "2")
    return value[:index] + new + value[index + 1 :]


# -- presigned URLs ----------------------------------------------------------------------------------------


def test_default_presigned_url_is_sigv2_and_works(server: LiveServer) -> None:
    url = sigv2_url(server)
    query = dict(parse_qsl(urlsplit(url).query))
    assert set(query) == {"AWSAccessKeyId", "Signature", "Expires"}
    assert fetch(url) == (200, BODY)


def test_sigv4_presigned_urls_work_for_get_and_put(server: LiveServer) -> None:
    url = sigv4_url(server)
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-SignedHeaders"] == "host"
    assert fetch(url) == (200, BODY)
    upload = sigv4_url(server, "put_object", key="uploaded via url.txt")
    assert fetch(upload, "PUT", b"put through a presigned url")[0] == 200
    got = s3_client(server).get_object(Bucket=BUCKET, Key="uploaded via url.txt")["Body"].read()
    assert got == b"put through a presigned url"


def test_expired_presigned_urls_are_access_denied(server: LiveServer) -> None:
    urls = [sigv2_url(server, expires=1), sigv4_url(server, expires=1)]
    time.sleep(2)
    for url in urls:
        assert denied(url) == (403, "AccessDenied", "Request has expired")


@pytest.mark.parametrize("make", [sigv2_url, sigv4_url], ids=["sigv2", "sigv4"])
def test_a_tampered_signature_does_not_match(server: LiveServer, make: Any) -> None:
    url = make(server)
    name = "Signature" if "Signature=" in url and "X-Amz-Signature" not in url else "X-Amz-Signature"
    tampered = replace_query(url, name, lambda v: other_char(v, next(i for i, c in enumerate(v) if c.isalnum())))
    assert tampered != url
    assert denied(tampered)[:2] == (403, "SignatureDoesNotMatch")


@pytest.mark.parametrize("make", [sigv2_url, sigv4_url], ids=["sigv2", "sigv4"])
def test_a_url_pointed_at_another_key_does_not_match(server: LiveServer, make: Any) -> None:
    url = make(server)
    moved = url.replace("/report.txt?", "/report.txu?")
    assert moved != url
    assert denied(moved)[:2] == (403, "SignatureDoesNotMatch")


def test_presigned_urls_of_a_role_session_carry_its_token(server: LiveServer) -> None:
    admin = management_admin(server)
    iam = admin.client("iam")
    trust = policy({"Effect": "Allow", "Principal": {"AWS": admin.account}, "Action": "sts:AssumeRole"})
    role_arn = iam.create_role(RoleName="presigner", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    reads = policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"})
    iam.put_role_policy(RoleName="presigner", PolicyName="read", PolicyDocument=reads)
    session = keys_of(admin.assume(role_arn, "presign"))
    for config, token_name in (({}, "x-amz-security-token"), ({"signature_version": "s3v4"}, "X-Amz-Security-Token")):
        url = s3_client(server, session, **config).generate_presigned_url(
            "get_object", Params={"Bucket": BUCKET, "Key": "report.txt"}
        )
        query = dict(parse_qsl(urlsplit(url).query))
        assert query[token_name] == session.token
        assert fetch(url) == (200, BODY)
        parts = urlsplit(url)
        without = [(k, v) for k, v in parse_qsl(parts.query) if k != token_name]
        assert denied(urlunsplit(parts._replace(query=urlencode(without))))[:2] == (403, "InvalidAccessKeyId")


# -- anonymous requests ------------------------------------------------------------------------------------


def test_anonymous_requests_are_judged_by_the_bucket_policy(server: LiveServer) -> None:
    object_url = f"{server.endpoint}/{PUBLIC}/report.txt"
    assert denied(object_url) == (403, "AccessDenied", "Access Denied")
    s3 = s3_client(server)
    public_read = policy(
        {
            "Sid": "PublicRead",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{PUBLIC}/*",
        }
    )
    # New buckets block public policies, as S3's do since April 2023; the owner lifts that first.
    blocked = client_error(s3.put_bucket_policy, Bucket=PUBLIC, Policy=public_read)
    assert blocked[0] == "AccessDenied"
    assert "BlockPublicPolicy block public access setting" in blocked[1]
    s3.delete_public_access_block(Bucket=PUBLIC)
    s3.put_bucket_policy(Bucket=PUBLIC, Policy=public_read)
    assert fetch(object_url) == (200, BODY)
    # The policy grants reads of objects only: no listing, no writes, and other buckets stay closed.
    assert denied(f"{server.endpoint}/{PUBLIC}?list-type=2")[:2] == (403, "AccessDenied")
    assert denied(f"{server.endpoint}/{PUBLIC}/new.txt", "PUT", b"anonymous write")[:2] == (403, "AccessDenied")
    assert denied(f"{server.endpoint}/{BUCKET}/report.txt")[:2] == (403, "AccessDenied")
    # A missing key: the anonymous caller may not list, so it is AccessDenied rather than NoSuchKey.
    assert denied(f"{server.endpoint}/{PUBLIC}/absent.txt")[:2] == (403, "AccessDenied")
    s3.delete_bucket_policy(Bucket=PUBLIC)
    assert denied(object_url)[:2] == (403, "AccessDenied")


# -- clock skew --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [-20, 20], ids=["behind", "ahead"])
def test_a_request_signed_20_minutes_off_is_too_skewed(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch, offset: int
) -> None:
    skewed = datetime.now(UTC).replace(tzinfo=None) + timedelta(minutes=offset)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda remove_tzinfo=True: skewed)
    s3 = s3_client(server)
    assert client_error(s3.get_object, Bucket=BUCKET, Key="report.txt") == (
        "RequestTimeTooSkewed",
        "The difference between the request time and the current time is too large.",
        403,
    )
    monkeypatch.undo()
    assert s3.get_object(Bucket=BUCKET, Key="report.txt")["Body"].read() == BODY


def test_block_public_access_with_the_aws_cli(server: LiveServer, tmp_path: Path) -> None:
    """The settings as the CLI manages them: on by default, then a public policy only once they are off, and
    RestrictPublicBuckets taking the public policy away from anonymous callers again."""
    cli = AwsCli(tmp_path, endpoint=server.endpoint)
    cli.set_credentials("default", ROOT_KEY_ID, ROOT_SECRET)
    s3_client(server).create_bucket(Bucket="bpa-bucket")
    s3_client(server).put_object(Bucket="bpa-bucket", Key="page.html", Body=b"<p>hi</p>")
    shown = cli.ok("s3api", "get-public-access-block", "--bucket", "bpa-bucket")
    assert all(shown["PublicAccessBlockConfiguration"].values())
    public = policy(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bpa-bucket/*"}
    )
    code, message = cli.fail("s3api", "put-bucket-policy", "--bucket", "bpa-bucket", "--policy", public)
    assert code == "AccessDenied"
    assert "BlockPublicPolicy" in message
    cli.ok("s3api", "delete-public-access-block", "--bucket", "bpa-bucket")
    cli.ok("s3api", "put-bucket-policy", "--bucket", "bpa-bucket", "--policy", public)
    page = f"{server.endpoint}/bpa-bucket/page.html"
    assert fetch(page) == (200, b"<p>hi</p>")
    cli.ok(
        "s3api",
        "put-public-access-block",
        "--bucket",
        "bpa-bucket",
        "--public-access-block-configuration",
        "RestrictPublicBuckets=true",
    )
    assert denied(page)[:2] == (403, "AccessDenied")


@pytest.mark.parametrize("make", [sigv2_url, sigv4_url], ids=["sigv2", "sigv4"])
def test_bytes_that_are_not_utf8_in_a_presigned_url_do_not_match_rather_than_fail(
    server: LiveServer, make: Any
) -> None:
    """A key or credential scope holding %FF is signed over its raw bytes: a mismatch, not a server error."""
    url = make(server)
    assert denied(url.replace("/report.txt?", "/report%FF.txt?"))[:2] == (403, "SignatureDoesNotMatch")
    if "X-Amz-Credential" in url:
        odd_region = url.replace("%2Fus-east-1%2F", "%2Fus%FF%2F")
        assert odd_region != url
        assert denied(odd_region)[:2] == (403, "SignatureDoesNotMatch")
