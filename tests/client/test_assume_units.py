"""Pure parts of the client: profile resolution, option placement, INI section edits, shell quoting (checked by
a real bash), failure hints, the facade."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from botocore.exceptions import ClientError

import rolegate.client
from rolegate.client import AssumeOptions, Hop, UsageError, build_plan, detect_shell, export_lines
from rolegate.client.explain import may_be_rolegate
from rolegate.client.failures import HINT_CHAIN, HINT_SKEW, translate
from rolegate.client.inifile import read_section, update_section
from rolegate.client.sts import session_name_for

R1 = "arn:aws:iam::111111111111:role/one"
R2 = "arn:aws:iam::222222222222:role/two"
R3 = "arn:aws:iam::333333333333:role/three"
PROFILES: dict[str, dict[str, Any]] = {
    "keys": {"aws_access_key_id": "AKIA", "aws_secret_access_key": "s", "region": "eu-north-1"},
    "one": {"role_arn": R1, "source_profile": "keys", "mfa_serial": "arn:aws:iam::1:mfa/me", "external_id": "e1"},
    "two": {"role_arn": R2, "source_profile": "one", "duration_seconds": "7200", "role_session_name": "two-s"},
    "self": {"role_arn": R1, "source_profile": "self", "aws_access_key_id": "AKIA", "aws_secret_access_key": "s"},
    "env": {"role_arn": R3, "credential_source": "Environment", "endpoint_url": "http://127.0.0.1:1"},
}


def test_profile_chain_resolution_and_option_placement() -> None:
    options = AssumeOptions(role="two", external_id="x", tags=(("k", "v"),), duration=1800, policy_arns=("arn:p",))
    plan = build_plan(options, PROFILES, {"AWS_REGION": "us-west-2"})
    assert plan.source.kind == "profile" and plan.source.profile == "keys"
    one, two = plan.hops
    assert (one.role_arn, one.mfa_serial, one.external_id, one.duration) == (R1, "arn:aws:iam::1:mfa/me", "e1", None)
    assert (two.role_arn, two.external_id, two.tags, two.duration, two.session_name) == (
        R2,
        "x",
        (("k", "v"),),
        1800,
        "two-s",
    )
    assert two.policy_arns == ("arn:p",) and one.policy_arns == ()
    assert (plan.region.value, plan.region.chosen) == ("us-west-2", False)
    assert plan.endpoint_url.value is None and plan.notes == ()


def test_chain_options_and_the_one_hour_cap() -> None:
    plan = build_plan(AssumeOptions(role="one", chain=(R3, "two"), external_id="x", duration=7200), PROFILES, {})
    assert [h.role_arn for h in plan.hops] == [R1, R3, R2]
    assert plan.hops[0].external_id == "x" and plan.hops[1].external_id is None
    assert plan.hops[2].duration == 3600 and plan.hops[0].duration is None
    assert plan.notes == (
        "role chaining: two is assumed by a role session, which AWS limits to 1 hour; "
        "asking for 3600 seconds instead of 7200",
    )


def test_sources_and_settings() -> None:
    own = build_plan(AssumeOptions(role="self"), PROFILES, {})
    assert own.source.kind == "profile" and own.source.profile == "self" and len(own.hops) == 1
    env = build_plan(AssumeOptions(role="env"), PROFILES, {"AWS_ENDPOINT_URL": "http://elsewhere"})
    assert env.source.kind == "Environment"
    assert (env.endpoint_url.value, env.endpoint_url.chosen) == ("http://127.0.0.1:1", True)
    arn = build_plan(AssumeOptions(role=R2, source_profile="keys"), PROFILES, {"AWS_ENDPOINT_URL_STS": "http://sts"})
    assert (arn.region.value, arn.region.chosen) == ("eu-north-1", True)
    assert (arn.endpoint_url.value, arn.endpoint_url.chosen) == ("http://sts", False)
    ignored = build_plan(AssumeOptions(role="env"), PROFILES, {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"})
    assert ignored.endpoint_url.value is None
    with pytest.raises(UsageError, match="credential_source must be one of"):
        build_plan(AssumeOptions(role="bad"), {"bad": {"role_arn": R1, "credential_source": "Nope"}}, {})
    with pytest.raises(UsageError, match="neither source_profile nor credential_source"):
        build_plan(AssumeOptions(role="bad"), {"bad": {"role_arn": R1}}, {})


def test_hop_parameters() -> None:
    hop = Hop(R1, "one", external_id="e", mfa_serial="serial", policy_arns=("arn:p",), transitive_tag_keys=("k",))
    assert hop.params("caller", "123456") == {
        "RoleArn": R1,
        "RoleSessionName": "caller",
        "ExternalId": "e",
        "PolicyArns": [{"arn": "arn:p"}],
        "TransitiveTagKeys": ["k"],
        "SerialNumber": "serial",
        "TokenCode": "123456",
    }
    assert "123456" not in repr(hop.identity())


@pytest.mark.parametrize(
    ("arn", "name"),
    [
        ("arn:aws:iam::1:user/team/alice", "alice"),
        ("arn:aws:sts::1:assumed-role/Admin/bob@example.com", "bob@example.com"),
        ("arn:aws:iam::1:root", "root"),
        ("arn:aws:iam::1:user/a", "rolegate-a"),
        ("arn:aws:iam::1:user/" + "x" * 80, "x" * 64),
    ],
)
def test_session_name_from_the_caller(arn: str, name: str) -> None:
    assert session_name_for(arn) == name


TEXT = """# top comment
[default]
region = us-east-1

