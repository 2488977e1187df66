"""Each output mode of `rolegate assume`, end to end: the command as a subprocess against the live server,
and the aws CLI (or bash) consuming what it produced."""

from __future__ import annotations

import json
import stat
import subprocess
import sys

import pytest
from assume_support import AWS_CLI, Home, identity, run_inprocess


def test_summary_has_no_secrets_and_reuses_the_cache(home: Home) -> None:
    first = run_inprocess("dev")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"arn:aws:sts::{home.world.account}:assumed-role/assume-dev/alice: credentials")
    assert "(cached)" not in first.stdout
    assert home.world.alice[1] not in first.stdout + first.stderr
    assert "ASIA" not in first.stdout
    second = run_inprocess("dev")
    assert second.returncode == 0 and second.stdout.rstrip().endswith("(cached)")


def test_export_evaluated_by_bash(home: Home) -> None:
    exported = run_inprocess("dev", "--export", "--shell", "bash")
    assert exported.returncode == 0, exported.stderr
    lines = exported.stdout.splitlines()
    assert lines[0].startswith("export AWS_ACCESS_KEY_ID=ASIA")
    assert f"export AWS_ENDPOINT_URL={home.world.live.endpoint}" in lines
    assert "export AWS_REGION=eu-west-1" in lines
    assert lines[-1] == "unset AWS_SECURITY_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE"
    script = f'eval "$(cat)"; exec {AWS_CLI} sts get-caller-identity'
    shell = subprocess.run(
        ["bash", "-c", script],
        input=exported.stdout,
        capture_output=True,
        text=True,
        env={**home.env, "AWS_PROFILE": "alice"},
        timeout=60,
        check=False,
    )
    assert shell.returncode == 0, shell.stderr
    assert identity(shell.stdout) == f"arn:aws:sts::{home.world.account}:assumed-role/assume-dev/alice"


def test_export_syntax_follows_the_shell(home: Home) -> None:
    fish = run_inprocess("dev", "--export", "--shell", "fish")
    assert fish.returncode == 0, fish.stderr
    assert fish.stdout.splitlines()[0].startswith("set -gx AWS_ACCESS_KEY_ID 'ASIA")
    assert "set -e AWS_PROFILE;" in fish.stdout
    powershell = run_inprocess("dev", "--export", "--shell", "powershell")
    assert powershell.stdout.splitlines()[0].startswith("$env:AWS_ACCESS_KEY_ID = 'ASIA")
    assert "Remove-Item Env:AWS_PROFILE -ErrorAction SilentlyContinue" in powershell.stdout


def test_json_is_the_assume_role_result(home: Home) -> None:
    shown = run_inprocess("dev", "--json", "--session-name", "json-check", "--no-cache")
    assert shown.returncode == 0, shown.stderr
    result = json.loads(shown.stdout)
    assert set(result) == {"Credentials", "AssumedRoleUser"}
    assert set(result["Credentials"]) == {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}
    assert result["AssumedRoleUser"]["Arn"].endswith(":assumed-role/assume-dev/json-check")
    assert result["Credentials"]["Expiration"].endswith("Z")
    assert not home.cache_dir.exists() or not any(home.cache_dir.iterdir())


def test_profile_written_for_the_aws_cli(home: Home) -> None:
    home.credentials.write_text(home.credentials.read_text() + "\n# keep me\n[other]\nregion = ap-south-1\n")
    written = run_inprocess("dev", "--profile", "dev-session")
    assert written.returncode == 0, written.stderr
    assert written.stdout.startswith("profile dev-session written to ")
    assert "ASIA" not in written.stdout
    text = home.credentials.read_text()
    assert text.startswith("# alice's long-term keys\n[alice]\n")
    assert "# keep me\n[other]\nregion = ap-south-1\n" in text
    assert stat.S_IMODE(home.credentials.stat().st_mode) == 0o600
    shown = home.aws("sts", "get-caller-identity", "--profile", "dev-session")
    assert shown.returncode == 0, shown.stderr
    assert identity(shown.stdout) == f"arn:aws:sts::{home.world.account}:assumed-role/assume-dev/alice"
    again = run_inprocess("prod", "--profile", "dev-session")
    assert again.returncode == 0, again.stderr
    assert home.credentials.read_text().count("[dev-session]") == 1
    shown = home.aws("sts", "get-caller-identity", "--profile", "dev-session")
    assert identity(shown.stdout).endswith(":assumed-role/assume-prod/alice")


