"""A denial's request id, turned into its explanation: STS DecodeAuthorizationMessage and `rolegate explain`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import botocore.exceptions
import pytest
from e2e_support import ROOT_KEY_ID, ROOT_SECRET, LiveServer


def _denied_request_id(server: LiveServer, user: str) -> tuple[str, dict[str, str]]:
    iam = server.client("iam")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    user_iam = server.client("iam", key_id=key["AccessKeyId"], secret=key["SecretAccessKey"])
    with pytest.raises(botocore.exceptions.ClientError) as denied:
        user_iam.delete_role(RoleName="anything")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    return denied.value.response["ResponseMetadata"]["RequestId"], key


def test_decode_authorization_message_of_a_denial(server: LiveServer) -> None:
    request_id, _ = _denied_request_id(server, "decode-user")
    decoded = json.loads(server.client("sts").decode_authorization_message(EncodedMessage=request_id)["DecodedMessage"])
    assert decoded["allowed"] is False
    assert decoded["explicitDeny"] is False
    assert decoded["context"]["action"] == "iam:DeleteRole"
    assert decoded["context"]["principal"]["arn"].endswith(":user/decode-user")
    assert decoded["explanation"]["reason"] == "no_identity_policy_allow"


def test_decode_refuses_unknown_messages_and_unprivileged_callers(server: LiveServer) -> None:
    request_id, key = _denied_request_id(server, "decode-user-2")
    with pytest.raises(botocore.exceptions.ClientError) as invalid:
        server.client("sts").decode_authorization_message(EncodedMessage="not-a-denial")
    assert invalid.value.response["Error"]["Code"] == "InvalidAuthorizationMessageException"
    assert invalid.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    user_sts = server.client("sts", key_id=key["AccessKeyId"], secret=key["SecretAccessKey"])
    with pytest.raises(botocore.exceptions.ClientError) as denied:
        user_sts.decode_authorization_message(EncodedMessage=request_id)
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert "sts:DecodeAuthorizationMessage" in denied.value.response["Error"]["Message"]


def _explain(server: LiveServer, *args: str, key: tuple[str, str] = (ROOT_KEY_ID, ROOT_SECRET)) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=key[0], AWS_SECRET_ACCESS_KEY=key[1], AWS_CONFIG_FILE=os.devnull)
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    return subprocess.run(
        [sys.executable, "-m", "rolegate", "explain", *args, "--endpoint-url", server.endpoint],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_rolegate_explain_prints_the_deciding_gate(server: LiveServer) -> None:
    request_id, key = _denied_request_id(server, "explain-user")
    shown = _explain(server, request_id)
    assert shown.returncode == 0, shown.stderr
    assert "ImplicitDeny: arn:aws:iam::" in shown.stdout
    assert "deciding gate: identity-based policies (identity)" in shown.stdout
    as_json = _explain(server, request_id, "--json")
    assert json.loads(as_json.stdout)["request"]["action"] == "iam:DeleteRole"
    missing = _explain(server, "no-such-request")
    assert missing.returncode == 1
    assert "no recorded denial" in missing.stderr
    wrong_secret = _explain(server, request_id, key=(key["AccessKeyId"], "x" * 40))
    assert wrong_secret.returncode == 2
