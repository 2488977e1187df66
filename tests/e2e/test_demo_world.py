"""`rolegate serve --demo`: the printed ~/.aws snippets, pasted as they are, make every printed command work
(or fail, where it says so) with the real aws CLI, which gets no endpoint or region but what they give."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from awscli_support import AwsCli
from e2e_support import LiveServer, live_server


@dataclass(frozen=True)
class Demo:
    server: LiveServer
    config: str
    credentials: str
    commands: list[str]
    dev: str
    prod: str


def _section(text: str, start: str, end: str) -> str:
    body = text.split(start, 1)[1].split(end, 1)[0]
    return "\n".join(line.removeprefix("  ") for line in body.strip("\n").splitlines()) + "\n"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with live_server(tmp_path_factory.mktemp("demo") / "data", "--demo") as server:
        printed = server.log()
        accounts = re.search(r"demo world: dev account (\d{12}), prod account (\d{12})", printed)
        assert accounts is not None, printed
        commands = [line.strip() for line in _section(printed, "try:\n", "rolegate serving").splitlines()]
        yield Demo(
            server,
            _section(printed, "~/.aws/config snippet:\n", "~/.aws/credentials snippet:"),
            _section(printed, "~/.aws/credentials snippet:\n", "try:"),
            [c for c in commands if c],
            accounts.group(1),
            accounts.group(2),
        )


@pytest.fixture(scope="module")
def cli(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> AwsCli:
    """A CLI whose only knowledge of the server is the pasted snippets: no endpoint flag, no default region."""
    aws = AwsCli(tmp_path_factory.mktemp("home-demo"), endpoint=None, region=None)
    aws.config_file.write_text(demo.config)
    aws.credentials_file.write_text(demo.credentials)
    return aws


def test_snippets_point_at_this_server(demo: Demo) -> None:
    assert f"endpoint_url = {demo.server.endpoint}" in demo.config
    assert "[profile natan]" in demo.config
    assert "[natan]" in demo.credentials
    assert len(demo.commands) == 9
    assert all(command.startswith("aws ") for command in demo.commands[:8])
    assert demo.commands[8].startswith("rolegate assume prod --exec -- aws ")


def test_printed_commands(demo: Demo, cli: AwsCli) -> None:
    natan = f"arn:aws:iam::{demo.dev}:user/natan"
    who, guest, denied, my_app, prod_profile = (cli.bash(command) for command in demo.commands[:5])
    assert who.returncode == 0, who.stderr
    assert who.json()["Arn"] == natan
    assert guest.returncode == 0, guest.stderr
    assert guest.json()["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{demo.prod}:assumed-role/AssumedRoleByGuestAccount/session"
    )
    assert "# AccessDenied" in demo.commands[2]
    assert denied.error == (
        "AccessDenied",
        "AssumeRole",
        f"User: {natan} is not authorized to perform: sts:AssumeRole on resource:"
        f" arn:aws:iam::{demo.prod}:role/MyApp/MyS3Access",
    )
    assert my_app.returncode == 0, my_app.stderr
    assert my_app.json()["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{demo.prod}:assumed-role/MyS3Access/session"
    assert prod_profile.returncode == 0, prod_profile.stderr
    assert prod_profile.json()["Arn"].startswith(f"arn:aws:sts::{demo.prod}:assumed-role/MyS3Access/")


def test_printed_s3_commands(demo: Demo, cli: AwsCli) -> None:
    listing, download, dev_alone, assumed = (cli.bash(command) for command in demo.commands[5:])
    assert listing.returncode == 0, listing.stderr
    assert "weekly.csv" in listing.stdout
    assert download.returncode == 0, download.stderr
    assert download.stdout.startswith("week,visits")
    assert dev_alone.returncode != 0
    assert "AccessDenied" in dev_alone.stderr
    assert assumed.returncode == 0, assumed.stderr
    assert "weekly.csv" in assumed.stdout


def test_second_start_keeps_the_world(demo: Demo) -> None:
    """The world is made once: another server on the same data says so instead of printing a new key."""
    with live_server(demo.server.data_dir, "--demo") as again:
        assert "demo world already created" in again.log()
        assert "aws_secret_access_key" not in again.log()
        assert again.management_account == demo.server.management_account
