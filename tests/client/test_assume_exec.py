"""`--exec`: the child reads credentials from the local endpoint (container credential protocol), nothing in
its environment shadows that endpoint, and a long-running child gets renewed credentials (client clock moved
by the test, server on real time)."""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from assume_support import AWS_CLI, Home, identity
from botocore.credentials import ContainerProvider

from rolegate.cli.main import main
from rolegate.client import (
    AssumeError,
    AssumeOptions,
    Assumer,
    RefreshingSource,
    build_plan,
    load_profiles,
    run_command,
)
from rolegate.client.server import PATH, CredentialServer

CHILD_ENV = (
    "import json, os; print(json.dumps({k: v for k, v in os.environ.items() if k.startswith(('AWS_', 'ROLEGATE_'))}))"
)
TWO_CALLS = """
import json, pathlib, sys, time, boto3
marker, go = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
session = boto3.Session()
sts = session.client("sts")
first = sts.get_caller_identity()["Arn"]
k1 = session.get_credentials().get_frozen_credentials().access_key
marker.write_text(k1)
deadline = time.time() + 60
while not go.exists() and time.time() < deadline:
    time.sleep(0.02)
second = sts.get_caller_identity()["Arn"]
k2 = session.get_credentials().get_frozen_credentials().access_key
print(json.dumps({"first": first, "second": second, "k1": k1, "k2": k2}))
"""


class MovableClock:
    """The client's clock: real time plus an offset the test moves."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


def _assumer(role: str, clock: MovableClock, notes: list[str], duration: int = 900) -> Assumer:
    profiles = load_profiles()
    source_profile = "alice" if role.startswith("arn:") else None
    plan = build_plan(AssumeOptions(role=role, source_profile=source_profile, duration=duration), profiles, {})
    return Assumer(plan, profiles, now=clock, notify=notes.append)


def test_child_uses_the_endpoint_and_no_static_keys(
    home: Home, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice_key, alice_secret = home.world.alice
    home.credentials.write_text(
        home.credentials.read_text()
        + f"[default]\naws_access_key_id = {alice_key}\naws_secret_access_key = {alice_secret}\n"
    )
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", alice_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", alice_secret)
    monkeypatch.setenv("AWS_PROFILE", "alice")
    assert main(["assume", "dev", "--exec", "--", sys.executable, "-c", CHILD_ENV]) == 0
    child = json.loads(capfd.readouterr().out)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        assert name not in child
    assert child["AWS_CONTAINER_CREDENTIALS_FULL_URI"].startswith("http://127.0.0.1:")
    assert len(child["AWS_CONTAINER_AUTHORIZATION_TOKEN"]) >= 40
    assert child["AWS_ENDPOINT_URL"] == home.world.live.endpoint
    assert child["ROLEGATE_ASSUMED_ROLE"].endswith(":assumed-role/assume-dev/alice")
    copy = Path(child["AWS_SHARED_CREDENTIALS_FILE"])  # [default] had keys: the child reads a copy without them
    assert not copy.exists()  # removed when the command ended
    assert main(["assume", "dev", "--exec", "--", AWS_CLI, "sts", "get-caller-identity"]) == 0
    assert identity(capfd.readouterr().out) == f"arn:aws:sts::{home.world.account}:assumed-role/assume-dev/alice"
    assert "[default]\naws_access_key_id" in home.credentials.read_text()  # the user's file is untouched


def test_static_mode_exit_status_and_missing_command(home: Home, capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["assume", "dev", "--static", "--exec", "--", sys.executable, "-c", CHILD_ENV]) == 0
    child = json.loads(capfd.readouterr().out)
    assert child["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" not in child
    assert main(["assume", "dev", "--exec", "--", sys.executable, "-c", "raise SystemExit(7)"]) == 7
    assert main(["assume", "dev", "--exec", "--", str(home.path / "no-such-command")]) == 127
    assert "command not found" in capfd.readouterr().err
    assert main(["assume", "dev", "--exec"]) == 2


def test_endpoint_requires_the_token_and_speaks_the_container_protocol(home: Home) -> None:
    clock, notes = MovableClock(), []
    assumer = _assumer("dev", clock, notes)
    source = RefreshingSource(assumer, assumer.fetch())
    with CredentialServer(source) as server:
        for headers, status in (({}, 403), ({"Authorization": "x" * 43}, 403)):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(urllib.request.Request(server.url, headers=headers), timeout=5)
            assert refused.value.code == status
            assert b"ASIA" not in refused.value.read()
            refused.value.close()
        wrong_path = server.url.replace(PATH, "/latest/meta-data")
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(
                urllib.request.Request(wrong_path, headers={"Authorization": server.token}), timeout=5
            )
        assert missing.value.code == 404
        missing.value.close()
        env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url, "AWS_CONTAINER_AUTHORIZATION_TOKEN": server.token}
        loaded = ContainerProvider(environ=env).load().get_frozen_credentials()
    assert loaded.access_key == source.peek().access_key_id
    assert loaded.token == source.peek().session_token


def test_long_running_child_gets_renewed_credentials(home: Home, tmp_path: Path) -> None:
    clock, notes = MovableClock(), []
    assumer = _assumer("dev", clock, notes)
    source = RefreshingSource(assumer, assumer.get()[0])
    marker, go = tmp_path / "first", tmp_path / "go"

    def move_clock_when_the_child_has_called() -> None:
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        clock.advance(130)  # 900 s session: now inside the advisory window (780 s before expiry)
        go.touch()

    helper = threading.Thread(target=move_clock_when_the_child_has_called)
    helper.start()
    out = tmp_path / "out.json"
    argv = [
        sys.executable,
        "-c",
        f"import sys; sys.stdout = open({str(out)!r}, 'w'); exec({TWO_CALLS!r})",
        str(marker),
        str(go),
    ]
    status = run_command(argv, source, assumer.plan, load_profiles(), {"HOME": str(home.path)}, notes.append)
    helper.join()
    assert status == 0
    result = json.loads(out.read_text())
    assert result["first"] == result["second"]
    assert result["first"].endswith(":assumed-role/assume-dev/alice")
    assert result["k1"] == marker.read_text() and result["k2"] != result["k1"]
    assert source.peek().access_key_id == result["k2"]


def test_renewal_failures_keep_serving_until_the_mandatory_window(home: Home) -> None:
    world = home.world
    role = world.add_role("assume-revocable")
    clock, notes = MovableClock(), []
    assumer = _assumer(role, clock, notes)
    source = RefreshingSource(assumer, assumer.fetch())
    first = source.peek().access_key_id
    elsewhere = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"}
    world.live.client("iam").update_assume_role_policy(
        RoleName="assume-revocable", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [elsewhere]})
    )
    clock.advance(130)
    assert source.current().access_key_id == first
    assert notes and "still serving them" in notes[-1] and "AccessDenied" in notes[-1]
    clock.advance(200)  # 570 s left: below the 660 s mandatory window
    with CredentialServer(source) as server:
        request = urllib.request.Request(server.url, headers={"Authorization": server.token})
        with pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(request, timeout=10)
        assert failed.value.code == 500
        assert json.loads(failed.value.read())["code"] == "CredentialsUnavailable"
        failed.value.close()
    with pytest.raises(AssumeError):
        source.current()