def test_profile_refuses_names_that_would_lose_keys_or_be_ignored(home: Home) -> None:
    before = home.credentials.read_text()
    long_term = run_inprocess("dev", "--profile", "alice")
    assert long_term.returncode == 2
    assert "is a profile this request reads" in long_term.stderr
    home.credentials.write_text(before + "[keys]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = x\n")
    keys = run_inprocess("dev", "--profile", "keys")
    assert keys.returncode == 2 and "holds long-term access keys" in keys.stderr
    role = run_inprocess("dev", "--profile", "prod")
    assert role.returncode == 2 and "sets role_arn" in role.stderr
    assert "ASIA" not in home.credentials.read_text()


def test_credential_process_profile_read_by_the_aws_cli(home: Home) -> None:
    command = f"{sys.executable} -m rolegate assume dev --credential-process"
    home.add_config(
        f"\n[profile via-process]\ncredential_process = {command}\nregion = eu-west-1\nendpoint_url = {home.world.live.endpoint}\n"
    )
    printed = run_inprocess("dev", "--credential-process")
    assert printed.returncode == 0, printed.stderr
    document = json.loads(printed.stdout)
    assert document["Version"] == 1
    assert set(document) == {"Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}
    shown = home.aws("sts", "get-caller-identity", "--profile", "via-process")
    assert shown.returncode == 0, shown.stderr
    assert identity(shown.stdout) == f"arn:aws:sts::{home.world.account}:assumed-role/assume-dev/alice"


def test_arn_with_source_profile_and_session_options(home: Home) -> None:
    session_policy = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"}]}
    )
    shown = run_inprocess(
        home.world.role_arn("assume-prod"),
        "--source-profile",
        "alice",
        "--policy",
        session_policy,
        "--tag",
        "team=blue",
        "--source-identity",
        "alice-laptop",
        "--duration",
        "900",
        "--json",
    )
    assert shown.returncode == 0, shown.stderr
    result = json.loads(shown.stdout)
    assert result["SourceIdentity"] == "alice-laptop"
    assert 0 < result["PackedPolicySize"] <= 100
    credentials = result["Credentials"]
    env = {
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
        "AWS_ENDPOINT_URL": home.world.live.endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    allowed = home.aws("iam", "list-roles", "--max-items", "1", env=env)
    assert allowed.returncode == 0, allowed.stderr
    denied = home.aws("iam", "get-user", "--user-name", "alice", env=env)
    assert denied.returncode != 0 and "AccessDenied" in denied.stderr


def test_policy_from_a_file(home: Home) -> None:
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]}
    path = home.path / "session.json"
    path.write_text(json.dumps(document))
    for value in (str(path), f"file://{path}"):
        shown = run_inprocess("prod", "--policy", value, "--json", "--no-cache")
        assert shown.returncode == 0, shown.stderr
        assert "PackedPolicySize" in json.loads(shown.stdout)


def test_environment_source_and_endpoint(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", home.world.alice[0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", home.world.alice[1])
    monkeypatch.setenv("AWS_ENDPOINT_URL", home.world.live.endpoint)
    exported = run_inprocess(home.world.role_arn("assume-dev"), "--export", "--shell", "zsh")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.startswith("export AWS_ACCESS_KEY_ID=ASIA")
    assert "AWS_ENDPOINT_URL" not in exported.stdout  # already in the environment, not chosen by a profile
    assert "AWS_REGION" not in exported.stdout
