"""botocore failures -> one plain AssumeError: the service's code and message, the request id, rolegate's
explanation when the endpoint is rolegate, and a one-line hint for the usual causes (MFA code, ExternalId,
clock skew, missing or stale source credentials, the role-chaining limit)."""

from __future__ import annotations

from typing import Any

from botocore.credentials import ReadOnlyCredentials  # type: ignore[import-untyped]  # botocore ships no type hints
from botocore.exceptions import (  # type: ignore[import-untyped]
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    ParamValidationError,
)

from rolegate.client.errors import AssumeError, ClientProblem, UsageError
from rolegate.client.explain import failing_elements, fetch_explanation, may_be_rolegate, render
from rolegate.client.model import Hop

HINT_MFA_CODE = (
    "the MFA code was not accepted: a code is valid for about 30 seconds and only once; "
    "wait for the next code and try again"
)
HINT_MFA_REQUIRED = "the role requires MFA: pass --mfa-serial (or set mfa_serial in the profile)"
HINT_EXTERNAL_ID = "the role's trust policy expects a different ExternalId: check --external-id (it is case-sensitive)"
HINT_EXTERNAL_ID_MAYBE = (
    "if the role's trust policy requires an ExternalId, check that --external-id matches it exactly"
)
HINT_SKEW = "this computer's clock is more than 15 minutes off; synchronise it (e.g. `timedatectl set-ntp true`)"
HINT_UNKNOWN_KEY = (
    "the endpoint does not know the source access key (deleted, inactive, or meant for another endpoint: "
    "check --endpoint-url / AWS_ENDPOINT_URL)"
)
HINT_BAD_SECRET = "the source secret access key does not belong to its access key id"
HINT_EXPIRED = "the source credentials are temporary and have expired: renew them, then try again"
HINT_CHAIN = "a role session can assume another role for at most 1 hour: use --duration 3600 or less"
HINT_UNREACHABLE = "check --endpoint-url / AWS_ENDPOINT_URL (is `rolegate serve` running?)"
SKEW_MARKERS = ("Signature expired", "Signature not yet current", "RequestTimeTooSkewed", "RequestExpired")


def translate(error: Exception, hop: Hop, caller: ReadOnlyCredentials, endpoint_url: str | None) -> ClientProblem:
    """The one exception the CLI shows for a failed STS call."""
    if isinstance(error, ClientError):
        return _client_error(error, hop, caller, endpoint_url)
    if isinstance(error, ParamValidationError):
        return UsageError(str(error).replace("\n", " "))
    if isinstance(error, EndpointConnectionError):
        return AssumeError(f"cannot reach STS at {endpoint_url or 'the AWS endpoint'}", hint=HINT_UNREACHABLE)
    if isinstance(error, BotoCoreError):
        return AssumeError(str(error))
    raise error


def _client_error(error: ClientError, hop: Hop, caller: ReadOnlyCredentials, endpoint_url: str | None) -> AssumeError:
    response: dict[str, Any] = error.response
    code = str(response.get("Error", {}).get("Code", "Unknown"))
    message = str(response.get("Error", {}).get("Message", ""))
    request_id = str(response.get("ResponseMetadata", {}).get("RequestId", ""))
    where = f"assuming {hop.role_arn}" + (f" (profile {hop.label})" if hop.label != hop.role_arn else "")
    details = [f"while {where}" + (f"; request id {request_id}" if request_id else "")]
    explanation = None
    if code.startswith("AccessDenied") and request_id and endpoint_url and may_be_rolegate(endpoint_url):
        explanation = fetch_explanation(endpoint_url, request_id, caller)
        if explanation is not None:
            details.extend(render(explanation))
    hint = _hint(code, message, hop, explanation)
    return AssumeError(f"{code}: {message}" if message else code, hint=hint, details=tuple(details))


def _hint(code: str, message: str, hop: Hop, explanation: dict[str, Any] | None) -> str | None:
    if any(marker in message or marker == code for marker in SKEW_MARKERS):
        return HINT_SKEW
    simple = {
        "InvalidClientTokenId": HINT_UNKNOWN_KEY,
        "SignatureDoesNotMatch": HINT_BAD_SECRET,
        "ExpiredToken": HINT_EXPIRED,
        "ExpiredTokenException": HINT_EXPIRED,
    }
    if code in simple:
        return simple[code]
    if "1 hour session limit" in message:
        return HINT_CHAIN
    if not code.startswith("AccessDenied"):
        return None
    if "MultiFactorAuthentication failed" in message:
        return HINT_MFA_CODE
    if explanation is not None:
        failed = " ".join(failing_elements(explanation))
        if "sts:ExternalId" in failed:
            return HINT_EXTERNAL_ID
        if "aws:MultiFactorAuth" in failed and not hop.mfa_serial:
            return HINT_MFA_REQUIRED
        return None
    return HINT_EXTERNAL_ID_MAYBE if hop.external_id is not None else None
