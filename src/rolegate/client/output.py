"""The printable forms of a session: environment variables, `credential_process` JSON, `--json`, and the
secret-free summary the command prints when no output mode is chosen."""

from __future__ import annotations

import json
from datetime import datetime

from rolegate.client.model import Plan, RoleSession, iso8601

ASSUMED_ROLE_VAR = "ROLEGATE_ASSUMED_ROLE"  # lets prompts and later `rolegate assume` runs see the session


def environment(session: RoleSession, plan: Plan) -> dict[str, str]:
    """The variables SDKs read, plus region and endpoint when the user chose them (option or profile)."""
    variables = {
        "AWS_ACCESS_KEY_ID": session.access_key_id,
        "AWS_SECRET_ACCESS_KEY": session.secret_access_key,
        "AWS_SESSION_TOKEN": session.session_token,
        "AWS_CREDENTIAL_EXPIRATION": iso8601(session.expiration),
    }
    variables.update(settings_environment(session, plan))
    return variables


def settings_environment(session: RoleSession, plan: Plan) -> dict[str, str]:
    """Everything but the keys: region, endpoint and the assumed-role marker."""
    variables = {ASSUMED_ROLE_VAR: session.assumed_role_arn}
    if plan.region.chosen and plan.region.value:
        variables["AWS_REGION"] = variables["AWS_DEFAULT_REGION"] = plan.region.value
    if plan.endpoint_url.chosen and plan.endpoint_url.value:
        variables["AWS_ENDPOINT_URL"] = plan.endpoint_url.value
    return variables


def credential_process(session: RoleSession) -> str:
    """The JSON an SDK expects from a profile's `credential_process` (Version 1)."""
    return json.dumps(
        {
            "Version": 1,
            "AccessKeyId": session.access_key_id,
            "SecretAccessKey": session.secret_access_key,
            "SessionToken": session.session_token,
            "Expiration": iso8601(session.expiration),
        }
    )


def raw_json(session: RoleSession) -> str:
    """What `aws sts assume-role` prints for the same call."""
    return json.dumps(session.aws_result(), indent=4)


def summary(session: RoleSession, cached: bool, now: datetime) -> str:
    minutes = max(0, int(session.remaining(now) // 60))
    origin = " (cached)" if cached else ""
    return f"{session.assumed_role_arn}: credentials until {iso8601(session.expiration)}, {minutes} min left{origin}"
