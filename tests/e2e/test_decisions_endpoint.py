"""A denial's request id leads to the engine's explanation, for signed callers of the same account only."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import botocore.exceptions
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from e2e_support import ROOT_KEY_ID, ROOT_SECRET, LiveServer


def _get(url: str, key: tuple[str, str] | None) -> tuple[int, dict[str, Any]]:
    request = AWSRequest(method="GET", url=url)
    if key is not None:
        SigV4Auth(Credentials(*key), "rolegate", "us-east-1").add_auth(request)
    prepared = urllib.request.Request(url, headers=dict(request.headers.items()))
    try:
        with urllib.request.urlopen(prepared, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_denial_explanation_by_request_id(server: LiveServer) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="decisions-user")
    key = iam.create_access_key(UserName="decisions-user")["AccessKey"]
    user_iam = server.client("iam", key_id=key["AccessKeyId"], secret=key["SecretAccessKey"])
    with pytest.raises(botocore.exceptions.ClientError) as denied:
        user_iam.list_roles()
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert denied.value.response["Error"]["Message"].endswith(
        "because no identity-based policy allows the iam:ListRoles action"
    )
    request_id = denied.value.response["ResponseMetadata"]["RequestId"]
    url = f"{server.endpoint}/_rolegate/decisions/{request_id}"
    status, explained = _get(url, (ROOT_KEY_ID, ROOT_SECRET))
    assert status == 200
    assert explained["decision"] == "ImplicitDeny"
    assert explained["gate"] == "identity"
    assert explained["reason"] == "no_identity_policy_allow"
    assert explained["request"]["action"] == "iam:ListRoles"
    unsigned_status, _ = _get(url, None)
    assert unsigned_status == 403
    missing_status, _ = _get(f"{server.endpoint}/_rolegate/decisions/not-a-request-id", (ROOT_KEY_ID, ROOT_SECRET))
    assert missing_status == 404
