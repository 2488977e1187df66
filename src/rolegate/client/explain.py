"""Against rolegate, a denial's request id becomes the engine's explanation: which gate decided and which
statement (and element) failed. The lookup is signed with the denied caller's own credentials, so the server
shows it only to callers of the denied request's account; against AWS there is no such endpoint and the
lookup is skipped.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from botocore.auth import SigV4Auth  # type: ignore[import-untyped]  # botocore ships no type hints
from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
from botocore.credentials import ReadOnlyCredentials  # type: ignore[import-untyped]

AWS_HOST_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws", ".c2s.ic.gov", ".sc2s.sgov.gov")
MAX_EXPLANATION = 1024 * 1024
MAX_STATEMENT_LINES = 6
GATE_TITLES = {
    "rcp": "resource control policies",
    "scp": "service control policies",
    "resource": "resource-based policy",
    "trust": "role trust policy",
    "identity": "identity-based policies",
    "boundary": "permissions boundary",
    "session": "session policies",
    "root": "account root user",
}


def may_be_rolegate(endpoint_url: str | None) -> bool:
    """Only a configured, non-AWS endpoint can be rolegate."""
    if not endpoint_url:
        return False
    host = (urllib.parse.urlsplit(endpoint_url).hostname or "").lower()
    return bool(host) and not host.endswith(AWS_HOST_SUFFIXES)


def fetch_explanation(endpoint_url: str, request_id: str, credentials: ReadOnlyCredentials) -> dict[str, Any] | None:
    """The explanation JSON for `request_id`, or None when there is none for this caller or no server answers."""
    base = endpoint_url.rstrip("/")
    url = f"{base}/_rolegate/decisions/{urllib.parse.quote(request_id, safe='')}"
    signed = AWSRequest(method="GET", url=url)
    SigV4Auth(credentials, "rolegate", "us-east-1").add_auth(signed)
    request = urllib.request.Request(url, headers=dict(signed.headers.items()))
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            data = json.loads(response.read(MAX_EXPLANATION))
    except (OSError, ValueError):  # HTTPError is an OSError: 403/404 mean "not yours" or "not rolegate"
        return None
    return data if isinstance(data, dict) and "gate" in data else None


def render(data: dict[str, Any]) -> tuple[str, ...]:
    """A few lines: the verdict and deciding gate, then the statements that decided or failed to allow."""
    gate = str(data.get("gate", ""))
    title = GATE_TITLES.get(gate, gate)
    summary = data.get("summary") or data.get("reason", "")
    lines = [f"rolegate: {data.get('decision', 'Denied')} at the {title} ({gate}): {summary}"]
    lines.extend(_statement_lines(data, gate)[:MAX_STATEMENT_LINES])
    return tuple(lines)


def _statement_lines(data: dict[str, Any], gate: str) -> list[str]:
    deciding = {(s.get("policy"), s.get("index")) for s in data.get("statements", []) if isinstance(s, dict)}
    lines: list[str] = []
    for analysis in data.get("gates", []):
        if analysis.get("gate") != gate:
            continue
        for policy in analysis.get("policies", []):
            for match in policy.get("statements", []):
                ref = match.get("statement", {})
                key = (ref.get("policy"), ref.get("index"))
                if deciding and key not in deciding:
                    continue
                if not deciding and match.get("applies"):
                    continue
                lines.append(_statement_line(ref, match))
    return lines


def _statement_line(ref: dict[str, Any], match: dict[str, Any]) -> str:
    name = ref.get("sid") or f"Statement[{ref.get('index')}]"
    verdict = "applies" if match.get("applies") else "does not apply"
    failing = [f"{c.get('element')} {c.get('reason')}" for c in match.get("checks", []) if not c.get("matched")]
    detail = f": {'; '.join(failing)}" if failing else ""
    return f"  {match.get('effect', '')} {name} in {ref.get('policy')} {verdict}{detail}"


def failing_elements(data: dict[str, Any]) -> list[str]:
    """Every element that failed to match in the deciding gate (for hints such as a wrong ExternalId)."""
    gate = data.get("gate")
    return [
        str(check.get("element", ""))
        for analysis in data.get("gates", [])
        if analysis.get("gate") == gate
        for policy in analysis.get("policies", [])
        for match in policy.get("statements", [])
        for check in match.get("checks", [])
        if not check.get("matched")
    ]
