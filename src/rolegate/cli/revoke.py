"""`rolegate revoke-sessions ROLE_ARN`: end every session of a role issued until now, as the IAM console's
"Revoke active sessions" does: it puts the inline role policy `AWSRevokeOlderSessions` through the IAM API
(so it works against rolegate and real AWS alike). New sessions are unaffected."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]
from botocore.session import Session  # type: ignore[import-untyped]

from rolegate.server.settings import DEFAULT_PORT
from rolegate.services.iam.revoke import REVOKE_POLICY_NAME, revocation_policy


def configure_revoke(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("role_arn", metavar="ROLE_ARN", help="arn:aws:iam::ACCOUNT:role/[path/]NAME")
    parser.add_argument(
        "--endpoint-url",
        default=os.environ.get("AWS_ENDPOINT_URL", f"http://127.0.0.1:{DEFAULT_PORT}"),
        help="IAM endpoint (default $AWS_ENDPOINT_URL or the local rolegate)",
    )
    parser.add_argument("--profile", default=None, help="AWS profile allowed to call iam:PutRolePolicy on the role")
    parser.set_defaults(handler=run_revoke)


def run_revoke(args: argparse.Namespace) -> int:
    parts = args.role_arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
        print(f"rolegate revoke-sessions: not a role ARN: {args.role_arn}", file=sys.stderr)
        return 2
    role_name = parts[5].rsplit("/", 1)[-1]
    cutoff = datetime.now(UTC)
    try:
        iam = Session(profile=args.profile).create_client(
            "iam", endpoint_url=args.endpoint_url, region_name="us-east-1"
        )
        iam.put_role_policy(RoleName=role_name, PolicyName=REVOKE_POLICY_NAME, PolicyDocument=revocation_policy(cutoff))
    except ClientError as error:
        print(f"rolegate revoke-sessions: {error.response['Error'].get('Message', error)}", file=sys.stderr)
        return 1
    except BotoCoreError as error:
        print(f"rolegate revoke-sessions: {error}", file=sys.stderr)
        return 2
    print(f"sessions of {args.role_arn} issued before {cutoff:%Y-%m-%dT%H:%M:%SZ} are revoked")
    return 0
