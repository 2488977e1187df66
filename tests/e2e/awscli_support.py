"""The real aws CLI as a subprocess in a sealed home, pointed at a live server; and the accounts it acts in.

Nothing leaks in from the developer's environment: the CLI gets a temporary HOME with its own config and
credentials files, no AWS_* variable but the ones set here, one attempt per call (an error is reported at
once instead of after retries), and the instance metadata service turned off, so a missing credential can
never send the CLI off the loopback interface looking for one.

Member accounts are made the way AWS makes them: Organizations CreateAccount, then the management account's
admin user assumes OrganizationAccountAccessRole (root may not assume roles) and creates an IAM user with a
long-term key in the new account, which the seed walkthroughs then use as "the account's administrator".
"""

from __future__ import annotations

import configparser
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
from e2e_support import ROOT_KEY_ID, ROOT_SECRET, LiveServer

AWS = Path(sys.executable).with_name("aws")
CLI_TIMEOUT = 60
_ERROR = re.compile(r"An error occurred \(([^)]+)\) when calling the (\w+) operation(?: \([^)]*\))?: (.*)", re.S)
ADMIN_DOCUMENT = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


@dataclass(frozen=True)
class CliResult:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout) if self.stdout.strip() else None

    def documents(self) -> list[Any]:
        """The JSON outputs of several aws commands run one after another in one script."""
        decoder, found, index = json.JSONDecoder(), [], 0
        while index < len(self.stdout):
            if self.stdout[index].isspace():
                index += 1
                continue
            document, index = decoder.raw_decode(self.stdout, index)
            found.append(document)
        return found

    @property
    def error(self) -> tuple[str, str, str]:
        """(code, operation, message) of a service error as the CLI prints it."""
        found = _ERROR.search(self.stderr)
        if found is None:
            raise AssertionError(f"no service error in the CLI output: {self.stderr!r}")
        return found.group(1), found.group(2), found.group(3).strip()


class AwsCli:
    """One user's aws CLI: a home with ~/.aws/config and ~/.aws/credentials, run with an empty environment."""

    def __init__(self, home: Path, endpoint: str | None, region: str | None = "us-east-1") -> None:
        self.home = home
        self.endpoint = endpoint
        self.region = region
        self.config_file = home / ".aws" / "config"
        self.credentials_file = home / ".aws" / "credentials"
        self.config_file.parent.mkdir(parents=True, exist_ok=True)
        if not self.config_file.exists():
            self.set_config("default", output="json")
        self.credentials_file.touch()

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {
            "PATH": f"{AWS.parent}{os.pathsep}{os.defpath}",
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "AWS_CONFIG_FILE": str(self.config_file),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.credentials_file),
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_RETRY_MODE": "standard",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PAGER": "",
        }
        if self.region is not None:
            env["AWS_DEFAULT_REGION"] = self.region  # profiles written by `aws configure set` carry none
        if self.endpoint is not None:
            env["AWS_ENDPOINT_URL"] = self.endpoint  # for commands run as written in scripts, without the flag
        env.update(extra or {})
        return env

    def run(self, *args: str, profile: str | None = None, env: dict[str, str] | None = None) -> CliResult:
        """`aws ARGS [--profile P] --endpoint-url E` exactly as a user would type it."""
        command = [str(AWS), *args]
        if profile is not None:
            command += ["--profile", profile]
        if self.endpoint is not None:
            command += ["--endpoint-url", self.endpoint]
        return self._spawn(command, env)

    def ok(self, *args: str, profile: str | None = None, env: dict[str, str] | None = None) -> Any:
        """Run, require success, and return the parsed JSON output (None when the command prints nothing)."""
        result = self.run(*args, profile=profile, env=env)
        if result.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return result.json()

    def fail(self, *args: str, profile: str | None = None, env: dict[str, str] | None = None) -> tuple[str, str]:
        """Run, require a service error, and return its (code, message)."""
        result = self.run(*args, profile=profile, env=env)
        if result.returncode == 0:
            raise AssertionError(f"aws {' '.join(args)} succeeded: {result.stdout}")
        code, _operation, message = result.error
        return code, message

    def bash(self, script: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> CliResult:
        """Run a walkthrough's shell snippet through `bash -c` with this CLI first on PATH."""
        return self._spawn(["bash", "-c", script], env, cwd)

    def set_credentials(self, profile: str, key_id: str, secret: str, token: str | None = None) -> None:
        values = {"aws_access_key_id": key_id, "aws_secret_access_key": secret}
        if token is not None:
            values["aws_session_token"] = token
        _update_ini(self.credentials_file, profile, values)

    def set_config(self, profile: str, **values: str) -> None:
        section = profile if profile == "default" else f"profile {profile}"
        _update_ini(self.config_file, section, values)

    def _spawn(self, command: list[str], env: dict[str, str] | None, cwd: Path | None = None) -> CliResult:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=self.env(env),
            cwd=cwd or self.home,
            timeout=CLI_TIMEOUT,
            check=False,
        )
        return CliResult(tuple(command), done.returncode, done.stdout, done.stderr)


