"""A small world on the live server (user alice, roles to assume) and a temporary HOME with AWS profiles."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
from e2e_support import LiveServer

AWS_CLI = str(Path(sys.executable).with_name("aws"))
TRUST_ACTIONS = ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@dataclass(frozen=True)
class World:
    live: LiveServer
    account: str
    alice: tuple[str, str]

    def role_arn(self, name: str) -> str:
        return f"arn:aws:iam::{self.account}:role/{name}"

    def trust(self, *conditions: dict[str, Any]) -> str:
        statement: dict[str, Any] = {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{self.account}:root"},
            "Action": TRUST_ACTIONS,
        }
        if conditions:
            statement["Condition"] = conditions[0]
        return policy(statement)

    def add_role(self, name: str, trust: str | None = None, max_session: int = 43200) -> str:
        iam = self.live.client("iam")
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust or self.trust(), MaxSessionDuration=max_session)
        allow = {"Effect": "Allow", "Action": [*TRUST_ACTIONS, "iam:ListRoles", "iam:GetUser"], "Resource": "*"}
        iam.put_role_policy(RoleName=name, PolicyName="chain-and-read", PolicyDocument=policy(allow))
        return self.role_arn(name)

    def add_user(self, name: str) -> tuple[str, str]:
        iam = self.live.client("iam")
        iam.create_user(UserName=name)
        allow = {"Effect": "Allow", "Action": TRUST_ACTIONS, "Resource": "*"}
        iam.put_user_policy(UserName=name, PolicyName="assume", PolicyDocument=policy(allow))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return key["AccessKeyId"], key["SecretAccessKey"]

    def add_mfa(self, user: str) -> tuple[str, pyotp.TOTP]:
        """A virtual MFA device enabled for `user` with two consecutive real TOTP codes."""
        iam = self.live.client("iam")
        device = iam.create_virtual_mfa_device(VirtualMFADeviceName=user)["VirtualMFADevice"]
        totp = pyotp.TOTP(device["Base32StringSeed"].decode("ascii"), interval=30)
        step = int(__import__("time").time()) // 30
        iam.enable_mfa_device(
            UserName=user,
            SerialNumber=device["SerialNumber"],
            AuthenticationCode1=totp.at((step - 1) * 30),
            AuthenticationCode2=totp.at(step * 30),
        )
        return device["SerialNumber"], totp


def make_world(live: LiveServer) -> World:
    world = World(live, live.management_account, ("", ""))
    world = World(live, live.management_account, world.add_user("alice"))
    for name in ("assume-dev", "assume-prod", "assume-hop"):
        world.add_role(name)
    world.add_role("assume-partner", world.trust({"StringEquals": {"sts:ExternalId": "Partner-7"}}))
    world.add_role("assume-short", max_session=3600)
    return world


@dataclass
class Home:
    path: Path
    env: dict[str, str]
    world: World

    @property
    def config(self) -> Path:
        return self.path / ".aws" / "config"

    @property
    def credentials(self) -> Path:
        return self.path / ".aws" / "credentials"

    @property
    def cache_dir(self) -> Path:
        return self.path / ".aws" / "rolegate" / "cache"

    def add_config(self, text: str) -> None:
        with self.config.open("a", encoding="utf-8") as handle:
            handle.write(text)

    def run(
        self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """`rolegate assume ARGS` in a new session: no controlling terminal, so prompts fall back to stdin."""
        return subprocess.run(
            [sys.executable, "-m", "rolegate", "assume", *args],
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            env={**self.env, **(env or {})},
            timeout=120,
            check=False,
            start_new_session=True,
        )

    def aws(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [AWS_CLI, *args],
            capture_output=True,
            text=True,
            env={**self.env, **(env or {})},
            timeout=120,
            check=False,
            start_new_session=True,
        )


def clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ROLEGATE_"))}


def make_home(path: Path, world: World) -> Home:
    aws = path / ".aws"
    aws.mkdir(parents=True)
    endpoint = world.live.endpoint
    (aws / "credentials").write_text(
        f"# alice's long-term keys\n[alice]\naws_access_key_id = {world.alice[0]}\n"
        f"aws_secret_access_key = {world.alice[1]}\n"
    )
    (aws / "config").write_text(
        f"[profile alice]\nregion = eu-west-1\nendpoint_url = {endpoint}\n\n"
        f"[profile dev]\nrole_arn = {world.role_arn('assume-dev')}\nsource_profile = alice\n"
        f"region = eu-west-1\nendpoint_url = {endpoint}\n\n"
        f"[profile prod]\nrole_arn = {world.role_arn('assume-prod')}\nsource_profile = alice\n"
        f"endpoint_url = {endpoint}\n\n"
        f"[profile partner]\nrole_arn = {world.role_arn('assume-partner')}\nsource_profile = alice\n"
        f"external_id = Partner-7\nendpoint_url = {endpoint}\n"
    )
    # No instance-metadata probe when a test has no credentials: the tests talk to 127.0.0.1 only.
    env = {**clean_environment(), "HOME": str(path), "AWS_EC2_METADATA_DISABLED": "true"}
    return Home(path, env, world)


def identity(output: str) -> str:
    """The Arn of `aws sts get-caller-identity` output."""
    return str(json.loads(output)["Arn"])


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def run_inprocess(*args: str) -> Ran:
    """`rolegate assume ARGS` through the real entry point in this process (faster than a subprocess)."""
    import contextlib
    import io

    from rolegate.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["assume", *args])
    return Ran(status, out.getvalue(), err.getvalue())
