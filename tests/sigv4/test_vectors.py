"""The official AWS SigV4 test suite: canonical request, string to sign, Authorization, verify() on a frozen clock.

Every case folder under ../shared/data/sigv4-testsuite is run. Two need explicit handling, both about the session
token, which the suite passes to its signer as a credential rather than writing it into every file:

- get-vanilla-with-session-token: the `.req` lacks the `X-Amz-Security-Token` line that the `.creq` signs, so the
  token (taken from the `.creq`) is added before signing. Its published `.sreq` carries get-vanilla's signature
  (5fa00fa3…) rather than the `.authz` one, so the signed request is rebuilt from `.req` + token + `.authz`, and a
  separate test pins that the published `.sreq` is rejected.
- post-sts-header-after: the token is appended after signing, so the `.sreq` carries an unsigned token; verify()
  must accept it and still report the token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from rolegate.clock import FixedClock
from rolegate.errors import SignatureDoesNotMatch
from rolegate.sigv4 import HttpRequestView, verify
from rolegate.sigv4.canonical import (
    authorization_header,
    canonical_headers,
    canonical_query_string,
    canonical_request,
    canonical_uri,
    credential_scope,
    hashed_payload,
    signature,
    signed_headers,
    signing_key,
    string_to_sign,
)

SUITE = Path(__file__).resolve().parents[3] / "shared" / "data" / "sigv4-testsuite"
ACCESS_KEY = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION = "us-east-1"
SERVICE = "service"
REQUEST_DATE = "20150830T123600Z"
SIGNED_AT = datetime(2015, 8, 30, 12, 36, tzinfo=UTC)
EXPECTED_CASES = 34
SESSION_TOKEN_CASE = "get-vanilla-with-session-token"
TOKEN_AFTER_SIGNING_CASE = "post-sts-token/post-sts-header-after"
TOKEN_BEFORE_SIGNING_CASE = "post-sts-token/post-sts-header-before"
SUFFIXES = (".req", ".creq", ".sts", ".authz", ".sreq")


@dataclass(frozen=True)
class RawRequest:
    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes

    def with_header(self, name: str, value: str) -> RawRequest:
        return RawRequest(self.method, self.path, self.query, [*self.headers, (name, value)], self.body)

    def view(self) -> HttpRequestView:
        return HttpRequestView(self.method, self.path, self.query, list(self.headers), hashed_payload(self.body))


def parse_request(text: str) -> RawRequest:
    """A `.req`/`.sreq` file: request line, headers (with folded continuation lines), blank line, body."""
    head, _, body = text.partition("\n\n")
    request_line, *lines = head.split("\n")
    method, _, rest = request_line.partition(" ")
    target, _, version = rest.rpartition(" ")  # the target may itself contain a space (get-space)
    if not version.startswith("HTTP/"):
        raise ValueError(f"not a request line: {request_line!r}")
    headers: list[tuple[str, str]] = []
    for line in lines:
        if line[:1] in {" ", "\t"} and headers:
            name, value = headers[-1]
            headers[-1] = (name, f"{value}\n{line}")
        elif line:
            name, _, value = line.partition(":")
            headers.append((name, value))
    path, _, query = target.partition("?")
    return RawRequest(method, path, query, headers, body.encode())


@dataclass(frozen=True)
class Case:
    name: str  # folder path relative to the suite, e.g. "normalize-path/get-space"
    folder: Path

    def read(self, suffix: str) -> str:
        raw = (self.folder / f"{self.folder.name}{suffix}").read_bytes().decode()
        return raw.replace("\r\n", "\n")

    def unsigned(self) -> RawRequest:
        request = parse_request(self.read(".req"))
        if self.name == SESSION_TOKEN_CASE:
            request = request.with_header("X-Amz-Security-Token", self.token())
        return request

    def signed(self) -> RawRequest:
        if self.name == SESSION_TOKEN_CASE:
            return self.unsigned().with_header("Authorization", self.read(".authz"))
        return parse_request(self.read(".sreq"))

    def token(self) -> str:
        prefix = "x-amz-security-token:"
        lines = [line for line in self.read(".creq").split("\n") if line.startswith(prefix)]
        if len(lines) != 1:
            raise ValueError(f"{self.name}: expected one token line in the .creq")
        return lines[0].removeprefix(prefix)


def discover() -> list[Case]:
    folders = sorted(path.parent for path in SUITE.rglob("*.req"))
    return [Case(folder.relative_to(SUITE).as_posix(), folder) for folder in folders]


CASES = discover()
CASE_IDS = [case.name for case in CASES]


def our_canonical_request(request: RawRequest) -> str:
    names = [name for name, _ in request.headers]  # the suite signs every header it sends
    return canonical_request(
        request.method,
        canonical_uri(request.path, normalize=True),
        canonical_query_string(request.query),
        canonical_headers(request.headers, names),
        signed_headers(names),
        hashed_payload(request.body),
    )


def our_string_to_sign(request: RawRequest) -> str:
    return string_to_sign(
        REQUEST_DATE, credential_scope(REQUEST_DATE[:8], REGION, SERVICE), our_canonical_request(request)
    )


def secret_for(access_key_id: str) -> str | None:
    return SECRET if access_key_id == ACCESS_KEY else None


def test_every_case_is_found_and_complete() -> None:
    assert SUITE.is_dir(), SUITE
    assert len(CASES) == EXPECTED_CASES
    for case in CASES:
        missing = [suffix for suffix in SUFFIXES if not (case.folder / f"{case.folder.name}{suffix}").is_file()]
        assert not missing, (case.name, missing)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_canonical_request(case: Case) -> None:
    assert our_canonical_request(case.unsigned()) == case.read(".creq")


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_string_to_sign(case: Case) -> None:
    assert our_string_to_sign(case.unsigned()) == case.read(".sts")


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_authorization_header(case: Case) -> None:
    request = case.unsigned()
    key = signing_key(SECRET, REQUEST_DATE[:8], REGION, SERVICE)
    header = authorization_header(
        ACCESS_KEY,
        credential_scope(REQUEST_DATE[:8], REGION, SERVICE),
        signed_headers(name for name, _ in request.headers),
        signature(key, our_string_to_sign(request)),
    )
    assert header == case.read(".authz")


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_verify_accepts_the_signed_request(case: Case) -> None:
    verified = verify(case.signed().view(), secret_for, FixedClock(SIGNED_AT), service=SERVICE, region=REGION)
    assert (verified.access_key_id, verified.region, verified.service) == (ACCESS_KEY, REGION, SERVICE)
    assert verified.signed_at == SIGNED_AT
    assert not verified.presigned


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_verify_rejects_another_secret(case: Case) -> None:
    with pytest.raises(SignatureDoesNotMatch, match="does not match the signature you provided"):
        verify(case.signed().view(), lambda _: "x" + SECRET[1:], FixedClock(SIGNED_AT), service=SERVICE)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize(("minutes", "message"), [(16, "Signature expired"), (-16, "Signature not yet current")])
def test_verify_rejects_a_clock_sixteen_minutes_away(case: Case, minutes: int, message: str) -> None:
    clock = FixedClock(SIGNED_AT + timedelta(minutes=minutes))
    with pytest.raises(SignatureDoesNotMatch, match=message):
        verify(case.signed().view(), secret_for, clock, service=SERVICE)


@pytest.mark.parametrize(
    ("name", "token_signed"),
    [(SESSION_TOKEN_CASE, True), (TOKEN_BEFORE_SIGNING_CASE, True), (TOKEN_AFTER_SIGNING_CASE, False)],
)
def test_session_token_is_reported_whether_or_not_signed(name: str, token_signed: bool) -> None:
    case = next(case for case in CASES if case.name == name)
    authorization = dict(case.signed().headers)["Authorization"]
    assert ("x-amz-security-token" in authorization) is token_signed
    verified = verify(case.signed().view(), secret_for, FixedClock(SIGNED_AT), service=SERVICE)
    assert verified.session_token is not None
    assert verified.session_token.startswith(("AQoDYXdzEPT", "6e86291e"))


def test_published_sreq_of_the_session_token_case_is_rejected() -> None:
    """Its Authorization signs x-amz-security-token but carries get-vanilla's signature, which did not."""
    case = next(case for case in CASES if case.name == SESSION_TOKEN_CASE)
    published = parse_request(case.read(".sreq"))
    vanilla = next(case for case in CASES if case.name == "get-vanilla")
    assert dict(published.headers)["Authorization"].endswith(vanilla.read(".authz").rpartition("Signature=")[2])
    with pytest.raises(SignatureDoesNotMatch):
        verify(published.view(), secret_for, FixedClock(SIGNED_AT), service=SERVICE)


def test_removing_a_signed_token_breaks_the_signature() -> None:
    case = next(case for case in CASES if case.name == TOKEN_BEFORE_SIGNING_CASE)
    signed = case.signed()
    stripped = [(name, value) for name, value in signed.headers if name.lower() != "x-amz-security-token"]
    request = RawRequest(signed.method, signed.path, signed.query, stripped, signed.body)
    with pytest.raises(SignatureDoesNotMatch):
        verify(request.view(), secret_for, FixedClock(SIGNED_AT), service=SERVICE)
