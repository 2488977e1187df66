"""`rolegate explain REQUEST_ID`: the engine's explanation of a denied request.

The request id is what every AccessDenied carries (boto3: `error.response["ResponseMetadata"]["RequestId"]`;
the aws CLI prints it with --debug). The explanation is fetched from the running server's
`/_rolegate/decisions/ID`, signed with the caller's own AWS credentials (profile, environment), so a caller
sees only denials of their own account; `--data-dir` reads a stopped or local server's trail directly.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from botocore.auth import SigV4Auth  # type: ignore[import-untyped]  # botocore ships no type hints
from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError  # type: ignore[import-untyped]
from botocore.session import Session  # type: ignore[import-untyped]

from rolegate.policy import render_explanation
from rolegate.server.settings import DEFAULT_PORT, Settings
from rolegate.store.records import AuditEvent

EPILOG = """\
exit status:
  0  the explanation was printed
  1  no recorded denial with this id (in your account)
  2  the server could not be reached or no credentials were found
"""


def configure_explain(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("request_id", metavar="REQUEST_ID", help="the request id of a denied call")
    parser.add_argument(
        "--endpoint-url",
        default=os.environ.get("AWS_ENDPOINT_URL", f"http://127.0.0.1:{DEFAULT_PORT}"),
        help="the rolegate server (default $AWS_ENDPOINT_URL or the local default port)",
    )
    parser.add_argument("--profile", default=None, help="AWS profile whose credentials sign the lookup")
    parser.add_argument("--data-dir", default="", help="read the audit trail of this data directory instead")
    parser.add_argument("--json", action="store_true", help="print the explanation as JSON")
    parser.set_defaults(handler=run_explain)


def run_explain(args: argparse.Namespace) -> int:
    if args.data_dir:
        status, data = _from_data_dir(Path(args.data_dir), args.request_id)
    else:
        status, data = _from_server(args.endpoint_url.rstrip("/"), args.request_id, args.profile)
    if status != 0:
        print(f"rolegate explain: {data.get('message', 'failed')}", file=sys.stderr)
        return status
    print(json.dumps(data, indent=2) if args.json else render_explanation(data))
    return 0


def _from_server(endpoint: str, request_id: str, profile: str | None) -> tuple[int, dict[str, Any]]:
    try:
        credentials = Session(profile=profile).get_credentials()
    except BotoCoreError as error:
        return 2, {"message": str(error)}
    if credentials is None:
        return 2, {"message": "no AWS credentials found (set a profile or AWS_ACCESS_KEY_ID)"}
    url = f"{endpoint}/_rolegate/decisions/{urllib.parse.quote(request_id, safe='')}"
    signed = AWSRequest(method="GET", url=url)
    SigV4Auth(credentials.get_frozen_credentials(), "rolegate", "us-east-1").add_auth(signed)
    request = urllib.request.Request(url, headers=dict(signed.headers.items()))
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return 0, json.loads(response.read())
    except urllib.error.HTTPError as error:
        body = _json_or_empty(error.read())
        return (1 if error.code == 404 else 2), {"message": body.get("message", f"HTTP {error.code}")}
    except (OSError, ValueError) as error:
        return 2, {"message": f"cannot reach {endpoint}: {error}"}


def _from_data_dir(data_dir: Path, request_id: str) -> tuple[int, dict[str, Any]]:
    from rolegate.store.sql.store import SqlStore  # noqa: PLC0415 - only this mode opens the database

    settings = Settings(data_dir=data_dir)
    if not settings.database_file.is_file():
        return 2, {"message": f"no rolegate database in {data_dir}"}
    store = SqlStore(settings.url)
    try:
        with store.transaction(write=False) as tx:
            event = tx.get(AuditEvent, request_id)
    finally:
        store.close()
    if event is None or not event.explanation:
        return 1, {"message": f"no recorded denial with id {request_id}"}
    data: dict[str, Any] = json.loads(event.explanation)
    return 0, data


def _json_or_empty(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
