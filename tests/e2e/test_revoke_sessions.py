"""`rolegate revoke-sessions ROLE_ARN` ends a role's live sessions at once; new sessions keep working."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import botocore.exceptions
import pytest
from e2e_support import ROOT_KEY_ID, ROOT_SECRET, LiveServer


def _session(server: LiveServer, key: dict[str, str], role_arn: str, name: str) -> object:
    sts = server.client("sts", key_id=key["AccessKeyId"], secret=key["SecretAccessKey"])
    credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=name)["Credentials"]
    return server.client(
        "iam",
        key_id=credentials["AccessKeyId"],
        secret=credentials["SecretAccessKey"],
        token=credentials["SessionToken"],
    )


def test_revoke_sessions_denies_older_sessions_only(server: LiveServer) -> None:
    iam = server.client("iam")
    account = server.client("sts").get_caller_identity()["Account"]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    role_arn = iam.create_role(RoleName="revocable", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="revocable",
        PolicyName="list",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"}]}
        ),
    )
    iam.create_user(UserName="revoker-user")
    iam.put_user_policy(
        UserName="revoker-user",
        PolicyName="assume",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}],
            }
        ),
    )
    key = iam.create_access_key(UserName="revoker-user")["AccessKey"]
    old = _session(server, key, role_arn, "before")
    old.list_roles()  # type: ignore[attr-defined]
    time.sleep(1.1)  # token issue times have one-second resolution, as in AWS
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=ROOT_KEY_ID, AWS_SECRET_ACCESS_KEY=ROOT_SECRET, AWS_CONFIG_FILE=os.devnull)
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    revoked = subprocess.run(
        [sys.executable, "-m", "rolegate", "revoke-sessions", role_arn, "--endpoint-url", server.endpoint],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert revoked.returncode == 0, revoked.stderr
    assert "are revoked" in revoked.stdout
    with pytest.raises(botocore.exceptions.ClientError) as denied:
        old.list_roles()  # type: ignore[attr-defined]
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert denied.value.response["Error"]["Message"].endswith("with an explicit deny in an identity-based policy")
    time.sleep(1.1)
    fresh = _session(server, key, role_arn, "after")
    assert "Roles" in fresh.list_roles()  # type: ignore[attr-defined]
    policy = iam.get_role_policy(RoleName="revocable", PolicyName="AWSRevokeOlderSessions")["PolicyDocument"]
    assert policy["Statement"][0]["Condition"]["DateLessThan"]["aws:TokenIssueTime"].endswith("Z")


def test_revoke_sessions_rejects_a_non_role_arn(server: LiveServer) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rolegate", "revoke-sessions", "arn:aws:iam::123456789012:user/x"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "not a role ARN" in result.stderr
