"""rolegate's IAM policy engine: parse, validate, compile, evaluate and explain, with the standard library only.

The caller gathers every policy and the request context and hands them in as values; the engine never
fetches anything. Nothing here raises on bad policy input: errors are returned as `PolicyError` values.
"""

from rolegate.policy.compile import CompiledPolicy, StatementRef, compile_policy
from rolegate.policy.context import (
    Principal,
    PrincipalKind,
    RequestContext,
    build_context,
    principal_from_arn,
)
from rolegate.policy.decide import Decision, Result, authorize
from rolegate.policy.document import Effect, Policy, PolicyKind, Statement
from rolegate.policy.errors import MalformedPolicy, PolicyError
from rolegate.policy.explain import explanation, render_explanation, render_json, render_text
from rolegate.policy.gates import Gate, GateAnalysis, PolicySet
from rolegate.policy.parse import ParseResult, parse_policy
from rolegate.policy.render import render_policy
from rolegate.policy.request import LoadedRequest, load_request
from rolegate.policy.validate import validate_policy

__all__ = [
    "CompiledPolicy",
    "Decision",
    "Effect",
    "Gate",
    "GateAnalysis",
    "LoadedRequest",
    "MalformedPolicy",
    "ParseResult",
    "Policy",
    "PolicyError",
    "PolicyKind",
    "PolicySet",
    "Principal",
    "PrincipalKind",
    "RequestContext",
    "Result",
    "Statement",
    "StatementRef",
    "authorize",
    "build_context",
    "compile_policy",
    "explanation",
    "load_request",
    "parse_policy",
    "principal_from_arn",
    "render_explanation",
    "render_json",
    "render_policy",
    "render_text",
    "validate_policy",
]