[dev]  ; inline
aws_access_key_id = OLD
aws_session_token = OLDTOKEN
  continued
# dev comment
output = json

[other]
aws_access_key_id = KEEP
"""


def test_update_section_changes_only_that_section() -> None:
    updated = update_section(TEXT, "dev", {"aws_access_key_id": "NEW", "aws_session_token": None, "x": "1"})
    assert updated == TEXT.replace(
        "aws_access_key_id = OLD\naws_session_token = OLDTOKEN\n  continued\n# dev comment\noutput = json\n",
        "aws_access_key_id = NEW\n# dev comment\noutput = json\nx = 1\n",
    )
    assert read_section(updated, "other") == {"aws_access_key_id": "KEEP"}
    added = update_section("[a]\nk = v", "b", {"k": "w"})
    assert added == "[a]\nk = v\n\n[b]\nk = w\n"
    assert update_section("", "new", {"k": "v"}) == "[new]\nk = v\n"
    assert update_section(TEXT, "absent", {"k": None}) == TEXT


def test_bash_export_quoting_survives_hostile_values() -> None:
    hostile = "a'b\"c$(touch /tmp/pwned)`x` \\ ;|&"
    lines = export_lines({"V": hostile}, ("GONE",), "bash")
    run = subprocess.run(
        ["bash", "-c", 'eval "$1"; printf %s "$V"; printf %s "${GONE-unset}"', "-", "\n".join(lines)],
        capture_output=True,
        text=True,
        env={"GONE": "was-set", "PATH": "/usr/bin:/bin"},
        timeout=10,
        check=True,
    )
    assert run.stdout == hostile + "unset"
    assert export_lines({"V": "it's"}, (), "fish") == ["set -gx V 'it\\'s';"]
    assert export_lines({"V": "it's"}, (), "powershell") == ["$env:V = 'it''s'"]


@pytest.mark.parametrize(
    ("environ", "shell"),
    [
        ({"SHELL": "/usr/bin/fish"}, "fish"),
        ({"SHELL": "/bin/zsh"}, "zsh"),
        ({"SHELL": "/usr/local/bin/pwsh"}, "powershell"),
        ({"PSModulePath": "C:\\x"}, "powershell"),
        ({"SHELL": "/bin/dash"}, "bash"),
        ({}, "bash"),
    ],
)
def test_detect_shell(environ: dict[str, str], shell: str) -> None:
    assert detect_shell(environ) == shell


def _client_error(code: str, message: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"RequestId": "r-1"}}, "AssumeRole"
    )


def test_hints_for_real_aws_messages() -> None:
    hop = Hop(R1, "one")
    skew = translate(_client_error("SignatureDoesNotMatch", "Signature not yet current: x"), hop, None, None)
    assert skew.hint == HINT_SKEW
    chained = translate(
        _client_error(
            "ValidationError",
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assuming other roles.",
        ),
        hop,
        None,
        None,
    )
    assert chained.hint == HINT_CHAIN
    assert chained.details == (f"while assuming {R1} (profile one); request id r-1",)
    denied_on_aws = translate(_client_error("AccessDenied", "nope"), Hop(R1, R1, external_id="e"), None, None)
    assert denied_on_aws.hint is not None and "ExternalId" in denied_on_aws.hint
    assert len(denied_on_aws.details) == 1  # no explanation lookup without a rolegate endpoint


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (None, False),
        ("https://sts.amazonaws.com", False),
        ("https://sts.eu-west-1.amazonaws.com", False),
        ("https://sts.cn-north-1.amazonaws.com.cn", False),
        ("https://sts.us-east-1.api.aws", False),
        ("http://127.0.0.1:8080", True),
        ("https://rolegate.internal", True),
    ],
)
def test_explanation_lookup_only_off_aws(url: str | None, expected: bool) -> None:
    assert may_be_rolegate(url) is expected


FACADE = """
    SHELLS STALE AssumeError AssumeOptions Assumer ClientProblem Freshness Hop Plan RefreshingSource RoleSession
    SessionCache Setting Source UsageError build_plan credential_process default_cache_dir detect_shell environment
    export_lines freshness load_policy load_profiles parse_duration parse_tag raw_json run_command summary write_profile
"""


def test_facade_is_pinned() -> None:
    assert sorted(rolegate.client.__all__) == sorted(FACADE.split())
    assert all(hasattr(rolegate.client, name) for name in rolegate.client.__all__)