def _update_ini(path: Path, section: str, values: dict[str, str]) -> None:
    parser = configparser.RawConfigParser()
    parser.read(path)
    if not parser.has_section(section):
        parser.add_section(section)
    for key, value in values.items():
        parser.set(section, key, value)
    with path.open("w") as handle:
        parser.write(handle)


@dataclass(frozen=True)
class Principal:
    """Credentials of one IAM identity in one account, with boto3 clients on demand."""

    server: LiveServer
    account: str
    arn: str
    key_id: str
    secret: str
    token: str | None = None

    def client(self, service: str, validate: bool = True) -> Any:
        """A boto3 client; `validate=False` sends out-of-range values so the server's own validation answers."""
        if validate:
            return self.server.client(service, key_id=self.key_id, secret=self.secret, token=self.token)
        return boto3.client(
            service,
            endpoint_url=self.server.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.key_id,
            aws_secret_access_key=self.secret,
            aws_session_token=self.token,
            config=botocore.config.Config(parameter_validation=False),
        )

    def assume(self, role_arn: str, session: str = "setup", **params: Any) -> Principal:
        found = self.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session, **params)
        credentials = found["Credentials"]
        return Principal(
            self.server,
            role_arn.split(":")[4],
            found["AssumedRoleUser"]["Arn"],
            credentials["AccessKeyId"],
            credentials["SecretAccessKey"],
            credentials["SessionToken"],
        )

    def user(self, name: str, document: str | None = None, path: str = "/") -> Principal:
        """A new IAM user in this principal's account with an access key and, if given, an inline policy."""
        iam = self.client("iam")
        created = iam.create_user(UserName=name, Path=path)["User"]
        if document is not None:
            iam.put_user_policy(UserName=name, PolicyName=f"{name}-policy", PolicyDocument=document)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return Principal(self.server, self.account, created["Arn"], key["AccessKeyId"], key["SecretAccessKey"])


def management_admin(server: LiveServer) -> Principal:
    """Make the organization and the management account's admin user (call once per server)."""
    account = server.management_account
    root = Principal(server, account, f"arn:aws:iam::{account}:root", ROOT_KEY_ID, ROOT_SECRET)
    root.client("organizations").create_organization(FeatureSet="ALL")
    return root.user("org-admin", ADMIN_DOCUMENT)


def member_account(admin: Principal, name: str) -> Principal:
    """A new member account and its admin user (AdministratorAccess, long-term key)."""
    status = admin.client("organizations").create_account(AccountName=name, Email=f"{name}@example.com")
    account = status["CreateAccountStatus"]["AccountId"]
    session = admin.assume(f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", f"provision-{name}")
    member_admin = session.user(f"{name}-admin")
    session.client("iam").attach_user_policy(
        UserName=f"{name}-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
    )
    return member_admin


def client_error(call: Callable[..., Any], **params: Any) -> tuple[str, str, int]:
    """(code, message, HTTP status) of the ClientError a boto3 call must raise."""
    try:
        call(**params)
    except botocore.exceptions.ClientError as error:
        response = error.response
        return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError(f"{getattr(call, '__name__', call)}({params}) succeeded")


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
