"""Rules per policy kind, in AWS's wording, on top of the structural errors found while parsing.

Every finding is collected (never the first only), each with its JSON path. Sizes are counted as IAM counts
them: the document without whitespace (limits-and-formats.md §2).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from rolegate.policy.conditions import CompiledClause, parse_operator
from rolegate.policy.document import Policy, PolicyKind, PrincipalSpec, Statement
from rolegate.policy.errors import PolicyError
from rolegate.policy.parse import ParseResult, parse_policy
from rolegate.policy.render import render_policy

SIZE_LIMITS: dict[PolicyKind, tuple[int, str]] = {
    PolicyKind.IDENTITY: (6144, "Cannot exceed quota for PolicySize: 6144"),
    PolicyKind.BOUNDARY: (6144, "Cannot exceed quota for PolicySize: 6144"),
    PolicyKind.TRUST: (2048, "Cannot exceed quota for ACLSizePerRole: 2048"),
    PolicyKind.SESSION: (2048, "Session policy exceeds the maximum size of 2048 characters."),
    PolicyKind.RESOURCE: (20480, "Policies must be less than 20 KB."),
    PolicyKind.SCP: (5120, "Policy content exceeds the maximum size of 5120 characters."),
    PolicyKind.RCP: (5120, "Policy content exceeds the maximum size of 5120 characters."),
}
NO_PRINCIPAL_KINDS = frozenset({PolicyKind.IDENTITY, PolicyKind.BOUNDARY, PolicyKind.SESSION, PolicyKind.SCP})
IAM_SID = re.compile(r"^[0-9A-Za-z]*$")
VENDOR = re.compile(r"^[A-Za-z0-9*?-]+$")
TRUST_ACTIONS = re.compile(r"^sts:(\*|AssumeRole\w*|TagSession|SetSourceIdentity|SetContext)$", re.IGNORECASE)
ACCOUNT_ID = re.compile(r"^\d{12}$")
UNIQUE_ID = re.compile(r"^A[A-Z]{3}[A-Z0-9]{13,124}$")
IAM_PRINCIPAL_ARN = re.compile(
    r"^arn:aws[\w-]*:(iam::(\d{12}|aws):(root|user/.+|role/.+|federated-user/.+)"
    r"|sts::\d{12}:(assumed-role/[^/]+/.+|federated-user/.+))$"
)
SERVICE_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")


def validate_policy(source: str | bytes | Mapping[str, Any], kind: PolicyKind) -> tuple[PolicyError, ...]:
    """Every error in a document for its kind; an empty tuple means the document is valid."""
    return validate_document(parse_policy(source), kind)


def validate_document(parsed: ParseResult, kind: PolicyKind, size_limit: int | None = None) -> tuple[PolicyError, ...]:
    errors = list(parsed.errors)
    policy = parsed.policy
    if policy is None:
        return tuple(errors)
    limit, message = SIZE_LIMITS[kind]
    limit = size_limit or limit
    size = len(json.dumps(render_policy(policy), separators=(",", ":"), ensure_ascii=False))
    if size > limit:
        errors.append(PolicyError("", message.replace(str(SIZE_LIMITS[kind][0]), str(limit))))
    seen_sids: set[str] = set()
    for statement in policy.statements:
        path = _path(policy, statement)
        if statement.sid is not None:
            if kind is not PolicyKind.RESOURCE and not IAM_SID.match(statement.sid):
                errors.append(
                    PolicyError(
                        f"{path}.Sid",
                        "Statement IDs (SID) must be alpha-numeric. Check that "
                        "your input satisfies the regular expression [0-9A-Za-z]*",
                    )
                )
            if statement.sid and statement.sid in seen_sids:
                errors.append(PolicyError(f"{path}.Sid", "Statement IDs (SID) in a single policy must be unique."))
            seen_sids.add(statement.sid)
        errors.extend(_statement_errors(statement, path, kind))
    return tuple(errors)


def _path(policy: Policy, statement: Statement) -> str:
    return f"Statement[{statement.index}]" if policy.statement_is_list else "Statement"


def _statement_errors(statement: Statement, path: str, kind: PolicyKind) -> list[PolicyError]:
    errors: list[PolicyError] = []
    errors.extend(_principal_rules(statement, path, kind))
    has_resource = statement.resource is not None or statement.not_resource is not None
    if kind is PolicyKind.TRUST:
        if has_resource:
            name = "Resource" if statement.resource is not None else "NotResource"
            errors.append(PolicyError(f"{path}.{name}", f"Has prohibited field {name}"))
        for action in statement.action.items if statement.action else ():
            if not TRUST_ACTIONS.match(action) and action != "*":
                errors.append(
                    PolicyError(f"{path}.Action", "AssumeRole policy may only specify STS AssumeRole actions.")
                )
    elif not has_resource:
        errors.append(PolicyError(path, "Policy statement must contain resources."))
    for name, actions in (("Action", statement.action), ("NotAction", statement.not_action)):
        for action in actions.items if actions else ():
            errors.extend(_action_errors(action, f"{path}.{name}"))
    for name, resources in (("Resource", statement.resource), ("NotResource", statement.not_resource)):
        for resource in resources.items if resources else ():
            if resource != "*" and not (resource.startswith("arn:") and resource.count(":") >= 5):
                errors.append(PolicyError(f"{path}.{name}", f'Resource {resource} must be in ARN format or "*".'))
    errors.extend(_condition_errors(statement, f"{path}.Condition"))
    return errors


def _action_errors(action: str, path: str) -> list[PolicyError]:
    if action == "*":
        return []
    vendor, sep, name = action.partition(":")
    if not sep or not name:
        return [PolicyError(path, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")]
    if not VENDOR.match(vendor):
        return [PolicyError(path, f"Vendor {vendor} is not valid")]
    return []


def _principal_rules(statement: Statement, path: str, kind: PolicyKind) -> list[PolicyError]:
    errors: list[PolicyError] = []
    for name, spec in (("Principal", statement.principal), ("NotPrincipal", statement.not_principal)):
        if spec is None:
            continue
        prohibited = kind in NO_PRINCIPAL_KINDS or (
            name == "NotPrincipal" and kind in (PolicyKind.TRUST, PolicyKind.RCP)
        )
        if prohibited:
            errors.append(PolicyError(f"{path}.{name}", f"Has prohibited field {name}"))
        else:
            errors.extend(_principal_value_errors(spec, f"{path}.{name}", kind))
    needs_principal = kind in (PolicyKind.TRUST, PolicyKind.RESOURCE, PolicyKind.RCP)
    if needs_principal and statement.principal is None and statement.not_principal is None:
        errors.append(PolicyError(path, "Missing required field Principal"))
    if kind is PolicyKind.RCP and statement.principal is not None and not statement.principal.wildcard:
        errors.append(PolicyError(f"{path}.Principal", 'Resource control policies only support "Principal": "*".'))
    return errors


def _principal_value_errors(spec: PrincipalSpec, path: str, kind: PolicyKind) -> list[PolicyError]:
    errors: list[PolicyError] = []
    for principal_type, values in spec.entries:
        for value in values.items:
            if not _valid_principal(principal_type, value, kind):
                errors.append(
                    PolicyError(
                        f"{path}.{principal_type}",
                        f'Invalid principal in policy: "{principal_type}":"{value}"',
                    )
                )
    return errors


def _valid_principal(principal_type: str, value: str, kind: PolicyKind) -> bool:
    if value == "*":
        return principal_type == "AWS" or kind is PolicyKind.RESOURCE
    if principal_type == "AWS":
        if "*" in value or "?" in value:
            return False
        return bool(ACCOUNT_ID.match(value) or UNIQUE_ID.match(value) or IAM_PRINCIPAL_ARN.match(value))
    if principal_type == "Service":
        return bool(SERVICE_NAME.match(value))
    if principal_type == "CanonicalUser":
        return bool(re.match(r"^[0-9a-f]{64}$", value))
    return bool(value) and "*" not in value


def _condition_errors(statement: Statement, path: str) -> list[PolicyError]:
    errors: list[PolicyError] = []
    for operator in statement.condition_operators:
        if parse_operator(operator) is None:
            errors.append(PolicyError(f"{path}.{operator}", f"Invalid Condition type : {operator}"))
    for clause in statement.conditions:
        where = f"{path}.{clause.operator}.{clause.key}"
        if parse_operator(clause.operator) is None:
            continue
        vendor, sep, rest = clause.key.partition(":")
        if not sep or not vendor or not rest:
            errors.append(
                PolicyError(where, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
            )
            continue
        try:
            CompiledClause(clause, variables_enabled=True)
        except ValueError:
            errors.append(PolicyError(where, f"Invalid value for {clause.operator}: {list(clause.values)}"))
    return errors
