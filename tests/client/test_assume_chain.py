"""Role chaining: `--chain`, profiles whose source_profile is itself a role, a role session as the source, and
the one-hour limit AWS puts on chained sessions (applied, and said)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from assume_support import Home, run_inprocess


def _lifetime(result: dict[str, Any]) -> float:
    expiration = datetime.fromisoformat(result["Credentials"]["Expiration"].replace("Z", "+00:00"))
    return (expiration - datetime.now(UTC)).total_seconds()


def test_chain_profiles_and_arns(home: Home) -> None:
    shown = run_inprocess(
        "dev", "--chain", home.world.role_arn("assume-hop"), "--chain", "prod", "--json", "--no-cache"
    )
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["AssumedRoleUser"]["Arn"].endswith(":assumed-role/assume-prod/alice")


def test_chained_duration_is_capped_at_one_hour_and_said(home: Home) -> None:
    shown = run_inprocess("dev", "--chain", "prod", "--duration", "7200", "--json", "--no-cache")
    assert shown.returncode == 0, shown.stderr
    assert "role chaining: prod is assumed by a role session, which AWS limits to 1 hour" in shown.stderr
    assert 3500 < _lifetime(json.loads(shown.stdout)) <= 3600
    alone = run_inprocess("dev", "--duration", "7200", "--json", "--no-cache")
    assert alone.returncode == 0 and "role chaining" not in alone.stderr
    assert 7100 < _lifetime(json.loads(alone.stdout)) <= 7200


def test_profile_chain_through_source_profile(home: Home) -> None:
    home.add_config(
        f"\n[profile jump]\nrole_arn = {home.world.role_arn('assume-hop')}\nsource_profile = alice\n"
        f"endpoint_url = {home.world.live.endpoint}\n"
        f"\n[profile deep]\nrole_arn = {home.world.role_arn('assume-prod')}\nsource_profile = jump\n"
        f"duration_seconds = 7200\nrole_session_name = deep-session\nendpoint_url = {home.world.live.endpoint}\n"
    )
    shown = run_inprocess("deep", "--json", "--no-cache")
    assert shown.returncode == 0, shown.stderr
    assert "role chaining: deep" in shown.stderr
    result = json.loads(shown.stdout)
    assert result["AssumedRoleUser"]["Arn"].endswith(":assumed-role/assume-prod/deep-session")
    assert _lifetime(result) <= 3600


def test_source_identity_and_transitive_tags_carry_through_the_chain(home: Home) -> None:
    shown = run_inprocess(
        "dev",
        "--source-identity",
        "alice-laptop",
        "--tag",
        "team=blue",
        "--transitive-tag",
        "team",
        "--chain",
        "prod",
        "--json",
        "--no-cache",
    )
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["SourceIdentity"] == "alice-laptop"


def test_a_role_session_as_the_source_is_chaining(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    exported = run_inprocess("dev", "--json", "--no-cache")
    credentials = json.loads(exported.stdout)["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", credentials["SessionToken"])
    monkeypatch.setenv("ROLEGATE_ASSUMED_ROLE", "arn:aws:sts::000000000000:assumed-role/assume-dev/alice")
    prod = home.world.role_arn("assume-prod")
    shown = run_inprocess(prod, "--endpoint-url", home.world.live.endpoint, "--duration", "7200", "--json")
    assert shown.returncode == 0, shown.stderr
    assert "the source is the role session in your environment" in shown.stderr
    assert f"role chaining: {prod} is assumed by a role session" in shown.stderr
    result = json.loads(shown.stdout)
    assert result["AssumedRoleUser"]["Arn"].endswith(":assumed-role/assume-prod/alice")  # named after the caller
    assert _lifetime(result) <= 3600
