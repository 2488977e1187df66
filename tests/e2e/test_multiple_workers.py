"""`rolegate serve --workers 2`: processes share one database, and a change made through one process is
enforced by every process on the next request (shared cache generations)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import botocore.exceptions
import pytest
from botocore.config import Config
from e2e_support import LiveServer, live_server

CALLS = 24  # new connections each call: requests land on both processes


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("workers") / "data", "--workers", "2") as running:
        yield running


def _fresh_client(server: LiveServer, service: str, key: dict[str, str]) -> object:
    import boto3

    return boto3.client(
        service,
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        config=Config(max_pool_connections=1, tcp_keepalive=False, retries={"max_attempts": 1}),
    )


def _codes(server: LiveServer, key: dict[str, str], call: str) -> set[str]:
    codes: set[str] = set()
    for _ in range(CALLS):
        client = _fresh_client(server, "iam", key)
        try:
            getattr(client, call)()
            codes.add("OK")
        except botocore.exceptions.ClientError as error:
            codes.add(error.response["Error"]["Code"])
        finally:
            client.close()  # type: ignore[attr-defined]
    return codes


def test_policy_and_key_changes_reach_every_process(workers: LiveServer) -> None:
    iam = workers.client("iam")
    iam.create_user(UserName="worker-user")
    iam.put_user_policy(
        UserName="worker-user",
        PolicyName="list",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"}]}
        ),
    )
    key = iam.create_access_key(UserName="worker-user")["AccessKey"]
    assert _codes(workers, key, "list_users") == {"OK"}  # warms the caches of both processes
    iam.delete_user_policy(UserName="worker-user", PolicyName="list")
    assert _codes(workers, key, "list_users") == {"AccessDenied"}
    iam.update_access_key(UserName="worker-user", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    assert _codes(workers, key, "list_users") == {"InvalidClientTokenId"}


def test_a_denial_is_explainable_from_any_process(workers: LiveServer) -> None:
    iam = workers.client("iam")
    iam.create_user(UserName="worker-denied")
    key = iam.create_access_key(UserName="worker-denied")["AccessKey"]
    for _ in range(8):
        client = _fresh_client(workers, "iam", key)
        with pytest.raises(botocore.exceptions.ClientError) as denied:
            client.list_roles()  # type: ignore[attr-defined]
        request_id = denied.value.response["ResponseMetadata"]["RequestId"]
        sts = workers.client("sts")
        decoded = json.loads(sts.decode_authorization_message(EncodedMessage=request_id)["DecodedMessage"])
        assert decoded["context"]["action"] == "iam:ListRoles"


def test_the_processes_are_really_two(workers: LiveServer) -> None:
    children = Path(f"/proc/{workers.process.pid}/task/{workers.process.pid}/children").read_text().split()
    assert len(children) >= 2
