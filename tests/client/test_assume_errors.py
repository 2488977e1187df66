"""Failures speak plainly: STS's code and message, the request id, rolegate's explanation of a denial, and a
one-line hint for a wrong ExternalId, clock skew, missing or wrong source credentials, an unreachable
endpoint; malformed input exits 2. No secret appears in any of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import botocore.auth
import pytest
from assume_support import Home, run_inprocess
from e2e_support import free_port


def _no_secret(home: Home, text: str) -> None:
    assert home.world.alice[1] not in text
    assert "ASIA" not in text


def test_external_id_mismatch_is_explained(home: Home) -> None:
    ok = run_inprocess("partner", "--no-cache")
    assert ok.returncode == 0, ok.stderr
    shown = run_inprocess("partner", "--external-id", "partner-7", "--no-cache")
    assert shown.returncode == 1
    lines = shown.stderr.splitlines()
    assert lines[0].startswith("rolegate assume: AccessDenied: User: arn:aws:iam::")
    assert lines[0].endswith(
        f"is not authorized to perform: sts:AssumeRole on resource: {home.world.role_arn('assume-partner')}"
    )
    assert lines[1].startswith(
        f"  while assuming {home.world.role_arn('assume-partner')} (profile partner); request id "
    )
    assert "rolegate: ImplicitDeny at the role trust policy (trust)" in lines[2]
    assert "Condition.StringEquals.sts:ExternalId value_mismatch" in shown.stderr
    assert (
        lines[-1]
        == "  hint: the role's trust policy expects a different ExternalId: check --external-id (it is case-sensitive)"
    )
    _no_secret(home, shown.stderr + shown.stdout)


def test_missing_external_id_is_explained(home: Home) -> None:
    role = home.world.role_arn("assume-partner")
    shown = run_inprocess(role, "--source-profile", "alice", "--no-cache")
    assert shown.returncode == 1
    assert "sts:ExternalId" in shown.stderr
    assert "hint: the role's trust policy expects a different ExternalId" in shown.stderr


def test_identity_denial_names_the_gate(home: Home) -> None:
    iam = home.world.live.client("iam")
    iam.create_user(UserName="assume-nobody")
    key = iam.create_access_key(UserName="assume-nobody")["AccessKey"]
    home.credentials.write_text(
        home.credentials.read_text()
        + f"[nobody]\naws_access_key_id = {key['AccessKeyId']}\naws_secret_access_key = {key['SecretAccessKey']}\n"
    )
    shown = run_inprocess(
        home.world.role_arn("assume-dev"), "--source-profile", "nobody", "--endpoint-url", home.world.live.endpoint
    )
    assert shown.returncode == 1
    assert "because no identity-based policy allows the sts:AssumeRole action" in shown.stderr
    assert "rolegate: ImplicitDeny at the identity-based policies (identity)" in shown.stderr
    assert "hint:" not in shown.stderr
    assert key["SecretAccessKey"] not in shown.stderr


def test_clock_skew_hint(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    skewed = datetime.now(UTC) - timedelta(minutes=20)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: skewed)
    shown = run_inprocess("dev", "--no-cache")
    assert shown.returncode == 1
    assert "SignatureDoesNotMatch: Signature expired: " in shown.stderr
    assert "hint: this computer's clock is more than 15 minutes off" in shown.stderr


def test_missing_source_credentials_hint(home: Home) -> None:
    home.add_config(
        f"\n[profile keyless]\nregion = eu-west-1\n\n[profile orphan]\nrole_arn = {home.world.role_arn('assume-dev')}\nsource_profile = keyless\n"
    )
    shown = run_inprocess("orphan")
    assert shown.returncode == 1
    assert shown.stderr.splitlines() == [
        "rolegate assume: no source credentials found (profile keyless)",
        "  hint: give the source credentials: a profile with source_profile, --source-profile NAME, AWS_PROFILE, "
        "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment",
    ]
    arn_only = run_inprocess(home.world.role_arn("assume-dev"), "--endpoint-url", home.world.live.endpoint)
    assert arn_only.returncode == 1
    assert "no source credentials found (the default credential chain)" in arn_only.stderr


def test_unknown_or_wrong_keys_hint(home: Home) -> None:
    key_id, secret = home.world.alice
    home.credentials.write_text(
        home.credentials.read_text()
        + f"[forged]\naws_access_key_id = AKIAFORGEDFORGED1234\naws_secret_access_key = {'x' * 40}\n"
        + f"[wrong-secret]\naws_access_key_id = {key_id}\naws_secret_access_key = {'y' * 40}\n"
    )
    endpoint = home.world.live.endpoint
    forged = run_inprocess(home.world.role_arn("assume-dev"), "--source-profile", "forged", "--endpoint-url", endpoint)
    assert forged.returncode == 1
    assert "InvalidClientTokenId: The security token included in the request is invalid." in forged.stderr
    assert "hint: the endpoint does not know the source access key" in forged.stderr
    wrong = run_inprocess(
        home.world.role_arn("assume-dev"), "--source-profile", "wrong-secret", "--endpoint-url", endpoint
    )
    assert wrong.returncode == 1
    assert "SignatureDoesNotMatch" in wrong.stderr
    assert "hint: the source secret access key does not belong to its access key id" in wrong.stderr
    assert secret not in wrong.stderr and "y" * 40 not in wrong.stderr


def test_unreachable_endpoint_hint(home: Home) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    shown = run_inprocess(home.world.role_arn("assume-dev"), "--source-profile", "alice", "--endpoint-url", url)
    assert shown.returncode == 1
    assert shown.stderr.splitlines() == [
        f"rolegate assume: cannot reach STS at {url}",
        "  hint: check --endpoint-url / AWS_ENDPOINT_URL (is `rolegate serve` running?)",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "ROLE is required"),
        (["nope"], "'nope' is neither a role ARN"),
        (["alice"], "profile 'alice' has no role_arn"),
        (["dev", "--tag", "novalue"], "--tag 'novalue': expected KEY=VALUE"),
        (["dev", "--duration", "60"], "duration 60: must be between 900 and 43200 seconds"),
        (["dev", "--duration", "soon"], "expected a number of seconds"),
        (["dev", "--policy", "{not json"], "--policy: not valid JSON"),
        (["dev", "--policy", "/no/such/policy.json"], "--policy: cannot read /no/such/policy.json"),
        (["dev", "--shell", "fish"], "--shell applies to --export only"),
        (["dev", "--static"], "--static applies to --exec only"),
        (["dev", "--chain", "alice"], "--chain 'alice': expected a role ARN or a profile with role_arn"),
        (["dev", "--source-profile", "alice"], "--source-profile applies to a role ARN"),
        (["dev", "--export", "--json"], "not allowed with argument"),
    ],
)
def test_usage_errors_exit_2(home: Home, args: list[str], message: str) -> None:
    shown = run_inprocess(*args)
    assert shown.returncode == 2
    assert message in shown.stderr
    assert shown.stdout == ""


def test_source_profile_loop(home: Home) -> None:
    home.add_config("\n[profile a]\nrole_arn = arn:aws:iam::123456789012:role/a\nsource_profile = b\n")
    home.add_config("\n[profile b]\nrole_arn = arn:aws:iam::123456789012:role/b\nsource_profile = a\n")
    shown = run_inprocess("a")
    assert shown.returncode == 2
    assert "source_profile loops back" in shown.stderr


def test_unusable_endpoint_or_config_files(home: Home) -> None:
    bad_url = run_inprocess(
        home.world.role_arn("assume-dev"), "--source-profile", "alice", "--endpoint-url", "not a url"
    )
    assert bad_url.returncode == 2
    assert "Invalid endpoint: not a url" in bad_url.stderr
    home.config.write_text("this is not an ini file\n[profile\n")
    broken = run_inprocess("dev")
    assert broken.returncode == 2
    assert broken.stderr.startswith("rolegate assume: cannot read the AWS config files: ")
